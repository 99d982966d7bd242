//! The ledger's records over a [`Kv`]: the key layout, and the store that reads and writes them,
//! sealing each record and checking it on the way in and out. One room per kind of record: `blocks`
//! (blocks, transactions in the log, certificates), `states` (bill and party checkpoints in two slots),
//! `seal` (what every record is sealed with), `witness` (the head witness).

use std::sync::{Mutex, OnceLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use ebl_core::bytes::to_hex;
use ebl_core::format::{self, Encoded};
use ebl_core::{
    codec, format::Activation, Bill, BillId, Certificate, Genesis, Hash, Party, RegistryHead,
    SignedBlockHeader, SignedTransaction, TxId,
};

use crate::index::{IdIndex, Position, Shape};
use crate::kv::{Batch, Kv};
use crate::registry_timeline::RegistryTimeline;
use crate::{Result, StoreError};

mod blocks;
mod seal;
mod states;
mod witness;

use blocks::positions;
pub use blocks::{BlockWrite, StoredBlock, StoredTransaction};
#[cfg(feature = "fault")]
pub use seal::seal_unkeyed;
pub use seal::SealKey;
use seal::{seal, unseal, unsealed_payload};
pub use states::Checkpoint;

/// Key prefixes, one byte each. Part of the on-disk format: pinned by `tests/store.rs`.
const GENESIS: &[u8] = b"g";
/// The store layout version that made the store (absent: layout 1, before the record existed).
const LAYOUT: &[u8] = b"L";
const HEAD: &[u8] = b"H";
const REGISTRY_HEAD: &[u8] = b"R";
/// The chain formats governance scheduled, as of the state height (absent: none, as in every store
/// written before `SCHEDULE_FORMAT` existed). Written with the registry head, in the same batch.
const FORMATS: &[u8] = b"F";
const STATE_HEIGHT: &[u8] = b"S";
/// The height of a checkpoint whose pieces are being written (removed by its commit). Found with
/// another height, it names pieces a crash cut short, removed before any newer commit could make them
/// read.
const PIECES_AT: &[u8] = b"W";
const BLOCK: u8 = b'b';
/// Transactions live in the append-only log, each sealed under the key it would have as a record,
/// (height, index); nothing is stored under this prefix in the key-value data. The id index (see
/// [`crate::index`]) maps ids to positions and log spans in files of its own. (Stores written before it
/// hold an `i` record per transaction, which is no longer read.)
const TRANSACTION: u8 = b't';
/// Bill and party states: each under its id and one of two slots (see [`LedgerStore::write_states`]).
/// Stores written before the slots hold one record per id, without a slot byte, read as the oldest.
const BILL: u8 = b's';
const PARTY: u8 = b'p';
/// A state's two slots: a checkpoint writes the one not holding the state the last committed checkpoint
/// counts, so a checkpoint written in pieces never overwrites what a crash half-way would fall back on.
const SLOTS: [u8; 2] = [0, 1];
/// The length of the ids states are kept under (a bill's id, a party's id).
const STATE_ID_BYTES: usize = 32;
/// Finality certificates by height: the member nodes' signatures this node has collected.
const CERTIFICATE: u8 = b'c';

/// The layout of the records this release writes: which keys hold what, how they are sealed. Layout 1
/// is every store of chain format 4 (through release b0079ae); layout 2 only adds this record. A later
/// release that changes what a key holds raises it, and keeps reading every layout below.
pub const STORE_LAYOUT: u16 = 2;

/// Size of the head witness: height, block hash, and a SHA-256 over both.
const WITNESS_BYTES: usize = 8 + 32 + 32;

/// Largest stored record; a block of `BLOCK_TRANSACTIONS_MAX` ids is the biggest.
const RECORD_BYTES_MAX: usize = codec::CODEC_BYTES_MAX;

/// The typed ledger store over a key-value backend.
#[derive(Debug)]
pub struct LedgerStore<K: Kv> {
    kv: K,
    seal: SealKey,
    /// Opened at the first lookup or write (it needs the head, which a read can fail to give).
    index: OnceLock<IdIndex>,
    opening_index: Mutex<()>,
    /// The registry's chain as far as walked, for [`LedgerStore::registry_head_before`].
    registry_timeline: Mutex<RegistryTimeline>,
}

fn key(prefix: u8, rest: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![prefix];
    for part in rest {
        k.extend_from_slice(part);
    }
    k
}

/// Adds a sealed put to a batch.
fn put(key: &SealKey, batch: &mut Batch, k: Vec<u8>, payload: Vec<u8>) {
    let v = seal(key, &k, payload);
    batch.push((k, Some(v)));
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

impl<K: Kv> LedgerStore<K> {
    /// The ledger's records over `kv`, unkeyed (`sealed_with` gives it the node's seal for states).
    pub fn new(kv: K) -> LedgerStore<K> {
        LedgerStore {
            kv,
            seal: SealKey::unkeyed(),
            index: OnceLock::new(),
            opening_index: Mutex::new(()),
            registry_timeline: Mutex::default(),
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

    /// The genesis, `None` before init. A store of a chain format or a store layout this release does
    /// not read is [`StoreError::Format`], named before anything of it is decoded.
    pub fn genesis(&self) -> Result<Option<Genesis>> {
        let Some(sealed) = self.kv.get(GENESIS)? else {
            return Ok(None);
        };
        self.check_layout()?;
        let payload = unsealed_payload(&self.seal, "genesis", GENESIS, &sealed)?;
        if let Some(version) = format::genesis_format(payload) {
            format::check_chain_format(Encoded::Store, version).map_err(StoreError::Format)?;
        }
        let corrupt = |e: ebl_core::Error| StoreError::Corrupt {
            what: "genesis",
            key: to_hex(GENESIS),
            reason: e.to_string(),
        };
        let genesis: Genesis = codec::decode(payload, RECORD_BYTES_MAX).map_err(corrupt)?;
        genesis.check().map_err(corrupt)?;
        Ok(Some(genesis))
    }

    /// The store's layout version: [`STORE_LAYOUT`] for a store this release made; a store without
    /// the record was made by a release before it existed (layout 1, the layout of chain format 4).
    pub fn layout(&self) -> Result<u16> {
        Ok(self.read::<u16>("store layout", LAYOUT)?.unwrap_or(1))
    }

    /// Refuses a store whose layout a later release wrote; older layouts are read as they are.
    fn check_layout(&self) -> Result<()> {
        let layout = self.layout()?;
        if layout > STORE_LAYOUT {
            return Err(StoreError::Format(ebl_core::Error::FormatTooNew {
                object: Encoded::Store,
                format: layout,
                newest: STORE_LAYOUT,
            }));
        }
        Ok(())
    }

    /// Writes the genesis of a new ledger, durably.
    pub fn init(&self, genesis: &Genesis) -> Result<()> {
        if let Some(existing) = self.genesis()? {
            return Err(StoreError::AlreadyInitialized(existing.chain_id().to_hex()));
        }
        self.kv.apply(vec![
            (
                GENESIS.to_vec(),
                Some(seal(&self.seal, GENESIS, codec::encode(genesis))),
            ),
            (
                LAYOUT.to_vec(),
                Some(seal(&self.seal, LAYOUT, codec::encode(&STORE_LAYOUT))),
            ),
        ])?;
        self.kv.sync()
    }

    /// The height of the last written block (0 before any).
    pub fn height(&self) -> Result<u64> {
        Ok(self.read::<u64>("head", HEAD)?.unwrap_or(0))
    }

    /// The registry head and consortium as of the state height.
    pub fn registry_head(&self) -> Result<Option<RegistryHead>> {
        self.read("registry head", REGISTRY_HEAD)
    }

    /// The chain formats scheduled as of the state height (none in a store that never held one).
    pub fn format_activations(&self) -> Result<Vec<Activation>> {
        Ok(self
            .read::<Vec<Activation>>("format schedule", FORMATS)?
            .unwrap_or_default())
    }

    /// Makes everything written so far durable.
    pub fn sync(&self) -> Result<()> {
        self.kv.sync()
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
