//! Every named limit of `ebl-core` at its boundary: the limit passes, one more is refused with its code.

use ebl_core::limits::*;
use ebl_core::{Action, Genesis, Hash, Identifier, InclusionProof, PartyKey, SignedTransaction};

use crate::support::{key, World};

#[test]
fn signatures_per_transaction() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let head = w.bill(&bill).head;
    let body = w.body(head, Action::Sign { bill });
    let keys: Vec<_> = (0..=SIGNATURES_MAX as u8).map(|i| key(100 + i)).collect();
    let at_limit = body
        .clone()
        .signed_by(&keys.iter().take(SIGNATURES_MAX).collect::<Vec<_>>());
    assert!(at_limit.check_structure().is_ok());
    let over = body.signed_by(&keys.iter().collect::<Vec<_>>());
    assert_eq!(
        over.check_structure().expect_err("over").code(),
        "too_many_signatures"
    );
    assert_eq!(
        SignedTransaction::decode(&over.encode())
            .expect_err("decode refuses")
            .code(),
        "too_many_signatures"
    );
}

#[test]
fn chain_name_length() {
    let (op, node) = (PartyKey::of(&key(1)), PartyKey::of(&key(2)));
    assert!(Genesis::single(&"c".repeat(CHAIN_NAME_BYTES_MAX), op, node, "EBL", 0).is_ok());
    assert_eq!(
        Genesis::single(&"c".repeat(CHAIN_NAME_BYTES_MAX + 1), op, node, "EBL", 0)
            .expect_err("long")
            .code(),
        "field_too_long"
    );
}

#[test]
fn identifier_length() {
    assert!(Identifier::parse(&format!("LEI:{}", "x".repeat(IDENTIFIER_BYTES_MAX))).is_ok());
    assert_eq!(
        Identifier::parse(&format!("LEI:{}", "x".repeat(IDENTIFIER_BYTES_MAX + 1)))
            .expect_err("long")
            .code(),
        "field_too_long"
    );
    assert_eq!(
        Identifier::parse(&format!("{}:V", "S".repeat(IDENTIFIER_BYTES_MAX + 1)))
            .expect_err("long")
            .code(),
        "field_too_long"
    );
}

#[test]
fn document_input_size() {
    // Whitespace counts against the input limit even though canonicalization would drop it.
    let doc = crate::support::to_order_document("IN-1");
    let text = doc.canonical();
    let pad = |n: usize| format!("{}{}", " ".repeat(n - text.len()), text);
    assert!(ebl_core::Document::from_json(pad(DOCUMENT_INPUT_BYTES_MAX).as_bytes()).is_ok());
    assert_eq!(
        ebl_core::Document::from_json(pad(DOCUMENT_INPUT_BYTES_MAX + 1).as_bytes())
            .expect_err("big")
            .code(),
        "document_too_large"
    );
}

#[test]
fn inclusion_proofs_are_bounded() {
    let ids: Vec<Hash> = (0..4u8).map(|i| Hash::of(&[i])).collect();
    let root = ebl_core::merkle_root(&ids);
    let proof = InclusionProof::build(&ids, 1).expect("proof");
    assert!(proof.verify(&ids[1], &root).is_ok());
    let mut deep = proof.clone();
    deep.path = vec![Hash::ZERO; MERKLE_PROOF_DEPTH_MAX + 1];
    assert_eq!(
        deep.verify(&ids[1], &root).expect_err("deep").code(),
        "bad_inclusion_proof"
    );
    let mut huge = proof;
    huge.count = BLOCK_TRANSACTIONS_MAX as u32 + 1;
    assert_eq!(
        huge.verify(&ids[1], &root).expect_err("count").code(),
        "bad_inclusion_proof"
    );
    // A full block's proofs stay within the depth limit.
    let full: Vec<Hash> = (0..BLOCK_TRANSACTIONS_MAX as u32)
        .map(|i| Hash::of(&i.to_le_bytes()))
        .collect();
    let tree = ebl_core::MerkleTree::new(&full);
    let last = tree.proof(BLOCK_TRANSACTIONS_MAX - 1).expect("proof");
    assert!(last.path.len() <= MERKLE_PROOF_DEPTH_MAX);
    assert!(last
        .verify(&full[BLOCK_TRANSACTIONS_MAX - 1], &tree.root())
        .is_ok());
}

#[test]
fn bundle_size() {
    let bundle = vec![b' '; ebl_core::bundle::BUNDLE_BYTES_MAX + 1];
    assert_eq!(
        ebl_core::bundle::Bundle::from_json(&bundle)
            .expect_err("big")
            .error
            .code(),
        "encoding_too_large"
    );
}
