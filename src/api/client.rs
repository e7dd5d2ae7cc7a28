//! Control socket client used by `evpnd show`: one request, one response.
//! Blocking on purpose: the CLI does nothing else meanwhile.

use super::protocol::{Request, Response};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// Largest response accepted (a full table of a big reflector is large,
/// but not unbounded).
pub const MAX_RESPONSE: u64 = 1 << 30;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot connect to control socket {path}: {source} (is evpnd running? use --socket)")]
    Connect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("control socket {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("control socket {path}: invalid response: {message}")]
    Protocol { path: PathBuf, message: String },
    #[error("evpnd: {0}")]
    Daemon(String),
}

/// Send `request` to the daemon at `path` and wait up to `timeout` for each
/// read and write. A `Response::Error` from the daemon becomes `ClientError::Daemon`.
pub fn request(path: &Path, request: &Request, timeout: Duration) -> Result<Response, ClientError> {
    let io_err = |source| ClientError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
        path: path.to_path_buf(),
        source,
    })?;
    stream.set_read_timeout(Some(timeout)).map_err(io_err)?;
    stream.set_write_timeout(Some(timeout)).map_err(io_err)?;
    let mut line = serde_json::to_vec(request).map_err(|e| ClientError::Protocol {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    line.push(b'\n');
    stream.write_all(&line).map_err(io_err)?;
    let mut reader = BufReader::new(stream.take(MAX_RESPONSE));
    let mut answer = Vec::new();
    reader.read_until(b'\n', &mut answer).map_err(io_err)?;
    if answer.is_empty() {
        return Err(ClientError::Protocol {
            path: path.to_path_buf(),
            message: "connection closed without an answer".into(),
        });
    }
    match serde_json::from_slice::<Response>(&answer) {
        Ok(Response::Error { message }) => Err(ClientError::Daemon(message)),
        Ok(r) => Ok(r),
        Err(e) => Err(ClientError::Protocol {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_error_says_what_to_do() {
        let e = request(
            Path::new("/nonexistent/evpnd.sock"),
            &Request::ShowNeighbors,
            Duration::from_secs(1),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("cannot connect to control socket /nonexistent/evpnd.sock: ")
                && e.ends_with("(is evpnd running? use --socket)"),
            "{e}"
        );
    }
}
