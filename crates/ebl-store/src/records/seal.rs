//! What every record is sealed with: SHA-256 over key and bytes for chain records, HMAC-SHA-256 under
//! the node's `SealKey` for checkpointed states, checked on every read.

use super::*;

/// The secret the bill and party states of a checkpoint are sealed with (HMAC-SHA-256 over key and
/// bytes), so that a rewritten state record (a pledge turned back to issued, another possessor) is
/// refused at start, not served: anyone can recompute a plain checksum, nobody without the node's
/// secret this one. Blocks and transactions need no secret: their hashes and signatures are checked
/// against the chain.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl SealKey {
    /// The seal key a node derives from a secret of its own (its node key's seed), under a domain of
    /// its own so the derived key is good for nothing else.
    pub fn derive(secret: &[u8]) -> SealKey {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"ebl-store/checkpoint-seal/1\n");
        hasher.update(secret);
        SealKey(hasher.finalize().into())
    }

    /// The key of a store opened without one (tests and inspection tools); a node brings its own.
    pub fn unkeyed() -> SealKey {
        SealKey([0; 32])
    }
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

/// The error for a record whose check does not hold: the keyed seal of a state, or a chain record's
/// checksum.
pub(super) fn seal_broken(what: &'static str, key: &[u8]) -> StoreError {
    if is_state_record(key) {
        StoreError::StateSealMismatch {
            what,
            key: to_hex(key),
        }
    } else {
        StoreError::Corrupt {
            what,
            key: to_hex(key),
            reason: "checksum mismatch".into(),
        }
    }
}

/// Whether a record is part of a state checkpoint (keyed seal) rather than of the chain.
pub(super) fn is_state_record(k: &[u8]) -> bool {
    matches!(k.first(), Some(&BILL) | Some(&PARTY))
        || k == REGISTRY_HEAD
        || k == FORMATS
        || k == STATE_HEIGHT
}

/// The 32-byte check a record carries: a keyed MAC for checkpoint states, SHA-256 for the rest.
pub(super) fn check_of(seal: &SealKey, key: &[u8], payload: &[u8]) -> [u8; 32] {
    if is_state_record(key) {
        use hmac::Mac;
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&seal.0) else {
            // HMAC takes a key of any length; a 32-byte one cannot be refused.
            return [0; 32];
        };
        mac.update(&(key.len() as u64).to_be_bytes());
        mac.update(key);
        mac.update(payload);
        mac.finalize().into_bytes().into()
    } else {
        *Hash::of_parts(&[key, payload]).as_bytes()
    }
}

/// Seals a record: its bytes, then SHA-256 over key and bytes, so a record that was altered, or moved to
/// another key, fails its check.
pub(super) fn seal(seal: &SealKey, key: &[u8], payload: Vec<u8>) -> Vec<u8> {
    let check = check_of(seal, key, &payload);
    let mut out = payload;
    out.extend_from_slice(&check);
    out
}

/// A record sealed as a store without the node's secret would seal it (the unkeyed seal): what a forger
/// can write. For the tests that prove a node refuses it.
#[cfg(feature = "fault")]
pub fn seal_unkeyed(key: &[u8], payload: Vec<u8>) -> Vec<u8> {
    seal(&SealKey::unkeyed(), key, payload)
}

pub(super) fn unseal<T: DeserializeOwned>(
    seal: &SealKey,
    what: &'static str,
    key: &[u8],
    sealed: &[u8],
) -> Result<T> {
    let payload = unsealed_payload(seal, what, key, sealed)?;
    codec::decode(payload, RECORD_BYTES_MAX).map_err(|e| StoreError::Corrupt {
        what,
        key: to_hex(key),
        reason: e.to_string(),
    })
}

/// A record's payload, its seal checked.
pub(super) fn unsealed_payload<'a>(
    seal: &SealKey,
    what: &'static str,
    key: &[u8],
    sealed: &'a [u8],
) -> Result<&'a [u8]> {
    if sealed.len() < 32 {
        return Err(StoreError::Corrupt {
            what,
            key: to_hex(key),
            reason: "record shorter than its checksum".into(),
        });
    }
    let (payload, check) = sealed.split_at(sealed.len() - 32);
    if check_of(seal, key, payload) != check {
        return Err(seal_broken(what, key));
    }
    Ok(payload)
}

impl<K: Kv> LedgerStore<K> {
    /// Checks the seal of every stored record, reachable from the head or not, and every page of the
    /// id index's runs; returns how many records and index entries.
    pub fn check_seals(&self) -> Result<usize> {
        let indexed = self.index()?.check()?;
        let entries = self.kv.scan(&[])?;
        for (k, v) in &entries {
            let ok = v.len() >= 32 && {
                let (payload, check) = v.split_at(v.len() - 32);
                check_of(&self.seal, k, payload) == check
            };
            if !ok {
                return Err(seal_broken("record", k));
            }
        }
        Ok(entries.len() + usize::try_from(indexed).unwrap_or(usize::MAX))
    }
}
