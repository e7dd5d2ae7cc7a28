//! Whole BGP messages from arbitrary bytes (RFC 4271 section 4), as a session
//! reads them: framing, lenient decode with RFC 7606 classification, and for
//! UPDATEs the route reflector's ingress (EVPN NLRI syntax, loop checks) and
//! its reflection rewrite. Nothing may panic, and a message that decodes
//! without problems must re-encode to the same bytes.
#![no_main]

use evpnd_core::rib::ingress::{LocalIdentity, ingress_update};
use evpnd_core::rib::reflect::{Reflection, to_ibgp};
use evpnd_wire::Family;
use evpnd_wire::header::frame;
use evpnd_wire::message::{DecodeOptions, Message};
use evpnd_wire::rfc7606::{ErrorAction, classify};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

const LOCAL: LocalIdentity = LocalIdentity {
    asn: 65000,
    router_id: Ipv4Addr::new(198, 19, 0, 4),
    cluster_id: Ipv4Addr::new(198, 19, 0, 4),
};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the negotiated options, the rest is the stream.
    let Some((&mode, stream)) = data.split_first() else {
        return;
    };
    let opts = DecodeOptions {
        max_message_len: if mode & 1 == 0 { 4096 } else { 65535 },
        four_octet_as: mode & 2 != 0,
        add_path: if mode & 4 != 0 {
            vec![Family::IPV4_UNICAST, Family::L2VPN_EVPN]
        } else {
            vec![]
        },
    };
    let mut rest = stream;
    while let Ok(Some(len)) = frame(rest, opts.max_message_len) {
        let Some((message, tail)) = rest.split_at_checked(len) else {
            return;
        };
        rest = tail;
        let Ok((decoded, problems)) = Message::decode_lenient(message, &opts) else {
            continue;
        };
        if problems.is_empty() {
            let encoded = decoded
                .to_bytes(&opts)
                .expect("a decoded message re-encodes");
            assert_eq!(encoded.as_ref(), message, "re-encoding changed the message");
        }
        if let Message::Update(update) = &decoded {
            let action = classify(&problems);
            if matches!(action, ErrorAction::SessionReset(_)) {
                continue;
            }
            if let Ok((ingress, _)) =
                ingress_update(update, &action, &LOCAL, false, Family::L2VPN_EVPN)
                && let Some(reach) = ingress.reach
            {
                let reflection = Reflection {
                    originator_id: Ipv4Addr::new(198, 19, 0, 1),
                    cluster_id: LOCAL.cluster_id,
                };
                let reflected = to_ibgp(&reach.attributes, Some(reflection), 100)
                    .expect("attributes we encoded walk cleanly");
                assert!(reflected.len() >= reach.attributes.len());
            }
        }
    }
});
