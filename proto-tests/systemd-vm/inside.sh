#!/usr/bin/env bash
# systemd-vm/inside.sh - runs INSIDE scripts/vm (root, Debian kernel with VLAN
# filtering), started by proto-tests/systemd-vm.sh: configs/evpnd.service under a
# real systemd, as a VTEP that snoops ARP on an address-less SVI.
#
#   sdv-rr 198.19.0.4: evpnd route reflector (plain process, VTEP = passive client)
#      | eth0 (veth)
#   sdv-vtep 198.19.0.1: the network namespace of a systemd-nspawn --boot container
#      (Debian 12 root SD_ROOT, volatile overlay, so nothing is written to it);
#      br0 (vlan_filtering 1, made here) with access port h1 (VLAN 10 untagged);
#      evpnd, installed as docs/systemd.md says (binary, sysusers, config, unit,
#      `systemctl enable --now`), makes vxlan0 and the SVI vlan10 (no address)
#      | h1 (veth)
#   sdv-h1 198.18.10.1, MAC 02:0a:00:00:00:01: sends ARP requests
#
# Checks (one line each): container-boot, sysusers, analyze-verify, enable-now,
# runs-as-evpnd, capabilities (CapEff/CapPrm/CapAmb/CapBnd exactly NET_ADMIN, NET_RAW,
# NET_BIND_SERVICE), sandbox (NoNewPrivs, seccomp), control-socket (owners, modes;
# `evpnd show` as root), show-neighbors (Established with the RR), show-vnis,
# vtep-devices, snooping (type-2 MAC+IP from ARP alone), snooping-rr (the RR has it),
# journal (no snooping warning, no error), reload (systemctl reload of the same file:
# no change), reload-refused (a router_id change: systemctl reload fails, nothing
# changes), upgrade (`evpnd upgrade` after the binary is installed again: same MainPID,
# the session with the RR never ends), security (systemd-analyze security
# exposure at most SD_MAX_EXPOSURE), stop (exit 0, Result=success, /run/evpnd gone),
# graceful-stop (no NOTIFICATION: the RR keeps the VTEP's routes as stale), control-no-af-packet (a drop-in without AF_PACKET makes
# the snooping warning appear, so the journal check can see the shipped bug),
# bad-config (exit status 2, failed, not restarted).
# env: SD_ROOT (the container root, made by systemd-vm.sh), EVPND_BIN, PT_OUT_DIR.
set -uo pipefail
source "$(dirname "$0")/../lib/harness.sh"
pt_init systemd-vm sdv

EVPND=${EVPND_BIN:-$REPO_ROOT/target/debug/evpnd}
ROOT=${SD_ROOT:-/var/lib/evpnd-tests/systemd-root}
MAX_EXPOSURE=${SD_MAX_EXPOSURE:-3.0}
HOST_MAC=02:0a:00:00:00:01
HOST_IP=198.18.10.1
[ -x "$EVPND" ] || { fail evpnd-binary "no executable $EVPND"; pt_finish; }
for tool in systemd-nspawn nsenter jq arping ip bridge; do
	command -v $tool >/dev/null || { fail tools "$tool missing (scripts/install-deps.sh; systemd-nspawn is in systemd-container)"; pt_finish; }
done
[ -x "$ROOT/usr/lib/systemd/systemd" ] || { fail container-root "$ROOT has no systemd (proto-tests/systemd-vm.sh builds it with debootstrap)"; pt_finish; }
if arping --help 2>&1 | grep -q Habets; then ARPING_IF=-i; else ARPING_IF=-I; fi

# ---------------------------------------------------------------- topology
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for ns in sdv-vtep sdv-rr sdv-h1; do ns_add $ns; done
link_pair sdv-vtep eth0 198.19.0.1/24 sdv-rr eth0 198.19.0.4/24
{
	echo "link add br0 address 02:b0:00:00:00:01 type bridge vlan_filtering 1 vlan_default_pvid 0 mcast_snooping 0"
	echo "link set br0 up"
	echo "link add h1 type veth peer name eth0 netns sdv-h1"
	echo "link set h1 master br0 up"
} | ip -n sdv-vtep -batch - || { fail topology "br0/h1 in sdv-vtep"; pt_finish; }
bridge -n sdv-vtep vlan add dev h1 vid 10 pvid untagged || { fail topology "VLAN 10 on h1"; pt_finish; }
printf 'link set eth0 address %s\naddr add %s/24 dev eth0\nlink set eth0 up\n' $HOST_MAC $HOST_IP | ip -n sdv-h1 -batch - ||
	{ fail topology "sdv-h1 eth0"; pt_finish; }

# ---------------------------------------------------------------- the route reflector
mkdir -p "$PT_RUN/rr"
cat >"$PT_RUN/rr/evpnd.toml" <<EOF
[bgp]
asn = 65000
router_id = "198.19.0.4"
cluster_id = "198.19.0.4"
listen = ["198.19.0.4"]
hold_time = 9
keepalive = 3
connect_retry = 2

[[neighbors]]
address = "198.19.0.1"
remote_as = 65000
description = "vtep"
route_reflector_client = true
passive = true

[control]
socket = "$PT_RUN/rr/evpnd.sock"
EOF
pt_bg ip netns exec sdv-rr env NO_COLOR=1 "$EVPND" run --config "$PT_RUN/rr/evpnd.toml" >"$PT_RUN/rr/evpnd.log" 2>&1
rr() { "$EVPND" --socket "$PT_RUN/rr/evpnd.sock" "$@"; }

# ---------------------------------------------------------------- what gets installed
# The files an administrator installs, from the repository (the unit and sysusers
# snippet exactly as shipped), in a directory the container sees read-only.
stage=$PT_RUN/stage
mkdir -p "$stage"
cp "$EVPND" "$stage/evpnd"
cp "$REPO_ROOT/configs/evpnd.service" "$REPO_ROOT/configs/evpnd.sysusers" "$stage/"
cat >"$stage/evpnd.toml" <<EOF
[bgp]
asn = 65000
router_id = "198.19.0.1"
listen = ["198.19.0.1"]
hold_time = 9
keepalive = 3
connect_retry = 2

[[neighbors]]
address = "198.19.0.4"
remote_as = 65000
description = "rr"
local_address = "198.19.0.1"

[vtep]
dataplane = "linux"
bridge = "br0"
vxlan_device = "vxlan0"
local_ip = "198.19.0.1"
bridge_mac = "02:b0:00:00:00:01"

[[vtep.vnis]]
vlan = 10
vni = 10
EOF
chmod -R a+rX "$stage"

# ---------------------------------------------------------------- the container
# --keep-unit/--register=no: the VM has no systemd of its own to ask for a scope.
# --capability=CAP_NET_ADMIN: nspawn keeps it only for a private network it made
# itself; a host running evpnd has it (the unit's bounding set is what limits it).
# --volatile=overlay: the cached root stays untouched (writes go to a tmpfs).
# QUIET_BOOT (arguments of the container's systemd, read like a kernel command line):
# units that have nothing to do with evpnd and cost seconds each under TCG.
QUIET_BOOT=()
for unit in console-getty.service systemd-logind.service systemd-user-sessions.service \
	systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-journal-flush.service \
	dev-hugepages.mount sys-fs-fuse-connections.mount apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer systemd-tmpfiles-clean.timer; do
	QUIET_BOOT+=("systemd.mask=$unit")
done
wait_until 20 rr show neighbors || { fail rr-start "RR control socket not answering: $(tail -3 "$PT_RUN/rr/evpnd.log")"; pt_finish; }
t_boot=$(now)
pt_bg systemd-nspawn --boot --keep-unit --register=no --quiet -D "$ROOT" --volatile=overlay \
	--machine=evpnd-sd --network-namespace-path=/run/netns/sdv-vtep --capability=CAP_NET_ADMIN \
	--bind-ro="$stage:/srv/evpnd-src" --console=read-only --resolv-conf=off --timezone=off \
	"${QUIET_BOOT[@]}" >"$PT_RUN/console.log" 2>&1
NSPAWN=$PT_LAST_PID
leader() { pgrep -P "$NSPAWN" | head -1; }
LEADER=
# run a command in the container, as its root with root's PATH (evpnd is in /usr/local/sbin)
cx() { nsenter -t "$LEADER" -a env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
booted() {
	LEADER=$(leader)
	[ -n "$LEADER" ] || return 1
	case $(cx systemctl is-system-running 2>/dev/null) in running | degraded) return 0 ;; *) return 1 ;; esac
}
if wait_until 120 booted; then
	state=$(cx systemctl is-system-running)
	if [ "$state" = running ]; then
		pass container-boot "systemd $(cx systemctl --version | awk 'NR==1{print $2}') PID 1 in the container, running after $(since "$t_boot")s"
	else
		fail container-boot "$state: failed units: $(cx systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
	fi
else
	fail container-boot "not running after 120 s: $(LEADER=$(leader); [ -n "$LEADER" ] && cx systemctl is-system-running 2>&1) $(tail -5 "$PT_RUN/console.log" | tr '\n' ' ')"
	pt_finish
fi
pt_log "container leader PID $LEADER (VM view)"
cx systemd-analyze time >"$PT_OUT/container-boot.txt" 2>&1
# The shutdown of the container (before pt_cleanup deletes its network namespace).
stop_container() {
	[ -n "${NSPAWN:-}" ] && kill -0 "$NSPAWN" 2>/dev/null || return 0
	cx journalctl --no-pager -o short-precise >"$PT_RUN/journal.txt" 2>&1
	kill -TERM "$NSPAWN"
	wait_until 30 pid_gone "$NSPAWN" || kill -9 "$NSPAWN"
}
trap 'rc=$?; stop_container; (exit $rc); pt_cleanup' EXIT

# ---------------------------------------------------------------- install, as documented
# docs/systemd.md's steps, run in the container as its root.
if cx sh -ec '
	install -m 0755 /srv/evpnd-src/evpnd /usr/local/sbin/evpnd
	install -m 0644 /srv/evpnd-src/evpnd.sysusers /usr/lib/sysusers.d/evpnd.conf
	systemd-sysusers
	install -d -m 0755 /etc/evpnd
	install -m 0640 -g evpnd /srv/evpnd-src/evpnd.toml /etc/evpnd/evpnd.toml
	install -m 0644 /srv/evpnd-src/evpnd.service /etc/systemd/system/evpnd.service
	systemctl daemon-reload' >"$PT_RUN/install.log" 2>&1; then
	:
else
	fail install "the documented install steps failed: $(tail -3 "$PT_RUN/install.log" | tr '\n' ' ')"
	pt_finish
fi
pt_log "installed"
IFS=: read -r _ _ EV_UID EV_GID _ _ EV_SHELL < <(cx getent passwd evpnd)
if [ -n "${EV_UID:-}" ] && [ "$EV_UID" -gt 0 ] && [ "$EV_UID" -lt 1000 ] && [ "$EV_SHELL" = /usr/sbin/nologin ] &&
	[ "$(cx getent group evpnd | cut -d: -f3)" = "$EV_GID" ]; then
	pass sysusers "systemd-sysusers made system user evpnd (uid $EV_UID, group evpnd gid $EV_GID, shell $EV_SHELL)"
else
	fail sysusers "user evpnd: '$(cx getent passwd evpnd)', group: '$(cx getent group evpnd)'"
	pt_finish
fi

verify=$(cx systemd-analyze verify /etc/systemd/system/evpnd.service 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$verify" ]; then
	pass analyze-verify "systemd-analyze verify: exit 0, no warnings"
else
	fail analyze-verify "systemd-analyze verify rc=$rc: $(echo "$verify" | tr '\n' ' ')"
fi

pt_log "verified"
t_start=$(now)
if out=$(cx systemctl enable --now evpnd 2>&1) && [ "$(cx systemctl is-enabled evpnd)" = enabled ]; then
	pass enable-now "systemctl enable --now evpnd: $(cx systemctl is-active evpnd), $(echo "$out" | grep -o 'Created symlink [^ ]*' | head -1)"
else
	fail enable-now "rc/output: $(echo "$out" | tr '\n' ' ') is-enabled $(cx systemctl is-enabled evpnd 2>&1)"
fi
show() { cx evpnd show "$@"; } # as root, through /run/evpnd/evpnd.sock
if ! wait_until 30 show vnis; then
	fail control-socket "evpnd show vnis (as root) fails after 30 s: $(show vnis 2>&1); status: $(cx systemctl status evpnd --no-pager 2>&1 | tail -5 | tr '\n' ' ')"
	pt_finish
fi
pt_log "control socket answering $(since "$t_start")s after enable --now"
INVOCATION=$(cx systemctl show -p InvocationID --value evpnd)
journal() { cx journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="$1"; }

# ---------------------------------------------------------------- identity and capabilities
PID=$(cx systemctl show -p MainPID --value evpnd)
status=$(cx cat "/proc/$PID/status" 2>/dev/null)
field() { awk -v k="$1:" '$1 == k {$1 = ""; sub(/^ /, ""); print}' <<<"$status"; } # fields space-separated
uids=$(field Uid) gids=$(field Gid)
if [ -n "$PID" ] && [ "$PID" != 0 ] && [ "$uids" = "$EV_UID $EV_UID $EV_UID $EV_UID" ] &&
	[ "$gids" = "$EV_GID $EV_GID $EV_GID $EV_GID" ]; then
	pass runs-as-evpnd "MainPID $PID ($(field Name)): real/effective/saved/fs uid $EV_UID, gid $EV_GID, not root"
else
	fail runs-as-evpnd "MainPID '$PID': Uid '$uids', Gid '$gids' (evpnd is $EV_UID/$EV_GID)"
fi
# Capability numbers (linux/capability.h): NET_BIND_SERVICE 10, NET_ADMIN 12, NET_RAW 13.
declare -A CAP_NAME=([10]=cap_net_bind_service [12]=cap_net_admin [13]=cap_net_raw)
want=$(( (1 << 10) | (1 << 12) | (1 << 13) ))
cap_names() { # hex mask -> names
	local m=$((16#$1)) i out=()
	for ((i = 0; i < 64; i++)); do (((m >> i) & 1)) && out+=("${CAP_NAME[$i]:-cap_$i}"); done
	local IFS=,; echo "${out[*]:-none}"
}
bad=""
for f in CapEff CapPrm CapAmb CapBnd; do
	v=$(field $f)
	[ -n "$v" ] && [ $((16#$v)) = $want ] || bad+=" $f=$v($(cap_names "${v:-0}"))"
done
if [ -z "$bad" ]; then
	pass capabilities "CapEff=CapPrm=CapAmb=CapBnd=$(field CapEff) ($(cap_names "$(field CapEff)"))"
else
	fail capabilities "want $(printf '%016x' $want) ($(cap_names "$(printf '%x' $want)")) in CapEff/CapPrm/CapAmb/CapBnd, got:$bad"
fi
if [ "$(field NoNewPrivs)" = 1 ] && [ "$(field Seccomp)" = 2 ]; then
	pass sandbox "NoNewPrivs 1, Seccomp 2 (filter, $(field Seccomp_filters) filters)"
else
	fail sandbox "NoNewPrivs '$(field NoNewPrivs)', Seccomp '$(field Seccomp)'"
fi

# ---------------------------------------------------------------- control socket, session, VTEP
pt_log "control socket, session, VTEP"
sock=$(cx stat -c '%U:%G %a %F' /run/evpnd/evpnd.sock 2>&1)
dir=$(cx stat -c '%U:%G %a' /run/evpnd 2>&1)
if [ "$sock" = "evpnd:evpnd 600 socket" ] && [ "$dir" = "evpnd:evpnd 750" ]; then
	pass control-socket "/run/evpnd $dir, evpnd.sock $sock; root's evpnd show answers"
else
	fail control-socket "/run/evpnd '$dir', evpnd.sock '$sock' (want evpnd:evpnd 750 / 600 socket)"
fi
established() { [ "$(show neighbors --json | jq -r '.[] | select(.address == "198.19.0.4") | .state')" = Established ]; }
t=$(now)
if wait_until 40 established; then
	pass show-neighbors "show neighbors: 198.19.0.4 Established ($(since "$t")s), families $(show neighbors --json | jq -c '.[0].families')"
else
	fail show-neighbors "show neighbors: $(show neighbors --json | jq -c '[.[] | {address, state, last_error}]'); RR log: $(tail -2 "$PT_RUN/rr/evpnd.log" | tr '\n' ' ')"
fi
vnis=$(show vnis --json)
if jq -e 'length == 1 and .[0].vni == 10 and .[0].vlan == 10' <<<"$vnis" >/dev/null; then
	pass show-vnis "show vnis: $(jq -c '[.[] | {vni, vlan, rd}]' <<<"$vnis")"
else
	fail show-vnis "show vnis: $vnis"
fi
vx=$(ip -n sdv-vtep -d link show vxlan0 2>&1)
if grep -q 'external' <<<"$vx" && grep -q 'master br0' <<<"$vx" && ip -n sdv-vtep link show vlan10 >/dev/null 2>&1 &&
	[ -z "$(ip -n sdv-vtep -br addr show dev vlan10 | awk '{print $3}')" ]; then
	pass vtep-devices "evpnd made vxlan0 (external, in br0) and the SVI vlan10 (no address) under the unit"
else
	fail vtep-devices "vxlan0: $(head -2 <<<"$vx" | tr '\n' ' '); vlan10: $(ip -n sdv-vtep -br addr show dev vlan10 2>&1)"
fi

# ---------------------------------------------------------------- snooping
pt_log "snooping"
# ARP requests for an address nobody has: only snooping can learn 198.18.10.1 (the
# SVI has no address, so no neighbour entry appears; nobody answers).
has_binding() { # has_binding SHOW-ROUTES-JSON-COMMAND...
	"$@" show routes --type 2 --json 2>/dev/null |
		jq -e --arg m $HOST_MAC --arg ip $HOST_IP 'any(.[]; .route_type == 2 and .mac == $m and .ip == $ip and .labels[0] == 10)' >/dev/null
}
arp_and_look() {
	ip netns exec sdv-h1 arping -c 1 -w 1 $ARPING_IF eth0 198.18.10.99 >/dev/null 2>&1
	has_binding cx evpnd
}
t=$(now)
if wait_until 30 arp_and_look; then
	pass snooping "after ARP from $HOST_IP: show routes has type-2 $HOST_MAC $HOST_IP VNI 10 ($(since "$t")s); neighbours on vlan10: $(ip -n sdv-vtep neigh show dev vlan10 | grep -c . )"
else
	fail snooping "no type-2 $HOST_MAC $HOST_IP after 30 s of ARP: $(show routes --type 2 --json | jq -c '[.[] | {mac, ip, labels}]'); journal: $(journal "$INVOCATION" | grep -iE 'snoop|warn' | tail -2 | tr '\n' ' ')"
fi
if wait_until 10 has_binding rr; then
	pass snooping-rr "the RR has it from 198.19.0.1: $(rr show routes --type 2 --json | jq -c --arg m $HOST_MAC '[.[] | select(.mac == $m) | {mac, ip, next_hop}]')"
else
	fail snooping-rr "RR type-2 routes: $(rr show routes --type 2 --json | jq -c '[.[] | {mac, ip, next_hop}]')"
fi
log=$(journal "$INVOCATION")
printf '%s\n' "$log" >"$PT_OUT/journal-evpnd.txt"
warns=$(grep -E ' (WARN|ERROR) ' <<<"$log")
if grep -qi 'snoop' <<<"$warns" || grep -q ' ERROR ' <<<"$warns" || [ -z "$log" ]; then
	fail journal "$(grep -ciE ' (WARN|ERROR) ' <<<"$log") warnings/errors, e.g.: $(grep -iE 'snoop|ERROR' <<<"$warns" | head -2 | tr '\n' ' ')"
else
	pass journal "$(grep -c . <<<"$log") lines from this start, no snooping warning, no error ($(grep -c . <<<"$warns" | sed 's/^0$/no/') other warnings)"
fi

# ---------------------------------------------------------------- reload
pt_log "reload"
# ExecReload=evpnd reload (as user evpnd, through the control socket): the same file is
# no change; a file changing bgp.router_id is refused, `systemctl reload` fails and
# nothing changes (generation, session); then the good file is put back.
generation() { show config --json | jq -r .generation; }
up_since() { show neighbors --json | jq -r '.[0].established_at_ms'; }
g0=$(generation) u0=$(up_since)
if out=$(cx systemctl reload evpnd 2>&1) && [ "$(generation)" = "$g0" ] && [ "$(up_since)" = "$u0" ] && [ "$u0" != null ]; then
	pass reload "systemctl reload: rc 0, generation $g0, session kept; journal: $(journal "$INVOCATION" | grep -o 'reload: no change.*' | tail -1)"
else
	fail reload "systemctl reload: '$out'; generation $(generation) (was $g0), session since $(up_since) (was $u0)"
fi
cx sh -ec 'cp -p /etc/evpnd/evpnd.toml /run/evpnd-good.toml
	sed -i "s/^router_id = .*/router_id = \"198.19.0.99\"/" /etc/evpnd/evpnd.toml'
out=$(cx systemctl reload evpnd 2>&1)
rc=$?
if [ $rc != 0 ] && [ "$(generation)" = "$g0" ] && [ "$(up_since)" = "$u0" ] && [ "$(cx systemctl is-active evpnd)" = active ] &&
	journal "$INVOCATION" | grep -q 'reload refused.*bgp.router_id'; then
	pass reload-refused "router_id changed: systemctl reload rc $rc, evpnd still active, generation $g0, session kept; journal: $(journal "$INVOCATION" | grep -o 'bgp.router_id: .*restart it to apply' | tail -1)"
else
	fail reload-refused "rc $rc '$out'; generation $(generation), $(cx systemctl is-active evpnd); journal: $(journal "$INVOCATION" | grep -i reload | tail -2 | tr '\n' ' ')"
fi
cx cp -p /run/evpnd-good.toml /etc/evpnd/evpnd.toml

# ---------------------------------------------------------------- upgrade
pt_log "upgrade"
# ADR 0010: the binary installed again (install(1) writes a new file, as a package
# manager does), then `evpnd upgrade` as root: the daemon executes it in its own place
# under the unit's sandbox: same MainPID and invocation, still active, the session
# with the RR never ended (its establishment time, the RR's view), the new image
# says it resumed it.
pid0=$(cx systemctl show -p MainPID --value evpnd) u0=$(up_since)
rr_up0=$(rr show neighbors --json | jq -r '.[0].established_at_ms')
cx install -m 0755 /srv/evpnd-src/evpnd /usr/local/sbin/evpnd
out=$(cx evpnd upgrade 2>&1)
rc=$?
pid1=$(cx systemctl show -p MainPID --value evpnd)
rr_up1=$(rr show neighbors --json | jq -r '.[0].established_at_ms')
if [ $rc = 0 ] && [ "$pid1" = "$pid0" ] && [ "$(cx systemctl is-active evpnd)" = active ] &&
	[ "$(up_since)" = "$u0" ] && [ "$rr_up1" = "$rr_up0" ] && [ "$rr_up0" != null ] &&
	journal "$INVOCATION" | grep -q 'resumed in Established'; then
	pass upgrade "evpnd upgrade: rc 0, MainPID $pid0 kept, active, the session with the RR never ended (established at $rr_up0 ms on both sides); '$(head -1 <<<"$out")'"
else
	fail upgrade "rc $rc '$(tr '\n' ' ' <<<"$out")'; MainPID $pid0 -> $pid1, $(cx systemctl is-active evpnd); session since $u0 -> $(up_since), RR's view $rr_up0 -> $rr_up1; journal: $(journal "$INVOCATION" | grep -iE 'hand|resum|exec' | tail -3 | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- security score
pt_log "security score"
sec=$(cx systemd-analyze security --no-pager evpnd 2>&1)
printf '%s\n' "$sec" >"$PT_OUT/systemd-analyze-security.txt"
score=$(grep -o 'Overall exposure level for evpnd.service: [0-9.]* [A-Z]*' <<<"$sec" | awk '{print $(NF-1), $NF}')
if [ -n "$score" ] && awk -v s="${score% *}" -v m="$MAX_EXPOSURE" 'BEGIN{exit !(s <= m)}'; then
	pass security "systemd-analyze security: exposure $score (at most $MAX_EXPOSURE; table in $PT_OUT/systemd-analyze-security.txt)"
else
	fail security "systemd-analyze security: exposure '${score:-none}' (want at most $MAX_EXPOSURE): $(tail -1 <<<"$sec")"
fi

# ---------------------------------------------------------------- stop
pt_log "stop"
t=$(now)
out=$(cx systemctl stop evpnd 2>&1)
rc=$?
props=$(cx systemctl show evpnd -p ActiveState -p Result -p ExecMainCode -p ExecMainStatus | sort | tr '\n' ' ')
# ExecMainCode 1 = CLD_EXITED (not killed by a signal)
if [ $rc = 0 ] && [ "$props" = "ActiveState=inactive ExecMainCode=1 ExecMainStatus=0 Result=success " ] &&
	! cx test -e /run/evpnd; then
	pass stop "systemctl stop: rc 0 in $(since "$t")s, $props, /run/evpnd removed"
else
	fail stop "systemctl stop rc=$rc $out: $props; /run/evpnd: $(cx ls -la /run/evpnd 2>&1 | tr '\n' ' ')"
fi
log=$(journal "$INVOCATION")
printf '%s\n' "$log" >"$PT_OUT/journal-evpnd.txt"
# Graceful restart (RFC 4724, ADR 0009): a stop closes the session without a
# NOTIFICATION, and the RR keeps the VTEP's routes as stale for its restart time
rr_kept() { rr show neighbors --json | jq -e '.[] | select(.address == "198.19.0.1") | .state != "Established" and (.last_error // "" | test("[Cc]ease") | not) and .stale_routes > 0' >/dev/null; }
if wait_until 10 rr_kept && grep -q 'closing the session without a NOTIFICATION' <<<"$log"; then
	pass graceful-stop "RR: 198.19.0.1 $(rr show neighbors --json | jq -r '.[] | select(.address == "198.19.0.1") | "\(.state), last error: \(.last_error), \(.stale_routes) routes kept as stale"'); evpnd logged the close without a NOTIFICATION"
else
	fail graceful-stop "RR: $(rr show neighbors --json | jq -c '[.[] | {address, state, last_error, stale_routes}]'); evpnd's last lines: $(tail -3 <<<"$log" | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- control: the shipped bug
pt_log "control: the shipped bug"
# The unit as it was (no AF_PACKET) must produce the warning the journal check looks for.
cx sh -ec 'mkdir -p /run/systemd/system/evpnd.service.d
	printf "[Service]\nRestrictAddressFamilies=\nRestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6\n" >/run/systemd/system/evpnd.service.d/no-packet.conf
	systemctl daemon-reload && systemctl start evpnd' >>"$PT_RUN/install.log" 2>&1
if wait_until 30 show vnis; then
	inv=$(cx systemctl show -p InvocationID --value evpnd)
	if wait_until 5 eval 'journal "$inv" | grep -q "cannot snoop ARP/ND"'; then
		pass control-no-af-packet "with RestrictAddressFamilies lacking AF_PACKET the journal says: $(journal "$inv" | grep -o 'cannot snoop ARP/ND[^;]*' | head -1)"
	else
		fail control-no-af-packet "no 'cannot snoop' warning without AF_PACKET: the journal check could not see the bug"
	fi
else
	fail control-no-af-packet "evpnd did not start with the drop-in: $(cx systemctl status evpnd --no-pager 2>&1 | tail -3 | tr '\n' ' ')"
fi
cx sh -c 'systemctl stop evpnd; rm -rf /run/systemd/system/evpnd.service.d; systemctl daemon-reload'

# ---------------------------------------------------------------- a bad config
# exit 2, shown as such, and no restart loop (RestartPreventExitStatus=2)
pt_log "bad config"
cx sh -c 'printf "[bgp]\nasn = \"x\"\n" >/etc/evpnd/evpnd.toml; systemctl start evpnd' >>"$PT_RUN/install.log" 2>&1
failed() { [ "$(cx systemctl show -p ActiveState --value evpnd)" = failed ]; }
if wait_until 20 failed; then
	sleep 3 # RestartSec=2: a restart would have happened by now
	props=$(cx systemctl show evpnd -p ActiveState -p Result -p ExecMainStatus -p NRestarts | sort | tr '\n' ' ')
	if [ "$props" = "ActiveState=failed ExecMainStatus=2 NRestarts=0 Result=exit-code " ]; then
		pass bad-config "$props; journal: $(cx journalctl -u evpnd -o cat --no-pager -n 20 | grep -m1 'bgp.asn')"
	else
		fail bad-config "$props (want failed, status 2, no restart)"
	fi
else
	fail bad-config "not failed after 20 s: $(cx systemctl show evpnd -p ActiveState -p Result -p NRestarts | tr '\n' ' ')"
fi
pt_finish
