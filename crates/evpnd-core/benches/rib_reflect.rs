//! The reflector's pure RIB at fan-out (issue 15): N MAC-only type-2 routes
//! from one client announced, then withdrawn, reflected to K other clients
//! (one outbound group, so each batch is encoded once for all of them).
//! No sockets: what is measured is the RIB (ingress, Loc-RIB, the net
//! change per batch, the outbound plan and the UPDATE encoding).
//!
//! `cargo bench -p evpnd-core --bench rib_reflect`
//! Throughput is in routes (announced plus withdrawn) per second.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use evpnd_core::rib::workload::Reflector;
use std::time::Duration;

const ROUTES: u32 = 100_000;

fn announce_then_withdraw(c: &mut Criterion) {
    let mut group = c.benchmark_group("reflect_100k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(2 * u64::from(ROUTES)));
    for clients in [1u8, 10, 50] {
        group.bench_with_input(BenchmarkId::new("clients", clients), &clients, |b, &k| {
            b.iter(|| {
                let mut reflector = Reflector::new(k);
                reflector.announce(ROUTES);
                reflector.withdraw(ROUTES);
                assert_eq!(reflector.rib.stats().paths, 0);
                reflector.sink.messages
            });
        });
    }
    group.finish();
}

criterion_group!(benches, announce_then_withdraw);
criterion_main!(benches);
