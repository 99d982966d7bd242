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

/// Waits for the healed nodes to reach one head, then checks them.
pub(crate) async fn all(nodes: &[Node], acked: &[Receipt]) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(SETTLE_MS);
    while nodes.iter().any(|n| height(n) != height(&nodes[0])) {
        if tokio::time::Instant::now() > deadline {
            let heights: Vec<u64> = nodes.iter().map(height).collect();
            return Err(format!(
                "the healed nodes did not reach one head: {heights:?}"
            ));
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
        state_is_the_replay(node, store).map_err(|e| format!("node {i}: {e}"))?;
    }
    Ok(())
}

fn one_block_per_height(stores: &[LedgerStore<FaultyKv>]) -> Result<(), String> {
    let top = stores[0].height().map_err(|e| e.to_string())?;
    for h in 1..=top {
        let mut hashes = Vec::new();
        for store in stores {
            let block = store
                .block(h)
                .map_err(|e| e.to_string())?
                .ok_or(format!("a node lacks block {h}"))?;
            hashes.push(block.header.header.hash());
        }
        if hashes.iter().any(|x| *x != hashes[0]) {
            return Err(format!("two blocks at height {h}: {hashes:?}"));
        }
    }
    Ok(())
}

fn nothing_acknowledged_lost(
    stores: &[LedgerStore<FaultyKv>],
    acked: &[Receipt],
) -> Result<(), String> {
    for receipt in acked {
        for (i, store) in stores.iter().enumerate() {
            let block = store
                .block(receipt.height)
                .map_err(|e| e.to_string())?
                .ok_or(format!(
                    "node {i} lost acknowledged block {} ({})",
                    receipt.height,
                    receipt.tx.to_hex()
                ))?;
            if block.header.header.hash() != receipt.block || !block.tx_ids.contains(&receipt.tx) {
                return Err(format!(
                    "node {i}: acknowledged {} in block {} at {}, but that height holds another block",
                    receipt.tx.to_hex(),
                    receipt.block.to_hex(),
                    receipt.height
                ));
            }
        }
    }
    Ok(())
}

fn state_is_the_replay(node: &Node, store: &LedgerStore<FaultyKv>) -> Result<(), String> {
    let replayed = load(store, genesis()).map_err(|e| format!("its blocks do not replay: {e}"))?;
    let running = node.running.as_ref().ok_or("not running")?;
    let published = running
        .assembled
        .published
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let shown: Vec<_> = published.ledger.bills().cloned().collect();
    let replay: Vec<_> = replayed.ledger.bills().cloned().collect();
    if shown != replay {
        return Err(format!(
            "its published bills ({}) are not the replay of its blocks ({})",
            shown.len(),
            replay.len()
        ));
    }
    if published.ledger.registry().head() != replayed.ledger.registry().head() {
        return Err("its published registry is not the replay of its blocks".into());
    }
    Ok(())
}
