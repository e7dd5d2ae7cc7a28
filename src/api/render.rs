//! Human-readable tables for `evpnd show`, laid out like FRR's vtysh output
//! (`show bgp l2vpn evpn`, `show bgp l2vpn evpn summary`) so operators who
//! know FRR can read them at a glance. The `--json` output is the row arrays
//! themselves (see `protocol.rs`).

use super::protocol::{ConfigStatus, FdbRow, NeighborRow, Origin, ReloadReport, RouteRow, VniRow};
use std::cmp::Ordering;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

/// FRR's column header for `show bgp l2vpn evpn`.
const ROUTE_HEADER: &str = "   Network          Next Hop            Metric LocPrf Weight Path";
/// Next hop, attribute and community lines start in this column (FRR layout).
const INDENT: &str = "                    ";

/// The prefix in FRR's bracket notation (FRR's `prefix2str`; RFC 7432
/// section 7, RFC 9136 section 3.1), the RD shown apart:
/// - type 1 `[1]:[EthTag]:[ESI]:[IPlen]:[VTEP-IP]:[Frag-id]`: VTEP IP and
///   fragment are FRR-internal, not in the NLRI; FRR's global table shows
///   received routes with `[32]:[0.0.0.0]:[0]`, and so does this;
/// - type 2 `[2]:[EthTag]:[MAClen]:[MAC]:[IPlen]:[IP]`;
/// - type 3 `[3]:[EthTag]:[IPlen]:[OrigIP]`;
/// - type 4 `[4]:[ESI]:[IPlen]:[OrigIP]`;
/// - type 5 `[5]:[EthTag]:[IPlen]:[IP]`, IPlen being the prefix length.
pub fn route_prefix(row: &RouteRow) -> String {
    let ip_len = |ip: &IpAddr| if ip.is_ipv4() { 32 } else { 128 };
    let esi = row.esi.as_deref().unwrap_or("?");
    match row.route_type {
        1 => format!("[1]:[{}]:[{esi}]:[32]:[0.0.0.0]:[0]", row.ethernet_tag),
        2 => {
            let mut s = format!(
                "[2]:[{}]:[48]:[{}]",
                row.ethernet_tag,
                row.mac.as_deref().unwrap_or("?")
            );
            if let Some(ip) = &row.ip {
                let _ = write!(s, ":[{}]:[{ip}]", ip_len(ip));
            }
            s
        }
        3 => match &row.originator_ip {
            Some(ip) => format!("[3]:[{}]:[{}]:[{ip}]", row.ethernet_tag, ip_len(ip)),
            None => format!("[3]:[{}]", row.ethernet_tag),
        },
        4 => match &row.originator_ip {
            Some(ip) => format!("[4]:[{esi}]:[{}]:[{ip}]", ip_len(ip)),
            None => format!("[4]:[{esi}]"),
        },
        5 => {
            let (address, length) = row
                .prefix
                .as_deref()
                .and_then(|p| p.split_once('/'))
                .unwrap_or(("?", "?"));
            format!("[5]:[{}]:[{length}]:[{address}]", row.ethernet_tag)
        }
        t => format!("[{t}]:[{}]", row.ethernet_tag),
    }
}

/// Sort key for an RD in text form: numeric admin (IPv4 or AS), then number,
/// so 198.19.0.1:10 sorts after 198.19.0.1:9.
fn rd_key(rd: &str) -> (u64, u64, &str) {
    let Some((admin, number)) = rd.rsplit_once(':') else {
        return (u64::MAX, u64::MAX, rd);
    };
    let admin = admin
        .parse::<Ipv4Addr>()
        .map(|ip| u64::from(u32::from(ip)))
        .or_else(|_| admin.parse::<u64>())
        .unwrap_or(u64::MAX);
    (admin, number.parse().unwrap_or(u64::MAX), rd)
}

fn route_order(a: &RouteRow, b: &RouteRow) -> Ordering {
    rd_key(&a.rd)
        .cmp(&rd_key(&b.rd))
        .then(a.route_type.cmp(&b.route_type))
        .then_with(|| route_prefix(a).cmp(&route_prefix(b)))
        // Best path first within a prefix, as FRR lists it.
        .then(b.best.cmp(&a.best))
}

/// FRR's origin codes (RFC 4271 5.1.1).
fn origin_code(origin: Origin) -> &'static str {
    match origin {
        Origin::Igp => "i",
        Origin::Egp => "e",
        Origin::Incomplete => "?",
    }
}

fn extended_communities(row: &RouteRow) -> String {
    let mut parts: Vec<String> = row
        .route_targets
        .iter()
        .map(|rt| format!("RT:{rt}"))
        .collect();
    if let Some(et) = row.encapsulation {
        parts.push(format!("ET:{et}"));
    }
    if let Some(mm) = &row.mac_mobility {
        if mm.sticky() {
            parts.push(format!("MM:{}, sticky MAC", mm.sequence));
        } else {
            parts.push(format!("MM:{}", mm.sequence));
        }
    }
    if row.default_gateway {
        parts.push("Default Gateway".into());
    }
    if let Some(mac) = &row.es_import_rt {
        parts.push(format!("ES-Import-Rt:{mac}"));
    }
    if let Some(mac) = &row.router_mac {
        parts.push(format!("Rmac:{mac}"));
    }
    parts.join(" ")
}

/// `evpnd show routes`: every path, grouped by RD, like `show bgp l2vpn evpn`.
pub fn render_routes(rows: &[RouteRow]) -> String {
    let mut sorted: Vec<&RouteRow> = rows.iter().collect();
    sorted.sort_by(|a, b| route_order(a, b));
    let mut out = String::new();
    out.push_str("Status codes: * valid, > best, i - internal, S stale\n");
    out.push_str("Origin codes: i - IGP, e - EGP, ? - incomplete\n");
    out.push_str("EVPN type-1 prefix: [1]:[EthTag]:[ESI]:[IPlen]:[VTEP-IP]:[Frag-id]\n");
    out.push_str("EVPN type-2 prefix: [2]:[EthTag]:[MAClen]:[MAC]:[IPlen]:[IP]\n");
    out.push_str("EVPN type-3 prefix: [3]:[EthTag]:[IPlen]:[OrigIP]\n");
    out.push_str("EVPN type-4 prefix: [4]:[ESI]:[IPlen]:[OrigIP]\n");
    out.push_str("EVPN type-5 prefix: [5]:[EthTag]:[IPlen]:[IP]\n\n");
    out.push_str(ROUTE_HEADER);
    out.push('\n');
    let mut current_rd: Option<&str> = None;
    let mut previous: Option<(String, String)> = None;
    let mut prefixes = 0usize;
    for row in &sorted {
        if current_rd != Some(row.rd.as_str()) {
            let _ = writeln!(out, "Route Distinguisher: {}", row.rd);
            current_rd = Some(&row.rd);
        }
        let prefix = route_prefix(row);
        let key = (row.rd.clone(), prefix.clone());
        // FRR's mark for a path kept across its peer's restart.
        let status = format!(
            "{}{}{}",
            if row.stale { 'S' } else { '*' },
            if row.best { '>' } else { ' ' },
            if row.internal { 'i' } else { ' ' }
        );
        let next_hop = row
            .next_hop
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "0.0.0.0".into());
        let metric = row.med.map(|m| m.to_string()).unwrap_or_default();
        let local_pref = row.local_pref.map(|m| m.to_string()).unwrap_or_default();
        // evpnd has no weight; FRR's defaults (32768 local, 0 learned) keep
        // the column meaning the same for readers of both.
        let weight = if row.peer == "local" { 32768 } else { 0 };
        let path = if row.as_path.is_empty() {
            origin_code(row.origin).to_string()
        } else {
            format!("{} {}", row.as_path, origin_code(row.origin))
        };
        let attrs = format!("{next_hop:<16}{metric:>10}{local_pref:>7}{weight:>7} {path}");
        if previous.as_ref() == Some(&key) {
            // Another path of the same prefix: FRR leaves the network blank.
            let _ = writeln!(out, "{status:<20}{attrs}");
        } else {
            prefixes += 1;
            let _ = writeln!(out, "{status}{prefix}");
            let _ = writeln!(out, "{INDENT}{attrs}");
        }
        let communities = extended_communities(row);
        if !communities.is_empty() {
            let _ = writeln!(out, "{INDENT}{communities}");
        }
        previous = Some(key);
    }
    let _ = write!(
        out,
        "\nDisplayed {prefixes} prefixes ({} paths)\n",
        sorted.len()
    );
    out
}

/// FRR's peer uptime format: hh:mm:ss below a day, then XdYYhZZm, then XwYdZZh.
pub fn format_uptime(secs: Option<u64>) -> String {
    let Some(secs) = secs else {
        return "never".into();
    };
    const DAY: u64 = 86_400;
    const WEEK: u64 = 7 * DAY;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    if secs < DAY {
        format!("{h:02}:{m:02}:{s:02}")
    } else if secs < WEEK {
        format!("{}d{h:02}h{m:02}m", secs / DAY)
    } else {
        format!("{:02}w{}d{h:02}h", secs / WEEK, (secs % WEEK) / DAY)
    }
}

/// `evpnd show neighbors`: like FRR's `show bgp l2vpn evpn summary`.
pub fn render_neighbors(rows: &[NeighborRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16}V {:>10} {:>9} {:>9} {:>8} {:>12} {:>8} Desc",
        "Neighbor", "AS", "MsgRcvd", "MsgSent", "Up/Down", "State/PfxRcd", "PfxSnt"
    );
    for n in rows {
        let state = if n.state == "Established" {
            n.prefixes_received.to_string()
        } else {
            n.state.clone()
        };
        let _ = writeln!(
            out,
            "{:<16}4 {:>10} {:>9} {:>9} {:>8} {:>12} {:>8} {}",
            n.address.to_string(),
            n.remote_as,
            n.messages_in,
            n.messages_out,
            format_uptime(n.uptime_secs),
            state,
            n.prefixes_sent,
            n.description.as_deref().unwrap_or("N/A")
        );
        if n.state != "Established"
            && let Some(e) = &n.last_error
        {
            let _ = writeln!(out, "    last error: {e}");
        }
        if n.stale_routes > 0 {
            let _ = writeln!(
                out,
                "    {} stale routes kept while the peer restarts (graceful restart)",
                n.stale_routes
            );
        }
        if let Some(range) = &n.listen_range {
            let _ = writeln!(out, "    dynamic neighbor from listen range {range}");
        }
        if let Some(count) = n.rt_memberships {
            let _ = writeln!(
                out,
                "    RT-Constrain: {count} route target membership(s); EVPN routes sent by them only"
            );
        }
        if let Some(ms) = n.restart_in_ms {
            let _ = writeln!(
                out,
                "    damped after {} consecutive failure(s): starts again in {:.1} s (peer damping {}; evpnd clear neighbors {} starts it now)",
                n.damping_failures,
                ms as f64 / 1000.0,
                n.peer_damping,
                n.address
            );
        }
        if let Some(security) = session_security(n) {
            let _ = writeln!(out, "    {security}");
        }
        if n.prefix_limit_exceeded > 0 {
            let _ = writeln!(
                out,
                "    prefix limit exceeded {} time(s) ({})",
                n.prefix_limit_exceeded,
                n.max_prefixes.as_deref().unwrap_or("no limit now")
            );
        }
    }
    let _ = write!(out, "\nTotal number of neighbors {}\n", rows.len());
    out
}

/// The session-security line of a neighbour (never the key itself).
fn session_security(n: &NeighborRow) -> Option<String> {
    let md5 = n.password.then(|| "TCP-MD5 key set (RFC 2385)".to_string());
    let gtsm = n
        .ttl_security
        .map(|hops| format!("ttl-security {hops} hop(s) (GTSM, RFC 5082)"));
    let parts: Vec<String> = md5.into_iter().chain(gtsm).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `evpnd show config`.
pub fn render_config(status: &ConfigStatus) -> String {
    let mut out = format!(
        "Configuration generation {}\nFile: {}\nApplied at: {} (unix time)\n",
        status.generation,
        status.path.as_deref().unwrap_or("(none)"),
        status.applied_at
    );
    if let Some(refused) = &status.last_refused {
        let _ = writeln!(out, "Last reload refused: {refused}");
    }
    out
}

/// `evpnd reload`, when the file was accepted.
pub fn render_reload(report: &ReloadReport) -> String {
    let mut out = String::new();
    if report.changes.is_empty() {
        let _ = writeln!(
            out,
            "no change: generation {} already runs this configuration",
            report.generation
        );
    } else {
        let _ = writeln!(out, "reloaded: generation {}", report.generation);
        for change in &report.changes {
            let _ = writeln!(out, "  {change}");
        }
    }
    out
}

/// `evpnd show vnis`.
pub fn render_vnis(rows: &[VniRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:<5} {:<21} {:<17} {:<17} {:>10} {:>11} Remote VTEPs",
        "VNI", "VLAN", "RD", "Import RTs", "Export RTs", "Local MACs", "Remote MACs"
    );
    for v in rows {
        let vteps: Vec<String> = v.remote_vteps.iter().map(|ip| ip.to_string()).collect();
        let _ = writeln!(
            out,
            "{:<9} {:<5} {:<21} {:<17} {:<17} {:>10} {:>11} {}",
            v.vni,
            v.vlan,
            v.rd,
            v.import_rts.join(","),
            v.export_rts.join(","),
            v.local_macs,
            v.remote_macs,
            if vteps.is_empty() {
                "-".to_string()
            } else {
                vteps.join(",")
            }
        );
        for w in &v.warnings {
            let _ = writeln!(out, "    warning: {w}");
        }
    }
    let _ = write!(out, "\nTotal number of VNIs {}\n", rows.len());
    out
}

/// `evpnd show fdb`.
pub fn render_fdb(rows: &[FdbRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:<5} {:<17} {:<25} {:<16} {:<9} State",
        "VNI", "VLAN", "MAC", "IP", "Dest", "Origin"
    );
    for f in rows {
        let ip = f.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<9} {:<5} {:<17} {:<25} {:<16} {:<9} {}",
            f.vni, f.vlan, f.mac, ip, f.dest, f.origin, f.state
        );
    }
    let _ = write!(out, "\nTotal number of entries {}\n", rows.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::protocol::{MacMobility, Pmsi};

    fn route(rd: &str, mac: &str, ip: Option<&str>, nh: &str) -> RouteRow {
        RouteRow {
            route_type: 2,
            rd: rd.into(),
            esi: Some("00:00:00:00:00:00:00:00:00:00".into()),
            ethernet_tag: 0,
            mac: Some(mac.into()),
            ip: ip.map(|s| s.parse().unwrap()),
            labels: vec![10],
            next_hop: Some(nh.parse().unwrap()),
            originator_ip: None,
            prefix: None,
            gateway_ip: None,
            peer: nh.into(),
            internal: true,
            best: true,
            stale: false,
            origin: Origin::Igp,
            local_pref: Some(100),
            med: None,
            as_path: String::new(),
            originator_id: None,
            cluster_list: vec![],
            route_targets: vec!["65000:10".into()],
            encapsulation: Some(8),
            mac_mobility: None,
            default_gateway: false,
            es_import_rt: None,
            router_mac: None,
            pmsi: None,
        }
    }

    fn imet(rd: &str, vtep: &str) -> RouteRow {
        RouteRow {
            route_type: 3,
            mac: None,
            esi: None,
            originator_ip: Some(vtep.parse().unwrap()),
            pmsi: Some(Pmsi {
                tunnel_type: "ingress-replication".into(),
                label: 10,
                endpoint: vtep.parse().unwrap(),
            }),
            ..route(rd, "", None, vtep)
        }
    }

    #[test]
    fn routes_read_like_frr() {
        // The same routes as proto-tests/vectors/frr/rr-frr.txt's first RD, given
        // out of order; FRR prints the peer's hostname after the next hop,
        // which we do not have, so the columns after it line up identically.
        let rows = vec![
            imet("198.19.0.1:2", "198.19.0.1"),
            route(
                "198.19.0.1:2",
                "02:0a:00:00:00:01",
                Some("198.18.10.1"),
                "198.19.0.1",
            ),
            route("198.19.0.1:2", "02:0a:00:00:00:01", None, "198.19.0.1"),
        ];
        let expected = "\
Status codes: * valid, > best, i - internal, S stale
Origin codes: i - IGP, e - EGP, ? - incomplete
EVPN type-1 prefix: [1]:[EthTag]:[ESI]:[IPlen]:[VTEP-IP]:[Frag-id]
EVPN type-2 prefix: [2]:[EthTag]:[MAClen]:[MAC]:[IPlen]:[IP]
EVPN type-3 prefix: [3]:[EthTag]:[IPlen]:[OrigIP]
EVPN type-4 prefix: [4]:[ESI]:[IPlen]:[OrigIP]
EVPN type-5 prefix: [5]:[EthTag]:[IPlen]:[IP]

   Network          Next Hop            Metric LocPrf Weight Path
Route Distinguisher: 198.19.0.1:2
*>i[2]:[0]:[48]:[02:0a:00:00:00:01]
                    198.19.0.1                    100      0 i
                    RT:65000:10 ET:8
*>i[2]:[0]:[48]:[02:0a:00:00:00:01]:[32]:[198.18.10.1]
                    198.19.0.1                    100      0 i
                    RT:65000:10 ET:8
*>i[3]:[0]:[32]:[198.19.0.1]
                    198.19.0.1                    100      0 i
                    RT:65000:10 ET:8

Displayed 3 prefixes (3 paths)
";
        assert_eq!(render_routes(&rows), expected);
    }

    #[test]
    fn routes_group_by_rd_numerically_and_show_extra_paths() {
        let mut second = route("198.19.0.1:10", "02:0a:00:00:00:01", None, "198.19.0.9");
        second.best = false;
        second.local_pref = None;
        second.med = Some(5);
        second.as_path = "65001 65002".into();
        second.origin = Origin::Incomplete;
        second.internal = false;
        second.mac_mobility = Some(MacMobility::new(true, 3));
        second.default_gateway = true;
        second.route_targets = vec![];
        second.encapsulation = None;
        let mut local = route("198.19.0.1:10", "02:0a:00:00:00:01", None, "198.19.0.1");
        local.peer = "local".into();
        let rows = vec![
            second,
            local,
            route("198.19.0.1:9", "02:0b:00:00:00:01", None, "198.19.0.1"),
        ];
        let out = render_routes(&rows);
        let body: Vec<&str> = out.lines().skip(9).collect();
        assert_eq!(
            body,
            vec![
                "Route Distinguisher: 198.19.0.1:9",
                "*>i[2]:[0]:[48]:[02:0b:00:00:00:01]",
                "                    198.19.0.1                    100      0 i",
                "                    RT:65000:10 ET:8",
                "Route Distinguisher: 198.19.0.1:10",
                "*>i[2]:[0]:[48]:[02:0a:00:00:00:01]",
                "                    198.19.0.1                    100  32768 i",
                "                    RT:65000:10 ET:8",
                "*                   198.19.0.9               5             0 65001 65002 ?",
                "                    MM:3, sticky MAC Default Gateway",
                "",
                "Displayed 2 prefixes (3 paths)",
            ]
        );
    }

    /// GoBGP's type-4 and type-5 routes: their prefixes and extended
    /// communities as FRR 8.4 showed them
    /// (proto-tests/vectors/gobgp/frr-received.json).
    #[test]
    fn es_import_rt_and_router_mac_read_like_frr() {
        let mut es = imet("198.18.0.1:1", "198.18.0.1");
        es.route_type = 4;
        es.esi = Some("01:02:ee:00:00:00:01:00:07:00".into());
        es.route_targets = vec![];
        es.es_import_rt = Some("02:ee:00:00:00:01".into());
        let mut prefix = route("198.18.0.1:100", "", None, "198.18.0.1");
        prefix.route_type = 5;
        prefix.mac = None;
        prefix.prefix = Some("198.18.20.0/24".into());
        prefix.route_targets = vec!["65000:100".into()];
        prefix.router_mac = Some("02:b0:00:00:00:01".into());
        let out = render_routes(&[es, prefix]);
        let body: Vec<&str> = out.lines().skip(9).collect();
        assert_eq!(
            body[..8],
            [
                "Route Distinguisher: 198.18.0.1:1",
                "*>i[4]:[01:02:ee:00:00:00:01:00:07:00]:[32]:[198.18.0.1]",
                "                    198.18.0.1                    100      0 i",
                "                    ET:8 ES-Import-Rt:02:ee:00:00:00:01",
                "Route Distinguisher: 198.18.0.1:100",
                "*>i[5]:[0]:[24]:[198.18.20.0]",
                "                    198.18.0.1                    100      0 i",
                "                    RT:65000:100 ET:8 Rmac:02:b0:00:00:00:01",
            ]
        );
    }

    #[test]
    fn neighbors_read_like_frr_summary() {
        let up = NeighborRow {
            address: "198.19.0.1".parse().unwrap(),
            remote_as: 65000,
            description: Some("n1".into()),
            state: "Established".into(),
            uptime_secs: Some(48),
            families: vec!["l2vpn-evpn".into()],
            prefixes_received: 6,
            prefixes_sent: 18,
            messages_in: 25,
            messages_out: 37,
            last_error: None,
            route_reflector_client: true,
            hold_time: Some(9),
            established_at_ms: Some(1_700_000_000_000),
            stale_routes: 0,
            graceful_restart: Some("restart time 120s, l2vpn-evpn forwarding preserved".into()),
            password: false,
            ttl_security: None,
            max_prefixes: None,
            prefix_limit_exceeded: 0,
            peer_damping: "0.25 s doubling to 120 s, forgotten after 60 s established".into(),
            damping_failures: 0,
            restart_in_ms: None,
            listen_range: None,
            rt_memberships: Some(2),
        };
        let down = NeighborRow {
            address: "198.19.0.2".parse().unwrap(),
            description: None,
            state: "Active".into(),
            uptime_secs: Some(2 * 86_400 + 3 * 3600 + 4 * 60),
            prefixes_received: 0,
            prefixes_sent: 0,
            last_error: Some("hold timer expired".into()),
            hold_time: None,
            stale_routes: 4,
            password: true,
            ttl_security: Some(1),
            max_prefixes: Some("limit 1000, warning at 75%, teardown, restart after 300 s".into()),
            prefix_limit_exceeded: 1,
            damping_failures: 3,
            restart_in_ms: Some(2_150),
            listen_range: Some("198.19.0.0/24".into()),
            rt_memberships: None,
            ..up.clone()
        };
        let expected = "\
Neighbor        V         AS   MsgRcvd   MsgSent  Up/Down State/PfxRcd   PfxSnt Desc
198.19.0.1      4      65000        25        37 00:00:48            6       18 n1
    RT-Constrain: 2 route target membership(s); EVPN routes sent by them only
198.19.0.2      4      65000        25        37 2d03h04m       Active        0 N/A
    last error: hold timer expired
    4 stale routes kept while the peer restarts (graceful restart)
    dynamic neighbor from listen range 198.19.0.0/24
    damped after 3 consecutive failure(s): starts again in 2.1 s (peer damping 0.25 s doubling to 120 s, forgotten after 60 s established; evpnd clear neighbors 198.19.0.2 starts it now)
    TCP-MD5 key set (RFC 2385), ttl-security 1 hop(s) (GTSM, RFC 5082)
    prefix limit exceeded 1 time(s) (limit 1000, warning at 75%, teardown, restart after 300 s)

Total number of neighbors 2
";
        assert_eq!(render_neighbors(&[up, down]), expected);
    }

    #[test]
    fn config_status_and_reload_report() {
        let status = ConfigStatus {
            generation: 2,
            path: Some("/etc/evpnd/evpnd.toml".into()),
            applied_at: 1_700_000_000,
            last_refused: Some("f: bgp.asn: ...".into()),
        };
        assert_eq!(
            render_config(&status),
            "Configuration generation 2\nFile: /etc/evpnd/evpnd.toml\nApplied at: 1700000000 (unix time)\nLast reload refused: f: bgp.asn: ...\n"
        );
        let mut report = ReloadReport {
            applied: true,
            generation: 3,
            changes: vec!["neighbor 198.19.0.3 added".into()],
            error: None,
        };
        assert_eq!(
            render_reload(&report),
            "reloaded: generation 3\n  neighbor 198.19.0.3 added\n"
        );
        report.changes.clear();
        assert_eq!(
            render_reload(&report),
            "no change: generation 3 already runs this configuration\n"
        );
    }

    #[test]
    fn uptime_formats() {
        assert_eq!(format_uptime(None), "never");
        assert_eq!(format_uptime(Some(3661)), "01:01:01");
        assert_eq!(format_uptime(Some(8 * 86_400 + 5 * 3600)), "01w1d05h");
    }

    #[test]
    fn vnis_and_fdb_tables() {
        let vni = VniRow {
            vni: 10,
            vlan: 10,
            rd: "198.19.0.1:2".into(),
            import_rts: vec!["65000:10".into()],
            export_rts: vec!["65000:10".into()],
            remote_vteps: vec!["198.19.0.2".parse().unwrap(), "198.19.0.3".parse().unwrap()],
            local_macs: 1,
            remote_macs: 2,
            warnings: vec!["vxlan0 vlan 10 has no tunnel_info".into()],
        };
        let expected = "\
VNI       VLAN  RD                    Import RTs        Export RTs        Local MACs Remote MACs Remote VTEPs
10        10    198.19.0.1:2          65000:10          65000:10                   1           2 198.19.0.2,198.19.0.3
    warning: vxlan0 vlan 10 has no tunnel_info

Total number of VNIs 1
";
        assert_eq!(render_vnis(&[vni]), expected);
        let fdb = FdbRow {
            vni: 10,
            vlan: 10,
            mac: "02:0a:00:00:00:02".into(),
            ip: Some("198.18.10.2".parse().unwrap()),
            dest: "198.19.0.2".into(),
            port: None,
            port_ifindex: None,
            origin: "installed".into(),
            state: "reachable".into(),
        };
        let local = FdbRow {
            mac: "02:0a:00:00:00:01".into(),
            ip: None,
            dest: "h1a".into(),
            port: Some("h1a".into()),
            port_ifindex: Some(4),
            origin: "learned".into(),
            state: "local".into(),
            ..fdb.clone()
        };
        let expected = "\
VNI       VLAN  MAC               IP                        Dest             Origin    State
10        10    02:0a:00:00:00:01 -                         h1a              learned   local
10        10    02:0a:00:00:00:02 198.18.10.2               198.19.0.2       installed reachable

Total number of entries 2
";
        assert_eq!(render_fdb(&[local, fdb]), expected);
    }
}
