//! Wire codec throughput on UPDATEs packed with EVPN type-2 routes, in
//! routes per second: 10k MAC-only and 10k MAC+IPv4 routes (RD
//! 198.19.0.1:10, VNI 10, RT 65000:10, encapsulation VXLAN) packed by the
//! UpdatePacker into 4096-octet UPDATEs, as a VTEP or the reflector sends
//! them (RFC 7432 section 7.2, RFC 8365 section 5.1.3).
//!
//! - `decode/typed`: Message::decode + EvpnRoute::decode_all of every NLRI;
//! - `decode/reflector_fast_path`: Message::decode + split_evpn_nlri +
//!   evpn_route_key per NLRI (what the route reflector does on receipt);
//! - `encode/pack_reach`: UpdatePacker::pack_reach of 10k wire NLRI;
//! - `encode/typed_then_pack`: EvpnRoute::encode of 10k routes, then packing.
//!
//! Run: `cargo bench --bench wire_codec -- --warm-up-time 1 --measurement-time 5`

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use evpnd_wire::attribute::{AttributeValue, Origin, PathAttribute};
use evpnd_wire::evpn::{Esi, EvpnRoute, Type2Route, evpn_route_key, split_evpn_nlri};
use evpnd_wire::extcomm::{ExtendedCommunity, RouteTarget};
use evpnd_wire::mac::MacAddress;
use evpnd_wire::message::{DecodeOptions, Message};
use evpnd_wire::rd::RouteDistinguisher;
use evpnd_wire::update_packer::UpdatePacker;
use evpnd_wire::{Family, as_path::AsPath};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

const ROUTES_PER_KIND: usize = 10_000;
const VNI: u32 = 10;
const NEXT_HOP: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 1);

fn opts() -> DecodeOptions {
    DecodeOptions {
        four_octet_as: true,
        ..DecodeOptions::default()
    }
}

/// Type-2 route `i`: a distinct MAC, and with `with_ip` an IPv4 address
/// from 198.18.0.0/15.
fn type2(i: usize, with_ip: bool) -> EvpnRoute {
    let [_, _, a, b] = (i as u32).to_be_bytes();
    EvpnRoute::MacIp(Type2Route {
        rd: RouteDistinguisher::Ipv4 {
            addr: NEXT_HOP,
            number: 10,
        },
        esi: Esi::ZERO,
        ethernet_tag: 0,
        mac: MacAddress([0x02, 0x0a, u8::from(with_ip), 0, a, b]),
        ip: with_ip.then(|| IpAddr::V4(Ipv4Addr::new(198, 18, a, b))),
        // RFC 8365 section 5.1.3: the VNI fills the 24-bit label field.
        label1: VNI,
        label2: None,
    })
}

fn routes() -> Vec<EvpnRoute> {
    (0..ROUTES_PER_KIND)
        .map(|i| type2(i, false))
        .chain((0..ROUTES_PER_KIND).map(|i| type2(i, true)))
        .collect()
}

fn wire_nlri(routes: &[EvpnRoute]) -> Vec<Vec<u8>> {
    routes
        .iter()
        .map(|r| {
            let mut out = BytesMut::with_capacity(r.encoded_len());
            r.encode(&mut out);
            out.to_vec()
        })
        .collect()
}

/// ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100, RT 65000:10 + VXLAN encap:
/// what FRR attaches to a type-2 route (proto-tests/vectors/frr/, msg 114).
fn shared_attributes() -> Vec<u8> {
    let mut out = BytesMut::new();
    for value in [
        AttributeValue::Origin(Origin::Igp),
        AttributeValue::AsPath(AsPath::new()),
        AttributeValue::LocalPref(100),
        AttributeValue::ExtendedCommunities(vec![
            ExtendedCommunity::VXLAN_ENCAPSULATION,
            ExtendedCommunity::RouteTarget(RouteTarget::As2 {
                asn: 65000,
                number: 10,
            }),
        ]),
    ] {
        PathAttribute::new(value).encode(&mut out, &opts());
    }
    out.to_vec()
}

fn pack(nlri: &[Vec<u8>]) -> Vec<Bytes> {
    UpdatePacker::new(4096)
        .pack_reach(
            Family::L2VPN_EVPN,
            &NEXT_HOP.octets(),
            &shared_attributes(),
            nlri.iter().map(Vec::as_slice),
        )
        .expect("routes fit 4096-octet UPDATEs")
}

fn mp_nlri(message: &Message) -> &[u8] {
    match message {
        Message::Update(u) => u.mp_reach().map_or(&[][..], |m| &m.nlri[..]),
        _ => &[],
    }
}

fn decode(c: &mut Criterion) {
    let routes = routes();
    let messages = pack(&wire_nlri(&routes));
    let opts = opts();
    // The benchmark input must be what it claims to be.
    let decoded: usize = messages
        .iter()
        .map(|m| {
            let message = Message::decode(m, &opts).expect("packed UPDATE decodes");
            EvpnRoute::decode_all(mp_nlri(&message), 0)
                .expect("NLRI decode")
                .len()
        })
        .sum();
    assert_eq!(decoded, routes.len());

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(routes.len() as u64));
    let label = format!("{}_updates", messages.len());
    group.bench_with_input(BenchmarkId::new("typed", &label), &messages, |b, ms| {
        b.iter(|| {
            let mut n = 0;
            for m in ms {
                let message = Message::decode(m, &opts).expect("decode");
                let routes = EvpnRoute::decode_all(mp_nlri(&message), 0).expect("NLRI");
                n += black_box(routes).len();
            }
            n
        })
    });
    group.bench_with_input(
        BenchmarkId::new("reflector_fast_path", &label),
        &messages,
        |b, ms| {
            b.iter(|| {
                let mut n = 0;
                for m in ms {
                    let message = Message::decode(m, &opts).expect("decode");
                    for nlri in split_evpn_nlri(mp_nlri(&message)) {
                        let key = evpn_route_key(nlri.expect("split")).expect("key");
                        black_box(&key);
                        n += 1;
                    }
                }
                n
            })
        },
    );
    group.finish();
}

fn encode(c: &mut Criterion) {
    let routes: Vec<EvpnRoute> = (0..ROUTES_PER_KIND).map(|i| type2(i, true)).collect();
    let nlri = wire_nlri(&routes);
    let shared = shared_attributes();
    let packer = UpdatePacker::new(4096);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(routes.len() as u64));
    group.bench_function("pack_reach_10k_mac_ip", |b| {
        b.iter(|| {
            packer
                .pack_reach(
                    Family::L2VPN_EVPN,
                    &NEXT_HOP.octets(),
                    &shared,
                    nlri.iter().map(Vec::as_slice),
                )
                .expect("pack")
        })
    });
    group.bench_function("typed_then_pack_10k_mac_ip", |b| {
        b.iter(|| {
            let mut wire = BytesMut::with_capacity(routes.len() * 41);
            let mut ends = Vec::with_capacity(routes.len());
            for r in &routes {
                r.encode(&mut wire);
                ends.push(wire.len());
            }
            let starts = std::iter::once(0).chain(ends.iter().copied());
            let slices = starts.zip(ends.iter().copied()).map(|(s, e)| &wire[s..e]);
            packer
                .pack_reach(Family::L2VPN_EVPN, &NEXT_HOP.octets(), &shared, slices)
                .expect("pack")
        })
    });
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
