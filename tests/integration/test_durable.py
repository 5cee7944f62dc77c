#!/usr/bin/env python3
"""Durable shards: streams survive kill -9, SIGSTOP and upgrades of their worker.

Run as root: python3 tests/integration/test_durable.py [-k NAME]
Ends with "N passed, N failed"; figures (swap gaps, restart times, mbuf
accounting) go to $PORTER_BUILD/integration-figures-durable.json.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, PRIMARY, Gateway, wait_for  # noqa: E402

FIGURES = {}
TESTS = []
PORTER = "10.99.0.2"
OTHER = os.path.join(BUILD, "secondary", "porter-worker-other")
BAD = os.path.join(BUILD, "secondary", "porter-worker-badlayout")
CURRENT = os.path.join(BUILD, "secondary", "porter-worker")

SERVICES = """
tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; };
listeners = ( { port = 7; service = "echo"; }, { port = 9; service = "discard"; },
              { port = 19; service = "source"; bytes = 268435456L; } );
"""

# The client side runs inside the namespace: one script, several modes.
CLIENT = r'''
import hashlib, json, os, socket, sys, threading, time
mode = sys.argv[1]
host = "10.99.0.2"

def src_byte_block(off, n):
    return bytes(((i * 7 + (i >> 8) * 13 + (i >> 16)) & 0xff) for i in range(off, off + n))

if mode == "rounds":          # N streams, an echo round trip each every 10 ms
    n, seconds = int(sys.argv[2]), float(sys.argv[3])
    res = {"streams": n, "ok": 0, "errors": [], "rounds": 0}
    lock = threading.Lock()
    go = threading.Event()
    socks = [socket.create_connection((host, 7), timeout=10) for _ in range(n)]
    print("ready", flush=True)
    sys.stdin.readline()
    def run(i, s):
        deadline = time.monotonic() + seconds
        k = 0
        try:
            while time.monotonic() < deadline:
                msg = b"%d:%d:" % (i, k) + bytes([k & 0xff]) * 64
                s.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    b = s.recv(len(msg) - len(got))
                    if not b:
                        raise EOFError("EOF in round %d" % k)
                    got += b
                if got != msg:
                    raise ValueError("round %d: echoed bytes differ" % k)
                k += 1
                time.sleep(0.01)
            s.shutdown(socket.SHUT_WR)
            if s.recv(1) != b"":
                raise ValueError("data after shutdown")
            with lock:
                res["ok"] += 1
                res["rounds"] += k
        except Exception as e:
            with lock:
                res["errors"].append("%d: %r" % (i, e))
        finally:
            s.close()
    th = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(socks)]
    for t in th: t.start()
    for t in th: t.join()
    print(json.dumps(res))
elif mode == "source":        # read the whole source stream, check the pattern's sha256
    total = int(sys.argv[2])
    s = socket.create_connection((host, 19), timeout=30)
    h = hashlib.sha256(); n = 0
    print("ready", flush=True)
    while True:
        b = s.recv(1 << 20)
        if not b: break
        h.update(b); n += len(b)
    e = hashlib.sha256()
    off = 0
    chunk = 1 << 20
    pat = {}
    while off < total:
        k = min(chunk, total - off)
        e.update(src_byte_block(off, k)); off += k
    print(json.dumps({"bytes": n, "ok": n == total and h.digest() == e.digest()}))
elif mode == "echo":          # echo TOTAL random bytes, sha256 of what comes back
    total = int(sys.argv[2])
    s = socket.create_connection((host, 7), timeout=30)
    seed = os.urandom(1 << 20)
    sent_h = hashlib.sha256(); got_h = hashlib.sha256(); got = [0]
    print("ready", flush=True)
    def reader():
        while True:
            b = s.recv(1 << 20)
            if not b: break
            got_h.update(b); got[0] += len(b)
    t = threading.Thread(target=reader); t.start()
    off = 0
    while off < total:
        blk = seed[: min(len(seed), total - off)]
        s.sendall(blk); sent_h.update(blk); off += len(blk)
    s.shutdown(socket.SHUT_WR)
    t.join()
    print(json.dumps({"bytes": got[0], "ok": got[0] == total and sent_h.digest() == got_h.digest()}))
elif mode == "idle":          # open N streams, wait, then check every one still echoes
    n = int(sys.argv[2])
    socks = [socket.create_connection((host, 7), timeout=10) for _ in range(n)]
    print("ready", flush=True)
    sys.stdin.readline()
    ok = 0; errs = []
    for i, s in enumerate(socks):
        try:
            s.sendall(b"still %d" % i)
            if s.recv(100) == b"still %d" % i:
                ok += 1
            s.close()
        except Exception as e:
            errs.append("%d: %r" % (i, e))
    print(json.dumps({"ok": ok, "errors": errs[:10]}))
'''


def test(fn=None, **gw_kwargs):
    """@test, or @test(standby=False): the Gateway the test runs on gets GW_KWARGS."""
    def add(f):
        f.gw_kwargs = gw_kwargs
        TESTS.append(f)
        return f
    return add(fn) if fn is not None else add


class Client:
    """A client mode running in the gateway's namespace; start() waits for 'ready'."""

    def __init__(self, gw, *args):
        self.p = gw.ns_popen([sys.executable, "-c", CLIENT] + [str(a) for a in args],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        assert line.strip() == "ready", "client did not start: %r" % line

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def result(self, timeout=600):
        out, err = self.p.communicate(timeout=timeout)
        lines = out.strip().splitlines()
        assert lines, "client failed (exit %s):\n%s" % (self.p.returncode, err[-3000:])
        return json.loads(lines[-1])


def kill_every(gw, period, count, shard=None, restart_ms=None):
    """SIGKILL the (or each) worker COUNT times, PERIOD seconds apart."""
    for i in range(count):
        st = gw.status()
        sh = st["shards"][shard if shard is not None else i % st["shard_count"]]
        t0 = time.monotonic()
        os.kill(sh["pid"], signal.SIGKILL)
        gw.wait_all_ready(timeout=15, exclude_pids=(sh["pid"],))
        if restart_ms is not None:
            restart_ms.append((time.monotonic() - t0) * 1e3)
        time.sleep(max(0.0, period - (time.monotonic() - t0)))


def tcp_of(st):
    return [s["tcp"] for s in st["shards"]]


@test
def echo_rounds_survive_kills(gw):
    """50 streams, a round trip every 10 ms for 20 s, SIGKILL every 2 s."""
    c = Client(gw, "rounds", 50, 20)
    c.go()
    restarts = []
    kill_every(gw, 2.0, 9, restart_ms=restarts)
    res = c.result()
    FIGURES["rounds_kill_restart_ms"] = [round(x, 1) for x in restarts]
    FIGURES["rounds_kill_result"] = {k: res[k] for k in ("ok", "rounds")}
    assert res["ok"] == 50 and not res["errors"], res["errors"][:5]


@test
def bulk_transfers_survive_kills(gw):
    """256 MiB source and 256 MiB echo while the worker is killed every second."""
    src = Client(gw, "source", 268435456)
    echo = Client(gw, "echo", 268435456)
    done = threading.Event()
    kills = [0]

    def killer():
        while not done.is_set():
            st = gw.status()
            for sh in st["shards"]:
                if sh["state"] == "ready":
                    os.kill(sh["pid"], signal.SIGKILL)
                    kills[0] += 1
            gw.wait_all_ready(timeout=15)
            done.wait(1.0)
    th = threading.Thread(target=killer)
    th.start()
    try:
        r1 = src.result()
        r2 = echo.result()
    finally:
        done.set()
        th.join()
    FIGURES["bulk_kills"] = kills[0]
    assert r1["ok"], r1
    assert r2["ok"], r2


@test
def rolling_upgrades_under_load(gw):
    c = Client(gw, "rounds", 50, 25)
    c.go()
    gaps = []
    for i in range(10):
        args = ("--json",) if i == 1 else ()
        out = gw.ctl("upgrade", "--binary", OTHER if i % 2 == 0 else CURRENT, *args, check=False, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        if args:   # the JSON outcome says ok like every other JSON answer
            j = json.loads(out.stdout)
            assert j["ok"] is True and j["upgrade"]["state"] == "done", j
        # the successor's first frame sets the gap: wait for traffic to reach every shard
        st = wait_for(lambda: (lambda s: s if all(x["swap_gap_us"] for x in s["shards"]) else None)(
            gw.status()), 10, "traffic on every new worker")
        gaps += [x["swap_gap_us"] for x in st["shards"]]
        want = "-other" if i % 2 == 0 else "0.1.0"
        assert all(x["version"].endswith(want) for x in st["shards"]), st["shards"]
    res = c.result()
    assert res["ok"] == 50 and not res["errors"], res["errors"][:5]
    gaps.sort()
    FIGURES["swap_gap_ms_median_max"] = [round(gaps[len(gaps) // 2] / 1e3, 1), round(gaps[-1] / 1e3, 1)]


@test(standby=False)
def incompatible_upgrade_is_refused(gw):
    """Without standbys: the old worker stops, the new binary refuses the
    layout, the old binary is started again."""
    c = Client(gw, "rounds", 20, 6)
    c.go()
    out = gw.ctl("upgrade", "--binary", BAD, "--shard", "0", check=False, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "layout" in out.stdout and "serves again" in out.stdout, out.stdout
    gw.wait_all_ready(timeout=10)
    v = gw.ctl("--version")
    pv = subprocess.run([PRIMARY, "--version"], capture_output=True, text=True, check=True).stdout
    assert v.stdout.startswith("porterctl ") and v.stdout.split()[1] == pv.split()[1], (v.stdout, pv)
    res = c.result()
    assert res["ok"] == 20 and not res["errors"], res["errors"][:5]


@test
def idle_streams_survive_restarts(gw):
    c = Client(gw, "idle", 1000)
    wait_for(lambda: sum(t["streams"] for t in tcp_of(gw.status())) >= 1000, 20, "1000 streams")
    for i in range(20):
        st = gw.status()
        gw.ctl("restart", "--shard", str(i % st["shard_count"]))
        gw.wait_all_ready(timeout=15, exclude_pids=(st["shards"][i % st["shard_count"]]["pid"],))
    c.go()
    res = c.result()
    assert res["ok"] == 1000, res


@test
def stopped_worker_replaced_streams_survive(gw):
    c = Client(gw, "rounds", 20, 8)
    c.go()
    st = gw.status()
    victim = st["shards"][0]
    os.kill(victim["pid"], signal.SIGSTOP)
    gw.wait_all_ready(timeout=15, exclude_pids=(victim["pid"],))
    res = c.result()
    assert res["ok"] == 20 and not res["errors"], res["errors"][:5]


@test
def mbufs_and_tcbs_accounted_after_100_kills(gw):
    wait_for(lambda: sum(t["streams"] for t in tcp_of(gw.status())) == 0, 15, "streams to drain")
    base = gw.status()["mempool"]["in_use"]
    c = Client(gw, "rounds", 30, 60)
    c.go()
    kill_every(gw, 0.4, 100)
    res = c.result()
    st = wait_for(lambda: (lambda s: s if sum(t["streams"] for t in tcp_of(s)) == 0 else None)(gw.status()),
                  15, "streams closed")
    stranded = sum(s["stranded"] for s in st["shards"])
    in_use = st["mempool"]["in_use"]
    FIGURES["kills100"] = {"mempool_base": base, "mempool_after": in_use, "stranded": stranded,
                           "streams_ok": res["ok"], "errors": len(res["errors"])}
    assert res["ok"] == 30 and not res["errors"], res["errors"][:5]
    assert in_use == base, "mempool in use %d, baseline %d (stranded %d)" % (in_use, base, stranded)


# --- standbys (workers.standby, on by default) -----------------------------------

def standbys_ready(gw, shard=None, timeout=30):
    """Poll until the shard's (or every shard's) worker and standby are ready; the status."""
    def ok():
        st = gw.status()
        sh = st["shards"] if shard is None else [st["shards"][shard]]
        return st if all(s["state"] == "ready" and s["standby"]["state"] == "ready" for s in sh) else None
    return wait_for(ok, timeout, "standby ready" + ("" if shard is None else " on shard %d" % shard))


def shard_where(gw, shard, pred, what, timeout=15):
    return wait_for(lambda: (lambda st: st if pred(st["shards"][shard]) else None)(gw.status()),
                    timeout, what)


@test
def upgrades_through_standbys_lose_no_stream(gw):
    """porterctl upgrade with standbys: each shard's new binary starts as its standby, the
    old worker is stopped once that is ready, and the standby takes over. 50 streams
    echoing in rounds and 200 idle ones see nothing; every swap is a takeover by the
    standby, one epoch on."""
    idle = Client(gw, "idle", 200)
    c = Client(gw, "rounds", 50, 20)
    c.go()
    gaps, restart_gaps = [], []
    for i in range(6):
        st0 = standbys_ready(gw)
        out = gw.ctl("upgrade", "--binary", OTHER if i % 2 == 0 else CURRENT, check=False, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        st = wait_for(lambda: (lambda s: s if all(x["swap_gap_us"] and x["state"] == "ready"
                                                  for x in s["shards"]) else None)(gw.status()),
                      10, "traffic on every new worker")
        want = "-other" if i % 2 == 0 else "0.1.0"
        for a, b in zip(st0["shards"], st["shards"]):
            assert b["takeover"] == "standby" and b["pid"] != a["pid"], b
            assert b["epoch"] == a["epoch"] + 1, (a["epoch"], b["epoch"])
            assert b["version"].endswith(want), b["version"]
            assert "taken over from its standby" in b["swap"]["last"], b["swap"]
        gaps += [x["swap_gap_us"] for x in st["shards"]]
        restart_gaps += [x["last_restart_gap_us"] for x in st["shards"]]
    res = c.result()
    idle.go()
    ri = idle.result()
    gaps.sort()
    restart_gaps.sort()
    FIGURES["standby_upgrade_swap_gap_ms_median_max"] = [round(gaps[len(gaps) // 2] / 1e3, 2),
                                                         round(gaps[-1] / 1e3, 2)]
    FIGURES["standby_upgrade_restart_gap_ms_median_max"] = [round(restart_gaps[len(gaps) // 2] / 1e3, 2),
                                                            round(restart_gaps[-1] / 1e3, 2)]
    assert res["ok"] == 50 and not res["errors"], res["errors"][:5]
    assert ri["ok"] == 200, ri


@test
def kill9_taken_over_by_standby_loses_no_stream(gw):
    """kill -9 of a worker whose standby is ready: that standby (its pid) takes the shard
    over, and a new standby starts behind it. Echo rounds and idle streams see nothing."""
    idle = Client(gw, "idle", 200)
    c = Client(gw, "rounds", 50, 15)
    c.go()
    gaps = []
    for i in range(10):
        st0 = standbys_ready(gw)
        s = i % st0["shard_count"]
        victim, sb = st0["shards"][s]["pid"], st0["shards"][s]["standby"]["pid"]
        os.kill(victim, signal.SIGKILL)
        st = shard_where(gw, s, lambda x: x["pid"] == sb and x["state"] == "ready",
                         "standby %d taking shard %d over" % (sb, s))
        x = st["shards"][s]
        assert x["takeover"] == "standby" and x["epoch"] == st0["shards"][s]["epoch"] + 1, x
        assert x["standby"]["takeovers"] == st0["shards"][s]["standby"]["takeovers"] + 1, x["standby"]
        gaps.append(x["last_restart_gap_us"])
    res = c.result()
    idle.go()
    ri = idle.result()
    gaps.sort()
    FIGURES["standby_kill_restart_gap_ms_median_max"] = [round(gaps[len(gaps) // 2] / 1e3, 2),
                                                         round(gaps[-1] / 1e3, 2)]
    assert res["ok"] == 50 and not res["errors"], res["errors"][:5]
    assert ri["ok"] == 200, ri
    st = standbys_ready(gw)
    assert sum(x["cold_starts"] for x in st["shards"]) == 0, [x["cold_starts"] for x in st["shards"]]


@test
def standby_of_another_layout_is_refused_old_worker_untouched(gw):
    """An upgrade to a binary of another layout major: its standby refuses to attach
    (exit 3, both versions named) before anything happens to the old worker, which keeps
    serving -- same pid, same epoch; the upgrade fails saying so, and a standby of the
    running binary comes back."""
    c = Client(gw, "rounds", 20, 8)
    c.go()
    old = standbys_ready(gw)["shards"][0]
    out = gw.ctl("upgrade", "--binary", BAD, "--shard", "0", check=False, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "layout" in out.stdout and "untouched" in out.stdout, out.stdout
    now = gw.status()["shards"][0]
    assert (now["pid"], now["epoch"], now["restarts"], now["state"]) == \
        (old["pid"], old["epoch"], old["restarts"], "ready"), (old, now)
    assert now["standby"]["failures"] == old["standby"]["failures"] + 1, now["standby"]
    assert "layout" in now["standby"]["last_error"], now["standby"]
    assert "this binary speaks layout 99." in gw.log_text()
    st = standbys_ready(gw, 0)
    assert st["shards"][0]["standby"]["binary"] == os.path.realpath(CURRENT), st["shards"][0]["standby"]
    assert st["shards"][0]["pid"] == old["pid"]
    res = c.result()
    assert res["ok"] == 20 and not res["errors"], res["errors"][:5]


@test
def status_shows_the_standby(gw):
    """porterctl status (text and JSON) shows each shard's standby: pid, state, binary,
    version; it runs the worker's binary on the worker's lcore id. A standby that dies is
    counted and replaced; a restart is reported with how the successor came and its gap."""
    st = standbys_ready(gw)
    assert st["standby"] is True
    text = gw.ctl("status").stdout
    for s in st["shards"]:
        sb = s["standby"]
        assert sb["pid"] and sb["binary"] == os.path.realpath(CURRENT), sb
        assert sb["version"] == s["version"] and sb["ready_for_ms"] >= 0, (sb, s["version"])
        assert 'standby: pid %d ready, "%s" (%s)' % (sb["pid"], sb["version"], sb["binary"]) in text, text
        with open("/proc/%d/cmdline" % sb["pid"]) as f:
            cmd = f.read().split("\0")
        assert "--standby" in cmd and cmd[cmd.index("--lcore") + 1] == str(s["lcore"]), cmd
    # a standby that dies is counted and replaced, its worker untouched
    s0 = st["shards"][0]
    os.kill(s0["standby"]["pid"], signal.SIGKILL)
    st2 = shard_where(gw, 0, lambda x: x["standby"]["state"] == "ready" and
                      x["standby"]["pid"] != s0["standby"]["pid"], "a new standby on shard 0", 30)
    sb2 = st2["shards"][0]["standby"]
    assert sb2["failures"] == s0["standby"]["failures"] + 1, sb2
    assert sb2["starts"] == s0["standby"]["starts"] + 1, sb2
    assert "killed by signal 9" in sb2["last_error"], sb2
    assert st2["shards"][0]["pid"] == s0["pid"]
    # a restart: the ready standby takes over; the status says how and how long it took
    s1 = st2["shards"][1]
    gw.ctl("restart", "--shard", "1")
    st3 = shard_where(gw, 1, lambda x: x["pid"] == s1["standby"]["pid"] and x["state"] == "ready"
                      and x["swap"]["phase"] == "none", "shard 1's standby serving")
    x = st3["shards"][1]
    assert x["takeover"] == "standby" and 0 < x["last_restart_gap_us"] < 1e6, x
    text = gw.ctl("status").stdout
    assert "shard 1:" in text and "(standby took over)" in text and "last swap: shard 1" in text, text


@test(standby=False)
def upgrades_without_standby(gw):
    """workers.standby = false: no standbys, upgrades start the new binary cold once the
    old worker has stopped, as before; streams survive that too."""
    c = Client(gw, "rounds", 30, 10)
    c.go()
    st = gw.status()
    assert st["standby"] is False and all(x["standby"]["state"] == "none" for x in st["shards"])
    assert "standby: off (workers.standby = false)" in gw.ctl("status").stdout
    for binary, want in ((OTHER, "-other"), (CURRENT, "0.1.0")):
        out = gw.ctl("upgrade", "--binary", binary, check=False, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        st = gw.wait_all_ready()
        assert all(x["takeover"] == "cold" and x["version"].endswith(want) for x in st["shards"]), st["shards"]
        assert all(x["standby"]["pid"] == 0 for x in st["shards"])
    res = c.result()
    assert res["ok"] == 30 and not res["errors"], res["errors"][:5]


def main():
    only = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
    passed = failed = 0
    for t in [t for t in TESTS if only is None or only in t.__name__]:
        t0 = time.monotonic()
        try:
            with Gateway(extra=SERVICES, **t.gw_kwargs) as gw:
                t(gw)
            passed += 1
            print("[PASS] %s (%.1fs)" % (t.__name__, time.monotonic() - t0), flush=True)
        except Exception:
            failed += 1
            print("[FAIL] %s (%.1fs)\n%s" % (t.__name__, time.monotonic() - t0, traceback.format_exc()),
                  flush=True)
    print("figures: " + json.dumps(FIGURES))
    with open(os.path.join(BUILD, "integration-figures-durable.json"), "w") as f:
        json.dump(FIGURES, f, indent=1)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
