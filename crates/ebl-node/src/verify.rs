//! `ebl-node verify`: replay the stored ledger from the genesis and check every record, hash link,
//! signature, Merkle root and rule, trusting nothing the store says about state.

use ebl_core::{Ledger, MerkleTree, Signatures, TxId};
use ebl_store::{Kv, LedgerStore};
use serde::Serialize;

/// What a clean replay found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub chain: ebl_core::Hash,
    pub blocks: u64,
    pub transactions: u64,
    pub bills: usize,
    pub parties: usize,
    /// Seconds spent replaying blocks (reading, checking signatures, applying rules), without opening
    /// the store and scanning every record's seal.
    pub replay_seconds: f64,
}

/// The first thing found wrong, and where.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{place}: {message} [{code}]")]
pub struct VerifyFailure {
    pub place: String,
    pub height: Option<u64>,
    pub tx: Option<TxId>,
    pub code: String,
    pub message: String,
}

fn failure(
    place: String,
    height: Option<u64>,
    tx: Option<TxId>,
    code: &str,
    message: String,
) -> Box<VerifyFailure> {
    Box::new(VerifyFailure {
        place,
        height,
        tx,
        code: code.to_owned(),
        message,
    })
}

fn store_failure(
    place: String,
    height: Option<u64>,
    e: ebl_store::StoreError,
) -> Box<VerifyFailure> {
    failure(place, height, None, e.code(), e.to_string())
}

/// Replays everything. `progress(done, total)` is called after each block.
pub fn verify_store<K: Kv>(
    store: &LedgerStore<K>,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifyReport, Box<VerifyFailure>> {
    // Every record's seal first, reachable from the head or not: a flipped bit anywhere is reported.
    store
        .check_seals()
        .map_err(|e| store_failure("store".into(), None, e))?;
    store.check_witness().map_err(|e| {
        let truncated = matches!(e, ebl_store::StoreError::Corrupt { what: "store", .. });
        let mut f = store_failure("store".into(), None, e);
        if truncated {
            f.code = "store_truncated".into();
        }
        f
    })?;
    let genesis = store
        .genesis()
        .map_err(|e| store_failure("genesis".into(), None, e))?
        .ok_or_else(|| {
            failure(
                "genesis".into(),
                None,
                None,
                "not_initialized",
                "no genesis stored".into(),
            )
        })?;
    let mut ledger = Ledger::new(genesis.clone());
    let replay_started = std::time::Instant::now();
    let total = store
        .height()
        .map_err(|e| store_failure("head".into(), None, e))?;
    let state_height = store
        .state_height()
        .map_err(|e| store_failure("state height".into(), None, e))?;
    if state_height == 0 {
        check_state(store, &ledger, 0)?;
    }
    let mut parent = None;
    let mut transactions = 0u64;
    for height in 1..=total {
        let place = format!("block {height}");
        let block = store
            .block(height)
            .map_err(|e| store_failure(place.clone(), Some(height), e))?
            .ok_or_else(|| {
                failure(
                    place.clone(),
                    Some(height),
                    None,
                    "missing_block",
                    "block is not stored".into(),
                )
            })?;
        let header = &block.header;
        header
            .follows(parent.as_ref())
            .and_then(|()| {
                // Each member node signs the blocks it writes: the signer must be a member node as the
                // registry stood before this block.
                match ledger.registry().member_by_node(&header.signer) {
                    Some(member) => header.verify(&member.node),
                    None => Err(ebl_core::Error::NotNode),
                }
            })
            .map_err(|e| failure(place.clone(), Some(height), None, e.code(), e.to_string()))?;
        if MerkleTree::new(&block.tx_ids).root() != header.header.tx_root
            || block.tx_ids.len() != header.header.tx_count as usize
        {
            return Err(failure(
                place,
                Some(height),
                None,
                "merkle_root_mismatch",
                "the block's transaction ids do not match its header".into(),
            ));
        }
        let place = |index: usize, id: &TxId| format!("block {height}, transaction {index} ({id})");
        // The whole block's transactions in one read of the log; each record's seal and position are
        // checked as it is read.
        let stored_txs: Vec<ebl_core::SignedTransaction> = store
            .block_transactions(height)
            .map_err(|e| store_failure(format!("block {height}"), Some(height), e))?
            .ok_or_else(|| {
                failure(
                    format!("block {height}"),
                    Some(height),
                    None,
                    "missing_transaction",
                    "its transactions are not stored".into(),
                )
            })?
            .into_iter()
            .map(|s| s.tx)
            .collect();
        if stored_txs.len() != block.tx_ids.len() {
            return Err(failure(
                format!("block {height}"),
                Some(height),
                None,
                "missing_transaction",
                format!(
                    "{} transactions stored for {} listed",
                    stored_txs.len(),
                    block.tx_ids.len()
                ),
            ));
        }
        // Signatures are stateless: checked on every core; the rules are then applied in order, at the
        // block's time (expiries).
        ledger.set_block_time(header.header.time_ms);
        let checked = verify_signatures_in_parallel(&stored_txs);
        for (index, (tx, check)) in stored_txs.iter().zip(checked).enumerate() {
            let id = &block.tx_ids[index];
            let verified = check.and_then(|got| {
                if got == *id {
                    Ok(())
                } else {
                    Err(ebl_core::Error::MalformedEncoding {
                        reason: format!("transaction hashes to {got}"),
                    })
                }
            });
            verified
                .and_then(|()| {
                    ledger
                        .apply_identified(tx, *id, Signatures::AlreadyVerified)
                        .map(|_| ())
                })
                .map_err(|e| {
                    failure(
                        place(index, id),
                        Some(height),
                        Some(*id),
                        e.code(),
                        e.to_string(),
                    )
                })?;
            transactions += 1;
        }
        if height == state_height {
            check_state(store, &ledger, height)?;
        }
        parent = Some(header.header.clone());
        progress(height, total);
    }
    if state_height > total {
        return Err(failure(
            "state height".into(),
            Some(state_height),
            None,
            "state_mismatch",
            format!("state checkpoint at {state_height}, above the head {total}"),
        ));
    }
    Ok(VerifyReport {
        chain: ledger.chain_id(),
        blocks: total,
        transactions,
        bills: ledger.bills().count(),
        parties: ledger.registry().parties().count(),
        replay_seconds: replay_started.elapsed().as_secs_f64(),
    })
}

/// The stored state checkpoint must be exactly what the replay produced at its height.
fn check_state<K: Kv>(
    store: &LedgerStore<K>,
    ledger: &Ledger,
    height: u64,
) -> Result<(), Box<VerifyFailure>> {
    let mismatch = |place: String, message: String| {
        failure(place, Some(height), None, "state_mismatch", message)
    };
    let stored_bills = store
        .bills()
        .map_err(|e| store_failure("bill states".into(), None, e))?;
    for bill in &stored_bills {
        if ledger.bill(&bill.id) != Some(bill) {
            return Err(mismatch(
                format!("bill state {}", bill.id),
                "stored bill state differs from the replayed history".into(),
            ));
        }
    }
    let bills = ledger.bills().count();
    if stored_bills.len() != bills {
        return Err(mismatch(
            "bill states".into(),
            format!("{} bills stored, {bills} replayed", stored_bills.len()),
        ));
    }
    let parties = store
        .parties()
        .map_err(|e| store_failure("parties".into(), None, e))?;
    for party in &parties {
        if ledger.registry().party(party.id) != Some(party) {
            return Err(mismatch(
                format!("party {}", party.id),
                "stored party differs from the replayed registry".into(),
            ));
        }
    }
    let registry_head = store
        .registry_head()
        .map_err(|e| store_failure("registry head".into(), None, e))?;
    let expected = ledger.registry().state();
    if registry_head
        .as_ref()
        .is_some_and(|stored| stored != expected)
        || (registry_head.is_none() && expected.head != ledger.chain_id())
    {
        return Err(mismatch(
            "registry head".into(),
            "stored registry head differs from the replayed registry".into(),
        ));
    }
    Ok(())
}

/// `verified_id` of every transaction, spread over the machine's cores.
fn verify_signatures_in_parallel(
    txs: &[ebl_core::SignedTransaction],
) -> Vec<ebl_core::Result<TxId>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores == 1 || txs.len() < 16 {
        return txs
            .iter()
            .map(ebl_core::SignedTransaction::verified_id)
            .collect();
    }
    let chunk = txs.len().div_ceil(cores);
    std::thread::scope(|s| {
        let handles: Vec<_> = txs
            .chunks(chunk)
            .map(|part| {
                let handle = s.spawn(move || {
                    part.iter()
                        .map(ebl_core::SignedTransaction::verified_id)
                        .collect::<Vec<_>>()
                });
                (part.len(), handle)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, h)| {
                // A panicked verifier condemns its whole share: every result stays aligned with its transaction.
                h.join().unwrap_or_else(|_| {
                    (0..len)
                        .map(|_| {
                            Err(ebl_core::Error::MalformedEncoding {
                                reason: "verifier thread panicked".into(),
                            })
                        })
                        .collect()
                })
            })
            .collect()
    })
}
