//! Samples of /proc, as evpn-blast.py takes them: a process's CPU seconds
//! (utime + stime) and VmRSS/VmHWM, the whole host's busy CPU from
//! /proc/stat, every process's CPU (to name what else ran), and the
//! harness's own CPU (getrusage; the injector's threads from their
//! /proc/self/task entries).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::sync::OnceLock;

use nix::sys::resource::{Resource, UsageWho, getrlimit, getrusage, setrlimit};
use nix::unistd::{SysconfVar, sysconf};

use crate::json::{Node, Obj};

/// Clock ticks per second of /proc's CPU fields.
pub fn clk_tck() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(t)) if t > 0 => t as f64,
        _ => 100.0,
    })
}

/// (comm, CPU seconds) from the text of a /proc/PID/stat file.
pub fn parse_stat(st: &str) -> Option<(String, f64)> {
    let open = st.find('(')?;
    let close = st.rfind(')')?;
    let comm = st.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = st.get(close + 2..)?.split_whitespace().collect();
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, (utime + stime) as f64 / clk_tck()))
}

/// One process as sampled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcSample {
    pub comm: Option<String>,
    pub cpu_s: Option<f64>,
    pub vmrss_kb: Option<u64>,
    pub vmhwm_kb: Option<u64>,
    pub gone: bool,
}

pub fn sample(pid: u32) -> ProcSample {
    let read = || -> Option<ProcSample> {
        let st = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (comm, cpu) = parse_stat(&st)?;
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        };
        Some(ProcSample {
            comm: Some(comm),
            cpu_s: Some(cpu),
            vmrss_kb: kb("VmRSS:"),
            vmhwm_kb: kb("VmHWM:"),
            gone: false,
        })
    };
    read().unwrap_or(ProcSample {
        gone: true,
        ..ProcSample::default()
    })
}

pub fn snapshot(pids: &[u32]) -> BTreeMap<u32, ProcSample> {
    pids.iter().map(|&p| (p, sample(p))).collect()
}

/// Busy CPU seconds of the whole host (all cores) from /proc/stat's first
/// line: user..steal less idle and iowait.
pub fn host_busy_s() -> f64 {
    let s = fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 4 {
        return 0.0;
    }
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    let busy: u64 = v.iter().take(8).sum();
    busy.saturating_sub(idle) as f64 / clk_tck()
}

/// {pid: (comm, CPU seconds)} of every process on the host.
pub fn all_proc_cpu() -> HashMap<u32, (String, f64)> {
    let mut out = HashMap::new();
    let Ok(dir) = fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some(v) = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            out.insert(pid, v);
        }
    }
    out
}

/// The `n` processes outside `exclude` that used the most CPU between two
/// samples (at least 0.05 s), largest first.
pub fn top_foreign(
    before: &HashMap<u32, (String, f64)>,
    after: &HashMap<u32, (String, f64)>,
    exclude: &HashSet<u32>,
    n: usize,
) -> Vec<Node> {
    let mut d: Vec<(f64, String, u32)> = after
        .iter()
        .filter(|(pid, _)| !exclude.contains(pid))
        .filter_map(|(&pid, (comm, cpu))| {
            let delta = cpu - before.get(&pid).map_or(0.0, |b| b.1);
            (delta >= 0.05).then(|| (crate::json::round(delta, 2), comm.clone(), pid))
        })
        .collect();
    d.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
    d.into_iter()
        .take(n)
        .map(|(cpu, comm, pid)| {
            let mut o = Obj::new();
            o.set("comm", comm);
            o.set("pid", pid);
            o.set("cpu_s", cpu);
            Node::Obj(o)
        })
        .collect()
}

/// CPU seconds of this whole process (all threads).
pub fn self_cpu() -> f64 {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            t(u.user_time()) + t(u.system_time())
        }
        Err(_) => 0.0,
    }
}

/// Raises the soft limit of open files to the hard one (1,000 sinks need
/// more than the usual 1,024); the limit in force.
pub fn raise_nofile_limit() -> u64 {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => {
            if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

/// The calling thread's id (from /proc/thread-self, no unsafe call needed).
pub fn current_tid() -> Option<u32> {
    let l = fs::read_link("/proc/thread-self").ok()?;
    l.file_name()?.to_str()?.parse().ok()
}

/// CPU seconds of one thread of this process; 0 once it has ended.
pub fn thread_cpu(tid: u32) -> f64 {
    fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
        .ok()
        .as_deref()
        .and_then(parse_stat)
        .map_or(0.0, |v| v.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parens_in_comm() {
        let st = "1234 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 100 0 0";
        let (comm, cpu) = parse_stat(st).unwrap();
        assert_eq!(comm, "a (b) c");
        assert!((cpu - 300.0 / clk_tck()).abs() < 1e-9);
    }

    #[test]
    fn own_process_and_thread() {
        let me = std::process::id();
        let s = sample(me);
        assert!(!s.gone && s.vmhwm_kb.unwrap() > 0 && s.cpu_s.is_some());
        assert!(sample(u32::MAX).gone);
        let tid = current_tid().unwrap();
        assert!(thread_cpu(tid) >= 0.0);
        assert!(host_busy_s() > 0.0);
        assert!(all_proc_cpu().contains_key(&me));
        let mut before = HashMap::new();
        before.insert(1, ("x".to_string(), 1.0));
        let mut after = before.clone();
        after.insert(1, ("x".to_string(), 2.0));
        after.insert(2, ("y".to_string(), 0.01));
        let top = top_foreign(&before, &after, &HashSet::new(), 3);
        assert_eq!(top.len(), 1);
    }
}
