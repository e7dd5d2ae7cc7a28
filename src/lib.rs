//! evpnd: a BGP EVPN speaker and route reflector for Linux VXLAN.
//!
//! The core (wire codec, RIB, EVPN semantics, desired kernel state) is pure
//! and synchronous; the I/O shells (sessions, netlink, control socket) are
//! thin tokio tasks around it. See README.md for the module map.

pub mod api;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dataplane;
pub mod decode;
pub mod evpn;
pub mod rib;
pub mod session;
pub mod vtep;
pub mod wire;
