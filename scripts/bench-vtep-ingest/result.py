#!/usr/bin/env python3
"""result.py - the figures of scripts/bench-vtep-ingest.sh.

  result.py run --dir D --speaker S --case mac|mac-ip --rep R --reps RS --n N
                --vnis V --vteps T --procs "evpnd" --ok 0|1 [--error E]
      one JSON line for the run whose files are in D (written by inside.sh):
      inject.jsonl (evpnd-loadgen inject: the streams' first-byte times),
      count.txt (nlcount: when the kernel held every row, when it held none),
      proc-{idle,install,gap,withdraw}.txt ("cpu_s hwm_kb rss_kb" per process).
  result.py summary RUNS.JSONL [--json OUT]
      medians (and ranges) per case and speaker, and the ratios evpnd/frr.

Times: install_s = the last counted row's notification read by nlcount minus the
first byte of the announce stream handed to the injector's socket; withdraw_s the
same for the withdraw stream and the last row gone. Both clocks are the VM's
CLOCK_REALTIME.
"""
import argparse
import json
import os
import statistics
import sys


def read_events(path):
    ev = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                name = o.get("event")
                if name == "sent":
                    ev["sent_" + o["phase"]] = o
                elif name:
                    ev.setdefault(name, o)
    except OSError:
        pass
    return ev


def read_count(path):
    out = {"progress": []}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if not p:
                    continue
                if p[0] == "progress":
                    out["progress"].append([float(p[1])] + [int(x) for x in p[2:5]])
                elif p[0] in ("first", "wfirst", "ready", "fdb"):
                    out[p[0]] = float(p[1])
                elif p[0] in ("install", "withdraw"):
                    out[p[0]] = float(p[1])
                    out[p[0] + "_rows"] = [int(x) for x in p[2:5]]
                elif p[0] == "lost":
                    out["lost"] = int(p[2])
                elif p[0] == "final":
                    out["final_rows"] = [int(x) for x in p[2:5]]
                    out["events"] = int(p[6])
                    out["lost"] = int(p[8])
    except OSError:
        pass
    return out


def read_proc(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 5:
                    # cpu_s, hwm_kb, rss_kb, user_s, sys_s
                    rows.append((float(p[0]), int(p[3]), int(p[4]), float(p[1]), float(p[2])))
    except OSError:
        pass
    return rows


def r(x, d=3):
    return None if x is None else round(x, d)


def cmd_run(a):
    ev = read_events(os.path.join(a.dir, "inject.jsonl"))
    cnt = read_count(os.path.join(a.dir, "count.txt"))
    procs = {k: read_proc(os.path.join(a.dir, f"proc-{k}.txt")) for k in ("idle", "install", "gap", "withdraw")}
    names = a.procs.split()
    ann, wd = ev.get("sent_announce"), ev.get("sent_withdraw")
    res = {
        "bench": "vtep-ingest",
        "speaker": a.speaker,
        "n": a.n,
        "mac_ip": a.case == "mac-ip",
        "case": a.case,
        "rep": a.rep,
        "reps": a.reps,
        "vnis": a.vnis,
        "vteps": a.vteps,
        "install_s": r(cnt["install"] - ann["t0"]) if ann and "install" in cnt else None,
        "withdraw_s": r(cnt["withdraw"] - wd["t0"]) if wd and "withdraw" in cnt else None,
        "first_row_s": r(cnt["first"] - ann["t0"]) if ann and "first" in cnt else None,
        # both fdb rows of every MAC in, the neighbours aside (= install_s for MAC-only)
        "fdb_install_s": r(cnt["fdb"] - ann["t0"]) if ann and "fdb" in cnt else None,
        "withdraw_first_row_s": r(cnt["wfirst"] - wd["t0"]) if wd and "wfirst" in cnt else None,
        "inject_announce_s": ann.get("inject_s") if ann else None,
        "inject_withdraw_s": wd.get("inject_s") if wd else None,
    }

    def cpu(a_, b_):
        pa, pb = procs[a_], procs[b_]
        if not pa or len(pa) != len(pb):
            return None
        return r(sum(y[0] - x[0] for x, y in zip(pa, pb)), 2)

    res["speaker_cpu_install_s"] = cpu("idle", "install")
    res["speaker_cpu_withdraw_s"] = cpu("gap", "withdraw")
    res["speaker_cpu_s"] = cpu("idle", "withdraw")
    for ph, a_, b_ in (("install", "idle", "install"), ("withdraw", "gap", "withdraw")):
        pa, pb = procs[a_], procs[b_]
        if pa and len(pa) == len(pb):
            res[f"speaker_cpu_{ph}_user_s"] = r(sum(y[3] - x[3] for x, y in zip(pa, pb)), 2)
            res[f"speaker_cpu_{ph}_sys_s"] = r(sum(y[4] - x[4] for x, y in zip(pa, pb)), 2)
    last = procs["withdraw"] or procs["gap"] or procs["install"]
    # VmHWM was reset at idle (clear_refs 5): the peak while the routes came and went
    res["peak_rss_kb"] = sum(p[1] for p in last) if last else None
    res["rss_idle_kb"] = sum(p[2] for p in procs["idle"]) if procs["idle"] else None
    per = []
    for i, name in enumerate(names):
        d = {"proc": name}
        for ph, a_, b_ in (("install", "idle", "install"), ("withdraw", "gap", "withdraw")):
            if i < len(procs[a_]) and i < len(procs[b_]):
                x, y = procs[a_][i], procs[b_][i]
                d[f"cpu_{ph}_s"] = r(y[0] - x[0], 2)
                # user: the daemon's own work; sys: mostly the kernel applying its netlink requests
                d[f"cpu_{ph}_user_s"] = r(y[3] - x[3], 2)
                d[f"cpu_{ph}_sys_s"] = r(y[4] - x[4], 2)
        if last and i < len(last):
            d["peak_rss_kb"] = last[i][1]
        per.append(d)
    res["procs"] = per
    res["rows_at_install"] = cnt.get("install_rows")
    res["rows_final"] = cnt.get("final_rows")
    res["rows_last_progress"] = cnt["progress"][-1][1:] if cnt["progress"] else None
    res["notifications"] = cnt.get("events")
    res["notifications_lost"] = cnt.get("lost", 0)
    wl = ev.get("workload", {})
    for k in ("workload_sha256", "routes_total", "announce_msgs", "withdraw_msgs"):
        if k in wl:
            res[k] = wl[k]
    res["kernel"] = os.uname().release
    res["ok"] = a.ok == 1 and res["install_s"] is not None and res["withdraw_s"] is not None and not res["notifications_lost"]
    if a.error:
        res["error"] = a.error
    elif not res["ok"]:
        res["error"] = "incomplete: see count.txt and inject.jsonl"
    print(json.dumps(res))


def med(vals):
    v = [x for x in vals if x is not None]
    if not v:
        return None, None, None
    return statistics.median(v), min(v), max(v)


def cmd_summary(a):
    runs = []
    with open(a.runs) as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    groups = {}
    for o in runs:
        groups.setdefault((o["case"], o["speaker"]), []).append(o)
    out = {"bench": "vtep-ingest-summary", "rows": [], "ratios": []}
    meta = runs[0] if runs else {}
    print(f"VTEP ingest: N={meta.get('n')} type-2 routes over {meta.get('vnis')} VNIs "
          f"(+{meta.get('vnis', 0) * meta.get('vteps', 0)} type-3), kernel {meta.get('kernel')}; medians [min-max]")
    hdr = f"{'case':7} {'speaker':7} {'ok/runs':>7} {'install_s':>24} {'withdraw_s':>24} {'cpu_install_s':>14} {'cpu_withdraw_s':>14} {'peak_rss_MiB':>12}"
    print(hdr)
    medians = {}
    for (case, sp), rs in sorted(groups.items()):
        good = [o for o in rs if o.get("ok")]
        row = {"case": case, "speaker": sp, "runs": len(rs), "ok_runs": len(good)}
        for k in ("install_s", "withdraw_s", "speaker_cpu_install_s", "speaker_cpu_withdraw_s", "peak_rss_kb", "first_row_s"):
            m, lo, hi = med([o.get(k) for o in good])
            row[k] = {"median": m, "min": lo, "max": hi}
        medians[(case, sp)] = row
        out["rows"].append(row)

        def f(k, scale=1.0, d=2):
            x = row[k]
            if x["median"] is None:
                return "-"
            return f"{x['median'] / scale:.{d}f} [{x['min'] / scale:.{d}f}-{x['max'] / scale:.{d}f}]"

        print(f"{case:7} {sp:7} {len(good):>3}/{len(rs):<3} {f('install_s'):>24} {f('withdraw_s'):>24} "
              f"{f('speaker_cpu_install_s', d=1).split(' ')[0]:>14} {f('speaker_cpu_withdraw_s', d=1).split(' ')[0]:>14} "
              f"{f('peak_rss_kb', 1024, 0).split(' ')[0]:>12}")
    for case in sorted({c for c, _ in groups}):
        e, z = medians.get((case, "evpnd")), medians.get((case, "frr"))
        if not e or not z:
            continue
        rat = {"case": case}
        for k in ("install_s", "withdraw_s", "speaker_cpu_install_s", "speaker_cpu_withdraw_s", "peak_rss_kb"):
            a_, b_ = e[k]["median"], z[k]["median"]
            rat[k] = {"evpnd_over_frr": r(a_ / b_) if a_ is not None and b_ else None,
                      "frr_over_evpnd": r(b_ / a_) if b_ is not None and a_ else None}
        out["ratios"].append(rat)
        print(f"{case}: evpnd/frr time install {rat['install_s']['evpnd_over_frr']} "
              f"(evpnd {rat['install_s']['frr_over_evpnd']}x faster), withdraw {rat['withdraw_s']['evpnd_over_frr']} "
              f"(evpnd {rat['withdraw_s']['frr_over_evpnd']}x faster); CPU install {rat['speaker_cpu_install_s']['evpnd_over_frr']}, "
              f"withdraw {rat['speaker_cpu_withdraw_s']['evpnd_over_frr']}; peak RSS {rat['peak_rss_kb']['evpnd_over_frr']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    print(json.dumps({"bench": "vtep-ingest-summary", "ratios": out["ratios"]}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--dir", required=True)
    p.add_argument("--speaker", required=True)
    p.add_argument("--case", required=True)
    p.add_argument("--rep", type=int, required=True)
    p.add_argument("--reps", type=int, required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--vnis", type=int, required=True)
    p.add_argument("--vteps", type=int, required=True)
    p.add_argument("--procs", default="")
    p.add_argument("--ok", type=int, default=1)
    p.add_argument("--error", default="")
    p = sub.add_parser("summary")
    p.add_argument("runs")
    p.add_argument("--json")
    a = ap.parse_args()
    {"run": cmd_run, "summary": cmd_summary}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
