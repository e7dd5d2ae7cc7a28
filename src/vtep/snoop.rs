//! ARP snooping on the SVIs: every ARP a local host sends (request or
//! reply, gratuitous included) names its IP/MAC binding. It reaches the
//! VLAN's SVI because the bridge floods broadcasts to itself, so bindings
//! are learnt even when the SVI has no address and its neighbour table stays
//! empty. Which bindings are local is decided by the caller (the MAC must
//! have been learnt on an access port, RFC 7432 section 9.1).

use crate::dataplane::nl::neigh::{KernelEvent, Learned, LearnedRow};
use crate::wire::mac::MacAddress;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use tokio::sync::mpsc;
use tracing::warn;

/// ETH_P_ARP (if_ether.h).
const ETH_P_ARP: u16 = 0x0806;

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

/// Reads ARP packets on every interface and reports the bindings seen on
/// the SVIs (`(ifindex, vlan)`), on a thread of its own.
pub fn spawn_arp_snooper(
    svis: Vec<(u32, u16)>,
    tx: mpsc::UnboundedSender<Result<Vec<KernelEvent>, ()>>,
) -> io::Result<()> {
    let socket = PacketSocket::open(ETH_P_ARP)?;
    std::thread::Builder::new()
        .name("evpnd-arp-snoop".into())
        .spawn(move || {
            let mut buf = [0u8; 256];
            loop {
                let (len, ifindex) = match socket.recv(&mut buf) {
                    Ok(got) => got,
                    Err(e) => {
                        warn!(error = %e, "ARP snooping stopped");
                        return;
                    }
                };
                let Some(&(_, vlan)) = svis.iter().find(|(i, _)| *i == ifindex) else {
                    continue;
                };
                let Some((ip, mac)) = buf.get(..len).and_then(arp_sender) else {
                    continue;
                };
                let learned = Learned {
                    row: LearnedRow::Neighbor {
                        vlan,
                        ip: IpAddr::V4(ip),
                        mac,
                    },
                    present: true,
                };
                if tx.send(Ok(vec![KernelEvent::Learned(learned)])).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
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
