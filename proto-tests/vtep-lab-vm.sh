#!/usr/bin/env bash
# vtep-lab-vm.sh - the seed's network driven by evpnd alone, in a VLAN-aware VM:
# an evpnd route reflector and three evpnd VTEPs (single external vxlan0 in a
# VLAN-aware br0, VLAN 10 <-> VNI 10, VLAN 11 <-> VNI 11), two hosts per VTEP.
# The body is proto-tests/vtep-lab-vm/inside.sh, run as root inside scripts/vm;
# its PASS/FAIL lines are this scenario's (topology and checks: see its header).
# Artifacts: $PT_OUT_DIR (default target/proto-tests/vtep-lab-vm): vm.log, and
# vm/ from inside the VM (checks.log, dumps, pcaps, run/<ns>/evpnd.log).
# env: EVPND_BIN (default target/debug/evpnd), VM_TIMEOUT (default 600 s).
set -uo pipefail
cd "$(dirname "$0")/.."
name=vtep-lab-vm
out=${PT_OUT_DIR:-target/proto-tests/$name}
mkdir -p "$out"
out=$(cd "$out" && pwd)
t=$(date +%s.%N)
finish() { # passed failed
	echo "$name: $1 passed, $2 failed"
	[ "$2" = 0 ] && [ "$1" -gt 0 ]
	exit $?
}
evpnd=${EVPND_BIN:-target/debug/evpnd}
if [ ! -x "$evpnd" ]; then
	echo "FAIL evpnd-binary: no executable $evpnd (cargo build --bins, or set EVPND_BIN)"
	finish 0 1
fi
# A snapshot: a rebuild on the host during the run must not swap the binary
# under the running daemons (the guest reads it over 9p).
mkdir -p "$out/bin"
cp "$evpnd" "$out/bin/evpnd"
scripts/vm --timeout "${VM_TIMEOUT:-600}" --rwdir "$out" -- \
	env PT_OUT_DIR="$out/vm" EVPND_BIN="$out/bin/evpnd" LAB_SVI_ADDRESSES="${LAB_SVI_ADDRESSES:-1}" LAB_DEMO="${LAB_DEMO:-0}" bash proto-tests/vtep-lab-vm/inside.sh >"$out/vm.log" 2>&1
rc=$?
rm -f "$out/bin/evpnd"
[ "${LAB_DEMO:-0}" = 1 ] || cat "$out/vm.log" >&2
grep -E '^(PASS|FAIL) ' "$out/vm.log"
passed=$(grep -c '^PASS ' "$out/vm.log")
failed=$(grep -c '^FAIL ' "$out/vm.log")
el=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
if [ $rc != 0 ] && [ "$failed" = 0 ]; then
	echo "FAIL vm-run: rc=$rc in the VM without a FAIL line (${el}s; see $out/vm.log)"
	failed=1
fi
echo "# ${el}s in all, $(grep -o 'booted in [0-9.]*s' "$out/vm.log" | head -1)" >&2
finish "$passed" "$failed"
