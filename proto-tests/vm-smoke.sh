#!/usr/bin/env bash
# vm-smoke.sh - the VM path works: scripts/vm boots Debian's kernel (TCG) and a
# VLAN-filtering bridge can be created inside (impossible on the host kernel).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${PT_OUT_DIR:-target/proto-tests/vm-smoke}
mkdir -p "$out"
t=$(date +%s.%N)
scripts/vm --timeout 180 -- bash -c 'ip link add br0 type bridge vlan_filtering 1 && echo VLAN_OK' >"$out/vm.log" 2>&1
rc=$?
cat "$out/vm.log" >&2
el=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
if [ $rc = 0 ] && grep -qx 'VLAN_OK' "$out/vm.log"; then
	echo "PASS vm-vlan-filtering: $(grep -o 'booted in [0-9.]*s' "$out/vm.log"), VLAN_OK, ${el}s in all"
	echo "vm-smoke: 1 passed, 0 failed"
else
	echo "FAIL vm-vlan-filtering: scripts/vm rc=$rc, no VLAN_OK (${el}s; see $out/vm.log)"
	echo "vm-smoke: 0 passed, 1 failed"
	exit 1
fi
