//! Capabilities advertised in OPEN (RFC 5492 section 4; IANA "Capability
//! Codes").

use super::error::{DecodeError, DecodeErrorKind, DecodeResult};
use super::family::{Afi, Family, Safi};
use super::mac::serialize_hex;
use super::reader::Reader;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::fmt;

/// Capability codes.
pub mod code {
    /// RFC 4760 section 8.
    pub const MULTIPROTOCOL: u8 = 1;
    /// RFC 2918 section 2.
    pub const ROUTE_REFRESH: u8 = 2;
    /// RFC 8950 section 3.
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    /// RFC 8654 section 3.
    pub const EXTENDED_MESSAGE: u8 = 6;
    /// RFC 4724 section 3.
    pub const GRACEFUL_RESTART: u8 = 64;
    /// RFC 6793 section 3.
    pub const FOUR_OCTET_AS: u8 = 65;
    /// RFC 7911 section 4.
    pub const ADD_PATH: u8 = 69;
    /// RFC 7313 section 3.
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
    /// draft-walton-bgp-hostname-capability section 3 (IANA: FQDN).
    pub const FQDN: u8 = 73;
    /// Pre-standard Cisco route refresh, still sent by FRR and others.
    pub const ROUTE_REFRESH_CISCO: u8 = 128;
}

/// Graceful Restart capability value (RFC 4724 section 3).
///
/// ```text
/// +--------------------------------------------------+
/// | Restart Flags (4 bits)                           |
/// +--------------------------------------------------+
/// | Restart Time in seconds (12 bits)                |
/// +--------------------------------------------------+
/// | Address Family Identifier (16 bits)              |
/// +--------------------------------------------------+
/// | Subsequent Address Family Identifier (8 bits)    |
/// +--------------------------------------------------+
/// | Flags for Address Family (8 bits)                |
/// +--------------------------------------------------+
/// | ...                                              |
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GracefulRestart {
    /// The four restart flag bits (high nibble of the first octet).
    pub flags: u8,
    /// Restart time, 12 bits.
    pub restart_time: u16,
    pub families: Vec<GracefulRestartFamily>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct GracefulRestartFamily {
    pub family: Family,
    /// Bit 0x80: forwarding state preserved (RFC 4724 section 3).
    pub flags: u8,
}

impl GracefulRestart {
    /// Restart State bit (RFC 4724 section 3).
    pub const FLAG_RESTART_STATE: u8 = 0x8;
    /// Notification bit (RFC 8538 section 2).
    pub const FLAG_NOTIFICATION: u8 = 0x4;
    pub const FAMILY_FORWARDING_PRESERVED: u8 = 0x80;

    pub fn restart_state(&self) -> bool {
        self.flags & Self::FLAG_RESTART_STATE != 0
    }
    pub fn notification(&self) -> bool {
        self.flags & Self::FLAG_NOTIFICATION != 0
    }
}

/// ADD-PATH Send/Receive field (RFC 7911 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct AddPathFamily {
    pub family: Family,
    /// 1 receive, 2 send, 3 both.
    pub send_receive: u8,
}

impl AddPathFamily {
    pub const RECEIVE: u8 = 1;
    pub const SEND: u8 = 2;
    pub fn can_receive(&self) -> bool {
        self.send_receive & Self::RECEIVE != 0
    }
    pub fn can_send(&self) -> bool {
        self.send_receive & Self::SEND != 0
    }
}

/// One entry of the Extended Next Hop Encoding capability (RFC 8950
/// section 3): NLRI of `family` may carry a next hop of `next_hop_afi`.
///
/// ```text
/// +-----------------------------------------------------+
/// | NLRI AFI - 1 (2 octets)                             |
/// +-----------------------------------------------------+
/// | NLRI SAFI - 1 (2 octets)                            |
/// +-----------------------------------------------------+
/// | Nexthop AFI - 1 (2 octets)                          |
/// +-----------------------------------------------------+
/// | ....                                                |
/// ```
///
/// The SAFI field is 2 octets here; a value above 255 (no such SAFI is
/// assigned) leaves the capability [`Capability::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ExtendedNextHopFamily {
    pub family: Family,
    pub next_hop_afi: Afi,
}

/// One capability (RFC 5492 section 4).
///
/// ```text
/// +------------------------------+
/// | Capability Code (1 octet)    |
/// +------------------------------+
/// | Capability Length (1 octet)  |
/// +------------------------------+
/// | Capability Value (variable)  |
/// +------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Capability {
    /// RFC 4760 section 8: AFI (2), reserved (1), SAFI (1).
    Multiprotocol(Family),
    /// RFC 2918 section 2: empty.
    RouteRefresh,
    /// Code 128, the pre-standard route refresh; kept apart so it
    /// re-encodes as seen.
    RouteRefreshCisco,
    /// RFC 7313 section 3: empty.
    EnhancedRouteRefresh,
    /// RFC 6793 section 3: the speaker's 4-octet AS.
    FourOctetAs(u32),
    GracefulRestart(GracefulRestart),
    /// RFC 8654 section 3: empty.
    ExtendedMessage,
    /// RFC 7911 section 4: (AFI, SAFI, Send/Receive) triples.
    AddPath(Vec<AddPathFamily>),
    /// RFC 8950 section 3: (NLRI AFI, NLRI SAFI, next-hop AFI) triples, as
    /// GoBGP sends for L2VPN EVPN with IPv6 next hops. A value that is not
    /// whole triples (or has a SAFI above 255) stays
    /// [`Unknown`](Self::Unknown), accepted as before.
    ExtendedNextHop(Vec<ExtendedNextHopFamily>),
    /// The speaker's host and domain name (draft-walton-bgp-hostname-
    /// capability section 3: hostname length (1), hostname, domain name
    /// length (1), domain name, UTF-8), as FRR and GoBGP send. A value that
    /// does not read so exactly stays [`Unknown`](Self::Unknown).
    Fqdn {
        hostname: String,
        domain_name: String,
    },
    /// Anything else (long-lived GR 71, ...), kept as its value.
    Unknown {
        code: u8,
        #[serde(serialize_with = "serialize_hex")]
        value: Bytes,
    },
}

fn family(r: &mut Reader<'_>) -> DecodeResult<Family> {
    let afi = Afi(r.u16("AFI")?);
    Ok(Family::new(afi, Safi(r.u8("SAFI")?)))
}

/// The triples of an Extended Next Hop Encoding capability value (RFC 8950
/// section 3), or `None` if it is not whole 6-octet triples with 1-octet
/// SAFIs.
fn extended_next_hop(value: &[u8]) -> Option<Vec<ExtendedNextHopFamily>> {
    if !value.len().is_multiple_of(6) {
        return None;
    }
    value
        .chunks_exact(6)
        .map(|triple| match *triple {
            [afi_high, afi_low, 0, safi, next_high, next_low] => Some(ExtendedNextHopFamily {
                family: Family::new(Afi(u16::from_be_bytes([afi_high, afi_low])), Safi(safi)),
                next_hop_afi: Afi(u16::from_be_bytes([next_high, next_low])),
            }),
            _ => None,
        })
        .collect()
}

/// Host and domain name of an FQDN capability value (draft-walton-bgp-
/// hostname-capability section 3), or `None` unless the value is exactly
/// two length-prefixed UTF-8 strings.
fn fqdn(value: &[u8]) -> Option<(String, String)> {
    let (&host_len, rest) = value.split_first()?;
    let (hostname, rest) = rest.split_at_checked(usize::from(host_len))?;
    let (&domain_len, domain_name) = rest.split_first()?;
    if domain_name.len() != usize::from(domain_len) {
        return None;
    }
    Some((
        std::str::from_utf8(hostname).ok()?.to_owned(),
        std::str::from_utf8(domain_name).ok()?.to_owned(),
    ))
}

fn value_bytes(afi: Afi, reserved: u8, safi: Safi) -> [u8; 4] {
    let [a, b] = afi.0.to_be_bytes();
    [a, b, reserved, safi.0]
}

impl Capability {
    /// The family of a Multiprotocol capability (RFC 4760 section 8),
    /// whatever its reserved octet.
    pub fn multiprotocol_family(&self) -> Option<Family> {
        match self {
            Self::Multiprotocol(f) => Some(*f),
            Self::Unknown { code, value } if *code == code::MULTIPROTOCOL => match value.as_ref() {
                [a, b, _, safi] => {
                    Some(Family::new(Afi(u16::from_be_bytes([*a, *b])), Safi(*safi)))
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub fn code(&self) -> u8 {
        match self {
            Self::Multiprotocol(_) => code::MULTIPROTOCOL,
            Self::RouteRefresh => code::ROUTE_REFRESH,
            Self::RouteRefreshCisco => code::ROUTE_REFRESH_CISCO,
            Self::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            Self::FourOctetAs(_) => code::FOUR_OCTET_AS,
            Self::GracefulRestart(_) => code::GRACEFUL_RESTART,
            Self::ExtendedMessage => code::EXTENDED_MESSAGE,
            Self::AddPath(_) => code::ADD_PATH,
            Self::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
            Self::Fqdn { .. } => code::FQDN,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// Decode one capability (code, length, value).
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let cap_code = r.u8("capability code")?;
        let len = r.u8("capability length")?;
        let mut v = r.sub(usize::from(len), "capability value")?;
        let wrong_len = |v: &Reader<'_>| {
            DecodeError::new(
                "capability length",
                v.offset().saturating_sub(1),
                DecodeErrorKind::BadLength(len.into()),
            )
        };
        let cap = match cap_code {
            code::MULTIPROTOCOL => {
                if len != 4 {
                    return Err(wrong_len(&v));
                }
                let afi = Afi(v.u16("multiprotocol AFI")?);
                let reserved = v.u8("multiprotocol reserved")?;
                let safi = Safi(v.u8("multiprotocol SAFI")?);
                if reserved != 0 {
                    // "SHOULD be set to 0 by the sender and ignored by the
                    // receiver": kept raw so the OPEN re-encodes as sent;
                    // `multiprotocol_family` still reads its family.
                    Self::Unknown {
                        code: code::MULTIPROTOCOL,
                        value: Bytes::copy_from_slice(&value_bytes(afi, reserved, safi)),
                    }
                } else {
                    Self::Multiprotocol(Family::new(afi, safi))
                }
            }
            code::ROUTE_REFRESH
            | code::ROUTE_REFRESH_CISCO
            | code::ENHANCED_ROUTE_REFRESH
            | code::EXTENDED_MESSAGE => {
                if len != 0 {
                    return Err(wrong_len(&v));
                }
                match cap_code {
                    code::ROUTE_REFRESH => Self::RouteRefresh,
                    code::ROUTE_REFRESH_CISCO => Self::RouteRefreshCisco,
                    code::ENHANCED_ROUTE_REFRESH => Self::EnhancedRouteRefresh,
                    _ => Self::ExtendedMessage,
                }
            }
            code::FOUR_OCTET_AS => {
                if len != 4 {
                    return Err(wrong_len(&v));
                }
                Self::FourOctetAs(v.u32("4-octet AS")?)
            }
            code::GRACEFUL_RESTART => {
                if len < 2 || !(len - 2).is_multiple_of(4) {
                    return Err(wrong_len(&v));
                }
                let head = v.u16("graceful restart flags and time")?;
                let mut families = Vec::new();
                while !v.is_empty() {
                    families.push(GracefulRestartFamily {
                        family: family(&mut v)?,
                        flags: v.u8("graceful restart family flags")?,
                    });
                }
                Self::GracefulRestart(GracefulRestart {
                    flags: (head >> 12) as u8,
                    restart_time: head & 0x0fff,
                    families,
                })
            }
            code::ADD_PATH => {
                if !len.is_multiple_of(4) {
                    return Err(wrong_len(&v));
                }
                let mut entries = Vec::new();
                while !v.is_empty() {
                    entries.push(AddPathFamily {
                        family: family(&mut v)?,
                        send_receive: v.u8("ADD-PATH send/receive")?,
                    });
                }
                Self::AddPath(entries)
            }
            code::EXTENDED_NEXT_HOP => {
                let value = v.rest();
                match extended_next_hop(value) {
                    Some(entries) => Self::ExtendedNextHop(entries),
                    None => Self::Unknown {
                        code: code::EXTENDED_NEXT_HOP,
                        value: Bytes::copy_from_slice(value),
                    },
                }
            }
            code::FQDN => {
                let value = v.rest();
                match fqdn(value) {
                    Some((hostname, domain_name)) => Self::Fqdn {
                        hostname,
                        domain_name,
                    },
                    None => Self::Unknown {
                        code: code::FQDN,
                        value: Bytes::copy_from_slice(value),
                    },
                }
            }
            code => Self::Unknown {
                code,
                value: Bytes::copy_from_slice(v.rest()),
            },
        };
        v.finish("capability value")?;
        Ok(cap)
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.code());
        let len_at = out.len();
        out.put_u8(0);
        match self {
            Self::Multiprotocol(f) => {
                out.put_u16(f.afi.0);
                out.put_u8(0);
                out.put_u8(f.safi.0);
            }
            Self::RouteRefresh
            | Self::RouteRefreshCisco
            | Self::EnhancedRouteRefresh
            | Self::ExtendedMessage => {}
            Self::FourOctetAs(asn) => out.put_u32(*asn),
            Self::GracefulRestart(gr) => {
                out.put_u16((u16::from(gr.flags & 0xf) << 12) | (gr.restart_time & 0x0fff));
                for f in &gr.families {
                    out.put_u16(f.family.afi.0);
                    out.put_u8(f.family.safi.0);
                    out.put_u8(f.flags);
                }
            }
            Self::AddPath(entries) => {
                for e in entries {
                    out.put_u16(e.family.afi.0);
                    out.put_u8(e.family.safi.0);
                    out.put_u8(e.send_receive);
                }
            }
            Self::ExtendedNextHop(entries) => {
                for e in entries {
                    out.put_u16(e.family.afi.0);
                    out.put_u16(u16::from(e.family.safi.0));
                    out.put_u16(e.next_hop_afi.0);
                }
            }
            Self::Fqdn {
                hostname,
                domain_name,
            } => {
                // Each name is at most 255 octets on the wire: longer ones
                // (only built by hand) are cut so the lengths stay true.
                for name in [hostname, domain_name] {
                    let name = name.as_bytes();
                    let name = name.get(..usize::from(u8::MAX)).unwrap_or(name);
                    out.put_u8(name.len() as u8);
                    out.put_slice(name);
                }
            }
            Self::Unknown { value, .. } => out.put_slice(value),
        }
        // Values never exceed 255 octets for the known kinds evpnd builds;
        // an oversized unknown value is truncated in the length only.
        out[len_at] = (out.len() - len_at - 1) as u8;
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Multiprotocol(fam) => write!(f, "multiprotocol {fam}"),
            Self::RouteRefresh => f.write_str("route-refresh"),
            Self::RouteRefreshCisco => f.write_str("route-refresh (old)"),
            Self::EnhancedRouteRefresh => f.write_str("enhanced route-refresh"),
            Self::FourOctetAs(asn) => write!(f, "4-octet AS {asn}"),
            Self::GracefulRestart(gr) => write!(
                f,
                "graceful restart time {}s{}{}",
                gr.restart_time,
                if gr.restart_state() {
                    " restarting"
                } else {
                    ""
                },
                if gr.notification() { " N" } else { "" }
            ),
            Self::ExtendedMessage => f.write_str("extended message"),
            Self::AddPath(entries) => {
                f.write_str("add-path")?;
                for e in entries {
                    write!(f, " {}:{}", e.family, e.send_receive)?;
                }
                Ok(())
            }
            Self::ExtendedNextHop(entries) => {
                f.write_str("extended next hop")?;
                for e in entries {
                    write!(f, " {} nexthop-afi {}", e.family, e.next_hop_afi.0)?;
                }
                Ok(())
            }
            Self::Fqdn {
                hostname,
                domain_name,
            } => {
                write!(f, "hostname {hostname:?}")?;
                if !domain_name.is_empty() {
                    write!(f, " domain {domain_name:?}")?;
                }
                Ok(())
            }
            Self::Unknown { code, value } => {
                write!(f, "capability {code} ")?;
                super::mac::write_hex(f, value)
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(wire: &[u8]) -> DecodeResult<Vec<Capability>> {
        let mut r = Reader::new(wire);
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(Capability::decode(&mut r)?);
        }
        Ok(out)
    }

    #[test]
    fn decodes_frr_capabilities() {
        // From FRR's OPEN in proto-tests/vectors/frr/: MP l2vpn/evpn, route refresh
        // (128 and 2), enhanced RR, 4-octet AS 65000, ADD-PATH, GR.
        let wire = hex("01040019 0046 8000 0200 4600 41040000fde8 450400194601 4002c078");
        let caps = decode_all(&wire).unwrap();
        assert_eq!(
            caps[..5],
            [
                Capability::Multiprotocol(Family::L2VPN_EVPN),
                Capability::RouteRefreshCisco,
                Capability::RouteRefresh,
                Capability::EnhancedRouteRefresh,
                Capability::FourOctetAs(65000),
            ]
        );
        assert_eq!(
            caps[5],
            Capability::AddPath(vec![AddPathFamily {
                family: Family::L2VPN_EVPN,
                send_receive: 1
            }])
        );
        let Capability::GracefulRestart(gr) = &caps[6] else {
            panic!("not GR: {:?}", caps[6]);
        };
        assert_eq!(gr.restart_time, 120);
        assert!(gr.restart_state() && gr.notification());
        let mut out = BytesMut::new();
        caps.iter().for_each(|c| c.encode(&mut out));
        assert_eq!(&out[..], &wire[..]);
    }

    /// Found by the `message` fuzz target: a Multiprotocol capability with a
    /// non-zero reserved octet must re-encode as sent, and still count.
    #[test]
    fn multiprotocol_reserved_octet_is_kept_and_ignored() {
        let wire = [1, 4, 0x00, 0x19, 0x07, 0x46];
        let caps = decode_all(&wire).unwrap();
        assert_eq!(caps[0].multiprotocol_family(), Some(Family::L2VPN_EVPN));
        let mut out = BytesMut::new();
        caps[0].encode(&mut out);
        assert_eq!(out.as_ref(), &wire);
    }

    /// GoBGP 3.10's OPEN (proto-tests/vectors/gobgp/messages.txt msg 0):
    /// extended next hop for L2VPN EVPN with IPv6 (AFI 2) next hops.
    #[test]
    fn decodes_gobgp_extended_next_hop() {
        let wire = hex("0506 0019 0046 0002");
        let caps = decode_all(&wire).unwrap();
        assert_eq!(
            caps,
            [Capability::ExtendedNextHop(vec![ExtendedNextHopFamily {
                family: Family::L2VPN_EVPN,
                next_hop_afi: Afi(2),
            }])]
        );
        assert_eq!(
            caps[0].to_string(),
            "extended next hop l2vpn-evpn nexthop-afi 2"
        );
        let mut out = BytesMut::new();
        caps[0].encode(&mut out);
        assert_eq!(&out[..], &wire[..]);
        // Not whole triples, or a SAFI above 255: kept as sent, not refused.
        for odd in [hex("0505 0019 0046 00"), hex("0506 0019 0146 0002")] {
            let caps = decode_all(&odd).unwrap();
            assert!(matches!(caps[0], Capability::Unknown { code: 5, .. }));
            let mut out = BytesMut::new();
            caps[0].encode(&mut out);
            assert_eq!(&out[..], &odd[..]);
        }
    }

    /// GoBGP 3.10's and FRR 8.4's OPENs (proto-tests/vectors/gobgp msg 0,
    /// frr/bgp-evpn-messages.txt): hostname, no domain name.
    #[test]
    fn decodes_gobgp_and_frr_hostnames() {
        for (wire, hostname) in [
            (hex("4909 07 766363762d6762 00"), "vccv-gb"),
            (hex("4904 02 6e31 00"), "n1"),
        ] {
            let caps = decode_all(&wire).unwrap();
            assert_eq!(
                caps,
                [Capability::Fqdn {
                    hostname: hostname.to_owned(),
                    domain_name: String::new()
                }]
            );
            assert_eq!(caps[0].to_string(), format!("hostname {hostname:?}"));
            let mut out = BytesMut::new();
            caps[0].encode(&mut out);
            assert_eq!(&out[..], &wire[..]);
        }
        let with_domain = Capability::Fqdn {
            hostname: "n1".into(),
            domain_name: "lab".into(),
        };
        assert_eq!(with_domain.to_string(), "hostname \"n1\" domain \"lab\"");
        // Lengths that do not add up, or names that are not UTF-8: kept as
        // sent, not refused.
        for odd in [
            hex("4903 02 6e31"),
            hex("4905 02 6e31 0200"),
            hex("4904 02 ff31 00"),
        ] {
            let caps = decode_all(&odd).unwrap();
            assert!(matches!(caps[0], Capability::Unknown { code: 73, .. }));
            let mut out = BytesMut::new();
            caps[0].encode(&mut out);
            assert_eq!(&out[..], &odd[..]);
        }
    }

    #[test]
    fn rejects_wrong_lengths() {
        assert!(decode_all(&[65, 2, 0, 1]).is_err());
        assert!(decode_all(&[2, 1, 0]).is_err());
        assert!(decode_all(&[64, 3, 0, 0, 0]).is_err());
        assert!(decode_all(&[1, 5, 0, 1, 0, 1]).is_err());
    }

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    pub(crate) fn arb_capability() -> impl Strategy<Value = Capability> {
        let fam = (any::<u16>(), any::<u8>()).prop_map(|(a, s)| Family::new(Afi(a), Safi(s)));
        prop_oneof![
            fam.clone().prop_map(Capability::Multiprotocol),
            Just(Capability::RouteRefresh),
            Just(Capability::RouteRefreshCisco),
            Just(Capability::EnhancedRouteRefresh),
            Just(Capability::ExtendedMessage),
            any::<u32>().prop_map(Capability::FourOctetAs),
            (
                0u8..16,
                0u16..4096,
                proptest::collection::vec((fam.clone(), any::<u8>()), 0..5)
            )
                .prop_map(|(flags, restart_time, fs)| Capability::GracefulRestart(
                    GracefulRestart {
                        flags,
                        restart_time,
                        families: fs
                            .into_iter()
                            .map(|(family, flags)| GracefulRestartFamily { family, flags })
                            .collect()
                    }
                )),
            proptest::collection::vec((fam.clone(), any::<u16>()), 0..5).prop_map(|es| {
                Capability::ExtendedNextHop(
                    es.into_iter()
                        .map(|(family, afi)| ExtendedNextHopFamily {
                            family,
                            next_hop_afi: Afi(afi),
                        })
                        .collect(),
                )
            }),
            ("[a-z0-9.-]{0,20}", "[a-z.]{0,12}").prop_map(|(hostname, domain_name)| {
                Capability::Fqdn {
                    hostname,
                    domain_name,
                }
            }),
            proptest::collection::vec((fam, 1u8..=3), 0..5).prop_map(|es| Capability::AddPath(
                es.into_iter()
                    .map(|(family, send_receive)| AddPathFamily {
                        family,
                        send_receive
                    })
                    .collect()
            )),
            (
                prop_oneof![Just(71u8), 129..=255u8],
                proptest::collection::vec(any::<u8>(), 0..40)
            )
                .prop_map(|(code, v)| Capability::Unknown {
                    code,
                    value: v.into()
                }),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(cap in arb_capability()) {
            let mut out = BytesMut::new();
            cap.encode(&mut out);
            let mut r = Reader::new(&out);
            prop_assert_eq!(Capability::decode(&mut r).unwrap(), cap);
            prop_assert!(r.is_empty());
        }
    }
}
