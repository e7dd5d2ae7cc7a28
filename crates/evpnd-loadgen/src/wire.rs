//! BGP-4 framing and the few messages the load generator writes itself
//! (RFC 4271 section 4), encoded by hand exactly as evpn-blast.py does.

use std::net::Ipv4Addr;

/// RFC 4271 section 4.1: the all-ones marker, the header is 19 octets.
pub const MARKER: [u8; 16] = [0xff; 16];
pub const HEADER_LEN: usize = 19;
pub const OPEN: u8 = 1;
pub const UPDATE: u8 = 2;
pub const NOTIFICATION: u8 = 3;
pub const KEEPALIVE: u8 = 4;

/// RFC 7432 section 20 / RFC 4760: AFI 25 (L2VPN), SAFI 70 (EVPN).
pub const AFI_L2VPN: u16 = 25;
pub const SAFI_EVPN: u8 = 70;
/// RFC 6793: the 2-octet My AS of a speaker whose AS needs 4 octets.
pub const AS_TRANS: u16 = 23456;

pub const ATTR_ORIGIN: u8 = 1;
pub const ATTR_AS_PATH: u8 = 2;
pub const ATTR_LOCAL_PREF: u8 = 5;
/// RFC 4760 sections 3 and 4.
pub const ATTR_MP_REACH: u8 = 14;
pub const ATTR_MP_UNREACH: u8 = 15;
/// RFC 4360.
pub const ATTR_EXT_COMM: u8 = 16;
/// RFC 6514 section 5: P-Multicast Service Interface Tunnel attribute.
pub const ATTR_PMSI: u8 = 22;

/// RFC 5492 capability codes: multiprotocol (RFC 4760), route refresh
/// (RFC 2918), extended message (RFC 8654), 4-octet AS (RFC 6793).
pub const CAP_MP: u8 = 1;
pub const CAP_RR: u8 = 2;
pub const CAP_EXTMSG: u8 = 6;
pub const CAP_AS4: u8 = 65;

/// Largest message without and with RFC 8654 extended messages.
pub const STD_MAX: usize = 4096;
pub const EXT_MAX: usize = 65535;

/// Attribute flag: extended (2-octet) length (RFC 4271 section 4.3).
pub const FLAG_EXT_LEN: u8 = 0x10;

/// The 19-octet KEEPALIVE (RFC 4271 section 4.4).
pub const KEEPALIVE_MSG: [u8; HEADER_LEN] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0, 19, KEEPALIVE,
];

/// One whole message: header and body.
pub fn message(mtype: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(&((HEADER_LEN + body.len()) as u16).to_be_bytes());
    out.push(mtype);
    out.extend_from_slice(body);
    out
}

/// A path attribute (RFC 4271 section 4.3): the extended-length flag is
/// added when the value needs it, and a flag that already has it keeps the
/// 2-octet length (evpn-blast.py's `attr`).
pub fn push_attr(out: &mut Vec<u8>, flags: u8, atype: u8, val: &[u8]) {
    let flags = if val.len() > 255 {
        flags | FLAG_EXT_LEN
    } else {
        flags
    };
    out.push(flags);
    out.push(atype);
    if flags & FLAG_EXT_LEN != 0 {
        out.extend_from_slice(&(val.len() as u16).to_be_bytes());
    } else {
        out.push(val.len() as u8);
    }
    out.extend_from_slice(val);
}

/// OPEN (RFC 4271 section 4.2) with one capability per optional parameter
/// (RFC 5492): multiprotocol L2VPN/EVPN, route refresh, 4-octet AS and, if
/// asked, extended message.
pub fn open_message(asn: u32, hold: u16, router_id: Ipv4Addr, ext_msg: bool) -> Vec<u8> {
    let mut caps: Vec<Vec<u8>> = Vec::with_capacity(4);
    let mut mp = vec![CAP_MP, 4];
    mp.extend_from_slice(&AFI_L2VPN.to_be_bytes());
    mp.extend_from_slice(&[0, SAFI_EVPN]);
    caps.push(mp);
    caps.push(vec![CAP_RR, 0]);
    let mut as4 = vec![CAP_AS4, 4];
    as4.extend_from_slice(&asn.to_be_bytes());
    caps.push(as4);
    if ext_msg {
        caps.push(vec![CAP_EXTMSG, 0]);
    }
    let mut opt = Vec::new();
    for c in &caps {
        opt.push(2);
        opt.push(c.len() as u8);
        opt.extend_from_slice(c);
    }
    let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
    let mut body = vec![4];
    body.extend_from_slice(&my_as.to_be_bytes());
    body.extend_from_slice(&hold.to_be_bytes());
    body.extend_from_slice(&router_id.octets());
    body.push(opt.len() as u8);
    body.extend_from_slice(&opt);
    message(OPEN, &body)
}

/// NOTIFICATION (RFC 4271 section 4.5) without data.
pub fn notification(code: u8, subcode: u8) -> Vec<u8> {
    message(NOTIFICATION, &[code, subcode])
}

/// What a peer's OPEN says that the harness reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerOpen {
    pub hold: u16,
    /// Capability codes, sorted, each once.
    pub caps: Vec<u8>,
    pub id: Ipv4Addr,
}

impl PeerOpen {
    /// Reads a whole OPEN message (header included); `None` when it is too
    /// short to hold the fixed fields.
    pub fn parse(msg: &[u8]) -> Option<PeerOpen> {
        if msg.len() < 29 {
            return None;
        }
        let hold = u16::from_be_bytes([msg[22], msg[23]]);
        let id = Ipv4Addr::new(msg[24], msg[25], msg[26], msg[27]);
        let end = (29 + msg[28] as usize).min(msg.len());
        let mut caps = Vec::new();
        let mut p = 29;
        while p + 2 <= end {
            let (ptype, plen) = (msg[p], msg[p + 1] as usize);
            if ptype == 2 {
                let qe = (p + 2 + plen).min(end);
                let mut q = p + 2;
                while q + 2 <= qe {
                    caps.push(msg[q]);
                    q += 2 + msg[q + 1] as usize;
                }
            }
            p += 2 + plen;
        }
        caps.sort_unstable();
        caps.dedup();
        Some(PeerOpen { hold, caps, id })
    }

    pub fn extended_message(&self) -> bool {
        self.caps.contains(&CAP_EXTMSG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_round_trip() {
        let m = open_message(65000, 180, Ipv4Addr::new(198, 18, 1, 1), true);
        assert_eq!(u16::from_be_bytes([m[16], m[17]]) as usize, m.len());
        let p = PeerOpen::parse(&m).unwrap();
        assert_eq!(p.hold, 180);
        assert_eq!(p.caps, vec![CAP_MP, CAP_RR, CAP_EXTMSG, CAP_AS4]);
        assert!(p.extended_message());
        assert_eq!(p.id, Ipv4Addr::new(198, 18, 1, 1));
        // a 4-octet AS goes out as AS_TRANS
        let m = open_message(4_200_000_000, 90, Ipv4Addr::LOCALHOST, false);
        assert_eq!(u16::from_be_bytes([m[20], m[21]]), AS_TRANS);
    }

    #[test]
    fn attr_lengths() {
        let mut v = Vec::new();
        push_attr(&mut v, 0x40, 1, &[0]);
        assert_eq!(v, [0x40, 1, 1, 0]);
        v.clear();
        push_attr(&mut v, 0x90, 15, &[1, 2, 3]);
        assert_eq!(v, [0x90, 15, 0, 3, 1, 2, 3]);
        v.clear();
        push_attr(&mut v, 0xc0, 16, &[0; 300]);
        assert_eq!(&v[..4], &[0xd0, 16, 1, 44]);
    }
}
