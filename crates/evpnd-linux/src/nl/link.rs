//! RTM_NEWLINK / RTM_SETLINK / RTM_GETLINK for the VTEP topology: the bridge,
//! the single `external` vxlan device, its bridge-port flags, VLAN
//! memberships with their VLAN -> VNI tunnel mapping, and the SVIs.
//!
//! Requests are written attribute by attribute in iproute2's order and form
//! (kind strings without a NUL, nests without NLA_F_NESTED), so the golden
//! fixtures (`tests/fixtures/netlink/capture-setup.sh`) compare whole
//! messages. netlink-packet-route's builders differ in exactly those details
//! (it NUL-terminates IFLA_INFO_KIND, and rtnetlink is not a dependency), and
//! a request is a dozen bytes of TLVs. Dumps are parsed with
//! netlink-packet-route's typed `LinkMessage`.
//!
//! Layouts: `include/uapi/linux/rtnetlink.h` (struct ifinfomsg, RTM_*),
//! `include/uapi/linux/if_link.h` (IFLA_*, IFLA_INFO_*, IFLA_VXLAN_*,
//! IFLA_BR_*, IFLA_BRPORT_*, IFLA_VLAN_*), `include/uapi/linux/if_bridge.h`
//! (IFLA_BRIDGE_*, BRIDGE_VLAN_INFO_*, BRIDGE_FLAGS_SELF).

use super::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_core::Parseable;
use netlink_packet_route::link::{
    AfSpecBridge, BridgeVlanInfoFlags, BridgeVlanTunnelInfo, InfoBridge, InfoBridgePort, InfoData,
    InfoKind, InfoPortData, InfoVlan, InfoVxlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_SETLINK: u16 = 19;

/// `AF_BRIDGE` (socket.h).
pub const AF_BRIDGE: u8 = 7;
/// `IFF_UP` (if.h).
const IFF_UP: u32 = 1;

// if_link.h
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_AF_SPEC: u16 = 26;
const IFLA_EXT_MASK: u16 = 29;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_INFO_SLAVE_DATA: u16 = 5;
const IFLA_BR_VLAN_FILTERING: u16 = 7;
const IFLA_BR_VLAN_DEFAULT_PVID: u16 = 39;
const IFLA_VXLAN_LOCAL: u16 = 4;
const IFLA_VXLAN_LEARNING: u16 = 7;
const IFLA_VXLAN_PORT: u16 = 15;
const IFLA_VXLAN_LOCAL6: u16 = 17;
const IFLA_VXLAN_COLLECT_METADATA: u16 = 25;
const IFLA_VXLAN_VNIFILTER: u16 = 30;
const IFLA_BRPORT_LEARNING: u16 = 8;
const IFLA_BRPORT_VLAN_TUNNEL: u16 = 29;
const IFLA_BRPORT_NEIGH_SUPPRESS: u16 = 32;
const IFLA_VLAN_ID: u16 = 1;
// if_bridge.h
const IFLA_BRIDGE_FLAGS: u16 = 0;
const IFLA_BRIDGE_VLAN_INFO: u16 = 2;
const IFLA_BRIDGE_VLAN_TUNNEL_INFO: u16 = 3;
const IFLA_BRIDGE_VLAN_TUNNEL_ID: u16 = 1;
const IFLA_BRIDGE_VLAN_TUNNEL_VID: u16 = 2;
const IFLA_BRIDGE_VLAN_TUNNEL_FLAGS: u16 = 3;
const BRIDGE_FLAGS_SELF: u16 = 2;
/// `RTEXT_FILTER_BRVLAN` (rtnetlink.h): per-VLAN entries in AF_BRIDGE link
/// dumps; the bridge adds the tunnel mapping of `vlan_tunnel` ports
/// (`br_fill_ifinfo`). This is what `bridge -d vlan tunnelshow` asks for.
const RTEXT_FILTER_BRVLAN: u32 = 1 << 1;

/// One request: message type, flags beyond NLM_F_REQUEST|NLM_F_ACK, and the
/// body (fixed family header + attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRequest {
    pub message_type: u16,
    pub flags: u16,
    pub body: Vec<u8>,
    /// A dump request: NLM_F_DUMP instead of NLM_F_ACK.
    pub dump: bool,
}

impl RawRequest {
    /// Appends the whole netlink message (netlink.h `struct nlmsghdr`).
    pub fn encode_into(&self, sequence: u32, out: &mut Vec<u8>) {
        let length = 16 + self.body.len();
        let flags = NLM_F_REQUEST | self.flags | if self.dump { NLM_F_DUMP } else { NLM_F_ACK };
        out.extend_from_slice(&(length as u32).to_ne_bytes());
        out.extend_from_slice(&self.message_type.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&sequence.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(&self.body);
    }
}

/// Appends netlink attributes (netlink.h `struct nlattr`, 4-byte aligned).
pub(crate) struct AttrWriter {
    pub(crate) buf: Vec<u8>,
}

impl AttrWriter {
    pub(crate) fn new(fixed_header: &[u8]) -> Self {
        AttrWriter {
            buf: fixed_header.to_vec(),
        }
    }

    pub(crate) fn put(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let length = 4 + value.len();
        self.buf.extend_from_slice(&(length as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(self.buf.len().next_multiple_of(4), 0);
        self
    }

    pub(crate) fn u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.put(kind, &[v])
    }

    pub(crate) fn u16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.put(kind, &v.to_ne_bytes())
    }

    pub(crate) fn u32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.put(kind, &v.to_ne_bytes())
    }

    /// Opens a nest; returns its offset for [`AttrWriter::end`].
    pub(crate) fn begin(&mut self, kind: u16) -> usize {
        let at = self.buf.len();
        self.put(kind, &[]);
        at
    }

    pub(crate) fn end(&mut self, at: usize) {
        let length = (self.buf.len() - at) as u16;
        if let Some(field) = self.buf.get_mut(at..at + 2) {
            field.copy_from_slice(&length.to_ne_bytes());
        }
    }
}

/// `struct ifinfomsg` (rtnetlink.h): family, pad, type, index, flags, change.
fn ifinfomsg(family: u8, ifindex: u32, flags: u32, change: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0] = family;
    h[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    h[8..12].copy_from_slice(&flags.to_ne_bytes());
    h[12..16].copy_from_slice(&change.to_ne_bytes());
    h
}

fn new_link(w: AttrWriter) -> RawRequest {
    RawRequest {
        message_type: RTM_NEWLINK,
        flags: NLM_F_CREATE | NLM_F_EXCL,
        body: w.buf,
        dump: false,
    }
}

fn change_link(message_type: u16, w: AttrWriter) -> RawRequest {
    RawRequest {
        message_type,
        flags: 0,
        body: w.buf,
        dump: false,
    }
}

/// `ip link add NAME address MAC type bridge vlan_filtering 1
/// vlan_default_pvid 0`. A set address stays fixed when ports come and go
/// (docs/kernel-state.md: otherwise the bridge and SVI MAC follow the ports).
/// Default PVID 0: new ports join no VLAN untagged by themselves.
pub fn bridge_add(name: &str, mac: [u8; 6]) -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(0, 0, 0, 0));
    w.put(IFLA_ADDRESS, &mac);
    w.put(IFLA_IFNAME, &nul_terminated(name));
    let info = w.begin(IFLA_LINKINFO);
    w.put(IFLA_INFO_KIND, b"bridge");
    let data = w.begin(IFLA_INFO_DATA);
    w.u8(IFLA_BR_VLAN_FILTERING, 1);
    w.u16(IFLA_BR_VLAN_DEFAULT_PVID, 0);
    w.end(data);
    w.end(info);
    new_link(w)
}

/// `ip link add NAME master BRIDGE type vxlan dstport PORT local IP
/// nolearning external [vnifilter]`: one collect-metadata device for every
/// VNI (the VNI comes from each VLAN's tunnel_info), no IFLA_VXLAN_ID.
pub fn vxlan_add(name: &str, master: u32, local: IpAddr, port: u16, vnifilter: bool) -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(0, 0, 0, 0));
    w.u32(IFLA_MASTER, master);
    w.put(IFLA_IFNAME, &nul_terminated(name));
    let info = w.begin(IFLA_LINKINFO);
    w.put(IFLA_INFO_KIND, b"vxlan");
    let data = w.begin(IFLA_INFO_DATA);
    w.u8(IFLA_VXLAN_COLLECT_METADATA, 1);
    if vnifilter {
        w.u8(IFLA_VXLAN_VNIFILTER, 1);
    }
    match local {
        IpAddr::V4(v4) => w.put(IFLA_VXLAN_LOCAL, &v4.octets()),
        IpAddr::V6(v6) => w.put(IFLA_VXLAN_LOCAL6, &v6.octets()),
    };
    w.u8(IFLA_VXLAN_LEARNING, 0);
    // IFLA_VXLAN_PORT is in network byte order (if_link.h: "__be16").
    w.put(IFLA_VXLAN_PORT, &port.to_be_bytes());
    w.end(data);
    w.end(info);
    new_link(w)
}

/// `ip link set dev IFINDEX master MASTER`.
pub fn set_master(ifindex: u32, master: u32) -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(0, ifindex, 0, 0));
    w.u32(IFLA_MASTER, master);
    change_link(RTM_NEWLINK, w)
}

/// `ip link set dev IFINDEX type bridge_slave learning off neigh_suppress on
/// vlan_tunnel on`: the typed IFLA_LINKINFO slave-data path
/// (docs/netlink.md). iproute2 names the kind `bridge_slave`; the
/// kernel takes the port ops from the current master (`rtnl_newlink`).
pub fn bridge_port_flags(ifindex: u32) -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(0, ifindex, 0, 0));
    let info = w.begin(IFLA_LINKINFO);
    w.put(IFLA_INFO_KIND, b"bridge_slave");
    let data = w.begin(IFLA_INFO_SLAVE_DATA);
    w.u8(IFLA_BRPORT_LEARNING, 0);
    w.u8(IFLA_BRPORT_NEIGH_SUPPRESS, 1);
    w.u8(IFLA_BRPORT_VLAN_TUNNEL, 1);
    w.end(data);
    w.end(info);
    change_link(RTM_NEWLINK, w)
}

/// `ip link set dev IFINDEX up`: IFF_UP in ifi_flags, masked by ifi_change.
pub fn set_up(ifindex: u32) -> RawRequest {
    change_link(
        RTM_NEWLINK,
        AttrWriter::new(&ifinfomsg(0, ifindex, IFF_UP, IFF_UP)),
    )
}

/// `ip link add link BRIDGE name NAME type vlan id VID`: the SVI, the VLAN
/// upper device the bridge's ARP/ND suppression looks up
/// (`br_arp_nd_proxy.c`: `__vlan_find_dev_deep_rcu(br->dev, proto, vid)`).
pub fn svi_add(bridge: u32, name: &str, vid: u16) -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(0, 0, 0, 0));
    w.u32(IFLA_LINK, bridge);
    w.put(IFLA_IFNAME, &nul_terminated(name));
    let info = w.begin(IFLA_LINKINFO);
    w.put(IFLA_INFO_KIND, b"vlan");
    let data = w.begin(IFLA_INFO_DATA);
    w.u16(IFLA_VLAN_ID, vid);
    w.end(data);
    w.end(info);
    new_link(w)
}

/// `bridge vlan add dev IFINDEX vid VID [self]`: RTM_SETLINK, AF_BRIDGE,
/// IFLA_AF_SPEC { [IFLA_BRIDGE_FLAGS = SELF], IFLA_BRIDGE_VLAN_INFO { flags
/// 0, vid } }. Flags 0 = a tagged member that is not the PVID; re-adding an
/// existing VLAN with flags 0 also clears pvid/untagged (`__vlan_flags_update`).
/// `bridge_self` targets the bridge device's own VLAN table (what the SVI
/// sends and receives on).
pub fn bridge_vlan_add(ifindex: u32, vid: u16, bridge_self: bool) -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(AF_BRIDGE, ifindex, 0, 0));
    let spec = w.begin(IFLA_AF_SPEC);
    if bridge_self {
        w.u16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
    }
    let mut info = [0u8; 4];
    info[2..4].copy_from_slice(&vid.to_ne_bytes());
    w.put(IFLA_BRIDGE_VLAN_INFO, &info);
    w.end(spec);
    change_link(RTM_SETLINK, w)
}

/// `bridge vlan add dev IFINDEX vid VID tunnel_info id VNI`: IFLA_AF_SPEC {
/// IFLA_BRIDGE_VLAN_TUNNEL_INFO { ID, VID, FLAGS 0 } }. The VLAN must already
/// be a member and the port must have `vlan_tunnel on`
/// (`br_process_vlan_tunnel_info`).
pub fn vlan_tunnel_add(ifindex: u32, vid: u16, vni: u32) -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(AF_BRIDGE, ifindex, 0, 0));
    let spec = w.begin(IFLA_AF_SPEC);
    let tunnel = w.begin(IFLA_BRIDGE_VLAN_TUNNEL_INFO);
    w.u32(IFLA_BRIDGE_VLAN_TUNNEL_ID, vni);
    w.u16(IFLA_BRIDGE_VLAN_TUNNEL_VID, vid);
    w.u16(IFLA_BRIDGE_VLAN_TUNNEL_FLAGS, 0);
    w.end(tunnel);
    w.end(spec);
    change_link(RTM_SETLINK, w)
}

/// RTM_GETLINK dump of every link (`ip -d link show` without the VF mask).
pub fn link_dump() -> RawRequest {
    RawRequest {
        message_type: RTM_GETLINK,
        flags: 0,
        body: ifinfomsg(0, 0, 0, 0).to_vec(),
        dump: true,
    }
}

/// RTM_GETLINK AF_BRIDGE dump with RTEXT_FILTER_BRVLAN: every bridge port's
/// and bridge's VLANs and tunnel mappings (`bridge -d vlan tunnelshow`).
pub fn bridge_vlan_dump() -> RawRequest {
    let mut w = AttrWriter::new(&ifinfomsg(AF_BRIDGE, 0, 0, 0));
    w.u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN);
    RawRequest {
        message_type: RTM_GETLINK,
        flags: 0,
        body: w.buf,
        dump: true,
    }
}

fn nul_terminated(name: &str) -> Vec<u8> {
    let mut v = name.as_bytes().to_vec();
    v.push(0);
    v
}

/// What a link is, as far as the VTEP recipe cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    Bridge {
        vlan_filtering: bool,
        default_pvid: u16,
    },
    Vxlan {
        /// `external` (IFLA_VXLAN_COLLECT_METADATA).
        external: bool,
        vnifilter: bool,
        learning: bool,
        local: Option<IpAddr>,
        port: u16,
        /// IFLA_VXLAN_ID of a per-VNI device (0 / absent on an external one).
        vni: u32,
    },
    Vlan {
        id: u16,
    },
    /// Any other kind (`veth`, `dummy`, ...) or none (`lo`).
    Other(String),
}

/// Bridge-port flags of a port (IFLA_INFO_SLAVE_DATA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortFlags {
    pub learning: bool,
    pub neigh_suppress: bool,
    pub vlan_tunnel: bool,
}

/// One link from an AF_UNSPEC link dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    pub ifindex: u32,
    pub name: String,
    pub mac: Option<[u8; 6]>,
    pub up: bool,
    /// IFLA_MASTER.
    pub master: Option<u32>,
    /// IFLA_LINK: the lower device (a VLAN device's parent).
    pub link: Option<u32>,
    pub kind: LinkKind,
    /// Present when the link is a bridge port.
    pub port: Option<PortFlags>,
}

/// A link or tunnel message from the kernel that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyDecodeError {
    #[error("link message: {0}")]
    Link(String),
    #[error("tunnel message: {0}")]
    Tunnel(String),
}

fn decode_link(payload: &[u8]) -> Result<LinkMessage, TopologyDecodeError> {
    LinkMessage::parse(payload).map_err(|e| TopologyDecodeError::Link(e.to_string()))
}

/// Parses one RTM_NEWLINK of an AF_UNSPEC dump.
pub fn parse_link(payload: &[u8]) -> Result<LinkRecord, TopologyDecodeError> {
    let msg = decode_link(payload)?;
    let mut rec = LinkRecord {
        ifindex: msg.header.index,
        name: String::new(),
        mac: None,
        up: msg.header.flags.contains(LinkFlags::Up),
        master: None,
        link: None,
        kind: LinkKind::Other(String::new()),
        port: None,
    };
    let mut kind_name = String::new();
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => rec.name = n.clone(),
            LinkAttribute::Address(a) => rec.mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
            LinkAttribute::Controller(m) => rec.master = Some(*m),
            LinkAttribute::Link(l) => rec.link = Some(*l),
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    match info {
                        LinkInfo::Kind(k) => kind_name = k.to_string(),
                        LinkInfo::Data(data) => rec.kind = kind_of(data),
                        LinkInfo::PortData(InfoPortData::BridgePort(flags)) => {
                            rec.port = Some(port_flags(flags))
                        }
                        _ => {}
                    }
                }
                if let LinkKind::Other(_) = rec.kind {
                    // A kind without IFLA_INFO_DATA (or one we do not type).
                    rec.kind = match infos.iter().find_map(|i| match i {
                        LinkInfo::Kind(k) => Some(k),
                        _ => None,
                    }) {
                        Some(InfoKind::Bridge) => LinkKind::Bridge {
                            vlan_filtering: false,
                            default_pvid: 1,
                        },
                        _ => LinkKind::Other(kind_name.clone()),
                    };
                }
            }
            _ => {}
        }
    }
    Ok(rec)
}

fn kind_of(data: &InfoData) -> LinkKind {
    match data {
        InfoData::Bridge(attrs) => {
            let mut vlan_filtering = false;
            // The kernel's default (br_vlan_init: default_pvid = 1).
            let mut default_pvid = 1;
            for a in attrs {
                match a {
                    InfoBridge::VlanFiltering(v) => vlan_filtering = *v,
                    InfoBridge::VlanDefaultPvid(p) => default_pvid = *p,
                    _ => {}
                }
            }
            LinkKind::Bridge {
                vlan_filtering,
                default_pvid,
            }
        }
        InfoData::Vxlan(attrs) => {
            let (mut external, mut vnifilter, mut learning) = (false, false, true);
            let (mut local, mut port, mut vni) = (None, 0, 0);
            for a in attrs {
                match a {
                    InfoVxlan::CollectMetadata(v) => external = *v,
                    InfoVxlan::Vnifilter(v) => vnifilter = *v,
                    InfoVxlan::Learning(v) => learning = *v,
                    InfoVxlan::Local(ip) => local = Some(IpAddr::V4(*ip)),
                    InfoVxlan::Local6(ip) => local = Some(IpAddr::V6(*ip)),
                    InfoVxlan::Port(p) => port = *p,
                    InfoVxlan::Id(id) => vni = *id,
                    _ => {}
                }
            }
            LinkKind::Vxlan {
                external,
                vnifilter,
                learning,
                local,
                port,
                vni,
            }
        }
        InfoData::Vlan(attrs) => LinkKind::Vlan {
            id: attrs
                .iter()
                .find_map(|a| match a {
                    InfoVlan::Id(id) => Some(*id),
                    _ => None,
                })
                .unwrap_or(0),
        },
        other => LinkKind::Other(format!("{other:?}").chars().take(16).collect()),
    }
}

fn port_flags(attrs: &[InfoBridgePort]) -> PortFlags {
    // Kernel defaults of a new port (new_nbp: BR_LEARNING | BR_FLOOD ...).
    let mut p = PortFlags {
        learning: true,
        neigh_suppress: false,
        vlan_tunnel: false,
    };
    for a in attrs {
        match a {
            InfoBridgePort::Learning(v) => p.learning = *v,
            InfoBridgePort::NeighSupress(v) => p.neigh_suppress = *v,
            InfoBridgePort::VlanTunnel(v) => p.vlan_tunnel = *v,
            _ => {}
        }
    }
    p
}

/// A VLAN membership's flags (if_bridge.h BRIDGE_VLAN_INFO_PVID/UNTAGGED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VlanFlags {
    pub pvid: bool,
    pub untagged: bool,
}

/// The VLAN table of one bridge port (or of the bridge itself) from an
/// AF_BRIDGE dump.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgeVlanRecord {
    pub ifindex: u32,
    pub vlans: BTreeMap<u16, VlanFlags>,
    /// VLAN -> VNI (tunnel_info).
    pub tunnels: BTreeMap<u16, u32>,
}

/// Largest VLAN ID (IEEE 802.1Q); bounds range expansion of dump entries.
const VLAN_MAX: u16 = 4094;

/// Parses one RTM_NEWLINK of an AF_BRIDGE/RTEXT_FILTER_BRVLAN dump. The
/// kernel reports tunnel mappings as ranges (`br_fill_vlan_tunnel_info`:
/// RANGE_BEGIN then RANGE_END entries, VID and VNI both consecutive), VLANs
/// as single entries (uncompressed filter).
pub fn parse_bridge_vlans(payload: &[u8]) -> Result<BridgeVlanRecord, TopologyDecodeError> {
    let msg = decode_link(payload)?;
    let mut rec = BridgeVlanRecord {
        ifindex: msg.header.index,
        ..Default::default()
    };
    let mut vlan_range_start: Option<(u16, VlanFlags)> = None;
    let mut tunnel_range_start: Option<(u16, u32)> = None;
    for attr in &msg.attributes {
        let LinkAttribute::AfSpecBridge(spec) = attr else {
            continue;
        };
        for entry in spec {
            match entry {
                AfSpecBridge::VlanInfo(info) => {
                    let flags = VlanFlags {
                        pvid: info.flags.contains(BridgeVlanInfoFlags::Pvid),
                        untagged: info.flags.contains(BridgeVlanInfoFlags::Untagged),
                    };
                    if info.flags.contains(BridgeVlanInfoFlags::RangeBegin) {
                        vlan_range_start = Some((info.vid, flags));
                    } else if info.flags.contains(BridgeVlanInfoFlags::RangeEnd) {
                        let (start, f) = vlan_range_start.take().unwrap_or((info.vid, flags));
                        for vid in start..=info.vid.min(VLAN_MAX) {
                            rec.vlans.insert(vid, f);
                        }
                    } else {
                        rec.vlans.insert(info.vid, flags);
                    }
                }
                AfSpecBridge::VlanTunnelInfo(parts) => {
                    let (mut vid, mut vni, mut flags) = (None, None, BridgeVlanInfoFlags::empty());
                    for p in parts {
                        match p {
                            BridgeVlanTunnelInfo::Vid(v) => vid = Some(*v),
                            BridgeVlanTunnelInfo::Id(i) => vni = Some(*i),
                            BridgeVlanTunnelInfo::Flags(f) => flags = *f,
                            _ => {}
                        }
                    }
                    let (Some(vid), Some(vni)) = (vid, vni) else {
                        continue;
                    };
                    if flags.contains(BridgeVlanInfoFlags::RangeBegin) {
                        tunnel_range_start = Some((vid, vni));
                    } else if flags.contains(BridgeVlanInfoFlags::RangeEnd) {
                        let (start_vid, start_vni) =
                            tunnel_range_start.take().unwrap_or((vid, vni));
                        for (offset, v) in (start_vid..=vid.min(VLAN_MAX)).enumerate() {
                            rec.tunnels
                                .insert(v, start_vni.saturating_add(offset as u32));
                        }
                    } else {
                        rec.tunnels.insert(vid, vni);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    //! Golden tests: each request equals, byte for byte, what iproute2 6.1
    //! sends (`tests/fixtures/netlink/capture-setup.sh`; first line of each
    //! fixture: the command; br0 = ifindex 2, vxlan0 = 3).
    use super::*;
    use crate::nl::tunnel;
    use std::net::Ipv4Addr;

    pub(crate) fn fixture(text: &str) -> Vec<u8> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| l.split_whitespace())
            .filter_map(|b| u8::from_str_radix(b, 16).ok())
            .collect()
    }

    /// The fixture holds everything the command sent (name lookups first);
    /// the request is its last message of the same type, compared whole
    /// (header re-serialised from the decoded fields, then the payload).
    fn check(fixture_text: &str, request: RawRequest) {
        let all = fixture(fixture_text);
        let theirs = crate::nl::Messages::new(&all)
            .filter_map(Result::ok)
            .filter(|(h, _)| h.message_type == request.message_type)
            .last();
        let Some((h, payload)) = theirs else {
            panic!(
                "no message of type {} in: {fixture_text}",
                request.message_type
            );
        };
        // A truncated capture must not pass as "equal to an empty encoding".
        assert!(payload.len() >= 8, "fixture too short: {fixture_text}");
        let mut expected = Vec::new();
        expected.extend_from_slice(&h.length.to_ne_bytes());
        expected.extend_from_slice(&h.message_type.to_ne_bytes());
        expected.extend_from_slice(&h.flags.to_ne_bytes());
        expected.extend_from_slice(&h.sequence.to_ne_bytes());
        expected.extend_from_slice(&h.port.to_ne_bytes());
        expected.extend_from_slice(payload);
        let mut ours = Vec::new();
        request.encode_into(h.sequence, &mut ours);
        assert_eq!(
            ours,
            expected,
            "{}",
            fixture_text.lines().next().unwrap_or("")
        );
    }

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1));

    #[test]
    fn link_requests_match_iproute2() {
        check(
            include_str!("../../tests/fixtures/netlink/link_bridge_add.hex"),
            bridge_add("br0x", [0x02, 0x00, 0xc6, 0x12, 0x01, 0x01]),
        );
        check(
            include_str!("../../tests/fixtures/netlink/link_vxlan_add.hex"),
            vxlan_add("vxlan1", 2, LOCAL, 4789, true),
        );
        check(
            include_str!("../../tests/fixtures/netlink/link_vxlan_add_novnifilter.hex"),
            vxlan_add("vxlan1", 2, LOCAL, 4789, false),
        );
        check(
            include_str!("../../tests/fixtures/netlink/link_set_master.hex"),
            set_master(3, 2),
        );
        check(
            include_str!("../../tests/fixtures/netlink/link_bridge_port.hex"),
            bridge_port_flags(3),
        );
        check(
            include_str!("../../tests/fixtures/netlink/link_set_up.hex"),
            set_up(3),
        );
        check(
            include_str!("../../tests/fixtures/netlink/link_svi_add.hex"),
            svi_add(2, "vlan10", 10),
        );
    }

    #[test]
    fn bridge_vlan_requests_match_iproute2() {
        check(
            include_str!("../../tests/fixtures/netlink/vlan_port_add.hex"),
            bridge_vlan_add(3, 10, false),
        );
        check(
            include_str!("../../tests/fixtures/netlink/vlan_self_add.hex"),
            bridge_vlan_add(2, 10, true),
        );
        check(
            include_str!("../../tests/fixtures/netlink/vlan_tunnel_add.hex"),
            vlan_tunnel_add(3, 10, 10),
        );
    }

    #[test]
    fn tunnel_requests_match_iproute2() {
        check(
            include_str!("../../tests/fixtures/netlink/vni_add.hex"),
            tunnel::vni_add(3, 10),
        );
        // `bridge vni show` sends its dump request in a 280-byte buffer
        // after an RTM_GETLINK; compare the RTM_GETTUNNEL message itself.
        let all = fixture(include_str!("../../tests/fixtures/netlink/vni_dump.hex"));
        let dump = crate::nl::Messages::new(&all)
            .filter_map(Result::ok)
            .find(|(h, _)| h.message_type == tunnel::RTM_GETTUNNEL)
            .map(|(h, p)| (h, p.get(..8).unwrap_or_default().to_vec()));
        let Some((header, body)) = dump else {
            panic!("no RTM_GETTUNNEL in the fixture");
        };
        let mut ours = Vec::new();
        tunnel::vni_dump(3).encode_into(header.sequence, &mut ours);
        assert_eq!(ours.get(16..), Some(body.as_slice()));
        assert_eq!(ours.get(6..8), Some(&header.flags.to_ne_bytes()[..]));
        assert_eq!(header.flags, NLM_F_REQUEST | NLM_F_DUMP);
    }

    #[test]
    fn bridge_vlan_dump_matches_bridge_vlan_tunnelshow() {
        let all = fixture(include_str!(
            "../../tests/fixtures/netlink/link_dump_tunnel.hex"
        ));
        let theirs = crate::nl::Messages::new(&all)
            .filter_map(Result::ok)
            .find(|(h, p)| h.message_type == RTM_GETLINK && p.first() == Some(&AF_BRIDGE));
        let Some((header, payload)) = theirs else {
            panic!("no AF_BRIDGE RTM_GETLINK in the fixture");
        };
        let mut ours = Vec::new();
        bridge_vlan_dump().encode_into(header.sequence, &mut ours);
        assert_eq!(ours.get(16..), Some(payload));
        assert_eq!(ours.get(6..8), Some(&header.flags.to_ne_bytes()[..]));
    }
}
