//! The per-session facts decoding and encoding depend on: what one
//! direction of a session negotiated in its OPENs (RFC 4271 section 4.2).
//!
//! A leaf: every codec file takes `&DecodeOptions` and nothing here depends
//! on a codec file. Deriving the options from two OPENs lives with the
//! message codec (`message.rs`, `DecodeOptions::negotiated`), so that this
//! file does not depend on `open.rs`.

use super::family::Family;
use super::header::MAX_MESSAGE_LEN;

/// What one direction of a session negotiated, which changes the wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeOptions {
    /// 4096, or 65535 with RFC 8654 Extended Message.
    pub max_message_len: usize,
    /// Both speakers announced the 4-octet AS capability (RFC 6793 section
    /// 4): AS_PATH and AGGREGATOR carry 4-octet ASes.
    pub four_octet_as: bool,
    /// Families whose NLRI carry ADD-PATH Path Identifiers in this direction
    /// (RFC 7911 section 3).
    pub add_path: Vec<Family>,
}

/// Encoding depends on the same negotiated facts.
pub type EncodeOptions = DecodeOptions;

impl Default for DecodeOptions {
    /// Before (or without) negotiation: RFC 4271 baseline.
    fn default() -> Self {
        Self {
            max_message_len: MAX_MESSAGE_LEN,
            four_octet_as: false,
            add_path: Vec::new(),
        }
    }
}

impl DecodeOptions {
    pub fn add_path_for(&self, family: Family) -> bool {
        self.add_path.contains(&family)
    }
}
