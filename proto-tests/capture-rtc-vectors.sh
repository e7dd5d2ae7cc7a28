#!/usr/bin/env bash
# capture-rtc-vectors.sh - capture RT-Constrain (RFC 4684, AFI 1 / SAFI 132) UPDATEs as
# GoBGP encodes them, and what a GoBGP speaker with RTC sends when its peer's
# membership filters EVPN routes.
#
# usage: proto-tests/capture-rtc-vectors.sh            # scenario mode: target/proto-tests/
#        proto-tests/capture-rtc-vectors.sh --update   # also rewrite proto-tests/vectors/gobgp-rtc/
#
#   vcrt-gb  gobgpd 198.18.0.1 (AS 65000) -- iBGP rtc + l2vpn-evpn --> vcrt-rx gobgpd 198.18.0.2
# GoBGP has no CLI for RTC routes: it originates one per import RT of a VRF (`gobgp vrf
# add`), so the membership is driven by VRFs. tcpdump on vcrt-gb's eth0 sees both sides.
# Checks: the session negotiates rtc; rx learns gb's RTC routes; gb sends rx only the
# EVPN routes whose RT rx imports (RFC 4684 section 3).
set -uo pipefail
source "$(dirname "$0")/lib/harness.sh"
UPDATE=0
[ "${1:-}" = --update ] && UPDATE=1
pt_init capture-rtc-vectors vcrt
HERE=$REPO_ROOT/proto-tests

GB=198.18.0.1 RX=198.18.0.2
underlay_create
ns_add vcrt-gb
ns_add vcrt-rx
underlay_attach vcrt-gb $GB/24
underlay_attach vcrt-rx $RX/24
pcap_start vcrt-gb eth0 "$PT_OUT/capture-all.pcap" 'tcp port 179' || pt_finish
PCAP_PID=$PT_LAST_PID

gobgp_client_conf $GB $RX rtc l2vpn-evpn >"$PT_RUN/gb.toml"
gobgp_client_conf $RX $GB rtc l2vpn-evpn >"$PT_RUN/rx.toml"
gobgpd_start vcrt-gb "$PT_RUN/gb.toml" || pt_finish
gobgpd_start vcrt-rx "$PT_RUN/rx.toml" || pt_finish
check_within gobgp-rtc-established 60 gobgp_established vcrt-gb $RX
caps=$(gobgp_cli vcrt-gb neighbor $RX | grep -c 'rtc:.*advertised and received')
[ "$caps" = 1 ] && pass rtc-negotiated || fail rtc-negotiated "rtc not advertised and received"

cmd() { # cmd NS ARGS...: run and log a gobgp command
	echo "[$1] gobgp $*" >>"$PT_OUT/commands.txt"
	gobgp_cli "$@" >>"$PT_OUT/commands.txt" 2>&1 || fail gobgp-cli "$*"
}
: >"$PT_OUT/commands.txt"
# gb: RTC routes for 65000:10 and 65000:11 (one VRF each), then EVPN type-3s for RTs
# 65000:10, 65000:20 and 65000:11.
cmd vcrt-gb vrf add v10 rd $GB:10 rt import 65000:10 export 65000:10
cmd vcrt-gb vrf add v11 rd $GB:11 rt import 65000:11 export 65000:11
# rx imports 65000:10 only: gb must send it the RT 65000:10 route alone.
cmd vcrt-rx vrf add v10 rd $RX:10 rt import 65000:10 export 65000:10
sleep 2
for v in 10 20 11; do
	cmd vcrt-gb global rib -a evpn add multicast $GB etag 0 rd $GB:$v rt 65000:$v encap vxlan pmsi ingress-repl $v $GB nexthop $GB
done
sleep 2
gobgp_cli vcrt-rx global rib -a rtc >"$PT_OUT/rx-rtc.txt"
gobgp_cli vcrt-rx global rib -a evpn -j >"$PT_OUT/rx-evpn.json"
n=$(grep -cE '65000:65000:1[01] +198\.18\.0\.1 ' "$PT_OUT/rx-rtc.txt")
[ "$n" = 2 ] && pass rx-learns-gb-membership "rx holds gb's RTC routes for 65000:10 and 65000:11" ||
	fail rx-learns-gb-membership "rx holds $n of gb's 2 RTC routes"
rds=$(jq -r '[.[][].nlri.value.rd | "\(.admin):\(.assigned)"] | sort | join(",")' "$PT_OUT/rx-evpn.json" 2>/dev/null)
[ "$rds" = "$GB:10" ] && pass gb-filters-by-membership "rx got only the RT 65000:10 route" ||
	fail gb-filters-by-membership "rx got RDs '$rds', want $GB:10"
# A withdrawn RTC route: gb drops VRF v11.
cmd vcrt-gb vrf del v11
sleep 2
gobgp_cli vcrt-rx global rib -a rtc >"$PT_OUT/rx-rtc-after-del.txt"
grep -q '65000:65000:11' "$PT_OUT/rx-rtc-after-del.txt" && fail rtc-withdrawn "65000:11 still held" ||
	pass rtc-withdrawn "gb withdrew its RTC route for 65000:11"
pcap_stop "$PCAP_PID"

SPLIT=$REPO_ROOT/proto-tests/lib/pcap-messages.py
mkdir -p "$PT_OUT/gobgp-rtc"
tcpdump -r "$PT_OUT/capture-all.pcap" -w "$PT_OUT/gobgp-rtc/capture.pcap" 2>/dev/null
EVPND_BIN=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd} python3 "$SPLIT" "$PT_OUT/gobgp-rtc/capture.pcap" \
	>"$PT_OUT/gobgp-rtc/messages.txt" || fail split "evpnd decode could not split the capture"
cp "$PT_OUT/commands.txt" "$PT_OUT/rx-rtc.txt" "$PT_OUT/rx-evpn.json" "$PT_OUT/gobgp-rtc/"
if [ "$UPDATE" = 1 ] && [ "$PT_NFAIL" = 0 ]; then
	rm -rf "$HERE/vectors/gobgp-rtc"
	cp -r "$PT_OUT/gobgp-rtc" "$HERE/vectors/gobgp-rtc"
	pt_log "vectors written to $HERE/vectors/gobgp-rtc"
fi
pt_finish
