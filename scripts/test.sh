#!/usr/bin/env bash
# scripts/test.sh - the project's one "run all tests" command (CI runs it via .ci/run).
#
# usage: scripts/test.sh [--quick]
#   steps, in order (all run; the exit code is non-zero if any failed):
#     1. scripts/install-deps.sh   (installs + verifies tools; its failure aborts at once;
#        it fails too when a script calls a command its package map does not know)
#        and scripts/lib/test_script_commands.py (the extractor install-deps relies on)
#     2. cargo fmt --all -- --check
#     3. cargo clippy --workspace --all-targets -- -D warnings, then
#        scripts/check-layering.sh (cargo tree: the pure crates pull no I/O)
#     4. cargo test --workspace --all-targets, then proto-tests/lib/test_evpn_routes.py, then
#        contrib/check.sh (promtool: the alerting rules and their unit tests, the
#        Grafana dashboard's queries)
#     5. cargo build --bins        (EVPND_BIN for the scenarios), then scripts/fuzz.sh 20
#        (every fuzz target 20 s, FUZZ_SECONDS to change it)
#     6. every executable proto-tests/*.sh scenario, one after another (needs root);
#        one whose "# proto-covered-by: NAME" line names a scenario that runs it whole
#        is run once, as that one
#   --quick: steps 1-4 only (no proto-tests, no VM).
#
# Scenario convention (see proto-tests/README.md): a scenario prints one line per
# check, "PASS <name>: detail" or "FAIL <name>: detail", and exits non-zero if any
# check failed. A scenario that exits non-zero without a FAIL line, or times out
# (PROTO_TIMEOUT, default 900 s or the scenario's "# proto-timeout: S" line), counts
# as one extra failure. Logs and artifacts
# go to target/proto-tests/<scenario>/, its output to target/proto-tests/<scenario>.log.
# The last line printed is
# "proto-tests: N passed, N failed" (N = checks over all scenarios).
# env: PROTO_FILTER=REGEX   only run scenarios whose file name matches
#      PROTO_TIMEOUT=S      per-scenario timeout
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
export REPO_ROOT=$PWD

quick=0
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	-h | --help) sed -n '2,31p' "$0"; exit 0 ;;
	*) die "scripts/test.sh: unknown argument '$a' (usage: scripts/test.sh [--quick])" ;;
	esac
done

T_ALL=$(now)
declare -a SUMMARY=()
FAILED_STEPS=0

# step NAME CMD...: run one step with a progress line and its duration
step() {
	local name=$1; shift
	local t; t=$(now)
	say test "==> $name: $*"
	if "$@"; then
		SUMMARY+=("ok    $name ($(since "$t")s)")
		say test "<== $name ok ($(since "$t")s)"
	else
		local rc=$?
		SUMMARY+=("FAIL  $name rc=$rc ($(since "$t")s)")
		say test "<== $name FAILED rc=$rc ($(since "$t")s)"
		FAILED_STEPS=$((FAILED_STEPS + 1))
		return $rc
	fi
}

# 1. dependencies: without them the results would be meaningless, so stop here
step install-deps scripts/install-deps.sh || { say test "dependencies missing: aborting"; exit 1; }
step deps-extractor python3 scripts/lib/test_script_commands.py

step cargo-fmt cargo fmt --all -- --check
step cargo-clippy cargo clippy --workspace --all-targets -- -D warnings
step layering scripts/check-layering.sh
step cargo-test cargo test --workspace --all-targets
step python-tests python3 proto-tests/lib/test_evpn_routes.py
step promtool-rules contrib/check.sh

print_summary() {
	say test "summary:"
	local l; for l in "${SUMMARY[@]}"; do echo "  $l" >&2; done
	say test "total $(since "$T_ALL")s"
}

if [ $quick = 1 ]; then
	print_summary
	[ $FAILED_STEPS = 0 ] || { say test "FAILED ($FAILED_STEPS step(s))"; exit 1; }
	say test "all steps passed (--quick: proto-tests and VM tests skipped)"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "proto-tests need root (network namespaces, FRR, the VM); run as root or use --quick"

step cargo-build cargo build --bins
export EVPND_BIN=$REPO_ROOT/target/debug/evpnd
# A smoke run of the fuzzing campaign: every target for FUZZ_SECONDS (20) under
# libFuzzer, seeded from the captures (installs nightly/cargo-fuzz when missing).
# 20 s, not more: six targets are two minutes of fuzzing, plus one build of them all,
# within CI's 45-minute budget; FUZZ_BUILD=smoke builds them unoptimized and without
# AddressSanitizer (about 2.5 min; the optimized ASan build of the campaign takes 8).
step fuzz-smoke env FUZZ_BUILD=smoke scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

# 6. proto-tests
PT_OUT=$REPO_ROOT/target/proto-tests
mkdir -p "$PT_OUT"
np=0 nf=0
for sc in proto-tests/*.sh; do
	[ -f "$sc" ] && [ -x "$sc" ] || continue
	name=$(basename "$sc" .sh)
	[ -n "${PROTO_FILTER:-}" ] && ! [[ $name =~ $PROTO_FILTER ]] && continue
	# A scenario another one runs whole ("# proto-covered-by: NAME": the demo runs
	# vtep-lab-vm) runs once, as that one, unless the filter leaves that one out.
	covered_by=$(sed -n 's/^# proto-covered-by: *\([a-z0-9-]*\).*/\1/p' "$sc" | head -1)
	if [ -n "$covered_by" ] && [ -x "proto-tests/$covered_by.sh" ] &&
		{ [ -z "${PROTO_FILTER:-}" ] || [[ $covered_by =~ $PROTO_FILTER ]]; }; then
		say test "--- proto-test $name: runs as part of proto-test $covered_by"
		continue
	fi
	# the log lives beside (not in) the scenario's directory: pt_init empties that one
	log=$PT_OUT/$name.log
	t=$(now)
	say test "==> proto-test $name (log: ${log#$REPO_ROOT/})"
	# own process group via plain timeout: a hung scenario's children die with it
	# a scenario may declare a longer limit in a "# proto-timeout: S" line
	limit=$(sed -n 's/^# proto-timeout: *\([0-9][0-9]*\).*/\1/p' "$sc" | head -1)
	limit=${PROTO_TIMEOUT:-${limit:-900}}
	PT_OUT_DIR=$PT_OUT/$name timeout -k 20 "$limit" "$sc" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^PASS ' "$log" 2>/dev/null) f=$(grep -c '^FAIL ' "$log" 2>/dev/null)
	[[ $p =~ ^[0-9]+$ ]] || p=0
	[[ $f =~ ^[0-9]+$ ]] || f=1
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "FAIL $name: scenario exited rc=$rc$([ "$rc" = 124 ] && echo " (timeout ${limit}s)") without a FAIL line"
	fi
	if [ "$rc" = 0 ] && [ "$f" != 0 ]; then
		echo "FAIL $name: scenario printed FAIL lines but exited 0 (counted as failed)"
	fi
	if [ "$rc" = 0 ] && [ "$p" = 0 ]; then
		f=$((f + 1))
		echo "FAIL $name: scenario exited 0 without any PASS line (a scenario must check something)"
	fi
	np=$((np + p)) nf=$((nf + f))
	if [ "$f" = 0 ]; then
		SUMMARY+=("ok    proto-test $name: $p passed ($(since "$t")s)")
	else
		SUMMARY+=("FAIL  proto-test $name: $p passed, $f failed, rc=$rc ($(since "$t")s)")
		FAILED_STEPS=$((FAILED_STEPS + 1))
	fi
	say test "<== proto-test $name: $p passed, $f failed, rc=$rc ($(since "$t")s)"
done

print_summary
echo "proto-tests: $np passed, $nf failed"
[ $FAILED_STEPS = 0 ] && [ $nf = 0 ]
