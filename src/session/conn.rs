//! One TCP connection of a peer's session: the read half and its buffer,
//! and the writer task that drains the connection's [`PeerSink`] queue,
//! coalescing UPDATEs into large writes and writing a last NOTIFICATION
//! before it closes.

use super::counters::MessageCounters;
use crate::rib_task::{PeerQueue, PeerSink};
use bytes::{Bytes, BytesMut};
use evpnd_core::session::collision::Initiator;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a closing connection may take to flush its last NOTIFICATION.
pub(super) const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Read buffer growth step: large, so a burst of UPDATEs costs few reads.
pub(super) const READ_CHUNK: usize = 256 * 1024;
/// Write buffer: UPDATEs are coalesced into writes of this size.
const WRITE_BUFFER: usize = 256 * 1024;

/// One TCP connection of the session.
pub(super) struct Conn {
    pub(super) read: OwnedReadHalf,
    pub(super) buf: BytesMut,
    pub(super) sink: PeerSink,
    pub(super) close: Option<oneshot::Sender<Option<Bytes>>>,
    pub(super) writer: JoinHandle<()>,
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
            let _ = close.send(last);
        }
        let writer = self.writer;
        tokio::spawn(async move {
            let abort = writer.abort_handle();
            if tokio::time::timeout(CLOSE_GRACE, writer).await.is_err() {
                abort.abort();
            }
        });
    }
}

/// Writes queued messages, coalescing them into large writes, until told to
/// close (the last message, a NOTIFICATION, goes out first) or the queue
/// closes.
async fn write_loop(
    write: OwnedWriteHalf,
    mut queue: PeerQueue,
    mut close: oneshot::Receiver<Option<Bytes>>,
    counters: Arc<MessageCounters>,
) {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, write);
    loop {
        tokio::select! {
            biased;
            last = &mut close => {
                if let Ok(Some(last)) = last {
                    let _ = out.write_all(&last).await;
                    counters.messages_out.fetch_add(1, Ordering::Relaxed);
                }
                let _ = out.flush().await;
                let _ = out.shutdown().await;
                return;
            }
            chunk = queue.recv() => {
                let Some(chunk) = chunk else {
                    let _ = out.flush().await;
                    return;
                };
                for message in chunk.iter() {
                    if out.write_all(message).await.is_err() {
                        return;
                    }
                    counters.messages_out.fetch_add(1, Ordering::Relaxed);
                    if message.get(18) == Some(&2) {
                        counters.updates_out.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if queue.is_empty() && out.flush().await.is_err() {
                    return;
                }
            }
        }
    }
}
