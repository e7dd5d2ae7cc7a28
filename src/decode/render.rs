//! Rendering reports: the human form (one FRR-debug-like block per
//! message) and JSON lines, written and counted by the `Printer`.

use super::framing::FramingError;
use super::report::{CapturedAt, MpReport, Report, Route, report, to_hex};
use evpnd_wire::attribute::{AttributeValue, PathAttribute};
use evpnd_wire::evpn::{
    Esi, EvpnRoute, EvpnRouteView, Type1Route, Type2Route, Type3Route, Type4Route, Type5Route,
};
use evpnd_wire::extcomm::EvpnCommunities;
use evpnd_wire::message::{DecodeOptions, Message};
use evpnd_wire::open::Open;
use evpnd_wire::prefix::Prefix;
use evpnd_wire::update::Update;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::io::Write;

/// Writes reports to the output and counts them.
pub(super) struct Printer<'a> {
    out: &'a mut dyn Write,
    json: bool,
    pub(super) messages: usize,
    pub(super) failed: usize,
    /// The output went away (e.g. a closed pipe): keep counting, stop writing.
    closed: bool,
}

impl<'a> Printer<'a> {
    pub(super) fn new(out: &'a mut dyn Write, json: bool) -> Self {
        Self {
            out,
            json,
            messages: 0,
            failed: 0,
            closed: false,
        }
    }

    fn emit(&mut self, text: &str) {
        if !self.closed && self.out.write_all(text.as_bytes()).is_err() {
            self.closed = true;
        }
    }

    /// Decode, print and count one message; returns what was decoded.
    pub(super) fn message(
        &mut self,
        origin: Option<CapturedAt>,
        bytes: &[u8],
        opts: &DecodeOptions,
    ) -> Option<Message> {
        let report = report(self.messages, origin, bytes, opts);
        self.messages += 1;
        if !report.errors.is_empty() {
            self.failed += 1;
        }
        let text = if self.json {
            let mut line = json_report(&report, bytes).to_string();
            line.push('\n');
            line
        } else {
            human_report(&report)
        };
        self.emit(&text);
        report.message
    }

    pub(super) fn framing_error(&mut self, origin: Option<CapturedAt>, error: &FramingError) {
        self.failed += 1;
        let text = if self.json {
            let mut object = Map::new();
            if let Some(o) = origin {
                insert_origin(&mut object, &o);
            }
            object.insert("error".into(), json!(error.to_string()));
            if let Some(action) = error.action() {
                object.insert("action".into(), json!(action));
            }
            let mut line = Value::Object(object).to_string();
            line.push('\n');
            line
        } else {
            let mut text = String::from("!!");
            if let Some(o) = origin {
                let _ = write!(text, " {}", origin_text(&o));
            }
            let _ = writeln!(text, " error: {error}");
            if let Some(action) = error.action() {
                let _ = writeln!(text, "   action: {action}");
            }
            text
        };
        self.emit(&text);
    }
}

fn origin_text(o: &CapturedAt) -> String {
    format!("{:+.3}s {} -> {}", o.seconds(), o.src, o.dst)
}

fn insert_origin(object: &mut Map<String, Value>, o: &CapturedAt) {
    object.insert("time".into(), json!(o.seconds()));
    object.insert("src".into(), json!(o.src.to_string()));
    object.insert("dst".into(), json!(o.dst.to_string()));
}

/// An ESI as FRR's debug log writes it: `0` when all zeros (single-homed,
/// RFC 7432 section 5), else ten colon-separated octets.
fn esi_text(esi: &Esi) -> String {
    if esi.is_zero() {
        "0".to_owned()
    } else {
        esi.to_string()
    }
}

/// `[1] RD 198.18.0.1:11 ESI 01:02:ee:00:00:00:01:00:07:00 ET 0 label 11`
fn type1_text(r: &Type1Route) -> String {
    format!(
        "[1] RD {} ESI {} ET {} label {}",
        r.rd,
        esi_text(&r.esi),
        r.ethernet_tag,
        r.label
    )
}

/// `[2] RD 198.19.0.1:2 ESI 0 ET 0 MAC 02:0a:00:00:00:01 IP 198.18.10.1 label 10`
fn type2_text(r: &Type2Route) -> String {
    let ip = r.ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let mut text = format!(
        "[2] RD {} ESI {} ET {} MAC {} IP {ip} label {}",
        r.rd,
        esi_text(&r.esi),
        r.ethernet_tag,
        r.mac,
        r.label1
    );
    if let Some(label2) = r.label2 {
        let _ = write!(text, "/{label2}");
    }
    text
}

/// `[3] RD 198.19.0.3:2 ET 0 orig 198.19.0.3`
fn type3_text(r: &Type3Route) -> String {
    format!(
        "[3] RD {} ET {} orig {}",
        r.rd, r.ethernet_tag, r.originating_router
    )
}

/// `[4] RD 198.18.0.2:1 ESI 00:11:22:33:44:55:66:77:88:99 orig 198.18.0.2`
fn type4_text(r: &Type4Route) -> String {
    format!(
        "[4] RD {} ESI {} orig {}",
        r.rd,
        esi_text(&r.esi),
        r.originating_router
    )
}

/// `[5] RD 198.18.0.2:100 ESI 0 ET 0 prefix 198.18.21.0/24 gw 198.18.21.1
/// label 100`; the gateway as sent, all zeros included.
fn type5_text(r: &Type5Route) -> String {
    format!(
        "[5] RD {} ESI {} ET {} prefix {} gw {} label {}",
        r.rd,
        esi_text(&r.esi),
        r.ethernet_tag,
        r.cidr(),
        r.gateway,
        r.label
    )
}

fn route_text(route: &Route) -> String {
    match route {
        Route::Prefix(p) => p.to_string(),
        Route::Evpn { path_id, route } => {
            let mut text = path_id.map_or_else(String::new, |id| format!("path-id {id} "));
            text += &match route.view() {
                EvpnRouteView::EthernetAd(r) => type1_text(&r),
                EvpnRouteView::MacIp(r) => type2_text(r),
                EvpnRouteView::InclusiveMulticast(r) => type3_text(r),
                EvpnRouteView::EthernetSegment(r) => type4_text(&r),
                EvpnRouteView::IpPrefix(r) => type5_text(&r),
                EvpnRouteView::Opaque { route_type, value } => match route.rd() {
                    Some(rd) => format!("[{route_type}] RD {rd} value 0x{}", to_hex(value)),
                    None => format!("[{route_type}] value 0x{}", to_hex(value)),
                },
            };
            text
        }
    }
}

fn attribute_text(attribute: &PathAttribute) -> String {
    match &attribute.value {
        AttributeValue::AsPath(p) if p.segments.is_empty() => "AS_PATH (empty)".to_owned(),
        _ => attribute.to_string(),
    }
}

fn human_report(report: &Report) -> String {
    let mut text = format!("#{}", report.index);
    if let Some(o) = &report.origin {
        let _ = write!(text, " {}", origin_text(o));
    }
    let _ = write!(text, " {} len={}", report.type_name, report.length);
    match &report.message {
        Some(Message::Update(u)) => {
            if let Some(family) = u.is_end_of_rib() {
                let _ = write!(text, " End-of-RIB {family}");
            }
            text.push('\n');
            human_update(&mut text, report, u);
        }
        Some(Message::Open(o)) => {
            text.push('\n');
            human_open(&mut text, o);
        }
        Some(Message::Notification(n)) => {
            let _ = writeln!(text, "\n  {n}");
        }
        Some(Message::RouteRefresh(rr)) => {
            let _ = writeln!(text, "\n  {rr}");
        }
        Some(Message::Keepalive) | None => text.push('\n'),
    }
    for error in &report.errors {
        let _ = writeln!(text, "  error: {error}");
    }
    if let Some(action) = &report.action {
        let _ = writeln!(text, "  action: {action}");
    }
    text
}

fn human_open(text: &mut String, open: &Open) {
    let _ = writeln!(
        text,
        "  version {} AS {} hold {} id {}",
        open.version,
        open.asn(),
        open.hold_time,
        open.bgp_identifier
    );
    let capabilities: Vec<String> = open.capabilities().map(ToString::to_string).collect();
    if !capabilities.is_empty() {
        let _ = writeln!(text, "  capabilities: {}", capabilities.join("; "));
    }
}

fn human_mp(text: &mut String, name: &str, mp: &MpReport, sign: char) {
    let _ = write!(
        text,
        "  {name} afi {} safi {}",
        mp.family.afi.0, mp.family.safi.0
    );
    if let Some(next_hop) = &mp.next_hop {
        let _ = write!(text, " nexthop {next_hop}");
    }
    if mp.next_hop.is_none() && mp.routes.is_empty() && mp.undecoded.is_none() {
        text.push_str(" (End-of-RIB)");
    }
    text.push('\n');
    for route in &mp.routes {
        let _ = writeln!(text, "    {sign} {}", route_text(route));
    }
    if let Some(hex) = &mp.undecoded {
        let _ = writeln!(text, "    {sign} NLRI 0x{hex}");
    }
}

fn human_update(text: &mut String, report: &Report, update: &Update) {
    if let Some(mp) = &report.reach {
        human_mp(text, "MP_REACH_NLRI", mp, '+');
    }
    if let Some(mp) = &report.unreach {
        human_mp(text, "MP_UNREACH_NLRI", mp, '-');
    }
    for p in &report.withdrawn {
        let _ = writeln!(text, "  - {p}");
    }
    for p in &report.nlri {
        let _ = writeln!(text, "  + {p}");
    }
    let attrs: Vec<String> = update
        .attributes
        .iter()
        .filter(|a| {
            !matches!(
                a.value,
                AttributeValue::MpReach(_) | AttributeValue::MpUnreach(_)
            )
        })
        .map(attribute_text)
        .collect();
    if !attrs.is_empty() {
        let _ = writeln!(text, "  attrs: {}", attrs.join("; "));
    }
}

fn json_route(route: &Route) -> Value {
    match route {
        Route::Prefix(p) => json!(p.to_string()),
        Route::Evpn { path_id, route } => {
            // The wire fields as the typed route or view names them
            // (label1, originating_router, prefix_len, gateway ...), then
            // the fields by meaning as `show routes --json` names them
            // (labels, originator_ip, prefix in CIDR, gateway_ip ...).
            let mut value = serde_json::to_value(route.view()).unwrap_or(Value::Null);
            if let (Value::Object(object), Ok(Value::Object(fields))) =
                (&mut value, serde_json::to_value(route.fields()))
            {
                object.extend(fields);
                if let EvpnRoute::MacIp(r) = route {
                    object.insert("vni".into(), json!(r.vni()));
                }
                if let Some(id) = path_id {
                    object.insert("path_id".into(), json!(id));
                }
            }
            value
        }
    }
}

fn json_mp(mp: &MpReport) -> Value {
    let mut object = Map::new();
    object.insert("family".into(), json!(mp.family.to_string()));
    object.insert("afi".into(), json!(mp.family.afi.0));
    object.insert("safi".into(), json!(mp.family.safi.0));
    if let Some(next_hop) = &mp.next_hop {
        object.insert("next_hop".into(), json!(next_hop));
    }
    object.insert(
        "routes".into(),
        Value::Array(mp.routes.iter().map(json_route).collect()),
    );
    if let Some(hex) = &mp.undecoded {
        object.insert("nlri_hex".into(), json!(hex));
    }
    Value::Object(object)
}

fn json_report(report: &Report, bytes: &[u8]) -> Value {
    let mut object = Map::new();
    object.insert("index".into(), json!(report.index));
    if let Some(o) = &report.origin {
        insert_origin(&mut object, o);
    }
    object.insert("type".into(), json!(report.type_name));
    object.insert("length".into(), json!(report.length));
    object.insert("ok".into(), json!(report.errors.is_empty()));
    if let Some(Message::Update(u)) = &report.message {
        object.insert(
            "end_of_rib".into(),
            json!(u.is_end_of_rib().map(|f| f.to_string())),
        );
        object.insert(
            "attributes".into(),
            Value::Array(
                u.attributes
                    .iter()
                    .map(|a| json!(attribute_text(a)))
                    .collect(),
            ),
        );
        // The extended communities by meaning, named as in a show routes
        // row (route_targets, encapsulation, es_import_rt, router_mac ...).
        if let Some(communities) = u.extended_communities() {
            object.insert(
                "evpn_communities".into(),
                serde_json::to_value(EvpnCommunities::of(communities)).unwrap_or(Value::Null),
            );
        }
        if let Some(mp) = &report.reach {
            object.insert("mp_reach".into(), json_mp(mp));
        }
        if let Some(mp) = &report.unreach {
            object.insert("mp_unreach".into(), json_mp(mp));
        }
        let strings =
            |ps: &[Prefix]| Value::Array(ps.iter().map(|p| json!(p.to_string())).collect());
        object.insert("withdrawn".into(), strings(&report.withdrawn));
        object.insert("nlri".into(), strings(&report.nlri));
    }
    if let Some(message) = &report.message {
        object.insert(
            "message".into(),
            serde_json::to_value(message).unwrap_or(Value::Null),
        );
    }
    if !report.errors.is_empty() {
        object.insert("errors".into(), json!(report.errors));
    }
    if let Some(action) = &report.action {
        object.insert("action".into(), json!(action));
    }
    object.insert("hex".into(), json!(to_hex(bytes)));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::exit;
    use crate::decode::test_util::*;
    use evpnd_wire::header::{HEADER_LEN, MARKER};

    /// An UPDATE with ORIGIN IGP, an empty AS_PATH, LOCAL_PREF 100 and an
    /// MP_REACH_NLRI (RFC 4760 section 3; flags 0x90, extended length)
    /// carrying `nlri` for L2VPN EVPN, next hop 198.18.0.1.
    fn evpn_update(nlri: &[u8]) -> Vec<u8> {
        let mut reach = hex("0019 46 04 c6120001 00");
        reach.extend_from_slice(nlri);
        let mut attributes = hex("400101 00 400200 400504 00000064");
        attributes.extend_from_slice(&[0x90, 14]);
        attributes.extend_from_slice(&(reach.len() as u16).to_be_bytes());
        attributes.extend_from_slice(&reach);
        let mut message = MARKER.to_vec();
        let length = HEADER_LEN + 4 + attributes.len();
        message.extend_from_slice(&(length as u16).to_be_bytes());
        message.extend_from_slice(&[2, 0, 0]);
        message.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
        message.extend_from_slice(&attributes);
        message
    }

    #[test]
    fn views_print_every_field_of_a_built_update() {
        // ExaBGP's type-4 NLRI (exabgp/messages.txt msg 16) in an UPDATE
        // built here: the same line as from the capture.
        let nlri = hex("0417 0001c61200020001 00112233445566778899 20 c6120002");
        let (outcome, text) = run_args(&args(&[&to_hex(&evpn_update(&nlri))]));
        assert_eq!(outcome.exit_status(), exit::OK, "{text}");
        assert!(
            text.contains(
                "+ [4] RD 198.18.0.2:1 ESI 00:11:22:33:44:55:66:77:88:99 orig 198.18.0.2\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn type3_update_human_form() {
        let (outcome, text) = run_args(&args(&[TYPE3_UPDATE]));
        assert_eq!(outcome.exit_status(), exit::OK);
        assert_eq!(outcome.messages, 1);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#0 UPDATE len=101");
        assert_eq!(
            lines[1],
            "  MP_REACH_NLRI afi 25 safi 70 nexthop 198.19.0.3"
        );
        assert_eq!(lines[2], "    + [3] RD 198.19.0.3:2 ET 0 orig 198.19.0.3");
        assert!(lines[3].starts_with("  attrs: ORIGIN IGP; AS_PATH (empty); LOCAL_PREF 100;"));
        assert!(lines[3].contains("PMSI_TUNNEL"), "{}", lines[3]);
    }

    #[test]
    fn type2_route_line_and_json() {
        let (outcome, text) = run_args(&args(&[TYPE2_UPDATE]));
        assert_eq!(outcome.exit_status(), exit::OK, "{text}");
        assert!(text.contains(
            "    + [2] RD 198.19.0.1:2 ESI 0 ET 0 MAC 02:0a:00:00:00:01 IP 198.18.10.1 label 10\n"
        ));
        let mut json_args = args(&[TYPE2_UPDATE]);
        json_args.json = true;
        let (_, text) = run_args(&json_args);
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        let route = &v["mp_reach"]["routes"][0];
        assert_eq!(route["route"], "mac-ip");
        assert_eq!(route["mac"], "02:0a:00:00:00:01");
        assert_eq!(route["vni"], 10);
        assert_eq!(route["rd"], "198.19.0.1:2");
    }

    /// ExaBGP 4.2's UPDATEs (proto-tests/vectors/exabgp/messages.txt msgs
    /// 15, 16 and 18): a per-ES type-1 with the ESI label, a type-4 with the
    /// ES-Import route target, an IPv6 type-5 (gateway ::).
    const EXABGP_TYPE1_PER_ES: &str = "ffffffffffffffffffffffffffffffff0066020000004f40010100400200400304c612000240050400000064c010100002fde80000000a0601000000000000800e2400194604c61200020001190001c6120002000a00112233445566778899ffffffff000000";
    const EXABGP_TYPE4: &str = "ffffffffffffffffffffffffffffffff005c020000004540010100400200400304c612000240050400000064c010080602112233445566800e2200194604c61200020004170001c612000200010011223344556677889920c6120002";
    const EXABGP_TYPE5_V6: &str = "ffffffffffffffffffffffffffffffff008f020000007840010100400200400304c612000240050400000064c010180002fde800000064030c000000000008060302b000000002800e4500194604c612000200053a0001c6120002006400000000000000000000000000004020010db800210000000000000000000000000000000000000000000000000000000064";

    #[test]
    fn type_1_4_5_routes_and_multihoming_communities_field_by_field() {
        let (outcome, text) =
            run_args(&args(&[EXABGP_TYPE1_PER_ES, EXABGP_TYPE4, EXABGP_TYPE5_V6]));
        assert_eq!(outcome.exit_status(), exit::OK, "{text}");
        for line in [
            "    + [1] RD 198.18.0.2:10 ESI 00:11:22:33:44:55:66:77:88:99 ET 4294967295 label 0\n",
            "EXT_COMM RT:65000:10 ESI-label-Rt:AA:0\n",
            "    + [4] RD 198.18.0.2:1 ESI 00:11:22:33:44:55:66:77:88:99 orig 198.18.0.2\n",
            "EXT_COMM ES-Import-Rt:11:22:33:44:55:66\n",
            "    + [5] RD 198.18.0.2:100 ESI 0 ET 0 prefix 2001:db8:21::/64 gw :: label 100\n",
            "EXT_COMM RT:65000:100 ET:8 Rmac:02:b0:00:00:00:02\n",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }

        let mut json_args = args(&[EXABGP_TYPE1_PER_ES, EXABGP_TYPE4, EXABGP_TYPE5_V6]);
        json_args.json = true;
        let (_, text) = run_args(&json_args);
        let messages: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let route = |i: usize| messages[i]["mp_reach"]["routes"][0].clone();
        assert_eq!(
            route(0),
            json!({"route": "ethernet-ad", "route_type": 1, "rd": "198.18.0.2:10",
                   "esi": "00:11:22:33:44:55:66:77:88:99", "ethernet_tag": 4294967295u32,
                   "label": 0, "labels": [0]})
        );
        assert_eq!(
            route(1),
            json!({"route": "ethernet-segment", "route_type": 4, "rd": "198.18.0.2:1",
                   "esi": "00:11:22:33:44:55:66:77:88:99",
                   "originating_router": "198.18.0.2", "originator_ip": "198.18.0.2"})
        );
        assert_eq!(
            route(2),
            json!({"route": "ip-prefix", "route_type": 5, "rd": "198.18.0.2:100",
                   "esi": "00:00:00:00:00:00:00:00:00:00", "ethernet_tag": 0,
                   "prefix": "2001:db8:21::/64", "prefix_len": 64, "gateway": "::",
                   "label": 100, "labels": [100]})
        );
        assert_eq!(
            messages[1]["attributes"][4],
            "EXT_COMM ES-Import-Rt:11:22:33:44:55:66"
        );
        assert_eq!(
            messages[1]["evpn_communities"]["es_import_rt"],
            "11:22:33:44:55:66"
        );
        assert_eq!(
            messages[0]["evpn_communities"]["esi_label"],
            json!({"flags": 0, "label": 0})
        );
        assert_eq!(
            messages[2]["evpn_communities"]["router_mac"],
            "02:b0:00:00:00:02"
        );
    }

    #[test]
    fn malformed_evpn_nlri_names_the_field_and_resets() {
        // MAC length 47 instead of 48 in the type-2 route.
        let bad = TYPE2_UPDATE.replacen("0000000030020a", "000000002f020a", 1);
        assert_ne!(bad, TYPE2_UPDATE);
        let (outcome, text) = run_args(&args(&[&bad, KEEPALIVE]));
        assert_eq!(outcome.messages, 2);
        assert_eq!(outcome.failed, 1);
        assert_eq!(outcome.exit_status(), exit::MALFORMED);
        assert!(
            text.contains(
                "error: UPDATE: attribute 14 malformed: type-2 MAC address length at byte 60: invalid value 47"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "action: session-reset (UPDATE Message Error/Optional Attribute Error data 900e0030"
            ),
            "{text}"
        );
        assert!(
            text.contains("#1 KEEPALIVE len=19"),
            "decoding went on: {text}"
        );
    }

    proptest::proptest! {
        /// Hostile EVPN NLRI of every route type this code has a view of
        /// (and one it has not), printed as text and JSON, never panic.
        #[test]
        fn any_evpn_route_prints_without_panic(
            route_type in 1u8..=6,
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70),
            json in proptest::prelude::any::<bool>(),
        ) {
            let mut nlri = vec![route_type, value.len() as u8];
            nlri.extend_from_slice(&value);
            let message = evpn_update(&nlri);
            let mut out = Vec::new();
            let mut printer = Printer::new(&mut out, json);
            printer.message(None, &message, &DecodeOptions::default());
            proptest::prop_assert_eq!(printer.messages, 1);
        }
    }
}
