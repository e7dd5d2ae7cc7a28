//! EVPN NLRI fields (RFC 7432 section 7) from arbitrary bytes: decode, the
//! zero-copy splitter and the route key must never panic, must agree on what
//! they accept, and whatever decodes must re-encode to the same bytes (a
//! route reflector passes NLRIs on unchanged), and reading any decoded route
//! field by field never panics.
#![no_main]

use bytes::BytesMut;
use evpnd_wire::evpn::{EvpnRoute, evpn_route_key, split_evpn_nlri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = EvpnRoute::decode_all(data, 0);

    // The splitter yields contiguous sub-slices of the input, in order.
    let mut covered = 0;
    let mut framing_ok = true;
    let mut slices = Vec::new();
    for item in split_evpn_nlri(data) {
        match item {
            Ok(slice) => {
                assert_eq!(Some(slice), data.get(covered..covered + slice.len()));
                covered += slice.len();
                slices.push(slice);
            }
            Err(_) => framing_ok = false,
        }
    }
    let keys: Vec<_> = slices.iter().map(|s| evpn_route_key(s)).collect();
    let keys_ok = keys.iter().all(Result::is_ok);

    // decode_all accepts exactly what the splitter and the key accept.
    assert_eq!(decoded.is_ok(), framing_ok && keys_ok);

    if let Ok(routes) = decoded {
        assert_eq!(covered, data.len());
        assert_eq!(routes.len(), slices.len());
        let mut out = BytesMut::new();
        for ((route, slice), key) in routes.iter().zip(&slices).zip(&keys) {
            let start = out.len();
            route.encode(&mut out);
            assert_eq!(&out[start..], *slice);
            assert_eq!(route.encoded_len(), slice.len());
            assert_eq!(route.key().as_ref().ok(), key.as_ref().ok());
            let _ = route.to_string();
            let _ = serde_json::to_string(route).expect("serializes");
            // What show routes and decode print (types 1, 4, 5 through
            // their views) never panics either.
            let _ = serde_json::to_string(&route.view()).expect("view serializes");
            let _ = serde_json::to_string(&route.fields()).expect("fields serialize");
        }
        assert_eq!(&out[..], data);
    }
});
