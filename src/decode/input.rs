//! Input: reading the files and words `evpnd decode` is given, hex
//! parsing, and telling a capture, raw messages and hex text apart.

use super::capture::decode_capture;
use super::capture::decode_stream;
use super::pcap;
use super::render::Printer;
use super::request::DecodeRequest;
use evpnd_wire::header::MARKER;
use evpnd_wire::message::DecodeOptions;
use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

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

/// The whole input and the name errors call it by (`-` is stdin).
pub(super) fn read_input(path: &Path) -> Result<(String, Vec<u8>), InputError> {
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
pub(super) fn input_file(args: &DecodeRequest) -> Option<PathBuf> {
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
pub(super) fn decode_file(
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
pub(super) fn push_hex(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
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
pub(super) fn parse_hex_args(words: &[String]) -> Result<Vec<u8>, InputError> {
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
pub(super) fn with_marker(stream: Vec<u8>) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::*;

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

    #[test]
    fn a_single_message_may_leave_out_the_marker() {
        assert_eq!(with_marker(hex("001304")), hex(KEEPALIVE));
        // Two marker-less KEEPALIVEs are not one message: left alone.
        assert_eq!(with_marker(hex("001304001304")), hex("001304001304"));
        assert_eq!(with_marker(hex(KEEPALIVE)), hex(KEEPALIVE));
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
    }
}
