//! BGP sessions, the pure half: the per-peer FSM (RFC 4271 section 8) and
//! connection collision resolution (section 6.8). The tokio TCP shell that
//! drives them is `evpnd::session::peer`.

pub mod collision;
pub mod fsm;

pub use collision::{CollisionDecision, Initiator};
pub use fsm::{
    Action, Backoff, DownReason, Event, Fsm, FsmConfig, NegotiatedSession, State, Timer,
};
