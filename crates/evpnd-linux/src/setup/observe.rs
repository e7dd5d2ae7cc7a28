//! The synchronous set-up socket and the dumps that fill an
//! [`ObservedTopology`].

use super::*;

/// `NLM_F_DUMP_INTR` (netlink.h).
const NLM_F_DUMP_INTR: u16 = 0x10;

/// A synchronous NETLINK_ROUTE socket for the few dozen one-at-a-time
/// requests of setup. The reconciler's [`crate::socket::RequestSocket`] is
/// built around neighbour `Op`s; setup needs arbitrary requests and dumps.
pub struct TopologySocket {
    socket: Socket,
    sequence: u32,
    receive: Vec<u8>,
}

/// A kernel refusal: errno and the extended-ACK text if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRefusal {
    pub errno: i32,
    pub message: Option<String>,
}

impl fmt::Display for KernelRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = io::Error::from_raw_os_error(self.errno).to_string();
        write!(f, "{}", text.split(" (os error").next().unwrap_or(&text))?;
        if let Some(m) = &self.message {
            write!(f, " ({m})")?;
        }
        Ok(())
    }
}

impl TopologySocket {
    pub fn open() -> Result<Self, SetupError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(TopologySocket {
            socket,
            sequence: 1,
            receive: vec![0; 1 << 20],
        })
    }

    fn next_sequence(&mut self) -> u32 {
        self.sequence = self.sequence.wrapping_add(1).max(1);
        self.sequence
    }

    /// Sends one request and waits for its ACK.
    pub fn request(
        &mut self,
        request: &TopologyRequest,
    ) -> Result<Result<(), KernelRefusal>, SetupError> {
        let sequence = self.next_sequence();
        let mut out = Vec::with_capacity(NLMSG_HDRLEN + 64);
        request.encode_into(sequence, &mut out);
        self.socket.send(&out, 0)?;
        loop {
            let n = self.socket.recv(&mut &mut self.receive[..], 0)?;
            for message in Messages::new(self.receive.get(..n).unwrap_or_default()) {
                let Ok((header, payload)) = message else {
                    break;
                };
                if header.message_type != NLMSG_ERROR || header.sequence != sequence {
                    continue;
                }
                let Some(ack) = parse_ack(payload) else {
                    continue;
                };
                return Ok(if ack.errno == 0 {
                    Ok(())
                } else {
                    Err(KernelRefusal {
                        errno: ack.errno,
                        message: extended_ack_message(header.flags, payload),
                    })
                });
            }
        }
    }

    /// Runs a dump and returns the payload of every reply of `message_type`.
    pub fn dump(
        &mut self,
        request: &TopologyRequest,
        message_type: u16,
    ) -> Result<Vec<Vec<u8>>, SetupError> {
        let sequence = self.next_sequence();
        let mut out = Vec::new();
        request.encode_into(sequence, &mut out);
        self.socket.send(&out, 0)?;
        let mut replies = Vec::new();
        let mut interrupted = false;
        loop {
            let n = self.socket.recv(&mut &mut self.receive[..], 0)?;
            for message in Messages::new(self.receive.get(..n).unwrap_or_default()) {
                let (header, payload) =
                    message.map_err(|e| TopologyDecodeError::Link(e.to_string()))?;
                if header.sequence != sequence {
                    continue;
                }
                interrupted |= header.flags & NLM_F_DUMP_INTR != 0;
                match header.message_type {
                    NLMSG_DONE => {
                        let code = payload
                            .get(0..4)
                            .and_then(|b| b.try_into().ok())
                            .map_or(0, i32::from_ne_bytes);
                        if code < 0 {
                            return Err(SetupError::Dump(io::Error::from_raw_os_error(
                                code.saturating_neg(),
                            )));
                        }
                        return if interrupted {
                            Err(SetupError::DumpInterrupted)
                        } else {
                            Ok(replies)
                        };
                    }
                    NLMSG_ERROR => {
                        if let Some(ack) = parse_ack(payload)
                            && ack.errno != 0
                        {
                            return Err(SetupError::Dump(io::Error::from_raw_os_error(ack.errno)));
                        }
                    }
                    t if t == message_type => replies.push(payload.to_vec()),
                    _ => {}
                }
            }
        }
    }
}

/// Dumps links, bridge VLAN tables and the VNI filters of `vnifilter`
/// devices in the calling thread's network namespace.
pub fn observe(socket: &mut TopologySocket) -> Result<ObservedTopology, SetupError> {
    let mut last = SetupError::DumpInterrupted;
    for _ in 0..3 {
        match observe_once(socket) {
            Err(SetupError::DumpInterrupted) => last = SetupError::DumpInterrupted,
            other => return other,
        }
    }
    Err(last)
}

fn observe_once(socket: &mut TopologySocket) -> Result<ObservedTopology, SetupError> {
    let mut observed = ObservedTopology::default();
    for payload in socket.dump(&link::link_dump(), RTM_NEWLINK)? {
        observed.links.push(link::parse_link(&payload)?);
    }
    for payload in socket.dump(&link::bridge_vlan_dump(), RTM_NEWLINK)? {
        let rec = link::parse_bridge_vlans(&payload)?;
        observed.bridge_vlans.insert(rec.ifindex, rec);
    }
    let filtering: Vec<u32> = observed
        .links
        .iter()
        .filter(|l| {
            matches!(
                l.kind,
                LinkKind::Vxlan {
                    vnifilter: true,
                    ..
                }
            )
        })
        .map(|l| l.ifindex)
        .collect();
    for ifindex in filtering {
        let mut vnis = BTreeSet::new();
        for payload in socket.dump(&link::vni_dump(ifindex), RTM_NEWTUNNEL)? {
            let (dev, got) = tunnel::parse_vnis(&payload)?;
            if dev == ifindex {
                vnis.extend(got);
            }
        }
        observed.vni_filters.insert(ifindex, vnis);
    }
    Ok(observed)
}

/// `RTNLGRP_LINK`, `RTNLGRP_TUNNEL` (rtnetlink.h): link notifications (new,
/// deleted, up/down; AF_BRIDGE RTM_NEWLINK for bridge port flags and VLAN
/// memberships with their tunnel_info) and VNI filter changes.
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_TUNNEL: u32 = 35;

/// Wakes drift healing when the topology may have changed: a socket
/// subscribed to link and tunnel notifications. What changed is not read:
/// healing re-observes everything (three dumps), so a notification only
/// says when.
pub struct TopologyWatch {
    socket: Socket,
    receive: Vec<u8>,
}

impl TopologyWatch {
    pub fn subscribe() -> Result<Self, SetupError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.add_membership(RTNLGRP_LINK)?;
        // Kernels without VNI filtering have no such group to join; the
        // periodic check still sees the filter.
        let _ = socket.add_membership(RTNLGRP_TUNNEL);
        socket.set_non_blocking(true)?;
        Ok(TopologyWatch {
            socket,
            receive: vec![0; 1 << 16],
        })
    }

    /// Waits up to `timeout` for notifications; `true` if any came (all
    /// queued ones are consumed; a receive-buffer overrun counts as a
    /// change too).
    pub fn wait(&mut self, timeout: std::time::Duration) -> Result<bool, SetupError> {
        use std::os::fd::AsRawFd;
        let mut fd = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd, its count, a timeout.
        let n = unsafe { libc::poll(&mut fd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e.into())
            };
        }
        if n == 0 {
            return Ok(false);
        }
        loop {
            match self.socket.recv(&mut &mut self.receive[..], 0) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
