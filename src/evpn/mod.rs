//! The EVPN semantics of a VTEP, pure and synchronous (no I/O).
//!
//! - [`instance`]: one EVPN instance per VLAN/VNI with its RD and RTs
//!   (RFC 7432 section 7.9, RFC 8365 section 5.1.2.1), and lookups by VNI,
//!   VLAN and import RT.
pub mod instance;

pub use instance::{EvpnInstance, EvpnInstances, InstanceError, auto_route_target};
pub mod mobility;
pub mod originate;
