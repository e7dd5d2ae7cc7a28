//! The optional Prometheus endpoint (`[metrics] listen = "addr:port"`):
//! `GET /metrics` in the text exposition format. Each scrape asks the daemon
//! for a fresh snapshot; nothing is computed between scrapes.

use crate::vtep::VtepStats;
use evpnd_core::rib::engine::RibStats;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

/// One peer's line items.
#[derive(Debug, Clone)]
pub struct PeerMetrics {
    pub address: IpAddr,
    pub established: bool,
    pub messages_in: u64,
    pub messages_out: u64,
    pub updates_in: u64,
    pub updates_out: u64,
    pub prefixes_received: u64,
    /// Paths kept from the peer's previous session (RFC 4724 section 4.2).
    pub stale_routes: u64,
}

/// Everything one scrape reports.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub peers: Vec<PeerMetrics>,
    /// Per peer: sessions ended because its outbound queue filled (the
    /// peer did not read what it was sent; ADR 0007).
    pub queue_overflows: Vec<(IpAddr, u64)>,
    /// Per peer: times its session task panicked and was restarted.
    pub peer_panics: Vec<(IpAddr, u64)>,
    /// Per peer: times its paths went past its `max_prefixes` limit.
    pub prefix_limit_exceeded: Vec<(IpAddr, u64)>,
    pub rib: RibStats,
    pub vtep: Option<VtepStats>,
    /// The configuration generation running (1 at start, one more per
    /// reload that changed something).
    pub config_generation: u64,
    /// Per listen range: its dynamic neighbours and refusals.
    pub listen_ranges: Vec<RangeMetrics>,
}

/// One `[[listen_ranges]]` entry's figures.
#[derive(Debug, Clone)]
pub struct RangeMetrics {
    pub prefix: ipnetwork::IpNetwork,
    /// Dynamic neighbours of the range now.
    pub sessions: u64,
    pub max_sessions: u32,
    /// Connections refused because the range held `max_sessions`.
    pub refused: u64,
}

/// A scrape: the daemon answers with a snapshot.
pub type SnapshotRequest = oneshot::Sender<Snapshot>;

/// The exposition text for a snapshot.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        "evpnd_peer_established",
        "gauge",
        "1 when the BGP session is Established.",
    );
    family(
        "evpnd_peer_messages_received_total",
        "counter",
        "BGP messages received.",
    );
    family(
        "evpnd_peer_messages_sent_total",
        "counter",
        "BGP messages sent.",
    );
    family(
        "evpnd_peer_updates_received_total",
        "counter",
        "UPDATE messages received.",
    );
    family(
        "evpnd_peer_updates_sent_total",
        "counter",
        "UPDATE messages sent.",
    );
    family(
        "evpnd_peer_prefixes_received",
        "gauge",
        "Paths held from the peer.",
    );
    family(
        "evpnd_peer_stale_routes",
        "gauge",
        "Paths kept from the peer's previous session while it restarts (graceful restart, RFC 4724), not yet re-announced.",
    );
    family(
        "evpnd_peer_queue_overflows_total",
        "counter",
        "Sessions closed (Cease / Out of Resources) because the peer did not read what it was sent and its outbound queue filled.",
    );
    family(
        "evpnd_peer_prefix_limit_exceeded_total",
        "counter",
        "Times the peer sent more paths than its max_prefixes limit (each ended the session with Cease / Maximum Number of Prefixes Reached, unless the action is warn).",
    );
    family(
        "evpnd_listen_range_sessions",
        "gauge",
        "Dynamic neighbours accepted from the listen range (sessions up or coming up).",
    );
    family(
        "evpnd_listen_range_max_sessions",
        "gauge",
        "The listen range's max_sessions.",
    );
    family(
        "evpnd_listen_range_refused_total",
        "counter",
        "Connections from the listen range refused with Cease / Connection Rejected because it held max_sessions already.",
    );
    family(
        "evpnd_peer_task_panics_total",
        "counter",
        "Times the peer's session task panicked (a bug): that session was reset and restarted, the others untouched.",
    );
    family(
        "evpnd_routes",
        "gauge",
        "Loc-RIB routes per EVPN route type.",
    );
    family(
        "evpnd_type2_routes",
        "gauge",
        "Loc-RIB type-2 routes per VNI.",
    );
    family("evpnd_paths", "gauge", "Paths in the Loc-RIB.");
    family(
        "evpnd_attribute_sets",
        "gauge",
        "Distinct interned path-attribute sets.",
    );
    family(
        "evpnd_reconciler_operations_total",
        "counter",
        "Kernel operations sent.",
    );
    family(
        "evpnd_reconciler_failures_total",
        "counter",
        "Kernel operations refused (retried).",
    );
    family(
        "evpnd_kernel_entries",
        "gauge",
        "Entries evpnd wants installed, per kind.",
    );
    family("evpnd_local_macs", "gauge", "MACs learnt on access ports.");
    family(
        "evpnd_duplicate_macs",
        "gauge",
        "Duplicate MACs (RFC 7432 15.1) not advertised from here, per VNI.",
    );
    family(
        "evpnd_drift_repairs_total",
        "counter",
        "Kernel entries put back after someone else removed or changed them.",
    );
    family(
        "evpnd_snooped_bindings_dropped_total",
        "counter",
        "ARP/ND bindings the snoopers dropped on a full VTEP queue (named again by the host's next packet).",
    );
    family(
        "evpnd_vtep_thread_restarts_total",
        "counter",
        "Restarts of a VTEP netlink/topology thread after a panic (a bug), per thread; each is followed by a resync.",
    );
    family(
        "evpnd_config_generation",
        "gauge",
        "Configuration generation running: 1 at start, one more per reload that changed something.",
    );
    let _ = writeln!(out, "evpnd_config_generation {}", s.config_generation);
    for p in &s.peers {
        let peer = p.address;
        let _ = writeln!(
            out,
            "evpnd_peer_established{{peer=\"{peer}\"}} {}",
            u8::from(p.established)
        );
        let _ = writeln!(
            out,
            "evpnd_peer_messages_received_total{{peer=\"{peer}\"}} {}",
            p.messages_in
        );
        let _ = writeln!(
            out,
            "evpnd_peer_messages_sent_total{{peer=\"{peer}\"}} {}",
            p.messages_out
        );
        let _ = writeln!(
            out,
            "evpnd_peer_updates_received_total{{peer=\"{peer}\"}} {}",
            p.updates_in
        );
        let _ = writeln!(
            out,
            "evpnd_peer_updates_sent_total{{peer=\"{peer}\"}} {}",
            p.updates_out
        );
        let _ = writeln!(
            out,
            "evpnd_peer_prefixes_received{{peer=\"{peer}\"}} {}",
            p.prefixes_received
        );
        let _ = writeln!(
            out,
            "evpnd_peer_stale_routes{{peer=\"{peer}\"}} {}",
            p.stale_routes
        );
    }
    for (peer, n) in &s.queue_overflows {
        let _ = writeln!(
            out,
            "evpnd_peer_queue_overflows_total{{peer=\"{peer}\"}} {n}"
        );
    }
    for (peer, n) in &s.peer_panics {
        let _ = writeln!(out, "evpnd_peer_task_panics_total{{peer=\"{peer}\"}} {n}");
    }
    for (peer, n) in &s.prefix_limit_exceeded {
        let _ = writeln!(
            out,
            "evpnd_peer_prefix_limit_exceeded_total{{peer=\"{peer}\"}} {n}"
        );
    }
    for r in &s.listen_ranges {
        let range = r.prefix;
        let _ = writeln!(
            out,
            "evpnd_listen_range_sessions{{range=\"{range}\"}} {}\n\
             evpnd_listen_range_max_sessions{{range=\"{range}\"}} {}\n\
             evpnd_listen_range_refused_total{{range=\"{range}\"}} {}",
            r.sessions, r.max_sessions, r.refused
        );
    }
    for (route_type, n) in &s.rib.routes_by_type {
        let _ = writeln!(out, "evpnd_routes{{type=\"{route_type}\"}} {n}");
    }
    for (vni, n) in &s.rib.type2_by_vni {
        let _ = writeln!(out, "evpnd_type2_routes{{vni=\"{vni}\"}} {n}");
    }
    let _ = writeln!(out, "evpnd_paths {}", s.rib.paths);
    let _ = writeln!(out, "evpnd_attribute_sets {}", s.rib.attribute_sets);
    if let Some(v) = &s.vtep {
        let _ = writeln!(out, "evpnd_reconciler_operations_total {}", v.operations);
        let _ = writeln!(out, "evpnd_reconciler_failures_total {}", v.failures);
        let _ = writeln!(
            out,
            "evpnd_kernel_entries{{kind=\"remote_mac\"}} {}",
            v.remote_macs
        );
        let _ = writeln!(
            out,
            "evpnd_kernel_entries{{kind=\"flood\"}} {}",
            v.flood_entries
        );
        let _ = writeln!(
            out,
            "evpnd_kernel_entries{{kind=\"neighbor\"}} {}",
            v.suppression_neighbors
        );
        let _ = writeln!(out, "evpnd_local_macs {}", v.local_macs);
        for (vni, n) in &v.duplicate_macs {
            let _ = writeln!(out, "evpnd_duplicate_macs{{vni=\"{vni}\"}} {n}");
        }
        let _ = writeln!(out, "evpnd_drift_repairs_total {}", v.drift_repairs);
        let _ = writeln!(
            out,
            "evpnd_snooped_bindings_dropped_total {}",
            v.snooped_dropped
        );
        for (thread, n) in &v.thread_restarts {
            let _ = writeln!(
                out,
                "evpnd_vtep_thread_restarts_total{{thread=\"{thread}\"}} {n}"
            );
        }
    }
    out
}

/// How long a scraper may take to send its request line.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// The longest request line read; `GET /metrics HTTP/1.1` needs 22 octets.
const REQUEST_LINE_MAX: usize = 1024;

/// Reads up to the end of the HTTP request line (RFC 9112 section 3), however
/// the client splits it into segments, without its CR LF; at most
/// [`REQUEST_LINE_MAX`] octets, and whatever came when the peer closes early.
/// One `read` is not enough: a client may send "GET " and the rest later.
async fn read_request_line<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::with_capacity(64);
    let mut chunk = [0u8; 256];
    loop {
        if let Some(end) = line.iter().position(|b| *b == b'\r' || *b == b'\n') {
            line.truncate(end);
            return Ok(line);
        }
        if line.len() >= REQUEST_LINE_MAX {
            line.truncate(REQUEST_LINE_MAX);
            return Ok(line);
        }
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(line);
        }
        line.extend_from_slice(&chunk[..n]);
    }
}

/// Binds `listen` (an error names the address) and serves scrapes until the
/// daemon drops its end of `snapshots`.
pub async fn serve(
    listen: SocketAddr,
    snapshots: mpsc::Sender<SnapshotRequest>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(listen).await?;
    info!(%listen, "serving Prometheus metrics at /metrics");
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let snapshots = snapshots.clone();
            tokio::spawn(async move {
                let read =
                    tokio::time::timeout(REQUEST_DEADLINE, read_request_line(&mut stream)).await;
                let Ok(Ok(first_line)) = read else { return };
                let first_line = first_line.as_slice();
                let response = if first_line.starts_with(b"GET /metrics ")
                    || first_line == b"GET /metrics"
                {
                    let (tx, rx) = oneshot::channel();
                    if snapshots.send(tx).await.is_err() {
                        return;
                    }
                    let Ok(snapshot) = rx.await else { return };
                    let body = render(&snapshot);
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 21\r\nConnection: close\r\n\r\nonly /metrics is here".to_string()
                };
                if let Err(e) = stream.write_all(response.as_bytes()).await {
                    warn!(error = %e, "metrics scrape");
                }
            });
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_line_split_over_several_writes_is_read_whole() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            for piece in ["GET ", "/met", "rics HTTP/1.1\r\nHost: x\r\n\r\n"] {
                client.write_all(piece.as_bytes()).await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        let line = read_request_line(&mut server).await.unwrap();
        assert_eq!(line, b"GET /metrics HTTP/1.1");
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn an_endless_request_line_is_cut_at_the_limit() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        client.write_all(&[b'A'; 3000]).await.unwrap();
        let line = read_request_line(&mut server).await.unwrap();
        assert_eq!(line.len(), REQUEST_LINE_MAX);
    }

    #[tokio::test]
    async fn a_client_that_closes_early_gives_what_it_sent() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"GET /met").await.unwrap();
        drop(client);
        assert_eq!(read_request_line(&mut server).await.unwrap(), b"GET /met");
    }

    #[test]
    fn renders_the_exposition_format() {
        let mut rib = RibStats::default();
        rib.routes_by_type.insert(2, 6);
        rib.routes_by_type.insert(3, 3);
        rib.type2_by_vni.insert(10, 4);
        rib.paths = 9;
        let text = render(&Snapshot {
            peers: vec![PeerMetrics {
                address: "198.19.0.1".parse().unwrap(),
                established: true,
                messages_in: 12,
                messages_out: 7,
                updates_in: 3,
                updates_out: 2,
                prefixes_received: 5,
                stale_routes: 3,
            }],
            queue_overflows: vec![("198.19.0.1".parse().unwrap(), 1)],
            peer_panics: vec![("198.19.0.1".parse().unwrap(), 2)],
            prefix_limit_exceeded: vec![("198.19.0.1".parse().unwrap(), 4)],
            rib,
            vtep: None,
            config_generation: 2,
            listen_ranges: vec![RangeMetrics {
                prefix: "198.18.0.0/24".parse().unwrap(),
                sessions: 200,
                max_sessions: 200,
                refused: 1,
            }],
        });
        for line in [
            "# TYPE evpnd_peer_established gauge",
            "evpnd_peer_established{peer=\"198.19.0.1\"} 1",
            "evpnd_peer_messages_received_total{peer=\"198.19.0.1\"} 12",
            "evpnd_routes{type=\"2\"} 6",
            "# TYPE evpnd_peer_stale_routes gauge",
            "evpnd_peer_stale_routes{peer=\"198.19.0.1\"} 3",
            "evpnd_type2_routes{vni=\"10\"} 4",
            "evpnd_paths 9",
            "# TYPE evpnd_peer_queue_overflows_total counter",
            "evpnd_peer_queue_overflows_total{peer=\"198.19.0.1\"} 1",
            "# TYPE evpnd_peer_task_panics_total counter",
            "evpnd_peer_task_panics_total{peer=\"198.19.0.1\"} 2",
            "# TYPE evpnd_peer_prefix_limit_exceeded_total counter",
            "evpnd_peer_prefix_limit_exceeded_total{peer=\"198.19.0.1\"} 4",
            "evpnd_listen_range_sessions{range=\"198.18.0.0/24\"} 200",
            "evpnd_listen_range_max_sessions{range=\"198.18.0.0/24\"} 200",
            "# TYPE evpnd_listen_range_refused_total counter",
            "evpnd_listen_range_refused_total{range=\"198.18.0.0/24\"} 1",
            "# TYPE evpnd_config_generation gauge",
            "evpnd_config_generation 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("evpnd_reconciler_operations_total")),
            "no VTEP, no reconciler samples"
        );
    }

    #[test]
    fn renders_the_vtep_samples() {
        let vtep = VtepStats {
            operations: 40,
            failures: 2,
            drift_repairs: 3,
            duplicate_macs: [(10, 1), (20, 0)].into(),
            local_macs: 5,
            remote_macs: 7,
            flood_entries: 2,
            suppression_neighbors: 4,
            snooped_dropped: 6,
            thread_restarts: [("nl-events", 1), ("topology", 0)].into(),
        };
        let text = render(&Snapshot {
            vtep: Some(vtep),
            ..Snapshot::default()
        });
        for line in [
            "# TYPE evpnd_drift_repairs_total counter",
            "evpnd_reconciler_operations_total 40",
            "evpnd_reconciler_failures_total 2",
            "evpnd_drift_repairs_total 3",
            "evpnd_snooped_bindings_dropped_total 6",
            "# TYPE evpnd_vtep_thread_restarts_total counter",
            "evpnd_vtep_thread_restarts_total{thread=\"nl-events\"} 1",
            "evpnd_vtep_thread_restarts_total{thread=\"topology\"} 0",
            "# TYPE evpnd_duplicate_macs gauge",
            "evpnd_duplicate_macs{vni=\"10\"} 1",
            "evpnd_duplicate_macs{vni=\"20\"} 0",
            "evpnd_kernel_entries{kind=\"remote_mac\"} 7",
            "evpnd_local_macs 5",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
