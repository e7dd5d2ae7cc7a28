//! `evpnd decode` on arbitrary file bytes: the whole pipeline from the file
//! (pcap or pcapng headers, link layers, IP, TCP reassembly, BGP framing,
//! message decoding) to the rendered report, as `evpnd decode --pcap F`
//! and `evpnd decode F` run it. Nothing may panic (libFuzzer's
//! -malloc_limit_mb in scripts/fuzz.sh catches an allocation sized by a
//! header field), and the report must be consistent:
//! - text and JSON output decode and count the same messages;
//! - `--json` prints JSON lines only: one per message (`index` 0, 1, ...
//!   in order) or framing error (`error`), and the failures counted are
//!   exactly the messages not `ok` plus the framing errors;
//! - a file that holds a capture decodes as `--pcap` does.
#![no_main]

use evpnd::decode::{DecodeRequest, Outcome, decode, pcap::capture_kind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One file per fuzzing process, written for each input: `decode` reads
/// its input from a path, as the command does (tmpfs when there is one).
fn input_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from("/dev/shm");
        let dir = if dir.is_dir() {
            dir
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("evpnd-fuzz-pcap-decode-{}", std::process::id()))
    })
}

fn run(request: &DecodeRequest) -> (Outcome, String) {
    let mut out = Vec::new();
    let outcome = decode(request, &mut out);
    // Reports are built from Strings: the output is always UTF-8.
    (
        outcome,
        String::from_utf8(out).expect("decode writes UTF-8"),
    )
}

fn counts(o: &Outcome) -> (usize, usize, u8) {
    (o.messages, o.failed, o.exit_status())
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(path, data).expect("write the input file");
    let pcap = |json| DecodeRequest {
        pcap: Some(path.clone()),
        json,
        ..DecodeRequest::default()
    };

    let (text_outcome, _) = run(&pcap(false));
    let (outcome, json) = run(&pcap(true));
    assert_eq!(
        counts(&text_outcome),
        counts(&outcome),
        "text and JSON disagree"
    );

    let mut next_index = 0u64;
    let mut not_ok = 0;
    let mut errors = 0;
    for line in json.lines() {
        let value: Value = serde_json::from_str(line).expect("--json prints JSON lines");
        if let Some(index) = value.get("index") {
            assert_eq!(index.as_u64(), Some(next_index), "{line}");
            next_index += 1;
            if value["ok"] == Value::Bool(false) {
                not_ok += 1;
            }
        } else {
            assert!(
                value.get("error").is_some(),
                "neither a message nor an error: {line}"
            );
            errors += 1;
        }
    }
    assert_eq!(next_index as usize, outcome.messages);
    assert_eq!(not_ok + errors, outcome.failed, "{json}");

    // `evpnd decode F` tells a capture by its magic number and decodes it
    // the same; other content goes the raw or hex-text way.
    let file = DecodeRequest {
        file: Some(path.clone()),
        json: true,
        ..DecodeRequest::default()
    };
    let (file_outcome, file_json) = run(&file);
    // Removed after each input, so that no fuzzing process leaves one behind.
    let _ = std::fs::remove_file(path);
    if capture_kind(data).is_some() {
        assert_eq!(counts(&file_outcome), counts(&outcome));
        assert_eq!(file_json, json);
    }
});
