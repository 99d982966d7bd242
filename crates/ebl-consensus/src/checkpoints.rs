//! State checkpoints written beside the block pipeline, on a thread of their own.
//!
//! A checkpoint writes every bill and party changed since the last one: with 8 192 bills in play that is
//! 8 192 sealed records, which took the sequencer 60-500 ms to write inside one block's batch (measured
//! on the 2-core machine), a pause every client in flight waited out. Now the block is written alone and
//! the state as of its height (copied when the block was written) goes to this thread, which writes it
//! in small batches while later blocks go on, each state into the slot the committed checkpoint does
//! not read, then commits it with one small batch naming its height (`ebl_store::LedgerStore::
//! write_states`). A crash before the commit leaves the last checkpoint in force (a start replays a
//! little more); the commit becomes durable with the next block's sync. Checkpoints are written in the
//! order they were taken.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use ebl_core::format::Activation;
use ebl_core::{Bill, Party, RegistryHead};
use ebl_store::{Kv, LedgerStore, StoreError};

use crate::metrics::Metrics;

/// States per piece of a checkpoint: one sled batch each, a few milliseconds that a block's batch may
/// wait behind (sled applies one batch at a time).
pub(crate) const CHECKPOINT_PIECE_STATES: usize = 256;

/// The state as of a written block, copied for the checkpoint thread.
#[derive(Debug)]
pub(crate) struct StateAt {
    pub height: u64,
    pub bills: Vec<Bill>,
    pub parties: Vec<Party>,
    pub registry: RegistryHead,
    pub formats: Vec<Activation>,
}

enum Job {
    Write(StateAt),
    /// Answered once every checkpoint sent before it is written.
    Settle(mpsc::Sender<()>),
}

/// The checkpoint thread: takes states in order, writes each; a storage failure is kept and reported
/// to the writer before its next block.
pub(crate) struct Checkpoints {
    jobs: Option<mpsc::SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
    failed: Arc<Mutex<Option<StoreError>>>,
}

impl std::fmt::Debug for Checkpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoints").finish_non_exhaustive()
    }
}

fn stopped() -> StoreError {
    StoreError::Io("the checkpoint thread stopped".into())
}

impl Checkpoints {
    /// Starts the thread writing checkpoints to `store`.
    pub(crate) fn start<K: Kv>(
        store: Arc<LedgerStore<K>>,
        metrics: Arc<Metrics>,
    ) -> Result<Checkpoints, StoreError> {
        // One state waits while one is written: a checkpoint is due at most every
        // `CHECKPOINT_TRANSACTIONS`, so a third would mean the disk cannot keep up, and the writer waits.
        let (jobs, queue) = mpsc::sync_channel::<Job>(1);
        let failed = Arc::new(Mutex::new(None));
        let failure = failed.clone();
        let thread = std::thread::Builder::new()
            .name("checkpoints".into())
            .spawn(move || {
                for job in queue {
                    match job {
                        Job::Write(state) => {
                            let started = Instant::now();
                            let written = write_in_pieces(&store, &state);
                            metrics.phase("checkpoint", started.elapsed());
                            if let Err(e) = written {
                                if let Ok(mut slot) = failure.lock() {
                                    *slot = Some(e);
                                }
                                // Later states would name heights past the one that failed: none is
                                // written, and the writer stops at its next block.
                                return;
                            }
                        }
                        Job::Settle(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(Checkpoints {
            jobs: Some(jobs),
            thread: Some(thread),
            failed,
        })
    }

    /// The failure of an earlier checkpoint, if one failed: the writer stops on it.
    pub(crate) fn healthy(&self) -> Result<(), StoreError> {
        match self.failed.lock() {
            Ok(mut slot) => slot.take().map_or(Ok(()), Err),
            Err(_) => Err(stopped()),
        }
    }

    /// Hands `state` to the thread (waiting if one is already queued).
    pub(crate) fn send(&self, state: StateAt) -> Result<(), StoreError> {
        self.healthy()?;
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(Job::Write(state))
            .map_err(|_| self.healthy().err().unwrap_or_else(stopped))
    }

    /// Returns once every checkpoint handed over so far is written (not yet synced).
    pub(crate) fn settle(&self) -> Result<(), StoreError> {
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        let (done, settled) = mpsc::channel();
        let answered = jobs
            .send(Job::Settle(done))
            .ok()
            .and_then(|()| settled.recv().ok());
        self.healthy()?;
        answered.ok_or_else(stopped)
    }
}

/// Writes `state` as a checkpoint: its states in pieces of `CHECKPOINT_PIECE_STATES`, then the commit
/// that makes them the ones read. A crash before the commit leaves the last checkpoint in force.
fn write_in_pieces<K: Kv>(store: &LedgerStore<K>, state: &StateAt) -> Result<(), StoreError> {
    for bills in state.bills.chunks(CHECKPOINT_PIECE_STATES) {
        store.write_states(state.height, bills, &[])?;
    }
    for parties in state.parties.chunks(CHECKPOINT_PIECE_STATES) {
        store.write_states(state.height, &[], parties)?;
    }
    store.commit_checkpoint(state.height, &state.registry, &state.formats)
}

impl Drop for Checkpoints {
    /// Lets the thread finish what it was given, then joins it.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebl_store::{FaultyKv, SyncBehaviour};

    /// A checkpoint the store fails to write is reported, by `settle` and before the writer's next
    /// block (`healthy`), and nothing more is taken: the writer stops instead of running ahead.
    #[test]
    fn a_failed_checkpoint_is_reported_and_stops_the_writer() {
        let cast = ebl_core::testkit::Cast::new();
        let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
        let registry = ebl_core::Ledger::new(genesis.clone())
            .registry()
            .state()
            .clone();
        let kv = FaultyKv::new(SyncBehaviour::Honest);
        let store = Arc::new(LedgerStore::new(kv.clone()));
        store.init(&genesis).expect("init");
        let checkpoints = Checkpoints::start(store, Arc::new(Metrics::default())).expect("thread");
        checkpoints.healthy().expect("nothing failed yet");
        kv.crash().expect("the disk goes away");
        let state = || StateAt {
            height: 1,
            bills: Vec::new(),
            parties: Vec::new(),
            registry: registry.clone(),
            formats: Vec::new(),
        };
        checkpoints.send(state()).expect("taken");
        checkpoints.settle().expect_err("the write failed");
        checkpoints
            .send(state())
            .expect_err("nothing more is taken once one failed");
    }
}
