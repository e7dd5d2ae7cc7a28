//! Harness for tests that run the real `evpnd` binary: a daemon on a
//! loopback address and a private port (killed on drop), and a scripted BGP
//! speaker built on evpnd's own wire codec that connects from its own
//! loopback source address (127.0.0.N), so the daemon tells the peers apart
//! exactly as it would tell VTEPs apart.
//!
//! Every read has a deadline; nothing here can hang a test.

use bytes::{Bytes, BytesMut};
use evpnd::api::client;
use evpnd::api::protocol::{NeighborRow, Request, Response, RouteRow};
use evpnd_wire::Family;
use evpnd_wire::as_path::AsPath;
use evpnd_wire::attribute::{AttributeValue, Origin, PathAttribute};
use evpnd_wire::capability::{Capability, GracefulRestart, GracefulRestartFamily};
use evpnd_wire::evpn::{Esi, EvpnRoute, EvpnRouteKey, Type2Route, Type3Route};
use evpnd_wire::extcomm::{ExtendedCommunity, RouteTarget};
use evpnd_wire::header;
use evpnd_wire::mac::MacAddress;
use evpnd_wire::message::{DecodeOptions, EncodeOptions, Message};
use evpnd_wire::notification::Notification;
use evpnd_wire::open::Open;
use evpnd_wire::pmsi::PmsiTunnel;
use evpnd_wire::rd::RouteDistinguisher;
use evpnd_wire::update::Update;
use evpnd_wire::update_packer::UpdatePacker;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Our AS; every test peer is an iBGP route-reflector client.
pub const ASN: u32 = 65000;
/// The daemon's BGP identifier.
pub const RR_ROUTER_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// The daemon's CLUSTER_ID, deliberately not its router id, so the test sees
/// which one CLUSTER_LIST carries (RFC 4456 section 7).
pub const CLUSTER_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);
/// Longest a test waits for any one expected message.
pub const STEP: Duration = Duration::from_secs(10);
/// How long "nothing more arrives" is watched for.
pub const QUIET: Duration = Duration::from_millis(700);

/// `evpnd` with the caller's environment kept from changing what is tested.
pub fn evpnd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evpnd"));
    c.env_remove("EVPND_SOCKET").env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("EVPND__") {
            c.env_remove(k);
        }
    }
    c
}

/// A fresh private directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("evpnd-rr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A TCP port nobody listens on right now (the kernel picks it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// The `[bgp]`, `[[neighbors]]` (all passive RR clients), `[control]` and
/// `[log]` sections of a reflector on 127.0.0.1:`port`.
pub fn rr_config(port: u16, neighbors: &[Ipv4Addr], socket: &Path) -> String {
    rr_config_with(
        port,
        neighbors,
        socket,
        "[bgp.graceful_restart]\nenabled = false\n",
    )
}

/// [`rr_config`] with `extra` (TOML tables) after `[bgp]`. The reflection
/// tests run without Graceful Restart, whose deferred first advertisement
/// (RFC 4724 section 4.1) would hold every table until all configured
/// peers are up; tests/graceful_restart.rs turns it on.
pub fn rr_config_with(port: u16, neighbors: &[Ipv4Addr], socket: &Path, extra: &str) -> String {
    let mut c = format!(
        "[bgp]\nasn = {ASN}\nrouter_id = \"{RR_ROUTER_ID}\"\ncluster_id = \"{CLUSTER_ID}\"\n\
         listen = [\"127.0.0.1\"]\nport = {port}\nfamilies = [\"l2vpn-evpn\"]\n{extra}"
    );
    for (i, n) in neighbors.iter().enumerate() {
        c.push_str(&format!(
            "\n[[neighbors]]\naddress = \"{n}\"\nremote_as = {ASN}\ndescription = \"peer{i}\"\n\
             route_reflector_client = true\npassive = true\n"
        ));
    }
    c.push_str(&format!(
        "\n[control]\nsocket = \"{}\"\nmode = \"0600\"\n\n[log]\nlevel = \"debug\"\n",
        socket.display()
    ));
    c
}

/// A running `evpnd run`, killed (by its own pid) and reaped on drop. Its
/// log goes to a file, printed when the test fails.
pub struct Daemon {
    child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub port: u16,
    log: PathBuf,
}

impl Daemon {
    /// Start a reflector with these neighbors and wait until it answers on
    /// its control socket (which it does only once the BGP listener is up).
    pub fn start(name: &str, neighbors: &[Ipv4Addr]) -> Daemon {
        Daemon::start_with(name, |port, socket| rr_config(port, neighbors, socket))
    }

    /// Start with the config `config(port, control socket)` returns.
    pub fn start_with(name: &str, config: impl FnOnce(u16, &Path) -> String) -> Daemon {
        Daemon::start_with_env(name, &[], config)
    }

    /// As [`Daemon::start_with`], with `env` added to the daemon's
    /// environment (fault injection).
    pub fn start_with_env(
        name: &str,
        env: &[(&str, &str)],
        config: impl FnOnce(u16, &Path) -> String,
    ) -> Daemon {
        let dir = temp_dir(name);
        let socket = dir.join("evpnd.sock");
        let port = free_port();
        let config_text = config(port, &socket);
        let config = dir.join("evpnd.toml");
        std::fs::write(&config, config_text).expect("write config");
        let log = dir.join("evpnd.log");
        let log_file = std::fs::File::create(&log).expect("create log");
        let child = evpnd()
            .envs(env.iter().copied())
            .arg("run")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawn evpnd");
        let mut daemon = Daemon {
            child,
            dir,
            socket,
            port,
            log,
        };
        let deadline = Instant::now() + STEP;
        loop {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("evpnd exited early with {status}:\n{}", daemon.log());
            }
            if daemon.socket.exists()
                && client::request(
                    &daemon.socket,
                    &Request::ShowNeighbors,
                    Duration::from_secs(2),
                )
                .is_ok()
            {
                break;
            }
            assert!(Instant::now() < deadline, "evpnd never answered");
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    /// SIGTERM, as systemd stops or restarts the daemon (the shell's
    /// builtin `kill`: no extra package), then wait for it to exit.
    pub fn terminate(&self) {
        let status = Command::new("sh")
            .args(["-c", "kill -TERM \"$0\"", &self.child.id().to_string()])
            .status()
            .expect("run sh");
        assert!(status.success(), "kill -TERM failed");
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `evpnd --socket <this daemon's socket> ARGS...`, run to its end.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        evpnd()
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run evpnd {}: {e}", args.join(" ")))
    }

    /// The process the test started is still running (an upgrade keeps
    /// the PID: the new image replaces the old one in place).
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("evpnd exited with {status}:\n{}", self.log());
        }
    }

    pub fn request(&self, request: Request) -> Response {
        client::request(&self.socket, &request, STEP)
            .unwrap_or_else(|e| panic!("{request:?}: {e}\n{}", self.log()))
    }

    pub fn neighbors(&self) -> Vec<NeighborRow> {
        match self.request(Request::ShowNeighbors) {
            Response::Neighbors(rows) => rows,
            other => panic!("show neighbors: {other:?}"),
        }
    }

    pub fn neighbor(&self, address: Ipv4Addr) -> NeighborRow {
        self.neighbors()
            .into_iter()
            .find(|n| n.address == IpAddr::V4(address))
            .unwrap_or_else(|| panic!("{address} not in show neighbors"))
    }

    pub fn routes(&self) -> Vec<RouteRow> {
        match self.request(Request::ShowRoutes {
            vni: None,
            route_type: None,
            rd: None,
        }) {
            Response::Routes(rows) => rows,
            other => panic!("show routes: {other:?}"),
        }
    }

    /// Wait until `address`'s session is in `state` (the session task
    /// publishes state changes asynchronously).
    pub fn wait_state(&self, address: Ipv4Addr, state: &str) -> NeighborRow {
        let deadline = Instant::now() + STEP;
        loop {
            let row = self.neighbor(address);
            if row.state == state {
                return row;
            }
            assert!(
                Instant::now() < deadline,
                "{address} stayed {} (last error {:?}), wanted {state}\n{}",
                row.state,
                row.last_error,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `evpnd --socket S show ARGS`.
    pub fn show_cli(&self, args: &[&str]) -> Output {
        evpnd()
            .arg("--socket")
            .arg(&self.socket)
            .arg("show")
            .args(args)
            .output()
            .expect("run evpnd show")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- evpnd log ({}) ----\n{}",
                self.log.display(),
                self.log()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What went wrong reading from the daemon.
#[derive(Debug)]
pub enum RecvError {
    Timeout,
    /// The daemon closed the connection (EOF or reset).
    Closed,
    Decode(String),
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecvError::Timeout => f.write_str("timed out"),
            RecvError::Closed => f.write_str("connection closed"),
            RecvError::Decode(e) => write!(f, "undecodable message: {e}"),
        }
    }
}

/// Everything a speaker got from the daemon, decoded.
#[derive(Debug, Default)]
pub struct Received {
    /// Announced routes with the UPDATE that carried them, in arrival order.
    pub announced: Vec<(EvpnRoute, Update)>,
    pub withdrawn: Vec<EvpnRoute>,
    pub end_of_rib: usize,
    pub notifications: Vec<Notification>,
}

impl Received {
    pub fn announced_keys(&self) -> Vec<EvpnRouteKey> {
        self.announced.iter().map(|(r, _)| key(r)).collect()
    }

    pub fn withdrawn_keys(&self) -> Vec<EvpnRouteKey> {
        self.withdrawn.iter().map(key).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.announced.is_empty() && self.withdrawn.is_empty() && self.end_of_rib == 0
    }
}

/// A route's identity for BGP (RFC 7432 section 7.2: labels and ESI are not
/// part of it).
pub fn key(route: &EvpnRoute) -> EvpnRouteKey {
    route.key().expect("a route we built or decoded has a key")
}

/// A scripted BGP speaker on one TCP connection.
pub struct Speaker {
    stream: TcpStream,
    pub router_id: Ipv4Addr,
    pub from: Ipv4Addr,
    buf: Vec<u8>,
    /// Both sides announce 4-octet AS (RFC 6793 section 4), we do not
    /// announce Extended Message, so 4096-octet messages.
    opts: DecodeOptions,
    pub open_received: Option<Open>,
    /// Our AS: the reflector's own (iBGP) unless `with_asn` says otherwise.
    pub asn: u32,
    /// Our Graceful Restart capability (RFC 4724 section 3), if any.
    pub graceful_restart: Option<GracefulRestart>,
}

/// TCP connection from `from` (bound before connecting) to 127.0.0.1:`port`.
pub fn connect_from(from: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    connect_from_with(from, port, None, None, STEP)
}

/// [`connect_from`] with a TCP-MD5 key for the daemon's address (RFC
/// 2385) and/or GTSM's TTL 255 (RFC 5082) set on the socket first, giving
/// up after `limit`.
pub fn connect_from_with(
    from: Ipv4Addr,
    port: u16,
    md5: Option<&[u8]>,
    gtsm_hops: Option<u8>,
    limit: Duration,
) -> std::io::Result<TcpStream> {
    use evpnd_linux::tcp_auth;
    use std::os::fd::AsFd;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        let daemon = IpAddr::V4(Ipv4Addr::LOCALHOST);
        if let Some(key) = md5 {
            tcp_auth::set_md5_key(socket.as_fd(), daemon, key).map_err(std::io::Error::other)?;
        }
        if let Some(hops) = gtsm_hops {
            tcp_auth::set_gtsm(socket.as_fd(), daemon, hops).map_err(std::io::Error::other)?;
        }
        socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
        let target = SocketAddr::new(daemon, port);
        let stream = tokio::time::timeout(limit, socket.connect(target))
            .await
            .map_err(|_| std::io::Error::new(ErrorKind::TimedOut, "connect timed out"))??;
        let stream = stream.into_std()?;
        stream.set_nonblocking(false)?;
        Ok(stream)
    })
}

impl Speaker {
    /// Connect without speaking BGP yet.
    pub fn connect(from: Ipv4Addr, router_id: Ipv4Addr, port: u16) -> Speaker {
        let stream =
            connect_from(from, port).unwrap_or_else(|e| panic!("connect from {from}: {e}"));
        Speaker::on(stream, from, router_id)
    }

    /// A speaker on a connection made by [`connect_from_with`].
    pub fn on(stream: TcpStream, from: Ipv4Addr, router_id: Ipv4Addr) -> Speaker {
        let _ = stream.set_nodelay(true);
        Speaker {
            stream,
            router_id,
            from,
            buf: Vec::new(),
            opts: DecodeOptions {
                four_octet_as: true,
                ..DecodeOptions::default()
            },
            open_received: None,
            asn: ASN,
            graceful_restart: None,
        }
    }

    /// Advertise Graceful Restart for l2vpn-evpn (RFC 4724 section 3):
    /// `restart_time` seconds, the Forwarding State bit if `forwarding`,
    /// the Restart State bit if `restarting`.
    pub fn with_graceful_restart(
        mut self,
        restart_time: u16,
        forwarding: bool,
        restarting: bool,
    ) -> Speaker {
        self.graceful_restart = Some(GracefulRestart {
            flags: if restarting {
                GracefulRestart::FLAG_RESTART_STATE
            } else {
                0
            },
            restart_time,
            families: vec![GracefulRestartFamily {
                family: Family::L2VPN_EVPN,
                flags: if forwarding {
                    GracefulRestart::FAMILY_FORWARDING_PRESERVED
                } else {
                    0
                },
            }],
        });
        self
    }

    /// Speak as AS `asn` (an eBGP peer of the reflector).
    pub fn with_asn(mut self, asn: u32) -> Speaker {
        self.asn = asn;
        self
    }

    /// Connect and bring the session to Established (RFC 4271 section 8):
    /// our OPEN (MP l2vpn-evpn, route refresh, 4-octet AS), the daemon's
    /// OPEN and KEEPALIVE, our KEEPALIVE.
    pub fn establish(from: Ipv4Addr, router_id: Ipv4Addr, port: u16) -> Speaker {
        let mut s = Speaker::connect(from, router_id, port);
        s.handshake();
        s
    }

    pub fn our_open(&self) -> Open {
        let mut capabilities = vec![
            Capability::Multiprotocol(Family::L2VPN_EVPN),
            Capability::RouteRefresh,
            Capability::FourOctetAs(self.asn),
        ];
        capabilities.extend(
            self.graceful_restart
                .clone()
                .map(Capability::GracefulRestart),
        );
        Open::new(self.asn, 90, self.router_id, capabilities)
    }

    pub fn handshake(&mut self) {
        self.send(&Message::Open(self.our_open()));
        let open = match self.recv(STEP) {
            Ok(Message::Open(open)) => open,
            other => panic!("{}: expected OPEN, got {other:?}", self.from),
        };
        assert_eq!(open.asn(), ASN);
        assert_eq!(open.bgp_identifier, RR_ROUTER_ID);
        assert!(open.families().contains(&Family::L2VPN_EVPN));
        assert!(open.four_octet_as().is_some());
        self.open_received = Some(open);
        match self.recv(STEP) {
            Ok(Message::Keepalive) => {}
            other => panic!("{}: expected KEEPALIVE, got {other:?}", self.from),
        }
        self.send(&Message::Keepalive);
    }

    pub fn send(&mut self, message: &Message) {
        let bytes = message
            .to_bytes(&self.opts)
            .unwrap_or_else(|e| panic!("encode {message:?}: {e}"));
        self.send_raw(&bytes);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("{}: write: {e}", self.from));
    }

    /// Close our side (the daemon sees EOF / a dead session).
    pub fn close(self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// The next message, waiting at most `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Result<Message, RecvError> {
        let deadline = Instant::now() + timeout;
        loop {
            // RFC 8654 section 4: without Extended Message (which we never
            // announce) nothing over 4096 octets may be sent to us.
            match header::frame(&self.buf, self.opts.max_message_len) {
                Ok(Some(len)) => {
                    let bytes: Vec<u8> = self.buf.drain(..len).collect();
                    return Message::decode(&bytes, &self.opts)
                        .map_err(|e| RecvError::Decode(format!("{e}: {}", hex(&bytes))));
                }
                Ok(None) => {}
                Err(e) => return Err(RecvError::Decode(format!("header: {e}"))),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RecvError::Timeout);
            }
            self.stream
                .set_read_timeout(Some(left))
                .expect("set read timeout");
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(RecvError::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(RecvError::Timeout);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(RecvError::Closed),
            }
        }
    }

    /// Read UPDATEs (KEEPALIVEs skipped) into `into` until `done` holds,
    /// failing after [`STEP`]; then keep reading for [`QUIET`] so that
    /// duplicates and strays are caught too.
    pub fn collect_until(&mut self, into: &mut Received, done: impl Fn(&Received) -> bool) {
        let deadline = Instant::now() + STEP;
        while !done(into) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left) {
                Ok(m) => absorb(into, m),
                Err(e) => panic!(
                    "{}: waiting for UPDATEs: {e}; got {} announced, {} withdrawn, {} EoR, {:?}",
                    self.from,
                    into.announced.len(),
                    into.withdrawn.len(),
                    into.end_of_rib,
                    into.notifications
                ),
            }
        }
        self.drain(into, QUIET);
    }

    /// Everything that arrives within `quiet` of the last message.
    pub fn drain(&mut self, into: &mut Received, quiet: Duration) {
        loop {
            match self.recv(quiet) {
                Ok(m) => absorb(into, m),
                Err(RecvError::Timeout) => return,
                Err(e) => panic!("{}: {e}", self.from),
            }
        }
    }

    /// The initial table the daemon sends after Established, up to and
    /// including its End-of-RIB (RFC 4724 section 2).
    pub fn initial_table(&mut self) -> Received {
        let mut r = Received::default();
        self.collect_until(&mut r, |r| r.end_of_rib > 0);
        r
    }

    /// Read until a NOTIFICATION arrives (UPDATEs and KEEPALIVEs skipped).
    pub fn expect_notification(&mut self) -> Notification {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left) {
                Ok(Message::Notification(n)) => return n,
                Ok(_) => {}
                Err(e) => panic!("{}: expected a NOTIFICATION, got {e}", self.from),
            }
        }
    }

    /// After a NOTIFICATION the daemon must close: EOF within [`STEP`].
    pub fn expect_closed(&mut self) {
        match self.recv(STEP) {
            Err(RecvError::Closed) => {}
            Err(e) => panic!("{}: expected the connection closed, got {e}", self.from),
            Ok(m) => panic!("{}: expected the connection closed, got {m:?}", self.from),
        }
    }

    /// Announce `routes` via `next_hop` with `attributes` (no MP_REACH),
    /// packed the way evpnd's own reflector packs them.
    pub fn announce(&mut self, next_hop: Ipv4Addr, attributes: &[u8], routes: &[EvpnRoute]) {
        for message in announcements(next_hop, attributes, routes) {
            self.send_raw(&message);
        }
    }

    /// Withdraw `routes` with MP_UNREACH_NLRI (RFC 4760 section 4).
    pub fn withdraw(&mut self, routes: &[EvpnRoute]) {
        let nlri: Vec<Bytes> = routes.iter().map(nlri).collect();
        let messages = UpdatePacker::new(header::MAX_MESSAGE_LEN)
            .pack_unreach(Family::L2VPN_EVPN, nlri.iter().map(|n| &n[..]))
            .expect("pack withdrawals");
        for message in messages {
            self.send_raw(&message);
        }
    }

    pub fn end_of_rib(&mut self) {
        self.send(&Message::Update(Update::end_of_rib(Family::L2VPN_EVPN)));
    }
}

/// UPDATE messages announcing `routes`.
pub fn announcements(next_hop: Ipv4Addr, attributes: &[u8], routes: &[EvpnRoute]) -> Vec<Bytes> {
    let nlri: Vec<Bytes> = routes.iter().map(nlri).collect();
    UpdatePacker::new(header::MAX_MESSAGE_LEN)
        .pack_reach(
            Family::L2VPN_EVPN,
            &next_hop.octets(),
            attributes,
            nlri.iter().map(|n| &n[..]),
        )
        .expect("pack announcements")
}

/// Add one message from the daemon to `into`.
pub fn absorb(into: &mut Received, message: Message) {
    match message {
        Message::Keepalive => {}
        Message::Notification(n) => into.notifications.push(n),
        Message::Update(u) => {
            if u.is_end_of_rib() == Some(Family::L2VPN_EVPN) {
                into.end_of_rib += 1;
                return;
            }
            if let Some(unreach) = u.mp_unreach() {
                assert_eq!(unreach.family, Family::L2VPN_EVPN);
                into.withdrawn.extend(
                    EvpnRoute::decode_all(&unreach.withdrawn, 0).expect("withdrawn EVPN NLRI"),
                );
            }
            if let Some(reach) = u.mp_reach() {
                assert_eq!(reach.family, Family::L2VPN_EVPN);
                for route in EvpnRoute::decode_all(&reach.nlri, 0).expect("announced EVPN NLRI") {
                    into.announced.push((route, u.clone()));
                }
            }
        }
        other => panic!("unexpected message {other:?}"),
    }
}

pub fn nlri(route: &EvpnRoute) -> Bytes {
    let mut out = BytesMut::new();
    route.encode(&mut out);
    out.freeze()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn rd(admin: Ipv4Addr, number: u16) -> RouteDistinguisher {
    RouteDistinguisher::Ipv4 {
        addr: admin,
        number,
    }
}

/// The route target every test route carries (RFC 8365 section 5.1.2.1
/// auto form for AS 65000, VNI 10).
pub fn rt(vni: u32) -> ExtendedCommunity {
    ExtendedCommunity::RouteTarget(RouteTarget::As2 {
        asn: ASN as u16,
        number: vni,
    })
}

/// MAC 02:aa:SS:00:HH:LL for route number `i` of speaker `speaker`.
pub fn mac(speaker: u8, i: u16) -> MacAddress {
    let [hi, lo] = i.to_be_bytes();
    MacAddress([0x02, 0xaa, speaker, 0x00, hi, lo])
}

/// A type-2 route: VNI in label1 (RFC 8365 section 5.1.3), IPv4 when `ip`.
pub fn type2(rd: RouteDistinguisher, mac: MacAddress, ip: Option<Ipv4Addr>, vni: u32) -> EvpnRoute {
    EvpnRoute::MacIp(Type2Route {
        rd,
        esi: Esi::ZERO,
        ethernet_tag: 0,
        mac,
        ip: ip.map(IpAddr::V4),
        label1: vni,
        label2: None,
    })
}

pub fn type3(rd: RouteDistinguisher, originator: Ipv4Addr) -> EvpnRoute {
    EvpnRoute::InclusiveMulticast(Type3Route {
        rd,
        ethernet_tag: 0,
        originating_router: IpAddr::V4(originator),
    })
}

/// Path attributes as an FRR VTEP sends them (see the vectors): ORIGIN IGP,
/// empty AS_PATH, LOCAL_PREF 100 when `local_pref`, the extended
/// communities, PMSI when given.
pub fn vtep_attributes(
    local_pref: bool,
    communities: &[ExtendedCommunity],
    pmsi: Option<PmsiTunnel>,
) -> Bytes {
    let mut values = vec![
        AttributeValue::Origin(Origin::Igp),
        AttributeValue::AsPath(AsPath::new()),
    ];
    if local_pref {
        values.push(AttributeValue::LocalPref(100));
    }
    values.push(AttributeValue::ExtendedCommunities(communities.to_vec()));
    if let Some(pmsi) = pmsi {
        values.push(AttributeValue::PmsiTunnel(pmsi));
    }
    let opts = EncodeOptions {
        four_octet_as: true,
        ..EncodeOptions::default()
    };
    let mut out = BytesMut::new();
    for value in values {
        PathAttribute::new(value).encode(&mut out, &opts);
    }
    out.freeze()
}

/// One raw path attribute (RFC 4271 section 4.3), short length form.
pub fn raw_attribute(flags: u8, type_code: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![flags, type_code, value.len() as u8];
    out.extend_from_slice(value);
    out
}

/// Two reflector clients on loopback addresses, A (a VTEP at `A_VTEP`) and
/// B, as several daemon tests set them up.
pub mod two_clients {
    use super::*;

    pub const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
    pub const A_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    pub const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
    pub const B_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);
    pub const A_VTEP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);

    /// A's type-2 routes for hosts `hosts` in VNI 10.
    pub fn a_routes(hosts: &[u8]) -> Vec<EvpnRoute> {
        hosts
            .iter()
            .map(|h| type2(rd(A_ID, 10), mac(2, u16::from(*h)), None, 10))
            .collect()
    }

    /// The attributes of A's routes: VNI 10's RT, VXLAN encapsulation.
    pub fn a_attributes() -> Bytes {
        vtep_attributes(
            false,
            &[rt(10), ExtendedCommunity::VXLAN_ENCAPSULATION],
            None,
        )
    }
}
