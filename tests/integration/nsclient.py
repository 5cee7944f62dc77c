"""Client side of the integration tests; runs inside the test's namespace.

  nsclient.py connects N FIRST_PORT       N connects from source ports FIRST_PORT..
  nsclient.py loop SECONDS FIRST_PORT     connect repeatedly (bounded by SECONDS)
  nsclient.py raw IFACE DSTMAC KIND...    send crafted frames from the kernel side

Prints one JSON object on stdout.
"""
import errno
import json
import socket
import struct
import sys
import time

PORTER = ("10.99.0.2", 80)
PEER = "10.99.0.1"


def connect_once(sport, timeout=3.0):
    """Return ('refused'|'timeout'|'other:...', seconds)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # no TIME_WAIT or retries left behind: RST ends it at once
    s.settimeout(timeout)
    t0 = time.monotonic()
    try:
        s.bind((PEER, sport))
        s.connect(PORTER)
        res = "other:connected"
    except ConnectionRefusedError:
        res = "refused"
    except socket.timeout:
        res = "timeout"
    except OSError as e:
        res = "other:%s" % errno.errorcode.get(e.errno, e.errno)
    finally:
        s.close()
    return res, time.monotonic() - t0


def cmd_connects(n, first):
    out = {"refused": 0, "timeout": 0, "other": [], "ports": [], "max_s": 0.0, "times": []}
    for i in range(n):
        sport = first + i
        res, dt = connect_once(sport)
        out["times"].append(dt)
        out["max_s"] = max(out["max_s"], dt)
        if res == "refused":
            out["refused"] += 1
            out["ports"].append(sport)
        elif res == "timeout":
            out["timeout"] += 1
        else:
            out["other"].append([sport, res])
    return out


def cmd_loop(seconds, first):
    out = {"refused": 0, "timeout": 0, "other": [], "attempts": 0}
    deadline = time.monotonic() + seconds
    sport = first
    while time.monotonic() < deadline:
        res, _ = connect_once(sport, timeout=4.0)
        out["attempts"] += 1
        if res == "refused":
            out["refused"] += 1
        elif res == "timeout":
            out["timeout"] += 1
            out.setdefault("timeout_ports", []).append([sport, round(time.monotonic(), 3)])
        else:
            out["other"].append([sport, res])
        sport = first + (sport - first + 1) % 20000
    return out


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip_hdr(proto, payload_len, src=PEER, dst=PORTER[0], flags_frag=0x4000, ihl=5, ttl=64,
           good_csum=True, total=None, version=4):
    total = 20 + payload_len if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, total, 1, flags_frag, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    c = csum(h)
    if not good_csum:
        c ^= 0x5555
    return h[:10] + struct.pack("!H", c) + h[12:]


def frames(kind, dst_mac, src_mac):
    eth = dst_mac + src_mac
    udp = struct.pack("!HHHH", 1234, 53, 8, 0)
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    if kind == "runt":
        return eth[:10]
    if kind == "ethertype":
        return eth + b"\x86\xdd" + b"\0" * 46
    if kind == "ip_csum":
        return eth + b"\x08\x00" + ip_hdr(6, 20, good_csum=False) + tcp
    if kind == "ip_frag":
        return eth + b"\x08\x00" + ip_hdr(6, 20, flags_frag=0x2000) + tcp
    if kind == "ip_len":
        return eth + b"\x08\x00" + ip_hdr(6, 20, total=400) + tcp
    if kind == "ip_ihl":
        return eth + b"\x08\x00" + ip_hdr(6, 20, ihl=4) + tcp
    if kind == "ip_version":
        return eth + b"\x08\x00" + ip_hdr(6, 20, version=6) + tcp
    if kind == "ip_proto":
        return eth + b"\x08\x00" + ip_hdr(17, 8) + udp + b"\0" * 18
    if kind == "ip_not_ours":
        return eth + b"\x08\x00" + ip_hdr(6, 20, dst="10.99.0.77") + tcp
    if kind == "tcp_short":
        return eth + b"\x08\x00" + ip_hdr(6, 8) + tcp[:8] + b"\0" * 18
    if kind == "tcp_csum":   # reaches the worker, which must drop it
        return eth + b"\x08\x00" + ip_hdr(6, 20) + tcp
    if kind.startswith("synfrom_"):   # a good SYN from another address of the subnet
        src = kind[len("synfrom_"):]
        pseudo = socket.inet_aton(src) + socket.inet_aton(PORTER[0]) + struct.pack("!BBH", 0, 6, 20)
        c = csum(pseudo + tcp)
        good = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        return eth + b"\x08\x00" + ip_hdr(6, 20, src=src) + good
    if kind == "not_our_mac":
        return b"\x02\x11\x22\x33\x44\x55" + src_mac + b"\x08\x00" + ip_hdr(6, 20) + tcp
    raise ValueError(kind)


def cmd_raw(iface, dst_mac, kinds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src_mac = s.getsockname()[4]
    dmac = bytes.fromhex(dst_mac.replace(":", ""))
    sent = {}
    for spec in kinds:
        kind, _, count = spec.partition("=")
        count = int(count or 1)
        for _ in range(count):
            s.send(frames(kind, dmac, src_mac))
        sent[kind] = count
    return {"sent": sent}


def main():
    cmd = sys.argv[1]
    if cmd == "connects":
        out = cmd_connects(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "loop":
        out = cmd_loop(float(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "raw":
        out = cmd_raw(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
