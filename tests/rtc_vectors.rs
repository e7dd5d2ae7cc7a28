//! Wire vectors for RT-Constrain (RFC 4684): what two GoBGP 3.10 speakers
//! with `rtc` and `l2vpn-evpn` sent each other
//! (proto-tests/vectors/gobgp-rtc/, made by proto-tests/capture-rtc-vectors.sh)
//! decodes, re-encodes byte-identically, and says what the capture shows.

use evpnd_wire::Family;
use evpnd_wire::message::{DecodeOptions, Message};
use evpnd_wire::rtc::RtMembership;
use std::path::PathBuf;

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex line: {s}");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digit"))
        .collect()
}

/// Each message with its "# msg" line ("N t=+S SRC:PORT -> DST:PORT TYPE ...").
fn messages() -> Vec<(String, Message)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("proto-tests/vectors/gobgp-rtc/messages.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("RTC vectors missing at {}: {e}", path.display()));
    let opts = DecodeOptions {
        four_octet_as: true,
        ..DecodeOptions::default()
    };
    let mut out = Vec::new();
    let mut header = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(h) = line.strip_prefix("# msg ") {
            header = h.to_string();
        } else if !line.is_empty() && !line.starts_with('#') {
            let bytes = hex(line);
            let m = Message::decode(&bytes, &opts).unwrap_or_else(|e| panic!("{header}: {e}"));
            let again = m.to_bytes(&opts).expect("encodes");
            assert_eq!(&again[..], &bytes[..], "{header}: not byte-identical");
            out.push((header.clone(), m));
        }
    }
    out
}

fn sender(header: &str) -> &str {
    header
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.split(':').next())
        .unwrap_or("")
}

#[test]
fn both_opens_negotiate_rtc_and_evpn() {
    let opens: Vec<_> = messages()
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Open(o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(opens.len(), 2);
    for o in opens {
        assert!(
            o.families().contains(&Family::IPV4_RTC),
            "{:?}",
            o.families()
        );
        assert!(o.families().contains(&Family::L2VPN_EVPN));
    }
}

#[test]
fn gobgp_announces_one_exact_membership_per_vrf_import_rt_and_withdraws_it() {
    let rt = |s: &str| RtMembership::exact(65000, s.parse().unwrap());
    let mut announced: Vec<(String, RtMembership)> = Vec::new();
    let mut withdrawn: Vec<(String, RtMembership)> = Vec::new();
    let mut evpn_updates_to_rx = 0;
    for (header, m) in messages() {
        let Message::Update(u) = m else { continue };
        if let Some(reach) = u.mp_reach() {
            if reach.family == Family::L2VPN_EVPN {
                evpn_updates_to_rx += 1;
                continue;
            }
            assert_eq!(reach.family, Family::IPV4_RTC, "{header}");
            // The next hop is the sender's IPv4 address (RFC 4760).
            assert_eq!(reach.next_hop_addr().unwrap().to_string(), sender(&header));
            for nlri in RtMembership::decode_all(&reach.nlri).unwrap() {
                announced.push((sender(&header).to_string(), nlri));
            }
        }
        if let Some(unreach) = u.mp_unreach() {
            assert_eq!(unreach.family, Family::IPV4_RTC, "{header}");
            for nlri in RtMembership::decode_all(&unreach.withdrawn).unwrap() {
                withdrawn.push((sender(&header).to_string(), nlri));
            }
        }
    }
    let gb = "198.18.0.1".to_string();
    let rx = "198.18.0.2".to_string();
    assert_eq!(
        announced,
        [
            (gb.clone(), rt("65000:10")),
            (gb.clone(), rt("65000:11")),
            (rx, rt("65000:10")),
        ]
    );
    assert_eq!(withdrawn, [(gb, rt("65000:11"))]);
    // gb originated type-3s for RTs 65000:10, :20 and :11; rx imports
    // 65000:10 only, so one EVPN UPDATE crossed (RFC 4684 section 3).
    assert_eq!(evpn_updates_to_rx, 1);
}
