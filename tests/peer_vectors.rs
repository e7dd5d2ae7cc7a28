//! Wire vectors from GoBGP 3.10 and ExaBGP 4.2 (proto-tests/vectors/, made by
//! proto-tests/capture-vectors.sh): every message decodes and re-encodes
//! byte-identically, the EVPN routes decode typed (types 1, 4 and 5 kept as
//! opaque values), the per-type counts match the capture's own totals, and
//! what GoBGP said it announced is what we decode from its UPDATEs.

use evpnd_wire::evpn::EvpnRoute;
use evpnd_wire::message::{DecodeOptions, Message};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn vectors_dir(speaker: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("proto-tests/vectors")
        .join(speaker)
}

fn read(speaker: &str, file: &str) -> String {
    let path = vectors_dir(speaker).join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("vector file missing at {}: {e}", path.display()))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digit"))
        .collect()
}

/// The hex lines of messages.txt and its "# evpn nlri:" totals line.
fn messages(speaker: &str) -> (Vec<Vec<u8>>, BTreeMap<String, usize>) {
    let text = read(speaker, "messages.txt");
    let mut totals = BTreeMap::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(list) = line.strip_prefix("# evpn nlri:") {
            for item in list.split(',') {
                let (name, n) = item.trim().split_once('=').expect("name=count");
                totals.insert(name.to_string(), n.parse().expect("count"));
            }
        } else if !line.is_empty() && !line.starts_with('#') {
            out.push(hex(line));
        }
    }
    assert!(
        !out.is_empty() && !totals.is_empty(),
        "{speaker}: no vectors"
    );
    (out, totals)
}

/// Both speakers announced the 4-octet AS capability; no extended message,
/// no ADD-PATH.
fn opts() -> DecodeOptions {
    DecodeOptions {
        four_octet_as: true,
        ..DecodeOptions::default()
    }
}

/// Decodes every message, checks it re-encodes identically, and counts EVPN
/// NLRI per direction and route type ("reach-type2", "withdraw-type3").
fn decode_and_count(speaker: &str) -> (BTreeMap<String, usize>, Vec<EvpnRoute>) {
    let (wire, _) = messages(speaker);
    let mut counts = BTreeMap::new();
    let mut announced = Vec::new();
    for (i, bytes) in wire.iter().enumerate() {
        let message = Message::decode(bytes, &opts())
            .unwrap_or_else(|e| panic!("{speaker} message {i}: {e}"));
        let again = message.to_bytes(&opts()).expect("encodes");
        assert_eq!(
            &again[..],
            &bytes[..],
            "{speaker} message {i} re-encoded differently"
        );
        let Message::Update(update) = message else {
            continue;
        };
        let fields = [
            ("reach", update.mp_reach().map(|m| m.nlri.clone())),
            ("withdraw", update.mp_unreach().map(|m| m.withdrawn.clone())),
        ];
        for (direction, field) in fields {
            let Some(field) = field else { continue };
            let routes = EvpnRoute::decode_all(&field, 0)
                .unwrap_or_else(|e| panic!("{speaker} message {i} NLRI: {e}"));
            for route in routes {
                *counts
                    .entry(format!("{direction}-type{}", route.route_type()))
                    .or_insert(0) += 1;
                if direction == "reach" {
                    announced.push(route);
                }
            }
        }
    }
    (counts, announced)
}

#[test]
fn gobgp_messages_round_trip_and_match_the_capture_totals() {
    let (_, totals) = messages("gobgp");
    let (counts, _) = decode_and_count("gobgp");
    assert_eq!(counts, totals);
}

#[test]
fn exabgp_messages_round_trip_and_match_the_capture_totals() {
    let (_, totals) = messages("exabgp");
    let (counts, _) = decode_and_count("exabgp");
    assert_eq!(counts, totals);
}

/// GoBGP's `global rib -a evpn -j` after the announcements, as (type, RD,
/// MAC) per route, equals what we decode from the UPDATEs it sent.
#[test]
fn gobgp_said_what_we_decode() {
    let said: Value = serde_json::from_str(&read("gobgp", "said.json")).expect("said.json");
    let rib = said["after_announce"]["global rib -a evpn -j"]
        .as_object()
        .expect("GoBGP's RIB dump");
    let from_gobgp: BTreeSet<(u8, String, Option<String>)> = rib
        .values()
        .map(|paths| {
            let nlri = &paths[0]["nlri"];
            let rd = &nlri["value"]["rd"];
            (
                nlri["type"].as_u64().expect("type") as u8,
                format!(
                    "{}:{}",
                    rd["admin"].as_str().unwrap_or_default(),
                    rd["assigned"]
                ),
                nlri["value"]["mac"].as_str().map(str::to_string),
            )
        })
        .collect();
    let (_, announced) = decode_and_count("gobgp");
    let decoded: BTreeSet<(u8, String, Option<String>)> = announced
        .iter()
        .map(|route| {
            let mac = match route {
                EvpnRoute::MacIp(r) => Some(r.mac.to_string()),
                _ => None,
            };
            (
                route.route_type(),
                route.rd().map(|rd| rd.to_string()).unwrap_or_default(),
                mac,
            )
        })
        .collect();
    assert_eq!(from_gobgp.len(), 10, "GoBGP announced ten routes");
    assert!(
        from_gobgp.is_subset(&decoded),
        "GoBGP's RIB has routes we did not decode: {:?}",
        from_gobgp.difference(&decoded).collect::<Vec<_>>()
    );
}

/// ExaBGP's unusual but valid attributes survive: MAC mobility with a
/// sequence, sticky, default gateway (RFC 7432 7.7, 7.8).
#[test]
fn exabgp_mac_mobility_sticky_and_default_gateway_decode() {
    let (wire, _) = messages("exabgp");
    let mut sequences = BTreeSet::new();
    let mut sticky = false;
    let mut default_gateway = false;
    for bytes in &wire {
        let Ok(Message::Update(update)) = Message::decode(bytes, &opts()) else {
            continue;
        };
        for c in update.extended_communities().unwrap_or_default() {
            if let evpnd_wire::extcomm::ExtendedCommunity::MacMobility(m) = c {
                sequences.insert(m.sequence);
                sticky |= m.sticky();
            }
            default_gateway |= c.is_default_gateway();
        }
    }
    assert!(
        sequences.iter().any(|s| *s > 0),
        "a MAC mobility sequence: {sequences:?}"
    );
    assert!(sticky, "a sticky MAC");
    assert!(default_gateway, "a default-gateway community");
}
