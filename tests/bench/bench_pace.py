#!/usr/bin/env python3
"""Pacing benchmark: downloads through a shallow-buffer bottleneck, porter paced and not, Linux paced and not.

  python3 tests/bench/bench_pace.py [--mb 32] [--rate 12.5e6] [--queue 16,32] [--rtt link,20]
        [--rounds 5] [--arms porter-paced,porter-unpaced,linux,linux-paced] [--timeout 120]
        [--json build/bench-pace.json] [--keep-logs DIR]

Topology (bench_loss.py's, one triple of namespaces per server):

  Linux client c0 ==veth== ra [impair: bottleneck] rb ==veth== s0 server

The impairer (tests/bench/impair.c) is a bottleneck in both directions:
--rate bytes per second (12.5e6 = 100 Mbit/s: a 1514-byte frame takes 121 us)
and at most --queue frames waiting for it (a frame arriving to a full queue is
dropped: "overflow"), after half the RTT of fixed delay each way ("link": none).
Only the server->client ("ba") direction carries data; its ACKs do not queue.

The server sends --mb MiB to the Linux client, which receives with CUBIC (the
sender is CUBIC too in every arm). Arms:

  porter-paced     porter's source service, tcp.pacing = true (its default)
  porter-unpaced   porter's source service, tcp.pacing = false (a second porter)
  linux            a Linux (python) server, CUBIC, no pacing: this kernel has
                   no sch_fq (tc qdisc add ... fq fails), and CUBIC does not ask
                   for TCP's internal pacing
  linux-paced      the same server on another port, which sets SO_MAX_PACING_RATE
                   to 2^40 B/s on every connection: any value but ~0 sets
                   sk_pacing_status = SK_PACING_NEEDED and Linux (>= 4.13) paces
                   inside TCP (tcp_internal_pacing, an hrtimer per socket) at
                   200 % of cwnd/SRTT in slow start, 120 % after, like porter

All arms of a cell run one after another in each round with the same impairer
seed (the bottleneck is deterministic; the seed matters for nothing here), the
order rotated per round and cell; medians over --rounds.

Columns: MB/s = goodput (bytes / time from connect() to EOF at the client);
drops = frames the bottleneck dropped (impairer "overflow", data direction);
rtx / rto = the sender's retransmitted segments and retransmission timeouts
(porter: "retransmits", "timeouts"; Linux: the server namespace's TcpRetransSegs,
TcpExtTCPTimeouts); qmax = most frames seen waiting in the bottleneck queue;
burst = most data frames that reached the bottleneck within one --burst-us
(500 us) bin (the link drains 4.1 frames of 1514 bytes in 500 us at 100 Mbit/s);
pairs% = share of data frames that arrived alone or in pairs (runs of frames
< 20 us apart of length <= 2: an ACK-clocked CUBIC sender sends 2 per
delayed ACK; a paced one sends runs of its pacing quantum), both from the
impairer's per-frame log with kernel arrival times; they are how the
linux-paced arm is seen to pace (see docs/BENCHMARKS.md). pairs% compares
the arms of one stack only: across stacks it mostly shows each TX path's
frame spacing (porter's af_packet TX leaves > 20 us between frames even in
a burst); burst is the cross-stack measure;
paced = porter's paced_waits counter (streams held by pacing). The ratio lines:
porter-paced / linux-paced and porter-paced / porter-unpaced of the medians.
It asserts nothing: a benchmark, not a test.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_loss as bl  # noqa: E402

PORT_U, PORT_P = 20032, 20033        # the Linux server's unpaced and paced source ports

LINUX_SERVER = r'''
import socket, struct, threading, sys, json
CONF = json.loads(sys.argv[1])       # {port: [bytes, paced]}
SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)
CH = bytes(((i * 7 + (i >> 8) * 13 + (i >> 16)) & 0xff) for i in range(1 << 20))
def serve(port, limit, paced):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    ls.bind(("0.0.0.0", port)); ls.listen(64)
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
        if paced:
            c.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, struct.pack("Q", 1 << 40))
        threading.Thread(target=source, args=(c, limit), daemon=True).start()
def source(c, limit):
    sent = 0
    mv = memoryview(CH)
    try:
        while sent < limit:
            sent += c.send(mv[:min(len(CH), limit - sent)])
    except OSError:
        pass
    c.close()
for p, (b, paced) in CONF.items():
    threading.Thread(target=serve, args=(int(p), b, paced), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
'''


class LinuxPaceStack(bl.LinuxStack):
    """A Linux server with a source service per port, paced or not: CONF {port: [bytes, paced]}."""

    def __init__(self, conf, name="linux"):
        self.conf = conf
        self.proc = None
        bl.Stack.__init__(self, name, {})
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        bl.sh("ip", "-n", self.s, "addr", "add", bl.SERVER_IP + "/24", "dev", "s0")
        bl.ns_sysctls(self.s)
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.s, sys.executable, "-c", LINUX_SERVER,
                                      json.dumps(self.conf)], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("linux server did not start")


def burst_stats(log, data_dir="ba", bin_us=500.0):
    """The sender's burstiness at the bottleneck's entrance, from the impairer's LOG (kernel
    arrival times): the most data frames (payload > 0) arriving within one BIN_US bin,
    and the share of data frames that come in pairs or alone (runs of frames < 20 us
    apart, as a socket's or an ACK's burst arrives, of at most 2)."""
    bins, last, run, small, n = {}, None, 0, 0, 0
    with open(log) as f:
        for line in f:
            p = line.split(None, 7)
            if len(p) < 7 or p[1] != data_dir or not p[6].startswith("len=") or p[6] == "len=0":
                continue
            t = float(p[0])
            k = int(t * 1e6 / bin_us)
            bins[k] = bins.get(k, 0) + 1
            n += 1
            if last is not None and (t - last) * 1e6 < 20:
                run += 1
            else:
                small += run if 0 < run <= 2 else 0
                run = 1
            last = t
    small += run if 0 < run <= 2 else 0
    return (max(bins.values()) if bins else None), (small / n if n else None)


def sender_counters(st):
    if isinstance(st, bl.PorterStack):
        p = st.porter_counters()
        return {"rtx": p.get("retransmits", 0), "rto": p.get("timeouts", 0), "paced": p.get("paced_waits", 0)}
    n = bl.nstat(st.s)
    return {"rtx": n["TcpRetransSegs"], "rto": n["TcpExtTCPTimeouts"], "paced": None}


def download(st, port, nbytes, iargs, timeout, log):
    """One download through the impairer; the record."""
    st.start_impair(iargs, log)
    try:
        before = sender_counters(st)
        r = subprocess.run(["ip", "netns", "exec", st.c, sys.executable, "-c", bl.CLIENT, "down", bl.SERVER_IP,
                            str(port), str(nbytes), str(timeout)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout + 60)
        try:
            res = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {"bytes": 0, "s": timeout, "done": False, "err": "client: " + r.stderr[-300:]}
        after = sender_counters(st)
    finally:
        imp = st.stop_impair()
    rec = {"bytes": res["bytes"], "s": res["s"], "done": res["done"], "err": res["err"], "cc": res.get("cc"),
           "MBps": res["bytes"] / res["s"] / 1e6 if res["done"] and res["s"] > 0 else None,
           "impair": imp, "rtx": after["rtx"] - before["rtx"], "rto": after["rto"] - before["rto"],
           "paced": None if after["paced"] is None else after["paced"] - before["paced"]}
    ba = (imp or {}).get("ba", {})
    rec["drops"] = ba.get("overflow")
    rec["qmax"] = ba.get("qmax")
    return rec


ARMS = ["porter-paced", "porter-unpaced", "linux", "linux-paced"]


def report(cells, a, out=sys.stdout):
    fmt = bl.fmt
    hdr = "%-5s %5s %-15s | %7s %6s %6s %4s %5s %5s %6s %8s" % ("rtt", "queue", "arm", "MB/s", "drops", "rtx", "rto",
                                                               "qmax", "burst", "pairs%", "paced")
    print(hdr, file=out)
    print("-" * len(hdr), file=out)
    for c in cells:
        for arm in c["arms"]:
            m = c["median"][arm]
            print("%-5s %5d %-15s | %7s %6s %6s %4s %5s %5s %6s %8s%s" % (
                c["rtt"], c["queue"], arm, fmt(m["MBps"], "%.2f"), fmt(m["drops"], "%d"), fmt(m["rtx"], "%d"),
                fmt(m["rto"], "%d"), fmt(m["qmax"], "%d"), fmt(m["burst"], "%d"),
                fmt(m["pairs"] and m["pairs"] * 100, "%.0f"),
                fmt(m["paced"], "%d"), "  (%d not done)" % m["notdone"] if m["notdone"] else ""), file=out)
        for x, y in (("porter-paced", "linux-paced"), ("porter-paced", "porter-unpaced"), ("linux-paced", "linux")):
            if x in c["median"] and y in c["median"]:
                mx, my = c["median"][x], c["median"][y]
                r = lambda k: mx[k] / my[k] if mx[k] is not None and my[k] else None  # noqa: E731
                print("%-5s %5d %-15s   goodput x%s, drops x%s, rtx x%s" % (
                    "", c["queue"], "%s/%s" % (x.replace("porter-", "p-").replace("linux-", "l-"),
                                               y.replace("porter-", "p-").replace("linux-", "l-")),
                    fmt(r("MBps"), "%.2f"), fmt(r("drops"), "%.2f"), fmt(r("rtx"), "%.2f")), file=out)
        print(file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=32, help="MiB per download (32)")
    ap.add_argument("--rate", type=float, default=12.5e6, help="bottleneck, bytes/s (12.5e6 = 100 Mbit/s)")
    ap.add_argument("--queue", default="16,32", help="bottleneck queue sizes in frames, comma list (16,32)")
    ap.add_argument("--rtt", default="link,20", help="'link' and/or RTTs in ms (link,20)")
    ap.add_argument("--arms", default=",".join(ARMS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--burst-us", type=float, default=500.0, help="bin of the burst column, us (500)")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--json", default=os.path.join(bl.BUILD, "bench-pace.json"))
    ap.add_argument("--keep-logs", help="keep the impairer's per-frame logs here")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    for f in (bl.PRIMARY, bl.PORTERCTL, bl.IMPAIR):
        if not os.path.exists(f):
            sys.exit("missing %s: build first (meson setup build && ninja -C build)" % f)
    arms = bl.parse_list(a.arms)
    queues = bl.parse_list(a.queue, int)
    rtts = bl.parse_list(a.rtt)
    nbytes = a.mb << 20
    logdir = a.keep_logs or tempfile.mkdtemp(prefix="bench-pace-logs-")
    os.makedirs(logdir, exist_ok=True)
    stacks = {}
    out = {"args": vars(a), "cells": []}
    t0 = time.monotonic()
    try:
        if "porter-paced" in arms:
            stacks["porter-paced"] = bl.PorterStack({PORT_U: nbytes}, name="pp", tcp_extra="pacing = true; ")
        if "porter-unpaced" in arms:
            stacks["porter-unpaced"] = bl.PorterStack({PORT_U: nbytes}, name="pu", tcp_extra="pacing = false; ")
        if "linux" in arms or "linux-paced" in arms:
            lx = LinuxPaceStack({PORT_U: [nbytes, False], PORT_P: [nbytes, True]})
            stacks["linux"] = stacks["linux-paced"] = lx
        port = {"porter-paced": PORT_U, "porter-unpaced": PORT_U, "linux": PORT_U, "linux-paced": PORT_P}
        cells = [{"rtt": rtt, "queue": q, "arms": arms, "rounds": {x: [] for x in arms}}
                 for rtt in rtts for q in queues]
        for rnd in range(a.rounds):
            for i, c in enumerate(cells):
                seed = a.seed + 1000 * i + rnd
                iargs = ["--spare-syn", "--seed", str(seed), "--rate", "%g" % a.rate, "--queue", str(c["queue"])]
                if c["rtt"] != "link":
                    iargs += ["--delay", "%g" % (float(c["rtt"]) / 2)]
                k = (rnd + i) % len(arms)
                for arm in arms[k:] + arms[:k]:
                    log = os.path.join(logdir, "%s-%s-q%d-r%d.log" % (arm, c["rtt"], c["queue"], rnd))
                    rec = download(stacks[arm], port[arm], nbytes, iargs, a.timeout, log)
                    rec["burst"], rec["pairs"] = burst_stats(log, "ba", a.burst_us)
                    if not a.keep_logs:
                        os.unlink(log)
                    rec["seed"] = seed
                    c["rounds"][arm].append(rec)
                    print("  r%d rtt=%-4s q=%-3d %-15s %s MB/s in %.1f s drops=%s rtx=%s rto=%s qmax=%s burst=%s "
                          "pairs=%s%% paced=%s%s" % (rnd, c["rtt"], c["queue"], arm, bl.fmt(rec["MBps"], "%.2f"),
                                                     rec["s"], rec["drops"], rec["rtx"], rec["rto"], rec["qmax"],
                                                     rec["burst"], bl.fmt(rec["pairs"] and rec["pairs"] * 100, "%.0f"),
                                                     rec["paced"],
                                          "" if rec["done"] else " NOT DONE (%s)" % rec["err"]), flush=True)
            out["cells"] = cells
            with open(a.json, "w") as f:
                json.dump(out, f, indent=1)
    finally:
        seen = set()
        for s in stacks.values():
            if id(s) not in seen:
                seen.add(id(s))
                s.close()
        if not a.keep_logs:
            shutil.rmtree(logdir, ignore_errors=True)
    for c in cells:
        c["median"] = {}
        for arm in arms:
            rs = c["rounds"][arm]
            c["median"][arm] = {k: bl.med([r[k] for r in rs]) for k in ("MBps", "drops", "rtx", "rto", "qmax", "burst", "pairs",
                                                                         "paced")}
            c["median"][arm]["notdone"] = sum(1 for r in rs if not r["done"])
    out["wall_s"] = time.monotonic() - t0
    print("\n%d rounds, %d MiB, bottleneck %g B/s, medians\n" % (a.rounds, a.mb, a.rate))
    report(cells, a)
    print("wall time %.0f s; JSON in %s" % (out["wall_s"], a.json))
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
