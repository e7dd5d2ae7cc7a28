//! evpnd's Linux side: everything that talks to the kernel.
//!
//! - [`nl`]: netlink encoding of each fdb/neighbour operation, parsing of
//!   dumps and events, the ownership predicate, link/tunnel messages;
//! - [`socket`]: the batched, pipelined request socket and the RTNLGRP_NEIGH
//!   event socket;
//! - [`setup`]: observing, validating and fixing the VTEP topology (bridge,
//!   vxlan device, VLAN->VNI map);
//! - [`snoop`]: the AF_PACKET socket that learns local MAC/IP bindings;
//! - [`tcp_auth`]: TCP-MD5 keys (RFC 2385) and GTSM (RFC 5082) on BGP sockets;
//! - [`peer_cred`]: the supplementary groups of a control socket client.
//!
//! This is the only evpnd crate with `unsafe` code (sockets, `libc`); what
//! it carries out is decided in `evpnd-core` (docs/adr/0004-pure-core.md).

pub mod inherit;
pub mod interface;
pub mod nl;
pub mod peer_cred;
pub mod setup;
pub mod snoop;
pub mod socket;
pub mod tcp_auth;
