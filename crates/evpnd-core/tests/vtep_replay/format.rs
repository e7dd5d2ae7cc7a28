//! The replay fixtures' text: parsing input lines into the core's values
//! and rendering its outputs (format documented in `../vtep_replay.rs`).

use super::INSTANCES;
use evpnd_core::dataplane::diff::Op;
use evpnd_core::dataplane::model::{
    FloodEntry, Object, OwnedRow, RemoteMac, StrayMacRow, SuppressionNeighbor,
};
use evpnd_core::vtep::{Learned, LearnedRow, VtepEvent};
use evpnd_wire::evpn::EvpnRoute;
use evpnd_wire::mac::MacAddress;
use evpnd_wire::rd::RouteDistinguisher;
use std::time::Duration;

/// `key=value` fields and bare flags of one line.
pub(crate) struct Fields<'a> {
    words: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(words: &[&'a str]) -> Self {
        Self {
            words: words.to_vec(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a str> {
        self.words
            .iter()
            .find_map(|w| w.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
    }

    pub(crate) fn req<T: std::str::FromStr>(&self, key: &str) -> Result<T, String> {
        let v = self.get(key).ok_or_else(|| format!("missing {key}="))?;
        v.parse().map_err(|_| format!("bad {key}={v}"))
    }

    pub(crate) fn opt<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, String> {
        self.get(key).map(|_| self.req(key)).transpose()
    }

    pub(crate) fn flag(&self, name: &str) -> bool {
        self.words.contains(&name)
    }
}

pub(crate) fn parse_mac(f: &Fields<'_>) -> Result<MacAddress, String> {
    let s = f.get("mac").ok_or("missing mac=")?;
    let bytes: Vec<u8> = s
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("bad mac={s}"))?;
    Ok(MacAddress(
        bytes.try_into().map_err(|_| format!("bad mac={s}"))?,
    ))
}

pub(crate) fn parse_row(words: &[&str]) -> Result<Vec<OwnedRow>, String> {
    let f = Fields::new(&words[1..]);
    let sticky = f.flag("sticky");
    Ok(match words.first().copied() {
        Some("flood") => vec![OwnedRow::Flood(FloodEntry {
            vni: f.req("vni")?,
            vtep: f.req("vtep")?,
        })],
        Some("mac") => {
            let vni: u32 = f.req("vni")?;
            let vlan = INSTANCES.iter().find(|i| i.0 == vni).map_or(0, |i| i.1);
            let mac = parse_mac(&f)?;
            vec![
                OwnedRow::MacSelf {
                    vni,
                    mac,
                    vtep: f.req("vtep")?,
                    sticky,
                },
                OwnedRow::MacMaster { vlan, mac, sticky },
            ]
        }
        Some("mac-self") => vec![OwnedRow::MacSelf {
            vni: f.req("vni")?,
            mac: parse_mac(&f)?,
            vtep: f.req("vtep")?,
            sticky,
        }],
        Some("mac-master") => vec![OwnedRow::MacMaster {
            vlan: f.req("vlan")?,
            mac: parse_mac(&f)?,
            sticky,
        }],
        Some("neigh") => vec![OwnedRow::Neighbor(SuppressionNeighbor {
            ifindex: f.req("ifindex")?,
            ip: f.req("ip")?,
            mac: parse_mac(&f)?,
        })],
        other => return Err(format!("unknown row {other:?}")),
    })
}

pub(crate) fn parse_learned(words: &[&str], present: bool) -> Result<Learned, String> {
    let f = Fields::new(&words[1..]);
    let row = match words.first().copied() {
        Some("mac") => LearnedRow::Mac {
            vlan: f.req("vlan")?,
            mac: parse_mac(&f)?,
            port: f.req("port")?,
        },
        Some("neigh") => LearnedRow::Neighbor {
            vlan: f.req("vlan")?,
            ip: f.req("ip")?,
            mac: parse_mac(&f)?,
        },
        other => return Err(format!("unknown learnt row {other:?}")),
    };
    Ok(Learned { row, present })
}

pub(crate) fn parse_object(words: &[&str]) -> Result<Object, String> {
    let f = Fields::new(&words[1..]);
    Ok(match words.first().copied() {
        Some("flood") => Object::Flood(FloodEntry {
            vni: f.req("vni")?,
            vtep: f.req("vtep")?,
        }),
        Some("mac") => Object::Mac(RemoteMac {
            vni: f.req("vni")?,
            vlan: f.req("vlan")?,
            mac: parse_mac(&f)?,
            vtep: f.req("vtep")?,
            sticky: f.flag("sticky"),
        }),
        Some("neigh") => Object::Neighbor(SuppressionNeighbor {
            ifindex: f.req("ifindex")?,
            ip: f.req("ip")?,
            mac: parse_mac(&f)?,
        }),
        other => return Err(format!("unknown object {other:?}")),
    })
}

pub(crate) fn parse_time(s: &str) -> Result<Duration, String> {
    let s = s
        .strip_prefix('+')
        .ok_or_else(|| format!("time {s} lacks +"))?;
    if let Some(ms) = s.strip_suffix("ms") {
        return ms
            .parse()
            .map(Duration::from_millis)
            .map_err(|e| e.to_string());
    }
    let secs = s
        .strip_suffix('s')
        .ok_or_else(|| format!("time {s} lacks s"))?;
    secs.parse()
        .map(Duration::from_secs)
        .map_err(|e| e.to_string())
}

pub(crate) fn show_time(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("+{}s", d.as_secs())
    } else {
        format!("+{}ms", d.as_millis())
    }
}

pub(crate) fn show_object(o: &Object) -> String {
    let sticky = |s: bool| if s { " sticky" } else { "" };
    match o {
        Object::Flood(e) => format!("flood vni={} vtep={}", e.vni, e.vtep),
        Object::Mac(m) => format!(
            "mac vni={} vlan={} mac={} vtep={}{}",
            m.vni,
            m.vlan,
            m.mac,
            m.vtep,
            sticky(m.sticky)
        ),
        Object::Neighbor(n) => format!("neigh ifindex={} ip={} mac={}", n.ifindex, n.ip, n.mac),
        Object::Stray(StrayMacRow::SelfOnly {
            vni,
            vlan,
            mac,
            vtep,
            sticky: s,
        }) => format!(
            "stray-self vni={vni} vlan={vlan} mac={mac} vtep={vtep}{}",
            sticky(*s)
        ),
        Object::Stray(StrayMacRow::MasterOnly {
            vlan,
            mac,
            sticky: s,
        }) => {
            format!("stray-master vlan={vlan} mac={mac}{}", sticky(*s))
        }
    }
}

pub(crate) fn show_op(op: &Op) -> String {
    match op {
        Op::Add(o) => format!("add {}", show_object(o)),
        Op::Replace(o) => format!("replace {}", show_object(o)),
        Op::Delete(o) => format!("delete {}", show_object(o)),
    }
}

pub(crate) fn vni_of_rd(rd: &RouteDistinguisher) -> u32 {
    match rd {
        RouteDistinguisher::Ipv4 { number, .. } => u32::from(*number),
        other => panic!("unexpected RD {other}"),
    }
}

pub(crate) fn show_route(verb: &str, nlri: &[u8], extra: &str) -> String {
    let routes = EvpnRoute::decode_all(nlri, 0).expect("the core sends valid NLRI");
    let [route] = routes.as_slice() else {
        panic!("one route per NLRI")
    };
    match route {
        EvpnRoute::MacIp(r) => {
            let ip = r.ip.map(|ip| format!(" ip={ip}")).unwrap_or_default();
            format!(
                "rib {verb} type2 vni={} mac={}{ip}{extra}",
                vni_of_rd(&r.rd),
                r.mac
            )
        }
        EvpnRoute::InclusiveMulticast(r) => {
            format!("rib {verb} type3 vni={}{extra}", vni_of_rd(&r.rd))
        }
        other => format!("rib {verb} {other}"),
    }
}

pub(crate) fn show_event(e: &VtepEvent) -> String {
    match e {
        VtepEvent::LocalMacLearnt { vlan, mac, port } => {
            format!("local-mac-learnt vlan={vlan} mac={mac} port={port}")
        }
        VtepEvent::LocalMacGone { vlan, mac } => format!("local-mac-gone vlan={vlan} mac={mac}"),
        VtepEvent::StickyElsewhere { vni, mac, vtep } => {
            format!("sticky-elsewhere vni={vni} mac={mac} vtep={vtep}")
        }
        VtepEvent::DuplicateMac { vni, duplicate } => format!(
            "duplicate-mac vni={vni} mac={} from={} moves={}",
            duplicate.mac, duplicate.other_vtep, duplicate.moves
        ),
        VtepEvent::LocalMacMoved { vni, mac } => format!("local-mac-moved vni={vni} mac={mac}"),
        VtepEvent::RtMismatch { vni, .. } => format!("rt-mismatch vni={vni}"),
        VtepEvent::DriftRepaired { object, removed } => format!(
            "drift-repaired {} {}",
            if *removed { "removed" } else { "changed" },
            show_object(object)
        ),
        VtepEvent::InitialSyncOver { why, operations } => {
            format!("initial-sync-over {why:?} operations={operations}")
        }
        VtepEvent::Retrying { operations } => format!("retrying operations={operations}"),
        VtepEvent::Reconfigured {
            changes,
            operations,
        } => format!(
            "reconfigured added={:?} removed={:?} readvertised={:?} reimported={:?} operations={operations}",
            changes.added, changes.removed, changes.readvertised, changes.reimported
        ),
    }
}
