"""A sniffer on a gateway's tap for the integration suites (frames parsed by
tcpframe.parse_tcp)."""
from tcpframe import TH_RST, packet_socket, parse_tcp


class Sniffer:
    """Every IPv4/TCP frame on the tap (both directions) while it is open."""

    def __init__(self, gw):
        self.s = packet_socket(gw, 0x0003, rcvbuf=32 << 20)   # ETH_P_ALL: outgoing too
        self.s.setblocking(False)
        self.frames = []

    def drain(self):
        while True:
            try:
                f, addr = self.s.recvfrom(65536)
            except BlockingIOError:
                return self.frames
            p = parse_tcp(f)
            if p is not None:
                self.frames.append(p)

    def close(self):
        self.drain()
        self.s.close()

    def rsts(self, port=None):
        return [f for f in self.drain() if f["flags"] & TH_RST and
                (port is None or port in (f["sport"], f["dport"]))]
