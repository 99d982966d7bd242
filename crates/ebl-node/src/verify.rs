//! `ebl-node verify`: replay the stored ledger from the genesis and check every record, hash link,
//! signature, Merkle root and rule, trusting nothing the store says about state.

use ebl_core::{Ledger, MerkleTree, Signatures, TxId};
use ebl_store::{Kv, LedgerStore};
use serde::{Deserialize, Serialize};

/// What a clean replay found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The chain id (the genesis's hash).
    pub chain: ebl_core::Hash,
    /// Blocks replayed, the genesis not counted.
    pub blocks: u64,
    /// Transactions replayed.
    pub transactions: u64,
    /// Bills the replayed ledger holds.
    pub bills: usize,
    /// Parties the replayed registry holds.
    pub parties: usize,
    /// The height at which the stored state checkpoint was found equal to the replayed state (`None`
    /// if a running node rewrote it more than `CHECKPOINT_CHASES_MAX` times during the replay).
    pub state_checked_at: Option<u64>,
    /// Seconds spent replaying blocks (reading, checking signatures, applying rules), without opening
    /// the store and scanning every record's seal.
    pub replay_seconds: f64,
}

/// The first thing found wrong, and where.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{place}: {message} [{code}]")]
pub struct VerifyFailure {
    /// Where, in words (`block 12, transaction 3 (…)`, `store`, `genesis`).
    pub place: String,
    /// The block's height, where the fault is in one.
    pub height: Option<u64>,
    /// The transaction's id, where the fault is in one.
    pub tx: Option<TxId>,
    /// The broken rule's stable code (a ledger rule's, or storage's).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

/// What a replay finds wrong in the stored records themselves, beyond the ledger's rules and the
/// store's own errors (which bring their codes): one variant per broken record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A block below the stored head is not stored.
    MissingBlock,
    /// A block's transaction ids do not match its header's Merkle root or count.
    MerkleRootMismatch,
    /// A block's transactions are not stored, or fewer than it lists.
    MissingTransaction,
    /// A stored transaction is not the one its block lists, or the stored state checkpoint is not what
    /// the replay produced.
    StateMismatch,
}

impl Fault {
    /// The stable code `ebl-node verify` and `/v1/admin/verify` show.
    pub fn code(self) -> &'static str {
        match self {
            Fault::MissingBlock => "missing_block",
            Fault::MerkleRootMismatch => "merkle_root_mismatch",
            Fault::MissingTransaction => "missing_transaction",
            Fault::StateMismatch => "state_mismatch",
        }
    }
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
    progress: impl FnMut(u64, u64),
) -> Result<VerifyReport, Box<VerifyFailure>> {
    verify_store_of(store, None, progress)
}

/// [`verify_store`] of a node that follows as an auditor's (`follower`: its node key): it signs its own
/// copies of every block, with a key no member ever had, and those signatures are its own, not a
/// member node's; every other rule holds as for a member's store.
pub fn verify_store_of<K: Kv>(
    store: &LedgerStore<K>,
    follower: Option<ebl_core::PartyKey>,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifyReport, Box<VerifyFailure>> {
    let mut ledger = Ledger::new(sealed_genesis(store)?);
    let replay_started = std::time::Instant::now();
    let stored_height = || {
        store
            .height()
            .map_err(|e| store_failure("head".into(), None, e))
    };
    // A running node goes on writing while it verifies itself: the blocks up to the head read here
    // never change, and a checkpoint it writes meanwhile is chased (`Checkpoint`).
    let mut total = stored_height()?;
    let mut checkpoint = Checkpoint::new(store)?;
    if checkpoint.due(0) && checkpoint.check(store, &ledger, 0)? {
        total = total.max(stored_height()?);
    }
    let mut parent = None;
    let mut signers = Unadmitted {
        follower,
        ..Unadmitted::default()
    };
    let mut transactions = 0u64;
    let mut height = 0;
    while height < total {
        height += 1;
        let place = format!("block {height}");
        let block = store
            .block(height)
            .map_err(|e| store_failure(place.clone(), Some(height), e))?
            .ok_or_else(|| {
                failure(
                    place.clone(),
                    Some(height),
                    None,
                    Fault::MissingBlock.code(),
                    "block is not stored".into(),
                )
            })?;
        signers.check(&ledger, &block.header, parent.as_ref(), height)?;
        let stored_txs = block_transactions(store, &block, height)?;
        transactions += apply_block(&mut ledger, &block, &stored_txs, height)?;
        signers.admitted_by(&ledger);
        if checkpoint.due(height) && checkpoint.check(store, &ledger, height)? {
            // A newer checkpoint was written meanwhile: replay on to its height.
            total = total.max(stored_height()?);
        }
        parent = Some(block.header.header.clone());
        progress(height, total);
    }
    signers.all_admitted()?;
    if let Some(at) = checkpoint.pending() {
        if at > total {
            return Err(failure(
                "state height".into(),
                Some(at),
                None,
                Fault::StateMismatch.code(),
                format!("state checkpoint at {at}, above the head {total}"),
            ));
        }
    }
    Ok(VerifyReport {
        chain: ledger.chain_id(),
        blocks: total,
        transactions,
        bills: ledger.bills().count(),
        parties: ledger.registry().parties().count(),
        state_checked_at: checkpoint.matched,
        replay_seconds: replay_started.elapsed().as_secs_f64(),
    })
}

/// The genesis, once every record's seal and the witness check out: a flipped bit anywhere, reachable
/// from the head or not, is reported before anything is replayed.
fn sealed_genesis<K: Kv>(store: &LedgerStore<K>) -> Result<ebl_core::Genesis, Box<VerifyFailure>> {
    store
        .check_seals()
        .map_err(|e| store_failure("store".into(), None, e))?;
    store
        .check_witness()
        .map_err(|e| store_failure("store".into(), None, e))?;
    store
        .genesis()
        .map_err(|e| store_failure("genesis".into(), None, e))?
        .ok_or_else(|| {
            failure(
                "genesis".into(),
                None,
                None,
                ebl_store::StoreError::NotInitialized.code(),
                "no genesis stored".into(),
            )
        })
}

/// Block signers not (yet) a member node, with the first height each signed.
#[derive(Debug, Default)]
struct Unadmitted {
    first: std::collections::BTreeMap<ebl_core::PartyKey, u64>,
    /// A following node's own key, whose copies are its own.
    follower: Option<ebl_core::PartyKey>,
}

impl Unadmitted {
    /// The header follows its parent and is signed by a member node as the registry stood before
    /// this block, or by a node whose member the history admits later: a node that joined signs the
    /// copies it writes of the blocks from before (issue 35), which it must be admitted by the head for.
    fn check(
        &mut self,
        ledger: &Ledger,
        header: &ebl_core::SignedBlockHeader,
        parent: Option<&ebl_core::BlockHeader>,
        height: u64,
    ) -> Result<(), Box<VerifyFailure>> {
        header
            .follows(parent)
            .and_then(|()| {
                let binding = ebl_core::HeaderBinding::before(ledger.registry(), height);
                match ledger.registry().member_by_node(&header.signer) {
                    Some(member) => header.verify(&member.node, binding),
                    None => {
                        if self.follower != Some(header.signer) {
                            self.first.entry(header.signer).or_insert(height);
                        }
                        header.verify(&header.signer, binding)
                    }
                }
            })
            .map_err(|e| {
                failure(
                    format!("block {height}"),
                    Some(height),
                    None,
                    e.code(),
                    e.to_string(),
                )
            })
    }

    /// Forgets the signers the registry now admits.
    fn admitted_by(&mut self, ledger: &Ledger) {
        self.first
            .retain(|signer, _| ledger.registry().member_by_node(signer).is_none());
    }

    /// At the head: a block signer never admitted is `not_node`, at the first block it signed.
    fn all_admitted(&self) -> Result<(), Box<VerifyFailure>> {
        match self.first.values().min() {
            None => Ok(()),
            Some(at) => {
                let e = ebl_core::Error::NotNode;
                Err(failure(
                    format!("block {at}"),
                    Some(*at),
                    None,
                    e.code(),
                    format!("{e}: its signer was never admitted as one"),
                ))
            }
        }
    }
}

/// The block's transactions in one read of the log (each record's seal and position checked as it is
/// read), once its ids match its header's root and count.
fn block_transactions<K: Kv>(
    store: &LedgerStore<K>,
    block: &ebl_store::StoredBlock,
    height: u64,
) -> Result<Vec<ebl_core::SignedTransaction>, Box<VerifyFailure>> {
    let place = || format!("block {height}");
    let header = &block.header.header;
    if MerkleTree::new(&block.tx_ids).root() != header.tx_root
        || block.tx_ids.len() != header.tx_count as usize
    {
        return Err(failure(
            place(),
            Some(height),
            None,
            Fault::MerkleRootMismatch.code(),
            "the block's transaction ids do not match its header".into(),
        ));
    }
    let stored_txs: Vec<ebl_core::SignedTransaction> = store
        .block_transactions(height)
        .map_err(|e| store_failure(place(), Some(height), e))?
        .ok_or_else(|| {
            failure(
                place(),
                Some(height),
                None,
                Fault::MissingTransaction.code(),
                "its transactions are not stored".into(),
            )
        })?
        .into_iter()
        .map(|s| s.tx)
        .collect();
    if stored_txs.len() != block.tx_ids.len() {
        return Err(failure(
            place(),
            Some(height),
            None,
            Fault::MissingTransaction.code(),
            format!(
                "{} transactions stored for {} listed",
                stored_txs.len(),
                block.tx_ids.len()
            ),
        ));
    }
    Ok(stored_txs)
}

/// Applies the block's transactions to `ledger`: signatures are stateless, so checked on every core;
/// the rules are then applied in order, at the block's time (expiries). Returns how many.
fn apply_block(
    ledger: &mut Ledger,
    block: &ebl_store::StoredBlock,
    stored_txs: &[ebl_core::SignedTransaction],
    height: u64,
) -> Result<u64, Box<VerifyFailure>> {
    ledger.set_block(height, block.header.header.time_ms);
    let checked = verify_signatures_in_parallel(stored_txs);
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
                    format!("block {height}, transaction {index} ({id})"),
                    Some(height),
                    Some(*id),
                    e.code(),
                    e.to_string(),
                )
            })?;
    }
    Ok(stored_txs.len() as u64)
}

/// How many times a verify follows a state checkpoint that a running node rewrote while it was being
/// compared, before it reports the state as not compared (the blocks are verified all the same).
pub const CHECKPOINT_CHASES_MAX: usize = 4;

/// The stored state checkpoint, as the replay meets it: compared once the replay reaches its height.
/// A running node may write a newer one at any time (every `CHECKPOINT_TRANSACTIONS`, and when it
/// stops), in one atomic batch with its block: a comparison counts only if the checkpoint's height is
/// the same before and after it, and otherwise the replay goes on to the new one.
#[derive(Debug)]
struct Checkpoint {
    /// The height of the checkpoint still to compare; `None` once compared, or given up.
    at: Option<u64>,
    chases: usize,
    /// The height at which the stored state was found equal to the replayed one.
    matched: Option<u64>,
}

impl Checkpoint {
    fn new<K: Kv>(store: &LedgerStore<K>) -> Result<Checkpoint, Box<VerifyFailure>> {
        Ok(Checkpoint {
            at: Some(state_height(store)?),
            chases: 0,
            matched: None,
        })
    }

    fn due(&self, height: u64) -> bool {
        self.at == Some(height)
    }

    fn pending(&self) -> Option<u64> {
        self.at
    }

    /// Compares the stored state with the replay at `height`; true if the checkpoint moved meanwhile
    /// (the replay must go on to its new height).
    fn check<K: Kv>(
        &mut self,
        store: &LedgerStore<K>,
        ledger: &Ledger,
        height: u64,
    ) -> Result<bool, Box<VerifyFailure>> {
        let compared = check_state(store, ledger, height);
        let now = state_height(store)?;
        if now == height {
            compared?;
        }
        Ok(self.compared(height, now))
    }

    /// After a comparison at `height`, the checkpoint's height read again is `now`: the same, and the
    /// comparison counts; otherwise it was rewritten while it was read (what was compared may be half of
    /// each), and the new one is followed, at most `CHECKPOINT_CHASES_MAX` times. True if the replay must
    /// go on to compare at `now`.
    fn compared(&mut self, height: u64, now: u64) -> bool {
        if now == height {
            self.at = None;
            self.matched = Some(height);
            return false;
        }
        self.chases += 1;
        self.at = (self.chases <= CHECKPOINT_CHASES_MAX).then_some(now);
        self.at.is_some()
    }
}

fn state_height<K: Kv>(store: &LedgerStore<K>) -> Result<u64, Box<VerifyFailure>> {
    store
        .state_height()
        .map_err(|e| store_failure("state height".into(), None, e))
}

/// The stored state checkpoint must be exactly what the replay produced at its height.
fn check_state<K: Kv>(
    store: &LedgerStore<K>,
    ledger: &Ledger,
    height: u64,
) -> Result<(), Box<VerifyFailure>> {
    let mismatch = |place: String, message: String| {
        failure(
            place,
            Some(height),
            None,
            Fault::StateMismatch.code(),
            message,
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Operators' scripts match these codes; they are what they were when verify spelt them inline.
    /// (The first typed version of `code` called itself for every variant and overflowed the stack of
    /// the live-verify thread the first time a fault was reported.)
    #[test]
    fn regression_every_fault_code_is_its_stable_name_not_a_recursion() {
        let pinned = [
            (Fault::MissingBlock, "missing_block"),
            (Fault::MerkleRootMismatch, "merkle_root_mismatch"),
            (Fault::MissingTransaction, "missing_transaction"),
            (Fault::StateMismatch, "state_mismatch"),
        ];
        for (fault, code) in pinned {
            assert_eq!(fault.code(), code);
        }
    }

    /// A checkpoint a running node rewrites during every comparison is followed exactly
    /// `CHECKPOINT_CHASES_MAX` times; the next rewrite gives it up (the blocks are verified all the
    /// same, and the report says the state was not compared).
    #[test]
    fn a_moving_checkpoint_is_chased_up_to_the_bound_then_given_up() {
        let mut checkpoint = Checkpoint {
            at: Some(10),
            chases: 0,
            matched: None,
        };
        let mut height = 10;
        for chase in 1..=CHECKPOINT_CHASES_MAX {
            let now = height + 7;
            assert!(
                checkpoint.compared(height, now),
                "chase {chase} is followed"
            );
            assert!(checkpoint.due(now));
            height = now;
        }
        assert!(
            !checkpoint.compared(height, height + 7),
            "one more is given up"
        );
        assert_eq!((checkpoint.pending(), checkpoint.matched), (None, None));
    }

    /// Issue 35 lets a store hold copies of blocks signed by a node whose member is admitted later
    /// (a joined node's own); a block signed by a key no member ever had is still `not_node`.
    #[test]
    fn a_block_signed_by_a_key_never_admitted_is_not_a_member_nodes() {
        use ebl_core::block::BlockHeader;
        use ebl_core::testkit::{key, Cast};
        use ebl_core::{HeaderBinding, MerkleTree};
        let cast = Cast::new();
        let genesis = cast.genesis(1_000).expect("genesis");
        let chain = genesis.chain_id();
        let written_by = |signer: &ebl_core::SigningKey| {
            let store =
                LedgerStore::new(ebl_store::FaultyKv::new(ebl_store::SyncBehaviour::Honest));
            store.init(&genesis).expect("init");
            let transactions = cast.registrations(chain);
            let mut ledger = Ledger::new(genesis.clone());
            ledger.set_block(1, 2_000);
            for tx in &transactions {
                ledger.apply(tx, Signatures::Verify).expect("applies");
            }
            let ids: Vec<TxId> = transactions.iter().map(|t| t.id()).collect();
            let header = BlockHeader {
                chain,
                height: 1,
                prev: chain,
                tx_root: MerkleTree::new(&ids).root(),
                tx_count: u32::try_from(ids.len()).expect("a few"),
                time_ms: 2_000,
            };
            let binding = HeaderBinding::after(ledger.registry(), 1, &transactions);
            let block = ebl_store::StoredBlock {
                header: header.sign(signer, binding),
                tx_ids: ids,
            };
            store
                .write_block(&ebl_store::BlockWrite {
                    block: &block,
                    transactions: &transactions,
                })
                .expect("write");
            store
                .record_witness(1, block.header.header.hash())
                .expect("witness");
            verify_store(&store, |_, _| {})
        };
        assert!(written_by(&cast.node).is_ok());
        let refused = written_by(&key(77)).expect_err("a stranger's block");
        assert_eq!(
            (refused.code.as_str(), refused.height),
            ("not_node", Some(1))
        );
    }

    #[test]
    fn a_checkpoint_that_holds_still_is_compared_once() {
        let mut checkpoint = Checkpoint {
            at: Some(10),
            chases: CHECKPOINT_CHASES_MAX,
            matched: None,
        };
        assert!(!checkpoint.compared(10, 10));
        assert_eq!((checkpoint.pending(), checkpoint.matched), (None, Some(10)));
    }
}
