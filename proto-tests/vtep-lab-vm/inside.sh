#!/usr/bin/env bash
# vtep-lab-vm/inside.sh - runs INSIDE scripts/vm (root, Debian kernel with VLAN
# filtering), started by proto-tests/vtep-lab-vm.sh. Everything is evpnd: no FRR,
# no multicast underlay, no hand-written fdb or neigh entries.
#
#            lab-ul: bridge ulsw (the underlay switch, MTU 1600)
#     lab-rr 198.19.0.4  lab-n1 198.19.0.1  lab-n2 198.19.0.2  lab-n3 198.19.0.3
#     evpnd RR (AS 65000, n1..n3 passive RR clients)
#     VTEP n<N>: evpnd [vtep]: br0 (created here as in docs/kernel-state.md: vlan_filtering 1,
#       vlan_default_pvid 0, MAC 02:b0:00:00:00:0N = bridge_mac) with the host ports;
#       evpnd creates vxlan0 (external), tunnel_info 10->10 / 11->11, br0's own VLANs
#       and the SVIs vlan10/vlan11, which then get 198.18.1x.10N/24 here.
#       h<N>a: VLAN 10 (untagged pvid port), 198.18.10.N/24, MAC 02:0a:00:00:00:0N
#       h<N>b: VLAN 11,                      198.18.11.N/24, MAC 02:0b:00:00:00:0N
# Checks (one line each):
#   sessions       RR: 3 Established, each VTEP: its RR Established
#   vnis           show vnis on each VTEP: VNIs 10/11, the 2 other VTEPs each, no warnings
#   rr-routes      RR: 6 type-3 + 6 MAC + 6 MAC+IP type-2, right VNI/next hop, nothing else
#   kernel-nN      bridge fdb dev vxlan0 (flood rows with src_vni, both rows per remote
#                  MAC) and SVI neighbours (extern_learn NOARP); differences to FRR printed
#   show-fdb-ports show fdb on each VTEP names the port of each local MAC (h<N>a, h<N>b),
#                  as text (Dest) and --json (port, port_ifindex = the port's ifindex)
#   arp-suppression  h1a's ARP for h2a answered on n1, none in VXLAN; unknown IP flooded
#   ping-matrix    every host pings every other host of its VNI (12 pairs)
#   vni-isolation  h2b (VLAN 11) with a VLAN-10 address: unreachable from VNI 10 and back
#   broadcast      ping -b 198.18.10.255 from h1a: h2a+h3a answer; VXLAN copies only to
#                  .2/.3 with VNI 10 (capture on n1's underlay port)
#   host-delete    h3a's port deleted: its type-2 withdrawn (RR), n1/n2 entries gone (s)
#   mac-move       h2a's MAC/IP reappears behind n3: seq 1 from n3, n2's route gone,
#                  every VTEP points at 198.19.0.3, h1a pings it
#   mac-move-n3-clean  n3's vxlan0 keeps no row of the old route (the bridge moved the
#                  master row to h2m itself; the self row must go too)
#   drift-repair   a flood row of n1's deleted by hand: evpnd puts it back, and its
#                  metrics endpoint counts one more evpnd_drift_repairs_total
#   rtc-*          RT-Constrain (RFC 4684): every evpnd has `rtc` beside l2vpn-evpn from
#                  the start (so every check above runs constrained). The RR's show
#                  neighbors --json: rt_memberships 2 per VTEP (65000:10/11); `evpnd reload`
#                  adds VNI 12 (VLAN 12, RT 65000:12) to n1 and n2 only: 3 for them, 2 for
#                  n3; `evpnd upgrade` of the RR (ADR 0010): sessions kept
#                  (established_at_ms), memberships handed over, no wait for an End-of-RIB;
#                  hosts h1c/h2c on VLAN 12 ping; n2 holds n1's VNI 12 routes (show routes,
#                  flood and MAC rows), n3 none (show routes, kernel fdb) while the RR holds
#                  them all
#   logs           no panic, no ERROR, all four evpnd still running
set -uo pipefail
source "$(dirname "$0")/../lib/harness.sh"
pt_init vtep-lab-vm lab

EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
RR=198.19.0.4
VTEPS="n1 n2 n3"
ALL="rr $VTEPS"
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND"; pt_finish; }
for tool in tcpdump arping jq ping; do
	command -v $tool >/dev/null || { fail tools "$tool missing (scripts/install-deps.sh)"; pt_finish; }
done
if arping --help 2>&1 | grep -q Habets; then ARPING_IF=-i; else ARPING_IF=-I; fi

vtep_ip() { echo "198.19.0.${1#n}"; }
ev() { local n=$1; shift; "$EVPND" --socket "$PT_RUN/lab-$n/evpnd.sock" "$@"; }
ev_json() { ev "$1" show "$2" --json 2>/dev/null; }

# ---------------------------------------------------------------- topology
# Batched (ip -batch / bridge -batch): one command per object is several times slower
# in the VM.
t=$(now)
# Namespaces without ns_add's two extra commands each: in this throw-away VM new
# namespaces inherit the root's IPv6-off defaults (devconf_inherit_init_net), lo is
# set up in the batches below. h2m (MAC move) later uses host_attach/ns_add.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.core.devconf_inherit_init_net=1
NSS="lab-ul $(for n in $ALL; do echo -n "lab-$n "; done)$(for i in 1 2 3; do echo -n "lab-h${i}a lab-h${i}b "; done)"
for ns in $NSS; do ip netns add $ns || { fail topology "ip netns add $ns"; pt_finish; }; PT_NS+=($ns); done
[ "$(ip netns exec lab-h1a sysctl -n net.ipv6.conf.default.disable_ipv6)" = 1 ] ||
	for ns in $NSS; do nsx $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
for ns in $NSS; do echo "link set lo up" | ip -n $ns -batch -; done
printf 'link add ulsw mtu 1600 type bridge\nlink set ulsw up\n' | ip -n lab-ul -batch -
for n in $ALL; do
	echo "link add p-$n mtu 1600 type veth peer name eth0 mtu 1600 netns lab-$n"
	echo "link set p-$n master ulsw up"
done | ip -n lab-ul -batch -
for n in $ALL; do
	printf 'addr add %s/24 dev eth0\nlink set eth0 up\n' "$([ $n = rr ] && echo $RR || vtep_ip $n)" | ip -n lab-$n -batch -
done
for n in $VTEPS; do
	i=${n#n}
	{
		echo "link add br0 address 02:b0:00:00:00:0$i type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0"
		echo "link set br0 up"
		for h in a b; do
			echo "link add h$i$h type veth peer name eth0 netns lab-h$i$h"
			echo "link set h$i$h master br0 up"
		done
	} | ip -n lab-$n -batch -
	printf 'vlan add dev h%sa vid 10 pvid untagged\nvlan add dev h%sb vid 11 pvid untagged\n' $i $i | bridge -n lab-$n -batch -
	for v in 10 11; do
		h=h$i$([ $v = 10 ] && echo a || echo b)
		printf 'link set eth0 address %s\naddr add %s/24 dev eth0\nlink set eth0 up\n' "$(host_mac $v $i)" "$(host_ip $v $i)" | ip -n lab-$h -batch -
	done
done
pt_log "topology built in $(since "$t")s"

# ---------------------------------------------------------------- evpnd x4
rr_conf() {
	local n
	cat <<-EOF
	[bgp]
	asn = 65000
	router_id = "$RR"
	cluster_id = "$RR"
	listen = ["$RR"]
	hold_time = 9
	keepalive = 3
	connect_retry = 2
	families = ["l2vpn-evpn", "rtc"]
	EOF
	for n in $VTEPS; do
		printf '\n[[neighbors]]\naddress = "%s"\nremote_as = 65000\ndescription = "%s"\nroute_reflector_client = true\npassive = true\n' "$(vtep_ip $n)" $n
	done
}
vtep_conf() {
	local n=$1 ip; ip=$(vtep_ip $1)
	cat <<-EOF
	[bgp]
	asn = 65000
	router_id = "$ip"
	listen = ["$ip"]
	hold_time = 9
	keepalive = 3
	connect_retry = 2
	families = ["l2vpn-evpn", "rtc"]

	[[neighbors]]
	address = "$RR"
	remote_as = 65000
	description = "rr"
	local_address = "$ip"

	[vtep]
	dataplane = "linux"
	bridge = "br0"
	vxlan_device = "vxlan0"
	local_ip = "$ip"
	vxlan_port = 4789
	bridge_mac = "02:b0:00:00:00:0${n#n}"

	[[vtep.vnis]]
	vlan = 10
	vni = 10

	[[vtep.vnis]]
	vlan = 11
	vni = 11
	EOF
	for v in ${EXTRA_VNIS[$n]:-}; do printf '\n[[vtep.vnis]]\nvlan = %s\nvni = %s\n' "$v" "$v"; done
}
declare -A EXTRA_VNIS=() # node -> VNIs beyond 10/11 (VLAN = VNI), added by phase 9
write_conf() { # N: lab-N's evpnd.toml
	local n=$1
	{ if [ $n = rr ]; then rr_conf; else vtep_conf $n; fi
	  printf '\n[control]\nsocket = "%s"\nmode = "0600"\n\n[log]\nlevel = "debug"\nformat = "text"\n' "$PT_RUN/lab-$n/evpnd.sock"
	  printf '\n[metrics]\nlisten = "127.0.0.1:9100"\n'
	} >"$PT_RUN/lab-$n/evpnd.toml"
}
t=$(now)
# The RR first, so the VTEPs' first connect finds it listening (no retry back-off)
for n in $ALL; do
	[ $n = n1 ] && { wait_until 30 ev rr show neighbors || { fail evpnd-start "rr: control socket not answering after 30 s: $(tail -3 "$PT_RUN/lab-rr/evpnd.log")"; pt_finish; }; }
	mkdir -p "$PT_RUN/lab-$n"
	write_conf $n
	pt_bg ip netns exec lab-$n env NO_COLOR=1 "$EVPND" run --config "$PT_RUN/lab-$n/evpnd.toml" >"$PT_RUN/lab-$n/evpnd.log" 2>&1
	eval "PID_$n=$PT_LAST_PID"
done
for n in $ALL; do
	wait_until 30 ev $n show neighbors ||
		{ fail evpnd-start "$n: control socket not answering after 30 s: $(tail -3 "$PT_RUN/lab-$n/evpnd.log")"; pt_finish; }
done
pt_log "4 evpnd answering $(since "$t")s after start"
# evpnd made the SVIs; give them addresses (local IP learning comes from their ARP tables)
# LAB_SVI_ADDRESSES=0 leaves them without: then the bindings come from ARP snooping alone.
[ "${LAB_SVI_ADDRESSES:-1}" = 0 ] || for n in $VTEPS; do
	i=${n#n}
	for v in 10 11; do
		ip -n lab-$n addr add "198.18.$v.$((100 + i))/24" dev vlan$v ||
			{ fail svi "$n: no SVI vlan$v to address: $(ip -n lab-$n -br link)"; pt_finish; }
	done
done

# ================================================================ 1. sessions, VNIs
n_est() { ev_json $1 neighbors | jq '[.[] | select(.state == "Established")] | length'; }
sessions_up() {
	[ "$(n_est rr)" = 3 ] || return 1
	for n in $VTEPS; do [ "$(n_est $n)" = 1 ] || return 1; done
}
if wait_until 60 sessions_up; then
	pass sessions "RR 3/3 Established, n1/n2/n3 1/1 each, $(since "$t")s after evpnd start"
else
	fail sessions "RR $(n_est rr)/3, n1 $(n_est n1)/1, n2 $(n_est n2)/1, n3 $(n_est n3)/1 after $(since "$t")s: $(ev_json rr neighbors | jq -c '[.[] | {address, state, last_error}]')"
	pt_finish
fi
vnis_ok() { # every VTEP: VNIs 10 and 11, exactly the other two VTEPs, no warnings
	local n others
	for n in $VTEPS; do
		others=$(for m in $VTEPS; do [ $m = $n ] || vtep_ip $m; done | jq -Rsc 'split("\n") | map(select(length > 0)) | sort')
		ev_json $n vnis | jq -e --argjson o "$others" \
			'([.[] | .vni] | sort) == [10, 11] and all(.[]; (.remote_vteps | sort) == $o and (.warnings | length) == 0)' >/dev/null || return 1
	done
}
t=$(now)
if wait_until 30 vnis_ok; then
	pass vnis "each VTEP: VNI 10 (VLAN 10) and 11 (VLAN 11), 2 remote VTEPs each, no warnings ($(since "$t")s); n1: $(ev_json n1 vnis | jq -c '[.[] | {vni, rd, remote_vteps}]')"
else
	fail vnis "$(for n in $VTEPS; do echo -n "$n: $(ev_json $n vnis | jq -c '[.[] | {vni, vlan, remote_vteps, warnings}]') "; done)"
fi

# ================================================================ 2. local learning -> RR routes
pids=()
for i in 1 2 3; do
	nsx lab-h${i}a ping -c1 -W3 198.18.10.$((100 + i)) >/dev/null & pids+=($!)
	nsx lab-h${i}b ping -c1 -W3 198.18.11.$((100 + i)) >/dev/null & pids+=($!)
done
wait "${pids[@]}"
# best paths on the RR as "type vni next-hop mac ip"
rr_tuples() {
	ev_json rr routes | jq -r '.[] | select(.best) |
		if .route_type == 3 then "3 \(.pmsi.label // "?") \(.originator_ip // "?") - -"
		else "\(.route_type) \(.labels[0] // "?") \(.next_hop // "?") \(.mac // "-") \(.ip // "-")" end' | sort
}
want_tuples() {
	local i v
	for i in 1 2 3; do for v in 10 11; do
		echo "3 $v 198.19.0.$i - -"
		echo "2 $v 198.19.0.$i $(host_mac $v $i) -"
		echo "2 $v 198.19.0.$i $(host_mac $v $i) $(host_ip $v $i)"
	done; done | sort
}
WANT=$(want_tuples)
rr_complete() { [ "$(rr_tuples)" = "$WANT" ]; }
t=$(now)
if wait_until 30 rr_complete; then
	pass rr-routes "RR best paths = 6 type-3 + 6 MAC + 6 MAC+IP type-2, each with its VNI and VTEP next hop, nothing else ($(since "$t")s after host->SVI pings)"
	if [ "${LAB_DEMO:-0}" = 1 ]; then # what the demo shows a newcomer
		{
			echo "[demo] n1: evpnd show neighbors"; ev n1 show neighbors; echo
			echo "[demo] n1: evpnd show vnis"; ev n1 show vnis; echo
			echo "[demo] route reflector: evpnd show routes --vni 10"; ev rr show routes --vni 10; echo
			echo "[demo] n1: evpnd show fdb"; ev n1 show fdb; echo
			echo "[demo] n1: bridge fdb show dev vxlan0 (installed by evpnd)"; bridge -n lab-n1 fdb show dev vxlan0; echo
		} >"$PT_OUT/demo-show.txt" 2>&1
	fi
else
	got=$(rr_tuples)
	fail rr-routes "missing: $(comm -23 <(echo "$WANT") <(echo "$got") | paste -sd, -); unexpected: $(comm -13 <(echo "$WANT") <(echo "$got") | paste -sd, -)"
fi
ev_json rr routes >"$PT_OUT/rr-routes-initial.json"

# ================================================================ 3. kernel state per VTEP
# The rows evpnd should have installed on VTEP n (docs/kernel-state.md: FRR's rows plus src_vni)
want_fdb() {
	local i=${1#n} j v
	for j in 1 2 3; do [ $j = $i ] && continue; for v in 10 11; do
		echo "00:00:00:00:00:00 dst 198.19.0.$j src_vni $v self permanent"
		echo "$(host_mac $v $j) vlan $v extern_learn master br0"
		echo "$(host_mac $v $j) dst 198.19.0.$j src_vni $v self extern_learn"
	done; done | sort
}
# vxlan0's rows, flood rows normalised: evpnd marks everything it installs extern_learn
# (docs/kernel-state.md), FRR's flood rows are plain "self permanent"; the difference is reported
fdb_norm() { bridge -n lab-$1 fdb show dev vxlan0 | strip | sed -E 's/^(00:00:00:00:00:00 dst \S+ src_vni [0-9]+ self) extern_learn permanent$/\1 permanent/' | sort; }
fdb_missing() { comm -23 <(want_fdb $1) <(fdb_norm $1); }
neigh_missing() {
	local i=${1#n} j v
	for j in 1 2 3; do [ $j = $i ] && continue; for v in 10 11; do
		ip -n lab-$1 neigh show dev vlan$v | strip | grep -qE "^$(host_ip $v $j | sed 's/\./\\./g') lladdr $(host_mac $v $j) extern_learn NOARP( proto [a-z0-9]+)?$" ||
			echo "vlan$v $(host_ip $v $j)"
	done; done
}
kernel_ok() { [ -z "$(fdb_missing $1)" ] && [ -z "$(neigh_missing $1)" ]; }
for n in $VTEPS; do
	t=$(now)
	wait_until 20 kernel_ok $n
	took=$(since "$t")
	K=$PT_OUT/$n-kernel.txt
	dump "$K" bridge -n lab-$n fdb show dev vxlan0
	dump "$K" bridge -n lab-$n fdb show br br0
	dump "$K" ip -n lab-$n -d neigh show dev vlan10
	dump "$K" ip -n lab-$n -d neigh show dev vlan11
	dump "$K" bridge -n lab-$n -d vlan tunnelshow
	dump "$K" bridge -n lab-$n vni show
	dump "$K" bridge -n lab-$n -d link show
	dump "$K" ip -n lab-$n -d link show vxlan0
	# Rows on vxlan0 beyond the recipe (the port's own permanent entries aside)
	extra=$(comm -13 <(want_fdb $n) <(fdb_norm $n) | grep -v ' master br0 permanent$' | paste -sd';' -)
	flood_el=$(bridge -n lab-$n fdb show dev vxlan0 | grep -c '^00:00:00:00:00:00 .* self extern_learn permanent')
	# FRR 8.4 (docs/lab.md): remote neighbours "extern_learn NOARP proto zebra"; per-VNI devices, no src_vni
	protos=$(ip -n lab-$n neigh show nud noarp | grep -o 'proto [a-z0-9]*' | sort | uniq -c | awk '{printf "%s%s %s x%s", s, $2, $3, $1; s=", "}')
	diffs="vs FRR 8.4: flood/MAC rows carry src_vni (SVD; FRR's per-VNI vxlan10/11 rows have none); $flood_el/4 flood rows are 'self extern_learn permanent' where FRR's are 'self permanent'; SVI neighbours show '${protos:-no proto}' where FRR shows 'proto zebra'"
	[ -n "$extra" ] && diffs="$diffs; extra vxlan0 rows: $extra"
	if kernel_ok $n; then
		pass kernel-$n "vxlan0: 4 flood rows (dst <other VTEP> src_vni 10/11 self [extern_learn] permanent) + 4 remote MACs x (vlan V extern_learn master br0, dst <VTEP> src_vni V self extern_learn); vlan10/vlan11: 4 remote hosts extern_learn NOARP (${took}s); $diffs"
	else
		fail kernel-$n "missing fdb rows: $(fdb_missing $n | paste -sd';' -); missing neighbours: $(neigh_missing $n | paste -sd';' -); $diffs (see $n-kernel.txt)"
	fi
done
for n in $VTEPS; do ev_json $n fdb >"$PT_OUT/$n-show-fdb.json"; ev_json $n vnis >"$PT_OUT/$n-show-vnis.json"; done

# show fdb: each local MAC's row names its bridge port, "MAC port port ifindex" per row
# from --json, "MAC Dest" from the text table (columns VNI VLAN MAC IP Dest Origin State)
want_local_fdb() { # want_local_fdb N: h<N>a has 02:0a:..:0N, h<N>b 02:0b:..:0N
	local n=$1 i=${1#n} p
	for p in a b; do
		echo "02:0$p:00:00:00:0$i h$i$p h$i$p $(ip -n lab-$n -j link show h$i$p | jq '.[0].ifindex')"
	done
}
got_local_fdb() {
	jq -r '.[] | select(.origin == "learned") | "\(.mac) \(.dest) \(.port) \(.port_ifindex)"' "$PT_OUT/$1-show-fdb.json" | sort
}
fdb_port_errors=()
for n in $VTEPS; do
	ev $n show fdb >"$PT_OUT/$n-show-fdb-initial.txt" 2>&1
	[ "$(got_local_fdb $n)" = "$(want_local_fdb $n)" ] ||
		fdb_port_errors+=("$n --json: $(got_local_fdb $n | paste -sd';' -), want $(want_local_fdb $n | paste -sd';' -)")
	text=$(awk '$6 == "learned" { print $3, $5 }' "$PT_OUT/$n-show-fdb-initial.txt")
	[ "$text" = "$(want_local_fdb $n | cut -d' ' -f1,2)" ] ||
		fdb_port_errors+=("$n text: '$(echo "$text" | paste -sd';' -)'")
done
if [ ${#fdb_port_errors[@]} = 0 ]; then
	pass show-fdb-ports "n1..n3 name each local MAC's port in show fdb: n1 $(got_local_fdb n1 | paste -sd';' -) (MAC, Dest, port, port_ifindex = ip link's ifindex)"
else
	fail show-fdb-ports "$(printf '%s | ' "${fdb_port_errors[@]}")(see nN-show-fdb-initial.txt, nN-show-fdb.json)"
fi

pt_log "kernel checks done"
# ================================================================ 6. ARP suppression (before any host<->host traffic)
pcap_start lab-n1 eth0 "$PT_OUT/arp-suppress-n1-underlay.pcap" 'udp port 4789' || pt_finish
TD1=$PT_LAST_PID
pcap_start lab-h2a eth0 "$PT_OUT/arp-suppress-h2a.pcap" arp || pt_finish
TD2=$PT_LAST_PID
ip -n lab-h1a neigh flush all
nsx lab-h1a arping -c 1 -w 3 $ARPING_IF eth0 198.18.10.2 >"$PT_OUT/arp-suppress-arping.txt" 2>&1
rc1=$?
nsx lab-h1a arping -c 1 -w 2 $ARPING_IF eth0 198.18.10.99 >>"$PT_OUT/arp-suppress-arping.txt" 2>&1 # control: unknown IP
sleep 1 # let tcpdump write the last packets (-U)
pcap_stop $TD1; pcap_stop $TD2
vxlan_pairs "$PT_OUT/arp-suppress-n1-underlay.pcap" >"$PT_OUT/arp-suppress-n1-underlay.txt"
n_sup=$(grep -c 'who-has 198.18.10.2 tell 198.18.10.1,' "$PT_OUT/arp-suppress-n1-underlay.txt")
n_ctl2=$(grep -c '^198.19.0.2 10 .*who-has 198.18.10.99 tell 198.18.10.1,' "$PT_OUT/arp-suppress-n1-underlay.txt")
n_ctl3=$(grep -c '^198.19.0.3 10 .*who-has 198.18.10.99 tell 198.18.10.1,' "$PT_OUT/arp-suppress-n1-underlay.txt")
n_ctl_all=$(grep -c 'who-has 198.18.10.99 tell 198.18.10.1,' "$PT_OUT/arp-suppress-n1-underlay.txt")
n_h2a=$(tcpdump -nn -r "$PT_OUT/arp-suppress-h2a.pcap" 2>/dev/null | grep -c 'who-has 198.18.10.2 tell 198.18.10.1,')
if [ $rc1 = 0 ] && grep -qi "$(host_mac 10 2)" "$PT_OUT/arp-suppress-arping.txt" && [ "$n_sup" = 0 ] && [ "$n_h2a" = 0 ] && [ "$n_ctl2" -ge 1 ] && [ "$n_ctl3" -ge 1 ] && [ "$n_ctl_all" = $((n_ctl2 + n_ctl3)) ]; then
	pass arp-suppression "h1a's broadcast ARP for 198.18.10.2 answered by n1 with $(host_mac 10 2): 0 such ARPs in VXLAN on n1's underlay, 0 reached h2a; control ARP for unknown 198.18.10.99 flooded as VNI 10 to .2 (x$n_ctl2) and .3 (x$n_ctl3), nowhere else"
else
	fail arp-suppression "arping rc=$rc1 ($(grep -io 'from [0-9a-f:]*' "$PT_OUT/arp-suppress-arping.txt" | head -1)), VXLAN ARPs for .2 on n1's underlay: $n_sup, h2a saw: $n_h2a, control copies to .2/.3 with VNI 10: $n_ctl2/$n_ctl3 of $n_ctl_all (want >=1 each, no others); see arp-suppress-*.txt"
fi

pt_log "ARP suppression done"
# ================================================================ 4. pings + isolation
pids=() pairs=()
for v in 10 11; do
	h=$([ $v = 10 ] && echo a || echo b)
	for i in 1 2 3; do for j in 1 2 3; do
		[ $i = $j ] && continue
		nsx lab-h$i$h ping -c 2 -i 0.3 -W 3 "$(host_ip $v $j)" >"$PT_RUN/ping-h$i$h-$j.txt" 2>&1 &
		pids+=($!) pairs+=("h$i$h->$(host_ip $v $j)")
	done; done
done
bad=()
for k in "${!pids[@]}"; do wait "${pids[$k]}" || bad+=("${pairs[$k]}"); done
if [ ${#bad[@]} = 0 ]; then
	pass ping-matrix "all ${#pairs[@]} ordered host pairs within VNI 10 and within VNI 11 ping (2 echoes each)"
else
	fail ping-matrix "${#bad[@]}/${#pairs[@]} pairs fail: ${bad[*]}"
fi
# h2b sits on VLAN/VNI 11 and gets a VNI-10 subnet address: only the VNI separates it now
ip -n lab-h2b addr add 198.18.10.21/24 dev eth0
pcap_start lab-h2b eth0 "$PT_RUN/isolation-h2b.pcap" arp || pt_finish
TD3=$PT_LAST_PID
pcap_start lab-h2a eth0 "$PT_RUN/isolation-h2a.pcap" arp || pt_finish
TD4=$PT_LAST_PID
nsx lab-h1a ping -c 2 -i 0.3 -W 1 198.18.10.21 >>"$PT_OUT/checks.log" 2>&1; rc_a=$?
nsx lab-h2b ping -c 2 -i 0.3 -W 1 -I 198.18.10.21 198.18.10.1 >>"$PT_OUT/checks.log" 2>&1; rc_b=$?
nsx lab-h2b ping -c 2 -i 0.3 -W 1 -I 198.18.10.21 198.18.10.2 >>"$PT_OUT/checks.log" 2>&1; rc_c=$?
sleep 1
pcap_stop $TD3; pcap_stop $TD4
n_leak=$(tcpdump -nn -r "$PT_RUN/isolation-h2b.pcap" 2>/dev/null | grep -c 'who-has 198.18.10.21 tell 198.18.10.1,')
n_seen=$(tcpdump -nn -r "$PT_RUN/isolation-h2a.pcap" 2>/dev/null | grep -c 'who-has 198.18.10.21 tell 198.18.10.1,')
n_back=$(tcpdump -nn -r "$PT_RUN/isolation-h2a.pcap" 2>/dev/null | grep -c 'tell 198.18.10.21,')
ip -n lab-h2b addr del 198.18.10.21/24 dev eth0
if [ $rc_a != 0 ] && [ $rc_b != 0 ] && [ $rc_c != 0 ] && [ "$n_leak" = 0 ] && [ "$n_seen" -ge 1 ] && [ "$n_back" = 0 ]; then
	pass vni-isolation "h2b (VLAN/VNI 11) given 198.18.10.21/24: h1a cannot reach it, it cannot reach h1a/h2a; h1a's ARP for .21 reached h2a $n_seen times (flooded in VNI 10) and h2b 0 times; h2a saw 0 ARPs from .21"
else
	fail vni-isolation "ping rc h1a->.21=$rc_a h2b->h1a=$rc_b h2b->h2a=$rc_c (want all non-0); ARPs for .21 at h2b: $n_leak (want 0), at h2a: $n_seen (want >=1); ARPs from .21 at h2a: $n_back (want 0)"
fi

pt_log "pings and isolation done"
# ================================================================ 5. broadcast
for h in h2a h3a; do nsx lab-$h sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0; done
pcap_start lab-n1 eth0 "$PT_OUT/broadcast-n1-underlay.pcap" 'udp port 4789' || pt_finish
TD5=$PT_LAST_PID
nsx lab-h1a ping -b -c 2 -i 0.5 -W 2 198.18.10.255 >"$PT_OUT/broadcast-ping.txt" 2>&1
sleep 1
pcap_stop $TD5
vxlan_pairs "$PT_OUT/broadcast-n1-underlay.pcap" >"$PT_OUT/broadcast-n1-underlay.txt"
copies=$(grep '198.18.10.1 > 198.18.10.255: ICMP echo request' "$PT_OUT/broadcast-n1-underlay.txt" | awk '{print $1 "/vni" $2}' | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=", "}')
r2=$(grep -c 'from 198.18.10.2:' "$PT_OUT/broadcast-ping.txt")
r3=$(grep -c 'from 198.18.10.3:' "$PT_OUT/broadcast-ping.txt")
rother=$(grep 'bytes from' "$PT_OUT/broadcast-ping.txt" | grep -vc 'from 198.18.10.[23]:')
if [ "$copies" = "198.19.0.2/vni10 x2, 198.19.0.3/vni10 x2" ] && [ "$r2" -ge 1 ] && [ "$r3" -ge 1 ] && [ "$rother" = 0 ]; then
	pass broadcast "ping -b 198.18.10.255 from h1a: replies from h2a x$r2 and h3a x$r3; n1's underlay carried the 2 echo requests to exactly the VNI-10 VTEPs: $copies"
else
	fail broadcast "VXLAN copies: ${copies:-none} (want 198.19.0.2/vni10 x2, 198.19.0.3/vni10 x2); replies from .2: $r2, .3: $r3, others: $rother (see broadcast-*.txt)"
fi

pt_log "broadcast done"
# ================================================================ 7. host deletion
M3=$(host_mac 10 3)
rr_has_mac() { ev_json rr routes | jq -e --arg m "$1" 'any(.[]; .route_type == 2 and .mac == $m)' >/dev/null; }
vtep_has_mac() { # n MAC IP: any fdb row on vxlan0 or SVI neighbour for it
	bridge -n lab-$1 fdb show dev vxlan0 | grep -q "^$2 " || ip -n lab-$1 neigh show dev vlan10 | grep -q "^$3 "
}
h3a_gone() { ! rr_has_mac $M3 && ! vtep_has_mac n1 $M3 198.18.10.3 && ! vtep_has_mac n2 $M3 198.18.10.3; }
# A precondition, not a timing: under a loaded TCG VM one `show routes` can be slow,
# so it gets a few seconds, and a failure says which part was missing.
h3a_known() { rr_has_mac $M3 && vtep_has_mac n1 $M3 198.18.10.3 && vtep_has_mac n2 $M3 198.18.10.3; }
if wait_until 10 h3a_known; then
	t=$(now)
	ip -n lab-n3 link del h3a # the port goes, and the bridge's entry for h3a's MAC with it
	ip netns del lab-h3a
	t_rr="" t_n1="" t_n2=""
	end=$((SECONDS + 20))
	while [ $SECONDS -lt $end ]; do
		[ -z "$t_rr" ] && ! rr_has_mac $M3 && t_rr=$(since "$t")
		[ -z "$t_n1" ] && ! vtep_has_mac n1 $M3 198.18.10.3 && t_n1=$(since "$t")
		[ -z "$t_n2" ] && ! vtep_has_mac n2 $M3 198.18.10.3 && t_n2=$(since "$t")
		[ -n "$t_rr" ] && [ -n "$t_n1" ] && [ -n "$t_n2" ] && break
		sleep 0.2
	done
	others_ok=$(rr_has_mac "$(host_mac 11 3)" && ev_json rr routes | jq -e 'any(.[]; .route_type == 3 and .originator_ip == "198.19.0.3")' >/dev/null && echo yes || echo no)
	if h3a_gone && [ "$others_ok" = yes ]; then
		pass host-delete "h3a's port deleted on n3: its MAC and MAC+IP routes left the RR after ${t_rr}s; n1's fdb/neigh entries gone after ${t_n1}s, n2's after ${t_n2}s; h3b's route and n3's type-3 routes stay"
	else
		fail host-delete "after 20 s: RR still has $M3: $(rr_has_mac $M3 && echo yes || echo no) (${t_rr:-never}), n1 entries: $(bridge -n lab-n1 fdb show dev vxlan0 | grep -c "^$M3 ")+$(ip -n lab-n1 neigh show dev vlan10 | grep -c '^198.18.10.3 ') (${t_n1:-never}), n2 ${t_n2:-never}; h3b/type-3 of n3 kept: $others_ok"
	fi
else
	fail host-delete "precondition: h3a's MAC $M3 before the deletion: RR $(rr_has_mac $M3 && echo yes || echo no), n1 $(vtep_has_mac n1 $M3 198.18.10.3 && echo yes || echo no), n2 $(vtep_has_mac n2 $M3 198.18.10.3 && echo yes || echo no)"
fi
for n in n1 n2; do dump "$PT_OUT/$n-kernel-after-h3a-delete.txt" bridge -n lab-$n fdb show dev vxlan0; dump "$PT_OUT/$n-kernel-after-h3a-delete.txt" ip -n lab-$n neigh show dev vlan10; done

pt_log "host deletion done"
# ================================================================ 8. MAC move
# h2a's MAC and IP reappear behind n3 (port h2m) while n2 still advertises them, as
# when a VM migrates: n3 must advertise with sequence 1 (RFC 7432 15.1) and n2, seeing
# the higher sequence, withdraw. Then the old port goes away.
M2=$(host_mac 10 2)
mac_paths() { # "mac|mac+ip next-hop seq" of every RR path for M2
	ev_json rr routes | jq -r --arg m "$M2" '.[] | select(.route_type == 2 and .mac == $m) |
		"\(if .ip then "mac+ip" else "mac" end) \(.next_hop) seq=\(.mac_mobility.sequence // 0)"' | sort
}
moved() { [ "$(mac_paths)" = "$(printf 'mac 198.19.0.3 seq=1\nmac+ip 198.19.0.3 seq=1')" ]; }
moved_mac() { mac_paths | grep -qx 'mac 198.19.0.3 seq=1' && ! mac_paths | grep -q '198.19.0.2'; }
fdb_points_n3() { # n: the MAC's vxlan0 row points at 198.19.0.3
	bridge -n lab-$1 fdb show dev vxlan0 | strip | grep -qx "$M2 dst 198.19.0.3 src_vni 10 self extern_learn" &&
		bridge -n lab-$1 fdb show dev vxlan0 | strip | grep -qx "$M2 vlan 10 extern_learn master br0"
}
n3_local() { bridge -n lab-n3 fdb show br br0 | grep -q "^$M2 dev h2m vlan 10 master br0"; }
n3_no_remote_row() { ! bridge -n lab-n3 fdb show dev vxlan0 | grep -q "^$M2 "; }
all_point_n3() { fdb_points_n3 n1 && fdb_points_n3 n2 && n3_local; }
before=$(mac_paths | paste -sd, -)
t=$(now)
# A migration: the guest falls silent on n2 (no address, so it answers
# nothing; the link stays up, so n2's bridge entry and route stay until they
# age out) and starts on n3. A host still answering on n2 would be a real
# duplicate MAC: the routes would flap between the VTEPs until evpnd's
# duplicate-MAC detection (5 moves in 180 s) stops advertising it.
ip -n lab-h2a addr flush dev eth0
host_attach lab-n3 br0 lab-h2m 198.18.10.2/24 "$M2" 10
nsx lab-h2m ping -c 1 -W 3 198.18.10.103 >>"$PT_OUT/checks.log" 2>&1 # traffic: n3's bridge learns the MAC on h2m
wait_until 20 moved_mac
t_mac=$(since "$t")
ip -n lab-n2 link del h2a
ip netns del lab-h2a
# n2's MAC+IP route is gone, and with it n3's suppression neighbour: new traffic
# makes n3's SVI resolve 198.18.10.2 again, giving the MAC+IP route
nsx lab-h2m ping -c 1 -W 3 198.18.10.103 >>"$PT_OUT/checks.log" 2>&1
wait_until 20 moved
wait_until 20 all_point_n3
nsx lab-h1a ping -c 2 -i 0.3 -W 3 198.18.10.2 >>"$PT_OUT/checks.log" 2>&1; rc_p=$?
after=$(mac_paths | paste -sd, -)
where() { bridge -n lab-$1 fdb show | grep "^$M2 " | strip | paste -sd';' -; }
if moved && all_point_n3 && [ $rc_p = 0 ]; then
	pass mac-move "RR paths for $M2: before [$before], after [$after] (MAC route seq 1 from n3 after ${t_mac}s, n2's withdrawn); n1 and n2 point it at 198.19.0.3, n3 has it on port h2m; h1a -> 198.18.10.2 pings ($(since "$t")s in all)"
else
	fail mac-move "RR paths for $M2: before [$before], after [$after] (want mac+mac+ip 198.19.0.3 seq=1 only); n1: $(where n1); n2: $(where n2); n3: $(where n3); h1a ping rc=$rc_p"
fi
# n3 had both rows for n2's route; the bridge itself moved the master row to h2m when
# h2m sent, so nothing of the old route may be left on vxlan0
if wait_until 5 n3_no_remote_row; then
	pass mac-move-n3-clean "n3's vxlan0 holds no row for $M2 any more (the old route's self row went with it)"
else
	fail mac-move-n3-clean "n3's vxlan0 still holds '$(bridge -n lab-n3 fdb show dev vxlan0 | grep "^$M2 " | strip | paste -sd';' -)' for the moved MAC; evpnd log: $(grep -c "refused an update.*$M2" "$PT_RUN/lab-n3/evpnd.log")x '$(grep -m1 -o "failure=delete fdb $M2[^;]*" "$PT_RUN/lab-n3/evpnd.log")'"
fi
for n in $VTEPS; do dump "$PT_OUT/$n-kernel-after-move.txt" bridge -n lab-$n fdb show; dump "$PT_OUT/$n-kernel-after-move.txt" ip -n lab-$n neigh show; done
ev_json rr routes >"$PT_OUT/rr-routes-final.json"

pt_log "MAC move done"
# ================================================================ 8b. drift repair
# Someone else deletes one of evpnd's flood rows on n1: evpnd puts it back and its
# metrics endpoint ([metrics] listen, in each namespace) counts the repair.
scrape() { # scrape N: the exposition text of lab-N's evpnd
	ip netns exec lab-$1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9100 && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3' | tr -d '\r'
}
metric() { scrape "$1" | awk -v m="$2" '$1 == m { print $2 }'; } # metric N NAME{LABELS}
FLOOD_ROW="00:00:00:00:00:00 dev vxlan0 dst 198.19.0.2 src_vni 10 self"
flood_back() { bridge -n lab-n1 fdb show dev vxlan0 | grep -q '^00:00:00:00:00:00 dst 198.19.0.2 src_vni 10 self'; }
repairs_are() { [ "$(metric n1 evpnd_drift_repairs_total)" = "$1" ]; }
t=$(now)
repairs=$(metric n1 evpnd_drift_repairs_total)
dups=$(metric n1 'evpnd_duplicate_macs{vni="10"}')
# shellcheck disable=SC2086 # FLOOD_ROW is the words of one fdb entry
bridge -n lab-n1 fdb del $FLOOD_ROW
if [[ $repairs =~ ^[0-9]+$ ]] && wait_until 10 flood_back && wait_until 5 repairs_are $((repairs + 1)) && [ "$dups" = 0 ]; then
	pass drift-repair "n1: flood row '$FLOOD_ROW' deleted by hand, back after $(since "$t")s; evpnd_drift_repairs_total $repairs -> $((repairs + 1)); evpnd_duplicate_macs{vni=\"10\"} $dups"
else
	fail drift-repair "n1: after 'bridge fdb del $FLOOD_ROW': row back: $(flood_back && echo yes || echo no); evpnd_drift_repairs_total '$repairs' -> '$(metric n1 evpnd_drift_repairs_total)'; evpnd_duplicate_macs{vni=\"10\"} '$dups' (want 0); metrics: $(scrape n1 | grep -c '^evpnd_') samples"
fi
# ================================================================ 9. RT-Constrain
# RFC 4684: each VTEP announced its import RTs as RT membership (section 4), the RR the
# default one; the RR sends a VTEP only the routes of its memberships (section 3). VNI 12
# comes to n1 and n2 by `evpnd reload` (their memberships change live; the old RR image
# sends n2 n1's type-3); then the RR is upgraded in place (ADR 0010) and hosts on VLAN
# 12 give new MAC routes, which the new image sends n2 and not n3. n3 does not import
# 65000:12 and must get none of its routes, with or without a kernel row to show.
members() { ev_json rr neighbors | jq -r '[.[] | "\(.address)=\(.rt_memberships // "none")"] | sort | join(" ")'; }
families() { ev_json rr neighbors | jq -r '[.[] | "\(.address):\(.families | join("+"))"] | sort | join(" ")'; }
want_members() { echo "198.19.0.1=$1 198.19.0.2=$2 198.19.0.3=$3"; }
members_are() { [ "$(members)" = "$(want_members "$@")" ]; }
if members_are 2 2 2; then
	pass rtc-memberships "RR show neighbors --json rt_memberships: $(members) (65000:10 and 65000:11 each); families $(families)"
else
	fail rtc-memberships "RR rt_memberships: $(members), want $(want_members 2 2 2); families $(families)"
fi
t=$(now)
for n in n1 n2; do
	EXTRA_VNIS[$n]=12
	write_conf $n
	ev $n reload >"$PT_OUT/rtc-reload-$n.out" 2>&1 &
	eval "RL_$n=$!"
done
rc=0
wait "$RL_n1" || rc=$?
wait "$RL_n2" || rc=$?
if [ $rc = 0 ] && grep -q "VNI 12 (VLAN 12) added" "$PT_OUT/rtc-reload-n1.out" && grep -q "VNI 12 (VLAN 12) added" "$PT_OUT/rtc-reload-n2.out" && wait_until 20 members_are 3 3 2; then
	pass rtc-reload "n1 and n2 reloaded with VNI 12 (VLAN 12, RT 65000:12), RR rt_memberships $(members) after $(since "$t")s; n1: $(head -3 "$PT_OUT/rtc-reload-n1.out" | tr '\n' ' ')"
else
	fail rtc-reload "exit $rc after $(since "$t")s: RR rt_memberships $(members), want $(want_members 3 3 2); n1: $(tr '\n' ' ' <"$PT_OUT/rtc-reload-n1.out") n2: $(tr '\n' ' ' <"$PT_OUT/rtc-reload-n2.out")"
fi
# routes of RT 65000:12 a speaker holds, "type next-hop mac" sorted
rt12() { ev_json $1 routes | jq -r '.[] | select(any(.route_targets[]; . == "65000:12")) | "\(.route_type) \(.next_hop // .originator_ip) \(.mac // "-")"' | sort; }
rows12() { bridge -n lab-$1 fdb show | grep -E " (src_vni|vlan) 12( |$)"; }

# The RR upgraded in place: the new image filters each VTEP at once by the membership
# the old one had; no End-of-RIB comes again, and none is waited for (section 6).
up_at() { ev_json rr neighbors | jq -r '[.[] | "\(.address)@\(.established_at_ms // "none")"] | sort | join(" ")'; }
handed() { grep -c "RT-Constrain state handed over by the previous process" "$PT_RUN/lab-rr/evpnd.log"; }
waited() { grep -c "no RT membership End-of-RIB in time" "$PT_RUN/lab-rr/evpnd.log"; }
# The upgrade's answer counts the sessions resumed by the time the new image first
# answers (in this VM some come a moment later): the check waits for all three.
resumed() { [ "$(up_at)" = "$before_up" ] && [ "$(handed)" = 3 ] && members_are 3 3 2; }
before_up=$(up_at)
t=$(now)
ev rr upgrade >"$PT_OUT/rtc-upgrade.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "handing 3 session(s) over" "$PT_OUT/rtc-upgrade.out" && wait_until 20 resumed && [ "$(waited)" = 0 ]; then
	pass rtc-upgrade "RR upgraded, all resumed in $(since "$t")s ($(head -2 "$PT_OUT/rtc-upgrade.out" | tr '\n' ' ')); RT-Constrain state handed over for $(handed) sessions, no membership wait, rt_memberships $(members), sessions unchanged ($before_up)"
else
	fail rtc-upgrade "exit $rc: $(tr '\n' ' ' <"$PT_OUT/rtc-upgrade.out"); handed over: $(handed)/3; membership waits run out: $(waited); rt_memberships $(members); sessions before: $before_up, now: $(up_at)"
fi

for i in 1 2; do
	ip netns add lab-h${i}c && PT_NS+=(lab-h${i}c)
	printf 'link set lo up\n' | ip -n lab-h${i}c -batch -
	printf 'link add h%sc type veth peer name eth0 netns lab-h%sc\nlink set h%sc master br0 up\n' $i $i $i | ip -n lab-n$i -batch -
	bridge -n lab-n$i vlan add dev h${i}c vid 12 pvid untagged
	printf 'link set eth0 address %s\naddr add %s/24 dev eth0\nlink set eth0 up\n' "$(host_mac 12 $i)" "$(host_ip 12 $i)" | ip -n lab-h${i}c -batch -
done
M1C=$(host_mac 12 1)
n2_has_12() {
	local r f
	r=$(rt12 n2) f=$(bridge -n lab-n2 fdb show dev vxlan0)
	grep -qx "3 198.19.0.1 -" <<<"$r" && grep -qx "2 198.19.0.1 $M1C" <<<"$r" &&
		grep -q "^00:00:00:00:00:00 dst 198.19.0.1 src_vni 12 self" <<<"$f" && grep -q "^$M1C dst 198.19.0.1 src_vni 12 self" <<<"$f"
}
t=$(now)
if wait_until 30 nsx lab-h1c ping -c 1 -W 1 "$(host_ip 12 2)" && wait_until 20 n2_has_12; then
	pass rtc-vni12-n2 "h1c pings h2c in VNI 12; n2 holds n1's VNI 12 routes (its type-3, and h1c's MAC, announced after the upgrade; $(rt12 n2 | grep -c ' 198.19.0.1 ') of RT 65000:12: $(rt12 n2 | grep ' 198.19.0.1 ' | paste -sd, -)), its flood row and h1c's MAC row ($(since "$t")s)"
else
	fail rtc-vni12-n2 "after $(since "$t")s: n2's routes of RT 65000:12: $(rt12 n2 | paste -sd, -); n2's VNI 12 rows: $(rows12 n2 | strip | paste -sd';' -)"
fi
ev_json rr routes >"$PT_OUT/rr-routes-rtc.json"
ev_json n3 routes >"$PT_OUT/n3-routes-rtc.json"
sent_to() { ev_json rr neighbors | jq -r --arg a "$1" '.[] | select(.address == $a) | .prefixes_sent'; }
rr12=$(rt12 rr | wc -l) n3_12=$(rt12 n3 | wc -l) n3_rows=$(rows12 n3 | wc -l)
if [ "$rr12" -ge 4 ] && [ "$n3_12" = 0 ] && [ "$n3_rows" = 0 ]; then
	pass rtc-vni12-n3-none "the RR holds $rr12 routes of RT 65000:12 (n1's and n2's type-3 and MACs), n3 none in show routes and no VNI/VLAN 12 row in its kernel fdb; RR prefixes_sent n2 $(sent_to 198.19.0.2), n3 $(sent_to 198.19.0.3)"
else
	fail rtc-vni12-n3-none "RR routes of RT 65000:12: $rr12 (want >= 4); n3's: $n3_12 ($(rt12 n3 | paste -sd, -)); n3's VNI/VLAN 12 fdb rows: $n3_rows ($(rows12 n3 | strip | paste -sd';' -)); RR prefixes_sent n2 $(sent_to 198.19.0.2), n3 $(sent_to 198.19.0.3)"
fi
pt_log "RT-Constrain done"
# ================================================================ 10. logs
for n in $ALL; do
	ev $n show neighbors >"$PT_OUT/$n-show-neighbors.txt" 2>&1
	ev $n show routes >"$PT_OUT/$n-show-routes.txt" 2>&1
	[ $n = rr ] || { ev $n show vnis >"$PT_OUT/$n-show-vnis.txt" 2>&1; ev $n show fdb >"$PT_OUT/$n-show-fdb.txt" 2>&1; }
done
bad="" warns=""
for n in $ALL; do
	L=$PT_RUN/lab-$n/evpnd.log
	pid_var=PID_$n
	kill -0 "${!pid_var}" 2>/dev/null || bad="$bad $n:not-running"
	c=$(grep -cE 'panicked|RUST_BACKTRACE| ERROR ' "$L"); [ "$c" != 0 ] && bad="$bad $n:${c}x(panic|ERROR)"
	w=$(grep -c ' WARN ' "$L"); [ "$w" != 0 ] && warns="$warns $n:${w}"
done
if [ -z "$bad" ]; then
	pass logs "no panic, no ERROR in the 4 evpnd logs, all running; WARN lines:${warns:- none}"
else
	fail logs "$bad; first: $(grep -hE 'panicked|RUST_BACKTRACE| ERROR ' "$PT_RUN"/lab-*/evpnd.log | head -2)"
fi
pt_finish
