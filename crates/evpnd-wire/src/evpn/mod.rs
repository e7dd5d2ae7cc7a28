//! EVPN NLRI (RFC 7432 section 7), carried in MP_REACH_NLRI /
//! MP_UNREACH_NLRI for AFI 25 / SAFI 70.
//!
//! Types 2 (MAC/IP) and 3 (inclusive multicast) are typed; every other route
//! type is kept as bytes so a route reflector passes it on unchanged. Types
//! 1, 4 and 5 have read-only views of those bytes ([`EvpnRoute::ethernet_ad`],
//! [`EvpnRoute::ethernet_segment`], [`EvpnRoute::ip_prefix`]), and every
//! route reads field by field through [`EvpnRoute::view`] and
//! [`EvpnRoute::fields`]. For the
//! reflector's hot path, [`split_evpn_nlri`] and [`evpn_route_key`] work on
//! the wire bytes without decoding or allocating.

pub mod esi;
pub mod ethernet_ad;
pub mod ethernet_segment;
pub mod inclusive_multicast;
pub mod ip_field;
pub mod ip_prefix;
pub mod key;
pub mod mac_ip;
pub mod route;
pub mod route_type;
pub mod view;

pub use esi::Esi;
pub use ethernet_ad::Type1Route;
pub use ethernet_segment::Type4Route;
pub use inclusive_multicast::Type3Route;
pub use ip_prefix::Type5Route;
pub use key::{EvpnRouteKey, INLINE_KEY_CAPACITY, evpn_route_key};
pub use mac_ip::Type2Route;
pub use route::{EvpnNlriSplit, EvpnRoute, split_evpn_nlri, split_evpn_nlri_at};
pub use view::{EvpnRouteFields, EvpnRouteView};
