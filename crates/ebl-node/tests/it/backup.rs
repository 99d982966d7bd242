//! The backup file's bytes, pinned: `ebl-backup/1` is a format later releases must read.

use ebl_core::testkit::{self, Cast};
use ebl_core::{BlockHeader, Hash, MerkleTree};
use ebl_node::backup::{check_backup, restore, write_backup, BACKUP_FORMAT};
use ebl_node::node::DataDir;
use ebl_store::{BlockWrite, FaultyKv, LedgerStore, StoredBlock, SyncBehaviour};

/// A one-block ledger of the test cast, and a data directory holding the node key: the same bytes on
/// every run.
fn one_block_ledger() -> (LedgerStore<FaultyKv>, tempfile::TempDir) {
    let cast = Cast::new();
    // A format-4 chain, as when these bytes were pinned: the pin holds for every release.
    let genesis = ebl_core::Genesis {
        version: 4,
        faults: None,
        ..cast.genesis(1_700_000_000_000).expect("genesis")
    };
    let chain = genesis.chain_id();
    let store = LedgerStore::new(FaultyKv::new(SyncBehaviour::Honest));
    store.init(&genesis).expect("init");
    let tx = testkit::signed(
        chain,
        chain,
        1,
        cast.bank.registration().expect("registration"),
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
    let block = StoredBlock {
        header,
        tx_ids: vec![tx.id()],
    };
    store
        .write_block(&BlockWrite {
            block: &block,
            transactions: &[tx],
        })
        .expect("write");
    let data = tempfile::tempdir().expect("dir");
    ebl_node::keyfile::write(&DataDir(data.path().to_owned()).node_key(), &cast.node)
        .expect("node key");
    (store, data)
}

/// A change to these bytes is a new backup format beside this one, never a re-pin.
#[test]
fn the_bytes_of_a_backup_of_one_block_are_pinned() {
    let (store, data) = one_block_ledger();
    let out = tempfile::tempdir().expect("dir");
    let file = out.path().join("one.backup");
    let summary = write_backup(
        &store,
        &DataDir(data.path().to_owned()),
        &file,
        1_700_000_000_002,
    )
    .expect("written");
    assert_eq!(
        (summary.height, summary.transactions, summary.files),
        (1, 1, 1)
    );
    let bytes = std::fs::read(&file).expect("read");
    assert!(bytes.starts_with(format!("{BACKUP_FORMAT}\n").as_bytes()));
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(
        Hash::of(&bytes).to_hex(),
        "7f2f9209b788c4c4b01fdfae78762bddf7f144455fc09f182ee3c87487ad1d7a"
    );
    assert_eq!(check_backup(&file).expect("reads").height, 1);
    let restored = out.path().join("restored");
    assert_eq!(restore(&file, &restored).expect("restored").height, 1);
}

/// `BACKUP_FILE_PIECE_BYTES` at work: a file longer than two pieces travels as three frames and comes
/// back whole, and an empty file comes back empty; the backup's counts say so.
#[test]
fn files_of_any_length_come_back_whole() {
    use ebl_node::backup::BACKUP_FILE_PIECE_BYTES;
    let (store, data) = one_block_ledger();
    let big: Vec<u8> = (0..2 * BACKUP_FILE_PIECE_BYTES + 17)
        .map(|i| u8::try_from(i % 251).expect("small"))
        .collect();
    let documents = data.path().join("pint/documents");
    std::fs::create_dir_all(&documents).expect("dir");
    std::fs::write(documents.join("big"), &big).expect("write");
    std::fs::write(data.path().join("join"), b"").expect("write");
    let out = tempfile::tempdir().expect("dir");
    let file = out.path().join("files.backup");
    let summary =
        write_backup(&store, &DataDir(data.path().to_owned()), &file, 1).expect("written");
    assert_eq!(summary.files, 3, "node.key, join, pint/documents/big");
    let restored = out.path().join("restored");
    assert_eq!(restore(&file, &restored).expect("restored").files, 3);
    assert_eq!(
        std::fs::read(restored.join("pint/documents/big")).expect("big"),
        big
    );
    assert_eq!(std::fs::read(restored.join("join")).expect("join"), b"");
}
