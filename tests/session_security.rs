//! Session security (issue 14) against the real daemon on loopback:
//! TCP-MD5 (RFC 2385, `neighbors[].password`) on the listener and on
//! outgoing connections, kept in step by a reload; GTSM (RFC 5082,
//! `neighbors[].ttl_security`) on accepted and outgoing connections; the
//! key never shown or logged.

#[allow(dead_code)]
mod common;

use common::*;
use evpnd::api::protocol::{Request, Response};
use evpnd_linux::tcp_auth;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::time::Duration;

const KEY: &str = "evpnd-md5-Secret";
const SIGNED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const PLAIN: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const GTSM: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
/// How long a connection that the kernel drops is given (SYNs dropped:
/// connect never completes).
const REFUSED_WITHIN: Duration = Duration::from_millis(1500);

fn config(port: u16, socket: &std::path::Path, signed_extra: &str) -> String {
    rr_config(port, &[SIGNED, PLAIN, GTSM], socket)
        .replacen(
            "description = \"peer0\"\n",
            &format!("description = \"peer0\"\n{signed_extra}"),
            1,
        )
        .replacen(
            "description = \"peer2\"\n",
            "description = \"peer2\"\nttl_security = 1\n",
            1,
        )
}

fn signed(from: Ipv4Addr, port: u16, key: Option<&str>) -> std::io::Result<std::net::TcpStream> {
    connect_from_with(from, port, key.map(str::as_bytes), None, REFUSED_WITHIN)
}

#[test]
fn md5_on_the_listener_and_gtsm_on_accepted_connections() {
    let password = format!("password = \"{KEY}\"\n");
    let daemon = Daemon::start_with("session-security", |port, socket| {
        config(port, socket, &password)
    });
    let port = daemon.port;

    // RFC 2385 section 2: without the key, or with another one, the SYN is
    // dropped; no BGP octet ever reaches the daemon.
    assert!(signed(SIGNED, port, None).is_err(), "unsigned SYN accepted");
    assert!(
        signed(SIGNED, port, Some("other-key")).is_err(),
        "wrong key accepted"
    );
    // The key is for that address only: another neighbour connects unsigned.
    let plain = Speaker::on(signed(PLAIN, port, None).unwrap(), PLAIN, PLAIN);
    let mut s = Speaker::on(signed(SIGNED, port, Some(KEY)).unwrap(), SIGNED, SIGNED);
    s.handshake();
    let row = daemon.wait_state(SIGNED, "Established");
    assert!(row.password);
    assert!(!daemon.neighbor(PLAIN).password);
    drop(plain);

    // RFC 5082 section 3: a SYN sent with the default TTL (64) is refused
    // after accept, before any byte is read; one sent with 255 is taken.
    let mut far = connect_from_with(GTSM, port, None, None, REFUSED_WITHIN).unwrap();
    far.set_read_timeout(Some(STEP)).unwrap();
    let mut buf = [0u8; 1];
    assert!(
        matches!(far.read(&mut buf), Ok(0) | Err(_)),
        "a low-TTL connection was kept"
    );
    let mut near = Speaker::on(
        connect_from_with(GTSM, port, None, Some(1), STEP).unwrap(),
        GTSM,
        GTSM,
    );
    near.handshake();
    let row = daemon.wait_state(GTSM, "Established");
    assert_eq!(row.ttl_security, Some(1));

    // Never shown, never logged.
    let shown = daemon.show_cli(&["neighbors"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("TCP-MD5 key set"), "{text}");
    let json = daemon.show_cli(&["neighbors", "--json"]);
    for out in [&shown.stdout, &json.stdout] {
        assert!(!String::from_utf8_lossy(out).contains(KEY));
    }
    let log = daemon.log();
    assert!(log.contains("refused connection"), "{log}");
    assert!(log.contains("RFC 5082"), "{log}");
    assert!(!log.contains(KEY), "the key is in the log");

    // A reload that removes the password resets that session only and
    // takes the key off the listener: unsigned connections work then.
    let file = daemon.dir.join("evpnd.toml");
    std::fs::write(&file, config(port, &daemon.socket, "")).unwrap();
    match daemon.request(Request::Reload) {
        Response::Reload(r) => {
            assert!(r.applied, "{r:?}");
            assert!(
                r.changes.iter().any(|c| c.contains("127.0.0.2 changed")),
                "{r:?}"
            );
        }
        other => panic!("reload: {other:?}"),
    }
    assert!(!daemon.neighbor(SIGNED).password);
    let mut again = Speaker::on(signed(SIGNED, port, None).unwrap(), SIGNED, SIGNED);
    again.handshake();
    daemon.wait_state(SIGNED, "Established");
    // GTSM's session was not touched.
    assert_eq!(daemon.neighbor(GTSM).state, "Established");
}

#[test]
fn outgoing_connections_are_signed_and_sent_with_ttl_255() {
    // A listener of ours stands for the peer: it only takes SYNs signed
    // with the key for the daemon's address and saves the SYN.
    let peer = Ipv4Addr::new(127, 0, 0, 5);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        tcp_auth::set_md5_key(
            socket.as_fd(),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            KEY.as_bytes(),
        )
        .unwrap();
        tcp_auth::save_syn(socket.as_fd()).unwrap();
        // A GTSM peer answers with 255 (the daemon drops less).
        tcp_auth::send_with_ttl_255(socket.as_fd()).unwrap();
        socket.bind(SocketAddr::new(IpAddr::V4(peer), 0)).unwrap();
        socket.listen(4).unwrap()
    });
    let peer_port = listener.local_addr().unwrap().port();
    let _daemon = Daemon::start_with("session-security-out", |port, socket| {
        rr_config(port, &[], socket).replacen(
            "\n[control]",
            &format!(
                "\n[[neighbors]]\naddress = \"{peer}\"\nport = {peer_port}\nremote_as = {ASN}\n\
                 local_address = \"127.0.0.1\"\npassword = \"{KEY}\"\nttl_security = 1\n\n[control]"
            ),
            1,
        )
    });
    let (stream, from) = runtime
        .block_on(async { tokio::time::timeout(STEP, listener.accept()).await })
        .expect("the daemon never connected with the key")
        .unwrap();
    assert_eq!(from.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    // Loopback does not decrement the TTL: the SYN left with 255.
    assert_eq!(tcp_auth::saved_syn_ttl(stream.as_fd()).unwrap(), Some(255));
}
