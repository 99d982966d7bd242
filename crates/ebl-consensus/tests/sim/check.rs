//! What every run must keep: no acknowledged transaction lost, one block at each height across the
//! nodes, and every node's state the replay of its own blocks.

use std::time::Duration;

use ebl_consensus::load::{load, seal_key};
use ebl_core::api::Receipt;
use ebl_store::{FaultyKv, LedgerStore};

use crate::world::{genesis, Node};

/// How long the healed nodes have to apply the same head.
const SETTLE_MS: u64 = 10_000;

fn height(node: &Node) -> u64 {
    node.running.as_ref().map_or(0, |r| {
        r.assembled
            .published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .head_view()
            .height
    })
}

/// A check a run broke: what it names is what to look for when the seed is replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Broken {
    /// After healing, some transaction was never acknowledged (liveness).
    #[error("the healed cluster did not acknowledge every transaction within {within_ms} ms ({acknowledged} of {submitted})")]
    NotAcknowledged {
        within_ms: u64,
        acknowledged: usize,
        submitted: usize,
    },
    /// After healing, the nodes never applied one head.
    #[error("the healed nodes did not reach one head: {heights:?}")]
    NoOneHead { heights: Vec<u64> },
    /// A node's store failed to read (its message: the store's error is not comparable).
    #[error("node {node}'s store: {reason}")]
    Store { node: usize, reason: String },
    /// A node lacks a block below the common head.
    #[error("node {node} lacks block {height}")]
    MissingBlock { node: usize, height: u64 },
    /// Two nodes hold different blocks at one height.
    #[error("two blocks at height {height}: {hashes:?}")]
    TwoBlocks {
        height: u64,
        hashes: Vec<ebl_core::Hash>,
    },
    /// An acknowledged transaction is not where its receipt put it.
    #[error("node {node}: acknowledged {tx} in block {block} at {height}, but that height holds another block, or none")]
    Lost {
        node: usize,
        tx: ebl_core::TxId,
        block: ebl_core::Hash,
        height: u64,
    },
    /// A node's blocks do not replay from the genesis.
    #[error("node {node}: its blocks do not replay: {reason}")]
    NoReplay { node: usize, reason: String },
    /// A node that should run after healing does not.
    #[error("node {node} is not running after the heal")]
    NotRunning { node: usize },
    /// A node shows readers another state than the replay of its blocks.
    #[error("node {node}: its published {what} is not the replay of its blocks")]
    NotTheReplay { node: usize, what: &'static str },
}

/// Waits for the healed nodes to reach one head, then checks them.
pub(crate) async fn all(nodes: &[Node], acked: &[Receipt]) -> Result<(), Broken> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(SETTLE_MS);
    while nodes.iter().any(|n| height(n) != height(&nodes[0])) {
        if tokio::time::Instant::now() > deadline {
            let heights: Vec<u64> = nodes.iter().map(height).collect();
            return Err(Broken::NoOneHead { heights });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stores: Vec<LedgerStore<FaultyKv>> = nodes
        .iter()
        .map(|n| LedgerStore::new(n.ledger_disk.clone()).sealed_with(seal_key(&n.key)))
        .collect();
    one_block_per_height(&stores)?;
    nothing_acknowledged_lost(&stores, acked)?;
    for (i, (node, store)) in nodes.iter().zip(&stores).enumerate() {
        state_is_the_replay(i, node, store)?;
    }
    Ok(())
}

/// Node `node`'s block at `height`.
fn block(
    stores: &[LedgerStore<FaultyKv>],
    node: usize,
    height: u64,
) -> Result<Option<ebl_store::StoredBlock>, Broken> {
    stores[node].block(height).map_err(|e| Broken::Store {
        node,
        reason: e.to_string(),
    })
}

fn one_block_per_height(stores: &[LedgerStore<FaultyKv>]) -> Result<(), Broken> {
    let top = stores[0].height().map_err(|e| Broken::Store {
        node: 0,
        reason: e.to_string(),
    })?;
    for height in 1..=top {
        let mut hashes = Vec::new();
        for node in 0..stores.len() {
            let found =
                block(stores, node, height)?.ok_or(Broken::MissingBlock { node, height })?;
            hashes.push(found.header.header.hash());
        }
        if hashes.iter().any(|x| *x != hashes[0]) {
            return Err(Broken::TwoBlocks { height, hashes });
        }
    }
    Ok(())
}

fn nothing_acknowledged_lost(
    stores: &[LedgerStore<FaultyKv>],
    acked: &[Receipt],
) -> Result<(), Broken> {
    for receipt in acked {
        for node in 0..stores.len() {
            let held = block(stores, node, receipt.height)?.is_some_and(|b| {
                b.header.header.hash() == receipt.block && b.tx_ids.contains(&receipt.tx)
            });
            if !held {
                return Err(Broken::Lost {
                    node,
                    tx: receipt.tx,
                    block: receipt.block,
                    height: receipt.height,
                });
            }
        }
    }
    Ok(())
}

fn state_is_the_replay(
    index: usize,
    node: &Node,
    store: &LedgerStore<FaultyKv>,
) -> Result<(), Broken> {
    let replayed = load(store, genesis()).map_err(|e| Broken::NoReplay {
        node: index,
        reason: e.to_string(),
    })?;
    let Some(running) = node.running.as_ref() else {
        return Err(Broken::NotRunning { node: index });
    };
    let published = running
        .assembled
        .published
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let shown: Vec<_> = published.ledger.bills().cloned().collect();
    let replay: Vec<_> = replayed.ledger.bills().cloned().collect();
    if shown != replay {
        return Err(Broken::NotTheReplay {
            node: index,
            what: "bills",
        });
    }
    if published.ledger.registry().head() != replayed.ledger.registry().head() {
        return Err(Broken::NotTheReplay {
            node: index,
            what: "registry",
        });
    }
    Ok(())
}
