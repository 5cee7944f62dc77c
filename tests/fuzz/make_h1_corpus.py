#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made seed corpus of tests/fuzz/fuzz_h1.c.

Each file is one fuzz input: a flags byte (see fuzz_h1.c: bits 0-1 limits
preset, bits 2-5 the request method for h1_parse_response, bit 6
keep-alive for the writers, bit 7 Via) followed by the message bytes,
which the target parses as a request and as a response, then decodes as
a chunked body (after the head when the head says chunked). Files are
named seed-<what>; files libFuzzer adds by -merge=1 (40 hex digit names)
are left alone.

Deterministic: running it again rewrites the same bytes.
Usage: tests/fuzz/make_h1_corpus.py [OUTDIR]
(default: corpus/h1 next to this script).
"""
import os
import sys

# limits presets
CAPS, DEFAULTS, SMALL, TINY = 0, 1, 2, 3
# methods (enum h1_method) in bits 2-5
GET, HEAD, POST, PUT, CONNECT = 1, 2, 3, 4, 6
KA = 0x40
VIA = 0x80


def flags(lim=DEFAULTS, method=GET, ka=True, via=True):
    return bytes([lim | method << 2 | (KA if ka else 0) | (VIA if via else 0)])


H = "Host: example.com\r\n"

REQUESTS = {
    # valid requests
    "get": "GET / HTTP/1.1\r\n" + H + "\r\n",
    "get-headers": "GET /index.html?q=1 HTTP/1.1\r\n" + H + "Accept: */*\r\nUser-Agent: t/1\r\n"
                   "Cookie: a=b; c=d\r\n\r\n",
    "get-lf": "GET / HTTP/1.1\nHost: a\nX: y\n\n",
    "get-leading-crlf": "\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n",
    "get-1.0": "GET / HTTP/1.0\r\n\r\n",
    "get-1.0-keepalive": "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "get-1.2": "GET / HTTP/1.2\r\n" + H + "\r\n",
    "get-close": "GET / HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n",
    "absolute": "GET http://example.com:8080/p?x HTTP/1.1\r\n" + H + "\r\n",
    "absolute-nopath": "GET https://example.com HTTP/1.1\r\n" + H + "\r\n",
    "absolute-ipv6": "GET http://[2001:db8::1]:80/ HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n",
    "connect": "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "options-star": "OPTIONS * HTTP/1.1\r\n" + H + "\r\n",
    "post-cl": "POST /f HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhello",
    "post-cl-list": "POST /f HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n\r\nhello",
    "post-cl-dup-same": "POST /f HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "post-chunked": "POST /f HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
    "post-chunked-lf": "POST /f HTTP/1.1\n" + "Host: a\n" + "Transfer-Encoding: chunked\n\n"
                       "3\nabc\n0\n\n",
    "post-gzip-chunked": "POST /f HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n"
                         "1\r\nx\r\n0\r\n\r\n",
    "post-te-two-fields": "POST /f HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "post-chunked-next": "POST /f HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                         "0\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n",
    "expect": "PUT /u HTTP/1.1\r\n" + H + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    "upgrade": "GET /ws HTTP/1.1\r\n" + H + "Connection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    "hop-by-hop": "GET / HTTP/1.1\r\n" + H + "Connection: keep-alive, X-Secret, Content-Length\r\n"
                  "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
                  "Upgrade: h2c\r\nX-Secret: 1\r\n\r\n",
    "xff-via": "GET / HTTP/1.1\r\n" + H + "X-Forwarded-For: 10.0.0.1\r\nVia: 1.1 edge\r\n"
               "X-Forwarded-For: 10.0.0.2, 10.0.0.3\r\nX-Forwarded-Proto: https\r\n\r\n",
    "obs-text": "GET / HTTP/1.1\r\n" + H + "X-Name: caf\xe9 \"q\"\t(c)\r\n\r\n",
    "method-other": "PROPFIND /d HTTP/1.1\r\n" + H + "Depth: 1\r\n\r\n",
    "empty-host": "GET / HTTP/1.1\r\nHost:\r\n\r\n",
    "host-port": "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
    # smuggling and errors
    "cl-te": "POST / HTTP/1.1\r\n" + H + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    "te-cl": "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    "cl-differ": "POST / HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "cl-list-differ": "POST / HTTP/1.1\r\n" + H + "Content-Length: 5, 6\r\n\r\n",
    "cl-plus": "POST / HTTP/1.1\r\n" + H + "Content-Length: +5\r\n\r\n",
    "cl-hex": "POST / HTTP/1.1\r\n" + H + "Content-Length: 0x5\r\n\r\n",
    "cl-huge": "POST / HTTP/1.1\r\n" + H + "Content-Length: 4611686018427387905\r\n\r\n",
    "cl-max": "POST / HTTP/1.1\r\n" + H + "Content-Length: 4611686018427387904\r\n\r\n",
    "cl-empty-element": "POST / HTTP/1.1\r\n" + H + "Content-Length: 5,,5\r\n\r\n",
    "te-chunked-twice": "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n",
    "te-gzip": "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\n",
    "te-chunked-gzip": "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, gzip\r\n\r\n",
    "te-unknown": "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: foo, chunked\r\n\r\n",
    "te-params": "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip;q=\"a,b\", chunked;x=1\r\n\r\n",
    "te-1.0": "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    "te-vtab": "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: \x0bchunked\r\n\r\n",
    "obs-fold": "GET / HTTP/1.1\r\n" + H + "X: a\r\n b\r\n\r\n",
    "space-before-colon": "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    "nul-value": "GET / HTTP/1.1\r\n" + H + "X: a\x00b\r\n\r\n",
    "bare-cr": "GET / HTTP/1.1\r\n" + H + "X: a\rb\r\n\r\n",
    "no-host": "GET / HTTP/1.1\r\n\r\n",
    "two-hosts": "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "bad-host": "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    "http2": "GET / HTTP/2.0\r\n" + H + "\r\n",
    "http09": "GET / HTTP/0.9\r\n\r\n",
    "lower-version": "GET / http/1.1\r\n" + H + "\r\n",
    "bad-target": "GET /a\x7fb HTTP/1.1\r\n" + H + "\r\n",
    "star-get": "GET * HTTP/1.1\r\n" + H + "\r\n",
    "connect-noport": "CONNECT example.com HTTP/1.1\r\n" + H + "\r\n",
    "userinfo": "GET http://u@h/ HTTP/1.1\r\n" + H + "\r\n",
    "no-colon": "GET / HTTP/1.1\r\n" + H + "Broken\r\n\r\n",
    "double-space": "GET  / HTTP/1.1\r\n" + H + "\r\n",
    "incomplete-line": "GET /incomplete",
    "incomplete-head": "GET / HTTP/1.1\r\n" + H + "X: y\r\n",
    # upgrades passed on only from HTTP/1.1 without a body (RFC 9110 §7.8)
    "upgrade-1.0": "GET /ws HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "upgrade-with-body": "POST /ws HTTP/1.1\r\n" + H + "Connection: Upgrade\r\nUpgrade: h2c\r\n"
                         "Content-Length: 1\r\n\r\nx",
    # absolute-form: origin-form and the authority as Host when written (RFC 9112 §3.2.2)
    "absolute-query-only": "GET http://h.example?q=1 HTTP/1.1\r\nX: 1\r\nHost: other\r\n\r\n",
    "absolute-options-empty": "OPTIONS http://h.example:81 HTTP/1.1\r\nHost: h.example:81\r\n\r\n",
    "absolute-1.0-no-host": "GET http://[2001:db8::1]:80/a HTTP/1.0\r\nX: 1\r\n\r\n",
    "fragment": "GET /a#frag HTTP/1.1\r\n" + H + "\r\n",
    "absolute-fragment": "GET http://h.example#f HTTP/1.1\r\n" + H + "\r\n",
    # framing fields the writer writes anew
    "post-cl-leading-zeros": "POST /f HTTP/1.1\r\n" + H + "Content-Length: 005\r\nX: 1\r\ncontent-length: 5\r\n\r\nhello",
    "post-te-odd-spelling": "POST /f HTTP/1.1\r\n" + H + "Transfer-Encoding: , ChUnKeD ,\r\n\r\n0\r\n\r\n",
    "post-te-split-upper": "POST /f HTTP/1.1\r\n" + H + "Transfer-Encoding: GZIP\r\nX: 1\r\n"
                           "transfer-encoding: chunked\r\n\r\n0\r\n\r\n",
}

LONG = {
    # limits: the small and tiny presets trip these
    "long-line": (SMALL, "GET /" + "a" * 100 + " HTTP/1.1\r\n" + H + "\r\n"),
    "long-line-incomplete": (SMALL, "GET /" + "a" * 300),
    "many-headers": (SMALL, "GET / HTTP/1.1\r\n" + H + "".join("X-%d: v\r\n" % i for i in range(10)) + "\r\n"),
    "big-head": (SMALL, "GET / HTTP/1.1\r\n" + H + "X: " + "v" * 300 + "\r\n\r\n"),
    "tiny-ok": (TINY, "GET / HTTP/1.0\r\n\r\n"),
    "tiny-headers": (TINY, "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\n\r\n"),
    "caps-many-headers": (CAPS, "GET / HTTP/1.1\r\n" + H + "".join("X-%d: v\r\n" % i for i in range(130)) + "\r\n"),
}

RESPONSES = {
    "ok-cl": (GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\nhello"),
    "ok-chunked": (GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "a\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"),
    "ok-close": (GET, "HTTP/1.1 200 OK\r\nServer: s\r\n\r\nuntil close"),
    "ok-gzip": (GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
    "ok-cl-te": (GET, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n0\r\n\r\n"),
    "head": (HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
    "no-content": (GET, "HTTP/1.1 204 No Content\r\n\r\n"),
    "not-modified": (GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n"),
    "continue": (POST, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    "switching": (GET, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
    "connect-200": (CONNECT, "HTTP/1.1 200 Connection established\r\n\r\n"),
    "connect-407": (CONNECT, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
    "1.0-keepalive": (GET, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"),
    "1.0-te": (GET, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    "no-reason": (GET, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"),
    "reason-obs": (GET, "HTTP/1.1 500 Erreur \xe9trange\r\nContent-Length: 0\r\n\r\n"),
    "status-999": (GET, "HTTP/1.1 999 X\r\nContent-Length: 0\r\n\r\n"),
    "status-bad": (GET, "HTTP/1.1 099 X\r\n\r\n"),
    "cl-differ-resp": (GET, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
    "obs-fold-resp": (GET, "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n"),
    "hop-resp": (GET, "HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\n"
                      "Via: 1.0 origin\r\nContent-Length: 0\r\n\r\n"),
    "resp-lf": (GET, "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n"),
    # framing fields: written anew, dropped where they may not be
    "no-content-framed": (GET, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
    "continue-cl": (POST, "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"),
    "cl-repeats": (GET, "HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nX: 1\r\ncontent-length: 007\r\n\r\nabcdefg"),
    "head-cl-repeats": (HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 0100\r\nContent-Length: 100\r\n\r\n"),
    "gzip-close-cl": (GET, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: GZIP\r\n\r\nabc"),
    "switching-two": (GET, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: a/1, b\r\n"
                           "Content-Length: 5\r\n\r\n"),
    "early-hints": (GET, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    "te-params": (GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo ; a = \"x,y\" , Chunked\r\n\r\n"
                       "1\r\nx\r\n0\r\n\r\n"),
}

CHUNKED = {
    # bare chunked bodies: the message parsers fail, the decoder gets all of it
    "simple": "5\r\nhello\r\n0\r\n\r\n",
    "multi": "1\r\na\r\nA\r\n0123456789\r\n1f\r\n" + "x" * 31 + "\r\n0\r\n\r\n",
    "ext": "5;name=value;q=\"a b;c\"\r\nhello\r\n0;last\r\n\r\n",
    "bws-ext": "5 ;x\r\nhello\r\n0\t; y\r\n\r\n",
    "trailers": "3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other:\tv v\r\n\r\n",
    "lf": "5\nhello\n0\nT: 1\n\n",
    "next-message": "4\r\nwiki\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
    "bad-hex": "g\r\n",
    "missing-crlf": "5\r\nhelloX\r\n",
    "overflow": "4000000000000001\r\n",
    "max-size": "4000000000000000\r\nabc",
    "17-digits": "00000000000000005\r\nhello\r\n0\r\n\r\n",
    "16-digits": "0000000000000005\r\nhello\r\n0\r\n\r\n",
    "space-no-ext": "5 \r\nhello\r\n0\r\n\r\n",
    "trailer-fold": "0\r\nX: a\r\n b\r\n\r\n",
    "trailer-no-colon": "0\r\nX a\r\n\r\n",
    "long-ext": "1;" + "e" * 4095 + "\r\nx\r\n0\r\n\r\n",
    "too-long-ext": "1;" + "e" * 4096 + "\r\nx\r\n0\r\n\r\n",
    "long-trailer": "0\r\nX: " + "v" * 4200 + "\r\n\r\n",
    "incomplete": "5\r\nhel",
    "upper-hex": "A\r\n0123456789\r\n0\r\n\r\n",
    "cr-cr": "5\r\nhello\r\n0\r\n\r\r",
    # strict framing (RFC 9112 §7.1): CRLF only, the chunk-ext grammar
    "lf-after-size": "5\nhello\r\n0\r\n\r\n",
    "lf-after-data": "5\r\nhello\n0\r\n\r\n",
    "lf-last": "5\r\nhello\r\n0\r\n\n",
    "lf-trailer": "0\r\nX: 1\n\r\n",
    "smuggle-lf-in-ext": "2;\nxx\r\n10\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
    "ext-grammar": "5 ; a = b ;c;d=\"x y\\\"z\"\r\nhello\r\n0;e=1\r\n\r\n",
    "ext-quoted-obs-text": "5;q=\"caf\xe9\";r=\"\"\r\nhello\r\n0\r\n\r\n",
    "ext-quoted-then-ws": "5;a=\"b\" ;c\r\nhello\r\n0\r\n\r\n",
    "ext-no-name": "5;\r\nhello\r\n0\r\n\r\n",
    "ext-no-value": "5;a=\r\nhello\r\n0\r\n\r\n",
    "ext-space-in-name": "5;a b\r\nhello\r\n0\r\n\r\n",
    "ext-trailing-ws": "5;a=b \r\nhello\r\n0\r\n\r\n",
    "ext-open-quote": "5;a=\"b\r\nhello\r\n0\r\n\r\n",
    "ext-after-quote": "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n",
    "ext-qpair-ctl": "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n",
    "ext-obs-text-token": "5;a\xe9\r\nhello\r\n0\r\n\r\n",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "h1")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for name, text in REQUESTS.items():
        seeds["req-" + name] = flags() + text.encode("latin-1")
    # the same few requests with the other flag combinations
    for name in ("get", "hop-by-hop", "upgrade", "get-1.0", "xff-via"):
        seeds["req-" + name + "-close-novia"] = flags(ka=False, via=False) + REQUESTS[name].encode("latin-1")
    for name, (lim, text) in LONG.items():
        seeds["lim-" + name] = flags(lim=lim) + text.encode("latin-1")
    for name, (method, text) in RESPONSES.items():
        seeds["resp-" + name] = flags(method=method) + text.encode("latin-1")
    for name in ("ok-chunked", "te-params", "gzip-close-cl"):
        method, text = RESPONSES[name]
        seeds["resp-" + name + "-http10-client"] = flags(method=PUT) + text.encode("latin-1")   # bit 2 clear: minor 0
    for name in ("ok-cl", "switching", "1.0-keepalive"):
        method, text = RESPONSES[name]
        seeds["resp-" + name + "-close"] = flags(method=method, ka=False, via=False) + text.encode("latin-1")
    for name, text in CHUNKED.items():
        seeds["chunked-" + name] = flags() + text.encode("latin-1")
    seeds["empty"] = b""
    seeds["flags-only"] = flags()
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
