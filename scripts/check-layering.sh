#!/usr/bin/env bash
# check-layering.sh: prove the workspace's layering from the dependency graph
# (docs/adr/0004-pure-core.md). Exit 1 naming the crate and the offending
# dependency path when a rule breaks.
#
#   evpnd-wire   depends on no other evpnd crate and on nothing that does I/O
#   evpnd-core   depends on evpnd-wire only, and on nothing that does I/O
#   neither reads a clock nor touches files, processes or sockets through std
#   every crate but evpnd-linux forbids unsafe code (#![forbid(unsafe_code)])
#   no cycle between evpnd crates (cargo refuses those, so this is checked by
#   cargo metadata succeeding at all)
#
# "Does I/O" = any of these crates anywhere below it, normal or build edges:
# the async runtime, netlink, raw libc bindings and the socket layers.
set -euo pipefail
cd "$(dirname "$0")/.."

FORBIDDEN='tokio|mio|libc|socket2|netlink-[a-z-]+|rtnetlink|nix|futures-io|async-[a-z-]+'
fail=0

# every crate (name and version) below $1, following normal and build edges
deps_of() {
	cargo tree --quiet --offline -p "$1" -e normal,build --prefix none --format '{p}' 2>/dev/null ||
		cargo tree --quiet -p "$1" -e normal,build --prefix none --format '{p}'
}

# the chain of crates from $1 down to $2, for the error message
path_to() {
	cargo tree --quiet -p "$1" -e normal,build -i "$2" --prefix depth 2>/dev/null | head -8 | sed -E 's/^([0-9]+)/      \1 /'
}

check_pure() {
	local crate=$1 allowed_internal=$2
	local deps bad internal
	deps=$(deps_of "$crate" | awk '{print $1}' | sort -u)
	bad=$(grep -Ex "$FORBIDDEN" <<<"$deps" || true)
	for d in $bad; do
		echo "check-layering: $crate depends on $d (an I/O crate); the pure crates must not. Path:" >&2
		path_to "$crate" "$d" >&2
		fail=1
	done
	internal=$(grep -E '^evpnd' <<<"$deps" | grep -vx "$crate" | grep -vEx "$allowed_internal" || true)
	for d in $internal; do
		echo "check-layering: $crate depends on $d; only '$allowed_internal' is allowed" >&2
		fail=1
	done
	[ -z "$bad$internal" ] &&
		echo "check-layering: $crate: $(wc -l <<<"$deps") crates below it, none of them async, netlink, libc or sockets" >&2
	return 0
}

check_pure evpnd-wire '^$'
check_pure evpnd-core 'evpnd-wire'

# no clocks, files, processes or sockets from std in the pure crates: time
# and kernel state come in as inputs (tests may use them)
io=$(grep -rnE 'Instant::now|SystemTime::now|thread::sleep|std::fs::|std::process::|std::net::(TcpStream|TcpListener|UdpSocket)' \
	crates/evpnd-wire/src crates/evpnd-core/src |
	while IFS=: read -r file line rest; do
		# lines in the file's #[cfg(test)] module (by convention its tail) are tests
		tests_at=$(grep -n '^#\[cfg(test)\]' "$file" | head -1 | cut -d: -f1)
		[ -n "$tests_at" ] && [ "$line" -gt "$tests_at" ] && continue
		echo "$file:$line:$rest"
	done)
if [ -n "$io" ]; then
	echo "check-layering: the pure crates read a clock or do I/O through std:" >&2
	echo "$io" | sed 's/^/      /' >&2
	fail=1
fi

# unsafe: only evpnd-linux may have it; the others say so to the compiler
for root in crates/evpnd-wire/src/lib.rs crates/evpnd-core/src/lib.rs src/lib.rs src/main.rs; do
	if ! grep -q '^#!\[forbid(unsafe_code)\]' "$root"; then
		echo "check-layering: $root lacks #![forbid(unsafe_code)]" >&2
		fail=1
	fi
done

[ $fail = 0 ] && echo "check-layering: ok" >&2
exit $fail
