#!/usr/bin/env bash
# s2-frr-rr - FRR 8.4 as route reflector for two evpnd VTEPs and one FRR VTEP, and
# route targets: VNI 10 on the auto RT (AS:VNI) both sides derive, VNI 11 on an
# explicit RT configured on both sides, VNI 12 mismatched (runs inside scripts/vm
# via interop-vm.sh).
#
#   rr 198.19.0.4 FRR RR (cluster id = router id), n1..n3 passive clients
#   n1 198.19.0.1 evpnd   n2 198.19.0.2 evpnd   n3 198.19.0.3 FRR
#   VNI 10: auto RT 65000:10; VNI 11: import/export 65000:1111 on all three;
#   VNI 12 (no hosts): n3 exports and imports 65000:1212, n1/n2 use the auto RT 65000:12
# Checks: lib.sh ix_standard_checks (VNI 12: only n1 <-> n2 flood to each other),
# rt-auto / rt-explicit (every speaker's routes carry the RTs configured),
# rt-mismatch-warning (n1/n2 name n3's VNI-12 route and its RT in show vnis),
# rd (each side's auto RDs); then, each while the VNI-10 hosts of every VTEP pair ping
# each other 20 times a second (lib.sh ix_check_restart):
#   upgrade-n1   n1's installed binary replaced by a new file and `evpnd upgrade`: the
#                sessions are handed over to the new image (ADR 0010): 0 echoes lost,
#                no remote row changed; upgrade-n1-session: FRR's reflector never saw
#                n1's session go down, and n1 kept its PID
#   restart-n1   n1's evpnd restarted (SIGTERM, start): the loss is a figure, because
#                FRR 8.4 keeps no EVPN route of a restarting peer (RFC 4724 helper for
#                unicast and MPLS VPN only); restart-n1-no-notification: evpnd's part,
#                the session ended without a NOTIFICATION
# then logs.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ix_init s2-frr-rr ixb
# The evpnd nodes run an installed copy, which upgrade-n1 replaces
cp "$EVPND" "$PT_RUN/evpnd-installed" && EVPND_BUILT=$EVPND && EVPND=$PT_RUN/evpnd-installed
ix_node rr frr-rr 198.19.0.4 "n1 n2 n3"
ix_node n1 evpnd-vtep 198.19.0.1 "rr" "10 11 12"
ix_node n2 evpnd-vtep 198.19.0.2 "rr" "10 11 12"
ix_node n3 frr-vtep 198.19.0.3 "rr" "10 11 12"
IX_RT_EVPND[11]=65000:1111 IX_RT_FRR[11]=65000:1111
IX_RT_FRR[12]=65000:1212
# VNI 12: the RTs differ between evpnd and FRR VTEPs, so only same-kind VTEPs import
ix_imports() { [ "$3" != 12 ] || [ "${IX_KIND[$1]}" = "${IX_KIND[$2]}" ]; }
ix_build || pt_finish
ix_frr_debug_gr
ix_standard_checks

# ---------------------------------------------------------------- route targets, RDs
D=$PT_OUT/routes
rts_of() { # VNI: "rt=..." values of every speaker's routes for that VNI, counted
	cat "$D"/*.routes | grep -E " label=$1 " | grep -o ' rt=[^ ]*' | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=", "}'
}
nroutes() { cat "$D"/*.routes | grep -cE " label=$1 "; }
[ "$(rts_of 10)" = "rt=65000:10 x$(nroutes 10)" ] &&
	pass rt-auto "VNI 10: all $(nroutes 10) route lines of the 4 speakers carry RT 65000:10 (FRR's auto RT AS:VNI = evpnd's)" ||
	fail rt-auto "VNI 10 RTs: $(rts_of 10) (want rt=65000:10 only)"
[ "$(rts_of 11)" = "rt=65000:1111 x$(nroutes 11)" ] &&
	pass rt-explicit "VNI 11: all $(nroutes 11) route lines carry the explicit RT 65000:1111 set on both evpnd and FRR (and the VNI-11 pings passed above)" ||
	fail rt-explicit "VNI 11 RTs: $(rts_of 11) (want rt=65000:1111 only)"
mismatch_warned() { # NODE: show vnis names n3's VNI-12 route and its RT
	ev_json "$1" vnis | jq -e '.[] | select(.vni == 12) | .warnings | any(test("198\\.19\\.0\\.3") and test("65000:1212") and test("65000:12\\b"))' >/dev/null &&
		ev "$1" show vnis | grep -q 'warning: .*65000:1212'
}
for n in n1 n2; do
	if wait_until 10 mismatch_warned $n; then
		pass rt-mismatch-warning-$n "show vnis on $n, VNI 12: '$(ev_json $n vnis | jq -r '.[] | select(.vni == 12) | .warnings[0]')'; remote VTEPs of VNI 12: $(ev_json $n vnis | jq -c '.[] | select(.vni == 12) | .remote_vteps')"
	else
		fail rt-mismatch-warning-$n "show vnis on $n, VNI 12: $(ev_json $n vnis | jq -c '.[] | select(.vni == 12)')"
	fi
done
rds=""
for n in n1 n3; do for v in 10 11 12; do
	rd=$(grep -E "^T3 .* label=$v nh=${IX_IP[$n]//./\\.} " "$D/rr.routes" | grep -o 'rd=[^ ]*' | head -1)
	rds+="${IX_KIND[$n]%-*} $n VNI $v ${rd#rd=}, "
done; done
[[ $rds != *"VNI 10 ,"* ]] && pass rd "auto RDs (router-id:N, RFC 7432 7.9), from the type-3 routes: ${rds%, }" || fail rd "type-3 RDs missing: ${rds%, } (see $D/rr.routes)"

# ---------------------------------------------------------------- upgrade under traffic
L=$PT_RUN/ixb-rr/bgpd.log
down_before=$(grep -c 'neighbor 198.19.0.1.* Down' "$L")
ix_check_restart upgrade-n1 n1 0 ix_evpnd_upgrade n1 "$EVPND_BUILT"
down_after=$(grep -c 'neighbor 198.19.0.1.* Down' "$L")
if [ "$down_after" = "$down_before" ] && [ "$IX_UPGRADE_PID_KEPT" = yes ] && grep -q 'resumed in Established' "$PT_RUN/ixb-n1/evpnd.log"; then
	pass upgrade-n1-session "FRR's reflector logged no session down for n1 across the upgrade ($down_before before, $down_after after), n1 kept its PID and its new image resumed the session (log: 'resumed in Established')"
else
	fail upgrade-n1-session "FRR's reflector logged $down_before then $down_after session downs for n1; PID kept: $IX_UPGRADE_PID_KEPT; see $PT_RUN/ixb-n1/evpnd.log"
fi

# ---------------------------------------------------------------- restart under traffic
# FRR 8.4 keeps no EVPN route of a restarting peer (its graceful-restart loop covers
# SAFI unicast to MPLS VPN only, FOREACH_AFI_SAFI_NSF): the loss is a figure; what
# evpnd controls is checked: it closed without a NOTIFICATION, and came back whole
ix_check_restart restart-n1 n1 - ix_evpnd_restart n1
closed=$(grep -c 'neighbor 198.19.0.1.* Down Peer closed the session' "$L")
notified=$(grep -c 'NOTIFICATION: received from neighbor 198.19.0.1' "$L")
stale=${IX_STALE_LAST#rr:}
if [ "$closed" -ge 1 ] && [ "$notified" = 0 ]; then
	pass restart-n1-no-notification "FRR's reflector saw n1's session end without a NOTIFICATION ('Peer closed the session', $closed time(s)), the graceful-restart close RFC 4724 asks for; FRR then marked ${stale%% *} path(s) stale: FRR 8.4 does not keep EVPN routes for a restarting peer"
else
	fail restart-n1-no-notification "FRR's reflector log: $closed 'Peer closed the session', $notified NOTIFICATION(s) received from n1 (want >= 1 and 0)"
fi

ix_dump final
ix_check_logs
pt_finish
