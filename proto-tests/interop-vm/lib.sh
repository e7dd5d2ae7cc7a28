# proto-tests/interop-vm/lib.sh - mixed FRR / evpnd / GoBGP / ExaBGP overlays for the
# interop suite, and the checks every scenario runs. Sourced by interop-vm/s*.sh, which
# run INSIDE scripts/vm (VLAN-aware bridges need Debian's kernel).
#
# A scenario declares its nodes, then builds and checks:
#   ix_init s1-evpnd-rr ixa
#   ix_node rr evpnd-rr   198.19.0.4 "n1 n2 n3"
#   ix_node n1 frr-vtep   198.19.0.1 "rr"
#   ...
#   ix_build && ix_standard_checks; ix_check_logs; pt_finish
#
# Node kinds: evpnd-rr, frr-rr (reflectors: peers that are reflectors too are plain
# iBGP peers, the others passive clients), evpnd-vtep, frr-vtep (VTEP n<I>, peers =
# its reflectors), gobgp, exabgp (namespace + underlay only; the scenario starts them).
# Every VTEP n<I> is a VLAN-aware br0 with VLAN V <-> VNI V for V in its VNIs, an SVI
# vlan<V> (198.18.V.10<I>/24) and, for V in 10 11, a host h<I>a (VLAN 10) / h<I>b
# (VLAN 11) at host_ip/host_mac V I. FRR 8.4 VTEPs use one vxlan device per VNI in br0
# (docs/lab.md: it cannot drive a single external device); evpnd VTEPs get evpnd's single
# external vxlan0. Everyone is in AS 65000 on the underlay 198.19.0.0/24.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

IX_LIB=$REPO_ROOT/proto-tests/lib
EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
export FRR_VTEP_MODEL=vlan-aware
IX_NODES=()
declare -A IX_KIND IX_IP IX_PEERS IX_VNIS IX_PID
# Explicit route targets per VNI (import = export), for evpnd VTEPs and FRR VTEPs
# separately; a VNI without one uses the auto RT AS:VNI on both (RFC 7432 7.10.1).
declare -A IX_RT_EVPND IX_RT_FRR
# Extra lines inside "router bgp" of an FRR node, e.g. " bgp graceful-restart".
declare -A IX_FRR_BGP
IX_CLUSTER=""             # reflectors' cluster id (default: their router id)
IX_HOST_VNIS="10 11"      # VNIs with hosts
IX_EXTRA_ROUTES=""        # more expected routes (projection form, see ix_project)

# ix_init NAME PREFIX: pt_init, checks named "NAME/check", tools present
ix_init() {
	pt_init "$1" "$2"
	PT_CHECK_PREFIX="$1/"
	local tool
	for tool in tcpdump arping jq ping python3 vtysh; do
		command -v $tool >/dev/null || { fail tools "$tool missing (scripts/install-deps.sh)"; pt_finish; }
	done
	[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND"; pt_finish; }
	if arping --help 2>&1 | grep -q Habets; then ARPING_IF=-i; else ARPING_IF=-I; fi
	# throw-away VM: new namespaces inherit IPv6 off (no ND/MLD noise in captures)
	sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.core.devconf_inherit_init_net=1
}

# ix_node NAME KIND IP "PEER..." ["VNI..."]: declare a node (VTEP names are n<I>)
ix_node() {
	IX_NODES+=("$1")
	IX_KIND[$1]=$2 IX_IP[$1]=$3 IX_PEERS[$1]=$4 IX_VNIS[$1]=${5:-10 11}
}
ix_ns() { echo "$PT_PREFIX-$1"; }
ix_is_vtep() { [[ ${IX_KIND[$1]} == *-vtep ]]; }
ix_is_rr() { [[ ${IX_KIND[$1]} == *-rr ]]; }
ix_nodes_of() { local n; for n in "${IX_NODES[@]}"; do [[ ${IX_KIND[$n]} == $1 ]] && echo "$n"; done; } # glob
ix_vteps() { ix_nodes_of '*-vtep'; }
ix_index() { echo "${1#n}"; }
ix_peer_ips() { local p; for p in ${IX_PEERS[$1]}; do echo "${IX_IP[$p]}"; done; }
ev() { local n=$1; shift; "$EVPND" --socket "$PT_RUN/$(ix_ns "$n")/evpnd.sock" "$@"; }
ev_json() { ev "$1" show "$2" --json 2>/dev/null; }
# the FRR VTEP/RR's label in messages
ix_label() { echo "$1 (${IX_KIND[$1]%%-*} ${IX_IP[$1]})"; }

# ---------------------------------------------------------------- configuration
ix_evpnd_conf() {
	local n=$1 ip=${IX_IP[$1]} p rr=0 v
	ix_is_rr "$n" && rr=1
	cat <<-EOF
	[bgp]
	asn = 65000
	router_id = "$ip"
	listen = ["$ip"]
	hold_time = 9
	keepalive = 3
	connect_retry = 2
	families = ["l2vpn-evpn"]
	EOF
	[ $rr = 1 ] && echo "cluster_id = \"${IX_CLUSTER:-$ip}\""
	for p in ${IX_PEERS[$n]}; do
		printf '\n[[neighbors]]\naddress = "%s"\nremote_as = 65000\ndescription = "%s"\nlocal_address = "%s"\n' "${IX_IP[$p]}" "$p" "$ip"
		# clients open the sessions to their reflectors: no collisions at start-up
		[ $rr = 1 ] && ! ix_is_rr "$p" && printf 'route_reflector_client = true\npassive = true\n'
	done
	if ix_is_vtep "$n"; then
		cat <<-EOF

		[vtep]
		dataplane = "linux"
		bridge = "br0"
		vxlan_device = "vxlan0"
		local_ip = "$ip"
		vxlan_port = 4789
		bridge_mac = "$(printf '02:b0:00:00:00:%02x' "${ip##*.}")"
		EOF
		for v in ${IX_VNIS[$n]}; do
			printf '\n[[vtep.vnis]]\nvlan = %s\nvni = %s\n' "$v" "$v"
			[ -n "${IX_RT_EVPND[$v]:-}" ] && printf 'import_rts = ["%s"]\nexport_rts = ["%s"]\n' "${IX_RT_EVPND[$v]}" "${IX_RT_EVPND[$v]}"
		done
	fi
	printf '\n[control]\nsocket = "%s"\nmode = "0600"\n\n[log]\nlevel = "debug"\nformat = "text"\n' "$PT_RUN/$(ix_ns "$n")/evpnd.sock"
}

ix_frr_conf() {
	local n=$1 p v clients="" others=""
	if ix_is_rr "$n"; then
		for p in ${IX_PEERS[$n]}; do
			if ix_is_rr "$p"; then others+="${IX_IP[$p]},"; else clients+="${IX_IP[$p]},"; fi
		done
		FRR_EXTRA_BGP=${IX_FRR_BGP[$n]:-} frr_rr_conf "${IX_IP[$n]}" "${IX_CLUSTER:-${IX_IP[$n]}}" "$clients" "$others"
	else
		local evpn=""
		for v in ${IX_VNIS[$n]}; do
			[ -n "${IX_RT_FRR[$v]:-}" ] &&
				evpn+="  vni $v"$'\n'"   route-target import ${IX_RT_FRR[$v]}"$'\n'"   route-target export ${IX_RT_FRR[$v]}"$'\n'"  exit-vni"$'\n'
		done
		FRR_EXTRA_BGP=${IX_FRR_BGP[$n]:-} FRR_EXTRA_EVPN=${evpn%$'\n'} frr_vtep_conf "${IX_IP[$n]}" $(ix_peer_ips "$n")
	fi
}

# ---------------------------------------------------------------- build
# ix_build: underlay, VTEP bridges and hosts, then the daemons (reflectors first, so
# the clients' first connect finds them listening), SVI addresses. Returns 1 (after a
# FAIL line) if something did not come up.
ix_build() {
	local n ns i v t pids=() rc
	t=$(now)
	underlay_create
	for n in "${IX_NODES[@]}"; do
		ns=$(ix_ns "$n")
		ns_add "$ns"
		underlay_attach "$ns" "${IX_IP[$n]}/24"
		mkdir -p "$PT_RUN/$ns"
		ix_is_vtep "$n" || continue
		i=$(ix_index "$n")
		if [ "${IX_KIND[$n]}" = frr-vtep ]; then
			vxlan_per_vni_vlan_aware "$ns" "${IX_IP[$n]}" ${IX_VNIS[$n]}
		else
			ip -n "$ns" link add br0 address "$(printf '02:b0:00:00:00:%02x' "${IX_IP[$n]##*.}")" type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0
			ip -n "$ns" link set br0 up
		fi
		for v in $IX_HOST_VNIS; do
			host_attach "$ns" br0 "$(ix_host "$n" "$v")" "$(host_ip "$v" "$i")/24" "$(host_mac "$v" "$i")" "$v"
			nsx "$(ix_host "$n" "$v")" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
		done
	done
	pt_log "topology built in $(since "$t")s"
	t=$(now)
	for n in $(ix_nodes_of '*-rr') $(ix_vteps); do
		ns=$(ix_ns "$n")
		case ${IX_KIND[$n]} in
		evpnd-*)
			ix_evpnd_conf "$n" >"$PT_RUN/$ns/evpnd.toml"
			ix_evpnd_start "$n" || return 1
			;;
		frr-*)
			ix_frr_conf "$n" >"$PT_RUN/$ns.conf"
			# zebra + bgpd start slowly in the VM: all FRR nodes at once
			PT_FRR_NS+=("$ns")
			frr_start "$ns" "$PT_RUN/$ns.conf" & pids+=($!)
			;;
		esac
	done
	rc=0
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	[ $rc = 0 ] || { PT_NFAIL=$((PT_NFAIL + 1)); return 1; } # frr_start printed the FAIL line
	for n in $(ix_nodes_of 'evpnd-*'); do
		wait_until 30 ev "$n" show neighbors ||
			{ fail evpnd-start "$n: control socket not answering after 30 s: $(tail -3 "$PT_RUN/$(ix_ns "$n")/evpnd.log")"; return 1; }
	done
	pt_log "daemons answering $(since "$t")s after start"
	# SVI addresses: FRR/zebra and evpnd learn local MAC+IP bindings from the SVIs'
	# ARP tables (evpnd creates its SVIs; wait for them)
	for n in $(ix_vteps); do
		ns=$(ix_ns "$n") i=$(ix_index "$n")
		for v in ${IX_VNIS[$n]}; do
			wait_until 20 ip -n "$ns" link show "vlan$v" >/dev/null 2>&1 ||
				{ fail svi "$n: no SVI vlan$v after 20 s: $(ip -n "$ns" -br link | paste -sd' ' -)"; return 1; }
			ip -n "$ns" addr add "198.18.$v.$((100 + i))/24" dev "vlan$v"
		done
	done
}
ix_host() { echo "$PT_PREFIX-h$(ix_index "$1")$([ "$2" = 10 ] && echo a || echo b)"; }

# ix_evpnd_start NODE: start (or restart) NODE's evpnd with its config
ix_evpnd_start() {
	local n=$1 ns; ns=$(ix_ns "$1")
	pt_bg ip netns exec "$ns" env NO_COLOR=1 "$EVPND" run --config "$PT_RUN/$ns/evpnd.toml" >>"$PT_RUN/$ns/evpnd.log" 2>&1
	IX_PID[$n]=$PT_LAST_PID
}
# ix_evpnd_stop NODE: SIGTERM (evpnd closes its sessions with a Cease), wait for exit
ix_evpnd_stop() { kill "${IX_PID[$1]}" 2>/dev/null; wait_until 10 pid_gone "${IX_PID[$1]}" || kill -9 "${IX_PID[$1]}"; }

# ---------------------------------------------------------------- sessions
ix_node_sessions() { # NODE: "established/configured"
	local n=$1 ns p up=0 total=0; ns=$(ix_ns "$1")
	for p in $(ix_peer_ips "$n"); do
		total=$((total + 1))
		case ${IX_KIND[$n]} in
		evpnd-*) [ "$(ev_json "$n" neighbors | jq -r --arg a "$p" '.[] | select(.address == $a) | .state')" = Established ] && up=$((up + 1)) ;;
		frr-*) frr_established "$ns" "$p" && up=$((up + 1)) ;;
		gobgp) gobgp_established "$ns" "$p" && up=$((up + 1)) ;;
		*) up=$((up + 1)) ;; # exabgp: checked from its peers' side
		esac
	done
	echo "$up/$total"
}
ix_sessions_up() {
	local n s
	for n in "${IX_NODES[@]}"; do s=$(ix_node_sessions "$n"); [ "${s%/*}" = "${s#*/}" ] || return 1; done
}
ix_check_sessions() { # [TIMEOUT] [TAG]
	local t n detail="" tag=${2:-sessions}; t=$(now)
	if wait_until "${1:-60}" ix_sessions_up; then
		for n in "${IX_NODES[@]}"; do detail+="$n $(ix_node_sessions "$n"), "; done
		pass "$tag" "every configured session Established (${detail%, }) after $(since "$t")s"
	else
		for n in "${IX_NODES[@]}"; do detail+="$(ix_label "$n") $(ix_node_sessions "$n"), "; done
		fail "$tag" "not all Established after $(since "$t")s: ${detail%, }"
		return 1
	fi
}

# ix_learn: each host pings its SVI once, so every VTEP learns its hosts' MAC and IP
ix_learn() {
	local n v pids=()
	for n in $(ix_vteps); do
		for v in $IX_HOST_VNIS; do
			nsx "$(ix_host "$n" "$v")" ping -c1 -W3 "198.18.$v.$((100 + $(ix_index "$n")))" >/dev/null & pids+=($!)
		done
	done
	wait "${pids[@]}"
}

# ---------------------------------------------------------------- routes
# ix_routes NODE: NODE's EVPN routes (types 2 and 3) as lib/evpn-routes.py lines
ix_routes() {
	local n=$1 ns; ns=$(ix_ns "$1")
	case ${IX_KIND[$n]} in
	evpnd-*) ev_json "$n" routes | python3 "$IX_LIB/evpn-routes.py" evpnd --types 2,3 ;;
	frr-*) frr_vtysh "$ns" 'show bgp l2vpn evpn route detail json' | python3 "$IX_LIB/evpn-routes.py" frr --types 2,3 ;;
	gobgp) gobgp_cli "$ns" global rib -a evpn -j | python3 "$IX_LIB/evpn-routes.py" gobgp --types 2,3 ;;
	esac
}
# ix_project: a route line without RD, ethernet tag, RTs and flags: what the
# topology alone predicts ("T2 mac=.. ip=.. label=.. nh=..", "T3 orig=.. label=.. nh=..")
ix_project() { sed -E 's/ (rd|etag|rt|seq|sticky|gw|pmsi)=[^ ]*//g' | sort -u; }
ix_expected_routes() {
	local n i v ip
	for n in $(ix_vteps); do
		i=$(ix_index "$n") ip=${IX_IP[$n]}
		for v in ${IX_VNIS[$n]}; do
			echo "T3 orig=$ip label=$v nh=$ip"
			[[ " $IX_HOST_VNIS " == *" $v "* ]] || continue
			echo "T2 mac=$(host_mac "$v" "$i") ip=- label=$v nh=$ip"
			echo "T2 mac=$(host_mac "$v" "$i") ip=$(host_ip "$v" "$i") label=$v nh=$ip"
		done
	done
	[ -n "$IX_EXTRA_ROUTES" ] && echo "$IX_EXTRA_ROUTES"
}
# speakers whose routes are compared: every node but ExaBGP (no RIB to ask) and the
# nodes in IX_DOWN (stopped on purpose)
IX_DOWN=""
ix_speakers() {
	local n
	for n in "${IX_NODES[@]}"; do
		[ "${IX_KIND[$n]}" = exabgp ] || [[ " $IX_DOWN " == *" $n "* ]] || echo "$n"
	done
}
ix_routes_snapshot() { # DIR: DIR/<node>.routes for every speaker
	local n; mkdir -p "$1"
	for n in $(ix_speakers); do ix_routes "$n" >"$1/$n.routes" 2>"$1/$n.err"; done
}
ix_routes_settled() { # DIR: snapshot; every speaker holds exactly the expected routes, all agree
	local d=$1 n first=""
	ix_routes_snapshot "$d"
	ix_expected_routes | sort -u >"$d/expected.projection"
	for n in $(ix_speakers); do
		ix_project <"$d/$n.routes" | cmp -s - "$d/expected.projection" || return 1
		[ -z "$first" ] && first=$n && continue
		cmp -s "$d/$first.routes" "$d/$n.routes" || return 1
	done
}
# ix_check_routes [TAG]: every speaker holds the expected routes (complete, nothing
# else) and all print the same canonical lines (RD, ethernet tag, MAC, IP, label,
# next hop, RTs, MAC mobility sequence/sticky, default gateway)
ix_check_routes() {
	local tag=${1:-routes} t n first="" bad="" names=""
	local d=$PT_OUT/$tag; t=$(now)
	if wait_until 45 ix_routes_settled "$d"; then
		for n in $(ix_speakers); do names+="$(ix_label "$n"), "; done
		first=$(ix_speakers | head -1)
		pass "$tag-agree" "$(wc -l <"$d/$first.routes") routes ($(grep -c '^T3 ' "$d/$first.routes") type-3, $(grep -c '^T2 ' "$d/$first.routes") type-2), the expected ones, listed identically by ${names%, } ($(since "$t")s); e.g. $(grep -m1 ' ip=1' "$d/$first.routes")"
		return 0
	fi
	for n in $(ix_speakers); do
		local miss extra
		miss=$(comm -23 "$d/expected.projection" <(ix_project <"$d/$n.routes") | paste -sd';' -)
		extra=$(comm -13 "$d/expected.projection" <(ix_project <"$d/$n.routes") | paste -sd';' -)
		[ -n "$miss$extra" ] && bad+=" [$n: missing ${miss:-none}; unexpected ${extra:-none}]"
		[ -z "$first" ] && first=$n && continue
		cmp -s "$d/$first.routes" "$d/$n.routes" ||
			bad+=" [$n vs $first: $(diff "$d/$first.routes" "$d/$n.routes" | grep '^[<>]' | head -4 | paste -sd';' -)]"
	done
	fail "$tag-agree" "after $(since "$t")s:${bad:- (speaker errors: $(cat "$d"/*.err | head -2))} (see $d)"
}

# ---------------------------------------------------------------- kernel state
# ix_kernel NODE [--raw]: the VTEP's remote state as lib/kernel-view.py lines
ix_kernel() { python3 "$IX_LIB/kernel-view.py" "$(ix_ns "$1")" "${@:2}"; }
# ix_kernel_as_zebra: the one flag evpnd sets on purpose and zebra does not: evpnd
# marks its flood rows extern_learn (docs/kernel-state.md: everything it installs is marked, so it
# can adopt its rows after a restart); zebra's are plain "self permanent"
ix_kernel_as_zebra() { sed -E 's/^(flood .*flags=)extern_learn,/\1/'; }
# ix_imports NODE OTHER VNI: does NODE install OTHER's VNI routes? (scenarios with
# mismatched route targets override it)
ix_imports() { return 0; }
ix_vtep_ips() { local n; for n in $(ix_vteps); do echo "${IX_IP[$n]}"; done; }
# the rows zebra installs for the other VTEPs' routes (docs/lab.md, "What FRR 8.4's
# zebra installs"), in kernel-view.py form
ix_kernel_expected() {
	local n=$1 o j v ip m
	for o in $(ix_vteps); do
		[ "$o" = "$n" ] && continue
		j=$(ix_index "$o") ip=${IX_IP[$o]}
		for v in ${IX_VNIS[$n]}; do
			[[ " ${IX_VNIS[$o]} " == *" $v "* ]] && ix_imports "$n" "$o" "$v" || continue
			echo "flood vni=$v dst=$ip flags=permanent,self"
			[[ " $IX_HOST_VNIS " == *" $v "* ]] || continue
			m=$(host_mac "$v" "$j")
			echo "bridge vni=$v mac=$m dst=$ip flags=extern_learn,master"
			echo "mac vni=$v mac=$m dst=$ip flags=extern_learn,self"
			echo "neigh vni=$v ip=$(host_ip "$v" "$j") mac=$m dst=$ip flags=extern_learn,noarp"
		done
	done | sort
}
# ix_kernel_towards_vteps: filter kernel-view.py lines to the rows for VTEP next hops,
# with zebra's flags
ix_kernel_towards_vteps() {
	ix_kernel_as_zebra | grep -E " dst=($(ix_vtep_ips | sed 's/\./\\./g' | paste -sd'|' -)) "
}
# ix_kernel_plain: kernel-view.py --raw lines in the plain form (no device, no protocol)
ix_kernel_plain() { sed -E 's/ (dev|proto)=[^ ]+//g'; }
ix_kernel_ok() { [ "$(ix_kernel "$1" | ix_kernel_towards_vteps)" = "$(ix_kernel_expected "$1")" ]; }
# ix_check_kernel [TAG]: on every VTEP (FRR's and evpnd's alike) the flood rows, both
# fdb rows per remote MAC and the SVI neighbours are exactly those for the other VTEPs'
# routes; then each evpnd VTEP is compared with each FRR VTEP row by row, for the
# routes neither of the two originated, and the raw differences are printed
ix_check_kernel() {
	local tag=${1:-kernel} n t f e d="$PT_OUT/${1:-kernel}"
	mkdir -p "$d"
	for n in $(ix_vteps); do
		t=$(now)
		wait_until 30 ix_kernel_ok "$n"
		# one snapshot after the wait: the verdict, the dump and the comparison with
		# zebra below all read it
		ix_kernel "$n" --raw >"$d/$n.raw"
		ix_dump_kernel "$n" >"$d/$n-iproute2.txt"
		local want got
		want=$(ix_kernel_expected "$n")
		got=$(ix_kernel_plain <"$d/$n.raw" | ix_kernel_towards_vteps)
		if [ "$got" = "$want" ]; then
			pass "$tag-$n" "$(ix_label "$n"): $(grep -c '^flood' <<<"$want") flood, $(grep -c '^mac' <<<"$want") vxlan + $(grep -c '^bridge' <<<"$want") bridge MAC rows, $(grep -c '^neigh' <<<"$want") SVI neighbours, exactly the other VTEPs' routes (verified after $(since "$t")s)"
		else
			fail "$tag-$n" "$(ix_label "$n"): missing [$(comm -23 <(echo "$want") <(echo "$got") | paste -sd';' -)] unexpected [$(comm -13 <(echo "$want") <(echo "$got") | paste -sd';' -)] (see $d/$n-iproute2.txt)"
		fi
	done
	for e in $(ix_nodes_of evpnd-vtep); do
		for f in $(ix_nodes_of frr-vtep); do ix_compare_with_zebra "$tag" "$e" "$f" "$d"; done
	done
}
# ix_compare_with_zebra TAG EVPND_VTEP FRR_VTEP DIR: the rows both hold for routes of
# third parties (next hop neither of them, VNIs both import), evpnd's vs zebra's
ix_compare_with_zebra() {
	local tag=$1 e=$2 f=$3 d=$4 re rf ne nf raw o v
	local skip=" dst=(${IX_IP[$e]//./\\.}|${IX_IP[$f]//./\\.}) "
	for o in $(ix_vteps); do
		for v in ${IX_VNIS[$o]}; do
			ix_imports "$e" "$o" "$v" && ix_imports "$f" "$o" "$v" || skip+="|vni=$v .*dst=${IX_IP[$o]//./\\.} "
		done
	done
	rf=$(sed -E 's/ dev=[^ ]+//' "$d/$f.raw" | grep -vE "$skip")
	re=$(sed -E 's/ dev=[^ ]+//' "$d/$e.raw" | grep -vE "$skip")
	nf=$(sed -E 's/ proto=[^ ]+//' <<<"$rf" | ix_kernel_as_zebra | sort)
	ne=$(sed -E 's/ proto=[^ ]+//' <<<"$re" | ix_kernel_as_zebra | sort)
	# raw differences: what remains different before the known differences are set aside
	raw=$(diff <(sort <<<"$rf") <(sort <<<"$re") | grep '^[<>]' | sed -E 's/^</zebra:/; s/^>/evpnd:/' | sort -t' ' -k2 | head -6 | paste -sd';' -)
	if [ -z "$nf" ]; then
		fail "$tag-$e-vs-$f" "no third-party rows to compare"
	elif [ "$ne" = "$nf" ]; then
		pass "$tag-$e-vs-$f" "$(wc -l <<<"$ne") rows for third-party routes identical to zebra's on $f modulo device names (vxlan0 + src_vni vs vxlan<VNI>); raw differences: ${raw:-none} (evpnd marks flood rows extern_learn and stamps its neighbours with its own protocol, by design)"
	else
		fail "$tag-$e-vs-$f" "evpnd on $e differs from zebra on $f: $(diff <(echo "$nf") <(echo "$ne") | grep '^[<>]' | sed -E 's/^</zebra:/; s/^>/evpnd:/' | head -8 | paste -sd';' -)"
	fi
}
ix_dump_kernel() {
	local ns; ns=$(ix_ns "$1")
	bridge -n "$ns" fdb show | grep -v ' permanent$' | grep -v '^33:33\|^01:00:5e'
	bridge -n "$ns" fdb show | grep '^00:00:00:00:00:00'
	ip -n "$ns" neigh show
	bridge -n "$ns" -d vlan tunnelshow
	bridge -n "$ns" -d link show
}

# ---------------------------------------------------------------- traffic
# ix_flood_dsts NODE VNI [EXTRA...]: where NODE replicates VNI's BUM traffic to: the
# other VTEPs of the VNI whose routes it imports, and EXTRA (other type-3 originators)
ix_flood_dsts() {
	local n=$1 v=$2 o; shift 2
	for o in $(ix_vteps); do
		[ "$o" != "$n" ] && [[ " ${IX_VNIS[$o]} " == *" $v "* ]] && ix_imports "$n" "$o" "$v" && echo "${IX_IP[$o]}"
	done
	for o in "$@"; do echo "$o"; done
}
# ix_check_arp_suppression [EXTRA_FLOOD_DST...]: on every VTEP, its VNI-10 host's
# broadcast ARP for a remote host is answered locally (right MAC, no such ARP in VXLAN
# on its underlay); the control ARP for an unknown IP is flooded to exactly the other
# VTEPs of VNI 10 (and EXTRA_FLOOD_DST: other type-3 originators)
ix_check_arp_suppression() {
	local n o ns h target mac pcap out rc n_sup ctl want got
	for n in $(ix_vteps); do
		ns=$(ix_ns "$n") h=$(ix_host "$n" 10)
		o=$(ix_vteps | grep -vx "$n" | head -1)
		target=$(host_ip 10 "$(ix_index "$o")") mac=$(host_mac 10 "$(ix_index "$o")")
		pcap=$PT_OUT/arp-$n-underlay.pcap out=$PT_OUT/arp-$n.txt
		pcap_start "$ns" eth0 "$pcap" 'udp port 4789' || return 1
		local td=$PT_LAST_PID
		ip -n "$h" neigh flush all
		nsx "$h" arping -c 1 -w 3 $ARPING_IF eth0 "$target" >"$out" 2>&1; rc=$?
		nsx "$h" arping -c 1 -w 2 $ARPING_IF eth0 198.18.10.99 >>"$out" 2>&1
		sleep 1; pcap_stop $td
		vxlan_pairs "$pcap" >"$pcap.txt"
		n_sup=$(grep -c "who-has $target tell" "$pcap.txt")
		ctl=$(grep 'who-has 198.18.10.99 tell' "$pcap.txt" | awk '{print $1 "/" $2}' | sort -u | paste -sd' ' -)
		want=$(ix_flood_dsts "$n" 10 "$@" | sed 's|$|/10|' | sort | paste -sd' ' -)
		got=$(grep -io 'from [0-9a-f:]\{17\}\|\[[0-9a-f:]\{17\}\]' "$out" | head -1)
		if [ $rc = 0 ] && grep -qi "$mac" "$out" && [ "$n_sup" = 0 ] && [ "$ctl" = "$want" ]; then
			pass "arp-suppression-$n" "$(ix_label "$n"): ARP for $target answered locally with $mac, 0 such ARPs in VXLAN; control ARP for 198.18.10.99 flooded to $ctl"
		else
			fail "arp-suppression-$n" "$(ix_label "$n"): arping rc=$rc ($got, want $mac), VXLAN ARPs for $target: $n_sup (want 0), control flooded to [$ctl] (want [$want]); see $out"
		fi
	done
}

# ix_check_ping_matrix [TAG]: every host pings every host of its VNI on the other VTEPs
ix_check_ping_matrix() {
	local tag=${1:-ping-matrix} v n o pids=() pairs=() bad=() k
	for v in $IX_HOST_VNIS; do
		for n in $(ix_vteps); do for o in $(ix_vteps); do
			[ "$n" = "$o" ] && continue
			nsx "$(ix_host "$n" "$v")" ping -c 2 -i 0.3 -W 3 "$(host_ip "$v" "$(ix_index "$o")")" >"$PT_RUN/$tag-$n-$o-$v.txt" 2>&1 &
			pids+=($!) pairs+=("$n->$o/vni$v")
		done; done
	done
	for k in "${!pids[@]}"; do wait "${pids[$k]}" || bad+=("${pairs[$k]}"); done
	if [ ${#bad[@]} = 0 ]; then
		pass "$tag" "all ${#pairs[@]} ordered VTEP pairs x VNIs 10/11: host to host pings (2 echoes each)"
	else
		fail "$tag" "${#bad[@]}/${#pairs[@]} fail: ${bad[*]}"
	fi
}

# ix_check_isolation: a temporary host on the second VTEP's VLAN 11 with an address
# in VNI 10's subnet: only the VNI separates it from VNI 10 now: no ping either way, no
# ARP crosses. The host is then deleted and its routes awaited gone, so later checks
# see the topology's routes only.
ix_check_isolation() {
	local n1 n2 h1 iso rc_a rc_b leak td gone
	n1=$(ix_vteps | sed -n 1p) n2=$(ix_vteps | sed -n 2p)
	h1=$(ix_host "$n1" 10) iso=$PT_PREFIX-iso
	host_attach "$(ix_ns "$n2")" br0 "$iso" 198.18.10.21/24 02:0b:00:00:00:99 11
	pcap_start "$iso" eth0 "$PT_RUN/isolation.pcap" arp || return 1
	td=$PT_LAST_PID
	nsx "$h1" ping -c 2 -i 0.3 -W 1 198.18.10.21 >/dev/null 2>&1; rc_a=$?
	nsx "$iso" ping -c 2 -i 0.3 -W 1 "$(host_ip 10 "$(ix_index "$n1")")" >/dev/null 2>&1; rc_b=$?
	sleep 1; pcap_stop $td
	leak=$(tcpdump -nn -r "$PT_RUN/isolation.pcap" 2>/dev/null | grep -c "who-has 198.18.10.21 tell $(host_ip 10 "$(ix_index "$n1")"),")
	ip -n "$(ix_ns "$n2")" link del iso
	ip netns del "$iso"
	wait_until 30 ix_routes_settled "$PT_OUT/routes-after-isolation" && gone=yes || gone=no
	if [ $rc_a != 0 ] && [ $rc_b != 0 ] && [ "$leak" = 0 ] && [ $gone = yes ]; then
		pass vni-isolation "a VNI-11 host on $n2 with a VNI-10 address: unreachable from $n1's VNI-10 host and back, 0 of the VNI-10 ARPs for it reached it; deleted, its routes gone from every speaker"
	else
		fail vni-isolation "ping rc $n1->.21=$rc_a, .21->$n1=$rc_b (want both non-0), VNI-10 ARPs seen by the VNI-11 host: $leak (want 0), routes back to the topology's after deletion: $gone"
	fi
}

# ix_check_broadcast [EXTRA_FLOOD_DST...]: a broadcast ping from the first VTEP's
# VNI-10 host reaches every VNI-10 host; its underlay carries one copy per echo to each
# other VNI-10 VTEP (and to EXTRA_FLOOD_DST: other type-3 originators), nowhere else
ix_check_broadcast() {
	local n ns h o pcap out copies want replies="" bad=0 hip
	n=$(ix_vteps | head -1) ns=$(ix_ns "$n") h=$(ix_host "$n" 10)
	pcap=$PT_OUT/broadcast-underlay.pcap out=$PT_OUT/broadcast-ping.txt
	pcap_start "$ns" eth0 "$pcap" 'udp port 4789' || return 1
	local td=$PT_LAST_PID
	nsx "$h" ping -b -c 2 -i 0.5 -W 2 198.18.10.255 >"$out" 2>&1
	sleep 1; pcap_stop $td
	vxlan_pairs "$pcap" >"$pcap.txt"
	copies=$(grep "$(host_ip 10 "$(ix_index "$n")") > 198.18.10.255: ICMP echo request" "$pcap.txt" | awk '{print $1 "/vni" $2}' | sort | uniq -c | awk '{print $2 " x" $1}' | paste -sd' ' -)
	want=$(ix_flood_dsts "$n" 10 "$@" | sed 's|$|/vni10 x2|' | sort | paste -sd' ' -)
	for o in $(ix_vteps | grep -vx "$n"); do
		hip=$(host_ip 10 "$(ix_index "$o")")
		c=$(grep -c "from $hip:" "$out"); replies+="$o x$c "
		[ "$c" -ge 1 ] || bad=1
	done
	if [ "$copies" = "$want" ] && [ $bad = 0 ]; then
		pass broadcast "ping -b 198.18.10.255 from $n's host: replies from ${replies% }; VXLAN copies on $n's underlay: $copies"
	else
		fail broadcast "replies: ${replies% } (want >=1 each); VXLAN copies: ${copies:-none} (want $want)"
	fi
}

# ix_standard_checks [EXTRA_FLOOD_DST...]: the checks every scenario runs, in an order
# where the ARP check comes before any host-to-host traffic
ix_standard_checks() {
	ix_check_sessions 90 || return 1
	ix_learn
	ix_check_routes routes
	ix_check_kernel kernel
	ix_check_arp_suppression "$@"
	ix_check_ping_matrix
	ix_check_isolation
	ix_check_broadcast "$@"
}

# ix_check_logs: no panic or ERROR in any evpnd log; the ones not stopped on purpose run
ix_check_logs() {
	local n bad="" warns="" L c w
	for n in $(ix_nodes_of 'evpnd-*'); do
		L=$PT_RUN/$(ix_ns "$n")/evpnd.log
		kill -0 "${IX_PID[$n]}" 2>/dev/null || bad+=" $n:not-running"
		c=$(grep -cE 'panicked|RUST_BACKTRACE| ERROR ' "$L"); [ "$c" != 0 ] && bad+=" $n:${c}x(panic|ERROR)"
		w=$(grep -c ' WARN ' "$L"); [ "$w" != 0 ] && warns+=" $n:$w"
	done
	if [ -z "$bad" ]; then
		pass logs "no panic, no ERROR in the evpnd logs, all running; WARN lines:${warns:- none}"
	else
		fail logs "$bad; first: $(grep -hE 'panicked|RUST_BACKTRACE| ERROR ' "$PT_RUN"/*/evpnd.log | head -2)"
	fi
}

# ix_dump TAG: everyone's view to PT_OUT/dump-TAG/
ix_dump() {
	local d=$PT_OUT/dump-$1 n ns; mkdir -p "$d"
	for n in "${IX_NODES[@]}"; do
		ns=$(ix_ns "$n")
		case ${IX_KIND[$n]} in
		evpnd-*) for q in neighbors routes vnis fdb; do ev "$n" show $q >"$d/$n-$q.txt" 2>&1; done ;;
		frr-*) frr_vtysh "$ns" 'show bgp l2vpn evpn summary' 'show bgp l2vpn evpn' 'show evpn vni detail' 'show evpn mac vni all' 'show evpn arp-cache vni all' >"$d/$n-frr.txt" ;;
		gobgp) gobgp_cli "$ns" global rib -a evpn >"$d/$n-rib.txt" 2>&1 ;;
		esac
		ix_is_vtep "$n" && ix_dump_kernel "$n" >"$d/$n-kernel.txt" 2>&1
	done
}

# ---------------------------------------------------------------- restarts under traffic
# ix_traffic_during TAG SECONDS CMD...: 20 pings a second (ping -i 0.05) from the VNI-10
# host of every VTEP to that of every other VTEP, for SECONDS; CMD runs 3 s in, in the
# foreground, and must be done before the pings end. Sets IX_SENT, IX_LOST (echoes not
# answered on the pairs between nodes not in IX_FIGURE_ONLY), IX_LOST_FIGURE (those
# on pairs with a node of IX_FIGURE_ONLY) and IX_LOST_DETAIL ("n1->n2:0 ..");
# outputs in PT_OUT/TAG.
ix_traffic_during() {
	local tag=$1 secs=$2; shift 2
	local d=$PT_OUT/$tag n o k got pids=() files=() names=() count=$((secs * 20)) detail=""
	mkdir -p "$d"
	IX_LOST=0 IX_LOST_FIGURE=0
	for n in $(ix_vteps); do for o in $(ix_vteps); do
		[ "$n" = "$o" ] && continue
		files+=("$d/ping-$n-$o.txt") names+=("$n->$o")
		nsx "$(ix_host "$n" 10)" ping -c "$count" -i 0.05 -W 1 "$(host_ip 10 "$(ix_index "$o")")" >"${files[-1]}" 2>&1 & pids+=($!)
	done; done
	sleep 3
	"$@"
	for k in "${!pids[@]}"; do wait "${pids[$k]}"; done
	for k in "${!names[@]}"; do
		got=$(grep -o '[0-9]* received' "${files[$k]}" | grep -o '^[0-9]*')
		got=${got:-0}
		if [[ " ${IX_FIGURE_ONLY:-} " == *" ${names[$k]%->*} "* || " ${IX_FIGURE_ONLY:-} " == *" ${names[$k]#*->} "* ]]; then
			IX_LOST_FIGURE=$((IX_LOST_FIGURE + count - got))
		else
			IX_LOST=$((IX_LOST + count - got))
		fi
		detail+="${names[$k]}:$((count - got)) "
	done
	IX_SENT=$((count * ${#names[@]}))
	IX_LOST_DETAIL=${detail% }
}

# ix_kernel_snapshot TAG: every evpnd VTEP's remote rows to PT_OUT/TAG/<node>.kernel
ix_kernel_snapshot() {
	local n; mkdir -p "$PT_OUT/$1"
	for n in $(ix_nodes_of evpnd-vtep); do ix_kernel "$n" >"$PT_OUT/$1/$n.kernel"; done
}
# ix_kernel_unchanged BEFORE AFTER: "" if every evpnd VTEP's remote rows are identical,
# else what changed
ix_kernel_unchanged() {
	local n out=""
	for n in $(ix_nodes_of evpnd-vtep); do
		cmp -s "$PT_OUT/$1/$n.kernel" "$PT_OUT/$2/$n.kernel" ||
			out+=" $n: $(diff "$PT_OUT/$1/$n.kernel" "$PT_OUT/$2/$n.kernel" | grep '^[<>]' | head -3 | paste -sd';' -)"
	done
	echo "$out"
}

# ix_evpnd_restart NODE [BINARY]: SIGTERM NODE's evpnd (graceful restart: its sessions
# close without a NOTIFICATION), note what its peers keep meanwhile in
# IX_STALE_SEEN, start it again (with BINARY if given: an upgrade), wait for its
# sessions and for its peers to hold no stale route of it any more
ix_evpnd_restart() {
	local n=$1 bin=${2:-$EVPND} p t
	t=$(now)
	ix_evpnd_stop "$n"
	IX_STALE_SEEN=""
	for p in ${IX_PEERS[$n]}; do
		case ${IX_KIND[$p]} in
		evpnd-*) IX_STALE_SEEN+="$p:$(wait_until 3 ix_stale_of "$p" "${IX_IP[$n]}" >/dev/null; ix_stale_of "$p" "${IX_IP[$n]}") " ;;
		frr-*) IX_STALE_SEEN+="$p:$(ix_frr_stale "$p") " ;;
		esac
	done
	IX_STALE_LAST=$IX_STALE_SEEN
	EVPND=$bin ix_evpnd_start "$n"
	IX_RESTART_SECS=""
	wait_until 60 ix_sessions_up && IX_RESTART_SECS=$(since "$t")
	for p in ${IX_PEERS[$n]}; do
		[[ ${IX_KIND[$p]} == evpnd-* ]] && wait_until 30 ix_no_stale "$p" "${IX_IP[$n]}"
	done
	return 0
}
# ix_evpnd_upgrade NODE [NEW_BINARY]: NODE's binary replaced by NEW_BINARY (a new file
# moved over it, as a package manager installs one), then `evpnd upgrade`: the running
# process hands its sessions over to the new image, same PID (ADR 0010). Sets
# IX_RESTART_SECS (until the new image answered) and IX_UPGRADE_PID_KEPT (yes/no)
ix_evpnd_upgrade() {
	local n=$1 t exe pid=${IX_PID[$1]}; t=$(now)
	exe=$(readlink "/proc/$pid/exe"); exe=${exe% (deleted)}
	if [ -n "${2:-}" ]; then cp "$2" "$exe.new" && mv -f "$exe.new" "$exe"; fi
	IX_RESTART_SECS=""
	ev "$n" upgrade >>"$PT_OUT/upgrade-$n.txt" 2>&1 && IX_RESTART_SECS=$(since "$t")
	[ -d "/proc/$pid" ] && IX_UPGRADE_PID_KEPT=yes || IX_UPGRADE_PID_KEPT=no
	return 0
}
# ix_stale_of NODE PEER_IP: NODE's stale routes from PEER_IP (prints them; true if > 0)
ix_stale_of() {
	local c; c=$(ev_json "$1" neighbors | jq -r --arg a "$2" '.[] | select(.address == $a) | .stale_routes')
	echo "${c:-0}"; [ "${c:-0}" -gt 0 ]
}
ix_no_stale() { ! ix_stale_of "$1" "$2" >/dev/null; }
# ix_frr_debug_gr: every FRR node logs its graceful-restart decisions and neighbour
# events (bgpd.log), so a restart's figure can be explained
ix_frr_debug_gr() {
	local n
	for n in $(ix_nodes_of 'frr-*'); do
		frr_vtysh "$(ix_ns "$n")" 'debug bgp graceful-restart' 'debug bgp neighbor-events' >/dev/null
	done
}
# ix_frr_stale NODE: FRR NODE's paths marked stale (prints the count; true if > 0)
ix_frr_stale() {
	local c; c=$(frr_vtysh "$(ix_ns "$1")" 'show bgp l2vpn evpn route json' | jq '[.. | objects | select(.stale == true)] | length')
	echo "${c:-0}"; [ "${c:-0}" -gt 0 ]
}

# ix_check_restart TAG NODE WANT_LOST CMD...: CMD (a restart of NODE) under traffic;
# passes when at most WANT_LOST echoes were lost ("-" = report the figure only), the
# sessions and routes came back and, with WANT_LOST 0, no evpnd VTEP's remote row changed
ix_check_restart() {
	local tag=$1 n=$2 want=$3; shift 3
	local changed="" what
	ix_learn # MACs age out of the bridges after 300 s without traffic
	ix_kernel_snapshot "$tag-before"
	ix_traffic_during "$tag" 30 "$@"
	ix_check_sessions 60 "$tag-sessions" >/dev/null
	ix_check_routes "$tag-routes"
	ix_kernel_snapshot "$tag-after"
	changed=$(ix_kernel_unchanged "$tag-before" "$tag-after")
	what="$(ix_label "$n") restarted 3 s into 30 s of pings at 20/s between the VNI-10 hosts of $(echo "$IX_LOST_DETAIL" | wc -w) VTEP pairs: $((IX_LOST + IX_LOST_FIGURE)) of $IX_SENT echoes lost ($IX_LOST_DETAIL)"
	[ -n "${IX_FIGURE_ONLY:-}" ] && what+="; $IX_LOST lost between VTEPs other than $IX_FIGURE_ONLY (the goal), $IX_LOST_FIGURE on the pairs with $IX_FIGURE_ONLY (a figure)"
	[ -n "${IX_STALE_SEEN:-}" ] && what+="; stale routes its evpnd peers kept while it was down: $IX_STALE_SEEN"
	[ -n "${IX_RESTART_SECS:-}" ] && what+="; sessions back ${IX_RESTART_SECS}s after the stop"
	if [ "$want" = - ]; then
		pass "$tag" "$what (figure, not a goal)"
	elif [ "$IX_LOST" -le "$want" ] && [ -z "$changed" ]; then
		pass "$tag" "$what; remote kernel rows of every evpnd VTEP identical before and after"
	else
		fail "$tag" "$what (want <= $want);${changed:+ kernel rows changed:$changed}"
	fi
	IX_STALE_SEEN="" IX_RESTART_SECS="" IX_FIGURE_ONLY=""
}
