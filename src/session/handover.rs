//! Session hand-over across `exec` (ADR 0010, `evpnd upgrade`).
//!
//! FRR 8.4 keeps no EVPN route of a restarting peer (its Graceful Restart
//! helper covers unicast and VPN families only), so behind an FRR
//! reflector even a graceful restart costs traffic. A hand-over avoids the
//! restart altogether, as far as any peer can tell: the running process
//! stops each established session at a message boundary, writes what it
//! queued, and `exec`s the (new) binary in its own place, same PID, with the
//! TCP sockets open. The new image resumes each session in Established from
//! the two OPENs that were exchanged (`Fsm::resume`), sends a KEEPALIVE,
//! asks the peer for its routes again (ROUTE-REFRESH, RFC 2918) and sends it
//! its own table (an implicit replace of what it already has). The kernel's
//! rows are adopted as after any restart.
//!
//! Between the two images the sockets wait in the kernel: the peer's
//! messages queue in its receive buffer and nobody sends KEEPALIVEs, which a
//! hold time of a few seconds survives (the exec takes well under one).

use evpnd_wire::message::{DecodeOptions, EncodeOptions, Message};
use evpnd_wire::open::Open;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use thiserror::Error;

/// The daemon-wide hand-over switch and where the sessions leave their
/// connections; every peer task holds a clone.
#[derive(Debug, Clone, Default)]
pub struct Handover {
    requested: Arc<AtomicBool>,
    handed: Arc<Mutex<Vec<HandedOver>>>,
}

impl Handover {
    /// From now on, a session told to stop hands its connection over
    /// instead of closing it.
    pub fn request(&self) {
        self.requested.store(true, Ordering::Relaxed);
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    pub(super) fn put(&self, session: HandedOver) {
        self.handed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
    }

    /// Every session handed over so far.
    pub fn take(&self) -> Vec<HandedOver> {
        std::mem::take(&mut self.handed.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// One established session, stopped at a message boundary.
#[derive(Debug)]
pub struct HandedOver {
    pub address: IpAddr,
    pub socket: OwnedFd,
    /// The OPEN we sent and the one the peer sent (RFC 4271 section 4.2):
    /// the next process negotiates the same session from them.
    pub sent_open: Open,
    pub received_open: Open,
    /// Bytes read and not yet taken as a message: the start of the next one.
    pub unread: Vec<u8>,
    pub established_since: Option<SystemTime>,
}

/// A session the next process resumes.
#[derive(Debug)]
pub struct Resumed {
    pub socket: OwnedFd,
    pub sent_open: Open,
    pub received_open: Open,
    pub unread: Vec<u8>,
    pub established_since: Option<SystemTime>,
}

#[derive(Debug, Error)]
pub enum HandoverError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a hand-over file: {reason}")]
    Format { path: String, reason: String },
    #[error("session with {address}: descriptor {fd}: {source}")]
    Descriptor {
        address: IpAddr,
        fd: i32,
        source: std::io::Error,
    },
    #[error("session with {address}: its {which} OPEN does not decode")]
    Open {
        address: IpAddr,
        which: &'static str,
    },
}

/// The file the next process reads: the descriptors stay open across exec,
/// this says what each one is.
#[derive(Debug, Serialize, Deserialize)]
struct HandoverFile {
    version: u32,
    sessions: Vec<SessionRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionRecord {
    address: IpAddr,
    fd: i32,
    /// Whole OPEN messages, header included, as on the wire.
    sent_open: Vec<u8>,
    received_open: Vec<u8>,
    unread: Vec<u8>,
    /// Unix time in milliseconds.
    established_since_ms: Option<u64>,
}

const FORMAT_VERSION: u32 = 1;

/// Where the hand-over file goes: beside the control socket (a directory
/// only evpnd writes, e.g. /run/evpnd), named after it.
pub fn file_for(control_socket: &Path) -> std::path::PathBuf {
    control_socket.with_extension("handover")
}

fn open_bytes(open: &Open) -> Vec<u8> {
    // OPEN is always encoded as on the wire (no negotiated options apply).
    Message::Open(open.clone())
        .to_bytes(&EncodeOptions::default())
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

fn open_of(bytes: &[u8]) -> Option<Open> {
    match Message::decode_lenient(bytes, &DecodeOptions::default()) {
        Ok((Message::Open(open), _)) => Some(open),
        _ => None,
    }
}

/// Writes `sessions` to `path` (mode 0600) and clears close-on-exec on
/// their sockets; returns the sockets, which must stay open until `exec`.
pub fn write(path: &Path, sessions: Vec<HandedOver>) -> Result<Vec<OwnedFd>, HandoverError> {
    let io = |source| HandoverError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut records = Vec::with_capacity(sessions.len());
    let mut sockets = Vec::with_capacity(sessions.len());
    for s in sessions {
        evpnd_linux::inherit::keep_across_exec(s.socket.as_fd()).map_err(io)?;
        records.push(SessionRecord {
            address: s.address,
            fd: s.socket.as_raw_fd(),
            sent_open: open_bytes(&s.sent_open),
            received_open: open_bytes(&s.received_open),
            unread: s.unread,
            established_since_ms: s.established_since.and_then(|t| {
                t.duration_since(SystemTime::UNIX_EPOCH)
                    .ok()
                    .map(|d| d.as_millis() as u64)
            }),
        });
        sockets.push(s.socket);
    }
    let file = HandoverFile {
        version: FORMAT_VERSION,
        sessions: records,
    };
    let text = serde_json::to_vec(&file).map_err(|e| io(std::io::Error::other(e)))?;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    out.write_all(&text).map_err(io)?;
    Ok(sockets)
}

/// Reads what the previous image left in `path`, removes the file, and
/// adopts the sockets. A session whose record is unusable is skipped with
/// its error (its peer sees the connection end, as after a restart); a
/// file that cannot be read at all fails the whole.
pub fn load(path: &Path) -> Result<Loaded, HandoverError> {
    let name = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| HandoverError::Io {
        path: name.clone(),
        source,
    })?;
    // Read once: a second start must not adopt the same numbers again.
    let _ = std::fs::remove_file(path);
    let file: HandoverFile = serde_json::from_slice(&text).map_err(|e| HandoverError::Format {
        path: name.clone(),
        reason: e.to_string(),
    })?;
    if file.version != FORMAT_VERSION {
        return Err(HandoverError::Format {
            path: name,
            reason: format!(
                "format version {} (this evpnd reads {FORMAT_VERSION})",
                file.version
            ),
        });
    }
    let mut resumed = Vec::new();
    let mut errors = Vec::new();
    for r in file.sessions {
        let socket = match evpnd_linux::inherit::take_inherited(r.fd) {
            Ok(socket) => socket,
            Err(source) => {
                errors.push(HandoverError::Descriptor {
                    address: r.address,
                    fd: r.fd,
                    source,
                });
                continue;
            }
        };
        let opens = (open_of(&r.sent_open), open_of(&r.received_open));
        let (Some(sent_open), Some(received_open)) = opens else {
            let which = if opens.0.is_none() {
                "sent"
            } else {
                "received"
            };
            errors.push(HandoverError::Open {
                address: r.address,
                which,
            });
            continue;
        };
        resumed.push((
            r.address,
            Resumed {
                socket,
                sent_open,
                received_open,
                unread: r.unread,
                established_since: r
                    .established_since_ms
                    .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms)),
            },
        ));
    }
    Ok(Loaded {
        sessions: resumed,
        errors,
    })
}

/// What [`load`] found: the sessions to resume, by neighbour address, and
/// the records that could not be used.
#[derive(Debug)]
pub struct Loaded {
    pub sessions: Vec<(IpAddr, Resumed)>,
    pub errors: Vec<HandoverError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use evpnd_wire::Family;
    use evpnd_wire::capability::Capability;
    use std::net::Ipv4Addr;

    fn open(id: u8) -> Open {
        Open::new(
            65000,
            9,
            Ipv4Addr::new(198, 19, 0, id),
            vec![
                Capability::Multiprotocol(Family::L2VPN_EVPN),
                Capability::RouteRefresh,
                Capability::FourOctetAs(65000),
            ],
        )
    }

    #[test]
    fn a_session_written_is_read_back_with_its_socket() {
        let dir = std::env::temp_dir().join(format!("evpnd-handover-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("handover.json");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let since = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let address = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 2));
        let handed = HandedOver {
            address,
            socket: OwnedFd::from(listener),
            sent_open: open(1),
            received_open: open(2),
            unread: vec![0xff; 5],
            established_since: Some(since),
        };
        let kept = write(&path, vec![handed]).unwrap();
        let raw = kept[0].as_raw_fd();
        // What exec does to them: nothing; the numbers stay valid. Here the
        // "next image" is this process: forget ownership, as exec would.
        std::mem::forget(kept);
        let Loaded {
            sessions: resumed,
            errors,
        } = load(&path).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!path.exists(), "read once");
        let [(got, session)] = <[_; 1]>::try_from(resumed).unwrap();
        assert_eq!(got, address);
        assert_eq!(session.socket.as_raw_fd(), raw);
        assert_eq!(session.sent_open, open(1));
        assert_eq!(session.received_open, open(2));
        assert_eq!(session.unread, vec![0xff; 5]);
        assert_eq!(session.established_since, Some(since));
        let back = std::net::TcpListener::from(session.socket);
        assert_eq!(back.local_addr().unwrap().port(), port);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_of_another_version_or_shape_is_refused_naming_it() {
        let path = std::env::temp_dir().join(format!("evpnd-handover-v-{}", std::process::id()));
        std::fs::write(&path, br#"{"version": 9, "sessions": []}"#).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("format version 9"), "{e}");
        std::fs::write(&path, b"not json").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("not a hand-over file"), "{e}");
        assert!(load(&path).is_err(), "removed after the first read");
    }
}
