//! Wire vectors: every BGP message FRR 8.4.4 sent in the lab capture
//! (proto-tests/vectors/frr/bgp-evpn-messages.txt) decodes and re-encodes
//! byte-identically, and what the capture shows is what we decode.

use evpnd_core::session::{Backoff, FsmConfig, check_open};
use evpnd_wire::Family;
use evpnd_wire::attribute::{AttrFlags, type_code};
use evpnd_wire::capability::Capability;
use evpnd_wire::message::{DecodeOptions, Message};
use evpnd_wire::open::Open;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// One captured message: its "# msg ..." description (with the decode
/// lines under it) and its bytes.
struct Vector {
    description: String,
    bytes: Vec<u8>,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex line: {s}");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digit"))
        .collect()
}

fn vectors() -> Vec<Vector> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("proto-tests/vectors/frr/bgp-evpn-messages.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("wire vectors missing at {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut description = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(d) = line.strip_prefix("# msg ") {
            description = d.to_string();
        } else if let Some(d) = line.strip_prefix('#') {
            // The decode lines under "# msg" (next hop, routes, attributes).
            description.push('\n');
            description.push_str(d.trim());
        } else if !line.is_empty() {
            out.push(Vector {
                description: description.clone(),
                bytes: hex(line),
            });
        }
    }
    assert!(
        out.len() > 200,
        "only {} vectors in {}",
        out.len(),
        path.display()
    );
    out
}

/// What the FRR sessions negotiated: 4-octet AS, no extended message, no
/// ADD-PATH in use (FRR announced receive only).
fn opts() -> DecodeOptions {
    DecodeOptions {
        four_octet_as: true,
        ..DecodeOptions::default()
    }
}

fn decode_all() -> Vec<(Vector, Message)> {
    vectors()
        .into_iter()
        .map(|v| {
            let m = Message::decode(&v.bytes, &opts())
                .unwrap_or_else(|e| panic!("msg {}: {e}", v.description));
            (v, m)
        })
        .collect()
}

#[test]
fn every_message_round_trips_byte_identically() {
    let mut counts = [0usize; 6];
    for (v, m) in decode_all() {
        let wire = m.to_bytes(&opts()).expect("encodes");
        assert_eq!(&wire[..], &v.bytes[..], "msg {}", v.description);
        counts[m.message_type() as usize] += 1;
    }
    // The file's own totals line: OPEN=8, UPDATE=86, KEEPALIVE=156.
    assert_eq!(counts[1..5], [8, 86, 0, 156]);
}

/// An evpnd in the lab these OPENs were captured in, with a BGP identifier
/// none of the captured speakers has (RFC 6286: iBGP identifiers differ).
fn evpnd_side() -> FsmConfig {
    let backoff = Backoff {
        base: std::time::Duration::from_secs(1),
        cap: std::time::Duration::from_secs(60),
    };
    FsmConfig {
        local_open: Open::new(
            65000,
            9,
            Ipv4Addr::new(198, 19, 0, 99),
            vec![
                Capability::Multiprotocol(Family::L2VPN_EVPN),
                Capability::RouteRefresh,
                Capability::FourOctetAs(65000),
            ],
        ),
        peer_asn: 65000,
        keepalive: 3,
        passive: false,
        connect_backoff: backoff,
        idle_backoff: backoff,
        stable_after: std::time::Duration::from_secs(60),
    }
}

#[test]
fn opens_announce_as_65000_by_capability_hold_9_and_evpn() {
    let opens: Vec<_> = decode_all()
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Open(o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(opens.len(), 8);
    for o in opens {
        assert_eq!(o.four_octet_as(), Some(65000));
        assert_eq!(o.asn(), 65000);
        assert_eq!(o.hold_time, 9);
        assert_eq!(o.families(), [Family::L2VPN_EVPN]);
        assert!(o.route_refresh() && o.enhanced_route_refresh());
        assert_eq!(o.graceful_restart().map(|gr| gr.restart_time), Some(120));
        // evpnd's side of these sessions (AS 65000, iBGP, EVPN) accepts
        // each OPEN with every RFC 4271 6.2 check.
        let session = check_open(&o, &evpnd_side()).expect("FRR's OPEN is acceptable");
        assert_eq!(session.families, [Family::L2VPN_EVPN]);
        let id = o.bgp_identifier.octets();
        assert_eq!(id[..3], [198, 19, 0]);
    }
}

#[test]
fn end_of_rib_detected_and_its_mp_unreach_lacks_extended_length() {
    let mut eors = 0;
    for (v, m) in decode_all() {
        let Message::Update(u) = m else { continue };
        let described = v.description.contains("len=29");
        match u.is_end_of_rib() {
            Some(family) => {
                eors += 1;
                assert!(described, "msg {}", v.description);
                assert_eq!(family, Family::L2VPN_EVPN);
                assert!(!u.attributes[0].flags.extended_length());
                assert_eq!(u.attributes[0].flags, AttrFlags(0x80));
            }
            None => assert!(!described, "msg {} not End-of-RIB", v.description),
        }
    }
    assert_eq!(eors, 6);
}

#[test]
fn mp_attributes_carrying_nlri_use_extended_length_first() {
    let mut reach = 0;
    for (v, m) in decode_all() {
        let Message::Update(u) = m else { continue };
        if u.is_end_of_rib().is_some() {
            continue;
        }
        // FRR puts MP_REACH / MP_UNREACH first, with Extended Length.
        let first = &u.attributes[0];
        assert!(
            matches!(
                first.type_code(),
                type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI
            ),
            "msg {}",
            v.description
        );
        assert!(first.flags.extended_length(), "msg {}", v.description);
        if let Some(mp) = u.mp_reach() {
            reach += 1;
            assert_eq!(mp.family, Family::L2VPN_EVPN);
            let nh = mp.next_hop_addr().expect("IPv4 next hop");
            assert!(v.description.contains(&format!("nexthop {nh}")));
        }
    }
    assert!(reach > 50, "{reach} announcements");
}

#[test]
fn reflected_routes_carry_originator_id_and_cluster_list() {
    let rr = Ipv4Addr::new(198, 19, 0, 4);
    let mut reflected = 0;
    for (v, m) in decode_all() {
        let Message::Update(u) = m else { continue };
        let Some(mp) = u.mp_reach() else { continue };
        let from_rr = v.description.contains("198.19.0.4:179 ->");
        if from_rr {
            reflected += 1;
            // RFC 4456 section 8: ORIGINATOR_ID = the client that sent it
            // (its next hop, here), CLUSTER_LIST = the reflector's cluster.
            let originator = u.originator_id().expect("ORIGINATOR_ID");
            assert_eq!(Some(std::net::IpAddr::V4(originator)), mp.next_hop_addr());
            assert_eq!(u.cluster_list(), Some(&[rr][..]));
            assert_eq!(u.multi_exit_disc(), Some(0));
        } else {
            assert_eq!(u.originator_id(), None, "msg {}", v.description);
            assert_eq!(u.cluster_list(), None);
        }
        assert_eq!(u.local_pref(), Some(100));
        assert!(u.as_path().is_some_and(|p| p.segments.is_empty()));
    }
    assert!(reflected > 10, "{reflected} reflected");
}

#[test]
fn vectors_message_8_attributes_in_order() {
    let (_, m) = decode_all()
        .into_iter()
        .find(|(v, _)| v.description.starts_with("8 "))
        .expect("msg 8");
    let Message::Update(u) = m else {
        panic!("msg 8 is not an UPDATE")
    };
    let shown: Vec<String> = u.attributes.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        shown[0],
        "MP_REACH_NLRI l2vpn-evpn nexthop 198.19.0.3 (19 octets of NLRI)"
    );
    assert_eq!(
        shown[1..5],
        ["ORIGIN IGP", "AS_PATH ", "MED 0", "LOCAL_PREF 100"]
    );
    assert_eq!(shown[5], "ORIGINATOR_ID 198.19.0.3");
    assert_eq!(shown[6], "CLUSTER_LIST 198.19.0.4");
    assert!(u.extended_communities().is_some_and(|c| c.len() == 2));
    assert_eq!(u.pmsi_tunnel().map(|p| p.vni()), Some(0));
}
