//! evpnd: a BGP EVPN speaker and route reflector for Linux VXLAN.
//!
//! This crate is the daemon's shell: tokio tasks around the pure core
//! (`evpnd-core`, over the codec `evpnd-wire`) and the kernel side
//! (`evpnd-linux`), plus the control socket, the CLI, the configuration,
//! the metrics endpoint and `evpnd decode`. See docs/architecture.md.

#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod decode;
pub mod panic;
pub mod rib_task;
pub mod session;
pub mod vtep;
