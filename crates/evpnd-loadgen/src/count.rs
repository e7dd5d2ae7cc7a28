//! Counting what a sink receives: the EVPN type-2 and type-3 NLRI in the
//! MP_REACH_NLRI and MP_UNREACH_NLRI attributes (RFC 4760 sections 3 and 4)
//! of every UPDATE, without an allocation per route or per message: each
//! NLRI is two octets read (route type, length) and a jump (RFC 7432
//! section 7). Messages are framed straight out of the caller's read
//! buffer; only a message split across two reads is copied, into a carry
//! buffer that keeps its capacity.

use std::collections::HashSet;
use std::time::Instant;

use thiserror::Error;

use crate::wire::{
    AFI_L2VPN, ATTR_MP_REACH, ATTR_MP_UNREACH, FLAG_EXT_LEN, HEADER_LEN, KEEPALIVE, NOTIFICATION,
    OPEN, PeerOpen, SAFI_EVPN, UPDATE,
};

/// NLRI counted since the last reset: announced (a*) and withdrawn (w*)
/// type-2 and type-3 routes, and EVPN NLRI of any other type.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub a2: u64,
    pub a3: u64,
    pub w2: u64,
    pub w3: u64,
    pub other: u64,
}

impl Counts {
    pub fn announced(&self) -> u64 {
        self.a2 + self.a3
    }
    pub fn withdrawn(&self) -> u64 {
        self.w2 + self.w3
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum StreamError {
    #[error("bad length {0}")]
    BadLength(usize),
    #[error("NOTIFICATION {0}/{1}")]
    Notification(u8, u8),
    #[error("malformed UPDATE: {0}")]
    Malformed(&'static str),
    #[error("malformed OPEN")]
    BadOpen,
}

/// The distinct routes seen per phase (`--verify`): route type and NLRI
/// without its label(s). Allocates per route; for small N only.
#[derive(Debug, Default, Clone)]
pub struct Keys {
    pub announced: HashSet<Vec<u8>>,
    pub withdrawn: HashSet<Vec<u8>>,
}

fn key(rt: u8, v: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(v.len() + 1);
    k.push(rt);
    // type 2: RD, ESI, tag, MAC length, MAC, IP length, IP; the labels after
    // it are not part of the route's identity
    if rt == 2 && v.len() >= 33 {
        let iplen = v[29] as usize / 8;
        k.extend_from_slice(&v[..(30 + iplen).min(v.len())]);
    } else {
        k.extend_from_slice(v);
    }
    k
}

/// Counts the NLRI in `b` (the NLRI field of one MP_REACH/MP_UNREACH) as
/// evpn-blast.py's `count_nlri`: a last NLRI whose length runs past the end
/// is still counted.
fn count_nlri(b: &[u8], reach: bool, c: &mut Counts, keys: Option<&mut Keys>) {
    let (mut n2, mut n3, mut no) = (0u64, 0u64, 0u64);
    let mut p = 0;
    match keys {
        None => {
            while p + 2 <= b.len() {
                match b[p] {
                    2 => n2 += 1,
                    3 => n3 += 1,
                    _ => no += 1,
                }
                p += 2 + b[p + 1] as usize;
            }
        }
        Some(keys) => {
            let set = if reach {
                &mut keys.announced
            } else {
                &mut keys.withdrawn
            };
            while p + 2 <= b.len() {
                let (rt, ln) = (b[p], b[p + 1] as usize);
                set.insert(key(rt, &b[p + 2..(p + 2 + ln).min(b.len())]));
                match rt {
                    2 => n2 += 1,
                    3 => n3 += 1,
                    _ => no += 1,
                }
                p += 2 + ln;
            }
        }
    }
    if reach {
        c.a2 += n2;
        c.a3 += n3;
    } else {
        c.w2 += n2;
        c.w3 += n3;
    }
    c.other += no;
}

/// Adds the EVPN NLRI of one whole UPDATE message (header included) to `c`.
pub fn count_update(
    msg: &[u8],
    c: &mut Counts,
    mut keys: Option<&mut Keys>,
) -> Result<(), StreamError> {
    let end = msg.len();
    let mut p = HEADER_LEN;
    if p + 2 > end {
        return Err(StreamError::Malformed("no withdrawn routes length"));
    }
    p += 2 + u16::from_be_bytes([msg[p], msg[p + 1]]) as usize;
    if p + 2 > end {
        return Err(StreamError::Malformed("no path attribute length"));
    }
    let aend = p + 2 + u16::from_be_bytes([msg[p], msg[p + 1]]) as usize;
    p += 2;
    if aend > end {
        return Err(StreamError::Malformed("path attributes past the message"));
    }
    while p < aend {
        if p + 3 > aend {
            return Err(StreamError::Malformed("truncated attribute header"));
        }
        let (flags, atype) = (msg[p], msg[p + 1]);
        let (vs, vlen) = if flags & FLAG_EXT_LEN != 0 {
            if p + 4 > aend {
                return Err(StreamError::Malformed("truncated attribute header"));
            }
            (p + 4, u16::from_be_bytes([msg[p + 2], msg[p + 3]]) as usize)
        } else {
            (p + 3, msg[p + 2] as usize)
        };
        let ve = vs + vlen;
        if ve > aend {
            return Err(StreamError::Malformed("attribute past the attributes"));
        }
        if (atype == ATTR_MP_REACH || atype == ATTR_MP_UNREACH) && vlen >= 3 {
            let afi = u16::from_be_bytes([msg[vs], msg[vs + 1]]);
            let safi = msg[vs + 2];
            let ns = if atype == ATTR_MP_REACH {
                // AFI, SAFI, next hop length, next hop, reserved octet
                if vlen < 4 {
                    return Err(StreamError::Malformed("MP_REACH_NLRI too short"));
                }
                vs + 4 + msg[vs + 3] as usize + 1
            } else {
                vs + 3
            };
            if afi == AFI_L2VPN && safi == SAFI_EVPN && ns <= ve {
                count_nlri(&msg[ns..ve], atype == ATTR_MP_REACH, c, keys.as_deref_mut());
            }
        }
        p = ve;
    }
    Ok(())
}

/// What the session has to act on, besides UPDATEs (counted here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    Open(PeerOpen),
    Keepalive,
}

/// The counting side of one session: frames the byte stream, counts the
/// UPDATEs and timestamps progress against a target, as evpn-blast.py's
/// `Session._add` does.
#[derive(Debug, Default)]
pub struct StreamCounter {
    carry: Vec<u8>,
    pub counts: Counts,
    /// UPDATE messages and octets received since the session began (never reset).
    pub updates: u64,
    pub bytes: u64,
    /// N + M once the run has reset the counters; the done times are taken then.
    pub target: Option<u64>,
    pub t_first: Option<Instant>,
    pub t_announced: Option<Instant>,
    pub t_withdrawn: Option<Instant>,
    pub keys: Option<Keys>,
}

impl StreamCounter {
    pub fn new(verify: bool) -> StreamCounter {
        StreamCounter {
            keys: verify.then(Keys::default),
            ..StreamCounter::default()
        }
    }

    /// Zeroes the counts, forgets the times and sets the target (after the settle).
    pub fn reset(&mut self, target: u64) {
        self.counts = Counts::default();
        self.t_first = None;
        self.t_announced = None;
        self.t_withdrawn = None;
        if let Some(k) = &mut self.keys {
            k.announced.clear();
            k.withdrawn.clear();
        }
        self.target = Some(target);
    }

    /// Takes the next bytes read from the socket; OPEN and KEEPALIVE
    /// messages are pushed on `events` for the session to act on.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        events: &mut Vec<StreamEvent>,
    ) -> Result<(), StreamError> {
        self.bytes += data.len() as u64;
        if !self.carry.is_empty() {
            // complete the message split over the previous read
            if self.carry.len() < HEADER_LEN {
                let take = (HEADER_LEN - self.carry.len()).min(data.len());
                self.carry.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.carry.len() < HEADER_LEN {
                    return Ok(());
                }
            }
            let l = u16::from_be_bytes([self.carry[16], self.carry[17]]) as usize;
            if l < HEADER_LEN {
                return Err(StreamError::BadLength(l));
            }
            let take = (l - self.carry.len()).min(data.len());
            self.carry.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.carry.len() < l {
                return Ok(());
            }
            let msg = std::mem::take(&mut self.carry);
            let r = self.message(&msg, events);
            self.carry = msg;
            self.carry.clear();
            r?;
        }
        let mut pos = 0;
        while data.len() - pos >= HEADER_LEN {
            let l = u16::from_be_bytes([data[pos + 16], data[pos + 17]]) as usize;
            if l < HEADER_LEN {
                return Err(StreamError::BadLength(l));
            }
            if data.len() - pos < l {
                break;
            }
            self.message(&data[pos..pos + l], events)?;
            pos += l;
        }
        self.carry.extend_from_slice(&data[pos..]);
        Ok(())
    }

    fn message(&mut self, msg: &[u8], events: &mut Vec<StreamEvent>) -> Result<(), StreamError> {
        match msg[18] {
            UPDATE => {
                let before = self.counts;
                count_update(msg, &mut self.counts, self.keys.as_mut())?;
                self.updates += 1;
                self.progress(before);
            }
            KEEPALIVE => events.push(StreamEvent::Keepalive),
            OPEN => events.push(StreamEvent::Open(
                PeerOpen::parse(msg).ok_or(StreamError::BadOpen)?,
            )),
            NOTIFICATION => {
                let code = msg.get(19).copied().unwrap_or(0);
                let sub = msg.get(20).copied().unwrap_or(0);
                return Err(StreamError::Notification(code, sub));
            }
            _ => {}
        }
        Ok(())
    }

    fn progress(&mut self, before: Counts) {
        let c = self.counts;
        if self.t_first.is_none() && c.announced() > before.announced() {
            self.t_first = Some(Instant::now());
        }
        if let Some(tg) = self.target {
            if self.t_announced.is_none() && c.announced() >= tg {
                self.t_announced = Some(Instant::now());
            }
            if self.t_withdrawn.is_none() && c.withdrawn() >= tg {
                self.t_withdrawn = Some(Instant::now());
            }
        }
    }
}

#[cfg(test)]
#[path = "count_tests.rs"]
mod tests;
