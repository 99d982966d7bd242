//! Blocks by height with their span in the transaction log, the transactions read back from it, a bill's
//! history walked back, and finality certificates.

use super::*;

/// A block as stored: the signed header and the ids of its transactions, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlock {
    /// The header, signed by the member node that wrote the block.
    pub header: SignedBlockHeader,
    /// The block's transactions by id, in ledger order (their Merkle root is the header's).
    pub tx_ids: Vec<TxId>,
}

/// Where a block's transactions are in the log: the offset of the first, and where each one ends,
/// counted from that offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct LogSpan {
    pub(super) offset: u64,
    pub(super) ends: Vec<u32>,
}

impl LogSpan {
    /// The (offset, length) of transaction `index`.
    pub(super) fn of(&self, index: u32) -> Option<(u64, usize)> {
        let i = usize::try_from(index).ok()?;
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        let len = end.checked_sub(start)?;
        Some((self.offset + u64::from(start), len as usize))
    }

    pub(super) fn len(&self) -> usize {
        self.ends.last().map_or(0, |e| *e as usize)
    }
}

/// A block record: the block, and where its transactions are in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct BlockRecord {
    pub(super) block: StoredBlock,
    pub(super) span: LogSpan,
}

/// [`BlockRecord`]'s encoding, written from borrowed parts (the same bytes, no copy of the id list).
#[derive(Serialize)]
pub(super) struct BlockRecordRef<'a> {
    pub(super) block: &'a StoredBlock,
    pub(super) span: &'a LogSpan,
}

/// A transaction as stored, with where it sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTransaction {
    /// The height of its block.
    pub height: u64,
    /// Its place in the block.
    pub index: u32,
    /// The transaction, as signed.
    pub tx: SignedTransaction,
}

/// A block and its transactions, written together.
#[derive(Debug, Clone, Copy)]
pub struct BlockWrite<'a> {
    /// The block, whose header names its height.
    pub block: &'a StoredBlock,
    /// Its transactions, in the order of `block.tx_ids`.
    pub transactions: &'a [SignedTransaction],
}

/// [`StoredTransaction`]'s encoding, written from a borrowed transaction (the same bytes, no copy).
#[derive(Serialize)]
pub(super) struct StoredTransactionRef<'a> {
    pub(super) height: u64,
    pub(super) index: u32,
    pub(super) tx: &'a SignedTransaction,
}

/// Each transaction of a block record and where it is, for the id index.
pub(super) fn positions(record: &BlockRecord, height: u64) -> Result<Vec<(TxId, Position)>> {
    span_positions(&record.block.tx_ids, &record.span, height)
}

pub(super) fn span_positions(
    ids: &[TxId],
    span: &LogSpan,
    height: u64,
) -> Result<Vec<(TxId, Position)>> {
    ids.iter()
        .enumerate()
        .map(|(index, id)| {
            let index = within_block(index, height)?;
            let (offset, len) = span.of(index).ok_or_else(|| StoreError::Corrupt {
                what: "block",
                key: height.to_string(),
                reason: "a transaction outside its log span".into(),
            })?;
            Ok((
                *id,
                Position {
                    height,
                    index,
                    offset,
                    len: within_block(len, height)?,
                },
            ))
        })
        .collect()
}

impl<K: Kv> LedgerStore<K> {
    /// A transaction's sealed bytes from the log, checked to be the one at (`height`, `index`): a record
    /// moved to another position does not unseal as this one.
    fn unseal_transaction(
        &self,
        height: u64,
        index: u32,
        bytes: &[u8],
    ) -> Result<StoredTransaction> {
        let stored: StoredTransaction = unseal(
            &self.seal,
            "transaction",
            &transaction_key(height, index),
            bytes,
        )?;
        if stored.height != height || stored.index != index {
            return Err(StoreError::Corrupt {
                what: "transaction",
                key: to_hex(&transaction_key(height, index)),
                reason: "stored under another position".into(),
            });
        }
        Ok(stored)
    }

    /// The block at `height`, `None` above the head.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>> {
        Ok(self.block_record(height)?.map(|r| r.block))
    }

    pub(super) fn block_record(&self, height: u64) -> Result<Option<BlockRecord>> {
        let record: Option<BlockRecord> =
            self.read("block", &key(BLOCK, &[&height.to_be_bytes()]))?;
        match record {
            Some(r) if r.span.ends.len() != r.block.tx_ids.len() => Err(StoreError::Corrupt {
                what: "block",
                key: height.to_string(),
                reason: "its log span does not list one entry per transaction".into(),
            }),
            other => Ok(other),
        }
    }

    /// Reads and unseals a transaction's record from the log, and checks it sits where expected.
    pub(super) fn logged(
        &self,
        height: u64,
        index: u32,
        offset: u64,
        len: usize,
    ) -> Result<StoredTransaction> {
        let bytes = self.kv.read_log(offset, len)?;
        self.unseal_transaction(height, index, &bytes)
    }

    /// Every transaction of the block at `height`, read from the log in one piece: for replaying
    /// blocks in order. The caller checks the ids against the block's list.
    pub fn block_transactions(&self, height: u64) -> Result<Option<Vec<StoredTransaction>>> {
        let Some(record) = self.block_record(height)? else {
            return Ok(None);
        };
        let span = &record.span;
        let bytes = self.kv.read_log(span.offset, span.len())?;
        let mut out = Vec::with_capacity(span.ends.len());
        let mut start = 0usize;
        for (index, end) in span.ends.iter().enumerate() {
            let index = within_block(index, height)?;
            let end = *end as usize;
            let slice = bytes.get(start..end).ok_or_else(|| StoreError::Corrupt {
                what: "block",
                key: height.to_string(),
                reason: "its log span is out of order".into(),
            })?;
            let stored = self.unseal_transaction(height, index, slice)?;
            out.push(stored);
            start = end;
        }
        Ok(Some(out))
    }

    /// The last block, `None` while only the genesis is stored.
    pub fn head(&self) -> Result<Option<StoredBlock>> {
        match self.height()? {
            0 => Ok(None),
            h => match self.block(h)? {
                Some(b) => Ok(Some(b)),
                None => Err(StoreError::Corrupt {
                    what: "block",
                    key: h.to_string(),
                    reason: "head names a block that is not stored".into(),
                }),
            },
        }
    }

    /// A transaction by id, with where it sits; `None` if it is not stored.
    pub fn transaction(&self, id: &TxId) -> Result<Option<StoredTransaction>> {
        let Some(entry) = self.index()?.find(id)? else {
            return Ok(None);
        };
        let stored = self.logged(entry.height, entry.index, entry.offset, entry.len as usize)?;
        // The record must hold the transaction its index names.
        if stored.tx.id() != *id {
            return Err(StoreError::Corrupt {
                what: "transaction",
                key: id.to_hex(),
                reason: "stored transaction is not the one indexed".into(),
            });
        }
        Ok(Some(stored))
    }

    /// The transaction at a position, without the id index. The caller checks the id against the
    /// block's list.
    pub fn transaction_at(&self, height: u64, index: u32) -> Result<Option<StoredTransaction>> {
        let Some(record) = self.block_record(height)? else {
            return Ok(None);
        };
        let Some((offset, len)) = record.span.of(index) else {
            return Ok(None);
        };
        self.logged(height, index, offset, len).map(Some)
    }

    /// A chain of transactions in ledger order, found by following each one's `prev` back from `head`
    /// until it names `start`: a bill's history runs from its head back to its `ISSUE` or `IMPORT`
    /// (whose `prev` is zero), the registry's from its head back to the chain id. Every transaction
    /// names the head it extended (a ledger rule), so no separate history index is kept. At most `max`
    /// steps: a longer walk means the store is damaged.
    pub fn history_back(
        &self,
        head: TxId,
        start: Hash,
        max: usize,
    ) -> Result<Vec<StoredTransaction>> {
        let mut chain = Vec::new();
        let mut at = head;
        while at != start {
            if chain.len() >= max {
                return Err(StoreError::Corrupt {
                    what: "history",
                    key: head.to_hex(),
                    reason: format!("more than {max} transactions back from the head"),
                });
            }
            let stored = self.transaction(&at)?.ok_or_else(|| StoreError::Corrupt {
                what: "history",
                key: at.to_hex(),
                reason: "a transaction named as a previous head is not stored".into(),
            })?;
            at = stored.tx.body.prev;
            chain.push(stored);
        }
        chain.reverse();
        Ok(chain)
    }

    /// The registry head before the block at `height`, as of the registry head `head` (the registry's
    /// head now, or earlier): the head a format-5 block's signatures are bound to. `chain` is where the
    /// registry's chain starts. The chain is walked back from `head` only as far as an earlier call
    /// walked, and kept (`registry_timeline`).
    pub fn registry_head_before(&self, head: TxId, chain: Hash, height: u64) -> Result<Hash> {
        let timeline = self.registry_walked_to(head, chain)?;
        timeline
            .head_before(&head, chain, height)
            .ok_or_else(|| unwalked(head))
    }

    /// The consortium's changes (members, threshold, formats: every registry transaction that is not
    /// a party's) in blocks below `height`, as of the registry head `head`, oldest first: what the
    /// member nodes before a height follow from, replayed on the genesis. Walked as
    /// [`LedgerStore::registry_head_before`] walks.
    pub fn consortium_before(
        &self,
        head: TxId,
        chain: Hash,
        height: u64,
    ) -> Result<Vec<StoredTransaction>> {
        let ids = {
            let timeline = self.registry_walked_to(head, chain)?;
            timeline
                .consortium_before(&head, chain, height)
                .ok_or_else(|| unwalked(head))?
        };
        ids.into_iter()
            .map(|(_, id)| {
                self.transaction(&id)?.ok_or_else(|| StoreError::Corrupt {
                    what: "history",
                    key: id.to_hex(),
                    reason: "a registry transaction walked is not stored".into(),
                })
            })
            .collect()
    }

    /// The registry's timeline, walked back from `head` as far as an earlier call walked.
    fn registry_walked_to(
        &self,
        head: TxId,
        chain: Hash,
    ) -> Result<std::sync::MutexGuard<'_, crate::registry_timeline::RegistryTimeline>> {
        let mut timeline = self
            .registry_timeline
            .lock()
            .map_err(|_| StoreError::Io("registry timeline lock poisoned".into()))?;
        if timeline.head_before(&head, chain, 0).is_some() {
            return Ok(timeline);
        }
        let newest = timeline.newest();
        let mut walked = Vec::new();
        let mut at = head;
        while at != chain && Some(at) != newest {
            let stored = self.transaction(&at)?.ok_or_else(|| StoreError::Corrupt {
                what: "history",
                key: at.to_hex(),
                reason: "a transaction named as a previous head is not stored".into(),
            })?;
            let consortium = stored.tx.body.action.registry_party().is_none();
            walked.push((stored.height, at, consortium));
            at = stored.tx.body.prev;
        }
        if at == chain && newest.is_some() {
            // `head` does not follow what was walked: walked again from the start, it is all there is.
            timeline.clear();
        }
        walked.reverse();
        timeline.extend(walked);
        Ok(timeline)
    }

    /// Appends a block's transactions to the log (durably), then writes the block record and the new
    /// head in one atomic batch, then indexes its ids. The block must follow the stored head
    /// and match its Merkle root: checked here, before anything is written. The batch is not durable
    /// until [`LedgerStore::sync`].
    pub fn write_block(&self, write: &BlockWrite<'_>) -> Result<()> {
        let header = &write.block.header.header;
        let parent = self.head()?.map(|b| b.header.header);
        write
            .block
            .header
            .follows(parent.as_ref())
            .map_err(|e| StoreError::Corrupt {
                what: "block",
                key: header.height.to_string(),
                reason: format!("refusing to write a block that does not follow the head: {e}"),
            })?;
        if write.block.tx_ids.len() != write.transactions.len()
            || write.block.tx_ids.len() != header.tx_count as usize
            || ebl_core::merkle_root(&write.block.tx_ids) != header.tx_root
        {
            return Err(StoreError::Corrupt {
                what: "block",
                key: header.height.to_string(),
                reason: "refusing to write a block whose transactions do not match its header"
                    .into(),
            });
        }
        let height = header.height;
        // Opened before the write, so it indexes the blocks up to the parent and this one after it.
        let index = self.index()?;
        index.writable()?;
        // The transactions go to the log first, in one durable append; the batch that refers to them
        // follows, so the key-value data never points at log bytes a crash could take back.
        let mut log = Vec::with_capacity(write.transactions.len() * 320);
        let mut ends = Vec::with_capacity(write.transactions.len());
        for (index, (tx, id)) in write
            .transactions
            .iter()
            .zip(&write.block.tx_ids)
            .enumerate()
        {
            if tx.id() != *id {
                return Err(StoreError::Corrupt {
                    what: "transaction",
                    key: id.to_hex(),
                    reason: "refusing to write a transaction under another id".into(),
                });
            }
            let index = within_block(index, height)?;
            let stored = StoredTransactionRef { height, index, tx };
            log.extend_from_slice(&seal(
                &self.seal,
                &transaction_key(height, index),
                codec::encode(&stored),
            ));
            ends.push(u32::try_from(log.len()).map_err(|_| StoreError::Corrupt {
                what: "block",
                key: height.to_string(),
                reason: "refusing a block of more than 4 GiB".into(),
            })?);
        }
        let offset = self.kv.append(&log)?;
        let span = LogSpan { offset, ends };
        let mut batch: Batch = Vec::new();
        put(
            &self.seal,
            &mut batch,
            key(BLOCK, &[&height.to_be_bytes()]),
            codec::encode(&BlockRecordRef {
                block: write.block,
                span: &span,
            }),
        );
        put(
            &self.seal,
            &mut batch,
            HEAD.to_vec(),
            codec::encode(&height),
        );
        self.kv.apply(batch)?;
        index.add_block(height, span_positions(&write.block.tx_ids, &span, height)?)
    }

    /// The certificate of the block at `height` as far as this node has collected it.
    pub fn certificate(&self, height: u64) -> Result<Option<Certificate>> {
        self.read("certificate", &key(CERTIFICATE, &[&height.to_be_bytes()]))
    }

    /// Replaces the certificate of a stored block. Not synced on its own: a certificate lost in a crash
    /// is collected again from the member nodes, which each keep their own signature with the block.
    pub fn write_certificate(&self, certificate: &Certificate) -> Result<()> {
        let height = certificate.header.height;
        match self.block(height)? {
            Some(b) if b.header.header == certificate.header => {}
            _ => {
                return Err(StoreError::Corrupt {
                    what: "certificate",
                    key: height.to_string(),
                    reason: "refusing a certificate for a header this store does not hold".into(),
                })
            }
        }
        let mut batch = Batch::new();
        put(
            &self.seal,
            &mut batch,
            key(CERTIFICATE, &[&height.to_be_bytes()]),
            codec::encode(certificate),
        );
        self.kv.apply(batch)
    }
}

/// A registry head the walk back from it did not reach: the store's history is broken.
fn unwalked(head: TxId) -> StoreError {
    StoreError::Corrupt {
        what: "history",
        key: head.to_hex(),
        reason: "the registry head walked back to is not where the walk began".into(),
    }
}
