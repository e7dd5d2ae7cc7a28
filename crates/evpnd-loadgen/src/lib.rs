//! evpnd-loadgen: the route-reflector benchmark's load, compiled (issue 15).
//!
//! It replaces evpn-blast.py's `run` (one injector and K counting sinks),
//! `selftest` and `encode` with the same command line, the same JSON fields
//! and the same workload, byte for byte: [`workload`] encodes it as the
//! Python does, [`count`] counts the reflected EVPN NLRI without an
//! allocation per route, [`injector`] and [`sink`] speak BGP, [`run`]
//! measures a run as evpn-blast.py does (settle, counter reset, per-phase
//! samples of /proc) and [`procstat`] reads /proc.
#![forbid(unsafe_code)]

pub mod cli;
pub mod count;
pub mod inject;
pub mod injector;
pub mod json;
pub mod net;
pub mod procstat;
pub mod run;
pub mod selftest;
pub mod sink;
pub mod wire;
pub mod workload;
