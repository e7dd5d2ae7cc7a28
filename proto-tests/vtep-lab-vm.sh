#!/usr/bin/env bash
# vtep-lab-vm.sh - the seed's network driven by evpnd alone, in a VLAN-aware VM:
# an evpnd route reflector and three evpnd VTEPs (single external vxlan0 in a
# VLAN-aware br0, VLAN 10 <-> VNI 10, VLAN 11 <-> VNI 11), two hosts per VTEP.
# All four with RT-Constrain (RFC 4684, `rtc`): a last phase adds VNI 12 to n1 and
# n2 by reload, upgrades the reflector in place (`evpnd upgrade`) and checks that
# n3, which does not import VNI 12's RT, gets none of its routes.
# The body is proto-tests/vtep-lab-vm/inside.sh, run as root inside scripts/vm;
# its PASS/FAIL lines are this scenario's (topology and checks: see its header).
# Artifacts: $PT_OUT_DIR (default target/proto-tests/vtep-lab-vm): vm.log, and
# vm/ from inside the VM (checks.log, dumps, pcaps, run/<ns>/evpnd.log).
# env: EVPND_BIN (default target/debug/evpnd), VM_TIMEOUT (default 600 s),
# LAB_SVI_ADDRESSES, LAB_DEMO (see inside.sh; the demo sets LAB_DEMO=1, quiet).
# scripts/test.sh runs it once, as the README's demo (every check the same):
# proto-covered-by: demo
set -uo pipefail
source "$(dirname "$0")/lib/vm-scenario.sh"
[ "${LAB_DEMO:-0}" = 1 ] && export VM_QUIET=1
vm_scenario vtep-lab-vm 600 LAB_SVI_ADDRESSES="${LAB_SVI_ADDRESSES:-1}" LAB_DEMO="${LAB_DEMO:-0}" bash proto-tests/vtep-lab-vm/inside.sh
