//! A peer's message counters: bumped by its session task and its
//! connection's writer task, read by `show neighbors` and the metrics.

use std::sync::atomic::AtomicU64;

/// Message counters, shared with the writer task and `show neighbors`.
#[derive(Debug, Default)]
pub struct MessageCounters {
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub updates_in: AtomicU64,
    pub updates_out: AtomicU64,
    /// Sessions ended because the outbound queue was full (the peer did not
    /// read what we send; see `crate::rib_task::PeerSink`).
    pub queue_overflows: AtomicU64,
    /// Times the session task panicked and was restarted (a bug).
    pub panics: AtomicU64,
    /// Times the peer's paths went past `max_prefixes.limit` (each ended
    /// the session, unless the action is warn).
    pub prefix_limit_exceeded: AtomicU64,
}
