//! The ledger's records over a [`Kv`]: key layout, sealing, and checks on the way in and out.

use std::sync::{Mutex, OnceLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use ebl_core::bytes::to_hex;
use ebl_core::{
    codec, Bill, BillId, Certificate, Genesis, Hash, Party, RegistryHead, SignedBlockHeader,
    SignedTransaction, TxId,
};

use crate::index::{IdIndex, Position, Shape};
use crate::kv::{Batch, Kv};
use crate::{Result, StoreError};

/// Key prefixes, one byte each. Part of the on-disk format: pinned by `tests/store.rs`.
const GENESIS: &[u8] = b"g";
const HEAD: &[u8] = b"H";
const REGISTRY_HEAD: &[u8] = b"R";
const STATE_HEIGHT: &[u8] = b"S";
const BLOCK: u8 = b'b';
/// Transactions live in the append-only log, each sealed under the key it would have as a record,
/// (height, index); nothing is stored under this prefix in the key-value data. The id index (see
/// [`crate::index`]) maps ids to positions and log spans in files of its own. (Stores written before it
/// hold an `i` record per transaction, which is no longer read.)
const TRANSACTION: u8 = b't';
const BILL: u8 = b's';
const PARTY: u8 = b'p';
/// Finality certificates by height: the member nodes' signatures this node has collected.
const CERTIFICATE: u8 = b'c';

/// Size of the head witness: height, block hash, and a SHA-256 over both.
const WITNESS_BYTES: usize = 8 + 32 + 32;

/// Largest stored record; a block of `BLOCK_TRANSACTIONS_MAX` ids is the biggest.
const RECORD_BYTES_MAX: usize = codec::CODEC_BYTES_MAX;

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
struct LogSpan {
    offset: u64,
    ends: Vec<u32>,
}

impl LogSpan {
    /// The (offset, length) of transaction `index`.
    fn of(&self, index: u32) -> Option<(u64, usize)> {
        let i = usize::try_from(index).ok()?;
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        let len = end.checked_sub(start)?;
        Some((self.offset + u64::from(start), len as usize))
    }

    fn len(&self) -> usize {
        self.ends.last().map_or(0, |e| *e as usize)
    }
}

/// A block record: the block, and where its transactions are in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BlockRecord {
    block: StoredBlock,
    span: LogSpan,
}

/// [`BlockRecord`]'s encoding, written from borrowed parts (the same bytes, no copy of the id list).
#[derive(Serialize)]
struct BlockRecordRef<'a> {
    block: &'a StoredBlock,
    span: &'a LogSpan,
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

/// Everything one block changes, written in one atomic batch.
#[derive(Debug, Clone, Copy)]
pub struct BlockWrite<'a> {
    /// The block, whose header names its height.
    pub block: &'a StoredBlock,
    /// Its transactions, in the order of `block.tx_ids`.
    pub transactions: &'a [SignedTransaction],
    /// A state checkpoint to write with the block, if one is due.
    pub checkpoint: Option<Checkpoint<'a>>,
}

/// Ledger state as of a height: every bill and party changed since the last checkpoint, and the registry
/// head. State is written at checkpoints, not with every block, so a bill moved a hundred times between
/// two checkpoints is written once; the blocks after the last checkpoint are replayed on start.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<'a> {
    /// The height the state is as of (the block written with it).
    pub height: u64,
    /// The bills changed since the last checkpoint, as they stand at `height`.
    pub bills: &'a [Bill],
    /// The parties changed since the last checkpoint.
    pub parties: &'a [Party],
    /// The registry head and the consortium (members, threshold) as of the height.
    pub registry: &'a RegistryHead,
}

/// [`StoredTransaction`]'s encoding, written from a borrowed transaction (the same bytes, no copy).
#[derive(Serialize)]
struct StoredTransactionRef<'a> {
    height: u64,
    index: u32,
    tx: &'a SignedTransaction,
}

/// The typed ledger store over a key-value backend.
#[derive(Debug)]
pub struct LedgerStore<K: Kv> {
    kv: K,
    seal: SealKey,
    /// Opened at the first lookup or write (it needs the head, which a read can fail to give).
    index: OnceLock<IdIndex>,
    opening_index: Mutex<()>,
}

/// The secret the bill and party states of a checkpoint are sealed with (HMAC-SHA-256 over key and
/// bytes), so that a rewritten state record (a pledge turned back to issued, another possessor) is
/// refused at start, not served: anyone can recompute a plain checksum, nobody without the node's
/// secret this one. Blocks and transactions need no secret: their hashes and signatures are checked
/// against the chain.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

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

/// The error for a record whose check does not hold: the keyed seal of a state, or a chain record's
/// checksum.
fn seal_broken(what: &'static str, key: &[u8]) -> StoreError {
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
fn is_state_record(k: &[u8]) -> bool {
    matches!(k.first(), Some(&BILL) | Some(&PARTY)) || k == REGISTRY_HEAD || k == STATE_HEIGHT
}

/// The 32-byte check a record carries: a keyed MAC for checkpoint states, SHA-256 for the rest.
fn check_of(seal: &SealKey, key: &[u8], payload: &[u8]) -> [u8; 32] {
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

fn key(prefix: u8, rest: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![prefix];
    for part in rest {
        k.extend_from_slice(part);
    }
    k
}

/// Seals a record: its bytes, then SHA-256 over key and bytes, so a record that was altered, or moved to
/// another key, fails its check.
fn seal(seal: &SealKey, key: &[u8], payload: Vec<u8>) -> Vec<u8> {
    let check = check_of(seal, key, &payload);
    let mut out = payload;
    out.extend_from_slice(&check);
    out
}

fn unseal<T: DeserializeOwned>(
    seal: &SealKey,
    what: &'static str,
    key: &[u8],
    sealed: &[u8],
) -> Result<T> {
    let corrupt = |reason: String| StoreError::Corrupt {
        what,
        key: to_hex(key),
        reason,
    };
    if sealed.len() < 32 {
        return Err(corrupt("record shorter than its checksum".into()));
    }
    let (payload, check) = sealed.split_at(sealed.len() - 32);
    if check_of(seal, key, payload) != check {
        return Err(seal_broken(what, key));
    }
    codec::decode(payload, RECORD_BYTES_MAX).map_err(|e| corrupt(e.to_string()))
}

impl<K: Kv> LedgerStore<K> {
    /// The ledger's records over `kv`, unkeyed (`sealed_with` gives it the node's seal for states).
    pub fn new(kv: K) -> LedgerStore<K> {
        LedgerStore {
            kv,
            seal: SealKey::unkeyed(),
            index: OnceLock::new(),
            opening_index: Mutex::new(()),
        }
    }

    /// The id index, opened on first use: the runs kept in the backend's index directory, then the
    /// blocks after them indexed again from their records.
    fn index(&self) -> Result<&IdIndex> {
        if let Some(index) = self.index.get() {
            return Ok(index);
        }
        let _one_opener = self
            .opening_index
            .lock()
            .map_err(|_| StoreError::Io("id index lock poisoned".into()))?;
        if let Some(index) = self.index.get() {
            return Ok(index);
        }
        let height = self.height()?;
        let index = IdIndex::open(self.kv.index_dir(), height, Shape::default())?;
        for h in index.indexed_to()? + 1..=height {
            let record = self.block_record(h)?.ok_or_else(|| StoreError::Corrupt {
                what: "block",
                key: h.to_string(),
                reason: "a block below the head is not stored".into(),
            })?;
            index.add_block(h, positions(&record, h)?)?;
        }
        Ok(self.index.get_or_init(|| index))
    }

    /// The store with its checkpoint states sealed (and checked) under `seal`.
    pub fn sealed_with(self, seal: SealKey) -> LedgerStore<K> {
        LedgerStore { seal, ..self }
    }

    /// The backend, for tools that check or damage the store on purpose.
    pub fn kv(&self) -> &K {
        &self.kv
    }

    fn read<T: DeserializeOwned>(&self, what: &'static str, key: &[u8]) -> Result<Option<T>> {
        match self.kv.get(key)? {
            Some(bytes) => unseal(&self.seal, what, key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The genesis, `None` before init.
    pub fn genesis(&self) -> Result<Option<Genesis>> {
        let genesis: Option<Genesis> = self.read("genesis", GENESIS)?;
        if let Some(g) = &genesis {
            g.check().map_err(|e| StoreError::Corrupt {
                what: "genesis",
                key: to_hex(GENESIS),
                reason: e.to_string(),
            })?;
        }
        Ok(genesis)
    }

    /// Writes the genesis of a new ledger, durably.
    pub fn init(&self, genesis: &Genesis) -> Result<()> {
        if let Some(existing) = self.genesis()? {
            return Err(StoreError::AlreadyInitialized(existing.chain_id().to_hex()));
        }
        self.kv.apply(vec![(
            GENESIS.to_vec(),
            Some(seal(&self.seal, GENESIS, codec::encode(genesis))),
        )])?;
        self.kv.sync()
    }

    /// The height of the last written block (0 before any).
    pub fn height(&self) -> Result<u64> {
        Ok(self.read::<u64>("head", HEAD)?.unwrap_or(0))
    }

    /// The height the stored bill and party states are current at (0: no checkpoint yet).
    pub fn state_height(&self) -> Result<u64> {
        Ok(self.read::<u64>("state height", STATE_HEIGHT)?.unwrap_or(0))
    }

    /// Writes a checkpoint on its own (at a graceful stop); not durable until [`LedgerStore::sync`].
    pub fn write_checkpoint(&self, checkpoint: &Checkpoint<'_>) -> Result<()> {
        if checkpoint.height > self.height()? {
            return Err(StoreError::Corrupt {
                what: "checkpoint",
                key: checkpoint.height.to_string(),
                reason: "refusing a checkpoint above the stored head".into(),
            });
        }
        let mut batch = Vec::new();
        checkpoint_entries(&self.seal, checkpoint, &mut batch);
        self.kv.apply(batch)
    }

    /// The registry head and consortium as of the state height.
    pub fn registry_head(&self) -> Result<Option<RegistryHead>> {
        self.read("registry head", REGISTRY_HEAD)
    }

    /// The block at `height`, `None` above the head.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>> {
        Ok(self.block_record(height)?.map(|r| r.block))
    }

    fn block_record(&self, height: u64) -> Result<Option<BlockRecord>> {
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
    fn logged(
        &self,
        height: u64,
        index: u32,
        offset: u64,
        len: usize,
    ) -> Result<StoredTransaction> {
        let bytes = self.kv.read_log(offset, len)?;
        let stored: StoredTransaction = unseal(
            &self.seal,
            "transaction",
            &transaction_key(height, index),
            &bytes,
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
            let stored: StoredTransaction = unseal(
                &self.seal,
                "transaction",
                &transaction_key(height, index),
                slice,
            )?;
            if stored.height != height || stored.index != index {
                return Err(StoreError::Corrupt {
                    what: "transaction",
                    key: to_hex(&transaction_key(height, index)),
                    reason: "stored under another position".into(),
                });
            }
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

    /// A bill's state as of the last checkpoint.
    pub fn bill(&self, id: &BillId) -> Result<Option<Bill>> {
        self.read("bill", &key(BILL, &[id.as_bytes()]))
    }

    /// Every bill's state as of the last checkpoint.
    pub fn bills(&self) -> Result<Vec<Bill>> {
        self.kv
            .scan(&[BILL])?
            .into_iter()
            .map(|(k, v)| unseal(&self.seal, "bill", &k, &v))
            .collect()
    }

    /// Every party as of the last checkpoint.
    pub fn parties(&self) -> Result<Vec<Party>> {
        self.kv
            .scan(&[PARTY])?
            .into_iter()
            .map(|(k, v)| unseal(&self.seal, "party", &k, &v))
            .collect()
    }

    /// Appends a block's transactions to the log (durably), then writes the block and (if due) a state
    /// checkpoint in one atomic batch, then indexes its ids. The block must follow the stored head
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
        if let Some(checkpoint) = &write.checkpoint {
            if checkpoint.height != height {
                return Err(StoreError::Corrupt {
                    what: "checkpoint",
                    key: checkpoint.height.to_string(),
                    reason: "a checkpoint written with a block must be at its height".into(),
                });
            }
        }
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
        if let Some(checkpoint) = &write.checkpoint {
            checkpoint_entries(&self.seal, checkpoint, &mut batch);
        }
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

    /// Makes everything written so far durable.
    pub fn sync(&self) -> Result<()> {
        self.kv.sync()
    }

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

    /// Where the transaction at (height, index) is in the log, for tools that check or damage the store
    /// on purpose.
    pub fn log_position(&self, height: u64, index: u32) -> Result<Option<(u64, usize)>> {
        Ok(self.block_record(height)?.and_then(|r| r.span.of(index)))
    }

    /// Every stored key and its raw bytes, for tools that check or damage the store on purpose.
    pub fn raw_entries(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.kv.scan(&[])
    }
}

/// Adds a sealed put to a batch.
fn put(key: &SealKey, batch: &mut Batch, k: Vec<u8>, payload: Vec<u8>) {
    let v = seal(key, &k, payload);
    batch.push((k, Some(v)));
}

fn checkpoint_entries(sealer: &SealKey, checkpoint: &Checkpoint<'_>, batch: &mut Batch) {
    for bill in checkpoint.bills {
        put(
            sealer,
            batch,
            key(BILL, &[bill.id.as_bytes()]),
            codec::encode(bill),
        );
    }
    for party in checkpoint.parties {
        put(
            sealer,
            batch,
            key(PARTY, &[&party.id.0]),
            codec::encode(party),
        );
    }
    put(
        sealer,
        batch,
        REGISTRY_HEAD.to_vec(),
        codec::encode(checkpoint.registry),
    );
    put(
        sealer,
        batch,
        STATE_HEIGHT.to_vec(),
        codec::encode(&checkpoint.height),
    );
}

/// Each transaction of a block record and where it is, for the id index.
fn positions(record: &BlockRecord, height: u64) -> Result<Vec<(TxId, Position)>> {
    span_positions(&record.block.tx_ids, &record.span, height)
}

fn span_positions(ids: &[TxId], span: &LogSpan, height: u64) -> Result<Vec<(TxId, Position)>> {
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

fn transaction_key(height: u64, index: u32) -> Vec<u8> {
    key(TRANSACTION, &[&height.to_be_bytes(), &index.to_be_bytes()])
}

/// A transaction's index in its block, or its length in the log, as records store them (u32): a block
/// holds at most `BLOCK_TRANSACTIONS_MAX` transactions of at most `TRANSACTION_BYTES_MAX` bytes each, so
/// it always fits, and one that does not is a corrupt block.
fn within_block(n: usize, height: u64) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt {
        what: "block",
        key: height.to_string(),
        reason: format!("{n} does not fit a block's index or length"),
    })
}
