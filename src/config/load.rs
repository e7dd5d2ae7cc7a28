//! Loading: merge the TOML file and the `EVPND__*` environment with the
//! `config` crate into the raw structs, then validate them.

use super::raw::*;
use super::validate::*;
use super::*;

impl Config {
    /// The warning to log when this configuration holds TCP-MD5 keys and
    /// its file at `path` is readable by others (`secret`).
    pub fn readable_secret_warning(&self, path: &Path) -> Option<String> {
        let keys = self
            .neighbors
            .iter()
            .chain(self.listen_ranges.iter().map(|r| &r.template))
            .filter(|n| n.password.is_some())
            .count();
        super::secret::readable_secret_warning(path, keys)
    }

    /// Load `path`, applying `EVPND__*` overrides from the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    /// Load `path` with an explicit environment (tests pass a fixed map).
    pub fn load_with_env(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Self::from_toml_str_with_env(&text, &file, env)
    }

    /// Parse a TOML document without environment overrides (for tests).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Self::from_toml_str_with_env(text, "<string>", std::iter::empty())
    }

    /// Parse a TOML document named `file` (for messages) with overrides from `env`.
    pub fn from_toml_str_with_env(
        text: &str,
        file: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let parse_err = |e: config::ConfigError| ConfigError::Parse {
            file: file.to_string(),
            message: dot_after_index(&e.to_string()),
        };
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml));
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(var, _)| var.starts_with(ENV_PREFIX))
            .collect();
        // Deterministic order, whatever order the environment came in.
        overrides.sort();
        for (var, value) in overrides {
            let key = var[ENV_PREFIX.len()..]
                .split("__")
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
                .join(".");
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(ConfigError::Invalid {
                    file: file.to_string(),
                    key: var,
                    message: "malformed override variable name".into(),
                });
            }
            let value: config::Value = if ENV_LIST_KEYS.contains(&key.as_str()) {
                value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .into()
            } else {
                value.into()
            };
            builder = builder.set_override(key, value).map_err(parse_err)?;
        }
        let raw: RawConfig = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(parse_err)?;
        Self::validate(raw).map_err(|(key, message)| ConfigError::Invalid {
            file: file.to_string(),
            key,
            message,
        })
    }

    /// One-line human summary (for `evpnd check-config`).
    pub fn summary(&self) -> String {
        let clients = self
            .neighbors
            .iter()
            .filter(|n| n.route_reflector_client)
            .count();
        let role = match &self.vtep {
            None => "route server/reflector (no dataplane)".to_string(),
            Some(v) => format!(
                "VTEP {} with {} VNI(s), dataplane {}",
                v.local_ip,
                v.vnis.len(),
                match v.dataplane {
                    Dataplane::Linux => "linux",
                    Dataplane::None => "none",
                }
            ),
        };
        let ranges = if self.listen_ranges.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = self
                .listen_ranges
                .iter()
                .map(|r| format!("{} (at most {})", r.prefix, r.max_sessions))
                .collect();
            format!(", listen range(s) {}", list.join(", "))
        };
        format!(
            "AS {}, router-id {}, {} neighbor(s) ({} route-reflector client(s)){}, {}, control socket {}",
            self.bgp.asn,
            self.bgp.router_id,
            self.neighbors.len(),
            clients,
            ranges,
            role,
            self.control.socket.display()
        )
    }

    fn validate(raw: RawConfig) -> Result<Config, (String, String)> {
        let bgp = validate_bgp(raw.bgp)?;
        let mut neighbors = Vec::with_capacity(raw.neighbors.len());
        let mut seen = HashSet::new();
        for (i, n) in raw.neighbors.into_iter().enumerate() {
            let key = format!("neighbors[{i}]");
            let n = validate_neighbor(n, &key, &bgp)?;
            if !seen.insert(n.address) {
                return Err((
                    format!("{key}.address"),
                    format!("{} is configured twice", n.address),
                ));
            }
            neighbors.push(n);
        }
        let mut listen_ranges: Vec<ListenRange> = Vec::with_capacity(raw.listen_ranges.len());
        for (i, r) in raw.listen_ranges.into_iter().enumerate() {
            let key = format!("listen_ranges[{i}]");
            let range = validate_listen_range(r, &key, &bgp)?;
            // One range per address: which template a peer gets must not
            // depend on the order of the file.
            if let Some((j, other)) = listen_ranges.iter().enumerate().find(|(_, o)| {
                o.prefix.contains(range.prefix.network())
                    || range.prefix.contains(o.prefix.network())
            }) {
                return Err((
                    format!("{key}.prefix"),
                    format!(
                        "{} overlaps listen_ranges[{j}] ({}): ranges may not overlap",
                        range.prefix, other.prefix
                    ),
                ));
            }
            listen_ranges.push(range);
        }
        let vtep = raw.vtep.map(|v| validate_vtep(v, bgp.asn)).transpose()?;
        Ok(Config {
            bgp,
            neighbors,
            listen_ranges,
            vtep,
            control: validate_control(raw.control)?,
            log: validate_log(raw.log)?,
            metrics: MetricsConfig {
                listen: raw
                    .metrics
                    .listen
                    .map(|s| {
                        s.parse::<SocketAddr>().map_err(|_| {
                            (
                                "metrics.listen".to_string(),
                                format!("{s:?} is not an address:port"),
                            )
                        })
                    })
                    .transpose()?,
            },
        })
    }
}

/// The `config` crate writes array element keys as `neighbors[0]remote_as`;
/// print them as `neighbors[0].remote_as`, the form our own errors use.
fn dot_after_index(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 4);
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ']' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic()) {
            out.push('.');
        }
    }
    out
}
