//! The store on its own: the head witness.

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
        [
            b"h".as_slice(),
            &[0u8; 32],
            &1u64.to_be_bytes(),
            &0u32.to_be_bytes(),
        ]
        .concat(),
        [b"i".as_slice(), id.as_bytes()].concat(),
        [b"t".as_slice(), &1u64.to_be_bytes(), &0u32.to_be_bytes()].concat(),
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
    assert_eq!(
        store.transaction(&id).expect("read"),
        Some(ebl_store::StoredTransaction {
            height: 1,
            index: 0,
            tx
        })
    );
}
