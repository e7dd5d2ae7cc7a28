//! Capture files and packet layers. The file formats are read by
//! `pcap-parser` (classic pcap in either byte order and stamp precision;
//! pcapng sections, interfaces and packet blocks), the link-layer
//! encapsulations by its link-type table (`data` feature: Ethernet, BSD
//! loopback, Linux cooked SLL/SLL2, raw IP) and the Ethernet, VLAN, IP and
//! TCP headers by `etherparse`, which checks every length against the
//! octets present. What stays here: the capture iterator's error reports
//! (byte offsets for the user), the obsolete pcapng Packet Block that
//! pcap-parser does not know, and stamps to nanoseconds.

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::data::{PacketData, get_packetdata};
use pcap_parser::nom;
use pcap_parser::{
    BOM_MAGIC, Block, Linktype, SHB_MAGIC, parse_block_be, parse_block_le, parse_pcap_frame,
    parse_pcap_frame_be, parse_pcap_header,
};
use std::net::{IpAddr, SocketAddr};
use thiserror::Error;

/// Why a capture cannot be read (further).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PcapError {
    #[error("not a pcap or pcapng capture (starts with {0})")]
    NotACapture(String),
    #[error("truncated capture: {what} at byte {offset} needs {needed} bytes, {available} present")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("malformed pcapng: {what} at byte {offset}")]
    Malformed { what: &'static str, offset: usize },
    #[error("packet at byte {offset} names interface {interface}, never described")]
    UnknownInterface { interface: u32, offset: usize },
}

/// One captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Capture time, nanoseconds since the epoch.
    pub ns: u128,
    /// LINKTYPE_* value.
    pub link_type: u16,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u16,
    /// Stamp units per second (pcapng if_tsresol, default microseconds);
    /// `None` for a resolution too fine to count.
    units_per_second: Option<u128>,
}

#[derive(Debug, Clone)]
enum Format {
    Classic {
        big_endian: bool,
        nanoseconds: bool,
        link_type: u16,
    },
    Ng {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Iterates over the packets of a capture; an `Err` item ends it.
#[derive(Debug, Clone)]
pub struct Capture<'a> {
    file: &'a [u8],
    pos: usize,
    format: Format,
    last_ns: u128,
    done: bool,
}

/// A capture format, as its first four octets announce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    /// Classic pcap: magic number 0xa1b2c3d4 (microsecond stamps) or
    /// 0xa1b23c4d (nanosecond stamps), written in the writer's byte
    /// order (draft-ietf-opsawg-pcap section 4).
    Classic { big_endian: bool, nanoseconds: bool },
    /// pcapng: a file starts with a Section Header Block, block type
    /// 0x0a0d0d0a, the same in either byte order (draft-ietf-opsawg-
    /// pcapng section 4.1); its byte-order magic follows.
    Ng,
}

/// The capture format `file` starts with, if any. Only the magic number
/// is looked at (pcap-parser has no sniffing function short of parsing a
/// whole header), so that a file can be told apart from text or raw
/// messages before it is read as a capture.
pub fn capture_kind(file: &[u8]) -> Option<CaptureKind> {
    let classic = |big_endian, nanoseconds| {
        Some(CaptureKind::Classic {
            big_endian,
            nanoseconds,
        })
    };
    match file.get(..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1] => classic(false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => classic(false, true),
        [0xa1, 0xb2, 0xc3, 0xd4] => classic(true, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => classic(true, true),
        magic if magic == SHB_MAGIC.to_le_bytes() => Some(CaptureKind::Ng),
        _ => None,
    }
}

fn truncated(what: &'static str, offset: usize, needed: usize, file: &[u8]) -> PcapError {
    PcapError::Truncated {
        what,
        offset,
        needed,
        available: file.len().saturating_sub(offset),
    }
}

/// pcapng if_tsresol (section 4.2) as stamp units per second: a power
/// of 10, or of 2 with the top bit set. pcap-parser reads the option
/// (default 6), but its `build_ts_resolution` compares the whole octet,
/// flag bit included, with 63 and so rejects every power of 2.
fn units_per_second(if_tsresol: u8) -> Option<u128> {
    let exponent = u32::from(if_tsresol & 0x7f);
    if if_tsresol & 0x80 == 0 {
        10u128.checked_pow(exponent)
    } else {
        1u128.checked_shl(exponent)
    }
}

/// Stamp units to nanoseconds, rounding down.
fn to_ns(units: u64, units_per_second: Option<u128>) -> u128 {
    units_per_second.map_or(0, |per_second| {
        u128::from(units) * 1_000_000_000 / per_second
    })
}

/// The Block Total Length a pcapng block announces, in its section's
/// byte order (a Section Header Block's own byte-order magic decides for
/// it). Only for reporting a block pcap-parser found incomplete: nom's
/// `Needed` counts from wherever the parser stopped inside the block.
fn announced_len(block: &[u8], big_endian: bool) -> Option<usize> {
    let big_endian = match block.get(8..12) {
        Some(bom) if block.starts_with(&SHB_MAGIC.to_le_bytes()) => bom == BOM_MAGIC.to_be_bytes(),
        _ => big_endian,
    };
    let length: [u8; 4] = block.get(4..8)?.try_into().ok()?;
    let length = if big_endian {
        u32::from_be_bytes(length)
    } else {
        u32::from_le_bytes(length)
    };
    usize::try_from(length).ok()
}

/// The obsolete pcapng Packet Block (block type 2, draft-ietf-opsawg-
/// pcapng appendix A): interface id and drops count (2 octets each), then
/// the stamp and lengths as in an Enhanced Packet Block. pcap-parser
/// 0.17 returns it as an unknown block, so its body is read here (with
/// nom): (interface, stamp units, packet data).
fn obsolete_packet_block(body: &[u8], big_endian: bool) -> Option<(u32, u64, &[u8])> {
    use nom::Parser;
    use nom::number::Endianness;
    use nom::number::complete::{u16, u32};
    let e = if big_endian {
        Endianness::Big
    } else {
        Endianness::Little
    };
    let fields: nom::IResult<&[u8], _, ()> =
        (u16(e), u16(e), u32(e), u32(e), u32(e), u32(e)).parse(body);
    let (data, (interface, _drops, high, low, captured, _original)) = fields.ok()?;
    let data = data.get(..usize::try_from(captured).ok()?)?;
    Some((
        u32::from(interface),
        u64::from(high) << 32 | u64::from(low),
        data,
    ))
}

/// A packet block's data without its padding, as
/// `PcapNGPacketBlock::packet_data` cuts it but with the file's lifetime
/// (that method borrows the block).
fn unpadded(data: &[u8], len: u32) -> &[u8] {
    usize::try_from(len)
        .ok()
        .and_then(|len| data.get(..len))
        .unwrap_or(data)
}

const PCAPNG_OBSOLETE_PACKET_BLOCK: u32 = 2;

impl<'a> Capture<'a> {
    /// Reads the file header.
    pub fn new(file: &'a [u8]) -> Result<Self, PcapError> {
        let (pos, format) = match capture_kind(file) {
            Some(CaptureKind::Classic { .. }) => {
                let (records, header) =
                    parse_pcap_header(file).map_err(|_| truncated("file header", 0, 24, file))?;
                let format = Format::Classic {
                    big_endian: header.is_bigendian(),
                    nanoseconds: header.is_nanosecond_precision(),
                    // The LinkType field's low 16 bits; the rest is FCS info.
                    link_type: header.network.0 as u16,
                };
                (file.len() - records.len(), format)
            }
            Some(CaptureKind::Ng) => {
                let format = Format::Ng {
                    big_endian: false,
                    interfaces: Vec::new(),
                };
                (0, format)
            }
            None => {
                let magic = file
                    .get(..4)
                    .ok_or_else(|| truncated("file header", 0, 24, file))?;
                return Err(PcapError::NotACapture(format!("{magic:02x?}")));
            }
        };
        Ok(Self {
            file,
            pos,
            format,
            last_ns: 0,
            done: false,
        })
    }

    fn next_classic(
        &mut self,
        big_endian: bool,
        nanoseconds: bool,
        link_type: u16,
    ) -> Option<Result<Packet<'a>, PcapError>> {
        let file = self.file;
        let at = self.pos;
        let rest = file.get(at..).filter(|rest| !rest.is_empty())?;
        let parsed = if big_endian {
            parse_pcap_frame_be(rest)
        } else {
            parse_pcap_frame(rest)
        };
        let record = match parsed {
            Ok((after, record)) => {
                self.pos = file.len() - after.len();
                record
            }
            // pcap-parser only runs out of data here: in the 16-octet
            // record header, or in the `caplen` octets after it.
            Err(error) => {
                let more = match error {
                    nom::Err::Incomplete(nom::Needed::Size(n)) => n.get(),
                    _ => 0,
                };
                return Some(Err(match rest.len().checked_sub(16) {
                    None => truncated("packet record header", at, 16, file),
                    Some(present) => truncated("packet record data", at + 16, present + more, file),
                }));
            }
        };
        let fraction_ns = if nanoseconds {
            u128::from(record.ts_usec)
        } else {
            u128::from(record.ts_usec) * 1000
        };
        Some(Ok(Packet {
            ns: u128::from(record.ts_sec) * 1_000_000_000 + fraction_ns,
            link_type,
            data: record.data,
        }))
    }

    /// pcapng: walk blocks until the next packet (draft-ietf-opsawg-
    /// pcapng section 4: SHB, IDB, EPB, SPB and the obsolete PB).
    fn next_ng(&mut self) -> Option<Result<Packet<'a>, PcapError>> {
        let file = self.file;
        loop {
            let at = self.pos;
            let rest = file.get(at..).filter(|rest| !rest.is_empty())?;
            let Format::Ng {
                big_endian,
                interfaces,
            } = &mut self.format
            else {
                return None;
            };
            // A Section Header Block is recognised in either byte order
            // and sets the order of the blocks after it.
            let parsed = if *big_endian {
                parse_block_be(rest)
            } else {
                parse_block_le(rest)
            };
            let block = match parsed {
                Ok((after, block)) => {
                    self.pos = file.len() - after.len();
                    block
                }
                // Before its byte-order magic, a section header cannot
                // tell its length.
                Err(nom::Err::Incomplete(_))
                    if rest.starts_with(&SHB_MAGIC.to_le_bytes()) && rest.len() < 12 =>
                {
                    return Some(Err(truncated("section header block", at, 28, file)));
                }
                Err(nom::Err::Incomplete(_)) => {
                    return Some(Err(match announced_len(rest, *big_endian) {
                        None => truncated("pcapng block header", at, 12, file),
                        Some(total) if total <= rest.len() => PcapError::Malformed {
                            what: "block content longer than its block",
                            offset: at,
                        },
                        Some(total) => truncated("pcapng block", at, total, file),
                    }));
                }
                Err(nom::Err::Error(pcap_parser::PcapError::HeaderNotRecognized)) => {
                    return Some(Err(PcapError::Malformed {
                        what: "section header byte-order magic",
                        offset: at + 8,
                    }));
                }
                Err(_) => {
                    return Some(Err(PcapError::Malformed {
                        what: "block rejected (length, type or options)",
                        offset: at,
                    }));
                }
            };
            let (interface, ns, data) = match block {
                Block::SectionHeader(shb) => {
                    *big_endian = shb.big_endian();
                    interfaces.clear();
                    continue;
                }
                Block::InterfaceDescription(idb) => {
                    interfaces.push(Interface {
                        link_type: idb.linktype.0 as u16,
                        units_per_second: units_per_second(idb.if_tsresol),
                    });
                    continue;
                }
                Block::EnhancedPacket(epb) => {
                    let units = u64::from(epb.ts_high) << 32 | u64::from(epb.ts_low);
                    (epb.if_id, Some(units), unpadded(epb.data, epb.caplen))
                }
                // Simple Packet Block: interface 0, no timestamp.
                Block::SimplePacket(spb) => (0, None, unpadded(spb.data, spb.origlen)),
                Block::Unknown(block) => {
                    let block_type = if *big_endian {
                        block.block_type.swap_bytes()
                    } else {
                        block.block_type
                    };
                    if block_type != PCAPNG_OBSOLETE_PACKET_BLOCK {
                        continue;
                    }
                    let Some((interface, units, data)) =
                        obsolete_packet_block(block.data, *big_endian)
                    else {
                        return Some(Err(PcapError::Malformed {
                            what: "packet block too short",
                            offset: at + 8,
                        }));
                    };
                    (interface, Some(units), data)
                }
                _ => continue,
            };
            let Some(iface) = usize::try_from(interface)
                .ok()
                .and_then(|i| interfaces.get(i))
            else {
                return Some(Err(PcapError::UnknownInterface {
                    interface,
                    offset: at,
                }));
            };
            let ns = match ns {
                Some(units) => to_ns(units, iface.units_per_second),
                None => self.last_ns,
            };
            self.last_ns = ns;
            return Some(Ok(Packet {
                ns,
                link_type: iface.link_type,
                data,
            }));
        }
    }
}

impl<'a> Iterator for Capture<'a> {
    type Item = Result<Packet<'a>, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.format {
            Format::Classic {
                big_endian,
                nanoseconds,
                link_type,
            } => self.next_classic(big_endian, nanoseconds, link_type),
            Format::Ng { .. } => self.next_ng(),
        };
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

/// A TCP segment's addresses, sequence number, flags and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub syn: bool,
    pub payload: &'a [u8],
}

pub const LINKTYPE_NULL: u16 = 0;
pub const LINKTYPE_ETHERNET: u16 = 1;
pub const LINKTYPE_RAW: u16 = 101;
pub const LINKTYPE_LOOP: u16 = 108;
pub const LINKTYPE_LINUX_SLL: u16 = 113;
pub const LINKTYPE_IPV4: u16 = 228;
pub const LINKTYPE_IPV6: u16 = 229;
pub const LINKTYPE_LINUX_SLL2: u16 = 276;
/// DLT_RAW as some BSDs number it.
const LINKTYPE_RAW_BSD: u16 = 12;
const LINKTYPE_RAW_OPENBSD: u16 = 14;

/// The TCP segment in a frame, or `None` for anything else (other
/// protocols, IP fragments, frames cut short before the TCP header).
pub fn tcp_segment(link_type: u16, frame: &[u8]) -> Option<TcpSegment<'_>> {
    // pcap-parser's table knows OpenBSD loopback (LOOP: the address
    // family in network order) and the BSD numbers of raw IP by the
    // numbers of their equivalents; the family or version is not trusted
    // either way (the IP header's own version decides).
    let link_type = match link_type {
        LINKTYPE_LOOP => Linktype::NULL,
        LINKTYPE_RAW_BSD | LINKTYPE_RAW_OPENBSD => Linktype::RAW,
        other => Linktype(i32::from(other)),
    };
    let packet = match get_packetdata(frame, link_type, frame.len())? {
        PacketData::L2(ethernet) => LaxSlicedPacket::from_ethernet(ethernet).ok()?,
        // Null/loopback with an unknown family, or raw IP of another
        // version: the IP header says.
        PacketData::L3(0, ip) => LaxSlicedPacket::from_ip(ip).ok()?,
        PacketData::L3(ethertype, payload) => {
            LaxSlicedPacket::from_ether_type(EtherType(ethertype), payload)
        }
        _ => return None,
    };
    let (src, dst) = match packet.net? {
        LaxNetSlice::Ipv4(ip) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
        ),
        LaxNetSlice::Ipv6(ip) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
        ),
        LaxNetSlice::Arp(_) => return None,
    };
    let Some(TransportSlice::Tcp(tcp)) = packet.transport else {
        return None;
    };
    Some(TcpSegment {
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        payload: tcp.payload(),
    })
}

#[cfg(test)]
mod tests {
    use crate::decode::pcap;
    use crate::decode::test_util::*;

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
}
