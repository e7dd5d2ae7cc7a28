//! The BGP wire codec: every message, attribute and NLRI evpnd speaks.
//!
//! Pure and synchronous: bytes in, typed values out, and back. See
//! docs/architecture.md ("wire codec"): one file per wire object, each with a
//! `decode` and an `encode`, its RFC diagram and section, and a round-trip test.
//!
//! This crate depends on no other evpnd crate and on nothing that does I/O
//! (docs/adr/0004-pure-core.md); `scripts/check-layering.sh` keeps it so.

#![forbid(unsafe_code)]

pub mod as_path;
pub mod attribute;
pub mod attribute_table;
pub mod capability;
pub mod context;
pub mod error;
pub mod evpn;
pub mod extcomm;
pub mod family;
pub mod header;
pub mod mac;
pub mod message;
pub mod notification;
pub mod open;
pub mod pmsi;
pub mod prefix;
pub mod rd;
pub mod reader;
pub mod rfc7606;
pub mod route_refresh;
pub mod update;
pub mod update_packer;

pub use error::{DecodeError, DecodeErrorKind, DecodeResult};
pub use family::{Afi, Family, Safi};
pub use reader::Reader;
