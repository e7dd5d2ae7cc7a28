//! AS_PATH and AS4_PATH attribute values (RFC 4271 section 4.3 type code 2,
//! section 5.1.2; RFC 6793 section 3 AS4_PATH; RFC 5065 section 3
//! confederation segment types).

use super::error::{DecodeError, DecodeErrorKind, DecodeResult};
use super::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;

/// RFC 6793 section 9: the reserved 2-octet AS standing in for a 4-octet one.
pub const AS_TRANS: u32 = 23456;

/// Path segment type (RFC 4271 section 4.3; RFC 5065 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SegmentType {
    AsSet = 1,
    AsSequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

impl SegmentType {
    fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::AsSet,
            2 => Self::AsSequence,
            3 => Self::ConfedSequence,
            4 => Self::ConfedSet,
            _ => return None,
        })
    }
}

/// One path segment: a type, a count of ASes, and the ASes (2 or 4 octets
/// each, per RFC 6793 section 4: 4 octets once both speakers announced the
/// 4-octet AS capability, and always in AS4_PATH).
///
/// ```text
/// +-----------------+------------------+--------------------------+
/// | segment type (1)| segment length(1)| ASes (length * 2 or 4)   |
/// +-----------------+------------------+--------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Segment {
    pub kind: SegmentType,
    pub asns: Vec<u32>,
}

/// An AS_PATH / AS4_PATH value: a sequence of segments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct AsPath {
    pub segments: Vec<Segment>,
}

impl AsPath {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decode an attribute value. RFC 7606 section 7.2: an unknown segment
    /// type, a segment overrunning the attribute, a lone trailing octet, or
    /// a zero segment length make the AS_PATH malformed.
    pub fn decode(r: &mut Reader<'_>, four_octet: bool) -> DecodeResult<Self> {
        let mut segments = Vec::new();
        while !r.is_empty() {
            let type_offset = r.offset();
            let kind = r.u8("AS_PATH segment type")?;
            let kind = SegmentType::from_u8(kind).ok_or_else(|| {
                DecodeError::new(
                    "AS_PATH segment type",
                    type_offset,
                    DecodeErrorKind::BadValue(kind.into()),
                )
            })?;
            let count = r.u8("AS_PATH segment length")?;
            if count == 0 {
                return Err(DecodeError::new(
                    "AS_PATH segment length",
                    type_offset + 1,
                    DecodeErrorKind::BadLength(0),
                ));
            }
            let width = if four_octet { 4 } else { 2 };
            // Checked against the bytes present before the Vec is sized.
            let mut asr = r.sub(usize::from(count) * width, "AS_PATH segment")?;
            let mut asns = Vec::with_capacity(usize::from(count));
            for _ in 0..count {
                asns.push(if four_octet {
                    asr.u32("AS number")?
                } else {
                    u32::from(asr.u16("AS number")?)
                });
            }
            segments.push(Segment { kind, asns });
        }
        Ok(Self { segments })
    }

    /// Encode as an attribute value. In 2-octet form an AS above 65535 is
    /// written as AS_TRANS (RFC 6793 section 4.2.2); a segment longer than
    /// 255 ASes is split into several of the same type.
    pub fn encode(&self, out: &mut BytesMut, four_octet: bool) {
        for seg in &self.segments {
            for chunk in seg.asns.chunks(255) {
                out.put_u8(seg.kind as u8);
                out.put_u8(chunk.len() as u8);
                for &asn in chunk {
                    if four_octet {
                        out.put_u32(asn);
                    } else {
                        out.put_u16(u16::try_from(asn).unwrap_or(AS_TRANS as u16));
                    }
                }
            }
        }
    }

    /// Path length for best-path selection (RFC 4271 section 9.1.2.2 a: an
    /// AS_SET counts 1; RFC 5065 section 5.3: confederation segments count 0).
    pub fn path_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentType::AsSequence => s.asns.len(),
                SegmentType::AsSet => 1,
                SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
            })
            .sum()
    }

    /// Whether `asn` appears anywhere (RFC 4271 section 9.1.2 loop detection).
    pub fn contains(&self, asn: u32) -> bool {
        self.segments.iter().any(|s| s.asns.contains(&asn))
    }

    /// Prepend `asn` as an eBGP speaker does (RFC 4271 section 5.1.2).
    pub fn prepend(&mut self, asn: u32) {
        match self.segments.first_mut() {
            Some(seg) if seg.kind == SegmentType::AsSequence && seg.asns.len() < 255 => {
                seg.asns.insert(0, asn)
            }
            _ => self.segments.insert(
                0,
                Segment {
                    kind: SegmentType::AsSequence,
                    asns: vec![asn],
                },
            ),
        }
    }

    /// The neighbouring AS (first AS of a leading AS_SEQUENCE), used by
    /// MED comparison (RFC 4271 section 9.1.2.2 c).
    pub fn first_asn(&self) -> Option<u32> {
        let seg = self.segments.first()?;
        (seg.kind == SegmentType::AsSequence)
            .then(|| seg.asns.first().copied())
            .flatten()
    }
}

impl fmt::Display for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.segments {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            let (open, close) = match seg.kind {
                SegmentType::AsSequence => ("", ""),
                SegmentType::AsSet => ("{", "}"),
                SegmentType::ConfedSequence => ("(", ")"),
                SegmentType::ConfedSet => ("[", "]"),
            };
            f.write_str(open)?;
            for (i, asn) in seg.asns.iter().enumerate() {
                if i > 0 {
                    f.write_str(if seg.kind == SegmentType::AsSet {
                        ","
                    } else {
                        " "
                    })?;
                }
                write!(f, "{asn}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_2_and_4_octet_forms() {
        let two = [2u8, 2, 0xfd, 0xe8, 0xfd, 0xe9, 1, 1, 0, 1];
        let p = AsPath::decode(&mut Reader::new(&two), false).unwrap();
        assert_eq!(p.to_string(), "65000 65001 {1}");
        assert_eq!(p.path_len(), 3);
        let mut out = BytesMut::new();
        p.encode(&mut out, false);
        assert_eq!(&out[..], &two);

        let four = [2u8, 1, 0x00, 0x01, 0x00, 0x00];
        let p = AsPath::decode(&mut Reader::new(&four), true).unwrap();
        assert_eq!(p.segments[0].asns, [65536]);
        let mut out = BytesMut::new();
        p.encode(&mut out, false);
        assert_eq!(&out[..], &[2, 1, 0x5b, 0xa0], "AS_TRANS in 2-octet form");
    }

    #[test]
    fn rfc7606_7_2_malformations() {
        for bad in [&[2u8, 0][..], &[2, 2, 0, 1], &[2], &[5, 1, 0, 1]] {
            assert!(
                AsPath::decode(&mut Reader::new(bad), false).is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(
            AsPath::decode(&mut Reader::new(&[]), true).unwrap(),
            AsPath::new()
        );
    }

    #[test]
    fn prepend_and_loop_check() {
        let mut p = AsPath::new();
        p.prepend(65001);
        p.prepend(65000);
        assert_eq!(p.to_string(), "65000 65001");
        assert!(p.contains(65001));
        assert_eq!(p.first_asn(), Some(65000));
    }

    pub(crate) fn arb_as_path(four_octet: bool) -> impl Strategy<Value = AsPath> {
        // Not AS 0, which makes an AS_PATH malformed (RFC 7607 section 2).
        let asn = if four_octet {
            (1u32..).boxed()
        } else {
            (1u32..=65535).boxed()
        };
        let seg = (1u8..=4, proptest::collection::vec(asn, 1..20)).prop_map(|(k, asns)| Segment {
            kind: SegmentType::from_u8(k).unwrap(),
            asns,
        });
        proptest::collection::vec(seg, 0..5).prop_map(|segments| AsPath { segments })
    }

    proptest! {
        #[test]
        fn round_trip(four: bool, p in arb_as_path(true)) {
            let p = if four { p } else {
                AsPath { segments: p.segments.into_iter().map(|s| Segment {
                    kind: s.kind, asns: s.asns.into_iter().map(|a| a & 0xffff).collect() }).collect() }
            };
            let mut out = BytesMut::new();
            p.encode(&mut out, four);
            prop_assert_eq!(AsPath::decode(&mut Reader::new(&out), four).unwrap(), p);
        }
    }
}
