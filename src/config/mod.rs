//! Typed daemon configuration.
//!
//! One TOML file plus environment overrides `EVPND__SECTION__KEY` (double
//! underscore between path segments, e.g. `EVPND__BGP__ASN=65001`; the list
//! keys `bgp.listen` and `bgp.families` take comma-separated values).
//! Loading happens in two steps: the `config` crate merges the sources into
//! the `Raw*` structs below (every struct `deny_unknown_fields`, so a typo is
//! an error rather than a silently ignored key), then [`Config::validate`]
//! turns them into the typed [`Config`], naming the offending key in every
//! error, e.g. `neighbors[2].address: "198.19.0.x" is not an IP address`.
//!
//! Addresses are read as strings and parsed here rather than by serde so the
//! error message is ours (with the key path), not a generic serde one.

use evpnd_core::evpn::{EvpnInstancesSpec, VniSpec};
pub use evpnd_core::session::graceful_restart::GracefulRestartConfig;
use evpnd_wire::Family;
use evpnd_wire::extcomm::RouteTarget;
use evpnd_wire::rd::RouteDistinguisher;
use ipnetwork::IpNetwork;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// Environment variables starting with this prefix override file keys.
pub const ENV_PREFIX: &str = "EVPND__";
/// Default control socket path.
pub const DEFAULT_SOCKET: &str = "/run/evpnd/evpnd.sock";
/// Default control socket permission bits (owner read/write only).
pub const DEFAULT_SOCKET_MODE: u32 = 0o600;
/// RFC 4271 section 10: suggested HoldTime is 90 seconds.
pub const DEFAULT_HOLD_TIME: u16 = 90;
/// RFC 4271 section 10: suggested ConnectRetryTime is 120 s; we default to 30 s
/// as FRR and GoBGP do, because a route reflector restart should not leave
/// VTEPs isolated for two minutes.
pub const DEFAULT_CONNECT_RETRY_SECS: u32 = 30;
/// IANA: BGP port (RFC 4271 section 8.2.1.1... TCP port 179).
pub const DEFAULT_BGP_PORT: u16 = 179;
/// RFC 8365 section 5.1.3: IANA-assigned VXLAN UDP port.
pub const DEFAULT_VXLAN_PORT: u16 = 4789;
/// Largest VLAN ID usable on a bridge (IEEE 802.1Q: 0 and 4095 are reserved).
pub const MAX_VLAN: u16 = 4094;
/// Default `bgp.peer_queue_bytes`: 64 MiB, ~1.8M routes of EVPN type-2
/// churn queued for one peer (~36 octets each when packed).
pub const DEFAULT_PEER_QUEUE_BYTES: usize = 64 << 20;
/// The smallest `bgp.peer_queue_bytes`, 1 MiB: below it, what arrives
/// while a reconnected peer's writer drains its whole table (one chunk)
/// can fill the queue again and reset a peer that does read.
pub const MIN_PEER_QUEUE_BYTES: usize = 1 << 20;
/// Default `bgp.graceful_restart.restart_time`: 120 s, FRR's and GoBGP's
/// default too; long enough for a restart under systemd, short enough that
/// a node that never comes back is forgotten within two minutes.
pub const DEFAULT_GR_RESTART_SECS: u16 = 120;
/// Default `bgp.graceful_restart.stale_routes_time`: 360 s, as FRR.
pub const DEFAULT_GR_STALE_ROUTES_SECS: u32 = 360;
/// Default `bgp.graceful_restart.select_defer_time`: 60 s. Shorter than
/// the restart time, so peers still hold our routes when the deferral ends
/// (FRR's 360 s would outlive their restart timers).
pub const DEFAULT_GR_SELECT_DEFER_SECS: u32 = 60;
/// VNIs are 24 bits (RFC 7348 section 5); the rule belongs to the VNI type.
pub use evpnd_core::dataplane::model::MAX_VNI;
/// RFC 6793 section 9: AS_TRANS, never a real AS.
const AS_TRANS: u32 = 23456;
/// Linux IFNAMSIZ is 16 including the terminating NUL.
const MAX_IFNAME_LEN: usize = 15;
/// Keys whose environment value is a comma-separated list.
const ENV_LIST_KEYS: [&str; 2] = ["bgp.listen", "bgp.families"];

/// Why a configuration was refused. Every variant names the file; `Invalid`
/// and `Parse` name the key (the `config` crate puts the key in its message).
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {key}: {message}")]
    Invalid {
        file: String,
        key: String,
        message: String,
    },
}

impl ConfigError {
    /// The key the error is about, when known precisely.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Validated configuration
// ---------------------------------------------------------------------------

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub bgp: BgpConfig,
    pub neighbors: Vec<NeighborConfig>,
    /// `[[listen_ranges]]`: dynamic neighbours.
    pub listen_ranges: Vec<ListenRange>,
    /// Present when this node is a VTEP.
    pub vtep: Option<VtepConfig>,
    pub control: ControlConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
}

/// `[bgp]`: the local speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct BgpConfig {
    /// Local AS, 4 octets allowed (RFC 6793).
    pub asn: u32,
    /// BGP Identifier (RFC 4271 section 4.2, RFC 6286).
    pub router_id: Ipv4Addr,
    /// Addresses to accept BGP connections on.
    pub listen: Vec<IpAddr>,
    /// TCP port to listen on.
    pub port: u16,
    /// CLUSTER_ID for route reflection (RFC 4456 section 7); router_id if unset.
    pub cluster_id: Ipv4Addr,
    /// Proposed Hold Time in seconds: 0 (no keepalives) or >= 3 (RFC 4271 section 4.2).
    pub hold_time: u16,
    /// KEEPALIVE interval in seconds (RFC 4271 section 4.4: hold/3 by default).
    pub keepalive: u16,
    /// ConnectRetryTimer value (RFC 4271 section 8), jittered (section 10).
    pub connect_retry: Duration,
    /// Advertise the Extended Message capability (RFC 8654).
    pub extended_message: bool,
    /// Address families advertised by default (RFC 4760 Multiprotocol capability).
    pub families: Vec<Family>,
    /// Octets of UPDATEs that may wait for one peer that does not read them
    /// before its session is closed (Cease / Out of Resources, RFC 4486
    /// section 4); ADR 0007.
    pub peer_queue_bytes: usize,
    /// Graceful Restart (RFC 4724), both roles; `None` when disabled.
    pub graceful_restart: Option<GracefulRestartConfig>,
}

impl BgpConfig {
    /// The socket addresses to listen on.
    pub fn listen_addrs(&self) -> Vec<SocketAddr> {
        self.listen
            .iter()
            .map(|ip| SocketAddr::new(*ip, self.port))
            .collect()
    }
}

/// `[[neighbors]]`: one configured peer, with defaults from `[bgp]` resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighborConfig {
    pub address: IpAddr,
    /// TCP port to connect to (179 unless overridden; useful in labs).
    pub port: u16,
    pub remote_as: u32,
    pub description: Option<String>,
    /// RFC 4456: routes from this peer are reflected to other peers.
    pub route_reflector_client: bool,
    /// Never initiate the TCP connection; wait for the peer (FRR `neighbor passive`).
    pub passive: bool,
    /// Families to negotiate with this peer (neighbor override or `bgp.families`).
    pub families: Vec<Family>,
    pub hold_time: u16,
    pub keepalive: u16,
    /// Source address for outgoing connections.
    pub local_address: Option<IpAddr>,
    /// TCP-MD5 key (RFC 2385, FRR's `neighbor X password`); never printed.
    pub password: Option<Secret>,
    /// GTSM (RFC 5082, FRR's `ttl-security hops N`): the peer is at most
    /// this many hops away (1-254); we send with TTL 255 and drop what
    /// arrives below 256 - N.
    pub ttl_security: Option<u8>,
    /// The most paths this peer may send, and what happens past it.
    pub max_prefixes: Option<MaxPrefixes>,
    /// How long a failing session waits before it starts again.
    pub peer_damping: PeerDamping,
}

/// `neighbors[].peer_damping`: RFC 4271 section 8.1.1's optional
/// DampPeerOscillations. After a session fails, the next start waits
/// `initial`, doubling per consecutive failure up to `max` (jittered, RFC
/// 4271 section 10); a session Established for `stable` clears the count.
/// `evpnd clear neighbors` clears it too. All zero: restart at once, as
/// FRR does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerDamping {
    pub initial: Duration,
    pub max: Duration,
    pub stable: Duration,
}

impl PeerDamping {
    /// A flapping peer is taken back after 0.25 s, 0.5 s, 1 s ... 120 s.
    pub const DEFAULT: Self = Self {
        initial: Duration::from_millis(250),
        max: Duration::from_secs(120),
        stable: Duration::from_secs(60),
    };
    /// `peer_damping = false`: no wait between attempts.
    pub const OFF: Self = Self {
        initial: Duration::ZERO,
        max: Duration::ZERO,
        stable: Duration::from_secs(60),
    };

    pub fn is_off(&self) -> bool {
        self.max.is_zero()
    }
}

impl std::fmt::Display for PeerDamping {
    /// "0.25 s doubling to 120 s, forgotten after 60 s established", or "off".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_off() {
            return f.write_str("off");
        }
        write!(
            f,
            "{} s doubling to {} s, forgotten after {} s established",
            self.initial.as_secs_f64(),
            self.max.as_secs_f64(),
            self.stable.as_secs()
        )
    }
}

/// `neighbors[].max_prefixes` (FRR: `neighbor X maximum-prefix N [threshold]
/// [warning-only] [restart M]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPrefixes {
    /// More paths than this exceed the limit.
    pub limit: u32,
    /// A warning is logged from this share of `limit` on (1-100).
    pub warning_percent: u8,
    pub action: MaxPrefixAction,
    /// After a teardown, the session starts again after this long; `None`:
    /// it stays down until `evpnd clear neighbors`, a reload that changes
    /// the neighbour, or a restart.
    pub restart_after: Option<Duration>,
}

impl std::fmt::Display for MaxPrefixes {
    /// "limit 1000, warning at 75%, teardown, restart after 300 s".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "limit {}, warning at {}%",
            self.limit, self.warning_percent
        )?;
        match (self.action, self.restart_after) {
            (MaxPrefixAction::Warn, _) => f.write_str(", warn only"),
            (MaxPrefixAction::Teardown, Some(after)) => {
                write!(f, ", teardown, restart after {} s", after.as_secs())
            }
            (MaxPrefixAction::Teardown, None) => f.write_str(", teardown, no restart"),
        }
    }
}

/// What happens when a peer exceeds its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxPrefixAction {
    /// End the session with Cease / Maximum Number of Prefixes Reached
    /// (RFC 4486 section 4); its routes are withdrawn.
    Teardown,
    /// Log and count, keep the routes.
    Warn,
}

/// `[[listen_ranges]]`: sessions accepted from any address of `prefix`
/// (dynamic neighbours, FRR's `bgp listen range`), each configured as
/// `template` says, at most `max_sessions` at a time. A configured
/// neighbour inside the range is that neighbour, not a dynamic one.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenRange {
    pub prefix: IpNetwork,
    pub max_sessions: u32,
    /// The neighbour every session from the range is: passive, its address
    /// the range's network address until [`ListenRange::neighbor`] sets the
    /// peer's.
    pub template: NeighborConfig,
}

impl ListenRange {
    /// The configuration of the session accepted from `address`.
    pub fn neighbor(&self, address: IpAddr) -> NeighborConfig {
        NeighborConfig {
            address,
            ..self.template.clone()
        }
    }

    /// Whether `address` is in the range (an IPv4 peer on a dual-stack
    /// socket arrives v4-mapped; callers pass it canonical).
    pub fn contains(&self, address: IpAddr) -> bool {
        self.prefix.contains(address)
    }
}

impl Config {
    /// The listen range `address` falls in (ranges never overlap).
    pub fn listen_range_of(&self, address: IpAddr) -> Option<&ListenRange> {
        self.listen_ranges.iter().find(|r| r.contains(address))
    }
}

impl NeighborConfig {
    /// iBGP when the peer is in our AS (RFC 4271 section 1.1, "internal peer").
    pub fn is_internal(&self, local_asn: u32) -> bool {
        self.remote_as == local_asn
    }
}

/// Who programs the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataplane {
    /// Program the Linux bridge/vxlan device over netlink.
    Linux,
    /// BGP only: compute state but touch nothing in the kernel.
    None,
}

/// `[vtep]`: present when this node terminates VXLAN tunnels.
#[derive(Debug, Clone, PartialEq)]
pub struct VtepConfig {
    pub bridge: String,
    pub vxlan_device: String,
    /// The VTEP source address; advertised as next hop and PMSI endpoint.
    pub local_ip: IpAddr,
    pub vxlan_port: u16,
    pub bridge_mac: Option<[u8; 6]>,
    pub vnis: Vec<VniConfig>,
    pub dataplane: Dataplane,
}

impl VtepConfig {
    /// What the EVPN core derives this VTEP's instances from (the core
    /// takes its own types; config builds them).
    pub fn evpn_spec(&self, router_id: Ipv4Addr, asn: u32) -> EvpnInstancesSpec {
        EvpnInstancesSpec {
            local_vtep: self.local_ip,
            router_id,
            asn,
            vnis: self
                .vnis
                .iter()
                .map(|v| VniSpec {
                    vlan: v.vlan,
                    vni: v.vni,
                    rd: v.rd,
                    import_rts: v.import_rts.clone(),
                    export_rts: v.export_rts.clone(),
                })
                .collect(),
        }
    }
}

/// One VLAN <-> VNI mapping with its EVPN instance parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct VniConfig {
    pub vlan: u16,
    pub vni: u32,
    /// Explicit RD; `None` means auto-derived (RFC 7432 section 7.9:
    /// router-id:n, see `evpn::EvpnInstances::from_spec`).
    pub rd: Option<RouteDistinguisher>,
    /// Import RTs; the auto `ASN:VNI` (RFC 8365 section 5.1.2.1, see
    /// `evpn::auto_route_target`) when not configured.
    pub import_rts: Vec<RouteTarget>,
    /// Export RTs; the auto `ASN:VNI` when not configured.
    pub export_rts: Vec<RouteTarget>,
}

/// `[control]`: the local control socket.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlConfig {
    pub socket: PathBuf,
    /// Permission bits applied to the socket file.
    pub mode: u32,
    /// The socket file's owner (`control.owner`); the daemon's user when
    /// `None`.
    pub owner: Option<SystemId>,
    /// The socket file's group (`control.group`); the daemon's group when
    /// `None`.
    pub group: Option<SystemId>,
    /// The group whose members may send the requests that change state
    /// (reload, clear, upgrade), besides root and the daemon's own user.
    /// `None`: whoever can open the socket may send every request.
    pub admin_group: Option<SystemId>,
}

/// A user or group of `[control]`, resolved (through NSS, so LDAP and
/// sssd accounts count) when the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemId {
    /// The uid or gid.
    pub id: u32,
    /// The name it was given by, or the system's name for the number;
    /// for messages only.
    pub name: Option<String>,
}

impl SystemId {
    /// `group 'evpnd-admin'` or `gid 1001`, for messages; `kind` is
    /// "user" or "group".
    pub fn describe(&self, kind: &str) -> String {
        match &self.name {
            Some(name) => format!("{kind} '{name}'"),
            None if kind == "user" => format!("uid {}", self.id),
            None => format!("gid {}", self.id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// A tracing filter (`info`, `evpnd=debug,warn`); RUST_LOG wins when set.
    pub level: String,
    pub format: LogFormat,
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsConfig {
    /// Where to serve metrics; off when `None`.
    pub listen: Option<SocketAddr>,
}

/// Parse a family name as used in the config and shown by `show neighbors`.
pub fn parse_family(name: &str) -> Option<Family> {
    match name {
        "l2vpn-evpn" => Some(Family::L2VPN_EVPN),
        "ipv4-unicast" => Some(Family::IPV4_UNICAST),
        "ipv6-unicast" => Some(Family::IPV6_UNICAST),
        // RT-Constrain, RFC 4684 (AFI 1 / SAFI 132): GoBGP's afi-safi-name.
        "rtc" => Some(Family::IPV4_RTC),
        _ => None,
    }
}

pub mod diff;
mod load;
mod raw;
pub mod secret;
pub use secret::Secret;
mod validate;

#[cfg(test)]
mod tests;
