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
