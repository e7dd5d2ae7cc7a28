#!/usr/bin/env bash
# scripts/install-deps.sh - install (idempotently) and verify everything the tests need.
#
# Debian packages (apt-get update runs only when something is missing), virtme-ng from
# PyPI (the `vng` command), and the rustfmt/clippy components. Afterwards every tool is
# verified; anything still missing makes this exit 1 with its name: CI must fail
# loudly, never skip a test layer.
# env: NO_INSTALL=1  only verify, install nothing
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
t0=$(now)

# package -> a file or command that proves it is installed
declare -A PKG_PROBE=(
	[frr]=/usr/lib/frr/bgpd
	[gobgpd]=gobgpd
	[exabgp]=exabgp
	[tshark]=tshark
	[qemu-system-x86]=qemu-system-x86_64
	[linux-image-amd64]=/boot/vmlinuz-*-amd64
	[iproute2]=bridge
	[iputils-ping]=ping
	[arping]=arping
	[tcpdump]=tcpdump
	[jq]=jq
	[python3]=/usr/bin/python3
	[util-linux]=unshare
	[procps]=pgrep
	[psmisc]=fuser
)
# everything a test calls, for the final verification (command or path)
VERIFY=(/usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh gobgpd gobgp exabgp tshark tcpdump
	qemu-system-x86_64 ip bridge ping arping jq python3 /usr/bin/python3 unshare timeout
	pgrep fuser vng cargo)

present() { # present PROBE: command on PATH, or an existing (globbed) path
	case $1 in
	/*) compgen -G "$1" >/dev/null ;;
	*) command -v "$1" >/dev/null ;;
	esac
}

missing=()
for pkg in "${!PKG_PROBE[@]}"; do present "${PKG_PROBE[$pkg]}" || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "${NO_INSTALL:-0}" = 1 ]; then
		say deps "missing (NO_INSTALL=1, not installing): ${missing[*]}"
	else
		say deps "apt-get update (missing: ${missing[*]}) ..."
		apt-get update -qq || die "apt-get update failed"
		say deps "apt-get install ${missing[*]} ..."
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
			die "apt-get install ${missing[*]} failed"
	fi
else
	say deps "Debian packages present: ${!PKG_PROBE[*]}"
fi

# virtme-ng (vng) from PyPI: Debian 12 has no package for it
if ! command -v vng >/dev/null; then
	if [ "${NO_INSTALL:-0}" != 1 ]; then
		say deps "pip install virtme-ng ..."
		if command -v pip >/dev/null; then pip install -q virtme-ng; else python3 -m pip install -q virtme-ng; fi ||
			die "pip install virtme-ng failed"
		hash -r
	fi
fi
if command -v vng >/dev/null; then say deps "$(vng --version 2>&1 | head -1)"; fi

# Rust components for the fmt/clippy steps
if command -v rustup >/dev/null; then
	comps=$(rustup component list --installed 2>/dev/null || true)
	need=()
	grep -q '^rustfmt' <<<"$comps" || need+=(rustfmt)
	grep -q '^clippy' <<<"$comps" || need+=(clippy)
	if [ ${#need[@]} -gt 0 ] && [ "${NO_INSTALL:-0}" != 1 ]; then
		say deps "rustup component add ${need[*]} ..."
		rustup component add "${need[@]}" || die "rustup component add ${need[*]} failed"
	fi
fi

# ---- verification: every tool, by name
bad=()
for t in "${VERIFY[@]}"; do present "$t" || bad+=("$t"); done
compgen -G '/boot/vmlinuz-*-amd64' >/dev/null || bad+=("/boot/vmlinuz-*-amd64 (linux-image-amd64)")
cargo fmt --version >/dev/null 2>&1 || bad+=("cargo fmt (rustfmt)")
cargo clippy --version >/dev/null 2>&1 || bad+=("cargo clippy (clippy)")
getent passwd frr >/dev/null || bad+=("user frr (package frr)")
if [ ${#bad[@]} -gt 0 ]; then
	echo "[deps] MISSING: ${bad[*]}" >&2
	die "test dependencies missing: ${bad[*]}"
fi
say deps "verified: ${VERIFY[*]} kernel=$(newest_kernel) ($(since "$t0")s)"
