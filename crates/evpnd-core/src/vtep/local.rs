//! Origination: what this VTEP advertises for its VNIs and for the MACs and
//! MAC+IP bindings the kernel learnt on the access side.

use super::VtepCore;
use super::input::{Learned, LearnedRow};
use super::output::{VtepEvent, VtepOutput};
use crate::evpn::mobility::LocalMacDecision;
use crate::evpn::originate;
use evpnd_wire::mac::MacAddress;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Instant;

impl VtepCore {
    /// RFC 7432 section 11 / RFC 8365 section 5.1.3: one type-3 route per
    /// VNI, with an ingress-replication PMSI.
    pub(super) fn originate_inclusive_multicast(&self, out: &mut Vec<VtepOutput>) {
        for instance in self.instances.iter() {
            let update = originate::inclusive_multicast(instance).into_ingress();
            out.push(VtepOutput::Rib(update));
        }
    }

    pub(super) fn learned(&mut self, now: Instant, learned: Learned, out: &mut Vec<VtepOutput>) {
        match learned.row {
            LearnedRow::Mac { vlan, mac, port } => {
                if learned.present {
                    if self.local_macs.insert((vlan, mac), port).is_none() {
                        out.push(VtepOutput::Event(VtepEvent::LocalMacLearnt {
                            vlan,
                            mac,
                            port,
                        }));
                    }
                } else if self.local_macs.remove(&(vlan, mac)).is_some() {
                    out.push(VtepOutput::Event(VtepEvent::LocalMacGone { vlan, mac }));
                }
                self.advertise_local(now, vlan, mac, out);
            }
            LearnedRow::Neighbor { vlan, ip, mac } => {
                let before = if learned.present {
                    self.bindings.insert((vlan, ip), mac)
                } else {
                    self.bindings.remove(&(vlan, ip))
                };
                for affected in [before, learned.present.then_some(mac)]
                    .into_iter()
                    .flatten()
                {
                    self.advertise_local(now, vlan, affected, out);
                }
            }
        }
    }

    /// Notifications were lost: `learned` is everything the kernel has
    /// learnt now. What went meanwhile is taken as gone, what came or
    /// changed as learnt, so what we advertise matches again (bindings
    /// first, so a MAC's routes are withdrawn or sent once, with its IPs).
    pub(super) fn resync_learned(
        &mut self,
        now: Instant,
        learned: Vec<Learned>,
        out: &mut Vec<VtepOutput>,
    ) {
        let mut macs = BTreeMap::new();
        let mut bindings = BTreeMap::new();
        for l in learned.into_iter().filter(|l| l.present) {
            match l.row {
                LearnedRow::Mac { vlan, mac, port } => {
                    macs.insert((vlan, mac), port);
                }
                LearnedRow::Neighbor { vlan, ip, mac } => {
                    bindings.insert((vlan, ip), mac);
                }
            }
        }
        let gone_bindings = self
            .bindings
            .iter()
            .filter(|(k, mac)| bindings.get(k) != Some(mac))
            .map(|((vlan, ip), mac)| LearnedRow::Neighbor {
                vlan: *vlan,
                ip: *ip,
                mac: *mac,
            });
        let gone_macs = self
            .local_macs
            .iter()
            .filter(|(k, _)| !macs.contains_key(k))
            .map(|((vlan, mac), port)| LearnedRow::Mac {
                vlan: *vlan,
                mac: *mac,
                port: *port,
            });
        let gone: Vec<Learned> = gone_bindings
            .chain(gone_macs)
            .map(|row| Learned {
                row,
                present: false,
            })
            .collect();
        let new_macs = macs
            .iter()
            .filter(|(k, port)| self.local_macs.get(k) != Some(port))
            .map(|((vlan, mac), port)| LearnedRow::Mac {
                vlan: *vlan,
                mac: *mac,
                port: *port,
            });
        let new_bindings = bindings
            .iter()
            .filter(|(k, mac)| self.bindings.get(k) != Some(mac))
            .map(|((vlan, ip), mac)| LearnedRow::Neighbor {
                vlan: *vlan,
                ip: *ip,
                mac: *mac,
            });
        let came: Vec<Learned> = new_macs
            .chain(new_bindings)
            .map(|row| Learned { row, present: true })
            .collect();
        for l in gone.into_iter().chain(came) {
            self.learned(now, l, out);
        }
    }

    /// Brings what we advertise for (VLAN, MAC) in line with what is local:
    /// MAC-only plus one MAC+IP route per IP bound to it (RFC 7432 section
    /// 9.1), with the MAC Mobility sequence the tracker decides (15.1).
    pub(super) fn advertise_local(
        &mut self,
        now: Instant,
        vlan: u16,
        mac: MacAddress,
        out: &mut Vec<VtepOutput>,
    ) {
        let Some(instance) = self.instances.by_vlan(vlan).cloned() else {
            return;
        };
        if !self.local_macs.contains_key(&(vlan, mac)) {
            return self.withdraw_local(vlan, mac, out);
        }
        let claims = self.importer.mac_claims(instance.vni, mac);
        let (sequence, sticky) = match self.tracker.learn(instance.vni, mac, false, claims, now) {
            LocalMacDecision::Advertise { sequence, sticky } => (sequence, sticky),
            // RFC 7432 section 15.2: a static MAC elsewhere cannot move here.
            LocalMacDecision::StickyElsewhere { vtep } => {
                out.push(VtepOutput::Event(VtepEvent::StickyElsewhere {
                    vni: instance.vni,
                    mac,
                    vtep,
                }));
                return self.withdraw_local(vlan, mac, out);
            }
            // RFC 7432 section 15.1: a duplicate is not advertised.
            LocalMacDecision::Duplicate { new, duplicate } => {
                if new {
                    out.push(VtepOutput::Event(VtepEvent::DuplicateMac {
                        vni: instance.vni,
                        duplicate,
                    }));
                }
                return self.withdraw_local(vlan, mac, out);
            }
        };
        let ips: BTreeSet<IpAddr> = self
            .bindings
            .iter()
            .filter(|((v, _), m)| *v == vlan && **m == mac)
            .map(|((_, ip), _)| *ip)
            .collect();
        let before = self
            .advertised
            .insert((vlan, mac), ips.clone())
            .unwrap_or_default();
        let gone: Vec<_> = before
            .difference(&ips)
            .map(|ip| originate::mac_ip_nlri(&instance, mac, Some(*ip)))
            .collect();
        if !gone.is_empty() {
            out.push(VtepOutput::Rib(originate::withdrawal(gone)));
        }
        let mobility = originate::mac_mobility_community(sequence, sticky);
        let routes = std::iter::once((mac, None)).chain(ips.iter().map(|ip| (mac, Some(*ip))));
        let update = originate::mac_ip(&instance, mobility, routes).into_ingress();
        out.push(VtepOutput::Rib(update));
    }

    /// Withdraws every route advertised for (VLAN, MAC) (RFC 7432 section
    /// 15.1: a MAC no longer local, or beaten by a remote route).
    pub(super) fn withdraw_local(&mut self, vlan: u16, mac: MacAddress, out: &mut Vec<VtepOutput>) {
        let Some(instance) = self.instances.by_vlan(vlan).cloned() else {
            return;
        };
        self.tracker.forget(instance.vni, mac);
        let Some(ips) = self.advertised.remove(&(vlan, mac)) else {
            return;
        };
        let nlri = std::iter::once(originate::mac_ip_nlri(&instance, mac, None))
            .chain(
                ips.iter()
                    .map(|ip| originate::mac_ip_nlri(&instance, mac, Some(*ip))),
            )
            .collect::<Vec<_>>();
        out.push(VtepOutput::Rib(originate::withdrawal(nlri)));
    }
}
