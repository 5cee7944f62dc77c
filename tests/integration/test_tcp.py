#!/usr/bin/env python3
"""Integration suite for the workers' TCP stack: a real gateway serving echo,
discard and source, Linux's TCP as the peer over net_tap in a namespace this
suite creates.

Run as root: python3 tests/integration/test_tcp.py [-k NAME]
Ends with the line "N passed, N failed". Measured figures (throughput,
impaired transfer times, retransmits, keep-alive detection time, SYN flood
counters) are printed and written to $PORTER_BUILD/integration-figures-tcp.json.

Client sockets are created inside the gateway's namespace (setns around
socket()), so all traffic stays in that namespace.

Impairment (impair.py): `tc ... netem` on both directions of the tap, or,
when the kernel has no netem, a user-space impairer that does the same.

A few tests talk to porter from a TCP peer written in Python (rawpeer.py, raw
frames on the tap from an address of the subnet Linux does not own), to send
what Linux would not: data with a hole in it. sniffer.py watches the tap;
tcpframe.py builds and parses the frames; source_pattern.py is the source
service's bytes.
"""
import contextlib
import hashlib
import json
import os
import random
import re
import resource
import selectors
import socket
import struct
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (run_suite, PEER_IP, PORTER_IP, PORTER_MAC, Gateway, connect,  # noqa: E402
                     in_netns, wait_for)
from impair import Impairment  # noqa: E402
from rawpeer import RawPeer  # noqa: E402
from sniffer import Sniffer  # noqa: E402
from source_pattern import PatternCheck, pattern  # noqa: E402
from tcpframe import (TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN, mac_bytes, packet_socket,  # noqa: E402
                      syn_options, tcp_packet)

FIGURES = {}
TESTS = []
MB = 1e6
KiB = 1024
MiB = 1024 * 1024

ECHO, DISCARD = 7, 9
SRC_64M, SRC_4M, SRC_1M, SRC_1B, SRC_INF = 19, 1019, 1020, 1021, 1022
SRC_BYTES = {SRC_64M: 64 * MiB, SRC_4M: 4 * MiB, SRC_1M: 1 * MiB, SRC_1B: 1}
LISTENERS = """listeners = ( { port = 7; service = "echo"; }, { port = 9; service = "discard"; },
  { port = 19; service = "source"; bytes = 67108864; },
  { port = 1019; service = "source"; bytes = 4194304; },
  { port = 1020; service = "source"; bytes = 1048576; },
  { port = 1021; service = "source"; bytes = 1; },
  { port = 1022; service = "source"; bytes = 0; } );
"""
SHARED_CONF = "tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; };\n" + LISTENERS
KEEPALIVE_CONF = ("tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000;\n"
                  "  keepalive: { enabled = true; idle_s = 1; interval_s = 1; count = 3; }; };\n"
                  + LISTENERS)
FLOOD_CONF = ("tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; syn_backlog = 16;\n"
              "  syn_retries = 2; };\n" + LISTENERS)


def test(fn):
    TESTS.append(fn)
    return fn


# --- sockets inside the gateway's namespace ------------------------------------

def recv_exact_eof(s, deadline):
    """Read until EOF; return the bytes."""
    out = bytearray()
    while True:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        b = s.recv(1 << 20)
        if not b:
            return bytes(out)
        out += b
        if time.monotonic() > deadline:
            raise AssertionError("no EOF before the deadline (%d bytes read)" % len(out))


# --- porter's counters ---------------------------------------------------------

def tcp_sum(st, group, key):
    return sum(s["tcp"][group][key] for s in st["shards"])


def streams_total(st):
    return sum(s["tcp"]["streams"] for s in st["shards"])


def events(gw):
    st = gw.status()
    return {k: tcp_sum(st, "events", k) for k in st["shards"][0]["tcp"]["events"]}


def drops(gw):
    st = gw.status()
    return {k: tcp_sum(st, "drops", k) for k in st["shards"][0]["tcp"]["drops"]}


def delta(after, before):
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def porter_streams(gw):
    return json.loads(gw.ctl("--json", "streams").stdout)["streams"]


def wait_streams_zero(gw, timeout, what="porter's stream count back to 0"):
    try:
        return wait_for(lambda: streams_total(gw.status()) == 0, timeout, what, interval=0.05)
    except AssertionError:
        left = porter_streams(gw)
        raise AssertionError("%s: %d streams left, e.g. %s" % (
            what, len(left), [(x["remote"], x["local"], x["state"]) for x in left[:8]]))


def linux_retrans(gw):
    out = gw.ns(["cat", "/proc/net/snmp"]).stdout.splitlines()
    tcp = [l.split() for l in out if l.startswith("Tcp:")]
    return int(tcp[1][tcp[0].index("RetransSegs")])


# --- transfers -------------------------------------------------------------------

def echo_transfer(gw, data, timeout, chunk=256 * KiB):
    """Write DATA to echo from a thread while this one reads; shutdown(WR);
    read to EOF; the echo must equal DATA (length and sha256). Returns seconds."""
    s = connect(gw, ECHO)
    err = []
    deadline = time.monotonic() + timeout

    def writer():
        try:
            mv = memoryview(data)
            for i in range(0, len(data), chunk):
                s.sendall(mv[i:i + chunk])
            s.shutdown(socket.SHUT_WR)
        except Exception as e:   # reported by the reader's check
            err.append(e)
    t0 = time.monotonic()
    w = threading.Thread(target=writer, daemon=True)
    w.start()
    h = hashlib.sha256()
    n = 0
    back = bytearray()   # kept to say where it went wrong, if it does
    try:
        buf = bytearray(1 << 20)
        while True:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            k = s.recv_into(buf)
            if k == 0:
                break
            h.update(memoryview(buf)[:k])
            back += memoryview(buf)[:k]
            n += k
            if time.monotonic() > deadline:
                raise AssertionError("echo of %d bytes: only %d back in %.0fs" % (len(data), n, timeout))
        dt = time.monotonic() - t0
        w.join(timeout=max(1, deadline - time.monotonic()))
    except socket.timeout:
        raise AssertionError("echo of %d bytes: %d back, then nothing until the %.0fs deadline"
                             % (len(data), n, timeout))
    finally:
        s.close()
    assert not err, "writer: %r" % err
    if n != len(data) or h.hexdigest() != hashlib.sha256(data).hexdigest():
        raise AssertionError("echoed %d of %d bytes, then EOF; %s" % (n, len(data), diff_report(data, bytes(back))))
    return dt


def diff_report(sent, got):
    """Where GOT (echoed) first differs from SENT, and what the rest looks like."""
    lo, hi = 0, min(len(sent), len(got))
    if sent[:hi] == got[:hi]:
        return "the echo is a prefix of what was sent (the last %d bytes never came back)" % (len(sent) - len(got))
    step = 1 << 16   # first differing 64 KiB block, then the byte
    while lo < hi and sent[lo:lo + step] == got[lo:lo + step]:
        lo += step
    i = lo + next(j for j in range(min(step, hi - lo)) if sent[lo + j] != got[lo + j])
    rest = got[i:i + 64]
    where = sent.find(rest, i) if len(rest) == 64 else -1
    if where > i:
        return ("first difference at byte %d: the echo goes on with the bytes sent at %d (%d bytes left out, "
                "%s)" % (i, where, where - i, "then the same to the end" if got[i:] == sent[where:where + len(got) - i]
                         else "and differs again later"))
    where = sent.rfind(rest, 0, i) if len(rest) == 64 else -1
    if where >= 0:
        return "first difference at byte %d: the echo repeats the bytes sent at %d" % (i, where)
    return "first difference at byte %d: the bytes that follow were never sent" % i


def discard_transfer(gw, nbytes, timeout, chunk=1 << 20):
    """Send NBYTES to discard, shutdown(WR), wait for porter's FIN (sent once
    it has read everything). Returns seconds."""
    s = connect(gw, DISCARD)
    block = os.urandom(chunk)
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    try:
        sent = 0
        while sent < nbytes:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            n = min(chunk, nbytes - sent)
            s.sendall(block[:n])
            sent += n
        s.shutdown(socket.SHUT_WR)
        rest = recv_exact_eof(s, deadline)
        dt = time.monotonic() - t0
    except socket.timeout:
        raise AssertionError("discard of %d bytes not done within %.0fs" % (nbytes, timeout))
    finally:
        s.close()
    assert rest == b"", "discard sent %d bytes" % len(rest)
    return dt


def source_transfer(gw, port, nbytes, timeout):
    """Read the source until its FIN, comparing with the pattern as it comes."""
    s = connect(gw, port)
    chk = PatternCheck()
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    try:
        buf = bytearray(1 << 20)
        while True:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            k = s.recv_into(buf)
            if k == 0:
                break
            chk.feed(bytes(buf[:k]))
            if time.monotonic() > deadline:
                raise AssertionError("source: %d of %d bytes in %.0fs" % (chk.off, nbytes, timeout))
        dt = time.monotonic() - t0
    except socket.timeout:
        raise AssertionError("source: %d of %d bytes, then nothing until the %.0fs deadline"
                             % (chk.off, nbytes, timeout))
    finally:
        s.close()
    assert chk.bad_at is None, "source pattern wrong at byte %d" % chk.bad_at
    assert chk.off == nbytes, "source sent %d bytes, expected %d" % (chk.off, nbytes)
    return dt


def parallel(jobs):
    """Run callables in threads; return their results; re-raise the first error."""
    res, errs = [None] * len(jobs), []

    def one(i, f):
        try:
            res[i] = f()
        except Exception:
            errs.append(traceback.format_exc())
    ts = [threading.Thread(target=one, args=(i, f), daemon=True) for i, f in enumerate(jobs)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise AssertionError("\n".join(errs))
    return res


# --- tests on one shared gateway -------------------------------------------------------

@test
def echo_sizes_sha256(gw):
    """1 B .. 64 MiB echoed intact (sha256), the client reading while it
    writes; clean EOF after shutdown(SHUT_WR)."""
    rates = {}
    for size in (1, 1 * KiB, 64 * KiB, 1 * MiB, 64 * MiB):
        data = os.urandom(size)
        dt = echo_transfer(gw, data, timeout=120)
        if size >= MiB:
            rates["%d_MiB" % (size // MiB)] = round(size / dt / MB, 1)
    FIGURES["echo_MBps"] = rates
    wait_streams_zero(gw, 5)


@test
def discard_full_speed(gw):
    n = 256 * MiB
    dt = discard_transfer(gw, n, timeout=120)
    FIGURES["discard_256MiB_MBps"] = round(n / dt / MB, 1)
    wait_streams_zero(gw, 5)


@test
def source_full_speed(gw):
    n = SRC_BYTES[SRC_64M]
    dt = source_transfer(gw, SRC_64M, n, timeout=120)
    FIGURES["source_64MiB_MBps"] = round(n / dt / MB, 1)
    wait_streams_zero(gw, 5)   # porter closed first: TIME-WAIT of 1 s


@test
def concurrent_1000_streams(gw):
    """1000 streams open at once, each echoes its own 1000 bytes; all
    closed by the client; porter ends with no stream."""
    n = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * n), hard))
    socks = []
    t0 = time.monotonic()
    try:
        for i in range(n):
            socks.append(connect(gw, ECHO, timeout=10))
        t_open = time.monotonic() - t0
        st = gw.status()
        assert streams_total(st) == n, "porter has %d streams with %d open" % (streams_total(st), n)
        FIGURES["concurrent_streams_per_shard"] = [s["tcp"]["streams"] for s in st["shards"]]
        payloads = [hashlib.sha256(b"%d" % i).digest() * 31 + struct.pack("!Q", i) for i in range(n)]
        payloads = [p[:1000] for p in payloads]
        assert len(set(payloads)) == n and all(len(p) == 1000 for p in payloads)
        for s, p in zip(socks, payloads):
            s.sendall(p)
        got = [bytearray() for _ in range(n)]
        sel = selectors.DefaultSelector()
        for i, s in enumerate(socks):
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
        pending = n
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                i = key.data
                b = socks[i].recv(4096)
                assert b, "stream %d: EOF after %d bytes" % (i, len(got[i]))
                got[i] += b
                if len(got[i]) >= 1000:
                    sel.unregister(socks[i])
                    pending -= 1
        sel.close()
        assert pending == 0, "%d streams did not echo their 1000 bytes within 30 s" % pending
        bad = [i for i in range(n) if bytes(got[i]) != payloads[i]]
        assert not bad, "%d streams echoed wrong data, e.g. %s" % (len(bad), bad[:5])
        t_echo = time.monotonic() - t0 - t_open
        for s in socks:
            s.setblocking(True)
            s.settimeout(10)
            s.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 30
        for i, s in enumerate(socks):
            rest = recv_exact_eof(s, deadline)
            assert rest == b"", "stream %d: %d extra bytes" % (i, len(rest))
    finally:
        for s in socks:
            s.close()
    wait_streams_zero(gw, 10)
    FIGURES["concurrent_1000_open_s_echo_s_close_s"] = [round(t_open, 3), round(t_echo, 3),
                                                        round(time.monotonic() - t0 - t_open - t_echo, 3)]


def close_check(gw, body, port):
    """Run BODY() with a sniffer on the tap; no RST may be seen on PORT (and
    none raised), porter's RST counters do not move, stream count back to 0."""
    ev0 = events(gw)
    sn = Sniffer(gw)
    try:
        try:
            ret = body()
        except ConnectionResetError as e:
            raise AssertionError("the client saw a reset: %r" % e)
        wait_streams_zero(gw, 10)
        rsts = sn.rsts(port)
    finally:
        sn.close()
    assert not rsts, "RST on the wire: %s" % rsts[:3]
    d = delta(events(gw), ev0)
    assert not d.get("resets_sent") and not d.get("resets_received"), d
    return ret, d


@test
def close_started_by_linux(gw):
    """Client shutdown(WR) on echo: porter echoes the rest, then its FIN."""
    data = os.urandom(200 * KiB)

    def body():
        s = connect(gw, ECHO)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = recv_exact_eof(s, time.monotonic() + 20)
        finally:
            s.close()
        assert got == data, "echoed %d bytes, differ" % len(got)
    close_check(gw, body, ECHO)


@test
def close_started_by_porter(gw):
    """Source (1 MiB) closes first: the client sees EOF, then closes; porter's
    stream waits in TIME-WAIT (time_wait_ms = 1000) and is then freed."""
    def body():
        s = connect(gw, SRC_1M)
        try:
            got = recv_exact_eof(s, time.monotonic() + 30)
            assert got == pattern(0, 1 * MiB), "source data wrong (%d bytes)" % len(got)
            cport = s.getsockname()[1]
        finally:
            s.close()
        t0 = time.monotonic()
        seen = []

        def in_time_wait():
            m = [x for x in porter_streams(gw) if x["remote"] == "%s:%d" % (PEER_IP, cport)]
            seen[:] = m
            return m and m[0]["state"] == "TIME_WAIT"
        try:
            wait_for(in_time_wait, 5, "porter's stream in TIME-WAIT")
        except AssertionError:
            raise AssertionError("porter's stream after both FINs: %s" % seen)
        wait_streams_zero(gw, 10)
        return time.monotonic() - t0
    dt, d = close_check(gw, body, SRC_1M)
    FIGURES["porter_time_wait_freed_after_s"] = round(dt, 2)
    assert dt > 0.5, "TIME-WAIT lasted %.2fs, configured 1 s" % dt


@test
def close_simultaneous(gw):
    """Source of 1 byte, client shutdown(WR) right after connect: both FINs
    cross (20 times); no RST, every stream freed."""
    def body():
        for _ in range(20):
            s = connect(gw, SRC_1B)
            try:
                s.shutdown(socket.SHUT_WR)
                got = recv_exact_eof(s, time.monotonic() + 10)
                assert got in (b"", pattern(0, 1)), got
            finally:
                s.close()
    _, d = close_check(gw, body, SRC_1B)
    FIGURES["simultaneous_close_events"] = d


def stream_of(gw, cport, lport):
    m = [x for x in porter_streams(gw)
         if x["remote"] == "%s:%d" % (PEER_IP, cport) and x["local"] == "%s:%d" % (PORTER_IP, lport)]
    assert len(m) == 1, "porter's view of %d->%d: %s" % (cport, lport, m)
    return m[0]


def tap_mac(gw):
    return mac_bytes(gw.ns(["cat", "/sys/class/net/%s/address" % gw.iface]).stdout.strip())


def roundtrip(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(65536)
        assert b, "EOF in a round trip"
        got += b
    assert got == msg, (got, msg)


@test
def blind_rst_and_syn_draw_challenge_acks(gw):
    """RFC 5961: an in-window (not exact) RST and a SYN on an established
    tuple (in window, and out of window: RFC 5961 §4.2 "irrespective of the
    sequence number") each draw an ACK of rcv_nxt, a challenge ACK counted as
    such; the stream lives on."""
    s = connect(gw, ECHO)
    raw = packet_socket(gw)
    sn = Sniffer(gw)

    def mine(f):
        return cport in (f["sport"], f["dport"])

    def idle_stream():
        x = stream_of(gw, cport, ECHO)
        return x if x["snd_una"] == x["snd_nxt"] and x["rcv_queued"] == 0 else None
    try:
        roundtrip(s, b"hello before")
        cport = s.getsockname()[1]
        eth = mac_bytes(PORTER_MAC) + tap_mac(gw) + b"\x08\x00"
        for kind, off in (("rst", 1000), ("syn", 1000), ("syn_out_of_window", -5000)):
            sn.drain()
            del sn.frames[:]
            roundtrip(s, b"fresh timestamps")
            st = wait_for(idle_stream, 5, "stream idle (Linux acknowledged the echo)")
            # Linux's last TSval on this stream (of the ACK that made it idle): a SYN
            # without a timestamp, or an older one, is dropped by PAWS (RFC 7323)
            tsv = [f["tsval"] for f in sn.drain() if not f["from_porter"] and mine(f) and f["tsval"]]
            assert tsv, "no timestamp from Linux seen"
            ev0, dr0 = events(gw), drops(gw)
            del sn.frames[:]
            seq = (st["rcv_nxt"] + off) & 0xffffffff
            if kind == "rst":
                pkt = tcp_packet(PEER_IP, PORTER_IP, cport, ECHO, seq, 0, TH_RST, win=0)
            else:
                pkt = tcp_packet(PEER_IP, PORTER_IP, cport, ECHO, seq, 0, TH_SYN, win=64240,
                                 opts=syn_options(tsv[-1] + 1))
            raw.send(eth + pkt)
            try:
                acks = wait_for(lambda: [f for f in sn.drain() if f["from_porter"] and mine(f) and
                                         f["flags"] & TH_ACK and not f["flags"] & (TH_RST | TH_SYN | TH_FIN)],
                                3, "porter's ACK on the wire")
            except AssertionError:
                raise AssertionError("no ACK answered the %s (seq rcv_nxt%+d); events %s drops %s" % (
                    kind, off, delta(events(gw), ev0), delta(drops(gw), dr0)))
            assert acks[0]["ack"] == st["rcv_nxt"] and acks[0]["seq"] == st["snd_nxt"], (acks[0], st)
            assert acks[0]["len"] == 0, acks[0]
            d, dd = delta(events(gw), ev0), delta(drops(gw), dr0)
            FIGURES["challenge_ack_for_" + kind] = {"seq_sent": seq, "rcv_nxt": st["rcv_nxt"],
                                                    "ack_seen": acks[0]["ack"], "events": d, "drops": dd}
            assert d.get("challenge_acks") == 1, "challenge_acks did not move by 1: events %s drops %s" % (d, dd)
            assert not d.get("resets_received") and not d.get("closed"), d
            after = stream_of(gw, cport, ECHO)
            assert after["state"] == "ESTABLISHED", after
            roundtrip(s, b"still alive after the %s" % kind.encode())
            # anything porter sent about the injected segment came before this echo
            bad = [f for f in sn.drain() if mine(f) and f["flags"] & (TH_RST | TH_SYN) and
                   not (not f["from_porter"] and f["seq"] == seq)]   # (but the one injected)
            assert not bad, "a RST or SYN on the stream after the %s: %s" % (kind, bad)
        s.shutdown(socket.SHUT_WR)
        assert recv_exact_eof(s, time.monotonic() + 5) == b""
    finally:
        s.close()
        raw.close()
        sn.close()
    wait_streams_zero(gw, 5)


@test
def full_segments_fit_the_mtu_with_sack_blocks(gw):
    """Porter sending full-sized segments while it holds out-of-order data of
    the peer adds SACK blocks to them: the payload must shrink so that every
    IP packet stays within the MTU (1500), else the device refuses it.
    A raw peer (window scale 7: the window never limits) reads the endless
    source; after 64 KiB it sends 100 bytes 1000 bytes past its snd_nxt (a
    hole porter keeps out of order) and reads on: 1 MiB more must come, in
    order, with no frame refused by the device. Then the hole is filled."""
    st0 = gw.status()
    ev0 = events(gw)
    peer = RawPeer(gw)
    state = {"got": 0, "gaps": 0}

    def read(upto, stall_s, deadline_s):
        deadline = time.monotonic() + deadline_s
        last = time.monotonic()
        while state["got"] < upto and time.monotonic() < deadline and time.monotonic() - last < stall_s:
            progress = False
            for p in peer.poll(0.05):
                if p["len"] == 0:
                    continue
                if p["seq"] == peer.rcv_nxt:
                    assert p["payload"] == pattern(state["got"], p["len"]), \
                        "source data wrong at byte %d" % state["got"]
                    state["got"] += p["len"]
                    peer.rcv_nxt = (peer.rcv_nxt + p["len"]) & 0xffffffff
                    peer.ts_recent = p["tsval"] or peer.ts_recent
                    progress = True
                elif ((p["seq"] - peer.rcv_nxt) & 0xffffffff) < 0x80000000:
                    state["gaps"] += 1
            if progress:
                last = time.monotonic()
                peer.send(TH_ACK)
        return state["got"]
    try:
        syn_ack = peer.connect(SRC_INF)
        assert syn_ack["tsval"] is not None, "porter did not take timestamps"
        hole_at = read(64 * KiB, 2, 5)
        assert hole_at >= 64 * KiB, "the raw peer got only %d bytes" % hole_at
        peer.send(TH_ACK | TH_PSH, seq=peer.snd_nxt + 1000, payload=b"o" * 100)
        after_hole = read(hole_at + 1 * MiB, 1.5, 10) - hole_at
        st1 = gw.status()
        d = delta(events(gw), ev0)
        # fill the hole: porter's out-of-order queue empties
        peer.send(TH_ACK | TH_PSH, seq=peer.snd_nxt, payload=b"i" * 1000)
        peer.snd_nxt += 1100
        mark = state["got"]
        after_fill = read(mark + 256 * KiB, 2, 5) - mark
        oerr = st1["ports"][0]["nic_oerrors"] - st0["ports"][0]["nic_oerrors"]
        txf = st1["ports"][0]["drops"]["tx_full"] - st0["ports"][0]["drops"]["tx_full"]
        biggest = max(p["ip_len"] for p in peer.porter_frames)
        FIGURES["mtu_with_sack"] = {"bytes_before_hole": hole_at, "bytes_in_order_after_hole": after_hole,
                                    "bytes_after_hole_filled": after_fill, "segments_past_a_gap": state["gaps"],
                                    "largest_ip_packet_seen": biggest, "port_oerrors": oerr, "port_tx_full": txf,
                                    "porter_retransmits": d.get("retransmits", 0),
                                    "porter_timeouts": d.get("timeouts", 0)}
        assert biggest <= 1500, "porter sent an IP packet of %d bytes (MTU 1500)" % biggest
        assert after_hole >= 1 * MiB and oerr == 0 and txf == 0, (
            "while porter held the peer's out-of-order segment its stream %s: %d bytes in order (of 1 MiB), "
            "the device refused %d frames (port nic_oerrors; tx_full %d), porter retransmits %d, "
            "timeouts %d; once the hole was filled: %d bytes more" % (
                "stalled" if after_hole < MiB else "went on", after_hole, oerr, txf,
                d.get("retransmits", 0), d.get("timeouts", 0), after_fill))
        assert after_fill >= 256 * KiB, "only %d bytes after the hole was filled" % after_fill
    finally:
        peer.close()
    wait_streams_zero(gw, 5)


@test
def pure_ack_after_timeout_is_not_old(gw):
    """After a retransmission timeout porter goes back to SND.UNA (go-back-N),
    so SND.NXT is below data it has already sent. An ACK-only segment must
    still carry a sequence number the peer finds acceptable, i.e. not below
    the data the peer already has (BSD sends SND.MAX): Linux answers an
    older one with a duplicate ACK and ignores its ACK field, and with porter
    ignoring Linux's ACKs in turn (the impaired echo can end that way) both
    sides stall for good. A raw peer reads the endless source's first flight
    without acknowledging it, waits for the retransmission, then sends 10
    bytes: porter's ACK of them must not be older than that first flight."""
    peer = RawPeer(gw)
    try:
        syn_ack = peer.connect(SRC_INF)
        first = (syn_ack["seq"] + 1) & 0xffffffff
        top = first
        rexmit = None
        deadline = time.monotonic() + 5
        while rexmit is None and time.monotonic() < deadline:
            for p in peer.poll(0.05):
                if p["len"]:
                    end = (p["seq"] + p["len"]) & 0xffffffff
                    if ((end - top) & 0xffffffff) < 0x80000000:
                        top = end
                    if p["seq"] == first and top != end:
                        rexmit = p
        assert rexmit is not None, "no retransmission of the unacknowledged first segment within 5 s"
        sent_before = (top - first) & 0xffffffff
        del peer.porter_frames[:]
        peer.rcv_nxt = first   # acknowledge nothing yet
        peer.send(TH_ACK | TH_PSH, payload=b"0123456789")
        peer.snd_nxt += 10
        acks = wait_for(lambda: [p for p in peer.poll(0.05) if p["len"] == 0 and
                                 p["ack"] == peer.snd_nxt & 0xffffffff], 3, "porter's ACK of the 10 bytes")
        behind = (top - acks[0]["seq"]) & 0xffffffff
        FIGURES["pure_ack_after_rto"] = {"bytes_sent_before_rto": sent_before, "ack_seq_behind_snd_max": behind}
        assert behind == 0 or behind >= 0x80000000, (
            "after the timeout porter's ACK-only segment carries seq %d, %d bytes below data it had already "
            "sent (SND.MAX %d): a receiver that has that data finds it old and ignores its ACK" % (
                acks[0]["seq"], behind, top))
    finally:
        peer.close()
    wait_streams_zero(gw, 5)


IMPAIRMENTS = {
    # name: (kernel->porter, porter->kernel, echo bytes, source port, discard bytes, timeout)
    "loss1": ({"loss": 0.01}, {"loss": 0.01}, 4 * MiB, SRC_4M, 16 * MiB, 60),
    "loss5_reorder25_dup1": ({"loss": 0.05, "reorder": 0.25, "delay": 1, "dup": 0.01},
                             {"loss": 0.05, "reorder": 0.25, "delay": 1, "dup": 0.01},
                             4 * MiB, SRC_4M, 16 * MiB, 150),
    "delay50_loss1": ({"delay": 50, "loss": 0.01}, {"delay": 50, "loss": 0.01},
                      1 * MiB, SRC_1M, 2 * MiB, 60),
}


def impaired(gw, name):
    k2p, p2k, echo_n, src_port, disc_n, timeout = IMPAIRMENTS[name]
    ev0, dr0, r0, p0 = events(gw), drops(gw), linux_retrans(gw), gw.status()["ports"][0]
    data = os.urandom(echo_n)
    t0 = time.monotonic()
    in_use = []
    with Impairment(gw, k2p, p2k) as imp:
        stop = threading.Event()

        def watch_mempool():   # the highest number of mbufs in use during the transfers
            while not stop.wait(0.1):
                with contextlib.suppress(Exception):
                    in_use.append(gw.status(timeout=2)["mempool"]["in_use"])
        w = threading.Thread(target=watch_mempool, daemon=True)
        w.start()
        try:
            dts = parallel([lambda: echo_transfer(gw, data, timeout),
                            lambda: source_transfer(gw, src_port, SRC_BYTES[src_port], timeout),
                            lambda: discard_transfer(gw, disc_n, timeout)])
        except AssertionError as e:
            raise AssertionError("%s\nporter's events %s, drops %s, mbufs in use (max) %s of %s\nstreams %s" % (
                e, delta(events(gw), ev0), delta(drops(gw), dr0), max(in_use, default=None),
                gw.status()["mempool"], json.dumps(porter_streams(gw))))
        finally:
            stop.set()
            w.join(5)
    total = time.monotonic() - t0
    wait_streams_zero(gw, 10)
    d = delta(events(gw), ev0)
    fig = {"mode": imp.mode, "echo_s": round(dts[0], 2), "source_s": round(dts[1], 2),
           "discard_s": round(dts[2], 2), "total_s": round(total, 2),
           "sizes_MiB": [echo_n / MiB, SRC_BYTES[src_port] / MiB, disc_n / MiB],
           "porter_retransmits": d.get("retransmits", 0), "porter_timeouts": d.get("timeouts", 0),
           "porter_fast_recoveries": d.get("fast_recoveries", 0),
           "porter_sack_recoveries": d.get("sack_recoveries", 0),
           "linux_retrans_segs": linux_retrans(gw) - r0,
           "port_frames_refused_by_device": gw.status()["ports"][0]["nic_oerrors"] - p0["nic_oerrors"],
           "porter_drops": delta(drops(gw), dr0), "mbufs_in_use_max": max(in_use, default=None)}
    if imp.stats:
        fig["impairer"] = imp.stats
    FIGURES["impaired_" + name] = fig
    print("    %s: %s" % (name, json.dumps(fig)), flush=True)
    if imp.mode == "netem egress only":
        print("    NOTE: only kernel->porter was impaired; porter's own retransmits need not move", flush=True)
        assert fig["linux_retrans_segs"] > 0, fig
    else:
        assert fig["porter_retransmits"] > 0, "porter retransmitted nothing: %s" % fig
        assert fig["linux_retrans_segs"] > 0, fig


@test
def impaired_loss1(gw):
    impaired(gw, "loss1")


@test
def impaired_loss5_reorder25_dup1(gw):
    impaired(gw, "loss5_reorder25_dup1")


@test
def impaired_delay50_loss1(gw):
    impaired(gw, "delay50_loss1")


@test
def paced_over_a_20ms_path(gw):
    """tcp.pacing (on by default) with a real Linux receiver 20 ms away: the source's 4 MiB
    arrive intact, porter's segments waited for their departure times (paced_waits: on a
    LAN nothing ever does), and nothing was lost or resent on the clean path."""
    ev0 = events(gw)
    with Impairment(gw, {"delay": 10}, {"delay": 10}):
        dt = source_transfer(gw, SRC_4M, SRC_BYTES[SRC_4M], 60)
    wait_streams_zero(gw, 10)
    d = delta(events(gw), ev0)
    FIGURES["paced_over_a_20ms_path"] = {"source_s": round(dt, 2), "paced_waits": d.get("paced_waits", 0),
                                         "retransmits": d.get("retransmits", 0)}
    assert d.get("paced_waits", 0) > 0, "no segment waited for its departure: %s" % d
    assert d.get("retransmits", 0) == 0 and d.get("timeouts", 0) == 0, d


TH_ECE, TH_CWR = 0x40, 0x80
ECN_CONF = ("tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; ecn = \"passive\"; };\n"
            + LISTENERS)


@test
def ecn_marks_slow_both_ways_without_loss(_shared):
    """RFC 3168 against Linux (net.ipv4.tcp_ecn = 1, so its SYNs ask): the
    impairer marks 2 % of the ECN-capable frames CE in each direction, as an
    AQM would, and drops none. Linux -> porter (discard): porter echoes ECE
    until Linux's CWR. porter -> Linux (source): Linux echoes ECE and porter
    halves its window without retransmitting, then sends CWR. New data from
    porter is ECT(0), its pure ACKs are not. Both transfers intact."""
    with Gateway(extra=ECN_CONF) as gw:
        gw.ns(["sysctl", "-qw", "net.ipv4.tcp_ecn=1"])
        ev0, r0, p0 = events(gw), linux_retrans(gw), gw.status()["ports"][0]
        sn = Sniffer(gw)
        try:
            with Impairment(gw, {"ce": 0.02}, {"ce": 0.02}) as imp:
                parallel([lambda: discard_transfer(gw, 8 * MiB, 60),
                          lambda: source_transfer(gw, SRC_4M, SRC_BYTES[SRC_4M], 60)])
            frames = sn.drain()
        finally:
            sn.close()
        wait_streams_zero(gw, 10)
        d = delta(events(gw), ev0)
        refused = gw.status()["ports"][0]["nic_oerrors"] - p0["nic_oerrors"]
        lin = linux_retrans(gw) - r0
    to_disc = [f for f in frames if f["dport"] == DISCARD and not f["from_porter"]]
    from_disc = [f for f in frames if f["sport"] == DISCARD and f["from_porter"]]
    src_data = [f for f in frames if f["sport"] == SRC_4M and f["from_porter"] and f["len"] > 0]
    src_acks = [f for f in frames if f["sport"] == SRC_4M and f["from_porter"] and f["len"] == 0 and
                not f["flags"] & (TH_SYN | TH_FIN | TH_RST)]
    fig = {"impairer": imp.stats, "porter_events": {k: d.get(k, 0) for k in (
               "ecn_ce_received", "ecn_window_reductions", "retransmits", "timeouts", "sack_recoveries",
               "fast_recoveries")},
           "linux_retrans_segs": lin, "frames_refused_by_device": refused,
           "porter_acks_with_ece": sum(1 for f in from_disc if f["flags"] & TH_ECE),
           "linux_segments_with_cwr": sum(1 for f in to_disc if f["flags"] & TH_CWR),
           "porter_data_ect0": sum(1 for f in src_data if f["ecn"] == 2), "porter_data": len(src_data),
           "porter_data_with_cwr": sum(1 for f in src_data if f["flags"] & TH_CWR)}
    FIGURES["ecn"] = fig
    print("    ecn: %s" % json.dumps(fig), flush=True)
    st = imp.stats
    assert st is not None and st["k2p"]["ce"] > 0 and st["p2k"]["ce"] > 0, "no CE marks made: %s" % st
    assert st["k2p"]["lost"] == 0 and st["p2k"]["lost"] == 0, st
    # both SYNs negotiated ECN: the frames say so
    assert fig["porter_data_ect0"] > 0 and fig["porter_data_ect0"] >= fig["porter_data"] * 0.9, fig
    assert all(f["ecn"] == 0 for f in src_acks + from_disc if f["len"] == 0), "a pure ACK from porter was ECT"
    # receiver: CE seen, echoed, and Linux reacted with CWR
    assert fig["porter_events"]["ecn_ce_received"] > 0, fig
    assert fig["porter_acks_with_ece"] > 0, fig
    # ... and stopped echoing when Linux's CWR came (else every ACK after the first mark has ECE)
    first = next(i for i, f in enumerate(from_disc) if f["flags"] & TH_ECE)
    assert any(not f["flags"] & TH_ECE for f in from_disc[first:] if f["len"] == 0), "ECE never stopped"
    # once per window: no more reductions than marks on porter's data
    assert fig["porter_events"]["ecn_window_reductions"] <= st["p2k"]["ce"], fig
    if to_disc:   # the sniffer sees what the impairer hands porter on this kernel
        assert fig["linux_segments_with_cwr"] > 0, fig
    # sender: Linux's ECE reduced porter's window and porter said so with CWR
    assert fig["porter_events"]["ecn_window_reductions"] > 0 and fig["porter_data_with_cwr"] > 0, fig
    if refused == 0:
        # nothing was lost anywhere: a congestion signal without a single retransmission
        assert fig["porter_events"]["retransmits"] == 0 and fig["porter_events"]["timeouts"] == 0, fig
    else:
        print("    NOTE: the tap refused %d of porter's frames: retransmissions not checked" % refused, flush=True)


def scripted_source(gw, p2k, k2p=None, port=SRC_1M):
    """A source transfer (porter sends) through scripted drops; -> porter's event deltas."""
    ev0 = events(gw)
    with Impairment(gw, k2p or {}, p2k) as imp:
        source_transfer(gw, port, SRC_BYTES[port], 60)
    wait_streams_zero(gw, 10)
    d = delta(events(gw), ev0)
    return d, imp.stats


# The two RACK-TLP tests below assert "no retransmission timeout": on their own
# gateway with a 1 s RTO floor, so a loaded 2-CPU box that stalls the worker or
# the impairer for a few hundred ms cannot fire the RTO first. The probe and
# RACK's timers derive from the RTT, not from that floor; if they fail to repair
# the loss, the RTO still fires (a second later) and the test fails.
RACK_CONF = ("tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; rto_min_ms = 1000;\n"
             "       rto_initial_ms = 1000; };\n" + LISTENERS)


@test
def tail_loss_repaired_by_a_probe(_shared):
    """RFC 8985 §7: the last two segments of a transfer are lost; a tail loss
    probe brings the SACK that repairs them: no retransmission timeout."""
    n = SRC_BYTES[SRC_1M]
    with Gateway(extra=RACK_CONF) as gw:
        d, st = scripted_source(gw, {"drop": [[n - 1, 1], [n - 1 - 1448, 1]]})
    FIGURES["tail_loss"] = {"events": d, "impairer": st}
    print("    tail loss: %s" % json.dumps(d), flush=True)
    assert st is None or st["p2k"]["lost"] == 2, st
    assert d.get("tail_loss_probes", 0) >= 1, d
    assert d.get("timeouts", 0) == 0, d


@test
def lost_retransmission_found_without_timeout(_shared):
    """RFC 8985 §6: a segment and its first retransmission are both lost in
    mid-transfer; RACK sees later segments delivered and sends it again, no RTO."""
    with Gateway(extra=RACK_CONF) as gw:
        d, st = scripted_source(gw, {"drop": [[300000, 2]]})
    FIGURES["lost_retransmission"] = {"events": d, "impairer": st}
    print("    lost retransmission: %s" % json.dumps(d), flush=True)
    assert st is None or st["p2k"]["lost"] == 2, st
    assert d.get("rack_marked_lost", 0) >= 2, d
    assert d.get("timeouts", 0) == 0, d
    assert d.get("retransmits", 0) >= 2, d


@test
def duplicate_data_draws_a_dsack(gw):
    """RFC 2883: a segment Linux's data delivered twice is reported in a D-SACK block."""
    ev0 = events(gw)
    with Impairment(gw, {"dup_at": [200000]}, {}) as imp:
        discard_transfer(gw, 1 << 20, 60)
    d = delta(events(gw), ev0)
    FIGURES["dsack_sent"] = {"events": d, "impairer": imp.stats}
    assert imp.stats is None or imp.stats["k2p"]["dup"] == 1, imp.stats
    assert d.get("dsacks_sent", 0) >= 1, d


# --- PLPMTUD (RFC 4821): a narrower link that drops big packets, ICMP blocked ------

PMTU_CONF = ("tcp: { max_streams_per_shard = 8192; time_wait_ms = 1000; mtu_probing = 1; base_mss = 1024; };\n"
             + LISTENERS)
PMTU_PATH = 1280          # the narrow link's MTU; both ends' interfaces keep 1500 (MSS 1460)


def linux_tcp_info(gw, lport):
    """Linux's view of its socket from local port LPORT (ss -tin): mss, pmtu, retransmissions."""
    out = gw.ns(["ss", "-tinH", "state", "established", "( sport = :%d )" % lport]).stdout
    info = {}
    for key, pat in (("mss", r"\bmss:(\d+)"), ("pmtu", r"\bpmtu:(\d+)"), ("retrans_total", r"\bretrans:\d+/(\d+)")):
        m = re.search(pat, out)
        info[key] = int(m.group(1)) if m else 0
    return info


def echo_held(gw, data, timeout):
    """Echo DATA (written from a thread while this one reads); once every byte
    is back, and before the close, read porter's stream and Linux's socket.
    -> (seconds, porter's stream, Linux's tcp info)."""
    s = connect(gw, ECHO)
    lport = s.getsockname()[1]
    err = []
    deadline = time.monotonic() + timeout

    def writer():
        try:
            mv = memoryview(data)
            for i in range(0, len(data), 256 * KiB):
                s.sendall(mv[i:i + 256 * KiB])
        except Exception as e:
            err.append(e)
    t0 = time.monotonic()
    w = threading.Thread(target=writer, daemon=True)
    w.start()
    back = bytearray()
    try:
        buf = bytearray(1 << 20)
        while len(back) < len(data):
            s.settimeout(max(0.1, deadline - time.monotonic()))
            k = s.recv_into(buf)
            assert k > 0, "echo closed after %d of %d bytes" % (len(back), len(data))
            back += memoryview(buf)[:k]
            if time.monotonic() > deadline:
                raise AssertionError("echo of %d bytes: only %d back in %.0fs" % (len(data), len(back), timeout))
        dt = time.monotonic() - t0
        w.join(timeout=max(1, deadline - time.monotonic()))
        mine = [x for x in porter_streams(gw) if x["remote"].endswith(":%d" % lport)]
        lin = linux_tcp_info(gw, lport)
        s.shutdown(socket.SHUT_WR)
        assert recv_exact_eof(s, deadline) == b"", "bytes after the echo"
    except socket.timeout:
        raise AssertionError("echo of %d bytes: %d back, then nothing until the %.0fs deadline"
                             % (len(data), len(back), timeout))
    finally:
        s.close()
    assert not err, "writer: %r" % err
    if bytes(back) != data:
        raise AssertionError("echo differs: %s" % diff_report(data, bytes(back)))
    assert len(mine) == 1, "porter's stream for port %d: %s" % (lport, mine)
    return dt, mine[0], lin


def pmtu_run(mtu, nbytes=4 * MiB, timeout=120):
    """An echo of NBYTES each way through a path of MTU bytes (None: no narrow
    link) with ICMP blocked, on a gateway of its own; Linux probes too
    (net.ipv4.tcp_mtu_probing = 1: its data to porter crosses the same link)."""
    lim = {"mtu": mtu or 1500}   # 1500: the same impairer, nothing too big
    with Gateway(extra=PMTU_CONF) as gw:
        gw.ns(["sysctl", "-qw", "net.ipv4.tcp_mtu_probing=1"])
        ev0, r0 = events(gw), linux_retrans(gw)
        with Impairment(gw, dict(lim), dict(lim)) as imp:
            dt, st, lin = echo_held(gw, os.urandom(nbytes), timeout)
        wait_streams_zero(gw, 10)
        d = delta(events(gw), ev0)
        lin_rexmit = linux_retrans(gw) - r0
    fig = {"path_mtu": mtu, "echo_MiB": nbytes / MiB, "seconds": round(dt, 2),
           "porter": {"mss": st["mss"], "timestamps": st["timestamps"], "retransmits": st["retransmits"],
                      "events": {k: d.get(k, 0) for k in ("plpmtud_black_holes", "plpmtud_probes",
                                                           "plpmtud_probes_ok", "plpmtud_probes_failed",
                                                           "timeouts", "retransmits", "pmtu_lowered")}},
           "linux": dict(lin, retrans_segs=lin_rexmit), "impairer": imp.stats}
    return fig


@test
def plpmtud_black_hole_both_ways(_shared):
    """RFC 4821 through a black hole: a link of 1280 bytes on the way drops
    every larger packet and no ICMP says so. porter's full-size segments time
    out, it drops to tcp.base_mss and probes up to the path MTU; Linux (with
    tcp_mtu_probing = 1) does the same the other way. A 4 MiB echo comes back
    byte for byte, and porter's MSS ends within 16 bytes of what fits."""
    fig = pmtu_run(PMTU_PATH)
    FIGURES["plpmtud_black_hole"] = fig
    print("    plpmtud black hole: %s" % json.dumps(fig), flush=True)
    st, ev = fig["impairer"], fig["porter"]["events"]
    assert st is not None and st["p2k"]["too_big"] > 0, "the narrow link dropped nothing of porter's: %s" % st
    assert st["p2k"]["max_len"] <= PMTU_PATH and st["k2p"]["max_len"] <= PMTU_PATH, st
    fits = PMTU_PATH - 40 - (12 if fig["porter"]["timestamps"] else 0)
    assert fits - 16 < fig["porter"]["mss"] <= fits, "porter's MSS %d, %d fits: %s" % (
        fig["porter"]["mss"], fits, fig)
    assert ev["plpmtud_black_holes"] >= 1, fig
    assert ev["plpmtud_probes"] >= 1 and ev["plpmtud_probes_ok"] >= 1, fig
    assert ev["pmtu_lowered"] == 0, "an ICMP message got through: %s" % fig


@test
def plpmtud_no_black_hole_keeps_full_size(_shared):
    """The same echo with nothing narrow on the way: tcp.mtu_probing = 1 never
    lowers the MSS nor probes (no spurious black hole)."""
    fig = pmtu_run(None)
    FIGURES["plpmtud_no_black_hole"] = fig
    print("    plpmtud no black hole: %s" % json.dumps(fig), flush=True)
    ev = fig["porter"]["events"]
    full = 1460 - (12 if fig["porter"]["timestamps"] else 0)
    assert fig["porter"]["mss"] == full, fig
    assert ev["plpmtud_black_holes"] == 0 and ev["plpmtud_probes"] == 0, fig
    assert fig["impairer"] is None or fig["impairer"]["p2k"]["too_big"] == 0, fig


# --- tests that need their own gateway ------------------------------------------

@test
def keepalive_notices_vanished_peer(_shared):
    with Gateway(extra=KEEPALIVE_CONF) as gw:
        s = connect(gw, DISCARD)
        try:
            s.sendall(b"x" * 100)
            cport = s.getsockname()[1]
            wait_for(lambda: stream_of(gw, cport, DISCARD)["bytes_in"] == 100, 5, "discard read the bytes")
            ev0 = events(gw)
            # idle 1 s, 3 probes answered while the peer is there
            wait_for(lambda: events(gw)["keepalive_probes"] > ev0["keepalive_probes"], 5, "a first probe")
            assert streams_total(gw.status()) == 1
            with Impairment(gw, {"loss": 1.0}, {}) as imp:
                t0 = time.monotonic()
                ev1 = events(gw)
                wait_for(lambda: streams_total(gw.status()) == 0, 15, "the stream to go (keep-alive timeout)",
                         interval=0.05)
                dt = time.monotonic() - t0
            d = delta(events(gw), ev1)
            FIGURES["keepalive_dead_peer_detected_s"] = round(dt, 2)
            FIGURES["keepalive_mode"] = imp.mode
            FIGURES["keepalive_events"] = d
            assert d.get("keepalive_timeouts") == 1, d
            assert d.get("keepalive_probes", 0) >= 3, d
            assert 2.0 <= dt <= 1 + 3 + 4, "gone after %.2fs, expected about 1 + 3 s" % dt
        finally:
            s.close()


def tap_tx_dropped(gw):
    return int(gw.ns(["cat", "/sys/class/net/%s/statistics/tx_dropped" % gw.iface]).stdout)


def flood_frames(dst_mac, src_mac, n, rnd):
    out = []
    for _ in range(n):
        src = "10.99.0.%d" % rnd.randint(100, 200)
        pkt = tcp_packet(src, PORTER_IP, rnd.randint(1024, 65535), ECHO, rnd.getrandbits(32), 0, TH_SYN,
                         win=64240, opts=syn_options(rnd.getrandbits(32)))
        out.append(dst_mac + src_mac + b"\x08\x00" + pkt)
    return out


@test
def syn_flood_past_backlog(_shared):
    """2000 spoofed SYNs (nobody owns the sources) past syn_backlog = 16, and
    more while 50 ordinary echo round trips from Linux go through on SYN
    cookies."""
    with Gateway(extra=FLOOD_CONF) as gw:
        raw = packet_socket(gw)
        raw.setsockopt(socket.SOL_SOCKET, 32, 8 << 20)
        eth_dst, eth_src = mac_bytes(PORTER_MAC), tap_mac(gw)
        rnd = random.Random(4987)
        st0 = gw.status()
        ev0, dr0, pd0 = events(gw), drops(gw), st0["ports"][0]["drops"]
        tapdrop0 = tap_tx_dropped(gw)
        t0 = time.monotonic()
        frames = flood_frames(eth_dst, eth_src, 2000, rnd)
        for i in range(0, len(frames), 250):
            for f in frames[i:i + 250]:
                raw.send(f)
            # paced by porter's reading, so the kernel's tap queue does not overflow
            wait_for(lambda: gw.status()["ports"][0]["tcp_steered"] - st0["ports"][0]["tcp_steered"] +
                     tap_tx_dropped(gw) - tapdrop0 >= i + 250, 10, "porter to read the SYNs")

        def took():
            st = gw.status()
            n = tcp_sum(st, "events", "syncookies_sent") + sum(s["tcp"]["half_open"] for s in st["shards"])
            return st if n >= 1900 else None
        try:
            st = wait_for(took, 10, "porter to answer the flood")
        except AssertionError:
            st = gw.status()
            raise AssertionError("of 2000 SYNs: the tap dropped %d, porter steered %d to shards; cookies sent %d, "
                                 "half-open %s; shard drops %s, ring_full %s, tcp drops %s, port drops %s" % (
                                     tap_tx_dropped(gw) - tapdrop0,
                                     st["ports"][0]["tcp_steered"] - st0["ports"][0]["tcp_steered"],
                                     tcp_sum(st, "events", "syncookies_sent"),
                                     [s["tcp"]["half_open"] for s in st["shards"]],
                                     [s["drops"] for s in st["shards"]], [s["ring_full"] for s in st["shards"]],
                                     delta(drops(gw), dr0), delta(st["ports"][0]["drops"], pd0)))
        FIGURES["synflood_first_2000_sent_s"] = round(time.monotonic() - t0, 3)
        half = [s["tcp"]["half_open"] for s in st["shards"]]
        assert all(h == 16 for h in half), "half-open per shard %s" % half
        stop = threading.Event()
        sent = [0]

        def keep_flooding():   # the flood goes on during the connects
            frames = flood_frames(eth_dst, eth_src, 500, random.Random(6528))
            while not stop.is_set():
                for f in frames[:100]:
                    raw.send(f)
                sent[0] += 100
                frames = frames[100:] + frames[:100]
                stop.wait(0.02)
        th = threading.Thread(target=keep_flooding, daemon=True)
        th.start()
        times = []
        try:
            for i in range(50):
                c0 = time.monotonic()
                s = connect(gw, ECHO, timeout=5)
                try:
                    roundtrip(s, b"round trip %d under a SYN flood" % i)
                    s.shutdown(socket.SHUT_WR)
                    assert recv_exact_eof(s, time.monotonic() + 5) == b""
                finally:
                    s.close()
                times.append(time.monotonic() - c0)
                half = [x["tcp"]["half_open"] for x in gw.status()["shards"]]
                assert max(half) <= 16, "half-open per shard %s" % half
        finally:
            stop.set()
            th.join(5)
        d = delta(events(gw), ev0)
        dr = delta(drops(gw), dr0)
        pd = delta(gw.status()["ports"][0]["drops"], pd0)
        times.sort()
        FIGURES["synflood"] = {"spoofed_syns": 2000 + sent[0], "events": d, "tcp_drops": dr, "port_drops": pd,
                               "echo_roundtrip_ms_p50_max": [round(times[25] * 1e3, 2),
                                                             round(times[-1] * 1e3, 2)]}
        print("    synflood: %s" % json.dumps(FIGURES["synflood"]), flush=True)
        assert d.get("syncookies_sent", 0) > 0, d
        assert d.get("syncookies_ok", 0) > 0, d
        assert d.get("syncookies_ok", 0) >= 25, "only %d of 50 connects went through cookies" % d["syncookies_ok"]
        raw.close()
        # the spoofed half-open streams give up after syn_retries = 2 (1+2+4 s)
        wait_streams_zero(gw, 20, "half-open streams of the flood freed")


@test
def retransmission_covering_out_of_order_data(_shared):
    """The peer's retransmission fills a hole and covers a queued out-of-order
    segment whole (Linux does this when it re-segments, e.g. after a partial
    zero-window probe): the covered segment is freed, the segments queued
    behind it must stay, and every byte is echoed once, in order. 50 times on
    one echo stream from a raw peer; then porter's buffers in use are back to
    what they were (nothing freed twice, nothing leaked). On its own gateway:
    buffers freed twice would spoil the shared one for the tests after it."""
    with Gateway(extra=SHARED_CONF) as gw:
        _retransmission_covering_out_of_order_data(gw)


def _retransmission_covering_out_of_order_data(gw):
    def idle_in_use():
        return gw.status()["mempool"]["in_use"]
    base = wait_for(lambda: (lambda a, b: a if a == b else None)(idle_in_use(), idle_in_use()), 5,
                    "a steady count of buffers in use")
    peer = RawPeer(gw)
    echoed = bytearray()
    sent = bytearray()
    try:
        peer.connect(ECHO)

        def collect(want, timeout=3):
            deadline = time.monotonic() + timeout
            while len(echoed) < want and time.monotonic() < deadline:
                progress = False
                for p in peer.poll(0.05):
                    if p["len"] and p["seq"] == peer.rcv_nxt:
                        echoed.extend(p["payload"])
                        peer.rcv_nxt = (peer.rcv_nxt + p["len"]) & 0xffffffff
                        peer.ts_recent = p["tsval"] or peer.ts_recent
                        progress = True
                if progress:
                    peer.send(TH_ACK)
            return len(echoed)
        rnd = random.Random(793)
        for i in range(50):
            b = bytes(rnd.getrandbits(8) for _ in range(2004))
            x = peer.snd_nxt
            peer.send(TH_ACK | TH_PSH, seq=x + 4, payload=b[4:1004])        # out of order
            peer.send(TH_ACK | TH_PSH, seq=x + 1004, payload=b[1004:2004])  # out of order, behind it
            peer.send(TH_ACK | TH_PSH, seq=x, payload=b[0:1004])            # fills the hole, covers the first
            peer.snd_nxt = (x + 2004) & 0xffffffff
            sent += b
            n = collect(len(sent))
            acked = (peer.porter_frames[-1]["ack"] - peer.iss - 1) & 0xffffffff
            if echoed != sent[:n]:
                j = next(k for k in range(n) if echoed[k] != sent[k])
                raise AssertionError("round %d: porter acknowledged %d bytes and echoed %d, which differ from "
                                     "what was sent from byte %d on (round %d starts at byte %d)" % (
                                         i, acked, n, j, i, len(sent) - 2004))
            assert n >= len(sent), "round %d: %d of %d bytes echoed (porter acknowledged %d)" % (
                i, n, len(sent), acked)
        # a clean close: FIN, porter echoes its FIN back
        peer.send(TH_ACK | TH_FIN)
        peer.snd_nxt = (peer.snd_nxt + 1) & 0xffffffff
        fin = wait_for(lambda: [p for p in peer.poll(0.05) if p["flags"] & TH_FIN], 5, "porter's FIN")
        peer.rcv_nxt = (fin[0]["seq"] + fin[0]["len"] + 1) & 0xffffffff
        peer.send(TH_ACK)
        peer.rcv_nxt = None   # closed: no RST at the end
    finally:
        peer.close()
    wait_streams_zero(gw, 5)
    try:
        wait_for(lambda: idle_in_use() == base, 5, "buffers in use back to %d" % base)
    except AssertionError:
        raise AssertionError("porter's buffers in use: %d before, %d after 50 retransmissions covering a "
                             "queued out-of-order segment (echo intact: %s)" % (base, idle_in_use(),
                                                                                   echoed == sent))


@test
def streams_flagged_for_a_tiny_mss_and_a_held_zero_window(gw):
    """Per-stream security metrics: a client that announces MSS 100 and stops reading the
    source service (its window closes and stays closed) is flagged tiny_mss at once and
    zero_window once the window has been zero for 10 s; porterctl streams filters
    (--peer, --state, --flagged) and sorts (--sort zero_window); /metrics counts both.
    A well-behaved stream beside it is not flagged."""
    with in_netns(gw.netns):
        bad = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        good = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        bad.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 100)
        bad.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        bad.settimeout(10)
        bad.connect((PORTER_IP, SRC_INF))   # a source that never ends; this client never reads
        good.settimeout(10)
        good.connect((PORTER_IP, ECHO))
        good.sendall(b"x")
        assert good.recv(1) == b"x"
        bport = bad.getsockname()[1]

        def mine(flagged_only=False, *extra):
            args = ["--json", "streams", "--peer", PEER_IP] + (["--flagged"] if flagged_only else []) + list(extra)
            return [x for x in json.loads(gw.ctl(*args).stdout)["streams"]]
        got = wait_for(lambda: [x for x in mine(True) if x["remote"].endswith(":%d" % bport)], 5,
                       "the tiny-MSS stream among the flagged ones")
        assert got[0]["peer_mss"] == 100 and "tiny_mss" in got[0]["flags"], got
        assert not any(x["remote"].endswith(":%d" % good.getsockname()[1]) for x in mine(True)), mine(True)
        # the window closes (4 KiB receive buffer, never read) and stays closed
        got = wait_for(lambda: [x for x in mine(True, "--sort", "zero_window", "--limit", "1")
                                if "zero_window" in x["flags"]], 20, "the zero window held 10 s to be flagged")
        assert got[0]["remote"].endswith(":%d" % bport) and got[0]["zero_window_ms"] >= 10000, got
        est = mine(False, "--state", "ESTABLISHED")
        assert len(est) >= 2 and all(x["state"] == "ESTABLISHED" for x in est), est
        text = gw.ctl("streams", "--flagged").stdout
        assert "tiny_mss" in text and "zero_window" in text, text
        bad_sort = gw.ctl("streams", "--sort", "colour", check=False)
        assert bad_sort.returncode == 1 and "sort by" in bad_sort.stderr, bad_sort.stderr
    finally:
        bad.close()
        good.close()


def main():
    return run_suite(TESTS, FIGURES, "integration-figures-tcp.json", SHARED_CONF)


if __name__ == "__main__":
    sys.exit(main())
