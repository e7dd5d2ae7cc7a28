//! Encoding cost of the fdb bench's rows (101k: 100k remote MACs, 1k flood rows)
//! without a kernel: `cargo run --release -p evpnd-linux --example encode_rows`.
//! Separates the typed encoding from the kernel's time in benches/fdb_install.rs.

use evpnd_core::dataplane::{FloodEntry, KernelState, Object, Ownership, RemoteMac, diff};
use evpnd_linux::nl::neigh::encode_op;
use evpnd_wire::mac::MacAddress;
use std::net::IpAddr;
use std::time::Instant;

fn main() {
    let mut s = KernelState::new();
    for i in 0..1000usize {
        s.upsert(Object::Flood(FloodEntry {
            vni: 10 + (i % 10) as u32,
            vtep: IpAddr::from([198, 19, (i / 250) as u8, 1 + (i % 250) as u8]),
        }));
    }
    for i in 0..100_000usize {
        let b = (i as u32).to_be_bytes();
        s.upsert(Object::Mac(RemoteMac {
            vni: 10 + (i % 10) as u32,
            vlan: 0,
            mac: MacAddress([0x02, 0x00, b[0], b[1], b[2], b[3]]),
            vtep: IpAddr::from([198, 19, 1 + ((i / 250) % 250) as u8, 1 + (i % 250) as u8]),
            sticky: false,
        }));
    }
    let own = Ownership {
        vxlan_ifindex: 3,
        bridge_ifindex: 2,
    };
    let ops = diff(&s, &KernelState::new());
    let mut out = Vec::with_capacity(1 << 16);
    let mut best = f64::MAX;
    let mut sizes = 0usize;
    for _ in 0..15 {
        let t = Instant::now();
        for (i, op) in ops.iter().enumerate() {
            if i % 256 == 0 {
                sizes += out.len();
                out.clear();
            }
            encode_op(op, &own, i as u32, &mut out).unwrap();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{} ops: best {:.2} ms, {:.0} ns/op ({sizes})",
        ops.len(),
        best * 1e3,
        best * 1e9 / ops.len() as f64
    );
}
