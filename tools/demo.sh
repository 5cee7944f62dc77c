#!/bin/bash
# The demo command. Sets up the machine, builds, starts porter on a net_tap
# device inside a network namespace it creates ("porter-demo") in front of a
# demo HTTP backend, and shows it working: curl through the reverse proxy, a
# download that survives kill -9 of every worker, ping, a refused connect,
# the access log and porterctl status.
#
#   tools/demo.sh          start (or restart) the demo and show it
#   tools/demo.sh stop     stop porter (SIGTERM) and remove the namespace
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
NS=porter-demo
RUN=/run/porter
PIDFILE=$RUN/demo.pid
BACKEND_PIDFILE=$RUN/demo-backend.pid
LOG=$RUN/demo.log
ACCESS=$RUN/demo-access.log
SOCK=$RUN/demo.sock
CONF=$ROOT/config/demo.conf

stop() {
	if [ -f "$BACKEND_PIDFILE" ]; then
		kill -TERM "$(cat "$BACKEND_PIDFILE")" 2>/dev/null || true
		rm -f "$BACKEND_PIDFILE"
	fi
	if [ -f "$PIDFILE" ]; then
		pid=$(cat "$PIDFILE")
		# only the process this script started, by PID
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid"
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		fi
		rm -f "$PIDFILE"
	fi
	ip netns del "$NS" 2>/dev/null || true
}

if [ "${1:-}" = "stop" ]; then
	stop
	echo "porter demo stopped; namespace $NS removed"
	exit 0
fi

bash tools/setup.sh
bash tools/build.sh >/dev/null
stop
mkdir -p "$RUN"
# a self-signed certificate for the HTTPS listener (config/demo.conf)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=porter-demo \
	-addext subjectAltName=IP:10.99.0.2 -keyout "$RUN/demo-tls.key" -out "$RUN/demo-tls.pem" 2>/dev/null
chmod 600 "$RUN/demo-tls.key"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" "$ROOT/build/primary/porter-primary" -c "$CONF" >"$LOG" 2>&1 &
echo $! >"$PIDFILE"

echo "== waiting for porter (log: $LOG)"
for _ in $(seq 200); do
	ip -n "$NS" link show porter0 >/dev/null 2>&1 && break
	kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { cat "$LOG"; exit 1; }
	sleep 0.05
done
ip -n "$NS" addr add 10.99.0.1/24 dev porter0
ip -n "$NS" link set porter0 up
# the demo backend porter proxies to (tests/integration/backends.py, an HTTP/1.1 server)
rm -f "$ACCESS"
ip netns exec "$NS" python3 "$ROOT/tests/integration/backends.py" http 8080 --bind 10.99.0.1 \
	--name demo-backend >"$RUN/demo-backend.log" 2>&1 &
echo $! >"$BACKEND_PIDFILE"
for _ in $(seq 200); do grep -q ready "$RUN/demo-backend.log" 2>/dev/null && break; sleep 0.05; done
for _ in $(seq 200); do
	"$ROOT/build/tools/porterctl" --socket "$SOCK" status 2>/dev/null | grep -q ' ready ' &&
		! "$ROOT/build/tools/porterctl" --socket "$SOCK" status | grep -Eq ' (starting|backoff) ' && break
	sleep 0.05
done

echo
echo "== curl http://10.99.0.2/headers : porter (userspace TCP + HTTP proxy) -> demo backend"
ip netns exec "$NS" curl -sS -i -m 10 http://10.99.0.2/headers
echo
echo
echo "== curl -k https://10.99.0.2/headers : the same, TLS terminated by porter (X-Forwarded-Proto: https)"
ip netns exec "$NS" curl -sS -k -i -m 10 https://10.99.0.2/headers
echo
echo
echo "== a 64 MiB HTTPS download through porter; every worker is killed (-9) in the middle of it"
ip netns exec "$NS" python3 - "$ROOT/build/tools/porterctl" "$SOCK" <<'PY'
import hashlib, json, os, signal, subprocess, sys, time
sys.path.insert(0, "tests/integration")
from backends import pattern_chunks
ctl, sock = sys.argv[1], sys.argv[2]
n = 64 << 20
want = hashlib.sha256()
for c in pattern_chunks(0, n):
    want.update(c)
out = "/run/porter/demo-download"
curl = subprocess.Popen(["curl", "-sS", "-k", "-m", "60", "--limit-rate", "16M", "-o", out,
                         "https://10.99.0.2/size/%d" % n])
while not os.path.exists(out) or os.path.getsize(out) < (8 << 20):
    time.sleep(0.01)
st = json.loads(subprocess.run([ctl, "--socket", sock, "--json", "status"], capture_output=True,
                               text=True, check=True).stdout)
victims = [sh["pid"] for sh in st["shards"]]
for pid in victims:
    os.kill(pid, signal.SIGKILL)
print("  killed every worker (pids %s) at %.1f MiB" % (victims, os.path.getsize(out) / 2**20))
curl.wait()
got = hashlib.sha256(open(out, "rb").read()).hexdigest()
print("  curl exit %d, %d bytes, sha256 %s" % (curl.returncode, os.path.getsize(out),
      "intact" if got == want.hexdigest() else "WRONG"))
os.unlink(out)
PY
echo
echo "== the access log (one JSON line per request): $ACCESS"
# the workers' log threads write every 100 ms: wait for both lines (2 s at most)
for _ in $(seq 40); do
	[ "$(wc -l <"$ACCESS" 2>/dev/null || echo 0)" -ge 2 ] && break
	sleep 0.05
done
tail -n 2 "$ACCESS" || true
echo
echo "== ping 10.99.0.2 (answered by the primary)"
ip netns exec "$NS" ping -c 3 -i 0.2 10.99.0.2
echo
echo "== TCP connect to 10.99.0.2:81 (no listener: the worker owning the flow answers RST)"
ip netns exec "$NS" python3 -c '
import socket, time
s = socket.socket()
t = time.monotonic()
try:
    s.connect(("10.99.0.2", 81))
    print("connected?!")
except ConnectionRefusedError:
    print("connection refused (RST) in %.2f ms" % ((time.monotonic() - t) * 1e3))
'
echo
echo "== TCP echo on port 7, served by porter's userspace TCP; then its worker is killed (-9)"
ip netns exec "$NS" python3 - "$ROOT/build/tools/porterctl" "$SOCK" <<'PY'
import json, os, signal, socket, subprocess, sys, time
ctl, sock = sys.argv[1], sys.argv[2]
def status():
    return json.loads(subprocess.run([ctl, "--socket", sock, "--json", "status"],
                                     capture_output=True, text=True, check=True).stdout)
s = socket.create_connection(("10.99.0.2", 7), timeout=5)
s.sendall(b"hello porter")
print("  sent 'hello porter', echoed:", s.recv(100).decode())
victims = [sh["pid"] for sh in status()["shards"]]
for pid in victims:
    os.kill(pid, signal.SIGKILL)
print("  killed every worker (pids %s) with SIGKILL" % victims)
t0 = time.monotonic()
while any(sh["state"] != "ready" or sh["pid"] in victims for sh in status()["shards"]):
    time.sleep(0.01)
print("  replacements ready after %.0f ms" % ((time.monotonic() - t0) * 1e3))
s.sendall(b"same connection, new worker")
print("  same TCP connection, echoed:", s.recv(100).decode())
s.close()
PY
echo
echo "== porterctl status"
"$ROOT/build/tools/porterctl" --socket "$SOCK" status
echo
echo "porter is running in namespace $NS (pid $(cat "$PIDFILE")). Try:"
echo "  ip netns exec $NS curl -i http://10.99.0.2/name"
echo "  ip netns exec $NS curl -k -i https://10.99.0.2/name"
echo "  ip netns exec $NS wrk -c 32 -d 5 http://10.99.0.2/size/100"
echo "  $ROOT/build/tools/porterctl --socket $SOCK status"
echo "Stop it with: tools/demo.sh stop"
