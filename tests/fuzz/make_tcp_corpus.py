#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made seed corpus of tests/fuzz/fuzz_tcp.c.

Each file is one fuzz input (the layout is in the header comment of
fuzz_tcp.c): three setup bytes (start state, the peer's SYN options, the
listener; stack parameters), then steps. The seeds start from every state,
with every option set, and walk the paths a fuzzer would take long to find
by itself: data both ways, shutdown and close, RSTs and SYNs at and beside
RCV.NXT, bad ACKs, old timestamps, out-of-order data and SACK recovery,
zero windows, PMTU drops, a SYN cookie completed, TIME-WAIT reopened, worker
crashes inside a burst, allocation failures. Files are named seed-<what>;
the files libFuzzer added by -merge=1 (40 hex digit names) are left alone.

Deterministic: running it again rewrites the same bytes.
Usage: tests/fuzz/make_tcp_corpus.py [OUTDIR] (default: corpus/tcp next to this script).
"""
import os
import struct
import sys

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# starts (byte 0, bits 0-3)
S_SYN_SENT, S_SYN_RCVD, S_ESTAB, S_FW1, S_FW2, S_CLOSE_WAIT, S_CLOSING, S_LAST_ACK, S_TIME_WAIT = range(9)
S_COOKIE_SENT, S_COOKIE, S_COOKIE_DATA, S_SIMOPEN, S_LISTEN = 9, 10, 11, 12, 13
S_ESTAB_PROBING = 15   # ESTABLISHED with tcp.mtu_probing 2 (PLPMTUD from the base MSS)
START_NAMES = ["syn-sent", "syn-rcvd", "estab", "fin-wait-1", "fin-wait-2", "close-wait", "closing",
               "last-ack", "time-wait", "cookie-sent", "cookie", "cookie-data", "simopen", "listen"]
OPTS = ["none", "mss", "all", "sack"]
APP_TEST, APP_ECHO, APP_DISCARD = 0, 1, 2

# seq bases, ack bases, targets (segment mode byte)
SEQ_RCV_NXT, SEQ_WND_EDGE, SEQ_IRS, SEQ_ABS = range(4)
ACK_SND_MAX, ACK_SND_UNA, ACK_SND_NXT, ACK_ABS = range(4)
T_MAIN, T_LIVE, T_ALT, T_ECHO, T_DISCARD, T_CLOSED, T_OTHER_IP = 0, 2, 3, 4, 5, 6, 7

# opcode ranges (fuzz_tcp.c OP_*)
OP_SEG, OP_BURST, OP_SEND, OP_RECV, OP_SHUT, OP_CLOSE, OP_ABORT, OP_CONNECT = 0, 120, 132, 148, 164, 168, 171, 173
OP_TICK, OP_WAIT, OP_STALL, OP_ICMP, OP_CRASH, OP_QUIESCE, OP_FAIL, OP_PEER = 174, 200, 216, 220, 228, 236, 240, 248
WAIT_MS = [5, 20, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 30000, 60000, 65000, 130000]


def setup(start, opts=2, app=APP_TEST, c1=0, c2=0):
    return bytes([start | opts << 4 | app << 6, c1, c2])


def seg(flags, seq_base=SEQ_RCV_NXT, seq=0, ack_base=ACK_SND_MAX, ack=0, target=T_MAIN, target_arg=0,
        nsack=0, sacks=(), no_ts=False, ts_mode=0, raw=None, length=0, window=None, bad_csum=False,
        direct=False):
    """One segment's operands (without the opcode)."""
    ext = (1 if window is not None else 0) | (2 if bad_csum else 0) | (4 if direct else 0)
    mode = seq_base | ack_base << 2 | target << 4 | (0x80 if ext else 0)
    out = bytes([flags, mode])
    if target in (T_LIVE, T_ALT, T_ECHO, T_DISCARD, T_CLOSED):
        out += bytes([target_arg])
    out += struct.pack("!I" if seq_base == SEQ_ABS else "!h", seq)
    out += struct.pack("!I" if ack_base == ACK_ABS else "!h", ack)
    ob = (nsack & 7) | (0x08 if no_ts else 0) | (ts_mode & 3) << 4 | (0x40 if raw is not None else 0)
    out += bytes([ob])
    if raw is not None:
        out += bytes([len(raw)]) + bytes(raw)
    else:
        for kind, k, b1 in sacks[:nsack]:
            out += bytes([kind << 6 | k, b1])
    out += bytes([length if length < 128 else 128 + (length + 11) // 12])
    if ext:
        out += bytes([ext])
        if window is not None:
            out += struct.pack("!H", window)
    return out


def SEG(*a, **k):
    return bytes([OP_SEG]) + seg(*a, **k)


def burst(segs, crash=False):
    n = len(segs)
    assert 2 <= n <= 9
    return bytes([OP_BURST + (n - 2) + (8 if crash else 0)]) + b"".join(segs)


def send(n, k=0):
    return bytes([OP_SEND, k]) + struct.pack("!H", n)


def recv(n=0xffff, k=0):
    return bytes([OP_RECV, k]) + struct.pack("!H", n)


def shutdown(k=0):
    return bytes([OP_SHUT, k])


def close(k=0):
    return bytes([OP_CLOSE, k])


def abort(k=0):
    return bytes([OP_ABORT, k])


def connect(p=0):
    return bytes([OP_CONNECT, p])


def tick(ms):
    return bytes([OP_TICK, (ms - 1) & 63])


def wait(i, extra=0):
    return bytes([OP_WAIT + i, extra])


def stall(i):
    return bytes([OP_STALL, i])


def icmp(mtu, live=None, seq=0, frame=None):
    """FRAME: (type, code) as a whole ICMP frame through tcp_input, None for tcp_icmp_frag_needed."""
    sel = (0 if live is None else 1 | live << 1) | (0x80 if frame else 0)
    out = bytes([OP_ICMP, sel]) + struct.pack("!HI", mtu, seq)
    if frame:
        (typ, code), cut = frame[0], frame[1] if len(frame) > 1 else 0
        out += bytes([0 if (typ, code) == (3, 4) else typ << 1 | 1, cut])
    return out


def crash(quiesce=False):
    return bytes([OP_CRASH + (1 if quiesce else 0)])


def quiesce():
    return bytes([OP_QUIESCE])


def fail(skip=0, n=1):
    return bytes([OP_FAIL, (skip & 7) | (n - 1) << 3])


def peer(n=0, fin=False):
    return bytes([OP_PEER, (n // 12) | (0x80 if fin else 0)])


def ack():
    """The peer acknowledges everything (no data)."""
    return peer(0)


SEEDS = {}


def seed(name, data):
    assert name not in SEEDS
    SEEDS["seed-" + name] = data


def build():
    conv = peer(120) + recv() + send(3000) + ack() + tick(5) + send(20000) + ack() + ack() + recv()
    close_seq = shutdown() + ack() + peer(0, fin=True) + wait(13)
    for s in range(14):
        for o in range(4):
            seed("%s-%s" % (START_NAMES[s], OPTS[o]), setup(s, o) + conv + close_seq)
    for s in (S_ESTAB, S_COOKIE_DATA):
        seed("%s-echo" % START_NAMES[s], setup(s, 2, APP_ECHO) + peer(600) + ack() + peer(100, fin=True) +
             ack() + wait(7))
        seed("%s-discard" % START_NAMES[s], setup(s, 2, APP_DISCARD) + peer(600) + peer(0, fin=True) +
             ack() + wait(7))
    # the SYN-SENT side: a SYN,ACK, a bad one, an RST, a simultaneous SYN
    for o in range(4):
        seed("syn-sent-synack-%s" % OPTS[o], setup(S_SYN_SENT, o) +
             SEG(SYN | ACK, SEQ_ABS, 5000000, ACK_SND_MAX, 0) + send(100) + ack())
    seed("syn-sent-bad-ack", setup(S_SYN_SENT) + SEG(SYN | ACK, SEQ_ABS, 5000000, ACK_SND_MAX, 5) +
         SEG(RST | ACK, SEQ_ABS, 0, ACK_SND_MAX, 5) + SEG(RST | ACK, SEQ_ABS, 0, ACK_SND_MAX, 0))
    seed("syn-sent-rst-no-ack", setup(S_SYN_SENT) + SEG(RST, SEQ_ABS, 0) + wait(7) + wait(8))
    seed("syn-sent-simultaneous", setup(S_SYN_SENT) + SEG(SYN, SEQ_ABS, 5000000, ACK_SND_MAX, 0) +
         SEG(SYN | ACK, SEQ_IRS, 0) + SEG(ACK) + send(500) + ack())
    seed("syn-sent-timeout", setup(S_SYN_SENT, 2, 0, 0x80) + wait(7) + wait(8) + wait(9))
    seed("syn-sent-shutdown", setup(S_SYN_SENT) + shutdown())
    # RFC 5961: RSTs at and beside RCV.NXT, SYNs, bad ACKs, in every synchronized state
    for s in (S_SYN_RCVD, S_ESTAB, S_FW1, S_FW2, S_CLOSE_WAIT, S_CLOSING, S_LAST_ACK, S_TIME_WAIT):
        n = START_NAMES[s]
        seed("%s-rst-exact" % n, setup(s) + SEG(RST))
        seed("%s-rst-inwindow" % n, setup(s) + SEG(RST, seq=100) + SEG(RST | ACK, seq=-1))
        seed("%s-syn" % n, setup(s) + SEG(SYN) + SEG(SYN | ACK, seq=1) + SEG(SYN, SEQ_IRS))
        seed("%s-bad-ack" % n, setup(s) + SEG(ACK, ack=1000) + SEG(ACK, ACK_SND_UNA, -30000) +
             SEG(ACK | PSH, length=50, ack=10))
        seed("%s-old-ts" % n, setup(s, 2) + SEG(ACK | PSH, length=100, ts_mode=1) + SEG(ACK, ts_mode=1))
        seed("%s-out-of-window" % n, setup(s) + SEG(ACK | PSH, seq=-200, length=100) +
             SEG(ACK, SEQ_WND_EDGE, 10, length=20) + SEG(ACK | FIN, seq=-5))
    seed("time-wait-reopen", setup(S_TIME_WAIT, 1) + SEG(SYN, seq=1000, ack_base=ACK_ABS, ack=0) + ack())
    seed("time-wait-reopen-ts", setup(S_TIME_WAIT, 2) + tick(10) + SEG(SYN, seq=-1000, ack_base=ACK_ABS, ack=0))
    seed("time-wait-unread-reopen", setup(S_FW2, 1) + peer(100) + peer(0, fin=True) + tick(5) +
         SEG(SYN, seq=1000, ack_base=ACK_ABS, ack=0) + recv())
    seed("time-wait-fin-again", setup(S_TIME_WAIT) + SEG(FIN | ACK, seq=-1) + wait(13, 255))
    seed("syn-rcvd-again", setup(S_SYN_RCVD) + SEG(SYN, SEQ_IRS, ack_base=ACK_ABS) + SEG(ACK) + send(10))
    seed("syn-rcvd-shutdown", setup(S_SYN_RCVD) + shutdown() + SEG(ACK) + wait(7))
    seed("syn-rcvd-data-in-ack", setup(S_SYN_RCVD) + SEG(ACK | PSH, length=300) + recv())
    seed("syn-rcvd-timeout", setup(S_SYN_RCVD, 1, 0, 0x80) + wait(11) + wait(11))
    # cookies
    for o in range(4):
        seed("cookie-complete-%s" % OPTS[o], setup(S_COOKIE_SENT, o) + SEG(ACK) + peer(50) + recv() +
             send(100) + ack())
    seed("cookie-bad", setup(S_COOKIE_SENT) + SEG(ACK, ack=1) + SEG(ACK | FIN, seq=1) +
         SEG(ACK, target=T_ALT, target_arg=1))
    seed("cookie-new-syn", setup(S_ESTAB, 2, 0, 0, 0x10) + SEG(SYN, target=T_ALT, target_arg=2) +
         SEG(SYN, target=T_ALT, target_arg=3) + SEG(ACK, target=T_LIVE, target_arg=1))
    # data: out of order, SACK blocks back, RACK, TLP, RTO
    ooo = (SEG(ACK | PSH, seq=1000, length=100) + SEG(ACK | PSH, seq=500, length=100) +
           SEG(ACK | PSH, seq=0, length=100) + SEG(ACK | PSH, seq=100, length=127) + recv())
    for o in range(4):
        seed("ooo-%s" % OPTS[o], setup(S_ESTAB, o) + ooo)
    seed("ooo-fin", setup(S_ESTAB) + SEG(ACK | FIN, seq=200, length=50) + SEG(ACK | PSH, length=127) +
         SEG(ACK | PSH, seq=0, length=100) + recv())
    seed("ooo-dup", setup(S_ESTAB) + SEG(ACK | PSH, seq=100, length=100) + SEG(ACK | PSH, seq=100, length=100) +
         SEG(ACK | PSH, seq=150, length=100) + SEG(ACK | PSH, length=127) + SEG(ACK | PSH, seq=-10, length=50))
    sack = (send(30000) + SEG(ACK, ack_base=ACK_SND_UNA, ack=0, nsack=1, sacks=[(0, 2, 3)]) +
            SEG(ACK, ack_base=ACK_SND_UNA, nsack=2, sacks=[(0, 5, 2), (0, 2, 3)]) +
            SEG(ACK, ack_base=ACK_SND_UNA, nsack=3, sacks=[(0, 9, 1), (0, 5, 2), (0, 2, 3)]) +
            tick(30) + tick(60) + SEG(ACK, ack_base=ACK_SND_UNA, ack=1460, nsack=1, sacks=[(1, 0, 20)]) +
            wait(3) + ack() + wait(7))
    for o in (2, 3):
        seed("sack-recovery-%s" % OPTS[o], setup(S_ESTAB, o) + sack)
    seed("sack-rto", setup(S_ESTAB, 3) + send(20000) + wait(7) + wait(8) + ack())
    seed("newreno-dupacks", setup(S_ESTAB, 1, 0, 0x40) + send(20000) +
         SEG(ACK, ack_base=ACK_SND_UNA) + SEG(ACK, ack_base=ACK_SND_UNA) + SEG(ACK, ack_base=ACK_SND_UNA) +
         SEG(ACK, ack_base=ACK_SND_UNA) + SEG(ACK, ack_base=ACK_SND_UNA, ack=1460) + ack())
    seed("tlp", setup(S_ESTAB, 2) + send(1000) + ack() + send(5000) + wait(5) + wait(6) + ack())
    seed("dsack-undo", setup(S_ESTAB, 2) + send(10000) + wait(7) +
         SEG(ACK, ack_base=ACK_SND_UNA, nsack=1, sacks=[(1, 0, 90)]) + ack())
    seed("sack-garbage", setup(S_ESTAB, 2) + send(8000) +
         SEG(ACK, ack_base=ACK_SND_UNA, nsack=4, sacks=[(3, 63, 255), (2, 5, 0), (1, 10, 200), (0, 1, 7)]))
    # windows
    seed("zero-window", setup(S_ESTAB) + send(5000) + SEG(ACK, window=0) + wait(7) + wait(8) +
         SEG(ACK, window=0) + wait(9) + SEG(ACK, window=1000) + ack())
    seed("small-rcvbuf", setup(S_ESTAB, 2, 0, 0x04) + peer(1460) + peer(1460) + peer(1460) + peer(1460) +
         SEG(ACK | PSH, length=1460) + recv(100) + recv())
    seed("small-sndbuf", setup(S_ESTAB, 1, 0, 0x08) + send(30000) + send(30000) + ack() + send(30000))
    seed("nagle", setup(S_ESTAB, 1, 0, 0x01) + send(10) + send(10) + send(10) + ack() + tick(50))
    seed("delack", setup(S_ESTAB, 2, 0, 0x10) + peer(100) + tick(3) + tick(3) + peer(1400) + peer(1400))
    seed("keepalive", setup(S_ESTAB, 2, 0, 0x02) + wait(7, 200) + wait(7) + wait(7) + wait(7))
    seed("fin-wait-2-orphan", setup(S_FW2, 2, 0, 0x80) + close() + wait(8) + wait(8))
    seed("close-unread", setup(S_ESTAB) + peer(100) + close())
    seed("close-wait-close", setup(S_CLOSE_WAIT) + send(1000) + close() + ack() + wait(7))
    seed("abort-all-states", setup(S_FW1) + abort())
    seed("last-ack-timeout", setup(S_LAST_ACK, 2, 0, 0x80) + wait(9) + wait(9) + wait(9))
    # PMTU
    seed("pmtu", setup(S_ESTAB, 2) + send(20000) + icmp(1000) + icmp(576) + icmp(60) + icmp(100) + ack() +
         wait(7) + ack())
    seed("pmtu-other", setup(S_ESTAB) + icmp(1200, live=0) + icmp(1300, seq=0xffffffff))
    seed("pmtu-frames", setup(S_ESTAB, 2) + send(20000) + icmp(1000, frame=((3, 4),)) +
         icmp(700, frame=((3, 4), 5)) + icmp(600, frame=((11, 0),)) + ack() + wait(7) + ack())
    # the worker: bursts, crashes, quiescent points, failing allocations
    seed("burst", setup(S_ESTAB, 2) + send(4000) + burst([seg(ACK | PSH, length=100), seg(ACK | PSH, seq=100, length=100),
                                                          seg(ACK, ack=0), seg(ACK | FIN, seq=200)]) + recv())
    seed("burst-crash", setup(S_ESTAB, 2) + send(4000) + burst([seg(ACK | PSH, length=100),
                                                                seg(ACK | PSH, seq=300, length=100)], crash=True) +
         recv() + ack())
    seed("burst-mixed", setup(S_ESTAB, 2) + burst([seg(SYN, target=T_ALT), seg(ACK, target=T_CLOSED),
                                                  seg(RST, target=T_MAIN), seg(ACK, target=T_OTHER_IP),
                                                  seg(SYN, target=T_ECHO)]))
    seed("crash-quiesce", setup(S_ESTAB, 2) + peer(100) + quiesce() + crash(True) + send(100) + crash() + ack())
    seed("crash-mid-recovery", setup(S_ESTAB, 2) + send(20000) +
         SEG(ACK, ack_base=ACK_SND_UNA, nsack=1, sacks=[(0, 3, 4)]) + crash() + tick(40) + crash() + ack())
    seed("crash-syn-sent", setup(S_SYN_SENT) + crash() + SEG(SYN | ACK, SEQ_ABS, 5000000))
    seed("fail-send", setup(S_ESTAB) + fail(0, 2) + send(5000) + fail(1, 3) + peer(100) + tick(10) + ack())
    seed("fail-syn", setup(S_LISTEN) + fail(0, 1) + SEG(SYN) + wait(7) + SEG(ACK))
    seed("fail-rto", setup(S_ESTAB) + send(3000) + fail(0, 8) + wait(7) + wait(8) + ack())
    # the listener, other ports, other streams
    seed("listen-syn", setup(S_LISTEN, 2) + SEG(SYN) + SEG(ACK, SEQ_RCV_NXT) + peer(10) + send(10) + ack())
    seed("listen-junk", setup(S_LISTEN) + SEG(ACK) + SEG(FIN) + SEG(RST) + SEG(0) + SEG(SYN | RST) +
         SEG(SYN | ACK) + SEG(SYN | FIN, length=20))
    seed("closed-port", setup(S_ESTAB) + SEG(SYN, target=T_CLOSED) + SEG(ACK, target=T_CLOSED, length=10) +
         SEG(RST, target=T_CLOSED) + SEG(FIN, target=T_CLOSED, direct=True))
    seed("echo-port", setup(S_ESTAB) + SEG(SYN, target=T_ECHO) + SEG(ACK, target=T_LIVE, target_arg=1) +
         SEG(ACK | PSH, target=T_LIVE, target_arg=1, length=100))
    seed("connect", setup(S_ESTAB) + connect(1) + SEG(SYN | ACK, SEQ_ABS, 9000000, target=T_LIVE, target_arg=1) +
         send(100, 1) + SEG(ACK, target=T_LIVE, target_arg=1) + abort(1))
    seed("raw-options", setup(S_ESTAB) + SEG(ACK, raw=[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]) +
         SEG(ACK, raw=[5, 10, 0, 0, 0, 0, 0, 0, 0, 1]) + SEG(ACK, raw=[2, 4, 0, 0]) + SEG(ACK, raw=[0x1e, 1]))
    seed("tiny-mss", setup(S_LISTEN) + SEG(SYN, raw=[2, 4, 0, 1]) + SEG(ACK) + send(3000) + ack())
    seed("tiny-mss-0", setup(S_LISTEN) + SEG(SYN, raw=[2, 4, 0, 0]) + SEG(ACK) + send(3000) + ack())
    seed("tiny-mss-ts", setup(S_LISTEN, 2) + SEG(SYN, raw=[2, 4, 0, 5, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]) +
         SEG(ACK) + send(3000) + ack())
    seed("tiny-mss-synack", setup(S_SYN_SENT) + SEG(SYN | ACK, SEQ_ABS, 5000000, raw=[2, 4, 0, 0]) + send(500) +
         ack())
    seed("bad-checksum", setup(S_ESTAB) + SEG(RST, bad_csum=True) + SEG(ACK | PSH, length=10, bad_csum=True))
    seed("stall", setup(S_ESTAB, 2) + send(3000) + stall(13) + stall(15) + ack())
    # PLPMTUD (tcp_pmtu.c): probes from the base MSS, acknowledged or left to time out;
    # a black hole: full-size segments time out until the MSS comes down
    seed("plpmtud-probes", setup(S_ESTAB_PROBING, 2) + send(30000) + ack() + send(30000) + ack() + ack())
    seed("plpmtud-probe-lost", setup(S_ESTAB_PROBING, 2) + send(30000) + wait(5) + wait(6) + wait(7) + ack())
    seed("plpmtud-probe-sack", setup(S_ESTAB_PROBING, 2) + send(30000) +
         SEG(ACK, ack_base=ACK_SND_UNA, nsack=1, sacks=[(0, 1, 3)]) + wait(3) + ack())
    seed("black-hole", setup(S_ESTAB, 2) + send(20000) + wait(7) + wait(7) + wait(8) + wait(8) + ack() +
         send(30000) + ack() + ack())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                              "corpus", "tcp")
    os.makedirs(out, exist_ok=True)
    build()
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
