#!/usr/bin/env bash
# interop-vm.sh - the interop suite: mixed FRR 8.4 / evpnd / GoBGP / ExaBGP EVPN
# overlays on VLAN-aware bridges, in one VM (scripts/vm), one scenario after another,
# each built from scratch and torn down:
#   s1-evpnd-rr   evpnd route reflector; VTEPs: FRR n1, FRR n2, evpnd n3
#   s2-frr-rr     FRR route reflector; VTEPs: evpnd n1, evpnd n2, FRR n3; explicit
#                 route targets on VNI 11 on both sides, an RT mismatch on VNI 12; n1
#                 restarted under traffic (FRR keeps no EVPN route of a restarting peer)
#   s3-two-rrs    evpnd and FRR reflectors sharing one cluster id, every VTEP peered
#                 with both; each reflector stopped in turn: no route, no ping lost
#   s4-gobgp-exabgp  GoBGP (client, routes from its CLI) and ExaBGP (MAC mobility,
#                 sticky, default gateway; route types 1, 4, 5 reflected unchanged)
#   s5-graceful-restart  evpnd reflector, evpnd VTEPs n1 n2, FRR VTEP n3 with graceful
#                 restart: each of n1, the reflector, n2 (a new binary) and n3 restarted
#                 under 20 pings/s between every VTEP pair, the echoes lost counted (RFC 4724)
# Each prints one line per check, "PASS|FAIL <scenario>/<check>: detail", and its
# tally "<scenario>: N passed, N failed". The body: proto-tests/interop-vm/inside.sh.
# Artifacts: target/proto-tests/interop-vm/ (vm.log; vm/<scenario>/: checks.log,
# route and kernel views, captures, run/<ns>/ daemon logs).
# env: INTEROP_SCENARIOS="s1 s3" runs a subset; EVPND_BIN; VM_TIMEOUT (default 2100 s).
# proto-timeout: 2200
set -uo pipefail
source "$(dirname "$0")/lib/vm-scenario.sh"
vm_scenario interop-vm 2100 INTEROP_SCENARIOS="${INTEROP_SCENARIOS:-}" bash proto-tests/interop-vm/inside.sh
