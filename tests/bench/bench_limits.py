#!/usr/bin/env python3
"""One hostile client address against client_limits (docs/CONFIG.md), and a legitimate one.

  python3 tests/bench/bench_limits.py [--seconds 5] [--skip-memory]

Run as root. Not a test: it asserts nothing; it prints the figures (JSON to
$PORTER_BUILD/bench-limits.json).

A gateway of the integration harness (net_tap, 2 workers, tcp.max_streams_per_shard 1024)
proxies to nginx in its namespace. The attacker is the tap's own address (10.99.0.1, so
wrk can be it); the legitimate client is a second address on the tap (10.99.0.3). Each
flood runs twice, with the limits off and then on (a reload in between, nothing
restarted), and the legitimate client's requests are counted:

  hold      the attacker opens as many connections as it can (up to --hold) and keeps
            them idle; then the client makes --legit requests, a new connection each.
            On: max_conns = 64 (per shard).
  churn     the attacker connects and resets (SO_LINGER 0) as fast as 4 threads can for
            --seconds; meanwhile the client makes 20 requests a second, a new connection
            each. On: conn_rate = 50, conn_burst = 50 (per shard).
  requests  wrk -t2 -c32 keep-alive from the attacker for --seconds; meanwhile the client
            makes 20 requests a second on one keep-alive connection.
            On: http_req_rate = 100, http_req_burst = 100 (per shard).

For each: the client's success rate (a 200 with the body; anything else, a refusal or a
timeout is a failure), its latency p50 / p99, what the attacker got, and porter's
counters (client_conn_limit, client_conn_rate, err_429). Then the memory of the table:
the status' figure and each worker's resident memory with table_size 0 and with the
largest table (4194304 entries), idle (--skip-memory leaves that out).
"""
import argparse
import contextlib
import json
import os
import resource
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from harness import BUILD, PEER_IP, PORTER_IP, Gateway, Nginx, in_netns, parse_wrk, wait_for  # noqa: E402

LEGIT_IP = "10.99.0.3"
LEGIT_RATE = 20          # the legitimate client's connections (churn) or requests (requests) per second
NGINX_PORT = 8085
BODY = b"x" * 100

BASE = """
tcp: { max_streams_per_shard = 1024; time_wait_ms = 1000; };
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "ngx"; servers = ( { address = "10.99.0.1:%d"; } );
                keepalive = { max_idle = 64; idle_timeout_ms = 60000; }; } );
routes = ( { upstream = "ngx"; } );
http = { header_timeout_ms = 5000; idle_timeout_ms = 60000; };
@LIMITS@
""" % NGINX_PORT

OFF = "client_limits: { table_size = 65536; };"
ON = {
    "hold": "client_limits: { max_conns = 64; };",
    "churn": "client_limits: { conn_rate = 50; conn_burst = 50; };",
    "requests": "client_limits: { http_req_rate = 100; http_req_burst = 100; };",
}


def start_nginx(gw, d):
    """nginx serving BODY as /100 on NGINX_PORT (no access log), files in D."""
    return Nginx(gw, NGINX_PORT, d, {"100": BODY}, access_log=False)


def sock_from(gw, src, timeout=2.0):
    with in_netns(gw.netns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    return s


def rst_close(s):
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def read_response(s, buf):
    """One response (Content-Length bodies only) from S; returns (status, body, rest)."""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed")
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed mid-body")
        rest += b
    return status, rest[:n], rest[n:]


REQ = b"GET /100 HTTP/1.1\r\nHost: bench\r\n\r\n"


def one_new_connection(gw):
    """A request on a new connection from the legitimate address: (ok, seconds)."""
    t0 = time.monotonic()
    s = sock_from(gw, LEGIT_IP)
    try:
        s.connect((PORTER_IP, 80))
        s.sendall(REQ)
        st, body, _ = read_response(s, b"")
        return st == 200 and body == BODY, time.monotonic() - t0
    except (OSError, EOFError):
        return False, time.monotonic() - t0
    finally:
        rst_close(s)


def summary(results):
    lat = sorted(t for ok, t in results if ok)
    ok = sum(1 for r in results if r[0])
    return {"requests": len(results), "ok": ok,
            "success_rate": round(ok / len(results), 4) if results else None,
            "p50_ms": round(statistics.median(lat) * 1e3, 2) if lat else None,
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3, 2) if lat else None}


def counters(gw):
    st = gw.status()
    out = {"client_conn_limit": 0, "client_conn_rate": 0, "err_429": 0, "streams": 0}
    for sh in st["shards"]:
        out["client_conn_limit"] += sh["tcp"]["drops"]["client_conn_limit"]
        out["client_conn_rate"] += sh["tcp"]["drops"]["client_conn_rate"]
        out["err_429"] += (sh.get("http") or {}).get("err_429", 0)
        out["streams"] += sh["tcp"]["streams"]
    return out


def delta(a, b):
    return {k: b[k] - a[k] for k in a if k != "streams"}


def settle(gw):
    """Wait (bounded) until porter holds almost no stream (the previous phase's are gone)."""
    with contextlib.suppress(AssertionError):
        wait_for(lambda: counters(gw)["streams"] <= 4, 20, "the streams to drain", interval=0.1)


def reload(gw, conf_path, text):
    with open(conf_path + ".tmp", "w") as f:
        f.write(text)
    os.rename(conf_path + ".tmp", conf_path)
    out = gw.ctl("reload", check=False)
    if out.returncode != 0:
        raise RuntimeError("reload: %s %s" % (out.stdout, out.stderr))
    gen = gw.status()["proxy"]["generation"]
    wait_for(lambda: all((sh.get("http") or {}).get("config_generation") == gen for sh in gw.status()["shards"]),
             5, "workers on generation %d" % gen)


def hold(gw, args):
    socks, refused, other = [], 0, 0
    t0 = time.monotonic()
    for _ in range(args.hold):
        s = sock_from(gw, None)
        try:
            s.connect((PORTER_IP, 80))
            socks.append(s)
        except ConnectionRefusedError:
            refused += 1
            s.close()
        except OSError:
            other += 1
            s.close()
    opened = time.monotonic() - t0
    try:
        legit = [one_new_connection(gw) for _ in range(args.legit)]
    finally:
        for s in socks:
            rst_close(s)
    return {"attacker": {"attempts": args.hold, "held": len(socks), "refused": refused, "failed": other,
                         "seconds": round(opened, 2)}, "client": summary(legit)}


def churn(gw, args):
    stop = threading.Event()
    got = {"ok": 0, "refused": 0, "other": 0}
    lock = threading.Lock()

    def attacker():
        n = {"ok": 0, "refused": 0, "other": 0}
        while not stop.is_set():
            s = sock_from(gw, None, 1.0)
            try:
                s.connect((PORTER_IP, 80))
                n["ok"] += 1
            except ConnectionRefusedError:
                n["refused"] += 1
            except OSError:
                n["other"] += 1
            rst_close(s)
        with lock:
            for k in n:
                got[k] += n[k]
    th = [threading.Thread(target=attacker) for _ in range(4)]
    for t in th:
        t.start()
    legit = []
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < args.seconds:
            t = time.monotonic()
            legit.append(one_new_connection(gw))
            time.sleep(max(0.0, t + 1.0 / LEGIT_RATE - time.monotonic()))
    finally:
        stop.set()
        for t in th:
            t.join()
    took = time.monotonic() - t0
    return {"attacker": dict(got, seconds=round(took, 2),
                             accepted_per_s=round(got["ok"] / took, 1)),
            "client": summary(legit)}


def requests(gw, args):
    wrk = gw.ns_popen(["wrk", "-t2", "-c32", "-d%ds" % args.seconds, "--timeout", "4s",
                       "-H", "Host: bench", "http://%s/100" % PORTER_IP],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.3)   # let wrk get going (a figure, not a test)
    legit = []
    s = sock_from(gw, LEGIT_IP, 4.0)
    buf = b""
    t0 = time.monotonic()
    try:
        s.connect((PORTER_IP, 80))
        while wrk.poll() is None and time.monotonic() - t0 < args.seconds - 0.5:
            t = time.monotonic()
            try:
                s.sendall(REQ)
                st, body, buf = read_response(s, buf)
                legit.append((st == 200 and body == BODY, time.monotonic() - t))
            except (OSError, EOFError):
                legit.append((False, time.monotonic() - t))
                rst_close(s)
                s = sock_from(gw, LEGIT_IP, 4.0)
                s.connect((PORTER_IP, 80))
                buf = b""
            time.sleep(max(0.0, t + 1.0 / LEGIT_RATE - time.monotonic()))
    finally:
        rst_close(s)
    out, _ = wrk.communicate(timeout=args.seconds + 30)
    w = parse_wrk(out)
    return {"attacker": {"requests": w["requests"], "rps": w["rps"], "non_2xx": w["non2xx3xx"],
                         "served_per_s": round((w["requests"] - w["non2xx3xx"]) / args.seconds, 1),
                         "socket_errors": w["socket_errors"]},
            "client": dict(summary(legit), rps=round(len(legit) / (time.monotonic() - t0), 1))}


def worker_rss_kib(gw):
    out = []
    for sh in gw.status()["shards"]:
        with open("/proc/%d/status" % sh["pid"]) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]))
    return out


def memory(args):
    res = {}
    for size in (0, 4194304):
        gw = Gateway(workers=1, extra=BASE.replace("@LIMITS@", "client_limits: { table_size = %d; };" % size))
        with gw:
            st = gw.status()
            time.sleep(0.5)
            res[str(size)] = {"status_bytes": st["shards"][0]["tcp"]["client_table"]["bytes"],
                              "worker_rss_kib": worker_rss_kib(gw)[0]}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--hold", type=int, default=2500)
    ap.add_argument("--legit", type=int, default=200)
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    lim = max(resource.getrlimit(resource.RLIMIT_NOFILE)[0], args.hold + 1024)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim, max(lim, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
    fig = {"workers": 2, "max_streams_per_shard": 1024}
    gw = Gateway(workers=2, extra=BASE.replace("@LIMITS@", OFF))
    ngx = None
    with gw:
        gw.ns(["ip", "addr", "add", LEGIT_IP + "/24", "dev", gw.iface])
        os.chmod(gw.dir, 0o755)   # nginx's workers are not root
        d = os.path.join(gw.dir, "nginx")
        os.makedirs(d)
        ngx = start_nginx(gw, d)
        try:
            base = open(gw.conf).read()
            for name, fn in (("hold", hold), ("churn", churn), ("requests", requests)):
                fig[name] = {}
                for mode in ("off", "on"):
                    reload(gw, gw.conf, base.replace(OFF, OFF if mode == "off" else ON[name]))
                    settle(gw)
                    c0 = counters(gw)
                    r = fn(gw, args)
                    r["porter"] = delta(c0, counters(gw))
                    if name == "churn":
                        # what porter let through: the handshakes of the 4 threads overlap, and one
                        # that completes past the limit is reset at its ACK after connect() returned
                        a = r["attacker"]
                        a["porter_accepted"] = a["ok"] + a["refused"] + a["other"] - \
                            r["porter"]["client_conn_rate"] - r["porter"]["client_conn_limit"]
                        a["porter_accepted_per_s"] = round(a["porter_accepted"] / a["seconds"], 1)
                    r["limits"] = OFF if mode == "off" else ON[name]
                    fig[name][mode] = r
                    print(name, mode, json.dumps(r), flush=True)
            reload(gw, gw.conf, base)
            fig["client_table"] = gw.status()["shards"][0]["tcp"]["client_table"]
        finally:
            ngx.stop()
    if not args.skip_memory:
        fig["memory"] = memory(args)
        print("memory", json.dumps(fig["memory"]), flush=True)
    with open(os.path.join(BUILD, "bench-limits.json"), "w") as f:
        json.dump(fig, f, indent=1)
    print(json.dumps(fig, indent=1))


if __name__ == "__main__":
    main()
