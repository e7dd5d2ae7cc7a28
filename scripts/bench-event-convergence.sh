#!/usr/bin/env bash
# scripts/bench-event-convergence.sh - how long a local event takes to reach another
# VTEP's kernel, hop by hop (issue 15), with evpnd at every hop: an evpnd reflector and
# three evpnd VTEPs (A, B, C) in one VLAN-aware VM (scripts/vm, TCG). Two events, R
# times each: a host moving from A to B (it reappears behind B and sends a frame) and a
# host removed from A (its port deleted); C is the remote VTEP.
#
# usage: scripts/bench-event-convergence.sh [--analyze RUN_DIR]
#   (no argument) builds evpnd (release), boots the VM once (~3-5 min), records, then
#   prints the per-hop table (median, min, max in ms) and appends one JSON line per
#   event and a summary line per kind to target/bench/event-convergence/<stamp>.jsonl;
#   the raw records stay in target/bench/event-convergence/<stamp>/vm/run/.
#   --analyze RUN_DIR  only the table and JSON lines again, from a recorded run
#   (RUN_DIR = target/bench/event-convergence/<stamp>).
# Hops (on the VM's one clock; exact definitions in bench-event-convergence/analyze.py):
#   notice       t0 trigger (host's first frame / port deletion) -> t1 local fdb notification
#   local_vtep   t1 -> t2 the local VTEP's UPDATE on the underlay (capture, BGP decoded)
#   reflector    t2 -> t3 the reflector's UPDATE to C
#   remote_vtep  t3 -> t4 C's kernel row (bridge -t monitor fdb)
# env: R (repetitions, default 5), EVPND_BIN (default: cargo build --release, then
# target/release/evpnd), BENCH_LABEL (added to the JSON lines), BENCH_LOG_LEVEL
# (evpnd's log level, default info), VM_TIMEOUT (default 600 s). Needs root.
# Not part of scripts/test.sh: a benchmark, see docs/benchmarking.md (Event convergence).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
OUT_ROOT=$PWD/target/bench/event-convergence

analyze() { # analyze RUN_DIR: the table, and the JSON lines to RUN_DIR.jsonl
	local run=${1%/} label
	label=$(cat "$run/label" 2>/dev/null || echo "${BENCH_LABEL:-}")
	rm -f "$run.jsonl"
	python3 scripts/bench-event-convergence/analyze.py --evpnd "$run/bin/evpnd" --label "$label" \
		--jsonl "$run.jsonl" "$run/vm/run"
	say bench "JSON lines: $run.jsonl"
}

if [ "${1:-}" = --analyze ]; then
	[ -n "${2:-}" ] || die "usage: $0 --analyze RUN_DIR"
	analyze "$2"
	exit $?
fi
[ $# = 0 ] || die "usage: $0 [--analyze RUN_DIR] (see its header)"
[ "$(id -u)" = 0 ] || die "$0: needs root (network namespaces in the VM, vng --user root)"

evpnd=${EVPND_BIN:-}
if [ -z "$evpnd" ]; then
	say bench "cargo build --release --bin evpnd ..."
	cargo build --release --bin evpnd
	evpnd=target/release/evpnd
fi
[ -x "$evpnd" ] || die "no executable $evpnd"
run=$OUT_ROOT/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$run/bin"
# a snapshot: a rebuild during the run must not swap the binary under the daemons
cp "$evpnd" "$run/bin/evpnd"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src crates 2>/dev/null || rev="$rev+dirty"
echo "evpnd $rev $([ -n "${EVPND_BIN:-}" ] && echo "$EVPND_BIN" || echo release), R=${R:-5}${BENCH_LABEL:+, $BENCH_LABEL}" >"$run/label"
say bench "run $run ($(cat "$run/label"))"
set +e
scripts/vm --timeout "${VM_TIMEOUT:-600}" --rwdir "$run" -- \
	env PT_OUT_DIR="$run/vm" EVPND_BIN="$run/bin/evpnd" R="${R:-5}" BENCH_LOG_LEVEL="${BENCH_LOG_LEVEL:-info}" \
	bash scripts/bench-event-convergence/inside.sh >"$run/vm.log" 2>&1
rc=$?
set -e
grep -E '^(PASS|FAIL) |booted in' "$run/vm.log" >&2 || true
[ $rc = 0 ] || say bench "the VM run ended with rc=$rc (see $run/vm.log); analysing what was recorded"
analyze "$run"
