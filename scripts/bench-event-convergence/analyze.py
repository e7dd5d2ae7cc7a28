#!/usr/bin/env python3
"""scripts/bench-event-convergence/analyze.py - per-hop times of the event-convergence run.

usage: analyze.py --evpnd BIN [--label TEXT] [--jsonl FILE] RUN_DIR

RUN_DIR is what scripts/bench-event-convergence/inside.sh recorded in the VM (events.txt,
fdb-nN.txt, link-n1.txt, br0-nN.txt, ul.pcap, meta.txt). Every time is on the VM's one
clock:

  t0  the trigger: move, the moved host's first frame on B's br0 (tcpdump -tt; the
      bridge learns the MAC in the same pass, before it hands the frame to br0); removal,
      the kernel's first link notification of its port's deletion on A (`ip -ts monitor
      link`; the time `ip link del` was started, bash $EPOCHREALTIME, is kept as t_cmd:
      starting a process under TCG takes 0.1-1 s, the harness's cost, not the system's)
  t1  the local kernel's notification: `bridge -t monitor fdb` on B (the MAC on its new
      port) or on A (the MAC's row deleted with the port)
  t2  the local VTEP's UPDATE (announcing / withdrawing the MAC) on the underlay bridge
  t3  the reflector's UPDATE to C for the MAC (the same capture, BGP decoded by
      `evpnd decode --pcap --json`)
  t4  C's kernel (`bridge -t monitor fdb` on C): move, its vxlan0 row for the MAC points
      at B; removal, the MAC's first row is deleted. evpnd deletes both rows (bridge
      master, vxlan self) with one request, in one kernel call; the monitor stamps each
      notification when it reads it, so on the busy VM the second one's stamp trails by
      up to 0.2 s of the monitor's own scheduling (t4_last keeps it)
  t5, t6 (move only, not in the total) A's withdrawal of its beaten route, leaving A and
      leaving the reflector for C: the second UPDATE on each of those connections within
      a few hundred ms, where Nagle's algorithm would wait for the peer's delayed ACK

Prints a table (median, min, max per hop, ms) and writes one JSON line per event and
one summary line per kind to --jsonl (default: stdout only gets the table).
"""
import argparse
import calendar
import json
import os
import re
import statistics
import subprocess
import sys

A, B, C, RR = "198.19.0.1", "198.19.0.2", "198.19.0.3", "198.19.0.4"
HOPS = [
    ("notice", "t0", "t1", "local kernel notices (fdb notification)"),
    ("local_vtep", "t1", "t2", "local evpnd: notification -> UPDATE on the wire"),
    ("reflector", "t2", "t3", "reflector: UPDATE in -> UPDATE out to C"),
    ("remote_vtep", "t3", "t4", "remote evpnd: UPDATE in -> C's kernel row"),
    ("total", "t0", "t4", "trigger -> C's kernel row"),
]
# the move's second wave: A, beaten by B's higher sequence, withdraws its route
MOVE_EXTRA = [
    ("old_withdraw", "t3", "t5", "A's withdrawal leaves A (after the RR's UPDATE to C)"),
    ("old_reflector", "t5", "t6", "reflector: A's withdrawal in -> out to C"),
]
MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
TS = re.compile(r"^Timestamp: \w+ (\w+)\s+(\d+) (\d+):(\d+):(\d+) (\d+) (\d+) usec")
TS_SHORT = re.compile(r"^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)\] (.*)")


def utc_offset(run):
    """The VM's UTC offset in seconds (meta.txt holds `date +%z`)."""
    text = open(os.path.join(run, "meta.txt")).read().strip()
    sign = -1 if text.startswith("-") else 1
    return sign * (int(text[1:3]) * 3600 + int(text[3:5]) * 60)


def monitor(path, offset):
    """`bridge -t monitor fdb` output as [(epoch, line)]: each row follows its stamp."""
    rows, stamp = [], None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = TS.match(line)
        if m:
            mon, day, hh, mm, ss, year, usec = m.groups()
            local = calendar.timegm((int(year), MONTHS[mon], int(day), int(hh), int(mm), int(ss)))
            stamp = local - offset + int(usec) / 1e6
        elif stamp is not None and line.strip():
            rows.append((stamp, line.strip()))
    return rows


def monitor_short(path, offset):
    """`ip -ts monitor` output as [(epoch, line)] (continuation lines dropped)."""
    rows = []
    for line in open(path, errors="replace"):
        m = TS_SHORT.match(line)
        if m:
            y, mo, d, hh, mm, ss, frac, rest = m.groups()
            local = calendar.timegm((int(y), int(mo), int(d), int(hh), int(mm), int(ss)))
            rows.append((local - offset + int(frac) / 10 ** len(frac), rest.strip()))
    return rows


def frames(path):
    """tcpdump -tt -e text: [(epoch, source MAC)]."""
    out = []
    for line in open(path, errors="replace"):
        parts = line.split()
        if len(parts) > 2 and re.match(r"^\d+\.\d+$", parts[0]):
            out.append((float(parts[0]), parts[1].lower()))
    return out


def updates(evpnd, pcap):
    """Every UPDATE in the capture: (epoch, src ip, dst ip, announced MACs, withdrawn MACs)."""
    first = subprocess.run(["tcpdump", "-r", pcap, "-c", "1", "-tt", "-n"],
                           capture_output=True, text=True, check=True).stdout.split()
    base = float(first[0])
    decoded = subprocess.run([evpnd, "decode", "--pcap", pcap, "--json"],
                             capture_output=True, text=True, check=False).stdout
    out = []
    for line in decoded.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") != "UPDATE" or "time" not in o:
            continue

        def macs(key):
            return {r["mac"].lower() for r in ((o.get(key) or {}).get("routes") or [])
                    if r.get("route_type") == 2 and r.get("mac")}

        out.append((base + o["time"], o["src"].rsplit(":", 1)[0], o["dst"].rsplit(":", 1)[0],
                    macs("mp_reach"), macs("mp_unreach")))
    return out


def first(items, pred):
    return next((x for x in items if pred(x)), None)


def analyze(run, evpnd):
    offset = utc_offset(run)
    fdb = {n: monitor(os.path.join(run, f"fdb-{n}.txt"), offset) for n in ("n1", "n2", "n3")}
    br0_b = frames(os.path.join(run, "br0-n2.txt"))
    links_a = monitor_short(os.path.join(run, "link-n1.txt"), offset)
    msgs = updates(evpnd, os.path.join(run, "ul.pcap"))
    results = []
    for line in open(os.path.join(run, "events.txt")):
        kind, rep, mac, start = line.split()
        rep, mac, start = int(rep), mac.lower(), float(start)
        t, notes = {}, []
        if kind == "move":
            port = f"m{rep}b"
            f = first(br0_b, lambda x: x[0] >= start and x[1] == mac)
            t["t0"] = f[0] if f else start
            if not f:
                notes.append("t0: no frame on B's br0, the ping's start instead")
            r = first(fdb["n2"], lambda x: x[0] >= start - 0.001 and x[1].startswith(f"{mac} dev {port} "))
            t["t1"] = r and r[0]
            u = first(msgs, lambda x: x[0] >= t["t0"] - 0.001 and x[1] == B and x[2] == RR and mac in x[3])
            t["t2"] = u and u[0]
            u = u and first(msgs, lambda x: x[0] >= u[0] and x[1] == RR and x[2] == C and mac in x[3])
            t["t3"] = u and u[0]
            r = first(fdb["n3"], lambda x: x[0] >= t["t0"] and x[1].startswith(f"{mac} dev vxlan0 dst {B} "))
            t["t4"] = r and r[0]
            w = t["t2"] and first(msgs, lambda x: x[0] >= t["t2"] and x[1] == A and x[2] == RR and mac in x[4])
            t["t5"] = w and w[0]
            w = w and first(msgs, lambda x: x[0] >= w[0] and x[1] == RR and x[2] == C and mac in x[4])
            t["t6"] = w and w[0]
        else:
            port = f"r{rep}"
            t["t_cmd"] = start
            f = first(links_a, lambda x: x[0] >= start and re.match(rf"(Deleted )?\d+: {port}@", x[1]))
            t["t0"] = f[0] if f else start
            if not f:
                notes.append("t0: no link notification of the port, the command's start instead")
            r = first(fdb["n1"], lambda x: x[0] >= start and x[1].startswith(f"Deleted {mac} dev {port} "))
            t["t1"] = r and r[0]
            u = first(msgs, lambda x: x[0] >= start and x[1] == A and x[2] == RR and mac in x[4])
            t["t2"] = u and u[0]
            u = u and first(msgs, lambda x: x[0] >= u[0] and x[1] == RR and x[2] == C and mac in x[4])
            t["t3"] = u and u[0]
            gone = [first(fdb["n3"], lambda x, w=w: x[0] >= start and x[1].startswith(f"Deleted {mac} dev vxlan0 {w}"))
                    for w in (f"dst {A} ", "vlan 10 ")]
            t["t4"] = min(g[0] for g in gone if g) if any(gone) else None
            t["t4_last"] = max(g[0] for g in gone) if all(gone) else None
            if not all(gone):
                notes.append("t4: not both of C's rows were seen deleted")
        ms = {}
        for name, a, b, _ in HOPS + (MOVE_EXTRA if kind == "move" else []):
            ms[name] = round((t[b] - t[a]) * 1000, 1) if t.get(a) and t.get(b) else None
        results.append({"event": kind, "rep": rep, "mac": mac, "t": t, "ms": ms, "notes": notes})
    return results


def summary(results, kind):
    rows = [r for r in results if r["event"] == kind]
    out = {}
    for name, *_ in HOPS + (MOVE_EXTRA if kind == "move" else []):
        vals = [r["ms"][name] for r in rows if r["ms"].get(name) is not None]
        out[name] = ({"median": round(statistics.median(vals), 1), "min": min(vals), "max": max(vals), "n": len(vals)}
                     if vals else None)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evpnd", required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--jsonl")
    ap.add_argument("run")
    args = ap.parse_args()
    results = analyze(args.run, args.evpnd)
    lines = []
    print(f"event convergence ({args.label}), ms, on the VM's clock:")
    print(f"{'event':<7} {'hop':<12} {'median':>8} {'min':>8} {'max':>8} {'n':>3}  what")
    for kind, title in (("move", "move"), ("remove", "remove")):
        s = summary(results, kind)
        for name, a, b, what in HOPS + (MOVE_EXTRA if kind == "move" else []):
            v = s[name]
            cells = (f"{v['median']:>8.1f} {v['min']:>8.1f} {v['max']:>8.1f} {v['n']:>3}" if v
                     else f"{'-':>8} {'-':>8} {'-':>8} {0:>3}")
            print(f"{title:<7} {name:<12} {cells}  {what} ({b}-{a})")
            title = ""
        lines.append({"bench": "event-convergence", "label": args.label, "event": kind, "summary": s})
    for r in results:
        for note in r["notes"]:
            print(f"note: {r['event']} {r['rep']}: {note}", file=sys.stderr)
    if args.jsonl:
        with open(args.jsonl, "a") as f:
            for r in results:
                f.write(json.dumps({"bench": "event-convergence", "label": args.label, **r}) + "\n")
            for line in lines:
                f.write(json.dumps(line) + "\n")
    missing = sum(1 for r in results if r["ms"]["total"] is None)
    return 1 if missing or not results else 0


if __name__ == "__main__":
    sys.exit(main())
