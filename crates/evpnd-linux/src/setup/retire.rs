//! Retiring VNIs removed from the config while evpnd runs (issue 13, live
//! reload): the reverse of what [`super::setup`] creates per VLAN V / VNI N.
//!
//! [`retire_plan`] (pure) lists the steps for the pairs that left the
//! config, [`retire`] observes the kernel and carries them out, one request
//! per step, in this order per pair:
//! 1. the SVI, only the one named [`svi_name`]`(V)` (what evpnd creates); an
//!    SVI of VLAN V under another name was made by someone else and is left
//!    in place, which the plan says as a note;
//! 2. V on the vxlan port (`bridge vlan del dev vxlan0 vid V`): the kernel
//!    drops the VLAN's tunnel_info mapping with the membership
//!    (`__vlan_del` calls `vlan_tunnel_info_del`, net/bridge/br_vlan.c), so
//!    the mapping needs no request of its own;
//! 3. N in the VNI filter (`bridge vni delete`), on a `vnifilter` device;
//! 4. V on the bridge itself (`bridge vlan del dev br0 vid V self`).
//!
//! Only objects of the retired pairs are touched, and none that the (new)
//! spec still uses: a VLAN still in the spec keeps its SVI and memberships,
//! a VNI still in the spec keeps its filter entry (both noted). What is
//! already gone is skipped. Host ports' memberships of V are the operator's
//! and stay.
//!
//! Drift healing does not fight a retire: [`super::validate`] (and so
//! [`super::heal_plan`]) only looks at the VLANs and VNIs the spec lists, so
//! once the shell's spec has dropped the pair, whatever is left of it (or
//! was deliberately kept) is no problem and nothing heal puts back.

use super::*;

/// One step of retiring a VLAN/VNI pair, or a note about what is left in
/// place on purpose. `Display` is the iproute2 command of a step (as
/// [`SetupReport::changes`] lists them) or the note's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retirement {
    /// `ip link del dev NAME`.
    DeleteSvi {
        name: String,
        ifindex: u32,
        vlan: u16,
    },
    /// `bridge vlan del dev VXLAN vid VLAN`: the membership and its
    /// tunnel_info mapping (`vni`, when there is one) go together.
    DeletePortVlan {
        vxlan: String,
        ifindex: u32,
        vlan: u16,
        vni: Option<u32>,
    },
    /// `bridge vni delete dev VXLAN vni VNI`.
    DeleteVniFilter {
        vxlan: String,
        ifindex: u32,
        vni: u32,
    },
    /// `bridge vlan del dev BRIDGE vid VLAN self`.
    DeleteBridgeVlan {
        bridge: String,
        ifindex: u32,
        vlan: u16,
    },
    /// Note: the SVI of the VLAN has a name evpnd does not give, so someone
    /// else made it; it stays.
    SviKept { name: String, vlan: u16 },
    /// Note: the retired VLAN is still in the spec (with `vni`); its SVI and
    /// memberships stay.
    VlanKept { vlan: u16, vni: Vni },
    /// Note: the retired VNI is still in the spec (on `vlan`); its filter
    /// entry stays.
    VniKept { vni: Vni, vlan: u16 },
}

impl Retirement {
    /// A note, not a change.
    pub const fn is_note(&self) -> bool {
        matches!(
            self,
            Retirement::SviKept { .. } | Retirement::VlanKept { .. } | Retirement::VniKept { .. }
        )
    }

    /// The request that carries the step out (`None` for a note).
    pub fn request(&self) -> Option<TopologyRequest> {
        match self {
            Retirement::DeleteSvi { ifindex, .. } => Some(link::link_del(*ifindex)),
            Retirement::DeletePortVlan { ifindex, vlan, .. } => {
                Some(link::bridge_vlan_del(*ifindex, *vlan, false))
            }
            Retirement::DeleteVniFilter { ifindex, vni, .. } => Some(link::vni_del(*ifindex, *vni)),
            Retirement::DeleteBridgeVlan { ifindex, vlan, .. } => {
                Some(link::bridge_vlan_del(*ifindex, *vlan, true))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Retirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retirement::DeleteSvi { name, .. } => write!(f, "ip link del dev {name}"),
            Retirement::DeletePortVlan { vxlan, vlan, .. } => {
                write!(f, "bridge vlan del dev {vxlan} vid {vlan}")
            }
            Retirement::DeleteVniFilter { vxlan, vni, .. } => {
                write!(f, "bridge vni delete dev {vxlan} vni {vni}")
            }
            Retirement::DeleteBridgeVlan { bridge, vlan, .. } => {
                write!(f, "bridge vlan del dev {bridge} vid {vlan} self")
            }
            Retirement::SviKept { name, vlan } => write!(
                f,
                "SVI {name} of VLAN {vlan} left in place: evpnd did not create it (it would be named {}); remove it with ip link del dev {name}",
                svi_name(*vlan)
            ),
            Retirement::VlanKept { vlan, vni } => write!(
                f,
                "VLAN {vlan} is still in the config (VNI {vni}): its SVI and memberships stay"
            ),
            Retirement::VniKept { vni, vlan } => write!(
                f,
                "VNI {vni} is still in the config (VLAN {vlan}): its VNI filter entry stays"
            ),
        }
    }
}

/// The steps that retire the `retired` pairs (pure). `spec` is the new spec,
/// without them. Per pair, in order: SVI, vxlan port VLAN (with its
/// tunnel_info), VNI filter entry, the bridge's own VLAN; objects already
/// absent are skipped, objects the spec still uses are kept (with a note).
/// An empty plan means there is nothing left to remove.
pub fn retire_plan(
    observed: &ObservedTopology,
    spec: &TopologySpec,
    retired: &[VlanVni],
) -> Vec<Retirement> {
    let bridge = observed
        .link(&spec.bridge)
        .filter(|l| matches!(l.kind, LinkKind::Bridge { .. }));
    let vxlan = observed
        .link(&spec.vxlan_device)
        .filter(|l| matches!(l.kind, LinkKind::Vxlan { .. }));
    let bridge_table = bridge.and_then(|b| observed.bridge_vlans.get(&b.ifindex));
    let port_table = vxlan.and_then(|v| observed.bridge_vlans.get(&v.ifindex));
    let filter = vxlan.and_then(|v| observed.vni_filters.get(&v.ifindex));
    let vlan_in_spec = |vlan: u16| spec.vlan_vnis.iter().find(|p| p.vlan == vlan);
    let vni_in_spec = |vni: Vni| spec.vlan_vnis.iter().find(|p| p.vni == vni);

    let mut plan = Vec::new();
    let (mut vlans_done, mut vnis_done) = (BTreeSet::new(), BTreeSet::new());
    for r in retired {
        let vlan_free = match vlan_in_spec(r.vlan) {
            Some(kept) => {
                if vlans_done.insert(r.vlan) {
                    plan.push(Retirement::VlanKept {
                        vlan: r.vlan,
                        vni: kept.vni,
                    });
                }
                false
            }
            None => vlans_done.insert(r.vlan),
        };
        if vlan_free {
            if let Some(svi) = bridge.and_then(|b| observed.svi(b.ifindex, r.vlan)) {
                plan.push(if svi.name == svi_name(r.vlan) {
                    Retirement::DeleteSvi {
                        name: svi.name.clone(),
                        ifindex: svi.ifindex,
                        vlan: r.vlan,
                    }
                } else {
                    Retirement::SviKept {
                        name: svi.name.clone(),
                        vlan: r.vlan,
                    }
                });
            }
            if let (Some(vx), Some(table)) = (vxlan, port_table)
                && (table.vlans.contains_key(&r.vlan) || table.tunnels.contains_key(&r.vlan))
            {
                plan.push(Retirement::DeletePortVlan {
                    vxlan: vx.name.clone(),
                    ifindex: vx.ifindex,
                    vlan: r.vlan,
                    vni: table.tunnels.get(&r.vlan).copied(),
                });
            }
        }
        match vni_in_spec(r.vni) {
            Some(kept) => {
                if vnis_done.insert(r.vni) {
                    plan.push(Retirement::VniKept {
                        vni: r.vni,
                        vlan: kept.vlan,
                    });
                }
            }
            None => {
                if let (Some(vx), Some(f)) = (vxlan, filter)
                    && f.contains(&r.vni)
                    && vnis_done.insert(r.vni)
                {
                    plan.push(Retirement::DeleteVniFilter {
                        vxlan: vx.name.clone(),
                        ifindex: vx.ifindex,
                        vni: r.vni,
                    });
                }
            }
        }
        if vlan_free
            && let (Some(b), Some(table)) = (bridge, bridge_table)
            && table.vlans.contains_key(&r.vlan)
        {
            plan.push(Retirement::DeleteBridgeVlan {
                bridge: b.name.clone(),
                ifindex: b.ifindex,
                vlan: r.vlan,
            });
        }
    }
    plan
}

/// Retires VLAN/VNI pairs removed from the config (issue 13, live reload):
/// observes the kernel, plans ([`retire_plan`]; `spec` is the new spec) and
/// sends one request per step. The report lists each change as its iproute2
/// command and each note (what was left in place on purpose). An object
/// someone removed between the dump and the request (ENOENT/ENODEV) counts
/// as removed, without a change line; any other refusal stops the retire
/// with [`SetupError::Kernel`] naming the step. Idempotent: a second run
/// changes nothing.
pub fn retire(
    socket: &mut TopologySocket,
    spec: &TopologySpec,
    retired: &[VlanVni],
) -> Result<SetupReport, SetupError> {
    let observed = observe(socket)?;
    let mut report = SetupReport::default();
    for step in retire_plan(&observed, spec, retired) {
        let Some(request) = step.request() else {
            report.notes.push(step.to_string());
            continue;
        };
        match socket.request(&request)? {
            Ok(()) => report.changes.push(step.to_string()),
            Err(r) if r.errno == libc::ENOENT || r.errno == libc::ENODEV => {}
            Err(r) => {
                return Err(SetupError::Kernel {
                    action: step.to_string(),
                    errno: r.errno,
                    reason: r.to_string(),
                });
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{BR, VX, link_mut, recipe, spec};
    use super::*;
    use crate::nl::link::VlanFlags;

    fn pair(vlan: u16, vni: Vni) -> VlanVni {
        VlanVni { vlan, vni }
    }

    /// The recipe's spec without VLAN 11 / VNI 1011.
    fn without_11() -> TopologySpec {
        let mut s = spec();
        s.vlan_vnis.retain(|p| p.vlan != 11);
        s
    }

    fn texts(plan: &[Retirement]) -> Vec<String> {
        plan.iter().map(ToString::to_string).collect()
    }

    /// What the kernel looks like after the plan ran (as the kernel does it:
    /// the port VLAN delete takes its tunnel_info along).
    fn apply(o: &mut ObservedTopology, plan: &[Retirement]) {
        for step in plan {
            match step {
                Retirement::DeleteSvi { ifindex, .. } => o.links.retain(|l| l.ifindex != *ifindex),
                Retirement::DeletePortVlan { ifindex, vlan, .. } => {
                    if let Some(t) = o.bridge_vlans.get_mut(ifindex) {
                        t.vlans.remove(vlan);
                        t.tunnels.remove(vlan);
                    }
                }
                Retirement::DeleteVniFilter { ifindex, vni, .. } => {
                    if let Some(f) = o.vni_filters.get_mut(ifindex) {
                        f.remove(vni);
                    }
                }
                Retirement::DeleteBridgeVlan { ifindex, vlan, .. } => {
                    if let Some(t) = o.bridge_vlans.get_mut(ifindex) {
                        t.vlans.remove(vlan);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_retired_pair_is_removed_svi_first_bridge_vlan_last() {
        let plan = retire_plan(&recipe(), &without_11(), &[pair(11, 1011)]);
        assert_eq!(
            plan,
            vec![
                Retirement::DeleteSvi {
                    name: "vlan11".into(),
                    ifindex: 21,
                    vlan: 11
                },
                Retirement::DeletePortVlan {
                    vxlan: "vxlan0".into(),
                    ifindex: VX,
                    vlan: 11,
                    vni: Some(1011)
                },
                Retirement::DeleteVniFilter {
                    vxlan: "vxlan0".into(),
                    ifindex: VX,
                    vni: 1011
                },
                Retirement::DeleteBridgeVlan {
                    bridge: "br0".into(),
                    ifindex: BR,
                    vlan: 11
                },
            ]
        );
        assert_eq!(
            texts(&plan),
            vec![
                "ip link del dev vlan11",
                "bridge vlan del dev vxlan0 vid 11",
                "bridge vni delete dev vxlan0 vni 1011",
                "bridge vlan del dev br0 vid 11 self",
            ]
        );
        assert!(plan.iter().all(|s| !s.is_note()));
        assert_eq!(
            plan.iter().map(Retirement::request).collect::<Vec<_>>(),
            vec![
                Some(link::link_del(21)),
                Some(link::bridge_vlan_del(VX, 11, false)),
                Some(link::vni_del(VX, 1011)),
                Some(link::bridge_vlan_del(BR, 11, true)),
            ]
        );
        // Done once, nothing is left to do; the remaining VLAN is complete.
        let mut o = recipe();
        apply(&mut o, &plan);
        assert_eq!(retire_plan(&o, &without_11(), &[pair(11, 1011)]), vec![]);
        assert_eq!(validate(&o, &without_11()), vec![]);
        assert_eq!(
            topology_of(&o, &without_11()).map(|t| t.svis),
            Some(BTreeMap::from([(10, 20)]))
        );
    }

    /// Heal must not fight a retire: with the pair gone from the spec, its
    /// leftovers (all of them, before the retire ran, or the kept SVI after)
    /// are no problem at all, so heal_plan puts nothing back; with the old
    /// spec it would.
    #[test]
    fn heal_leaves_what_the_spec_no_longer_lists() {
        assert_eq!(validate(&recipe(), &without_11()), vec![]);
        assert_eq!(heal_plan(&recipe(), &without_11()), vec![]);
        let mut o = recipe();
        link_mut(&mut o, "vlan11").name = "br0.11".into();
        let plan = retire_plan(&o, &without_11(), &[pair(11, 1011)]);
        apply(&mut o, &plan);
        assert!(o.link("br0.11").is_some());
        assert_eq!(heal_plan(&o, &without_11()), vec![]);
        assert_eq!(validate(&o, &without_11()), vec![]);
        // The same kernel against the old spec: everything is missing again.
        assert_eq!(
            heal_plan(&o, &spec()).len(),
            4,
            "{:#?}",
            heal_plan(&o, &spec())
        );
    }

    #[test]
    fn an_svi_evpnd_did_not_name_is_kept_with_a_note() {
        let mut o = recipe();
        link_mut(&mut o, "vlan11").name = "br0.11".into();
        let plan = retire_plan(&o, &without_11(), &[pair(11, 1011)]);
        assert_eq!(
            plan.first(),
            Some(&Retirement::SviKept {
                name: "br0.11".into(),
                vlan: 11
            })
        );
        assert!(plan[0].is_note());
        assert_eq!(plan[0].request(), None);
        assert_eq!(
            plan[0].to_string(),
            "SVI br0.11 of VLAN 11 left in place: evpnd did not create it (it would be named vlan11); remove it with ip link del dev br0.11"
        );
        // The rest is retired all the same.
        assert_eq!(plan.len(), 4);
        assert!(plan[1..].iter().all(|s| !s.is_note()));
        // A device named vlan11 that is not VLAN 11 on the bridge is no SVI
        // of ours: untouched, and not worth a note.
        let mut o = recipe();
        link_mut(&mut o, "vlan11").link = Some(VX);
        let plan = retire_plan(&o, &without_11(), &[pair(11, 1011)]);
        assert_eq!(plan.len(), 3);
        assert!(!texts(&plan).iter().any(|t| t.contains("vlan11")));
    }

    #[test]
    fn what_is_already_gone_is_skipped() {
        let mut o = recipe();
        o.links.retain(|l| l.name != "vlan11");
        if let Some(t) = o.bridge_vlans.get_mut(&VX) {
            t.vlans.remove(&11);
            t.tunnels.remove(&11);
        }
        o.vni_filters.insert(VX, BTreeSet::from([10]));
        assert_eq!(
            texts(&retire_plan(&o, &without_11(), &[pair(11, 1011)])),
            vec!["bridge vlan del dev br0 vid 11 self"]
        );
        // A tunnel_info-less membership is still removed (vni: None).
        let mut o = recipe();
        if let Some(t) = o.bridge_vlans.get_mut(&VX) {
            t.tunnels.remove(&11);
        }
        assert!(retire_plan(&o, &without_11(), &[pair(11, 1011)]).contains(
            &Retirement::DeletePortVlan {
                vxlan: "vxlan0".into(),
                ifindex: VX,
                vlan: 11,
                vni: None
            }
        ));
        // No bridge, no vxlan device: nothing to do.
        assert_eq!(
            retire_plan(
                &ObservedTopology::default(),
                &without_11(),
                &[pair(11, 1011)]
            ),
            vec![]
        );
        // Nothing retired, nothing planned.
        assert_eq!(retire_plan(&recipe(), &spec(), &[]), vec![]);
    }

    #[test]
    fn without_vnifilter_there_is_no_filter_step() {
        let mut o = recipe();
        o.vni_filters.clear();
        if let LinkKind::Vxlan { vnifilter, .. } = &mut link_mut(&mut o, "vxlan0").kind {
            *vnifilter = false;
        }
        assert_eq!(
            texts(&retire_plan(&o, &without_11(), &[pair(11, 1011)])),
            vec![
                "ip link del dev vlan11",
                "bridge vlan del dev vxlan0 vid 11",
                "bridge vlan del dev br0 vid 11 self",
            ]
        );
    }

    #[test]
    fn what_the_spec_still_uses_is_never_touched() {
        // VNI 1011 moves to VLAN 12: VLAN 11 goes, the VNI stays filtered.
        let mut moved = without_11();
        moved.vlan_vnis.push(pair(12, 1011));
        assert_eq!(
            texts(&retire_plan(&recipe(), &moved, &[pair(11, 1011)])),
            vec![
                "ip link del dev vlan11",
                "bridge vlan del dev vxlan0 vid 11",
                "VNI 1011 is still in the config (VLAN 12): its VNI filter entry stays",
                "bridge vlan del dev br0 vid 11 self",
            ]
        );
        // VLAN 11 is re-mapped to VNI 2011: only the old VNI's filter entry
        // goes; the VLAN, its SVI and memberships stay.
        let mut remapped = without_11();
        remapped.vlan_vnis.push(pair(11, 2011));
        let plan = retire_plan(&recipe(), &remapped, &[pair(11, 1011)]);
        assert_eq!(
            texts(&plan),
            vec![
                "VLAN 11 is still in the config (VNI 2011): its SVI and memberships stay",
                "bridge vni delete dev vxlan0 vni 1011",
            ]
        );
        // A pair that is still in the spec as it is: nothing but notes.
        let plan = retire_plan(&recipe(), &spec(), &[pair(11, 1011)]);
        assert!(plan.iter().all(Retirement::is_note), "{plan:#?}");
        assert_eq!(plan.len(), 2);
        // VLAN 10 of the spec is never touched when another pair retires,
        // and a pair listed twice is retired once.
        let plan = retire_plan(&recipe(), &without_11(), &[pair(11, 1011), pair(11, 1011)]);
        assert_eq!(plan.len(), 4);
        assert!(
            !texts(&plan)
                .iter()
                .any(|t| t.contains("vid 10") || t.contains("vlan10"))
        );
    }

    #[test]
    fn untagged_or_pvid_leftovers_are_retired_too() {
        let mut o = recipe();
        for ifindex in [VX, BR] {
            if let Some(t) = o.bridge_vlans.get_mut(&ifindex) {
                t.vlans.insert(
                    11,
                    VlanFlags {
                        pvid: true,
                        untagged: true,
                    },
                );
            }
        }
        assert_eq!(retire_plan(&o, &without_11(), &[pair(11, 1011)]).len(), 4);
    }
}

/// [`retire`] against a VLAN-aware kernel (the host's has no VLAN
/// filtering): runs only with `EVPND_VM_TEST=1`, inside the VM
/// (`scripts/vm -- env EVPND_VM_TEST=1 <evpnd-linux lib test binary>
/// --exact setup::retire::vm::retire_in_a_vlan_aware_kernel`), in a network
/// namespace of its own (unshared by the test thread). Checked with
/// iproute2's view: the retired VLANs leave the vxlan port (tunnel_info
/// included), the VNI filter and the bridge; evpnd's SVI is deleted, a
/// foreign-named one kept; VLAN 10 stays complete; a second retire changes
/// nothing and heal has nothing to put back.
#[cfg(test)]
mod vm {
    use super::*;
    use std::process::Command;

    fn sh(cmd: &str) -> (bool, String) {
        match Command::new("sh").arg("-c").arg(cmd).output() {
            Ok(o) => (
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            ),
            Err(e) => (false, e.to_string()),
        }
    }

    /// Whether a line of `text` has exactly these leading words.
    fn has_row(text: &str, words: &[&str]) -> bool {
        text.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= words.len() && w[..words.len()] == *words
        })
    }

    fn spec(pairs: &[(u16, u32)]) -> TopologySpec {
        TopologySpec {
            bridge: "br0".into(),
            vxlan_device: "vxlan0".into(),
            local_ip: IpAddr::from([198, 19, 0, 1]),
            vxlan_port: 4789,
            bridge_mac: None,
            vlan_vnis: pairs
                .iter()
                .map(|&(vlan, vni)| VlanVni { vlan, vni })
                .collect(),
        }
    }

    #[test]
    fn retire_in_a_vlan_aware_kernel() {
        if std::env::var("EVPND_VM_TEST").as_deref() != Ok("1") {
            eprintln!("skipped: needs EVPND_VM_TEST=1 and a VLAN-aware kernel (scripts/vm)");
            return;
        }
        // SAFETY: unshare of this thread's network namespace only.
        assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
        assert!(sh("ip link set lo up").0);
        let mut socket = TopologySocket::open().expect("socket");
        let full = spec(&[(10, 10), (20, 1020), (30, 30)]);
        // VLAN 30's SVI is someone else's: created before setup, adopted.
        let first = setup(&mut socket, &spec(&[(10, 10)])).expect("setup of VLAN 10");
        assert!(!first.1.changes.is_empty());
        let (ok, out) =
            sh("ip link add link br0 name br0.30 type vlan id 30 && ip link set br0.30 up");
        assert!(ok, "{out}");
        let (topology, _) = setup(&mut socket, &full).expect("setup of 10, 20, 30");
        assert_eq!(topology.svis.len(), 3);
        let (_, before) = sh("bridge vlan tunnelshow dev vxlan0");
        assert!(has_row(&before, &["vxlan0", "10", "10"]), "{before}");
        assert!(has_row(&before, &["20", "1020"]), "{before}");

        let kept = spec(&[(10, 10)]);
        let retired = [
            VlanVni {
                vlan: 20,
                vni: 1020,
            },
            VlanVni { vlan: 30, vni: 30 },
        ];
        let report = retire(&mut socket, &kept, &retired).expect("retire");
        println!(
            "retire changes: {:#?}\nnotes: {:#?}",
            report.changes, report.notes
        );
        assert_eq!(
            report.changes,
            vec![
                "ip link del dev vlan20",
                "bridge vlan del dev vxlan0 vid 20",
                "bridge vni delete dev vxlan0 vni 1020",
                "bridge vlan del dev br0 vid 20 self",
                "bridge vlan del dev vxlan0 vid 30",
                "bridge vni delete dev vxlan0 vni 30",
                "bridge vlan del dev br0 vid 30 self",
            ]
        );
        assert_eq!(report.notes.len(), 1);
        assert!(report.notes[0].starts_with("SVI br0.30 of VLAN 30 left in place"));

        // iproute2's view.
        let (_, tunnels) = sh("bridge vlan tunnelshow dev vxlan0");
        println!("{tunnels}");
        assert!(has_row(&tunnels, &["vxlan0", "10", "10"]), "{tunnels}");
        assert!(
            !tunnels.contains("1020"),
            "tunnel_info of VLAN 20 left: {tunnels}"
        );
        assert!(!has_row(&tunnels, &["30", "30"]), "{tunnels}");
        let (_, vlans) = sh("bridge vlan show");
        println!("{vlans}");
        for dev in ["vxlan0", "br0"] {
            let (_, v) = sh(&format!("bridge vlan show dev {dev}"));
            assert!(has_row(&v, &[dev, "10"]), "{v}");
            assert!(!has_row(&v, &["20"]) && !has_row(&v, &["30"]), "{v}");
            assert!(
                !has_row(&v, &[dev, "20"]) && !has_row(&v, &[dev, "30"]),
                "{v}"
            );
        }
        let (_, vnis) = sh("bridge vni show dev vxlan0");
        println!("{vnis}");
        assert!(has_row(&vnis, &["vxlan0", "10"]), "{vnis}");
        assert!(!vnis.contains("1020") && !has_row(&vnis, &["30"]), "{vnis}");
        assert!(!sh("ip link show dev vlan20").0, "vlan20 still exists");
        assert!(sh("ip link show dev vlan10").0);
        assert!(
            sh("ip link show dev br0.30").0,
            "the foreign SVI was deleted"
        );

        // VLAN 10 complete, nothing to heal, nothing left to retire.
        let observed = observe(&mut socket).expect("observe");
        assert_eq!(validate(&observed, &kept), vec![]);
        assert_eq!(heal_plan(&observed, &kept), vec![]);
        assert!(adopt(&mut socket, &kept).is_ok());
        let again = retire(&mut socket, &kept, &retired).expect("second retire");
        assert_eq!(again.changes, Vec::<String>::new());
        // Setting VLAN 20 up again works from this state.
        let (_, re) = setup(&mut socket, &spec(&[(10, 10), (20, 1020)])).expect("re-add");
        println!("re-added: {:#?}", re.changes);
        let (_, tunnels) = sh("bridge vlan tunnelshow dev vxlan0");
        assert!(has_row(&tunnels, &["20", "1020"]), "{tunnels}");
        println!("PASS retire-in-vm");
    }
}
