//! From a received UPDATE to what the RIB applies: the l2vpn-evpn NLRI
//! announced and withdrawn, the shared attributes in wire form, and the
//! values best-path selection needs. Loop checks and RFC 7606
//! treat-as-withdraw are decided here, once per UPDATE.

use super::attrs::{PathSummary, stored_attributes};
use bytes::Bytes;
use evpnd_wire::Family;
use evpnd_wire::evpn::{evpn_route_key, split_evpn_nlri};
use evpnd_wire::extcomm::ExtendedCommunity;
use evpnd_wire::notification::{ErrorCode, Notification, UpdateSubcode};
use evpnd_wire::rfc7606::ErrorAction;
use evpnd_wire::update::Update;
use std::net::Ipv4Addr;

/// The part of a received UPDATE the RIB needs, already decoded and
/// validated by the peer task (RFC 7606 decided there).
#[derive(Debug, Default)]
pub struct IngressUpdate {
    pub reach: Option<Reach>,
    /// The EVPN NLRI field of MP_UNREACH_NLRI (RFC 4760 4), plus any NLRI
    /// the peer task decided to treat as withdrawn (RFC 7606 2).
    pub withdrawn: Vec<Bytes>,
    /// RFC 4724 2: the peer finished its initial table.
    pub end_of_rib: bool,
    /// Routes of EVPN route types evpnd does not recognize, discarded
    /// (RFC 7606 section 5.4).
    pub unrecognized: u32,
}

/// MP_REACH_NLRI for l2vpn-evpn (RFC 4760 3) with the path's attributes.
#[derive(Debug)]
pub struct Reach {
    /// Path attributes other than MP_REACH/MP_UNREACH, as received.
    pub attributes: Bytes,
    pub next_hop: Bytes,
    pub summary: PathSummary,
    pub nlri: Bytes,
}

/// Who we are, for the loop checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalIdentity {
    pub asn: u32,
    pub router_id: Ipv4Addr,
    pub cluster_id: Ipv4Addr,
}

/// Why announced NLRI were handled as withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// RFC 4456 section 8: our own route, reflected back to us.
    OwnOriginatorId,
    /// RFC 4456 section 8: the route already passed through our cluster.
    ClusterLoop,
    /// RFC 4271 9.1.2: our AS is in the AS_PATH of an eBGP-learnt route.
    AsPathLoop,
    /// RFC 7606 section 2: the UPDATE was malformed in a way that calls for
    /// treat-as-withdraw.
    TreatAsWithdraw,
}

/// The RIB's view of one UPDATE for `family`. `action` is the RFC 7606
/// verdict on the attributes (a session reset never gets here); the EVPN
/// NLRI, which the UPDATE decoder carries unparsed, are checked here: a
/// syntax error in them resets the session (RFC 7606 section 5.3, RFC 4760
/// section 7: UPDATE Message Error / Optional Attribute Error).
///
/// The options `update` was decoded with do not matter here: the attributes
/// are stored in `attrs::STORED_FORM` whatever they were received in.
pub fn ingress_update(
    update: &Update,
    action: &ErrorAction,
    local: &LocalIdentity,
    external: bool,
    family: Family,
) -> Result<(IngressUpdate, Option<Ignored>), MalformedNlri> {
    for (type_code, field) in [
        (
            MP_REACH_NLRI,
            update
                .mp_reach()
                .filter(|m| m.family == family)
                .map(|m| &m.nlri),
        ),
        (
            MP_UNREACH_NLRI,
            update
                .mp_unreach()
                .filter(|m| m.family == family)
                .map(|m| &m.withdrawn),
        ),
    ] {
        let Some(field) = field else { continue };
        if let Err(e) =
            split_evpn_nlri(field).try_for_each(|n| n.and_then(evpn_route_key).map(drop))
        {
            // RFC 4271 section 6.3: the Data of an Optional Attribute Error
            // is the erroneous attribute (type, length and value); what is
            // wrong in it goes to the log.
            let attribute = update
                .attributes
                .iter()
                .find(|a| a.type_code() == type_code)
                .map(|a| {
                    let mut out = bytes::BytesMut::new();
                    a.encode(&mut out, &evpnd_wire::message::DecodeOptions::default());
                    out.freeze()
                })
                .unwrap_or_default();
            return Err(MalformedNlri {
                notification: Notification::new(
                    ErrorCode::Update(UpdateSubcode::OptionalAttributeError),
                    attribute,
                ),
                reason: e.to_string(),
            });
        }
    }
    Ok(classify_nlri(update, action, local, external, family))
}

/// MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 sections 3, 4).
const MP_REACH_NLRI: u8 = 14;
const MP_UNREACH_NLRI: u8 = 15;

/// EVPN NLRI that do not parse (RFC 7606 section 5.3: the session is
/// reset): the NOTIFICATION to send, and what was wrong, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedNlri {
    pub notification: Notification,
    pub reason: String,
}

impl std::fmt::Display for MalformedNlri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.reason, self.notification.code)
    }
}

fn classify_nlri(
    update: &Update,
    action: &ErrorAction,
    local: &LocalIdentity,
    external: bool,
    family: Family,
) -> (IngressUpdate, Option<Ignored>) {
    let mut out = IngressUpdate {
        end_of_rib: update.is_end_of_rib() == Some(family),
        ..Default::default()
    };
    if let Some(unreach) = update
        .mp_unreach()
        .filter(|m| m.family == family && !m.withdrawn.is_empty())
    {
        let (withdrawn, unrecognized) = recognized_routes(&unreach.withdrawn);
        out.unrecognized += unrecognized;
        if !withdrawn.is_empty() {
            out.withdrawn.push(withdrawn);
        }
    }
    let Some(reach) = update
        .mp_reach()
        .filter(|m| m.family == family && !m.nlri.is_empty())
    else {
        return (out, None);
    };
    let (nlri, unrecognized) = recognized_routes(&reach.nlri);
    out.unrecognized += unrecognized;
    if nlri.is_empty() {
        return (out, None);
    }
    let ignored = if *action == ErrorAction::TreatAsWithdraw {
        Some(Ignored::TreatAsWithdraw)
    } else {
        loop_check(update, local, external)
    };
    if ignored.is_some() {
        out.withdrawn.push(nlri);
        return (out, ignored);
    }
    out.reach = Some(Reach {
        attributes: stored_attributes(update, external),
        next_hop: reach.next_hop.clone(),
        summary: PathSummary {
            // RFC 4271 5.1.5: LOCAL_PREF from an external peer is ignored.
            local_pref: update.local_pref().filter(|_| !external),
            ..summarize(update)
        },
        nlri,
    });
    (out, None)
}

/// The EVPN route types evpnd recognizes: 1 to 4 (RFC 7432 section 7) and
/// 5 (RFC 9136 section 3).
const RECOGNIZED_ROUTE_TYPES: std::ops::RangeInclusive<u8> = 1..=5;

/// RFC 7606 section 5.4: a speaker supporting a typed address family "MUST
/// handle routes with unrecognized NLRI types within that address family
/// by discarding them". The field, already checked for syntax, without
/// those routes, and how many there were (the same bytes, uncopied, when
/// every route is recognized).
fn recognized_routes(field: &Bytes) -> (Bytes, u32) {
    let known = |route: &&[u8]| {
        route
            .first()
            .is_some_and(|t| RECOGNIZED_ROUTE_TYPES.contains(t))
    };
    let routes = || split_evpn_nlri(field).filter_map(Result::ok);
    if routes().all(|r| known(&r)) {
        return (field.clone(), 0);
    }
    let mut kept = bytes::BytesMut::with_capacity(field.len());
    let mut unrecognized = 0;
    for route in routes() {
        if known(&route) {
            kept.extend_from_slice(route);
        } else {
            unrecognized += 1;
        }
    }
    (kept.freeze(), unrecognized)
}

fn loop_check(update: &Update, local: &LocalIdentity, external: bool) -> Option<Ignored> {
    if update.originator_id() == Some(local.router_id) {
        return Some(Ignored::OwnOriginatorId);
    }
    if update
        .cluster_list()
        .is_some_and(|list| list.contains(&local.cluster_id))
    {
        return Some(Ignored::ClusterLoop);
    }
    if external && update.as_path().is_some_and(|p| p.contains(local.asn)) {
        return Some(Ignored::AsPathLoop);
    }
    None
}

/// The values the decision process compares, read once per UPDATE.
/// A path the previous process held, handed over with its sessions (ADR
/// 0010): its attributes are in the stored form already (`rib::attrs`), so
/// they go in unchanged and are summarized as the RIB summarizes any stored
/// set (LOCAL_PREF ignored from an external peer, RFC 4271 5.1.5).
pub fn restored(attributes: Bytes, next_hop: Bytes, nlri: Bytes, external: bool) -> IngressUpdate {
    let update = crate::rib::attrs::decode_stored(&attributes);
    let summary = PathSummary {
        local_pref: update.local_pref().filter(|_| !external),
        ..summarize(&update)
    };
    IngressUpdate {
        reach: Some(Reach {
            attributes,
            next_hop,
            summary,
            nlri,
        }),
        ..Default::default()
    }
}

pub fn summarize(update: &Update) -> PathSummary {
    let as_path = update.as_path();
    PathSummary {
        origin: update.origin().unwrap_or_default(),
        as_path_len: as_path.map_or(0, |p| p.path_len() as u32),
        neighbor_as: as_path.and_then(|p| p.first_asn()),
        local_pref: update.local_pref(),
        med: update.multi_exit_disc().unwrap_or(0),
        originator_id: update.originator_id(),
        cluster_list_len: update.cluster_list().map_or(0, |l| l.len() as u32),
        mac_mobility: update.extended_communities().and_then(|communities| {
            communities.iter().find_map(|c| match c {
                ExtendedCommunity::MacMobility(m) => Some(*m),
                _ => None,
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;
    use evpnd_wire::message::Message;

    fn update(hex_message: &str) -> Update {
        match Message::decode(
            &hex(hex_message),
            &evpnd_wire::message::DecodeOptions::default(),
        )
        .unwrap()
        {
            Message::Update(u) => u,
            other => panic!("not an UPDATE: {other:?}"),
        }
    }

    const RR: LocalIdentity = LocalIdentity {
        asn: 65000,
        router_id: Ipv4Addr::new(198, 19, 0, 4),
        cluster_id: Ipv4Addr::new(198, 19, 0, 4),
    };

    /// msg 6 of proto-tests/vectors/frr/bgp-evpn-messages.txt: n3's type-3 for
    /// VNI 0 to the reflector.
    const FROM_VTEP: &str = "ffffffffffffffffffffffffffffffff0065020000004e900e001c00194604c61300030003110001c613000300020000000020c6130003400101005002000040050400000064c01010030c0000000000080002fde800000000c016090006000000c6130003";
    /// msg 8: the same route as the reflector sent it back (CLUSTER_LIST 198.19.0.4).
    const REFLECTED: &str = "ffffffffffffffffffffffffffffffff007a0200000063900e001c00194604c61300030003110001c613000300020000000020c613000340010100500200008004040000000040050400000064800904c6130003800a04c6130004c010100002fde800000000030c000000000008c016090006000000c6130003";

    #[test]
    fn routes_of_unrecognized_types_are_discarded_rfc7606_5_4() {
        // FROM_VTEP with a type-200 route (length 2) after its type 3: the
        // attribute, the attribute list and the message 4 octets longer.
        let with_unknown = update(concat!(
            "ffffffffffffffffffffffffffffffff",
            "0069020000",
            "0052",
            "900e0020",
            "00194604c613000300",
            "03110001c613000300020000000020c6130003",
            "c802abcd",
            "400101005002000040050400000064c01010030c0000000000080002fde800000000c016090006000000c6130003"
        ));
        let (ingress, ignored) = ingress_update(
            &with_unknown,
            &ErrorAction::Accept,
            &RR,
            false,
            Family::L2VPN_EVPN,
        )
        .unwrap();
        assert_eq!(ignored, None);
        assert_eq!(ingress.unrecognized, 1);
        let reach = ingress.reach.expect("the type 3 stays");
        assert_eq!(
            &reach.nlri[..],
            &hex("03110001c613000300020000000020c6130003")[..]
        );
        // The known route alone: nothing discarded, nothing copied.
        let plain = update(FROM_VTEP);
        let (ingress, _) =
            ingress_update(&plain, &ErrorAction::Accept, &RR, false, Family::L2VPN_EVPN).unwrap();
        assert_eq!(ingress.unrecognized, 0);
    }

    #[test]
    fn vtep_route_becomes_a_reach_with_shared_attributes_and_summary() {
        let (ingress, ignored) = ingress_update(
            &update(FROM_VTEP),
            &ErrorAction::Accept,
            &RR,
            false,
            Family::L2VPN_EVPN,
        )
        .unwrap();
        assert_eq!(ignored, None);
        let reach = ingress.reach.expect("reach");
        assert_eq!(reach.next_hop.as_ref(), &[198, 19, 0, 3]);
        assert_eq!(reach.nlri.len(), 19, "one type-3 NLRI");
        assert_eq!(reach.summary.local_pref, Some(100));
        assert_eq!(reach.summary.as_path_len, 0);
        // The shared attributes are the UPDATE's, minus MP_REACH_NLRI, as sent.
        assert_eq!(
            reach.attributes.as_ref(),
            &hex(FROM_VTEP)[19 + 4 + 4 + 28..]
        );
        assert!(ingress.withdrawn.is_empty());
    }

    #[test]
    fn own_cluster_id_in_cluster_list_is_a_loop() {
        let (ingress, ignored) = ingress_update(
            &update(REFLECTED),
            &ErrorAction::Accept,
            &RR,
            false,
            Family::L2VPN_EVPN,
        )
        .unwrap();
        assert_eq!(ignored, Some(Ignored::ClusterLoop));
        assert!(ingress.reach.is_none());
        assert_eq!(
            ingress.withdrawn.len(),
            1,
            "announced NLRI handled as withdrawn"
        );
        let vtep = LocalIdentity {
            asn: 65000,
            router_id: Ipv4Addr::new(198, 19, 0, 3),
            cluster_id: Ipv4Addr::new(198, 19, 0, 3),
        };
        let (_, ignored) = ingress_update(
            &update(REFLECTED),
            &ErrorAction::Accept,
            &vtep,
            false,
            Family::L2VPN_EVPN,
        )
        .unwrap();
        assert_eq!(
            ignored,
            Some(Ignored::OwnOriginatorId),
            "a client drops its own route reflected back"
        );
    }

    #[test]
    fn malformed_evpn_nlri_resets_the_session() {
        // msg 6 with the type-3 NLRI's length octet (0x11) raised to 0x12.
        let bad = FROM_VTEP.replacen("00031100", "00031200", 1);
        let reset = ingress_update(
            &update(&bad),
            &ErrorAction::Accept,
            &RR,
            false,
            Family::L2VPN_EVPN,
        )
        .unwrap_err();
        assert_eq!(
            reset.notification.code,
            ErrorCode::Update(UpdateSubcode::OptionalAttributeError)
        );
        // RFC 4271 section 6.3: the Data is the MP_REACH_NLRI attribute as
        // received (flags, type, length, value); the reason is for the log.
        let attribute = &hex(&bad)[23..23 + 4 + 0x1c];
        assert_eq!(&reset.notification.data[..], attribute);
        assert!(reset.reason.contains("EVPN route"), "{}", reset.reason);
    }

    #[test]
    fn treat_as_withdraw_and_end_of_rib() {
        let (ingress, ignored) = ingress_update(
            &update(FROM_VTEP),
            &ErrorAction::TreatAsWithdraw,
            &RR,
            false,
            Family::L2VPN_EVPN,
        )
        .unwrap();
        assert_eq!(ignored, Some(Ignored::TreatAsWithdraw));
        assert!(ingress.reach.is_none() && ingress.withdrawn.len() == 1);
        let (eor, _) = ingress_update(
            &update("ffffffffffffffffffffffffffffffff001d0200000006800f03001946"),
            &ErrorAction::Accept,
            &RR,
            false,
            Family::L2VPN_EVPN,
        )
        .unwrap();
        assert!(eor.end_of_rib && eor.reach.is_none() && eor.withdrawn.is_empty());
    }
}
