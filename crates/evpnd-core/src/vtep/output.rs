//! What comes out of the VTEP core: kernel operations, local routes for the
//! RIB, timers to arm, and events the shell logs and counts.

use crate::dataplane::diff::Op;
use crate::dataplane::model::{Object, Vni};
use crate::evpn::import::RtMismatch;
use crate::evpn::instance::{EvpnInstance, InstanceChanges};
use crate::evpn::mobility::{DUPLICATE_WINDOW, DuplicateMac};
use crate::rib::engine::IngressUpdate;
use evpnd_wire::mac::MacAddress;
use std::fmt;
use std::net::IpAddr;
use std::time::Instant;

/// One output of [`super::VtepCore::handle`], in the order to act on.
#[derive(Debug)]
pub enum VtepOutput {
    /// One batch for the netlink request thread.
    Kernel(Vec<Op>),
    /// Routes this VTEP originates or withdraws: `RibRequest::Local`.
    Rib(IngressUpdate),
    /// (Re)arm `timer` to fire at `at`, then send `VtepInput::Tick`.
    Timer { timer: VtepTimer, at: Instant },
    /// For the log and the metrics.
    Event(VtepEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VtepTimer {
    /// Re-send the operations the kernel refused (back-off).
    Retry,
    /// Remove adopted rows no route asks for, End-of-RIB or not.
    StaleGrace,
}

/// Why the initial sync is considered over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOver {
    /// Every peer sent End-of-RIB (RFC 4724 section 2).
    EndOfRib,
    /// [`super::STALE_GRACE`] passed first.
    GraceExpired,
}

/// How loud an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
}

/// Something worth a log line or a counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VtepEvent {
    LocalMacLearnt {
        vlan: u16,
        mac: MacAddress,
        port: u32,
    },
    LocalMacGone {
        vlan: u16,
        mac: MacAddress,
    },
    /// RFC 7432 section 15.2: a static MAC on another VTEP; not advertised.
    StickyElsewhere {
        vni: Vni,
        mac: MacAddress,
        vtep: IpAddr,
    },
    /// RFC 7432 section 15.1: found a duplicate (only on the move that made
    /// it one).
    DuplicateMac {
        vni: Vni,
        duplicate: DuplicateMac,
    },
    /// A remote route beat our local MAC (RFC 7432 section 15.1): withdrawn.
    LocalMacMoved {
        vni: Vni,
        mac: MacAddress,
    },
    /// RFC 7432 section 9.2: routes no import RT takes, with the fix.
    RtMismatch {
        vni: Vni,
        message: String,
    },
    /// One of our rows was removed (`removed`) or changed by someone else
    /// while routes still ask for it: put back.
    DriftRepaired {
        object: Object,
        removed: bool,
    },
    /// Adopted rows no route asks for are being removed.
    InitialSyncOver {
        why: SyncOver,
        operations: usize,
    },
    /// Refused operations are sent again.
    Retrying {
        operations: usize,
    },
    /// A reload's new instances are applied; `operations` kernel
    /// operations followed from the new import.
    Reconfigured {
        changes: InstanceChanges,
        operations: usize,
    },
}

impl VtepEvent {
    pub const fn level(&self) -> Level {
        match self {
            VtepEvent::LocalMacLearnt { .. } | VtepEvent::LocalMacGone { .. } => Level::Debug,
            VtepEvent::LocalMacMoved { .. }
            | VtepEvent::InitialSyncOver { .. }
            | VtepEvent::Retrying { .. }
            | VtepEvent::Reconfigured { .. } => Level::Info,
            VtepEvent::StickyElsewhere { .. }
            | VtepEvent::DuplicateMac { .. }
            | VtepEvent::RtMismatch { .. }
            | VtepEvent::DriftRepaired { .. } => Level::Warn,
        }
    }
}

impl fmt::Display for VtepEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VtepEvent::LocalMacLearnt { vlan, mac, port } => {
                write!(f, "local MAC learnt: vlan {vlan} mac {mac} port {port}")
            }
            VtepEvent::LocalMacGone { vlan, mac } => {
                write!(f, "local MAC gone: vlan {vlan} mac {mac}")
            }
            VtepEvent::StickyElsewhere { vni, mac, vtep } => write!(
                f,
                "MAC {mac} in VNI {vni} is static on VTEP {vtep}; not advertising it"
            ),
            VtepEvent::DuplicateMac { vni, duplicate } => {
                write!(f, "VNI {vni}: {}", duplicate_mac_warning(duplicate))
            }
            VtepEvent::LocalMacMoved { vni, mac } => write!(
                f,
                "local MAC {mac} in VNI {vni} moved to another VTEP: withdrawing our routes"
            ),
            VtepEvent::RtMismatch { message, .. } => f.write_str(message),
            VtepEvent::DriftRepaired { object, removed } => write!(
                f,
                "an entry evpnd installed was {} by someone else; restoring it: {object}",
                if *removed { "removed" } else { "changed" }
            ),
            VtepEvent::InitialSyncOver { why, operations } => write!(
                f,
                "initial sync over ({}): removing stale entries, {operations} operation(s)",
                match why {
                    SyncOver::EndOfRib => "every peer sent End-of-RIB",
                    SyncOver::GraceExpired => "End-of-RIB not seen from every peer in time",
                }
            ),
            VtepEvent::Retrying { operations } => {
                write!(f, "retrying {operations} failed kernel update(s)")
            }
            VtepEvent::Reconfigured {
                changes,
                operations,
            } => {
                let list = |vnis: &[Vni]| {
                    vnis.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                };
                write!(
                    f,
                    "EVPN instances reconfigured: VNIs added [{}], removed [{}], re-advertised [{}], re-imported [{}]; {operations} kernel operation(s)",
                    list(&changes.added),
                    list(&changes.removed),
                    list(&changes.readvertised),
                    list(&changes.reimported),
                )
            }
        }
    }
}

/// `show vnis` and the log: routes for this VNI that no import RT takes
/// (RFC 7432 section 9.2), said so that the fix is obvious: which VTEP, which
/// RT, and the two ways to make them meet.
pub fn rt_mismatch_warning(instance: &EvpnInstance, mismatch: &RtMismatch, routes: u64) -> String {
    let import_rts = instance
        .import_rts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let from = mismatch
        .vtep
        .map_or_else(|| "an unknown VTEP".to_string(), |v| format!("VTEP {v}"));
    match mismatch.route_target {
        Some(rt) => format!(
            "{routes} route(s) from {from} carry VNI {vni} with RT {rt}, which is not an import RT of VNI {vni} ({import_rts}): not installed; import {rt} here or export {import_rts} there",
            vni = instance.vni,
        ),
        None => format!(
            "{routes} route(s) from {from} carry VNI {vni} without any route target: not installed (RFC 7432 section 9.2)",
            vni = instance.vni,
        ),
    }
}

/// `show vnis` and the log: a MAC this VTEP no longer advertises because it
/// keeps moving here (RFC 7432 section 15.1).
pub fn duplicate_mac_warning(duplicate: &DuplicateMac) -> String {
    format!(
        "duplicate MAC {}: moved here from VTEP {} {} times within {} s (RFC 7432 section 15.1); not advertised until it stays still that long",
        duplicate.mac,
        duplicate.other_vtep,
        duplicate.moves,
        DUPLICATE_WINDOW.as_secs()
    )
}
