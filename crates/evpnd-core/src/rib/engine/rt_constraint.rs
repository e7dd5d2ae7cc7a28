//! RT-Constrain in the RIB (RFC 4684, ADR 0014): a constrained peer's RT
//! membership as it changes, the group of peers with the same membership it
//! belongs to, and the routes it is sent or no longer sent when its
//! membership changes.

use super::*;

impl Rib {
    /// A peer's RT membership changed (RFC 4684 section 3): it moves to the
    /// group of its new membership and is sent the routes that now pass
    /// and the withdrawals of those that no longer do.
    pub(super) fn rt_membership(
        &mut self,
        peer: PeerIdx,
        announced: Vec<RtMembership>,
        withdrawn: Vec<RtMembership>,
        end_of_rib: bool,
        out: &mut impl RibOutlet,
    ) {
        let Some(c) = self.constrained.get_mut(&peer) else {
            return;
        };
        // End-of-RIB is acted on below, when it completes the set.
        let ready = c.membership.complete;
        c.membership.apply(&announced, &withdrawn, false);
        if ready {
            // Changes queued so far were planned with its old membership.
            self.flush(out);
            self.refilter(peer, out);
        }
        if end_of_rib && !ready {
            self.rt_membership_ready(peer, out);
        }
    }

    /// Move an established, ready peer to the group of its membership and
    /// send it the difference.
    fn refilter(&mut self, peer: PeerIdx, out: &mut impl RibOutlet) {
        let (Some(c), Some(group)) = (self.constrained.get(&peer), self.out.group_of(peer)) else {
            return;
        };
        let before = self.out.filter(group);
        let now = self.filters.intern(&c.membership.memberships);
        let Some(key) = self.out.key(group) else {
            return;
        };
        if now == before {
            return;
        }
        self.out.join_filtered(peer, key, now);
        if self.deferral.is_some() {
            return;
        }
        let batches = refilter(
            &self.rib,
            peer,
            &self.peers,
            &self.out,
            &self.filters,
            before,
        );
        self.deliver(batches, out);
    }

    /// The peer's RT membership is complete (End-of-RIB, or the wait ran
    /// out): it joins its group and gets its table (RFC 4684 section 6).
    pub(super) fn rt_membership_ready(&mut self, peer: PeerIdx, out: &mut impl RibOutlet) {
        let Some(c) = self.constrained.get_mut(&peer) else {
            return;
        };
        c.membership.complete = true;
        let Some(key) = c.waiting.take() else {
            // Not up yet: it joins at its PeerUp.
            return;
        };
        let filter = self.filters.intern(&c.membership.memberships);
        self.flush(out);
        self.out.join_filtered(peer, key, filter);
        if self.deferral.is_none() {
            self.send_full_table(peer, out);
        }
    }

    /// The number of RT membership NLRI `peer` announced, when it
    /// negotiated RT-Constrain; for `show neighbors`.
    pub fn rt_memberships(&self, peer: PeerIdx) -> Option<usize> {
        self.constrained
            .get(&peer)
            .map(|c| c.membership.memberships.len())
    }
}
