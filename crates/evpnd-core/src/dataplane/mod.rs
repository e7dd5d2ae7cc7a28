//! The VTEP's kernel state as values: what evpnd wants installed and how it
//! differs from what the kernel has. The netlink side that carries the
//! difference out lives in `evpnd-linux`.
//!
//! - [`model`]: remote MACs, flood entries, suppression neighbours as plain
//!   comparable values; [`model::KernelState`] with set semantics;
//! - [`diff`]: pure full diff (startup adoption, resync) and incremental
//!   [`diff::apply_delta`] (steady state).

pub mod diff;
pub mod model;

pub use diff::{DesiredDelta, Op, apply_delta, diff};
pub use model::{
    EVPND_PROTOCOL, FloodEntry, KernelState, Object, OwnedRow, Ownership, RemoteMac, StrayMacRow,
    SuppressionNeighbor,
};
