//! Import and reconciliation: best-path changes become kernel operations;
//! what the kernel reports back (drift, refusals, lost notifications) is
//! repaired; adopted rows are cleaned up once the initial sync is over.

use super::input::{KernelEvent, Learned, NeighEvent};
use super::output::{SyncOver, VtepEvent, VtepOutput, VtepTimer, rt_mismatch_warning};
use super::{REPAIR_ECHO, RETRY_BASE, RETRY_CAP, STALE_GRACE, VtepCore};
use crate::dataplane::diff::{DesiredDelta, Op, apply_delta, diff};
use crate::dataplane::model::{KernelState, MacKey, NeighborKey, Object, OwnedRow, Vni};
use crate::rib::engine::RibEvent;
use crate::rib::loc_rib::BestChange;
use evpnd_wire::evpn::EvpnRouteKey;
use evpnd_wire::mac::MacAddress;
use std::time::Instant;

/// Does a kernel row say what the desired object says?
fn row_matches(row: &OwnedRow, object: &Object) -> bool {
    match (*row, *object) {
        (OwnedRow::Flood(f), Object::Flood(d)) => f == d,
        (OwnedRow::MacSelf { vtep, sticky, .. }, Object::Mac(m)) => {
            vtep == m.vtep && sticky == m.sticky
        }
        (OwnedRow::MacMaster { sticky, .. }, Object::Mac(m)) => sticky == m.sticky,
        (OwnedRow::Neighbor(n), Object::Neighbor(d)) => n.mac == d.mac,
        _ => false,
    }
}

impl VtepCore {
    /// Start-up: originate the VNIs, adopt what a previous evpnd installed
    /// (kept until the initial sync is over, so a restart loses no
    /// traffic), take what the kernel learnt, arm the grace timer.
    pub(super) fn start(
        &mut self,
        now: Instant,
        adopted: Vec<OwnedRow>,
        learned: Vec<Learned>,
        out: &mut Vec<VtepOutput>,
    ) {
        self.kernel = self.state_of(adopted);
        self.stale_pending = true;
        let at = now + STALE_GRACE;
        self.stale_at = Some(at);
        self.originate_inclusive_multicast(out);
        for l in learned {
            self.learned(now, l, out);
        }
        out.push(VtepOutput::Timer {
            timer: VtepTimer::StaleGrace,
            at,
        });
    }

    /// Pairs the `self`/`master` halves of dumped rows into objects.
    fn state_of(&self, rows: Vec<OwnedRow>) -> KernelState {
        KernelState::from_rows(rows, |vni| self.instances.by_vni(vni).map(|i| i.vlan))
    }

    pub(super) fn rib_event(&mut self, event: RibEvent, out: &mut Vec<VtepOutput>) {
        match event {
            RibEvent::Changes(batch) => self.import(&batch, out),
            RibEvent::InitialSyncDone if self.stale_pending => {
                self.remove_stale(SyncOver::EndOfRib, out);
            }
            RibEvent::InitialSyncDone => {}
            RibEvent::Table(table) => self.table(table, out),
        }
    }

    /// Best-path changes from the RIB: import them, then withdraw local
    /// MACs that a remote route now beats (RFC 7432 section 15.1).
    fn import(&mut self, batch: &[BestChange<EvpnRouteKey>], out: &mut Vec<VtepOutput>) {
        let mut delta = DesiredDelta::default();
        for change in batch {
            let d = self.importer.apply(change);
            delta.upsert.extend(d.upsert);
            delta.remove.extend(d.remove);
        }
        apply_delta(&mut self.desired, &delta);
        let ops = apply_delta(&mut self.kernel, &delta);
        self.send(ops, out);
        self.after_import(|_| true, out);
    }

    /// What an import may have changed besides the kernel: RT mismatches
    /// seen for the first time (said for the VNIs `report` accepts), and
    /// local MACs that a remote route now beats (RFC 7432 section 15.1),
    /// withdrawn.
    pub(super) fn after_import(&mut self, report: impl Fn(Vni) -> bool, out: &mut Vec<VtepOutput>) {
        for mismatch in self.importer.take_new_rt_mismatches() {
            if !report(mismatch.vni) {
                continue;
            }
            if let Some(instance) = self.instances.by_vni(mismatch.vni) {
                out.push(VtepOutput::Event(VtepEvent::RtMismatch {
                    vni: mismatch.vni,
                    message: rt_mismatch_warning(instance, &mismatch, 1),
                }));
            }
        }
        for (vni, mac) in self.importer.take_overridden_local() {
            if let Some(vlan) = self.instances.by_vni(vni).map(|i| i.vlan) {
                // Not local any more: the remote entry now installed takes
                // the bridge's row. Until the bridge learns the MAC on an
                // access port again, a binding seen for it (an ARP, a
                // neighbour probe) must not advertise it back.
                let was_local = self.local_macs.remove(&(vlan, mac)).is_some();
                let at = out.len();
                self.withdraw_local(vlan, mac, out);
                // Said once per move: the MAC+IP route's own best-path
                // change reports the same MAC again after the first
                // withdrawal, with nothing left to withdraw.
                if was_local || out.len() > at {
                    out.insert(at, VtepOutput::Event(VtepEvent::LocalMacMoved { vni, mac }));
                }
            }
        }
    }

    pub(super) fn kernel_event(
        &mut self,
        now: Instant,
        event: KernelEvent,
        out: &mut Vec<VtepOutput>,
    ) {
        match event {
            KernelEvent::Learned(learned) => self.learned(now, learned, out),
            // Drift: one of our rows went away while routes still ask for
            // it. Put the whole object back.
            KernelEvent::Owned(NeighEvent::Deleted(row)) => {
                let Some(object) = self.desired_object_of(&row) else {
                    return;
                };
                if let Object::Neighbor(n) = object {
                    // The second report of one deletion (FAILED, then
                    // deleted): the repair is on its way already.
                    if self
                        .neighbor_repairs
                        .get(&n.key())
                        .is_some_and(|at| now.saturating_duration_since(*at) < REPAIR_ECHO)
                    {
                        return;
                    }
                    self.neighbor_repairs.insert(n.key(), now);
                }
                self.repair(object, true, out);
            }
            // Someone changed one of our rows (another VTEP, a flag): put
            // back what the routes say. Our own changes echo back matching.
            KernelEvent::Owned(NeighEvent::New(row)) => {
                let Some(object) = self.desired_object_of(&row) else {
                    return;
                };
                if !row_matches(&row, &object) {
                    self.repair(object, false, out);
                } else if let Object::Neighbor(n) = object {
                    // Seen back: a deletion from now on is a new one.
                    self.neighbor_repairs.remove(&n.key());
                }
            }
        }
    }

    fn repair(&mut self, object: Object, removed: bool, out: &mut Vec<VtepOutput>) {
        out.push(VtepOutput::Event(VtepEvent::DriftRepaired {
            object,
            removed,
        }));
        self.stats.drift_repairs += 1;
        self.send(vec![Op::Replace(object)], out);
    }

    /// The desired object a kernel row belongs to: keyed lookups only, since
    /// this runs for every notification (each of our own changes echoes).
    fn desired_object_of(&self, row: &OwnedRow) -> Option<Object> {
        let mac_at = |vni: u32, vlan: u16, mac: MacAddress| {
            self.desired
                .macs
                .get(&MacKey { vni, vlan, mac })
                .map(|m| Object::Mac(*m))
        };
        match *row {
            OwnedRow::Flood(f) => self.desired.floods.contains(&f).then_some(Object::Flood(f)),
            OwnedRow::MacSelf { vni, mac, .. } => {
                mac_at(vni, self.instances.by_vni(vni)?.vlan, mac)
            }
            OwnedRow::MacMaster { vlan, mac, .. } => {
                mac_at(self.instances.by_vlan(vlan)?.vni, vlan, mac)
            }
            OwnedRow::Neighbor(n) => self
                .desired
                .neighbors
                .get(&NeighborKey {
                    ifindex: n.ifindex,
                    ip: n.ip,
                })
                .map(|d| Object::Neighbor(*d)),
        }
    }

    /// Notifications were lost: `rows` is what the kernel holds now.
    pub(super) fn resync(&mut self, rows: Vec<OwnedRow>, out: &mut Vec<VtepOutput>) {
        self.neighbor_repairs.clear();
        let observed = self.state_of(rows);
        let mut ops = diff(&self.desired, &observed);
        if self.stale_pending {
            // Adopted entries no route asks for yet stay until the
            // initial sync is over.
            ops.retain(|op| !matches!(op, Op::Delete(_)));
        }
        self.kernel = observed;
        for op in &ops {
            op.apply_to(&mut self.kernel);
        }
        self.send(ops, out);
    }

    /// The kernel refused `ops`: retry them after the back-off delay.
    pub(super) fn failed(&mut self, now: Instant, ops: Vec<Op>, out: &mut Vec<VtepOutput>) {
        self.stats.failures += ops.len() as u64;
        if self.retry.is_empty() {
            // Failures after a quiet spell start the back-off over;
            // failures that keep coming back wait longer.
            if self
                .last_failure
                .is_none_or(|t| now.saturating_duration_since(t) > RETRY_CAP)
            {
                self.retry_delay = RETRY_BASE;
            }
            let at = now + self.retry_delay;
            self.retry_at = Some(at);
            out.push(VtepOutput::Timer {
                timer: VtepTimer::Retry,
                at,
            });
        }
        self.last_failure = Some(now);
        self.retry.extend(ops);
    }

    /// Acts on every deadline at or before `now`.
    pub(super) fn tick(&mut self, now: Instant, out: &mut Vec<VtepOutput>) {
        if !self.retry.is_empty() && self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            self.retry_failed(out);
            self.retry_delay = (self.retry_delay * 2).min(RETRY_CAP);
        }
        if self.stale_pending && self.stale_at.is_some_and(|at| at <= now) {
            self.remove_stale(SyncOver::GraceExpired, out);
        }
    }

    /// Re-sends what failed, as it stands now: an object still wanted is
    /// (re)installed, one no longer wanted is deleted. Not counted in
    /// `operations` again.
    fn retry_failed(&mut self, out: &mut Vec<VtepOutput>) {
        let failed = std::mem::take(&mut self.retry);
        let ops: Vec<Op> = failed
            .into_iter()
            .map(|op| {
                let object = *op.object();
                match self.desired.get(&object) {
                    Some(wanted) => Op::Replace(wanted),
                    None => Op::Delete(object),
                }
            })
            .collect();
        out.push(VtepOutput::Event(VtepEvent::Retrying {
            operations: ops.len(),
        }));
        out.push(VtepOutput::Kernel(ops));
    }

    /// The initial sync is over: remove what evpnd installed before a
    /// restart and no route asks for any more.
    fn remove_stale(&mut self, why: SyncOver, out: &mut Vec<VtepOutput>) {
        self.stale_pending = false;
        self.stale_at = None;
        let ops = diff(&self.desired, &self.kernel);
        out.push(VtepOutput::Event(VtepEvent::InitialSyncOver {
            why,
            operations: ops.len(),
        }));
        self.send(ops, out);
        self.kernel = self.desired.clone();
    }
}
