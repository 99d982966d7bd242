//! Finality certificates: the signatures of member nodes over one block header. Each node signs the
//! header of every block it applied itself; once the threshold of the registry at that height has
//! signed, the block is final, and a verifier trusts it without trusting any one node, not even the
//! one that served it. The one-member chain's certificate is its node's signature.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::block::{BlockHeader, SignedBlockHeader, BLOCK_CONTEXT};
use crate::error::{Error, Result};
use crate::genesis::Member;
use crate::keys::{verify_value, PartyKey, SignatureBytes};
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
    /// signature is checked here: a certificate never holds one that does not verify.
    pub fn add(&mut self, signed: &SignedBlockHeader) -> bool {
        if signed.header != self.header
            || self.signatures.iter().any(|s| s.signer == signed.signer)
            || self.signatures.len() >= SIGNATURES_MAX
            || signed.verify(&signed.signer).is_err()
        {
            return false;
        }
        self.signatures.push(NodeSignature {
            signer: signed.signer,
            signature: signed.signature,
        });
        true
    }

    /// The members whose nodes validly signed, each once, in the order of the signatures.
    pub fn signers<'a>(&self, members: &'a [Member]) -> Result<Vec<&'a Member>> {
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
            verify_value(
                &s.signer,
                BLOCK_CONTEXT,
                self.header.chain.as_bytes(),
                &self.header,
                &s.signature,
            )?;
            if seen.insert(s.signer) {
                out.push(member);
            }
        }
        Ok(out)
    }

    /// Checks the certificate against the registry as it stood before the block: at least its threshold
    /// of distinct member nodes signed. Returns the signing members' names.
    pub fn check_final(&self, registry: &Registry) -> Result<Vec<String>> {
        let signers = self.signers(registry.members())?;
        let need = usize::from(registry.threshold());
        if signers.len() < need {
            return Err(Error::NotFinal {
                height: self.header.height,
                have: signers.len(),
                need,
            });
        }
        Ok(signers.iter().map(|m| m.name.clone()).collect())
    }

    /// Every signature is its named signer's over the header (whoever the signers are: which of them
    /// are member nodes is [`Certificate::signers`]' question, against a registry).
    pub fn check_signatures(&self) -> Result<()> {
        self.signatures.iter().try_for_each(|s| {
            SignedBlockHeader {
                header: self.header.clone(),
                signer: s.signer,
                signature: s.signature,
            }
            .verify(&s.signer)
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

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::genesis::Genesis;
    use crate::hash::Hash;

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
        let genesis = Genesis::new("certificates", members, 2, "EBL", 1).expect("genesis");
        Registry::new(&genesis)
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
        let mut certificate = Certificate::of(&header().sign(&key(11)));
        assert_eq!(
            certificate.check_final(&registry),
            Err(Error::NotFinal {
                height: 4,
                have: 1,
                need: 2
            })
        );
        assert!(certificate.add(&header().sign(&key(12))));
        assert_eq!(
            certificate.check_final(&registry).expect("final"),
            ["Member 1", "Member 2"]
        );
    }

    #[test]
    fn one_node_signing_twice_counts_once() {
        let registry = registry();
        let mut certificate = Certificate::of(&header().sign(&key(11)));
        assert!(!certificate.add(&header().sign(&key(11))), "refused by add");
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
        let mut certificate = Certificate::of(&header().sign(&key(11)));
        // A node that is no member's.
        certificate.signatures.push(NodeSignature {
            signer: PartyKey::of(&key(99)),
            signature: header().sign(&key(99)).signature,
        });
        assert_eq!(certificate.check_final(&registry), Err(Error::NotNode));
        // A member's key over another header.
        let mut other = header();
        other.height = 5;
        let mut certificate = Certificate::of(&header().sign(&key(11)));
        assert!(
            !certificate.add(&other.clone().sign(&key(12))),
            "another header"
        );
        certificate.signatures.push(NodeSignature {
            signer: PartyKey::of(&key(12)),
            signature: other.sign(&key(12)).signature,
        });
        assert!(matches!(
            certificate.check_final(&registry),
            Err(Error::BadSignature { .. })
        ));
    }
}
