//! The VTEP dataplane: the kernel state evpnd owns on a single-VXLAN-device
//! (SVD) VTEP, how desired and observed state are compared, and the netlink
//! I/O that carries out the difference.
//!
//! - [`model`]: remote MACs, flood entries, suppression neighbours as plain
//!   comparable values; [`model::KernelState`] with set semantics;
//! - [`diff`]: pure full diff (startup adoption, resync) and incremental
//!   [`diff::apply_delta`] (steady state);
//! - [`nl`]: netlink encoding of each operation, parsing of dumps and events,
//!   the ownership predicate;
//! - [`socket`]: batched, pipelined request socket and the RTNLGRP_NEIGH
//!   event socket.

pub mod diff;
pub mod model;
pub mod nl;
pub mod setup;
pub mod socket;

pub use diff::{DesiredDelta, Op, apply_delta, diff};
pub use model::{
    EVPND_PROTOCOL, FloodEntry, KernelState, Object, OwnedRow, Ownership, RemoteMac, StrayMacRow,
    SuppressionNeighbor,
};
