#!/usr/bin/env bash
# vtep-reload-vm/inside.sh - runs INSIDE scripts/vm (root, Debian kernel with VLAN
# filtering), started by proto-tests/vtep-reload-vm.sh. Live reconfiguration of evpnd
# VTEPs (issue 13): `evpnd reload` adds and removes a VNI, changes a route target and
# adds and removes a neighbour, without a session reset and without disturbing VNI 10.
#
#                          vr-ul: bridge ulsw (underlay)
#     vr-n1 198.19.0.1            vr-n2 198.19.0.2            vr-n3 198.19.0.3
#     evpnd VTEPs; br0 (vlan_filtering 1, vlan_default_pvid 0); evpnd makes vxlan0
#     (external, vnifilter), VLAN 10 <-> VNI 10 (auto RT 65000:10), the SVI vlan10.
#     Sessions (iBGP AS 65000, no reflector): n1-n2, n1-n3 (n1 connects, the others
#     are passive); n2-n3 only during check 4.
#     h1a: behind n1 on VLAN 10, 198.18.10.1/24 MAC 02:0a:00:00:00:01; h2a: behind n2, .2, :02
#     h1b/h2b (check 1): VLAN 20 behind n1/n2, 198.18.20.1/.2, MAC 02:14:00:00:00:01/:02
# All the while h1a pings h2a at 20/s (ping -i 0.05); check 6 counts the loss.
# Checks (one PASS/FAIL line each):
#   start-*       the three evpnd up, sessions Established, n1 holds the VNI 10 rows
#   1 add-vni-*   VNI 20 (VLAN 20, RTs 65000:20) added to n1's and n2's files, hosts
#                 h1b/h2b, `evpnd reload` on both: the answer lists "VNI 20 (VLAN 20)
#                 added"; on n1 VLAN 20 is a tagged member of vxlan0 with tunnel_info 20,
#                 20 is in the VNI filter, the SVI vlan20 is up; n1 has the flood row to n2
#                 for VNI 20 and h2b's MAC row; h1b pings h2b; n1's VNI 10 rows (vxlan0 FDB
#                 rows of VNI/VLAN 10, extern_learn neighbours on vlan10) are byte-identical;
#                 no session reset (established_at_ms of every session unchanged);
#                 `show config` generation +1 on n1 and n2
#   2 rt-change-* n1 exports VNI 20 with RT 65000:2020 (n2 imports 65000:20): n2 drops
#                 n1's VNI 20 flood row and h1b's MAC row, `show vnis` on n2 warns about
#                 the RT; no session reset; back to 65000:20: the rows return, no warning
#   3 remove-vni-* VNI 20 removed from n1's file: the answer lists "VNI 20 (VLAN 20)
#                 removed"; n1: VLAN 20 off vxlan0 (tunnel_info with it) and off br0, not
#                 in the VNI filter, vlan20 deleted, no VNI/VLAN 20 rows on vxlan0; n2 no
#                 longer floods VNI 20 to n1; n1's VNI 10 rows identical; no session reset
#   4 neighbour-* n3 added to n2's file and n2 to n3's, both reloaded: the session comes
#                 up, n1-n2 untouched; removed again: gone on both, n1-n2 untouched
#   5 bad-*       an unknown key and an out-of-range VLAN: reload refused (exit 2), the
#                 key named, generation unchanged, n1's kernel rows unchanged
#   6 ping-loss   the VLAN 10 ping lost nothing: "vlan10 lost N/M" (the last 0.5 s of
#                 echoes, still in flight when ping is stopped, not counted)
#   7 logs        no panic in any evpnd log, the three still running
# A refused reload leaves the old configuration running; the script then writes the
# running configuration back, so a later check starts from a file that matches.
set -uo pipefail
source "$(dirname "$0")/../lib/harness.sh"
pt_init vtep-reload-vm vr

EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND"; pt_finish; }
for tool in jq ping bridge; do
	command -v $tool >/dev/null || { fail tools "$tool missing (scripts/install-deps.sh)"; pt_finish; }
done
N1=198.19.0.1 N2=198.19.0.2 N3=198.19.0.3
ev() { local n=$1; shift; "$EVPND" --socket "$PT_RUN/vr-$n/evpnd.sock" "$@"; }
ev_json() { ev "$1" show "$2" --json 2>/dev/null; }

# ---------------------------------------------------------------- topology
t=$(now)
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.core.devconf_inherit_init_net=1
for ns in vr-ul vr-n1 vr-n2 vr-n3; do
	ip netns add $ns || { fail topology "ip netns add $ns"; pt_finish; }
	PT_NS+=($ns)
	echo "link set lo up" | ip -n $ns -batch -
done
printf 'link add ulsw mtu 1600 type bridge\nlink set ulsw up\n' | ip -n vr-ul -batch -
for i in 1 2 3; do
	printf 'link add p-n%s mtu 1600 type veth peer name eth0 mtu 1600 netns vr-n%s\nlink set p-n%s master ulsw up\n' $i $i $i | ip -n vr-ul -batch -
	{
		echo "addr add 198.19.0.$i/24 dev eth0"
		echo "link set eth0 up"
		echo "link add br0 address 02:b0:00:00:00:0$i type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0"
		echo "link set br0 up"
	} | ip -n vr-n$i -batch -
done
# add_host VTEP HOST VLAN: namespace vr-HOST, its eth0 (host_ip/host_mac of VLAN and
# VTEP) a veth into VTEP's br0, that port an access port of VLAN
add_host() {
	local i=$1 h=$2 vid=$3
	ip netns add "vr-$h" || return 1
	PT_NS+=("vr-$h")
	echo "link set lo up" | ip -n "vr-$h" -batch -
	printf 'link add %s type veth peer name eth0 netns vr-%s\nlink set %s master br0 up\n' "$h" "$h" "$h" | ip -n vr-n$i -batch -
	bridge -n vr-n$i vlan add dev "$h" vid "$vid" pvid untagged
	printf 'link set eth0 address %s\naddr add %s/24 dev eth0\nlink set eth0 up\n' "$(host_mac "$vid" "$i")" "$(host_ip "$vid" "$i")" | ip -n "vr-$h" -batch -
}
add_host 1 h1a 10 && add_host 2 h2a 10 || { fail topology "hosts on VLAN 10"; pt_finish; }
pt_log "topology built in $(since "$t")s"

# ---------------------------------------------------------------- configuration
# Each node's file is written from these (index: node number):
#   PEERS  "N:PASSIVE ..." neighbours 198.19.0.N
#   VNIS   "VNI ..." (VLAN = VNI) or "VLAN:VNI"; VNI 20 gets import_rts ["65000:20"] and
#          export_rts [EXPORT20]; the others the auto RTs (65000:VNI)
#   EXTRA  a line added to [vtep] (check 5)
declare -A PEERS VNIS EXPORT20 EXTRA RUN_PEERS RUN_VNIS RUN_EXPORT20 RUN_EXTRA
PEERS[1]="2:false 3:false" PEERS[2]="1:true" PEERS[3]="1:true"
for i in 1 2 3; do VNIS[$i]=10 EXPORT20[$i]=65000:20 EXTRA[$i]=""; done
write_conf() { # N
	local i=$1 p v vlan vni
	{
		cat <<-CONF
		[bgp]
		asn = 65000
		router_id = "198.19.0.$i"
		listen = ["198.19.0.$i"]
		hold_time = 9
		keepalive = 3
		connect_retry = 2
		families = ["l2vpn-evpn"]
		CONF
		for p in ${PEERS[$i]}; do
			printf '\n[[neighbors]]\naddress = "198.19.0.%s"\nremote_as = 65000\nlocal_address = "198.19.0.%s"\npassive = %s\n' "${p%%:*}" "$i" "${p#*:}"
		done
		cat <<-CONF

		[vtep]
		dataplane = "linux"
		bridge = "br0"
		vxlan_device = "vxlan0"
		local_ip = "198.19.0.$i"
		vxlan_port = 4789
		bridge_mac = "02:b0:00:00:00:0$i"
		${EXTRA[$i]}
		CONF
		for v in ${VNIS[$i]}; do
			vlan=${v%%:*} vni=${v#*:}
			printf '\n[[vtep.vnis]]\nvlan = %s\nvni = %s\n' "$vlan" "$vni"
			[ "$vni" = 20 ] && printf 'import_rts = ["65000:20"]\nexport_rts = ["%s"]\n' "${EXPORT20[$i]}"
		done
		cat <<-CONF

		[control]
		socket = "$PT_RUN/vr-n$i/evpnd.sock"
		mode = "0600"

		[log]
		level = "debug"
		format = "text"
		CONF
	} >"$PT_RUN/vr-n$i/evpnd.toml"
}
running() { # N: what node N runs now is what its file says
	local i=$1
	RUN_PEERS[$i]=${PEERS[$i]} RUN_VNIS[$i]=${VNIS[$i]} RUN_EXPORT20[$i]=${EXPORT20[$i]} RUN_EXTRA[$i]=${EXTRA[$i]}
}
# apply N NAME: write node N's file, `evpnd reload` it (answer in reload-NAME-nN.out,
# RELOAD_RC, RELOAD_OUT). Refused: the running configuration is written back.
apply() {
	local i=$1 name=$2
	write_conf "$i"
	cp "$PT_RUN/vr-n$i/evpnd.toml" "$PT_OUT/evpnd-$name-n$i.toml"
	ev n$i reload >"$PT_OUT/reload-$name-n$i.out" 2>&1
	RELOAD_RC=$?
	RELOAD_OUT=$(tr '\n' ' ' <"$PT_OUT/reload-$name-n$i.out")
	if [ $RELOAD_RC = 0 ]; then
		running "$i"
	else
		PEERS[$i]=${RUN_PEERS[$i]} VNIS[$i]=${RUN_VNIS[$i]} EXPORT20[$i]=${RUN_EXPORT20[$i]} EXTRA[$i]=${RUN_EXTRA[$i]}
		write_conf "$i"
	fi
}

# ---------------------------------------------------------------- evpnd x3
t=$(now)
for i in 2 3 1; do
	mkdir -p "$PT_RUN/vr-n$i"
	write_conf $i
	running $i
	pt_bg ip netns exec vr-n$i env NO_COLOR=1 "$EVPND" run --config "$PT_RUN/vr-n$i/evpnd.toml" >"$PT_RUN/vr-n$i/evpnd.log" 2>&1
	eval "PID_n$i=$PT_LAST_PID"
done
for i in 1 2 3; do
	wait_until 30 ev n$i show neighbors >/dev/null ||
		{ fail evpnd-start "n$i: control socket not answering after 30 s: $(tail -3 "$PT_RUN/vr-n$i/evpnd.log")"; pt_finish; }
done
# nN's sessions, "address=state@established_at_ms" sorted
sessions() { ev_json n$1 neighbors | jq -r '[.[] | "\(.address)=\(.state)@\(.established_at_ms // "none")"] | sort | join(" ")'; }
up_count() { ev_json n$1 neighbors | jq '[.[] | select(.state == "Established")] | length'; }
state_of() { ev_json n$1 neighbors | jq -r --arg a "$2" '.[] | select(.address == $a) | .state'; }
up_at() { ev_json n$1 neighbors | jq -r --arg a "$2" '.[] | select(.address == $a) | .established_at_ms // "none"'; }
listed() { ev_json n$1 neighbors | jq -e --arg a "$2" 'any(.[]; .address == $a)' >/dev/null; }
generation() { ev_json n$1 config | jq -r .generation; }
all_up() { [ "$(up_count 1)" = 2 ] && [ "$(up_count 2)" = 1 ] && [ "$(up_count 3)" = 1 ]; }
if wait_until 60 all_up; then
	pass start-sessions "n1-n2 and n1-n3 Established $(since "$t")s after start: n1 $(sessions 1)"
else
	fail start-sessions "n1: $(sessions 1); n2: $(sessions 2); n3: $(sessions 3)"
	pt_finish
fi
for i in 1 2; do ip -n vr-n$i addr add 198.18.10.10$i/24 dev vlan10; done

# ---------------------------------------------------------------- kernel predicates
fdb() { bridge -n vr-n$1 fdb show dev vxlan0; }
flood_row() { fdb "$1" | grep -qE "^00:00:00:00:00:00 dst $3 src_vni $2 self"; } # N VNI REMOTE
mac_row() { fdb "$1" | grep -qE "^$2 dst $4 src_vni $3 self"; }                   # N MAC VNI REMOTE
neigh_row() { ip -n vr-n$1 neigh show dev "vlan$2" 2>/dev/null | grep -qE "^$3 lladdr $4 extern_learn"; } # N VLAN IP MAC
# nN's VNI 10 rows: vxlan0's FDB rows of VNI 10 or VLAN 10, extern_learn neighbours on vlan10
vni10_rows() {
	{
		fdb "$1" | grep -E " (src_vni|vlan) 10( |$)"
		ip -n vr-n$1 neigh show dev vlan10 | grep extern_learn
	} | strip | sort
}
tagged() { bridge -n vr-n$1 vlan show dev "$2" | grep -qE "^($2)? +$3 *$"; }                 # N DEV VID
member() { bridge -n vr-n$1 vlan show dev "$2" | grep -qE "^($2)? +$3( |$)"; }               # N DEV VID
tunnel() { bridge -n vr-n$1 -d vlan tunnelshow dev vxlan0 | grep -qE "^(vxlan0)? +$2 +$3 *$"; } # N VID VNI
tunnel_vid() { bridge -n vr-n$1 -d vlan tunnelshow dev vxlan0 | grep -qE "^(vxlan0)? +$2 "; }    # N VID
# vxlan0 filters VNIs (`vnifilter`; ip -d link 6.1 prints it glued to the next word,
# "vnifilterid 0", so the JSON is asked)
vnifilter() { ip -n vr-n$1 -j -d link show dev vxlan0 | jq -e '.[0].linkinfo.info_data.vnifilter == true' >/dev/null; }
filtered() { bridge -n vr-n$1 vni show dev vxlan0 | grep -qE "^(vxlan0)? +$2( |$)"; } # N VNI
link_up() { ip -n vr-n$1 -o link show dev "$2" 2>/dev/null | grep -qE "<([A-Z_]+,)*UP[,>]"; }
link_gone() { ! ip -n vr-n$1 link show dev "$2" >/dev/null 2>&1; }
ping1() { nsx "vr-$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }
M2A=$(host_mac 10 2) M1B=$(host_mac 20 1) M2B=$(host_mac 20 2)
kernel_dump() { # FILE
	local i
	for i in 1 2; do
		dump "$1" bridge -n vr-n$i fdb show dev vxlan0
		dump "$1" ip -n vr-n$i -d neigh show
		dump "$1" bridge -n vr-n$i -d vlan show
		dump "$1" bridge -n vr-n$i -d vlan tunnelshow
		dump "$1" bridge -n vr-n$i vni show
		dump "$1" ip -n vr-n$i -br link show
	done
}

# h2a and h1a talk to the SVIs: n1 and n2 learn their MACs and IPs and advertise them
ping1 h2a 198.18.10.102
ping1 h1a 198.18.10.101
initial() {
	flood_row 1 10 $N2 && flood_row 1 10 $N3 && mac_row 1 "$M2A" 10 $N2 && neigh_row 1 10 198.18.10.2 "$M2A" && ping1 h1a 198.18.10.2
}
t=$(now)
if wait_until 40 initial; then
	pass start-vni10 "n1 holds the flood rows to n2 and n3 for VNI 10, h2a's MAC row and its SVI neighbour; h1a pings h2a ($(since "$t")s)"
else
	fail start-vni10 "n1's VNI 10 rows after 40 s: $(vni10_rows 1 | tr '\n' ';')"
	kernel_dump "$PT_OUT/kernel-start.txt"
	pt_finish
fi
kernel_dump "$PT_OUT/kernel-start.txt"

# The VLAN 10 ping that must not lose an echo through every reload below
pt_bg ip netns exec vr-h1a ping -n -i 0.05 198.18.10.2 >"$PT_OUT/ping-vlan10.txt" 2>&1
PING_PID=$PT_LAST_PID
sleep 1

# kept_sessions NAME: every session of n1, n2 and n3 is the one of the snapshot NAME
snap_sessions() { for i in 1 2 3; do sessions $i; done >"$PT_OUT/sessions-$1.txt"; }
kept_sessions() {
	local now
	now=$(for i in 1 2 3; do sessions $i; done)
	[ "$now" = "$(cat "$PT_OUT/sessions-$1.txt")" ] && ! grep -qE '=[A-Za-z]+@none|=(Idle|Connect|Active|OpenSent|OpenConfirm)@' <<<"$now"
}
sessions_detail() { echo "before: $(tr '\n' ' ' <"$PT_OUT/sessions-$1.txt"); now: $(for i in 1 2 3; do sessions $i; done | tr '\n' ' ')"; }
snap_rows() { vni10_rows 1 >"$PT_OUT/n1-vni10-$1.txt"; }
kept_rows() { # NAME CHECK
	local d
	d=$(diff "$PT_OUT/n1-vni10-$1.txt" <(vni10_rows 1))
	if [ -z "$d" ] && [ -s "$PT_OUT/n1-vni10-$1.txt" ]; then
		pass "$2" "n1's $(wc -l <"$PT_OUT/n1-vni10-$1.txt") VNI 10 rows (vxlan0 FDB, vlan10 neighbours) byte-identical"
	else
		fail "$2" "n1's VNI 10 rows changed: $(tr '\n' ';' <<<"$d")"
	fi
}
# answer CHECK TEXT: the last reload exited 0 and its answer lists TEXT
answer() {
	if [ $RELOAD_RC = 0 ] && [[ $RELOAD_OUT == *"$2"* ]]; then
		pass "$1" "exit 0: $RELOAD_OUT"
	else
		fail "$1" "exit $RELOAD_RC, want \"$2\" in the answer: $RELOAD_OUT"
	fi
}

# ================================================================ 1. add VNI 20
snap_sessions 1
snap_rows 1
gen1=$(generation 1) gen2=$(generation 2)
add_host 1 h1b 20 && add_host 2 h2b 20 || fail add-vni-hosts "hosts on VLAN 20"
VNIS[1]="10 20" VNIS[2]="10 20"
t=$(now)
apply 1 add-vni
answer add-vni-reload-n1 "VNI 20 (VLAN 20) added"
apply 2 add-vni
answer add-vni-reload-n2 "VNI 20 (VLAN 20) added"
n1_has_vlan20() { tagged 1 vxlan0 20 && tunnel 1 20 20; }
check_within add-vni-vxlan-vlan 20 n1_has_vlan20
check_within add-vni-svi 10 link_up 1 vlan20
if vnifilter 1; then
	check_within add-vni-filter 10 filtered 1 20
else
	pass add-vni-filter "vxlan0 has no vnifilter: nothing to add"
fi
check_within add-vni-bridge-vlan 10 member 1 br0 20
check_within add-vni-flood-row 20 flood_row 1 20 $N2
check_within add-vni-ping 30 ping1 h1b 198.18.20.2
check_within add-vni-mac-row 20 mac_row 1 "$M2B" 20 $N2
kept_rows 1 add-vni-vni10-rows-kept
kept_sessions 1 && pass add-vni-sessions-kept "established_at_ms of every session unchanged" || fail add-vni-sessions-kept "$(sessions_detail 1)"
g1=$(generation 1) g2=$(generation 2)
[ "$g1" -gt "$gen1" ] 2>/dev/null && [ "$g2" -gt "$gen2" ] 2>/dev/null &&
	pass add-vni-generation "n1 $gen1 -> $g1, n2 $gen2 -> $g2" || fail add-vni-generation "n1 $gen1 -> $g1, n2 $gen2 -> $g2"
pt_log "add-vni done in $(since "$t")s"
kernel_dump "$PT_OUT/kernel-after-add.txt"

# ================================================================ 2. route target change
t=$(now)
ping1 h1b 198.18.20.2
n2_has_n1_vni20() { flood_row 2 20 $N1 && mac_row 2 "$M1B" 20 $N1; }
n2_lacks_n1_vni20() { ! flood_row 2 20 $N1 && ! mac_row 2 "$M1B" 20 $N1; }
vni20_warnings() { ev_json n2 vnis | jq -r '.[] | select(.vni == 20) | .warnings[]' 2>/dev/null; }
if wait_until 20 n2_has_n1_vni20; then
	snap_sessions 2
	EXPORT20[1]=65000:2020
	apply 1 rt-change
	answer rt-change-reload "route targets"
	check_within rt-change-n2-rows-gone 20 n2_lacks_n1_vni20
	check_within rt-change-n2-warns 10 eval 'vni20_warnings | grep -q 65000:2020'
	[ -n "$(vni20_warnings)" ] && pt_log "n2's VNI 20 warning: $(vni20_warnings | head -1)"
	kept_sessions 2 && pass rt-change-sessions-kept "no session reset" || fail rt-change-sessions-kept "$(sessions_detail 2)"
	EXPORT20[1]=65000:20
	apply 1 rt-back
	answer rt-back-reload "route targets"
	ping1 h1b 198.18.20.2
	check_within rt-back-n2-rows-back 20 n2_has_n1_vni20
	check_within rt-back-no-warning 10 eval '[ -z "$(vni20_warnings)" ]'
	kept_sessions 2 && pass rt-back-sessions-kept "no session reset" || fail rt-back-sessions-kept "$(sessions_detail 2)"
else
	fail rt-change "n2 never held n1's VNI 20 flood row and h1b's MAC row, nothing to change (n2's rows: $(fdb 2 | grep 'src_vni 20' | tr '\n' ';'))"
fi
pt_log "rt-change done in $(since "$t")s"

# ================================================================ 3. remove VNI 20 from n1
t=$(now)
snap_sessions 3
snap_rows 3
VNIS[1]=10
apply 1 remove-vni
answer remove-vni-reload "VNI 20 (VLAN 20) removed"
n1_vlan20_gone() { ! member 1 vxlan0 20 && ! tunnel_vid 1 20 && ! member 1 br0 20; }
check_within remove-vni-vlan-gone 20 n1_vlan20_gone
check_within remove-vni-svi-gone 10 link_gone 1 vlan20
if vnifilter 1; then
	check_within remove-vni-filter 10 eval '! filtered 1 20'
else
	pass remove-vni-filter "vxlan0 has no vnifilter"
fi
no_vni20_rows() { ! fdb 1 | grep -qE " (src_vni|vlan) 20( |$)"; }
check_within remove-vni-n1-rows-gone 20 no_vni20_rows
check_within remove-vni-n2-flood-gone 20 eval '! flood_row 2 20 $N1'
kept_rows 3 remove-vni-vni10-rows-kept
kept_sessions 3 && pass remove-vni-sessions-kept "no session reset" || fail remove-vni-sessions-kept "$(sessions_detail 3)"
pt_log "remove-vni done in $(since "$t")s"
kernel_dump "$PT_OUT/kernel-after-remove.txt"

# ================================================================ 4. neighbour n2-n3 added and removed
t=$(now)
n12=$(up_at 1 $N2) n21=$(up_at 2 $N1)
n12_kept() { [ "$(up_at 1 $N2)" = "$n12" ] && [ "$(up_at 2 $N1)" = "$n21" ] && [ "$n12" != none ]; }
PEERS[3]="1:true 2:true"
apply 3 neighbour-add
answer neighbour-add-reload-n3 "neighbor $N2 added"
PEERS[2]="1:true 3:false"
apply 2 neighbour-add
answer neighbour-add-reload-n2 "neighbor $N3 added"
check_within neighbour-add-established 30 eval '[ "$(state_of 2 $N3)" = Established ] && [ "$(state_of 3 $N2)" = Established ]'
n12_kept && pass neighbour-add-n1-n2-kept "n1-n2 established_at_ms $n12 / $n21 unchanged" ||
	fail neighbour-add-n1-n2-kept "n1's n2: $n12 -> $(up_at 1 $N2), n2's n1: $n21 -> $(up_at 2 $N1)"
PEERS[2]="1:true"
apply 2 neighbour-remove
answer neighbour-remove-reload-n2 "neighbor $N3 removed"
PEERS[3]="1:true"
apply 3 neighbour-remove
answer neighbour-remove-reload-n3 "neighbor $N2 removed"
check_within neighbour-remove-gone 10 eval '! listed 2 $N3 && ! listed 3 $N2'
n12_kept && pass neighbour-remove-n1-n2-kept "n1-n2 established_at_ms unchanged" ||
	fail neighbour-remove-n1-n2-kept "n1's n2: $n12 -> $(up_at 1 $N2), n2's n1: $n21 -> $(up_at 2 $N1)"
pt_log "neighbour done in $(since "$t")s"

# ================================================================ 5. bad files
snap_rows 5
n1_vlans() { bridge -n vr-n1 -d vlan show; bridge -n vr-n1 vni show; }
n1_vlans >"$PT_OUT/n1-vlans-5.txt"
# refused CHECK KEY: the last reload (of n1) exited 2 naming KEY, nothing changed
refused() {
	local gen
	gen=$(generation 1)
	if [ $RELOAD_RC = 2 ] && [[ $RELOAD_OUT == *"$2"* ]] && [ "$gen" = "$gen5" ] &&
		diff -q "$PT_OUT/n1-vni10-5.txt" <(vni10_rows 1) >/dev/null && diff -q "$PT_OUT/n1-vlans-5.txt" <(n1_vlans) >/dev/null; then
		pass "$1" "exit 2, generation $gen still, kernel rows unchanged: $RELOAD_OUT"
	else
		fail "$1" "exit $RELOAD_RC, generation $gen5 -> $gen, rows changed: $(diff "$PT_OUT/n1-vni10-5.txt" <(vni10_rows 1) | tr '\n' ';'): $RELOAD_OUT"
	fi
}
gen5=$(generation 1)
EXTRA[1]='colour = "blue"'
apply 1 bad-key
refused bad-key colour
VNIS[1]="10 4095:30"
apply 1 bad-vlan
refused bad-vlan 'vtep.vnis[1].vlan'

# ================================================================ 6. the ping
kill -INT "$PING_PID" 2>/dev/null
wait_until 5 pid_gone "$PING_PID"
sent=$(sed -n 's/^\([0-9][0-9]*\) packets transmitted.*/\1/p' "$PT_OUT/ping-vlan10.txt")
if [[ $sent =~ ^[0-9]+$ ]] && [ "$sent" -gt 20 ]; then
	# echoes 1 .. sent-10 (the last 0.5 s may still be in flight when ping stops)
	judged=$((sent - 10))
	lost=$(awk -v n="$judged" '
		/bytes from/ && match($0, /icmp_seq=[0-9]+/) { s = substr($0, RSTART + 9, RLENGTH - 9) + 0; if (s <= n) got[s] = 1 }
		END { c = 0; for (i = 1; i <= n; i++) if (!(i in got)) c++; print c }' "$PT_OUT/ping-vlan10.txt")
	if [ "$lost" = 0 ]; then
		pass ping-loss "vlan10 lost $lost/$judged (h1a -> h2a at 20/s through every reload above)"
	else
		fail ping-loss "vlan10 lost $lost/$judged; $(tail -2 "$PT_OUT/ping-vlan10.txt" | tr '\n' ' ')"
	fi
else
	fail ping-loss "no ping statistics: $(tail -3 "$PT_OUT/ping-vlan10.txt" | tr '\n' ' ')"
fi

# ================================================================ 7. logs
bad=""
for i in 1 2 3; do
	pid_var=PID_n$i
	kill -0 "${!pid_var}" 2>/dev/null || bad="$bad n$i:not-running"
	c=$(grep -cE 'panicked|RUST_BACKTRACE' "$PT_RUN/vr-n$i/evpnd.log")
	[ "$c" != 0 ] && bad="$bad n$i:${c}x-panic"
done
errors=$(cat "$PT_RUN"/vr-n*/evpnd.log | grep -c ' ERROR ')
if [ -z "$bad" ]; then
	pass logs "no panic, the three evpnd running; $errors ERROR lines; $(cat "$PT_RUN"/vr-n*/evpnd.log | grep -c 'configuration reloaded') reloads applied, $(cat "$PT_RUN"/vr-n*/evpnd.log | grep -c 'reload refused') refused"
else
	fail logs "$bad; first: $(grep -hE 'panicked|RUST_BACKTRACE' "$PT_RUN"/vr-n*/evpnd.log | head -2)"
fi
pt_finish
