# scripts/lib/common.sh - small bash helpers shared by scripts/ and proto-tests/lib/.
# Source it; it defines functions only (no side effects besides REPO_ROOT).
# Functions: now, since, elapsed_fmt, say, die, wait_until, newest_kernel, repo_root

# repo root = two levels above this file (scripts/lib/common.sh)
REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# now: epoch seconds with fractions (for timings)
now() { date +%s.%N; }

# since T0: seconds elapsed since T0 (from `now`), one decimal
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# say TAG MESSAGE...: one progress line on stderr, e.g. "[test] cargo fmt ..."
say() { local tag=$1; shift; echo "[$tag] $*" >&2; }

# die MESSAGE...: print "FATAL: ..." on stderr and exit 1
die() { echo "FATAL: $*" >&2; exit 1; }

# wait_until TIMEOUT_S CMD...: run CMD every 0.5 s until it exits 0 (return 0)
# or TIMEOUT_S seconds have passed (return 1). CMD output is discarded.
wait_until() {
	local timeout=$1; shift
	local end; end=$(awk -v t="$timeout" -v n="$(date +%s.%N)" 'BEGIN{printf "%.3f", n+t}')
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		awk -v e="$end" -v n="$(date +%s.%N)" 'BEGIN{exit !(n>=e)}' && return 1
		sleep 0.5
	done
}

# newest_kernel: path of the newest Debian /boot/vmlinuz-*-amd64 (empty if none)
newest_kernel() { ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -1; }
