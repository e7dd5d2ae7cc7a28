#!/usr/bin/env bash
# scripts/fuzz.sh - the fuzzing campaign (issue 14): every target in fuzz/fuzz_targets/
# (or the ones named) under libFuzzer for SECONDS each, seeded from fuzz/seeds/<target>
# (messages captured from FRR, GoBGP and ExaBGP), with the corpus kept between runs in
# target/fuzz/corpus/<target>. Installs what it needs: the nightly toolchain (rustup;
# libFuzzer's sanitizer build needs -Z flags) and cargo-fuzz (cargo install --locked).
#
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default 600 s per target, all targets)
#   prints, per target, "PASS fuzz-<target>: N executions in S s, cov C, ft F, corpus K"
#   or "FAIL fuzz-<target>: ... crash <artifact>" (the input that crashed is kept in
#   fuzz/artifacts/<target>/; reproduce with `cargo +nightly fuzz run <target> <file>`);
#   the last line is "fuzz: N passed, N failed"; exit 1 if a target crashed.
# scripts/test.sh runs it with 30 s per target (a smoke run); the campaign figures in
# the issue notes come from runs of 600 s or more.
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
cargo +"$TOOLCHAIN" fuzz build -O >/dev/null 2>target/fuzz-build.log || {
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
	# -max_total_time bounds the run; -print_final_stats gives the execution count.
	cargo +"$TOOLCHAIN" fuzz run -O "$t" "$corpus" "fuzz/seeds/$t" -- \
		-max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1
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
