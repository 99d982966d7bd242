//! Collecting finality certificates: this node's own signature over each block it applied, and the
//! other member nodes' signatures over the same header, asked for when a reader needs the block and
//! this node holds fewer than the threshold. Each signature is checked before it is kept.

use std::time::Duration;

use ebl_core::{codec, Certificate};
use ebl_store::{Kv, LedgerStore, StoreError};
use serde::{Deserialize, Serialize};

use super::peer::{PeerClient, PATH_CERTIFICATE, PEER_MESSAGE_BYTES_MAX};
use crate::state::Published;

/// What a node does on finding that the cluster finalised another block than its own at a height.
#[derive(Debug, Clone)]
pub struct ForkWatch {
    pub halted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub evidence: std::path::PathBuf,
}

impl ForkWatch {
    fn diverged(&self, ours: &Certificate, theirs: &Certificate) {
        self.halted.store(true, std::sync::atomic::Ordering::SeqCst);
        let height = ours.header.height;
        let path = self.evidence.join(format!("diverged-{height}.bin"));
        let written = std::fs::create_dir_all(&self.evidence)
            .and_then(|()| std::fs::write(&path, codec::encode(&(ours, theirs))));
        tracing::error!(
            height,
            evidence = %path.display(),
            written = written.is_ok(),
            "halted: the member nodes finalised another block at this height than the one this node applied"
        );
    }
}

/// How long one peer may take to hand over its signatures.
const ASK_TIMEOUT_MS: u64 = 2_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CertificateRequest {
    pub height: u64,
}

/// This node's certificate of the stored block at `height`: what it collected, and its own signature.
pub(crate) fn local<K: Kv>(
    store: &LedgerStore<K>,
    height: u64,
) -> Result<Option<Certificate>, StoreError> {
    let Some(block) = store.block(height)? else {
        return Ok(None);
    };
    let mut certificate = match store.certificate(height)? {
        Some(c) if c.header == block.header.header => c,
        _ => Certificate::of(&block.header),
    };
    certificate.add(&block.header);
    Ok(Some(certificate))
}

/// [`local`], completed from the other member nodes when it holds fewer signatures than there are
/// members (blocking: call off the async threads). Peers that do not answer are passed over: the
/// threshold, not every member, makes a block final.
pub(crate) fn collect<K: Kv>(
    store: &LedgerStore<K>,
    published: &std::sync::RwLock<Published>,
    client: &PeerClient,
    height: u64,
    fork: &ForkWatch,
) -> Result<Option<Certificate>, StoreError> {
    let Some(mut certificate) = local(store, height)? else {
        return Ok(None);
    };
    let registry = match published.read() {
        Ok(p) => p.ledger.registry().clone(),
        Err(poisoned) => poisoned.into_inner().ledger.registry().clone(),
    };
    let members = registry.members().to_vec();
    let before = certificate.signatures.len();
    let body = codec::encode(&CertificateRequest { height });
    for member in &members {
        if certificate
            .signatures
            .iter()
            .any(|s| s.signer == member.node)
        {
            continue;
        }
        let answer = client.post(
            &member.peer_address,
            &member.node,
            PATH_CERTIFICATE,
            &body,
            Duration::from_millis(ASK_TIMEOUT_MS),
        );
        let theirs: Certificate = match answer
            .map_err(|e| e.to_string())
            .and_then(|b| codec::decode(&b, PEER_MESSAGE_BYTES_MAX).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(peer = %member.peer_address, error = %e, "a peer gave no signatures");
                continue;
            }
        };
        if theirs.header != certificate.header {
            // A final block at this height that is not this node's: this node applied something the
            // cluster did not (a leader sent it another proposal). It stops, keeping both headers.
            if theirs.check_final(&registry).is_ok() {
                fork.diverged(&certificate, &theirs);
            }
            continue;
        }
        // Only signatures over this node's own header count; `add` checks each one.
        for signature in &theirs.signatures {
            if let Some(signed) = theirs.signed_by(&signature.signer) {
                certificate.add(&signed);
            }
        }
    }
    if certificate.signatures.len() > before {
        store.write_certificate(&certificate)?;
    }
    Ok(Some(certificate))
}
