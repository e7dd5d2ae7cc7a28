//! Capture files and packet layers: classic pcap and pcapng reading, and
//! link/IP/TCP header parsing, with every length checked against the octets
//! present. Moved out of the one-file decode_cli.rs unchanged, so the file
//! formats sit in one place apart from the report and its rendering.

use super::*;

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
    /// pcapng if_tsresol (default 6: microseconds).
    ts_resolution: u8,
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

const PCAPNG_SECTION_HEADER: u32 = 0x0a0d_0d0a;
const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

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

/// The capture format `file` starts with, if any.
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
        magic if magic == PCAPNG_SECTION_HEADER.to_le_bytes() => Some(CaptureKind::Ng),
        _ => None,
    }
}

fn read_u16(buf: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let b: [u8; 2] = buf.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    })
}

fn read_u32(buf: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn truncated(what: &'static str, offset: usize, needed: usize, file: &[u8]) -> PcapError {
    PcapError::Truncated {
        what,
        offset,
        needed,
        available: file.len().saturating_sub(offset),
    }
}

/// pcapng timestamp units to nanoseconds: if_tsresol is a power of 10
/// or, with the top bit set, of 2 (pcapng section 4.2, if_tsresol).
fn to_ns(units: u64, resolution: u8) -> u128 {
    let exponent = u32::from(resolution & 0x7f);
    let units = u128::from(units);
    if resolution & 0x80 == 0 {
        if exponent <= 9 {
            units * 10u128.pow(9 - exponent)
        } else {
            10u128
                .checked_pow(exponent - 9)
                .map_or(0, |divisor| units / divisor)
        }
    } else {
        (units * 1_000_000_000).checked_shr(exponent).unwrap_or(0)
    }
}

impl<'a> Capture<'a> {
    /// Reads the file header.
    pub fn new(file: &'a [u8]) -> Result<Self, PcapError> {
        let magic = file
            .get(..4)
            .ok_or_else(|| truncated("file header", 0, 24, file))?;
        let kind = capture_kind(file);
        if let Some(CaptureKind::Classic {
            big_endian,
            nanoseconds,
        }) = kind
        {
            // The LinkType field's low 16 bits; the rest is FCS info.
            let link_type = read_u32(file, 20, big_endian)
                .ok_or_else(|| truncated("file header", 0, 24, file))?
                as u16;
            return Ok(Self {
                file,
                pos: 24,
                format: Format::Classic {
                    big_endian,
                    nanoseconds,
                    link_type,
                },
                last_ns: 0,
                done: false,
            });
        }
        if kind == Some(CaptureKind::Ng) {
            return Ok(Self {
                file,
                pos: 0,
                format: Format::Ng {
                    big_endian: false,
                    interfaces: Vec::new(),
                },
                last_ns: 0,
                done: false,
            });
        }
        Err(PcapError::NotACapture(format!("{magic:02x?}")))
    }

    fn next_classic(
        &mut self,
        big_endian: bool,
        nanoseconds: bool,
        link_type: u16,
    ) -> Option<Result<Packet<'a>, PcapError>> {
        let file = self.file;
        let at = self.pos;
        if at >= file.len() {
            return None;
        }
        let header = |i: usize| read_u32(file, at + i, big_endian);
        let (Some(seconds), Some(fraction), Some(captured)) = (header(0), header(4), header(8))
        else {
            return Some(Err(truncated("packet record header", at, 16, file)));
        };
        if header(12).is_none() {
            return Some(Err(truncated("packet record header", at, 16, file)));
        }
        let captured = captured as usize;
        let Some(data) = file.get(at + 16..).and_then(|rest| rest.get(..captured)) else {
            return Some(Err(truncated(
                "packet record data",
                at + 16,
                captured,
                file,
            )));
        };
        self.pos = at + 16 + captured;
        let fraction_ns = if nanoseconds {
            u128::from(fraction)
        } else {
            u128::from(fraction) * 1000
        };
        Some(Ok(Packet {
            ns: u128::from(seconds) * 1_000_000_000 + fraction_ns,
            link_type,
            data,
        }))
    }

    /// pcapng: walk blocks until the next packet (draft-ietf-opsawg-
    /// pcapng section 4: SHB, IDB, EPB, SPB and the obsolete PB).
    fn next_ng(&mut self) -> Option<Result<Packet<'a>, PcapError>> {
        let file = self.file;
        loop {
            let at = self.pos;
            if at >= file.len() {
                return None;
            }
            let Some(block_type) = read_u32(file, at, false) else {
                return Some(Err(truncated("pcapng block header", at, 12, file)));
            };
            if block_type == PCAPNG_SECTION_HEADER {
                // The byte-order magic decides the section's endianness.
                let big_endian = match read_u32(file, at + 8, false) {
                    Some(PCAPNG_BYTE_ORDER_MAGIC) => false,
                    Some(m) if m.swap_bytes() == PCAPNG_BYTE_ORDER_MAGIC => true,
                    Some(_) => {
                        return Some(Err(PcapError::Malformed {
                            what: "section header byte-order magic",
                            offset: at + 8,
                        }));
                    }
                    None => {
                        return Some(Err(truncated("section header block", at, 28, file)));
                    }
                };
                self.format = Format::Ng {
                    big_endian,
                    interfaces: Vec::new(),
                };
            }
            let Format::Ng {
                big_endian,
                interfaces,
            } = &mut self.format
            else {
                return None;
            };
            let big_endian = *big_endian;
            let block_type = read_u32(file, at, big_endian).unwrap_or(block_type);
            let Some(total) = read_u32(file, at + 4, big_endian) else {
                return Some(Err(truncated("pcapng block header", at, 12, file)));
            };
            let total = total as usize;
            if total < 12 {
                return Some(Err(PcapError::Malformed {
                    what: "block length below 12",
                    offset: at + 4,
                }));
            }
            let Some(block) = file.get(at..).and_then(|rest| rest.get(..total)) else {
                return Some(Err(truncated("pcapng block", at, total, file)));
            };
            self.pos = at + total;
            let body = block.get(8..total - 4).unwrap_or_default();
            let body_at = at + 8;
            match block_type {
                // Interface Description Block.
                1 => {
                    let Some(link_type) = read_u16(body, 0, big_endian) else {
                        return Some(Err(PcapError::Malformed {
                            what: "interface description block",
                            offset: body_at,
                        }));
                    };
                    let mut ts_resolution = 6;
                    let mut option = 8;
                    while let (Some(code), Some(len)) = (
                        read_u16(body, option, big_endian),
                        read_u16(body, option + 2, big_endian),
                    ) {
                        if code == 0 {
                            break;
                        }
                        if code == 9 && len == 1 {
                            ts_resolution = body.get(option + 4).copied().unwrap_or(6);
                        }
                        option += 4 + usize::from(len).div_ceil(4) * 4;
                    }
                    interfaces.push(Interface {
                        link_type,
                        ts_resolution,
                    });
                }
                // Enhanced Packet Block, and the obsolete Packet Block
                // (2-octet interface id and drop count).
                2 | 6 => {
                    let (interface, ts_at) = if block_type == 6 {
                        (read_u32(body, 0, big_endian), 4)
                    } else {
                        (read_u16(body, 0, big_endian).map(u32::from), 4)
                    };
                    let fields = (
                        interface,
                        read_u32(body, ts_at, big_endian),
                        read_u32(body, ts_at + 4, big_endian),
                        read_u32(body, ts_at + 8, big_endian),
                    );
                    let (Some(interface), Some(high), Some(low), Some(captured)) = fields else {
                        return Some(Err(PcapError::Malformed {
                            what: "packet block too short",
                            offset: body_at,
                        }));
                    };
                    let data_at = ts_at + 16;
                    let Some(data) = body
                        .get(data_at..)
                        .and_then(|rest| rest.get(..captured as usize))
                    else {
                        return Some(Err(PcapError::Malformed {
                            what: "packet data longer than its block",
                            offset: body_at + data_at,
                        }));
                    };
                    let Some(iface) = interfaces.get(interface as usize) else {
                        return Some(Err(PcapError::UnknownInterface {
                            interface,
                            offset: at,
                        }));
                    };
                    let units = u64::from(high) << 32 | u64::from(low);
                    let ns = to_ns(units, iface.ts_resolution);
                    self.last_ns = ns;
                    return Some(Ok(Packet {
                        ns,
                        link_type: iface.link_type,
                        data,
                    }));
                }
                // Simple Packet Block: interface 0, no timestamp.
                3 => {
                    let Some(original) = read_u32(body, 0, big_endian) else {
                        return Some(Err(PcapError::Malformed {
                            what: "simple packet block too short",
                            offset: body_at,
                        }));
                    };
                    let data = body.get(4..).unwrap_or_default();
                    let data = data.get(..original as usize).unwrap_or(data);
                    let Some(iface) = interfaces.first() else {
                        return Some(Err(PcapError::UnknownInterface {
                            interface: 0,
                            offset: at,
                        }));
                    };
                    return Some(Ok(Packet {
                        ns: self.last_ns,
                        link_type: iface.link_type,
                        data,
                    }));
                }
                _ => {}
            }
        }
    }
}

impl<'a> Iterator for Capture<'a> {
    type Item = Result<Packet<'a>, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.format.clone() {
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
pub struct Segment<'a> {
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

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];

fn be16(buf: &[u8], at: usize) -> Option<u16> {
    read_u16(buf, at, true)
}

/// The TCP segment in a frame, or `None` for anything else (other
/// protocols, IP fragments, frames cut short before the TCP header).
pub fn tcp_segment(link_type: u16, frame: &[u8]) -> Option<Segment<'_>> {
    let ip = match link_type {
        LINKTYPE_ETHERNET => {
            let mut at = 12;
            let mut ethertype = be16(frame, at)?;
            // IEEE 802.1Q / 802.1ad tags: 4 octets each.
            while ETHERTYPE_VLAN.contains(&ethertype) {
                at += 4;
                ethertype = be16(frame, at)?;
            }
            return by_ethertype(ethertype, frame.get(at + 2..)?);
        }
        // Linux cooked capture v1: protocol at 14, 16-octet header.
        LINKTYPE_LINUX_SLL => return by_ethertype(be16(frame, 14)?, frame.get(16..)?),
        // v2: protocol at 0, 20-octet header.
        LINKTYPE_LINUX_SLL2 => return by_ethertype(be16(frame, 0)?, frame.get(20..)?),
        // 4-octet address family, then the IP packet.
        LINKTYPE_NULL | LINKTYPE_LOOP => frame.get(4..)?,
        LINKTYPE_RAW | LINKTYPE_RAW_BSD | LINKTYPE_RAW_OPENBSD | LINKTYPE_IPV4 | LINKTYPE_IPV6 => {
            frame
        }
        _ => return None,
    };
    match ip.first()? >> 4 {
        4 => ipv4(ip),
        6 => ipv6(ip),
        _ => None,
    }
}

fn by_ethertype(ethertype: u16, payload: &[u8]) -> Option<Segment<'_>> {
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(payload),
        ETHERTYPE_IPV6 => ipv6(payload),
        _ => None,
    }
}

/// IPv4 (RFC 791 section 3.1); the Total Length trims link padding.
fn ipv4(packet: &[u8]) -> Option<Segment<'_>> {
    let header_len = usize::from(packet.first()? & 0x0f) * 4;
    let total = usize::from(be16(packet, 2)?);
    let fragment = be16(packet, 6)?;
    // More Fragments set or a non-zero offset: not reassembled here.
    if fragment & 0x3fff != 0 || *packet.get(9)? != 6 || header_len < 20 || total < header_len {
        return None;
    }
    let src: [u8; 4] = packet.get(12..16)?.try_into().ok()?;
    let dst: [u8; 4] = packet.get(16..20)?.try_into().ok()?;
    let end = total.min(packet.len());
    tcp(
        IpAddr::V4(Ipv4Addr::from(src)),
        IpAddr::V4(Ipv4Addr::from(dst)),
        packet.get(header_len..end)?,
    )
}

/// IPv6 (RFC 8200 section 3), skipping hop-by-hop, routing and
/// destination options headers (section 4); fragments are skipped.
fn ipv6(packet: &[u8]) -> Option<Segment<'_>> {
    let payload_len = usize::from(be16(packet, 4)?);
    let mut next_header = *packet.get(6)?;
    let src: [u8; 16] = packet.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = packet.get(24..40)?.try_into().ok()?;
    let rest = packet.get(40..)?;
    // A zero Payload Length is a jumbogram (RFC 2675): take the rest.
    let mut payload = if payload_len == 0 {
        rest
    } else {
        rest.get(..payload_len.min(rest.len()))?
    };
    loop {
        match next_header {
            6 => break,
            0 | 43 | 60 => {
                let len = (usize::from(*payload.get(1)?) + 1) * 8;
                next_header = *payload.first()?;
                payload = payload.get(len..)?;
            }
            _ => return None,
        }
    }
    tcp(
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
        payload,
    )
}

/// TCP header (RFC 9293 section 3.1).
fn tcp(src: IpAddr, dst: IpAddr, segment: &[u8]) -> Option<Segment<'_>> {
    let src_port = be16(segment, 0)?;
    let dst_port = be16(segment, 2)?;
    let seq = read_u32(segment, 4, true)?;
    let data_offset = usize::from(segment.get(12)? >> 4) * 4;
    let flags = *segment.get(13)?;
    if data_offset < 20 {
        return None;
    }
    Some(Segment {
        src: SocketAddr::new(src, src_port),
        dst: SocketAddr::new(dst, dst_port),
        seq,
        syn: flags & 0x02 != 0,
        payload: segment.get(data_offset..)?,
    })
}
