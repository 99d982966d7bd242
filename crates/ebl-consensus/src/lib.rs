//! `ebl-consensus`: how a node's transactions are put in order and made durable. One seam,
//! [`Consensus`], for both ways a chain is ordered: [`solo`] (a one-member chain's node orders alone,
//! `sequencer`) and [`cluster`] (a consortium's member nodes as one openraft cluster). The node submits
//! through [`Consensus::submissions`] and reads [`Consensus::published`]; it never reaches further in.
//!
//! Depends on the core and the store, never on the node: the peer traffic goes through the
//! [`cluster::peer::PeerTransport`] the node hands in, and time through the [`clock::Clock`].

// Every dependency is used by the library itself (tests bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![warn(missing_docs)]

mod checkpoints;
pub mod clock;
pub mod cluster;
mod error;
pub mod limits;
pub mod load;
pub mod metrics;
pub mod sequencer;
pub mod solo;
pub mod state;
mod writer;

use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use ebl_store::{Kv, LedgerStore, StoreError};
use tokio::sync::mpsc;

pub use error::ConsensusError;
pub use sequencer::{NotOrdered, Submission};
pub use state::Published;

/// What ordering hands the node, built once by [`solo::start`] or [`cluster::start`]: where
/// submissions go, what comes back (each submission's reply, and the published state), and the
/// thread that orders.
#[derive(Debug)]
pub struct Consensus<K: Kv> {
    /// The node's store, sealed with its node key.
    pub store: Arc<LedgerStore<K>>,
    /// The state readers see: what this node applied and made durable, never ahead of the disk.
    pub published: Arc<RwLock<Published>>,
    /// Where verified transactions go to be ordered; each [`Submission`] is answered on its reply.
    pub submissions: mpsc::Sender<Submission>,
    /// The write path's counters.
    pub metrics: Arc<metrics::Metrics>,
    /// The cluster, when a consortium orders the chain (its view, leader, certificates, statements).
    pub cluster: Option<Arc<cluster::Cluster>>,
    /// The ordering thread; it ends with a checkpoint once every sender is gone.
    pub thread: JoinHandle<Result<(), StoreError>>,
}

/// What both ways of ordering are started with.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most transactions waiting to be ordered.
    pub pending_transactions_max: usize,
    /// Transactions between two state checkpoints.
    pub checkpoint_transactions: usize,
    /// The newest chain format this node orders: its release's own.
    pub newest_format: u16,
    /// The time source: block times, and the times peer requests are signed and checked at (the
    /// system's clock in a node, tokio's paused one in the simulator).
    pub clock: Arc<dyn clock::Clock>,
}
