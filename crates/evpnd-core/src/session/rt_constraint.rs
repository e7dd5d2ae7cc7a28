//! What a session with RT-Constrain (RFC 4684) negotiated says about
//! itself: the RT membership evpnd announces on it.
//!
//! A peer that negotiated AFI 1 / SAFI 132 sends us only the VPN (here
//! EVPN) routes whose route targets are in the membership we announce
//! (RFC 4684 section 3). A reflector must see every route, so it asks for
//! everything: one default RT membership route (the 0-length prefix,
//! RFC 4684 sections 3 and 4); a VTEP asks for its VNIs' import RTs. Then
//! End-of-RIB for the family (RFC 4684 section 6 makes the peer wait for
//! it before its VPN routes). What the peer announces constrains what
//! evpnd sends it (`rib::rt_filter`).

use super::open_check::NegotiatedSession;
use evpnd_wire::Family;
use evpnd_wire::as_path::AsPath;
use evpnd_wire::attribute::{AttributeValue, MpReach, MpUnreach, Origin, PathAttribute};
use evpnd_wire::rtc::RtMembership;
use evpnd_wire::update::Update;
use std::net::Ipv4Addr;

impl NegotiatedSession {
    /// Both sides announced the Multiprotocol capability for AFI 1 / SAFI
    /// 132 (RFC 4684 section 4, RFC 4760 section 8): RT membership is
    /// exchanged and EVPN routes are constrained by it.
    pub fn rt_constraint(&self) -> bool {
        self.families.contains(&Family::IPV4_RTC)
    }
}

/// The UPDATEs that announce `memberships` on a session with RTC: one
/// UPDATE carrying them all (ORIGIN IGP; towards an internal peer an empty
/// AS_PATH and LOCAL_PREF 100, towards an external one our AS, RFC 4271
/// section 5.1), then End-of-RIB for AFI 1 / SAFI 132. `next_hop` is our
/// address as the peer knows it (RFC 4760 section 3; RFC 4684 does not
/// use it for forwarding).
pub fn membership_updates(
    memberships: &[RtMembership],
    next_hop: Ipv4Addr,
    internal: bool,
    local_as: u32,
) -> Vec<Update> {
    let mut out = change_updates(memberships, &[], next_hop, internal, local_as);
    out.push(Update::end_of_rib(Family::IPV4_RTC));
    out
}

/// What changes when the membership announced goes from `old` to `new`:
/// (to announce, to withdraw).
pub fn membership_change(
    old: &[RtMembership],
    new: &[RtMembership],
) -> (Vec<RtMembership>, Vec<RtMembership>) {
    let announce = new.iter().filter(|m| !old.contains(m)).copied().collect();
    let withdraw = old.iter().filter(|m| !new.contains(m)).copied().collect();
    (announce, withdraw)
}

/// The UPDATEs that announce `announce` (as [`membership_updates`], without
/// End-of-RIB) and withdraw `withdraw` (MP_UNREACH_NLRI alone, RFC 4760
/// section 4); nothing when both are empty.
pub fn change_updates(
    announce: &[RtMembership],
    withdraw: &[RtMembership],
    next_hop: Ipv4Addr,
    internal: bool,
    local_as: u32,
) -> Vec<Update> {
    let mut out = Vec::new();
    if !withdraw.is_empty() {
        let nlri: Vec<u8> = withdraw.iter().flat_map(|m| m.to_bytes()).collect();
        out.push(Update {
            attributes: vec![PathAttribute::new(AttributeValue::MpUnreach(MpUnreach {
                family: Family::IPV4_RTC,
                withdrawn: nlri.into(),
            }))],
            ..Update::default()
        });
    }
    if !announce.is_empty() {
        let nlri: Vec<u8> = announce.iter().flat_map(|m| m.to_bytes()).collect();
        let mut as_path = AsPath::new();
        if !internal {
            as_path.prepend(local_as);
        }
        let mut attributes = vec![
            PathAttribute::new(AttributeValue::Origin(Origin::Igp)),
            PathAttribute::new(AttributeValue::AsPath(as_path)),
        ];
        if internal {
            attributes.push(PathAttribute::new(AttributeValue::LocalPref(100)));
        }
        // In ascending type order (RFC 4271 section 5), as GoBGP sends it.
        attributes.push(PathAttribute::new(AttributeValue::MpReach(MpReach::new(
            Family::IPV4_RTC,
            next_hop.octets().to_vec(),
            nlri,
        ))));
        out.push(Update {
            attributes,
            ..Update::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use evpnd_wire::message::DecodeOptions;

    #[test]
    fn the_default_membership_then_end_of_rib() {
        let updates = membership_updates(
            &[RtMembership::Default],
            Ipv4Addr::new(198, 19, 0, 4),
            true,
            65000,
        );
        assert_eq!(updates.len(), 2);
        let reach = updates[0].mp_reach().expect("MP_REACH_NLRI");
        assert_eq!(reach.family, Family::IPV4_RTC);
        assert_eq!(&reach.nlri[..], [0]);
        assert_eq!(&reach.next_hop[..], [198, 19, 0, 4]);
        assert_eq!(updates[0].local_pref(), Some(100));
        assert_eq!(updates[0].origin(), Some(Origin::Igp));
        assert_eq!(updates[1].is_end_of_rib(), Some(Family::IPV4_RTC));
        // It survives its own decoder, NLRI syntax included (RFC 7606 5.3).
        let opts = DecodeOptions {
            four_octet_as: true,
            ..DecodeOptions::default()
        };
        let mut wire = bytes::BytesMut::new();
        updates[0].encode(&mut wire, &opts);
        assert_eq!(Update::decode(&wire, &opts).unwrap(), updates[0]);
    }

    #[test]
    fn towards_an_external_peer_our_as_and_no_local_pref() {
        let updates = membership_updates(
            &[RtMembership::exact(65001, "65001:10".parse().unwrap())],
            Ipv4Addr::new(198, 19, 0, 4),
            false,
            65001,
        );
        assert_eq!(updates[0].local_pref(), None);
        assert_eq!(
            updates[0].as_path().and_then(AsPath::first_asn),
            Some(65001)
        );
    }

    #[test]
    fn a_changed_membership_withdraws_the_old_and_announces_the_new() {
        let m = |n: u32| RtMembership::exact(65000, format!("65000:{n}").parse().unwrap());
        let (announce, withdraw) = membership_change(&[m(10), m(11)], &[m(11), m(20)]);
        assert_eq!(
            (announce.clone(), withdraw.clone()),
            (vec![m(20)], vec![m(10)])
        );
        let updates = change_updates(&announce, &withdraw, Ipv4Addr::LOCALHOST, true, 65000);
        assert_eq!(updates.len(), 2);
        let unreach = updates[0].mp_unreach().expect("the withdrawal first");
        assert_eq!(
            RtMembership::decode_all(&unreach.withdrawn).unwrap(),
            [m(10)]
        );
        let reach = updates[1].mp_reach().expect("then the announcement");
        assert_eq!(RtMembership::decode_all(&reach.nlri).unwrap(), [m(20)]);
        assert!(change_updates(&[], &[], Ipv4Addr::LOCALHOST, true, 65000).is_empty());
    }

    #[test]
    fn nothing_to_announce_is_end_of_rib_alone() {
        let updates = membership_updates(&[], Ipv4Addr::LOCALHOST, true, 65000);
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].is_end_of_rib(), Some(Family::IPV4_RTC));
    }
}
