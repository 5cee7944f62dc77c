#!/usr/bin/env python3
"""Loss benchmark: porter's TCP against Linux's over the same impaired wire.

  python3 tests/bench/bench_loss.py [--mb 64] [--loss 0,0.1,1,2,5] [--rtt link,50]
        [--reorder none,on] [--dirs up,down] [--rounds 1] [--timeout 300]
        [--json build/bench-loss.json] [--log-dir DIR]
  python3 tests/bench/bench_loss.py --mtu 1280 --loss 0 --rtt link,50 --reorder none --mb 16
        (a PMTUD black hole: porter's PLPMTUD against Linux's tcp_mtu_probing = 1)
  python3 tests/bench/bench_loss.py --analyze LOG [--data-dir ab|ba] [--rtt-ms R]
  python3 tests/bench/bench_loss.py --selftest       (the impairer's own ceiling)

Topology, built once per stack in namespaces whose names carry this PID:

  lb-c-<stack>-PID          lb-r-<stack>-PID                 lb-s-<stack>-PID
  Linux client  c0 ==veth== ra  [build/tests/impair]  rb ==veth== s0  server
  10.97.0.1/24                  (bridges ra<->rb, no IPs)          10.97.0.2

  server = porter:  porter-primary + 1 worker on net_af_packet,iface=s0 (porter
                    owns 10.97.0.2; s0 itself has no address), services discard
                    (port 9) and source (one port per transfer size);
  server = linux:   a python server (discard / source) on 10.97.0.2 in lb-s.

The impairer (tests/bench/impair.c) is restarted for every transfer with the
cell's settings and a seed shared by porter's and Linux's transfer of the same
cell and round, so both stacks see the same loss pattern per frame index. "ab"
is client->server, "ba" server->client. Loss is applied to both directions (so
data and ACKs are lost); the delay is half the RTT each way; with reordering on,
--reorder-frac of the frames are held an extra --hold-link / --hold-50 ms so they
arrive after later ones. SYNs and the frame after each SYN are never impaired
(a lost SYN costs a fixed 1 s initial RTO that would swamp the link-RTT cells).
Every veth has tso/gso/gro/tx offloads off: the wire carries 1514-byte frames,
as porter sends them, so one loss hits one segment.

Same buffers on both: porter tcp.rcv_buf = tcp.snd_buf = 8 MiB; Linux
tcp_rmem/tcp_wmem max = 8 MiB in the client's and the server's namespaces.
Congestion control: CUBIC on both (porter's default tcp.congestion_control;
the Linux client and server set TCP_CONGESTION=cubic on every socket, since
this host's default is bbr and a namespace's default may only be one of the
host's tcp_allowed_congestion_control); tcp_no_metrics_save=1 so that Linux does not
carry ssthresh from one transfer into the next.

Directions: "up" = the client sends --mb MiB to the server's discard service
(the sender is Linux in both stacks: this measures the receiver's out-of-order
and SACK handling); "down" = the server's source service sends to the client
(porter's sender against Linux's). Goodput = bytes / time from connect() to the
end (EOF seen by the client for down; the server's FIN after our shutdown for up).

How to read the table: "keep" = goodput of a cell / goodput of the same stack,
RTT and direction with no loss and no reordering (each link has its own
ceiling, so we compare what each stack keeps; "p/l" is the plain goodput
ratio porter / linux). "ratio" = porter keep / linux
keep (target >= 0.8). "rtx" = the SENDER's retransmitted segments (porter:
its "retransmits" counter; Linux: TcpRetransSegs) and "rto" its timeouts
(porter "timeouts", Linux TcpExtTCPTimeouts); "rtx x" = porter rtx / linux rtx
(target <= 1.5 for down; for up both senders are Linux). Medians over --rounds.
Transfers that exceed --timeout are marked TIMEOUT with the bytes they moved.
--mb-at lowers the size of the slow cells (long RTT, high loss) so the matrix
fits in the wall time; both stacks use the same size, and the size is in the
table. It asserts nothing: a benchmark, not a test.

--mtu N puts a narrower link with ICMP blocked on the wire (a black hole,
RFC 2923 §2.1): the impairer drops every IPv4 packet longer than N bytes both
ways and sends nothing back; the interfaces keep MTU 1500, so both ends
announce MSS 1460 and their first full-size segments vanish. Every Linux
namespace runs with net.ipv4.tcp_mtu_probing = 1 (black-hole detection, then
probing from tcp_base_mss 1024) and porter with its defaults (tcp.mtu_probing =
1, tcp.base_mss = 1024; docs/TCP.md "PLPMTUD"). The sender's MSS is sampled
every 50 ms during each transfer (porterctl streams; ss -ti for Linux) and the
last value is reported beside time, retransmissions and timeouts (the JSON keeps
every sample: "sender_mss_trace").
"""
import argparse
import collections
import re
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PORTER_BUILD", os.path.join(ROOT, "build"))
PRIMARY = os.path.join(BUILD, "primary", "porter-primary")
PORTERCTL = os.path.join(BUILD, "tools", "porterctl")
IMPAIR = os.path.join(BUILD, "tests", "impair")
TAG = str(os.getpid())
CLIENT_IP, SERVER_IP = "10.97.0.1", "10.97.0.2"
PORTER_MAC = "02:70:6f:72:74:01"
BUF = 8 << 20

CLIENT = r'''
import socket, sys, time, json
mode, host, port, n, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
t0 = time.monotonic()
deadline = t0 + limit
out, done, err = 0, False, None
def left():
    r = deadline - time.monotonic()
    if r <= 0:
        raise TimeoutError
    return r
try:
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    s.settimeout(30)
    s.connect((host, port))
    if mode == "up":
        buf = b"\xa5" * (1 << 20)
        mv = memoryview(buf)
        while out < n:
            s.settimeout(left())
            k = s.send(mv[:min(len(buf), n - out)])
            out += k
        s.shutdown(socket.SHUT_WR)
        while True:
            s.settimeout(left())
            if not s.recv(1):
                break
        done = True
    else:
        b = bytearray(1 << 20)
        while True:
            s.settimeout(left())
            k = s.recv_into(b)
            if not k:
                break
            out += k
        done = out >= n
except (TimeoutError, socket.timeout):
    err = "timeout"
except OSError as e:
    err = str(e)
dt = time.monotonic() - t0
try:
    cc = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
except OSError:
    cc = None
print(json.dumps({"bytes": out, "s": dt, "done": done, "err": err, "cc": cc}))
'''

SERVER = r'''
import socket, threading, sys, json
SIZES = json.loads(sys.argv[1])       # {port: bytes} of the source service
CH = bytes(((i * 7 + (i >> 8) * 13 + (i >> 16)) & 0xff) for i in range(1 << 20))
def serve(port, fn, arg):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    ls.bind(("0.0.0.0", port)); ls.listen(64)
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
        threading.Thread(target=fn, args=(c, arg), daemon=True).start()
def discard(c, _):
    b = bytearray(1 << 20)
    try:
        while c.recv_into(b):
            pass
    except OSError:
        pass
    c.close()
def source(c, limit):
    sent = 0
    mv = memoryview(CH)
    try:
        while sent < limit:
            sent += c.send(mv[:min(len(CH), limit - sent)])
    except OSError:
        pass
    c.close()
threading.Thread(target=serve, args=(9, discard, 0), daemon=True).start()
for p, b in SIZES.items():
    threading.Thread(target=serve, args=(int(p), source, b), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
'''

NSTAT_KEYS = ["TcpRetransSegs", "TcpOutSegs", "TcpInSegs", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes",
              "TcpExtTCPLossProbeRecovery", "TcpExtTCPSackRecovery", "TcpExtTCPRenoRecovery",
              "TcpExtTCPSpuriousRTOs", "TcpExtTCPDSACKUndo", "TcpExtTCPLostRetransmit",
              "TcpExtTCPFastRetrans", "TcpExtTCPSlowStartRetrans", "TcpExtTCPSackRecoveryFail",
              "TcpExtTCPDSACKRecv", "TcpExtTCPDSACKOfoRecv", "TcpExtTCPOFOQueue", "TcpExtTCPSACKReorder",
              "TcpExtTCPTSReorder", "TcpExtTCPRcvQDrop", "TcpExtTCPOFODrop", "TcpExtTCPSpuriousRtxHostQueues",
              "TcpExtTCPSackMerged", "TcpExtTCPDSACKOldSent", "TcpExtTCPDSACKOfoSent"]
PORTER_KEYS = ["retransmits", "timeouts", "fast_recoveries", "sack_recoveries", "segments_in", "segments_out"]


def sh(*cmd, check=True, timeout=60):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def ns_sysctls(ns):
    # CUBIC is set per socket (TCP_CONGESTION) by the client and the server: a
    # namespace's default may only be one of the host's
    # tcp_allowed_congestion_control (here "reno bbr")
    for k, v in (("net.ipv4.tcp_rmem", "4096 131072 %d" % BUF), ("net.ipv4.tcp_wmem", "4096 16384 %d" % BUF),
                 ("net.ipv4.tcp_no_metrics_save", "1")) + ((("net.ipv4.tcp_mtu_probing", "1"),) if MTU else ()):
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "%s=%s" % (k, v))


def offloads_off(ns, dev):
    sh("ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off",
       check=False)
    sh("ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/%s/disable_ipv6" % dev,
       check=False)


def nstat(ns):
    r = sh("ip", "netns", "exec", ns, "nstat", "-az", "--json")
    d = json.loads(r.stdout)
    d = d.get("kernel", d)
    return {k: int(d.get(k, 0)) for k in NSTAT_KEYS}


def delta(a, b):
    return {k: b[k] - a[k] for k in b}


class Stack:
    """One client-router-server triple of namespaces; subclasses start the server."""

    def __init__(self, name, sizes):
        self.name = name
        self.c, self.r, self.s = ("lb-%s-%s-%s" % (x, name, TAG) for x in "crs")
        self.made = []
        self.sizes = sizes          # {port: bytes} of the source service
        self.impair = None
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self):
        for n in (self.c, self.r, self.s):
            sh("ip", "netns", "add", n)
            self.made.append(n)
            sh("ip", "-n", n, "link", "set", "lo", "up")
        sh("ip", "-n", self.c, "link", "add", "c0", "type", "veth", "peer", "name", "ra", "netns", self.r)
        sh("ip", "-n", self.r, "link", "add", "rb", "type", "veth", "peer", "name", "s0", "netns", self.s)
        for n, d in ((self.c, "c0"), (self.r, "ra"), (self.r, "rb"), (self.s, "s0")):
            offloads_off(n, d)
            sh("ip", "-n", n, "link", "set", d, "up")
        sh("ip", "-n", self.c, "addr", "add", CLIENT_IP + "/24", "dev", "c0")
        ns_sysctls(self.c)

    def counters(self):
        return {"client": nstat(self.c)}

    def start_impair(self, args, log=None):
        cmd = ["ip", "netns", "exec", self.r] + (["taskset", "-c", IMPAIR_CPUS] if IMPAIR_CPUS else []) + [IMPAIR] + args + (["--log", log] if log else []) + ["ra", "rb"]
        self.impair = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.impair.stdout.readline()
        if line.strip() != "ready":
            self.impair.kill()
            raise RuntimeError("impair did not start: %r %s" % (line, self.impair.stderr.read()))

    def stop_impair(self):
        p, self.impair = self.impair, None
        if p is None:
            return None
        cpu = None
        try:
            with open("/proc/%d/stat" % p.pid) as f:     # ip netns exec execs impair: same pid
                st = f.read().rsplit(")", 1)[1].split()
            cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
        p.send_signal(signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            return None
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None
        res["cpu_s"] = cpu
        return res

    def close(self):
        if self.impair is not None and self.impair.poll() is None:
            self.impair.kill()
            self.impair.wait()
        for n in self.made:
            sh("ip", "netns", "del", n, check=False)


PORTER_PMD, PORTER_EXTRA, PORTER_TCP = "af_packet", "", ""
IMPAIR_CPUS = os.environ.get("IMPAIR_CPUS", "")   # tuning runs: the impairer's CPU list (taskset)
MTU = 0     # --mtu: the black hole's MTU (0: none)


class PorterStack(Stack):
    """porter as the server. bench_pace.py and bench_ratelimit.py run several at once:
    NAME (namespaces and --file-prefix), LISTENERS (libconfig listener groups
    instead of discard + source per size) and TCP_EXTRA (settings added to the tcp
    group, e.g. "pacing = false;") tell them apart."""

    def __init__(self, sizes, name="porter", listeners=None, tcp_extra=""):
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="porter-lossbench-")
        self.prefix = "lossb%s%s" % (TAG, "" if name == "porter" else name)
        self.listeners, self.tcp_extra = listeners, tcp_extra
        super().__init__(name, sizes)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        sizes = self.sizes
        self.sock = os.path.join(self.dir, "s")
        conf = os.path.join(self.dir, "c.conf")
        listeners = self.listeners or ['{ port = 9; service = "discard"; }'] + [
            '{ port = %d; service = "source"; bytes = %dL; }' % (p, b) for p, b in sorted(sizes.items())]
        # --porter-extra: the settings of an eal, workers, dataplane or tcp group go into
        # the group this file writes (libconfig refuses a group twice); anything else is
        # appended. Flat groups only (no nested group, no brace inside a string), and a
        # setting this file writes (workers.count, tcp.rcv_buf, ...) cannot be overridden.
        extra = {"eal": "", "workers": "", "dataplane": "", "tcp": self.tcp_extra + " " + PORTER_TCP}
        rest = PORTER_EXTRA
        for g in extra:
            pat = re.compile(r"(?<![\w.])%s\s*[:=]\s*\{([^{}]*)\}\s*[;,]?" % g)
            for m in reversed(list(pat.finditer(rest))):
                extra[g] += " " + m.group(1).strip() + " "
                rest = rest[:m.start()] + rest[m.end():]
        with open(conf, "w") as f:
            f.write('''eal: { file_prefix = "%s"; lcore_base = 20; %s};
ports = ( { name = "p"; device = "net_%s0,iface=s0"; mac = "%s"; ipv4 = "%s/24"; } );
workers: { count = 1; %s};
dataplane: { mbufs = 65535; %s};
tcp: { rcv_buf = %d; snd_buf = %d; time_wait_ms = 1000; %s};
listeners = ( %s );
control: { socket = "%s"; };
%s
''' % (self.prefix, extra["eal"], PORTER_PMD, PORTER_MAC, SERVER_IP, extra["workers"], extra["dataplane"], BUF, BUF, extra["tcp"],
       ", ".join(listeners), self.sock, rest))
        self.log = open(os.path.join(self.dir, "primary.log"), "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.s, PRIMARY, "-c", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            r = sh(PORTERCTL, "--socket", self.sock, "--json", "status", check=False)
            if r.returncode == 0 and all(s["state"] == "ready" for s in json.loads(r.stdout)["shards"]):
                break
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("porter did not get ready: " + open(self.log.name).read()[-2000:])
            time.sleep(0.1)

    def porter_counters(self):
        st = json.loads(sh(PORTERCTL, "--socket", self.sock, "--json", "status").stdout)
        tot = collections.Counter()
        for s in st["shards"]:
            if s.get("tcp"):
                for k, v in s["tcp"]["events"].items():
                    tot[k] += v
                for k, v in s["tcp"]["drops"].items():
                    tot["drop_" + k] += v
        return dict(tot)

    def counters(self):
        return {"client": nstat(self.c), "porter": self.porter_counters()}

    def close(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            super().close()
            shutil.rmtree(self.dir, ignore_errors=True)
            if os.path.isdir("/dev/hugepages"):
                for f in os.listdir("/dev/hugepages"):
                    if f.startswith(self.prefix):
                        os.unlink(os.path.join("/dev/hugepages", f))
            shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


class LinuxStack(Stack):
    def __init__(self, sizes):
        self.proc = None
        super().__init__("linux", sizes)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        sizes = self.sizes
        sh("ip", "-n", self.s, "addr", "add", SERVER_IP + "/24", "dev", "s0")
        ns_sysctls(self.s)
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.s, sys.executable, "-c", SERVER,
                                      json.dumps(sizes)], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("linux server did not start")

    def counters(self):
        return {"client": nstat(self.c), "server": nstat(self.s)}

    def close(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        finally:
            super().close()


def impair_args(loss_pct, rtt, reorder, a, seed):
    args = ["--spare-syn", "--seed", str(seed), "--loss", "%g" % (loss_pct / 100.0)]
    if a.mtu:
        args += ["--mtu", str(a.mtu)]
    if rtt != "link":
        args += ["--delay", "%g" % (float(rtt) / 2)]
    if reorder == "on":
        hold = a.hold_link if rtt == "link" else a.hold_50 if float(rtt) >= 50 else max(a.hold_link, float(rtt) / 5)
        args += ["--reorder", "%g" % a.reorder_frac, "--hold", "%g" % hold]
    return args


def sender_mss(st, d, port):
    """The sender's MSS (and, for Linux, its path MTU) on the open transfer, or None."""
    if isinstance(st, PorterStack) and d == "down":
        r = sh(PORTERCTL, "--socket", st.sock, "--json", "streams", check=False)
        if r.returncode != 0:
            return None
        mine = [x for x in json.loads(r.stdout)["streams"] if x["remote"].startswith(CLIENT_IP + ":")]
        return {"mss": mine[0]["mss"]} if mine else None
    flt = "( dport = :9 )" if d == "up" else "( sport = :%d )" % port   # this transfer's socket only
    r = sh("ip", "netns", "exec", st.c if d == "up" else st.s, "ss", "-tinH", "state", "established", flt,
           check=False)
    m = re.search(r"\bmss:(\d+)", r.stdout)
    pm = re.search(r"\bpmtu:(\d+)", r.stdout)
    return {"mss": int(m.group(1)), "pmtu": int(pm.group(1)) if pm else None} if m else None


def transfer(st, d, mb, port, iargs, timeout, log=None):
    """One transfer over stack st; returns the record."""
    st.start_impair(iargs, log)
    seen, stop = {}, threading.Event()

    def watch():   # --mtu: the sender's MSS as the transfer goes (the last value counts)
        while not stop.wait(0.05):
            v = sender_mss(st, d, port)
            if v:
                seen.update(v)
                seen.setdefault("trace", []).append(v["mss"])
    w = threading.Thread(target=watch, daemon=True) if MTU else None
    try:
        time.sleep(0.05)
        if w:
            w.start()
        before = st.counters()
        r = subprocess.run(["ip", "netns", "exec", st.c, sys.executable, "-c", CLIENT, d, SERVER_IP,
                            str(9 if d == "up" else port), str(mb << 20), str(timeout)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout + 60)
        try:
            res = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {"bytes": 0, "s": timeout, "done": False, "err": "client: " + r.stderr[-300:]}
        time.sleep(0.3)   # the last ACKs and FINs
        after = st.counters()
    finally:
        stop.set()
        if w:
            w.join(5)
        imp = st.stop_impair()
    rec = {"mb": mb, "cc": res.get("cc"), "bytes": res["bytes"], "s": res["s"], "done": res["done"], "err": res["err"],
           "MBps": res["bytes"] / res["s"] / 1e6 if res["done"] and res["s"] > 0 else None, "impair": imp,
           "sender_mss": seen.get("mss"), "sender_pmtu": seen.get("pmtu"), "sender_mss_trace": seen.get("trace")}
    for k in before:
        rec[k] = delta(before[k], after[k])
    # the sender's view, normalised
    if isinstance(st, PorterStack) and d == "down":
        p = rec["porter"]
        rec["snd"] = {"rtx": p["retransmits"], "rto": p["timeouts"], "recov": p["sack_recoveries"] + p["fast_recoveries"],
                      "tlp": 0, "spurious": None}
    else:
        n = rec["client"] if d == "up" else rec["server"]
        rec["snd"] = {"rtx": n["TcpRetransSegs"], "rto": n["TcpExtTCPTimeouts"],
                      "recov": n["TcpExtTCPSackRecovery"] + n["TcpExtTCPRenoRecovery"],
                      "tlp": n["TcpExtTCPLossProbes"], "spurious": n["TcpExtTCPSpuriousRTOs"]}
    return rec


def parse_list(s, conv=str):
    return [conv(x) for x in s.split(",") if x]


def mb_for(a, rtt, loss):
    best = a.mb
    for item in parse_list(a.mb_at):
        key, mb = item.split("=")
        r, l = key.split(":")
        if r == rtt and loss >= float(l):
            best = min(best, int(mb))
    return best


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, f="%.1f", none="-"):
    return none if x is None else f % x


def report(cells, out=sys.stdout):
    base = {}
    for c in cells:
        if c["loss"] == 0 and c["reorder"] == "none":
            for s in ("porter", "linux"):
                base[(s, c["rtt"], c["dir"])] = c[s]["MBps"]
    hdr = ("%-4s %-4s %5s %-4s %4s | %8s %8s %5s | %5s %5s %5s | %7s %7s %5s | %7s %7s | %s" %
           ("dir", "rtt", "loss%", "reo", "MiB", "porterMB", "linuxMB", "p/l", "pKeep", "lKeep", "ratio",
            "p.rtx", "l.rtx", "rtx x", "p.rto", "l.rto", "notes"))
    print(hdr, file=out)
    print("-" * len(hdr), file=out)
    for c in cells:
        p, l = c["porter"], c["linux"]
        pb, lb = base.get(("porter", c["rtt"], c["dir"])), base.get(("linux", c["rtt"], c["dir"]))
        pk = p["MBps"] / pb if p["MBps"] and pb else None
        lk = l["MBps"] / lb if l["MBps"] and lb else None
        c["porter_keep"], c["linux_keep"] = pk, lk
        c["keep_ratio"] = pk / lk if pk and lk else None
        c["rtx_ratio"] = p["rtx"] / l["rtx"] if p["rtx"] is not None and l["rtx"] else None
        notes = []
        for s in ("porter", "linux"):
            if c[s]["timeouts"]:
                notes.append("%s TIMEOUT x%d (%s MB moved)" % (s, c[s]["timeouts"], fmt(c[s]["moved_mb"])))
        if c["dir"] == "down":
            notes.append("l.tlp %s" % fmt(l["tlp"], "%d"))
        else:
            notes.append("l.tlp p/l %s/%s" % (fmt(p["tlp"], "%d"), fmt(l["tlp"], "%d")))
            if p.get("rcv_drops"):
                notes.append("porter rcv drops (all rounds) %s" % p["rcv_drops"])
        c["abs_ratio"] = p["MBps"] / l["MBps"] if p["MBps"] and l["MBps"] else None
        print("%-4s %-4s %5g %-4s %4d | %8s %8s %5s | %5s %5s %5s | %7s %7s %5s | %7s %7s | %s" % (
            c["dir"], c["rtt"], c["loss"], c["reorder"], c["mb"], fmt(p["MBps"], "%.2f"), fmt(l["MBps"], "%.2f"),
            fmt(c["abs_ratio"], "%.2f"),
            fmt(pk, "%.2f"), fmt(lk, "%.2f"), fmt(c["keep_ratio"], "%.2f"),
            fmt(p["rtx"], "%d"), fmt(l["rtx"], "%d"), fmt(c["rtx_ratio"], "%.2f"),
            fmt(p["rto"], "%d"), fmt(l["rto"], "%d"), "; ".join(notes)), file=out)


def summarise(recs):
    """Median over rounds of one stack's records in one cell."""
    ok = [r for r in recs]
    return {"MBps": med([r["MBps"] for r in ok]),
            "rtx": med([r["snd"]["rtx"] for r in ok]), "rto": med([r["snd"]["rto"] for r in ok]),
            "recov": med([r["snd"]["recov"] for r in ok]), "tlp": med([r["snd"]["tlp"] for r in ok]),
            "timeouts": sum(1 for r in ok if not r["done"]),
            "moved_mb": med([r["bytes"] / 1e6 for r in ok if not r["done"]]),
            "rcv_drops": dict(sum((collections.Counter({k: v for k, v in r.get("porter", {}).items()
                                                        if k.startswith("drop_") and v}) for r in ok),
                                  collections.Counter())),
            "impair_lost": med([(r["impair"] or {}).get("ab", {}).get("lost", 0) +
                                (r["impair"] or {}).get("ba", {}).get("lost", 0) for r in ok])}


def mtu_report(cells, mtu, out=sys.stdout):
    """--mtu: each stack as the sender through the black hole, side by side (medians)."""
    print("\nblack hole, path MTU %d (IPv4 packets above it dropped, no ICMP); the SENDER's figures:" % mtu,
          file=out)
    print("  %-5s %-5s %-5s %5s | %8s %6s %5s %4s | %8s %6s %5s %4s" % (
        "dir", "rtt", "loss", "MiB", "porter s", "mss", "rtx", "rto", "linux s", "mss", "rtx", "rto"), file=out)
    for c in cells:
        row = []
        for st in ("porter", "linux"):
            ok = [r for r in c["rounds"][st] if r["done"]]
            row += [fmt(med([r["s"] for r in ok]), "%.2f"), fmt(med([r["sender_mss"] for r in ok if r["sender_mss"]]),
                                                                 "%d"),
                    fmt(med([r["snd"]["rtx"] for r in ok]), "%d"), fmt(med([r["snd"]["rto"] for r in ok]), "%d")]
        print("  %-5s %-5s %-5g %5d | %8s %6s %5s %4s | %8s %6s %5s %4s" % (
            (c["dir"], c["rtt"], c["loss"], c["mb"]) + tuple(row)), file=out)
    print("  (up: the Linux client sends in both columns, to porter's and to Linux's discard; down: the "
          "server sends)", file=out)


def run_matrix(a):
    losses = parse_list(a.loss, float)
    rtts = parse_list(a.rtt)
    reorders = parse_list(a.reorder)
    dirs = parse_list(a.dirs)
    cells = [(d, rtt, reo, loss) for d in dirs for rtt in rtts for reo in reorders for loss in losses]
    sizes = sorted({mb_for(a, rtt, loss) for (_, rtt, _, loss) in cells})
    ports = {mb: 20000 + mb for mb in sizes}
    size_map = {ports[mb]: mb << 20 for mb in sizes}
    if a.log_dir:
        os.makedirs(a.log_dir, exist_ok=True)
    stacks = {}
    out = {"args": dict(vars(a), impair_cpus=IMPAIR_CPUS), "cells": []}
    t_start = time.monotonic()
    try:
        stacks["porter"] = PorterStack(size_map)
        stacks["linux"] = LinuxStack(size_map)
        for i, (d, rtt, reo, loss) in enumerate(cells):
            mb = mb_for(a, rtt, loss)
            recs = {"porter": [], "linux": []}
            for rnd in range(a.rounds):
                seed = a.seed + 1000 * i + rnd
                iargs = impair_args(loss, rtt, reo, a, seed)
                order = ["porter", "linux"] if (i + rnd) % 2 == 0 else ["linux", "porter"]
                for s in order:
                    log = None
                    if a.log_dir:
                        log = os.path.join(a.log_dir, "%s-%s-%s-%g-%s-r%d.log" % (s, d, rtt, loss, reo, rnd))
                    t0 = time.monotonic()
                    rec = transfer(stacks[s], d, mb, ports[mb], iargs, a.timeout, log)
                    rec["wall"] = time.monotonic() - t0
                    rec["seed"] = seed
                    recs[s].append(rec)
                    print("  %-6s %-4s rtt=%-4s loss=%g%% reorder=%-4s %3d MiB: %s MB/s in %.1f s, "
                          "sender rtx=%s rto=%s%s%s" % (
                              s, d, rtt, loss, reo, mb, fmt(rec["MBps"], "%.2f"), rec["s"], rec["snd"]["rtx"],
                              rec["snd"]["rto"],
                              " mss=%s (mtu %d)" % (rec["sender_mss"], a.mtu) if a.mtu else "",
                              "" if rec["done"] else " NOT DONE (%s)" % rec["err"]),
                          flush=True)
            cell = {"dir": d, "rtt": rtt, "reorder": reo, "loss": loss, "mb": mb, "rounds": recs,
                    "porter": summarise(recs["porter"]), "linux": summarise(recs["linux"])}
            out["cells"].append(cell)
            with open(a.json, "w") as f:     # partial results survive an interruption
                json.dump(out, f, indent=1)
    finally:
        for s in stacks.values():
            s.close()
    out["wall_s"] = time.monotonic() - t_start
    print()
    report(out["cells"])
    if a.mtu:
        mtu_report(out["cells"], a.mtu)
    print("\nwall time %.0f s; JSON in %s" % (out["wall_s"], a.json))
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)


# --- diagnosis from the impairer's per-frame log ------------------------------------

def read_log(path):
    fr = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) < 9 or ">" not in p[2]:
                continue
            rec = {"t": float(p[0]), "dir": p[1], "seq": int(p[3][4:]), "ack": int(p[4][4:]),
                   "fl": int(p[5][3:], 16), "len": int(p[6][4:]), "win": int(p[7][4:]), "fate": p[-1],
                   "sack": []}
            if "sack" in p:
                i = p.index("sack") + 1
                while i < len(p) - 1 and "-" in p[i]:
                    a, b = p[i].split("-")
                    rec["sack"].append((int(a), int(b)))
                    i += 1
            fr.append(rec)
    return fr


def dur_all(fr):
    return fr[-1]["t"] - fr[0]["t"]


def analyze(path, data_dir=None, rtt_ms=None, out=sys.stdout, quiet=False):
    """Find the stalls of the data sender and classify what led to each."""
    fr = read_log(path)
    if not fr:
        print("empty log", file=out)
        return {}
    if data_dir is None:
        by = collections.Counter()
        for r in fr:
            by[r["dir"]] += r["len"]
        data_dir = by.most_common(1)[0][0]
    ack_dir = "ba" if data_dir == "ab" else "ab"
    data = [r for r in fr if r["dir"] == data_dir and r["len"] > 0]
    acks = [r for r in fr if r["dir"] == ack_dir]
    if rtt_ms is None:
        rtt_ms = 0
    thresh = max(0.1, 3 * rtt_ms / 1000.0)
    tx = collections.defaultdict(list)      # seq -> [(t, fate)]
    stalls = []
    lost_data = sum(1 for r in data if r["fate"] == "LOST")
    sent_seqs = set()
    rtx = 0
    rtx_lost = 0
    rtx_dup = 0          # retransmissions of a segment an earlier copy of which had arrived
    highest = None
    for i, r in enumerate(data):
        s = r["seq"]
        is_rtx = highest is not None and ((s - highest) & 0xffffffff) > 0x7fffffff
        if is_rtx:
            rtx += 1
            rtx_lost += r["fate"] == "LOST"
            rtx_dup += any(f != "LOST" for _, f, _ in tx[s])
        else:
            highest = (s + r["len"]) & 0xffffffff
        if i and r["t"] - data[i - 1]["t"] > thresh:
            stalls.append((i, r["t"] - data[i - 1]["t"]))
        tx[s].append((r["t"], r["fate"], i))
        sent_seqs.add(s)
    cls = collections.Counter()
    cls_s = collections.Counter()
    details = []

    def acks_between(t0, t1):
        return [x for x in acks if t0 <= x["t"] <= t1 and x["fl"] & 0x10]

    for i, gap in stalls:
        r = data[i]
        t_resume = r["t"]
        prev = [x for x in tx[r["seq"]] if x[2] < i]
        if not prev:
            kind = "new data after the gap (window/application/ACK-clock stall)"
        else:
            last_t, last_fate, last_i = prev[-1]
            if last_fate == "LOST":
                later = [x for x in data[last_i + 1:i] if x["fate"] != "LOST"]
                if len(prev) >= 2:
                    kind = "lost retransmission"
                elif len(later) < 3:
                    kind = "tail loss"
                else:
                    # enough later segments arrived: did their (dup/SACK) ACKs get back?
                    got = [x for x in acks_between(later[0]["t"], t_resume) if x["fate"] != "LOST"
                           and x["ack"] == r["seq"]]
                    if len(got) < 3:
                        kind = "lost, >=3 later arrived, <3 dupACKs got back"
                    elif len({x["win"] for x in got}) > 1:
                        kind = "lost, >=3 SACK dupACKs got back with changing windows, no fast retransmit"
                    else:
                        kind = "lost, >=3 dupACKs got back (same window), no fast retransmit"
            else:
                # it arrived: were the ACKs that covered it lost?
                end = (r["seq"] + r["len"]) & 0xffffffff
                cover = [x for x in acks_between(last_t, t_resume)
                         if ((x["ack"] - end) & 0xffffffff) < 0x7fffffff]
                if cover and all(x["fate"] == "LOST" for x in cover):
                    kind = "ACKs lost"
                elif not cover:
                    kind = "arrived, no ACK covering it seen"
                else:
                    kind = "arrived and ACKed, resent anyway (spurious)"
        cls[kind] += 1
        cls_s[kind] += gap
        details.append({"t": round(data[i - 1]["t"] - data[0]["t"], 4), "gap_ms": round(gap * 1000, 1),
                        "seq": r["seq"], "prev_tx": len(prev), "kind": kind})
    gaps = sorted(g for _, g in stalls)
    # bytes in flight as the wire sees it: highest data byte sent - highest ACK sent back
    # (the receiver's ACKs, lost or not), time-weighted over the transfer
    snd_max = ack_max = None
    last_t, area, fmax = None, 0.0, 0
    for x in fr:
        if x["dir"] == data_dir and x["len"] > 0:
            e = (x["seq"] + x["len"]) & 0xffffffff
            if snd_max is None or ((e - snd_max) & 0xffffffff) < 0x7fffffff:
                snd_max = e
        elif x["dir"] == ack_dir and x["fl"] & 0x10:
            if ack_max is None or ((x["ack"] - ack_max) & 0xffffffff) < 0x7fffffff:
                ack_max = x["ack"]
        else:
            continue
        if snd_max is None or ack_max is None:
            continue
        f = (snd_max - ack_max) & 0xffffffff
        if f > 0x7fffffff:
            f = 0
        if last_t is not None:
            area += f * (x["t"] - last_t)
        fmax = max(fmax, f)
        last_t = x["t"]
    dur = data[-1]["t"] - data[0]["t"]
    res = {"log": path, "data_dir": data_dir, "data_frames": len(data), "data_lost": lost_data,
           "retransmissions_seen": rtx, "retransmissions_lost": rtx_lost,
           "retransmissions_of_delivered": rtx_dup,
           "ack_frames": len(acks), "acks_lost": sum(1 for x in acks if x["fate"] == "LOST"),
           "duration_s": round(dur, 3), "stall_threshold_ms": thresh * 1000, "stalls": len(stalls),
           "stall_time_s": round(sum(g for _, g in stalls), 3), "by_kind": dict(cls),
           "stall_s_by_kind": {k: round(v, 3) for k, v in cls_s.items()},
           "flight_kB_mean_max": [round(area / max(dur_all(fr), 1e-9) / 1e3, 1), round(fmax / 1e3, 1)],
           "stall_ms_p50_max": [round(gaps[len(gaps) // 2] * 1000, 1), round(gaps[-1] * 1000, 1)] if gaps else None,
           "stall_ms_histogram": dict(collections.Counter(
               "<300" if g < 0.3 else "<600" if g < 0.6 else "<1200" if g < 1.2 else ">=1200" for g in gaps)),
           "longest": sorted(details, key=lambda x: -x["gap_ms"])[:5]}
    if not quiet:
        print(json.dumps(res, indent=1), file=out)
    res["details"] = details
    return res


def selftest(a):
    """The impairer's ceiling: Linux to Linux at 0 % loss through it."""
    st = LinuxStack({20000 + a.mb: a.mb << 20})
    res = {}
    try:
        for name, iargs in (("impair 0%", ["--loss", "0"]), ("impair 0% +0.1ms", ["--delay", "0.05"]),
                            ("impair 2%+log", ["--loss", "0.02", "--log", "/dev/null"])):
            for d in ("up", "down"):
                rec = transfer(st, d, a.mb, 20000 + a.mb, iargs, a.timeout)
                imp = rec["impair"]
                frames = imp["ab"]["out"] + imp["ba"]["out"]
                cpu = imp.get("cpu_s") or 0
                res["%s %s" % (name, d)] = {"MBps": rec["MBps"], "frames": frames,
                                            "frames_per_s": frames / rec["s"], "impair": imp}
                print("%-18s %-4s %7.1f MB/s  %8.0f frames/s through the impairer, which used %.2f CPU-s "
                      "(%.0f frames per CPU-second)" % (name, d, rec["MBps"] or 0, frames / rec["s"], cpu,
                                                        frames / cpu if cpu else 0), flush=True)
    finally:
        st.close()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=64, help="MiB per transfer (default 64)")
    ap.add_argument("--mb-at", default="50:1=16,50:2=8,50:5=4",
                    help="smaller transfers for slow cells: RTT:LOSS%%=MiB,... applies to loss >= LOSS "
                         "at that RTT (default 50:1=16,50:2=8,50:5=4; '' for --mb everywhere)")
    ap.add_argument("--loss", default="0,0.1,1,2,5", help="loss %% per direction, comma list")
    ap.add_argument("--rtt", default="link,50", help="'link' (no added delay) and/or RTT in ms")
    ap.add_argument("--reorder", default="none,on", help="none and/or on")
    ap.add_argument("--reorder-frac", type=float, default=0.01, help="fraction of frames held back (0.01)")
    ap.add_argument("--hold-link", type=float, default=2.0, help="extra hold at link RTT, ms (2)")
    ap.add_argument("--hold-50", type=float, default=10.0, help="extra hold at >= 50 ms RTT, ms (10)")
    ap.add_argument("--dirs", default="up,down", help="up (client sends) and/or down (server sends)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before a transfer is given up")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pmd", default="af_packet", help="porter's port driver: af_packet or af_xdp")
    ap.add_argument("--porter-extra", default="",
                    help="config for porter (tuning runs): the settings of eal, workers, dataplane and tcp "
                         "groups are merged into those the script writes (flat groups; settings the script "
                         "writes cannot be overridden), other groups appended; e.g. 'workers: { spin_us = 200; };'")
    ap.add_argument("--porter-tcp", default="",
                    help="settings added to porter's tcp group (tuning runs), e.g. 'pacing = false;'")
    ap.add_argument("--mtu", type=int, default=0,
                    help="a black hole on the wire: IPv4 packets above this many bytes dropped, no ICMP")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench-loss.json"))
    ap.add_argument("--log-dir", help="keep the impairer's per-frame log of every transfer here")
    ap.add_argument("--analyze", metavar="LOG", help="classify the stalls in one impairer log and exit")
    ap.add_argument("--data-dir", help="with --analyze: ab or ba (default: the one with more payload)")
    ap.add_argument("--rtt-ms", type=float, help="with --analyze: the RTT, for the stall threshold")
    ap.add_argument("--selftest", action="store_true", help="measure the impairer alone, Linux to Linux")
    a = ap.parse_args()
    global PORTER_PMD, PORTER_EXTRA, PORTER_TCP, MTU
    PORTER_PMD, PORTER_EXTRA, PORTER_TCP, MTU = a.pmd, a.porter_extra, a.porter_tcp, a.mtu
    if a.analyze:
        analyze(a.analyze, a.data_dir, a.rtt_ms)
        return
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    for f in (PRIMARY, PORTERCTL, IMPAIR):
        if not os.path.exists(f):
            sys.exit("missing %s: build first (meson setup build && ninja -C build)" % f)
    if a.selftest:
        selftest(a)
        return
    run_matrix(a)


if __name__ == "__main__":
    main()
