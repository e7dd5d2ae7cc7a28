//! The report of one message: what the wire codec decoded, its NLRI
//! typed, and the errors and action a session would take.

use bytes::BytesMut;
use evpnd_wire::attribute::{AttributeValue, PathAttribute, type_code};
use evpnd_wire::evpn::EvpnRoute;
use evpnd_wire::header::{HEADER_LEN, MessageType};
use evpnd_wire::message::{DecodeOptions, Message, MessageError};
use evpnd_wire::prefix::Prefix;
use evpnd_wire::rfc7606::{ErrorAction, UpdateProblem, classify};
use evpnd_wire::update::Update;
use evpnd_wire::{DecodeError, Family, Reader};
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Where a message came from in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CapturedAt {
    /// Nanoseconds since the first packet of the capture.
    pub(super) since_start_ns: i128,
    pub(super) src: SocketAddr,
    pub(super) dst: SocketAddr,
}

impl CapturedAt {
    pub(super) fn seconds(&self) -> f64 {
        self.since_start_ns as f64 / 1e9
    }
}

/// One route of an NLRI field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    Evpn {
        path_id: Option<u32>,
        route: EvpnRoute,
    },
    Prefix(Prefix),
}

/// The NLRI of an MP_REACH_NLRI or MP_UNREACH_NLRI, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MpReport {
    pub(super) family: Family,
    /// MP_REACH only: the next hop(s).
    pub(super) next_hop: Option<String>,
    pub(super) routes: Vec<Route>,
    /// NLRI of a family not decoded here, as hex.
    pub(super) undecoded: Option<String>,
}

/// Everything shown for one message.
#[derive(Debug, Clone)]
pub(super) struct Report {
    pub(super) index: usize,
    pub(super) origin: Option<CapturedAt>,
    pub(super) length: usize,
    pub(super) type_name: String,
    pub(super) message: Option<Message>,
    pub(super) reach: Option<MpReport>,
    pub(super) unreach: Option<MpReport>,
    pub(super) withdrawn: Vec<Prefix>,
    pub(super) nlri: Vec<Prefix>,
    /// Errors, each naming its field and offset.
    pub(super) errors: Vec<String>,
    /// What RFC 7606 / RFC 4271 has a session do, when something is wrong.
    pub(super) action: Option<String>,
}

fn type_name(message: &[u8]) -> String {
    match message.get(18) {
        Some(&code) => match MessageType::from_u8(code) {
            Some(t) => t.to_string(),
            None => format!("type {code}"),
        },
        None => "message".to_owned(),
    }
}

/// Decode `bytes` (one framed message) with `opts`.
pub(super) fn report(
    index: usize,
    origin: Option<CapturedAt>,
    bytes: &[u8],
    opts: &DecodeOptions,
) -> Report {
    let mut report = Report {
        index,
        origin,
        length: bytes.len(),
        type_name: type_name(bytes),
        message: None,
        reach: None,
        unreach: None,
        withdrawn: Vec::new(),
        nlri: Vec::new(),
        errors: Vec::new(),
        action: None,
    };
    let (message, mut problems) = match Message::decode_lenient(bytes, opts) {
        Ok(decoded) => decoded,
        Err(error) => {
            report.action = Some(message_error_action(&error));
            report.errors.push(error.to_string());
            return report;
        }
    };
    if let Message::Update(update) = &message {
        decode_update_nlri(&mut report, update, bytes, opts, &mut problems);
    }
    if !problems.is_empty() {
        report.errors = problems.iter().map(|p| format!("UPDATE: {p}")).collect();
        report.action = Some(classify(&problems).to_string());
    }
    report.message = Some(message);
    report
}

/// The action for a message that did not decode at all.
fn message_error_action(error: &MessageError) -> String {
    match error {
        MessageError::Update(problem) => problem.action().to_string(),
        // RFC 4271 section 6.4: a malformed NOTIFICATION is not answered.
        MessageError::Notification(_) => "none (a bad NOTIFICATION is not answered)".to_owned(),
        other => match other.notification() {
            Some(n) => ErrorAction::SessionReset(n).to_string(),
            None => "none".to_owned(),
        },
    }
}

/// Decode the NLRI of an UPDATE that decoded; malformed MP NLRI become
/// RFC 7606 problems of their attribute (section 5.3: NLRI must be
/// syntactically correct; section 7.11 for MP_REACH/MP_UNREACH).
fn decode_update_nlri(
    report: &mut Report,
    update: &Update,
    message: &[u8],
    opts: &DecodeOptions,
    problems: &mut Vec<UpdateProblem>,
) {
    // The Withdrawn Routes and NLRI fields were validated by the decoder.
    report.withdrawn = update.withdrawn_prefixes(opts).unwrap_or_default();
    report.nlri = update.nlri_prefixes(opts).unwrap_or_default();
    for attribute in &update.attributes {
        let (family, next_hop, nlri) = match &attribute.value {
            AttributeValue::MpReach(m) => {
                let next_hop = match (m.next_hop_addr(), m.next_hop_link_local()) {
                    (Some(global), Some(local)) => format!("{global} (link-local {local})"),
                    (Some(global), None) => global.to_string(),
                    _ => format!("0x{}", to_hex(&m.next_hop)),
                };
                (m.family, Some(next_hop), &m.nlri)
            }
            AttributeValue::MpUnreach(m) => (m.family, None, &m.withdrawn),
            _ => continue,
        };
        let code = attribute.type_code();
        let base = mp_nlri_offset(message, code).unwrap_or(0);
        let add_path = opts.add_path_for(family);
        let decoded = if family == Family::L2VPN_EVPN {
            decode_evpn_nlri(nlri, base, add_path)
        } else if family == Family::IPV4_UNICAST || family == Family::IPV6_UNICAST {
            Prefix::decode_all(nlri, family.afi, add_path)
                .map(|prefixes| prefixes.into_iter().map(Route::Prefix).collect())
        } else {
            Ok(Vec::new())
        };
        let known = family == Family::L2VPN_EVPN
            || family == Family::IPV4_UNICAST
            || family == Family::IPV6_UNICAST;
        let routes = match decoded {
            Ok(routes) => routes,
            Err(error) => {
                problems.push(UpdateProblem::Malformed {
                    type_code: code,
                    raw: encoded_attribute(attribute, opts),
                    error,
                });
                Vec::new()
            }
        };
        let mp = MpReport {
            family,
            next_hop,
            routes,
            undecoded: (!known && !nlri.is_empty()).then(|| to_hex(nlri)),
        };
        if code == type_code::MP_REACH_NLRI {
            report.reach = Some(mp);
        } else {
            report.unreach = Some(mp);
        }
    }
}

fn encoded_attribute(attribute: &PathAttribute, opts: &DecodeOptions) -> bytes::Bytes {
    let mut out = BytesMut::new();
    attribute.encode(&mut out, opts);
    out.freeze()
}

/// EVPN NLRI (RFC 7432 section 7), each preceded by a 4-octet Path
/// Identifier when ADD-PATH is in use for EVPN (RFC 7911 section 3).
fn decode_evpn_nlri(nlri: &[u8], base: usize, add_path: bool) -> Result<Vec<Route>, DecodeError> {
    let mut r = Reader::with_base(nlri, base);
    let mut routes = Vec::new();
    while !r.is_empty() {
        let path_id = if add_path {
            Some(r.u32("ADD-PATH path identifier")?)
        } else {
            None
        };
        routes.push(Route::Evpn {
            path_id,
            route: EvpnRoute::decode(&mut r)?,
        });
    }
    Ok(routes)
}

/// Absolute offset of the NLRI inside the first MP_REACH_NLRI (RFC 4760
/// section 3: after AFI, SAFI, next-hop length, next hop and reserved) or
/// MP_UNREACH_NLRI (section 4: after AFI and SAFI) of `message`, so errors
/// point into the message. `None` if the message has no such attribute.
fn mp_nlri_offset(message: &[u8], code: u8) -> Option<usize> {
    let mut r = Reader::with_base(message.get(HEADER_LEN..)?, HEADER_LEN);
    let withdrawn_len = r.u16("withdrawn routes length").ok()?;
    r.bytes(usize::from(withdrawn_len), "withdrawn routes")
        .ok()?;
    let attributes_len = r.u16("total path attribute length").ok()?;
    let mut attributes = r.sub(usize::from(attributes_len), "path attributes").ok()?;
    while !attributes.is_empty() {
        let flags = attributes.u8("attribute flags").ok()?;
        let this_code = attributes.u8("attribute type code").ok()?;
        // RFC 4271 section 4.3: bit 3 of the flags selects a 2-octet length.
        let len = if flags & 0x10 != 0 {
            usize::from(attributes.u16("attribute length").ok()?)
        } else {
            usize::from(attributes.u8("attribute length").ok()?)
        };
        let value_offset = attributes.offset();
        let value = attributes.bytes(len, "attribute value").ok()?;
        if this_code == code {
            return Some(if code == type_code::MP_REACH_NLRI {
                value_offset + 5 + usize::from(*value.get(3)?)
            } else {
                value_offset + 3
            });
        }
    }
    None
}

/// Lower-case hex of `bytes`, as the report shows undecoded fields.
pub(super) fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::*;

    #[test]
    fn mp_nlri_offsets_point_into_the_message() {
        let message = hex(TYPE3_UPDATE);
        let at = mp_nlri_offset(&message, type_code::MP_REACH_NLRI).unwrap();
        // The type-3 NLRI: type 3, length 17.
        assert_eq!(&message[at..at + 2], &[3, 17]);
        assert_eq!(mp_nlri_offset(&message, type_code::MP_UNREACH_NLRI), None);
        let eor = hex("ffffffffffffffffffffffffffffffff001d0200000006800f03001946");
        assert_eq!(mp_nlri_offset(&eor, type_code::MP_UNREACH_NLRI), Some(29));
    }

    #[test]
    fn evpn_add_path_identifiers_are_read_when_negotiated() {
        let nlri = hex("00000007 0311 0001c61300030002 00000000 20 c6130003");
        let routes = decode_evpn_nlri(&nlri, 0, true).unwrap();
        assert_eq!(routes.len(), 1);
        let Route::Evpn { path_id, route } = &routes[0] else {
            panic!("not EVPN");
        };
        assert_eq!(*path_id, Some(7));
        assert_eq!(route.route_type(), 3);
        assert!(decode_evpn_nlri(&nlri, 0, false).is_err());
    }
}
