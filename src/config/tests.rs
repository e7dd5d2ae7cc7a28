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

/// RT-Constrain (RFC 4684) is named as GoBGP names it, per neighbour or
/// for all, and only beside the family it constrains.
#[test]
fn rtc_is_a_family_beside_l2vpn_evpn() {
    let c = Config::from_toml_str(&format!(
        "{MINIMAL}families = [\"l2vpn-evpn\", \"rtc\"]\n\
         [[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n\
         [[neighbors]]\naddress = \"198.19.0.2\"\nremote_as = 65000\nfamilies = [\"l2vpn-evpn\"]\n"
    ))
    .unwrap();
    assert_eq!(c.bgp.families, [Family::L2VPN_EVPN, Family::IPV4_RTC]);
    assert_eq!(
        c.neighbors[0].families,
        [Family::L2VPN_EVPN, Family::IPV4_RTC]
    );
    assert_eq!(c.neighbors[1].families, [Family::L2VPN_EVPN]);
    let e = err_of(&format!(
        "{MINIMAL}[[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\nfamilies = [\"rtc\"]\n"
    ));
    assert!(
        e.contains("neighbors[0].families[0]") && e.contains("l2vpn-evpn"),
        "{e}"
    );
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
    let e =
        Config::from_toml_str_with_env(MINIMAL, "test.toml", env(&[("EVPND__BGP__BOGUS", "1")]))
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

#[test]
fn peer_queue_bytes_defaults_to_64_mib_and_refuses_less_than_1_mib() {
    let base = "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\n";
    let c = Config::from_toml_str(base).unwrap();
    assert_eq!(c.bgp.peer_queue_bytes, 64 << 20);
    let c = Config::from_toml_str(&format!("{base}peer_queue_bytes = 2097152\n")).unwrap();
    assert_eq!(c.bgp.peer_queue_bytes, 2 << 20);
    let e = Config::from_toml_str(&format!("{base}peer_queue_bytes = 65536\n")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("bgp.peer_queue_bytes") && text.contains("1048576"),
        "{text}"
    );
}

#[test]
fn max_prefixes_defaults_and_errors_name_their_key() {
    let neighbor = |extra: &str| {
        format!("{MINIMAL}[[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n{extra}\n")
    };
    let c = Config::from_toml_str(&neighbor("max_prefixes = { limit = 1000 }")).unwrap();
    let m = c.neighbors[0].max_prefixes.unwrap();
    assert_eq!(
        (m.limit, m.warning_percent, m.action, m.restart_after),
        (
            1000,
            75,
            MaxPrefixAction::Teardown,
            Some(Duration::from_secs(300))
        )
    );
    assert_eq!(
        m.to_string(),
        "limit 1000, warning at 75%, teardown, restart after 300 s"
    );
    let c = Config::from_toml_str(&neighbor(
        "max_prefixes = { limit = 10, warning_percent = 90, action = \"warn\" }",
    ))
    .unwrap();
    assert_eq!(
        c.neighbors[0].max_prefixes.unwrap().to_string(),
        "limit 10, warning at 90%, warn only"
    );
    let never =
        Config::from_toml_str(&neighbor("max_prefixes = { limit = 5, restart_secs = 0 }")).unwrap();
    assert_eq!(never.neighbors[0].max_prefixes.unwrap().restart_after, None);
    for (bad, key) in [
        (
            "max_prefixes = { limit = 0 }",
            "neighbors[0].max_prefixes.limit",
        ),
        (
            "max_prefixes = { limit = 5, warning_percent = 101 }",
            "neighbors[0].max_prefixes.warning_percent",
        ),
        (
            "max_prefixes = { limit = 5, action = \"drop\" }",
            "neighbors[0].max_prefixes.action",
        ),
        (
            "max_prefixes = { limit = 5, action = \"warn\", restart_secs = 60 }",
            "neighbors[0].max_prefixes.restart_secs",
        ),
    ] {
        let e = err_of(&neighbor(bad));
        assert!(e.contains(key), "{bad}: {e}");
    }
    assert!(err_of(&neighbor("max_prefixes = { limt = 5 }")).contains("limt"));
}

// neighbors[].password and ttl_security (TCP-MD5, GTSM; config::secret).
const WITH_NEIGHBOR: &str = "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.1\"\n[[neighbors]]\naddress = \"198.19.0.2\"\nremote_as = 65000\n";

fn error(extra: &str) -> (String, String) {
    let e = Config::from_toml_str(&format!("{WITH_NEIGHBOR}{extra}")).unwrap_err();
    (e.key().unwrap_or_default().to_string(), e.to_string())
}

#[test]
fn keys_are_checked_and_named() {
    let ok = Config::from_toml_str(&format!(
        "{WITH_NEIGHBOR}password = \"{}\"\nttl_security = 254\n",
        "k".repeat(80)
    ))
    .unwrap();
    assert_eq!(ok.neighbors[0].password.as_ref().map(Secret::len), Some(80));
    assert_eq!(ok.neighbors[0].ttl_security, Some(254));
    let (key, message) = error(&format!("password = \"{}\"\n", "k".repeat(81)));
    assert_eq!(key, "neighbors[0].password");
    assert!(message.contains("81 octets: must be 1 to 80"), "{message}");
    assert_eq!(error("password = \"\"\n").0, "neighbors[0].password");
    for hops in [0, 255, 1000] {
        let (key, message) = error(&format!("ttl_security = {hops}\n"));
        assert_eq!(key, "neighbors[0].ttl_security");
        assert!(message.contains("must be 1 to 254"), "{message}");
    }
}

#[test]
fn a_changed_key_or_radius_resets_the_session() {
    let old = Config::from_toml_str(&format!("{WITH_NEIGHBOR}password = \"one\"\n")).unwrap();
    for changed in [
        "password = \"two\"\n",
        "",
        "password = \"one\"\nttl_security = 1\n",
    ] {
        let new = Config::from_toml_str(&format!("{WITH_NEIGHBOR}{changed}")).unwrap();
        let plan = super::diff::plan(&old, &new).unwrap();
        assert_eq!(plan.neighbors_changed.len(), 1, "{changed}");
        // The reload plan is logged at debug level: no key in it.
        assert!(!format!("{plan:?}").contains("two"));
    }
}

#[test]
fn warns_about_a_world_readable_file_with_a_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("evpnd-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("evpnd.toml");
    let text = "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.1\"\n[[neighbors]]\naddress = \"198.19.0.2\"\nremote_as = 65000\npassword = \"hunter2\"\n";
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warning = config.readable_secret_warning(&path).unwrap();
    assert!(warning.contains("mode 0644"), "{warning}");
    assert!(!warning.contains("hunter2"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(config.readable_secret_warning(&path), None);
    let without = Config::from_toml_str(&text.replace("password = \"hunter2\"\n", "")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(without.readable_secret_warning(&path), None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn peer_damping_defaults_off_and_errors_name_their_key() {
    let neighbor = |extra: &str| {
        format!("{MINIMAL}[[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n{extra}\n")
    };
    let damping =
        |extra: &str| Config::from_toml_str(&neighbor(extra)).unwrap().neighbors[0].peer_damping;
    assert_eq!(damping(""), PeerDamping::DEFAULT);
    assert_eq!(damping("peer_damping = true"), PeerDamping::DEFAULT);
    assert_eq!(damping("peer_damping = false"), PeerDamping::OFF);
    assert_eq!(damping("peer_damping = false").to_string(), "off");
    let tuned = damping("peer_damping = { initial_ms = 100, max_secs = 10 }");
    assert_eq!(
        (tuned.initial, tuned.max, tuned.stable),
        (
            Duration::from_millis(100),
            Duration::from_secs(10),
            Duration::from_secs(60)
        )
    );
    assert_eq!(
        tuned.to_string(),
        "0.1 s doubling to 10 s, forgotten after 60 s established"
    );
    // The FSM's IdleHoldTimer backoff is what was configured.
    let c = Config::from_toml_str(&neighbor(
        "peer_damping = { initial_ms = 100, max_secs = 10 }",
    ))
    .unwrap();
    let fsm = crate::session::fsm_config(&c.bgp, &c.neighbors[0]);
    assert_eq!(
        (
            fsm.idle_backoff.base,
            fsm.idle_backoff.cap,
            fsm.stable_after
        ),
        (tuned.initial, tuned.max, tuned.stable)
    );
    for (bad, key) in [
        (
            "peer_damping = { initial_ms = 5000, max_secs = 1 }",
            "neighbors[0].peer_damping.initial_ms",
        ),
        (
            "peer_damping = { max_secs = 7200 }",
            "neighbors[0].peer_damping.max_secs",
        ),
        (
            "peer_damping = { stable_secs = 0 }",
            "neighbors[0].peer_damping.stable_secs",
        ),
    ] {
        let e = err_of(&neighbor(bad));
        assert!(e.contains(key), "{bad}: {e}");
    }
    assert!(err_of(&neighbor("peer_damping = { initial = 5 }")).contains("peer_damping"));
}

#[test]
fn listen_ranges_take_neighbour_keys_and_refuse_overlaps() {
    let ranges = |body: &str| format!("{MINIMAL}{body}");
    let c = Config::from_toml_str(&ranges(
        "[[listen_ranges]]\nprefix = \"198.18.0.0/24\"\nremote_as = 65000\n\
         route_reflector_client = true\nmax_sessions = 200\nhold_time = 9\n\
         password = \"k\"\npeer_damping = false\n",
    ))
    .unwrap();
    let r = &c.listen_ranges[0];
    assert_eq!(r.prefix.to_string(), "198.18.0.0/24");
    assert_eq!(r.max_sessions, 200);
    let n = r.neighbor("198.18.0.7".parse().unwrap());
    assert_eq!(n.address.to_string(), "198.18.0.7");
    assert!(n.passive && n.route_reflector_client && n.password.is_some());
    assert_eq!((n.hold_time, n.peer_damping), (9, PeerDamping::OFF));
    assert!(r.contains("198.18.0.255".parse().unwrap()));
    assert!(
        c.summary()
            .contains("0 neighbor(s) (0 route-reflector client(s)), listen range(s) 198.18.0.0/24 (at most 200),"),
        "{}",
        c.summary()
    );
    assert!(!r.contains("198.18.1.0".parse().unwrap()));
    assert_eq!(
        c.listen_range_of("198.18.0.9".parse().unwrap())
            .map(|r| r.prefix),
        Some(r.prefix)
    );
    let d = Config::from_toml_str(&ranges(
        "[[listen_ranges]]\nprefix = \"2001:db8::/64\"\nremote_as = 65001\n",
    ))
    .unwrap();
    assert_eq!(d.listen_ranges[0].max_sessions, 100, "FRR's default limit");
    for (bad, key) in [
        (
            "prefix = \"198.18.0.5/24\"\nremote_as = 65000",
            "listen_ranges[0].prefix",
        ),
        (
            "prefix = \"198.18.0.0\"\nremote_as = 65000",
            "listen_ranges[0].prefix",
        ),
        (
            "prefix = \"198.18.0.0/24\"\nremote_as = 0",
            "listen_ranges[0].remote_as",
        ),
        (
            "prefix = \"198.18.0.0/24\"\nremote_as = 65000\nmax_sessions = 0",
            "listen_ranges[0].max_sessions",
        ),
        (
            "prefix = \"198.18.0.0/24\"\nremote_as = 65000\nhold_time = 2",
            "listen_ranges[0].hold_time",
        ),
    ] {
        let e = err_of(&ranges(&format!("[[listen_ranges]]\n{bad}\n")));
        assert!(e.contains(key), "{bad}: {e}");
    }
    assert!(
        err_of(&ranges(
            "[[listen_ranges]]\nprefix = \"198.18.0.5/24\"\nremote_as = 65000\n"
        ))
        .contains("198.18.0.0/24")
    );
    let overlap = err_of(&ranges(
        "[[listen_ranges]]\nprefix = \"198.18.0.0/16\"\nremote_as = 65000\n\
         [[listen_ranges]]\nprefix = \"198.18.4.0/24\"\nremote_as = 65000\n",
    ));
    assert!(
        overlap.contains("listen_ranges[1].prefix") && overlap.contains("overlaps"),
        "{overlap}"
    );
    assert!(err_of(&ranges("[[listen_ranges]]\nprefix = \"198.18.0.0/24\"\nremote_as = 65000\naddress = \"198.18.0.1\"\n")).contains("address"));
}

#[test]
fn control_owner_group_and_admin_group_by_name_or_number() {
    let c = Config::from_toml_str(MINIMAL).unwrap();
    assert_eq!(
        (c.control.owner, c.control.group, c.control.admin_group),
        (None, None, None),
        "unset: the socket keeps the daemon's user and group, and anyone who can open it may change state"
    );
    // "root" (uid and gid 0) is on every system these tests run on.
    let c = Config::from_toml_str(&format!(
        "{MINIMAL}\n[control]\nowner = \"root\"\ngroup = 4243\nadmin_group = \"root\"\nmode = \"0660\"\n"
    ))
    .unwrap();
    assert_eq!(
        c.control.owner,
        Some(SystemId {
            id: 0,
            name: Some("root".into())
        })
    );
    assert_eq!(c.control.group.as_ref().map(|g| g.id), Some(4243));
    assert_eq!(c.control.admin_group.as_ref().map(|g| g.id), Some(0));
    assert_eq!(
        c.control.admin_group.unwrap().describe("group"),
        "group 'root'"
    );
    // An environment override is a string; digits are a number.
    let c = Config::from_toml_str_with_env(
        MINIMAL,
        "test.toml",
        env(&[("EVPND__CONTROL__ADMIN_GROUP", "4244")]),
    )
    .unwrap();
    assert_eq!(c.control.admin_group.map(|g| g.id), Some(4244));
}

#[test]
fn an_unknown_control_user_or_group_is_refused_naming_the_key() {
    let missing = "evpnd-no-such-account";
    for key in ["owner", "group", "admin_group"] {
        let e = err_of(&format!("{MINIMAL}\n[control]\n{key} = \"{missing}\"\n"));
        assert!(e.contains(&format!("control.{key}: ")), "{e}");
        assert!(e.contains(missing), "{e}");
        assert!(e.contains("on this system"), "{e}");
    }
    let e = err_of(&format!(
        "{MINIMAL}\n[control]\nadmin_group = \"{missing}\"\n"
    ));
    assert!(e.contains("groupadd") && e.contains("or give a gid"), "{e}");
    let e = err_of(&format!("{MINIMAL}\n[control]\nowner = \"{missing}\"\n"));
    assert!(e.contains("useradd") && e.contains("or give a uid"), "{e}");
    for bad in ["-1", "4294967295", "\"\""] {
        let e = err_of(&format!("{MINIMAL}\n[control]\ngroup = {bad}\n"));
        assert!(e.contains("control.group: "), "{bad}: {e}");
    }
}

#[test]
fn a_changed_control_group_needs_a_restart() {
    let old = Config::from_toml_str(MINIMAL).unwrap();
    let new =
        Config::from_toml_str(&format!("{MINIMAL}\n[control]\nadmin_group = 4244\n")).unwrap();
    let e = crate::config::diff::plan(&old, &new)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("control.admin_group: unset -> gid 4244: cannot change while evpnd runs"),
        "{e}"
    );
}
