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
//! Exit status: 0 every message decoded, 1 a message was malformed or lost
//! (decoding goes on with the next one), 2 unreadable input.

use crate::wire::attribute::{AttributeValue, PathAttribute, type_code};
use crate::wire::evpn::{
    Esi, EvpnRoute, EvpnRouteView, Type1Route, Type2Route, Type3Route, Type4Route, Type5Route,
};
use crate::wire::extcomm::EvpnCommunities;
use crate::wire::header::{HEADER_LEN, HeaderError, MARKER, MessageType};
use crate::wire::message::{DecodeOptions, Message, MessageError};
use crate::wire::open::Open;
use crate::wire::prefix::Prefix;
use crate::wire::rfc7606::{ErrorAction, UpdateProblem, classify};
use crate::wire::update::Update;
use crate::wire::{DecodeError, Family, Reader};
use bytes::BytesMut;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use thiserror::Error;

/// Exit statuses of `evpnd decode`.
pub mod exit {
    pub const OK: u8 = 0;
    /// At least one message was malformed, incomplete or lost.
    pub const MALFORMED: u8 = 1;
    /// The input could not be read (missing file, bad hex, broken capture).
    pub const UNREADABLE: u8 = 2;
}

/// Input that cannot be read at all; the message names the input.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("{name}: {source}")]
    Read {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: not hex: {what}")]
    Hex { name: String, what: String },
    #[error("{name}: {error}")]
    Capture {
        name: String,
        error: pcap::PcapError,
    },
    #[error("nothing to decode: give hex messages, a FILE, --file FILE or --pcap FILE")]
    NoInput,
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

/// What `evpnd decode` was asked to do: plain data, no clap. The shell
/// (`src/cli.rs`) converts its command-line `DecodeArgs` into this, so the
/// dependency arrow goes Shell -> Decode only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeRequest {
    /// BGP messages in hex, or one FILE (`-` for stdin) read as `file` is.
    pub hex: Vec<String>,
    /// Read messages from a file (`-` for stdin), told apart by content.
    pub file: Option<PathBuf>,
    /// Read BGP messages from TCP port 179 in a pcap or pcapng capture.
    pub pcap: Option<PathBuf>,
    /// Print one JSON object per message (JSON lines) instead of text.
    pub json: bool,
    /// Decode AS numbers as 2 octets when no OPEN says otherwise.
    pub two_octet_as: bool,
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

// ---------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------

/// The whole input and the name errors call it by (`-` is stdin).
fn read_input(path: &Path) -> Result<(String, Vec<u8>), InputError> {
    let name = if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let result = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    match result {
        Ok(bytes) => Ok((name, bytes)),
        Err(source) => Err(InputError::Read { name, source }),
    }
}

/// The file to read: `--file`, or the one word on the command line when a
/// file of that name exists (or it is `-`, stdin).
fn input_file(args: &DecodeRequest) -> Option<PathBuf> {
    if let Some(path) = &args.file {
        return Some(path.clone());
    }
    match args.hex.as_slice() {
        [word] if word == "-" || Path::new(word).is_file() => Some(PathBuf::from(word)),
        _ => None,
    }
}

/// What a file holds, told by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileContent {
    /// A pcap or pcapng capture (by its magic number).
    Capture,
    /// BGP messages as sent on the wire.
    Raw,
    /// Hex lines, `#` comments.
    HexText,
}

/// A capture by its first four octets ([`pcap::capture_kind`]); raw
/// messages if the file starts with the 16-octet marker (RFC 4271 section
/// 4.1) or holds anything but text; else hex text.
fn sniff(bytes: &[u8]) -> FileContent {
    if pcap::capture_kind(bytes).is_some() {
        FileContent::Capture
    } else if bytes.starts_with(&MARKER) || !looks_like_hex_text(bytes) {
        FileContent::Raw
    } else {
        FileContent::HexText
    }
}

/// Decode a file read whole, as its content says.
fn decode_file(
    name: String,
    bytes: &[u8],
    defaults: &DecodeOptions,
    printer: &mut Printer<'_>,
) -> Result<(), InputError> {
    match sniff(bytes) {
        FileContent::Capture => decode_capture(bytes, defaults, printer)
            .map_err(|error| InputError::Capture { name, error }),
        FileContent::Raw => {
            decode_stream(bytes, defaults, printer);
            Ok(())
        }
        FileContent::HexText => {
            decode_stream(&parse_hex_text(bytes, &name)?, defaults, printer);
            Ok(())
        }
    }
}

/// Printable ASCII and whitespace only: what a text file of hex lines
/// holds, and raw messages (marker 0xff octets first) never do.
fn looks_like_hex_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
}

/// Hex digits of `text` appended to `out`; whitespace, `:` and a leading
/// `0x` of each word are separators. `Err` describes the first bad
/// character (column counted from 1).
fn push_hex(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let mut high: Option<u8> = None;
    for word in text.split(|c: char| c.is_whitespace() || c == ':') {
        let digits = word
            .strip_prefix("0x")
            .or_else(|| word.strip_prefix("0X"))
            .unwrap_or(word);
        for c in digits.chars() {
            let Some(nibble) = c.to_digit(16) else {
                let column = text.find(c).map_or(0, |i| i + 1);
                return Err(format!("unexpected {c:?} at column {column}"));
            };
            // to_digit(16) is below 16, so the cast cannot truncate.
            let nibble = nibble as u8;
            match high.take() {
                Some(h) => out.push(h << 4 | nibble),
                None => high = Some(nibble),
            }
        }
    }
    match high {
        Some(_) => Err("odd number of hex digits".to_owned()),
        None => Ok(()),
    }
}

/// The command-line words as one byte stream.
fn parse_hex_args(words: &[String]) -> Result<Vec<u8>, InputError> {
    let joined = words.join(" ");
    let mut out = Vec::with_capacity(joined.len() / 2);
    push_hex(&joined, &mut out).map_err(|what| InputError::Hex {
        name: "command line".to_owned(),
        // One word could have been meant as a file name.
        what: match words {
            [word] => format!("{what} (and no file {word:?})"),
            _ => what,
        },
    })?;
    Ok(out)
}

/// A text file of hex lines (`#` starts a comment) as one byte stream;
/// each line must hold whole octets.
fn parse_hex_text(bytes: &[u8], name: &str) -> Result<Vec<u8>, InputError> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for (number, line) in text.lines().enumerate() {
        let data = line.split('#').next().unwrap_or("");
        push_hex(data, &mut out).map_err(|what| InputError::Hex {
            name: name.to_owned(),
            what: format!("line {}: {what}", number + 1),
        })?;
    }
    Ok(out)
}

/// A single message given without its marker gets it back: the input does
/// not start with the marker and its first two octets are a Length (RFC
/// 4271 section 4.1, marker included) that fits the input exactly.
fn with_marker(stream: Vec<u8>) -> Vec<u8> {
    let starts_with_marker = stream.get(..MARKER.len()) == Some(&MARKER[..]);
    let announced = match stream.get(..2) {
        Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
        _ => 0,
    };
    if starts_with_marker || announced != stream.len() + MARKER.len() {
        return stream;
    }
    let mut whole = MARKER.to_vec();
    whole.extend_from_slice(&stream);
    whole
}

// ---------------------------------------------------------------------------
// Framing a byte stream into messages
// ---------------------------------------------------------------------------

/// Why a stream could not be split into messages at some point.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
enum FramingError {
    /// The header is unusable (RFC 4271 section 6.1); decoding resumes at
    /// the next marker.
    #[error("message header at stream offset {offset}: {error}")]
    Header { offset: u64, error: HeaderError },
    /// The stream ended inside a message.
    #[error("input ends inside a message at stream offset {offset}: {have} of {need} octets")]
    Incomplete {
        offset: u64,
        have: usize,
        need: usize,
    },
    /// Octets never seen (not captured, or lost); decoding resumes at the
    /// next marker after them.
    #[error("{missing} octets missing from the capture at stream offset {offset}")]
    Gap { offset: u64, missing: u64 },
}

impl FramingError {
    /// What a session would do (RFC 4271 section 6.1).
    fn action(&self) -> Option<String> {
        match self {
            Self::Header { error, .. } => {
                Some(ErrorAction::SessionReset(error.notification()).to_string())
            }
            Self::Incomplete { .. } | Self::Gap { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Framed {
    Message(Vec<u8>),
    Error(FramingError),
}

/// Splits a byte stream into messages by the header's Length (RFC 4271
/// section 4.1), resynchronising on the marker after a bad header.
#[derive(Debug, Default)]
struct Framer {
    buf: Vec<u8>,
    /// Start of the unconsumed octets in `buf`.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    /// Skipping to the next marker.
    resync: bool,
}

impl Framer {
    fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    fn advance(&mut self, n: usize) {
        let n = n.min(self.pending().len());
        self.start += n;
        self.offset += n as u64;
    }

    /// The next complete message or framing error, `None` until more data.
    fn next_item(&mut self) -> Option<Framed> {
        if self.resync {
            let pending = self.pending();
            match pending.windows(MARKER.len()).position(|w| w == MARKER) {
                Some(at) => {
                    self.advance(at);
                    self.resync = false;
                }
                None => {
                    // Keep what could be the start of a marker.
                    let keep = pending.len().min(MARKER.len() - 1);
                    self.advance(pending.len() - keep);
                    return None;
                }
            }
        }
        let header: [u8; HEADER_LEN] = self.pending().get(..HEADER_LEN)?.try_into().ok()?;
        let offset = self.offset;
        if header[..MARKER.len()] != MARKER {
            self.resync = true;
            self.advance(1);
            return Some(Framed::Error(FramingError::Header {
                offset,
                error: HeaderError::BadMarker,
            }));
        }
        let length = u16::from_be_bytes([header[16], header[17]]);
        if usize::from(length) < HEADER_LEN {
            self.resync = true;
            self.advance(1);
            return Some(Framed::Error(FramingError::Header {
                offset,
                error: HeaderError::BadLength {
                    length,
                    message_type: header[18],
                },
            }));
        }
        let message = self.pending().get(..usize::from(length))?.to_vec();
        self.advance(message.len());
        Some(Framed::Message(message))
    }

    /// End of the stream: an error if it stopped inside a message.
    fn finish(&mut self) -> Option<FramingError> {
        let pending = self.pending();
        if self.resync || pending.is_empty() {
            return None;
        }
        let need = match pending.get(16..18) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
            _ => HEADER_LEN,
        };
        let error = FramingError::Incomplete {
            offset: self.offset,
            have: pending.len(),
            need,
        };
        self.advance(pending.len());
        Some(error)
    }

    /// `missing` octets will never arrive: drop the partial message and
    /// resume at the next marker.
    fn skip_gap(&mut self, missing: u64) -> FramingError {
        let error = FramingError::Gap {
            offset: self.offset + self.pending().len() as u64,
            missing,
        };
        self.advance(self.pending().len());
        self.offset += missing;
        self.resync = true;
        error
    }
}

/// Hex or a file: one stream, one set of options.
fn decode_stream(stream: &[u8], opts: &DecodeOptions, printer: &mut Printer<'_>) {
    let mut framer = Framer::default();
    framer.push(stream);
    while let Some(item) = framer.next_item() {
        match item {
            Framed::Message(bytes) => {
                printer.message(None, &bytes, opts);
            }
            Framed::Error(error) => printer.framing_error(None, &error),
        }
    }
    if let Some(error) = framer.finish() {
        printer.framing_error(None, &error);
    }
}

// ---------------------------------------------------------------------------
// Decoding one message into a report
// ---------------------------------------------------------------------------

/// Where a message came from in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    /// Nanoseconds since the first packet of the capture.
    since_start_ns: i128,
    src: SocketAddr,
    dst: SocketAddr,
}

impl Origin {
    fn seconds(&self) -> f64 {
        self.since_start_ns as f64 / 1e9
    }
}

/// One route of an NLRI field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Evpn {
        path_id: Option<u32>,
        route: EvpnRoute,
    },
    Prefix(Prefix),
}

/// The NLRI of an MP_REACH_NLRI or MP_UNREACH_NLRI, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MpReport {
    family: Family,
    /// MP_REACH only: the next hop(s).
    next_hop: Option<String>,
    routes: Vec<Route>,
    /// NLRI of a family not decoded here, as hex.
    undecoded: Option<String>,
}

/// Everything shown for one message.
#[derive(Debug, Clone)]
struct Report {
    index: usize,
    origin: Option<Origin>,
    length: usize,
    type_name: String,
    message: Option<Message>,
    reach: Option<MpReport>,
    unreach: Option<MpReport>,
    withdrawn: Vec<Prefix>,
    nlri: Vec<Prefix>,
    /// Errors, each naming its field and offset.
    errors: Vec<String>,
    /// What RFC 7606 / RFC 4271 has a session do, when something is wrong.
    action: Option<String>,
}

fn type_name(message: &[u8]) -> String {
    match message.get(18) {
        Some(&code) => match MessageType::from_u8(code) {
            Some(t) => t.to_string(),
            None => format!("type {code}"),
        },
        None => "message".to_owned(),
    }
}

/// Decode `bytes` (one framed message) with `opts`.
fn report(index: usize, origin: Option<Origin>, bytes: &[u8], opts: &DecodeOptions) -> Report {
    let mut report = Report {
        index,
        origin,
        length: bytes.len(),
        type_name: type_name(bytes),
        message: None,
        reach: None,
        unreach: None,
        withdrawn: Vec::new(),
        nlri: Vec::new(),
        errors: Vec::new(),
        action: None,
    };
    let (message, mut problems) = match Message::decode_lenient(bytes, opts) {
        Ok(decoded) => decoded,
        Err(error) => {
            report.action = Some(message_error_action(&error));
            report.errors.push(error.to_string());
            return report;
        }
    };
    if let Message::Update(update) = &message {
        decode_update_nlri(&mut report, update, bytes, opts, &mut problems);
    }
    if !problems.is_empty() {
        report.errors = problems.iter().map(|p| format!("UPDATE: {p}")).collect();
        report.action = Some(classify(&problems).to_string());
    }
    report.message = Some(message);
    report
}

/// The action for a message that did not decode at all.
fn message_error_action(error: &MessageError) -> String {
    match error {
        MessageError::Update(problem) => problem.action().to_string(),
        // RFC 4271 section 6.4: a malformed NOTIFICATION is not answered.
        MessageError::Notification(_) => "none (a bad NOTIFICATION is not answered)".to_owned(),
        other => match other.notification() {
            Some(n) => ErrorAction::SessionReset(n).to_string(),
            None => "none".to_owned(),
        },
    }
}

/// Decode the NLRI of an UPDATE that decoded; malformed MP NLRI become
/// RFC 7606 problems of their attribute (section 5.3: NLRI must be
/// syntactically correct; section 7.11 for MP_REACH/MP_UNREACH).
fn decode_update_nlri(
    report: &mut Report,
    update: &Update,
    message: &[u8],
    opts: &DecodeOptions,
    problems: &mut Vec<UpdateProblem>,
) {
    // The Withdrawn Routes and NLRI fields were validated by the decoder.
    report.withdrawn = update.withdrawn_prefixes(opts).unwrap_or_default();
    report.nlri = update.nlri_prefixes(opts).unwrap_or_default();
    for attribute in &update.attributes {
        let (family, next_hop, nlri) = match &attribute.value {
            AttributeValue::MpReach(m) => {
                let next_hop = match (m.next_hop_addr(), m.next_hop_link_local()) {
                    (Some(global), Some(local)) => format!("{global} (link-local {local})"),
                    (Some(global), None) => global.to_string(),
                    _ => format!("0x{}", to_hex(&m.next_hop)),
                };
                (m.family, Some(next_hop), &m.nlri)
            }
            AttributeValue::MpUnreach(m) => (m.family, None, &m.withdrawn),
            _ => continue,
        };
        let code = attribute.type_code();
        let base = mp_nlri_offset(message, code).unwrap_or(0);
        let add_path = opts.add_path_for(family);
        let decoded = if family == Family::L2VPN_EVPN {
            decode_evpn_nlri(nlri, base, add_path)
        } else if family == Family::IPV4_UNICAST || family == Family::IPV6_UNICAST {
            Prefix::decode_all(nlri, family.afi, add_path)
                .map(|prefixes| prefixes.into_iter().map(Route::Prefix).collect())
        } else {
            Ok(Vec::new())
        };
        let known = family == Family::L2VPN_EVPN
            || family == Family::IPV4_UNICAST
            || family == Family::IPV6_UNICAST;
        let routes = match decoded {
            Ok(routes) => routes,
            Err(error) => {
                problems.push(UpdateProblem::Malformed {
                    type_code: code,
                    raw: encoded_attribute(attribute, opts),
                    error,
                });
                Vec::new()
            }
        };
        let mp = MpReport {
            family,
            next_hop,
            routes,
            undecoded: (!known && !nlri.is_empty()).then(|| to_hex(nlri)),
        };
        if code == type_code::MP_REACH_NLRI {
            report.reach = Some(mp);
        } else {
            report.unreach = Some(mp);
        }
    }
}

fn encoded_attribute(attribute: &PathAttribute, opts: &DecodeOptions) -> bytes::Bytes {
    let mut out = BytesMut::new();
    attribute.encode(&mut out, opts);
    out.freeze()
}

/// EVPN NLRI (RFC 7432 section 7), each preceded by a 4-octet Path
/// Identifier when ADD-PATH is in use for EVPN (RFC 7911 section 3).
fn decode_evpn_nlri(nlri: &[u8], base: usize, add_path: bool) -> Result<Vec<Route>, DecodeError> {
    let mut r = Reader::with_base(nlri, base);
    let mut routes = Vec::new();
    while !r.is_empty() {
        let path_id = if add_path {
            Some(r.u32("ADD-PATH path identifier")?)
        } else {
            None
        };
        routes.push(Route::Evpn {
            path_id,
            route: EvpnRoute::decode(&mut r)?,
        });
    }
    Ok(routes)
}

/// Absolute offset of the NLRI inside the first MP_REACH_NLRI (RFC 4760
/// section 3: after AFI, SAFI, next-hop length, next hop and reserved) or
/// MP_UNREACH_NLRI (section 4: after AFI and SAFI) of `message`, so errors
/// point into the message. `None` if the message has no such attribute.
fn mp_nlri_offset(message: &[u8], code: u8) -> Option<usize> {
    let mut r = Reader::with_base(message.get(HEADER_LEN..)?, HEADER_LEN);
    let withdrawn_len = r.u16("withdrawn routes length").ok()?;
    r.bytes(usize::from(withdrawn_len), "withdrawn routes")
        .ok()?;
    let attributes_len = r.u16("total path attribute length").ok()?;
    let mut attributes = r.sub(usize::from(attributes_len), "path attributes").ok()?;
    while !attributes.is_empty() {
        let flags = attributes.u8("attribute flags").ok()?;
        let this_code = attributes.u8("attribute type code").ok()?;
        // RFC 4271 section 4.3: bit 3 of the flags selects a 2-octet length.
        let len = if flags & 0x10 != 0 {
            usize::from(attributes.u16("attribute length").ok()?)
        } else {
            usize::from(attributes.u8("attribute length").ok()?)
        };
        let value_offset = attributes.offset();
        let value = attributes.bytes(len, "attribute value").ok()?;
        if this_code == code {
            return Some(if code == type_code::MP_REACH_NLRI {
                value_offset + 5 + usize::from(*value.get(3)?)
            } else {
                value_offset + 3
            });
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Writes reports to the output and counts them.
struct Printer<'a> {
    out: &'a mut dyn Write,
    json: bool,
    messages: usize,
    failed: usize,
    /// The output went away (e.g. a closed pipe): keep counting, stop writing.
    closed: bool,
}

impl<'a> Printer<'a> {
    fn new(out: &'a mut dyn Write, json: bool) -> Self {
        Self {
            out,
            json,
            messages: 0,
            failed: 0,
            closed: false,
        }
    }

    fn emit(&mut self, text: &str) {
        if !self.closed && self.out.write_all(text.as_bytes()).is_err() {
            self.closed = true;
        }
    }

    /// Decode, print and count one message; returns what was decoded.
    fn message(
        &mut self,
        origin: Option<Origin>,
        bytes: &[u8],
        opts: &DecodeOptions,
    ) -> Option<Message> {
        let report = report(self.messages, origin, bytes, opts);
        self.messages += 1;
        if !report.errors.is_empty() {
            self.failed += 1;
        }
        let text = if self.json {
            let mut line = json_report(&report, bytes).to_string();
            line.push('\n');
            line
        } else {
            human_report(&report)
        };
        self.emit(&text);
        report.message
    }

    fn framing_error(&mut self, origin: Option<Origin>, error: &FramingError) {
        self.failed += 1;
        let text = if self.json {
            let mut object = Map::new();
            if let Some(o) = origin {
                insert_origin(&mut object, &o);
            }
            object.insert("error".into(), json!(error.to_string()));
            if let Some(action) = error.action() {
                object.insert("action".into(), json!(action));
            }
            let mut line = Value::Object(object).to_string();
            line.push('\n');
            line
        } else {
            let mut text = String::from("!!");
            if let Some(o) = origin {
                let _ = write!(text, " {}", origin_text(&o));
            }
            let _ = writeln!(text, " error: {error}");
            if let Some(action) = error.action() {
                let _ = writeln!(text, "   action: {action}");
            }
            text
        };
        self.emit(&text);
    }
}

fn origin_text(o: &Origin) -> String {
    format!("{:+.3}s {} -> {}", o.seconds(), o.src, o.dst)
}

fn insert_origin(object: &mut Map<String, Value>, o: &Origin) {
    object.insert("time".into(), json!(o.seconds()));
    object.insert("src".into(), json!(o.src.to_string()));
    object.insert("dst".into(), json!(o.dst.to_string()));
}

/// An ESI as FRR's debug log writes it: `0` when all zeros (single-homed,
/// RFC 7432 section 5), else ten colon-separated octets.
fn esi_text(esi: &Esi) -> String {
    if esi.is_zero() {
        "0".to_owned()
    } else {
        esi.to_string()
    }
}

/// `[1] RD 198.18.0.1:11 ESI 01:02:ee:00:00:00:01:00:07:00 ET 0 label 11`
fn type1_text(r: &Type1Route) -> String {
    format!(
        "[1] RD {} ESI {} ET {} label {}",
        r.rd,
        esi_text(&r.esi),
        r.ethernet_tag,
        r.label
    )
}

/// `[2] RD 198.19.0.1:2 ESI 0 ET 0 MAC 02:0a:00:00:00:01 IP 198.18.10.1 label 10`
fn type2_text(r: &Type2Route) -> String {
    let ip = r.ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let mut text = format!(
        "[2] RD {} ESI {} ET {} MAC {} IP {ip} label {}",
        r.rd,
        esi_text(&r.esi),
        r.ethernet_tag,
        r.mac,
        r.label1
    );
    if let Some(label2) = r.label2 {
        let _ = write!(text, "/{label2}");
    }
    text
}

/// `[3] RD 198.19.0.3:2 ET 0 orig 198.19.0.3`
fn type3_text(r: &Type3Route) -> String {
    format!(
        "[3] RD {} ET {} orig {}",
        r.rd, r.ethernet_tag, r.originating_router
    )
}

/// `[4] RD 198.18.0.2:1 ESI 00:11:22:33:44:55:66:77:88:99 orig 198.18.0.2`
fn type4_text(r: &Type4Route) -> String {
    format!(
        "[4] RD {} ESI {} orig {}",
        r.rd,
        esi_text(&r.esi),
        r.originating_router
    )
}

/// `[5] RD 198.18.0.2:100 ESI 0 ET 0 prefix 198.18.21.0/24 gw 198.18.21.1
/// label 100`; the gateway as sent, all zeros included.
fn type5_text(r: &Type5Route) -> String {
    format!(
        "[5] RD {} ESI {} ET {} prefix {} gw {} label {}",
        r.rd,
        esi_text(&r.esi),
        r.ethernet_tag,
        r.cidr(),
        r.gateway,
        r.label
    )
}

fn route_text(route: &Route) -> String {
    match route {
        Route::Prefix(p) => p.to_string(),
        Route::Evpn { path_id, route } => {
            let mut text = path_id.map_or_else(String::new, |id| format!("path-id {id} "));
            text += &match route.view() {
                EvpnRouteView::EthernetAd(r) => type1_text(&r),
                EvpnRouteView::MacIp(r) => type2_text(r),
                EvpnRouteView::InclusiveMulticast(r) => type3_text(r),
                EvpnRouteView::EthernetSegment(r) => type4_text(&r),
                EvpnRouteView::IpPrefix(r) => type5_text(&r),
                EvpnRouteView::Opaque { route_type, value } => match route.rd() {
                    Some(rd) => format!("[{route_type}] RD {rd} value 0x{}", to_hex(value)),
                    None => format!("[{route_type}] value 0x{}", to_hex(value)),
                },
            };
            text
        }
    }
}

fn attribute_text(attribute: &PathAttribute) -> String {
    match &attribute.value {
        AttributeValue::AsPath(p) if p.segments.is_empty() => "AS_PATH (empty)".to_owned(),
        _ => attribute.to_string(),
    }
}

fn human_report(report: &Report) -> String {
    let mut text = format!("#{}", report.index);
    if let Some(o) = &report.origin {
        let _ = write!(text, " {}", origin_text(o));
    }
    let _ = write!(text, " {} len={}", report.type_name, report.length);
    match &report.message {
        Some(Message::Update(u)) => {
            if let Some(family) = u.is_end_of_rib() {
                let _ = write!(text, " End-of-RIB {family}");
            }
            text.push('\n');
            human_update(&mut text, report, u);
        }
        Some(Message::Open(o)) => {
            text.push('\n');
            human_open(&mut text, o);
        }
        Some(Message::Notification(n)) => {
            let _ = writeln!(text, "\n  {n}");
        }
        Some(Message::RouteRefresh(rr)) => {
            let _ = writeln!(text, "\n  {rr}");
        }
        Some(Message::Keepalive) | None => text.push('\n'),
    }
    for error in &report.errors {
        let _ = writeln!(text, "  error: {error}");
    }
    if let Some(action) = &report.action {
        let _ = writeln!(text, "  action: {action}");
    }
    text
}

fn human_open(text: &mut String, open: &Open) {
    let _ = writeln!(
        text,
        "  version {} AS {} hold {} id {}",
        open.version,
        open.asn(),
        open.hold_time,
        open.bgp_identifier
    );
    let capabilities: Vec<String> = open.capabilities().map(ToString::to_string).collect();
    if !capabilities.is_empty() {
        let _ = writeln!(text, "  capabilities: {}", capabilities.join("; "));
    }
}

fn human_mp(text: &mut String, name: &str, mp: &MpReport, sign: char) {
    let _ = write!(
        text,
        "  {name} afi {} safi {}",
        mp.family.afi.0, mp.family.safi.0
    );
    if let Some(next_hop) = &mp.next_hop {
        let _ = write!(text, " nexthop {next_hop}");
    }
    if mp.next_hop.is_none() && mp.routes.is_empty() && mp.undecoded.is_none() {
        text.push_str(" (End-of-RIB)");
    }
    text.push('\n');
    for route in &mp.routes {
        let _ = writeln!(text, "    {sign} {}", route_text(route));
    }
    if let Some(hex) = &mp.undecoded {
        let _ = writeln!(text, "    {sign} NLRI 0x{hex}");
    }
}

fn human_update(text: &mut String, report: &Report, update: &Update) {
    if let Some(mp) = &report.reach {
        human_mp(text, "MP_REACH_NLRI", mp, '+');
    }
    if let Some(mp) = &report.unreach {
        human_mp(text, "MP_UNREACH_NLRI", mp, '-');
    }
    for p in &report.withdrawn {
        let _ = writeln!(text, "  - {p}");
    }
    for p in &report.nlri {
        let _ = writeln!(text, "  + {p}");
    }
    let attrs: Vec<String> = update
        .attributes
        .iter()
        .filter(|a| {
            !matches!(
                a.value,
                AttributeValue::MpReach(_) | AttributeValue::MpUnreach(_)
            )
        })
        .map(attribute_text)
        .collect();
    if !attrs.is_empty() {
        let _ = writeln!(text, "  attrs: {}", attrs.join("; "));
    }
}

fn json_route(route: &Route) -> Value {
    match route {
        Route::Prefix(p) => json!(p.to_string()),
        Route::Evpn { path_id, route } => {
            // The wire fields as the typed route or view names them
            // (label1, originating_router, prefix_len, gateway ...), then
            // the fields by meaning as `show routes --json` names them
            // (labels, originator_ip, prefix in CIDR, gateway_ip ...).
            let mut value = serde_json::to_value(route.view()).unwrap_or(Value::Null);
            if let (Value::Object(object), Ok(Value::Object(fields))) =
                (&mut value, serde_json::to_value(route.fields()))
            {
                object.extend(fields);
                if let EvpnRoute::MacIp(r) = route {
                    object.insert("vni".into(), json!(r.vni()));
                }
                if let Some(id) = path_id {
                    object.insert("path_id".into(), json!(id));
                }
            }
            value
        }
    }
}

fn json_mp(mp: &MpReport) -> Value {
    let mut object = Map::new();
    object.insert("family".into(), json!(mp.family.to_string()));
    object.insert("afi".into(), json!(mp.family.afi.0));
    object.insert("safi".into(), json!(mp.family.safi.0));
    if let Some(next_hop) = &mp.next_hop {
        object.insert("next_hop".into(), json!(next_hop));
    }
    object.insert(
        "routes".into(),
        Value::Array(mp.routes.iter().map(json_route).collect()),
    );
    if let Some(hex) = &mp.undecoded {
        object.insert("nlri_hex".into(), json!(hex));
    }
    Value::Object(object)
}

fn json_report(report: &Report, bytes: &[u8]) -> Value {
    let mut object = Map::new();
    object.insert("index".into(), json!(report.index));
    if let Some(o) = &report.origin {
        insert_origin(&mut object, o);
    }
    object.insert("type".into(), json!(report.type_name));
    object.insert("length".into(), json!(report.length));
    object.insert("ok".into(), json!(report.errors.is_empty()));
    if let Some(Message::Update(u)) = &report.message {
        object.insert(
            "end_of_rib".into(),
            json!(u.is_end_of_rib().map(|f| f.to_string())),
        );
        object.insert(
            "attributes".into(),
            Value::Array(
                u.attributes
                    .iter()
                    .map(|a| json!(attribute_text(a)))
                    .collect(),
            ),
        );
        // The extended communities by meaning, named as in a show routes
        // row (route_targets, encapsulation, es_import_rt, router_mac ...).
        if let Some(communities) = u.extended_communities() {
            object.insert(
                "evpn_communities".into(),
                serde_json::to_value(EvpnCommunities::of(communities)).unwrap_or(Value::Null),
            );
        }
        if let Some(mp) = &report.reach {
            object.insert("mp_reach".into(), json_mp(mp));
        }
        if let Some(mp) = &report.unreach {
            object.insert("mp_unreach".into(), json_mp(mp));
        }
        let strings =
            |ps: &[Prefix]| Value::Array(ps.iter().map(|p| json!(p.to_string())).collect());
        object.insert("withdrawn".into(), strings(&report.withdrawn));
        object.insert("nlri".into(), strings(&report.nlri));
    }
    if let Some(message) = &report.message {
        object.insert(
            "message".into(),
            serde_json::to_value(message).unwrap_or(Value::Null),
        );
    }
    if !report.errors.is_empty() {
        object.insert("errors".into(), json!(report.errors));
    }
    if let Some(action) = &report.action {
        object.insert("action".into(), json!(action));
    }
    object.insert("hex".into(), json!(to_hex(bytes)));
    Value::Object(object)
}

// ---------------------------------------------------------------------------
// Captures: TCP reassembly and per-connection options
// ---------------------------------------------------------------------------

// Written here because no crate in the tree fills the gap: pcap-parser
// and etherparse stop at one packet's TCP header and payload, and
// etherparse's defrag module reassembles IP fragments, not TCP streams.
// Turning segments into each direction's byte stream (sequence-number
// wrap, reordering, retransmission, overlap, a bounded backlog and gaps
// reported rather than guessed) feeds the BGP framer below, which is
// evpnd's own concern.

/// BGP's well-known port (RFC 4271 section 8.2.1).
const BGP_PORT: u16 = 179;

/// Out-of-order data held per direction before the missing octets are
/// declared lost.
const MAX_PENDING: usize = 8 << 20;

/// One direction of one TCP connection.
#[derive(Debug, Default)]
struct Direction {
    /// Sequence number of stream offset 0.
    isn: Option<u32>,
    /// Stream offset of the next octet expected.
    next: u64,
    /// Segments ahead of `next`, by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    framer: Framer,
}

impl Direction {
    /// Takes in a segment's payload starting at sequence number `seq`;
    /// contiguous data goes to the framer. Returns a gap error if the
    /// out-of-order backlog grew too large to wait for the missing data.
    fn receive(&mut self, seq: u32, payload: &[u8]) -> Option<FramingError> {
        let isn = *self.isn.get_or_insert(seq);
        if payload.is_empty() {
            return None;
        }
        // Sequence numbers wrap (RFC 9293 section 3.4): place the segment
        // by its signed distance from the next expected octet.
        let expected = isn.wrapping_add(self.next as u32);
        let ahead = i64::from(seq.wrapping_sub(expected) as i32);
        let end = ahead + payload.len() as i64;
        if end <= 0 {
            return None; // retransmission of data already taken
        }
        if ahead <= 0 {
            let fresh = payload
                .get(ahead.unsigned_abs() as usize..)
                .unwrap_or_default();
            self.take(fresh);
            self.drain_pending();
            return None;
        }
        let at = self.next + ahead.unsigned_abs();
        let slot = self.pending.entry(at).or_default();
        if payload.len() > slot.len() {
            self.pending_bytes += payload.len() - slot.len();
            *slot = payload.to_vec();
        }
        (self.pending_bytes > MAX_PENDING).then(|| self.skip_to_pending())
    }

    fn take(&mut self, data: &[u8]) {
        self.framer.push(data);
        self.next += data.len() as u64;
    }

    fn drain_pending(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let at = *entry.key();
            let data = entry.remove();
            self.pending_bytes -= data.len();
            let skip = usize::try_from(self.next - at).unwrap_or(usize::MAX);
            if let Some(fresh) = data.get(skip..) {
                self.take(fresh);
            }
        }
    }

    /// Declares the octets before the first pending segment lost.
    fn skip_to_pending(&mut self) -> FramingError {
        let first = self.pending.keys().next().copied().unwrap_or(self.next);
        let missing = first.saturating_sub(self.next);
        let error = self.framer.skip_gap(missing);
        self.next = first;
        self.drain_pending();
        error
    }
}

/// The OPENs each side of a connection sent, for the options of the
/// messages that follow.
#[derive(Debug, Default)]
struct Connection {
    opens: HashMap<SocketAddr, Open>,
}

impl Connection {
    /// Options for messages from `src` to `dst`: as negotiated once both
    /// OPENs are known (the receiver is `local`); from the one OPEN seen if
    /// the capture holds only one side, as if the peer announced the same;
    /// else `defaults`.
    fn options(&self, src: SocketAddr, dst: SocketAddr, defaults: &DecodeOptions) -> DecodeOptions {
        match (self.opens.get(&dst), self.opens.get(&src)) {
            (Some(local), Some(remote)) => DecodeOptions::negotiated(local, remote),
            (Some(one), None) | (None, Some(one)) => DecodeOptions::negotiated(one, one),
            (None, None) => defaults.clone(),
        }
    }
}

/// Decode every BGP message in a capture. `Err` for a capture that cannot
/// be read further; the messages before the damage are printed first.
fn decode_capture(
    file: &[u8],
    defaults: &DecodeOptions,
    printer: &mut Printer<'_>,
) -> Result<(), pcap::PcapError> {
    let mut flows: Vec<((SocketAddr, SocketAddr), Direction)> = Vec::new();
    let mut flow_index: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    let mut connections: HashMap<(SocketAddr, SocketAddr), Connection> = HashMap::new();
    let mut first_ns: Option<u128> = None;
    let mut since_start_ns = 0;
    let mut failure = None;
    for packet in pcap::Capture::new(file)? {
        let packet = match packet {
            Ok(p) => p,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let first = *first_ns.get_or_insert(packet.ns);
        since_start_ns = packet.ns as i128 - first as i128;
        let Some(segment) = pcap::tcp_segment(packet.link_type, packet.data) else {
            continue;
        };
        if segment.src.port() != BGP_PORT && segment.dst.port() != BGP_PORT {
            continue;
        }
        let origin = Origin {
            since_start_ns,
            src: segment.src,
            dst: segment.dst,
        };
        let key = (segment.src, segment.dst);
        let conn_key = if segment.src <= segment.dst {
            key
        } else {
            (segment.dst, segment.src)
        };
        let index = *flow_index.entry(key).or_insert_with(|| {
            flows.push((key, Direction::default()));
            flows.len() - 1
        });
        let Some((_, direction)) = flows.get_mut(index) else {
            continue;
        };
        let mut seq = segment.seq;
        if segment.syn {
            // The SYN takes one sequence number (RFC 9293 section 3.4).
            seq = seq.wrapping_add(1);
            if direction.isn.is_some_and(|isn| isn != seq) {
                // A new connection on the same addresses and ports.
                flush(direction, origin, defaults, printer);
                *direction = Direction::default();
                connections.remove(&conn_key);
            }
            direction.isn.get_or_insert(seq);
        }
        if let Some(error) = direction.receive(seq, segment.payload) {
            printer.framing_error(Some(origin), &error);
        }
        let connection = connections.entry(conn_key).or_default();
        while let Some(item) = direction.framer.next_item() {
            match item {
                Framed::Message(bytes) => {
                    let opts = connection.options(segment.src, segment.dst, defaults);
                    if let Some(Message::Open(open)) = printer.message(Some(origin), &bytes, &opts)
                    {
                        connection.opens.insert(segment.src, open);
                    }
                }
                Framed::Error(error) => printer.framing_error(Some(origin), &error),
            }
        }
    }
    // End of capture (stamped with the last packet's time): whatever is
    // still held is incomplete.
    for ((src, dst), direction) in &mut flows {
        let origin = Origin {
            since_start_ns,
            src: *src,
            dst: *dst,
        };
        flush(direction, origin, defaults, printer);
    }
    failure.map_or(Ok(()), Err)
}

/// Decode what a direction still holds past any gaps, then report a
/// message left incomplete.
fn flush(
    direction: &mut Direction,
    origin: Origin,
    defaults: &DecodeOptions,
    printer: &mut Printer<'_>,
) {
    while !direction.pending.is_empty() {
        let error = direction.skip_to_pending();
        printer.framing_error(Some(origin), &error);
        while let Some(item) = direction.framer.next_item() {
            match item {
                Framed::Message(bytes) => {
                    printer.message(Some(origin), &bytes, defaults);
                }
                Framed::Error(error) => printer.framing_error(Some(origin), &error),
            }
        }
    }
    if let Some(error) = direction.framer.finish() {
        printer.framing_error(Some(origin), &error);
    }
}

// Capture files and packet layers (pcap/pcapng reader): see pcap.rs.
pub mod pcap;

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff001304";
    /// FRR's type-3 UPDATE (bgp-evpn-messages.txt msg 6).
    const TYPE3_UPDATE: &str = "ffffffffffffffffffffffffffffffff0065020000004e900e001c00194604c61300030003110001c613000300020000000020c6130003400101005002000040050400000064c01010030c0000000000080002fde800000000c016090006000000c6130003";
    /// An UPDATE with one MAC+IP type-2 route (FRR, proto-tests/vectors/frr/ msg 114).
    const TYPE2_UPDATE: &str = "ffffffffffffffffffffffffffffffff006d0200000056900e003000194604c61300010002250001c61300010002000000000000000000000000000030020a0000000120c6120a0100000a400101005002000040050400000064c01010030c0000000000080002fde80000000a";

    fn hex(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        push_hex(s, &mut out).unwrap();
        out
    }

    fn args(hex: &[&str]) -> DecodeRequest {
        DecodeRequest {
            hex: hex.iter().map(|s| s.to_string()).collect(),
            file: None,
            pcap: None,
            json: false,
            two_octet_as: false,
        }
    }

    fn run_args(args: &DecodeRequest) -> (Outcome, String) {
        let mut out = Vec::new();
        let outcome = decode(args, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    }

    #[test]
    fn hex_parsing_accepts_separators_and_reports_bad_characters() {
        assert_eq!(hex("ff:FF 0x01\t02"), [0xff, 0xff, 0x01, 0x02]);
        let mut out = Vec::new();
        assert_eq!(
            push_hex("ff zz", &mut out).unwrap_err(),
            "unexpected 'z' at column 4"
        );
        assert!(push_hex("fff", &mut Vec::new()).is_err());
        let text = b"# comment\nffff # trailing\n\n0102\n";
        assert_eq!(parse_hex_text(text, "f").unwrap(), [0xff, 0xff, 1, 2]);
        let err = parse_hex_text(b"ff\nfg\n", "vectors.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "vectors.txt: not hex: line 2: unexpected 'g' at column 2"
        );
        assert!(looks_like_hex_text(text));
        assert!(!looks_like_hex_text(&hex(KEEPALIVE)));
    }

    #[test]
    fn files_are_told_apart_by_content() {
        for magic in ["d4c3b2a1", "4d3cb2a1", "a1b2c3d4", "a1b23c4d", "0a0d0d0a"] {
            assert_eq!(sniff(&hex(magic)), FileContent::Capture, "{magic}");
        }
        assert_eq!(
            pcap::capture_kind(&hex("a1b23c4d")),
            Some(pcap::CaptureKind::Classic {
                big_endian: true,
                nanoseconds: true
            })
        );
        assert_eq!(pcap::capture_kind(&hex("0a0d0d")), None, "too short");
        assert_eq!(sniff(&hex(KEEPALIVE)), FileContent::Raw);
        assert_eq!(sniff(&[0x00, 0x13, 0x04]), FileContent::Raw, "not text");
        assert_eq!(sniff(b"# msg 0\nffff 0013 04\n"), FileContent::HexText);
        assert_eq!(sniff(KEEPALIVE.as_bytes()), FileContent::HexText);
        assert_eq!(sniff(b""), FileContent::HexText, "empty: no messages");
    }

    #[test]
    fn one_word_naming_a_file_is_read_as_the_file() {
        let mut a = args(&["-"]);
        assert_eq!(input_file(&a), Some(PathBuf::from("-")));
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join(file!());
        a.hex = vec![here.display().to_string()];
        assert_eq!(input_file(&a), Some(here.clone()));
        a.hex.push(KEEPALIVE.to_owned());
        assert_eq!(input_file(&a), None, "two words are hex");
        assert_eq!(input_file(&args(&[KEEPALIVE])), None);
        a.file = Some(PathBuf::from("x"));
        assert_eq!(input_file(&a), Some(PathBuf::from("x")));
    }

    /// An UPDATE with ORIGIN IGP, an empty AS_PATH, LOCAL_PREF 100 and an
    /// MP_REACH_NLRI (RFC 4760 section 3; flags 0x90, extended length)
    /// carrying `nlri` for L2VPN EVPN, next hop 198.18.0.1.
    fn evpn_update(nlri: &[u8]) -> Vec<u8> {
        let mut reach = hex("0019 46 04 c6120001 00");
        reach.extend_from_slice(nlri);
        let mut attributes = hex("400101 00 400200 400504 00000064");
        attributes.extend_from_slice(&[0x90, 14]);
        attributes.extend_from_slice(&(reach.len() as u16).to_be_bytes());
        attributes.extend_from_slice(&reach);
        let mut message = MARKER.to_vec();
        let length = HEADER_LEN + 4 + attributes.len();
        message.extend_from_slice(&(length as u16).to_be_bytes());
        message.extend_from_slice(&[2, 0, 0]);
        message.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
        message.extend_from_slice(&attributes);
        message
    }

    proptest::proptest! {
        /// Hostile files: whatever follows a capture magic number, the
        /// marker or nothing, decoding reports and never panics.
        #[test]
        fn any_file_content_decodes_without_panic(
            start in 0usize..7,
            rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            json in proptest::prelude::any::<bool>(),
        ) {
            let starts: [&[u8]; 7] = [
                &[0xd4, 0xc3, 0xb2, 0xa1],
                &[0xa1, 0xb2, 0x3c, 0x4d],
                &[0x0a, 0x0d, 0x0d, 0x0a],
                &[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a],
                &MARKER,
                b"ffffffffffffffffffffffffffffffff",
                &[],
            ];
            let mut file = starts[start].to_vec();
            file.extend_from_slice(&rest);
            let mut out = Vec::new();
            let mut printer = Printer::new(&mut out, json);
            let _ = decode_file("f".to_owned(), &file, &DecodeOptions::default(), &mut printer);
        }

        /// Hostile EVPN NLRI of every route type this code has a view of
        /// (and one it has not), printed as text and JSON, never panic.
        #[test]
        fn any_evpn_route_prints_without_panic(
            route_type in 1u8..=6,
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70),
            json in proptest::prelude::any::<bool>(),
        ) {
            let mut nlri = vec![route_type, value.len() as u8];
            nlri.extend_from_slice(&value);
            let message = evpn_update(&nlri);
            let mut out = Vec::new();
            let mut printer = Printer::new(&mut out, json);
            printer.message(None, &message, &DecodeOptions::default());
            proptest::prop_assert_eq!(printer.messages, 1);
        }
    }

    #[test]
    fn views_print_every_field_of_a_built_update() {
        // ExaBGP's type-4 NLRI (exabgp/messages.txt msg 16) in an UPDATE
        // built here: the same line as from the capture.
        let nlri = hex("0417 0001c61200020001 00112233445566778899 20 c6120002");
        let (outcome, text) = run_args(&args(&[&to_hex(&evpn_update(&nlri))]));
        assert_eq!(outcome.exit_status(), exit::OK, "{text}");
        assert!(
            text.contains(
                "+ [4] RD 198.18.0.2:1 ESI 00:11:22:33:44:55:66:77:88:99 orig 198.18.0.2\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_single_message_may_leave_out_the_marker() {
        assert_eq!(with_marker(hex("001304")), hex(KEEPALIVE));
        // Two marker-less KEEPALIVEs are not one message: left alone.
        assert_eq!(with_marker(hex("001304001304")), hex("001304001304"));
        assert_eq!(with_marker(hex(KEEPALIVE)), hex(KEEPALIVE));
    }

    #[test]
    fn framer_splits_waits_and_resynchronises() {
        let mut framer = Framer::default();
        let ka = hex(KEEPALIVE);
        framer.push(&ka[..10]);
        assert_eq!(framer.next_item(), None);
        framer.push(&ka[10..]);
        framer.push(b"junk");
        framer.push(&ka);
        assert_eq!(framer.next_item(), Some(Framed::Message(ka.clone())));
        assert_eq!(
            framer.next_item(),
            Some(Framed::Error(FramingError::Header {
                offset: 19,
                error: HeaderError::BadMarker
            }))
        );
        assert_eq!(framer.next_item(), Some(Framed::Message(ka.clone())));
        assert_eq!(framer.next_item(), None);
        framer.push(&ka[..5]);
        assert_eq!(
            framer.finish(),
            Some(FramingError::Incomplete {
                offset: 42,
                have: 5,
                need: 19
            })
        );
    }

    #[test]
    fn framer_rejects_a_length_below_the_header() {
        let mut framer = Framer::default();
        framer.push(&hex("ffffffffffffffffffffffffffffffff000504"));
        let Some(Framed::Error(error)) = framer.next_item() else {
            panic!("expected an error");
        };
        assert_eq!(
            error.action().unwrap(),
            "session-reset (Message Header Error/Bad Message Length data 0005)"
        );
    }

    #[test]
    fn type3_update_human_form() {
        let (outcome, text) = run_args(&args(&[TYPE3_UPDATE]));
        assert_eq!(outcome.exit_status(), exit::OK);
        assert_eq!(outcome.messages, 1);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#0 UPDATE len=101");
        assert_eq!(
            lines[1],
            "  MP_REACH_NLRI afi 25 safi 70 nexthop 198.19.0.3"
        );
        assert_eq!(lines[2], "    + [3] RD 198.19.0.3:2 ET 0 orig 198.19.0.3");
        assert!(lines[3].starts_with("  attrs: ORIGIN IGP; AS_PATH (empty); LOCAL_PREF 100;"));
        assert!(lines[3].contains("PMSI_TUNNEL"), "{}", lines[3]);
    }

    #[test]
    fn type2_route_line_and_json() {
        let (outcome, text) = run_args(&args(&[TYPE2_UPDATE]));
        assert_eq!(outcome.exit_status(), exit::OK, "{text}");
        assert!(text.contains(
            "    + [2] RD 198.19.0.1:2 ESI 0 ET 0 MAC 02:0a:00:00:00:01 IP 198.18.10.1 label 10\n"
        ));
        let mut json_args = args(&[TYPE2_UPDATE]);
        json_args.json = true;
        let (_, text) = run_args(&json_args);
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        let route = &v["mp_reach"]["routes"][0];
        assert_eq!(route["route"], "mac-ip");
        assert_eq!(route["mac"], "02:0a:00:00:00:01");
        assert_eq!(route["vni"], 10);
        assert_eq!(route["rd"], "198.19.0.1:2");
    }

    /// ExaBGP 4.2's UPDATEs (proto-tests/vectors/exabgp/messages.txt msgs
    /// 15, 16 and 18): a per-ES type-1 with the ESI label, a type-4 with the
    /// ES-Import route target, an IPv6 type-5 (gateway ::).
    const EXABGP_TYPE1_PER_ES: &str = "ffffffffffffffffffffffffffffffff0066020000004f40010100400200400304c612000240050400000064c010100002fde80000000a0601000000000000800e2400194604c61200020001190001c6120002000a00112233445566778899ffffffff000000";
    const EXABGP_TYPE4: &str = "ffffffffffffffffffffffffffffffff005c020000004540010100400200400304c612000240050400000064c010080602112233445566800e2200194604c61200020004170001c612000200010011223344556677889920c6120002";
    const EXABGP_TYPE5_V6: &str = "ffffffffffffffffffffffffffffffff008f020000007840010100400200400304c612000240050400000064c010180002fde800000064030c000000000008060302b000000002800e4500194604c612000200053a0001c6120002006400000000000000000000000000004020010db800210000000000000000000000000000000000000000000000000000000064";

    #[test]
    fn type_1_4_5_routes_and_multihoming_communities_field_by_field() {
        let (outcome, text) =
            run_args(&args(&[EXABGP_TYPE1_PER_ES, EXABGP_TYPE4, EXABGP_TYPE5_V6]));
        assert_eq!(outcome.exit_status(), exit::OK, "{text}");
        for line in [
            "    + [1] RD 198.18.0.2:10 ESI 00:11:22:33:44:55:66:77:88:99 ET 4294967295 label 0\n",
            "EXT_COMM RT:65000:10 ESI-label-Rt:AA:0\n",
            "    + [4] RD 198.18.0.2:1 ESI 00:11:22:33:44:55:66:77:88:99 orig 198.18.0.2\n",
            "EXT_COMM ES-Import-Rt:11:22:33:44:55:66\n",
            "    + [5] RD 198.18.0.2:100 ESI 0 ET 0 prefix 2001:db8:21::/64 gw :: label 100\n",
            "EXT_COMM RT:65000:100 ET:8 Rmac:02:b0:00:00:00:02\n",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }

        let mut json_args = args(&[EXABGP_TYPE1_PER_ES, EXABGP_TYPE4, EXABGP_TYPE5_V6]);
        json_args.json = true;
        let (_, text) = run_args(&json_args);
        let messages: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let route = |i: usize| messages[i]["mp_reach"]["routes"][0].clone();
        assert_eq!(
            route(0),
            json!({"route": "ethernet-ad", "route_type": 1, "rd": "198.18.0.2:10",
                   "esi": "00:11:22:33:44:55:66:77:88:99", "ethernet_tag": 4294967295u32,
                   "label": 0, "labels": [0]})
        );
        assert_eq!(
            route(1),
            json!({"route": "ethernet-segment", "route_type": 4, "rd": "198.18.0.2:1",
                   "esi": "00:11:22:33:44:55:66:77:88:99",
                   "originating_router": "198.18.0.2", "originator_ip": "198.18.0.2"})
        );
        assert_eq!(
            route(2),
            json!({"route": "ip-prefix", "route_type": 5, "rd": "198.18.0.2:100",
                   "esi": "00:00:00:00:00:00:00:00:00:00", "ethernet_tag": 0,
                   "prefix": "2001:db8:21::/64", "prefix_len": 64, "gateway": "::",
                   "label": 100, "labels": [100]})
        );
        assert_eq!(
            messages[1]["attributes"][4],
            "EXT_COMM ES-Import-Rt:11:22:33:44:55:66"
        );
        assert_eq!(
            messages[1]["evpn_communities"]["es_import_rt"],
            "11:22:33:44:55:66"
        );
        assert_eq!(
            messages[0]["evpn_communities"]["esi_label"],
            json!({"flags": 0, "label": 0})
        );
        assert_eq!(
            messages[2]["evpn_communities"]["router_mac"],
            "02:b0:00:00:00:02"
        );
    }

    #[test]
    fn malformed_evpn_nlri_names_the_field_and_resets() {
        // MAC length 47 instead of 48 in the type-2 route.
        let bad = TYPE2_UPDATE.replacen("0000000030020a", "000000002f020a", 1);
        assert_ne!(bad, TYPE2_UPDATE);
        let (outcome, text) = run_args(&args(&[&bad, KEEPALIVE]));
        assert_eq!(outcome.messages, 2);
        assert_eq!(outcome.failed, 1);
        assert_eq!(outcome.exit_status(), exit::MALFORMED);
        assert!(
            text.contains(
                "error: UPDATE: attribute 14 malformed: type-2 MAC address length at byte 60: invalid value 47"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "action: session-reset (UPDATE Message Error/Optional Attribute Error data 900e0030"
            ),
            "{text}"
        );
        assert!(
            text.contains("#1 KEEPALIVE len=19"),
            "decoding went on: {text}"
        );
    }

    #[test]
    fn mp_nlri_offsets_point_into_the_message() {
        let message = hex(TYPE3_UPDATE);
        let at = mp_nlri_offset(&message, type_code::MP_REACH_NLRI).unwrap();
        // The type-3 NLRI: type 3, length 17.
        assert_eq!(&message[at..at + 2], &[3, 17]);
        assert_eq!(mp_nlri_offset(&message, type_code::MP_UNREACH_NLRI), None);
        let eor = hex("ffffffffffffffffffffffffffffffff001d0200000006800f03001946");
        assert_eq!(mp_nlri_offset(&eor, type_code::MP_UNREACH_NLRI), Some(29));
    }

    #[test]
    fn evpn_add_path_identifiers_are_read_when_negotiated() {
        let nlri = hex("00000007 0311 0001c61300030002 00000000 20 c6130003");
        let routes = decode_evpn_nlri(&nlri, 0, true).unwrap();
        assert_eq!(routes.len(), 1);
        let Route::Evpn { path_id, route } = &routes[0] else {
            panic!("not EVPN");
        };
        assert_eq!(*path_id, Some(7));
        assert_eq!(route.route_type(), 3);
        assert!(decode_evpn_nlri(&nlri, 0, false).is_err());
    }

    #[test]
    fn reassembly_handles_reordering_retransmission_and_overlap() {
        let mut d = Direction::default();
        let data: Vec<u8> = (0u8..100).collect();
        let base = u32::MAX - 30; // wraps inside the stream
        assert!(d.receive(base, &[]).is_none());
        d.receive(base.wrapping_add(50), &data[50..80]);
        d.receive(base.wrapping_add(20), &data[20..60]);
        assert_eq!(d.next, 0);
        d.receive(base, &data[..30]);
        assert_eq!(d.next, 80);
        d.receive(base, &data[..10]); // retransmission
        d.receive(base.wrapping_add(70), &data[70..100]); // overlap
        assert_eq!(d.next, 100);
        assert_eq!(d.framer.pending(), &data[..]);
        assert!(d.pending.is_empty());
    }

    #[test]
    fn a_gap_is_reported_and_decoding_resumes_at_the_next_marker() {
        let mut d = Direction::default();
        let ka = hex(KEEPALIVE);
        let mut stream = ka.clone();
        stream.extend_from_slice(&ka);
        stream.extend_from_slice(&ka);
        d.receive(1000, &stream[..5]);
        d.receive(1000 + 25, &stream[25..]);
        let error = d.skip_to_pending();
        assert_eq!(
            error,
            FramingError::Gap {
                offset: 5,
                missing: 20
            }
        );
        assert_eq!(d.framer.next_item(), Some(Framed::Message(ka)));
        assert_eq!(d.framer.next_item(), None);
    }

    /// An Ethernet/IPv4/TCP frame.
    fn frame(
        src: [u8; 4],
        sport: u16,
        dst: [u8; 4],
        dport: u16,
        seq: u32,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        let total = 20 + 20 + payload.len();
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f.extend_from_slice(&[0; 4]); // Ethernet padding, trimmed by IP length
        f
    }

    fn classic_pcap(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut file = hex("d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000");
        for (i, f) in frames.iter().enumerate() {
            file.extend_from_slice(&(1000 + i as u32).to_le_bytes());
            file.extend_from_slice(&0u32.to_le_bytes());
            file.extend_from_slice(&(f.len() as u32).to_le_bytes());
            file.extend_from_slice(&(f.len() as u32).to_le_bytes());
            file.extend_from_slice(f);
        }
        file
    }

    fn pcapng(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut file = hex("0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000");
        // IDB: Ethernet, if_tsresol 9 (nanoseconds).
        file.extend_from_slice(&hex(
            "01000000 20000000 0100 0000 00000400 0900 0100 09000000 00000000 20000000",
        ));
        for (i, f) in frames.iter().enumerate() {
            let padded = f.len().div_ceil(4) * 4;
            let total = (32 + padded) as u32;
            file.extend_from_slice(&6u32.to_le_bytes());
            file.extend_from_slice(&total.to_le_bytes());
            file.extend_from_slice(&0u32.to_le_bytes());
            let ns = 5_000_000_000u64 + i as u64 * 1_500_000;
            file.extend_from_slice(&((ns >> 32) as u32).to_le_bytes());
            file.extend_from_slice(&(ns as u32).to_le_bytes());
            file.extend_from_slice(&(f.len() as u32).to_le_bytes());
            file.extend_from_slice(&(f.len() as u32).to_le_bytes());
            file.extend_from_slice(f);
            file.resize(file.len() + padded - f.len(), 0);
            file.extend_from_slice(&total.to_le_bytes());
        }
        file
    }

    /// A speaker's OPEN with 4-octet AS and EVPN, then an UPDATE split over
    /// two segments sent out of order, one retransmitted.
    fn session_frames() -> Vec<Vec<u8>> {
        let a = [198, 18, 0, 1];
        let b = [198, 18, 0, 2];
        let open = hex(
            "ffffffffffffffffffffffffffffffff002d0104fde80009c6120001100206010400190046020641040000fde8",
        );
        let update = hex(TYPE3_UPDATE);
        let mut first = open.clone();
        first.extend_from_slice(&update[..40]);
        let isn = 5000u32;
        vec![
            frame(a, 40000, b, 179, isn, 0x02, &[]),
            frame(
                a,
                40000,
                b,
                179,
                isn + 1 + first.len() as u32,
                0x18,
                &update[40..],
            ),
            frame(a, 40000, b, 179, isn + 1, 0x18, &first),
            frame(a, 40000, b, 179, isn + 1, 0x18, &first),
            frame(b, 179, a, 40000, 7, 0x18, &hex(KEEPALIVE)),
            frame(b, 80, a, 40001, 7, 0x18, &hex(KEEPALIVE)), // not BGP
        ]
    }

    /// The UPDATE's tail arrives first (+1 s) and waits; the head at +2 s
    /// completes it, so it is stamped +2 s.
    fn check_session_output(text: &str) {
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with("#0 +2.000s 198.18.0.1:40000 -> 198.18.0.2:179 OPEN"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("#1 +2.000s 198.18.0.1:40000 -> 198.18.0.2:179 UPDATE len=101"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("#2 +4.000s 198.18.0.2:179 -> 198.18.0.1:40000 KEEPALIVE"),
            "{text}"
        );
        assert!(text.contains("+ [3] RD 198.19.0.3:2 ET 0 orig 198.19.0.3"));
    }

    #[test]
    fn classic_pcap_reassembles_a_session() {
        let file = classic_pcap(&session_frames());
        let mut printer_out = Vec::new();
        let mut printer = Printer::new(&mut printer_out, false);
        decode_capture(&file, &DecodeOptions::default(), &mut printer).unwrap();
        assert_eq!((printer.messages, printer.failed), (3, 0));
        check_session_output(&String::from_utf8(printer_out).unwrap());
    }

    #[test]
    fn a_segment_missing_from_the_capture_is_reported_not_guessed() {
        let mut frames = session_frames();
        // Drop the OPEN + UPDATE head and its retransmission.
        frames.drain(2..4);
        let file = classic_pcap(&frames);
        let mut out = Vec::new();
        let mut printer = Printer::new(&mut out, false);
        decode_capture(&file, &DecodeOptions::default(), &mut printer).unwrap();
        // Only the other direction's KEEPALIVE decodes; the lost octets
        // are one error and the orphaned UPDATE tail is skipped.
        assert_eq!((printer.messages, printer.failed), (1, 1));
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("!! +3.000s 198.18.0.1:40000 -> 198.18.0.2:179 error: 85 octets missing from the capture at stream offset 0"),
            "{text}"
        );
    }

    #[test]
    fn pcapng_reads_the_same_session_with_nanosecond_stamps() {
        let file = pcapng(&session_frames());
        let packets: Vec<_> = pcap::Capture::new(&file)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(packets.len(), 6);
        assert_eq!(packets[1].ns - packets[0].ns, 1_500_000);
        let mut out = Vec::new();
        let mut printer = Printer::new(&mut out, false);
        decode_capture(&file, &DecodeOptions::default(), &mut printer).unwrap();
        assert_eq!((printer.messages, printer.failed), (3, 0));
    }

    #[test]
    fn truncated_capture_decodes_what_is_there_then_fails() {
        let mut file = classic_pcap(&session_frames());
        file.truncate(file.len() - 10);
        let mut out = Vec::new();
        let mut printer = Printer::new(&mut out, false);
        let error = decode_capture(&file, &DecodeOptions::default(), &mut printer).unwrap_err();
        assert!(matches!(
            error,
            pcap::PcapError::Truncated {
                what: "packet record data",
                ..
            }
        ));
        assert_eq!(printer.messages, 3);
        assert!(matches!(
            pcap::Capture::new(b"hello world, not a capture"),
            Err(pcap::PcapError::NotACapture(_))
        ));
    }

    #[test]
    fn cooked_and_raw_ipv6_link_types() {
        let ipv6_tcp = {
            let mut p = vec![0x60, 0, 0, 0, 0, 20 + 19, 6, 64];
            p.extend_from_slice(&[0xfd; 16]);
            p.extend_from_slice(&[0xfe; 16]);
            p.extend_from_slice(&179u16.to_be_bytes());
            p.extend_from_slice(&50000u16.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 0, 0x50, 0x18, 0, 0, 0, 0, 0, 0]);
            p.extend_from_slice(&hex(KEEPALIVE));
            p
        };
        let raw = pcap::tcp_segment(pcap::LINKTYPE_RAW, &ipv6_tcp).unwrap();
        assert_eq!(raw.src.port(), 179);
        assert_eq!(raw.seq, 9);
        assert_eq!(raw.payload, &hex(KEEPALIVE)[..]);
        let mut sll = vec![0; 14];
        sll.extend_from_slice(&0x86ddu16.to_be_bytes());
        sll.extend_from_slice(&ipv6_tcp);
        assert_eq!(pcap::tcp_segment(pcap::LINKTYPE_LINUX_SLL, &sll), Some(raw));
        let mut sll2 = 0x86ddu16.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0; 18]);
        sll2.extend_from_slice(&ipv6_tcp);
        assert_eq!(
            pcap::tcp_segment(pcap::LINKTYPE_LINUX_SLL2, &sll2),
            Some(raw)
        );
        // Cut short anywhere: never a panic, and no segment once the TCP
        // header is incomplete.
        for cut in 0..ipv6_tcp.len() {
            let _ = pcap::tcp_segment(pcap::LINKTYPE_RAW, &ipv6_tcp[..cut]);
        }
        assert_eq!(pcap::tcp_segment(pcap::LINKTYPE_RAW, &ipv6_tcp[..50]), None);
    }

    #[test]
    fn options_follow_the_opens_of_the_connection() {
        let a: SocketAddr = "198.18.0.1:179".parse().unwrap();
        let b: SocketAddr = "198.18.0.2:40000".parse().unwrap();
        let defaults = DecodeOptions::default();
        let mut c = Connection::default();
        assert_eq!(c.options(a, b, &defaults), defaults);
        let open = |caps| Open::new(65000, 9, Ipv4Addr::new(198, 18, 0, 1), caps);
        use crate::wire::capability::Capability;
        c.opens
            .insert(a, open(vec![Capability::FourOctetAs(65000)]));
        assert!(
            c.options(a, b, &defaults).four_octet_as,
            "one side seen: assumed symmetric"
        );
        c.opens.insert(b, open(vec![]));
        assert!(!c.options(a, b, &defaults).four_octet_as);
        assert!(!c.options(b, a, &defaults).four_octet_as);
    }
}
