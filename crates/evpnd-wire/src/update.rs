//! UPDATE message (RFC 4271 section 4.3), End-of-RIB (RFC 4724 section 2),
//! and the lenient decoder RFC 7606 error handling works from.

use super::as_path::AsPath;
use super::attribute::{
    AttrFlags, AttributeValue, MpReach, MpUnreach, Origin, PathAttribute, expected_flags, type_code,
};
use super::attribute_table::{self, Mandatory};
use super::context::DecodeOptions;
use super::error::DecodeResult;
use super::extcomm::ExtendedCommunity;
use super::family::{Afi, Family};
use super::mac::serialize_hex;
use super::pmsi::PmsiTunnel;
use super::prefix::Prefix;
use super::reader::Reader;
use super::rfc7606::UpdateProblem;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::Ipv4Addr;

/// UPDATE message body (RFC 4271 section 4.3).
///
/// ```text
/// +-----------------------------------------------------+
/// |   Withdrawn Routes Length (2 octets)                |
/// +-----------------------------------------------------+
/// |   Withdrawn Routes (variable)                       |
/// +-----------------------------------------------------+
/// |   Total Path Attribute Length (2 octets)            |
/// +-----------------------------------------------------+
/// |   Path Attributes (variable)                        |
/// +-----------------------------------------------------+
/// |   Network Layer Reachability Information (variable) |
/// +-----------------------------------------------------+
/// ```
/// Withdrawn Routes and NLRI (IPv4 unicast) are kept in wire form, already
/// checked for syntax; [`Update::withdrawn_prefixes`] and
/// [`Update::nlri_prefixes`] decode them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Update {
    #[serde(serialize_with = "serialize_hex")]
    pub withdrawn_routes: Bytes,
    pub attributes: Vec<PathAttribute>,
    #[serde(serialize_with = "serialize_hex")]
    pub nlri: Bytes,
}

/// An UPDATE as far as it could be decoded, with every problem met on the
/// way. Malformed and repeated attributes are left out of `update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LenientUpdate {
    pub update: Update,
    pub problems: Vec<UpdateProblem>,
}

impl Update {
    /// Strict decode: the first problem of any kind is an error.
    pub fn decode(body: &[u8], opts: &DecodeOptions) -> Result<Self, UpdateProblem> {
        let mut lenient = Self::decode_lenient(body, opts)?;
        match lenient.problems.drain(..).next() {
            Some(problem) => Err(problem),
            None => Ok(lenient.update),
        }
    }

    /// Decode as much as RFC 7606 lets a session keep. `Err` only when the
    /// message cannot be split into its fields at all (section 3 b) or its
    /// Withdrawn Routes / NLRI are invalid (sections 3 i, 5.3): both call
    /// for a session reset.
    pub fn decode_lenient(
        body: &[u8],
        opts: &DecodeOptions,
    ) -> Result<LenientUpdate, UpdateProblem> {
        Self::decode_lenient_at(body, 0, opts)
    }

    /// As [`Update::decode_lenient`], with error offsets starting at `base`.
    pub(crate) fn decode_lenient_at(
        body: &[u8],
        base: usize,
        opts: &DecodeOptions,
    ) -> Result<LenientUpdate, UpdateProblem> {
        let mut r = Reader::with_base(body, base);
        let fields = (|| {
            let len = r.u16("withdrawn routes length")?;
            let withdrawn = r.sub(usize::from(len), "withdrawn routes")?;
            let len = r.u16("total path attribute length")?;
            let attrs = r.sub(usize::from(len), "path attributes")?;
            Ok((withdrawn, attrs))
        })();
        let (withdrawn, attrs) = fields.map_err(UpdateProblem::LengthFields)?;
        let nlri_base = r.offset();
        let nlri = r.rest();
        let add_path = opts.add_path_for(Family::IPV4_UNICAST);
        for (field, field_base) in [
            (withdrawn.peek_rest(), withdrawn.offset()),
            (nlri, nlri_base),
        ] {
            Prefix::validate_all(field, Afi::IPV4, add_path, field_base)
                .map_err(UpdateProblem::InvalidNetworkField)?;
        }
        let mut problems = Vec::new();
        let attributes = decode_attributes(attrs, opts, &mut problems);
        let update = Update {
            withdrawn_routes: Bytes::copy_from_slice(withdrawn.peek_rest()),
            attributes,
            nlri: Bytes::copy_from_slice(nlri),
        };
        update.check_mandatory(&mut problems);
        Ok(LenientUpdate { update, problems })
    }

    /// RFC 4271 section 5 / RFC 7606 section 3 d: ORIGIN and AS_PATH with
    /// any NLRI; NEXT_HOP with NLRI in the NLRI field (RFC 4760 section 3
    /// makes it unnecessary for MP_REACH-only UPDATEs). Attributes present
    /// but malformed were already reported and are not counted again.
    fn check_mandatory(&self, problems: &mut Vec<UpdateProblem>) {
        let mp_nlri = self.mp_reach().is_some_and(|m| !m.nlri.is_empty());
        if self.nlri.is_empty() && !mp_nlri {
            return;
        }
        let reported = |code: u8, problems: &[UpdateProblem]| {
            problems.iter().any(|p| match p {
                UpdateProblem::FlagsConflict { type_code, .. }
                | UpdateProblem::Malformed { type_code, .. } => *type_code == code,
                _ => false,
            })
        };
        // ORIGIN, AS_PATH, and NEXT_HOP with an NLRI field, from the table.
        let required = attribute_table::TABLE.iter().filter(|r| match r.mandatory {
            Mandatory::No => false,
            Mandatory::WithAnyNlri => true,
            Mandatory::WithNlriField => !self.nlri.is_empty(),
        });
        for code in required.map(|r| r.code) {
            if self.attribute(code).is_none() && !reported(code, problems) {
                problems.push(UpdateProblem::MissingWellKnown { type_code: code });
            }
        }
    }

    /// Encode the body.
    pub fn encode(&self, out: &mut BytesMut, opts: &DecodeOptions) {
        out.put_u16(self.withdrawn_routes.len() as u16);
        out.put_slice(&self.withdrawn_routes);
        let len_at = out.len();
        out.put_u16(0);
        for attr in &self.attributes {
            attr.encode(out, opts);
        }
        let attrs_len = out.len() - len_at - 2;
        out[len_at..len_at + 2].copy_from_slice(&(attrs_len as u16).to_be_bytes());
        out.put_slice(&self.nlri);
    }

    /// The path attributes other than MP_REACH_NLRI / MP_UNREACH_NLRI, in
    /// wire form: the part of an UPDATE routes can share.
    pub fn encode_shared_attributes(&self, out: &mut BytesMut, opts: &DecodeOptions) {
        for attr in &self.attributes {
            if !matches!(
                attr.value,
                AttributeValue::MpReach(_) | AttributeValue::MpUnreach(_)
            ) {
                attr.encode(out, opts);
            }
        }
    }

    /// End-of-RIB for `family` (RFC 4724 section 2): an empty UPDATE for
    /// IPv4 unicast, else an UPDATE with only an empty MP_UNREACH_NLRI.
    pub fn end_of_rib(family: Family) -> Self {
        if family == Family::IPV4_UNICAST {
            return Self::default();
        }
        Self {
            attributes: vec![PathAttribute::new(AttributeValue::MpUnreach(MpUnreach {
                family,
                withdrawn: Bytes::new(),
            }))],
            ..Self::default()
        }
    }

    /// The family this UPDATE marks End-of-RIB for, if it is one.
    pub fn is_end_of_rib(&self) -> Option<Family> {
        if !self.withdrawn_routes.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        match self.attributes.as_slice() {
            [] => Some(Family::IPV4_UNICAST),
            [
                PathAttribute {
                    value: AttributeValue::MpUnreach(m),
                    ..
                },
            ] if m.withdrawn.is_empty() => Some(m.family),
            _ => None,
        }
    }

    pub fn attribute(&self, code: u8) -> Option<&AttributeValue> {
        self.attributes
            .iter()
            .find(|a| a.type_code() == code)
            .map(|a| &a.value)
    }

    pub fn mp_reach(&self) -> Option<&MpReach> {
        match self.attribute(type_code::MP_REACH_NLRI)? {
            AttributeValue::MpReach(m) => Some(m),
            _ => None,
        }
    }

    pub fn mp_unreach(&self) -> Option<&MpUnreach> {
        match self.attribute(type_code::MP_UNREACH_NLRI)? {
            AttributeValue::MpUnreach(m) => Some(m),
            _ => None,
        }
    }

    pub fn origin(&self) -> Option<Origin> {
        match self.attribute(type_code::ORIGIN)? {
            AttributeValue::Origin(o) => Some(*o),
            _ => None,
        }
    }

    pub fn as_path(&self) -> Option<&AsPath> {
        match self.attribute(type_code::AS_PATH)? {
            AttributeValue::AsPath(p) => Some(p),
            _ => None,
        }
    }

    pub fn next_hop(&self) -> Option<Ipv4Addr> {
        match self.attribute(type_code::NEXT_HOP)? {
            AttributeValue::NextHop(a) => Some(*a),
            _ => None,
        }
    }

    pub fn multi_exit_disc(&self) -> Option<u32> {
        match self.attribute(type_code::MULTI_EXIT_DISC)? {
            AttributeValue::MultiExitDisc(v) => Some(*v),
            _ => None,
        }
    }

    pub fn local_pref(&self) -> Option<u32> {
        match self.attribute(type_code::LOCAL_PREF)? {
            AttributeValue::LocalPref(v) => Some(*v),
            _ => None,
        }
    }

    pub fn originator_id(&self) -> Option<Ipv4Addr> {
        match self.attribute(type_code::ORIGINATOR_ID)? {
            AttributeValue::OriginatorId(a) => Some(*a),
            _ => None,
        }
    }

    pub fn cluster_list(&self) -> Option<&[Ipv4Addr]> {
        match self.attribute(type_code::CLUSTER_LIST)? {
            AttributeValue::ClusterList(ids) => Some(ids),
            _ => None,
        }
    }

    pub fn extended_communities(&self) -> Option<&[ExtendedCommunity]> {
        match self.attribute(type_code::EXTENDED_COMMUNITIES)? {
            AttributeValue::ExtendedCommunities(cs) => Some(cs),
            _ => None,
        }
    }

    pub fn pmsi_tunnel(&self) -> Option<&PmsiTunnel> {
        match self.attribute(type_code::PMSI_TUNNEL)? {
            AttributeValue::PmsiTunnel(p) => Some(p),
            _ => None,
        }
    }

    /// The Withdrawn Routes field as prefixes (IPv4 unicast).
    pub fn withdrawn_prefixes(&self, opts: &DecodeOptions) -> DecodeResult<Vec<Prefix>> {
        Prefix::decode_all(
            &self.withdrawn_routes,
            Afi::IPV4,
            opts.add_path_for(Family::IPV4_UNICAST),
        )
    }

    /// The NLRI field as prefixes (IPv4 unicast).
    pub fn nlri_prefixes(&self, opts: &DecodeOptions) -> DecodeResult<Vec<Prefix>> {
        Prefix::decode_all(
            &self.nlri,
            Afi::IPV4,
            opts.add_path_for(Family::IPV4_UNICAST),
        )
    }
}

impl Update {
    /// An UPDATE carrying only `attributes` (a Path Attributes field in wire
    /// form, e.g. an attribute set the RIB keeps), so the typed accessors
    /// can read them. Problems are left out as in [`Update::decode_lenient`].
    pub fn from_attributes(attributes: &[u8], opts: &DecodeOptions) -> Self {
        let mut problems = Vec::new();
        Update {
            attributes: decode_attributes(Reader::new(attributes), opts, &mut problems),
            ..Default::default()
        }
    }
}

/// Walk the path attributes (RFC 4271 section 4.3), collecting the good
/// ones and reporting the rest (RFC 7606 sections 3, 4 and 7).
fn decode_attributes(
    mut r: Reader<'_>,
    opts: &DecodeOptions,
    problems: &mut Vec<UpdateProblem>,
) -> Vec<PathAttribute> {
    let mut attributes = Vec::new();
    let mut seen = [false; 256];
    while !r.is_empty() {
        let whole = r.peek_rest();
        let start = r.offset();
        let header = (|| {
            let flags = AttrFlags(r.u8("attribute flags")?);
            let code = r.u8("attribute type code")?;
            let len = if flags.extended_length() {
                r.u16("attribute length")?
            } else {
                r.u8("attribute length")?.into()
            };
            let value_base = r.offset();
            let value = r.bytes(usize::from(len), "attribute value")?;
            Ok((flags, code, value_base, value))
        })();
        let (flags, code, value_base, value) = match header {
            Ok(h) => h,
            Err(error) => {
                let mp_parsed = seen[usize::from(type_code::MP_REACH_NLRI)]
                    || seen[usize::from(type_code::MP_UNREACH_NLRI)];
                problems.push(UpdateProblem::AttributeListOverrun { error, mp_parsed });
                break;
            }
        };
        let raw = || Bytes::copy_from_slice(&whole[..r.offset() - start]);
        if std::mem::replace(&mut seen[usize::from(code)], true) {
            problems.push(UpdateProblem::Duplicate { type_code: code });
            continue;
        }
        // RFC 6793 section 4.1: AS4_PATH and AS4_AGGREGATOR are never
        // carried between NEW speakers; one received from a NEW speaker is
        // discarded and the UPDATE processed on, whatever its flags.
        if opts.four_octet_as && matches!(code, type_code::AS4_PATH | type_code::AS4_AGGREGATOR) {
            problems.push(UpdateProblem::As4FromNewSpeaker { type_code: code });
            continue;
        }
        match expected_flags(code) {
            Some((mask, expected)) if flags.0 & mask != expected => {
                problems.push(UpdateProblem::FlagsConflict {
                    type_code: code,
                    raw: raw(),
                });
                continue;
            }
            None if !flags.optional() => {
                problems.push(UpdateProblem::UnrecognizedWellKnown {
                    type_code: code,
                    raw: raw(),
                });
                continue;
            }
            _ => {}
        }
        match AttributeValue::decode(code, &mut Reader::with_base(value, value_base), opts) {
            Ok(value) => attributes.push(PathAttribute { flags, value }),
            Err(error) => problems.push(UpdateProblem::Malformed {
                type_code: code,
                raw: raw(),
                error,
            }),
        }
    }
    attributes
}

impl fmt::Display for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(family) = self.is_end_of_rib() {
            return write!(f, "UPDATE End-of-RIB {family}");
        }
        f.write_str("UPDATE")?;
        if !self.withdrawn_routes.is_empty() {
            write!(f, " withdrawn {} octets;", self.withdrawn_routes.len())?;
        }
        for a in &self.attributes {
            write!(f, " {a};")?;
        }
        if !self.nlri.is_empty() {
            write!(f, " NLRI {} octets", self.nlri.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::attribute::tests::arb_attribute;
    use crate::capability::tests::hex;
    use proptest::prelude::*;

    fn opts() -> DecodeOptions {
        DecodeOptions {
            four_octet_as: true,
            ..DecodeOptions::default()
        }
    }

    #[test]
    fn end_of_rib_both_forms() {
        let evpn = Update::end_of_rib(Family::L2VPN_EVPN);
        let mut out = BytesMut::new();
        evpn.encode(&mut out, &opts());
        // FRR's End-of-RIB body, MP_UNREACH without Extended Length.
        assert_eq!(&out[..], &hex("0000 0006 800f03001946")[..]);
        let back = Update::decode(&out, &opts()).unwrap();
        assert_eq!(back.is_end_of_rib(), Some(Family::L2VPN_EVPN));
        assert_eq!(back.to_string(), "UPDATE End-of-RIB l2vpn-evpn");
        let v4 = Update::decode(&[0, 0, 0, 0], &opts()).unwrap();
        assert_eq!(v4.is_end_of_rib(), Some(Family::IPV4_UNICAST));
        assert_eq!(Update::end_of_rib(Family::IPV4_UNICAST), v4);
    }

    #[test]
    fn ipv4_unicast_update_accessors() {
        let body = hex("0004 18c61201 0015 40010100 400200 400304c6130001 40050400000064 18c61202");
        let u = Update::decode(&body, &opts()).unwrap();
        assert_eq!(u.origin(), Some(Origin::Igp));
        assert_eq!(u.as_path(), Some(&AsPath::new()));
        assert_eq!(u.next_hop(), Some(Ipv4Addr::new(198, 19, 0, 1)));
        assert_eq!(u.local_pref(), Some(100));
        assert_eq!(u.is_end_of_rib(), None);
        let w = u.withdrawn_prefixes(&opts()).unwrap();
        assert_eq!(w[0].to_string(), "198.18.1.0/24");
        let n = u.nlri_prefixes(&opts()).unwrap();
        assert_eq!(n[0].to_string(), "198.18.2.0/24");
        let mut out = BytesMut::new();
        u.encode(&mut out, &opts());
        assert_eq!(&out[..], &body[..]);
        let mut shared = BytesMut::new();
        u.encode_shared_attributes(&mut shared, &opts());
        assert_eq!(shared.len(), 0x15);
    }

    pub(crate) fn arb_update() -> impl Strategy<Value = Update> {
        (
            proptest::collection::vec(arb_attribute(), 0..6),
            proptest::collection::vec((0u8..=32, any::<u32>()), 0..4),
            proptest::collection::vec((0u8..=32, any::<u32>()), 0..4),
        )
            .prop_map(|(attrs, withdrawn, nlri)| {
                // One of each type, as a valid UPDATE has (RFC 7606 3 g),
                // and no AS4_PATH / AS4_AGGREGATOR, which a 4-octet-AS
                // speaker never sends (RFC 6793 section 4.1).
                let mut seen = [false; 256];
                let attributes: Vec<PathAttribute> = attrs
                    .into_iter()
                    .filter(|a| {
                        !matches!(
                            a.type_code(),
                            type_code::AS4_PATH | type_code::AS4_AGGREGATOR
                        )
                    })
                    .filter(|a| !std::mem::replace(&mut seen[usize::from(a.type_code())], true))
                    .collect();
                let prefixes = |ps: Vec<(u8, u32)>| {
                    let mut out = BytesMut::new();
                    for (len, bits) in ps {
                        let keep = usize::from(len).div_ceil(8);
                        let mut a = bits.to_be_bytes();
                        a[keep..].fill(0);
                        Prefix {
                            path_id: None,
                            addr: Ipv4Addr::from(a).into(),
                            len,
                        }
                        .encode(&mut out);
                    }
                    out.freeze()
                };
                Update {
                    withdrawn_routes: prefixes(withdrawn),
                    attributes,
                    nlri: prefixes(nlri),
                }
            })
    }

    proptest! {
        #[test]
        fn round_trip(u in arb_update()) {
            let mut out = BytesMut::new();
            u.encode(&mut out, &opts());
            let l = Update::decode_lenient(&out, &opts()).unwrap();
            // Only missing-mandatory problems are possible for generated
            // values; the attributes themselves must come back unchanged.
            let only_missing = l.problems.iter().all(|p| matches!(p, UpdateProblem::MissingWellKnown { .. }));
            prop_assert!(only_missing, "{:?}", l.problems);
            let mut expected = u.clone();
            for a in &mut expected.attributes {
                let mut one = BytesMut::new();
                a.encode(&mut one, &opts());
                a.flags = AttrFlags(one[0]);
            }
            prop_assert_eq!(&l.update, &expected);
            let mut again = BytesMut::new();
            l.update.encode(&mut again, &opts());
            prop_assert_eq!(&again[..], &out[..]);
        }

        #[test]
        fn lenient_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Update::decode_lenient(&bytes, &opts());
        }
    }
}
