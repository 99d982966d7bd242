//! A bill's status statement as the member nodes vouch for it. Before chain format 7 one member's node
//! signs it; from format 7 the finality quorum of member nodes each sign it bound to the registry head
//! it was made under, so no single node (a lying one, or a removed member's that still holds its key)
//! can tell a bank alone that a bill stands where it does, and a bundle that leaves out a registry
//! entry (a member's removal, say) replays to a registry the signatures were not made under.

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::api::{BillStatement, SignedStatement, STATEMENT_CONTEXT};
use crate::certificate::NodeSignature;
use crate::codec;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::keys::{sign_in_context, verify_in_context, PartyKey};
use crate::limits::SIGNATURES_MAX;
use crate::registry::Registry;

/// Context of a member node's signature over a statement bound to the registry head (format 7).
pub const STATEMENT_CONTEXT_BOUND: &[u8] = b"ebl/statement/v2\0";

/// Context of a member node's signature over a statement bound to the registry head and the registry's
/// root (format 8, [`crate::commitment`]).
pub const STATEMENT_CONTEXT_COMMITTED: &[u8] = b"ebl/statement/v3\0";

/// What a member node's signature over a statement covers, by the chain format at the statement's
/// height. The statement's own bytes are the same in every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementBinding {
    /// Before chain format 7: the statement alone, in [`STATEMENT_CONTEXT`], and one member's node
    /// vouches for it.
    Unbound,
    /// From chain format 7: the statement, then the registry head after its block, in
    /// [`STATEMENT_CONTEXT_BOUND`]; the finality quorum of member nodes vouches for it.
    Registry(Hash),
    /// From chain format 8: the statement, then the registry head and the registry's root after its
    /// block, in [`STATEMENT_CONTEXT_COMMITTED`]; the finality quorum of member nodes vouches for it,
    /// and a bundle proves the registry entries it needs against the root.
    Committed {
        /// The registry head after the statement's block.
        head: Hash,
        /// The registry's root then ([`Registry::root`]).
        root: Hash,
    },
}

impl StatementBinding {
    /// The binding of a statement at a height of chain format `format`, made under a registry whose
    /// head was `registry_head` and whose root `root` gives (asked only from format 8: building the
    /// root of a large registry is not free).
    pub fn of(format: u16, registry_head: Hash, root: impl FnOnce() -> Hash) -> StatementBinding {
        if format >= crate::format::FORMAT_REGISTRY_COMMITTED {
            StatementBinding::Committed {
                head: registry_head,
                root: root(),
            }
        } else if format >= crate::format::FORMAT_STATEMENTS_CERTIFIED {
            StatementBinding::Registry(registry_head)
        } else {
            StatementBinding::Unbound
        }
    }

    /// The binding of a statement at `height` made under `registry` (the registry after that block).
    pub fn under(registry: &Registry, height: u64) -> StatementBinding {
        StatementBinding::of(registry.formats().at(height), registry.head(), || {
            registry.root()
        })
    }

    /// How many member nodes must sign a statement so bound, of `registry`'s members.
    pub fn need(&self, registry: &Registry) -> usize {
        match self {
            StatementBinding::Unbound => 1,
            StatementBinding::Registry(_) | StatementBinding::Committed { .. } => {
                registry.finality_quorum()
            }
        }
    }

    fn message(&self, statement: &BillStatement) -> (&'static [u8], Vec<u8>) {
        let mut bytes = codec::encode(statement);
        match self {
            StatementBinding::Unbound => (STATEMENT_CONTEXT, bytes),
            StatementBinding::Registry(head) => {
                bytes.extend_from_slice(head.as_bytes());
                (STATEMENT_CONTEXT_BOUND, bytes)
            }
            StatementBinding::Committed { head, root } => {
                bytes.extend_from_slice(head.as_bytes());
                bytes.extend_from_slice(root.as_bytes());
                (STATEMENT_CONTEXT_COMMITTED, bytes)
            }
        }
    }

    /// A member node's signature over `statement`, so bound.
    pub fn sign(&self, statement: &BillStatement, node: &SigningKey) -> NodeSignature {
        let (context, message) = self.message(statement);
        NodeSignature {
            signer: PartyKey::of(node),
            signature: sign_in_context(node, context, statement.chain.as_bytes(), &message),
        }
    }

    /// Whether `signature` is its signer's over `statement`, so bound.
    pub fn verifies(&self, statement: &BillStatement, signature: &NodeSignature) -> bool {
        let (context, message) = self.message(statement);
        verify_in_context(
            &signature.signer,
            context,
            statement.chain.as_bytes(),
            &message,
            &signature.signature,
        )
    }
}

/// A statement as any release wrote or answered it: the signature list (`ebl-bundle/3`, nodes from
/// this release), or one node's signature (`ebl-bundle/2`, earlier nodes). Read with
/// [`CertifiedStatement::deserialize_any`].
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Certified(Box<CertifiedStatement>),
    One(Box<SignedStatement>),
}

/// A statement and the member nodes' signatures over it: what a node answers for a bill's status, and
/// what a bundle carries (from `ebl-bundle/3`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedStatement {
    /// What is stated.
    pub statement: BillStatement,
    /// One signature per member node that vouches for it, each by a distinct node.
    pub signatures: Vec<NodeSignature>,
}

impl CertifiedStatement {
    /// A statement with no signatures yet.
    pub fn new(statement: BillStatement) -> CertifiedStatement {
        CertifiedStatement {
            statement,
            signatures: Vec::new(),
        }
    }

    /// Reads a statement in either shape a release wrote (the signature list, or one node's signature
    /// as `ebl-bundle/2` and earlier nodes have it); for `deserialize_with`.
    pub fn deserialize_any<'de, D>(
        deserializer: D,
    ) -> std::result::Result<CertifiedStatement, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        Ok(match Written::deserialize(deserializer)? {
            Written::Certified(c) => *c,
            Written::One(one) => CertifiedStatement::of_one(*one),
        })
    }

    /// A statement as one node signed it before chain format 7 (bundles of `ebl-bundle/2`).
    pub fn of_one(signed: SignedStatement) -> CertifiedStatement {
        CertifiedStatement {
            statement: signed.statement,
            signatures: vec![NodeSignature {
                signer: signed.signer,
                signature: signed.signature,
            }],
        }
    }

    /// Adds a node's signature, once per signer; whether it was new. The signature is checked here,
    /// bound as `binding` says: a certified statement never holds one that does not verify.
    pub fn add(&mut self, signature: NodeSignature, binding: StatementBinding) -> bool {
        if self.signatures.iter().any(|s| s.signer == signature.signer)
            || self.signatures.len() >= SIGNATURES_MAX
            || !binding.verifies(&self.statement, &signature)
        {
            return false;
        }
        self.signatures.push(signature);
        true
    }

    /// Checks the signatures against `registry`, the registry as of the statement's height (the
    /// bundle's replayed registry): every one a member node's, verifying as the chain format at that
    /// height binds it, at least as many distinct members as it needs. The signers' names, in order.
    pub fn check(&self, registry: &Registry) -> Result<Vec<String>> {
        self.check_bound(
            registry,
            StatementBinding::under(registry, self.statement.height),
        )
    }

    /// [`CertifiedStatement::check`] with the binding given: a bundle that proves its registry entries
    /// rather than replaying every one knows the head and root it was made under from the bundle (the
    /// signatures are what vouch for them), not from its replay.
    pub fn check_bound(
        &self,
        registry: &Registry,
        binding: StatementBinding,
    ) -> Result<Vec<String>> {
        if self.signatures.len() > SIGNATURES_MAX {
            return Err(Error::TooManySignatures {
                count: self.signatures.len(),
                max: SIGNATURES_MAX,
            });
        }
        let mut seen = BTreeSet::new();
        let mut names = Vec::new();
        for signature in &self.signatures {
            let member = registry
                .member_by_node(&signature.signer)
                .ok_or(Error::NotNode)?;
            if !binding.verifies(&self.statement, signature) {
                return Err(Error::BadSignature {
                    signer: signature.signer.to_hex(),
                });
            }
            if seen.insert(signature.signer) {
                names.push(member.name.clone());
            }
        }
        let need = binding.need(registry);
        if names.len() < need {
            return Err(Error::StatementUncertified {
                height: self.statement.height,
                have: names.len(),
                need,
            });
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{Status, Title};
    use crate::genesis::{Genesis, Member};
    use crate::party::PartyId;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    /// Three members (admins 1-3, nodes 11-13), threshold 2, in chain format `version`.
    fn registry(version: u16) -> Registry {
        let members = (1..=3u8)
            .map(|i| Member {
                name: format!("Member {i}"),
                admin: PartyKey::of(&key(i)),
                node: PartyKey::of(&key(10 + i)),
                peer_address: format!("127.0.0.1:{}", 7000 + u16::from(i)),
            })
            .collect();
        let genesis = Genesis {
            version,
            faults: (version >= 7).then_some(1),
            ..Genesis::new("statements", members, 2, "EBL", 1).expect("genesis")
        };
        Registry::new(&genesis)
    }

    fn statement(registry: &Registry) -> BillStatement {
        let holder = PartyId(*Hash::of(b"holder").as_bytes());
        BillStatement {
            chain: registry.head(),
            bill: Hash::of(b"bill"),
            head: Hash::of(b"head"),
            transactions: 3,
            possessor: holder,
            title: Title::Order {
                endorsee: holder,
                may_endorse: true,
            },
            pledge: None,
            status: Status::Issued,
            height: 9,
            block: Hash::of(b"block 9"),
            time_ms: 1_700_000_000_000,
        }
    }

    fn signed_by(
        registry: &Registry,
        nodes: &[u8],
        binding: StatementBinding,
    ) -> CertifiedStatement {
        let mut certified = CertifiedStatement::new(statement(registry));
        for seed in nodes {
            let signature = binding.sign(&certified.statement, &key(*seed));
            assert!(certified.add(signature, binding));
        }
        certified
    }

    #[test]
    fn from_format_7_a_statement_needs_the_finality_quorum_of_member_nodes() {
        let registry = registry(7);
        let bound = StatementBinding::under(&registry, 9);
        assert_eq!(bound, StatementBinding::Registry(registry.head()));
        assert_eq!(
            signed_by(&registry, &[11, 12], bound).check(&registry),
            Err(Error::StatementUncertified {
                height: 9,
                have: 2,
                need: 3
            })
        );
        assert_eq!(
            signed_by(&registry, &[11, 12, 13], bound).check(&registry),
            Ok(vec![
                "Member 1".to_owned(),
                "Member 2".to_owned(),
                "Member 3".to_owned()
            ])
        );
    }

    /// Before format 7 one member's node vouches, as every earlier release checked it: bundles written
    /// then still verify.
    #[test]
    fn before_format_7_one_member_node_signs_in_the_first_context() {
        let registry = registry(6);
        assert_eq!(
            StatementBinding::under(&registry, 9),
            StatementBinding::Unbound
        );
        let one = statement(&registry).sign(&key(12));
        let certified = CertifiedStatement::of_one(one);
        assert_eq!(certified.check(&registry), Ok(vec!["Member 2".to_owned()]));
    }

    /// Finding 4 of the attack review: a removed member's node kept signing statements with fresh times,
    /// and one of them in a bundle made before the removal passed for the bill now. From format 7 a
    /// lone node's statement, however fresh, is not enough.
    #[test]
    fn regression_one_nodes_statement_alone_is_refused_from_format_7() {
        let registry = registry(7);
        let bound = StatementBinding::under(&registry, 9);
        let lone = signed_by(&registry, &[13], bound);
        assert_eq!(
            lone.check(&registry).map_err(|e| e.code()),
            Err("statement_uncertified")
        );
        // Nor in the first context, as an earlier release's node signed it.
        let old_style = CertifiedStatement::of_one(statement(&registry).sign(&key(13)));
        assert!(old_style.check(&registry).is_err());
    }

    /// Finding 5 of the attack review: leaving a registry entry out of a bundle (a member's removal)
    /// let a removed member's signature count again. From format 7 the signatures are bound to the
    /// registry head they were made under: against a registry cut short they do not verify.
    #[test]
    fn regression_signatures_made_under_another_registry_do_not_verify() {
        let registry = registry(7);
        let elsewhere = StatementBinding::Registry(Hash::of(b"the registry after a removal"));
        let certified = signed_by(&registry, &[11, 12, 13], elsewhere);
        assert!(matches!(
            certified.check(&registry),
            Err(Error::BadSignature { .. })
        ));
    }

    #[test]
    fn signatures_of_non_members_and_twice_by_one_node_do_not_count() {
        let registry = registry(7);
        let bound = StatementBinding::under(&registry, 9);
        let mut certified = signed_by(&registry, &[11, 12], bound);
        let again = bound.sign(&certified.statement, &key(11));
        assert!(!certified.add(again.clone(), bound), "refused by add");
        // Smuggled past `add`: still two signers.
        certified.signatures.push(again);
        assert_eq!(
            certified.check(&registry).map_err(|e| e.code()),
            Err("statement_uncertified")
        );
        let stranger = signed_by(&registry, &[11, 12, 99], bound);
        assert_eq!(stranger.check(&registry), Err(Error::NotNode));
    }
}
