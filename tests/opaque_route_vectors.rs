//! EVPN route types 1, 4 and 5 as GoBGP 3.10 and ExaBGP 4.2 sent them
//! (proto-tests/vectors/, made by proto-tests/capture-vectors.sh): the fields
//! evpnd reads from their opaque values (RFC 7432 sections 7.1 and 7.4, RFC
//! 9136 section 3.1) are those GoBGP says the routes hold, and `show routes`
//! rows carry them with FRR's prefix strings.

use evpnd::api::render::route_prefix;
use evpnd::daemon::show::{RouteFilter, route_rows};
use evpnd_core::rib::attrs::{AttrSet, PathSummary};
use evpnd_core::rib::engine::RibPath;
use evpnd_core::rib::loc_rib::Path;
use evpnd_core::rib::peer::PeerIdx;
use evpnd_wire::evpn::{EvpnRoute, evpn_route_key};
use evpnd_wire::message::{DecodeOptions, Message};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

fn read(speaker: &str, file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("proto-tests/vectors")
        .join(speaker)
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("vector file missing at {}: {e}", path.display()))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digit"))
        .collect()
}

fn opts() -> DecodeOptions {
    DecodeOptions {
        four_octet_as: true,
        ..DecodeOptions::default()
    }
}

/// One announced route of type 1, 4 or 5 with the path attributes it came
/// with (MP_REACH_NLRI left out, as the RIB stores them) and its next hop.
struct Announced {
    route: EvpnRoute,
    nlri: Vec<u8>,
    attributes: Vec<u8>,
    next_hop: Vec<u8>,
}

fn announced(speaker: &str) -> Vec<Announced> {
    let mut out = Vec::new();
    for line in read(speaker, "messages.txt").lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Ok(Message::Update(update)) = Message::decode(&hex(line), &opts()) else {
            continue;
        };
        let Some(reach) = update.mp_reach() else {
            continue;
        };
        let mut attributes = bytes::BytesMut::new();
        for attr in &update.attributes {
            if !matches!(attr.value.type_code(), 14 | 15) {
                attr.encode(&mut attributes, &opts());
            }
        }
        let routes = EvpnRoute::decode_all(&reach.nlri, 0).expect("NLRI decodes");
        for route in routes
            .into_iter()
            .filter(|r| [1, 4, 5].contains(&r.route_type()))
        {
            let mut nlri = bytes::BytesMut::new();
            route.encode(&mut nlri);
            out.push(Announced {
                route,
                nlri: nlri.to_vec(),
                attributes: attributes.to_vec(),
                next_hop: reach.next_hop.to_vec(),
            });
        }
    }
    out
}

/// (type, RD, ESI, Ethernet tag, originator IP or prefix, gateway, label).
type Fields = (u8, String, String, u32, String, String, Option<u32>);

/// GoBGP's ESI text (its `EthernetSegmentIdentifier.String()`, as in the
/// captures) as ten colon-separated octets (RFC 7432 section 5).
fn gobgp_esi(text: &str) -> String {
    let mut octets = [0u8; 10];
    if let Some(value) = text.strip_prefix("ESI_ARBITRARY | ") {
        for (i, byte) in value.split(':').enumerate() {
            octets[1 + i] = u8::from_str_radix(byte, 16).expect("hex octet");
        }
    } else if let Some(rest) = text.strip_prefix("ESI_LACP | system mac ") {
        // Type 1: system MAC (6 octets), port key (2), one zero octet.
        let (mac, key) = rest.split_once(", port key ").expect("LACP ESI");
        octets[0] = 1;
        for (i, byte) in mac.split(':').enumerate() {
            octets[1 + i] = u8::from_str_radix(byte, 16).expect("hex octet");
        }
        let key: u16 = key.parse().expect("port key");
        octets[7..9].copy_from_slice(&key.to_be_bytes());
    } else {
        assert_eq!(text, "single-homed", "ESI form not in the captures");
    }
    evpnd_wire::evpn::Esi(octets).to_string()
}

fn gobgp_fields(rib: &Value) -> BTreeSet<Fields> {
    rib.as_object()
        .expect("GoBGP's RIB dump")
        .values()
        .map(|paths| &paths[0]["nlri"])
        .filter(|nlri| [1, 4, 5].contains(&nlri["type"].as_u64().expect("type")))
        .map(|nlri| {
            let value = &nlri["value"];
            let text = |key: &str| value[key].as_str().unwrap_or_default().to_string();
            let route_type = nlri["type"].as_u64().expect("type") as u8;
            (
                route_type,
                format!(
                    "{}:{}",
                    value["rd"]["admin"].as_str().expect("rd admin"),
                    value["rd"]["assigned"]
                ),
                gobgp_esi(value["esi"].as_str().expect("esi")),
                value["etag"].as_u64().unwrap_or(0) as u32,
                if route_type == 4 {
                    text("ip")
                } else {
                    text("prefix")
                },
                text("gateway"),
                value["label"].as_u64().map(|l| l as u32),
            )
        })
        .collect()
}

fn decoded_fields(routes: &[Announced]) -> BTreeSet<Fields> {
    routes
        .iter()
        .map(|a| {
            let route = &a.route;
            let rd = route.rd().expect("RD").to_string();
            if let Some(r) = route.ethernet_ad() {
                let esi = r.esi.to_string();
                (
                    1,
                    rd,
                    esi,
                    r.ethernet_tag,
                    String::new(),
                    String::new(),
                    Some(r.vni()),
                )
            } else if let Some(r) = route.ethernet_segment() {
                let (esi, ip) = (r.esi.to_string(), r.originating_router.to_string());
                (4, rd, esi, 0, ip, String::new(), None)
            } else if let Some(r) = route.ip_prefix() {
                let (esi, gateway) = (r.esi.to_string(), r.gateway.to_string());
                (5, rd, esi, r.ethernet_tag, r.cidr(), gateway, Some(r.vni()))
            } else {
                panic!("type 1, 4 or 5 route without a view: {route:?}")
            }
        })
        .collect()
}

#[test]
fn gobgp_routes_hold_what_gobgp_said() {
    let said: Value = serde_json::from_str(&read("gobgp", "said.json")).expect("said.json");
    let from_gobgp = gobgp_fields(&said["after_announce"]["global rib -a evpn -j"]);
    assert_eq!(
        from_gobgp.len(),
        3,
        "GoBGP announced one route each of types 1, 4 and 5"
    );
    assert_eq!(decoded_fields(&announced("gobgp")), from_gobgp);
}

#[test]
fn exabgp_routes_hold_what_gobgp_received() {
    let received: Value =
        serde_json::from_str(&read("exabgp", "gobgp-received.json")).expect("gobgp-received.json");
    let from_gobgp =
        gobgp_fields(&received["after_announce"]["neighbor 198.18.0.2 adj-in -a evpn -j"]);
    // Two type 1 (per ES, per EVI), one type 4, type 5 IPv4 and IPv6.
    assert_eq!(from_gobgp.len(), 5);
    assert_eq!(decoded_fields(&announced("exabgp")), from_gobgp);
}

fn rows_of(routes: &[Announced]) -> Vec<evpnd::api::protocol::RouteRow> {
    let paths = routes
        .iter()
        .map(|a| RibPath {
            key: evpn_route_key(&a.nlri).expect("key"),
            path: Path {
                attrs: Arc::new(AttrSet {
                    source: PeerIdx(1),
                    encoded: a.attributes.clone().into(),
                    next_hop: a.next_hop.clone().into(),
                    summary: PathSummary::default(),
                    reflected: OnceLock::new(),
                    external: OnceLock::new(),
                    route_targets: OnceLock::new(),
                }),
                nlri: a.nlri.iter().copied().collect(),
            },
            best: true,
            from: None,
            stale: false,
        })
        .collect();
    route_rows(paths, &RouteFilter::default())
}

#[test]
fn show_rows_carry_the_fields_and_frr_prefix_strings() {
    let rows = rows_of(&announced("gobgp"));
    let prefixes: BTreeSet<String> = rows.iter().map(route_prefix).collect();
    // FRR 8.4's keys for the same routes (proto-tests/vectors/gobgp/frr-received.json).
    let frr: Value =
        serde_json::from_str(&read("gobgp", "frr-received.json")).expect("frr-received.json");
    let from_frr: BTreeSet<String> = frr
        .as_object()
        .expect("RD table")
        .values()
        .filter_map(Value::as_object)
        .flat_map(|table| table.keys().cloned())
        .filter(|key| key.starts_with("[1]") || key.starts_with("[4]") || key.starts_with("[5]"))
        .collect();
    assert_eq!(prefixes, from_frr);

    let exabgp = rows_of(&announced("exabgp"));
    let v4 = exabgp
        .iter()
        .find(|r| r.prefix.as_deref() == Some("198.18.21.0/24"))
        .expect("IPv4 type 5");
    assert_eq!(v4.gateway_ip, Some("198.18.21.1".parse().unwrap()));
    assert_eq!(
        (v4.labels.as_slice(), v4.rd.as_str()),
        (&[100][..], "198.18.0.2:100")
    );
    assert_eq!(v4.route_targets, vec!["65000:100".to_string()]);
    assert_eq!(route_prefix(v4), "[5]:[0]:[24]:[198.18.21.0]");
    let v6 = exabgp
        .iter()
        .find(|r| r.prefix.as_deref() == Some("2001:db8:21::/64"))
        .expect("IPv6 type 5");
    assert_eq!(v6.gateway_ip, None, "an all-zero gateway is no gateway");
    assert_eq!(route_prefix(v6), "[5]:[0]:[64]:[2001:db8:21::]");
    let per_es = exabgp
        .iter()
        .find(|r| r.route_type == 1 && r.ethernet_tag == u32::MAX)
        .expect("per-ES type 1");
    assert_eq!(per_es.esi.as_deref(), Some("00:11:22:33:44:55:66:77:88:99"));
    assert_eq!(per_es.labels, vec![0]);
    let es = exabgp.iter().find(|r| r.route_type == 4).expect("type 4");
    assert_eq!(es.originator_ip, Some("198.18.0.2".parse().unwrap()));
    assert_eq!((es.ip, es.prefix.as_deref()), (None, None));

    let json = serde_json::to_value(v4).unwrap();
    assert_eq!(json["prefix"], "198.18.21.0/24");
    assert_eq!(json["gateway_ip"], "198.18.21.1");
    assert_eq!(json["esi"], "00:00:00:00:00:00:00:00:00:00");
    if let Ok(path) = std::env::var("EVPND_WRITE_OPAQUE_ROWS") {
        // Regenerates proto-tests/lib/evpn-routes-samples/evpnd-opaque.json.
        let all: Vec<_> = rows_of(&announced("gobgp"))
            .into_iter()
            .chain(exabgp)
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&all).unwrap()).unwrap();
    }
}
