//! Revised UPDATE error handling (RFC 7606): what each malformation found by
//! the lenient UPDATE decoder means for the session.
//!
//! Structural decoding (`Update::decode_lenient`) reports every problem it
//! meets as an [`UpdateProblem`]; [`classify`] turns the list into one
//! [`ErrorAction`], the strongest that any problem calls for (RFC 7606
//! section 3 h). The session acts on that plain value.

use super::attribute_table::{self, Handling};
use super::error::DecodeError;
use super::notification::{ErrorCode, Notification, UpdateSubcode};
use bytes::Bytes;
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// One thing wrong with a received UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UpdateProblem {
    /// Withdrawn Routes Length or Total Path Attribute Length does not fit
    /// the message (RFC 7606 section 3 b: unchanged, session reset).
    #[error("UPDATE length fields: {0}")]
    LengthFields(DecodeError),
    /// The Withdrawn Routes or NLRI field is not a valid list of prefixes
    /// (RFC 7606 sections 3 i and 5.3).
    #[error("invalid network field: {0}")]
    InvalidNetworkField(DecodeError),
    /// An attribute header or length overruns the path attributes (RFC 7606
    /// section 4). `mp_parsed`: an MP_REACH/MP_UNREACH was decoded before.
    #[error("path attributes overrun: {error}")]
    AttributeListOverrun { error: DecodeError, mp_parsed: bool },
    /// Optional/Transitive/Partial bits conflict with the type (RFC 4271
    /// section 6.3, RFC 7606 section 3 c).
    #[error("attribute {type_code}: flags conflict with the type")]
    FlagsConflict { type_code: u8, raw: Bytes },
    /// A recognized attribute whose value is malformed (RFC 7606 section 7).
    #[error("attribute {type_code} malformed: {error}")]
    Malformed {
        type_code: u8,
        raw: Bytes,
        error: DecodeError,
    },
    /// A second occurrence of an attribute (RFC 7606 section 3 g).
    #[error("attribute {type_code} repeated")]
    Duplicate { type_code: u8 },
    /// An unrecognized attribute without the Optional bit (RFC 4271 6.3).
    #[error("unrecognized well-known attribute {type_code}")]
    UnrecognizedWellKnown { type_code: u8, raw: Bytes },
    /// AS4_PATH or AS4_AGGREGATOR from a speaker that announced the 4-octet
    /// AS capability: never carried between NEW speakers, discarded (RFC
    /// 6793 section 4.1). Not a malformation; left out of the UPDATE.
    #[error("attribute {type_code} from a 4-octet-AS speaker: discarded")]
    As4FromNewSpeaker { type_code: u8 },
    /// A well-known mandatory attribute is missing while NLRI are present
    /// (RFC 7606 section 3 d; RFC 4271 section 6.3).
    #[error("missing well-known attribute {type_code}")]
    MissingWellKnown { type_code: u8 },
}

/// What the session does with an UPDATE, weakest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ErrorAction {
    /// Nothing wrong: process the UPDATE.
    Accept,
    /// Drop the offending attributes (already left out of the decoded
    /// UPDATE) and process the rest (RFC 7606 section 2).
    AttributeDiscard,
    /// Treat every NLRI of the UPDATE (NLRI field and MP_REACH_NLRI) as
    /// withdrawn; MP_UNREACH_NLRI and Withdrawn Routes still apply (RFC 7606
    /// section 2).
    TreatAsWithdraw,
    /// Send this NOTIFICATION and close the session. (AFI/SAFI disable,
    /// which RFC 7606 5.3/7.11 allow instead, is not implemented.)
    SessionReset(Notification),
}

impl ErrorAction {
    fn strength(&self) -> u8 {
        match self {
            Self::Accept => 0,
            Self::AttributeDiscard => 1,
            Self::TreatAsWithdraw => 2,
            Self::SessionReset(_) => 3,
        }
    }
}

impl fmt::Display for ErrorAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accept => f.write_str("accept"),
            Self::AttributeDiscard => f.write_str("attribute-discard"),
            Self::TreatAsWithdraw => f.write_str("treat-as-withdraw"),
            Self::SessionReset(n) => write!(f, "session-reset ({n})"),
        }
    }
}

fn reset(subcode: UpdateSubcode, data: Bytes) -> ErrorAction {
    ErrorAction::SessionReset(Notification::new(ErrorCode::Update(subcode), data))
}

/// How `code` is handled when malformed or with conflicting flags (RFC 7606
/// sections 3 c and 7, per attribute in `attribute_table.rs`), and when
/// repeated (section 3 g). Only recognized attributes are ever malformed;
/// an unknown code gets the section 2 default, treat-as-withdraw, and
/// attribute discard when repeated.
fn on_malformed(code: u8) -> Handling {
    attribute_table::lookup(code).map_or(Handling::TreatAsWithdraw, |r| r.on_malformed)
}

fn on_repeat(code: u8) -> Handling {
    attribute_table::lookup(code).map_or(Handling::AttributeDiscard, |r| r.on_repeat)
}

impl UpdateProblem {
    /// The action RFC 7606 prescribes for this problem alone.
    pub fn action(&self) -> ErrorAction {
        use UpdateSubcode::*;
        match self {
            Self::LengthFields(_) => reset(MalformedAttributeList, Bytes::new()),
            Self::InvalidNetworkField(_) => reset(InvalidNetworkField, Bytes::new()),
            // Section 4 asks for treat-as-withdraw, which cannot withdraw
            // MP_REACH_NLRI routes we never found: section 3 j, where the
            // NLRI cannot be parsed the session reset of RFC 4271 / 4760
            // applies.
            Self::AttributeListOverrun {
                mp_parsed: true, ..
            } => ErrorAction::TreatAsWithdraw,
            Self::AttributeListOverrun {
                mp_parsed: false, ..
            } => reset(MalformedAttributeList, Bytes::new()),
            // RFC 7606 3 c: Optional/Transitive bits in conflict with the
            // type make the attribute malformed and the UPDATE
            // treat-as-withdraw, "unless the specification for the
            // attribute mandates different handling for incorrect Attribute
            // Flags". Only MP_REACH/MP_UNREACH have one (7.11/7.12 with
            // 3 j: their routes cannot be withdrawn reliably): a reset. The
            // discard of a malformed ATOMIC_AGGREGATE, AGGREGATOR (7.6,
            // 7.7), AS4_PATH or AS4_AGGREGATOR (RFC 6793 6) is about their
            // values, not their flags.
            Self::FlagsConflict { type_code, raw } => match on_malformed(*type_code) {
                Handling::SessionReset => reset(AttributeFlagsError, raw.clone()),
                Handling::AttributeDiscard | Handling::TreatAsWithdraw => {
                    ErrorAction::TreatAsWithdraw
                }
            },
            // ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF (3 e, 7.1-7.5),
            // COMMUNITIES (7.8), ORIGINATOR_ID (7.9), CLUSTER_LIST (7.10),
            // EXTENDED_COMMUNITIES (7.14), LARGE_COMMUNITIES (RFC 8092 6),
            // PMSI_TUNNEL: treat-as-withdraw; ATOMIC_AGGREGATE, AGGREGATOR
            // (3 f, 7.6, 7.7), AS4_PATH, AS4_AGGREGATOR (RFC 6793 6):
            // discard; MP attributes (7.11, 7.12): reset.
            Self::Malformed { type_code, raw, .. } => match on_malformed(*type_code) {
                Handling::SessionReset => reset(OptionalAttributeError, raw.clone()),
                Handling::AttributeDiscard => ErrorAction::AttributeDiscard,
                Handling::TreatAsWithdraw => ErrorAction::TreatAsWithdraw,
            },
            // RFC 7606 3 g.
            Self::Duplicate { type_code } => match on_repeat(*type_code) {
                Handling::SessionReset => reset(MalformedAttributeList, Bytes::new()),
                Handling::AttributeDiscard => ErrorAction::AttributeDiscard,
                Handling::TreatAsWithdraw => ErrorAction::TreatAsWithdraw,
            },
            Self::UnrecognizedWellKnown { raw, .. } => {
                reset(UnrecognizedWellKnownAttribute, raw.clone())
            }
            Self::MissingWellKnown { .. } => ErrorAction::TreatAsWithdraw,
            // RFC 6793 section 4.1: "MUST discard the path attribute and
            // continue processing the UPDATE message".
            Self::As4FromNewSpeaker { .. } => ErrorAction::AttributeDiscard,
        }
    }
}

/// The strongest action any of `problems` calls for (RFC 7606 section 3 h);
/// `Accept` for none. Among several resets the first one found is sent.
pub fn classify(problems: &[UpdateProblem]) -> ErrorAction {
    problems
        .iter()
        .map(UpdateProblem::action)
        .fold(ErrorAction::Accept, |strongest, action| {
            if action.strength() > strongest.strength() {
                action
            } else {
                strongest
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::tests::hex;
    use crate::message::DecodeOptions;
    use crate::update::{LenientUpdate, Update};

    /// An UPDATE body with no withdrawn routes, `attrs`, and `nlri`.
    fn body(attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0];
        b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        b.extend_from_slice(attrs);
        b.extend_from_slice(nlri);
        b
    }

    fn lenient(attrs: &str, nlri: &[u8]) -> Result<LenientUpdate, UpdateProblem> {
        let opts = DecodeOptions {
            four_octet_as: true,
            ..DecodeOptions::default()
        };
        Update::decode_lenient(&body(&hex(attrs), nlri), &opts)
    }

    fn action(attrs: &str, nlri: &[u8]) -> ErrorAction {
        match lenient(attrs, nlri) {
            Ok(l) => classify(&l.problems),
            Err(fatal) => fatal.action(),
        }
    }

    const ORIGIN: &str = "40010100";
    const AS_PATH: &str = "40020602010000fde8";
    const NEXT_HOP: &str = "400304c6130001";
    /// An EVPN MP_REACH with one type-3 route (from the vectors).
    const MP_REACH: &str = "900e001c00194604c61300030003110001c613000300020000000020c6130003";

    fn reset_subcode(a: &ErrorAction) -> Option<UpdateSubcode> {
        match a {
            ErrorAction::SessionReset(n) => match n.code {
                ErrorCode::Update(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn well_formed_update_is_accepted() {
        let attrs = format!("{ORIGIN}{AS_PATH}{NEXT_HOP}");
        assert_eq!(action(&attrs, &[24, 198, 18, 1]), ErrorAction::Accept);
        let attrs = format!("{MP_REACH}{ORIGIN}{AS_PATH}");
        assert_eq!(action(&attrs, &[]), ErrorAction::Accept);
    }

    #[test]
    fn length_fields_and_nlri_errors_reset() {
        let opts = DecodeOptions::default();
        // Total Path Attribute Length beyond the message (section 3 b).
        let err = Update::decode_lenient(&[0, 0, 0, 9, 0x40], &opts).unwrap_err();
        assert_eq!(
            reset_subcode(&err.action()),
            Some(UpdateSubcode::MalformedAttributeList)
        );
        // Withdrawn Routes Length beyond the message.
        assert!(Update::decode_lenient(&[0, 5, 0, 0], &opts).is_err());
        // A /33 in the NLRI field (sections 3 i and 5.3).
        let attrs = format!("{ORIGIN}{AS_PATH}{NEXT_HOP}");
        assert_eq!(
            reset_subcode(&action(&attrs, &[33, 1, 2, 3, 4, 5])),
            Some(UpdateSubcode::InvalidNetworkField)
        );
        // ... and in Withdrawn Routes.
        let err = Update::decode_lenient(&[0, 2, 9, 1, 0, 0], &opts).unwrap_err();
        assert_eq!(
            reset_subcode(&err.action()),
            Some(UpdateSubcode::InvalidNetworkField)
        );
    }

    #[test]
    fn well_known_attribute_errors_treat_as_withdraw() {
        let nlri = [24, 198, 18, 1];
        for (what, attrs) in [
            (
                "ORIGIN value 3 (7.1)",
                format!("40010103{AS_PATH}{NEXT_HOP}"),
            ),
            (
                "AS_PATH zero segment (7.2)",
                format!("{ORIGIN}40020202 00{NEXT_HOP}"),
            ),
            (
                "NEXT_HOP length 3 (7.3)",
                format!("{ORIGIN}{AS_PATH}400303c61300"),
            ),
            (
                "MED length 2 (7.4)",
                format!("{ORIGIN}{AS_PATH}{NEXT_HOP}80040200 00"),
            ),
            (
                "LOCAL_PREF length 2 (7.5)",
                format!("{ORIGIN}{AS_PATH}{NEXT_HOP}40050200 64"),
            ),
            (
                "COMMUNITIES length 3 (7.8)",
                format!("{ORIGIN}{AS_PATH}{NEXT_HOP}c00803010203"),
            ),
            (
                "ORIGINATOR_ID length 0 (7.9)",
                format!("{ORIGIN}{AS_PATH}{NEXT_HOP}800900"),
            ),
            (
                "CLUSTER_LIST length 5 (7.10)",
                format!("{ORIGIN}{AS_PATH}{NEXT_HOP}800a050102030405"),
            ),
            (
                "EXT_COMM length 4 (7.14)",
                format!("{ORIGIN}{AS_PATH}{NEXT_HOP}c0100401020304"),
            ),
            (
                "ORIGIN flagged optional (3 c)",
                format!("c0010100{AS_PATH}{NEXT_HOP}"),
            ),
            ("missing AS_PATH (3 d)", format!("{ORIGIN}{NEXT_HOP}")),
            (
                "missing NEXT_HOP with NLRI (3 d)",
                format!("{ORIGIN}{AS_PATH}"),
            ),
        ] {
            assert_eq!(
                action(&attrs, &nlri),
                ErrorAction::TreatAsWithdraw,
                "{what}"
            );
        }
        // The malformed attribute is left out of the decoded UPDATE.
        let l = lenient(&format!("{ORIGIN}{AS_PATH}{NEXT_HOP}800900"), &nlri).unwrap();
        assert_eq!(l.update.attributes.len(), 3);
        assert!(matches!(
            l.problems[..],
            [UpdateProblem::Malformed { type_code: 9, .. }]
        ));
    }

    #[test]
    fn aggregator_and_atomic_aggregate_errors_discard() {
        let base = format!("{ORIGIN}{AS_PATH}{NEXT_HOP}");
        let nlri = [24, 198, 18, 1];
        for extra in ["40060101", "c00706000100000000", "c0070700010000000000"] {
            let l = lenient(&format!("{base}{extra}"), &nlri).unwrap();
            assert_eq!(
                classify(&l.problems),
                ErrorAction::AttributeDiscard,
                "{extra}"
            );
            assert_eq!(l.update.attributes.len(), 3);
        }
        // AS4_PATH malformed: discard too (RFC 6793 section 6).
        assert_eq!(
            action(&format!("{base}c011020200"), &nlri),
            ErrorAction::AttributeDiscard
        );
    }

    #[test]
    fn flags_conflicts_treat_as_withdraw_where_values_discard() {
        // RFC 7606 3 c: ATOMIC_AGGREGATE flagged optional, AGGREGATOR
        // flagged non-transitive (even of a wrong length too: the stronger
        // action wins, 3 h), AS4_PATH from a 2-octet speaker flagged
        // non-transitive: treat-as-withdraw, although a malformed value of
        // each is discarded (7.6, 7.7, RFC 6793 6).
        let base = format!("{ORIGIN}{AS_PATH}{NEXT_HOP}");
        let nlri = [24, 198, 18, 1];
        for extra in ["c00600", "800708 0000fde8 c6120002", "800700"] {
            let l = lenient(&format!("{base}{extra}"), &nlri).unwrap();
            assert!(
                matches!(l.problems[..], [UpdateProblem::FlagsConflict { .. }]),
                "{extra}: {:?}",
                l.problems
            );
            assert_eq!(
                classify(&l.problems),
                ErrorAction::TreatAsWithdraw,
                "{extra}"
            );
        }
        let two_octet = DecodeOptions::default();
        let attrs = hex("40010100 40020402010001 400304c6130001 80110402010001");
        let l = Update::decode_lenient(&body(&attrs, &nlri), &two_octet).unwrap();
        assert_eq!(classify(&l.problems), ErrorAction::TreatAsWithdraw);
    }

    #[test]
    fn as_zero_is_malformed_rfc7607() {
        // RFC 7607 section 2: AS 0 in AS_PATH or AGGREGATOR is malformed and
        // handled per RFC 7606 (7.2 treat-as-withdraw, 7.7 discard), in
        // AS4_PATH / AS4_AGGREGATOR per RFC 6793 (discard).
        let nlri = [24, 198, 18, 1];
        let zero_path = format!("{ORIGIN}4002060201 00000000{NEXT_HOP}");
        assert_eq!(action(&zero_path, &nlri), ErrorAction::TreatAsWithdraw);
        let base = format!("{ORIGIN}{AS_PATH}{NEXT_HOP}");
        let zero_aggregator = format!("{base}c00708 00000000 c6120002");
        assert_eq!(
            action(&zero_aggregator, &nlri),
            ErrorAction::AttributeDiscard
        );
        let two_octet = DecodeOptions::default();
        for as4 in ["c0110602010000 0000", "c01208 00000000 c6120002"] {
            let attrs = hex(&format!("40010100 40020402010001 400304c6130001 {as4}"));
            let l = Update::decode_lenient(&body(&attrs, &nlri), &two_octet).unwrap();
            assert_eq!(
                classify(&l.problems),
                ErrorAction::AttributeDiscard,
                "{as4}"
            );
            assert_eq!(l.update.attributes.len(), 3, "{as4}");
        }
        // AS 1 is fine.
        let one_path = format!("{ORIGIN}4002060201 00000001{NEXT_HOP}");
        assert_eq!(action(&one_path, &nlri), ErrorAction::Accept);
    }

    #[test]
    fn as4_attributes_between_new_speakers_are_discarded() {
        // RFC 6793 section 4.1: well-formed AS4_PATH [65001] and
        // AS4_AGGREGATOR 65000 198.18.0.2 from a 4-octet-AS speaker are
        // discarded, the rest of the UPDATE kept.
        let base = format!("{ORIGIN}{AS_PATH}{NEXT_HOP}");
        let nlri = [24, 198, 18, 1];
        let as4 = "c011060201 0000fde9 c01208 0000fde8 c6120002";
        let l = lenient(&format!("{base}{as4}"), &nlri).unwrap();
        assert_eq!(classify(&l.problems), ErrorAction::AttributeDiscard);
        assert_eq!(
            l.problems,
            [
                UpdateProblem::As4FromNewSpeaker { type_code: 17 },
                UpdateProblem::As4FromNewSpeaker { type_code: 18 },
            ]
        );
        assert_eq!(l.update.attributes.len(), 3);
        // From a 2-octet speaker they are the real path (RFC 6793 4.2.3).
        let old = DecodeOptions::default();
        let body = body(
            &hex(&format!("40010100 40020402010001 {NEXT_HOP}{as4}")),
            &nlri,
        );
        let l = Update::decode_lenient(&body, &old).unwrap();
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(l.update.attributes.len(), 5);
    }

    #[test]
    fn duplicates_discard_except_mp_which_resets() {
        let l = lenient(
            &format!("{ORIGIN}{AS_PATH}{NEXT_HOP}40010102"),
            &[24, 1, 2, 3],
        )
        .unwrap();
        assert_eq!(classify(&l.problems), ErrorAction::AttributeDiscard);
        assert_eq!(
            l.update.attributes[0].value,
            crate::attribute::AttributeValue::Origin(crate::attribute::Origin::Igp),
            "the first occurrence is kept"
        );
        let a = action(&format!("{MP_REACH}{MP_REACH}{ORIGIN}{AS_PATH}"), &[]);
        assert_eq!(
            reset_subcode(&a),
            Some(UpdateSubcode::MalformedAttributeList)
        );
    }

    #[test]
    fn mp_reach_errors_reset() {
        // EVPN next hop of length 5 (7.11).
        let a = action(
            &format!("900e000a00194605c61300030100{ORIGIN}{AS_PATH}"),
            &[],
        );
        assert_eq!(
            reset_subcode(&a),
            Some(UpdateSubcode::OptionalAttributeError)
        );
        let ErrorAction::SessionReset(n) = a else {
            unreachable!()
        };
        assert_eq!(
            &n.data[..4],
            &[0x90, 0x0e, 0x00, 0x0a],
            "data = the attribute"
        );
        // MP_REACH flagged transitive.
        let bad_flags = MP_REACH.replacen("90", "d0", 1);
        let a = action(&format!("{bad_flags}{ORIGIN}{AS_PATH}"), &[]);
        assert_eq!(reset_subcode(&a), Some(UpdateSubcode::AttributeFlagsError));
        // MP_UNREACH too short.
        let a = action("800f020019", &[]);
        assert_eq!(
            reset_subcode(&a),
            Some(UpdateSubcode::OptionalAttributeError)
        );
    }

    #[test]
    fn attribute_list_overrun_section_4() {
        // Last attribute's length overruns: after an MP_REACH it is
        // treat-as-withdraw, without one a reset.
        assert_eq!(
            action(&format!("{MP_REACH}{ORIGIN}400209"), &[]),
            ErrorAction::TreatAsWithdraw
        );
        assert_eq!(
            reset_subcode(&action(&format!("{ORIGIN}4002"), &[])),
            Some(UpdateSubcode::MalformedAttributeList)
        );
    }

    #[test]
    fn unrecognized_well_known_resets_and_unknown_optional_is_kept() {
        let a = action(
            &format!("{ORIGIN}{AS_PATH}{NEXT_HOP}4063020102"),
            &[24, 1, 2, 3],
        );
        assert_eq!(
            reset_subcode(&a),
            Some(UpdateSubcode::UnrecognizedWellKnownAttribute)
        );
        let l = lenient(
            &format!("{ORIGIN}{AS_PATH}{NEXT_HOP}c063020102"),
            &[24, 1, 2, 3],
        )
        .unwrap();
        assert!(l.problems.is_empty());
        assert_eq!(l.update.attributes.len(), 4);
    }

    #[test]
    fn strongest_action_wins() {
        // A discardable error plus a treat-as-withdraw one.
        let attrs = format!("{ORIGIN}{AS_PATH}{NEXT_HOP}40060101800900");
        assert_eq!(action(&attrs, &[24, 1, 2, 3]), ErrorAction::TreatAsWithdraw);
        // Missing attributes do not matter without NLRI (End-of-RIB, pure
        // withdrawals: RFC 7606 section 5.2 / RFC 4760 4).
        assert_eq!(action("800f03001946", &[]), ErrorAction::Accept);
    }
}
