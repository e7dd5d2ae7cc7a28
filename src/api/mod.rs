//! The control socket: protocol (JSON lines), server (tokio, forwards each
//! request to the daemon core over a channel), client (for `evpnd show`) and
//! human renderers for the tables.

pub mod access;
pub mod client;
pub mod protocol;
pub mod render;
pub mod server;

pub use protocol::{FdbRow, NeighborRow, Request, Response, RouteRow, VniRow};
pub use server::{ApiCall, ControlServer};
