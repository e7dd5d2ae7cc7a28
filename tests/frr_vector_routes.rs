//! Wire vectors: every UPDATE FRR 8.4.4 sent in the three-VTEP lab
//! (`proto-tests/vectors/frr/bgp-evpn-messages.txt`) must decode and re-encode
//! byte-identically, and the routes the route reflector (198.19.0.4) sent
//! must add up to what FRR itself said it held
//! (`proto-tests/vectors/frr/rr-bgp-l2vpn-evpn.json`).
//!
//! The UPDATE framing (RFC 4271 section 4.3, RFC 4760 sections 3 and 4) is
//! walked minimally here, so this test exercises only the EVPN objects
//! (NLRI, extended communities, PMSI) and not the message layer.

use bytes::BytesMut;
use evpnd_wire::Reader;
use evpnd_wire::evpn::{EvpnRoute, EvpnRouteKey, evpn_route_key, split_evpn_nlri};
use evpnd_wire::extcomm::ExtendedCommunity;
use evpnd_wire::pmsi::{PmsiTunnel, PmsiTunnelId};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

const MESSAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proto-tests/vectors/frr/bgp-evpn-messages.txt"
);
const RR_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proto-tests/vectors/frr/rr-bgp-l2vpn-evpn.json"
);
const RR_ADDRESS: &str = "198.19.0.4";

// Path attribute type codes (RFC 4271 section 5; RFC 4456; RFC 4360;
// RFC 4760; RFC 6514).
const ORIGINATOR_ID: u8 = 9;
const MP_REACH_NLRI: u8 = 14;
const MP_UNREACH_NLRI: u8 = 15;
const EXTENDED_COMMUNITIES: u8 = 16;
const PMSI_TUNNEL: u8 = 22;
/// RFC 4271 section 4.3: attribute flag "Extended Length".
const FLAG_EXTENDED_LENGTH: u8 = 0x10;

fn read_vector(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("wire vector {path} is missing or unreadable: {err}"))
}

fn hex_decode(line: &str) -> Vec<u8> {
    assert!(line.len().is_multiple_of(2), "odd-length hex line: {line}");
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// One captured BGP message, with the `# msg` comment line that names its
/// direction (`SRC:PORT -> DST:PORT TYPE`).
struct Captured {
    index: usize,
    source: String,
    destination: String,
    bytes: Vec<u8>,
}

fn captured_messages() -> Vec<Captured> {
    let text = read_vector(MESSAGES);
    let mut out = Vec::new();
    let mut header: Option<(usize, String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# msg ") {
            // "# msg 6 t=+1.157s 198.19.0.3:49458 -> 198.19.0.4:179 UPDATE len=101"
            let words: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(words[3], "->", "unexpected header line {line}");
            header = Some((
                words[0].parse().expect("message index"),
                words[2].to_owned(),
                words[4].to_owned(),
            ));
        } else if line.starts_with('#') || line.trim().is_empty() {
            continue;
        } else {
            let (index, source, destination) = header.take().expect("hex line without header");
            out.push(Captured {
                index,
                source,
                destination,
                bytes: hex_decode(line.trim()),
            });
        }
    }
    assert!(out.len() > 200, "only {} messages read", out.len());
    out
}

/// What one UPDATE carried, as far as EVPN is concerned.
#[derive(Default)]
struct EvpnUpdate {
    next_hop: Option<IpAddr>,
    announced: Vec<EvpnRoute>,
    announced_raw: Vec<Vec<u8>>,
    withdrawn: Vec<EvpnRoute>,
    withdrawn_raw: Vec<Vec<u8>>,
    communities: Vec<ExtendedCommunity>,
    pmsi: Option<PmsiTunnel>,
    originator_id: Option<Ipv4Addr>,
    end_of_rib: bool,
}

fn re_encode_all(routes: &[EvpnRoute]) -> Vec<u8> {
    let mut out = BytesMut::new();
    routes.iter().for_each(|route| route.encode(&mut out));
    out.to_vec()
}

/// Checks every way of reading one NLRI field against each other and
/// against the wire bytes: typed decode, re-encode, zero-copy split, keys.
fn decode_nlri_field(field: &[u8], offset: usize) -> (Vec<EvpnRoute>, Vec<Vec<u8>>) {
    let routes = EvpnRoute::decode_all(field, offset).expect("EVPN NLRI decodes");
    assert_eq!(
        re_encode_all(&routes),
        field,
        "NLRI re-encodes byte-identically"
    );
    let split: Vec<&[u8]> = split_evpn_nlri(field)
        .collect::<Result<_, _>>()
        .expect("NLRI splits");
    assert_eq!(split.len(), routes.len());
    for (slice, route) in split.iter().zip(&routes) {
        assert_eq!(evpn_route_key(slice).unwrap(), route.key().unwrap());
    }
    (routes, split.iter().map(|s| s.to_vec()).collect())
}

/// Walks an UPDATE (RFC 4271 section 4.3) to its EVPN parts.
fn parse_update(message: &[u8]) -> EvpnUpdate {
    let mut r = Reader::new(message);
    r.bytes(16, "marker").unwrap();
    let length = r.u16("length").unwrap();
    assert_eq!(usize::from(length), message.len());
    assert_eq!(r.u8("type").unwrap(), 2);
    let withdrawn_len = r.u16("withdrawn routes length").unwrap();
    assert_eq!(withdrawn_len, 0, "FRR sends EVPN only in MP attributes");
    let attrs_len = r.u16("path attributes length").unwrap();
    let mut attrs = r.sub(usize::from(attrs_len), "path attributes").unwrap();
    assert!(r.is_empty(), "no IPv4 NLRI expected");

    let mut update = EvpnUpdate::default();
    while !attrs.is_empty() {
        let flags = attrs.u8("attribute flags").unwrap();
        let type_code = attrs.u8("attribute type").unwrap();
        let len = if flags & FLAG_EXTENDED_LENGTH != 0 {
            usize::from(attrs.u16("attribute length").unwrap())
        } else {
            usize::from(attrs.u8("attribute length").unwrap())
        };
        let value_offset = attrs.offset();
        let mut value = attrs.sub(len, "attribute value").unwrap();
        match type_code {
            MP_REACH_NLRI => {
                assert_eq!(value.u16("afi").unwrap(), 25);
                assert_eq!(value.u8("safi").unwrap(), 70);
                let nh_len = value.u8("next hop length").unwrap();
                assert_eq!(nh_len, 4, "FRR's EVPN next hop is an IPv4 address");
                update.next_hop = Some(IpAddr::from(value.array::<4>("next hop").unwrap()));
                assert_eq!(value.u8("reserved").unwrap(), 0);
                let offset = value.offset();
                (update.announced, update.announced_raw) = decode_nlri_field(value.rest(), offset);
            }
            MP_UNREACH_NLRI => {
                assert_eq!(value.u16("afi").unwrap(), 25);
                assert_eq!(value.u8("safi").unwrap(), 70);
                let offset = value.offset();
                let field = value.rest();
                update.end_of_rib = field.is_empty();
                (update.withdrawn, update.withdrawn_raw) = decode_nlri_field(field, offset);
            }
            EXTENDED_COMMUNITIES => {
                let bytes = value.rest();
                update.communities =
                    ExtendedCommunity::decode_all(bytes, value_offset).expect("communities");
                let mut out = BytesMut::new();
                update.communities.iter().for_each(|c| c.encode(&mut out));
                assert_eq!(&out[..], bytes, "communities re-encode byte-identically");
            }
            PMSI_TUNNEL => {
                let bytes = value.rest();
                let pmsi = PmsiTunnel::decode(bytes, value_offset).expect("PMSI decodes");
                let mut out = BytesMut::new();
                pmsi.encode(&mut out);
                assert_eq!(&out[..], bytes, "PMSI re-encodes byte-identically");
                update.pmsi = Some(pmsi);
            }
            ORIGINATOR_ID => {
                update.originator_id = Some(Ipv4Addr::from(value.array::<4>("id").unwrap()));
            }
            _ => {}
        }
    }
    update
}

/// A route as the reflector advertised it, with the attributes the JSON
/// also shows.
#[derive(Debug, Clone)]
struct Advertised {
    route: EvpnRoute,
    next_hop: IpAddr,
    communities: BTreeSet<String>,
    originator_id: Option<Ipv4Addr>,
    pmsi: Option<PmsiTunnel>,
}

type AdjRibOut = BTreeMap<EvpnRouteKey, Advertised>;

/// A route as FRR's `show bgp l2vpn evpn json` lists it: RD, prefix string
/// and the fields of its single path.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct FrrRoute {
    rd: String,
    prefix: String,
    route_type: u64,
    mac: Option<String>,
    ip: Option<String>,
    communities: BTreeSet<String>,
    next_hop: String,
    peer: String,
}

fn frr_routes() -> BTreeSet<FrrRoute> {
    let json: serde_json::Value =
        serde_json::from_str(&read_vector(RR_JSON)).expect("RR JSON parses");
    let mut out = BTreeSet::new();
    let top = json.as_object().expect("top-level object");
    for (rd, routes) in top {
        let Some(routes) = routes.as_object() else {
            continue; // bgpTableVersion, localAS, numPrefix, ...
        };
        assert_eq!(routes["rd"], rd.as_str());
        for (prefix, route) in routes.iter().filter(|(k, _)| *k != "rd") {
            let paths = route["paths"].as_array().expect("paths");
            assert_eq!(paths.len(), 1, "{rd} {prefix}: one path each");
            let path = &paths[0];
            let text = |key: &str| path.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            out.insert(FrrRoute {
                rd: rd.clone(),
                prefix: prefix.clone(),
                route_type: path["routeType"].as_u64().expect("routeType"),
                mac: text("mac"),
                ip: text("ip"),
                communities: path["extendedCommunity"]["string"]
                    .as_str()
                    .expect("communities")
                    .split(' ')
                    .map(str::to_owned)
                    .collect(),
                next_hop: path["nexthops"][0]["ip"]
                    .as_str()
                    .expect("nexthop")
                    .to_owned(),
                peer: text("peerId").expect("peerId"),
            });
        }
    }
    assert_eq!(
        out.len(),
        json["numPrefix"].as_u64().expect("numPrefix") as usize
    );
    out
}

/// The same view of what the reflector advertised.
fn as_frr_routes(rib: &AdjRibOut) -> BTreeSet<FrrRoute> {
    rib.values()
        .map(|adv| {
            let (mac, ip) = match &adv.route {
                EvpnRoute::MacIp(r) => (Some(r.mac.to_string()), r.ip.map(|ip| ip.to_string())),
                EvpnRoute::InclusiveMulticast(r) => (None, Some(r.originating_router.to_string())),
                EvpnRoute::Opaque { .. } => panic!("FRR sent only types 2 and 3"),
            };
            FrrRoute {
                rd: adv.route.rd().expect("RD").to_string(),
                prefix: adv.route.to_string(),
                route_type: u64::from(adv.route.route_type()),
                mac,
                ip,
                communities: adv.communities.clone(),
                next_hop: adv.next_hop.to_string(),
                peer: adv
                    .originator_id
                    .expect("reflected routes carry ORIGINATOR_ID")
                    .to_string(),
            }
        })
        .collect()
}

/// The VNI a route's RT names: FRR auto-derives RT AS:VNI (RFC 8365
/// section 5.1.2.1), so each label must equal it.
fn rt_vni(communities: &BTreeSet<String>) -> u32 {
    let rt = communities
        .iter()
        .find_map(|c| c.strip_prefix("RT:65000:"))
        .expect("an RT:65000:<vni> community");
    rt.parse().expect("numeric RT")
}

#[test]
fn every_frr_update_decodes_and_re_encodes_identically() {
    let mut counts = BTreeMap::<&str, usize>::new();
    for message in captured_messages() {
        if message.bytes.get(18) != Some(&2) {
            continue;
        }
        let update = parse_update(&message.bytes);
        *counts.entry("updates").or_default() += 1;
        for route in &update.announced {
            *counts
                .entry(match route {
                    EvpnRoute::MacIp(_) => "reach-type2",
                    EvpnRoute::InclusiveMulticast(_) => "reach-type3",
                    EvpnRoute::Opaque { .. } => "reach-opaque",
                })
                .or_default() += 1;
        }
        for route in &update.withdrawn {
            *counts
                .entry(match route {
                    EvpnRoute::MacIp(r) => {
                        assert_eq!(
                            r.label1, 0,
                            "msg {}: FRR withdraws type-2 with label 0",
                            message.index
                        );
                        "withdraw-type2"
                    }
                    EvpnRoute::InclusiveMulticast(_) => "withdraw-type3",
                    EvpnRoute::Opaque { .. } => "withdraw-opaque",
                })
                .or_default() += 1;
        }
        if update.end_of_rib {
            *counts.entry("end-of-rib").or_default() += 1;
        }
    }
    // The totals the capture's own summary line states.
    assert_eq!(counts.get("updates"), Some(&86));
    assert_eq!(counts.get("reach-type2"), Some(&48));
    assert_eq!(counts.get("reach-type3"), Some(&36));
    assert_eq!(counts.get("withdraw-type2"), Some(&16));
    assert_eq!(counts.get("withdraw-type3"), Some(&20));
    assert_eq!(counts.get("reach-opaque"), None);
    assert!(counts.get("end-of-rib").is_some_and(|n| *n >= 6));
}

#[test]
fn vni_fills_the_whole_label_in_type2_and_pmsi() {
    let messages = captured_messages();
    let mut checked = 0;
    for message in &messages {
        if message.bytes.get(18) != Some(&2) {
            continue;
        }
        let update = parse_update(&message.bytes);
        let communities: BTreeSet<String> =
            update.communities.iter().map(ToString::to_string).collect();
        for (route, raw) in update.announced.iter().zip(&update.announced_raw) {
            let vni = rt_vni(&communities);
            match route {
                EvpnRoute::MacIp(r) => {
                    assert_eq!(r.vni(), vni, "msg {}: type-2 label", message.index);
                    assert_eq!(r.label2, None);
                    if vni == 10 {
                        // The label octets on the wire are 00 00 0a.
                        assert_eq!(&raw[raw.len() - 3..], [0x00, 0x00, 0x0a]);
                    }
                }
                EvpnRoute::InclusiveMulticast(r) => {
                    let pmsi = update.pmsi.as_ref().expect("type 3 carries PMSI");
                    assert_eq!(pmsi.vni(), vni, "msg {}: PMSI label", message.index);
                    assert_eq!(
                        pmsi.tunnel,
                        PmsiTunnelId::IngressReplication {
                            endpoint: r.originating_router
                        }
                    );
                }
                EvpnRoute::Opaque { .. } => unreachable!(),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 48 + 36);
}

#[test]
fn routes_reflected_by_rr_add_up_to_frrs_own_table() {
    let expected = frr_routes();
    assert_eq!(expected.len(), 18);

    // One Adj-RIB-Out per client connection the reflector sent on.
    let mut ribs: BTreeMap<String, AdjRibOut> = BTreeMap::new();
    // Each client's view just before the reflector's last withdrawal: the
    // JSON was taken then (lab-inside.sh dumps it before n3 withdraws).
    let mut before_withdrawals: BTreeMap<String, AdjRibOut> = BTreeMap::new();
    // (client, key) -> the VNI last announced under that key, across
    // withdrawals: FRR reuses an RD when a VNI is replaced (msg 6), so one
    // key must be able to change VNI and RT between updates.
    let mut last_vni: BTreeMap<(String, EvpnRouteKey), u32> = BTreeMap::new();
    let mut vni_changes = 0;
    for message in captured_messages() {
        if message.bytes.get(18) != Some(&2) || !message.source.starts_with(RR_ADDRESS) {
            continue;
        }
        let update = parse_update(&message.bytes);
        let rib = ribs.entry(message.destination.clone()).or_default();
        if !update.withdrawn.is_empty() {
            before_withdrawals.insert(message.destination.clone(), rib.clone());
        }
        for raw in &update.withdrawn_raw {
            let key = evpn_route_key(raw).unwrap();
            assert!(
                rib.remove(&key).is_some(),
                "msg {}: withdraw of a route never announced",
                message.index
            );
        }
        let communities: BTreeSet<String> =
            update.communities.iter().map(ToString::to_string).collect();
        for (route, raw) in update.announced.iter().zip(&update.announced_raw) {
            let advertised = Advertised {
                route: route.clone(),
                next_hop: update.next_hop.expect("next hop"),
                communities: communities.clone(),
                originator_id: update.originator_id,
                pmsi: update.pmsi.clone(),
            };
            let key = evpn_route_key(raw).unwrap();
            let vni = rt_vni(&communities);
            if let Some(previous) = last_vni.insert((message.destination.clone(), key.clone()), vni)
                && previous != vni
            {
                vni_changes += 1;
            }
            rib.insert(key, advertised);
        }
    }
    assert_eq!(ribs.len(), 3, "the reflector had three clients");
    assert!(
        vni_changes > 0,
        "the transient VNI 0 routes come back under the same key as VNI 10/11"
    );

    for (client, rib) in &ribs {
        let before = before_withdrawals
            .get(client)
            .unwrap_or_else(|| panic!("{client} never received a withdrawal"));
        let before = as_frr_routes(before);
        assert_eq!(before, expected, "{client}: routes before n3's withdrawal");
        // At the end n3 (198.19.0.3) has withdrawn everything it had.
        let at_end = as_frr_routes(rib);
        let expected_at_end: BTreeSet<FrrRoute> = expected
            .iter()
            .filter(|r| r.peer != "198.19.0.3")
            .cloned()
            .collect();
        assert_eq!(at_end.len(), 12);
        assert_eq!(at_end, expected_at_end, "{client}: routes at the end");
        for adv in rib.values() {
            let vni = rt_vni(&adv.communities);
            match &adv.route {
                EvpnRoute::MacIp(r) => assert_eq!(r.vni(), vni),
                EvpnRoute::InclusiveMulticast(_) => {
                    assert_eq!(adv.pmsi.as_ref().map(PmsiTunnel::vni), Some(vni))
                }
                EvpnRoute::Opaque { .. } => unreachable!(),
            }
            assert!(adv.communities.contains("ET:8"), "VXLAN encapsulation");
        }
    }
}
