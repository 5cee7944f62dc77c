"""A raw HTTP/1.1 client for the integration suites: one connection to porter
(through the gateway's namespace, harness.connect) with a byte buffer and a
response parser strict enough to see what porter put on the wire (status line,
header order and repeats, interim 1xx responses, chunked framing), which
http.client and curl would smooth over."""
import re
import socket

from harness import connect


class Resp:
    def __init__(self, version, status, reason, headers, body, interim):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body, self.interim = headers, body, interim

    def get(self, name, default=None):
        v = [x for k, x in self.headers if k.lower() == name.lower()]
        return ", ".join(v) if v else default

    def tokens(self, name):
        return {t.strip().lower() for t in (self.get(name) or "").split(",") if t.strip()}

    def __repr__(self):
        return "<%s %d %s, headers %r, %d body bytes: %r>" % (
            self.version, self.status, self.reason, self.headers, len(self.body), self.body[:200])


class Conn:
    """One client connection to porter with a byte buffer and an HTTP/1.1
    response parser (Content-Length, chunked, close-delimited; no body for
    HEAD, 1xx, 204, 304)."""

    def __init__(self, gw, port=80, timeout=10.0):
        self.s = connect(gw, port, timeout)
        self.buf = bytearray()

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        b = self.s.recv(1 << 20)
        if not b:
            raise EOFError("connection closed by porter (%d bytes unparsed: %r)" % (len(self.buf),
                                                                                    bytes(self.buf[:200])))
        self.buf += b

    def read_until(self, sep, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise AssertionError("no %r within %d bytes" % (sep, limit))
            self._fill()

    def read_n(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_to_eof(self):
        while True:
            try:
                self._fill()
            except EOFError:
                break
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def response(self, method="GET"):
        interim = []
        while True:
            head = self.read_until(b"\r\n\r\n").decode("latin-1")
            lines = head.split("\r\n")
            m = re.match(r"(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
            assert m, "bad status line %r (head %r)" % (lines[0], head)
            version, status, reason = m.group(1), int(m.group(2)), m.group(3) or ""
            headers = []
            for ln in lines[1:]:
                if not ln:
                    continue
                k, _, v = ln.partition(":")
                headers.append((k, v.strip()))
            r = Resp(version, status, reason, headers, b"", interim)
            if 100 <= status < 200 and status != 101:
                interim.append(r)
                continue
            break
        if method == "HEAD" or status in (101, 204, 304):
            return r
        if "chunked" in r.tokens("transfer-encoding"):
            body = bytearray()
            while True:
                line = self.read_until(b"\r\n")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.read_until(b"\r\n") != b"\r\n":
                        pass
                    break
                body += self.read_n(size)
                assert self.read_n(2) == b"\r\n", "no CRLF after a chunk"
            r.body = bytes(body)
        elif r.get("content-length") is not None:
            r.body = self.read_n(int(r.get("content-length")))
        else:
            r.body = self.read_to_eof()
        return r

    def request(self, method, path, host="test", headers=(), body=None, version="HTTP/1.1"):
        h = ["%s %s %s" % (method, path, version), "Host: " + host] + ["%s: %s" % kv for kv in headers]
        if body is not None:
            h.append("Content-Length: %d" % len(body))
        self.send(("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + (body or b""))
        return self.response(method)

    def closed_by_peer(self, timeout=5.0):
        """True if porter closes the connection (EOF or RST) within TIMEOUT with
        no more bytes; raises if bytes arrive."""
        if self.buf:
            raise AssertionError("unexpected bytes after the response: %r" % bytes(self.buf[:200]))
        self.s.settimeout(timeout)
        try:
            b = self.s.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        if b:
            raise AssertionError("unexpected bytes after the response: %r" % b[:200])
        return True


def one_request(gw, method, path, host="test", headers=(), body=None):
    c = Conn(gw)
    try:
        return c.request(method, path, host, headers, body)
    finally:
        c.close()
