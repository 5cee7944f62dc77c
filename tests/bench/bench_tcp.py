#!/usr/bin/env python3
"""TCP benchmark: porter's stack against Linux's, measured in one run.

  python3 tests/bench/bench_tcp.py [--mb 256] [--conns 2000] [--rounds 3]

Links (each in namespaces this script creates and removes):
  porter/tap       porter-primary on net_tap, client = Linux on the tap's kernel side
  porter/veth      porter-primary on net_af_packet over a veth pair
  linux/veth       a Linux server (python) in a second namespace over a veth pair,
                   with the kernel's 64 KiB TSO/GRO super-packets
  linux/veth-1500  the same without TSO/GSO/GRO: one 1500-byte packet at a time,
                   like porter; ratios are against this one
The client is the same code for all: bulk Linux->server (discard), server->Linux
(source), connections per second (connect + one byte echoed + close). Rounds are
interleaved so machine noise hits every link alike; medians are reported, with
ratios to linux/veth. Not a test: it asserts nothing. Prints a table and JSON.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PORTER_BUILD", os.path.join(ROOT, "build"))
PRIMARY = os.path.join(BUILD, "primary", "porter-primary")
PORTERCTL = os.path.join(BUILD, "tools", "porterctl")
TAG = str(os.getpid())

CLIENT = r'''
import socket, sys, time, os, json
mode, host = sys.argv[1], sys.argv[2]
n = int(sys.argv[3])
t0 = time.monotonic()
if mode == "discard":
    s = socket.create_connection((host, 9), timeout=30)
    buf = b"\xa5" * (1 << 20)
    for _ in range(n):
        s.sendall(buf)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    out = n * (1 << 20)
elif mode == "source":
    s = socket.create_connection((host, 19), timeout=30)
    out = 0
    b = bytearray(1 << 20)
    while True:
        k = s.recv_into(b)
        if not k:
            break
        out += k
elif mode == "conns":
    out = 0
    for i in range(n):
        s = socket.create_connection((host, 7), timeout=5)
        s.sendall(b"x")
        s.recv(1)
        s.close()
        out += 1
dt = time.monotonic() - t0
print(json.dumps({"n": out, "s": dt}))
'''

SERVER = r'''
import socket, threading, sys
def pattern_chunk():
    return bytes(((i * 7 + (i >> 8) * 13 + (i >> 16)) & 0xff) for i in range(1 << 20))
CH = pattern_chunk()
LIMIT = int(sys.argv[1])
def serve(port, fn):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port)); ls.listen(512)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()
def discard(c):
    b = bytearray(1 << 20)
    while c.recv_into(b):
        pass
    c.close()
def source(c):
    sent = 0
    while sent < LIMIT:
        c.sendall(CH); sent += len(CH)
    c.close()
def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
for p, f in ((9, discard), (19, source), (7, echo)):
    threading.Thread(target=serve, args=(p, f), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
'''


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Porter:
    def __init__(self, name, device, iface_setup, mb):
        self.name = name
        self.ns = "pbench-%s-%s" % (name.replace("/", ""), TAG)
        self.dir = tempfile.mkdtemp(prefix="porter-bench-")
        self.sock = os.path.join(self.dir, "s")
        self.prefix = "pbench%s%s" % (name.replace("/", ""), TAG)
        conf = os.path.join(self.dir, "c.conf")
        with open(conf, "w") as f:
            f.write('''eal: { file_prefix = "%s"; lcore_base = 10; };
ports = ( { name = "p"; device = "%s"; mac = "02:70:6f:72:74:01"; ipv4 = "10.97.0.2/24"; } );
workers: { count = 1; };
tcp: { max_streams_per_shard = 16384; rcv_buf = 1048576; snd_buf = 1048576; time_wait_ms = 1000; };
listeners = ( { port = 7; service = "echo"; }, { port = 9; service = "discard"; },
              { port = 19; service = "source"; bytes = %dL; } );
control: { socket = "%s"; };
''' % (self.prefix, device, mb << 20, self.sock))
        sh("ip", "netns", "add", self.ns)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        iface_setup(self.ns)
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, PRIMARY, "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.host = "10.97.0.2"

    def wait_ready(self, iface):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sh("ip", "-n", self.ns, "link", "show", iface, check=False).returncode == 0:
                break
            time.sleep(0.05)
        sh("ip", "-n", self.ns, "addr", "add", "10.97.0.1/24", "dev", iface, check=False)
        sh("ip", "-n", self.ns, "link", "set", iface, "up")
        while time.monotonic() < deadline:
            r = sh(PORTERCTL, "--socket", self.sock, "--json", "status", check=False)
            if r.returncode == 0 and all(s["state"] == "ready" for s in json.loads(r.stdout)["shards"]):
                self.status = json.loads(r.stdout)
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not get ready" % self.name)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        sh("ip", "netns", "del", self.ns, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        for f in os.listdir("/dev/hugepages"):
            if f.startswith(self.prefix):
                os.unlink(os.path.join("/dev/hugepages", f))
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


class LinuxVeth:
    def __init__(self, mb, offloads=True):
        self.name = "linux/veth" if offloads else "linux/veth-1500"
        sfx = "" if offloads else "n"
        self.ns = "pbench-lc%s-%s" % (sfx, TAG)
        self.nss = "pbench-ls%s-%s" % (sfx, TAG)
        for n in (self.ns, self.nss):
            sh("ip", "netns", "add", n)
            sh("ip", "-n", n, "link", "set", "lo", "up")
        sh("ip", "-n", self.ns, "link", "add", "bc", "type", "veth", "peer", "name", "bs", "netns", self.nss)
        sh("ip", "-n", self.ns, "addr", "add", "10.97.0.1/24", "dev", "bc")
        sh("ip", "-n", self.nss, "addr", "add", "10.97.0.2/24", "dev", "bs")
        sh("ip", "-n", self.ns, "link", "set", "bc", "up")
        sh("ip", "-n", self.nss, "link", "set", "bs", "up")
        if not offloads:
            # per-packet work like porter's: no TSO/GSO/GRO super-packets
            for n, dev in ((self.ns, "bc"), (self.nss, "bs")):
                sh("ip", "netns", "exec", n, "ethtool", "-K", dev, "tso", "off", "gso", "off",
                   "gro", "off", "tx", "off", check=False)
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.nss, sys.executable, "-c", SERVER,
                                      str(mb << 20)], stdout=subprocess.PIPE, text=True)
        self.proc.stdout.readline()
        self.host = "10.97.0.2"

    def close(self):
        self.proc.kill()
        self.proc.wait()
        for n in (self.ns, self.nss):
            sh("ip", "netns", "del", n, check=False)


def veth_for_porter(ns):
    sh("ip", "-n", ns, "link", "add", "pa", "type", "veth", "peer", "name", "pk")
    sh("ip", "-n", ns, "link", "set", "pa", "up")
    sh("ip", "netns", "exec", ns, "ethtool", "-K", "pk", "tx", "off", check=False)


def run_client(target, *args):
    r = subprocess.run(["ip", "netns", "exec", target.ns, sys.executable, "-c", CLIENT] +
                       [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("%s %s: %s" % (target.name, args, r.stderr[-500:]))
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    targets = []
    try:
        tap = Porter("porter/tap", "net_tap0,iface=pbtap", lambda ns: None, a.mb)
        tap.wait_ready("pbtap")
        targets.append(tap)
        veth = Porter("porter/veth", "net_af_packet0,iface=pa", veth_for_porter, a.mb)
        veth.wait_ready("pk")
        targets.append(veth)
        targets.append(LinuxVeth(a.mb))
        targets.append(LinuxVeth(a.mb, offloads=False))
        res = {t.name: {"discard_MBps": [], "source_MBps": [], "conns_per_s": []} for t in targets}
        for _ in range(a.rounds):
            for t in targets:
                r = run_client(t, "discard", t.host, a.mb)
                res[t.name]["discard_MBps"].append(r["n"] / r["s"] / 1e6)
                r = run_client(t, "source", t.host, 0)
                res[t.name]["source_MBps"].append(r["n"] / r["s"] / 1e6)
                r = run_client(t, "conns", t.host, a.conns)
                res[t.name]["conns_per_s"].append(r["n"] / r["s"])
        med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in res.items()}
        base = med["linux/veth-1500"]
        print("%-12s %16s %16s %14s" % ("link", "Linux->X MB/s", "X->Linux MB/s", "conn/s"))
        for k, d in med.items():
            print("%-12s %9.1f (%4.2fx) %9.1f (%4.2fx) %7.0f (%4.2fx)" % (
                k, d["discard_MBps"], d["discard_MBps"] / base["discard_MBps"],
                d["source_MBps"], d["source_MBps"] / base["source_MBps"],
                d["conns_per_s"], d["conns_per_s"] / base["conns_per_s"]))
        tcb = tap.status["shards"][0]["tcp"]["tcb_bytes"]
        print("TCB size: %d bytes (an idle established stream holds nothing else)" % tcb)
        print(json.dumps({"median": med, "rounds": res, "tcb_bytes": tcb}))
    finally:
        for t in targets:
            t.close()


if __name__ == "__main__":
    main()
