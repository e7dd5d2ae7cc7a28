#!/usr/bin/env bash
# vtep-drift-vm.sh - drift healing on an evpnd VTEP (issue 13, "zero-loss operations"),
# in a VLAN-aware VM: two evpnd VTEPs peering directly (VNI 10 <-> VLAN 10), a host
# behind each. On n1, which holds a remote MAC/IP and a remote VTEP from n2, every kind
# of object evpnd owns is deleted or changed by hand in turn, and the time until evpnd
# has put it back is measured (polled every 50 ms): "restored <kind> in N ms", FAIL
# above 1000 ms. The body is proto-tests/vtep-drift-vm/inside.sh (kinds: see its header).
# Artifacts: $PT_OUT_DIR (default target/proto-tests/vtep-drift-vm): vm.log, and vm/
# from inside the VM (checks.log, restore-times.txt, dumps, run/<ns>/evpnd.log).
# env: EVPND_BIN (default target/debug/evpnd), VM_TIMEOUT (default 420 s),
# DRIFT_LIMIT_MS (default 1000).
set -uo pipefail
source "$(dirname "$0")/lib/vm-scenario.sh"
vm_scenario vtep-drift-vm 420 DRIFT_LIMIT_MS="${DRIFT_LIMIT_MS:-1000}" bash proto-tests/vtep-drift-vm/inside.sh
