//! The peer task's side of RT-Constrain (RFC 4684, ADR 0014): the RT
//! membership we announce on an Established session and change on a
//! reload, the peer's membership to the RIB, and, for a session the
//! previous image handed over (ADR 0010), both taken up where that image
//! left them.

use super::*;

impl Session {
    /// The session came up with RT-Constrain. RFC 4684 section 3: the peer
    /// sends us only the EVPN routes of the route targets we announce (a
    /// reflector the default RT membership: it must see every route; a
    /// VTEP its import RTs), then the family's End-of-RIB the peer waits
    /// for (section 6). First on the wire, before the RIB's table. Its EVPN
    /// routes go by its RT membership, its table after that membership's
    /// End-of-RIB (sections 3 and 6), or after [`RT_MEMBERSHIP_WAIT`].
    ///
    /// A resumed session (ADR 0010) had all that with the previous image:
    /// the peer has our membership and our End-of-RIB, and sent its own,
    /// which it does not send again. With the state that image handed over
    /// it is sent only what changed in ours since, and the RIB filters it
    /// at once by its membership as it was. Without (a hand-over file from
    /// an image before this state was handed over) it starts as a new one
    /// and is asked for its membership again (ROUTE-REFRESH for AFI 1 /
    /// SAFI 132, RFC 2918), within the same bounded wait.
    pub(super) async fn rt_constraint_up(&mut self, negotiated: &NegotiatedSession) {
        let ours = self.spec.rt_membership.borrow_and_update().clone();
        let (router_id, asn) = (self.spec.local.router_id, self.spec.local.asn);
        let peer = self.spec.idx;
        let handed = self.rt_handed.take();
        let (updates, input) = match handed.clone().flatten() {
            Some(h) => {
                let (announce, withdraw) = rt_constraint::membership_change(&h.announced, &ours);
                info!(
                    peer = %self.peer(),
                    memberships = h.received.memberships.len(),
                    complete = h.received.complete,
                    announced = announce.len(),
                    withdrawn = withdraw.len(),
                    "RT-Constrain state handed over by the previous process"
                );
                let updates = rt_constraint::change_updates(
                    &announce,
                    &withdraw,
                    router_id,
                    negotiated.internal,
                    asn,
                );
                self.rt_received = h.received.clone();
                let input = RibInput::RtResumed {
                    peer,
                    membership: h.received,
                };
                (updates, input)
            }
            None => {
                let updates =
                    rt_constraint::membership_updates(&ours, router_id, negotiated.internal, asn);
                self.rt_received = PeerRtMembership::default();
                (updates, RibInput::RtConstrained { peer })
            }
        };
        self.rt_announced = ours;
        for update in updates {
            self.send(&Message::Update(update));
        }
        let _ = self.rib.send(RibRequest::Input(input)).await;
        if !self.rt_received.complete {
            self.rt_membership_until = Some(Instant::now() + RT_MEMBERSHIP_WAIT);
            if matches!(handed, Some(None)) && negotiated.route_refresh {
                warn!(peer = %self.peer(), "resumed without its RT membership (an older image's hand-over): asking the peer for it again");
                let refresh = RouteRefresh::request(Family::IPV4_RTC);
                self.send(&Message::RouteRefresh(refresh));
            }
        }
    }

    /// Our RT membership changed (a reload added or removed VNIs or import
    /// RTs): announce what is new and withdraw what is gone, on a session
    /// with RT-Constrain (RFC 4684 section 4).
    pub(super) fn announce_rt_membership_change(&mut self) {
        let ours = self.spec.rt_membership.borrow_and_update().clone();
        if !self.established || !self.rt_constraint {
            return;
        }
        let (announce, withdraw) = rt_constraint::membership_change(&self.rt_announced, &ours);
        let internal = self.spec.kind.is_ibgp();
        let updates = rt_constraint::change_updates(
            &announce,
            &withdraw,
            self.spec.local.router_id,
            internal,
            self.spec.local.asn,
        );
        info!(peer = %self.peer(), announced = announce.len(), withdrawn = withdraw.len(), "our RT membership changed");
        for update in updates {
            self.send(&Message::Update(update));
        }
        self.rt_announced = ours;
    }

    /// The RT membership NLRI of an UPDATE (AFI 1 / SAFI 132, RFC 4684
    /// section 4), to the RIB; RFC 7606 treat-as-withdraw applies to them
    /// as to every NLRI of the UPDATE (section 2).
    pub(super) async fn rt_membership(&mut self, update: &Update, action: &ErrorAction) {
        let mut announced = Vec::new();
        let mut withdrawn = Vec::new();
        if let Some(reach) = update.mp_reach().filter(|r| r.family == Family::IPV4_RTC) {
            // The syntax was checked when the UPDATE was decoded.
            let nlri = RtMembership::decode_all(&reach.nlri).unwrap_or_default();
            if matches!(action, ErrorAction::TreatAsWithdraw) {
                withdrawn.extend(nlri);
            } else {
                announced.extend(nlri);
            }
        }
        if let Some(unreach) = update.mp_unreach().filter(|u| u.family == Family::IPV4_RTC) {
            withdrawn.extend(RtMembership::decode_all(&unreach.withdrawn).unwrap_or_default());
        }
        let end_of_rib = update.is_end_of_rib() == Some(Family::IPV4_RTC);
        if announced.is_empty() && withdrawn.is_empty() && !end_of_rib {
            return;
        }
        if end_of_rib {
            self.rt_membership_until = None;
        }
        self.rt_received.apply(&announced, &withdrawn, end_of_rib);
        debug!(peer = %self.peer(), announced = ?announced, withdrawn = ?withdrawn, end_of_rib, "RT membership");
        let input = RibInput::RtMembership {
            peer: self.spec.idx,
            announced,
            withdrawn,
            end_of_rib,
        };
        let _ = self.rib.send(RibRequest::Input(input)).await;
    }
}
