//! The routes a VTEP originates, in exactly the form the RIB's ingress
//! produces for a received route (`rib::ingress`): shared path attributes
//! in wire form, the MP_REACH next hop, the decision-process summary and the
//! NLRI. Local routes then flow through the same Loc-RIB as `PeerIdx::LOCAL`
//! paths, and reflection/Adj-RIB-Out need no special case.
//!
//! The attributes are laid out byte for byte as FRR 8.4 sends them (checked
//! against `proto-tests/vectors/frr/bgp-evpn-messages.txt`): ORIGIN IGP, an empty
//! AS_PATH written with the Extended Length flag, LOCAL_PREF 100,
//! EXTENDED_COMMUNITIES with the encapsulation first, then the RTs (then
//! MAC Mobility), then PMSI_TUNNEL for a type 3.

use super::instance::EvpnInstance;
use crate::rib::attrs::PathSummary;
use crate::rib::attrs::{decode_stored, encode_stored};
use crate::rib::best::DEFAULT_LOCAL_PREF;
use crate::rib::ingress::summarize;
use crate::rib::ingress::{IngressUpdate, Reach};
use crate::rib::loc_rib::NlriBytes;
use bytes::{Bytes, BytesMut};
use evpnd_wire::as_path::AsPath;
use evpnd_wire::attribute::{AttrFlags, AttributeValue, Origin, PathAttribute};
use evpnd_wire::evpn::{Esi, EvpnRoute, Type2Route, Type3Route};
use evpnd_wire::extcomm::{ExtendedCommunity, MacMobility};
use evpnd_wire::mac::MacAddress;
use evpnd_wire::pmsi::PmsiTunnel;
use std::net::IpAddr;

/// One attribute set of locally originated routes and the NLRI that share
/// it: what one MP_REACH_NLRI UPDATE from this VTEP carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAdvertisement {
    /// Path attributes other than MP_REACH_NLRI, in wire form.
    pub attributes: Bytes,
    /// MP_REACH_NLRI next hop: the VTEP address (RFC 8365 section 5.1.3).
    pub next_hop: Bytes,
    /// What `rib::ingress::summarize` reads from `attributes`.
    pub summary: PathSummary,
    /// Complete NLRI (type, length, value), one per route.
    pub nlri: Vec<NlriBytes>,
}

impl LocalAdvertisement {
    /// The RIB input for these routes, as if received in one UPDATE; feed it
    /// as `RibInput::Update { peer: PeerIdx::LOCAL, .. }`.
    pub fn into_ingress(self) -> IngressUpdate {
        let mut field = BytesMut::with_capacity(self.nlri.iter().map(|n| n.len()).sum());
        self.nlri.iter().for_each(|n| field.extend_from_slice(n));
        IngressUpdate {
            reach: Some(Reach {
                attributes: self.attributes,
                next_hop: self.next_hop,
                summary: self.summary,
                nlri: field.freeze(),
            }),
            ..Default::default()
        }
    }
}

/// The RIB input withdrawing locally originated routes (RFC 4760 section 4):
/// the NLRI from [`inclusive_multicast_nlri`] / [`mac_ip_nlri`]; labels are
/// not part of a route's key, so a zero label (as FRR withdraws) is fine.
pub fn withdrawal(nlri: impl IntoIterator<Item = NlriBytes>) -> IngressUpdate {
    let mut field = BytesMut::new();
    nlri.into_iter().for_each(|n| field.extend_from_slice(&n));
    IngressUpdate {
        withdrawn: if field.is_empty() {
            Vec::new()
        } else {
            vec![field.freeze()]
        },
        ..Default::default()
    }
}

/// The MAC Mobility community a local MAC is advertised with (RFC 7432
/// section 7.7): only when it says something, a sequence above 0 or the
/// sticky/static flag; "a MAC/IP route without it is treated as sequence 0"
/// (section 15.1), which is what FRR sends for a first-learnt MAC.
pub fn mac_mobility_community(sequence: u32, sticky: bool) -> Option<MacMobility> {
    (sequence > 0 || sticky).then(|| MacMobility::new(sticky, sequence))
}

/// The type-3 (Inclusive Multicast Ethernet Tag) route of an instance (RFC
/// 7432 sections 7.3 and 11.1; RFC 8365 section 5.1.3): RD, Ethernet tag 0,
/// originating router = the VTEP, with a PMSI_TUNNEL of type ingress
/// replication whose label is the VNI and endpoint the VTEP.
pub fn inclusive_multicast(instance: &EvpnInstance) -> LocalAdvertisement {
    advertisement(
        instance,
        None,
        Some(PmsiTunnel::ingress_replication(
            instance.vni,
            instance.local_vtep,
        )),
        vec![inclusive_multicast_nlri(instance)],
    )
}

/// The type-3 NLRI of an instance (for withdrawal too).
pub fn inclusive_multicast_nlri(instance: &EvpnInstance) -> NlriBytes {
    nlri_bytes(&EvpnRoute::InclusiveMulticast(Type3Route {
        rd: instance.rd,
        // RFC 8365 section 5.1.2: VLAN-based service, Ethernet tag 0.
        ethernet_tag: 0,
        originating_router: instance.local_vtep,
    }))
}

/// Type-2 (MAC/IP Advertisement) routes for local MACs of one instance
/// (RFC 7432 section 7.2), all sharing one attribute set: give MAC-only
/// entries (`None`) and MAC+IP entries with the same `mobility` (see
/// [`mac_mobility_community`]; one MAC's routes carry one sequence,
/// section 15.1).
pub fn mac_ip(
    instance: &EvpnInstance,
    mobility: Option<MacMobility>,
    routes: impl IntoIterator<Item = (MacAddress, Option<IpAddr>)>,
) -> LocalAdvertisement {
    let nlri = routes
        .into_iter()
        .map(|(mac, ip)| type2_nlri(instance, mac, ip, instance.vni))
        .collect();
    advertisement(instance, mobility, None, nlri)
}

/// The type-2 NLRI of a local MAC (or MAC+IP) with a zero label, for
/// withdrawal (RFC 7432 section 7.2: the label is not part of the route).
pub fn mac_ip_nlri(instance: &EvpnInstance, mac: MacAddress, ip: Option<IpAddr>) -> NlriBytes {
    type2_nlri(instance, mac, ip, 0)
}

fn type2_nlri(
    instance: &EvpnInstance,
    mac: MacAddress,
    ip: Option<IpAddr>,
    label1: u32,
) -> NlriBytes {
    nlri_bytes(&EvpnRoute::MacIp(Type2Route {
        rd: instance.rd,
        // Single-homed VTEP: ESI 0 (RFC 7432 section 5); VLAN-based
        // service: Ethernet tag 0 (RFC 8365 section 5.1.2).
        esi: Esi([0; 10]),
        ethernet_tag: 0,
        mac,
        ip,
        // RFC 8365 section 5.1.3: the whole 24-bit VNI, not shifted.
        label1,
        label2: None,
    }))
}

fn nlri_bytes(route: &EvpnRoute) -> NlriBytes {
    let mut out = BytesMut::with_capacity(route.encoded_len());
    route.encode(&mut out);
    NlriBytes::from_slice(&out)
}

fn advertisement(
    instance: &EvpnInstance,
    mobility: Option<MacMobility>,
    pmsi: Option<PmsiTunnel>,
    nlri: Vec<NlriBytes>,
) -> LocalAdvertisement {
    // RFC 8365 section 5.1.3: the encapsulation community says VXLAN; RFC
    // 7432 section 7.9: the export RTs. FRR puts the encapsulation first.
    let communities = std::iter::once(ExtendedCommunity::VXLAN_ENCAPSULATION)
        .chain(
            instance
                .export_rts
                .iter()
                .copied()
                .map(ExtendedCommunity::RouteTarget),
        )
        .chain(mobility.map(ExtendedCommunity::MacMobility))
        .collect();
    let attributes = [
        // RFC 4271 section 5.1.1: locally originated, IGP.
        Some(PathAttribute::new(AttributeValue::Origin(Origin::Igp))),
        // RFC 4271 section 5.1.2: empty towards iBGP peers. FRR writes it
        // with the Extended Length flag and a 2-octet zero length.
        Some(PathAttribute {
            flags: AttrFlags::WELL_KNOWN.with(AttrFlags::EXTENDED_LENGTH),
            value: AttributeValue::AsPath(AsPath::new()),
        }),
        // RFC 4271 section 5.1.5: sent to internal peers.
        Some(PathAttribute::new(AttributeValue::LocalPref(
            DEFAULT_LOCAL_PREF,
        ))),
        Some(PathAttribute::new(AttributeValue::ExtendedCommunities(
            communities,
        ))),
        pmsi.map(|p| PathAttribute::new(AttributeValue::PmsiTunnel(p))),
    ];
    // Stored like a received set (`rib::attrs::STORED_FORM`), and read back
    // the same way the RIB reads one, so a local path compares exactly like
    // a received one.
    let attributes = encode_stored(attributes.iter().flatten());
    let summary = summarize(&decode_stored(&attributes));
    let next_hop = match instance.local_vtep {
        IpAddr::V4(v4) => Bytes::copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => Bytes::copy_from_slice(&v6.octets()),
    };
    LocalAdvertisement {
        attributes,
        next_hop,
        summary,
        nlri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::reflect::to_ibgp;
    use crate::test_support::hex;
    use evpnd_wire::Family;
    use evpnd_wire::update_packer::UpdatePacker;
    use std::net::Ipv4Addr;

    fn instance(node: u8, vni: u32, rd_number: u16) -> EvpnInstance {
        let vtep = Ipv4Addr::new(198, 19, 0, node);
        EvpnInstance {
            vlan: vni as u16,
            vni,
            rd: evpnd_wire::rd::RouteDistinguisher::Ipv4 {
                addr: vtep,
                number: rd_number,
            },
            import_rts: vec![format!("65000:{vni}").parse().unwrap()],
            export_rts: vec![format!("65000:{vni}").parse().unwrap()],
            local_vtep: IpAddr::V4(vtep),
        }
    }

    /// The UPDATE the RIB would send to an iBGP peer for these local
    /// routes: the attributes through the same iBGP rewrite as every path
    /// (a local source gets no ORIGINATOR_ID/CLUSTER_LIST), then packed.
    fn as_sent(ad: &LocalAdvertisement) -> Vec<u8> {
        let shared = to_ibgp(&ad.attributes, None, DEFAULT_LOCAL_PREF).unwrap();
        let messages = UpdatePacker::new(4096)
            .pack_reach(
                Family::L2VPN_EVPN,
                &ad.next_hop,
                &shared,
                ad.nlri.iter().map(|n| n.as_slice()),
            )
            .unwrap();
        assert_eq!(messages.len(), 1);
        messages[0].to_vec()
    }

    fn mac(s: &str) -> MacAddress {
        s.parse().unwrap()
    }

    /// msg 62 and msg 70: n1's type-3 routes for VNI 10 (RD :2) and 11 (:3).
    #[test]
    fn type3_is_byte_identical_to_frr() {
        let msg62 = "ffffffffffffffffffffffffffffffff0065020000004e900e001c00194604c61300010003110001c613000100020000000020c6130001400101005002000040050400000064c01010030c0000000000080002fde80000000ac01609000600000ac6130001";
        let msg70 = "ffffffffffffffffffffffffffffffff0065020000004e900e001c00194604c61300010003110001c613000100030000000020c6130001400101005002000040050400000064c01010030c0000000000080002fde80000000bc01609000600000bc6130001";
        assert_eq!(
            as_sent(&inclusive_multicast(&instance(1, 10, 2))),
            hex(msg62)
        );
        assert_eq!(
            as_sent(&inclusive_multicast(&instance(1, 11, 3))),
            hex(msg70)
        );
        let ad = inclusive_multicast(&instance(1, 10, 2));
        assert_eq!(ad.summary.local_pref, Some(100));
        assert_eq!(ad.summary.mac_mobility, None);
    }

    /// msg 111 (n3, VNI 10: MAC-only + MAC+IP in one UPDATE) and msg 114
    /// (n1, VNI 10: MAC+IP alone).
    #[test]
    fn type2_is_byte_identical_to_frr() {
        let msg111 = "ffffffffffffffffffffffffffffffff00900200000079900e005300194604c61300030002210001c61300030002000000000000000000000000000030020a000000030000000a02250001c61300030002000000000000000000000000000030020a0000000320c6120a0300000a400101005002000040050400000064c01010030c0000000000080002fde80000000a";
        let msg114 = "ffffffffffffffffffffffffffffffff006d0200000056900e003000194604c61300010002250001c61300010002000000000000000000000000000030020a0000000120c6120a0100000a400101005002000040050400000064c01010030c0000000000080002fde80000000a";
        let n3 = mac_ip(
            &instance(3, 10, 2),
            mac_mobility_community(0, false),
            [
                (mac("02:0a:00:00:00:03"), None),
                (
                    mac("02:0a:00:00:00:03"),
                    Some("198.18.10.3".parse().unwrap()),
                ),
            ],
        );
        assert_eq!(as_sent(&n3), hex(msg111));
        let n1 = mac_ip(
            &instance(1, 10, 2),
            None,
            [(
                mac("02:0a:00:00:00:01"),
                Some("198.18.10.1".parse().unwrap()),
            )],
        );
        assert_eq!(as_sent(&n1), hex(msg114));
    }

    /// msg 236: n3 withdraws everything, type-2 with a zero label.
    #[test]
    fn withdrawal_nlri_are_byte_identical_to_frr() {
        let msg236 = "ffffffffffffffffffffffffffffffff00d802000000c1900f00bd00194602210001c61300030002000000000000000000000000000030020a000000030000000002250001c61300030002000000000000000000000000000030020a0000000320c6120a0300000003110001c613000300020000000020c613000302210001c61300030003000000000000000000000000000030020b000000030000000002250001c61300030003000000000000000000000000000030020b0000000320c6120b0300000003110001c613000300030000000020c6130003";
        let mut nlri = Vec::new();
        for (vni, rd) in [(10u32, 2u16), (11, 3)] {
            let i = instance(3, vni, rd);
            let m = MacAddress([2, vni as u8, 0, 0, 0, 3]);
            nlri.push(mac_ip_nlri(&i, m, None));
            nlri.push(mac_ip_nlri(
                &i,
                m,
                Some(IpAddr::V4(Ipv4Addr::new(198, 18, vni as u8, 3))),
            ));
            nlri.push(inclusive_multicast_nlri(&i));
        }
        let packed = UpdatePacker::new(4096)
            .pack_unreach(Family::L2VPN_EVPN, nlri.iter().map(|n| n.as_slice()))
            .unwrap();
        assert_eq!(packed, vec![Bytes::from(hex(msg236))]);
        let update = withdrawal(nlri.clone());
        assert_eq!(update.withdrawn.len(), 1);
        assert_eq!(
            update.withdrawn[0].len(),
            0xbd - 3,
            "MP_UNREACH length minus AFI/SAFI"
        );
        assert!(update.reach.is_none());
        assert!(withdrawal(Vec::new()).withdrawn.is_empty());
    }

    #[test]
    fn mobility_community_follows_rts_and_reaches_the_summary() {
        assert_eq!(mac_mobility_community(0, false), None);
        let sticky = mac_mobility_community(0, true).unwrap();
        assert!(sticky.sticky() && sticky.sequence == 0);
        let mm = mac_mobility_community(7, false);
        let ad = mac_ip(&instance(1, 10, 2), mm, [(mac("02:0a:00:00:00:01"), None)]);
        assert_eq!(ad.summary.mac_mobility, mm);
        let parsed = decode_stored(&ad.attributes);
        assert_eq!(
            parsed.extended_communities().unwrap(),
            [
                ExtendedCommunity::VXLAN_ENCAPSULATION,
                ExtendedCommunity::RouteTarget("65000:10".parse().unwrap()),
                ExtendedCommunity::MacMobility(MacMobility::new(false, 7)),
            ]
        );
        // The RIB input carries the NLRI field whole, as ingress does.
        let ingress = ad.clone().into_ingress();
        let reach = ingress.reach.unwrap();
        assert_eq!(reach.nlri.as_ref(), ad.nlri[0].as_slice());
        assert_eq!(reach.summary, ad.summary);
        assert_eq!(reach.next_hop.as_ref(), &[198, 19, 0, 1]);
    }
}
