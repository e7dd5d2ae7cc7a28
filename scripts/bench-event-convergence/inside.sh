#!/usr/bin/env bash
# scripts/bench-event-convergence/inside.sh - runs INSIDE scripts/vm (root, Debian kernel
# with VLAN filtering), started by scripts/bench-event-convergence.sh. Records, on the
# VM's one clock, what each hop of two local events does; analyze.py turns the records
# into per-hop times afterwards (on the host).
#
#            bec-ul: bridge ulsw (the underlay switch), captured (tcp port 179)
#     bec-rr 198.19.0.4   bec-n1 198.19.0.1 (A)   bec-n2 198.19.0.2 (B)   bec-n3 198.19.0.3 (C)
#     evpnd reflector     evpnd VTEPs: br0 (vlan_filtering, MAC 02:b0:00:00:00:0N), evpnd
#                         makes vxlan0 and the SVI vlan10 (198.18.10.10N/24), VLAN 10 <-> VNI 10
#
# Events (R each, a fresh MAC every time, so MAC mobility counts one move per MAC and
# duplicate-MAC detection never triggers):
#   move    host m<i> (02:0a:00:01:00:<i>, 198.18.10.<110+i>) on A pings A's SVI; once C's
#           vxlan0 row points at A, the host falls silent on A (address flushed, port kept,
#           as a migrating guest) and appears on B (new veth, same MAC and address); at
#           start=$EPOCHREALTIME it pings B's SVI: its first frame (an ARP request) makes
#           B's bridge learn the MAC on the new port; done when C's row points at B.
#   remove  host r<i> (02:0a:00:02:00:<i>, 198.18.10.<170+i>) on A pings A's SVI; once C's
#           row points at A, at start=$EPOCHREALTIME its port is deleted on A; done when C
#           has no row for it.
# Records, written to the VM's tmpfs while running (PT_RUN: a recorder writing each line
# to the 9p share blocks on it and stamps the next lines late) and copied to
# $PT_OUT_DIR/run/ at exit: events.txt ("KIND REP MAC START_EPOCH"), fdb-nN.txt (bridge -t
# monitor fdb in each VTEP), link-n1.txt (ip -ts monitor link on A: when a port's deletion
# begins in the kernel), br0-nN.txt (tcpdump -tt -e on A's and B's br0: the host's first
# frame), ul.pcap (every BGP message, on the underlay bridge), meta.txt (the VM's UTC
# offset: bridge -t and ip -ts print local time), bec-<node>/evpnd.log.
# env: EVPND_BIN (required), R (default 5), BENCH_LOG_LEVEL (evpnd's log.level, default
# info: debug logging costs time under TCG).
set -uo pipefail
source "$(dirname "$0")/../../proto-tests/lib/harness.sh"
pt_init event-convergence bec

EVPND=${EVPND_BIN:?EVPND_BIN is required}
R=${R:-5}
RR=198.19.0.4
VTEPS="n1 n2 n3"
ALL="rr $VTEPS"
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND"; pt_finish; }
[[ $R =~ ^[0-9]+$ ]] && [ "$R" -ge 1 ] && [ "$R" -le 50 ] || { fail reps "R=$R: 1..50"; pt_finish; }
for tool in tcpdump jq ping bridge; do
	command -v $tool >/dev/null || { fail tools "$tool missing (scripts/install-deps.sh)"; pt_finish; }
done

addr_of() { [ "$1" = rr ] && echo $RR || echo "198.19.0.${1#n}"; }
ev() { local n=$1; shift; "$EVPND" --socket "$PT_RUN/bec-$n/evpnd.sock" "$@"; }
ev_json() { ev "$1" show "$2" --json 2>/dev/null; }

# ---------------------------------------------------------------- topology
t=$(now)
underlay_create
for n in $ALL; do
	ns_add bec-$n
	underlay_attach bec-$n "$(addr_of $n)/24"
done
for n in $VTEPS; do
	printf 'link add br0 address 02:b0:00:00:00:0%s type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0\nlink set br0 up\n' "${n#n}" |
		ip -n bec-$n -batch -
done
# every BGP message, from before the first OPEN (evpnd decode needs the OPENs)
pcap_start bec-ul ulsw "$PT_RUN/ul.pcap" || pt_finish
pt_log "topology built in $(since "$t")s"

# ---------------------------------------------------------------- evpnd x4
common_conf() { # common_conf N: what every evpnd.toml ends with
	printf '\n[control]\nsocket = "%s"\nmode = "0600"\n\n[log]\nlevel = "%s"\nformat = "text"\n' \
		"$PT_RUN/bec-$1/evpnd.sock" "${BENCH_LOG_LEVEL:-info}"
}
bgp_conf() { # bgp_conf ADDR: the [bgp] section (the lab's timers and families)
	printf '[bgp]\nasn = 65000\nrouter_id = "%s"\nlisten = ["%s"]\nhold_time = 9\nkeepalive = 3\nconnect_retry = 2\nfamilies = ["l2vpn-evpn", "rtc"]\n' "$1" "$1"
}
write_conf() {
	local n=$1 ip m
	ip=$(addr_of $n)
	{
		bgp_conf "$ip"
		if [ $n = rr ]; then
			printf 'cluster_id = "%s"\n' $RR
			for m in $VTEPS; do
				printf '\n[[neighbors]]\naddress = "%s"\nremote_as = 65000\ndescription = "%s"\nroute_reflector_client = true\npassive = true\n' "$(addr_of $m)" $m
			done
		else
			printf '\n[[neighbors]]\naddress = "%s"\nremote_as = 65000\ndescription = "rr"\nlocal_address = "%s"\n' $RR "$ip"
			printf '\n[vtep]\ndataplane = "linux"\nbridge = "br0"\nvxlan_device = "vxlan0"\nlocal_ip = "%s"\nvxlan_port = 4789\nbridge_mac = "02:b0:00:00:00:0%s"\n' "$ip" "${n#n}"
			printf '\n[[vtep.vnis]]\nvlan = 10\nvni = 10\n'
		fi
		common_conf $n
	} >"$PT_RUN/bec-$n/evpnd.toml"
}
t=$(now)
for n in $ALL; do
	mkdir -p "$PT_RUN/bec-$n"
	write_conf $n
	pt_bg ip netns exec bec-$n env NO_COLOR=1 "$EVPND" run --config "$PT_RUN/bec-$n/evpnd.toml" >"$PT_RUN/bec-$n/evpnd.log" 2>&1
	# the reflector first, so the VTEPs' first connect finds it listening
	[ $n = rr ] && { wait_until 30 ev rr show neighbors || { fail evpnd-start "rr: no control socket: $(tail -3 "$PT_RUN/bec-rr/evpnd.log")"; pt_finish; }; }
done
n_est() { ev_json $1 neighbors | jq '[.[] | select(.state == "Established")] | length'; }
floods() { bridge -n bec-$1 fdb show dev vxlan0 2>/dev/null | grep -c '^00:00:00:00:00:00 dst'; }
ready() {
	[ "$(n_est rr)" = 3 ] || return 1
	for n in $VTEPS; do [ "$(n_est $n)" = 1 ] && [ "$(floods $n)" = 2 ] || return 1; done
}
if wait_until 90 ready; then
	pass sessions "RR 3/3 Established, each VTEP 1/1 with 2 flood rows, $(since "$t")s after start"
else
	fail sessions "RR $(n_est rr)/3; flood rows n1 $(floods n1) n2 $(floods n2) n3 $(floods n3): $(ev_json rr neighbors | jq -c '[.[] | {address, state, last_error}]')"
	pt_finish
fi
for n in $VTEPS; do
	ip -n bec-$n addr add "198.18.10.10${n#n}/24" dev vlan10 || { fail svi "$n: no SVI vlan10: $(ip -n bec-$n -br link)"; pt_finish; }
done

# ---------------------------------------------------------------- recorders
date +%z >"$PT_RUN/meta.txt"
for n in $VTEPS; do
	pt_bg ip netns exec bec-$n bridge -t monitor fdb >"$PT_RUN/fdb-$n.txt" 2>&1
done
pt_bg ip netns exec bec-n1 ip -ts monitor link >"$PT_RUN/link-n1.txt" 2>&1
# -p: no promiscuous mode, the host's broadcast ARP reaches br0 anyway
for n in n1 n2; do
	pt_bg ip netns exec bec-$n tcpdump -p -l -n -e -tt -i br0 >"$PT_RUN/br0-$n.txt" 2>"$PT_RUN/br0-$n.err"
	wait_until 15 grep -q 'listening on' "$PT_RUN/br0-$n.err" || { fail recorders "tcpdump on $n's br0 did not start"; pt_finish; }
done
sleep 1 # (bridge monitor prints nothing until a row changes: no readiness line to wait for)

# C's vxlan0 row for MAC: its destination VTEP, or nothing
row_at() { bridge -n bec-n3 fdb show dev vxlan0 | awk -v m="$2" '$1 == m && $2 == "dst" { print $3 }' | grep -qx "$1"; }
row_none() { ! bridge -n bec-n3 fdb show dev vxlan0 | grep -q "^$1 "; }
# host_up VTEP NS ADDR MAC: a host on the VTEP's br0 (VLAN 10), pinging the VTEP's SVI
host_up() {
	host_attach bec-$1 br0 "$2" "$3/24" "$4" 10
	nsx "$2" ping -c 1 -W 3 "198.18.10.10${1#n}" >>"$PT_OUT/checks.log" 2>&1
}
EVENTS=$PT_RUN/events.txt
: >"$EVENTS"
moved=0 removed=0
for i in $(seq "$R"); do
	# ------------------------------------------------ move A -> B
	mac=$(printf '02:0a:00:01:00:%02x' "$i") ip=198.18.10.$((110 + i))
	host_up n1 bec-m${i}a $ip "$mac"
	if wait_until 15 row_at 198.19.0.1 "$mac"; then
		ip -n bec-m${i}a addr flush dev eth0
		host_attach bec-n2 br0 bec-m${i}b "$ip/24" "$mac" 10
		sleep 1
		start=$EPOCHREALTIME
		nsx bec-m${i}b ping -c 1 -W 3 198.18.10.102 >>"$PT_OUT/checks.log" 2>&1
		echo "move $i $mac $start" >>"$EVENTS"
		if wait_until 15 row_at 198.19.0.2 "$mac"; then
			moved=$((moved + 1))
		else
			fail "move-$i" "C's row for $mac: '$(bridge -n bec-n3 fdb show dev vxlan0 | grep "^$mac " | paste -sd';' -)' after 15 s"
		fi
	else
		fail "move-$i" "precondition: C has no row for $mac at A after 15 s"
	fi
	sleep 1
	# ------------------------------------------------ removal on A
	mac=$(printf '02:0a:00:02:00:%02x' "$i") ip=198.18.10.$((170 + i))
	host_up n1 bec-r$i $ip "$mac"
	if wait_until 15 row_at 198.19.0.1 "$mac"; then
		sleep 1
		start=$EPOCHREALTIME
		ip -n bec-n1 link del r$i
		echo "remove $i $mac $start" >>"$EVENTS"
		if wait_until 15 row_none "$mac"; then
			removed=$((removed + 1))
		else
			fail "remove-$i" "C still has '$(bridge -n bec-n3 fdb show dev vxlan0 | grep "^$mac " | paste -sd';' -)' after 15 s"
		fi
	else
		fail "remove-$i" "precondition: C has no row for $mac at A after 15 s"
	fi
	sleep 1
	pt_log "repetition $i/$R done"
done
[ $moved = 0 ] || pass moves "$moved/$R moves reached C's kernel"
[ $removed = 0 ] || pass removals "$removed/$R removals reached C's kernel"
bad=""
for n in $ALL; do
	c=$(grep -cE 'panicked| ERROR ' "$PT_RUN/bec-$n/evpnd.log")
	[ "$c" = 0 ] || bad="$bad $n:${c}x"
done
[ -z "$bad" ] && pass logs "no panic, no ERROR in the 4 evpnd logs" || fail logs "panic/ERROR lines:$bad"
pt_finish
