//! Secrets in the configuration (`neighbors[].password`, the TCP-MD5 key
//! of RFC 2385): a type that never prints its value, and the check that
//! the file holding one is not readable by others.

use super::Config;
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

/// When `config` holds a key and `path` can be read by users other than
/// its owner and group (mode o+r), the warning to log: a TCP-MD5 key is
/// only as secret as the file (FRR keeps it in frr.conf, mode 0640).
/// `None` when there is no key or the file is private enough.
pub fn readable_secret_warning(path: &Path, config: &Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let keys = config
        .neighbors
        .iter()
        .filter(|n| n.password.is_some())
        .count();
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

    const BASE: &str = "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.1\"\n[[neighbors]]\naddress = \"198.19.0.2\"\nremote_as = 65000\n";

    fn error(extra: &str) -> (String, String) {
        let e = Config::from_toml_str(&format!("{BASE}{extra}")).unwrap_err();
        (e.key().unwrap_or_default().to_string(), e.to_string())
    }

    #[test]
    fn keys_are_checked_and_named() {
        let ok = Config::from_toml_str(&format!(
            "{BASE}password = \"{}\"\nttl_security = 254\n",
            "k".repeat(80)
        ))
        .unwrap();
        assert_eq!(ok.neighbors[0].password.as_ref().map(Secret::len), Some(80));
        assert_eq!(ok.neighbors[0].ttl_security, Some(254));
        let (key, message) = error(&format!("password = \"{}\"\n", "k".repeat(81)));
        assert_eq!(key, "neighbors[0].password");
        assert!(message.contains("81 octets: must be 1 to 80"), "{message}");
        assert_eq!(error("password = \"\"\n").0, "neighbors[0].password");
        for hops in [0, 255, 1000] {
            let (key, message) = error(&format!("ttl_security = {hops}\n"));
            assert_eq!(key, "neighbors[0].ttl_security");
            assert!(message.contains("must be 1 to 254"), "{message}");
        }
    }

    #[test]
    fn a_changed_key_or_radius_resets_the_session() {
        let old = Config::from_toml_str(&format!("{BASE}password = \"one\"\n")).unwrap();
        for changed in [
            "password = \"two\"\n",
            "",
            "password = \"one\"\nttl_security = 1\n",
        ] {
            let new = Config::from_toml_str(&format!("{BASE}{changed}")).unwrap();
            let plan = super::super::diff::plan(&old, &new).unwrap();
            assert_eq!(plan.neighbors_changed.len(), 1, "{changed}");
            // The reload plan is logged at debug level: no key in it.
            assert!(!format!("{plan:?}").contains("two"));
        }
    }

    #[test]
    fn warns_about_a_world_readable_file_with_a_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("evpnd-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("evpnd.toml");
        let text = "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.1\"\n[[neighbors]]\naddress = \"198.19.0.2\"\nremote_as = 65000\npassword = \"hunter2\"\n";
        std::fs::write(&path, text).unwrap();
        let config = Config::load(&path).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warning = readable_secret_warning(&path, &config).unwrap();
        assert!(warning.contains("mode 0644"), "{warning}");
        assert!(!warning.contains("hunter2"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(readable_secret_warning(&path, &config), None);
        let without = Config::from_toml_str(&text.replace("password = \"hunter2\"\n", "")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(readable_secret_warning(&path, &without), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
