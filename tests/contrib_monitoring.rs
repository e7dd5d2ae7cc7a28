//! contrib/: the Prometheus rules and the Grafana dashboard name only metrics
//! evpnd exports, and the dashboard shows every one of them. What evpnd
//! exports is read from the daemon's own exposition text (the `# TYPE`
//! lines `render` writes), not from a list kept by hand, so a renamed or
//! removed metric fails here. promtool checks the rules' behaviour and the
//! queries' syntax (contrib/check.sh, run by scripts/test.sh).

use evpnd::daemon::metrics::{PeerMetrics, Snapshot, render};
use evpnd::vtep::VtepStats;
use std::collections::BTreeSet;
use std::path::Path;

fn contrib(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every metric family a scrape of a VTEP with one peer reports.
fn exported() -> BTreeSet<String> {
    let snapshot = Snapshot {
        peers: vec![PeerMetrics {
            address: "198.19.0.2".parse().unwrap(),
            established: true,
            messages_in: 0,
            messages_out: 0,
            updates_in: 0,
            updates_out: 0,
            prefixes_received: 0,
            stale_routes: 0,
        }],
        vtep: Some(VtepStats::default()),
        ..Snapshot::default()
    };
    let families: BTreeSet<String> = render(&snapshot)
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(String::from)
        .collect();
    assert!(families.len() > 10, "too few families: {families:?}");
    families
}

/// The `evpnd_...` metric names in `text`. Recording rules (`evpnd:...`) are
/// Prometheus's, not evpnd's, and are not names of this form.
fn metric_names(text: &str) -> BTreeSet<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("evpnd_") {
        if text[..at].chars().next_back().is_some_and(is_name) {
            continue;
        }
        let name: String = text[at..].chars().take_while(|c| is_name(*c)).collect();
        names.insert(name);
    }
    names
}

/// The PromQL of every panel target and template variable.
fn dashboard_queries(node: &serde_json::Value, out: &mut Vec<String>) {
    match node {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr" | "definition", serde_json::Value::String(q)) => out.push(q.clone()),
                    _ => dashboard_queries(value, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| dashboard_queries(v, out)),
        _ => {}
    }
}

#[test]
fn the_grafana_dashboard_shows_every_exported_metric_and_nothing_else() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&contrib("grafana/evpnd.json")).expect("evpnd.json is JSON");
    let mut queries = Vec::new();
    dashboard_queries(&dashboard, &mut queries);
    let panels = dashboard["panels"].as_array().expect("panels");
    let targets: usize = panels
        .iter()
        .map(|p| p["targets"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(targets > 10, "{targets} panel queries");
    let shown: BTreeSet<String> = queries.iter().flat_map(|q| metric_names(q)).collect();
    let exported = exported();
    let unknown: Vec<_> = shown.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard queries metrics evpnd does not export: {unknown:?}"
    );
    let missing: Vec<_> = exported.difference(&shown).collect();
    assert!(missing.is_empty(), "exported but on no panel: {missing:?}");
}

#[test]
fn the_alert_rules_and_their_tests_name_exported_metrics() {
    let exported = exported();
    for file in [
        "prometheus/evpnd-alerts.yml",
        "prometheus/evpnd-alerts.test.yml",
        "README.md",
    ] {
        let named = metric_names(&contrib(file));
        let unknown: Vec<_> = named.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{file} names metrics evpnd does not export: {unknown:?}"
        );
    }
    // What issue 11 asks to alert on: sessions, prefixes, duplicate MACs,
    // drift repairs and kernel (netlink) failures.
    let alerted = metric_names(&contrib("prometheus/evpnd-alerts.yml"));
    for metric in [
        "evpnd_peer_established",
        "evpnd_peer_prefixes_received",
        "evpnd_duplicate_macs",
        "evpnd_drift_repairs_total",
        "evpnd_reconciler_failures_total",
    ] {
        assert!(alerted.contains(metric), "no rule on {metric}");
    }
}

#[test]
fn metric_names_are_whole_words() {
    assert_eq!(
        metric_names("rate(evpnd_a_total[5m]) / evpnd:limit + x_evpnd_b + evpnd_c{vni=\"1\"}"),
        ["evpnd_a_total", "evpnd_c"].map(String::from).into()
    );
}
