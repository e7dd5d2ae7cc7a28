//! `evpnd decode` as a user runs it: the binary on the captured vectors
//! (FRR, GoBGP and ExaBGP captures in proto-tests/vectors),
//! hex on the command line, message files, and broken input.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FRR_PCAP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proto-tests/vectors/frr/bgp-evpn.pcap"
);
const FRR_MESSAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proto-tests/vectors/frr/bgp-evpn-messages.txt"
);
const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/proto-tests/vectors");

const KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff001304";

fn evpnd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evpnd"))
        .args(args)
        .output()
        .expect("run evpnd")
}

fn evpnd_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evpnd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run evpnd");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait for evpnd")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

/// A vector file, or a loud failure naming it.
fn vector(path: &str) -> String {
    assert!(
        Path::new(path).is_file(),
        "test vector {path} is missing (see proto-tests/vectors/README.md)"
    );
    std::fs::read_to_string(path).expect("read vector")
}

/// The messages' hex lines as the bytes a raw capture file holds, back to back.
fn messages_as_raw_bytes(hex_lines: &[String]) -> Vec<u8> {
    hex_lines
        .concat()
        .as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// The hex lines of a messages.txt, in order.
fn hex_lines(messages_txt: &str) -> Vec<String> {
    messages_txt
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .collect()
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// Decodes `pcap` as JSON and checks it yields exactly the messages of
/// `messages_txt`, byte for byte and in order, all decoded.
fn decode_pcap_like_messages_txt(pcap: &str, messages_txt: &str) -> Vec<Value> {
    let expected = hex_lines(&vector(messages_txt));
    assert!(Path::new(pcap).is_file(), "test vector {pcap} is missing");
    let out = evpnd(&["decode", "--pcap", pcap, "--json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let messages = json_lines(&out);
    assert_eq!(messages.len(), expected.len(), "message count of {pcap}");
    for (i, (m, hex)) in messages.iter().zip(&expected).enumerate() {
        assert_eq!(m["index"], i);
        assert_eq!(m["hex"].as_str(), Some(hex.as_str()), "message {i}");
        assert_eq!(m["ok"], true, "message {i}: {m}");
    }
    messages
}

/// `# evpn nlri: reach-type1=2, ...` of a messages.txt, against the typed
/// routes the decoder found.
fn check_route_totals(messages: &[Value], messages_txt: &str) {
    let text = vector(messages_txt);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# evpn nlri: "))
        .expect("totals line");
    let expected: BTreeMap<String, u64> = line
        .split(", ")
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (k.to_owned(), v.parse().expect("count"))
        })
        .collect();
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    for m in messages {
        for (field, kind) in [("mp_reach", "reach"), ("mp_unreach", "withdraw")] {
            for route in m[field]["routes"].as_array().into_iter().flatten() {
                let t = route["route_type"].as_u64().expect("typed EVPN route");
                *found.entry(format!("{kind}-type{t}")).or_default() += 1;
            }
        }
    }
    assert_eq!(found, expected, "{messages_txt}");
}

#[test]
fn frr_capture_decodes_every_message_of_the_split_file() {
    let messages = decode_pcap_like_messages_txt(FRR_PCAP, FRR_MESSAGES);

    // msg 6: n3's type-3 for VNI 10's RD, with PMSI ingress replication.
    let m6 = &messages[6];
    assert_eq!(m6["type"], "UPDATE");
    assert_eq!(m6["src"], "198.19.0.3:49458");
    assert_eq!(m6["dst"], "198.19.0.4:179");
    assert_eq!(m6["mp_reach"]["next_hop"], "198.19.0.3");
    let route = &m6["mp_reach"]["routes"][0];
    assert_eq!(route["route"], "inclusive-multicast");
    assert_eq!(route["rd"], "198.19.0.3:2");
    assert_eq!(route["originating_router"], "198.19.0.3");
    let pmsi = m6["message"]["Update"]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|a| a["value"].get("PmsiTunnel"))
        .expect("PMSI tunnel attribute");
    assert_eq!(pmsi["tunnel"]["type"], "ingress-replication");
    assert_eq!(pmsi["tunnel"]["endpoint"], "198.19.0.3");

    // msg 7: End-of-RIB; msg 6 is not one.
    assert_eq!(messages[7]["end_of_rib"], "l2vpn-evpn");
    assert_eq!(m6["end_of_rib"], Value::Null);
    let eor_count = messages
        .iter()
        .filter(|m| m["end_of_rib"] == "l2vpn-evpn")
        .count();
    assert_eq!(eor_count, 6, "one End-of-RIB per session direction");

    // Times grow from the first packet.
    let t6 = m6["time"].as_f64().unwrap();
    assert!((1.0..2.0).contains(&t6), "{t6}");

    // Withdrawn type-2 routes carry a zero label (README "facts").
    let withdrawn_labels: Vec<u64> = messages
        .iter()
        .flat_map(|m| {
            m["mp_unreach"]["routes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|r| r["route"] == "mac-ip")
        .map(|r| r["label1"].as_u64().unwrap())
        .collect();
    assert!(!withdrawn_labels.is_empty());
    assert!(withdrawn_labels.iter().all(|l| *l == 0));
}

#[test]
fn frr_capture_human_form() {
    let out = evpnd(&["decode", "--pcap", FRR_PCAP]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let headers = text.lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(headers, hex_lines(&vector(FRR_MESSAGES)).len());
    let block: Vec<&str> = text
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("#6 "))
        .take(4)
        .map(str::trim_end)
        .collect();
    assert!(
        block[0].ends_with("198.19.0.3:49458 -> 198.19.0.4:179 UPDATE len=101"),
        "{block:?}"
    );
    assert_eq!(
        block[1],
        "  MP_REACH_NLRI afi 25 safi 70 nexthop 198.19.0.3"
    );
    assert_eq!(block[2], "    + [3] RD 198.19.0.3:2 ET 0 orig 198.19.0.3");
    assert!(block[3].starts_with("  attrs: ORIGIN IGP; AS_PATH (empty); LOCAL_PREF 100;"));
    assert!(text.contains(
        "+ [2] RD 198.19.0.1:2 ESI 0 ET 0 MAC 02:0a:00:00:00:01 IP 198.18.10.1 label 10\n"
    ));
    assert!(text.contains("UPDATE len=29 End-of-RIB l2vpn-evpn\n"));
}

#[test]
fn gobgp_capture_decodes_every_message_and_route_type() {
    let txt = format!("{VECTORS}/gobgp/messages.txt");
    let messages = decode_pcap_like_messages_txt(&format!("{VECTORS}/gobgp/capture.pcap"), &txt);
    check_route_totals(&messages, &txt);
}

#[test]
fn exabgp_capture_decodes_every_message_and_route_type() {
    let txt = format!("{VECTORS}/exabgp/messages.txt");
    let messages = decode_pcap_like_messages_txt(&format!("{VECTORS}/exabgp/capture.pcap"), &txt);
    check_route_totals(&messages, &txt);
    // ExaBGP's type-2 with two labels: L2 VNI 10, L3 VNI 100.
    let two_labels = messages
        .iter()
        .flat_map(|m| {
            m["mp_reach"]["routes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|r| r["label2"].is_number())
        .expect("a type-2 with label2");
    assert_eq!(two_labels["vni"], 10);
    assert_eq!(two_labels["label2"], 100);
}

#[test]
fn messages_text_file_and_raw_stdin_decode_alike() {
    let expected = hex_lines(&vector(FRR_MESSAGES));
    let from_text = evpnd(&["decode", "--file", FRR_MESSAGES, "--json"]);
    assert_eq!(from_text.status.code(), Some(0), "{}", stderr(&from_text));
    let from_text = json_lines(&from_text);
    assert_eq!(from_text.len(), expected.len());

    let raw = messages_as_raw_bytes(&expected);
    let from_stdin = evpnd_stdin(&["decode", "--file", "-", "--json"], &raw);
    assert_eq!(from_stdin.status.code(), Some(0), "{}", stderr(&from_stdin));
    let from_stdin = json_lines(&from_stdin);
    assert_eq!(from_stdin, from_text);
    assert_eq!(from_text[6]["mp_reach"]["routes"][0]["rd"], "198.19.0.3:2");
    assert!(
        from_text[6].get("src").is_none(),
        "no addresses without a capture"
    );
}

#[test]
fn hex_on_the_command_line() {
    let out = evpnd(&["decode", KEEPALIVE]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "#0 KEEPALIVE len=19\n");

    // Several messages, split and separated as people paste them; the
    // second is FRR's End-of-RIB.
    let out = evpnd(&[
        "decode",
        "ffffffff:ffffffff:ffffffff:ffffffff 0013 04",
        "ffffffffffffffffffffffffffffffff001d0200000006800f03001946",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "#0 KEEPALIVE len=19\n#1 UPDATE len=29 End-of-RIB l2vpn-evpn\n  MP_UNREACH_NLRI afi 25 safi 70 (End-of-RIB)\n"
    );

    // Without the marker.
    let out = evpnd(&["decode", "001304"]);
    assert_eq!(stdout(&out), "#0 KEEPALIVE len=19\n");
}

#[test]
fn two_octet_as_flag_changes_the_as_path_reading() {
    // ORIGIN IGP and an AS_SEQUENCE of two 2-octet ASes, 65001 65002.
    let update = "ffffffffffffffffffffffffffffffff0024020000000d40010100400206 0202fde9fdea";
    let two = evpnd(&["decode", "--two-octet-as", update]);
    assert_eq!(two.status.code(), Some(0), "{}", stdout(&two));
    assert!(
        stdout(&two).contains("attrs: ORIGIN IGP; AS_PATH 65001 65002"),
        "{}",
        stdout(&two)
    );
    // Read as 4-octet ASes the segment is 4 octets short.
    let four = evpnd(&["decode", update]);
    assert_eq!(four.status.code(), Some(1), "{}", stdout(&four));
    assert!(
        stdout(&four).contains("error: UPDATE: attribute 2 malformed"),
        "{}",
        stdout(&four)
    );
}

#[test]
fn garbage_exits_1_naming_the_field_and_goes_on() {
    // FRR's MAC+IP UPDATE with the MAC length octet changed to 47.
    let bad = "ffffffffffffffffffffffffffffffff006d0200000056900e003000194604c61300010002250001c6130001000200000000000000000000000000002f020a0000000120c6120a0100000a400101005002000040050400000064c01010030c0000000000080002fde80000000a";
    let out = evpnd(&["decode", bad, KEEPALIVE]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("error: UPDATE: attribute 14 malformed: type-2 MAC address length at byte 60: invalid value 47"),
        "{text}"
    );
    assert!(text.contains("action: session-reset (UPDATE Message Error/Optional Attribute Error"));
    assert!(
        text.contains("#1 KEEPALIVE len=19"),
        "decoding went on: {text}"
    );

    let json = evpnd(&["decode", "--json", bad]);
    let v = &json_lines(&json)[0];
    assert_eq!(v["ok"], false);
    assert!(
        v["errors"][0]
            .as_str()
            .unwrap()
            .contains("type-2 MAC address length")
    );

    // Not a BGP header at all, then a good message after it.
    let out = evpnd(&["decode", &format!("00112233{KEEPALIVE}")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("error: message header at stream offset 0: marker is not all ones"),
        "{text}"
    );
    assert!(text.contains("#0 KEEPALIVE len=19"), "{text}");

    // Too short for a header.
    let out = evpnd(&["decode", "ffff"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("input ends inside a message at stream offset 0: 2 of 19 octets")
    );
}

#[test]
fn unreadable_input_exits_2_naming_it() {
    let out = evpnd(&["decode", "not-hex"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("command line: not hex"),
        "{}",
        stderr(&out)
    );

    let out = evpnd(&["decode", "--pcap", "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/capture.pcap"));

    let out = evpnd(&["decode", "--pcap", FRR_MESSAGES]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a pcap or pcapng capture"),
        "{}",
        stderr(&out)
    );

    let out = evpnd(&["decode"]);
    assert_eq!(out.status.code(), Some(2));
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("evpnd-decode-{}-{name}", std::process::id()))
}

#[test]
fn truncated_capture_prints_what_it_can_then_exits_2() {
    let mut bytes = std::fs::read(FRR_PCAP).expect("FRR capture vector is missing");
    bytes.truncate(bytes.len() / 2);
    let path = temp_path("truncated.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let out = evpnd(&["decode", "--pcap", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    assert!(err.contains("truncated capture: packet record"), "{err}");
    let decoded = stdout(&out).lines().filter(|l| l.starts_with('#')).count();
    assert!(
        decoded > 50,
        "messages before the cut are decoded: {decoded}"
    );
}

// ---------------------------------------------------------------------------
// Route types 1, 4 and 5 and the multihoming communities, field by field
// ---------------------------------------------------------------------------

/// The distinct type-1, type-4 and type-5 routes of a decode, in order of
/// first appearance, each as ("reach" or "withdraw", the route object, the
/// text of its UPDATE's EXT_COMM attribute without the name, or "").
fn type_1_4_5_routes(messages: &[Value]) -> Vec<(&'static str, Value, String)> {
    let mut routes: Vec<(&'static str, Value, String)> = Vec::new();
    for m in messages {
        let ext_comm = m["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|a| a.strip_prefix("EXT_COMM "))
            .unwrap_or("")
            .to_owned();
        for (side, field) in [("reach", "mp_reach"), ("withdraw", "mp_unreach")] {
            for route in m[field]["routes"].as_array().into_iter().flatten() {
                let item = (side, route.clone(), ext_comm.clone());
                if [1, 4, 5].contains(&route["route_type"].as_u64().unwrap_or(0))
                    && !routes.contains(&item)
                {
                    routes.push(item);
                }
            }
        }
    }
    routes
}

/// GoBGP 3.10's type-1, type-4 and type-5 routes (proto-tests/vectors/
/// gobgp: README "Routes", commands.txt, messages.txt msgs 19-24, 31, 32),
/// every field printed typed: RD, ESI (LACP: type 01, system MAC
/// 02:ee:00:00:00:01, port key 7), Ethernet tag, label (= VNI), originating
/// router, prefix and its length, gateway (0.0.0.0: none), and the ESI
/// label (`esi-label 100`), ES-Import RT (auto-derived from the ESI's MAC)
/// and router's MAC communities.
#[test]
fn gobgp_type_1_4_5_routes_and_es_import_rt_field_by_field() {
    let txt = format!("{VECTORS}/gobgp/messages.txt");
    let messages = decode_pcap_like_messages_txt(&format!("{VECTORS}/gobgp/capture.pcap"), &txt);
    let type5 = serde_json::json!({
        "route": "ip-prefix", "route_type": 5, "rd": "198.18.0.1:100",
        "esi": "00:00:00:00:00:00:00:00:00:00", "ethernet_tag": 0,
        "prefix": "198.18.20.0/24", "prefix_len": 24, "gateway": "0.0.0.0",
        "label": 100, "labels": [100]
    });
    let expected = vec![
        (
            "reach",
            serde_json::json!({
                "route": "ethernet-ad", "route_type": 1, "rd": "198.18.0.1:11",
                "esi": "01:02:ee:00:00:00:01:00:07:00", "ethernet_tag": 0,
                "label": 11, "labels": [11]
            }),
            "RT:65000:11 ET:8 ESI-label-Rt:AA:100".to_owned(),
        ),
        (
            "reach",
            serde_json::json!({
                "route": "ethernet-segment", "route_type": 4, "rd": "198.18.0.1:1",
                "esi": "01:02:ee:00:00:00:01:00:07:00",
                "originating_router": "198.18.0.1", "originator_ip": "198.18.0.1"
            }),
            "ET:8 ES-Import-Rt:02:ee:00:00:00:01".to_owned(),
        ),
        (
            "reach",
            type5.clone(),
            "RT:65000:100 ET:8 Rmac:02:b0:00:00:00:01".to_owned(),
        ),
        // GoBGP withdraws without path attributes (README "facts").
        ("withdraw", type5, String::new()),
    ];
    assert_eq!(type_1_4_5_routes(&messages), expected);

    // The same in text: one line per route, every field.
    let out = evpnd(&["decode", &format!("{VECTORS}/gobgp/capture.pcap")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "    + [1] RD 198.18.0.1:11 ESI 01:02:ee:00:00:00:01:00:07:00 ET 0 label 11\n",
        "    + [4] RD 198.18.0.1:1 ESI 01:02:ee:00:00:00:01:00:07:00 orig 198.18.0.1\n",
        "    + [5] RD 198.18.0.1:100 ESI 0 ET 0 prefix 198.18.20.0/24 gw 0.0.0.0 label 100\n",
        "    - [5] RD 198.18.0.1:100 ESI 0 ET 0 prefix 198.18.20.0/24 gw 0.0.0.0 label 100\n",
        "; EXT_COMM ET:8 ES-Import-Rt:02:ee:00:00:00:01\n",
    ] {
        assert!(text.contains(line), "{line:?} not in the text decode");
    }
}

/// ExaBGP 4.2's type-1 (per ES: tag 0xffffffff, label 0, ESI label 0; per
/// EVI: tag 0, label 10), type-4 (ES-Import RT 11:22:33:44:55:66) and type-5
/// routes (IPv4 with gateway 198.18.21.1, IPv6 with gateway ::), from
/// proto-tests/vectors/exabgp: README "Routes", commands.txt, messages.txt
/// msgs 12 and 15-18, 21.
#[test]
fn exabgp_type_1_4_5_routes_and_es_import_rt_field_by_field() {
    let txt = format!("{VECTORS}/exabgp/messages.txt");
    let messages = decode_pcap_like_messages_txt(&format!("{VECTORS}/exabgp/capture.pcap"), &txt);
    let esi = "00:11:22:33:44:55:66:77:88:99";
    let v4 = serde_json::json!({
        "route": "ip-prefix", "route_type": 5, "rd": "198.18.0.2:100",
        "esi": "00:00:00:00:00:00:00:00:00:00", "ethernet_tag": 0,
        "prefix": "198.18.21.0/24", "prefix_len": 24,
        "gateway": "198.18.21.1", "gateway_ip": "198.18.21.1",
        "label": 100, "labels": [100]
    });
    let expected = vec![
        (
            "reach",
            serde_json::json!({
                "route": "ethernet-ad", "route_type": 1, "rd": "198.18.0.2:10",
                "esi": esi, "ethernet_tag": 0, "label": 10, "labels": [10]
            }),
            "RT:65000:10 ET:8".to_owned(),
        ),
        (
            "reach",
            serde_json::json!({
                "route": "ethernet-ad", "route_type": 1, "rd": "198.18.0.2:10",
                "esi": esi, "ethernet_tag": 4294967295u32, "label": 0, "labels": [0]
            }),
            "RT:65000:10 ESI-label-Rt:AA:0".to_owned(),
        ),
        (
            "reach",
            serde_json::json!({
                "route": "ethernet-segment", "route_type": 4, "rd": "198.18.0.2:1",
                "esi": esi, "originating_router": "198.18.0.2", "originator_ip": "198.18.0.2"
            }),
            "ES-Import-Rt:11:22:33:44:55:66".to_owned(),
        ),
        (
            "reach",
            v4.clone(),
            "RT:65000:100 ET:8 Rmac:02:b0:00:00:00:02".to_owned(),
        ),
        (
            "reach",
            // An all-zeros gateway is printed as sent, and is no gateway_ip
            // (RFC 9136 section 3.2), as in show routes.
            serde_json::json!({
                "route": "ip-prefix", "route_type": 5, "rd": "198.18.0.2:100",
                "esi": "00:00:00:00:00:00:00:00:00:00", "ethernet_tag": 0,
                "prefix": "2001:db8:21::/64", "prefix_len": 64, "gateway": "::",
                "label": 100, "labels": [100]
            }),
            "RT:65000:100 ET:8 Rmac:02:b0:00:00:00:02".to_owned(),
        ),
        // ExaBGP's withdrawal carries attributes, but no EXT_COMM here.
        ("withdraw", v4, String::new()),
    ];
    assert_eq!(type_1_4_5_routes(&messages), expected);
}

/// A GoBGP ESI string ("single-homed", "ESI_ARBITRARY | 11:..:99", "ESI_LACP
/// | system mac M, port key K") as RFC 7432 section 5 ESI octets in
/// evpnd's notation.
fn gobgp_esi(text: &str) -> String {
    if text == "single-homed" {
        return "00:00:00:00:00:00:00:00:00:00".to_owned();
    }
    if let Some(value) = text.strip_prefix("ESI_ARBITRARY | ") {
        return format!("00:{value}");
    }
    let lacp = text
        .strip_prefix("ESI_LACP | system mac ")
        .and_then(|rest| rest.split_once(", port key "))
        .unwrap_or_else(|| panic!("GoBGP ESI {text:?}"));
    let key: u16 = lacp.1.parse().expect("port key");
    let [high, low] = key.to_be_bytes();
    format!("01:{}:{high:02x}:{low:02x}:00", lacp.0)
}

/// GoBGP's reading of an EVPN extended community (its JSON), in evpnd's
/// notation, for the communities typed for types 1, 4 and 5.
fn gobgp_community(c: &Value) -> Option<String> {
    match (c["type"].as_u64()?, c["subtype"].as_u64()?) {
        (0, 2) => Some(format!("RT:{}", c["value"].as_str()?)),
        (3, 12) => Some(format!("ET:{}", c["tunnel_type"])),
        (6, 1) => Some(format!(
            "ESI-label-Rt:{}:{}",
            if c["is_single_active"].as_bool()? {
                "SA"
            } else {
                "AA"
            },
            c["label"]
        )),
        (6, 2) => Some(format!("ES-Import-Rt:{}", c["value"].as_str()?)),
        (6, 3) => Some(format!("Rmac:{}", c["mac"].as_str()?)),
        _ => None,
    }
}

/// Checks each type-1, 4 and 5 route evpnd decoded against GoBGP's JSON of
/// the same route (`paths`: GoBGP's `-j` RIB, destination -> paths), field
/// by field; returns how many were compared.
fn agrees_with_gobgp(messages: &[Value], paths: &Value) -> usize {
    let gobgp: Vec<&Value> = paths
        .as_object()
        .expect("GoBGP RIB")
        .values()
        .flat_map(|p| p.as_array().expect("paths"))
        .collect();
    let mut compared = 0;
    for (side, route, ext_comm) in type_1_4_5_routes(messages) {
        if side != "reach" {
            continue;
        }
        let found = gobgp.iter().find(|p| {
            let nlri = &p["nlri"];
            let rd = &nlri["value"]["rd"];
            nlri["type"] == route["route_type"]
                && format!("{}:{}", rd["admin"].as_str().unwrap_or(""), rd["assigned"])
                    == route["rd"]
                && nlri["value"]["etag"].as_u64() == route["ethernet_tag"].as_u64()
                && nlri["value"]["prefix"].as_str() == route["prefix"].as_str()
        });
        let path = found.unwrap_or_else(|| panic!("GoBGP has no {route}"));
        let value = &path["nlri"]["value"];
        assert_eq!(
            gobgp_esi(value["esi"].as_str().unwrap()),
            route["esi"],
            "{route}"
        );
        match route["route_type"].as_u64() {
            Some(1) => assert_eq!(value["label"], route["label"], "{route}"),
            Some(4) => assert_eq!(value["ip"], route["originator_ip"], "{route}"),
            _ => {
                assert_eq!(value["label"], route["label"], "{route}");
                assert_eq!(value["gateway"], route["gateway"], "{route}");
            }
        }
        let mut theirs: Vec<String> = path["attrs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == 16)
            .flat_map(|a| {
                a["value"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(gobgp_community)
            })
            .collect();
        let mut ours: Vec<String> = ext_comm.split(' ').map(str::to_owned).collect();
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs, "{route}");
        compared += 1;
    }
    compared
}

/// An independent decoder agrees: GoBGP's own RIB of the routes it sent
/// (gobgp/said.json) and its decode of what ExaBGP sent it
/// (exabgp/gobgp-received.json) hold the same field values evpnd decode
/// prints for every type-1, 4 and 5 route and its communities.
#[test]
fn type_1_4_5_fields_agree_with_gobgps_reading() {
    let said: Value =
        serde_json::from_str(&vector(&format!("{VECTORS}/gobgp/said.json"))).expect("said.json");
    let out = evpnd(&["decode", "--json", &format!("{VECTORS}/gobgp/capture.pcap")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let compared = agrees_with_gobgp(
        &json_lines(&out),
        &said["after_announce"]["global rib -a evpn -j"],
    );
    assert_eq!(compared, 3);

    let received: Value =
        serde_json::from_str(&vector(&format!("{VECTORS}/exabgp/gobgp-received.json")))
            .expect("gobgp-received.json");
    let out = evpnd(&[
        "decode",
        "--json",
        &format!("{VECTORS}/exabgp/capture.pcap"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let compared = agrees_with_gobgp(
        &json_lines(&out),
        &received["after_announce"]["neighbor 198.18.0.2 adj-in -a evpn -j"],
    );
    assert_eq!(compared, 5);
}

// ---------------------------------------------------------------------------
// Files told apart by content
// ---------------------------------------------------------------------------

/// A classic pcap (little-endian, microseconds) rewritten as pcapng: a
/// Section Header Block, one Interface Description Block with the pcap's
/// link type (default if_tsresol: microseconds), an Enhanced Packet Block
/// per record (draft-ietf-opsawg-pcapng section 4).
fn pcap_to_pcapng(pcap: &[u8]) -> Vec<u8> {
    let u32_at = |at: usize| u32::from_le_bytes(pcap[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "a little-endian microsecond pcap");
    let mut out = Vec::new();
    let mut block = |block_type: u32, body: &[u8]| {
        let padded = body.len().div_ceil(4) * 4;
        let total = (12 + padded) as u32;
        out.extend_from_slice(&block_type.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&total.to_le_bytes());
    };
    // SHB: byte-order magic, version 1.0, section length unknown.
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    block(0x0a0d_0d0a, &shb);
    // IDB: link type, reserved, snap length.
    let mut idb = (u32_at(20) as u16).to_le_bytes().to_vec();
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&u32_at(16).to_le_bytes());
    block(1, &idb);
    let mut at = 24;
    while at < pcap.len() {
        let (seconds, micros, captured, original) =
            (u32_at(at), u32_at(at + 4), u32_at(at + 8), u32_at(at + 12));
        let stamp = u64::from(seconds) * 1_000_000 + u64::from(micros);
        let mut epb = 0u32.to_le_bytes().to_vec(); // interface 0
        epb.extend_from_slice(&((stamp >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(stamp as u32).to_le_bytes());
        epb.extend_from_slice(&captured.to_le_bytes());
        epb.extend_from_slice(&original.to_le_bytes());
        let data_at = at + 16;
        epb.extend_from_slice(&pcap[data_at..data_at + captured as usize]);
        block(6, &epb);
        at = data_at + captured as usize;
    }
    out
}

/// The same classic pcap with every header field big-endian (magic
/// 0xa1b2c3d4 as written by a big-endian host).
fn pcap_to_big_endian(pcap: &[u8]) -> Vec<u8> {
    let mut out = pcap.to_vec();
    let swap = |out: &mut Vec<u8>, at: usize, len: usize| out[at..at + len].reverse();
    swap(&mut out, 0, 4);
    swap(&mut out, 4, 2);
    swap(&mut out, 6, 2);
    for field in [8, 12, 16, 20] {
        swap(&mut out, field, 4);
    }
    let mut at = 24;
    while at < pcap.len() {
        let captured = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        for field in 0..4 {
            swap(&mut out, at + field * 4, 4);
        }
        at += 16 + captured;
    }
    out
}

/// `evpnd decode FILE` and `--file FILE` read a pcap, a pcapng and a
/// big-endian pcap by their magic numbers, without `--pcap`, exactly as
/// `--pcap` reads the classic capture.
#[test]
fn captures_are_recognised_by_content_without_pcap() {
    let pcap = format!("{VECTORS}/gobgp/capture.pcap");
    let by_flag = evpnd(&["decode", "--json", "--pcap", &pcap]);
    assert_eq!(by_flag.status.code(), Some(0), "{}", stderr(&by_flag));
    let by_flag = json_lines(&by_flag);
    assert!(by_flag.len() > 30);

    let positional = evpnd(&["decode", "--json", &pcap]);
    assert_eq!(positional.status.code(), Some(0), "{}", stderr(&positional));
    assert_eq!(json_lines(&positional), by_flag);
    let file = evpnd(&["decode", "--json", "--file", &pcap]);
    assert_eq!(file.status.code(), Some(0), "{}", stderr(&file));
    assert_eq!(json_lines(&file), by_flag);

    let classic = std::fs::read(&pcap).expect("GoBGP capture");
    for (name, bytes) in [
        ("capture.pcapng", pcap_to_pcapng(&classic)),
        ("capture-be.pcap", pcap_to_big_endian(&classic)),
    ] {
        let path = temp_path(name);
        std::fs::write(&path, &bytes).unwrap();
        let out = evpnd(&["decode", "--json", path.to_str().unwrap()]);
        std::fs::remove_file(&path).ok();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(json_lines(&out), by_flag, "{name}");
    }
}

/// A file of raw messages and a file of hex lines, named on the command
/// line, decode alike; a word that is neither hex nor a file says both.
#[test]
fn raw_and_hex_text_files_are_recognised_by_content() {
    let txt = format!("{VECTORS}/exabgp/messages.txt");
    let expected = hex_lines(&vector(&txt));
    let hex_text = evpnd(&["decode", "--json", &txt]);
    assert_eq!(hex_text.status.code(), Some(0), "{}", stderr(&hex_text));
    let hex_text = json_lines(&hex_text);
    assert_eq!(hex_text.len(), expected.len());
    let by_flag = evpnd(&["decode", "--json", "--file", &txt]);
    assert_eq!(json_lines(&by_flag), hex_text);

    let raw = messages_as_raw_bytes(&expected);
    let path = temp_path("messages.bin");
    std::fs::write(&path, &raw).unwrap();
    let out = evpnd(&["decode", "--json", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&out), hex_text);
    assert_eq!(
        type_1_4_5_routes(&hex_text).len(),
        6,
        "types 1, 4 and 5 typed from a file as from the capture"
    );

    let out = evpnd(&["decode", "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("command line: not hex")
            && stderr(&out).contains("(and no file \"/nonexistent/capture.pcap\")"),
        "{}",
        stderr(&out)
    );
}

/// Each UPDATE's extended communities by meaning, under `show routes
/// --json`'s names: the type-4 routes' ES-Import route targets (GoBGP's
/// auto-derived from its LACP ESI's system MAC, ExaBGP's as configured)
/// and the type-5 routes' router MACs (README "Routes").
#[test]
fn es_import_rt_and_router_mac_by_show_routes_names() {
    let mut found = Vec::new();
    for speaker in ["gobgp", "exabgp"] {
        let out = evpnd(&[
            "decode",
            "--json",
            &format!("{VECTORS}/{speaker}/capture.pcap"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        for m in json_lines(&out) {
            let route_type = m["mp_reach"]["routes"][0]["route_type"].as_u64();
            let communities = &m["evpn_communities"];
            for (wanted, field) in [(4, "es_import_rt"), (5, "router_mac")] {
                if route_type == Some(wanted) {
                    let item = (speaker, field, communities[field].clone());
                    if !found.contains(&item) {
                        found.push(item);
                    }
                }
            }
        }
    }
    assert_eq!(
        found,
        [
            ("gobgp", "es_import_rt", Value::from("02:ee:00:00:00:01")),
            ("gobgp", "router_mac", Value::from("02:b0:00:00:00:01")),
            ("exabgp", "es_import_rt", Value::from("11:22:33:44:55:66")),
            ("exabgp", "router_mac", Value::from("02:b0:00:00:00:02")),
        ]
    );
}
