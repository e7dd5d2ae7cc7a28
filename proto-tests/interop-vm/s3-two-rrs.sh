#!/usr/bin/env bash
# s3-two-rrs - two route reflectors, one evpnd and one FRR 8.4, with one cluster id;
# every VTEP peers with both (runs inside scripts/vm via interop-vm.sh).
#
#   rre 198.19.0.4 evpnd RR   rrf 198.19.0.5 FRR RR   cluster id 198.19.0.45 on both;
#   the two reflectors are plain iBGP peers of each other, the VTEPs their clients
#   n1 198.19.0.1 FRR    n2 198.19.0.2 evpnd    n3 198.19.0.3 evpnd
# Checks: lib.sh ix_standard_checks; cluster-loop (RFC 4456 8: each reflector drops
# what the other reflects to it, as both carry the shared cluster id); two-paths (every
# VTEP holds each remote route from both reflectors); then each reflector in turn is
# stopped while hosts ping across every VTEP pair: failover-<rr>-pings (no echo lost),
# failover-<rr>-routes (every remaining speaker still holds every route),
# failover-<rr>-kernel (evpnd VTEPs: not one fdb/neighbour change; zebra's count
# printed); the stopped evpnd reflector is restarted and the routes re-checked first.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ix_init s3-two-rrs ixc
IX_CLUSTER=198.19.0.45
ix_node rre evpnd-rr 198.19.0.4 "n1 n2 n3 rrf"
ix_node rrf frr-rr 198.19.0.5 "n1 n2 n3 rre"
ix_node n1 frr-vtep 198.19.0.1 "rre rrf"
ix_node n2 evpnd-vtep 198.19.0.2 "rre rrf"
ix_node n3 evpnd-vtep 198.19.0.3 "rre rrf"
ix_build || pt_finish
ix_standard_checks

# ---------------------------------------------------------------- one cluster, two reflectors
RRE=198.19.0.4 RRF=198.19.0.5
ev_from_rrf=$(ev_json rre routes | jq --arg p $RRF '[.[] | select(.peer == $p)] | length')
frr_sent=$(frr_vtysh ixc-rrf "show bgp neighbors $RRE json" | jq --arg p $RRE '.[$p].addressFamilyInfo.l2VpnEvpn.sentPrefixCounter // 0')
frr_from_rre=$(frr_vtysh ixc-rrf 'show bgp l2vpn evpn route detail json' | jq --arg p $RRE '[.. | objects | select(has("peerId") and .peerId == $p)] | length')
ev_sent=$(ev_json rre neighbors | jq --arg p $RRF '.[] | select(.address == $p) | .prefixes_sent')
if [ "$ev_from_rrf" = 0 ] && [ "$frr_from_rre" = 0 ] && [ "${frr_sent:-0}" -gt 0 ] && [ "${ev_sent:-0}" -gt 0 ]; then
	pass cluster-loop "FRR reflected $frr_sent routes to evpnd and evpnd $ev_sent to FRR; each dropped all of them (its cluster id 198.19.0.45 in CLUSTER_LIST, RFC 4456 8): 0 paths via the other reflector on either"
else
	fail cluster-loop "paths held via the other reflector: evpnd $ev_from_rrf, FRR $frr_from_rre (want 0); sent to the other: FRR $frr_sent, evpnd $ev_sent (want > 0)"
fi
two_paths() { # every VTEP: each route of another VTEP from both reflectors
	local n want got
	want=$(( $(ix_expected_routes | wc -l) ))
	for n in n2 n3; do
		got=$(ev_json $n routes | jq --arg me "${IX_IP[$n]}" '[.[] | select(.peer != "local" and (.next_hop // .originator_ip) != $me)] | group_by(.rd + (.mac // "") + (.ip // "") + (.originator_ip // "")) | map(select((map(.peer) | sort) == ["198.19.0.4", "198.19.0.5"])) | length')
		echo "$n:$got"
	done
	got=$(frr_vtysh ixc-n1 'show bgp l2vpn evpn route detail json' | jq '[.[] | objects | .[] | objects | select(has("paths")) | [.paths[][] | select(.local != true) | .peer.peerId] | sort | select(. == ["198.19.0.4", "198.19.0.5"])] | length')
	echo "n1:$got"
}
tp=$(two_paths | paste -sd' ' -)
remote_n() { ix_expected_routes | grep -vc " nh=${IX_IP[$1]}$"; }
if [ "$tp" = "n2:$(remote_n n2) n3:$(remote_n n3) n1:$(remote_n n1)" ]; then
	pass two-paths "every VTEP holds each other VTEP's route twice, via 198.19.0.4 (evpnd) and 198.19.0.5 (FRR): $tp"
else
	fail two-paths "routes held from both reflectors: $tp (want n2:$(remote_n n2) n3:$(remote_n n3) n1:$(remote_n n1))"
fi

# ---------------------------------------------------------------- failover
# failover NODE STOP_CMD: pings run across every VTEP pair in both VNIs while NODE stops
failover() {
	local rr=$1 stop=$2 n pids=() names=() files=() k lost="" d=$PT_OUT/failover-$1 mons=() t
	mkdir -p "$d"
	for n in $(ix_vteps); do ix_kernel "$n" >"$d/$n.before"; done
	cp -r "$PT_OUT/routes" "$d/routes-before"
	for n in $(ix_vteps); do
		pt_bg ip netns exec "$(ix_ns "$n")" bridge monitor fdb >"$d/$n.monitor-fdb"; mons+=($PT_LAST_PID)
		pt_bg ip netns exec "$(ix_ns "$n")" ip monitor neigh >"$d/$n.monitor-neigh"; mons+=($PT_LAST_PID)
	done
	for v in 10 11; do for n in $(ix_vteps); do for o in $(ix_vteps); do
		[ "$n" = "$o" ] && continue
		files+=("$d/ping-$n-$o-$v.txt") names+=("$n->$o/vni$v")
		nsx "$(ix_host "$n" "$v")" ping -c 75 -i 0.2 -W 1 "$(host_ip "$v" "$(ix_index "$o")")" >"${files[-1]}" 2>&1 & pids+=($!)
	done; done; done
	sleep 3
	t=$(now)
	$stop
	IX_DOWN=$rr
	down_everywhere() { local n; for n in $(ix_vteps); do [ "$(ix_node_sessions "$n")" = 1/2 ] || return 1; done; }
	wait_until 20 down_everywhere || fail failover-$rr-down "sessions to $rr still up on a VTEP after 20 s"
	local t_down; t_down=$(since "$t")
	for k in "${!pids[@]}"; do wait "${pids[$k]}"; done
	for k in "${!names[@]}"; do
		grep -q ' 75 received' "${files[$k]}" || lost+=" ${names[$k]}:$(grep -o '[0-9]* received' "${files[$k]}")"
	done
	sleep 1
	for p in "${mons[@]}"; do kill "$p" 2>/dev/null; done
	if [ -z "$lost" ]; then
		pass failover-$rr-pings "$rr stopped 3 s into 15 s of pings (every 0.2 s, ${#names[@]} host pairs, both VNIs); all sessions to it down after ${t_down}s: 75/75 echoes answered on every pair"
	else
		fail failover-$rr-pings "lost:$lost"
	fi
	if ix_routes_settled "$d/routes-after"; then
		pass failover-$rr-routes "without $rr: $(ix_speakers | paste -sd' ' -) still hold all $(wc -l <"$d/routes-after/expected.projection") routes, identical lines"
	else
		fail failover-$rr-routes "without $rr: $(for n in $(ix_speakers); do echo -n "$n $(wc -l <"$d/routes-after/$n.routes") "; done)(want $(wc -l <"$d/routes-after/expected.projection") each; see $d)"
	fi
	local churn="" bad=""
	for n in $(ix_vteps); do
		ix_kernel "$n" >"$d/$n.after"
		local c; c=$(cat "$d/$n.monitor-fdb" "$d/$n.monitor-neigh" | grep -cE 'dst 198\.19|extern_learn|NOARP')
		churn+="$n ${IX_KIND[$n]%-*}: $c, "
		cmp -s "$d/$n.before" "$d/$n.after" || bad+=" $n: state changed ($(diff "$d/$n.before" "$d/$n.after" | grep '^[<>]' | head -2 | paste -sd';' -))"
		[ "${IX_KIND[$n]}" = evpnd-vtep ] && [ "$c" != 0 ] && bad+=" $n: $c remote-row changes ($(grep -hE 'dst 198\.19|extern_learn|NOARP' "$d/$n.monitor-fdb" "$d/$n.monitor-neigh" | head -2 | paste -sd';' -))"
	done
	if [ -z "$bad" ]; then
		pass failover-$rr-kernel "remote rows identical before and after on every VTEP; remote-row notifications during the failover: ${churn%, }"
	else
		fail failover-$rr-kernel "$bad"
	fi
}
stop_rre() { ix_evpnd_stop rre; }
stop_rrf() { frr_stop ixc-rrf; }
failover rre stop_rre
ix_evpnd_start rre
IX_DOWN=""
ix_check_sessions 60 sessions-rre-back && ix_check_routes routes-rre-back
failover rrf stop_rrf

ix_dump final
ix_check_logs
pt_finish
