//! The control socket's request lines (src/api/protocol.rs) from arbitrary
//! bytes, read as the server reads them (src/api/server.rs
//! `serve_connection`: lossy UTF-8, trimmed, one JSON object a line):
//! nothing panics, and a request that parses encodes, as the client sends
//! it, to one line that parses back to the same request, so what `evpnd
//! show` writes is always what the daemon reads.
#![no_main]

use evpnd::api::protocol::{MAX_REQUEST_LINE, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The server never reads more than this of a line.
    let line = &data[..data.len().min(MAX_REQUEST_LINE)];
    let text = String::from_utf8_lossy(line);
    let Ok(request) = serde_json::from_str::<Request>(text.trim()) else {
        return;
    };
    // src/api/client.rs: serde_json::to_vec, then a newline.
    let sent = serde_json::to_vec(&request).expect("a request always serializes");
    assert!(
        !sent.contains(&b'\n'),
        "the wire form is one line: {sent:?}"
    );
    let back: Request = serde_json::from_slice(&sent).expect("what we send parses");
    assert_eq!(back, request);
    // A second trip changes nothing: the encoding is canonical.
    assert_eq!(serde_json::to_vec(&back).expect("serializes"), sent);
});
