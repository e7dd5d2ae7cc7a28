//! Dataplane against the host kernel, in private network namespaces.
//!
//! Needs root (creates `dp-<pid>-<n>` namespaces with `ip netns add`); the
//! tests skip with a message otherwise. The host kernel has no VLAN
//! filtering, so remote MACs use VLAN 0 (no NDA_VLAN): the bridge keys its
//! `master` row by MAC alone. The VLAN-aware form is covered by the golden
//! byte tests only.

use evpnd_core::dataplane::{
    FloodEntry, KernelState, Object, Op, Ownership, RemoteMac, SuppressionNeighbor, diff,
};
use evpnd_linux::nl::neigh::NeighEvent;
use evpnd_linux::socket::{AckMode, EventSocket, OpErrorKind, RequestSocket};
use evpnd_wire::mac::MacAddress;
use std::ffi::CString;
use std::net::IpAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const AF_BRIDGE: u8 = 7;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

static NEXT_NS: AtomicU32 = AtomicU32::new(0);

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A namespace with br0 (plain bridge) and an `external` vxlan0 port, as in
/// the SVD recipe minus VLAN filtering. Deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let name = format!(
            "dp-{}-{}",
            std::process::id(),
            NEXT_NS.fetch_add(1, Ordering::Relaxed)
        );
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        for cmd in [
            "link add br0 type bridge",
            "link add vxlan0 type vxlan dstport 4789 local 198.18.1.1 nolearning external",
            "link set vxlan0 master br0",
            "link set br0 up",
            "link set vxlan0 up",
        ] {
            let mut args = vec!["ip", "-n", &ns.name];
            args.extend(cmd.split(' '));
            sh(&args);
        }
        ns
    }

    fn run(&self, cmd: &str) -> String {
        let mut args = vec!["ip", "netns", "exec", &self.name];
        args.extend(cmd.split(' '));
        sh(&args)
    }

    /// Runs `body` on a thread that has entered the namespace (setns affects
    /// only the calling thread; sockets stay in the namespace they were
    /// created in).
    fn enter<T: Send>(&self, body: impl FnOnce(Ownership) -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    let file = std::fs::File::open(&path).expect("open netns");
                    use std::os::fd::AsRawFd;
                    // SAFETY: setns on a valid namespace fd for this thread.
                    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                    let own = Ownership {
                        vxlan_ifindex: ifindex("vxlan0"),
                        bridge_ifindex: ifindex("br0"),
                    };
                    body(own)
                })
                .join()
                .expect("netns thread panicked")
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn ifindex(name: &str) -> u32 {
    let c = CString::new(name).expect("name");
    // SAFETY: valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert_ne!(i, 0, "no interface {name}");
    i
}

fn vtep(i: usize) -> IpAddr {
    IpAddr::from([198, 19, (i / 250) as u8, 1 + (i % 250) as u8])
}

fn mac(i: usize) -> MacAddress {
    let b = (i as u32).to_be_bytes();
    MacAddress([0x02, 0x0a, b[0], b[1], b[2], b[3]])
}

/// `floods` flood rows over 10 VNIs and `macs` remote MACs.
fn desired(floods: usize, macs: usize) -> KernelState {
    let mut s = KernelState::new();
    for i in 0..floods {
        s.upsert(Object::Flood(FloodEntry {
            vni: 10 + (i % 10) as u32,
            vtep: vtep(i / 10),
        }));
    }
    for i in 0..macs {
        s.upsert(Object::Mac(RemoteMac {
            vni: 10 + (i % 10) as u32,
            vlan: 0,
            mac: mac(i),
            vtep: vtep(i % 500),
            sticky: i % 97 == 0,
        }));
    }
    s
}

fn observe(sock: &mut RequestSocket, own: &Ownership, svi: Option<u32>) -> KernelState {
    let mut rows: Vec<_> = sock
        .dump_owned(AF_BRIDGE, own.vxlan_ifindex, own)
        .expect("fdb dump")
        .into_iter()
        .map(|e| *e.row())
        .collect();
    if let Some(svi) = svi {
        for family in [AF_INET, AF_INET6] {
            rows.extend(
                sock.dump_owned(family, svi, own)
                    .expect("neigh dump")
                    .into_iter()
                    .map(|e| *e.row()),
            );
        }
    }
    KernelState::from_rows(rows, |_| Some(0))
}

fn apply_ok(sock: &mut RequestSocket, ops: &[Op], own: &Ownership) {
    let report = sock.apply(ops, own).expect("apply");
    assert!(
        report.failures.is_empty(),
        "{}",
        report
            .failures
            .iter()
            .take(5)
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    );
    assert_eq!(report.applied, ops.len());
}

#[test]
fn install_dump_and_remove_1000_floods_and_1000_remote_macs() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = Netns::new();
    ns.enter(|own| {
        let mut sock = RequestSocket::open().expect("socket");
        let want = desired(1000, 1000);
        assert_eq!(observe(&mut sock, &own, None), KernelState::new());

        let ops = diff(&want, &KernelState::new());
        assert_eq!(ops.len(), 2000);
        apply_ok(&mut sock, &ops, &own);

        let seen = observe(&mut sock, &own, None);
        assert!(seen.strays.is_empty(), "{:?}", seen.strays.first());
        assert_eq!(seen, want);
        assert!(diff(&want, &seen).is_empty());

        // Withdraw everything: one combined delete per MAC removes both rows.
        let ops = diff(&KernelState::new(), &seen);
        apply_ok(&mut sock, &ops, &own);
        assert_eq!(observe(&mut sock, &own, None), KernelState::new());
    });
    // Kernel view agrees: only the bridge's own local rows are left.
    let left = ns.run("bridge fdb show dev vxlan0");
    assert!(!left.contains("198.19."), "{left}");
}

#[test]
fn a_moved_mac_is_replaced_in_place_and_half_rows_are_healed() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = Netns::new();
    let m = RemoteMac {
        vni: 10,
        vlan: 0,
        mac: mac(1),
        vtep: vtep(1),
        sticky: false,
    };
    ns.enter(|own| {
        let mut sock = RequestSocket::open().expect("socket");
        apply_ok(&mut sock, &[Op::Add(Object::Mac(m))], &own);
        let mut want = KernelState::new();
        let moved = RemoteMac { vtep: vtep(2), ..m };
        want.upsert(Object::Mac(moved));
        let ops = diff(&want, &observe(&mut sock, &own, None));
        assert_eq!(ops, vec![Op::Replace(Object::Mac(moved))]);
        apply_ok(&mut sock, &ops, &own);
        assert_eq!(observe(&mut sock, &own, None), want);
    });
    // Someone deletes the bridge half: observed shows a stray self row, and
    // the diff heals it with one replace.
    ns.run("bridge fdb del 02:0a:00:00:00:01 dev vxlan0 master");
    ns.enter(|own| {
        let mut sock = RequestSocket::open().expect("socket");
        let seen = observe(&mut sock, &own, None);
        assert!(seen.macs.is_empty());
        assert_eq!(seen.strays.len(), 1);
        let mut want = KernelState::new();
        want.upsert(Object::Mac(RemoteMac { vtep: vtep(2), ..m }));
        let ops = diff(&want, &seen);
        assert!(matches!(ops.as_slice(), [Op::Replace(Object::Mac(_))]));
        apply_ok(&mut sock, &ops, &own);
        assert_eq!(observe(&mut sock, &own, None), want);
    });
}

/// The MAC moved to a local port: the bridge moved its row away from vxlan0,
/// so the remote MAC's combined delete finds no bridge row (ENOENT) and the
/// kernel leaves the vxlan row. `apply` must still remove it, and report
/// success: the object is gone, as asked.
#[test]
fn deleting_a_mac_whose_bridge_row_moved_away_removes_the_vxlan_row() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = Netns::new();
    let m = RemoteMac {
        vni: 10,
        vlan: 0,
        mac: mac(7),
        vtep: vtep(1),
        sticky: false,
    };
    ns.enter(|own| {
        let mut sock = RequestSocket::open().expect("socket");
        apply_ok(&mut sock, &[Op::Add(Object::Mac(m))], &own);
    });
    ns.run("bridge fdb del 02:0a:00:00:00:07 dev vxlan0 master");
    ns.enter(|own| {
        let mut sock = RequestSocket::open().expect("socket");
        let report = sock
            .apply(&[Op::Delete(Object::Mac(m))], &own)
            .expect("apply");
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert!(
            observe(&mut sock, &own, None).is_empty(),
            "the vxlan row is gone too"
        );
        // Deleting what is already gone is not an error either.
        let again = sock
            .apply(&[Op::Delete(Object::Mac(m))], &own)
            .expect("apply");
        assert!(again.failures.is_empty(), "{:?}", again.failures);
    });
}

#[test]
fn foreign_entries_are_never_owned_nor_deleted() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = Netns::new();
    // What an operator or FRR might have put there: no extern_learn on fdb
    // rows, zebra's protocol on neighbours.
    ns.run(
        "bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst 198.19.9.9 src_vni 99 self permanent",
    );
    ns.run("bridge fdb add 02:99:00:00:00:01 dev vxlan0 dst 198.19.9.9 src_vni 99 self permanent");
    ns.run("bridge fdb add 02:99:00:00:00:02 dev vxlan0 master static");
    ns.run("ip neigh replace 198.18.99.1 lladdr 02:99:00:00:00:03 dev br0 nud noarp extern_learn protocol zebra");
    ns.run("ip neigh replace 198.18.99.2 lladdr 02:99:00:00:00:04 dev br0 nud permanent");
    ns.enter(|own| {
        let mut sock = RequestSocket::open().expect("socket");
        let svi = own.bridge_ifindex;
        assert_eq!(observe(&mut sock, &own, Some(svi)), KernelState::new());
        // Install ours next to them, then converge to empty.
        let mut want = desired(20, 20);
        want.upsert(Object::Neighbor(SuppressionNeighbor {
            ifindex: svi,
            ip: IpAddr::from([198, 18, 10, 1]),
            mac: mac(1),
        }));
        want.upsert(Object::Neighbor(SuppressionNeighbor {
            ifindex: svi,
            ip: "2001:db8::1".parse().expect("v6"),
            mac: mac(2),
        }));
        apply_ok(&mut sock, &diff(&want, &KernelState::new()), &own);
        let seen = observe(&mut sock, &own, Some(svi));
        assert_eq!(seen.neighbors, want.neighbors);
        assert_eq!(seen, want);
        let seen = observe(&mut sock, &own, Some(svi));
        apply_ok(&mut sock, &diff(&KernelState::new(), &seen), &own);
        assert_eq!(observe(&mut sock, &own, Some(svi)), KernelState::new());
    });
    let fdb = ns.run("bridge fdb show dev vxlan0");
    assert!(
        fdb.contains("00:00:00:00:00:00 dst 198.19.9.9 src_vni 99 self permanent"),
        "{fdb}"
    );
    assert!(fdb.contains("02:99:00:00:00:01 dst 198.19.9.9"), "{fdb}");
    assert!(fdb.contains("02:99:00:00:00:02 master br0 static"), "{fdb}");
    let neigh = ns.run("ip neigh show dev br0");
    assert!(
        neigh.contains("198.18.99.1 lladdr 02:99:00:00:00:03"),
        "{neigh}"
    );
    assert!(
        neigh.contains("198.18.99.2 lladdr 02:99:00:00:00:04"),
        "{neigh}"
    );
    assert!(!neigh.contains("198.18.10.1"), "{neigh}");
}

#[test]
fn one_failing_object_is_reported_with_that_object_and_the_rest_applies() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = Netns::new();
    ns.enter(|own| {
        for mode in [AckMode::EveryRequest, AckMode::ErrorsAndLast] {
            let mut sock = RequestSocket::open().expect("socket");
            sock.set_ack_mode(mode);
            let mut ops: Vec<Op> = diff(&desired(300, 300), &KernelState::new());
            // A neighbour on an ifindex that does not exist fails (ENODEV)
            // in the middle of the second batch.
            let bad = Op::Add(Object::Neighbor(SuppressionNeighbor {
                ifindex: 999_999,
                ip: IpAddr::from([198, 18, 10, 9]),
                mac: mac(9),
            }));
            ops.insert(300, bad);
            let report = sock.apply(&ops, &own).expect("apply");
            assert_eq!(report.failures.len(), 1, "{mode:?}");
            let failure = &report.failures[0];
            assert_eq!(failure.op, bad);
            assert!(
                matches!(
                    failure.kind,
                    OpErrorKind::Kernel {
                        errno: libc::ENODEV,
                        ..
                    }
                ),
                "{failure}"
            );
            assert!(
                failure.to_string().starts_with("add neigh 198.18.10.9"),
                "{failure}"
            );
            assert_eq!(report.applied, 600, "{mode:?}");
            assert!(!report.resync_needed);
            let seen = observe(&mut sock, &own, None);
            assert_eq!(seen, desired(300, 300));
            apply_ok(&mut sock, &diff(&KernelState::new(), &seen), &own);
        }
    });
}

#[test]
fn events_report_owned_rows_only() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let ns = Netns::new();
    ns.enter(|own| {
        let mut events = EventSocket::subscribe().expect("subscribe");
        let timeout = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        use std::os::fd::AsRawFd;
        // SAFETY: setsockopt with a live timeval of the right size.
        let rc = unsafe {
            libc::setsockopt(
                events.socket().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0);
        let mut sock = RequestSocket::open().expect("socket");
        let m = RemoteMac {
            vni: 10,
            vlan: 0,
            mac: mac(7),
            vtep: vtep(7),
            sticky: false,
        };
        let f = FloodEntry {
            vni: 10,
            vtep: vtep(8),
        };
        apply_ok(
            &mut sock,
            &[Op::Add(Object::Flood(f)), Op::Add(Object::Mac(m))],
            &own,
        );
        apply_ok(&mut sock, &[Op::Delete(Object::Mac(m))], &own);
        let mut got = Vec::new();
        while got.len() < 5 {
            match events.recv(&own) {
                Ok(batch) => got.extend(batch),
                Err(e) => panic!("after {got:?}: {e}"),
            }
        }
        use evpnd_core::dataplane::OwnedRow;
        let self_row = OwnedRow::MacSelf {
            vni: 10,
            mac: m.mac,
            vtep: m.vtep,
            sticky: false,
        };
        let master_row = OwnedRow::MacMaster {
            vlan: 0,
            mac: m.mac,
            sticky: false,
        };
        assert!(
            got.contains(&NeighEvent::New(OwnedRow::Flood(f))),
            "{got:?}"
        );
        assert!(got.contains(&NeighEvent::New(self_row)), "{got:?}");
        assert!(got.contains(&NeighEvent::New(master_row)), "{got:?}");
        assert!(got.contains(&NeighEvent::Deleted(self_row)), "{got:?}");
        assert!(got.contains(&NeighEvent::Deleted(master_row)), "{got:?}");
    });
}
