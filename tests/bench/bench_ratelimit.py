#!/usr/bin/env python3
"""Rate-limit benchmark: porter's listener rate_limit (pacing + window) against a dropping token bucket.

  python3 tests/bench/bench_ratelimit.py [--mb 32] [--limit 2000000] [--rounds 3] [--rtt link]
        [--arms ...] [--timeout 200] [--echo-timeout 30] [--police-mb 16] [--json build/bench-ratelimit.json] [--log-dir DIR]

Topology: bench_loss.py's (client - impair - server namespaces), one triple for
porter (on net_af_packet) and one for a Linux server; the impairer only
bridges (plus --delay for --rtt 20 etc.) except where a policer is named.

Porter's listeners: 21001 source --mb MiB with rate_limit = --limit; 21002
source 2 x --mb MiB without limit; 21003 echo with the limit; 21004 discard
with the limit; 21005 source --police-mb MiB without limit; 21006 echo without limit. Arms, all in each round
(order rotated per round), client = Linux with CUBIC:

  limited-down     download from 21001 (porter sends, paced at the limit); while it
                   runs (once 2 MiB arrived) a second client downloads from the
                   unlimited 21002 at the same time ("beside" column)
  unlimited-alone  the same unlimited download from 21002 with nothing beside it
  limited-echo     upload through the limited echo: the client sends --mb MiB and
                   reads them back; porter paces what it echoes at the limit and
                   its receive window holds the client's upload to what it echoed.
                   Rate = bytes / time to the last echoed byte (both directions
                   are held to the limit, so this is the upload's rate as well)
  unlimited-echo   the same through an echo listener without a limit (21006): the
                   client's own ceiling for the echo arm
  limited-discard  upload to the limited discard: discard reads at once, so only
                   the window (2 x rate x SRTT, >= 20 ms of the rate) slows it
                   (docs/CONFIG.md "Rate limits"); shown to say what it does
  police-linux     Linux server -> Linux client, unlimited, through a dropping token
                   bucket in the impairer on the data direction: --limit B/s,
                   --police-burst (32 KiB) bytes, like
                   tc ... action police rate 16mbit burst 32k drop (this kernel has
                   no act_police: CONFIG_NET_ACT_POLICE is not set)
  hashlimit-linux  the same transfer policed by iptables -m hashlimit
                   --hashlimit-above 1953kb/s (= 1,999,872 B/s) in the client's INPUT
                   chain; iptables requires a byte-mode burst >= one second of the
                   rate, so its burst is ~2 MB (1954kb; iptables lists it as "3mb")
  police-porter    porter's unlimited 21005 through the impairer's token bucket:
                   what a policer costs porter as the sender

Columns: MB/s = bytes / time from connect() to the end; steady = the same
after the first MiB (the limit lets the first RTTs overshoot by the window);
vs limit = MB/s / limit - 1 (%); rtx/rto = the sender's retransmitted segments
and timeouts (porter: retransmits/timeouts; Linux: TcpRetransSegs and
TcpExtTCPTimeouts of the sender's namespace; the client's for the uploads);
The policed arms move --police-mb (16) MiB, not --mb: at the
policer's rates 32 MiB would take minutes. drops = frames the policer dropped (impairer "policed" or the hashlimit rule's
packet count); beside = goodput of the unlimited download run during the
limited one, and its ratio to unlimited-alone's. Medians over --rounds.
It asserts nothing: a benchmark, not a test.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_loss as bl  # noqa: E402
import bench_pace as bp  # noqa: E402

P_LIM, P_UNL, P_ECHO, P_DISC, P_UNL32, P_ECHO_U = 21001, 21002, 21003, 21004, 21005, 21006
LX_PORT = 21005

CLIENT = r'''
import socket, sys, time, json, threading
mode, host, port, n, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
MARK = 2 << 20
t0 = time.monotonic()
deadline = t0 + limit
got, sent, done, err, t1, tmark = 0, 0, False, None, None, None
def left():
    r = deadline - time.monotonic()
    if r <= 0:
        raise TimeoutError
    return r
def note(k):
    global t1, tmark
    if t1 is None and k >= (1 << 20):
        t1 = time.monotonic()
    if tmark is None and k >= MARK:
        tmark = time.monotonic()
        print("started", flush=True)
try:
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    s.settimeout(30)
    s.connect((host, port))
    if mode in ("up", "echo"):
        def sender():
            global sent
            buf = memoryview(b"\xa5" * (1 << 16))
            try:
                while sent < n:
                    sent += s.send(buf[:min(len(buf), n - sent)])
                    if mode == "up":
                        note(sent)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        s.settimeout(limit)
        th = threading.Thread(target=sender, daemon=True)
        th.start()
    # what comes back: the download itself, the echo, or nothing but the FIN (upload)
    b = bytearray(1 << 20)
    while True:
        s.settimeout(left())
        k = s.recv_into(b)
        if not k:
            break
        got += k
        if mode != "up":
            note(got)
    done = (sent >= n) if mode == "up" else (got >= n)
except (TimeoutError, socket.timeout):
    err = "timeout"
except OSError as e:
    err = str(e)
t = time.monotonic()
nb = sent if mode == "up" else got
print(json.dumps({"bytes": nb, "s": t - t0, "done": done, "err": err,
                  "steady_Bps": (nb - (1 << 20)) / (t - t1) if t1 and t > t1 else None}), flush=True)
'''


def client_cmd(st, mode, port, nbytes, timeout):
    return ["ip", "netns", "exec", st.c, sys.executable, "-c", CLIENT, mode, bl.SERVER_IP, str(port), str(nbytes),
            str(timeout)]


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def counters(st, upload):
    """The sender's counters: the client's for uploads, else porter's or the Linux server's."""
    if upload:
        n = bl.nstat(st.c)
        return {"rtx": n["TcpRetransSegs"], "rto": n["TcpExtTCPTimeouts"]}
    if isinstance(st, bl.PorterStack):
        p = st.porter_counters()
        return {"rtx": p.get("retransmits", 0), "rto": p.get("timeouts", 0), "paced": p.get("paced_waits", 0),
                "rate_limited": p.get("rate_limited_streams", 0)}
    n = bl.nstat(st.s)
    return {"rtx": n["TcpRetransSegs"], "rto": n["TcpExtTCPTimeouts"]}


def hashlimit(st, port, on, limit_kb):
    base = ["ip", "netns", "exec", st.c, "iptables"]
    rule = ["INPUT", "-p", "tcp", "--sport", str(port), "-m", "hashlimit", "--hashlimit-above",
            "%dkb/s" % limit_kb, "--hashlimit-burst", "%dkb" % (limit_kb + 1), "--hashlimit-mode",
            "srcip,srcport", "--hashlimit-name", "pb%d" % port, "-j", "DROP"]
    if on:
        bl.sh(*(base + ["-A"] + rule))
        return None
    r = bl.sh(*(base + ["-L", "INPUT", "-v", "-n", "-x"]))
    pk = 0
    for line in r.stdout.splitlines():
        p = line.split()
        if len(p) > 2 and p[2] == "DROP":
            pk += int(p[0])
    bl.sh(*(base + ["-F", "INPUT"]), check=False)
    return pk


def one(st, arm, a, iargs, nbytes, rnd):
    """One arm's transfer; the record."""
    mode = {"limited-echo": "echo", "unlimited-echo": "echo", "limited-discard": "up"}.get(arm, "down")
    port = {"limited-down": P_LIM, "unlimited-alone": P_UNL, "limited-echo": P_ECHO, "limited-discard": P_DISC,
            "unlimited-echo": P_ECHO_U,
            "police-porter": P_UNL32, "police-linux": LX_PORT, "hashlimit-linux": LX_PORT}[arm]
    size = 2 * nbytes if arm == "unlimited-alone" else nbytes
    if arm.startswith(("police-", "hashlimit-")):
        size = a.police_mb << 20
    tmo = a.echo_timeout if arm == "limited-echo" else a.timeout
    upload = mode != "down"
    pol = []
    if arm.startswith("police-"):
        pol = ["--police-ba", "%d,%d" % (a.limit, a.police_burst)]
    log = os.path.join(a.log_dir, "%s-r%d.log" % (arm, rnd)) if a.log_dir else None
    st.start_impair(iargs + pol, log)
    beside = None
    try:
        if arm == "hashlimit-linux":
            hashlimit(st, port, True, int(a.limit / 1024))
        before = counters(st, upload)
        pb = st.porter_counters() if isinstance(st, bl.PorterStack) else None
        p = subprocess.Popen(client_cmd(st, mode, port, size, tmo), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            if arm == "limited-down":
                line = p.stdout.readline()        # "started": 2 MiB in, the limit is in force
                if line.strip() == "started":
                    r = subprocess.run(client_cmd(st, "down", P_UNL, 2 * nbytes, a.timeout),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       timeout=a.timeout + 60)
                    beside = last_json(r.stdout)
            # porter's view of its streams every 5 s while the client runs (the last 3 kept):
            # what a stalled transfer looked like
            snaps = []
            for _ in range(int(tmo / 5) + 12):
                try:
                    p.wait(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    if isinstance(st, bl.PorterStack):
                        r = bl.sh(bl.PORTERCTL, "--socket", st.sock, "--json", "streams", check=False)
                        snaps = (snaps + [{"t": time.monotonic(), "streams": r.stdout[-4000:]}])[-3:]
            out, err = p.communicate(timeout=60)
        except BaseException:
            p.kill()
            p.wait()
            raise
        res = last_json(out) or {"bytes": 0, "s": tmo, "done": False, "err": "client: " + err[-300:],
                                 "steady_Bps": None}
        after = counters(st, upload)
        pa = st.porter_counters() if pb is not None else None
        drops = None
        if arm == "hashlimit-linux":
            drops = hashlimit(st, port, False, 0)
    finally:
        imp = st.stop_impair()
        if arm == "hashlimit-linux":
            bl.sh("ip", "netns", "exec", st.c, "iptables", "-F", "INPUT", check=False)
    if arm.startswith("police-"):
        drops = ((imp or {}).get("ba") or {}).get("policed")
    rec = {"arm": arm, "size": size, "bytes": res["bytes"], "s": res["s"], "done": res["done"], "err": res["err"],
           "partial_MBps": res["bytes"] / res["s"] / 1e6 if not res["done"] and res["s"] > 0 else None,
           "MBps": res["bytes"] / res["s"] / 1e6 if res["done"] and res["s"] > 0 else None,
           "steady": res["steady_Bps"] / 1e6 if res.get("steady_Bps") else None, "drops": drops,
           "impair": imp, "streams": snaps,
           "porter": {k: v - pb.get(k, 0) for k, v in pa.items() if v != pb.get(k, 0)} if pa else None}
    for k in after:
        rec[k] = after[k] - before.get(k, 0)
    if beside:
        rec["beside"] = beside["bytes"] / beside["s"] / 1e6 if beside["done"] and beside["s"] > 0 else None
    return rec


ARMS = ["limited-down", "unlimited-alone", "limited-echo", "unlimited-echo", "limited-discard", "police-linux", "hashlimit-linux",
        "police-porter"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=32)
    ap.add_argument("--limit", type=int, default=2000000, help="bytes/s: the listener's rate_limit and the policers'")
    ap.add_argument("--police-burst", type=int, default=32768, help="the impairer policer's burst, bytes (32768)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rtt", default="link", help="'link' or an RTT in ms")
    ap.add_argument("--arms", default=",".join(ARMS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=200.0)
    ap.add_argument("--echo-timeout", type=float, default=30.0,
                    help="limited-echo's own timeout, s (30): at 2cafceb it stalls, see docs/BENCHMARKS.md")
    ap.add_argument("--police-mb", type=int, default=16,
                    help="MiB of the policed arms (16): a policer holds them well below the limit")
    ap.add_argument("--log-dir", help="keep the impairer's per-frame log of every transfer here")
    ap.add_argument("--json", default=os.path.join(bl.BUILD, "bench-ratelimit.json"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    for f in (bl.PRIMARY, bl.PORTERCTL, bl.IMPAIR):
        if not os.path.exists(f):
            sys.exit("missing %s: build first (meson setup build && ninja -C build)" % f)
    arms = bl.parse_list(a.arms)
    if a.log_dir:
        os.makedirs(a.log_dir, exist_ok=True)
    nbytes = a.mb << 20
    pbytes = a.police_mb << 20     # what the policed arms download (police-porter, the Linux server)
    iargs = ["--spare-syn", "--seed", str(a.seed)]
    if a.rtt != "link":
        iargs += ["--delay", "%g" % (float(a.rtt) / 2)]
    lim = "rate_limit = %d; " % a.limit
    listeners = ['{ port = %d; service = "source"; bytes = %dL; %s}' % (P_LIM, nbytes, lim),
                 '{ port = %d; service = "source"; bytes = %dL; }' % (P_UNL, 2 * nbytes),
                 '{ port = %d; service = "echo"; %s}' % (P_ECHO, lim),
                 '{ port = %d; service = "discard"; %s}' % (P_DISC, lim),
                 '{ port = %d; service = "source"; bytes = %dL; }' % (P_UNL32, pbytes),
                 '{ port = %d; service = "echo"; }' % P_ECHO_U]
    stacks = {}
    recs = {x: [] for x in arms}
    out = {"args": vars(a), "rounds": recs}
    t0 = time.monotonic()
    try:
        stacks["porter"] = bl.PorterStack({}, name="rl", listeners=listeners)
        if any(x.endswith("-linux") for x in arms):
            stacks["linux"] = bp.LinuxPaceStack({LX_PORT: [pbytes, False]}, name="rlx")
        for rnd in range(a.rounds):
            k = rnd % len(arms)
            for arm in arms[k:] + arms[:k]:
                st = stacks["linux" if arm.endswith("-linux") else "porter"]
                rec = one(st, arm, a, iargs, nbytes, rnd)
                recs[arm].append(rec)
                print("  r%d %-16s %s MB/s (steady %s) in %.1f s rtx=%s rto=%s drops=%s%s%s" % (
                    rnd, arm, bl.fmt(rec["MBps"], "%.3f"), bl.fmt(rec["steady"], "%.3f"), rec["s"], rec["rtx"],
                    rec["rto"], rec["drops"], " beside=%s MB/s" % bl.fmt(rec.get("beside"), "%.1f")
                    if arm == "limited-down" else "", "" if rec["done"] else " NOT DONE (%s)" % rec["err"]),
                    flush=True)
            with open(a.json, "w") as f:
                json.dump(out, f, indent=1)
        st = stacks["porter"]
        out["porter_final"] = st.porter_counters()
    finally:
        for s in stacks.values():
            s.close()
    out["wall_s"] = time.monotonic() - t0
    med = {}
    for arm in arms:
        rs = recs[arm]
        med[arm] = {k: bl.med([r.get(k) for r in rs]) for k in ("MBps", "steady", "rtx", "rto", "drops", "beside",
                                                                 "partial_MBps")}
        med[arm]["notdone"] = sum(1 for r in rs if not r["done"])
    out["median"] = med
    L = a.limit / 1e6
    print("\n%d rounds, %d MiB, limit %d B/s, rtt %s, medians\n" % (a.rounds, a.mb, a.limit, a.rtt))
    hdr = "%-16s | %7s %7s %8s | %6s %4s %6s | %s" % ("arm", "MB/s", "steady", "vs limit", "rtx", "rto", "drops",
                                                     "notes")
    print(hdr)
    print("-" * len(hdr))
    alone = med.get("unlimited-alone", {}).get("MBps")
    for arm in arms:
        m = med[arm]
        notes = []
        if arm == "limited-down" and m["beside"] is not None:
            notes.append("unlimited beside it %.1f MB/s = %s x alone" % (
                m["beside"], bl.fmt(m["beside"] / alone if alone else None, "%.2f")))
        if m["notdone"]:
            notes.append("%d of %d not done in %g s (moved %s MB/s)" % (
                m["notdone"], len(recs[arm]), a.echo_timeout if arm == "limited-echo" else a.timeout,
                bl.fmt(m["partial_MBps"], "%.3f")))
        if arm.startswith(("police-", "hashlimit-")):
            notes.append("%d MiB" % a.police_mb)
        limited = arm.startswith(("limited", "police", "hashlimit"))
        print("%-16s | %7s %7s %8s | %6s %4s %6s | %s" % (
            arm, bl.fmt(m["MBps"], "%.3f"), bl.fmt(m["steady"], "%.3f"),
            bl.fmt((m["MBps"] / L - 1) * 100 if m["MBps"] and limited else None, "%+.1f%%"),
            bl.fmt(m["rtx"], "%d"), bl.fmt(m["rto"], "%d"), bl.fmt(m["drops"], "%d"), "; ".join(notes)))
    print("\nwall time %.0f s; JSON in %s" % (out["wall_s"], a.json))
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
