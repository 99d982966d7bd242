//! Ed25519 public keys of parties (weak keys refused on construction) and signatures, verified strictly.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bytes;
use crate::error::{Error, Result};

/// A party's ed25519 public key. Construction refuses encodings that are not points and small-order
/// ("weak") points, for which a signature can verify under many messages.
#[derive(Clone, Copy)]
pub struct PartyKey {
    bytes: [u8; 32],
    key: VerifyingKey,
}

/// Most keys remembered as already checked (see [`PartyKey::from_bytes`]).
pub const CHECKED_KEYS_MAX: usize = 4096;

/// Keys already decompressed and found not weak. A ledger has few parties and every transaction names
/// its signers' keys, so the same few keys are decoded again and again; decompressing one costs about a
/// fifth of a signature check. Only keys that passed both checks enter, so the memo cannot admit what
/// the checks refuse. A pure function's memo, not state: results are the same with or without it.
static CHECKED_KEYS: std::sync::RwLock<Option<std::collections::HashMap<[u8; 32], VerifyingKey>>> =
    std::sync::RwLock::new(None);

impl PartyKey {
    /// A key from its 32 bytes: refuses a point that is not on the curve, or of small order.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<PartyKey> {
        if let Ok(known) = CHECKED_KEYS.read() {
            if let Some(key) = known.as_ref().and_then(|m| m.get(&bytes)) {
                return Ok(PartyKey { bytes, key: *key });
            }
        }
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| Error::InvalidKey)?;
        if key.is_weak() {
            return Err(Error::WeakKey);
        }
        if let Ok(mut known) = CHECKED_KEYS.write() {
            let map = known.get_or_insert_with(std::collections::HashMap::new);
            // Bounded: when full, start over rather than grow (a miss only costs the decompression).
            if map.len() >= CHECKED_KEYS_MAX {
                map.clear();
            }
            map.insert(bytes, key);
        }
        Ok(PartyKey { bytes, key })
    }

    /// The public key of a signing key.
    pub fn of(signing: &SigningKey) -> PartyKey {
        let key = signing.verifying_key();
        PartyKey {
            bytes: key.to_bytes(),
            key,
        }
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        bytes::to_hex(&self.bytes)
    }

    /// Verifies with `verify_strict`: non-canonical and small-order components are refused, so exactly one
    /// signature form is accepted where the batch verifier might accept others.
    pub fn verify(&self, message: &[u8], signature: &SignatureBytes) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.key.verify_strict(message, &sig).is_ok()
    }
}

impl PartialEq for PartyKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PartyKey {}
impl PartialOrd for PartyKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PartyKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
impl std::hash::Hash for PartyKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl fmt::Display for PartyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PartyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartyKey({})", self.to_hex())
    }
}

impl FromStr for PartyKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let raw = bytes::from_hex::<32>(s).ok_or(Error::MalformedHex {
            what: "public key",
            expected_bytes: 32,
        })?;
        PartyKey::from_bytes(raw)
    }
}

impl Serialize for PartyKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        bytes::serialize_fixed(&self.bytes, s)
    }
}

impl<'de> Deserialize<'de> for PartyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = bytes::deserialize_fixed::<32, D>(d)?;
        PartyKey::from_bytes(raw).map_err(serde::de::Error::custom)
    }
}

/// The 64 bytes of an ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureBytes(pub [u8; 64]);

impl fmt::Debug for SignatureBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignatureBytes({})", bytes::to_hex(&self.0))
    }
}

impl fmt::Display for SignatureBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bytes::to_hex(&self.0))
    }
}

impl Serialize for SignatureBytes {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        bytes::serialize_fixed(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for SignatureBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        bytes::deserialize_fixed::<64, D>(d).map(SignatureBytes)
    }
}

/// Signs `context || chain || body`: the fixed context string keeps a signature made for one purpose
/// (a transaction, a block, a status statement, an HTTP request) from being replayed as another.
pub fn sign_in_context(
    key: &SigningKey,
    context: &[u8],
    chain: &[u8; 32],
    body: &[u8],
) -> SignatureBytes {
    let message = signing_message(context, chain, body);
    SignatureBytes(key.sign(&message).to_bytes())
}

/// Verifies a signature made by [`sign_in_context`].
pub fn verify_in_context(
    key: &PartyKey,
    context: &[u8],
    chain: &[u8; 32],
    body: &[u8],
    signature: &SignatureBytes,
) -> bool {
    key.verify(&signing_message(context, chain, body), signature)
}

/// Verifies a node's signature over an encoded value (a block header, a status statement), as a typed
/// error naming the key.
pub fn verify_value<T: serde::Serialize>(
    key: &PartyKey,
    context: &[u8],
    chain: &[u8; 32],
    value: &T,
    signature: &SignatureBytes,
) -> Result<()> {
    if verify_in_context(key, context, chain, &crate::codec::encode(value), signature) {
        Ok(())
    } else {
        Err(Error::BadSignature {
            signer: key.to_hex(),
        })
    }
}

fn signing_message(context: &[u8], chain: &[u8; 32], body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(context.len() + 32 + body.len());
    message.extend_from_slice(context);
    message.extend_from_slice(chain);
    message.extend_from_slice(body);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PartyKey::from_bytes(identity).err(), Some(Error::WeakKey));
        // A point of order 2: y = -1.
        let mut order_two = [0xffu8; 32];
        order_two[0] = 0xec;
        order_two[31] = 0x7f;
        assert_eq!(PartyKey::from_bytes(order_two).err(), Some(Error::WeakKey));
    }

    #[test]
    fn the_memo_of_checked_keys_changes_no_answer() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        // Not a point (y = 2 has no x on the curve), weak, and valid, each asked twice and more.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        let valid = SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes();
        for _ in 0..3 {
            assert_eq!(PartyKey::from_bytes(identity).err(), Some(Error::WeakKey));
            assert_eq!(
                PartyKey::from_bytes(not_a_point).err(),
                Some(Error::InvalidKey)
            );
            let key = PartyKey::from_bytes(valid).expect("valid");
            assert_eq!(key.as_bytes(), &valid);
            assert_eq!(
                key.key.to_bytes(),
                valid,
                "the memo returns the key it checked"
            );
        }
        // Past the bound, the memo starts over and still answers the same.
        for seed in 0..=u32::try_from(CHECKED_KEYS_MAX).expect("small") {
            let mut s = [0u8; 32];
            s[..4].copy_from_slice(&seed.to_le_bytes());
            let key = SigningKey::from_bytes(&s).verifying_key().to_bytes();
            PartyKey::from_bytes(key).expect("valid");
        }
        assert!(
            CHECKED_KEYS
                .read()
                .map_or(0, |m| m.as_ref().map_or(0, |m| m.len()))
                <= CHECKED_KEYS_MAX
        );
        assert_eq!(PartyKey::from_bytes(identity).err(), Some(Error::WeakKey));
    }

    #[test]
    fn a_real_key_is_accepted_and_verifies() {
        let signing = SigningKey::from_bytes(&[7; 32]);
        let key = PartyKey::from_bytes(signing.verifying_key().to_bytes()).expect("valid key");
        let sig = sign_in_context(&signing, b"ctx", &[1; 32], b"body");
        assert!(verify_in_context(&key, b"ctx", &[1; 32], b"body", &sig));
        assert!(!verify_in_context(&key, b"ctx2", &[1; 32], b"body", &sig));
        assert!(!verify_in_context(&key, b"ctx", &[2; 32], b"body", &sig));
    }
}
