//! Who may send which control request (`control.admin_group`).
//!
//! Opening the socket at all is the file system's decision (the socket
//! file's owner, group and mode). Past that, reads (`show`) are allowed to
//! every client, and requests that change state ([`Request::changes_state`])
//! to root, to the daemon's own user and to the members of the admin group,
//! when one is configured. Without one, every client may do everything, as
//! before the key existed: the socket's mode is then the only gate.
//!
//! The decision is the pure function [`authorize`]; the server reads the
//! peer's credentials from the kernel when it accepts the connection.

use super::protocol::Request;
use crate::config::SystemId;

/// The process at the other end of a control connection, as the kernel
/// recorded it when that process connected (`SO_PEERCRED`,
/// `SO_PEERGROUPS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCredentials {
    pub uid: u32,
    /// Primary group.
    pub gid: u32,
    /// Supplementary groups; empty when the kernel could not say (before
    /// Linux 4.13), which leaves the primary group to decide.
    pub groups: Vec<u32>,
    /// For the log; `None` when the peer is in a pid namespace we cannot
    /// see into.
    pub pid: Option<i32>,
}

/// What [`authorize`] needs to know about the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    /// The daemon's effective uid: whoever runs as the daemon's user can
    /// signal or replace it anyway, so it is refused nothing.
    pub daemon_euid: u32,
    /// `control.admin_group`; `None` lets every client change state.
    pub admin_group: Option<SystemId>,
}

impl AccessPolicy {
    /// No admin group: every request from every client.
    pub fn open(daemon_euid: u32) -> Self {
        AccessPolicy {
            daemon_euid,
            admin_group: None,
        }
    }
}

/// Allow `request` from `peer` under `policy`, or say why not in words an
/// operator can act on. `peer` is `None` when the kernel did not give the
/// credentials: then only reads are allowed (if an admin group is set).
pub fn authorize(
    request: &Request,
    peer: Option<&PeerCredentials>,
    policy: &AccessPolicy,
) -> Result<(), String> {
    if !request.changes_state() {
        return Ok(());
    }
    let Some(group) = &policy.admin_group else {
        return Ok(());
    };
    let command = request.command();
    let needs = group.describe("group");
    let Some(peer) = peer else {
        return Err(format!(
            "{command} needs {needs}, and the daemon could not read who is asking"
        ));
    };
    if peer.uid == 0
        || peer.uid == policy.daemon_euid
        || peer.gid == group.id
        || peer.groups.contains(&group.id)
    {
        return Ok(());
    }
    Err(format!(
        "{command} needs {needs} (uid {} is not in it); run it as root or add the user to the group",
        peer.uid
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAEMON: u32 = 998;

    fn admins() -> AccessPolicy {
        AccessPolicy {
            daemon_euid: DAEMON,
            admin_group: Some(SystemId {
                id: 1001,
                name: Some("evpnd-admin".into()),
            }),
        }
    }

    fn user(uid: u32, gid: u32, groups: &[u32]) -> PeerCredentials {
        PeerCredentials {
            uid,
            gid,
            groups: groups.to_vec(),
            pid: Some(4242),
        }
    }

    fn changes() -> [Request; 4] {
        [
            Request::Reload,
            Request::Upgrade,
            Request::ClearNeighbors { address: None },
            Request::ClearNeighbors {
                address: Some("198.19.0.2".parse().unwrap()),
            },
        ]
    }

    fn shows() -> [Request; 5] {
        [
            Request::ShowNeighbors,
            Request::ShowVnis,
            Request::ShowConfig,
            Request::ShowFdb { vni: None },
            Request::ShowRoutes {
                vni: None,
                route_type: None,
                rd: None,
            },
        ]
    }

    #[test]
    fn shows_are_allowed_to_anyone_who_connects() {
        let stranger = user(1000, 1000, &[100]);
        for r in shows() {
            assert!(!r.changes_state(), "{r:?}");
            assert_eq!(authorize(&r, Some(&stranger), &admins()), Ok(()));
            assert_eq!(authorize(&r, None, &admins()), Ok(()));
        }
    }

    #[test]
    fn a_change_is_refused_outside_the_admin_group_naming_request_uid_and_group() {
        let stranger = user(1000, 1000, &[100, 27]);
        for r in changes() {
            assert!(r.changes_state(), "{r:?}");
            let e = authorize(&r, Some(&stranger), &admins()).unwrap_err();
            assert!(e.starts_with(r.command()), "{e}");
        }
        assert_eq!(
            authorize(&Request::Reload, Some(&stranger), &admins()),
            Err(
                "evpnd reload needs group 'evpnd-admin' (uid 1000 is not in it); \
                 run it as root or add the user to the group"
                    .into()
            )
        );
        // A group given by number is named by number.
        let mut by_number = admins();
        by_number.admin_group = Some(SystemId {
            id: 1001,
            name: None,
        });
        let e = authorize(&Request::Upgrade, Some(&stranger), &by_number).unwrap_err();
        assert!(
            e.starts_with("evpnd upgrade needs gid 1001 (uid 1000"),
            "{e}"
        );
    }

    #[test]
    fn root_the_daemon_user_and_admin_group_members_may_change_state() {
        let allowed = [
            user(0, 0, &[]),
            user(DAEMON, DAEMON, &[]),
            // primary group
            user(1000, 1001, &[]),
            // supplementary group
            user(1000, 1000, &[100, 1001]),
        ];
        for peer in &allowed {
            for r in changes() {
                assert_eq!(authorize(&r, Some(peer), &admins()), Ok(()), "{peer:?}");
            }
        }
    }

    #[test]
    fn without_an_admin_group_everyone_may_do_everything() {
        let policy = AccessPolicy::open(DAEMON);
        for r in changes().into_iter().chain(shows()) {
            assert_eq!(authorize(&r, Some(&user(1000, 1000, &[])), &policy), Ok(()));
            assert_eq!(authorize(&r, None, &policy), Ok(()));
        }
    }

    #[test]
    fn unknown_credentials_may_read_but_not_change() {
        let e = authorize(&Request::Reload, None, &admins()).unwrap_err();
        assert!(e.contains("could not read who is asking"), "{e}");
    }
}
