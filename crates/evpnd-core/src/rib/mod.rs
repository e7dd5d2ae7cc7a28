//! Routing information: Adj-RIB-In (as paths per source peer), Loc-RIB with
//! best-path selection, and the reflection policy that drives Adj-RIB-Out.

pub mod adj_out;
pub mod attrs;
pub mod best;
pub mod encode;
pub mod engine;
pub mod ingress;
pub mod loc_rib;
pub mod peer;
pub mod prefix_limit;
pub mod reflect;
pub mod rt_filter;
pub mod workload;
