//! Decode errors shared by every wire object.
//!
//! Structural decoding reports *where* the bytes went wrong (the field and its
//! absolute byte offset within the buffer handed to the top-level decoder).
//! What to *do* about it (RFC 7606: session reset, treat-as-withdraw,
//! attribute discard) is decided separately, from this error and the context.

use thiserror::Error;

/// Why a field could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeErrorKind {
    #[error("truncated: needed {needed} bytes, {available} available")]
    Truncated { needed: usize, available: usize },
    #[error("invalid length {0}")]
    BadLength(usize),
    #[error("invalid value {0}")]
    BadValue(u64),
    #[error("{0} trailing bytes")]
    Trailing(usize),
}

/// A structural decode failure: which field, at which byte offset, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field} at byte {offset}: {kind}")]
pub struct DecodeError {
    pub field: &'static str,
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub fn new(field: &'static str, offset: usize, kind: DecodeErrorKind) -> Self {
        Self {
            field,
            offset,
            kind,
        }
    }
}

pub type DecodeResult<T> = Result<T, DecodeError>;
