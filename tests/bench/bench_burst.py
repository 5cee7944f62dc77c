#!/usr/bin/env python3
"""A burst of keep-alive clients through porter on net_af_packet / net_af_xdp: are frames lost?

  python3 tests/bench/bench_burst.py [--pmds af_packet,af_xdp] [--clients 100000]
                                     [--seconds 7] [--batch 1] [--sources 8] [--same-subnet]
                                     [--workers 2] [--builds before=/tmp/old/build,after=build]

Run as root. Not a test: it asserts nothing; it prints a table (JSON to
$PORTER_BUILD/bench-burst.json).

The wire is bench_wire.py's (reused): porter in its own namespace on a veth (offloads
off), the clients and the backend nginx in wcl (one-armed: porter's upstream connections
cross the same veth). burst_client (tests/bench/burst_client.c, built into
$PORTER_BUILD/tests) opens --clients connections at an even rate over --seconds (with
--batch B, B at once at the same average rate), from
--sources source addresses (the whole ephemeral range each); each sends one GET /100,
reads the response and stays idle. By default the sources are /32 addresses on wcl's
loopback, routed to porter through its front port's gateway (10.97.0.1): porter resolves
one next hop, as a front door behind a router does. --same-subnet puts them on the veth
itself instead (porter then resolves each by ARP). Every run gets addresses of its own,
and waits for the previous run's TIME_WAIT sockets (the clients close first) to expire:
100k of them make every connect() of the next run slow, and their expiry costs CPU.

Once every client has its response (or failed) and the counters have settled, the
frames are accounted for while the clients idle; then the clients close, at the rate they
opened, and that phase is accounted for as well:

  sent         packets the kernel sent towards porter on the client's veth end (tx, and
               tx_dropped: what the peer's per-CPU backlog refused)
  delivered    packets porter's veth end received (rx); sent - delivered: lost in the
               kernel between the two ends (a CPU's backlog full: the box is saturated)
  porter rx    frames porter took from its driver (port rx_frames)
  lost         delivered - porter rx: frames the driver's ring (or the XSK rings) dropped
  ring_drops / imissed   what porter's status says of those losses (this build)
plus port drops by reason (neigh_queue_full: frames that waited for ARP), shard ring
drops, porter's TCP retransmission timeouts and the clients' kernel TCP retransmissions.
Everything it creates (namespaces, processes by pid, hugepage files, temp dirs) is removed
on exit, errors included.
"""
import argparse
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_proxy import NGINX_COMMON, Proc, ns_cmd  # noqa: E402
import bench_wire  # noqa: E402
from bench_wake import use_build  # noqa: E402
from bench_wire import BACKEND_HTTP, BACKEND_PORT, BODY_100, NET, NS, PORTER_MAC, TAG, PorterAF, Topology  # noqa: E402
from harness import BUILD, cpu_ns, run, wait_for  # noqa: E402

ROUTED = "10.90"        # client sources behind porter's gateway (wcl's loopback): 10.90.RUN.N
SUBNET_FIRST = 100     # --same-subnet: 10.97.0.100.. on the veth


def link(ns, dev):
    r = run(["ip", "-n", ns, "-j", "-s", "link", "show", "dev", dev])
    st = json.loads(r.stdout)[0]["stats64"]
    return {"rx": st["rx"]["packets"], "tx": st["tx"]["packets"],
            "rx_dropped": st["rx"]["dropped"], "tx_dropped": st["tx"]["dropped"]}


def kernel_tcp(ns):
    """The namespace's TCP counters of interest (/proc/net/snmp and netstat)."""
    out = {}
    for f in ("/proc/net/snmp", "/proc/net/netstat"):
        lines = run(ns_cmd(ns, ["cat", f])).stdout.splitlines()
        for names, vals in zip(lines[0::2], lines[1::2]):
            proto, names = names.split(":", 1)
            for k, v in zip(names.split(), vals.split(":", 1)[1].split()):
                out[proto + "." + k] = int(v)
    keep = ("Tcp.RetransSegs", "TcpExt.TCPTimeouts", "TcpExt.TCPSynRetrans",
            "TcpExt.TCPLostRetransmit", "Tcp.AttemptFails", "Tcp.EstabResets", "Tcp.OutRsts")
    return {k: out.get(k, 0) for k in keep}


def porter_view(gw):
    st = gw.status()
    p = st["ports"][0]
    v = {"rx_frames": p["rx_frames"], "tx_frames": p["tx_frames"], "imissed": p.get("nic_imissed", 0),
         "ring_drops": p.get("ring_drops"), "fill_ring_empty": p.get("fill_ring_empty"),
         "pmd_wakeups": p.get("pmd_wakeups"), "pmd_empty_wakeups": p.get("pmd_empty_wakeups"),
         "pmd_muted": p.get("pmd_muted"), "rx_wait": p.get("rx_wait")}
    for k, n in p["drops"].items():
        v["drop." + k] = n
    for s in st["shards"]:
        v["shard.ring_full"] = v.get("shard.ring_full", 0) + s["ring_full"]
        for k, name in (("rto", "timeouts"), ("retransmits", "retransmits"),
                        ("established", "established"), ("passive_opens", "passive_opens"),
                        ("cookies_sent", "syncookies_sent")):
            v["tcp." + k] = v.get("tcp." + k, 0) + s["tcp"]["events"].get(name, 0)
        for k, n in s["tcp"]["drops"].items():
            v["tcp.drop." + k] = v.get("tcp.drop." + k, 0) + n
        v["streams"] = v.get("streams", 0) + s["tcp"]["streams"]
        for k in ("requests", "responses", "err_503", "no_session"):
            v["http." + k] = v.get("http." + k, 0) + (s.get("http") or {}).get(k, 0)
    v["mempool_in_use"] = st["mempool"]["in_use"]
    return v


def softnet_dropped():
    """Frames the kernel dropped for a full per-CPU backlog (all namespaces: whole box)."""
    with open("/proc/net/softnet_stat") as f:
        return sum(int(line.split()[1], 16) for line in f)


class Sampler:
    """Porter's counters every INTERVAL s while the burst runs (a thread): the timeline
    of where frames go and where they are lost."""

    def __init__(self, gw, interval=0.25):
        import threading
        self.gw, self.interval, self.rows = gw, interval, []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.pids = [gw.proc.pid] + [s["pid"] for s in gw.status()["shards"] if s["pid"]]
        self.t0 = time.monotonic()
        self.t.start()

    def loop(self):
        while not self.stop.wait(self.interval):
            with contextlib.suppress(Exception):
                st = self.gw.status(timeout=2)
                p = st["ports"][0]
                row = {"t": round(time.monotonic() - self.t0, 3), "rx": p["rx_frames"], "tx": p["tx_frames"],
                       "ring_drops": p.get("ring_drops"), "pmd_wakeups": p.get("pmd_wakeups"),
                       "cpu_ms": [round(cpu_ns(x) / 1e6) for x in self.pids]}
                for k in ("ring_full", "wakeups_sent", "wakeups", "rx_segments"):
                    row[k] = [s[k] for s in st["shards"]]
                row["rx_ring"] = [s["rx_ring"]["depth"] for s in st["shards"]]
                row["tx_ring"] = [s["tx_ring"]["depth"] for s in st["shards"]]
                row["sleeping"] = [s["sleeping"] for s in st["shards"]]
                for k in ("requests", "responses", "err_503", "upstream_connect_failures", "upstream_connects"):
                    row[k] = sum((s.get("http") or {}).get(k, 0) for s in st["shards"])
                row["rto"] = sum(s["tcp"]["events"].get("timeouts", 0) for s in st["shards"])
                row["streams"] = sum(s["tcp"]["streams"] for s in st["shards"])
                with open("/proc/stat") as f:
                    v = [int(x) for x in f.readline().split()[1:]]
                row["box_busy_ticks"] = sum(v[:8]) - v[3] - v[4]
                self.rows.append(row)

    def finish(self):
        self.stop.set()
        self.t.join(5)
        return self.rows


def snapshot(gw, topo):
    return {"porter": porter_view(gw), "veth_client": link(NS["cl"], topo.cl_dev),
            "box": {"softnet_dropped": softnet_dropped()},
            "veth_porter": link(NS["pt"], topo.dev["pt1"]), "client_tcp": kernel_tcp(NS["cl"]),
            "cpu": (cpu_ns(gw.proc.pid), sum(cpu_ns(s["pid"]) for s in gw.status()["shards"] if s["pid"]))}


def settle(gw, topo, timeout=10.0):
    """Wait until nothing moves on the wire for 0.5 s (delayed ACKs, the last responses)."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        cur = (link(NS["cl"], topo.cl_dev)["tx"], gw.status()["ports"][0]["rx_frames"])
        if cur != last:
            last, since = cur, time.monotonic()
        elif time.monotonic() - since >= 0.5:
            return True
        time.sleep(0.1)
    return False


def delta(a, b):
    out = {}
    for part in ("porter", "veth_client", "veth_porter", "client_tcp", "box"):
        for k, v in b[part].items():
            if isinstance(v, (int, float)) and isinstance(a[part].get(k), (int, float)):
                out[part + "." + k] = v - a[part][k]
    out["cpu_primary_s"] = (b["cpu"][0] - a["cpu"][0]) / 1e9
    out["cpu_workers_s"] = (b["cpu"][1] - a["cpu"][1]) / 1e9
    return out


def accounting(d):
    # veth_xmit counts what the peer's backlog refused as tx_dropped, not as tx
    sent = d["veth_client.tx"] + d["veth_client.tx_dropped"]
    delivered = d["veth_porter.rx"]
    rx = d["porter.rx_frames"]
    return {"sent": sent, "delivered": delivered, "porter_rx": rx,
            # and the other way: porter -> veth -> client
            "porter_tx": d["porter.tx_frames"], "veth_porter_tx": d["veth_porter.tx"],
            "client_rx": d["veth_client.rx"], "box_softnet_dropped": d["box.softnet_dropped"],
            "pmd_wakeups": d.get("porter.pmd_wakeups"), "pmd_empty_wakeups": d.get("porter.pmd_empty_wakeups"),
            "lost_in_kernel": sent - delivered, "lost_in_driver": delivered - rx,
            "ring_drops": d.get("porter.ring_drops"), "imissed": d.get("porter.imissed"),
            "neigh_queue_full": d.get("porter.drop.neigh_queue_full", 0),
            "no_neigh": d.get("porter.drop.no_neigh", 0),
            "port_ring_full": d.get("porter.drop.ring_full", 0), "tx_full": d.get("porter.drop.tx_full", 0),
            "tcp_rto": d.get("porter.tcp.rto", 0), "tcp_retransmits": d.get("porter.tcp.retransmits", 0),
            "client_retrans": d.get("client_tcp.Tcp.RetransSegs", 0),
            "client_timeouts": d.get("client_tcp.TcpExt.TCPTimeouts", 0),
            "client_syn_retrans": d.get("client_tcp.TcpExt.TCPSynRetrans", 0),
            "cpu_primary_s": d["cpu_primary_s"], "cpu_workers_s": d["cpu_workers_s"]}


def one_burst(a, topo, pmd, sources, client_bin, run_name):
    dev = "," + a.device_args if a.device_args else ""
    gwline = "" if a.same_subnet else ' gateway = "%s.1";' % NET["pt1"]
    ports = ('{ name = "front"; device = "net_%s0,iface=%s%s"; mac = "%s"; ipv4 = "%s.2/24";%s }, '
             '{ name = "back"; device = "net_%s1,iface=%s%s"; mac = "%s"; ipv4 = "%s.2/24"; }' % (
                 pmd, topo.dev["pt1"], dev, PORTER_MAC[0], NET["pt1"], gwline,
                 pmd, topo.dev["pt2"], dev, PORTER_MAC[1], NET["pt2"]))
    per_shard = max(65536, 1 << (int(a.clients * 1.3 / a.workers) - 1).bit_length())
    extra = ("tcp: { max_streams_per_shard = %d; };\nhttp: { max_sessions_per_shard = %d; };\n"
             % (per_shard, per_shard))
    gw = PorterAF(NS["pt"], ports, 20, a.workers, extra)
    with open(gw.conf) as f:
        conf = f.read().replace("mbufs = 16383;", "mbufs = %d;%s %s" % (
            a.mbufs, " ring_size = %d;" % a.ring_size if a.ring_size else "", a.dataplane))
    with open(gw.conf, "w") as f:
        f.write(conf)
    client = None
    r = {"pmd": pmd}
    try:
        gw.start()
        url = "http://%s.2:80/100" % NET["pt1"]
        for _ in range(20):   # ARP and the upstream pool, from one source of each kind
            ok = run(ns_cmd(NS["cl"], ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                       "--max-time", "3", "--interface", sources[0], url]),
                     check=False).stdout == "200"
            if ok:
                break
            time.sleep(0.2)
        if not ok:
            raise RuntimeError("porter does not answer %s from %s" % (url, sources[0]))
        settle(gw, topo)
        s0 = snapshot(gw, topo)
        sampler = Sampler(gw) if a.timeline else None
        prof = None
        if a.profile:
            prof = subprocess.Popen(a.profile.format(
                primary=gw.proc.pid, workers=",".join(str(s["pid"]) for s in gw.status()["shards"]),
                seconds=max(1, int(a.seconds)), run=run_name), shell=True)
        client = subprocess.Popen(ns_cmd(NS["cl"], [
            client_bin, "--dst", "%s.2:80" % NET["pt1"], "--src", ",".join(sources),
            "--clients", str(a.clients), "--seconds", str(a.seconds), "--timeout", str(a.timeout),
            "--batch", str(a.batch), "--close-seconds", str(a.seconds), "--hold", "120"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([client.stdout], [], [], a.seconds + a.timeout + 60)
        if not ready:
            raise RuntimeError("burst_client gave no result")
        r["client"] = json.loads(client.stdout.readline())
        if prof is not None:
            prof.wait()
        if sampler is not None:
            r["timeline"] = sampler.finish()
        settle(gw, topo)
        s1 = snapshot(gw, topo)
        r["rx_wait"] = s1["porter"]["rx_wait"]
        r["streams_idle"] = s1["porter"]["streams"]
        r["burst"] = accounting(delta(s0, s1))
        r["burst_raw"] = delta(s0, s1)
        print("burst: %s" % json.dumps(r["burst"]), flush=True)
        client.stdin.write("close\n")
        client.stdin.flush()
        r["client_done"] = json.loads(client.stdout.readline())
        client.wait(60)
        # the clients' streams close (upstream connections stay pooled): until the count
        # stops falling
        last, since, deadline = None, time.monotonic(), time.monotonic() + 60
        while time.monotonic() < deadline and time.monotonic() - since < 2:
            n = porter_view(gw)["streams"]
            if n != last:
                last, since = n, time.monotonic()
            time.sleep(0.2)
        settle(gw, topo)
        s2 = snapshot(gw, topo)
        r["close"] = accounting(delta(s1, s2))
        r["mempool_in_use_before_after"] = [s0["porter"]["mempool_in_use"], s2["porter"]["mempool_in_use"]]
        r["streams_before_after"] = [s0["porter"]["streams"], s2["porter"]["streams"]]
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        with contextlib.suppress(Exception):
            r["log"] = [ln for ln in gw.log_text().splitlines()
                        if any(w in ln.lower() for w in ("warn", "error", "mute", "receiving again"))][-20:]
        gw.cleanup()
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pmds", default="af_packet,af_xdp")
    ap.add_argument("--clients", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=7.0, help="open the clients over this long")
    ap.add_argument("--timeout", type=float, default=30.0, help="wait this long after the last open")
    ap.add_argument("--batch", type=int, default=1,
                    help="open clients B at a time (same average rate): harsher bursts of SYNs")
    ap.add_argument("--sources", type=int, default=8, help="client source addresses")
    ap.add_argument("--same-subnet", action="store_true", help="sources on the veth, ARPed by porter")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mbufs", type=int, default=65535)
    ap.add_argument("--ring-size", type=int, default=0, help="porter's dataplane.ring_size (default: porter's)")
    ap.add_argument("--dataplane", default="", help="more of porter's dataplane settings, "
                    "e.g. 'primary_spin_us = 50;'")
    ap.add_argument("--device-args", default="", help="extra devargs for porter's ports")
    ap.add_argument("--timeline", action="store_true", help="sample porter's counters every 250 ms "
                    "during the burst (JSON: timeline)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each (pmd, build), interleaved A B B A ...")
    ap.add_argument("--profile", default="",
                    help="shell command run during the burst ({primary}, {workers}: pids, {seconds}, "
                         "{run}), e.g. perf record")
    ap.add_argument("--no-drain", action="store_true",
                    help="do not wait for the previous run's TIME_WAIT sockets to expire")
    ap.add_argument("--builds", default="", help="LABEL=BUILD_DIR,... (default: $PORTER_BUILD)")
    ap.add_argument("--out", default=os.path.join(BUILD, "bench-burst.json"))
    a = ap.parse_args()
    if not 1 <= a.clients <= 1000000 or not 1 <= a.sources <= 200:
        raise SystemExit("--clients 1..1000000, --sources 1..200")

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    builds = []
    for spec in (a.builds.split(",") if a.builds else [BUILD]):
        label, _, path = spec.rpartition("=")
        builds.append((label or os.path.basename(os.path.dirname(os.path.abspath(path))),
                       os.path.abspath(path)))
    client_bin = os.path.join(BUILD, "tests", "burst_client")
    if not os.path.exists(client_bin):
        raise SystemExit("%s missing: build first (tools/build.sh)" % client_bin)
    tmp = tempfile.mkdtemp(prefix="porter-bench-burst-")
    os.chmod(tmp, 0o755)
    topo = None
    servers = []
    results = []
    try:
        topo = Topology()
        topo.cl_dev = "wcb" + TAG[-6:]    # the client's end of porter's front veth
        nrun = [0]

        def fresh_sources():
            """Source addresses no earlier run used: its TIME_WAIT sockets (the clients
            close first) would slow every connect() of the next run down."""
            k = nrun[0]
            nrun[0] += 1
            if a.same_subnet:
                srcs = ["%s.%d" % (NET["pt1"], SUBNET_FIRST + k * a.sources + i) for i in range(a.sources)]
                if SUBNET_FIRST + (k + 1) * a.sources > 254:
                    raise SystemExit("--same-subnet: too many runs x sources for one /24")
                for ip in srcs:
                    run(["ip", "-n", NS["cl"], "addr", "add", ip + "/24", "dev", topo.cl_dev])
            else:
                srcs = ["%s.%d.%d" % (ROUTED, k + 1, 1 + i) for i in range(a.sources)]
                for ip in srcs:
                    run(["ip", "-n", NS["cl"], "addr", "add", ip + "/32", "dev", "lo"])
            return srcs

        def time_wait():
            r = run(ns_cmd(NS["cl"], ["ss", "-Htan", "state", "time-wait"]), check=False)
            return len(r.stdout.splitlines())
        run(ns_cmd(NS["cl"], ["sysctl", "-qw", "net.ipv4.tcp_max_syn_backlog=65536"]))
        # A B B A ...: no build always runs right after the other
        runs = [(rep, pmd, lb) for rep in range(a.repeat) for pmd in a.pmds.split(",")
                for lb in (builds if rep % 2 == 0 else builds[::-1])]
        for rep, pmd, (label, build) in runs:
            print("--- %s (%s): %d clients over %.1f s in batches of %d from %d sources%s" % (
                pmd, label, a.clients, a.seconds, a.batch, a.sources,
                " (same subnet)" if a.same_subnet else " (routed)"), flush=True)
            if nrun[0] and not a.no_drain:
                # and the kernel's timers for them: let the last run's TIME_WAITs expire
                t0 = time.monotonic()
                while time_wait() > 100 and time.monotonic() - t0 < 75:
                    time.sleep(1)
            # a backend of its own: the previous porter's pooled upstream connections,
            # never closed, would still be open there, and a new porter reusing one of
            # their ports gets a challenge ACK and retransmits its SYN after 1 s
            d = os.path.join(tmp, "backend-%d" % nrun[0])
            os.makedirs(os.path.join(d, "www"))
            with open(os.path.join(d, "nginx.conf"), "w") as f:
                f.write(NGINX_COMMON % {"d": d, "body": BACKEND_HTTP % {
                    "port": BACKEND_PORT, "d": d, "body": BODY_100[:-1] + "\\n"}})
            servers.append(Proc("backend", NS["cl"], [
                "nginx", "-p", d, "-e", os.path.join(d, "error.log"), "-c",
                os.path.join(d, "nginx.conf"), "-g", "daemon off;"], d,
                "http://127.0.0.1:%d/100" % BACKEND_PORT))
            try:
                with use_build(build):
                    r = one_burst(a, topo, pmd, fresh_sources(), client_bin, "%s-%s-%d" % (pmd, label, rep))
            finally:
                servers.pop().stop()
            r["build"], r["build_dir"], r["repeat"] = label, build, rep
            results.append(r)
            c, b = r["client"], r["burst"]
            print("clients: %d done, %d failed, %d unfinished; opened in %.1f s, all answered "
                  "after %.1f s; connect p50/p99 %s/%s ms, response p50/p99/max %s/%s/%s ms" % (
                      c["done"], c["failed"], c["unfinished"], c["open_s"], c["ready_s"],
                      *(("%.2f" % c["connect_ms"][k]) if c["connect_ms"] else "-" for k in ("p50", "p99")),
                      *(("%.1f" % c["response_ms"][k]) if c["response_ms"] else "-"
                        for k in ("p50", "p99", "max"))), flush=True)
            print("close: %s" % json.dumps(r["close"]), flush=True)

        print("\n%d clients over %.1f s in batches of %d, %d %s sources, porter %d workers; load avg "
              "at end %s\n" % (
            a.clients, a.seconds, a.batch, a.sources, "same-subnet" if a.same_subnet else "routed",
            a.workers, "%.2f %.2f %.2f" % os.getloadavg()))
        print("| pmd | build | RX wait | done / failed | response p50 / p99 / max ms | sent to porter "
              "| lost in kernel | lost in driver | ring_drops / imissed (status) | neigh_queue_full "
              "| porter TCP RTOs | client retrans (timeouts) | CPU s primary + workers |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in results:
            c, b = r["client"], r["burst"]
            rm = c["response_ms"] or {}
            print("| %s | %s | %s | %d / %d | %s | %d | %d | %d | %s / %s | %d | %d | %d (%d) | %.1f + %.1f |" % (
                r["pmd"], r["build"], r.get("rx_wait") or "backoff", c["done"], c["failed"] + c["unfinished"],
                "%.1f / %.1f / %.1f" % (rm["p50"], rm["p99"], rm["max"]) if rm else "-",
                b["sent"], b["lost_in_kernel"], b["lost_in_driver"],
                "-" if b["ring_drops"] is None else b["ring_drops"], b["imissed"],
                b["neigh_queue_full"], b["tcp_rto"], b["client_retrans"], b["client_timeouts"],
                b["cpu_primary_s"], b["cpu_workers_s"]))
        print("\n(the close storm that follows, same columns: %s)" % "; ".join(
            "%s/%s lost %d+%d, rto %d" % (r["pmd"], r["build"], r["close"]["lost_in_kernel"],
                                          r["close"]["lost_in_driver"], r["close"]["tcp_rto"])
            for r in results))
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
