# proto-tests/lib/vm-scenario.sh - the host side of a scenario whose body runs inside
# scripts/vm (VLAN-aware bridges need Debian's kernel). Source it, then:
#   vm_scenario NAME TIMEOUT_S CMD...     (CMD runs in the VM, from the repo root)
# CMD sees PT_OUT_DIR=<artifacts>/vm (writable from the guest) and EVPND_BIN, a snapshot
# of $EVPND_BIN (default target/debug/evpnd): a rebuild on the host during the run
# must not swap the binary under the running daemons (the guest reads it over 9p).
# The guest's PASS/FAIL lines become this scenario's; the VM's output is in
# <artifacts>/vm.log (and on stderr unless VM_QUIET=1). Exits like pt_finish: the
# tally line "NAME: N passed, N failed", status 1 if any check failed or none passed;
# a non-zero VM exit without a FAIL line counts as one failure.
vm_scenario() {
	local name=$1 timeout_s=$2; shift 2
	cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
	local out=${PT_OUT_DIR:-target/proto-tests/$name} t rc
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	t=$(date +%s.%N)
	local evpnd=${EVPND_BIN:-target/debug/evpnd}
	if [ ! -x "$evpnd" ]; then
		echo "FAIL evpnd-binary: no executable $evpnd (cargo build --bins, or set EVPND_BIN)"
		echo "$name: 0 passed, 1 failed"
		exit 1
	fi
	# per run: two runs sharing an output directory must not delete each other's
	local snapshot=$out/bin/evpnd.$$
	mkdir -p "$out/bin"
	cp "$evpnd" "$snapshot"
	scripts/vm --timeout "${VM_TIMEOUT:-$timeout_s}" --rwdir "$out" -- \
		env PT_OUT_DIR="$out/vm" EVPND_BIN="$snapshot" "$@" >"$out/vm.log" 2>&1
	rc=$?
	rm -f "$snapshot"
	vm_report "$name" "$out/vm.log" "$rc" "$t"
}

# vm_report NAME VM_LOG RC T0: the tally of a VM run whose output is VM_LOG and exit
# code RC, started at T0 (date +%s.%N): the check lines once, on stdout (test.sh
# counts them there), the rest on stderr unless VM_QUIET=1; a non-zero RC without a
# FAIL line is one failure; "NAME: N passed, N failed"; exits 1 if any check failed or
# none passed.
vm_report() {
	local name=$1 log=$2 rc=$3 t=$4 passed failed el
	[ "${VM_QUIET:-0}" = 1 ] || grep -vE '^(PASS|FAIL) ' "$log" >&2
	grep -E '^(PASS|FAIL) ' "$log"
	passed=$(grep -c '^PASS ' "$log")
	failed=$(grep -c '^FAIL ' "$log")
	el=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
	if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
		echo "FAIL vm-run: rc=$rc in the VM without a FAIL line (${el}s; see $log)"
		failed=1
	fi
	echo "# ${el}s in all, $(grep -o 'booted in [0-9.]*s' "$log" | head -1)" >&2
	echo "$name: $passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
	exit $?
}
