//! What changed between the running configuration and a reloaded one, and
//! whether the daemon can apply it without a restart (`evpnd reload`,
//! SIGHUP). Pure: two validated [`Config`]s in, a [`ReloadPlan`] or the
//! list of keys that refuse it out.
//!
//! What applies live:
//! - neighbours added, removed or changed (only those sessions reset; a
//!   removed one ends with Cease / Peer De-configured, RFC 4486 subcode 3;
//!   a changed one is removed and added again). A change of `description`
//!   alone resets nothing.
//! - listen ranges added, removed or changed (the dynamic sessions of a
//!   removed range end with Cease / Peer De-configured, those of a changed
//!   one are reset and come back under the new template; a new
//!   `max_sessions` applies to the sessions accepted from then on).
//! - `log.level`.
//!
//! What needs a restart, named key by key: the local speaker's identity and
//! listeners (`bgp.*`: every session's OPEN or the listening sockets depend
//! on them), the control socket, `log.format`, `metrics.listen`, the VTEP's
//! devices and, for now, its VNIs and route targets (the VTEP task takes its
//! instances once, at start).

use super::{Config, NeighborConfig, VniConfig, VtepConfig};
use ipnetwork::IpNetwork;
use std::fmt;
use std::net::IpAddr;

/// The neighbours, VNIs and log level that differ, in the order they
/// appear in the new file (removed ones in the order of the old file).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigDiff {
    /// In the new file only.
    pub neighbors_added: Vec<NeighborConfig>,
    /// In the old file only (by address).
    pub neighbors_removed: Vec<IpAddr>,
    /// The same address with different session parameters: the new form.
    /// Its session is reset (removed, then added).
    pub neighbors_changed: Vec<NeighborConfig>,
    /// Only the description differs: the new form, no reset.
    pub neighbors_renamed: Vec<NeighborConfig>,
    /// VNIs in the new file only.
    pub vnis_added: Vec<VniConfig>,
    /// VNIs in the old file only.
    pub vnis_removed: Vec<VniConfig>,
    /// The same VNI with other import or export route targets: (old, new).
    pub route_targets_changed: Vec<(VniConfig, VniConfig)>,
    /// The same VNI on another VLAN or with another RD: (old, new).
    pub vnis_changed: Vec<(VniConfig, VniConfig)>,
    /// Listen ranges in the new file only.
    pub ranges_added: Vec<IpNetwork>,
    /// Listen ranges in the old file only: their sessions end.
    pub ranges_removed: Vec<IpNetwork>,
    /// The same prefix with another template: its sessions are reset.
    pub ranges_changed: Vec<IpNetwork>,
    /// The same prefix and template with another `max_sessions`: (prefix,
    /// new limit).
    pub ranges_resized: Vec<(IpNetwork, u32)>,
    /// The new `log.level`, when it differs.
    pub log_level: Option<String>,
}

impl ConfigDiff {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        *self == ConfigDiff::default()
    }

    /// Whether the EVPN instances differ (for the VTEP task).
    pub fn vnis_differ(&self) -> bool {
        !(self.vnis_added.is_empty()
            && self.vnis_removed.is_empty()
            && self.route_targets_changed.is_empty()
            && self.vnis_changed.is_empty())
    }

    /// One line per change, for the log and the `reload` answer.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in &self.neighbors_added {
            out.push(format!("neighbor {} added", n.address));
        }
        for a in &self.neighbors_removed {
            out.push(format!("neighbor {a} removed"));
        }
        for n in &self.neighbors_changed {
            out.push(format!("neighbor {} changed (session reset)", n.address));
        }
        for n in &self.neighbors_renamed {
            out.push(format!("neighbor {} description changed", n.address));
        }
        for v in &self.vnis_added {
            out.push(format!("VNI {} (VLAN {}) added", v.vni, v.vlan));
        }
        for v in &self.vnis_removed {
            out.push(format!("VNI {} (VLAN {}) removed", v.vni, v.vlan));
        }
        for (old, _) in &self.route_targets_changed {
            out.push(format!("VNI {} route targets changed", old.vni));
        }
        for (old, _) in &self.vnis_changed {
            out.push(format!("VNI {} VLAN or RD changed", old.vni));
        }
        for r in &self.ranges_added {
            out.push(format!("listen range {r} added"));
        }
        for r in &self.ranges_removed {
            out.push(format!("listen range {r} removed (its sessions end)"));
        }
        for r in &self.ranges_changed {
            out.push(format!("listen range {r} changed (its sessions reset)"));
        }
        for (r, limit) in &self.ranges_resized {
            out.push(format!("listen range {r} takes at most {limit} sessions"));
        }
        if let Some(level) = &self.log_level {
            out.push(format!("log level {level:?}"));
        }
        out
    }
}

/// One key whose change the running daemon cannot apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The key, as `check-config` names it (`bgp.router_id`, `vtep.vnis[1]`).
    pub key: String,
    /// What changed and why it cannot apply live.
    pub message: String,
}

/// A reload the daemon refuses: nothing is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadRefused {
    pub refusals: Vec<Refusal>,
}

impl fmt::Display for ReloadRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.refusals.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", r.key, r.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ReloadRefused {}

/// The changes the daemon applies, in this order: log level, removed and
/// changed neighbours stopped, changed and added neighbours started,
/// descriptions updated.
pub type ReloadPlan = ConfigDiff;

/// Compare the running `old` configuration with `new`. Every key that
/// cannot change while running is listed (not only the first), so one
/// attempt tells the operator everything a restart would be needed for.
pub fn plan(old: &Config, new: &Config) -> Result<ReloadPlan, ReloadRefused> {
    let mut refusals = Vec::new();
    fixed_keys(old, new, &mut refusals);
    let diff = diff(old, new);
    if refusals.is_empty() {
        Ok(diff)
    } else {
        Err(ReloadRefused { refusals })
    }
}

/// Neighbours, VNIs and log level: what differs, whether or not it can
/// apply live.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut d = ConfigDiff::default();
    for n in &new.neighbors {
        match old.neighbors.iter().find(|o| o.address == n.address) {
            None => d.neighbors_added.push(n.clone()),
            Some(o) if o == n => {}
            Some(o) => {
                let mut same = o.clone();
                same.description.clone_from(&n.description);
                if same == *n {
                    d.neighbors_renamed.push(n.clone());
                } else {
                    d.neighbors_changed.push(n.clone());
                }
            }
        }
    }
    for o in &old.neighbors {
        if !new.neighbors.iter().any(|n| n.address == o.address) {
            d.neighbors_removed.push(o.address);
        }
    }
    let no_vnis: &[VniConfig] = &[];
    let old_vnis = old.vtep.as_ref().map_or(no_vnis, |v| &v.vnis);
    let new_vnis = new.vtep.as_ref().map_or(no_vnis, |v| &v.vnis);
    for v in new_vnis {
        match old_vnis.iter().find(|o| o.vni == v.vni) {
            None => d.vnis_added.push(v.clone()),
            Some(o) if o == v => {}
            Some(o) if o.vlan == v.vlan && o.rd == v.rd => {
                d.route_targets_changed.push((o.clone(), v.clone()));
            }
            Some(o) => d.vnis_changed.push((o.clone(), v.clone())),
        }
    }
    for o in old_vnis {
        if !new_vnis.iter().any(|v| v.vni == o.vni) {
            d.vnis_removed.push(o.clone());
        }
    }
    for r in &new.listen_ranges {
        match old.listen_ranges.iter().find(|o| o.prefix == r.prefix) {
            None => d.ranges_added.push(r.prefix),
            Some(o) if o.template != r.template => d.ranges_changed.push(r.prefix),
            Some(o) if o.max_sessions != r.max_sessions => {
                d.ranges_resized.push((r.prefix, r.max_sessions));
            }
            Some(_) => {}
        }
    }
    for o in &old.listen_ranges {
        if !new.listen_ranges.iter().any(|r| r.prefix == o.prefix) {
            d.ranges_removed.push(o.prefix);
        }
    }
    if old.log.level != new.log.level {
        d.log_level = Some(new.log.level.clone());
    }
    d
}

/// The keys that only a restart applies.
fn fixed_keys(old: &Config, new: &Config, out: &mut Vec<Refusal>) {
    let mut fixed = |key: &str, differs: bool, what: String| {
        if differs {
            out.push(Refusal {
                key: key.to_string(),
                message: format!("{what}: cannot change while evpnd runs; restart it to apply"),
            });
        }
    };
    let (o, n) = (&old.bgp, &new.bgp);
    fixed("bgp.asn", o.asn != n.asn, format!("{} -> {}", o.asn, n.asn));
    fixed(
        "bgp.router_id",
        o.router_id != n.router_id,
        format!("{} -> {}", o.router_id, n.router_id),
    );
    fixed(
        "bgp.listen",
        o.listen != n.listen,
        format!("{:?} -> {:?}", o.listen, n.listen),
    );
    fixed(
        "bgp.port",
        o.port != n.port,
        format!("{} -> {}", o.port, n.port),
    );
    fixed(
        "bgp.cluster_id",
        o.cluster_id != n.cluster_id,
        format!("{} -> {}", o.cluster_id, n.cluster_id),
    );
    fixed(
        "bgp.hold_time",
        o.hold_time != n.hold_time,
        format!("{} -> {}", o.hold_time, n.hold_time),
    );
    fixed(
        "bgp.keepalive",
        o.keepalive != n.keepalive,
        format!("{} -> {}", o.keepalive, n.keepalive),
    );
    fixed(
        "bgp.connect_retry",
        o.connect_retry != n.connect_retry,
        format!(
            "{} -> {}",
            o.connect_retry.as_secs(),
            n.connect_retry.as_secs()
        ),
    );
    fixed(
        "bgp.extended_message",
        o.extended_message != n.extended_message,
        format!("{} -> {}", o.extended_message, n.extended_message),
    );
    fixed(
        "bgp.families",
        o.families != n.families,
        "changed".to_string(),
    );
    fixed(
        "bgp.peer_queue_bytes",
        o.peer_queue_bytes != n.peer_queue_bytes,
        format!("{} -> {}", o.peer_queue_bytes, n.peer_queue_bytes),
    );
    // Keys added to [bgp] after this list was written: named as the section.
    if o != n && fixed_count(o, n) == 0 {
        fixed("bgp", true, "changed".to_string());
    }
    vtep_keys(old.vtep.as_ref(), new.vtep.as_ref(), &mut fixed);
    fixed(
        "control.socket",
        old.control.socket != new.control.socket,
        format!(
            "{} -> {}",
            old.control.socket.display(),
            new.control.socket.display()
        ),
    );
    fixed(
        "control.mode",
        old.control.mode != new.control.mode,
        format!("{:o} -> {:o}", old.control.mode, new.control.mode),
    );
    // The socket's owner and group are set when it is bound, and the
    // admin group is handed to the server then: all three need a restart.
    let id = |i: &Option<super::SystemId>, kind| {
        i.as_ref()
            .map_or_else(|| "unset".to_string(), |i| i.describe(kind))
    };
    for (key, kind, o, n) in [
        (
            "control.owner",
            "user",
            &old.control.owner,
            &new.control.owner,
        ),
        (
            "control.group",
            "group",
            &old.control.group,
            &new.control.group,
        ),
        (
            "control.admin_group",
            "group",
            &old.control.admin_group,
            &new.control.admin_group,
        ),
    ] {
        fixed(key, o != n, format!("{} -> {}", id(o, kind), id(n, kind)));
    }
    fixed(
        "log.format",
        old.log.format != new.log.format,
        format!("{:?} -> {:?}", old.log.format, new.log.format),
    );
    fixed(
        "metrics.listen",
        old.metrics.listen != new.metrics.listen,
        format!("{:?} -> {:?}", old.metrics.listen, new.metrics.listen),
    );
}

/// How many of the `[bgp]` keys named in [`fixed_keys`] differ.
fn fixed_count(o: &super::BgpConfig, n: &super::BgpConfig) -> usize {
    [
        o.asn != n.asn,
        o.router_id != n.router_id,
        o.listen != n.listen,
        o.port != n.port,
        o.cluster_id != n.cluster_id,
        o.hold_time != n.hold_time,
        o.keepalive != n.keepalive,
        o.connect_retry != n.connect_retry,
        o.extended_message != n.extended_message,
        o.families != n.families,
        o.peer_queue_bytes != n.peer_queue_bytes,
    ]
    .into_iter()
    .filter(|d| *d)
    .count()
}

fn vtep_keys(
    old: Option<&VtepConfig>,
    new: Option<&VtepConfig>,
    fixed: &mut impl FnMut(&str, bool, String),
) {
    match (old, new) {
        (None, None) => {}
        (None, Some(_)) => fixed("vtep", true, "section added".into()),
        (Some(_), None) => fixed("vtep", true, "section removed".into()),
        (Some(o), Some(n)) => {
            fixed(
                "vtep.bridge",
                o.bridge != n.bridge,
                format!("{} -> {}", o.bridge, n.bridge),
            );
            fixed(
                "vtep.vxlan_device",
                o.vxlan_device != n.vxlan_device,
                format!("{} -> {}", o.vxlan_device, n.vxlan_device),
            );
            fixed(
                "vtep.local_ip",
                o.local_ip != n.local_ip,
                format!("{} -> {}", o.local_ip, n.local_ip),
            );
            fixed(
                "vtep.vxlan_port",
                o.vxlan_port != n.vxlan_port,
                format!("{} -> {}", o.vxlan_port, n.vxlan_port),
            );
            fixed(
                "vtep.bridge_mac",
                o.bridge_mac != n.bridge_mac,
                "changed".into(),
            );
            fixed(
                "vtep.dataplane",
                o.dataplane != n.dataplane,
                format!("{:?} -> {:?}", o.dataplane, n.dataplane),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        [bgp]
        asn = 65000
        router_id = "198.19.0.4"
        listen = ["198.19.0.4"]

        [[neighbors]]
        address = "198.19.0.1"
        remote_as = 65000
        route_reflector_client = true

        [[neighbors]]
        address = "198.19.0.2"
        remote_as = 65000
        description = "n2"
        route_reflector_client = true

        [vtep]
        local_ip = "198.19.0.4"
        dataplane = "none"

        [[vtep.vnis]]
        vlan = 10
        vni = 10

        [[vtep.vnis]]
        vlan = 11
        vni = 11
    "#;

    fn config(text: &str) -> Config {
        Config::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn edited(from: &str, to: &str) -> Config {
        assert!(BASE.contains(from), "{from}");
        config(&BASE.replacen(from, to, 1))
    }

    fn keys(refused: &ReloadRefused) -> Vec<&str> {
        refused.refusals.iter().map(|r| r.key.as_str()).collect()
    }

    #[test]
    fn the_same_file_changes_nothing() {
        let plan = plan(&config(BASE), &config(BASE)).unwrap();
        assert!(plan.is_empty());
        assert!(plan.describe().is_empty());
    }

    #[test]
    fn neighbours_added_removed_changed_and_renamed() {
        let old = config(BASE);
        let third = "\n[[neighbors]]\naddress = \"198.19.0.3\"\nremote_as = 65000\n";
        let new = config(&format!("{BASE}{third}"));
        let p = plan(&old, &new).unwrap();
        assert_eq!(p.neighbors_added.len(), 1);
        assert_eq!(p.neighbors_added[0].address.to_string(), "198.19.0.3");
        assert!(p.neighbors_removed.is_empty() && p.neighbors_changed.is_empty());
        // And back: removed.
        let p = plan(&new, &old).unwrap();
        assert_eq!(
            p.neighbors_removed,
            vec!["198.19.0.3".parse::<IpAddr>().unwrap()]
        );
        assert!(p.neighbors_added.is_empty());

        // A session parameter: the session resets.
        let held = edited(
            "description = \"n2\"",
            "description = \"n2\"\n        hold_time = 30",
        );
        let p = plan(&old, &held).unwrap();
        assert_eq!(p.neighbors_changed.len(), 1);
        assert_eq!(p.neighbors_changed[0].hold_time, 30);
        assert!(p.neighbors_renamed.is_empty());

        // The description alone: no reset.
        let renamed = edited("description = \"n2\"", "description = \"spine\"");
        let p = plan(&old, &renamed).unwrap();
        assert!(p.neighbors_changed.is_empty());
        assert_eq!(p.neighbors_renamed[0].description.as_deref(), Some("spine"));
        assert_eq!(
            p.describe(),
            vec!["neighbor 198.19.0.2 description changed"]
        );
    }

    #[test]
    fn listen_ranges_added_removed_changed_and_resized() {
        let range = |extra: &str| {
            config(&format!(
                "{BASE}\n[[listen_ranges]]\nprefix = \"198.18.0.0/24\"\nremote_as = 65000\n{extra}"
            ))
        };
        let old = config(BASE);
        let with = range("");
        let prefix: IpNetwork = "198.18.0.0/24".parse().unwrap();
        let p = plan(&old, &with).unwrap();
        assert_eq!(p.ranges_added, vec![prefix]);
        assert_eq!(p.describe(), vec!["listen range 198.18.0.0/24 added"]);
        assert_eq!(plan(&with, &old).unwrap().ranges_removed, vec![prefix]);
        // The template: its sessions reset.
        let p = plan(&with, &range("hold_time = 30\n")).unwrap();
        assert_eq!(p.ranges_changed, vec![prefix]);
        // The limit alone: nothing reset.
        let p = plan(&with, &range("max_sessions = 5\n")).unwrap();
        assert_eq!(
            (p.ranges_changed.len(), p.ranges_resized.clone()),
            (0, vec![(prefix, 5)])
        );
        assert!(plan(&with, &range("")).unwrap().is_empty());
    }

    #[test]
    fn reordering_neighbours_changes_nothing() {
        let old = config(BASE);
        let mut new = old.clone();
        new.neighbors.reverse();
        assert!(plan(&old, &new).unwrap().is_empty());
    }

    #[test]
    fn log_level_applies_live() {
        let old = config(BASE);
        let new = config(&format!("{BASE}\n[log]\nlevel = \"debug\"\n"));
        let p = plan(&old, &new).unwrap();
        assert_eq!(p.log_level.as_deref(), Some("debug"));
        assert_eq!(p.describe(), vec!["log level \"debug\""]);
    }

    #[test]
    fn identity_and_listeners_need_a_restart_each_key_named() {
        let old = config(BASE);
        let new = config(
            &BASE
                .replacen(
                    "router_id = \"198.19.0.4\"",
                    "router_id = \"198.19.0.5\"",
                    1,
                )
                .replacen("listen = [\"198.19.0.4\"]", "listen = [\"198.19.0.5\"]", 1)
                .replacen("asn = 65000", "asn = 65000\nhold_time = 30", 1),
        );
        let refused = plan(&old, &new).unwrap_err();
        assert_eq!(
            keys(&refused),
            // cluster_id follows router_id, keepalive hold_time.
            [
                "bgp.router_id",
                "bgp.listen",
                "bgp.cluster_id",
                "bgp.hold_time",
                "bgp.keepalive"
            ]
        );
        let text = refused.to_string();
        assert!(
            text.starts_with("bgp.router_id: 198.19.0.4 -> 198.19.0.5: cannot change while evpnd runs; restart it to apply"),
            "{text}"
        );
    }

    #[test]
    fn other_fixed_sections_are_named() {
        let old = config(BASE);
        let new = config(&format!(
            "{}\n[control]\nsocket = \"/tmp/reload-x.sock\"\n[log]\nformat = \"json\"\n[metrics]\nlisten = \"127.0.0.1:9180\"\n",
            BASE.replacen(
                "dataplane = \"none\"",
                "dataplane = \"none\"\nbridge = \"br9\"",
                1
            )
        ));
        assert_eq!(
            keys(&plan(&old, &new).unwrap_err()),
            [
                "vtep.bridge",
                "control.socket",
                "log.format",
                "metrics.listen"
            ]
        );
        let mut no_vtep = old.clone();
        no_vtep.vtep = None;
        assert_eq!(keys(&plan(&old, &no_vtep).unwrap_err())[0], "vtep");
    }

    #[test]
    fn vni_and_route_target_changes_apply_live() {
        let config_of =
            |text: &str| config(&text.replacen("dataplane = \"none\"", "dataplane = \"linux\"", 1));
        let edited = |from: &str, to: &str| config_of(&BASE.replacen(from, to, 1));
        let old = config_of(BASE);
        let added = config_of(&format!("{BASE}\n[[vtep.vnis]]\nvlan = 12\nvni = 12\n"));
        let p = plan(&old, &added).unwrap();
        assert_eq!(p.vnis_added.len(), 1);
        assert!(p.vnis_differ());
        assert_eq!(p.describe(), vec!["VNI 12 (VLAN 12) added"]);

        let removed = plan(&added, &old).unwrap();
        assert_eq!(removed.describe(), vec!["VNI 12 (VLAN 12) removed"]);

        let rt = edited("vni = 11", "vni = 11\n        import_rts = [\"65000:99\"]");
        let p = plan(&old, &rt).unwrap();
        assert_eq!(p.route_targets_changed.len(), 1);
        assert!(p.vnis_changed.is_empty());
        assert_eq!(p.describe(), vec!["VNI 11 route targets changed"]);

        let moved = edited("vlan = 11", "vlan = 111");
        let p = plan(&old, &moved).unwrap();
        assert_eq!(p.vnis_changed.len(), 1);
        assert!(p.vnis_differ());

        // The devices still need a restart, named with the VNI change.
        let both = config_of(&BASE.replacen("vlan = 11", "vlan = 111", 1).replacen(
            "local_ip = \"198.19.0.4\"",
            "local_ip = \"198.19.0.9\"",
            1,
        ));
        assert_eq!(keys(&plan(&old, &both).unwrap_err()), ["vtep.local_ip"]);
    }
}
