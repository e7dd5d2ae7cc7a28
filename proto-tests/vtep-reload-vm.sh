#!/usr/bin/env bash
# vtep-reload-vm.sh - live reconfiguration of evpnd VTEPs (issue 13), in a VLAN-aware VM:
# three evpnd VTEPs (n1 peers with n2 and n3), hosts on VLAN 10 behind n1 and n2 pinging
# at 20/s throughout. `evpnd reload` adds VNI 20 (VLAN, tunnel_info, VNI filter, SVI,
# flood and MAC rows, a ping on VLAN 20), changes its export route target (the peer drops
# the rows and warns; back again, they return), removes it (everything of VLAN/VNI 20
# leaves the kernel), adds and removes a neighbour, and refuses bad files - without a
# session reset, without touching VNI 10's rows and without losing a VLAN 10 echo.
# The body is proto-tests/vtep-reload-vm/inside.sh (checks: see its header).
# Artifacts: $PT_OUT_DIR (default target/proto-tests/vtep-reload-vm): vm.log, and vm/
# from inside the VM (checks.log, evpnd-*.toml and reload-*.out per reload, kernel dumps,
# ping-vlan10.txt, run/<ns>/evpnd.log).
# env: EVPND_BIN (default target/debug/evpnd), VM_TIMEOUT (default 420 s).
set -uo pipefail
source "$(dirname "$0")/lib/vm-scenario.sh"
vm_scenario vtep-reload-vm 420 bash proto-tests/vtep-reload-vm/inside.sh
