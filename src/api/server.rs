//! Control socket server: a Unix stream socket speaking JSON lines.
//!
//! Every request is forwarded as an [`ApiCall`] (request + oneshot reply)
//! over an mpsc channel to whoever owns the data (the daemon core); the
//! server itself holds no state. A malformed request gets an error response,
//! never a crash; an over-long line closes that connection only.
//!
//! Each connection's peer credentials are read from the kernel once, when
//! it is accepted; a request that changes state from a peer outside
//! `control.admin_group` is answered with an error (and logged), and the
//! connection stays open for reads ([`super::access`]).

use super::access::{AccessPolicy, PeerCredentials, authorize};
use super::protocol::{MAX_REQUEST_LINE, Request, Response};
use crate::config::SystemId;
use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// One request for the daemon core, with where to send the answer.
#[derive(Debug)]
pub struct ApiCall {
    pub request: Request,
    pub reply: oneshot::Sender<Response>,
}

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("control socket {path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("control socket {path} is in use by a running process (another evpnd?)")]
    InUse { path: PathBuf },
    #[error("control socket {path}: exists and is not a socket; refusing to replace it")]
    NotASocket { path: PathBuf },
    #[error(
        "control socket {path}: cannot give it to {owner}: {source} (only root may set \
         control.owner, and control.group must otherwise be a group evpnd runs in: \
         run evpnd as root or change those keys)"
    )]
    Chown {
        path: PathBuf,
        /// "user 'evpnd' and group 'evpnd-ro'", as configured.
        owner: String,
        #[source]
        source: io::Error,
    },
}

/// A bound control socket. Dropping it removes the socket file.
#[derive(Debug)]
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    policy: AccessPolicy,
}

impl ControlServer {
    /// Bind `path` with permission bits `mode`. Creates the parent directory,
    /// removes a stale socket left by a crashed daemon (one nobody answers
    /// on), and refuses to run over a live one. The socket is bound under a
    /// temporary name, chmod-ed, then renamed into place, so it is never
    /// reachable with the umask's permissions. Must run inside a tokio runtime.
    pub fn bind(path: &Path, mode: u32) -> Result<Self, ServerError> {
        Self::bind_owned(path, mode, None, None)
    }

    /// As [`ControlServer::bind`], and the socket file is given to `owner`
    /// and `group` (`control.owner`, `control.group`; unchanged when
    /// `None`) before its mode is set and it is moved into place: a client
    /// of that group never meets it with the wrong group.
    pub fn bind_owned(
        path: &Path,
        mode: u32,
        owner: Option<&SystemId>,
        group: Option<&SystemId>,
    ) -> Result<Self, ServerError> {
        let io_err = |action, source| ServerError::Io {
            path: path.to_path_buf(),
            action,
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_err("creating its directory", e))?;
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return Err(ServerError::InUse {
                        path: path.to_path_buf(),
                    });
                }
                std::fs::remove_file(path).map_err(|e| io_err("removing the stale socket", e))?;
            }
            Ok(_) => {
                return Err(ServerError::NotASocket {
                    path: path.to_path_buf(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("inspecting", e)),
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
        // A leftover from an earlier crash of this same pid number.
        let _ = std::fs::remove_file(&temp);
        let std_listener =
            std::os::unix::net::UnixListener::bind(&temp).map_err(|e| io_err("binding", e))?;
        let placed = give_away(&temp, owner, group)
            .map_err(|source| ServerError::Chown {
                path: path.to_path_buf(),
                owner: describe_owner(owner, group),
                source,
            })
            .and_then(|()| {
                std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| io_err("setting its mode", e))
            })
            .and_then(|()| std::fs::rename(&temp, path).map_err(|e| io_err("moving into place", e)))
            .and_then(|()| {
                std_listener
                    .set_nonblocking(true)
                    .map_err(|e| io_err("configuring", e))
            });
        if let Err(e) = placed {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        let listener =
            UnixListener::from_std(std_listener).map_err(|e| io_err("registering", e))?;
        Ok(Self {
            listener,
            path: path.to_path_buf(),
            policy: AccessPolicy::open(nix::unistd::geteuid().as_raw()),
        })
    }

    /// Requests that change state are allowed only to root, the daemon's
    /// user and the members of `group` (`control.admin_group`); `None`
    /// (the default) allows them to every client.
    pub fn with_admin_group(mut self, group: Option<SystemId>) -> Self {
        self.policy.admin_group = group;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accept connections until `shutdown` completes, then close them all.
    pub async fn serve(self, calls: mpsc::Sender<ApiCall>, shutdown: impl Future<Output = ()>) {
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve_connection(stream, calls.clone(), self.policy.clone()));
                    }
                    Err(e) => {
                        tracing::warn!(socket = %self.path.display(), error = %e, "control socket accept failed");
                        // Avoid a busy loop on persistent errors (EMFILE).
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
                // Reap finished connection tasks so the set does not grow.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.shutdown().await;
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// chown(2) when there is anything to change.
fn give_away(path: &Path, owner: Option<&SystemId>, group: Option<&SystemId>) -> io::Result<()> {
    if owner.is_none() && group.is_none() {
        return Ok(());
    }
    std::os::unix::fs::chown(path, owner.map(|o| o.id), group.map(|g| g.id))
}

fn describe_owner(owner: Option<&SystemId>, group: Option<&SystemId>) -> String {
    match (owner, group) {
        (Some(o), Some(g)) => format!("{} and {}", o.describe("user"), g.describe("group")),
        (Some(o), None) => o.describe("user"),
        (None, Some(g)) => g.describe("group"),
        (None, None) => "its owner".into(),
    }
}

/// Who connected, as the kernel recorded it at connect() time. `None`
/// when even SO_PEERCRED fails (the connection then may only read, if an
/// admin group is set); missing supplementary groups (a kernel before
/// 4.13) leave the primary group to decide.
fn peer_credentials(stream: &UnixStream) -> Option<PeerCredentials> {
    let cred = match stream.peer_cred() {
        Ok(cred) => cred,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a control client's credentials (SO_PEERCRED)");
            return None;
        }
    };
    let groups = evpnd_linux::peer_cred::peer_groups(stream.as_fd()).unwrap_or_else(|e| {
        tracing::debug!(error = %e, uid = cred.uid(), "cannot read a control client's groups (SO_PEERGROUPS); its primary group decides");
        Vec::new()
    });
    Some(PeerCredentials {
        uid: cred.uid(),
        gid: cred.gid(),
        groups,
        // 0: the peer is in a pid namespace we cannot see.
        pid: cred.pid().filter(|p| *p > 0),
    })
}

async fn serve_connection(stream: UnixStream, calls: mpsc::Sender<ApiCall>, policy: AccessPolicy) {
    let peer = peer_credentials(&stream);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = (MAX_REQUEST_LINE + 1) as u64;
        match (&mut reader).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "control connection read failed");
                return;
            }
        }
        let complete = line.last() == Some(&b'\n');
        if !complete && line.len() > MAX_REQUEST_LINE {
            let r = Response::error(format!(
                "request longer than {MAX_REQUEST_LINE} bytes; closing"
            ));
            let _ = write_response(&mut write, &r).await;
            return;
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            if complete {
                continue;
            }
            return;
        }
        let response = match serde_json::from_str::<Request>(text.trim()) {
            Ok(request) => match authorize(&request, peer.as_ref(), &policy) {
                Ok(()) => dispatch(request, &calls).await,
                Err(refusal) => {
                    tracing::warn!(
                        request = request.command(),
                        uid = peer.as_ref().map(|p| p.uid),
                        pid = peer.as_ref().and_then(|p| p.pid),
                        "control request refused: {refusal}"
                    );
                    Response::error(refusal)
                }
            },
            Err(e) => Response::error(format!("malformed request: {e}")),
        };
        if write_response(&mut write, &response).await.is_err() || !complete {
            return;
        }
    }
}

async fn dispatch(request: Request, calls: &mpsc::Sender<ApiCall>) -> Response {
    let (reply, answer) = oneshot::channel();
    if calls.send(ApiCall { request, reply }).await.is_err() {
        return Response::error("evpnd is shutting down");
    }
    answer
        .await
        .unwrap_or_else(|_| Response::error("evpnd dropped the request"))
}

async fn write_response(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    response: &Response,
) -> io::Result<()> {
    let mut json = serde_json::to_vec(response).map_err(io::Error::other)?;
    json.push(b'\n');
    write.write_all(&json).await?;
    write.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncBufReadExt;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("evpnd-api-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// A daemon stand-in answering every request with an empty neighbor list.
    fn spawn_answerer(mut rx: mpsc::Receiver<ApiCall>) {
        tokio::spawn(async move {
            while let Some(call) = rx.recv().await {
                let _ = call.reply.send(Response::Neighbors(vec![]));
            }
        });
    }

    async fn roundtrip(path: &Path, lines: &[&str]) -> Vec<String> {
        let stream = UnixStream::connect(path).await.unwrap();
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r).lines();
        let mut out = Vec::new();
        for l in lines {
            w.write_all(format!("{l}\n").as_bytes()).await.unwrap();
            out.push(r.next_line().await.unwrap().unwrap());
        }
        out
    }

    #[tokio::test]
    async fn serves_requests_and_rejects_garbage() {
        let dir = temp_dir("serve");
        let path = dir.join("sub/evpnd.sock");
        let server = ControlServer::bind(&path, 0o600).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (tx, rx) = mpsc::channel(4);
        spawn_answerer(rx);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(tx, async {
            let _ = stopped.await;
        }));
        let answers = roundtrip(
            &path,
            &[
                r#"{"request":"show_neighbors"}"#,
                "this is not json",
                r#"{"request":"show_fdb","vni":10}"#,
            ],
        )
        .await;
        assert_eq!(answers[0], r#"{"kind":"neighbors","data":[]}"#);
        assert!(answers[1].starts_with(r#"{"kind":"error","data":{"message":"malformed request"#));
        assert_eq!(answers[2], r#"{"kind":"neighbors","data":[]}"#);

        // A second daemon must not steal a live socket.
        assert!(matches!(
            ControlServer::bind(&path, 0o600),
            Err(ServerError::InUse { .. })
        ));

        let _ = stop.send(());
        task.await.unwrap();
        assert!(!path.exists(), "socket removed on shutdown");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn oversized_request_closes_only_that_connection() {
        let dir = temp_dir("big");
        let path = dir.join("evpnd.sock");
        let server = ControlServer::bind(&path, 0o600).unwrap();
        let (tx, rx) = mpsc::channel(4);
        spawn_answerer(rx);
        let task = tokio::spawn(server.serve(tx, std::future::pending()));
        let stream = UnixStream::connect(&path).await.unwrap();
        let (r, mut w) = stream.into_split();
        let big = vec![b'x'; MAX_REQUEST_LINE + 10];
        let _ = w.write_all(&big).await;
        let mut lines = BufReader::new(r).lines();
        let answer = lines.next_line().await.unwrap().unwrap();
        assert!(answer.contains("request longer than"), "{answer}");
        assert_eq!(lines.next_line().await.unwrap(), None);
        // The server still answers others.
        let answers = roundtrip(&path, &[r#"{"request":"show_vnis"}"#]).await;
        assert_eq!(answers[0], r#"{"kind":"neighbors","data":[]}"#);
        task.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_socket_is_given_to_its_owner_and_group_before_it_appears() {
        let dir = temp_dir("owned");
        let path = dir.join("evpnd.sock");
        let (user, group) = (
            SystemId {
                id: 4242,
                name: None,
            },
            SystemId {
                id: 4243,
                name: None,
            },
        );
        let bound = ControlServer::bind_owned(&path, 0o660, Some(&user), Some(&group));
        if nix::unistd::geteuid().is_root() {
            let _server = bound.unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            use std::os::unix::fs::MetadataExt;
            assert_eq!(
                (meta.uid(), meta.gid(), meta.mode() & 0o777),
                (4242, 4243, 0o660)
            );
        } else {
            // Only root may give a file away; the error says what to do,
            // and nothing is left behind.
            let e = bound.unwrap_err().to_string();
            assert!(
                e.contains("cannot give it to uid 4242 and gid 4243")
                    && e.contains("run evpnd as root"),
                "{e}"
            );
            assert!(!path.exists());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn stale_socket_is_replaced_but_regular_file_is_not() {
        let dir = temp_dir("stale");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("evpnd.sock");
        // A socket file nobody listens on.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let server = ControlServer::bind(&path, 0o640).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        drop(server);
        std::fs::write(&path, b"precious").unwrap();
        assert!(matches!(
            ControlServer::bind(&path, 0o600),
            Err(ServerError::NotASocket { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
