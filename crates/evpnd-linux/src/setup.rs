//! Bringing a VTEP's bridge/vxlan topology up as a [`TopologySpec`] describes
//! it (the shell builds the spec from `[vtep]` config), adopting one that
//! already matches, or refusing with one clear message per problem.
//!
//! The target is the single-VXLAN-device topology of docs/kernel-state.md:
//! - bridge: `vlan_filtering 1`, `vlan_default_pvid 0`, a fixed MAC, up;
//! - vxlan device: `external`, `vnifilter` when the kernel has it,
//!   `nolearning`, `local`, `dstport`, a port of the bridge with
//!   `vlan_tunnel on`, `neigh_suppress on`, `learning off`, up;
//! - per VLAN V / VNI N: V a *tagged* member of the vxlan port with
//!   `tunnel_info id N`, N in the VNI filter (vnifilter only), V on the
//!   bridge itself (`self`), and an SVI (VLAN upper device of the bridge).
//!
//! Three layers, so the decision is testable without a kernel:
//! [`observe`] dumps the kernel into an [`ObservedTopology`]; the pure
//! [`validate`] compares it with the spec and lists every
//! [`TopologyProblem`]; [`setup`] creates what is missing (only that: it
//! never rewrites an object someone configured differently) and refuses on
//! any conflict, [`adopt`] changes nothing and refuses on any problem.

use super::nl::link::{
    self, BridgeVlanRecord, LinkKind, LinkRecord, RTM_NEWLINK, TopologyDecodeError, TopologyRequest,
};
use super::nl::tunnel::{self, RTM_NEWTUNNEL};
use super::nl::{Messages, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, parse_ack};
use super::socket::extended_ack_message;
use evpnd_core::dataplane::model::{Ownership, Vni};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::net::IpAddr;
use thiserror::Error;

/// The topology evpnd wants, exactly what [`validate`], [`setup`] and
/// [`adopt`] compare the kernel with. Its own type, not the config: the
/// kernel layer applies desired state, whoever derived it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologySpec {
    pub bridge: String,
    pub vxlan_device: String,
    /// The vxlan device's `local` address.
    pub local_ip: IpAddr,
    /// The vxlan device's `dstport`.
    pub vxlan_port: u16,
    /// `None`: derived from `local_ip` (see [`bridge_mac`]).
    pub bridge_mac: Option<[u8; 6]>,
    /// Every VLAN and the VNI it is tunnelled as; each VLAN also gets an SVI.
    pub vlan_vnis: Vec<VlanVni>,
}

/// One bridge VLAN carried over VXLAN as one VNI (`tunnel_info id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanVni {
    pub vlan: u16,
    pub vni: Vni,
}

/// What evpnd found in the kernel, as plain values (filled by [`observe`],
/// built by hand in tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedTopology {
    /// Every link of the network namespace.
    pub links: Vec<LinkRecord>,
    /// Bridge VLAN tables (ports and bridges), by ifindex.
    pub bridge_vlans: BTreeMap<u32, BridgeVlanRecord>,
    /// VNI filter of each `vnifilter` vxlan device, by ifindex.
    pub vni_filters: BTreeMap<u32, BTreeSet<u32>>,
}

impl ObservedTopology {
    pub fn link(&self, name: &str) -> Option<&LinkRecord> {
        self.links.iter().find(|l| l.name == name)
    }

    fn link_by_index(&self, ifindex: u32) -> Option<&LinkRecord> {
        self.links.iter().find(|l| l.ifindex == ifindex)
    }

    /// The VLAN upper device of `bridge` for `vid`, whatever its name.
    fn svi(&self, bridge: u32, vid: u16) -> Option<&LinkRecord> {
        self.links
            .iter()
            .find(|l| l.link == Some(bridge) && l.kind == LinkKind::Vlan { id: vid })
    }
}

/// What the rest of the daemon needs from the topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub bridge_ifindex: u32,
    pub vxlan_ifindex: u32,
    pub bridge_mac: [u8; 6],
    /// The vxlan device filters VNIs (`bridge vni`); flood entries and
    /// remote MACs then need the VNI in the filter, which setup ensures.
    pub vnifilter: bool,
    /// VLAN -> SVI ifindex, where suppression neighbours go.
    pub svis: BTreeMap<u16, u32>,
}

impl Topology {
    /// The devices the reconciler's rows live on.
    pub const fn ownership(&self) -> Ownership {
        Ownership {
            vxlan_ifindex: self.vxlan_ifindex,
            bridge_ifindex: self.bridge_ifindex,
        }
    }

    pub fn svi(&self, vlan: u16) -> Option<u32> {
        self.svis.get(&vlan).copied()
    }
}

/// The SVI name evpnd gives VLAN `vid` when it creates one.
pub fn svi_name(vid: u16) -> String {
    format!("vlan{vid}")
}

/// The bridge MAC: configured, or derived from the VTEP address so it is
/// stable across restarts and unique per VTEP: 02:00 (locally administered,
/// unicast) followed by the IPv4 address, or the last four bytes of IPv6.
pub fn bridge_mac(spec: &TopologySpec) -> [u8; 6] {
    if let Some(mac) = spec.bridge_mac {
        return mac;
    }
    let tail = match spec.local_ip {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x00, tail[0], tail[1], tail[2], tail[3]]
}

fn fmt_mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// One way the kernel differs from the recipe. `Missing*`/`*Down` variants
/// are things [`setup`] creates; every other variant contradicts the config
/// and is refused. `Display` names the object and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopologyProblem {
    BridgeMissing {
        bridge: String,
    },
    BridgeDown {
        bridge: String,
    },
    NotABridge {
        name: String,
        kind: String,
    },
    VlanFilteringOff {
        bridge: String,
    },
    BridgeMacMismatch {
        bridge: String,
        has: [u8; 6],
        wants: [u8; 6],
    },
    BridgeVlanMissing {
        bridge: String,
        vlan: u16,
    },
    BridgeVlanUntagged {
        bridge: String,
        vlan: u16,
    },

    VxlanMissing {
        vxlan: String,
    },
    VxlanDown {
        vxlan: String,
    },
    NotAVxlan {
        name: String,
        kind: String,
    },
    VxlanNotExternal {
        vxlan: String,
        vni: u32,
    },
    VxlanLearning {
        vxlan: String,
    },
    VxlanLocalMismatch {
        vxlan: String,
        has: Option<IpAddr>,
        wants: IpAddr,
    },
    VxlanPortMismatch {
        vxlan: String,
        has: u16,
        wants: u16,
    },
    VxlanNotEnslaved {
        vxlan: String,
        bridge: String,
    },
    VxlanWrongMaster {
        vxlan: String,
        master: String,
        bridge: String,
    },
    PortLearning {
        vxlan: String,
    },
    PortNeighSuppressOff {
        vxlan: String,
    },
    PortVlanTunnelOff {
        vxlan: String,
    },
    /// Another vxlan device on the same UDP port: the kernel refuses to
    /// bring both up ("Address already in use", docs/kernel-state.md).
    VxlanPortShared {
        name: String,
        port: u16,
        vni: u32,
    },

    VlanMissing {
        vxlan: String,
        vlan: u16,
    },
    VlanNotTagged {
        vxlan: String,
        vlan: u16,
        pvid: bool,
        untagged: bool,
    },
    TunnelInfoMissing {
        vxlan: String,
        vlan: u16,
        vni: u32,
    },
    TunnelVniMismatch {
        vxlan: String,
        vlan: u16,
        has: u32,
        wants: u32,
    },
    VniMappedElsewhere {
        vxlan: String,
        vni: u32,
        vlan: u16,
        other_vlan: u16,
    },
    VniNotFiltered {
        vxlan: String,
        vni: u32,
    },

    SviMissing {
        bridge: String,
        vlan: u16,
        name: String,
    },
    SviDown {
        name: String,
    },
    SviNameTaken {
        name: String,
        vlan: u16,
        bridge: String,
    },
}

impl TopologyProblem {
    /// Whether [`setup`] may fix this by creating or enabling something.
    pub const fn is_missing(&self) -> bool {
        use TopologyProblem::*;
        matches!(
            self,
            BridgeMissing { .. }
                | BridgeDown { .. }
                | BridgeVlanMissing { .. }
                | VxlanMissing { .. }
                | VxlanDown { .. }
                | VxlanNotEnslaved { .. }
                | VlanMissing { .. }
                | TunnelInfoMissing { .. }
                | VniNotFiltered { .. }
                | SviMissing { .. }
                | SviDown { .. }
        )
    }
}

impl fmt::Display for TopologyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TopologyProblem::*;
        match self {
            BridgeMissing { bridge } => write!(f, "bridge {bridge} does not exist"),
            BridgeDown { bridge } => {
                write!(f, "bridge {bridge} is down (ip link set dev {bridge} up)")
            }
            NotABridge { name, kind } => write!(
                f,
                "{name} is a {kind} device, not a bridge; rename or delete it (ip link del {name}) or configure another vtep.bridge"
            ),
            VlanFilteringOff { bridge } => write!(
                f,
                "bridge {bridge} has vlan_filtering 0; evpnd needs 1 (ip link set dev {bridge} type bridge vlan_filtering 1)"
            ),
            BridgeMacMismatch { bridge, has, wants } => write!(
                f,
                "bridge {bridge} has MAC {}, vtep.bridge_mac is {} (ip link set dev {bridge} address {})",
                fmt_mac(has),
                fmt_mac(wants),
                fmt_mac(wants)
            ),
            BridgeVlanMissing { bridge, vlan } => write!(
                f,
                "bridge {bridge} itself is not in VLAN {vlan} (bridge vlan add dev {bridge} vid {vlan} self)"
            ),
            BridgeVlanUntagged { bridge, vlan } => write!(
                f,
                "bridge {bridge} VLAN {vlan} is untagged on the bridge itself; the SVI needs it tagged (bridge vlan add dev {bridge} vid {vlan} self)"
            ),
            VxlanMissing { vxlan } => write!(f, "vxlan device {vxlan} does not exist"),
            VxlanDown { vxlan } => write!(f, "{vxlan} is down (ip link set dev {vxlan} up)"),
            NotAVxlan { name, kind } => write!(
                f,
                "{name} is a {kind} device, not vxlan; delete it (ip link del {name}) or configure another vtep.vxlan_device"
            ),
            VxlanNotExternal { vxlan, vni } => write!(
                f,
                "{vxlan} is a per-VNI vxlan device (id {vni}); evpnd needs one `external` device (ip link del {vxlan}; evpnd creates it)"
            ),
            VxlanLearning { vxlan } => write!(
                f,
                "{vxlan}: the vxlan driver learns remote MACs; evpnd needs `nolearning` (ip link set dev {vxlan} type vxlan nolearning)"
            ),
            VxlanLocalMismatch { vxlan, has, wants } => write!(
                f,
                "{vxlan} has local {}, vtep.local_ip is {wants} (ip link del {vxlan}; evpnd recreates it)",
                has.map_or_else(|| "unset".to_owned(), |ip| ip.to_string())
            ),
            VxlanPortMismatch { vxlan, has, wants } => write!(
                f,
                "{vxlan} has dstport {has}, vtep.vxlan_port is {wants} (ip link del {vxlan}; evpnd recreates it)"
            ),
            VxlanNotEnslaved { vxlan, bridge } => write!(
                f,
                "{vxlan} is not a port of {bridge} (ip link set dev {vxlan} master {bridge})"
            ),
            VxlanWrongMaster {
                vxlan,
                master,
                bridge,
            } => write!(
                f,
                "{vxlan} is a port of {master}, not {bridge} (ip link set dev {vxlan} nomaster)"
            ),
            PortLearning { vxlan } => write!(
                f,
                "{vxlan}: learning is on; evpnd needs `learning off` (bridge link set dev {vxlan} learning off)"
            ),
            PortNeighSuppressOff { vxlan } => write!(
                f,
                "{vxlan}: neigh_suppress is off; evpnd needs `neigh_suppress on` (bridge link set dev {vxlan} neigh_suppress on)"
            ),
            PortVlanTunnelOff { vxlan } => write!(
                f,
                "{vxlan}: vlan_tunnel is off; evpnd needs `vlan_tunnel on` (bridge link set dev {vxlan} vlan_tunnel on)"
            ),
            VxlanPortShared { name, port, vni } => {
                if *vni == 0 {
                    write!(f, "vxlan device {name} uses UDP {port} in this namespace")?;
                } else {
                    write!(
                        f,
                        "per-VNI vxlan device {name} uses UDP {port} in this namespace"
                    )?;
                }
                write!(
                    f,
                    "; an `external` device cannot share the port (ip link del {name}, or set another vtep.vxlan_port)"
                )
            }
            VlanMissing { vxlan, vlan } => write!(
                f,
                "{vxlan} is not a member of VLAN {vlan} (bridge vlan add dev {vxlan} vid {vlan})"
            ),
            VlanNotTagged {
                vxlan,
                vlan,
                pvid,
                untagged,
            } => {
                let what = match (pvid, untagged) {
                    (true, true) => "a pvid untagged",
                    (true, false) => "the pvid",
                    _ => "an untagged",
                };
                write!(
                    f,
                    "{vxlan} VLAN {vlan} is {what} member; it must be tagged, or egress frames carry no VNI (bridge vlan add dev {vxlan} vid {vlan})"
                )
            }
            TunnelInfoMissing { vxlan, vlan, vni } => write!(
                f,
                "{vxlan} has no tunnel_info for VLAN {vlan} (bridge vlan add dev {vxlan} vid {vlan} tunnel_info id {vni})"
            ),
            TunnelVniMismatch {
                vxlan,
                vlan,
                has,
                wants,
            } => write!(
                f,
                "{vxlan} maps VLAN {vlan} to VNI {has}, config says VNI {wants} (bridge vlan del dev {vxlan} vid {vlan} tunnel_info id {has})"
            ),
            VniMappedElsewhere {
                vxlan,
                vni,
                vlan,
                other_vlan,
            } => write!(
                f,
                "{vxlan} maps VNI {vni} to VLAN {other_vlan}, config maps it to VLAN {vlan} (bridge vlan del dev {vxlan} vid {other_vlan} tunnel_info id {vni})"
            ),
            VniNotFiltered { vxlan, vni } => write!(
                f,
                "{vxlan} filters VNIs and VNI {vni} is not in its filter (bridge vni add dev {vxlan} vni {vni})"
            ),
            SviMissing { bridge, vlan, name } => write!(
                f,
                "no SVI for VLAN {vlan} on {bridge} (ip link add link {bridge} name {name} type vlan id {vlan})"
            ),
            SviDown { name } => write!(f, "SVI {name} is down (ip link set dev {name} up)"),
            SviNameTaken { name, vlan, bridge } => write!(
                f,
                "{name} exists but is not VLAN {vlan} on {bridge}; evpnd needs that name for the SVI (ip link del {name})"
            ),
        }
    }
}

fn kind_name(kind: &LinkKind) -> String {
    match kind {
        LinkKind::Bridge { .. } => "bridge".into(),
        LinkKind::Vxlan { .. } => "vxlan".into(),
        LinkKind::Vlan { .. } => "vlan".into(),
        LinkKind::Other(k) if k.is_empty() => "kind-less".into(),
        LinkKind::Other(k) => k.clone(),
    }
}

/// Compares the kernel with the spec. Pure. Lists every problem, missing
/// objects first in creation order; an empty list means the topology can be
/// adopted as is.
pub fn validate(observed: &ObservedTopology, spec: &TopologySpec) -> Vec<TopologyProblem> {
    use TopologyProblem::*;
    let mut problems = Vec::new();
    let bridge_name = &spec.bridge;
    let vxlan_name = &spec.vxlan_device;

    let bridge = match observed.link(bridge_name) {
        None => {
            problems.push(BridgeMissing {
                bridge: bridge_name.clone(),
            });
            None
        }
        Some(b) => match &b.kind {
            LinkKind::Bridge { vlan_filtering, .. } => {
                if !vlan_filtering {
                    problems.push(VlanFilteringOff {
                        bridge: bridge_name.clone(),
                    });
                }
                if let (Some(wants), Some(has)) = (spec.bridge_mac, b.mac)
                    && wants != has
                {
                    problems.push(BridgeMacMismatch {
                        bridge: bridge_name.clone(),
                        has,
                        wants,
                    });
                }
                if !b.up {
                    problems.push(BridgeDown {
                        bridge: bridge_name.clone(),
                    });
                }
                Some(b)
            }
            other => {
                problems.push(NotABridge {
                    name: bridge_name.clone(),
                    kind: kind_name(other),
                });
                None
            }
        },
    };

    // The vxlan device, and whether it is a port of our bridge (only then do
    // its port flags and VLANs mean anything).
    let mut port_of_bridge = None;
    let mut vnifilter = false;
    match observed.link(vxlan_name) {
        None => problems.push(VxlanMissing {
            vxlan: vxlan_name.clone(),
        }),
        Some(v) => match &v.kind {
            LinkKind::Vxlan {
                external,
                vnifilter: filter,
                learning,
                local,
                port,
                vni,
            } => {
                vnifilter = *filter;
                if !external {
                    problems.push(VxlanNotExternal {
                        vxlan: vxlan_name.clone(),
                        vni: *vni,
                    });
                }
                if *learning {
                    problems.push(VxlanLearning {
                        vxlan: vxlan_name.clone(),
                    });
                }
                if *local != Some(spec.local_ip) {
                    problems.push(VxlanLocalMismatch {
                        vxlan: vxlan_name.clone(),
                        has: *local,
                        wants: spec.local_ip,
                    });
                }
                if *port != spec.vxlan_port {
                    problems.push(VxlanPortMismatch {
                        vxlan: vxlan_name.clone(),
                        has: *port,
                        wants: spec.vxlan_port,
                    });
                }
                match (v.master, bridge) {
                    (None, _) => problems.push(VxlanNotEnslaved {
                        vxlan: vxlan_name.clone(),
                        bridge: bridge_name.clone(),
                    }),
                    (Some(m), Some(b)) if m == b.ifindex => port_of_bridge = Some(v),
                    (Some(m), _) => problems.push(VxlanWrongMaster {
                        vxlan: vxlan_name.clone(),
                        master: observed
                            .link_by_index(m)
                            .map_or_else(|| format!("ifindex {m}"), |l| l.name.clone()),
                        bridge: bridge_name.clone(),
                    }),
                }
                if let (Some(_), Some(flags)) = (port_of_bridge, v.port) {
                    if flags.learning {
                        problems.push(PortLearning {
                            vxlan: vxlan_name.clone(),
                        });
                    }
                    if !flags.neigh_suppress {
                        problems.push(PortNeighSuppressOff {
                            vxlan: vxlan_name.clone(),
                        });
                    }
                    if !flags.vlan_tunnel {
                        problems.push(PortVlanTunnelOff {
                            vxlan: vxlan_name.clone(),
                        });
                    }
                }
                if !v.up {
                    problems.push(VxlanDown {
                        vxlan: vxlan_name.clone(),
                    });
                }
            }
            other => problems.push(NotAVxlan {
                name: vxlan_name.clone(),
                kind: kind_name(other),
            }),
        },
    }

    for l in &observed.links {
        if let LinkKind::Vxlan { port, vni, .. } = l.kind
            && l.name != *vxlan_name
            && port == spec.vxlan_port
        {
            problems.push(VxlanPortShared {
                name: l.name.clone(),
                port,
                vni,
            });
        }
    }

    let empty = BridgeVlanRecord::default();
    if let Some(vx) = port_of_bridge {
        let table = observed.bridge_vlans.get(&vx.ifindex).unwrap_or(&empty);
        let filter = observed.vni_filters.get(&vx.ifindex);
        for v in &spec.vlan_vnis {
            match table.vlans.get(&v.vlan) {
                None => problems.push(VlanMissing {
                    vxlan: vxlan_name.clone(),
                    vlan: v.vlan,
                }),
                Some(f) if f.pvid || f.untagged => problems.push(VlanNotTagged {
                    vxlan: vxlan_name.clone(),
                    vlan: v.vlan,
                    pvid: f.pvid,
                    untagged: f.untagged,
                }),
                Some(_) => {}
            }
            match table.tunnels.get(&v.vlan) {
                None => {
                    // The kernel keys tunnel_info by VNI per port: a VNI used by
                    // another VLAN blocks the mapping we need.
                    if let Some((other, _)) = table
                        .tunnels
                        .iter()
                        .find(|(vid, vni)| **vni == v.vni && **vid != v.vlan)
                    {
                        problems.push(VniMappedElsewhere {
                            vxlan: vxlan_name.clone(),
                            vni: v.vni,
                            vlan: v.vlan,
                            other_vlan: *other,
                        });
                    } else {
                        problems.push(TunnelInfoMissing {
                            vxlan: vxlan_name.clone(),
                            vlan: v.vlan,
                            vni: v.vni,
                        });
                    }
                }
                Some(has) if *has != v.vni => problems.push(TunnelVniMismatch {
                    vxlan: vxlan_name.clone(),
                    vlan: v.vlan,
                    has: *has,
                    wants: v.vni,
                }),
                Some(_) => {}
            }
            if vnifilter && !filter.is_some_and(|f| f.contains(&v.vni)) {
                problems.push(VniNotFiltered {
                    vxlan: vxlan_name.clone(),
                    vni: v.vni,
                });
            }
        }
    }

    if let Some(b) = bridge {
        let table = observed.bridge_vlans.get(&b.ifindex).unwrap_or(&empty);
        for v in &spec.vlan_vnis {
            match table.vlans.get(&v.vlan) {
                None => problems.push(BridgeVlanMissing {
                    bridge: bridge_name.clone(),
                    vlan: v.vlan,
                }),
                Some(f) if f.untagged => problems.push(BridgeVlanUntagged {
                    bridge: bridge_name.clone(),
                    vlan: v.vlan,
                }),
                Some(_) => {}
            }
            match observed.svi(b.ifindex, v.vlan) {
                Some(svi) if !svi.up => problems.push(SviDown {
                    name: svi.name.clone(),
                }),
                Some(_) => {}
                None => {
                    let name = svi_name(v.vlan);
                    if observed.link(&name).is_some() {
                        problems.push(SviNameTaken {
                            name,
                            vlan: v.vlan,
                            bridge: bridge_name.clone(),
                        });
                    } else {
                        problems.push(SviMissing {
                            bridge: bridge_name.clone(),
                            vlan: v.vlan,
                            name,
                        });
                    }
                }
            }
        }
    }
    problems
}

/// The [`Topology`] of an observed state that [`validate`] found complete.
fn topology_of(observed: &ObservedTopology, spec: &TopologySpec) -> Option<Topology> {
    let bridge = observed.link(&spec.bridge)?;
    let vxlan = observed.link(&spec.vxlan_device)?;
    let LinkKind::Vxlan { vnifilter, .. } = vxlan.kind else {
        return None;
    };
    let mut svis = BTreeMap::new();
    for v in &spec.vlan_vnis {
        svis.insert(v.vlan, observed.svi(bridge.ifindex, v.vlan)?.ifindex);
    }
    Some(Topology {
        bridge_ifindex: bridge.ifindex,
        vxlan_ifindex: vxlan.ifindex,
        bridge_mac: bridge.mac.unwrap_or_default(),
        vnifilter,
        svis,
    })
}

/// Why setup or adoption failed.
#[derive(Debug, Error)]
pub enum SetupError {
    /// The existing topology contradicts the config (or, for [`adopt`], is
    /// incomplete). One entry per problem.
    #[error("the VTEP topology does not match the config:\n  {}", join(.0))]
    Refused(Vec<TopologyProblem>),
    /// The kernel refused a request.
    #[error("{action}: {reason}")]
    Kernel {
        action: String,
        errno: i32,
        reason: String,
    },
    /// Setup ran out of rounds with problems left (someone changing the
    /// topology at the same time, or a kernel that ignores a request).
    #[error("the VTEP topology is still incomplete after setup:\n  {}", join(.0))]
    NotConverged(Vec<TopologyProblem>),
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    #[error("netlink: {0}")]
    Decode(#[from] TopologyDecodeError),
    #[error("netlink dump failed: {0}")]
    Dump(io::Error),
    #[error("netlink dump kept racing with concurrent changes")]
    DumpInterrupted,
}

fn join(problems: &[TopologyProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// `NLM_F_DUMP_INTR` (netlink.h).
const NLM_F_DUMP_INTR: u16 = 0x10;

/// A synchronous NETLINK_ROUTE socket for the few dozen one-at-a-time
/// requests of setup. The reconciler's [`super::socket::RequestSocket`] is
/// built around neighbour `Op`s; setup needs arbitrary requests and dumps.
pub struct TopologySocket {
    socket: Socket,
    sequence: u32,
    receive: Vec<u8>,
}

/// A kernel refusal: errno and the extended-ACK text if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRefusal {
    pub errno: i32,
    pub message: Option<String>,
}

impl fmt::Display for KernelRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = io::Error::from_raw_os_error(self.errno).to_string();
        write!(f, "{}", text.split(" (os error").next().unwrap_or(&text))?;
        if let Some(m) = &self.message {
            write!(f, " ({m})")?;
        }
        Ok(())
    }
}

impl TopologySocket {
    pub fn open() -> Result<Self, SetupError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(TopologySocket {
            socket,
            sequence: 1,
            receive: vec![0; 1 << 20],
        })
    }

    fn next_sequence(&mut self) -> u32 {
        self.sequence = self.sequence.wrapping_add(1).max(1);
        self.sequence
    }

    /// Sends one request and waits for its ACK.
    pub fn request(
        &mut self,
        request: &TopologyRequest,
    ) -> Result<Result<(), KernelRefusal>, SetupError> {
        let sequence = self.next_sequence();
        let mut out = Vec::with_capacity(NLMSG_HDRLEN + 64);
        request.encode_into(sequence, &mut out);
        self.socket.send(&out, 0)?;
        loop {
            let n = self.socket.recv(&mut &mut self.receive[..], 0)?;
            for message in Messages::new(self.receive.get(..n).unwrap_or_default()) {
                let Ok((header, payload)) = message else {
                    break;
                };
                if header.message_type != NLMSG_ERROR || header.sequence != sequence {
                    continue;
                }
                let Some(ack) = parse_ack(payload) else {
                    continue;
                };
                return Ok(if ack.errno == 0 {
                    Ok(())
                } else {
                    Err(KernelRefusal {
                        errno: ack.errno,
                        message: extended_ack_message(header.flags, payload),
                    })
                });
            }
        }
    }

    /// Runs a dump and returns the payload of every reply of `message_type`.
    pub fn dump(
        &mut self,
        request: &TopologyRequest,
        message_type: u16,
    ) -> Result<Vec<Vec<u8>>, SetupError> {
        let sequence = self.next_sequence();
        let mut out = Vec::new();
        request.encode_into(sequence, &mut out);
        self.socket.send(&out, 0)?;
        let mut replies = Vec::new();
        let mut interrupted = false;
        loop {
            let n = self.socket.recv(&mut &mut self.receive[..], 0)?;
            for message in Messages::new(self.receive.get(..n).unwrap_or_default()) {
                let (header, payload) =
                    message.map_err(|e| TopologyDecodeError::Link(e.to_string()))?;
                if header.sequence != sequence {
                    continue;
                }
                interrupted |= header.flags & NLM_F_DUMP_INTR != 0;
                match header.message_type {
                    NLMSG_DONE => {
                        let code = payload
                            .get(0..4)
                            .and_then(|b| b.try_into().ok())
                            .map_or(0, i32::from_ne_bytes);
                        if code < 0 {
                            return Err(SetupError::Dump(io::Error::from_raw_os_error(
                                code.saturating_neg(),
                            )));
                        }
                        return if interrupted {
                            Err(SetupError::DumpInterrupted)
                        } else {
                            Ok(replies)
                        };
                    }
                    NLMSG_ERROR => {
                        if let Some(ack) = parse_ack(payload)
                            && ack.errno != 0
                        {
                            return Err(SetupError::Dump(io::Error::from_raw_os_error(ack.errno)));
                        }
                    }
                    t if t == message_type => replies.push(payload.to_vec()),
                    _ => {}
                }
            }
        }
    }
}

/// Dumps links, bridge VLAN tables and the VNI filters of `vnifilter`
/// devices in the calling thread's network namespace.
pub fn observe(socket: &mut TopologySocket) -> Result<ObservedTopology, SetupError> {
    let mut last = SetupError::DumpInterrupted;
    for _ in 0..3 {
        match observe_once(socket) {
            Err(SetupError::DumpInterrupted) => last = SetupError::DumpInterrupted,
            other => return other,
        }
    }
    Err(last)
}

fn observe_once(socket: &mut TopologySocket) -> Result<ObservedTopology, SetupError> {
    let mut observed = ObservedTopology::default();
    for payload in socket.dump(&link::link_dump(), RTM_NEWLINK)? {
        observed.links.push(link::parse_link(&payload)?);
    }
    for payload in socket.dump(&link::bridge_vlan_dump(), RTM_NEWLINK)? {
        let rec = link::parse_bridge_vlans(&payload)?;
        observed.bridge_vlans.insert(rec.ifindex, rec);
    }
    let filtering: Vec<u32> = observed
        .links
        .iter()
        .filter(|l| {
            matches!(
                l.kind,
                LinkKind::Vxlan {
                    vnifilter: true,
                    ..
                }
            )
        })
        .map(|l| l.ifindex)
        .collect();
    for ifindex in filtering {
        let mut vnis = BTreeSet::new();
        for payload in socket.dump(&tunnel::vni_dump(ifindex), RTM_NEWTUNNEL)? {
            let (dev, got) = tunnel::parse_vnis(&payload)?;
            if dev == ifindex {
                vnis.extend(got);
            }
        }
        observed.vni_filters.insert(ifindex, vnis);
    }
    Ok(observed)
}

/// What one [`setup`] run changed, one line per step (`bridge vlan add dev
/// vxlan0 vid 10`), in order; empty when the topology was already complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupReport {
    pub changes: Vec<String>,
}

/// Adopts the topology as it is: refuses, changing nothing, if anything at
/// all differs from the recipe (missing objects included).
pub fn adopt(socket: &mut TopologySocket, spec: &TopologySpec) -> Result<Topology, SetupError> {
    let observed = observe(socket)?;
    let problems = validate(&observed, spec);
    if !problems.is_empty() {
        return Err(SetupError::Refused(problems));
    }
    topology_of(&observed, spec).ok_or(SetupError::NotConverged(Vec::new()))
}

/// Creates whatever the recipe needs and is missing, adopts what matches,
/// refuses (before changing anything) if something contradicts the spec.
/// Idempotent: a second run reports no changes.
pub fn setup(
    socket: &mut TopologySocket,
    spec: &TopologySpec,
) -> Result<(Topology, SetupReport), SetupError> {
    let mut report = SetupReport::default();
    // Each round creates what the previous state allows: the bridge and vxlan
    // device first, then what hangs off them. Three rounds suffice.
    for _ in 0..4 {
        let observed = observe(socket)?;
        let problems = validate(&observed, spec);
        let (missing, conflicts): (Vec<_>, Vec<_>) =
            problems.into_iter().partition(TopologyProblem::is_missing);
        if !conflicts.is_empty() {
            return Err(SetupError::Refused(conflicts));
        }
        if missing.is_empty() {
            let topology =
                topology_of(&observed, spec).ok_or(SetupError::NotConverged(Vec::new()))?;
            return Ok((topology, report));
        }
        for problem in &missing {
            fix(socket, &observed, spec, problem, &mut report)?;
        }
    }
    let observed = observe(socket)?;
    Err(SetupError::NotConverged(validate(&observed, spec)))
}

fn ifindex_of(observed: &ObservedTopology, name: &str) -> Option<u32> {
    observed.link(name).map(|l| l.ifindex).or_else(|| {
        // Created earlier in this round: ask the kernel directly.
        let c = std::ffi::CString::new(name).ok()?;
        // SAFETY: a valid NUL-terminated string.
        let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
        (i != 0).then_some(i)
    })
}

fn send(
    socket: &mut TopologySocket,
    report: &mut SetupReport,
    action: String,
    request: &TopologyRequest,
) -> Result<(), SetupError> {
    match socket.request(request)? {
        Ok(()) => {
            report.changes.push(action);
            Ok(())
        }
        Err(refusal) => Err(SetupError::Kernel {
            action,
            errno: refusal.errno,
            reason: refusal.to_string(),
        }),
    }
}

/// Carries out the fix of one missing-kind problem.
fn fix(
    socket: &mut TopologySocket,
    observed: &ObservedTopology,
    spec: &TopologySpec,
    problem: &TopologyProblem,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    use TopologyProblem::*;
    let unresolved = |name: &str| SetupError::Kernel {
        action: format!("look up {name}"),
        errno: libc::ENODEV,
        reason: format!("{name} vanished during setup"),
    };
    let index = |name: &str| ifindex_of(observed, name).ok_or_else(|| unresolved(name));
    let set_up = |socket: &mut TopologySocket, report: &mut SetupReport, name: &str| {
        let i = index(name)?;
        send(
            socket,
            report,
            format!("ip link set dev {name} up"),
            &link::set_up(i),
        )
    };
    match problem {
        BridgeMissing { bridge } => {
            let mac = bridge_mac(spec);
            send(
                socket,
                report,
                format!(
                    "ip link add {bridge} address {} type bridge vlan_filtering 1 vlan_default_pvid 0",
                    fmt_mac(&mac)
                ),
                &link::bridge_add(bridge, mac),
            )?;
            set_up(socket, report, bridge)
        }
        BridgeDown { bridge } => set_up(socket, report, bridge),
        VxlanMissing { vxlan } => {
            let master = index(&spec.bridge)?;
            let base = format!(
                "ip link add {vxlan} master {} type vxlan dstport {} local {} nolearning external",
                spec.bridge, spec.vxlan_port, spec.local_ip
            );
            let with_filter = link::vxlan_add(vxlan, master, spec.local_ip, spec.vxlan_port, true);
            match socket.request(&with_filter)? {
                Ok(()) => report.changes.push(format!("{base} vnifilter")),
                // A kernel without vnifilter (< 5.18) that validates the
                // attribute strictly; one that ignores it shows up as
                // vnifilter off in the next dump.
                Err(r) if r.errno == libc::EINVAL || r.errno == libc::EOPNOTSUPP => send(
                    socket,
                    report,
                    base,
                    &link::vxlan_add(vxlan, master, spec.local_ip, spec.vxlan_port, false),
                )?,
                Err(r) => {
                    return Err(SetupError::Kernel {
                        action: format!("{base} vnifilter"),
                        errno: r.errno,
                        reason: r.to_string(),
                    });
                }
            }
            let i = index(vxlan)?;
            port_flags(socket, report, vxlan, i)?;
            send(
                socket,
                report,
                format!("ip link set dev {vxlan} up"),
                &link::set_up(i),
            )
        }
        VxlanNotEnslaved { vxlan, bridge } => {
            let (i, b) = (index(vxlan)?, index(bridge)?);
            send(
                socket,
                report,
                format!("ip link set dev {vxlan} master {bridge}"),
                &link::set_master(i, b),
            )?;
            // A fresh port has the kernel defaults (learning on, no
            // vlan_tunnel): set ours before anyone sees it as a conflict.
            port_flags(socket, report, vxlan, i)
        }
        VxlanDown { vxlan } => set_up(socket, report, vxlan),
        VlanMissing { vxlan, vlan } => {
            let i = index(vxlan)?;
            send(
                socket,
                report,
                format!("bridge vlan add dev {vxlan} vid {vlan}"),
                &link::bridge_vlan_add(i, *vlan, false),
            )
        }
        TunnelInfoMissing { vxlan, vlan, vni } => {
            let i = index(vxlan)?;
            send(
                socket,
                report,
                format!("bridge vlan add dev {vxlan} vid {vlan} tunnel_info id {vni}"),
                &link::vlan_tunnel_add(i, *vlan, *vni),
            )
        }
        VniNotFiltered { vxlan, vni } => {
            let i = index(vxlan)?;
            send(
                socket,
                report,
                format!("bridge vni add dev {vxlan} vni {vni}"),
                &tunnel::vni_add(i, *vni),
            )
        }
        BridgeVlanMissing { bridge, vlan } => {
            let i = index(bridge)?;
            send(
                socket,
                report,
                format!("bridge vlan add dev {bridge} vid {vlan} self"),
                &link::bridge_vlan_add(i, *vlan, true),
            )
        }
        SviMissing { bridge, vlan, name } => {
            let b = index(bridge)?;
            send(
                socket,
                report,
                format!("ip link add link {bridge} name {name} type vlan id {vlan}"),
                &link::svi_add(b, name, *vlan),
            )?;
            set_up(socket, report, name)
        }
        SviDown { name } => set_up(socket, report, name),
        // Conflicts never reach here (setup refuses first).
        _ => Ok(()),
    }
}

fn port_flags(
    socket: &mut TopologySocket,
    report: &mut SetupReport,
    vxlan: &str,
    ifindex: u32,
) -> Result<(), SetupError> {
    send(
        socket,
        report,
        format!(
            "ip link set dev {vxlan} type bridge_slave learning off neigh_suppress on vlan_tunnel on"
        ),
        &link::bridge_port_flags(ifindex),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::link::{PortFlags, VlanFlags};
    use TopologyProblem::*;
    use std::net::Ipv4Addr;

    const BR: u32 = 2;
    const VX: u32 = 3;

    fn spec() -> TopologySpec {
        TopologySpec {
            bridge: "br0".into(),
            vxlan_device: "vxlan0".into(),
            local_ip: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1)),
            vxlan_port: 4789,
            bridge_mac: None,
            vlan_vnis: [(10, 10), (11, 1011)]
                .into_iter()
                .map(|(vlan, vni)| VlanVni { vlan, vni })
                .collect(),
        }
    }

    fn record(ifindex: u32, name: &str, kind: LinkKind) -> LinkRecord {
        LinkRecord {
            ifindex,
            name: name.into(),
            mac: Some([2, 0, 0, 0, 0, ifindex as u8]),
            up: true,
            master: None,
            link: None,
            kind,
            port: None,
        }
    }

    /// Exactly what the recipe asks for.
    fn recipe() -> ObservedTopology {
        let mut o = ObservedTopology::default();
        o.links
            .push(record(1, "lo", LinkKind::Other(String::new())));
        o.links.push(record(
            BR,
            "br0",
            LinkKind::Bridge {
                vlan_filtering: true,
                default_pvid: 0,
            },
        ));
        let mut vx = record(
            VX,
            "vxlan0",
            LinkKind::Vxlan {
                external: true,
                vnifilter: true,
                learning: false,
                local: Some(IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1))),
                port: 4789,
                vni: 0,
            },
        );
        vx.master = Some(BR);
        vx.port = Some(PortFlags {
            learning: false,
            neigh_suppress: true,
            vlan_tunnel: true,
        });
        o.links.push(vx);
        for (i, vlan) in [(20u32, 10u16), (21, 11)] {
            let mut svi = record(i, &format!("vlan{vlan}"), LinkKind::Vlan { id: vlan });
            svi.link = Some(BR);
            o.links.push(svi);
        }
        let tagged = VlanFlags::default();
        o.bridge_vlans.insert(
            VX,
            BridgeVlanRecord {
                ifindex: VX,
                vlans: BTreeMap::from([(10, tagged), (11, tagged)]),
                tunnels: BTreeMap::from([(10, 10), (11, 1011)]),
            },
        );
        o.bridge_vlans.insert(
            BR,
            BridgeVlanRecord {
                ifindex: BR,
                vlans: BTreeMap::from([(10, tagged), (11, tagged)]),
                tunnels: BTreeMap::new(),
            },
        );
        o.vni_filters.insert(VX, BTreeSet::from([10, 1011]));
        o
    }

    fn link_mut<'a>(o: &'a mut ObservedTopology, name: &str) -> &'a mut LinkRecord {
        o.links
            .iter_mut()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    fn vxlan_kind(o: &mut ObservedTopology) -> &mut LinkKind {
        &mut link_mut(o, "vxlan0").kind
    }

    #[test]
    fn the_recipe_is_adopted_with_its_ifindexes() {
        let o = recipe();
        assert_eq!(validate(&o, &spec()), vec![]);
        let t = topology_of(&o, &spec());
        assert_eq!(
            t,
            Some(Topology {
                bridge_ifindex: BR,
                vxlan_ifindex: VX,
                bridge_mac: [2, 0, 0, 0, 0, 2],
                vnifilter: true,
                svis: BTreeMap::from([(10, 20), (11, 21)]),
            })
        );
        // An SVI with another name is adopted too.
        let mut o = recipe();
        link_mut(&mut o, "vlan11").name = "br0.11".into();
        assert_eq!(validate(&o, &spec()), vec![]);
    }

    #[test]
    fn an_empty_namespace_is_all_missing_in_creation_order() {
        let o = ObservedTopology::default();
        let p = validate(&o, &spec());
        assert_eq!(
            p,
            vec![
                BridgeMissing {
                    bridge: "br0".into()
                },
                VxlanMissing {
                    vxlan: "vxlan0".into()
                }
            ]
        );
        assert!(p.iter().all(TopologyProblem::is_missing));
    }

    #[test]
    fn a_bare_bridge_and_device_lack_every_per_vlan_object() {
        let mut o = recipe();
        o.links.retain(|l| !matches!(l.kind, LinkKind::Vlan { .. }));
        o.bridge_vlans.clear();
        o.vni_filters.clear();
        link_mut(&mut o, "vxlan0").up = false;
        link_mut(&mut o, "br0").up = false;
        let p = validate(&o, &spec());
        let texts: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert!(p.iter().all(TopologyProblem::is_missing), "{texts:#?}");
        assert_eq!(p.len(), 2 + 2 * 3 + 2 * 2, "{texts:#?}");
        assert!(texts.contains(&"vxlan0 has no tunnel_info for VLAN 11 (bridge vlan add dev vxlan0 vid 11 tunnel_info id 1011)".to_owned()));
        assert!(texts.contains(&"vxlan0 filters VNIs and VNI 1011 is not in its filter (bridge vni add dev vxlan0 vni 1011)".to_owned()));
        assert!(
            texts.contains(
                &"no SVI for VLAN 10 on br0 (ip link add link br0 name vlan10 type vlan id 10)"
                    .to_owned()
            )
        );
        assert!(texts.contains(
            &"bridge br0 itself is not in VLAN 11 (bridge vlan add dev br0 vid 11 self)".to_owned()
        ));
        assert!(texts.contains(
            &"vxlan0 is not a member of VLAN 10 (bridge vlan add dev vxlan0 vid 10)".to_owned()
        ));
        assert!(texts.contains(&"bridge br0 is down (ip link set dev br0 up)".to_owned()));
        assert!(texts.contains(&"vxlan0 is down (ip link set dev vxlan0 up)".to_owned()));
    }

    /// Applies `break_it` to the recipe and expects exactly `expected`.
    fn only(break_it: impl FnOnce(&mut ObservedTopology), expected: TopologyProblem, text: &str) {
        let mut o = recipe();
        break_it(&mut o);
        let p = validate(&o, &spec());
        assert_eq!(p, vec![expected.clone()]);
        assert_eq!(expected.to_string(), text);
    }

    #[test]
    fn port_flag_conflicts() {
        let set = |f: fn(&mut PortFlags)| {
            move |o: &mut ObservedTopology| {
                if let Some(p) = link_mut(o, "vxlan0").port.as_mut() {
                    f(p)
                }
            }
        };
        only(
            set(|p| p.learning = true),
            PortLearning {
                vxlan: "vxlan0".into(),
            },
            "vxlan0: learning is on; evpnd needs `learning off` (bridge link set dev vxlan0 learning off)",
        );
        only(
            set(|p| p.neigh_suppress = false),
            PortNeighSuppressOff {
                vxlan: "vxlan0".into(),
            },
            "vxlan0: neigh_suppress is off; evpnd needs `neigh_suppress on` (bridge link set dev vxlan0 neigh_suppress on)",
        );
        only(
            set(|p| p.vlan_tunnel = false),
            PortVlanTunnelOff {
                vxlan: "vxlan0".into(),
            },
            "vxlan0: vlan_tunnel is off; evpnd needs `vlan_tunnel on` (bridge link set dev vxlan0 vlan_tunnel on)",
        );
    }

    #[test]
    fn vlan_membership_conflicts() {
        for (pvid, untagged, what) in [
            (false, true, "an untagged"),
            (true, false, "the pvid"),
            (true, true, "a pvid untagged"),
        ] {
            only(
                |o| {
                    if let Some(t) = o.bridge_vlans.get_mut(&VX) {
                        t.vlans.insert(10, VlanFlags { pvid, untagged });
                    }
                },
                VlanNotTagged {
                    vxlan: "vxlan0".into(),
                    vlan: 10,
                    pvid,
                    untagged,
                },
                &format!(
                    "vxlan0 VLAN 10 is {what} member; it must be tagged, or egress frames carry no VNI (bridge vlan add dev vxlan0 vid 10)"
                ),
            );
        }
        only(
            |o| {
                if let Some(t) = o.bridge_vlans.get_mut(&BR) {
                    t.vlans.insert(
                        11,
                        VlanFlags {
                            pvid: true,
                            untagged: true,
                        },
                    );
                }
            },
            BridgeVlanUntagged {
                bridge: "br0".into(),
                vlan: 11,
            },
            "bridge br0 VLAN 11 is untagged on the bridge itself; the SVI needs it tagged (bridge vlan add dev br0 vid 11 self)",
        );
        // Memberships of VLANs evpnd does not map are none of its business.
        let mut o = recipe();
        if let Some(t) = o.bridge_vlans.get_mut(&VX) {
            t.vlans.insert(
                1,
                VlanFlags {
                    pvid: true,
                    untagged: true,
                },
            );
            t.tunnels.insert(99, 99);
        }
        assert_eq!(validate(&o, &spec()), vec![]);
    }

    #[test]
    fn tunnel_mapping_conflicts() {
        only(
            |o| {
                if let Some(t) = o.bridge_vlans.get_mut(&VX) {
                    t.tunnels.insert(11, 11);
                }
            },
            TunnelVniMismatch {
                vxlan: "vxlan0".into(),
                vlan: 11,
                has: 11,
                wants: 1011,
            },
            "vxlan0 maps VLAN 11 to VNI 11, config says VNI 1011 (bridge vlan del dev vxlan0 vid 11 tunnel_info id 11)",
        );
        only(
            |o| {
                if let Some(t) = o.bridge_vlans.get_mut(&VX) {
                    t.tunnels.remove(&11);
                    t.tunnels.insert(12, 1011);
                }
            },
            VniMappedElsewhere {
                vxlan: "vxlan0".into(),
                vni: 1011,
                vlan: 11,
                other_vlan: 12,
            },
            "vxlan0 maps VNI 1011 to VLAN 12, config maps it to VLAN 11 (bridge vlan del dev vxlan0 vid 12 tunnel_info id 1011)",
        );
        only(
            |o| {
                if let Some(t) = o.bridge_vlans.get_mut(&VX) {
                    t.tunnels.remove(&11);
                }
            },
            TunnelInfoMissing {
                vxlan: "vxlan0".into(),
                vlan: 11,
                vni: 1011,
            },
            "vxlan0 has no tunnel_info for VLAN 11 (bridge vlan add dev vxlan0 vid 11 tunnel_info id 1011)",
        );
    }

    #[test]
    fn vni_filter_only_matters_with_vnifilter() {
        only(
            |o| {
                o.vni_filters.insert(VX, BTreeSet::from([10]));
            },
            VniNotFiltered {
                vxlan: "vxlan0".into(),
                vni: 1011,
            },
            "vxlan0 filters VNIs and VNI 1011 is not in its filter (bridge vni add dev vxlan0 vni 1011)",
        );
        let mut o = recipe();
        o.vni_filters.clear();
        if let LinkKind::Vxlan { vnifilter, .. } = vxlan_kind(&mut o) {
            *vnifilter = false;
        }
        assert_eq!(validate(&o, &spec()), vec![]);
        assert_eq!(topology_of(&o, &spec()).map(|t| t.vnifilter), Some(false));
    }

    #[test]
    fn bridge_conflicts() {
        only(
            |o| {
                link_mut(o, "br0").kind = LinkKind::Bridge {
                    vlan_filtering: false,
                    default_pvid: 1,
                }
            },
            VlanFilteringOff {
                bridge: "br0".into(),
            },
            "bridge br0 has vlan_filtering 0; evpnd needs 1 (ip link set dev br0 type bridge vlan_filtering 1)",
        );
        let mut with_mac = spec();
        with_mac.bridge_mac = Some([2, 0xb0, 0, 0, 0, 1]);
        let p = validate(&recipe(), &with_mac);
        assert_eq!(
            p.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![
                "bridge br0 has MAC 02:00:00:00:00:02, vtep.bridge_mac is 02:b0:00:00:00:01 (ip link set dev br0 address 02:b0:00:00:00:01)"
            ]
        );
        let mut o = recipe();
        link_mut(&mut o, "br0").kind = LinkKind::Other("dummy".into());
        let p = validate(&o, &spec());
        assert_eq!(
            p,
            vec![
                NotABridge {
                    name: "br0".into(),
                    kind: "dummy".into()
                },
                VxlanWrongMaster {
                    vxlan: "vxlan0".into(),
                    master: "br0".into(),
                    bridge: "br0".into()
                }
            ]
        );
        assert!(p.iter().all(|p| !p.is_missing()));
    }

    #[test]
    fn vxlan_device_conflicts() {
        let mut o = recipe();
        *vxlan_kind(&mut o) = LinkKind::Vxlan {
            external: false,
            vnifilter: false,
            learning: true,
            local: None,
            port: 8472,
            vni: 10,
        };
        let p = validate(&o, &spec());
        let texts: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            vec![
                "vxlan0 is a per-VNI vxlan device (id 10); evpnd needs one `external` device (ip link del vxlan0; evpnd creates it)",
                "vxlan0: the vxlan driver learns remote MACs; evpnd needs `nolearning` (ip link set dev vxlan0 type vxlan nolearning)",
                "vxlan0 has local unset, vtep.local_ip is 198.19.0.1 (ip link del vxlan0; evpnd recreates it)",
                "vxlan0 has dstport 8472, vtep.vxlan_port is 4789 (ip link del vxlan0; evpnd recreates it)",
            ]
        );
        assert!(p.iter().all(|p| !p.is_missing()));

        only(
            |o| link_mut(o, "vxlan0").kind = LinkKind::Other("veth".into()),
            NotAVxlan {
                name: "vxlan0".into(),
                kind: "veth".into(),
            },
            "vxlan0 is a veth device, not vxlan; delete it (ip link del vxlan0) or configure another vtep.vxlan_device",
        );
        let mut o = recipe();
        o.links.push(record(
            9,
            "br1",
            LinkKind::Bridge {
                vlan_filtering: true,
                default_pvid: 1,
            },
        ));
        link_mut(&mut o, "vxlan0").master = Some(9);
        assert_eq!(
            validate(&o, &spec()),
            vec![VxlanWrongMaster {
                vxlan: "vxlan0".into(),
                master: "br1".into(),
                bridge: "br0".into()
            }]
        );
        assert_eq!(
            validate(&o, &spec())[0].to_string(),
            "vxlan0 is a port of br1, not br0 (ip link set dev vxlan0 nomaster)"
        );
        let mut o = recipe();
        link_mut(&mut o, "vxlan0").master = None;
        let p = validate(&o, &spec());
        assert_eq!(
            p,
            vec![VxlanNotEnslaved {
                vxlan: "vxlan0".into(),
                bridge: "br0".into()
            }]
        );
        assert!(p[0].is_missing());
    }

    #[test]
    fn other_vxlan_devices_on_the_port_are_refused() {
        let per_vni = |o: &mut ObservedTopology| {
            o.links.push(record(
                30,
                "vxlan10",
                LinkKind::Vxlan {
                    external: false,
                    vnifilter: false,
                    learning: false,
                    local: None,
                    port: 4789,
                    vni: 10,
                },
            ))
        };
        only(
            per_vni,
            VxlanPortShared {
                name: "vxlan10".into(),
                port: 4789,
                vni: 10,
            },
            "per-VNI vxlan device vxlan10 uses UDP 4789 in this namespace; an `external` device cannot share the port (ip link del vxlan10, or set another vtep.vxlan_port)",
        );
        // On another port it is no concern of ours.
        let mut o = recipe();
        per_vni(&mut o);
        if let Some(LinkRecord {
            kind: LinkKind::Vxlan { port, .. },
            ..
        }) = o.links.last_mut()
        {
            *port = 4790;
        }
        assert_eq!(validate(&o, &spec()), vec![]);
    }

    #[test]
    fn svi_problems() {
        only(
            |o| link_mut(o, "vlan10").up = false,
            SviDown {
                name: "vlan10".into(),
            },
            "SVI vlan10 is down (ip link set dev vlan10 up)",
        );
        only(
            |o| link_mut(o, "vlan11").link = Some(VX),
            SviNameTaken {
                name: "vlan11".into(),
                vlan: 11,
                bridge: "br0".into(),
            },
            "vlan11 exists but is not VLAN 11 on br0; evpnd needs that name for the SVI (ip link del vlan11)",
        );
        only(
            |o| o.links.retain(|l| l.name != "vlan11"),
            SviMissing {
                bridge: "br0".into(),
                vlan: 11,
                name: "vlan11".into(),
            },
            "no SVI for VLAN 11 on br0 (ip link add link br0 name vlan11 type vlan id 11)",
        );
    }

    #[test]
    fn bridge_mac_is_configured_or_derived_from_the_vtep_address() {
        let mut c = spec();
        assert_eq!(bridge_mac(&c), [2, 0, 198, 19, 0, 1]);
        c.local_ip = "2001:db8::c613:5".parse().unwrap_or(c.local_ip);
        assert_eq!(bridge_mac(&c), [2, 0, 0xc6, 0x13, 0, 5]);
        c.bridge_mac = Some([2, 0xb0, 0, 0, 0, 1]);
        assert_eq!(bridge_mac(&c), [2, 0xb0, 0, 0, 0, 1]);
    }

    #[test]
    fn refusal_lists_every_problem_on_its_own_line() {
        let e = SetupError::Refused(vec![
            PortLearning {
                vxlan: "vxlan0".into(),
            },
            BridgeMissing {
                bridge: "br0".into(),
            },
        ]);
        assert_eq!(
            e.to_string(),
            "the VTEP topology does not match the config:\n  vxlan0: learning is on; evpnd needs `learning off` (bridge link set dev vxlan0 learning off)\n  bridge br0 does not exist"
        );
    }
}
