//! The configuration as deserialized, before validation: every struct
//! `deny_unknown_fields`, so a typo is an error rather than an ignored key.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) bgp: RawBgp,
    #[serde(default)]
    pub(super) neighbors: Vec<RawNeighbor>,
    #[serde(default)]
    pub(super) listen_ranges: Vec<RawListenRange>,
    pub(super) vtep: Option<RawVtep>,
    #[serde(default)]
    pub(super) control: RawControl,
    #[serde(default)]
    pub(super) log: RawLog,
    #[serde(default)]
    pub(super) metrics: RawMetrics,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBgp {
    pub(super) asn: u32,
    pub(super) router_id: String,
    pub(super) listen: Option<Vec<String>>,
    pub(super) port: Option<u16>,
    pub(super) cluster_id: Option<String>,
    pub(super) hold_time: Option<u16>,
    pub(super) keepalive: Option<u16>,
    pub(super) connect_retry: Option<u32>,
    pub(super) extended_message: Option<bool>,
    pub(super) families: Option<Vec<String>>,
    pub(super) peer_queue_bytes: Option<usize>,
    #[serde(default)]
    pub(super) graceful_restart: RawGracefulRestart,
}

/// `[bgp.graceful_restart]` (RFC 4724).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGracefulRestart {
    pub(super) enabled: Option<bool>,
    pub(super) restart_time: Option<u16>,
    pub(super) stale_routes_time: Option<u32>,
    pub(super) select_defer_time: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNeighbor {
    pub(super) address: String,
    pub(super) port: Option<u16>,
    pub(super) remote_as: u32,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) route_reflector_client: bool,
    #[serde(default)]
    pub(super) passive: bool,
    pub(super) families: Option<Vec<String>>,
    pub(super) hold_time: Option<u16>,
    pub(super) local_address: Option<String>,
    pub(super) password: Option<super::Secret>,
    pub(super) ttl_security: Option<u32>,
    pub(super) max_prefixes: Option<RawMaxPrefixes>,
    pub(super) peer_damping: Option<RawPeerDamping>,
}

/// `neighbors[].peer_damping = false`, or `= { initial_ms = .., max_secs =
/// .., stable_secs = .. }` (any key left out keeps its default).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum RawPeerDamping {
    Enabled(bool),
    Tuned(RawPeerDampingTimes),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPeerDampingTimes {
    pub(super) initial_ms: Option<u64>,
    pub(super) max_secs: Option<u64>,
    pub(super) stable_secs: Option<u64>,
}

/// `[[listen_ranges]]`: the neighbour keys that make sense for a session
/// accepted from a prefix (no address, port, passive or local_address).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListenRange {
    pub(super) prefix: String,
    pub(super) max_sessions: Option<u32>,
    pub(super) remote_as: u32,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) route_reflector_client: bool,
    pub(super) families: Option<Vec<String>>,
    pub(super) hold_time: Option<u16>,
    pub(super) password: Option<super::Secret>,
    pub(super) ttl_security: Option<u32>,
    pub(super) max_prefixes: Option<RawMaxPrefixes>,
    pub(super) peer_damping: Option<RawPeerDamping>,
}

/// `neighbors[].max_prefixes = { limit = N, ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaxPrefixes {
    pub(super) limit: u32,
    pub(super) warning_percent: Option<u8>,
    pub(super) action: Option<String>,
    pub(super) restart_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVtep {
    pub(super) bridge: Option<String>,
    pub(super) vxlan_device: Option<String>,
    pub(super) local_ip: String,
    pub(super) vxlan_port: Option<u16>,
    pub(super) bridge_mac: Option<String>,
    #[serde(default)]
    pub(super) vnis: Vec<RawVni>,
    pub(super) dataplane: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVni {
    pub(super) vlan: u32,
    pub(super) vni: u32,
    pub(super) rd: Option<String>,
    pub(super) import_rts: Option<Vec<String>>,
    pub(super) export_rts: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawControl {
    pub(super) socket: Option<String>,
    pub(super) mode: Option<RawMode>,
    pub(super) owner: Option<RawId>,
    pub(super) group: Option<RawId>,
    pub(super) admin_group: Option<RawId>,
}

/// `group = "evpnd-admin"` (a name) or `group = 1001` (a number; a string
/// of digits, as an environment override gives, is a number too).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawId {
    Int(i64),
    Text(String),
}

/// `mode = "0600"` (octal string) or `mode = 0o600` (TOML integer).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawMode {
    Int(i64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub(super) level: Option<String>,
    pub(super) format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    pub(super) listen: Option<String>,
}
