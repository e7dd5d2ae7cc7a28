//! Test vectors are written as hex strings (captured messages, NLRI); one
//! reader for every test module of the crate.

/// The bytes of `s`, two hex digits each; panics on anything else (a test
/// vector typo should fail loudly).
pub fn hex(s: &str) -> Vec<u8> {
    assert!(
        s.len().is_multiple_of(2),
        "odd number of hex digits in {s:?}"
    );
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}
