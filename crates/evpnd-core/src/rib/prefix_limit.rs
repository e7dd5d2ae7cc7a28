//! Maximum prefixes per peer (issue 14): the RIB counts the paths it holds
//! from each peer and says when the count reaches the warning threshold and
//! when it exceeds the limit, once per crossing. What happens then (a log
//! line, or the session ended with Cease / Maximum Number of Prefixes
//! Reached, RFC 4486 section 4) is the session's decision, from its
//! configuration.

use super::peer::PeerIdx;

/// A peer's limit, as the RIB applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixLimit {
    /// More paths than this from the peer exceed the limit.
    pub limit: u32,
    /// From this many paths on, the peer is close to it.
    pub warning_at: u32,
}

impl PrefixLimit {
    /// `limit` with a warning at `percent` of it (rounded up, at least 1).
    pub fn new(limit: u32, percent: u8) -> Self {
        let warning_at = (u64::from(limit) * u64::from(percent)).div_ceil(100);
        Self {
            limit,
            warning_at: (warning_at as u32).max(1),
        }
    }
}

/// One crossing, for the peer's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixAlert {
    pub peer: PeerIdx,
    /// Paths held from the peer now.
    pub received: u32,
    pub limit: PrefixLimit,
    /// Past the limit (else: at the warning threshold).
    pub exceeded: bool,
}

/// The limits of the peers that have one, and where each one's count is.
#[derive(Debug, Default)]
pub(super) struct PrefixLimits {
    by_peer: Vec<Option<Watched>>,
}

#[derive(Debug, Clone, Copy)]
struct Watched {
    limit: PrefixLimit,
    warned: bool,
    exceeded: bool,
}

impl PrefixLimits {
    /// A session of `peer` came up (with its limit, or none): counting
    /// starts over.
    pub(super) fn set(&mut self, peer: PeerIdx, limit: Option<PrefixLimit>) {
        let slot = usize::from(peer.0);
        if self.by_peer.len() <= slot {
            self.by_peer.resize(slot + 1, None);
        }
        self.by_peer[slot] = limit.map(|limit| Watched {
            limit,
            warned: false,
            exceeded: false,
        });
    }

    /// `peer` now holds `received` paths: an alert when that crosses its
    /// warning threshold or its limit upwards. Falling back below re-arms
    /// the alert.
    pub(super) fn check(&mut self, peer: PeerIdx, received: u32) -> Option<PrefixAlert> {
        let watched = self.by_peer.get_mut(usize::from(peer.0))?.as_mut()?;
        let alert = |exceeded| PrefixAlert {
            peer,
            received,
            limit: watched.limit,
            exceeded,
        };
        if received > watched.limit.limit {
            if !watched.exceeded {
                watched.exceeded = true;
                watched.warned = true;
                return Some(alert(true));
            }
        } else {
            watched.exceeded = false;
            if received >= watched.limit.warning_at {
                if !watched.warned {
                    watched.warned = true;
                    return Some(alert(false));
                }
            } else {
                watched.warned = false;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_threshold_rounds_up_and_is_at_least_one() {
        assert_eq!(PrefixLimit::new(1000, 75).warning_at, 750);
        assert_eq!(PrefixLimit::new(10, 75).warning_at, 8);
        assert_eq!(PrefixLimit::new(1, 1).warning_at, 1);
        assert_eq!(PrefixLimit::new(u32::MAX, 100).warning_at, u32::MAX);
    }

    #[test]
    fn each_crossing_is_said_once_and_falling_back_rearms_it() {
        let peer = PeerIdx(3);
        let mut limits = PrefixLimits::default();
        limits.set(peer, Some(PrefixLimit::new(10, 80)));
        let said = |limits: &mut PrefixLimits, n| limits.check(peer, n).map(|a| a.exceeded);
        assert_eq!(said(&mut limits, 7), None);
        assert_eq!(said(&mut limits, 8), Some(false), "warning at 8");
        assert_eq!(said(&mut limits, 10), None, "said once");
        assert_eq!(said(&mut limits, 11), Some(true), "past the limit");
        assert_eq!(said(&mut limits, 12), None, "said once");
        assert_eq!(said(&mut limits, 9), None, "back under: quiet");
        assert_eq!(said(&mut limits, 11), Some(true), "exceeded again");
        assert_eq!(said(&mut limits, 2), None);
        assert_eq!(said(&mut limits, 8), Some(false), "warning re-armed");
        // A peer without a limit, or a new session without one: nothing.
        assert_eq!(limits.check(PeerIdx(9), 1_000_000), None);
        limits.set(peer, None);
        assert_eq!(said(&mut limits, 100), None);
    }
}
