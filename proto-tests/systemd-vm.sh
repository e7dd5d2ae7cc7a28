#!/usr/bin/env bash
# systemd-vm.sh - configs/evpnd.service under a real systemd: inside scripts/vm (a
# VLAN-aware kernel, for the VTEP) a Debian 12 container is booted with
# `systemd-nspawn --boot`, evpnd is installed in it as docs/systemd.md says and
# started with `systemctl enable --now`, then checked: the dedicated user, exactly
# CAP_NET_ADMIN+CAP_NET_RAW+CAP_NET_BIND_SERVICE, `evpnd show` as root through the
# control socket, a BGP session with a route reflector, ARP snooping on an
# address-less SVI (MAC+IP type-2 route, no warning in the journal), the
# systemd-analyze verify/security results, a clean `systemctl stop`. The body and its
# list of checks: proto-tests/systemd-vm/inside.sh.
#
# The container root is built here once with debootstrap (Debian's mirror, about
# 1 minute, 240 MB) and cached outside the repository in SD_ROOT (default
# /var/lib/evpnd-tests/systemd-root; not /var/tmp or /var/cache: scripts/vm puts empty
# tmpfs there, the rest of /var is the host's); the container gets it as a volatile
# overlay, so runs never change it. Delete the directory to rebuild it.
# Artifacts: $PT_OUT_DIR (default target/proto-tests/systemd-vm): vm.log, root.log
# (debootstrap), vm/ (checks.log, journal-evpnd.txt, systemd-analyze-security.txt,
# run/: console.log, journal.txt, the RR's log).
# env: EVPND_BIN (default target/debug/evpnd), SD_ROOT, DEBIAN_MIRROR (default
# http://deb.debian.org/debian), VM_TIMEOUT (default 420 s).
# proto-timeout: 600
set -uo pipefail
cd "$(dirname "$0")/.."
source proto-tests/lib/vm-scenario.sh
name=systemd-vm
out=${PT_OUT_DIR:-target/proto-tests/$name}
mkdir -p "$out"
root=${SD_ROOT:-/var/lib/evpnd-tests/systemd-root}
# What the container needs: systemd as PID 1 (systemd-sysv), dbus for systemctl's
# and logind's bus. iproute2 is not needed inside: the network is set up from the VM.
suite=bookworm packages=systemd,systemd-sysv,dbus
stamp="debootstrap --variant=minbase --include=$packages $suite"

fail_early() { # fail_early CHECK REASON: one FAIL line, the tally, exit 1
	echo "FAIL $1: $2"
	echo "$name: 0 passed, 1 failed"
	exit 1
}
for tool in debootstrap systemd-nspawn flock; do
	command -v $tool >/dev/null ||
		fail_early tools "$tool missing on the host (scripts/install-deps.sh installs debootstrap and systemd-container)"
done

# The root, built once (flock: two runs must not build it at the same time). Its
# directory may not exist yet on a fresh machine.
mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock -w 600 9 || fail_early container-root "$root.lock held by another run for 600 s"
if [ "$(cat "$root/.evpnd-root" 2>/dev/null)" != "$stamp" ]; then
	t=$(date +%s.%N)
	echo "[systemd-vm] building the container root $root ($stamp) ..." >&2
	rm -rf "$root.tmp"
	if debootstrap --variant=minbase --include=$packages $suite "$root.tmp" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$out/root.log" 2>&1 &&
		echo "$stamp" >"$root.tmp/.evpnd-root"; then
		rm -rf "$root" && mv "$root.tmp" "$root"
		echo "[systemd-vm] container root built in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}')s" >&2
	else
		fail_early container-root "debootstrap failed (see $out/root.log): $(tail -2 "$out/root.log" | tr '\n' ' ')"
	fi
fi
flock -u 9

vm_scenario "$name" 420 env SD_ROOT="$root" bash proto-tests/systemd-vm/inside.sh
