//! A one-member chain's node orders alone: its ledger loaded from its store, and the sequencer's
//! thread started on it. Only the first member's node may: a second ordering node would fork the chain.

use std::path::PathBuf;
use std::sync::Arc;

use ebl_core::{PartyKey, SigningKey};
use ebl_store::{Kv, LedgerStore, StoreError};
use tokio::sync::mpsc;

use crate::load::seal_key;
use crate::metrics::Metrics;
use crate::sequencer::Sequencer;
use crate::writer::{BlockWriter, Resumed};
use crate::{Consensus, ConsensusError, Options};

/// Loads the ledger from `store` and starts the sequencer.
pub fn start<K: Kv>(
    store: LedgerStore<K>,
    node_key: &SigningKey,
    options: &Options,
) -> Result<Consensus<K>, ConsensusError> {
    let store = store.sealed_with(seal_key(node_key));
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    // A store that lost acknowledged blocks must not go on: new blocks would fork the history.
    store.check_witness()?;
    if Some(PartyKey::of(node_key)) != genesis.first_node() {
        return Err(ConsensusError::WrongNodeKey(PathBuf::from("node.key")));
    }
    let store = Arc::new(store);
    let metrics = Arc::new(Metrics::default());
    let (submissions, rx) = mpsc::channel(options.pending_transactions_max.max(1));
    let Resumed {
        ledger,
        writer,
        published,
    } = BlockWriter::resume(
        store.clone(),
        genesis,
        node_key.clone(),
        metrics.clone(),
        options.checkpoint_transactions,
    )?;
    let sequencer = Sequencer {
        ledger,
        writer,
        published: published.clone(),
        newest_format: options.newest_format,
        clock: options.clock.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("sequencer".into())
        .spawn(move || {
            let result = sequencer.run(rx);
            if let Err(e) = &result {
                tracing::error!(error = %e, "storage failed: the sequencer stopped and the node accepts no more transactions");
            }
            result
        })
        .map_err(|source| ConsensusError::Thread {
            what: "sequencer",
            source,
        })?;
    Ok(Consensus {
        store,
        published,
        submissions,
        metrics,
        cluster: None,
        thread,
    })
}
