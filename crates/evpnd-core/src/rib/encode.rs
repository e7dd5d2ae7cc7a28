//! Turning outbound batches into UPDATE messages: the attribute set rewritten
//! for the receiving group (once per set, cached), then as many NLRI per
//! UPDATE as fit.

use super::adj_out::{OutBatch, OutGroupKey};
use super::attrs::{AttrSet, STORED_FORM, decode_stored};
use super::best::DEFAULT_LOCAL_PREF;
use super::peer::{PeerKind, PeerTable};
use super::reflect::{Reflection, to_ibgp};
use bytes::Bytes;
use bytes::BytesMut;
use evpnd_wire::as_path::AsPath;
use evpnd_wire::attribute::{AttributeValue, PathAttribute, type_code};
use evpnd_wire::attribute_table;
use evpnd_wire::message::DecodeOptions;
use evpnd_wire::message::{EncodeOptions, Message};
use evpnd_wire::update_packer::{PackError, UpdatePacker};
use evpnd_wire::{DecodeError, Family, update::Update};
use std::net::Ipv4Addr;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OutboundError {
    #[error("cannot rewrite attributes: {0}")]
    Attributes(#[from] DecodeError),
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error("routes are never advertised to {0:?}")]
    NotAPeer(PeerKind),
}

/// What the encoder needs to know about this speaker.
#[derive(Debug, Clone, Copy)]
pub struct OutboundEncoder {
    pub family: Family,
    /// Prepended to AS_PATH towards eBGP peers (RFC 4271 5.1.2).
    pub local_asn: u32,
    /// RFC 4456 section 7.
    pub cluster_id: Ipv4Addr,
}

impl OutboundEncoder {
    pub fn encode(
        &self,
        batch: &OutBatch,
        group: &OutGroupKey,
        peers: &PeerTable,
    ) -> Result<Vec<Bytes>, OutboundError> {
        let packer = UpdatePacker::new(usize::from(group.max_message_len));
        let nlri = batch.nlri.iter().map(|n| n.as_slice());
        let Some(attrs) = &batch.attrs else {
            return Ok(packer.pack_unreach(self.family, nlri)?);
        };
        let shared = match group.kind {
            PeerKind::IbgpClient | PeerKind::IbgpNonClient => self.ibgp_attributes(attrs, peers)?,
            PeerKind::Ebgp => self.ebgp_attributes(attrs),
            PeerKind::Local => return Err(OutboundError::NotAPeer(PeerKind::Local)),
        };
        let shared = if group.four_octet_as {
            shared
        } else {
            two_octet_form(&shared)
        };
        Ok(packer.pack_reach(self.family, &attrs.next_hop, &shared, nlri)?)
    }

    /// The set's attributes as every iBGP peer receives them, computed once.
    fn ibgp_attributes(&self, attrs: &AttrSet, peers: &PeerTable) -> Result<Bytes, DecodeError> {
        if let Some(cached) = attrs.reflected.get() {
            return Ok(cached.clone());
        }
        let source = peers.get(attrs.source);
        let reflection = source.filter(|p| p.kind.is_ibgp()).map(|p| Reflection {
            originator_id: p.router_id,
            cluster_id: self.cluster_id,
        });
        let encoded = to_ibgp(&attrs.encoded, reflection, DEFAULT_LOCAL_PREF)?;
        Ok(attrs.reflected.get_or_init(|| encoded).clone())
    }
}

impl OutboundEncoder {
    /// The set's attributes as every eBGP peer receives them, computed once
    /// (RFC 4271 5.1): our AS prepended to AS_PATH (5.1.2); LOCAL_PREF
    /// (5.1.5), MULTI_EXIT_DISC (5.1.4: not passed to another AS) and the
    /// reflection attributes ORIGINATOR_ID and CLUSTER_LIST (RFC 4456 8,
    /// meaningful inside the AS only) left out. The next hop stays: an EVPN
    /// route's next hop is the VTEP that terminates its tunnels (RFC 8365
    /// section 5.1.3), whoever passes the route on.
    fn ebgp_attributes(&self, attrs: &AttrSet) -> Bytes {
        attrs
            .external
            .get_or_init(|| {
                let mut update = attrs.decode();
                // `to_ebgp` in the attribute table: LOCAL_PREF, MED,
                // ORIGINATOR_ID and CLUSTER_LIST stay inside the AS.
                update.attributes.retain(|a| {
                    attribute_table::lookup(a.type_code()).is_none_or(|row| row.to_ebgp)
                });
                let mut prepended = false;
                for attribute in &mut update.attributes {
                    if let AttributeValue::AsPath(path) = &mut attribute.value {
                        path.prepend(self.local_asn);
                        prepended = true;
                    }
                }
                if !prepended {
                    let mut path = AsPath::new();
                    path.prepend(self.local_asn);
                    update
                        .attributes
                        .push(PathAttribute::new(AttributeValue::AsPath(path)));
                    update.attributes.sort_by_key(PathAttribute::type_code);
                }
                let mut out = BytesMut::new();
                update.encode_shared_attributes(&mut out, &STORED_FORM);
                out.freeze()
            })
            .clone()
    }
}

/// Stored (4-octet) attributes as sent to a peer without the 4-octet AS
/// capability (RFC 6793 section 4.2.2): AS_PATH in 2 octets with AS_TRANS
/// for larger ASes, and then the real path in AS4_PATH.
fn two_octet_form(stored: &[u8]) -> Bytes {
    let mut update = decode_stored(stored);
    let needs_as4 = update.as_path().is_some_and(|p| {
        p.segments
            .iter()
            .any(|s| s.asns.iter().any(|a| *a > 0xffff))
    });
    if needs_as4
        && update.attribute(type_code::AS4_PATH).is_none()
        && let Some(path) = update.as_path().cloned()
    {
        update
            .attributes
            .push(PathAttribute::new(AttributeValue::As4Path(path)));
        update.attributes.sort_by_key(PathAttribute::type_code);
    }

    let mut out = BytesMut::new();
    update.encode_shared_attributes(&mut out, &DecodeOptions::default());
    out.freeze()
}

/// RFC 4724 section 2: the End-of-RIB marker for the group's family.
pub fn end_of_rib(family: Family) -> Bytes {
    Message::Update(Update::end_of_rib(family))
        .to_bytes(&EncodeOptions::default())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attrs::{AttrInterner, PathSummary};
    use crate::rib::peer::PeerIdx;
    use crate::test_support::hex;

    /// msg 6 of proto-tests/vectors/frr/bgp-evpn-messages.txt: a VTEP's type-3 attributes.
    const FROM_VTEP: &str = concat!(
        "400101005002000040050400000064",
        "c01010030c0000000000080002fde800000000",
        "c016090006000000c6130003"
    );

    fn encoder(local_asn: u32) -> OutboundEncoder {
        OutboundEncoder {
            family: Family::L2VPN_EVPN,
            local_asn,
            cluster_id: Ipv4Addr::new(198, 19, 0, 4),
        }
    }

    #[test]
    fn ebgp_gets_our_as_prepended_and_no_ibgp_only_attributes() {
        let mut interner = AttrInterner::default();
        let attrs = interner.intern(
            PeerIdx(1),
            &hex(FROM_VTEP),
            &[198, 19, 0, 3],
            PathSummary::default,
        );
        let out = encoder(65000).ebgp_attributes(&attrs);
        let expected = hex(concat!(
            "40010100",
            "500200060201",
            "0000fde8",
            "c01010030c0000000000080002fde800000000",
            "c016090006000000c6130003"
        ));
        assert_eq!(out.as_ref(), expected.as_slice());
        assert!(attrs.external.get().is_some(), "computed once per set");
    }

    #[test]
    fn two_octet_peers_get_as_trans_and_as4_path() {
        let mut interner = AttrInterner::default();
        let attrs = interner.intern(
            PeerIdx(1),
            &hex(FROM_VTEP),
            &[198, 19, 0, 3],
            PathSummary::default,
        );
        let four = encoder(4_200_000_000).ebgp_attributes(&attrs);
        let two = two_octet_form(&four);
        let expected = hex(concat!(
            "40010100",
            "50020004",
            "0201",
            "5ba0",
            "c01010030c0000000000080002fde800000000",
            "c0110602",
            "01fa56ea00",
            "c016090006000000c6130003"
        ));
        assert_eq!(two.as_ref(), expected.as_slice());
        // A path of 2-octet ASes needs no AS4_PATH.
        let small = two_octet_form(&encoder(65001).ebgp_attributes(&interner.intern(
            PeerIdx(2),
            &hex(FROM_VTEP),
            &[198, 19, 0, 3],
            PathSummary::default,
        )));
        assert_eq!(
            small.as_ref(),
            hex(concat!(
                "40010100",
                "500200040201fde9",
                "c01010030c0000000000080002fde800000000",
                "c016090006000000c6130003"
            ))
            .as_slice()
        );
    }
}
