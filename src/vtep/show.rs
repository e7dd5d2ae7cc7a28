//! The VTEP's answers to `show vnis` and `show fdb`: read-only views of
//! the core's state, rendered as the control protocol's rows.

use crate::api::protocol::{FdbRow, VniRow};
use evpnd_core::evpn::instance::EvpnInstance;
use evpnd_core::vtep::VtepCore;
use evpnd_wire::mac::MacAddress;
use std::collections::BTreeMap;

pub(super) fn vni_row(core: &VtepCore, instance: &EvpnInstance) -> VniRow {
    let desired = core.desired();
    VniRow {
        vni: instance.vni,
        vlan: instance.vlan,
        rd: instance.rd.to_string(),
        import_rts: instance
            .import_rts
            .iter()
            .map(ToString::to_string)
            .collect(),
        export_rts: instance
            .export_rts
            .iter()
            .map(ToString::to_string)
            .collect(),
        remote_vteps: desired
            .floods
            .iter()
            .filter(|f| f.vni == instance.vni)
            .map(|f| f.vtep)
            .collect(),
        local_macs: core
            .local_macs()
            .keys()
            .filter(|(v, _)| *v == instance.vlan)
            .count() as u64,
        remote_macs: desired
            .macs
            .values()
            .filter(|m| m.vni == instance.vni)
            .count() as u64,
        warnings: core.warnings(instance.vni),
    }
}

/// `show fdb`. `port_name` names a local MAC's port: asked when the
/// operator asks, not remembered from when the MAC was learnt, so a port
/// renamed since shows its current name.
pub(super) fn fdb_rows(
    core: &VtepCore,
    vni: Option<u32>,
    port_name: impl Fn(u32) -> Option<String>,
) -> Vec<FdbRow> {
    let mut rows = Vec::new();
    let mut port_names: BTreeMap<u32, Option<String>> = BTreeMap::new();
    let ip_of = |vlan: u16, mac: MacAddress| {
        core.bindings()
            .iter()
            .find(|((v, _), m)| *v == vlan && **m == mac)
            .map(|((_, ip), _)| *ip)
    };
    for instance in core
        .instances()
        .iter()
        .filter(|i| vni.is_none_or(|v| v == i.vni))
    {
        for ((vlan, mac), port) in core
            .local_macs()
            .iter()
            .filter(|((v, _), _)| *v == instance.vlan)
        {
            let name = port_names
                .entry(*port)
                .or_insert_with(|| port_name(*port))
                .clone();
            rows.push(FdbRow {
                vni: instance.vni,
                vlan: *vlan,
                mac: mac.to_string(),
                ip: ip_of(*vlan, *mac),
                dest: name.clone().unwrap_or_else(|| format!("ifindex {port}")),
                port: name,
                port_ifindex: Some(*port),
                origin: "learned".into(),
                state: "local".into(),
            });
        }
        for m in core
            .desired()
            .macs
            .values()
            .filter(|m| m.vni == instance.vni)
        {
            let ip = core
                .desired()
                .neighbors
                .values()
                .find(|n| n.mac == m.mac && Some(n.ifindex) == core.svi(m.vlan))
                .map(|n| n.ip);
            rows.push(FdbRow {
                vni: m.vni,
                vlan: m.vlan,
                mac: m.mac.to_string(),
                ip,
                dest: m.vtep.to_string(),
                port: None,
                port_ifindex: None,
                origin: "installed".into(),
                state: if m.sticky {
                    "static".into()
                } else {
                    "extern_learn".into()
                },
            });
        }
        for f in core
            .desired()
            .floods
            .iter()
            .filter(|f| f.vni == instance.vni)
        {
            rows.push(FdbRow {
                vni: f.vni,
                vlan: instance.vlan,
                mac: MacAddress::ZERO.to_string(),
                ip: None,
                dest: f.vtep.to_string(),
                port: None,
                port_ifindex: None,
                origin: "installed".into(),
                state: "flood".into(),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use evpnd_core::evpn::instance::EvpnInstances;
    use evpnd_core::vtep::{KernelEvent, Learned, LearnedRow, VtepInput};
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Instant;

    /// A core for VLAN 10 <-> VNI 10.
    fn vni_10_core() -> VtepCore {
        let rt = "65000:10".parse().unwrap();
        let instances = EvpnInstances::new([EvpnInstance {
            vlan: 10,
            vni: 10,
            rd: "198.19.0.1:2".parse().unwrap(),
            import_rts: vec![rt],
            export_rts: vec![rt],
            local_vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1)),
        }])
        .unwrap();
        VtepCore::new(instances, BTreeMap::new())
    }

    fn mac(last: u8) -> MacAddress {
        MacAddress([2, 0x0a, 0, 0, 0, last])
    }

    #[test]
    fn show_fdb_names_the_local_port_and_falls_back_to_its_ifindex() {
        let mut core = vni_10_core();
        for (last, port) in [(1, 4), (2, 5)] {
            let row = LearnedRow::Mac {
                vlan: 10,
                mac: mac(last),
                port,
            };
            core.handle(VtepInput::Kernel {
                now: Instant::now(),
                events: vec![KernelEvent::Learned(Learned { row, present: true })],
            });
        }
        let names = |ifindex: u32| (ifindex == 4).then(|| "h1a".to_string());
        let local: Vec<_> = fdb_rows(&core, Some(10), names)
            .into_iter()
            .map(|r| (r.mac, r.dest, r.port, r.port_ifindex, r.origin))
            .collect();
        assert_eq!(
            local,
            vec![
                (
                    "02:0a:00:00:00:01".to_string(),
                    "h1a".to_string(),
                    Some("h1a".to_string()),
                    Some(4),
                    "learned".to_string()
                ),
                (
                    "02:0a:00:00:00:02".to_string(),
                    "ifindex 5".to_string(),
                    None,
                    Some(5),
                    "learned".to_string()
                ),
            ]
        );
    }
}
