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

    let raw: Vec<u8> = expected
        .concat()
        .as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect();
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
