//! `evpnd decode`: BGP messages from hex, a file of messages or a packet
//! capture, decoded for people (one FRR-debug-like block per message) or
//! as JSON lines (`--json`, one object per message).
//!
//! Inputs:
//! - hex on the command line: one or more messages, whitespace and colons
//!   allowed; a single message may leave out the 16-octet marker;
//! - a file, as the one word on the command line (if a file of that name
//!   exists; `-` = stdin) or `--file F`, told apart by its content: a
//!   capture by its magic number (pcap 0xa1b2c3d4 / 0xa1b23c4d in either
//!   byte order, pcapng 0x0a0d0d0a), raw concatenated messages if it
//!   starts with the marker or holds non-text octets, else a text file of
//!   hex lines where `#` starts a comment (`bgp-evpn-messages.txt`);
//! - `--pcap F`: a capture and nothing else. Classic pcap or pcapng;
//!   Ethernet (802.1Q tags), Linux cooked (SLL, SLL2), raw IP and BSD
//!   loopback; IPv4/IPv6; TCP port 179 either side, each direction
//!   reassembled by sequence number.
//!
//! Decoding follows the session: UPDATEs are decoded leniently and their
//! RFC 7606 problems shown with the action they call for, EVPN NLRI are
//! decoded typed, and in a capture each TCP connection's OPENs set the
//! options (4-octet AS, Extended Message, ADD-PATH) for the messages after
//! them. Capture files are read with pcap-parser and their Ethernet, IP
//! and TCP headers sliced with etherparse (`pcap.rs`); only the TCP
//! stream reassembly per flow is written here.
//!
//! Files: `input.rs` (reading files and words, hex, telling contents
//! apart), `framing.rs` (messages from a byte stream), `pcap.rs` (capture
//! files and packet headers), `tcp.rs` (per-flow TCP reassembly),
//! `capture.rs` (a capture's connections and their options), `report.rs`
//! (one message decoded into a report) and `render.rs` (human and JSON
//! output).
//!
//! Exit status: 0 every message decoded, 1 a message was malformed or lost
//! (decoding goes on with the next one), 2 unreadable input.

mod capture;
mod framing;
mod input;
pub mod pcap;
mod render;
mod report;
mod request;
mod tcp;
#[cfg(test)]
mod test_util;

pub use input::InputError;
pub use request::DecodeRequest;

use capture::{decode_capture, decode_stream};
use evpnd_wire::message::DecodeOptions;
use input::{decode_file, input_file, parse_hex_args, read_input, with_marker};
use render::Printer;
use std::io::Write;
use std::process::ExitCode;

/// Exit statuses of `evpnd decode`.
pub mod exit {
    pub const OK: u8 = 0;
    /// At least one message was malformed, incomplete or lost.
    pub const MALFORMED: u8 = 1;
    /// The input could not be read (missing file, bad hex, broken capture).
    pub const UNREADABLE: u8 = 2;
}

/// What a decode run saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Messages framed (decoded or not).
    pub messages: usize,
    /// Messages that failed to decode, plus framing errors and data lost
    /// from a capture.
    pub failed: usize,
    /// Set when (part of) the input could not be read; messages before the
    /// damage are still decoded and printed.
    pub input_error: Option<InputError>,
}

impl Outcome {
    pub fn exit_status(&self) -> u8 {
        if self.input_error.is_some() {
            exit::UNREADABLE
        } else if self.failed > 0 {
            exit::MALFORMED
        } else {
            exit::OK
        }
    }
}

/// `evpnd decode`: print to stdout, errors to stderr.
pub fn run(args: &DecodeRequest) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let outcome = decode(args, &mut out);
    let _ = out.flush();
    if let Some(error) = &outcome.input_error {
        eprintln!("evpnd decode: {error}");
    }
    ExitCode::from(outcome.exit_status())
}

/// Decode what `args` name, writing the result to `out`.
pub fn decode(args: &DecodeRequest, out: &mut dyn Write) -> Outcome {
    let defaults = DecodeOptions {
        // Every current speaker announces RFC 6793 4-octet AS support, so
        // input without OPENs is taken to use it unless told otherwise.
        four_octet_as: !args.two_octet_as,
        ..DecodeOptions::default()
    };
    let mut printer = Printer::new(out, args.json);
    let result = if let Some(path) = &args.pcap {
        read_input(path).and_then(|(name, bytes)| {
            decode_capture(&bytes, &defaults, &mut printer)
                .map_err(|error| InputError::Capture { name, error })
        })
    } else if let Some(path) = input_file(args) {
        read_input(&path)
            .and_then(|(name, bytes)| decode_file(name, &bytes, &defaults, &mut printer))
    } else if !args.hex.is_empty() {
        parse_hex_args(&args.hex).map(|stream| {
            decode_stream(&with_marker(stream), &defaults, &mut printer);
        })
    } else {
        Err(InputError::NoInput)
    };
    Outcome {
        messages: printer.messages,
        failed: printer.failed,
        input_error: result.err(),
    }
}
