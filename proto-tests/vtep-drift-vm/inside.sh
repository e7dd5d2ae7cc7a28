#!/usr/bin/env bash
# vtep-drift-vm/inside.sh - runs INSIDE scripts/vm (root, Debian kernel with VLAN
# filtering), started by proto-tests/vtep-drift-vm.sh.
#
#          dr-ul: bridge ulsw (underlay)
#     dr-n1 198.19.0.1 (evpnd VTEP under test)   dr-n2 198.19.0.2 (evpnd VTEP, passive)
#     br0 (vlan_filtering 1, vlan_default_pvid 0) with one host port each; evpnd makes
#     vxlan0 (external, vnifilter), VLAN 10 <-> VNI 10, the SVI vlan10.
#     h1a: behind n1, 198.18.10.1/24 MAC 02:0a:00:00:00:01; h2a: behind n2, .2, :02
# n1 holds, from n2's routes: the flood row (00:00:00:00:00:00 dst 198.19.0.2 src_vni 10),
# both rows of h2a's MAC (vxlan0 self row, br0 master row) and the SVI neighbour
# 198.18.10.2. Then, one kind at a time, on n1 (a healthy full state is awaited in
# between, "state-after-<kind>"):
#   mac-vxlan-row   bridge fdb del <M2> dev vxlan0 dst 198.19.0.2 src_vni 10 self
#   mac-bridge-row  bridge fdb del <M2> dev vxlan0 vlan 10 master
#   flood-row       bridge fdb del 00:00:00:00:00:00 dev vxlan0 dst 198.19.0.2 src_vni 10 self
#   svi-neighbour   ip neigh del 198.18.10.2 dev vlan10
#   svi-neighbour-rewritten  ip neigh replace 198.18.10.2 lladdr <other> dev vlan10 nud noarp
#                   (another MAC, extern_learn gone)
#   vlan            bridge vlan del dev vxlan0 vid 10 (membership and tunnel_info)
#   tunnel-info     bridge vlan del dev vxlan0 vid 10 tunnel_info id 10
#   vni-filter      bridge vni del dev vxlan0 vni 10
#   bridge-vlan     bridge vlan del dev br0 vid 10 self
#   neigh-suppress  bridge link set dev vxlan0 neigh_suppress off
#   learning        bridge link set dev vxlan0 learning on
#   vlan-tunnel     bridge link set dev vxlan0 vlan_tunnel off
#   svi-down        ip link set vlan10 down (back up, and its neighbour back)
#   svi-deleted     ip link del vlan10 (re-created, same ifindex, neighbour back)
#   vxlan-down      ip link set vxlan0 down (back up, remote MAC rows back)
#   vxlan-deleted   ip link del vxlan0 (re-created, same ifindex, up, VLAN 10 mapped, the
#                   remote MAC's row back; then everything, as after each kind)
# Each prints "restored <kind> in N ms" (time from the change to the object being back,
# polled every 50 ms, and read from ip/bridge -ts monitor; the figure judged is the
# notifications' (without the polling's own cost, 150-400 ms a check in TCG), FAIL
# above DRIFT_LIMIT_MS, default 1000). Then:
#   ping            h1a pings h2a (the healed dataplane works)
#   drift-counter   evpnd_drift_repairs_total on n1 grew by at least one per kind
#   thread-restarts n1 runs with EVPND_FAULT_VTEP_PANIC=nl-events,nl-requests,topology,
#                   reconciler: the VTEP task started over from the kernel and the RIB;
#                   each of its VTEP threads panicked once during start-up; each was
#                   restarted, counted (evpnd_vtep_thread_restarts_total) and followed by
#                   a resync (everything above ran after that)
#   logs            no panic/ERROR beyond the injected ones, both evpnd running
set -uo pipefail
source "$(dirname "$0")/../lib/harness.sh"
pt_init vtep-drift-vm dr

EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
LIMIT=${DRIFT_LIMIT_MS:-1000}
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND"; pt_finish; }
for tool in jq ping bridge; do
	command -v $tool >/dev/null || { fail tools "$tool missing (scripts/install-deps.sh)"; pt_finish; }
done
M2=$(host_mac 10 2)
REMOTE=198.19.0.2
ev() { local n=$1; shift; "$EVPND" --socket "$PT_RUN/dr-$n/evpnd.sock" "$@"; }
ev_json() { ev "$1" show "$2" --json 2>/dev/null; }
ms_now() { date +%s%3N; }
FAULT_THREADS=nl-events,nl-requests,topology,reconciler

# ---------------------------------------------------------------- topology
t=$(now)
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.core.devconf_inherit_init_net=1
for ns in dr-ul dr-n1 dr-n2 dr-h1a dr-h2a; do
	ip netns add $ns || { fail topology "ip netns add $ns"; pt_finish; }
	PT_NS+=($ns)
	echo "link set lo up" | ip -n $ns -batch -
done
printf 'link add ulsw mtu 1600 type bridge\nlink set ulsw up\n' | ip -n dr-ul -batch -
for i in 1 2; do
	printf 'link add p-n%s mtu 1600 type veth peer name eth0 mtu 1600 netns dr-n%s\nlink set p-n%s master ulsw up\n' $i $i $i | ip -n dr-ul -batch -
	printf 'addr add 198.19.0.%s/24 dev eth0\nlink set eth0 up\n' $i | ip -n dr-n$i -batch -
	{
		echo "link add br0 address 02:b0:00:00:00:0$i type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0"
		echo "link set br0 up"
		echo "link add h${i}a type veth peer name eth0 netns dr-h${i}a"
		echo "link set h${i}a master br0 up"
	} | ip -n dr-n$i -batch -
	bridge -n dr-n$i vlan add dev h${i}a vid 10 pvid untagged
	printf 'link set eth0 address %s\naddr add %s/24 dev eth0\nlink set eth0 up\n' "$(host_mac 10 $i)" "$(host_ip 10 $i)" | ip -n dr-h${i}a -batch -
done
pt_log "topology built in $(since "$t")s"

# ---------------------------------------------------------------- evpnd x2
vtep_conf() { # N PEER PASSIVE
	local i=$1 peer=$2 passive=$3
	cat <<-CONF
	[bgp]
	asn = 65000
	router_id = "198.19.0.$i"
	listen = ["198.19.0.$i"]
	hold_time = 9
	keepalive = 3
	connect_retry = 2
	families = ["l2vpn-evpn"]

	[[neighbors]]
	address = "198.19.0.$peer"
	remote_as = 65000
	local_address = "198.19.0.$i"
	passive = $passive

	[vtep]
	dataplane = "linux"
	bridge = "br0"
	vxlan_device = "vxlan0"
	local_ip = "198.19.0.$i"
	vxlan_port = 4789
	bridge_mac = "02:b0:00:00:00:0$i"

	[[vtep.vnis]]
	vlan = 10
	vni = 10

	[control]
	socket = "$PT_RUN/dr-n$i/evpnd.sock"
	mode = "0600"

	[log]
	level = "debug"
	format = "text"

	[metrics]
	listen = "127.0.0.1:9100"
	CONF
}
t=$(now)
for i in 2 1; do
	mkdir -p "$PT_RUN/dr-n$i"
	if [ $i = 1 ]; then vtep_conf 1 2 false; else vtep_conf 2 1 true; fi >"$PT_RUN/dr-n$i/evpnd.toml"
	# n1's three VTEP threads each panic once, the first time they have work (before
	# the drift tests): they must restart, re-read the kernel and heal as if nothing was
	fault=""
	[ $i = 1 ] && fault=$FAULT_THREADS
	pt_bg ip netns exec dr-n$i env NO_COLOR=1 EVPND_FAULT_VTEP_PANIC="$fault" "$EVPND" run --config "$PT_RUN/dr-n$i/evpnd.toml" >"$PT_RUN/dr-n$i/evpnd.log" 2>&1
	eval "PID_n$i=$PT_LAST_PID"
done
for i in 1 2; do
	wait_until 30 ev n$i show neighbors ||
		{ fail evpnd-start "n$i: control socket not answering after 30 s: $(tail -3 "$PT_RUN/dr-n$i/evpnd.log")"; pt_finish; }
done
for i in 1 2; do ip -n dr-n$i addr add 198.18.10.10$i/24 dev vlan10; done
established() { [ "$(ev_json n1 neighbors | jq '[.[] | select(.state == "Established")] | length')" = 1 ]; }
wait_until 60 established || { fail session "n1-n2 not Established after 60 s: $(ev_json n1 neighbors | jq -c '[.[] | {address, state, last_error}]')"; pt_finish; }
# h2a talks to n2's SVI: n2 learns its MAC and IP and advertises them
nsx dr-h2a ping -c 1 -W 3 198.18.10.102 >/dev/null
nsx dr-h1a ping -c 1 -W 3 198.18.10.101 >/dev/null

# ---------------------------------------------------------------- what n1 must hold
# Each predicate is one iproute2 call and one grep: in the TCG VM every process costs
# tens of ms, and the poll should measure evpnd, not jq.
fdb() { bridge -n dr-n1 fdb show dev vxlan0; }
has_mac_self() { fdb | grep -qE "^$M2 dst $REMOTE src_vni 10 self extern_learn *$"; }
has_mac_master() { fdb | grep -qE "^$M2 vlan 10 extern_learn master br0 *$"; }
has_flood() { fdb | grep -qE "^00:00:00:00:00:00 dst $REMOTE src_vni 10 self( extern_learn)? permanent *$"; }
has_neigh() { ip -n dr-n1 neigh show dev vlan10 2>/dev/null | grep -qE "^198\.18\.10\.2 lladdr $M2 extern_learn NOARP( proto [a-z0-9]+)? *$"; }
# tagged: no PVID / Egress Untagged after the VID
has_vlan() { bridge -n dr-n1 vlan show dev vxlan0 | grep -qE "^(vxlan0)? +10 *$"; }
has_tunnel() { bridge -n dr-n1 -d vlan tunnelshow dev vxlan0 | grep -qE "^(vxlan0)? +10 +10 *$"; }
has_vni() { bridge -n dr-n1 vni show dev vxlan0 | grep -qE "^(vxlan0)? +10( |$)"; }
has_bridge_vlan() { bridge -n dr-n1 vlan show dev br0 | grep -qE "^(br0)? +10( |$)"; }
port() { bridge -n dr-n1 -d link show dev vxlan0; }
has_suppress() { port | grep -q 'neigh_suppress on'; }
has_nolearning() { port | grep -q 'learning off'; }
has_vlan_tunnel() { port | grep -q 'vlan_tunnel on'; }
link_ok() { # NAME IFINDEX: exists with that index, administratively up
	ip -n dr-n1 -o link show dev "$1" 2>/dev/null | grep -qE "^$2: $1(@[a-z0-9]+)?: <([A-Z_]+,)*UP[,>]"
}
ifindex() { ip -n dr-n1 -o link show dev "$1" | cut -d: -f1; }
all_ok() {
	has_mac_self && has_mac_master && has_flood && has_neigh && has_vlan && has_tunnel && has_vni &&
		has_bridge_vlan && has_suppress && has_nolearning && has_vlan_tunnel &&
		link_ok vlan10 "$SVI_IDX" && link_ok vxlan0 "$VX_IDX"
}
what_is_missing() {
	local f out=""
	for f in has_mac_self has_mac_master has_flood has_neigh has_vlan has_tunnel has_vni has_bridge_vlan has_suppress has_nolearning has_vlan_tunnel; do
		$f || out="$out ${f#has_}"
	done
	link_ok vlan10 "$SVI_IDX" || out="$out svi"
	link_ok vxlan0 "$VX_IDX" || out="$out vxlan0"
	echo "${out:- nothing}"
}
SVI_IDX=$(ifindex vlan10)
VX_IDX=$(ifindex vxlan0)
t=$(now)
if wait_until 30 all_ok; then
	pass initial-state "n1 holds h2a's two MAC rows, the flood row to $REMOTE, the SVI neighbour 198.18.10.2, VLAN 10 + tunnel_info + VNI filter, port flags ($(since "$t")s)"
else
	fail initial-state "missing on n1 after 30 s:$(what_is_missing)"
	dump "$PT_OUT/n1-initial.txt" bridge -n dr-n1 fdb show dev vxlan0
	dump "$PT_OUT/n1-initial.txt" ip -n dr-n1 -d neigh show
	pt_finish
fi
dump "$PT_OUT/n1-kernel.txt" bridge -n dr-n1 fdb show dev vxlan0
dump "$PT_OUT/n1-kernel.txt" ip -n dr-n1 -d neigh show dev vlan10
dump "$PT_OUT/n1-kernel.txt" bridge -n dr-n1 -d link show
dump "$PT_OUT/n1-kernel.txt" bridge -n dr-n1 -d vlan tunnelshow
dump "$PT_OUT/n1-kernel.txt" bridge -n dr-n1 vni show

# Kernel-side timing: every link/neighbour/fdb/VLAN/VNI notification of n1 with its
# time (-ts), so the restore time can also be read without the polling's own cost.
pt_bg ip -n dr-n1 -ts monitor link neigh >"$PT_OUT/n1-monitor-ip.txt" 2>&1
# (ip monitor has no VNI filter events; bridge 6.1 knows -timestamp, not -ts)
pt_bg bridge -n dr-n1 -timestamp monitor vni >"$PT_OUT/n1-monitor-bridge.txt" 2>&1
sleep 1
# kernel_ms T0 T3 [REGEX] (epoch ms): how long the object was missing as the
# notifications tell it, without the polling's own cost: from the first notification at
# or after T0 (the change itself) to the first one after it whose text (after the
# timestamp) matches REGEX, the object's own return; without REGEX, or when none
# matches, to the last notification before T3 (when the check that found the object
# back ended; an upper bound: echoes of other repairs count too). The monitors stamp
# what they read, so a monitor starved of CPU can shift both ends.
kernel_ms() {
	local day0
	day0=$(($(date -d "$(date +%F)" +%s) * 1000)) # local midnight: the stamps are local time
	{
		cat "$PT_OUT/n1-monitor-ip.txt"
		# "Timestamp: Fri Dec  4 16:21:56 2026 475335 usec", then the event
		awk '/^Timestamp: / { split($5, t, ":"); printf "[%s:%s:%s.%06d] bridge\n", t[1], t[2], t[3], $7; next }' "$PT_OUT/n1-monitor-bridge.txt"
	} 2>/dev/null | awk -v d="$day0" -v a="$1" -v b="$2" -v re="${3:-}" '
		match($0, /^\[([0-9-]+T)?[0-9]+:[0-9]+:[0-9.]+\]/) {
			stamp = substr($0, 2, RLENGTH - 2); sub(/^[0-9-]+T/, "", stamp)
			split(stamp, t, ":")
			ms = d + int(t[1] * 3600000 + t[2] * 60000 + t[3] * 1000)
			text = substr($0, RLENGTH + 2)
			if (ms < a || ms > b) next
			if (!f) f = ms
			if (ms > l) l = ms
			if (re != "" && !hit && text ~ re) hit = ms
		}
		END { if (!f) print "?"; else if (hit) print hit - f; else print l - f }'
}

scrape() { ip netns exec dr-n$1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9100 && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3' | tr -d '\r'; }
repairs() { scrape 1 | awk '$1 == "evpnd_drift_repairs_total" { print $2 }'; }
REPAIRS0=$(repairs)
# The injected panics happened during start-up: each thread counted once, restarted,
# and the VTEP re-read the kernel after each (initial-state above passed after them).
restarts() { scrape 1 | awk -v t="$1" '$1 == "evpnd_vtep_thread_restarts_total{thread=\"" t "\"}" { print $2 }'; }
got="" want=""
for th in ${FAULT_THREADS//,/ }; do
	got="$got $th=$(restarts $th)" want="$want $th=1"
done
resyncs=$(grep -c "re-reading the kernel's EVPN state.*restarted after a panic" "$PT_RUN/dr-n1/evpnd.log")
panics=$(grep -c 'a VTEP thread panicked' "$PT_RUN/dr-n1/evpnd.log")
task_panics=$(grep -c 'the VTEP task panicked' "$PT_RUN/dr-n1/evpnd.log")
if [ "$got" = "$want" ] && [ "$resyncs" = 3 ] && [ "$panics" = 3 ] && [ "$task_panics" = 1 ]; then
	pass thread-restarts "EVPND_FAULT_VTEP_PANIC=$FAULT_THREADS on n1: evpnd_vtep_thread_restarts_total$got, $panics thread panics logged and $resyncs resyncs after them, 1 VTEP task panic (started over from the kernel and the RIB's table); n1 kept running and reached the full state"
else
	fail thread-restarts "evpnd_vtep_thread_restarts_total:$got (want$want); thread panics logged: $panics, resyncs after a restart: $resyncs (want 3 each); VTEP task panics: $task_panics (want 1)"
fi

# ---------------------------------------------------------------- one kind at a time
# drift KIND "WHAT IS BACK" CHANGE...: make the change, poll the predicate every 50 ms
# (eval'd) until it holds (at most 10 s), report the time; then await the full state.
KINDS=0
drift() {
	# BACK_RE (optional, set for the call): the notification of the object's return
	local kind=$1 back=$2 t0 t1 t2 t3 ms km cost ok=0; shift 2
	KINDS=$((KINDS + 1))
	sleep 0.3 # a quiet gap in the monitors before the change
	t0=$(ms_now)
	if ! "$@" 2>>"$PT_OUT/checks.log"; then
		fail "$kind" "the change itself failed: $*"
		return
	fi
	# polled from the moment the change command returned (the change is done by then)
	t1=$(ms_now)
	while :; do
		t2=$(ms_now)
		if eval "$back" >/dev/null 2>&1; then ok=1; break; fi
		[ $((t2 - t1)) -gt 10000 ] && break
		sleep 0.05
	done
	t3=$(ms_now)
	ms=$((t3 - t1)) cost=$((t3 - t2))
	if [ $ok = 1 ]; then
		sleep 0.2 # let the monitors write
		km=$(kernel_ms "$t0" "$t3" "${BACK_RE:-}")
		echo "$kind poll=$ms kernel=$km change=$((t1 - t0)) check=$cost" >>"$PT_OUT/restore-times.txt"
		# The figure judged: the notifications' when they tell it, else the polling's.
		local n=$ms how="polling"
		[[ $km =~ ^[0-9]+$ ]] && n=$km how="kernel notifications"
		echo "restored $kind in $n ms"
		local detail="restored $kind in $n ms ($how); by polling every 50 ms from the end of the change: back after $ms ms (one check costs $cost ms here, the change command took $((t1 - t0)) ms); notifications: ${km} ms (after: $*)"
		if [ "$n" -le "$LIMIT" ]; then
			pass "$kind" "$detail"
		else
			fail "$kind" "$detail: over ${LIMIT} ms"
		fi
	else
		echo "$kind never" >>"$PT_OUT/restore-times.txt"
		fail "$kind" "not restored within 10 s after: $*; missing:$(what_is_missing)"
	fi
	if ! wait_until 5 all_ok; then
		fail "state-after-$kind" "5 s after $kind was restored, still missing:$(what_is_missing)"
		dump "$PT_OUT/n1-after-$kind.txt" bridge -n dr-n1 fdb show dev vxlan0
		dump "$PT_OUT/n1-after-$kind.txt" ip -n dr-n1 -d neigh show
		dump "$PT_OUT/n1-after-$kind.txt" bridge -n dr-n1 -d vlan show
		dump "$PT_OUT/n1-after-$kind.txt" ip -n dr-n1 -d link show
	fi
}
: >"$PT_OUT/restore-times.txt"
# The return of each row as ip monitor prints it (FDB rows in neighbour form: the vxlan
# row with its remote as the address, the bridge row without one)
SELF_RE="^$REMOTE dev vxlan0 lladdr $M2 extern_learn"
MASTER_RE="^dev vxlan0 lladdr $M2 extern_learn"
NEIGH_RE="^198[.]18[.]10[.]2 dev vlan10 lladdr $M2 extern_learn NOARP"
BACK_RE=$SELF_RE drift mac-vxlan-row has_mac_self bridge -n dr-n1 fdb del "$M2" dev vxlan0 dst $REMOTE src_vni 10 self
BACK_RE=$MASTER_RE drift mac-bridge-row has_mac_master bridge -n dr-n1 fdb del "$M2" dev vxlan0 vlan 10 master
BACK_RE="^$REMOTE dev vxlan0 lladdr 00:00:00:00:00:00 extern_learn" drift flood-row has_flood bridge -n dr-n1 fdb del 00:00:00:00:00:00 dev vxlan0 dst $REMOTE src_vni 10 self
BACK_RE=$NEIGH_RE drift svi-neighbour has_neigh ip -n dr-n1 neigh del 198.18.10.2 dev vlan10
BACK_RE=$NEIGH_RE drift svi-neighbour-rewritten has_neigh ip -n dr-n1 neigh replace 198.18.10.2 lladdr 02:0a:00:00:00:99 dev vlan10 nud noarp
drift vlan "has_vlan && has_tunnel" bridge -n dr-n1 vlan del dev vxlan0 vid 10
drift tunnel-info has_tunnel bridge -n dr-n1 vlan del dev vxlan0 vid 10 tunnel_info id 10
drift vni-filter has_vni bridge -n dr-n1 vni delete dev vxlan0 vni 10
drift bridge-vlan has_bridge_vlan bridge -n dr-n1 vlan del dev br0 vid 10 self
drift neigh-suppress has_suppress bridge -n dr-n1 link set dev vxlan0 neigh_suppress off
drift learning has_nolearning bridge -n dr-n1 link set dev vxlan0 learning on
drift vlan-tunnel has_vlan_tunnel bridge -n dr-n1 link set dev vxlan0 vlan_tunnel off
BACK_RE=$NEIGH_RE drift svi-down "link_ok vlan10 $SVI_IDX && has_neigh" ip -n dr-n1 link set vlan10 down
BACK_RE=$NEIGH_RE drift svi-deleted "link_ok vlan10 $SVI_IDX && has_neigh" ip -n dr-n1 link del vlan10
BACK_RE=$SELF_RE drift vxlan-down "link_ok vxlan0 $VX_IDX && has_mac_self && has_mac_master" ip -n dr-n1 link set vxlan0 down
# (the full state, port flags, VLANs and the rest, is awaited right after, as for every kind)
BACK_RE=$SELF_RE drift vxlan-deleted "link_ok vxlan0 $VX_IDX && has_tunnel && has_mac_self" ip -n dr-n1 link del vxlan0

# ---------------------------------------------------------------- afterwards
if nsx dr-h1a ping -c 2 -i 0.3 -W 3 198.18.10.2 >>"$PT_OUT/checks.log" 2>&1; then
	pass ping "h1a -> h2a (198.18.10.2) over the healed VTEP"
else
	fail ping "h1a cannot ping h2a after the drift tests; n1 missing:$(what_is_missing)"
fi
REPAIRS1=$(repairs)
if [[ $REPAIRS0 =~ ^[0-9]+$ ]] && [[ $REPAIRS1 =~ ^[0-9]+$ ]] && [ $((REPAIRS1 - REPAIRS0)) -ge $KINDS ]; then
	pass drift-counter "evpnd_drift_repairs_total on n1: $REPAIRS0 -> $REPAIRS1 over $KINDS kinds"
else
	fail drift-counter "evpnd_drift_repairs_total on n1: '$REPAIRS0' -> '$REPAIRS1', want at least +$KINDS"
fi
bad=""
for i in 1 2; do
	L=$PT_RUN/dr-n$i/evpnd.log
	pid_var=PID_n$i
	kill -0 "${!pid_var}" 2>/dev/null || bad="$bad n$i:not-running"
	# the injected panics (three lines each: the hook's two, evpnd's ERROR) aside
	c=$(grep -E 'panicked|RUST_BACKTRACE| ERROR ' "$L" | grep -cvE "^thread '(evpnd-[a-z-]+|tokio-[a-z-]+)'( \([0-9]+\))? panicked at src/vtep/|^note: run with .RUST_BACKTRACE|EVPND_FAULT_VTEP_PANIC")
	[ "$c" != 0 ] && bad="$bad n$i:${c}x(panic|ERROR)"
done
grep -E 'restor|drift|re-reading' "$PT_RUN/dr-n1/evpnd.log" >"$PT_OUT/n1-drift-log.txt"
if [ -z "$bad" ]; then
	pass logs "no panic, no ERROR, both evpnd running; n1 logged $(grep -c 'restor' "$PT_OUT/n1-drift-log.txt") repairs (n1-drift-log.txt)"
else
	fail logs "$bad; first: $(grep -hE 'panicked|RUST_BACKTRACE| ERROR ' "$PT_RUN"/dr-n*/evpnd.log | grep -vE "^thread '(evpnd-[a-z-]+|tokio-[a-z-]+)'( \([0-9]+\))? panicked at src/vtep/|^note: run with .RUST_BACKTRACE|EVPND_FAULT_VTEP_PANIC" | head -2)"
fi
pt_log "restore times (ms): $(tr '\n' ' ' <"$PT_OUT/restore-times.txt")"
pt_finish
