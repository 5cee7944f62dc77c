#!/bin/bash
# The demo command. Sets up the machine, builds, starts porter on a net_tap
# device inside a network namespace it creates ("porter-demo"), and shows it
# working: ping answered, a TCP connect refused by RST, an echo over porter's
# TCP that survives kill -9 of its worker, porterctl status.
#
#   tools/demo.sh          start (or restart) the demo and show it
#   tools/demo.sh stop     stop porter (SIGTERM) and remove the namespace
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
NS=porter-demo
RUN=/run/porter
PIDFILE=$RUN/demo.pid
LOG=$RUN/demo.log
SOCK=$RUN/demo.sock
CONF=$ROOT/config/demo.conf

stop() {
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
for _ in $(seq 200); do
	"$ROOT/build/tools/porterctl" --socket "$SOCK" status 2>/dev/null | grep -q ' ready ' &&
		! "$ROOT/build/tools/porterctl" --socket "$SOCK" status | grep -Eq ' (starting|backoff) ' && break
	sleep 0.05
done

echo
echo "== ping 10.99.0.2 (answered by the primary)"
ip netns exec "$NS" ping -c 3 -i 0.2 10.99.0.2
echo
echo "== TCP connect to 10.99.0.2:80 (no listener yet: the worker owning the flow answers RST)"
ip netns exec "$NS" python3 -c '
import socket, time
s = socket.socket()
t = time.monotonic()
try:
    s.connect(("10.99.0.2", 80))
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
echo "  ip netns exec $NS ping 10.99.0.2"
echo "  $ROOT/build/tools/porterctl --socket $SOCK status"
echo "Stop it with: tools/demo.sh stop"
