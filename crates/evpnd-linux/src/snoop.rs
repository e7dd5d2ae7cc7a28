//! ARP and IPv6 neighbour-discovery snooping on the SVIs: every ARP a host
//! sends (request or reply, gratuitous included) and every neighbour
//! solicitation or advertisement names an IP/MAC binding. They reach the
//! VLAN's SVI because the bridge floods broadcasts and multicasts to itself,
//! so bindings are learnt even when the SVI has no address and its neighbour
//! table stays empty. Which bindings are local is decided by the caller (the
//! MAC must have been learnt on an access port, RFC 7432 section 9.1).

use crate::nl::neigh::{KernelEvent, LearnScope, Learned, LearnedRow, SharedLearnScope};
use evpnd_wire::mac::MacAddress;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;
use tracing::warn;

/// ETH_P_ARP, ETH_P_IPV6 (if_ether.h).
const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IPV6: u16 = 0x86dd;

/// The sender binding of an ARP packet (RFC 826), without its link header:
/// Ethernet/IPv4 only, and not a probe (sender IP 0.0.0.0, RFC 5227).
pub fn arp_sender(packet: &[u8]) -> Option<(Ipv4Addr, MacAddress)> {
    // htype 1 (Ethernet), ptype 0x0800 (IPv4), hlen 6, plen 4, then the
    // operation, sender hardware and protocol addresses.
    let header: &[u8; 8] = packet.get(..8)?.try_into().ok()?;
    if header[..6] != [0, 1, 8, 0, 6, 4] || !matches!(header[6..8], [0, 1] | [0, 2]) {
        return None;
    }
    let mac: [u8; 6] = packet.get(8..14)?.try_into().ok()?;
    let ip: [u8; 4] = packet.get(14..18)?.try_into().ok()?;
    let ip = Ipv4Addr::from(ip);
    let mac = MacAddress(mac);
    let unicast = mac.0[0] & 1 == 0 && mac != MacAddress::ZERO;
    (!ip.is_unspecified() && !ip.is_broadcast() && unicast).then_some((ip, mac))
}

/// The binding an IPv6 neighbour-discovery packet names (RFC 4861 sections
/// 4.3, 4.4, 4.6.1), without its link header: a Neighbor Solicitation's
/// source address with its Source Link-Layer Address option (none for
/// duplicate address detection, whose source is ::), or a Neighbor
/// Advertisement's target with its Target Link-Layer Address option.
pub fn nd_binding(packet: &[u8]) -> Option<(Ipv6Addr, MacAddress)> {
    // IPv6 header: version 6, next header ICMPv6 (58) directly, hop limit
    // 255 (RFC 4861 7.1.1: anything else was forwarded, not on-link).
    let header: &[u8; 40] = packet.get(..40)?.try_into().ok()?;
    if header[0] >> 4 != 6 || header[6] != 58 || header[7] != 255 {
        return None;
    }
    let source: [u8; 16] = header[8..24].try_into().ok()?;
    let icmp = packet.get(40..)?;
    // type, code, checksum, reserved/flags (4), target (16), options.
    let (kind, wanted_option) = match icmp.first()? {
        135 => (135, 1u8), // Neighbor Solicitation: Source Link-Layer Address
        136 => (136, 2u8), // Neighbor Advertisement: Target Link-Layer Address
        _ => return None,
    };
    let target: [u8; 16] = icmp.get(8..24)?.try_into().ok()?;
    let mut options = icmp.get(24..)?;
    let mut mac = None;
    // RFC 4861 4.6: type, length in units of 8 octets (0 is invalid).
    while let [option, units, ..] = *options {
        let len = usize::from(units) * 8;
        if len == 0 {
            return None;
        }
        let body = options.get(..len)?;
        if option == wanted_option && len == 8 {
            mac = Some(MacAddress(body.get(2..8)?.try_into().ok()?));
        }
        options = options.get(len..)?;
    }
    let ip = Ipv6Addr::from(if kind == 135 { source } else { target });
    let mac = mac?;
    let usable =
        !ip.is_unspecified() && !ip.is_multicast() && mac.0[0] & 1 == 0 && mac != MacAddress::ZERO;
    usable.then_some((ip, mac))
}

/// Bindings dropped because the VTEP's queue was full, counted by the
/// snoopers and read by the VTEP shell for its statistics.
pub type SnoopDrops = Arc<AtomicU64>;

/// Reads ARP and IPv6 packets on every interface and reports the bindings
/// seen on the SVIs of `scope` (read per packet: a reload may add or remove
/// SVIs), one thread per protocol.
///
/// `tx` is bounded and the snoopers never wait for it: one event per packet
/// means an ARP storm could otherwise queue without limit while the VTEP is
/// behind. A binding dropped on a full queue is counted in the returned
/// [`SnoopDrops`] and costs nothing lasting: the host's next ARP/ND packet
/// names it again, and a resync dumps the SVIs' neighbour tables.
pub fn spawn_snoopers(
    scope: SharedLearnScope,
    tx: mpsc::Sender<Result<Vec<KernelEvent>, ()>>,
) -> io::Result<SnoopDrops> {
    let drops = SnoopDrops::default();
    let arp = |p: &[u8]| arp_sender(p).map(|(ip, mac)| (IpAddr::V4(ip), mac));
    let nd = |p: &[u8]| nd_binding(p).map(|(ip, mac)| (IpAddr::V6(ip), mac));
    let arp_out = (tx.clone(), drops.clone());
    spawn_snooper("evpnd-arp-snoop", ETH_P_ARP, arp, scope.clone(), arp_out)?;
    spawn_snooper("evpnd-nd-snoop", ETH_P_IPV6, nd, scope, (tx, drops.clone()))?;
    Ok(drops)
}

fn spawn_snooper(
    name: &str,
    ethertype: u16,
    binding: fn(&[u8]) -> Option<(IpAddr, MacAddress)>,
    scope: SharedLearnScope,
    (tx, drops): (mpsc::Sender<Result<Vec<KernelEvent>, ()>>, SnoopDrops),
) -> io::Result<()> {
    let socket = PacketSocket::open(ethertype)?;
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut buf = [0u8; 2048];
            loop {
                let (len, ifindex) = match socket.recv(&mut buf) {
                    Ok(got) => got,
                    Err(e) => {
                        warn!(error = %e, "snooping stopped");
                        return;
                    }
                };
                let vlan = LearnScope::read(&scope)
                    .svis
                    .iter()
                    .find(|(i, _)| *i == ifindex)
                    .map(|(_, vlan)| *vlan);
                let Some(vlan) = vlan else {
                    continue;
                };
                let Some((ip, mac)) = buf.get(..len).and_then(binding) else {
                    continue;
                };
                let learned = Learned {
                    row: LearnedRow::Neighbor { vlan, ip, mac },
                    present: true,
                };
                if !offer(&tx, &drops, learned) {
                    return;
                }
            }
        })?;
    Ok(())
}

/// Hands one binding to the VTEP without waiting: on a full queue it is
/// dropped and counted. False when the VTEP is gone (the snooper ends).
fn offer(
    tx: &mpsc::Sender<Result<Vec<KernelEvent>, ()>>,
    drops: &SnoopDrops,
    learned: Learned,
) -> bool {
    let row = learned.row;
    match tx.try_send(Ok(vec![KernelEvent::Learned(learned)])) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            // The first drop of a burst is worth a line; the rest are in the
            // count (evpnd_snooped_bindings_dropped_total).
            let dropped_before = drops.fetch_add(1, Ordering::Relaxed);
            if dropped_before.is_multiple_of(10_000) {
                warn!(binding = ?row, dropped_before, "VTEP queue full: snooped bindings are dropped until it drains");
            }
            true
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

/// An AF_PACKET datagram socket (link header removed) for one EtherType.
struct PacketSocket {
    fd: std::os::fd::OwnedFd,
}

impl PacketSocket {
    fn open(ethertype: u16) -> io::Result<Self> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                i32::from(ethertype.to_be()),
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a valid descriptor we own from here on.
        Ok(Self {
            fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) },
        })
    }

    /// One packet: its length and the ifindex it arrived on.
    fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, u32)> {
        use std::os::fd::AsRawFd;
        // SAFETY: sockaddr_ll is plain data; zero is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: buf and from are valid for the lengths given.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut from_len,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((n as usize, u32::try_from(from.sll_ifindex).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts_without_waiting_and_a_closed_one_stops() {
        let (tx, mut rx) = mpsc::channel(1);
        let drops = SnoopDrops::default();
        let binding = |last: u8| Learned {
            row: LearnedRow::Neighbor {
                vlan: 10,
                ip: IpAddr::V4(Ipv4Addr::new(198, 18, 10, last)),
                mac: MacAddress([2, 0, 0, 0, 0, last]),
            },
            present: true,
        };
        assert!(offer(&tx, &drops, binding(1)));
        assert!(
            offer(&tx, &drops, binding(2)),
            "full: dropped, not waited for"
        );
        assert!(offer(&tx, &drops, binding(3)));
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        let Ok(Ok(first)) = rx.try_recv() else {
            panic!("the first binding is queued")
        };
        assert!(matches!(first[..], [KernelEvent::Learned(l)] if l == binding(1)));
        drop(rx);
        assert!(!offer(&tx, &drops, binding(4)), "the VTEP is gone");
    }

    fn arp(op: u8, sender_mac: [u8; 6], sender_ip: [u8; 4]) -> Vec<u8> {
        let mut p = vec![0, 1, 8, 0, 6, 4, 0, op];
        p.extend_from_slice(&sender_mac);
        p.extend_from_slice(&sender_ip);
        p.extend_from_slice(&[0; 6]);
        p.extend_from_slice(&[198, 18, 10, 2]);
        p
    }

    #[test]
    fn requests_and_replies_name_their_sender() {
        let mac = [2, 0x0a, 0, 0, 0, 1];
        for op in [1, 2] {
            assert_eq!(
                arp_sender(&arp(op, mac, [198, 18, 10, 1])),
                Some((Ipv4Addr::new(198, 18, 10, 1), MacAddress(mac)))
            );
        }
    }

    /// An ICMPv6 neighbour-discovery packet with its IPv6 header.
    fn nd(kind: u8, source: Ipv6Addr, target: Ipv6Addr, option: Option<(u8, [u8; 6])>) -> Vec<u8> {
        let mut icmp = vec![kind, 0, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&target.octets());
        if let Some((t, mac)) = option {
            icmp.extend_from_slice(&[t, 1]);
            icmp.extend_from_slice(&mac);
        }
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
        p.extend_from_slice(&[58, 255]);
        p.extend_from_slice(&source.octets());
        p.extend_from_slice(&"ff02::1:ff00:1".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&icmp);
        p
    }

    #[test]
    fn neighbour_discovery_names_its_binding() {
        let mac = [2, 0x0a, 0, 0, 0, 1];
        let host: Ipv6Addr = "2001:db8:10::1".parse().unwrap();
        let other: Ipv6Addr = "2001:db8:10::2".parse().unwrap();
        // A solicitation names its source, an advertisement its target.
        assert_eq!(
            nd_binding(&nd(135, host, other, Some((1, mac)))),
            Some((host, MacAddress(mac)))
        );
        assert_eq!(
            nd_binding(&nd(136, other, host, Some((2, mac)))),
            Some((host, MacAddress(mac)))
        );
        // DAD (source ::, no option), the wrong option, a forwarded packet,
        // and every truncation name nobody.
        assert_eq!(
            nd_binding(&nd(135, Ipv6Addr::UNSPECIFIED, host, None)),
            None
        );
        assert_eq!(nd_binding(&nd(135, host, other, Some((2, mac)))), None);
        let mut forwarded = nd(135, host, other, Some((1, mac)));
        forwarded[7] = 64;
        assert_eq!(nd_binding(&forwarded), None);
        let good = nd(136, other, host, Some((2, mac)));
        for cut in 0..good.len() {
            assert_eq!(nd_binding(&good[..cut]), None);
        }
        let mut zero_length = good.clone();
        let last = zero_length.len() - 7;
        zero_length[last] = 0;
        assert_eq!(
            nd_binding(&zero_length),
            None,
            "an option of length 0 is invalid"
        );
    }

    #[test]
    fn probes_odd_packets_and_truncations_name_nobody() {
        let mac = [2, 0x0a, 0, 0, 0, 1];
        assert_eq!(
            arp_sender(&arp(1, mac, [0, 0, 0, 0])),
            None,
            "RFC 5227 probe"
        );
        assert_eq!(arp_sender(&arp(3, mac, [198, 18, 10, 1])), None, "RARP");
        assert_eq!(
            arp_sender(&arp(1, [1, 0, 0x5e, 0, 0, 1], [198, 18, 10, 1])),
            None,
            "multicast MAC"
        );
        let good = arp(1, mac, [198, 18, 10, 1]);
        for cut in 0..18 {
            assert_eq!(arp_sender(&good[..cut]), None);
        }
        let mut ipv6 = good.clone();
        ipv6[2] = 0x86;
        ipv6[3] = 0xdd;
        assert_eq!(arp_sender(&ipv6), None);
    }
}
