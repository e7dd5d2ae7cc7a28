//! FSM unit and property tests.

use super::*;
use crate::test_support::fsm_config;
use evpnd_wire::capability::Capability;
use evpnd_wire::open::Open;
use evpnd_wire::{Afi, Family, Safi};
use proptest::prelude::*;
use std::net::Ipv4Addr;

const EVPN: Family = Family::L2VPN_EVPN;

fn n(code: u8, subcode: u8) -> Notification {
    super::notification(ErrorCode::from_wire(code, subcode))
}

fn cease(subcode: u8) -> Notification {
    Notification::cease(CeaseSubcode::from_u8(subcode))
}

/// An OPEN from `asn` (4-octet AS capability included) with `caps`.
fn open_from(asn: u32, hold_time: u16, id: Ipv4Addr, mut caps: Vec<Capability>) -> Open {
    caps.push(Capability::FourOctetAs(asn));
    Open::new(asn, hold_time, id, caps)
}

fn config() -> FsmConfig {
    // As evpnd's own: EVPN, Route Refresh, 4-octet AS, Extended Message.
    fsm_config(open_from(
        65000,
        90,
        Ipv4Addr::new(198, 19, 0, 4),
        vec![
            Capability::Multiprotocol(EVPN),
            Capability::RouteRefresh,
            Capability::ExtendedMessage,
        ],
    ))
}

/// FRR's OPEN: IPv4 unicast and EVPN, Route Refresh, Enhanced Route
/// Refresh, Extended Message, 4-octet AS.
fn open() -> Open {
    open_from(
        65000,
        9,
        Ipv4Addr::new(198, 19, 0, 1),
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(EVPN),
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::ExtendedMessage,
        ],
    )
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn timer_started(actions: &[Action], timer: Timer) -> Option<Duration> {
    actions.iter().find_map(|a| match a {
        Action::StartTimer { timer: t, after } if *t == timer => Some(*after),
        _ => None,
    })
}

fn notification(actions: &[Action]) -> Option<&Notification> {
    actions.iter().find_map(|a| match a {
        Action::SendNotification(n) => Some(n),
        _ => None,
    })
}

/// Drive a fresh FSM to Established over an outgoing connection.
fn established(cfg: FsmConfig) -> Fsm {
    let mut fsm = Fsm::new(cfg, 7);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.state(), State::Established);
    fsm
}

#[test]
fn active_open_happy_path() {
    let mut fsm = Fsm::new(config(), 7);
    let a = fsm.handle(Event::ManualStart);
    assert_eq!(fsm.state(), State::Connect);
    let retry = timer_started(&a, Timer::ConnectRetry).unwrap();
    assert!(retry >= secs(22) && retry <= secs(30), "{retry:?}");
    assert_eq!(a.last(), Some(&Action::Connect));

    let a = fsm.handle(Event::TcpCrAcked);
    assert_eq!(
        a,
        vec![
            Action::StopTimer(Timer::ConnectRetry),
            Action::SendOpen,
            Action::StartTimer {
                timer: Timer::Hold,
                after: OPEN_HOLD_TIME
            },
        ]
    );
    assert_eq!(fsm.state(), State::OpenSent);

    let a = fsm.handle(Event::BgpOpen(open()));
    assert_eq!(
        a,
        vec![
            Action::SendKeepalive,
            Action::StartTimer {
                timer: Timer::Keepalive,
                after: secs(3)
            },
            Action::StartTimer {
                timer: Timer::Hold,
                after: secs(9)
            },
        ]
    );
    assert_eq!(fsm.state(), State::OpenConfirm);

    let a = fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.state(), State::Established);
    assert_eq!(
        a[0],
        Action::StartTimer {
            timer: Timer::Hold,
            after: secs(9)
        }
    );
    let Action::Established(s) = &a[1] else {
        panic!("{a:?}")
    };
    assert_eq!(s.hold_time, 9);
    assert_eq!(s.keepalive, 3);
    assert_eq!(s.families, vec![EVPN]);
    assert!(s.four_octet_as && s.extended_message && s.route_refresh);
    assert!(!s.enhanced_route_refresh, "we do not announce it");
    assert!(s.internal);
    assert_eq!(timer_started(&a, Timer::Stability), Some(secs(60)));

    // Keepalives and updates keep the session up.
    assert_eq!(
        fsm.handle(Event::UpdateMsg),
        vec![Action::StartTimer {
            timer: Timer::Hold,
            after: secs(9)
        }]
    );
    assert_eq!(
        fsm.handle(Event::KeepaliveTimerExpires),
        vec![
            Action::SendKeepalive,
            Action::StartTimer {
                timer: Timer::Keepalive,
                after: secs(3)
            }
        ]
    );
}

#[test]
fn passive_peer_waits_and_accepts() {
    let mut fsm = Fsm::new(
        FsmConfig {
            passive: true,
            ..config()
        },
        1,
    );
    let a = fsm.handle(Event::ManualStart);
    assert_eq!(fsm.state(), State::Active);
    assert!(
        a.is_empty(),
        "a passive peer neither connects nor retries: {a:?}"
    );
    let a = fsm.handle(Event::TcpConnectionConfirmed);
    assert_eq!(fsm.state(), State::OpenSent);
    assert!(a.contains(&Action::SendOpen));
    fsm.handle(Event::BgpOpen(open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.state(), State::Established);
}

#[test]
fn passive_start_event_connects_after_connect_retry() {
    let mut fsm = Fsm::new(config(), 1);
    let a = fsm.handle(Event::ManualStartWithPassiveTcpEstablishment);
    assert_eq!(fsm.state(), State::Active);
    assert!(!a.contains(&Action::Connect));
    let a = fsm.handle(Event::ConnectRetryTimerExpires);
    assert_eq!(fsm.state(), State::Connect);
    assert!(a.contains(&Action::Connect));
}

#[test]
fn hold_timer_expiry_sends_notification_and_goes_idle() {
    let mut fsm = established(config());
    let a = fsm.handle(Event::HoldTimerExpires);
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(a[0], Action::SendNotification(n(4, 0)));
    assert_eq!(a[1], Action::DropConnection);
    assert!(a.contains(&Action::SessionDown {
        reason: DownReason::HoldTimerExpired
    }));
    // Damping: an automatic restart is scheduled.
    assert!(timer_started(&a, Timer::IdleHold).is_some());
    assert_eq!(
        fsm.running_timers().collect::<Vec<_>>(),
        vec![Timer::IdleHold]
    );
    let a = fsm.handle(Event::IdleHoldTimerExpires);
    assert_eq!(fsm.state(), State::Connect);
    assert!(a.contains(&Action::Connect));
}

#[test]
fn hold_timer_in_open_sent() {
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    let a = fsm.handle(Event::HoldTimerExpires);
    assert_eq!(notification(&a), Some(&n(4, 0)));
    assert_eq!(fsm.state(), State::Idle);
    assert!(!a.iter().any(|a| matches!(a, Action::SessionDown { .. })));
}

fn open_error(o: Open) -> Notification {
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    let a = fsm.handle(Event::BgpOpen(o));
    assert_eq!(fsm.state(), State::Idle);
    let n = notification(&a).cloned().unwrap();
    assert!(matches!(
        fsm.last_error(),
        Some(DownReason::NotificationSent(_))
    ));
    n
}

#[test]
fn open_errors_have_rfc_codes() {
    let n = open_error(Open {
        version: 3,
        ..open()
    });
    assert_eq!((n.code.to_wire(), n.data.to_vec()), ((2, 1), vec![0, 4]));
    let n = open_error(open_from(65001, 9, Ipv4Addr::new(198, 19, 0, 1), vec![]));
    assert_eq!(n.code.to_wire(), (2, 2));
    let n = open_error(Open {
        hold_time: 2,
        ..open()
    });
    assert_eq!(n.code.to_wire(), (2, 6));
    let n = open_error(Open {
        bgp_identifier: Ipv4Addr::UNSPECIFIED,
        ..open()
    });
    assert_eq!(n.code.to_wire(), (2, 3));
    // iBGP with our own identifier.
    let n = open_error(Open {
        bgp_identifier: Ipv4Addr::new(198, 19, 0, 4),
        ..open()
    });
    assert_eq!(n.code.to_wire(), (2, 3));
    // No shared family: Unsupported Capability listing our MP capability.
    let n = open_error(open_from(
        65000,
        9,
        Ipv4Addr::new(198, 19, 0, 1),
        vec![Capability::Multiprotocol(Family::IPV4_UNICAST)],
    ));
    assert_eq!(
        (n.code.to_wire(), n.data.to_vec()),
        ((2, 7), vec![1, 4, 0, 25, 0, 70])
    );
    // No MP capability at all means IPv4 unicast only.
    let n = open_error(open_from(65000, 9, Ipv4Addr::new(198, 19, 0, 1), vec![]));
    assert_eq!(n.code.to_wire(), (2, 7));
}

#[test]
fn ebgp_may_share_our_identifier() {
    let cfg = FsmConfig {
        peer_asn: 65001,
        ..config()
    };
    let s = check_open(
        &Open::new(
            65001,
            0,
            Ipv4Addr::new(198, 19, 0, 4),
            vec![Capability::Multiprotocol(EVPN), Capability::RouteRefresh],
        ),
        &cfg,
    )
    .unwrap();
    assert!(!s.internal);
    assert_eq!((s.hold_time, s.keepalive), (0, 0));
    assert!(!s.extended_message && !s.four_octet_as);
}

#[test]
fn zero_hold_time_runs_no_timers() {
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(Open {
        hold_time: 0,
        ..open()
    }));
    assert_eq!(fsm.running_timers().count(), 0);
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.state(), State::Established);
    assert_eq!(
        fsm.running_timers().collect::<Vec<_>>(),
        vec![Timer::Stability]
    );
}

#[test]
fn manual_stop_sends_cease_and_stays_down() {
    let mut fsm = established(config());
    let a = fsm.handle(Event::ManualStop);
    assert_eq!(notification(&a), Some(&cease(2)));
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(fsm.running_timers().count(), 0);
    assert!(fsm.handle(Event::AutomaticStart).is_empty());
    assert_eq!(fsm.state(), State::Idle);
    fsm.handle(Event::ManualStart);
    assert_eq!(fsm.state(), State::Connect);
}

#[test]
fn unexpected_messages_are_fsm_errors() {
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    let a = fsm.handle(Event::UpdateMsg);
    assert_eq!(notification(&a), Some(&n(5, 1)));

    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(open()));
    let a = fsm.handle(Event::UpdateMsg);
    assert_eq!(notification(&a), Some(&n(5, 2)));

    let mut fsm = established(config());
    let a = fsm.handle(Event::BgpOpen(open()));
    assert_eq!(notification(&a), Some(&n(5, 3)));
}

#[test]
fn a_failing_open_is_bgp_open_msg_err_in_any_state() {
    // RFC 4271 section 8.2.2 OpenConfirm, Event 22: the OPEN error is sent.
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(open()));
    let a = fsm.handle(Event::BgpOpen(Open {
        hold_time: 1,
        ..open()
    }));
    assert_eq!(notification(&a).map(|n| n.code.to_wire()), Some((2, 6)));
    assert_eq!(fsm.state(), State::Idle);
    // Connect, Event 22: sent without an OPEN of ours.
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    let a = fsm.handle(Event::BgpOpen(Open {
        version: 3,
        ..open()
    }));
    assert_eq!(notification(&a).map(|n| n.code.to_wire()), Some((2, 1)));
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn collision_dump_sends_cease_7() {
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(open()));
    let a = fsm.handle(Event::OpenCollisionDump);
    assert_eq!(notification(&a), Some(&cease(7)));
    assert_eq!(fsm.last_error(), Some(&DownReason::ConnectionCollision));
}

#[test]
fn received_notification_is_not_answered() {
    let mut fsm = established(config());
    let a = fsm.handle(Event::NotifMsg(cease(2)));
    assert!(notification(&a).is_none());
    assert!(a.contains(&Action::DropConnection));
    assert_eq!(
        fsm.last_error().map(|r| r.to_string()),
        Some("received NOTIFICATION Cease/Administrative Shutdown (6/2)".into())
    );
}

#[test]
fn stale_timer_events_are_ignored() {
    let mut fsm = established(config());
    fsm.handle(Event::ManualStop);
    assert!(fsm.handle(Event::HoldTimerExpires).is_empty());
    assert!(fsm.handle(Event::ConnectRetryTimerExpires).is_empty());
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn tcp_failure_in_open_sent_goes_active() {
    let mut fsm = Fsm::new(config(), 1);
    fsm.handle(Event::ManualStart);
    fsm.handle(Event::TcpCrAcked);
    let a = fsm.handle(Event::TcpConnectionFails);
    assert_eq!(fsm.state(), State::Active);
    assert_eq!(a[0], Action::DropConnection);
    assert!(timer_started(&a, Timer::ConnectRetry).is_some());
}

#[test]
fn backoff_grows_jitters_and_caps() {
    let b = Backoff {
        base: secs(2),
        cap: secs(60),
    };
    assert_eq!(b.delay(0, u32::MAX), Duration::from_nanos(1_999_999_999));
    assert_eq!(b.delay(0, 0), Duration::from_millis(1500));
    assert_eq!(b.delay(3, 0), secs(12));
    assert_eq!(b.delay(10, 0), secs(45));
    assert_eq!(b.delay(u32::MAX, 0), secs(45));
    assert!(b.delay(100, u32::MAX) < secs(60));
}

#[test]
fn refused_connections_are_retried_every_connect_retry_time() {
    // As FsmConfig::from_config sets it: one ConnectRetryTime, jittered.
    let mut c = config();
    c.connect_backoff.cap = c.connect_backoff.base;
    let mut fsm = Fsm::new(c, 3);
    let a = fsm.handle(Event::ManualStart);
    let first = timer_started(&a, Timer::ConnectRetry).unwrap();
    for _ in 0..8 {
        // Refused at once: wait in Active for the running timer, then
        // connect again, with no growing delay and no damping.
        let a = fsm.handle(Event::TcpConnectionFails);
        assert_eq!(fsm.state(), State::Active);
        assert!(timer_started(&a, Timer::IdleHold).is_none());
        let a = fsm.handle(Event::ConnectRetryTimerExpires);
        assert!(a.contains(&Action::Connect));
        assert_eq!(fsm.state(), State::Connect);
        let next = timer_started(&a, Timer::ConnectRetry).unwrap();
        assert!(next <= first * 4 / 3 && next >= first * 3 / 4, "{next:?}");
    }
    assert_eq!(fsm.failures(), 0);
    assert_eq!(fsm.last_error(), Some(&DownReason::TcpConnectionFailed));
}

#[test]
fn failing_peer_is_damped_then_forgiven() {
    let mut fsm = Fsm::new(config(), 3);
    fsm.handle(Event::ManualStart);
    let mut delays = Vec::new();
    for _ in 0..8 {
        // A peer that accepts the connection and never answers the OPEN.
        fsm.handle(Event::TcpCrAcked);
        let a = fsm.handle(Event::HoldTimerExpires);
        delays.push(timer_started(&a, Timer::IdleHold).unwrap());
        fsm.handle(Event::IdleHoldTimerExpires);
    }
    assert_eq!(fsm.failures(), 8);
    // Monotone up to the cap (jitter is within a factor 0.75).
    assert!(delays[0] <= secs(1));
    assert!(delays[3] >= secs(6));
    assert!(delays[7] >= secs(45) && delays[7] < secs(60), "{delays:?}");
    // A session that stays up resets the count.
    fsm.handle(Event::TcpCrAcked);
    fsm.handle(Event::BgpOpen(open()));
    fsm.handle(Event::KeepAliveMsg);
    assert_eq!(fsm.failures(), 8);
    fsm.handle(Event::StabilityTimerExpires);
    assert_eq!(fsm.failures(), 0);
    let a = fsm.handle(Event::HoldTimerExpires);
    assert!(timer_started(&a, Timer::IdleHold).unwrap() <= secs(1));
}

#[test]
fn connect_retry_backs_off() {
    let mut fsm = Fsm::new(config(), 3);
    fsm.handle(Event::ManualStart);
    let mut last = Duration::ZERO;
    for _ in 0..4 {
        let a = fsm.handle(Event::ConnectRetryTimerExpires);
        assert_eq!(a[0], Action::DropConnection);
        assert!(a.contains(&Action::Connect));
        last = timer_started(&a, Timer::ConnectRetry).unwrap();
    }
    assert!(last >= secs(90) && last <= secs(120), "{last:?}");
}

// ---- property tests -------------------------------------------------

fn arb_notification() -> impl Strategy<Value = Notification> {
    (
        1u8..=6,
        0u8..=8,
        proptest::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(code, subcode, data)| {
            Notification::new(ErrorCode::from_wire(code, subcode), data)
        })
}

fn arb_open() -> impl Strategy<Value = Open> {
    (
        prop_oneof![Just(4u8), any::<u8>()],
        prop_oneof![Just(65000u32), any::<u32>()],
        prop_oneof![Just(90u16), Just(0u16), any::<u16>()],
        prop_oneof![Just(0x0101_0101u32), any::<u32>()],
        prop_oneof![
            Just(vec![(25, 70)]),
            proptest::collection::vec((any::<u16>(), any::<u8>()), 0..3)
        ],
        any::<(bool, bool, bool, bool)>(),
    )
        .prop_map(
            |(version, asn, hold_time, id, families, (f, rr, err, ext))| {
                let mut caps: Vec<Capability> = families
                    .into_iter()
                    .map(|(afi, safi)| Capability::Multiprotocol(Family::new(Afi(afi), Safi(safi))))
                    .collect();
                if f {
                    caps.push(Capability::FourOctetAs(asn));
                }
                if rr {
                    caps.push(Capability::RouteRefresh);
                }
                if err {
                    caps.push(Capability::EnhancedRouteRefresh);
                }
                if ext {
                    caps.push(Capability::ExtendedMessage);
                }
                Open {
                    version,
                    ..Open::new(asn, hold_time, Ipv4Addr::from(id), caps)
                }
            },
        )
}

fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::ManualStart),
        Just(Event::ManualStop),
        Just(Event::AutomaticStart),
        Just(Event::ManualStartWithPassiveTcpEstablishment),
        Just(Event::AutomaticStartWithPassiveTcpEstablishment),
        (0u8..9).prop_map(|s| Event::AutomaticStop {
            cease_subcode: CeaseSubcode::from_u8(s)
        }),
        Just(Event::ConnectRetryTimerExpires),
        Just(Event::HoldTimerExpires),
        Just(Event::KeepaliveTimerExpires),
        Just(Event::IdleHoldTimerExpires),
        Just(Event::TcpConnectionValid),
        Just(Event::TcpCrInvalid),
        Just(Event::TcpCrAcked),
        Just(Event::TcpConnectionConfirmed),
        Just(Event::TcpConnectionFails),
        arb_open().prop_map(Event::BgpOpen),
        arb_notification().prop_map(Event::BgpHeaderErr),
        arb_notification().prop_map(Event::BgpOpenMsgErr),
        Just(Event::OpenCollisionDump),
        Just(Event::NotifMsgVerErr),
        arb_notification().prop_map(Event::NotifMsg),
        Just(Event::KeepAliveMsg),
        Just(Event::UpdateMsg),
        arb_notification().prop_map(Event::UpdateMsgErr),
        Just(Event::StabilityTimerExpires),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn random_event_sequences_keep_invariants(
        passive in any::<bool>(),
        seed in any::<u64>(),
        events in proptest::collection::vec(arb_event(), 0..60),
    ) {
        let cfg = FsmConfig { passive, ..config() };
        let mut fsm = Fsm::new(cfg, seed);
        // The shell's view of the timers, rebuilt from the actions alone.
        let mut shell_timers = BTreeSet::new();
        for event in events {
            let before = fsm.state();
            let timer_event = event.timer();
            let actions = fsm.handle(event);
            if let Some(t) = timer_event && shell_timers.contains(&t) {
                shell_timers.remove(&t);
            }
            for (i, a) in actions.iter().enumerate() {
                match a {
                    Action::StartTimer { timer, after } => {
                        shell_timers.insert(*timer);
                        if *timer != Timer::IdleHold && *timer != Timer::ConnectRetry {
                            prop_assert!(*after > Duration::ZERO, "{a:?}");
                        }
                    }
                    Action::StopTimer(t) => { shell_timers.remove(t); }
                    // Every NOTIFICATION is followed by closing the connection.
                    Action::SendNotification(_) => prop_assert!(
                        actions[i + 1..].contains(&Action::DropConnection),
                        "{actions:?}"
                    ),
                    Action::Established(s) => {
                        prop_assert_eq!(before, State::OpenConfirm);
                        prop_assert!(s.hold_time == 0 || s.hold_time >= 3);
                        prop_assert!(s.hold_time == 0 || s.keepalive >= 1 && s.keepalive <= s.hold_time / 3);
                        prop_assert!(!s.families.is_empty());
                    }
                    Action::SessionDown { .. } => {
                        prop_assert_eq!(before, State::Established);
                        prop_assert_eq!(fsm.state(), State::Idle);
                    }
                    Action::Connect => prop_assert!(!passive),
                    _ => {}
                }
            }
            let now: BTreeSet<Timer> = fsm.running_timers().collect();
            prop_assert_eq!(&now, &shell_timers);
            if actions.contains(&Action::DropConnection) {
                prop_assert!(matches!(fsm.state(), State::Idle | State::Active | State::Connect),
                    "{:?} after {actions:?}", fsm.state());
            }
            match fsm.state() {
                State::Idle => prop_assert!(now.iter().all(|t| matches!(t, Timer::IdleHold | Timer::ConnectRetry)), "{now:?}"),
                State::Established | State::OpenConfirm => {
                    let s = fsm.negotiated();
                    prop_assert!(s.is_some());
                    let hold = s.map(|s| s.hold_time).unwrap_or_default();
                    prop_assert_eq!(now.contains(&Timer::Hold), hold > 0);
                }
                _ => prop_assert!(fsm.negotiated().is_none()),
            }
            if fsm.state() != State::Established {
                prop_assert!(!now.contains(&Timer::Stability));
            }
            if passive {
                prop_assert!(!now.contains(&Timer::ConnectRetry));
            }
        }
    }
}

#[test]
fn a_handed_over_session_resumes_established_with_what_was_negotiated() {
    // The previous process sent an OPEN without Extended Message; this
    // one's config has it. The session keeps what both sides agreed on.
    let sent = open_from(
        65000,
        90,
        Ipv4Addr::new(198, 19, 0, 4),
        vec![Capability::Multiprotocol(EVPN), Capability::RouteRefresh],
    );
    let (mut fsm, actions) = Fsm::resume(config(), 7, &sent, &open()).unwrap();
    assert_eq!(fsm.state(), State::Established);
    let negotiated = fsm.negotiated().unwrap().clone();
    assert!(!negotiated.extended_message, "as negotiated then");
    assert!(negotiated.route_refresh);
    assert_eq!(negotiated.hold_time, 9);
    // A KEEPALIVE at once (the peer's hold timer), then the timers of an
    // Established session, then the session is announced.
    assert!(matches!(actions[0], Action::SendKeepalive));
    assert_eq!(timer_started(&actions, Timer::Keepalive), Some(secs(3)));
    assert_eq!(timer_started(&actions, Timer::Hold), Some(secs(9)));
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Established(s) if *s == negotiated))
    );
    // And it runs as any Established session: the hold timer ends it.
    let down = fsm.handle(Event::HoldTimerExpires);
    assert_eq!(notification(&down), Some(&n(4, 0)));
    assert_eq!(fsm.state(), State::Idle);
    // The current config is the one later sessions open with.
    assert_eq!(fsm.config().local_open, config().local_open);
}

#[test]
fn a_handed_over_open_that_no_longer_checks_is_refused() {
    // Another AS than the config's peer AS: the session cannot resume.
    let theirs = open_from(65099, 9, Ipv4Addr::new(198, 19, 0, 1), Vec::new());
    let sent = config().local_open;
    assert!(Fsm::resume(config(), 7, &sent, &theirs).is_err());
}

#[test]
fn past_its_prefix_limit_a_session_ends_and_waits_the_configured_interval() {
    let limit = Notification::maximum_prefixes(EVPN, 10);
    let mut fsm = established(config());
    let a = fsm.handle(Event::PrefixLimitExceeded {
        notification: limit.clone(),
        restart_after: Some(secs(300)),
    });
    assert_eq!(notification(&a), Some(&limit));
    assert!(a.iter().any(|x| matches!(x, Action::SessionDown { .. })));
    assert_eq!(fsm.state(), State::Idle);
    // The configured interval, not the damping delay.
    assert_eq!(timer_started(&a, Timer::IdleHold), Some(secs(300)));
    let again = fsm.handle(Event::IdleHoldTimerExpires);
    assert!(again.contains(&Action::Connect));

    // Without an interval it stays down until started by hand.
    let mut fsm = established(config());
    let a = fsm.handle(Event::PrefixLimitExceeded {
        notification: limit,
        restart_after: None,
    });
    assert_eq!(timer_started(&a, Timer::IdleHold), None);
    assert!(fsm.handle(Event::AutomaticStart).is_empty());
    assert!(fsm.handle(Event::ManualStart).contains(&Action::Connect));
    // About a session that has ended already: nothing.
    let mut connecting = Fsm::new(config(), 7);
    connecting.handle(Event::ManualStart);
    let late = connecting.handle(Event::PrefixLimitExceeded {
        notification: Notification::maximum_prefixes(EVPN, 10),
        restart_after: None,
    });
    assert!(late.is_empty());
    assert_eq!(connecting.state(), State::Connect);
}

#[test]
fn a_reset_ends_the_session_forgets_stops_and_failures_and_starts_at_once() {
    // Established: Cease / Administrative Reset, then straight to Connect.
    let mut fsm = established(config());
    let a = fsm.handle(Event::ManualReset);
    assert_eq!(notification(&a), Some(&cease(4)));
    assert!(a.iter().any(|x| matches!(x, Action::SessionDown { .. })));
    assert!(a.contains(&Action::Connect));
    assert_eq!(timer_started(&a, Timer::IdleHold), None, "no damping delay");
    assert_eq!(fsm.state(), State::Connect);
    assert_eq!(fsm.failures(), 0);

    // Stopped for good after a prefix limit without restart: started again.
    let mut fsm = established(config());
    fsm.handle(Event::PrefixLimitExceeded {
        notification: Notification::maximum_prefixes(EVPN, 10),
        restart_after: None,
    });
    assert!(fsm.handle(Event::AutomaticStart).is_empty(), "stays down");
    let a = fsm.handle(Event::ManualReset);
    assert_eq!(notification(&a), None, "nothing to tell: no connection");
    assert!(a.contains(&Action::Connect));
    assert_eq!(fsm.state(), State::Connect);

    // Damped after failures: the count is forgotten.
    let mut fsm = established(config());
    fsm.handle(Event::HoldTimerExpires);
    assert!(fsm.failures() > 0);
    fsm.handle(Event::ManualReset);
    assert_eq!(fsm.failures(), 0);
    assert_eq!(fsm.state(), State::Connect);
}
