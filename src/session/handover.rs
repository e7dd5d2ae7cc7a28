//! Session hand-over across `exec` (ADR 0010, `evpnd upgrade`).
//!
//! FRR 8.4 keeps no EVPN route of a restarting peer (its Graceful Restart
//! helper covers unicast and VPN families only), so behind an FRR
//! reflector even a graceful restart costs traffic. A hand-over avoids the
//! restart altogether, as far as any peer can tell: the running process
//! stops each established session at a message boundary, writes what it
//! queued, and `exec`s the (new) binary in its own place, same PID, with the
//! TCP sockets open, and the paths its RIB held from those peers and from
//! itself. The new image resumes each session in Established from the two
//! OPENs that were exchanged (`Fsm::resume`), sends a KEEPALIVE, restores
//! the peer's paths exactly as they were (so a withdrawal that arrives next
//! finds its route, and nothing is asked of the peer) and sends it its own
//! table (an implicit replace of what it already has), filtered by the
//! peer's RT membership as before when the session has RT-Constrain (the
//! memberships both ways are handed over too, ADR 0014). The local paths it
//! inherits stay until its VTEP has originated its own, then those not
//! originated again are withdrawn. The kernel's rows are adopted as after
//! any restart. Without the paths (an unreadable file) a session asks its
//! peer for its routes again (ROUTE-REFRESH, RFC 2918).
//!
//! Between the two images the sockets wait in the kernel: the peer's
//! messages queue in its receive buffer. The old image's last message is a
//! KEEPALIVE, the new image's first one too; the gap between them (the new
//! image's start, a few seconds at most) must stay under the hold time.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use evpnd_core::rib::engine::RibPath;
use evpnd_core::rib::peer::PeerIdx;
use evpnd_core::rib::rt_filter::PeerRtMembership;
use evpnd_wire::message::{DecodeOptions, EncodeOptions, Message};
use evpnd_wire::open::Open;
use evpnd_wire::rtc::RtMembership;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    /// Its RT-Constrain state, when it negotiated RT-Constrain.
    pub rt_constraint: Option<HandedRtc>,
}

/// A session's RT-Constrain state (RFC 4684), handed over so that the next
/// image goes on filtering what it sends the peer exactly as before: the
/// peer sent its RT membership and its End-of-RIB to the previous image
/// and sends neither again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedRtc {
    /// The RT membership we announced on the session (section 4): the next
    /// image sends only what differs from it.
    pub announced: Vec<RtMembership>,
    /// What the peer announced, and whether its End-of-RIB had arrived
    /// (or the wait for it had run out; section 6).
    pub received: PeerRtMembership,
}

/// A session the next process resumes.
#[derive(Debug)]
pub struct Resumed {
    pub socket: OwnedFd,
    pub sent_open: Open,
    pub received_open: Open,
    pub unread: Vec<u8>,
    pub established_since: Option<SystemTime>,
    /// The paths the previous image held from this peer; `None` when they
    /// could not be read (the session then asks the peer for them).
    pub paths: Option<Vec<HandedPaths>>,
    /// Its RT-Constrain state; `None` also when the previous image did
    /// not write it (an image before it did) or it does not decode.
    pub rt_constraint: Option<HandedRtc>,
}

/// Paths that share one attribute set, from one source, as the RIB held
/// them: attributes in the stored form, the next hop and the NLRI as
/// received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedPaths {
    /// `None`: originated here (a VTEP's local routes).
    pub source: Option<IpAddr>,
    pub attributes: Bytes,
    pub next_hop: Bytes,
    /// Whole NLRI, one after the other.
    pub nlri: Bytes,
}

/// The RIB's paths worth handing over: ours, and those of the peers whose
/// sessions were handed over (the others end; their paths would only be
/// withdrawn again), one entry per source and attribute set.
pub fn paths_to_hand_over(rows: Vec<RibPath>, handed: &HashSet<IpAddr>) -> Vec<HandedPaths> {
    let mut groups: HashMap<(Option<IpAddr>, usize), HandedPaths> = HashMap::new();
    for row in rows {
        let source = if row.path.source() == PeerIdx::LOCAL {
            None
        } else {
            match row.from {
                Some(info) if handed.contains(&info.address) => Some(info.address),
                _ => continue,
            }
        };
        // One interned set per (source, attributes): its address names it.
        let set = std::sync::Arc::as_ptr(&row.path.attrs) as usize;
        let entry = groups.entry((source, set)).or_insert_with(|| HandedPaths {
            source,
            attributes: row.path.attrs.encoded.clone(),
            next_hop: row.path.attrs.next_hop.clone(),
            nlri: Bytes::new(),
        });
        let mut nlri = BytesMut::from(std::mem::take(&mut entry.nlri));
        nlri.extend_from_slice(&row.path.nlri);
        entry.nlri = nlri.freeze();
    }
    groups.into_values().collect()
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
    #[error("{path}: truncated or corrupt at octet {at}")]
    Paths { path: String, at: usize },
    #[error("session with {address}: its {which} OPEN does not decode")]
    Open {
        address: IpAddr,
        which: &'static str,
    },
    #[error(
        "session with {address}: its RT membership does not decode ({source}); the session resumes without it"
    )]
    RtMembership {
        address: IpAddr,
        source: evpnd_wire::error::DecodeError,
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
    /// Added within version 1, optional both ways: an image that does not
    /// know the field ignores it (serde skips unknown fields) and resumes
    /// the session as it always did; a file without it, from such an
    /// image, resumes the session's RT-Constrain as a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rt_constraint: Option<RtcRecord>,
}

/// [`HandedRtc`] in the file: RT membership NLRI one after the other, as
/// on the wire (RFC 4684 section 4).
#[derive(Debug, Serialize, Deserialize)]
struct RtcRecord {
    announced: Vec<u8>,
    received: Vec<u8>,
    received_complete: bool,
}

impl RtcRecord {
    fn of(rtc: &HandedRtc) -> Self {
        let nlri = |set: &mut dyn Iterator<Item = &RtMembership>| {
            set.flat_map(|m| m.to_bytes()).collect::<Vec<u8>>()
        };
        RtcRecord {
            announced: nlri(&mut rtc.announced.iter()),
            received: nlri(&mut rtc.received.memberships.iter()),
            received_complete: rtc.received.complete,
        }
    }

    fn read(&self) -> Result<HandedRtc, evpnd_wire::error::DecodeError> {
        Ok(HandedRtc {
            announced: RtMembership::decode_all(&self.announced)?,
            received: PeerRtMembership {
                memberships: RtMembership::decode_all(&self.received)?
                    .into_iter()
                    .collect(),
                complete: self.received_complete,
            },
        })
    }
}

const FORMAT_VERSION: u32 = 1;

/// Where the hand-over file goes: beside the control socket (a directory
/// only evpnd writes, e.g. /run/evpnd), named after it.
pub fn file_for(control_socket: &Path) -> std::path::PathBuf {
    control_socket.with_extension("handover")
}

/// The paths go in a binary file beside it (a reflector's table is large).
fn paths_file(file: &Path) -> std::path::PathBuf {
    file.with_extension("handover-paths")
}

/// The paths file starts with this, then the format version.
const PATHS_MAGIC: &[u8; 8] = b"EVPNDRIB";

/// Records: source (0 ours, 4 + IPv4, 6 + IPv6), attributes (u32 length),
/// next hop (u16 length), NLRI (u32 length); lengths big-endian.
fn encode_paths(paths: &[HandedPaths]) -> BytesMut {
    let mut out = BytesMut::new();
    out.put_slice(PATHS_MAGIC);
    out.put_u32(FORMAT_VERSION);
    for p in paths {
        match p.source {
            None => out.put_u8(0),
            Some(IpAddr::V4(a)) => {
                out.put_u8(4);
                out.put_slice(&a.octets());
            }
            Some(IpAddr::V6(a)) => {
                out.put_u8(6);
                out.put_slice(&a.octets());
            }
        }
        out.put_u32(p.attributes.len() as u32);
        out.put_slice(&p.attributes);
        out.put_u16(p.next_hop.len() as u16);
        out.put_slice(&p.next_hop);
        out.put_u32(p.nlri.len() as u32);
        out.put_slice(&p.nlri);
    }
    out
}

/// The records of [`encode_paths`]; `Err(octet)` where the file stops
/// making sense.
fn decode_paths(file: Bytes) -> Result<Vec<HandedPaths>, usize> {
    let total = file.len();
    let mut b = file;
    let at = |b: &Bytes| total - b.remaining();
    if b.remaining() < 12 || &b[..8] != PATHS_MAGIC {
        return Err(0);
    }
    b.advance(8);
    if b.get_u32() != FORMAT_VERSION {
        return Err(8);
    }
    let mut paths = Vec::new();
    while b.has_remaining() {
        let start = at(&b);
        let source = match b.get_u8() {
            0 => None,
            4 if b.remaining() >= 4 => {
                let mut a = [0; 4];
                b.copy_to_slice(&mut a);
                Some(IpAddr::V4(Ipv4Addr::from(a)))
            }
            6 if b.remaining() >= 16 => {
                let mut a = [0; 16];
                b.copy_to_slice(&mut a);
                Some(IpAddr::V6(Ipv6Addr::from(a)))
            }
            _ => return Err(start),
        };
        let field = |b: &mut Bytes, wide: bool| {
            let need = if wide { 4 } else { 2 };
            if b.remaining() < need {
                return None;
            }
            let len = if wide {
                b.get_u32() as usize
            } else {
                usize::from(b.get_u16())
            };
            (b.remaining() >= len).then(|| b.split_to(len))
        };
        let (Some(attributes), Some(next_hop), Some(nlri)) = (
            field(&mut b, true),
            field(&mut b, false),
            field(&mut b, true),
        ) else {
            return Err(start);
        };
        paths.push(HandedPaths {
            source,
            attributes,
            next_hop,
            nlri,
        });
    }
    Ok(paths)
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

/// Writes `sessions` to `path` and `paths` beside it (mode 0600) and
/// clears close-on-exec on the sessions' sockets; returns the sockets,
/// which must stay open until `exec`.
pub fn write(
    path: &Path,
    sessions: Vec<HandedOver>,
    paths: &[HandedPaths],
) -> Result<Vec<OwnedFd>, HandoverError> {
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
            rt_constraint: s.rt_constraint.as_ref().map(RtcRecord::of),
        });
        sockets.push(s.socket);
    }
    let file = HandoverFile {
        version: FORMAT_VERSION,
        sessions: records,
    };
    let text = serde_json::to_vec(&file).map_err(|e| io(std::io::Error::other(e)))?;
    write_private(&paths_file(path), &encode_paths(paths))?;
    write_private(path, &text)?;
    Ok(sockets)
}

/// Writes `bytes` to `path`, readable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), HandoverError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| HandoverError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    out.write_all(bytes).map_err(io)
}

/// The paths file beside `path`, read once and removed.
fn load_paths(path: &Path) -> Result<Vec<HandedPaths>, HandoverError> {
    let path = paths_file(path);
    let name = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|source| HandoverError::Io {
        path: name.clone(),
        source,
    })?;
    let _ = std::fs::remove_file(&path);
    decode_paths(Bytes::from(bytes)).map_err(|at| HandoverError::Paths { path: name, at })
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
    let mut errors = Vec::new();
    // Per source; `None` when unreadable (sessions then ask their peers).
    let mut by_source: Option<HashMap<Option<IpAddr>, Vec<HandedPaths>>> = match load_paths(path) {
        Ok(paths) => {
            let mut map: HashMap<_, Vec<_>> = HashMap::new();
            for p in paths {
                map.entry(p.source).or_default().push(p);
            }
            Some(map)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let mut resumed = Vec::new();
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
        let rt_constraint = match r.rt_constraint.as_ref().map(RtcRecord::read) {
            None => None,
            Some(Ok(rtc)) => Some(rtc),
            Some(Err(source)) => {
                errors.push(HandoverError::RtMembership {
                    address: r.address,
                    source,
                });
                None
            }
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
                paths: by_source
                    .as_mut()
                    .map(|m| m.remove(&Some(r.address)).unwrap_or_default()),
                rt_constraint,
            },
        ));
    }
    Ok(Loaded {
        sessions: resumed,
        local_paths: by_source.map(|mut m| m.remove(&None).unwrap_or_default()),
        errors,
    })
}

/// What [`load`] found: the sessions to resume, by neighbour address, and
/// the records that could not be used.
#[derive(Debug)]
pub struct Loaded {
    pub sessions: Vec<(IpAddr, Resumed)>,
    /// Our own paths (`None`: the paths file was unreadable).
    pub local_paths: Option<Vec<HandedPaths>>,
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

    /// We announced the default membership; the peer two route targets,
    /// and its End-of-RIB.
    fn rtc() -> HandedRtc {
        let member = |rt: &str| RtMembership::exact(65000, rt.parse().unwrap());
        HandedRtc {
            announced: vec![RtMembership::Default],
            received: PeerRtMembership {
                memberships: [member("65000:10"), member("65000:11")].into(),
                complete: true,
            },
        }
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
            rt_constraint: Some(rtc()),
        };
        let paths = vec![
            HandedPaths {
                source: None,
                attributes: Bytes::from_static(&[0x40, 1, 1, 0]),
                next_hop: Bytes::from_static(&[198, 19, 0, 1]),
                nlri: Bytes::from_static(&[3, 1, 9]),
            },
            HandedPaths {
                source: Some(address),
                attributes: Bytes::new(),
                next_hop: Bytes::from_static(&[0; 16]),
                nlri: Bytes::from_static(&[3, 2, 8, 8]),
            },
        ];
        let kept = write(&path, vec![handed], &paths).unwrap();
        let raw = kept[0].as_raw_fd();
        // What exec does to them: nothing; the numbers stay valid. Here the
        // "next image" is this process: forget ownership, as exec would.
        std::mem::forget(kept);
        let Loaded {
            sessions: resumed,
            local_paths,
            errors,
        } = load(&path).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!path.exists() && !paths_file(&path).exists(), "read once");
        assert_eq!(local_paths, Some(vec![paths[0].clone()]));
        let [(got, session)] = <[_; 1]>::try_from(resumed).unwrap();
        assert_eq!(got, address);
        assert_eq!(session.socket.as_raw_fd(), raw);
        assert_eq!(session.sent_open, open(1));
        assert_eq!(session.received_open, open(2));
        assert_eq!(session.unread, vec![0xff; 5]);
        assert_eq!(session.established_since, Some(since));
        assert_eq!(session.paths, Some(vec![paths[1].clone()]));
        assert_eq!(session.rt_constraint, Some(rtc()));
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

    /// The RT-Constrain record came within version 1: a file without it (an
    /// older image's) still loads, its sessions without RT-Constrain state,
    /// and a field an image does not know is skipped, as an older image
    /// skips this one.
    #[test]
    fn the_rt_constraint_record_is_optional_both_ways() {
        let record = |extra: &str| {
            format!(
                r#"{{"version": 1, "sessions": [{{"address": "198.19.0.2", "fd": 7,
                "sent_open": [], "received_open": [], "unread": [],
                "established_since_ms": null{extra}}}]}}"#
            )
        };
        let old: HandoverFile = serde_json::from_str(&record("")).unwrap();
        assert!(old.sessions[0].rt_constraint.is_none());
        let newer: HandoverFile = serde_json::from_str(&record(r#", "later": [1]"#)).unwrap();
        assert_eq!(newer.sessions[0].fd, 7);
        // Written only for a session with RT-Constrain, and read back.
        let with = serde_json::to_string(&RtcRecord::of(&rtc())).unwrap();
        let file: HandoverFile =
            serde_json::from_str(&record(&format!(r#", "rt_constraint": {with}"#))).unwrap();
        let got = file.sessions[0].rt_constraint.as_ref().unwrap().read();
        assert_eq!(got.unwrap(), rtc());
        // An NLRI cut short is refused (the session resumes without it).
        let cut = RtcRecord {
            announced: vec![],
            received: vec![96, 0, 0],
            received_complete: true,
        };
        assert!(cut.read().is_err());
    }

    #[test]
    fn a_truncated_paths_file_names_the_record_where_it_breaks() {
        let paths = [HandedPaths {
            source: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            attributes: Bytes::from_static(&[1, 2, 3]),
            next_hop: Bytes::from_static(&[4; 16]),
            nlri: Bytes::from_static(&[5, 6]),
        }];
        let whole = encode_paths(&paths).freeze();
        assert_eq!(decode_paths(whole.clone()).unwrap(), paths);
        // Every cut inside the record is refused at the record's start.
        for cut in 13..whole.len() {
            assert_eq!(decode_paths(whole.slice(..cut)), Err(12), "cut at {cut}");
        }
        assert_eq!(
            decode_paths(Bytes::from_static(b"EVPNDRIX\0\0\0\x01")),
            Err(0)
        );
    }
}
