//! EVPN instances of a VTEP: one per configured VLAN/VNI (RFC 8365 section
//! 5.1.2, VLAN-based service: one EVI per VNI), with the route distinguisher
//! and route targets its routes carry, and the lookup tables import needs.

use crate::dataplane::model::{MAX_VNI, Vni};
use evpnd_wire::extcomm::RouteTarget;
use evpnd_wire::rd::RouteDistinguisher;
use evpnd_wire::rtc::RtMembership;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use thiserror::Error;

/// The first assigned number of an auto-derived RD. FRR numbers RDs from one
/// index space per speaker and gives index 1 to the default instance, so
/// its VNIs get `router-id:2`, `:3`, ... (FRR 8.4 in the lab: VNI 10 is
/// `198.19.0.1:2`, VNI 11 `198.19.0.1:3`, see `proto-tests/vectors/frr/rr-frr.txt`).
pub const FIRST_AUTO_RD_NUMBER: u16 = 2;

/// RFC 8365 section 5.1.2.1: the auto-derived route target `ASN:VNI`, a
/// Two-Octet AS Specific RT (RFC 4360 section 3.1) whose Global
/// Administrator is the AS and whose 4-octet Local Administrator holds the
/// 24-bit VNI.
///
/// The section also defines an "A" bit (0 = auto-derived), a 3-bit Type (1 =
/// VXLAN) and a 4-bit Domain-ID in the top octet of the Local Administrator.
/// They are left zero here, as FRR does unless told `autort
/// rfc8365-compatible`: FRR VTEPs (and the lab) use `65000:10` for VNI 10,
/// and an RT that differs from theirs would import nothing.
///
/// `None` for a 4-octet AS: "RT auto-derivation is applicable for 2-octet AS
/// numbers. For 4-octet AS numbers, the RT needs to be manually configured
/// because 3-octet VNI fields cannot be fit within the 2-octet local
/// administrator field" (RFC 8365 section 5.1.2.1). FRR instead truncates
/// the AS to its low 2 octets, which can collide between ASes; evpnd
/// follows the RFC and asks for explicit RTs (config validation says so).
pub fn auto_route_target(asn: u32, vni: Vni) -> Option<RouteTarget> {
    let asn = u16::try_from(asn).ok()?;
    Some(RouteTarget::As2 {
        asn,
        number: vni & MAX_VNI,
    })
}

/// Why the instances could not be built from a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstanceError {
    #[error(
        "VNI {vni}: no route target configured and none can be auto-derived for AS {asn} (RFC 8365 section 5.1.2.1)"
    )]
    NoRouteTarget { vni: Vni, asn: u32 },
    #[error("VNI {vni}: route distinguisher {rd} is already used by VNI {other}")]
    DuplicateRd {
        vni: Vni,
        other: Vni,
        rd: RouteDistinguisher,
    },
    #[error("VNI {vni}: no route distinguisher number left for {router_id}:n")]
    RdSpaceExhausted { vni: Vni, router_id: Ipv4Addr },
    #[error("VNI {vni} is configured twice")]
    DuplicateVni { vni: Vni },
    #[error("VLAN {vlan} is mapped twice")]
    DuplicateVlan { vlan: u16 },
}

/// One EVPN instance (EVI) of this VTEP: a bridge VLAN and its VNI (RFC
/// 8365 section 5.1.2: VLAN-based service, one VNI per EVI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvpnInstance {
    pub vlan: u16,
    pub vni: Vni,
    /// RFC 7432 section 7.9: unique per EVI on this PE.
    pub rd: RouteDistinguisher,
    /// Routes carrying any of these are imported (RFC 7432 section 9.2).
    pub import_rts: Vec<RouteTarget>,
    /// Routes this instance originates carry these (RFC 7432 section 7.9).
    pub export_rts: Vec<RouteTarget>,
    /// The VTEP address: next hop of every originated route, originating
    /// router and PMSI endpoint of the type-3 (RFC 8365 section 5.1.3).
    pub local_vtep: IpAddr,
}

/// One VLAN/VNI mapping an instance is built for, with the RD and RTs
/// configured for it. The core's own input: config (or a test) builds it,
/// so the instance rules do not depend on how a file spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VniSpec {
    pub vlan: u16,
    pub vni: Vni,
    /// `None`: auto-derived `router-id:n` (RFC 7432 section 7.9).
    pub rd: Option<RouteDistinguisher>,
    /// Empty: the auto `ASN:VNI` ([`auto_route_target`]).
    pub import_rts: Vec<RouteTarget>,
    /// Empty: the auto `ASN:VNI` ([`auto_route_target`]).
    pub export_rts: Vec<RouteTarget>,
}

/// Everything [`EvpnInstances::from_spec`] derives the instances of a VTEP
/// from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvpnInstancesSpec {
    /// The VTEP address every instance originates from.
    pub local_vtep: IpAddr,
    /// The address part of auto-derived RDs.
    pub router_id: Ipv4Addr,
    /// The AS of auto-derived RTs.
    pub asn: u32,
    pub vnis: Vec<VniSpec>,
}

/// All instances of this VTEP with the lookups origination and import need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvpnInstances {
    by_vni: BTreeMap<Vni, EvpnInstance>,
    vni_of_vlan: BTreeMap<u16, Vni>,
    /// Import RT -> the VNIs importing it, ascending.
    vnis_of_rt: BTreeMap<RouteTarget, Vec<Vni>>,
    local_vtep: Option<IpAddr>,
}

impl EvpnInstances {
    /// One instance per VNI of `spec`.
    ///
    /// Auto RD (RFC 7432 section 7.9: type 1, `router-id:n`, unique per
    /// EVI): the VNIs without a configured RD are taken in ascending VNI
    /// order and numbered from [`FIRST_AUTO_RD_NUMBER`], skipping numbers a
    /// configured RD of the same `router-id:n` form already uses. Ascending
    /// VNI order makes the numbering independent of the order of the config
    /// file and reproduces FRR's numbering in the lab (VNIs 10, 11 -> :2,
    /// :3); FRR itself numbers in the order zebra reports VNIs, so RDs can
    /// differ from an FRR VTEP with the same VNIs, which is harmless (RDs
    /// only need to be unique, RFC 7432 section 7.9).
    ///
    /// Auto RTs come from [`auto_route_target`]; configured RTs (already
    /// filled in by config validation) win.
    pub fn from_spec(spec: &EvpnInstancesSpec) -> Result<Self, InstanceError> {
        let (router_id, asn) = (spec.router_id, spec.asn);
        let mut rd_owner: BTreeMap<RouteDistinguisher, Vni> = BTreeMap::new();
        let mut out = EvpnInstances {
            local_vtep: Some(spec.local_vtep),
            ..Default::default()
        };
        for v in &spec.vnis {
            if let Some(rd) = v.rd {
                if let Some(&other) = rd_owner.get(&rd) {
                    return Err(InstanceError::DuplicateRd {
                        vni: v.vni,
                        other,
                        rd,
                    });
                }
                rd_owner.insert(rd, v.vni);
            }
        }
        let mut auto: Vec<Vni> = spec
            .vnis
            .iter()
            .filter(|v| v.rd.is_none())
            .map(|v| v.vni)
            .collect();
        auto.sort_unstable();
        let mut next = FIRST_AUTO_RD_NUMBER;
        let mut auto_rd = BTreeMap::new();
        for vni in auto {
            let rd = loop {
                let rd = RouteDistinguisher::Ipv4 {
                    addr: router_id,
                    number: next,
                };
                next = next
                    .checked_add(1)
                    .ok_or(InstanceError::RdSpaceExhausted { vni, router_id })?;
                if !rd_owner.contains_key(&rd) {
                    break rd;
                }
            };
            rd_owner.insert(rd, vni);
            auto_rd.insert(vni, rd);
        }
        for v in &spec.vnis {
            let rts = |configured: &[RouteTarget]| {
                if configured.is_empty() {
                    auto_route_target(asn, v.vni)
                        .map(|rt| vec![rt])
                        .ok_or(InstanceError::NoRouteTarget { vni: v.vni, asn })
                } else {
                    Ok(configured.to_vec())
                }
            };
            let rd = match v.rd.or_else(|| auto_rd.get(&v.vni).copied()) {
                Some(rd) => rd,
                None => {
                    return Err(InstanceError::RdSpaceExhausted {
                        vni: v.vni,
                        router_id,
                    });
                }
            };
            out.insert(EvpnInstance {
                vlan: v.vlan,
                vni: v.vni,
                rd,
                import_rts: rts(&v.import_rts)?,
                export_rts: rts(&v.export_rts)?,
                local_vtep: spec.local_vtep,
            })?;
        }
        Ok(out)
    }

    /// Builds the tables from instances given directly (tests, tools).
    pub fn new(instances: impl IntoIterator<Item = EvpnInstance>) -> Result<Self, InstanceError> {
        let mut out = EvpnInstances::default();
        for instance in instances {
            out.local_vtep.get_or_insert(instance.local_vtep);
            out.insert(instance)?;
        }
        Ok(out)
    }

    fn insert(&mut self, instance: EvpnInstance) -> Result<(), InstanceError> {
        let vni = instance.vni;
        if self.by_vni.contains_key(&vni) {
            return Err(InstanceError::DuplicateVni { vni });
        }
        if self.vni_of_vlan.contains_key(&instance.vlan) {
            return Err(InstanceError::DuplicateVlan {
                vlan: instance.vlan,
            });
        }
        if let Some(other) = self.by_vni.values().find(|i| i.rd == instance.rd) {
            return Err(InstanceError::DuplicateRd {
                vni,
                other: other.vni,
                rd: instance.rd,
            });
        }
        self.vni_of_vlan.insert(instance.vlan, vni);
        for rt in &instance.import_rts {
            let vnis = self.vnis_of_rt.entry(*rt).or_default();
            if let Err(pos) = vnis.binary_search(&vni) {
                vnis.insert(pos, vni);
            }
        }
        self.by_vni.insert(vni, instance);
        Ok(())
    }

    pub fn by_vni(&self, vni: Vni) -> Option<&EvpnInstance> {
        self.by_vni.get(&vni)
    }

    pub fn by_vlan(&self, vlan: u16) -> Option<&EvpnInstance> {
        self.vni_of_vlan
            .get(&vlan)
            .and_then(|vni| self.by_vni.get(vni))
    }

    /// The instances importing `rt` (RFC 7432 section 9.2), ascending VNI.
    pub fn importing(&self, rt: &RouteTarget) -> impl Iterator<Item = &EvpnInstance> {
        self.vnis_of_rt
            .get(rt)
            .into_iter()
            .flatten()
            .filter_map(|vni| self.by_vni.get(vni))
    }

    /// Every instance, ascending VNI.
    pub fn iter(&self) -> impl Iterator<Item = &EvpnInstance> {
        self.by_vni.values()
    }

    /// The RT membership this VTEP announces (RFC 4684 section 4): one
    /// whole route target per import RT of its instances, origin AS
    /// `origin_as`, each once, in order.
    pub fn rt_memberships(&self, origin_as: u32) -> Vec<RtMembership> {
        let set: std::collections::BTreeSet<RtMembership> = self
            .iter()
            .flat_map(|i| i.import_rts.iter())
            .map(|rt| RtMembership::exact(origin_as, *rt))
            .collect();
        set.into_iter().collect()
    }

    pub fn len(&self) -> usize {
        self.by_vni.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_vni.is_empty()
    }

    /// This VTEP's address (`None` only for an empty set built by hand).
    pub fn local_vtep(&self) -> Option<IpAddr> {
        self.local_vtep
    }
}

/// How the instances of one reconfiguration differ, by VNI.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InstanceChanges {
    /// New VNIs, and VNIs moved to another VLAN (removed, then added).
    pub added: Vec<Vni>,
    /// VNIs gone, and VNIs moved to another VLAN.
    pub removed: Vec<Vni>,
    /// Same VNI and VLAN, other export RTs or RD: routes sent again.
    pub readvertised: Vec<Vni>,
    /// Same VNI and VLAN, other import RTs: routes imported again.
    pub reimported: Vec<Vni>,
}

impl InstanceChanges {
    pub fn between(old: &EvpnInstances, new: &EvpnInstances) -> Self {
        let mut changes = Self::default();
        for o in old.iter() {
            match new.by_vni(o.vni) {
                Some(n) if n.vlan == o.vlan => {
                    if n.rd != o.rd || n.export_rts != o.export_rts {
                        changes.readvertised.push(o.vni);
                    }
                    if n.import_rts != o.import_rts {
                        changes.reimported.push(o.vni);
                    }
                }
                _ => changes.removed.push(o.vni),
            }
        }
        for n in new.iter() {
            if old.by_vni(n.vni).is_none_or(|o| o.vlan != n.vlan) {
                changes.added.push(n.vni);
            }
        }
        changes
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTER_ID: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 1);

    fn spec(vnis: Vec<VniSpec>, asn: u32) -> EvpnInstancesSpec {
        EvpnInstancesSpec {
            local_vtep: IpAddr::V4(ROUTER_ID),
            router_id: ROUTER_ID,
            asn,
            vnis,
        }
    }

    fn vni(vlan: u16, vni: Vni) -> VniSpec {
        VniSpec {
            vlan,
            vni,
            rd: None,
            import_rts: Vec::new(),
            export_rts: Vec::new(),
        }
    }

    #[test]
    fn auto_rd_and_rt_match_frr_in_the_lab() {
        // Config order 11 before 10: numbering follows VNI order.
        let set = EvpnInstances::from_spec(&spec(vec![vni(11, 11), vni(10, 10)], 65000)).unwrap();
        let ten = set.by_vni(10).unwrap();
        assert_eq!(ten.rd.to_string(), "198.19.0.1:2");
        assert_eq!(set.by_vni(11).unwrap().rd.to_string(), "198.19.0.1:3");
        assert_eq!(ten.import_rts, vec!["65000:10".parse().unwrap()]);
        assert_eq!(ten.export_rts, ten.import_rts);
        assert_eq!(
            ten.export_rts[0].to_bytes(),
            [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 0x0a],
            "RT:65000:10 as FRR sends it"
        );
        assert_eq!(set.by_vlan(11).unwrap().vni, 11);
        assert!(set.by_vlan(12).is_none());
        let rt: RouteTarget = "65000:11".parse().unwrap();
        assert_eq!(set.importing(&rt).map(|i| i.vni).collect::<Vec<_>>(), [11]);
    }

    /// RFC 4684: one whole-RT membership per import RT, shared RTs once.
    #[test]
    fn rt_memberships_are_the_import_rts_once_each() {
        let mut a = vni(10, 10);
        a.import_rts = vec!["65000:1".parse().unwrap(), "65000:2".parse().unwrap()];
        let mut b = vni(20, 20);
        b.import_rts = vec!["65000:1".parse().unwrap()];
        let set = EvpnInstances::from_spec(&spec(vec![a, b, vni(30, 30)], 65000)).unwrap();
        let shown: Vec<String> = set
            .rt_memberships(65000)
            .iter()
            .map(|m| m.to_string())
            .collect();
        assert_eq!(shown, ["65000:65000:1", "65000:65000:2", "65000:65000:30"]);
        assert!(EvpnInstances::default().rt_memberships(65000).is_empty());
    }

    #[test]
    fn configured_values_win_and_auto_rds_skip_taken_numbers() {
        let mut a = vni(10, 10);
        a.rd = Some("198.19.0.1:2".parse().unwrap());
        a.import_rts = vec!["65000:1".parse().unwrap(), "65000:2".parse().unwrap()];
        let mut b = vni(20, 20);
        b.import_rts = vec!["65000:1".parse().unwrap()];
        let set = EvpnInstances::from_spec(&spec(vec![a, b, vni(30, 30)], 65000)).unwrap();
        assert_eq!(set.by_vni(20).unwrap().rd.to_string(), "198.19.0.1:3");
        assert_eq!(set.by_vni(30).unwrap().rd.to_string(), "198.19.0.1:4");
        assert_eq!(
            set.by_vni(10).unwrap().export_rts,
            vec!["65000:10".parse().unwrap()],
            "export stays auto when only import is configured"
        );
        let shared: RouteTarget = "65000:1".parse().unwrap();
        assert_eq!(
            set.importing(&shared).map(|i| i.vni).collect::<Vec<_>>(),
            [10, 20]
        );
    }

    #[test]
    fn four_octet_as_needs_configured_route_targets() {
        // RFC 8365 section 5.1.2.1.
        assert_eq!(auto_route_target(4_200_000_001, 10), None);
        assert_eq!(
            auto_route_target(65535, MAX_VNI),
            Some(RouteTarget::As2 {
                asn: 65535,
                number: MAX_VNI
            })
        );
        let err = EvpnInstances::from_spec(&spec(vec![vni(10, 10)], 4_200_000_001)).unwrap_err();
        assert_eq!(
            err,
            InstanceError::NoRouteTarget {
                vni: 10,
                asn: 4_200_000_001
            }
        );
        let mut v = vni(10, 10);
        v.import_rts = vec!["4200000001:10".parse().unwrap()];
        v.export_rts = v.import_rts.clone();
        assert!(EvpnInstances::from_spec(&spec(vec![v], 4_200_000_001)).is_ok());
    }

    #[test]
    fn duplicate_rds_are_refused() {
        let mut a = vni(10, 10);
        a.rd = Some("65000:7".parse().unwrap());
        let mut b = vni(11, 11);
        b.rd = a.rd;
        assert!(matches!(
            EvpnInstances::from_spec(&spec(vec![a, b], 65000)),
            Err(InstanceError::DuplicateRd {
                vni: 11,
                other: 10,
                ..
            })
        ));
    }
}
