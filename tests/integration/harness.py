"""Integration harness: a real porter-primary with real workers on real
hugepages, inside a network namespace the test creates, talking to Linux
over a net_tap device.

Every gateway gets a unique namespace, tap name, --file-prefix and control
socket, and is torn down (processes by PID, namespace, hugepage files, DPDK
runtime dir) even when the test fails.
"""
import contextlib
import ctypes
import glob
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PORTER_BUILD", os.path.join(ROOT, "build"))
PRIMARY = os.path.join(BUILD, "primary", "porter-primary")
PORTERCTL = os.path.join(BUILD, "tools", "porterctl")

PEER_IP = "10.99.0.1"
PORTER_IP = "10.99.0.2"
PORTER_MAC = "02:70:6f:72:74:01"
# the optional second port (Gateway(back=True)): its tap's kernel side lives
# in a namespace of its own, so only porter's port 1 reaches it
BACK_PEER_IP = "10.98.0.1"
BACK_PORTER_IP = "10.98.0.2"
BACK_PORTER_MAC = "02:70:6f:72:74:02"

_counter = [0]


def wait_for(pred, timeout, what, interval=0.02):
    """Poll PRED until it returns a true value; fail naming WHAT."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


# --- the flow hash, written independently of shm/hash.c -------------------

RSS_KEY = bytes([0x6d, 0x5a] * 20)


def toeplitz(key, data):
    k = int.from_bytes(key, "big")
    klen = len(key) * 8
    h = 0
    for i in range(len(data) * 8):
        if data[i // 8] & (0x80 >> (i % 8)):
            h ^= (k >> (klen - 32 - i)) & 0xffffffff
    return h


def flow_shard(reta, src, dst, sport, dport):
    data = socket.inet_aton(src) + socket.inet_aton(dst) + \
        sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    return reta[toeplitz(RSS_KEY, data) & (len(reta) - 1)]


# --- sockets inside a test namespace ------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def in_netns(name):
    """Run the body with this thread in network namespace NAME (sockets made
    here belong to it for good)."""
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
        yield
    finally:
        if _libc.setns(orig, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(fd)
        os.close(orig)


def connect(gw, port=80, timeout=10.0, host=PORTER_IP):
    """A TCP connection from the gateway's namespace to HOST:PORT (porter by default)."""
    with in_netns(gw.netns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


# --- wrk output --------------------------------------------------------------

_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    return float(m.group(1)) * _UNIT[m.group(2)] if m else None


def parse_wrk(out):
    """wrk's figures: requests, req/s, latency p50/p99/max (ms, with --latency), errors."""
    res = {"requests": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None, "max_ms": None,
           "socket_errors": 0, "non2xx3xx": 0}
    m = re.search(r"(\d+) requests in", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        res["max_ms"] = _ms(m.group(3))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+(\S+)" % pct, out, re.M)
        if m:
            res[key] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["socket_errors"] = sum(int(x) for x in m.groups())
        res["socket_errors_detail"] = m.group(0)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx3xx"] = int(m.group(1))
    return res


# --- one gateway ------------------------------------------------------------

class Gateway:
    """One gateway in namespace `netns`, port 0 ("front", PORTER_IP/24) on a tap
    whose kernel side (PEER_IP) stays in that namespace.

    back=True adds port 1 ("back", BACK_PORTER_IP/24) on a second tap whose
    kernel side is moved into namespace `back_netns` with BACK_PEER_IP, plus
    BACK_ADDRS (host addresses put on that namespace's loopback, i.e. hosts
    "behind" BACK_PEER_IP). Nothing in `netns` routes to the back namespace, so
    traffic reaches it only through porter's port 1. FRONT_GATEWAY and
    BACK_GATEWAY are the ports' `gateway` settings (None: none)."""

    def __init__(self, workers=2, extra="", worker_binary="porter-worker", name=None,
                 back=False, front_gateway=PEER_IP, back_gateway=None, back_addrs=(), port_opts="",
                 dataplane="mbufs = 8191;", standby=None, workers_extra="", eal_extra=""):
        _counter[0] += 1
        tag = "%d%d" % (os.getpid() % 100000, _counter[0])
        self.name = name or ("pt" + tag)
        self.netns = "porter-it-" + tag
        self.iface = "ptap" + tag[-8:]
        self.back = back
        self.back_netns = self.netns + "-b" if back else None
        self.back_iface = "pbak" + tag[-8:] if back else None
        self.back_addrs = tuple(back_addrs)
        self.prefix = "porterit" + tag
        self.dir = tempfile.mkdtemp(prefix="porter-it-")
        self.sock = os.path.join(self.dir, "porter.sock")
        self.conf = os.path.join(self.dir, "porter.conf")
        self.log = os.path.join(self.dir, "primary.log")
        self.proc = None
        self.owns_netns = True    # cleanup deletes it (a caller that made it itself says False)
        self.workers = workers
        ports = """{ name = "front"; device = "net_tap0,iface=%s"; mac = "%s";
            ipv4 = "%s/24"; %s%s}""" % (self.iface, PORTER_MAC, PORTER_IP,
                                     'gateway = "%s"; ' % front_gateway if front_gateway else "",
                                     port_opts and port_opts + " ")
        if back:
            ports += """,
          { name = "back"; device = "net_tap1,iface=%s"; mac = "%s";
            ipv4 = "%s/24"; %s}""" % (self.back_iface, BACK_PORTER_MAC, BACK_PORTER_IP,
                                   'gateway = "%s"; ' % back_gateway if back_gateway else "")
        with open(self.conf, "w") as f:
            f.write("""eal: { file_prefix = "%s"; lcore_base = 10;%s };
ports = ( %s );
workers: { count = %d; binary = "%s"; ready_timeout_ms = 5000; restart_backoff_ms = 50;
           heartbeat_timeout_ms = 1500;%s%s };
dataplane: { %s arp_retry_ms = 200; arp_retries = 3; };
control: { socket = "%s"; };
%s
""" % (self.prefix, eal_extra and " " + eal_extra, ports, workers, worker_binary,
       "" if standby is None else " standby = %s;" % ("true" if standby else "false"),
       workers_extra and " " + workers_extra, dataplane, self.sock, extra))

    # lifecycle
    def start(self, wait_ready=True):
        run(["ip", "netns", "add", self.netns])
        run(["ip", "-n", self.netns, "link", "set", "lo", "up"])
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.netns, PRIMARY, "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        if not wait_ready:
            return self
        wait_for(lambda: self._iface_exists() or self._dead(), 20, "tap %s" % self.iface)
        if self._dead():
            raise AssertionError("porter-primary exited early:\n" + self.log_text())
        run(["ip", "-n", self.netns, "addr", "add", PEER_IP + "/24", "dev", self.iface])
        run(["ip", "-n", self.netns, "link", "set", self.iface, "up"])
        if self.back:
            self._start_back()
        self.wait_all_ready()
        self.wait_standbys_ready()   # a settled gateway: no EAL init under way in the background
        return self

    def _status_or_none(self):
        if self._dead():
            raise AssertionError("porter-primary died:\n" + self.log_text())
        try:
            return self.status(timeout=2)
        except Exception:
            return None

    def _start_back(self):
        """Move the second tap's kernel side into a namespace of its own. Only
        once the ports are started (the control socket answers after that):
        net_tap attaches its queues by interface name in its own namespace,
        and would create a new tap there if the name had moved away."""
        wait_for(self._status_or_none, 20, "the control socket (ports started)")
        run(["ip", "netns", "add", self.back_netns])
        run(["ip", "-n", self.back_netns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.netns, "link", "set", self.back_iface, "netns", self.back_netns])
        run(["ip", "-n", self.back_netns, "addr", "add", BACK_PEER_IP + "/24", "dev", self.back_iface])
        run(["ip", "-n", self.back_netns, "link", "set", self.back_iface, "up"])
        for a in self.back_addrs:
            run(["ip", "-n", self.back_netns, "addr", "add", a + "/32", "dev", "lo"])

    def _dead(self):
        return self.proc.poll() is not None

    def _iface_exists(self, iface=None):
        return run(["ip", "-n", self.netns, "link", "show", iface or self.iface],
                   check=False).returncode == 0

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, timeout=15):
        """SIGTERM the primary; return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def cleanup(self):
        """Remove everything, whatever state the test left it in."""
        pids = []
        with contextlib.suppress(Exception):
            pids = self.child_pids(self.status(timeout=1))
        if self.proc and self.proc.poll() is None:
            self.stop(timeout=10)
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in pids:   # only the workers this gateway started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.owns_netns:
            run(["ip", "netns", "del", self.netns], check=False)
        if self.back_netns:
            run(["ip", "netns", "del", self.back_netns], check=False)
        for f in glob.glob("/dev/hugepages/%smap_*" % self.prefix):
            with contextlib.suppress(OSError):
                os.unlink(f)
        shutil.rmtree("/var/run/dpdk/%s" % self.prefix, ignore_errors=True)
        if hasattr(self, "logf"):
            self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            if self.proc is not None and os.path.exists(self.log):
                print(self.log_text())
            self.cleanup()
            raise

    def keep_log(self):
        """Copy the whole log next to the build's figures (a failure's tail is not always enough)."""
        with contextlib.suppress(OSError):
            dst = os.path.join(BUILD, "failed-%s.log" % self.name)
            shutil.copy(self.log, dst)
            print("--- whole primary log: %s ---" % dst)

    def __exit__(self, *exc):
        if exc[0] is not None and os.path.exists(self.log):
            print("--- primary log ---\n" + self.log_text()[-4000:])
            self.keep_log()
        self.cleanup()

    # control
    def ctl(self, *args, check=True, timeout=10):
        return run([PORTERCTL, "--socket", self.sock] + list(args), check=check, timeout=timeout)

    def status(self, timeout=10):
        return json.loads(self.ctl("--json", "status", timeout=timeout).stdout)

    @staticmethod
    def child_pids(st):
        """Every worker and standby pid the status names (the primary's children)."""
        pids = [s["pid"] for s in st["shards"] if s["pid"]]
        pids += [s["standby"]["pid"] for s in st["shards"] if s.get("standby", {}).get("pid")]
        return pids

    def wait_standbys_ready(self, timeout=30):
        """With workers.standby on, wait until every shard's standby is ready; else return."""
        def ready():
            if self._dead():
                raise AssertionError("porter-primary died:\n" + self.log_text())
            try:
                st = self.status(timeout=2)
            except Exception:
                return None
            if not st.get("standby"):
                return st
            return st if all(s["standby"]["state"] == "ready" for s in st["shards"]) else None
        return wait_for(ready, timeout, "every shard's standby ready")

    def wait_all_ready(self, timeout=20, exclude_pids=()):
        def ready():
            if self._dead():
                raise AssertionError("porter-primary died:\n" + self.log_text())
            try:
                st = self.status(timeout=2)
            except Exception:
                return None
            sh = st["shards"]
            if all(s["state"] == "ready" and s["pid"] not in exclude_pids for s in sh):
                return st
            return None
        return wait_for(ready, timeout, "all shards ready")

    # namespace helpers
    def ns(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.netns] + cmd, **kw)

    def ns_popen(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.netns] + cmd, **kw)

    def back_ns(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.back_netns] + cmd, **kw)

    def back_popen(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.back_netns] + cmd, **kw)

    def process_pids(self):
        """The primary, its workers and its standbys."""
        st = self.status()
        return [st["pid"]] + self.child_pids(st)


class AfPacketGateway(Gateway):
    """A Gateway on net_af_packet instead of net_tap: a veth pair inside the gateway's
    namespace. Porter's end (port_if) carries porter's MAC and no address; the kernel's
    end (iface, as for the tap) has PEER_IP, IPv6 off on both (no stray frames) and tx
    checksum offload off (the kernel would send partial checksums, PLATFORM.md).
    DEVARGS are appended to the device string (",framecnt=64")."""

    def __init__(self, workers=1, extra="", devargs=""):
        super().__init__(workers=workers, extra=extra)
        self.port_if = "pvap" + self.iface[4:]
        with open(self.conf) as f:
            conf = f.read()
        conf = conf.replace('"net_tap0,iface=%s"' % self.iface,
                            '"net_af_packet0,iface=%s%s"' % (self.port_if, devargs))
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self, wait_ready=True):
        run(["ip", "netns", "add", self.netns])
        ns = ["ip", "-n", self.netns]
        run(ns + ["link", "set", "lo", "up"])
        run(ns + ["link", "add", self.iface, "type", "veth", "peer", "name", self.port_if])
        for dev in (self.iface, self.port_if):
            self.ns(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev])
        self.ns(["ethtool", "-K", self.iface, "tx", "off"])
        run(ns + ["link", "set", self.port_if, "address", PORTER_MAC])
        run(ns + ["addr", "add", PEER_IP + "/24", "dev", self.iface])
        run(ns + ["link", "set", self.port_if, "up"])
        run(ns + ["link", "set", self.iface, "up"])
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.netns, PRIMARY, "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        if wait_ready:
            self.wait_all_ready()
            self.wait_standbys_ready()
        return self

    def link_stats(self, dev):
        """stats64 of DEV in the gateway's namespace."""
        r = run(["ip", "-n", self.netns, "-j", "-s", "link", "show", "dev", dev])
        return json.loads(r.stdout)[0]["stats64"]


def cpu_ns(pid):
    """CPU time of every thread of PID, in ns (schedstat: exact, not tick-sampled)."""
    total = 0
    for f in glob.glob("/proc/%d/task/*/schedstat" % pid):
        with contextlib.suppress(OSError):
            with open(f) as fh:
                total += int(fh.read().split()[0])
    return total


class Backend:
    """`backends.py MODE PORT OPTS...` started by POPEN (a namespace's ns_popen); waits for
    its "ready" line."""

    def __init__(self, popen, mode, port, *opts):
        backends_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "backends.py")
        self.port = port
        self.p = popen([sys.executable, backends_py, mode, str(port)] + [str(o) for o in opts],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        r, _, _ = select.select([self.p.stdout], [], [], 20)
        line = self.p.stdout.readline() if r else b""
        if line.strip() != b"ready":
            self.stop()
            raise AssertionError("backend %s %d %r did not start: %r %r" % (
                mode, port, opts, line, self.p.stderr.read()[-2000:]))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class Nginx:
    """nginx serving FILES ({name: bytes}) from DIRNAME/www on PEER_IP:PORT, started by
    GW.ns_popen; config, logs and pid in DIRNAME. ACCESS_LOG False: none (benches)."""

    def __init__(self, gw, port, dirname, files, access_log=True):
        self.dir = dirname
        www = os.path.join(dirname, "www")
        os.makedirs(www, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(www, name), "wb") as f:
                f.write(data)
        conf = os.path.join(dirname, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""user root;
worker_processes 1;
error_log %(d)s/error.log warn;
pid %(d)s/nginx.pid;
events { worker_connections 4096; }
http {
    access_log %(access_log)s;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {
        listen %(addr)s:%(port)d;
        root %(d)s/www;
    }
}
""" % {"d": dirname, "addr": PEER_IP, "port": port,
       "access_log": os.path.join(dirname, "access.log") if access_log else "off"})
        self.p = gw.ns_popen(["nginx", "-p", dirname, "-e", os.path.join(dirname, "error.log"),
                              "-c", conf, "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            if self.p.poll() is not None:
                raise AssertionError("nginx exited: %s" % self.p.stderr.read().decode()[-2000:])
            try:
                connect(gw, port, 1.0, PEER_IP).close()
                return True
            except OSError:
                return False
        wait_for(up, 15, "nginx listening on %d" % port)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()   # SIGTERM: nginx's fast shutdown, the master stops its worker
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def read_lines(path):
    """PATH's lines ([] if there is no such file)."""
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def log_tail(gw, n=40):
    """The last N lines of GW's primary log (or why there are none)."""
    try:
        return "\n".join(gw.log_text().splitlines()[-n:])
    except Exception as e:
        return "(no primary log: %r)" % e


class GatewayEnv:
    """A gateway (Gateway(**GW_KW); "@DIR@" in its `extra` is the temp dir), the
    processes started beside it (anything with stop(): backends, nginx) and a temp
    dir named PREFIX...; close() stops them in reverse order, then the gateway,
    printing the primary log's tail if the tests failed."""

    def __init__(self, prefix, **gw_kw):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)
        self.procs = []
        gw_kw["extra"] = gw_kw.get("extra", "").replace("@DIR@", self.dir)
        self.gw = Gateway(**gw_kw)
        self.gw.__enter__()

    def path(self, name):
        return os.path.join(self.dir, name)

    def req_log_path(self, port):
        return self.path("req-%d.log" % port)

    def req_log(self, port):
        """The lines the http backend on PORT logged (one per request)."""
        return read_lines(self.req_log_path(port))

    def backend(self, mode, port, *opts, popen=None):
        """`backends.py MODE PORT OPTS...`, in the gateway's namespace unless POPEN says."""
        b = Backend(popen or self.gw.ns_popen, mode, port, *opts)
        self.procs.append(b)
        return b

    def http_backend(self, port, name, *opts, popen=None):
        """An http backend answering /name with NAME, logging requests to req_log(PORT)."""
        return self.backend("http", port, "--name", name, "--log", self.req_log_path(port), *opts, popen=popen)

    def nginx(self, port, files):
        n = Nginx(self.gw, port, self.path("nginx-%d" % port), files)
        self.procs.append(n)
        return n

    def close(self, failed=False):
        for p in reversed(self.procs):
            with contextlib.suppress(Exception):
                p.stop()
        if failed:
            print("--- primary log (tail) ---\n" + log_tail(self.gw, 60))
        self.gw.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


class _GatewayEnv:
    """run_suite's default shared environment: one Gateway, closed with a log tail on failure."""

    def __init__(self, extra):
        self.gw = Gateway(extra=extra)
        self.gw.__enter__()

    def close(self, failed):
        if failed and os.path.exists(self.gw.log):
            print("--- primary log ---\n" + self.gw.log_text()[-4000:])
            self.gw.keep_log()
        self.gw.cleanup()


def run_suite(tests, figures, figures_file, shared_extra="", make_env=None, shared_arg="gw"):
    """Run TESTS (functions): those whose first parameter is named SHARED_ARG share one
    environment, the others run alone (with None). The environment is MAKE_ENV() (an
    object with close(failed)); by default one Gateway(extra=SHARED_EXTRA), passed to the
    tests as the gateway itself. `-k NAME` on the command line selects. Prints
    [PASS]/[FAIL] lines, the figures, and ends with "N passed, N failed". Returns the exit
    status."""
    import traceback
    argv = sys.argv
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    selected = [t for t in tests if only is None or only in t.__name__]
    shared = [t for t in selected if t.__code__.co_varnames[0] == shared_arg]
    alone = [t for t in selected if t not in shared]
    counts = {"passed": 0, "failed": 0}

    def report(name, err, t0):
        dt = time.monotonic() - t0
        if err is None:
            counts["passed"] += 1
            print("[PASS] %s (%.1fs)" % (name, dt), flush=True)
        else:
            counts["failed"] += 1
            print("[FAIL] %s (%.1fs)\n%s" % (name, dt, err), flush=True)

    if shared:
        t0 = time.monotonic()
        env = None
        try:
            env = make_env() if make_env else _GatewayEnv(shared_extra)
        except Exception:
            for t in shared:
                report(t.__name__, "shared setup failed:\n" + traceback.format_exc(), t0)
        if env is not None:
            arg = env if make_env else env.gw
            failed = False
            try:
                for t in shared:
                    t0 = time.monotonic()
                    try:
                        t(arg)
                        report(t.__name__, None, t0)
                    except Exception:
                        failed = True
                        report(t.__name__, traceback.format_exc(), t0)
            finally:
                try:
                    env.close(failed)
                except Exception:
                    report("teardown", traceback.format_exc(), time.monotonic())
    for t in alone:
        t0 = time.monotonic()
        try:
            t(None)
            report(t.__name__, None, t0)
        except Exception:
            report(t.__name__, traceback.format_exc(), t0)

    print("figures: " + json.dumps(figures, indent=1))
    with open(os.path.join(BUILD, figures_file), "w") as f:
        json.dump(figures, f, indent=1)
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    return 1 if counts["failed"] else 0
