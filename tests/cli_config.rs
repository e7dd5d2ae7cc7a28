//! End-to-end tests of the `evpnd` binary: check-config on the example and
//! broken configs, and `run` + `show` over a real control socket.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn evpnd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evpnd"));
    // Keep the caller's environment from changing what is tested.
    c.env_remove("EVPND_SOCKET").env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("EVPND__") {
            c.env_remove(k);
        }
    }
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("evpnd-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn example_configs_pass_check_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let out = evpnd().arg("check-config").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with(&format!("{}: ok\n", path.display())),
            "{stdout}"
        );
        assert!(stdout.contains("AS 65000"), "{stdout}");
        checked += 1;
    }
    assert!(checked >= 2, "expected at least rr.toml and vtep.toml");
}

fn check_bad(name: &str, body: &str, expected_key: &str) {
    let dir = temp_dir(name);
    let file = dir.join("bad.toml");
    std::fs::write(&file, body).unwrap();
    let out = evpnd().arg("check-config").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains(expected_key), "{name}: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_configs_exit_2_naming_the_key() {
    check_bad(
        "addr",
        "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\n\
         [[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n\
         [[neighbors]]\naddress = \"198.19.0.x\"\nremote_as = 65000\n",
        "neighbors[1].address: \"198.19.0.x\" is not an IP address",
    );
    check_bad(
        "hold",
        "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\nhold_time = 1\n",
        "bgp.hold_time",
    );
    check_bad(
        "vlan",
        "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\n[vtep]\nlocal_ip = \"198.19.0.1\"\n\
         [[vtep.vnis]]\nvlan = 0\nvni = 10\n",
        "vtep.vnis[0].vlan",
    );
    check_bad(
        "unknown",
        "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\nrouter-id = \"x\"\n",
        "router-id",
    );
}

#[test]
fn env_override_reaches_check_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/rr.toml");
    let out = evpnd()
        .env("EVPND__CONTROL__SOCKET", "/tmp/evpnd-override.sock")
        .arg("check-config")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("control socket /tmp/evpnd-override.sock"));
    let out = evpnd()
        .env("EVPND__BGP__ROUTER_ID", "banana")
        .arg("check-config")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bgp.router_id"));
}

#[test]
fn usage_errors_exit_2_and_a_truncated_message_exits_1() {
    let out = evpnd().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = evpnd().args(["decode", "ffff"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(said.contains("2 of 19 octets"), "{said}");
    let out = evpnd().arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Exit codes:"));
}

#[test]
fn show_without_daemon_explains() {
    let dir = temp_dir("nodaemon");
    let sock = dir.join("none.sock");
    let out = evpnd()
        .arg("--socket")
        .arg(&sock)
        .args(["show", "neighbors"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot connect to control socket") && stderr.contains("is evpnd running?"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        // Only our own child, by its pid.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &Path, daemon: &mut Daemon) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        if let Ok(Some(status)) = daemon.0.try_wait() {
            panic!("evpnd exited early with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "socket {} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn show(sock: &Path, args: &[&str]) -> Output {
    evpnd()
        .arg("--socket")
        .arg(sock)
        .arg("show")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn run_serves_the_control_socket_and_stops_on_sigterm() {
    let dir = temp_dir("run");
    let sock = dir.join("run/evpnd.sock");
    let config = dir.join("evpnd.toml");
    std::fs::write(
        &config,
        format!(
            "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\n\
             [[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\npassive = true\n\
             [control]\nsocket = \"{}\"\nmode = \"0600\"\n[log]\nlevel = \"warn\"\n",
            sock.display()
        ),
    )
    .unwrap();
    let child = evpnd()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut daemon = Daemon(child);
    wait_for(&sock, &mut daemon);

    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let out = show(&sock, &["neighbors", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(value.is_array(), "{value}");

    for args in [
        &["routes", "--vni", "10"][..],
        &["vnis"],
        &["fdb", "--json"],
    ] {
        let out = show(&sock, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let out = show(&sock, &["routes"]);
    assert!(text(&out.stdout).contains("Displayed 0 prefixes (0 paths)"));

    // Clean shutdown on SIGTERM: exit 0 and the socket file is gone.
    let pid = daemon.0.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = daemon.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "evpnd did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
    assert!(!sock.exists(), "socket left behind");
    let _ = std::fs::remove_dir_all(&dir);
}
