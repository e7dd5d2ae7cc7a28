#!/usr/bin/env bash
# scripts/bench-fdb.sh - kernel install rates on this kernel, in one run:
#   1. evpnd's batched netlink socket (cargo bench --bench fdb_install): 100k remote
#      MACs (both rows each) + 1k flood rows, install then withdraw;
#   2. nl-fdb-blast.py: pipelined raw netlink, the practical ceiling. It belongs to the
#      external route-reflector benchmark harness, not to this repository: point
#      BENCH_HARNESS at its directory (default ../shared/bench); see docs/benchmarking.md;
#   3. bridge -batch: iproute2, one request and ACK per entry.
# Needs root. Each runs in a private network namespace, deleted afterwards.
# env: N (entries, default 100000), REPS (default 3), BENCH_HARNESS (see above)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_HARNESS=${BENCH_HARNESS:-../shared/bench}
BLAST=$BENCH_HARNESS/nl-fdb-blast.py
if [ ! -r "$BLAST" ]; then
	echo "scripts/bench-fdb.sh: missing $BLAST: the external benchmark harness (nl-fdb-blast.py) is not here." >&2
	echo "  Set BENCH_HARNESS=<dir holding nl-fdb-blast.py>, or run only evpnd's part: cargo bench --bench fdb_install" >&2
	echo "  (docs/benchmarking.md)" >&2
	exit 2
fi
N=${N:-100000}
REPS=${REPS:-3}
NS=evb-fdb-$$
trap 'ip netns del $NS 2>/dev/null || true' EXIT

echo "== evpnd batched socket (criterion, median) =="
cargo bench --bench fdb_install -- --noplot 2>&1 | grep -E "^fdb/|^ +(time|thrpt):" | grep -v "%" || true

setup_ns() {
	ip netns del $NS 2>/dev/null || true
	ip netns add $NS
	ip -n $NS link add br0 type bridge
	ip -n $NS link add vxlan0 type vxlan dstport 4789 local 198.18.1.1 nolearning external
	ip -n $NS link set vxlan0 master br0
	ip -n $NS link set br0 up
	ip -n $NS link set vxlan0 up
}

echo "== nl-fdb-blast.py fdb --ext, $N entries, $REPS runs =="
for r in $(seq "$REPS"); do
	setup_ns
	ip netns exec $NS python3 "$BLAST" fdb --dev vxlan0 -n "$N" --ext 2>&1 | tail -2
done

echo "== bridge -batch (self extern_learn src_vni), $N entries, $REPS runs =="
gen() { # add|del
	python3 - "$1" "$N" <<'PY'
import sys
op, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    b = i.to_bytes(4, "big")
    mac = "02:0b:%02x:%02x:%02x:%02x" % tuple(b)
    dst = "198.19.%d.%d" % ((i // 250) % 250, 1 + i % 250)
    if op == "add":
        print(f"fdb add {mac} dev vxlan0 dst {dst} src_vni 10 self extern_learn")
    else:
        print(f"fdb del {mac} dev vxlan0 dst {dst} src_vni 10 self")
PY
}
gen add >/tmp/evb-fdb-add.txt
gen del >/tmp/evb-fdb-del.txt
for r in $(seq "$REPS"); do
	setup_ns
	t0=$(date +%s.%N)
	ip netns exec $NS bridge -batch /tmp/evb-fdb-add.txt
	t1=$(date +%s.%N)
	ip netns exec $NS bridge -batch /tmp/evb-fdb-del.txt
	t2=$(date +%s.%N)
	python3 -c "import sys; a,b,c=map(float,sys.argv[1:4]); n=int(sys.argv[4]); print(f'bridge -batch: add {n/(b-a):,.0f}/s ({b-a:.2f} s), del {n/(c-b):,.0f}/s ({c-b:.2f} s)')" "$t0" "$t1" "$t2" "$N"
done
rm -f /tmp/evb-fdb-add.txt /tmp/evb-fdb-del.txt
