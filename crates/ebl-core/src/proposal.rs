//! Block proposals: what a consortium's leader node puts into the replicated log. The transactions it
//! verified, in order, on top of a named parent block, at the leader's time, signed by the leader's node
//! key, so a proposal that a follower finds invalid is evidence of who sent it.
//!
//! A proposal is not a block: every node applies it to its own ledger, re-checking every signature and
//! rule, and only then writes and signs the block header itself.

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::codec;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::keys::{sign_in_context, verify_value, PartyKey, SignatureBytes};
use crate::limits::{BLOCK_TRANSACTIONS_MAX, TRANSACTION_BYTES_MAX};
use crate::transaction::{ChainId, SignedTransaction};

/// Context string of the leader's signature over a proposal.
pub const PROPOSAL_CONTEXT: &[u8] = b"ebl/proposal/v1\0";

/// The most transactions in one proposal. Smaller than a single node's block (`BLOCK_TRANSACTIONS_MAX`):
/// a proposal travels to every member in one Raft entry, so its bytes are bounded too.
pub const PROPOSAL_TRANSACTIONS_MAX: usize = 256;

/// The largest encoded proposal: a full proposal of the largest transactions, and its framing.
pub const PROPOSAL_BYTES_MAX: usize =
    PROPOSAL_TRANSACTIONS_MAX * (TRANSACTION_BYTES_MAX + 64) + 4096;

const _: () = assert!(PROPOSAL_TRANSACTIONS_MAX <= BLOCK_TRANSACTIONS_MAX);

/// The signed part of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalBody {
    /// The chain.
    pub chain: ChainId,
    /// The block this one follows: its height (0 before the first block) and header hash (the chain id
    /// before the first block). A proposal whose parent is no longer the head is stale, and skipped by
    /// every node alike.
    pub parent_height: u64,
    /// The parent block's header hash (the chain id before the first block).
    pub parent: Hash,
    /// The leader's clock, never earlier than the parent block's time.
    pub time_ms: u64,
    /// The verified transactions, in order.
    pub transactions: Vec<SignedTransaction>,
}

/// A proposal with the signature of the node that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// What is proposed.
    pub body: ProposalBody,
    /// The leader's node key.
    pub proposer: PartyKey,
    /// Its signature over the body, in the proposal context.
    pub signature: SignatureBytes,
}

impl ProposalBody {
    /// Signs the body with the leader's node key.
    pub fn sign(self, node: &SigningKey) -> Proposal {
        let signature = sign_in_context(
            node,
            PROPOSAL_CONTEXT,
            self.chain.as_bytes(),
            &codec::encode(&self),
        );
        Proposal {
            body: self,
            proposer: PartyKey::of(node),
            signature,
        }
    }

    /// The header of the block this proposal makes once applied: the same bytes on every node, so every
    /// node's signature over it counts towards one certificate.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "a proposal holds at most BLOCK_TRANSACTIONS_MAX transactions, checked when it is decoded or made"
    )]
    pub fn header(&self, tx_root: Hash) -> BlockHeader {
        BlockHeader {
            chain: self.chain,
            height: self.parent_height + 1,
            prev: self.parent,
            tx_root,
            tx_count: self.transactions.len() as u32,
            time_ms: self.time_ms,
        }
    }
}

impl Proposal {
    /// Checks the proposer's signature (not that the proposer may propose: the caller knows the members).
    pub fn verify_signature(&self) -> Result<()> {
        verify_value(
            &self.proposer,
            PROPOSAL_CONTEXT,
            self.body.chain.as_bytes(),
            &self.body,
            &self.signature,
        )
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes canonical bytes, within `PROPOSAL_BYTES_MAX` and `PROPOSAL_TRANSACTIONS_MAX`.
    pub fn decode(bytes: &[u8]) -> Result<Proposal> {
        let proposal: Proposal = codec::decode_message(bytes, PROPOSAL_BYTES_MAX)?;
        let count = proposal.body.transactions.len();
        if count > PROPOSAL_TRANSACTIONS_MAX {
            return Err(Error::ProposalTooLarge {
                count,
                max: PROPOSAL_TRANSACTIONS_MAX,
            });
        }
        Ok(proposal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn body() -> ProposalBody {
        ProposalBody {
            chain: Hash::of(b"chain"),
            parent_height: 7,
            parent: Hash::of(b"parent"),
            time_ms: 1_700_000_000_000,
            transactions: Vec::new(),
        }
    }

    #[test]
    fn a_signed_proposal_verifies_and_names_its_proposer() {
        let proposal = body().sign(&key(1));
        assert_eq!(proposal.proposer, PartyKey::of(&key(1)));
        proposal.verify_signature().expect("verifies");
        let decoded = Proposal::decode(&proposal.encode()).expect("decodes");
        assert_eq!(decoded, proposal);
    }

    #[test]
    fn a_proposal_changed_after_signing_is_refused() {
        let mut proposal = body().sign(&key(1));
        proposal.body.time_ms += 1;
        assert!(proposal.verify_signature().is_err());
        let mut proposal = body().sign(&key(1));
        proposal.proposer = PartyKey::of(&key(2));
        assert!(proposal.verify_signature().is_err());
    }

    #[test]
    fn the_header_follows_the_named_parent() {
        let header = body().header(Hash::of(b"root"));
        assert_eq!((header.height, header.prev), (8, Hash::of(b"parent")));
    }
}
