//! The registry committed to one hash: a Merkle tree over the consortium's entry and every party's, so
//! that a root the member nodes sign proves any party's entry in O(log n), whatever the number of
//! parties (chain format 8, [`crate::format::FORMAT_REGISTRY_COMMITTED`]).
//!
//! The tree is the RFC 9162 tree of [`crate::block`]: leaf 0 is the consortium (members, threshold, the f
//! its genesis states, the format schedule), then one leaf per party in id order, each the hash of the
//! party's canonical bytes under its own context, so that a party's entry never passes for the
//! consortium's or the other way. A party's entry holds its whole key line (retired keys, recoveries
//! with the admins behind them) and whether it is revoked: a proof of it at a height is its history up
//! to there, as the registry knows it.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::block::{InclusionProof, MerkleTree};
use crate::codec;
use crate::error::{Error, Result};
use crate::format::FormatSchedule;
use crate::genesis::Member;
use crate::hash::Hash;
use crate::limits::{REGISTRY_LEAVES_MAX, REGISTRY_PROOF_DEPTH_MAX};
use crate::party::{Party, PartyId};

/// Context of a party's leaf.
pub const PARTY_LEAF_CONTEXT: &[u8] = b"ebl/registry/party/v1\0";
/// Context of the consortium's leaf.
pub const CONSORTIUM_LEAF_CONTEXT: &[u8] = b"ebl/registry/consortium/v1\0";

/// The registry's state apart from its parties, as its leaf commits to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consortium {
    /// The members.
    pub members: Vec<Member>,
    /// The governance threshold.
    pub threshold: u16,
    /// The f the genesis states (chain format 7 on).
    pub faults: Option<u16>,
    /// The chain's formats by height, as scheduled.
    pub formats: FormatSchedule,
}

/// The value of a party's leaf.
pub fn party_leaf(party: &Party) -> Hash {
    Hash::of_parts(&[PARTY_LEAF_CONTEXT, &codec::encode(party)])
}

/// The value of the consortium's leaf.
pub fn consortium_leaf(consortium: &Consortium) -> Hash {
    Hash::of_parts(&[CONSORTIUM_LEAF_CONTEXT, &codec::encode(consortium)])
}

/// A party's entry and its place under a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyProof {
    /// The entry, as the registry held it.
    pub party: Party,
    /// Its leaf's path to the root.
    pub proof: InclusionProof,
}

/// The consortium's entry and its place (leaf 0) under a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumProof {
    /// The entry, as the registry held it.
    pub consortium: Consortium,
    /// Its leaf's path to the root.
    pub proof: InclusionProof,
}

impl PartyProof {
    /// Checks that the entry is a leaf under `root`; refused by the party's name otherwise (a proof
    /// from another height, cut short or padded, or for another entry).
    pub fn verify(&self, root: &Hash) -> Result<()> {
        // Leaf 0 is the consortium's: a party's entry is never there.
        if self.proof.index == 0 {
            return Err(Error::PartyProofMismatch {
                party: self.party.id,
            });
        }
        self.proof
            .verify_within(
                &party_leaf(&self.party),
                root,
                REGISTRY_LEAVES_MAX,
                REGISTRY_PROOF_DEPTH_MAX,
            )
            .map_err(|_| Error::PartyProofMismatch {
                party: self.party.id,
            })
    }
}

impl ConsortiumProof {
    /// Checks that the entry is leaf 0 under `root`.
    pub fn verify(&self, root: &Hash) -> Result<()> {
        if self.proof.index != 0 {
            return Err(Error::ConsortiumProofMismatch);
        }
        self.proof
            .verify_within(
                &consortium_leaf(&self.consortium),
                root,
                REGISTRY_LEAVES_MAX,
                REGISTRY_PROOF_DEPTH_MAX,
            )
            .map_err(|_| Error::ConsortiumProofMismatch)
    }
}

/// The leaves of a registry's parties, kept as parties change, and the tree over them and the
/// consortium, built when first asked for after a change (O(n) then, O(log n) per proof after).
#[derive(Debug, Clone, Default)]
pub(crate) struct Commitment {
    parties: BTreeMap<PartyId, Hash>,
    tree: Built,
}

/// The tree, once built; a clone shares it, a change drops it.
#[derive(Clone, Default)]
struct Built(OnceLock<Arc<(MerkleTree, Vec<PartyId>)>>);

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "built"
        } else {
            "not built"
        })
    }
}

// The tree is derived from the leaves (and the consortium, held beside): equal leaves, equal registries.
impl PartialEq for Commitment {
    fn eq(&self, other: &Commitment) -> bool {
        self.parties == other.parties
    }
}

impl Eq for Commitment {}

impl Commitment {
    /// Records a party's entry as it is now.
    pub(crate) fn set(&mut self, party: &Party) {
        self.parties.insert(party.id, party_leaf(party));
        self.changed();
    }

    /// Forgets the tree: the consortium or a party changed.
    pub(crate) fn changed(&mut self) {
        self.tree = Built::default();
    }

    fn tree(&self, consortium: &Consortium) -> Arc<(MerkleTree, Vec<PartyId>)> {
        self.tree
            .0
            .get_or_init(|| {
                let mut leaves = Vec::with_capacity(self.parties.len() + 1);
                leaves.push(consortium_leaf(consortium));
                leaves.extend(self.parties.values().copied());
                Arc::new((
                    MerkleTree::new(&leaves),
                    self.parties.keys().copied().collect(),
                ))
            })
            .clone()
    }

    /// The root over `consortium` and the parties.
    pub(crate) fn root(&self, consortium: &Consortium) -> Hash {
        self.tree(consortium).0.root()
    }

    /// The proof of the consortium's leaf.
    pub(crate) fn prove_consortium(&self, consortium: &Consortium) -> Option<InclusionProof> {
        self.tree(consortium).0.proof(0)
    }

    /// The proof of a party's leaf, if the party is registered.
    pub(crate) fn prove_party(
        &self,
        consortium: &Consortium,
        id: &PartyId,
    ) -> Option<InclusionProof> {
        let built = self.tree(consortium);
        let index = built.1.binary_search(id).ok()?;
        built.0.proof(index + 1)
    }
}
