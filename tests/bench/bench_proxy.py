#!/usr/bin/env python3
"""HTTP reverse-proxy benchmark: porter against nginx and HAProxy, measured in one run.

  python3 tests/bench/bench_proxy.py [--quick] [--rounds 3] [--seconds 10] [--workers 1]

Run as root. One wrk (-t1 -c32, --latency), one backend, four contenders:

  direct       no proxy: wrk -> backend. Both are in namespace A, so the packets never
               leave A's kernel (local delivery over lo): the ceiling of client+backend.
  porter       porter-primary + N porter-worker (harness.Gateway, N = --workers) on a
               net_tap device; porter is 10.99.0.2, the tap's kernel side 10.99.0.1 (ns A).
               wrk (ns A) -> tap -> porter-primary (DPDK) -> ring -> worker (porter's TCP,
               HTTP) -> ring -> primary -> tap -> backend (ns A, 10.99.0.1:8081), and the
               response back the same way: every request crosses the tap four times.
               net_tap's kernel->DPDK direction tops out near 100 kpps on this machine
               (/work/shared/docs/PLATFORM.md), so porter's ceiling here is set by the
               tap as much as by porter itself.
  nginx-proxy  nginx 1 worker (proxy_pass, upstream keepalive 64, HTTP/1.1, Connection "")
  haproxy      HAProxy mode http, nbthread 1, http-reuse always, no logging
               Both run in namespace B, joined to A by a veth pair (A: 10.98.0.1,
               B: 10.98.0.2): wrk (ns A) -> veth -> proxy (ns B, Linux TCP) -> veth ->
               backend (ns A, 10.99.0.1:8081, a local address of A reached via the veth)
               and back: four veth crossings per request, like porter's four tap
               crossings. The veth ends are set like the tap's kernel side (tx checksum
               and TSO off, so both directions carry <= 1500-byte frames with full
               checksums); --veth-offloads leaves the veth defaults (64 KiB TSO frames).

Backend: nginx, 1 worker, access_log off, keepalive_requests 1e6, on 10.99.0.1:8081 in
ns A: /small = `return 200 "hello\\n"`, /16k.bin = a 16 KiB static file.

Workloads (same wrk for everyone): ka-small (keep-alive, /small), ka-16k (keep-alive,
/16k.bin), close-small (`Connection: close`: a new client connection per request; the
proxies keep their upstream connections alive).

Figures per run: wrk requests/s, p50/p99 (wrk --latency), and CPU-us per request:
  proxy    porter: primary + workers (schedstat of every thread); nginx: master + worker;
           haproxy: its process. Caveat: kernel TCP/IP work done in softirq is charged to
           whatever task runs at the time (often wrk or the backend for a Linux proxy,
           sometimes porter for the tap's kernel side), and porter's figure includes its
           busy-polling (spin_us). The "box" column is therefore also given:
  box      all non-idle CPU of the machine (/proc/stat) per request, client and backend
           included (anything else running on the machine too: noisy).
  backend  the backend nginx (master + worker), for reference.
Rounds are interleaved (every contender runs each workload once per round, the order
rotated each round) and medians over rounds are reported, with ratios to direct and to
nginx-proxy taken from those medians. Not a test: it asserts nothing about speed.
Prints a markdown table; JSON (medians, every run, porter's counter deltas) goes to
$PORTER_BUILD/bench-proxy.json. Namespaces, processes (by their pids), hugepage files and
temp dirs it creates are removed on exit, Ctrl-C and errors included.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import BUILD, PEER_IP, PORTER_IP, Gateway, cpu_ns, parse_wrk, run, wait_for  # noqa: E402

TAG = str(os.getpid())
BACKEND_PORT = 8081
VETH_A_IP = "10.98.0.1"   # namespace A's end of the veth
VETH_B_IP = "10.98.0.2"   # the proxies' namespace
NGINX_PROXY_PORT = 80
HAPROXY_PORT = 81
SMALL_BODY = "hello\n"
BIG_SIZE = 16 * 1024

PORTER_CONF = """
listeners = ( { port = 80; protocol = "http"; } );
upstreams = ( { name = "app"; servers = ( { address = "%s:%d"; } ); keepalive = { max_idle = 64; }; } );
routes = ( { upstream = "app"; } );
""" % (PEER_IP, BACKEND_PORT)

NGINX_COMMON = """user root;
worker_processes 1;
error_log %(d)s/error.log warn;
pid %(d)s/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
%(body)s
}
"""

BACKEND_HTTP = """    server {
        listen %(ip)s:%(port)d backlog=4096;
        root %(d)s/www;
        location = /small { default_type text/plain; return 200 "hello\\n"; }
    }"""

PROXY_HTTP = """    upstream app {
        server %(ip)s:%(port)d;
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 120s;
    }
    server {
        listen %(listen)s backlog=4096;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }"""

HAPROXY_CONF = """global
    nbthread 1
    maxconn 4096
    pidfile %(d)s/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    http-reuse always
frontend fe
    bind %(listen)s
    default_backend be
backend be
    server s1 %(ip)s:%(port)d
"""

WORKLOADS = [  # name, path, extra wrk args
    ("ka-small", "/small", []),
    ("ka-16k", "/16k.bin", []),
    ("close-small", "/small", ["-H", "Connection: close"]),
]

# porter counters worth a look after each run (deltas are kept in the JSON)
PORTER_HTTP_BAD = ("err_400", "err_404", "err_408", "err_502", "err_503", "err_504",
                   "upstream_connect_failures", "client_aborts", "upstream_aborts",
                   "retries", "no_session")
PORTER_TCP_EV = ("retransmits", "timeouts", "resets_sent", "resets_received",
                 "time_wait_reuse", "syncookies_sent")


def ns_cmd(ns, cmd):
    return ["ip", "netns", "exec", ns] + cmd


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def box_busy_ns():
    """Non-idle CPU time of the whole machine, in ns (/proc/stat, tick-sampled)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v[:8]) - v[3] - v[4]   # user..steal minus idle and iowait
    return busy * 1e9 / os.sysconf("SC_CLK_TCK")


class Proc:
    """A server started with `ip netns exec NS ...` (ip execs it: Popen.pid is the
    server's pid). The pids of its children (nginx workers) are noted so that cleanup
    can kill exactly those if the master does not stop them."""

    def __init__(self, name, ns, cmd, dirname, ready_url, stop_sig=signal.SIGTERM):
        self.name, self.ns, self.dir, self.stop_sig = name, ns, dirname, stop_sig
        self.name_in_cmdline = os.path.basename(cmd[0]).encode()
        self.err = open(os.path.join(dirname, "stderr.log"), "w")
        self.p = subprocess.Popen(ns_cmd(ns, cmd), stdout=self.err, stderr=subprocess.STDOUT)
        self.known_children = set()

        def up():
            if self.p.poll() is not None:
                raise RuntimeError("%s exited (%s): %s" % (name, self.p.returncode, self.log_tail()))
            r = run(ns_cmd(ns, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--max-time", "2", ready_url]), check=False)
            return r.stdout.strip() == "200"
        try:
            wait_for(up, 20, "%s answering %s" % (name, ready_url), interval=0.1)
            self.pids()
        except BaseException:
            print("--- %s log (tail) ---\n%s" % (name, self.log_tail()), file=sys.stderr)
            self.stop()
            raise

    def log_tail(self, n=2000):
        out = []
        for f in ("stderr.log", "error.log"):
            with contextlib.suppress(OSError):
                with open(os.path.join(self.dir, f), errors="replace") as fh:
                    out.append(fh.read()[-n:])
        return "\n".join(out)

    def pids(self):
        kids = children(self.p.pid)
        self.known_children.update(kids)
        return [self.p.pid] + kids

    def cpu_ns(self):
        return sum(cpu_ns(p) for p in self.pids())

    def stop(self):
        with contextlib.suppress(Exception):
            self.pids()
        if self.p.poll() is None:
            self.p.send_signal(self.stop_sig)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        for pid in self.known_children:   # only the workers this server started, if left
            with contextlib.suppress(OSError):
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    alive = self.name_in_cmdline in f.read()
                if alive:
                    os.kill(pid, signal.SIGKILL)
        self.err.close()


def nginx(name, ns, dirname, body, ready_url):
    os.makedirs(dirname, exist_ok=True)
    conf = os.path.join(dirname, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_COMMON % {"d": dirname, "body": body})
    return Proc(name, ns, ["nginx", "-p", dirname, "-e", os.path.join(dirname, "error.log"),
                           "-c", conf, "-g", "daemon off;"], dirname, ready_url)


def haproxy(name, ns, dirname, ready_url):
    os.makedirs(dirname, exist_ok=True)
    conf = os.path.join(dirname, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(HAPROXY_CONF % {"d": dirname, "listen": "%s:%d" % (VETH_B_IP, HAPROXY_PORT),
                                "ip": PEER_IP, "port": BACKEND_PORT})
    # stopped with SIGTERM (HAProxy's immediate stop): nothing is in flight by then
    return Proc(name, ns, ["haproxy", "-db", "-f", conf], dirname, ready_url)


class PorterCPU:
    """CPU of porter-primary (gw.proc: `ip netns exec` execs the primary, so its pid is
    the primary's) and of every worker named in the status."""

    def __init__(self, gw):
        self.gw = gw

    def pids(self):
        return [self.gw.proc.pid] + [s["pid"] for s in self.gw.status()["shards"] if s["pid"]]

    def cpu_ns(self):
        return sum(cpu_ns(p) for p in self.pids())


# --- wrk ----------------------------------------------------------------------------



def wrk(ns, url, seconds, threads, conns, extra=()):
    cmd = ns_cmd(ns, ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
                      "--timeout", "4s", "--latency"] + list(extra) + [url])
    r = run(cmd, check=False, timeout=seconds + 60)
    res = parse_wrk(r.stdout + r.stderr)
    res["rc"] = r.returncode
    if r.returncode != 0 or not res["requests"]:
        res["output"] = (r.stdout + r.stderr)[-1500:]
    return res


def porter_counters(gw):
    """Summed shard counters of interest, plus restarts and port drops."""
    st = gw.status()
    c = {"worker_pids": [s["pid"] for s in st["shards"]]}
    for s in st["shards"]:
        for k in PORTER_HTTP_BAD + ("requests", "responses", "upstream_connects", "upstream_reused"):
            c["http." + k] = c.get("http." + k, 0) + s["http"].get(k, 0)
        for k in PORTER_TCP_EV:
            c["tcp." + k] = c.get("tcp." + k, 0) + s["tcp"]["events"].get(k, 0)
        for k, v in s["tcp"]["drops"].items():
            c["tcp.drop." + k] = c.get("tcp.drop." + k, 0) + v
        c["restarts"] = c.get("restarts", 0) + s["restarts"]
        c["ring_full"] = c.get("ring_full", 0) + s["ring_full"]
    # the tap's kernel side (tx = towards porter): drops there are invisible to porter
    r = gw.ns(["ip", "-j", "-s", "link", "show", "dev", gw.iface], check=False)
    with contextlib.suppress(Exception):
        st64 = json.loads(r.stdout)[0]["stats64"]
        for d in ("rx", "tx"):
            for k in ("dropped", "errors"):
                c["kernel_tap.%s_%s" % (d, k)] = st64[d][k]
    for p in st["ports"]:
        for k in ("rx_frames", "tx_frames", "nic_imissed", "nic_ierrors", "nic_oerrors"):
            c["port." + k] = c.get("port." + k, 0) + p[k]
        for k, v in p["drops"].items():
            if k != "not_our_mac":
                c["port.drop." + k] = c.get("port.drop." + k, 0) + v
    return c


def counter_delta(a, b):
    d = {k: b[k] - a.get(k, 0) for k in b if k != "worker_pids" and b[k] != a.get(k, 0)}
    if a["worker_pids"] != b["worker_pids"]:
        d["worker_pids"] = [a["worker_pids"], b["worker_pids"]]
    return d


# --- topology -----------------------------------------------------------------------

class ProxyNS:
    """Namespace B with a veth to namespace A (the gateway's)."""

    def __init__(self, ns_a, offloads):
        self.ns = "pbench-px-" + TAG
        self.ns_a = ns_a
        self.created = False
        run(["ip", "netns", "add", self.ns])
        self.created = True
        try:
            self._setup(ns_a, offloads)
        except BaseException:
            self.close()
            raise

    def _setup(self, ns_a, offloads):
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        va, vb = "pbva" + TAG[-8:], "pbvb" + TAG[-8:]
        run(["ip", "-n", ns_a, "link", "add", va, "type", "veth", "peer", "name", vb,
             "netns", self.ns])
        run(["ip", "-n", ns_a, "addr", "add", VETH_A_IP + "/24", "dev", va])
        run(["ip", "-n", self.ns, "addr", "add", VETH_B_IP + "/24", "dev", vb])
        if not offloads:
            # like the tap's kernel side: no TSO, no checksum offload
            for n, dev in ((ns_a, va), (self.ns, vb)):
                run(ns_cmd(n, ["ethtool", "-K", dev, "tx", "off", "tso", "off"]), check=False)
        run(["ip", "-n", ns_a, "link", "set", va, "up"])
        run(["ip", "-n", self.ns, "link", "set", vb, "up"])
        run(["ip", "-n", self.ns, "route", "add", "default", "via", VETH_A_IP])

    def close(self):
        if self.created:
            run(["ip", "netns", "del", self.ns], check=False)   # takes the veth pair along
            self.created = False


def fmt(v, spec="%.0f"):
    return "-" if v is None else spec % v


def ratio(a, b):
    return None if not a or not b else a / b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds of 4 s (about 2 minutes)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--seconds", type=int, default=None, help="wrk -d per run")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1, help="porter worker processes")
    ap.add_argument("--veth-offloads", action="store_true",
                    help="leave TSO/checksum offload on the veth (default: off, like the tap)")
    ap.add_argument("--only", default="", help="comma-separated contenders to run")
    ap.add_argument("--out", default=os.path.join(BUILD, "bench-proxy.json"))
    a = ap.parse_args()
    rounds = a.rounds or (2 if a.quick else 3)
    seconds = a.seconds or (4 if a.quick else 10)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="porter-bench-proxy-")
    os.chmod(tmp, 0o755)
    gw = pns = None
    servers = []
    try:
        gw = Gateway(workers=a.workers, extra=PORTER_CONF, name="pbench" + TAG)
        gw.__enter__()
        ns_a = gw.netns
        pns = ProxyNS(ns_a, a.veth_offloads)

        www = os.path.join(tmp, "backend", "www")
        os.makedirs(www)
        with open(os.path.join(www, "16k.bin"), "wb") as f:
            f.write(bytes((i * 7 + (i >> 8)) & 0xff for i in range(BIG_SIZE)))
        backend = nginx("backend", ns_a, os.path.join(tmp, "backend"),
                        BACKEND_HTTP % {"ip": PEER_IP, "port": BACKEND_PORT,
                                        "d": os.path.join(tmp, "backend")},
                        "http://%s:%d/small" % (PEER_IP, BACKEND_PORT))
        servers.append(backend)
        ngx = nginx("nginx-proxy", pns.ns, os.path.join(tmp, "nginx-proxy"),
                    PROXY_HTTP % {"ip": PEER_IP, "port": BACKEND_PORT,
                                  "listen": "%s:%d" % (VETH_B_IP, NGINX_PROXY_PORT)},
                    "http://%s:%d/small" % (VETH_B_IP, NGINX_PROXY_PORT))
        servers.append(ngx)
        hap = haproxy("haproxy", pns.ns, os.path.join(tmp, "haproxy"),
                      "http://%s:%d/small" % (VETH_B_IP, HAPROXY_PORT))
        servers.append(hap)
        wait_for(lambda: run(ns_cmd(ns_a, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                           "--max-time", "2", "http://%s/small" % PORTER_IP]),
                             check=False).stdout.strip() == "200", 20, "porter answering")

        contenders = [  # name, base URL, CPU source
            ("direct", "http://%s:%d" % (PEER_IP, BACKEND_PORT), None),
            ("porter", "http://%s" % PORTER_IP, PorterCPU(gw)),
            ("nginx-proxy", "http://%s:%d" % (VETH_B_IP, NGINX_PROXY_PORT), ngx),
            ("haproxy", "http://%s:%d" % (VETH_B_IP, HAPROXY_PORT), hap),
        ]
        if a.only:
            keep = a.only.split(",")
            contenders = [c for c in contenders if c[0] in keep]

        # every contender serves both resources correctly before anything is timed
        for name, base, _ in contenders:
            for path, want in (("/small", len(SMALL_BODY)), ("/16k.bin", BIG_SIZE)):
                r = run(ns_cmd(ns_a, ["curl", "-sS", "-o", "/dev/null", "-w",
                                      "%{http_code} %{size_download}", "--max-time", "5",
                                      base + path]), check=False)
                if r.stdout.split() != ["200", str(want)]:
                    raise RuntimeError("%s %s: %r %s" % (name, path, r.stdout, r.stderr))
        for name, base, _ in contenders:   # warm-up: ARP, upstream pools, caches
            wrk(ns_a, base + "/small", 1, a.threads, a.conns)

        runs = {c[0]: {w[0]: [] for w in WORKLOADS} for c in contenders}
        porter_notes = []
        for rnd in range(rounds):
            for wname, path, extra in WORKLOADS:
                k = rnd % len(contenders)
                for name, base, cpu in contenders[k:] + contenders[:k]:
                    is_porter = name == "porter"
                    pc0 = porter_counters(gw) if is_porter else None
                    c0 = cpu.cpu_ns() if cpu else 0
                    b0, x0 = backend.cpu_ns(), box_busy_ns()
                    res = wrk(ns_a, base + path, seconds, a.threads, a.conns, extra)
                    c1 = cpu.cpu_ns() if cpu else 0
                    b1, x1 = backend.cpu_ns(), box_busy_ns()
                    n = res["requests"] or 1
                    res["proxy_cpu_us_per_req"] = (c1 - c0) / 1e3 / n if cpu else None
                    res["backend_cpu_us_per_req"] = (b1 - b0) / 1e3 / n
                    res["box_cpu_us_per_req"] = (x1 - x0) / 1e3 / n
                    res["round"] = rnd
                    if is_porter:
                        d = counter_delta(pc0, porter_counters(gw))
                        res["porter_counters"] = d
                        # frames through the tap: how close porter runs to net_tap's ~100 kpps
                        res["tap_rx_kpps"] = d.get("port.rx_frames", 0) / seconds / 1e3
                        res["tap_tx_kpps"] = d.get("port.tx_frames", 0) / seconds / 1e3
                        res["tap_frames_per_req"] = (d.get("port.rx_frames", 0) +
                                                     d.get("port.tx_frames", 0)) / n
                        bad = {k2: v for k2, v in d.items()
                               if k2 == "worker_pids" or k2 == "restarts" or
                               k2.split(".")[-1] in PORTER_HTTP_BAD or ".drop." in k2 or
                               k2.startswith("kernel_tap.") or
                               k2 in ("tcp.retransmits", "tcp.timeouts", "tcp.resets_sent",
                                      "ring_full", "port.nic_imissed")}
                        if bad or res["non2xx3xx"] or res["socket_errors"] or res["rc"]:
                            porter_notes.append({"round": rnd, "workload": wname, "counters": bad,
                                                 "non2xx3xx": res["non2xx3xx"],
                                                 "socket_errors": res.get("socket_errors_detail"),
                                                 "rc": res["rc"], "requests": res["requests"]})
                    runs[name][wname].append(res)
                    print("round %d %-12s %-11s %8.0f req/s  p50 %s ms  p99 %s ms  proxy %s us/req"
                          "%s" % (rnd, wname, name, res["rps"], fmt(res["p50_ms"], "%.3f"),
                                  fmt(res["p99_ms"], "%.3f"),
                                  fmt(res["proxy_cpu_us_per_req"], "%.1f"),
                                  ("  errors: non2xx %d, socket %d, rc %d" % (
                                      res["non2xx3xx"], res["socket_errors"], res["rc"])
                                   if res["non2xx3xx"] or res["socket_errors"] or res["rc"]
                                   else "")), flush=True)

        keys = ("rps", "p50_ms", "p99_ms", "max_ms", "proxy_cpu_us_per_req",
                "backend_cpu_us_per_req", "box_cpu_us_per_req", "tap_rx_kpps", "tap_tx_kpps",
                "tap_frames_per_req")
        med = {}
        for name in runs:
            med[name] = {}
            for wname, rs in runs[name].items():
                m = {}
                for k2 in keys:
                    vals = [r[k2] for r in rs if r.get(k2) is not None]
                    m[k2] = statistics.median(vals) if vals else None
                m["errors"] = sum(r["non2xx3xx"] + r["socket_errors"] for r in rs)
                med[name][wname] = m

        print()
        print("porter: %d worker(s); veth offloads %s; wrk -t%d -c%d, %d s x %d rounds, "
              "medians; load avg at end %s" % (a.workers, "on" if a.veth_offloads else "off",
                                               a.threads, a.conns, seconds, rounds,
                                               os.getloadavg()))
        print()
        print("| workload | contender | req/s | x direct | x nginx | p50 ms | p99 ms | "
              "proxy CPU-us/req | x nginx CPU | backend CPU-us/req | box CPU-us/req | errors |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for wname, _, _ in WORKLOADS:
            d = med.get("direct", {}).get(wname, {})
            nx = med.get("nginx-proxy", {}).get(wname, {})
            for name in runs:
                m = med[name][wname]
                print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                    wname, name, fmt(m["rps"]), fmt(ratio(m["rps"], d.get("rps")), "%.2f"),
                    fmt(ratio(m["rps"], nx.get("rps")), "%.2f"),
                    fmt(m["p50_ms"], "%.3f"), fmt(m["p99_ms"], "%.3f"),
                    fmt(m["proxy_cpu_us_per_req"], "%.1f"),
                    fmt(ratio(m["proxy_cpu_us_per_req"], nx.get("proxy_cpu_us_per_req")), "%.2f"),
                    fmt(m["backend_cpu_us_per_req"], "%.1f"),
                    fmt(m["box_cpu_us_per_req"], "%.1f"), m["errors"]))
        if "porter" in med:
            print("\nporter's tap (medians): " + ", ".join(
                "%s %.0f kpps in / %.0f kpps out, %.1f frames/req" % (
                    w, m["tap_rx_kpps"], m["tap_tx_kpps"], m["tap_frames_per_req"])
                for w, m in med["porter"].items() if m["tap_rx_kpps"] is not None))
        if porter_notes:
            print("\nporter anomalies (counter deltas during a run):")
            for n in porter_notes:
                print("  " + json.dumps(n))
        log_lines = [ln for ln in gw.log_text().splitlines()
                     if re.search(r"error|warn|fail|died|kill|restart", ln, re.I)]
        if log_lines:
            print("\nporter-primary log, suspicious lines (%d):" % len(log_lines))
            for ln in log_lines[-15:]:
                print("  " + ln)
        out = {"config": {"rounds": rounds, "seconds": seconds, "threads": a.threads,
                          "conns": a.conns, "porter_workers": a.workers,
                          "veth_offloads": a.veth_offloads,
                          "workloads": [w[0] for w in WORKLOADS], "nproc": os.cpu_count(),
                          "loadavg_end": os.getloadavg(),
                          "elapsed_s": time.monotonic() - t_start},
               "median": med, "runs": runs, "porter_anomalies": porter_notes,
               "porter_log_suspicious": log_lines[-50:]}
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
        print("\nJSON: %s (%.0f s)" % (a.out, time.monotonic() - t_start))
    except BaseException:
        if gw is not None and gw.proc is not None:
            with contextlib.suppress(Exception):
                print("--- porter-primary log (tail) ---\n" + gw.log_text()[-3000:], file=sys.stderr)
        for s in servers:
            with contextlib.suppress(Exception):
                print("--- %s log (tail) ---\n%s" % (s.name, s.log_tail()), file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not skip cleanup
        for s in reversed(servers):
            with contextlib.suppress(Exception):
                s.stop()
        if pns is not None:
            pns.close()
        if gw is not None:
            gw.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    main()
