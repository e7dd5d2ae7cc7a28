//! Secrets in the configuration (`neighbors[].password`, the TCP-MD5 key
//! of RFC 2385): a type that never prints its value, and the check that
//! the file holding one is not readable by others.

use serde::Deserialize;
use std::fmt;
use std::path::Path;

/// Longest `neighbors[].password`: Linux's `TCP_MD5SIG_MAXKEYLEN` (RFC
/// 2385 sets no limit; the kernel does).
pub const MAX_PASSWORD_LEN: usize = 80;

/// A key from the configuration. `Debug` and `Display` print
/// `<redacted>`, so neither a log line, a `{:?}` of the configuration (the
/// reload plan is logged at debug level) nor an error message carries it;
/// only [`Secret::expose`] hands the octets to the socket.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The key's octets, for the kernel (TCP_MD5SIG) only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Length in octets (RFC 2385 keys are octet strings).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// When the file at `path` holds `keys` keys and can be read by users
/// other than its owner and group (mode o+r), the warning to log: a TCP-MD5
/// key is only as secret as the file (FRR keeps it in frr.conf, mode 0640).
/// `None` when there is no key or the file is private enough
/// (`Config::readable_secret_warning` counts the keys).
pub fn readable_secret_warning(path: &Path, keys: usize) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    if keys == 0 {
        return None;
    }
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o004 != 0).then(|| {
        format!(
            "{}: readable by every user (mode {:04o}) and holds {keys} neighbor password(s); chmod o-r it",
            path.display(),
            mode & 0o7777
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), b"hunter2");
    }
}
