//! Route Target membership NLRI (RFC 4684 section 4): AFI 1, SAFI 132, the
//! family by which a speaker says which route targets it imports, so that
//! its peers send it only the VPN (here: EVPN) routes it wants.
//!
//! ```text
//! +-------------------------------+
//! | Length (1 octet, in bits)     |   0, or 32 to 96
//! +-------------------------------+
//! | origin AS (4 octets)          |   present when Length >= 32
//! +-------------------------------+
//! | route target (0 to 8 octets)  |   ceil((Length - 32) / 8) octets
//! +-------------------------------+
//! ```
//! The NLRI is a prefix over the 12 octets "origin AS, route target":
//! Length 0 is the *default* route target, which asks for every route
//! (RFC 4684 section 3: "default route target"); Length 96 names one
//! route target; lengths between 32 and 96 name every route target with
//! that leading part (e.g. all of one Global Administrator's).

use super::error::{DecodeError, DecodeErrorKind, DecodeResult};
use super::extcomm::RouteTarget;
use super::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;

/// Length of the whole prefix when it names one route target: 4 octets of
/// origin AS and 8 of route target (RFC 4684 section 4).
pub const FULL_LENGTH_BITS: u8 = 96;
/// RFC 4684 section 4: "except for the default route target, which is
/// encoded as a 0-length prefix, the minimum prefix length is 32 bits".
pub const MIN_NONDEFAULT_LENGTH_BITS: u8 = 32;

/// One RT membership NLRI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RtMembership {
    /// Length 0: the default route target, membership in every route
    /// target (RFC 4684 sections 3 and 4).
    Default,
    /// `target_bits` leading bits (0-64) of `target`, announced by
    /// `origin_as`. Bits of `target` past `target_bits` are kept as
    /// received, so re-encoding is byte-identical, and ignored by
    /// [`RtMembership::covers`] (RFC 4271 section 4.3: "irrelevant").
    Target {
        origin_as: u32,
        #[serde(serialize_with = "super::mac::serialize_hex")]
        target: [u8; 8],
        target_bits: u8,
    },
}

impl RtMembership {
    /// Membership in exactly `rt`, as a speaker announces an import RT.
    pub fn exact(origin_as: u32, rt: RouteTarget) -> Self {
        RtMembership::Target {
            origin_as,
            target: rt.to_bytes(),
            target_bits: 64,
        }
    }

    /// The prefix length in bits as on the wire.
    pub fn length_bits(&self) -> u8 {
        match *self {
            RtMembership::Default => 0,
            RtMembership::Target { target_bits, .. } => MIN_NONDEFAULT_LENGTH_BITS + target_bits,
        }
    }

    /// Does this membership ask for routes carrying the route target whose
    /// 8 extended-community octets are `rt`? RFC 4684 section 3: a route is
    /// advertised to a peer when one of its route targets matches one of
    /// the peer's RT membership prefixes. The origin AS does not take part
    /// in the match (it tells who asked, for the reflector's own choice of
    /// paths, section 3.2).
    pub fn covers(&self, rt: &[u8; 8]) -> bool {
        match *self {
            RtMembership::Default => true,
            RtMembership::Target {
                target,
                target_bits,
                ..
            } => {
                let bits = usize::from(target_bits);
                let whole = bits / 8;
                if target[..whole] != rt[..whole] {
                    return false;
                }
                let rest = bits % 8;
                rest == 0 || {
                    let mask = 0xffu8 << (8 - rest);
                    target[whole] & mask == rt[whole] & mask
                }
            }
        }
    }

    /// The route target named, when the prefix is a whole one.
    pub fn route_target(&self) -> Option<RouteTarget> {
        match *self {
            RtMembership::Target {
                target,
                target_bits: 64,
                ..
            } => RouteTarget::from_bytes(target),
            _ => None,
        }
    }

    /// Decode one NLRI.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let len_offset = r.offset();
        let len = r.u8("RT membership length")?;
        if len == 0 {
            return Ok(RtMembership::Default);
        }
        // RFC 4684 section 4: 32 to 96 bits, or 0.
        if !(MIN_NONDEFAULT_LENGTH_BITS..=FULL_LENGTH_BITS).contains(&len) {
            return Err(DecodeError::new(
                "RT membership length",
                len_offset,
                DecodeErrorKind::BadValue(len.into()),
            ));
        }
        let origin_as = r.u32("RT membership origin AS")?;
        let target_bits = len - MIN_NONDEFAULT_LENGTH_BITS;
        let octets = r.bytes(
            usize::from(target_bits).div_ceil(8),
            "RT membership route target",
        )?;
        let mut target = [0u8; 8];
        target[..octets.len()].copy_from_slice(octets);
        Ok(RtMembership::Target {
            origin_as,
            target,
            target_bits,
        })
    }

    /// Decode a whole MP_REACH / MP_UNREACH NLRI field of AFI 1 / SAFI 132.
    pub fn decode_all(buf: &[u8]) -> DecodeResult<Vec<Self>> {
        Self::decode_all_at(buf, 0)
    }

    /// As [`decode_all`](Self::decode_all), offsets counted from `base`.
    pub fn decode_all_at(buf: &[u8], base: usize) -> DecodeResult<Vec<Self>> {
        let mut r = Reader::with_base(buf, base);
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(Self::decode(&mut r)?);
        }
        Ok(out)
    }

    /// Check a field's syntax (RFC 7606 section 5.3) without allocating;
    /// the number of NLRI.
    pub fn validate_all(buf: &[u8], base: usize) -> DecodeResult<usize> {
        let mut r = Reader::with_base(buf, base);
        let mut count = 0;
        while !r.is_empty() {
            Self::decode(&mut r)?;
            count += 1;
        }
        Ok(count)
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.length_bits());
        if let RtMembership::Target {
            origin_as,
            target,
            target_bits,
        } = *self
        {
            out.put_u32(origin_as);
            out.put_slice(&target[..usize::from(target_bits).div_ceil(8)]);
        }
    }

    /// The NLRI's wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = BytesMut::with_capacity(13);
        self.encode(&mut out);
        out.to_vec()
    }
}

/// As GoBGP prints it: `65000:65000:10` (origin AS, route target), a
/// partial prefix as `65000:0002fde8/48` (the route target octets the
/// length covers, then the whole length), `default` for length 0.
impl fmt::Display for RtMembership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RtMembership::Default => f.write_str("default"),
            RtMembership::Target {
                origin_as,
                target,
                target_bits,
            } => match self.route_target() {
                Some(rt) => write!(f, "{origin_as}:{rt}"),
                None => {
                    write!(f, "{origin_as}:")?;
                    for b in &target[..usize::from(target_bits).div_ceil(8)] {
                        write!(f, "{b:02x}")?;
                    }
                    write!(f, "/{}", self.length_bits())
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// GoBGP 3.10's RTC route for its VRF importing 65000:10, from
    /// proto-tests/vectors/gobgp-rtc/messages.txt msg 4 (the NLRI of its
    /// MP_REACH_NLRI).
    const GOBGP_65000_10: [u8; 13] = [
        0x60, 0x00, 0x00, 0xfd, 0xe8, 0x00, 0x02, 0xfd, 0xe8, 0x00, 0x00, 0x00, 0x0a,
    ];

    #[test]
    fn decodes_a_whole_route_target_as_gobgp_sends_it() {
        let got = RtMembership::decode_all(&GOBGP_65000_10).unwrap();
        let want = RtMembership::exact(65000, "65000:10".parse().unwrap());
        assert_eq!(got, [want]);
        assert_eq!(want.to_string(), "65000:65000:10");
        assert_eq!(want.to_bytes(), GOBGP_65000_10);
    }

    #[test]
    fn length_zero_is_the_default_route_target_and_covers_everything() {
        // RFC 4684 section 4: the default route target is a 0-length prefix.
        let got = RtMembership::decode_all(&[0]).unwrap();
        assert_eq!(got, [RtMembership::Default]);
        assert!(RtMembership::Default.covers(&[0xff; 8]));
        assert_eq!(RtMembership::Default.to_bytes(), [0]);
        assert_eq!(RtMembership::Default.to_string(), "default");
    }

    #[test]
    fn lengths_between_1_and_31_and_past_96_are_errors() {
        // RFC 4684 section 4: 0, or at least 32 (the origin AS); at most 96.
        for bad in [1u8, 31, 97, 255] {
            let err = RtMembership::decode_all(&[bad, 0, 0, 0xfd, 0xe8]).unwrap_err();
            assert_eq!(err.field, "RT membership length");
            assert_eq!(err.kind, DecodeErrorKind::BadValue(bad.into()));
            assert_eq!(err.offset, 0);
        }
        let truncated = RtMembership::decode_all(&GOBGP_65000_10[..12]).unwrap_err();
        assert_eq!(truncated.field, "RT membership route target");
    }

    #[test]
    fn a_prefix_covers_the_route_targets_it_leads() {
        // 32 + 48 bits: type 0x0002 and Global Administrator 65000, any
        // Local Administrator whose first 16 bits are zero.
        let wire = [80u8, 0, 0, 0xfd, 0xe8, 0x00, 0x02, 0xfd, 0xe8, 0, 0];
        let [m] = RtMembership::decode_all(&wire).unwrap()[..] else {
            panic!("one NLRI");
        };
        let rt = |s: &str| s.parse::<RouteTarget>().unwrap().to_bytes();
        assert!(m.covers(&rt("65000:10")));
        assert!(m.covers(&rt("65000:65535")));
        assert!(!m.covers(&rt("65000:65536")));
        assert!(!m.covers(&rt("65001:10")));
        assert_eq!(m.route_target(), None);
        assert_eq!(m.to_string(), "65000:0002fde80000/80");
        // A length that ends inside an octet compares its leading bits only.
        let half = RtMembership::Target {
            origin_as: 1,
            target: [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 0x0f],
            target_bits: 60,
        };
        assert!(half.covers(&rt("65000:10")));
        assert!(!half.covers(&rt("65000:16")));
    }

    fn arb_membership() -> impl Strategy<Value = RtMembership> {
        prop_oneof![
            Just(RtMembership::Default),
            (any::<u32>(), any::<[u8; 8]>(), 0u8..=64).prop_map(|(origin_as, mut target, bits)| {
                // Only the octets the length covers are on the wire.
                target[usize::from(bits).div_ceil(8)..].fill(0);
                RtMembership::Target {
                    origin_as,
                    target,
                    target_bits: bits,
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(m in arb_membership()) {
            prop_assert_eq!(RtMembership::decode_all(&m.to_bytes()).unwrap(), vec![m]);
        }

        #[test]
        fn wire_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(ms) = RtMembership::decode_all(&bytes) {
                let mut out = BytesMut::new();
                ms.iter().for_each(|m| m.encode(&mut out));
                prop_assert_eq!(&out[..], &bytes[..]);
                prop_assert_eq!(RtMembership::validate_all(&bytes, 0), Ok(ms.len()));
            }
        }

        /// A whole route target covers exactly itself.
        #[test]
        fn an_exact_membership_covers_only_its_route_target(a: [u8; 8], b: [u8; 8]) {
            let m = RtMembership::Target { origin_as: 65000, target: a, target_bits: 64 };
            prop_assert!(m.covers(&a));
            prop_assert_eq!(m.covers(&b), a == b);
        }
    }
}
