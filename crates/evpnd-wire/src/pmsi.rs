//! The PMSI_TUNNEL path attribute (type code 22): how an EVPN type-3 route
//! says BUM traffic reaches its originator.

use super::error::{DecodeErrorKind, DecodeResult};
use super::mac::serialize_hex;
use super::reader::Reader;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Tunnel types (RFC 6514 section 5; IANA "P-Multicast Service Interface
/// Tunnel (PMSI Tunnel) Tunnel Types").
pub mod pmsi_tunnel_type {
    pub const NO_TUNNEL_INFO: u8 = 0;
    pub const RSVP_TE_P2MP: u8 = 1;
    pub const MLDP_P2MP: u8 = 2;
    pub const PIM_SSM: u8 = 3;
    pub const PIM_SM: u8 = 4;
    pub const BIDIR_PIM: u8 = 5;
    /// The only type EVPN over VXLAN uses in practice (RFC 8365 section 5.1.3).
    pub const INGRESS_REPLICATION: u8 = 6;
    pub const MLDP_MP2MP: u8 = 7;
}

/// Fixed part of the attribute: flags, tunnel type, label.
const PMSI_FIXED_LEN: usize = 5;

/// The tunnel identifier, typed for ingress replication.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum PmsiTunnelId {
    /// Type 6 (RFC 6514 section 5; RFC 7432 section 11.1): the unicast
    /// tunnel endpoint, the originating VTEP's address (4 or 16 octets).
    IngressReplication { endpoint: IpAddr },
    /// Any other type, or a type-6 identifier of another length: the
    /// identifier octets as received, reflected unchanged.
    Other {
        tunnel_type: u8,
        #[serde(serialize_with = "serialize_hex")]
        identifier: Bytes,
    },
}

/// PMSI tunnel attribute (RFC 6514 section 5; used by EVPN per RFC 7432
/// section 11.1 and RFC 8365 section 5.1.3):
///
/// ```text
/// +---------------------------------+
/// |  Flags (1 octet)                |
/// +---------------------------------+
/// |  Tunnel Type (1 octets)         |
/// +---------------------------------+
/// |  MPLS Label (3 octets)          |
/// +---------------------------------+
/// |  Tunnel Identifier (variable)   |
/// +---------------------------------+
/// ```
///
/// For VXLAN the label field carries the whole 24-bit VNI, never shifted
/// (RFC 8365 section 5.1.3; FRR sends VNI 10 as `00000a`), so it is stored
/// raw in [`PmsiTunnel::label`] and read through [`PmsiTunnel::vni`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PmsiTunnel {
    /// RFC 6514 section 5: bit 0x01 is "Leaf Information Required".
    pub flags: u8,
    /// The raw 3-octet label field (only the low 24 bits are used).
    pub label: u32,
    pub tunnel: PmsiTunnelId,
}

impl PmsiTunnel {
    /// RFC 6514 section 5: "Leaf Information Required".
    pub const FLAG_LEAF_INFO_REQUIRED: u8 = 0x01;

    /// The ingress-replication PMSI an EVPN-VXLAN type-3 route carries
    /// (RFC 8365 section 5.1.3): flags 0, the VNI in the label, the VTEP.
    pub fn ingress_replication(vni: u32, endpoint: IpAddr) -> Self {
        Self {
            flags: 0,
            label: vni & 0x00ff_ffff,
            tunnel: PmsiTunnelId::IngressReplication { endpoint },
        }
    }

    /// The VXLAN VNI: the whole 24-bit label field (RFC 8365 section 5.1.3).
    pub fn vni(&self) -> u32 {
        self.label & 0x00ff_ffff
    }

    pub fn tunnel_type(&self) -> u8 {
        match &self.tunnel {
            PmsiTunnelId::IngressReplication { .. } => pmsi_tunnel_type::INGRESS_REPLICATION,
            PmsiTunnelId::Other { tunnel_type, .. } => *tunnel_type,
        }
    }

    /// Decodes the attribute value (`value` = the attribute's value octets;
    /// `base_offset` = their absolute offset, for error reports).
    pub fn decode(value: &[u8], base_offset: usize) -> DecodeResult<Self> {
        let mut r = Reader::with_base(value, base_offset);
        if value.len() < PMSI_FIXED_LEN {
            return Err(r.error(
                "PMSI tunnel attribute length",
                DecodeErrorKind::BadLength(value.len()),
            ));
        }
        let flags = r.u8("PMSI flags")?;
        let tunnel_type = r.u8("PMSI tunnel type")?;
        let label = r.u24("PMSI label")?;
        let identifier = r.rest();
        let tunnel = match (tunnel_type, identifier.len()) {
            (pmsi_tunnel_type::INGRESS_REPLICATION, 4 | 16) => PmsiTunnelId::IngressReplication {
                endpoint: ip_from_slice(identifier),
            },
            _ => PmsiTunnelId::Other {
                tunnel_type,
                identifier: Bytes::copy_from_slice(identifier),
            },
        };
        Ok(Self {
            flags,
            label,
            tunnel,
        })
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.flags);
        out.put_u8(self.tunnel_type());
        out.put_slice(&self.label.to_be_bytes()[1..]);
        match &self.tunnel {
            PmsiTunnelId::IngressReplication {
                endpoint: IpAddr::V4(v4),
            } => out.put_slice(&v4.octets()),
            PmsiTunnelId::IngressReplication {
                endpoint: IpAddr::V6(v6),
            } => out.put_slice(&v6.octets()),
            PmsiTunnelId::Other { identifier, .. } => out.put_slice(identifier),
        }
    }

    /// Length of the encoded attribute value.
    pub fn encoded_len(&self) -> usize {
        PMSI_FIXED_LEN
            + match &self.tunnel {
                PmsiTunnelId::IngressReplication {
                    endpoint: IpAddr::V4(_),
                } => 4,
                PmsiTunnelId::IngressReplication {
                    endpoint: IpAddr::V6(_),
                } => 16,
                PmsiTunnelId::Other { identifier, .. } => identifier.len(),
            }
    }
}

/// An IPv4 or IPv6 address from a slice the caller has checked is 4 or 16
/// octets long; any other length yields the unspecified IPv4 address rather
/// than a panic.
pub(crate) fn ip_from_slice(bytes: &[u8]) -> IpAddr {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        IpAddr::V4(Ipv4Addr::from(v4))
    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        IpAddr::V6(Ipv6Addr::from(v6))
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

impl fmt::Display for PmsiTunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flags {}, ", self.flags)?;
        match &self.tunnel {
            PmsiTunnelId::IngressReplication { endpoint } => write!(
                f,
                "type IngressReplication, label {}, endpoint {endpoint}",
                self.label
            ),
            PmsiTunnelId::Other {
                tunnel_type,
                identifier,
            } => {
                write!(f, "type {tunnel_type}, label {}, id 0x", self.label)?;
                super::mac::write_hex(f, identifier)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_to_vec(p: &PmsiTunnel) -> Vec<u8> {
        let mut out = BytesMut::new();
        p.encode(&mut out);
        assert_eq!(out.len(), p.encoded_len());
        out.to_vec()
    }

    /// FRR 8.4.4's type-3 PMSI for VNI 10 from 198.19.0.1 (msg 62 of
    /// proto-tests/vectors/frr/bgp-evpn-messages.txt): the VNI fills the whole label, `00000a`, not shifted.
    #[test]
    fn decodes_frr_ingress_replication_with_unshifted_vni() {
        let value = [0x00, 0x06, 0x00, 0x00, 0x0a, 198, 19, 0, 1];
        let pmsi = PmsiTunnel::decode(&value, 0).unwrap();
        assert_eq!(
            pmsi,
            PmsiTunnel::ingress_replication(10, "198.19.0.1".parse().unwrap())
        );
        assert_eq!(pmsi.vni(), 10);
        assert_eq!(pmsi.tunnel_type(), pmsi_tunnel_type::INGRESS_REPLICATION);
        assert_eq!(encode_to_vec(&pmsi), value);
        assert_eq!(
            pmsi.to_string(),
            "flags 0, type IngressReplication, label 10, endpoint 198.19.0.1"
        );
        assert_eq!(
            serde_json::to_value(&pmsi).unwrap(),
            serde_json::json!({
                "flags": 0, "label": 10,
                "tunnel": {"type": "ingress-replication", "endpoint": "198.19.0.1"}
            })
        );
    }

    #[test]
    fn ipv6_endpoint_and_other_types_round_trip() {
        let mut v6 = vec![0x01, 0x06, 0xff, 0xff, 0xff];
        v6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        let pmsi = PmsiTunnel::decode(&v6, 0).unwrap();
        assert_eq!(pmsi.vni(), 0xff_ffff);
        assert_eq!(
            pmsi.tunnel,
            PmsiTunnelId::IngressReplication {
                endpoint: "2001:db8::1".parse().unwrap()
            }
        );
        assert_eq!(encode_to_vec(&pmsi), v6);

        // A type-6 identifier of an odd length is kept, not misread.
        let odd = [0, 6, 0, 0, 1, 10, 0, 0];
        let pmsi = PmsiTunnel::decode(&odd, 0).unwrap();
        assert!(matches!(
            pmsi.tunnel,
            PmsiTunnelId::Other { tunnel_type: 6, .. }
        ));
        assert_eq!(encode_to_vec(&pmsi), odd);

        let pim = [
            0,
            pmsi_tunnel_type::PIM_SM,
            0,
            0,
            0,
            1,
            2,
            3,
            4,
            239,
            1,
            1,
            1,
        ];
        let pmsi = PmsiTunnel::decode(&pim, 0).unwrap();
        assert_eq!(pmsi.tunnel_type(), pmsi_tunnel_type::PIM_SM);
        assert_eq!(encode_to_vec(&pmsi), pim);
    }

    #[test]
    fn short_value_is_an_error_at_its_offset() {
        let err = PmsiTunnel::decode(&[0, 6, 0, 0], 57).unwrap_err();
        assert_eq!(err.offset, 57);
        assert_eq!(err.kind, DecodeErrorKind::BadLength(4));
    }

    proptest! {
        #[test]
        fn any_value_of_five_or_more_bytes_round_trips(
            value in proptest::collection::vec(any::<u8>(), 5..40)
        ) {
            let pmsi = PmsiTunnel::decode(&value, 0).unwrap();
            prop_assert_eq!(encode_to_vec(&pmsi), value);
        }

        #[test]
        fn typed_values_round_trip(flags in any::<u8>(), label in 0u32..(1 << 24),
                                   v4 in any::<[u8; 4]>(), v6 in any::<[u8; 16]>(),
                                   tunnel_type in any::<u8>(),
                                   id in proptest::collection::vec(any::<u8>(), 0..20)) {
            let typed = [
                PmsiTunnelId::IngressReplication { endpoint: IpAddr::from(v4) },
                PmsiTunnelId::IngressReplication { endpoint: IpAddr::from(v6) },
            ];
            for tunnel in typed {
                let pmsi = PmsiTunnel { flags, label, tunnel };
                prop_assert_eq!(PmsiTunnel::decode(&encode_to_vec(&pmsi), 0).unwrap(), pmsi);
            }
            let other = PmsiTunnel {
                flags, label,
                tunnel: PmsiTunnelId::Other { tunnel_type, identifier: Bytes::from(id) },
            };
            let decoded = PmsiTunnel::decode(&encode_to_vec(&other), 0).unwrap();
            prop_assert_eq!(encode_to_vec(&decoded), encode_to_vec(&other));
        }
    }
}
