//! Replay tests of the pure VTEP core (issue 12), after Holo's conformance
//! replays: recorded inputs go in, the outputs are compared exactly with the
//! recorded expectations.
//!
//! # Fixture format (`tests/fixtures/vtep/*.txt`)
//!
//! One input per line; `#` starts a comment line; blank lines are ignored.
//! The lines starting with `> ` after an input are every output of that
//! input, in order. The VTEP is 198.19.0.1 with two EVPN instances: VNI 10
//! on VLAN 10 (SVI ifindex 100) and VNI 20 on VLAN 20 (no SVI); each VNI's
//! RD is `<vtep>:<vni>` and its RT `65000:<vni>`, for remote VTEPs too.
//! Times are seconds since the replay started (`+Ns`, or `+Nms`).
//!
//! Inputs:
//! - `dump <row>` / `dump learned <learned>`: a row of a kernel dump, kept
//!   for the next `start` or `resync`; no output of its own.
//! - `start`: `VtepInput::Start` with the dumped rows.
//! - `resync`: `VtepInput::Resync` with the dumped rows.
//! - `rib add type2 vni=V mac=M [ip=I] vtep=A [seq=N] [sticky] [rt=RT]`,
//!   `rib add type3 vni=V vtep=A [rt=RT]`, `rib del ...` (same fields): a
//!   best-path change for a remote route (`VtepInput::Rib(RibEvent::Changes)`);
//!   `rt=` replaces the route's RT `65000:<vni>`.
//! - `rib sync-done`: `RibEvent::InitialSyncDone`.
//! - `kernel learned|aged <learned>`, `kernel new|deleted <row>`: one
//!   notification (`VtepInput::Kernel`).
//! - `failed add|replace|delete <object>`: `VtepInput::Failed`.
//! - `tick +T`: the clock moves to T, then `VtepInput::Tick`.
//! - `wait +T`: the clock moves to T, no input.
//! - `query stats`, `query warnings vni=V`: read the core (no input).
//!
//! Rows: `flood vni=V vtep=A`, `mac vni=V mac=M vtep=A [sticky]` (a dump's
//! vxlan and bridge halves), `mac-self vni=V mac=M vtep=A [sticky]`,
//! `mac-master vlan=N mac=M [sticky]`, `neigh ifindex=N ip=I mac=M`.
//! Learnt rows: `mac vlan=N mac=M port=N`, `neigh vlan=N ip=I mac=M`.
//! Objects: `flood vni=V vtep=A`, `mac vni=V vlan=N mac=M vtep=A [sticky]`,
//! `neigh ifindex=N ip=I mac=M`.
//!
//! Outputs: `> kernel <op>; <op>...` (one batch), `> rib advertise|withdraw
//! type2 vni=V mac=M [ip=I] [seq=N] [sticky]` / `type3 vni=V` (one line per
//! route), `> timer retry|stale-grace at +T`, `> event <what> ...`, and the
//! answers to queries.
//!
//! The harness plays the RIB: every local route the core advertises or
//! withdraws is fed back to it as a best-path change (our path being the
//! only one for its key, as the RIB task's observer would report it), right
//! after the step; what that produces is listed under the same step.
//!
//! `VTEP_REPLAY_BLESS=1 cargo test -p evpnd-core --test vtep_replay`
//! rewrites the expectations from the actual outputs (then read the diff).

use evpnd_core::dataplane::diff::Op;
use evpnd_core::dataplane::model::OwnedRow;
use evpnd_core::evpn::instance::{EvpnInstance, EvpnInstances};
use evpnd_core::evpn::originate;
use evpnd_core::rib::attrs::AttrInterner;
use evpnd_core::rib::engine::{IngressUpdate, RibEvent};
use evpnd_core::rib::loc_rib::{BestChange, Path};
use evpnd_core::rib::peer::PeerIdx;
use evpnd_core::vtep::{
    KernelEvent, Learned, NeighEvent, VtepCore, VtepInput, VtepOutput, VtepTimer,
};
use evpnd_wire::evpn::{EvpnRouteKey, evpn_route_key, split_evpn_nlri};
use evpnd_wire::rd::RouteDistinguisher;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path as FsPath, PathBuf};
use std::time::Instant;

#[path = "vtep_replay/format.rs"]
mod format;

use format::{
    Fields, parse_learned, parse_mac, parse_object, parse_row, parse_time, show_event, show_op,
    show_route, show_time,
};

const LOCAL_VTEP: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 1);
/// (VNI, VLAN, SVI ifindex).
const INSTANCES: [(u32, u16, Option<u32>); 2] = [(10, 10, Some(100)), (20, 20, None)];

fn instance(vtep: Ipv4Addr, vni: u32, vlan: u16) -> EvpnInstance {
    let rt = format!("65000:{vni}").parse().unwrap();
    EvpnInstance {
        vlan,
        vni,
        rd: RouteDistinguisher::Ipv4 {
            addr: vtep,
            number: vni as u16,
        },
        import_rts: vec![rt],
        export_rts: vec![rt],
        local_vtep: IpAddr::V4(vtep),
    }
}

fn core() -> VtepCore {
    let instances =
        EvpnInstances::new(INSTANCES.map(|(vni, vlan, _)| instance(LOCAL_VTEP, vni, vlan)))
            .unwrap();
    let svis = INSTANCES
        .iter()
        .filter_map(|(_, vlan, svi)| svi.map(|s| (*vlan, s)))
        .collect();
    VtepCore::new(instances, svis)
}

/// The replay state: the core, the clock, the dumped rows, and the RIB's
/// best paths (remote and echoed local).
struct Replay {
    core: VtepCore,
    t0: Instant,
    now: Instant,
    dumped: Vec<OwnedRow>,
    dumped_learned: Vec<Learned>,
    interner: AttrInterner,
    best: BTreeMap<EvpnRouteKey, Path>,
}

impl Replay {
    fn new() -> Self {
        let t0 = Instant::now();
        Self {
            core: core(),
            t0,
            now: t0,
            dumped: Vec::new(),
            dumped_learned: Vec::new(),
            interner: AttrInterner::default(),
            best: BTreeMap::new(),
        }
    }

    /// One input line; returns the output lines.
    fn step(&mut self, line: &str) -> Result<Vec<String>, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let input = match words.as_slice() {
            ["dump", "learned", rest @ ..] => {
                self.dumped_learned.push(parse_learned(rest, true)?);
                return Ok(Vec::new());
            }
            ["dump", rest @ ..] => {
                self.dumped.extend(parse_row(rest)?);
                return Ok(Vec::new());
            }
            ["start"] => VtepInput::Start {
                now: self.now,
                adopted: std::mem::take(&mut self.dumped),
                learned: std::mem::take(&mut self.dumped_learned),
            },
            ["resync"] => VtepInput::Resync {
                now: self.now,
                rows: std::mem::take(&mut self.dumped),
                learned: std::mem::take(&mut self.dumped_learned),
            },
            ["rib", "sync-done"] => VtepInput::Rib(RibEvent::InitialSyncDone),
            ["rib", verb @ ("add" | "del"), rest @ ..] => {
                VtepInput::Rib(RibEvent::Changes(vec![self.remote(*verb == "add", rest)?]))
            }
            ["kernel", verb @ ("learned" | "aged" | "gone"), rest @ ..] => VtepInput::Kernel {
                now: self.now,
                events: vec![KernelEvent::Learned(parse_learned(
                    rest,
                    *verb == "learned",
                )?)],
            },
            ["kernel", verb @ ("new" | "deleted"), rest @ ..] => VtepInput::Kernel {
                now: self.now,
                events: parse_row(rest)?
                    .into_iter()
                    .map(|row| {
                        KernelEvent::Owned(if *verb == "new" {
                            NeighEvent::New(row)
                        } else {
                            NeighEvent::Deleted(row)
                        })
                    })
                    .collect(),
            },
            ["failed", verb, rest @ ..] => {
                let object = parse_object(rest)?;
                let op = match *verb {
                    "add" => Op::Add(object),
                    "replace" => Op::Replace(object),
                    "delete" => Op::Delete(object),
                    other => return Err(format!("unknown op {other}")),
                };
                VtepInput::Failed {
                    now: self.now,
                    ops: vec![op],
                }
            }
            ["tick", at] => {
                self.now = self.t0 + parse_time(at)?;
                VtepInput::Tick { now: self.now }
            }
            ["wait", at] => {
                self.now = self.t0 + parse_time(at)?;
                return Ok(Vec::new());
            }
            ["query", "stats"] => {
                let s = self.core.stats();
                return Ok(vec![format!(
                    "stats operations={} failures={} drift_repairs={} duplicate_macs={:?} local_macs={} remote_macs={} flood_entries={} suppression_neighbors={}",
                    s.operations,
                    s.failures,
                    s.drift_repairs,
                    s.duplicate_macs,
                    s.local_macs,
                    s.remote_macs,
                    s.flood_entries,
                    s.suppression_neighbors
                )]);
            }
            ["query", "warnings", vni] => {
                let vni = Fields::new(&[vni]).req("vni")?;
                return Ok(self
                    .core
                    .warnings(vni)
                    .into_iter()
                    .map(|w| format!("warning {w}"))
                    .collect());
            }
            _ => return Err(format!("unknown input: {line}")),
        };
        let mut lines = Vec::new();
        let mut pending = vec![input];
        while let Some(input) = pending.pop() {
            let mut echo = Vec::new();
            for output in self.core.handle(input) {
                match output {
                    VtepOutput::Kernel(ops) => lines.push(format!(
                        "kernel {}",
                        ops.iter().map(show_op).collect::<Vec<_>>().join("; ")
                    )),
                    VtepOutput::Rib(update) => {
                        lines.extend(self.show_update(&update));
                        echo.extend(self.echo(&update));
                    }
                    VtepOutput::Timer { timer, at } => lines.push(format!(
                        "timer {} at {}",
                        match timer {
                            VtepTimer::Retry => "retry",
                            VtepTimer::StaleGrace => "stale-grace",
                        },
                        show_time(at - self.t0)
                    )),
                    VtepOutput::Event(e) => lines.push(format!("event {}", show_event(&e))),
                }
            }
            if !echo.is_empty() {
                pending.push(VtepInput::Rib(RibEvent::Changes(echo)));
            }
        }
        Ok(lines)
    }

    /// A best-path change for a remote route.
    fn remote(&mut self, add: bool, words: &[&str]) -> Result<BestChange<EvpnRouteKey>, String> {
        let f = Fields::new(&words[1..]);
        let vni: u32 = f.req("vni")?;
        let vtep: Ipv4Addr = f.req("vtep")?;
        let mut from = instance(vtep, vni, 0);
        if let Some(rt) = f.get("rt") {
            from.export_rts = vec![rt.parse().map_err(|_| format!("bad rt={rt}"))?];
        }
        let ad = match words.first().copied() {
            Some("type2") => {
                let seq = f.opt("seq")?.unwrap_or(0);
                let mobility = originate::mac_mobility_community(seq, f.flag("sticky"));
                originate::mac_ip(&from, mobility, [(parse_mac(&f)?, f.opt("ip")?)])
            }
            Some("type3") => originate::inclusive_multicast(&from),
            other => return Err(format!("unknown route type {other:?}")),
        };
        let summary = ad.summary.clone();
        let source = PeerIdx(u16::from(vtep.octets()[3]));
        let attrs = self
            .interner
            .intern(source, &ad.attributes, &ad.next_hop, || summary);
        let nlri = ad.nlri.into_iter().next().ok_or("no NLRI")?;
        let key = evpn_route_key(&nlri).map_err(|e| e.to_string())?;
        let new = add.then(|| Path { attrs, nlri });
        let old = match &new {
            Some(p) => self.best.insert(key.clone(), p.clone()),
            None => self.best.remove(&key),
        };
        if old.is_none() && new.is_none() {
            return Err(format!("no such route to delete: {}", words.join(" ")));
        }
        Ok(BestChange { key, old, new })
    }

    fn show_update(&self, update: &IngressUpdate) -> Vec<String> {
        let mut lines = Vec::new();
        for field in &update.withdrawn {
            for nlri in split_evpn_nlri(field) {
                lines.push(show_route("withdraw", nlri.unwrap(), ""));
            }
        }
        if let Some(reach) = &update.reach {
            let mut extra = String::new();
            if let Some(m) = reach.summary.mac_mobility {
                let _ = write!(extra, " seq={}", m.sequence);
                if m.flags & 1 != 0 {
                    extra.push_str(" sticky");
                }
            }
            for nlri in split_evpn_nlri(&reach.nlri) {
                let nlri = nlri.unwrap();
                let is_type2 = nlri.first() == Some(&2);
                lines.push(show_route(
                    "advertise",
                    nlri,
                    if is_type2 { &extra } else { "" },
                ));
            }
        }
        lines
    }

    /// What the RIB would tell the observer about our own routes.
    fn echo(&mut self, update: &IngressUpdate) -> Vec<BestChange<EvpnRouteKey>> {
        let mut changes = Vec::new();
        for field in &update.withdrawn {
            for nlri in split_evpn_nlri(field) {
                let key = evpn_route_key(nlri.unwrap()).unwrap();
                if let Some(old) = self.best.remove(&key) {
                    changes.push(BestChange {
                        key,
                        old: Some(old),
                        new: None,
                    });
                }
            }
        }
        if let Some(reach) = &update.reach {
            let summary = reach.summary.clone();
            let attrs =
                self.interner
                    .intern(PeerIdx::LOCAL, &reach.attributes, &reach.next_hop, || {
                        summary
                    });
            for nlri in split_evpn_nlri(&reach.nlri) {
                let nlri = bytes_of(nlri.unwrap());
                let key = evpn_route_key(&nlri).unwrap();
                let new = Path {
                    attrs: attrs.clone(),
                    nlri,
                };
                let old = self.best.insert(key.clone(), new.clone());
                changes.push(BestChange {
                    key,
                    old,
                    new: Some(new),
                });
            }
        }
        changes
    }
}

fn bytes_of(nlri: &[u8]) -> evpnd_core::rib::loc_rib::NlriBytes {
    nlri.to_vec().into()
}

/// A fixture: its input lines (with their line numbers) and, after each,
/// the expected output lines.
struct Fixture {
    steps: Vec<(usize, String, Vec<String>)>,
}

fn parse_fixture(text: &str) -> Fixture {
    let mut steps: Vec<(usize, String, Vec<String>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if let Some(expected) = line.strip_prefix("> ") {
            steps
                .last_mut()
                .expect("an expectation before any input")
                .2
                .push(expected.to_string());
        } else if !line.trim().is_empty() && !line.starts_with('#') {
            steps.push((n + 1, line.trim().to_string(), Vec::new()));
        }
    }
    Fixture { steps }
}

/// Replays `fixture`; `Err` describes the first difference.
fn replay(fixture: &Fixture) -> Result<Vec<Vec<String>>, String> {
    let mut replay = Replay::new();
    let mut all = Vec::new();
    let mut first_error = None;
    for (line_no, input, expected) in &fixture.steps {
        let actual = replay
            .step(input)
            .map_err(|e| format!("line {line_no}: {input}: {e}"))?;
        if &actual != expected && first_error.is_none() {
            first_error = Some(format!(
                "line {line_no}: {input}\n  expected:\n{}\n  actual:\n{}",
                expected
                    .iter()
                    .map(|l| format!("    > {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                actual
                    .iter()
                    .map(|l| format!("    > {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        all.push(actual);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(all),
    }
}

/// The fixture text with the expectations replaced by `actual`.
fn blessed(text: &str, mut actual: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("> ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            for l in actual.next().unwrap_or_default() {
                let _ = writeln!(out, "> {l}");
            }
        }
    }
    out
}

fn fixture_path(name: &str) -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vtep")
        .join(format!("{name}.txt"))
}

fn run(name: &str) {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let fixture = parse_fixture(&text);
    if std::env::var_os("VTEP_REPLAY_BLESS").is_some() {
        let mut replay_state = Replay::new();
        let actual = fixture
            .steps
            .iter()
            .map(|(_, input, _)| replay_state.step(input).unwrap())
            .collect::<Vec<_>>();
        std::fs::write(&path, blessed(&text, actual.into_iter())).unwrap();
        return;
    }
    if let Err(e) = replay(&fixture) {
        panic!("{name}.txt: {e}");
    }
}

const FIXTURES: [&str; 9] = [
    "remote_mac_install_and_move",
    "local_mac_advertised",
    "duplicate_mac",
    "drift_repair",
    "failed_op_backoff",
    "restart_adoption",
    "restart_grace_expiry",
    "local_mac_moved_away",
    "drift_neighbour_deleted",
];

#[test]
fn remote_mac_install_and_move() {
    run("remote_mac_install_and_move");
}

#[test]
fn local_mac_advertised() {
    run("local_mac_advertised");
}

#[test]
fn duplicate_mac() {
    run("duplicate_mac");
}

#[test]
fn drift_repair() {
    run("drift_repair");
}

#[test]
fn drift_neighbour_deleted() {
    run("drift_neighbour_deleted");
}

#[test]
fn failed_op_backoff() {
    run("failed_op_backoff");
}

#[test]
fn restart_adoption() {
    run("restart_adoption");
}

#[test]
fn local_mac_moved_away() {
    run("local_mac_moved_away");
}

#[test]
fn restart_grace_expiry() {
    run("restart_grace_expiry");
}

/// Every fixture can fail: changing any one expectation line, dropping it,
/// or adding an output the core does not produce, makes the replay report
/// that step.
#[test]
fn every_fixture_fails_when_an_expectation_changes() {
    for name in FIXTURES {
        let text = std::fs::read_to_string(fixture_path(name)).unwrap();
        let fixture = parse_fixture(&text);
        assert!(replay(&fixture).is_ok(), "{name} passes as recorded");
        let with_outputs: Vec<usize> = (0..fixture.steps.len())
            .filter(|i| !fixture.steps[*i].2.is_empty())
            .collect();
        assert!(!with_outputs.is_empty(), "{name} expects some output");
        for &i in &with_outputs {
            for mutate in [0, 1, 2] {
                let mut broken = Fixture {
                    steps: fixture.steps.clone(),
                };
                let expected = &mut broken.steps[i].2;
                match mutate {
                    0 => expected[0].push_str(" x"),
                    1 => {
                        expected.remove(0);
                    }
                    _ => expected.push("event invented".into()),
                }
                let err = replay(&broken).expect_err("a changed expectation must fail");
                let line = broken.steps[i].0;
                assert!(err.starts_with(&format!("line {line}:")), "{name}: {err}");
            }
        }
    }
}
