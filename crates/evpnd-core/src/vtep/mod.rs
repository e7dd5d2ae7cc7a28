//! The VTEP's decisions as one pure value (issue 12): what to advertise for
//! local MACs, MAC+IP bindings and VNIs, which kernel operations the
//! best-path changes call for, drift repair, retries with back-off, the
//! adoption of rows a previous evpnd left behind and their clean-up after
//! the initial sync.
//!
//! [`VtepCore::handle`] takes one [`VtepInput`] and returns the
//! [`VtepOutput`]s to act on, in order. The tokio shell (`evpnd::vtep`)
//! moves events in and operations out; `tests/vtep_replay.rs` replays
//! recorded inputs and compares the outputs exactly.
//!
//! - [`input`]: the inputs, and the kernel event values the netlink layer
//!   builds;
//! - [`output`]: the outputs and their log texts;
//! - `local`: origination of local routes (RFC 7432 sections 9.1, 11, 15);
//! - `reconcile`: import, drift, resync, retry and stale clean-up.

pub mod input;
mod local;
pub mod output;
mod reconcile;
mod reconfigure;

pub use crate::evpn::instance::InstanceChanges;
pub use input::{KernelEvent, Learned, LearnedRow, NeighEvent, VtepInput};
pub use output::{
    Level, SyncOver, VtepEvent, VtepOutput, VtepTimer, duplicate_mac_warning, rt_mismatch_warning,
};

use crate::dataplane::diff::Op;
use crate::dataplane::model::{KernelState, NeighborKey};
use crate::evpn::import::Importer;
use crate::evpn::instance::EvpnInstances;
use crate::evpn::mobility::{DuplicateMac, MobilityTracker};
use evpnd_wire::mac::MacAddress;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Entries evpnd installed before a restart are adopted, and the ones no
/// route asks for any more are removed once every peer has sent End-of-RIB
/// (RFC 4724 section 2), or after this long for peers that never send one
/// (GoBGP): no traffic loss across a restart.
pub const STALE_GRACE: Duration = Duration::from_secs(30);
/// A failed kernel request is retried after this, doubling, up to the cap.
pub const RETRY_BASE: Duration = Duration::from_secs(1);
pub const RETRY_CAP: Duration = Duration::from_secs(60);
/// The kernel reports the deletion of a neighbour twice (RTM_NEWNEIGH in
/// state FAILED, then RTM_DELNEIGH): a neighbour put back less than this
/// long ago, whose echo has not come yet, is not put back (and counted) a
/// second time.
pub const REPAIR_ECHO: Duration = Duration::from_secs(1);

/// Reconciler counters, for the metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VtepStats {
    /// Kernel operations handed to the netlink thread.
    pub operations: u64,
    /// Operations the kernel refused (each retried).
    pub failures: u64,
    /// Entries put back because a notification said someone else removed
    /// or changed one of ours while routes still ask for it: something on
    /// the host is fighting evpnd.
    pub drift_repairs: u64,
    /// Duplicate MACs (RFC 7432 section 15.1) per configured VNI, zero
    /// included: MACs no longer advertised from here.
    pub duplicate_macs: BTreeMap<u32, u64>,
    pub local_macs: u64,
    pub remote_macs: u64,
    pub flood_entries: u64,
    pub suppression_neighbors: u64,
    /// Bindings the ARP/ND snoopers dropped because the VTEP's queue was
    /// full. Not the core's count: the shell fills it in from the snoopers.
    pub snooped_dropped: u64,
    /// Restarts of the VTEP's threads after a panic, per thread
    /// (`nl-events`, `nl-requests`, `topology`), zero included. Not the
    /// core's count: the shell fills it in.
    pub thread_restarts: BTreeMap<&'static str, u64>,
}

/// Everything the VTEP decides with, and nothing it does I/O with.
#[derive(Debug)]
pub struct VtepCore {
    instances: EvpnInstances,
    /// VLAN -> SVI ifindex.
    svis: BTreeMap<u16, u32>,
    importer: Importer,
    tracker: MobilityTracker,
    /// What the routes ask for.
    desired: KernelState,
    /// What we believe the kernel holds (adopted at start, then every
    /// operation sent; corrected by resyncs).
    kernel: KernelState,
    /// MACs the bridge learnt on access ports: (VLAN, MAC) -> port.
    local_macs: BTreeMap<(u16, MacAddress), u32>,
    /// IP/MAC bindings from the SVIs' neighbour tables.
    bindings: BTreeMap<(u16, IpAddr), MacAddress>,
    /// What we advertise per local MAC: the IPs with it (MAC-only always).
    advertised: BTreeMap<(u16, MacAddress), BTreeSet<IpAddr>>,
    /// Suppression neighbours put back after a deletion and not yet seen
    /// back, with when (see [`REPAIR_ECHO`]).
    neighbor_repairs: BTreeMap<NeighborKey, Instant>,
    /// Refused operations waiting for `retry_at`.
    retry: Vec<Op>,
    retry_at: Option<Instant>,
    retry_delay: Duration,
    last_failure: Option<Instant>,
    /// Adopted entries not (yet) asked for are kept until `stale_at` or
    /// End-of-RIB from every peer.
    stale_pending: bool,
    stale_at: Option<Instant>,
    /// A reload's new instances, waiting for the RIB's table.
    pending_reconfigure: Option<reconfigure::PendingReconfigure>,
    stats: VtepStats,
}

impl VtepCore {
    /// A core for `instances`, whose VLANs have the SVIs `svis` (VLAN ->
    /// ifindex). Nothing is adopted until [`VtepInput::Start`].
    pub fn new(instances: EvpnInstances, svis: BTreeMap<u16, u32>) -> Self {
        Self {
            importer: Importer::new(instances.clone(), svis.clone()),
            instances,
            svis,
            tracker: MobilityTracker::default(),
            desired: KernelState::new(),
            kernel: KernelState::new(),
            local_macs: BTreeMap::new(),
            bindings: BTreeMap::new(),
            advertised: BTreeMap::new(),
            neighbor_repairs: BTreeMap::new(),
            retry: Vec::new(),
            retry_at: None,
            retry_delay: RETRY_BASE,
            last_failure: None,
            stale_pending: false,
            stale_at: None,
            pending_reconfigure: None,
            stats: VtepStats::default(),
        }
    }

    /// Applies one input; returns what to do, in order.
    pub fn handle(&mut self, input: VtepInput) -> Vec<VtepOutput> {
        let mut out = Vec::new();
        self.handle_into(input, &mut out);
        out
    }

    /// [`Self::handle`], appending to `out`.
    pub fn handle_into(&mut self, input: VtepInput, out: &mut Vec<VtepOutput>) {
        match input {
            VtepInput::Start {
                now,
                adopted,
                learned,
            } => self.start(now, adopted, learned, out),
            VtepInput::Rib(event) => self.rib_event(event, out),
            VtepInput::Kernel { now, events } => {
                for event in events {
                    self.kernel_event(now, event, out);
                }
            }
            VtepInput::Resync { now, rows, learned } => {
                self.resync(rows, out);
                self.resync_learned(now, learned, out);
            }
            VtepInput::Failed { now, ops } => self.failed(now, ops, out),
            VtepInput::Tick { now } => self.tick(now, out),
            reconfigure @ VtepInput::Reconfigure { .. } => self.reconfigure(reconfigure),
        }
    }

    /// Hands operations to the kernel, counted.
    fn send(&mut self, ops: Vec<Op>, out: &mut Vec<VtepOutput>) {
        if !ops.is_empty() {
            self.stats.operations += ops.len() as u64;
            out.push(VtepOutput::Kernel(ops));
        }
    }

    pub fn instances(&self) -> &EvpnInstances {
        &self.instances
    }

    pub fn importer(&self) -> &Importer {
        &self.importer
    }

    /// What the routes ask the kernel to hold.
    pub fn desired(&self) -> &KernelState {
        &self.desired
    }

    /// What the core believes the kernel holds.
    pub fn kernel(&self) -> &KernelState {
        &self.kernel
    }

    /// The SVI of `vlan`, if it has one.
    pub fn svi(&self, vlan: u16) -> Option<u32> {
        self.svis.get(&vlan).copied()
    }

    /// Local MACs: (VLAN, MAC) -> bridge port ifindex.
    pub fn local_macs(&self) -> &BTreeMap<(u16, MacAddress), u32> {
        &self.local_macs
    }

    /// IP/MAC bindings of the SVIs: (VLAN, IP) -> MAC.
    pub fn bindings(&self) -> &BTreeMap<(u16, IpAddr), MacAddress> {
        &self.bindings
    }

    /// The duplicate MACs of `vni` (RFC 7432 section 15.1).
    pub fn duplicates(&self, vni: u32) -> impl Iterator<Item = &DuplicateMac> {
        self.tracker.duplicates(vni)
    }

    /// Whether adopted rows still wait for the initial sync to end.
    pub fn stale_pending(&self) -> bool {
        self.stale_pending
    }

    pub fn stats(&self) -> VtepStats {
        VtepStats {
            local_macs: self.local_macs.len() as u64,
            remote_macs: self.desired.macs.len() as u64,
            flood_entries: self.desired.floods.len() as u64,
            suppression_neighbors: self.desired.neighbors.len() as u64,
            duplicate_macs: self
                .instances
                .iter()
                .map(|i| (i.vni, self.tracker.duplicates(i.vni).count() as u64))
                .collect(),
            ..self.stats.clone()
        }
    }

    /// The `show vnis` warnings of `vni`: RT mismatches (RFC 7432 section
    /// 9.2), duplicate MACs (15.1), and routes that cannot be installed.
    pub fn warnings(&self, vni: u32) -> Vec<String> {
        let Some(instance) = self.instances.by_vni(vni) else {
            return Vec::new();
        };
        let counters = self.importer.counters(vni);
        let mut warnings = Vec::new();
        for (mismatch, routes) in self.importer.rt_mismatches(vni) {
            warnings.push(rt_mismatch_warning(instance, mismatch, routes));
        }
        for duplicate in self.tracker.duplicates(vni) {
            warnings.push(duplicate_mac_warning(duplicate));
        }
        if counters.vni_mismatch > 0 {
            warnings.push(format!(
                "{} routes match an import RT but carry another VNI: not installed",
                counters.vni_mismatch
            ));
        }
        if counters.unusable > 0 {
            warnings.push(format!(
                "{} routes cannot be installed (no ingress-replication PMSI, or no usable next hop)",
                counters.unusable
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::diff::{DesiredDelta, apply_delta};
    use crate::dataplane::model::{FloodEntry, Object, OwnedRow, RemoteMac};
    use crate::evpn::import::RtMismatch;
    use crate::evpn::instance::EvpnInstance;
    use crate::evpn::mobility::{DUPLICATE_MAX_MOVES, MacClaim};
    use std::net::Ipv4Addr;

    const VTEP_3: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 3));

    /// A core for VLAN 10 <-> VNI 10, nothing adopted.
    fn vni_10_core() -> VtepCore {
        let local_vtep = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1));
        let rt = "65000:10".parse().unwrap();
        let instances = EvpnInstances::new([EvpnInstance {
            vlan: 10,
            vni: 10,
            rd: "198.19.0.1:2".parse().unwrap(),
            import_rts: vec![rt],
            export_rts: vec![rt],
            local_vtep,
        }])
        .unwrap();
        VtepCore::new(instances, BTreeMap::new())
    }

    fn mac(last: u8) -> MacAddress {
        MacAddress([2, 0x0a, 0, 0, 0, last])
    }

    fn kernel_ops(outputs: Vec<VtepOutput>) -> Vec<Vec<Op>> {
        outputs
            .into_iter()
            .filter_map(|o| match o {
                VtepOutput::Kernel(ops) => Some(ops),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn drift_is_put_back_and_counted_but_our_own_echo_is_not() {
        let mut core = vni_10_core();
        let now = Instant::now();
        let flood = FloodEntry {
            vni: 10,
            vtep: VTEP_3,
        };
        let remote = RemoteMac {
            vni: 10,
            vlan: 10,
            mac: mac(3),
            vtep: VTEP_3,
            sticky: false,
        };
        let delta = DesiredDelta {
            upsert: vec![Object::Flood(flood), Object::Mac(remote)],
            remove: Vec::new(),
        };
        apply_delta(&mut core.desired, &delta);
        apply_delta(&mut core.kernel, &delta);
        let events = |rows: Vec<NeighEvent>| VtepInput::Kernel {
            now,
            events: rows.into_iter().map(KernelEvent::Owned).collect(),
        };

        // The echo of what we installed, and a row no route asks for.
        let unwanted = OwnedRow::Flood(FloodEntry {
            vni: 10,
            vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 9)),
        });
        let quiet = core.handle(events(vec![
            NeighEvent::New(OwnedRow::Flood(flood)),
            NeighEvent::New(OwnedRow::MacSelf {
                vni: 10,
                mac: mac(3),
                vtep: VTEP_3,
                sticky: false,
            }),
            NeighEvent::Deleted(unwanted),
        ]));
        assert_eq!(core.stats().drift_repairs, 0);
        assert!(quiet.is_empty(), "nothing to repair: {quiet:?}");

        // Someone deletes our flood entry, then points our MAC elsewhere.
        let elsewhere = OwnedRow::MacSelf {
            vni: 10,
            mac: mac(3),
            vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 9)),
            sticky: false,
        };
        let repaired = core.handle(events(vec![
            NeighEvent::Deleted(OwnedRow::Flood(flood)),
            NeighEvent::New(elsewhere),
        ]));
        assert_eq!(
            kernel_ops(repaired),
            vec![
                vec![Op::Replace(Object::Flood(flood))],
                vec![Op::Replace(Object::Mac(remote))]
            ]
        );
        assert_eq!(core.stats().drift_repairs, 2);
    }

    #[test]
    fn duplicate_macs_are_counted_per_vni() {
        let mut core = vni_10_core();
        assert_eq!(core.stats().duplicate_macs, [(10, 0)].into());
        // The other VTEP outbids us each time and our bridge learns the MAC
        // again: after DUPLICATE_MAX_MOVES moves it is a duplicate.
        let start = Instant::now();
        for moved in 0..DUPLICATE_MAX_MOVES {
            let claim = MacClaim {
                vtep: VTEP_3,
                sequence: 2 * moved as u32,
                sticky: false,
                local: false,
            };
            let at = start + Duration::from_secs(10 * moved as u64);
            core.tracker.learn(10, mac(1), false, [claim], at);
        }
        assert_eq!(core.stats().duplicate_macs, [(10, 1)].into());
    }

    #[test]
    fn failures_back_off_doubling_and_start_over_after_a_quiet_spell() {
        let mut core = vni_10_core();
        let t0 = Instant::now();
        let op = Op::Add(Object::Flood(FloodEntry {
            vni: 10,
            vtep: VTEP_3,
        }));
        let retry_at = |outputs: &[VtepOutput]| {
            outputs.iter().find_map(|o| match o {
                VtepOutput::Timer {
                    timer: VtepTimer::Retry,
                    at,
                } => Some(*at),
                _ => None,
            })
        };
        let mut now = t0;
        let mut delays = Vec::new();
        for _ in 0..8 {
            let at = retry_at(&core.handle(VtepInput::Failed { now, ops: vec![op] })).unwrap();
            delays.push((at - now).as_secs());
            now = at;
            // Not yet: nothing is sent a moment before the deadline.
            let early = core.handle(VtepInput::Tick {
                now: at - Duration::from_millis(1),
            });
            assert!(early.is_empty(), "{early:?}");
            let retried = kernel_ops(core.handle(VtepInput::Tick { now }));
            // No route asks for the flood entry any more: delete it.
            assert_eq!(retried, vec![vec![Op::Delete(*op.object())]]);
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(core.stats().failures, 8);
        // Quiet for longer than the cap: the back-off starts over.
        let later = now + RETRY_CAP + Duration::from_secs(1);
        let at = retry_at(&core.handle(VtepInput::Failed {
            now: later,
            ops: vec![op],
        }));
        assert_eq!(at, Some(later + RETRY_BASE));
    }

    #[test]
    fn rt_mismatch_warning_names_the_vtep_the_rt_and_both_fixes() {
        let local_rt = "65000:12".parse().unwrap();
        let instance = EvpnInstance {
            vlan: 12,
            vni: 12,
            rd: "198.19.0.1:4".parse().unwrap(),
            import_rts: vec![local_rt],
            export_rts: vec![local_rt],
            local_vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1)),
        };
        let mismatch = RtMismatch {
            vni: 12,
            vtep: Some(IpAddr::V4(Ipv4Addr::new(198, 19, 0, 3))),
            route_target: Some("65000:1212".parse().unwrap()),
        };
        assert_eq!(
            rt_mismatch_warning(&instance, &mismatch, 2),
            "2 route(s) from VTEP 198.19.0.3 carry VNI 12 with RT 65000:1212, which is not an import RT of VNI 12 (65000:12): not installed; import 65000:1212 here or export 65000:12 there"
        );
        let no_rt = RtMismatch {
            route_target: None,
            ..mismatch
        };
        assert!(rt_mismatch_warning(&instance, &no_rt, 1).contains("without any route target"));
    }
}
