//! What readers see: the ledger state as of the last durable block, never ahead of the disk.

use ebl_core::api::Head;
use std::collections::BTreeSet;

use ebl_core::{BillId, Ledger, SignedBlockHeader};

/// The published state. The sequencer updates it only after a block is synced, so nothing a reader sees
/// can be lost in a crash.
#[derive(Debug)]
pub struct Published {
    /// The ledger as of the head.
    pub ledger: Ledger,
    /// The last durable block's signed header (none before the first block).
    pub head: Option<SignedBlockHeader>,
    /// Transactions on the ledger in all.
    pub transactions: u64,
    /// The bills offered to other platforms until their signed answer settles them (`SENDING_OUT`,
    /// `DISPUTED`) as of this state: what the PINT sender works through, kept here so it never scans
    /// every bill.
    pub sending: BTreeSet<BillId>,
}

impl Published {
    /// The state readers see of `ledger`, which was loaded from the store (one pass over its bills
    /// finds those being sent).
    pub fn new(ledger: Ledger, head: Option<SignedBlockHeader>, transactions: u64) -> Published {
        let sending = ledger
            .bills()
            .filter(|b| b.status.awaits_answer())
            .map(|b| b.id)
            .collect();
        Published {
            ledger,
            head,
            transactions,
            sending,
        }
    }

    /// The head as the API shows it.
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
