#!/usr/bin/env python3
"""Same-wire proxy benchmark: porter on net_af_packet beside nginx and HAProxy on Linux TCP.

  python3 tests/bench/bench_wire.py [--quick] [--rounds 3] [--seconds 10] [--arms 1,2]
                                    [--only porter,nginx,haproxy,porter-tap] [--workloads ...]
                                    [--pmd af_xdp|af_packet] [--variants NAME:key=val,...]

Run as root. This is the table every fast-path change is judged by (issue 9).

The wire: veth pairs, offloads off on both ends (tx checksum, TSO, GSO, GRO), so every
frame is <= 1500 B with a full checksum for everyone. Namespaces (TAG = our pid):

  wcl-TAG   wrk (-t2 -c64) and, one-armed, the backend nginx (0.0.0.0:8081)
  wbk-TAG   two-armed: the backend nginx (0.0.0.0:8081)
  wpx-TAG   the Linux proxies: nginx 1 worker (upstream keep-alive), HAProxy 1 thread
  wptK-TAG  porter variant K: porter-primary + 1 porter-worker, each port on net_af_xdp
            (default) or net_af_packet

            10.96.0.0/24            10.95.0.0/24
   wcl ---- veth ---- wpx (nginx, haproxy) ---- veth ---- wbk      (Linux proxies)
   wcl ---- veth ---- wptK (porter)         ---- veth ---- wbk      (porter, variant K)
            10.(80+K).0.0/24        10.(70+K).0.0/24

One-armed: the proxy reaches the backend in wcl back over the client's veth (each request
crosses that veth four times). Two-armed: clients on the first veth, the backend behind
the second (two crossings of each). Each proxy listens on one port per arm (porter: a
listener per arm, routed by listener; nginx: a server per arm; HAProxy: a frontend per
arm), so one set of processes serves both arms and all runs interleave.

`porter-tap` (one-armed only, secondary row): a second porter on net_tap, its kernel side
in wcl (10.93.0.0/24): the demo's device, for comparison.

Workloads: ka-100 (keep-alive, 100-byte body), close-100 (`Connection: close`: a new client
connection per request; upstream connections stay alive), ka-16k, close-16k (16 KiB body):
the default set. TLS (issue 14), by name only (--workloads): tls-ka-100, tls-ka-16k (wrk over
HTTPS, keep-alive), tls-full (tlsload -m new: a new connection and a full handshake per
request, `Connection: close`, 100-byte body), tls-resumed (tlsload -m reuse: the same with
each connection offering the ticket of its previous one: a resumed handshake per request).
Every TLS server gets the same certificate, made at start (--tls-key: EC P-256 by default,
or RSA 2048), the same version and suite (--tls-suite, TLS 1.3 TLS_AES_128_GCM_SHA256 by
default), groups X25519:P-256:P-384 and session tickets (one per handshake where the server
lets us say so). TLS ports: 443/444 per arm (HAProxy 453/454); upstreams stay plain HTTP.
With a TLS workload selected porter gets the two TLS listeners for the whole run.
wrk (Debian 4.1.0) resumes its session when it reconnects (SSL_clear keeps it), which is
why the handshake workloads use tests/bench/tlsload.c.

Per run: req/s, p50/p99 (wrk --latency), CPU-us per request (schedstat of every thread:
porter's primary and worker also separately; nginx master + worker; HAProxy), the whole
box's busy CPU per request (/proc/stat: includes wrk, the backend and softirq work that
the kernel charges to whoever runs), and frames per request (packets counted on the
proxy's ends of the veths). Rounds are interleaved (each contender runs each workload
once per round, the order rotated) and medians are reported, with ratios to nginx from
the medians. Not a test: it asserts nothing about speed. JSON goes to
$PORTER_BUILD/bench-wire.json. Everything it creates (namespaces, processes by pid,
hugepage files, DPDK runtime dirs, temp dirs) is removed on exit, errors included.
"""
import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_proxy import NGINX_COMMON, Proc, box_busy_ns, fmt, ns_cmd, ratio, wrk  # noqa: E402
from harness import BUILD, PRIMARY, Gateway, cpu_ns, run, wait_for  # noqa: E402

TAG = str(os.getpid())
NS = {k: "w%s-%s" % (k, TAG) for k in ("cl", "bk", "px")}
BACKEND_PORT = 8081
BODY_100 = "x" * 99 + "\n"
BIG_SIZE = 16 * 1024
PORTER_MAC = ("02:70:6f:72:74:11", "02:70:6f:72:74:12")
TAP_MAC = "02:70:6f:72:74:13"

# subnets: (client/backend side .1, proxy side .2)
NET = {"px1": "10.96.0", "px2": "10.95.0", "tap": "10.93.0"}


class Variant:
    """One porter contender on the veth: its namespace, its two veths (front towards the
    clients, back towards the two-armed backend) and how it runs. Variant K uses
    10.(80+K).0.0/24 in front and 10.(70+K).0.0/24 behind (the first: 10.80 and 10.70)."""

    def __init__(self, k, name, pmd="af_xdp", cpus="", wspin=0, pspin=0, devargs=""):
        self.k, self.name, self.pmd, self.cpus = k, name, pmd, cpus
        self.wspin, self.pspin, self.devargs = wspin, pspin, devargs
        self.ns = "wpt%d-%s" % (k, TAG)
        self.net1, self.net2 = "10.%d.0" % (80 + k), "10.%d.0" % (70 + k)
        t = TAG[-5:]
        self.dev1, self.dev2 = "wp%da%s" % (k, t), "wp%db%s" % (k, t)   # porter's ends
        self.cl_dev, self.bk_dev = "wc%db%s" % (k, t), "wb%db%s" % (k, t)


def parse_variants(spec, default_pmd, a):
    """NAME[:key=value...] comma separated; keys pmd, cpus, wspin, pspin, devargs (devargs
    takes '+' for ',')."""
    out = []
    for k, item in enumerate(x for x in spec.split(",") if x):
        parts = item.split(":")
        kw = {"pmd": default_pmd, "cpus": a.porter_cpus, "wspin": a.worker_spin,
              "pspin": a.primary_spin, "devargs": a.device_args}
        for p in parts[1:]:
            key, val = p.split("=", 1)
            kw[key] = int(val) if key in ("wspin", "pspin") else val.replace("+", ",")
        out.append(Variant(k, parts[0], **kw))
    return out
LISTEN = {1: 80, 2: 81}          # proxy port per arm (HAProxy: +10)
TLS_LISTEN = {1: 443, 2: 444}    # the same over TLS (HAProxy: +10)
TLSLOAD = os.path.join(BUILD, "tests", "tlsload")

WORKLOADS = [  # name, path, extra wrk args, kind (http: wrk; https: wrk over TLS;
    #                                             tls-new / tls-reuse: tlsload -m new / reuse)
    ("ka-100", "/100", [], "http"),
    ("close-100", "/100", ["-H", "Connection: close"], "http"),
    ("ka-16k", "/16k.bin", [], "http"),
    ("close-16k", "/16k.bin", ["-H", "Connection: close"], "http"),
    ("tls-ka-100", "/100", [], "https"),
    ("tls-ka-16k", "/16k.bin", [], "https"),
    ("tls-full", "/100", [], "tls-new"),
    ("tls-resumed", "/100", [], "tls-reuse"),
]
DEFAULT_WORKLOADS = ("ka-100", "close-100", "ka-16k", "close-16k")
TLS_GROUPS = "X25519:P-256:P-384"   # porter's (docs/TLS.md); given to nginx and HAProxy too

NGINX_TLS = """    ssl_certificate %(d)s/cert.pem;
    ssl_certificate_key %(d)s/key.pem;
    ssl_protocols %(nginx_protocols)s;
    %(nginx_suites)s
    ssl_prefer_server_ciphers on;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_session_tickets on;
    ssl_session_cache off;
    ssl_conf_command NumTickets 1;
    server { listen %(ip)s:%(t1)d ssl backlog=4096;
             location / { proxy_pass http://one; proxy_http_version 1.1;
                          proxy_set_header Connection ""; } }
    server { listen %(ip)s:%(t2)d ssl backlog=4096;
             location / { proxy_pass http://two; proxy_http_version 1.1;
                          proxy_set_header Connection ""; } }"""

HAPROXY_TLS = """frontend tone
    bind %(ip)s:%(t1)d ssl crt %(d)s/haproxy.pem %(hap_tls)s
    default_backend one
frontend ttwo
    bind %(ip)s:%(t2)d ssl crt %(d)s/haproxy.pem %(hap_tls)s
    default_backend two
"""

PORTER_TLS = """listeners = ( { port = 80; protocol = "http"; }, { port = 81; protocol = "http"; },
  { port = 443; protocol = "http"; tls = { certificates = ( { cert = "%(d)s/cert.pem"; key = "%(d)s/key.pem"; } );
    protocols = [ %(porter_protocols)s ]; ciphers = [ %(porter_suites)s ]; }; },
  { port = 444; protocol = "http"; tls = { certificates = ( { cert = "%(d)s/cert.pem"; key = "%(d)s/key.pem"; } );
    protocols = [ %(porter_protocols)s ]; ciphers = [ %(porter_suites)s ]; }; } );
routes = ( { listener = 80; upstream = "one"; }, { listener = 81; upstream = "two"; },
           { listener = 443; upstream = "one"; }, { listener = 444; upstream = "two"; } );"""


def make_tls(d, key, version, suite):
    """One self-signed certificate (CN and SAN bench.test) and key in D (cert.pem, key.pem,
    haproxy.pem = both) and the settings every TLS server gets, as template fields."""
    newkey = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec"
              else ["-newkey", "rsa:2048"])
    run(["openssl", "req", "-x509", "-nodes"] + newkey + [
        "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem"),
        "-days", "7", "-subj", "/CN=bench.test", "-addext", "subjectAltName=DNS:bench.test"])
    os.chmod(os.path.join(d, "key.pem"), 0o600)
    with open(os.path.join(d, "haproxy.pem"), "w") as f:
        for n in ("cert.pem", "key.pem"):
            with open(os.path.join(d, n)) as g:
                f.write(g.read())
    v13 = version == "1.3"
    return {"d": d, "key": key, "version": version, "suite": suite,
            "nginx_protocols": "TLSv1.3" if v13 else "TLSv1.2",
            "nginx_suites": ("ssl_conf_command Ciphersuites %s;" % suite) if v13
            else ("ssl_ciphers %s;" % suite),
            "porter_protocols": '"TLSv1.3"' if v13 else '"TLSv1.2"',
            "porter_suites": '"%s"' % suite,
            "hap_tls": ("ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3 ciphersuites %s" % suite if v13
                        else "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2 ciphers %s" % suite)
            + " curves " + TLS_GROUPS}


def tlsload(ns, ip, port, path, seconds, threads, conns, mode, suite, version):
    """tests/bench/tlsload.c: a new connection per request, full (mode new) or resumed
    (mode reuse) handshakes; its figures in wrk's keys."""
    cmd = ns_cmd(ns, [TLSLOAD, "-t%d" % threads, "-c%d" % conns, "-d%d" % seconds, "-m", mode,
                      "-s", "bench.test", "-V", version, "-C", suite, ip, str(port), path])
    r = run(cmd, check=False, timeout=seconds + 60)
    res = {"requests": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None, "socket_errors": 0,
           "non2xx3xx": 0, "rc": r.returncode}
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
        res.update(requests=j["requests"], rps=j["rps"], p50_ms=j["p50_ms"], p99_ms=j["p99_ms"],
                   socket_errors=j["errors"], non2xx3xx=j["non200"], resumed=j["resumed"],
                   timeouts=j["timeouts"], cut_in_handshake=j.get("cut_in_handshake", 0))
        if j["errors"]:
            res["socket_errors_detail"] = "errors %d (timeouts %d)" % (j["errors"], j["timeouts"])
    except (ValueError, IndexError, KeyError):
        res["output"] = (r.stdout + r.stderr)[-1500:]
        if not res["rc"]:
            res["rc"] = -1
    return res

BACKEND_HTTP = """    server {
        listen 0.0.0.0:%(port)d backlog=4096 reuseport;
        root %(d)s/www;
        location = /100 { default_type text/plain; return 200 "%(body)s"; }
    }"""

NGINX_PROXY = """    upstream one { server %(one)s:%(bport)d; keepalive 64; keepalive_requests 1000000;
                   keepalive_timeout 120s; }
    upstream two { server %(two)s:%(bport)d; keepalive 64; keepalive_requests 1000000;
                   keepalive_timeout 120s; }
    server { listen %(ip)s:%(p1)d backlog=4096;
             location / { proxy_pass http://one; proxy_http_version 1.1;
                          proxy_set_header Connection ""; } }
    server { listen %(ip)s:%(p2)d backlog=4096;
             location / { proxy_pass http://two; proxy_http_version 1.1;
                          proxy_set_header Connection ""; } }"""

HAPROXY_CONF = """global
    nbthread 1
%(cpumap)s
    maxconn 8192
    pidfile %(d)s/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    http-reuse always
frontend one
    bind %(ip)s:%(p1)d
    default_backend one
frontend two
    bind %(ip)s:%(p2)d
    default_backend two
backend one
    server s1 %(one)s:%(bport)d
backend two
    server s2 %(two)s:%(bport)d
"""

PORTER_CONF = """eal: { file_prefix = "%(prefix)s"; lcore_base = %(lcore)d; cpus = "%(cpus)s"; };
ports = ( %(ports)s );
workers: { count = %(workers)d; binary = "porter-worker"; ready_timeout_ms = 10000; spin_us = %(wspin)d; };
dataplane: { mbufs = 16383; primary_spin_us = %(pspin)d; };
control: { socket = "%(sock)s"; };
%(listeners)s
upstreams = (
  { name = "one"; servers = ( { address = "%(one)s:%(bport)d"; } ); keepalive = { max_idle = 64; }; },
  { name = "two"; servers = ( { address = "%(two)s:%(bport)d"; } ); keepalive = { max_idle = 64; }; } );
%(extra)s
"""
PORTER_PLAIN = """listeners = ( { port = 80; protocol = "http"; }, { port = 81; protocol = "http"; } );
routes = ( { listener = 80; upstream = "one"; }, { listener = 81; upstream = "two"; } );"""


def sh(ns, *cmd, check=True):
    return run(ns_cmd(ns, list(cmd)), check=check)


def veth(ns_a, dev_a, ip_a, ns_b, dev_b, ip_b, mac_b=None):
    """A veth pair between two namespaces, offloads off on both ends, IPv6 off."""
    run(["ip", "-n", ns_a, "link", "add", dev_a, "type", "veth", "peer", "name", dev_b,
         "netns", ns_b])
    for ns, dev, ip in ((ns_a, dev_a, ip_a), (ns_b, dev_b, ip_b)):
        sh(ns, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev, check=False)
        sh(ns, "ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
           check=False)
        if ip:
            run(["ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev])
    if mac_b:
        run(["ip", "-n", ns_b, "link", "set", dev_b, "address", mac_b])
    run(["ip", "-n", ns_a, "link", "set", dev_a, "up"])
    run(["ip", "-n", ns_b, "link", "set", dev_b, "up"])


def link_packets(ns, devs):
    """rx + tx packets of DEVS in NS."""
    total = 0
    for d in devs:
        r = run(["ip", "-n", ns, "-j", "-s", "link", "show", "dev", d], check=False)
        with contextlib.suppress(Exception):
            st = json.loads(r.stdout)[0]["stats64"]
            total += st["rx"]["packets"] + st["tx"]["packets"]
    return total


class Topology:
    def __init__(self, variants):
        self.made = []
        try:
            for ns in list(NS.values()) + [v.ns for v in variants]:
                run(["ip", "netns", "add", ns])
                self.made.append(ns)
                sh(ns, "ip", "link", "set", "lo", "up")
                sh(ns, "sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000")
                sh(ns, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1")
                sh(ns, "sysctl", "-qw", "net.core.somaxconn=8192")
            t = TAG[-6:]
            self.dev = {"px1": "wxa" + t, "px2": "wxb" + t}
            # the client's veth end towards each contender (captures)
            self.cl_dev = {"nginx": "wca" + t, "haproxy": "wca" + t, "porter-tap": "wtp" + t}
            veth(NS["cl"], "wca" + t, NET["px1"] + ".1", NS["px"], self.dev["px1"], NET["px1"] + ".2")
            veth(NS["bk"], "wba" + t, NET["px2"] + ".1", NS["px"], self.dev["px2"], NET["px2"] + ".2")
            # porter's ends carry no kernel address: the kernel there stays silent
            for v in variants:
                veth(NS["cl"], v.cl_dev, v.net1 + ".1", v.ns, v.dev1, None, PORTER_MAC[0])
                veth(NS["bk"], v.bk_dev, v.net2 + ".1", v.ns, v.dev2, None, PORTER_MAC[1])
                self.cl_dev[v.name] = v.cl_dev
        except BaseException:
            self.close()
            raise

    def close(self):
        for ns in self.made:
            run(["ip", "netns", "del", ns], check=False)
        self.made = []


class WireGateway(Gateway):
    """porter-primary in an existing namespace on devices that already exist."""

    def __init__(self, netns, ports, lcore, workers=1, extra="", wspin=0, pspin=0, cpus="",
                 tls=None):
        super().__init__(workers=workers, name="wire" + TAG)
        self.netns = netns
        self.owns_netns = False   # the Topology's: cleanup leaves it
        self.prefix = "pwire%s_%d" % (TAG, lcore)
        with open(self.conf, "w") as f:
            f.write(PORTER_CONF % {"prefix": self.prefix, "lcore": lcore, "ports": ports,
                                   "workers": workers, "sock": self.sock, "extra": extra,
                                   "wspin": wspin, "pspin": pspin, "cpus": cpus,
                                   "listeners": PORTER_TLS % tls if tls else PORTER_PLAIN,
                                   "one": self.one, "two": self.two, "bport": BACKEND_PORT})

    def start(self, wait_ready=True):
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.netns, PRIMARY, "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        self.wait_all_ready(timeout=30)
        self.wait_standbys_ready()   # no standby EAL init inside a measurement
        return self

    def cpu_ns(self):
        return sum(self.split_cpu())

    def split_cpu(self):
        """(primary ns, workers ns) of CPU so far."""
        st = self.status()
        return cpu_ns(self.proc.pid), sum(cpu_ns(s["pid"]) for s in st["shards"] if s["pid"])

    def counters(self):
        st = self.status()
        c = {}
        for s in st["shards"]:
            for k, v in s["tcp"]["events"].items():
                c["tcp." + k] = c.get("tcp." + k, 0) + v
            for k, v in s["tcp"]["drops"].items():
                c["tcp.drop." + k] = c.get("tcp.drop." + k, 0) + v
            for k, v in (s.get("tls") or {}).items():
                if isinstance(v, int):
                    c["tls." + k] = c.get("tls." + k, 0) + v
            for k, v in s.get("http", {}).items():
                if isinstance(v, int):
                    c["http." + k] = c.get("http." + k, 0) + v
            for k, v in s.items():
                if isinstance(v, int) and not isinstance(v, bool) and k not in ("pid", "shard", "epoch", "lcore"):
                    c["shard." + k] = c.get("shard." + k, 0) + v
        for p in st["ports"]:
            for k, v in p.items():
                if isinstance(v, int):
                    c["port.%s.%s" % (p["name"], k)] = v
            for k, v in p["drops"].items():
                c["port.%s.drop.%s" % (p["name"], k)] = v
        return c


class PorterAF(WireGateway):
    def __init__(self, v, lcore, workers, extra, tls=None):
        self.one, self.two = v.net1 + ".1", v.net2 + ".1"
        dev = ",".join(x for x in ("", v.devargs) if x)
        ports = ('{ name = "front"; device = "net_%s%d,iface=%s%s"; mac = "%s"; ipv4 = "%s.2/24"; }, '
                 '{ name = "back"; device = "net_%s%d,iface=%s%s"; mac = "%s"; ipv4 = "%s.2/24"; }' % (
                     v.pmd, 2 * v.k, v.dev1, dev, PORTER_MAC[0], v.net1,
                     v.pmd, 2 * v.k + 1, v.dev2, dev, PORTER_MAC[1], v.net2))
        super().__init__(v.ns, ports, lcore, workers, extra, v.wspin, v.pspin, v.cpus, tls)


class PorterTap(WireGateway):
    one, two = NET["tap"] + ".1", NET["tap"] + ".1"

    def start(self, wait_ready=True):
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.netns, PRIMARY, "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        wait_for(lambda: run(["ip", "-n", self.netns, "link", "show", self.iface],
                             check=False).returncode == 0 or self.proc.poll() is not None,
                 20, "tap " + self.iface)
        if self.proc.poll() is not None:
            raise RuntimeError("porter (tap) exited:\n" + self.log_text())
        run(["ip", "-n", self.netns, "addr", "add", NET["tap"] + ".1/24", "dev", self.iface])
        run(["ip", "-n", self.netns, "link", "set", self.iface, "up"])
        self.wait_all_ready(timeout=30)
        self.wait_standbys_ready()   # no standby EAL init inside a measurement
        return self


def delta(a, b):
    return {k: b[k] - a.get(k, 0) for k in b if b[k] != a.get(k, 0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds of 4 s")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--seconds", type=int, default=None, help="wrk -d per run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1, help="porter worker processes")
    ap.add_argument("--arms", default="1,2", help="1 (one-armed), 2 (two-armed) or 1,2")
    ap.add_argument("--only", default="", help="comma-separated contenders")
    ap.add_argument("--workloads", default="", help="comma-separated workloads")
    ap.add_argument("--porter-extra", default="", help="extra porter config (tuning runs)")
    ap.add_argument("--tls-key", default="ec", choices=("ec", "rsa"),
                    help="the TLS workloads' certificate key: EC P-256 (default) or RSA 2048")
    ap.add_argument("--tls-version", default="1.3", choices=("1.2", "1.3"))
    ap.add_argument("--tls-suite", default=None,
                    help="the one suite every TLS server offers (default TLS_AES_128_GCM_SHA256 with "
                         "1.3, ECDHE-ECDSA-AES128-GCM-SHA256 or ECDHE-RSA-... with 1.2)")
    ap.add_argument("--worker-spin", type=int, default=0, help="porter workers.spin_us")
    ap.add_argument("--primary-spin", type=int, default=0, help="porter dataplane.primary_spin_us")
    ap.add_argument("--porter-cpus", default=None, help="porter eal.cpus (default: --proxy-cpu)")
    ap.add_argument("--proxy-cpu", default="",
                    help="the CPU every proxy runs on (nginx worker_cpu_affinity, HAProxy cpu-map, "
                         "porter eal.cpus: its primary and worker); '' lets them float")
    ap.add_argument("--variants", default="",
                    help="several porter contenders, interleaved like the others: NAME[:key=value]..., "
                         "comma separated; keys pmd (af_xdp|af_packet), cpus, wspin, pspin, devargs "
                         "('+' for ','), e.g. 'porter-xdp:pmd=af_xdp,porter-pkt:pmd=af_packet'")
    ap.add_argument("--device-args", default="", help="extra devargs for porter's ports, e.g. framecnt=4096")
    ap.add_argument("--pmd", default="af_xdp", choices=("af_packet", "af_xdp"),
                    help="porter's driver on the veth (af_xdp measured ~30 %% faster here)")
    ap.add_argument("--profile", default="",
                    help="during each run, run this shell command ({pids}: the proxy's pids, "
                         "{netns} and {devs}: its namespace and veth ends, {ns_cl} and {cl_dev}: the "
                         "client's namespace and its veth end towards the proxy, {seconds}, "
                         "{run}: a name for the run); e.g. perf record or tcpdump")
    ap.add_argument("--out", default=os.path.join(BUILD, "bench-wire.json"))
    a = ap.parse_args()
    if a.porter_cpus is None:
        a.porter_cpus = a.proxy_cpu
    rounds = a.rounds or (2 if a.quick else 3)
    seconds = a.seconds or (4 if a.quick else 10)
    arms = [int(x) for x in a.arms.split(",")]
    names = a.workloads.split(",") if a.workloads else DEFAULT_WORKLOADS
    unknown = set(names) - {w[0] for w in WORKLOADS}
    if unknown:
        ap.error("unknown workloads: %s" % ",".join(sorted(unknown)))
    workloads = [w for w in WORKLOADS if w[0] in names]
    want_tls = any(w[3] != "http" for w in workloads)
    if a.tls_suite is None:
        a.tls_suite = "TLS_AES_128_GCM_SHA256" if a.tls_version == "1.3" else \
            "ECDHE-%s-AES128-GCM-SHA256" % ("ECDSA" if a.tls_key == "ec" else "RSA")

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="porter-bench-wire-")
    os.chmod(tmp, 0o755)
    topo = None
    gws, servers = [], []
    want = set(a.only.split(",")) if a.only else {"porter", "nginx", "haproxy", "porter-tap"}
    variants = parse_variants(a.variants or ("porter:pmd=" + a.pmd), a.pmd, a) \
        if ("porter" in want or a.variants) else []
    try:
        topo = Topology(variants)
        tls = None
        if want_tls:
            if not os.access(TLSLOAD, os.X_OK):
                raise RuntimeError("%s not built (ninja -C $PORTER_BUILD)" % TLSLOAD)
            d = os.path.join(tmp, "tls")
            os.makedirs(d)
            tls = make_tls(d, a.tls_key, a.tls_version, a.tls_suite)
        www = os.path.join(tmp, "www")
        os.makedirs(www)
        with open(os.path.join(www, "16k.bin"), "wb") as f:
            f.write(bytes((i * 7 + (i >> 8)) & 0xff for i in range(BIG_SIZE)))
        for k in ("cl", "bk"):
            d = os.path.join(tmp, "backend-" + k)
            os.makedirs(d)
            os.symlink(www, os.path.join(d, "www"))
            with open(os.path.join(d, "nginx.conf"), "w") as f:
                f.write(NGINX_COMMON % {"d": d, "body": BACKEND_HTTP % {
                    "port": BACKEND_PORT, "d": d, "body": BODY_100[:-1] + "\\n"}})
            servers.append(Proc("backend-" + k, NS[k], [
                "nginx", "-p", d, "-e", os.path.join(d, "error.log"), "-c",
                os.path.join(d, "nginx.conf"), "-g", "daemon off;"], d,
                "http://127.0.0.1:%d/100" % BACKEND_PORT))
        backends = servers[:]

        px_ip = NET["px1"] + ".2"
        contenders = []   # name, {arm or ("tls", arm): base url}, cpu object, (ns, devs) for frame counts

        def with_tls(urls, ip, port_of):
            if tls:
                urls.update({("tls", arm): "https://%s:%d" % (ip, port_of(arm)) for arm in list(urls)})
            return urls
        if "nginx" in want:
            d = os.path.join(tmp, "nginx")
            os.makedirs(d)
            with open(os.path.join(d, "nginx.conf"), "w") as f:
                conf = NGINX_COMMON
                if a.proxy_cpu:
                    # pin the one worker like the other proxies: a bit mask, CPU N = bit N
                    conf = conf.replace("worker_processes 1;", "worker_processes 1;\nworker_cpu_affinity %s;"
                                        % bin(1 << int(a.proxy_cpu))[2:])
                f.write(conf % {"d": d, "body": NGINX_PROXY % {
                    "one": NET["px1"] + ".1", "two": NET["px2"] + ".1", "bport": BACKEND_PORT,
                    "ip": px_ip, "p1": LISTEN[1], "p2": LISTEN[2]} + (
                        "\n" + NGINX_TLS % dict(tls, ip=px_ip, t1=TLS_LISTEN[1], t2=TLS_LISTEN[2])
                        if tls else "")})
            ngx = Proc("nginx", NS["px"], ["nginx", "-p", d, "-e", os.path.join(d, "error.log"),
                                          "-c", os.path.join(d, "nginx.conf"), "-g", "daemon off;"],
                       d, "http://%s:%d/100" % (px_ip, LISTEN[1]))
            servers.append(ngx)
            contenders.append(("nginx", with_tls({arm: "http://%s:%d" % (px_ip, LISTEN[arm]) for arm in arms},
                                                 px_ip, lambda arm: TLS_LISTEN[arm]),
                               ngx, (NS["px"], [topo.dev["px1"], topo.dev["px2"]])))
        if "haproxy" in want:
            d = os.path.join(tmp, "haproxy")
            os.makedirs(d)
            with open(os.path.join(d, "haproxy.cfg"), "w") as f:
                f.write(HAPROXY_CONF % {"cpumap": ("    cpu-map 1/all %s" % a.proxy_cpu) if a.proxy_cpu else "",
                                        "d": d, "ip": px_ip, "p1": LISTEN[1] + 10,
                                        "p2": LISTEN[2] + 10, "one": NET["px1"] + ".1",
                                        "two": NET["px2"] + ".1", "bport": BACKEND_PORT} + (
                    HAPROXY_TLS % dict(tls, ip=px_ip, t1=TLS_LISTEN[1] + 10, t2=TLS_LISTEN[2] + 10)
                    if tls else ""))
            hap = Proc("haproxy", NS["px"], ["haproxy", "-db", "-f", os.path.join(d, "haproxy.cfg")],
                       d, "http://%s:%d/100" % (px_ip, LISTEN[1] + 10))
            servers.append(hap)
            contenders.append(("haproxy", with_tls({arm: "http://%s:%d" % (px_ip, LISTEN[arm] + 10)
                                                    for arm in arms}, px_ip,
                                                   lambda arm: TLS_LISTEN[arm] + 10),
                               hap, (NS["px"], [topo.dev["px1"], topo.dev["px2"]])))
        for v in variants:
            gw = PorterAF(v, 20 + 4 * v.k, a.workers, a.porter_extra, tls)
            gw.name = v.name
            gws.append(gw)
            gw.start()
            contenders.append((v.name, with_tls({arm: "http://%s.2:%d" % (v.net1, LISTEN[arm])
                                                 for arm in arms}, v.net1 + ".2",
                                                lambda arm: TLS_LISTEN[arm]),
                               gw, (v.ns, [v.dev1, v.dev2])))
        if "porter-tap" in want and 1 in arms:
            iface = "wtp" + TAG[-6:]
            gt = PorterTap(NS["cl"], '{ name = "tap"; device = "net_tap0,iface=%s"; mac = "%s"; '
                           'ipv4 = "%s.2/24"; }' % (iface, TAP_MAC, NET["tap"]), 40, a.workers,
                           a.porter_extra, a.worker_spin, a.primary_spin, a.porter_cpus, tls)
            gt.iface = iface
            gws.append(gt)
            gt.start()
            contenders.append(("porter-tap", with_tls({1: "http://%s.2:%d" % (NET["tap"], LISTEN[1])},
                                                      NET["tap"] + ".2", lambda arm: TLS_LISTEN[arm]),
                               gt, (NS["cl"], [gt.iface])))

        # every contender serves both resources correctly, on every arm, before timing
        for name, urls, _, _ in contenders:
            for arm, base in urls.items():
                for path, size in (("/100", len(BODY_100)), ("/16k.bin", BIG_SIZE)):
                    ok = False
                    for _ in range(20):
                        r = sh(NS["cl"], "curl", "-sS", "-o", "/dev/null", "-w",
                               "%{http_code} %{size_download}", "--max-time", "3", base + path,
                               *(["-k", "--tlsv" + a.tls_version, "--tls-max", a.tls_version]
                                 if base.startswith("https") else []), check=False)
                        if r.stdout.split() == ["200", str(size)]:
                            ok = True
                            break
                        time.sleep(0.2)
                    if not ok:
                        raise RuntimeError("%s arm %s %s: %r %s" % (name, arm, path, r.stdout,
                                                                    r.stderr))
        for name, urls, _, _ in contenders:   # warm-up: ARP, upstream pools
            for base in urls.values():
                if base.startswith("http:") or want_tls:
                    wrk(NS["cl"], base + "/100", 1, a.threads, a.conns)

        runs = {}
        for rnd in range(rounds):
            for arm in arms:
                for wname, path, extra, kind in workloads:
                    k = rnd % len(contenders)
                    for name, urls, proc, (fns, fdevs) in contenders[k:] + contenders[:k]:
                        if arm not in urls:
                            continue
                        is_porter = isinstance(proc, WireGateway)
                        if is_porter:
                            pc0, (pp0, pw0) = proc.counters(), proc.split_cpu()
                        c0 = proc.cpu_ns()
                        f0 = link_packets(fns, fdevs)
                        b0 = sum(b.cpu_ns() for b in backends)
                        x0 = box_busy_ns()
                        prof = None
                        if a.profile:
                            pids = ",".join(str(x) for x in (
                                proc.process_pids() if is_porter else proc.pids()))
                            prof = subprocess.Popen(a.profile.format(
                                pids=pids, seconds=max(1, seconds - 2), netns=fns,
                                ns_cl=NS["cl"], cl_dev=topo.cl_dev[name],
                                devs=",".join(fdevs),
                                run="%s-%d-%s-r%d" % (name, arm, wname, rnd)), shell=True,
                                executable="/bin/bash")
                        if kind == "http":
                            res = wrk(NS["cl"], urls[arm] + path, seconds, a.threads, a.conns, extra)
                        elif kind == "https":
                            res = wrk(NS["cl"], urls[("tls", arm)] + path, seconds, a.threads,
                                      a.conns, extra)
                        else:
                            host, port = urls[("tls", arm)].split("//")[1].split(":")
                            res = tlsload(NS["cl"], host, int(port), path, seconds, a.threads,
                                          a.conns, kind[4:], a.tls_suite, a.tls_version)
                        if prof is not None:
                            prof.wait()
                        x1 = box_busy_ns()
                        b1 = sum(b.cpu_ns() for b in backends)
                        f1 = link_packets(fns, fdevs)
                        c1 = proc.cpu_ns()
                        n = res["requests"] or 1
                        res.update(round=rnd, arm=arm, proxy_cpu_us=(c1 - c0) / 1e3 / n,
                                   backend_cpu_us=(b1 - b0) / 1e3 / n, box_cpu_us=(x1 - x0) / 1e3 / n,
                                   frames_per_req=(f1 - f0) / n)
                        if is_porter:
                            pp1, pw1 = proc.split_cpu()
                            res["primary_cpu_us"] = (pp1 - pp0) / 1e3 / n
                            res["worker_cpu_us"] = (pw1 - pw0) / 1e3 / n
                            res["counters"] = delta(pc0, proc.counters())
                        runs.setdefault((arm, wname, name), []).append(res)
                        bad = ""
                        if kind.startswith("tls-"):
                            bad += "  resumed %d/%d, %d cut in handshake at the end" % (
                                res.get("resumed", 0), res["requests"], res.get("cut_in_handshake", 0))
                        if is_porter and kind != "http":
                            pc = res["counters"]
                            bad += "  (porter: handshakes %d resumed %d failures %d)" % (
                                pc.get("tls.handshakes", 0), pc.get("tls.handshakes_resumed", 0),
                                pc.get("tls.handshake_failures", 0))
                        if res["non2xx3xx"] or res["socket_errors"] or res["rc"]:
                            bad = "  ERRORS non2xx %d socket %s rc %d" % (
                                res["non2xx3xx"], res.get("socket_errors_detail", 0), res["rc"])
                        print("round %d arm %d %-11s %-10s %8.0f req/s p50 %s p99 %s ms  cpu %s "
                              "us/req%s  %.1f frames/req%s" % (
                                  rnd, arm, wname, name, res["rps"], fmt(res["p50_ms"], "%.2f"),
                                  fmt(res["p99_ms"], "%.2f"), fmt(res["proxy_cpu_us"], "%.1f"),
                                  " (primary %.1f, worker %.1f)" % (res["primary_cpu_us"],
                                                                    res["worker_cpu_us"])
                                  if is_porter else "", res["frames_per_req"], bad), flush=True)

        keys = ("rps", "p50_ms", "p99_ms", "proxy_cpu_us", "primary_cpu_us", "worker_cpu_us",
                "backend_cpu_us", "box_cpu_us", "frames_per_req")
        med = {}
        for key, rs in runs.items():
            m = {}
            for k2 in keys:
                vals = [r[k2] for r in rs if r.get(k2) is not None]
                m[k2] = statistics.median(vals) if vals else None
            m["errors"] = sum(r["non2xx3xx"] + r["socket_errors"] for r in rs)
            if any("resumed" in r for r in rs):
                m["resumed"] = sum(r.get("resumed", 0) for r in rs)
                m["requests"] = sum(r["requests"] for r in rs)
            med[key] = m

        print("\nporter %d worker(s) on net_%s%s; veth offloads off; wrk -t%d -c%d, "
              "%d s x %d rounds, medians; load avg at end %s\n" % (
                  a.workers, a.pmd, (" (" + a.device_args + ")") if a.device_args else "", a.threads,
                  a.conns, seconds, rounds, "%.2f %.2f %.2f" % os.getloadavg()))
        print("| arm | workload | contender | req/s | x nginx | p50 ms | p99 ms | CPU-us/req "
              "(primary+worker) | x nginx CPU | frames/req | box CPU-us/req | errors |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        names = [c[0] for c in contenders]
        for arm in arms:
            for wname, _, _, _ in workloads:
                nx = med.get((arm, wname, "nginx"), {})
                for name in names:
                    m = med.get((arm, wname, name))
                    if m is None:
                        continue
                    split = ""
                    if m.get("primary_cpu_us") is not None:
                        split = " (%.1f+%.1f)" % (m["primary_cpu_us"], m["worker_cpu_us"])
                    print("| %d | %s | %s | %s | %s | %s | %s | %s%s | %s | %s | %s | %d |" % (
                        arm, wname, name, fmt(m["rps"]), fmt(ratio(m["rps"], nx.get("rps")), "%.2f"),
                        fmt(m["p50_ms"], "%.2f"), fmt(m["p99_ms"], "%.2f"),
                        fmt(m["proxy_cpu_us"], "%.1f"), split,
                        fmt(ratio(m["proxy_cpu_us"], nx.get("proxy_cpu_us")), "%.2f"),
                        fmt(m["frames_per_req"], "%.1f"), fmt(m["box_cpu_us"], "%.1f"),
                        m["errors"]))
        if tls:
            print("\nTLS: %s, one %s certificate, %s; tls-full and tls-resumed: one request and one "
                  "handshake per connection (req/s = handshakes/s, CPU-us/req = per handshake); "
                  "resumed (client's count, all rounds): %s" % (
                      "TLS " + a.tls_version, "EC P-256" if a.tls_key == "ec" else "RSA 2048",
                      a.tls_suite, ", ".join(
                          "%s/%s %d/%d" % (k[1], k[2], m["resumed"], m["requests"])
                          for k, m in sorted(med.items()) if "resumed" in m)))
        for gw in gws:
            lines = [ln for ln in gw.log_text().splitlines()
                     if any(w in ln.lower() for w in ("error", "warn", "fail", "died", "restart"))]
            if lines:
                print("\n%s log, suspicious lines (%d):" % (gw.name, len(lines)))
                for ln in lines[-10:]:
                    print("  " + ln)
        out = {"config": vars(a), "elapsed_s": time.monotonic() - t_start,
               "loadavg_end": os.getloadavg(),
               "median": {"%d/%s/%s" % k: v for k, v in med.items()},
               "runs": {"%d/%s/%s" % k: v for k, v in runs.items()}}
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
        print("\nJSON: %s (%.0f s)" % (a.out, time.monotonic() - t_start))
    except BaseException:
        for gw in gws:
            with contextlib.suppress(Exception):
                print("--- %s log (tail) ---\n%s" % (gw.name, gw.log_text()[-3000:]), file=sys.stderr)
        for s in servers:
            with contextlib.suppress(Exception):
                print("--- %s log (tail) ---\n%s" % (s.name, s.log_tail()), file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for s in reversed(servers):
            with contextlib.suppress(Exception):
                s.stop()
        for gw in gws:
            with contextlib.suppress(Exception):
                gw.cleanup()
        if topo is not None:
            topo.close()
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    main()
