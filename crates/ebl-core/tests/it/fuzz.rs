//! Property-based fuzzing of every decoder: no panic, bounded work, and whatever is accepted re-encodes to
//! exactly the bytes it came from.

use ebl_core::bundle::Bundle;
use ebl_core::{Action, Document, Hash, Loan, SignedTransaction};
use proptest::prelude::*;

use crate::support::{to_order_document, World};

fn sample_transactions() -> Vec<SignedTransaction> {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key) = (w.shipper.key.clone(), w.bank.id, w.bank.key.clone());
    let head = w.bill(&bill).head;
    let pledge = w
        .body(
            head,
            Action::Pledge {
                bill,
                pledgee: bank,
                loan: Loan {
                    reference: "L".into(),
                    amount_minor: 9,
                    currency: "EUR".into(),
                },
            },
        )
        .signed_by(&[&s, &bank_key]);
    let mut txs = w.log.clone();
    txs.push(pledge);
    txs
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_the_transaction_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(tx) = SignedTransaction::decode(&bytes) {
            prop_assert_eq!(tx.encode(), bytes);
        }
    }

    #[test]
    fn mutated_transactions_decode_only_to_their_own_bytes(
        which in 0usize..16,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let txs = sample_transactions();
        let mut bytes = txs[which % txs.len()].encode();
        for (at, value, kind) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = value,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, value),
            }
        }
        if let Ok(tx) = SignedTransaction::decode(&bytes) {
            prop_assert_eq!(tx.encode(), bytes);
        }
    }

    #[test]
    fn random_json_never_panics_the_document_reader(text in "[\\[\\]{}\":,0-9a-zA-Z .eE+-]{0,300}") {
        if let Ok(doc) = Document::from_json(text.as_bytes()) {
            let again = Document::from_json(doc.canonical().as_bytes()).expect("canonical text reads back");
            prop_assert_eq!(again.canonical(), doc.canonical());
        }
    }

    #[test]
    fn mutated_documents_are_read_or_refused_and_stay_canonical(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = to_order_document("FUZZ-1").canonical().as_bytes().to_vec();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(doc) = Document::from_json(&bytes) {
            let reread = Document::from_canonical(doc.canonical().to_owned());
            prop_assert_eq!(reread.as_ref(), Ok(&doc));
            prop_assert_eq!(doc.checksum(), Hash::of(doc.canonical().as_bytes()));
        }
    }

    #[test]
    fn random_bundles_never_panic_the_bundle_reader(text in "[\\[\\]{}\":,0-9a-z ]{0,400}") {
        if let Ok(bundle) = Bundle::from_json(text.as_bytes()) {
            let _ = bundle.verify();
        }
    }
}

#[test]
fn deeply_nested_json_is_refused_not_overflowing_the_stack() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Document::from_json(deep.as_bytes()).is_err());
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
    assert_eq!(
        Document::from_json(deep.as_bytes())
            .expect_err("too deep")
            .code(),
        "document_too_deep"
    );
}
