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

use evpnd_core::rib::workload::Reflector;
use std::alloc::{GlobalAlloc, Layout, System};
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

    let mut reflector = Reflector::new(clients);
    let start = std::time::Instant::now();
    reflector.announce(routes);
    let elapsed = start.elapsed();
    let live = LIVE.load(Ordering::Relaxed) - before;
    let stats = reflector.rib.stats();
    println!(
        "{routes} routes from 1 client reflected to {clients}: {:.2} s in the pure RIB, {} UPDATEs ({:.0} MiB) sent",
        elapsed.as_secs_f64(),
        reflector.sink.messages,
        mib(reflector.sink.octets)
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
    println!("{}", reflector.rib.loc_rib_footprint());

    let start = std::time::Instant::now();
    reflector.withdraw(routes);
    println!(
        "withdrawn: {:.2} s; heap in use after: {:.1} MiB, {} paths",
        start.elapsed().as_secs_f64(),
        mib(LIVE.load(Ordering::Relaxed) - before),
        reflector.rib.stats().paths
    );
}
