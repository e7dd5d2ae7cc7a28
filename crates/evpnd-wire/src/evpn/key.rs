//! The identity of an EVPN route for BGP processing: what makes two NLRIs
//! "the same route" (an implicit replace, or the target of a withdraw).

use super::route_type;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};
use crate::mac::write_hex;
use crate::reader::Reader;

/// A 3-octet label field (RFC 7432 section 7.2).
const LABEL_LEN: usize = 3;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Bytes a key holds without allocating. The largest typed key is a type-2
/// with an IPv6 address: type 1 + RD 8 + Ethernet tag 4 + MAC length 1 +
/// MAC 6 + IP length 1 + IP 16 = 37; 38 costs nothing (the enum is padded to
/// 40 bytes either way) and lets a few more unknown-type routes stay inline.
pub const INLINE_KEY_CAPACITY: usize = 38;

/// A compact, fixed-size route key: `route type ++ identifying fields`, as
/// they appear on the wire, and nothing else.
///
/// Which fields identify a route (so labels, ESI of type 2 and next hop
/// changes are an implicit replace, and a withdraw with a zero label, as FRR
/// sends, matches its announcement):
/// - type 1 (RFC 7432 section 7.1): RD, ESI, Ethernet tag;
/// - type 2 (RFC 7432 section 7.2): RD, Ethernet tag, MAC length, MAC,
///   IP length, IP (not the ESI, not the labels);
/// - type 3 (RFC 7432 section 7.3): RD, Ethernet tag, IP length, IP;
/// - type 4 (RFC 7432 section 7.4): RD, ESI, IP length, IP;
/// - type 5 (RFC 9136 section 3.1): RD, Ethernet tag, IP prefix length,
///   IP prefix;
/// - any other type: the whole value.
///
/// `size_of::<EvpnRouteKey>()` is 40 bytes; keys of types 1 to 5 never
/// allocate. Only unknown-type routes whose value exceeds 37 bytes are kept
/// on the heap. Equality, hashing and ordering are over [`Self::as_bytes`].
#[derive(Clone)]
pub struct EvpnRouteKey(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        bytes: [u8; INLINE_KEY_CAPACITY],
    },
    Heap(Box<[u8]>),
}

impl EvpnRouteKey {
    /// Concatenates `parts`, inline when they fit.
    fn from_parts(parts: &[&[u8]]) -> Self {
        let total: usize = parts.iter().map(|part| part.len()).sum();
        if total <= INLINE_KEY_CAPACITY {
            let mut bytes = [0u8; INLINE_KEY_CAPACITY];
            let mut len = 0;
            for part in parts {
                // In bounds: the parts sum to at most the capacity.
                if let Some(dest) = bytes.get_mut(len..len + part.len()) {
                    dest.copy_from_slice(part);
                }
                len += part.len();
            }
            EvpnRouteKey(Repr::Inline {
                len: u8::try_from(len).unwrap_or(u8::MAX),
                bytes,
            })
        } else {
            EvpnRouteKey(Repr::Heap(parts.concat().into_boxed_slice()))
        }
    }

    /// The key's bytes: the route type, then the identifying fields.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(bytes),
            Repr::Heap(bytes) => bytes,
        }
    }

    pub fn route_type(&self) -> u8 {
        self.as_bytes().first().copied().unwrap_or_default()
    }

    /// Whether this key lives inline (no heap allocation).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// Builds the key of one route from its type and value (the bytes after
    /// the length octet), checking the fields it reads and, for types 1 to 5,
    /// the value's length. `base_offset` is the value's absolute offset.
    pub fn from_value(route_type: u8, value: &[u8], base_offset: usize) -> DecodeResult<Self> {
        let mut r = Reader::with_base(value, base_offset);
        let key = match route_type {
            route_type::ETHERNET_AUTO_DISCOVERY => {
                // RD 8, ESI 10, Ethernet tag 4, label 3 (section 7.1).
                let rd_esi_tag = r.bytes(8 + 10 + 4, "type-1 RD, ESI and Ethernet tag")?;
                r.u24("type-1 label")?;
                r.finish("type-1 route")?;
                Self::from_parts(&[&[route_type], rd_esi_tag])
            }
            route_type::MAC_IP_ADVERTISEMENT => {
                // Read off the wire, with the checks Type2Route::decode
                // makes: the route reflector computes this for every NLRI,
                // several times, so it must not build the typed route.
                let rd = r.bytes(8, "type-2 RD")?;
                r.bytes(10, "type-2 ESI")?;
                let tag_mac_ip_start = r.remaining();
                let tag_and_mac_len = r.bytes(4 + 1, "type-2 Ethernet tag")?;
                if tag_and_mac_len[4] != super::mac_ip::MAC_ADDRESS_BITS {
                    return Err(DecodeError::new(
                        "type-2 MAC address length",
                        r.offset() - 1,
                        DecodeErrorKind::BadValue(u64::from(tag_and_mac_len[4])),
                    ));
                }
                r.bytes(6, "type-2 MAC address")?;
                super::ip_field::read_ip_with_bit_length(
                    &mut r,
                    "type-2 IP address length",
                    "type-2 IP address",
                    true,
                )?;
                let identifying = tag_mac_ip_start - r.remaining();
                r.u24("type-2 label1")?;
                match r.remaining() {
                    0 => {}
                    LABEL_LEN => {
                        r.u24("type-2 label2")?;
                    }
                    n => return Err(r.error("type-2 label2", DecodeErrorKind::Trailing(n))),
                }
                let tag_mac_ip = value.get(8 + 10..8 + 10 + identifying).unwrap_or_default();
                Self::from_parts(&[&[route_type], rd, tag_mac_ip])
            }
            route_type::INCLUSIVE_MULTICAST => {
                // Every field identifies a type-3 route (section 7.3).
                r.bytes(8 + 4, "type-3 RD and Ethernet tag")?;
                super::ip_field::read_ip_with_bit_length(
                    &mut r,
                    "type-3 originating router IP length",
                    "type-3 originating router IP",
                    false,
                )?;
                r.finish("type-3 route")?;
                Self::from_parts(&[&[route_type], value])
            }
            route_type::ETHERNET_SEGMENT => {
                // RD 8, ESI 10, IP length 1, IP (section 7.4): all of it.
                r.bytes(8 + 10, "type-4 RD and ESI")?;
                super::ip_field::read_ip_with_bit_length(
                    &mut r,
                    "type-4 originating router IP length",
                    "type-4 originating router IP",
                    false,
                )?;
                r.finish("type-4 route")?;
                Self::from_parts(&[&[route_type], value])
            }
            route_type::IP_PREFIX => {
                // RFC 9136 section 3.1: RD 8, ESI 10, Ethernet tag 4, prefix
                // length 1, prefix 4|16, gateway 4|16, label 3; the address
                // family follows from the total length (34 or 58).
                let address_len = match value.len() {
                    34 => 4,
                    58 => 16,
                    other => {
                        return Err(
                            r.error("type-5 route length", DecodeErrorKind::BadLength(other))
                        );
                    }
                };
                let rd = r.bytes(8, "type-5 RD")?;
                r.bytes(10, "type-5 ESI")?;
                let ethernet_tag = r.bytes(4, "type-5 Ethernet tag")?;
                let prefix_len_offset = r.offset();
                let prefix_len = r.u8("type-5 IP prefix length")?;
                if usize::from(prefix_len) > address_len * 8 {
                    return Err(DecodeError::new(
                        "type-5 IP prefix length",
                        prefix_len_offset,
                        DecodeErrorKind::BadValue(u64::from(prefix_len)),
                    ));
                }
                let prefix = r.bytes(address_len, "type-5 IP prefix")?;
                Self::from_parts(&[&[route_type], rd, ethernet_tag, &[prefix_len], prefix])
            }
            _ => Self::from_parts(&[&[route_type], value]),
        };
        Ok(key)
    }

    /// The key of a typed type-2 route (same bytes as from its wire form).
    pub fn type2(route: &super::mac_ip::Type2Route) -> Self {
        let (v4, v6);
        let (ip_bits, ip_bytes): (u8, &[u8]) = match &route.ip {
            None => (0, &[]),
            Some(IpAddr::V4(a)) => {
                v4 = a.octets();
                (32, &v4)
            }
            Some(IpAddr::V6(a)) => {
                v6 = a.octets();
                (128, &v6)
            }
        };
        Self::from_parts(&[
            &[route_type::MAC_IP_ADVERTISEMENT],
            &route.rd.to_bytes(),
            &route.ethernet_tag.to_be_bytes(),
            &[super::mac_ip::MAC_ADDRESS_BITS],
            &route.mac.0,
            &[ip_bits],
            ip_bytes,
        ])
    }

    /// The key of a typed type-3 route.
    pub fn type3(route: &super::inclusive_multicast::Type3Route) -> Self {
        let (v4, v6);
        let (ip_bits, ip_bytes): (u8, &[u8]) = match &route.originating_router {
            IpAddr::V4(a) => {
                v4 = a.octets();
                (32, &v4)
            }
            IpAddr::V6(a) => {
                v6 = a.octets();
                (128, &v6)
            }
        };
        Self::from_parts(&[
            &[route_type::INCLUSIVE_MULTICAST],
            &route.rd.to_bytes(),
            &route.ethernet_tag.to_be_bytes(),
            &[ip_bits],
            ip_bytes,
        ])
    }
}

/// The key of one whole NLRI (route type, length, value), as yielded by
/// [`super::route::split_evpn_nlri`]. Fails when the length octet disagrees with
/// the slice or the identifying fields are malformed. Offsets in errors are
/// relative to `nlri`.
pub fn evpn_route_key(nlri: &[u8]) -> DecodeResult<EvpnRouteKey> {
    let mut r = Reader::new(nlri);
    let route_type = r.u8("EVPN route type")?;
    let len = r.u8("EVPN route length")?;
    let value_offset = r.offset();
    let value = r.bytes(usize::from(len), "EVPN route value")?;
    r.finish("EVPN route")?;
    EvpnRouteKey::from_value(route_type, value, value_offset)
}

impl PartialEq for EvpnRouteKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for EvpnRouteKey {}

impl Hash for EvpnRouteKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for EvpnRouteKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EvpnRouteKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for EvpnRouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EvpnRouteKey(")?;
        write_hex(f, self.as_bytes())?;
        f.write_str(")")
    }
}
