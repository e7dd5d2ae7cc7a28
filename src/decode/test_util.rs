//! Test helpers shared by the decode modules' unit tests.

use super::input::push_hex;
use super::{DecodeRequest, Outcome, decode};

pub(super) const KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff001304";
/// FRR's type-3 UPDATE (bgp-evpn-messages.txt msg 6).
pub(super) const TYPE3_UPDATE: &str = "ffffffffffffffffffffffffffffffff0065020000004e900e001c00194604c61300030003110001c613000300020000000020c6130003400101005002000040050400000064c01010030c0000000000080002fde800000000c016090006000000c6130003";
/// An UPDATE with one MAC+IP type-2 route (FRR, proto-tests/vectors/frr/ msg 114).
pub(super) const TYPE2_UPDATE: &str = "ffffffffffffffffffffffffffffffff006d0200000056900e003000194604c61300010002250001c61300010002000000000000000000000000000030020a0000000120c6120a0100000a400101005002000040050400000064c01010030c0000000000080002fde80000000a";

pub(super) fn hex(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    push_hex(s, &mut out).unwrap();
    out
}

pub(super) fn args(hex: &[&str]) -> DecodeRequest {
    DecodeRequest {
        hex: hex.iter().map(|s| s.to_string()).collect(),
        file: None,
        pcap: None,
        json: false,
        two_octet_as: false,
    }
}

pub(super) fn run_args(args: &DecodeRequest) -> (Outcome, String) {
    let mut out = Vec::new();
    let outcome = decode(args, &mut out);
    (outcome, String::from_utf8(out).unwrap())
}
