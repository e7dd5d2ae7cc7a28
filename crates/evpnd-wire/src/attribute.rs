//! Path attributes (RFC 4271 section 4.3 "Path Attributes", section 5) and
//! the small attribute values: ORIGIN, NEXT_HOP, MULTI_EXIT_DISC,
//! LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR / AS4_AGGREGATOR (RFC 6793),
//! COMMUNITIES (RFC 1997), ORIGINATOR_ID and CLUSTER_LIST (RFC 4456 section
//! 8), MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 sections 3 and 4) and
//! LARGE_COMMUNITIES (RFC 8092). AS_PATH lives in `as_path.rs`, extended
//! communities in `extcomm.rs`, PMSI_TUNNEL in `pmsi.rs`.

use super::as_path::AsPath;
use super::attribute_table::{self, flag_bits};
use super::context::DecodeOptions;
use super::error::{DecodeError, DecodeErrorKind, DecodeResult};
use super::extcomm::ExtendedCommunity;
use super::family::{Afi, Family, Safi};
use super::mac::serialize_hex;
use super::pmsi::PmsiTunnel;
use super::prefix::Prefix;
use super::reader::Reader;
use super::rtc::RtMembership;
use bytes::{BufMut, Bytes, BytesMut};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Attribute type codes (IANA "BGP Path Attributes"), kept with the rest
/// of what is known per type in `attribute_table.rs`.
pub use super::attribute_table::type_code;

/// Attribute Flags octet (RFC 4271 section 4.3). The low four bits are
/// unused ("MUST be zero when sent, ignored when received") but kept as seen
/// so a reflected attribute is byte-identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct AttrFlags(pub u8);

impl AttrFlags {
    pub const OPTIONAL: u8 = flag_bits::OPTIONAL;
    pub const TRANSITIVE: u8 = flag_bits::TRANSITIVE;
    pub const PARTIAL: u8 = flag_bits::PARTIAL;
    pub const EXTENDED_LENGTH: u8 = flag_bits::EXTENDED_LENGTH;

    /// Well-known attributes are transitive (RFC 4271 section 5).
    pub const WELL_KNOWN: AttrFlags = AttrFlags(Self::TRANSITIVE);
    pub const OPTIONAL_NON_TRANSITIVE: AttrFlags = AttrFlags(Self::OPTIONAL);
    pub const OPTIONAL_TRANSITIVE: AttrFlags = AttrFlags(Self::OPTIONAL | Self::TRANSITIVE);

    pub fn optional(self) -> bool {
        self.0 & Self::OPTIONAL != 0
    }
    pub fn transitive(self) -> bool {
        self.0 & Self::TRANSITIVE != 0
    }
    pub fn partial(self) -> bool {
        self.0 & Self::PARTIAL != 0
    }
    pub fn extended_length(self) -> bool {
        self.0 & Self::EXTENDED_LENGTH != 0
    }
    pub fn with(self, bits: u8) -> Self {
        AttrFlags(self.0 | bits)
    }
}

/// The Optional/Transitive/Partial bits a recognized attribute must carry
/// (RFC 4271 sections 4.3 and 5), as (mask, expected value), from the
/// attribute's row in `attribute_table.rs`. The Partial bit must be 0 for
/// well-known and optional non-transitive attributes (RFC 4271 4.3);
/// optional transitive ones may carry it.
pub fn expected_flags(code: u8) -> Option<(u8, u8)> {
    attribute_table::lookup(code).map(|row| (row.flags_mask(), row.flags()))
}

/// Write one attribute: flags, type, the length in the form the flags ask
/// for (1 octet, or 2 with Extended Length, RFC 4271 4.3), then the value.
/// A value over 255 octets forces the Extended Length bit.
pub fn put_attribute(
    out: &mut BytesMut,
    flags: AttrFlags,
    code: u8,
    write_value: impl FnOnce(&mut BytesMut),
) {
    let start = out.len();
    out.put_u8(flags.0);
    out.put_u8(code);
    out.put_u16(0);
    let value_start = out.len();
    write_value(out);
    let len = out.len() - value_start;
    if flags.extended_length() || len > usize::from(u8::MAX) {
        out[start] |= AttrFlags::EXTENDED_LENGTH;
        // A value over 65535 octets cannot be sent; the message length
        // check in `Message::encode` rejects it.
        out[start + 2..value_start].copy_from_slice(&(len as u16).to_be_bytes());
    } else {
        out[start + 2] = len as u8;
        out.copy_within(value_start.., value_start - 1);
        out.truncate(out.len() - 1);
    }
}

/// ORIGIN (RFC 4271 section 4.3 a, 5.1.1): one octet. Ordered as the
/// decision process prefers them, lowest first (RFC 4271 9.1.2.2 b); a path
/// without one counts as IGP (the `Default`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Origin {
    #[default]
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Igp => "IGP",
            Origin::Egp => "EGP",
            Origin::Incomplete => "incomplete",
        })
    }
}

impl Origin {
    /// The lowercase name `evpnd show routes --json` uses: "igp", "egp",
    /// "incomplete".
    pub fn name(self) -> &'static str {
        match self {
            Origin::Igp => "igp",
            Origin::Egp => "egp",
            Origin::Incomplete => "incomplete",
        }
    }

    /// The inverse of [`Origin::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Origin::Igp, Origin::Egp, Origin::Incomplete]
            .into_iter()
            .find(|o| o.name() == name)
    }
}

/// ORIGIN as its lowercase name (`Origin::name`), for `#[serde(with = ...)]`
/// in the control socket's rows.
pub mod shown_origin {
    use super::Origin;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(origin: &Origin, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(origin.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Origin, D::Error> {
        let name = String::deserialize(deserializer)?;
        Origin::from_name(&name).ok_or_else(|| D::Error::custom(format!("unknown ORIGIN {name}")))
    }
}

/// AGGREGATOR (RFC 4271 section 4.3 g: 2-octet AS + IPv4 address; 4-octet
/// AS once negotiated, RFC 6793 section 4) and AS4_AGGREGATOR (RFC 6793
/// section 3: always 4-octet AS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// A COMMUNITIES member (RFC 1997): 4 octets, shown as `high:low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    pub const NO_EXPORT: Community = Community(0xffff_ff01);
    pub const NO_ADVERTISE: Community = Community(0xffff_ff02);
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xffff_ff03);
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NO_EXPORT => f.write_str("no-export"),
            Self::NO_ADVERTISE => f.write_str("no-advertise"),
            Self::NO_EXPORT_SUBCONFED => f.write_str("local-AS"),
            Community(c) => write!(f, "{}:{}", c >> 16, c & 0xffff),
        }
    }
}

impl Serialize for Community {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A LARGE_COMMUNITIES member (RFC 8092 section 3): three 4-octet fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    pub global_admin: u32,
    pub local_data_1: u32,
    pub local_data_2: u32,
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.global_admin, self.local_data_1, self.local_data_2
        )
    }
}

impl Serialize for LargeCommunity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// MP_REACH_NLRI value (RFC 4760 section 3). The NLRI stay unparsed: EVPN
/// NLRI are decoded by `wire::evpn`, unicast ones by [`Prefix`].
///
/// ```text
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// +---------------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet)          |
/// +---------------------------------------------------------+
/// | Length of Next Hop Network Address (1 octet)            |
/// +---------------------------------------------------------+
/// | Network Address of Next Hop (variable)                  |
/// +---------------------------------------------------------+
/// | Reserved (1 octet)                                      |
/// +---------------------------------------------------------+
/// | Network Layer Reachability Information (variable)       |
/// +---------------------------------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MpReach {
    pub family: Family,
    #[serde(serialize_with = "serialize_hex")]
    pub next_hop: Bytes,
    /// "MUST be set to 0, MUST be ignored" (RFC 4760 3); kept as seen.
    pub reserved: u8,
    #[serde(serialize_with = "serialize_hex")]
    pub nlri: Bytes,
}

impl MpReach {
    pub fn new(family: Family, next_hop: impl Into<Bytes>, nlri: impl Into<Bytes>) -> Self {
        Self {
            family,
            next_hop: next_hop.into(),
            reserved: 0,
            nlri: nlri.into(),
        }
    }

    /// The (global) next-hop address: 4 octets IPv4, 16 IPv6, 32 IPv6
    /// global + link-local (RFC 2545 section 3). EVPN uses 4 or 16 (RFC 7432
    /// section 7, RFC 8365 section 5.1.3).
    pub fn next_hop_addr(&self) -> Option<IpAddr> {
        match self.next_hop.len() {
            4 => <[u8; 4]>::try_from(&self.next_hop[..])
                .ok()
                .map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            16 | 32 => <[u8; 16]>::try_from(&self.next_hop[..16])
                .ok()
                .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
            _ => None,
        }
    }

    /// The link-local half of a 32-octet IPv6 next hop (RFC 2545 section 3).
    pub fn next_hop_link_local(&self) -> Option<Ipv6Addr> {
        let tail = self.next_hop.get(16..32)?;
        <[u8; 16]>::try_from(tail).ok().map(Ipv6Addr::from)
    }

    /// Decode the value octets `r` holds (all of them).
    fn decode(r: &mut Reader<'_>, opts: &DecodeOptions) -> DecodeResult<Self> {
        let family = Family::new(Afi(r.u16("MP_REACH AFI")?), Safi(r.u8("MP_REACH SAFI")?));
        let nh_len_offset = r.offset();
        let nh_len = r.u8("MP_REACH next hop length")?;
        // RFC 7606 section 7.11: a next-hop length the family does not allow
        // makes the attribute malformed.
        let allowed: &[u8] = match family {
            Family::IPV4_UNICAST => &[4, 16, 32],
            Family::IPV6_UNICAST => &[16, 32],
            Family::L2VPN_EVPN => &[4, 16, 32],
            // RFC 4684 section 4 leaves the next hop to RFC 4760: an IPv4
            // or IPv6 address of the advertising speaker (GoBGP sends 4).
            Family::IPV4_RTC => &[4, 16, 32],
            _ => &[],
        };
        if !allowed.is_empty() && !allowed.contains(&nh_len) {
            return Err(DecodeError::new(
                "MP_REACH next hop length",
                nh_len_offset,
                DecodeErrorKind::BadLength(nh_len.into()),
            ));
        }
        let next_hop = Bytes::copy_from_slice(r.bytes(nh_len.into(), "MP_REACH next hop")?);
        let reserved = r.u8("MP_REACH reserved")?;
        let nlri_base = r.offset();
        let nlri = r.rest();
        validate_unicast_nlri(family, nlri, nlri_base, opts)?;
        Ok(Self {
            family,
            next_hop,
            reserved,
            nlri: Bytes::copy_from_slice(nlri),
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.family.afi.0);
        out.put_u8(self.family.safi.0);
        out.put_u8(self.next_hop.len() as u8);
        out.put_slice(&self.next_hop);
        out.put_u8(self.reserved);
        out.put_slice(&self.nlri);
    }
}

/// MP_UNREACH_NLRI value (RFC 4760 section 4). Empty withdrawn routes mean
/// End-of-RIB for the family (RFC 4724 section 2).
///
/// ```text
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// +---------------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet)          |
/// +---------------------------------------------------------+
/// | Withdrawn Routes (variable)                             |
/// +---------------------------------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MpUnreach {
    pub family: Family,
    #[serde(serialize_with = "serialize_hex")]
    pub withdrawn: Bytes,
}

impl MpUnreach {
    /// Decode the value octets `r` holds (all of them).
    fn decode(r: &mut Reader<'_>, opts: &DecodeOptions) -> DecodeResult<Self> {
        let family = Family::new(
            Afi(r.u16("MP_UNREACH AFI")?),
            Safi(r.u8("MP_UNREACH SAFI")?),
        );
        let nlri_base = r.offset();
        let withdrawn = r.rest();
        validate_unicast_nlri(family, withdrawn, nlri_base, opts)?;
        Ok(Self {
            family,
            withdrawn: Bytes::copy_from_slice(withdrawn),
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.family.afi.0);
        out.put_u8(self.family.safi.0);
        out.put_slice(&self.withdrawn);
    }
}

/// RFC 7606 section 5.3: NLRI must be syntactically correct. Unicast
/// prefixes and RT membership NLRI (RFC 4684 section 4) are checked here;
/// EVPN NLRI by `wire::evpn` when the RIB parses.
fn validate_unicast_nlri(
    family: Family,
    nlri: &[u8],
    base: usize,
    opts: &DecodeOptions,
) -> DecodeResult<()> {
    if family == Family::IPV4_UNICAST || family == Family::IPV6_UNICAST {
        Prefix::validate_all(nlri, family.afi, opts.add_path_for(family), base)?;
    } else if family == Family::IPV4_RTC {
        RtMembership::validate_all(nlri, base)?;
    }
    Ok(())
}

/// A decoded attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum AttributeValue {
    Origin(Origin),
    AsPath(AsPath),
    NextHop(Ipv4Addr),
    MultiExitDisc(u32),
    LocalPref(u32),
    AtomicAggregate,
    Aggregator(Aggregator),
    Communities(Vec<Community>),
    OriginatorId(Ipv4Addr),
    ClusterList(Vec<Ipv4Addr>),
    MpReach(MpReach),
    MpUnreach(MpUnreach),
    ExtendedCommunities(Vec<ExtendedCommunity>),
    As4Path(AsPath),
    As4Aggregator(Aggregator),
    PmsiTunnel(PmsiTunnel),
    LargeCommunities(Vec<LargeCommunity>),
    /// An attribute evpnd does not interpret, kept as its value octets.
    Unknown {
        type_code: u8,
        #[serde(serialize_with = "serialize_hex")]
        value: Bytes,
    },
}

/// A value of exactly `N` octets (RFC 7606 section 7: a wrong length
/// makes the attribute malformed).
fn fixed<const N: usize>(value: &[u8], base: usize, field: &'static str) -> DecodeResult<[u8; N]> {
    <[u8; N]>::try_from(value)
        .map_err(|_| DecodeError::new(field, base, DecodeErrorKind::BadLength(value.len())))
}

/// A non-empty list of `N`-octet items (RFC 7606 sections 7.8, 7.10, 7.14;
/// RFC 8092 section 6: a zero length or one not a multiple of `N` is
/// malformed). The item count follows from the bytes present.
fn list<const N: usize, T>(
    value: &[u8],
    base: usize,
    field: &'static str,
    item: impl Fn([u8; N]) -> T,
) -> DecodeResult<Vec<T>> {
    if value.is_empty() || !value.len().is_multiple_of(N) {
        return Err(DecodeError::new(
            field,
            base,
            DecodeErrorKind::BadLength(value.len()),
        ));
    }
    Ok(value
        .chunks_exact(N)
        .filter_map(|c| <[u8; N]>::try_from(c).ok())
        .map(item)
        .collect())
}

/// RFC 7607 section 2: AS number 0 in AS_PATH or AS4_PATH makes the
/// attribute malformed (then RFC 7606 section 7.2: treat-as-withdraw; RFC
/// 6793 section 6: AS4_PATH discarded).
fn without_as_zero(path: AsPath, field: &'static str, base: usize) -> DecodeResult<AsPath> {
    if path.segments.iter().any(|s| s.asns.contains(&0)) {
        return Err(DecodeError::new(field, base, DecodeErrorKind::BadValue(0)));
    }
    Ok(path)
}

/// AGGREGATOR / AS4_AGGREGATOR; AS number 0 makes it malformed (RFC 7607
/// section 2; then RFC 7606 section 7.7 or RFC 6793 section 6: discarded).
fn decode_aggregator(value: &[u8], base: usize, four_octet: bool) -> DecodeResult<Aggregator> {
    let aggregator = decode_aggregator_fields(value, base, four_octet)?;
    if aggregator.asn == 0 {
        return Err(DecodeError::new(
            "AGGREGATOR AS",
            base,
            DecodeErrorKind::BadValue(0),
        ));
    }
    Ok(aggregator)
}

fn decode_aggregator_fields(
    value: &[u8],
    base: usize,
    four_octet: bool,
) -> DecodeResult<Aggregator> {
    if four_octet {
        let b = fixed::<8>(value, base, "AGGREGATOR")?;
        Ok(Aggregator {
            asn: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            address: Ipv4Addr::new(b[4], b[5], b[6], b[7]),
        })
    } else {
        let b = fixed::<6>(value, base, "AGGREGATOR")?;
        Ok(Aggregator {
            asn: u16::from_be_bytes([b[0], b[1]]).into(),
            address: Ipv4Addr::new(b[2], b[3], b[4], b[5]),
        })
    }
}

impl AttributeValue {
    pub fn type_code(&self) -> u8 {
        use type_code::*;
        match self {
            Self::Origin(_) => ORIGIN,
            Self::AsPath(_) => AS_PATH,
            Self::NextHop(_) => NEXT_HOP,
            Self::MultiExitDisc(_) => MULTI_EXIT_DISC,
            Self::LocalPref(_) => LOCAL_PREF,
            Self::AtomicAggregate => ATOMIC_AGGREGATE,
            Self::Aggregator(_) => AGGREGATOR,
            Self::Communities(_) => COMMUNITIES,
            Self::OriginatorId(_) => ORIGINATOR_ID,
            Self::ClusterList(_) => CLUSTER_LIST,
            Self::MpReach(_) => MP_REACH_NLRI,
            Self::MpUnreach(_) => MP_UNREACH_NLRI,
            Self::ExtendedCommunities(_) => EXTENDED_COMMUNITIES,
            Self::As4Path(_) => AS4_PATH,
            Self::As4Aggregator(_) => AS4_AGGREGATOR,
            Self::PmsiTunnel(_) => PMSI_TUNNEL,
            Self::LargeCommunities(_) => LARGE_COMMUNITIES,
            Self::Unknown { type_code, .. } => *type_code,
        }
    }

    /// Decode the value octets of attribute `code`: all that `r` holds (its
    /// base is their absolute offset). Unrecognized codes become
    /// [`AttributeValue::Unknown`].
    pub fn decode(code: u8, r: &mut Reader<'_>, opts: &DecodeOptions) -> DecodeResult<Self> {
        use type_code::*;
        let base = r.offset();
        let value = r.rest();
        let ipv4 = |b: [u8; 4]| Ipv4Addr::from(b);
        Ok(match code {
            ORIGIN => match fixed::<1>(value, base, "ORIGIN")? {
                [0] => Self::Origin(Origin::Igp),
                [1] => Self::Origin(Origin::Egp),
                [2] => Self::Origin(Origin::Incomplete),
                [other] => {
                    return Err(DecodeError::new(
                        "ORIGIN",
                        base,
                        DecodeErrorKind::BadValue(other.into()),
                    ));
                }
            },
            AS_PATH => {
                let mut r = Reader::with_base(value, base);
                let path = AsPath::decode(&mut r, opts.four_octet_as)?;
                Self::AsPath(without_as_zero(path, "AS_PATH", base)?)
            }
            AS4_PATH => {
                let path = AsPath::decode(&mut Reader::with_base(value, base), true)?;
                Self::As4Path(without_as_zero(path, "AS4_PATH", base)?)
            }
            NEXT_HOP => Self::NextHop(ipv4(fixed(value, base, "NEXT_HOP")?)),
            MULTI_EXIT_DISC => {
                Self::MultiExitDisc(u32::from_be_bytes(fixed(value, base, "MULTI_EXIT_DISC")?))
            }
            LOCAL_PREF => Self::LocalPref(u32::from_be_bytes(fixed(value, base, "LOCAL_PREF")?)),
            ATOMIC_AGGREGATE => {
                fixed::<0>(value, base, "ATOMIC_AGGREGATE")?;
                Self::AtomicAggregate
            }
            AGGREGATOR => Self::Aggregator(decode_aggregator(value, base, opts.four_octet_as)?),
            AS4_AGGREGATOR => Self::As4Aggregator(decode_aggregator(value, base, true)?),
            COMMUNITIES => Self::Communities(list(value, base, "COMMUNITIES", |b| {
                Community(u32::from_be_bytes(b))
            })?),
            ORIGINATOR_ID => Self::OriginatorId(ipv4(fixed(value, base, "ORIGINATOR_ID")?)),
            CLUSTER_LIST => Self::ClusterList(list(value, base, "CLUSTER_LIST", ipv4)?),
            MP_REACH_NLRI => {
                Self::MpReach(MpReach::decode(&mut Reader::with_base(value, base), opts)?)
            }
            MP_UNREACH_NLRI => Self::MpUnreach(MpUnreach::decode(
                &mut Reader::with_base(value, base),
                opts,
            )?),
            EXTENDED_COMMUNITIES => {
                if value.is_empty() {
                    return Err(DecodeError::new(
                        "EXTENDED_COMMUNITIES",
                        base,
                        DecodeErrorKind::BadLength(0),
                    ));
                }
                Self::ExtendedCommunities(ExtendedCommunity::decode_all(value, base)?)
            }
            PMSI_TUNNEL => Self::PmsiTunnel(PmsiTunnel::decode(value, base)?),
            LARGE_COMMUNITIES => {
                Self::LargeCommunities(list::<12, _>(value, base, "LARGE_COMMUNITIES", |b| {
                    LargeCommunity {
                        global_admin: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                        local_data_1: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                        local_data_2: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
                    }
                })?)
            }
            type_code => Self::Unknown {
                type_code,
                value: Bytes::copy_from_slice(value),
            },
        })
    }

    /// Encode the value octets (no attribute header).
    pub fn encode(&self, out: &mut BytesMut, opts: &DecodeOptions) {
        let put_aggregator = |out: &mut BytesMut, a: &Aggregator, four: bool| {
            if four {
                out.put_u32(a.asn);
            } else {
                let asn = u16::try_from(a.asn).unwrap_or(super::as_path::AS_TRANS as u16);
                out.put_u16(asn);
            }
            out.put_slice(&a.address.octets());
        };
        match self {
            Self::Origin(o) => out.put_u8(*o as u8),
            Self::AsPath(p) => p.encode(out, opts.four_octet_as),
            Self::As4Path(p) => p.encode(out, true),
            Self::NextHop(a) | Self::OriginatorId(a) => out.put_slice(&a.octets()),
            Self::MultiExitDisc(v) | Self::LocalPref(v) => out.put_u32(*v),
            Self::AtomicAggregate => {}
            Self::Aggregator(a) => put_aggregator(out, a, opts.four_octet_as),
            Self::As4Aggregator(a) => put_aggregator(out, a, true),
            Self::Communities(cs) => cs.iter().for_each(|c| out.put_u32(c.0)),
            Self::ClusterList(ids) => ids.iter().for_each(|id| out.put_slice(&id.octets())),
            Self::MpReach(m) => m.encode(out),
            Self::MpUnreach(m) => m.encode(out),
            Self::ExtendedCommunities(cs) => cs.iter().for_each(|c| c.encode(out)),
            Self::PmsiTunnel(p) => p.encode(out),
            Self::LargeCommunities(cs) => cs.iter().for_each(|c| {
                out.put_u32(c.global_admin);
                out.put_u32(c.local_data_1);
                out.put_u32(c.local_data_2);
            }),
            Self::Unknown { value, .. } => out.put_slice(value),
        }
    }

    /// The flags evpnd sends a freshly originated attribute with.
    pub fn default_flags(&self) -> AttrFlags {
        match expected_flags(self.type_code()) {
            Some((_, expected)) => AttrFlags(expected),
            None => AttrFlags::OPTIONAL_TRANSITIVE,
        }
    }
}

/// One path attribute with its flags as received (RFC 4271 section 4.3).
///
/// ```text
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+---------------------------+------//
/// |  Attr. Flags  |Attr. Type Code| Length (1, or 2 if flag E)| Value
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+---------------------------+------//
///  flags: O(ptional) T(ransitive) P(artial) E(xtended length) 0 0 0 0
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PathAttribute {
    pub flags: AttrFlags,
    pub value: AttributeValue,
}

impl PathAttribute {
    /// An attribute with the flags RFC 4271 assigns its type.
    pub fn new(value: AttributeValue) -> Self {
        Self {
            flags: value.default_flags(),
            value,
        }
    }

    pub fn type_code(&self) -> u8 {
        self.value.type_code()
    }

    pub fn encode(&self, out: &mut BytesMut, opts: &DecodeOptions) {
        put_attribute(out, self.flags, self.type_code(), |out| {
            self.value.encode(out, opts)
        });
    }

    /// The attribute as passed on to another peer (RFC 4271 section 5 and
    /// 9.1.3): an unrecognized optional transitive attribute goes with the
    /// Partial bit set; an unrecognized optional non-transitive one is
    /// dropped (`None`); everything else unchanged.
    pub fn propagated(&self) -> Option<PathAttribute> {
        match self.value {
            AttributeValue::Unknown { .. } if self.flags.optional() => {
                self.flags.transitive().then(|| PathAttribute {
                    flags: self.flags.with(AttrFlags::PARTIAL),
                    value: self.value.clone(),
                })
            }
            _ => Some(self.clone()),
        }
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        }
        match self {
            Self::Origin(o) => write!(f, "ORIGIN {o}"),
            Self::AsPath(p) => write!(f, "AS_PATH {p}"),
            Self::As4Path(p) => write!(f, "AS4_PATH {p}"),
            Self::NextHop(a) => write!(f, "NEXT_HOP {a}"),
            Self::MultiExitDisc(v) => write!(f, "MED {v}"),
            Self::LocalPref(v) => write!(f, "LOCAL_PREF {v}"),
            Self::AtomicAggregate => f.write_str("ATOMIC_AGGREGATE"),
            Self::Aggregator(a) => write!(f, "AGGREGATOR {} {}", a.asn, a.address),
            Self::As4Aggregator(a) => write!(f, "AS4_AGGREGATOR {} {}", a.asn, a.address),
            Self::Communities(cs) => {
                f.write_str("COMMUNITIES ")?;
                join(f, cs)
            }
            Self::OriginatorId(a) => write!(f, "ORIGINATOR_ID {a}"),
            Self::ClusterList(ids) => {
                f.write_str("CLUSTER_LIST ")?;
                join(f, ids)
            }
            Self::MpReach(m) => {
                write!(f, "MP_REACH_NLRI {} nexthop ", m.family)?;
                match m.next_hop_addr() {
                    Some(a) => write!(f, "{a}")?,
                    None => super::mac::write_hex(f, &m.next_hop)?,
                }
                write!(f, " ({} octets of NLRI)", m.nlri.len())
            }
            Self::MpUnreach(m) if m.withdrawn.is_empty() => {
                write!(f, "MP_UNREACH_NLRI {} (End-of-RIB)", m.family)
            }
            Self::MpUnreach(m) => write!(
                f,
                "MP_UNREACH_NLRI {} ({} octets of NLRI)",
                m.family,
                m.withdrawn.len()
            ),
            Self::ExtendedCommunities(cs) => {
                f.write_str("EXT_COMM ")?;
                join(f, cs)
            }
            Self::PmsiTunnel(p) => write!(f, "PMSI_TUNNEL {p}"),
            Self::LargeCommunities(cs) => {
                f.write_str("LARGE_COMMUNITIES ")?;
                join(f, cs)
            }
            Self::Unknown { type_code, value } => {
                write!(f, "attribute {type_code} ")?;
                super::mac::write_hex(f, value)
            }
        }
    }
}

impl fmt::Display for PathAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

#[cfg(test)]
pub(crate) mod tests;
