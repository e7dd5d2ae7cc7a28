#!/usr/bin/env bash
# s5-graceful-restart - restarts under traffic with an evpnd route reflector (RFC 4724;
# runs inside scripts/vm via interop-vm.sh).
#
#   rr 198.19.0.4 evpnd RR   n1 198.19.0.1 evpnd   n2 198.19.0.2 evpnd
#   n3 198.19.0.3 FRR 8.4 with "bgp graceful-restart" (a restarting speaker too)
# Checks: sessions, routes; graceful-restart-negotiated (the reflector's view of every
# client's capability); then, each while the VNI-10 hosts of every VTEP pair ping each
# other 20 times a second (lib.sh ix_check_restart):
#   restart-n1       evpnd VTEP n1 restarted (SIGTERM, start): 0 echoes lost, the
#                    reflector kept n1's routes as stale meanwhile, no remote row changed
#   restart-rr       the evpnd reflector restarted: 0 lost between the evpnd VTEPs (FRR
#                    8.4 keeps no EVPN route of a restarting peer: its pairs are a figure)
#   upgrade-n2       n2 stopped and a new binary started in its place: 0 lost
#   upgrade-rr       `evpnd upgrade` on the reflector (sessions handed over to the new
#                    image, ADR 0010): 0 lost on every pair, the FRR VTEP's included
#   restart-n3-frr   the FRR VTEP restarted (zebra and bgpd): the figure
# then logs.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ix_init s5-graceful-restart ixe
ix_node rr evpnd-rr 198.19.0.4 "n1 n2 n3"
ix_node n1 evpnd-vtep 198.19.0.1 "rr"
ix_node n2 evpnd-vtep 198.19.0.2 "rr"
ix_node n3 frr-vtep 198.19.0.3 "rr"
IX_FRR_BGP[n3]=$' bgp graceful-restart\n bgp graceful-restart preserve-fw-state'
ix_build || pt_finish
ix_frr_debug_gr
ix_check_sessions 90 || pt_finish
ix_learn
ix_check_routes routes

caps=$(ev_json rr neighbors | jq -r '.[] | "\(.description): \(.graceful_restart)"' | paste -sd';' -)
if [ "$(ev_json rr neighbors | jq '[.[] | select(.graceful_restart // "" | test("l2vpn-evpn forwarding preserved"))] | length')" = 3 ]; then
	pass graceful-restart-negotiated "the reflector's view of each client's Graceful Restart capability: $caps"
else
	fail graceful-restart-negotiated "want l2vpn-evpn with the forwarding bit from all 3 clients: $caps"
fi

ix_check_restart restart-n1 n1 0 ix_evpnd_restart n1
# FRR 8.4 keeps no EVPN route of a restarting peer: its graceful-restart loop covers
# SAFI unicast to MPLS VPN only (FOREACH_AFI_SAFI_NSF), so the pairs with the FRR
# VTEP are a figure; between evpnd VTEPs nothing may be lost
IX_FIGURE_ONLY=n3
ix_check_restart restart-rr rr 0 ix_evpnd_restart rr
# an upgrade: another executable file started in place (the same build here: the
# VM cannot compile; what matters is that a new process takes over the kernel state)
cp "$EVPND" "$PT_RUN/evpnd-upgraded"
ix_check_restart upgrade-n2 n2 0 ix_evpnd_restart n2 "$PT_RUN/evpnd-upgraded"
# the reflector's sessions never end: even FRR, which keeps no EVPN route of a
# restarting peer, loses nothing
ix_check_restart upgrade-rr rr 0 ix_evpnd_upgrade rr
restart_frr_n3() {
	local t; t=$(now)
	frr_stop ixe-n3
	ix_frr_conf n3 >"$PT_RUN/ixe-n3.conf"
	frr_start ixe-n3 "$PT_RUN/ixe-n3.conf"
	wait_until 60 ix_sessions_up && IX_RESTART_SECS=$(since "$t")
	# zebra starts with no SVI address: put them back (ix_build did it the first time)
	ip -n ixe-n3 addr replace 198.18.10.103/24 dev vlan10
	ip -n ixe-n3 addr replace 198.18.11.103/24 dev vlan11
	ix_learn
}
ix_check_restart restart-n3-frr n3 - restart_frr_n3

ix_dump final
ix_check_logs
pt_finish
