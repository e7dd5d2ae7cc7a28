//! A route reflector's pure RIB fed the workload of the external
//! reflector benchmark (`evpn-blast.py`, `evpnd-loadgen`: MAC-only type-2
//! routes from one client, 100 per UPDATE under one attribute set), for
//! the `rib_memory` example (where the memory goes) and the `rib_reflect`
//! bench (how fast). Not used by the daemon.
//! The UPDATEs the RIB produces for the other clients are counted and
//! dropped, as a socket would take them.

use crate::rib::adj_out::OutGroupKey;
use crate::rib::attrs::PathSummary;
use crate::rib::encode::OutboundEncoder;
use crate::rib::engine::{GracefulPeer, Rib, RibInput, RibOutlet, RibOutput};
use crate::rib::ingress::{IngressUpdate, Reach};
use crate::rib::peer::{PeerIdx, PeerInfo, PeerKind};
use bytes::{BufMut, Bytes, BytesMut};
use evpnd_wire::Family;
use std::net::{IpAddr, Ipv4Addr};

/// Counts what the RIB sends and drops it.
#[derive(Default)]
pub struct Sink {
    pub messages: usize,
    pub octets: usize,
}

impl RibOutlet for Sink {
    fn put(&mut self, output: RibOutput) {
        if let RibOutput::Send { messages, .. } = output {
            self.messages += messages.len();
            self.octets += messages.iter().map(|m| m.len()).sum::<usize>();
        }
    }
}

fn peer(i: u8) -> PeerInfo {
    PeerInfo {
        address: IpAddr::V4(Ipv4Addr::new(198, 18, 0, i)),
        kind: PeerKind::IbgpClient,
        remote_as: 65000,
        router_id: Ipv4Addr::new(198, 18, 0, i),
    }
}

/// RFC 7432 section 7.2: a MAC-only type-2 NLRI (RD 198.18.0.1:10, no ESI,
/// tag 0, MAC from `i`, label VNI 10), 35 octets with its type and length.
fn type2(i: u32, out: &mut BytesMut) {
    out.put_u8(2);
    out.put_u8(33);
    out.put_slice(&[0, 1, 198, 18, 0, 1, 0, 10]);
    out.put_slice(&[0; 10]);
    out.put_u32(0);
    out.put_u8(48);
    out.put_slice(&[0x02, 0x00]);
    out.put_u32(i);
    out.put_u8(0);
    out.put_slice(&[0, 0, 0xa1]);
}

/// The NLRI fields of routes 0..`routes`, 100 routes each (built as they
/// are consumed, inside the timed loops, as the figures were measured).
fn batches(routes: u32) -> impl Iterator<Item = Bytes> {
    (0..routes).step_by(100).map(move |first| {
        let mut nlri = BytesMut::with_capacity(100 * 35);
        for i in first..routes.min(first + 100) {
            type2(i, &mut nlri);
        }
        nlri.freeze()
    })
}

/// One UPDATE from `source` into the RIB, its output flushed to `sink`.
fn feed(rib: &mut Rib, source: PeerIdx, update: IngressUpdate, sink: &mut Sink) {
    rib.handle(
        RibInput::Update {
            peer: source,
            update,
        },
        sink,
    );
    rib.flush(sink);
}

/// The reflector: a RIB with one source client and `clients` other
/// clients, all Established.
pub struct Reflector {
    pub rib: Rib,
    pub source: PeerIdx,
    pub sink: Sink,
}

impl Reflector {
    pub fn new(clients: u8) -> Self {
        let local = PeerInfo {
            kind: PeerKind::Local,
            ..peer(254)
        };
        let encoder = OutboundEncoder {
            family: Family::L2VPN_EVPN,
            local_asn: 65000,
            cluster_id: Ipv4Addr::new(198, 18, 0, 254),
        };
        let mut rib = Rib::new(local, encoder);
        let mut sink = Sink::default();
        let group = OutGroupKey {
            kind: PeerKind::IbgpClient,
            four_octet_as: true,
            max_message_len: 4096,
        };
        let mut source = PeerIdx::LOCAL;
        for i in 1..=clients + 1 {
            let idx = rib.add_peer(peer(i));
            if i == 1 {
                source = idx;
            }
            rib.handle(
                RibInput::PeerUp {
                    peer: idx,
                    info: peer(i),
                    group,
                    graceful: GracefulPeer::default(),
                    prefix_limit: None,
                },
                &mut sink,
            );
        }
        Self { rib, source, sink }
    }

    /// Routes 0..`routes` announced by the source client, 100 per UPDATE.
    pub fn announce(&mut self, routes: u32) {
        // ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100, EXTENDED_COMMUNITIES
        // with RT 65000:10 and the VXLAN encapsulation (RFC 8365 section
        // 5.1.3).
        let attributes = Bytes::from_static(&[
            0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 100, 0xc0, 16, 16, 0, 2, 0xfd, 0xe8, 0,
            0, 0, 10, 3, 12, 0, 0, 0, 0, 0, 8,
        ]);
        let next_hop = Bytes::from_static(&[198, 18, 0, 1]);
        for nlri in batches(routes) {
            let update = IngressUpdate {
                reach: Some(Reach {
                    attributes: attributes.clone(),
                    next_hop: next_hop.clone(),
                    summary: PathSummary::default(),
                    nlri,
                }),
                ..Default::default()
            };
            feed(&mut self.rib, self.source, update, &mut self.sink);
        }
    }

    /// The same routes withdrawn, 100 per UPDATE (MP_UNREACH_NLRI).
    pub fn withdraw(&mut self, routes: u32) {
        for nlri in batches(routes) {
            let update = IngressUpdate {
                withdrawn: vec![nlri],
                ..Default::default()
            };
            feed(&mut self.rib, self.source, update, &mut self.sink);
        }
    }
}
