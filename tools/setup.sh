#!/bin/sh
# Install everything porter needs to build, run and test on Debian 12, reserve
# hugepages and mount hugetlbfs. Idempotent; run as root.
set -eu

PKGS="build-essential meson ninja-build pkg-config
      dpdk dpdk-dev libdpdk-dev libjemalloc-dev libconfig-dev libcriterion-dev libssl-dev
      libbsd-dev libnuma-dev libpcap-dev libelf-dev libarchive-dev
      iproute2 iputils-ping curl python3 python3-scapy procps psmisc ethtool iptables
      wrk nginx haproxy tshark prometheus chromium fonts-dejavu-core scdoc systemd man-db
      testssl.sh"
HUGEPAGES="${PORTER_HUGEPAGES:-1024}"

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: must run as root (apt-get, hugepages)" >&2
	exit 1
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# nginx and haproxy are test peers run inside test namespaces: their
	# packages must not start system-wide daemons (policy-rc.d 101 = do not)
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' > "$policy"
		chmod 755 "$policy"
	fi
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
	[ -z "$policy" ] || rm -f "$policy"
fi

# Hugepages: reserve at least $HUGEPAGES 2 MiB pages, never lower an existing reservation.
cur=$(cat /proc/sys/vm/nr_hugepages)
if [ "$cur" -lt "$HUGEPAGES" ]; then
	echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages
	got=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$got" -lt "$HUGEPAGES" ]; then
		echo "setup.sh: asked for $HUGEPAGES hugepages, kernel gave $got" >&2
		[ "$got" -ge 256 ] || exit 1
	fi
fi
if ! grep -qs '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
fi
echo "setup.sh: ready ($(cat /proc/sys/vm/nr_hugepages) hugepages, hugetlbfs on /dev/hugepages)"
