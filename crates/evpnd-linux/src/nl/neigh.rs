//! RTM_NEWNEIGH / RTM_DELNEIGH for remote MACs, flood entries and
//! suppression neighbours (neighbour.h; bridge FDB semantics from
//! `net/core/rtnetlink.c` `rtnl_fdb_add`/`rtnl_fdb_del`, vxlan from
//! `drivers/net/vxlan/vxlan_core.c`).
//!
//! Attribute order and header values follow iproute2 (`bridge fdb`,
//! `ip neigh`) byte for byte, so the golden fixtures can compare whole
//! messages. The only deliberate difference: a remote-MAC RTM_NEWNEIGH also
//! carries NDA_MASTER = bridge ifindex, as FRR sends it
//! (`zebra/rt_netlink.c` `netlink_update_neigh_ctx_internal`); the kernel
//! finds the bridge from the port anyway, NDA_MASTER only makes the request
//! self-describing in `bridge monitor`/nlmon traces.
//!
//! Every request is a netlink-packet-route 0.34.0 `NeighbourMessage`
//! (`NeighbourHeader`, `NeighbourFlags`, `NeighbourAttribute::{
//! LinkLayerAddress, Destination, Vlan, SourceVni, Controller, Protocol}`)
//! framed by netlink-packet-core 0.9.0's `NetlinkMessage`. Gaps in the
//! crates, filled here (docs/netlink.md, "gaps"):
//! - NUD state combinations (NOARP|PERMANENT, REACHABLE|NOARP): the crate's
//!   `NeighbourState` is a single-valued enum, so the bits (`nl::nud`) go
//!   through `NeighbourState::from(u16)`. Upstream: a bitflags state.
//! - NLM_F_APPEND for flood rows: no builder sets it (rtnetlink 0.24.0
//!   hard-codes EXCL/REPLACE); it is set in the `NetlinkHeader` flags here,
//!   no hand encoding needed.
//! - NDA_DST of AF_BRIDGE rows is parsed as `NeighbourAddress::Other(bytes)`:
//!   decoded by length in `address()`. Upstream: parse by payload length.

use super::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST, NlDecodeError, NlHeader,
    RTM_DELNEIGH, RTM_NEWNEIGH, ntf, nud,
};
use evpnd_core::dataplane::diff::Op;
use evpnd_core::dataplane::model::{
    EVPND_PROTOCOL, FloodEntry, Object, OwnedRow, Ownership, RemoteMac, StrayMacRow,
    SuppressionNeighbor,
};
use evpnd_wire::mac::MacAddress;
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload, Parseable};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourHeader, NeighbourMessage,
    NeighbourState,
};
use netlink_packet_route::route::{RouteProtocol, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a request creates/updates or deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    New,
    Delete,
}

/// A request ready to be serialised: netlink message type and flags (without
/// sequence number) plus the neighbour message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighRequest {
    pub kind: RequestKind,
    pub flags: u16,
    pub message: NeighbourMessage,
}

/// Half rows exist only in observed state; there is nothing to install for
/// them (the diff absorbs them into a full remote MAC or deletes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} cannot be installed, only deleted")]
pub struct NotInstallable(pub Object);

fn header(
    family: AddressFamily,
    ifindex: u32,
    state: u16,
    flags: NeighbourFlags,
) -> NeighbourHeader {
    NeighbourHeader {
        family,
        ifindex,
        state: NeighbourState::from(state),
        flags,
        kind: RouteType::Unspec,
    }
}

fn message(header: NeighbourHeader, attributes: Vec<NeighbourAttribute>) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header = header;
    m.attributes = attributes;
    m
}

fn lladdr(mac: MacAddress) -> NeighbourAttribute {
    NeighbourAttribute::LinkLayerAddress(mac.octets().to_vec())
}

fn dst(ip: IpAddr) -> NeighbourAttribute {
    NeighbourAttribute::Destination(NeighbourAddress::from(ip))
}

/// VLAN 0 means a bridge without VLAN filtering: iproute2 then sends no
/// NDA_VLAN and neither do we (the bridge rejects a VLAN it does not know).
fn push_vlan(attrs: &mut Vec<NeighbourAttribute>, vlan: u16) {
    if vlan != 0 {
        attrs.push(NeighbourAttribute::Vlan(vlan));
    }
}

/// The state iproute2's `bridge fdb del` sends; the kernel ignores the state
/// of a delete, we match it for byte-identical golden tests.
const FDB_DELETE_STATE: u16 = nud::NOARP | nud::PERMANENT;

fn remote_mac_new(m: &RemoteMac, own: &Ownership) -> NeighRequest {
    // docs/kernel-state.md "Remote MAC": extern_learn + NUD_REACHABLE (a
    // master row without extern_learn defaults to permanent and the bridge
    // treats the MAC as local). Sticky: REACHABLE|NOARP + NTF_STICKY, no
    // extern_learn, as FRR does.
    let (state, flags) = if m.sticky {
        (
            nud::REACHABLE | nud::NOARP,
            ntf::SELF | ntf::MASTER | ntf::STICKY,
        )
    } else {
        (nud::REACHABLE, ntf::SELF | ntf::MASTER | ntf::EXT_LEARNED)
    };
    let mut attrs = vec![lladdr(m.mac), dst(m.vtep)];
    push_vlan(&mut attrs, m.vlan);
    attrs.push(NeighbourAttribute::SourceVni(m.vni));
    attrs.push(NeighbourAttribute::Controller(own.bridge_ifindex));
    NeighRequest {
        kind: RequestKind::New,
        // One message creates (or moves in place) both rows: rtnl_fdb_add
        // hands NTF_MASTER to the bridge and NTF_SELF to the vxlan driver.
        flags: NLM_F_CREATE | NLM_F_REPLACE,
        message: message(
            header(AddressFamily::Bridge, own.vxlan_ifindex, state, flags),
            attrs,
        ),
    }
}

fn remote_mac_delete(m: &RemoteMac, own: &Ownership) -> NeighRequest {
    let mut attrs = vec![lladdr(m.mac), dst(m.vtep)];
    push_vlan(&mut attrs, m.vlan);
    attrs.push(NeighbourAttribute::SourceVni(m.vni));
    NeighRequest {
        kind: RequestKind::Delete,
        flags: 0,
        message: message(
            header(
                AddressFamily::Bridge,
                own.vxlan_ifindex,
                FDB_DELETE_STATE,
                ntf::SELF | ntf::MASTER,
            ),
            attrs,
        ),
    }
}

fn flood_attrs(e: &FloodEntry) -> Vec<NeighbourAttribute> {
    vec![
        lladdr(MacAddress::ZERO),
        dst(e.vtep),
        NeighbourAttribute::SourceVni(e.vni),
    ]
}

fn flood_new(e: &FloodEntry, own: &Ownership) -> NeighRequest {
    NeighRequest {
        kind: RequestKind::New,
        // NLM_F_APPEND adds one more remote to the all-zero MAC of this VNI
        // instead of replacing the list (vxlan_fdb_append).
        flags: NLM_F_CREATE | NLM_F_APPEND,
        message: message(
            header(
                AddressFamily::Bridge,
                own.vxlan_ifindex,
                nud::NOARP | nud::PERMANENT,
                // extern_learn marks the row as evpnd's (ownership); the
                // vxlan driver keeps it per (MAC, VNI) entry.
                ntf::SELF | ntf::EXT_LEARNED,
            ),
            flood_attrs(e),
        ),
    }
}

fn flood_delete(e: &FloodEntry, own: &Ownership) -> NeighRequest {
    NeighRequest {
        kind: RequestKind::Delete,
        flags: 0,
        message: message(
            header(
                AddressFamily::Bridge,
                own.vxlan_ifindex,
                FDB_DELETE_STATE,
                ntf::SELF,
            ),
            flood_attrs(e),
        ),
    }
}

fn stray_delete(s: &StrayMacRow, own: &Ownership) -> NeighRequest {
    let (flags, attrs) = match *s {
        StrayMacRow::SelfOnly { vni, mac, vtep, .. } => (
            ntf::SELF,
            vec![lladdr(mac), dst(vtep), NeighbourAttribute::SourceVni(vni)],
        ),
        StrayMacRow::MasterOnly { vlan, mac, .. } => {
            let mut attrs = vec![lladdr(mac)];
            push_vlan(&mut attrs, vlan);
            (ntf::MASTER, attrs)
        }
    };
    NeighRequest {
        kind: RequestKind::Delete,
        flags: 0,
        message: message(
            header(
                AddressFamily::Bridge,
                own.vxlan_ifindex,
                FDB_DELETE_STATE,
                flags,
            ),
            attrs,
        ),
    }
}

fn ip_family(ip: &IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn neighbor_new(n: &SuppressionNeighbor) -> NeighRequest {
    NeighRequest {
        kind: RequestKind::New,
        flags: NLM_F_CREATE | NLM_F_REPLACE,
        message: message(
            header(ip_family(&n.ip), n.ifindex, nud::NOARP, ntf::EXT_LEARNED),
            vec![
                NeighbourAttribute::Protocol(RouteProtocol::from(EVPND_PROTOCOL)),
                dst(n.ip),
                lladdr(n.mac),
            ],
        ),
    }
}

fn neighbor_delete(n: &SuppressionNeighbor) -> NeighRequest {
    NeighRequest {
        kind: RequestKind::Delete,
        flags: 0,
        message: message(
            // iproute2 `ip neigh del` sends NUD_PERMANENT; ignored by the kernel.
            header(
                ip_family(&n.ip),
                n.ifindex,
                nud::PERMANENT,
                NeighbourFlags::empty(),
            ),
            vec![dst(n.ip)],
        ),
    }
}

/// The request that carries out `op`.
pub fn request_for_op(op: &Op, own: &Ownership) -> Result<NeighRequest, NotInstallable> {
    Ok(match op {
        Op::Add(o) | Op::Replace(o) => match o {
            Object::Mac(m) => remote_mac_new(m, own),
            Object::Flood(e) => flood_new(e, own),
            Object::Neighbor(n) => neighbor_new(n),
            Object::Stray(_) => return Err(NotInstallable(*o)),
        },
        Op::Delete(o) => match o {
            Object::Mac(m) => remote_mac_delete(m, own),
            Object::Flood(e) => flood_delete(e, own),
            Object::Neighbor(n) => neighbor_delete(n),
            Object::Stray(s) => stray_delete(s, own),
        },
    })
}

impl NeighRequest {
    /// Appends the request to `out` as one netlink message with
    /// NLM_F_REQUEST|NLM_F_ACK and the given sequence number. Consumes the
    /// request: the message moves into the `NetlinkMessage` instead of being
    /// cloned (161 -> 126 ns per row for the fdb bench's rows,
    /// `fdb/encode_101k_rows` in benches/fdb_install.rs, docs/netlink.md
    /// "Encoding cost").
    pub fn encode_into(self, sequence: u32, out: &mut Vec<u8>) {
        let inner = match self.kind {
            RequestKind::New => RouteNetlinkMessage::NewNeighbour(self.message),
            RequestKind::Delete => RouteNetlinkMessage::DelNeighbour(self.message),
        };
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | self.flags;
        header.sequence_number = sequence;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(inner));
        msg.finalize();
        let start = out.len();
        out.resize(start + msg.buffer_len(), 0);
        msg.serialize(&mut out[start..]);
    }
}

/// Encodes `op` as one netlink request (see [`NeighRequest::encode_into`]).
pub fn encode_op(
    op: &Op,
    own: &Ownership,
    sequence: u32,
    out: &mut Vec<u8>,
) -> Result<(), NotInstallable> {
    request_for_op(op, own)?.encode_into(sequence, out);
    Ok(())
}

// The event values moved to the pure core (issue 12), which takes them as
// VTEP inputs; this layer builds them from netlink messages.
pub use evpnd_core::vtep::input::{KernelEvent, Learned, LearnedRow, NeighEvent};

/// NDA_DST of an AF_BRIDGE message arrives as `NeighbourAddress::Other`
/// (docs/netlink.md, gap 4): decode by length.
fn address(a: &NeighbourAddress) -> Option<IpAddr> {
    match a {
        NeighbourAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        NeighbourAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        NeighbourAddress::Other(bytes) => match bytes.len() {
            4 => <[u8; 4]>::try_from(bytes.as_slice())
                .ok()
                .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
            16 => <[u8; 16]>::try_from(bytes.as_slice())
                .ok()
                .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
            _ => None,
        },
        _ => None,
    }
}

/// The attributes of a neighbour/FDB message that evpnd reads.
#[derive(Debug, Default)]
struct RowAttributes {
    mac: Option<MacAddress>,
    /// NDA_DST: the remote VTEP of a vxlan row, the IP of an ARP/ND row.
    destination: Option<IpAddr>,
    vlan: Option<u16>,
    src_vni: Option<u32>,
    protocol: Option<u8>,
    /// NDA_MASTER: the bridge, on a bridge row.
    master: Option<u32>,
}

impl RowAttributes {
    fn of(msg: &NeighbourMessage) -> Self {
        let mut out = RowAttributes::default();
        for attr in &msg.attributes {
            match attr {
                NeighbourAttribute::LinkLayerAddress(b) => {
                    out.mac = <[u8; 6]>::try_from(b.as_slice()).ok().map(MacAddress)
                }
                NeighbourAttribute::Destination(a) => out.destination = address(a),
                NeighbourAttribute::Vlan(v) => out.vlan = Some(*v),
                NeighbourAttribute::SourceVni(v) => out.src_vni = Some(*v),
                NeighbourAttribute::Protocol(p) => out.protocol = Some(u8::from(*p)),
                NeighbourAttribute::Controller(i) => out.master = Some(*i),
                _ => {}
            }
        }
        out
    }
}

/// Decides whether a kernel neighbour/FDB row is evpnd's, and if so what it
/// is. Pure: this is the ownership predicate.
///
/// - FDB rows (AF_BRIDGE) count only on our vxlan device and only when
///   marked the way evpnd installs them: NTF_EXT_LEARNED, or for sticky MACs
///   NTF_STICKY with NUD_NOARP (FRR's sticky encoding; an operator's
///   `bridge fdb add … sticky static` on the vxlan device looks the same and
///   would be adopted, which is why evpnd expects to own the vxlan device).
///   `self` rows (NTF_SELF, from the vxlan driver) with a zero MAC are
///   flood entries; other `self` rows with a remote are remote MACs; rows
///   with NDA_MASTER = our bridge are the bridge half.
/// - ARP/ND rows (AF_INET/AF_INET6) count only with NTF_EXT_LEARNED and
///   NDA_PROTOCOL == [`EVPND_PROTOCOL`] (FRR's rows carry zebra's 11).
pub fn owned_row(msg: &NeighbourMessage, own: &Ownership) -> Option<OwnedRow> {
    let flags = msg.header.flags;
    let state = u16::from(msg.header.state);
    let RowAttributes {
        mac,
        destination: remote,
        vlan,
        src_vni,
        protocol,
        master,
    } = RowAttributes::of(msg);
    let vlan = vlan.unwrap_or(0);
    let mac = mac?;
    match msg.header.family {
        AddressFamily::Bridge => {
            if msg.header.ifindex != own.vxlan_ifindex {
                return None;
            }
            let ext_learned = flags.contains(ntf::EXT_LEARNED);
            let sticky = flags.contains(ntf::STICKY) && state & nud::NOARP != 0;
            if !ext_learned && !sticky {
                return None;
            }
            if flags.contains(ntf::SELF) {
                let vtep = remote?;
                // An external device reports src_vni on every row; a missing
                // one is VNI 0 ("take it from the VLAN's tunnel_info").
                let vni = src_vni.unwrap_or(0);
                if mac == MacAddress::ZERO {
                    return ext_learned.then_some(OwnedRow::Flood(FloodEntry { vni, vtep }));
                }
                Some(OwnedRow::MacSelf {
                    vni,
                    mac,
                    vtep,
                    sticky: !ext_learned,
                })
            } else if master == Some(own.bridge_ifindex) {
                // The bridge reports its rows without NTF_MASTER; they are
                // recognised by NDA_MASTER (`br_fdb_fill_info`; iproute2
                // prints "master br0" from the attribute too).
                Some(OwnedRow::MacMaster {
                    vlan,
                    mac,
                    sticky: !ext_learned,
                })
            } else {
                None
            }
        }
        AddressFamily::Inet | AddressFamily::Inet6 => {
            if !flags.contains(ntf::EXT_LEARNED) || protocol != Some(EVPND_PROTOCOL) {
                return None;
            }
            Some(OwnedRow::Neighbor(SuppressionNeighbor {
                ifindex: msg.header.ifindex,
                ip: remote?,
                mac,
            }))
        }
        _ => None,
    }
}

/// An RTM_NEWNEIGH (`true`) or RTM_DELNEIGH (`false`) message, parsed;
/// other message types give `None`.
fn neigh_message(
    header: &NlHeader,
    payload: &[u8],
) -> Result<Option<(bool, NeighbourMessage)>, NlDecodeError> {
    let new = match header.message_type {
        RTM_NEWNEIGH => true,
        RTM_DELNEIGH => false,
        _ => return Ok(None),
    };
    let msg =
        NeighbourMessage::parse(payload).map_err(|e| NlDecodeError::Neighbour(e.to_string()))?;
    Ok(Some((new, msg)))
}

/// `NUD_VALID` (net/neighbour.h): the states in which a neighbour has a
/// link-layer address the kernel reports and uses.
const NUD_VALID: u16 =
    nud::PERMANENT | nud::NOARP | nud::REACHABLE | nud::PROBE | nud::STALE | nud::DELAY;

/// A suppression neighbour of ours that is gone, no longer usable or no
/// longer as evpnd installed it, from a notification that [`owned_row`]
/// cannot recognise (call it only for those): `ip neigh del` (and any admin
/// update without `extern_learn`, e.g. `ip neigh replace ... nud noarp`)
/// clears NTF_EXT_LEARNED (`neigh_update_flags`); a deletion also moves the
/// entry to NUD_FAILED before removing it, and a neighbour outside
/// `NUD_VALID` is reported without NDA_LLADDR (`neigh_fill_info`). So both
/// notifications of a deletion, an RTM_NEWNEIGH in state FAILED and the
/// RTM_DELNEIGH, carry neither of the marks [`owned_row`] needs; what
/// survives is NDA_PROTOCOL = 245, which only evpnd sets. Any such row is
/// reported as deleted, so the core puts the object back as the route says
/// (a row stripped of `extern_learn` included). The MAC may be unknown
/// (zero): the core finds the object by (SVI, IP).
fn gone_neighbor(new: bool, msg: &NeighbourMessage) -> Option<OwnedRow> {
    if !matches!(
        msg.header.family,
        AddressFamily::Inet | AddressFamily::Inet6
    ) {
        return None;
    }
    let RowAttributes {
        mac,
        destination,
        protocol,
        ..
    } = RowAttributes::of(msg);
    if protocol != Some(EVPND_PROTOCOL) {
        return None;
    }
    let intact = u16::from(msg.header.state) & NUD_VALID != 0
        && mac.is_some()
        && msg.header.flags.contains(ntf::EXT_LEARNED);
    if new && intact {
        return None;
    }
    Some(OwnedRow::Neighbor(SuppressionNeighbor {
        ifindex: msg.header.ifindex,
        ip: destination?,
        mac: mac.unwrap_or(MacAddress::ZERO),
    }))
}

/// Parses one RTM_NEWNEIGH/RTM_DELNEIGH message (dump reply or multicast
/// notification) into an event about an owned row. Rows evpnd does not own
/// and other message types give `Ok(None)`.
///
/// A suppression neighbour of ours that was deleted or became unusable
/// (FAILED, no address) is `Deleted`, even though its marks are gone (see
/// [`gone_neighbor`]); a dump can report such a row too, as `Deleted`.
pub fn parse_neigh_message(
    header: &NlHeader,
    payload: &[u8],
    own: &Ownership,
) -> Result<Option<NeighEvent>, NlDecodeError> {
    let Some((new, msg)) = neigh_message(header, payload)? else {
        return Ok(None);
    };
    if let Some(row) = owned_row(&msg, own) {
        return Ok(Some(if new {
            NeighEvent::New(row)
        } else {
            NeighEvent::Deleted(row)
        }));
    }
    Ok(gone_neighbor(new, &msg).map(NeighEvent::Deleted))
}

/// Where the kernel's own learning matters to evpnd: the VLANs it serves and
/// their SVIs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LearnScope {
    pub own: Option<Ownership>,
    /// Configured VLANs: only MACs learnt on these are advertised.
    pub vlans: Vec<u16>,
    /// (SVI ifindex, VLAN) for each configured VLAN.
    pub svis: Vec<(u32, u16)>,
}

/// The scope as the VTEP's threads share it: a reload that adds or removes
/// VLANs replaces it, and the notification thread and the snoopers read it
/// for each message they receive, after it arrived.
pub type SharedLearnScope = std::sync::Arc<std::sync::RwLock<LearnScope>>;

impl LearnScope {
    /// A reading of `shared`. A writer that panicked left a whole scope
    /// behind (it only ever assigns one), so a poisoned lock is read as is.
    pub fn read(shared: &SharedLearnScope) -> std::sync::RwLockReadGuard<'_, LearnScope> {
        shared
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Decides whether a row is one the kernel learnt itself within `scope`
/// (pure, like [`owned_row`]); `Some((row, usable))`.
///
/// - FDB: a bridge row (NDA_MASTER = the bridge) on a port other than the
///   vxlan device, in a configured VLAN, not permanent (the ports' own
///   addresses) and not extern_learn (what evpnd or FRR installed).
/// - ARP/ND: a row on a configured SVI, not extern_learn, not NOARP (static
///   or installed for suppression); usable while REACHABLE, STALE, DELAY or
///   PROBE (a FAILED or INCOMPLETE entry is no binding).
pub fn learned_row(msg: &NeighbourMessage, scope: &LearnScope) -> Option<(LearnedRow, bool)> {
    let own = scope.own?;
    let flags = msg.header.flags;
    let state = u16::from(msg.header.state);
    let ext_learned = flags.contains(ntf::EXT_LEARNED);
    let RowAttributes {
        mac,
        destination: ip,
        vlan,
        master,
        ..
    } = RowAttributes::of(msg);
    match msg.header.family {
        AddressFamily::Bridge => {
            let port = msg.header.ifindex;
            let vlan = vlan.filter(|v| scope.vlans.contains(v))?;
            let mac = mac.filter(|m| *m != MacAddress::ZERO && m.0[0] & 1 == 0)?;
            if master != Some(own.bridge_ifindex)
                || port == own.bridge_ifindex
                || state & nud::PERMANENT != 0
            {
                return None;
            }
            // The bridge keeps one row per (MAC, VLAN): a row now on the
            // vxlan port, or installed (extern_learn), says the MAC is no
            // longer local, even though no deletion was notified.
            let local = port != own.vxlan_ifindex && !ext_learned;
            Some((LearnedRow::Mac { vlan, mac, port }, local))
        }
        AddressFamily::Inet | AddressFamily::Inet6 => {
            let &(_, vlan) = scope.svis.iter().find(|(i, _)| *i == msg.header.ifindex)?;
            if ext_learned || state & (nud::NOARP | nud::PERMANENT) != 0 {
                return None;
            }
            let usable = state & (nud::REACHABLE | nud::STALE | nud::DELAY | nud::PROBE) != 0;
            let row = LearnedRow::Neighbor {
                vlan,
                ip: ip?,
                mac: mac.unwrap_or(MacAddress::ZERO),
            };
            Some((row, usable && mac.is_some()))
        }
        _ => None,
    }
}

/// Parses one RTM_NEWNEIGH/RTM_DELNEIGH message into a learnt row event.
pub fn parse_learned_message(
    header: &NlHeader,
    payload: &[u8],
    scope: &LearnScope,
) -> Result<Option<Learned>, NlDecodeError> {
    let Some((new, msg)) = neigh_message(header, payload)? else {
        return Ok(None);
    };
    Ok(learned_row(&msg, scope).map(|(row, usable)| Learned {
        row,
        present: new && usable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::Messages;

    const OWN: Ownership = Ownership {
        vxlan_ifindex: 3,
        bridge_ifindex: 2,
    };

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn roundtrip(op: Op) -> Option<NeighEvent> {
        let mut buf = Vec::new();
        encode_op(&op, &OWN, 1, &mut buf).ok()?;
        let (h, p) = Messages::new(&buf).next()?.ok()?;
        parse_neigh_message(&h, p, &OWN).ok()?
    }

    #[test]
    fn requests_decode_back_to_the_rows_they_install() {
        let flood = FloodEntry {
            vni: 10,
            vtep: v4(198, 19, 0, 2),
        };
        assert_eq!(
            roundtrip(Op::Add(Object::Flood(flood))),
            Some(NeighEvent::New(OwnedRow::Flood(flood)))
        );
        let n = SuppressionNeighbor {
            ifindex: 7,
            ip: "2001:db8::1".parse().unwrap_or(v4(0, 0, 0, 0)),
            mac: MacAddress([2, 0x0a, 0, 0, 0, 1]),
        };
        assert_eq!(
            roundtrip(Op::Replace(Object::Neighbor(n))),
            Some(NeighEvent::New(OwnedRow::Neighbor(n)))
        );
        let m = RemoteMac {
            vni: 10,
            vlan: 10,
            mac: MacAddress([2, 0x0a, 0, 0, 0, 1]),
            vtep: v4(198, 19, 0, 2),
            sticky: false,
        };
        // The combined request carries both NTF_SELF and NTF_MASTER; the
        // kernel reports the two rows separately, and a message with
        // NTF_SELF set is classified as the vxlan row.
        assert_eq!(
            roundtrip(Op::Delete(Object::Mac(m))),
            None, // deletes carry no extern_learn: not an owned row
        );
    }

    #[test]
    fn rows_without_our_marks_are_not_owned() {
        let mut msg = message(
            header(
                AddressFamily::Bridge,
                3,
                nud::NOARP | nud::PERMANENT,
                ntf::SELF,
            ),
            vec![
                lladdr(MacAddress::ZERO),
                NeighbourAttribute::Destination(NeighbourAddress::Other(vec![198, 19, 0, 9])),
            ],
        );
        assert_eq!(owned_row(&msg, &OWN), None);
        msg.header.flags = ntf::SELF | ntf::EXT_LEARNED;
        assert_eq!(
            owned_row(&msg, &OWN),
            Some(OwnedRow::Flood(FloodEntry {
                vni: 0,
                vtep: v4(198, 19, 0, 9)
            }))
        );
        msg.header.ifindex = 4; // another vxlan device
        assert_eq!(owned_row(&msg, &OWN), None);

        // zebra's suppression neighbours (proto 11) are not ours.
        let zebra = message(
            header(AddressFamily::Inet, 7, nud::NOARP, ntf::EXT_LEARNED),
            vec![
                NeighbourAttribute::Protocol(RouteProtocol::from(11)),
                dst(v4(198, 18, 10, 1)),
                lladdr(MacAddress([2, 0, 0, 0, 0, 1])),
            ],
        );
        assert_eq!(owned_row(&zebra, &OWN), None);
    }

    /// The two notifications of `ip neigh del` for one of our suppression
    /// neighbours, as the kernel sends them (see `gone_neighbor`): neither
    /// has NDA_LLADDR nor NTF_EXT_LEARNED, both keep NDA_PROTOCOL = 245.
    #[test]
    fn a_deleted_suppression_neighbour_is_ours_by_its_protocol() {
        let ip = v4(198, 18, 10, 2);
        let notification = |state: u16, protocol: u8| {
            message(
                header(AddressFamily::Inet, 7, state, NeighbourFlags::empty()),
                vec![
                    dst(ip),
                    NeighbourAttribute::Protocol(RouteProtocol::from(protocol)),
                ],
            )
        };
        let gone = Some(OwnedRow::Neighbor(SuppressionNeighbor {
            ifindex: 7,
            ip,
            mac: MacAddress::ZERO,
        }));
        let failed = notification(nud::FAILED, EVPND_PROTOCOL);
        assert_eq!(owned_row(&failed, &OWN), None, "the marks are gone");
        assert_eq!(gone_neighbor(true, &failed), gone, "RTM_NEWNEIGH, FAILED");
        assert_eq!(gone_neighbor(false, &failed), gone, "RTM_DELNEIGH");
        // zebra's (proto 11) and the kernel's own (no protocol) are not ours.
        assert_eq!(gone_neighbor(false, &notification(nud::FAILED, 11)), None);
        let mut kernel = failed.clone();
        kernel.attributes.pop();
        assert_eq!(gone_neighbor(false, &kernel), None);
        // A usable row of ours is not gone: owned_row decides about it.
        let mut fine = notification(nud::NOARP, EVPND_PROTOCOL);
        fine.header.flags = ntf::EXT_LEARNED;
        fine.attributes
            .push(lladdr(MacAddress([2, 0x0a, 0, 0, 0, 2])));
        assert_eq!(gone_neighbor(true, &fine), None);
        assert!(owned_row(&fine, &OWN).is_some());
        // Rewritten by hand without extern_learn (`ip neigh replace ... nud
        // noarp`): not as installed, so put back.
        let mut stripped = fine.clone();
        stripped.header.flags = NeighbourFlags::empty();
        assert_eq!(owned_row(&stripped, &OWN), None);
        assert_eq!(
            gone_neighbor(true, &stripped),
            Some(OwnedRow::Neighbor(SuppressionNeighbor {
                ifindex: 7,
                ip,
                mac: MacAddress([2, 0x0a, 0, 0, 0, 2]),
            }))
        );
        // The deletion as a whole, through the parser.
        let mut buf = Vec::new();
        NeighRequest {
            kind: RequestKind::Delete,
            flags: 0,
            message: failed,
        }
        .encode_into(1, &mut buf);
        let parsed = Messages::new(&buf)
            .next()
            .and_then(Result::ok)
            .and_then(|(h, p)| parse_neigh_message(&h, p, &OWN).ok().flatten());
        assert_eq!(parsed, gone.map(NeighEvent::Deleted));
    }

    #[test]
    fn installing_a_stray_is_refused() {
        let s = StrayMacRow::MasterOnly {
            vlan: 0,
            mac: MacAddress([2, 0, 0, 0, 0, 1]),
            sticky: false,
        };
        assert_eq!(
            request_for_op(&Op::Add(Object::Stray(s)), &OWN),
            Err(NotInstallable(Object::Stray(s)))
        );
    }

    fn scope() -> LearnScope {
        LearnScope {
            own: Some(OWN),
            vlans: vec![10, 11],
            svis: vec![(20, 10), (21, 11)],
        }
    }

    #[test]
    fn bridge_learnt_macs_on_access_ports_are_local() {
        let mac = MacAddress([0x02, 0x0a, 0, 0, 0, 1]);
        let fdb = |port: u32, state: u16, flags: NeighbourFlags, vlan: u16| {
            message(
                header(AddressFamily::Bridge, port, state, flags),
                vec![
                    NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()),
                    NeighbourAttribute::Vlan(vlan),
                    NeighbourAttribute::Controller(OWN.bridge_ifindex),
                ],
            )
        };
        assert_eq!(
            learned_row(
                &fdb(7, nud::REACHABLE, NeighbourFlags::empty(), 10),
                &scope()
            ),
            Some((
                LearnedRow::Mac {
                    vlan: 10,
                    mac,
                    port: 7
                },
                true
            ))
        );
        // A row on the vxlan port or installed (extern_learn) means the MAC
        // is not local (any more): the bridge moved its one row for it.
        let not_local = |port| {
            Some((
                LearnedRow::Mac {
                    vlan: 10,
                    mac,
                    port,
                },
                false,
            ))
        };
        assert_eq!(
            learned_row(
                &fdb(
                    OWN.vxlan_ifindex,
                    nud::REACHABLE,
                    NeighbourFlags::empty(),
                    10
                ),
                &scope()
            ),
            not_local(OWN.vxlan_ifindex)
        );
        assert_eq!(
            learned_row(&fdb(7, nud::REACHABLE, ntf::EXT_LEARNED, 10), &scope()),
            not_local(7)
        );
        // Permanent rows are the ports' own addresses; VLAN 12 is not ours.
        assert_eq!(
            learned_row(
                &fdb(7, nud::PERMANENT, NeighbourFlags::empty(), 10),
                &scope()
            ),
            None
        );
        assert_eq!(
            learned_row(
                &fdb(7, nud::REACHABLE, NeighbourFlags::empty(), 12),
                &scope()
            ),
            None
        );
    }

    #[test]
    fn svi_neighbours_are_bindings_while_usable() {
        let mac = MacAddress([0x02, 0x0a, 0, 0, 0, 1]);
        let ip = v4(198, 18, 10, 1);
        let arp = |ifindex: u32, state: u16, flags: NeighbourFlags| {
            message(
                header(AddressFamily::Inet, ifindex, state, flags),
                vec![
                    NeighbourAttribute::Destination(NeighbourAddress::Inet(Ipv4Addr::new(
                        198, 18, 10, 1,
                    ))),
                    NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()),
                ],
            )
        };
        let row = LearnedRow::Neighbor { vlan: 10, ip, mac };
        assert_eq!(
            learned_row(&arp(20, nud::STALE, NeighbourFlags::empty()), &scope()),
            Some((row, true))
        );
        assert_eq!(
            learned_row(&arp(20, nud::FAILED, NeighbourFlags::empty()), &scope()),
            Some((row, false))
        );
        assert_eq!(
            learned_row(&arp(20, nud::NOARP, ntf::EXT_LEARNED), &scope()),
            None,
            "ours"
        );
        assert_eq!(
            learned_row(&arp(99, nud::REACHABLE, NeighbourFlags::empty()), &scope()),
            None,
            "not an SVI"
        );
    }
}
