//! The Raft log on this node's disk: entries, the vote and the purge point in a key-value store of their
//! own (sled made durable, as the ledger's), fsynced before openraft is told an append is flushed, since
//! a vote or an entry a node forgets after a crash is how Raft loses acknowledged writes.

// openraft's storage traits fix the error type (`StorageError`, over 200 bytes): boxing it here would
// only move the size to every call into openraft.
#![allow(clippy::result_large_err)]

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, Mutex};

use ebl_core::codec;
use ebl_store::{Kv, StoreError};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{
    AnyError, Entry, LogId, OptionalSend, RaftLogReader, StorageError, StorageIOError, Vote,
};

use super::{NodeId, TypeConfig};
use ebl_core::proposal::PROPOSAL_BYTES_MAX;

const ENTRY: u8 = b'e';
const VOTE: &[u8] = b"v";
const COMMITTED: &[u8] = b"c";
const PURGED: &[u8] = b"p";

/// The largest stored entry: a proposal and the entry's framing.
const ENTRY_BYTES_MAX: usize = PROPOSAL_BYTES_MAX + 4096;

fn entry_key(index: u64) -> Vec<u8> {
    let mut key = vec![ENTRY];
    key.extend_from_slice(&index.to_be_bytes());
    key
}

#[derive(Debug, Default)]
struct Ends {
    last_purged: Option<LogId<NodeId>>,
    last: Option<LogId<NodeId>>,
}

/// The Raft log store; clones share the same files.
#[derive(Debug, Clone)]
pub(super) struct LogStore {
    kv: Arc<dyn Kv>,
    ends: Arc<Mutex<Ends>>,
}

fn read_error(e: &StoreError) -> StorageError<NodeId> {
    StorageIOError::read_logs(AnyError::new(e)).into()
}

fn write_error(e: &StoreError) -> StorageError<NodeId> {
    StorageIOError::write_logs(AnyError::new(e)).into()
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StorageError<NodeId>> {
    codec::decode_message(bytes, ENTRY_BYTES_MAX)
        .map_err(|e| StorageIOError::read_logs(AnyError::new(&e)).into())
}

impl LogStore {
    /// Opens the log in `kv`, finding its ends (one scan, at start).
    pub(super) fn open(kv: Arc<dyn Kv>) -> Result<LogStore, StoreError> {
        let mut ends = Ends::default();
        if let Some(bytes) = kv.get(PURGED)? {
            ends.last_purged = codec::decode(&bytes, ENTRY_BYTES_MAX).map_err(corrupt)?;
        }
        if let Some((_, bytes)) = kv.scan(&[ENTRY])?.pop() {
            let entry: Entry<TypeConfig> =
                codec::decode_message(&bytes, ENTRY_BYTES_MAX).map_err(corrupt)?;
            ends.last = Some(entry.log_id);
        }
        Ok(LogStore {
            kv,
            ends: Arc::new(Mutex::new(ends)),
        })
    }

    fn ends(&self) -> std::sync::MutexGuard<'_, Ends> {
        match self.ends.lock() {
            Ok(e) => e,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn get_entry(&self, index: u64) -> Result<Option<Entry<TypeConfig>>, StorageError<NodeId>> {
        match self.kv.get(&entry_key(index)).map_err(|e| read_error(&e))? {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }
}

fn corrupt(e: ebl_core::Error) -> StoreError {
    StoreError::Corrupt {
        what: "raft log",
        key: "entry".into(),
        reason: e.to_string(),
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let start = match range.start_bound() {
            Bound::Included(i) => *i,
            Bound::Excluded(i) => i + 1,
            Bound::Unbounded => 0,
        };
        let last = self.ends().last.map_or(0, |l| l.index);
        let end = match range.end_bound() {
            Bound::Included(i) => (*i).min(last),
            Bound::Excluded(i) => i.saturating_sub(1).min(last),
            Bound::Unbounded => last,
        };
        if range.end_bound() == Bound::Excluded(&0) {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for index in start..=end {
            match self.get_entry(index)? {
                Some(entry) => out.push(entry),
                // Purged below, or not yet there: openraft asks only for what `get_log_state` names.
                None if out.is_empty() => continue,
                None => break,
            }
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let ends = self.ends();
        Ok(LogState {
            last_purged_log_id: ends.last_purged,
            last_log_id: ends.last.or(ends.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let kv = self.kv.clone();
        let bytes = codec::encode(vote);
        // Durable before openraft acts on it: a vote forgotten in a crash could be cast twice in a term.
        super::runtime::off_thread(move || {
            kv.apply(vec![(VOTE.to_vec(), Some(bytes))])?;
            kv.sync()
        })
        .await
        .map_err(|e| StorageIOError::write_vote(AnyError::new(&e)))?
        .map_err(|e| StorageIOError::write_vote(AnyError::new(&e)).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        match self.kv.get(VOTE).map_err(|e| read_error(&e))? {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError<NodeId>> {
        // Not synced: a lost commit index is learnt again from the leader.
        self.kv
            .apply(vec![(COMMITTED.to_vec(), Some(codec::encode(&committed)))])
            .map_err(|e| write_error(&e))
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        match self.kv.get(COMMITTED).map_err(|e| read_error(&e))? {
            Some(bytes) => decode(&bytes),
            None => Ok(None),
        }
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = Vec::new();
        let mut last = None;
        for entry in entries {
            last = Some(entry.log_id);
            batch.push((entry_key(entry.log_id.index), Some(codec::encode(&entry))));
        }
        let kv = self.kv.clone();
        let written = super::runtime::off_thread(move || {
            kv.apply(batch)?;
            kv.sync()
        })
        .await
        .map_err(|e| StoreError::Io(e.to_string()))
        .and_then(|r| r);
        match written {
            Ok(()) => {
                if let Some(last) = last {
                    self.ends().last = Some(last);
                }
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(write_error(&e))
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        // Entries from `log_id` on conflict with the leader's log: they were never committed.
        let last = self.ends().last.map_or(0, |l| l.index);
        let batch = (log_id.index..=last)
            .map(|i| (entry_key(i), None))
            .collect();
        self.kv.apply(batch).map_err(|e| write_error(&e))?;
        self.kv.sync().map_err(|e| write_error(&e))?;
        let previous = match log_id.index.checked_sub(1) {
            Some(i) => self.get_entry(i)?.map(|e| e.log_id),
            None => None,
        };
        let mut ends = self.ends();
        ends.last = previous.or(ends.last_purged);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        // Entries up to `log_id` are applied and in a snapshot: the purge point is written first, so a
        // crash between the two leaves entries below it that nobody reads.
        let first = self.ends().last_purged.map_or(0, |l| l.index + 1);
        self.kv
            .apply(vec![(PURGED.to_vec(), Some(codec::encode(&Some(log_id))))])
            .map_err(|e| write_error(&e))?;
        let batch = (first..=log_id.index)
            .map(|i| (entry_key(i), None))
            .collect();
        self.kv.apply(batch).map_err(|e| write_error(&e))?;
        self.kv.sync().map_err(|e| write_error(&e))?;
        let mut ends = self.ends();
        ends.last_purged = Some(log_id);
        if ends.last.is_none_or(|l| l.index < log_id.index) {
            ends.last = Some(log_id);
        }
        Ok(())
    }
}
