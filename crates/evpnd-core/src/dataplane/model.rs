//! The kernel state a VTEP owns, as plain comparable values.
//!
//! Everything here is pure: no netlink, no I/O. `nl` turns these objects into
//! RTM_NEWNEIGH/RTM_DELNEIGH messages and parses dumps back into them; `diff`
//! compares two `KernelState`s. Which rows each object becomes, and why, is
//! described in docs/kernel-state.md.

use evpnd_wire::mac::MacAddress;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

/// The NDA_PROTOCOL value stamped on every neighbour entry evpnd installs.
///
/// 245 is unassigned in `include/uapi/linux/rtnetlink.h` (RTPROT_*), in
/// iproute2's `rt_protos` (0-19, 42 babel, 99 openr, 186-192) and outside
/// the block FRR's zebra uses for itself (186-198). Operators can name it
/// with `echo "245 evpnd" > /etc/iproute2/rt_protos.d/evpnd.conf`.
pub const EVPND_PROTOCOL: u8 = 245;

/// A VXLAN Network Identifier (24 bits, RFC 7348 section 5).
pub type Vni = u32;

/// The largest VNI: the VXLAN header has a 24-bit VNI field (RFC 7348
/// section 5).
pub const MAX_VNI: Vni = 0x00ff_ffff;

/// A remote MAC learned from an EVPN type-2 route (RFC 7432 section 7.2):
/// MAC `mac` in `vni` (mapped to bridge VLAN `vlan`) lives behind VTEP `vtep`.
///
/// It becomes two kernel rows on the vxlan device:
/// - the vxlan `self` row: `mac dst vtep src_vni vni self extern_learn`
///   (NUD_REACHABLE + NTF_EXT_LEARNED);
/// - the bridge `master` row: `mac vlan V master extern_learn`, which keeps
///   the bridge from flooding unicast for `mac` (zebra-rs #411).
///
/// Sticky MACs (RFC 7432 section 15.2, MAC Mobility "static" flag) are
/// installed as FRR does: NUD_NOARP + NTF_STICKY instead of extern_learn, so
/// the bridge never moves them to a local port.
///
/// `vlan == 0` means "no NDA_VLAN": a bridge without VLAN filtering (the
/// host kernel of the test suite), where the bridge keys rows by MAC alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemoteMac {
    pub vni: Vni,
    pub vlan: u16,
    pub mac: MacAddress,
    pub vtep: IpAddr,
    pub sticky: bool,
}

/// The identity of a remote MAC: what stays the same when the MAC moves to
/// another VTEP, so a move is one in-place Replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacKey {
    pub vni: Vni,
    pub vlan: u16,
    pub mac: MacAddress,
}

impl RemoteMac {
    pub const fn key(&self) -> MacKey {
        MacKey {
            vni: self.vni,
            vlan: self.vlan,
            mac: self.mac,
        }
    }
}

/// One entry of the head-end replication flood list of `vni` (RFC 8365
/// section 9: ingress replication from an EVPN type-3 route, RFC 7432
/// section 7.3): `00:00:00:00:00:00 dst vtep src_vni vni self`, added with
/// NLM_F_APPEND so several VTEPs share the all-zero MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FloodEntry {
    pub vni: Vni,
    pub vtep: IpAddr,
}

/// An ARP/ND suppression entry from a type-2 MAC+IP route (RFC 7432 section
/// 10): `ip lladdr mac` on the VLAN's SVI, `extern_learn`, NUD_NOARP,
/// NDA_PROTOCOL = [`EVPND_PROTOCOL`]. The bridge answers ARP/ND from it
/// (`br_arp_nd_proxy.c`, see docs/kernel-state.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SuppressionNeighbor {
    /// ifindex of the SVI (the VLAN upper device of the bridge).
    pub ifindex: u32,
    pub ip: IpAddr,
    pub mac: MacAddress,
}

/// The identity of a suppression neighbour: the kernel keys neighbours by
/// (device, address); the MAC is the value that a Replace changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NeighborKey {
    pub ifindex: u32,
    pub ip: IpAddr,
}

impl SuppressionNeighbor {
    pub const fn key(&self) -> NeighborKey {
        NeighborKey {
            ifindex: self.ifindex,
            ip: self.ip,
        }
    }
}

/// Half of a remote MAC found in the kernel without its partner row (someone
/// deleted one row, or a crash happened between the two). Only ever part of
/// observed state; the diff either absorbs it into a desired [`RemoteMac`]
/// (the combined replace rewrites both rows) or deletes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StrayMacRow {
    /// vxlan `self` row with no bridge row for the same MAC/VLAN.
    SelfOnly {
        vni: Vni,
        vlan: u16,
        mac: MacAddress,
        vtep: IpAddr,
        sticky: bool,
    },
    /// bridge `master` row with no vxlan row for the same MAC/VNI.
    MasterOnly {
        vlan: u16,
        mac: MacAddress,
        sticky: bool,
    },
}

/// One object of kernel state; the unit of every diff operation and of every
/// netlink request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    Mac(RemoteMac),
    Flood(FloodEntry),
    Neighbor(SuppressionNeighbor),
    Stray(StrayMacRow),
}

impl fmt::Display for Object {
    /// Renders the object the way `bridge`/`ip` would name it, so errors read
    /// like `fdb 02:0a:00:00:00:01 vni 10 vlan 10 dst 198.19.0.2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Mac(m) => write!(
                f,
                "fdb {} vni {} vlan {} dst {}{}",
                m.mac,
                m.vni,
                m.vlan,
                m.vtep,
                if m.sticky { " sticky" } else { "" }
            ),
            Object::Flood(e) => write!(f, "flood 00:00:00:00:00:00 vni {} dst {}", e.vni, e.vtep),
            Object::Neighbor(n) => {
                write!(f, "neigh {} lladdr {} ifindex {}", n.ip, n.mac, n.ifindex)
            }
            Object::Stray(StrayMacRow::SelfOnly { vni, mac, vtep, .. }) => {
                write!(f, "stray self fdb {mac} vni {vni} dst {vtep}")
            }
            Object::Stray(StrayMacRow::MasterOnly { vlan, mac, .. }) => {
                write!(f, "stray master fdb {mac} vlan {vlan}")
            }
        }
    }
}

/// The kernel state evpnd owns on one VTEP, with set semantics: at most one
/// remote MAC per [`MacKey`] and one neighbour per [`NeighborKey`].
///
/// Ordered maps keep iteration deterministic (stable diffs and batches) and
/// give O(log n) lookups for delta application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelState {
    pub macs: BTreeMap<MacKey, RemoteMac>,
    pub floods: BTreeSet<FloodEntry>,
    pub neighbors: BTreeMap<NeighborKey, SuppressionNeighbor>,
    /// Observed-only: owned half rows (see [`StrayMacRow`]). Always empty in
    /// desired state.
    pub strays: BTreeSet<StrayMacRow>,
}

impl KernelState {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.macs.len() + self.floods.len() + self.neighbors.len() + self.strays.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts or overwrites the object with the same identity. Returns the
    /// object it replaced, if any.
    pub fn upsert(&mut self, object: Object) -> Option<Object> {
        match object {
            Object::Mac(m) => {
                // A full MAC supersedes its half rows: the combined replace
                // message rewrites both.
                self.absorb_strays(&m);
                self.macs.insert(m.key(), m).map(Object::Mac)
            }
            Object::Flood(e) => self.floods.replace(e).map(Object::Flood),
            Object::Neighbor(n) => self.neighbors.insert(n.key(), n).map(Object::Neighbor),
            Object::Stray(s) => self.strays.replace(s).map(Object::Stray),
        }
    }

    /// Removes the object with the same identity as `object` (for a MAC or a
    /// neighbour, the value part is ignored). Returns what was removed.
    pub fn remove(&mut self, object: &Object) -> Option<Object> {
        match object {
            Object::Mac(m) => self.macs.remove(&m.key()).map(Object::Mac),
            Object::Flood(e) => self.floods.take(e).map(Object::Flood),
            Object::Neighbor(n) => self.neighbors.remove(&n.key()).map(Object::Neighbor),
            Object::Stray(s) => self.strays.take(s).map(Object::Stray),
        }
    }

    /// The object currently stored under `object`'s identity.
    pub fn get(&self, object: &Object) -> Option<Object> {
        match object {
            Object::Mac(m) => self.macs.get(&m.key()).copied().map(Object::Mac),
            Object::Flood(e) => self.floods.get(e).copied().map(Object::Flood),
            Object::Neighbor(n) => self.neighbors.get(&n.key()).copied().map(Object::Neighbor),
            Object::Stray(s) => self.strays.get(s).copied().map(Object::Stray),
        }
    }

    /// Half rows that the combined replace for `mac` overwrites.
    pub fn strays_absorbed_by(&self, mac: &RemoteMac) -> Vec<StrayMacRow> {
        self.strays
            .iter()
            .filter(|s| stray_absorbed_by(s, mac))
            .copied()
            .collect()
    }

    fn absorb_strays(&mut self, mac: &RemoteMac) {
        if !self.strays.is_empty() {
            self.strays.retain(|s| !stray_absorbed_by(s, mac));
        }
    }

    /// Every object, in a deterministic order.
    pub fn objects(&self) -> impl Iterator<Item = Object> + '_ {
        self.macs
            .values()
            .copied()
            .map(Object::Mac)
            .chain(self.floods.iter().copied().map(Object::Flood))
            .chain(self.neighbors.values().copied().map(Object::Neighbor))
            .chain(self.strays.iter().copied().map(Object::Stray))
    }

    /// Builds observed state from owned kernel rows (as parsed by
    /// `nl::parse_neigh`). A vxlan `self` row and a bridge `master` row for
    /// the same MAC pair up into one [`RemoteMac`] when the row's VNI maps to
    /// the master row's VLAN (`vlan_of_vni`, from configuration); rows
    /// without a partner become [`StrayMacRow`]s.
    pub fn from_rows(
        rows: impl IntoIterator<Item = OwnedRow>,
        vlan_of_vni: impl Fn(Vni) -> Option<u16>,
    ) -> KernelState {
        let mut state = KernelState::new();
        let mut self_rows: Vec<(Vni, MacAddress, IpAddr, bool)> = Vec::new();
        let mut master_rows: BTreeMap<(u16, MacAddress), bool> = BTreeMap::new();
        for row in rows {
            match row {
                OwnedRow::Flood(e) => {
                    state.floods.insert(e);
                }
                OwnedRow::Neighbor(n) => {
                    state.neighbors.insert(n.key(), n);
                }
                OwnedRow::MacSelf {
                    vni,
                    mac,
                    vtep,
                    sticky,
                } => self_rows.push((vni, mac, vtep, sticky)),
                OwnedRow::MacMaster { vlan, mac, sticky } => {
                    master_rows.insert((vlan, mac), sticky);
                }
            }
        }
        for (vni, mac, vtep, sticky) in self_rows {
            let vlan = vlan_of_vni(vni).unwrap_or(0);
            match master_rows.remove(&(vlan, mac)) {
                Some(master_sticky) if master_sticky == sticky => {
                    let m = RemoteMac {
                        vni,
                        vlan,
                        mac,
                        vtep,
                        sticky,
                    };
                    state.macs.insert(m.key(), m);
                }
                other => {
                    // A disagreeing master row is reported too, so the
                    // replace that heals the pair is not mistaken for a no-op.
                    if let Some(master_sticky) = other {
                        state.strays.insert(StrayMacRow::MasterOnly {
                            vlan,
                            mac,
                            sticky: master_sticky,
                        });
                    }
                    state.strays.insert(StrayMacRow::SelfOnly {
                        vni,
                        vlan,
                        mac,
                        vtep,
                        sticky,
                    });
                }
            }
        }
        for ((vlan, mac), sticky) in master_rows {
            state
                .strays
                .insert(StrayMacRow::MasterOnly { vlan, mac, sticky });
        }
        state
    }
}

fn stray_absorbed_by(stray: &StrayMacRow, mac: &RemoteMac) -> bool {
    match *stray {
        StrayMacRow::SelfOnly {
            vni, mac: row_mac, ..
        } => vni == mac.vni && row_mac == mac.mac,
        StrayMacRow::MasterOnly {
            vlan, mac: row_mac, ..
        } => vlan == mac.vlan && row_mac == mac.mac,
    }
}

/// The devices a VTEP's rows live on: together with [`EVPND_PROTOCOL`] they
/// mark the kernel rows evpnd owns. Plain values, so the netlink layer, the
/// topology set-up (which finds the devices) and the shell share one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    /// The single (`external`) vxlan device: all FDB rows are on it.
    pub vxlan_ifindex: u32,
    /// The bridge the vxlan device is a port of (NDA_MASTER).
    pub bridge_ifindex: u32,
}

/// One owned kernel row as it appears in a dump or an event, before the
/// `self`/`master` halves of a remote MAC are paired up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OwnedRow {
    MacSelf {
        vni: Vni,
        mac: MacAddress,
        vtep: IpAddr,
        sticky: bool,
    },
    MacMaster {
        vlan: u16,
        mac: MacAddress,
        sticky: bool,
    },
    Flood(FloodEntry),
    Neighbor(SuppressionNeighbor),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn mac(last: u8) -> MacAddress {
        MacAddress([2, 0x0a, 0, 0, 0, last])
    }
    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 19, 0, last))
    }

    #[test]
    fn rows_pair_into_remote_macs_and_leftovers_become_strays() {
        let rows = [
            OwnedRow::MacSelf {
                vni: 10,
                mac: mac(1),
                vtep: ip(2),
                sticky: false,
            },
            OwnedRow::MacMaster {
                vlan: 100,
                mac: mac(1),
                sticky: false,
            },
            OwnedRow::MacSelf {
                vni: 10,
                mac: mac(2),
                vtep: ip(2),
                sticky: false,
            },
            OwnedRow::MacMaster {
                vlan: 100,
                mac: mac(3),
                sticky: true,
            },
            OwnedRow::Flood(FloodEntry {
                vni: 10,
                vtep: ip(3),
            }),
        ];
        let state = KernelState::from_rows(rows, |vni| (vni == 10).then_some(100));
        assert_eq!(state.macs.len(), 1);
        let m = state.macs.values().next().copied();
        assert_eq!(
            m,
            Some(RemoteMac {
                vni: 10,
                vlan: 100,
                mac: mac(1),
                vtep: ip(2),
                sticky: false
            })
        );
        assert_eq!(state.floods.len(), 1);
        assert_eq!(
            state.strays,
            BTreeSet::from([
                StrayMacRow::SelfOnly {
                    vni: 10,
                    vlan: 100,
                    mac: mac(2),
                    vtep: ip(2),
                    sticky: false
                },
                StrayMacRow::MasterOnly {
                    vlan: 100,
                    mac: mac(3),
                    sticky: true
                },
            ])
        );
    }

    #[test]
    fn upserting_a_mac_absorbs_its_half_rows_only() {
        let mut state = KernelState::new();
        state.upsert(Object::Stray(StrayMacRow::SelfOnly {
            vni: 10,
            vlan: 0,
            mac: mac(1),
            vtep: ip(9),
            sticky: false,
        }));
        state.upsert(Object::Stray(StrayMacRow::MasterOnly {
            vlan: 0,
            mac: mac(2),
            sticky: false,
        }));
        state.upsert(Object::Mac(RemoteMac {
            vni: 10,
            vlan: 0,
            mac: mac(1),
            vtep: ip(2),
            sticky: false,
        }));
        assert_eq!(state.strays.len(), 1);
        assert_eq!(state.macs.len(), 1);
    }
}
