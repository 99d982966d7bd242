//! `ebl-store`: where blocks, transactions and ledger state live on disk, behind the [`Store`] trait.
//!
//! Records go through `ebl_core::codec` and are sealed with a SHA-256 over their key and bytes, checked on
//! every read, so a flipped bit on disk is reported as corruption with its place, never served. A block's
//! transactions are appended durably to a log first; the block and every state change it causes are then
//! written in one atomic batch; nothing is durable until [`Store::sync`] returns, and the node
//! acknowledges nothing before that.

// Every dependency is used by the library itself (tests and binaries bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![warn(missing_docs)]

#[cfg(feature = "fault")]
mod fault;
mod folder;
mod index;
mod kv;
mod records;
mod registry_timeline;

#[cfg(feature = "fault")]
pub use fault::{FaultyKv, SyncBehaviour};
pub use folder::{Documents, Folder};
pub use kv::{Batch, Kv, SledKv};
#[cfg(feature = "fault")]
pub use records::seal_unkeyed;
pub use records::{
    BlockWrite, Checkpoint, LedgerStore, SealKey, StoredBlock, StoredTransaction, STORE_LAYOUT,
};

/// A store of the ledger: the typed records over some key-value backend.
pub type Store<K> = LedgerStore<K>;

/// Why storage failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The disk or the file system failed (the reason is the operating system's).
    #[error("storage IO failed: {0}")]
    Io(String),
    /// A record whose bytes are not what was written: a broken seal, a record that does not decode,
    /// or one that contradicts another.
    #[error("stored {what} at key {key} is corrupt: {reason}")]
    Corrupt {
        /// What kind of record (`block`, `transaction`, `bill state`, ...).
        what: &'static str,
        /// Which one: its key, height or id.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A checkpoint state whose keyed seal does not hold: rewritten by someone without the node's
    /// secret, or sealed by another node's key.
    #[error("stored {what} at key {key} is corrupt: its keyed seal does not hold (rewritten, or sealed by another node's key)")]
    StateSealMismatch {
        /// What kind of state (`bill state`, `party`, ...).
        what: &'static str,
        /// Which one.
        key: String,
    },
    /// The store ends before a block that was acknowledged (the head witness names it): it lost its
    /// tail, as sled's recovery can after a power cut if a sync lied.
    #[error("the store lost its tail: {reason}")]
    Truncated {
        /// The acknowledged block the witness names.
        height: u64,
        /// What the store holds instead.
        reason: String,
    },
    /// Another process (a running node) holds the store's lock.
    #[error("the store in {path} is in use by another process (a running ebl-node)")]
    InUse {
        /// The store's directory.
        path: String,
    },
    /// A store in a format this release does not read: written before the compatibility promise began
    /// (format 4), or by a later release. Nothing in it is wrong, and nothing of it is rewritten; the
    /// error names the format and the release that reads it.
    #[error("{0}")]
    Format(ebl_core::Error),
    /// Opened before `ebl-node init` wrote a genesis.
    #[error("the store holds no genesis: run `ebl-node init` first")]
    NotInitialized,
    /// An init over a store that has one (the chain id it holds).
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
            // The core's code: `format_too_old` or `format_too_new`.
            StoreError::Format(e) => e.code(),
            StoreError::NotInitialized => "not_initialized",
            StoreError::AlreadyInitialized(_) => "already_initialized",
        }
    }
}

/// What storage returns.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
