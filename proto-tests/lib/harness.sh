# proto-tests/lib/harness.sh - bash harness for protocol interop scenarios.
#
# Source it from a scenario, then call pt_init first:
#   source "$(dirname "$0")/lib/harness.sh"
#   pt_init frr-pair vcfp          # scenario name, namespace prefix
#   ... ns_add / frr_start / check ...
#   pt_finish                      # prints the tally, exits 1 if any check failed
# Every function is documented in proto-tests/README.md. Rules: addresses only from
# 198.18.0.0/15, namespace names start with the scenario's prefix, everything this
# scenario created is torn down by the EXIT trap (also on errors and Ctrl-C).
#
# Globals after pt_init: PT_NAME, PT_PREFIX, PT_OUT (artifacts, kept), PT_RUN
# (runtime dir for pids/logs/configs, readable by user frr; copied to PT_OUT/run at exit).

source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib" && pwd)/common.sh"

PT_NPASS=0
PT_NFAIL=0
PT_NS=()        # namespaces we created, in creation order
PT_FRR_NS=()    # namespaces running FRR
PT_PIDS=()      # background processes to kill at exit
PT_T0=$(now)

# ------------------------------------------------------------------ lifecycle
# pt_init NAME PREFIX: start a scenario. Requires root. Removes leftovers of an earlier
# run with the same PREFIX (namespaces, FRR dirs), makes PT_OUT and PT_RUN, sets the trap.
pt_init() {
	PT_NAME=$1 PT_PREFIX=$2
	[ "$(id -u)" = 0 ] || { echo "FAIL $PT_NAME: needs root"; exit 1; }
	[[ $PT_PREFIX =~ ^[a-z][a-z0-9]{1,6}$ ]] || { echo "FAIL $PT_NAME: bad prefix '$PT_PREFIX'"; exit 1; }
	PT_OUT=${PT_OUT_DIR:-$REPO_ROOT/target/proto-tests/$PT_NAME}
	PT_RUN=/tmp/pt-$PT_PREFIX
	pt_sweep
	rm -rf "$PT_RUN" "$PT_OUT"
	mkdir -p "$PT_OUT" "$PT_RUN"
	chmod 755 "$PT_RUN"
	: >"$PT_OUT/checks.log"
	trap pt_cleanup EXIT
	trap 'exit 130' INT TERM
	pt_log "scenario $PT_NAME (prefix $PT_PREFIX), artifacts in $PT_OUT"
}

# pt_sweep: kill processes in, and delete, every namespace named PREFIX-*; remove their
# FRR pathspace dirs. Used by pt_init (leftovers) and pt_cleanup.
pt_sweep() {
	local ns p
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PT_PREFIX-"); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
		sleep 0.3
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/var/run/frr/$ns" "/etc/frr/$ns"
	done
}

# pt_cleanup: EXIT trap. Stops background processes and FRR, copies runtime logs to
# PT_OUT/run, deletes the namespaces. Safe to call twice.
pt_cleanup() {
	local rc=$? p ns
	trap - EXIT
	for p in "${PT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for ns in "${PT_FRR_NS[@]}"; do frr_stop "$ns" 2>/dev/null; done
	for p in "${PT_PIDS[@]}"; do wait_until 5 pid_gone "$p" || kill -9 "$p" 2>/dev/null; done
	if [ -d "$PT_RUN" ]; then
		mkdir -p "$PT_OUT/run"
		cp -r "$PT_RUN/." "$PT_OUT/run/" 2>/dev/null
		rm -rf "$PT_RUN"
	fi
	pt_sweep
	exit $rc
}

# pt_finish: print "<name>: N passed, N failed" and exit (1 if any check failed or none ran).
pt_finish() {
	pt_log "done in $(since "$PT_T0")s"
	echo "$PT_NAME: $PT_NPASS passed, $PT_NFAIL failed"
	[ "$PT_NFAIL" = 0 ] && [ "$PT_NPASS" -gt 0 ] && exit 0
	exit 1
}

# pt_log MESSAGE...: timestamped progress line (stderr and PT_OUT/scenario.log)
pt_log() { echo "[$PT_NAME t+$(since "$PT_T0")s] $*" | tee -a "$PT_OUT/scenario.log" >&2; }

# ------------------------------------------------------------------ reporting
# pass NAME [DETAIL]: record a passed check, prints "PASS NAME: DETAIL" (NAME prefixed
# with PT_CHECK_PREFIX when set: suites of several scenarios name checks "scenario/check")
pass() { PT_NPASS=$((PT_NPASS + 1)); echo "PASS ${PT_CHECK_PREFIX:-}$1${2:+: $2}" | tee -a "$PT_OUT/checks.log"; }
# fail NAME REASON: record a failed check, prints "FAIL NAME: REASON"
fail() { PT_NFAIL=$((PT_NFAIL + 1)); echo "FAIL ${PT_CHECK_PREFIX:-}$1${2:+: $2}" | tee -a "$PT_OUT/checks.log"; }
# check NAME CMD...: PASS if CMD exits 0; CMD's output goes to PT_OUT/checks.log
check() {
	local name=$1; shift
	echo "### check $name: $*" >>"$PT_OUT/checks.log"
	if "$@" >>"$PT_OUT/checks.log" 2>&1; then pass "$name"; else fail "$name" "command failed: $*"; fi
}
# check_within NAME TIMEOUT_S CMD...: PASS once CMD exits 0 within TIMEOUT_S (polling
# every 0.5 s), reporting how long it took; FAIL otherwise (the last output is logged)
check_within() {
	local name=$1 to=$2; shift 2
	local t; t=$(now)
	if wait_until "$to" "$@"; then
		pass "$name" "after $(since "$t")s"
	else
		{ echo "### check_within $name (last try): $*"; "$@"; } >>"$PT_OUT/checks.log" 2>&1
		fail "$name" "not true within ${to}s: $*"
	fi
}
# wait_until TIMEOUT_S CMD... (from scripts/lib/common.sh): poll every 0.5 s, return 0/1

# pid_gone PID: true when PID no longer exists
pid_gone() { ! kill -0 "$1" 2>/dev/null; }
# pt_bg CMD...: run CMD in the background, remember its PID for cleanup, set PT_LAST_PID
pt_bg() { "$@" & PT_LAST_PID=$!; PT_PIDS+=("$PT_LAST_PID"); }

# ------------------------------------------------------------------ namespaces + links
# ns_add NS: create netns NS (must start with "$PT_PREFIX-"), lo up, IPv6 off (no ND/MLD noise)
ns_add() {
	local ns=$1
	[[ $ns == "$PT_PREFIX-"* ]] || { fail "ns_add" "namespace '$ns' lacks prefix $PT_PREFIX-"; exit 1; }
	ip netns add "$ns" || { fail "ns_add" "ip netns add $ns"; exit 1; }
	PT_NS+=("$ns")
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
}
# nsx NS CMD...: run CMD inside NS
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# link_pair NS1 IF1 ADDR1 NS2 IF2 ADDR2 [MTU]: veth NS1/IF1 <-> NS2/IF2, addresses
# (CIDR, from 198.18.0.0/15; "-" for none), both up
link_pair() {
	local n1=$1 i1=$2 a1=$3 n2=$4 i2=$5 a2=$6 mtu=${7:-1600}
	_assert_addr "$a1" && _assert_addr "$a2" || exit 1
	ip link add "$i1" mtu "$mtu" netns "$n1" type veth peer name "$i2" mtu "$mtu" netns "$n2" ||
		{ fail "link_pair" "veth $n1/$i1 <-> $n2/$i2"; exit 1; }
	[ "$a1" != - ] && ip -n "$n1" addr add "$a1" dev "$i1"
	[ "$a2" != - ] && ip -n "$n2" addr add "$a2" dev "$i2"
	ip -n "$n1" link set "$i1" up
	ip -n "$n2" link set "$i2" up
}
_assert_addr() { # addresses only from 198.18.0.0/15 (198.18.x.x, 198.19.x.x)
	[ "$1" = - ] || [[ $1 =~ ^198\.1[89]\.[0-9]+\.[0-9]+(/[0-9]+)?$ ]] && return 0
	fail "address" "$1 is outside 198.18.0.0/15"; return 1
}

# underlay_create: make "$PT_PREFIX-ul", a namespace holding bridge "ulsw" (MTU 1600): the
# underlay switch. Nothing is created in the root namespace.
underlay_create() {
	ns_add "$PT_PREFIX-ul"
	ip -n "$PT_PREFIX-ul" link add ulsw mtu 1600 type bridge
	ip -n "$PT_PREFIX-ul" link set ulsw up
}
# underlay_attach NS ADDR [IFNAME=eth0]: veth from NS (ADDR, e.g. 198.19.0.1/24) into ulsw
underlay_attach() {
	local ns=$1 addr=$2 ifn=${3:-eth0}
	local port="p-${ns#"$PT_PREFIX"-}"
	link_pair "$ns" "$ifn" "$addr" "$PT_PREFIX-ul" "${port:0:15}" -
	ip -n "$PT_PREFIX-ul" link set "${port:0:15}" master ulsw
}

# host_attach VTEP_NS BRIDGE HOST_NS ADDR MAC [VID]: new namespace HOST_NS whose eth0 (ADDR,
# MAC) is a veth into BRIDGE on VTEP_NS (the VTEP-side port is named after HOST_NS's
# suffix); with VID, that port is an access port of VLAN VID (pvid untagged)
host_attach() {
	local vns=$1 br=$2 hns=$3 addr=$4 mac=$5 vid=${6:-}
	local port=${hns#"$PT_PREFIX"-}
	port=${port:0:15}
	ns_add "$hns"
	link_pair "$vns" "$port" - "$hns" eth0 "$addr"
	ip -n "$hns" link set eth0 address "$mac"
	ip -n "$vns" link set "$port" master "$br"
	[ -n "$vid" ] && bridge -n "$vns" vlan add dev "$port" vid "$vid" pvid untagged
	return 0
}

# vtep_bridge VNI / vtep_svi VNI / vtep_vid VNI: names for the current FRR_VTEP_MODEL
# (bridges: br<VNI>, br<VNI>, none; vlan-aware: br0, vlan<VNI>, <VNI>), so one scenario
# runs on the host and, with FRR_VTEP_MODEL=vlan-aware, inside scripts/vm
vtep_bridge() { [ "${FRR_VTEP_MODEL:-bridges}" = vlan-aware ] && echo br0 || echo "br$1"; }
vtep_svi() { [ "${FRR_VTEP_MODEL:-bridges}" = vlan-aware ] && echo "vlan$1" || echo "br$1"; }
vtep_vid() { [ "${FRR_VTEP_MODEL:-bridges}" = vlan-aware ] && echo "$1" || true; }

# vxlan_per_vni_bridges NS VTEP_IP VNI...: the host-kernel VTEP model (no VLAN filtering
# needed): per VNI a plain bridge br<VNI> (fixed MAC 02:b0:<VNI>:00:00:<last VTEP octet>)
# and vxlan<VNI> (id VNI, dstport 4789, local VTEP_IP, nolearning) as its port, with
# learning off + neigh_suppress on, as FRR 8.4's zebra expects (docs/lab.md)
vxlan_per_vni_bridges() {
	local ns=$1 vtep=$2 vni; shift 2
	for vni in "$@"; do
		ip -n "$ns" link add "br$vni" address "$(printf '02:b0:%02x:00:00:%02x' $((vni % 256)) "${vtep##*.}")" type bridge
		ip -n "$ns" link set "br$vni" up
		ip -n "$ns" link add "vxlan$vni" type vxlan id "$vni" dstport 4789 local "$vtep" nolearning
		ip -n "$ns" link set "vxlan$vni" master "br$vni"
		bridge -n "$ns" link set dev "vxlan$vni" learning off neigh_suppress on
		ip -n "$ns" link set "vxlan$vni" up
	done
}

# vxlan_per_vni_vlan_aware NS VTEP_IP VNI...: the VM (VLAN-aware) FRR 8.4 model from
# docs/lab.md: bridge br0 (vlan_filtering 1, fixed MAC), per VNI vxlan<VNI> as an
# access port (pvid untagged, VLAN = VNI) and SVI vlan<VNI>. Needs scripts/vm.
vxlan_per_vni_vlan_aware() {
	local ns=$1 vtep=$2 vni; shift 2
	ip -n "$ns" link add br0 address "$(printf '02:b0:00:00:00:%02x' "${vtep##*.}")" type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0
	ip -n "$ns" link set br0 up
	for vni in "$@"; do
		ip -n "$ns" link add "vxlan$vni" type vxlan id "$vni" dstport 4789 local "$vtep" nolearning
		ip -n "$ns" link set "vxlan$vni" master br0
		bridge -n "$ns" link set dev "vxlan$vni" neigh_suppress on learning off
		bridge -n "$ns" vlan add dev "vxlan$vni" vid "$vni" pvid untagged
		ip -n "$ns" link set "vxlan$vni" up
		bridge -n "$ns" vlan add dev br0 vid "$vni" self
		ip -n "$ns" link add link br0 name "vlan$vni" type vlan id "$vni"
		ip -n "$ns" link set "vlan$vni" up
	done
}

# ------------------------------------------------------------------ FRR
FRRBIN=/usr/lib/frr
# frr_start NS CONF: start zebra + bgpd in NS as docs/lab.md describes (pathspace -N NS, own UTS
# namespace with hostname NS, user frr), wait for their vty sockets, push CONF with
# `vtysh -N NS -f`. Logs: PT_RUN/NS/{zebra,bgpd}.log (debug level).
frr_start() {
	local ns=$1 conf=$2 d
	mkdir -p "/var/run/frr/$ns" "/etc/frr/$ns" "$PT_RUN/$ns"
	touch "/etc/frr/$ns/vtysh.conf"
	chown frr:frr "/var/run/frr/$ns" "$PT_RUN/$ns"
	PT_FRR_NS+=("$ns")
	for d in zebra bgpd; do
		ip netns exec "$ns" unshare --uts sh -c "hostname $ns; exec $FRRBIN/$d -d -N $ns -A 127.0.0.1 -P 0 \
			-i /var/run/frr/$ns/$d.pid --log file:$PT_RUN/$ns/$d.log --log-level debug" 2>>"$PT_RUN/$ns/stderr.log" ||
			{ fail "frr-start-$ns" "$d did not start (see $PT_RUN/$ns/stderr.log)"; return 1; }
	done
	wait_until 30 test -S "/var/run/frr/$ns/zebra.vty" -a -S "/var/run/frr/$ns/bgpd.vty" ||
		{ fail "frr-start-$ns" "vty sockets missing"; return 1; }
	cp "$conf" "$PT_RUN/$ns/frr.conf" 2>/dev/null
	vtysh -N "$ns" -f "$conf" >"$PT_RUN/$ns/vtysh-f.log" 2>&1 ||
		{ fail "frr-start-$ns" "vtysh -f $conf failed: $(tail -3 "$PT_RUN/$ns/vtysh-f.log")"; return 1; }
}
# frr_vtysh NS CMD...: run vtysh commands (each argument is one -c) in NS's FRR
frr_vtysh() { local ns=$1 a=() c; shift; for c in "$@"; do a+=(-c "$c"); done; timeout 20 vtysh -N "$ns" "${a[@]}" 2>/dev/null; }
# frr_wait_established NS PEER TIMEOUT_S: wait until NS's bgpd has PEER Established
frr_established() { [ "$(frr_vtysh "$1" "show bgp neighbors $2 json" | jq -r --arg p "$2" '.[$p].bgpState // empty')" = Established ]; }
frr_wait_established() { wait_until "$3" frr_established "$1" "$2"; }
# frr_stop NS: SIGTERM bgpd and zebra of NS (resuming them if stopped), SIGKILL after 10 s
frr_stop() {
	local ns=$1 d p
	for d in bgpd zebra; do
		p=$(cat "/var/run/frr/$ns/$d.pid" 2>/dev/null) && [ -n "$p" ] && { kill -CONT "$p"; kill "$p"; } 2>/dev/null
	done
	for d in bgpd zebra; do
		p=$(cat "/var/run/frr/$ns/$d.pid" 2>/dev/null) || continue
		wait_until 10 pid_gone "$p" || kill -9 "$p" 2>/dev/null
	done
	return 0
}

# frr_vtep_conf ROUTER_ID PEER...: print an frr.conf for an iBGP (AS ${FRR_AS:-65000})
# l2vpn-evpn VTEP: advertise-all-vni, timers connect 2 / keepalive 3 / hold 9, each PEER
# activated in l2vpn evpn. Set FRR_EXTRA_BGP to add lines inside "router bgp".
frr_vtep_conf() {
	local rid=$1 p; shift
	cat <<-CONF
	frr defaults datacenter
	log timestamp precision 3
	!
	router bgp ${FRR_AS:-65000}
	 bgp router-id $rid
	 no bgp default ipv4-unicast
	 no bgp ebgp-requires-policy
	 timers bgp 3 9
	CONF
	for p in "$@"; do
		echo " neighbor $p remote-as ${FRR_AS:-65000}"
		echo " neighbor $p timers 3 9"
		echo " neighbor $p timers connect 2"
	done
	[ -n "${FRR_EXTRA_BGP:-}" ] && echo "$FRR_EXTRA_BGP"
	echo " !"
	echo " address-family l2vpn evpn"
	for p in "$@"; do echo "  neighbor $p activate"; done
	echo "  advertise-all-vni"
	[ -n "${FRR_EXTRA_EVPN:-}" ] && echo "$FRR_EXTRA_EVPN"
	echo " exit-address-family"
	echo "!"
}

# frr_rr_conf ROUTER_ID CLUSTER_ID CLIENTS NONCLIENTS: print an frr.conf for an FRR route
# reflector (BGP only, no VNIs) in AS ${FRR_AS:-65000}: CLIENTS (comma-separated) are
# passive route-reflector clients (they open the sessions: no collisions at start-up),
# NONCLIENTS (comma-separated, may be empty) plain iBGP peers, e.g. a second reflector.
# Timers as frr_vtep_conf. Set FRR_EXTRA_BGP to add lines inside "router bgp".
frr_rr_conf() {
	local rid=$1 cluster=$2 clients=$3 others=$4 p
	cat <<-CONF
	frr defaults datacenter
	log timestamp precision 3
	!
	router bgp ${FRR_AS:-65000}
	 bgp router-id $rid
	 bgp cluster-id $cluster
	 no bgp default ipv4-unicast
	 timers bgp 3 9
	CONF
	for p in ${clients//,/ } ${others//,/ }; do
		echo " neighbor $p remote-as ${FRR_AS:-65000}"
		echo " neighbor $p timers 3 9"
		echo " neighbor $p timers connect 2"
	done
	for p in ${clients//,/ }; do echo " neighbor $p passive"; done
	[ -n "${FRR_EXTRA_BGP:-}" ] && echo "$FRR_EXTRA_BGP"
	echo " !"
	echo " address-family l2vpn evpn"
	for p in ${clients//,/ } ${others//,/ }; do echo "  neighbor $p activate"; done
	for p in ${clients//,/ }; do echo "  neighbor $p route-reflector-client"; done
	echo " exit-address-family"
	echo "!"
}

# frr_vtep_setup NS VTEP_IP PEERS VNI...: a complete FRR VTEP on the host kernel:
# per-VNI bridges + vxlan devices (vxlan_per_vni_bridges), frr.conf from frr_vtep_conf
# (router-id = VTEP_IP, PEERS comma-separated), zebra+bgpd started. VTEP_IP must already
# be on an interface of NS (e.g. underlay_attach). Set FRR_VTEP_MODEL=vlan-aware to use
# vxlan_per_vni_vlan_aware instead (inside scripts/vm only).
frr_vtep_setup() {
	local ns=$1 vtep=$2 peers=$3; shift 3
	if [ "${FRR_VTEP_MODEL:-bridges}" = vlan-aware ]; then
		vxlan_per_vni_vlan_aware "$ns" "$vtep" "$@"
	else
		vxlan_per_vni_bridges "$ns" "$vtep" "$@"
	fi
	mkdir -p "$PT_RUN/$ns"
	frr_vtep_conf "$vtep" ${peers//,/ } >"$PT_RUN/$ns.conf"
	frr_start "$ns" "$PT_RUN/$ns.conf"
}

# ------------------------------------------------------------------ GoBGP
# gobgpd_start NS TOML: start gobgpd in NS (gRPC on 127.0.0.1:50051 inside NS, pprof
# off, plain debug log to PT_RUN/NS/gobgpd.log, hostname NS); waits until the API answers.
gobgpd_start() {
	local ns=$1 conf=$2
	mkdir -p "$PT_RUN/$ns"
	cp "$conf" "$PT_RUN/$ns/gobgpd.toml" 2>/dev/null
	# own UTS namespace: the FQDN capability (73) then carries NS, not this machine's name
	pt_bg ip netns exec "$ns" unshare --uts sh -c "hostname $ns; exec gobgpd -f $conf -t toml \
		--api-hosts 127.0.0.1:50051 --pprof-disable -p -l debug" >"$PT_RUN/$ns/gobgpd.log" 2>&1
	wait_until 20 gobgp_cli "$ns" global || { fail "gobgpd-start-$ns" "API not answering (see gobgpd.log)"; return 1; }
}
# gobgp_client_conf ROUTER_ID PEER [FAMILY...]: print a gobgpd.toml for an iBGP (AS
# ${FRR_AS:-65000}) speaker on ROUTER_ID with one neighbor PEER (connect retry 2 s, hold 9,
# keepalive 3) and these GoBGP afi-safi-names (default l2vpn-evpn)
gobgp_client_conf() {
	local rid=$1 peer=$2 f
	shift 2
	[ $# -gt 0 ] || set -- l2vpn-evpn
	cat <<-EOF
	[global.config]
	  as = ${FRR_AS:-65000}
	  router-id = "$rid"
	  port = 179
	  local-address-list = ["$rid"]
	[[neighbors]]
	  [neighbors.config]
	    neighbor-address = "$peer"
	    peer-as = ${FRR_AS:-65000}
	  [neighbors.timers.config]
	    connect-retry = 2
	    hold-time = 9
	    keepalive-interval = 3
	EOF
	for f in "$@"; do
		printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' "$f"
	done
}
# gobgp_cli NS ARGS...: the gobgp CLI against NS's gobgpd
gobgp_cli() { local ns=$1; shift; ip netns exec "$ns" gobgp -u 127.0.0.1 -p 50051 "$@"; }
# gobgp_wait_established NS PEER TIMEOUT_S
gobgp_established() { [ "$(gobgp_cli "$1" neighbor "$2" -j 2>/dev/null | jq -r '.state.session_state')" = 6 ]; }
gobgp_wait_established() { wait_until "$3" gobgp_established "$1" "$2"; }

# ------------------------------------------------------------------ ExaBGP
# exabgp_start NS CONF: start exabgp 4 in NS in the foreground (backgrounded by us): no
# daemonizing, no privilege drop, no CLI pipes, log to PT_RUN/NS/exabgp.log with
# packets/routes/rib/message logging on. Extra env: EXABGP_ENV="exabgp.x.y=z ...";
# EXABGP_CMD replaces the `exabgp` command (e.g. "/usr/bin/python3 proto-tests/lib/exabgp-evpn.py",
# ExaBGP plus the "announce evpn ..." API commands)
exabgp_start() {
	local ns=$1 conf=$2
	mkdir -p "$PT_RUN/$ns"
	cp "$conf" "$PT_RUN/$ns/exabgp.conf" 2>/dev/null
	# shellcheck disable=SC2086
	pt_bg ip netns exec "$ns" env exabgp.daemon.daemonize=false exabgp.daemon.user=root exabgp.daemon.drop=false \
		exabgp.daemon.pid= exabgp.api.cli=false exabgp.log.destination="$PT_RUN/$ns/exabgp.log" \
		exabgp.log.level=DEBUG exabgp.log.packets=true exabgp.log.routes=true exabgp.log.rib=true \
		exabgp.log.message=true exabgp.log.parser=false ${EXABGP_ENV:-} \
		${EXABGP_CMD:-exabgp} "$conf" >"$PT_RUN/$ns/exabgp.stdout" 2>&1
	sleep 1
	kill -0 "$PT_LAST_PID" 2>/dev/null || { fail "exabgp-start-$ns" "exited: $(tail -5 "$PT_RUN/$ns/exabgp.stdout")"; return 1; }
}

# exabgp_evpn_start NS ROUTER_ID PEER: ExaBGP with lib/exabgp-evpn.py (EVPN API commands) in
# NS: one iBGP (AS ${FRR_AS:-65000}) l2vpn-evpn neighbor PEER, hold 9, reading API commands
# from PT_RUN/NS/exabgp-commands, which exabgp_cmd NS COMMAND... appends to
# (e.g. exabgp_cmd NS announce evpn multicast rd 198.19.0.7:10 ip 198.19.0.7 -- ...)
exabgp_evpn_start() {
	local ns=$1 rid=$2 peer=$3
	mkdir -p "$PT_RUN/$ns"
	: >"$PT_RUN/$ns/exabgp-commands"
	chmod 644 "$PT_RUN/$ns/exabgp-commands"
	cat >"$PT_RUN/$ns/exabgp-evpn.conf" <<-EOF
	process cmds {
		run /usr/bin/tail -n +1 -F $PT_RUN/$ns/exabgp-commands;
		encoder text;
	}
	neighbor $peer {
		router-id $rid;
		local-address $rid;
		local-as ${FRR_AS:-65000};
		peer-as ${FRR_AS:-65000};
		hold-time 9;
		family {
			l2vpn evpn;
		}
		api {
			processes [ cmds ];
		}
	}
	EOF
	EXABGP_CMD="/usr/bin/python3 $(dirname "${BASH_SOURCE[0]}")/exabgp-evpn.py" \
		EXABGP_ENV="exabgp.api.ack=false exabgp.api.respawn=false" exabgp_start "$ns" "$PT_RUN/$ns/exabgp-evpn.conf"
}
exabgp_cmd() { local ns=$1; shift; echo "$*" >>"$PT_RUN/$ns/exabgp-commands"; }

# ------------------------------------------------------------------ lab conventions
# host_mac VLAN I / host_ip VLAN I: the address of host I (VTEP nI's) on VLAN/VNI VLAN
host_mac() { printf '02:%02x:00:00:00:%02x' "$1" "$2"; }
host_ip() { echo "198.18.$1.$2"; }
# dump FILE CMD...: append "### CMD", its output and a blank line to FILE
dump() { local f=$1; shift; { echo "### $*"; "$@" 2>&1; echo; } >>"$f"; }
# strip: drop trailing blanks (iproute2 ends some lines with one)
strip() { sed 's/[[:space:]]*$//'; }
# vxlan_pairs PCAP: one line per VXLAN packet in PCAP: "<outer dst> <vni> <inner packet>"
vxlan_pairs() { tcpdump -nn -r "$1" 2>/dev/null | awk '/: VXLAN/ { dst = $5; sub(/\.4789:$/, "", dst); vni = $NF; if ((getline inner) > 0) print dst, vni, inner }'; }

# ------------------------------------------------------------------ capture
# pcap_start NS IFACE FILE [FILTER]: tcpdump in NS (full snaplen, -U), waits until it
# listens; PT_LAST_PID is its PID (pcap_stop PID to flush and stop it)
pcap_start() {
	local ns=$1 ifn=$2 file=$3 filter=${4:-tcp port 179}
	pt_bg ip netns exec "$ns" tcpdump -Z root -i "$ifn" -s 0 -U -w "$file" "$filter" 2>"$file.err" >/dev/null
	wait_until 15 grep -q 'listening on' "$file.err" || { fail "pcap-$ns" "tcpdump did not start"; return 1; }
}
pcap_stop() { kill "$1" 2>/dev/null; wait_until 10 pid_gone "$1"; }
