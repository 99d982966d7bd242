//! The head witness: the height and hash of the last synced block, kept outside the key-value data, so
//! a store that lost synced blocks is caught at open.

use super::*;

impl<K: Kv> LedgerStore<K> {
    /// Records, durably and outside the key-value data, that the block at `height` with `hash` was
    /// acknowledged. Call after [`LedgerStore::sync`], before acknowledging.
    pub fn record_witness(&self, height: u64, hash: Hash) -> Result<()> {
        let mut bytes = Vec::with_capacity(WITNESS_BYTES);
        bytes.extend_from_slice(&height.to_le_bytes());
        bytes.extend_from_slice(hash.as_bytes());
        let check = Hash::of(&bytes);
        bytes.extend_from_slice(check.as_bytes());
        self.kv.write_witness(&bytes)
    }

    /// The last acknowledged head, if any was recorded.
    pub fn witness(&self) -> Result<Option<(u64, Hash)>> {
        let Some(bytes) = self.kv.read_witness()? else {
            return Ok(None);
        };
        let corrupt = || StoreError::Corrupt {
            what: "witness",
            key: "head witness".into(),
            reason: "the record of the last acknowledged block is damaged".into(),
        };
        if bytes.len() != WITNESS_BYTES || Hash::of(&bytes[..40]).as_bytes() != &bytes[40..] {
            return Err(corrupt());
        }
        let height = u64::from_le_bytes(bytes[..8].try_into().map_err(|_| corrupt())?);
        let hash = Hash(bytes[8..40].try_into().map_err(|_| corrupt())?);
        Ok(Some((height, hash)))
    }

    /// Checks that every acknowledged block is still stored: the store did not silently lose its tail.
    pub fn check_witness(&self) -> Result<()> {
        let Some((height, hash)) = self.witness()? else {
            return Ok(());
        };
        let truncated = |reason: String| StoreError::Truncated { height, reason };
        if self.height()? < height {
            return Err(truncated(format!(
                "block {height} was acknowledged but the store ends at {}: it lost its tail",
                self.height()?
            )));
        }
        match self.block(height)? {
            Some(b) if b.header.header.hash() == hash => Ok(()),
            _ => Err(truncated(format!(
                "block {height} is not the one that was acknowledged"
            ))),
        }
    }
}
