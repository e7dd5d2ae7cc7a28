//! What a route reflector changes in the attributes it reflects, and nothing
//! more (RFC 4456 section 8): it adds ORIGINATOR_ID when absent, prepends its
//! CLUSTER_ID to CLUSTER_LIST, and otherwise passes every attribute on byte
//! for byte (next hop, PMSI, extended communities, unknown transitive
//! attributes). It works on the wire bytes of the attribute set so that
//! reflection cannot reorder or re-encode what it does not own.

use bytes::{BufMut, Bytes, BytesMut};
use evpnd_wire::attribute::{AttrFlags, put_attribute};
use evpnd_wire::attribute_table::{self, ReflectionRule as Rule};
use evpnd_wire::{DecodeResult, Reader};
use std::net::Ipv4Addr;

/// One attribute as it sits on the wire: its flags, type, and value.
struct RawAttribute<'a> {
    flags: u8,
    type_code: u8,
    value: &'a [u8],
    /// The whole attribute, header included.
    wire: &'a [u8],
}

/// Walk a path-attributes field (RFC 4271 4.3) without interpreting values.
fn raw_attributes(field: &[u8]) -> impl Iterator<Item = DecodeResult<RawAttribute<'_>>> {
    let mut r = Reader::new(field);
    std::iter::from_fn(move || {
        if r.is_empty() {
            return None;
        }
        let start = field.len() - r.remaining();
        let attr = (|| {
            let flags = r.u8("attribute flags")?;
            let type_code = r.u8("attribute type")?;
            let len = if AttrFlags(flags).extended_length() {
                usize::from(r.u16("attribute length")?)
            } else {
                usize::from(r.u8("attribute length")?)
            };
            let value = r.bytes(len, "attribute value")?;
            let end = field.len() - r.remaining();
            Ok(RawAttribute {
                flags,
                type_code,
                value,
                wire: &field[start..end],
            })
        })();
        if attr.is_err() {
            r.rest();
        }
        Some(attr)
    })
}

/// A reflector's identity when it reflects an iBGP-learnt route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reflection {
    /// The BGP Identifier of the peer the route came from: the ORIGINATOR_ID
    /// when the route has none yet.
    pub originator_id: Ipv4Addr,
    pub cluster_id: Ipv4Addr,
}

/// The attributes of a path as sent to iBGP peers.
///
/// With `reflection` (the route was learnt over iBGP, RFC 4456 section 8):
/// - ORIGINATOR_ID: kept if present, else the source peer's BGP Identifier;
/// - CLUSTER_LIST: the cluster id prepended, created if absent.
///
/// Always: LOCAL_PREF added with `default_local_pref` when absent, since it
/// MUST be sent to internal peers (RFC 4271 5.1.5) and eBGP-learnt or local
/// routes lack it. New attributes go in ascending type order (RFC 4271 5:
/// SHOULD).
pub fn to_ibgp(
    encoded: &[u8],
    reflection: Option<Reflection>,
    default_local_pref: u32,
) -> DecodeResult<Bytes> {
    let present = |code: u8| raw_attributes(encoded).any(|a| a.is_ok_and(|a| a.type_code == code));
    // From the attribute table, in ascending type order: LOCAL_PREF
    // (`to_ibgp_required`, RFC 4271 5.1.5), and when reflecting
    // ORIGINATOR_ID (`SetIfAbsent`) and CLUSTER_LIST (`PrependClusterId`,
    // created when absent), RFC 4456 section 8; each with its table flags.
    let mut missing = attribute_table::TABLE
        .iter()
        .filter_map(|row| {
            let value = if row.to_ibgp_required {
                default_local_pref.to_be_bytes()
            } else {
                match row.reflection {
                    Rule::PassOn => return None,
                    Rule::SetIfAbsent => reflection?.originator_id.octets(),
                    Rule::PrependClusterId => reflection?.cluster_id.octets(),
                }
            };
            Some((row.code, AttrFlags(row.flags()), value))
        })
        .filter(|(code, ..)| !present(*code))
        .peekable();
    let mut out = BytesMut::with_capacity(encoded.len() + 3 * 7);
    for attr in raw_attributes(encoded) {
        let attr = attr?;
        while let Some((code, flags, value)) = missing.next_if(|(code, ..)| *code < attr.type_code)
        {
            put_attribute(&mut out, flags, code, |o| o.put_slice(&value));
        }
        let rule = attribute_table::lookup(attr.type_code).map(|row| row.reflection);
        if let (Some(Rule::PrependClusterId), Some(r)) = (rule, reflection) {
            let mut list = Vec::with_capacity(attr.value.len() + 4);
            list.extend_from_slice(&r.cluster_id.octets());
            list.extend_from_slice(attr.value);
            put_attribute(&mut out, AttrFlags(attr.flags), attr.type_code, |o| {
                o.put_slice(&list)
            });
        } else {
            out.put_slice(attr.wire);
        }
    }
    for (code, flags, value) in missing {
        put_attribute(&mut out, flags, code, |o| o.put_slice(&value));
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    const VTEP: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 3);
    const RR: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 4);

    fn reflect_to_ibgp(
        encoded: &[u8],
        originator_id: Ipv4Addr,
        cluster_id: Ipv4Addr,
        lp: u32,
    ) -> DecodeResult<Bytes> {
        to_ibgp(
            encoded,
            Some(Reflection {
                originator_id,
                cluster_id,
            }),
            lp,
        )
    }

    #[test]
    fn reflects_frr_type3_attributes_as_frr_does_minus_med() {
        // msg 6 of proto-tests/vectors/frr/bgp-evpn-messages.txt: a VTEP's
        // type-3 attributes (after
        // MP_REACH): ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100, EXT_COMM
        // ENCAP:8 RT:65000:0, PMSI.
        let from_vtep = hex(concat!(
            "400101005002000040050400000064",
            "c01010030c0000000000080002fde800000000",
            "c016090006000000c6130003"
        ));
        let reflected = reflect_to_ibgp(&from_vtep, VTEP, RR, 100).unwrap();
        // msg 8: what FRR reflected, less the MED 0 FRR adds and with the
        // extended communities in their original order.
        let expected = hex(concat!(
            "400101005002000040050400000064",
            "800904c6130003800a04c6130004",
            "c01010030c0000000000080002fde800000000",
            "c016090006000000c6130003"
        ));
        assert_eq!(reflected.as_ref(), expected.as_slice());
    }

    #[test]
    fn second_reflection_keeps_originator_and_prepends_cluster_id() {
        let once = reflect_to_ibgp(&hex("400101005002000040050400000064"), VTEP, RR, 100).unwrap();
        let other_rr = Ipv4Addr::new(198, 19, 0, 5);
        let twice = reflect_to_ibgp(&once, Ipv4Addr::new(198, 19, 0, 4), other_rr, 100).unwrap();
        let expected = hex(concat!(
            "400101005002000040050400000064",
            "800904c6130003",
            "800a08c6130005c6130004"
        ));
        assert_eq!(twice.as_ref(), expected.as_slice());
    }

    #[test]
    fn adds_local_pref_for_routes_without_one_and_passes_unknown_attributes() {
        // ORIGIN, AS_PATH, unknown optional transitive type 99 (partial bit kept).
        let input = hex("40010100500200006063020102");
        let out = reflect_to_ibgp(&input, VTEP, RR, 100).unwrap();
        let expected = hex(concat!(
            "4001010050020000",
            "40050400000064",
            "800904c6130003800a04c6130004",
            "6063020102"
        ));
        assert_eq!(out.as_ref(), expected.as_slice());
    }

    #[test]
    fn non_reflected_routes_only_gain_local_pref() {
        let from_ebgp = hex("400101005002000602010000fde9");
        let out = to_ibgp(&from_ebgp, None, 100).unwrap();
        let expected = hex("400101005002000602010000fde940050400000064");
        assert_eq!(out.as_ref(), expected.as_slice());
        let already = to_ibgp(&expected, None, 100).unwrap();
        assert_eq!(already.as_ref(), expected.as_slice(), "idempotent");
    }

    #[test]
    fn truncated_attributes_are_an_error_not_a_panic() {
        assert!(reflect_to_ibgp(&hex("400101"), VTEP, RR, 100).is_err());
        assert!(reflect_to_ibgp(&hex("50020005"), VTEP, RR, 100).is_err());
    }
}
