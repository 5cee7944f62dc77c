"""RawPeer: a TCP peer written in Python on raw frames (tcpframe), to send
porter what Linux would not (data with a hole in it, a retransmission
covering queued out-of-order data, an ACK that acknowledges nothing)."""
import contextlib
import random
import select
import socket
import struct
import time

from harness import PORTER_IP, PORTER_MAC
from tcpframe import TH_ACK, TH_RST, TH_SYN, mac_bytes, packet_socket, parse_tcp, syn_options, tcp_packet, ts_option


class RawPeer:
    """A TCP peer written here, on an address of the subnet Linux does not own
    (it answers porter's ARP itself): it can send what Linux would not, e.g.
    data with a hole in it."""

    MAC = bytes.fromhex("020000000050")
    IP = "10.99.0.50"

    def __init__(self, gw):
        self.gw = gw
        self.s = packet_socket(gw, 0x0003, rcvbuf=16 << 20)
        self.s.setblocking(False)
        self.pmac = mac_bytes(PORTER_MAC)
        self.sport = random.randint(20000, 30000)
        self.iss = random.getrandbits(32)
        self.snd_nxt = self.iss
        self.rcv_nxt = None
        self.ts_recent = 0
        self.porter_frames = []   # (ip total length, parsed) of every frame porter sent us

    def send(self, flags, seq=None, payload=b"", opts=None, win=65535):
        tsv = int(time.monotonic() * 1000) & 0xffffffff
        pkt = tcp_packet(self.IP, PORTER_IP, self.sport, self.dport, self.snd_nxt if seq is None else seq,
                         self.rcv_nxt or 0, flags, win=win,
                         opts=ts_option(tsv, self.ts_recent) if opts is None else opts, payload=payload)
        self.s.send(self.pmac + self.MAC + b"\x08\x00" + pkt)

    def poll(self, timeout):
        """Frames porter sent us (answering its ARP on the way)."""
        out = []
        r, _, _ = select.select([self.s], [], [], timeout)
        while r:
            try:
                f, addr = self.s.recvfrom(65536)
            except BlockingIOError:
                break
            if addr[2] == socket.PACKET_OUTGOING or f[6:12] != self.pmac:
                continue
            if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01" and f[38:42] == socket.inet_aton(self.IP):
                self.s.send(self.pmac + self.MAC + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x02" +
                            self.MAC + socket.inet_aton(self.IP) + f[22:28] + f[28:32])
                continue
            p = parse_tcp(f)
            if p and p["dst"] == self.IP and p["dport"] == self.sport:
                p["ip_len"] = struct.unpack("!H", f[16:18])[0]
                p["payload"] = f[14 + (f[14] & 0xf) * 4 + ((f[14 + (f[14] & 0xf) * 4 + 12] >> 4) * 4):
                                 14 + p["ip_len"]]
                self.porter_frames.append(p)
                out.append(p)
        return out

    def connect(self, dport, timeout=5):
        self.dport = dport
        deadline = time.monotonic() + timeout
        self.send(TH_SYN, opts=syn_options(int(time.monotonic() * 1000)), win=65535)
        self.snd_nxt += 1
        while time.monotonic() < deadline:
            for p in self.poll(0.2):
                if p["flags"] & (TH_SYN | TH_ACK) == TH_SYN | TH_ACK:
                    self.rcv_nxt = (p["seq"] + 1) & 0xffffffff
                    self.ts_recent = p["tsval"] or 0
                    self.send(TH_ACK, win=65535)
                    return p
        raise AssertionError("no SYN-ACK from porter to the raw peer")

    def close(self):
        with contextlib.suppress(OSError):
            if self.rcv_nxt is not None:
                self.send(TH_RST | TH_ACK)
        self.s.close()
