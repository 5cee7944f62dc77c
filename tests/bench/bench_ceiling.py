#!/usr/bin/env python3
"""Kernel-free ceiling: porter on net_memif, driven by porter-loadgen (porter's own TCP stack).

  python3 tests/bench/bench_ceiling.py [--quick] [--rounds 3] [--seconds 10] [--conns 64]
                                       [--workloads ka-100,close-100,ka-16k]

Run as root. No kernel is in porter's path: porter's one port is `net_memif` (role server,
socket in a temp dir), and the other end is porter-loadgen (tests/bench/loadgen/), a DPDK
primary of its own (own --file-prefix, not attached to porter) running porter's TCP stack
with an environment of its own. It owns two addresses on the memif subnet:

  10.90.0.1  client: N connections to porter's listener 10.90.0.2:80, each doing
             request/response in a loop (status line, Content-Length, body checked)
  10.90.0.3  backend: answers `GET /N` with N bytes of a fixed pattern; porter's upstream
             (keep-alive pool) points at 10.90.0.3:8081

so every request crosses porter twice (client -> porter -> backend -> porter -> client).

Placement (2 vCPUs): porter-primary and its one porter-worker float on CPU 0 (eal.cpus =
"0", default config otherwise: both sleep when idle, no spinning), the loadgen is pinned
to CPU 1 and busy-polls during a run. porter's memif port has no usable RX interrupt in
22.11 ("Rx Intr handle unset"), so the primary polls it with its adaptive backoff.

Workloads: ka-100 (keep-alive, 100-byte body), close-100 (`Connection: close`: a new client
connection per request; porter keeps its upstream connections), ka-16k (keep-alive, 16 KiB).

Per run (the loadgen brackets a measured window with "start"/"end" events while the load
is steady; both sides of the window are sampled the same way):
  req/s            requests completed in the window by the loadgen's clients
  porter CPU-us/req  schedstat of every thread of porter-primary and of the worker
  porter busy      porter's CPU time / window (1.0 = porter's CPU fully used)
  frames/req       rx + tx frames of porter's port (porterctl status --json)
  loadgen CPU-us/req schedstat of the loadgen (it busy-polls: ~ window / requests) and
                   busy-us/req, the loop iterations that had frames to handle
  p50/p99          request latency seen by the loadgen's clients
Correctness is checked first (every workload: a few requests with every body byte
verified, zero errors). Rounds interleave the workloads (order rotated per round); the
table shows medians. Not a test: it asserts nothing about speed. JSON goes to
$PORTER_BUILD/bench-ceiling.json. Everything it creates (namespace, processes by pid,
hugepage files and DPDK runtime dirs of both prefixes, the memif socket's temp dir) is
removed on exit, errors included; porter is stopped before the loadgen (in 22.11 the
surviving side of a memif pair sometimes crashes when its peer exits).
"""
import argparse
import contextlib
import glob
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_wire import WireGateway  # noqa: E402
from harness import BUILD, cpu_ns, run  # noqa: E402

LOADGEN = os.path.join(BUILD, "tests", "bench", "loadgen", "porter-loadgen")
TAG = str(os.getpid())
NET = "10.90.0"
PORTER_IP, CLIENT_IP, BACKEND_IP = NET + ".2", NET + ".1", NET + ".3"
PORTER_MAC, LOADGEN_MAC = "02:70:6f:72:74:21", "02:6c:67:00:00:01"
LISTEN_PORT, BACKEND_PORT = 80, 8081

WORKLOADS = [  # name, path (the backend's body size), Connection: close
    ("ka-100", "/100", False),
    ("close-100", "/100", True),
    ("ka-16k", "/16384", False),
]

PORTER_CONF = """eal: { file_prefix = "%(prefix)s"; lcore_base = %(lcore)d; cpus = "%(cpus)s"; };
ports = ( { name = "memif"; device = "net_memif0,role=server,id=0,rsize=%(rsize)d,socket-abstract=no,socket=%(sock)s";
            mac = "%(mac)s"; ipv4 = "%(ip)s/24"; } );
workers: { count = 1; binary = "porter-worker"; ready_timeout_ms = 10000; };
control: { socket = "%(ctl)s"; };
listeners = ( { port = %(lport)d; protocol = "http"; } );
upstreams = ( { name = "app"; servers = ( { address = "%(backend)s:%(bport)d"; } );
                keepalive = { max_idle = %(idle)d; }; } );
routes = ( { upstream = "app"; } );
%(extra)s
"""


def runq_wait_ns(pid):
    """Time the threads of PID spent runnable but waiting for a CPU (schedstat field 2):
    what the rest of the box took from it."""
    total = 0
    for f in glob.glob("/proc/%d/task/*/schedstat" % pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f) as fh:
                total += int(fh.read().split()[1])
    return total


class MemifGateway(WireGateway):
    """porter-primary + 1 worker with one net_memif port (server role), in namespace NETNS
    (porter makes no kernel traffic; the namespace is only a fence)."""
    one = two = BACKEND_IP   # WireGateway's template needs them; our own config replaces it

    def __init__(self, netns, memif_sock, rsize, cpus, lcore, max_idle, extra=""):
        super().__init__(netns, "", lcore, workers=1)
        with open(self.conf, "w") as f:
            f.write(PORTER_CONF % {"prefix": self.prefix, "lcore": lcore, "cpus": cpus,
                                   "sock": memif_sock, "rsize": rsize, "mac": PORTER_MAC, "ip": PORTER_IP,
                                   "ctl": self.sock, "lport": LISTEN_PORT, "backend": BACKEND_IP,
                                   "bport": BACKEND_PORT, "idle": max_idle, "extra": extra})

    def worker_pid(self):
        return self.status()["shards"][0]["pid"]


class Loadgen:
    """porter-loadgen as a child: JSON events on its stdout, commands on its stdin."""

    def __init__(self, tmp, memif_sock, rsize, cpu, lcore):
        self.prefix = "pceil%s_lg" % TAG
        self.log = os.path.join(tmp, "loadgen.log")
        self.logf = open(self.log, "w")
        self.buf = b""
        self.proc = subprocess.Popen(
            [LOADGEN, "--file-prefix", self.prefix, "--lcore", str(lcore), "--cpu", str(cpu),
             "--vdev", "net_memif0,role=client,id=0,rsize=%d,socket-abstract=no,socket=%s" % (rsize, memif_sock),
             "--mac", LOADGEN_MAC, "--client-ip", CLIENT_IP, "--backend-ip", BACKEND_IP,
             "--backend-port", str(BACKEND_PORT), "--target", "%s:%d" % (PORTER_IP, LISTEN_PORT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.logf)

    def wait_ready(self):
        """The port is up and porter's MAC known (ARP)."""
        return self.wait_event("ready", 30)

    def log_tail(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-3000:]

    def _line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("porter-loadgen: no answer in time\n" + self.log_tail())
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError("porter-loadgen exited (rc %s)\n%s" % (
                        self.proc.poll(), self.log_tail()))
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def wait_event(self, name, timeout, on_event=None):
        deadline = time.monotonic() + timeout
        while True:
            ev = self._line(deadline)
            if ev.get("event") == "error":
                raise RuntimeError("porter-loadgen: %s" % ev.get("message"))
            if ev.get("event") == name:
                return ev
            if on_event:
                on_event(ev)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def run(self, timeout, on_start=None, on_end=None, **kw):
        """One run; returns the "end" event (the window's figures)."""
        res = {}

        def on_event(ev):
            if ev["event"] == "start" and on_start:
                on_start()
            elif ev["event"] == "end":
                if on_end:
                    on_end()
                res["end"] = ev
        self.send("run " + " ".join("%s=%s" % (k, v) for k, v in kw.items()))
        self.wait_event("done", timeout, on_event)
        return res["end"]

    def cpu_ns(self):
        return cpu_ns(self.proc.pid)

    def close(self):
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.send("quit")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in glob.glob("/dev/hugepages/%smap_*" % self.prefix):
            with contextlib.suppress(OSError):
                os.unlink(f)
        shutil.rmtree("/var/run/dpdk/%s" % self.prefix, ignore_errors=True)
        self.logf.close()


def fmt(v, spec="%.0f"):
    return "-" if v is None else spec % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds of 4 s")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None, help="measured window per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="load before each window, s")
    ap.add_argument("--conns", type=int, default=64, help="client connections of the loadgen")
    ap.add_argument("--workloads", default="", help="comma-separated subset of " +
                    ",".join(w[0] for w in WORKLOADS))
    ap.add_argument("--porter-cpus", default="0", help="eal.cpus of porter (primary + worker)")
    ap.add_argument("--loadgen-cpu", type=int, default=1)
    ap.add_argument("--rsize", type=int, default=10,
                    help="memif ring size, log2 (both sides; 10 = 1024 slots, the PMD's default)")
    ap.add_argument("--porter-extra", default="", help="extra porter config (tuning runs)")
    ap.add_argument("--profile", default="",
                    help="during each window, run this shell command ({pids}: porter's pids, "
                         "{seconds}, {run}: a name for the run); e.g. perf record")
    ap.add_argument("--out", default=os.path.join(BUILD, "bench-ceiling.json"))
    a = ap.parse_args()
    rounds = a.rounds or (2 if a.quick else 3)
    seconds = a.seconds or (4 if a.quick else 10)
    workloads = [w for w in WORKLOADS if not a.workloads or w[0] in a.workloads.split(",")]
    if not os.path.exists(LOADGEN):
        sys.exit("no %s: build first (tools/build.sh)" % LOADGEN)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="porter-bench-ceiling-")
    memif_sock = os.path.join(tmp, "memif.sock")
    netns = "cel-" + TAG
    made_ns = False
    gw = lg = None
    try:
        run(["ip", "netns", "add", netns])
        made_ns = True
        gw = MemifGateway(netns, memif_sock, a.rsize, a.porter_cpus, 20, max(64, a.conns), a.porter_extra)
        gw.start()
        lg = Loadgen(tmp, memif_sock, a.rsize, a.loadgen_cpu, 30)
        lg.wait_ready()
        ppid, wpid = gw.proc.pid, gw.worker_pid()

        # correctness first: every workload returns the exact body, with no error
        for wname, path, close in workloads:
            ev = lg.run(60, conns=2, requests=50, verify=1, path=path, close=int(close),
                        warmup=0, tail=0, seconds=30, timeout_ms=5000)
            if ev["requests"] != 50 or ev["errors"] or ev["backend_errors"]:
                raise RuntimeError("%s: verification failed: %s" % (wname, json.dumps(ev)))
        print("verified: %s (50 requests each, every body byte checked)" %
              ", ".join(w[0] for w in workloads), flush=True)
        lg.run(30, conns=a.conns, seconds=2, warmup=0, tail=0, path="/100")   # warm-up

        runs = {}
        for rnd in range(rounds):
            k = rnd % len(workloads)
            for wname, path, close in workloads[k:] + workloads[:k]:
                snap = {}
                prof = []

                def sample(key):
                    t = time.monotonic()
                    c = (cpu_ns(ppid), cpu_ns(wpid), lg.cpu_ns(),
                         runq_wait_ns(ppid) + runq_wait_ns(wpid), runq_wait_ns(lg.proc.pid))
                    k = gw.counters()
                    snap[key] = (t, c, k["port.memif.rx_frames"] + k["port.memif.tx_frames"], k)

                def on_start():
                    sample("start")
                    if a.profile:
                        prof.append(subprocess.Popen(a.profile.format(
                            pids="%d,%d" % (ppid, wpid), seconds=max(1, int(seconds) - 1),
                            run="%s-r%d" % (wname, rnd)), shell=True))

                ev = lg.run(seconds + a.warmup + 60, on_start=on_start,
                            on_end=lambda: sample("end"), conns=a.conns, seconds=seconds,
                            warmup=a.warmup, tail=0.5, path=path, close=int(close))
                for p in prof:
                    p.wait()
                (t0, c0, f0, k0), (t1, c1, f1, k1) = snap["start"], snap["end"]
                n = ev["requests"] or 1
                res = {
                    "round": rnd, "rps": ev["rps"], "requests": ev["requests"],
                    "errors": ev["errors"], "err": ev["err"],
                    "p50_us": ev["p50_us"], "p99_us": ev["p99_us"],
                    "primary_cpu_us": (c1[0] - c0[0]) / 1e3 / n,
                    "worker_cpu_us": (c1[1] - c0[1]) / 1e3 / n,
                    "porter_busy": (c1[0] - c0[0] + c1[1] - c0[1]) / 1e9 / (t1 - t0),
                    "porter_runq_wait": (c1[3] - c0[3]) / 1e9 / (t1 - t0),
                    "loadgen_runq_wait": (c1[4] - c0[4]) / 1e9 / (t1 - t0),
                    "frames_per_req": (f1 - f0) / n,
                    "loadgen_frames_per_req": (ev["rx_frames"] + ev["tx_frames"]) / n,
                    "loadgen_cpu_us": (c1[2] - c0[2]) / 1e3 / n,
                    "loadgen_busy_us": ev["busy_us_per_req"],
                    "loadgen_busy": ev["busy"],
                    "loadgen_tcp": ev["tcp"], "loadgen_tx_dropped": ev["tx_dropped"],
                    "counters": {kk: k1[kk] - k0.get(kk, 0) for kk in k1 if k1[kk] != k0.get(kk, 0)},
                }
                res["porter_cpu_us"] = res["primary_cpu_us"] + res["worker_cpu_us"]
                runs.setdefault(wname, []).append(res)
                print("round %d %-9s %8.0f req/s  porter %.2f us/req (primary %.2f, worker %.2f, "
                      "busy %.2f, runq wait %.2f)  %.2f frames/req  loadgen busy %.2f us/req "
                      "(runq wait %.2f)  p50 %d p99 %d us  porter tx drops %d%s"
                      % (rnd, wname, res["rps"], res["porter_cpu_us"], res["primary_cpu_us"],
                         res["worker_cpu_us"], res["porter_busy"], res["porter_runq_wait"],
                         res["frames_per_req"], res["loadgen_busy_us"], res["loadgen_runq_wait"],
                         res["p50_us"], res["p99_us"],
                         res["counters"].get("port.memif.drop.tx_full", 0),
                         "  ERRORS %s" % json.dumps(res["err"]) if res["errors"] else ""),
                      flush=True)

        keys = ("rps", "primary_cpu_us", "worker_cpu_us", "porter_cpu_us", "porter_busy",
                "porter_runq_wait", "loadgen_runq_wait",
                "frames_per_req", "loadgen_cpu_us", "loadgen_busy_us", "p50_us", "p99_us")
        med = {}
        for wname, rs in runs.items():
            m = {k2: statistics.median([r[k2] for r in rs]) for k2 in keys}
            m["errors"] = sum(r["errors"] for r in rs)
            med[wname] = m

        print("\nporter: primary + 1 worker on CPU %s (default config, memif RX polled with "
              "backoff); porter-loadgen on CPU %d, %d connections; %g s windows x %d rounds, "
              "medians; load avg at end %s\n" % (a.porter_cpus, a.loadgen_cpu, a.conns, seconds,
                                                rounds, "%.2f %.2f %.2f" % os.getloadavg()))
        print("| workload | req/s | porter CPU-us/req: primary / worker / **total** | porter busy "
              "(runq wait) | 1e6 / CPU-us | frames/req | loadgen CPU-us/req (busy) runq wait "
              "| p50 / p99 us | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for wname, _, _ in workloads:
            m = med.get(wname)
            if m is None:
                continue
            print("| %s | %s | %.2f / %.2f / **%.2f** | %.2f (%.2f) | %s | %.2f | %.1f (%.2f) %.2f "
                  "| %s / %s | %d |" % (
                      wname, fmt(m["rps"]), m["primary_cpu_us"], m["worker_cpu_us"],
                      m["porter_cpu_us"], m["porter_busy"], m["porter_runq_wait"],
                      fmt(1e6 / m["porter_cpu_us"]), m["frames_per_req"], m["loadgen_cpu_us"],
                      m["loadgen_busy_us"], m["loadgen_runq_wait"], fmt(m["p50_us"]),
                      fmt(m["p99_us"]), m["errors"]))
        print("\nEvery column is a median of its own. porter busy: porter's CPU time (primary + "
              "worker) / window; runq wait: time the threads were runnable but waited for a "
              "CPU / window (for each other or for the rest of the box: a loadgen that waits "
              "lets porter's TX ring overflow); 1e6 / CPU-us: the req/s porter's one CPU would "
              "carry at that cost per request (derived, not measured)")
        print("targets (issue 9): <= 5 CPU-us per keep-alive request (primary + worker), "
              "<= 4.5 frames per keep-alive request")
        lines = [ln for ln in gw.log_text().splitlines()
                 if any(w in ln.lower() for w in ("error", "warn", "fail", "died", "restart"))]
        if lines:
            print("\nporter log, suspicious lines (%d):" % len(lines))
            for ln in lines[-10:]:
                print("  " + ln)
        out = {"config": vars(a), "elapsed_s": time.monotonic() - t_start,
               "loadavg_end": os.getloadavg(), "median": med, "runs": runs}
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
        print("\nJSON: %s (%.0f s)" % (a.out, time.monotonic() - t_start))
    except BaseException:
        if gw is not None:
            with contextlib.suppress(Exception):
                print("--- porter log (tail) ---\n%s" % gw.log_text()[-3000:], file=sys.stderr)
        if lg is not None:
            with contextlib.suppress(Exception):
                print("--- loadgen log (tail) ---\n%s" % lg.log_tail(), file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # porter first: the surviving side of a memif pair may crash when its peer exits
        if gw is not None:
            with contextlib.suppress(Exception):
                gw.cleanup()
        if lg is not None:
            with contextlib.suppress(Exception):
                lg.close()
        if made_ns:
            run(["ip", "netns", "del", netns], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    main()
