#!/usr/bin/env python3
"""Swap gaps under load: how long a shard goes unserved when its worker is upgraded
or killed, and whether any client sees it.

  python3 tests/bench/bench_swap.py [--upgrades 50] [--kills 50] [--workers 2]
                                    [--standby on|off|omit] [--conns 32] [--pause 0.3]

Run as root. Not a test: it asserts nothing; it prints the figures (and JSON to
$PORTER_BUILD/bench-swap.json, or --json FILE). PORTER_BUILD=DIR measures another
build (e.g. a copy of the binaries before a change: --standby omit leaves the setting
out of the configuration, for builds that do not know it).

Set-up (tests/integration/harness.py's Gateway: a namespace of its own, net_tap,
--no-pci, a unique --file-prefix): porter with N workers proxying HTTP to an nginx
backend (1 worker, access log off) on the tap's kernel side; wrk -t1 -cCONNS
keep-alive GET /small.txt (1000 bytes) through porter for the whole run.

Events, one shard at a time in turn (shard i % N), alternating until both counts are
reached:
  upgrade   `porterctl upgrade --binary B --shard S` (B alternates between
            porter-worker-other and porter-worker, so every upgrade changes binary);
            it returns once the new worker is ready;
  kill      SIGKILL of the shard's worker (a pid the gateway started for us).
Before each event the shard must be ready (and its standby ready, when the gateway
runs standbys: every event then measures the warm path), and --pause seconds have
passed since the last event settled, so the load is steady when the event lands.

Per event, from `porterctl status --json` once the shard's epoch has moved and the new
worker has taken its first frame:
  swap gap      swap_gap_us: the predecessor's last burst with frames to the successor's
                first (CLOCK_MONOTONIC in both workers): the time the shard took no
                frame. Under a continuous load this is the interruption a client sees.
  restart gap   last_restart_gap_us: the supervisor's view, death seen (pidfd) to the
                successor ready.
  takeover      how the successor came: "standby" or "cold" (fork/exec + EAL init).
The same measure within one worker's life, the shard's frames with no swap at all
(frame_gaps_over_ms, builds that have it): how many gaps over 1/5/10/20 ms the workers
saw during the run -- what the box itself does to the load (two vCPUs shared with
whatever else runs), the floor under the swap gaps.
Percentiles are nearest-rank. Client-visible damage over the whole run: wrk's socket
errors (connect, read, write, timeout) and non-2xx/3xx responses, resets counted by
the namespace's kernel (Tcp EstabResets and OutRsts: wrk and nginx) and by porter
(TCP resets sent/received), read before wrk stops (its exit resets its connections),
and porter's 5xx answers.

Cleanup (also on errors and Ctrl-C): wrk and nginx by their pids, then the gateway
(primary, workers and standbys by pid, namespace, hugepage files, runtime dir).
"""
import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import BUILD, PEER_IP, PORTER_IP, Gateway, Nginx, parse_wrk, wait_for  # noqa: E402

OTHER = os.path.join(BUILD, "secondary", "porter-worker-other")
CURRENT = os.path.join(BUILD, "secondary", "porter-worker")
BACKEND_PORT = 8081

CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "app"; servers = ( { address = "%s:%d"; } ); keepalive = { max_idle = 64; }; } );
routes = ( { upstream = "app"; } );
""" % (PEER_IP, BACKEND_PORT)

PORTER_TCP_EV = ("resets_sent", "resets_received", "retransmits", "timeouts")
PORTER_HTTP = ("requests", "responses", "err_502", "err_503", "err_504", "client_aborts",
               "upstream_aborts", "retries", "recovered_sessions")


def pct(xs, p):
    """Nearest-rank percentile of XS (sorted copy), None if empty."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def kernel_tcp(gw):
    """Tcp counters of the gateway's namespace (/proc/net/snmp read from inside it)."""
    out = gw.ns(["cat", "/proc/net/snmp"]).stdout.splitlines()
    tcp = [line.split()[1:] for line in out if line.startswith("Tcp:")]
    d = dict(zip(tcp[0], (int(x) for x in tcp[1])))
    return {k: d[k] for k in ("EstabResets", "OutRsts", "AttemptFails")}


def porter_totals(st):
    c = {}
    for s in st["shards"]:
        for k, v in s.get("frame_gaps_over_ms", {}).items():
            c["frame_gaps_over_ms." + k] = c.get("frame_gaps_over_ms." + k, 0) + v
        for k in PORTER_TCP_EV:
            c["tcp." + k] = c.get("tcp." + k, 0) + (s["tcp"] or {}).get("events", {}).get(k, 0)
        for k in PORTER_HTTP:
            c["http." + k] = c.get("http." + k, 0) + (s["http"] or {}).get(k, 0)
    return c


def standby_of(sh):
    sb = sh.get("standby")
    return sb if isinstance(sb, dict) else {"state": "none", "pid": 0}


def settled(gw, shard, want_standby):
    st = gw.status()
    sh = st["shards"][shard]
    if sh["state"] != "ready":
        return None
    if want_standby and standby_of(sh)["state"] != "ready":
        return None
    return st


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upgrades", type=int, default=50)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--standby", choices=("on", "off", "omit"), default="on")
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--pause", type=float, default=0.3,
                    help="seconds of steady load between one event settling and the next")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench-swap.json"))
    ap.add_argument("--log", help="keep porter's log (primary and workers) in this file")
    a = ap.parse_args()

    standby = {"on": True, "off": False, "omit": None}[a.standby]
    tmp = tempfile.mkdtemp(prefix="porter-bench-swap-")
    os.chmod(tmp, 0o755)
    gw = Gateway(workers=a.workers, extra=CONF, standby=standby)
    ngx = wrk = None
    events = []
    try:
        gw.__enter__()
        ngx = Nginx(gw, BACKEND_PORT, os.path.join(tmp, "nginx"), {"small.txt": b"x" * 1000}, access_log=False)
        r = gw.ns(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                   "http://%s/small.txt" % PORTER_IP], check=False)
        assert r.stdout.strip() == "200", "no 200 through porter: %r %r" % (r.stdout, r.stderr)
        st = gw.status()
        want_standby = any(standby_of(s)["state"] != "none" for s in st["shards"]) or standby is True
        for s in range(a.workers):
            wait_for(lambda: settled(gw, s, want_standby), 60, "shard %d settled" % s)
        st0 = gw.status()
        k0, p0 = kernel_tcp(gw), porter_totals(st0)
        wrk = gw.ns_popen(["wrk", "-t1", "-c%d" % a.conns, "-d3600s", "--timeout", "2s",
                           "http://%s/small.txt" % PORTER_IP],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_for(lambda: porter_totals(gw.status())["http.responses"] > p0["http.responses"] + 1000,
                 20, "wrk's load through porter")
        binary = {s: CURRENT for s in range(a.workers)}
        n_up = n_kill = i = 0
        t_start = time.monotonic()
        while n_up < a.upgrades or n_kill < a.kills:
            kind = "upgrade" if (n_kill >= a.kills or (n_up < a.upgrades and i % 2 == 0)) else "kill"
            shard = (n_up if kind == "upgrade" else n_kill) % a.workers
            i += 1
            st = wait_for(lambda: settled(gw, shard, want_standby), 60, "shard %d settled" % shard)
            time.sleep(a.pause)   # pacing: steady load before the event (not a synchronisation)
            assert wrk.poll() is None, "wrk exited: %s" % wrk.stdout.read()
            st = gw.status()
            sh = st["shards"][shard]
            epoch0, pid0 = sh["epoch"], sh["pid"]
            t0 = time.monotonic()
            if kind == "upgrade":
                binary[shard] = OTHER if binary[shard] == CURRENT else CURRENT
                out = gw.ctl("upgrade", "--binary", binary[shard], "--shard", str(shard),
                             check=False, timeout=120)
                if out.returncode != 0:
                    raise AssertionError("upgrade %d failed: %s %s" % (n_up, out.stdout, out.stderr))
                n_up += 1
            else:
                os.kill(pid0, signal.SIGKILL)
                n_kill += 1

            def swapped():
                x = gw.status()["shards"][shard]
                return x if (x["epoch"] > epoch0 and x["state"] == "ready" and x["pid"] != pid0
                             and x["swap_gap_us"]) else None
            x = wait_for(swapped, 30, "shard %d's successor taking frames" % shard)
            ev = {"kind": kind, "shard": shard, "swap_gap_us": x["swap_gap_us"],
                  "restart_gap_us": x["last_restart_gap_us"],
                  "takeover": x.get("takeover", "cold"), "wall_ms": round((time.monotonic() - t0) * 1e3, 1)}
            events.append(ev)
            print("%3d %-7s shard %d  swap gap %7.2f ms  restart gap %7.2f ms  %s" % (
                len(events), kind, shard, ev["swap_gap_us"] / 1e3, ev["restart_gap_us"] / 1e3,
                ev["takeover"]), flush=True)
        duration = time.monotonic() - t_start
        time.sleep(1.0)   # the requests after the last swap, under the same load
        # counters before wrk stops: its exit closes 32 connections with resets
        k1, p1 = kernel_tcp(gw), porter_totals(gw.status())
        wrk.send_signal(signal.SIGINT)
        out, _ = wrk.communicate(timeout=60)
        wres = parse_wrk(out)
        wres["rc"] = wrk.returncode
        wrk = None
    finally:
        if wrk is not None and wrk.poll() is None:
            wrk.kill()
            wrk.wait()
        if ngx is not None:
            ngx.stop()
        if a.log and os.path.exists(gw.log):
            import shutil
            shutil.copy(gw.log, a.log)
        gw.__exit__(*sys.exc_info())
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)

    def dist(kind, key):
        xs = [e[key] / 1e3 for e in events if kind is None or e["kind"] == kind]
        return {"n": len(xs), "median_ms": pct(xs, 50), "p90_ms": pct(xs, 90), "max_ms": pct(xs, 100)}

    kdelta = {k: k1[k] - k0[k] for k in k0}
    pdelta = {k: p1[k] - p0[k] for k in p0}
    result = {
        "build": BUILD, "standby": a.standby, "workers": a.workers, "conns": a.conns,
        "seconds": round(duration, 1),
        "swap_gap": {k or "all": dist(k, "swap_gap_us") for k in ("upgrade", "kill", None)},
        "restart_gap": {k or "all": dist(k, "restart_gap_us") for k in ("upgrade", "kill", None)},
        "takeovers": {t: sum(1 for e in events if e["takeover"] == t) for t in {e["takeover"] for e in events}},
        "wrk": wres, "kernel_tcp": kdelta, "porter": pdelta, "events": events,
    }
    print()
    print("build %s, standby %s, %d workers, wrk -t1 -c%d keep-alive, %.0f s" % (
        BUILD, a.standby, a.workers, a.conns, duration))
    print("%-9s %-8s %4s %10s %10s %10s" % ("gap", "event", "n", "median ms", "p90 ms", "max ms"))
    for what in ("swap_gap", "restart_gap"):
        for k, d in result[what].items():
            if d["n"]:
                print("%-9s %-8s %4d %10.2f %10.2f %10.2f" % (what.replace("_gap", ""), k, d["n"],
                                                          d["median_ms"], d["p90_ms"], d["max_ms"]))
    print("takeovers: %s" % result["takeovers"])
    if "frame_gaps_over_ms.1" in pdelta:
        print("no swap, same measure: gaps between two bursts of one worker over 1/5/10/20 ms: "
              "%d/%d/%d/%d" % tuple(pdelta["frame_gaps_over_ms.%s" % k] for k in ("1", "5", "10", "20")))
    print("wrk: %d requests, %.0f req/s, socket errors %d (%s), non-2xx/3xx %d, rc %s" % (
        wres["requests"], wres["rps"], wres["socket_errors"], wres.get("socket_errors_detail", "none"),
        wres["non2xx3xx"], wres["rc"]))
    print("resets: kernel EstabResets %d OutRsts %d; porter sent %d received %d; "
          "porter 502/503/504: %d/%d/%d, client aborts %d, upstream aborts %d" % (
              kdelta["EstabResets"], kdelta["OutRsts"], pdelta["tcp.resets_sent"],
              pdelta["tcp.resets_received"], pdelta["http.err_502"], pdelta["http.err_503"],
              pdelta["http.err_504"], pdelta["http.client_aborts"], pdelta["http.upstream_aborts"]))
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)
    print("JSON: %s" % a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
