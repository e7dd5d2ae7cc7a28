#!/usr/bin/env bash
# rr-interop.sh - evpnd as the route reflector for two FRR 8.4 VTEPs and a GoBGP client.
#
# Host kernel (the frr-pair.sh VTEP model: per VNI a plain bridge br<VNI> + vxlan<VNI>).
#
#   ri-h1a 198.18.10.1  (VNI 10) ri-h1b 198.18.10.11 (VNI 11)   ri-h2a 198.18.10.2 ri-h2b 198.18.10.12
#           \ br10 (SVI .101) / br11                                \ br10 (SVI .102) / br11
#   ri-v1 FRR 198.19.0.1 --+                                      +-- ri-v2 FRR 198.19.0.2
#                          +--- ri-ul: bridge ulsw ---------------+
#   ri-gb GoBGP 198.19.0.3 +      |                               +-- ri-x 198.19.0.9 (not a neighbor)
#                            ri-rr evpnd 198.19.0.4 (AS 65000, cluster-id = router-id, 3 passive
#                            RR clients, hold 9 s; tcpdump on its eth0)
#
# The VNI 11 hosts sit in the VNI 10 IP subnet on purpose: only the VNI keeps them apart.
# FRR peers with evpnd only (advertise-all-vni, keepalive 3 / hold 9); GoBGP injects one
# type-3 (PMSI ingress replication, label 10) and one type-2 (MAC+IP, label 10), RT 65000:10,
# encapsulation VXLAN. Checks (one PASS/FAIL line each, numbers in the detail):
#   1 sessions-*            3 sessions Established on evpnd, on both FRRs and on GoBGP
#   2 routes-*, kernel-*    each FRR holds exactly the other's and GoBGP's routes; zebra installed
#                           the HER flood entries and remote MACs (vxlan10/vxlan11)
#   3 reflect-attrs-*       ORIGINATOR_ID / CLUSTER_LIST right, next hop, RTs, encapsulation, PMSI,
#                           labels unchanged: FRR's detail JSON and the wire (evpnd decode --pcap +
#                           rr-interop/reflected.py)
#   4 gobgp-sees-frr-routes GoBGP's RIB = what the FRRs originated (RD/type/MAC/IP/label)
#   5 ping-*, isolated-*    VNI 10 and VNI 11 pings over VXLAN; nothing crosses between VNIs
#   6 evpnd-routes-*, evpnd-filter-*  show routes: JSON = everything originated, table, filters
#   8 stranger-*            an unconfigured address gets Cease/Connection Rejected, is logged,
#                           the sessions stay up
#   7 withdraw-*            v1's bgpd frozen: evpnd's hold timer fires, v1's routes leave evpnd,
#                           v2 (BGP + kernel) and GoBGP within hold + 3 s (seconds printed)
#   9 evpnd-log-clean       no panic, no ERROR, evpnd still running
# Artifacts: rr.pcap (until check 3) + rr-2.pcap, rr-decoded.jsonl, dump-*/ (everyone's view).
set -uo pipefail
source "$(dirname "$0")/lib/harness.sh"
pt_init rr-interop ri

EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
V1=198.19.0.1 V2=198.19.0.2 GB=198.19.0.3 RR=198.19.0.4 STRANGER=198.19.0.9
SOCK=$PT_RUN/evpnd.sock
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND (cargo build --bins, or set EVPND_BIN)"; pt_finish; }

t=$(now)
underlay_create
for n in rr v1 v2 gb x; do ns_add ri-$n; done
underlay_attach ri-rr $RR/24
underlay_attach ri-v1 $V1/24
underlay_attach ri-v2 $V2/24
underlay_attach ri-gb $GB/24
underlay_attach ri-x $STRANGER/24
pcap_start ri-rr eth0 "$PT_OUT/rr.pcap" 'tcp port 179' || pt_finish
PCAP_PID=$PT_LAST_PID

# ---------------------------------------------------------------- evpnd
cat >"$PT_RUN/evpnd.toml" <<EOF
[bgp]
asn = 65000
router_id = "$RR"
cluster_id = "$RR"
listen = ["$RR"]
hold_time = 9
keepalive = 3
connect_retry = 2
families = ["l2vpn-evpn"]
EOF
for p in $V1 $V2 $GB; do
	cat >>"$PT_RUN/evpnd.toml" <<EOF

[[neighbors]]
address = "$p"
remote_as = 65000
route_reflector_client = true
passive = true
hold_time = 9
EOF
done
cat >>"$PT_RUN/evpnd.toml" <<EOF

[control]
socket = "$SOCK"
mode = "0600"

[log]
level = "info"
format = "text"
EOF
mkdir -p "$PT_RUN/ri-rr"
pt_bg ip netns exec ri-rr env NO_COLOR=1 "$EVPND" run --config "$PT_RUN/evpnd.toml" >"$PT_RUN/ri-rr/evpnd.log" 2>&1
EVPND_PID=$PT_LAST_PID
ev() { "$EVPND" --socket "$SOCK" "$@"; }
wait_until 10 ev show neighbors || { fail evpnd-start "control socket not answering: $(tail -3 "$PT_RUN/ri-rr/evpnd.log")"; pt_finish; }

# ---------------------------------------------------------------- FRR VTEPs (peer with evpnd only)
frr_vtep_setup ri-v1 $V1 $RR 10 11 || pt_finish
frr_vtep_setup ri-v2 $V2 $RR 10 11 || pt_finish
# SVI address on VNI 10 only: zebra learns MAC+IP there; VNI 11 stays MAC-only
ip -n ri-v1 addr add 198.18.10.101/24 dev br10
ip -n ri-v2 addr add 198.18.10.102/24 dev br10
# VNI 10 hosts, and VNI 11 hosts numbered in the SAME IP subnet: only the VNI keeps them apart
host_attach ri-v1 br10 ri-h1a 198.18.10.1/24 02:0a:00:00:00:01
host_attach ri-v2 br10 ri-h2a 198.18.10.2/24 02:0a:00:00:00:02
host_attach ri-v1 br11 ri-h1b 198.18.10.11/24 02:0b:00:00:00:01
host_attach ri-v2 br11 ri-h2b 198.18.10.12/24 02:0b:00:00:00:02

# ---------------------------------------------------------------- GoBGP client
gobgp_client_conf $GB $RR >"$PT_RUN/gobgpd.toml"
gobgpd_start ri-gb "$PT_RUN/gobgpd.toml" || pt_finish
pt_log "topology, evpnd, FRR and GoBGP started in $(since "$t")s"

ev_json() { ev show "$@" --json 2>/dev/null; }
ev_state() { ev_json neighbors | jq -r --arg a "$1" '.[] | select(.address == $a) | .state'; }
ev_n_established() { ev_json neighbors | jq '[.[] | select(.state == "Established")] | length'; }
ev_all_established() { [ "$(ev_n_established)" = 3 ]; }
# dump STAGE [FRR_NS...]: everyone's view (FRR: the given namespaces, default both), for
# whoever debugs a failure
dump() {
	local d=$PT_OUT/dump-$1 n frrs
	shift
	frrs=${*:-ri-v1 ri-v2}
	mkdir -p "$d"
	ev show neighbors >"$d/evpnd-neighbors.txt" 2>&1
	ev show routes >"$d/evpnd-routes.txt" 2>&1
	ev_json routes >"$d/evpnd-routes.json"
	for n in ri-v1 ri-v2; do
		{ bridge -n $n fdb show dev vxlan10; bridge -n $n fdb show dev vxlan11; ip -n $n neigh show; } >"$d/$n-kernel.txt" 2>&1
		[[ " $frrs " == *" $n "* ]] || continue
		frr_vtysh $n 'show bgp l2vpn evpn summary' 'show bgp l2vpn evpn' 'show evpn vni' 'show evpn mac vni all' >"$d/$n-frr.txt"
		frr_vtysh $n 'show bgp l2vpn evpn route detail json' >"$d/$n-routes-detail.json"
	done
	gobgp_cli ri-gb global rib -a evpn >"$d/gobgp-rib.txt" 2>&1
	gobgp_cli ri-gb neighbor >>"$d/gobgp-rib.txt" 2>&1
}

# ================================================================ 1. sessions
t=$(now)
if wait_until 60 ev_all_established; then
	pass sessions-evpnd "3/3 neighbors Established $(since "$t")s after the clients started (hold time $(ev_json neighbors | jq -r '[.[].hold_time] | map(tostring) | join("/")') s)"
else
	fail sessions-evpnd "$(ev_n_established)/3 Established after $(since "$t")s: $(ev_json neighbors | jq -c '[.[] | {address, state, last_error}]')"
	dump sessions
	pt_finish
fi
frr_up() { # frr_up NS: Established to evpnd, with the l2vpn evpn family negotiated
	frr_vtysh "$1" "show bgp neighbors $RR json" |
		jq -e --arg p $RR '.[$p] | .bgpState == "Established" and (.addressFamilyInfo | has("l2VpnEvpn"))' >/dev/null
}
for n in v1 v2; do
	if wait_until 10 frr_up ri-$n; then
		pass sessions-frr-$n "FRR $n: $RR Established, l2vpn evpn, hold $(frr_vtysh ri-$n "show bgp neighbors $RR json" | jq -r --arg p $RR '.[$p].bgpTimerHoldTimeMsecs / 1000') s"
	else
		fail sessions-frr-$n "FRR $n: $(frr_vtysh ri-$n "show bgp neighbors $RR json" | jq -c --arg p $RR '.[$p] | {bgpState, lastResetDueTo}')"
	fi
done
if gobgp_wait_established ri-gb $RR 10; then
	pass sessions-gobgp "GoBGP: $RR state $(gobgp_cli ri-gb neighbor $RR -j | jq -r '.state.session_state') (6 = Established), families $(gobgp_cli ri-gb neighbor $RR -j | jq -c '[.afi_safis[]? | select(.state.enabled // .config.enabled) | .config.family | "\(.afi)/\(.safi)"]')"
else
	fail sessions-gobgp "GoBGP: $(gobgp_cli ri-gb neighbor $RR -j | jq -c '.state')"
fi

# ---------------------------------------------------------------- routes: GoBGP injects, hosts talk
GB_MAC=02:0a:00:00:00:03 GB_IP=198.18.10.3
gadd() {
	echo "gobgp global rib -a evpn $*" >>"$PT_OUT/gobgp-commands.txt"
	gobgp_cli ri-gb global rib -a evpn "$@" >>"$PT_OUT/gobgp-commands.txt" 2>&1 || fail gobgp-inject "gobgp global rib -a evpn $*"
}
gadd add multicast $GB etag 0 rd $GB:10 rt 65000:10 encap vxlan pmsi ingress-repl 10 $GB nexthop $GB
gadd add macadv $GB_MAC $GB_IP etag 0 label 10 rd $GB:10 rt 65000:10 encap vxlan nexthop $GB
# local learning: VNI 10 hosts ping their SVI (MAC + ARP entry -> MAC and MAC+IP routes);
# VNI 11 hosts just send an ARP (MAC-only routes; no SVI address on br11)
nsx ri-h1a ping -c1 -W2 198.18.10.101 >/dev/null
nsx ri-h2a ping -c1 -W2 198.18.10.102 >/dev/null
nsx ri-h1b ping -c1 -W0.3 198.18.10.12 >/dev/null
nsx ri-h2b ping -c1 -W0.3 198.18.10.11 >/dev/null

# FRR detail JSON -> one record per path: "rd prefix" key and the attributes we compare
FRR_RECS='def recs(local): to_entries[] | select(.value | type == "object") | .key as $rd | .value
	| to_entries[] | select(.value | type == "object" and has("paths")) | .key as $p | .value as $pfx
	| .value.paths[][] | select((.local == true) == local)
	| {key: "\($rd) \($p)", rd: $rd, type: $pfx.routeType, mac: ($pfx.mac // "-"), ip: ($pfx.ip // "-"),
	   label: (if $pfx.routeType == 3 then .pmsi.label else (.vni | tonumber?) end),
	   nh: .nexthops[0].ip, ecomm: ((.extendedCommunity.string // "") | split(" ") | sort),
	   pmsi: .pmsi.label, orig: .originatorId, cl: .clusterList.list};'
frr_recs() { frr_vtysh "$1" 'show bgp l2vpn evpn route detail json' | jq -c "$FRR_RECS [recs($2)] | sort_by(.key)"; }
# tuple "rd type mac ip label" - the comparison unit between FRR, GoBGP and evpnd
TUPLE='"\(.rd) \(.type) \(.mac) \(.ip) \(.label)"'
frr_local_n() { frr_recs "$1" true | jq length; }
# what GoBGP originated, as FRR renders it
GB_RECS=$(jq -nc --arg gb $GB --arg mac $GB_MAC --arg ip $GB_IP '[
	{key: "\($gb):10 [2]:[0]:[48]:[\($mac)]:[32]:[\($ip)]", rd: "\($gb):10", type: 2, mac: $mac, ip: $ip, label: 10,
	 nh: $gb, ecomm: ["ET:8", "RT:65000:10"], pmsi: null},
	{key: "\($gb):10 [3]:[0]:[32]:[\($gb)]", rd: "\($gb):10", type: 3, mac: "-", ip: $gb, label: 10,
	 nh: $gb, ecomm: ["ET:8", "RT:65000:10"], pmsi: 10}] | sort_by(.key)')

# each VTEP originates 2 type-3 (VNI 10, 11) + 3 type-2 (h?a MAC, h?a MAC+IP, h?b MAC)
both_local_5() { [ "$(frr_local_n ri-v1)" = 5 ] && [ "$(frr_local_n ri-v2)" = 5 ]; }
if ! wait_until 20 both_local_5; then
	fail vtep-local-routes "FRR VTEPs originate $(frr_local_n ri-v1) and $(frr_local_n ri-v2) routes, want 5 each (local learning failed)"
	dump local
fi

# ================================================================ 2. FRR VTEPs learn through evpnd
# received_keys NS: "rd prefix" of every path NS learned (not local)
received_keys() { frr_recs "$1" false | jq -c '[.[].key] | sort'; }
want_keys() { jq -nc --argjson a "$(frr_recs "$1" true)" --argjson b "$GB_RECS" '[$a[].key, $b[].key] | sort'; }
learned_all() { [ "$(received_keys "$1")" = "$(want_keys "$2")" ]; }
for pair in v1:v2 v2:v1; do
	me=ri-${pair%%:*} other=ri-${pair##*:}
	t=$(now)
	if wait_until 30 learned_all $me $other; then
		pass routes-${pair%%:*}-learned "${pair%%:*} holds $(received_keys $me | jq length) reflected routes = ${pair##*:}'s $(frr_recs $other true | jq -c '[.[] | select(.type == 3)] | length') type-3 + $(frr_recs $other true | jq -c '[.[] | select(.type == 2)] | length') type-2 + GoBGP's 1 type-3 + 1 type-2 (after $(since "$t")s)"
	else
		fail routes-${pair%%:*}-learned "${pair%%:*} received $(received_keys $me), want $(want_keys $other)"
	fi
done
# kernel_ok NS OTHER_VTEP OTHER_H_A_MAC OTHER_H_B_MAC: zebra installed the HER flood entries
# (type-3) and remote MACs (type-2) of the other VTEP and of GoBGP
kernel_missing() {
	local ns=$1 ov=$2 ma=$3 mb=$4 f10 f11
	f10=$(bridge -n "$ns" fdb show dev vxlan10) f11=$(bridge -n "$ns" fdb show dev vxlan11)
	grep -q "^00:00:00:00:00:00 dst $ov self permanent" <<<"$f10" || echo "vxlan10 flood $ov"
	grep -q "^00:00:00:00:00:00 dst $GB self permanent" <<<"$f10" || echo "vxlan10 flood $GB"
	grep -q "^00:00:00:00:00:00 dst $ov self permanent" <<<"$f11" || echo "vxlan11 flood $ov"
	grep -q "^$ma dst $ov self extern_learn" <<<"$f10" || echo "vxlan10 $ma dst $ov"
	grep -q "^$GB_MAC dst $GB self extern_learn" <<<"$f10" || echo "vxlan10 $GB_MAC dst $GB"
	grep -q "^$mb dst $ov self extern_learn" <<<"$f11" || echo "vxlan11 $mb dst $ov"
}
kernel_ok() { [ -z "$(kernel_missing "$@")" ]; }
for k in "v1 $V2 02:0a:00:00:00:02 02:0b:00:00:00:02" "v2 $V1 02:0a:00:00:00:01 02:0b:00:00:00:01"; do
	set -- $k
	t=$(now)
	if wait_until 20 kernel_ok ri-$1 $2 $3 $4; then
		pass kernel-$1 "$1 vxlan10: flood -> $2 + $GB, MACs $3 -> $2, $GB_MAC -> $GB; vxlan11: flood -> $2, MAC $4 -> $2 (6 entries, $(since "$t")s)"
	else
		fail kernel-$1 "$1 lacks: $(kernel_missing ri-$1 $2 $3 $4 | paste -sd, -)"
	fi
done

pt_log "checks 3: reflected attributes"
# ================================================================ 3. reflected attributes
# FRR's view: each reflected path against what its originator holds (FRR) or was told (GoBGP)
attr_mismatches() { # attr_mismatches NS OTHER_NS -> JSON list of problems
	jq -nc --argjson loc "$(frr_recs "$2" true)" --argjson gb "$GB_RECS" --argjson recv "$(frr_recs "$1" false)" --arg rr $RR '
		(($loc + $gb) | map({(.key): .}) | add) as $orig
		| [$recv[] | . as $r | $orig[.key] as $o
		   | if $o == null then "\($r.key): no originator copy" else
		     ([(if $r.orig != ($r.rd | split(":")[0]) or $r.orig != $o.nh then "ORIGINATOR_ID \($r.orig)" else empty end),
		       (if $r.cl != [$rr] then "CLUSTER_LIST \($r.cl)" else empty end),
		       (if $r.nh != $o.nh then "next hop \($r.nh) != \($o.nh)" else empty end),
		       (if $r.ecomm != $o.ecomm then "ext-comms \($r.ecomm) != \($o.ecomm)" else empty end),
		       (if $r.pmsi != $o.pmsi then "PMSI label \($r.pmsi) != \($o.pmsi)" else empty end),
		       (if $r.label != $o.label then "label \($r.label) != \($o.label)" else empty end)]
		      | select(length > 0) | "\($r.key): \(join(", "))") end]'
}
for pair in v1:v2 v2:v1; do
	me=${pair%%:*}
	mm=$(attr_mismatches ri-$me ri-${pair##*:})
	n=$(frr_recs ri-$me false | jq length)
	if [ "$mm" = "[]" ] && [ "$n" -gt 0 ]; then
		pass reflect-attrs-frr-$me "$n paths on $me: ORIGINATOR_ID = originator's router-id, CLUSTER_LIST = [$RR], next hop/RTs/ET:8/PMSI label/VNI as originated"
	else
		fail reflect-attrs-frr-$me "$n paths on $me, mismatches: $mm"
	fi
done
# the wire: every UPDATE evpnd sent against the client's UPDATE for the same route
pcap_stop "$PCAP_PID"
pcap_start ri-rr eth0 "$PT_OUT/rr-2.pcap" 'tcp port 179' || pt_finish
PCAP_PID=$PT_LAST_PID
"$EVPND" decode --pcap "$PT_OUT/rr.pcap" --json >"$PT_OUT/rr-decoded.jsonl" 2>"$PT_OUT/rr-decode.err"
rc=$?
if out=$(python3 "$REPO_ROOT/proto-tests/rr-interop/reflected.py" $RR $RR <"$PT_OUT/rr-decoded.jsonl" 2>"$PT_OUT/reflected.err") && [ $rc = 0 ]; then
	pass reflect-attrs-wire "$out"
else
	fail reflect-attrs-wire "decode rc=$rc; $out; $(head -c 600 "$PT_OUT/reflected.err" "$PT_OUT/rr-decode.err")"
fi

pt_log "checks 4: GoBGP view"
# ================================================================ 4. GoBGP sees the FRR VTEPs' routes
gobgp_learned() { # tuples of what GoBGP learned from evpnd
	gobgp_cli ri-gb global rib -a evpn -j | jq -c '[.[][] | select(."neighbor-ip" != null) | .nlri as $n
		| {rd: ($n.value.rd | "\(.admin):\(.assigned)"), type: $n.type, mac: ($n.value.mac // "-"),
		   ip: (if ($n.value.ip // "<nil>") == "<nil>" then "-" else $n.value.ip end),
		   label: (if $n.type == 3 then ([.attrs[] | select(.type == 22) | .label][0]) else $n.value.labels[0] end)}
		| '"$TUPLE"'] | sort'
}
frr_originated() { jq -nc --argjson a "$(frr_recs ri-v1 true)" --argjson b "$(frr_recs ri-v2 true)" '[($a + $b)[] | '"$TUPLE"'] | sort'; }
gobgp_has_all() { [ "$(gobgp_learned)" = "$(frr_originated)" ]; }
if wait_until 10 gobgp_has_all; then
	# and the RR attributes GoBGP saw: ORIGINATOR_ID (type 9) = the RD's router-id, CLUSTER_LIST (10) = [RR]
	bad=$(gobgp_cli ri-gb global rib -a evpn -j | jq -c --arg rr $RR '[.[][] | select(."neighbor-ip" != null)
		| select(([.attrs[] | select(.type == 9) | .value][0] != .nlri.value.rd.admin) or ([.attrs[] | select(.type == 10) | .value][0] != [$rr]))
		| .nlri.value]')
	n=$(gobgp_learned | jq length)
	if [ "$bad" = "[]" ]; then
		pass gobgp-sees-frr-routes "GoBGP learned $n routes = FRR's $n originated (same RD/type/MAC/IP/label), ORIGINATOR_ID/CLUSTER_LIST right"
	else
		fail gobgp-sees-frr-routes "wrong ORIGINATOR_ID/CLUSTER_LIST on: $bad"
	fi
else
	fail gobgp-sees-frr-routes "GoBGP learned $(gobgp_learned), FRR originated $(frr_originated)"
fi

pt_log "checks 5: data plane"
# ================================================================ 5. data plane
ping_n() { nsx "$1" ping -c "$3" -i 0.2 -W 1 "$2" 2>/dev/null | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
for p in "h1a 198.18.10.2 h2a" "h2a 198.18.10.1 h1a" "h1b 198.18.10.12 h2b"; do
	set -- $p
	got=$(ping_n ri-$1 $2 3)
	[ "${got:-0}" = 3 ] && pass ping-$1-$3 "$1 -> $3 ($2) over VXLAN: 3/3 replies" || fail ping-$1-$3 "$1 -> $3 ($2): ${got:-0}/3 replies"
done
# VNI isolation: h?b are in the same IP subnet but on VNI 11; nothing may cross
for p in "h2b 198.18.10.1 h1a" "h1a 198.18.10.12 h2b" "h1b 198.18.10.2 h2a"; do
	set -- $p
	got=$(ping_n ri-$1 $2 2)
	[ "${got:-0}" = 0 ] && pass isolated-$1-$3 "$1 (VNI $([ ${1:2} = b ] && echo 11 || echo 10)) -> $3 ($2): 0/2 replies" || fail isolated-$1-$3 "$1 -> $3 ($2) got ${got} replies across VNIs"
done

pt_log "checks 6: evpnd show routes"
# ================================================================ 6. evpnd's own view
EV_TUPLES='[.[] | {rd, type: .route_type, mac: (.mac // "-"), ip: (if .route_type == 3 then .originator_ip else (.ip // "-") end),
	label: (if .route_type == 3 then .pmsi.label else .labels[0] end)} | '"$TUPLE"'] | sort'
all_originated() { jq -nc --argjson a "$(frr_originated)" --argjson g "$GB_RECS" '$a + [$g[] | '"$TUPLE"'] | sort'; }
ev_json routes >"$PT_OUT/evpnd-routes.json"
want=$(all_originated)
got=$(jq -c "$EV_TUPLES" "$PT_OUT/evpnd-routes.json")
incomplete=$(jq -c '[.[] | select(.next_hop == null or (.route_targets | length) == 0 or .encapsulation != 8
	or (.route_type == 2 and (.labels | length) == 0) or (.route_type == 3 and .pmsi == null)) | {rd, mac, ip, originator_ip}]' "$PT_OUT/evpnd-routes.json")
if [ "$got" = "$want" ] && [ "$incomplete" = "[]" ]; then
	pass evpnd-routes-json "$(jq length <<<"$got") routes = v1 $(frr_local_n ri-v1) + v2 $(frr_local_n ri-v2) + GoBGP $(gobgp_cli ri-gb neighbor $RR adj-out -a evpn -j | jq length) advertised; each with next_hop, route_targets, encapsulation 8, labels/pmsi"
else
	fail evpnd-routes-json "got $got; want $want; incomplete rows: $incomplete"
fi
# the FRR-style table: "Route Distinguisher: RD" then "*>i<prefix>" lines
ev show routes >"$PT_OUT/evpnd-routes.txt" 2>&1
table_keys=$(awk '/^Route Distinguisher: / {rd = $3} /^[*> a-z]*\[[0-9]\]:/ {sub(/^[^[]*/, ""); print rd " " $1}' "$PT_OUT/evpnd-routes.txt" | sort | jq -Rsc 'split("\n") | map(select(length > 0))')
want_keys_all=$(jq -nc --argjson a "$(frr_recs ri-v1 true)" --argjson b "$(frr_recs ri-v2 true)" --argjson g "$GB_RECS" '[($a + $b + $g)[].key] | sort')
displayed=$(sed -n 's/^Displayed \([0-9]*\) prefixes.*/\1/p' "$PT_OUT/evpnd-routes.txt")
if [ "$table_keys" = "$want_keys_all" ] && [ "$displayed" = "$(jq length <<<"$want_keys_all")" ]; then
	pass evpnd-routes-table "table lists the $displayed prefixes under their RDs, as FRR writes them (e.g. $(jq -r '.[0]' <<<"$table_keys"))"
else
	fail evpnd-routes-table "table has $table_keys (Displayed ${displayed:-?}), want $want_keys_all"
fi
# filters: each must return exactly the matching subset of the full list
RD_V1_10=$(jq -r --arg v $V1 '.[] | select(.route_type == 3 and .originator_ip == $v and .pmsi.label == 10) | .rd' "$PT_OUT/evpnd-routes.json")
filter_check() { # filter_check NAME JQ_SELECT ARGS...
	local name=$1 sel=$2; shift 2
	local sub n_sub n_want n_other
	sub=$(ev_json routes "$@")
	n_sub=$(jq length <<<"$sub")
	n_want=$(jq "[.[] | $sel] | length" "$PT_OUT/evpnd-routes.json")
	n_other=$(jq "[.[] | select(($sel | not))] | length" <<<"$sub" 2>/dev/null)
	if [ -n "$n_sub" ] && [ "$n_sub" = "$n_want" ] && [ "$n_want" -gt 0 ] && [ "$n_other" = 0 ]; then
		pass "$name" "show routes $* -> $n_sub of $(jq length "$PT_OUT/evpnd-routes.json") rows, all matching"
	else
		fail "$name" "show routes $* -> ${n_sub:-error} rows ($n_other not matching), want $n_want"
	fi
}
filter_check evpnd-filter-type 'select(.route_type == 3)' --type 3
filter_check evpnd-filter-vni 'select((.labels | index(10)) or .pmsi.label == 10)' --vni 10
filter_check evpnd-filter-rd "select(.rd == \"$RD_V1_10\")" --rd "$RD_V1_10"

pt_log "checks 8: stranger"
# ================================================================ 8. a stranger is refused
up_before=$(ev_json neighbors | jq -c '[.[] | {address, uptime_secs}]')
stranger_out=$(nsx ri-x timeout 6 bash -c "exec 3<>/dev/tcp/$RR/179 || exit 7; timeout 4 od -An -v -tx1 <&3 | tr -d ' \n'; exit \${PIPESTATUS[0]}")
stranger_rc=$?
# accepted-and-closed must mean a NOTIFICATION (type 3) Cease (6) / Connection Rejected (5), RFC 4486 section 4
notif=${stranger_out:36:6}
if [ $stranger_rc = 7 ] || { [ $stranger_rc = 0 ] && [ "${stranger_out:0:32}" = ffffffffffffffffffffffffffffffff ] && [ "$notif" = 030605 ]; }; then
	how=$([ $stranger_rc = 7 ] && echo "TCP connect refused" || echo "NOTIFICATION Cease/Connection Rejected, then closed")
	if wait_until 3 grep -q "$STRANGER" "$PT_RUN/ri-rr/evpnd.log"; then
		pass stranger-refused "$STRANGER: $how; logged: $(grep "$STRANGER" "$PT_RUN/ri-rr/evpnd.log" | head -1 | cut -c29-)"
	else
		fail stranger-refused "$STRANGER: $how, but evpnd logged nothing about it"
	fi
else
	fail stranger-refused "$STRANGER: rc=$stranger_rc, received '${stranger_out:0:120}'"
fi
sleep 1
up_after=$(ev_json neighbors | jq -c --argjson b "$up_before" '[.[] | . as $n | select(.state != "Established" or .uptime_secs < ($b[] | select(.address == $n.address) | .uptime_secs)) | .address]')
[ "$up_after" = "[]" ] && pass stranger-sessions-kept "3/3 sessions still Established, uptimes not reset" || fail stranger-sessions-kept "sessions reset: $up_after"

pt_log "checks 7: hold timer + withdrawals"
# ================================================================ 7. VTEP v1 goes silent: hold timer, withdrawals
# SIGSTOP, not SIGKILL: a killed process's socket is closed by the kernel (FIN), which evpnd
# would see at once; a stopped bgpd keeps the TCP connection open but sends nothing, so
# only evpnd's hold timer (9 s) can notice. No NOTIFICATION is sent either way.
dump before-withdraw
HOLD=9 MARGIN=3
v2_has_v1() { frr_recs ri-v2 false | jq -e --arg v $V1 'any(.[]; .nh == $v)' >/dev/null; }
gb_has_v1() { gobgp_cli ri-gb global rib -a evpn -j | jq -e --arg v $V1 'any(.[][]; .nlri.value.rd.admin == $v)' >/dev/null; }
v2_kernel_has_v1() { local f; f=$(bridge -n ri-v2 fdb show dev vxlan10; bridge -n ri-v2 fdb show dev vxlan11); grep -q "dst $V1 " <<<"$f"; }
ev_has_v1() { ev_json routes | jq -e --arg v $V1 'any(.[]; .peer == $v)' >/dev/null; }
ev_v1_up() { [ "$(ev_state $V1)" = Established ]; }
declare -A gone=()
conds="ev_v1_up ev_has_v1 v2_has_v1 v2_kernel_has_v1 gb_has_v1"
v1_bgpd=$(cat /var/run/frr/ri-v1/bgpd.pid)
t=$(now)
kill -STOP "$v1_bgpd"
while :; do
	for c in $conds; do [ -z "${gone[$c]:-}" ] && ! $c && gone[$c]=$(since "$t"); done
	[ ${#gone[@]} = 5 ] && break
	awk -v e="$(since "$t")" 'BEGIN {exit !(e > 25)}' && break
	sleep 0.2
done
within() { [ -n "${gone[$1]:-}" ] && awk -v e="${gone[$1]}" -v l=$((HOLD + MARGIN)) 'BEGIN {exit !(e <= l)}'; }
report() { # report NAME COND WHAT
	if within "$2"; then pass "$1" "$3 ${gone[$2]}s after v1's bgpd stopped (polled, ~0.4 s resolution; limit hold $HOLD s + $MARGIN s)"
	else fail "$1" "$3 not within $((HOLD + MARGIN))s (${gone[$2]:-never, waited 25s})"; fi
}
nb=$(ev_json neighbors | jq -c --arg v $V1 '.[] | select(.address == $v) | {state, last_error}')
if within ev_v1_up && [ "$(jq -r '.last_error // empty' <<<"$nb")" != "" ]; then
	# evpnd's own timestamp of the session going down, relative to the SIGSTOP
	down_at=$(grep -m1 "session down peer=$V1 " "$PT_RUN/ri-rr/evpnd.log" | cut -d' ' -f1)
	down_s=$([ -n "$down_at" ] && awk -v a="$(date -d "$down_at" +%s.%N)" -v b="$t" 'BEGIN {printf "%.2f", a - b}')
	pass withdraw-evpnd-neighbor-down "v1 left Established ${gone[ev_v1_up]}s after it went silent (evpnd logged session down at +${down_s:-?}s; keepalive 3 s so expected 6-9 s): $nb"
else
	fail withdraw-evpnd-neighbor-down "v1 after ${gone[ev_v1_up]:-never}s: $nb"
fi
report withdraw-evpnd-rib ev_has_v1 "evpnd dropped v1's routes"
report withdraw-frr-v2 v2_has_v1 "v2's BGP table lost v1's routes"
report withdraw-kernel-v2 v2_kernel_has_v1 "v2's kernel lost the flood entries and remote MACs to $V1"
report withdraw-gobgp gb_has_v1 "GoBGP lost v1's routes"
others=$(ev_json neighbors | jq -c --arg v $V1 '[.[] | select(.address != $v and .state != "Established") | .address]')
left=$(frr_recs ri-v2 false | jq length)
[ "$others" = "[]" ] && [ "$left" = 2 ] && pass withdraw-others-kept "v2 and GoBGP stay Established; v2 keeps GoBGP's 2 routes" ||
	fail withdraw-others-kept "not Established: $others; v2 holds $left reflected routes, want 2 (GoBGP's)"
# explicit withdrawal (MP_UNREACH) through evpnd: GoBGP deletes both its routes
gadd del macadv $GB_MAC $GB_IP etag 0 label 10 rd $GB:10
gadd del multicast $GB etag 0 rd $GB:10
v2_clean_of_gb() {
	local f
	f=$(bridge -n ri-v2 fdb show dev vxlan10)
	[ "$(frr_recs ri-v2 false | jq length)" = 0 ] && ! grep -q "dst $GB " <<<"$f"
}
t=$(now)
if wait_until 5 v2_clean_of_gb; then
	pass withdraw-explicit-gobgp "GoBGP withdrew its type-2 + type-3: gone from v2's BGP table and kernel (flood + MAC to $GB) after $(since "$t")s; evpnd holds $(ev_json routes | jq length) routes (v2's 5)"
else
	fail withdraw-explicit-gobgp "v2 still holds $(frr_recs ri-v2 false | jq -c '[.[].key]') / kernel: $(bridge -n ri-v2 fdb show dev vxlan10 | grep "dst $GB " | paste -sd,)"
fi
dump after-withdraw ri-v2   # v1's bgpd is stopped: its vty would not answer
pcap_stop "$PCAP_PID"

pt_log "checks 9: evpnd log"
# ================================================================ 9. evpnd's log
kill -0 "$EVPND_PID" 2>/dev/null && alive=running || alive=DEAD
bad=$(grep -cE 'panicked|RUST_BACKTRACE| ERROR ' "$PT_RUN/ri-rr/evpnd.log")
if [ "$bad" = 0 ] && [ $alive = running ]; then
	pass evpnd-log-clean "evpnd $alive, $(wc -l <"$PT_RUN/ri-rr/evpnd.log") log lines, no panic, no ERROR ($(grep -c ' WARN ' "$PT_RUN/ri-rr/evpnd.log") WARN)"
else
	fail evpnd-log-clean "evpnd $alive, $bad panic/ERROR lines: $(grep -E 'panicked| ERROR ' "$PT_RUN/ri-rr/evpnd.log" | head -3)"
fi
pt_finish
