//! Address families (RFC 4760 section 3; IANA "Address Family Numbers" and
//! "SAFI Values").

use serde::Serialize;
use std::fmt;

/// Address Family Identifier (2 octets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Afi(pub u16);

impl Afi {
    pub const IPV4: Afi = Afi(1);
    pub const IPV6: Afi = Afi(2);
    /// RFC 7432 section 20: L2VPN.
    pub const L2VPN: Afi = Afi(25);
}

/// Subsequent Address Family Identifier (1 octet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Safi(pub u8);

impl Safi {
    pub const UNICAST: Safi = Safi(1);
    /// RFC 7432 section 20: EVPN.
    pub const EVPN: Safi = Safi(70);
    /// RFC 4684 section 4: Route Target constrains (RT membership).
    pub const RT_CONSTRAINT: Safi = Safi(132);
}

/// An (AFI, SAFI) pair, as negotiated per session and carried in MP_REACH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Family {
    pub afi: Afi,
    pub safi: Safi,
}

impl Family {
    pub const IPV4_UNICAST: Family = Family::new(Afi::IPV4, Safi::UNICAST);
    pub const IPV6_UNICAST: Family = Family::new(Afi::IPV6, Safi::UNICAST);
    pub const L2VPN_EVPN: Family = Family::new(Afi::L2VPN, Safi::EVPN);
    /// RFC 4684 section 4: RT membership NLRI travel as AFI 1 / SAFI 132
    /// whatever the family of the VPN routes they constrain.
    pub const IPV4_RTC: Family = Family::new(Afi::IPV4, Safi::RT_CONSTRAINT);

    pub const fn new(afi: Afi, safi: Safi) -> Self {
        Self { afi, safi }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Family::IPV4_UNICAST => f.write_str("ipv4-unicast"),
            Family::IPV6_UNICAST => f.write_str("ipv6-unicast"),
            Family::L2VPN_EVPN => f.write_str("l2vpn-evpn"),
            // GoBGP's afi-safi-name; FRR 8.4 has none (it lacks RFC 4684).
            Family::IPV4_RTC => f.write_str("rtc"),
            Family { afi, safi } => write!(f, "afi{}-safi{}", afi.0, safi.0),
        }
    }
}
