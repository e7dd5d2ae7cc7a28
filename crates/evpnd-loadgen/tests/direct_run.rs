//! The whole path without root: `run --direct` on 127.0.0.1, the injector
//! into one listening sink, small N; the counts must be exact and the
//! process must end by itself.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{BIN, json_of, run_bounded};
use serde_json::json;

fn direct(extra: &[&str]) -> serde_json::Value {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "run",
        "--direct",
        "--speaker",
        "127.0.0.1",
        "--port",
        "0",
        "--injector-addr",
        "127.0.0.1",
    ]);
    cmd.args([
        "--settle",
        "0.2",
        "--grace",
        "0.1",
        "--timeout",
        "30",
        "--establish-timeout",
        "20",
    ]);
    cmd.args(extra);
    let out = run_bounded(&mut cmd, Duration::from_secs(60));
    let j = json_of(&out);
    assert!(out.status.success(), "exit {:?}: {j}", out.status);
    j
}

#[test]
fn injector_to_one_sink_counts_exactly() {
    let j = direct(&[
        "-n",
        "20000",
        "--label",
        "speaker=direct",
        "--label",
        "rep=1",
    ]);
    assert_eq!(j["ok"], true);
    assert_eq!(j["mode"], "direct");
    assert_eq!(j["speaker"], "direct");
    assert_eq!(j["sinks"], 1);
    for phase in ["announce", "withdraw"] {
        let p = &j[phase];
        assert_eq!(p["complete"], true, "{phase}");
        assert_eq!(p["received"], json!([21000]), "{phase}");
        assert!(p["convergence_s"].as_f64().unwrap() >= p["first_sink_done_s"].as_f64().unwrap());
        assert!(p["inject_s"].as_f64().is_some());
    }
    assert_eq!(j["dup_or_extra_nlri_max"], 0);
    assert_eq!(j["other_nlri"], 0);
    // every UPDATE of both streams and the End-of-RIB
    let msgs = j["announce_msgs"].as_u64().unwrap() + j["withdraw_msgs"].as_u64().unwrap() + 1;
    assert_eq!(j["sink_updates_max"].as_u64().unwrap(), msgs);
    assert!(j["harness_injector_cpu_s"].as_f64().is_some());
    assert!(j["harness_sink_cpu_s"].as_f64().is_some());
}

#[test]
fn extended_messages_mac_ip_verified() {
    let j = direct(&[
        "-n",
        "3000",
        "--mac-ip",
        "--ext-msg",
        "--verify",
        "--no-withdraw",
    ]);
    assert_eq!(j["ok"], true);
    assert_eq!(j["announce"]["received"], json!([4000]));
    assert_eq!(j["verify_distinct_announced"], json!([4000]));
    assert_eq!(j["withdraw"], serde_json::Value::Null);
}

#[test]
fn one_nlri_per_update_without_eor() {
    let j = direct(&["-n", "5000", "-m", "10", "--max-nlri", "1", "--no-eor"]);
    assert_eq!(j["ok"], true);
    assert_eq!(j["withdraw"]["received"], json!([5010]));
    assert_eq!(j["sink_updates_max"], 10020);
}

#[test]
fn a_speaker_that_is_not_there_fails_cleanly() {
    // nothing listens on 127.0.0.1:1: ok false, an error, exit 1, no hang
    let mut cmd = Command::new(BIN);
    cmd.args([
        "run",
        "--speaker",
        "127.0.0.1",
        "--port",
        "1",
        "--injector-addr",
        "",
        "--sink-addr-base",
        "",
    ]);
    cmd.args(["-n", "10", "-k", "2", "--establish-timeout", "5"]);
    let out = run_bounded(&mut cmd, Duration::from_secs(60));
    let j = json_of(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(j["ok"], false);
    assert!(j["error"].as_str().unwrap().contains("connect"), "{j}");
}
