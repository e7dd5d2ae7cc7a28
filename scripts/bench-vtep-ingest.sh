#!/usr/bin/env bash
# scripts/bench-vtep-ingest.sh - end-to-end VTEP ingest (issue 15): how long a VTEP takes
# to turn N EVPN type-2 routes (MAC-only, or MAC+IP) received from one BGP peer into
# kernel rows, and to remove them again, evpnd against FRR 8.4's zebra, in one VM.
#
# usage: scripts/bench-vtep-ingest.sh [-n N] [-r REPS] [--cases "mac mac-ip"]
#                                     [--speakers "evpnd frr"] [--vnis V]
#
# One VM boot (scripts/vm: Debian's kernel under TCG; the host kernel has no VLAN
# filtering). Inside, per speaker (alternating, the order swapped every rep), case and
# rep: a fresh namespace with the VTEP (evpnd: VLAN-aware br0, one external vxlan0,
# SVIs; FRR 8.4 bgpd+zebra: br0 with one vxlan device per VNI, SVIs, neigh_suppress,
# advertise-all-vni), an injector peer (evpnd-loadgen inject) that announces N type-2
# routes (RT 65000:VNI, next hops 198.19.0.1.., on-link in the underlay) plus one type-3
# per VNI, and later withdraws them all in MP_UNREACH. Timed from the first byte of each
# stream to the kernel notification that completes it: N bridge fdb rows and N vxlan
# fdb rows (and N SVI neighbours for MAC+IP) present, then none; counted from the
# rtnetlink notifications by nlcount (scripts/bench-vtep-ingest/nlcount.c, built here
# with cc). Absolute times under TCG mean little; the ratio of the two speakers does.
#
# Output in target/bench/vtep-ingest/<UTC time>/ (and .../latest): runs.jsonl (one JSON
# line per run), summary.txt and summary.json (medians, ranges, ratios), vm.log, and
# artifacts/run/<speaker>-<case>-<rep>/ (daemon logs, counter and injector output).
# Needs root, target/release/evpnd and target/release/evpnd-loadgen:
#   cargo build --release -p evpnd -p evpnd-loadgen
# env: EVPND_BIN, LOADGEN_BIN (defaults: the release builds), VM_TIMEOUT (default 3000),
#   SETTLE (s between session up and announce, default 5), GAP (s between install and
#   withdraw, default 2), PHASE_TIMEOUT (default 300), VTEPS (remote VTEPs, default 1: the
#   load generator gives the MAC+IP routes of every VTEP of a VNI the same addresses)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

N=100000 REPS=3 CASES="mac mac-ip" SPEAKERS="evpnd frr" VNIS=10
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-r) REPS=$2; shift 2 ;;
	--cases) CASES=$2; shift 2 ;;
	--speakers) SPEAKERS=$2; shift 2 ;;
	--vnis) VNIS=$2; shift 2 ;;
	-h | --help) sed -n '2,31p' "$0"; exit 0 ;;
	*) die "scripts/bench-vtep-ingest.sh: unknown argument '$1' (see --help)" ;;
	esac
done
for c in $CASES; do [[ $c == mac || $c == mac-ip ]] || die "--cases: mac and/or mac-ip, not '$c'"; done
for s in $SPEAKERS; do [[ $s == evpnd || $s == frr ]] || die "--speakers: evpnd and/or frr, not '$s'"; done
[ "$(id -u)" = 0 ] || die "scripts/bench-vtep-ingest.sh: needs root (namespaces, the VM)"
EVPND_BIN=${EVPND_BIN:-target/release/evpnd}
LOADGEN_BIN=${LOADGEN_BIN:-target/release/evpnd-loadgen}
for b in "$EVPND_BIN" "$LOADGEN_BIN"; do
	[ -x "$b" ] || die "no executable $b: cargo build --release -p evpnd -p evpnd-loadgen"
done
"$LOADGEN_BIN" inject --help >/dev/null 2>&1 || die "$LOADGEN_BIN has no 'inject' sub-command: rebuild it"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=target/bench/vtep-ingest/$stamp
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
ln -sfn "$stamp" target/bench/vtep-ingest/latest
# snapshots: a rebuild on the host during the run must not change the binaries the guest
# reads over 9p
cp "$EVPND_BIN" "$out/bin/evpnd"
cp "$LOADGEN_BIN" "$out/bin/evpnd-loadgen"
cc -O2 -Wall -Wextra -Werror -o "$out/bin/nlcount" scripts/bench-vtep-ingest/nlcount.c
git rev-parse --short HEAD >"$out/commit" 2>/dev/null || true
say bench "vtep-ingest: N=$N reps=$REPS cases='$CASES' speakers='$SPEAKERS' VNIs=$VNIS, output in $out"

set +e
scripts/vm --timeout "${VM_TIMEOUT:-3000}" --rwdir "$out" -- \
	env BENCH_OUT="$out" EVPND_BIN="$out/bin/evpnd" LOADGEN_BIN="$out/bin/evpnd-loadgen" \
	NLCOUNT_BIN="$out/bin/nlcount" N="$N" REPS="$REPS" CASES="$CASES" SPEAKERS="$SPEAKERS" \
	VNIS="$VNIS" VTEPS="${VTEPS:-1}" SETTLE="${SETTLE:-5}" GAP="${GAP:-2}" \
	PHASE_TIMEOUT="${PHASE_TIMEOUT:-300}" bash scripts/bench-vtep-ingest/inside.sh 2>&1 | tee "$out/vm.log" >&2
rc=${PIPESTATUS[0]}
set -e
[ -s "$out/runs.jsonl" ] || die "no runs recorded (VM exit $rc; see $out/vm.log)"
python3 scripts/bench-vtep-ingest/result.py summary "$out/runs.jsonl" --json "$out/summary.json" | tee "$out/summary.txt"
say bench "VM exit $rc; runs in $out/runs.jsonl, summary in $out/summary.txt"
exit "$rc"
