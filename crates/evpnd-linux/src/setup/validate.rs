//! The pure comparison of an [`ObservedTopology`] with a [`TopologySpec`]:
//! every [`TopologyProblem`], and the [`Topology`] of a complete one.

use super::*;

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

    /// Whether drift healing ([`super::heal`]) puts this right while evpnd
    /// runs: whatever setup creates, plus what evpnd set up and someone
    /// changed since (port flags, a VLAN made untagged or the PVID). At
    /// start these are conflicts (setup never rewrites an object someone
    /// configured differently); at run time the topology is evpnd's own,
    /// adopted or created, so a change is drift. The vxlan device's own
    /// attributes (external, local, dstport) and foreign devices stay
    /// conflicts: they need a human, and are logged.
    pub const fn is_healable(&self) -> bool {
        use TopologyProblem::*;
        self.is_missing()
            || matches!(
                self,
                PortLearning { .. }
                    | PortNeighSuppressOff { .. }
                    | PortVlanTunnelOff { .. }
                    | VlanNotTagged { .. }
                    | BridgeVlanUntagged { .. }
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
pub(super) fn topology_of(observed: &ObservedTopology, spec: &TopologySpec) -> Option<Topology> {
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
