//! Collecting finality certificates: this node's own signature over each block it applied, and the
//! other member nodes' signatures over the same header, asked for when a reader needs the block and
//! this node holds fewer than the threshold. Each signature is checked before it is kept.

use std::time::Duration;

use ebl_core::format::FormatSchedule;
use ebl_core::{codec, Certificate, Hash, HeaderBinding};
use ebl_store::{Kv, LedgerStore, StoreError};
use serde::{Deserialize, Serialize};

use super::peer::{PeerClient, PATH_CERTIFICATE};
use crate::state::Published;

/// What a node does on finding that the cluster finalised another block than its own at a height.
#[derive(Debug, Clone)]
pub struct ForkWatch {
    /// Set when a fork is found: the node orders and applies nothing more.
    pub halted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Where both headers are kept.
    pub evidence: std::path::PathBuf,
}

impl ForkWatch {
    /// Writes `ours` and `theirs` to `evidence/<kind>-<height>.bin`; where, and whether it was written.
    fn keep(
        &self,
        kind: &str,
        ours: &Certificate,
        theirs: &Certificate,
    ) -> (std::path::PathBuf, bool) {
        let path = self
            .evidence
            .join(format!("{kind}-{}.bin", ours.header.height));
        let written = std::fs::create_dir_all(&self.evidence)
            .and_then(|()| std::fs::write(&path, codec::encode(&(ours, theirs))));
        (path, written.is_ok())
    }

    /// Another member node signed another header at a height this node applied, not (yet) final: the
    /// leader sent the two of them different proposals, or one node is faulty. Neither block can be
    /// final (any two quorums share an honest signer); this node keeps both headers as evidence and
    /// goes on, since it cannot tell which of the others lied.
    fn equivocation(&self, ours: &Certificate, theirs: &Certificate) {
        let height = ours.header.height;
        if self
            .evidence
            .join(format!("equivocation-{height}.bin"))
            .exists()
        {
            return;
        }
        let (path, written) = self.keep("equivocation", ours, theirs);
        tracing::error!(
            height,
            evidence = %path.display(),
            written,
            "another member node signed another block at this height than the one this node applied: kept as evidence"
        );
    }

    fn diverged(&self, ours: &Certificate, theirs: &Certificate) {
        self.halted.store(true, std::sync::atomic::Ordering::SeqCst);
        let (path, written) = self.keep("diverged", ours, theirs);
        tracing::error!(
            height = ours.header.height,
            evidence = %path.display(),
            written,
            "halted: the member nodes finalised another block at this height than the one this node applied"
        );
    }
}

/// What a peer's answer to a certificate request is, against this node's certificate of the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Signatures over this node's own header: they count.
    Signatures,
    /// Another chain's or another height's certificate: no answer to the question (finding 1 of the
    /// attack review: a genuine final certificate of another height was taken for a fork, and the
    /// asking node halted after one ordinary `bill issue`).
    Unrelated,
    /// Another header at this height, not final: nothing to act on.
    NotFinal,
    /// Another header at this height, final by the registry: the cluster finalised a block this node
    /// did not apply.
    Fork,
}

fn judge(
    ours: &Certificate,
    theirs: &Certificate,
    registry: &ebl_core::Registry,
    binding: HeaderBinding,
) -> Answer {
    if theirs.header.chain != ours.header.chain || theirs.header.height != ours.header.height {
        Answer::Unrelated
    } else if theirs.header == ours.header {
        Answer::Signatures
    } else if theirs.check_final_bound(registry, binding).is_ok() {
        Answer::Fork
    } else {
        Answer::NotFinal
    }
}

/// How long one peer may take to hand over its signatures.
const ASK_TIMEOUT_MS: u64 = 2_000;

/// A peer's request for this node's signatures over the block at a height.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateRequest {
    /// The block's height.
    pub height: u64,
}

/// What a node needs to know how the members signed the block at a height: the chain, and the
/// registry's head and formats as this node holds them now (cheap to copy, unlike the registry).
#[derive(Debug, Clone)]
pub struct RegistryNow {
    /// The chain id.
    pub chain: Hash,
    /// The registry's head now.
    pub head: Hash,
    /// The chain's formats by height.
    pub formats: FormatSchedule,
}

impl RegistryNow {
    /// What `ledger` holds now.
    pub fn of(ledger: &ebl_core::Ledger) -> RegistryNow {
        RegistryNow {
            chain: ledger.chain_id(),
            head: ledger.registry().head(),
            formats: ledger.registry().formats().clone(),
        }
    }

    /// How the block at `height` is signed: before chain format 5 the header alone; from it, bound to
    /// the registry head before the block, found in the store.
    pub fn binding<K: Kv>(
        &self,
        store: &LedgerStore<K>,
        height: u64,
    ) -> Result<HeaderBinding, StoreError> {
        let format = self.formats.at(height);
        if format < ebl_core::format::FORMAT_HEADERS_BOUND {
            return Ok(HeaderBinding::Unbound);
        }
        let head = store.registry_head_before(self.head, self.chain, height)?;
        Ok(HeaderBinding::of(format, head))
    }
}

/// The consortium as the registry stood before the block at `height`: the consortium's changes below
/// it replayed on the genesis, as a bank's verifier replays them (`Bundle::verify`). Its member nodes
/// are the only ones whose signatures a certificate of that block may hold: a node admitted later that
/// signed it would make the certificate `not_node` to every verifier (issue 35: after a fourth member
/// joined, every bank's proof of a bill from before the join was INVALID).
pub fn consortium_before<K: Kv>(
    store: &LedgerStore<K>,
    registry: &RegistryNow,
    height: u64,
) -> Result<ebl_core::Registry, StoreError> {
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    let mut ledger = ebl_core::Ledger::for_registry_extract(genesis);
    for stored in store.consortium_before(registry.head, registry.chain, height)? {
        let time_ms = store
            .block(stored.height)?
            .map_or(0, |b| b.header.header.time_ms);
        ledger.set_block(stored.height, time_ms);
        // Ordered once already: replayed as it was applied, as a bank's verifier replays it (which
        // passes over a change that does not replay, and so does this).
        if let Err(e) = ledger.apply(&stored.tx, ebl_core::Signatures::AlreadyVerified) {
            tracing::warn!(tx = %stored.tx.id(), error = %e, "a consortium change does not replay");
        }
    }
    Ok(ledger.registry().clone())
}

/// This node's certificate of the stored block at `height`: what it collected, and its own signature,
/// each only from a member node as the registry stood before the block ([`consortium_before`]).
pub fn local<K: Kv>(
    store: &LedgerStore<K>,
    registry: &RegistryNow,
    height: u64,
) -> Result<Option<Certificate>, StoreError> {
    let before = consortium_before(store, registry, height)?;
    certificate_of(store, registry, &before, height)
}

/// [`local`], with the consortium before the block already replayed (`before`).
fn certificate_of<K: Kv>(
    store: &LedgerStore<K>,
    registry: &RegistryNow,
    before: &ebl_core::Registry,
    height: u64,
) -> Result<Option<Certificate>, StoreError> {
    let Some(block) = store.block(height)? else {
        return Ok(None);
    };
    let member = |key: &ebl_core::PartyKey| before.member_by_node(key).is_some();
    let mut certificate = match store.certificate(height)? {
        Some(c) if c.header == block.header.header => c,
        _ => Certificate::of(&block.header),
    };
    certificate.signatures.retain(|s| member(&s.signer));
    if member(&block.header.signer) {
        certificate.add(&block.header, registry.binding(store, height)?);
    }
    Ok(Some(certificate))
}

/// [`local`], completed from the other member nodes until it is final (blocking: call off the async
/// threads). Peers that do not answer are passed over: the finality quorum, not every member, makes a
/// block final.
pub fn collect<K: Kv>(
    store: &LedgerStore<K>,
    published: &std::sync::RwLock<Published>,
    client: &PeerClient,
    height: u64,
    fork: &ForkWatch,
) -> Result<Option<Certificate>, StoreError> {
    let now = match published.read() {
        Ok(p) => RegistryNow::of(&p.ledger),
        Err(poisoned) => RegistryNow::of(&poisoned.into_inner().ledger),
    };
    // The members who could sign the block, and its finality rule, are those before it.
    let registry = consortium_before(store, &now, height)?;
    let binding = now.binding(store, height)?;
    let Some(mut certificate) = certificate_of(store, &now, &registry, height)? else {
        return Ok(None);
    };
    let members = registry.members().to_vec();
    let before = certificate.signatures.len();
    // From chain format 6 a final certificate has an honest signer in common with any other final
    // one at its height, so once this node's is final no other header there can be: it need ask no
    // further. Before it, two headers at one height could both be final, and only asking every member
    // finds the other (a fork: this node halts).
    let quorum_rule = now.formats.at(height) >= ebl_core::format::FORMAT_FINALITY_QUORUM;
    let done = |c: &Certificate| quorum_rule && c.check_final_bound(&registry, binding).is_ok();
    if done(&certificate) {
        return Ok(Some(certificate));
    }
    // Every member lacking a signature is asked at once, and the answers are taken as they come: the
    // certificate is done as soon as it is final, without waiting out a member that is cut off (issue
    // 35: with one member unreachable a final receipt always took its 2 s timeout, asked in turn). A
    // late answer finds the channel gone and is dropped with its thread.
    let asked = members
        .iter()
        .filter(|m| !certificate.signatures.iter().any(|s| s.signer == m.node))
        .cloned()
        .collect();
    let arriving = client.ask_each::<Certificate>(
        asked,
        PATH_CERTIFICATE,
        codec::encode(&CertificateRequest { height }),
        Duration::from_millis(ASK_TIMEOUT_MS),
    );
    for (member, answer) in arriving {
        let theirs = match answer {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(peer = %member.peer_address, error = %e, "a peer gave no signatures");
                continue;
            }
        };
        match judge(&certificate, &theirs, &registry, binding) {
            Answer::Unrelated => {
                // An answer about another chain or another height answers nothing asked: a peer
                // that lies or errs is passed over, never taken for a fork.
                tracing::warn!(
                    peer = %member.peer_address,
                    asked = height,
                    answered = theirs.header.height,
                    "a peer answered a certificate request with another block's"
                );
                continue;
            }
            Answer::Fork => {
                // A final block at this height that is not this node's: this node applied something
                // the cluster did not (a leader sent it another proposal). It stops, keeping both.
                fork.diverged(&certificate, &theirs);
                continue;
            }
            Answer::NotFinal => {
                // Signed by the member that answered, over its own header: the proposer equivocated.
                let signed_by_it = theirs
                    .signed_by(&member.node)
                    .is_some_and(|signed| signed.verify(&member.node, binding).is_ok());
                if signed_by_it {
                    fork.equivocation(&certificate, &theirs);
                }
                continue;
            }
            Answer::Signatures => {}
        }
        // Only signatures over this node's own header count, each by a member node before the block
        // (a peer of an earlier release signs as one even when it was admitted later); `add` checks
        // each one.
        for signature in &theirs.signatures {
            if registry.member_by_node(&signature.signer).is_none() {
                continue;
            }
            if let Some(signed) = theirs.signed_by(&signature.signer) {
                certificate.add(&signed, binding);
            }
        }
        if done(&certificate) {
            break;
        }
    }
    if certificate.signatures.len() > before {
        store.write_certificate(&certificate)?;
    }
    Ok(Some(certificate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebl_core::testkit::Cast;
    use ebl_core::{BlockHeader, Hash, MerkleTree};

    fn final_certificate(
        chain: Hash,
        height: u64,
        seed: &[u8],
        node: &ebl_core::SigningKey,
    ) -> Certificate {
        let header = BlockHeader {
            chain,
            height,
            prev: Hash::of(seed),
            tx_root: MerkleTree::new(&[Hash::of(seed)]).root(),
            tx_count: 1,
            time_ms: height,
        };
        // The registry of these tests is the genesis's: every block is signed over its head.
        Certificate::of(&header.sign(node, HeaderBinding::of(5, bound_to())))
    }

    fn bound_to() -> Hash {
        Cast::new()
            .genesis(1_700_000_000_000)
            .expect("genesis")
            .chain_id()
    }

    /// Finding 1 of the attack review: a member answering with a genuine final certificate of another
    /// height made the asking node halt. Only another final header at the same height of the same chain
    /// is a fork.
    #[test]
    fn regression_a_final_certificate_of_another_height_is_no_fork() {
        let cast = Cast::new();
        let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
        let chain = genesis.chain_id();
        let registry = ebl_core::Registry::new(&genesis);
        let ours = final_certificate(chain, 5, b"ours", &cast.node);
        let elsewhere = final_certificate(chain, 4, b"an earlier block", &cast.node);
        assert!(elsewhere.check_final(&registry).is_ok(), "genuinely final");
        assert_eq!(
            judge(
                &ours,
                &elsewhere,
                &registry,
                HeaderBinding::of(5, bound_to())
            ),
            Answer::Unrelated
        );
        let other_chain = final_certificate(Hash::of(b"another chain"), 5, b"x", &cast.node);
        assert_eq!(
            judge(
                &ours,
                &other_chain,
                &registry,
                HeaderBinding::of(5, bound_to())
            ),
            Answer::Unrelated
        );
        assert_eq!(
            judge(
                &ours,
                &ours.clone(),
                &registry,
                HeaderBinding::of(5, bound_to())
            ),
            Answer::Signatures
        );
        let forked = final_certificate(chain, 5, b"another block at 5", &cast.node);
        assert_eq!(
            judge(&ours, &forked, &registry, HeaderBinding::of(5, bound_to())),
            Answer::Fork
        );
        let by_a_stranger =
            final_certificate(chain, 5, b"another block at 5", &ebl_core::testkit::key(99));
        assert_eq!(
            judge(
                &ours,
                &by_a_stranger,
                &registry,
                HeaderBinding::of(5, bound_to())
            ),
            Answer::NotFinal
        );
    }
}
