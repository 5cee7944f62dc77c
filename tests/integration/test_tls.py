#!/usr/bin/env python3
"""Integration suite for TLS termination (issue 14): a real gateway with `tls`
listeners, certificates made at test time with the openssl CLI, real clients
(curl, openssl s_client, Python's ssl module, testssl.sh) in the gateway's
namespace and backends.py behind.

Run as root: PORTER_BUILD=BUILD python3 tests/integration/test_tls.py [-k NAME]
Ends with "N passed, N failed"; figures (testssl.sh's summary, timings) go to
$PORTER_BUILD/integration-figures-tls.json.

The shared gateway (TlsEnv) has:
  80    http, plain (X-Forwarded-Proto: http)
  443   http + tls: ec.test (EC P-256, the default), rsa.test (RSA 2048),
        wild.test (EC, names = ["*.b.test"]); all nine suites, alpn http/1.1
  8443  http + tls: reload.pem/reload.key (the reload tests replace them)
  9443  tcp + tls -> backends.py tcpsha
  9444  tcp + tls -> backends.py http --raw (records every byte it is sent)
  9445  tcp + tls -> backends.py tcpsource
Tests without the shared gateway make their own: slots (tcp.tls_sessions_per_shard = 16,
one worker) and --check-config (not started). testssl.sh (when installed) takes 35-60 s.
Durability (kill -9, upgrades) is tests/integration/test_tls_durable.py's.
"""
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import (PORTER_IP, PRIMARY, Gateway, GatewayEnv, connect, read_lines, run, run_suite,  # noqa: E402
                     wait_for)
import backends  # noqa: E402
from httpraw import Conn  # noqa: E402

FIGURES = {}
TESTS = []
MiB = 1024 * 1024

TLS13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
TLS12_EC = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"]
TLS12_RSA = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"]

# TLS alert descriptions (RFC 8446 §6)
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
          40: "handshake_failure", 47: "illegal_parameter", 50: "decode_error", 70: "protocol_version",
          80: "internal_error", 100: "no_renegotiation", 120: "no_application_protocol"}


def test(fn):
    TESTS.append(fn)
    return fn


# --- certificates --------------------------------------------------------------------

def openssl(*args, cwd=None):
    r = run(["openssl"] + list(args), check=False, cwd=cwd)
    assert r.returncode == 0, "openssl %s: %s" % (" ".join(args), r.stderr)
    return r.stdout


def make_cert(d, name, cn, kind="ec", names=None):
    """A self-signed certificate D/NAME.pem (CN, subjectAltName DNS:CN and NAMES) with its
    key D/NAME.key; KIND "ec" (P-256) or "rsa" (2048)."""
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if kind == "ec" else ["-newkey", "rsa:2048"]
    san = ",".join("DNS:" + n for n in [cn] + list(names or ()))
    openssl("req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=" + cn,
            "-days", "30", "-addext", "subjectAltName=" + san)
    return cert, key


def make_expired_cert(d, name, cn):
    """A self-signed EC certificate valid 2020-01-01 .. 2021-01-01 (openssl ca -selfsign)."""
    ca = os.path.join(d, "ca-" + name)
    os.makedirs(ca, exist_ok=True)
    open(os.path.join(ca, "index.txt"), "w").close()
    with open(os.path.join(ca, "serial"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(ca, "ca.cnf")
    with open(cnf, "w") as f:
        f.write("""[ ca ]
default_ca = CA_default
[ CA_default ]
dir = %s
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = pol
unique_subject = no
[ pol ]
commonName = supplied
""" % ca)
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    csr = os.path.join(ca, "req.csr")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
    openssl("ca", "-batch", "-config", cnf, "-selfsign", "-keyfile", key, "-in", csr, "-out", cert,
            "-notext", "-startdate", "20200101000000Z", "-enddate", "20210101000000Z")
    return cert, key


def der_subject_cn(der):
    """The CN of a DER certificate (openssl x509)."""
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253"],
                       input=der, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    m = re.search(rb"CN=([^,\s]+)", r.stdout)
    return m.group(1).decode() if m else r.stdout.decode()


def file_sha(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def conf_line(path, needle):
    """1-based line of PATH holding NEEDLE (exactly one)."""
    lines = open(path).read().splitlines()
    hits = [i + 1 for i, x in enumerate(lines) if needle in x]
    assert len(hits) == 1, "%r in %s: lines %r" % (needle, path, hits)
    return hits[0]


# --- the shared environment ------------------------------------------------------------

def _tls_block(certs, extra=""):
    """A listener's tls group, one certificate per line (so that errors name distinct lines)."""
    rows = []
    for cert, key, names in certs:
        rows.append('{ cert = "%s";\n                   key = "%s";%s }' % (
            cert, key, (" names = [ %s ];" % ", ".join('"%s"' % n for n in names)) if names else ""))
    return "tls = { certificates = (\n                 " + ",\n                 ".join(rows) + " );%s }" % extra


class TlsEnv(GatewayEnv):
    def __init__(self):
        d = self.cdir = os.path.join("/tmp", "porter-tls-certs-%d" % os.getpid())
        os.makedirs(d, exist_ok=True)
        self.ec = make_cert(d, "ec", "ec.test")
        self.rsa = make_cert(d, "rsa", "rsa.test", "rsa")
        self.wild = make_cert(d, "wild", "wild.test")
        self.reload = make_cert(d, "reload", "old.test")
        self.sha = make_cert(d, "tcp", "tcp.test")
        extra = """
tcp: { max_streams_per_shard = 4096; time_wait_ms = 1000; };
listeners = ( { port = 80; protocol = "http"; },
              { port = 443; protocol = "http";
                %s },
              { port = 8443; protocol = "http";
                %s },
              { port = 9443; protocol = "tcp"; upstream = "sha";
                %s },
              { port = 9444; protocol = "tcp"; upstream = "raw";
                %s },
              { port = 9445; protocol = "tcp"; upstream = "src";
                %s } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } ); },
              { name = "sha"; servers = ( { address = "10.99.0.1:9001"; } ); },
              { name = "raw"; servers = ( { address = "10.99.0.1:9002"; } ); },
              { name = "src"; servers = ( { address = "10.99.0.1:9003"; } ); },
              { name = "down"; servers = ( { address = "10.99.0.1:8099"; } );
                timeouts = { connect_ms = 500; read_ms = 5000; write_ms = 5000; }; retries = 0; } );
routes = ( { host = "down.test"; upstream = "down"; }, { upstream = "app"; } );
http = { access_log = "@DIR@/access.log"; header_timeout_ms = 3000; };
""" % (_tls_block([(self.ec[0], self.ec[1], None), (self.rsa[0], self.rsa[1], None),
                   (self.wild[0], self.wild[1], ["*.b.test"])]),
       _tls_block([(self.reload[0], self.reload[1], None)]),
       _tls_block([(self.sha[0], self.sha[1], None)]),
       _tls_block([(self.sha[0], self.sha[1], None)]),
       _tls_block([(self.sha[0], self.sha[1], None)]))
        try:
            super().__init__("porter-tls-it-", workers=2, extra=extra)
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise
        self.access_log = self.path("access.log")
        self.raw_app = self.path("raw-8081")
        self.raw_tcp = self.path("raw-9002")
        os.makedirs(self.raw_app)
        os.makedirs(self.raw_tcp)
        self.http_backend(8081, "app", "--raw", self.raw_app)
        self.backend("tcpsha", 9001)
        self.backend("http", 9002, "--name", "raw", "--raw", self.raw_tcp)
        self.backend("tcpsource", 9003)

    def close(self, failed=False):
        super().close(failed)
        shutil.rmtree(self.cdir, ignore_errors=True)

    def upstream_seen(self):
        """What the upstreams got so far: (app requests logged, app connections, raw tcp
        connections, total bytes the raw tcp backend received)."""
        tcp_files = os.listdir(self.raw_tcp)
        return (len(self.req_log(8081)), len(os.listdir(self.raw_app)), len(tcp_files),
                sum(os.path.getsize(os.path.join(self.raw_tcp, f)) for f in tcp_files))


_mark = [0]


def marker(tag):
    _mark[0] += 1
    return "%s-%d-%d" % (tag, os.getpid(), _mark[0])


# --- clients -----------------------------------------------------------------------------

def curl(gw, args, timeout=60):
    return gw.ns(["curl", "-sS", "-k", "--max-time", str(timeout)] + list(args), check=False,
                 timeout=timeout + 15)


def resolve(host, port=443):
    return ["--resolve", "%s:%d:%s" % (host, port, PORTER_IP)]


def client_ctx(minv=None, maxv=None, alpn=None, ciphers=None):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if minv:
        c.minimum_version = minv
    if maxv:
        c.maximum_version = maxv
    if alpn is not None:
        c.set_alpn_protocols(alpn)
    if ciphers:
        c.set_ciphers(ciphers)
    return c


def tls_socket(gw, port=443, sni="ec.test", timeout=10.0, **kw):
    """A Python ssl socket to porter, handshake done."""
    s = connect(gw, port, timeout)
    try:
        return client_ctx(**kw).wrap_socket(s, server_hostname=sni)
    except BaseException:
        s.close()
        raise


class TlsConn(Conn):
    """httpraw.Conn over a Python ssl socket."""

    def __init__(self, gw, port=443, sni="ec.test", timeout=10.0, **kw):
        self.s = tls_socket(gw, port, sni, timeout, **kw)
        self.buf = bytearray()


class MemTls:
    """A TLS client on memory BIOs over a raw socket: the records it writes can be
    tampered with before they are sent, and what porter answers read as records."""

    def __init__(self, gw, port=443, sni="ec.test", timeout=10.0, **kw):
        self.sock = connect(gw, port, timeout)
        self.inb, self.outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = client_ctx(**kw).wrap_bio(self.inb, self.outb, server_hostname=sni)
        self.raw = bytearray()     # every byte porter sent after the handshake
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                b = self.sock.recv(65536)
                if not b:
                    raise AssertionError("porter closed during the handshake")
                self.inb.write(b)
        self.flush()    # the client's Finished

    def flush(self):
        out = self.outb.read()
        if out:
            self.sock.sendall(out)

    def seal(self, data):
        """DATA as the records the client would send (not sent)."""
        self.obj.write(data)
        return self.outb.read()

    def read_until_closed(self, timeout=5.0):
        """Every byte porter sends until it closes (EOF or reset) or TIMEOUT; returns
        (bytes, how: "eof"/"reset"/"timeout")."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        got = bytearray()
        while time.monotonic() < deadline:
            try:
                b = self.sock.recv(65536)
            except socket.timeout:
                return bytes(got), "timeout"
            except ConnectionResetError:
                return bytes(got), "reset"
            if not b:
                return bytes(got), "eof"
            got += b
        return bytes(got), "timeout"

    def decrypt_alert(self, data):
        """Feed DATA to the client; return OpenSSL's error reason (an alert received shows
        up as e.g. SSLV3_ALERT_BAD_RECORD_MAC), or None with what was read."""
        self.inb.write(data)
        self.inb.write_eof()
        plain = b""
        try:
            while True:
                b = self.obj.read(65536)
                if not b:
                    return None, plain
                plain += b
        except ssl.SSLError as e:
            return (e.reason or str(e)), plain

    def close(self):
        self.sock.close()


def records(data):
    """Split DATA into (type, version, body) TLS records; a trailing partial one is
    returned as (None, None, rest)."""
    out, i = [], 0
    while i + 5 <= len(data):
        n = int.from_bytes(data[i + 3:i + 5], "big")
        if i + 5 + n > len(data):
            break
        out.append((data[i], data[i + 1:i + 3], data[i + 5:i + 5 + n]))
        i += 5 + n
    if i < len(data):
        out.append((None, None, data[i:]))
    return out


def plain_alerts(data):
    """The alerts (level, name) among DATA's cleartext records."""
    return [(r[2][0], ALERTS.get(r[2][1], r[2][1])) for r in records(data) if r[0] == 21 and len(r[2]) == 2]


def _s_client_msg(gw, version):
    """openssl s_client VERSION -msg to ec.test on 443, driven through its stdin; (process,
    text(): everything it printed so far)."""
    p = subprocess.Popen(["ip", "netns", "exec", gw.netns, "openssl", "s_client", version, "-msg",
                          "-connect", "%s:443" % PORTER_IP, "-servername", "ec.test"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = _reader(p)
    return p, lambda: b"".join(out).decode(errors="replace")


def _reader(p):
    """A list filled with P's stdout as it comes (a thread; a line may be unfinished)."""
    out = []

    def rd():
        while True:
            b = p.stdout.read1(65536)
            if not b:
                return
            out.append(b)
    threading.Thread(target=rd, daemon=True).start()
    return out


def s_client(gw, args, stdin=b"", timeout=15):
    """openssl s_client ARGS against porter; returns its stdout+stderr."""
    r = subprocess.run(["ip", "netns", "exec", gw.netns, "openssl", "s_client"] + list(args),
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return r.stdout.decode(errors="replace")


def served_cn(gw, port=443, sni=None):
    """CN of the certificate porter serves for SNI (None: no SNI), per openssl s_client."""
    args = ["-connect", "%s:%d" % (PORTER_IP, port)] + (["-servername", sni] if sni else ["-noservername"])
    out = s_client(gw, args)
    m = re.search(r"^subject=.*?CN\s*=\s*([^\s,/]+)", out, re.M)
    assert m, "s_client %r: no subject in:\n%s" % (args, out[-2000:])
    return m.group(1)


def alog_entries(env, mark, n, timeout=5):
    """The N access-log entries whose path holds MARK."""
    return wait_for(lambda: (lambda ls: ls if len(ls) >= n else None)(
        [json.loads(x) for x in read_lines(env.access_log) if mark in x]), timeout,
        "%d access log lines with %s" % (n, mark))


def http_get(conn, path, host="ec.test"):
    return conn.request("GET", path, host=host)


# === 1. versions and suites ==============================================================

@test
def suites_tls13_and_tls12(env):
    """curl with each TLS 1.3 suite, and each TLS 1.2 suite on the certificate of its key
    type (EC: ec.test, the default; RSA: rsa.test by SNI): 200, the body, and the access
    log's "tls"/"cipher"/"sni"; with each suite also a 1.5 MB download and a 1 MiB upload
    (full-size records both ways, sha256 checked)."""
    gw = env.gw
    m = marker("suite")
    cases = [("ec.test", ["--tlsv1.3", "--tls13-ciphers", c], "TLSv1.3", c) for c in TLS13]
    cases += [("ec.test", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", c], "TLSv1.2", c) for c in TLS12_EC]
    cases += [("rsa.test", ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", c], "TLSv1.2", c) for c in TLS12_RSA]
    problems = []
    out, up = env.path("suite.bin"), env.path("suite-up.bin")
    data = os.urandom(MiB + 777)
    with open(up, "wb") as f:
        f.write(data)
    up_sha = hashlib.sha256(data).hexdigest()
    for i, (host, args, ver, cipher) in enumerate(cases):
        r = curl(gw, ["-v"] + resolve(host) + args + ["https://%s/m/%s-%d/name" % (host, m, i)])
        if r.returncode != 0 or r.stdout != "app":
            problems.append("%s %s: curl exit %d, body %r: %s" % (host, cipher, r.returncode, r.stdout[:100],
                                                                   r.stderr[-300:]))
            continue
        want = "SSL connection using %s / %s" % (ver, cipher)
        if want not in r.stderr:
            problems.append("%s: curl says %r" % (cipher, [x for x in r.stderr.splitlines() if "SSL conn" in x]))
        # full-size records both ways with this suite: a download and an upload
        n = 1500000 + i
        r = curl(gw, resolve(host) + args + ["-o", out, "-w", "%{http_code}", "https://%s/size/%d" % (host, n)])
        if r.returncode != 0 or r.stdout != "200" or file_sha(out) != backends.pattern_sha256(n):
            problems.append("%s: %d-byte download: exit %d, %r, %s" % (cipher, n, r.returncode, r.stdout, r.stderr[-200:]))
        r = curl(gw, resolve(host) + args + ["--data-binary", "@" + up, "https://%s/echo" % host])
        if r.returncode != 0 or json.loads(r.stdout or "{}").get("sha256") != up_sha:
            problems.append("%s: upload: exit %d, %r, %s" % (cipher, r.returncode, r.stdout[:200], r.stderr[-200:]))
    ents = alog_entries(env, m, len(cases))
    for i, (host, args, ver, cipher) in enumerate(cases):
        e = [x for x in ents if x["path"].startswith("/m/%s-%d/" % (m, i))]
        if len(e) != 1:
            problems.append("%d log lines for case %d" % (len(e), i))
            continue
        e = e[0]
        if (e.get("tls"), e.get("cipher"), e.get("sni")) != (ver, cipher, host):
            problems.append("access log of %s/%s/%s: tls %r cipher %r sni %r" % (
                host, ver, cipher, e.get("tls"), e.get("cipher"), e.get("sni")))
    assert not problems, "\n".join(problems)


@test
def old_versions_and_non_aead_refused(env):
    """TLS 1.1 and a non-AEAD TLS 1.2 suite are refused by the handshake; nothing goes up."""
    gw = env.gw
    before = env.upstream_seen()
    for args in (["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"],
                 ["-tls1_2", "-cipher", "AES128-GCM-SHA256"]):
        out = s_client(gw, ["-connect", "%s:443" % PORTER_IP, "-servername", "ec.test"] + args)
        assert "Cipher is (NONE)" in out or "alert" in out or "no protocols available" in out, \
            "%r: handshake completed?\n%s" % (args, out[-1500:])
        assert not re.search(r"^New, TLSv1\.[0-3], Cipher is [A-Z]", out, re.M), "%r accepted:\n%s" % (args, out[-1500:])
    assert env.upstream_seen() == before


# === 2. SNI ==================================================================================

@test
def sni_selection(env):
    """Exact name, *.suffix wildcard (one label), unknown name and no SNI (the default)."""
    gw = env.gw
    want = [("ec.test", "ec.test"), ("rsa.test", "rsa.test"), ("RSA.Test.", "rsa.test"),
            ("x.b.test", "wild.test"), ("y.x.b.test", "ec.test"), ("b.test", "ec.test"),
            ("unknown.example", "ec.test"), (None, "ec.test")]
    got = [(sni, served_cn(gw, 443, sni)) for sni, _ in want]
    assert got == [(s, c) for s, c in want], "served: %r\nwant:   %r" % (got, want)


# === 3. ALPN ==================================================================================

@test
def alpn(env):
    """http/1.1 offered: agreed; only h2: fatal no_application_protocol (RFC 7301 §3.2);
    no ALPN: served."""
    gw = env.gw
    c = TlsConn(gw, alpn=["h2", "http/1.1"])
    try:
        assert c.s.selected_alpn_protocol() == "http/1.1", c.s.selected_alpn_protocol()
        r = http_get(c, "/name")
        assert (r.status, r.body) == (200, b"app"), r
    finally:
        c.close()
    c = TlsConn(gw)
    try:
        assert c.s.selected_alpn_protocol() is None
        r = http_get(c, "/name")
        assert (r.status, r.body) == (200, b"app"), r
    finally:
        c.close()
    before = env.upstream_seen()
    try:
        s = tls_socket(gw, alpn=["h2"])
        s.close()
        raise AssertionError("a client offering only h2 completed its handshake")
    except ssl.SSLError as e:
        assert "NO_APPLICATION_PROTOCOL" in str(e).upper().replace(" ", "_"), repr(e)
    # and on the wire: a fatal alert 120 in clear (TLS 1.3: the alert precedes the ServerHello)
    out = s_client(gw, ["-connect", "%s:443" % PORTER_IP, "-servername", "ec.test", "-alpn", "h2", "-msg"])
    assert re.search(r"<<< .*Alert.*\n\s+02 78", out), "no fatal alert 120 received:\n%s" % out[-2000:]
    assert env.upstream_seen() == before


# === 4. X-Forwarded-Proto ===================================================================

@test
def forwarded_proto(env):
    gw = env.gw
    r = curl(gw, resolve("ec.test") + ["https://ec.test/headers"])
    assert r.returncode == 0, r.stderr
    h = json.loads(r.stdout)["headers"]
    xfp = [v for k, v in h if k.lower() == "x-forwarded-proto"]
    assert xfp == ["https"], "through TLS: X-Forwarded-Proto %r (headers %r)" % (xfp, h)
    r = curl(gw, ["http://%s/headers" % PORTER_IP])
    assert r.returncode == 0, r.stderr
    h = json.loads(r.stdout)["headers"]
    xfp = [v for k, v in h if k.lower() == "x-forwarded-proto"]
    assert xfp == ["http"], "plain http: X-Forwarded-Proto %r" % xfp
    # a client's own X-Forwarded-Proto does not survive over TLS
    r = curl(gw, resolve("ec.test") + ["-H", "X-Forwarded-Proto: http", "https://ec.test/headers"])
    h = json.loads(r.stdout)["headers"]
    xfp = [v for k, v in h if k.lower() == "x-forwarded-proto"]
    assert xfp == ["https"], "client sent http over TLS: upstream got %r" % xfp


# === 5. bodies and keep-alive ==================================================================

@test
def download_16m(env):
    gw = env.gw
    n = 16 * MiB
    out = env.path("dl.bin")
    for args in (["--tlsv1.3"], ["--tlsv1.2", "--tls-max", "1.2"]):
        t0 = time.monotonic()
        r = curl(gw, resolve("ec.test") + args + ["-o", out, "-w", "%{http_code}", "https://ec.test/size/%d" % n])
        dt = time.monotonic() - t0
        assert r.returncode == 0 and r.stdout == "200", "%r: exit %d %r %s" % (args, r.returncode, r.stdout, r.stderr)
        assert os.path.getsize(out) == n, os.path.getsize(out)
        with open(out, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == backends.pattern_sha256(n), "%r: sha256 differs" % args
        FIGURES["download_16m_%s_s" % args[0][2:]] = round(dt, 2)
    os.unlink(out)


@test
def upload_post(env):
    gw = env.gw
    n = 6 * MiB + 12345
    data = os.urandom(n)
    src = env.path("up.bin")
    with open(src, "wb") as f:
        f.write(data)
    for args in (["--tlsv1.3"], ["--tlsv1.2", "--tls-max", "1.2"]):
        r = curl(gw, resolve("ec.test") + args + ["--data-binary", "@" + src, "-H", "Content-Type: application/octet-stream",
                                                  "https://ec.test/echo"])
        assert r.returncode == 0, r.stderr
        j = json.loads(r.stdout)
        assert (j["sha256"], j["length"]) == (hashlib.sha256(data).hexdigest(), n), "%r: %r" % (args, j)
    # chunked
    r = curl(gw, resolve("ec.test") + ["-H", "Transfer-Encoding: chunked", "--data-binary", "@" + src,
                                       "https://ec.test/echo"])
    j = json.loads(r.stdout)
    assert (j["sha256"], j["length"], j["chunked"]) == (hashlib.sha256(data).hexdigest(), n, True), j
    os.unlink(src)


@test
def keepalive_requests(env):
    """Several requests, with bodies both ways, on one TLS connection (1.3 and 1.2)."""
    gw = env.gw
    for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        c = TlsConn(gw, maxv=maxv)
        try:
            for i in range(8):
                size = [0, 1, 1000, 16384, 16385, 70000, 300000, 1][i]
                r = http_get(c, "/size/%d" % size)
                assert r.status == 200 and r.body == backends.pattern(0, size), "%s #%d: %r" % (maxv, i, r)
                body = os.urandom(size)
                r = c.request("POST", "/echo", host="ec.test", body=body,
                              headers=[("Content-Length", str(size))])
                j = json.loads(r.body)
                assert j["sha256"] == hashlib.sha256(body).hexdigest(), (maxv, i, j)
        finally:
            c.close()


# === 6. tcp pass-through behind TLS ==============================================================

def tcp_sha_through_tls(gw, data, maxv=None):
    """Send DATA through the 9443 tcp+tls listener to tcpsha, end with close_notify, and
    return what comes back (decrypted) and whether porter closed TLS cleanly."""
    t = MemTls(gw, 9443, sni="tcp.test", maxv=maxv, timeout=30)
    try:
        for i in range(0, len(data), 1 << 16):
            t.sock.sendall(t.seal(data[i:i + (1 << 16)]))
        try:
            t.obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        t.flush()
        raw, how = t.read_until_closed(30)
        t.inb.write(raw)
        plain = b""
        clean = False
        try:
            while True:
                b = t.obj.read(65536)
                if not b:
                    clean = True
                    break
                plain += b
        except ssl.SSLZeroReturnError:
            clean = True
        except ssl.SSLError:
            pass
        return plain, clean, how
    finally:
        t.close()


@test
def tcp_passthrough_sha(env):
    gw = env.gw
    for n, maxv in ((8 * MiB + 7, None), (3 * MiB, ssl.TLSVersion.TLSv1_2), (0, None)):
        data = backends.pattern(0, n)
        plain, clean, how = tcp_sha_through_tls(gw, data, maxv)
        want = ("%s %d\n" % (hashlib.sha256(data).hexdigest(), n)).encode()
        assert plain == want, "%d bytes (%s): got %r, want %r (close: %s)" % (n, maxv, plain, want, how)
        assert clean, "%d bytes: no close_notify from porter after the answer (%s)" % (n, how)


# === 7. bad input ==================================================================================

def _raw_exchange(gw, port, data, shut=False, timeout=5.0):
    """Send DATA on a plain TCP connection to PORT (then FIN if SHUT); return (bytes
    porter sent until it closed, how)."""
    s = connect(gw, port, timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        s.settimeout(timeout)
        got = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                return got, "timeout"
            except ConnectionResetError:
                return got, "reset"
            if not b:
                return got, "eof"
            got += b
        return got, "timeout"
    finally:
        s.close()


def _client_hello():
    """The first flight of a Python TLS client (a ClientHello record)."""
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = client_ctx().wrap_bio(inb, outb, server_hostname="ec.test")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outb.read()


@test
def bad_cleartext_and_garbage(env):
    """Plain HTTP, random bytes, and a truncated ClientHello then FIN on the TLS ports:
    closed (an alert at most), nothing reaches the upstreams."""
    gw = env.gw
    before = env.upstream_seen()
    ch = _client_hello()
    cases = [("plain GET", 443, b"GET / HTTP/1.1\r\nHost: ec.test\r\n\r\n", False),
             ("plain GET, tcp", 9444, b"GET / HTTP/1.1\r\nHost: ec.test\r\n\r\n", False),
             ("garbage", 443, bytes(range(256)) * 4, False),
             ("garbage, tcp", 9444, b"\x17\x03\x03\x00\x10" + b"\x00" * 16, False),
             ("truncated ClientHello + FIN", 443, ch[:len(ch) // 2], True),
             ("truncated ClientHello + FIN, tcp", 9444, ch[:len(ch) // 2], True),
             ("record header only + FIN", 443, ch[:5], True),
             ("garbage before a ClientHello", 443, b"\r\n" + ch, False)]
    problems = []
    for what, port, data, shut in cases:
        got, how = _raw_exchange(gw, port, data, shut)
        recs = records(got)
        if how == "timeout":
            problems.append("%s: not closed within 5 s (got %r)" % (what, got[:60]))
        if any(r[0] != 21 for r in recs):
            problems.append("%s: porter sent something other than an alert: %r" % (what, got[:80]))
        FIGURES.setdefault("bad_input_answers", {})[what] = "%s %s" % (plain_alerts(got) or "no alert", how)
    after = env.upstream_seen()
    assert after == before, "upstreams saw traffic: %r -> %r" % (before, after)
    assert not problems, "\n".join(problems)


def _handshaken(gw, maxv, port=443):
    return MemTls(gw, port, maxv=maxv)


@test
def tampered_record_bad_record_mac(env):
    """After the handshake, an application-data record with one tag byte flipped: fatal
    bad_record_mac, the stream closed, the request not forwarded (1.3 and 1.2; http and tcp)."""
    gw = env.gw
    problems = []
    for port in (443, 9444):
        for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            before = env.upstream_seen()
            m = marker("tamper")
            t = _handshaken(gw, maxv, port)
            try:
                rec = bytearray(t.seal(b"GET /m/%s/name HTTP/1.1\r\nHost: ec.test\r\n\r\n" % m.encode()))
                assert len(records(bytes(rec))) == 1, records(bytes(rec))
                rec[-1] ^= 0x01
                t.sock.sendall(rec)
                raw, how = t.read_until_closed(5)
                reason, plain = t.decrypt_alert(raw)
            finally:
                t.close()
            tag = "port %d %s" % (port, maxv.name)
            if how == "timeout":
                problems.append("%s: not closed (got %d bytes)" % (tag, len(raw)))
            if "BAD_RECORD_MAC" not in str(reason).upper():
                problems.append("%s: want alert bad_record_mac, got %r (%d bytes, %s, plaintext %r)" % (
                    tag, reason, len(raw), how, plain[:80]))
            after = env.upstream_seen()
            if port == 443 and after[:2] != before[:2]:
                problems.append("%s: upstream saw %r -> %r" % (tag, before, after))
            if port == 9444 and after[3] != before[3]:
                problems.append("%s: tcp upstream got bytes: %r -> %r" % (tag, before, after))
    assert not any(m in x for x in env.req_log(8081) for m in ["tamper-"]), "a tampered request was forwarded"
    assert not problems, "\n".join(problems)


@test
def oversized_record_overflow(env):
    """TLS 1.3: a record of 2^14+256+1 bytes is a fatal record_overflow (RFC 8446 §5.2);
    one of exactly 2^14+256 bytes of garbage is a bad_record_mac (the limit itself is
    allowed). TLS 1.2: 2^14+2048+1 is a record_overflow."""
    gw = env.gw
    before = env.upstream_seen()
    problems = []
    for maxv, n, want in ((ssl.TLSVersion.TLSv1_3, 2 ** 14 + 256 + 1, "RECORD_OVERFLOW"),
                          (ssl.TLSVersion.TLSv1_3, 2 ** 14 + 256, "BAD_RECORD_MAC"),
                          (ssl.TLSVersion.TLSv1_2, 2 ** 14 + 2048 + 1, "RECORD_OVERFLOW")):
        t = _handshaken(gw, maxv)
        try:
            t.sock.sendall(b"\x17\x03\x03" + n.to_bytes(2, "big") + os.urandom(n))
            raw, how = t.read_until_closed(5)
            reason, plain = t.decrypt_alert(raw)
        finally:
            t.close()
        if want not in str(reason).upper() or how == "timeout":
            problems.append("%s, %d-byte record: want %s, got %r (%d bytes, %s)" % (
                maxv.name, n, want, reason, len(raw), how))
    assert not problems, "\n".join(problems)
    after = env.upstream_seen()
    assert after[:2] == before[:2], "the http upstream saw traffic: %r -> %r" % (before, after)


@test
def renegotiation_refused(env):
    """openssl s_client -tls1_2, a request, then "R": porter answers the ClientHello with a
    warning no_renegotiation (then closes); s_client's renegotiation fails and nothing of
    it reaches the upstream."""
    gw = env.gw
    m = marker("reneg")
    p, text = _s_client_msg(gw, "-tls1_2")
    try:
        wait_for(lambda: "Verify return code" in text() and "\n---" in text().split("Verify return code")[-1]
                 or p.poll() is not None, 10, "s_client's handshake")
        p.stdin.write(b"GET /m/%s-one/name HTTP/1.1\r\nHost: ec.test\r\n\r\n" % m.encode())
        p.stdin.flush()
        try:
            wait_for(lambda: "\napp" in text() or p.poll() is not None, 10, "the first response")
        except AssertionError:
            raise AssertionError("no response to the first request (s_client %s):\n%s" % (
                p.poll(), text().split("Extended master secret")[-1][-3000:]))
        before = env.upstream_seen()
        p.stdin.write(b"R\n")
        p.stdin.flush()
        wait_for(lambda: "RENEGOTIATING" in text() and re.search(r"<<< .*Alert", text().split("RENEGOTIATING")[-1])
                 or p.poll() is not None, 10, "an alert after RENEGOTIATING")
        after_r = text().split("RENEGOTIATING")[-1]
        with_alert = re.findall(r"<<< .*Alert \[length 0002\], (\w+) (\w+)", after_r)
        # try a request after: it must not be served by a renegotiated session
        try:
            p.stdin.write(b"GET /m/%s-two/name HTTP/1.1\r\nHost: ec.test\r\n\r\n" % m.encode())
            p.stdin.flush()
            p.stdin.close()
        except OSError:
            pass
        p.wait(10)
        full = text()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "RENEGOTIATING" in full, full[-2000:]
    assert with_alert and with_alert[0] in (("warning", "no_renegotiation"), ("fatal", "handshake_failure"),
                                            ("fatal", "unexpected_message")), \
        "alerts after R: %r\n%s" % (with_alert, after_r[-2500:])
    FIGURES["renegotiation_answer"] = re.findall(r"<<< .*Alert \[length 0002\], (\w+) (\w+)", full.split("RENEGOTIATING")[-1])
    two = [x for x in env.req_log(8081) if "%s-two" % m in x]
    assert not two, "a request after the refused renegotiation was served: %r" % two
    assert env.upstream_seen()[2:] == before[2:] and env.upstream_seen()[0] == before[0], \
        (before, env.upstream_seen())


@test
def key_update_tls13(env):
    """TLS 1.3 KeyUpdates (openssl s_client "K": update_requested, "k": not): the session
    goes on, a request after each is served, and porter answers a requested one with its own."""
    gw = env.gw
    m = marker("ku")
    p, text = _s_client_msg(gw, "-tls1_3")
    try:
        wait_for(lambda: "Verify return code" in text() or p.poll() is not None, 10, "s_client's handshake")
        for i in range(3):
            p.stdin.write(b"K\n" if i != 1 else b"k\n")   # requested, not requested, requested
            p.stdin.flush()
            wait_for(lambda: text().count("KEYUPDATE") > i or p.poll() is not None, 10, "KEYUPDATE %d" % i)
            p.stdin.write(b"GET /m/%s-%d/name HTTP/1.1\r\nHost: ec.test\r\n\r\n" % (m.encode(), i))
            p.stdin.flush()
            wait_for(lambda: text().count("HTTP/1.1 200 OK") > i or p.poll() is not None, 10,
                     "a response after KeyUpdate %d" % i)
        full = text()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert full.count("HTTP/1.1 200 OK") >= 3 and full.count("\napp") >= 3, full[-3000:]
    # porter answers update_requested with a KeyUpdate of its own
    after = full.split("KEYUPDATE")[-1]
    assert re.search(r"<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate", after), \
        "no KeyUpdate from porter after ours:\n%s" % after[-3000:]


# === more of the data path: porter's own answers, framing, tunnels, flow control =========

def _mem_read_http(t, timeout=10.0):
    """Read from MemTls T until porter closes; return (plaintext, how it ended: "close_notify",
    "eof" (no close_notify), "reset", "timeout", or "alert NAME")."""
    raw, how = t.read_until_closed(timeout)
    t.inb.write(raw)
    plain = b""
    try:
        while True:
            b = t.obj.read(65536)
            if not b:
                return plain, "close_notify"
            plain += b
    except ssl.SSLZeroReturnError:
        return plain, "close_notify"
    except ssl.SSLWantReadError:
        return plain, how
    except ssl.SSLError as e:
        return plain, "alert %s" % (e.reason or e)


@test
def close_notify_on_connection_close(env):
    """A response with Connection: close ends with porter's close_notify before its FIN
    (else a truncation cannot be told from the end), on 1.3 and 1.2."""
    gw = env.gw
    problems = []
    for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        t = MemTls(gw, maxv=maxv)
        try:
            t.sock.sendall(t.seal(b"GET /size/100000 HTTP/1.1\r\nHost: ec.test\r\nConnection: close\r\n\r\n"))
            plain, how = _mem_read_http(t)
        finally:
            t.close()
        if not plain.startswith(b"HTTP/1.1 200") or not plain.endswith(backends.pattern(0, 100000)):
            problems.append("%s: response %r..%r" % (maxv.name, plain[:100], plain[-50:]))
        if how != "close_notify":
            problems.append("%s: the connection ended by %s, not close_notify" % (maxv.name, how))
    assert not problems, "\n".join(problems)


@test
def porter_own_answers_over_tls(env):
    """What porter answers itself goes through TLS too: 400 for a malformed request, 502
    for an upstream that refuses, 408 for a head that never ends; each readable and
    followed by close_notify."""
    gw = env.gw
    problems = []
    cases = [("400", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"HTTP/1.1 400", 5),
             ("400 bad content-length", b"POST /echo HTTP/1.1\r\nHost: ec.test\r\nContent-Length: x\r\n\r\n",
              b"HTTP/1.1 400", 5),
             ("502", b"GET /name HTTP/1.1\r\nHost: down.test\r\n\r\n", b"HTTP/1.1 50", 5),
             ("408", b"GET /name HTTP/1.1\r\nHost: ec.test\r\n", b"HTTP/1.1 408", 8)]
    for what, req, want, tmo in cases:
        t = MemTls(gw)
        try:
            t.sock.sendall(t.seal(req))
            if what == "502":
                # keep-alive after a 502: read the answer only
                t.sock.settimeout(tmo)
            plain, how = _mem_read_http(t, tmo)
        finally:
            t.close()
        if not plain.startswith(want):
            problems.append("%s: got %r (%s)" % (what, plain[:120], how))
        elif what != "502" and how != "close_notify":
            problems.append("%s: answered, then ended by %s, not close_notify" % (what, how))
    assert not problems, "\n".join(problems)


@test
def records_dripped_and_split(env):
    """A request whose record arrives one byte per TCP segment; a request head spread over
    one record per byte; two pipelined requests in one record; a ClientHello dripped."""
    gw = env.gw
    req = b"GET /name HTTP/1.1\r\nHost: ec.test\r\n\r\n"
    # one record, a byte per segment
    t = MemTls(gw)
    try:
        t.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rec = t.seal(req)
        for i in range(len(rec)):
            t.sock.send(rec[i:i + 1])
            time.sleep(0.002)   # separate segments, not synchronisation
        c = _MemConn(t)
        r = c.response()
        assert (r.status, r.body) == (200, b"app"), r
        # one record per byte of the head
        for i in range(len(req)):
            t.sock.sendall(t.seal(req[i:i + 1]))
        r = c.response()
        assert (r.status, r.body) == (200, b"app"), "head in %d one-byte records: %r" % (len(req), r)
        # two requests in one record, then one in 3 records in one segment
        t.sock.sendall(t.seal(req + req))
        for _ in range(2):
            r = c.response()
            assert (r.status, r.body) == (200, b"app"), "pipelined: %r" % r
        t.sock.sendall(t.seal(req[:5]) + t.seal(req[5:20]) + t.seal(req[20:]))
        r = c.response()
        assert (r.status, r.body) == (200, b"app"), "3 records, one segment: %r" % r
    finally:
        t.close()
    # ClientHello a byte per segment
    s = connect(gw, 443)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        o = client_ctx().wrap_bio(inb, outb, server_hostname="ec.test")
        try:
            o.do_handshake()
        except ssl.SSLWantReadError:
            pass
        ch = outb.read()
        for i in range(len(ch)):
            s.send(ch[i:i + 1])
            time.sleep(0.002)
        s.settimeout(10)
        while True:
            b = s.recv(65536)
            assert b, "porter closed during a dripped handshake"
            inb.write(b)
            try:
                o.do_handshake()
                break
            except ssl.SSLWantReadError:
                s.sendall(outb.read())
        s.sendall(outb.read())
        o.write(req)
        s.sendall(outb.read())
        got = b""
        while b"\r\n\r\napp" not in got:
            b = s.recv(65536)
            assert b, "closed: %r" % got
            inb.write(b)
            try:
                while True:
                    got += o.read(65536)
            except ssl.SSLWantReadError:
                pass
    finally:
        s.close()


class _MemConn(Conn):
    """httpraw.Conn reading through a MemTls."""

    def __init__(self, t):
        self.t = t
        self.buf = bytearray()
        self.s = self

    def recv(self, n):
        while True:
            try:
                return self.t.obj.read(n)
            except ssl.SSLWantReadError:
                b = self.t.sock.recv(65536)
                if not b:
                    return b""
                self.t.inb.write(b)

    def sendall(self, data):
        self.t.sock.sendall(self.t.seal(data))

    def settimeout(self, x):
        self.t.sock.settimeout(x)


def _duplex(t, data, timeout=30.0):
    """Send DATA through MemTls T while reading what comes back (one thread, select);
    return the plaintext received once len(DATA) bytes came back, or porter closed."""
    return _pump_both(t, data, lambda got: len(got) >= len(data), timeout)


@test
def upgrade_tunnel_over_tls(env):
    """An Upgrade (101) tunnel through a TLS client stream: 4 MiB echoed, both directions
    at once (1.3 and 1.2)."""
    gw = env.gw
    for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        t = MemTls(gw, maxv=maxv, timeout=30)
        try:
            c = _MemConn(t)
            c.send(b"GET /upgrade-always HTTP/1.1\r\nHost: ec.test\r\nConnection: Upgrade\r\n"
                   b"Upgrade: websocket\r\n\r\n")
            head = c.read_until(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101"), head
            assert not c.buf, bytes(c.buf)
            data = os.urandom(4 * MiB)
            got = _duplex(t, data)
            assert got == data, "%s: %d of %d bytes echoed%s" % (
                maxv.name, len(got), len(data), "" if data.startswith(got) else " (they differ)")
        finally:
            t.close()


@test
def slow_reader_download(env):
    """A 6 MiB download read at 3 MiB/s (porter must hold back, not drop or stall), and a
    tcp+tls download of 20 MiB from tcpsource."""
    gw = env.gw
    n = 6 * MiB
    out = env.path("slow.bin")
    r = curl(gw, resolve("ec.test") + ["--limit-rate", "3M", "-o", out, "-w", "%{http_code}",
                                       "https://ec.test/size/%d" % n])
    assert r.returncode == 0 and r.stdout == "200", (r.returncode, r.stdout, r.stderr)
    with open(out, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == backends.pattern_sha256(n)
    os.unlink(out)
    n = 20 * MiB
    t = MemTls(gw, 9445, sni="tcp.test", timeout=30)
    try:
        t.sock.sendall(t.seal(b"%d\n" % n))
        h = hashlib.sha256()
        total = 0
        ended = None
        t.sock.settimeout(30)
        while ended is None:
            b = t.sock.recv(1 << 20)
            if not b:
                t.inb.write_eof()
            else:
                t.inb.write(b)
            try:
                while True:
                    d = t.obj.read(1 << 20)
                    if not d:
                        ended = "close_notify"
                        break
                    h.update(d)
                    total += len(d)
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                ended = "close_notify"
            except ssl.SSLError as e:
                ended = "error %s" % e
            if not b and ended is None:
                ended = "eof"
        assert total == n and h.hexdigest() == backends.pattern_sha256(n), "tcp+tls download: %d of %d bytes" % (total, n)
        assert ended == "close_notify", "tcp+tls download ended by %s" % ended
    finally:
        t.close()


@test
def many_concurrent_handshakes(env):
    """200 TLS connections at once (handshake, one request each, kept open until all
    are served)."""
    gw = env.gw
    n = 200
    errs = []
    conns = []
    lock = threading.Lock()

    def one(i):
        try:
            c = TlsConn(gw, timeout=20, maxv=ssl.TLSVersion.TLSv1_3 if i % 2 else ssl.TLSVersion.TLSv1_2)
            with lock:
                conns.append(c)
            r = http_get(c, "/name")
            if (r.status, r.body) != (200, b"app"):
                errs.append("%d: %r" % (i, r))
        except Exception as e:
            errs.append("%d: %r" % (i, e))
    ths = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    FIGURES["concurrent_tls_%d_s" % n] = round(time.monotonic() - t0, 2)
    for c in conns:
        c.close()
    assert not errs, "%d of %d failed, e.g. %s" % (len(errs), n, errs[:5])


@test
def oversized_heads_over_tls(env):
    """A 40 KiB head (several records) gets 431 at once, a 10 KiB request line 414, as in
    clear: the plaintext ring must not stall a head that never fits."""
    gw = env.gw
    for what, req, want in (
            ("431", b"GET /name HTTP/1.1\r\nHost: ec.test\r\n" + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n", b"HTTP/1.1 431"),
            ("414", b"GET /" + b"b" * 10000 + b" HTTP/1.1\r\nHost: ec.test\r\n\r\n", b"HTTP/1.1 414")):
        t = MemTls(gw)
        t0 = time.monotonic()
        try:
            t.sock.sendall(t.seal(req))
            plain, how = _mem_read_http(t, 8)
        finally:
            t.close()
        dt = time.monotonic() - t0
        assert plain.startswith(want), "%s: got %r (%s) after %.1fs" % (what, plain[:100], how, dt)
        assert dt < 2.5, "%s after %.1fs (the header timeout is 3 s)" % (what, dt)


@test
def handshake_and_header_timeouts(env):
    """A connection that sends nothing and one that sends half a ClientHello are closed by
    the handshake timeout (10 s); a TLS connection with half a request head gets 408 at
    the header timeout (3 s) like a plain one; a finished handshake without a request
    lasts as long as a plain connection without one (the idle timeout, 60 s: both still
    open when the test stops watching)."""
    gw = env.gw
    ch = _client_hello()
    socks = {}
    socks["nothing sent"] = connect(gw, 443, 20)
    socks["half ClientHello"] = connect(gw, 443, 20)
    socks["half ClientHello"].sendall(ch[:len(ch) // 2])
    t_idle = MemTls(gw, timeout=20)
    socks["handshake, no request"] = t_idle.sock
    t_half = MemTls(gw, timeout=20)
    t_half.sock.sendall(t_half.seal(b"GET /name HTTP/1.1\r\nHost: ec"))
    socks["handshake, half a head"] = t_half.sock
    socks["plain, no request"] = connect(gw, 80, 20)
    socks["plain, half a head"] = connect(gw, 80, 20)
    socks["plain, half a head"].sendall(b"GET /name HTTP/1.1\r\nHost: ec")
    t0 = time.monotonic()
    closed = {}
    got = {}
    lock = threading.Lock()

    def watch(name, sock):
        sock.settimeout(max(0.1, 13 - (time.monotonic() - t0)))
        data = b""
        try:
            while True:
                b = sock.recv(65536)
                if not b:
                    break
                data += b
            how = "eof"
        except ConnectionResetError:
            how = "reset"
        except socket.timeout:
            how = "open"
        with lock:
            closed[name] = (round(time.monotonic() - t0, 1), how)
            got[name] = data
    ths = [threading.Thread(target=watch, args=a) for a in socks.items()]
    for th in ths:
        th.start()
    for th in ths:
        th.join(20)
    for x in socks.values():
        x.close()
    FIGURES["closed_after_s"] = closed
    t_half.inb.write(got["handshake, half a head"])
    try:
        tls_408 = t_half.obj.read(65536)
    except ssl.SSLError as e:
        tls_408 = repr(e).encode()
    assert got["plain, half a head"].startswith(b"HTTP/1.1 408"), got["plain, half a head"][:100]
    assert tls_408.startswith(b"HTTP/1.1 408"), "TLS, half a head: %r (%r)" % (tls_408[:100], closed)
    assert abs(closed["handshake, half a head"][0] - closed["plain, half a head"][0]) < 1.5, closed
    for k in ("nothing sent", "half ClientHello"):
        assert closed[k][1] != "open" and 8 <= closed[k][0] <= 12.5, "%s: %r" % (k, closed)
    assert closed["handshake, no request"][1] == closed["plain, no request"][1], closed


@test
def request_with_client_finished(env):
    """TLS 1.3: the client's Finished and its first request in one TCP segment (what
    browsers do) are both taken: the request is served."""
    gw = env.gw
    s = connect(gw, 443)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        o = client_ctx(maxv=ssl.TLSVersion.TLSv1_3).wrap_bio(inb, outb, server_hostname="ec.test")
        while True:
            try:
                o.do_handshake()
                break
            except ssl.SSLWantReadError:
                s.sendall(outb.read())
                b = s.recv(65536)
                assert b, "closed in the handshake"
                inb.write(b)
        o.write(b"GET /name HTTP/1.1\r\nHost: ec.test\r\n\r\n")
        s.sendall(outb.read())   # Finished + the request's record
        s.settimeout(10)
        got = b""
        while not got.endswith(b"\r\n\r\napp"):
            b = s.recv(65536)
            assert b, "closed after Finished + request: %r" % got
            inb.write(b)
            try:
                while True:
                    got += o.read(65536)
            except ssl.SSLWantReadError:
                pass
        assert got.startswith(b"HTTP/1.1 200"), got
    finally:
        s.close()


@test
def access_log_sni_fields(env):
    """The access log's "sni": empty without SNI, the client's name as sent (escaped:
    a name with a quote and a backslash keeps the line JSON); plain requests have no
    TLS fields or empty ones."""
    gw = env.gw
    m = marker("sni")
    weird = 'q"uo\\te.test'
    for i, sni in enumerate([None, "RSA.Test", weird]):
        args = ["-connect", "%s:443" % PORTER_IP, "-quiet"] + (["-servername", sni] if sni else ["-noservername"])
        out = s_client(gw, args, stdin=b"GET /m/%s-%d/name HTTP/1.1\r\nHost: ec.test\r\nConnection: close\r\n\r\n" % (
            m.encode(), i))
        assert "HTTP/1.1 200" in out, "%r: %s" % (sni, out[-1000:])
    r = curl(gw, ["http://%s/m/%s-3/name" % (PORTER_IP, m)])
    assert r.stdout == "app", r
    raw = wait_for(lambda: (lambda ls: ls if len(ls) >= 4 else None)(
        [x for x in read_lines(env.access_log) if m in x]), 5, "4 access log lines")
    ents = {}
    for ln in raw:
        try:
            j = json.loads(ln)
        except ValueError:
            raise AssertionError("access log line is not JSON: %r" % ln)
        ents[int(j["path"].split("/")[2].rsplit("-", 1)[1])] = j
    assert ents[0].get("sni") == "" and ents[0].get("tls") == "TLSv1.3", ents[0]
    assert ents[1].get("sni") in ("RSA.Test", "rsa.test"), ents[1]
    assert ents[2].get("sni") == weird, "sni logged as %r, sent %r" % (ents[2].get("sni"), weird)
    assert not ents[3].get("tls") and not ents[3].get("cipher") and not ents[3].get("sni"), ents[3]


@test
def access_log_long_sni(env):
    """A server name of 120 characters (a valid host name) is logged whole in "sni" (the
    slot keeps 64 bytes of it: docs/TLS-RECORD.md's struct tls_slot)."""
    gw = env.gw
    m = marker("longsni")
    name = "x" * 60 + "." + "y" * 49 + ".long.test"
    assert len(name) == 120
    out = s_client(gw, ["-connect", "%s:443" % PORTER_IP, "-quiet", "-servername", name],
                   stdin=b"GET /m/%s/name HTTP/1.1\r\nHost: ec.test\r\nConnection: close\r\n\r\n" % m.encode())
    assert "HTTP/1.1 200" in out, out[-1000:]
    e = alog_entries(env, m, 1)[0]
    assert e.get("sni") == name, "sni logged as %r (%d of %d characters)" % (e.get("sni"), len(e.get("sni") or ""), len(name))


@test
def tcp_listener_ignores_alpn(env):
    """A tcp listener with tls (alpn = [] by default): a client offering only h2 is served,
    no protocol agreed."""
    gw = env.gw
    t = MemTls(gw, 9443, sni="tcp.test", alpn=["h2"])
    try:
        assert t.obj.selected_alpn_protocol() is None, t.obj.selected_alpn_protocol()
        t.sock.sendall(t.seal(b"abc"))
        try:
            t.obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        t.flush()
        plain, how = _mem_read_http(t, 10)
        assert plain == ("%s 3\n" % hashlib.sha256(b"abc").hexdigest()).encode(), (plain, how)
    finally:
        t.close()


@test
def close_delimited_body_over_tls(env):
    """An upstream response without Content-Length (closed by the upstream): the client
    gets every byte, then close_notify, so that the end is authentic."""
    gw = env.gw
    n = 300000
    t = MemTls(gw)
    try:
        t.sock.sendall(t.seal(b"GET /close/%d HTTP/1.1\r\nHost: ec.test\r\n\r\n" % n))
        plain, how = _mem_read_http(t, 10)
    finally:
        t.close()
    head, _, body = plain.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    if b"chunked" in head.lower():
        dec, rest = b"", body
        while True:
            ln, _, rest = rest.partition(b"\r\n")
            k = int(ln.split(b";")[0], 16)
            if k == 0:
                break
            dec, rest = dec + rest[:k], rest[k + 2:]
        body = dec
    assert body == backends.pattern(0, n), "%d bytes of %d (%s)" % (len(body), n, head)
    if b"chunked" not in head.lower() and b"content-length" not in head.lower():
        assert how == "close_notify", "close-delimited body ended by %s" % how


@test
def bad_records_after_handshake(env):
    """docs/TLS-RECORD.md's table, on the wire: after a served request, each bad record gets
    its fatal alert (read back decrypted), porter closes, and what follows it in the same
    segment is not forwarded."""
    gw = env.gw
    V13, V12 = ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2
    req = b"GET /m/%s/name HTTP/1.1\r\nHost: ec.test\r\n\r\n"

    def replay(t, m):
        r = t.seal(req % (m + b"-a"))   # the first copy is authentic, and served
        return r + r

    def reorder(t, m):
        a, b = t.seal(req % (m + b"-a")), t.seal(req % (m + b"-b"))
        return b + a

    def short(t, m):
        return b"\x17\x03\x03\x00\x05" + b"\x00" * 5

    def hs_clear(t, m):
        return b"\x16\x03\x03\x00\x04\x18\x00\x00\x00" + t.seal(req % m)

    def ccs(t, m):
        return b"\x14\x03\x03\x00\x01\x01" + t.seal(req % m)

    def alert_clear(t, m):
        return b"\x15\x03\x03\x00\x02\x02\x28" + t.seal(req % m)

    def heartbeat(t, m):
        return b"\x18\x03\x03\x00\x03\x01\x00\x00" + t.seal(req % m)

    def old_version(t, m):
        r = bytearray(t.seal(req % m))
        r[2] = 1   # 3.1
        return bytes(r)
    cases = [(V13, replay, "replayed record", "BAD_RECORD_MAC"),
             (V12, replay, "replayed record", "BAD_RECORD_MAC"),
             (V13, reorder, "reordered records", "BAD_RECORD_MAC"),
             (V12, reorder, "reordered records", "BAD_RECORD_MAC"),
             (V13, short, "record shorter than a tag", "BAD_RECORD_MAC"),
             (V12, short, "record shorter than a tag", "BAD_RECORD_MAC"),
             (V13, hs_clear, "1.3 handshake record in clear", "UNEXPECTED_MESSAGE"),
             (V13, ccs, "1.3 change_cipher_spec after the handshake", "UNEXPECTED_MESSAGE"),
             (V13, alert_clear, "1.3 alert in clear", "UNEXPECTED_MESSAGE"),
             (V12, heartbeat, "1.2 record type 24", "UNEXPECTED_MESSAGE"),
             (V12, old_version, "1.2 record version 3.1", "PROTOCOL_VERSION")]
    problems = []
    for maxv, make, what, want in cases:
        m = marker("badrec").encode()
        t = MemTls(gw, maxv=maxv)
        try:
            c = _MemConn(t)
            c.send(req % (m + b"-first"))
            r = c.response()
            if r.status != 200:
                problems.append("%s %s: the first request: %r" % (maxv.name, what, r))
                continue
            t.sock.sendall(make(t, m))
            raw, how = t.read_until_closed(5)
            reason, plain = t.decrypt_alert(raw)
        finally:
            t.close()
        ok = want in str(reason).upper().replace(" ", "_")
        if not ok or how == "timeout":
            problems.append("%s, %s: want %s, got %r then %s (plaintext %r)" % (
                maxv.name, what, want, reason, how, plain[:60]))
        FIGURES.setdefault("bad_records", {})["%s %s" % (maxv.name, what)] = "%s, %s" % (reason, how)
    # the requests before the bad records are logged: wait for the last one, then look
    wait_for(lambda: any(m.decode() + "-first" in x for x in env.req_log(8081)), 5, "the last first request")
    fwd = [x for x in env.req_log(8081) if "badrec-" in x and "-first" not in x and "-a/" not in x]
    if fwd:
        problems.append("forwarded after a bad record: %r" % fwd)
    assert not problems, "\n".join(problems)


@test
def client_close_notify(env):
    """A request then the client's close_notify (a TLS half-close): the response comes,
    then porter's close_notify. And close_notify on an idle keep-alive connection: porter
    answers close_notify and closes."""
    gw = env.gw
    for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        t = MemTls(gw, maxv=maxv)
        try:
            t.sock.sendall(t.seal(b"GET /size/50000 HTTP/1.1\r\nHost: ec.test\r\n\r\n"))
            try:
                t.obj.unwrap()
            except ssl.SSLWantReadError:
                pass
            t.flush()
            plain, how = _mem_read_http(t, 5)
        finally:
            t.close()
        assert plain.startswith(b"HTTP/1.1 200") and plain.endswith(backends.pattern(0, 50000)), \
            "%s: request + close_notify: %r (%s)" % (maxv.name, plain[:100], how)
        assert how == "close_notify", "%s: ended by %s" % (maxv.name, how)
        t = MemTls(gw, maxv=maxv)
        try:
            c = _MemConn(t)
            c.send(b"GET /name HTTP/1.1\r\nHost: ec.test\r\n\r\n")
            assert c.response().status == 200
            try:
                t.obj.unwrap()
            except ssl.SSLWantReadError:
                pass
            t.flush()
            plain, how = _mem_read_http(t, 5)
        finally:
            t.close()
        assert plain == b"" and how == "close_notify", "%s: idle close_notify answered by %r %s" % (
            maxv.name, plain[:80], how)


def _pump_both(t, payload, done, timeout=30.0):
    """Send PAYLOAD (plaintext, sealed in 16 KiB records) through MemTls T while reading;
    stop when DONE(received plaintext) is true, porter closes, or TIMEOUT. Why it stopped
    is left in T.pump_end ("done", "closed", "reset" or "timeout") for failure messages."""
    import select
    sealed = bytearray()
    for k in range(0, len(payload), 16384):
        sealed += t.seal(payload[k:k + 16384])
    got = bytearray()
    t.pump_end = None
    t.sock.setblocking(False)
    deadline = time.monotonic() + timeout
    try:
        while not done(got) and time.monotonic() < deadline:
            r, w, _ = select.select([t.sock], [t.sock] if sealed else [], [], 1.0)
            if w:
                try:
                    n = t.sock.send(sealed[:65536])
                    del sealed[:n]
                except BlockingIOError:
                    pass
            if r:
                try:
                    b = t.sock.recv(1 << 20)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    t.pump_end = "reset"
                    break
                if not b:
                    t.pump_end = "closed"
                    break
                t.inb.write(b)
                try:
                    while True:
                        got += t.obj.read(1 << 20)
                except ssl.SSLWantReadError:
                    pass
    finally:
        t.sock.setblocking(True)
    if t.pump_end is None:
        t.pump_end = "done" if done(got) else "timeout"
    return bytes(got)


def _last_body_len(g, status, n):
    """With N responses begun (STATUS lines), the bytes of the last one's body so far; -1 before.
    Waiting for this, not for N x the body size in all, keeps the heads' bytes from ending the
    wait while the last body is still short of its end."""
    if g.count(status) < n:
        return -1
    last = g.rsplit(status, 1)[1]
    head = last.find(b"\r\n\r\n")
    return -1 if head < 0 else len(last) - head - 4


@test
def pipelined_through_tls(env):
    """64 pipelined GETs of 200 kB in one record, then 16 pipelined 300 kB POSTs: every
    response, in order, bodies intact (the plaintext ring fills and drains many times)."""
    gw = env.gw
    t = MemTls(gw, timeout=30)
    try:
        n, size = 64, 200000
        reqs = b"".join(b"GET /m/p%d/size/%d HTTP/1.1\r\nHost: ec.test\r\n\r\n" % (i, size) for i in range(n))
        got = _pump_both(t, reqs, lambda g: _last_body_len(g, b"HTTP/1.1 200 OK\r\n", n) >= size)
        parts = got.split(b"HTTP/1.1 200 OK\r\n")[1:]
        assert len(parts) == n, "%d of %d responses (%d bytes, %s)" % (len(parts), n, len(got), t.pump_end)
        body = backends.pattern(0, size)
        bad = [i for i, p in enumerate(parts) if not p.endswith(body)]
        assert not bad, "responses %r differ (lengths after the head: %r; %s)" % (
            bad[:5], [len(parts[i]) - parts[i].find(b"\r\n\r\n") - 4 for i in bad[:5]], t.pump_end)
        m, psize = 16, 300000
        bodies = [os.urandom(psize) for _ in range(m)]
        reqs = b"".join(b"POST /echo HTTP/1.1\r\nHost: ec.test\r\nContent-Length: %d\r\n\r\n" % psize + b
                        for b in bodies)
        sha_re = re.compile(rb'"sha256": ?"([0-9a-f]{64})"')
        got = _pump_both(t, reqs, lambda g: len(sha_re.findall(g)) >= m)
        shas = sha_re.findall(got)
        assert [x.decode() for x in shas] == [hashlib.sha256(b).hexdigest() for b in bodies], \
            "%d of %d echo answers match" % (sum(1 for a, b in zip(shas, bodies) if a.decode() == hashlib.sha256(b).hexdigest()), m)
    finally:
        t.close()


# === slots: a small pool, and what every failure path gives back =================================

SLOTS = 16


class SlotEnv(GatewayEnv):
    """One worker, tcp.tls_sessions_per_shard = 16, a TLS listener on 443."""

    def __init__(self, time_wait_ms=300):
        d = self.cdir = os.path.join("/tmp", "porter-tls-slots-%d" % os.getpid())
        os.makedirs(d, exist_ok=True)
        self.ec = make_cert(d, "ec", "ec.test")
        extra = """
tcp: { max_streams_per_shard = 1024; tls_sessions_per_shard = %d; time_wait_ms = %d; };
listeners = ( { port = 443; protocol = "http";
                %s } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } ); } );
routes = ( { upstream = "app"; } );
""" % (SLOTS, time_wait_ms, _tls_block([(self.ec[0], self.ec[1], None)]))
        try:
            super().__init__("porter-tls-slots-", workers=1, extra=extra)
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise
        self.http_backend(8081, "app")

    def close(self, failed=False):
        super().close(failed)
        shutil.rmtree(self.cdir, ignore_errors=True)


def _hold_all(gw, n):
    """Open N TLS connections with a request served on each; return them (or raise)."""
    held = []
    try:
        for i in range(n):
            c = TlsConn(gw, timeout=5)
            held.append(c)
            r = http_get(c, "/name")
            assert (r.status, r.body) == (200, b"app"), "connection %d: %r" % (i, r)
        return held
    except BaseException:
        for c in held:
            c.close()
        raise


def _try_hold_all(gw, n):
    try:
        return _hold_all(gw, n)
    except (OSError, AssertionError, ssl.SSLError, EOFError):
        return None


@test
def slots_exhausted_and_given_back(_):
    """With 16 slots on the one shard: 16 TLS connections are served at once, the 17th is
    reset; then 30 rounds of every way a TLS connection can fail or end (garbage,
    truncated ClientHello + FIN, RST mid-handshake, ALPN refusal, tampered record,
    oversized record, renegotiation, FIN without close_notify, close_notify, Connection:
    close) and 16 connections can again be held at once: no slot leaked."""
    env = SlotEnv()
    failed = True
    try:
        gw = env.gw
        held = _hold_all(gw, SLOTS)
        try:
            try:
                extra = tls_socket(gw, timeout=5)
                extra.close()
                raise AssertionError("a 17th TLS connection was served with %d slots" % SLOTS)
            except (ConnectionResetError, ssl.SSLError, OSError) as e:
                FIGURES["slot_17th"] = repr(e)[:100]
            tot = tls_totals(gw)
            if tot is not None:
                assert tot["no_slot"] == 1 and tot["sessions"] == SLOTS, "status tls after the 17th: %r" % tot
        finally:
            for c in held:
                c.close()
        held = wait_for(lambda: _try_hold_all(gw, SLOTS), 10, "16 slots free again after closing")
        for c in held:
            c.close()
        ch = _client_hello()
        req = b"GET /name HTTP/1.1\r\nHost: ec.test\r\n\r\n"

        def rst(sock):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()

        for rnd in range(30):
            k = rnd % 10
            if k == 0:
                _raw_exchange(gw, 443, bytes(range(256)), timeout=3)
            elif k == 1:
                _raw_exchange(gw, 443, ch[:len(ch) // 2], shut=True, timeout=3)
            elif k == 2:
                s = connect(gw, 443)
                s.sendall(ch[:len(ch) - 10])
                rst(s)
            elif k == 3:
                with contextlib.suppress(ssl.SSLError):
                    tls_socket(gw, alpn=["h2"]).close()
            elif k in (4, 5):
                t = MemTls(gw, maxv=ssl.TLSVersion.TLSv1_2 if k == 5 else None)
                rec = bytearray(t.seal(req)) if k == 4 else bytearray(b"\x17\x03\x03\x48\x01" + bytes(0x4801))
                rec[-1] ^= 1
                t.sock.sendall(rec)
                t.read_until_closed(3)
                t.close()
            elif k == 6:
                t = MemTls(gw, maxv=ssl.TLSVersion.TLSv1_2)
                # a renegotiation ClientHello, sealed as a handshake record: Python cannot
                # renegotiate, so send the raw record of a fresh ClientHello in clear, which
                # the established 1.2 session must refuse too
                t.sock.sendall(ch)
                t.read_until_closed(3)
                t.close()
            elif k == 7:
                t = MemTls(gw)
                t.sock.sendall(t.seal(req))
                t.sock.shutdown(socket.SHUT_WR)   # FIN, no close_notify
                t.read_until_closed(3)
                t.close()
            elif k == 8:
                t = MemTls(gw)
                t.sock.sendall(t.seal(req))
                try:
                    t.obj.unwrap()
                except ssl.SSLWantReadError:
                    pass
                t.flush()
                t.read_until_closed(3)
                t.close()
            else:
                t = MemTls(gw)
                t.sock.sendall(t.seal(b"GET /name HTTP/1.1\r\nHost: ec.test\r\nConnection: close\r\n\r\n"))
                t.read_until_closed(3)
                rst(t.sock)
        held = wait_for(lambda: _try_hold_all(gw, SLOTS), 10, "16 slots free after 30 failing connections")
        for c in held:
            c.close()
        if tls_totals(gw) is not None:
            wait_for(lambda: tls_totals(gw)["sessions"] == 0 or None, 10, "status tls sessions back to 0 (%r)" % tls_totals(gw))
            FIGURES["slots_status_tls"] = tls_totals(gw)
        failed = False
    finally:
        env.close(failed)


@test
def slots_not_held_in_time_wait(_):
    """24 TLS connections one after the other, each a request with Connection: close (porter
    closes first, so its TCP stream waits in TIME-WAIT, tcp.time_wait_ms = 30 s): all are
    served with 16 slots, since a TIME-WAIT stream has no TLS session left to hold. Before:
    the slot went only with the TCB, so the 17th connection was reset (no_slot) for as long
    as TIME-WAIT lasts (60 s by default; 1024 slots = 17 such connections a second)."""
    env = SlotEnv(time_wait_ms=30000)
    failed = True
    try:
        gw = env.gw
        res = []
        for i in range(24):
            try:
                t = MemTls(gw, timeout=5)
                try:
                    t.sock.sendall(t.seal(b"GET /name HTTP/1.1\r\nHost: ec.test\r\nConnection: close\r\n\r\n"))
                    plain, how = _mem_read_http(t, 5)
                finally:
                    t.close()
                res.append("ok" if plain.startswith(b"HTTP/1.1 200") and how == "close_notify" else "%r %s" % (plain[:40], how))
            except (OSError, ssl.SSLError, AssertionError) as e:
                res.append(repr(e)[:60])
        tot = tls_totals(gw)
        FIGURES["time_wait_slots"] = {"results": res, "status_tls": tot}
        bad = [(i, r) for i, r in enumerate(res) if r != "ok"]
        assert not bad, "%d of 24 sequential Connection: close connections failed, first at #%d: %r; status tls %r" % (
            len(bad), bad[0][0], bad[0][1], tot)
        if tot is not None:
            wait_for(lambda: tls_totals(gw)["sessions"] == 0 or None, 5,
                     "status tls sessions 0 with no connection open (%r)" % tls_totals(gw))
        failed = False
    finally:
        env.close(failed)


# === counters ====================================================================================

def tls_totals(gw):
    """The shards' "tls" counters of porterctl status, summed (None without any)."""
    tot = {}
    for sh in gw.status()["shards"]:
        t = sh.get("tls")
        if not isinstance(t, dict):
            return None
        for k, v in t.items():
            if isinstance(v, int):
                tot[k] = tot.get(k, 0) + v
    return tot


@test
def tls_counters(env):
    """porterctl status, shards[i].tls: 4 handshakes, 2 handshake failures (ALPN refused)
    and 1 fatal alert sent (a tampered record) move handshakes/handshake_failures/
    alerts_sent by exactly that; a KeyUpdate moves key_updates; sessions comes back to
    where it was once the connections are gone."""
    gw = env.gw
    before = tls_totals(gw)
    if before is None:
        print("  (no TLS counters in porterctl status: nothing asserted)")
        FIGURES["status_tls"] = None
        return
    wait_for(lambda: tls_totals(gw)["sessions"] == 0 or None, 10, "no TLS session left from earlier tests")
    before = tls_totals(gw)
    for _ in range(3):
        c = TlsConn(gw)
        assert http_get(c, "/name").status == 200
        c.close()
    for _ in range(2):
        with contextlib.suppress(ssl.SSLError):
            tls_socket(gw, alpn=["h2"]).close()
    t = MemTls(gw)
    rec = bytearray(t.seal(b"GET /name HTTP/1.1\r\nHost: ec.test\r\n\r\n"))
    rec[-1] ^= 1
    t.sock.sendall(rec)
    t.read_until_closed(5)
    t.close()
    want = {"handshakes": 4, "handshake_failures": 2, "alerts_sent": 1}

    def delta():
        now = tls_totals(gw)
        return {k: now[k] - before[k] for k in want}
    try:
        wait_for(lambda: delta() == want, 5, "counters to move by %r" % want)
    except AssertionError:
        raise AssertionError("counter deltas %r, want %r (status tls totals: %r)" % (delta(), want, tls_totals(gw)))
    wait_for(lambda: tls_totals(gw)["sessions"] == before["sessions"] or None, 10,
             "sessions back to %d (now %r)" % (before["sessions"], tls_totals(gw)))
    FIGURES["status_tls"] = tls_totals(gw)


# === 10. testssl.sh ===============================================================================

TESTSSL = shutil.which("testssl") or shutil.which("testssl.sh")


@test
def testssl_scan(env):
    """testssl.sh (protocols, standard cipher lists, vulnerabilities) against 443, local
    only: no finding of severity HIGH or CRITICAL."""
    if not TESTSSL:
        print("  (testssl.sh not installed: skipped; tools/setup.sh installs it)")
        FIGURES["testssl"] = "not installed"
        return
    gw = env.gw
    jf = env.path("testssl.json")
    t0 = time.monotonic()
    r = gw.ns([TESTSSL, "--quiet", "--color", "0", "--warnings", "batch", "--nodns", "none",
               "--sneaky", "--jsonfile", jf, "-p", "-s", "-U", "%s:443" % PORTER_IP],
              check=False, timeout=420)
    dt = time.monotonic() - t0
    assert os.path.exists(jf), "testssl wrote no JSON (exit %d):\n%s\n%s" % (r.returncode, r.stdout[-3000:],
                                                                              r.stderr[-1000:])
    items = json.load(open(jf))
    bad = [x for x in items if x.get("severity") in ("HIGH", "CRITICAL")]
    summary = {"seconds": round(dt, 1), "findings": len(items),
               "by_severity": {}, "offered": [], "vulnerable": []}
    for x in items:
        summary["by_severity"][x.get("severity")] = summary["by_severity"].get(x.get("severity"), 0) + 1
        if x["id"] in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3") and "offered" in x["finding"] \
                and "not offered" not in x["finding"]:
            summary["offered"].append(x["id"])
        if x.get("severity") not in ("OK", "INFO") and x["id"] not in ("scanProblem",):
            summary["vulnerable"].append("%s [%s]: %s" % (x["id"], x["severity"], x["finding"][:100]))
    summary["ok"] = sorted(x["id"] for x in items if x.get("severity") == "OK")
    FIGURES["testssl"] = summary
    print("  testssl.sh %.0fs: %s" % (dt, json.dumps(summary)))
    assert not bad, "testssl.sh HIGH/CRITICAL findings:\n%s" % "\n".join(
        "%s %s: %s" % (x["id"], x["severity"], x["finding"]) for x in bad)
    assert summary["offered"] and set(summary["offered"]) <= {"TLS1_2", "TLS1_3"}, summary["offered"]


# === 8. reload ======================================================================================

def _replace_pair(env, cn):
    """New certificate and key for CN written over reload.pem/reload.key (by rename)."""
    tmpd = os.path.join(env.cdir, "new-" + cn)
    os.makedirs(tmpd, exist_ok=True)
    cert, key = make_cert(tmpd, "reload", cn)
    os.rename(key, env.reload[1])
    os.rename(cert, env.reload[0])


@test
def reload_new_certificate(env):
    """New files at the same paths + porterctl reload: new connections get the new
    certificate, a TLS connection opened before keeps working. A reload naming a key that
    is not the certificate's is refused with FILE:LINE of that key, and the last good
    certificate is still served."""
    gw = env.gw
    assert served_cn(gw, 8443) == "old.test"
    old = TlsConn(gw, 8443, sni="old.test")
    try:
        assert der_subject_cn(old.s.getpeercert(binary_form=True)) == "old.test"
        r = http_get(old, "/name", host="old.test")
        assert (r.status, r.body) == (200, b"app"), r
        pids = [s["pid"] for s in gw.status()["shards"]]
        _replace_pair(env, "new.test")
        out = gw.ctl("reload", check=False)
        assert out.returncode == 0, "reload: exit %d: %s %s" % (out.returncode, out.stdout, out.stderr)
        wait_for(lambda: served_cn(gw, 8443) == "new.test", 10, "new connections to get new.test")
        # every shard: several connections (different source ports, so both shards)
        seen = set(der_subject_cn(tls_socket(gw, 8443, sni="x").getpeercert(binary_form=True)) for _ in range(8))
        assert seen == {"new.test"}, seen
        for i in range(3):
            r = http_get(old, "/name", host="old.test")
            assert (r.status, r.body) == (200, b"app"), "connection from before the reload, request %d: %r" % (i, r)
        assert [s["pid"] for s in gw.status()["shards"]] == pids, "workers restarted by the reload"

        # a key that does not match: refused, naming the key's line
        conf = open(gw.conf).read()
        bad = conf.replace('key = "%s"' % env.reload[1], 'key = "%s"' % env.rsa[1])
        assert bad != conf
        with open(gw.conf + ".tmp", "w") as f:
            f.write(bad)
        os.rename(gw.conf + ".tmp", gw.conf)
        try:
            # rsa.key appears twice now (443's and 8443's): the line inside 8443's group
            lines = bad.splitlines()
            i8443 = next(i for i, x in enumerate(lines) if "port = 8443" in x)
            ln = next(i + 1 for i in range(i8443, len(lines)) if env.rsa[1] in lines[i])
            out = gw.ctl("reload", check=False)
            msg = out.stdout + out.stderr
            assert out.returncode != 0, "a mismatched key was accepted: %s" % msg
            assert "%s:%d:" % (gw.conf, ln) in msg, "message does not name %s:%d: %r" % (gw.conf, ln, msg)
            assert "key" in msg and env.rsa[1] in msg, msg
            assert served_cn(gw, 8443) == "new.test"
            r = http_get(old, "/name", host="old.test")
            assert r.status == 200, r
        finally:
            with open(gw.conf + ".tmp", "w") as f:
                f.write(conf)
            os.rename(gw.conf + ".tmp", gw.conf)
    finally:
        old.close()


def _handshake_ok(gw, port, **kw):
    try:
        tls_socket(gw, port, sni="x", timeout=5, **kw).close()
        return True
    except (ssl.SSLError, OSError):
        return False


def _write_conf(gw, text):
    with open(gw.conf + ".tmp", "w") as f:
        f.write(text)
    os.rename(gw.conf + ".tmp", gw.conf)


@test
def reload_tls_settings(env):
    """A reload that makes 8443 TLS 1.3-only with one suite: TLS 1.2 and other suites are
    refused there on every shard, 443 keeps both versions; reloading the old file back
    restores them. A TLS connection to 8443 opened before goes on."""
    gw = env.gw
    conf = open(gw.conf).read()
    needle = 'key = "%s"; } );' % env.reload[1]
    assert conf.count(needle) == 1, needle
    V12, V13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    old = TlsConn(gw, 8443, sni="x", maxv=V12)
    try:
        _write_conf(gw, conf.replace(needle, needle + ' protocols = [ "TLSv1.3" ]; ciphers = [ "TLS_AES_256_GCM_SHA384" ];'))
        try:
            out = gw.ctl("reload", check=False)
            assert out.returncode == 0, out.stdout + out.stderr
            wait_for(lambda: not _handshake_ok(gw, 8443, maxv=V12), 10, "TLS 1.2 refused on 8443")
            res = [(_handshake_ok(gw, 8443, maxv=V12), _handshake_ok(gw, 443, maxv=V12)) for _ in range(6)]
            assert set(res) == {(False, True)}, "1.2 on (8443, 443), six tries: %r" % res
            s = tls_socket(gw, 8443, sni="x")
            try:
                assert s.cipher()[0] == "TLS_AES_256_GCM_SHA384", s.cipher()
            finally:
                s.close()
            r = http_get(old, "/name")
            assert (r.status, r.body) == (200, b"app"), "1.2 connection from before the reload: %r" % r
        finally:
            _write_conf(gw, conf)
        out = gw.ctl("reload", check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        wait_for(lambda: all(_handshake_ok(gw, 8443, maxv=V12) for _ in range(4)), 10, "TLS 1.2 back on 8443")
    finally:
        old.close()


# === 9. --check-config ===============================================================================

def _check_conf(d, certs):
    """A gateway configuration (not started) with one http+tls listener on CERTS."""
    gw = Gateway(extra="""
listeners = ( { port = 443; protocol = "http";
                %s } );
upstreams = ( { name = "app"; servers = ( { address = "10.99.0.1:8081"; } ); } );
routes = ( { upstream = "app"; } );
""" % _tls_block(certs))
    return gw


@test
def check_config_refusals(_):
    """porter-primary --check-config: a good TLS configuration passes; an expired
    certificate and a key that is not the certificate's are refused naming FILE:LINE."""
    d = os.path.join("/tmp", "porter-tls-check-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    gws = []
    try:
        good = make_cert(d, "good", "good.test")
        other = make_cert(d, "other", "other.test")
        expired = make_expired_cert(d, "expired", "expired.test")
        gw = _check_conf(d, [good + (None,)])
        gws.append(gw)
        r = run([PRIMARY, "--check-config", gw.conf], check=False)
        assert r.returncode == 0, "good TLS configuration refused: %s" % r.stderr

        gw = _check_conf(d, [good + (None,), expired + (None,)])
        gws.append(gw)
        r = run([PRIMARY, "--check-config", gw.conf], check=False)
        ln = conf_line(gw.conf, 'cert = "%s"' % expired[0])
        assert r.returncode != 0, "expired certificate accepted"
        assert "%s:%d:" % (gw.conf, ln) in r.stderr and "expired" in r.stderr, \
            "want %s:%d: ... expired: %r" % (gw.conf, ln, r.stderr)

        gw = _check_conf(d, [(good[0], other[1], None)])
        gws.append(gw)
        r = run([PRIMARY, "--check-config", gw.conf], check=False)
        ln = conf_line(gw.conf, 'key = "%s"' % other[1])
        assert r.returncode != 0, "mismatched key accepted"
        assert "%s:%d:" % (gw.conf, ln) in r.stderr and "is not the key" in r.stderr, \
            "want %s:%d: ... is not the key: %r" % (gw.conf, ln, r.stderr)
        assert "PRIVATE KEY" not in r.stderr
    finally:
        for gw in gws:
            gw.cleanup()
        shutil.rmtree(d, ignore_errors=True)


def main():
    return run_suite(TESTS, FIGURES, "integration-figures-tls.json", make_env=TlsEnv, shared_arg="env")


if __name__ == "__main__":
    sys.exit(main())
