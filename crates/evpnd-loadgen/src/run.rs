//! One benchmark run, measured as evpn-blast.py's `run` measures it:
//! injector and sinks up, a settle, the counters reset and /proc sampled,
//! then per phase (announce, withdraw) the stream sent, every sink's done
//! time, a grace period and /proc sampled again. The JSON has the same
//! fields, so summarize.py reads either.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use serde_json::Value;
use thiserror::Error;

use crate::injector::{self, Injector, InjectorCommand, InjectorReport, Phase};
use crate::json::{Node, Obj, round};
use crate::net::{self, ip_add};
use crate::procstat::{self, ProcSample};
use crate::sink::{self, SinkSession, SinkState};
use crate::wire::PeerOpen;
use crate::workload::Spec;

/// What `run` takes (evpn-blast.py's flags of the `run` sub-command).
#[derive(Debug, Clone)]
pub struct Args {
    pub spec: Spec,
    pub eor: bool,
    pub speaker: IpAddr,
    pub port: u16,
    pub sinks: usize,
    pub injector_addr: Option<IpAddr>,
    pub sink_addr_base: Option<Ipv4Addr>,
    pub router_id: Ipv4Addr,
    pub sink_id_base: Ipv4Addr,
    pub hold: u16,
    pub settle: Option<f64>,
    pub grace: f64,
    pub timeout: f64,
    pub establish_timeout: f64,
    pub no_withdraw: bool,
    pub direct: bool,
    pub verify: bool,
    pub speaker_pids: Vec<u32>,
    pub labels: Vec<String>,
    /// Worker threads for the sinks (evpn-blast.py: one process).
    pub sink_threads: usize,
}

#[derive(Debug, Error)]
pub enum RunError {
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    #[error("listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("direct sink: no connection from the injector: {0}")]
    Accept(String),
    #[error("sink{0} connect to {1}: {2}")]
    SinkConnect(usize, SocketAddr, std::io::Error),
    #[error("sink address base + {0} is past 255.255.255.255")]
    Address(usize),
    #[error("injector did not report workload")]
    NoWorkload,
    #[error("{0}")]
    Injector(String),
    #[error("sink {0} died: {1}")]
    SinkDied(String, String),
    #[error("sessions not established: {0}")]
    NotEstablished(String),
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// evpn-blast.py's `pct`: the element at round(q * (n - 1)), Python's
/// round (half to even).
pub fn pct<T: Copy + Ord>(vals: &[T], q: f64) -> Option<T> {
    let mut v = vals.to_vec();
    v.sort();
    if v.is_empty() {
        return None;
    }
    let x = q * (v.len() - 1) as f64;
    let r = x.round();
    let idx = if (x - x.trunc() - 0.5).abs() < 1e-12 && r % 2.0 != 0.0 {
        r - 1.0
    } else {
        r
    };
    Some(v[(idx.max(0.0) as usize).min(v.len() - 1)])
}

struct Ctx<'a> {
    a: &'a Args,
    rt: &'a tokio::runtime::Runtime,
    sinks: Vec<Arc<SinkSession>>,
    board: Arc<AtomicU64>,
    seen: u64,
    injector: Option<Injector>,
    inj_msgs: Vec<InjectorReport>,
}

impl Ctx<'_> {
    fn injector(&self) -> &Injector {
        self.injector.as_ref().expect("the injector runs")
    }

    /// Waits up to `dt` for the injector, then checks the sinks if any changed.
    fn pump(&mut self, dt: Duration) -> Result<(), RunError> {
        match self.injector().reports.recv_timeout(dt) {
            Ok(InjectorReport::Error(e)) => return Err(RunError::Injector(e)),
            Ok(m) => self.inj_msgs.push(m),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(RunError::Injector("injector ended".into()));
            }
        }
        let g = self.board.load(Ordering::Acquire);
        if g != self.seen {
            self.seen = g;
            for s in &self.sinks {
                if let Some(e) = &s.lock().error {
                    return Err(RunError::SinkDied(s.name.clone(), e.clone()));
                }
            }
        }
        Ok(())
    }

    fn pump_for(&mut self, d: Duration) -> Result<(), RunError> {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.pump(
                Duration::from_millis(10).min(end.saturating_duration_since(Instant::now())),
            )?;
        }
        Ok(())
    }

    /// CPU seconds of this process but the injector's threads (evpn-blast.py's
    /// sink process).
    fn sink_cpu(&self) -> f64 {
        procstat::self_cpu() - self.injector.as_ref().map_or(0.0, Injector::cpu_now)
    }
}

/// Runs the benchmark; the result and whether it is ok.
pub fn run(mut a: Args) -> (Obj, bool) {
    let t_start = Instant::now();
    let mut res = Obj::new();
    res.set("tool", "evpnd-loadgen");
    res.set("version", env!("CARGO_PKG_VERSION"));
    res.set("compat", "evpn-blast 0.1");
    res.set("mode", if a.direct { "direct" } else { "rr" });
    res.set("speaker_addr", a.speaker.to_string());
    res.set("port", a.port);
    res.set("asn", a.spec.asn);
    res.set("sinks", a.sinks);
    res.set("hold", a.hold);
    for kv in &a.labels {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        res.set(k, v);
    }
    let settle = a
        .settle
        .unwrap_or_else(|| (2.0 + 0.06 * a.sinks as f64).max(5.0));
    res.set("settle_s", settle);
    if a.direct {
        a.sinks = 1;
        res.set("sinks", 1);
    }
    procstat::raise_nofile_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.sink_threads.max(1))
        .thread_name("sinks")
        .enable_all()
        .build();
    let outcome = match rt {
        Err(e) => Err(RunError::Runtime(e)),
        Ok(rt) => {
            let mut cx = Ctx {
                a: &a,
                rt: &rt,
                sinks: Vec::new(),
                board: Arc::new(AtomicU64::new(0)),
                seen: 0,
                injector: None,
                inj_msgs: Vec::new(),
            };
            let r = body(&mut cx, settle, &mut res);
            if let Some(inj) = cx.injector.take() {
                let _ = inj.commands.send(InjectorCommand::Close);
                inj.join(Duration::from_secs(5));
            }
            rt.shutdown_timeout(Duration::from_secs(2));
            r
        }
    };
    if let Err(e) = outcome {
        res.set("ok", false);
        res.set("error", e.to_string());
    }
    res.set("wall_s", round(secs(t_start.elapsed()), 2));
    let ok = matches!(res.get("ok"), Some(Node::Val(Value::Bool(true))));
    (res, ok)
}

fn start_sinks(cx: &mut Ctx<'_>, listener: Option<std::net::TcpListener>) -> Result<(), RunError> {
    let a = cx.a;
    let remote = SocketAddr::new(a.speaker, a.port);
    let cfg = |i: usize, active| sink::SinkConfig {
        asn: a.spec.asn,
        hold: a.hold,
        router_id: ip_add(a.sink_id_base, 1 + i as u64).unwrap_or(a.sink_id_base),
        ext_msg: a.spec.ext_msg,
        verify: a.verify,
        active,
    };
    if let Some(l) = listener {
        let _g = cx.rt.enter();
        l.set_nonblocking(true)
            .map_err(|e| RunError::Accept(e.to_string()))?;
        let l =
            tokio::net::TcpListener::from_std(l).map_err(|e| RunError::Accept(e.to_string()))?;
        let (stream, _) = cx
            .rt
            .block_on(tokio::time::timeout(Duration::from_secs(30), l.accept()))
            .map_err(|_| RunError::Accept("timed out".into()))?
            .map_err(|e| RunError::Accept(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let s = SinkSession::new("direct-sink".into(), a.verify, cx.board.clone());
        cx.sinks.push(s.clone());
        cx.rt.spawn(sink::session(stream, cfg(0, false), s));
        return Ok(());
    }
    for i in 0..a.sinks {
        let local = match a.sink_addr_base {
            Some(b) => Some(IpAddr::V4(ip_add(b, i as u64).ok_or(RunError::Address(i))?)),
            None => None,
        };
        let stream = cx
            .rt
            .block_on(net::connect(local, remote, Duration::from_secs(10)))
            .map_err(|e| RunError::SinkConnect(i, remote, e))?;
        let s = SinkSession::new(format!("sink{i}"), a.verify, cx.board.clone());
        cx.sinks.push(s.clone());
        cx.rt.spawn(sink::session(stream, cfg(i, true), s));
    }
    Ok(())
}

fn peer_open_obj(p: &PeerOpen) -> Obj {
    let mut o = Obj::new();
    o.set("hold", p.hold);
    o.set(
        "caps",
        p.caps.iter().map(|&c| Value::from(c)).collect::<Vec<_>>(),
    );
    o.set("id", p.id.to_string());
    o
}

fn body(cx: &mut Ctx<'_>, settle: f64, res: &mut Obj) -> Result<(), RunError> {
    let a = cx.a;
    let mut listener = None;
    let mut speaker = SocketAddr::new(a.speaker, a.port);
    if a.direct {
        let l = std::net::TcpListener::bind(speaker).map_err(|e| RunError::Listen(speaker, e))?;
        // port 0: the injector goes to the port the kernel chose
        speaker = l.local_addr().map_err(|e| RunError::Listen(speaker, e))?;
        listener = Some(l);
    }
    let icfg = injector::InjectorConfig {
        speaker,
        local: a.injector_addr,
        asn: a.spec.asn,
        hold: a.hold,
        router_id: a.router_id,
        ext_msg: a.spec.ext_msg,
        eor: a.eor,
    };
    cx.injector =
        Some(Injector::spawn(icfg, a.spec.clone()).map_err(|e| RunError::Injector(e.to_string()))?);
    // workload info first (the injector encodes it)
    let target = match cx.injector().reports.recv_timeout(Duration::from_secs(600)) {
        Ok(InjectorReport::Workload { info, total }) => {
            res.update(info);
            total
        }
        Ok(InjectorReport::Error(e)) => return Err(RunError::Injector(e)),
        _ => return Err(RunError::NoWorkload),
    };
    start_sinks(cx, listener)?;
    let t_est0 = Instant::now();
    let peer_open = loop {
        cx.pump(Duration::from_millis(20))?;
        let ready = cx.inj_msgs.iter().find_map(|m| match m {
            InjectorReport::Ready { peer_open } => Some(peer_open.clone()),
            _ => None,
        });
        if let Some(p) = &ready
            && cx
                .sinks
                .iter()
                .all(|s| s.lock().state == SinkState::Established)
        {
            break p.clone();
        }
        if secs(t_est0.elapsed()) > a.establish_timeout {
            let states: Vec<String> = cx
                .sinks
                .iter()
                .map(|s| format!("('{}', '{}')", s.name, s.lock().state.name()))
                .collect();
            let inj = if ready.is_some() {
                ""
            } else {
                "injector not established; "
            };
            return Err(RunError::NotEstablished(format!(
                "{inj}[{}]",
                states.join(", ")
            )));
        }
    };
    res.set("establish_s", round(secs(t_est0.elapsed()), 3));
    res.set("speaker_open", peer_open_obj(&peer_open));
    // settle: drain what the speaker sends on session up (End-of-RIB etc.)
    cx.pump_for(Duration::from_secs_f64(settle))?;
    for s in &cx.sinks {
        s.lock().counter.reset(target);
    }
    let pids = &a.speaker_pids;
    let mut snaps: BTreeMap<&str, BTreeMap<u32, ProcSample>> = BTreeMap::new();
    snaps.insert("idle", procstat::snapshot(pids));
    let cpu0 = cx.sink_cpu();
    let mut host: HashMap<&str, (f64, f64)> = HashMap::new();
    host.insert("idle", (procstat::host_busy_s(), cpu0));
    let mut allp = HashMap::new();
    allp.insert("idle", procstat::all_proc_cpu());
    let excl: HashSet<u32> = pids.iter().copied().chain([std::process::id()]).collect();
    for phase in [Phase::Announce, Phase::Withdraw] {
        if phase == Phase::Withdraw && a.no_withdraw {
            break;
        }
        let (mut ph, t_ph) = measure_phase(cx, phase, target)?;
        cx.pump_for(Duration::from_secs_f64(a.grace))?;
        let name = phase.name();
        let prev = if phase == Phase::Announce {
            "idle"
        } else {
            "announce"
        };
        snaps.insert(name, procstat::snapshot(pids));
        host.insert(name, (procstat::host_busy_s(), cx.sink_cpu()));
        let busy = host[name].0 - host[prev].0;
        let spk: f64 = pids
            .iter()
            .map(|p| snaps[name][p].cpu_s.unwrap_or(0.0) - snaps[prev][p].cpu_s.unwrap_or(0.0))
            .sum();
        let sink = host[name].1 - host[prev].1;
        ph.set("host_busy_cpu_s", round(busy, 2));
        ph.set("foreign_cpu_s", round(busy - spk - sink, 2));
        allp.insert(name, procstat::all_proc_cpu());
        ph.set(
            "top_foreign",
            Node::List(procstat::top_foreign(&allp[prev], &allp[name], &excl, 3)),
        );
        ph.set("phase_wall_s", round(secs(t_ph.elapsed()), 2));
        res.set(name, ph);
    }
    if res.get("withdraw").is_none() {
        res.set("withdraw", Value::Null);
    }
    let counts: Vec<_> = cx
        .sinks
        .iter()
        .map(|s| {
            let g = s.lock();
            (
                g.counter.counts,
                g.counter.updates,
                g.counter.bytes,
                g.counter.keys.clone(),
            )
        })
        .collect();
    res.set(
        "sink_updates_max",
        counts.iter().map(|c| c.1).max().unwrap_or(0),
    );
    res.set(
        "sink_bytes_max",
        counts.iter().map(|c| c.2).max().unwrap_or(0),
    );
    res.set(
        "dup_or_extra_nlri_max",
        counts
            .iter()
            .map(|c| c.0.announced() as i64 - target as i64)
            .max()
            .unwrap_or(0),
    );
    res.set("other_nlri", counts.iter().map(|c| c.0.other).sum::<u64>());
    if a.verify {
        let n = |f: fn(&crate::count::Keys) -> usize| {
            counts
                .iter()
                .map(|c| Value::from(c.3.as_ref().map_or(0, f)))
                .collect::<Vec<_>>()
        };
        res.set("verify_distinct_announced", n(|k| k.announced.len()));
        res.set("verify_distinct_withdrawn", n(|k| k.withdrawn.len()));
    }
    res.set("harness_sink_cpu_s", round(cx.sink_cpu() - cpu0, 3));
    if let Some(cpu_s) = cx.injector.take().and_then(Injector::close) {
        res.set("harness_injector_cpu_s", round(cpu_s, 3));
    }
    if !pids.is_empty() {
        res.set("speaker_procs", speaker_procs(pids, &snaps));
    }
    let complete = |k: &str| match res.get(k) {
        Some(Node::Obj(o)) => matches!(o.get("complete"), Some(Node::Val(Value::Bool(true)))),
        _ => false,
    };
    let ok = complete("announce") && (a.no_withdraw || complete("withdraw"));
    res.set("ok", ok);
    Ok(())
}

/// Sends one phase's stream and waits for every sink (or the timeout); the
/// phase's figures and when it began.
fn measure_phase(cx: &mut Ctx<'_>, phase: Phase, target: u64) -> Result<(Obj, Instant), RunError> {
    let a = cx.a;
    cx.inj_msgs.clear();
    let _ = cx.injector().commands.send(InjectorCommand::Send(phase));
    let t_ph = Instant::now();
    let done_of = |s: &SinkSession| {
        let g = s.lock();
        if phase == Phase::Announce {
            g.counter.t_announced
        } else {
            g.counter.t_withdrawn
        }
    };
    let sent = |msgs: &[InjectorReport]| {
        msgs.iter().find_map(|m| match m {
            InjectorReport::Sent { t0, t1, .. } => Some((*t0, *t1)),
            _ => None,
        })
    };
    let mut checked = u64::MAX;
    loop {
        cx.pump(Duration::from_millis(10))?;
        // the sinks are scanned once the stream is sent, then only when one
        // of them says something changed (a done time among others)
        let g = cx.board.load(Ordering::Acquire);
        if sent(&cx.inj_msgs).is_some() && g != checked {
            checked = g;
            if cx.sinks.iter().all(|s| done_of(s).is_some()) {
                break;
            }
        }
        if secs(t_ph.elapsed()) > a.timeout {
            break;
        }
    }
    let done: Vec<Option<Instant>> = cx.sinks.iter().map(|s| done_of(s)).collect();
    let mut ph = Obj::new();
    ph.set("complete", done.iter().all(Option::is_some));
    if let Some((t0, t1)) = sent(&cx.inj_msgs) {
        ph.set("inject_s", round(secs(t1 - t0), 4));
        let fin: Vec<Instant> = done.iter().flatten().copied().collect();
        if let (Some(max), Some(min), Some(med)) =
            (fin.iter().max(), fin.iter().min(), pct(&fin, 0.5))
        {
            ph.set(
                "convergence_s",
                round(secs(max.saturating_duration_since(t0)), 4),
            );
            ph.set(
                "first_sink_done_s",
                round(secs(min.saturating_duration_since(t0)), 4),
            );
            ph.set(
                "median_sink_done_s",
                round(secs(med.saturating_duration_since(t0)), 4),
            );
        }
        if phase == Phase::Announce {
            let firsts = cx
                .sinks
                .iter()
                .filter_map(|s| s.lock().counter.t_first)
                .min();
            if let Some(f) = firsts {
                ph.set(
                    "first_route_latency_s",
                    round(secs(f.saturating_duration_since(t0)), 4),
                );
            }
        }
        if let Some(c) = ph.f64("convergence_s").filter(|c| *c != 0.0) {
            ph.set("routes_per_s_per_sink", (target as f64 / c) as u64);
        }
    }
    let recv: Vec<u64> = cx
        .sinks
        .iter()
        .map(|s| {
            let c = s.lock().counter.counts;
            if phase == Phase::Announce {
                c.announced()
            } else {
                c.withdrawn()
            }
        })
        .collect();
    if a.sinks <= 10 {
        ph.set(
            "received",
            recv.iter().map(|&v| Value::from(v)).collect::<Vec<_>>(),
        );
    } else {
        let mut o = Obj::new();
        o.set("min", recv.iter().copied().min().unwrap_or(0));
        o.set("max", recv.iter().copied().max().unwrap_or(0));
        ph.set("received", o);
    }
    Ok((ph, t_ph))
}

fn speaker_procs(pids: &[u32], snaps: &BTreeMap<&str, BTreeMap<u32, ProcSample>>) -> Obj {
    let mut sp = Obj::new();
    let opt = |v: Option<u64>| v.map_or(Value::Null, Value::from);
    for pid in pids {
        let idle = &snaps["idle"][pid];
        let mut d = Obj::new();
        d.set("comm", idle.comm.clone().map_or(Value::Null, Value::from));
        d.set("rss_idle_kb", opt(idle.vmrss_kb));
        let cpu = |s: &ProcSample| s.cpu_s.unwrap_or(0.0);
        if let Some(an) = snaps.get("announce").map(|m| &m[pid]) {
            d.set("cpu_announce_s", round(cpu(an) - cpu(idle), 3));
            d.set("rss_loaded_kb", opt(an.vmrss_kb));
        }
        let last = snaps
            .get("withdraw")
            .or_else(|| snaps.get("announce"))
            .map(|m| &m[pid]);
        if let (Some(wd), Some(an)) = (
            snaps.get("withdraw").map(|m| &m[pid]),
            snaps.get("announce").map(|m| &m[pid]),
        ) {
            d.set("cpu_withdraw_s", round(cpu(wd) - cpu(an), 3));
        }
        if let Some(last) = last {
            d.set("cpu_total_s", round(cpu(last) - cpu(idle), 3));
            d.set("vmhwm_kb", opt(last.vmhwm_kb));
        }
        sp.set(&pid.to_string(), d);
    }
    sp
}

#[cfg(test)]
mod tests {
    use super::pct;

    #[test]
    fn pct_rounds_half_to_even_as_python() {
        assert_eq!(pct(&[1, 2], 0.5), Some(1)); // round(0.5) = 0
        assert_eq!(pct(&[1, 2, 3, 4], 0.5), Some(3)); // round(1.5) = 2
        assert_eq!(pct(&[1, 2, 3, 4, 5, 6], 0.5), Some(3)); // round(2.5) = 2
        assert_eq!(pct(&[5, 1, 3], 0.5), Some(3));
        assert_eq!(pct::<u32>(&[], 0.5), None);
    }
}
