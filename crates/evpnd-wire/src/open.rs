//! OPEN message (RFC 4271 section 4.2) with optional parameters (RFC 5492
//! section 4 capabilities; RFC 9072 extended optional parameters length).

use super::as_path::AS_TRANS;
use super::capability::{AddPathFamily, Capability, GracefulRestart};
use super::error::{DecodeError, DecodeErrorKind, DecodeResult};
use super::family::Family;
use super::mac::serialize_hex;
use super::notification::{ErrorCode, Notification, OpenSubcode};
use super::reader::Reader;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::Ipv4Addr;

/// RFC 4271 section 4.2: the version evpnd speaks.
pub const BGP_VERSION: u8 = 4;
/// RFC 5492 section 4: optional parameter type "Capabilities".
pub const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072 section 2: the Non-Ext OP Type marking the extended form.
const PARAM_EXTENDED_LENGTH: u8 = 255;

/// One optional parameter. How capabilities were grouped into parameters is
/// kept, so a received OPEN re-encodes byte-identically.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum OptionalParameter {
    Capabilities(Vec<Capability>),
    Unknown {
        param_type: u8,
        #[serde(serialize_with = "serialize_hex")]
        value: Bytes,
    },
}

/// OPEN message body (RFC 4271 section 4.2).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+
/// |    Version    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     My Autonomous System      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Hold Time           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         BGP Identifier                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Opt Parm Len  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             Optional Parameters (variable)                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// Each parameter: Parm. Type (1) | Parm. Length (1) | Parm. Value.
/// RFC 9072: Opt Parm Len 255 + type 255 + a 2-octet length, and then
/// 2-octet parameter lengths.
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Open {
    pub version: u8,
    /// AS_TRANS when the real AS needs 4 octets (RFC 6793 section 4.1).
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_identifier: Ipv4Addr,
    pub parameters: Vec<OptionalParameter>,
    /// Whether the RFC 9072 extended length form was (or is to be) used.
    pub extended_parameters: bool,
}

impl Open {
    /// An OPEN for `asn` carrying `capabilities` (include
    /// `Capability::FourOctetAs(asn)` yourself, RFC 6793 section 4.1). All
    /// capabilities go into as few parameters as fit 255 octets each.
    pub fn new(asn: u32, hold_time: u16, bgp_identifier: Ipv4Addr, caps: Vec<Capability>) -> Self {
        let mut parameters = Vec::new();
        let mut group: Vec<Capability> = Vec::new();
        let mut group_len = 0;
        for cap in caps {
            let mut scratch = BytesMut::new();
            cap.encode(&mut scratch);
            if group_len + scratch.len() > 255 && !group.is_empty() {
                parameters.push(OptionalParameter::Capabilities(std::mem::take(&mut group)));
                group_len = 0;
            }
            group_len += scratch.len();
            group.push(cap);
        }
        if !group.is_empty() {
            parameters.push(OptionalParameter::Capabilities(group));
        }
        Self {
            version: BGP_VERSION,
            my_as: u16::try_from(asn).unwrap_or(AS_TRANS as u16),
            hold_time,
            bgp_identifier,
            parameters,
            extended_parameters: false,
        }
    }

    pub fn decode(body: &[u8]) -> DecodeResult<Self> {
        Self::decode_from(&mut Reader::new(body))
    }

    pub(crate) fn decode_from(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let version = r.u8("OPEN version")?;
        let my_as = r.u16("OPEN my AS")?;
        let hold_time = r.u16("OPEN hold time")?;
        let bgp_identifier = Ipv4Addr::from(r.array::<4>("OPEN BGP identifier")?);
        let short_len = r.u8("OPEN optional parameters length")?;
        let extended = short_len == 255 && r.peek_rest().first() == Some(&PARAM_EXTENDED_LENGTH);
        let mut params = if extended {
            r.u8("OPEN extended parameters marker")?;
            let len = r.u16("OPEN extended optional parameters length")?;
            r.sub(usize::from(len), "OPEN optional parameters")?
        } else {
            r.sub(usize::from(short_len), "OPEN optional parameters")?
        };
        r.finish("OPEN")?;
        let mut parameters = Vec::new();
        while !params.is_empty() {
            let param_type = params.u8("optional parameter type")?;
            let len = if extended {
                params.u16("optional parameter length")?
            } else {
                params.u8("optional parameter length")?.into()
            };
            let mut value = params.sub(usize::from(len), "optional parameter value")?;
            parameters.push(if param_type == PARAM_CAPABILITIES {
                let mut caps = Vec::new();
                while !value.is_empty() {
                    caps.push(Capability::decode(&mut value)?);
                }
                OptionalParameter::Capabilities(caps)
            } else {
                OptionalParameter::Unknown {
                    param_type,
                    value: Bytes::copy_from_slice(value.rest()),
                }
            });
        }
        Ok(Self {
            version,
            my_as,
            hold_time,
            bgp_identifier,
            parameters,
            extended_parameters: extended,
        })
    }

    /// Each parameter's (type, encoded value).
    fn encoded_parameters(&self) -> Vec<(u8, BytesMut)> {
        self.parameters
            .iter()
            .map(|p| {
                let mut value = BytesMut::new();
                match p {
                    OptionalParameter::Capabilities(caps) => {
                        caps.iter().for_each(|c| c.encode(&mut value));
                        (PARAM_CAPABILITIES, value)
                    }
                    OptionalParameter::Unknown {
                        param_type,
                        value: v,
                    } => {
                        value.put_slice(v);
                        (*param_type, value)
                    }
                }
            })
            .collect()
    }

    /// Whether encoding uses the RFC 9072 form: when asked to, or when the
    /// parameters do not fit the 1-octet lengths (RFC 9072 section 2).
    pub fn uses_extended_parameters(&self) -> bool {
        let params = self.encoded_parameters();
        self.extended_parameters || Self::needs_extended(&params)
    }

    fn needs_extended(params: &[(u8, BytesMut)]) -> bool {
        let total: usize = params.iter().map(|(_, v)| 2 + v.len()).sum();
        total > 255 || params.iter().any(|(_, v)| v.len() > 255)
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.version);
        out.put_u16(self.my_as);
        out.put_u16(self.hold_time);
        out.put_slice(&self.bgp_identifier.octets());
        let params = self.encoded_parameters();
        let extended = self.extended_parameters || Self::needs_extended(&params);
        if extended {
            let total: usize = params.iter().map(|(_, v)| 3 + v.len()).sum();
            out.put_u8(255);
            out.put_u8(PARAM_EXTENDED_LENGTH);
            out.put_u16(total as u16);
        } else {
            out.put_u8(params.iter().map(|(_, v)| 2 + v.len()).sum::<usize>() as u8);
        }
        for (param_type, value) in params {
            out.put_u8(param_type);
            if extended {
                out.put_u16(value.len() as u16);
            } else {
                out.put_u8(value.len() as u8);
            }
            out.put_slice(&value);
        }
    }

    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.parameters.iter().flat_map(|p| match p {
            OptionalParameter::Capabilities(caps) => caps.as_slice(),
            OptionalParameter::Unknown { .. } => &[],
        })
    }

    /// The 4-octet AS capability's value, if announced (RFC 6793 section 3).
    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities().find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
    }

    /// The speaker's AS: the 4-octet capability if present, else My AS
    /// (RFC 6793 section 4.1).
    pub fn asn(&self) -> u32 {
        self.four_octet_as().unwrap_or(self.my_as.into())
    }

    /// Multiprotocol families announced (RFC 4760 section 8).
    pub fn families(&self) -> Vec<Family> {
        self.capabilities()
            .filter_map(Capability::multiprotocol_family)
            .collect()
    }

    pub fn route_refresh(&self) -> bool {
        self.capabilities()
            .any(|c| matches!(c, Capability::RouteRefresh | Capability::RouteRefreshCisco))
    }

    pub fn enhanced_route_refresh(&self) -> bool {
        self.capabilities()
            .any(|c| matches!(c, Capability::EnhancedRouteRefresh))
    }

    pub fn extended_message(&self) -> bool {
        self.capabilities()
            .any(|c| matches!(c, Capability::ExtendedMessage))
    }

    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr),
            _ => None,
        })
    }

    pub fn add_path(&self) -> impl Iterator<Item = &AddPathFamily> {
        self.capabilities().flat_map(|c| match c {
            Capability::AddPath(entries) => entries.as_slice(),
            _ => &[],
        })
    }
}

impl fmt::Display for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OPEN version {} AS {} hold {} id {}",
            self.version,
            self.asn(),
            self.hold_time,
            self.bgp_identifier
        )?;
        for c in self.capabilities() {
            write!(f, "; {c}")?;
        }
        Ok(())
    }
}

/// An OPEN whose optional parameters are not well formed.
pub fn open_error(e: &DecodeError) -> Notification {
    let subcode = match e.kind {
        DecodeErrorKind::BadValue(_) => OpenSubcode::UnsupportedOptionalParameter,
        _ => OpenSubcode::Unspecific,
    };
    Notification::new(ErrorCode::Open(subcode), Bytes::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::tests::{arb_capability, hex};
    use proptest::prelude::*;

    const FRR_OPEN_BODY: &str = "04fde80009c6130001410206010400190046020280000202020002024600020641040000fde802020600020645040019460102064904026e310002044002c0780209470700194680000000";

    #[test]
    fn frr_open_round_trips_and_reports_capabilities() {
        let wire = hex(FRR_OPEN_BODY);
        let open = Open::decode(&wire).unwrap();
        assert_eq!(open.asn(), 65000);
        assert_eq!(open.hold_time, 9);
        assert_eq!(open.bgp_identifier, Ipv4Addr::new(198, 19, 0, 1));
        assert_eq!(open.families(), [Family::L2VPN_EVPN]);
        assert!(open.route_refresh() && open.enhanced_route_refresh());
        let mut out = BytesMut::new();
        open.encode(&mut out);
        assert_eq!(&out[..], &wire[..]);
    }

    #[test]
    fn rfc9072_extended_parameters() {
        let caps: Vec<Capability> = (0..80)
            .map(|i| Capability::Unknown {
                code: 200,
                value: Bytes::from(vec![i as u8; 3]),
            })
            .collect();
        let mut open = Open::new(65000, 90, Ipv4Addr::new(198, 18, 0, 1), caps.clone());
        assert_eq!(open.parameters.len(), 2, "split at 255 octets");
        open.parameters = vec![OptionalParameter::Capabilities(caps)];
        open.extended_parameters = true;
        let mut out = BytesMut::new();
        open.encode(&mut out);
        assert_eq!(&out[9..11], &[255, 255]);
        assert_eq!(Open::decode(&out).unwrap(), open);
    }

    #[test]
    fn a_4_octet_asn_goes_in_my_as_as_as_trans() {
        let as4 = Open::new(4_200_000_000, 90, Ipv4Addr::new(1, 1, 1, 1), vec![]);
        assert_eq!(as4.my_as, 23456);
    }

    proptest! {
        #[test]
        fn round_trip(
            my_as: u16, hold: u16, id: u32, extended: bool,
            groups in proptest::collection::vec(proptest::collection::vec(arb_capability(), 0..4), 0..4),
        ) {
            let open = Open {
                version: 4,
                my_as,
                hold_time: hold,
                bgp_identifier: Ipv4Addr::from(id),
                parameters: groups.into_iter().map(OptionalParameter::Capabilities).collect(),
                extended_parameters: extended,
            };
            let mut out = BytesMut::new();
            open.encode(&mut out);
            let back = Open::decode(&out).unwrap();
            let expected = Open { extended_parameters: open.uses_extended_parameters(), ..open };
            prop_assert_eq!(back, expected);
        }
    }
}
