//! Running the binary under a deadline.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_evpnd-loadgen");

/// Runs `cmd` to its end; fails the test when it is still running after
/// `limit` (it is killed first).
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let end = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > end {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{cmd:?} still running after {limit:?}; stdout {} stderr {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last JSON line of a run's stdout.
pub fn json_of(out: &Output) -> serde_json::Value {
    let s = String::from_utf8_lossy(&out.stdout);
    let line = s
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no JSON line; stdout {s} stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).expect("JSON")
}

/// evpn-blast.py: $BENCH_HARNESS/evpn-blast.py, else ../shared/bench beside
/// the repository (as scripts/bench-fdb.sh looks for the harness).
pub fn python_harness() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("BENCH_HARNESS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench"),
    };
    let p = dir.join("evpn-blast.py");
    if !p.is_file() {
        return Err(format!(
            "{} not found (set BENCH_HARNESS to its directory)",
            p.display()
        ));
    }
    match Command::new("python3").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(p),
        _ => Err("python3 is not installed".into()),
    }
}

/// A TCP port free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
