#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made seed corpus of tests/fuzz/fuzz_frames.c.

Each file is one fuzz input: a flags byte (see fuzz_frames.c: bits 0-2
prefix length index, bit 3 interface B, bit 4/5 rewrite IP/L4 checksums,
bit 6 call pkt_arp_reply_inplace on any frame)
followed by an Ethernet frame. Files are named seed-<what>; the files
libFuzzer added by -merge=1 (40 hex digit names) are left alone.

Deterministic: no randomness, no clock; running it again rewrites the same
bytes. Usage: tests/fuzz/make_corpus.py [OUTDIR]
(default: corpus/frames next to this script).
"""
import os
import struct
import sys

# Interfaces of fuzz_frames.c.
A_MAC = bytes.fromhex("020000000001")
A_IP = "10.0.0.1"
B_MAC = bytes.fromhex("001b210a0b0c")
B_IP = "192.168.1.254"
PEER_MAC = bytes.fromhex("020000000002")
PEER_IP = "10.0.0.2"
OTHER_MAC = bytes.fromhex("02000000ffee")
BCAST_MAC = b"\xff" * 6
ZERO_MAC = b"\x00" * 6

# Flag bytes (fuzz_frames.c).
P24, P16, P8, P0, P30, P31, P32, P1 = range(8)
IFC_B = 0x08
FIX_IP = 0x10
FIX_L4 = 0x20
ARP_ANY = 0x40

ETH_IPV4, ETH_ARP, ETH_IPV6, ETH_VLAN = 0x0800, 0x0806, 0x86DD, 0x8100
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def csum(data, initial=0):
    """RFC 1071 checksum to store (big-endian words, odd byte zero padded)."""
    if len(data) % 2:
        data += b"\x00"
    s = initial + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype):
    return dst + src + struct.pack("!H", etype)


def ipv4(src, dst, proto, payload, options=b"", ttl=64, ident=0x1234, frag=0x4000,
         tos=0, totlen=None, version=4, ihl=None, cksum=None):
    """IPv4 header + payload; OPTIONS must be a multiple of 4 bytes unless IHL is forced."""
    if ihl is None:
        ihl = (20 + len(options)) // 4
    if totlen is None:
        totlen = 20 + len(options) + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, tos, totlen & 0xFFFF, ident,
                      frag, ttl, proto, 0, ip4(src), ip4(dst)) + options
    if cksum is None:
        cksum = csum(hdr[: max(ihl * 4, 20)])
    hdr = hdr[:10] + struct.pack("!H", cksum) + hdr[12:]
    return hdr + payload


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", options=b"", win=65535,
        urg=0, doff=None, cksum=None, cksum_len=None):
    """TCP header + payload; checksum with the pseudo header over the whole segment."""
    if doff is None:
        doff = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      doff << 4, flags, win, 0, urg) + options
    seg = hdr + payload
    if cksum is None:
        n = len(seg) if cksum_len is None else cksum_len
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, n)
        cksum = csum(pseudo + seg[:n])
    return seg[:16] + struct.pack("!H", cksum) + seg[18:]


def icmp(typ, code, ident, seq, data=b"", cksum=None):
    msg = struct.pack("!BBHHH", typ, code, 0, ident, seq) + data
    if cksum is None:
        cksum = csum(msg)
    return msg[:2] + struct.pack("!H", cksum) + msg[4:]


def arp(op, sha, spa, tha, tpa, htype=1, ptype=ETH_IPV4, hlen=6, plen=4):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + ip4(spa) + tha + ip4(tpa)


def pad60(frame, fill=b"\x00"):
    return frame + fill * max(0, 60 - len(frame))


# Common frames.
def tcp_frame(flags, payload=b"", seq=1000, ack=0, options=b"", ip_options=b"",
              src=PEER_IP, dst=A_IP, mac_dst=A_MAC, mac_src=PEER_MAC, sport=40000, dport=80,
              frag=0x4000, **kw):
    seg = tcp(src, dst, sport, dport, seq, ack, flags, payload, options, **kw)
    return eth(mac_dst, mac_src, ETH_IPV4) + ipv4(src, dst, 6, seg, options=ip_options, frag=frag)


def icmp_frame(data=b"abcdefgh" * 7, typ=8, code=0, ident=0x4242, seq=1, ip_options=b"",
               src=PEER_IP, dst=A_IP, mac_dst=A_MAC, mac_src=PEER_MAC, frag=0x4000,
               icmp_cksum=None, **ipkw):
    msg = icmp(typ, code, ident, seq, data, cksum=icmp_cksum)
    return eth(mac_dst, mac_src, ETH_IPV4) + ipv4(src, dst, 1, msg, options=ip_options,
                                                 frag=frag, **ipkw)


def arp_frame(op=1, mac_dst=BCAST_MAC, sha=PEER_MAC, spa=PEER_IP, tha=ZERO_MAC, tpa=A_IP, **kw):
    return eth(mac_dst, sha, ETH_ARP) + arp(op, sha, spa, tha, tpa, **kw)


MSS = bytes.fromhex("020405b4")
SACK_OK_TS_WS = bytes.fromhex("0402080a0001e2400000000001030307")
RR_OPT = bytes.fromhex("07070400000000") + b"\x00"          # record route, 1 slot, EOL pad
TS_OPT = bytes.fromhex("4424050100000000") + b"\x00" * 28   # timestamp, 36 bytes
NOP4 = b"\x01\x01\x01\x00"
MAX_OPTS = b"\x01" * 39 + b"\x00"                            # IHL 15

SEEDS = {}


def seed(name, flags, frame):
    assert name not in SEEDS, name
    SEEDS[name] = bytes([flags]) + frame


# ---- ARP ------------------------------------------------------------------
seed("arp-request", P24, arp_frame())
seed("arp-request-pad60", P24, pad60(arp_frame(), b"\xaa"))
seed("arp-request-unicast", P24, arp_frame(mac_dst=A_MAC))
seed("arp-request-ifc-b", P24 | IFC_B, arp_frame(sha=OTHER_MAC, spa="192.168.1.7", tpa=B_IP))
seed("arp-request-gratuitous", P24, arp_frame(spa=A_IP, tpa=A_IP))
seed("arp-reply", P24, arp_frame(op=2, mac_dst=A_MAC, tha=A_MAC))
seed("arp-reply-pad60", P24, pad60(arp_frame(op=2, mac_dst=A_MAC, tha=A_MAC)))
seed("arp-not-ours", P24, arp_frame(tpa="10.0.0.9"))
seed("arp-other-mac", P24, arp_frame(mac_dst=OTHER_MAC))
seed("arp-op3", P24, arp_frame(op=3))
seed("arp-op0", P24, arp_frame(op=0))
seed("arp-htype6", P24, arp_frame(htype=6))
seed("arp-ptype-ipv6", P24, arp_frame(ptype=ETH_IPV6))
seed("arp-hlen8", P24, arp_frame(hlen=8))
seed("arp-plen16", P24, arp_frame(plen=16))
seed("arp-trunc-41", P24, arp_frame()[:41])
seed("arp-trunc-14", P24, arp_frame()[:14])
seed("arp-trunc-22", P24, arp_frame()[:22])
# Flag bit 6: pkt_arp_reply_inplace on frames classification rejected.
seed("arp-any-not-ours", P24 | ARP_ANY, arp_frame(tpa="10.0.0.9"))
seed("arp-any-other-mac", P24 | ARP_ANY, arp_frame(mac_dst=OTHER_MAC, tpa="10.0.0.9"))
seed("arp-any-htype6", P24 | ARP_ANY, arp_frame(htype=6))
seed("arp-any-ptype-ipv6", P24 | ARP_ANY, arp_frame(ptype=ETH_IPV6))
seed("arp-any-hlen8", P24 | ARP_ANY, arp_frame(hlen=8))
seed("arp-any-plen16", P24 | ARP_ANY, arp_frame(plen=16))
seed("arp-any-reply-not-ours", P24 | ARP_ANY, arp_frame(op=2, tpa="10.0.0.9"))
seed("arp-any-trunc-41", P24 | ARP_ANY, arp_frame()[:41])

# ---- ICMP echo ----------------------------------------------------------------
seed("icmp-echo", P24, icmp_frame())
seed("arp-any-ipv4", P24 | ARP_ANY, icmp_frame())
seed("icmp-echo-ifc-b", P24 | IFC_B, icmp_frame(src="192.168.1.7", dst=B_IP, mac_dst=B_MAC,
                                                mac_src=OTHER_MAC))
seed("icmp-echo-odd", P24, icmp_frame(data=b"odd-payload"))
seed("icmp-echo-1", P24, icmp_frame(data=b"\x01"))
seed("icmp-echo-empty", P24, icmp_frame(data=b""))
seed("icmp-echo-pad60", P24, pad60(icmp_frame(data=b"xy"), b"\x55"))
seed("icmp-echo-ff", P24, icmp_frame(data=b"\xff" * 33))
seed("icmp-echo-zero-cksum", P24, icmp_frame(data=b"\x00" * 4, ident=0xf7ff, seq=0xffff))
seed("icmp-echo-opt-rr", P24, icmp_frame(ip_options=RR_OPT))
seed("icmp-echo-opt-ts-odd", P24, icmp_frame(data=b"12345", ip_options=TS_OPT))
seed("icmp-echo-opt-max", P24, icmp_frame(ip_options=MAX_OPTS))
seed("icmp-echo-opt-max-empty", P24, icmp_frame(data=b"", ip_options=MAX_OPTS))
seed("icmp-echo-opt-nop", P24, pad60(icmp_frame(data=b"", ip_options=NOP4), b"\x99"))
seed("icmp-echo-1472", P24, icmp_frame(data=bytes(range(256)) * 5 + bytes(192)))
seed("icmp-echo-max", P24, icmp_frame(data=bytes(i * 7 & 0xFF for i in range(65535 - 60 - 8)),
                                      ip_options=MAX_OPTS))
seed("icmp-echo-tos-ttl1", P24, icmp_frame(tos=0xb8, ttl=1))
seed("icmp-echo-df0", P24, icmp_frame(frag=0))
seed("icmp-echo-reserved-flag", P24, icmp_frame(frag=0x8000))
seed("icmp-echo-code5", P24, icmp_frame(code=5))
seed("icmp-echo-bad-cksum", P24, icmp_frame(icmp_cksum=0x1234))
seed("icmp-echo-bad-ip-cksum", P24, icmp_frame(cksum=0xBEEF))
seed("icmp-echo-fix-cksums", P24 | FIX_IP | FIX_L4, icmp_frame(icmp_cksum=0, cksum=0))
seed("icmp-reply", P24, icmp_frame(typ=0))
seed("icmp-unreach", P24, icmp_frame(typ=3, code=3, data=bytes(28)))
seed("icmp-short-7", P24, eth(A_MAC, PEER_MAC, ETH_IPV4) + ipv4(PEER_IP, A_IP, 1, b"\x08\x00\xf7\xff\x00\x00\x00"))
seed("icmp-short-0", P24, eth(A_MAC, PEER_MAC, ETH_IPV4) + ipv4(PEER_IP, A_IP, 1, b""))
seed("icmp-trunc-41", P24, icmp_frame()[:41])
seed("icmp-trunc-33", P24, icmp_frame()[:33])
seed("icmp-totlen-short", P24, icmp_frame(totlen=27))
seed("icmp-totlen-long", P24, icmp_frame(totlen=20 + 8 + 56 + 1))
seed("icmp-frag-mf", P24, icmp_frame(frag=0x2000))
seed("icmp-frag-off", P24, icmp_frame(frag=0x0010))
seed("icmp-not-ours", P24, icmp_frame(dst="10.0.0.3"))
seed("icmp-bcast-mac", P24, icmp_frame(mac_dst=BCAST_MAC))
seed("icmp-src-zero", P24, icmp_frame(src="0.0.0.0"))
seed("icmp-src-loopback", P24, icmp_frame(src="127.0.0.1"))
seed("icmp-src-mcast", P24, icmp_frame(src="224.0.0.1"))
seed("icmp-src-class-e", P24, icmp_frame(src="240.0.0.1"))
seed("icmp-src-bcast", P24, icmp_frame(src="255.255.255.255"))
seed("icmp-src-dbcast-24", P24, icmp_frame(src="10.0.0.255"))
seed("icmp-src-dbcast-16", P16, icmp_frame(src="10.0.255.255"))
seed("icmp-src-dbcast-8", P8, icmp_frame(src="10.255.255.255"))
seed("icmp-src-dbcast-30", P30, icmp_frame(src="10.0.0.3"))
seed("icmp-src-31", P31, icmp_frame(src="10.0.0.0"))
seed("icmp-src-31-hi", P31, icmp_frame(src="10.0.0.1"))
seed("icmp-src-32", P32, icmp_frame(src="10.0.0.1"))
seed("icmp-src-0", P0, icmp_frame(src="1.2.3.4"))
seed("icmp-src-1", P1, icmp_frame(src="127.255.255.255"))
seed("icmp-src-dbcast-b", P24 | IFC_B, icmp_frame(src="192.168.1.255", dst=B_IP, mac_dst=B_MAC))

# ---- TCP ------------------------------------------------------------------------
seed("tcp-syn", P24, tcp_frame(SYN, options=MSS))
seed("tcp-syn-opts", P24, tcp_frame(SYN, options=MSS + SACK_OK_TS_WS))
seed("tcp-syn-data", P24, tcp_frame(SYN, b"GET / HTTP/1.0\r\n\r\n"))
seed("tcp-syn-fin", P24, tcp_frame(SYN | FIN, b"x"))
seed("tcp-syn-ifc-b", P24 | IFC_B, tcp_frame(SYN, src="192.168.1.7", dst=B_IP, mac_dst=B_MAC,
                                            mac_src=OTHER_MAC, sport=1, dport=65535))
seed("tcp-ack", P24, tcp_frame(ACK, seq=5000, ack=0xDEADBEEF))
seed("tcp-ack-data-odd", P24, tcp_frame(ACK | PSH, b"hello", seq=77, ack=88))
seed("tcp-fin", P24, tcp_frame(FIN, seq=0xFFFFFFFF))
seed("tcp-fin-ack", P24, tcp_frame(FIN | ACK, seq=10, ack=20))
seed("tcp-rst", P24, tcp_frame(RST, seq=1))
seed("tcp-rst-ack", P24, tcp_frame(RST | ACK, seq=1, ack=2))
seed("tcp-rst-bad-cksum", P24, tcp_frame(RST, cksum=0x0BAD))
seed("tcp-null", P24, tcp_frame(0, seq=0xFFFFFFF0, payload=b"\x00" * 20))
seed("tcp-xmas", P24, tcp_frame(FIN | SYN | PSH | URG | ECE | CWR, urg=1))
seed("tcp-seq-wrap", P24, tcp_frame(SYN | FIN, b"abc", seq=0xFFFFFFFE))
seed("tcp-ip-opts", P24, tcp_frame(SYN, ip_options=RR_OPT))
seed("tcp-ip-opts-max", P24, tcp_frame(ACK, b"data", ip_options=MAX_OPTS, ack=3))
seed("tcp-doff15", P24, tcp_frame(SYN, options=b"\x01" * 39 + b"\x00"))
seed("tcp-doff4", P24, tcp_frame(SYN, doff=4))
seed("tcp-doff0", P24, tcp_frame(ACK, doff=0))
seed("tcp-doff-too-big", P24, tcp_frame(SYN, doff=6))
seed("tcp-l4-19", P24, eth(A_MAC, PEER_MAC, ETH_IPV4) + ipv4(PEER_IP, A_IP, 6, tcp(PEER_IP, A_IP, 1, 2, 3, 4, SYN)[:19]))
seed("tcp-pad60", P24, pad60(tcp_frame(SYN)[:54], b"\xee"))
seed("tcp-pad-totlen", P24, tcp_frame(ACK, b"xyz") + b"trailing junk!")
seed("tcp-bad-cksum", P24, tcp_frame(SYN, cksum=0))
seed("tcp-cksum-ffff", P24, tcp_frame(ACK, cksum=0xFFFF))
seed("tcp-cksum-incl-pad", P24, tcp_frame(SYN) + b"\x01\x02")
seed("tcp-bad-ip-cksum", P24, tcp_frame(SYN, frag=0x4000)[:24] + b"\x00\x00" + tcp_frame(SYN)[26:])
seed("tcp-fix-cksums", P24 | FIX_IP | FIX_L4, tcp_frame(SYN, cksum=0)[:24] + b"\x00\x00" + tcp_frame(SYN, cksum=0)[26:])
seed("tcp-fix-l4-data", P24 | FIX_L4, tcp_frame(ACK | PSH, b"\x80" * 31, cksum=0))
seed("tcp-frag-mf", P24, tcp_frame(SYN, frag=0x2000))
seed("tcp-frag-off", P24, tcp_frame(ACK, frag=0x00B9))
seed("tcp-frag-off-rst", P24, tcp_frame(RST, frag=0x0001))
seed("tcp-not-ours", P24, tcp_frame(SYN, dst="10.0.0.7"))
seed("tcp-other-mac", P24, tcp_frame(SYN, mac_dst=OTHER_MAC))
seed("tcp-bcast-mac", P24, tcp_frame(SYN, mac_dst=BCAST_MAC))
seed("tcp-src-loopback", P24, tcp_frame(SYN, src="127.0.0.1"))
seed("tcp-src-dbcast", P24, tcp_frame(SYN, src="10.0.0.255"))
seed("tcp-src-dbcast-31", P31, tcp_frame(SYN, src="10.0.0.1"))
seed("tcp-max-1514", P24, tcp_frame(ACK, bytes(i & 0xFF for i in range(1460)), seq=1, ack=1))
seed("tcp-jumbo-9014", P24, tcp_frame(ACK | PSH, bytes((i * 13) & 0xFF for i in range(8960)), seq=9, ack=9))
for cut in (0, 1, 6, 12, 13, 14, 15, 33, 34, 35, 47, 53):
    seed("tcp-trunc-%02d" % cut, P24, tcp_frame(SYN)[:cut])

# ---- IPv4 header / Ethernet ---------------------------------------------------
def raw_ip(**kw):
    return eth(A_MAC, PEER_MAC, ETH_IPV4) + ipv4(PEER_IP, A_IP, 6, tcp(PEER_IP, A_IP, 1, 2, 3, 0, SYN), **kw)


seed("ip-version6", P24, raw_ip(version=6))
seed("ip-ihl4", P24, raw_ip(ihl=4))
seed("ip-ihl0", P24, raw_ip(ihl=0))
seed("ip-ihl15-short", P24, raw_ip(ihl=15))
seed("ip-totlen-0", P24, raw_ip(totlen=0))
seed("ip-totlen-19", P24, raw_ip(totlen=19))
seed("ip-totlen-20", P24, raw_ip(totlen=20))
seed("ip-totlen-ffff", P24, raw_ip(totlen=0xFFFF))
seed("ip-proto-udp", P24, eth(A_MAC, PEER_MAC, ETH_IPV4) + ipv4(PEER_IP, A_IP, 17, bytes.fromhex("d4310035000c0000") + b"abcd"))
seed("ip-proto-255", P24, eth(A_MAC, PEER_MAC, ETH_IPV4) + ipv4(PEER_IP, A_IP, 255, b""))
seed("eth-ipv6", P24, eth(A_MAC, PEER_MAC, ETH_IPV6) + bytes(40))
seed("eth-vlan", P24, eth(A_MAC, PEER_MAC, ETH_VLAN) + struct.pack("!HH", 5, ETH_IPV4) + tcp_frame(SYN)[14:])
seed("eth-type-0", P24, eth(A_MAC, PEER_MAC, 0) + bytes(46))
seed("eth-bcast-ipv4", P24, pad60(eth(BCAST_MAC, PEER_MAC, ETH_IPV4)))
seed("empty-frame", P24, b"")
SEEDS["empty-input"] = b""      # no flags byte at all


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "frames")
    os.makedirs(out, exist_ok=True)
    for name in sorted(SEEDS):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(SEEDS[name])
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
