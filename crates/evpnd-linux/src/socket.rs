//! Batched netlink I/O: pipelined requests with per-object error reporting,
//! dumps, and the RTNLGRP_NEIGH subscription.
//!
//! Why a synchronous `netlink_sys::Socket` and not the tokio socket: a batch
//! is a tight "one sendmsg, then read every ACK" loop with nothing else to
//! wait for, and the kernel processes the whole datagram inside that
//! sendmsg. Async adds a future and a wake-up per receive for no overlap
//! gained. The reconciler runs [`RequestSocket`] on a dedicated thread (or
//! `spawn_blocking`) and [`EventSocket::recv`] on another, forwarding over a
//! channel; neither holds up the tokio workers.
//!
//! Pipelining (docs/benchmarking.md): one request + ACK round trip per entry caps out
//! at ~80k/s; 256 requests per sendmsg reaches the kernel's ~300k/s.

use super::nl::neigh::{
    KernelEvent, LearnScope, Learned, NeighEvent, SharedLearnScope, parse_learned_message,
    parse_neigh_message, request_for_op,
};
use super::nl::{
    AF_BRIDGE, Messages, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_HDRLEN, NLMSG_OVERRUN, NlDecodeError, NlHeader, RTM_GETNEIGH, RTNLGRP_NEIGH, parse_ack,
};
use evpnd_core::dataplane::diff::Op;
use evpnd_core::dataplane::model::{Object, Ownership, StrayMacRow};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};
use std::collections::HashMap;
use std::fmt;
use std::io;
use thiserror::Error;

/// Requests per sendmsg: the best depth in raw-netlink measurements
/// (docs/benchmarking.md; 256 → 325k/s, 1024 → 246k/s).
pub const DEFAULT_BATCH: usize = 256;

/// Receive buffer asked for: 256 ACKs are 256 skbs of ~1 KiB truesize each,
/// and a burst of notifications after a resync can be far larger.
pub const RECEIVE_BUFFER_BYTES: usize = 32 << 20;

/// `NLM_F_CAPPED` / `NLM_F_ACK_TLVS` on an NLMSG_ERROR (netlink.h).
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG` (netlink.h): the extended-ACK error string.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// `NDA_IFINDEX` (neighbour.h), the ARP/ND dump filter.
const NDA_IFINDEX: u16 = 8;
/// `NLM_F_DUMP_INTR` (netlink.h): the dump raced with a change.
const NLM_F_DUMP_INTR: u16 = 0x10;

/// Failures of the socket itself (not of one object).
#[derive(Debug, Error)]
pub enum SocketError {
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    #[error("netlink decode: {0}")]
    Decode(#[from] NlDecodeError),
    #[error("netlink dump failed: {0}")]
    Dump(io::Error),
    #[error("netlink dump interrupted by a concurrent change; dump again")]
    DumpInterrupted,
    /// The kernel dropped messages for us (ENOBUFS, NLMSG_OVERRUN): some
    /// events were lost and observed state must be rebuilt from a dump.
    #[error("netlink receive buffer overrun: resync needed")]
    ResyncNeeded,
}

/// Why one object was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpErrorKind {
    /// The kernel refused the request: errno and the extended-ACK message.
    Kernel { errno: i32, message: Option<String> },
    /// The operation has no request (installing an observed-only half row).
    NotInstallable,
    /// Its answer was lost (receive overrun); the outcome is unknown.
    Unknown,
}

/// One failed object, reported with the object (`fdb 02:0a:… vni 10 …:
/// File exists`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct OpFailure {
    pub op: Op,
    pub kind: OpErrorKind,
}

impl fmt::Display for OpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.op {
            Op::Add(_) => "add",
            Op::Replace(_) => "replace",
            Op::Delete(_) => "delete",
        };
        write!(f, "{verb} {}: ", self.op.object())?;
        match &self.kind {
            OpErrorKind::Kernel { errno, message } => {
                let text = io::Error::from_raw_os_error(*errno).to_string();
                // "File exists (os error 17)" -> "File exists"
                let text = text.split(" (os error").next().unwrap_or(&text);
                write!(f, "{text}")?;
                if let Some(m) = message {
                    write!(f, " ({m})")?;
                }
                Ok(())
            }
            OpErrorKind::NotInstallable => write!(f, "cannot be installed"),
            OpErrorKind::Unknown => write!(f, "outcome unknown (answer lost), resync needed"),
        }
    }
}

/// Result of applying a list of operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Operations the kernel confirmed.
    pub applied: usize,
    /// Every operation that failed, with the reason; the others went through.
    pub failures: Vec<OpFailure>,
    /// Some answers were lost: observed state must be re-dumped.
    pub resync_needed: bool,
}

/// How requests ask for acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    /// NLM_F_ACK on every request: each object is positively confirmed.
    EveryRequest,
    /// NLM_F_ACK on the last request of a batch only. The kernel still
    /// answers every failing request with its own NLMSG_ERROR
    /// (`netlink_rcv_skb`: `if (flags & NLM_F_ACK || err) netlink_ack`), and
    /// it processes a datagram in order, so the final ACK proves everything
    /// before it succeeded unless an error was reported. Saves one skb per
    /// request.
    ErrorsAndLast,
}

fn open_socket() -> Result<Socket, SocketError> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    set_receive_buffer(&socket, RECEIVE_BUFFER_BYTES);
    Ok(socket)
}

/// SO_RCVBUFFORCE lifts the `rmem_max` cap for root (CAP_NET_ADMIN); without
/// privilege fall back to SO_RCVBUF, which the kernel clamps.
fn set_receive_buffer(socket: &Socket, bytes: usize) {
    use std::os::fd::AsRawFd;
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt on a socket fd we own, with a pointer to a live
    // c_int and its exact size.
    let forced = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        let _ = socket.set_rx_buf_sz(bytes);
    }
}

/// The socket that sends requests and dumps.
pub struct RequestSocket {
    socket: Socket,
    next_sequence: u32,
    batch: usize,
    ack_mode: AckMode,
    receive: Vec<u8>,
    send: Vec<u8>,
}

impl RequestSocket {
    pub fn open() -> Result<Self, SocketError> {
        let socket = open_socket()?;
        // Extended ACK: the kernel's own error string with each failure.
        let _ = socket.set_ext_ack(true);
        // Capped ACKs: failures echo only the request header, not the whole
        // request, so a batch of failures stays small in the receive buffer.
        let _ = socket.set_cap_ack(true);
        // Dump filters (ifindex, NDA_MASTER) are honoured only in strict mode.
        let _ = socket.set_netlink_get_strict_chk(true);
        Ok(RequestSocket {
            socket,
            next_sequence: 1,
            batch: DEFAULT_BATCH,
            ack_mode: AckMode::EveryRequest,
            receive: vec![0; 1 << 20],
            send: Vec::with_capacity(DEFAULT_BATCH * 64),
        })
    }

    /// Requests per sendmsg (at least 1).
    pub fn set_batch(&mut self, batch: usize) {
        self.batch = batch.max(1);
    }

    pub fn set_ack_mode(&mut self, mode: AckMode) {
        self.ack_mode = mode;
    }

    fn take_sequence(&mut self) -> u32 {
        let s = self.next_sequence;
        // Skip 0: it is what notifications carry.
        self.next_sequence = self.next_sequence.wrapping_add(1).max(1);
        s
    }

    /// Sends every operation, `batch` requests per sendmsg, and matches each
    /// answer to its operation by sequence number. A failing object is
    /// reported with that object and never stops the others.
    ///
    /// Deleting what is already gone (ENOENT) is success. One kernel fact
    /// needs a second step: a remote MAC's single RTM_DELNEIGH removes the
    /// bridge row first and stops with ENOENT when that row is no longer on
    /// the vxlan device (the MAC moved to a local port and the bridge moved
    /// its row), leaving the vxlan `self` row behind (`rtnl_fdb_del`); that
    /// row is then deleted on its own.
    pub fn apply(&mut self, ops: &[Op], own: &Ownership) -> Result<ApplyReport, SocketError> {
        let mut report = self.apply_once(ops, own)?;
        let already_gone = |f: &OpFailure| {
            matches!(f.op, Op::Delete(_))
                && matches!(f.kind, OpErrorKind::Kernel { errno, .. } if errno == libc::ENOENT)
        };
        let self_rows: Vec<Op> = report
            .failures
            .iter()
            .filter(|f| already_gone(f))
            .filter_map(|f| match f.op {
                Op::Delete(Object::Mac(m)) => {
                    Some(Op::Delete(Object::Stray(StrayMacRow::SelfOnly {
                        vni: m.vni,
                        vlan: m.vlan,
                        mac: m.mac,
                        vtep: m.vtep,
                        sticky: m.sticky,
                    })))
                }
                _ => None,
            })
            .collect();
        let gone = report.failures.iter().filter(|f| already_gone(f)).count();
        report.failures.retain(|f| !already_gone(f));
        report.applied += gone;
        if !self_rows.is_empty() {
            let second = self.apply_once(&self_rows, own)?;
            report.resync_needed |= second.resync_needed;
            report
                .failures
                .extend(second.failures.into_iter().filter(|f| !already_gone(f)));
        }
        Ok(report)
    }

    fn apply_once(&mut self, ops: &[Op], own: &Ownership) -> Result<ApplyReport, SocketError> {
        let mut report = ApplyReport::default();
        let mut pending: HashMap<u32, usize> = HashMap::with_capacity(self.batch);
        let batch = self.batch;
        for (chunk_index, chunk) in ops.chunks(batch).enumerate() {
            let base = chunk_index * batch;
            self.send.clear();
            pending.clear();
            let mut last_sequence = None;
            let mut in_batch = 0usize;
            for (i, op) in chunk.iter().enumerate() {
                let Ok(request) = request_for_op(op, own) else {
                    report.failures.push(OpFailure {
                        op: *op,
                        kind: OpErrorKind::NotInstallable,
                    });
                    continue;
                };
                let sequence = self.take_sequence();
                let start = self.send.len();
                request.encode_into(sequence, &mut self.send);
                if self.ack_mode == AckMode::ErrorsAndLast {
                    clear_ack_flag(&mut self.send[start..]);
                }
                pending.insert(sequence, base + i);
                last_sequence = Some((sequence, start));
                in_batch += 1;
            }
            let Some((last_sequence, last_start)) = last_sequence else {
                continue;
            };
            if self.ack_mode == AckMode::ErrorsAndLast {
                set_ack_flag(&mut self.send[last_start..]);
            }
            self.socket.send(&self.send, 0)?;
            let failed_before = report.failures.len();
            let lost = self.collect_acks(ops, &mut pending, last_sequence, &mut report)?;
            let failed = report.failures.len() - failed_before;
            if lost {
                report.resync_needed = true;
                for (_, index) in pending.drain() {
                    if let Some(op) = ops.get(index) {
                        report.failures.push(OpFailure {
                            op: *op,
                            kind: OpErrorKind::Unknown,
                        });
                    }
                }
            }
            let unknown = report.failures.len() - failed_before - failed;
            report.applied += in_batch - failed - unknown;
        }
        Ok(report)
    }

    /// Reads answers until every request of the batch is accounted for.
    /// Returns `true` if answers were lost to a receive overrun.
    fn collect_acks(
        &mut self,
        ops: &[Op],
        pending: &mut HashMap<u32, usize>,
        last_sequence: u32,
        report: &mut ApplyReport,
    ) -> Result<bool, SocketError> {
        loop {
            let done = match self.ack_mode {
                AckMode::EveryRequest => pending.is_empty(),
                AckMode::ErrorsAndLast => !pending.contains_key(&last_sequence),
            };
            if done {
                // In ErrorsAndLast mode the rest succeeded silently.
                pending.clear();
                return Ok(false);
            }
            let n = match self.socket.recv(&mut &mut self.receive[..], 0) {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Ok(true),
                Err(e) => return Err(e.into()),
            };
            for message in Messages::new(self.receive.get(..n).unwrap_or_default()) {
                let (header, payload) = message?;
                if header.message_type == NLMSG_OVERRUN {
                    return Ok(true);
                }
                if header.message_type != NLMSG_ERROR {
                    continue;
                }
                let Some(ack) = parse_ack(payload) else {
                    continue;
                };
                let Some(index) = pending.remove(&ack.sequence) else {
                    continue;
                };
                if ack.errno != 0
                    && let Some(op) = ops.get(index)
                {
                    report.failures.push(OpFailure {
                        op: *op,
                        kind: OpErrorKind::Kernel {
                            errno: ack.errno,
                            message: extended_ack_message(header.flags, payload),
                        },
                    });
                }
                if self.ack_mode == AckMode::ErrorsAndLast && ack.sequence == last_sequence {
                    pending.clear();
                    return Ok(false);
                }
            }
        }
    }

    /// Dumps the neighbour table of `family` (`AF_BRIDGE` = 7 for the FDB,
    /// `AF_INET`/`AF_INET6` for ARP/ND), restricted to `ifindex` when non-zero
    /// (strict check), and returns the owned rows (as `NeighEvent::New`; a
    /// neighbour of ours that the kernel still lists but no longer uses, in
    /// state FAILED, is left out: it holds nothing to adopt).
    pub fn dump_owned(
        &mut self,
        family: u8,
        ifindex: u32,
        own: &Ownership,
    ) -> Result<Vec<NeighEvent>, SocketError> {
        self.dump_with(family, ifindex, |header, payload| {
            Ok(parse_neigh_message(header, payload, own)?
                .filter(|e| matches!(e, NeighEvent::New(_))))
        })
    }

    /// Dumps like [`RequestSocket::dump_owned`] and returns what the kernel
    /// learnt itself within `scope` (local MACs, SVI neighbours).
    pub fn dump_learned(
        &mut self,
        family: u8,
        ifindex: u32,
        scope: &LearnScope,
    ) -> Result<Vec<Learned>, SocketError> {
        self.dump_with(family, ifindex, |header, payload| {
            parse_learned_message(header, payload, scope)
        })
    }

    /// One neighbour-table dump, each message classified by `parse`.
    fn dump_with<T>(
        &mut self,
        family: u8,
        ifindex: u32,
        mut parse: impl FnMut(&NlHeader, &[u8]) -> Result<Option<T>, NlDecodeError>,
    ) -> Result<Vec<T>, SocketError> {
        let sequence = self.take_sequence();
        // Strict dump filters (`valid_fdb_dump_strict`, `neigh_valid_dump_req`
        // in the kernel): the FDB dump takes the bridge port in ndm_ifindex,
        // the ARP/ND dump insists on ndm_ifindex == 0 and takes NDA_IFINDEX.
        let (header_ifindex, attribute_ifindex) = if family == AF_BRIDGE {
            (ifindex, 0)
        } else {
            (0, ifindex)
        };
        let length = NLMSG_HDRLEN + 12 + if attribute_ifindex != 0 { 8 } else { 0 };
        let mut request = Vec::with_capacity(length);
        request.extend_from_slice(&(length as u32).to_ne_bytes());
        request.extend_from_slice(&RTM_GETNEIGH.to_ne_bytes());
        request.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        request.extend_from_slice(&sequence.to_ne_bytes());
        request.extend_from_slice(&0u32.to_ne_bytes());
        // struct ndmsg (neighbour.h): family, 3 pad, ifindex, state, flags, type
        request.extend_from_slice(&[family, 0, 0, 0]);
        request.extend_from_slice(&header_ifindex.to_ne_bytes());
        request.extend_from_slice(&[0, 0, 0, 0]);
        if attribute_ifindex != 0 {
            request.extend_from_slice(&8u16.to_ne_bytes());
            request.extend_from_slice(&NDA_IFINDEX.to_ne_bytes());
            request.extend_from_slice(&attribute_ifindex.to_ne_bytes());
        }
        self.socket.send(&request, 0)?;
        let mut rows = Vec::new();
        let mut interrupted = false;
        loop {
            let n = match self.socket.recv(&mut &mut self.receive[..], 0) {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    return Err(SocketError::ResyncNeeded);
                }
                Err(e) => return Err(e.into()),
            };
            for message in Messages::new(self.receive.get(..n).unwrap_or_default()) {
                let (header, payload) = message?;
                if header.sequence != sequence {
                    continue;
                }
                interrupted |= header.flags & NLM_F_DUMP_INTR != 0;
                match header.message_type {
                    NLMSG_DONE => {
                        // A dump that fails after it started (e.g. a filter
                        // the kernel rejects) ends with NLMSG_DONE carrying
                        // the negative errno (netlink_dump).
                        if let Some(code) = payload.get(0..4).and_then(|b| b.try_into().ok()) {
                            let code = i32::from_ne_bytes(code);
                            if code < 0 {
                                return Err(SocketError::Dump(io::Error::from_raw_os_error(
                                    code.saturating_neg(),
                                )));
                            }
                        }
                        return if interrupted {
                            Err(SocketError::DumpInterrupted)
                        } else {
                            Ok(rows)
                        };
                    }
                    NLMSG_ERROR => {
                        if let Some(ack) = parse_ack(payload)
                            && ack.errno != 0
                        {
                            return Err(SocketError::Dump(io::Error::from_raw_os_error(ack.errno)));
                        }
                    }
                    _ => {
                        if let Some(row) = parse(&header, payload)? {
                            rows.push(row);
                        }
                    }
                }
            }
        }
    }
}

fn clear_ack_flag(message: &mut [u8]) {
    if let Some(flags) = message.get_mut(6..8) {
        let value = u16::from_ne_bytes([flags[0], flags[1]]) & !NLM_F_ACK;
        flags.copy_from_slice(&value.to_ne_bytes());
    }
}

fn set_ack_flag(message: &mut [u8]) {
    if let Some(flags) = message.get_mut(6..8) {
        let value = u16::from_ne_bytes([flags[0], flags[1]]) | NLM_F_ACK;
        flags.copy_from_slice(&value.to_ne_bytes());
    }
}

/// The NLMSGERR_ATTR_MSG string of an extended ACK (netlink.h: TLVs follow
/// `struct nlmsgerr`, whose echoed request is only its header when
/// NLM_F_CAPPED is set).
pub(crate) fn extended_ack_message(flags: u16, payload: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let len = u32::from_ne_bytes(payload.get(4..8)?.try_into().ok()?) as usize;
        (len + 3) & !3
    };
    let mut tlvs = payload.get(4usize.checked_add(echoed)?..)?;
    while tlvs.len() >= 4 {
        let len = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 {
            return None;
        }
        let value = tlvs.get(4..len)?;
        if kind == NLMSGERR_ATTR_MSG {
            let text = value.split(|b| *b == 0).next().unwrap_or_default();
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        tlvs = tlvs.get(((len + 3) & !3).min(tlvs.len())..)?;
    }
    None
}

/// A socket subscribed to RTNLGRP_NEIGH (neighbour and bridge FDB
/// notifications).
pub struct EventSocket {
    socket: Socket,
    receive: Vec<u8>,
}

impl EventSocket {
    pub fn subscribe() -> Result<Self, SocketError> {
        let socket = open_socket()?;
        socket.add_membership(RTNLGRP_NEIGH)?;
        Ok(EventSocket {
            socket,
            receive: vec![0; 1 << 20],
        })
    }

    /// Blocks for the next datagram and returns the owned-row events in it
    /// (possibly none: most notifications concern rows evpnd does not own).
    /// `Err(ResyncNeeded)` means notifications were dropped (ENOBUFS): the
    /// caller must dump and diff.
    pub fn recv(&mut self, own: &Ownership) -> Result<Vec<NeighEvent>, SocketError> {
        self.recv_with(|header, payload| parse_neigh_message(header, payload, own))
    }

    /// Like [`EventSocket::recv`], for both kinds of row: evpnd's own (to
    /// heal drift) and what the kernel learnt within `scope` (to advertise).
    /// The scope is read once the datagram is in, so a reload that changed
    /// it while this call blocked applies to what arrives.
    pub fn recv_all(
        &mut self,
        own: &Ownership,
        scope: &SharedLearnScope,
    ) -> Result<Vec<KernelEvent>, SocketError> {
        self.recv_with(|header, payload| {
            if let Some(owned) = parse_neigh_message(header, payload, own)? {
                return Ok(Some(KernelEvent::Owned(owned)));
            }
            let scope = LearnScope::read(scope);
            Ok(parse_learned_message(header, payload, &scope)?.map(KernelEvent::Learned))
        })
    }

    fn recv_with<T>(
        &mut self,
        mut parse: impl FnMut(&NlHeader, &[u8]) -> Result<Option<T>, NlDecodeError>,
    ) -> Result<Vec<T>, SocketError> {
        let n = match self.socket.recv(&mut &mut self.receive[..], 0) {
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                return Err(SocketError::ResyncNeeded);
            }
            Err(e) => return Err(e.into()),
        };
        let mut events = Vec::new();
        for message in Messages::new(self.receive.get(..n).unwrap_or_default()) {
            let (header, payload) = message?;
            if let Some(event) = parse(&header, payload)? {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// The underlying socket, e.g. to set a read timeout or poll it.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_ack_message_is_found_after_a_capped_header() {
        let mut payload = Vec::new();
        payload.extend_from_slice(&(-22i32).to_ne_bytes());
        payload.extend_from_slice(&[0u8; NLMSG_HDRLEN]);
        let text = b"unconfigured vlan\0";
        let len = 4 + text.len();
        payload.extend_from_slice(&(len as u16).to_ne_bytes());
        payload.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        payload.extend_from_slice(text);
        assert_eq!(
            extended_ack_message(NLM_F_CAPPED | NLM_F_ACK_TLVS, &payload),
            Some("unconfigured vlan".to_owned())
        );
        assert_eq!(extended_ack_message(NLM_F_CAPPED, &payload), None);
        // A truncated TLV is ignored, not a panic.
        assert_eq!(
            extended_ack_message(NLM_F_CAPPED | NLM_F_ACK_TLVS, &payload[..24]),
            None
        );
        // Any truncation of the answer is handled, never a panic.
        for cut in 0..payload.len() {
            let _ = extended_ack_message(NLM_F_CAPPED | NLM_F_ACK_TLVS, &payload[..cut]);
        }
    }
}
