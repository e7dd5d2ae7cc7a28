//! RTM_NEWLINK / RTM_SETLINK / RTM_DELLINK / RTM_GETLINK for the VTEP topology: the bridge,
//! the single `external` vxlan device, its bridge-port flags, VLAN
//! memberships with their VLAN -> VNI tunnel mapping, and the SVIs.
//!
//! Requests are netlink-packet-route 0.34 `LinkMessage`s (`LinkAttribute`,
//! `LinkInfo::Data(InfoData::{Bridge, Vxlan, Vlan})`,
//! `InfoPortData::BridgePort`, `AfSpecBridge` VLAN info and VLAN tunnel
//! info), framed by netlink-packet-core 0.9's `NetlinkMessage`, and compared
//! byte for byte with iproute2 by the golden fixtures
//! (`tests/fixtures/netlink/capture-setup.sh`). Dumps are parsed with the
//! same typed `LinkMessage`.
//!
//! Gaps in the crates, filled here (docs/netlink.md, "gaps"):
//! - netlink-packet-route 0.34.0 `InfoKind` always NUL-terminates
//!   IFLA_INFO_KIND; iproute2 sends the kind without a NUL. Both are accepted
//!   by the kernel, only the latter matches the fixtures, so the kind is a
//!   `LinkInfo::Other(DefaultNla)` of the bare string (`kind()`). Closable
//!   upstream only as an opt-in (changing the default would change every
//!   user's bytes).
//! - RTM_NEWTUNNEL / RTM_GETTUNNEL: not in netlink-packet-route 0.34.0 at
//!   all; see `nl/tunnel.rs`.
//!
//! Layouts: `include/uapi/linux/rtnetlink.h` (struct ifinfomsg, RTM_*),
//! `include/uapi/linux/if_link.h` (IFLA_*, IFLA_INFO_*, IFLA_VXLAN_*,
//! IFLA_BR_*, IFLA_BRPORT_*, IFLA_VLAN_*), `include/uapi/linux/if_bridge.h`
//! (IFLA_BRIDGE_*, BRIDGE_VLAN_INFO_*, BRIDGE_FLAGS_SELF).

use super::TopologyDecodeError;
use super::tunnel::{RTM_GETTUNNEL, RTM_NEWTUNNEL, TunnelMessage, VniFilterAttr, VniFilterEntry};
use super::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_core::{
    DefaultNla, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable, Parseable,
};
use netlink_packet_route::link::{
    AfSpecBridge, BridgeFlag, BridgeVlanInfo, BridgeVlanInfoFlags, BridgeVlanTunnelInfo,
    InfoBridge, InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoVlan, InfoVxlan,
    LinkAttribute, LinkExtentMask, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_SETLINK: u16 = 19;

/// if_link.h `IFLA_INFO_KIND` (see [`kind`]).
const IFLA_INFO_KIND: u16 = 1;

/// What a topology request carries: a typed rtnetlink message, or a
/// VNI-filter message netlink-packet-route does not have (gap 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestMessage {
    Route(RouteNetlinkMessage),
    Tunnel(TunnelMessage),
}

/// One topology request: the message plus the netlink flags beyond
/// NLM_F_REQUEST and NLM_F_ACK (or NLM_F_DUMP for a dump). Serialised with
/// netlink-packet-core's `NetlinkMessage` in [`TopologyRequest::encode_into`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyRequest {
    pub flags: u16,
    /// A dump request: NLM_F_DUMP instead of NLM_F_ACK.
    pub dump: bool,
    pub message: RequestMessage,
}

impl TopologyRequest {
    /// The netlink message type (RTM_*).
    pub fn message_type(&self) -> u16 {
        match &self.message {
            RequestMessage::Route(m) => m.message_type(),
            RequestMessage::Tunnel(m) => m.message_type(),
        }
    }

    /// Appends the whole netlink message (header with `sequence`, payload).
    pub fn encode_into(&self, sequence: u32, out: &mut Vec<u8>) {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | self.flags | if self.dump { NLM_F_DUMP } else { NLM_F_ACK };
        header.sequence_number = sequence;
        match &self.message {
            RequestMessage::Route(m) => frame(header, m.clone(), out),
            RequestMessage::Tunnel(m) => frame(header, m.clone(), out),
        }
    }
}

fn frame<I: NetlinkSerializable>(header: NetlinkHeader, inner: I, out: &mut Vec<u8>) {
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(inner));
    msg.finalize();
    let start = out.len();
    out.resize(start + msg.buffer_len(), 0);
    msg.serialize(&mut out[start..]);
}

/// IFLA_INFO_KIND as iproute2 sends it: the kind string without a NUL.
/// netlink-packet-route's `InfoKind` always appends one (`info_kind.rs`
/// `value_len` = len + 1), which the kernel accepts too (`nla_strscpy`), but
/// then the request is not iproute2's byte for byte (gap 5).
fn kind(name: &str) -> LinkInfo {
    LinkInfo::Other(DefaultNla::new(IFLA_INFO_KIND, name.as_bytes().to_vec()))
}

fn link_message(
    family: AddressFamily,
    index: u32,
    up: bool,
    attributes: Vec<LinkAttribute>,
) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.interface_family = family;
    m.header.index = index;
    if up {
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
    }
    m.attributes = attributes;
    m
}

fn request(flags: u16, message: RouteNetlinkMessage) -> TopologyRequest {
    TopologyRequest {
        flags,
        dump: false,
        message: RequestMessage::Route(message),
    }
}

fn new_link(attributes: Vec<LinkAttribute>) -> TopologyRequest {
    request(
        NLM_F_CREATE | NLM_F_EXCL,
        RouteNetlinkMessage::NewLink(link_message(AddressFamily::Unspec, 0, false, attributes)),
    )
}

fn change_link(ifindex: u32, attributes: Vec<LinkAttribute>) -> TopologyRequest {
    request(
        0,
        RouteNetlinkMessage::NewLink(link_message(
            AddressFamily::Unspec,
            ifindex,
            false,
            attributes,
        )),
    )
}

fn set_bridge_af_spec(ifindex: u32, spec: Vec<AfSpecBridge>) -> TopologyRequest {
    request(
        0,
        RouteNetlinkMessage::SetLink(link_message(
            AddressFamily::Bridge,
            ifindex,
            false,
            vec![LinkAttribute::AfSpecBridge(spec)],
        )),
    )
}

/// `ip link add NAME address MAC type bridge vlan_filtering 1
/// vlan_default_pvid 0`. A set address stays fixed when ports come and go
/// (docs/kernel-state.md: otherwise the bridge and SVI MAC follow the ports).
/// Default PVID 0: new ports join no VLAN untagged by themselves.
pub fn bridge_add(name: &str, mac: [u8; 6]) -> TopologyRequest {
    new_link(vec![
        LinkAttribute::Address(mac.to_vec()),
        LinkAttribute::IfName(name.to_owned()),
        LinkAttribute::LinkInfo(vec![
            kind("bridge"),
            LinkInfo::Data(InfoData::Bridge(vec![
                InfoBridge::VlanFiltering(true),
                InfoBridge::VlanDefaultPvid(0),
            ])),
        ]),
    ])
}

/// `ip link add NAME master BRIDGE type vxlan dstport PORT local IP
/// nolearning external [vnifilter]`: one collect-metadata device for every
/// VNI (the VNI comes from each VLAN's tunnel_info), no IFLA_VXLAN_ID.
pub fn vxlan_add(
    name: &str,
    master: u32,
    local: IpAddr,
    port: u16,
    vnifilter: bool,
) -> TopologyRequest {
    let mut data = vec![InfoVxlan::CollectMetadata(true)];
    if vnifilter {
        data.push(InfoVxlan::Vnifilter(true));
    }
    data.push(match local {
        IpAddr::V4(v4) => InfoVxlan::Local(v4),
        IpAddr::V6(v6) => InfoVxlan::Local6(v6),
    });
    data.push(InfoVxlan::Learning(false));
    // Emitted in network byte order (if_link.h: IFLA_VXLAN_PORT is __be16).
    data.push(InfoVxlan::Port(port));
    new_link(vec![
        LinkAttribute::Controller(master),
        LinkAttribute::IfName(name.to_owned()),
        LinkAttribute::LinkInfo(vec![kind("vxlan"), LinkInfo::Data(InfoData::Vxlan(data))]),
    ])
}

/// A link creation ([`bridge_add`], [`vxlan_add`], [`svi_add`]) that asks
/// for `ifindex` (`ip link add ... index N`): the kernel takes it when it is
/// free (`rtnl_create_link`, `register_netdevice`: EBUSY otherwise). Drift
/// healing re-creates a deleted device under its old index, so every row,
/// ownership mark and SVI index evpnd holds stays valid. Other requests are
/// returned unchanged.
pub fn with_ifindex(mut request: TopologyRequest, ifindex: u32) -> TopologyRequest {
    if let RequestMessage::Route(RouteNetlinkMessage::NewLink(m)) = &mut request.message
        && m.header.index == 0
    {
        m.header.index = ifindex;
    }
    request
}

/// `ip link set dev IFINDEX master MASTER`.
pub fn set_master(ifindex: u32, master: u32) -> TopologyRequest {
    change_link(ifindex, vec![LinkAttribute::Controller(master)])
}

/// `ip link set dev IFINDEX type bridge_slave learning off neigh_suppress on
/// vlan_tunnel on`: the typed IFLA_LINKINFO slave-data path
/// (docs/netlink.md). iproute2 names the kind `bridge_slave` in
/// IFLA_INFO_KIND (not IFLA_INFO_PORT_KIND); the kernel takes the port ops
/// from the current master (`rtnl_newlink`). IFLA_INFO_SLAVE_DATA is
/// netlink-packet-route's `InfoPortData`.
pub fn bridge_port_flags(ifindex: u32) -> TopologyRequest {
    change_link(
        ifindex,
        vec![LinkAttribute::LinkInfo(vec![
            kind("bridge_slave"),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![
                InfoBridgePort::Learning(false),
                InfoBridgePort::NeighSupress(true),
                InfoBridgePort::VlanTunnel(true),
            ])),
        ])],
    )
}

/// `ip link set dev IFINDEX up`: IFF_UP in ifi_flags, masked by ifi_change.
pub fn set_up(ifindex: u32) -> TopologyRequest {
    request(
        0,
        RouteNetlinkMessage::NewLink(link_message(AddressFamily::Unspec, ifindex, true, vec![])),
    )
}

/// `ip link add link BRIDGE name NAME type vlan id VID`: the SVI, the VLAN
/// upper device the bridge's ARP/ND suppression looks up
/// (`br_arp_nd_proxy.c`: `__vlan_find_dev_deep_rcu(br->dev, proto, vid)`).
pub fn svi_add(bridge: u32, name: &str, vid: u16) -> TopologyRequest {
    new_link(vec![
        LinkAttribute::Link(bridge),
        LinkAttribute::IfName(name.to_owned()),
        LinkAttribute::LinkInfo(vec![
            kind("vlan"),
            LinkInfo::Data(InfoData::Vlan(vec![InfoVlan::Id(vid)])),
        ]),
    ])
}

/// `bridge vlan add dev IFINDEX vid VID [self]`: RTM_SETLINK, AF_BRIDGE,
/// IFLA_AF_SPEC { [IFLA_BRIDGE_FLAGS = SELF], IFLA_BRIDGE_VLAN_INFO { flags
/// 0, vid } }. Flags 0 = a tagged member that is not the PVID; re-adding an
/// existing VLAN with flags 0 also clears pvid/untagged (`__vlan_flags_update`).
/// `bridge_self` targets the bridge device's own VLAN table (what the SVI
/// sends and receives on); netlink-packet-route calls BRIDGE_FLAGS_SELF
/// `BridgeFlag::LowerDev`.
pub fn bridge_vlan_add(ifindex: u32, vid: u16, bridge_self: bool) -> TopologyRequest {
    let mut spec = Vec::with_capacity(2);
    if bridge_self {
        spec.push(AfSpecBridge::Flags(BridgeFlag::LowerDev));
    }
    spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo {
        flags: BridgeVlanInfoFlags::empty(),
        vid,
    }));
    set_bridge_af_spec(ifindex, spec)
}

/// `bridge vlan add dev IFINDEX vid VID tunnel_info id VNI`: IFLA_AF_SPEC {
/// IFLA_BRIDGE_VLAN_TUNNEL_INFO { ID, VID, FLAGS 0 } }. The VLAN must already
/// be a member and the port must have `vlan_tunnel on`
/// (`br_process_vlan_tunnel_info`).
pub fn vlan_tunnel_add(ifindex: u32, vid: u16, vni: u32) -> TopologyRequest {
    set_bridge_af_spec(
        ifindex,
        vec![AfSpecBridge::VlanTunnelInfo(vec![
            BridgeVlanTunnelInfo::Id(vni),
            BridgeVlanTunnelInfo::Vid(vid),
            BridgeVlanTunnelInfo::Flags(BridgeVlanInfoFlags::empty()),
        ])],
    )
}

/// `ip link del dev IFINDEX`: RTM_DELLINK, AF_UNSPEC, the device by index
/// and no attributes (`rtnl_dellink`; iproute2 resolves the name itself).
/// Retiring a VNI deletes the SVI evpnd created for its VLAN this way;
/// deleting a VLAN upper device also flushes its neighbours and addresses.
pub fn link_del(ifindex: u32) -> TopologyRequest {
    request(
        0,
        RouteNetlinkMessage::DelLink(link_message(AddressFamily::Unspec, ifindex, false, vec![])),
    )
}

/// `bridge vlan del dev IFINDEX vid VID [self]`: RTM_DELLINK, AF_BRIDGE,
/// IFLA_AF_SPEC { [IFLA_BRIDGE_FLAGS = SELF], IFLA_BRIDGE_VLAN_INFO { flags
/// 0, vid } } (`br_dellink` -> `br_afspec(RTM_DELLINK)` -> `br_vlan_info`).
/// On a port (`nbp_vlan_delete` -> `__vlan_del`) this also drops the VLAN's
/// tunnel_info mapping (`vlan_tunnel_info_del(vg, v)` in `__vlan_del`,
/// net/bridge/br_vlan.c), so no separate tunnel_info delete is needed; with
/// `bridge_self` it removes the VLAN from the bridge's own table
/// (`br_vlan_delete`), which also flushes the bridge's local FDB entry for it.
pub fn bridge_vlan_del(ifindex: u32, vid: u16, bridge_self: bool) -> TopologyRequest {
    let mut spec = Vec::with_capacity(2);
    if bridge_self {
        spec.push(AfSpecBridge::Flags(BridgeFlag::LowerDev));
    }
    spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo {
        flags: BridgeVlanInfoFlags::empty(),
        vid,
    }));
    request(
        0,
        RouteNetlinkMessage::DelLink(link_message(
            AddressFamily::Bridge,
            ifindex,
            false,
            vec![LinkAttribute::AfSpecBridge(spec)],
        )),
    )
}

fn dump(message: LinkMessage) -> TopologyRequest {
    TopologyRequest {
        flags: 0,
        dump: true,
        message: RequestMessage::Route(RouteNetlinkMessage::GetLink(message)),
    }
}

/// The VNI filter requests (RTM_NEWTUNNEL / RTM_GETTUNNEL): the message
/// type is [`TunnelMessage`], local because the crates lack it (gap 1).
fn tunnel_request(dump: bool, message: TunnelMessage) -> TopologyRequest {
    TopologyRequest {
        flags: 0,
        dump,
        message: RequestMessage::Tunnel(message),
    }
}

/// `bridge vni add dev IFINDEX vni VNI`.
pub fn vni_add(ifindex: u32, vni: u32) -> TopologyRequest {
    tunnel_request(
        false,
        TunnelMessage {
            message_type: RTM_NEWTUNNEL,
            ifindex,
            entries: vec![VniFilterEntry(vec![VniFilterAttr::Start(vni)])],
        },
    )
}

/// RTM_DELTUNNEL (rtnetlink.h); netlink-packet-route 0.34 lacks it like
/// the other two tunnel messages (gap 1), `nl/tunnel.rs` has only those.
pub const RTM_DELTUNNEL: u16 = 121;

/// `bridge vni delete dev IFINDEX vni VNI` (iproute2 6.1 refuses the short
/// `del` its help text shows): RTM_DELTUNNEL with one
/// VXLAN_VNIFILTER_ENTRY (`vxlan_vnifilter_process` -> `vxlan_vni_del`,
/// drivers/net/vxlan/vxlan_vnifilter.c).
pub fn vni_del(ifindex: u32, vni: u32) -> TopologyRequest {
    tunnel_request(
        false,
        TunnelMessage {
            message_type: RTM_DELTUNNEL,
            ifindex,
            entries: vec![VniFilterEntry(vec![VniFilterAttr::Start(vni)])],
        },
    )
}

/// `bridge vni show dev IFINDEX`: RTM_GETTUNNEL dump (`vxlan_vnifilter_dump`
/// takes the device from tunnel_msg.ifindex).
pub fn vni_dump(ifindex: u32) -> TopologyRequest {
    tunnel_request(
        true,
        TunnelMessage {
            message_type: RTM_GETTUNNEL,
            ifindex,
            entries: Vec::new(),
        },
    )
}

/// RTM_GETLINK dump of every link (`ip -d link show` without the VF mask).
pub fn link_dump() -> TopologyRequest {
    dump(link_message(AddressFamily::Unspec, 0, false, vec![]))
}

/// RTM_GETLINK AF_BRIDGE dump with RTEXT_FILTER_BRVLAN: every bridge port's
/// and bridge's VLANs and tunnel mappings (`bridge -d vlan tunnelshow`).
pub fn bridge_vlan_dump() -> TopologyRequest {
    dump(link_message(
        AddressFamily::Bridge,
        0,
        false,
        vec![LinkAttribute::ExtMask(vec![LinkExtentMask::Brvlan])],
    ))
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
    fn check(fixture_text: &str, request: TopologyRequest) {
        let all = fixture(fixture_text);
        let theirs = crate::nl::Messages::new(&all)
            .filter_map(Result::ok)
            .filter(|(h, _)| h.message_type == request.message_type())
            .last();
        let Some((h, payload)) = theirs else {
            panic!(
                "no message of type {} in: {fixture_text}",
                request.message_type()
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

    /// Retiring a VNI (`setup/retire.rs`). The SVI of the capture is a
    /// device named vlan10 at ifindex 10.
    #[test]
    fn retire_requests_match_iproute2() {
        check(
            include_str!("../../tests/fixtures/netlink/link_del.hex"),
            link_del(10),
        );
        check(
            include_str!("../../tests/fixtures/netlink/vlan_port_del.hex"),
            bridge_vlan_del(3, 10, false),
        );
        check(
            include_str!("../../tests/fixtures/netlink/vlan_self_del.hex"),
            bridge_vlan_del(2, 10, true),
        );
        check(
            include_str!("../../tests/fixtures/netlink/vni_del.hex"),
            vni_del(3, 10),
        );
    }

    #[test]
    fn tunnel_requests_match_iproute2() {
        check(
            include_str!("../../tests/fixtures/netlink/vni_add.hex"),
            vni_add(3, 10),
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
        vni_dump(3).encode_into(header.sequence, &mut ours);
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
            .find(|(h, p)| {
                h.message_type == RTM_GETLINK && p.first() == Some(&super::super::AF_BRIDGE)
            });
        let Some((header, payload)) = theirs else {
            panic!("no AF_BRIDGE RTM_GETLINK in the fixture");
        };
        let mut ours = Vec::new();
        bridge_vlan_dump().encode_into(header.sequence, &mut ours);
        assert_eq!(ours.get(16..), Some(payload));
        assert_eq!(ours.get(6..8), Some(&header.flags.to_ne_bytes()[..]));
    }
}
