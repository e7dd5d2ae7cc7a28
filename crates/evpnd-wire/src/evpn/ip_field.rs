//! The IP address fields of EVPN NLRI: an IP Address Length octet in bits
//! and the address it announces (RFC 7432 sections 7.2 to 7.4), shared by
//! the route types that carry them.

use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};
use crate::reader::Reader;
use bytes::{BufMut, BytesMut};
use std::net::IpAddr;

/// Reads an IP Address Length octet (in bits: 32 or 128, or 0 where
/// `allow_zero`; RFC 7432 sections 7.2 to 7.4) and the address it announces,
/// returning the address octets (0, 4 or 16 of them).
pub(crate) fn read_ip_with_bit_length<'a>(
    r: &mut Reader<'a>,
    length_field: &'static str,
    address_field: &'static str,
    allow_zero: bool,
) -> DecodeResult<&'a [u8]> {
    let length_offset = r.offset();
    let bits = r.u8(length_field)?;
    let len = match bits {
        0 if allow_zero => 0,
        32 => 4,
        128 => 16,
        _ => {
            return Err(DecodeError::new(
                length_field,
                length_offset,
                DecodeErrorKind::BadValue(u64::from(bits)),
            ));
        }
    };
    r.bytes(len, address_field)
}

/// Writes an IP Address Length octet (bits) and the address; `None` is a
/// zero length and no address.
pub(crate) fn encode_ip_with_bit_length(ip: Option<IpAddr>, out: &mut BytesMut) {
    match ip {
        None => out.put_u8(0),
        Some(IpAddr::V4(v4)) => {
            out.put_u8(32);
            out.put_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            out.put_u8(128);
            out.put_slice(&v6.octets());
        }
    }
}

/// Octets of an address on the wire.
pub(crate) fn ip_wire_len(ip: IpAddr) -> usize {
    match ip {
        IpAddr::V4(_) => 4,
        IpAddr::V6(_) => 16,
    }
}
