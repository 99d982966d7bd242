//! The canonical bytes: pinned snapshots, strict decoding, round trips, and single flipped bytes.

use ebl_core::{
    bytes::to_hex, codec, Action, BlockHeader, Genesis, Hash, Loan, PartyId, PartyKey,
    SignedTransaction, Transaction,
};

use crate::support::{key, to_order_document, World};

fn genesis() -> Genesis {
    Genesis::new(
        "snapshot",
        PartyKey::of(&key(1)),
        PartyKey::of(&key(2)),
        1_700_000_000_000,
    )
    .expect("valid")
}

fn transfer() -> SignedTransaction {
    let chain = genesis().chain_id();
    Transaction {
        chain,
        prev: Hash::of(b"head"),
        time_ms: 1_700_000_000_123,
        action: Action::Transfer {
            bill: Hash::of(b"bill"),
            to: PartyId([7; 32]),
        },
    }
    .signed_by(&[&key(3)])
}

fn pledge() -> SignedTransaction {
    let chain = genesis().chain_id();
    Transaction {
        chain,
        prev: Hash::of(b"head"),
        time_ms: 1,
        action: Action::Pledge {
            bill: Hash::of(b"bill"),
            pledgee: PartyId([9; 32]),
            loan: Loan {
                reference: "L-1".into(),
                amount_minor: 250_000,
                currency: "EUR".into(),
            },
        },
    }
    .signed_by(&[&key(3), &key(4)])
}

fn issue() -> SignedTransaction {
    let chain = genesis().chain_id();
    Transaction {
        chain,
        prev: Hash::ZERO,
        time_ms: 1,
        action: Action::Issue {
            document: to_order_document("SNAP1"),
            issue_to: PartyId([5; 32]),
            shipper: PartyId([5; 32]),
            consignee: None,
            replaces: None,
        },
    }
    .signed_by(&[&key(6)])
}

// These pins are the format. If one fails, the bytes that are hashed and signed have changed: existing
// ledgers and signatures would no longer verify. Bump `FORMAT_VERSION` and migrate, do not just re-pin.
#[test]
fn genesis_bytes_are_pinned() {
    assert_eq!(
        to_hex(&genesis().encode()),
        "01000800000000000000736e617073686f748a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b3940068e5cf8b010000"
    );
    assert_eq!(
        genesis().chain_id().to_hex(),
        "706fa3a64ce7498369876846e0453c0a9aa635bcd95d442a49deef62cf03afe3"
    );
}

#[test]
fn transfer_bytes_are_pinned() {
    assert_eq!(to_hex(&transfer().body.encode()), "706fa3a64ce7498369876846e0453c0a9aa635bcd95d442a49deef62cf03afe39f2e6d33a3717ee826353a404ba4618d1aeeb6879ad7936bce8ed5f46814924d7b68e5cf8b01000001000000623210167553939c87ed8c5f2bfe0b3e0684e12c3a3dd2513613c4e67263b5a10707070707070707070707070707070707070707070707070707070707070707");
    assert_eq!(
        transfer().id().to_hex(),
        "0a86f11bfcd15c68cd3bcdbbd72fa1a1526d15727c6582638961d77473a591bb"
    );
    assert_eq!(
        Hash::of(&transfer().encode()).to_hex(),
        "149ddccd5664fc9512064c5046c497519a3dd4cd4c34f0063e108cbac6f84945"
    );
}

#[test]
fn pledge_and_issue_bytes_are_pinned() {
    assert_eq!(
        Hash::of(&pledge().encode()).to_hex(),
        "8a7bc6604871c2785c495e5fbf687a8dbf9930e9029c998a97eab9e364fccd38"
    );
    assert_eq!(
        Hash::of(&issue().encode()).to_hex(),
        "499a91a9456d29353b39663e4c30288670c66518d8eff56b3958012cf3099902"
    );
}

#[test]
fn block_header_bytes_are_pinned() {
    let header = BlockHeader {
        chain: genesis().chain_id(),
        height: 1,
        prev: genesis().chain_id(),
        tx_root: ebl_core::merkle_root(&[transfer().id()]),
        tx_count: 1,
        time_ms: 1_700_000_000_500,
    };
    assert_eq!(to_hex(&codec::encode(&header)), "706fa3a64ce7498369876846e0453c0a9aa635bcd95d442a49deef62cf03afe30100000000000000706fa3a64ce7498369876846e0453c0a9aa635bcd95d442a49deef62cf03afe3efb3567bf4a4b7cea5195cae5e7e7cb79c63be23ccddfa4bbe541f5b8a9fb02c01000000f469e5cf8b010000");
}

#[test]
fn round_trips_are_exact() {
    for tx in [transfer(), pledge(), issue()] {
        let bytes = tx.encode();
        let back = SignedTransaction::decode(&bytes).expect("decodes");
        assert_eq!(back, tx);
        assert_eq!(back.encode(), bytes);
        // JSON carries the same values: back through JSON, the id and the bytes are unchanged.
        let json = serde_json::to_string(&tx).expect("JSON");
        let from_json: SignedTransaction = serde_json::from_str(&json).expect("from JSON");
        assert_eq!(from_json.encode(), bytes);
    }
    let g = genesis();
    assert_eq!(Genesis::decode(&g.encode()), Ok(g));
}

#[test]
fn truncated_and_extended_encodings_are_refused() {
    let bytes = pledge().encode();
    for len in 0..bytes.len() {
        assert!(
            SignedTransaction::decode(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        SignedTransaction::decode(&longer)
            .expect_err("trailing")
            .code(),
        "trailing_bytes"
    );
}

#[test]
fn oversized_encoding_is_refused_before_decoding() {
    let bytes = vec![0u8; ebl_core::limits::TRANSACTION_BYTES_MAX + 1];
    assert_eq!(
        SignedTransaction::decode(&bytes)
            .expect_err("too big")
            .code(),
        "encoding_too_large"
    );
}

#[test]
fn a_weak_key_inside_a_transaction_is_refused_at_decoding() {
    let mut bytes = transfer().encode();
    let signer_at = bytes.len() - 64 - 32;
    let mut identity = [0u8; 32];
    identity[0] = 1;
    bytes[signer_at..signer_at + 32].copy_from_slice(&identity);
    let err = SignedTransaction::decode(&bytes).expect_err("weak key");
    assert!(err.to_string().contains("weak"), "{err}");
}

/// Any single flipped byte of a signed transaction is refused: by the decoder, or by signature verification.
#[test]
fn every_single_flipped_byte_is_refused() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key) = (w.shipper.key.clone(), w.bank.id, w.bank.key.clone());
    let head = w.bill(&bill).head;
    let loan = Loan {
        reference: "L".into(),
        amount_minor: 5,
        currency: "USD".into(),
    };
    let tx = w
        .body(
            head,
            Action::Pledge {
                bill,
                pledgee: bank,
                loan,
            },
        )
        .signed_by(&[&s, &bank_key]);
    let bytes = tx.encode();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut flipped = bytes.clone();
            flipped[i] ^= mask;
            let verdict = SignedTransaction::decode(&flipped).and_then(|t| {
                let mut ledger = w.ledger.clone();
                ledger.apply(&t, ebl_core::Signatures::Verify)
            });
            assert!(verdict.is_err(), "byte {i} ^ {mask:#x} was accepted");
        }
    }
    // And the untouched one is accepted, so the loop above proves something.
    w.submit(SignedTransaction::decode(&bytes).expect("decodes"))
        .expect("accepted");
}
