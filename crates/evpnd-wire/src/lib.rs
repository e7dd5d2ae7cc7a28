//! The BGP wire codec: every message, attribute and NLRI evpnd speaks.
//!
//! Pure and synchronous: bytes in, typed values out, and back. See
//! docs/architecture.md ("wire codec"): one file per wire object, each with a
//! `decode` and an `encode`, its RFC diagram and section, and a round-trip test.
//!
//! This crate depends on no other evpnd crate and on nothing that does I/O
//! (docs/adr/0004-pure-core.md); `scripts/check-layering.sh` keeps it so.

#![forbid(unsafe_code)]

pub mod as_path;
pub mod attribute;
pub mod attribute_table;
pub mod capability;
pub mod context;
pub mod error;
pub mod evpn;
pub mod extcomm;
pub mod family;
pub mod header;
pub mod mac;
pub mod message;
pub mod notification;
pub mod open;
pub mod pmsi;
pub mod prefix;
pub mod rd;
pub mod reader;
pub mod rfc7606;
pub mod route_refresh;
pub mod rtc;
pub mod update;
pub mod update_packer;

pub use error::{DecodeError, DecodeErrorKind, DecodeResult};
pub use family::{Afi, Family, Safi};
pub use reader::Reader;

/// No import cycles between the codec's top-level files (issue 12): the
/// `super::x` / `crate::x` paths of each file outside its tests form an
/// acyclic graph. Read at compile time, so the test does no I/O.
#[cfg(test)]
mod no_import_cycles {
    const FILES: &[(&str, &str)] = &[
        ("as_path", include_str!("as_path.rs")),
        ("attribute", include_str!("attribute.rs")),
        ("attribute_table", include_str!("attribute_table.rs")),
        ("capability", include_str!("capability.rs")),
        ("context", include_str!("context.rs")),
        ("error", include_str!("error.rs")),
        ("evpn", include_str!("evpn/mod.rs")),
        ("extcomm", include_str!("extcomm.rs")),
        ("family", include_str!("family.rs")),
        ("header", include_str!("header.rs")),
        ("mac", include_str!("mac.rs")),
        ("message", include_str!("message.rs")),
        ("notification", include_str!("notification.rs")),
        ("open", include_str!("open.rs")),
        ("pmsi", include_str!("pmsi.rs")),
        ("prefix", include_str!("prefix.rs")),
        ("rd", include_str!("rd.rs")),
        ("reader", include_str!("reader.rs")),
        ("rfc7606", include_str!("rfc7606.rs")),
        ("route_refresh", include_str!("route_refresh.rs")),
        ("rtc", include_str!("rtc.rs")),
        ("update", include_str!("update.rs")),
        ("update_packer", include_str!("update_packer.rs")),
    ];

    /// The modules `source` names outside its `#[cfg(test)]` part.
    fn imports(name: &str, source: &str) -> Vec<usize> {
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        // evpn/mod.rs is one level down: its `super::` is the crate root,
        // as for the top-level files; its own children are not nodes.
        let mut out: Vec<usize> = Vec::new();
        for prefix in ["super::", "crate::"] {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if let Some(i) = FILES.iter().position(|(n, _)| *n == module)
                    && module != name
                    && !out.contains(&i)
                {
                    out.push(i);
                }
            }
        }
        out
    }

    #[test]
    fn the_module_graph_is_acyclic() {
        let edges: Vec<Vec<usize>> = FILES.iter().map(|(n, s)| imports(n, s)).collect();
        // Depth-first search; 0 unvisited, 1 on the stack, 2 done.
        fn visit(i: usize, edges: &[Vec<usize>], state: &mut [u8], stack: &mut Vec<usize>) {
            state[i] = 1;
            stack.push(i);
            for &j in &edges[i] {
                if state[j] == 1 {
                    let from = stack.iter().position(|&k| k == j).unwrap_or(0);
                    let cycle: Vec<&str> = stack[from..].iter().map(|&k| FILES[k].0).collect();
                    panic!("import cycle: {} -> {}", cycle.join(" -> "), FILES[j].0);
                }
                if state[j] == 0 {
                    visit(j, edges, state, stack);
                }
            }
            stack.pop();
            state[i] = 2;
        }
        let mut state = vec![0u8; FILES.len()];
        for i in 0..FILES.len() {
            if state[i] == 0 {
                visit(i, &edges, &mut state, &mut Vec::new());
            }
        }
        // The leaves stay leaves.
        for leaf in ["attribute_table", "context"] {
            let i = FILES.iter().position(|(n, _)| *n == leaf).unwrap();
            let deps: Vec<&str> = edges[i].iter().map(|&k| FILES[k].0).collect();
            assert!(
                deps.iter().all(|d| ["family", "header"].contains(d)),
                "{leaf} imports {deps:?}"
            );
        }
    }
}
