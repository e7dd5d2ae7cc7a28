//! Checks of a received OPEN and the negotiation it decides, pure and in one
//! place: [`check_open`] turns the peer's wire [`Open`] and our
//! [`FsmConfig`] into either the [`NegotiatedSession`] (the digest of the
//! OPEN the rest of the daemon uses: hold time, keepalive, families, 4-octet
//! AS, Graceful Restart, ...) or the NOTIFICATION to send (RFC 4271 section
//! 6.2, OPEN Message Error, code 2).
//!
//! The FSM calls it for every OPEN (RFC 4271 section 8.1.2: an OPEN that
//! passes is BGPOpen, Event 19; one that fails is BGPOpenMsgErr, Event 22).
//! The decoder (`evpnd_wire::open`) only rejects what it cannot parse.

use super::config::FsmConfig;
use bytes::{Bytes, BytesMut};
use evpnd_wire::Family;
use evpnd_wire::capability::{Capability, GracefulRestart};
use evpnd_wire::header::MAX_EXTENDED_MESSAGE_LEN;
use evpnd_wire::message::{DecodeOptions, EncodeOptions};
use evpnd_wire::notification::{ErrorCode, Notification, OpenSubcode};
use evpnd_wire::open::{BGP_VERSION, Open, OptionalParameter};
use std::net::Ipv4Addr;

/// The outcome of a successful OPEN exchange, handed to the rest of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedSession {
    pub peer_asn: u32,
    pub peer_bgp_id: Ipv4Addr,
    /// iBGP (RFC 4271 section 1.1 "internal peer").
    pub internal: bool,
    /// min(ours, theirs) (RFC 4271 section 4.2); 0 means no keepalives.
    pub hold_time: u16,
    /// min(configured, hold/3) (RFC 4271 section 4.4); 0 when hold_time is 0.
    pub keepalive: u16,
    /// Families both sides announced, in our configured order (RFC 4760 section 8).
    pub families: Vec<Family>,
    /// Both sides support 4-octet AS (RFC 6793 section 4): AS_PATH uses
    /// 4-octet ASNs. The same as `receive.four_octet_as`.
    pub four_octet_as: bool,
    /// Both sides support messages up to 65535 octets (RFC 8654 section 3).
    /// The same as `receive.max_message_len` being 65535.
    pub extended_message: bool,
    /// Both sides announced Route Refresh (RFC 2918 section 2).
    pub route_refresh: bool,
    /// Both sides announced Enhanced Route Refresh (RFC 7313 section 3).
    pub enhanced_route_refresh: bool,
    /// The wire form of what the peer sends us (RFC 6793 section 4, RFC
    /// 8654 section 3, RFC 7911 section 5), from both OPENs.
    pub receive: DecodeOptions,
    /// The wire form of what we send the peer.
    pub send: EncodeOptions,
    /// The peer's Graceful Restart capability (RFC 4724 section 3), as sent.
    pub peer_graceful_restart: Option<GracefulRestart>,
}

fn open_error(subcode: OpenSubcode, data: impl Into<Bytes>) -> Notification {
    Notification::new(ErrorCode::Open(subcode), data)
}

/// Check a received OPEN against our configuration (RFC 4271 section 6.2)
/// and negotiate the session.
///
/// The checks, in the order they are applied (the order evpnd has always
/// used; RFC 4271 does not order them):
/// 1. Version is 4, else Unsupported Version Number (subcode 1) with the
///    largest version we support as 2 octets of data (RFC 4271 section 6.2).
/// 2. Hold Time is 0 or at least 3 seconds, else Unacceptable Hold Time
///    (subcode 6; RFC 4271 sections 4.2 and 6.2).
/// 3. BGP Identifier is not 0, else Bad BGP Identifier (subcode 3; RFC 6286
///    section 2.2 relaxes RFC 4271 section 6.2 "syntactically incorrect" to
///    "non-zero").
/// 4. Every optional parameter is Capabilities (type 2, RFC 5492 section 4),
///    else Unsupported Optional Parameter (subcode 4; RFC 4271 section 6.2).
/// 5. The peer's AS is the one configured, else Bad Peer AS (subcode 2; RFC
///    4271 section 6.2). The peer's AS is the 4-octet AS capability's value
///    when present, else My Autonomous System (RFC 6793 section 4.1), so a
///    2-octet speaker whose My AS is AS_TRANS (23456) and that sends no
///    capability only matches a peer configured as AS 23456.
/// 6. On iBGP, the BGP Identifier differs from ours, else Bad BGP Identifier
///    (subcode 3; RFC 6286 section 2.2: unique within an AS; between ASes it
///    may be equal, RFC 6286 section 2.3).
/// 7. At least one configured family is shared, else Unsupported Capability
///    (subcode 7) listing our Multiprotocol capabilities as data (RFC 5492
///    section 5; RFC 4760 section 8). No Multiprotocol capability at all
///    means IPv4 unicast only (RFC 4760 section 8, RFC 4271).
///
/// Other capabilities are never refused: unknown ones are ignored (RFC 5492
/// section 3).
pub fn check_open(open: &Open, config: &FsmConfig) -> Result<NegotiatedSession, Notification> {
    if open.version != BGP_VERSION {
        return Err(open_error(
            OpenSubcode::UnsupportedVersionNumber,
            u16::from(BGP_VERSION).to_be_bytes().to_vec(),
        ));
    }
    if matches!(open.hold_time, 1 | 2) {
        return Err(open_error(OpenSubcode::UnacceptableHoldTime, Bytes::new()));
    }
    if open.bgp_identifier.is_unspecified() {
        return Err(open_error(OpenSubcode::BadBgpIdentifier, Bytes::new()));
    }
    if open
        .parameters
        .iter()
        .any(|p| matches!(p, OptionalParameter::Unknown { .. }))
    {
        return Err(open_error(
            OpenSubcode::UnsupportedOptionalParameter,
            Bytes::new(),
        ));
    }
    let peer_asn = open.asn();
    if peer_asn != config.peer_asn {
        return Err(open_error(OpenSubcode::BadPeerAs, Bytes::new()));
    }
    let internal = config.is_internal();
    if internal && open.bgp_identifier == config.local_bgp_id() {
        return Err(open_error(OpenSubcode::BadBgpIdentifier, Bytes::new()));
    }
    let local = &config.local_open;
    let ours = local.families();
    let mut theirs = open.families();
    if theirs.is_empty() {
        theirs.push(Family::IPV4_UNICAST);
    }
    let families: Vec<Family> = ours
        .iter()
        .filter(|f| theirs.contains(f))
        .copied()
        .collect();
    if families.is_empty() {
        // FRR refuses the session the same way.
        let mut data = BytesMut::with_capacity(ours.len() * 6);
        for f in &ours {
            Capability::Multiprotocol(*f).encode(&mut data);
        }
        return Err(open_error(
            OpenSubcode::UnsupportedCapability,
            data.freeze(),
        ));
    }
    // RFC 4271 section 4.2: the smaller of the two Hold Times; section 4.4
    // and 10: keepalives at most every hold/3 seconds, none when hold is 0.
    let hold_time = local.hold_time.min(open.hold_time);
    let keepalive = if hold_time == 0 {
        0
    } else {
        let wanted = if config.keepalive == 0 {
            hold_time / 3
        } else {
            config.keepalive
        };
        wanted.min(hold_time / 3).max(1)
    };
    // Each direction's wire form, from both OPENs.
    let receive = DecodeOptions::negotiated(local, open);
    let send = DecodeOptions::negotiated(open, local);
    Ok(NegotiatedSession {
        peer_asn,
        peer_bgp_id: open.bgp_identifier,
        internal,
        hold_time,
        keepalive,
        families,
        four_octet_as: receive.four_octet_as,
        extended_message: receive.max_message_len == MAX_EXTENDED_MESSAGE_LEN,
        route_refresh: local.route_refresh() && open.route_refresh(),
        enhanced_route_refresh: local.enhanced_route_refresh() && open.enhanced_route_refresh(),
        peer_graceful_restart: open.graceful_restart().cloned(),
        receive,
        send,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fsm_config;
    use evpnd_wire::capability::GracefulRestartFamily;
    use evpnd_wire::{Afi, Safi};
    use proptest::prelude::*;

    const EVPN: Family = Family::L2VPN_EVPN;
    const OURS: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 4);
    const THEIRS: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 1);

    /// Our configuration announcing `caps` (and the 4-octet AS capability).
    fn config_announcing(caps: Vec<Capability>) -> FsmConfig {
        let mut caps = caps;
        caps.push(Capability::FourOctetAs(65000));
        fsm_config(Open::new(65000, 90, OURS, caps))
    }

    /// As evpnd's own: EVPN, Route Refresh, Extended Message.
    fn config() -> FsmConfig {
        config_announcing(vec![
            Capability::Multiprotocol(EVPN),
            Capability::RouteRefresh,
            Capability::ExtendedMessage,
        ])
    }

    /// An OPEN from `asn` with the 4-octet AS capability and `caps`.
    fn open_from(asn: u32, caps: Vec<Capability>) -> Open {
        let mut caps = caps;
        caps.push(Capability::FourOctetAs(asn));
        Open::new(asn, 9, THEIRS, caps)
    }

    /// FRR's OPEN (tests/wire_vectors.rs): EVPN, Route Refresh, Enhanced
    /// Route Refresh, Extended Message, 4-octet AS.
    fn open() -> Open {
        open_from(
            65000,
            vec![
                Capability::Multiprotocol(EVPN),
                Capability::RouteRefresh,
                Capability::EnhancedRouteRefresh,
                Capability::ExtendedMessage,
            ],
        )
    }

    fn subcode(open: &Open, config: &FsmConfig) -> OpenSubcode {
        match check_open(open, config) {
            Err(Notification {
                code: ErrorCode::Open(s),
                ..
            }) => s,
            other => panic!("expected an OPEN Message Error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_frr_and_negotiates() {
        let s = check_open(&open(), &config()).unwrap();
        assert_eq!((s.peer_asn, s.peer_bgp_id), (65000, THEIRS));
        assert!(s.internal);
        assert_eq!((s.hold_time, s.keepalive), (9, 3));
        assert_eq!(s.families, vec![EVPN]);
        assert!(s.four_octet_as && s.extended_message && s.route_refresh);
        assert!(!s.enhanced_route_refresh, "we do not announce it");
        assert_eq!(s.peer_graceful_restart, None);
        // The wire form each way follows from the same two OPENs.
        assert!(s.receive.four_octet_as && s.send.four_octet_as);
        assert_eq!(s.receive.max_message_len, MAX_EXTENDED_MESSAGE_LEN);
        assert_eq!(s.send, s.receive);
        // A 2-octet peer without Extended Message: 2-octet AS_PATHs, 4096 octets.
        let two = Open::new(65000, 9, THEIRS, vec![Capability::Multiprotocol(EVPN)]);
        let s = check_open(&two, &config()).unwrap();
        assert!(!s.four_octet_as && !s.extended_message && !s.route_refresh);
        assert_eq!(s.receive, DecodeOptions::default());
        assert_eq!(s.send, EncodeOptions::default());
    }

    #[test]
    fn subcode_1_unsupported_version_number() {
        let o = Open {
            version: 3,
            ..open()
        };
        let n = check_open(&o, &config()).unwrap_err();
        assert_eq!(
            n.code,
            ErrorCode::Open(OpenSubcode::UnsupportedVersionNumber)
        );
        assert_eq!(n.code.to_wire(), (2, 1));
        assert_eq!(&n.data[..], &[0, 4], "the version we support, 2 octets");
    }

    #[test]
    fn subcode_2_bad_peer_as() {
        let o = open_from(65001, vec![Capability::Multiprotocol(EVPN)]);
        assert_eq!(subcode(&o, &config()), OpenSubcode::BadPeerAs);
        // RFC 6793 section 4.1: the capability, not My AS, is the peer's AS.
        let mut o = open_from(4_200_000_000, vec![Capability::Multiprotocol(EVPN)]);
        assert_eq!(o.my_as, 23456, "AS_TRANS");
        let as4 = FsmConfig {
            peer_asn: 4_200_000_000,
            ..config()
        };
        assert_eq!(check_open(&o, &as4).unwrap().peer_asn, 4_200_000_000);
        // Without the capability, AS_TRANS is just AS 23456.
        o.parameters = vec![OptionalParameter::Capabilities(vec![
            Capability::Multiprotocol(EVPN),
        ])];
        assert_eq!(subcode(&o, &as4), OpenSubcode::BadPeerAs);
        // A 2-octet speaker is accepted on its My AS alone.
        let two = Open::new(65000, 9, THEIRS, vec![Capability::Multiprotocol(EVPN)]);
        let s = check_open(&two, &config()).unwrap();
        assert!(!s.four_octet_as);
        assert_eq!(
            check_open(&o, &config()).unwrap_err().code.to_wire(),
            (2, 2)
        );
    }

    #[test]
    fn subcode_3_bad_bgp_identifier() {
        let zero = Open {
            bgp_identifier: Ipv4Addr::UNSPECIFIED,
            ..open()
        };
        assert_eq!(subcode(&zero, &config()), OpenSubcode::BadBgpIdentifier);
        let same = Open {
            bgp_identifier: OURS,
            ..open()
        };
        assert_eq!(subcode(&same, &config()), OpenSubcode::BadBgpIdentifier);
        assert_eq!(
            check_open(&same, &config()).unwrap_err().code.to_wire(),
            (2, 3)
        );
        // RFC 6286 section 2.3: an external peer may share our identifier.
        let ebgp = FsmConfig {
            peer_asn: 65001,
            ..config()
        };
        let o = Open {
            bgp_identifier: OURS,
            ..open_from(65001, vec![Capability::Multiprotocol(EVPN)])
        };
        let s = check_open(&o, &ebgp).unwrap();
        assert!(!s.internal);
        // But not a zero one.
        let o = Open {
            bgp_identifier: Ipv4Addr::UNSPECIFIED,
            ..o
        };
        assert_eq!(subcode(&o, &ebgp), OpenSubcode::BadBgpIdentifier);
    }

    #[test]
    fn subcode_4_unsupported_optional_parameter() {
        let mut o = open();
        o.parameters.push(OptionalParameter::Unknown {
            param_type: 1,
            value: Bytes::from_static(&[0, 0]),
        });
        let n = check_open(&o, &config()).unwrap_err();
        assert_eq!(n.code.to_wire(), (2, 4));
    }

    #[test]
    fn subcode_6_unacceptable_hold_time() {
        for hold in [1, 2] {
            let o = Open {
                hold_time: hold,
                ..open()
            };
            assert_eq!(subcode(&o, &config()), OpenSubcode::UnacceptableHoldTime);
            assert_eq!(
                check_open(&o, &config()).unwrap_err().code.to_wire(),
                (2, 6)
            );
        }
        // 0 (no keepalives) and 3 are fine: RFC 4271 section 4.2.
        let o = Open {
            hold_time: 0,
            ..open()
        };
        let s = check_open(&o, &config()).unwrap();
        assert_eq!((s.hold_time, s.keepalive), (0, 0));
        let o = Open {
            hold_time: 3,
            ..open()
        };
        let s = check_open(&o, &config()).unwrap();
        assert_eq!((s.hold_time, s.keepalive), (3, 1));
        // Ours is smaller: it wins, keepalive is the configured 30.
        let o = Open {
            hold_time: 240,
            ..open()
        };
        let s = check_open(&o, &config()).unwrap();
        assert_eq!((s.hold_time, s.keepalive), (90, 30));
    }

    #[test]
    fn subcode_7_unsupported_capability() {
        let o = open_from(65000, vec![Capability::Multiprotocol(Family::IPV6_UNICAST)]);
        let n = check_open(&o, &config()).unwrap_err();
        assert_eq!(n.code.to_wire(), (2, 7));
        // Our Multiprotocol capability: code 1, length 4, AFI 25, 0, SAFI 70.
        assert_eq!(&n.data[..], &[1, 4, 0, 25, 0, 70]);
        // No Multiprotocol capability means IPv4 unicast only.
        let o = open_from(65000, vec![]);
        assert_eq!(subcode(&o, &config()), OpenSubcode::UnsupportedCapability);
        let v4 = config_announcing(vec![Capability::Multiprotocol(Family::IPV4_UNICAST)]);
        assert_eq!(
            check_open(&o, &v4).unwrap().families,
            vec![Family::IPV4_UNICAST]
        );
    }

    #[test]
    fn checks_apply_in_order() {
        // Version first, whatever else is wrong.
        let o = Open {
            version: 3,
            hold_time: 1,
            bgp_identifier: Ipv4Addr::UNSPECIFIED,
            ..open_from(65001, vec![])
        };
        assert_eq!(
            subcode(&o, &config()),
            OpenSubcode::UnsupportedVersionNumber
        );
        // Hold time before the peer AS.
        let o = Open {
            hold_time: 2,
            ..open_from(65001, vec![])
        };
        assert_eq!(subcode(&o, &config()), OpenSubcode::UnacceptableHoldTime);
        // Peer AS before the families.
        assert_eq!(
            subcode(&open_from(65001, vec![]), &config()),
            OpenSubcode::BadPeerAs
        );
    }

    #[test]
    fn families_in_our_order_and_capabilities_digested() {
        let cfg = config_announcing(vec![
            Capability::Multiprotocol(EVPN),
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
        ]);
        let gr = GracefulRestart {
            flags: GracefulRestart::FLAG_RESTART_STATE,
            restart_time: 120,
            families: vec![GracefulRestartFamily {
                family: EVPN,
                flags: GracefulRestart::FAMILY_FORWARDING_PRESERVED,
            }],
        };
        let o = open_from(
            65000,
            vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::Multiprotocol(EVPN),
                Capability::RouteRefreshCisco,
                Capability::EnhancedRouteRefresh,
                Capability::ExtendedMessage,
                Capability::GracefulRestart(gr.clone()),
                Capability::Unknown {
                    code: 71,
                    value: Bytes::new(),
                },
            ],
        );
        let s = check_open(&o, &cfg).unwrap();
        assert_eq!(s.families, vec![EVPN, Family::IPV4_UNICAST]);
        assert!(s.route_refresh && s.enhanced_route_refresh);
        assert!(!s.extended_message, "we do not announce it");
        assert_eq!(s.peer_graceful_restart, Some(gr));
    }

    proptest! {
        /// Whatever the OPEN, the outcome is either an OPEN Message Error or
        /// a session within RFC 4271 sections 4.2 and 4.4 and RFC 4760 section 8.
        #[test]
        fn any_open_is_refused_or_negotiated_within_the_rules(
            version in prop_oneof![Just(4u8), any::<u8>()],
            asn in prop_oneof![Just(65000u32), any::<u32>()],
            hold in any::<u16>(),
            id in any::<u32>(),
            families in proptest::collection::vec((0u16..30, 0u8..80), 0..4),
        ) {
            let caps = families
                .into_iter()
                .map(|(afi, safi)| Capability::Multiprotocol(Family::new(Afi(afi), Safi(safi))))
                .collect();
            let o = Open { version, ..open_from(asn, caps) };
            let o = Open { hold_time: hold, bgp_identifier: Ipv4Addr::from(id), ..o };
            match check_open(&o, &config()) {
                Ok(s) => {
                    prop_assert!(s.hold_time == 0 || s.hold_time >= 3);
                    prop_assert!(s.hold_time <= 90 && s.hold_time <= hold);
                    prop_assert!(s.hold_time == 0 || (s.keepalive >= 1 && s.keepalive <= s.hold_time / 3));
                    prop_assert_eq!(s.families, vec![EVPN]);
                    prop_assert_eq!(s.peer_asn, 65000);
                }
                Err(n) => prop_assert!(matches!(n.code, ErrorCode::Open(_))),
            }
        }
    }
}
