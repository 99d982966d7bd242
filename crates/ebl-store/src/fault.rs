//! A memory store that loses everything not yet synced when told to crash: the power-loss test bed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::kv::{Batch, Kv};
use crate::{Result, StoreError};

/// How `sync` behaves: honestly, or lying (returns without making anything durable), which is the broken
/// store the power-loss test must catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncBehaviour {
    /// A sync makes everything applied so far survive a power cut.
    Honest,
    /// A sync returns and makes nothing durable.
    Lies,
}

#[derive(Debug, Default)]
struct State {
    /// What survives a crash.
    durable: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Batches applied since the last sync, in order; readable now, gone after a crash.
    pending: Vec<Batch>,
    syncs: u64,
    witness: Option<Vec<u8>>,
    /// The append-only log, and how much of it survives a crash.
    log: Vec<u8>,
    log_durable: usize,
    /// Power is off: every operation fails until `power_on`.
    dead: bool,
}

/// Cloning shares the same storage, as two handles on one disk would.
#[derive(Debug, Clone)]
pub struct FaultyKv {
    state: Arc<Mutex<State>>,
    behaviour: SyncBehaviour,
}

impl FaultyKv {
    /// An empty store whose syncs behave as `behaviour`.
    pub fn new(behaviour: SyncBehaviour) -> FaultyKv {
        FaultyKv {
            state: Arc::default(),
            behaviour,
        }
    }

    fn state(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| StoreError::Io("store lock poisoned".into()))
    }

    /// The state, if the power is on.
    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        let state = self.state()?;
        if state.dead {
            return Err(StoreError::Io(
                "simulated power cut: the disk is gone".into(),
            ));
        }
        Ok(state)
    }

    /// Simulates a power cut: every batch not yet synced is lost, and the disk answers nothing more until
    /// [`FaultyKv::power_on`].
    pub fn crash(&self) -> Result<()> {
        let mut state = self.state()?;
        state.pending.clear();
        let durable = state.log_durable;
        state.log.truncate(durable);
        state.dead = true;
        Ok(())
    }

    /// Power returns: what was durable at the crash is readable again.
    pub fn power_on(&self) -> Result<()> {
        self.state()?.dead = false;
        Ok(())
    }

    /// How many syncs were asked for so far.
    pub fn syncs(&self) -> Result<u64> {
        Ok(self.lock()?.syncs)
    }

    fn view(state: &State) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut view = state.durable.clone();
        for batch in &state.pending {
            for (k, v) in batch {
                match v {
                    Some(v) => view.insert(k.clone(), v.clone()),
                    None => view.remove(k),
                };
            }
        }
        view
    }
}

impl Kv for FaultyKv {
    fn apply(&self, batch: Batch) -> Result<()> {
        self.lock()?.pending.push(batch);
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let state = self.lock()?;
        for batch in state.pending.iter().rev() {
            if let Some((_, v)) = batch.iter().rev().find(|(k, _)| k == key) {
                return Ok(v.clone());
            }
        }
        Ok(state.durable.get(key).cloned())
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let state = self.lock()?;
        Ok(FaultyKv::view(&state)
            .into_iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .collect())
    }

    fn sync(&self) -> Result<()> {
        let mut state = self.lock()?;
        state.syncs += 1;
        if self.behaviour == SyncBehaviour::Honest {
            let view = FaultyKv::view(&state);
            state.durable = view;
            state.pending.clear();
        }
        Ok(())
    }

    fn write_witness(&self, bytes: &[u8]) -> Result<()> {
        let mut state = self.lock()?;
        // A lying store lies about this too: nothing it claims to have written survives a crash.
        if self.behaviour == SyncBehaviour::Honest {
            state.witness = Some(bytes.to_vec());
        }
        Ok(())
    }

    fn read_witness(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.lock()?.witness.clone())
    }

    fn append(&self, bytes: &[u8]) -> Result<u64> {
        let mut state = self.lock()?;
        let offset = state.log.len() as u64;
        state.log.extend_from_slice(bytes);
        // A lying store claims the append is durable; a crash takes it back.
        if self.behaviour == SyncBehaviour::Honest {
            state.log_durable = state.log.len();
        }
        Ok(offset)
    }

    fn read_log(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let state = self.lock()?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        state
            .log
            .get(start..start.saturating_add(len))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| StoreError::Corrupt {
                what: "log",
                key: format!("{offset}+{len}"),
                reason: format!(
                    "the log ends at {}: referenced bytes are missing",
                    state.log.len()
                ),
            })
    }
}
