//! One TCP connection of a peer's session: the read half and its buffer,
//! and the writer task that drains the connection's [`PeerSink`] queue,
//! coalescing UPDATEs into large writes and writing a last NOTIFICATION
//! before it closes, or handing the connection back whole for another
//! process to take over (`evpnd upgrade`, ADR 0010).

use super::counters::MessageCounters;
use crate::rib_task::{PeerQueue, PeerSink};
use bytes::{Bytes, BytesMut};
use evpnd_core::rib::engine::OutChunk;
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

/// Writes whole messages, so a write that fails or a hand-over never leaves
/// part of one behind.
async fn write_chunk(
    out: &mut BufWriter<OwnedWriteHalf>,
    chunk: &OutChunk,
    counters: &MessageCounters,
) -> io::Result<()> {
    for message in chunk.iter() {
        out.write_all(message).await?;
        counters.messages_out.fetch_add(1, Ordering::Relaxed);
        if message.get(18) == Some(&2) {
            counters.updates_out.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Writes queued messages, coalescing them into large writes, until told to
/// close (the last message, a NOTIFICATION, goes out first) or to detach
/// (what is queued goes out, and the write half is returned), or the queue
/// closes.
async fn write_loop(
    write: OwnedWriteHalf,
    mut queue: PeerQueue,
    mut close: oneshot::Receiver<Closing>,
    counters: Arc<MessageCounters>,
) -> Option<OwnedWriteHalf> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, write);
    loop {
        tokio::select! {
            biased;
            how = &mut close => {
                match how {
                    Ok(Closing::Detach) => {
                        while let Some(chunk) = queue.try_recv() {
                            write_chunk(&mut out, &chunk, &counters).await.ok()?;
                        }
                        out.flush().await.ok()?;
                        return Some(out.into_inner());
                    }
                    Ok(Closing::Close(Some(last))) => {
                        let _ = out.write_all(&last).await;
                        counters.messages_out.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Closing::Close(None)) | Err(_) => {}
                }
                let _ = out.flush().await;
                let _ = out.shutdown().await;
                return None;
            }
            chunk = queue.recv() => {
                let Some(chunk) = chunk else {
                    let _ = out.flush().await;
                    return None;
                };
                write_chunk(&mut out, &chunk, &counters).await.ok()?;
                if queue.is_empty() && out.flush().await.is_err() {
                    return None;
                }
            }
        }
    }
}
