//! Creating what [`validate`] found missing, one request per problem.

use super::*;

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

/// Carries out the fix of one missing-kind problem (at set-up), or of one
/// healable problem (drift healing, [`TopologyProblem::is_healable`]).
/// `previous` is the topology evpnd runs with, when healing: a device that
/// was deleted is re-created under its old ifindex.
pub(super) fn fix(
    socket: &mut TopologySocket,
    observed: &ObservedTopology,
    spec: &TopologySpec,
    problem: &TopologyProblem,
    report: &mut SetupReport,
    previous: Option<&Topology>,
) -> Result<(), SetupError> {
    let at = |request: TopologyRequest, ifindex: Option<u32>| match ifindex {
        Some(i) => link::with_ifindex(request, i),
        None => request,
    };
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
                &at(
                    link::bridge_add(bridge, mac),
                    previous.map(|t| t.bridge_ifindex),
                ),
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
            let old_index = previous.map(|t| t.vxlan_ifindex);
            let with_filter = at(
                link::vxlan_add(vxlan, master, spec.local_ip, spec.vxlan_port, true),
                old_index,
            );
            match socket.request(&with_filter)? {
                Ok(()) => report.changes.push(format!("{base} vnifilter")),
                // A kernel without vnifilter (< 5.18) that validates the
                // attribute strictly; one that ignores it shows up as
                // vnifilter off in the next dump.
                Err(r) if r.errno == libc::EINVAL || r.errno == libc::EOPNOTSUPP => send(
                    socket,
                    report,
                    base,
                    &at(
                        link::vxlan_add(vxlan, master, spec.local_ip, spec.vxlan_port, false),
                        old_index,
                    ),
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
        // Re-adding a VLAN with flags 0 makes it a tagged, non-PVID member
        // again (`__vlan_flags_update`), so a wrongly flagged one is mended
        // as a missing one is added.
        VlanMissing { vxlan, vlan } | VlanNotTagged { vxlan, vlan, .. } => {
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
                &link::vni_add(i, *vni),
            )
        }
        // Re-adding it untagged also mends one that lost its flags.
        BridgeVlanMissing { bridge, vlan } | BridgeVlanUntagged { bridge, vlan } => {
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
                &at(
                    link::svi_add(b, name, *vlan),
                    previous.and_then(|t| t.svi(*vlan)),
                ),
            )?;
            set_up(socket, report, name)
        }
        SviDown { name } => set_up(socket, report, name),
        // Drift only (setup refuses these as conflicts).
        PortLearning { vxlan } | PortNeighSuppressOff { vxlan } | PortVlanTunnelOff { vxlan } => {
            let i = index(vxlan)?;
            port_flags(socket, report, vxlan, i)
        }
        // Conflicts never reach here (setup refuses first, healing leaves
        // them to a human).
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
