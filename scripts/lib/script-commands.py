#!/usr/bin/env python3
"""scripts/lib/script-commands.py - every external command the repo's scripts run.

usage: scripts/lib/script-commands.py [--where] [--wrappers] [REPO_ROOT]

Prints one line per command, sorted: "NAME<TAB>FILE:LINE" (the first place it is
called; with --where every place). NAME is a command looked up on PATH ("ip") or an
absolute path ("/usr/lib/frr/zebra"). --wrappers prints the repo's own functions
that run their arguments as a command, and how many leading arguments they take.

Why: scripts/install-deps.sh must install and verify every tool a test calls; a
hand-kept list drifts (nothing ever installed busybox, nothing noticed). This reads
the scripts instead of trusting memory:
  - shell: every tracked or untracked-but-not-ignored *.sh file, or file with a
    sh/bash shebang, is parsed by `shfmt --to-json` (a real bash parser). Each
    CallExpr's first word is a command, seen through wrappers (timeout N, ip netns
    exec NS, nsenter, exec, env, setsid, chroot, xargs, sudo, unshare, nohup, ...),
    and the strings given to `bash -c`, `sh -c`, `vng --exec`, `trap` and `eval`
    are parsed in turn. Functions defined in any of the repo's shell files and bash
    builtins/keywords are dropped. A repo function whose body runs "$@" (nsx NS CMD,
    check NAME CMD, ...) is itself a wrapper: its call sites' commands count.
  - python: every *.py file; subprocess.run/Popen/call/check_call/check_output with a
    list (or a string) whose first items are literals, also through a local helper
    that passes its *args into such a list (kernel-view.py's run_json(ns, *cmd)).
A first word that is not literal ("$EVPND", "${cmd[@]}") or a path inside the repo
(scripts/vm, ./inside.sh) is not an external tool and is skipped.
Needs: python3, shfmt (Debian package shfmt), git (optional: without it, walks the tree).
"""
import ast
import json
import os
import re
import subprocess
import sys

PH = "__evpnd_nonliteral__"  # stands for an expansion inside a re-parsed string
ARGS = object()  # the token "$@": a function forwarding its arguments
SKIP_DIRS = {".git", "target", "node_modules", "__pycache__"}


class Tok:
    """One word: ALTS are the strings it can stand for (expansions that cannot be
    resolved are PH); TEXT is the one plain literal, or None."""

    def __init__(self, alts, line):
        if alts is ARGS:
            self.alts, self.text = [], ARGS
        else:
            self.alts = alts if isinstance(alts, list) else [alts]
            one = len(self.alts) == 1 and self.alts[0] is not None and PH not in self.alts[0]
            self.text = self.alts[0] if one else None
        self.line = line
        # the word as shell source (expansions replaced by PH): for `bash -c WORD`
        self.ph_text = self.alts[0] if len(self.alts) == 1 else None


MAX_ALTS = 8  # a word with more resolutions than this is treated as unknown


def word(w, line, vars_=None):
    """Render a shfmt Word node to a Tok. A variable is resolved through VARS_
    (name -> literal values assigned to it in that file, or None: not literal),
    ${V:-default} to its default when V is not resolved."""
    parts = w.get("Parts", [])
    only = parts[0] if len(parts) == 1 else None
    if only and only.get("Type") == "DblQuoted" and len(only.get("Parts", [])) == 1:
        only = only["Parts"][0]
    if only and only.get("Type") == "ParamExp" and only["Param"]["Value"] in ("@", "*"):
        return Tok(ARGS, line)
    # "${NAME[@]}": a whole array, which env's arguments use for NAME=VALUE lists
    splat = bool(only and only.get("Type") == "ParamExp" and only.get("Index"))
    vars_ = vars_ or {}

    def alts(ps, quoted):
        out = [""]
        for p in ps:
            t = p.get("Type")
            if t == "Lit":
                v = p["Value"] if quoted else re.sub(r"\\(.)", r"\1", p["Value"])
                opts = [v]
            elif t == "SglQuoted":
                opts = [p["Value"]]
            elif t == "DblQuoted":
                opts = alts(p.get("Parts", []), True)
            elif t == "ParamExp" and not p.get("Index") and not p.get("Length") and not p.get("Excl"):
                name = p["Param"]["Value"]
                exp = p.get("Exp")
                known = vars_.get(name)
                if exp is None and not p.get("Repl") and not p.get("Slice") and known:
                    opts = sorted(known)
                elif exp is not None and exp.get("Op") in (70, 71):
                    # ${V:-default}: V's literal values (or unknown), or the default
                    # (${V:-} is empty): each is a possible command
                    opts = sorted(known) if known else [PH] if name in vars_ else []
                    opts += alts(exp["Word"].get("Parts", []), quoted) if exp.get("Word") else [""]
                else:
                    opts = [PH]
            else:
                opts = [PH]
            out = [a + o for a in out for o in opts]
            if len(out) > MAX_ALTS:
                return [PH]
        return out

    t = Tok(alts(parts, False), line)
    t.splat = splat
    return t


def literal_values(w):
    """The literal text of a Word node, or None if it has an expansion."""
    t = word(w, 0)
    return t.text if isinstance(t.text, str) else None


def file_vars(tree):
    """name -> set of literal values assigned anywhere in the file (assignments,
    local/declare/export, for-in lists), or None when one assignment is not literal."""
    vs = {}

    def add(name, val):
        if name not in vs:
            vs[name] = set()
        if val is None or vs[name] is None:
            vs[name] = None
        else:
            vs[name].add(val)

    for n in iter_nodes(tree):
        t = n.get("Type")
        if t in ("CallExpr", "DeclClause"):
            for a in n.get("Assigns", []) + (n.get("Args", []) if t == "DeclClause" else []):
                if "Name" not in a or a.get("Naked"):
                    continue
                if a.get("Array") or a.get("Append"):
                    add(a["Name"]["Value"], None)
                else:
                    add(a["Name"]["Value"], literal_values(a["Value"]) if a.get("Value") else "")
        elif t == "WordIter":
            items = n.get("Items")
            if not items:
                add(n["Name"]["Value"], None)
            for i in items or []:
                add(n["Name"]["Value"], literal_values(i))
        elif t in ("CStyleLoop",):
            pass
    # read, mapfile, getopts... also set variables: any name seen in such a call is unknown
    for n in iter_nodes(tree):
        if n.get("Type") == "CallExpr" and n.get("Args"):
            first = literal_values(n["Args"][0])
            if first in ("read", "mapfile", "readarray", "getopts", "printf"):
                for a in n["Args"][1:]:
                    v = literal_values(a)
                    if v and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
                        vs[v] = None
    return vs


# ------------------------------------------------------------------ shell parsing
def shfmt_json(src, name):
    try:
        p = subprocess.run(
            ["shfmt", "--to-json", "-ln", "bash", "--filename", name],
            input=src,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        sys.exit("script-commands: shfmt is missing (apt-get install shfmt; scripts/install-deps.sh installs it)")
    if p.returncode != 0:
        return None, p.stderr.strip()
    return json.loads(p.stdout), None


def line_of(node):
    return node.get("Pos", {}).get("Line", 0)


class Repo:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.calls = []  # (name, file, line)
        self.functions = set()
        self.defs = {}  # file -> function name -> leading args before "$@" run, or None
        self.vars = {}  # file -> file_vars()
        self.problems = []
        self.builtins = set(
            subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True, text=True).stdout.split()
        )

    # -------- files
    def files(self):
        try:
            out = subprocess.run(
                ["git", "-C", self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            names = [n for n in out.split("\0") if n]
        except (FileNotFoundError, subprocess.CalledProcessError):
            names = []
            for d, dirs, fs in os.walk(self.root):
                dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
                names += [os.path.relpath(os.path.join(d, f), self.root) for f in fs]
        shell, python, rust = [], [], []
        for n in sorted(set(names)):
            if set(n.split("/")) & SKIP_DIRS:
                continue
            path = os.path.join(self.root, n)
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            if n.endswith(".py"):
                python.append(n)
                continue
            if n.endswith(".rs") and n.split("/")[0] in ("tests", "benches", "src"):
                rust.append(n)
                continue
            if n.endswith(".sh") or n.endswith(".bash"):
                shell.append(n)
                continue
            try:
                with open(path, "rb") as f:
                    first = f.readline(200)
            except OSError:
                continue
            if re.match(rb"#!\s*\S*(/|env\s+)(ba)?sh\b", first):
                shell.append(n)
            elif re.match(rb"#!\s*\S*(/|env\s+)python3?\b", first):
                python.append(n)
        return shell, python, rust

    # -------- shell
    def parse_file(self, rel):
        with open(os.path.join(self.root, rel), encoding="utf-8", errors="replace") as f:
            src = f.read()
        tree, err = shfmt_json(src, rel)
        if tree is None:
            self.problems.append(f"{rel}: shfmt cannot parse it: {err}")
        return tree

    def collect_functions(self, node, rel):
        """Names of all functions, and which forward "$@" as a command (wrappers):
        per file, since two files may define one name differently (dump)."""
        for n in iter_nodes(node):
            if n.get("Type") == "FuncDecl":
                name = n["Name"]["Value"]
                self.functions.add(name)
                self.defs.setdefault(rel, {})[name] = forwarded_after(n["Body"])

    def wrapper_skip(self, name, rel):
        """Leading arguments before the command, if NAME is a forwarding function as
        seen from REL (its own definition first, else any other file's)."""
        own = self.defs.get(rel, {})
        if name in own:
            return own[name]
        for d in self.defs.values():
            if d.get(name) is not None:
                return d[name]
        return None

    def scan_tree(self, node, rel, line0=0):
        vs = self.vars.get(rel, {})
        for n in iter_nodes(node):
            if n.get("Type") == "CallExpr" and n.get("Args"):
                toks = []
                for w in n["Args"]:
                    t = word(w, line0 or line_of(w), vs)
                    unquoted = all(p.get("Type") not in ("SglQuoted", "DblQuoted") for p in w.get("Parts", []))
                    if unquoted and t.alts == [""]:
                        continue  # an unquoted empty expansion is no word at all
                    toks.append(t)
                self.command(toks, rel)

    def scan_string(self, tok, rel):
        """A string that bash will run (bash -c STR, vng --exec STR, trap STR)."""
        if tok is None or tok.text is ARGS:
            return
        for src in tok.alts:
            if src is None or src == PH:
                continue
            tree, err = shfmt_json(src, rel)
            if tree is None:
                self.problems.append(f"{rel}:{tok.line}: cannot parse the command string {src!r}: {err}")
                continue
            self.scan_tree(tree, rel, tok.line)

    def record(self, tok, rel, direct=False):
        """DIRECT: executed by a program (a wrapper, python, Rust), not by bash as
        the first word, so a builtin name (kill, echo) is the external binary."""
        name = tok.text
        if name is None or name is ARGS or PH in name or name == "":
            return
        if "/" in name and not name.startswith("/"):
            return  # repo-relative path: one of our own scripts or binaries
        if "=" in name and not name.startswith("/"):
            return
        if not direct and (name in self.builtins or name in self.functions):
            return
        self.calls.append((name, rel, tok.line))

    def command(self, toks, rel, direct=False):
        """Record the command of one simple command (a list of Tok), seeing through
        wrappers; recurse into command strings."""
        while toks:
            t = toks[0]
            if t.text is None and len(t.alts) > 1:
                for alt in t.alts:  # e.g. $FRRBIN/$d with d in zebra bgpd
                    self.command([Tok(alt, t.line)] + toks[1:], rel, direct)
                return
            name = t.text
            if name is None or name is ARGS:
                return
            skip = self.wrapper_skip(name, rel) if name in self.functions else None
            if skip is not None:
                toks = toks[1 + skip:]
                continue
            if direct and name in self.functions and not (name in self.builtins):
                direct = False  # a wrapper function's "$@" runs in bash again
            self.record(t, rel, direct)
            base = name.rsplit("/", 1)[-1]
            rest = toks[1:]
            nxt = unwrap(base, rest)
            # what a wrapper runs is exec'd (not looked up by bash), except after
            # bash's own exec/command/builtin, whose word is a bash command again
            direct = base not in ("exec", "command", "builtin") or direct
            if nxt is None:
                # not a wrapper, but maybe a command string
                for s in command_strings(base, rest):
                    self.scan_string(s, rel)
                return
            toks = nxt

    # -------- rust
    def scan_rust(self, rel):
        """Command::new("X"), and helpers fn NAME(args: &[&str]) that run args[0],
        called as NAME(&["X", ...]) (the netns tests' sh/run)."""
        with open(os.path.join(self.root, rel), encoding="utf-8", errors="replace") as f:
            src = f.read()
        helpers = set()
        for m in re.finditer(r"fn\s+(\w+)\s*\(\s*(\w+)\s*:\s*&\[&str\]", src):
            body = src[m.end():m.end() + 400]
            if re.search(r"Command::new\(\s*" + re.escape(m.group(2)) + r"\[0\]\s*\)", body):
                helpers.add(m.group(1))
        pats = [r"Command::new\(\s*\"([^\"]+)\"\s*\)"]
        if helpers:
            pats.append(r"\b(?:" + "|".join(helpers) + r")\(\s*&\[\s*\"([^\"]+)\"")
        for pat in pats:
            for m in re.finditer(pat, src):
                line = src.count("\n", 0, m.start()) + 1
                self.record(Tok(m.group(1), line), rel, True)

    # -------- python
    def scan_python(self, rel):
        with open(os.path.join(self.root, rel), encoding="utf-8", errors="replace") as f:
            src = f.read()
        try:
            tree = ast.parse(src, rel)
        except SyntaxError as e:
            self.problems.append(f"{rel}: python syntax error: {e}")
            return
        # local helpers that splice their *args into a subprocess list: name -> fixed args
        helpers = {}
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.args.vararg:
                va = fn.args.vararg.arg
                for c in ast.walk(fn):
                    if is_subprocess_call(c) and c.args and isinstance(c.args[0], (ast.List, ast.Tuple)):
                        elts = c.args[0].elts
                        starred = [i for i, e in enumerate(elts) if isinstance(e, ast.Starred) and isinstance(e.value, ast.Name) and e.value.id == va]
                        # a helper whose *args are (or follow a wrapper such as
                        # "ip netns exec NS") the command line; one with a plain
                        # command before them (["git", *args]) names that command
                        # itself, and its callers pass only arguments
                        first = elts[0] if elts else None
                        plain = (
                            starred
                            and starred[0] > 0
                            and isinstance(first, ast.Constant)
                            and isinstance(first.value, str)
                            and unwrap(first.value.rsplit("/", 1)[-1], [py_tok(e) for e in elts[1:]]) is None
                        )
                        if starred and not plain:
                            helpers[fn.name] = len(fn.args.args)
        for c in ast.walk(tree):
            if not isinstance(c, ast.Call):
                continue
            if is_subprocess_call(c) and c.args:
                a = c.args[0]
                shell = any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value for k in c.keywords)
                if isinstance(a, (ast.List, ast.Tuple)):
                    self.command([py_tok(e) for e in a.elts], rel, True)
                elif isinstance(a, ast.Constant) and isinstance(a.value, str):
                    if shell or call_name(c) in ("system", "getoutput", "getstatusoutput"):
                        self.scan_string(Tok(a.value, c.lineno), rel)
                    else:
                        self.command([Tok(a.value.split()[0] if a.value.split() else None, c.lineno)], rel, True)
            elif call_name(c) in helpers:
                n = helpers[call_name(c)]
                self.command([py_tok(e) for e in c.args[n:]], rel, True)

    # -------- all
    def run(self):
        shell, python, rust = self.files()
        trees = {}
        for rel in shell:
            t = self.parse_file(rel)
            if t is not None:
                trees[rel] = t
                self.collect_functions(t, rel)
                self.vars[rel] = file_vars(t)
        for rel, t in trees.items():
            self.scan_tree(t, rel)
        for rel in python:
            self.scan_python(rel)
        for rel in rust:
            self.scan_rust(rel)


def py_tok(e):
    if isinstance(e, ast.Constant) and isinstance(e.value, str):
        return Tok(e.value, e.lineno)
    return Tok(None, getattr(e, "lineno", 0))


def call_name(c):
    f = c.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def is_subprocess_call(c):
    if not isinstance(c, ast.Call):
        return False
    f = c.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        if f.value.id == "subprocess" and f.attr in ("run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"):
            return True
        if f.value.id == "os" and f.attr in ("system", "execvp", "execlp"):
            return True
    return False


def iter_nodes(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            yield n
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)


def forwarded_after(body):
    """If a function body runs "$@" (or "$@" after a wrapper) as a command, how many
    arguments the function consumed first (its `shift`s); else None."""
    shifts, runs = 0, False
    for n in iter_nodes(body):
        if n.get("Type") != "CallExpr" or not n.get("Args"):
            continue
        toks = [word(w, 0) for w in n["Args"]]
        if toks[0].text == "shift":
            shifts += int(toks[1].text) if len(toks) > 1 and (toks[1].text or "").isdigit() else 1
            continue
        while toks:
            if toks[0].text is ARGS:
                runs = True
                break
            if toks[0].text is None:
                break
            nxt = unwrap(toks[0].text.rsplit("/", 1)[-1], toks[1:])
            if nxt is None:
                break
            toks = nxt
    return shifts if runs else None


def _skip_opts(rest, with_arg=(), stop_at_first=True):
    """Skip leading options; options in with_arg take the next word."""
    i = 0
    while i < len(rest):
        t = rest[i].text
        if t is None or t is ARGS:
            return i
        if t == "--":
            return i + 1
        if not t.startswith("-") or t == "-":
            return i
        i += 2 if t in with_arg else 1
    return i


def unwrap(base, rest):
    """The command a wrapper runs (its tokens), or None when BASE is no wrapper."""
    text = [t.text for t in rest]
    if base == "timeout":
        i = _skip_opts(rest, ("-k", "-s", "--kill-after", "--signal"))
        return rest[i + 1:] if i < len(rest) else []
    if base == "ip":
        # ip [-n NS] netns exec NS CMD...
        for i in range(len(text) - 1):
            if text[i] == "netns" and text[i + 1] == "exec":
                return rest[i + 3:]
        return None
    if base == "nsenter":
        return rest[_skip_opts(rest, ("-t", "--target", "-S", "--setuid", "-G", "--setgid")):]
    if base == "exec":
        return rest[_skip_opts(rest, ("-a",)):]
    if base == "env":
        i = _skip_opts(rest, ("-u", "--unset", "-C", "--chdir"))
        # NAME=VALUE words (VALUE may be an expansion), and expansions of such words
        # ("${A[@]}": taken for such a list; were it the command, its first argument
        # would show up as an unknown command, loudly, rather than be missed)
        while i < len(rest) and (getattr(rest[i], "splat", False) or rest[i].alts and all(
            a is not None and (a == "" or re.match(r"[A-Za-z_][\w.]*=", a)) for a in rest[i].alts
        )):
            i += 1
        return rest[i:]
    if base in ("setsid", "nohup", "stdbuf", "nice", "ionice", "builtin"):
        return rest[_skip_opts(rest, ("-n", "-c", "-p")):]
    if base == "command":
        if text and text[0] in ("-v", "-V"):
            return []
        return rest[_skip_opts(rest):]
    if base == "sudo":
        return rest[_skip_opts(rest, ("-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D")):]
    if base == "unshare":
        return rest[_skip_opts(rest, ("-S", "-G", "-R", "-w", "--propagation", "--setgroups", "--map-user", "--map-group")):]
    if base == "chroot":
        i = _skip_opts(rest)
        return rest[i + 1:]
    if base == "xargs":
        i = _skip_opts(rest, ("-I", "-n", "-P", "-L", "-s", "-d", "-E", "-a"))
        return rest[i:] or [Tok("echo", rest[0].line if rest else 0)]
    if base == "flock":
        i = _skip_opts(rest, ("-w", "-E", "-c"))
        return rest[i + 1:]
    if base == "runuser":
        return rest[_skip_opts(rest, ("-u", "-g", "-G")):]
    if base == "find":
        for i, t in enumerate(text):
            if t in ("-exec", "-execdir", "-ok", "-okdir"):
                return rest[i + 1:]
        return None
    return None


def command_strings(base, rest):
    """Words that are themselves shell code for command BASE."""
    text = [t.text for t in rest]
    out = []
    if base in ("bash", "sh", "dash", "su"):
        for i, t in enumerate(text[:-1]):
            if t is not None and t is not ARGS and re.fullmatch(r"-[a-z]*c[a-z]*", t or ""):
                out.append(rest[i + 1])
                break
    elif base == "vng":
        for i, t in enumerate(text[:-1]):
            if t in ("--exec", "-e"):
                out.append(rest[i + 1])
    elif base == "eval":
        out += rest
    elif base == "trap":
        # trap CODE SIG...; "trap - SIG" resets, "trap -p/-l" lists
        if len(rest) > 1 and text[0] not in ("-", "-p", "-l", "--"):
            out.append(rest[0])
    return out


def main(argv):
    where = "--where" in argv
    wrappers = "--wrappers" in argv
    args = [a for a in argv if not a.startswith("--")]
    if any(a.startswith("-") and a not in ("--where", "--wrappers") for a in argv):
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    repo = Repo(root)
    repo.run()
    for p in repo.problems:
        print(f"script-commands: {p}", file=sys.stderr)
    if wrappers:
        for rel, defs in sorted(repo.defs.items()):
            for name, n in sorted(defs.items()):
                if n is not None:
                    print(f"{name}\t{n}\t{rel}")
        return 1 if repo.problems else 0
    seen = set()
    for name, rel, line in sorted(repo.calls, key=lambda c: (c[0], c[1], c[2])):
        if where or name not in seen:
            print(f"{name}\t{rel}:{line}")
            seen.add(name)
    return 1 if repo.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
