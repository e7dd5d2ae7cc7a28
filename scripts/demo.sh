#!/usr/bin/env bash
# scripts/demo.sh - a three-VTEP EVPN overlay run by evpnd, end to end.
#
# usage: scripts/demo.sh                 the seed's network driven by evpnd alone
#        scripts/demo.sh --frr [--keep | --down]
#                                        evpnd as route reflector for three FRR VTEPs
#
# Default: an evpnd route reflector and three evpnd VTEPs (198.19.0.1-3), each with one
# VLAN-aware bridge and one external vxlan device, VLAN 10 <-> VNI 10 and VLAN 11 <-> VNI 11,
# and two hosts (198.18.10.N on VLAN 10, 198.18.11.N on VLAN 11). evpnd creates the bridge
# ports' VXLAN side, learns the hosts, exchanges type-2/type-3 routes and installs the
# forwarding and ARP-suppression entries; the script shows `evpnd show ...` from one node,
# pings across, checks isolation, broadcast, ARP suppression, host removal and a MAC
# move, and tears everything down. A kernel without VLAN filtering (like this host's)
# runs it inside a Debian-kernel VM (virtme-ng), which the script says.
#
# --frr: on this host's kernel, evpnd reflects for three FRR 8.4 VTEPs (one vxlan device
# per VNI, as FRR 8.4 needs); --keep leaves it running (then --frr --down tears it down).
#
# Everything lives in network namespaces (and the VM), addresses from 198.18.0.0/15.
# Needs root and what scripts/install-deps.sh installs.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
source proto-tests/lib/harness.sh

mode=run
case "${1:-}" in
"") mode=evpnd ;;
--frr)
	case "${2:-}" in
	"") ;;
	--keep) mode=keep ;;
	--down) mode=down ;;
	*) die "scripts/demo.sh: unknown option '$2' (see --help)" ;;
	esac
	;;
-h | --help) sed -n '2,23p' "$0"; exit 0 ;;
*) die "scripts/demo.sh: unknown option '$1' (see --help)" ;;
esac

if [ "$mode" = evpnd ]; then
	[ "$(id -u)" = 0 ] || die "scripts/demo.sh needs root (network namespaces)"
	T0=$(now)
	say demo "building evpnd (cargo build --bin evpnd) ..."
	cargo build --quiet --bin evpnd || die "cargo build failed"
	out=$REPO/target/demo
	rm -rf "$out"
	mkdir -p "$out"
	if ip netns add evdemo-probe 2>/dev/null &&
		ip -n evdemo-probe link add br0 type bridge vlan_filtering 1 2>/dev/null; then
		say demo "running the network inside a Debian-kernel VM (virtme-ng, TCG; about 2-3 minutes), the way CI does"
	else
		say demo "this kernel has no VLAN filtering: running the network inside a Debian-kernel VM (virtme-ng, TCG; about 2-3 minutes)"
	fi
	ip netns del evdemo-probe 2>/dev/null
	LAB_DEMO=1 PT_OUT_DIR=$out EVPND_BIN=$REPO/target/debug/evpnd \
		proto-tests/vtep-lab-vm.sh >"$out/result.txt" 2>/dev/null &
	pid=$!
	# Progress: the VM's boot and the scenario's steps and checks, as they happen.
	until [ -f "$out/vm.log" ] || ! kill -0 $pid 2>/dev/null; do sleep 0.5; done
	tail -n +1 -F --pid=$pid "$out/vm.log" 2>/dev/null |
		grep --line-buffered -E '^\[vm\]|booted|t\+[0-9.]+s\]|^(PASS|FAIL) '
	wait $pid
	rc=$?
	show=$out/vm/demo-show.txt
	echo
	[ -f "$show" ] && cat "$show"
	tally=$(grep -h 'passed, .* failed' "$out/result.txt" 2>/dev/null | tail -1)
	say demo "done in $(since "$T0") s${tally:+: $tally}; logs and captures in $out"
	exit $rc
fi

export PT_OUT_DIR=$REPO/target/demo
pt_init demo dm # sweeps whatever an earlier run left
if [ "$mode" = down ]; then
	say demo "torn down"
	trap - EXIT
	pt_sweep
	exit 0
fi

T0=$(now)
say demo "building evpnd (cargo build --bin evpnd) ..."
cargo build --quiet --bin evpnd || die "cargo build failed"
EVPND=$REPO/target/debug/evpnd
RR=198.19.0.4
SOCK=$PT_RUN/evpnd.sock

say demo "creating namespaces: underlay switch, route reflector, 3 VTEPs, 6 hosts ..."
underlay_create
ns_add dm-rr
underlay_attach dm-rr $RR/24
for n in 1 2 3; do
	ns_add dm-n$n
	underlay_attach dm-n$n 198.19.0.$n/24
done

say demo "starting evpnd as route reflector on $RR ..."
{
	cat <<EOF
# The demo's route reflector: every VTEP is a passive iBGP route-reflector client.
[bgp]
asn = 65000
router_id = "$RR"
listen = ["$RR"]
hold_time = 9
families = ["l2vpn-evpn"]
EOF
	for n in 1 2 3; do
		cat <<EOF

[[neighbors]]
address = "198.19.0.$n"
remote_as = 65000
description = "n$n"
route_reflector_client = true
passive = true
EOF
	done
	cat <<EOF

[control]
socket = "$SOCK"

[log]
level = "info"
EOF
} >"$PT_RUN/evpnd.toml"
"$EVPND" check-config "$PT_RUN/evpnd.toml" || die "demo config rejected"
pt_bg ip netns exec dm-rr env NO_COLOR=1 "$EVPND" run --config "$PT_RUN/evpnd.toml" >"$PT_OUT/evpnd.log" 2>&1
ev() { "$EVPND" --socket "$SOCK" "$@"; }
wait_until 10 ev show neighbors >/dev/null || die "evpnd did not start: $(tail -3 "$PT_OUT/evpnd.log")"

say demo "starting FRR on the 3 VTEPs (VNIs 10 and 11) and attaching the hosts ..."
for n in 1 2 3; do
	frr_vtep_setup dm-n$n 198.19.0.$n $RR 10 11 || die "FRR did not start on dm-n$n"
	# An SVI address lets zebra learn each host's IP, so MAC+IP routes go out.
	ip -n dm-n$n addr add 198.18.10.10$n/24 dev "$(vtep_svi 10)"
	ip -n dm-n$n addr add 198.18.11.10$n/24 dev "$(vtep_svi 11)"
	host_attach dm-n$n "$(vtep_bridge 10)" dm-h${n}a 198.18.10.$n/24 02:0a:00:00:00:0$n
	host_attach dm-n$n "$(vtep_bridge 11)" dm-h${n}b 198.18.11.$n/24 02:0b:00:00:00:0$n
done

say demo "waiting for the sessions ..."
established() { [ "$(ev show neighbors --json | jq '[.[] | select(.state == "Established")] | length')" = 3 ]; }
check_within sessions-established 60 established
# Each host talks to its SVI once, so its VTEP learns MAC and IP.
for n in 1 2 3; do
	nsx dm-h${n}a ping -c1 -W1 198.18.10.10$n >/dev/null
	nsx dm-h${n}b ping -c1 -W1 198.18.11.10$n >/dev/null
done
# 3 VTEPs x 2 VNIs: 6 type-3 routes, 6 MAC-only and 6 MAC+IP type-2 routes.
routes_converged() { [ "$(ev show routes --json | jq length)" -ge 18 ]; }
check_within routes-reflected 60 routes_converged

echo
say demo "evpnd show neighbors"
ev show neighbors
echo
say demo "evpnd show routes --vni 10"
ev show routes --vni 10
echo

say demo "pinging across the overlay (same VNI must work, the other VNI must not) ..."
for a in 1 2 3; do
	for b in 1 2 3; do
		[ $a = $b ] && continue
		check ping-vni10-h${a}a-h${b}a nsx dm-h${a}a ping -c2 -W2 -i0.3 198.18.10.$b
		check ping-vni11-h${a}b-h${b}b nsx dm-h${a}b ping -c2 -W2 -i0.3 198.18.11.$b
	done
done
# h1b is in VNI 11; give it a VNI 10 address too: still nothing reaches VNI 10.
nsx dm-h1b ip addr add 198.18.10.99/24 dev eth0
if nsx dm-h1b ping -c2 -W1 -i0.3 198.18.10.2 >/dev/null 2>&1; then
	fail vni-isolation "a VNI 11 host reached a VNI 10 host"
else
	pass vni-isolation "VNI 11 host cannot reach VNI 10"
fi

echo
say demo "kernel state FRR installed from evpnd's routes on dm-n1 (bridge fdb show dev vxlan10):"
nsx dm-n1 bridge fdb show dev vxlan10 | grep -v permanent\ master || true
echo
say demo "done in $(since "$T0") s; evpnd log: $PT_OUT/evpnd.log"
if [ "$mode" = keep ]; then
	trap - EXIT INT TERM
	cat <<EOF

Everything is still running. Look around:
  $EVPND --socket $SOCK show routes
  $EVPND --socket $SOCK show neighbors --json
  ip netns exec dm-h1a ping 198.18.10.3
  vtysh -N dm-n1 -c 'show bgp l2vpn evpn'
Tear it down with: scripts/demo.sh --frr --down
EOF
	exit 0
fi
pt_finish
