//! Ethernet MAC addresses as carried in EVPN routes (RFC 7432 section 7.2)
//! and the EVPN Router's MAC extended community (RFC 9135 section 8.1), plus
//! the hex formatting shared by the wire objects evpnd keeps as opaque bytes.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A 48-bit IEEE 802 MAC address.
///
/// Displays and serializes as FRR prints it: lowercase, colon-separated
/// (`02:0a:00:00:00:01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    pub const ZERO: MacAddress = MacAddress([0; 6]);

    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl From<[u8; 6]> for MacAddress {
    fn from(octets: [u8; 6]) -> Self {
        Self(octets)
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex_separated(f, &self.0, ':')
    }
}

/// Why a MAC address string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid MAC address {0:?}: expected six hex octets like 02:0a:00:00:00:01")]
pub struct ParseMacError(pub String);

impl FromStr for MacAddress {
    type Err = ParseMacError;

    /// Accepts `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff`, either case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMacError(s.to_owned());
        let separator = if s.contains('-') { '-' } else { ':' };
        let mut octets = [0u8; 6];
        let mut parts = s.split(separator);
        for octet in &mut octets {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        match parts.next() {
            None => Ok(MacAddress(octets)),
            Some(_) => Err(err()),
        }
    }
}

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Writes `bytes` as lowercase hex pairs separated by `separator`.
pub(crate) fn write_hex_separated(
    f: &mut fmt::Formatter<'_>,
    bytes: &[u8],
    separator: char,
) -> fmt::Result {
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            write!(f, "{separator}")?;
        }
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}

/// Writes `bytes` as one lowercase hex string (no separators).
pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
}

/// Serializes opaque bytes as a lowercase hex string, for human-readable JSON.
pub(crate) fn serialize_hex<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    struct Hex<'a>(&'a [u8]);
    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_hex(f, self.0)
        }
    }
    serializer.collect_str(&Hex(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_parses_and_serializes_like_frr() {
        let mac = MacAddress([0x02, 0x0a, 0, 0, 0, 0x01]);
        assert_eq!(mac.to_string(), "02:0a:00:00:00:01");
        assert_eq!("02:0A:00:00:00:01".parse::<MacAddress>().unwrap(), mac);
        assert_eq!("02-0a-00-00-00-01".parse::<MacAddress>().unwrap(), mac);
        assert_eq!(
            serde_json::to_string(&mac).unwrap(),
            "\"02:0a:00:00:00:01\""
        );
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in [
            "",
            "02:0a:00:00:00",
            "02:0a:00:00:00:01:02",
            "2:0a:00:00:00:01",
            "02:0g:00:00:00:01",
            "020a.0000.0001",
            "+2:0a:00:00:00:01",
        ] {
            assert!(bad.parse::<MacAddress>().is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(octets in any::<[u8; 6]>()) {
            let mac = MacAddress(octets);
            prop_assert_eq!(mac.to_string().parse::<MacAddress>().unwrap(), mac);
        }
    }
}
