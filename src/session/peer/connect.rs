//! The peer task's TCP connections: connecting out (with the neighbour's
//! TCP-MD5 key and GTSM options), the outcome of a connect, and connections
//! accepted from the peer, with the collision rules of RFC 4271 section 6.8
//! decided by `evpnd_core::session::collision`.

use super::*;

impl Session {
    pub(super) fn connect(&mut self) {
        let addr = SocketAddr::new(self.peer(), self.spec.neighbor.port);
        let local = self.spec.neighbor.local_address;
        let limit = self
            .spec
            .fsm
            .connect_backoff
            .base
            .max(Duration::from_secs(1));
        debug!(peer = %addr, "connecting");
        let security = crate::session::auth::SocketSecurity::of(&self.spec.neighbor);
        self.connecting = Some(tokio::spawn(async move {
            let socket = if addr.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            // RFC 2385 key and RFC 5082 TTLs before the SYN leaves.
            crate::session::auth::prepare_connect(&socket, &security)?;
            if let Some(local) = local {
                socket.bind(SocketAddr::new(local, 0))?;
            }
            tokio::time::timeout(limit, socket.connect(addr))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
        }));
    }

    pub(super) async fn connected(&mut self, result: io::Result<TcpStream>) {
        self.connecting = None;
        match result.and_then(|stream| {
            Conn::new(
                stream,
                Initiator::Local,
                self.counters.clone(),
                self.spec.queue_bytes,
            )
        }) {
            Ok(conn) => {
                let existing = self.conn.as_ref().map(|c| c.initiator);
                match collision::outbound(existing) {
                    Outbound::Adopt => {
                        self.conn = Some(conn);
                        self.event(Event::TcpCrAcked).await;
                    }
                    Outbound::CloseNew => conn.close(None),
                }
            }
            Err(e) => {
                debug!(peer = %self.peer(), error = %e, "connect failed");
                self.event(Event::TcpConnectionFails).await;
            }
        }
    }

    /// A connection from this peer's address was accepted (RFC 4271 8.2.2
    /// TcpConnectionConfirmed). Whether it collides with the one we have is
    /// decided by `collision::inbound` (RFC 4271 section 6.8); this carries
    /// the decision out.
    pub(super) async fn inbound(&mut self, stream: TcpStream) {
        if let Err(e) = crate::session::auth::accepted(&stream, &self.spec.neighbor) {
            warn!(peer = %self.peer(), error = %e, "refused connection");
            return;
        }
        let state = self.fsm.state();
        let existing = self.conn.as_ref().map(|c| c.initiator);
        // The peer's identity, known once its OPEN was accepted (OpenConfirm on).
        let remote = self.fsm.negotiated().map(|s| (s.peer_bgp_id, s.peer_asn));
        let decision = collision::inbound(
            state,
            existing,
            self.spec.local.router_id,
            self.spec.local.asn,
            remote,
        );
        match decision {
            Inbound::Refuse => {
                debug!(peer = %self.peer(), "refusing connection: session idle");
            }
            Inbound::Adopt => {
                if let Some(handle) = self.connecting.take() {
                    handle.abort();
                }
                self.take_accepted(stream).await;
            }
            Inbound::RejectNew(notification) => {
                info!(peer = %self.peer(), state = state.name(), "connection collision: closing the new inbound connection");
                let bytes = Message::Notification(notification)
                    .to_bytes(&EncodeOptions::default())
                    .ok();
                if let Ok(conn) = self.accepted_conn(stream) {
                    conn.close(bytes);
                }
            }
            Inbound::ReplaceExisting => {
                info!(peer = %self.peer(), state = state.name(), "connection collision: the new inbound connection replaces the existing one");
                self.event(Event::OpenCollisionDump).await;
                // RFC 4271 6.8: the surviving connection runs its own FSM.
                self.timers.clear();
                self.fsm = Fsm::new(self.spec.fsm.clone(), self.seed.rotate_left(7));
                self.event(Event::AutomaticStartWithPassiveTcpEstablishment)
                    .await;
                self.take_accepted(stream).await;
            }
        }
    }

    /// An accepted stream as a connection of this session.
    fn accepted_conn(&self, stream: TcpStream) -> io::Result<Conn> {
        Conn::new(
            stream,
            Initiator::Remote,
            self.counters.clone(),
            self.spec.queue_bytes,
        )
    }

    /// Makes the accepted stream the session's connection (TcpConnectionConfirmed).
    async fn take_accepted(&mut self, stream: TcpStream) {
        match self.accepted_conn(stream) {
            Ok(conn) => {
                self.conn = Some(conn);
                self.event(Event::TcpConnectionConfirmed).await;
            }
            Err(e) => warn!(peer = %self.peer(), error = %e, "accepted connection unusable"),
        }
    }
}
