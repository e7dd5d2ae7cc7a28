//! BGP extended communities (RFC 4360) and the route target, as carried in
//! the EXTENDED_COMMUNITIES path attribute (type code 16).
//!
//! evpnd types the communities EVPN over VXLAN needs (route targets, the
//! VXLAN encapsulation, MAC mobility, default gateway, router's MAC, and
//! for multihoming the ESI label and ES-Import route target) and
//! keeps every other community as its 8 raw bytes so it is reflected
//! unchanged. A typed community is only produced when its encoding is exactly
//! reproducible (reserved fields zero); anything else stays [`Opaque`], so
//! `encode(decode(b)) == b` holds for every 8-byte input.
//!
//! [`Opaque`]: ExtendedCommunity::Opaque

use super::error::{DecodeErrorKind, DecodeResult};
use super::mac::{MacAddress, write_hex};
use super::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;
use thiserror::Error;

/// Wire size of every extended community (RFC 4360 section 2).
pub const EXTENDED_COMMUNITY_LEN: usize = 8;

/// Type high octets (RFC 4360 section 3; RFC 5668 section 2; RFC 7153).
mod type_high {
    pub const TRANSITIVE_TWO_OCTET_AS: u8 = 0x00;
    pub const TRANSITIVE_IPV4: u8 = 0x01;
    pub const TRANSITIVE_FOUR_OCTET_AS: u8 = 0x02;
    pub const TRANSITIVE_OPAQUE: u8 = 0x03;
    /// RFC 7153 section 5.2.1: EVPN.
    pub const EVPN: u8 = 0x06;
}

/// Sub-types (type low octets) within the type families above.
mod sub_type {
    /// RFC 4360 section 4 (and RFC 5668 for the 4-octet AS form).
    pub const ROUTE_TARGET: u8 = 0x02;
    /// RFC 9012 section 4.1 (under TRANSITIVE_OPAQUE).
    pub const ENCAPSULATION: u8 = 0x0c;
    /// RFC 7432 section 7.8 (under TRANSITIVE_OPAQUE).
    pub const DEFAULT_GATEWAY: u8 = 0x0d;
    /// RFC 7432 section 7.7 (under EVPN).
    pub const MAC_MOBILITY: u8 = 0x00;
    /// RFC 7432 section 7.5 (under EVPN).
    pub const ESI_LABEL: u8 = 0x01;
    /// RFC 7432 section 7.6 (under EVPN); the same low octet as a route
    /// target, told apart by the EVPN type high octet.
    pub const ES_IMPORT_ROUTE_TARGET: u8 = 0x02;
    /// RFC 9135 section 8.1 (under EVPN).
    pub const ROUTERS_MAC: u8 = 0x03;
}

/// BGP tunnel encapsulation types (IANA "BGP Tunnel Encapsulation Attribute
/// Tunnel Types"; RFC 8365 section 5.1.3 for the EVPN overlays).
pub mod tunnel_type {
    pub const VXLAN: u16 = 8;
    pub const NVGRE: u16 = 9;
    pub const MPLS: u16 = 10;
    pub const VXLAN_GPE: u16 = 12;
    pub const GENEVE: u16 = 19;
}

/// A route target (RFC 4360 section 4; RFC 5668 for 4-octet AS numbers):
/// which VRFs / EVIs import a route. The RIB indexes imports by it, hence
/// `Ord` and `Hash`.
///
/// Displays, parses and serializes as FRR writes it after `RT:`:
/// `65000:10`, `198.19.0.1:10`, `4200000000:10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteTarget {
    /// Type 0x00: 2-octet AS, 4-octet assigned number.
    As2 { asn: u16, number: u32 },
    /// Type 0x01: IPv4 address, 2-octet assigned number.
    Ipv4 { addr: Ipv4Addr, number: u16 },
    /// Type 0x02: 4-octet AS, 2-octet assigned number.
    As4 { asn: u32, number: u16 },
}

impl RouteTarget {
    /// The 8 wire octets of this route target as an extended community.
    pub fn to_bytes(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[1] = sub_type::ROUTE_TARGET;
        match *self {
            RouteTarget::As2 { asn, number } => {
                out[0] = type_high::TRANSITIVE_TWO_OCTET_AS;
                out[2..4].copy_from_slice(&asn.to_be_bytes());
                out[4..8].copy_from_slice(&number.to_be_bytes());
            }
            RouteTarget::Ipv4 { addr, number } => {
                out[0] = type_high::TRANSITIVE_IPV4;
                out[2..6].copy_from_slice(&addr.octets());
                out[6..8].copy_from_slice(&number.to_be_bytes());
            }
            RouteTarget::As4 { asn, number } => {
                out[0] = type_high::TRANSITIVE_FOUR_OCTET_AS;
                out[2..6].copy_from_slice(&asn.to_be_bytes());
                out[6..8].copy_from_slice(&number.to_be_bytes());
            }
        }
        out
    }

    /// Interprets 8 community octets as a route target, if they are one.
    pub fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        let [high, low, v0, v1, v2, v3, v4, v5] = bytes;
        if low != sub_type::ROUTE_TARGET {
            return None;
        }
        match high {
            type_high::TRANSITIVE_TWO_OCTET_AS => Some(RouteTarget::As2 {
                asn: u16::from_be_bytes([v0, v1]),
                number: u32::from_be_bytes([v2, v3, v4, v5]),
            }),
            type_high::TRANSITIVE_IPV4 => Some(RouteTarget::Ipv4 {
                addr: Ipv4Addr::new(v0, v1, v2, v3),
                number: u16::from_be_bytes([v4, v5]),
            }),
            type_high::TRANSITIVE_FOUR_OCTET_AS => Some(RouteTarget::As4 {
                asn: u32::from_be_bytes([v0, v1, v2, v3]),
                number: u16::from_be_bytes([v4, v5]),
            }),
            _ => None,
        }
    }
}

impl fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteTarget::As2 { asn, number } => write!(f, "{asn}:{number}"),
            RouteTarget::Ipv4 { addr, number } => write!(f, "{addr}:{number}"),
            RouteTarget::As4 { asn, number } => write!(f, "{asn}:{number}"),
        }
    }
}

impl Serialize for RouteTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why an `ADMIN:NUMBER` string (route target or route distinguisher) was
/// rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "invalid {what} {input:?}: expected ASN:NN (2-octet AS with a 4-octet number, \
     or 4-octet AS with a 2-octet number) or IPv4:NN (2-octet number)"
)]
pub struct ParseAdminValueError {
    pub what: &'static str,
    pub input: String,
}

/// The three `administrator:assigned-number` forms shared by route targets
/// (RFC 4360 section 4) and route distinguishers (RFC 4364 section 4.2).
/// A plain AS number that fits 2 octets selects the 2-octet AS form, as FRR
/// does; a larger one the 4-octet AS form.
pub(crate) fn parse_admin_value(
    s: &str,
    what: &'static str,
) -> Result<RouteTarget, ParseAdminValueError> {
    let err = || ParseAdminValueError {
        what,
        input: s.to_owned(),
    };
    let (admin, number) = s.rsplit_once(':').ok_or_else(err)?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(number) {
        return Err(err());
    }
    if let Ok(addr) = admin.parse::<Ipv4Addr>() {
        let number = number.parse::<u16>().map_err(|_| err())?;
        return Ok(RouteTarget::Ipv4 { addr, number });
    }
    if !digits(admin) {
        return Err(err());
    }
    let asn = admin.parse::<u32>().map_err(|_| err())?;
    match u16::try_from(asn) {
        Ok(asn) => Ok(RouteTarget::As2 {
            asn,
            number: number.parse::<u32>().map_err(|_| err())?,
        }),
        Err(_) => Ok(RouteTarget::As4 {
            asn,
            number: number.parse::<u16>().map_err(|_| err())?,
        }),
    }
}

impl FromStr for RouteTarget {
    type Err = ParseAdminValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_admin_value(s, "route target")
    }
}

/// MAC mobility (RFC 7432 section 7.7):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Type=0x06     | Sub-Type=0x00 |Flags(1 octet)|  Reserved=0    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Sequence Number                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The flags octet is kept whole so flags defined later survive reflection;
/// the low-order bit is "sticky/static".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MacMobility {
    pub flags: u8,
    pub sequence: u32,
}

impl MacMobility {
    /// RFC 7432 section 7.7: the low-order bit of the flags octet.
    pub const FLAG_STICKY: u8 = 0x01;

    pub fn new(sticky: bool, sequence: u32) -> Self {
        let flags = if sticky { Self::FLAG_STICKY } else { 0 };
        Self { flags, sequence }
    }

    pub fn sticky(&self) -> bool {
        self.flags & Self::FLAG_STICKY != 0
    }
}

/// ESI Label (RFC 7432 section 7.5), sent with the per-ES Ethernet A-D
/// route (section 8.2.1):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Type=0x06     | Sub-Type=0x01 | Flags(1 octet)|  Reserved=0   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Reserved=0   |          ESI Label                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The flags octet is kept whole (later RFCs define more bits); its
/// low-order bit is "Single-Active". The label is kept raw, 24 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EsiLabel {
    pub flags: u8,
    /// Raw 24-bit ESI Label field.
    pub label: u32,
}

impl EsiLabel {
    /// RFC 7432 section 7.5: the low-order bit of the flags octet.
    pub const FLAG_SINGLE_ACTIVE: u8 = 0x01;

    /// Single-active (else all-active) redundancy mode.
    pub fn single_active(&self) -> bool {
        self.flags & Self::FLAG_SINGLE_ACTIVE != 0
    }
}

/// One extended community (RFC 4360 section 2):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Type high    |  Type low(*)  |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+          Value                |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Displays as FRR prints it (`RT:65000:10`, `ET:8`, `MM:5, sticky MAC`,
/// `Default Gateway`, `Rmac:02:00:00:00:00:01`,
/// `ES-Import-Rt:02:ee:00:00:00:01`; others as `0x` + 16 hex digits) and
/// serializes as that string. The ESI label is FRR's `ESI-label-Rt:AA` (or
/// `SA`) followed by the label, which FRR leaves out: `ESI-label-Rt:AA:100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtendedCommunity {
    /// Route target, any of the three forms (RFC 4360 section 4, RFC 5668).
    RouteTarget(RouteTarget),
    /// BGP encapsulation (RFC 9012 section 4.1; RFC 8365 section 5.1.3):
    /// type 0x03, sub-type 0x0c, 4 reserved octets, 2-octet tunnel type
    /// (see [`tunnel_type`]; 8 = VXLAN).
    Encapsulation { tunnel_type: u16 },
    /// EVPN MAC mobility (RFC 7432 section 7.7): type 0x06, sub-type 0x00.
    MacMobility(MacMobility),
    /// EVPN default gateway (RFC 7432 sections 7.8 and 10.1): type 0x03,
    /// sub-type 0x0d, value zero. A non-zero value ("ignored on reception")
    /// stays [`Opaque`](ExtendedCommunity::Opaque) so it is reflected
    /// unchanged; [`ExtendedCommunity::is_default_gateway`] sees both.
    DefaultGateway,
    /// EVPN router's MAC (RFC 9135 section 8.1): type 0x06, sub-type 0x03,
    /// 6-octet MAC.
    RoutersMac(MacAddress),
    /// EVPN ESI label (RFC 7432 section 7.5): type 0x06, sub-type 0x01,
    /// flags, 2 reserved octets (zero, else [`Opaque`](Self::Opaque)), label.
    EsiLabel(EsiLabel),
    /// EVPN ES-Import route target (RFC 7432 section 7.6): type 0x06,
    /// sub-type 0x02, a 6-octet MAC by which the PEs of an Ethernet segment
    /// import its type-4 routes (for ESI types 1 to 3 auto-derived from the
    /// high-order six octets of the ESI value, section 7.6).
    EsImportRouteTarget(MacAddress),
    /// Anything else, kept as its 8 wire octets.
    Opaque([u8; 8]),
}

impl ExtendedCommunity {
    /// The VXLAN encapsulation community every EVPN-VXLAN route carries
    /// (RFC 8365 section 5.1.3).
    pub const VXLAN_ENCAPSULATION: ExtendedCommunity = ExtendedCommunity::Encapsulation {
        tunnel_type: tunnel_type::VXLAN,
    };

    /// Decodes one community from exactly 8 octets.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let bytes = r.array::<EXTENDED_COMMUNITY_LEN>("extended community")?;
        Ok(Self::from_bytes(bytes))
    }

    /// Decodes an EXTENDED_COMMUNITIES attribute value: a list of 8-octet
    /// communities (RFC 4360 section 2). The length must be a multiple of 8.
    pub fn decode_all(value: &[u8], base_offset: usize) -> DecodeResult<Vec<Self>> {
        let mut r = Reader::with_base(value, base_offset);
        if !value.len().is_multiple_of(EXTENDED_COMMUNITY_LEN) {
            return Err(r.error(
                "extended communities length",
                DecodeErrorKind::BadLength(value.len()),
            ));
        }
        // The length was just checked against the bytes present.
        let mut out = Vec::with_capacity(value.len() / EXTENDED_COMMUNITY_LEN);
        while !r.is_empty() {
            out.push(Self::decode(&mut r)?);
        }
        Ok(out)
    }

    /// Interprets 8 wire octets; never fails (unknown forms are opaque).
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        if let Some(rt) = RouteTarget::from_bytes(bytes) {
            return ExtendedCommunity::RouteTarget(rt);
        }
        let [high, low, v0, v1, v2, v3, v4, v5] = bytes;
        match (high, low) {
            (type_high::TRANSITIVE_OPAQUE, sub_type::ENCAPSULATION)
                if [v0, v1, v2, v3] == [0; 4] =>
            {
                ExtendedCommunity::Encapsulation {
                    tunnel_type: u16::from_be_bytes([v4, v5]),
                }
            }
            (type_high::TRANSITIVE_OPAQUE, sub_type::DEFAULT_GATEWAY)
                if [v0, v1, v2, v3, v4, v5] == [0; 6] =>
            {
                ExtendedCommunity::DefaultGateway
            }
            (type_high::EVPN, sub_type::MAC_MOBILITY) if v1 == 0 => {
                ExtendedCommunity::MacMobility(MacMobility {
                    flags: v0,
                    sequence: u32::from_be_bytes([v2, v3, v4, v5]),
                })
            }
            (type_high::EVPN, sub_type::ROUTERS_MAC) => {
                ExtendedCommunity::RoutersMac(MacAddress([v0, v1, v2, v3, v4, v5]))
            }
            (type_high::EVPN, sub_type::ESI_LABEL) if [v1, v2] == [0; 2] => {
                ExtendedCommunity::EsiLabel(EsiLabel {
                    flags: v0,
                    label: u32::from_be_bytes([0, v3, v4, v5]),
                })
            }
            (type_high::EVPN, sub_type::ES_IMPORT_ROUTE_TARGET) => {
                ExtendedCommunity::EsImportRouteTarget(MacAddress([v0, v1, v2, v3, v4, v5]))
            }
            _ => ExtendedCommunity::Opaque(bytes),
        }
    }

    /// The 8 wire octets.
    pub fn to_bytes(&self) -> [u8; 8] {
        match *self {
            ExtendedCommunity::RouteTarget(rt) => rt.to_bytes(),
            ExtendedCommunity::Encapsulation { tunnel_type } => {
                let [t0, t1] = tunnel_type.to_be_bytes();
                [
                    type_high::TRANSITIVE_OPAQUE,
                    sub_type::ENCAPSULATION,
                    0,
                    0,
                    0,
                    0,
                    t0,
                    t1,
                ]
            }
            ExtendedCommunity::MacMobility(MacMobility { flags, sequence }) => {
                let [s0, s1, s2, s3] = sequence.to_be_bytes();
                [
                    type_high::EVPN,
                    sub_type::MAC_MOBILITY,
                    flags,
                    0,
                    s0,
                    s1,
                    s2,
                    s3,
                ]
            }
            ExtendedCommunity::DefaultGateway => [
                type_high::TRANSITIVE_OPAQUE,
                sub_type::DEFAULT_GATEWAY,
                0,
                0,
                0,
                0,
                0,
                0,
            ],
            ExtendedCommunity::RoutersMac(MacAddress([m0, m1, m2, m3, m4, m5])) => [
                type_high::EVPN,
                sub_type::ROUTERS_MAC,
                m0,
                m1,
                m2,
                m3,
                m4,
                m5,
            ],
            ExtendedCommunity::EsiLabel(EsiLabel { flags, label }) => {
                let [_, l0, l1, l2] = label.to_be_bytes();
                [
                    type_high::EVPN,
                    sub_type::ESI_LABEL,
                    flags,
                    0,
                    0,
                    l0,
                    l1,
                    l2,
                ]
            }
            ExtendedCommunity::EsImportRouteTarget(MacAddress([m0, m1, m2, m3, m4, m5])) => [
                type_high::EVPN,
                sub_type::ES_IMPORT_ROUTE_TARGET,
                m0,
                m1,
                m2,
                m3,
                m4,
                m5,
            ],
            ExtendedCommunity::Opaque(bytes) => bytes,
        }
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }

    /// (type high, type low) octets, for filtering without matching variants.
    pub fn type_and_sub_type(&self) -> (u8, u8) {
        let [high, low, ..] = self.to_bytes();
        (high, low)
    }

    pub fn route_target(&self) -> Option<RouteTarget> {
        match self {
            ExtendedCommunity::RouteTarget(rt) => Some(*rt),
            _ => None,
        }
    }

    /// The ES-Import route target's MAC (RFC 7432 section 7.6).
    pub fn es_import_route_target(&self) -> Option<MacAddress> {
        match self {
            ExtendedCommunity::EsImportRouteTarget(mac) => Some(*mac),
            _ => None,
        }
    }

    /// RFC 7432 section 7.8: the value is ignored on reception, so a default
    /// gateway community with non-zero (opaque-kept) value counts too.
    pub fn is_default_gateway(&self) -> bool {
        self.type_and_sub_type() == (type_high::TRANSITIVE_OPAQUE, sub_type::DEFAULT_GATEWAY)
    }
}

/// The extended communities EVPN gives a meaning to, by meaning: what
/// `evpnd show routes` rows carry and `evpnd decode --json` prints per
/// UPDATE, under the same names (the control socket's `RouteRow` in evpnd's `api::protocol`). Route
/// targets in order as sent; of the other kinds the first one counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvpnCommunities {
    /// RFC 4360 section 4, RFC 5668.
    pub route_targets: Vec<RouteTarget>,
    /// RFC 9012 section 4.1 tunnel type (8 = VXLAN).
    pub encapsulation: Option<u16>,
    /// RFC 7432 section 7.7, as show routes writes it: sequence and sticky.
    #[serde(serialize_with = "shown_mac_mobility::serialize")]
    pub mac_mobility: Option<MacMobility>,
    /// RFC 7432 section 7.8 (any value, see
    /// [`ExtendedCommunity::is_default_gateway`]).
    pub default_gateway: bool,
    /// RFC 7432 section 7.5.
    pub esi_label: Option<EsiLabel>,
    /// RFC 7432 section 7.6.
    pub es_import_rt: Option<MacAddress>,
    /// RFC 9135 section 8.1.
    pub router_mac: Option<MacAddress>,
}

impl EvpnCommunities {
    pub fn of(communities: &[ExtendedCommunity]) -> Self {
        Self {
            route_targets: communities
                .iter()
                .filter_map(ExtendedCommunity::route_target)
                .collect(),
            encapsulation: communities.iter().find_map(|c| match c {
                ExtendedCommunity::Encapsulation { tunnel_type } => Some(*tunnel_type),
                _ => None,
            }),
            mac_mobility: communities.iter().find_map(|c| match c {
                ExtendedCommunity::MacMobility(m) => Some(*m),
                _ => None,
            }),
            default_gateway: communities
                .iter()
                .any(ExtendedCommunity::is_default_gateway),
            esi_label: communities.iter().find_map(|c| match c {
                ExtendedCommunity::EsiLabel(l) => Some(*l),
                _ => None,
            }),
            es_import_rt: communities
                .iter()
                .find_map(ExtendedCommunity::es_import_route_target),
            router_mac: communities.iter().find_map(|c| match c {
                ExtendedCommunity::RoutersMac(mac) => Some(*mac),
                _ => None,
            }),
        }
    }
}

/// The JSON form of an optional MAC Mobility community shared by `evpnd
/// show routes --json` (the control socket's `RouteRow`) and `evpnd decode
/// --json` ([`EvpnCommunities`]): `{"sequence": N, "sticky": bool}` (RFC
/// 7432 section 7.7), or null. For `#[serde(with = ...)]`; reading it back
/// keeps only the sticky bit of the flags octet.
pub mod shown_mac_mobility {
    use super::MacMobility;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Shown {
        sequence: u32,
        sticky: bool,
    }

    pub fn serialize<S: Serializer>(
        mac_mobility: &Option<MacMobility>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        mac_mobility
            .map(|m| Shown {
                sequence: m.sequence,
                sticky: m.sticky(),
            })
            .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<MacMobility>, D::Error> {
        Ok(Option::<Shown>::deserialize(deserializer)?
            .map(|s| MacMobility::new(s.sticky, s.sequence)))
    }
}

impl From<RouteTarget> for ExtendedCommunity {
    fn from(rt: RouteTarget) -> Self {
        ExtendedCommunity::RouteTarget(rt)
    }
}

impl fmt::Display for ExtendedCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtendedCommunity::RouteTarget(rt) => write!(f, "RT:{rt}"),
            ExtendedCommunity::Encapsulation { tunnel_type } => write!(f, "ET:{tunnel_type}"),
            ExtendedCommunity::MacMobility(mm) if mm.sticky() => {
                write!(f, "MM:{}, sticky MAC", mm.sequence)
            }
            ExtendedCommunity::MacMobility(mm) => write!(f, "MM:{}", mm.sequence),
            ExtendedCommunity::DefaultGateway => f.write_str("Default Gateway"),
            ExtendedCommunity::RoutersMac(mac) => write!(f, "Rmac:{mac}"),
            ExtendedCommunity::EsiLabel(esi_label) => {
                let mode = if esi_label.single_active() {
                    "SA"
                } else {
                    "AA"
                };
                write!(f, "ESI-label-Rt:{mode}:{}", esi_label.label)
            }
            ExtendedCommunity::EsImportRouteTarget(mac) => write!(f, "ES-Import-Rt:{mac}"),
            ExtendedCommunity::Opaque(bytes) => {
                f.write_str("0x")?;
                write_hex(f, bytes)
            }
        }
    }
}

impl Serialize for ExtendedCommunity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_bytes(bytes: &[u8]) -> DecodeResult<ExtendedCommunity> {
        ExtendedCommunity::decode(&mut Reader::new(bytes))
    }

    fn encode_to_vec(ec: &ExtendedCommunity) -> Vec<u8> {
        let mut out = BytesMut::new();
        ec.encode(&mut out);
        out.to_vec()
    }

    /// The EXT_COMM value FRR 8.4.4 sent in a type-3 UPDATE (msg 62 of
    /// proto-tests/vectors/frr/bgp-evpn-messages.txt): ENCAP:8 then RT:65000:10.
    #[test]
    fn decodes_frr_type3_communities_and_re_encodes_them() {
        let value = [
            0x03, 0x0c, 0, 0, 0, 0, 0x00, 0x08, //
            0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 0x0a,
        ];
        let list = ExtendedCommunity::decode_all(&value, 100).unwrap();
        assert_eq!(
            list,
            vec![
                ExtendedCommunity::VXLAN_ENCAPSULATION,
                ExtendedCommunity::RouteTarget(RouteTarget::As2 {
                    asn: 65000,
                    number: 10
                }),
            ]
        );
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["ET:8", "RT:65000:10"]);
        let mut out = BytesMut::new();
        list.iter().for_each(|ec| ec.encode(&mut out));
        assert_eq!(&out[..], &value[..]);
    }

    #[test]
    fn decode_all_rejects_a_partial_community_with_its_offset() {
        let err = ExtendedCommunity::decode_all(&[0u8; 12], 40).unwrap_err();
        assert_eq!(err.offset, 40);
        assert_eq!(err.kind, DecodeErrorKind::BadLength(12));
        let err = decode_bytes(&[0u8; 7]).unwrap_err();
        assert_eq!(err.field, "extended community");
    }

    #[test]
    fn types_each_evpn_community() {
        let cases: [(&[u8], ExtendedCommunity, &str); 7] = [
            (
                &[0x01, 0x02, 198, 19, 0, 1, 0, 10],
                RouteTarget::Ipv4 {
                    addr: Ipv4Addr::new(198, 19, 0, 1),
                    number: 10,
                }
                .into(),
                "RT:198.19.0.1:10",
            ),
            (
                &[0x02, 0x02, 0xfa, 0x56, 0xea, 0x00, 0, 5],
                RouteTarget::As4 {
                    asn: 4_200_000_000,
                    number: 5,
                }
                .into(),
                "RT:4200000000:5",
            ),
            (
                &[0x06, 0x00, 0x01, 0, 0, 0, 0x01, 0x00],
                ExtendedCommunity::MacMobility(MacMobility::new(true, 256)),
                "MM:256, sticky MAC",
            ),
            (
                &[0x06, 0x00, 0x00, 0, 0, 0, 0, 7],
                ExtendedCommunity::MacMobility(MacMobility::new(false, 7)),
                "MM:7",
            ),
            (
                &[0x03, 0x0d, 0, 0, 0, 0, 0, 0],
                ExtendedCommunity::DefaultGateway,
                "Default Gateway",
            ),
            (
                &[0x06, 0x03, 0x02, 0, 0, 0, 0, 0x01],
                ExtendedCommunity::RoutersMac(MacAddress([2, 0, 0, 0, 0, 1])),
                "Rmac:02:00:00:00:00:01",
            ),
            (
                &[0x40, 0x02, 1, 2, 3, 4, 5, 6],
                ExtendedCommunity::Opaque([0x40, 0x02, 1, 2, 3, 4, 5, 6]),
                "0x4002010203040506",
            ),
        ];
        for (bytes, expected, shown) in cases {
            let decoded = decode_bytes(bytes).unwrap();
            assert_eq!(decoded, expected);
            assert_eq!(decoded.to_string(), shown);
            assert_eq!(encode_to_vec(&decoded), bytes);
        }
    }

    /// The multihoming communities as GoBGP 3.10 and ExaBGP 4.2 sent them
    /// (proto-tests/vectors/{gobgp,exabgp}/messages.txt: the type-1 and
    /// type-4 UPDATEs' EXT_COMM).
    #[test]
    fn types_the_captured_es_import_and_esi_label_communities() {
        let cases: [([u8; 8], ExtendedCommunity, &str); 4] = [
            (
                // GoBGP: auto-derived from ESI LACP 02:ee:00:00:00:01 7.
                [0x06, 0x02, 0x02, 0xee, 0, 0, 0, 0x01],
                ExtendedCommunity::EsImportRouteTarget(MacAddress([0x02, 0xee, 0, 0, 0, 0x01])),
                "ES-Import-Rt:02:ee:00:00:00:01",
            ),
            (
                // ExaBGP: from ESI 00:11:22:33:44:55:66:77:88:99.
                [0x06, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66],
                ExtendedCommunity::EsImportRouteTarget(MacAddress([
                    0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                ])),
                "ES-Import-Rt:11:22:33:44:55:66",
            ),
            (
                // GoBGP `esi-label 100`: all-active.
                [0x06, 0x01, 0, 0, 0, 0, 0, 0x64],
                ExtendedCommunity::EsiLabel(EsiLabel {
                    flags: 0,
                    label: 100,
                }),
                "ESI-label-Rt:AA:100",
            ),
            (
                [0x06, 0x01, 0x01, 0, 0, 0x0f, 0xff, 0xff],
                ExtendedCommunity::EsiLabel(EsiLabel {
                    flags: EsiLabel::FLAG_SINGLE_ACTIVE,
                    label: 0x0f_ffff,
                }),
                "ESI-label-Rt:SA:1048575",
            ),
        ];
        for (bytes, expected, shown) in cases {
            let decoded = decode_bytes(&bytes).unwrap();
            assert_eq!(decoded, expected);
            assert_eq!(decoded.to_string(), shown);
            assert_eq!(decoded.to_bytes(), bytes);
            assert_eq!(decoded.route_target(), None, "not an import RT for EVIs");
        }
        assert_eq!(
            cases[0].1.es_import_route_target(),
            Some(MacAddress([0x02, 0xee, 0, 0, 0, 0x01]))
        );
        // FRR 8.4 prints GoBGP's type-4 communities so
        // (proto-tests/vectors/gobgp/frr-received.json).
        let frr = [ExtendedCommunity::VXLAN_ENCAPSULATION, cases[0].1];
        let shown: Vec<String> = frr.iter().map(ToString::to_string).collect();
        assert_eq!(shown.join(" "), "ET:8 ES-Import-Rt:02:ee:00:00:00:01");
    }

    /// GoBGP's type-2 with DEFAULT-GW twice and ExaBGP's sticky MAC and
    /// type-4 (proto-tests/vectors/{gobgp,exabgp}/messages.txt), by meaning.
    #[test]
    fn evpn_communities_by_meaning_serialize_as_show_routes_names_them() {
        let gobgp = ExtendedCommunity::decode_all(
            &[
                [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 0x0a],
                [0x03, 0x0d, 0, 0, 0, 0, 0, 0],
                [0x03, 0x0c, 0, 0, 0, 0, 0, 0x08],
                [0x03, 0x0d, 0, 0, 0, 0, 0, 0],
            ]
            .concat(),
            0,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(EvpnCommunities::of(&gobgp)).unwrap(),
            serde_json::json!({"route_targets": ["65000:10"], "encapsulation": 8,
                "mac_mobility": null, "default_gateway": true, "esi_label": null,
                "es_import_rt": null, "router_mac": null})
        );
        let exabgp = [
            ExtendedCommunity::MacMobility(MacMobility::new(true, 0)),
            ExtendedCommunity::EsImportRouteTarget(MacAddress([
                0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
            ])),
            ExtendedCommunity::EsiLabel(EsiLabel {
                flags: 0,
                label: 100,
            }),
            ExtendedCommunity::RoutersMac(MacAddress([2, 0xb0, 0, 0, 0, 2])),
        ];
        let json = serde_json::to_value(EvpnCommunities::of(&exabgp)).unwrap();
        assert_eq!(
            json["mac_mobility"],
            serde_json::json!({"sequence": 0, "sticky": true})
        );
        assert_eq!(json["es_import_rt"], "11:22:33:44:55:66");
        assert_eq!(
            json["esi_label"],
            serde_json::json!({"flags": 0, "label": 100})
        );
        assert_eq!(json["router_mac"], "02:b0:00:00:00:02");
        assert_eq!(EvpnCommunities::of(&[]), EvpnCommunities::default());
    }

    #[test]
    fn non_zero_reserved_fields_stay_opaque_and_reflect_unchanged() {
        for bytes in [
            [0x03, 0x0c, 0, 0, 0, 1, 0, 8],    // encapsulation, reserved set
            [0x06, 0x00, 0x00, 9, 0, 0, 0, 1], // MAC mobility, reserved set
            [0x03, 0x0d, 0, 0, 0, 0, 0, 1],    // default gateway, value set
            [0x06, 0x01, 0x00, 0, 1, 0, 0, 1], // ESI label, reserved set
        ] {
            let decoded = decode_bytes(&bytes).unwrap();
            assert_eq!(decoded, ExtendedCommunity::Opaque(bytes));
            assert_eq!(decoded.to_bytes(), bytes);
        }
        assert!(
            decode_bytes(&[0x03, 0x0d, 0, 0, 0, 0, 0, 1])
                .unwrap()
                .is_default_gateway()
        );
        assert!(ExtendedCommunity::DefaultGateway.is_default_gateway());
    }

    #[test]
    fn route_target_parses_every_form_and_serializes_as_string() {
        assert_eq!(
            "65000:10".parse::<RouteTarget>().unwrap(),
            RouteTarget::As2 {
                asn: 65000,
                number: 10
            }
        );
        assert_eq!(
            "65000:4294967295".parse::<RouteTarget>().unwrap(),
            RouteTarget::As2 {
                asn: 65000,
                number: u32::MAX
            }
        );
        assert_eq!(
            "198.19.0.1:10".parse::<RouteTarget>().unwrap(),
            RouteTarget::Ipv4 {
                addr: Ipv4Addr::new(198, 19, 0, 1),
                number: 10
            }
        );
        assert_eq!(
            "4200000000:10".parse::<RouteTarget>().unwrap(),
            RouteTarget::As4 {
                asn: 4_200_000_000,
                number: 10
            }
        );
        for bad in [
            "",
            "65000",
            "65000:",
            ":10",
            "4200000000:70000",
            "198.19.0.1:70000",
            "4294967296:1",
            "-1:10",
            "65000:+10",
            "as65000:10",
        ] {
            assert!(bad.parse::<RouteTarget>().is_err(), "{bad:?} accepted");
        }
        let rt: RouteTarget = "65000:10".parse().unwrap();
        assert_eq!(serde_json::to_string(&rt).unwrap(), "\"65000:10\"");
        let ec = ExtendedCommunity::from(rt);
        assert_eq!(serde_json::to_string(&ec).unwrap(), "\"RT:65000:10\"");
    }

    fn any_route_target() -> impl Strategy<Value = RouteTarget> {
        prop_oneof![
            (any::<u16>(), any::<u32>()).prop_map(|(asn, number)| RouteTarget::As2 { asn, number }),
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(a, number)| RouteTarget::Ipv4 {
                addr: Ipv4Addr::from(a),
                number
            }),
            (any::<u32>(), any::<u16>()).prop_map(|(asn, number)| RouteTarget::As4 { asn, number }),
        ]
    }

    proptest! {
        #[test]
        fn any_eight_bytes_decode_and_re_encode_identically(bytes in any::<[u8; 8]>()) {
            let decoded = decode_bytes(&bytes).unwrap();
            prop_assert_eq!(encode_to_vec(&decoded), bytes.to_vec());
        }

        #[test]
        fn typed_values_round_trip(rt in any_route_target(), tunnel in any::<u16>(),
                                   flags in any::<u8>(), sequence in any::<u32>(),
                                   mac in any::<[u8; 6]>(), label in 0u32..(1 << 24)) {
            for ec in [
                ExtendedCommunity::RouteTarget(rt),
                ExtendedCommunity::Encapsulation { tunnel_type: tunnel },
                ExtendedCommunity::MacMobility(MacMobility { flags, sequence }),
                ExtendedCommunity::DefaultGateway,
                ExtendedCommunity::RoutersMac(MacAddress(mac)),
                ExtendedCommunity::EsiLabel(EsiLabel { flags, label }),
                ExtendedCommunity::EsImportRouteTarget(MacAddress(mac)),
            ] {
                prop_assert_eq!(decode_bytes(&encode_to_vec(&ec)).unwrap(), ec);
            }
        }

        #[test]
        fn route_target_display_parse_round_trips(rt in any_route_target()) {
            let parsed: RouteTarget = rt.to_string().parse().unwrap();
            // A 4-octet AS that fits 2 octets reads back as the 2-octet form
            // (as FRR does); everything else is identical.
            match rt {
                RouteTarget::As4 { asn, number } if asn <= u32::from(u16::MAX) => {
                    prop_assert_eq!(parsed, RouteTarget::As2 { asn: asn as u16, number: u32::from(number) });
                }
                _ => prop_assert_eq!(parsed, rt),
            }
        }
    }
}
