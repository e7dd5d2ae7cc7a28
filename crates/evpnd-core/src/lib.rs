//! The pure core of evpnd: everything that decides, nothing that does I/O.
//!
//! - [`session`]: the BGP FSM (RFC 4271 section 8) as `handle(Event) ->
//!   Vec<Action>`, and connection collision resolution (section 6.8);
//! - [`rib`]: Adj-RIB-In, Loc-RIB, best path, reflection (RFC 4456) and the
//!   outbound encoder, driven by the pure [`rib::engine::Rib`];
//! - [`evpn`]: EVPN instances, origination, MAC mobility and import
//!   (RFC 7432, RFC 8365);
//! - [`dataplane`]: the kernel state a VTEP wants (remote MACs, flood
//!   entries, suppression neighbours) and the diff against what it has.
//! - [`vtep`]: the VTEP's decisions (origination, import, drift, retries).
//!
//! No tokio, no netlink, no libc, no clock reads: time and kernel state come
//! in as inputs, decisions go out as values. `scripts/check-layering.sh`
//! proves the dependency half of that with `cargo tree`; the compiler proves
//! the rest (docs/adr/0004-pure-core.md).

#![forbid(unsafe_code)]

pub mod dataplane;
pub mod evpn;
pub mod rib;
pub mod session;
pub mod vtep;

#[cfg(test)]
mod test_support;
