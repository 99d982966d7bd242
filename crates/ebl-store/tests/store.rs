//! The store on its own: the head witness, and the on-disk layout of a block.

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
    use ebl_core::testkit::{self, Cast};
    use ebl_core::{BlockHeader, MerkleTree};
    use ebl_store::{BlockWrite, FaultyKv, StoredBlock, SyncBehaviour};

    let cast = Cast::new();
    let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
    let chain = genesis.chain_id();
    let store = LedgerStore::new(FaultyKv::new(SyncBehaviour::Honest));
    store.init(&genesis).expect("init");
    let tx = testkit::signed(
        chain,
        chain,
        1,
        cast.bank.registration().expect("reg"),
        &[&cast.operator],
    );
    let id = tx.id();
    let header = BlockHeader {
        chain,
        height: 1,
        prev: chain,
        tx_root: MerkleTree::new(&[id]).root(),
        tx_count: 1,
        time_ms: 1_700_000_000_001,
    }
    .sign(&cast.node);
    let block = StoredBlock {
        header,
        tx_ids: vec![id],
    };
    store
        .write_block(&BlockWrite {
            block: &block,
            transactions: std::slice::from_ref(&tx),
            checkpoint: None,
        })
        .expect("write");
    let keys: Vec<Vec<u8>> = store
        .raw_entries()
        .expect("entries")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut expected = vec![
        b"H".to_vec(),
        [b"b".as_slice(), &1u64.to_be_bytes()].concat(),
        b"g".to_vec(),
        [b"i".as_slice(), id.as_bytes()].concat(),
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
    // The id index names the position and the log span: height, index, offset, length.
    let index = store
        .kv()
        .get(&[b"i".as_slice(), id.as_bytes()].concat())
        .expect("read")
        .expect("indexed");
    let mut entry = Vec::new();
    entry.extend_from_slice(&1u64.to_le_bytes());
    entry.extend_from_slice(&0u32.to_le_bytes());
    entry.extend_from_slice(&0u64.to_le_bytes());
    entry.extend_from_slice(&(record.len() as u32).to_le_bytes());
    assert_eq!(&index[..index.len() - 32], entry.as_slice());
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
