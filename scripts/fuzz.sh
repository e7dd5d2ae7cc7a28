#!/usr/bin/env bash
# scripts/fuzz.sh - the fuzzing campaign (issue 14): every target in fuzz/fuzz_targets/
# (or the ones named) under libFuzzer for SECONDS each, seeded from fuzz/seeds/<target>
# (messages, sessions and captures from FRR, GoBGP and ExaBGP, control-socket request
# lines; fuzz/make_seeds.py writes the last three targets' seeds), with the corpus kept between runs in
# target/fuzz/corpus/<target>. Installs what it needs: the nightly toolchain (rustup;
# libFuzzer's sanitizer build needs -Z flags) and cargo-fuzz (cargo install --locked).
#
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default 600 s per target, all targets)
#   prints, per target, "PASS fuzz-<target>: N executions in S s, cov C, ft F, corpus K"
#   or "FAIL fuzz-<target>: ... crash <artifact>" (the input that crashed is kept in
#   fuzz/artifacts/<target>/; reproduce with `cargo +nightly fuzz run <target> <file>`);
#   the last line is "fuzz: N passed, N failed"; exit 1 if a target crashed.
# scripts/test.sh runs it with 20 s per target (a smoke run); the campaign figures in
# docs/architecture.md ("Fuzzing") come from runs of 600 s per target.
# env FUZZ_BUILD=smoke: an unoptimized build without AddressSanitizer (debug assertions
#   and overflow checks on): about 2.5 min to build instead of 8 on this machine, for the
#   test command's short run; the campaign default is an optimized ASan build.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

SECONDS_EACH=${1:-600}
shift || true
case $SECONDS_EACH in '' | *[!0-9]*) die "scripts/fuzz.sh: SECONDS must be a number, got '$SECONDS_EACH'" ;; esac

TOOLCHAIN=nightly
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
	say fuzz "installing the $TOOLCHAIN toolchain (rustup, minimal profile)"
	rustup toolchain install "$TOOLCHAIN" --profile minimal || die "cannot install the $TOOLCHAIN toolchain"
fi
if ! cargo +"$TOOLCHAIN" fuzz --version >/dev/null 2>&1; then
	say fuzz "installing cargo-fuzz (cargo install --locked cargo-fuzz)"
	cargo install --locked cargo-fuzz || die "cannot install cargo-fuzz"
fi

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

say fuzz "building ${targets[*]} (cargo +$TOOLCHAIN fuzz build, sanitizer on)"
# The same flags for the build and for each run (cargo fuzz run rebuilds otherwise).
case ${FUZZ_BUILD:-campaign} in
campaign) BUILD_FLAGS=(-O) ;;
smoke) BUILD_FLAGS=(--dev --sanitizer none) ;;
*) die "scripts/fuzz.sh: FUZZ_BUILD must be campaign or smoke, got '$FUZZ_BUILD'" ;;
esac
cargo +"$TOOLCHAIN" fuzz build "${BUILD_FLAGS[@]}" >/dev/null 2>target/fuzz-build.log || {
	tail -20 target/fuzz-build.log
	die "cargo fuzz build failed (target/fuzz-build.log)"
}

passed=0 failed=0
for t in "${targets[@]}"; do
	[ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "FAIL fuzz-$t: no such target in fuzz/fuzz_targets"; failed=$((failed + 1)); continue; }
	corpus=target/fuzz/corpus/$t
	mkdir -p "$corpus" "fuzz/artifacts/$t"
	log=target/fuzz/$t.log
	say fuzz "$t: ${SECONDS_EACH}s, seeds fuzz/seeds/$t, corpus $corpus"
	# -max_total_time bounds the run; -print_final_stats gives the execution count;
	# -malloc_limit_mb fails an input that makes a single allocation of more than
	# 512 MB (a length read from the input and trusted) instead of the default 2 GB
	# (the RSS limit): no input of a few kB needs that much.
	cargo +"$TOOLCHAIN" fuzz run "${BUILD_FLAGS[@]}" "$t" "$corpus" "fuzz/seeds/$t" -- \
		-max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-malloc_limit_mb=512 >"$log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+')
	ft=$(grep -oE 'ft: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+')
	corp=$(find "$corpus" -type f | wc -l)
	if [ $rc = 0 ] && [ -n "$done_line" ]; then
		echo "PASS fuzz-$t: ${execs:-?} executions in ${SECONDS_EACH} s, cov ${cov:-?}, ft ${ft:-?}, corpus $corp inputs"
		passed=$((passed + 1))
	else
		crash=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1)
		echo "FAIL fuzz-$t: rc $rc after ${execs:-?} executions; ${crash:-no artifact named}; $(grep -m1 -E 'panicked at|ERROR: ' "$log")"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed = 0 ]
