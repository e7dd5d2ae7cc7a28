//! The injector: one session that writes the pre-encoded workload as fast
//! as the socket takes it (evpn-blast.py's injector process).
//!
//! Two plain threads on one blocking socket: the writer encodes the
//! workload, brings the session up and then obeys [`InjectorCommand`]s (a blocking
//! `write_all` of the whole stream is as fast as a socket can be fed); the
//! reader drains whatever the speaker sends meanwhile, so a peer that
//! writes to us while we blast never stalls, and reports a NOTIFICATION or
//! a closed connection at once.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use thiserror::Error;

use crate::count::{StreamCounter, StreamError, StreamEvent};
use crate::json::Obj;
use crate::net;
use crate::procstat::{current_tid, thread_cpu};
use crate::wire::{KEEPALIVE_MSG, PeerOpen, open_message};
use crate::workload::{Spec, Workload, WorkloadError};

#[derive(Debug, Clone)]
pub struct InjectorConfig {
    pub speaker: SocketAddr,
    pub local: Option<IpAddr>,
    pub asn: u32,
    pub hold: u16,
    pub router_id: Ipv4Addr,
    pub ext_msg: bool,
    /// Send End-of-RIB after the announce stream.
    pub eor: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Announce,
    Withdraw,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Announce => "announce",
            Phase::Withdraw => "withdraw",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectorCommand {
    Send(Phase),
    /// Cease / Administrative Shutdown, close, report the CPU used.
    Close,
}

#[derive(Debug)]
pub enum InjectorReport {
    Workload {
        info: Obj,
        total: u64,
    },
    Ready {
        peer_open: PeerOpen,
    },
    /// The stream of `phase` went into the socket from `t0` to `t1`.
    Sent {
        phase: Phase,
        t0: Instant,
        t1: Instant,
    },
    Closed {
        cpu_s: f64,
    },
    Error(String),
}

#[derive(Debug, Error)]
pub enum InjectorError {
    #[error("{0}")]
    Workload(#[from] WorkloadError),
    #[error("injector connect to {0}: {1}")]
    Connect(SocketAddr, io::Error),
    #[error("injector: session not established: {0}")]
    NotEstablished(String),
    #[error("peer did not advertise RFC 8654 extended messages")]
    NoExtendedMessage,
    #[error("injector session died: {0}")]
    Died(String),
}

impl From<StreamError> for InjectorError {
    fn from(e: StreamError) -> Self {
        InjectorError::Died(e.to_string())
    }
}

impl From<io::Error> for InjectorError {
    fn from(e: io::Error) -> Self {
        InjectorError::Died(e.to_string())
    }
}

/// The running injector, seen from the run.
pub struct Injector {
    pub commands: Sender<InjectorCommand>,
    pub reports: Receiver<InjectorReport>,
    /// The injector's live threads, for its CPU while the run samples.
    tids: Arc<Mutex<Vec<u32>>>,
    handle: JoinHandle<()>,
}

impl Injector {
    pub fn spawn(cfg: InjectorConfig, spec: Spec) -> io::Result<Injector> {
        let (ctx, crx) = channel();
        let (rtx, rrx) = channel();
        let tids = Arc::new(Mutex::new(Vec::new()));
        let t = tids.clone();
        let handle = thread::Builder::new()
            .name("injector".into())
            .spawn(move || {
                if let Err(e) = writer(&cfg, &spec, &crx, &rtx, &t) {
                    let _ = rtx.send(InjectorReport::Error(e.to_string()));
                }
            })?;
        Ok(Injector {
            commands: ctx,
            reports: rrx,
            tids,
            handle,
        })
    }

    /// CPU seconds its threads have used so far.
    pub fn cpu_now(&self) -> f64 {
        self.tids
            .lock()
            .map(|t| t.iter().map(|&tid| thread_cpu(tid)).sum())
            .unwrap_or(0.0)
    }

    /// Tells the injector to close its session and waits up to 10 s for
    /// its last report, then up to 5 s for its threads: the CPU seconds its
    /// threads used in all, if it said so in time.
    pub fn close(self) -> Option<f64> {
        let _ = self.commands.send(InjectorCommand::Close);
        let end = Instant::now() + Duration::from_secs(10);
        let mut cpu = None;
        while let Ok(report) = self
            .reports
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            if let InjectorReport::Closed { cpu_s } = report {
                cpu = Some(cpu_s);
                break;
            }
        }
        self.join(Duration::from_secs(5));
        cpu
    }

    /// Waits up to `timeout` for the threads to end; a writer stuck on a peer
    /// that reads nothing is left to the process's exit.
    pub fn join(self, timeout: Duration) {
        let end = Instant::now() + timeout;
        while !self.handle.is_finished() && Instant::now() < end {
            thread::sleep(Duration::from_millis(10));
        }
        if self.handle.is_finished() {
            let _ = self.handle.join();
        }
    }
}

fn thread_cpu_self() -> f64 {
    getrusage(UsageWho::RUSAGE_THREAD)
        .map(|u| {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            t(u.user_time()) + t(u.system_time())
        })
        .unwrap_or(0.0)
}

fn connect(cfg: &InjectorConfig) -> Result<TcpStream, InjectorError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let s = rt
        .block_on(net::connect(
            cfg.local,
            cfg.speaker,
            Duration::from_secs(10),
        ))
        .map_err(|e| InjectorError::Connect(cfg.speaker, e))?;
    let s = s.into_std()?;
    s.set_nonblocking(false)?;
    Ok(s)
}

/// OPEN, wait for the peer's OPEN (answer KEEPALIVE) and its KEEPALIVE,
/// within 30 s. Returns the peer's OPEN and the negotiated hold time.
fn handshake(
    s: &mut TcpStream,
    cfg: &InjectorConfig,
    counter: &mut StreamCounter,
) -> Result<(PeerOpen, u16), InjectorError> {
    s.write_all(&open_message(cfg.asn, cfg.hold, cfg.router_id, cfg.ext_msg))?;
    s.set_read_timeout(Some(Duration::from_millis(500)))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = vec![0u8; 65536];
    let mut events = Vec::new();
    let mut peer: Option<PeerOpen> = None;
    let mut state = "opensent";
    loop {
        if Instant::now() > deadline {
            return Err(InjectorError::NotEstablished(state.into()));
        }
        let n = match s.read(&mut buf) {
            Ok(0) => return Err(InjectorError::NotEstablished("peer closed".into())),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(InjectorError::NotEstablished(format!("recv: {e}"))),
        };
        counter
            .feed(&buf[..n], &mut events)
            .map_err(|e| InjectorError::NotEstablished(e.to_string()))?;
        for ev in events.drain(..) {
            match ev {
                StreamEvent::Open(p) => {
                    s.write_all(&KEEPALIVE_MSG)?;
                    peer = Some(p);
                    state = "openconfirm";
                }
                StreamEvent::Keepalive if state == "openconfirm" => state = "established",
                StreamEvent::Keepalive => {}
            }
        }
        if state == "established" {
            let p = peer.expect("an OPEN came before");
            let hold = cfg.hold.min(p.hold);
            s.set_read_timeout(None)?;
            return Ok((p, hold));
        }
    }
}

fn writer(
    cfg: &InjectorConfig,
    spec: &Spec,
    commands: &Receiver<InjectorCommand>,
    reports: &Sender<InjectorReport>,
    tids: &Arc<Mutex<Vec<u32>>>,
) -> Result<(), InjectorError> {
    if let (Some(t), Ok(mut v)) = (current_tid(), tids.lock()) {
        v.push(t);
    }
    let wl = Workload::encode(spec)?;
    let _ = reports.send(InjectorReport::Workload {
        info: wl.info(),
        total: wl.total(),
    });
    let mut s = connect(cfg)?;
    let mut counter = StreamCounter::new(false);
    let (peer, hold) = handshake(&mut s, cfg, &mut counter)?;
    if cfg.ext_msg && !peer.extended_message() {
        return Err(InjectorError::NoExtendedMessage);
    }
    // the reader: drains the socket until it ends; why it ended, if not by Close
    let closing = Arc::new(AtomicBool::new(false));
    let died: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let reader = {
        let mut r = s.try_clone()?;
        let (closing, died, tids, reports) =
            (closing.clone(), died.clone(), tids.clone(), reports.clone());
        thread::Builder::new()
            .name("injector-rx".into())
            .spawn(move || {
                if let (Some(t), Ok(mut v)) = (current_tid(), tids.lock()) {
                    v.push(t);
                }
                let mut buf = vec![0u8; 65536];
                let mut events = Vec::new();
                let why = loop {
                    match r.read(&mut buf) {
                        Ok(0) => break "peer closed".to_string(),
                        Ok(n) => {
                            if let Err(e) = counter.feed(&buf[..n], &mut events) {
                                break e.to_string();
                            }
                            events.clear();
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break format!("recv: {e}"),
                    }
                };
                if !closing.load(Ordering::SeqCst) {
                    if let Ok(mut d) = died.lock() {
                        *d = Some(why.clone());
                    }
                    let _ =
                        reports.send(InjectorReport::Error(InjectorError::Died(why).to_string()));
                    let _ = r.shutdown(Shutdown::Both);
                }
                thread_cpu_self()
            })?
    };
    let _ = reports.send(InjectorReport::Ready { peer_open: peer });
    let died_err = |e: io::Error| {
        let why = died
            .lock()
            .ok()
            .and_then(|d| d.clone())
            .unwrap_or_else(|| e.to_string());
        InjectorError::Died(why)
    };
    let ka = (hold > 0).then(|| Duration::from_secs_f64(f64::from(hold) / 3.0));
    let mut last_tx = Instant::now();
    loop {
        let wait = ka.map_or(Duration::from_secs(3600), |k| {
            (last_tx + k).saturating_duration_since(Instant::now())
        });
        match commands.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {
                s.write_all(&KEEPALIVE_MSG).map_err(died_err)?;
                last_tx = Instant::now();
            }
            Ok(InjectorCommand::Send(phase)) => {
                let stream = if phase == Phase::Announce {
                    &wl.announce
                } else {
                    &wl.withdraw
                };
                let t0 = Instant::now();
                s.write_all(stream).map_err(died_err)?;
                let t1 = Instant::now();
                if phase == Phase::Announce && cfg.eor {
                    s.write_all(&wl.eor).map_err(died_err)?;
                }
                last_tx = Instant::now();
                let _ = reports.send(InjectorReport::Sent { phase, t0, t1 });
            }
            Ok(InjectorCommand::Close) | Err(RecvTimeoutError::Disconnected) => {
                closing.store(true, Ordering::SeqCst);
                let _ = s.write_all(&crate::wire::notification(6, 2)); // Cease / Administrative Shutdown
                let _ = s.shutdown(Shutdown::Both);
                let rx_cpu = reader.join().unwrap_or(0.0);
                if let Ok(mut v) = tids.lock() {
                    v.clear();
                }
                let _ = reports.send(InjectorReport::Closed {
                    cpu_s: thread_cpu_self() + rx_cpu,
                });
                return Ok(());
            }
        }
    }
}
