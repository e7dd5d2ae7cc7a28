#!/usr/bin/env bash
# vtep-setup-vm.sh - evpnd's VTEP topology setup (crates/evpnd-linux/src/setup.rs) on a
# VLAN-aware kernel: the tests/vtep_setup_vm.rs binary, built on the host, runs
# inside scripts/vm. It sets up a VTEP from config in a fresh namespace and
# checks it with iproute2 (ip -d link, bridge vlan / tunnelshow / vni), runs
# setup again (no changes) and adopt, breaks it (learning on, untagged VLAN,
# per-VNI device on the port, missing tunnel_info) and checks the refusals,
# then pings between hosts on VLAN 10 behind two VTEPs set up the same way,
# remote entries installed with the dataplane RequestSocket.
# Namespaces: vs-<pid>-* inside the VM. Check lines come from the binary.
set -uo pipefail
cd "$(dirname "$0")/.."
name=vtep-setup-vm
out=${PT_OUT_DIR:-target/proto-tests/$name}
mkdir -p "$out"
t=$(date +%s.%N)
finish() { # passed failed
	echo "$name: $1 passed, $2 failed"
	[ "$2" = 0 ] && [ "$1" -gt 0 ]
	exit $?
}
bin=$(cargo test --no-run --test vtep_setup_vm --message-format=json 2>"$out/build.log" |
	jq -r 'select(.reason == "compiler-artifact" and .target.name == "vtep_setup_vm" and .executable != null) | .executable' | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
	echo "FAIL build: no vtep_setup_vm test binary (see $out/build.log)"
	finish 0 1
fi
scripts/vm --timeout 240 -- env EVPND_VM_TEST=1 "$bin" --exact vtep_setup_in_a_vlan_aware_kernel \
	--nocapture --test-threads=1 >"$out/vm.log" 2>&1
rc=$?
source proto-tests/lib/vm-scenario.sh
vm_report "$name" "$out/vm.log" "$rc" "$t"
