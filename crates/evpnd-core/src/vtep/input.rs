//! What goes into the VTEP core: plain values, built by the shell from
//! channels, netlink notifications (parsed by `evpnd_linux::nl::neigh`),
//! dumps and the clock. The kernel event types live here, not in the netlink
//! layer, so the core can take them without depending on it.

use crate::dataplane::diff::Op;
use crate::dataplane::model::OwnedRow;
use crate::evpn::instance::EvpnInstances;
use crate::rib::engine::RibEvent;
use evpnd_wire::mac::MacAddress;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

/// An owned row appeared/changed (RTM_NEWNEIGH) or went away (RTM_DELNEIGH),
/// from a dump or a multicast notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighEvent {
    New(OwnedRow),
    Deleted(OwnedRow),
}

impl NeighEvent {
    pub const fn row(&self) -> &OwnedRow {
        match self {
            NeighEvent::New(r) | NeighEvent::Deleted(r) => r,
        }
    }
}

/// Something the kernel learnt by itself that a VTEP advertises (RFC 7432
/// section 9: data-plane learning on the access side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LearnedRow {
    /// A MAC the bridge learnt on an access port, in `vlan`.
    Mac {
        vlan: u16,
        mac: MacAddress,
        port: u32,
    },
    /// An IP/MAC binding in the ARP/ND table of the SVI of `vlan`.
    Neighbor {
        vlan: u16,
        ip: IpAddr,
        mac: MacAddress,
    },
}

impl LearnedRow {
    pub const fn vlan(&self) -> u16 {
        match self {
            LearnedRow::Mac { vlan, .. } | LearnedRow::Neighbor { vlan, .. } => *vlan,
        }
    }
}

/// A learnt row appeared (`present`) or went away (deleted, aged out, or
/// no longer usable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    pub row: LearnedRow,
    pub present: bool,
}

/// Any neighbour-table notification evpnd acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelEvent {
    Owned(NeighEvent),
    Learned(Learned),
}

/// One input of [`super::VtepCore::handle`]. Time is part of the inputs
/// that need it: the core never reads a clock.
#[derive(Debug)]
pub enum VtepInput {
    /// The topology is up: `adopted` are the rows a previous evpnd left
    /// behind (adopted, removed later if no route asks for them), `learned`
    /// what the kernel had learnt on the access side.
    Start {
        now: Instant,
        adopted: Vec<OwnedRow>,
        learned: Vec<Learned>,
    },
    /// From the RIB task's observer: best-path changes or the end of the
    /// initial sync.
    Rib(RibEvent),
    /// One batch of neighbour/FDB notifications.
    Kernel {
        now: Instant,
        events: Vec<KernelEvent>,
    },
    /// Notifications were lost (ENOBUFS): `rows` is a fresh dump of every
    /// owned row, `learned` of every row the kernel learnt (bridge FDB and
    /// the SVIs' neighbour tables), to reconcile against.
    Resync {
        now: Instant,
        rows: Vec<OwnedRow>,
        learned: Vec<Learned>,
    },
    /// The kernel refused these operations (or the batch failed).
    Failed { now: Instant, ops: Vec<Op> },
    /// A reload changed the EVPN instances (VNIs added or removed, RTs or
    /// RDs changed): `svis` maps every VLAN of `instances` to its SVI (the
    /// shell has set up the new VLANs' topology), `learned` is a fresh dump
    /// of what the kernel learnt, new VLANs included. Applied when the
    /// RIB's table arrives (`RibEvent::Table`, asked for with
    /// `RibInput::ReplayToObserver` at the same time): see
    /// `vtep::reconfigure`.
    Reconfigure {
        now: Instant,
        instances: EvpnInstances,
        svis: BTreeMap<u16, u32>,
        learned: Vec<Learned>,
    },
    /// A timer the core asked for ([`super::VtepOutput::Timer`]) fired, or
    /// any other moment: every deadline at or before `now` is acted on.
    Tick { now: Instant },
}
