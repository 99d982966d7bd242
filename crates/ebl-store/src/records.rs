//! The ledger's records over a [`Kv`]: key layout, sealing, and checks on the way in and out.

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

/// A block and its transactions, written together.
#[derive(Debug, Clone, Copy)]
pub struct BlockWrite<'a> {
    /// The block, whose header names its height.
    pub block: &'a StoredBlock,
    /// Its transactions, in the order of `block.tx_ids`.
    pub transactions: &'a [SignedTransaction],
}

/// Ledger state as of a height: every bill and party changed since the last checkpoint, and the registry
/// head. State is written at checkpoints, not with every block, so a bill moved a hundred times between
/// two checkpoints is written once; the blocks after the last checkpoint are replayed on start.
///
/// Written in one batch ([`LedgerStore::write_checkpoint`]) or in pieces beside the blocks
/// ([`LedgerStore::write_states`], then [`LedgerStore::commit_checkpoint`]): each state record names the
/// height it is as of, and a read takes, per bill and party, the newest record at or below the
/// committed state height, so pieces of a checkpoint not yet committed are never read.
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
    /// The chain formats scheduled as of the height.
    pub formats: &'a [Activation],
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
    /// The registry's chain as far as walked, for [`LedgerStore::registry_head_before`].
    registry_timeline: Mutex<RegistryTimeline>,
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
    matches!(k.first(), Some(&BILL) | Some(&PARTY))
        || k == REGISTRY_HEAD
        || k == FORMATS
        || k == STATE_HEIGHT
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

/// A record sealed as a store without the node's secret would seal it (the unkeyed seal): what a forger
/// can write. For the tests that prove a node refuses it.
#[cfg(feature = "fault")]
pub fn seal_unkeyed(key: &[u8], payload: Vec<u8>) -> Vec<u8> {
    seal(&SealKey::unkeyed(), key, payload)
}

fn unseal<T: DeserializeOwned>(
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
fn unsealed_payload<'a>(
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

    /// The height the stored bill and party states are current at (0: no checkpoint yet).
    pub fn state_height(&self) -> Result<u64> {
        Ok(self.read::<u64>("state height", STATE_HEIGHT)?.unwrap_or(0))
    }

    /// Writes a whole checkpoint in one atomic batch (at a graceful stop); not durable until
    /// [`LedgerStore::sync`].
    pub fn write_checkpoint(&self, checkpoint: &Checkpoint<'_>) -> Result<()> {
        let committed = self.checkpoint_may_go_to(checkpoint.height)?;
        self.clear_cut_pieces(committed, None)?;
        let mut batch = Vec::new();
        self.state_entries(
            committed,
            checkpoint.height,
            checkpoint.bills,
            checkpoint.parties,
            &mut batch,
        )?;
        commit_entries(
            &self.seal,
            checkpoint.height,
            checkpoint.registry,
            checkpoint.formats,
            &mut batch,
        );
        self.kv.apply(batch)
    }

    /// Writes part of a checkpoint at `height`: states only, each in the slot the committed checkpoint
    /// does not read, so nothing a read (or a start after a crash) sees changes until
    /// [`LedgerStore::commit_checkpoint`]. A checkpoint of thousands of bills written in pieces keeps
    /// every piece a short batch: sled applies one batch at a time, and one of 8 192 bills held every
    /// block behind it for 60-500 ms.
    pub fn write_states(&self, height: u64, bills: &[Bill], parties: &[Party]) -> Result<()> {
        let committed = self.checkpoint_may_go_to(height)?;
        if height == committed {
            // A piece at the committed height would tie with the state it is meant to replace, and a
            // tie must never let an uncommitted record be read.
            return Err(StoreError::Corrupt {
                what: "checkpoint",
                key: height.to_string(),
                reason: "refusing pieces of a checkpoint at the height already committed".into(),
            });
        }
        self.clear_cut_pieces(committed, Some(height))?;
        let mut batch = Vec::new();
        self.state_entries(committed, height, bills, parties, &mut batch)?;
        self.kv.apply(batch)
    }

    /// Before a checkpoint's first piece or a whole checkpoint: if pieces of another checkpoint were
    /// left uncommitted (a crash cut it short), removes every state record above the committed height,
    /// since a newer commit would otherwise make them read (a bill the cut checkpoint wrote and the new
    /// one does not). Then records that pieces at `pieces` are under way.
    fn clear_cut_pieces(&self, committed: u64, pieces: Option<u64>) -> Result<()> {
        let under_way: Option<u64> = self.read("pieces under way", PIECES_AT)?;
        if under_way.is_some() && under_way != pieces {
            self.remove_states_above::<Bill>("bill", BILL, committed)?;
            self.remove_states_above::<Party>("party", PARTY, committed)?;
        }
        match pieces {
            Some(height) if under_way != pieces => {
                let mut batch = Batch::new();
                put(
                    &self.seal,
                    &mut batch,
                    PIECES_AT.to_vec(),
                    codec::encode(&height),
                );
                self.kv.apply(batch)
            }
            Some(_) => Ok(()),
            None if under_way.is_some() => self.kv.apply(vec![(PIECES_AT.to_vec(), None)]),
            None => Ok(()),
        }
    }

    /// Removes the slotted state records under `prefix` above `committed`.
    fn remove_states_above<T: DeserializeOwned>(
        &self,
        what: &'static str,
        prefix: u8,
        committed: u64,
    ) -> Result<()> {
        let mut cut = Batch::new();
        for (k, v) in self.kv.scan(&[prefix])? {
            if k.len() == 1 + STATE_ID_BYTES {
                continue;
            }
            let (height, _): (u64, T) = unseal(&self.seal, what, &k, &v)?;
            if height > committed {
                cut.push((k, None));
            }
        }
        self.kv.apply(cut)
    }

    /// Makes the states written at `height` ([`LedgerStore::write_states`]) the checkpoint, with the
    /// registry as of that height, in one small batch. Every state changed since the last checkpoint
    /// must have been written first: the ones not written are read as of the last one.
    pub fn commit_checkpoint(
        &self,
        height: u64,
        registry: &RegistryHead,
        formats: &[Activation],
    ) -> Result<()> {
        let committed = self.checkpoint_may_go_to(height)?;
        let under_way: Option<u64> = self.read("pieces under way", PIECES_AT)?;
        if under_way.is_some_and(|h| h != height) {
            // Not the pieces of this height: cut ones, cleared before this commit can expose them.
            self.clear_cut_pieces(committed, None)?;
        }
        let mut batch = Vec::new();
        commit_entries(&self.seal, height, registry, formats, &mut batch);
        batch.push((PIECES_AT.to_vec(), None));
        self.kv.apply(batch)
    }

    /// The committed state height, if a checkpoint at `height` may be written: not above the head,
    /// not below the committed one.
    fn checkpoint_may_go_to(&self, height: u64) -> Result<u64> {
        let refuse = |reason: &str| StoreError::Corrupt {
            what: "checkpoint",
            key: height.to_string(),
            reason: reason.into(),
        };
        if height > self.height()? {
            return Err(refuse("refusing a checkpoint above the stored head"));
        }
        let committed = self.state_height()?;
        if height < committed {
            return Err(refuse(
                "refusing a checkpoint below the one already committed",
            ));
        }
        Ok(committed)
    }

    /// The sealed state records of `bills` and `parties` at `height`, each in the slot not holding
    /// the state the checkpoint at `committed` reads.
    fn state_entries(
        &self,
        committed: u64,
        height: u64,
        bills: &[Bill],
        parties: &[Party],
        batch: &mut Batch,
    ) -> Result<()> {
        for bill in bills {
            let slot = self.free_slot::<Bill>("bill", BILL, bill.id.as_bytes(), committed)?;
            put(
                &self.seal,
                batch,
                state_key(BILL, bill.id.as_bytes(), Some(slot)),
                codec::encode(&(height, bill)),
            );
        }
        for party in parties {
            let slot = self.free_slot::<Party>("party", PARTY, &party.id.0, committed)?;
            put(
                &self.seal,
                batch,
                state_key(PARTY, &party.id.0, Some(slot)),
                codec::encode(&(height, party)),
            );
        }
        Ok(())
    }

    /// The slot a new state of `id` goes to: the one whose record the checkpoint at `committed` does
    /// not read (empty, older, or left by a checkpoint a crash cut short).
    fn free_slot<T: DeserializeOwned>(
        &self,
        what: &'static str,
        prefix: u8,
        id: &[u8],
        committed: u64,
    ) -> Result<u8> {
        let mut heights = [None; 2];
        for slot in SLOTS {
            let k = state_key(prefix, id, Some(slot));
            if let Some(bytes) = self.kv.get(&k)? {
                let (height, _): (u64, T) = unseal(&self.seal, what, &k, &bytes)?;
                heights[usize::from(slot)] = Some(height).filter(|h| *h <= committed);
            }
        }
        Ok(match heights {
            [Some(a), Some(b)] if a >= b => 1,
            [Some(_), _] => 1,
            _ => 0,
        })
    }

    /// The state of `id` the checkpoint at `committed` reads: of its records (the two slots, and the
    /// one of a store from before them, as the oldest), the newest at or below `committed`. Every
    /// record is unsealed, so a rewritten one is refused even where another would be read.
    fn state_at<T: DeserializeOwned>(
        what: &'static str,
        seal: &SealKey,
        records: &[(Vec<u8>, Vec<u8>)],
        committed: u64,
    ) -> Result<Option<T>> {
        let mut best: Option<(u64, T)> = None;
        for (k, v) in records {
            let (height, state) = if k.len() == 1 + STATE_ID_BYTES {
                // No slot byte: a record from before the slots, as of some earlier checkpoint.
                (0, unseal::<T>(seal, what, k, v)?)
            } else {
                unseal::<(u64, T)>(seal, what, k, v)?
            };
            if height <= committed && best.as_ref().is_none_or(|(h, _)| height >= *h) {
                best = Some((height, state));
            }
        }
        Ok(best.map(|(_, state)| state))
    }

    /// Every state under `prefix` the committed checkpoint reads, one per id.
    fn states<T: DeserializeOwned>(&self, what: &'static str, prefix: u8) -> Result<Vec<T>> {
        let committed = self.state_height()?;
        let mut out = Vec::new();
        let mut group: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        // Keys sort by id, then slot: an id's records are next to each other.
        for (k, v) in self.kv.scan(&[prefix])? {
            if group
                .first()
                .is_some_and(|(g, _)| id_part(g) != id_part(&k))
            {
                out.extend(Self::state_at(what, &self.seal, &group, committed)?);
                group.clear();
            }
            group.push((k, v));
        }
        if !group.is_empty() {
            out.extend(Self::state_at(what, &self.seal, &group, committed)?);
        }
        Ok(out)
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

    /// The registry head before the block at `height`, as of the registry head `head` (the registry's
    /// head now, or earlier): the head a format-5 block's signatures are bound to. `chain` is where the
    /// registry's chain starts. The chain is walked back from `head` only as far as an earlier call
    /// walked, and kept (`registry_timeline`).
    pub fn registry_head_before(&self, head: TxId, chain: Hash, height: u64) -> Result<Hash> {
        let mut timeline = self
            .registry_timeline
            .lock()
            .map_err(|_| StoreError::Io("registry timeline lock poisoned".into()))?;
        if let Some(found) = timeline.head_before(&head, chain, height) {
            return Ok(found);
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
            walked.push((stored.height, at));
            at = stored.tx.body.prev;
        }
        if at == chain && newest.is_some() {
            // `head` does not follow what was walked: walked again from the start, it is all there is.
            timeline.clear();
        }
        walked.reverse();
        timeline.extend(walked);
        timeline
            .head_before(&head, chain, height)
            .ok_or_else(|| StoreError::Corrupt {
                what: "history",
                key: head.to_hex(),
                reason: "the registry head walked back to is not where the walk began".into(),
            })
    }

    /// A bill's state as of the last checkpoint.
    pub fn bill(&self, id: &BillId) -> Result<Option<Bill>> {
        let committed = self.state_height()?;
        let mut records = Vec::new();
        for slot in [None, Some(SLOTS[0]), Some(SLOTS[1])] {
            let k = state_key(BILL, id.as_bytes(), slot);
            if let Some(v) = self.kv.get(&k)? {
                records.push((k, v));
            }
        }
        Self::state_at("bill", &self.seal, &records, committed)
    }

    /// Every bill's state as of the last checkpoint.
    pub fn bills(&self) -> Result<Vec<Bill>> {
        self.states("bill", BILL)
    }

    /// Every party as of the last checkpoint.
    pub fn parties(&self) -> Result<Vec<Party>> {
        self.states("party", PARTY)
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

/// The batch entries that make a checkpoint's states the ones read: the registry and the height.
fn commit_entries(
    sealer: &SealKey,
    height: u64,
    registry: &RegistryHead,
    formats: &[Activation],
    batch: &mut Batch,
) {
    put(
        sealer,
        batch,
        REGISTRY_HEAD.to_vec(),
        codec::encode(registry),
    );
    // Only a chain that scheduled a format writes the record: a store that never did keeps exactly
    // the records it had.
    if !formats.is_empty() {
        put(
            sealer,
            batch,
            FORMATS.to_vec(),
            codec::encode(&formats.to_vec()),
        );
    }
    put(sealer, batch, STATE_HEIGHT.to_vec(), codec::encode(&height));
}

/// The key of a state record: prefix, id and slot (`None`: a record from before the slots).
fn state_key(prefix: u8, id: &[u8], slot: Option<u8>) -> Vec<u8> {
    let mut k = key(prefix, &[id]);
    k.extend(slot);
    k
}

/// The prefix and id of a state record's key, without its slot.
fn id_part(k: &[u8]) -> &[u8] {
    &k[..k.len().min(1 + STATE_ID_BYTES)]
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
