//! Live reconfiguration of the EVPN instances (issue 13: `evpnd reload`
//! adds or removes VNIs and changes route targets without a restart).
//!
//! Two steps, so that import never misses a change: the shell hands the
//! new instances over ([`VtepInput::Reconfigure`](super::VtepInput)) and asks
//! the RIB for its table; the table comes back through the same queue as
//! the best-path changes ([`RibEvent::Table`](crate::rib::engine::RibEvent)),
//! after every change already queued, and only then is the change applied:
//! - a VNI removed (or moved to another VLAN): its local routes are
//!   withdrawn (type 3 and every type 2, RFC 7432 sections 9.1, 11) and its
//!   kernel rows deleted;
//! - the import is rebuilt from the table with the new instances (RFC 7432
//!   section 9.2): a VNI added or an import RT changed installs what now
//!   matches and deletes what no longer does; rows of untouched VNIs are
//!   equal before and after, so no operation touches them;
//! - a VNI added: its type 3 is originated and the MACs the kernel already
//!   learnt in its VLAN are advertised;
//! - an export RT or RD changed: the VNI's routes are sent again with the
//!   new attributes (an implicit replace, RFC 4271 section 3.1, for the same
//!   NLRI; a new RD is a new NLRI, announced before the old one is
//!   withdrawn so that no remote VTEP ever lacks a route).
//!
//! No session is reset and no ROUTE-REFRESH is needed: the Loc-RIB holds
//! every route received, whatever its RTs.

use super::input::Learned;
use super::output::{VtepEvent, VtepOutput};
use super::{VtepCore, VtepInput};
use crate::dataplane::diff::{Op, diff};
use crate::dataplane::model::Vni;
use crate::evpn::import::Importer;
use crate::evpn::instance::{EvpnInstance, EvpnInstances, InstanceChanges};
use crate::evpn::originate;
use crate::rib::loc_rib::{BestChange, NlriBytes};
use evpnd_wire::evpn::EvpnRouteKey;
use evpnd_wire::mac::MacAddress;
use std::collections::BTreeMap;
use std::time::Instant;

/// A reconfiguration waiting for the RIB's table.
#[derive(Debug)]
pub(super) struct PendingReconfigure {
    now: Instant,
    instances: EvpnInstances,
    svis: BTreeMap<u16, u32>,
    learned: Vec<Learned>,
}

impl VtepCore {
    /// [`VtepInput::Reconfigure`]: kept until the RIB's table arrives.
    pub(super) fn reconfigure(&mut self, input: VtepInput) {
        if let VtepInput::Reconfigure {
            now,
            instances,
            svis,
            learned,
        } = input
        {
            // A later reload before the table came: the latest wins.
            self.pending_reconfigure = Some(PendingReconfigure {
                now,
                instances,
                svis,
                learned,
            });
        }
    }

    /// The RIB's table: apply the pending reconfiguration with it.
    pub(super) fn table(
        &mut self,
        table: Vec<BestChange<EvpnRouteKey>>,
        out: &mut Vec<VtepOutput>,
    ) {
        let Some(pending) = self.pending_reconfigure.take() else {
            // Asked for by an earlier reload whose change is applied.
            return;
        };
        let PendingReconfigure {
            now,
            instances,
            svis,
            learned,
        } = pending;
        let changes = InstanceChanges::between(&self.instances, &instances);
        // Withdrawals of local routes carry the instance they were sent
        // with: done while `self.instances` is still the old one.
        let old_of = |core: &Self, vni: Vni| core.instances.by_vni(vni).cloned();
        let removed: Vec<EvpnInstance> = changes
            .removed
            .iter()
            .filter_map(|v| old_of(self, *v))
            .collect();
        for instance in &removed {
            self.retire_local(instance, out);
        }
        let old_rd_nlri: Vec<NlriBytes> = changes
            .readvertised
            .iter()
            .filter_map(|v| old_of(self, *v))
            .filter(|o| instances.by_vni(o.vni).is_some_and(|n| n.rd != o.rd))
            .flat_map(|o| self.local_nlri(&o))
            .collect();
        self.instances = instances.clone();

        let reported: Vec<Vni> = changes
            .added
            .iter()
            .chain(&changes.reimported)
            .copied()
            .collect();
        let operations = self.reimport(instances.clone(), svis, table, &reported, out);

        for vni in changes.added.iter().chain(&changes.readvertised) {
            if let Some(instance) = instances.by_vni(*vni) {
                let update = originate::inclusive_multicast(instance).into_ingress();
                out.push(VtepOutput::Rib(update));
            }
        }
        for vni in &changes.readvertised {
            let Some(vlan) = instances.by_vni(*vni).map(|i| i.vlan) else {
                continue;
            };
            let macs: Vec<MacAddress> = self.advertised_in(vlan).map(|(mac, _)| *mac).collect();
            for mac in macs {
                self.advertise_local(now, vlan, mac, out);
            }
        }
        if !old_rd_nlri.is_empty() {
            out.push(VtepOutput::Rib(originate::withdrawal(old_rd_nlri)));
        }
        // What the kernel learnt in the new VLANs (and any change elsewhere
        // meanwhile) is taken as a resync takes it; a VLAN that is no VNI
        // any more has nothing to advertise.
        let learned = learned
            .into_iter()
            .filter(|l| self.instances.by_vlan(l.row.vlan()).is_some())
            .collect();
        self.resync_learned(now, learned, out);
        out.push(VtepOutput::Event(VtepEvent::Reconfigured {
            changes,
            operations,
        }));
    }

    /// A VNI removed: withdraw everything it originated and forget what the
    /// kernel learnt in its VLAN.
    fn retire_local(&mut self, instance: &EvpnInstance, out: &mut Vec<VtepOutput>) {
        let vlan = instance.vlan;
        let macs: Vec<MacAddress> = self.advertised_in(vlan).map(|(mac, _)| *mac).collect();
        for mac in macs {
            self.withdraw_local(vlan, mac, out);
        }
        let type3 = originate::inclusive_multicast_nlri(instance);
        out.push(VtepOutput::Rib(originate::withdrawal([type3])));
        self.local_macs.retain(|(v, _), _| *v != vlan);
        self.bindings.retain(|(v, _), _| *v != vlan);
    }

    /// The local MACs advertised in `vlan`, with their IPs: one range of
    /// the (VLAN, MAC)-ordered map, not a walk over every VLAN's.
    fn advertised_in(
        &self,
        vlan: u16,
    ) -> impl Iterator<Item = (&MacAddress, &std::collections::BTreeSet<std::net::IpAddr>)> {
        self.advertised
            .range((vlan, MacAddress::ZERO)..=(vlan, MacAddress([0xff; 6])))
            .map(|((_, mac), ips)| (mac, ips))
    }

    /// Every route `instance` originates now: its type 3 and, per local MAC
    /// advertised in its VLAN, the MAC-only and MAC+IP routes.
    fn local_nlri(&self, instance: &EvpnInstance) -> Vec<NlriBytes> {
        let mut nlri = vec![originate::inclusive_multicast_nlri(instance)];
        for (mac, ips) in self.advertised_in(instance.vlan) {
            nlri.push(originate::mac_ip_nlri(instance, *mac, None));
            nlri.extend(
                ips.iter()
                    .map(|ip| originate::mac_ip_nlri(instance, *mac, Some(*ip))),
            );
        }
        nlri
    }

    /// Rebuilds the import from `table` with `instances`, and sends the
    /// kernel only the difference between what was wanted and what is
    /// wanted now. Returns the number of operations.
    fn reimport(
        &mut self,
        instances: EvpnInstances,
        svis: BTreeMap<u16, u32>,
        table: Vec<BestChange<EvpnRouteKey>>,
        reported: &[Vni],
        out: &mut Vec<VtepOutput>,
    ) -> usize {
        let mut importer = Importer::new(instances, svis.clone());
        for change in &table {
            importer.apply(change);
        }
        self.importer = importer;
        self.svis = svis;
        let desired = self.importer.desired_state();
        // Against the kernel for what is wanted (so a core that has just
        // adopted the kernel's rows, after a restart of the VTEP task, sends
        // nothing for the rows that are right already), and the rows no
        // longer wanted; adopted rows nobody wants wait for the end of the
        // initial sync, as at start.
        let mut ops: Vec<Op> = diff(&desired, &self.kernel)
            .into_iter()
            .filter(|op| !matches!(op, Op::Delete(_)))
            .collect();
        ops.extend(
            self.desired
                .objects()
                .filter(|o| desired.get(o).is_none())
                .map(Op::Delete),
        );
        self.desired = desired;
        for op in &ops {
            op.apply_to(&mut self.kernel);
        }
        self.neighbor_repairs.clear();
        let operations = ops.len();
        self.send(ops, out);
        // A fresh import finds every mismatch again: said for the VNIs
        // whose import changed only.
        let changed = |vni: Vni| reported.contains(&vni);
        self.after_import(changed, out);
        operations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::model::{FloodEntry, Object, OwnedRow, RemoteMac};
    use crate::evpn::originate::{LocalAdvertisement, inclusive_multicast, mac_ip};
    use crate::rib::attrs::AttrInterner;
    use crate::rib::engine::{IngressUpdate, RibEvent};
    use crate::rib::loc_rib::Path;
    use crate::rib::peer::PeerIdx;
    use crate::vtep::input::LearnedRow;
    use bytes::Bytes;
    use evpnd_wire::evpn::evpn_route_key;
    use evpnd_wire::rd::RouteDistinguisher;
    use std::net::{IpAddr, Ipv4Addr};

    const VTEP_1: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1));
    const VTEP_3: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 3));

    fn mac(last: u8) -> MacAddress {
        MacAddress([2, 0x0a, 0, 0, 0, last])
    }

    /// VLAN `vni` <-> VNI `vni` on `local_vtep`, RD `local_vtep:rd`, the
    /// given import and export RTs (`65000:n`).
    fn instance(local_vtep: IpAddr, vni: Vni, rd: u16, import: u32, export: u32) -> EvpnInstance {
        let IpAddr::V4(addr) = local_vtep else {
            unreachable!("IPv4 VTEPs only here")
        };
        EvpnInstance {
            vlan: vni as u16,
            vni,
            rd: RouteDistinguisher::Ipv4 { addr, number: rd },
            import_rts: vec![format!("65000:{import}").parse().unwrap()],
            export_rts: vec![format!("65000:{export}").parse().unwrap()],
            local_vtep,
        }
    }

    fn ours(vni: Vni) -> EvpnInstance {
        instance(VTEP_1, vni, vni as u16, vni, vni)
    }

    fn instances(list: impl IntoIterator<Item = EvpnInstance>) -> EvpnInstances {
        EvpnInstances::new(list).unwrap()
    }

    /// The SVI of VLAN v is ifindex 100 + v.
    fn svis(vlans: &[u16]) -> BTreeMap<u16, u32> {
        vlans.iter().map(|v| (*v, 100 + u32::from(*v))).collect()
    }

    /// What VTEP 198.19.0.3 advertises for VNI `vni` with RT `65000:rt`: its
    /// type 3 and MAC 02:0a::03, as best paths.
    fn remote(interner: &mut AttrInterner, vni: Vni, rt: u32) -> Vec<BestChange<EvpnRouteKey>> {
        let origin = instance(VTEP_3, vni, vni as u16, rt, rt);
        let ads: [LocalAdvertisement; 2] = [
            inclusive_multicast(&origin),
            mac_ip(&origin, None, [(mac(3), None)]),
        ];
        let mut best = Vec::new();
        for ad in ads {
            let summary = ad.summary.clone();
            let attrs = interner.intern(PeerIdx(3), &ad.attributes, &ad.next_hop, || summary);
            for nlri in ad.nlri {
                best.push(BestChange {
                    key: evpn_route_key(&nlri).unwrap(),
                    old: None,
                    new: Some(Path {
                        attrs: attrs.clone(),
                        nlri,
                    }),
                });
            }
        }
        best
    }

    fn learnt(vlan: u16, last: u8) -> Learned {
        Learned {
            row: LearnedRow::Mac {
                vlan,
                mac: mac(last),
                port: 10 + u32::from(last),
            },
            present: true,
        }
    }

    fn flood(vni: Vni) -> Object {
        Object::Flood(FloodEntry { vni, vtep: VTEP_3 })
    }

    fn remote_mac(vni: Vni) -> Object {
        Object::Mac(RemoteMac {
            vni,
            vlan: vni as u16,
            mac: mac(3),
            vtep: VTEP_3,
            sticky: false,
        })
    }

    /// The routes sent to the RIB, in order: ("announce", NLRI field,
    /// attributes) or ("withdraw", NLRI field, empty).
    fn rib_outputs(outputs: &[VtepOutput]) -> Vec<(&'static str, Bytes, Bytes)> {
        outputs
            .iter()
            .filter_map(|o| match o {
                VtepOutput::Rib(u) => Some(u),
                _ => None,
            })
            .flat_map(|u: &IngressUpdate| {
                let reach = u
                    .reach
                    .iter()
                    .map(|r| ("announce", r.nlri.clone(), r.attributes.clone()));
                let withdrawn = u
                    .withdrawn
                    .iter()
                    .map(|w| ("withdraw", w.clone(), Bytes::new()));
                reach.chain(withdrawn).collect::<Vec<_>>()
            })
            .collect()
    }

    fn announced(ad: LocalAdvertisement) -> (&'static str, Bytes, Bytes) {
        let reach = ad.into_ingress().reach.unwrap();
        ("announce", reach.nlri, reach.attributes)
    }

    fn withdrawn(nlri: impl IntoIterator<Item = NlriBytes>) -> (&'static str, Bytes, Bytes) {
        let field: Vec<u8> = nlri.into_iter().flat_map(|n| n.to_vec()).collect();
        ("withdraw", Bytes::from(field), Bytes::new())
    }

    fn kernel_ops(outputs: &[VtepOutput]) -> Vec<Op> {
        outputs
            .iter()
            .filter_map(|o| match o {
                VtepOutput::Kernel(ops) => Some(ops.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn reconfigured(outputs: &[VtepOutput]) -> Option<InstanceChanges> {
        outputs.iter().find_map(|o| match o {
            VtepOutput::Event(VtepEvent::Reconfigured { changes, .. }) => Some(changes.clone()),
            _ => None,
        })
    }

    /// A VTEP with VNI 10, a local MAC :01 in VLAN 10, and VTEP 3's VNI-10
    /// routes imported. Returns the core and the RIB's table.
    fn running() -> (VtepCore, Vec<BestChange<EvpnRouteKey>>, AttrInterner) {
        let mut interner = AttrInterner::default();
        let mut core = VtepCore::new(instances([ours(10)]), svis(&[10]));
        let now = Instant::now();
        core.handle(VtepInput::Start {
            now,
            adopted: Vec::new(),
            learned: vec![learnt(10, 1)],
        });
        let table = remote(&mut interner, 10, 10);
        let ops = kernel_ops(&core.handle(VtepInput::Rib(RibEvent::Changes(table.clone()))));
        assert_eq!(ops.len(), 2, "VNI 10's flood row and MAC: {ops:?}");
        (core, table, interner)
    }

    fn reconfigure(
        core: &mut VtepCore,
        new: EvpnInstances,
        vlans: &[u16],
        learned: Vec<Learned>,
        table: Vec<BestChange<EvpnRouteKey>>,
    ) -> Vec<VtepOutput> {
        let now = Instant::now();
        let held = core.handle(VtepInput::Reconfigure {
            now,
            instances: new,
            svis: svis(vlans),
            learned,
        });
        assert!(held.is_empty(), "nothing before the table: {held:?}");
        core.handle(VtepInput::Rib(RibEvent::Table(table)))
    }

    #[test]
    fn a_vni_added_installs_its_rows_and_originates_without_touching_the_others() {
        let (mut core, mut table, mut interner) = running();
        table.extend(remote(&mut interner, 20, 20));
        let out = reconfigure(
            &mut core,
            instances([ours(10), ours(20)]),
            &[10, 20],
            vec![learnt(10, 1), learnt(20, 2)],
            table,
        );
        // Only VNI 20's rows: VNI 10's are equal before and after.
        assert_eq!(
            kernel_ops(&out),
            vec![Op::Add(flood(20)), Op::Add(remote_mac(20))]
        );
        // Its type 3, then the MAC the bridge had learnt in VLAN 20; nothing
        // for VNI 10 and nothing withdrawn.
        assert_eq!(
            rib_outputs(&out),
            vec![
                announced(inclusive_multicast(&ours(20))),
                announced(mac_ip(&ours(20), None, [(mac(2), None)])),
            ]
        );
        assert_eq!(
            reconfigured(&out),
            Some(InstanceChanges {
                added: vec![20],
                ..Default::default()
            })
        );
        assert_eq!(core.svi(20), Some(120));
        assert!(core.local_macs().contains_key(&(20, mac(2))));
    }

    #[test]
    fn a_vni_removed_withdraws_its_routes_and_deletes_its_rows() {
        let (mut core, mut table, mut interner) = running();
        table.extend(remote(&mut interner, 20, 20));
        let both = instances([ours(10), ours(20)]);
        let learned = vec![learnt(10, 1), learnt(20, 2)];
        reconfigure(&mut core, both, &[10, 20], learned, table.clone());
        let out = reconfigure(
            &mut core,
            instances([ours(10)]),
            &[10],
            vec![learnt(10, 1), learnt(20, 2)],
            table,
        );
        assert_eq!(
            kernel_ops(&out),
            vec![Op::Delete(remote_mac(20)), Op::Delete(flood(20))]
        );
        assert_eq!(
            rib_outputs(&out),
            vec![
                withdrawn([originate::mac_ip_nlri(&ours(20), mac(2), None)]),
                withdrawn([originate::inclusive_multicast_nlri(&ours(20))]),
            ]
        );
        assert!(core.instances().by_vni(20).is_none());
        assert!(core.svi(20).is_none());
        // A MAC the kernel still reports in a VLAN that is no VNI any more
        // is not ours to advertise.
        assert!(!core.local_macs().contains_key(&(20, mac(2))));
        assert_eq!(core.desired().len(), 2, "VNI 10's rows stay");
    }

    #[test]
    fn an_import_rt_change_installs_what_now_matches() {
        let mut interner = AttrInterner::default();
        let mut core = VtepCore::new(instances([ours(10)]), svis(&[10]));
        // VTEP 3 exports VNI 10 with 65000:99, which we do not import.
        let table = remote(&mut interner, 10, 99);
        let ops = kernel_ops(&core.handle(VtepInput::Rib(RibEvent::Changes(table.clone()))));
        assert!(ops.is_empty());
        assert_eq!(core.warnings(10).len(), 1, "an RT mismatch");
        let importing_99 = instance(VTEP_1, 10, 10, 99, 10);
        let out = reconfigure(
            &mut core,
            instances([importing_99]),
            &[10],
            Vec::new(),
            table,
        );
        assert_eq!(
            kernel_ops(&out),
            vec![Op::Add(flood(10)), Op::Add(remote_mac(10))]
        );
        assert!(rib_outputs(&out).is_empty(), "nothing to re-advertise");
        assert!(core.warnings(10).is_empty());
        assert_eq!(
            reconfigured(&out),
            Some(InstanceChanges {
                reimported: vec![10],
                ..Default::default()
            })
        );
    }

    /// The running VTEP's VNI 10 becomes `new` (same VNI and VLAN): no
    /// kernel operation; what is sent to the RIB.
    fn readvertised_as(new: &EvpnInstance) -> Vec<(&'static str, Bytes, Bytes)> {
        let (mut core, table, _) = running();
        let out = reconfigure(
            &mut core,
            instances([new.clone()]),
            &[10],
            vec![learnt(10, 1)],
            table,
        );
        assert!(kernel_ops(&out).is_empty());
        rib_outputs(&out)
    }

    #[test]
    fn an_export_rt_change_sends_the_routes_again_with_the_new_rt() {
        let exporting_77 = instance(VTEP_1, 10, 10, 10, 77);
        // Same NLRI (same RD): an implicit replace, nothing withdrawn.
        assert_eq!(
            readvertised_as(&exporting_77),
            vec![
                announced(inclusive_multicast(&exporting_77)),
                announced(mac_ip(&exporting_77, None, [(mac(1), None)])),
            ]
        );
    }

    #[test]
    fn a_new_rd_is_announced_before_the_old_one_is_withdrawn() {
        let new_rd = instance(VTEP_1, 10, 7, 10, 10);
        assert_eq!(
            readvertised_as(&new_rd),
            vec![
                announced(inclusive_multicast(&new_rd)),
                announced(mac_ip(&new_rd, None, [(mac(1), None)])),
                withdrawn([
                    originate::inclusive_multicast_nlri(&ours(10)),
                    originate::mac_ip_nlri(&ours(10), mac(1), None),
                ]),
            ]
        );
    }

    #[test]
    fn a_restarted_core_sends_nothing_for_the_rows_the_kernel_has() {
        // The VTEP task starts over (after a panic): a fresh core adopts the
        // kernel's rows, then re-imports the RIB's table with the same
        // instances.
        let mut interner = AttrInterner::default();
        let table = remote(&mut interner, 10, 10);
        let mut core = VtepCore::new(instances([ours(10)]), svis(&[10]));
        let adopted = vec![
            OwnedRow::Flood(FloodEntry {
                vni: 10,
                vtep: VTEP_3,
            }),
            OwnedRow::MacSelf {
                vni: 10,
                mac: mac(3),
                vtep: VTEP_3,
                sticky: false,
            },
            OwnedRow::MacMaster {
                vlan: 10,
                mac: mac(3),
                sticky: false,
            },
        ];
        core.handle(VtepInput::Start {
            now: Instant::now(),
            adopted,
            learned: vec![learnt(10, 1)],
        });
        let out = reconfigure(
            &mut core,
            instances([ours(10)]),
            &[10],
            vec![learnt(10, 1)],
            table,
        );
        assert!(kernel_ops(&out).is_empty(), "{out:?}");
        assert_eq!(core.desired().len(), 2);
        assert_eq!(reconfigured(&out), Some(InstanceChanges::default()));
    }

    #[test]
    fn a_table_nobody_waits_for_changes_nothing() {
        let (mut core, table, _) = running();
        let out = core.handle(VtepInput::Rib(RibEvent::Table(table)));
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(core.desired().len(), 2);
    }
}
