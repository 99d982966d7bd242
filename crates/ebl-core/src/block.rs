//! Blocks: the node's signed, hash-linked headers over ordered transactions, and Merkle inclusion proofs.
//!
//! The Merkle tree follows RFC 9162 (Certificate Transparency v2): leaves and inner nodes are hashed with
//! different prefixes, so a leaf can never pass for an inner node, and an odd tree splits at the largest
//! power of two below its size, so no leaf is duplicated.

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::keys::{sign_in_context, verify_in_context, PartyKey, SignatureBytes};
use crate::limits::{BLOCK_TRANSACTIONS_MAX, MERKLE_PROOF_DEPTH_MAX};
use crate::transaction::{ChainId, TxId};

/// Context string of the node's signature over a block header, before chain format 5.
pub const BLOCK_CONTEXT: &[u8] = b"ebl/block/v1\0";

/// Context string of the node's signature over a block header bound to the registry, from chain
/// format 5 ([`crate::format::FORMAT_HEADERS_BOUND`]).
pub const BLOCK_CONTEXT_BOUND: &[u8] = b"ebl/block/v2\0";

/// What a member node's signature over a header covers besides the header. From chain format 5 it is
/// the registry head as it stood before the block: a certificate then proves which registry its
/// signers had, so a bundle that leaves out a registry entry (a member's removal, say) no longer
/// replays to a registry the signatures accept. The header's own bytes and hash are the same in
/// every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderBinding {
    /// Before chain format 5: the header alone, in [`BLOCK_CONTEXT`].
    Unbound,
    /// From chain format 5: the header, then the registry head before the block, in
    /// [`BLOCK_CONTEXT_BOUND`].
    Registry(Hash),
}

impl HeaderBinding {
    /// The binding of a block of chain format `format` over a registry whose head was `registry_head`.
    pub fn of(format: u16, registry_head: Hash) -> HeaderBinding {
        if format >= crate::format::FORMAT_HEADERS_BOUND {
            HeaderBinding::Registry(registry_head)
        } else {
            HeaderBinding::Unbound
        }
    }

    /// The binding of the block at `height`, given the registry as it stood before that block.
    pub fn before(registry: &crate::registry::Registry, height: u64) -> HeaderBinding {
        HeaderBinding::of(registry.formats().at(height), registry.head())
    }

    /// The binding of the block at `height` made of `transactions`, given the registry after them (a
    /// node signs a block it has just applied): the registry head before the block is the one its first
    /// registry transaction names as `prev` (registry transactions are hash-linked), or, with none, the
    /// head now. A format change takes effect above the block that schedules it, so the format is the
    /// same before and after.
    pub fn after(
        registry: &crate::registry::Registry,
        height: u64,
        transactions: &[crate::transaction::SignedTransaction],
    ) -> HeaderBinding {
        let head = transactions
            .iter()
            .find(|tx| tx.body.action.is_registry())
            .map_or(registry.head(), |tx| tx.body.prev);
        HeaderBinding::of(registry.formats().at(height), head)
    }

    /// The context and the bytes a signature covers.
    fn message(&self, header: &BlockHeader) -> (&'static [u8], Vec<u8>) {
        let mut bytes = codec::encode(header);
        match self {
            HeaderBinding::Unbound => (BLOCK_CONTEXT, bytes),
            HeaderBinding::Registry(head) => {
                bytes.extend_from_slice(head.as_bytes());
                (BLOCK_CONTEXT_BOUND, bytes)
            }
        }
    }
}

/// One block's header. The node assigns `time_ms`, never less than its parent's: the node's time is the
/// order, a client's timestamp is only data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The chain the block belongs to.
    pub chain: ChainId,
    /// Its height, 1 for the first block.
    pub height: u64,
    /// Hash of the previous header; the chain id for height 1.
    pub prev: Hash,
    /// The Merkle root of its transaction ids, in order.
    pub tx_root: Hash,
    /// How many transactions it holds.
    pub tx_count: u32,
    /// The node's clock when it made the block (Unix milliseconds).
    pub time_ms: u64,
}

impl BlockHeader {
    /// The header's hash: what the next block names as `prev`, and what receipts name.
    pub fn hash(&self) -> Hash {
        Hash::of(&codec::encode(self))
    }

    /// Signs the header with a member's node key, bound as its chain format asks.
    pub fn sign(self, node: &SigningKey, binding: HeaderBinding) -> SignedBlockHeader {
        let (context, message) = binding.message(&self);
        let signature = sign_in_context(node, context, self.chain.as_bytes(), &message);
        SignedBlockHeader {
            header: self,
            signer: PartyKey::of(node),
            signature,
        }
    }
}

/// A header with the signature of the member node that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBlockHeader {
    /// The header signed.
    pub header: BlockHeader,
    /// The node key that signed: a member's, which the verifier checks against the members.
    pub signer: PartyKey,
    /// The node's signature over it, in the block context.
    pub signature: SignatureBytes,
}

impl SignedBlockHeader {
    /// Checks the signature, bound as `binding` says, and that `node` made it.
    pub fn verify(&self, node: &PartyKey, binding: HeaderBinding) -> Result<()> {
        if self.signer != *node {
            return Err(Error::NotNode);
        }
        verify_header(node, &self.header, binding, &self.signature)
    }

    /// Checks that `self` directly follows `parent` (or the genesis, when `parent` is `None`).
    pub fn follows(&self, parent: Option<&BlockHeader>) -> Result<()> {
        let (height, prev, time) = match parent {
            Some(p) => (p.height + 1, p.hash(), p.time_ms),
            None => (1, self.header.chain, 0),
        };
        if self.header.height != height || self.header.prev != prev || self.header.time_ms < time {
            return Err(Error::BrokenBlockLink {
                height: self.header.height,
            });
        }
        Ok(())
    }
}

/// Checks one node's signature over `header`, bound as `binding` says.
pub(crate) fn verify_header(
    node: &PartyKey,
    header: &BlockHeader,
    binding: HeaderBinding,
    signature: &SignatureBytes,
) -> Result<()> {
    let (context, message) = binding.message(header);
    if verify_in_context(node, context, header.chain.as_bytes(), &message, signature) {
        Ok(())
    } else {
        Err(Error::BadSignature {
            signer: node.to_hex(),
        })
    }
}

fn leaf_hash(id: &TxId) -> Hash {
    Hash::of_parts(&[&[0u8], id.as_bytes()])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::of_parts(&[&[1u8], left.as_bytes(), right.as_bytes()])
}

/// A Merkle tree kept level by level, so that every inclusion proof of a block costs O(log n) once the
/// tree is built in O(n). Pairing bottom-up and carrying a lone last node up unchanged gives exactly the
/// RFC 9162 tree (which splits at the largest power of two below the size).
#[derive(Debug, Clone)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// The tree over `ids`, in order.
    pub fn new(ids: &[TxId]) -> MerkleTree {
        let mut levels = vec![ids.iter().map(leaf_hash).collect::<Vec<_>>()];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().map(Vec::as_slice).unwrap_or(&[]);
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [lone] => *lone,
                    _ => Hash::ZERO,
                })
                .collect();
            levels.push(above);
        }
        MerkleTree { levels }
    }

    /// The root (the hash of nothing for an empty block).
    pub fn root(&self) -> Hash {
        match self.levels.last() {
            Some(top) if !top.is_empty() => top[0],
            _ => Hash::of(&[]),
        }
    }

    /// The proof for leaf `index`; `None` if out of range.
    pub fn proof(&self, index: usize) -> Option<InclusionProof> {
        let count = self.levels.first()?.len();
        if index >= count {
            return None;
        }
        let mut path = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = i ^ 1;
            if sibling < level.len() {
                path.push(level[sibling]);
            }
            i /= 2;
        }
        Some(InclusionProof {
            index: u32::try_from(index).ok()?,
            count: u32::try_from(count).ok()?,
            path,
        })
    }
}

/// The Merkle root of a block's transaction ids (the hash of nothing for an empty block).
pub fn merkle_root(ids: &[TxId]) -> Hash {
    MerkleTree::new(ids).root()
}

/// Proof that the transaction at `index` is one of a block's `count` transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The transaction's position in its block.
    pub index: u32,
    /// How many transactions the block holds.
    pub count: u32,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash>,
}

impl InclusionProof {
    /// The proof for `ids[index]`; `None` if `index` is out of range. Builds the whole tree: to prove
    /// many leaves of one block, build a [`MerkleTree`] once instead.
    pub fn build(ids: &[TxId], index: usize) -> Option<InclusionProof> {
        MerkleTree::new(ids).proof(index)
    }

    /// Recomputes the root from `id` along the path (RFC 9162, section 2.1.3.2) and compares.
    pub fn verify(&self, id: &TxId, root: &Hash) -> Result<()> {
        self.verify_within(id, root, BLOCK_TRANSACTIONS_MAX, MERKLE_PROOF_DEPTH_MAX)
    }

    /// [`InclusionProof::verify`] in a tree of at most `count_max` leaves and `depth_max` levels (a
    /// block's limits, or the registry's: see [`crate::commitment`]).
    pub(crate) fn verify_within(
        &self,
        id: &TxId,
        root: &Hash,
        count_max: usize,
        depth_max: usize,
    ) -> Result<()> {
        if self.index >= self.count
            || self.count as usize > count_max
            || self.path.len() > depth_max
        {
            return Err(Error::BadInclusionProof);
        }
        let mut f_n = self.index as u64;
        let mut s_n = self.count as u64 - 1;
        let mut r = leaf_hash(id);
        for p in &self.path {
            if s_n == 0 {
                return Err(Error::BadInclusionProof);
            }
            if f_n & 1 == 1 || f_n == s_n {
                r = node_hash(p, &r);
                if f_n & 1 == 0 {
                    while f_n & 1 == 0 && f_n != 0 {
                        f_n >>= 1;
                        s_n >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        if s_n == 0 && r == *root {
            Ok(())
        } else {
            Err(Error::BadInclusionProof)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162's recursive definition, as the reference the level-by-level tree must equal.
    fn reference_root(ids: &[TxId]) -> Hash {
        match ids.len() {
            0 => Hash::of(&[]),
            1 => leaf_hash(&ids[0]),
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&reference_root(&ids[..k]), &reference_root(&ids[k..]))
            }
        }
    }

    fn ids(n: usize) -> Vec<TxId> {
        (0..n)
            .map(|i| Hash::of(&(i as u64).to_le_bytes()))
            .collect()
    }

    #[test]
    fn every_leaf_proves_in_trees_of_every_size() {
        for n in 1..=33 {
            let ids = ids(n);
            let root = merkle_root(&ids);
            assert_eq!(root, reference_root(&ids), "n={n}");
            for i in 0..n {
                let proof = InclusionProof::build(&ids, i).expect("in range");
                assert_eq!(proof.verify(&ids[i], &root), Ok(()), "n={n} i={i}");
                // The same proof must not work for another leaf or another root.
                let other = Hash::of(b"other");
                assert!(proof.verify(&other, &root).is_err());
                assert!(proof.verify(&ids[i], &other).is_err());
                if n > 1 {
                    let mut wrong = proof.clone();
                    wrong.index = u32::try_from((i + 1) % n).expect("small");
                    assert!(wrong.verify(&ids[i], &root).is_err(), "n={n} i={i}");
                }
            }
        }
    }

    #[test]
    fn a_leaf_cannot_pass_for_an_inner_node() {
        let ids = ids(2);
        let root = merkle_root(&ids);
        assert_ne!(root, leaf_hash(&ids[0]));
        assert_ne!(merkle_root(&ids[..1]), ids[0]);
    }
}
