#!/usr/bin/env python3
"""Idle cost and wake-up latency of porter, per port type.

  python3 tests/bench/bench_wake.py [--pmds kernel,tap,af_packet,af_xdp,memif] [--idle 10]
                                    [--probes 20] [--spacing 1.0] [--workers 1]
                                    [--builds before=/tmp/old/build,after=build]

Run as root. Not a test: it asserts nothing about speed; it prints a table (and JSON to
$PORTER_BUILD/bench-wake.json). --builds measures several builds of porter (e.g. the
commit before a change and the change) one after the other for each port type, so that
a shared machine's load hits both alike.

The wire is bench_wire.py's (veth pairs, offloads off; reused, not copied): porter on
net_af_packet or net_af_xdp in its own namespace, clients and the backend nginx in wcl
(one-armed: listener 80 -> wcl over the same veth); net_tap: a porter with its tap in wcl,
backend nginx in wcl. `kernel` is the floor: the same client pinging and requesting a Linux nginx in wpx
over the same kind of veth, no proxy. `memif` (idle CPU only): porter as memif server, a
dpdk-testpmd client attached in interactive mode and not forwarding.

Per port type, after a warm-up (ARP, upstream pool, one keep-alive client connection):

  idle CPU   primary and workers over --idle seconds with no traffic at all (schedstat of
             every thread), in % of one core.
  probes     then --probes rounds of three probes, each probe preceded by an idle gap of
             --spacing s plus a random 0..0.5 s (so probes do not phase-lock with the
             workers' 500 ms heartbeat or the primary's 1 s housekeeping). The first probe
             follows the --idle window. A gap of 1 s is as idle as 10 s for porter: the
             primary's backoff reaches its 5 ms cap after ~12 ms, the workers sleep after
             0 us (workers.spin_us = 0); what is measured is how a sleeping gateway wakes.
               ping       one ICMP echo (iputils ping -c 1, its own RTT: kernel timestamps)
               new conn   connect + GET /100 + whole response on a new connection
                          (client-side perf_counter: Python adds a few tens of us)
               keep-alive GET /100 + whole response on the connection opened at warm-up
Percentiles are nearest-rank over --probes samples (with 20, p99 is the maximum).
"""
import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_proxy import NGINX_COMMON, Proc, ns_cmd  # noqa: E402
from bench_wire import (BACKEND_HTTP, BACKEND_PORT, BODY_100, NET, NS, PORTER_MAC, TAG, TAP_MAC,  # noqa: E402
                        PorterAF, PorterTap, Topology, WireGateway)
import bench_wire  # noqa: E402
import harness  # noqa: E402
from harness import BUILD, cpu_ns, in_netns, run, wait_for  # noqa: E402

REQUEST = b"GET /100 HTTP/1.1\r\nHost: bench\r\n\r\n"


def pct(vals, p):
    if not vals:
        return None
    v = sorted(vals)
    return v[min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def read_response(s):
    """One HTTP/1.1 response with a Content-Length body; raise if the peer closes."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed before the response head")
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    want = int(m.group(1)) if m else 0
    while len(body) < want:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed in the body")
        body += d
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError("status %r" % head[:40])


def new_socket(ns):
    with in_netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(5)
    return s


def probe_ping(ns, ip):
    r = run(ns_cmd(ns, ["ping", "-n", "-c", "1", "-W", "2", ip]), check=False)
    m = re.search(r"time=([\d.]+) ms", r.stdout)
    return float(m.group(1)) if m else None


def probe_new_conn(ns, ip, port):
    s = new_socket(ns)
    try:
        t0 = time.perf_counter()
        s.connect((ip, port))
        s.sendall(REQUEST)
        read_response(s)
        return (time.perf_counter() - t0) * 1e3
    except OSError:
        return None
    finally:
        s.close()


class KeepAlive:
    def __init__(self, ns, ip, port):
        self.ns, self.addr, self.s = ns, (ip, port), None
        self.reconnects = -1

    def probe(self):
        for _ in range(2):
            if self.s is None:
                self.s = new_socket(self.ns)
                self.s.connect(self.addr)
                self.reconnects += 1
            try:
                t0 = time.perf_counter()
                self.s.sendall(REQUEST)
                read_response(self.s)
                return (time.perf_counter() - t0) * 1e3
            except OSError:
                self.close()
        return None

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None


class Memif:
    """porter as memif server in its own namespace, testpmd attached as client, idle."""

    def __init__(self, tmp):
        self.ns = "wmf-" + TAG
        self.tmp = tmp
        self.gw = self.peer = None
        run(["ip", "netns", "add", self.ns])
        sock = os.path.join(tmp, "memif.sock")

        class PorterMemif(WireGateway):
            one = two = "10.92.0.1"
        self.gw = PorterMemif(self.ns, '{ name = "m"; device = "net_memif0,role=server,socket=%s"; '
                              'mac = "02:70:6f:72:74:31"; ipv4 = "10.92.0.2/24"; }' % sock, 50)
        self.gw.name = "porter-memif"
        self.gw.start()
        self.peer_prefix = "wmfpeer" + TAG
        self.peer_log = open(os.path.join(tmp, "testpmd.log"), "w")
        self.peer = subprocess.Popen(ns_cmd(self.ns, [
            "dpdk-testpmd", "--no-pci", "--no-huge", "-m", "256", "--file-prefix", self.peer_prefix,
            "-l", "0,1", "--vdev", "net_memif0,role=client,socket=%s" % sock, "--log-level", "notice",
            "--", "-i", "--total-num-mbufs=2048", "--no-lsc-interrupt"]),
            stdin=subprocess.PIPE, stdout=self.peer_log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.gw.status()["ports"][0]["link"] == "up" or self.peer.poll() is not None,
                 30, "memif link up")
        if self.peer.poll() is not None:
            raise RuntimeError("testpmd exited")

    def close(self):
        if self.peer is not None and self.peer.poll() is None:
            with contextlib.suppress(Exception):
                self.peer.stdin.write(b"quit\n")
                self.peer.stdin.flush()
            try:
                self.peer.wait(10)
            except subprocess.TimeoutExpired:
                self.peer.kill()
                self.peer.wait()
        if self.peer is not None:
            self.peer_log.close()
        shutil.rmtree("/var/run/dpdk/" + self.peer_prefix, ignore_errors=True)
        if self.gw is not None:
            self.gw.cleanup()
        run(["ip", "netns", "del", self.ns], check=False)


@contextlib.contextmanager
def use_build(build):
    """Gateways started in the body run BUILD's porter-primary (its workers are found next
    to it) and are asked with BUILD's porterctl."""
    saved = bench_wire.PRIMARY, harness.PORTERCTL
    bench_wire.PRIMARY = os.path.join(build, "primary", "porter-primary")
    harness.PORTERCTL = os.path.join(build, "tools", "porterctl")
    try:
        yield
    finally:
        bench_wire.PRIMARY, harness.PORTERCTL = saved


def idle_cpu(gw, seconds):
    """(primary %, workers %) of one core over SECONDS of no traffic."""
    st = gw.status()
    pp = gw.proc.pid
    wp = [s["pid"] for s in st["shards"] if s["pid"]]
    p0, w0, t0 = cpu_ns(pp), sum(cpu_ns(p) for p in wp), time.monotonic()
    time.sleep(seconds)
    p1, w1, t1 = cpu_ns(pp), sum(cpu_ns(p) for p in wp), time.monotonic()
    return (p1 - p0) / (t1 - t0) / 1e7, (w1 - w0) / (t1 - t0) / 1e7


def port_waits(gw):
    st = gw.status()
    # builds before rx_wait existed: interrupts or the backoff
    return ",".join(p.get("rx_wait", "interrupt" if p.get("rx_interrupts") else "backoff")
                    for p in st["ports"]), st


def run_probes(a, ns, ip, port, ka):
    res = {"ping": [], "new_conn": [], "keepalive": [], "failed": {"ping": 0, "new_conn": 0, "keepalive": 0}}
    kinds = ("ping", "new_conn", "keepalive")
    for rnd in range(a.probes):
        for k in kinds:
            if rnd or k != "ping":
                time.sleep(a.spacing + random.random() * 0.5)
            if k == "ping":
                v = probe_ping(ns, ip)
            elif k == "new_conn" and port:
                v = probe_new_conn(ns, ip, port)
            elif k == "keepalive" and ka is not None:
                v = ka.probe()
            else:
                continue
            if v is None:
                res["failed"][k] += 1
            else:
                res[k].append(v)
    return res


def summary(vals):
    return {"n": len(vals), "p50": pct(vals, 50), "p99": pct(vals, 99),
            "max": max(vals) if vals else None, "first": vals[0] if vals else None,
            "mean": statistics.mean(vals) if vals else None}


def fmt3(s):
    if not s or s["n"] == 0:
        return "-"
    return "%.3f / %.3f / %.3f" % (s["p50"], s["p99"], s["max"])


def backend(tmp, k):
    """nginx serving /100 on 0.0.0.0:8081 in namespace NS[k]."""
    d = tempfile.mkdtemp(prefix="backend-%s-" % k, dir=tmp)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_COMMON % {"d": d, "body": BACKEND_HTTP % {
            "port": BACKEND_PORT, "d": d, "body": BODY_100[:-1] + "\\n"}})
    return Proc("backend-" + k, NS[k], ["nginx", "-p", d, "-e", os.path.join(d, "error.log"), "-c",
                                        os.path.join(d, "nginx.conf"), "-g", "daemon off;"], d,
                "http://127.0.0.1:%d/100" % BACKEND_PORT)


def tune(gw, a):
    """--dataplane / --workers-opts: settings added to the gateway's groups (tuning runs)."""
    with open(gw.conf) as f:
        conf = f.read()
    conf = conf.replace("mbufs = 16383;", "mbufs = 16383; " + a.dataplane)
    conf = conf.replace("ready_timeout_ms = 10000;", "ready_timeout_ms = 10000; " + a.workers_opts)
    with open(gw.conf, "w") as f:
        f.write(conf)


def measure(a, topo, tmp, pmd):
    """One port type on the running build: idle CPU, then the probes."""
    cl = NS["cl"]
    r = {"pmd": pmd}
    gw = memif = None
    try:
        if pmd == "kernel":
            ip, port = NET["px1"] + ".2", BACKEND_PORT
            r["rx_wait"] = "kernel"
        elif pmd == "tap":
            iface = "wtp" + TAG[-6:]
            gw = PorterTap(cl, '{ name = "tap"; device = "net_tap0,iface=%s"; mac = "%s"; '
                           'ipv4 = "%s.2/24"; }' % (iface, TAP_MAC, NET["tap"]), 40, a.workers)
            gw.iface = iface
            tune(gw, a)
            gw.start()
            ip, port = NET["tap"] + ".2", 80
        elif pmd == "memif":
            memif = Memif(tmp)
            gw, ip, port = memif.gw, None, None
        else:
            dev = "," + a.device_args if a.device_args else ""
            ports = ('{ name = "front"; device = "net_%s0,iface=%s%s"; mac = "%s"; ipv4 = "%s.2/24"; }, '
                     '{ name = "back"; device = "net_%s1,iface=%s%s"; mac = "%s"; ipv4 = "%s.2/24"; }' % (
                         pmd, topo.dev["pt1"], dev, PORTER_MAC[0], NET["pt1"],
                         pmd, topo.dev["pt2"], dev, PORTER_MAC[1], NET["pt2"]))
            gw = PorterAF(NS["pt"], ports, 20, a.workers)
            tune(gw, a)
            gw.start()
            ip, port = NET["pt1"] + ".2", 80
        ka = None
        if ip:
            for _ in range(3):   # warm-up: ARP both ways, upstream pool
                probe_ping(cl, ip)
                probe_new_conn(cl, ip, port)
            ka = KeepAlive(cl, ip, port)
            ka.probe()
        if gw is not None:
            r["rx_wait"], _ = port_waits(gw)
            time.sleep(1)
            r["idle_cpu_primary"], r["idle_cpu_workers"] = idle_cpu(gw, a.idle)
            print("idle CPU: primary %.3f %%, workers %.3f %% (RX wait %s)" % (
                r["idle_cpu_primary"], r["idle_cpu_workers"], r["rx_wait"]), flush=True)
        else:
            time.sleep(a.idle)
        if ip:
            pr = run_probes(a, cl, ip, port, ka)
            for k in ("ping", "new_conn", "keepalive"):
                r[k] = summary(pr[k])
                print("%-10s p50/p99/max %s ms (n %d, failed %d, first %s)" % (
                    k, fmt3(r[k]), r[k]["n"], pr["failed"][k],
                    "%.3f" % r[k]["first"] if r[k]["first"] is not None else "-"), flush=True)
            r["failed"] = pr["failed"]
            r["keepalive_reconnects"] = ka.reconnects
            ka.close()
        if gw is not None:
            st = gw.status()
            r["ports"] = [{k: p.get(k) for k in ("name", "rx_wait", "driver", "rx_frames",
                                                 "pmd_wakeups", "pmd_empty_wakeups",
                                                 "ring_drops", "imissed", "nic_imissed")}
                          for p in st["ports"]]
    finally:
        if memif is not None:
            memif.close()
        elif gw is not None:
            gw.cleanup()
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pmds", default="kernel,tap,af_packet,af_xdp,memif")
    ap.add_argument("--idle", type=float, default=10.0, help="idle CPU window, s")
    ap.add_argument("--probes", type=int, default=20, help="samples of each probe kind")
    ap.add_argument("--spacing", type=float, default=1.0, help="idle gap before each probe, s (+0..0.5)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--device-args", default="", help="extra devargs for af_packet/af_xdp ports")
    ap.add_argument("--dataplane", default="", help="more dataplane settings, e.g. 'primary_spin_us = 50;'")
    ap.add_argument("--workers-opts", default="", help="more workers settings, e.g. 'spin_us = 50;'")
    ap.add_argument("--builds", default="", help="LABEL=BUILD_DIR,... : measure each build in turn "
                    "per port type (default: $PORTER_BUILD)")
    ap.add_argument("--out", default=os.path.join(BUILD, "bench-wake.json"))
    a = ap.parse_args()
    pmds = a.pmds.split(",")

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    tmp = tempfile.mkdtemp(prefix="porter-bench-wake-")
    os.chmod(tmp, 0o755)
    topo = None
    servers = []
    results = {}
    try:
        topo = Topology()
        servers.append(backend(tmp, "px"))   # the kernel row's
        labels = []
        for spec in (a.builds.split(",") if a.builds else [BUILD]):
            label, _, path = spec.rpartition("=")
            labels.append((label or os.path.basename(os.path.dirname(os.path.abspath(path))) or path,
                           os.path.abspath(path)))
        for pmd in pmds:
            for label, build in (labels if pmd != "kernel" else [("-", None)]):
                print("--- %s (%s)" % (pmd, label), flush=True)
                if build is None:
                    r = measure(a, topo, tmp, pmd)
                else:
                    # porter's backend afresh for every gateway: the previous porter's pooled
                    # upstream connections, never closed, would still be open there, and a
                    # new porter reusing one of their ports retransmits its SYN after 1 s
                    servers.append(backend(tmp, "cl"))
                    try:
                        with use_build(build):
                            r = measure(a, topo, tmp, pmd)
                    finally:
                        servers.pop().stop()
                r["build"], r["build_dir"] = label, build
                results["%s/%s" % (label, pmd)] = r

        print("\nporter %d worker(s); builds %s; probes: %d of each kind, each after >= %.1f s "
              "idle (+0..0.5 s), the first after %.0f s; load avg at end %s\n" % (
                  a.workers, ", ".join("%s = %s" % lb for lb in labels), a.probes, a.spacing, a.idle,
                  "%.2f %.2f %.2f" % os.getloadavg()))
        print("| port | build | RX wait | idle CPU % of a core (primary + workers) | ping ms p50 / p99 / max "
              "| new conn + request ms p50 / p99 / max | keep-alive request ms p50 / p99 / max |")
        print("|---|---|---|---:|---:|---:|---:|")
        for key, r in results.items():
            cpu = "-"
            if "idle_cpu_primary" in r:
                cpu = "%.2f (%.2f + %.2f)" % (r["idle_cpu_primary"] + r["idle_cpu_workers"],
                                             r["idle_cpu_primary"], r["idle_cpu_workers"])
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["pmd"], r["build"], r.get("rx_wait", "-"), cpu, fmt3(r.get("ping")),
                fmt3(r.get("new_conn")), fmt3(r.get("keepalive"))))
        with open(a.out, "w") as f:
            json.dump({"config": vars(a), "results": results}, f, indent=1)
        print("\nJSON: %s" % a.out)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for s in reversed(servers):
            with contextlib.suppress(Exception):
                s.stop()
        if topo is not None:
            topo.close()
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    main()
