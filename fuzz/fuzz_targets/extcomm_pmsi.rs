//! Extended communities (RFC 4360), the PMSI tunnel attribute (RFC 6514
//! section 5) and route distinguishers (RFC 4364 section 4.2) from arbitrary
//! bytes, and their text forms from arbitrary strings: no panic, exact
//! re-encoding, and text that parses back to the same value.
#![no_main]

use bytes::BytesMut;
use evpnd_wire::Reader;
use evpnd_wire::extcomm::{ExtendedCommunity, RouteTarget};
use evpnd_wire::mac::MacAddress;
use evpnd_wire::pmsi::PmsiTunnel;
use evpnd_wire::rd::RouteDistinguisher;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = ExtendedCommunity::decode_all(data, 0) {
        let mut out = BytesMut::new();
        for community in &list {
            community.encode(&mut out);
            let _ = community.to_string();
        }
        assert_eq!(&out[..], data);
    } else {
        assert!(!data.len().is_multiple_of(8));
    }

    match PmsiTunnel::decode(data, 0) {
        Ok(pmsi) => {
            let mut out = BytesMut::new();
            pmsi.encode(&mut out);
            assert_eq!(&out[..], data);
            assert_eq!(pmsi.encoded_len(), data.len());
            let _ = pmsi.to_string();
            let _ = serde_json::to_string(&pmsi).expect("serializes");
        }
        Err(_) => assert!(data.len() < 5),
    }

    let mut r = Reader::new(data);
    if let Ok(rd) = RouteDistinguisher::decode(&mut r) {
        let mut out = BytesMut::new();
        rd.encode(&mut out);
        assert_eq!(&out[..], &data[..8]);
    }

    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(rt) = text.parse::<RouteTarget>() {
            assert_eq!(rt.to_string().parse::<RouteTarget>(), Ok(rt));
        }
        if let Ok(rd) = text.parse::<RouteDistinguisher>() {
            assert_eq!(rd.to_string().parse::<RouteDistinguisher>(), Ok(rd));
        }
        if let Ok(mac) = text.parse::<MacAddress>() {
            assert_eq!(mac.to_string().parse::<MacAddress>(), Ok(mac));
        }
    }
});
