#!/usr/bin/env python3
"""Floods against a porter gateway, with legitimate clients beside them (issue 11 §4).

  python3 tests/bench/bench_flood.py [--only syn|conn|slow] [--runs 2] [--wire tap|afpacket]
                                      [--seconds 10]

Run as root. Not a test: it asserts nothing; it prints the figures (JSON to
$PORTER_BUILD/bench-flood.json). Needs nginx, and the build's tests/synflood and
tests/burst_client (PORTER_BUILD=DIR picks the build).

A gateway of the integration harness (2 workers; net_tap by default, --wire afpacket puts
it on net_af_packet over a veth) proxies HTTP to nginx in its namespace (10.99.0.1:8085,
GET /100: 100 bytes) and, for POST /echo, to tests/integration/backends.py (10.99.0.1:8086,
reads the whole body, then answers). The legitimate client is a second address on the
peer side, 10.99.0.3; floods come from 10.99.0.1 (and, for the SYN flood, from spoofed
addresses). Each scenario runs --runs times on a fresh gateway:

  syn    synflood (C, AF_PACKET, sendmmsg) sends spoofed SYNs to port 80 from random
         public addresses and ports as fast as it can for --seconds (their SYN-ACKs go to
         the gateway address and die there). Meanwhile the client makes a new connection
         and a GET every 1/--legit-rate s. Default tcp settings (syn_backlog 1024,
         syncookies on). Figures: SYNs sent and what porter saw (port counters, the tap's
         own drops), the client's success (200 within 5 s), connect latency p50/p99/max and
         how many connects needed a SYN retransmission (>= 1 s), porter's cookie and
         backlog counters, CPU of porter and of the generator.
  conn   tcp.max_streams_per_shard = 1024 on 2 shards. The client holds 4 keep-alive
         connections and makes requests on them throughout (before, during, after).
         burst_client opens --conn-clients (2600) keep-alive connections from 10.99.0.1
         and 10.99.0.4-7, each makes one request and idles, held for --hold s. At the
         peak, the client also tries 20 new connections (how are they refused?). Figures:
         what the flood got, the keep-alive client's success and latency per phase,
         porter's drop counters, and memory before / at the peak / after (workers' RSS,
         mempool in use, streams, hugepage files of the prefix).
  slow   http.header_timeout_ms = 5000, the upstreams' timeouts.write_ms = 5000.
         --slow-conns (500) connections each, three variants in turn:
           heads        drip a request head one byte a second (never complete)
           body_stall   a whole head (Content-Length 1000000), 10 body bytes, then nothing
           body_drip    the same head, then one body byte a second
         and then body_drip again after a reload with http.body_timeout_ms = 5000,
         body_min_rate = 500 ("body_drip+body_timeout").
         held for at most 4 x 5 s; the client makes new-connection GETs beside them at
         --legit-rate. Figures: when porter closed each connection (after its first
         byte, or its last one for body_stall), what it answered (408?), how many were
         still open at the end, err_408, and the client's success and latency.
"""
import argparse
import contextlib
import glob
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
sys.path.insert(0, HERE)
from harness import (BUILD, PEER_IP, PORTER_IP, PORTER_MAC, AfPacketGateway, Backend,  # noqa: E402
                     Gateway, cpu_ns, in_netns, wait_for)
from bench_limits import BODY, REQ, read_response, reload, rst_close, start_nginx  # noqa: E402

LEGIT_IP = "10.99.0.3"
FLOOD_SRCS = ["10.99.0.1", "10.99.0.4", "10.99.0.5", "10.99.0.6", "10.99.0.7"]
PY_PORT = 8086
SYNFLOOD = os.path.join(BUILD, "tests", "synflood")
BURST = os.path.join(BUILD, "tests", "burst_client")

LISTEN = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "ngx"; servers = ( { address = "10.99.0.1:8085"; } );
                keepalive = { max_idle = 64; idle_timeout_ms = 60000; }; %s },
              { name = "py"; servers = ( { address = "10.99.0.1:%d"; } ); %s } );
routes = ( { path = "/echo"; upstream = "py"; }, { upstream = "ngx"; } );
"""

SYN_CONF = LISTEN % ("", PY_PORT, "")
CONN_CONF = "tcp: { max_streams_per_shard = 1024; };\n" + LISTEN % ("", PY_PORT, "")
SLOW_T = {"header_timeout_ms": 5000, "write_ms": 5000}
BODY_LIMIT = "body_timeout_ms = 5000; body_min_rate = 500; "
SLOW_CONF = ("tcp: { max_streams_per_shard = 8192; };\n"
             "http: { header_timeout_ms = %d; };\n" % SLOW_T["header_timeout_ms"] +
             LISTEN % ("timeouts = { write_ms = %d; };" % SLOW_T["write_ms"], PY_PORT,
                       "timeouts = { write_ms = %d; };" % SLOW_T["write_ms"]))


# --- helpers -------------------------------------------------------------------------------

def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))] * 1e3, 2) if xs else None


def lat_summary(results):
    """results: (ok, seconds[, connect_seconds]) tuples."""
    ok = [r for r in results if r[0]]
    lat = [r[1] for r in ok]
    out = {"attempts": len(results), "ok": len(ok),
           "success_pct": round(100.0 * len(ok) / len(results), 2) if results else None,
           "p50_ms": round(statistics.median(lat) * 1e3, 2) if lat else None,
           "p99_ms": pct(lat, 0.99), "max_ms": round(max(lat) * 1e3, 2) if lat else None}
    if results and len(results[0]) > 2:
        con = [r[2] for r in results if r[2] is not None]
        out["connect_ms"] = {"p50": round(statistics.median(con) * 1e3, 2) if con else None,
                             "p99": pct(con, 0.99), "max": round(max(con) * 1e3, 2) if con else None,
                             "retransmitted_syn": sum(1 for c in con if c >= 0.9)}
    fails = {}
    for r in results:
        if not r[0]:
            fails[r[-1] if isinstance(r[-1], str) else "fail"] = fails.get(r[-1] if isinstance(r[-1], str) else "fail", 0) + 1
    if fails:
        out["failures"] = fails
    return out


def new_conn_get(gw, timeout=5.0):
    """A GET on a new connection from LEGIT_IP: (ok, seconds, connect_seconds, why)."""
    t0 = time.monotonic()
    with in_netns(gw.netns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((LEGIT_IP, 0))
    tc = None
    try:
        s.connect((PORTER_IP, 80))
        tc = time.monotonic() - t0
        s.settimeout(max(0.1, timeout - tc))
        s.sendall(REQ)
        st, body, _ = read_response(s, b"")
        ok = st == 200 and body == BODY
        return ok, time.monotonic() - t0, tc, "ok" if ok else "status %d" % st
    except socket.timeout:
        return False, time.monotonic() - t0, tc, "timeout" if tc is None else "timeout after connect"
    except ConnectionRefusedError:
        return False, time.monotonic() - t0, tc, "refused (RST to SYN)"
    except ConnectionResetError:
        return False, time.monotonic() - t0, tc, "reset after connect"
    except (OSError, EOFError) as e:
        return False, time.monotonic() - t0, tc, type(e).__name__
    finally:
        rst_close(s)


class Paced(threading.Thread):
    """Call FN every 1/RATE s until stopped; keep (start time, result). With OPEN, each call
    runs in a thread of its own (an open loop: a slow attempt does not delay the next)."""

    def __init__(self, fn, rate, open_loop=False):
        super().__init__(daemon=True)
        self.fn, self.rate, self.stop, self.out = fn, rate, threading.Event(), []
        self.open_loop, self.threads = open_loop, []

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            if self.open_loop:
                th = threading.Thread(target=lambda t=t: self.out.append((t, self.fn())), daemon=True)
                th.start()
                self.threads.append(th)
            else:
                self.out.append((t, self.fn()))
            self.stop.wait(max(0.0, t + 1.0 / self.rate - time.monotonic()))

    def finish(self):
        self.stop.set()
        self.join(30)
        for th in self.threads:
            th.join(30)
        return sorted(self.out, key=lambda x: x[0])


def status_sum(gw):
    st = gw.status()
    out = {"streams": 0, "half_open": 0, "ring_full": 0, "drops": {}, "events": {}, "http": {}}
    for sh in st["shards"]:
        t = sh["tcp"]
        out["streams"] += t["streams"]
        out["half_open"] += t.get("half_open", 0)
        out["ring_full"] += sh.get("ring_full", 0)
        for grp in ("drops", "events"):
            for k, v in t[grp].items():
                out[grp][k] = out[grp].get(k, 0) + v
        for k, v in (sh.get("http") or {}).items():
            if isinstance(v, int) and k not in ("max_sessions", "config_generation"):
                out["http"][k] = out["http"].get(k, 0) + v
    port = st["ports"][0]
    out["port"] = {k: v for k, v in port.items() if isinstance(v, int)}
    out["port_drops"] = dict(port.get("drops", {}))
    out["mempool_in_use"] = st["mempool"]["in_use"]
    out["pids"] = [st["pid"]] + [sh["pid"] for sh in st["shards"]]
    return out


def nonzero_delta(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if isinstance(b[k], int) and b[k] - a.get(k, 0)}


def porter_delta(s0, s1):
    return {"tcp_drops": nonzero_delta(s0["drops"], s1["drops"]),
            "tcp_events": nonzero_delta(s0["events"], s1["events"]),
            "http": nonzero_delta(s0["http"], s1["http"]),
            "port": nonzero_delta(s0["port"], s1["port"]),
            "port_drops": nonzero_delta(s0["port_drops"], s1["port_drops"]),
            "ring_full": s1["ring_full"] - s0["ring_full"]}


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def memory(gw):
    s = status_sum(gw)
    huge = sum(os.path.getsize(f) for f in glob.glob("/dev/hugepages/%smap_*" % gw.prefix))
    return {"worker_rss_kib": [rss_kib(p) for p in s["pids"][1:]], "primary_rss_kib": rss_kib(s["pids"][0]),
            "mempool_in_use": s["mempool_in_use"], "streams": s["streams"],
            "sessions": s["http"].get("sessions", 0), "hugepage_files_mib": huge >> 20}


def iface_stat(gw, name):
    return int(gw.ns(["cat", "/sys/class/net/%s/statistics/%s" % (gw.iface, name)]).stdout)


class Env:
    """A gateway with nginx and the Python echo backend, the legitimate address on the peer."""

    def __init__(self, args, extra, workers=2):
        self.gw = (AfPacketGateway(workers=workers, extra=extra) if args.wire == "afpacket"
                   else Gateway(workers=workers, extra=extra))
        self.ngx = self.py = None

    def __enter__(self):
        gw = self.gw
        gw.__enter__()
        try:
            for a in [LEGIT_IP] + FLOOD_SRCS[1:]:
                gw.ns(["ip", "addr", "add", a + "/24", "dev", gw.iface])
            os.chmod(gw.dir, 0o755)   # nginx's workers are not root
            d = os.path.join(gw.dir, "nginx")
            os.makedirs(d)
            self.ngx = start_nginx(gw, d)
            self.py = Backend(gw.ns_popen, "http", PY_PORT)
            # warm: ARP both ways, the upstream pool
            wait_for(lambda: new_conn_get(gw)[0], 10, "a first request through porter")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(Exception):
            if self.py:
                self.py.stop()
        with contextlib.suppress(Exception):
            if self.ngx:
                self.ngx.stop()
        self.gw.__exit__(*exc)


def cpu_of(pids):
    return sum(cpu_ns(p) for p in pids)


def settle(gw, n=8, timeout=40):
    with contextlib.suppress(AssertionError):
        wait_for(lambda: status_sum(gw)["streams"] <= n, timeout, "streams to drain", interval=0.2)


# --- 1. SYN flood --------------------------------------------------------------------------

def tap_mac(gw):
    return gw.ns(["cat", "/sys/class/net/%s/address" % gw.iface]).stdout.strip()


def syn_flood(args):
    out = {}
    with Env(args, SYN_CONF) as env:
        gw = env.gw
        base = Paced(lambda: new_conn_get(gw), args.legit_rate)
        base.start()
        time.sleep(3)
        baseline = [r for _, r in base.finish()]
        for pps in args.syn_pps.split(","):
            out["max" if pps == "0" else pps] = syn_flood_at(args, gw, baseline, int(pps))
            print("  syn", pps, json.dumps(out["max" if pps == "0" else pps]), flush=True)
            time.sleep(2)
    return out


def syn_flood_at(args, gw, baseline, pps):
    if True:
        load0 = os.getloadavg()
        s0 = status_sum(gw)
        tx0 = {k: iface_stat(gw, k) for k in ("tx_packets", "tx_dropped", "rx_packets")}
        cpu0, t0 = cpu_of(s0["pids"]), time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        gen = gw.ns_popen([SYNFLOOD, "--iface", gw.iface, "--dst-mac", PORTER_MAC, "--src-mac", tap_mac(gw),
                           "--dst", PORTER_IP, "--dport", "80", "--seconds", str(args.seconds),
                           "--avoid", "10.99.0.0", "--pps", str(pps)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        legit = Paced(lambda: new_conn_get(gw), args.legit_rate, open_loop=True)
        legit.start()
        peak = {"half_open": 0, "streams": 0}
        while gen.poll() is None and time.monotonic() - t0 < args.seconds + 30:
            s = status_sum(gw)
            peak["half_open"] = max(peak["half_open"], s["half_open"])
            peak["streams"] = max(peak["streams"], s["streams"])
            time.sleep(0.5)
        out, err = gen.communicate(timeout=30)
        res = [r for _, r in legit.finish()]
        wall = time.monotonic() - t0
        s1 = status_sum(gw)
        cpu1 = cpu_of(s1["pids"])
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        tx1 = {k: iface_stat(gw, k) for k in ("tx_packets", "tx_dropped", "rx_packets")}
        g = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"error": err[-500:]}
        d = porter_delta(s0, s1)
        ev = d["tcp_events"]
        seen = d["port"].get("tcp_steered", 0)
        fig = {"wire": args.wire, "pps_asked": pps, "load_before": [round(x, 2) for x in load0],
               "load_after": [round(x, 2) for x in os.getloadavg()],
               "generator": g, "generator_cpu_s": round((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime), 2),
               "peer_iface": {k: tx1[k] - tx0[k] for k in tx0},
               "porter_seen_tcp": seen, "porter_seen_per_s": round(seen / wall, 0),
               "syncookies_sent": ev.get("syncookies_sent", 0), "syncookies_ok": ev.get("syncookies_ok", 0),
               "passive_opens": ev.get("passive_opens", 0), "peak": peak,
               "porter_cpu_pct": round(100.0 * (cpu1 - cpu0) / 1e9 / wall, 1), "wall_s": round(wall, 2),
               "legit_baseline": lat_summary(baseline), "legit_during": lat_summary(res),
               "porter": d}
        return fig


# --- 2. connection flood ---------------------------------------------------------------------

class KeepAlive:
    """N keep-alive connections from LEGIT_IP; one request each in turn."""

    def __init__(self, gw, n=4):
        self.gw, self.socks, self.bufs, self.i = gw, [], [], 0
        for _ in range(n):
            self.socks.append(self._open())
            self.bufs.append(b"")

    def _open(self):
        with in_netns(self.gw.netns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5.0)
        s.bind((LEGIT_IP, 0))
        s.connect((PORTER_IP, 80))
        return s

    def one(self):
        i = self.i = (self.i + 1) % len(self.socks)
        t = time.monotonic()
        try:
            self.socks[i].sendall(REQ)
            st, body, self.bufs[i] = read_response(self.socks[i], self.bufs[i])
            return st == 200 and body == BODY, time.monotonic() - t
        except (OSError, EOFError):
            rst_close(self.socks[i])
            self.bufs[i] = b""
            with contextlib.suppress(OSError):
                self.socks[i] = self._open()
            return False, time.monotonic() - t, "broken"

    def close(self):
        for s in self.socks:
            rst_close(s)


def conn_flood(args):
    with Env(args, CONN_CONF) as env:
        gw = env.gw
        load0 = os.getloadavg()
        settle(gw)
        ka = KeepAlive(gw)
        legit = Paced(ka.one, args.legit_rate)
        mem = {"before": memory(gw)}
        s0 = status_sum(gw)
        marks = {"start": time.monotonic()}
        legit.start()
        time.sleep(3)
        marks["flood"] = time.monotonic()
        bc = gw.ns_popen([BURST, "--dst", "%s:80" % PORTER_IP, "--src", ",".join(FLOOD_SRCS),
                          "--clients", str(args.conn_clients), "--seconds", "3", "--timeout", "5",
                          "--hold", str(args.hold)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = bc.stdout.readline()
        marks["peak"] = time.monotonic()
        flood = json.loads(ready) if ready.strip() else {"error": bc.stderr.read()[-500:]}
        time.sleep(1)
        mem["peak"] = memory(gw)
        s_peak = status_sum(gw)
        probes = [new_conn_get(gw, timeout=3.0) for _ in range(20)]
        time.sleep(2)
        marks["release"] = time.monotonic()
        with contextlib.suppress(OSError):
            bc.stdin.write("\n")
            bc.stdin.flush()
        done_line = bc.stdout.readline()
        bc.wait(30)
        marks["released"] = time.monotonic()
        time.sleep(3)
        res = legit.finish()
        ka.close()
        settle(gw)
        time.sleep(1)
        mem["after"] = memory(gw)
        s1 = status_sum(gw)

        def phase(a, b):
            return lat_summary([r for t, r in res if marks[a] <= t < (marks[b] if b else 1e18)])
        return {"wire": args.wire, "load_before": [round(x, 2) for x in load0],
                "load_after": [round(x, 2) for x in os.getloadavg()],
                "max_streams_per_shard": 1024, "shards": 2,
                "flood": flood, "flood_done": json.loads(done_line) if done_line.strip() else None,
                "streams_at_peak": s_peak["streams"],
                "new_connection_probes_at_peak": lat_summary([(p[0], p[1], p[2], p[3]) for p in probes]),
                "keepalive_client": {"before": phase("start", "flood"), "during": phase("flood", "released"),
                                     "after": phase("released", None)},
                "memory": mem, "porter_to_peak": porter_delta(s0, s_peak), "porter": porter_delta(s0, s1)}


# --- 3. slowloris ----------------------------------------------------------------------------

HEAD_DRIP = b"GET /100 HTTP/1.1\r\nHost: bench\r\nX-Slow: " + b"a" * 4000
BODY_HEAD = b"POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Length: 1000000\r\n\r\n"


def slowloris(gw, variant, n, hold_s):
    """N connections from FLOOD_SRCS doing VARIANT; returns per-connection outcomes."""
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(n):
        with in_netns(gw.netns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.bind((FLOOD_SRCS[i % len(FLOOD_SRCS)], 0))
        try:
            s.connect((PORTER_IP, 80))
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        c = {"s": s, "off": 0, "first": None, "last": None, "closed": None, "resp": b"", "how": None}
        if variant == "heads":
            s.send(HEAD_DRIP[:1])
            c["off"] = 1
        else:
            s.send(BODY_HEAD + b"0123456789")
        c["first"] = c["last"] = time.monotonic()
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    t0 = time.monotonic()
    next_drip = t0 + 1.0
    open_n = len(conns)
    while open_n and time.monotonic() - t0 < hold_s:
        for key, _ in sel.select(timeout=0.1):
            c = key.data
            try:
                b = c["s"].recv(4096)
            except ConnectionResetError:
                b, c["how"] = b"", "reset"
            except BlockingIOError:
                continue
            if b:
                c["resp"] += b
                continue
            c["closed"] = time.monotonic()
            c["how"] = c["how"] or "fin"
            sel.unregister(c["s"])
            open_n -= 1
        now = time.monotonic()
        if now >= next_drip and variant != "body_stall":
            next_drip = now + 1.0
            for c in conns:
                if c["closed"] is not None:
                    continue
                data = HEAD_DRIP[c["off"]:c["off"] + 1] if variant == "heads" else b"x"
                with contextlib.suppress(OSError):
                    if c["s"].send(data) == 1:
                        c["off"] += 1
                        c["last"] = now
    for c in conns:
        rst_close(c["s"])
    sel.close()
    return conns


def slow_summary(conns, variant):
    closed = [c for c in conns if c["closed"] is not None]
    ref = "first" if variant == "heads" else ("last" if variant == "body_stall" else "first")
    after = [c["closed"] - c[ref] for c in closed]
    statuses = {}
    for c in conns:
        r = c["resp"]
        k = r.split(b"\r\n", 1)[0].decode(errors="replace")[:40] if r else "(nothing)"
        if c["closed"] is None:
            k = "still open: " + k
        else:
            k += " then " + c["how"]
        statuses[k] = statuses.get(k, 0) + 1
    return {"connections": len(conns), "closed_by_porter": len(closed), "still_open_at_end": len(conns) - len(closed),
            "closed_after_s_from_" + ref: {"min": round(min(after), 2) if after else None,
                                           "p50": round(statistics.median(after), 2) if after else None,
                                           "max": round(max(after), 2) if after else None},
            "answers": statuses}


def slow(args):
    out = {"wire": args.wire, "timeouts": SLOW_T}
    with Env(args, SLOW_CONF) as env:
        gw = env.gw
        base = open(gw.conf).read()
        for variant in ("heads", "body_stall", "body_drip", "body_drip+body_timeout"):
            if variant == "body_drip+body_timeout":
                reload(gw, gw.conf, base.replace("http: { ", "http: { " + BODY_LIMIT))
                out["body_limit"] = BODY_LIMIT
            settle(gw)
            load0 = os.getloadavg()
            s0 = status_sum(gw)
            legit = Paced(lambda: new_conn_get(gw), args.legit_rate, open_loop=True)
            legit.start()
            conns = slowloris(gw, variant.split("+")[0], args.slow_conns, 4 * SLOW_T["header_timeout_ms"] / 1000)
            res = [r for _, r in legit.finish()]
            s1 = status_sum(gw)
            out[variant] = dict(slow_summary(conns, variant.split("+")[0]), load=[round(x, 2) for x in load0],
                                legit=lat_summary(res), porter=porter_delta(s0, s1))
            print("  slow", variant, json.dumps(out[variant]), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("syn", "conn", "slow"))
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--wire", choices=("tap", "afpacket"), default="tap")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--legit-rate", type=float, default=20)
    ap.add_argument("--syn-pps", default="0,50000", help="flood rates, 0: as fast as it can")
    ap.add_argument("--conn-clients", type=int, default=2600)
    ap.add_argument("--hold", type=int, default=20)
    ap.add_argument("--slow-conns", type=int, default=500)
    args = ap.parse_args()
    lim = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
    fig = {"build": BUILD, "cpus": os.cpu_count()}
    path = os.path.join(BUILD, "bench-flood%s.json" % ("-" + args.only if args.only else ""))
    for name, fn in (("syn", syn_flood), ("conn", conn_flood), ("slow", slow)):
        if args.only and args.only != name:
            continue
        fig[name] = []
        for i in range(args.runs):
            r = fn(args)
            fig[name].append(r)
            print(name, "run", i + 1, json.dumps(r), flush=True)
            with open(path, "w") as f:
                json.dump(fig, f, indent=1)
    print(json.dumps(fig, indent=1))


if __name__ == "__main__":
    main()
