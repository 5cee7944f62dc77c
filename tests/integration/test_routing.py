#!/usr/bin/env python3
"""Integration suite for outbound routing (shm/route.h): a two-armed gateway.

Clients are in the gateway's namespace on port 0's subnet (10.99.0.0/24);
the servers are in a second namespace that holds port 1's tap (10.98.0.1 on
10.98.0.0/24) and, on its loopback, hosts "behind" 10.98.0.1 (10.97.0.1,
reached by a static route; 10.96.0.1, reached by port 1's gateway). Nothing
in the client namespace routes to the servers, and the server namespace
knows only its own subnet: a connection porter opened from the wrong port or
source address gets no answer, so these tests fail if porter routes wrongly.

Run as root: python3 tests/integration/test_routing.py [-k NAME]
Ends with "N passed, N failed".
"""
import hashlib
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import BACK_PEER_IP, PEER_IP, PORTER_IP, GatewayEnv, connect, in_netns, run_suite, wait_for  # noqa: E402
import backends  # noqa: E402

FAR_IP = "10.97.0.1"       # behind 10.98.0.1, static route
DEFAULT_IP = "10.96.0.1"   # behind 10.98.0.1, port 1's gateway
NOWHERE_IP = "192.0.2.1"   # no route at all (TEST-NET-1)
TESTS = []
FIGURES = {}


def test(fn):
    TESTS.append(fn)
    return fn


# --- helpers ---------------------------------------------------------------------------

def http_get(gw, path, host="test", port=80, timeout=10.0):
    """One request on a new connection (Connection: close); returns (status, headers, body)."""
    s = connect(gw, port, timeout)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode())
        buf = bytearray()
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            buf += b
    finally:
        s.close()
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/1."), "no response: %r" % bytes(buf[:200])
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return status, headers, body


def wait_up(gw, host, body):
    """Health checks may have marked the server down before it listened: wait
    until requests for HOST are answered by it on every shard (6 in a row)."""
    def ok():
        return all(http_get(gw, "/name", host=host)[2] == body for _ in range(6))
    wait_for(ok, 15, "%s served by %r" % (host, body), interval=0.1)


def port_stats(st, name):
    return next(p for p in st["ports"] if p["name"] == name)


def http_sum(st, key):
    return sum((sh.get("http") or {}).get(key, 0) for sh in st["shards"])


def no_route_drops(st):
    return {p["name"]: p["drops"]["no_route"] for p in st["ports"]}


def assert_no_route_drops(gw):
    st = gw.status()
    assert all(v == 0 for v in no_route_drops(st).values()), \
        "the primary dropped worker frames for lack of a route: %r" % no_route_drops(st)
    return st


def unreachable_from_clients(gw, addr, port):
    """The topology check: the client namespace itself cannot reach ADDR:PORT."""
    with in_netns(gw.netns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((addr, port))
    except OSError:
        return True
    finally:
        s.close()
    return False


# --- the two-armed gateway ------------------------------------------------------------

TWO_ARMED_CONF = """
static_routes = ( { to = "10.97.0.0/24"; via = "%(back_peer)s"; } );
listeners = ( { port = 80; protocol = "http"; },
              { port = 9000; protocol = "tcp"; upstream = "rawsha"; },
              { port = 9002; protocol = "tcp"; upstream = "nowhere"; } );
upstreams = (
  { name = "back"; servers = ( { address = "%(back_peer)s:8081"; } );
    timeouts = { connect_ms = 1000; read_ms = 5000; write_ms = 5000; };
    health_check = { path = "/health"; interval_ms = 200; timeout_ms = 150; rise = 2; fall = 2; }; },
  { name = "far"; servers = ( { address = "%(far)s:8082"; } );
    timeouts = { connect_ms = 1000; read_ms = 5000; write_ms = 5000; };
    health_check = { path = "/health"; interval_ms = 200; timeout_ms = 150; rise = 2; fall = 2; }; },
  { name = "front"; servers = ( { address = "%(peer)s:8083"; } );
    timeouts = { connect_ms = 1000; read_ms = 5000; write_ms = 5000; }; },
  { name = "nowhere"; servers = ( { address = "%(nowhere)s:80"; } );
    timeouts = { connect_ms = 1000; read_ms = 5000; write_ms = 5000; }; },
  { name = "rawsha"; servers = ( { address = "%(back_peer)s:9001"; } ); } );
routes = ( { host = "far.test"; upstream = "far"; },
           { host = "front.test"; upstream = "front"; },
           { host = "nowhere.test"; upstream = "nowhere"; },
           { upstream = "back"; } );
""" % {"back_peer": BACK_PEER_IP, "far": FAR_IP, "peer": PEER_IP, "nowhere": NOWHERE_IP}


class Env(GatewayEnv):
    """The two-armed gateway (port 0 without a gateway) and its backends (harness.GatewayEnv)."""

    def __init__(self):
        super().__init__("porter-routing-it-", extra=TWO_ARMED_CONF, back=True, front_gateway=None,
                         back_addrs=(FAR_IP,))
        try:
            gw = self.gw
            self.health_flag = self.path("back-health-fail")
            self.http_backend(8081, "back", "--bind", BACK_PEER_IP, "--health-fail", self.health_flag,
                              popen=gw.back_popen)
            self.http_backend(8082, "far", "--bind", FAR_IP, popen=gw.back_popen)
            self.backend("tcpsha", 9001, "--bind", BACK_PEER_IP, popen=gw.back_popen)
            self.backend("http", 8083, "--bind", PEER_IP, "--name", "front")
            wait_up(gw, "test", b"back")
        except BaseException:
            self.close(True)
            raise


@test
def topology_needs_porter(env):
    """The servers are out of the clients' reach but through porter's port 1."""
    gw = env.gw
    assert unreachable_from_clients(gw, BACK_PEER_IP, 8081), "the client namespace reaches the backend itself"
    assert unreachable_from_clients(gw, FAR_IP, 8082), "the client namespace reaches the far backend itself"
    # the back namespace knows its own subnet only: it cannot answer port 0's address
    r = gw.back_ns(["ip", "route", "get", PORTER_IP], check=False)
    assert r.returncode != 0, "the backend namespace has a route to %s: %s" % (PORTER_IP, r.stdout)


@test
def proxied_requests_leave_by_the_servers_port(env):
    gw = env.gw
    before = port_stats(gw.status(), "back")["tx_frames"]
    for i in range(20):
        status, _, body = http_get(gw, "/m/two-armed-%d/name" % i)
        assert status == 200 and body == b"back", "request %d: %d %r" % (i, status, body[:200])
    status, _, body = http_get(gw, "/size/200000")
    assert status == 200 and body == backends.pattern(0, 200000), \
        "200000-byte body: %d, %d bytes" % (status, len(body))
    st = assert_no_route_drops(gw)
    sent = port_stats(st, "back")["tx_frames"] - before
    assert sent >= 20, "port 1 sent %d frames for 20 proxied requests" % sent
    assert any("two-armed-19" in ln for ln in env.req_log(8081)), "the backend did not log the requests"


@test
def one_armed_upstream_on_the_clients_port(env):
    """An upstream on port 0's subnet is still reached from port 0."""
    for i in range(5):
        status, _, body = http_get(env.gw, "/name", host="front.test")
        assert status == 200 and body == b"front", "request %d: %d %r" % (i, status, body[:200])
    assert_no_route_drops(env.gw)


@test
def health_checks_reach_the_server_behind_port_1(env):
    gw = env.gw
    st0 = gw.status()
    ok0, fail0 = http_sum(st0, "health_ok"), http_sum(st0, "health_fail")
    # checks every 200 ms per shard and server: several succeed within a few seconds
    wait_for(lambda: http_sum(gw.status(), "health_ok") >= ok0 + 8, 10, "8 more successful health checks")
    st = assert_no_route_drops(gw)
    assert http_sum(st, "health_fail") == fail0, \
        "health checks failed: %d -> %d" % (fail0, http_sum(st, "health_fail"))
    assert any("/health" in ln for ln in env.req_log(8081)), "the back server logged no health check"
    wait_for(lambda: any("/health" in ln for ln in env.req_log(8082)), 5,
             "a health check in the far server's log")
    # the checks see the server: failing /health marks it down (503), passing brings it back
    open(env.health_flag, "w").close()
    try:
        wait_for(lambda: http_get(gw, "/name")[0] == 503, 10, "back marked down by failing health checks",
                 interval=0.1)
    finally:
        os.unlink(env.health_flag)
    wait_for(lambda: all(http_get(gw, "/name")[0] == 200 for _ in range(6)), 10,
             "back marked up again (on every shard) by passing health checks", interval=0.1)
    assert_no_route_drops(gw)


@test
def tcp_pass_through_to_a_server_behind_port_1(env):
    gw = env.gw
    data = os.urandom(3 * 1024 * 1024 + 7)
    s = connect(gw, 9000, timeout=30)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        buf = bytearray()
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
    finally:
        s.close()
    want = b"%s %d\n" % (hashlib.sha256(data).hexdigest().encode(), len(data))
    assert bytes(buf) == want, "pass-through answer %r, want %r" % (bytes(buf[:200]), want)
    assert_no_route_drops(gw)


@test
def static_route_through_a_next_hop(env):
    """10.97.0.1 is on no port's subnet: the static route sends it via 10.98.0.1."""
    gw = env.gw
    wait_up(gw, "far.test", b"far")
    for i in range(10):
        status, _, body = http_get(gw, "/name", host="far.test")
        assert status == 200 and body == b"far", "request %d: %d %r" % (i, status, body[:200])
    status, _, body = http_get(gw, "/chunked/100000", host="far.test")
    assert status == 200 and body.endswith(b"0\r\n\r\n"), "chunked through the next hop: %d" % status
    st = assert_no_route_drops(gw)
    assert st["static_routes"] == [{"to": "10.97.0.0/24", "via": BACK_PEER_IP, "port": "back"}], \
        st["static_routes"]
    text = gw.ctl("status").stdout
    assert "static route 10.97.0.0/24 via %s (port back)" % BACK_PEER_IP in text, text
    # the next hop is what porter resolved, not the far address
    neigh = {n["ipv4"]: n for n in st["neighbours"]}
    assert BACK_PEER_IP in neigh and neigh[BACK_PEER_IP]["port"] == 1, "neighbours: %r" % st["neighbours"]
    assert FAR_IP not in neigh, "porter ARPed for %s, which is behind a router: %r" % (FAR_IP, st["neighbours"])


@test
def no_route_answers_503_and_counts(env):
    gw = env.gw
    st0 = gw.status()
    nr0, e0 = http_sum(st0, "upstream_no_route"), http_sum(st0, "err_503")
    t0 = time.monotonic()
    for i in range(5):
        status, _, _ = http_get(gw, "/name", host="nowhere.test")
        assert status == 503, "request %d to an unroutable server: %d" % (i, status)
    dt = time.monotonic() - t0
    assert dt < 3, "5 unroutable requests took %.2f s (no connect should be tried)" % dt
    st = assert_no_route_drops(gw)   # nothing was sent: the worker never opened the stream
    assert http_sum(st, "upstream_no_route") == nr0 + 5, \
        "upstream_no_route %d -> %d" % (nr0, http_sum(st, "upstream_no_route"))
    assert http_sum(st, "err_503") == e0 + 5
    # tcp pass-through to it: the client connection is closed or reset at once, counted too
    s = connect(gw, 9002, timeout=5)
    try:
        s.sendall(b"hello")
        try:
            got = s.recv(100)
        except ConnectionResetError:
            got = b""
        assert got == b"", "pass-through with no route answered %r" % got
    finally:
        s.close()
    wait_for(lambda: http_sum(gw.status(), "upstream_no_route") == nr0 + 6, 5,
             "upstream_no_route counting the pass-through")
    assert_no_route_drops(gw)
    # nothing leaks: no session and no stream is left behind, the other routes still work
    wait_for(lambda: http_sum(gw.status(), "sessions") == 0, 5, "no proxy session left")
    status, _, body = http_get(gw, "/name")
    assert status == 200 and body == b"back", (status, body)


# --- a gateway whose servers are reached through port 1's gateway ------------------------

DEFAULT_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "dflt"; servers = ( { address = "%s:8084"; } );
                timeouts = { connect_ms = 1000; read_ms = 5000; write_ms = 5000; };
                health_check = { path = "/health"; interval_ms = 200; timeout_ms = 150; rise = 2; fall = 2; }; } );
routes = ( { upstream = "dflt"; } );
""" % DEFAULT_IP


def default_route_through_port_1_gateway(_):
    """Port 0 has no gateway, port 1 has: a destination on no subnet and no static
    route leaves by port 1 to its gateway."""
    env = GatewayEnv("porter-routing-it-", extra=DEFAULT_CONF, back=True, front_gateway=None,
                     back_gateway=BACK_PEER_IP, back_addrs=(DEFAULT_IP,))
    gw = env.gw
    failed = True
    try:
        env.backend("http", 8084, "--bind", DEFAULT_IP, "--name", "dflt", popen=gw.back_popen)
        assert unreachable_from_clients(gw, DEFAULT_IP, 8084), "the client namespace reaches the backend"
        wait_up(gw, "test", b"dflt")
        for i in range(10):
            status, _, body = http_get(gw, "/name")
            assert status == 200 and body == b"dflt", "request %d: %d %r" % (i, status, body[:200])
        # checks may have failed before the backend listened; from a success on, none fails
        wait_for(lambda: http_sum(gw.status(), "health_ok") >= 2, 10, "health checks through the gateway")
        st = gw.status()
        ok1, fail1 = http_sum(st, "health_ok"), http_sum(st, "health_fail")
        wait_for(lambda: http_sum(gw.status(), "health_ok") >= ok1 + 6, 10, "6 more successful health checks")
        st = assert_no_route_drops(gw)
        assert http_sum(st, "health_fail") == fail1, "health checks failed: %d -> %d" % (
            fail1, http_sum(st, "health_fail"))
        assert http_sum(st, "upstream_no_route") == 0
        failed = False
    finally:
        env.close(failed)


def main():
    return run_suite(TESTS + [default_route_through_port_1_gateway], FIGURES,
                     "integration-figures-routing.json", make_env=Env, shared_arg="env")


if __name__ == "__main__":
    sys.exit(main())
