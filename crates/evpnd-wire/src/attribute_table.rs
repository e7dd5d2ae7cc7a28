//! What evpnd knows about each path attribute type, in one table (after
//! BIRD's `bgp_attr_table[]`): its name and defining RFC section, the flags
//! it must carry, what RFC 7606 does when it is malformed or repeated, when
//! it is mandatory, and how it crosses AS and cluster boundaries.
//!
//! A leaf: it depends on nothing in the crate, so that the attribute codec
//! (`attribute.rs`), the lenient UPDATE decoder (`update.rs`), the RFC 7606
//! classifier (`rfc7606.rs`) and the RIB's ingress, reflection and eBGP
//! rewriting can all read it without importing each other.

/// Attribute type codes (IANA "BGP Path Attributes"). Re-exported as
/// `attribute::type_code`.
pub mod type_code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MULTI_EXIT_DISC: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    pub const PMSI_TUNNEL: u8 = 22;
    pub const LARGE_COMMUNITIES: u8 = 32;
}

/// Bits of the Attribute Flags octet (RFC 4271 section 4.3). `AttrFlags` in
/// `attribute.rs` names the same bits.
pub mod flag_bits {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// How an UPDATE is handled when an attribute of this type is malformed or
/// repeated (RFC 7606 section 2),
/// weakest first. `rfc7606::ErrorAction` is the per-UPDATE verdict built
/// from these, with the NOTIFICATION a reset sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Handling {
    /// Drop the attribute, process the rest (RFC 7606 section 2).
    AttributeDiscard,
    /// Treat the UPDATE's NLRI as withdrawn (RFC 7606 section 2).
    TreatAsWithdraw,
    /// NOTIFICATION and close (RFC 4271 section 6.3; RFC 7606 section 2).
    SessionReset,
}

/// When a received UPDATE must carry the attribute (RFC 4271 section 5;
/// RFC 7606 section 3 d; RFC 4760 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mandatory {
    No,
    /// With any NLRI, in the NLRI field or in MP_REACH_NLRI.
    WithAnyNlri,
    /// With NLRI in the UPDATE's own NLRI field (IPv4 unicast) only: an
    /// MP_REACH_NLRI carries its own next hop (RFC 4760 section 3).
    WithNlriField,
}

/// What a route reflector does to the attribute (RFC 4456 section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReflectionRule {
    /// Passed on byte for byte.
    PassOn,
    /// ORIGINATOR_ID: set to the source peer's BGP Identifier when absent,
    /// else kept.
    SetIfAbsent,
    /// CLUSTER_LIST: the reflector's CLUSTER_ID prepended (created when
    /// absent).
    PrependClusterId,
}

/// One known attribute type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttrRow {
    pub code: u8,
    pub name: &'static str,
    /// The RFC section that defines the attribute.
    pub rfc: &'static str,
    /// The Optional bit (RFC 4271 section 4.3): false = well-known.
    pub optional: bool,
    /// The Transitive bit; well-known attributes are transitive (RFC 4271
    /// section 5).
    pub transitive: bool,
    /// A malformed value (RFC 7606 section 7). Flags that conflict with the
    /// type are treat-as-withdraw whatever this says, except where it says
    /// session reset (RFC 7606 section 3 c; `rfc7606.rs`).
    pub on_malformed: Handling,
    /// The section prescribing `on_malformed`.
    pub rfc7606: &'static str,
    /// No attribute may appear more than once (RFC 4271 section 5); a
    /// repetition is handled this way (RFC 7606 section 3 g: all but the
    /// first discarded, except MP_REACH/MP_UNREACH_NLRI: a reset, as the
    /// routes cannot be withdrawn reliably).
    pub on_repeat: Handling,
    pub mandatory: Mandatory,
    /// Kept when received from an external peer (RFC 4271 section 5.1.5:
    /// LOCAL_PREF from an external peer is ignored).
    pub from_ebgp: bool,
    /// Passed on to external peers (RFC 4271 sections 5.1.4, 5.1.5; RFC
    /// 4456 section 8). AS_PATH is passed on with our AS prepended (RFC 4271
    /// section 5.1.2).
    pub to_ebgp: bool,
    /// Must be in every UPDATE to internal peers, added with a default when
    /// absent (RFC 4271 section 5.1.5: LOCAL_PREF).
    pub to_ibgp_required: bool,
    pub reflection: ReflectionRule,
}

impl AttrRow {
    /// The Optional and Transitive bits the type carries.
    pub const fn flags(&self) -> u8 {
        (if self.optional {
            flag_bits::OPTIONAL
        } else {
            0
        }) | (if self.transitive {
            flag_bits::TRANSITIVE
        } else {
            0
        })
    }

    /// The bits a received attribute's flags are checked on: Optional and
    /// Transitive, and Partial, which must be 0 unless the attribute is
    /// optional transitive (RFC 4271 section 4.3).
    pub const fn flags_mask(&self) -> u8 {
        let ot = flag_bits::OPTIONAL | flag_bits::TRANSITIVE;
        if self.optional && self.transitive {
            ot
        } else {
            ot | flag_bits::PARTIAL
        }
    }
}

use Handling::{AttributeDiscard as DISCARD, SessionReset as RESET, TreatAsWithdraw as TAW};

/// A row with the common defaults: optional transitive, treat-as-withdraw,
/// repeats discarded, not mandatory, kept from and passed to eBGP, passed
/// on by reflection.
const fn row(code: u8, name: &'static str, rfc: &'static str, rfc7606: &'static str) -> AttrRow {
    AttrRow {
        code,
        name,
        rfc,
        optional: true,
        transitive: true,
        on_malformed: TAW,
        rfc7606,
        on_repeat: DISCARD,
        mandatory: Mandatory::No,
        from_ebgp: true,
        to_ebgp: true,
        to_ibgp_required: false,
        reflection: ReflectionRule::PassOn,
    }
}

const fn well_known(r: AttrRow) -> AttrRow {
    AttrRow {
        optional: false,
        transitive: true,
        ..r
    }
}

const fn non_transitive(r: AttrRow) -> AttrRow {
    AttrRow {
        optional: true,
        transitive: false,
        ..r
    }
}

use type_code::*;

const ROWS: [AttrRow; 17] = [
    AttrRow {
        mandatory: Mandatory::WithAnyNlri,
        ..well_known(row(ORIGIN, "ORIGIN", "RFC 4271 5.1.1", "RFC 7606 7.1"))
    },
    AttrRow {
        mandatory: Mandatory::WithAnyNlri,
        ..well_known(row(AS_PATH, "AS_PATH", "RFC 4271 5.1.2", "RFC 7606 7.2"))
    },
    AttrRow {
        mandatory: Mandatory::WithNlriField,
        ..well_known(row(NEXT_HOP, "NEXT_HOP", "RFC 4271 5.1.3", "RFC 7606 7.3"))
    },
    // RFC 4271 5.1.4: a MED received from a neighbouring AS MUST NOT be
    // propagated to other neighbouring ASes.
    AttrRow {
        to_ebgp: false,
        ..non_transitive(row(
            MULTI_EXIT_DISC,
            "MULTI_EXIT_DISC",
            "RFC 4271 5.1.4",
            "RFC 7606 7.4",
        ))
    },
    // RFC 4271 5.1.5: sent to internal peers only, ignored from external
    // ones. RFC 7606 7.5 would discard a malformed one from an external
    // peer; it is ignored from those anyway.
    AttrRow {
        from_ebgp: false,
        to_ebgp: false,
        to_ibgp_required: true,
        ..well_known(row(
            LOCAL_PREF,
            "LOCAL_PREF",
            "RFC 4271 5.1.5",
            "RFC 7606 7.5",
        ))
    },
    AttrRow {
        on_malformed: DISCARD,
        ..well_known(row(
            ATOMIC_AGGREGATE,
            "ATOMIC_AGGREGATE",
            "RFC 4271 5.1.6",
            "RFC 7606 7.6",
        ))
    },
    AttrRow {
        on_malformed: DISCARD,
        ..row(AGGREGATOR, "AGGREGATOR", "RFC 4271 5.1.7", "RFC 7606 7.7")
    },
    row(COMMUNITIES, "COMMUNITIES", "RFC 1997", "RFC 7606 7.8"),
    // RFC 4456 8: meaningful inside the AS only.
    AttrRow {
        to_ebgp: false,
        reflection: ReflectionRule::SetIfAbsent,
        ..non_transitive(row(
            ORIGINATOR_ID,
            "ORIGINATOR_ID",
            "RFC 4456 8",
            "RFC 7606 7.9",
        ))
    },
    AttrRow {
        to_ebgp: false,
        reflection: ReflectionRule::PrependClusterId,
        ..non_transitive(row(
            CLUSTER_LIST,
            "CLUSTER_LIST",
            "RFC 4456 8",
            "RFC 7606 7.10",
        ))
    },
    // RFC 7606 7.11/7.12 allow AFI/SAFI disable instead; not implemented,
    // so a session reset (the routes cannot be withdrawn reliably).
    AttrRow {
        on_malformed: RESET,
        on_repeat: RESET,
        ..non_transitive(row(
            MP_REACH_NLRI,
            "MP_REACH_NLRI",
            "RFC 4760 3",
            "RFC 7606 7.11",
        ))
    },
    AttrRow {
        on_malformed: RESET,
        on_repeat: RESET,
        ..non_transitive(row(
            MP_UNREACH_NLRI,
            "MP_UNREACH_NLRI",
            "RFC 4760 4",
            "RFC 7606 7.12",
        ))
    },
    row(
        EXTENDED_COMMUNITIES,
        "EXTENDED_COMMUNITIES",
        "RFC 4360 2",
        "RFC 7606 7.14",
    ),
    AttrRow {
        on_malformed: DISCARD,
        ..row(AS4_PATH, "AS4_PATH", "RFC 6793 3", "RFC 6793 6")
    },
    AttrRow {
        on_malformed: DISCARD,
        ..row(AS4_AGGREGATOR, "AS4_AGGREGATOR", "RFC 6793 3", "RFC 6793 6")
    },
    // Not covered by RFC 7606; it steers forwarding like a next hop, so
    // treat-as-withdraw as for NEXT_HOP (RFC 7606 7.3).
    row(
        PMSI_TUNNEL,
        "PMSI_TUNNEL",
        "RFC 6514 5",
        "RFC 7606 7.3 (by analogy)",
    ),
    row(
        LARGE_COMMUNITIES,
        "LARGE_COMMUNITIES",
        "RFC 8092 3",
        "RFC 8092 6",
    ),
];

/// Every attribute type evpnd decodes, by ascending type code.
pub static TABLE: [AttrRow; 17] = ROWS;

/// `INDEX[code]` = 1 + the row's position in [`TABLE`], 0 = unknown.
static INDEX: [u8; 256] = {
    let mut index = [0u8; 256];
    let mut i = 0;
    while i < ROWS.len() {
        index[ROWS[i].code as usize] = i as u8 + 1;
        i += 1;
    }
    index
};

/// The row for `code`, `None` for a type evpnd does not interpret.
pub fn lookup(code: u8) -> Option<&'static AttrRow> {
    match INDEX[usize::from(code)] {
        0 => None,
        i => Some(&TABLE[usize::from(i) - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_ascend_and_are_found() {
        assert!(TABLE.windows(2).all(|w| w[0].code < w[1].code));
        for r in &TABLE {
            assert_eq!(lookup(r.code), Some(r));
        }
        assert_eq!(lookup(0), None);
        assert_eq!(lookup(99), None);
    }

    /// RFC 7606 section 7, attribute by attribute (plus RFC 6793 section 6
    /// for AS4_PATH / AS4_AGGREGATOR and RFC 8092 section 6 for
    /// LARGE_COMMUNITIES), written out independently of the table.
    #[test]
    fn table_agrees_with_rfc7606_section_7() {
        let rfc = [
            (ORIGIN, "7.1", TAW),
            (AS_PATH, "7.2", TAW),
            (NEXT_HOP, "7.3", TAW),
            (MULTI_EXIT_DISC, "7.4", TAW),
            (LOCAL_PREF, "7.5", TAW),
            (ATOMIC_AGGREGATE, "7.6", DISCARD),
            (AGGREGATOR, "7.7", DISCARD),
            (COMMUNITIES, "7.8", TAW),
            (ORIGINATOR_ID, "7.9", TAW),
            (CLUSTER_LIST, "7.10", TAW),
            // "session reset or AFI/SAFI disable"; evpnd resets.
            (MP_REACH_NLRI, "7.11", RESET),
            (MP_UNREACH_NLRI, "7.12", RESET),
            (EXTENDED_COMMUNITIES, "7.14", TAW),
        ];
        for (code, section, action) in rfc {
            let r = lookup(code).expect("row");
            assert_eq!(r.on_malformed, action, "{}", r.name);
            assert_eq!(r.rfc7606, format!("RFC 7606 {section}"), "{}", r.name);
        }
        for code in [AS4_PATH, AS4_AGGREGATOR] {
            assert_eq!(lookup(code).unwrap().on_malformed, DISCARD);
            assert_eq!(lookup(code).unwrap().rfc7606, "RFC 6793 6");
        }
        assert_eq!(lookup(LARGE_COMMUNITIES).unwrap().on_malformed, TAW);
        // RFC 7606 3 g: repeats discarded, MP attributes reset.
        for r in &TABLE {
            let mp = r.code == MP_REACH_NLRI || r.code == MP_UNREACH_NLRI;
            assert_eq!(r.on_repeat, if mp { RESET } else { DISCARD }, "{}", r.name);
        }
    }

    #[test]
    fn flags_follow_rfc_4271_4_3() {
        let ot = |code| lookup(code).map(|r| (r.optional, r.transitive));
        // Well-known: ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF, ATOMIC_AGGREGATE.
        for code in [ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF, ATOMIC_AGGREGATE] {
            assert_eq!(ot(code), Some((false, true)));
            assert_eq!(lookup(code).unwrap().flags(), 0x40);
            assert_eq!(lookup(code).unwrap().flags_mask(), 0xe0);
        }
        for code in [MULTI_EXIT_DISC, ORIGINATOR_ID, CLUSTER_LIST] {
            assert_eq!(ot(code), Some((true, false)));
        }
        assert_eq!(lookup(COMMUNITIES).unwrap().flags(), 0xc0);
        assert_eq!(lookup(COMMUNITIES).unwrap().flags_mask(), 0xc0);
    }
}
