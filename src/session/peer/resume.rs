//! The peer task's side of `evpnd upgrade` (ADR 0010): handing an
//! established connection over to the next process image, and resuming one
//! the previous image handed over.

use super::*;

impl Session {
    /// Continues a session the previous image handed over (ADR 0010):
    /// Established at once with what was negotiated then, a KEEPALIVE, the
    /// peer's routes asked for again (RFC 2918; our new RIB starts empty)
    /// and ours sent by the RIB on PeerUp. False when it cannot resume (the
    /// connection is closed and the session starts afresh).
    pub(super) async fn resume(&mut self, r: Resumed) -> bool {
        let peer = self.peer();
        let stream = std::net::TcpStream::from(r.socket);
        let conn = stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream))
            .and_then(|stream| {
                Conn::new(
                    stream,
                    Initiator::Local,
                    self.counters.clone(),
                    self.spec.queue_bytes,
                )
            });
        let mut conn = match conn {
            Ok(conn) => conn,
            Err(e) => {
                warn!(peer = %peer, error = %e, "cannot resume the handed-over session; starting afresh");
                return false;
            }
        };
        let resumed = Fsm::resume(
            self.spec.fsm.clone(),
            self.seed,
            &r.sent_open,
            &r.received_open,
        );
        let (fsm, actions) = match resumed {
            Ok(resumed) => resumed,
            Err(n) => {
                warn!(peer = %peer, notification = %n, "the handed-over session's OPEN no longer checks; closing it and starting afresh");
                let last = Message::Notification(n).to_bytes(&EncodeOptions::default());
                conn.close(last.ok());
                return false;
            }
        };
        conn.buf.extend_from_slice(&r.unread);
        let remote = conn.peer_addr;
        self.conn = Some(conn);
        self.fsm = fsm;
        self.restarting = false;
        self.resumed = true;
        self.sent_open = Some(r.sent_open);
        self.received_open = Some(r.received_open);
        // Taken up by Established, among the actions below.
        self.rt_handed = Some(r.rt_constraint);
        if let Some(session) = self.fsm.negotiated() {
            self.rx_opts = session.receive.clone();
            self.tx_opts = session.send.clone();
        }
        info!(peer = %peer, remote = %remote, "session handed over by the previous process: resumed in Established");
        self.status.send_modify(|s| s.state = State::Established);
        for action in actions {
            self.act(action).await;
        }
        if let Some(since) = r.established_since {
            self.status
                .send_modify(|s| s.established_since = Some(since));
        }
        if !self.established {
            return true;
        }
        match r.paths {
            // Its paths as the previous image held them, before anything
            // the peer sent since (the unread bytes, the socket).
            Some(paths) => {
                let external = self.spec.kind == PeerKind::Ebgp;
                for p in paths {
                    let update = restored(p.attributes, p.next_hop, p.nlri, external);
                    let input = RibInput::Update {
                        peer: self.spec.idx,
                        update,
                    };
                    let _ = self.rib.send(RibRequest::Input(input)).await;
                }
            }
            // Lost on the way: RFC 2918, the peer sends them again.
            None if self.fsm.negotiated().is_some_and(|s| s.route_refresh) => {
                let refresh = RouteRefresh::request(self.spec.family);
                self.send(&Message::RouteRefresh(refresh));
            }
            None => {
                warn!(peer = %peer, "the handed-over paths are lost and the peer has no route refresh: its routes come back with its next updates only");
            }
        }
        self.process_buffered().await;
        true
    }

    /// Hands the established connection over (ADR 0010): stops at a
    /// message boundary, writes what is queued, and leaves the socket, the
    /// unread bytes and both OPENs for the next image. The peer notices
    /// nothing; the RIB is not told (this process is about to be replaced).
    pub(super) async fn hand_over(&mut self) {
        let peer = self.peer();
        // An UPDATE decoded but still waiting for room in the RIB's queue
        // is in neither the unread bytes nor the RIB: it goes to the RIB
        // now, whose paths are dumped once every session has stopped.
        if let Some(input) = self.blocked.take() {
            let _ = self.rib.send(input).await;
        }
        // Last in the queue: the peer's hold timer starts over just before
        // the gap in which nobody sends KEEPALIVEs (RFC 4271 section 4.4).
        self.send(&Message::Keepalive);
        let (Some(conn), Some(sent_open), Some(received_open)) = (
            self.conn.take(),
            self.sent_open.clone(),
            self.received_open.clone(),
        ) else {
            return;
        };
        let Some((stream, unread)) = conn.detach().await else {
            warn!(peer = %peer, "the connection failed during the hand-over; the peer sees it end");
            return;
        };
        let socket = match stream.into_std() {
            Ok(stream) => std::os::fd::OwnedFd::from(stream),
            Err(e) => {
                warn!(peer = %peer, error = %e, "cannot hand the connection over");
                return;
            }
        };
        info!(peer = %peer, unread = unread.len(), "session handed over to the next process");
        self.spec.handover.put(HandedOver {
            address: peer,
            socket,
            sent_open,
            received_open,
            unread: unread.to_vec(),
            established_since: self.status.borrow().established_since,
            rt_constraint: self.rt_constraint.then(|| HandedRtc {
                announced: self.rt_announced.to_vec(),
                received: self.rt_received.clone(),
            }),
        });
    }
}
