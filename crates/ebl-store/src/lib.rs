//! `ebl-store`: where blocks, transactions and ledger state live on disk, behind the [`Store`] trait.
//!
//! Records go through `ebl_core::codec` and are sealed with a SHA-256 over their key and bytes, checked on
//! every read, so a flipped bit on disk is reported as corruption with its place, never served. A block's
//! transactions are appended durably to a log first; the block and every state change it causes are then
//! written in one atomic batch; nothing is durable until [`Store::sync`] returns, and the node
//! acknowledges nothing before that.

// Every dependency is used by the library itself (tests and binaries bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

#[cfg(feature = "fault")]
mod fault;
mod folder;
mod kv;
mod records;

#[cfg(feature = "fault")]
pub use fault::{FaultyKv, SyncBehaviour};
pub use folder::{Documents, Folder};
pub use kv::{Batch, Kv, SledKv};
pub use records::{BlockWrite, Checkpoint, LedgerStore, SealKey, StoredBlock, StoredTransaction};

/// A store of the ledger: the typed records over some key-value backend.
pub type Store<K> = LedgerStore<K>;

/// Why storage failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("storage IO failed: {0}")]
    Io(String),
    #[error("stored {what} at key {key} is corrupt: {reason}")]
    Corrupt {
        what: &'static str,
        key: String,
        reason: String,
    },
    /// A checkpoint state whose keyed seal does not hold: rewritten by someone without the node's
    /// secret, or sealed by another node's key.
    #[error("stored {what} at key {key} is corrupt: its keyed seal does not hold (rewritten, or sealed by another node's key)")]
    StateSealMismatch { what: &'static str, key: String },
    /// The store ends before a block that was acknowledged (the head witness names it): it lost its
    /// tail, as sled's recovery can after a power cut if a sync lied.
    #[error("the store lost its tail: {reason}")]
    Truncated { height: u64, reason: String },
    /// Another process (a running node) holds the store's lock.
    #[error("the store in {path} is in use by another process (a running ebl-node)")]
    InUse { path: String },
    #[error("the store holds no genesis: run `ebl-node init` first")]
    NotInitialized,
    #[error("the store already holds a genesis for chain {0}")]
    AlreadyInitialized(String),
}

impl StoreError {
    /// Stable code, as for ledger rules.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Io(_) => "storage_io",
            // One code for every damaged record, so an operator's scripts match one; the variant
            // tells a program which rule broke.
            StoreError::Corrupt { .. } | StoreError::StateSealMismatch { .. } => "storage_corrupt",
            StoreError::Truncated { .. } => "store_truncated",
            StoreError::InUse { .. } => "store_in_use",
            StoreError::NotInitialized => "not_initialized",
            StoreError::AlreadyInitialized(_) => "already_initialized",
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
