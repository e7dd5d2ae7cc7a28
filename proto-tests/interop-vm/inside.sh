#!/usr/bin/env bash
# interop-vm/inside.sh - runs INSIDE scripts/vm (started by proto-tests/interop-vm.sh):
# each scenario s*.sh of this directory (or those named in INTEROP_SCENARIOS, e.g.
# "s1 s3") as its own process, one after another, artifacts in $PT_OUT_DIR/<scenario>.
# Exits 1 if any scenario failed.
set -uo pipefail
cd "$(dirname "$0")"
root=${PT_OUT_DIR:-$PWD/../../target/proto-tests/interop-vm/vm}
rc=0
for s in s*.sh; do
	short=${s%%-*}
	if [ -n "${INTEROP_SCENARIOS:-}" ] && [[ " $INTEROP_SCENARIOS " != *" $short "* ]]; then continue; fi
	PT_OUT_DIR=$root/${s%.sh} bash "$s" || rc=1
done
exit $rc
