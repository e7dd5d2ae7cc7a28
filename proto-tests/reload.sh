#!/usr/bin/env bash
# reload.sh - live reconfiguration of an evpnd route reflector (issue 13): `evpnd reload` and
# SIGHUP read the file again, validate it whole and apply only the difference.
#
# Host kernel, frr-pair.sh's VTEP model (per VNI a plain bridge br10 + vxlan10):
#
#   rl-h1 198.18.10.1 - rl-v1 FRR 198.19.0.1 --+                +-- rl-v3 FRR 198.19.0.3
#   rl-h2 198.18.10.2 - rl-v2 FRR 198.19.0.2 --+-- rl-ul ulsw --+   (not a neighbor at first)
#                                 rl-rr evpnd 198.19.0.4 (AS 65000, passive RR clients,
#                                 hold 9 s, metrics on 127.0.0.1:9180; tcpdump on its eth0)
#
# Each FRR VTEP peers with evpnd only (advertise-all-vni, VNI 10); zebra installs one flood
# row per remote VTEP and the remote host MACs in vxlan10. Checks (numbers in the detail):
#   1 start-*     v1 and v2 Established, generation 1; v3 is refused (not configured)
#   2 add-*       a reload adding v3: exit 0, generation 2, v3 Established; v1 and v2 keep
#                 their sessions (evpnd's established_at_ms and FRR's connectionsEstablished
#                 unchanged) and v1's kernel rows stay, plus a flood row for v3
#   3 bad-*       an unknown key, an invalid address, a router_id change: exit 2, the key
#                 named, generation and sessions unchanged
#   4 change-*    v2's hold_time changed: only v2's session is reset
#   5 remove-*    a reload without v3: v3 got Cease / Peer De-configured (on the wire and in
#                 FRR), it is gone from `show neighbors`, its row leaves v1's kernel, v1's other
#                 rows and v1/v2's sessions untouched
#   6 sighup-*    SIGHUP with v3 back and log level debug: generation +1, v3 up, debug lines
#   7 metric      evpnd_config_generation on the metrics endpoint = show config's generation
#   8 evpnd-log-clean: no panic, no ERROR, evpnd still running
# Artifacts: rr.pcap, rr-decoded.jsonl, evpnd-*.toml, reload-*.out.
set -uo pipefail
source "$(dirname "$0")/lib/harness.sh"
pt_init reload rl

EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
V1=198.19.0.1 V2=198.19.0.2 V3=198.19.0.3 RR=198.19.0.4
SOCK=$PT_RUN/evpnd.sock
CONF=$PT_RUN/evpnd.toml
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND (cargo build --bins, or set EVPND_BIN)"; pt_finish; }

t=$(now)
underlay_create
for n in rr v1 v2 v3; do ns_add rl-$n; done
underlay_attach rl-rr $RR/24
underlay_attach rl-v1 $V1/24
underlay_attach rl-v2 $V2/24
underlay_attach rl-v3 $V3/24
pcap_start rl-rr eth0 "$PT_OUT/rr.pcap" 'tcp port 179' || pt_finish
PCAP_PID=$PT_LAST_PID

# write_conf FILE [LEVEL] NEIGHBOR[:HOLD]...: the reflector's config with these passive RR
# clients (hold 9 s unless given); ROUTER_ID and EXTRA_NEIGHBOR_LINE (a line added to the
# last neighbor) change it for the refusal checks
write_conf() {
	local file=$1 level=$2 n addr hold
	shift 2
	cat >"$file" <<-EOF
		[bgp]
		asn = 65000
		router_id = "${ROUTER_ID:-$RR}"
		cluster_id = "$RR"
		listen = ["$RR"]
		hold_time = 9
		keepalive = 3
		connect_retry = 2
		families = ["l2vpn-evpn"]
	EOF
	for n in "$@"; do
		addr=${n%%:*} hold=9
		[[ $n == *:* ]] && hold=${n#*:}
		cat >>"$file" <<-EOF

			[[neighbors]]
			address = "$addr"
			remote_as = 65000
			route_reflector_client = true
			passive = true
			hold_time = $hold
		EOF
	done
	[ -n "${EXTRA_NEIGHBOR_LINE:-}" ] && echo "$EXTRA_NEIGHBOR_LINE" >>"$file"
	cat >>"$file" <<-EOF

		[control]
		socket = "$SOCK"
		mode = "0600"

		[log]
		level = "$level"
		format = "text"

		[metrics]
		listen = "127.0.0.1:9180"
	EOF
}
write_conf "$CONF" info $V1 $V2
cp "$CONF" "$PT_OUT/evpnd-1.toml"
mkdir -p "$PT_RUN/rl-rr"
pt_bg ip netns exec rl-rr env NO_COLOR=1 "$EVPND" run --config "$CONF" >"$PT_RUN/rl-rr/evpnd.log" 2>&1
EVPND_PID=$PT_LAST_PID
ev() { "$EVPND" --socket "$SOCK" "$@"; }
ev_json() { ev show "$@" --json 2>/dev/null; }
wait_until 10 ev show neighbors || { fail evpnd-start "control socket not answering: $(tail -3 "$PT_RUN/rl-rr/evpnd.log")"; pt_finish; }

frr_vtep_setup rl-v1 $V1 $RR 10 || pt_finish
frr_vtep_setup rl-v2 $V2 $RR 10 || pt_finish
frr_vtep_setup rl-v3 $V3 $RR 10 || pt_finish
host_attach rl-v1 br10 rl-h1 198.18.10.1/24 02:0a:00:00:00:01
host_attach rl-v2 br10 rl-h2 198.18.10.2/24 02:0a:00:00:00:02
pt_log "topology, evpnd and FRR started in $(since "$t")s"

generation() { ev_json config | jq -r .generation; }
state() { ev_json neighbors | jq -r --arg a "$1" '.[] | select(.address == $a) | .state'; }
up_at() { ev_json neighbors | jq -r --arg a "$1" '.[] | select(.address == $a) | .established_at_ms // "none"'; }
listed() { ev_json neighbors | jq -e --arg a "$1" 'any(.[]; .address == $a)' >/dev/null; }
established() { [ "$(state "$1")" = Established ]; }
frr_conns() { frr_vtysh "$1" "show bgp neighbors $RR json" | jq -r --arg p $RR '.[$p].connectionsEstablished'; }
# v1's remote rows in vxlan10 (flood rows and remote MACs), sorted
v1_rows() { bridge -n rl-v1 fdb show dev vxlan10 | grep ' dst ' | sort; }
v1_has_flood_to() { v1_rows | grep -q "^00:00:00:00:00:00 dst $1 "; }
# snapshot NAME: v1/v2's session start times (evpnd and FRR) and v1's kernel rows
snapshot() {
	printf '%s %s %s %s\n' "$(up_at $V1)" "$(up_at $V2)" "$(frr_conns rl-v1)" "$(frr_conns rl-v2)" >"$PT_OUT/sessions-$1.txt"
	v1_rows >"$PT_OUT/v1-rows-$1.txt"
}
# kept NAME: v1 and v2's sessions are those of snapshot NAME
kept() {
	local now
	now=$(printf '%s %s %s %s\n' "$(up_at $V1)" "$(up_at $V2)" "$(frr_conns rl-v1)" "$(frr_conns rl-v2)")
	[ "$now" = "$(cat "$PT_OUT/sessions-$1.txt")" ] && [[ $now != none* ]]
}
# reload_run NAME [evpnd reload args]: run `evpnd reload`, keep its stdout/stderr and status
reload_run() {
	local name=$1
	shift
	ev reload "$@" >"$PT_OUT/reload-$name.out" 2>"$PT_OUT/reload-$name.err"
	RELOAD_RC=$?
	RELOAD_OUT=$(cat "$PT_OUT/reload-$name.out" "$PT_OUT/reload-$name.err")
}

# ================================================================ 1. start
t=$(now)
if wait_until 60 eval 'established $V1 && established $V2'; then
	pass start-sessions "v1 and v2 Established $(since "$t")s after FRR started"
else
	fail start-sessions "$(ev_json neighbors | jq -c '[.[] | {address, state, last_error}]')"
	pt_finish
fi
gen=$(generation)
[ "$gen" = 1 ] && pass start-generation "show config: generation 1, file $(ev_json config | jq -r .path)" || fail start-generation "generation '$gen'"
# traffic from both hosts: the bridges learn their MACs, zebra advertises them (type 2)
nsx rl-h1 ping -c 2 -W 1 198.18.10.2 >/dev/null 2>&1
if wait_until 20 eval "v1_has_flood_to $V2 && v1_rows | grep -q '^02:0a:00:00:00:02 dst $V2'"; then
	pass start-kernel "v1's vxlan10 holds $(v1_rows | wc -l) remote rows: flood row and host MAC of v2"
else
	fail start-kernel "v1's vxlan10 rows: $(v1_rows | tr '\n' ';')"
fi
grep -q "refused connection from an address that is not a configured neighbor.*$V3\|$V3.*refused connection from an address that is not a configured neighbor" "$PT_RUN/rl-rr/evpnd.log" &&
	pass start-v3-refused "v3 ($V3) is not configured yet: its connections are refused" ||
	fail start-v3-refused "no refusal of $V3 in the log"
sleep 2
snapshot 1

# ================================================================ 2. add v3
write_conf "$CONF" info $V1 $V2 $V3
cp "$CONF" "$PT_OUT/evpnd-2.toml"
t=$(now)
reload_run add
if [ $RELOAD_RC = 0 ] && [ "$(generation)" = 2 ]; then
	pass add-reload "exit 0 in $(since "$t")s, generation 2: $(tr '\n' ' ' <"$PT_OUT/reload-add.out")"
else
	fail add-reload "exit $RELOAD_RC, generation $(generation): $RELOAD_OUT"
fi
check_within add-v3-established 30 established $V3
check_within add-v1-flood-row-for-v3 20 v1_has_flood_to $V3
if kept 1; then
	pass add-sessions-kept "v1/v2 established_at_ms and FRR connectionsEstablished unchanged: $(cat "$PT_OUT/sessions-1.txt")"
else
	fail add-sessions-kept "before: $(cat "$PT_OUT/sessions-1.txt"), now: $(up_at $V1) $(up_at $V2) $(frr_conns rl-v1) $(frr_conns rl-v2)"
fi
missing=$(comm -23 "$PT_OUT/v1-rows-1.txt" <(v1_rows))
[ -z "$missing" ] && pass add-kernel-rows-kept "v1's $(wc -l <"$PT_OUT/v1-rows-1.txt") earlier rows all still there, now $(v1_rows | wc -l)" ||
	fail add-kernel-rows-kept "rows gone: $missing"
snapshot 2

# ================================================================ 3. bad files change nothing
refused() { # refused NAME KEY: the last reload exited 2, named KEY, changed nothing
	local name=$1 key=$2
	if [ $RELOAD_RC = 2 ] && [[ $RELOAD_OUT == *"$key"* ]] && [ "$(generation)" = 2 ] && kept 2 && established $V3; then
		pass "bad-$name" "exit 2, generation 2 still, sessions kept: $(head -1 "$PT_OUT/reload-$name.err")"
	else
		fail "bad-$name" "exit $RELOAD_RC, generation $(generation), sessions $(up_at $V1) $(up_at $V2): $RELOAD_OUT"
	fi
}
EXTRA_NEIGHBOR_LINE='colour = "blue"' write_conf "$CONF" info $V1 $V2 $V3
reload_run unknown-key
refused unknown-key colour
write_conf "$CONF" info $V1 $V2 $V3 198.19.0.x
reload_run bad-address
refused bad-address 'neighbors[3].address'
ROUTER_ID=198.19.0.5 write_conf "$CONF" info $V1 $V2 $V3
reload_run router-id
refused router-id 'bgp.router_id'
[[ $RELOAD_OUT == *restart* ]] && pass bad-router-id-says-restart "the refusal says a restart applies it" || fail bad-router-id-says-restart "$RELOAD_OUT"
last=$(ev_json config | jq -r .last_refused)
[[ $last == *bgp.router_id* ]] && pass bad-show-config "show config: last refused reload named: ${last:0:120}" || fail bad-show-config "last_refused: $last"

# ================================================================ 4. v2 changed: only v2 resets
v2_before=$(up_at $V2)
v1_before=$(up_at $V1)
write_conf "$CONF" info $V1 $V2:12 $V3
cp "$CONF" "$PT_OUT/evpnd-3.toml"
reload_run change
[ $RELOAD_RC = 0 ] && [ "$(generation)" = 3 ] && pass change-reload "generation 3: $(tr '\n' ' ' <"$PT_OUT/reload-change.out")" || fail change-reload "exit $RELOAD_RC: $RELOAD_OUT"
v2_new() { established $V2 && [ "$(up_at $V2)" != "$v2_before" ]; }
check_within change-v2-reset 30 v2_new
[ "$(up_at $V1)" = "$v1_before" ] && established $V3 && pass change-others-kept "v1 established_at_ms $v1_before unchanged, v3 Established" ||
	fail change-others-kept "v1 $(up_at $V1) (was $v1_before), v3 $(state $V3)"
# v2's reset withdrew its routes for a moment: the snapshot waits for its rows to be back
nsx rl-h1 ping -c 2 -W 1 198.18.10.2 >/dev/null 2>&1
wait_until 20 eval "v1_has_flood_to $V2 && v1_has_flood_to $V3 && v1_rows | grep -q '^02:0a:00:00:00:02 dst $V2'" ||
	fail change-v2-rows-back "v1's rows: $(v1_rows | tr '\n' ';')"
snapshot 4

# ================================================================ 5. remove v3
write_conf "$CONF" info $V1 $V2:12
cp "$CONF" "$PT_OUT/evpnd-4.toml"
t=$(now)
reload_run remove
frr_v3=$(frr_vtysh rl-v3 "show bgp neighbors $RR json" | jq -c --arg p $RR '.[$p] | {bgpState, lastResetDueTo, lastNotificationReason, lastErrorCodeSubcode}')
if [ $RELOAD_RC = 0 ] && [ "$(generation)" = 4 ]; then
	pass remove-reload "exit 0 in $(since "$t")s, generation 4: $(tr '\n' ' ' <"$PT_OUT/reload-remove.out")"
else
	fail remove-reload "exit $RELOAD_RC: $RELOAD_OUT"
fi
listed $V3 && fail remove-gone "v3 still in show neighbors" || pass remove-gone "v3 no longer in show neighbors"
[[ $frr_v3 == *Unconfigured* || $frr_v3 == *"De-configured"* || $frr_v3 == *'"060300"'* || $frr_v3 == *'"0603"'* ]] &&
	pass remove-frr-saw-cease "FRR v3 right after the reload: $frr_v3" ||
	fail remove-frr-saw-cease "FRR v3: $frr_v3"
sleep 1
pcap_stop $PCAP_PID
"$EVPND" decode --pcap "$PT_OUT/rr.pcap" --json >"$PT_OUT/rr-decoded.jsonl" 2>"$PT_OUT/rr-decoded.err"
cease=$(jq -c --arg v3 $V3 'select(.type == "NOTIFICATION" and (.dst | startswith($v3))) | .message.Notification.code' "$PT_OUT/rr-decoded.jsonl" | sort | uniq -c | tr '\n' ' ')
[[ $cease == *PeerDeconfigured* ]] && pass remove-wire-cease "NOTIFICATIONs evpnd sent v3 (count code): $cease" || fail remove-wire-cease "to v3: '$cease'"
gone() { ! v1_has_flood_to $V3; }
check_within remove-v1-row-for-v3-gone 20 gone
missing=$(comm -23 <(grep -v " dst $V3 " "$PT_OUT/v1-rows-4.txt") <(v1_rows))
[ -z "$missing" ] && [ -s "$PT_OUT/v1-rows-4.txt" ] && pass remove-kernel-rows-kept "v1's $(grep -vc " dst $V3 " "$PT_OUT/v1-rows-4.txt") rows for v2 unchanged" || fail remove-kernel-rows-kept "gone: $missing"
kept 4 && pass remove-sessions-kept "v1/v2 sessions unchanged: $(cat "$PT_OUT/sessions-4.txt")" ||
	fail remove-sessions-kept "before $(cat "$PT_OUT/sessions-4.txt"), now $(up_at $V1) $(up_at $V2) $(frr_conns rl-v1) $(frr_conns rl-v2)"

# ================================================================ 6. SIGHUP: v3 back, log level debug
write_conf "$CONF" debug $V1 $V2:12 $V3
cp "$CONF" "$PT_OUT/evpnd-5.toml"
lines=$(wc -l <"$PT_RUN/rl-rr/evpnd.log")
# `ip netns exec` execs evpnd: PT_LAST_PID is evpnd itself
kill -HUP "$EVPND_PID"
check_within sighup-generation 10 eval '[ "$(generation)" = 5 ]'
check_within sighup-v3-established 30 established $V3
# the reload logs its whole plan at DEBUG, after setting the new level
debug_lines() { tail -n +"$lines" "$PT_RUN/rl-rr/evpnd.log" | grep -c ' DEBUG .*reload plan'; }
check_within sighup-log-level-debug 15 eval '[ "$(debug_lines)" -gt 0 ]'
kept 4 && pass sighup-sessions-kept "v1/v2 sessions unchanged" || fail sighup-sessions-kept "now $(up_at $V1) $(up_at $V2)"

# ================================================================ 7. metric
scrape() { nsx rl-rr timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9180; printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3'; }
metric=$(scrape | grep '^evpnd_config_generation ' | cut -d' ' -f2 | tr -d '\r')
[ "$metric" = "$(generation)" ] && pass metric "evpnd_config_generation $metric" || fail metric "metric '$metric', show config $(generation)"

# ================================================================ 8. log
if ! kill -0 "$EVPND_PID" 2>/dev/null; then
	fail evpnd-log-clean "evpnd is no longer running"
elif grep -E 'panicked| ERROR ' "$PT_RUN/rl-rr/evpnd.log" >"$PT_OUT/log-problems.txt"; then
	fail evpnd-log-clean "$(head -3 "$PT_OUT/log-problems.txt")"
else
	pass evpnd-log-clean "no panic, no ERROR; $(grep -c 'configuration reloaded' "$PT_RUN/rl-rr/evpnd.log") reloads applied, $(grep -c 'reload refused' "$PT_RUN/rl-rr/evpnd.log") refused"
fi
pt_finish
