//! Turning outbound batches into UPDATE messages: the attribute set rewritten
//! for the receiving group (once per set, cached), then as many NLRI per
//! UPDATE as fit.

use super::adj_out::{OutBatch, OutGroupKey};
use super::attrs::AttrSet;
use super::best::DEFAULT_LOCAL_PREF;
use super::peer::{PeerKind, PeerTable};
use super::reflect::{Reflection, to_ibgp};
use crate::wire::message::{EncodeOptions, Message};
use crate::wire::update_packer::{PackError, UpdatePacker};
use crate::wire::{DecodeError, Family, update::Update};
use bytes::Bytes;
use std::net::Ipv4Addr;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OutboundError {
    #[error("cannot rewrite attributes: {0}")]
    Attributes(#[from] DecodeError),
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error("advertising to {0:?} peers is not supported yet")]
    Unsupported(PeerKind),
}

/// What the encoder needs to know about this speaker.
#[derive(Debug, Clone, Copy)]
pub struct OutboundEncoder {
    pub family: Family,
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
            other => return Err(OutboundError::Unsupported(other)),
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

/// RFC 4724 section 2: the End-of-RIB marker for the group's family.
pub fn end_of_rib(family: Family) -> Bytes {
    Message::Update(Update::end_of_rib(family))
        .to_bytes(&EncodeOptions::default())
        .unwrap_or_default()
}
