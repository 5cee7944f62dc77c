#!/usr/bin/env python3
"""Impairment of a gateway's tap, both ways, for the integration suites:
loss, duplication, reordering and delay with netem's semantics, and scripted
fates (drop the Nth transmission of the segment holding byte OFFSET, send it
twice), and a narrower link on the way with ICMP blocked ("mtu": N drops every
IPv4 packet longer than N bytes and says nothing: a PMTUD black hole, RFC 2923
§2.1).

`tc ... netem` on the kernel side of the tap (and, for the porter->kernel
direction, netem on an ifb device fed from the tap's ingress). When the
kernel has no netem (sch_netem not built), or a fate is scripted, the
impairer of this file does the same in user space on both directions: tc
(clsact, u32, mirred) redirects the tap's IPv4 traffic both ways into a veth
pair, the impairer (this file run as a program in the gateway's namespace)
drops/delays/reorders/duplicates it and hands it on (to porter by an
AF_PACKET socket on the tap that bypasses the qdisc; to Linux through the
veth, whose kernel end carries the tap's MAC).

(The benches' impairer between two Linux-or-porter stacks is the C program
tests/bench/impair.c, a separate thing.)

  python3 impair.py VETH TAP PORTER_MAC K2P_JSON P2K_JSON [LOG]
"""
import contextlib
import heapq
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PORTER_MAC, _libc  # noqa: E402
from tcpframe import TH_SYN, csum, parse_tcp  # noqa: E402


def _tc(gw, *args, check=True):
    return gw.ns(["tc"] + list(args), check=check)


def have_netem(gw):
    ok = _tc(gw, "qdisc", "add", "dev", gw.iface, "root", "handle", "1:", "netem", "delay", "0ms",
             check=False).returncode == 0
    if ok:
        _tc(gw, "qdisc", "del", "dev", gw.iface, "root")
    return ok


def netem_args(p):
    a = []
    if p.get("delay"):
        a += ["delay", "%gms" % p["delay"]]
    if p.get("loss"):
        a += ["loss", "%g%%" % (p["loss"] * 100)]
    if p.get("dup"):
        a += ["duplicate", "%g%%" % (p["dup"] * 100)]
    if p.get("reorder"):
        a += ["reorder", "%g%%" % (p["reorder"] * 100)]
    return a or ["delay", "0ms"]


class Impairment:
    """Impair the tap both ways: k2p (kernel -> porter) and p2k (porter ->
    kernel), each a dict of loss, dup, reorder (fractions) and delay (ms),
    netem semantics. `mode` says how: "netem+ifb", "netem egress only" or
    "userspace"."""

    def __init__(self, gw, k2p, p2k):
        self.gw, self.k2p, self.p2k = gw, k2p, p2k
        self.mode = None
        self.proc = None
        self.stats = None
        self.ifb = gw.iface + "i"
        self.va, self.vb = gw.iface + "a", gw.iface + "b"

    def __enter__(self):
        gw = self.gw
        # real segments on the wire, so loss hits single segments, not 64 KiB bursts
        gw.ns(["ethtool", "-K", gw.iface, "gso", "off", "tso", "off", "gro", "off"], check=False)
        try:
            # scripted drops and CE marks: the user-space impairer only
            scripted_fates = any(k in d for d in (self.k2p, self.p2k) for k in ("drop", "dup_at", "ce", "mtu"))
            if have_netem(gw) and not scripted_fates:
                self._netem()
            else:
                self._userspace()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _netem(self):
        gw = self.gw
        _tc(gw, "qdisc", "add", "dev", gw.iface, "root", "handle", "1:", "netem", *netem_args(self.k2p))
        self.mode = "netem egress only"
        if gw.ns(["ip", "link", "add", self.ifb, "type", "ifb"], check=False).returncode != 0:
            print("    NOTE: no ifb device: porter->kernel NOT impaired (netem on the tap's egress only)",
                  flush=True)
            return
        gw.ns(["ip", "link", "set", self.ifb, "up"])
        _tc(gw, "qdisc", "add", "dev", self.ifb, "root", "netem", *netem_args(self.p2k))
        _tc(gw, "qdisc", "add", "dev", gw.iface, "handle", "ffff:", "ingress")
        r = _tc(gw, "filter", "add", "dev", gw.iface, "parent", "ffff:", "protocol", "ip", "u32",
                "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", self.ifb,
                check=False)
        if r.returncode != 0:
            print("    NOTE: cannot redirect the tap's ingress to ifb (%s): porter->kernel NOT impaired"
                  % r.stderr.strip(), flush=True)
            return
        self.mode = "netem+ifb"

    _noted = []

    def _userspace(self):
        gw = self.gw
        if not self._noted:
            self._noted.append(1)
            print("    NOTE: this kernel has no netem (sch_netem): both directions are impaired by the "
                  "user-space impairer (tc clsact/u32/mirred -> veth -> %s)"
                  % os.path.basename(__file__), flush=True)
        tapmac = gw.ns(["cat", "/sys/class/net/%s/address" % gw.iface]).stdout.strip()
        gw.ns(["ip", "link", "add", self.va, "type", "veth", "peer", "name", self.vb])
        for d in (self.va, self.vb):
            gw.ns(["sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/%s/disable_ipv6" % d], check=False)
            # tx off: the checksums Linux left to the device are filled in when the
            # redirected frame leaves the veth, before the impairer reads it
            gw.ns(["ethtool", "-K", d, "tx", "off", "gro", "off", "tso", "off", "gso", "off"], check=False)
        gw.ns(["ip", "link", "set", self.va, "address", tapmac])
        gw.ns(["sh", "-c", "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; "
               "echo 0 > /proc/sys/net/ipv4/conf/%s/rp_filter" % self.va])
        gw.ns(["ip", "link", "set", self.va, "up"])
        gw.ns(["ip", "link", "set", self.vb, "up"])
        self.proc = gw.ns_popen([sys.executable, os.path.abspath(__file__), self.vb, gw.iface,
                                 PORTER_MAC, json.dumps(self.k2p), json.dumps(self.p2k)] +
                                ([os.environ["PORTER_IMPAIR_LOG"]] if os.environ.get("PORTER_IMPAIR_LOG") else []),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._readline(10)
        if line.strip() != "ready":
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError("impairer did not start: %r %s" % (line, err[-2000:]))
        _tc(gw, "qdisc", "add", "dev", gw.iface, "clsact")
        for hook in ("egress", "ingress"):
            _tc(gw, "filter", "add", "dev", gw.iface, hook, "protocol", "ip", "u32", "match", "u32", "0", "0",
                "action", "mirred", "egress", "redirect", "dev", self.va)
        self.mode = "userspace"

    def _readline(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if r else ""

    def __exit__(self, *exc):
        gw = self.gw
        _tc(gw, "qdisc", "del", "dev", gw.iface, "root", check=False)
        _tc(gw, "qdisc", "del", "dev", gw.iface, "ingress", check=False)   # also removes clsact
        _tc(gw, "qdisc", "del", "dev", gw.iface, "clsact", check=False)
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                out, _ = self.proc.communicate(timeout=10)
                self.stats = json.loads(out.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            except (ValueError, IndexError):
                pass
        gw.ns(["ip", "link", "del", self.ifb], check=False)
        gw.ns(["ip", "link", "del", self.va], check=False)


def scripted(frame, p, isns):
    """Scripted fates for one direction: p["drop"] = [[offset, times], ...] drops
    the first TIMES transmissions of the data segment holding stream byte OFFSET
    (from the sender's ISN, learnt from its SYN); p["dup_at"] = [offset, ...]
    sends the segment holding OFFSET twice, once. -> "drop", "dup" or None."""
    t = parse_tcp(frame)
    if t is None:
        return None
    key = (t["src"], t["sport"], t["dst"], t["dport"])
    if t["flags"] & TH_SYN:
        isns[key] = t["seq"]
        return None
    if key not in isns or t["len"] == 0:
        return None
    start = (t["seq"] - isns[key] - 1) & 0xffffffff
    for rule in p.get("drop", []):
        if start <= rule[0] < start + t["len"] and rule[1] > 0:
            rule[1] -= 1
            return "drop"
    dups = p.get("dup_at", [])
    for i, off in enumerate(dups):
        if start <= off < start + t["len"]:
            del dups[i]
            return "dup"
    return None


def mark_ce(frame):
    """FRAME (Ethernet + IPv4) with its ECN field set to CE (RFC 3168 §5), header checksum redone."""
    f = bytearray(frame)
    ihl = (f[14] & 0xf) * 4
    f[15] |= 3
    f[24:26] = b"\0\0"
    f[24:26] = csum(bytes(f[14:14 + ihl])).to_bytes(2, "big")
    return bytes(f)


def impairer_main(vb, tap, porter_mac, k2p, p2k, log=None):
    """User-space netem: frames redirected to the veth VB are held, dropped,
    duplicated, CE-marked (p["ce"]: that fraction of the ECN-capable ones, as an
    AQM would instead of dropping) or let through, then sent to porter (on TAP, past the qdisc) or
    to Linux (back through VB). Prints "ready", and its counts at SIGTERM.
    LOG (a path, for debugging): one line per frame and fate."""
    logf = open(log, "w") if log else None
    _libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG: go with the test that started us
    if os.getppid() == 1:
        return
    give_up = time.monotonic() + 900   # and never outlive a whole run
    pmac = bytes.fromhex(porter_mac.replace(":", ""))
    params = {"k2p": json.loads(k2p), "p2k": json.loads(p2k)}
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    rx.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)        # SO_RCVBUFFORCE
    rx.setsockopt(socket.SOL_SOCKET, 32, 16 << 20)        # SO_SNDBUFFORCE
    with contextlib.suppress(OSError):
        rx.setsockopt(263, 23, 1)                         # PACKET_IGNORE_OUTGOING
    rx.bind((vb, 0x0003))
    rx.setblocking(False)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)   # protocol 0: receives nothing
    tx.setsockopt(263, 20, 1)                             # PACKET_QDISC_BYPASS
    tx.setsockopt(socket.SOL_SOCKET, 32, 16 << 20)
    tx.bind((tap, 0))
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    cnt = {d: {"in": 0, "lost": 0, "dup": 0, "early": 0, "out": 0, "send_err": 0, "ect": 0, "ce": 0,
               "too_big": 0, "max_len": 0}
           for d in params}
    isns = {d: {} for d in params}
    heap = []
    seq = 0
    rnd = random.Random(12345)
    poller = select.poll()
    poller.register(rx, select.POLLIN)
    print("ready", flush=True)
    while not stop and time.monotonic() < give_up:
        now = time.monotonic()
        while heap and heap[0][0] <= now:
            _, _, d, frame = heapq.heappop(heap)
            try:
                (tx if d == "k2p" else rx).send(frame)
                cnt[d]["out"] += 1
            except OSError:
                cnt[d]["send_err"] += 1
        wait = 50 if not heap else max(0, (heap[0][0] - now) * 1000)
        try:
            if not poller.poll(int(wait + 0.999)):
                continue
        except InterruptedError:
            continue
        for _ in range(512):
            try:
                frame, addr = rx.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                break
            if addr[2] == socket.PACKET_OUTGOING or frame[12:14] != b"\x08\x00":
                continue
            d = "k2p" if frame[0:6] == pmac else "p2k" if frame[6:12] == pmac else None
            if d is None:
                continue
            p, c = params[d], cnt[d]
            c["in"] += 1
            ip_len = int.from_bytes(frame[16:18], "big")
            if p.get("mtu") and ip_len > p["mtu"]:
                # the narrow link: too big, DF or not, and no ICMP (a black hole)
                c["too_big"] += 1
                if logf:
                    logf.write("%.6f %s ip_len=%d TOO BIG\n" % (now, d, ip_len))
                continue
            c["max_len"] = max(c["max_len"], ip_len)
            if p.get("drop") or p.get("dup_at"):
                fate = scripted(frame, p, isns[d])
                if fate == "drop":
                    c["lost"] += 1
                    if logf:
                        t = parse_tcp(frame)
                        logf.write("%.6f %s seq=%d len=%d DROPPED (scripted)\n" % (now, d, t["seq"], t["len"]))
                    continue
                if fate == "dup":
                    c["dup"] += 1
                    seq += 1
                    heapq.heappush(heap, (now, seq, d, frame))
            if logf:
                t = parse_tcp(frame)
                if t:
                    logf.write("%.6f %s %d>%d seq=%d ack=%d fl=%#x len=%d win=%d" % (
                        now, d, t["sport"], t["dport"], t["seq"], t["ack"], t["flags"], t["len"], t["win"]))
            if rnd.random() < p.get("loss", 0):
                c["lost"] += 1
                if logf:
                    logf.write(" LOST\n")
                continue
            if logf:
                logf.write("\n")
            if (frame[15] & 3) in (1, 2):   # ECT(1) or ECT(0)
                c["ect"] += 1
                if p.get("ce") and rnd.random() < p["ce"]:
                    frame = mark_ce(frame)
                    c["ce"] += 1
            delay = p.get("delay", 0) / 1000.0
            if delay and rnd.random() < p.get("reorder", 0):
                delay = 0.0          # netem: these go at once, the others wait
                c["early"] += 1
            copies = 2 if rnd.random() < p.get("dup", 0) else 1
            c["dup"] += copies - 1
            for _ in range(copies):
                seq += 1
                heapq.heappush(heap, (now + delay, seq, d, frame))
    if logf:
        logf.close()
    print(json.dumps(cnt), flush=True)


if __name__ == "__main__":
    impairer_main(*sys.argv[1:])
