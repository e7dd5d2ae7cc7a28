//! The FSM's timers (RFC 4271 sections 8.1.3 and 10) and their jittered,
//! exponential backoff.

use std::time::Duration;

/// RFC 4271 section 8.2.2: the initial HoldTimer value while waiting for OPEN
/// ("a large value ... A HoldTimer value of 4 minutes is suggested").
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);

/// Timers the FSM asks the shell to run (RFC 4271 section 8.1.3 and 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    ConnectRetry,
    Hold,
    Keepalive,
    /// RFC 4271 section 8.1.1 (DampPeerOscillations): delay before an automatic restart.
    IdleHold,
    /// evpnd: fires once a session has been Established for `stable_after`;
    /// resets the damping failure count.
    Stability,
}

/// Exponential backoff with RFC 4271 section 10 jitter, pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// Delay before attempt number `attempt` (0-based): `base * 2^attempt`,
    /// capped at `cap`, then multiplied by a factor in [0.75, 1.0) taken from
    /// `random` (uniform over u32), as RFC 4271 section 10 asks for the
    /// ConnectRetryTimer so that peers do not synchronise.
    pub fn delay(&self, attempt: u32, random: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        let raw = self.base.saturating_mul(factor).min(self.cap);
        let nanos = raw.as_nanos();
        // nanos * (0.75 + 0.25 * random / 2^32), in integers.
        let jittered = nanos * ((3u128 << 32) + u128::from(random)) / (4u128 << 32);
        Duration::from_nanos(u64::try_from(jittered).unwrap_or(u64::MAX))
    }
}
