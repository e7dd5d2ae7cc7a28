//! Graceful Restart (RFC 4724), the session's part: the capability we
//! advertise, and what a session's end or return means for the routes the
//! peer gave us. The RIB's part (stale routes, deferred selection) is in
//! `rib::engine`; the timers are the shell's.
//!
//! evpnd plays both roles for l2vpn-evpn:
//! - **restarting speaker**: the kernel rows survive the process (a VTEP
//!   adopts them on start), so every OPEN carries the Forwarding State bit
//!   for the family, and the first OPEN to each peer after start carries the
//!   Restart State bit;
//! - **receiving speaker** (helper): when a peer that advertised the
//!   capability for the family loses its TCP session, its routes are kept as
//!   stale, and still reflected, until it re-announces them, sends
//!   End-of-RIB, or its restart time runs out.

use super::fsm::DownReason;
use evpnd_wire::Family;
use evpnd_wire::capability::{Capability, GracefulRestart, GracefulRestartFamily};
use evpnd_wire::open::{Open, OptionalParameter};
use std::time::Duration;

/// Our Graceful Restart parameters (`[bgp.graceful_restart]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// Restart Time we advertise (RFC 4724 section 3: 12 bits, seconds):
    /// how long peers keep our routes while we are away.
    pub restart_time: u16,
    /// How long a returned peer's stale routes may wait for its End-of-RIB
    /// (RFC 4724 section 4.2 leaves this bound to the implementation).
    pub stale_routes_time: Duration,
    /// How long we defer our first advertisement waiting for the peers'
    /// End-of-RIB (RFC 4724 section 4.1, Selection_Deferral_Timer).
    pub select_defer_time: Duration,
}

impl GracefulRestartConfig {
    /// Largest Restart Time the 12-bit field holds (RFC 4724 section 3).
    pub const MAX_RESTART_TIME: u16 = 0x0fff;
}

/// The capability (RFC 4724 section 3) for `families`: our restart time,
/// the Restart State bit when `restarting` (section 4.1: the first OPEN
/// after a restart), and the Forwarding State bit for every family, because
/// the forwarding state lives in the kernel and survives the process.
pub fn capability(
    config: &GracefulRestartConfig,
    families: &[Family],
    restarting: bool,
) -> Capability {
    Capability::GracefulRestart(GracefulRestart {
        flags: if restarting {
            GracefulRestart::FLAG_RESTART_STATE
        } else {
            0
        },
        restart_time: config
            .restart_time
            .min(GracefulRestartConfig::MAX_RESTART_TIME),
        families: families
            .iter()
            .map(|family| GracefulRestartFamily {
                family: *family,
                flags: GracefulRestart::FAMILY_FORWARDING_PRESERVED,
            })
            .collect(),
    })
}

/// `open` with the Restart State bit of its Graceful Restart capability set
/// or cleared; an OPEN without the capability is returned unchanged.
pub fn with_restart_state(open: &Open, restarting: bool) -> Open {
    let mut open = open.clone();
    let capabilities = open.parameters.iter_mut().flat_map(|p| match p {
        OptionalParameter::Capabilities(caps) => caps.as_mut_slice(),
        OptionalParameter::Unknown { .. } => &mut [],
    });
    for capability in capabilities {
        if let Capability::GracefulRestart(gr) = capability {
            if restarting {
                gr.flags |= GracefulRestart::FLAG_RESTART_STATE;
            } else {
                gr.flags &= !GracefulRestart::FLAG_RESTART_STATE;
            }
        }
    }
    open
}

/// How long to keep the routes of a peer whose session ended for `reason`,
/// or `None` when they must go now. RFC 4724 section 4.2: only a TCP session
/// that ends without a NOTIFICATION (the peer's control plane went away, its
/// forwarding may not have), and only when the peer's capability lists the
/// family; a Restart Time of zero keeps nothing. (RFC 8538 would extend this
/// to NOTIFICATIONs; evpnd does not advertise its N bit.)
pub fn retention(
    peer: Option<&GracefulRestart>,
    family: Family,
    reason: &DownReason,
) -> Option<Duration> {
    if *reason != DownReason::TcpConnectionFailed {
        return None;
    }
    let gr = peer?;
    let listed = gr.families.iter().any(|f| f.family == family);
    (listed && gr.restart_time > 0).then(|| Duration::from_secs(u64::from(gr.restart_time)))
}

/// Whether a peer keeps our routes when our TCP session ends (RFC 4724
/// section 4.2): it advertised the capability, even with no family of its
/// own (a helper only, FRR's default). What it keeps is what our capability
/// listed.
pub fn helps(peer: Option<&GracefulRestart>) -> bool {
    peer.is_some()
}

/// Whether the stale routes of a returning peer survive its new session
/// (RFC 4724 section 4.2): only if its new capability lists the family with
/// the Forwarding State bit; otherwise they are deleted at once.
pub fn keeps_stale(peer: Option<&GracefulRestart>, family: Family) -> bool {
    peer.is_some_and(|gr| {
        gr.families.iter().any(|f| {
            f.family == family && f.flags & GracefulRestart::FAMILY_FORWARDING_PRESERVED != 0
        })
    })
}

/// Whether our deferred first advertisement waits for this peer's
/// End-of-RIB. RFC 4724 section 4.1 excludes peers that did not advertise
/// the capability (they may never send one) and peers that are restarting
/// themselves (they wait for ours: waiting for theirs would deadlock).
pub fn awaited_after_restart(peer: Option<&GracefulRestart>) -> bool {
    peer.is_some_and(|gr| !gr.restart_state())
}

/// A peer's capability for `show neighbors`: "restart time 120s,
/// restarting, l2vpn-evpn forwarding preserved" (helper-only peers list no
/// family).
pub fn describe(gr: &GracefulRestart) -> String {
    let mut text = format!("restart time {}s", gr.restart_time);
    if gr.restart_state() {
        text.push_str(", restarting");
    }
    if gr.notification() {
        text.push_str(", notification (RFC 8538)");
    }
    for f in &gr.families {
        let forwarding = if f.flags & GracefulRestart::FAMILY_FORWARDING_PRESERVED != 0 {
            "forwarding preserved"
        } else {
            "forwarding not preserved"
        };
        text.push_str(&format!(", {} {forwarding}", f.family));
    }
    if gr.families.is_empty() {
        text.push_str(", helper only (no family)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;
    use evpnd_wire::message::{DecodeOptions, EncodeOptions, Message};
    use evpnd_wire::notification::{CeaseSubcode, Notification};
    use std::net::Ipv4Addr;

    fn config() -> GracefulRestartConfig {
        GracefulRestartConfig {
            restart_time: 120,
            stale_routes_time: Duration::from_secs(360),
            select_defer_time: Duration::from_secs(60),
        }
    }

    fn peer(flags: u8, restart_time: u16, family_flags: Option<u8>) -> GracefulRestart {
        GracefulRestart {
            flags,
            restart_time,
            families: family_flags
                .map(|flags| GracefulRestartFamily {
                    family: Family::L2VPN_EVPN,
                    flags,
                })
                .into_iter()
                .collect(),
        }
    }

    /// The capability on the wire (RFC 4724 section 3): code 64, length 6,
    /// R bit + restart time 120 (0x8078), AFI 25 SAFI 70, F bit.
    #[test]
    fn capability_encodes_restart_state_time_and_forwarding_bit() {
        let encode = |restarting| {
            let mut out = bytes::BytesMut::new();
            capability(&config(), &[Family::L2VPN_EVPN], restarting).encode(&mut out);
            out.to_vec()
        };
        assert_eq!(encode(true), hex("4006807800194680"));
        assert_eq!(encode(false), hex("4006007800194680"));
    }

    #[test]
    fn restart_time_is_clamped_to_twelve_bits() {
        let big = GracefulRestartConfig {
            restart_time: 5000,
            ..config()
        };
        let Capability::GracefulRestart(gr) = capability(&big, &[], false) else {
            panic!("not a GR capability");
        };
        assert_eq!(gr.restart_time, 4095);
    }

    #[test]
    fn restart_state_bit_is_set_and_cleared_in_an_open() {
        let open = Open::new(
            65000,
            90,
            Ipv4Addr::new(198, 18, 0, 1),
            vec![
                Capability::RouteRefresh,
                capability(&config(), &[Family::L2VPN_EVPN], false),
            ],
        );
        let set = with_restart_state(&open, true);
        assert!(set.graceful_restart().unwrap().restart_state());
        assert!(
            !with_restart_state(&set, false)
                .graceful_restart()
                .unwrap()
                .restart_state()
        );
        // Round trip through the wire form keeps the bit.
        let bytes = Message::Open(set.clone())
            .to_bytes(&EncodeOptions::default())
            .unwrap();
        let (decoded, _) = Message::decode_lenient(&bytes, &DecodeOptions::default()).unwrap();
        let Message::Open(decoded) = decoded else {
            panic!("not an OPEN");
        };
        assert_eq!(decoded.graceful_restart(), set.graceful_restart());
        let plain = Open::new(65000, 90, Ipv4Addr::new(198, 18, 0, 1), vec![]);
        assert_eq!(with_restart_state(&plain, true), plain);
    }

    /// RFC 4724 section 4.2: retain only on a TCP failure, only for a listed
    /// family, only for a non-zero restart time.
    #[test]
    fn routes_are_retained_only_when_the_tcp_session_just_ends() {
        let gr = peer(0, 120, Some(0x80));
        let tcp = DownReason::TcpConnectionFailed;
        assert_eq!(
            retention(Some(&gr), Family::L2VPN_EVPN, &tcp),
            Some(Duration::from_secs(120))
        );
        // No F bit in the old session does not matter: the F bit counts in
        // the new OPEN (keeps_stale).
        assert!(retention(Some(&peer(0, 120, Some(0))), Family::L2VPN_EVPN, &tcp).is_some());
        assert_eq!(retention(None, Family::L2VPN_EVPN, &tcp), None);
        assert_eq!(
            retention(Some(&peer(0, 120, None)), Family::L2VPN_EVPN, &tcp),
            None,
            "helper-only capability (no families)"
        );
        assert_eq!(
            retention(Some(&peer(0, 0, Some(0x80))), Family::L2VPN_EVPN, &tcp),
            None
        );
        assert_eq!(retention(Some(&gr), Family::IPV4_UNICAST, &tcp), None);
        for reason in [
            DownReason::HoldTimerExpired,
            DownReason::ManualStop,
            DownReason::NotificationReceived(Notification::cease(
                CeaseSubcode::AdministrativeShutdown,
            )),
        ] {
            assert_eq!(
                retention(Some(&gr), Family::L2VPN_EVPN, &reason),
                None,
                "{reason}"
            );
        }
    }

    #[test]
    fn a_helper_only_peer_keeps_our_routes() {
        assert!(helps(Some(&peer(0, 120, None))));
        assert!(helps(Some(&peer(0x8, 120, Some(0)))));
        assert!(!helps(None));
    }

    #[test]
    fn stale_routes_survive_a_new_session_only_with_the_forwarding_bit() {
        assert!(keeps_stale(
            Some(&peer(0x8, 120, Some(0x80))),
            Family::L2VPN_EVPN
        ));
        assert!(!keeps_stale(
            Some(&peer(0x8, 120, Some(0))),
            Family::L2VPN_EVPN
        ));
        assert!(!keeps_stale(
            Some(&peer(0x8, 120, None)),
            Family::L2VPN_EVPN
        ));
        assert!(!keeps_stale(None, Family::L2VPN_EVPN));
    }

    #[test]
    fn describe_names_time_bits_and_families() {
        assert_eq!(
            describe(&peer(0x8, 120, Some(0x80))),
            "restart time 120s, restarting, l2vpn-evpn forwarding preserved"
        );
        assert_eq!(
            describe(&peer(0, 90, None)),
            "restart time 90s, helper only (no family)"
        );
    }

    #[test]
    fn deferral_waits_for_capable_peers_that_are_not_restarting() {
        assert!(awaited_after_restart(Some(&peer(0, 120, None))));
        assert!(!awaited_after_restart(Some(&peer(0x8, 120, Some(0x80)))));
        assert!(!awaited_after_restart(None));
    }
}
