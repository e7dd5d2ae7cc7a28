//! `evpnd reload` and SIGHUP on a running reflector (issue 13, live
//! reconfiguration), with scripted peers on loopback addresses: a neighbour
//! added establishes and gets the table, a removed one gets Cease / Peer
//! De-configured and its routes are withdrawn, the other sessions are not
//! reset; a bad file changes nothing and the error names the key.

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::*;
use evpnd::api::protocol::{ConfigStatus, Request, Response};
use evpnd_wire::evpn::EvpnRoute;
use evpnd_wire::extcomm::ExtendedCommunity;
use evpnd_wire::notification::{CeaseSubcode, ErrorCode};
use evpnd_wire::pmsi::PmsiTunnel;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Output;
use std::time::{Duration, Instant};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const C: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);

fn write_config(d: &Daemon, neighbors: &[Ipv4Addr]) {
    write_text(d, &rr_config(d.port, neighbors, &d.socket));
}

fn write_text(d: &Daemon, text: &str) {
    std::fs::write(d.dir.join("evpnd.toml"), text).expect("write config");
}

fn reload_cli(d: &Daemon) -> Output {
    d.cli(&["reload"])
}

fn status(d: &Daemon) -> ConfigStatus {
    match d.request(Request::ShowConfig) {
        Response::Config(status) => status,
        other => panic!("show config: {other:?}"),
    }
}

fn established_at(d: &Daemon, peer: Ipv4Addr) -> u64 {
    d.wait_state(peer, "Established")
        .established_at_ms
        .expect("an Established session has its start time")
}

/// C's type-3 route, with the attributes an FRR VTEP sends.
fn c_route() -> (EvpnRoute, bytes::Bytes) {
    let route = type3(rd(C, 10), C);
    let attributes = vtep_attributes(
        true,
        &[rt(10), ExtendedCommunity::VXLAN_ENCAPSULATION],
        Some(PmsiTunnel::ingress_replication(10, IpAddr::V4(C))),
    );
    (route, attributes)
}

#[test]
fn a_reload_adds_and_removes_a_neighbour_and_leaves_the_others_alone() {
    let d = Daemon::start("reload-add-remove", &[A, B]);
    let mut a = Speaker::establish(A, A, d.port);
    let _ = a.initial_table();
    let mut b = Speaker::establish(B, B, d.port);
    let _ = b.initial_table();
    let (a_up, b_up) = (established_at(&d, A), established_at(&d, B));
    assert_eq!(status(&d).generation, 1);

    // Not a neighbour yet: refused.
    let mut early = Speaker::connect(C, C, d.port);
    assert_eq!(
        early.expect_notification().code,
        ErrorCode::Cease(CeaseSubcode::ConnectionRejected)
    );

    write_config(&d, &[A, B, C]);
    let out = reload_cli(&d);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}\n{}", d.log());
    assert_eq!(
        stdout,
        format!("reloaded: generation 2\n  neighbor {C} added\n")
    );
    assert_eq!(status(&d).generation, 2);

    // The new neighbour establishes, gets the table, and its routes reach
    // the others.
    let mut c = Speaker::establish(C, C, d.port);
    assert_eq!(c.initial_table().end_of_rib, 1);
    let (route, attributes) = c_route();
    c.announce(C, &attributes, std::slice::from_ref(&route));
    let mut seen = Received::default();
    a.collect_until(&mut seen, |r| !r.announced.is_empty());
    assert_eq!(seen.announced_keys(), vec![key(&route)]);

    // The others' sessions were not reset.
    assert_eq!(established_at(&d, A), a_up);
    assert_eq!(established_at(&d, B), b_up);

    // Removed: Cease / Peer De-configured (RFC 4486 subcode 3), its route
    // withdrawn from the others, gone from show neighbors.
    write_config(&d, &[A, B]);
    let started = Instant::now();
    let out = reload_cli(&d);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("reloaded: generation 3\n  neighbor {C} removed\n")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let n = c.expect_notification();
    assert_eq!(
        n.code,
        ErrorCode::Cease(CeaseSubcode::PeerDeconfigured),
        "{n}"
    );
    c.expect_closed();
    let mut gone = Received::default();
    a.collect_until(&mut gone, |r| !r.withdrawn.is_empty());
    assert_eq!(gone.withdrawn_keys(), vec![key(&route)]);
    assert!(d.neighbors().iter().all(|n| n.address != IpAddr::V4(C)));
    assert_eq!(established_at(&d, A), a_up);
    assert_eq!(established_at(&d, B), b_up);
    assert_eq!(status(&d).generation, 3);
    // And it is refused again.
    let mut late = Speaker::connect(C, C, d.port);
    assert_eq!(
        late.expect_notification().code,
        ErrorCode::Cease(CeaseSubcode::ConnectionRejected)
    );
}

#[test]
fn a_changed_neighbour_is_reset_alone_and_a_description_resets_nothing() {
    let d = Daemon::start("reload-change", &[A, B]);
    let mut a = Speaker::establish(A, A, d.port);
    let _ = a.initial_table();
    let mut b = Speaker::establish(B, B, d.port);
    let _ = b.initial_table();
    let (a_up, b_up) = (established_at(&d, A), established_at(&d, B));

    // B's hold time: its session is reset (Peer De-configured), A's is not.
    let text = rr_config(d.port, &[A, B], &d.socket);
    let changed = text.replacen(
        "description = \"peer1\"",
        "description = \"peer1\"\nhold_time = 30",
        1,
    );
    assert_ne!(changed, text);
    write_text(&d, &changed);
    let out = reload_cli(&d);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("reloaded: generation 2\n  neighbor {B} changed (session reset)\n")
    );
    assert_eq!(
        b.expect_notification().code,
        ErrorCode::Cease(CeaseSubcode::PeerDeconfigured)
    );
    let mut b = Speaker::establish(B, B, d.port);
    let _ = b.initial_table();
    assert_ne!(established_at(&d, B), b_up);
    assert_eq!(established_at(&d, A), a_up);

    // A description alone: no reset.
    let renamed = changed.replacen("description = \"peer0\"", "description = \"spine\"", 1);
    write_text(&d, &renamed);
    let out = reload_cli(&d);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("reloaded: generation 3\n  neighbor {A} description changed\n")
    );
    assert_eq!(d.neighbor(A).description.as_deref(), Some("spine"));
    assert_eq!(established_at(&d, A), a_up);
    // Nothing but KEEPALIVEs reached A.
    let mut quiet = Received::default();
    a.drain(&mut quiet, QUIET);
    assert!(quiet.notifications.is_empty(), "{quiet:?}");

    // The same file again: no change, same generation.
    let out = reload_cli(&d);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "no change: generation 3 already runs this configuration\n"
    );
}

#[test]
fn a_bad_file_changes_nothing_and_the_error_names_the_key() {
    let d = Daemon::start("reload-refused", &[A]);
    let mut a = Speaker::establish(A, A, d.port);
    let _ = a.initial_table();
    let a_up = established_at(&d, A);
    let good = rr_config(d.port, &[A], &d.socket);

    for (bad, key) in [
        (
            good.replacen("address = \"127.0.0.2\"", "address = \"127.0.0.x\"", 1),
            "neighbors[0].address",
        ),
        (
            good.replacen(
                "remote_as = 65000",
                "remote_as = 65000\ncolour = \"blue\"",
                1,
            ),
            "colour",
        ),
        (
            good.replacen(
                "router_id = \"198.18.0.1\"",
                "router_id = \"198.18.0.9\"",
                1,
            ),
            "bgp.router_id",
        ),
        (good.replacen("[bgp]", "[bgp", 1), "evpnd.toml"),
    ] {
        assert_ne!(bad, good, "{key}");
        write_text(&d, &bad);
        let out = reload_cli(&d);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {out:?}");
        assert!(
            stderr.starts_with("reload refused, nothing changed (generation 1 still runs): ")
                && stderr.contains(key),
            "{key}: {stderr}"
        );
        if key == "bgp.router_id" {
            assert!(stderr.contains("restart"), "{stderr}");
        }
        let status = status(&d);
        assert_eq!(status.generation, 1);
        assert!(
            status
                .last_refused
                .as_deref()
                .is_some_and(|r| r.contains(key)),
            "{status:?}"
        );
    }
    assert_eq!(established_at(&d, A), a_up);
    let mut quiet = Received::default();
    a.drain(&mut quiet, QUIET);
    assert!(quiet.notifications.is_empty(), "{quiet:?}");
    // show config as the CLI prints it.
    let out = d.show_cli(&["config"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Configuration generation 1\nFile: ")
            && text.contains("Last reload refused: "),
        "{text}"
    );
}

#[test]
fn sighup_reloads_as_the_command_does() {
    let d = Daemon::start("reload-sighup", &[A]);
    let mut a = Speaker::establish(A, A, d.port);
    let _ = a.initial_table();
    write_config(&d, &[A, B]);
    let status = std::process::Command::new("sh")
        .args(["-c", "kill -HUP \"$0\"", &daemon_pid(&d).to_string()])
        .status()
        .expect("run sh");
    assert!(status.success());
    let deadline = Instant::now() + STEP;
    while status_generation(&d) != 2 {
        assert!(
            Instant::now() < deadline,
            "no reload after SIGHUP\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut b = Speaker::establish(B, B, d.port);
    assert_eq!(b.initial_table().end_of_rib, 1);
    assert!(d.log().contains("SIGHUP: reloading the configuration"));
}

fn status_generation(d: &Daemon) -> u64 {
    status(d).generation
}

/// The pid of the `evpnd run` reading this daemon's config file.
fn daemon_pid(d: &Daemon) -> u32 {
    let config = d.dir.join("evpnd.toml").display().to_string();
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                args.contains(&&b"run"[..]) && args.contains(&config.as_bytes())
            })
        })
        .expect("the daemon's process")
}
