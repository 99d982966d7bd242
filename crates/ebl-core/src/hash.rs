//! SHA-256 digests as a value type, with the hex form people read and the raw form the codec writes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::bytes;
use crate::error::Error;

/// A SHA-256 digest. Ids of chains, transactions, bills and blocks are all hashes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash, used only where a link has nothing to point at.
    pub const ZERO: Hash = Hash([0; 32]);

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }

    /// SHA-256 over several parts fed in order, without concatenating them first.
    pub fn of_parts(parts: &[&[u8]]) -> Hash {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Hash(hasher.finalize().into())
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        bytes::to_hex(&self.0)
    }

    /// The first 8 hex digits, for people scanning a timeline.
    pub fn short(&self) -> String {
        bytes::to_hex(&self.0[..4])
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        bytes::from_hex::<32>(s)
            .map(Hash)
            .ok_or(Error::MalformedHex {
                what: "hash",
                expected_bytes: 32,
            })
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        bytes::serialize_fixed(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bytes::deserialize_fixed::<32, D>(d).map(Hash)
    }
}
