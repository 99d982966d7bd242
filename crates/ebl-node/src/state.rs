//! What readers see: the ledger state as of the last durable block, never ahead of the disk.

use ebl_core::api::Head;
use ebl_core::{Ledger, SignedBlockHeader};

/// The published state. The sequencer updates it only after a block is synced, so nothing a reader sees
/// can be lost in a crash.
#[derive(Debug)]
pub struct Published {
    pub ledger: Ledger,
    pub head: Option<SignedBlockHeader>,
    /// Transactions on the ledger in all.
    pub transactions: u64,
}

impl Published {
    pub fn head_view(&self) -> Head {
        match &self.head {
            Some(h) => Head {
                chain: self.ledger.chain_id(),
                height: h.header.height,
                block: h.header.hash(),
                time_ms: h.header.time_ms,
                transactions: self.transactions,
            },
            None => Head {
                chain: self.ledger.chain_id(),
                height: 0,
                block: self.ledger.chain_id(),
                time_ms: self.ledger.genesis().time_ms,
                transactions: 0,
            },
        }
    }
}
