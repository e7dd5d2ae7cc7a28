//! The same workload as evpn-blast.py, proved against the Python itself:
//! `encode` prints the same summary and `workload_sha256` for the same
//! arguments, and a `run --direct` prints every field the Python prints.
//! Skipped, saying why, when python3 or the harness is not there.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{BIN, free_port, json_of, python_harness, run_bounded};
use serde_json::Value;

const CASES: &[&str] = &[
    "-n 1000",
    "-n 20000 --vteps 3 --vnis 7",
    "-n 3000 --mac-ip --ext-msg",
    "-n 2000 --max-nlri 1 -m 10",
    "-n 777 --max-nlri 33 --vteps 2 --vnis 2 --asn 4200000001 --vni-base 70000 --vtep-base 198.19.10.0",
    "-n 0",
];

#[test]
fn encode_matches_python() {
    let py = match python_harness() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    for case in CASES {
        let args: Vec<&str> = case.split_whitespace().collect();
        let p = run_bounded(
            Command::new("python3").arg(&py).arg("encode").args(&args),
            Duration::from_secs(120),
        );
        assert!(
            p.status.success(),
            "python encode {case}: {}",
            String::from_utf8_lossy(&p.stderr)
        );
        let r = run_bounded(
            Command::new(BIN).arg("encode").args(&args),
            Duration::from_secs(60),
        );
        assert!(r.status.success(), "evpnd-loadgen encode {case}");
        let (p, r) = (json_of(&p), json_of(&r));
        let (p, r) = (p.as_object().unwrap(), r.as_object().unwrap());
        assert_eq!(
            p["workload_sha256"], r["workload_sha256"],
            "workload_sha256 for {case}"
        );
        for (k, v) in p {
            if k.starts_with("encode_") {
                assert!(r.contains_key(k), "{k} missing for {case}");
            } else {
                assert_eq!(Some(v), r.get(k), "{k} for {case}");
            }
        }
        println!("{case}: workload_sha256 {} in both", r["workload_sha256"]);
    }
}

/// The keys of a JSON object, and of its phases, that `theirs` has and `ours` lacks.
fn missing(theirs: &Value, ours: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(t), Some(o)) = (theirs.as_object(), ours.as_object()) {
        for (k, v) in t {
            match o.get(k) {
                None => out.push(format!("{at}{k}")),
                Some(ov) if k == "announce" || k == "withdraw" || k == "speaker_open" => {
                    out.extend(missing(v, ov, &format!("{at}{k}.")))
                }
                Some(_) => {}
            }
        }
    }
    out
}

#[test]
fn run_direct_has_every_python_field() {
    let py = match python_harness() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let common = |port: u16| {
        vec![
            "run".to_string(),
            "--direct".into(),
            "--speaker".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--injector-addr".into(),
            "127.0.0.1".into(),
            "-n".into(),
            "5000".into(),
            "--settle".into(),
            "0.3".into(),
            "--grace".into(),
            "0.1".into(),
            "--speaker-pids".into(),
            std::process::id().to_string(),
            "--label".into(),
            "speaker=direct".into(),
        ]
    };
    let p = run_bounded(
        Command::new("python3").arg(&py).args(common(free_port())),
        Duration::from_secs(120),
    );
    let r = run_bounded(
        Command::new(BIN).args(common(free_port())),
        Duration::from_secs(60),
    );
    let (p, r) = (json_of(&p), json_of(&r));
    assert_eq!(p["ok"], true, "python run: {p}");
    assert_eq!(r["ok"], true, "evpnd-loadgen run: {r}");
    assert_eq!(p["workload_sha256"], r["workload_sha256"]);
    assert_eq!(p["announce"]["received"], r["announce"]["received"]);
    assert_eq!(p["withdraw"]["received"], r["withdraw"]["received"]);
    let m = missing(&p, &r, "");
    assert!(
        m.is_empty(),
        "fields evpn-blast.py prints and evpnd-loadgen does not: {m:?}"
    );
    let pid = std::process::id().to_string();
    for k in [
        "cpu_announce_s",
        "cpu_withdraw_s",
        "cpu_total_s",
        "rss_idle_kb",
        "rss_loaded_kb",
        "vmhwm_kb",
        "comm",
    ] {
        assert!(
            r["speaker_procs"][&pid].get(k).is_some(),
            "speaker_procs.{k}"
        );
    }
}
