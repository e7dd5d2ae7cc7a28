#!/usr/bin/env bash
# scripts/install-deps.sh - install (idempotently) and verify everything the tests need.
#
# usage: scripts/install-deps.sh [--check-map | --list]
#   (no argument)  install what is missing, then verify everything (CI, scripts/test.sh)
#   --check-map    only the map test below: fails if a script calls a command this
#                  file does not know (no installs, no verification)
#   --list         print every command the scripts call, with its package, and exit
# env: NO_INSTALL=1  only verify, install nothing
#
# What is needed is derived, not remembered: scripts/lib/script-commands.py parses
# every shell script in the repo (shfmt's bash AST), the python helpers and the Rust
# tests, and lists each external command they call. Each command must appear in
# CMD_PKG below (command -> Debian package): a script that starts calling something
# new fails here, by name, until its package is added. Packages no script names but
# the VM needs (busybox-static for virtme-ng's initramfs, qemu, the Debian kernel)
# are in RUNTIME_PKG. Missing ones are installed with apt-get (apt-get update only
# when something is missing), virtme-ng (vng) from PyPI (Debian 12 has no package),
# and the rustfmt/clippy components. Afterwards every command and runtime file is
# verified; anything still missing makes this exit 1 naming it: CI must fail loudly,
# never skip a test layer.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
t0=$(now)

mode=install
case "${1:-}" in
"") ;;
--check-map) mode=check-map ;;
--list) mode=list ;;
-h | --help) sed -n '2,21p' "$0"; exit 0 ;;
*) die "scripts/install-deps.sh: unknown argument '$1' (usage: scripts/install-deps.sh [--check-map | --list])" ;;
esac

# command a script calls -> what provides it. A Debian package name, or:
#   pip:NAME   from PyPI (python3 -m pip), for what Debian 12 does not package
#   rustup     the Rust toolchain, which this machine kind ships (~/.cargo, ~/.rustup);
#              verified only, never installed from here
#   repo       built from this repository (cargo build): neither installed nor verified
#   in-root    runs only inside a Debian root a scenario builds itself (nsenter into
#              proto-tests/systemd-vm's container): not needed on this machine
# To add one: [command]=package, quoted when it has - . or / (["apt-get"]=apt), which
# shfmt would otherwise read as arithmetic; one entry per command, grouped by package.
declare -A CMD_PKG=(
	# coreutils: in every Debian, listed so an unknown command cannot hide among them
	[basename]=coreutils [cat]=coreutils [chmod]=coreutils [chown]=coreutils [cp]=coreutils
	[cut]=coreutils [date]=coreutils [dirname]=coreutils [env]=coreutils [head]=coreutils
	[id]=coreutils [join]=coreutils [ls]=coreutils [mkdir]=coreutils [od]=coreutils
	[paste]=coreutils [rm]=coreutils [seq]=coreutils [sleep]=coreutils [sort]=coreutils
	[tail]=coreutils [tee]=coreutils [timeout]=coreutils [touch]=coreutils [tr]=coreutils
	[uniq]=coreutils [wc]=coreutils [comm]=coreutils [mv]=coreutils [ln]=coreutils
	[stat]=coreutils [mktemp]=coreutils [realpath]=coreutils [nproc]=coreutils
	[du]=coreutils [chroot]=coreutils [readlink]=coreutils [mkfifo]=coreutils [uname]=coreutils ["/usr/bin/env"]=coreutils ["/bin/bash"]=bash
	[bash]=bash [sh]=dash [grep]=grep [sed]=sed [awk]=mawk [cmp]=diffutils [diff]=diffutils
	[hostname]=hostname [getent]=libc-bin [getconf]=libc-bin ["apt-get"]=apt ["dpkg-query"]=dpkg
	[find]=findutils [xargs]=findutils [tar]=tar [gzip]=gzip
	[unshare]=util-linux [findmnt]=util-linux [nsenter]=util-linux [setsid]=util-linux [flock]=util-linux [mount]=mount [umount]=mount
	[sysctl]=procps [kill]=procps [pgrep]=procps [pkill]=procps [ps]=procps
	# networking
	[ip]=iproute2 [bridge]=iproute2 [ping]=iputils-ping [arping]=arping [tcpdump]=tcpdump
	# BGP speakers the interop tests run
	[vtysh]=frr ["/usr/lib/frr/zebra"]=frr ["/usr/lib/frr/bgpd"]=frr
	[gobgp]=gobgpd [gobgpd]=gobgpd [exabgp]=exabgp
	# tools
	[jq]=jq [python3]=python3 [pip]=python3-pip [strace]=strace [git]=git
	[shfmt]=shfmt [debootstrap]=debootstrap
	[promtool]=prometheus
	# the VM: vng boots qemu (RUNTIME_PKG) with busybox in its initramfs
	[vng]=pip:virtme-ng ["qemu-system-x86_64"]=qemu-system-x86
	[cargo]=rustup [rustup]=rustup
	[cc]=gcc                                   # scripts/bench-vtep-ingest.sh builds its counter
	# proto-tests/systemd-vm: nspawn in the VM (the host's /), the rest inside its container
	["systemd-nspawn"]=systemd-container
	[systemctl]=in-root [journalctl]=in-root ["systemd-analyze"]=in-root ["systemd-sysusers"]=in-root
	[install]=coreutils [evpnd]=repo
)

# package needed though no script calls a command of it -> a path or command proving
# it is there, and why it is needed
declare -A RUNTIME_PKG=(
	["busybox-static"]=/bin/busybox              # virtme-ng builds the VM's initramfs with it
	["qemu-system-x86"]=qemu-system-x86_64       # what vng runs
	["linux-image-amd64"]='/boot/vmlinuz-*-amd64' # Debian's kernel (VLAN filtering), booted by scripts/vm
	[kmod]=/sbin/modprobe                      # vng resolves the guest's modules with modprobe/depmod
	[exabgp]=/usr/lib/python3/dist-packages/exabgp # proto-tests/lib/exabgp-evpn.py imports it
	[gcc]=cc                                   # cargo links with cc
	["libc6-dev"]='/usr/lib/*/crt1.o'            # ... against libc
	["ca-certificates"]=/etc/ssl/certs/ca-certificates.crt # cargo and pip fetch over https
)

present() { # present PROBE: command on PATH (or /sbin, /usr/sbin), or an existing (globbed) path
	case $1 in
	/*) compgen -G "$1" >/dev/null ;;
	*) command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ;;
	esac
}
apt_install() { # apt_install PKG...: non-interactive, no recommends (apt-get update once)
	if [ "${APT_UPDATED:-0}" != 1 ]; then
		say deps "apt-get update ..."
		apt-get update -qq || die "apt-get update failed (is a Debian mirror in /etc/apt/sources.list* reachable?)"
		APT_UPDATED=1
	fi
	say deps "apt-get install $* ..."
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
		die "apt-get install $* failed"
}

# ---- 0. the extractor's own needs: python3 and shfmt (bash's parser)
boot=()
present python3 || boot+=(python3)
present shfmt || boot+=(shfmt)
if [ ${#boot[@]} -gt 0 ]; then
	[ "${NO_INSTALL:-0}" != 1 ] && [ $mode = install ] ||
		die "scripts/lib/script-commands.py needs ${boot[*]} (apt-get install ${boot[*]}, or run scripts/install-deps.sh without NO_INSTALL=1)"
	apt_install "${boot[@]}"
fi

# ---- 1. what the scripts call, and the map test: every command must be known
listing=$(python3 "$REPO_ROOT/scripts/lib/script-commands.py" "$REPO_ROOT") ||
	die "scripts/lib/script-commands.py failed (see above): cannot tell what the scripts need"
declare -A WHERE=()
CMDS=()
while IFS=$'\t' read -r cmd where; do
	[ -n "$cmd" ] || continue
	CMDS+=("$cmd")
	WHERE[$cmd]=$where
done <<<"$listing"
[ ${#CMDS[@]} -gt 10 ] || die "scripts/lib/script-commands.py found only ${#CMDS[@]} commands: the extractor is broken"
unknown=()
for c in "${CMDS[@]}"; do
	[ -n "${CMD_PKG[$c]:-}" ] || unknown+=("$c (called at ${WHERE[$c]})")
done
if [ ${#unknown[@]} -gt 0 ]; then
	for u in "${unknown[@]}"; do echo "[deps] UNKNOWN COMMAND: $u" >&2; done
	die "scripts call ${#unknown[@]} command(s) scripts/install-deps.sh does not know: add [command]=debian-package to CMD_PKG in scripts/install-deps.sh"
fi
if [ $mode = list ]; then
	for c in "${CMDS[@]}"; do printf '%-22s %-18s %s\n' "$c" "${CMD_PKG[$c]}" "${WHERE[$c]}"; done
	exit 0
fi
if [ $mode = check-map ]; then
	say deps "map ok: all ${#CMDS[@]} commands the scripts call are in CMD_PKG ($(since "$t0")s)"
	exit 0
fi
say deps "the scripts call ${#CMDS[@]} commands, all in CMD_PKG"

# ---- 2. install what is missing
apt_missing=() pip_missing=()
add_pkg() { # add_pkg PKG: queue PKG once for apt or pip
	local p=$1 q
	case $p in
	rustup | repo | in-root) return ;; # not installed from here (see CMD_PKG)
	pip:*) for q in "${pip_missing[@]}"; do [ "$q" = "${p#pip:}" ] && return; done; pip_missing+=("${p#pip:}") ;;
	*) for q in "${apt_missing[@]}"; do [ "$q" = "$p" ] && return; done; apt_missing+=("$p") ;;
	esac
}
for c in "${CMDS[@]}"; do present "$c" || add_pkg "${CMD_PKG[$c]}"; done
for p in "${!RUNTIME_PKG[@]}"; do present "${RUNTIME_PKG[$p]}" || add_pkg "$p"; done
# pip itself, when something comes from PyPI
if [ ${#pip_missing[@]} -gt 0 ] && ! python3 -m pip --version >/dev/null 2>&1; then add_pkg python3-pip; fi

if [ "${NO_INSTALL:-0}" = 1 ]; then
	[ ${#apt_missing[@]} -eq 0 ] && [ ${#pip_missing[@]} -eq 0 ] ||
		say deps "missing (NO_INSTALL=1, not installing): ${apt_missing[*]} ${pip_missing[*]}"
else
	if [ ${#apt_missing[@]} -gt 0 ]; then
		apt_install "${apt_missing[@]}"
		hash -r
	else
		say deps "Debian packages: nothing missing"
	fi
	if [ ${#pip_missing[@]} -gt 0 ]; then
		# Debian's own python refuses pip installs into it (PEP 668) unless told;
		# a pyenv/venv python has no such marker and needs no flag
		brk=()
		python3 -c 'import sys, sysconfig, os; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))' &&
			brk=(--break-system-packages)
		say deps "python3 -m pip install ${brk[*]:+${brk[*]} }${pip_missing[*]} ..."
		python3 -m pip install -q --root-user-action=ignore "${brk[@]}" "${pip_missing[@]}" ||
			die "pip install ${pip_missing[*]} failed"
		hash -r
	fi
	# Rust components for the fmt/clippy steps
	if command -v rustup >/dev/null; then
		comps=$(rustup component list --installed 2>/dev/null || true)
		need=()
		grep -q '^rustfmt' <<<"$comps" || need+=(rustfmt)
		grep -q '^clippy' <<<"$comps" || need+=(clippy)
		if [ ${#need[@]} -gt 0 ]; then
			say deps "rustup component add ${need[*]} ..."
			rustup component add "${need[@]}" || die "rustup component add ${need[*]} failed"
		fi
	fi
fi

# ---- 3. verification: every command, every runtime package, by name
bad=() checked=() skipped=()
for c in "${CMDS[@]}"; do
	case ${CMD_PKG[$c]} in repo | in-root) skipped+=("$c"); continue ;; esac
	checked+=("$c")
	present "$c" && continue
	case ${CMD_PKG[$c]} in
	rustup) bad+=("$c (the Rust toolchain: install rustup, https://rustup.rs, and put ~/.cargo/bin on PATH)") ;;
	pip:*) bad+=("$c (python3 -m pip install ${CMD_PKG[$c]#pip:})") ;;
	*) bad+=("$c (apt-get install ${CMD_PKG[$c]})") ;;
	esac
done
for p in "${!RUNTIME_PKG[@]}"; do present "${RUNTIME_PKG[$p]}" || bad+=("${RUNTIME_PKG[$p]} (apt-get install $p)"); done
kernel=$(newest_kernel)
if [ -n "$kernel" ]; then
	# vng loads virtio/9p from the kernel's modules; a kernel without them cannot boot here
	[ -d "/lib/modules/${kernel##*/vmlinuz-}" ] || bad+=("/lib/modules/${kernel##*/vmlinuz-} (apt-get install --reinstall ${kernel##*/vmlinuz-})")
fi
cargo fmt --version >/dev/null 2>&1 || bad+=("cargo fmt (rustup component add rustfmt)")
cargo clippy --version >/dev/null 2>&1 || bad+=("cargo clippy (rustup component add clippy)")
getent passwd frr >/dev/null || bad+=("user frr (apt-get install frr)")
if [ ${#bad[@]} -gt 0 ]; then
	for b in "${bad[@]}"; do echo "[deps] MISSING: $b" >&2; done
	die "test dependencies missing: ${bad[*]}"
fi
say deps "verified ${#checked[@]} commands (${checked[*]}); not needed here: ${skipped[*]:-none}; runtime: ${!RUNTIME_PKG[*]}; kernel=$kernel ($(since "$t0")s)"
