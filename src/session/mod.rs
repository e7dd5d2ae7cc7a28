//! BGP sessions, the shell half: the tokio task per peer ([`peer`]) that
//! drives the pure FSM of `evpnd_core::session`, and the FSM's parameters
//! read from the configuration.

pub mod auth;
mod conn;
mod counters;
pub mod handover;
pub mod peer;
pub mod spec;
pub mod status;
pub mod supervise;

use crate::config::{BgpConfig, NeighborConfig};
use evpnd_core::session::{Backoff, FsmConfig};

/// FSM parameters for one configured neighbor.
pub fn fsm_config(bgp: &BgpConfig, neighbor: &NeighborConfig) -> FsmConfig {
    FsmConfig {
        local_open: spec::local_open(bgp, neighbor),
        peer_asn: neighbor.remote_as,
        keepalive: neighbor.keepalive,
        passive: neighbor.passive,
        // RFC 4271 section 8: one ConnectRetryTime, jittered (section
        // 10), not growing: a reflector that comes back is found within
        // the configured interval, as FRR does.
        connect_backoff: Backoff {
            base: bgp.connect_retry,
            cap: bgp.connect_retry,
        },
        // RFC 4271 section 8.1.1 DampPeerOscillations, as configured.
        idle_backoff: Backoff {
            base: neighbor.peer_damping.initial,
            cap: neighbor.peer_damping.max,
        },
        stable_after: neighbor.peer_damping.stable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::time::Duration;

    #[test]
    fn fsm_config_from_neighbor() {
        let c = Config::from_toml_str(
            "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\nconnect_retry = 2\n\
             [[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\npassive = true\nhold_time = 9\n",
        )
        .unwrap();
        let f = fsm_config(&c.bgp, &c.neighbors[0]);
        assert_eq!(
            f.local_open.families(),
            vec![evpnd_wire::Family::L2VPN_EVPN]
        );
        assert_eq!((f.local_open.hold_time, f.keepalive), (9, 3));
        assert_eq!(f.local_asn(), 65000);
        assert!(f.passive && f.is_internal());
        assert_eq!(f.connect_backoff.base, Duration::from_secs(2));
        assert_eq!(f.connect_backoff.cap, Duration::from_secs(2));
    }
}
