//! Command line interface (clap derive) and the subcommand implementations.
//!
//! Exit codes (documented in `--help`): 0 ok, 1 runtime error, 2 bad
//! configuration or usage (clap's own usage errors exit 2 as well),

use crate::api::client;
use crate::api::protocol::{Request, Response};
use crate::api::render;
use crate::api::server::{ApiCall, ControlServer};
use crate::config::{Config, DEFAULT_SOCKET, LogConfig, LogFormat};
use crate::daemon::Stopped;
use crate::daemon::reload::{LogLevelSetter, ReloadSource};
use crate::session::handover;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::mpsc;

/// Exit statuses.
pub mod exit {
    pub const OK: u8 = 0;
    pub const RUNTIME_ERROR: u8 = 1;
    pub const BAD_CONFIG_OR_USAGE: u8 = 2;
}

const EXAMPLES: &str = "\
Examples:
  evpnd check-config /etc/evpnd/evpnd.toml
  evpnd run --config /etc/evpnd/evpnd.toml
  EVPND__BGP__ASN=65001 evpnd run --config evpnd.toml   (override any key)
  evpnd show neighbors
  evpnd reload                       (or: systemctl reload evpnd, kill -HUP)
  evpnd show config                  (the configuration generation running)
  evpnd show routes --vni 10 --type 2
  evpnd show routes --rd 198.19.0.1:2 --json
  evpnd show fdb --vni 10
  evpnd --socket /tmp/evpnd.sock show vnis
  evpnd decode ffffffffffffffffffffffffffffffff001304

Exit codes:
  0  success
  1  runtime error (daemon failure, control socket unreachable)
  2  invalid configuration or command line, unreadable decode input, a
     reload refused (nothing changed; the message names the key)";

/// How long `evpnd show` waits for the daemon.
const SHOW_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "evpnd",
    version,
    about = "BGP EVPN speaker and route reflector for Linux VXLAN",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Control socket of the running daemon (for `show`).
    #[arg(long, global = true, env = "EVPND_SOCKET", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon.
    Run {
        /// Configuration file (TOML).
        #[arg(long, short)]
        config: PathBuf,
        /// Sessions handed over by the previous image (`evpnd upgrade`
        /// adds this when it executes the new binary; not for humans).
        #[arg(long, hide = true)]
        resume_from: Option<PathBuf>,
    },
    /// Validate a configuration file and print a summary.
    CheckConfig {
        /// Configuration file (TOML).
        file: PathBuf,
    },
    /// Decode BGP messages from hex, a file or a pcap.
    Decode(DecodeArgs),
    /// Make the running daemon read its configuration file again: the file
    /// is validated whole and only the difference is applied (neighbours
    /// added, removed or changed reset those sessions only; log level). A
    /// file that fails validation, or changes a key that needs a restart,
    /// changes nothing: the error names the key and the exit status is 2.
    /// SIGHUP does the same.
    Reload {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replace the running daemon by the binary at the path it was started
    /// from (typically just upgraded), without ending any BGP session: the
    /// established sessions are handed over to the new image, which takes
    /// over the process (same PID) and the kernel state (ADR 0010). Waits
    /// until the new image answers and prints its sessions. With the same
    /// binary it is a restart that no peer notices.
    #[command(visible_alias = "restart")]
    Upgrade,
    /// Reset BGP sessions: Cease / Administrative Reset (RFC 4486), then a
    /// new session at once, with its failure count and any stop (a prefix
    /// limit without restart) forgotten. Every neighbour without ADDRESS.
    Clear {
        #[command(subcommand)]
        what: ClearCommand,
    },
    /// Query the running daemon.
    Show {
        #[command(subcommand)]
        what: ShowCommand,
        /// Print the rows as JSON (stable format) instead of a table.
        #[arg(long, global = true)]
        json: bool,
    },
}

/// Arguments of `evpnd decode`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  evpnd decode ffffffffffffffffffffffffffffffff001304
  evpnd decode bgp.pcap                         (pcap, pcapng, raw or hex: by content)
  evpnd decode --file bgp-evpn-messages.txt     (hex lines, '#' comments)
  evpnd decode - < messages.bin                 (raw messages on stdin)
  evpnd decode --pcap bgp.pcap --json | jq .    (a capture, or an error)

Exit codes: 0 all decoded, 1 a message was malformed or lost, 2 unreadable input")]
pub struct DecodeArgs {
    /// BGP messages in hex (one or more; whitespace and colons allowed; a
    /// single message may leave out the 16-byte marker), or one FILE read
    /// as --file reads it (when a file of that name exists; `-` for stdin).
    #[arg(value_name = "HEX|FILE", conflicts_with_all = ["file", "pcap"])]
    pub hex: Vec<String>,
    /// Read messages from a file (`-` for stdin), told apart by content: a
    /// pcap or pcapng capture (magic number), raw concatenated messages
    /// (starting with the marker), or text with one hex message per line
    /// and `#` comments.
    #[arg(long, conflicts_with = "pcap")]
    pub file: Option<PathBuf>,
    /// Read BGP messages from TCP port 179 in a pcap or pcapng capture.
    #[arg(long)]
    pub pcap: Option<PathBuf>,
    /// Print one JSON object per message (JSON lines) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Decode AS numbers as 2 octets when no OPEN says otherwise (hex and
    /// file input, captures without the OPENs).
    #[arg(long)]
    pub two_octet_as: bool,
}

impl From<&DecodeArgs> for crate::decode::DecodeRequest {
    fn from(args: &DecodeArgs) -> Self {
        Self {
            hex: args.hex.clone(),
            file: args.file.clone(),
            pcap: args.pcap.clone(),
            json: args.json,
            two_octet_as: args.two_octet_as,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ClearCommand {
    /// Reset one neighbour's session, or every one.
    Neighbors {
        /// The neighbour's address; every neighbour when left out.
        address: Option<std::net::IpAddr>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ShowCommand {
    /// EVPN routes (all paths, best marked), like `show bgp l2vpn evpn`.
    Routes {
        /// Only routes carrying this VNI.
        #[arg(long)]
        vni: Option<u32>,
        /// Only this EVPN route type (2 = MAC/IP, 3 = inclusive multicast).
        #[arg(long = "type", value_name = "TYPE")]
        route_type: Option<u8>,
        /// Only this route distinguisher (e.g. 198.19.0.1:2).
        #[arg(long)]
        rd: Option<String>,
    },
    /// BGP neighbors, like `show bgp l2vpn evpn summary`.
    Neighbors,
    /// Local VNIs (VTEP role).
    Vnis,
    /// EVPN-relevant bridge forwarding entries.
    Fdb {
        /// Only this VNI.
        #[arg(long)]
        vni: Option<u32>,
    },
    /// The configuration generation running (1 at start, one more per
    /// reload that changed something) and its file.
    Config,
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            resume_from,
        } => run(&config, resume_from),
        Command::CheckConfig { file } => check_config(&file),
        Command::Decode(args) => decode(&args),
        Command::Show { what, json } => show(&cli.socket, what, json),
        Command::Reload { json } => reload(&cli.socket, json),
        Command::Upgrade => upgrade(&cli.socket),
        Command::Clear {
            what: ClearCommand::Neighbors { address },
        } => clear_neighbors(&cli.socket, address),
    }
}

// ---------------------------------------------------------------------------
// decode: placeholder. When `crate::decode::run(&DecodeArgs) -> ExitCode`
// exists, this function's body becomes that one call. Nothing else refers to
// the placeholder.
// ---------------------------------------------------------------------------
fn decode(args: &DecodeArgs) -> ExitCode {
    crate::decode::run(&args.into())
}

fn check_config(file: &Path) -> ExitCode {
    match Config::load(file) {
        Ok(config) => {
            println!("{}: ok", file.display());
            println!("{}", config.summary());
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::BAD_CONFIG_OR_USAGE)
        }
    }
}

fn show(socket: &Path, what: ShowCommand, json: bool) -> ExitCode {
    let request = match what {
        ShowCommand::Routes {
            vni,
            route_type,
            rd,
        } => Request::ShowRoutes {
            vni,
            route_type,
            rd,
        },
        ShowCommand::Neighbors => Request::ShowNeighbors,
        ShowCommand::Vnis => Request::ShowVnis,
        ShowCommand::Fdb { vni } => Request::ShowFdb { vni },
        ShowCommand::Config => Request::ShowConfig,
    };
    let response = match client::request(socket, &request, SHOW_TIMEOUT) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
    };
    let rendered = if json {
        match &response {
            Response::Routes(rows) => serde_json::to_string_pretty(rows),
            Response::Neighbors(rows) => serde_json::to_string_pretty(rows),
            Response::Vnis(rows) => serde_json::to_string_pretty(rows),
            Response::Fdb(rows) => serde_json::to_string_pretty(rows),
            Response::Config(status) => serde_json::to_string_pretty(status),
            Response::Reload(report) => serde_json::to_string_pretty(report),
            Response::Upgrade(report) => serde_json::to_string_pretty(report),
            Response::Cleared(addresses) => serde_json::to_string_pretty(addresses),
            Response::Error { message } => Ok(message.clone()),
        }
        .map(|mut s| {
            s.push('\n');
            s
        })
    } else {
        Ok(match &response {
            Response::Routes(rows) => render::render_routes(rows),
            Response::Neighbors(rows) => render::render_neighbors(rows),
            Response::Vnis(rows) => render::render_vnis(rows),
            Response::Fdb(rows) => render::render_fdb(rows),
            Response::Config(status) => render::render_config(status),
            Response::Reload(report) => render::render_reload(report),
            Response::Upgrade(report) => format!(
                "handing {} session(s) over to {}\n",
                report.sessions, report.binary
            ),
            Response::Cleared(addresses) => {
                addresses.iter().map(|a| format!("reset {a}\n")).collect()
            }
            Response::Error { message } => format!("{message}\n"),
        })
    };
    match rendered {
        Ok(text) => {
            print!("{text}");
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("evpnd: cannot format the answer: {e}");
            ExitCode::from(exit::RUNTIME_ERROR)
        }
    }
}

/// `evpnd clear neighbors [ADDRESS]`.
fn clear_neighbors(socket: &Path, address: Option<std::net::IpAddr>) -> ExitCode {
    match client::request(socket, &Request::ClearNeighbors { address }, SHOW_TIMEOUT) {
        Ok(Response::Cleared(addresses)) => {
            for a in &addresses {
                println!("reset {a}");
            }
            ExitCode::from(exit::OK)
        }
        // The daemon's refusal (an address that is not a neighbour).
        Err(client::ClientError::Daemon(message)) => {
            eprintln!("evpnd: {message}");
            ExitCode::from(exit::BAD_CONFIG_OR_USAGE)
        }
        Ok(other) => {
            eprintln!("evpnd: unexpected answer to clear: {other:?}");
            ExitCode::from(exit::RUNTIME_ERROR)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::RUNTIME_ERROR)
        }
    }
}

/// How long `evpnd upgrade` waits for the new image to answer.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(60);

/// `evpnd upgrade`: ask for the hand-over, then wait for the new image's
/// control socket and print its sessions.
fn upgrade(socket: &Path) -> ExitCode {
    let report = match client::request(socket, &Request::Upgrade, SHOW_TIMEOUT) {
        Ok(Response::Upgrade(report)) => report,
        Ok(Response::Error { message }) => {
            eprintln!("evpnd: upgrade refused: {message}");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
        Ok(other) => {
            eprintln!("evpnd: unexpected answer to upgrade: {other:?}");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
    };
    println!(
        "handing {} session(s) over to {}",
        report.sessions, report.binary
    );
    // The old image stops answering, the new one binds the socket again.
    std::thread::sleep(Duration::from_millis(200));
    let deadline = std::time::Instant::now() + UPGRADE_TIMEOUT;
    loop {
        if let Ok(Response::Neighbors(rows)) =
            client::request(socket, &Request::ShowNeighbors, SHOW_TIMEOUT)
        {
            let up = rows.iter().filter(|r| r.state == "Established").count();
            println!(
                "upgraded: the new image runs, {up} of {} session(s) established",
                rows.len()
            );
            print!("{}", render::render_neighbors(&rows));
            return ExitCode::from(exit::OK);
        }
        if std::time::Instant::now() > deadline {
            eprintln!(
                "evpnd: the new image did not answer on {} within {} s; see its log",
                socket.display(),
                UPGRADE_TIMEOUT.as_secs()
            );
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `evpnd reload`: exit 0 when applied, 2 when refused (nothing changed).
fn reload(socket: &Path, json: bool) -> ExitCode {
    let report = match client::request(socket, &Request::Reload, RELOAD_TIMEOUT) {
        Ok(Response::Reload(report)) => report,
        Ok(other) => {
            eprintln!("evpnd: unexpected answer to reload: {other:?}");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("evpnd: cannot format the answer: {e}");
                return ExitCode::from(exit::RUNTIME_ERROR);
            }
        }
    }
    match (&report.error, report.applied) {
        (None, true) => {
            if !json {
                print!("{}", render::render_reload(&report));
            }
            ExitCode::from(exit::OK)
        }
        (error, _) => {
            eprintln!(
                "reload refused, nothing changed (generation {} still runs): {}",
                report.generation,
                error.as_deref().unwrap_or("no reason given")
            );
            ExitCode::from(exit::BAD_CONFIG_OR_USAGE)
        }
    }
}

/// How long `evpnd reload` waits: removed sessions get a few seconds to
/// send their Cease.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Install the tracing subscriber: RUST_LOG wins over `[log] level`. The
/// answer sets a new level on reload; `None` when RUST_LOG is set (it keeps
/// winning) or logging could not be set up.
fn init_tracing(log: &LogConfig) -> Option<LogLevelSetter> {
    use tracing_subscriber::EnvFilter;
    let from_env = EnvFilter::try_from_default_env().ok();
    let env_wins = from_env.is_some();
    let filter = from_env
        .or_else(|| EnvFilter::try_new(&log.level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    fn setter<L, S>(handle: tracing_subscriber::reload::Handle<L, S>) -> LogLevelSetter
    where
        L: From<EnvFilter> + Send + Sync + 'static,
        S: Send + Sync + 'static,
    {
        std::sync::Arc::new(move |level: &str| {
            let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        })
    }
    let (result, set) = match log.format {
        LogFormat::Text => {
            let builder = builder.with_filter_reloading();
            let set = setter(builder.reload_handle());
            (builder.try_init(), set)
        }
        LogFormat::Json => {
            let builder = builder.json().with_filter_reloading();
            let set = setter(builder.reload_handle());
            (builder.try_init(), set)
        }
    };
    match result {
        Ok(()) => (!env_wins).then_some(set),
        Err(e) => {
            eprintln!("evpnd: cannot set up logging: {e}");
            None
        }
    }
}

fn run(config_path: &Path, resume_from: Option<PathBuf>) -> ExitCode {
    // Read now: after an upgrade replaced the file, /proc/self/exe names
    // the deleted one, and the new binary is at the path we started from.
    let binary = std::env::current_exe().map_err(|e| e.to_string());
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::BAD_CONFIG_OR_USAGE);
        }
    };
    let reload = ReloadSource {
        // Absolute, so `show config` names the file whatever the cwd was;
        // symlinks are not resolved: a reload follows a link that was
        // pointed at a new file.
        path: Some(std::path::absolute(config_path).unwrap_or_else(|_| config_path.to_path_buf())),
        log_level: init_tracing(&config.log),
    };
    if let Some(warning) = config.readable_secret_warning(config_path) {
        tracing::warn!("{warning}");
    }
    let inherited = match resume_from.as_deref().map(handover::load) {
        None => None,
        Some(Ok(loaded)) => {
            for e in &loaded.errors {
                tracing::warn!(error = %e, "part of what the previous image handed over cannot be used");
            }
            tracing::info!(
                sessions = loaded.sessions.len(),
                local_paths = loaded.local_paths.as_ref().map(Vec::len),
                "resuming the sessions the previous image handed over"
            );
            Some(loaded)
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "cannot read the sessions the previous image handed over; starting them afresh");
            None
        }
    };
    let handover_file = handover::file_for(&config.control.socket);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("evpnd: cannot start the async runtime: {e}");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
    };
    let stopped = runtime.block_on(daemon(config, reload, inherited, binary.clone()));
    // Every task and thread of this image ends here; the handed-over
    // sockets are plain descriptors by now.
    drop(runtime);
    match stopped {
        Ok(Stopped::Shutdown) => ExitCode::from(exit::OK),
        Ok(Stopped::Upgrade { sessions, paths }) => {
            exec_upgrade(binary, &handover_file, sessions, &paths)
        }
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("evpnd: {e}");
            ExitCode::from(exit::RUNTIME_ERROR)
        }
    }
}

/// Executes the binary this process was started from in its place, with
/// the same arguments and the handed-over sessions (ADR 0010). Returns
/// only if that fails: the sessions are then closed, as by a restart.
fn exec_upgrade(
    binary: Result<PathBuf, String>,
    file: &Path,
    sessions: Vec<handover::HandedOver>,
    paths: &[handover::HandedPaths],
) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let binary = match binary {
        Ok(binary) => binary,
        Err(e) => {
            tracing::error!(error = %e, "cannot tell which binary to execute; stopping");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
    };
    let count = sessions.len();
    let sockets = match handover::write(file, sessions, paths) {
        Ok(sockets) => sockets,
        Err(e) => {
            tracing::error!(error = %e, "cannot write the hand-over file; stopping");
            return ExitCode::from(exit::RUNTIME_ERROR);
        }
    };
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    let mut skip = false;
    for arg in std::env::args_os().skip(1) {
        if std::mem::take(&mut skip) {
            continue;
        }
        if arg == "--resume-from" {
            skip = true;
            continue;
        }
        if arg.to_string_lossy().starts_with("--resume-from=") {
            continue;
        }
        args.push(arg);
    }
    args.push("--resume-from".into());
    args.push(file.as_os_str().to_owned());
    tracing::info!(binary = %binary.display(), sessions = count, "executing the new image");
    let error = std::process::Command::new(&binary).args(&args).exec();
    drop(sockets);
    tracing::error!(binary = %binary.display(), error = %error, "cannot execute the new image; stopping (the sessions are closed)");
    ExitCode::from(exit::RUNTIME_ERROR)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() -> Result<&'static str, std::io::Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

/// On each SIGHUP, the same reload `evpnd reload` asks for, through the
/// daemon's call channel (weakly held: it must not keep the daemon up).
async fn reload_on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    calls: mpsc::WeakSender<ApiCall>,
) {
    while hangups.recv().await.is_some() {
        let Some(calls) = calls.upgrade() else { return };
        tracing::info!("SIGHUP: reloading the configuration");
        let (reply, answer) = tokio::sync::oneshot::channel();
        let call = ApiCall {
            request: Request::Reload,
            reply,
        };
        if calls.send(call).await.is_err() {
            return;
        }
        drop(calls);
        // The daemon logs what it applied or why it refused.
        let _ = answer.await;
    }
}

async fn daemon(
    config: Config,
    reload: ReloadSource,
    inherited: Option<handover::Loaded>,
    upgrade_to: Result<PathBuf, String>,
) -> Result<Stopped, String> {
    // Register signal handlers before anything observable exists, so a
    // SIGTERM right after the socket appears is never the default action
    // (nor a SIGHUP, whose default action ends the process).
    let signals = tokio::spawn(shutdown_signal());
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("cannot listen for SIGHUP: {e}"))?;
    let control = &config.control;
    let server = ControlServer::bind_owned(
        &control.socket,
        control.mode,
        control.owner.as_ref(),
        control.group.as_ref(),
    )
    .map_err(|e| e.to_string())?
    .with_admin_group(control.admin_group.clone());
    tracing::info!(
        socket = %server.path().display(),
        summary = %config.summary(),
        "evpnd started"
    );
    let (calls_tx, calls_rx) = mpsc::channel::<ApiCall>(64);
    let hangup_task = tokio::spawn(reload_on_hangup(hangups, calls_tx.downgrade()));

    // The daemon core answers control-socket calls until the server stops
    // (on a signal) and drops `calls_tx`; then it shuts the sessions down.
    let mut core = tokio::spawn(crate::daemon::run(
        config, calls_rx, reload, inherited, upgrade_to,
    ));

    let signalled = async move {
        match signals.await {
            Ok(Ok(name)) => tracing::info!(signal = name, "shutting down"),
            Ok(Err(e)) => tracing::error!(error = %e, "cannot listen for signals; shutting down"),
            Err(e) => tracing::error!(error = %e, "signal task failed; shutting down"),
        }
    };
    // A core that ends on its own (e.g. the BGP port is taken) stops the
    // control socket as a signal would.
    let mut ended_early = None;
    let stop = async {
        tokio::select! {
            () = signalled => {}
            result = &mut core => ended_early = Some(result),
        }
    };
    server.serve(calls_tx, stop).await;
    hangup_task.abort();
    let result = match ended_early {
        Some(result) => result,
        None => core.await,
    };
    match result {
        Ok(Ok(Stopped::Shutdown)) => {
            tracing::info!("stopped");
            Ok(Stopped::Shutdown)
        }
        Ok(Ok(upgrade)) => Ok(upgrade),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("daemon task failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_show_with_filters() {
        let cli = Cli::try_parse_from([
            "evpnd", "--socket", "/tmp/s", "show", "routes", "--vni", "10", "--type", "2", "--json",
        ])
        .unwrap();
        assert_eq!(cli.socket, PathBuf::from("/tmp/s"));
        let Command::Show { what, json } = cli.command else {
            panic!("not show")
        };
        assert!(json);
        assert!(matches!(
            what,
            ShowCommand::Routes {
                vni: Some(10),
                route_type: Some(2),
                rd: None
            }
        ));
    }
}
