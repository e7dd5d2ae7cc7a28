#!/usr/bin/env bash
# rtc-interop.sh - RT-Constrain (RFC 4684) between evpnd as route reflector and real peers.
#
#   vcri-rr  evpnd   198.19.0.4  reflector, families l2vpn-evpn + rtc
#   vcri-gs  gobgpd  198.19.0.1  source: type-3 routes with RT 65000:10 and 65000:20 (no rtc)
#   vcri-gr  gobgpd  198.19.0.2  rtc + l2vpn-evpn, one VRF importing 65000:10 (GoBGP's RTC
#                                route for it is its membership)
#   vcri-fr  FRR 8.4 198.19.0.3  l2vpn-evpn only: FRR has no RFC 4684
# Checks: every session up, rtc negotiated with GoBGP only; GoBGP-rtc holds exactly the
# RT 65000:10 route, FRR both (RFC 4684 section 3: a peer without the capability gets
# everything); evpnd shows one membership for gr; a second VRF on gr (65000:20) brings the
# other route. About 35 s.
set -uo pipefail
source "$(dirname "$0")/lib/harness.sh"
pt_init rtc-interop vcri
EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND (cargo build --bins, or set EVPND_BIN)"; pt_finish; }
RR=198.19.0.4 GS=198.19.0.1 GR=198.19.0.2 FR=198.19.0.3
SOCK=$PT_RUN/evpnd.sock
CONF=$PT_RUN/evpnd.toml

underlay_create
for n in rr gs gr fr; do ns_add vcri-$n; done
underlay_attach vcri-rr $RR/24
underlay_attach vcri-gs $GS/24
underlay_attach vcri-gr $GR/24
underlay_attach vcri-fr $FR/24

{
	printf '[bgp]\nasn = 65000\nrouter_id = "%s"\nlisten = ["%s"]\nhold_time = 9\nkeepalive = 3\n' $RR $RR
	printf 'connect_retry = 2\nfamilies = ["l2vpn-evpn", "rtc"]\n'
	# GoBGP sends no End-of-RIB without graceful restart: no deferral waiting for it
	printf '\n[bgp.graceful_restart]\nenabled = false\n'
	for p in $GS $GR $FR; do
		printf '\n[[neighbors]]\naddress = "%s"\nremote_as = 65000\nroute_reflector_client = true\npassive = true\n' $p
	done
	printf '\n[control]\nsocket = "%s"\n\n[log]\nlevel = "debug"\n' "$SOCK"
} >"$CONF"
mkdir -p "$PT_RUN/vcri-rr"
pt_bg ip netns exec vcri-rr env NO_COLOR=1 "$EVPND" run --config "$CONF" >"$PT_RUN/vcri-rr/evpnd.log" 2>&1
ev() { "$EVPND" --socket "$SOCK" "$@"; }
row() { ev show neighbors --json 2>/dev/null | jq -c --arg a "$1" '.[] | select(.address == $a)'; }
wait_until 10 ev show neighbors || { fail evpnd-start "control socket not answering: $(tail -3 "$PT_RUN/vcri-rr/evpnd.log")"; pt_finish; }

gobgp_client_conf $GS $RR l2vpn-evpn >"$PT_RUN/gs.toml"
gobgp_client_conf $GR $RR rtc l2vpn-evpn >"$PT_RUN/gr.toml"
gobgpd_start vcri-gs "$PT_RUN/gs.toml" || pt_finish
gobgpd_start vcri-gr "$PT_RUN/gr.toml" || pt_finish
cat >"$PT_RUN/fr.conf" <<EOF2
frr defaults datacenter
router bgp 65000
 bgp router-id $FR
 no bgp default ipv4-unicast
 neighbor $RR remote-as 65000
 neighbor $RR timers 3 9
 neighbor $RR timers connect 2
 address-family l2vpn evpn
  neighbor $RR activate
 exit-address-family
!
EOF2
frr_start vcri-fr "$PT_RUN/fr.conf" || pt_finish
# gr's membership before any route: one VRF importing 65000:10
gobgp_cli vcri-gr vrf add v10 rd $GR:10 rt import 65000:10 export 65000:10 >/dev/null || fail gobgp-cli "vrf add v10"

check_within gobgp-source-established 40 gobgp_established vcri-gs $RR
check_within gobgp-rtc-established 40 gobgp_established vcri-gr $RR
check_within frr-established 40 frr_established vcri-fr $RR
fams() { row "$1" | jq -r '.families | join(",")'; }
[ "$(fams $GR)" = "l2vpn-evpn,rtc" ] && [ "$(fams $FR)" = l2vpn-evpn ] &&
	pass rtc-negotiated "with GoBGP ($(fams $GR)), not with FRR 8.4 ($(fams $FR))" ||
	fail rtc-negotiated "GoBGP: $(fams $GR), FRR: $(fams $FR)"

for v in 10 20; do
	gobgp_cli vcri-gs global rib -a evpn add multicast $GS etag 0 rd $GS:$v rt 65000:$v encap vxlan \
		pmsi ingress-repl $v $GS nexthop $GS >/dev/null || fail gobgp-cli "add multicast $v"
done
gr_rds() { gobgp_cli vcri-gr global rib -a evpn -j 2>/dev/null | jq -r '[.[][] | select(.["source-id"] != null) | .nlri.value.rd | "\(.admin):\(.assigned)"] | sort | join(",")'; }
fr_rds() { frr_vtysh vcri-fr 'show bgp l2vpn evpn json' | jq -r '[keys[] | select(test("^[0-9]"))] | sort | join(",")'; }
check_within frr-gets-everything 20 eval '[ "$(fr_rds)" = "$GS:10,$GS:20" ]'
check_within gobgp-rtc-gets-its-rt-only 20 eval '[ "$(gr_rds)" = "$GS:10" ]'
sleep 2
[ "$(gr_rds)" = "$GS:10" ] && pass gobgp-rtc-nothing-else "still only $GS:10" || fail gobgp-rtc-nothing-else "gr holds '$(gr_rds)'"
m=$(row $GR | jq -r .rt_memberships)
[ "$m" = 1 ] && [ "$(row $FR | jq -r .rt_memberships)" = null ] &&
	pass show-memberships "evpnd shows 1 RT membership for GoBGP, none for FRR" || fail show-memberships "GoBGP: $m"

# a membership added: a second VRF brings the RT 65000:20 route. (Not a VRF deleted: GoBGP
# 3.10 crashes, a nil pointer in table.deleteRTCPathsByVrf, deleting a VRF while it holds
# evpnd's default RT membership route; tests/rtc_session.rs withdraws a membership instead.)
gobgp_cli vcri-gr vrf add v20 rd $GR:20 rt import 65000:20 export 65000:20 >/dev/null || fail gobgp-cli "vrf add v20"
check_within membership-added 15 eval '[ "$(gr_rds)" = "$GS:10,$GS:20" ]'
[ "$(row $GR | jq -r .rt_memberships)" = 2 ] && pass show-memberships-2 || fail show-memberships-2 "$(row $GR | jq -r .rt_memberships)"
[ "$(fr_rds)" = "$GS:10,$GS:20" ] && pass frr-unchanged || fail frr-unchanged "FRR holds '$(fr_rds)'"
ev show neighbors >"$PT_OUT/show-neighbors.txt" 2>&1
grep -q 'panicked' "$PT_RUN/vcri-rr/evpnd.log" && fail no-panic || pass no-panic
pt_finish
