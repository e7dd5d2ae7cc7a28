#!/usr/bin/env python3
"""arch-metrics.py: the structural figures of one revision, for before/after
tables in design notes (issue 12). Reads the revision with git, never the
work tree, so two revisions compare on equal terms.

usage: scripts/arch-metrics.py [REV ...]        (default: HEAD)

Per revision it prints:
  - Rust files over 1,000 lines (the whole file, and the code before its
    inline test module);
  - type names (`struct`/`enum`/`type`, non-test) defined in more than one
    file;
  - import cycles between modules: strongly connected components of the
    graph "file A names module B" from `use crate::...`, `use super::...`
    and `evpnd_*::...` paths (a directory module is its mod.rs/lib.rs plus
    children named by path; a cycle is a component of two or more files);

Lines of hand-written code (netlink, capture parsing) are not counted: no
file boundary separates them from code that calls the crates, so they are
measured by reading the code (see the issue 12 note).
"""

import re
import subprocess
import sys
from collections import defaultdict


def git(*args):
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def code_part(text):
    """The file up to its test module (by convention its tail)."""
    # an inline test module (`#[cfg(test)] mod tests {`), not a
    # `#[cfg(test)] mod tests;` declaration among the items
    m = re.search(r"^#\[cfg\(test\)\]\s*\n\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+\w+\s*\{", text, re.M)
    return text[: m.start()] if m else text


def crate_of(path):
    """(crate name, path of the file inside the crate's src/)."""
    if path.startswith("crates/"):
        parts = path.split("/")
        return parts[1].replace("-", "_"), "/".join(parts[3:])
    return "evpnd", path[len("src/") :]


def module_path(inner):
    """src-relative file path -> module path list (lib.rs/main.rs -> [])."""
    p = inner[:-3]
    parts = p.split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def resolve(files_by_mod, crate, target):
    """Longest prefix of `target` (a module path in `crate`) that is a file."""
    for n in range(len(target), 0, -1):
        key = (crate, tuple(target[:n]))
        if key in files_by_mod:
            return files_by_mod[key]
    return None


USE_RE = re.compile(r"\b(crate|super|evpnd_[a-z]+|evpnd)((?:::(?:[A-Za-z_][A-Za-z0-9_]*|\{))+)")


def import_graph(rev, files, texts):
    files_by_mod = {}
    for f in files:
        crate, inner = crate_of(f)
        files_by_mod[(crate, tuple(module_path(inner)))] = f
    edges = defaultdict(set)
    for f in files:
        crate, inner = crate_of(f)
        mod = module_path(inner)
        for line in code_part(texts[f]).split("\n"):
            if line.strip().startswith("//"):
                continue
            # `use child::...` / `use self::child::...`: a submodule of this one
            child = re.match(r"\s*(?:pub(?:\([a-z]+\))?\s+)?use\s+(?:self::)?([a-z_][a-z0-9_]*)::", line)
            if child and child.group(1) not in ("crate", "super", "std", "core", "alloc"):
                dst = files_by_mod.get((crate, tuple(mod + [child.group(1)])))
                if dst and dst != f:
                    edges[f].add(dst)
            # `pub(in crate::x)` is a visibility, not a use of x
            line = re.sub(r"pub\(in [^)]*\)", "pub", line)
            for root, rest in USE_RE.findall(line):
                segs = [x for x in rest.split("::") if x]
                if root in ("crate", "super"):
                    tc, target = crate, segs
                    if root == "super":
                        # `super` is the parent of the file's own module;
                        # each further `super` goes one level up
                        up = 1
                        while segs and segs[0] == "super":
                            up, segs = up + 1, segs[1:]
                        target = mod[: max(len(mod) - up, 0)] + segs
                elif root == "evpnd" and segs and segs[0] == "wire":
                    # the root package re-exports the codec as `wire`
                    tc, target = "evpnd_wire", segs[1:]
                else:
                    tc, target = root, segs
                dst = resolve(files_by_mod, tc, target)
                if dst and dst != f:
                    edges[f].add(dst)
    return edges


def sccs(nodes, edges):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out




def metrics(rev):
    files = [
        f
        for f in git("ls-tree", "-r", "--name-only", rev).split("\n")
        if f.endswith(".rs") and (f.startswith("src/") or re.match(r"crates/[^/]+/src/", f))
    ]
    texts = {f: git("show", f"{rev}:{f}") for f in files}
    long = sorted(
        ((f, len(code_part(t).split("\n")), len(t.split("\n"))) for f, t in texts.items()),
        key=lambda x: -x[2],
    )
    types = defaultdict(set)
    for f, t in texts.items():
        for m in re.finditer(r"^\s*pub(?:\([a-z]+\))?\s+(?:struct|enum|type)\s+([A-Z][A-Za-z0-9_]*)", code_part(t), re.M):
            types[m.group(1)].add(f)
    dups = {k: sorted(v) for k, v in types.items() if len(v) > 1}
    cycles = sccs(files, import_graph(rev, files, texts))
    return long, dups, cycles


def main():
    revs = sys.argv[1:] or ["HEAD"]
    for rev in revs:
        long, dups, cycles = metrics(rev)
        print(f"== {rev} ({git('rev-parse', '--short', rev).strip()})")
        over = [x for x in long if x[2] > 1000]
        print(f"files over 1,000 lines: {len(over)}")
        for f, code, total in over:
            print(f"  {total:5} ({code} before tests)  {f}")
        print(f"public type names defined in more than one file: {len(dups)}")
        for k, v in sorted(dups.items()):
            print(f"  {k}: {', '.join(v)}")
        print(f"import cycles: {len(cycles)}")
        for c in cycles:
            print("  " + " <-> ".join(c))


if __name__ == "__main__":
    main()
