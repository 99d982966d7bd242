//! Why ordering would not start: each a rule of the node's store, key or cluster, with its cause kept.

use std::path::PathBuf;

use ebl_store::StoreError;

/// Why ordering did not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// The store failed or holds what it must not.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A one-member chain's node started with another node's key.
    #[error("the node key in {0} is not the first member's node key: until the log is replicated across members' nodes, only that node orders the chain")]
    WrongNodeKey(PathBuf),
    /// A cluster node whose key no member of the genesis names.
    #[error("the node key in {0} is not a member's node key in this genesis")]
    NotAMember(PathBuf),
    /// Two member node keys whose Raft ids (the first 8 bytes of their hash) are the same.
    #[error("two member node keys share a cluster id (the first 8 bytes of their hash): make a new node key")]
    ClusterIdCollision,
    /// The cluster's timings are not ones openraft runs with.
    #[error("cluster timing: {0}")]
    Timing(#[source] Box<openraft::ConfigError>),
    /// openraft refused to start on this node's storage.
    #[error("starting Raft: {0}")]
    Raft(#[source] Box<openraft::error::Fatal<crate::cluster::NodeId>>),
    /// The operating system would not start ordering's thread.
    #[error("starting the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A consortium member's node whose store holds blocks but whose Raft log is gone: restored from a
    /// backup, or the log deleted. It must not vote or acknowledge again, or entries the consortium
    /// counted it for could be lost (and its leader's record of its log would run backwards).
    #[error("this member node's store holds {height} blocks but its Raft log ({raft}) is gone (a restored backup, or a deleted log); a member node that lost its log must not vote again. Keep this directory as a verified copy (`ebl-node verify`), and rejoin the consortium with a new node key (docs/upgrading.md, \"Restoring a consortium member\")")]
    RaftStateLost {
        /// The store's height.
        height: u64,
        /// Where the Raft log should be.
        raft: PathBuf,
    },
}
