//! Finality certificates: the signatures of member nodes over one block header. Each node signs the
//! header of every block it applied itself; once the threshold of the registry at that height has
//! signed, the block is final, and a verifier trusts it without trusting any one node, not even the
//! one that served it. The one-member chain's certificate is its node's signature.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::block::{verify_header, BlockHeader, HeaderBinding, SignedBlockHeader};
use crate::error::{Error, Result};
use crate::genesis::Member;
use crate::keys::{PartyKey, SignatureBytes};
use crate::limits::SIGNATURES_MAX;
use crate::registry::Registry;

/// One member node's signature over a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSignature {
    /// The member node key that signed.
    pub signer: PartyKey,
    /// Its signature over the block header.
    pub signature: SignatureBytes,
}

/// A header and the member nodes' signatures over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The header the signatures are over.
    pub header: BlockHeader,
    /// One signature per member node that signed, each by a distinct member.
    pub signatures: Vec<NodeSignature>,
}

impl Certificate {
    /// The certificate one node's signed header makes on its own.
    pub fn of(signed: &SignedBlockHeader) -> Certificate {
        Certificate {
            header: signed.header.clone(),
            signatures: vec![NodeSignature {
                signer: signed.signer,
                signature: signed.signature,
            }],
        }
    }

    /// Adds another node's signature over the same header, once per signer; whether it was new. The
    /// signature is checked here, bound as `binding` says: a certificate never holds one that does not
    /// verify.
    pub fn add(&mut self, signed: &SignedBlockHeader, binding: HeaderBinding) -> bool {
        if signed.header != self.header
            || self.signatures.iter().any(|s| s.signer == signed.signer)
            || self.signatures.len() >= SIGNATURES_MAX
            || signed.verify(&signed.signer, binding).is_err()
        {
            return false;
        }
        self.signatures.push(NodeSignature {
            signer: signed.signer,
            signature: signed.signature,
        });
        true
    }

    /// The members whose nodes validly signed (bound as `binding` says), each once, in the order of
    /// the signatures.
    pub fn signers<'a>(
        &self,
        members: &'a [Member],
        binding: HeaderBinding,
    ) -> Result<Vec<&'a Member>> {
        if self.signatures.len() > SIGNATURES_MAX {
            return Err(Error::TooManySignatures {
                count: self.signatures.len(),
                max: SIGNATURES_MAX,
            });
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for s in &self.signatures {
            let member = members
                .iter()
                .find(|m| m.node == s.signer)
                .ok_or(Error::NotNode)?;
            verify_header(&s.signer, &self.header, binding, &s.signature)?;
            if seen.insert(s.signer) {
                out.push(member);
            }
        }
        Ok(out)
    }

    /// Checks the certificate against the registry as it stood before the block: at least its threshold
    /// of distinct member nodes signed, each bound as the block's chain format asks (from format 5, to
    /// this very registry's head). Returns the signing members' names.
    pub fn check_final(&self, registry: &Registry) -> Result<Vec<String>> {
        self.check_final_bound(
            registry,
            HeaderBinding::before(registry, self.header.height),
        )
    }

    /// [`Certificate::check_final`] against `registry`'s members and threshold, with the signatures'
    /// binding given: for a holder of a later registry that knows the head the block was made over.
    pub fn check_final_bound(
        &self,
        registry: &Registry,
        binding: HeaderBinding,
    ) -> Result<Vec<String>> {
        let signers = self.signers(registry.members(), binding)?;
        let need = finality_need(registry, self.header.height);
        if signers.len() < need {
            return Err(Error::NotFinal {
                height: self.header.height,
                have: signers.len(),
                need,
            });
        }
        Ok(signers.iter().map(|m| m.name.clone()).collect())
    }

    /// Every signature is its named signer's over the header, bound as `binding` says (whoever the
    /// signers are: which of them are member nodes is [`Certificate::signers`]' question, against a
    /// registry).
    pub fn check_signatures(&self, binding: HeaderBinding) -> Result<()> {
        self.signatures.iter().try_for_each(|s| {
            SignedBlockHeader {
                header: self.header.clone(),
                signer: s.signer,
                signature: s.signature,
            }
            .verify(&s.signer, binding)
        })
    }

    /// One signer's signed header, as that node stored it.
    pub fn signed_by(&self, node: &PartyKey) -> Option<SignedBlockHeader> {
        self.signatures
            .iter()
            .find(|s| s.signer == *node)
            .map(|s| SignedBlockHeader {
                header: self.header.clone(),
                signer: s.signer,
                signature: s.signature,
            })
    }
}

/// How many lying member nodes a consortium of `members` tolerates: one from three members on, and
/// one more for every three beyond (n ≥ 3f + 1 where that allows more than one); none below three,
/// where every node must sign anyway.
pub fn faults_tolerated(members: usize) -> usize {
    if members >= 3 {
        ((members - 1) / 3).max(1)
    } else {
        0
    }
}

/// The finality quorum of `members` nodes: ⌊(n+f)/2⌋+1 (at most n), so that any two sets of that many
/// signers share more than f, at least one honest node, which signs one header per height (3 of 3,
/// 3 of 4, 4 of 5, 5 of 7). One lying node then cannot make two different blocks at one height final.
pub fn finality_quorum(members: usize) -> usize {
    quorum(members, faults_tolerated(members))
}

/// The finality quorum of `members` nodes of which `faults` may lie: ⌊(n+f)/2⌋+1, at most n.
pub fn quorum(members: usize, faults: usize) -> usize {
    ((members + faults) / 2 + 1).min(members)
}

/// How many member nodes' signatures make the block at `height` final, given the registry before it:
/// the governance threshold before chain format 6, the finality quorum from it.
pub fn finality_need(registry: &Registry, height: u64) -> usize {
    if registry.formats().at(height) >= crate::format::FORMAT_FINALITY_QUORUM {
        registry.finality_quorum()
    } else {
        usize::from(registry.threshold())
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::genesis::Genesis;
    use crate::hash::Hash;
    use crate::registry::RegistryHead;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    /// Three members (admins 1-3, nodes 11-13) with threshold 2.
    fn registry() -> Registry {
        let members = (1..=3u8)
            .map(|i| Member {
                name: format!("Member {i}"),
                admin: PartyKey::of(&key(i)),
                node: PartyKey::of(&key(10 + i)),
                peer_address: format!("127.0.0.1:{}", 7000 + u16::from(i)),
            })
            .collect();
        // Format 5: final at the governance threshold (t = 2 of 3), which these tests count.
        let genesis = Genesis {
            version: 5,
            faults: None,
            ..Genesis::new("certificates", members, 2, "EBL", 1).expect("genesis")
        };
        Registry::new(&genesis)
    }

    /// The same consortium in format 6: final at the finality quorum (3 of 3).
    fn registry_6() -> Registry {
        let genesis = Genesis {
            version: 6,
            faults: None,
            ..Genesis::new("certificates", registry().members().to_vec(), 2, "EBL", 1)
                .expect("genesis")
        };
        Registry::new(&genesis)
    }

    /// How the members sign block 4 of the registry's chain (format 5: bound to its head).
    fn bound() -> HeaderBinding {
        HeaderBinding::before(&registry(), 4)
    }

    fn header() -> BlockHeader {
        BlockHeader {
            chain: Hash::of(b"chain"),
            height: 4,
            prev: Hash::of(b"prev"),
            tx_root: Hash::of(b"root"),
            tx_count: 1,
            time_ms: 5,
        }
    }

    #[test]
    fn a_block_is_final_once_the_threshold_of_member_nodes_signed_it() {
        let registry = registry();
        let mut certificate = Certificate::of(&header().sign(&key(11), bound()));
        assert_eq!(
            certificate.check_final(&registry),
            Err(Error::NotFinal {
                height: 4,
                have: 1,
                need: 2
            })
        );
        assert!(certificate.add(&header().sign(&key(12), bound()), bound()));
        assert_eq!(
            certificate.check_final(&registry).expect("final"),
            ["Member 1", "Member 2"]
        );
    }

    #[test]
    fn one_node_signing_twice_counts_once() {
        let registry = registry();
        let mut certificate = Certificate::of(&header().sign(&key(11), bound()));
        assert!(
            !certificate.add(&header().sign(&key(11), bound()), bound()),
            "refused by add"
        );
        // Smuggled past `add`: still one signer.
        certificate
            .signatures
            .push(certificate.signatures[0].clone());
        assert!(matches!(
            certificate.check_final(&registry),
            Err(Error::NotFinal { have: 1, .. })
        ));
    }

    #[test]
    fn a_stranger_or_a_forged_signature_makes_no_certificate() {
        let registry = registry();
        let mut certificate = Certificate::of(&header().sign(&key(11), bound()));
        // A node that is no member's.
        certificate.signatures.push(NodeSignature {
            signer: PartyKey::of(&key(99)),
            signature: header().sign(&key(99), bound()).signature,
        });
        assert_eq!(certificate.check_final(&registry), Err(Error::NotNode));
        // A member's key over another header.
        let mut other = header();
        other.height = 5;
        let mut certificate = Certificate::of(&header().sign(&key(11), bound()));
        assert!(
            !certificate.add(&other.clone().sign(&key(12), bound()), bound()),
            "another header"
        );
        certificate.signatures.push(NodeSignature {
            signer: PartyKey::of(&key(12)),
            signature: other.sign(&key(12), bound()).signature,
        });
        assert!(matches!(
            certificate.check_final(&registry),
            Err(Error::BadSignature { .. })
        ));
    }

    #[test]
    fn a_bound_signature_counts_only_over_the_registry_it_was_made_with() {
        let registry = registry();
        assert!(matches!(bound(), HeaderBinding::Registry(h) if h == registry.head()));
        let mut certificate = Certificate::of(&header().sign(&key(11), bound()));
        assert!(certificate.add(&header().sign(&key(12), bound()), bound()));
        assert!(certificate.check_final(&registry).is_ok());
        // A registry that ends elsewhere (an entry left out, or one added) is not the one they signed.
        let other = Registry::from_parts(
            RegistryHead {
                head: Hash::of(b"another head"),
                ..registry.state().clone()
            },
            registry.formats().clone(),
            registry.stated_faults(),
            Vec::new(),
        );
        assert!(matches!(
            certificate.check_final(&other),
            Err(Error::BadSignature { .. })
        ));
        // Signatures made the format-4 way do not count for a format-5 block, nor the reverse.
        let unbound = Certificate::of(&header().sign(&key(11), HeaderBinding::Unbound));
        assert!(matches!(
            unbound.check_final(&registry),
            Err(Error::BadSignature { .. })
        ));
        assert!(certificate
            .check_signatures(HeaderBinding::Unbound)
            .is_err());
        assert!(certificate.check_signatures(bound()).is_ok());
    }

    #[test]
    fn the_finality_quorum_leaves_any_two_certificates_an_honest_signer_in_common() {
        let table: Vec<(usize, usize, usize)> = (1..=10)
            .map(|n| (n, faults_tolerated(n), finality_quorum(n)))
            .collect();
        assert_eq!(
            table,
            [
                (1, 0, 1),
                (2, 0, 2),
                (3, 1, 3),
                (4, 1, 3),
                (5, 1, 4),
                (6, 1, 4),
                (7, 2, 5),
                (8, 2, 6),
                (9, 2, 6),
                (10, 3, 7)
            ]
        );
        // Two quorums of n overlap in 2q − n signers: more than f, so at least one honest node.
        for (n, f, q) in table {
            assert!(2 * q - n > f, "n = {n}");
        }
    }

    /// Issue 31: a leader that sends one follower P and the other P′ at one height gets each to sign a
    /// different header; with its own signature each has two of three. At the governance threshold
    /// (format 5, t = 2) both were final; at the finality quorum (format 6, 3 of 3) neither is.
    #[test]
    fn regression_a_lying_leader_cannot_make_two_blocks_at_one_height_final() {
        let mut other = header();
        other.tx_root = Hash::of(b"another block at the same height");
        let certify = |registry: &Registry, header: &BlockHeader, follower: u8| {
            let binding = HeaderBinding::before(registry, header.height);
            let mut c = Certificate::of(&header.clone().sign(&key(11), binding));
            assert!(c.add(&header.clone().sign(&key(follower), binding), binding));
            c
        };
        let five = registry();
        assert!(certify(&five, &header(), 12).check_final(&five).is_ok());
        assert!(certify(&five, &other, 13).check_final(&five).is_ok());
        let six = registry_6();
        for (h, follower) in [(header(), 12), (other, 13)] {
            assert_eq!(
                certify(&six, &h, follower).check_final(&six),
                Err(Error::NotFinal {
                    height: 4,
                    have: 2,
                    need: 3
                })
            );
        }
        // All three honest nodes over one header: final.
        let binding = HeaderBinding::before(&six, 4);
        let mut all = certify(&six, &header(), 12);
        assert!(all.add(&header().sign(&key(13), binding), binding));
        assert!(all.check_final(&six).is_ok());
    }
}
