//! EVPN route types (RFC 7432 section 7; RFC 9136 section 3 for type 5).

pub const ETHERNET_AUTO_DISCOVERY: u8 = 1;
pub const MAC_IP_ADVERTISEMENT: u8 = 2;
pub const INCLUSIVE_MULTICAST: u8 = 3;
pub const ETHERNET_SEGMENT: u8 = 4;
pub const IP_PREFIX: u8 = 5;
