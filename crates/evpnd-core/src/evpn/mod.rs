//! The EVPN semantics of a VTEP, pure and synchronous (no I/O, no netlink).
//!
//! - [`instance`]: one EVPN instance per VLAN/VNI with its RD and RTs
//!   (RFC 7432 section 7.9, RFC 8365 section 5.1.2.1), looked up by VNI,
//!   VLAN and import RT.
//! - [`originate`]: the type-2 and type-3 routes a VTEP advertises, as RIB
//!   ingress input (`PeerIdx::LOCAL` paths), byte-identical to FRR 8.4.
//! - [`mobility`]: RFC 7432 section 15, which claim on a MAC wins and the
//!   sequence a locally learnt MAC is advertised with.
//! - [`import`]: best-path changes to desired kernel state deltas (RFC 7432
//!   section 9.2), and the whole desired state at start-up.
//!
//! How the shells use it: the local-learning shell asks
//! [`MobilityTracker::learn`] (with [`Importer::mac_claims`]) for the
//! sequence, then feeds [`originate::mac_ip`] / [`originate::withdrawal`] to
//! the RIB; the dataplane task passes every best-path change through
//! [`Importer::apply`] into `dataplane::diff::apply_delta`, and withdraws
//! the local MACs [`Importer::take_overridden_local`] reports.

pub mod import;
pub mod instance;
pub mod mobility;
pub mod originate;

pub use import::{ImportCounters, Importer, RtMismatch, desired_state};
pub use instance::{
    EvpnInstance, EvpnInstances, EvpnInstancesSpec, InstanceError, VniSpec, auto_route_target,
};
pub use mobility::{LocalMacDecision, MacClaim, MobilityTracker, compare_claims};
pub use originate::LocalAdvertisement;
