//! BGP sessions, the pure half: the per-peer FSM (RFC 4271 section 8), the
//! checks of a received OPEN (section 6.2) and connection collision
//! resolution (section 6.8). The tokio TCP shell that
//! drives them is `evpnd::session::peer`.

pub mod collision;
pub mod config;
pub mod fsm;
pub mod graceful_restart;
pub mod open_check;
pub mod rt_constraint;

pub use collision::{CollisionDecision, Inbound, Initiator, Outbound};
pub use config::FsmConfig;
pub use fsm::{Action, Backoff, DownReason, Event, Fsm, State, Timer};
pub use open_check::{NegotiatedSession, check_open};
