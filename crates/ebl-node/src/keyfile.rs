//! The node's own key on disk: 32 bytes of seed as hex, readable by the owner only (mode 0600).

use std::path::Path;

use ebl_core::{bytes, SigningKey};

use crate::node::NodeError;

/// A new ed25519 key from the operating system's randomness.
pub fn generate() -> Result<SigningKey, NodeError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(NodeError::NoRandomness)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `key`'s seed as hex to a new file, 0600 from its creation; an existing file is never replaced.
pub fn write(path: &Path, key: &SigningKey) -> Result<(), NodeError> {
    let hex = zeroize::Zeroizing::new(bytes::to_hex(&key.to_bytes()));
    crate::private::write_new(path, hex.as_bytes())
        .map_err(|e| NodeError::io(format!("writing {}", path.display()), e))
}

/// Reads a key written by `keyfile::write` (64 hex digits, surrounding whitespace allowed).
pub fn read(path: &Path) -> Result<SigningKey, NodeError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| NodeError::io(format!("reading {}", path.display()), e))?;
    let seed =
        bytes::from_hex::<32>(text.trim()).ok_or_else(|| NodeError::BadKeyFile(path.to_owned()))?;
    Ok(SigningKey::from_bytes(&seed))
}
