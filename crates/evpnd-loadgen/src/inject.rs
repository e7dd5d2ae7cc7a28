//! `inject`: the injector alone, driven from outside (issue 15, the VTEP
//! ingest benchmark, `scripts/bench-vtep-ingest.sh`).
//!
//! `run` measures a speaker by what its sinks receive and withdraws as soon
//! as they have everything; a VTEP's result is kernel state, which only the
//! caller can watch. So `inject` opens one session to the speaker, then
//! obeys commands, one per line on stdin: `announce` (the workload's
//! MP_REACH stream, RFC 4760 section 3, then End-of-RIB), `withdraw` (every
//! NLRI again in MP_UNREACH, RFC 4760 section 4), `close` (Cease /
//! Administrative Shutdown, RFC 4486; also at end of input). With
//! `--auto S` it needs no input: announce at once, withdraw S seconds after
//! the announce stream went out, close S seconds later.
//!
//! Every event is one JSON line on stdout, flushed at once, with wall-clock
//! times (seconds since the Unix epoch, so they compare with the kernel
//! monitors' timestamps on the same machine): `workload` (the workload
//! summary, `workload_sha256` as `run` prints it), `established`, `sent`
//! per phase (`t0` = the first byte of the stream handed to the socket,
//! `t1` = its last byte), `closed` (the injector's CPU), or `error`. The
//! session is kept alive with KEEPALIVEs (RFC 4271 section 4.4) meanwhile.

use std::io::{self, BufRead, Write};
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cli::InjectArgs;
use crate::injector::{Injector, InjectorCommand, InjectorConfig, InjectorReport, Phase};
use crate::json::{Obj, round};
use crate::net::parse_opt_addr;

/// Instants as wall-clock seconds since the epoch, from one reading of both
/// clocks.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    epoch_s: f64,
    at: Instant,
}

impl WallClock {
    pub fn now() -> WallClock {
        let at = Instant::now();
        let epoch_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        WallClock { epoch_s, at }
    }

    pub fn epoch(&self, t: Instant) -> f64 {
        if t >= self.at {
            self.epoch_s + (t - self.at).as_secs_f64()
        } else {
            self.epoch_s - (self.at - t).as_secs_f64()
        }
    }
}

/// What the caller asks for, from stdin or `--auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinCommand {
    Send(Phase),
    Close,
}

/// One line of input; `None` for a blank line, `Err` for anything unknown.
pub fn parse_command(line: &str) -> Result<Option<StdinCommand>, String> {
    match line.trim() {
        "" => Ok(None),
        "announce" => Ok(Some(StdinCommand::Send(Phase::Announce))),
        "withdraw" => Ok(Some(StdinCommand::Send(Phase::Withdraw))),
        "close" => Ok(Some(StdinCommand::Close)),
        other => Err(format!(
            "unknown command '{other}' (announce, withdraw, close)"
        )),
    }
}

struct Out<'a> {
    w: &'a mut dyn Write,
    clock: WallClock,
    labels: Vec<(String, String)>,
}

impl Out<'_> {
    fn event(&mut self, name: &str, fields: Obj) {
        let mut o = Obj::new();
        o.set("event", name);
        o.set("t", round(self.clock.epoch(Instant::now()), 6));
        for (k, v) in &self.labels {
            o.set(k, v.as_str());
        }
        o.update(fields);
        let _ = writeln!(self.w, "{}", o.to_json());
        let _ = self.w.flush();
    }

    fn error(&mut self, e: &str) {
        let mut o = Obj::new();
        o.set("error", e);
        self.event("error", o);
    }
}

/// stdin, one command per line, on a thread of its own; EOF is `close`.
fn stdin_commands() -> Receiver<Result<StdinCommand, String>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            match parse_command(&line) {
                Ok(None) => {}
                Ok(Some(c)) => {
                    if tx.send(Ok(c)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        }
        let _ = tx.send(Ok(StdinCommand::Close));
    });
    rx
}

/// Brings the session up, trying again while the speaker refuses or closes
/// it, until `establish_timeout`; prints the workload summary once and
/// `established`.
fn establish(a: &InjectArgs, cfg: &InjectorConfig, out: &mut Out<'_>) -> Result<Injector, String> {
    let t0 = Instant::now();
    let mut tries = 0u32;
    let mut summary_sent = false;
    loop {
        tries += 1;
        let inj = Injector::spawn(cfg.clone(), a.workload.spec()).map_err(|e| e.to_string())?;
        let why = loop {
            match inj.reports.recv_timeout(Duration::from_secs(120)) {
                Ok(InjectorReport::Workload { info, total }) => {
                    if !summary_sent {
                        let mut o = info;
                        o.set("routes_total", total);
                        out.event("workload", o);
                        summary_sent = true;
                    }
                }
                Ok(InjectorReport::Ready { peer_open }) => {
                    let mut o = Obj::new();
                    o.set("establish_s", round(t0.elapsed().as_secs_f64(), 3));
                    o.set("tries", tries);
                    o.set("speaker_id", peer_open.id.to_string());
                    o.set("speaker_hold", peer_open.hold);
                    out.event("established", o);
                    return Ok(inj);
                }
                Ok(InjectorReport::Error(e)) => break e,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => break "no session within 120 s".into(),
                Err(RecvTimeoutError::Disconnected) => break "injector ended".into(),
            }
        };
        inj.join(Duration::from_secs(2));
        if t0.elapsed().as_secs_f64() + 0.5 > a.establish_timeout {
            return Err(format!("after {tries} tries: {why}"));
        }
        thread::sleep(Duration::from_millis(500));
    }
}

/// The `inject` sub-command on stdin and stdout; the process's exit status.
pub fn main(a: InjectArgs) -> u8 {
    let commands = if a.auto.is_some() {
        let (tx, rx) = mpsc::channel();
        // the rest is timed from each `sent` (see `drive`)
        let _ = tx.send(Ok(StdinCommand::Send(Phase::Announce)));
        rx
    } else {
        stdin_commands()
    };
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    run(&a, &commands, &mut lock)
}

/// `inject` with its commands from `commands` (ended: `close`, unless
/// `--auto`), events written to `w`; the exit status.
pub fn run(
    a: &InjectArgs,
    commands: &Receiver<Result<StdinCommand, String>>,
    w: &mut dyn Write,
) -> u8 {
    let mut out = Out {
        w,
        clock: WallClock::now(),
        labels: a
            .label
            .iter()
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
    };
    let local = match parse_opt_addr(&a.injector_addr) {
        Ok(l) => l,
        Err(e) => {
            out.error(&format!("--injector-addr: {e}"));
            return 2;
        }
    };
    let cfg = InjectorConfig {
        speaker: SocketAddr::new(a.speaker, a.port),
        local,
        asn: a.workload.asn,
        hold: a.hold,
        router_id: a.router_id,
        ext_msg: a.workload.ext_msg,
        eor: a.workload.eor,
    };
    let inj = match establish(a, &cfg, &mut out) {
        Ok(i) => i,
        Err(e) => {
            out.error(&e);
            return 1;
        }
    };
    let ok = drive(a, &inj, commands, &mut out);
    if let Err(e) = &ok {
        out.error(e);
    }
    if let Some(cpu_s) = inj.close() {
        let mut o = Obj::new();
        o.set("harness_injector_cpu_s", round(cpu_s, 3));
        out.event("closed", o);
    }
    u8::from(ok.is_err())
}

/// Passes commands to the injector and reports what it sent, until `close`.
fn drive(
    a: &InjectArgs,
    inj: &Injector,
    commands: &Receiver<Result<StdinCommand, String>>,
    out: &mut Out<'_>,
) -> Result<(), String> {
    // --auto: the next command and when it is due
    let mut due: Option<(Instant, StdinCommand)> = None;
    let mut input_done = false;
    loop {
        match inj.reports.recv_timeout(Duration::from_millis(10)) {
            Ok(InjectorReport::Sent { phase, t0, t1 }) => {
                let mut o = Obj::new();
                o.set("phase", phase.name());
                o.set("t0", round(out.clock.epoch(t0), 6));
                o.set("t1", round(out.clock.epoch(t1), 6));
                o.set("inject_s", round((t1 - t0).as_secs_f64(), 4));
                out.event("sent", o);
                if let Some(s) = a.auto {
                    let next = match phase {
                        Phase::Announce => StdinCommand::Send(Phase::Withdraw),
                        Phase::Withdraw => StdinCommand::Close,
                    };
                    due = Some((t1 + Duration::from_secs_f64(s.max(0.0)), next));
                }
            }
            Ok(InjectorReport::Error(e)) => return Err(e),
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err("injector ended".into()),
        }
        let mut next = None;
        if let Some((at, c)) = due
            && Instant::now() >= at
        {
            due = None;
            next = Some(c);
        }
        if next.is_none() && !input_done {
            match commands.try_recv() {
                Ok(Ok(c)) => next = Some(c),
                Ok(Err(e)) => out.error(&e),
                Err(TryRecvError::Empty) => {}
                // --auto: the channel is empty once the announce is taken;
                // otherwise the end of input is a close
                Err(TryRecvError::Disconnected) if a.auto.is_some() => input_done = true,
                Err(TryRecvError::Disconnected) => return Ok(()),
            }
        }
        match next {
            Some(StdinCommand::Send(p)) => {
                let _ = inj.commands.send(InjectorCommand::Send(p));
            }
            Some(StdinCommand::Close) => return Ok(()),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn commands() {
        assert_eq!(
            parse_command(" announce\n"),
            Ok(Some(StdinCommand::Send(Phase::Announce)))
        );
        assert_eq!(
            parse_command("withdraw"),
            Ok(Some(StdinCommand::Send(Phase::Withdraw)))
        );
        assert_eq!(parse_command("close"), Ok(Some(StdinCommand::Close)));
        assert_eq!(parse_command("  "), Ok(None));
        assert!(parse_command("go").is_err());
    }

    /// The whole sub-command against a passive sink on loopback (no root):
    /// `--auto` announces, withdraws and closes by itself, the sink counts
    /// every route both ways, and the events come in order.
    #[test]
    fn auto_against_a_sink() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicU64;

        use clap::Parser;

        use crate::sink::{self, SinkConfig, SinkSession};

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = SinkSession::new("sink".into(), false, Arc::new(AtomicU64::new(0)));
        let s2 = s.clone();
        let server = thread::spawn(move || {
            rt.block_on(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let cfg = SinkConfig {
                    asn: 65000,
                    hold: 180,
                    router_id: Ipv4Addr::new(198, 18, 2, 1),
                    ext_msg: false,
                    verify: false,
                    active: false,
                };
                sink::session(stream, cfg, s2).await;
            });
        });
        let cli = crate::cli::LoadgenCli::try_parse_from([
            "x",
            "inject",
            "--speaker",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "-n",
            "3000",
            "--vteps",
            "1",
            "--vnis",
            "3",
            "--mac-ip",
            "--auto",
            "0.2",
            "--label",
            "speaker=test",
        ])
        .unwrap();
        let crate::cli::Cmd::Inject(a) = cli.cmd else {
            panic!("inject")
        };
        let (tx, rx) = mpsc::channel();
        tx.send(Ok(StdinCommand::Send(Phase::Announce))).unwrap();
        let mut buf = Vec::new();
        assert_eq!(run(&a, &rx, &mut buf), 0);
        server.join().unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
        assert_eq!(
            events,
            ["workload", "established", "sent", "sent", "closed"],
            "{lines:?}"
        );
        assert_eq!(lines[0]["routes_total"], 3003);
        assert!(lines.iter().all(|l| l["speaker"] == "test"));
        assert_eq!(lines[2]["phase"], "announce");
        assert_eq!(lines[3]["phase"], "withdraw");
        let (a0, w0) = (
            lines[2]["t0"].as_f64().unwrap(),
            lines[3]["t0"].as_f64().unwrap(),
        );
        assert!(
            w0 - a0 >= 0.2,
            "withdraw {w0} not 0.2 s after announce {a0}"
        );
        let g = s.lock();
        assert_eq!(g.counter.counts.announced(), 3003);
        assert_eq!(g.counter.counts.withdrawn(), 3003);
    }

    #[test]
    fn wall_clock_both_ways() {
        let c = WallClock::now();
        let later = c.at + Duration::from_millis(1500);
        assert!((c.epoch(later) - c.epoch_s - 1.5).abs() < 1e-9);
        if let Some(earlier) = c.at.checked_sub(Duration::from_millis(250)) {
            assert!((c.epoch(earlier) - c.epoch_s + 0.25).abs() < 1e-9);
        }
    }
}
