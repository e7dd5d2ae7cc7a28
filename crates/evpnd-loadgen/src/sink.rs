//! The sinks: K sessions on a tokio runtime (one worker thread by default,
//! as evpn-blast.py's one sink process), each counting what the speaker
//! reflects (see [`crate::count`]).
//!
//! Reads go into one 1 MiB buffer per worker thread, shared by every sink on
//! it (a read is counted before the task yields), so a sink costs its
//! socket, a small carry buffer and its counters: 1,000 sinks need no
//! gigabyte of buffers.

use std::cell::RefCell;
use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::count::{StreamCounter, StreamEvent};
use crate::wire::{KEEPALIVE_MSG, open_message};

const READ_BUF: usize = 1 << 20;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0u8; READ_BUF]);
}

#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub asn: u32,
    pub hold: u16,
    pub router_id: Ipv4Addr,
    pub ext_msg: bool,
    pub verify: bool,
    /// Send OPEN first (connected out); a passive sink waits for the peer's.
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkState {
    Connect,
    OpenSent,
    OpenConfirm,
    Established,
}

impl SinkState {
    pub fn name(self) -> &'static str {
        match self {
            SinkState::Connect => "connect",
            SinkState::OpenSent => "opensent",
            SinkState::OpenConfirm => "openconfirm",
            SinkState::Established => "established",
        }
    }
}

#[derive(Debug)]
pub struct Inner {
    pub counter: StreamCounter,
    pub state: SinkState,
    /// Why the session ended; a sink never ends on its own during a run.
    pub error: Option<String>,
}

/// One sink, shared between its task and the run.
#[derive(Debug)]
pub struct SinkSession {
    pub name: String,
    inner: Mutex<Inner>,
    /// Bumped by every sink when something the run waits for changed (a
    /// state, an error, a phase complete), so the run rescans only then.
    board: Arc<AtomicU64>,
}

impl SinkSession {
    pub fn new(name: String, verify: bool, board: Arc<AtomicU64>) -> Arc<SinkSession> {
        Arc::new(SinkSession {
            name,
            inner: Mutex::new(Inner {
                counter: StreamCounter::new(verify),
                state: SinkState::Connect,
                error: None,
            }),
            board,
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.board.fetch_add(1, Ordering::Release);
    }

    fn set_state(&self, s: SinkState) {
        self.lock().state = s;
        self.changed();
    }

    fn fail(&self, why: String) {
        let mut g = self.lock();
        if g.error.is_none() {
            g.error = Some(why);
        }
        drop(g);
        self.changed();
    }
}

async fn send(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

enum Read {
    Data,
    Drained,
}

/// One read into the thread's buffer, counted under the sink's lock.
fn read_once(
    stream: &TcpStream,
    sink: &SinkSession,
    events: &mut Vec<StreamEvent>,
) -> Result<Read, String> {
    SCRATCH.with(|buf| {
        let mut buf = buf.borrow_mut();
        match stream.try_read(&mut buf[..]) {
            Ok(0) => Err("peer closed".to_string()),
            Ok(n) => {
                let mut g = sink.lock();
                let before = (
                    g.counter.t_announced.is_some(),
                    g.counter.t_withdrawn.is_some(),
                );
                let r = g.counter.feed(&buf[..n], events);
                let after = (
                    g.counter.t_announced.is_some(),
                    g.counter.t_withdrawn.is_some(),
                );
                drop(g);
                if before != after {
                    sink.changed();
                }
                r.map(|_| Read::Data).map_err(|e| e.to_string())
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Read::Drained),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Read::Data),
            Err(e) => Err(format!("recv: {e}")),
        }
    })
}

/// Runs one sink session until it fails or the runtime is shut down.
pub async fn session(stream: TcpStream, cfg: SinkConfig, sink: Arc<SinkSession>) {
    if let Err(e) = session_inner(&stream, &cfg, &sink).await {
        sink.fail(e);
    }
}

async fn session_inner(
    stream: &TcpStream,
    cfg: &SinkConfig,
    sink: &SinkSession,
) -> Result<(), String> {
    let open = open_message(cfg.asn, cfg.hold, cfg.router_id, cfg.ext_msg);
    let mut sent_open = false;
    let mut state = SinkState::Connect;
    if cfg.active {
        send(stream, &open)
            .await
            .map_err(|e| format!("send: {e}"))?;
        sent_open = true;
        state = SinkState::OpenSent;
        sink.set_state(state);
    }
    let mut ka: Option<Duration> = None;
    let mut last_tx = Instant::now();
    let mut events = Vec::new();
    let far = Duration::from_secs(86400 * 365);
    loop {
        let deadline = match (state, ka) {
            (SinkState::Established, Some(k)) => last_tx + k,
            _ => Instant::now() + far,
        };
        tokio::select! {
            r = stream.readable() => {
                r.map_err(|e| format!("recv: {e}"))?;
                // up to 8 reads per wake-up, so one busy sink does not starve the others
                for _ in 0..8 {
                    match read_once(stream, sink, &mut events)? {
                        Read::Drained => break,
                        Read::Data if !events.is_empty() => break,
                        Read::Data => {}
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                send(stream, &KEEPALIVE_MSG).await.map_err(|e| format!("send: {e}"))?;
                last_tx = Instant::now();
            }
        }
        for ev in events.drain(..) {
            match ev {
                StreamEvent::Open(p) => {
                    let hold = cfg.hold.min(p.hold);
                    ka = (hold > 0).then(|| Duration::from_secs_f64(f64::from(hold) / 3.0));
                    if !sent_open {
                        send(stream, &open)
                            .await
                            .map_err(|e| format!("send: {e}"))?;
                        sent_open = true;
                    }
                    send(stream, &KEEPALIVE_MSG)
                        .await
                        .map_err(|e| format!("send: {e}"))?;
                    last_tx = Instant::now();
                    state = SinkState::OpenConfirm;
                    sink.set_state(state);
                }
                StreamEvent::Keepalive if state == SinkState::OpenConfirm => {
                    state = SinkState::Established;
                    sink.set_state(state);
                }
                StreamEvent::Keepalive => {}
            }
        }
    }
}
