#!/usr/bin/env python3
"""Backends for the proxy integration suite (stdlib only). Run inside the
gateway's namespace; each prints "ready" on stdout once it listens.

  backends.py http PORT [options]     HTTP/1.1 server (keep-alive, threads)
      --bind ADDR          address to listen on (default 10.99.0.1)
      --name NAME          sent back as "X-Backend: NAME" on every response
      --log FILE           every request line received is appended to FILE
      --health-fail FILE   GET /health answers 503 while FILE exists, else 200
      --idle-close-ms K    close a keep-alive connection idle for K ms
      --crlf-only          request lines, field lines and chunk lines end only at
                           CRLF: a bare LF is part of the line (a strict or naive
                           server, the other side of a request-smuggling pair)
      --raw DIR            every byte received is written to DIR/conn-NNNNNN.bin,
                           one file per connection (in accept order)
  backends.py tcpsha PORT [--bind ADDR]
      reads to EOF, answers "<sha256 hex> <length>\\n", closes
  backends.py tcpsource PORT [--bind ADDR]
      reads one line "N\\n", sends N bytes of pattern(0, N), closes
  backends.py tcphalf PORT --log FILE [--bind ADDR]
      a 4 KiB receive buffer; sends "hello\\n" and shuts its side down at once, waits
      until FILE.go exists, then reads to EOF and appends "<sha256 hex> <length>" to FILE
      (an upstream that finishes first and reads late: a tunnel's other direction)

HTTP resources (a leading /m/MARKER is ignored: it only marks the request in logs):
  GET|HEAD /size/N      N bytes of pattern(0, N), Content-Length
  GET /chunked/N        the same bytes, chunked (chunk sizes vary)
  GET /chunked-ext/N    the same bytes, chunked with upper-case hex sizes with leading
                        zeros, chunk extensions and a trailer section (all valid)
  GET /chunked-lf/N     the same bytes, chunked with chunk lines ended by a bare LF
  GET /close/N          the same bytes, no Content-Length, Connection: close
  GET /slow/MS          sleeps MS ms, then "slept MS"
  GET /health           200 "ok" or 503 "failing" (see --health-fail)
  GET /name             the backend's name
  GET /headers          JSON {"backend", "request_line", "headers": [[name, value], ...]}
  POST|PUT /echo        JSON {"backend", "sha256", "length", "chunked",
                        "expect_continue" (a 100 Continue was sent), "content_length"}
  GET /nocontent        204
  GET /notmodified      304 (with ETag and the Content-Length of the representation)
  GET /ws (Upgrade: websocket)   RFC 6455 handshake, then echoes frames
  GET /early-hints      103 Early Hints, then 200 "hinted"
  GET /upgrade-always[?proto=NAME]  101 Switching Protocols (Upgrade: NAME, default
                        websocket) whatever the request asked, then echoes raw bytes;
                        "TUNNEL-END <request line>" goes to the --log file when it ends
  anything else         404
"""
import base64
import hashlib
import io
import itertools
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time

# --- the body pattern: a 65521-byte pseudo-random block repeated ------------------

_PERIOD = 65521   # prime, so the pattern does not line up with power-of-two sizes


def _make_block():
    out = bytearray()
    i = 0
    while len(out) < _PERIOD:
        out += hashlib.sha256(b"porter-pattern-%d" % i).digest()
        i += 1
    return bytes(out[:_PERIOD])


_BLOCK = _make_block()
_BIG = _BLOCK * 17   # about 1 MiB, whole periods


def pattern_chunks(off, n, chunk=1 << 20):
    """Yield the bytes off..off+n of the pattern, at most CHUNK at a time."""
    while n > 0:
        j = off % _PERIOD
        take = min(n, chunk, len(_BIG) - j)
        yield _BIG[j:j + take]
        off += take
        n -= take


def pattern(off, n):
    return b"".join(pattern_chunks(off, n))


def pattern_sha256(n):
    h = hashlib.sha256()
    for b in pattern_chunks(0, n):
        h.update(b)
    return h.hexdigest()


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B65"


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


# --- HTTP ---------------------------------------------------------------------------

class BadRequest(Exception):
    pass


class Opts:
    name = "backend"
    log = None
    health_fail = None
    idle_close_ms = 0
    crlf_only = False
    raw = None


class RecordingIO(io.RawIOBase):
    """The socket's input, every byte also appended to a file."""

    def __init__(self, sock, path):
        self.sock = sock
        self.f = open(path, "ab", buffering=0)

    def readable(self):
        return True

    def readinto(self, b):
        n = self.sock.recv_into(b)
        if n:
            self.f.write(bytes(b[:n]))
        return n

    def close(self):
        self.f.close()
        super().close()


OPTS = Opts()
_log_lock = threading.Lock()
_conn_ids = itertools.count()


def log_line(line):
    if OPTS.log:
        with _log_lock:
            with open(OPTS.log, "a") as f:
                f.write(line + "\n")


class HTTPHandler(socketserver.BaseRequestHandler):
    def setup(self):
        self.sock = self.request
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if OPTS.raw:
            with _log_lock:
                path = os.path.join(OPTS.raw, "conn-%06d.bin" % next(_conn_ids))
            self.rfile = io.BufferedReader(RecordingIO(self.sock, path), 65536)
        else:
            self.rfile = self.sock.makefile("rb", buffering=65536)

    def finish(self):
        try:
            self.rfile.close()
        except Exception:
            pass

    def readline(self, limit=65536):
        line = self.rfile.readline(limit + 1)
        while OPTS.crlf_only and line.endswith(b"\n") and not line.endswith(b"\r\n") and len(line) <= limit:
            more = self.rfile.readline(limit + 1 - len(line))   # a bare LF does not end the line
            if not more:
                break
            line += more
        if len(line) > limit:
            raise BadRequest("line too long")
        return line

    def read_exact(self, n):
        out = bytearray()
        while len(out) < n:
            b = self.rfile.read(min(n - len(out), 1 << 20))
            if not b:
                raise EOFError("EOF in body")
            out += b
        return bytes(out)

    def send(self, data):
        self.sock.sendall(data)

    def respond(self, status, reason, headers=(), body=b"", head_only=False, close=False):
        h = ["HTTP/1.1 %d %s" % (status, reason), "X-Backend: " + OPTS.name]
        names = {k.lower() for k, _ in headers}
        h += ["%s: %s" % kv for kv in headers]
        if status not in (204, 304) and status >= 200 and "content-length" not in names \
                and "transfer-encoding" not in names:
            h.append("Content-Length: %d" % len(body))
        if close:
            h.append("Connection: close")
        data = ("\r\n".join(h) + "\r\n\r\n").encode("latin-1")
        if not head_only and status not in (204, 304):
            data += body
        self.send(data)

    def handle(self):
        idle = OPTS.idle_close_ms / 1000.0 if OPTS.idle_close_ms else None
        try:
            while True:
                self.sock.settimeout(idle)
                try:
                    line = self.readline()
                except (socket.timeout, TimeoutError):
                    return        # idle keep-alive connection: close it
                self.sock.settimeout(None)
                while line in (b"\r\n", b"\n"):
                    line = self.readline()
                if not line:
                    return
                if not self.one(line):
                    return
        except (BadRequest, ValueError) as e:
            try:
                self.respond(400, "Bad Request", body=str(e).encode(), close=True)
            except OSError:
                pass
        except (OSError, EOFError):
            pass

    def one(self, line):
        """Serve one request; return whether the connection stays open."""
        reqline = line.rstrip(b"\r\n").decode("latin-1")
        log_line(reqline)
        parts = reqline.split(" ")
        if len(parts) != 3:
            raise BadRequest("bad request line")
        method, target, version = parts
        headers = []
        total = 0
        while True:
            h = self.readline()
            total += len(h)
            if total > 1 << 20:
                raise BadRequest("head too large")
            if h in (b"\r\n", b"\n"):
                break
            if not h:
                raise EOFError("EOF in head")
            k, sep, v = h.decode("latin-1").partition(":")
            if not sep:
                raise BadRequest("bad header line")
            headers.append((k, v.strip(" \t\r\n")))
        hl = {}
        for k, v in headers:
            hl.setdefault(k.lower(), []).append(v)
        conn_tokens = {t.strip().lower() for v in hl.get("connection", []) for t in v.split(",")}
        if version == "HTTP/1.1":
            keep = "close" not in conn_tokens
        else:
            keep = "keep-alive" in conn_tokens
        te = ",".join(hl.get("transfer-encoding", [])).lower()
        chunked = te.strip().endswith("chunked")
        cl = hl.get("content-length")
        has_body = chunked or (cl is not None and int(cl[0]) > 0)
        expect = any(v.lower() == "100-continue" for v in hl.get("expect", []))
        sent_continue = False
        if expect and has_body and version == "HTTP/1.1":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            sent_continue = True

        # the request body, hashed as it comes
        sha = hashlib.sha256()
        length = 0
        if chunked:
            while True:
                size_line = self.readline()
                if not size_line:
                    raise EOFError("EOF in chunk size")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.readline() not in (b"\r\n", b"\n", b""):
                        pass      # trailer fields
                    break
                b = self.read_exact(size)
                sha.update(b)
                length += size
                if self.read_exact(2) != b"\r\n":
                    raise BadRequest("no CRLF after chunk")
        elif cl is not None:
            n = int(cl[0])
            while n > 0:
                b = self.rfile.read(min(n, 1 << 20))
                if not b:
                    raise EOFError("EOF in body")
                sha.update(b)
                length += len(b)
                n -= len(b)

        path = target.split("?")[0]
        if path.startswith("/m/") and path.count("/") >= 3:
            path = "/" + path.split("/", 3)[3]    # /m/MARKER/rest: a marker for the logs
        head_only = method == "HEAD"
        close = not keep

        if path.startswith("/size/") and method in ("GET", "HEAD"):
            n = int(path[6:])
            h = ["HTTP/1.1 200 OK", "X-Backend: " + OPTS.name, "Content-Type: application/octet-stream",
                 "Content-Length: %d" % n]
            if close:
                h.append("Connection: close")
            self.send(("\r\n".join(h) + "\r\n\r\n").encode())
            if not head_only:
                for b in pattern_chunks(0, n):
                    self.send(b)
        elif path.startswith("/chunked/") and method in ("GET", "HEAD"):
            n = int(path[9:])
            h = ["HTTP/1.1 200 OK", "X-Backend: " + OPTS.name, "Transfer-Encoding: chunked"]
            if close:
                h.append("Connection: close")
            self.send(("\r\n".join(h) + "\r\n\r\n").encode())
            if not head_only:
                off = 0
                sizes = [1, 10, 100, 1000, 4096, 65536, 300000]
                i = 0
                while off < n:
                    k = min(n - off, sizes[i % len(sizes)])
                    i += 1
                    self.send(b"%x\r\n" % k + pattern(off, k) + b"\r\n")
                    off += k
                self.send(b"0\r\n\r\n")
        elif (path.startswith("/chunked-ext/") or path.startswith("/chunked-lf/")) and method == "GET":
            n = int(path.split("/")[2])
            lf = path.startswith("/chunked-lf/")
            eol = b"\n" if lf else b"\r\n"
            h = ["HTTP/1.1 200 OK", "X-Backend: " + OPTS.name, "Transfer-Encoding: chunked", "Trailer: X-Sum"]
            if close:
                h.append("Connection: close")
            self.send(("\r\n".join(h) + "\r\n\r\n").encode())
            off = 0
            i = 0
            while off < n:
                k = min(n - off, (1, 17, 300, 5000)[i % 4])
                i += 1
                size = b"%x" % k if lf else b"%08X" % k
                ext = b"" if lf else b' ; name=value;q="a \\"b\\"";c'
                self.send(size + ext + eol + pattern(off, k) + eol)
                off += k
            self.send(b"0" + eol + (b"" if lf else b"X-Sum: %d\r\n" % n) + eol)
        elif path == "/early-hints" and method == "GET":
            self.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            self.respond(200, "OK", body=b"hinted", close=close)
        elif path == "/upgrade-always":
            proto = "websocket"
            if "?proto=" in target:
                proto = target.split("?proto=", 1)[1]
            self.send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n"
                       "X-Backend: %s\r\n\r\n" % (proto, OPTS.name)).encode())
            try:
                while True:   # a raw tunnel from here on: echo
                    b = self.rfile.read1(65536)
                    if not b:
                        return False
                    self.send(b)
            finally:
                log_line("TUNNEL-END " + reqline)   # the proxy closed (or reset) its side
        elif path.startswith("/close/") and method == "GET":
            n = int(path[7:])
            self.send(("HTTP/1.1 200 OK\r\nX-Backend: %s\r\nConnection: close\r\n\r\n" % OPTS.name).encode())
            for b in pattern_chunks(0, n):
                self.send(b)
            self.sock.shutdown(socket.SHUT_WR)
            return False
        elif path.startswith("/slow/"):
            ms = int(path[6:])
            time.sleep(ms / 1000.0)
            self.respond(200, "OK", body=b"slept %d" % ms, head_only=head_only, close=close)
        elif path == "/health":
            failing = OPTS.health_fail and os.path.exists(OPTS.health_fail)
            if failing:
                self.respond(503, "Service Unavailable", body=b"failing", head_only=head_only, close=close)
            else:
                self.respond(200, "OK", body=b"ok", head_only=head_only, close=close)
        elif path == "/name":
            self.respond(200, "OK", body=OPTS.name.encode(), head_only=head_only, close=close)
        elif path == "/headers":
            body = json.dumps({"backend": OPTS.name, "request_line": reqline,
                               "headers": [[k, v] for k, v in headers]}).encode()
            self.respond(200, "OK", [("Content-Type", "application/json")], body,
                         head_only=head_only, close=close)
        elif path == "/echo" and method in ("POST", "PUT"):
            body = json.dumps({"backend": OPTS.name, "sha256": sha.hexdigest(), "length": length,
                               "chunked": chunked, "expect_continue": sent_continue,
                               "content_length": cl[0] if cl else None}).encode()
            self.respond(200, "OK", [("Content-Type", "application/json")], body, close=close)
        elif path == "/nocontent":
            self.respond(204, "No Content", close=close)
        elif path == "/notmodified":
            self.respond(304, "Not Modified", [("ETag", '"v1"'), ("Content-Length", "1234")], close=close)
        elif path == "/ws" and "websocket" in ",".join(hl.get("upgrade", [])).lower():
            key = hl.get("sec-websocket-key", [""])[0]
            self.send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: %s\r\nX-Backend: %s\r\n\r\n" % (ws_accept(key), OPTS.name)).encode())
            self.websocket()
            return False
        else:
            self.respond(404, "Not Found", body=b"no such resource", head_only=head_only, close=close)
        return not close

    def websocket(self):
        """Echo every data frame (client frames must be masked); answer ping with
        pong and close with close."""
        while True:
            hdr = self.read_exact(2)
            fin_op, ml = hdr[0], hdr[1]
            op = fin_op & 0x0f
            masked = ml & 0x80
            n = ml & 0x7f
            if n == 126:
                n = struct.unpack("!H", self.read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.read_exact(8))[0]
            if not masked:
                self.send(ws_frame(8, struct.pack("!H", 1002)))
                return
            mask = self.read_exact(4)
            data = bytearray(self.read_exact(n))
            for i in range(n):
                data[i] ^= mask[i & 3]
            if op == 8:
                self.send(ws_frame(8, bytes(data[:2])))
                return
            if op == 9:
                self.send(ws_frame(10, bytes(data)))
                continue
            self.send(ws_frame(op, bytes(data), fin=bool(fin_op & 0x80)))


def ws_frame(op, data, fin=True, mask=None):
    b0 = (0x80 if fin else 0) | op
    n = len(data)
    mbit = 0x80 if mask else 0
    if n < 126:
        h = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        h = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        data = bytes(c ^ mask[i & 3] for i, c in enumerate(data))
        return h + mask + data
    return h + data


# --- raw TCP -------------------------------------------------------------------------

class TCPShaHandler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        h = hashlib.sha256()
        n = 0
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
        s.sendall(b"%s %d\n" % (h.hexdigest().encode(), n))
        s.shutdown(socket.SHUT_WR)


class TCPSourceHandler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        f = s.makefile("rb")
        line = f.readline(100)
        n = int(line.strip() or 0)
        for b in pattern_chunks(0, n):
            s.sendall(b)
        s.shutdown(socket.SHUT_WR)
        # wait for the client to close, so nothing is reset
        s.settimeout(30)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass


class TCPHalfHandler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.sendall(b"hello\n")
        s.shutdown(socket.SHUT_WR)
        while not os.path.exists(OPTS.log + ".go"):
            time.sleep(0.01)   # the test says when: the client has finished sending by then
        h = hashlib.sha256()
        n = 0
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
        with open(OPTS.log, "a") as f:
            f.write("%s %d\n" % (h.hexdigest(), n))


class HalfServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # inherited by accepted sockets
        super().server_bind()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024


def main(argv):
    mode, port = argv[1], int(argv[2])
    bind = "10.99.0.1"
    i = 3
    while i < len(argv):
        a = argv[i]
        if a == "--crlf-only":
            OPTS.crlf_only = True
            i += 1
            continue
        v = argv[i + 1]
        if a == "--bind":
            bind = v
        elif a == "--name":
            OPTS.name = v
        elif a == "--log":
            OPTS.log = v
        elif a == "--health-fail":
            OPTS.health_fail = v
        elif a == "--idle-close-ms":
            OPTS.idle_close_ms = int(v)
        elif a == "--raw":
            OPTS.raw = v
            os.makedirs(v, exist_ok=True)
        else:
            raise SystemExit("unknown option " + a)
        i += 2
    handler = {"http": HTTPHandler, "tcpsha": TCPShaHandler, "tcpsource": TCPSourceHandler,
               "tcphalf": TCPHalfHandler}[mode]
    srv = (HalfServer if mode == "tcphalf" else Server)((bind, port), handler)
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv)
