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
//! [`retire`] removes what setup created for VLAN/VNI pairs that left the
//! config (live reload), [`heal`] puts back what drifted away.

use super::nl::TopologyDecodeError;
use super::nl::link::{self, BridgeVlanRecord, LinkKind, LinkRecord, RTM_NEWLINK, TopologyRequest};
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

mod fix;
mod observe;
mod retire;
mod validate;

use fix::fix;
pub use observe::{KernelRefusal, TopologySocket, TopologyWatch, observe};
pub use retire::{Retirement, retire, retire_plan};
use validate::topology_of;
pub use validate::{TopologyProblem, validate};

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

/// What one [`setup`] (or [`retire`]) run changed, one line per step
/// (`bridge vlan add dev vxlan0 vid 10`), in order; empty when the topology
/// was already complete (or nothing was left to remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupReport {
    pub changes: Vec<String>,
    /// What was left in place on purpose, for the log ([`retire`]: an SVI
    /// evpnd did not create, a VLAN or VNI the config still uses).
    pub notes: Vec<String>,
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
            fix(socket, &observed, spec, problem, &mut report, None)?;
        }
    }
    let observed = observe(socket)?;
    Err(SetupError::NotConverged(validate(&observed, spec)))
}

/// What one [`heal`] run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealReport {
    /// What was put back, one line per step, as [`SetupReport::changes`].
    pub changes: Vec<String>,
    /// Differences drift healing leaves alone
    /// (not [`TopologyProblem::is_healable`]): for the log.
    pub unhealable: Vec<TopologyProblem>,
    /// The topology as it is now, when complete: its ifindexes differ from
    /// the one evpnd runs with only when someone re-created a device under
    /// another index (evpnd's rows then point at the old one).
    pub topology: Option<Topology>,
}

/// The healable problems of `observed` (pure): [`validate`]'s list
/// filtered by [`TopologyProblem::is_healable`], in creation order.
pub fn heal_plan(observed: &ObservedTopology, spec: &TopologySpec) -> Vec<TopologyProblem> {
    validate(observed, spec)
        .into_iter()
        .filter(TopologyProblem::is_healable)
        .collect()
}

/// Drift healing of the topology (issue 13): observes the kernel and puts
/// back every healable difference from the spec ([`heal_plan`]): deleted
/// devices (under their old ifindex, from `previous`), links set down, port
/// flags, VLAN memberships, tunnel_info mappings, VNI filter entries, SVIs.
/// Cheap when nothing differs: three dumps.
pub fn heal(
    socket: &mut TopologySocket,
    spec: &TopologySpec,
    previous: &Topology,
) -> Result<HealReport, SetupError> {
    let mut report = SetupReport::default();
    // As in setup: what hangs off a re-created device needs a second round.
    for _ in 0..4 {
        let observed = observe(socket)?;
        let plan = heal_plan(&observed, spec);
        if plan.is_empty() {
            return Ok(HealReport {
                changes: report.changes,
                unhealable: validate(&observed, spec),
                topology: topology_of(&observed, spec),
            });
        }
        for problem in &plan {
            fix(
                socket,
                &observed,
                spec,
                problem,
                &mut report,
                Some(previous),
            )?;
        }
    }
    let observed = observe(socket)?;
    Err(SetupError::NotConverged(heal_plan(&observed, spec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::link::{PortFlags, VlanFlags};
    use TopologyProblem::*;
    use std::net::Ipv4Addr;

    pub(super) const BR: u32 = 2;
    pub(super) const VX: u32 = 3;

    pub(super) fn spec() -> TopologySpec {
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
    pub(super) fn recipe() -> ObservedTopology {
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

    pub(super) fn link_mut<'a>(o: &'a mut ObservedTopology, name: &str) -> &'a mut LinkRecord {
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

    /// Drift healing (issue 13): every object evpnd set up that someone
    /// deleted, downed or changed is in the plan; differences that need a
    /// human are not.
    #[test]
    fn heal_plan_puts_back_each_kind_of_drift() {
        let mut o = recipe();
        if let Some(p) = link_mut(&mut o, "vxlan0").port.as_mut() {
            *p = PortFlags {
                learning: true,
                neigh_suppress: false,
                vlan_tunnel: false,
            };
        }
        link_mut(&mut o, "vxlan0").up = false;
        link_mut(&mut o, "vlan10").up = false;
        o.links.retain(|l| l.name != "vlan11");
        if let Some(t) = o.bridge_vlans.get_mut(&VX) {
            t.tunnels.remove(&10);
            t.vlans.remove(&11);
            t.tunnels.remove(&11);
        }
        if let Some(t) = o.bridge_vlans.get_mut(&BR) {
            t.vlans.insert(
                10,
                VlanFlags {
                    pvid: true,
                    untagged: true,
                },
            );
        }
        o.vni_filters.insert(VX, BTreeSet::from([1011]));
        let plan = heal_plan(&o, &spec());
        let all = validate(&o, &spec());
        assert_eq!(plan, all, "everything here is healable");
        for wanted in [
            PortLearning {
                vxlan: "vxlan0".into(),
            },
            PortNeighSuppressOff {
                vxlan: "vxlan0".into(),
            },
            PortVlanTunnelOff {
                vxlan: "vxlan0".into(),
            },
            VxlanDown {
                vxlan: "vxlan0".into(),
            },
            SviDown {
                name: "vlan10".into(),
            },
            SviMissing {
                bridge: "br0".into(),
                vlan: 11,
                name: "vlan11".into(),
            },
            TunnelInfoMissing {
                vxlan: "vxlan0".into(),
                vlan: 10,
                vni: 10,
            },
            VlanMissing {
                vxlan: "vxlan0".into(),
                vlan: 11,
            },
            VniNotFiltered {
                vxlan: "vxlan0".into(),
                vni: 10,
            },
            BridgeVlanUntagged {
                bridge: "br0".into(),
                vlan: 10,
            },
        ] {
            assert!(plan.contains(&wanted), "{wanted} not in {plan:#?}");
        }
        // What needs a human stays out of the plan.
        let mut o = recipe();
        if let LinkKind::Vxlan { local, .. } = vxlan_kind(&mut o) {
            *local = None;
        }
        assert_eq!(heal_plan(&o, &spec()), vec![]);
        assert_eq!(validate(&o, &spec()).len(), 1);
        // Nothing to do on the recipe.
        assert_eq!(heal_plan(&recipe(), &spec()), vec![]);
    }

    #[test]
    fn a_device_is_re_created_under_its_old_index() {
        let request = link::with_ifindex(link::svi_add(2, "vlan10", 10), 20);
        let (mut ours, mut plain) = (Vec::new(), Vec::new());
        request.encode_into(1, &mut ours);
        link::svi_add(2, "vlan10", 10).encode_into(1, &mut plain);
        // struct ifinfomsg follows the 16-byte header: family, pad, type, index.
        assert_eq!(ours.get(20..24), Some(&20u32.to_ne_bytes()[..]));
        assert_eq!(plain.get(20..24), Some(&0u32.to_ne_bytes()[..]));
        assert_eq!(ours.len(), plain.len());
        // Not a creation: unchanged.
        assert_eq!(link::with_ifindex(link::set_up(5), 9), link::set_up(5));
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
