#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made seed corpus of tests/fuzz/fuzz_proxy.c.

Each file is one fuzz input (layout: the header comment of fuzz_proxy.c):
a mode byte, the client's stream, the servers' stream, then the schedule
(one byte per step). The seeds pair client streams (valid requests,
pipelines, and the shapes of request smuggling: Content-Length with
Transfer-Encoding, bad chunk lines, bare LF, obs-fold, upgrades) with
server streams (ordinary, chunked, interim, 101, malformed) under a few
schedules: everything at once, byte by byte, byte by byte with a worker
replacement after every step, cut at a given position, with the clock
running out the timeouts. Files are named seed-<what>; files libFuzzer
adds by -merge=1 (40 hex digit names) are left alone.

Deterministic: running it again rewrites the same bytes.
Usage: tests/fuzz/make_proxy_corpus.py [OUTDIR]
(default: corpus/proxy next to this script).
"""
import os
import struct
import sys

# mode bits
TCP, REATTACH, REFUSE, CLIENT_RST, UP_RST, MSS_ONLY, CONF_B, HALF_CLOSE = (1 << i for i in range(8))


def step(op, arg=0):
    return bytes([op | arg << 3])


def client(n):
    """The client's next n bytes (n in 1..24, or a multiple of 64 up to 512)."""
    return step(0, n - 1) if n <= 24 else step(0, 23 + n // 64)


def server(n):
    return step(3, n - 1) if n <= 24 else step(3, 23 + n // 64)


def advance(ms):
    return step(5, ms - 1) if ms <= 16 else step(5, 15 + min(16, ms // 500))


REATTACH_NOW = step(6)
CLIENT_FIN = step(7, 0)
SERVER_FIN = step(7, 1)
SERVER_RST = step(7, 2)
TOGGLE_REFUSE = step(7, 3)


def seed(mode, cs, us, sched=b""):
    cs = cs.encode("latin-1") if isinstance(cs, str) else cs
    us = us.encode("latin-1") if isinstance(us, str) else us
    return bytes([mode]) + struct.pack("<H", len(cs)) + cs + struct.pack("<H", len(us)) + us + sched


H = "Host: example.com\r\n"

REQUESTS = {
    "get": "GET /a HTTP/1.1\r\n" + H + "\r\n",
    "get-1.0": "GET /a HTTP/1.0\r\n\r\n",
    "head": "HEAD /a HTTP/1.1\r\n" + H + "\r\n",
    "get-lf": "GET /a HTTP/1.1\nHost: a\n\n",
    "absolute": "GET http://example.com:8080/a?x HTTP/1.1\r\nHost: other\r\n\r\n",
    "post-cl": "POST /a HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhello",
    "post-chunked": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                    "5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n",
    "expect": "POST /a HTTP/1.1\r\n" + H + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "pipeline": "GET /a HTTP/1.1\r\n" + H + "\r\nGET /b HTTP/1.1\r\n" + H + "\r\n",
    "pipeline-post": "POST /a HTTP/1.1\r\n" + H + "Content-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n" + H + "\r\n",
    "pipeline-chunked": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                        "GET /b HTTP/1.1\r\n" + H + "\r\n",
    "upgrade": "GET /ws HTTP/1.1\r\n" + H + "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi",
    "connect": "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    # h2c is never passed on; Max-Forwards 0 is answered by porter, other values go on one less
    "upgrade-h2c": "GET / HTTP/1.1\r\n" + H + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                   "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "upgrade-h2c-ws": "GET /ws HTTP/1.1\r\n" + H + "Upgrade: h2c, websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi",
    "options-mf0": "OPTIONS * HTTP/1.1\r\n" + H + "Max-Forwards: 0\r\n\r\nGET /b HTTP/1.1\r\n" + H + "\r\n",
    "trace-mf1": "TRACE /a HTTP/1.1\r\n" + H + "Max-Forwards: 1\r\nMax-Forwards: 9\r\n\r\n",
    # smuggling shapes
    "cl-te": "POST /a HTTP/1.1\r\n" + H + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
             "0\r\n\r\nGET /admin HTTP/1.1\r\n" + H + "\r\n",
    "te-cl": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
             "5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n",
    "cl-cl": "POST /a HTTP/1.1\r\n" + H + "Content-Length: 3\r\nContent-Length: 40\r\n\r\nabcGET /x HTTP/1.1\r\n\r\n",
    "cl-list": "POST /a HTTP/1.1\r\n" + H + "Content-Length: 3, 3\r\n\r\nabc",
    "cl-plus": "POST /a HTTP/1.1\r\n" + H + "Content-Length: +3\r\n\r\nabc",
    "te-space": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "te-xchunked": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-chunked-twice": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    "te-1.0": "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-obsfold": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    "chunk-bare-lf-size": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
    "chunk-bare-lf-data": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
    "chunk-bare-lf-last": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\n\n"
                          "GET /admin HTTP/1.1\r\n" + H + "\r\n",
    "chunk-size-hex-overflow": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                               "ffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    "chunk-size-0x": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
    "chunk-ext-bad": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3;\"x\r\nabc\r\n0\r\n\r\n",
    "chunk-data-long": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
    "chunk-trailer-bad": "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
    "bare-cr": "GET /a HTTP/1.1\r\n" + H + "X: a\rb\r\n\r\n",
    "space-before-colon": "GET /a HTTP/1.1\r\nHost : example.com\r\n\r\n",
    "two-hosts": "GET /a HTTP/1.1\r\n" + H + "Host: evil\r\n\r\n",
    "no-host": "GET /a HTTP/1.1\r\n\r\n",
    "nul": "GET /a HTTP/1.1\r\n" + H + "X: \x00\r\n\r\n",
    "http2": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "fragment": "GET /a#frag HTTP/1.1\r\n" + H + "\r\n",
    "long-line": "GET /" + "a" * 300 + " HTTP/1.1\r\n" + H + "\r\n",
    "many-headers": "GET /a HTTP/1.1\r\n" + H + "".join("X-%d: v\r\n" % i for i in range(8)) + "\r\n",
    "garbage": "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    "smuggle-in-pipeline": "GET /a HTTP/1.1\r\n" + H + "\r\nPOST /a HTTP/1.1\r\n" + H +
                           "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "connection-hop": "GET /a HTTP/1.1\r\n" + H + "Connection: close, X-Secret\r\nX-Secret: 1\r\n\r\n",
}

RESPONSES = {
    "ok": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "ok-twice": "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2",
    "chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nokay\r\n0\r\nT: 1\r\n\r\n",
    "close": "HTTP/1.1 200 OK\r\n\r\nuntil the end",
    "no-content": "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
    "continue": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "switch": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x03yes",
    "switch-h2c": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
    "cl-te": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "bad-chunk": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "bare-lf": "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "extra": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
    "garbage": "SSH-2.0-OpenSSH_9.0\r\n",
    "gzip": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
    "not-modified": "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
}


def bytewise(cs, us):
    """Every byte of the client, then every byte of the server, one step each."""
    return client(1) * len(cs) + server(1) * len(us)


def interleaved(cs, us):
    """Client and server bytes alternating one by one (the response may begin early)."""
    out = b""
    for i in range(max(len(cs), len(us))):
        if i < len(cs):
            out += client(1)
        if i < len(us):
            out += server(1)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "proxy")
    os.makedirs(out, exist_ok=True)
    seeds = {}

    for rn, rq in REQUESTS.items():
        # every request with the ordinary answer: at once, byte by byte, a worker swap after each byte
        seeds["%s-ok" % rn] = seed(0, rq, RESPONSES["ok"])
        seeds["%s-ok-bytewise" % rn] = seed(0, rq, RESPONSES["ok"], bytewise(rq, RESPONSES["ok"]))
        if len(rq) <= 200:
            seeds["%s-ok-reattach" % rn] = seed(REATTACH, rq, RESPONSES["ok"], bytewise(rq, ""))
        seeds["%s-ok-small" % rn] = seed(CONF_B, rq, RESPONSES["ok"], client(24) * 16)
    for sn, rs in RESPONSES.items():
        for rn in ("get", "post-chunked", "pipeline", "upgrade", "get-1.0", "head", "upgrade-h2c-ws"):
            rq = REQUESTS[rn]
            seeds["%s-%s" % (rn, sn)] = seed(0, rq, rs)
            seeds["%s-%s-interleaved" % (rn, sn)] = seed(0, rq, rs, interleaved(rq, rs))
        seeds["get-%s-bytewise-reattach" % sn] = seed(REATTACH, REQUESTS["get"], rs, bytewise(REQUESTS["get"], rs))
    # every cut of a smuggling shape into two pieces
    for rn in ("cl-te", "chunk-bare-lf-last", "pipeline-chunked"):
        rq = REQUESTS[rn]
        for cut in range(1, len(rq), 7):
            sched = b""
            left = cut
            while left > 0:
                n = min(left, 24)
                sched += client(n)
                left -= n
            sched += REATTACH_NOW
            seeds["%s-cut%03d" % (rn, cut)] = seed(0, rq, RESPONSES["ok-twice"], sched)
    # timing and failures
    g, ok = REQUESTS["get"], RESPONSES["ok"]
    seeds["get-header-timeout"] = seed(0, g, ok, client(5) + advance(8000) + advance(8000))
    seeds["get-read-timeout"] = seed(0, g, ok, client(24) + client(24) + advance(8000))
    seeds["get-refused"] = seed(REFUSE, g, ok)
    seeds["get-refused-then-ok"] = seed(REFUSE, g + g, ok, client(24) + client(24) + advance(500) + TOGGLE_REFUSE)
    seeds["get-server-fin"] = seed(0, g + g, ok, client(24) + client(24) + server(24) + SERVER_FIN + client(24))
    seeds["get-server-rst"] = seed(0, g, ok, client(24) + client(24) + server(5) + SERVER_RST)
    seeds["get-client-fin-early"] = seed(0, g, ok, client(10) + CLIENT_FIN)
    seeds["get-client-rst"] = seed(CLIENT_RST, g, ok, client(24) + client(24))
    seeds["get-half-close"] = seed(HALF_CLOSE, g, ok)
    seeds["get-mss-only"] = seed(MSS_ONLY, g, ok)
    seeds["get-pool-idle"] = seed(0, g + g, ok + ok, client(24) + client(24) + server(24) + server(24) +
                                  advance(8000) + client(24) + client(24))
    seeds["post-big"] = seed(0, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3000\r\n\r\n" + "x" * 3000, ok,
                             client(512) * 7)
    seeds["post-big-chunked"] = seed(0, "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "bb8\r\n" + "y" * 3000 + "\r\n0\r\n\r\n", ok, client(512) * 7)
    seeds["post-over-limit"] = seed(CONF_B, "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "80\r\n" + "z" * 128 + "\r\n0\r\n\r\n", ok)
    # tcp pass-through
    seeds["tcp-echo"] = seed(TCP, "anything\r\n\r\n", "reply")
    seeds["tcp-bytewise"] = seed(TCP, "abc", "defg", interleaved("abc", "defg"))
    seeds["tcp-reattach"] = seed(TCP | REATTACH, "abcdef", "ghijkl", interleaved("abcdef", "ghijkl"))
    seeds["tcp-server-fin"] = seed(TCP, "ab", "cd", client(1) + server(2) + SERVER_FIN + client(1))
    seeds["tcp-refused"] = seed(TCP | REFUSE, "ab", "cd")

    for name in list(os.listdir(out)):
        if name.startswith("seed-"):
            os.remove(os.path.join(out, name))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
