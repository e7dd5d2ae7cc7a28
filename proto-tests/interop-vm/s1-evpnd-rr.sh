#!/usr/bin/env bash
# s1-evpnd-rr - evpnd as route reflector for two FRR 8.4 VTEPs and one evpnd VTEP,
# VNIs 10 and 11 (runs inside scripts/vm via interop-vm.sh).
#
#   ixa-ul: underlay switch 198.19.0.0/24
#   rr 198.19.0.4 evpnd RR (cluster id = router id), n1..n3 its passive clients
#   n1 198.19.0.1 FRR    n2 198.19.0.2 FRR    n3 198.19.0.3 evpnd
#   each VTEP: h<I>a on VLAN/VNI 10, h<I>b on VLAN/VNI 11 (lib.sh)
# Checks: lib.sh ix_standard_checks (sessions, routes agree across FRR and evpnd,
# kernel state vs zebra's, ARP suppression on every VTEP, ping matrix, isolation,
# broadcast), logs.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ix_init s1-evpnd-rr ixa
ix_node rr evpnd-rr 198.19.0.4 "n1 n2 n3"
ix_node n1 frr-vtep 198.19.0.1 "rr"
ix_node n2 frr-vtep 198.19.0.2 "rr"
ix_node n3 evpnd-vtep 198.19.0.3 "rr"
ix_build || pt_finish
ix_standard_checks
ix_dump final
ix_check_logs
pt_finish
