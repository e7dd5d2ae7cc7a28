//! A bounds-checked cursor over a byte slice.
//!
//! Every wire decoder reads through `Reader`: nom parses the leaves (integers,
//! fixed-size fields) and its errors are turned into a [`DecodeError`] naming
//! the field and the absolute byte offset, so `nom::Err` never leaks out.
//! Length-prefixed sections are read with [`Reader::sub`], which checks the
//! length against the bytes actually present *before* anything is allocated.

use super::error::{DecodeError, DecodeErrorKind, DecodeResult};
use nom::number::complete::{be_u8, be_u16, be_u32, be_u64};

type NomResult<'a, T> = nom::IResult<&'a [u8], T, nom::error::Error<&'a [u8]>>;

#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Absolute offset of `buf[0]` in the top-level buffer, for error reports.
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// A reader whose error offsets start at `base`.
    pub fn with_base(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn peek_rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub fn error(&self, field: &'static str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(field, self.offset(), kind)
    }

    fn truncated(&self, field: &'static str, needed: usize) -> DecodeError {
        self.error(
            field,
            DecodeErrorKind::Truncated {
                needed,
                available: self.remaining(),
            },
        )
    }

    fn leaf<T>(
        &mut self,
        field: &'static str,
        size: usize,
        parse: impl FnOnce(&'a [u8]) -> NomResult<'a, T>,
    ) -> DecodeResult<T> {
        match parse(self.peek_rest()) {
            Ok((_, value)) => {
                self.pos += size;
                Ok(value)
            }
            Err(_) => Err(self.truncated(field, size)),
        }
    }

    pub fn u8(&mut self, field: &'static str) -> DecodeResult<u8> {
        self.leaf(field, 1, be_u8)
    }

    pub fn u16(&mut self, field: &'static str) -> DecodeResult<u16> {
        self.leaf(field, 2, be_u16)
    }

    /// A 3-octet big-endian integer (MPLS label fields, VNIs).
    pub fn u24(&mut self, field: &'static str) -> DecodeResult<u32> {
        let b = self.array::<3>(field)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u32(&mut self, field: &'static str) -> DecodeResult<u32> {
        self.leaf(field, 4, be_u32)
    }

    pub fn u64(&mut self, field: &'static str) -> DecodeResult<u64> {
        self.leaf(field, 8, be_u64)
    }

    pub fn array<const N: usize>(&mut self, field: &'static str) -> DecodeResult<[u8; N]> {
        let bytes = self.bytes(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Consume exactly `len` bytes, borrowed (no allocation).
    pub fn bytes(&mut self, len: usize, field: &'static str) -> DecodeResult<&'a [u8]> {
        if len > self.remaining() {
            return Err(self.truncated(field, len));
        }
        let out = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// Consume `len` bytes as a nested reader that reports absolute offsets.
    pub fn sub(&mut self, len: usize, field: &'static str) -> DecodeResult<Reader<'a>> {
        let base = self.offset();
        let bytes = self.bytes(len, field)?;
        Ok(Reader::with_base(bytes, base))
    }

    /// Consume everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Fail if any byte is left unread.
    pub fn finish(&self, field: &'static str) -> DecodeResult<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(field, DecodeErrorKind::Trailing(n))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_leaves_and_tracks_offsets() {
        let mut r = Reader::new(&[0x01, 0x02, 0x03, 0x00, 0x00, 0x0a, 0xff]);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16("b").unwrap(), 0x0203);
        assert_eq!(r.u24("vni").unwrap(), 10);
        assert_eq!(r.offset(), 6);
        let err = r.u16("c").unwrap_err();
        assert_eq!(err.field, "c");
        assert_eq!(err.offset, 6);
        assert_eq!(
            err.kind,
            DecodeErrorKind::Truncated {
                needed: 2,
                available: 1
            }
        );
    }

    #[test]
    fn sub_reader_checks_length_before_consuming_and_keeps_absolute_offsets() {
        let mut r = Reader::new(&[9, 9, 1, 2, 3]);
        r.u16("skip").unwrap();
        assert!(r.sub(4, "section").is_err());
        assert_eq!(r.offset(), 2, "a failed sub() consumes nothing");
        let mut s = r.sub(2, "section").unwrap();
        s.u8("x").unwrap();
        let err = s.finish("section").unwrap_err();
        assert_eq!(err.offset, 3);
        assert_eq!(err.kind, DecodeErrorKind::Trailing(1));
    }
}
