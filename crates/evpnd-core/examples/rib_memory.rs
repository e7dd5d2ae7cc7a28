//! Where a reflector's memory goes, per path (issue 15: "BIRD keeps about
//! 150 bytes per path; find where the rest goes").
//!
//! Builds the pure RIB of a route reflector, one source client and K other
//! clients (all Established), and feeds it N MAC-only type-2 routes from
//! the source, 100 per UPDATE under one attribute set (the workload of
//! `../shared/bench/evpn-blast.py`). The UPDATEs it produces for the
//! clients are counted and dropped, as a socket would take them: what is
//! measured is what the RIB keeps. A counting allocator reports the heap in
//! use and its peak; the table's own figures (buckets, entry size) come from
//! `Rib::stats`/`size_of`.
//!
//! usage: cargo run --release -p evpnd-core --example rib_memory [N] [K]
//!        (defaults 1000000 and 10)

use bytes::{BufMut, Bytes, BytesMut};
use evpnd_core::rib::adj_out::OutGroupKey;
use evpnd_core::rib::attrs::PathSummary;
use evpnd_core::rib::encode::OutboundEncoder;
use evpnd_core::rib::engine::{GracefulPeer, Rib, RibInput, RibOutlet, RibOutput};
use evpnd_core::rib::ingress::{IngressUpdate, Reach};
use evpnd_core::rib::peer::{PeerIdx, PeerInfo, PeerKind};
use evpnd_wire::Family;
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes asked for (not the
/// allocator's own headers and rounding, which RSS shows).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to `System` with the caller's layout unchanged;
// only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let now = if new_size >= layout.size() {
            LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size()
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed) - (layout.size() - new_size)
        };
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counts what the RIB sends and drops it.
#[derive(Default)]
struct Sink {
    messages: usize,
    octets: usize,
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

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let routes: u32 = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("N routes"));
    let clients: u8 = args.next().map_or(10, |a| a.parse().expect("K clients"));
    let before = LIVE.load(Ordering::Relaxed);

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
    // ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100, EXTENDED_COMMUNITIES with
    // RT 65000:10 and the VXLAN encapsulation (RFC 8365 section 5.1.3).
    let attributes = Bytes::from_static(&[
        0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 100, 0xc0, 16, 16, 0, 2, 0xfd, 0xe8, 0, 0,
        0, 10, 3, 12, 0, 0, 0, 0, 0, 8,
    ]);
    let next_hop = Bytes::from_static(&[198, 18, 0, 1]);
    let start = std::time::Instant::now();
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
        feed(&mut rib, source, update, &mut sink);
    }
    let elapsed = start.elapsed();
    let live = LIVE.load(Ordering::Relaxed) - before;
    let stats = rib.stats();
    println!(
        "{routes} routes from 1 client reflected to {clients}: {:.2} s in the pure RIB, {} UPDATEs ({:.0} MiB) sent",
        elapsed.as_secs_f64(),
        sink.messages,
        mib(sink.octets)
    );
    println!(
        "heap in use after: {:.1} MiB = {:.0} B per path ({} paths, {} attribute sets, {} blocks)",
        mib(live),
        live as f64 / f64::from(routes),
        stats.paths,
        stats.attribute_sets,
        BLOCKS.load(Ordering::Relaxed)
    );
    println!(
        "heap peak: {:.1} MiB; VmRSS: {} KiB",
        mib(PEAK.load(Ordering::Relaxed) - before),
        vm_rss_kib().unwrap_or(0)
    );
    println!("{}", rib.loc_rib_footprint());

    // Then the same routes withdrawn, 100 per UPDATE (MP_UNREACH_NLRI).
    let start = std::time::Instant::now();
    for nlri in batches(routes) {
        let update = IngressUpdate {
            withdrawn: vec![nlri],
            ..Default::default()
        };
        feed(&mut rib, source, update, &mut sink);
    }
    println!(
        "withdrawn: {:.2} s; heap in use after: {:.1} MiB, {} paths",
        start.elapsed().as_secs_f64(),
        mib(LIVE.load(Ordering::Relaxed) - before),
        rib.stats().paths
    );
}
