//! Validation: each raw section to its typed form, every error naming the
//! key it is about (`neighbors[2].address: ...`).

use super::raw::*;
use super::*;

pub(super) type Checked<T> = Result<T, (String, String)>;

pub(super) fn ip(key: &str, s: &str) -> Checked<IpAddr> {
    s.parse()
        .map_err(|_| (key.to_string(), format!("{s:?} is not an IP address")))
}

pub(super) fn ipv4(key: &str, s: &str) -> Checked<Ipv4Addr> {
    s.parse()
        .map_err(|_| (key.to_string(), format!("{s:?} is not an IPv4 address")))
}

pub(super) fn families(key: &str, names: &[String]) -> Checked<Vec<Family>> {
    if names.is_empty() {
        return Err((key.to_string(), "at least one family is required".into()));
    }
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let f = parse_family(name).ok_or_else(|| {
            (
                format!("{key}[{i}]"),
                format!(
                    "unknown family {name:?} (known: l2vpn-evpn, ipv4-unicast, ipv6-unicast, rtc)"
                ),
            )
        })?;
        if out.contains(&f) {
            return Err((format!("{key}[{i}]"), format!("{name:?} is listed twice")));
        }
        out.push(f);
    }
    // RFC 4684 constrains the VPN families' routes; on its own it would
    // only exchange memberships for routes never sent.
    if out.contains(&Family::IPV4_RTC) && !out.contains(&Family::L2VPN_EVPN) {
        let i = out.iter().position(|f| *f == Family::IPV4_RTC).unwrap_or(0);
        return Err((
            format!("{key}[{i}]"),
            "\"rtc\" constrains l2vpn-evpn routes (RFC 4684): list \"l2vpn-evpn\" too".into(),
        ));
    }
    Ok(out)
}

/// RFC 4271 section 4.2: "the Hold Time MUST be either zero or at least three seconds".
pub(super) fn hold_time(key: &str, hold: u16) -> Checked<u16> {
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

pub(super) fn validate_bgp(raw: RawBgp) -> Checked<BgpConfig> {
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
    let peer_queue_bytes = raw.peer_queue_bytes.unwrap_or(DEFAULT_PEER_QUEUE_BYTES);
    if peer_queue_bytes < MIN_PEER_QUEUE_BYTES {
        return Err((
            "bgp.peer_queue_bytes".into(),
            format!("{peer_queue_bytes} is below the minimum of {MIN_PEER_QUEUE_BYTES} (1 MiB)"),
        ));
    }
    let graceful_restart = graceful_restart(raw.graceful_restart)?;
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
        peer_queue_bytes,
        graceful_restart,
    })
}

/// `[bgp.graceful_restart]`: on unless `enabled = false`. The restart time
/// is a 12-bit field (RFC 4724 section 3); the deferral must end before
/// peers give up on our routes.
fn graceful_restart(raw: RawGracefulRestart) -> Checked<Option<GracefulRestartConfig>> {
    if raw.enabled == Some(false) {
        return Ok(None);
    }
    let restart_time = raw.restart_time.unwrap_or(DEFAULT_GR_RESTART_SECS);
    if restart_time == 0 || restart_time > GracefulRestartConfig::MAX_RESTART_TIME {
        return Err((
            "bgp.graceful_restart.restart_time".into(),
            format!(
                "{restart_time} must be between 1 and {} seconds (a 12-bit field, RFC 4724 section 3); to turn graceful restart off, set enabled = false",
                GracefulRestartConfig::MAX_RESTART_TIME
            ),
        ));
    }
    let stale_routes_time = raw
        .stale_routes_time
        .unwrap_or(DEFAULT_GR_STALE_ROUTES_SECS);
    if stale_routes_time == 0 {
        return Err((
            "bgp.graceful_restart.stale_routes_time".into(),
            "must be at least 1 second".into(),
        ));
    }
    let select_defer_time = raw
        .select_defer_time
        .unwrap_or(DEFAULT_GR_SELECT_DEFER_SECS);
    if select_defer_time == 0 || select_defer_time >= u32::from(restart_time) {
        return Err((
            "bgp.graceful_restart.select_defer_time".into(),
            format!(
                "{select_defer_time} must be at least 1 and below restart_time ({restart_time}): peers drop our routes after restart_time, so our first advertisement must come before that"
            ),
        ));
    }
    Ok(Some(GracefulRestartConfig {
        restart_time,
        stale_routes_time: Duration::from_secs(u64::from(stale_routes_time)),
        select_defer_time: Duration::from_secs(u64::from(select_defer_time)),
    }))
}

pub(super) fn validate_neighbor(
    raw: RawNeighbor,
    key: &str,
    bgp: &BgpConfig,
) -> Checked<NeighborConfig> {
    let address = ip(&format!("{key}.address"), &raw.address)?;
    let (password, ttl_security) = session_security(&raw, key)?;
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
    let max_prefixes = raw
        .max_prefixes
        .map(|m| max_prefixes(&format!("{key}.max_prefixes"), m))
        .transpose()?;
    let peer_damping = match raw.peer_damping {
        None | Some(RawPeerDamping::Enabled(true)) => PeerDamping::DEFAULT,
        Some(RawPeerDamping::Enabled(false)) => PeerDamping::OFF,
        Some(RawPeerDamping::Tuned(t)) => peer_damping(&format!("{key}.peer_damping"), t)?,
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
        password,
        ttl_security,
        max_prefixes,
        peer_damping,
    })
}

/// The longest wait `peer_damping.max_secs` may set: past an hour, a peer
/// is better stopped (and `evpnd clear neighbors` used) than damped.
const MAX_PEER_DAMPING_SECS: u64 = 3600;

fn peer_damping(key: &str, raw: RawPeerDampingTimes) -> Checked<PeerDamping> {
    let d = PeerDamping::DEFAULT;
    let initial = raw.initial_ms.map_or(d.initial, Duration::from_millis);
    let max = raw.max_secs.map_or(d.max, Duration::from_secs);
    let stable = raw.stable_secs.map_or(d.stable, Duration::from_secs);
    if max > Duration::from_secs(MAX_PEER_DAMPING_SECS) {
        return Err((
            format!("{key}.max_secs"),
            format!("{} s is more than {MAX_PEER_DAMPING_SECS} s", max.as_secs()),
        ));
    }
    if initial > max {
        return Err((
            format!("{key}.initial_ms"),
            format!(
                "{} ms is longer than max_secs ({} s)",
                initial.as_millis(),
                max.as_secs()
            ),
        ));
    }
    if stable.is_zero() {
        return Err((
            format!("{key}.stable_secs"),
            "must be at least 1 (the time a session must last to count as healthy)".into(),
        ));
    }
    Ok(PeerDamping {
        initial,
        max,
        stable,
    })
}

/// Sessions a listen range takes at a time unless `max_sessions` says
/// otherwise (FRR's `bgp listen limit` default).
const DEFAULT_RANGE_SESSIONS: u32 = 100;
/// The most `max_sessions` may be: each session is a task, two sockets'
/// buffers and an Adj-RIB-In; a fabric larger than this wants several
/// reflectors.
const MAX_RANGE_SESSIONS: u32 = 10_000;

pub(super) fn validate_listen_range(
    raw: RawListenRange,
    key: &str,
    bgp: &BgpConfig,
) -> Checked<ListenRange> {
    // "198.18.0.0" would parse as a /32: a range without a length is more
    // likely a slip than a one-address range.
    let prefix: IpNetwork = raw
        .prefix
        .parse()
        .ok()
        .filter(|_| raw.prefix.contains('/'))
        .ok_or_else(|| {
            (
                format!("{key}.prefix"),
                format!(
                    "{:?} is not a prefix (198.18.0.0/16, 2001:db8::/48)",
                    raw.prefix
                ),
            )
        })?;
    if prefix.ip() != prefix.network() {
        return Err((
            format!("{key}.prefix"),
            format!(
                "{prefix} has host bits set: did you mean {}/{}?",
                prefix.network(),
                prefix.prefix()
            ),
        ));
    }
    let max_sessions = raw.max_sessions.unwrap_or(DEFAULT_RANGE_SESSIONS);
    if !(1..=MAX_RANGE_SESSIONS).contains(&max_sessions) {
        return Err((
            format!("{key}.max_sessions"),
            format!("{max_sessions} is not between 1 and {MAX_RANGE_SESSIONS}"),
        ));
    }
    // Checked as a neighbour would be, with the range's network address
    // standing in for the peer's.
    let as_neighbor = RawNeighbor {
        address: prefix.network().to_string(),
        port: None,
        remote_as: raw.remote_as,
        description: raw.description,
        route_reflector_client: raw.route_reflector_client,
        passive: true,
        families: raw.families,
        hold_time: raw.hold_time,
        local_address: None,
        password: raw.password,
        ttl_security: raw.ttl_security,
        max_prefixes: raw.max_prefixes,
        peer_damping: raw.peer_damping,
    };
    let template = validate_neighbor(as_neighbor, key, bgp)?;
    Ok(ListenRange {
        prefix,
        max_sessions,
        template,
    })
}

/// Default share of the limit from which a warning is logged (FRR's 75).
const DEFAULT_WARNING_PERCENT: u8 = 75;
/// Default wait before a session torn down for too many prefixes starts
/// again.
const DEFAULT_PREFIX_RESTART_SECS: u64 = 300;

fn max_prefixes(key: &str, raw: RawMaxPrefixes) -> Checked<MaxPrefixes> {
    if raw.limit == 0 {
        return Err((format!("{key}.limit"), "must be at least 1".into()));
    }
    let warning_percent = raw.warning_percent.unwrap_or(DEFAULT_WARNING_PERCENT);
    if !(1..=100).contains(&warning_percent) {
        return Err((
            format!("{key}.warning_percent"),
            format!("{warning_percent} is not between 1 and 100"),
        ));
    }
    let action = match raw.action.as_deref() {
        None | Some("teardown") => MaxPrefixAction::Teardown,
        Some("warn") => MaxPrefixAction::Warn,
        Some(other) => {
            return Err((
                format!("{key}.action"),
                format!("{other:?} is not an action (teardown, warn)"),
            ));
        }
    };
    if action == MaxPrefixAction::Warn && raw.restart_secs.is_some() {
        return Err((
            format!("{key}.restart_secs"),
            "only a teardown restarts; with action = \"warn\" the session stays up".into(),
        ));
    }
    let restart_secs = raw.restart_secs.unwrap_or(DEFAULT_PREFIX_RESTART_SECS);
    Ok(MaxPrefixes {
        limit: raw.limit,
        warning_percent,
        action,
        restart_after: (restart_secs > 0).then(|| Duration::from_secs(restart_secs)),
    })
}

/// `password` (RFC 2385: an octet string; Linux takes 1 to
/// `TCP_MD5SIG_MAXKEYLEN` = 80 octets) and `ttl_security` (RFC 5082
/// section 3: a trust radius of 1 to 254 hops, as FRR's `ttl-security
/// hops`).
fn session_security(raw: &RawNeighbor, key: &str) -> Checked<(Option<Secret>, Option<u8>)> {
    if let Some(p) = &raw.password
        && !(1..=secret::MAX_PASSWORD_LEN).contains(&p.len())
    {
        return Err((
            format!("{key}.password"),
            format!(
                "{} octets: must be 1 to {} (TCP-MD5 key, RFC 2385)",
                p.len(),
                secret::MAX_PASSWORD_LEN
            ),
        ));
    }
    let ttl = match raw.ttl_security {
        None => None,
        Some(hops @ 1..=254) => Some(hops as u8),
        Some(hops) => {
            return Err((
                format!("{key}.ttl_security"),
                format!("{hops} hops: must be 1 to 254 (GTSM, RFC 5082)"),
            ));
        }
    };
    Ok((raw.password.clone(), ttl))
}

pub(super) fn ifname(key: &str, name: String) -> Checked<String> {
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

pub(super) fn mac(key: &str, s: &str) -> Checked<[u8; 6]> {
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

pub(super) fn route_targets(
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

pub(super) fn validate_vtep(raw: RawVtep, asn: u32) -> Checked<VtepConfig> {
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

pub(super) fn validate_control(raw: RawControl) -> Checked<ControlConfig> {
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
    Ok(ControlConfig {
        socket,
        mode,
        owner: system_id("control.owner", raw.owner, IdKind::User)?,
        group: system_id("control.group", raw.group, IdKind::Group)?,
        admin_group: system_id("control.admin_group", raw.admin_group, IdKind::Group)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    User,
    Group,
}

/// A `[control]` user or group: a name, looked up now so a typo fails the
/// file (and `check-config`) rather than the start or a request later, or
/// a number, taken as it is (chown accepts ids without a name).
fn system_id(key: &str, raw: Option<RawId>, kind: IdKind) -> Checked<Option<SystemId>> {
    let (what, id_name) = match kind {
        IdKind::User => ("user", "uid"),
        IdKind::Group => ("group", "gid"),
    };
    let err = |message: String| (key.to_string(), message);
    let number = |n: i64| {
        // u32::MAX is chown's "leave it unchanged", not an id.
        u32::try_from(n)
            .ok()
            .filter(|n| *n != u32::MAX)
            .ok_or_else(|| err(format!("{n} is not a {id_name} (0 to {})", u32::MAX - 1)))
    };
    let name = match raw {
        None => return Ok(None),
        Some(RawId::Int(n)) => return numbered(number(n)?, kind).map(Some),
        // useradd and groupadd refuse names of digits only, so such a
        // string (what an environment override gives) is a number.
        Some(RawId::Text(t)) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            let n = t
                .parse()
                .map_err(|_| err(format!("{t:?} is not a {id_name}")))?;
            return numbered(number(n)?, kind).map(Some);
        }
        Some(RawId::Text(t)) => t,
    };
    if name.trim().is_empty() {
        return Err(err(format!("an empty name is not a {what}")));
    }
    let found = match kind {
        IdKind::User => nix::unistd::User::from_name(&name).map(|u| u.map(|u| u.uid.as_raw())),
        IdKind::Group => nix::unistd::Group::from_name(&name).map(|g| g.map(|g| g.gid.as_raw())),
    };
    match found {
        Ok(Some(id)) => Ok(Some(SystemId {
            id,
            name: Some(name),
        })),
        Ok(None) => Err(err(match kind {
            IdKind::User => format!(
                "no user {name:?} on this system (getent passwd {name}); create it (useradd --system {name}) or give a uid"
            ),
            IdKind::Group => format!(
                "no group {name:?} on this system (getent group {name}); create it (groupadd --system {name}) or give a gid"
            ),
        })),
        Err(e) => Err(err(format!("cannot look up {what} {name:?}: {e}"))),
    }
}

/// A number from the file, with the system's name for it when there is
/// one (for messages).
fn numbered(id: u32, kind: IdKind) -> Checked<SystemId> {
    let name = match kind {
        IdKind::User => nix::unistd::User::from_uid(id.into())
            .ok()
            .flatten()
            .map(|u| u.name),
        IdKind::Group => nix::unistd::Group::from_gid(id.into())
            .ok()
            .flatten()
            .map(|g| g.name),
    };
    Ok(SystemId { id, name })
}

pub(super) fn validate_log(raw: RawLog) -> Checked<LogConfig> {
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
