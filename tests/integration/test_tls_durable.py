#!/usr/bin/env python3
"""Durable TLS sessions: established TLS sessions survive kill -9 and upgrades
of their worker (issue 14). The session's record state lives in the shard's
TLS area (shm/tls-area-t.h); a new worker continues it byte-exactly.

Every test runs real TLS clients (curl, wrk, Python's ssl) against a gateway
with an https listener (443, proxied to backends.py) and a TLS pass-through
listener (9443, to backends.py tcpsha), and kills or upgrades the workers in
the middle. A session a new worker could not continue shows up as a TLS
error (bad_record_mac, unexpected EOF), a reset, or a wrong sha256.

Run as root: python3 tests/integration/test_tls_durable.py [-k NAME]
Ends with "N passed, N failed"; figures go to
$PORTER_BUILD/integration-figures-tls-durable.json.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import BUILD, GatewayEnv, parse_wrk, wait_for  # noqa: E402
import backends  # noqa: E402

MiB = 1 << 20
PORTER = "10.99.0.2"
OTHER = os.path.join(BUILD, "secondary", "porter-worker-other")
CURRENT = os.path.join(BUILD, "secondary", "porter-worker")
FIGURES = {}
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


CONF = """
tcp: { time_wait_ms = 1000; };
listeners = ( { port = 443; protocol = "http";
                tls = { certificates = ( { cert = "@DIR@/site.pem"; key = "@DIR@/site.key"; } ); }; },
              { port = 9443; protocol = "tcp"; upstream = "sha";
                tls = { certificates = ( { cert = "@DIR@/site.pem"; key = "@DIR@/site.key"; } ); }; } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } ); },
              { name = "sha"; servers = ( { address = "10.99.0.1:9001"; } ); } );
routes = ( { upstream = "app"; } );
"""


def make_cert(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", os.path.join(d, "site.key"), "-out", os.path.join(d, "site.pem"),
                    "-days", "30", "-subj", "/CN=site.test", "-addext", "subjectAltName=DNS:site.test"],
                   check=True, capture_output=True)


class Env(GatewayEnv):
    """A gateway with CONF (its certificate made in a temp dir of its own) and its backends."""
    conf = CONF

    def __init__(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="porter-tlsd-certs-")
        os.chmod(d, 0o755)
        make_cert(d)
        self.certdir = d
        super().__init__("porter-tlsd-", extra=self.conf.replace("@DIR@", d))
        self.backends()

    def backends(self):
        self.http_backend(8081, "app")
        self.backend("tcpsha", 9001)

    def close(self, failed=False):
        super().close(failed)
        import shutil
        shutil.rmtree(self.certdir, ignore_errors=True)


# A TLS client in the gateway's namespace (stdlib ssl on memory BIOs, so that it
# can send a TCP FIN after its data and still read the answer).
CLIENT = r'''
import hashlib, json, socket, ssl, sys, time
sys.path.insert(0, sys.argv[1])
import backends
mode, n, rate = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if sys.argv[5] != "any":
    ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, sys.argv[5])
raw = socket.create_connection(("10.99.0.2", 9443), timeout=60)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="site.test")
def flush():
    d = out.read()
    if d:
        raw.sendall(d)
def feed():
    d = raw.recv(1 << 18)
    if not d:
        inc.write_eof()
        return False
    inc.write(d)
    return True
while True:
    try:
        obj.do_handshake()
        break
    except ssl.SSLWantReadError:
        flush()
        feed()
flush()
print("ready " + obj.version(), flush=True)
sys.stdin.readline()
t0 = time.monotonic()
sent = 0
for chunk in backends.pattern_chunks(0, n, 1 << 18):
    v = memoryview(chunk)
    while len(v):
        k = obj.write(v[:16384 * 4])
        v = v[k:]
        flush()
    sent += len(chunk)
    ahead = sent / rate - (time.monotonic() - t0)   # a paced load loop, not a wait for an event
    if ahead > 0:
        time.sleep(ahead)
raw.shutdown(socket.SHUT_WR)   # TCP FIN: the upload is over (pass-through takes it as EOF)
ans = b""
while True:
    try:
        d = obj.read(4096)
        if not d:
            break
        ans += d
    except ssl.SSLWantReadError:
        if not feed():
            try:
                ans += obj.read(4096)
            except (ssl.SSLWantReadError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
                pass
            break
    except ssl.SSLZeroReturnError:
        break
print(json.dumps({"answer": ans.decode(errors="replace").strip(), "want": backends.pattern_sha256(n),
                  "seconds": time.monotonic() - t0}), flush=True)
'''


def killer(gw, stop, period, counts):
    """SIGKILL every ready worker each PERIOD seconds until STOP is set."""
    while not stop.is_set():
        st = gw.status()
        pids = [sh["pid"] for sh in st["shards"] if sh["state"] == "ready"]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            counts[0] += 1
        gw.wait_all_ready(timeout=15, exclude_pids=tuple(pids))
        stop.wait(period)


def under_kills(gw, p, period=0.5):
    """Kill every worker each PERIOD seconds until client process P ends; (stdout, stderr, kills)."""
    stop, kills = threading.Event(), [0]
    th = threading.Thread(target=killer, args=(gw, stop, period, kills))
    th.start()
    try:
        so, se = p.communicate(timeout=170)
    finally:
        stop.set()
        th.join()
        if p.poll() is None:
            p.kill()
            p.wait()
    return so, se, kills[0]


def tls_counters(gw):
    st = gw.status()
    return [sh.get("tls") or {} for sh in st["shards"]]


@test
def https_download_64mib_survives_kills(env):
    """A 64 MiB HTTPS download (TLS 1.3, then 1.2) while every worker is killed every 0.5 s."""
    gw = env.gw
    n = 64 * MiB
    for ver in ("--tlsv1.3", "--tls-max"):
        out = env.path("dl.out")
        args = ["--tlsv1.3"] if ver == "--tlsv1.3" else ["--tlsv1.2", "--tls-max", "1.2"]
        p = gw.ns_popen(["curl", "-sSk", "--max-time", "150", "--limit-rate", "12M"] + args +
                        ["-o", out, "-w", "%{http_code} %{size_download} %{ssl_verify_result}",
                         "https://%s/size/%d" % (PORTER, n)],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: os.path.exists(out) and os.path.getsize(out) >= 4 * MiB, 30, "4 MiB downloaded")
        except AssertionError:
            p.kill()
            p.wait()
            raise
        so, se, kills = under_kills(gw, p)
        code, size = so.split()[:2]
        FIGURES["download_" + args[0]] = {"kills": kills, "bytes": int(size)}
        assert p.returncode == 0 and code == "200" and int(size) == n, (p.returncode, so, se)
        assert kills >= 4, "the download ended before the workers were killed: %d kills" % kills
        with open(out, "rb") as f:
            import hashlib
            h = hashlib.sha256()
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        assert h.hexdigest() == backends.pattern_sha256(n), "%s: body differs after %d kills" % (args, kills)
        os.unlink(out)
    c = tls_counters(gw)
    FIGURES["tls_counters_after_downloads"] = c
    assert sum(x.get("resumed", 0) for x in c) > 0, c


@test
def tls_passthrough_upload_64mib_survives_kills(env):
    """64 MiB through a TLS pass-through listener to a sha256 backend, workers killed every 0.5 s."""
    gw = env.gw
    n = 64 * MiB
    for ver in ("TLSv1_3", "TLSv1_2"):
        p = gw.ns_popen([sys.executable, "-c", CLIENT, HERE, "upload", str(n), str(12 * MiB), ver],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        assert line.startswith("ready"), "client: %r %s" % (line, p.stderr.read()[-2000:])
        p.stdin.write("go\n")
        p.stdin.flush()
        so, se, kills = under_kills(gw, p)
        assert p.returncode == 0 and so.strip(), "client failed (%s): %s" % (p.returncode, se[-3000:])
        res = json.loads(so.strip().splitlines()[-1])
        FIGURES["upload_" + ver] = {"kills": kills, "seconds": round(res["seconds"], 1)}
        assert kills >= 4, "the upload ended before the workers were killed: %d kills" % kills
        assert res["answer"] == "%s %d" % (res["want"], n), (ver, res, kills)


@test
def wrk_https_keepalive_through_kills_and_upgrade(env):
    """wrk over HTTPS with keep-alive for 20 s: a worker killed every 2 s, one rolling upgrade: 0 errors."""
    gw = env.gw
    result = {}

    def run():
        r = gw.ns(["wrk", "-t2", "-c32", "-d20s", "--timeout", "4s", "https://%s/size/100" % PORTER],
                  check=False, timeout=90)
        result["out"] = r.stdout + r.stderr
        result["res"] = parse_wrk(result["out"])
        result["res"]["rc"] = r.returncode
    th = threading.Thread(target=run)
    t_start = time.monotonic()
    th.start()
    kills, upgraded, i = 0, None, 0
    while time.monotonic() - t_start < 17:
        time.sleep(max(0.0, t_start + 2 * (i + 1) - time.monotonic()))   # a schedule, not a wait
        if i == 3:
            t0 = time.monotonic()
            out = gw.ctl("upgrade", "--binary", OTHER, check=False, timeout=120)
            assert out.returncode == 0, "upgrade: %s %s" % (out.stdout, out.stderr)
            st = gw.wait_all_ready(timeout=15)
            assert all(x["version"].endswith("-other") for x in st["shards"]), st["shards"]
            upgraded = round(time.monotonic() - t0, 2)
        else:
            st = gw.status()
            sh = st["shards"][i % len(st["shards"])]
            os.kill(sh["pid"], signal.SIGKILL)
            kills += 1
            gw.wait_all_ready(timeout=15, exclude_pids=(sh["pid"],))
        i += 1
    th.join(90)
    res = result.get("res")
    FIGURES["wrk_https"] = {"kills": kills, "upgrade_s": upgraded, "wrk": res}
    assert res is not None, "wrk did not finish"
    assert res["rc"] == 0 and res["requests"] > 0, result["out"]
    assert res["socket_errors"] == 0 and res["non2xx3xx"] == 0, \
        "%d kills, upgrade %s s:\n%s" % (kills, upgraded, result["out"])
    c = tls_counters(gw)
    assert sum(x.get("resumed", 0) for x in c) > 0, c


@test
def tickets_resume_on_every_shard_after_kills_and_upgrade(env):
    """A ticket from one connection resumes on both shards, after every worker was killed and after an upgrade."""
    gw = env.gw
    sess = env.path("sess")

    def connect(extra):
        r = gw.ns(["bash", "-c", "printf 'GET /name HTTP/1.1\\r\\nHost: site.test\\r\\nConnection: close\\r\\n\\r\\n' | "
                   "timeout 10 openssl s_client -tls1_3 -connect %s:443 -servername site.test -ign_eof %s 2>&1"
                   % (PORTER, extra)], check=False)
        assert "X-Backend: app" in r.stdout, r.stdout[-2000:]
        return "Reused, TLSv1.3" in r.stdout

    assert not connect("-sess_out %s" % sess), "a first connection cannot resume"   # its ticket saved
    assert os.path.getsize(sess) > 0
    before = tls_counters(gw)
    pids = [sh["pid"] for sh in gw.status()["shards"]]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    gw.wait_all_ready(timeout=15, exclude_pids=tuple(pids))
    reused = sum(connect("-sess_in %s" % sess) for _ in range(12))
    out = gw.ctl("upgrade", "--binary", OTHER, check=False, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    gw.wait_all_ready(timeout=15)
    reused += sum(connect("-sess_in %s" % sess) for _ in range(4))
    after = tls_counters(gw)
    per_shard = [a.get("handshakes_resumed", 0) - b.get("handshakes_resumed", 0) for a, b in zip(after, before)]
    FIGURES["tickets"] = {"reused": reused, "of": 16, "per_shard": per_shard}
    assert reused == 16, "only %d of 16 connections resumed" % reused
    assert all(x > 0 for x in per_shard), "a shard resumed no session: %s" % per_shard


@test
def key_updates_both_ways_across_kills(env):
    """TLS 1.3 KeyUpdate (RFC 8446 §4.6.3) from the client, with and without update_requested, with
    every worker killed between each update and the next request: porter's own KeyUpdate answers
    and the session goes on under the new keys in both directions."""
    gw = env.gw
    p = gw.ns_popen(["openssl", "s_client", "-tls1_3", "-connect", "%s:443" % PORTER, "-servername", "site.test",
                     "-msg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = bytearray()
    lock = threading.Lock()

    def reader():
        for chunk in iter(lambda: p.stdout.read1(65536), b""):
            with lock:
                buf.extend(chunk)
    th = threading.Thread(target=reader, daemon=True)
    th.start()

    def text():
        with lock:
            return bytes(buf).decode("latin-1")

    def send(line):
        p.stdin.write(line)
        p.stdin.flush()

    def request(i):
        n0 = text().count("X-Backend: app")
        send(b"GET /name HTTP/1.1\r\nHost: site.test\r\n\r\n")
        wait_for(lambda: text().count("X-Backend: app") > n0 or p.poll() is not None, 15, "answer %d" % i)
        assert p.poll() is None, "s_client ended:\n" + text()[-3000:]

    def kill_all():
        pids = [sh["pid"] for sh in gw.status()["shards"]]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        gw.wait_all_ready(timeout=15, exclude_pids=tuple(pids))

    def server_key_updates():
        return len([ln for ln in text().splitlines() if ln.startswith("<<<") and "KeyUpdate" in ln])
    try:
        wait_for(lambda: "New, TLSv1.3" in text() or p.poll() is not None, 15, "handshake")
        before = sum(x.get("key_updates", 0) for x in tls_counters(gw))
        request(0)
        send(b"K\n")          # KeyUpdate, update_requested: porter must update its side too
        wait_for(lambda: "KEYUPDATE" in text(), 10, "the client's KeyUpdate sent")
        kill_all()
        request(1)            # porter's KeyUpdate goes before this answer
        assert server_key_updates() == 1, "porter's KeyUpdates seen: %d\n%s" % (server_key_updates(), text()[-3000:])
        kill_all()
        request(2)
        send(b"k\n")          # KeyUpdate, update_not_requested: only the client's side moves
        wait_for(lambda: text().count("KEYUPDATE") >= 2, 10, "the second KeyUpdate sent")
        kill_all()
        request(3)
        assert server_key_updates() == 1, "porter answered an update_not_requested"
        after = sum(x.get("key_updates", 0) for x in tls_counters(gw))
        FIGURES["key_updates"] = {"received": after - before, "sent": server_key_updates()}
        assert after - before == 2, (before, after)
        assert "alert" not in text().lower().split("new, tlsv1.3")[-1], text()[-3000:]
    finally:
        p.stdin.close()
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


@test
def sessions_end_when_streams_close_not_after_time_wait(env):
    """50 HTTPS requests with Connection: close (porter closes first: its streams wait in TIME-WAIT
    for a minute) and 50 where the client closes: every TLS slot is free again at once."""
    gw = env.gw
    r = gw.ns(["bash", "-c", "for i in $(seq 50); do curl -sk -H 'Connection: close' https://%s/name >/dev/null || exit 1; "
               "curl -sk https://%s/name >/dev/null || exit 1; done" % (PORTER, PORTER)], check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    st = wait_for(lambda: (lambda s: s if all((sh["tls"] or {}).get("sessions", 0) == 0 for sh in s["shards"])
                           else None)(gw.status()), 10, "every TLS slot free")
    tw = sum(sh["tcp"].get("time_wait", 0) for sh in st["shards"])
    FIGURES["slots_after_close"] = {"sessions": [sh["tls"]["sessions"] for sh in st["shards"]], "time_wait": tw,
                                    "handshakes": sum(sh["tls"]["handshakes"] for sh in st["shards"])}
    assert sum(sh["tls"]["handshakes"] for sh in st["shards"]) >= 100, st["shards"]


HALF_CONF = """
tcp: { time_wait_ms = 1000; snd_buf = 16384; };
listeners = ( { port = 9446; protocol = "tcp"; upstream = "half";
                tls = { certificates = ( { cert = "@DIR@/site.pem"; key = "@DIR@/site.key"; } ); }; } );
upstreams = ( { name = "half"; servers = ( { address = "10.99.0.1:9004"; } ); } );
"""

HALF_CLIENT = r'''
import fcntl, hashlib, socket, ssl, struct, sys, termios, time
sys.path.insert(0, sys.argv[1])
import backends
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("10.99.0.2", 9446), timeout=20), server_hostname="site.test")
got = b""
while True:
    d = s.recv(4096)
    if not d:
        break          # porter's close_notify: the upstream finished first
    got += d
assert got == b"hello\n", got
def acked(sock):
    # every byte sent is ACKed: porter has taken it in (and opened its records) -- an event, polled
    deadline = time.monotonic() + 20
    while struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]:
        assert time.monotonic() < deadline, "porter does not ACK"
        time.sleep(0.002)
data = backends.pattern(0, int(sys.argv[2]))
s.sendall(data)
acked(s)
raw = s.unwrap()       # our close_notify (porter's came already) ...
acked(raw)
raw.shutdown(socket.SHUT_WR)   # ... then the FIN alone: porter's TCP queue is empty, its ring is not
raw.settimeout(20)
while raw.recv(4096):
    pass
print("%s %d" % (hashlib.sha256(data).hexdigest(), len(data)), flush=True)
'''


class HalfEnv(Env):
    conf = HALF_CONF

    def backends(self):
        pass   # the test starts its own


@test
def tunnel_upload_after_the_upstream_finished_is_delivered_whole(e):
    """The upstream sends its answer and FIN first, then reads late (a 4 KiB buffer); the client
    uploads 40 KiB, then close_notify and FIN. Porter holds what it cannot pass on in the session's
    plaintext ring, so its TCP queue is empty when the client's FIN arrives: TIME-WAIT must keep
    the stream the proxy's until the ring is relayed (the upstream gets every byte)."""
    log = e.path("half.log")
    e.backend("tcphalf", 9004, "--log", log)
    for n in (40 << 10, 24 << 10):
        if os.path.exists(log + ".go"):
            os.unlink(log + ".go")
        r = e.gw.ns([sys.executable, "-c", HALF_CLIENT, HERE, str(n)], check=False, timeout=60)
        assert r.returncode == 0, r.stderr[-2000:]
        want = r.stdout.strip()
        open(log + ".go", "w").close()
        lines = wait_for(lambda: [ln for ln in (open(log).read().splitlines() if os.path.exists(log) else [])]
                         or None, 20, "the upstream's report")
        assert lines[-1] == want, "the upstream got %r, the client sent %r" % (lines[-1], want)
        os.unlink(log)
    FIGURES["tunnel_tail"] = "whole"


tunnel_upload_after_the_upstream_finished_is_delivered_whole.make_env = HalfEnv


def main():
    only = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
    passed = failed = 0
    for t in [t for t in TESTS if only is None or only in t.__name__]:
        t0 = time.monotonic()
        env = None
        ok = False
        try:
            env = getattr(t, "make_env", Env)()
            t(env)
            ok = True
            passed += 1
            print("[PASS] %s (%.1fs)" % (t.__name__, time.monotonic() - t0), flush=True)
        except Exception:
            failed += 1
            print("[FAIL] %s (%.1fs)\n%s" % (t.__name__, time.monotonic() - t0, traceback.format_exc()),
                  flush=True)
        finally:
            if env is not None:
                env.close(not ok)
    print("figures: " + json.dumps(FIGURES))
    with open(os.path.join(BUILD, "integration-figures-tls-durable.json"), "w") as f:
        json.dump(FIGURES, f, indent=1)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
