"""Raw IPv4/TCP frames for the integration suites and benches: AF_PACKET
sockets on a gateway's tap, a segment builder (with Linux's SYN options and
the timestamp option) and a parser of what is seen on the wire.

The flag values are RFC 9293's; the IPv4 header and checksum are nsclient's.
"""
import socket
import struct

from harness import PORTER_MAC, in_netns
from nsclient import csum, ip_hdr

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def packet_socket(gw, proto=0, rcvbuf=None):
    """AF_PACKET socket on the tap; protocol 0 receives nothing (for sending)."""
    with in_netns(gw.netns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)   # SO_RCVBUFFORCE
    s.bind((gw.iface, proto))
    return s


def tcp_packet(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", payload=b""):
    while len(opts) % 4:
        opts += b"\x00"
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      ((20 + len(opts)) // 4) << 4, flags, win, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    c = csum(pseudo + hdr + payload)
    hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    return ip_hdr(6, len(hdr) + len(payload), src=src, dst=dst) + hdr + payload


def syn_options(tsval, mss=1460, wscale=7):
    # Linux's order: MSS, SACK-permitted, timestamps, NOP, window scale
    return (struct.pack("!BBH", 2, 4, mss) + b"\x04\x02" +
            struct.pack("!BBII", 8, 10, tsval & 0xffffffff, 0) + b"\x01" + struct.pack("!BBB", 3, 3, wscale))


def ts_option(tsval, tsecr):
    return b"\x01\x01" + struct.pack("!BBII", 8, 10, tsval & 0xffffffff, tsecr & 0xffffffff)


def mac_bytes(m):
    return bytes.fromhex(m.replace(":", ""))


def parse_tcp(frame):
    """-> dict for an IPv4/TCP frame, else None."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0f) * 4
    t = 14 + ihl
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", frame[t:t + 16])
    doff = (off >> 4) * 4
    tot = struct.unpack("!H", frame[16:18])[0]
    opts = frame[t + 20:t + doff]
    tsval = tsecr = None
    i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if k == 8 and opts[i + 1] == 10:
            tsval, tsecr = struct.unpack("!II", opts[i + 2:i + 10])
        i += opts[i + 1]
    return {"src": socket.inet_ntoa(frame[26:30]), "dst": socket.inet_ntoa(frame[30:34]),
            "sport": sport, "dport": dport, "seq": seq, "ack": ack, "flags": flags, "win": win,
            "len": tot - ihl - doff, "tsval": tsval, "tsecr": tsecr, "ecn": frame[15] & 3,
            "from_porter": frame[6:12] == mac_bytes(PORTER_MAC)}
