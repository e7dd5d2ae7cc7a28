#!/usr/bin/env bash
# capture-vectors.sh - capture EVPN UPDATEs encoded by GoBGP and ExaBGP (wire vectors).
#
# usage: proto-tests/capture-vectors.sh            # scenario mode: results in target/proto-tests/
#        proto-tests/capture-vectors.sh --update   # also rewrite proto-tests/vectors/{gobgp,exabgp}/
#
#   vccv-gb  gobgpd 198.18.0.1 (AS 65000) -- iBGP l2vpn-evpn --> vccv-ex exabgp 198.18.0.2
#                                         -- iBGP l2vpn-evpn --> vccv-fr FRR    198.18.0.3
#   all three on bridge "ulsw" in vccv-ul; tcpdump on vccv-gb's eth0 sees both sessions.
# Phase 1: GoBGP originates type-1/2/3/4/5 routes (RTs, encap vxlan, PMSI, default-gateway,
#          router-mac, ESI, two labels), then withdraws some.
# Phase 2: ExaBGP (proto-tests/lib/exabgp-evpn.py) announces routes with MAC mobility
#          (sequence, sticky), default-gateway, ES-import RT, router-mac, PMSI, IPv6,
#          MPLS-style labels, route types 1/4/5, then withdraws some.
# Checks (PASS/FAIL): sessions up; what each receiver holds matches what was sent.
set -uo pipefail
source "$(dirname "$0")/lib/harness.sh"
UPDATE=0
[ "${1:-}" = --update ] && UPDATE=1
pt_init capture-vectors vccv
HERE=$REPO_ROOT/proto-tests

GB=198.18.0.1 EX=198.18.0.2 FR=198.18.0.3
underlay_create
for n in gb ex fr; do ns_add vccv-$n; done
underlay_attach vccv-gb $GB/24
underlay_attach vccv-ex $EX/24
underlay_attach vccv-fr $FR/24
pcap_start vccv-gb eth0 "$PT_OUT/capture-all.pcap" 'tcp port 179' || pt_finish
PCAP_PID=$PT_LAST_PID

# ---------------------------------------------------------------- GoBGP
cat >"$PT_RUN/gobgpd.toml" <<EOF
[global.config]
  as = 65000
  router-id = "$GB"
  port = 179
  local-address-list = ["$GB"]
EOF
for p in $EX $FR; do
	cat >>"$PT_RUN/gobgpd.toml" <<EOF
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$p"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 2
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
EOF
done
gobgpd_start vccv-gb "$PT_RUN/gobgpd.toml" || pt_finish

# ---------------------------------------------------------------- ExaBGP
exabgp_evpn_start vccv-ex $EX $GB || pt_finish
EXA_PID=$PT_LAST_PID
exa() { exabgp_cmd vccv-ex "$@"; }

# ---------------------------------------------------------------- FRR (receiver only, no VNIs)
cat >"$PT_RUN/frr.conf" <<EOF
frr defaults datacenter
router bgp 65000
 bgp router-id $FR
 no bgp default ipv4-unicast
 neighbor $GB remote-as 65000
 neighbor $GB timers 3 9
 neighbor $GB timers connect 2
 address-family l2vpn evpn
  neighbor $GB activate
 exit-address-family
!
EOF
frr_start vccv-fr "$PT_RUN/frr.conf" || pt_finish

check_within gobgp-exabgp-established 60 gobgp_established vccv-gb $EX
check_within gobgp-frr-established 60 gobgp_established vccv-gb $FR
sleep 2   # let End-of-RIB markers pass

# ---------------------------------------------------------------- phase 1: GoBGP originates
gadd() { echo "gobgp global rib -a evpn $*" >>"$PT_OUT/gobgp-commands.txt"; gobgp_cli vccv-gb global rib -a evpn "$@" >>"$PT_OUT/gobgp-commands.txt" 2>&1 || fail "gobgp-cli" "$*"; }
: >"$PT_OUT/gobgp-commands.txt"
R1=$GB:10 R2=$GB:11
gadd add multicast $GB etag 0 rd $R1 rt 65000:10 encap vxlan pmsi ingress-repl 10 $GB nexthop $GB
gadd add multicast $GB etag 0 rd $R2 rt 65000:11 encap vxlan pmsi ingress-repl 11 $GB nexthop $GB
gadd add macadv 02:0a:00:00:01:01 0.0.0.0 etag 0 label 10 rd $R1 rt 65000:10 encap vxlan nexthop $GB
gadd add macadv 02:0a:00:00:01:02 198.18.10.12 etag 0 label 10 rd $R1 rt 65000:10 encap vxlan nexthop $GB
gadd add macadv 02:0a:00:00:01:03 198.18.10.13 etag 0 label 10,100 rd $R1 rt 65000:10 65000:100 encap vxlan nexthop $GB
gadd add macadv 02:0a:00:00:01:fe 198.18.10.254 etag 0 label 10 rd $R1 rt 65000:10 default-gateway encap vxlan nexthop $GB
gadd add macadv 02:0b:00:00:01:01 198.18.11.11 esi LACP 02:ee:00:00:00:01 7 etag 0 label 11 rd $R2 rt 65000:11 encap vxlan nexthop $GB
gadd add a-d esi LACP 02:ee:00:00:00:01 7 etag 0 label 11 rd $R2 rt 65000:11 esi-label 100 encap vxlan nexthop $GB
gadd add esi $GB esi LACP 02:ee:00:00:00:01 7 rd $GB:1 encap vxlan nexthop $GB
gadd add prefix 198.18.20.0/24 0.0.0.0 etag 0 label 100 rd $GB:100 rt 65000:100 encap vxlan router-mac 02:b0:00:00:00:01 nexthop $GB
sleep 3
snap_gobgp() { # snap_gobgp KEY -> one JSON object with what GoBGP holds/sends
	jq -n --arg k "$1" --argjson rib "$(gobgp_cli vccv-gb global rib -a evpn -j)" \
		--argjson ex "$(gobgp_cli vccv-gb neighbor $EX adj-out -a evpn -j)" \
		--argjson fr "$(gobgp_cli vccv-gb neighbor $FR adj-out -a evpn -j)" \
		'{($k): {"global rib -a evpn -j": $rib, "neighbor '$EX' adj-out -a evpn -j": $ex, "neighbor '$FR' adj-out -a evpn -j": $fr}}'
}
snap_gobgp after_announce >"$PT_RUN/said-1.json"
frr_vtysh vccv-fr 'show bgp l2vpn evpn json' >"$PT_OUT/frr-received-from-gobgp.json"
frr_vtysh vccv-fr 'show bgp l2vpn evpn' >"$PT_OUT/frr-received-from-gobgp.txt"
# FRR received every route type GoBGP sent (prefix keys look like "[2]:[0]:[48]:[mac]...")
frr_types() { jq -r '[.. | objects | keys[] | select(test("^\\[[1-5]\\]:")) | .[1:2]] | unique | join(",")' "$PT_OUT/frr-received-from-gobgp.json"; }
types=$(frr_types)
[ "$types" = "1,2,3,4,5" ] && pass frr-got-gobgp-types "FRR holds GoBGP's route types $types" || fail frr-got-gobgp-types "FRR holds types '$types', want 1,2,3,4,5"
n_ex=$(gobgp_cli vccv-gb neighbor $EX adj-out -a evpn -j | jq 'length')
[ "${n_ex:-0}" -ge 10 ] && pass gobgp-adj-out-exabgp "GoBGP adj-out to ExaBGP has $n_ex EVPN paths" || fail gobgp-adj-out-exabgp "adj-out has ${n_ex:-0} paths, want 10"

gadd del macadv 02:0a:00:00:01:01 0.0.0.0 etag 0 label 10 rd $R1
gadd del multicast $GB etag 0 rd $R2
gadd del prefix 198.18.20.0/24 0.0.0.0 etag 0 label 100 rd $GB:100
sleep 3
snap_gobgp after_withdraw >"$PT_RUN/said-2.json"
jq -s 'add' "$PT_RUN/said-1.json" "$PT_RUN/said-2.json" >"$PT_OUT/gobgp-said.json"
n_ex=$(gobgp_cli vccv-gb neighbor $EX adj-out -a evpn -j | jq 'length')
[ "${n_ex:-0}" = 7 ] && pass gobgp-withdraw "GoBGP adj-out to ExaBGP down to 7 paths after 3 withdrawals" || fail gobgp-withdraw "adj-out has ${n_ex:-0} paths, want 7"

# ---------------------------------------------------------------- phase 2: ExaBGP originates
E1=$EX:10 E2=$EX:11
NH="next-hop $EX origin igp local-preference 100"
ENC=0x030c000000000008   # encapsulation VXLAN (RFC 9012 4.1, tunnel type 8)
# MAC+IP with MAC mobility seq 5 (RFC 7432 7.7: type 0x06 sub 0x00, flags, reserved, seq)
exa "announce evpn mac rd $E1 mac 02:0a:00:00:02:01 ip 198.18.10.21 label 10 -- $NH extended-community [ target:65000:10 $ENC 0x0600000000000005 ]"
# sticky (static) MAC: MAC mobility flags bit 0 (sticky), seq 0
exa "announce evpn mac rd $E1 mac 02:0a:00:00:02:02 label 10 -- $NH extended-community [ target:65000:10 $ENC 0x0600010000000000 ]"
# default gateway (RFC 7432 7.8: opaque 0x03 sub 0x0d)
exa "announce evpn mac rd $E1 mac 02:0a:00:00:02:fe ip 198.18.10.253 label 10 -- $NH extended-community [ target:65000:10 $ENC 0x030d000000000000 ]"
# IPv6 MAC+IP, two labels (L2 VNI 10 + L3 VNI 100) and a router MAC (RFC 9135 8.1: 0x06 sub 0x03)
exa "announce evpn mac rd $E1 mac 02:0a:00:00:02:03 ip 2001:db8::23 label 10 label2 100 -- $NH extended-community [ target:65000:10 target:65000:100 $ENC 0x060302b000000002 ]"
# MPLS-style label (20-bit label 10 << 4 | BOS = 0x0000a1) instead of a VNI
exa "announce evpn mac rd $E1 mac 02:0a:00:00:02:04 label 10 label-mode mpls -- $NH extended-community [ target:65000:10 ]"
# non-zero ESI (type 0, arbitrary) and Ethernet tag 10
exa "announce evpn mac rd $E1 esi 00:11:22:33:44:55:66:77:88:99 etag 10 mac 02:0a:00:00:02:05 ip 198.18.10.25 label 10 -- $NH extended-community [ target:65000:10 $ENC ]"
# type-3 with PMSI tunnel (RFC 6514 5, type 6 ingress replication, label = VNI 10, endpoint)
exa "announce evpn multicast rd $E1 ip $EX -- $NH extended-community [ target:65000:10 $ENC ] attribute [ 0x16 0xc0 0x000600000ac6120002 ]"
exa "announce evpn multicast rd $E2 ip $EX -- $NH extended-community [ target:65000:11 $ENC ] attribute [ 0x16 0xc0 0x000600000bc6120002 ]"
# type-1 Ethernet A-D per ES (etag MAX-ET, ESI label ext-comm 0x06 sub 0x01: all-active, label 0) and per EVI
exa "announce evpn ethernet-ad rd $E1 esi 00:11:22:33:44:55:66:77:88:99 etag 4294967295 label 0 -- $NH extended-community [ target:65000:10 0x0601000000000000 ]"
exa "announce evpn ethernet-ad rd $E1 esi 00:11:22:33:44:55:66:77:88:99 etag 0 label 10 -- $NH extended-community [ target:65000:10 $ENC ]"
# type-4 Ethernet segment with ES-Import RT (0x06 sub 0x02, 6-byte MAC from the ESI)
exa "announce evpn ethernet-segment rd $EX:1 esi 00:11:22:33:44:55:66:77:88:99 ip $EX -- $NH extended-community [ 0x0602112233445566 ]"
# type-5 IP prefix with gateway IP and router MAC
exa "announce evpn ip-prefix rd $EX:100 prefix 198.18.21.0/24 gw 198.18.21.1 label 100 -- $NH extended-community [ target:65000:100 $ENC 0x060302b000000002 ]"
exa "announce evpn ip-prefix rd $EX:100 prefix 2001:db8:21::/64 label 100 -- $NH extended-community [ target:65000:100 $ENC 0x060302b000000002 ]"
n_exa=13
adjin() { gobgp_cli vccv-gb neighbor $EX adj-in -a evpn -j | jq 'length'; }
adjin_eq() { [ "$(adjin)" = "$1" ]; }
check_within gobgp-got-exabgp-routes 30 adjin_eq $n_exa
gobgp_cli vccv-gb neighbor $EX adj-in -a evpn -j >"$PT_RUN/adjin-1.json"
gobgp_cli vccv-gb neighbor $EX adj-in -a evpn >"$PT_OUT/gobgp-adj-in-from-exabgp.txt"
exa "withdraw evpn mac rd $E1 mac 02:0a:00:00:02:02 label 10 -- $NH extended-community [ target:65000:10 $ENC 0x0600010000000000 ]"
exa "withdraw evpn multicast rd $E2 ip $EX -- $NH extended-community [ target:65000:11 ]"
exa "withdraw evpn ip-prefix rd $EX:100 prefix 198.18.21.0/24 gw 198.18.21.1 label 100 -- $NH"
check_within gobgp-saw-exabgp-withdraws 30 adjin_eq $((n_exa - 3))
gobgp_cli vccv-gb neighbor $EX adj-in -a evpn -j >"$PT_RUN/adjin-2.json"
jq -n --slurpfile a "$PT_RUN/adjin-1.json" --slurpfile b "$PT_RUN/adjin-2.json" \
	'{"after_announce": {"neighbor '$EX' adj-in -a evpn -j": $a[0]}, "after_withdraw": {"neighbor '$EX' adj-in -a evpn -j": $b[0]}}' \
	>"$PT_OUT/gobgp-received-from-exabgp.json"
sleep 1
pcap_stop "$PCAP_PID"
kill "$EXA_PID" 2>/dev/null

# ---------------------------------------------------------------- split the capture per sender
# one hex line per BGP message with a short decode, by evpnd decode ($EVPND_BIN)
SPLIT=$REPO_ROOT/proto-tests/lib/pcap-messages.py
split_to() { # split_to SRC DIR
	mkdir -p "$2"
	tcpdump -r "$PT_OUT/capture-all.pcap" -w "$2/capture.pcap" "src host $1" 2>/dev/null
	EVPND_BIN=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd} python3 "$SPLIT" "$2/capture.pcap" >"$2/messages.txt" ||
		fail "split-$1" "evpnd decode could not split $2/capture.pcap (see $2/messages.txt)"
}
split_to $GB "$PT_OUT/gobgp"
split_to $EX "$PT_OUT/exabgp"
cp "$PT_OUT/gobgp-said.json" "$PT_OUT/gobgp/said.json"
cp "$PT_OUT/gobgp-commands.txt" "$PT_OUT/gobgp/commands.txt"
cp "$PT_OUT/frr-received-from-gobgp.json" "$PT_OUT/gobgp/frr-received.json"
cp "$PT_OUT/gobgp-received-from-exabgp.json" "$PT_OUT/exabgp/gobgp-received.json"
cp "$PT_OUT/gobgp-adj-in-from-exabgp.txt" "$PT_OUT/exabgp/gobgp-received.txt"
cp "$PT_RUN/vccv-ex/exabgp-commands" "$PT_OUT/exabgp/commands.txt"
# what ExaBGP said: its own log lines for the routes it announced/withdrew and the UPDATEs it sent
grep -E 'evpn (added to|removed from)|>> UPDATE|sending|UPDATE' "$PT_RUN/vccv-ex/exabgp.log" |
	sed -E 's/^[A-Z][a-z]{2} [A-Z][a-z]{2} +[0-9]+ [0-9:]{8} [0-9]+ +//' >"$PT_OUT/exabgp/said.log"

cnt() { sed -n 's/^# evpn nlri: //p' "$1" | tr ',' '\n' | sed -n "s/^ *$2=//p"; }
for s in gobgp exabgp; do
	m=$PT_OUT/$s/messages.txt
	line=$(sed -n 's/^# evpn nlri: //p' "$m")
	if [ "$(cnt "$m" reach-type2)" -ge 4 ] 2>/dev/null && [ "$(cnt "$m" reach-type3)" -ge 2 ] 2>/dev/null &&
		[ -n "$(cnt "$m" reach-type1)" ] && [ -n "$(cnt "$m" reach-type4)" ] && [ -n "$(cnt "$m" reach-type5)" ] &&
		[ -n "$(cnt "$m" withdraw-type2)" ] && [ -n "$(cnt "$m" withdraw-type3)" ]; then
		pass "$s-vectors" "$line"
	else
		fail "$s-vectors" "too few EVPN NLRIs: $line"
	fi
done

if [ $UPDATE = 1 ] && [ "$PT_NFAIL" = 0 ]; then
	for s in gobgp exabgp; do
		rm -rf "$HERE/vectors/$s"
		cp -r "$PT_OUT/$s" "$HERE/vectors/$s"
	done
	pt_log "vectors written to $HERE/vectors/{gobgp,exabgp}"
fi
pt_finish
