#!/usr/bin/env bash
# frr-pair.sh - two FRR 8.4 VTEPs on the HOST kernel, iBGP l2vpn evpn between them.
#
# The template for evpnd-vs-FRR scenarios. Host kernel model (no VLAN filtering here):
# per VNI a plain bridge br<VNI> + vxlan<VNI> (id VNI, nolearning), VNIs 10 and 11.
#
#   vcfp-h1 eth0 198.18.10.1 (02:0a:00:00:00:01)      vcfp-h2 eth0 198.18.10.2 (02:0a:00:00:00:02)
#        |  (br10, SVI 198.18.10.101)                      |  (br10, SVI 198.18.10.102)
#   vcfp-v1 eth0 198.19.0.1 --- vcfp-ul: bridge ulsw --- vcfp-v2 eth0 198.19.0.2
#   FRR: AS 65000, neighbor = the other VTEP, advertise-all-vni
#
# Checks: session Established both ways; each learns the other's type-3 routes (VNI 10,
# 11); zebra installs the HER flood entry "00:00:00:00:00:00 dst <peer> self permanent";
# h1 <-> h2 ping over VXLAN; type-2 MAC and MAC+IP routes and the remote MAC fdb entry.
# FRR_VTEP_MODEL=vlan-aware (inside scripts/vm only) runs the same on one VLAN-aware br0
# (docs/lab.md): scripts/vm --rwdir target/proto-tests -- env FRR_VTEP_MODEL=vlan-aware proto-tests/frr-pair.sh
set -uo pipefail
source "$(dirname "$0")/lib/harness.sh"
pt_init frr-pair vcfp

V1=198.19.0.1 V2=198.19.0.2
t=$(now)
underlay_create
ns_add vcfp-v1
ns_add vcfp-v2
underlay_attach vcfp-v1 $V1/24
underlay_attach vcfp-v2 $V2/24
frr_vtep_setup vcfp-v1 $V1 $V2 10 11 || pt_finish
frr_vtep_setup vcfp-v2 $V2 $V1 10 11 || pt_finish
# SVIs (the per-VNI bridge itself, or vlan10 when vlan-aware) with an address: zebra learns local MAC+IP from them
ip -n vcfp-v1 addr add 198.18.10.101/24 dev "$(vtep_svi 10)"
ip -n vcfp-v2 addr add 198.18.10.102/24 dev "$(vtep_svi 10)"
host_attach vcfp-v1 "$(vtep_bridge 10)" vcfp-h1 198.18.10.1/24 02:0a:00:00:00:01 "$(vtep_vid 10)"
host_attach vcfp-v2 "$(vtep_bridge 10)" vcfp-h2 198.18.10.2/24 02:0a:00:00:00:02 "$(vtep_vid 10)"
pt_log "topology + FRR started in $(since "$t")s"

t=$(now)
if frr_wait_established vcfp-v1 $V2 60 && frr_wait_established vcfp-v2 $V1 10; then
	pass bgp-established "v1 <-> v2 l2vpn evpn Established $(since "$t")s after FRR start"
else
	fail bgp-established "not Established after $(since "$t")s"
	frr_vtysh vcfp-v1 'show bgp summary' >>"$PT_OUT/checks.log"
	pt_finish
fi

# type3_from NS ORIGIN: number of type-3 (IMET) routes in NS's RIB originated by ORIGIN
type3_from() {
	frr_vtysh "$1" 'show bgp l2vpn evpn route type multicast json' |
		jq --arg o "[$2]" '[.. | objects | to_entries[] | select(.key | startswith("[3]:") and endswith($o))] | length'
}
type3_ge() { [ "$(type3_from "$1" "$2")" -ge "$3" ]; }
check_within type3-v1-from-v2 30 type3_ge vcfp-v1 $V2 2
check_within type3-v2-from-v1 30 type3_ge vcfp-v2 $V1 2

flood() { bridge -n "$1" fdb show dev "$2" | grep -q "^00:00:00:00:00:00 dst $3 self permanent"; }
check_within flood-v1-vxlan10 20 flood vcfp-v1 vxlan10 $V2
check_within flood-v1-vxlan11 20 flood vcfp-v1 vxlan11 $V2
check_within flood-v2-vxlan10 20 flood vcfp-v2 vxlan10 $V1

# local learning: each host pings its own SVI once (bridge learns the MAC, the SVI the IP)
nsx vcfp-h1 ping -c1 -W3 198.18.10.101 >/dev/null
nsx vcfp-h2 ping -c1 -W3 198.18.10.102 >/dev/null
check ping-h1-h2 nsx vcfp-h1 ping -c 3 -i 0.2 -W 2 198.18.10.2
check ping-h2-h1 nsx vcfp-h2 ping -c 3 -i 0.2 -W 2 198.18.10.1

# type2 NS MAC [IP]: NS's RIB has a type-2 route for MAC (and IP, if given)
type2() {
	local key="[2]:[0]:[48]:[$2]"; [ -n "${3:-}" ] && key="$key:[32]:[$3]"
	frr_vtysh "$1" 'show bgp l2vpn evpn route type macip json' |
		jq -e --arg k "$key" '[.. | objects | keys[] | select(. == $k)] | length > 0' >/dev/null
}
check_within type2-mac-v1-has-h2 30 type2 vcfp-v1 02:0a:00:00:00:02
check_within type2-mac-v2-has-h1 30 type2 vcfp-v2 02:0a:00:00:00:01
check_within type2-macip-v1-has-h2 30 type2 vcfp-v1 02:0a:00:00:00:02 198.18.10.2
check_within type2-macip-v2-has-h1 30 type2 vcfp-v2 02:0a:00:00:00:01 198.18.10.1
remote_mac() { bridge -n "$1" fdb show dev vxlan10 | grep -q "^$2 dst $3 self extern_learn"; }
check_within remote-mac-fdb-v1 20 remote_mac vcfp-v1 02:0a:00:00:00:02 $V2

# dumps for whoever copies this scenario
for n in vcfp-v1 vcfp-v2; do
	{ bridge -n $n fdb show dev vxlan10; bridge -n $n fdb show dev vxlan11; ip -n $n neigh show; } >"$PT_OUT/$n-kernel.txt" 2>&1
	frr_vtysh $n 'show bgp l2vpn evpn summary' 'show bgp l2vpn evpn' 'show evpn vni' 'show evpn mac vni all' \
		'show running-config' >"$PT_OUT/$n-frr.txt"
done
pt_finish
