use super::*;
use crate::as_path::tests::arb_as_path;
use crate::pmsi::PmsiTunnelId;
use proptest::prelude::*;

fn opts() -> DecodeOptions {
    DecodeOptions {
        four_octet_as: true,
        ..DecodeOptions::default()
    }
}

fn encode(attr: &PathAttribute) -> BytesMut {
    let mut out = BytesMut::new();
    attr.encode(&mut out, &opts());
    out
}

#[test]
fn length_form_follows_the_extended_length_flag() {
    let short = PathAttribute::new(AttributeValue::LocalPref(100));
    assert_eq!(&encode(&short)[..], &[0x40, 5, 4, 0, 0, 0, 100]);
    let long = PathAttribute {
        flags: AttrFlags(0x90),
        value: AttributeValue::OriginatorId(Ipv4Addr::new(198, 19, 0, 3)),
    };
    assert_eq!(&encode(&long)[..], &[0x90, 9, 0, 4, 198, 19, 0, 3]);
    // Over 255 octets forces the 2-octet form.
    let big = PathAttribute::new(AttributeValue::Communities(vec![Community(1); 100]));
    let out = encode(&big);
    assert_eq!(&out[..4], &[0xd0, 8, 1, 144]);
    assert_eq!(out.len(), 404);
}

#[test]
fn rfc7606_length_checks() {
    let o = opts();
    use type_code::*;
    for (code, value) in [
        (ORIGIN, &[0u8, 0][..]),
        (ORIGIN, &[3]),
        (NEXT_HOP, &[1, 2, 3]),
        (MULTI_EXIT_DISC, &[0; 5]),
        (ATOMIC_AGGREGATE, &[0]),
        (AGGREGATOR, &[0; 6]),
        (COMMUNITIES, &[]),
        (COMMUNITIES, &[0; 6]),
        (CLUSTER_LIST, &[]),
        (ORIGINATOR_ID, &[0; 8]),
        (EXTENDED_COMMUNITIES, &[]),
        (EXTENDED_COMMUNITIES, &[0; 12]),
        (LARGE_COMMUNITIES, &[0; 8]),
        (MP_UNREACH_NLRI, &[0, 25]),
        // EVPN next hop of 5 octets (RFC 7606 7.11).
        (MP_REACH_NLRI, &[0, 25, 70, 5, 1, 2, 3, 4, 5, 0]),
        // IPv4 unicast NLRI with a /33 (RFC 7606 5.3).
        (
            MP_REACH_NLRI,
            &[0, 1, 1, 4, 1, 2, 3, 4, 0, 33, 1, 2, 3, 4, 5],
        ),
    ] {
        assert!(
            AttributeValue::decode(code, &mut Reader::new(value), &o).is_err(),
            "{code} {value:?}"
        );
    }
    let two_octet = DecodeOptions::default();
    // 6 octets between 2-octet speakers (AS 1: AS 0 is malformed, RFC 7607).
    let aggregator = [0, 1, 198, 18, 0, 2];
    assert!(AttributeValue::decode(AGGREGATOR, &mut Reader::new(&aggregator), &two_octet).is_ok());
    assert!(AttributeValue::decode(AGGREGATOR, &mut Reader::new(&[0; 8]), &two_octet).is_err());
}

/// Every type code `AttributeValue::decode` interprets has a row in
/// `attribute_table.rs`, and every row is interpreted; a known code never
/// decodes to `Unknown` (the empty value is malformed or a value).
#[test]
fn every_decoded_code_has_a_table_row() {
    for code in 0..=255u8 {
        let known = !matches!(
            AttributeValue::decode(code, &mut Reader::new(&[]), &opts()),
            Ok(AttributeValue::Unknown { .. })
        );
        assert_eq!(
            known,
            attribute_table::lookup(code).is_some(),
            "type code {code}"
        );
    }
    for row in &attribute_table::TABLE {
        let flags = AttrFlags(row.flags());
        assert_eq!(expected_flags(row.code), Some((row.flags_mask(), flags.0)));
    }
}

#[test]
fn unknown_optional_transitive_is_passed_on_partial() {
    let a = PathAttribute {
        flags: AttrFlags::OPTIONAL_TRANSITIVE,
        value: AttributeValue::Unknown {
            type_code: 99,
            value: Bytes::from_static(&[1, 2]),
        },
    };
    let p = a.propagated().unwrap();
    assert!(p.flags.partial());
    assert_eq!(&encode(&p)[..], &[0xe0, 99, 2, 1, 2]);
    let non_transitive = PathAttribute {
        flags: AttrFlags::OPTIONAL_NON_TRANSITIVE,
        ..a
    };
    assert_eq!(non_transitive.propagated(), None);
    let known = PathAttribute::new(AttributeValue::MultiExitDisc(0));
    assert_eq!(known.propagated(), Some(known));
}

#[test]
fn mp_reach_next_hop_accessors() {
    let m = MpReach::new(Family::L2VPN_EVPN, vec![198, 19, 0, 3], Bytes::new());
    assert_eq!(m.next_hop_addr(), Some("198.19.0.3".parse().unwrap()));
    let mut nh = vec![0u8; 32];
    nh[0] = 0x20;
    nh[16] = 0xfe;
    nh[17] = 0x80;
    let m = MpReach::new(Family::IPV6_UNICAST, nh, Bytes::new());
    assert_eq!(m.next_hop_addr(), Some("2000::".parse().unwrap()));
    assert_eq!(m.next_hop_link_local(), Some("fe80::".parse().unwrap()));
}

pub(crate) fn arb_attribute() -> impl Strategy<Value = PathAttribute> {
    let ipv4 = any::<u32>().prop_map(Ipv4Addr::from);
    // AS 0 is malformed (RFC 7607 section 2).
    let aggregator = (1u32.., ipv4.clone()).prop_map(|(asn, address)| Aggregator { asn, address });
    let value = prop_oneof![
        prop_oneof![
            Just(Origin::Igp),
            Just(Origin::Egp),
            Just(Origin::Incomplete)
        ]
        .prop_map(AttributeValue::Origin),
        arb_as_path(true).prop_map(AttributeValue::AsPath),
        arb_as_path(true).prop_map(AttributeValue::As4Path),
        ipv4.clone().prop_map(AttributeValue::NextHop),
        any::<u32>().prop_map(AttributeValue::MultiExitDisc),
        any::<u32>().prop_map(AttributeValue::LocalPref),
        Just(AttributeValue::AtomicAggregate),
        aggregator.clone().prop_map(AttributeValue::Aggregator),
        aggregator.prop_map(AttributeValue::As4Aggregator),
        proptest::collection::vec(any::<u32>().prop_map(Community), 1..80)
            .prop_map(AttributeValue::Communities),
        ipv4.clone().prop_map(AttributeValue::OriginatorId),
        proptest::collection::vec(ipv4.clone(), 1..10).prop_map(AttributeValue::ClusterList),
        (
            prop_oneof![Just(4usize), Just(16)],
            proptest::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(nh, nlri)| AttributeValue::MpReach(MpReach::new(
                Family::L2VPN_EVPN,
                vec![7u8; nh],
                nlri
            ))),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|w| {
            AttributeValue::MpUnreach(MpUnreach {
                family: Family::L2VPN_EVPN,
                withdrawn: w.into(),
            })
        }),
        proptest::collection::vec(any::<[u8; 8]>(), 1..6).prop_map(|cs| {
            AttributeValue::ExtendedCommunities(
                cs.into_iter().map(ExtendedCommunity::from_bytes).collect(),
            )
        }),
        (any::<u8>(), 0u32..0x100_0000, ipv4.clone()).prop_map(|(flags, label, ep)| {
            AttributeValue::PmsiTunnel(PmsiTunnel {
                flags,
                label,
                tunnel: PmsiTunnelId::IngressReplication {
                    endpoint: IpAddr::V4(ep),
                },
            })
        }),
        proptest::collection::vec(any::<(u32, u32, u32)>(), 1..5).prop_map(|cs| {
            AttributeValue::LargeCommunities(
                cs.into_iter()
                    .map(|(a, b, c)| LargeCommunity {
                        global_admin: a,
                        local_data_1: b,
                        local_data_2: c,
                    })
                    .collect(),
            )
        }),
        (100u8..=255, proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(type_code, v)| {
            AttributeValue::Unknown {
                type_code,
                value: v.into(),
            }
        }),
    ];
    (value, any::<bool>(), any::<bool>()).prop_map(|(value, ext, partial)| {
        let mut flags = value.default_flags();
        if ext {
            flags = flags.with(AttrFlags::EXTENDED_LENGTH);
        }
        if partial && flags.optional() && flags.transitive() {
            flags = flags.with(AttrFlags::PARTIAL);
        }
        PathAttribute { flags, value }
    })
}

/// Decode one whole attribute (header + value) for the round trip.
fn decode_one(buf: &[u8]) -> DecodeResult<PathAttribute> {
    let mut r = Reader::new(buf);
    let flags = AttrFlags(r.u8("flags")?);
    let code = r.u8("type")?;
    let len = if flags.extended_length() {
        usize::from(r.u16("len")?)
    } else {
        usize::from(r.u8("len")?)
    };
    let base = r.offset();
    let value = r.bytes(len, "value")?;
    r.finish("attribute")?;
    Ok(PathAttribute {
        flags,
        value: AttributeValue::decode(code, &mut Reader::with_base(value, base), &opts())?,
    })
}

/// RFC 7606 section 5.3 for RT membership NLRI (RFC 4684 section 4):
/// a length of 1-31 bits makes MP_REACH_NLRI / MP_UNREACH_NLRI
/// malformed, at the offset of that length octet.
#[test]
fn malformed_rt_membership_nlri_is_a_decode_error() {
    // MP_REACH: AFI 1, SAFI 132, next hop 198.18.0.1, reserved, then a
    // good NLRI (default) and one of 16 bits.
    let reach = [
        0x80, 14, 13, 0, 1, 132, 4, 198, 18, 0, 1, 0, 0, 16, 0xfd, 0xe8,
    ];
    let err = decode_one(&reach).unwrap_err();
    assert_eq!(err.field, "RT membership length");
    assert_eq!(err.offset, 13);
    let unreach = [0x80, 15, 5, 0, 1, 132, 8, 0];
    assert_eq!(
        decode_one(&unreach).unwrap_err().field,
        "RT membership length"
    );
    let good = [0x80, 15, 4, 0, 1, 132, 0];
    assert!(decode_one(&good).is_ok());
}

proptest! {
    #[test]
    fn round_trip(attr in arb_attribute()) {
        let wire = encode(&attr);
        let back = decode_one(&wire).unwrap();
        // A value over 255 octets gains the Extended Length bit.
        let mut expected = attr.clone();
        if wire[0] & AttrFlags::EXTENDED_LENGTH != 0 {
            expected.flags = expected.flags.with(AttrFlags::EXTENDED_LENGTH);
        }
        prop_assert_eq!(&back, &expected);
        prop_assert_eq!(&encode(&back)[..], &wire[..]);
    }
}
