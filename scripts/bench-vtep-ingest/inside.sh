#!/usr/bin/env bash
# scripts/bench-vtep-ingest/inside.sh - the body of scripts/bench-vtep-ingest.sh, run INSIDE
# scripts/vm (a VLAN-aware bridge needs Debian's kernel). Do not call it directly.
#
# Per run (speaker x case x rep, speakers alternating, their order swapped every rep):
#   namespace vti-v: the VTEP under test, eth0 198.19.0.250/24;
#   namespace vti-i: the injector (evpnd-loadgen inject), eth0 198.19.0.254/24, one iBGP
#     session (AS 65000) to the VTEP. The remote VTEPs of the routes (198.19.0.1..)
#     are on-link in 198.19.0.0/24: reachable (connected route), never answering;
#   evpnd: its own br0 (vlan_filtering), one `external` vxlan0, VLAN V <-> VNI V, SVIs
#     vlan<V> (all created by evpnd from its config);
#   frr:   FRR 8.4 zebra + bgpd, `advertise-all-vni`, br0 with one vxlan<V> per VNI as
#     access port of VLAN V, SVI vlan<V>, neigh_suppress on (proto-tests/lib/harness.sh's
#     vxlan_per_vni_vlan_aware, the model of docs/lab.md);
#   nlcount (this directory) counts the remote rows from the kernel's notifications.
# Then: session up, SETTLE s, announce (N type-2 + one type-3 per VNI), until nlcount
# sees N bridge fdb rows, N vxlan fdb rows (and N SVI neighbours for MAC+IP); a pause;
# withdraw (MP_UNREACH of every NLRI) until all are gone; close. One JSON line per run
# to $BENCH_OUT/runs.jsonl (result.py run).
#
# env (set by scripts/bench-vtep-ingest.sh): BENCH_OUT, EVPND_BIN, LOADGEN_BIN, NLCOUNT_BIN,
#   N, REPS, CASES ("mac mac-ip"), SPEAKERS ("evpnd frr"), VNIS, VTEPS, SETTLE,
#   PHASE_TIMEOUT, GAP
set -uo pipefail
cd "$(dirname "$0")/../.."
PT_OUT_DIR=$BENCH_OUT/artifacts
source proto-tests/lib/harness.sh
HERE=$REPO_ROOT/scripts/bench-vtep-ingest

N=${N:-100000} REPS=${REPS:-3} CASES=${CASES:-mac mac-ip} SPEAKERS=${SPEAKERS:-evpnd frr}
VNIS=${VNIS:-10} VTEPS=${VTEPS:-1} SETTLE=${SETTLE:-5} PHASE_TIMEOUT=${PHASE_TIMEOUT:-300} GAP=${GAP:-2}
VNI_BASE=100
VTEP_IP=198.19.0.250 INJ_IP=198.19.0.254
V=vti-v I=vti-i

pt_init bench-vtep-ingest vti
# a throw-away VM: room for the counter's receive buffer (SO_RCVBUFFORCE ignores the
# cap, this is for everyone else), new namespaces inherit IPv6 off
# extern_learn neighbours are outside the ARP table's garbage collection; its limits
# (global, not per namespace) are raised anyway so neither speaker can meet them
sysctl -qw net.ipv4.neigh.default.gc_thresh1=1048576 net.ipv4.neigh.default.gc_thresh2=1048576 net.ipv4.neigh.default.gc_thresh3=1048576
sysctl -qw net.core.rmem_max=268435456 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.core.devconf_inherit_init_net=1
clk_tck=$(getconf CLK_TCK)
vnis=$(seq "$VNI_BASE" $((VNI_BASE + VNIS - 1)))

# proc_sample PID...: "cpu_s user_s sys_s hwm_kb rss_kb" per PID, one line each (utime+stime,
# utime, stime of the whole process, all threads; VmHWM; VmRSS)
proc_sample() {
	local p
	for p in "$@"; do
		awk -v tck="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.3f %.3f %.3f", ($12 + $13) / tck, $12 / tck, $13 / tck }' "/proc/$p/stat"
		awk '/^VmHWM:/{h=$2} /^VmRSS:/{r=$2} END{printf " %d %d\n", h, r}' "/proc/$p/status"
	done
}

# wait_line FILE REGEX TIMEOUT_S: poll FILE every 0.1 s until a line matches
wait_line() {
	local f=$1 re=$2 end
	end=$(awk -v t="$3" -v n="$(date +%s.%N)" 'BEGIN{printf "%.3f", n+t}')
	until grep -qE "$re" "$f" 2>/dev/null; do
		awk -v e="$end" -v n="$(date +%s.%N)" 'BEGIN{exit !(n>=e)}' && return 1
		sleep 0.1
	done
}

evpnd_conf() { # DIR
	local v
	cat <<-EOF
	[bgp]
	asn = 65000
	router_id = "$VTEP_IP"
	listen = ["$VTEP_IP"]
	hold_time = 90
	families = ["l2vpn-evpn"]

	[[neighbors]]
	address = "$INJ_IP"
	remote_as = 65000
	description = "injector"
	passive = true

	[vtep]
	dataplane = "linux"
	bridge = "br0"
	vxlan_device = "vxlan0"
	local_ip = "$VTEP_IP"
	vxlan_port = 4789
	bridge_mac = "02:b0:00:00:00:fa"
	EOF
	for v in $vnis; do printf '\n[[vtep.vnis]]\nvlan = %s\nvni = %s\n' "$v" "$v"; done
	# info, and the VTEP's kernel batches ("kernel updated applied=N") at debug
	printf '\n[control]\nsocket = "%s/evpnd.sock"\nmode = "0600"\n\n[log]\nlevel = "info,evpnd::vtep=debug"\nformat = "text"\n' "$1"
}

frr_conf() {
	cat <<-EOF
	frr defaults datacenter
	log timestamp precision 3
	!
	router bgp 65000
	 bgp router-id $VTEP_IP
	 no bgp default ipv4-unicast
	 neighbor $INJ_IP remote-as 65000
	 neighbor $INJ_IP passive
	 neighbor $INJ_IP timers 30 90
	 !
	 address-family l2vpn evpn
	  neighbor $INJ_IP activate
	  advertise-all-vni
	 exit-address-family
	!
	EOF
}

# run_one SPEAKER CASE REP
run_one() {
	local sp=$1 case=$2 rep=$3 d pids=() names="" ntarget=0 macip=() ok=1 err="" v p
	d=$PT_RUN/$sp-$case-$rep
	mkdir -p "$d"
	[ "$case" = mac-ip ] && { ntarget=$N; macip=(--mac-ip); }
	pt_log "run $sp $case rep $rep: N=$N VNIs=$VNIS"
	ns_add $V
	ns_add $I
	link_pair $V eth0 $VTEP_IP/24 $I eth0 $INJ_IP/24
	case $sp in
	evpnd)
		evpnd_conf "$d" >"$d/evpnd.toml"
		pt_bg ip netns exec $V env NO_COLOR=1 "$EVPND_BIN" run --config "$d/evpnd.toml" >"$d/evpnd.log" 2>&1
		pids=("$PT_LAST_PID") names="evpnd"
		for v in $vnis; do
			wait_until 60 ip -n $V link show "vlan$v" || { err="evpnd: no SVI vlan$v after 60 s"; break; }
		done
		;;
	frr)
		# shellcheck disable=SC2086 # one argument per VNI
		vxlan_per_vni_vlan_aware $V $VTEP_IP $vnis
		chown frr:frr "$d"
		frr_conf >"$d/frr.conf"
		if frr_start $V "$d/frr.conf"; then
			pids=("$(cat /var/run/frr/$V/bgpd.pid)" "$(cat /var/run/frr/$V/zebra.pid)") names="bgpd zebra"
		else
			err="frr did not start"
		fi
		;;
	esac
	if [ -z "$err" ]; then
		pt_bg ip netns exec $V "$NLCOUNT_BIN" "$N" "$ntarget" 02:eb >"$d/count.txt" 2>"$d/count.err"
		local counter=$PT_LAST_PID
		wait_line "$d/count.txt" '^ready' 10 || err="nlcount did not start: $(cat "$d/count.err")"
	fi
	if [ -z "$err" ]; then
		# the injector's commands: a FIFO held open read-write here (so opening it does not
		# block), closed in the injector's copy of our descriptors
		mkfifo "$d/cmd"
		exec 7<>"$d/cmd"
		# not pt_bg: a background command's stdin is /dev/null unless redirected on it
		ip netns exec $I "$LOADGEN_BIN" inject --speaker $VTEP_IP --injector-addr $INJ_IP \
			--router-id $INJ_IP --hold 180 --establish-timeout 120 -n "$N" --vteps "$VTEPS" \
			--vnis "$VNIS" --vni-base $VNI_BASE --vtep-base 198.19.0.0 "${macip[@]}" \
			--label "speaker=$sp" --label "rep=$rep" <"$d/cmd" >"$d/inject.jsonl" 2>"$d/inject.err" 7>&- &
		local injector=$!
		PT_PIDS+=("$injector")
		if wait_line "$d/inject.jsonl" '"event":"established"' 150; then
			sleep "$SETTLE"
			proc_sample "${pids[@]}" >"$d/proc-idle.txt"
			# VmHWM from here on: the peak while routes come and go
			for p in "${pids[@]}"; do echo 5 >"/proc/$p/clear_refs"; done
			echo announce >&7
			if wait_line "$d/count.txt" '^install ' "$PHASE_TIMEOUT"; then
				proc_sample "${pids[@]}" >"$d/proc-install.txt"
				sleep "$GAP"
				proc_sample "${pids[@]}" >"$d/proc-gap.txt"
				echo withdraw >&7
				wait_line "$d/count.txt" '^withdraw ' "$PHASE_TIMEOUT" || err="withdraw: rows left after ${PHASE_TIMEOUT}s: $(grep '^progress' "$d/count.txt" | tail -1)"
				proc_sample "${pids[@]}" >"$d/proc-withdraw.txt"
			else
				err="install: not all rows after ${PHASE_TIMEOUT}s: $(grep '^progress' "$d/count.txt" | tail -1)"
			fi
		else
			err="injector: no session: $(tail -2 "$d/inject.jsonl" "$d/inject.err" | tr '\n' ' ')"
		fi
		echo close >&7
		exec 7>&-
		wait_until 15 pid_gone "$injector" || kill "$injector"
		kill "$counter"
		wait_until 5 pid_gone "$counter"
	fi
	[ -n "$err" ] && { ok=0; pt_log "ERROR $sp $case rep $rep: $err"; }
	case $sp in
	evpnd)
		for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait_until 10 pid_gone "$p" || kill -9 "$p"; done
		;;
	frr)
		frr_vtysh $V "show bgp l2vpn evpn summary" "show evpn vni" >"$d/frr-show.txt" 2>&1
		frr_stop $V
		mv "$PT_RUN/$V/"*.log "$d/" 2>/dev/null
		;;
	esac
	python3 "$HERE/result.py" run --dir "$d" --speaker "$sp" --case "$case" --rep "$rep" --reps "$REPS" \
		--n "$N" --vnis "$VNIS" --vteps "$VTEPS" --procs "$names" --ok "$ok" --error "$err" >>"$BENCH_OUT/runs.jsonl"
	tail -1 "$BENCH_OUT/runs.jsonl" >&2
	# the next run starts from nothing: namespaces (and whatever still runs in them)
	pt_sweep
	PT_NS=() PT_FRR_NS=() PT_PIDS=()
}

pt_log "kernel $(uname -r), $(nproc) CPUs; N=$N reps=$REPS cases='$CASES' speakers='$SPEAKERS' VNIs=$VNIS VTEPs=$VTEPS"
for rep in $(seq "$REPS"); do
	# alternate which speaker goes first
	read -ra order <<<"$SPEAKERS"
	if [ $((rep % 2)) = 0 ]; then
		rev=()
		for ((k = ${#order[@]} - 1; k >= 0; k--)); do rev+=("${order[k]}"); done
		order=("${rev[@]}")
	fi
	for case in $CASES; do
		for sp in "${order[@]}"; do run_one "$sp" "$case" "$rep"; done
	done
done
pt_log "done"
