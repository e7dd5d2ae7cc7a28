//! VTEP topology setup against a VLAN-aware kernel: run inside the VM by
//! `proto-tests/vtep-setup-vm.sh` (`scripts/vm -- <this binary>` with
//! `EVPND_VM_TEST=1`). The host kernel has no VLAN filtering; there the test
//! says so and returns, unless `EVPND_VM_TEST=1` demands the real thing.
//!
//! What it proves, one `PASS`/`FAIL` line per check (the scenario counts
//! them):
//! - `setup` turns an empty namespace into the topology of docs/kernel-state.md, as seen by
//!   `ip -d link`, `bridge vlan`, `bridge vlan tunnelshow`, `bridge vni`;
//! - a second `setup` changes nothing, `adopt` accepts the result;
//! - breaking it (learning on, VLAN untagged, a per-VNI device on the port)
//!   is refused with the problem's message; a missing tunnel_info is
//!   refused by `adopt` and put back by `setup`;
//! - two VTEPs set up this way, with remote entries installed through the
//!   dataplane `RequestSocket`, carry a ping between hosts on VLAN 10.

use evpnd_core::dataplane::{FloodEntry, Object, Op, RemoteMac, SuppressionNeighbor};
use evpnd_linux::setup::{self, SetupError, Topology, TopologySocket, TopologySpec, VlanVni};
use evpnd_linux::socket::RequestSocket;
use evpnd_wire::mac::MacAddress;
use serde_json::Value;
use std::net::IpAddr;
use std::process::Command;
use std::time::Instant;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `ip netns exec NS` + a command line split on spaces.
fn nsx(ns: &str, cmd: &str) -> Result<String, String> {
    let mut args = vec!["ip", "netns", "exec", ns];
    args.extend(cmd.split(' '));
    run(&args)
}

fn json(ns: &str, cmd: &str) -> Value {
    nsx(ns, cmd)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

/// Namespaces of this run, deleted on drop.
struct Namespaces(Vec<String>);

impl Namespaces {
    fn add(&mut self, name: &str) -> String {
        let full = format!("vs-{}-{name}", std::process::id());
        let _ = run(&["ip", "netns", "add", &full]);
        let _ = nsx(&full, "ip link set lo up");
        let _ = nsx(&full, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1");
        self.0.push(full.clone());
        full
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in &self.0 {
            let _ = run(&["ip", "netns", "del", ns]);
        }
    }
}

/// Runs `body` on a thread inside `ns` (setns is per thread; sockets stay in
/// the namespace they were opened in).
fn enter<T: Send>(ns: &str, body: impl FnOnce() -> T + Send) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let file = std::fs::File::open(&path).expect("open netns");
                use std::os::fd::AsRawFd;
                // SAFETY: setns on a valid namespace fd, for this thread only.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                body()
            })
            .join()
            .expect("netns thread panicked")
    })
}

fn spec(local: [u8; 4]) -> TopologySpec {
    TopologySpec {
        bridge: "br0".into(),
        vxlan_device: "vxlan0".into(),
        local_ip: IpAddr::from(local),
        vxlan_port: 4789,
        bridge_mac: None,
        // VNI 1020 for VLAN 20: a VLAN->VNI mix-up cannot pass unnoticed.
        vlan_vnis: [(10, 10), (20, 1020)]
            .into_iter()
            .map(|(vlan, vni)| VlanVni { vlan, vni })
            .collect(),
    }
}

fn run_setup(ns: &str, c: &TopologySpec) -> Result<(Topology, Vec<String>), SetupError> {
    enter(ns, || {
        let mut s = TopologySocket::open()?;
        setup::setup(&mut s, c).map(|(t, r)| (t, r.changes))
    })
}

fn run_adopt(ns: &str, c: &TopologySpec) -> Result<Topology, SetupError> {
    enter(ns, || {
        let mut s = TopologySocket::open()?;
        setup::adopt(&mut s, c)
    })
}

#[derive(Default)]
struct Checks {
    passed: usize,
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: impl std::fmt::Display) {
        if ok {
            self.passed += 1;
            println!("PASS {name}");
        } else {
            println!("FAIL {name}: {detail}");
            self.failed.push(name.to_owned());
        }
    }
}

fn vlan_filtering_available(ns: &str) -> bool {
    let ok = nsx(ns, "ip link add vsprobe type bridge vlan_filtering 1").is_ok();
    let _ = nsx(ns, "ip link del vsprobe");
    ok
}

fn link_json(ns: &str, dev: &str) -> Value {
    json(ns, &format!("ip -j -d link show dev {dev}"))
        .get(0)
        .cloned()
        .unwrap_or(Value::Null)
}

/// `bridge -j vlan show`-style entries of `dev`: the list under `key`.
fn bridge_entries(ns: &str, cmd: &str, dev: &str, key: &str) -> Vec<Value> {
    let v = json(ns, cmd);
    v.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e.get("ifname").and_then(Value::as_str) == Some(dev))
        .filter_map(|e| e.get(key).and_then(Value::as_array).cloned())
        .flatten()
        .collect()
}

fn has_flag(entry: &Value, flag: &str) -> bool {
    entry
        .get("flags")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(flag)))
}

/// The kernel state the recipe asks for, checked with iproute2's own view.
fn check_recipe(c: &mut Checks, ns: &str, tag: &str, vtep: &str) {
    let br = link_json(ns, "br0");
    let data = &br["linkinfo"]["info_data"];
    c.check(
        &format!("{tag}-bridge"),
        br["linkinfo"]["info_kind"] == "bridge"
            && data["vlan_filtering"] == 1
            && data["vlan_default_pvid"] == 0
            && br["flags"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == "UP")),
        format!("br0: {br}"),
    );
    let derived: String = {
        let octets: Vec<u8> = vtep.split('.').filter_map(|o| o.parse().ok()).collect();
        let mut m = vec![2u8, 0];
        m.extend(octets);
        m.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    c.check(
        &format!("{tag}-bridge-mac"),
        br["address"] == derived.as_str(),
        format!("br0 address {} != {derived}", br["address"]),
    );
    let vx = link_json(ns, "vxlan0");
    let d = &vx["linkinfo"]["info_data"];
    let s = &vx["linkinfo"]["info_slave_data"];
    c.check(
        &format!("{tag}-vxlan-device"),
        vx["linkinfo"]["info_kind"] == "vxlan"
            && d["external"] == true
            && d["vnifilter"] == true
            && d["learning"] == false
            && d["local"] == vtep
            && d["port"] == 4789
            && vx["master"] == "br0"
            && vx["flags"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == "UP")),
        format!("vxlan0: {d} master {}", vx["master"]),
    );
    c.check(
        &format!("{tag}-vxlan-port-flags"),
        s["learning"] == false && s["neigh_suppress"] == true && s["vlan_tunnel"] == true,
        format!("vxlan0 port: {s}"),
    );
    let vlans = bridge_entries(ns, "bridge -j -d vlan show", "vxlan0", "vlans");
    let tagged = |vid: u64| {
        vlans
            .iter()
            .any(|v| v["vlan"] == vid && !has_flag(v, "PVID") && !has_flag(v, "Egress Untagged"))
    };
    c.check(
        &format!("{tag}-vxlan-vlans-tagged"),
        tagged(10) && tagged(20),
        format!("bridge vlan show dev vxlan0: {vlans:?}"),
    );
    let self_vlans = bridge_entries(ns, "bridge -j -d vlan show", "br0", "vlans");
    let on_self = |vid: u64| {
        self_vlans
            .iter()
            .any(|v| v["vlan"] == vid && !has_flag(v, "Egress Untagged"))
    };
    c.check(
        &format!("{tag}-bridge-self-vlans"),
        on_self(10) && on_self(20),
        format!("bridge vlan show dev br0: {self_vlans:?}"),
    );
    let tunnels = bridge_entries(ns, "bridge -j vlan tunnelshow", "vxlan0", "tunnels");
    let maps = |vid: u64, vni: u64| {
        tunnels
            .iter()
            .any(|t| t["vlan"] == vid && t["tunid"] == vni && t.get("vlanEnd").is_none())
    };
    c.check(
        &format!("{tag}-tunnel-info"),
        maps(10, 10) && maps(20, 1020) && tunnels.len() == 2,
        format!("bridge vlan tunnelshow: {tunnels:?}"),
    );
    let vni_text = nsx(ns, "bridge vni show dev vxlan0").unwrap_or_default();
    let vnis: Vec<&str> = vni_text
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    c.check(
        &format!("{tag}-vni-filter"),
        vnis == ["10", "1020"],
        format!("bridge vni show: {vni_text:?}"),
    );
    for vid in [10, 20] {
        let svi = link_json(ns, &format!("vlan{vid}"));
        c.check(
            &format!("{tag}-svi-vlan{vid}"),
            svi["linkinfo"]["info_kind"] == "vlan"
                && svi["linkinfo"]["info_data"]["id"] == vid
                && svi["link"] == "br0"
                && svi["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == "UP")),
            format!("vlan{vid}: {svi}"),
        );
    }
}

fn refused_with(r: &Result<(Topology, Vec<String>), SetupError>, text: &str) -> bool {
    match r {
        Err(SetupError::Refused(problems)) => problems.iter().any(|p| p.to_string().contains(text)),
        _ => false,
    }
}

fn describe<T: std::fmt::Debug>(r: &Result<T, SetupError>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        // One line per problem, each a comment line in the scenario log.
        Err(e) => e.to_string().replace('\n', "\n#   "),
    }
}

#[test]
fn vtep_setup_in_a_vlan_aware_kernel() {
    let demanded = std::env::var_os("EVPND_VM_TEST").is_some();
    if !is_root() {
        assert!(!demanded, "EVPND_VM_TEST=1 but not root");
        eprintln!("skipped: needs root (network namespaces)");
        return;
    }
    let mut spaces = Namespaces(Vec::new());
    let v1 = spaces.add("v1");
    if !vlan_filtering_available(&v1) {
        assert!(
            !demanded,
            "EVPND_VM_TEST=1 but this kernel has no VLAN filtering"
        );
        eprintln!("skipped: this kernel has no bridge VLAN filtering (run it in scripts/vm)");
        return;
    }
    let v2 = spaces.add("v2");
    let h1 = spaces.add("h1");
    let h2 = spaces.add("h2");
    let mut c = Checks::default();
    let c1 = spec([198, 19, 0, 1]);
    let c2 = spec([198, 19, 0, 2]);

    // Underlay: one veth between the two VTEPs.
    let underlay = [
        format!("ip link add eth0 netns {v1} type veth peer name eth0 netns {v2}"),
        format!("ip -n {v1} addr add 198.19.0.1/24 dev eth0"),
        format!("ip -n {v2} addr add 198.19.0.2/24 dev eth0"),
        format!("ip -n {v1} link set eth0 up"),
        format!("ip -n {v2} link set eth0 up"),
    ];
    for cmd in &underlay {
        let args: Vec<&str> = cmd.split(' ').collect();
        if let Err(e) = run(&args) {
            c.check("underlay", false, e);
        }
    }

    // 1. From nothing to the recipe.
    let t = Instant::now();
    let first = run_setup(&v1, &c1);
    let elapsed = t.elapsed();
    c.check(
        "setup-from-empty",
        first.as_ref().is_ok_and(|(_, changes)| !changes.is_empty()),
        describe(&first),
    );
    if let Ok((_, changes)) = &first {
        println!("# setup took {elapsed:.2?}, {} changes:", changes.len());
        for ch in changes {
            println!("#   {ch}");
        }
    }
    check_recipe(&mut c, &v1, "v1", "198.19.0.1");
    let Ok((t1, _)) = first else {
        panic!("setup failed: {:?}", c.failed);
    };
    c.check(
        "topology-ifindexes",
        t1.vnifilter
            && t1.svis.len() == 2
            && nsx(&v1, "ip -o link show dev vxlan0")
                .is_ok_and(|s| s.starts_with(&format!("{}:", t1.vxlan_ifindex)))
            && nsx(&v1, "ip -o link show dev vlan20")
                .is_ok_and(|s| s.starts_with(&format!("{}:", t1.svi(20).unwrap_or(0)))),
        format!("{t1:?}"),
    );

    // 2. Idempotent, and adoptable.
    let again = run_setup(&v1, &c1);
    c.check(
        "setup-idempotent",
        again
            .as_ref()
            .is_ok_and(|(t, changes)| changes.is_empty() && *t == t1),
        describe(&again),
    );
    let adopted = run_adopt(&v1, &c1);
    c.check(
        "adopt-matching",
        adopted.as_ref().is_ok_and(|t| *t == t1),
        describe(&adopted),
    );

    // 3. Broken topologies are refused, naming the problem.
    let _ = nsx(&v1, "bridge link set dev vxlan0 learning on");
    let r = run_setup(&v1, &c1);
    println!("# learning on -> {}", describe(&r));
    c.check(
        "refuse-learning-on",
        refused_with(&r, "vxlan0: learning is on; evpnd needs `learning off`"),
        describe(&r),
    );
    let _ = nsx(&v1, "bridge link set dev vxlan0 learning off");

    let _ = nsx(&v1, "bridge vlan add dev vxlan0 vid 10 pvid untagged");
    let r = run_setup(&v1, &c1);
    println!("# VLAN 10 untagged -> {}", describe(&r));
    c.check(
        "refuse-untagged-vlan",
        refused_with(
            &r,
            "vxlan0 VLAN 10 is a pvid untagged member; it must be tagged",
        ),
        describe(&r),
    );
    let _ = nsx(&v1, "bridge vlan add dev vxlan0 vid 10");

    let _ = nsx(&v1, "bridge vlan del dev vxlan0 vid 20 tunnel_info id 1020");
    let a = run_adopt(&v1, &c1);
    c.check(
        "adopt-refuses-missing-tunnel-info",
        matches!(&a, Err(SetupError::Refused(p)) if p.len() == 1
            && p[0].to_string().starts_with("vxlan0 has no tunnel_info for VLAN 20")),
        describe(&a),
    );
    let r = run_setup(&v1, &c1);
    c.check(
        "setup-restores-tunnel-info",
        r.as_ref().is_ok_and(|(_, ch)| {
            ch == &["bridge vlan add dev vxlan0 vid 20 tunnel_info id 1020".to_owned()]
        }),
        describe(&r),
    );

    let _ = nsx(
        &v1,
        "ip link add vxlan99 type vxlan id 99 dstport 4789 local 198.19.0.1",
    );
    let r = run_setup(&v1, &c1);
    println!("# per-VNI device -> {}", describe(&r));
    c.check(
        "refuse-per-vni-device-on-port",
        refused_with(
            &r,
            "per-VNI vxlan device vxlan99 uses UDP 4789 in this namespace",
        ),
        describe(&r),
    );
    let _ = nsx(&v1, "ip link del vxlan99");
    let r = run_setup(&v1, &c1);
    c.check(
        "unchanged-after-repairs",
        r.as_ref().is_ok_and(|(t, ch)| ch.is_empty() && *t == t1),
        describe(&r),
    );

    // 4. Two VTEPs and a ping across VXLAN on VLAN 10 / VNI 10.
    let second = run_setup(&v2, &c2);
    c.check("setup-v2", second.is_ok(), describe(&second));
    check_recipe(&mut c, &v2, "v2", "198.19.0.2");
    let Ok((t2, _)) = second else {
        panic!("v2 setup failed");
    };
    let mac = |n: u8| MacAddress([0x02, 0x0a, 0, 0, 0, n]);
    for (h, v, n) in [(&h1, &v1, 1u8), (&h2, &v2, 2u8)] {
        for cmd in [
            format!("ip link add eth0 netns {h} type veth peer name p{n} netns {v}"),
            format!("ip -n {h} link set eth0 address 02:0a:00:00:00:0{n}"),
            format!("ip -n {h} addr add 198.18.10.{n}/24 dev eth0"),
            format!("ip -n {h} link set eth0 up"),
            format!("ip -n {v} link set p{n} master br0"),
            format!("bridge -n {v} vlan add dev p{n} vid 10 pvid untagged"),
            format!("ip -n {v} link set p{n} up"),
        ] {
            let args: Vec<&str> = cmd.split(' ').collect();
            if let Err(e) = run(&args) {
                c.check("hosts", false, e);
            }
        }
    }
    // Flood entries and remote MACs first: the hosts' ARP requests must then
    // cross VXLAN through the flood list (VLAN 10 -> VNI 10 by tunnel_info,
    // accepted by the peer's VNI filter).
    let remote_ops = |remote: [u8; 4], remote_host: u8| {
        let vtep = IpAddr::from(remote);
        vec![
            Op::Add(Object::Flood(FloodEntry { vni: 10, vtep })),
            Op::Add(Object::Mac(RemoteMac {
                vni: 10,
                vlan: 10,
                mac: mac(remote_host),
                vtep,
                sticky: false,
            })),
        ]
    };
    let install = |ns: &str, t: &Topology, ops: Vec<Op>| {
        enter(ns, || {
            RequestSocket::open()
                .map_err(|e| e.to_string())
                .and_then(|mut s| s.apply(&ops, &t.ownership()).map_err(|e| e.to_string()))
        })
    };
    // Control: without remote entries nothing crosses (no flood list).
    let before = nsx(&h1, "ping -c 1 -W 1 198.18.10.2");
    c.check(
        "no-ping-before-remote-entries",
        before.is_err(),
        "ping succeeded without any flood entry",
    );
    let _ = nsx(&h1, "ip neigh flush dev eth0");
    let r1 = install(&v1, &t1, remote_ops([198, 19, 0, 2], 2));
    let r2 = install(&v2, &t2, remote_ops([198, 19, 0, 1], 1));
    c.check(
        "remote-entries-installed",
        matches!((&r1, &r2), (Ok(a), Ok(b)) if a.failures.is_empty() && b.failures.is_empty() && a.applied == 2 && b.applied == 2),
        format!("{r1:?} {r2:?}"),
    );
    let fdb = nsx(&v1, "bridge fdb show dev vxlan0").unwrap_or_default();
    c.check(
        "fdb-rows",
        fdb.contains("00:00:00:00:00:00 dst 198.19.0.2 src_vni 10 self")
            && fdb.contains("02:0a:00:00:00:02 dst 198.19.0.2 src_vni 10 self extern_learn")
            && fdb.contains("02:0a:00:00:00:02 vlan 10 extern_learn master br0"),
        &fdb,
    );
    let t = Instant::now();
    let ping = nsx(&h1, "ping -c 3 -i 0.2 -W 2 198.18.10.2");
    println!("# ping took {:.2?}", t.elapsed());
    c.check("ping-h1-h2-over-vxlan", ping.is_ok(), describe_ping(&ping));
    let ping = nsx(&h2, "ping -c 2 -i 0.2 -W 2 198.18.10.1");
    c.check("ping-h2-h1-over-vxlan", ping.is_ok(), describe_ping(&ping));

    // The SVI ifindex from Topology is where suppression neighbours go.
    let neighbor = Op::Add(Object::Neighbor(SuppressionNeighbor {
        ifindex: t1.svi(10).unwrap_or(0),
        ip: IpAddr::from([198, 18, 10, 2]),
        mac: mac(2),
    }));
    let r = install(&v1, &t1, vec![neighbor]);
    let neigh = nsx(&v1, "ip neigh show dev vlan10").unwrap_or_default();
    c.check(
        "suppression-neighbour-on-svi",
        r.as_ref().is_ok_and(|a| a.applied == 1)
            && neigh.contains("198.18.10.2 lladdr 02:0a:00:00:00:02 extern_learn NOARP"),
        format!("{r:?} {neigh:?}"),
    );
    println!(
        "vtep-setup-vm: {} passed, {} failed",
        c.passed,
        c.failed.len()
    );
    assert!(c.failed.is_empty(), "failed checks: {:?}", c.failed);
}

fn describe_ping(r: &Result<String, String>) -> String {
    match r {
        Ok(s) | Err(s) => s.lines().last().unwrap_or_default().to_owned(),
    }
}
