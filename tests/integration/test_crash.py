#!/usr/bin/env python3
"""Crash-point sweep: every numbered crash point, armed in turn, under load.

The worker built with crash points (porter-worker-crash, secondary/crash.h)
lists them (--crash-points). For each one the sweep arms it (PORTER_CRASH_ARM
file + SIGUSR2; points inside recovery are armed for the successor of a
kill -9) and waits until the worker SIGKILLs itself there (it appends the
point's name to PORTER_CRASH_LOG) and its successor is ready. All the while
a client mix runs through the gateway and checks every byte: echo streams,
keep-alive HTTP POSTs with bodies through the proxy, downloads through the
proxy, TCP pass-through uploads, and connects to a closed port (stateless
RSTs). At the end: no client error, every stream and session closed, the
mempool back to its baseline.

Run as root: python3 tests/integration/test_crash.py [-k NAME]
Ends with "N passed, N failed"; figures (points, reached, fired) go to
$PORTER_BUILD/integration-figures-crash.json.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, Backend, Gateway, wait_for  # noqa: E402

FIGURES = {}
TESTS = []
CRASH_WORKER = os.path.join(BUILD, "secondary", "porter-worker-crash")

CONF = """
tcp: { max_streams_per_shard = 4096; time_wait_ms = 500; };
listeners = ( { port = 7; service = "echo"; },
              { port = 80; protocol = "http"; },
              { port = 443; protocol = "http";
                tls = { certificates = ( { cert = "@CERTS@/site.pem"; key = "@CERTS@/site.key"; } ); }; },
              { port = 9000; protocol = "tcp"; upstream = "rawsha"; } );
upstreams = (
  { name = "app"; servers = ( { address = "10.99.0.1:8081"; } );
    keepalive = { max_idle = 8; idle_timeout_ms = 60000; };
    timeouts = { connect_ms = 2000; read_ms = 20000; write_ms = 20000; }; },
  { name = "rawsha"; servers = ( { address = "10.99.0.1:9001"; } ); } );
routes = ( { upstream = "app"; } );
http = { header_timeout_ms = 20000; idle_timeout_ms = 60000; };
"""

# The client mix, inside the gateway's namespace; runs until "stop" on stdin.
CLIENT = r'''
import hashlib, http.client, json, os, socket, sys, threading, time
sys.path.insert(0, sys.argv[1])
import backends
host = "10.99.0.2"
stop = threading.Event()
lock = threading.Lock()
res = {"ops": {}, "errors": []}

last = {}

def note(kind, err=None):
    """Count an operation, or record an error with the time its operation began."""
    with lock:
        if err is None:
            res["ops"][kind] = res["ops"].get(kind, 0) + 1
        else:
            res["errors"].append([last.get(threading.get_ident(), time.time()), kind, repr(err)[:300]])
        last[threading.get_ident()] = time.time()

def echo(i):
    s = socket.create_connection((host, 7), timeout=15)
    k = 0
    try:
        while not stop.is_set():
            msg = (b"%d:%d:" % (i, k)) + os.urandom(1 + (k * 997) % 6000)
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                b = s.recv(len(msg) - len(got))
                if not b:
                    raise EOFError("EOF after %d rounds" % k)
                got += b
            if got != msg:
                raise ValueError("round %d: echoed bytes differ" % k)
            k += 1
            note("echo")
            time.sleep(0.002)
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            raise ValueError("data after shutdown")
    except Exception as e:
        note("echo", e)
    finally:
        s.close()

def post(i):
    c = http.client.HTTPConnection(host, 80, timeout=15)
    k = 0
    try:
        while not stop.is_set():
            body = os.urandom(1 + (k * 7919 + i * 104729) % 150000)
            if k % 3 == 2:   # chunked upload: porter re-frames it
                parts = [body[j:j + 7000] for j in range(0, len(body), 7000)]
                c.request("POST", "/echo", body=iter(parts), encode_chunked=True,
                          headers={"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"})
            else:
                c.request("POST", "/echo", body=body, headers={"Content-Type": "application/octet-stream"})
            r = c.getresponse()
            got = json.loads(r.read())
            if r.status != 200 or got["length"] != len(body) or got["sha256"] != hashlib.sha256(body).hexdigest():
                raise ValueError("POST %d: status %d, %r" % (k, r.status, got))
            k += 1
            note("post")
    except Exception as e:
        note("post", e)
    finally:
        c.close()

def tls_conn():
    # A handshake a worker was killed in is lost (the client retries, as browsers do);
    # an established session is not: only the first connect may be retried.
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for attempt in range(5):
        c = http.client.HTTPSConnection(host, 443, timeout=15, context=ctx)
        try:
            c.connect()
            return c
        except Exception as e:
            c.close()
            note("tls_handshake_retried")
            err = e
    raise err

def https(i):
    k = 0
    c = None
    try:
        c = tls_conn()
        while not stop.is_set():
            if k % 2:
                body = os.urandom(1 + (k * 7919 + i * 104729) % 90000)
                c.request("POST", "/echo", body=body, headers={"Content-Type": "application/octet-stream"})
                r = c.getresponse()
                got = json.loads(r.read())
                if r.status != 200 or got["length"] != len(body) or got["sha256"] != hashlib.sha256(body).hexdigest():
                    raise ValueError("https POST %d: status %d, %r" % (k, r.status, got))
            else:
                n = (1 << 20) + k * 4099
                c.request("GET", "/size/%d" % n)
                r = c.getresponse()
                b = r.read()
                if r.status != 200 or len(b) != n or hashlib.sha256(b).hexdigest() != backends.pattern_sha256(n):
                    raise ValueError("https GET %d: status %d, %d bytes" % (k, r.status, len(b)))
            k += 1
            note("https")
    except Exception as e:
        note("https", e)
    finally:
        if c:
            c.close()

def download():
    c = http.client.HTTPConnection(host, 80, timeout=15)
    k = 0
    try:
        while not stop.is_set():
            n = 1 << 20 if k % 2 else 3 << 20
            c.request("GET", ("/chunked/%d" if k % 3 == 1 else "/size/%d") % n)
            r = c.getresponse()
            h = hashlib.sha256(); got = 0
            while True:
                b = r.read(1 << 16)
                if not b:
                    break
                h.update(b); got += len(b)
            if r.status != 200 or got != n or h.hexdigest() != backends.pattern_sha256(n):
                raise ValueError("GET %d: status %d, %d bytes" % (k, r.status, got))
            k += 1
            note("download")
    except Exception as e:
        note("download", e)
    finally:
        c.close()

def upload():
    k = 0
    while not stop.is_set():
        try:
            s = socket.create_connection((host, 9000), timeout=30)
            data = os.urandom((2 << 20) + k * 4099)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            line = b""
            while not line.endswith(b"\n"):
                b = s.recv(200)
                if not b:
                    break
                line += b
            s.close()
            want = b"%s %d\n" % (hashlib.sha256(data).hexdigest().encode(), len(data))
            if line != want:
                raise ValueError("upload %d: got %r" % (k, line[:100]))
            k += 1
            note("upload")
        except Exception as e:
            note("upload", e)
            return

def closed_port():
    while not stop.is_set():
        try:
            socket.create_connection((host, 81), timeout=5).close()
            note("closed_port", ValueError("port 81 accepted"))
            return
        except ConnectionRefusedError:
            note("closed_port")
        except Exception as e:
            note("closed_port", e)
            return
        time.sleep(0.05)

threads = [threading.Thread(target=echo, args=(i,)) for i in range(6)]
threads += [threading.Thread(target=post, args=(i,)) for i in range(3)]
threads += [threading.Thread(target=https, args=(i,)) for i in range(2)]
threads += [threading.Thread(target=download), threading.Thread(target=upload),
            threading.Thread(target=closed_port)]
for t in threads:
    t.start()
print("ready", flush=True)
sys.stdin.readline()
stop.set()
for t in threads:
    t.join(120)
res["alive"] = sum(t.is_alive() for t in threads)
print(json.dumps(res), flush=True)
'''


def test(fn):
    TESTS.append(fn)
    return fn


def crash_points():
    out = subprocess.run([CRASH_WORKER, "--crash-points"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


MID_STEP = "tcp_input.rcv_counted"   # a worker killed here leaves a stream to repair


def in_recovery(name):
    """Points only a recovering worker passes: armed for the successor of a kill -9."""
    return name.startswith("recovery.") or name.startswith("tcp_recover.")


def fired_lines(path):
    try:
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    except FileNotFoundError:
        return []


@test
def every_crash_point_under_load(gw, ctx):
    points = crash_points()
    if os.environ.get("PORTER_CRASH_ONLY"):   # debugging: a comma-separated subset
        points = [p for p in points if p in os.environ["PORTER_CRASH_ONLY"].split(",")]
        points = points * int(os.environ.get("PORTER_CRASH_REPEAT", "1"))
    assert len(points) >= 30 or os.environ.get("PORTER_CRASH_ONLY"), "only %d crash points registered" % len(points)
    arm, log = ctx["arm"], ctx["log"]
    wait_for(lambda: gw.status()["shards"][0]["tcp"]["streams"] == 0, 15, "no streams at the start")
    base = gw.status()["mempool"]["in_use"]
    client = gw.ns_popen([sys.executable, "-c", CLIENT, os.path.dirname(os.path.abspath(__file__))],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert client.stdout.readline().strip() == "ready", client.stderr.read()[-2000:]
    timeline, reached, missed = [], [], []
    try:
        # let every kind of traffic start (and the keep-alive pool fill) first
        wait_for(lambda: gw.status()["shards"][0]["http"]["requests"] >= 10, 20, "proxied requests")
        for i, name in enumerate(points):
            pid = gw.status()["shards"][0]["pid"]
            before = len(fired_lines(log))
            nth = (1, 3, 17)[i % 3]
            with open(arm + ".tmp", "w") as f:
                if in_recovery(name):
                    # die mid-step first, so the successor has streams to repair; it dies in recovery
                    f.write("%s 2\n%s 1\n" % (MID_STEP, name))
                else:
                    f.write("%s %d\n" % (name, nth))
            os.rename(arm + ".tmp", arm)
            t0 = time.time()
            os.kill(pid, signal.SIGUSR2)
            try:
                wait_for(lambda: name in [x[0] for x in fired_lines(log)[before:]], 6, "crash point %s" % name)
            except AssertionError:
                missed.append(name)
                with open(arm + ".tmp", "w") as f:
                    f.write("")   # disarm
                os.rename(arm + ".tmp", arm)
                pid = gw.status()["shards"][0]["pid"]
                os.kill(pid, signal.SIGUSR2)
                wait_for(lambda: not os.path.exists(arm), 5, "disarm read")
                continue
            fired = fired_lines(log)[before:]
            want = [MID_STEP, name] if in_recovery(name) else [name]
            assert [x[0] for x in fired] == want, "armed %s, fired %s" % (want, fired)
            reached.append(name)
            timeline.append((t0, name))
            dead = {pid} | {int(x[1]) for x in fired}
            gw.wait_all_ready(timeout=20, exclude_pids=tuple(dead))
            assert client.poll() is None, "client exited: " + client.stderr.read()[-2000:]
    finally:
        out, err = client.communicate("stop\n", timeout=300)
    res = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"errors": [["?", "client", err[-2000:]]]}
    st = wait_for(lambda: (lambda s: s if s["shards"][0]["tcp"]["streams"] <= s["shards"][0]["tcp"].get("pooled", 8)
                           and s["shards"][0]["http"]["sessions"] == 0 else None)(gw.status()),
                  20, "sessions closed")
    # frames in flight (an ARP exchange, a retransmission) settle; a leaked buffer does not
    seen = []
    try:
        wait_for(lambda: seen.append(gw.status()["mempool"]["in_use"]) or seen[-1] == base, 10,
                 "mempool back to %d" % base)
    except AssertionError:
        pass
    in_use = seen[-1]
    FIGURES["points"] = len(points)
    FIGURES["reached"] = len(reached)
    FIGURES["not_reached"] = missed
    FIGURES["ops"] = res.get("ops")
    FIGURES["mempool_base_after"] = [base, in_use]
    FIGURES["stranded"] = st["shards"][0]["stranded"]
    tcp = st["shards"][0]["tcp"]
    FIGURES["repaired_reset_inconsistent"] = [tcp["repaired"], tcp["reset_on_recovery"], tcp["inconsistent"]]
    FIGURES["recovered_mbufs"] = st["shards"][0]["recovered_mbufs"]
    tls = st["shards"][0]["tls"]
    FIGURES["tls"] = {k: tls[k] for k in ("handshakes", "handshakes_lost", "resumed", "reset_at_attach")}
    errs = []
    for t, kind, e in res.get("errors", []):
        last = [n for (t0, n) in timeline if t0 <= t]
        errs.append("%s (began %.1f s into the sweep) after %s: %s" % (
            kind, t - timeline[0][0] if timeline else 0, last[-2:], e))
    assert not errs, "client errors:\n" + "\n".join(errs[:20])
    assert res.get("alive") == 0, "client threads still running"
    assert all(v > 0 for k, v in res["ops"].items()), res["ops"]
    assert tls["resumed"] > 0, tls
    assert tls["reset_at_attach"] == 0, "a new worker could not continue %d TLS sessions" % tls["reset_at_attach"]
    assert tcp["inconsistent"] == 0, "recovery left %d invariant violations (primary log)" % tcp["inconsistent"]
    assert tcp["reset_on_recovery"] == 0, "recovery reset %d streams" % tcp["reset_on_recovery"]
    assert in_use == base, "mempool in use %d, baseline %d" % (in_use, base)
    assert len(reached) >= 0.75 * len(points), "only %d of %d points reached: %s" % (
        len(reached), len(points), missed)


def main():
    only = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="porter-crash-")
    ctx = {"arm": os.path.join(tmp, "arm"), "log": os.path.join(tmp, "fired")}
    os.environ["PORTER_CRASH_ARM"] = ctx["arm"]
    os.environ["PORTER_CRASH_LOG"] = ctx["log"]
    for fn in TESTS:
        if only and only not in fn.__name__:
            continue
        t0 = time.time()
        certs = os.path.join(tmp, "certs")
        os.makedirs(certs, exist_ok=True)
        os.chmod(tmp, 0o755)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(certs, "site.key"), "-out", os.path.join(certs, "site.pem"),
                        "-days", "30", "-subj", "/CN=site.test"], check=True, capture_output=True)
        gw = Gateway(workers=1, extra=CONF.replace("@CERTS@", certs), worker_binary=CRASH_WORKER)
        backs = []
        try:
            gw.start()
            backs.append(Backend(gw.ns_popen, "http", 8081, "--name", "app"))
            backs.append(Backend(gw.ns_popen, "tcpsha", 9001))
            fn(gw, ctx)
            passed += 1
            print("PASS %s (%.1f s)" % (fn.__name__, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s (%.1f s)" % (fn.__name__, time.time() - t0), flush=True)
            import traceback
            traceback.print_exc()
            print("--- primary log (tail) ---\n" + "\n".join(gw.log_text().splitlines()[-60:]))
        finally:
            for b in backs:
                b.stop()
            gw.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)   # the arm file and the log of fired points
    out = os.path.join(BUILD, "integration-figures-crash.json")
    with open(out, "w") as f:
        json.dump(FIGURES, f, indent=1)
    print(json.dumps(FIGURES))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
