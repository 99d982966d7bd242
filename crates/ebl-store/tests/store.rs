//! The store on its own: the head witness, and the on-disk layout of a block.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

use ebl_store::{Kv, LedgerStore, SledKv};

#[test]
fn a_missing_witness_is_no_fault_and_a_damaged_one_is() {
    let dir = tempfile::tempdir().expect("dir");
    let store = LedgerStore::new(SledKv::open(&dir.path().join("store")).expect("open"));
    assert_eq!(store.witness().expect("read"), None);
    assert!(store.check_witness().is_ok());
    store
        .record_witness(0, ebl_core::Hash::ZERO)
        .expect("write");
    assert_eq!(
        store.witness().expect("read"),
        Some((0, ebl_core::Hash::ZERO))
    );
    store.kv().write_witness(b"garbage").expect("damage");
    assert_eq!(
        store.witness().expect_err("damaged").code(),
        "storage_corrupt"
    );
}

/// The on-disk layout: which keys one block writes, byte for byte. A change here is a format change.
#[test]
fn the_key_layout_of_a_block_is_pinned() {
    let (store, block, txs) = first_block(false);
    let tx = txs[0].clone();
    let id = tx.id();
    let chain = block.header.header.chain;
    write(&store, &block, &txs);
    let keys: Vec<Vec<u8>> = store
        .raw_entries()
        .expect("entries")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // `L`, the store layout, is written with the genesis from layout 2 on (stores of layout 1 lack it
    // and are read as such: see `a_store_of_layout_1_without_its_record_opens`).
    let mut expected = vec![
        b"H".to_vec(),
        b"L".to_vec(),
        [b"b".as_slice(), &1u64.to_be_bytes()].concat(),
        b"g".to_vec(),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    // Every value is its codec bytes followed by SHA-256 over key and bytes.
    let head = store.kv().get(b"H").expect("read").expect("head");
    assert_eq!(&head[..8], &1u64.to_le_bytes());
    assert_eq!(
        &head[8..],
        ebl_core::Hash::of_parts(&[b"H", &1u64.to_le_bytes()]).as_bytes()
    );
    // The transaction itself is in the log, sealed under the key it would have as a record:
    // `t`, height, index.
    let stored = ebl_store::StoredTransaction {
        height: 1,
        index: 0,
        tx,
    };
    let payload = ebl_core::codec::encode(&stored);
    let t_key = [b"t".as_slice(), &1u64.to_be_bytes(), &0u32.to_be_bytes()].concat();
    let record = [
        payload.as_slice(),
        ebl_core::Hash::of_parts(&[&t_key, &payload]).as_bytes(),
    ]
    .concat();
    assert_eq!(store.kv().read_log(0, record.len()).expect("log"), record);
    assert!(
        store.kv().read_log(0, record.len() + 1).is_err(),
        "the log holds nothing else"
    );
    // The id index is not in the key-value data: its runs are files of their own (pinned in
    // `index::run`), and it finds the transaction.
    assert_eq!(store.transaction(&id).expect("read"), Some(stored.clone()));
    assert_eq!(
        store.block_transactions(1).expect("read"),
        Some(vec![stored.clone()])
    );
    // No history index: a history is walked back along the `prev` each transaction names.
    assert_eq!(
        store.history_back(id, chain, 1).expect("walk"),
        vec![stored]
    );
    assert_eq!(
        store
            .history_back(id, ebl_core::Hash::ZERO, 1)
            .expect_err("the registry's first change names the chain id, not zero")
            .code(),
        "storage_corrupt"
    );
}

#[test]
fn a_crash_leaves_no_reference_to_lost_log_bytes() {
    use ebl_store::{FaultyKv, SyncBehaviour};
    // Honest: an append is durable when it returns, whatever happens to unsynced batches.
    let kv = FaultyKv::new(SyncBehaviour::Honest);
    let at = kv.append(b"first").expect("append");
    kv.apply(vec![(b"k".to_vec(), Some(b"v".to_vec()))])
        .expect("apply");
    kv.crash().expect("crash");
    kv.power_on().expect("power");
    assert_eq!(kv.read_log(at, 5).expect("durable"), b"first");
    assert_eq!(
        kv.get(b"k").expect("get"),
        None,
        "the unsynced batch is gone"
    );
    assert_eq!(kv.append(b"second").expect("append"), 5);
    // A lying store loses its appends at a crash: reading them is an error, never other bytes.
    let liar = FaultyKv::new(SyncBehaviour::Lies);
    let at = liar.append(b"lost").expect("append");
    liar.crash().expect("crash");
    liar.power_on().expect("power");
    assert_eq!(
        liar.read_log(at, 4).expect_err("gone").code(),
        "storage_corrupt"
    );
}

#[test]
fn the_sled_log_survives_reopening_and_refuses_reads_past_its_end() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("store");
    {
        let kv = SledKv::open(&path).expect("open");
        assert_eq!(kv.append(b"abc").expect("append"), 0);
        assert_eq!(kv.append(b"defg").expect("append"), 3);
    }
    let kv = SledKv::open(&path).expect("reopen");
    assert_eq!(kv.read_log(1, 5).expect("read"), b"bcdef");
    assert_eq!(
        kv.append(b"h").expect("append"),
        7,
        "appends go on at the end"
    );
    assert_eq!(
        kv.read_log(5, 4).expect_err("past the end").code(),
        "storage_corrupt"
    );
}

/// A backend that records the order of the calls a block write makes, and can refuse appends.
#[derive(Debug)]
struct Recording {
    inner: ebl_store::FaultyKv,
    calls: std::sync::Mutex<Vec<&'static str>>,
    appends_fail: bool,
}

impl Kv for Recording {
    fn apply(&self, batch: ebl_store::Batch) -> ebl_store::Result<()> {
        self.calls.lock().expect("lock").push("apply");
        self.inner.apply(batch)
    }
    fn get(&self, key: &[u8]) -> ebl_store::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> ebl_store::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }
    fn sync(&self) -> ebl_store::Result<()> {
        self.inner.sync()
    }
    fn write_witness(&self, bytes: &[u8]) -> ebl_store::Result<()> {
        self.inner.write_witness(bytes)
    }
    fn read_witness(&self) -> ebl_store::Result<Option<Vec<u8>>> {
        self.inner.read_witness()
    }
    fn append(&self, bytes: &[u8]) -> ebl_store::Result<u64> {
        self.calls.lock().expect("lock").push("append");
        if self.appends_fail {
            return Err(ebl_store::StoreError::Io("disk full".into()));
        }
        self.inner.append(bytes)
    }
    fn read_log(&self, offset: u64, len: usize) -> ebl_store::Result<Vec<u8>> {
        self.inner.read_log(offset, len)
    }
}

/// A block at height 1 registering the bank, and the store it is to be written to.
fn first_block(
    appends_fail: bool,
) -> (
    LedgerStore<Recording>,
    ebl_store::StoredBlock,
    Vec<ebl_core::SignedTransaction>,
) {
    first_block_in(Recording {
        inner: ebl_store::FaultyKv::new(ebl_store::SyncBehaviour::Honest),
        calls: std::sync::Mutex::new(Vec::new()),
        appends_fail,
    })
}

/// The first block, and a store over `kv` to write it to.
fn first_block_in<K: Kv>(
    kv: K,
) -> (
    LedgerStore<K>,
    ebl_store::StoredBlock,
    Vec<ebl_core::SignedTransaction>,
) {
    use ebl_core::testkit::{self, Cast};
    use ebl_core::{BlockHeader, MerkleTree};
    let cast = Cast::new();
    let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
    let chain = genesis.chain_id();
    let store = LedgerStore::new(kv);
    store.init(&genesis).expect("init");
    let tx = testkit::signed(
        chain,
        chain,
        1,
        cast.bank.registration().expect("reg"),
        &[&cast.operator],
    );
    let header = BlockHeader {
        chain,
        height: 1,
        prev: chain,
        tx_root: MerkleTree::new(&[tx.id()]).root(),
        tx_count: 1,
        time_ms: 1_700_000_000_001,
    }
    .sign(&cast.node, ebl_core::HeaderBinding::Unbound);
    let block = ebl_store::StoredBlock {
        header,
        tx_ids: vec![tx.id()],
    };
    (store, block, vec![tx])
}

/// The durability argument's ordering: a block's transactions are in the log (durably) before the batch
/// that refers to them is applied, so the key-value data never points at log bytes a crash could lose.
#[test]
fn the_log_append_comes_before_the_batch_that_refers_to_it() {
    let (store, block, txs) = first_block(false);
    store.kv().calls.lock().expect("lock").clear();
    write(&store, &block, &txs);
    assert_eq!(*store.kv().calls.lock().expect("lock"), ["append", "apply"]);
}

#[test]
fn a_failed_append_writes_no_block() {
    let (store, block, txs) = first_block(true);
    let before = store.raw_entries().expect("entries");
    store.kv().calls.lock().expect("lock").clear();
    store
        .write_block(&ebl_store::BlockWrite {
            block: &block,
            transactions: &txs,
        })
        .expect_err("the append failed");
    assert_eq!(
        *store.kv().calls.lock().expect("lock"),
        ["append"],
        "no batch after it"
    );
    assert_eq!(store.raw_entries().expect("entries"), before);
    assert_eq!(store.height().expect("height"), 0);
}

/// The id index is derived from the block records: a store whose index directory was lost (or that was
/// written before the index had files of its own) finds its transactions again after an open.
#[test]
fn a_lost_id_index_is_built_again_from_the_blocks() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("store");
    let id = {
        let (store, block, txs) = first_block_in(SledKv::open(&path).expect("open"));
        write(&store, &block, &txs);
        store.sync().expect("sync");
        txs[0].id()
    };
    let index_dir = path.with_extension("index");
    assert!(index_dir.is_dir(), "sled's store keeps its index beside it");
    std::fs::remove_dir_all(&index_dir).expect("lose the index");
    let store = LedgerStore::new(SledKv::open(&path).expect("reopen"));
    let found = store
        .transaction(&id)
        .expect("read")
        .expect("indexed again");
    assert_eq!((found.height, found.index, found.tx.id()), (1, 0, id));
    assert!(index_dir.is_dir());
}

/// Writes `block` with its transactions and no checkpoint.
fn write<K: Kv>(
    store: &LedgerStore<K>,
    block: &ebl_store::StoredBlock,
    txs: &[ebl_core::SignedTransaction],
) {
    store
        .write_block(&ebl_store::BlockWrite {
            block,
            transactions: txs,
        })
        .expect("write");
}

/// Blocks at heights 2..=`to` after `first`, without transactions: heights for checkpoints to name.
fn empty_blocks_after<K: Kv>(store: &LedgerStore<K>, first: &ebl_store::StoredBlock, to: u64) {
    use ebl_core::{BlockHeader, MerkleTree};
    let node = ebl_core::testkit::Cast::new().node;
    let mut prev = first.header.header.clone();
    for height in 2..=to {
        let header = BlockHeader {
            chain: prev.chain,
            height,
            prev: prev.hash(),
            tx_root: MerkleTree::new(&[]).root(),
            tx_count: 0,
            time_ms: prev.time_ms + 1,
        };
        let block = ebl_store::StoredBlock {
            header: header.clone().sign(&node, ebl_core::HeaderBinding::Unbound),
            tx_ids: Vec::new(),
        };
        write(store, &block, &[]);
        prev = header;
    }
}

/// A bill state as the ledger makes it (the store checks none of its content), and the same bill
/// with another possessor.
fn bill_states() -> (ebl_core::Bill, ebl_core::Bill, ebl_core::Bill) {
    use ebl_core::testkit::Cast;
    use ebl_core::{Ledger, Signatures};
    let cast = Cast::new();
    let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
    let chain = genesis.chain_id();
    let mut ledger = Ledger::new(genesis);
    for tx in cast.registrations(chain) {
        ledger.apply(&tx, Signatures::Verify).expect("registration");
    }
    let mut bills = ["SLOT-1", "SLOT-2"].map(|reference| {
        let issue = cast
            .issue(chain, reference, 1_700_000_000_001)
            .expect("issue");
        ledger.apply(&issue, Signatures::Verify).expect("issue");
        ledger.bill(&issue.id()).cloned().expect("issued")
    });
    let [a, b] = &mut bills;
    let mut moved = a.clone();
    moved.possessor = cast.buyer.id;
    (a.clone(), moved, b.clone())
}

/// Writes `bill` as a one-piece checkpoint at `height`, checks that `unchanged` still reads as it was
/// until the commit, then commits.
fn piece_then_commit<K: Kv>(
    store: &LedgerStore<K>,
    height: u64,
    bill: &ebl_core::Bill,
    registry: &ebl_core::RegistryHead,
    unchanged: &ebl_core::Bill,
) {
    store
        .write_states(height, std::slice::from_ref(bill), &[])
        .expect("piece");
    assert_eq!(
        store.bill(&unchanged.id).expect("read"),
        Some(unchanged.clone()),
        "a piece is not read before its commit"
    );
    store
        .commit_checkpoint(height, registry, &[])
        .expect("commit");
}

/// The registry of a fresh ledger, for commits (the store checks none of its content).
fn registry() -> ebl_core::RegistryHead {
    let genesis = ebl_core::testkit::Cast::new()
        .genesis(1_700_000_000_000)
        .expect("genesis");
    ebl_core::Ledger::new(genesis).registry().state().clone()
}

fn possessors<K: Kv>(store: &LedgerStore<K>) -> Vec<(ebl_core::BillId, ebl_core::PartyId)> {
    let mut out: Vec<_> = store
        .bills()
        .expect("bills")
        .iter()
        .map(|b| (b.id, b.possessor))
        .collect();
    out.sort();
    out
}

/// A checkpoint written in pieces beside the blocks is read only once committed, and a crash between
/// its pieces and its commit leaves the last committed checkpoint whole: each piece goes to the slot
/// the committed checkpoint does not read, never over the state a start falls back on.
#[test]
fn regression_a_crash_between_a_checkpoints_pieces_and_its_commit_keeps_the_last_checkpoint() {
    let kv = ebl_store::FaultyKv::new(ebl_store::SyncBehaviour::Honest);
    let (store, block, txs) = first_block_in(kv.clone());
    write(&store, &block, &txs);
    empty_blocks_after(&store, &block, 4);
    let (a, a_moved, b) = bill_states();
    let registry = registry();
    store
        .write_checkpoint(&ebl_store::Checkpoint {
            height: 1,
            bills: std::slice::from_ref(&a),
            parties: &[],
            registry: &registry,
            formats: &[],
        })
        .expect("checkpoint at 1");
    store.sync().expect("sync");
    let at_one = vec![(a.id, a.possessor)];
    assert_eq!(possessors(&store), at_one);

    // Pieces at 2: the moved bill and a new one, synced but not committed.
    store
        .write_states(2, std::slice::from_ref(&a_moved), &[])
        .expect("piece");
    store
        .write_states(2, std::slice::from_ref(&b), &[])
        .expect("piece");
    store.sync().expect("sync");
    assert_eq!(
        possessors(&store),
        at_one,
        "pieces are not read before the commit"
    );
    assert_eq!(store.bill(&a.id).expect("read"), Some(a.clone()));
    assert_eq!(store.bill(&b.id).expect("read"), None);

    kv.crash().expect("crash");
    kv.power_on().expect("power on");
    let store = LedgerStore::new(kv.clone());
    assert_eq!(store.state_height().expect("height"), 1);
    assert_eq!(
        possessors(&store),
        at_one,
        "the last committed checkpoint, whole"
    );

    // The next checkpoint writes over the cut one's pieces, not over the committed state.
    piece_then_commit(&store, 3, &b, &registry, &a);
    let mut at_three = vec![(a.id, a.possessor), (b.id, b.possessor)];
    at_three.sort();
    assert_eq!(
        possessors(&store),
        at_three,
        "a bill untouched since 1 reads as of 1"
    );

    // Two committed states of the moved bill later, the older slot is the one rewritten.
    piece_then_commit(&store, 4, &a_moved, &registry, &a);
    assert_eq!(store.bill(&a.id).expect("read"), Some(a_moved.clone()));
    store.sync().expect("sync");
    kv.crash().expect("crash");
    kv.power_on().expect("power on");
    let store = LedgerStore::new(kv);
    assert_eq!(store.bill(&a.id).expect("read"), Some(a_moved));
}

/// A piece at or below the committed height is refused: it would tie with (or undercut) the state it
/// replaces, and an uncommitted record must never be read.
#[test]
fn pieces_of_a_checkpoint_go_only_above_the_committed_height_and_not_above_the_head() {
    let kv = ebl_store::FaultyKv::new(ebl_store::SyncBehaviour::Honest);
    let (store, block, txs) = first_block_in(kv);
    write(&store, &block, &txs);
    empty_blocks_after(&store, &block, 3);
    let (a, _, _) = bill_states();
    let registry = registry();
    store
        .commit_checkpoint(2, &registry, &[])
        .expect("commit at 2");
    for height in [1, 2, 4] {
        store
            .write_states(height, std::slice::from_ref(&a), &[])
            .expect_err("refused");
    }
    store
        .commit_checkpoint(1, &registry, &[])
        .expect_err("below the committed one");
    store
        .commit_checkpoint(4, &registry, &[])
        .expect_err("above the head");
    assert_eq!(store.bills().expect("bills"), Vec::new());
    store
        .write_states(3, std::slice::from_ref(&a), &[])
        .expect("above the committed height");
}

/// A store written before the slots holds one state record per id, without a slot byte: read as the
/// oldest state, until a newer checkpoint commits one in a slot.
#[test]
fn a_state_from_before_the_slots_is_read_until_a_newer_checkpoint_commits() {
    let kv = ebl_store::FaultyKv::new(ebl_store::SyncBehaviour::Honest);
    let (store, block, txs) = first_block_in(kv.clone());
    write(&store, &block, &txs);
    empty_blocks_after(&store, &block, 2);
    let (a, a_moved, _) = bill_states();
    // The record as the store wrote it before: key `s` + id, the bill, a keyed seal (the unkeyed store's).
    let mut key = vec![b's'];
    key.extend_from_slice(a.id.as_bytes());
    let sealed = ebl_store::seal_unkeyed(&key, ebl_core::codec::encode(&a));
    kv.apply(vec![(key, Some(sealed))]).expect("old record");
    let registry = registry();
    store.commit_checkpoint(1, &registry, &[]).expect("commit");
    assert_eq!(store.bills().expect("bills"), vec![a.clone()]);
    store
        .write_states(2, std::slice::from_ref(&a_moved), &[])
        .expect("piece");
    assert_eq!(store.bill(&a.id).expect("read"), Some(a));
    store.commit_checkpoint(2, &registry, &[]).expect("commit");
    assert_eq!(store.bills().expect("bills"), vec![a_moved.clone()]);
    assert_eq!(store.bill(&a_moved.id).expect("read"), Some(a_moved));
}

/// A store whose genesis is sealed with `version` as its chain format, and `layout` as its record (none:
/// a store made before the record existed).
fn store_of_format(version: u16, layout: Option<u16>) -> LedgerStore<ebl_store::FaultyKv> {
    let cast = ebl_core::testkit::Cast::new();
    let mut genesis = cast.genesis(1_700_000_000_000).expect("genesis");
    genesis.version = version;
    let kv = ebl_store::FaultyKv::new(ebl_store::SyncBehaviour::Honest);
    let mut batch = vec![(
        b"g".to_vec(),
        Some(ebl_store::seal_unkeyed(
            b"g",
            ebl_core::codec::encode(&genesis),
        )),
    )];
    if let Some(layout) = layout {
        batch.push((
            b"L".to_vec(),
            Some(ebl_store::seal_unkeyed(
                b"L",
                ebl_core::codec::encode(&layout),
            )),
        ));
    }
    kv.apply(batch).expect("write");
    LedgerStore::new(kv)
}

#[test]
fn a_store_of_layout_1_without_its_record_opens() {
    let store = store_of_format(4, None);
    assert_eq!(store.layout().expect("layout"), 1);
    assert_eq!(store.genesis().expect("genesis").expect("some").version, 4);
}

#[test]
fn regression_a_format_3_store_is_named_too_old_not_corrupt() {
    // Measured before the fix: `stored genesis at key 67 is corrupt: ... unsupported genesis version 3
    // [storage_corrupt]`, which an operator reads as a broken disk.
    let err = store_of_format(3, None).genesis().expect_err("refused");
    assert_eq!(err.code(), "format_too_old", "{err}");
    assert!(
        err.to_string().contains("f0cff34"),
        "names the release: {err}"
    );
}

#[test]
fn a_store_a_later_release_wrote_is_refused_as_too_new_and_left_as_it_is() {
    for store in [
        store_of_format(
            ebl_core::format::FORMAT_VERSION + 1,
            Some(ebl_store::STORE_LAYOUT),
        ),
        store_of_format(4, Some(ebl_store::STORE_LAYOUT + 1)),
    ] {
        let before = store.raw_entries().expect("entries");
        let err = store.genesis().expect_err("refused");
        assert_eq!(err.code(), "format_too_new", "{err}");
        assert_eq!(
            store.raw_entries().expect("entries"),
            before,
            "nothing rewritten"
        );
    }
}

/// Finding 15 of the attack review: a byte flipped in `store/conf` made the store fail to open with
/// sled's words and no code ("failed to open database that may have been created using a sled version
/// earlier than 0.29"). Each flip that breaks it is named `storage_corrupt`, with the file.
#[test]
fn regression_a_damaged_sled_conf_is_named_corrupt() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("store");
    drop(SledKv::open(&path).expect("open"));
    let conf = std::fs::read(path.join("conf")).expect("conf");
    let mut broken = 0;
    for at in 0..conf.len() {
        let mut damaged = conf.clone();
        damaged[at] ^= 0x80;
        std::fs::write(path.join("conf"), &damaged).expect("damage");
        match SledKv::open(&path) {
            Ok(kv) => drop(kv),
            Err(e) => {
                broken += 1;
                assert_eq!(e.code(), "storage_corrupt", "byte {at}: {e}");
                assert!(
                    e.to_string().contains("conf") || e.to_string().contains("store"),
                    "{e}"
                );
            }
        }
        std::fs::write(path.join("conf"), &conf).expect("repair");
    }
    assert!(
        broken > 0,
        "no flip broke the store: the test proves nothing"
    );
}

/// The formats governance scheduled are committed with the checkpoint they are part of, and a store
/// that never held one (every store before `SCHEDULE_FORMAT`) reads as none, with no record written.
#[test]
fn a_checkpoint_keeps_the_format_schedule_and_a_store_without_one_reads_as_none() {
    let kv = ebl_store::FaultyKv::new(ebl_store::SyncBehaviour::Honest);
    let (store, block, txs) = first_block_in(kv.clone());
    write(&store, &block, &txs);
    empty_blocks_after(&store, &block, 2);
    assert_eq!(store.format_activations().expect("read"), []);
    store
        .commit_checkpoint(1, &registry(), &[])
        .expect("commit without a schedule");
    assert!(
        !kv.scan(&[])
            .expect("entries")
            .iter()
            .any(|(k, _)| k == b"F"),
        "no record for a chain that scheduled nothing"
    );
    let scheduled = [ebl_core::format::Activation {
        format: 6,
        height: 9,
    }];
    store
        .commit_checkpoint(2, &registry(), &scheduled)
        .expect("commit with a schedule");
    assert_eq!(store.format_activations().expect("read"), scheduled);
}
