//! Captures: every BGP message on TCP port 179 of a capture, each
//! connection's OPENs setting the options for the messages after them.

use super::framing::{Framed, Framer};
use super::pcap;
use super::render::Printer;
use super::report::CapturedAt;
use super::tcp::Direction;
use evpnd_wire::message::{DecodeOptions, Message};
use evpnd_wire::open::Open;
use std::collections::HashMap;
use std::net::SocketAddr;

/// Hex or a file: one stream, one set of options.
pub(super) fn decode_stream(stream: &[u8], opts: &DecodeOptions, printer: &mut Printer<'_>) {
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

/// BGP's well-known port (RFC 4271 section 8.2.1).
const BGP_PORT: u16 = 179;

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
pub(super) fn decode_capture(
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
        let origin = CapturedAt {
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
        let origin = CapturedAt {
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
    origin: CapturedAt,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::*;
    use std::net::Ipv4Addr;

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
    fn options_follow_the_opens_of_the_connection() {
        let a: SocketAddr = "198.18.0.1:179".parse().unwrap();
        let b: SocketAddr = "198.18.0.2:40000".parse().unwrap();
        let defaults = DecodeOptions::default();
        let mut c = Connection::default();
        assert_eq!(c.options(a, b, &defaults), defaults);
        let open = |caps| Open::new(65000, 9, Ipv4Addr::new(198, 18, 0, 1), caps);
        use evpnd_wire::capability::Capability;
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
