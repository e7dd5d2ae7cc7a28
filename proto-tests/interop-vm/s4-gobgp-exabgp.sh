#!/usr/bin/env bash
# s4-gobgp-exabgp - evpnd as route reflector for an FRR 8.4 VTEP, an evpnd VTEP, GoBGP
# (a client injecting type-2/3 routes from its CLI) and ExaBGP (routes with unusual but
# valid attributes: MAC mobility, sticky MAC, default gateway; route types 1, 4 and 5
# that evpnd must reflect unchanged). Runs inside scripts/vm via interop-vm.sh.
#
#   ixd-ul: underlay switch 198.19.0.0/24
#   rr 198.19.0.4 evpnd RR (cluster id = router id), everyone else its passive client
#   n1 198.19.0.1 FRR VTEP    n2 198.19.0.2 evpnd VTEP    (VNIs 10, 11, hosts: lib.sh)
#   gb 198.19.0.6 gobgpd      ex 198.19.0.7 ExaBGP (proto-tests/lib/exabgp-evpn.py)
# GoBGP: type-3 (PMSI ingress replication, label 10) and a MAC+IP, VNI 10.
# ExaBGP: type-3 for VNI 10; MAC+IP with MAC mobility sequence 5; sticky MAC; MAC+IP
# with the default-gateway community; type-1 (per ES and per EVI), type-4, type-5.
# Checks: sessions (ExaBGP's from the reflector's side); lib.sh's standard checks with
# the injected type-2/3 routes expected everywhere and in n1's flood lists; kernel
# rows for the GoBGP/ExaBGP routes on the evpnd VTEP vs zebra's (printed); types 1/4/5
# held by every speaker (evpn-routes.py lines); on the wire (capture on rr's eth0, `evpnd decode`,
# s4/reflect-check.py) each GoBGP/ExaBGP route reflected to every other client with
# NLRI and attributes unchanged except ORIGINATOR_ID/CLUSTER_LIST; logs.
# Artifacts (besides lib.sh's): rr-bgp.pcap + rr-bgp.jsonl, reflect-check.txt,
# special-kernel.txt (rows towards .6/.7 on both VTEPs), routes-145/, gobgp-commands.txt,
# exabgp-commands.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
S4_DIR=$(cd "$(dirname "$0")/s4" && pwd)
ix_init s4-gobgp-exabgp ixd
RR=198.19.0.4 GB=198.19.0.6 EX=198.19.0.7
ix_node rr evpnd-rr $RR "n1 n2 gb ex"
ix_node n1 frr-vtep 198.19.0.1 "rr"
ix_node n2 evpnd-vtep 198.19.0.2 "rr"
ix_node gb gobgp $GB "rr"
ix_node ex exabgp $EX "rr"

# ---------------------------------------------------------------- the injected routes
# ix_project form (lib.sh): what every speaker must hold besides the VTEPs' own routes
GB_MAC=02:0a:00:00:06:01 GB_IP=198.18.10.61
EX_MM_MAC=02:0a:00:00:07:01 EX_MM_IP=198.18.10.71   # MAC mobility sequence 5
EX_STICKY_MAC=02:0a:00:00:07:02                     # sticky (static) MAC, no IP
EX_GW_MAC=02:0a:00:00:07:fe EX_GW_IP=198.18.10.254  # default gateway
IX_EXTRA_ROUTES="T3 orig=$GB label=10 nh=$GB
T2 mac=$GB_MAC ip=$GB_IP label=10 nh=$GB
T3 orig=$EX label=10 nh=$EX
T2 mac=$EX_MM_MAC ip=$EX_MM_IP label=10 nh=$EX
T2 mac=$EX_STICKY_MAC ip=- label=10 nh=$EX
T2 mac=$EX_GW_MAC ip=$EX_GW_IP label=10 nh=$EX"
# types 1/4/5 as evpn-routes.py prints them: the fields each line must show (the line
# format is the normalizer's; what every speaker prints must be identical)
S4_WANT_145=(
	"^T1 rd=$EX:10 etag=0 esi=00:11:22:33:44:55:66:77:88:99 nh=$EX rt=65000:10$"
	"^T1 rd=$EX:10 etag=4294967295 esi=00:11:22:33:44:55:66:77:88:99 nh=$EX rt=65000:10$"
	"^T4 rd=$EX:1 esi=00:11:22:33:44:55:66:77:88:99 orig=$EX nh=$EX "
	"^T5 rd=$EX:100 etag=0 .*prefix=198.18.21.0/24 gw=GW label=100 nh=$EX rt=65000:100$"
)
# FRR 8.4's JSON shows no type-5 gateway IP (evpn-routes.py prints "?"); the wire check
# shows FRR received it unchanged. Every other speaker must show it.
s4_want() { # NODE PATTERN
	if [[ ${IX_KIND[$1]} == frr-* ]]; then echo "${2/gw=GW/gw=[?]}"; else echo "${2/gw=GW/gw=198.18.21.1}"; fi
}
s4_cmp_form() { sed -E 's/^(T5 .*) gw=[^ ]+/\1 gw=*/' "$1"; }

ix_build || pt_finish

# every BGP message on the reflector's link from before GoBGP/ExaBGP connect
pcap_start "$(ix_ns rr)" eth0 "$PT_OUT/rr-bgp.pcap" 'tcp port 179' || pt_finish
S4_PCAP_PID=$PT_LAST_PID

# ---------------------------------------------------------------- GoBGP (client of rr)
GB_NS=$(ix_ns gb) EX_NS=$(ix_ns ex)
gobgp_client_conf $GB $RR >"$PT_RUN/gobgpd.toml"
gobgpd_start "$GB_NS" "$PT_RUN/gobgpd.toml" || pt_finish

# ---------------------------------------------------------------- ExaBGP (client of rr)
exabgp_evpn_start "$EX_NS" $EX $RR || pt_finish
exa() { exabgp_cmd "$EX_NS" "$@"; }

# ExaBGP's session, seen from the reflector (lib.sh's session check trusts exabgp)
rr_state() { ev_json rr neighbors | jq -r --arg a "$1" '.[] | select(.address == $a) | .state'; }
rr_has_clients() { [ "$(rr_state $GB)" = Established ] && [ "$(rr_state $EX)" = Established ]; }
t=$(now)
if wait_until 60 rr_has_clients; then
	pass sessions-gobgp-exabgp "rr: GoBGP $GB $(rr_state $GB), ExaBGP $EX $(rr_state $EX) ($(since "$t")s after start); GoBGP's side: state $(gobgp_cli "$GB_NS" neighbor $RR -j | jq -r '.state.session_state') (6 = Established)"
else
	fail sessions-gobgp-exabgp "rr: GoBGP $GB '$(rr_state $GB)', ExaBGP $EX '$(rr_state $EX)' after $(since "$t")s (see run/$EX_NS/exabgp.log)"
fi

# ---------------------------------------------------------------- inject
# GoBGP, from its CLI (RT 65000:10 = the VTEPs' auto RT of VNI 10, RFC 7432 7.10.1)
gadd() {
	echo "gobgp global rib -a evpn $*" >>"$PT_OUT/gobgp-commands.txt"
	gobgp_cli "$GB_NS" global rib -a evpn "$@" >>"$PT_OUT/gobgp-commands.txt" 2>&1 || fail gobgp-inject "gobgp global rib -a evpn $*"
}
gadd add multicast $GB etag 0 rd $GB:10 rt 65000:10 encap vxlan pmsi ingress-repl 10 $GB nexthop $GB
gadd add macadv $GB_MAC $GB_IP etag 0 label 10 rd $GB:10 rt 65000:10 encap vxlan nexthop $GB
# ExaBGP (exabgp-evpn.py syntax; the ext-communities as raw 8-octet values)
NH="next-hop $EX origin igp local-preference 100"
ENC=0x030c000000000008 # encapsulation VXLAN (RFC 9012 4.1, tunnel type 8)
ESI=00:11:22:33:44:55:66:77:88:99
# type-3 with PMSI ingress replication (RFC 6514 5: flags 0, type 6, label = VNI 10, endpoint .7)
exa "announce evpn multicast rd $EX:10 ip $EX -- $NH extended-community [ target:65000:10 $ENC ] attribute [ 0x16 0xc0 0x000600000ac6130007 ]"
# MAC mobility, sequence 5 (RFC 7432 7.7: type 0x06 sub 0x00, flags 0, reserved, sequence)
exa "announce evpn mac rd $EX:10 mac $EX_MM_MAC ip $EX_MM_IP label 10 -- $NH extended-community [ target:65000:10 $ENC 0x0600000000000005 ]"
# sticky (static) MAC: MAC mobility with the sticky flag, sequence 0 (RFC 7432 7.7, 15.2)
exa "announce evpn mac rd $EX:10 mac $EX_STICKY_MAC label 10 -- $NH extended-community [ target:65000:10 $ENC 0x0600010000000000 ]"
# default gateway (RFC 7432 7.8: opaque type 0x03 sub 0x0d)
exa "announce evpn mac rd $EX:10 mac $EX_GW_MAC ip $EX_GW_IP label 10 -- $NH extended-community [ target:65000:10 $ENC 0x030d000000000000 ]"
# type-1 Ethernet A-D per ES (MAX-ET, ESI label community 0x06 sub 0x01) and per EVI (RFC 7432 7.1, 8.2)
exa "announce evpn ethernet-ad rd $EX:10 esi $ESI etag 4294967295 label 0 -- $NH extended-community [ target:65000:10 0x0601000000000000 ]"
exa "announce evpn ethernet-ad rd $EX:10 esi $ESI etag 0 label 10 -- $NH extended-community [ target:65000:10 $ENC ]"
# type-4 Ethernet segment with the ES-Import RT (RFC 7432 7.4, 7.6: 0x06 sub 0x02)
exa "announce evpn ethernet-segment rd $EX:1 esi $ESI ip $EX -- $NH extended-community [ 0x0602112233445566 ]"
# type-5 IP prefix with a gateway IP and a router MAC (RFC 9136 3; RFC 9135 8.1: 0x06 sub 0x03)
exa "announce evpn ip-prefix rd $EX:100 prefix 198.18.21.0/24 gw 198.18.21.1 label 100 -- $NH extended-community [ target:65000:100 $ENC 0x060302b000000007 ]"
cp "$PT_RUN/$EX_NS/exabgp-commands" "$PT_OUT/exabgp-commands"
pt_log "GoBGP and ExaBGP routes injected"

# ---------------------------------------------------------------- local checks
# s4_rows NODE: NODE's kernel rows towards GoBGP/ExaBGP (kernel-view.py --raw)
s4_rows() { ix_kernel "$1" --raw | grep -E " dst=(${GB//./\\.}|${EX//./\\.}) "; }
s4_special_expected() { # the rows zebra is known to install (docs/lab.md), one per route
	echo "flood vni=10 dst=$GB" ; echo "flood vni=10 dst=$EX"
	local m
	for m in $GB_MAC:$GB $EX_MM_MAC:$EX $EX_STICKY_MAC:$EX $EX_GW_MAC:$EX; do
		echo "mac vni=10 mac=${m%:*} dst=${m##*:}"; echo "bridge vni=10 mac=${m%:*} dst=${m##*:}"
	done
	echo "neigh vni=10 ip=$GB_IP mac=$GB_MAC dst=$GB"
	echo "neigh vni=10 ip=$EX_MM_IP mac=$EX_MM_MAC dst=$EX"
}
s4_special_ok() { # NODE: every row of s4_special_expected present (any flags)
	local have; have=$(s4_rows "$1" | sed -E 's/ flags=.*//')
	[ -z "$(comm -23 <(s4_special_expected | sort) <(sort <<<"$have"))" ]
}
# s4_check_special_kernel: the rows for the GoBGP/ExaBGP routes on each VTEP, both
# printed in full (special-kernel.txt), plus each row's flags side by side where the
# evpnd VTEP differs from zebra's (sticky MAC, default gateway, MAC mobility)
s4_check_special_kernel() {
	local n f=$PT_OUT/special-kernel.txt miss="" e=n2 z=n1 diffs
	: >"$f"
	for n in $(ix_vteps); do
		wait_until 20 s4_special_ok "$n"
		{ echo "### $(ix_label "$n"): kernel-view.py --raw rows towards $GB/$EX"; s4_rows "$n"; echo
		  echo "### $(ix_label "$n"): bridge fdb / ip neigh for the GoBGP/ExaBGP MACs"
		  bridge -n "$(ix_ns "$n")" -d fdb show | grep -iE "$GB_MAC|$EX_MM_MAC|$EX_STICKY_MAC|$EX_GW_MAC|dst ($GB|$EX) "
		  ip -n "$(ix_ns "$n")" -d neigh show | grep -iE "$GB_MAC|$EX_MM_MAC|$EX_STICKY_MAC|$EX_GW_MAC"; echo; } >>"$f"
		# RFC 7432 15.2: the sticky MAC must not move: both zebra and evpnd mark it static + sticky
		s4_rows "$n" | grep -qE "^mac vni=10 mac=$EX_STICKY_MAC dst=${EX//./\\.} flags=[^ ]*sticky" || miss+=" $n: $EX_STICKY_MAC not sticky;"
		s4_special_ok "$n" || miss+=" $n: missing [$(comm -23 <(s4_special_expected | sort) <(s4_rows "$n" | sed -E 's/ flags=.*//' | sort) | paste -sd';' -)]"
	done
	# per object (kind vni mac/ip dst), zebra's flags vs evpnd's, device names aside
	# (evpnd stamps its neighbours with its own protocol, by design: set aside like lib.sh does)
	key_flags() { s4_rows "$1" | sed -E 's/ (dev|proto)=[^ ]+//g' | ix_kernel_as_zebra | sed -E 's/^(.*) flags=([^ ]*)(.*)$/\1\t\2\3/' | sort; }
	diffs=$(join -t $'\t' -a1 -a2 -e '(none)' -o 0,1.2,2.2 <(key_flags $z) <(key_flags $e) | awk -F'\t' '$2 != $3 {print $1 ": zebra " $2 " / evpnd " $3}' | paste -sd';' -)
	echo "### differences, zebra ($z) vs evpnd ($e), flood extern_learn and neighbour proto set aside: ${diffs:-none}" >>"$f"
	if [ -n "$miss" ]; then
		fail special-kernel "rows for the GoBGP/ExaBGP routes missing:$miss (see $f)"
	else
		pass special-kernel "flood, vxlan+bridge MAC rows and neighbours for GoBGP's and ExaBGP's type-2/3 routes (MAC mobility seq 5, sticky, default gateway) on $(ix_vteps | paste -sd' ' -), the sticky MAC static+sticky on each; zebra vs evpnd per row (flood extern_learn, neighbour proto aside): ${diffs:-no difference}"
	fi
}

# s4_check_routes_145: types 1/4/5 (ExaBGP's) held identically by every speaker, as far
# as evpn-routes.py's rd/nh/rt lines go, and counted per speaker's own JSON
s4_routes_145() {
	local n=$1 ns; ns=$(ix_ns "$1")
	case ${IX_KIND[$n]} in
	evpnd-*) ev_json "$n" routes | python3 "$IX_LIB/evpn-routes.py" evpnd --types 1,4,5 ;;
	# the speaker's own JSON kept beside the lines (FRR's type-5 gateway: see the report)
	frr-*) frr_vtysh "$ns" 'show bgp l2vpn evpn route detail json' | tee "$PT_OUT/routes-145/$n.json" | python3 "$IX_LIB/evpn-routes.py" frr --types 1,4,5 ;;
	gobgp) gobgp_cli "$ns" global rib -a evpn -j | tee "$PT_OUT/routes-145/$n.json" | python3 "$IX_LIB/evpn-routes.py" gobgp --types 1,4,5 ;;
	esac
}
s4_count_145() { # NODE: "t1=N t4=N t5=N" distinct NLRIs in the speaker's own JSON
	local n=$1 ns; ns=$(ix_ns "$1")
	case ${IX_KIND[$n]} in
	evpnd-*) ev_json "$n" routes | jq -r '[.[] | select(.route_type == 1 or .route_type == 4 or .route_type == 5)] | group_by(.route_type) | map("t\(.[0].route_type)=\(length)") | join(" ")' ;;
	frr-*) frr_vtysh "$ns" 'show bgp l2vpn evpn route detail json' | jq -r '[to_entries[] | select(.value | type == "object") | .value | keys[] | select(test("^\\[[145]\\]"))] | group_by(.[1:2]) | map("t\(.[0][1:2])=\(length)") | join(" ")' ;;
	gobgp) gobgp_cli "$ns" global rib -a evpn -j | jq -r '[.[][0].nlri.type | select(. == 1 or . == 4 or . == 5)] | group_by(.) | map("t\(.[0])=\(length)") | join(" ")' ;;
	esac
}
s4_145_settled() { # DIR: every speaker's type 1/4/5 lines, identical, the 4 wanted ones
	local d=$1 n first="" w
	mkdir -p "$d"
	for n in $(ix_speakers); do s4_routes_145 "$n" >"$d/$n.routes" 2>"$d/$n.err"; done
	for n in $(ix_speakers); do
		[ "$(wc -l <"$d/$n.routes")" = ${#S4_WANT_145[@]} ] || return 1
		for w in "${S4_WANT_145[@]}"; do grep -qE "$(s4_want "$n" "$w")" "$d/$n.routes" || return 1; done
		[ -z "$first" ] && first=$n && continue
		cmp -s <(s4_cmp_form "$d/$first.routes") <(s4_cmp_form "$d/$n.routes") || return 1
	done
}
s4_check_routes_145() {
	local d=$PT_OUT/routes-145 t n w counts="" bad="" first
	t=$(now)
	wait_until 30 s4_145_settled "$d"
	for n in $(ix_speakers); do counts+="$n $(s4_count_145 "$n"), "; done
	first=$(ix_speakers | head -1)
	if s4_145_settled "$d"; then
		pass routes-145 "ExaBGP's types 1/4/5 listed identically by $(ix_speakers | paste -sd' ' -) (FRR 8.4's JSON omits the type-5 gateway IP): $(paste -sd';' "$d/$first.routes"); NLRIs per speaker: ${counts%, } ($(since "$t")s)"
	else
		for n in $(ix_speakers); do
			local miss=""
			for w in "${S4_WANT_145[@]}"; do grep -qE "$(s4_want "$n" "$w")" "$d/$n.routes" || miss+="/$(s4_want "$n" "$w")/ "; done
			[ -n "$miss" ] && bad+=" [$n lacks: $miss]"
			[ "$n" != "$first" ] && ! cmp -s <(s4_cmp_form "$d/$first.routes") <(s4_cmp_form "$d/$n.routes") &&
				bad+=" [$n vs $first: $(diff <(s4_cmp_form "$d/$first.routes") <(s4_cmp_form "$d/$n.routes") | grep '^[<>]' | head -4 | paste -sd';' -)$(head -c 200 "$d/$n.err")]"
		done
		fail routes-145 "${bad:- line counts differ}; NLRIs per speaker: ${counts%, } (see $d)"
	fi
}

# s4_check_wire: every GoBGP/ExaBGP route reflected to each other client with NLRI and
# attributes byte for byte as sent, ORIGINATOR_ID/CLUSTER_LIST aside (s4/reflect-check.py)
s4_check_wire() {
	local out rc types
	pcap_stop "$S4_PCAP_PID"
	"$EVPND" decode --pcap "$PT_OUT/rr-bgp.pcap" --json >"$PT_OUT/rr-bgp.jsonl" 2>"$PT_OUT/rr-bgp-decode.err"
	rc=$?
	out=$(python3 "$S4_DIR/reflect-check.py" $RR $RR "$EX=198.19.0.1,198.19.0.2,$GB" "$GB=198.19.0.1,198.19.0.2,$EX" \
		<"$PT_OUT/rr-bgp.jsonl" 2>"$PT_OUT/reflect-check.err")
	local crc=$?
	echo "$out" >"$PT_OUT/reflect-check.txt"
	types=$(grep -c '^type [145]: [1-9]' <<<"$out")
	if [ $rc = 0 ] && [ $crc = 0 ] && [ "$types" = 3 ]; then
		pass reflect-wire "$(grep -v '^order:' <<<"$out" | paste -sd';' -)$(grep -q '^order:' <<<"$out" && echo "; attribute order: $(grep '^order:' <<<"$out" | head -2 | sed 's/^order: //' | paste -sd';' -)")"
	else
		fail reflect-wire "decode rc=$rc, check rc=$crc, types 1/4/5 seen: $types of 3; $(paste -sd';' <<<"$out"); $(head -c 700 "$PT_OUT/reflect-check.err" "$PT_OUT/rr-bgp-decode.err")"
	fi
}

# ---------------------------------------------------------------- checks
if ix_check_sessions 90; then
	ix_learn
	ix_check_routes routes
	ix_check_kernel kernel
	s4_check_special_kernel
	ix_check_arp_suppression $GB $EX
	ix_check_ping_matrix
	ix_check_isolation
	ix_check_broadcast $GB $EX
	s4_check_routes_145
fi
s4_check_wire
ix_dump final
gobgp_cli "$GB_NS" neighbor $RR adj-in -a evpn >"$PT_OUT/dump-final/gb-adj-in.txt" 2>&1
ix_check_logs
pt_finish
