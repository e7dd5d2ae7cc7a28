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
use evpnd_wire::Family;
use evpnd_wire::extcomm::RouteTarget;
use evpnd_wire::rd::RouteDistinguisher;
use serde::Deserialize;
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
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Raw (deserialized, not yet validated) configuration
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    bgp: RawBgp,
    #[serde(default)]
    neighbors: Vec<RawNeighbor>,
    vtep: Option<RawVtep>,
    #[serde(default)]
    control: RawControl,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    metrics: RawMetrics,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBgp {
    asn: u32,
    router_id: String,
    listen: Option<Vec<String>>,
    port: Option<u16>,
    cluster_id: Option<String>,
    hold_time: Option<u16>,
    keepalive: Option<u16>,
    connect_retry: Option<u32>,
    extended_message: Option<bool>,
    families: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeighbor {
    address: String,
    port: Option<u16>,
    remote_as: u32,
    description: Option<String>,
    #[serde(default)]
    route_reflector_client: bool,
    #[serde(default)]
    passive: bool,
    families: Option<Vec<String>>,
    hold_time: Option<u16>,
    local_address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVtep {
    bridge: Option<String>,
    vxlan_device: Option<String>,
    local_ip: String,
    vxlan_port: Option<u16>,
    bridge_mac: Option<String>,
    #[serde(default)]
    vnis: Vec<RawVni>,
    dataplane: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVni {
    vlan: u32,
    vni: u32,
    rd: Option<String>,
    import_rts: Option<Vec<String>>,
    export_rts: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    socket: Option<String>,
    mode: Option<RawMode>,
}

/// `mode = "0600"` (octal string) or `mode = 0o600` (TOML integer).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawMode {
    Int(i64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<String>,
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

impl Config {
    /// Load `path`, applying `EVPND__*` overrides from the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    /// Load `path` with an explicit environment (tests pass a fixed map).
    pub fn load_with_env(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Self::from_toml_str_with_env(&text, &file, env)
    }

    /// Parse a TOML document without environment overrides (for tests).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Self::from_toml_str_with_env(text, "<string>", std::iter::empty())
    }

    /// Parse a TOML document named `file` (for messages) with overrides from `env`.
    pub fn from_toml_str_with_env(
        text: &str,
        file: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let parse_err = |e: config::ConfigError| ConfigError::Parse {
            file: file.to_string(),
            message: dot_after_index(&e.to_string()),
        };
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml));
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(var, _)| var.starts_with(ENV_PREFIX))
            .collect();
        // Deterministic order, whatever order the environment came in.
        overrides.sort();
        for (var, value) in overrides {
            let key = var[ENV_PREFIX.len()..]
                .split("__")
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
                .join(".");
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(ConfigError::Invalid {
                    file: file.to_string(),
                    key: var,
                    message: "malformed override variable name".into(),
                });
            }
            let value: config::Value = if ENV_LIST_KEYS.contains(&key.as_str()) {
                value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .into()
            } else {
                value.into()
            };
            builder = builder.set_override(key, value).map_err(parse_err)?;
        }
        let raw: RawConfig = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(parse_err)?;
        Self::validate(raw).map_err(|(key, message)| ConfigError::Invalid {
            file: file.to_string(),
            key,
            message,
        })
    }

    /// One-line human summary (for `evpnd check-config`).
    pub fn summary(&self) -> String {
        let clients = self
            .neighbors
            .iter()
            .filter(|n| n.route_reflector_client)
            .count();
        let role = match &self.vtep {
            None => "route server/reflector (no dataplane)".to_string(),
            Some(v) => format!(
                "VTEP {} with {} VNI(s), dataplane {}",
                v.local_ip,
                v.vnis.len(),
                match v.dataplane {
                    Dataplane::Linux => "linux",
                    Dataplane::None => "none",
                }
            ),
        };
        format!(
            "AS {}, router-id {}, {} neighbor(s) ({} route-reflector client(s)), {}, control socket {}",
            self.bgp.asn,
            self.bgp.router_id,
            self.neighbors.len(),
            clients,
            role,
            self.control.socket.display()
        )
    }

    fn validate(raw: RawConfig) -> Result<Config, (String, String)> {
        let bgp = validate_bgp(raw.bgp)?;
        let mut neighbors = Vec::with_capacity(raw.neighbors.len());
        let mut seen = HashSet::new();
        for (i, n) in raw.neighbors.into_iter().enumerate() {
            let key = format!("neighbors[{i}]");
            let n = validate_neighbor(n, &key, &bgp)?;
            if !seen.insert(n.address) {
                return Err((
                    format!("{key}.address"),
                    format!("{} is configured twice", n.address),
                ));
            }
            neighbors.push(n);
        }
        let vtep = raw.vtep.map(|v| validate_vtep(v, bgp.asn)).transpose()?;
        Ok(Config {
            bgp,
            neighbors,
            vtep,
            control: validate_control(raw.control)?,
            log: validate_log(raw.log)?,
            metrics: MetricsConfig {
                listen: raw
                    .metrics
                    .listen
                    .map(|s| {
                        s.parse::<SocketAddr>().map_err(|_| {
                            (
                                "metrics.listen".to_string(),
                                format!("{s:?} is not an address:port"),
                            )
                        })
                    })
                    .transpose()?,
            },
        })
    }
}

/// The `config` crate writes array element keys as `neighbors[0]remote_as`;
/// print them as `neighbors[0].remote_as`, the form our own errors use.
fn dot_after_index(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 4);
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ']' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic()) {
            out.push('.');
        }
    }
    out
}

type Checked<T> = Result<T, (String, String)>;

fn ip(key: &str, s: &str) -> Checked<IpAddr> {
    s.parse()
        .map_err(|_| (key.to_string(), format!("{s:?} is not an IP address")))
}

fn ipv4(key: &str, s: &str) -> Checked<Ipv4Addr> {
    s.parse()
        .map_err(|_| (key.to_string(), format!("{s:?} is not an IPv4 address")))
}

fn families(key: &str, names: &[String]) -> Checked<Vec<Family>> {
    if names.is_empty() {
        return Err((key.to_string(), "at least one family is required".into()));
    }
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let f = parse_family(name).ok_or_else(|| {
            (
                format!("{key}[{i}]"),
                format!("unknown family {name:?} (known: l2vpn-evpn, ipv4-unicast, ipv6-unicast)"),
            )
        })?;
        if out.contains(&f) {
            return Err((format!("{key}[{i}]"), format!("{name:?} is listed twice")));
        }
        out.push(f);
    }
    Ok(out)
}

/// RFC 4271 section 4.2: "the Hold Time MUST be either zero or at least three seconds".
fn hold_time(key: &str, hold: u16) -> Checked<u16> {
    if hold == 1 || hold == 2 {
        return Err((
            key.to_string(),
            format!(
                "{hold} is not allowed: hold time must be 0 or at least 3 seconds (RFC 4271 section 4.2)"
            ),
        ));
    }
    Ok(hold)
}

fn validate_bgp(raw: RawBgp) -> Checked<BgpConfig> {
    if raw.asn == 0 || raw.asn == AS_TRANS {
        return Err((
            "bgp.asn".into(),
            format!(
                "{} is reserved (0: RFC 7607; 23456: AS_TRANS, RFC 6793)",
                raw.asn
            ),
        ));
    }
    let router_id = ipv4("bgp.router_id", &raw.router_id)?;
    if router_id.is_unspecified() {
        return Err((
            "bgp.router_id".into(),
            "0.0.0.0 is not a valid BGP identifier (RFC 6286 section 2.1)".into(),
        ));
    }
    let listen = match raw.listen {
        None => vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, s)| ip(&format!("bgp.listen[{i}]"), s))
            .collect::<Checked<Vec<_>>>()?,
    };
    let cluster_id = match raw.cluster_id {
        None => router_id,
        Some(s) => ipv4("bgp.cluster_id", &s)?,
    };
    let hold = hold_time("bgp.hold_time", raw.hold_time.unwrap_or(DEFAULT_HOLD_TIME))?;
    let keepalive = match (hold, raw.keepalive) {
        (0, _) => 0,
        (h, None) => h / 3,
        (h, Some(k)) if k == 0 || k >= h => {
            return Err((
                "bgp.keepalive".into(),
                format!("{k} must be between 1 and hold_time - 1 ({})", h - 1),
            ));
        }
        (_, Some(k)) => k,
    };
    let connect_retry = raw.connect_retry.unwrap_or(DEFAULT_CONNECT_RETRY_SECS);
    if connect_retry == 0 {
        return Err((
            "bgp.connect_retry".into(),
            "must be at least 1 second".into(),
        ));
    }
    let fams = match raw.families {
        None => vec![Family::L2VPN_EVPN],
        Some(names) => families("bgp.families", &names)?,
    };
    Ok(BgpConfig {
        asn: raw.asn,
        router_id,
        listen,
        port: raw.port.unwrap_or(DEFAULT_BGP_PORT),
        cluster_id,
        hold_time: hold,
        keepalive,
        connect_retry: Duration::from_secs(u64::from(connect_retry)),
        extended_message: raw.extended_message.unwrap_or(true),
        families: fams,
    })
}

fn validate_neighbor(raw: RawNeighbor, key: &str, bgp: &BgpConfig) -> Checked<NeighborConfig> {
    let address = ip(&format!("{key}.address"), &raw.address)?;
    if raw.remote_as == 0 || raw.remote_as == AS_TRANS {
        return Err((
            format!("{key}.remote_as"),
            format!("{} is reserved", raw.remote_as),
        ));
    }
    if raw.route_reflector_client && raw.remote_as != bgp.asn {
        return Err((
            format!("{key}.route_reflector_client"),
            format!(
                "route reflection is for internal peers (RFC 4456), but remote_as {} differs from bgp.asn {}",
                raw.remote_as, bgp.asn
            ),
        ));
    }
    let local_address = raw
        .local_address
        .map(|s| ip(&format!("{key}.local_address"), &s))
        .transpose()?;
    if let Some(local) = local_address
        && local.is_ipv4() != address.is_ipv4()
    {
        return Err((
            format!("{key}.local_address"),
            format!("{local} and neighbor {address} are not the same address family"),
        ));
    }
    let (hold, keepalive) = match raw.hold_time {
        None => (bgp.hold_time, bgp.keepalive),
        Some(h) => {
            let h = hold_time(&format!("{key}.hold_time"), h)?;
            (h, h / 3)
        }
    };
    let fams = match raw.families {
        None => bgp.families.clone(),
        Some(names) => families(&format!("{key}.families"), &names)?,
    };
    Ok(NeighborConfig {
        address,
        port: raw.port.unwrap_or(DEFAULT_BGP_PORT),
        remote_as: raw.remote_as,
        description: raw.description,
        route_reflector_client: raw.route_reflector_client,
        passive: raw.passive,
        families: fams,
        hold_time: hold,
        keepalive,
        local_address,
    })
}

fn ifname(key: &str, name: String) -> Checked<String> {
    if name.is_empty()
        || name.len() > MAX_IFNAME_LEN
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err((
            key.to_string(),
            format!(
                "{name:?} is not a valid interface name (1-{MAX_IFNAME_LEN} characters, no '/', ':' or spaces)"
            ),
        ));
    }
    Ok(name)
}

fn mac(key: &str, s: &str) -> Checked<[u8; 6]> {
    let bad = || {
        (
            key.to_string(),
            format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"),
        )
    };
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for byte in out.iter_mut() {
        let part = parts.next().ok_or_else(bad)?;
        if part.len() != 2 {
            return Err(bad());
        }
        *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    // Bit 0 of the first octet is the IEEE 802 group bit.
    if out[0] & 1 == 1 || out == [0; 6] {
        return Err((
            key.to_string(),
            format!("{s:?} is not a unicast MAC address"),
        ));
    }
    Ok(out)
}

fn route_targets(
    key: &str,
    list: Option<Vec<String>>,
    auto: Option<RouteTarget>,
    asn: u32,
) -> Checked<Vec<RouteTarget>> {
    match list {
        None => auto.map(|rt| vec![rt]).ok_or_else(|| {
            (
                key.to_string(),
                format!(
                    "required with the 4-octet AS {asn}: RFC 8365 section 5.1.2.1 auto-derives \
                     route targets for 2-octet AS numbers only"
                ),
            )
        }),
        Some(list) if list.is_empty() => Err((
            key.to_string(),
            "an empty list would isolate this VNI; omit the key for the auto ASN:VNI target".into(),
        )),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parse()
                    .map_err(|e: evpnd_wire::extcomm::ParseAdminValueError| {
                        (format!("{key}[{i}]"), e.to_string())
                    })
            })
            .collect(),
    }
}

fn validate_vtep(raw: RawVtep, asn: u32) -> Checked<VtepConfig> {
    let local_ip = ip("vtep.local_ip", &raw.local_ip)?;
    if local_ip.is_unspecified() || local_ip.is_multicast() {
        return Err((
            "vtep.local_ip".into(),
            format!("{local_ip} cannot be a VTEP source address"),
        ));
    }
    let dataplane = match raw.dataplane.as_deref() {
        None | Some("linux") => Dataplane::Linux,
        Some("none") => Dataplane::None,
        Some(other) => {
            return Err((
                "vtep.dataplane".into(),
                format!("{other:?} is not one of \"linux\", \"none\""),
            ));
        }
    };
    let mut vlans = HashSet::new();
    let mut vni_set = HashSet::new();
    let mut vnis = Vec::with_capacity(raw.vnis.len());
    for (i, v) in raw.vnis.into_iter().enumerate() {
        let key = format!("vtep.vnis[{i}]");
        let vlan = u16::try_from(v.vlan)
            .ok()
            .filter(|vl| (1..=MAX_VLAN).contains(vl))
            .ok_or_else(|| {
                (
                    format!("{key}.vlan"),
                    format!("{} is outside 1..={MAX_VLAN}", v.vlan),
                )
            })?;
        if !(1..=MAX_VNI).contains(&v.vni) {
            return Err((
                format!("{key}.vni"),
                format!("{} is outside 1..={MAX_VNI} (24 bits)", v.vni),
            ));
        }
        if !vlans.insert(vlan) {
            return Err((
                format!("{key}.vlan"),
                format!("VLAN {vlan} is mapped twice"),
            ));
        }
        if !vni_set.insert(v.vni) {
            return Err((
                format!("{key}.vni"),
                format!("VNI {} is mapped twice", v.vni),
            ));
        }
        let rd =
            v.rd.map(|s| {
                s.parse::<RouteDistinguisher>()
                    .map_err(|e| (format!("{key}.rd"), e.to_string()))
            })
            .transpose()?;
        let auto = evpnd_core::evpn::auto_route_target(asn, v.vni);
        vnis.push(VniConfig {
            vlan,
            vni: v.vni,
            rd,
            import_rts: route_targets(&format!("{key}.import_rts"), v.import_rts, auto, asn)?,
            export_rts: route_targets(&format!("{key}.export_rts"), v.export_rts, auto, asn)?,
        });
    }
    Ok(VtepConfig {
        bridge: ifname("vtep.bridge", raw.bridge.unwrap_or_else(|| "br0".into()))?,
        vxlan_device: ifname(
            "vtep.vxlan_device",
            raw.vxlan_device.unwrap_or_else(|| "vxlan0".into()),
        )?,
        local_ip,
        vxlan_port: match raw.vxlan_port {
            Some(0) => return Err(("vtep.vxlan_port".into(), "port 0 is not usable".into())),
            p => p.unwrap_or(DEFAULT_VXLAN_PORT),
        },
        bridge_mac: raw
            .bridge_mac
            .map(|s| mac("vtep.bridge_mac", &s))
            .transpose()?,
        vnis,
        dataplane,
    })
}

fn validate_control(raw: RawControl) -> Checked<ControlConfig> {
    let socket = PathBuf::from(raw.socket.unwrap_or_else(|| DEFAULT_SOCKET.into()));
    if socket.as_os_str().is_empty() || socket.file_name().is_none() {
        return Err((
            "control.socket".into(),
            format!("{:?} is not a file path", socket.display().to_string()),
        ));
    }
    let mode = match raw.mode {
        None => DEFAULT_SOCKET_MODE,
        Some(RawMode::Text(s)) => {
            let digits = s.strip_prefix("0o").unwrap_or(&s);
            u32::from_str_radix(digits, 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| {
                    (
                        "control.mode".to_string(),
                        format!("{s:?} is not an octal permission mode like \"0600\""),
                    )
                })?
        }
        Some(RawMode::Int(n)) => u32::try_from(n).ok().filter(|m| *m <= 0o777).ok_or_else(
            || {
                (
                    "control.mode".to_string(),
                    format!(
                        "{n} is not a permission mode; write it as a string \"0600\" or as 0o600"
                    ),
                )
            },
        )?,
    };
    Ok(ControlConfig { socket, mode })
}

fn validate_log(raw: RawLog) -> Checked<LogConfig> {
    let level = raw.level.unwrap_or_else(|| "info".into());
    if tracing_subscriber::EnvFilter::try_new(&level).is_err() || level.trim().is_empty() {
        return Err((
            "log.level".into(),
            format!("{level:?} is not a level (trace, debug, info, warn, error) or tracing filter"),
        ));
    }
    let format = match raw.format.as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err((
                "log.format".into(),
                format!("{other:?} is not one of \"text\", \"json\""),
            ));
        }
    };
    Ok(LogConfig { level, format })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [bgp]
        asn = 65000
        router_id = "198.19.0.4"
    "#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn err_of(text: &str) -> String {
        match Config::from_toml_str(text) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::from_toml_str(MINIMAL).unwrap();
        assert_eq!(c.bgp.asn, 65000);
        assert_eq!(c.bgp.router_id, Ipv4Addr::new(198, 19, 0, 4));
        assert_eq!(c.bgp.cluster_id, c.bgp.router_id);
        assert_eq!(c.bgp.listen, vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)]);
        assert_eq!(c.bgp.port, 179);
        assert_eq!(c.bgp.hold_time, 90);
        assert_eq!(c.bgp.keepalive, 30);
        assert_eq!(c.bgp.connect_retry, Duration::from_secs(30));
        assert!(c.bgp.extended_message);
        assert_eq!(c.bgp.families, vec![Family::L2VPN_EVPN]);
        assert!(c.neighbors.is_empty());
        assert!(c.vtep.is_none());
        assert_eq!(c.control.socket, PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(c.control.mode, 0o600);
        assert_eq!(c.log.level, "info");
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.metrics.listen, None);
    }

    #[test]
    fn example_configs_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        let rr = Config::load_with_env(&dir.join("rr.toml"), std::iter::empty()).unwrap();
        assert_eq!(rr.bgp.asn, 65000);
        assert_eq!(rr.neighbors.len(), 3);
        assert!(rr.neighbors.iter().all(|n| n.route_reflector_client));
        assert!(rr.vtep.is_none());
        let vtep = Config::load_with_env(&dir.join("vtep.toml"), std::iter::empty()).unwrap();
        let v = vtep.vtep.unwrap();
        assert_eq!(v.dataplane, Dataplane::Linux);
        assert!(!v.vnis.is_empty());
    }

    #[test]
    fn full_vtep_section() {
        let c = Config::from_toml_str(
            r#"
            [bgp]
            asn = 4200000001
            router_id = "198.19.0.1"
            hold_time = 9
            [[neighbors]]
            address = "198.19.0.4"
            remote_as = 4200000001
            hold_time = 30
            local_address = "198.19.0.1"
            [vtep]
            local_ip = "198.19.0.1"
            bridge_mac = "02:00:00:00:00:01"
            [[vtep.vnis]]
            vlan = 10
            vni = 10
            import_rts = ["65000:10"]
            export_rts = ["65000:10"]
            [[vtep.vnis]]
            vlan = 11
            vni = 16777215
            rd = "198.19.0.1:11"
            import_rts = ["65000:11", "198.19.0.9:5"]
            export_rts = ["4200000001:11"]
            [control]
            mode = "0660"
            "#,
        )
        .unwrap();
        assert_eq!(c.bgp.keepalive, 3);
        assert_eq!(c.neighbors[0].hold_time, 30);
        assert_eq!(c.neighbors[0].keepalive, 10);
        assert_eq!(c.control.mode, 0o660);
        let v = c.vtep.unwrap();
        assert_eq!(v.bridge, "br0");
        assert_eq!(v.vxlan_device, "vxlan0");
        assert_eq!(v.vxlan_port, 4789);
        assert_eq!(v.bridge_mac, Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(
            v.vnis[0].import_rts,
            vec![RouteTarget::As2 {
                asn: 65000,
                number: 10
            }]
        );
        assert_eq!(v.vnis[0].rd, None);
        assert_eq!(
            v.vnis[1].rd,
            Some(RouteDistinguisher::Ipv4 {
                addr: Ipv4Addr::new(198, 19, 0, 1),
                number: 11
            })
        );
        assert_eq!(
            v.vnis[1].import_rts[1],
            RouteTarget::Ipv4 {
                addr: Ipv4Addr::new(198, 19, 0, 9),
                number: 5
            }
        );
        assert_eq!(
            v.vnis[1].export_rts,
            vec![RouteTarget::As4 {
                asn: 4200000001,
                number: 11
            }]
        );
    }

    #[test]
    fn four_octet_as_requires_configured_route_targets() {
        // RFC 8365 section 5.1.2.1: no auto-derivation for a 4-octet AS.
        let text = |rts: &str| {
            format!(
                "[bgp]\nasn = 4200000001\nrouter_id = \"198.19.0.1\"\n[vtep]\nlocal_ip = \"198.19.0.1\"\n\
                 [[vtep.vnis]]\nvlan = 10\nvni = 10\n{rts}"
            )
        };
        let e = err_of(&text(""));
        assert!(
            e.contains("vtep.vnis[0].import_rts") && e.contains("4-octet"),
            "{e}"
        );
        let e = err_of(&text("import_rts = [\"65000:10\"]\n"));
        assert!(e.contains("vtep.vnis[0].export_rts"), "{e}");
        let c = Config::from_toml_str(&text(
            "import_rts = [\"65000:10\"]\nexport_rts = [\"65000:10\"]\n",
        ))
        .unwrap();
        assert_eq!(c.vtep.unwrap().vnis[0].export_rts.len(), 1);
    }

    #[test]
    fn integer_mode_is_taken_literally() {
        let c = Config::from_toml_str(&format!("{MINIMAL}\n[control]\nmode = 0o640\n")).unwrap();
        assert_eq!(c.control.mode, 0o640);
        let e = err_of(&format!("{MINIMAL}\n[control]\nmode = 600\n"));
        assert!(e.contains("control.mode"), "{e}");
    }

    #[test]
    fn bad_configs_name_their_key() {
        let cases: &[(&str, &str)] = &[
            (
                "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.x\"\n",
                "bgp.router_id: \"198.19.0.x\" is not an IPv4 address",
            ),
            (&format!("{MINIMAL}hold_time = 2\n"), "bgp.hold_time"),
            (&format!("{MINIMAL}keepalive = 90\n"), "bgp.keepalive"),
            (
                &format!("{MINIMAL}families = [\"l2vpn-vpls\"]\n"),
                "bgp.families[0]",
            ),
            (
                &format!("{MINIMAL}listen = [\"::\", \"nope\"]\n"),
                "bgp.listen[1]",
            ),
            (
                &format!(
                    "{MINIMAL}[[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n\
                     [[neighbors]]\naddress = \"198.19.0.2\"\nremote_as = 65000\n\
                     [[neighbors]]\naddress = \"198.19.0.x\"\nremote_as = 65000\n"
                ),
                "neighbors[2].address: \"198.19.0.x\" is not an IP address",
            ),
            (
                &format!(
                    "{MINIMAL}[[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n\
                     [[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n"
                ),
                "neighbors[1].address",
            ),
            (
                &format!(
                    "{MINIMAL}[[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65001\nroute_reflector_client = true\n"
                ),
                "neighbors[0].route_reflector_client",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\n[[vtep.vnis]]\nvlan = 4095\nvni = 10\n"
                ),
                "vtep.vnis[0].vlan",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\n[[vtep.vnis]]\nvlan = 10\nvni = 16777216\n"
                ),
                "vtep.vnis[0].vni",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\n[[vtep.vnis]]\nvlan = 10\nvni = 10\n\
                     [[vtep.vnis]]\nvlan = 10\nvni = 11\n"
                ),
                "vtep.vnis[1].vlan",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\n[[vtep.vnis]]\nvlan = 10\nvni = 10\n\
                     [[vtep.vnis]]\nvlan = 11\nvni = 10\n"
                ),
                "vtep.vnis[1].vni",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\n[[vtep.vnis]]\nvlan = 10\nvni = 10\nrd = \"x:1\"\n"
                ),
                "vtep.vnis[0].rd",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\n[[vtep.vnis]]\nvlan = 10\nvni = 10\nexport_rts = [\"65000:1\", \"70000:70000\"]\n"
                ),
                "vtep.vnis[0].export_rts[1]",
            ),
            (
                &format!("{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\ndataplane = \"dpdk\"\n"),
                "vtep.dataplane",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\nbridge_mac = \"01:00:5e:00:00:01\"\n"
                ),
                "vtep.bridge_mac",
            ),
            (
                &format!(
                    "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\nbridge = \"a-very-long-bridge-name\"\n"
                ),
                "vtep.bridge",
            ),
            (
                &format!("{MINIMAL}[control]\nmode = \"0999\"\n"),
                "control.mode",
            ),
            (&format!("{MINIMAL}[log]\nformat = \"xml\"\n"), "log.format"),
            (
                &format!("{MINIMAL}[metrics]\nlisten = \"9100\"\n"),
                "metrics.listen",
            ),
            // Unknown keys are refused (deny_unknown_fields) and named.
            (&format!("{MINIMAL}hold_tme = 9\n"), "hold_tme"),
            // Type errors from the config crate name the key too.
            (
                "[bgp]\nasn = \"many\"\nrouter_id = \"198.19.0.4\"\n",
                "bgp.asn",
            ),
            (
                &format!("{MINIMAL}[[neighbors]]\naddress = \"198.19.0.1\"\n"),
                "neighbors[0].remote_as",
            ),
        ];
        for (text, expected) in cases {
            let e = err_of(text);
            assert!(e.contains(expected), "expected {expected:?} in {e:?}");
            assert!(e.starts_with("<string>: "), "file not named in {e:?}");
        }
    }

    #[test]
    fn env_overrides_apply() {
        let c = Config::from_toml_str_with_env(
            MINIMAL,
            "test.toml",
            env(&[
                ("EVPND__BGP__ASN", "65001"),
                ("EVPND__BGP__HOLD_TIME", "30"),
                ("EVPND__BGP__LISTEN", "198.18.0.1, ::1"),
                ("EVPND__BGP__EXTENDED_MESSAGE", "false"),
                ("EVPND__CONTROL__MODE", "0640"),
                ("EVPND__CONTROL__SOCKET", "/tmp/x.sock"),
                ("OTHER_VAR", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(c.bgp.asn, 65001);
        assert_eq!(c.bgp.hold_time, 30);
        assert_eq!(c.bgp.keepalive, 10);
        assert!(!c.bgp.extended_message);
        assert_eq!(
            c.bgp.listen,
            vec![
                IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
                "::1".parse::<IpAddr>().unwrap()
            ]
        );
        assert_eq!(c.control.mode, 0o640);
        assert_eq!(c.control.socket, PathBuf::from("/tmp/x.sock"));
    }

    #[test]
    fn bad_env_override_names_key_and_file() {
        let e = Config::from_toml_str_with_env(
            MINIMAL,
            "test.toml",
            env(&[("EVPND__BGP__ROUTER_ID", "nope")]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "test.toml: bgp.router_id: \"nope\" is not an IPv4 address"
        );
        let e = Config::from_toml_str_with_env(
            MINIMAL,
            "test.toml",
            env(&[("EVPND__BGP__BOGUS", "1")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("test.toml: ") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn missing_file_names_it() {
        let e = Config::load_with_env(Path::new("/nonexistent/evpnd.toml"), std::iter::empty())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/nonexistent/evpnd.toml: cannot read"), "{e}");
    }

    #[test]
    fn rd_and_rt_wire_forms() {
        // RFC 4364 section 4.2 type 0/1/2, parsed as the config reads them.
        let rd: RouteDistinguisher = "65000:10".parse().unwrap();
        assert_eq!(rd.to_bytes(), [0, 0, 0xfd, 0xe8, 0, 0, 0, 10]);
        let rd: RouteDistinguisher = "198.19.0.1:2".parse().unwrap();
        assert_eq!(rd.to_bytes(), [0, 1, 198, 19, 0, 1, 0, 2]);
        assert_eq!(rd.to_string(), "198.19.0.1:2");
        let rd: RouteDistinguisher = "4200000000:7".parse().unwrap();
        assert_eq!(rd.to_bytes(), [0, 2, 0xfa, 0x56, 0xea, 0x00, 0, 7]);
        assert!("198.19.0.1:70000".parse::<RouteDistinguisher>().is_err());
        // RFC 4360 section 3.1: type 0x00 sub-type 0x02; the auto RT of VNI 10.
        let c = Config::from_toml_str(&format!(
            "{MINIMAL}[vtep]\nlocal_ip = \"198.19.0.1\"\n[[vtep.vnis]]\nvlan = 10\nvni = 10\n"
        ))
        .unwrap();
        let rt = c.vtep.unwrap().vnis[0].import_rts[0];
        assert_eq!(rt.to_bytes(), [0, 2, 0xfd, 0xe8, 0, 0, 0, 10]);
        assert_eq!(rt.to_string(), "65000:10");
    }
}
