#!/usr/bin/env python3
"""Integration suite for porter's HTTP/1.1 reverse proxy and tcp pass-through:
a real gateway, backends (tests/integration/backends.py, nginx) and clients
(curl, wrk, python sockets) in the gateway's namespace.

Run as root: python3 tests/integration/test_proxy.py [-k NAME[,NAME...]]
Ends with "N passed, N failed"; figures (wrk requests/s, kills, timings) go
to $PORTER_BUILD/integration-figures-proxy.json.

Tests belong to a group: the tests of one group share one gateway and its
backends (set up once, when one of its tests is selected); tests without a
group make their own gateway.

The raw HTTP/1.1 client (Conn, Resp) is httpraw.py; nginx and the
environment of a gateway with its backends (Env's base) are harness.py's.
"""
import base64
import contextlib
import errno
import glob
import hashlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import (BUILD, PEER_IP, PORTER_IP, GatewayEnv, connect, flow_shard, in_netns,  # noqa: E402
                     log_tail, parse_wrk, read_lines, wait_for)
import backends  # noqa: E402
from httpraw import Conn, one_request  # noqa: E402

OTHER = os.path.join(BUILD, "secondary", "porter-worker-other")
FIGURES = {}
TESTS = []
KiB = 1024
MiB = 1024 * 1024


def test(group=None):
    def deco(fn):
        fn.group = group
        TESTS.append(fn)
        return fn
    return deco


# --- processes in the namespace -----------------------------------------------------

def curl(gw, args, timeout=120):
    return gw.ns(["curl", "-sS", "--max-time", str(timeout)] + list(args), check=False,
                 timeout=timeout + 15)


def curl_get(gw, url, out, extra=()):
    """GET URL into OUT; return (status, bytes)."""
    r = curl(gw, ["-o", out, "-w", "%{http_code} %{size_download}"] + list(extra) + [url])
    assert r.returncode == 0, "curl %s: exit %d: %s" % (url, r.returncode, r.stderr)
    code, size = r.stdout.split()
    return int(code), int(size)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def wrk(gw, url, threads, conns, seconds, timeout_s=4, host=None):
    """Run wrk in the namespace; return the parsed figures and the output."""
    r = gw.ns(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "%ds" % timeout_s]
              + (["-H", "Host: " + host] if host else []) + [url], check=False, timeout=seconds + 60)
    out = r.stdout + r.stderr
    res = parse_wrk(out)
    res["rc"] = r.returncode
    return res, out


_mark = [0]


def marker(tag):
    _mark[0] += 1
    return "%s-%d-%d" % (tag, os.getpid(), _mark[0])


# --- environments -------------------------------------------------------------------

class Env(GatewayEnv):
    """A gateway, its backends, a temp dir (harness.GatewayEnv); closed in reverse order."""

    def __init__(self, extra_fmt, workers=2, port_opts="", dataplane="mbufs = 8191;", workers_extra=""):
        super().__init__("porter-proxy-it-", workers=workers, extra=extra_fmt, port_opts=port_opts,
                         dataplane=dataplane, workers_extra=workers_extra)
        self.access_log = self.path("access.log")


UP_TIMEOUTS = "timeouts = { connect_ms = 1000; read_ms = 5000; write_ms = 5000; };"

SHARED_CONF = """
tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; };
listeners = ( { port = 80; protocol = "http"; },
              { port = 9000; protocol = "tcp"; upstream = "rawsha"; },
              { port = 9002; protocol = "tcp"; upstream = "rawsrc"; } );
upstreams = (
  { name = "app"; balance = "round_robin"; servers = ( { address = "10.99.0.1:8081"; } );
    keepalive = { max_idle = 32; idle_timeout_ms = 60000; }; %(t)s retries = 1; },
  { name = "idle"; servers = ( { address = "10.99.0.1:8083"; } );
    keepalive = { max_idle = 32; idle_timeout_ms = 60000; }; %(t)s },
  { name = "slow"; servers = ( { address = "10.99.0.1:8081"; } );
    timeouts = { connect_ms = 1000; read_ms = 1000; write_ms = 5000; }; },
  { name = "ngx"; servers = ( { address = "10.99.0.1:8085"; } ); %(t)s },
  { name = "down"; servers = ( { address = "10.99.0.1:8099"; } ); %(t)s },
  { name = "strict"; servers = ( { address = "10.99.0.1:8087"; } );
    keepalive = { max_idle = 32; idle_timeout_ms = 60000; }; %(t)s },
  { name = "rawsha"; servers = ( { address = "10.99.0.1:9001"; } ); },
  { name = "rawsrc"; servers = ( { address = "10.99.0.1:9003"; } ); } );
routes = ( { host = "idle.test"; upstream = "idle"; },
           { host = "slow.test"; upstream = "slow"; },
           { host = "nginx.test"; upstream = "ngx"; },
           { host = "down.test"; upstream = "down"; },
           { host = "strict.test"; upstream = "strict"; },
           { host = "api.example.com"; path = "/v1/"; upstream = "app"; },
           { upstream = "app"; } );
http = { max_request_line = 8192; max_header_bytes = 16384; max_headers = 100; max_body_bytes = 0;
         header_timeout_ms = 2000; idle_timeout_ms = 60000; access_log = "@DIR@/access.log"; };
metrics = { listen = "127.0.0.1:9180"; };
""" % {"t": UP_TIMEOUTS}

NGINX_FILES = {"index.html": b"<html>porter via nginx</html>\n", "blob.bin": backends.pattern(0, 100000),
               "small.txt": b"x" * 1000}


def app_env(starts, *env_args, **env_kw):
    """Env(*ENV_ARGS, **ENV_KW) with the backends STARTS (callables of the env) running; closed
    if one fails to start."""
    env = Env(*env_args, **env_kw)
    try:
        for start in starts:
            start(env)
    except BaseException:
        env.close(True)
        raise
    return env


def setup_shared():
    return app_env([lambda e: e.http_backend(8081, "app"),
                    lambda e: e.http_backend(8083, "idle", "--idle-close-ms", 100),
                    lambda e: e.http_backend(8087, "strict", "--crlf-only", "--raw", e.path("raw-8087")),
                    lambda e: e.backend("tcpsha", 9001), lambda e: e.backend("tcpsource", 9003),
                    lambda e: e.nginx(8085, NGINX_FILES)], SHARED_CONF)


BAD_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } ); %(t)s } );
routes = ( { host = "good.test"; upstream = "app"; } );
http = { max_request_line = 1024; max_header_bytes = 4096; max_headers = 50; max_body_bytes = 1048576;
         header_timeout_ms = 1000; idle_timeout_ms = 60000; };
""" % {"t": UP_TIMEOUTS}


def setup_bad():
    return app_env([lambda e: e.http_backend(8081, "app")], BAD_CONF)


SLOWBODY_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } );
                timeouts = { connect_ms = 1000; read_ms = 30000; write_ms = 30000; }; } );
routes = ( { upstream = "app"; } );
http = { header_timeout_ms = 10000; body_timeout_ms = 1500; body_min_rate = 100; };
"""


def setup_slowbody():
    return app_env([lambda e: e.http_backend(8081, "app")], SLOWBODY_CONF)


GROUPS = {"shared": setup_shared, "bad": setup_bad, "slowbody": setup_slowbody}


# === 1. basics =======================================================================

@test("shared")
def get_basics(env):
    gw = env.gw
    out = env.path("get.out")
    code, size = curl_get(gw, "http://10.99.0.2/size/1000", out)
    assert code == 200 and size == 1000, (code, size)
    with open(out, "rb") as f:
        assert f.read() == backends.pattern(0, 1000), "body differs"
    r = one_request(gw, "GET", "/name")
    assert r.status == 200 and r.body == b"app", r
    assert "porter" in (r.get("via") or ""), "response has no Via naming porter: %r" % r
    # HEAD, 204 and 304 carry no body: a second request on the same connection
    # must find the next response right after the head
    c = Conn(gw)
    try:
        for method, path, status in (("HEAD", "/size/1000", 200), ("GET", "/nocontent", 204),
                                     ("GET", "/notmodified", 304), ("HEAD", "/chunked/5000", 200),
                                     ("GET", "/name", 200)):
            r = c.request(method, path)
            assert r.status == status, (method, path, r)
            assert r.body == b"" or path == "/name", (method, path, r)
            if method == "HEAD" and path == "/size/1000":
                assert r.get("content-length") == "1000", "HEAD lost Content-Length: %r" % r
            if status == 304:
                assert r.get("etag") == '"v1"', r
        assert r.body == b"app"
        # nothing stray after the last response either
        assert not c.closed_by_peer(0.3), "porter closed a keep-alive connection"
    finally:
        c.close()


@test("shared")
def forwarded_headers_and_hop_by_hop(env):
    gw = env.gw
    r = one_request(gw, "GET", "/headers", headers=[
        ("Connection", "foo, keep-alive"), ("Foo", "bar"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
        ("Proxy-Connection", "keep-alive"), ("X-Keep-Me", "yes")])
    assert r.status == 200, r
    got = json.loads(r.body)
    hs = {}
    for k, v in got["headers"]:
        hs.setdefault(k.lower(), []).append(v)
    problems = []
    if hs.get("x-forwarded-for") != ["10.99.0.1"]:
        problems.append("X-Forwarded-For %r, want ['10.99.0.1']" % hs.get("x-forwarded-for"))
    if hs.get("x-forwarded-proto") != ["http"]:
        problems.append("X-Forwarded-Proto %r, want ['http']" % hs.get("x-forwarded-proto"))
    if not any("porter" in v for v in hs.get("via", [])):
        problems.append("Via %r does not name porter" % hs.get("via"))
    for hop in ("foo", "keep-alive", "te", "proxy-connection"):
        if hop in hs:
            problems.append("hop-by-hop %s reached the backend: %r" % (hop, hs[hop]))
    conn_tokens = {t.strip().lower() for v in hs.get("connection", []) for t in v.split(",")}
    if "foo" in conn_tokens:
        problems.append("Connection: foo reached the backend: %r" % hs.get("connection"))
    if hs.get("x-keep-me") != ["yes"]:
        problems.append("end-to-end X-Keep-Me lost: %r" % hs.get("x-keep-me"))
    if hs.get("host") != ["test"]:
        problems.append("Host %r, want ['test']" % hs.get("host"))
    # an X-Forwarded-For from the client: porter's hop is the last element
    r = one_request(gw, "GET", "/headers", headers=[("X-Forwarded-For", "192.0.2.7")])
    xff = [v for k, v in json.loads(r.body)["headers"] if k.lower() == "x-forwarded-for"]
    last = ",".join(xff).split(",")[-1].strip() if xff else None
    if last != "10.99.0.1":
        problems.append("with a client X-Forwarded-For, backend got %r (last element must be 10.99.0.1)" % xff)
    assert not problems, "; ".join(problems) + "\nbackend saw: %r" % got["headers"]


# === 2. uploads ======================================================================

@test("shared")
def post_bodies(env):
    gw = env.gw
    problems = []
    for n in (0, 1, 64 * KiB, 1 * MiB, 16 * MiB):
        f = env.path("up-%d" % n)
        data = os.urandom(n)
        with open(f, "wb") as fh:
            fh.write(data)
        want = hashlib.sha256(data).hexdigest()
        for mode, extra in (("content-length", []), ("chunked", ["-H", "Transfer-Encoding: chunked"])):
            r = curl(gw, ["-X", "POST", "--data-binary", "@" + f, "-H", "Content-Type: application/octet-stream"]
                     + extra + ["-w", "\n%{http_code}", "http://10.99.0.2/echo"])
            if r.returncode != 0:
                problems.append("%d B %s: curl exit %d %s" % (n, mode, r.returncode, r.stderr.strip()))
                continue
            body, _, code = r.stdout.rpartition("\n")
            try:
                j = json.loads(body)
            except ValueError:
                problems.append("%d B %s: status %s, body %r" % (n, mode, code, body[:200]))
                continue
            if code != "200" or j["sha256"] != want or j["length"] != n:
                problems.append("%d B %s: status %s, backend got %d B sha %s..." % (n, mode, code, j["length"],
                                                                                 j["sha256"][:12]))
            if mode == "chunked" and n > 0 and not j["chunked"]:
                # porter may de-chunk, but then Content-Length must be right: checked by the sha
                pass
    assert not problems, "; ".join(problems)


@test("shared")
def expect_100_continue(env):
    gw = env.gw
    problems = []
    for n, forced in ((10, True), (64 * KiB, True), (2 * MiB, False)):
        f = env.path("exp-%d" % n)
        data = os.urandom(n)
        with open(f, "wb") as fh:
            fh.write(data)
        extra = ["-H", "Expect: 100-continue"] if forced else []
        t0 = time.monotonic()
        r = curl(gw, ["-v", "-X", "POST", "--data-binary", "@" + f, "--expect100-timeout", "5"] + extra +
                 ["http://10.99.0.2/echo"])
        dt = time.monotonic() - t0
        sent_expect = "> Expect: 100-continue" in r.stderr
        got_100 = re.search(r"< HTTP/1\.1 100", r.stderr) is not None
        try:
            j = json.loads(r.stdout)
        except ValueError:
            problems.append("%d B: curl exit %d, no JSON: %r %s" % (n, r.returncode, r.stdout[:200],
                                                                  r.stderr[-500:]))
            continue
        if j["sha256"] != hashlib.sha256(data).hexdigest():
            problems.append("%d B: body sha differs (backend got %d B)" % (n, j["length"]))
        if not sent_expect:
            problems.append("%d B: curl did not send Expect (test setup)" % n)
        # the 100 (from the backend, forwarded, or porter's own) must reach the
        # client; curl would otherwise wait --expect100-timeout (5 s) first
        if not got_100 or dt > 3.0:
            problems.append("%d B: 100 Continue received: %s, took %.2f s" % (n, got_100, dt))
    assert not problems, "; ".join(problems)


# === 3. downloads ====================================================================

@test("shared")
def downloads(env):
    gw = env.gw
    problems = []
    out = env.path("down.out")
    for kind in ("size", "chunked", "close"):
        for n in (0, 1, 100000, 16 * MiB):
            code, size = curl_get(gw, "http://10.99.0.2/%s/%d" % (kind, n), out)
            sha = file_sha256(out)
            if code != 200 or size != n or sha != backends.pattern_sha256(n):
                problems.append("/%s/%d: status %d, %d bytes, sha %s" % (kind, n, code, size,
                                                                         "ok" if sha == backends.pattern_sha256(n)
                                                                         else "differs"))
    assert not problems, "; ".join(problems)


@test()
def checksum_offload_on_tap(_):
    """checksum_offload = "on" on net_tap (whose PMD offers the offloads): the workers leave
    the sums to the device, and Linux on the tap's kernel side accepts what arrives (a wrong
    sum would be dropped there, and the transfer would fail)."""
    env = Env(SHARED_CONF, port_opts='checksum_offload = "on";')
    failed = True
    try:
        gw = env.gw
        env.http_backend(8081, "app")
        port = gw.status()["ports"][0]
        assert port["checksum_offload"] is True, port
        out = env.path("offload.out")
        for n in (0, 1, 1448, 100000, 4 * MiB):
            code, size = curl_get(gw, "http://10.99.0.2/size/%d" % n, out)
            assert code == 200 and size == n and file_sha256(out) == backends.pattern_sha256(n), \
                (n, code, size)
        body = backends.pattern(0, 300000)
        r = one_request(gw, "POST", "/echo", body=body)
        got = json.loads(r.body)
        assert r.status == 200 and got["length"] == len(body) and \
            got["sha256"] == hashlib.sha256(body).hexdigest(), r
        drops = {k: v for s in gw.status()["shards"] for k, v in s["tcp"]["drops"].items() if v}
        assert "checksum" not in drops, drops
        failed = False
    finally:
        env.close(failed)


# === 4. pipelining ===================================================================

@test("shared")
def pipelining(env):
    gw = env.gw
    c = Conn(gw)
    try:
        sizes = [100 + 37 * i for i in range(10)]
        reqs = b"".join(b"GET /size/%d HTTP/1.1\r\nHost: test\r\n\r\n" % n for n in sizes)
        c.send(reqs)
        for i, n in enumerate(sizes):
            r = c.response()
            assert r.status == 200, "response %d: %r" % (i, r)
            assert r.body == backends.pattern(0, n), "response %d: %d bytes, want %d (out of order?)" % (
                i, len(r.body), n)
        # and a mixed pipeline: HEAD, POST with a body, 204, GET
        body = os.urandom(5000)
        c.send(b"HEAD /size/777 HTTP/1.1\r\nHost: test\r\n\r\n"
               b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n" + body +
               b"GET /nocontent HTTP/1.1\r\nHost: test\r\n\r\n"
               b"GET /size/3 HTTP/1.1\r\nHost: test\r\n\r\n")
        r = c.response("HEAD")
        assert r.status == 200 and r.get("content-length") == "777", r
        r = c.response()
        assert r.status == 200 and json.loads(r.body)["sha256"] == hashlib.sha256(body).hexdigest(), r
        r = c.response()
        assert r.status == 204, r
        r = c.response()
        assert r.status == 200 and r.body == backends.pattern(0, 3), r
    finally:
        c.close()


# === 5. keep-alive ===================================================================

@test("shared")
def keepalive_client(env):
    gw = env.gw
    import http.client

    class NsConn(http.client.HTTPConnection):
        connects = 0

        def connect(self):
            NsConn.connects += 1
            if NsConn.connects > 1:
                raise AssertionError("porter closed the keep-alive connection (http.client reconnects)")
            self.sock = connect(gw, 80)

    hc = NsConn(PORTER_IP, 80, timeout=10)
    for i in range(100):
        path = "/size/%d" % (i * 10) if i % 2 else "/name"
        hc.request("GET", path)
        r = hc.getresponse()
        body = r.read()
        assert r.status == 200, (i, r.status)
        want = backends.pattern(0, i * 10) if i % 2 else b"app"
        assert body == want, (i, len(body))
    hc.close()
    assert NsConn.connects == 1

    # HTTP/1.0 without keep-alive: one response, then porter closes
    c = Conn(gw)
    try:
        r = c.request("GET", "/size/500", version="HTTP/1.0")
        assert r.status == 200 and r.body == backends.pattern(0, 500), r
        assert c.closed_by_peer(5), "HTTP/1.0 request without keep-alive: connection left open"
    finally:
        c.close()
    # HTTP/1.0 with Connection: keep-alive: stays open, says so
    c = Conn(gw)
    try:
        for i in range(3):
            r = c.request("GET", "/size/%d" % (200 + i), version="HTTP/1.0",
                          headers=[("Connection", "keep-alive")])
            assert r.status == 200 and r.body == backends.pattern(0, 200 + i), r
            assert "keep-alive" in r.tokens("connection"), \
                "HTTP/1.0 keep-alive response lacks Connection: keep-alive: %r" % r
    finally:
        c.close()


@test("shared")
def idle_keepalive_clients_hold_only_their_tcb(env):
    """An idle keep-alive client costs its TCB and nothing else: after one request
    each, 300 open connections hold no proxy session; they all still work."""
    gw = env.gw
    n = 300
    conns = []
    try:
        for i in range(n):
            c = Conn(gw)
            conns.append(c)
            r = c.request("GET", "/size/%d" % (i % 50))
            assert r.status == 200 and r.body == backends.pattern(0, i % 50), (i, r)

        def idle():
            st = gw.status()
            sh = [x for x in st["shards"] if x.get("http")]
            if sum(x["http"]["sessions"] for x in sh) == 0:
                return st
            return None
        st = wait_for(idle, 5, "no sessions in flight")
        streams = sum(x["tcp"]["streams"] for x in st["shards"])
        tcb = st["shards"][0]["tcp"]["tcb_bytes"]
        assert streams >= n, "only %d streams for %d open clients" % (streams, n)
        assert tcb <= 384, tcb
        FIGURES["idle_keepalive_clients"] = n
        FIGURES["idle_keepalive_sessions_held"] = 0
        FIGURES["idle_keepalive_bytes_per_client"] = tcb
        for c in conns[::37]:
            r = c.request("GET", "/name")
            assert r.status == 200 and r.body == b"app", r
    finally:
        for c in conns:
            c.close()


@test("shared")
def http10_client_gets_no_chunked(env):
    """RFC 9112 6.1: no Transfer-Encoding in a response to an HTTP/1.0 request;
    a chunked backend response is de-chunked (Content-Length or close-delimited)."""
    problems = []
    for hdrs in ([("Connection", "keep-alive")], []):
        c = Conn(env.gw)
        try:
            r = c.request("GET", "/chunked/3000", version="HTTP/1.0", headers=hdrs)
            if r.status != 200 or "chunked" in r.tokens("transfer-encoding"):
                problems.append("GET /chunked/3000 HTTP/1.0 with %r: got %s %d, headers %r" % (
                    hdrs, r.version, r.status, r.headers))
            elif r.body != backends.pattern(0, 3000):
                problems.append("with %r: body of the de-chunked response differs: %r" % (hdrs, r))
        finally:
            c.close()
    assert not problems, "chunked response sent to an HTTP/1.0 client: " + "; ".join(problems)


# === 6. wrk ==========================================================================

@test("shared")
def wrk_keepalive(env):
    res, out = wrk(env.gw, "http://10.99.0.2/size/1000", 1, 16, 5)
    FIGURES["wrk_python_backend"] = res
    assert res["rc"] == 0 and res["requests"] > 0, out
    assert res["socket_errors"] == 0 and res["non2xx3xx"] == 0, out


# === 7. nginx backend =================================================================

@test("shared")
def nginx_backend(env):
    gw = env.gw
    out = env.path("ngx.out")
    code, size = curl_get(gw, "http://10.99.0.2/blob.bin", out, ["-H", "Host: nginx.test"])
    assert code == 200 and size == 100000 and file_sha256(out) == backends.pattern_sha256(100000), (code, size)
    r = one_request(gw, "GET", "/index.html", host="nginx.test")
    assert r.status == 200 and r.body == NGINX_FILES["index.html"], r
    r = one_request(gw, "GET", "/nope", host="nginx.test")
    assert r.status == 404, r
    res_n, out_n = wrk(gw, "http://10.99.0.2/small.txt", 2, 32, 5, host="nginx.test")
    FIGURES["wrk_nginx_backend"] = res_n
    assert res_n["rc"] == 0 and res_n["requests"] > 0, out_n
    assert res_n["socket_errors"] == 0 and res_n["non2xx3xx"] == 0, out_n


# === 8. backend closing idle keep-alive connections ==================================

@test("shared")
def backend_closes_idle_connections(env):
    """The backend on 8083 closes a keep-alive connection idle for 100 ms: a
    pooled connection it closed must not cost a request."""
    gw = env.gw
    problems = []
    c = Conn(gw)
    try:
        for i in range(8):
            try:
                r = c.request("GET", "/size/%d" % (100 + i), host="idle.test")
                if r.status != 200 or r.body != backends.pattern(0, 100 + i):
                    problems.append("keep-alive client, request %d: %r" % (i, r))
            except Exception as e:
                problems.append("keep-alive client, request %d: %r" % (i, e))
                c.close()
                c = Conn(gw)
            time.sleep(0.3)     # the test's subject: longer than the backend's idle limit
    finally:
        c.close()
    for i in range(6):
        r = one_request(gw, "GET", "/name", host="idle.test")
        if r.status != 200 or r.body != b"idle":
            problems.append("new client connection, request %d: %r" % (i, r))
        time.sleep(0.3)
    assert not problems, "; ".join(problems)


# === 9. backend down, health checks ====================================================

@test("shared")
def backend_down_502(env):
    t0 = time.monotonic()
    r = one_request(env.gw, "GET", "/name", host="down.test")
    dt = time.monotonic() - t0
    assert r.status == 502, "nothing listens on the server's port: want 502, got %r" % r
    assert dt < 1.5, "502 took %.2f s for a refused connect" % dt
    for i in range(4):   # later ones may find the server marked down by passive checks
        r = one_request(env.gw, "GET", "/name", host="down.test")
        assert r.status in (502, 503), "request %d to a dead server: %r" % (i + 2, r)


HEALTH_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = (
  { name = "late"; servers = ( { address = "10.99.0.1:8086"; } ); %(t)s
    health_check = { path = "/health"; interval_ms = 200; timeout_ms = 150; rise = 2; fall = 2; };
    passive = { max_fails = 3; fail_timeout_ms = 2000; }; },
  { name = "pair"; balance = "round_robin";
    servers = ( { address = "10.99.0.1:8081"; }, { address = "10.99.0.1:8082"; } ); %(t)s
    keepalive = { max_idle = 32; idle_timeout_ms = 60000; }; retries = 1;
    health_check = { path = "/health"; interval_ms = 200; timeout_ms = 150; rise = 2; fall = 2; };
    passive = { max_fails = 3; fail_timeout_ms = 2000; }; } );
routes = ( { host = "late.test"; upstream = "late"; }, { upstream = "pair"; } );
""" % {"t": UP_TIMEOUTS}


@test()
def health_checks(_):
    env = Env(HEALTH_CONF)
    failed = True
    try:
        gw = env.gw
        flag = env.path("b-health-fail")
        env.http_backend(8081, "a")
        env.http_backend(8082, "b", "--health-fail", flag)
        # a server nothing listens on: an error, then the server comes up
        r = one_request(gw, "GET", "/name", host="late.test")
        assert r.status in (502, 503), "server down: %r" % r
        env.http_backend(8086, "late")
        t0 = time.monotonic()

        def late_ok():
            return one_request(gw, "GET", "/name", host="late.test").status == 200
        wait_for(late_ok, 5, "requests to late.test to succeed once its server listens", interval=0.05)
        FIGURES["health_up_after_start_s"] = round(time.monotonic() - t0, 2)

        def names(n):
            return [one_request(gw, "GET", "/name").body for _ in range(n)]
        seen = names(20)
        assert set(seen) == {b"a", b"b"}, "round robin over two healthy servers: %r" % seen
        # b fails its health check: porter stops sending there
        open(flag, "w").close()
        t0 = time.monotonic()
        wait_for(lambda: set(names(10)) == {b"a"}, 6, "b (failing /health) to get no more requests",
                 interval=0.05)
        FIGURES["health_down_detect_s"] = round(time.monotonic() - t0, 2)
        n_before = len([x for x in env.req_log(8082) if "/health" not in x])
        seen = names(40)
        n_after = len([x for x in env.req_log(8082) if "/health" not in x])
        assert set(seen) == {b"a"} and n_after == n_before, \
            "b marked down, yet it served %d of 40 (its log: %d -> %d requests)" % (
                seen.count(b"b"), n_before, n_after)
        hc = [x for x in env.req_log(8082) if "/health" in x]
        assert hc, "b's log shows no health checks"
        # b healthy again: it comes back
        os.unlink(flag)
        t0 = time.monotonic()
        wait_for(lambda: b"b" in names(10), 6, "b back in rotation after /health passes", interval=0.05)
        FIGURES["health_back_s"] = round(time.monotonic() - t0, 2)
        failed = False
    finally:
        env.close(failed)


# === 10. read timeout ==================================================================

@test("shared")
def slow_backend_504(env):
    t0 = time.monotonic()
    r = one_request(env.gw, "GET", "/slow/5000", host="slow.test")
    dt = time.monotonic() - t0
    FIGURES["read_timeout_504_s"] = round(dt, 2)
    assert r.status == 504, "backend silent for 5 s with read_ms = 1000: want 504, got %r" % r
    assert 0.8 <= dt <= 3.0, "504 after %.2f s, read_ms = 1000" % dt


# === 11. WebSocket ======================================================================

def ws_read_frame(c):
    b0, b1 = c.read_n(2)
    n = b1 & 0x7f
    if n == 126:
        n = int.from_bytes(c.read_n(2), "big")
    elif n == 127:
        n = int.from_bytes(c.read_n(8), "big")
    assert not b1 & 0x80, "server frame masked"
    return b0 & 0x0f, bool(b0 & 0x80), c.read_n(n)


@test("shared")
def websocket_echo(env):
    c = Conn(env.gw)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        c.send(("GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
        r = c.response()
        assert r.status == 101, "handshake: %r" % r
        assert r.get("sec-websocket-accept") == backends.ws_accept(key), r
        assert "websocket" in r.tokens("upgrade") and "upgrade" in r.tokens("connection"), r
        for i, payload in enumerate([b"hello", os.urandom(200), os.urandom(70000), b""]):
            op = 1 if i == 0 else 2
            c.send(backends.ws_frame(op, payload, mask=os.urandom(4)))
            got = ws_read_frame(c)
            assert got == (op, True, payload), "frame %d: sent %d bytes op %d, got op %d, %d bytes" % (
                i, len(payload), op, got[0], len(got[2]))
        c.send(backends.ws_frame(9, b"ping!", mask=os.urandom(4)))
        assert ws_read_frame(c) == (10, True, b"ping!")
        c.send(backends.ws_frame(8, b"\x03\xe8", mask=os.urandom(4)))
        assert ws_read_frame(c) == (8, True, b"\x03\xe8")
        assert c.closed_by_peer(5), "tunnel not closed after the close handshake"
    finally:
        c.close()


# === 12. tcp pass-through ===============================================================

@test("shared")
def tcp_passthrough_upload_64m(env):
    """64 MiB to the backend, then the client half-closes; the backend reads to
    EOF, answers the sha256 and closes: the answer must reach the client."""
    gw = env.gw
    n = 64 * MiB
    s = connect(gw, 9000, timeout=60)
    try:
        t0 = time.monotonic()
        for b in backends.pattern_chunks(0, n):
            s.sendall(b)
        s.shutdown(socket.SHUT_WR)
        t_shut = time.monotonic()
        reply = b""
        while True:
            try:
                b = s.recv(4096)
            except ConnectionResetError:
                raise AssertionError("sent %d bytes in %.2f s and shut down writing; %.3f s later porter reset "
                                     "the connection (reply bytes read before: %r)" % (
                                         n, t_shut - t0, time.monotonic() - t_shut, reply))
            if not b:
                break
            reply += b
        dt = time.monotonic() - t0
    finally:
        s.close()
    FIGURES["tcp_upload_64m_MBps"] = round(n / dt / 1e6, 1)
    want = b"%s %d\n" % (backends.pattern_sha256(n).encode(), n)
    assert reply == want, "backend got: %r, want %r" % (reply, want)


@test("shared")
def tcp_passthrough_download_64m(env):
    """64 MiB from the backend, which then closes; the client reads to EOF."""
    gw = env.gw
    n = 64 * MiB
    s = connect(gw, 9002, timeout=60)
    try:
        t0 = time.monotonic()
        s.sendall(b"%d\n" % n)
        h = hashlib.sha256()
        got = 0
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            h.update(b)
            got += len(b)
        dt = time.monotonic() - t0
    finally:
        s.close()
    FIGURES["tcp_download_64m_MBps"] = round(n / dt / 1e6, 1)
    assert got == n and h.hexdigest() == backends.pattern_sha256(n), "download: %d bytes, sha %s" % (
        got, "ok" if h.hexdigest() == backends.pattern_sha256(n) else "differs")


# === 13. bad input ======================================================================

@test("bad")
def bad_00_good_request_passes(env):
    """The control case of the group: a well-formed request is served."""
    m = marker("good")
    c = Conn(env.gw)
    try:
        r = c.request("GET", "/m/%s/name" % m, host="good.test")
        assert r.status == 200 and r.body == b"app", r
    finally:
        c.close()
    wait_for(lambda: any(m in x for x in env.req_log(8081)), 5, "the request in the backend's log")


def barrier(env):
    """A good request on a new connection, seen in the backend's log."""
    m = marker("barrier")
    r = one_request(env.gw, "GET", "/m/%s/name" % m, host="good.test")
    assert r.status == 200, "barrier request: %r" % r
    wait_for(lambda: any(m in x for x in env.req_log(8081)), 5, "barrier request in the backend's log")


def bad_case(name, build, want, log_check=True, wait_s=None, note=""):
    def fn(env):
        m = marker(name)
        c = Conn(env.gw)
        try:
            req = build("/m/%s/echo" % m)
            c.send(req)
            t0 = time.monotonic()
            try:
                r = c.response()
            except (EOFError, ConnectionResetError) as e:
                raise AssertionError("sent %r: no response; after %.2f s: %r" % (req[:300], time.monotonic() - t0,
                                                                                e))
            dt = time.monotonic() - t0
            assert r.status == want, "sent %r: want %d, got %r" % (req[:300], want, r)
            if wait_s is not None:
                lo, hi = wait_s
                assert lo <= dt <= hi, "sent %r: %d after %.2f s, want %.1f..%.1f s" % (req[:300], want, dt,
                                                                                        lo, hi)
            assert c.closed_by_peer(5), "sent %r: got %d but the connection stayed open" % (req[:300], want)
        finally:
            c.close()
        if log_check:
            barrier(env)
            hits = [x for x in env.req_log(8081) if m in x]
            assert not hits, "sent %r: got %d, yet the backend received: %r" % (req[:300], want, hits)
    fn.__name__ = "bad_" + name
    fn.__doc__ = note
    test("bad")(fn)


H = "Host: good.test\r\n"
bad_case("cl_and_te", lambda p: ("POST %s HTTP/1.1\r\n%sContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "0\r\n\r\n" % (p, H)).encode(), 400)
bad_case("two_content_lengths", lambda p: ("POST %s HTTP/1.1\r\n%sContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                                           "hello!" % (p, H)).encode(), 400)
# The head of a chunked request may legitimately be forwarded before the bad
# chunk size is seen: only the 400 and the close are checked.
bad_case("bad_chunk_size", lambda p: ("POST %s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n"
                                      "zz\r\nhello\r\n0\r\n\r\n" % (p, H)).encode(), 400, log_check=False)
bad_case("obs_fold", lambda p: ("GET %s HTTP/1.1\r\n%sX-Folded: a\r\n  b\r\n\r\n" % (p, H)).encode(), 400)
bad_case("nul_in_value", lambda p: ("GET %s HTTP/1.1\r\n%sX-Nul: a\x00b\r\n\r\n" % (p, H)).encode(), 400)
bad_case("space_before_colon", lambda p: ("GET %s HTTP/1.1\r\n%sX-Space : b\r\n\r\n" % (p, H)).encode(), 400)
bad_case("request_line_too_long", lambda p: ("GET %s?%s HTTP/1.1\r\n%s\r\n" % (p, "a" * 2000, H)).encode(), 414)
bad_case("head_too_large", lambda p: ("GET %s HTTP/1.1\r\n%s%s\r\n" % (
    p, H, "".join("X-Pad-%d: %s\r\n" % (i, "p" * 500) for i in range(10)))).encode(), 431)
bad_case("too_many_headers", lambda p: ("GET %s HTTP/1.1\r\n%s%s\r\n" % (
    p, H, "".join("X-H%d: v\r\n" % i for i in range(60)))).encode(), 431)
bad_case("body_too_large", lambda p: ("POST %s HTTP/1.1\r\n%sContent-Length: 2097152\r\n\r\n" % (p, H)).encode(),
         413)
bad_case("missing_host", lambda p: ("GET %s HTTP/1.1\r\nX-A: b\r\n\r\n" % p).encode(), 400)
bad_case("unknown_transfer_coding", lambda p: ("POST %s HTTP/1.1\r\n%sTransfer-Encoding: bogus, chunked\r\n\r\n"
                                               "0\r\n\r\n" % (p, H)).encode(), 501)
bad_case("http2_version", lambda p: ("GET %s HTTP/2.0\r\n%s\r\n" % (p, H)).encode(), 505)
bad_case("no_route", lambda p: ("GET %s HTTP/1.1\r\nHost: nomatch.example.org\r\nConnection: close\r\n\r\n"
                                % p).encode(), 404)
bad_case("header_timeout", lambda p: ("GET %s HTTP/1.1\r\n%s" % (p, H)).encode(), 408, wait_s=(0.8, 3.0))
# framing (RFC 9110 §8.6, RFC 9112 §3.2, §6.1, §6.3, §7.1)
bad_case("chunk_line_bare_lf", lambda p: ("POST %s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n"
                                          "5\nhello\r\n0\r\n\r\n" % (p, H)).encode(), 400, log_check=False,
         note="RFC 9112 §7.1: chunk lines end at CRLF (the head may have gone up already)")
bad_case("chunk_ext_syntax", lambda p: ("POST %s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n"
                                        "5;a b\r\nhello\r\n0\r\n\r\n" % (p, H)).encode(), 400, log_check=False)
bad_case("content_length_list_differs", lambda p: ("POST %s HTTP/1.1\r\n%sContent-Length: 5, 6\r\n\r\nhello!"
                                                   % (p, H)).encode(), 400)
bad_case("te_chunked_not_last", lambda p: ("POST %s HTTP/1.1\r\n%sTransfer-Encoding: chunked, gzip\r\n\r\n"
                                           "0\r\n\r\n" % (p, H)).encode(), 400)
bad_case("te_in_http10", lambda p: ("POST %s HTTP/1.0\r\n%sTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                                    % (p, H)).encode(), 400)
bad_case("fragment_in_target", lambda p: ("GET %s#frag HTTP/1.1\r\n%s\r\n" % (p, H)).encode(), 400,
         note="RFC 9112 §3.2: a request-target has no fragment")
bad_case("connect_method", lambda p: ("CONNECT %s.example:443 HTTP/1.1\r\n%s\r\n" % (p.split("/")[2], H)).encode(),
         501, note="a reverse proxy opens no CONNECT tunnels")


# === 14. access log =====================================================================

@test("shared")
def access_log(env):
    gw = env.gw
    m = marker("alog")
    body = os.urandom(5000)
    sent = [("GET", "/m/%s/size/1000" % m, "test", None, 200),
            ("POST", "/m/%s/echo" % m, "test", body, 200),
            ("HEAD", "/m/%s/size/10" % m, "test", None, 200),
            ("GET", "/m/%s/nope" % m, "test", None, 404),
            ("GET", "/m/%s/name" % m, "down.test", None, None)]
    for method, path, host, b, status in sent:
        r = one_request(gw, method, path, host=host, body=b)
        if status:
            assert r.status == status, (method, path, r)
    lines = wait_for(lambda: (lambda ls: ls if len(ls) >= len(sent) else None)(
        [x for x in read_lines(env.access_log) if m in x]), 5, "%d access log lines" % len(sent))
    time.sleep(0.3)   # a duplicate would show up by now
    lines = [x for x in read_lines(env.access_log) if m in x]
    assert len(lines) == len(sent), "want one line per request, got %d:\n%s" % (len(lines), "\n".join(lines))
    problems = []
    # each worker writes its own lines: across shards the file is not in request order
    parsed = []
    for ln in lines:
        try:
            parsed.append((json.loads(ln), ln))
        except ValueError:
            problems.append("not JSON: %r" % ln)
    for method, path, host, b, status in sent:
        match = [(j, ln) for j, ln in parsed if j.get("method") == method and j.get("path") == path]
        if len(match) != 1:
            problems.append("%d lines for %s %s" % (len(match), method, path))
            continue
        j, ln = match[0]
        for f in ("time", "client", "method", "path", "status", "bytes_in", "bytes_out", "upstream", "total_ms"):
            if f not in j:
                problems.append("no %s in %r" % (f, ln))
        if problems:
            continue
        if not re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", str(j["time"])):
            problems.append("time %r" % j["time"])
        if not str(j["client"]).startswith("10.99.0.1"):
            problems.append("client %r" % j["client"])
        if j["method"] != method or not str(j["path"]).startswith(path):
            problems.append("method/path %r %r, want %s %s" % (j["method"], j["path"], method, path))
        if status and j["status"] != status:
            problems.append("%s status %r, want %d" % (path, j["status"], status))
        if host == "down.test" and j["status"] not in (502, 503):
            problems.append("dead server logged with status %r" % j["status"])
        if j["upstream"] != ("down" if host == "down.test" else "app"):
            problems.append("%s upstream %r" % (path, j["upstream"]))
        if method == "POST" and j["bytes_in"] < 5000:
            problems.append("POST bytes_in %r < 5000" % j["bytes_in"])
        if path.endswith("/size/1000") and j["bytes_out"] < 1000:
            problems.append("GET 1000 B bytes_out %r" % j["bytes_out"])
        if not isinstance(j["total_ms"], int) or j["total_ms"] < 0 or j["total_ms"] > 10000:
            problems.append("total_ms %r" % j["total_ms"])
    bad = [x for x in read_lines(env.access_log) if not _is_json(x)]
    if bad:
        problems.append("%d lines of the access log are not JSON, e.g. %r" % (len(bad), bad[0]))
    assert not problems, "; ".join(problems) + "\n" + "\n".join(lines)


@test("shared")
def access_log_fields_and_request_ids(env):
    """The access log shows host, query string, user agent, referer and a request id. A
    request without X-Request-Id gets one (32 hex digits) that the backend receives too;
    one that came with it keeps it, and it is neither replaced nor doubled upstream."""
    gw = env.gw
    m1, m2 = marker("rid1"), marker("rid2")
    r1 = one_request(gw, "GET", "/m/%s/headers?a=1&b=%%22x" % m1, host="api.example.com",
                     headers=[("User-Agent", "probe/1.0 \"q\""), ("Referer", "http://ref.test/p")])
    r2 = one_request(gw, "GET", "/m/%s/headers" % m2, headers=[("X-Request-Id", "client-id-42")])
    assert r1.status == 200 and r2.status == 200, (r1, r2)
    h1 = [v for k, v in json.loads(r1.body)["headers"] if k.lower() == "x-request-id"]
    h2 = [v for k, v in json.loads(r2.body)["headers"] if k.lower() == "x-request-id"]
    assert len(h1) == 1 and re.fullmatch(r"[0-9a-f]{32}", h1[0]), h1
    assert h2 == ["client-id-42"], h2
    lines = wait_for(lambda: (lambda ls: ls if len(ls) == 2 else None)(
        [json.loads(x) for x in read_lines(env.access_log) if m1 in x or m2 in x]), 5, "2 access log lines")
    j1 = [j for j in lines if m1 in j["path"]][0]
    j2 = [j for j in lines if m2 in j["path"]][0]
    want1 = {"host": "api.example.com", "query": "a=1&b=%22x", "user_agent": 'probe/1.0 "q"',
             "referer": "http://ref.test/p", "request_id": h1[0]}
    assert {k: j1.get(k) for k in want1} == want1, j1
    assert j2["request_id"] == "client-id-42" and j2["user_agent"] == "" and j2["query"] == "", j2
    # another request on a new connection gets another id
    r3 = one_request(gw, "GET", "/m/%s/headers" % m1)
    h3 = [v for k, v in json.loads(r3.body)["headers"] if k.lower() == "x-request-id"]
    assert h3 and h3 != h1, (h1, h3)


def _is_json(s):
    try:
        json.loads(s)
        return True
    except ValueError:
        return False


# === 15. reload ==========================================================================

RELOAD_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "A"; servers = ( { address = "10.99.0.1:8081"; } ); %(t)s },
              { name = "B"; servers = ( { address = "10.99.0.1:8082"; } ); %(t)s } );
routes = ( { upstream = "A"; } );
""" % {"t": UP_TIMEOUTS}


def shard_pids(gw):
    return [s["pid"] for s in gw.status()["shards"]]


def ctl_line(gw, line, timeout=10):
    """Send one command line on the control socket (what porterctl sends);
    return the reply."""
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.settimeout(timeout)
    try:
        u.connect(gw.sock)
        u.sendall(line.encode() + b"\n")
        u.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            b = u.recv(65536)
            if not b:
                break
            out += b
        return out.decode(errors="replace")
    finally:
        u.close()


class ReloadEnv:
    """Upstreams A (8081) and B (8082); routes send / to A."""

    ROUTE_A = 'routes = ( { upstream = "A"; } );'
    ROUTE_B = 'routes = ( { upstream = "B"; } );'

    def __init__(self):
        self.env = Env(RELOAD_CONF)
        self.gw = self.env.gw
        try:
            self.env.http_backend(8081, "A")
            self.env.http_backend(8082, "B")
        except BaseException:
            self.env.close(True)
            raise
        self.base = open(self.gw.conf).read()
        assert self.ROUTE_A in self.base
        lines = self.base.splitlines()
        self.routes_line = next(i for i, x in enumerate(lines) if x.startswith("routes")) + 1

    def served_by(self):
        return one_request(self.gw, "GET", "/name").body

    def write(self, text):
        tmp = self.gw.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.gw.conf)

    def write_b(self):
        self.write(self.base.replace(self.ROUTE_A, self.ROUTE_B))


@test()
def reload_porterctl(_):
    """`porterctl reload` (docs/CONFIG.md "Reload") switches the routes."""
    e = ReloadEnv()
    failed = True
    try:
        gw = e.gw
        assert e.served_by() == b"A"
        pids = shard_pids(gw)
        e.write_b()
        out = gw.ctl("reload", check=False)
        assert out.returncode == 0, "porterctl reload: exit %d: %s %s" % (out.returncode, out.stdout,
                                                                         out.stderr.strip().splitlines()[0])
        wait_for(lambda: e.served_by() == b"B", 3, "requests to go to B after the reload")
        assert shard_pids(gw) == pids, "workers restarted by the reload: %r -> %r" % (pids, shard_pids(gw))
        e.write(e.base.replace(e.ROUTE_A, 'routes = ( { upstream = "C"; } );'))
        out = gw.ctl("reload", check=False)
        msg = out.stdout + out.stderr
        assert out.returncode != 0, "reload of a broken file: exit 0: %s" % msg
        assert "%s:%d:" % (gw.conf, e.routes_line) in msg, "message does not name %s:%d: %r" % (
            gw.conf, e.routes_line, msg)
        assert e.served_by() == b"B"
        failed = False
    finally:
        e.env.close(failed)


@test()
def reload_semantics(_):
    """Reload by the control socket's `reload` command (what porterctl sends)
    and by SIGHUP: routes switch without worker restarts, broken files are
    refused with FILE:LINE and change nothing."""
    e = ReloadEnv()
    failed = True
    try:
        gw = e.gw
        assert e.served_by() == b"A"
        pids = shard_pids(gw)
        keep = Conn(gw)
        assert keep.request("GET", "/name").body == b"A"
        e.write_b()
        reply = ctl_line(gw, "reload")
        assert reply.startswith("ok"), "reload: %r" % reply
        wait_for(lambda: e.served_by() == b"B", 3, "requests to go to B after the reload")
        seen = [e.served_by() for _ in range(20)]
        assert set(seen) == {b"B"}, "after the reload: %r" % seen
        r = keep.request("GET", "/name")
        assert r.status == 200, "keep-alive connection from before the reload: %r" % r
        assert shard_pids(gw) == pids, "workers restarted by the reload: %r -> %r" % (pids, shard_pids(gw))
        ln = e.routes_line
        for kind, text, want_line in (
                ("unknown upstream", e.base.replace(e.ROUTE_A, 'routes = ( { upstream = "C"; } );'), {ln}),
                ("syntax error", e.base.replace(e.ROUTE_A, 'routes = ( { upstream = "B" } ;'), {ln, ln + 1})):
            e.write(text)
            reply = ctl_line(gw, "reload")
            assert reply.startswith("error"), "%s: reload accepted: %r" % (kind, reply)
            mm = re.search(re.escape(gw.conf) + r":(\d+):", reply)
            assert mm and int(mm.group(1)) in want_line, \
                "%s at line %d: reply does not name %s:%d: %r" % (kind, ln, gw.conf, ln, reply)
            seen = [e.served_by() for _ in range(10)]
            assert set(seen) == {b"B"}, "after a refused reload (%s): %r" % (kind, seen)
        # SIGHUP to the primary works like a reload
        e.write(e.base)
        ppid = gw.status()["pid"]
        assert ppid == gw.proc.pid, (ppid, gw.proc.pid)
        os.kill(ppid, signal.SIGHUP)
        wait_for(lambda: e.served_by() == b"A", 3, "requests to go to A after SIGHUP")
        # and a broken file by SIGHUP: logged with FILE:LINE, nothing changes
        e.write(e.base.replace(e.ROUTE_A, 'routes = ( { upstream = "C"; } );'))
        os.kill(ppid, signal.SIGHUP)
        wait_for(lambda: "%s:%d:" % (gw.conf, ln) in gw.log_text(), 3, "the refused SIGHUP reload in the log")
        assert set(e.served_by() for _ in range(10)) == {b"A"}
        assert shard_pids(gw) == pids, "workers restarted by SIGHUP: %r -> %r" % (pids, shard_pids(gw))
        keep.close()
        failed = False
    finally:
        e.env.close(failed)


# === 16. durability =======================================================================

DURABLE_CONF = """
tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; };
listeners = ( { port = 80; protocol = "http"; }, { port = 9000; protocol = "tcp"; upstream = "sha"; } );
upstreams = ( { name = "sha"; servers = ( { address = "10.99.0.1:9001"; } ); },
              { name = "ngx"; servers = ( { address = "10.99.0.1:8085"; } ); %(t)s
                keepalive = { max_idle = 64; idle_timeout_ms = 60000; }; },
              { name = "py"; servers = ( { address = "10.99.0.1:8081"; } );
                timeouts = { connect_ms = 1000; read_ms = 10000; write_ms = 30000; }; } );
routes = ( { host = "py.test"; upstream = "py"; }, { upstream = "ngx"; } );
""" % {"t": UP_TIMEOUTS}


def setup_durable():
    return app_env([lambda e: e.http_backend(8081, "py"), lambda e: e.nginx(8085, NGINX_FILES),
                    lambda e: e.backend("tcpsha", 9001)], DURABLE_CONF)


GROUPS["durable"] = setup_durable


# === hostile clients ==================================================================

DRIP_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } ); %(t)s } );
routes = ( { upstream = "app"; } );
http = { max_request_line = 8192; max_header_bytes = 65536; max_headers = 120;
         header_timeout_ms = 60000; idle_timeout_ms = 60000; };
""" % {"t": UP_TIMEOUTS}


def setup_drip():
    return app_env([lambda e: e.http_backend(8081, "app")], DRIP_CONF, workers=1)


GROUPS["drip"] = setup_drip


def worker_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


TINY_CONF = """
tcp: { max_streams_per_shard = 1024; time_wait_ms = 500; };
listeners = ( { port = 9002; protocol = "tcp"; upstream = "rawsrc"; } );
upstreams = ( { name = "rawsrc"; servers = ( { address = "10.99.0.1:9003"; } ); } );
"""


def setup_tiny():
    return app_env([lambda e: e.backend("tcpsource", 9003)], TINY_CONF, workers=1,
                   dataplane="mbufs = 2047; rx_desc = 256; tx_desc = 256;")


GROUPS["tiny"] = setup_tiny


@test("tiny")
def tunnels_recover_from_an_empty_pool(env):
    """24 pass-through downloads of 3 MiB each whose clients stop reading would hold
    more buffers than the whole pool (2047): below the pool's reserve received payload
    is dropped unacknowledged (pool_low), queued data may go on to half of it (relays
    that find no buffer retry on a timer: nombuf_waits), so ACKs always get in and
    nothing wedges; once the clients read every transfer completes intact."""
    gw = env.gw
    n, size = 24, 3 << 20
    conns = []
    try:
        for i in range(n):
            s = connect(gw, 9002, 60)
            s.sendall(b"%d\n" % size)
            conns.append(s)
        # nobody reads: the queues fill the pool down to its reserve (an eighth)
        st = wait_for(lambda: (lambda x: x if x["shards"][0]["tcp"]["drops"]["pool_low"] > 0 else None)(
            gw.status()), 30, "the pool to reach its reserve")
        low = st["mempool"]["available"]
        results = {}

        def reader(i, s):
            h, got = hashlib.sha256(), 0
            while True:
                b = s.recv(1 << 16)
                if not b:
                    break
                h.update(b)
                got += len(b)
            results[i] = (got, h.hexdigest())
        th = [threading.Thread(target=reader, args=(i, s)) for i, s in enumerate(conns)]
        for t in th:
            t.start()
        for t in th:
            t.join(90)
        if any(t.is_alive() for t in th):
            st = gw.status()
            streams = gw.ctl("--json", "streams", check=False).stdout
            raise AssertionError("%d transfers wedged; got %s; mempool %s; tcp %s; http %s; streams %s" % (
                sum(t.is_alive() for t in th), {i: r[0] for i, r in results.items()}, st["mempool"],
                {k: v for k, v in st["shards"][0]["tcp"]["drops"].items() if v}, st["shards"][0]["http"],
                streams[:3000]))
        want = backends.pattern_sha256(size)
        bad = [i for i in range(n) if results.get(i) != (size, want)]
        assert not bad, "transfers %s incomplete or corrupted: %s" % (bad, [results.get(i) for i in bad][:3])
        st = gw.status()
        waits = st["shards"][0]["http"]["nombuf_waits"]
        FIGURES["empty_pool"] = {"tunnels": n, "nombuf_waits": waits, "available_at_low": low,
                                 "tcp_nombuf_drops": st["shards"][0]["tcp"]["drops"]["nombuf"],
                                 "pool_low_drops": st["shards"][0]["tcp"]["drops"]["pool_low"]}
        assert low >= 2047 // 16, "the reserve for receiving was eaten: %d free" % low
        wait_for(lambda: gw.status()["mempool"]["available"] > 1500, 30, "the pool to refill")
    finally:
        for s in conns:
            s.close()


# --- client_limits: what one client address may take of a shard -------------------------

SECOND_IP = "10.99.0.3"   # a second client address on the tap's kernel side
LIMITS_LINE = "client_limits: { max_conns = 4; };"
LIMITS_CONF = """
tcp: { max_streams_per_shard = 4096; time_wait_ms = 1000; };
listeners = ( { port = 80; protocol = "http"; }, { port = 81; protocol = "http"; client_limits = false; } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } );
                keepalive = { max_idle = 32; idle_timeout_ms = 60000; }; %(t)s } );
routes = ( { upstream = "app"; } );
http = { header_timeout_ms = 5000; idle_timeout_ms = 60000; };
%(l)s
""" % {"t": UP_TIMEOUTS, "l": LIMITS_LINE}


def limits_start(env):
    env.gw.ns(["ip", "addr", "add", SECOND_IP + "/24", "dev", env.gw.iface])
    env.http_backend(8081, "app")
    with open(env.gw.conf) as f:
        env.base_conf = f.read()
    env.reta = env.gw.status()["reta"]
    env.next_port = [10000]


def setup_limits():
    return app_env([limits_start], LIMITS_CONF, workers=2)


GROUPS["limits"] = setup_limits


def set_limits(env, line):
    """Reload the gateway with LINE in place of the client_limits group ("" = the start-up one)."""
    gw = env.gw
    tmp = gw.conf + ".tmp"
    with open(tmp, "w") as f:
        f.write(env.base_conf.replace(LIMITS_LINE, line or LIMITS_LINE))
    os.rename(tmp, gw.conf)
    out = gw.ctl("reload", check=False)
    assert out.returncode == 0, "reload: %s %s" % (out.stdout, out.stderr)
    gen = gw.status()["proxy"]["generation"]
    wait_for(lambda: all((sh.get("http") or {}).get("config_generation") == gen for sh in gw.status()["shards"]),
             5, "every worker on generation %d" % gen)


def _bindable(env, src, port):
    """Can a client socket bind SRC:PORT now? The counter below wraps after 50,000 ports
    and the range holds the namespace's own ephemeral and listening ports: one of them
    still in use (not in TIME-WAIT) made bind() fail with EADDRINUSE (one CI run)."""
    with in_netns(env.gw.netns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, port))
        return True
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return False
        raise
    finally:
        s.close()


def ports_to(env, src, shard, n):
    """N unused source ports whose flow from SRC to porter:80 the hash steers to SHARD."""
    out = []
    while len(out) < n:
        p = env.next_port[0]
        env.next_port[0] = p + 1 if p < 60000 else 10000
        if flow_shard(env.reta, src, PORTER_IP, p, 80) == shard and _bindable(env, src, p):
            out.append(p)
    return out


def connect_from(gw, src, sport, timeout=5.0, dport=80):
    """A connection to porter:DPORT from SRC:SPORT (ConnectionRefusedError when refused)."""
    with in_netns(gw.netns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(timeout)
    try:
        s.bind((src, sport))
        s.connect((PORTER_IP, dport))
    except BaseException:
        s.close()
        raise
    return s


def refused_from(gw, src, sport):
    """True when the connect is refused (a RST for the SYN), False when it is accepted."""
    try:
        s = connect_from(gw, src, sport)
    except ConnectionRefusedError:
        return True
    s.close()
    return False


def abort(s):
    """Close with a RST (SO_LINGER 0): the stream ends at porter at once, no TIME-WAIT here."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def get_on(s, path="/name", host="test"):
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode())


def tcp_drops(gw, name):
    return [sh["tcp"]["drops"][name] for sh in gw.status()["shards"]]


def sock_conn(s):
    c = Conn.__new__(Conn)
    c.s, c.buf = s, bytearray()
    return c


@test("limits")
def client_max_conns_per_address_and_shard(env):
    """client_limits.max_conns = 4 on 2 shards: address A holds 4 streams on each shard,
    its next SYN to either shard is refused with a RST (connect() fails at once with
    ECONNREFUSED), counted as client_conn_limit on that shard, exactly; a listener with
    client_limits = false still takes A's connections; a second address
    B on the same shards is not affected; A's held connections still serve requests;
    one of A's connections closing makes room for exactly one; after kill -9 of a worker
    the successor counts A's streams again from the TCBs and still refuses the fifth."""
    gw = env.gw
    held = {0: [], 1: []}
    others, exempt = [], []
    d0 = tcp_drops(gw, "client_conn_limit")
    try:
        for sh in (0, 1):
            for p in ports_to(env, PEER_IP, sh, 4):
                held[sh].append(connect_from(gw, PEER_IP, p))
        t0 = time.monotonic()
        for sh in (0, 1):
            for p in ports_to(env, PEER_IP, sh, 3):
                assert refused_from(gw, PEER_IP, p), "A's 5th connection on shard %d accepted" % sh
        refuse_s = (time.monotonic() - t0) / 6
        d1 = tcp_drops(gw, "client_conn_limit")
        assert [b - a for a, b in zip(d0, d1)] == [3, 3], "client_conn_limit %s -> %s" % (d0, d1)
        assert all(x == 0 for x in tcp_drops(gw, "client_conn_rate"))
        # the listener with client_limits = false takes A's connections beyond the limit
        for i in range(6):
            exempt.append(connect_from(gw, PEER_IP, 0, dport=81))
        c = sock_conn(exempt[-1])
        get_on(exempt[-1])
        r = c.response()
        assert r.status == 200 and r.body == b"app", r
        # B: its own 4 per shard, and they work
        for sh in (0, 1):
            for p in ports_to(env, SECOND_IP, sh, 4):
                others.append(connect_from(gw, SECOND_IP, p))
        for s in others[::4]:
            c = sock_conn(s)
            get_on(s)
            r = c.response()
            assert r.status == 200 and r.body == b"app", r
        # A's held connections serve requests
        for sh in (0, 1):
            c = sock_conn(held[sh][0])
            get_on(held[sh][0])
            r = c.response()
            assert r.status == 200 and r.body == b"app", r
        # one of A's on shard 0 ends (FIN): room for exactly one more
        held[0].pop().close()
        s = wait_for(lambda: _try_connect(gw, PEER_IP, ports_to(env, PEER_IP, 0, 1)[0]), 5,
                     "room for A on shard 0 after one of its connections closed")
        held[0].append(s)
        assert refused_from(gw, PEER_IP, ports_to(env, PEER_IP, 0, 1)[0])
        # kill -9 the worker of shard 0: its successor counts A's 4 streams from the TCBs
        st = gw.status()
        pid = st["shards"][0]["pid"]
        os.kill(pid, signal.SIGKILL)
        st = gw.wait_all_ready(exclude_pids=(pid,))
        assert st["shards"][0]["pid"] != pid and st["shards"][0]["recoveries"] >= 1, st["shards"][0]
        assert refused_from(gw, PEER_IP, ports_to(env, PEER_IP, 0, 1)[0]), \
            "A's 5th connection on shard 0 accepted by the restarted worker"
        for s in held[0]:   # the survivors still serve
            c = sock_conn(s)
            get_on(s)
            r = c.response()
            assert r.status == 200, r
        tcp0 = gw.status()["shards"][0]["tcp"]
        FIGURES["client_max_conns"] = {"refused_connect_ms": round(refuse_s * 1e3, 2),
                                       "client_table": tcp0["client_table"]}
    finally:
        for s in held[0] + held[1] + others + exempt:
            abort(s)


def _try_connect(gw, src, port):
    try:
        return connect_from(gw, src, port)
    except ConnectionRefusedError:
        return None


@test("limits")
def client_request_rate_answers_429(env):
    """client_limits.http_req_rate = 1, http_req_burst = 5: of 20 requests pipelined on one
    keep-alive connection from address A, the first 5 are served and the others answered
    429 with Retry-After: 1 on the same connection (at most one more 200 per second the
    exchange took); the connection stays usable (a request is served on it again once a
    token is back); B is served meanwhile; a refused request with a body gets 429 and the
    connection closes; a HEAD gets a 429 head without a body; err_429 counts each 429."""
    gw = env.gw
    set_limits(env, "client_limits: { http_req_rate = 1; http_req_burst = 5; };")
    c = b = None
    try:
        e0 = http_counter(gw, "err_429")
        q0 = http_counter(gw, "requests")
        c = Conn(gw)
        t0 = time.monotonic()
        c.send(b"".join(b"GET /m/%d/name HTTP/1.1\r\nHost: test\r\n\r\n" % i for i in range(20)))
        rs = [c.response() for _ in range(20)]
        took = time.monotonic() - t0
        codes = [r.status for r in rs]
        ok = codes.count(200)
        assert codes[:5] == [200] * 5, codes
        assert 5 <= ok <= 5 + int(took) + 1, "%d served in %.2f s: %s" % (ok, took, codes)
        assert set(codes) == {200, 429}, codes
        for r in rs:
            if r.status == 429:
                assert r.get("retry-after") == "1", r
                assert "close" not in r.tokens("connection"), r
                assert r.body == b"429 Too Many Requests\n", r
        # B is not limited by A's empty bucket
        bs = connect_from(gw, SECOND_IP, ports_to(env, SECOND_IP, 0, 1)[0])
        b = sock_conn(bs)
        get_on(bs)
        r = b.response()
        assert r.status == 200 and r.body == b"app", r
        # the same connection of A is served again once a token is back
        n429 = codes.count(429)

        def served():
            nonlocal n429
            get_on(c.s)
            r = c.response()
            if r.status == 429:
                n429 += 1
                return None
            return r
        r = wait_for(served, 5, "a request served again on A's connection", interval=0.2)
        assert r.status == 200 and r.body == b"app", r
        # a HEAD refused: the head only, the connection goes on
        while True:
            c.send(b"HEAD /name HTTP/1.1\r\nHost: test\r\n\r\n")
            r = c.response("HEAD")
            if r.status == 429:
                n429 += 1
                break
        assert r.get("content-length") == "22" and r.body == b"", r
        # a refused request with a body: 429, Connection: close, closed
        while True:
            c.send(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello")
            r = c.response()
            if r.status == 429:
                n429 += 1
                break
        assert "close" in r.tokens("connection"), r
        assert c.closed_by_peer(5), "connection still open after a 429 to a request with a body"
        wait_for(lambda: http_counter(gw, "err_429") - e0 == n429, 5,
                 "err_429 to count the %d answers" % n429)
        assert http_counter(gw, "requests") - q0 >= len(codes)
        FIGURES["client_req_rate_pipelined"] = {"requests": 20, "served": ok, "http_429": codes.count(429),
                                                "seconds": round(took, 3)}
    finally:
        for x in (c, b):
            if x is not None:
                x.close()
        set_limits(env, "")


@test("limits")
def client_request_rate_over_a_window(env):
    """client_limits.http_req_rate = 50, burst 1: requests one after the other on one
    keep-alive connection for about 2 s are served at 50 per second (counted: served ones
    within 10 % + 3 of 50 x the time taken); a second address is served throughout."""
    gw = env.gw
    set_limits(env, "client_limits: { http_req_rate = 50; http_req_burst = 1; };")
    c = b = None
    try:
        c = Conn(gw)
        b = sock_conn(connect_from(gw, SECOND_IP, ports_to(env, SECOND_IP, 0, 1)[0]))
        ok = refused = b_ok = 0
        t0 = time.monotonic()
        next_b = t0
        while time.monotonic() - t0 < 2.0:
            get_on(c.s)
            r = c.response()
            if r.status == 200:
                ok += 1
            else:
                assert r.status == 429, r
                refused += 1
            if time.monotonic() >= next_b:   # B: at most 10 a second (no catching up), within its own 50
                next_b = time.monotonic() + 0.1
                get_on(b.s)
                rb = b.response()
                assert rb.status == 200, rb
                b_ok += 1
        took = time.monotonic() - t0
        want = 1 + 50 * took
        FIGURES["client_req_rate_window"] = {"rate": 50, "seconds": round(took, 3), "served": ok,
                                             "http_429": refused, "expected": round(want, 1),
                                             "second_address_served": b_ok}
        assert refused > ok, "the limit never bit: %d served, %d refused" % (ok, refused)
        assert abs(ok - want) <= 0.1 * want + 3, "%d served in %.3f s, expected %.1f" % (ok, took, want)
    finally:
        for x in (c, b):
            if x is not None:
                x.close()
        set_limits(env, "")


@test("limits")
def client_conn_rate_refuses_syns(env):
    """client_limits.conn_rate = 20, conn_burst = 5: address A opening connections to one
    shard as fast as it can for about 2 s gets 5 + 20 per second of them (within 10 % + 3),
    the rest refused at the SYN with a RST and counted as client_conn_rate (exactly);
    address B connects to the same shard meanwhile."""
    gw = env.gw
    set_limits(env, "client_limits: { conn_rate = 20; conn_burst = 5; };")
    try:
        d0 = tcp_drops(gw, "client_conn_rate")
        ok = refused = b_ok = 0
        t0 = time.monotonic()
        next_b = t0
        while time.monotonic() - t0 < 2.0:
            p = ports_to(env, PEER_IP, 0, 1)[0]
            s = _try_connect(gw, PEER_IP, p)
            if s is None:
                refused += 1
            else:
                ok += 1
                abort(s)
            if time.monotonic() >= next_b:   # B: at most 4 a second (no catching up), within its own 20
                next_b = time.monotonic() + 0.25
                s = connect_from(gw, SECOND_IP, ports_to(env, SECOND_IP, 0, 1)[0])
                abort(s)
                b_ok += 1
        took = time.monotonic() - t0
        want = 5 + 20 * took
        d1 = tcp_drops(gw, "client_conn_rate")
        FIGURES["client_conn_rate"] = {"rate": 20, "burst": 5, "seconds": round(took, 3), "accepted": ok,
                                       "refused": refused, "expected": round(want, 1),
                                       "second_address_accepted": b_ok}
        assert d1[0] - d0[0] == refused and d1[1] == d0[1], "client_conn_rate %s -> %s, %d refused" % (
            d0, d1, refused)
        assert refused > ok, "the limit never bit: %d accepted, %d refused" % (ok, refused)
        assert abs(ok - want) <= 0.1 * want + 3, "%d accepted in %.3f s, expected %.1f" % (ok, took, want)
    finally:
        set_limits(env, "")


@test("drip")
def dripped_head_costs_linear_work(env):
    """A 60 KiB request head sent one byte per segment is scanned once for its end and
    parsed once (head_bytes_examined about twice its size, not once per segment: the
    quadratic re-parse a slow client could make the worker do), and answered."""
    gw = env.gw
    fields = b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"v" * 600) for i in range(100))
    head = b"GET /name HTTP/1.1\r\nHost: test\r\n" + fields + b"\r\n"
    assert 60000 <= len(head) < 65536, len(head)

    def examined():
        return sum(x["http"]["head_bytes_examined"] for x in gw.status()["shards"] if x.get("http"))
    before, pid = examined(), gw.status()["shards"][0]["pid"]
    cpu0 = worker_cpu_s(pid)
    c = Conn(gw, timeout=60)
    try:
        c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(head)):
            c.s.send(head[i:i + 1])
        r = c.response()
        assert r.status == 200 and r.body == b"app", (r.status, r.body[:200], [x["http"] for x in gw.status()["shards"]])
    finally:
        c.close()
    cpu = worker_cpu_s(pid) - cpu0
    got = examined() - before
    FIGURES["dripped_head"] = {"head_bytes": len(head), "examined": got, "worker_cpu_s": round(cpu, 3)}
    # the head, scanned once and parsed once (plus its first line and the short response head)
    assert got <= 2 * len(head) + 4096, "examined %d bytes for a %d-byte head" % (got, len(head))



@test("durable")
def tcp_passthrough_survives_kills(env):
    """64 MiB through a tcp listener at ~10 MB/s while every worker is killed each
    second; then the client half-closes: the backend's sha256 of what it got must
    match, and the answer must reach the client."""
    gw = env.gw
    n = 64 * MiB
    kills = [0]
    stop = threading.Event()

    def killer():
        while not stop.wait(1.0):
            for sh in gw.status()["shards"]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(sh["pid"], signal.SIGKILL)
                    kills[0] += 1
    s = connect(gw, 9000, timeout=60)
    th = threading.Thread(target=killer)
    th.start()
    try:
        t0 = time.monotonic()
        for b in backends.pattern_chunks(0, n, chunk=1 << 20):
            s.sendall(b)
            time.sleep(0.1)   # pace the upload so that the kills land in the middle of it
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            reply += b
        dt = time.monotonic() - t0
    finally:
        stop.set()
        th.join()
        s.close()
    gw.wait_all_ready(timeout=15)
    FIGURES["tcp_passthrough_kills"] = {"kills": kills[0], "seconds": round(dt, 1)}
    assert kills[0] >= 4, "only %d kills landed during the upload" % kills[0]
    want = b"%s %d\n" % (backends.pattern_sha256(n).encode(), n)
    assert reply == want, "after %d kills the backend got: %r, want %r" % (kills[0], reply, want)


@test("durable")
def wrk_survives_kills_and_upgrade(env):
    gw = env.gw
    result = {}

    def run():
        result["res"], result["out"] = wrk(gw, "http://10.99.0.2/small.txt", 2, 64, 30, timeout_s=4)
    th = threading.Thread(target=run)
    t_start = time.monotonic()
    th.start()
    kills, restarts, upgraded = 0, [], None
    i = 0
    while time.monotonic() - t_start < 26:
        time.sleep(max(0.0, t_start + 3 * (i + 1) - time.monotonic()))
        if i == 4 and upgraded is None:
            t0 = time.monotonic()
            out = gw.ctl("upgrade", "--binary", OTHER, check=False, timeout=120)
            assert out.returncode == 0, "upgrade: %s %s" % (out.stdout, out.stderr)
            st = gw.wait_all_ready(timeout=15)
            assert all(x["version"].endswith("-other") for x in st["shards"]), st["shards"]
            upgraded = round(time.monotonic() - t0, 2)
        else:
            st = gw.status()
            sh = st["shards"][i % len(st["shards"])]
            t0 = time.monotonic()
            os.kill(sh["pid"], signal.SIGKILL)
            kills += 1
            gw.wait_all_ready(timeout=15, exclude_pids=(sh["pid"],))
            restarts.append(round((time.monotonic() - t0) * 1e3, 1))
        i += 1
    th.join(90)
    res = result.get("res")
    FIGURES["durable_wrk"] = {"kills": kills, "restart_ms": restarts, "upgrade_s": upgraded,
                              "wrk": res}
    assert res is not None, "wrk did not finish"
    assert res["rc"] == 0 and res["requests"] > 0, result["out"]
    assert res["socket_errors"] == 0 and res["non2xx3xx"] == 0, \
        "%d kills, upgrade %s s:\n%s" % (kills, upgraded, result["out"])


@test("durable")
def download_survives_killing_all_workers(env):
    gw = env.gw
    n = 64 * MiB
    out = env.path("big.out")
    p = gw.ns_popen(["curl", "-sS", "--max-time", "120", "--limit-rate", "16M", "-H", "Host: py.test",
                     "-o", out, "-w", "%{http_code} %{size_download}", "http://10.99.0.2/size/%d" % n],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) >= 8 * MiB, 30, "8 MiB downloaded")
        at_kill = os.path.getsize(out)
        st = gw.status()
        victims = [s["pid"] for s in st["shards"]]
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        gw.wait_all_ready(timeout=15, exclude_pids=tuple(victims))
        so, se = p.communicate(timeout=150)
        dt = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    FIGURES["durable_download"] = {"bytes_at_kill": at_kill, "seconds": round(dt, 1), "curl_rc": p.returncode}
    assert p.returncode == 0, "curl exit %d: %s %s (%d bytes at the kill)" % (p.returncode, so, se, at_kill)
    code, size = so.split()
    sha = file_sha256(out)
    assert code == "200" and int(size) == n and sha == backends.pattern_sha256(n), \
        "status %s, %s bytes, sha %s" % (code, size, "ok" if sha == backends.pattern_sha256(n) else "differs")


@test("durable")
def chunked_transfers_survive_killing_all_workers(env):
    """Chunked bodies are re-framed by steps planned in the session (docs/PROXY.md
    "Durability"): every worker killed in the middle of a 32 MiB chunked download and of a
    32 MiB chunked upload; both arrive whole."""
    gw = env.gw
    n = 32 * MiB
    out = env.path("bigc.out")
    up = env.path("bigc.in")
    with open(up, "wb") as f:
        for b in backends.pattern_chunks(0, n):
            f.write(b)
    problems = []
    for kind, args, progress in (
            ("download", ["-o", out, "-w", "%{http_code} %{size_download}", "http://10.99.0.2/chunked/%d" % n],
             lambda: os.path.exists(out) and os.path.getsize(out) >= 4 * MiB),
            ("upload", ["-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + up,
                        "http://10.99.0.2/echo"], None)):
        p = gw.ns_popen(["curl", "-sS", "--max-time", "120", "--limit-rate", "8M", "-H", "Host: py.test"] + args,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if progress:
                wait_for(progress, 30, "4 MiB downloaded")
            else:
                time.sleep(1.5)   # about 12 MiB up
            victims = [sh["pid"] for sh in gw.status()["shards"]]
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
            gw.wait_all_ready(timeout=15, exclude_pids=tuple(victims))
            so, se = p.communicate(timeout=150)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        if p.returncode != 0:
            problems.append("%s: curl exit %d: %s %s" % (kind, p.returncode, so, se))
        elif kind == "download":
            code, size = so.split()
            if code != "200" or int(size) != n or file_sha256(out) != backends.pattern_sha256(n):
                problems.append("download: status %s, %s bytes, sha %s" % (
                    code, size, "ok" if file_sha256(out) == backends.pattern_sha256(n) else "differs"))
        else:
            try:
                j = json.loads(so)
            except ValueError:
                problems.append("upload: no JSON: %r" % so[:200])
                continue
            if j["length"] != n or j["sha256"] != backends.pattern_sha256(n) or not j["chunked"]:
                problems.append("upload: the backend got %d bytes, sha %s" % (j["length"], j["sha256"][:12]))
    assert not problems, "; ".join(problems)


# === 17. what reaches the server and the client: framing porter writes itself ===========
# The strict backend (8087, host strict.test) ends lines only at CRLF and records every
# byte it receives, one file per connection.

def strict_raws(env, mark):
    """The bytes of every connection to the strict backend that carried MARK."""
    d = env.path("raw-8087")
    out = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, name), "rb") as f:
            b = f.read()
        if mark.encode() in b:
            out.append(b)
    return out


def strict_raw(env, mark):
    return wait_for(lambda: (strict_raws(env, mark) or [None])[0], 5,
                    "a connection to the strict backend carrying %s" % mark)


def strict_barrier(env):
    """A good request to the strict backend, seen in its log: what porter sent before has arrived."""
    m = marker("sbarrier")
    r = one_request(env.gw, "GET", "/m/%s/name" % m, host="strict.test")
    assert r.status == 200 and r.body == b"strict", "barrier request: %r" % r
    wait_for(lambda: any(m in x for x in env.req_log(8087)), 5, "the barrier in the strict backend's log")


def bare_lfs(b):
    """Offsets of the LF bytes of B that no CR precedes."""
    return [i for i in range(len(b)) if b[i] == 10 and (i == 0 or b[i - 1] != 13)]


def http_counter(gw, name):
    return sum((sh.get("http") or {}).get(name, 0) for sh in gw.status()["shards"])


def canonical_chunked(b):
    """Parse B as a chunked body in porter's framing (sizes in lower-case hex without leading
    zeros, no extensions, CRLF line ends, an empty trailer section); return (data, rest)."""
    data = bytearray()
    p = 0
    while True:
        e = b.find(b"\r\n", p)
        assert e >= 0, "no CRLF after a chunk size at %d: %r" % (p, b[p:p + 60])
        line = b[p:e]
        assert re.fullmatch(rb"0|[1-9a-f][0-9a-f]*", line), "chunk size line %r (at %d) is not porter's" % (
            line[:80], p)
        n = int(line, 16)
        p = e + 2
        if n == 0:
            assert b[p:p + 2] == b"\r\n", "after the last chunk: %r (a trailer section?)" % b[p:p + 80]
            return bytes(data), b[p + 2:]
        assert len(b) >= p + n + 2, "chunk of %d bytes cut short at %d" % (n, p)
        assert b[p + n:p + n + 2] == b"\r\n", "no CRLF after chunk data at %d: %r" % (p + n, b[p + n:p + n + 20])
        data += b[p:p + n]
        p += n + 2


@test("shared")


def chunked_request_bare_lf_smuggling(env):
    """RFC 9112 §7.1: chunk lines end at CRLF. A body whose first chunk line ends at a bare
    LF is one request to a parser that takes LF for a line end, and two to the strict
    backend, which waits for CRLF (the LF and "xx" are chunk-extension bytes to it): porter
    must answer 400, and the backend must never read the second request."""
    gw = env.gw
    m = marker("smuggle")
    inner = ("0\r\n\r\nGET /m/%s/smuggled HTTP/1.1\r\nHost: strict.test\r\n\r\n" % m).encode()
    assert 16 <= len(inner) <= 255   # its size is two hex digits: the strict backend's 2-byte chunk
    body = b"2;\nxx\r\n" + b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"
    req = (b"POST /m/%s/echo HTTP/1.1\r\nHost: strict.test\r\nTransfer-Encoding: chunked\r\n\r\n" % m.encode()
           + body)
    problems = []
    c = Conn(gw)
    try:
        c.send(req)
        r = c.response()
        if r.status != 400:
            problems.append("a chunk line ended by a bare LF: want 400, got %r" % r)
        elif not c.closed_by_peer(5):
            problems.append("400, yet the connection stayed open")
    finally:
        c.close()
    strict_barrier(env)
    smuggled = [x for x in env.req_log(8087) if m in x and "smuggled" in x]
    if smuggled:
        problems.append("the backend read a request the client hid in a chunked body: %r" % smuggled)
    for raw in strict_raws(env, m):
        if bare_lfs(raw):
            problems.append("the backend received bare LFs: %r" % raw[:400])
    assert not problems, "; ".join(problems)


@test("shared")


def chunked_request_reframed(env):
    """RFC 9112 §7.1: a valid chunked request body with upper-case hex sizes, leading zeros,
    chunk extensions and a trailer section reaches the server in porter's own framing (sizes
    in lower-case hex, no extensions, no trailer fields), with the same data."""
    gw = env.gw
    m = marker("rechunk")
    data = b"hello" + b"0123456789" + b"x" * 300
    body = (b"0005;ext=1\r\nhello\r\n00A ; q=\"a b\";z\r\n0123456789\r\n12C\r\n" + b"x" * 300 +
            b"\r\n0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n")
    c = Conn(gw)
    try:
        c.send(b"POST /m/%s/echo HTTP/1.1\r\nHost: strict.test\r\nTransfer-Encoding: chunked\r\n\r\n"
               % m.encode() + body)
        r = c.response()
    finally:
        c.close()
    assert r.status == 200, r
    j = json.loads(r.body)
    assert j["length"] == len(data) and j["sha256"] == hashlib.sha256(data).hexdigest() and j["chunked"], j
    raw = strict_raw(env, m)
    at = raw.index(m.encode())
    head_end = raw.index(b"\r\n\r\n", at) + 4
    got, _ = canonical_chunked(raw[head_end:])
    assert got == data, "the backend got data %r" % got[:100]
    assert b"X-Trailer" not in raw[at:] and b"ext=" not in raw[at:], raw[at:at + 600]


@test("shared")


def chunked_response_reframed(env):
    """RFC 9112 §7.1, responses: a chunked response with upper-case hex, leading zeros,
    extensions and a trailer section reaches the client in porter's own framing."""
    n = 20000
    c = Conn(env.gw)
    try:
        c.send(b"GET /chunked-ext/%d HTTP/1.1\r\nHost: strict.test\r\nConnection: close\r\n\r\n" % n)
        raw = c.read_to_eof()
    finally:
        c.close()
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"HTTP/1.1 200"), raw[:300]
    assert b"transfer-encoding: chunked" in head.lower(), head
    got, rest = canonical_chunked(body)
    assert got == backends.pattern(0, n), "body differs (%d bytes)" % len(got)
    assert rest == b"", "bytes after the body: %r" % rest[:100]


@test("shared")


def chunked_response_bare_lf_not_forwarded(env):
    """A chunked response whose chunk lines end at a bare LF: porter does not pass that
    framing on. The head has gone to the client already, so the exchange is cut short (the
    client sees an incomplete body or only the reset, never the server's framing);
    upstream_bad_chunked counts it."""
    gw = env.gw
    before = http_counter(gw, "upstream_bad_chunked")
    c = Conn(gw)
    got = bytearray()
    try:
        c.send(b"GET /chunked-lf/3000 HTTP/1.1\r\nHost: strict.test\r\n\r\n")
        c.s.settimeout(5)
        while True:
            try:
                b = c.s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                raise AssertionError("the connection stayed open; the client got %r" % bytes(got[:300]))
            if not b:
                break
            got += b
    finally:
        c.close()
    # the reset may overtake the head (nothing at all), never the server's framing
    head, sep, body = bytes(got).partition(b"\r\n\r\n")
    assert not got or (sep and head.startswith(b"HTTP/1.1 200")), bytes(got[:300])
    assert not body.startswith(b"1\n"), "the server's bare-LF framing reached the client: %r" % body[:100]
    wait_for(lambda: http_counter(gw, "upstream_bad_chunked") == before + 1, 3, "upstream_bad_chunked + 1")


@test("shared")


def content_length_forwarded_once(env):
    """RFC 9110 §8.6: repeated identical Content-Length values (fields or a list) reach the
    server as exactly one Content-Length."""
    problems = []
    for cl in ("Content-Length: 5\r\nContent-Length: 5", "Content-Length: 5, 5", "Content-Length: 005",
               "content-length: 5,5\r\nX-Between: 1\r\nContent-Length: 5"):
        m = marker("cl")
        c = Conn(env.gw)
        try:
            c.send(("POST /m/%s/headers HTTP/1.1\r\nHost: strict.test\r\n%s\r\n\r\nhello" % (m, cl)).encode())
            r = c.response()
        finally:
            c.close()
        if r.status != 200:
            problems.append("%r: status %d %r" % (cl, r.status, r.body[:100]))
            continue
        got = [v for k, v in json.loads(r.body)["headers"] if k.lower() == "content-length"]
        if got != ["5"]:
            problems.append("%r: the backend got Content-Length %r" % (cl, got))
    assert not problems, "; ".join(problems)


@test("shared")


def transfer_encoding_regenerated(env):
    """The Transfer-Encoding porter sends is its own: one field, lower-case codings, chunked last."""
    problems = []
    for te, want in (("Transfer-Encoding: , ChUnKeD ,", "chunked"),
                     ("Transfer-Encoding: GZIP\r\ntransfer-encoding: chunked", "gzip, chunked")):
        m = marker("te")
        c = Conn(env.gw)
        try:
            c.send(("POST /m/%s/headers HTTP/1.1\r\nHost: strict.test\r\n%s\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                    % (m, te)).encode())
            r = c.response()
        finally:
            c.close()
        if r.status != 200:
            problems.append("%r: status %d %r" % (te, r.status, r.body[:100]))
            continue
        got = [v for k, v in json.loads(r.body)["headers"] if k.lower() == "transfer-encoding"]
        if got != [want]:
            problems.append("%r: the backend got Transfer-Encoding %r, want [%r]" % (te, got, want))
    assert not problems, "; ".join(problems)


@test("shared")


def absolute_form_target_sets_host(env):
    """RFC 9112 §3.2.2: with an absolute-form target the target's authority wins over Host;
    porter routes on it, sends it as Host and the target in origin-form."""
    m = marker("absform")
    c = Conn(env.gw)
    try:
        c.send(b"GET http://strict.test:80/m/%s/headers?x=1 HTTP/1.1\r\nHost: test\r\n\r\n" % m.encode())
        r = c.response()
    finally:
        c.close()
    assert r.status == 200, r
    j = json.loads(r.body)
    hosts = [v for k, v in j["headers"] if k.lower() == "host"]
    problems = []
    if j["backend"] != "strict":
        problems.append("routed to %r, not by the target's authority" % j["backend"])
    if j["request_line"] != "GET /m/%s/headers?x=1 HTTP/1.1" % m:
        problems.append("request line %r, want origin-form" % j["request_line"])
    if hosts != ["strict.test:80"]:
        problems.append("Host %r, want ['strict.test:80'] (the target's authority)" % hosts)
    assert not problems, "; ".join(problems)


@test("shared")


def unsolicited_101_is_502(env):
    """RFC 9110 §7.8: a server may switch only to a protocol the client asked for. A 101 to a
    request without Upgrade, or naming a protocol the client did not offer, is a bad
    response: 502, the server connection closed (never pooled, never a tunnel), counted in
    upstream_bad_upgrade."""
    gw = env.gw
    before = http_counter(gw, "upstream_bad_upgrade")
    for tag, target, extra, want in (
            ("noup", "/upgrade-always", b"", 502),
            ("h2c", "/upgrade-always?proto=h2c", b"Connection: Upgrade\r\nUpgrade: websocket\r\n", 502),
            ("ws", "/upgrade-always?proto=WebSocket", b"Connection: Upgrade\r\nUpgrade: websocket\r\n", 101)):
        m = marker("up101" + tag)
        c = Conn(gw)
        try:
            c.send(b"GET /m/%s%s HTTP/1.1\r\nHost: strict.test\r\n%s\r\n" % (m.encode(), target.encode(), extra))
            r = c.response()
            if want == 101:
                assert r.status == 101, "offered websocket, 101 to WebSocket: %r" % r
                c.send(b"ping %s" % m.encode())
                assert c.read_n(5 + len(m)) == b"ping %s" % m.encode()
                continue
            if r.status == 101:
                # porter would now relay the client's bytes to the server unparsed
                c.send(b"GET /m/%s/tunneled HTTP/1.1\r\nHost: strict.test\r\n\r\n" % m.encode())
                raise AssertionError("%s: the server's 101 opened a tunnel: %r; the backend then read %r" % (
                    tag, r, c.read_until(b"\r\n\r\n")))
            assert r.status == want, "%s: want %d, got %r" % (tag, want, r)
            assert c.closed_by_peer(5), "%s: 502, yet the connection stayed open" % tag
        finally:
            c.close()
        wait_for(lambda: any(m in x and x.startswith("TUNNEL-END") for x in env.req_log(8087)), 5,
                 "%s: porter to close its connection to the server" % tag)
    assert http_counter(gw, "upstream_bad_upgrade") == before + 2, \
        "upstream_bad_upgrade %d -> %d" % (before, http_counter(gw, "upstream_bad_upgrade"))
    strict_barrier(env)


@test("shared")


def h2c_upgrade_never_passed_on(env):
    """RFC 9113 §3.1 (h2c deprecated) and h2c smuggling: an Upgrade: h2c goes upstream as a
    plain request (no Upgrade, no HTTP2-Settings, Connection not upgrade), and a server that
    switches to h2c anyway gets a 502, not a tunnel past porter's parsing."""
    m = marker("h2c")
    c = Conn(env.gw)
    try:
        c.send(b"GET /m/%s/headers HTTP/1.1\r\nHost: strict.test\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n" % m.encode())
        r = c.response()
    finally:
        c.close()
    assert r.status == 200, r
    j = json.loads(r.body)
    names = [k.lower() for k, _ in j["headers"]]
    conn = [v.lower() for k, v in j["headers"] if k.lower() == "connection"]
    assert "upgrade" not in names and "http2-settings" not in names and conn == ["keep-alive"], \
        "the backend saw %r" % j["headers"]
    before = http_counter(env.gw, "upstream_bad_upgrade")
    m = marker("h2c101")
    c = Conn(env.gw)
    try:
        c.send(b"GET /m/%s/upgrade-always?proto=h2c HTTP/1.1\r\nHost: strict.test\r\n"
               b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
               b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n" % m.encode())
        r = c.response()
        if r.status == 101:
            raise AssertionError("porter tunnelled an h2c switch: %r" % r)
        assert r.status == 502, r
    finally:
        c.close()
    assert http_counter(env.gw, "upstream_bad_upgrade") == before + 1
    wait_for(lambda: any(m in x and x.startswith("TUNNEL-END") for x in env.req_log(8087)), 5,
             "porter to close its connection to the server")
    strict_barrier(env)


@test("shared")


def max_forwards_zero_answered_by_porter(env):
    """RFC 9110 §7.6.2: OPTIONS and TRACE carrying Max-Forwards are forwarded with the value
    one less, and at 0 porter is the final recipient: 200 with Allow to OPTIONS, 405 to TRACE
    (porter does not reflect requests). Nothing reaches the backend then, the connection
    stays usable, and max_forwards_0 counts the answers."""
    gw = env.gw
    before = http_counter(gw, "max_forwards_0")
    m = marker("mf0")
    c = Conn(gw)
    try:
        c.send(b"OPTIONS /m/%s/headers HTTP/1.1\r\nHost: strict.test\r\nMax-Forwards: 0\r\n\r\n" % m.encode())
        r = c.response("OPTIONS")
        assert r.status == 200 and r.body == b"" and "GET" in (r.get("allow") or ""), r
        c.send(b"TRACE /m/%s/headers HTTP/1.1\r\nHost: strict.test\r\nMax-Forwards: 0\r\n\r\n" % m.encode())
        r = c.response("TRACE")
        assert r.status == 405 and "GET" in (r.get("allow") or "") and "TRACE" not in r.get("allow"), r
        c.send(b"OPTIONS /m/%s/headers HTTP/1.1\r\nHost: strict.test\r\nMax-Forwards: 5\r\n\r\n" % m.encode())
        r = c.response("OPTIONS")
        assert r.status == 200, r
        mf = [v for k, v in json.loads(r.body)["headers"] if k.lower() == "max-forwards"]
        assert mf == ["4"], "the backend got Max-Forwards %r, want ['4']" % mf
    finally:
        c.close()
    seen = [x for x in env.req_log(8087) if m in x]
    assert len(seen) == 1 and seen[0].startswith("OPTIONS"), \
        "the backend saw %r: only the OPTIONS with Max-Forwards 5 should reach it" % seen
    assert http_counter(gw, "max_forwards_0") == before + 2


@test("shared")


def interim_responses_not_to_http10(env):
    """RFC 9110 §15.2: no 1xx response to an HTTP/1.0 client (an HTTP/1.1 one gets the 103)."""
    c = Conn(env.gw)
    try:
        r = c.request("GET", "/early-hints", host="strict.test", version="HTTP/1.0")
    finally:
        c.close()
    assert r.status == 200 and r.body == b"hinted", r
    assert not r.interim, "HTTP/1.0 client got interim responses %r" % r.interim
    c = Conn(env.gw)
    try:
        r = c.request("GET", "/early-hints", host="strict.test")
    finally:
        c.close()
    assert r.status == 200 and [x.status for x in r.interim] == [103], (r, r.interim)


# === upstream servers as the gateway's objects (porterctl servers / server) =================

SERVERS_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = (
  { name = "solo"; servers = ( { address = "10.99.0.1:8081"; } ); %(t)s
    health_check = { path = "/health"; interval_ms = 150; timeout_ms = 100; rise = 1; fall = 1; }; },
  { name = "pair"; balance = "round_robin";
    servers = ( { address = "10.99.0.1:8081"; }, { address = "10.99.0.1:8082"; }, { address = "10.99.0.1:8099"; } );
    %(t)s keepalive = { max_idle = 8; idle_timeout_ms = 60000; };
    health_check = { path = "/health"; interval_ms = 150; timeout_ms = 100; rise = 1; fall = 1; }; } );
routes = ( { host = "solo.test"; upstream = "solo"; }, { upstream = "pair"; } );
""" % {"t": UP_TIMEOUTS}


def servers_of(gw):
    out = gw.ctl("--json", "servers").stdout
    j = json.loads(out)
    assert j["ok"] is True, j
    return {"%s/%s" % (x["upstream"], x["server"]): x for x in j["servers"]}


def names_served(gw, n, host="test"):
    got = {}
    for _ in range(n):
        r = one_request(gw, "GET", "/name", host=host)
        key = r.body.decode() if r.status == 200 else r.status
        got[key] = got.get(key, 0) + 1
    return got


@test()
def servers_one_checker_each_and_operator_states(_):
    """Active health checks: one shard checks each server for the whole gateway (the other
    shard sends it none) and every shard honours its verdict (the dead :8099 gets no
    request from either). porterctl servers shows each server; porterctl server
    drain/disable/enable takes one out of and back into rotation, disable also stops its
    checks, and the state survives a reload."""
    env = Env(SERVERS_CONF)
    failed = True
    try:
        gw = env.gw
        env.http_backend(8081, "a")
        env.http_backend(8082, "b")
        wait_for(lambda: (lambda v: v if v["pair/10.99.0.1:8099"]["check_down"] and
                          v["pair/10.99.0.1:8081"]["last_check"] == "ok" else None)(servers_of(gw)),
                 10, "the checks to find :8099 down and :8081 up")
        # each server is checked by exactly one shard: solo/:8081 is slot 0 (shard 0), so shard 1 ran no
        # check of it; pair's three servers are slots 32, 33, 34 (shards 0, 1, 0)
        v = servers_of(gw)
        assert [v[k]["checked_by_shard"] for k in ("solo/10.99.0.1:8081", "pair/10.99.0.1:8081",
                                                   "pair/10.99.0.1:8082", "pair/10.99.0.1:8099")] == [0, 0, 1, 0], v
        # shard 1 checks :8082 only, shard 0 the other three at the same interval: about 3:1 (were
        # every shard checking every server, as before, it would be 1:1)
        def ratio():
            st = gw.status()
            c = [sh["http"]["health_ok"] + sh["http"]["health_fail"] for sh in st["shards"]]
            return c if c[1] >= 10 else None
        checks = wait_for(ratio, 10, "ten checks in shard 1")
        assert checks[0] >= 2 * checks[1] - 2, "checks per shard %r, want about 3:1" % checks
        got = names_served(gw, 20)
        assert set(got) == {"a", "b"}, "requests went to %r (never to the dead :8099)" % got
        text = gw.ctl("servers").stdout
        assert "pair" in text and "10.99.0.1:8099" in text and "closed or refused" in text, text
        # drain :8081 in pair: no new request goes there, its checks go on
        out = gw.ctl("server", "drain", "pair/10.99.0.1:8081").stdout
        assert "drain" in out, out
        assert names_served(gw, 12) == {"b": 12}
        age0 = servers_of(gw)["pair/10.99.0.1:8081"]["last_check_age_ms"]
        assert 0 <= age0 < 2000, age0
        # disable: no checks either (its last check ages), still no traffic; solo's :8081 is another server
        gw.ctl("server", "disable", "pair/10.99.0.1:8081")
        wait_for(lambda: servers_of(gw)["pair/10.99.0.1:8081"]["last_check_age_ms"] > 1000, 5,
                 "the disabled server's checks to stop")
        assert names_served(gw, 6) == {"b": 6}
        assert names_served(gw, 3, host="solo.test") == {"a": 3}
        v = servers_of(gw)
        assert v["pair/10.99.0.1:8081"]["admin"] == "disabled" and v["solo/10.99.0.1:8081"]["admin"] == "enabled", v
        # a reload keeps the state (by upstream and address)
        gw.ctl("reload")
        assert servers_of(gw)["pair/10.99.0.1:8081"]["admin"] == "disabled"
        assert names_served(gw, 6) == {"b": 6}
        # both out (and :8099 down again: a reload starts the servers' health afresh): 503
        wait_for(lambda: servers_of(gw)["pair/10.99.0.1:8099"]["check_down"], 5, ":8099 checked down again")
        gw.ctl("server", "disable", "pair/10.99.0.1:8082")
        assert names_served(gw, 2) == {503: 2}
        gw.ctl("server", "enable", "pair/10.99.0.1:8081")
        gw.ctl("server", "enable", "pair/10.99.0.1:8082")
        wait_for(lambda: set(names_served(gw, 10)) == {"a", "b"}, 5, "both servers back in rotation")
        bad = gw.ctl("server", "disable", "pair/10.99.0.1:9999", check=False)
        assert bad.returncode == 1 and "no server" in bad.stderr, bad.stderr
        bad = gw.ctl("server", "pause", "pair/10.99.0.1:8081", check=False)
        assert bad.returncode == 1 and "usage" in bad.stderr, bad.stderr
        failed = False
    finally:
        env.close(failed)


# === metrics and the status page (docs/OPERATIONS.md "Metrics") ===========================

def http_get_local(gw, path, port=9180):
    """GET PATH from the primary's metrics endpoint (127.0.0.1 in the gateway's namespace)."""
    s = connect(gw, port, host="127.0.0.1")
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: porter\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def prom_value(text, name, **labels):
    """The sum of the samples of NAME whose labels include LABELS."""
    total, seen = 0.0, False
    for ln in text.splitlines():
        if ln.startswith("#") or not ln.startswith(name):
            continue
        m = re.match(r"([a-z_]+)(\{(.*)\})? (\S+)$", ln)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(4))
            seen = True
    assert seen, "no sample %s%r in the metrics" % (name, labels)
    return total


@test("shared")
def metrics_endpoint_passes_promtool_and_counts(env):
    """GET /metrics (metrics.listen, served by the primary from shared memory): the text
    passes `promtool check metrics`, and what a few requests did shows up: responses by
    status class, the latency histogram, the upstream server's requests, TCP streams."""
    gw = env.gw
    st, head, body = http_get_local(gw, "/metrics")
    assert st == 200 and "version=0.0.4" in head, head
    before = body.decode()
    m = marker("prom")
    for path, want in (("/m/%s/name" % m, 200), ("/m/%s/nope" % m, 404), ("/m/%s/name" % m, 200)):
        assert one_request(gw, "GET", path).status == want
    c = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=60)
    assert c.returncode == 0, "promtool: %s%s" % (c.stdout.decode(), c.stderr.decode())

    def grew():
        after = http_get_local(gw, "/metrics")[2].decode()
        ok2 = prom_value(after, "porter_http_responses_total", **{"class": "2xx"}) - \
            prom_value(before, "porter_http_responses_total", **{"class": "2xx"})
        ok4 = prom_value(after, "porter_http_responses_total", **{"class": "4xx"}) - \
            prom_value(before, "porter_http_responses_total", **{"class": "4xx"})
        return after if ok2 >= 2 and ok4 >= 1 else None
    after = wait_for(grew, 5, "the three exchanges in porter_http_responses_total")
    n = prom_value(after, "porter_http_request_duration_seconds_count")
    assert prom_value(after, "porter_http_request_duration_seconds_bucket", le="+Inf") == n >= 3
    assert prom_value(after, "porter_upstream_server_requests_total", upstream="app") >= 3
    assert prom_value(after, "porter_upstream_server_up", upstream="app", server="10.99.0.1:8081") == 1
    assert prom_value(after, "porter_shard_up") == len(gw.status()["shards"])
    assert prom_value(after, "porter_port_rx_frames_total", port="front") > 0
    assert prom_value(after, "porter_listener_requests_total", listener="80", protocol="http") - \
        prom_value(before, "porter_listener_requests_total", listener="80", protocol="http") >= 3
    st, _, _ = http_get_local(gw, "/nothing")
    assert st == 404


@test("shared")
def prometheus_scrapes_porter(env):
    """Debian's prometheus, run in the test's namespace, scrapes the endpoint every second:
    the target is up and porter's series are queryable through its API."""
    gw = env.gw
    d = env.path("prometheus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "prometheus.yml"), "w") as f:
        f.write("global: { scrape_interval: 1s, scrape_timeout: 1s }\n"
                "scrape_configs:\n  - job_name: porter\n    static_configs: [ { targets: ['127.0.0.1:9180'] } ]\n")
    log = open(os.path.join(d, "log"), "w")
    prom = gw.ns_popen(["prometheus", "--config.file=" + os.path.join(d, "prometheus.yml"),
                        "--storage.tsdb.path=" + os.path.join(d, "data"), "--web.listen-address=127.0.0.1:9190"],
                       stdout=log, stderr=subprocess.STDOUT)
    try:
        def query(q):
            try:
                st, _, body = http_get_local(gw, "/api/v1/query?query=" + q, port=9190)
            except OSError:
                return None
            if st != 200:
                return None
            res = json.loads(body)["data"]["result"]
            return res or None
        up = wait_for(lambda: query("up%7Bjob%3D%22porter%22%7D"), 30, "prometheus to scrape porter")
        assert up[0]["value"][1] == "1", up
        series = wait_for(lambda: query("porter_http_responses_total"), 15, "porter's series in prometheus")
        assert len(series) >= 6, series
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        log.close()


@test("shared")
def status_page_renders_in_chromium(env):
    """GET /status in headless Chromium (the page fills its tables from /status.json): the
    shards show ready, the port is there, the upstream servers are listed; a screenshot is
    taken (kept in the build directory)."""
    gw = env.gw
    assert one_request(gw, "GET", "/name").status == 200
    ud = env.path("chromium")
    shot = os.path.join(BUILD, "status-page.png")
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + ud,
            "--virtual-time-budget=5000", "--window-size=1200,1000"]
    r = gw.ns(base + ["--dump-dom", "http://127.0.0.1:9180/status"], check=False, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout

    def rows(table):
        m = re.search(r'<table id="%s">.*?<tbody>(.*?)</tbody>' % table, dom, re.S)
        return re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S) if m else []
    shards, ports, servers = rows("shards"), rows("ports"), rows("servers")
    assert len(shards) == len(gw.status()["shards"]) and all(">ready<" in x for x in shards), shards
    assert len(ports) == 1 and ">front<" in ports[0], ports
    assert any(">app<" in x and ">10.99.0.1:8081<" in x and ">up<" in x for x in servers), servers
    r = gw.ns(base + ["--screenshot=" + shot, "http://127.0.0.1:9180/status"], check=False, timeout=180)
    assert r.returncode == 0 and os.path.getsize(shot) > 10000, r.stderr[-2000:]
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


# === stopping and signals (docs/OPERATIONS.md "Signals", "Stopping") =======================

STOP_CONF = """
tcp: { max_streams_per_shard = 1024; time_wait_ms = 1000; };
listeners = ( { port = 80; protocol = "http"; },
              { port = 9000; protocol = "tcp"; upstream = "rawsha"; } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } );
                keepalive = { max_idle = 32; idle_timeout_ms = 60000; };
                timeouts = { connect_ms = 1000; read_ms = 10000; write_ms = 5000; }; },
              { name = "rawsha"; servers = ( { address = "10.99.0.1:9001"; } ); } );
routes = ( { upstream = "app"; } );
http = { header_timeout_ms = 5000; idle_timeout_ms = 60000; access_log = "@DIR@/access.log"; };
"""


def stop_env(drain_ms):
    return app_env([lambda e: e.http_backend(8081, "app"), lambda e: e.backend("tcpsha", 9001)], STOP_CONF,
                   workers_extra="drain_timeout_ms = %d;" % drain_ms)


def hugepage_leftovers(gw):
    found = glob.glob("/dev/hugepages/%s*" % gw.prefix)
    if os.path.exists("/var/run/dpdk/%s" % gw.prefix):
        found.append("/var/run/dpdk/%s" % gw.prefix)
    return found


def log_says(gw, text, timeout=5):
    wait_for(lambda: text in gw.log_text(), timeout, "%r in the primary's log" % text)


@test()
def sigquit_stops_gracefully(_none):
    """SIGQUIT, nginx's graceful stop: new connections are refused at once (RST), an idle
    keep-alive client is closed, a pass-through tunnel and a request in flight go on; the
    response says Connection: close and its connection closes after it; once every stream
    is closed (the tunnel's client ends it) the gateway exits 0, long before the drain
    timeout, and leaves nothing behind."""
    env = stop_env(20000)
    failed = True
    try:
        gw = env.gw
        busy, idle = Conn(gw), Conn(gw)
        r = idle.request("GET", "/name")
        assert r.status == 200 and r.body == b"app", r
        tun = connect(gw, 9000)
        tun.sendall(b"x" * 1000)
        busy.send(b"GET /slow/1500 HTTP/1.1\r\nHost: test\r\n\r\n")
        wait_for(lambda: any("/slow/1500" in x for x in env.req_log(8081)), 5, "the slow request upstream")
        t0 = time.monotonic()
        gw.proc.send_signal(signal.SIGQUIT)
        log_says(gw, "stopping gracefully")
        assert idle.closed_by_peer(5), "the idle keep-alive client was not closed"
        idle.close()   # as a browser does on a FIN: porter's side then leaves FIN-WAIT-2
        try:
            connect(gw, 80, 2).close()
            raise AssertionError("a new connection was accepted while stopping")
        except ConnectionRefusedError:
            pass
        r = busy.response()
        assert r.status == 200 and r.body == b"slept 1500", r
        assert "close" in r.tokens("connection"), "no Connection: close in %r" % r
        assert busy.closed_by_peer(5), "the client of the finished exchange was not closed"
        busy.close()
        assert gw.proc.poll() is None, "the gateway left while a tunnel was open"
        tun.sendall(b"y" * 1000)           # the tunnel still relays
        tun.shutdown(socket.SHUT_WR)
        got = b""
        tun.settimeout(5)
        while True:
            b = tun.recv(65536)
            if not b:
                break
            got += b
        tun.close()
        want = hashlib.sha256(b"x" * 1000 + b"y" * 1000).hexdigest().encode()
        assert want in got, "tunnel answer %r, want the sha256 of the 2000 bytes" % got
        rc = gw.proc.wait(timeout=10)
        took = time.monotonic() - t0
        FIGURES["graceful_stop_s"] = round(took, 2)
        assert rc == 0, "exit code %s\n%s" % (rc, log_tail(gw))
        assert took < 15, "the stop took %.1f s: it waited for the drain timeout" % took
        assert not hugepage_leftovers(gw), hugepage_leftovers(gw)
        failed = False
    finally:
        env.close(failed)


@test()
def drain_timeout_ends_what_is_left(_none):
    """porterctl drain with workers.drain_timeout_ms = 500: a request still in flight then is
    reset (the client sees a reset, not a truncated 200), a pass-through tunnel gets a FIN,
    and the gateway exits 0 about a second later."""
    env = stop_env(500)
    failed = True
    try:
        gw = env.gw
        busy = Conn(gw)
        busy.send(b"GET /slow/8000 HTTP/1.1\r\nHost: test\r\n\r\n")
        wait_for(lambda: any("/slow/8000" in x for x in env.req_log(8081)), 5, "the slow request upstream")
        tun = connect(gw, 9000)
        tun.sendall(b"z" * 100)
        t0 = time.monotonic()
        out = gw.ctl("--json", "drain").stdout
        assert '"ok":true' in out, out
        busy.s.settimeout(5)
        try:
            b = busy.s.recv(65536)
            raise AssertionError("the exchange cut by the drain timeout got %r, not a reset" % b[:200])
        except ConnectionResetError:
            pass
        tun.settimeout(5)
        assert tun.recv(65536) == b"", "the tunnel got no FIN"
        tun.close()
        rc = gw.proc.wait(timeout=10)
        took = time.monotonic() - t0
        FIGURES["drain_timeout_stop_s"] = round(took, 2)
        assert rc == 0, "exit code %s\n%s" % (rc, log_tail(gw))
        assert 0.4 < took < 5, "stopped after %.2f s (drain timeout 0.5 s, then 1 s for the FINs)" % took
        assert "drain timeout" in gw.log_text(), log_tail(gw)
        failed = False
    finally:
        env.close(failed)


@test()
def sigterm_resets_every_stream(_none):
    """SIGTERM (and porterctl stop), the fast stop: every open stream is reset before the
    gateway exits (a client is not left waiting on a dead peer), exit code 0."""
    env = stop_env(20000)
    failed = True
    try:
        gw = env.gw
        busy, idle = Conn(gw), Conn(gw)
        assert idle.request("GET", "/name").status == 200
        busy.send(b"GET /slow/8000 HTTP/1.1\r\nHost: test\r\n\r\n")
        wait_for(lambda: any("/slow/8000" in x for x in env.req_log(8081)), 5, "the slow request upstream")
        gw.proc.send_signal(signal.SIGTERM)
        for name, c in (("in flight", busy), ("idle", idle)):
            c.s.settimeout(5)
            try:
                b = c.s.recv(65536)
                raise AssertionError("%s client: %r instead of a reset" % (name, b[:200]))
            except ConnectionResetError:
                pass
        assert gw.proc.wait(timeout=10) == 0, log_tail(gw)
        failed = False
    finally:
        env.close(failed)


@test()
def usr1_reopens_access_logs_and_other_signals_are_ignored(_none):
    """SIGUSR1 (a log rotation): after mv access.log access.log.1 the workers open
    access.log again and write new lines there. USR2, WINCH, ALRM, TSTP and a real-time
    signal are logged as ignored and the gateway goes on serving."""
    env = stop_env(20000)
    failed = True
    try:
        gw = env.gw
        m1, m2 = marker("rot1"), marker("rot2")
        assert one_request(gw, "GET", "/m/%s/name" % m1).status == 200
        wait_for(lambda: any(m1 in x for x in read_lines(env.access_log)), 5, "the first line")
        os.rename(env.access_log, env.access_log + ".1")
        gw.proc.send_signal(signal.SIGUSR1)
        log_says(gw, "SIGUSR1")
        wait_for(lambda: os.path.exists(env.access_log), 5, "access.log to be opened again")
        assert one_request(gw, "GET", "/m/%s/name" % m2).status == 200
        wait_for(lambda: any(m2 in x for x in read_lines(env.access_log)), 5, "the new line in access.log")
        assert not any(m2 in x for x in read_lines(env.access_log + ".1")), "a line went to the moved file"
        for sig in (signal.SIGUSR2, signal.SIGWINCH, signal.SIGALRM, signal.SIGTSTP, signal.SIGRTMIN + 3):
            gw.proc.send_signal(sig)
            log_says(gw, "signal %d (" % sig)
            assert gw.proc.poll() is None, "signal %d ended the gateway" % sig
            assert one_request(gw, "GET", "/name").status == 200
        st = gw.status()
        assert all(sh["state"] == "ready" for sh in st["shards"]), st["shards"]
        # a reload opens the log again too (mv + reload, the path unchanged)
        m3 = marker("rot3")
        os.rename(env.access_log, env.access_log + ".2")
        gw.ctl("reload")
        assert one_request(gw, "GET", "/m/%s/name" % m3).status == 200
        wait_for(lambda: any(m3 in x for x in read_lines(env.access_log)), 5, "the line after mv + reload")
        # the control socket names every command it knows when it gets one it does not
        import socket as so
        c = so.socket(so.AF_UNIX, so.SOCK_STREAM)
        c.settimeout(5)
        c.connect(gw.sock)
        c.sendall(b"bogus\n")
        reply = c.recv(4096).decode()
        c.close()
        assert "unknown command" in reply and all(w in reply for w in ("reload", "drain", "stop", "servers")), reply
        # porterctl stop: the fast stop, exit 0
        assert "stopping" in gw.ctl("stop").stdout
        assert gw.proc.wait(timeout=10) == 0, log_tail(gw)
        failed = False
    finally:
        env.close(failed)


# === rate limits (tcp_pace.c; docs/CONFIG.md "Rate limits") ==============================

RATE = 2000000          # bytes per second, each way
RATE_CONF = """
listeners = ( { port = 80; protocol = "http"; },
              { port = 9002; protocol = "tcp"; upstream = "rawsrc"; rate_limit = %(r)d; } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } );
                keepalive = { max_idle = 32; idle_timeout_ms = 60000; };
                timeouts = { connect_ms = 1000; read_ms = 30000; write_ms = 30000; }; },
              { name = "rawsrc"; servers = ( { address = "10.99.0.1:9003"; } ); } );
routes = ( { host = "slow.test"; upstream = "app"; rate_limit = %(r)d; },
           { upstream = "app"; } );
client_limits = { rate_limit = %(r)d; rate_limit_from = "%(ip)s/32"; };
""" % {"r": RATE, "ip": SECOND_IP}


def ratelimit_start(env):
    env.gw.ns(["ip", "addr", "add", SECOND_IP + "/24", "dev", env.gw.iface])
    env.http_backend(8081, "app")
    env.backend("tcpsource", 9003)


GROUPS["ratelimit"] = lambda: app_env([ratelimit_start], RATE_CONF, workers=2)


def porter_retransmits(gw):
    return sum(sh["tcp"]["events"]["retransmits"] for sh in gw.status()["shards"] if sh.get("tcp"))


def kernel_retransmits(gw):
    """What the Linux ends (clients, backends) in the gateway's namespace resent for a loss:
    TcpRetransSegs less the retransmissions porter reported as duplicates (D-SACK: the
    original had arrived; a tail loss probe fired because an ACK came late on a busy host)."""
    k = json.loads(gw.ns(["nstat", "-a", "-z", "-j"]).stdout)["kernel"]
    return k["TcpRetransSegs"] - k["TcpExtTCPDSACKRecvSegs"]


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def check_rate(what, nbytes, dt, problems, figures):
    got = nbytes / dt
    figures[what] = round(got / 1e6, 3)
    if not 0.95 * RATE <= got <= 1.05 * RATE:
        problems.append("%s: %.3f MB/s, not %.1f MB/s +-5 %%" % (what, got / 1e6, RATE / 1e6))


@test("ratelimit")
def rate_limit_route_both_ways_beside_an_unlimited_client(env):
    """A route limited to 2 MB/s: a 12 MiB download and a 12 MiB upload on it each get
    2 MB/s +-5 % and retransmit nothing, neither porter nor the Linux ends (the limit is
    pacing and the window, not drops); then, with an unlimited 64 MiB download on the same
    listener beside it, the limited download still gets its 2 MB/s and the unlimited one
    runs far faster (its own retransmissions, if the tap's queue drops frames at that
    speed, are not the limit's)."""
    gw = env.gw
    n, big = 12 * MiB, 64 * MiB
    up = env.path("rate-up")
    with open(up, "wb") as f:
        f.write(os.urandom(n))
    want_up = file_sha256(up)
    problems, figs, res = [], {}, {}

    def limited_download():
        (code, size), dt = timed(lambda: curl_get(gw, "http://10.99.0.2/size/%d" % n, env.path("slow.out"),
                                                 ["-H", "Host: slow.test"]))
        if code != 200 or size != n or file_sha256(env.path("slow.out")) != backends.pattern_sha256(n):
            problems.append("limited download: status %d, %d bytes" % (code, size))
        return dt

    def limited_upload():
        r, dt = timed(lambda: curl(gw, ["-X", "POST", "--data-binary", "@" + up, "-H", "Host: slow.test",
                                        "-H", "Content-Type: application/octet-stream", "http://10.99.0.2/echo"]))
        try:
            j = json.loads(r.stdout)
            if j["sha256"] != want_up or j["length"] != n:
                problems.append("limited upload: the backend got %d bytes, sha differs" % j["length"])
        except ValueError:
            problems.append("limited upload: curl exit %d %r" % (r.returncode, r.stdout[:200]))
        return dt

    r0, k0 = porter_retransmits(gw), kernel_retransmits(gw)
    check_rate("limited down", n, limited_download(), problems, figs)
    check_rate("limited up", n, limited_upload(), problems, figs)
    rx, kx = porter_retransmits(gw) - r0, kernel_retransmits(gw) - k0
    if rx or kx:
        problems.append("retransmissions of the limited transfers: porter %d, Linux %d" % (rx, kx))

    def free_download():
        res["free"] = timed(lambda: curl_get(gw, "http://10.99.0.2/size/%d" % big, env.path("free.out")))

    th = threading.Thread(target=free_download)
    th.start()
    dt = limited_download()
    th.join()
    check_rate("limited down, unlimited beside", n, dt, problems, figs)
    (code, size), fdt = res["free"]
    figs["unlimited beside"] = round(size / fdt / 1e6, 1)
    if code != 200 or size != big or size / fdt < 5 * RATE:
        problems.append("unlimited download beside: status %d, %d bytes at %.1f MB/s" % (code, size,
                                                                                     size / fdt / 1e6))
    FIGURES["rate_limit_route_MBps"] = figs
    st = gw.status()["shards"]
    if sum(sh["tcp"]["events"].get("rate_limited_streams", 0) for sh in st) < 2:
        problems.append("rate_limited_streams not counted")
    assert not problems, "; ".join(problems) + " (%s)" % figs


@test("ratelimit")
def rate_limit_by_client_address_and_listener(env):
    """client_limits.rate_limit holds the address in rate_limit_from (the same request from
    another address runs free); listeners[i].rate_limit holds a pass-through stream."""
    gw = env.gw
    n = 8 * MiB
    problems, figs = [], {}
    (code, size), dt = timed(lambda: curl_get(gw, "http://10.99.0.2/size/%d" % n, env.path("a.out"),
                                             ["--interface", SECOND_IP]))
    if code != 200 or size != n:
        problems.append("client %s: status %d, %d bytes" % (SECOND_IP, code, size))
    check_rate("client address", n, dt, problems, figs)
    (code, size), dt = timed(lambda: curl_get(gw, "http://10.99.0.2/size/%d" % n, env.path("b.out")))
    figs["other address"] = round(size / dt / 1e6, 1)
    if code != 200 or size != n or size / dt < 5 * RATE:
        problems.append("client %s (no limit): status %d, %d bytes at %.1f MB/s" % (PEER_IP, code, size,
                                                                                size / dt / 1e6))
    # the pass-through listener on 9002: the backend sends N bytes, porter relays them at the limit
    s = connect(gw, 9002, timeout=30)
    try:
        t0 = time.monotonic()
        s.sendall(b"%d\n" % n)
        got = 0
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += len(b)
        dt = time.monotonic() - t0
    finally:
        s.close()
    if got != n:
        problems.append("pass-through: %d bytes" % got)
    check_rate("listener (pass-through)", n, dt, problems, figs)
    FIGURES["rate_limit_client_listener_MBps"] = figs
    assert not problems, "; ".join(problems) + " (%s)" % figs


def main():
    argv = sys.argv
    only = argv[argv.index("-k") + 1].split(",") if "-k" in argv else None
    selected = [t for t in TESTS if only is None or any(o in t.__name__ for o in only)]
    counts = {"passed": 0, "failed": 0}

    def report(name, err, t0, env=None):
        dt = time.monotonic() - t0
        if err is None:
            counts["passed"] += 1
            print("[PASS] %s (%.1fs)" % (name, dt), flush=True)
        else:
            counts["failed"] += 1
            tail = ("\n--- primary log (tail) ---\n" + log_tail(env.gw)) if env is not None else ""
            print("[FAIL] %s (%.1fs)\n%s%s" % (name, dt, err, tail), flush=True)

    order = []
    for t in selected:
        if t.group not in order:
            order.append(t.group)
    for g in order:
        tests = [t for t in selected if t.group == g]
        if g is None:
            for t in tests:
                t0 = time.monotonic()
                try:
                    t(None)
                    report(t.__name__, None, t0)
                except Exception:
                    report(t.__name__, traceback.format_exc(), t0)
            continue
        t0 = time.monotonic()
        try:
            env = GROUPS[g]()
        except Exception:
            for t in tests:
                report(t.__name__, "group %s setup failed:\n%s" % (g, traceback.format_exc()), t0)
            continue
        try:
            for t in tests:
                t0 = time.monotonic()
                try:
                    t(env)
                    report(t.__name__, None, t0)
                except Exception:
                    report(t.__name__, traceback.format_exc(), t0, env)
        finally:
            env.close()

    print("figures: " + json.dumps(FIGURES, indent=1))
    with open(os.path.join(BUILD, "integration-figures-proxy.json"), "w") as f:
        json.dump(FIGURES, f, indent=1)
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    return 1 if counts["failed"] else 0


# === slow request bodies (http.body_timeout_ms, body_min_rate) ===========================

def _read_all(s, deadline):
    out = b""
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    return out


@test("slowbody")
def body_drip_ends_at_body_timeout(env):
    """A body dripped a byte every 0.2 s (5 B/s, never idle as long as the upstream's
    write_ms of 30 s) is answered 408 and closed once body_timeout_ms (1.5 s) plus one
    second per body_min_rate (100) bytes received has gone by: about 2.2 s here, not
    never. Before http.body_timeout_ms such a client held its connection and an upstream
    connection for as long as it kept dripping."""
    gw = env.gw
    s = connect(gw)
    try:
        head = b"POST /echo HTTP/1.1\r\nHost: good.test\r\nContent-Length: 1000\r\n\r\n"
        t0 = time.monotonic()
        s.sendall(head)
        got = b""
        while time.monotonic() - t0 < 8 and not got:
            time.sleep(0.2)
            try:
                s.send(b"x")
            except OSError:
                break
            s.setblocking(False)
            try:
                got = s.recv(65536)
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
            s.setblocking(True)
        s.setblocking(True)
        got += _read_all(s, time.monotonic() + 3)
        took = time.monotonic() - t0
        assert got.startswith(b"HTTP/1.1 408"), "after %.1fs: %r" % (took, got[:200])
        assert 1.4 <= took <= 5.0, "408 after %.2fs, want about 2.2s" % took
    finally:
        s.close()


@test("slowbody")
def body_at_min_rate_is_not_cut(env):
    """A 3000-byte body sent at 600 B/s (above body_min_rate = 100) takes 5 s, longer than
    body_timeout_ms (1.5 s): each byte received extends the deadline, so it goes through."""
    gw = env.gw
    s = connect(gw)
    try:
        body = backends.pattern(0, 3000)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n"
                  b"Content-Length: 3000\r\n\r\n")
        t0 = time.monotonic()
        for i in range(0, 3000, 60):
            s.sendall(body[i:i + 60])
            time.sleep(0.1)
        got = _read_all(s, time.monotonic() + 5)
        took = time.monotonic() - t0
        assert took > 4.5, took
        assert got.startswith(b"HTTP/1.1 200"), got[:300]
        assert hashlib.sha256(body).hexdigest().encode() in got, got[-300:]
    finally:
        s.close()


if __name__ == "__main__":
    sys.exit(main())
