//! One TCP connection of a peer's session: the read half and its buffer,
//! and the writer task that drains the connection's [`PeerSink`] queue,
//! gathering UPDATEs into large vectored writes and writing a last NOTIFICATION
//! before it closes, or handing the connection back whole for another
//! process to take over (`evpnd upgrade`, ADR 0010).

use super::counters::MessageCounters;
use crate::rib_task::{PeerQueue, PeerSink};
use bytes::{Buf, Bytes, BytesMut};
use evpnd_core::rib::engine::OutChunk;
use evpnd_core::session::collision::Initiator;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a closing connection may take to flush its last NOTIFICATION.
pub(super) const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Read buffer growth step: large, so a burst of UPDATEs costs few reads.
pub(super) const READ_CHUNK: usize = 256 * 1024;

/// How the writer task ends.
pub(super) enum Closing {
    /// Write this last message (a NOTIFICATION), if any, and close.
    Close(Option<Bytes>),
    /// Write what is queued, then give the write half back, open.
    Detach,
}

/// One TCP connection of the session.
pub(super) struct Conn {
    pub(super) read: OwnedReadHalf,
    pub(super) buf: BytesMut,
    pub(super) sink: PeerSink,
    pub(super) close: Option<oneshot::Sender<Closing>>,
    pub(super) writer: JoinHandle<Option<OwnedWriteHalf>>,
    pub(super) initiator: Initiator,
    pub(super) peer_addr: SocketAddr,
}

impl Conn {
    pub(super) fn new(
        stream: TcpStream,
        initiator: Initiator,
        counters: Arc<MessageCounters>,
        queue_bytes: usize,
    ) -> io::Result<Self> {
        let peer_addr = stream.peer_addr()?;
        // No Nagle: the writer already gathers what is queued into one
        // write, so waiting for the peer's ACK before sending a small
        // UPDATE only delays it, by the peer's delayed ACK (up to 200 ms
        // on Linux) at every hop (issue 15, event convergence).
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        // Bounded, never waited on: a full queue ends the session (PeerSink).
        let (sink, queue) = PeerSink::channel(queue_bytes);
        let (close, close_rx) = oneshot::channel();
        let writer = tokio::spawn(write_loop(write, queue, close_rx, counters));
        Ok(Self {
            read,
            buf: BytesMut::with_capacity(READ_CHUNK),
            sink,
            close: Some(close),
            writer,
            initiator,
            peer_addr,
        })
    }

    pub(super) fn send(&self, message: Bytes) {
        // A full queue raises the overflow signal the session waits on.
        let _ = self.sink.try_send(Arc::from([message]));
    }

    /// Close after writing `last` (a NOTIFICATION), giving up after
    /// [`CLOSE_GRACE`] if the peer does not read.
    pub(super) fn close(mut self, last: Option<Bytes>) {
        if let Some(close) = self.close.take() {
            let _ = close.send(Closing::Close(last));
        }
        let writer = self.writer;
        tokio::spawn(async move {
            let abort = writer.abort_handle();
            if tokio::time::timeout(CLOSE_GRACE, writer).await.is_err() {
                abort.abort();
            }
        });
    }

    /// Stop at a message boundary and give the connection back whole:
    /// what is queued for the peer is written first, and the read buffer
    /// (part of a message, perhaps) comes back with it. `None` when the
    /// connection failed meanwhile.
    pub(super) async fn detach(mut self) -> Option<(TcpStream, BytesMut)> {
        self.close.take()?.send(Closing::Detach).ok()?;
        let abort = self.writer.abort_handle();
        let write = match tokio::time::timeout(CLOSE_GRACE, self.writer).await {
            Ok(Ok(Some(write))) => write,
            Ok(_) => return None,
            Err(_) => {
                abort.abort();
                return None;
            }
        };
        let stream = self.read.reunite(write).ok()?;
        Some((stream, self.buf))
    }
}

/// What one vectored write (`writev`) hands the kernel at most: messages
/// (below the kernel's IOV_MAX of 1024) and octets.
const GATHER_MESSAGES: usize = 512;
const GATHER_OCTETS: usize = 1024 * 1024;

/// Messages taken from the queue and not yet written. The queue's chunks
/// are shared by every peer of an outbound group, so the writer hands
/// their buffers to the kernel as they are (one `writev` per gather)
/// instead of copying each message into a per-peer buffer first.
#[derive(Default)]
struct Pending {
    messages: VecDeque<Bytes>,
    octets: usize,
}

impl Pending {
    fn push(&mut self, message: Bytes, counters: &MessageCounters) {
        counters.messages_out.fetch_add(1, Ordering::Relaxed);
        // Octet 18 is the message type (RFC 4271 section 4.1); 2 = UPDATE.
        if message.get(18) == Some(&2) {
            counters.updates_out.fetch_add(1, Ordering::Relaxed);
        }
        self.octets += message.len();
        self.messages.push_back(message);
    }

    fn push_chunk(&mut self, chunk: &OutChunk, counters: &MessageCounters) {
        for message in chunk.iter() {
            self.push(message.clone(), counters);
        }
    }

    /// Takes what else is queued now, up to [`GATHER_OCTETS`].
    fn gather(&mut self, queue: &mut PeerQueue, counters: &MessageCounters) {
        while self.octets < GATHER_OCTETS {
            let Some(chunk) = queue.try_recv() else {
                break;
            };
            self.push_chunk(&chunk, counters);
        }
    }

    /// Drops the first `written` octets: whole messages, then the written
    /// part of the next one.
    fn advance(&mut self, mut written: usize) {
        self.octets -= written;
        while written > 0 {
            let Some(first) = self.messages.front_mut() else {
                return;
            };
            if written < first.len() {
                first.advance(written);
                return;
            }
            written -= first.len();
            self.messages.pop_front();
        }
    }

    /// Writes every pending message whole, so that a failed write or a
    /// hand-over never leaves part of one behind.
    async fn write_all(&mut self, out: &mut OwnedWriteHalf) -> io::Result<()> {
        while !self.messages.is_empty() {
            let slices: Vec<IoSlice<'_>> = self
                .messages
                .iter()
                .take(GATHER_MESSAGES)
                .map(|message| IoSlice::new(message))
                .collect();
            let written = out.write_vectored(&slices).await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.advance(written);
        }
        Ok(())
    }
}

/// Writes queued messages, gathering what is queued into large vectored
/// writes, until told to close (the last message, a NOTIFICATION, goes out
/// first) or to detach (what is queued goes out, and the write half is
/// returned), or the queue closes.
async fn write_loop(
    mut out: OwnedWriteHalf,
    mut queue: PeerQueue,
    mut close: oneshot::Receiver<Closing>,
    counters: Arc<MessageCounters>,
) -> Option<OwnedWriteHalf> {
    let mut pending = Pending::default();
    loop {
        tokio::select! {
            biased;
            how = &mut close => {
                match how {
                    Ok(Closing::Detach) => {
                        while let Some(chunk) = queue.try_recv() {
                            pending.push_chunk(&chunk, &counters);
                        }
                        pending.write_all(&mut out).await.ok()?;
                        return Some(out);
                    }
                    Ok(Closing::Close(Some(last))) => {
                        pending.push(last, &counters);
                        let _ = pending.write_all(&mut out).await;
                    }
                    Ok(Closing::Close(None)) | Err(_) => {}
                }
                let _ = out.shutdown().await;
                return None;
            }
            chunk = queue.recv() => {
                let chunk = chunk?;
                pending.push_chunk(&chunk, &counters);
                pending.gather(&mut queue, &counters);
                pending.write_all(&mut out).await.ok()?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    fn message(kind: u8, len: usize, fill: u8) -> Bytes {
        let mut m = vec![fill; len];
        m[..16].fill(0xff);
        m[16..18].copy_from_slice(&(len as u16).to_be_bytes());
        m[18] = kind;
        Bytes::from(m)
    }

    /// Every connection of a session sends without Nagle's delay, inbound
    /// and outbound alike (both come through `Conn::new`).
    #[tokio::test]
    async fn a_connection_sends_without_nagle() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        for (stream, initiator) in [(client, Initiator::Local), (server, Initiator::Remote)] {
            assert!(!stream.nodelay().unwrap(), "Nagle is on by default");
            let conn = Conn::new(
                stream,
                initiator,
                Arc::new(MessageCounters::default()),
                usize::MAX,
            )
            .unwrap();
            assert!(conn.read.as_ref().nodelay().unwrap());
            conn.close(None);
        }
    }

    #[test]
    fn advance_drops_whole_messages_then_part_of_the_next() {
        let counters = MessageCounters::default();
        let mut pending = Pending::default();
        for (i, len) in [19, 100, 4096].into_iter().enumerate() {
            pending.push(message(if i == 0 { 4 } else { 2 }, len, i as u8), &counters);
        }
        assert_eq!(counters.messages_out.load(Ordering::Relaxed), 3);
        assert_eq!(counters.updates_out.load(Ordering::Relaxed), 2);
        pending.advance(19 + 40);
        assert_eq!(pending.messages.len(), 2);
        assert_eq!(pending.messages[0].len(), 60);
        assert_eq!(pending.octets, 60 + 4096);
        pending.advance(60 + 4095);
        assert_eq!(pending.messages.len(), 1);
        assert_eq!(pending.messages[0].len(), 1);
        pending.advance(1);
        assert!(pending.messages.is_empty());
        assert_eq!(pending.octets, 0);
    }

    /// Many chunks shared with other peers reach the peer whole and in
    /// order, although the kernel takes each `writev` only in part while
    /// the reader lags.
    #[tokio::test]
    async fn queued_chunks_arrive_whole_and_in_order() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let (_read, write) = client.into_split();
        let (sink, queue) = PeerSink::channel(usize::MAX);
        let (close, close_rx) = oneshot::channel();
        let counters = Arc::new(MessageCounters::default());
        let writer = tokio::spawn(write_loop(write, queue, close_rx, counters.clone()));
        let mut expected = Vec::new();
        for c in 0..200u32 {
            let chunk: OutChunk = (0..20u32)
                .map(|i| message(2, 19 + ((c * 20 + i) % 4000) as usize, (c + i) as u8))
                .collect();
            for m in chunk.iter() {
                expected.extend_from_slice(m);
            }
            sink.try_send(chunk).unwrap();
        }
        let mut received = vec![0; expected.len()];
        server.read_exact(&mut received).await.unwrap();
        assert!(
            received == expected,
            "the bytes differ from what was queued"
        );
        close.send(Closing::Close(None)).ok().unwrap();
        assert!(writer.await.unwrap().is_none());
        assert_eq!(counters.updates_out.load(Ordering::Relaxed), 4000);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }
}
