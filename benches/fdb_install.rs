//! Kernel install/withdraw rate of the batched netlink socket: 100k remote
//! MACs (each one RTM_NEWNEIGH creating the vxlan `self` row and the bridge
//! `master` row) plus 1k flood rows, in a private netns `dp-bench-<pid>`.
//!
//! Needs root (skips otherwise). Run: `cargo bench --bench fdb_install`.
//! Compare with the raw-netlink ceiling on the same kernel:
//! `scripts/bench-fdb.sh` (docs/benchmarking.md).
//!
//! `fdb/encode_101k_rows` encodes the same rows without a kernel (no root
//! needed): the typed netlink encoding's share of the install time.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use evpnd_core::dataplane::{FloodEntry, KernelState, Object, Op, Ownership, RemoteMac, diff};
use evpnd_linux::nl::neigh::encode_op;
use evpnd_linux::socket::{AckMode, RequestSocket};
use evpnd_wire::mac::MacAddress;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

const MACS: usize = 100_000;
const FLOODS: usize = 1_000;

fn sh(args: &[&str]) {
    let ok = Command::new(args[0])
        .args(&args[1..])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "{args:?} failed");
}

struct Netns(String);

impl Netns {
    fn enter() -> Netns {
        let name = format!("dp-bench-{}", std::process::id());
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns(name);
        for cmd in [
            "link add br0 type bridge",
            "link add vxlan0 type vxlan dstport 4789 local 198.18.1.1 nolearning external",
            "link set vxlan0 master br0",
            "link set br0 up",
            "link set vxlan0 up",
        ] {
            let mut args = vec!["ip", "-n", &ns.0];
            args.extend(cmd.split(' '));
            sh(&args);
        }
        let file = std::fs::File::open(format!("/run/netns/{}", ns.0)).expect("netns");
        use std::os::fd::AsRawFd;
        // SAFETY: setns on a valid netns fd; criterion runs on this thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ifindex(name: &str) -> u32 {
    let c = std::ffi::CString::new(name).expect("name");
    // SAFETY: valid C string.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

fn state() -> KernelState {
    let mut s = KernelState::new();
    for i in 0..FLOODS {
        s.upsert(Object::Flood(FloodEntry {
            vni: 10 + (i % 10) as u32,
            vtep: IpAddr::from([198, 19, (i / 250) as u8, 1 + (i % 250) as u8]),
        }));
    }
    for i in 0..MACS {
        let b = (i as u32).to_be_bytes();
        s.upsert(Object::Mac(RemoteMac {
            vni: 10 + (i % 10) as u32,
            vlan: 0,
            mac: MacAddress([0x02, 0x00, b[0], b[1], b[2], b[3]]),
            vtep: IpAddr::from([198, 19, 1 + ((i / 250) % 250) as u8, 1 + (i % 250) as u8]),
            sticky: false,
        }));
    }
    s
}

fn run(sock: &mut RequestSocket, ops: &[Op], own: &Ownership) -> Duration {
    let t = Instant::now();
    let report = sock.apply(ops, own).expect("apply");
    let d = t.elapsed();
    assert!(report.failures.is_empty(), "{}", report.failures[0]);
    d
}

/// Encoding only, batches of 256 as the request socket sends them.
fn encode(c: &mut Criterion) {
    let own = Ownership {
        vxlan_ifindex: 3,
        bridge_ifindex: 2,
    };
    let install = diff(&state(), &KernelState::new());
    let mut group = c.benchmark_group("fdb");
    group.sample_size(20);
    group.throughput(Throughput::Elements(install.len() as u64));
    let mut out = Vec::with_capacity(1 << 16);
    group.bench_function("encode_101k_rows", |b| {
        b.iter(|| {
            for (i, op) in install.iter().enumerate() {
                if i % 256 == 0 {
                    out.clear();
                }
                encode_op(op, &own, i as u32, &mut out).expect("installable");
            }
            out.len()
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("fdb_install: skipped, needs root");
        return;
    }
    let _ns = Netns::enter();
    let own = Ownership {
        vxlan_ifindex: ifindex("vxlan0"),
        bridge_ifindex: ifindex("br0"),
    };
    let desired = state();
    let install = diff(&desired, &KernelState::new());
    let withdraw = diff(&KernelState::new(), &desired);
    let mut group = c.benchmark_group("fdb");
    // One install or withdraw of 101k entries per sample: flat sampling
    // keeps the run to ~20 s per function.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(install.len() as u64));
    for (label, mode) in [
        ("ack-every", AckMode::EveryRequest),
        ("ack-errors+last", AckMode::ErrorsAndLast),
    ] {
        let mut sock = RequestSocket::open().expect("socket");
        sock.set_ack_mode(mode);
        group.bench_function(format!("install_100k_macs_1k_floods/{label}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += run(&mut sock, &install, &own);
                    run(&mut sock, &withdraw, &own);
                }
                total
            })
        });
        group.bench_function(format!("withdraw_100k_macs_1k_floods/{label}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    run(&mut sock, &install, &own);
                    total += run(&mut sock, &withdraw, &own);
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode, bench);
criterion_main!(benches);
