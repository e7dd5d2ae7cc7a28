//! The control socket's owner, group and mode, and `control.admin_group`
//! (issue 14), with real credentials: the test runs as root and runs the
//! `evpnd` CLI as another uid with chosen groups, so the kernel's own
//! SO_PEERCRED / SO_PEERGROUPS answers are what the daemon decides on.
//! Skipped (passing) when not root.

// The helpers are shared with the other daemon tests; this test uses a few.
#[allow(dead_code)]
mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

/// The client's uid and primary gid: no account needs to exist for them.
const CLIENT: u32 = 4242;
/// `control.group`: the socket file's group.
const SOCKET_GROUP: u32 = 4243;
/// `control.admin_group`.
const ADMIN_GROUP: u32 = 4244;

/// Tells the test binary, started again as the client, to act as the
/// client half of [`a_refused_change_leaves_the_connection_open_for_shows`].
const CLIENT_HALF: &str = "EVPND_TEST_CONTROL_CLIENT_SOCKET";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `command` run as uid/gid [`CLIENT`] with exactly `groups` as its
/// supplementary groups.
fn as_client(mut command: Command, groups: &[u32]) -> Output {
    let groups: Vec<libc::gid_t> = groups.to_vec();
    // CommandExt::groups is not stable yet, and std applies its own uid()
    // (which drops the supplementary groups) before pre_exec closures run;
    // so all three are set here, groups and gid while still root, uid last.
    // SAFETY: runs in the forked child before exec; it only makes three
    // async-signal-safe system calls on memory allocated before the fork.
    unsafe {
        command.pre_exec(move || {
            if libc::setgroups(groups.len(), groups.as_ptr()) != 0
                || libc::setgid(CLIENT) != 0
                || libc::setuid(CLIENT) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().expect("run as the client")
}

fn cli(d: &Daemon, args: &[&str], groups: &[u32]) -> Output {
    let mut c = evpnd();
    c.arg("--socket").arg(&d.socket).args(args);
    as_client(c, groups)
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A reflector whose socket is root's, group [`SOCKET_GROUP`], mode 0660,
/// and whose changes need [`ADMIN_GROUP`].
fn start(name: &str) -> Daemon {
    Daemon::start_with(name, |port, socket| {
        let config = rr_config(port, &[], socket);
        let control =
            format!("mode = \"0660\"\ngroup = {SOCKET_GROUP}\nadmin_group = {ADMIN_GROUP}\n");
        assert!(config.contains("mode = \"0600\"\n"));
        config.replacen("mode = \"0600\"\n", &control, 1)
    })
}

#[test]
fn shows_for_the_socket_group_and_changes_for_the_admin_group_only() {
    if !is_root() {
        eprintln!("skipped: needs root to run the client as another user");
        return;
    }
    let d = start("access");
    let meta = std::fs::metadata(&d.socket).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.permissions().mode() & 0o777),
        (0, SOCKET_GROUP, 0o660),
        "the socket's owner, group and mode"
    );

    // Not in the socket's group: the file system refuses the connection.
    let out = cli(&d, &["show", "neighbors"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{}",
        text(&out)
    );

    // In the socket's group: every show works, no change does.
    for show in [
        &["show", "neighbors"][..],
        &["show", "config"],
        &["show", "vnis"],
    ] {
        let out = cli(&d, show, &[SOCKET_GROUP]);
        assert!(out.status.success(), "{show:?}: {}", text(&out));
    }
    let out = cli(&d, &["reload"], &[SOCKET_GROUP]);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("evpnd reload needs ")
            && stderr.contains(&format!(
                "(uid {CLIENT} is not in it); run it as root or add the user to the group"
            )),
        "{}",
        text(&out)
    );
    let out = cli(&d, &["clear", "neighbors"], &[SOCKET_GROUP]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("evpnd clear neighbors needs "),
        "{}",
        text(&out)
    );
    let log = d.log();
    assert!(
        log.contains("control request refused") && log.contains(&CLIENT.to_string()),
        "the refusal is logged with the client's uid:\n{log}"
    );
    assert_eq!(
        status_generation(&d),
        1,
        "nothing was reloaded:\n{}",
        d.log()
    );

    // The same uid with the admin group among its supplementary groups.
    let out = cli(&d, &["reload"], &[SOCKET_GROUP, ADMIN_GROUP]);
    assert!(out.status.success(), "{}", text(&out));
    let out = cli(&d, &["clear", "neighbors"], &[SOCKET_GROUP, ADMIN_GROUP]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_refused_change_leaves_the_connection_open_for_shows() {
    if let Ok(socket) = std::env::var(CLIENT_HALF) {
        // The client half, started by the test below as uid CLIENT: one
        // connection, a reload then a show, each answer on its own line.
        let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
        let mut lines = BufReader::new(stream.try_clone().unwrap()).lines();
        for request in [r#"{"request":"reload"}"#, r#"{"request":"show_neighbors"}"#] {
            writeln!(stream, "{request}").unwrap();
            // On a line of its own: the harness's "test ... " precedes it.
            println!("\nanswer: {}", lines.next().unwrap().unwrap());
        }
        return;
    }
    if !is_root() {
        eprintln!("skipped: needs root to run the client as another user");
        return;
    }
    let d = start("access-conn");
    let mut me = Command::new(std::env::current_exe().unwrap());
    me.args([
        "--exact",
        "a_refused_change_leaves_the_connection_open_for_shows",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CLIENT_HALF, &d.socket);
    let out = as_client(me, &[SOCKET_GROUP]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let answers: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("answer: "))
        .collect();
    assert_eq!(answers.len(), 2, "{}", text(&out));
    assert!(
        answers[0].starts_with(r#"{"kind":"error","data":{"message":"evpnd reload needs "#),
        "{}",
        answers[0]
    );
    assert_eq!(answers[1], r#"{"kind":"neighbors","data":[]}"#);
}

fn status_generation(d: &Daemon) -> u64 {
    match d.request(evpnd::api::protocol::Request::ShowConfig) {
        evpnd::api::protocol::Response::Config(status) => status.generation,
        other => panic!("show config: {other:?}"),
    }
}
