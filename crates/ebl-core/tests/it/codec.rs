//! The canonical bytes: pinned snapshots, strict decoding, round trips, and single flipped bytes.

use ebl_core::{
    bytes::to_hex, codec, Action, BlockHeader, Genesis, Hash, Loan, PartyId, PartyKey,
    SignedTransaction, Transaction,
};

use crate::support::{key, to_order_document, World};

/// The pinned chain is a format-4 chain: its pins hold for every release. Format 5's are pinned beside
/// them ([`format_5_genesis`]), never instead.
fn genesis() -> Genesis {
    Genesis {
        version: 4,
        faults: None,
        ..newest_genesis()
    }
}

/// The same chain made by a release that writes format 5.
fn format_5_genesis() -> Genesis {
    Genesis {
        version: 5,
        faults: None,
        ..newest_genesis()
    }
}

/// The same chain made by a release that writes format 6.
fn format_6_genesis() -> Genesis {
    Genesis {
        version: 6,
        faults: None,
        ..newest_genesis()
    }
}

/// The same chain made by a release that writes format 7 (the genesis states f from format 7 on).
fn format_7_genesis() -> Genesis {
    Genesis {
        version: 7,
        ..newest_genesis()
    }
}

/// The same chain made by this release.
fn newest_genesis() -> Genesis {
    Genesis::single(
        "snapshot",
        PartyKey::of(&key(1)),
        PartyKey::of(&key(2)),
        "EBL",
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
        valid_until_ms: None,
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
        valid_until_ms: None,
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
        valid_until_ms: None,
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
        "04000800000000000000736e617073686f74010000000000000008000000000000006f70657261746f728a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b3940e000000000000003132372e302e302e313a373837390100030000000000000045424c0068e5cf8b010000"
    );
    assert_eq!(
        genesis().chain_id().to_hex(),
        "594f9ddf62f869bc4f7d7084cfe60271656a745ebfaef8950af333d54248a78e"
    );
}

#[test]
fn transfer_bytes_are_pinned() {
    assert_eq!(to_hex(&transfer().body.encode()), "594f9ddf62f869bc4f7d7084cfe60271656a745ebfaef8950af333d54248a78e9f2e6d33a3717ee826353a404ba4618d1aeeb6879ad7936bce8ed5f46814924d7b68e5cf8b0100000001000000623210167553939c87ed8c5f2bfe0b3e0684e12c3a3dd2513613c4e67263b5a10707070707070707070707070707070707070707070707070707070707070707");
    assert_eq!(
        transfer().id().to_hex(),
        "e8196de0979d2d1525efc489c2be44551ec0df530fd06a53c00266fc23936b90"
    );
    assert_eq!(
        Hash::of(&transfer().encode()).to_hex(),
        "388e63da7ec569c0b38b23c921f4058e8657459506f55a05fec4942951a4a624"
    );
}

#[test]
fn pledge_and_issue_bytes_are_pinned() {
    assert_eq!(
        Hash::of(&pledge().encode()).to_hex(),
        "9758d7f097d6b9ca9970a1759eb0df151b1eae60dcf470110c6c078693e90f28"
    );
    assert_eq!(
        Hash::of(&issue().encode()).to_hex(),
        "f40b248cf124b8e6ae79e8643316d3de5725cdc17b1b172e5984f45b2ad04579"
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
    assert_eq!(to_hex(&codec::encode(&header)), "594f9ddf62f869bc4f7d7084cfe60271656a745ebfaef8950af333d54248a78e0100000000000000594f9ddf62f869bc4f7d7084cfe60271656a745ebfaef8950af333d54248a78e7130a4109925503e21bff6be90fecdbd75484e5358dd0f11e294e705f2a425fe01000000f469e5cf8b010000");
}

/// Format 5 changed what a member node's header signature covers (the registry head before the block,
/// in `ebl/block/v2`), not the header's bytes: both signatures are pinned, over the same header.
#[test]
fn format_5_genesis_and_header_signatures_are_pinned() {
    let genesis = format_5_genesis();
    assert_eq!(genesis.version, 5);
    assert_eq!(
        to_hex(&genesis.encode()[..2]),
        "0500",
        "the format leads the genesis"
    );
    assert_eq!(
        genesis.chain_id().to_hex(),
        "53878eb0c2292cb5e6bdba5352a97b41ebf6c265a4e2880575227005c383add6"
    );
    let header = BlockHeader {
        chain: genesis.chain_id(),
        height: 1,
        prev: genesis.chain_id(),
        tx_root: ebl_core::merkle_root(&[transfer().id()]),
        tx_count: 1,
        time_ms: 1_700_000_000_500,
    };
    let registry = ebl_core::Registry::new(&genesis);
    let bound = ebl_core::HeaderBinding::before(&registry, 1);
    assert_eq!(bound, ebl_core::HeaderBinding::Registry(genesis.chain_id()));
    assert_eq!(
        to_hex(&header.clone().sign(&key(2), bound).signature.0),
        "13f499f9e4d04de1d96fd40cdcb913ce51a4a1c884d8f3e28734354a6fa1378fa6da2c4e90ef21ff4f13029bdcf6bb34c9842302895b9a73eba85288a4dd0401"
    );
    // The format-4 signature of the same header, as format 4 always made it.
    assert_eq!(
        to_hex(
            &header
                .sign(&key(2), ebl_core::HeaderBinding::Unbound)
                .signature
                .0
        ),
        "16a1317fc9e40310675661c32e7c9e71945b0af9307e6e45598119e755d32f719773612c1938094072382eea1cc0579cc3365bce31363ae7f5d7d80825f6e80e"
    );
}

/// Format 6 changed when a block is final (the finality quorum), not a byte: its genesis differs from
/// format 5's in the leading version alone.
#[test]
fn format_6_genesis_differs_from_format_5_in_its_version_alone() {
    let (five, six) = (format_5_genesis().encode(), format_6_genesis().encode());
    assert_eq!(format_6_genesis().version, 6);
    assert_eq!(to_hex(&six[..2]), "0600");
    assert_eq!(five[2..], six[2..]);
    assert_eq!(
        format_6_genesis().chain_id().to_hex(),
        "d44700d31c49ef34006844e43a9b08773ad019ac772f9f8ba5a8997e001fb499"
    );
}

/// Format 7 changed what a member node's statement signature covers (the registry head after the
/// statement's block, in `ebl/statement/v2`) and how many must sign, not the statement's bytes; its
/// genesis states f after the fields of format 6's: both statement signatures are pinned, over the
/// same statement.
#[test]
fn format_7_genesis_and_statement_signatures_are_pinned() {
    let (six, seven) = (format_6_genesis().encode(), format_7_genesis().encode());
    assert_eq!(format_7_genesis().version, 7);
    assert_eq!(to_hex(&seven[..2]), "0700");
    // Format 7's genesis states f after the fields every format has: 0 for this one-member chain.
    assert_eq!(six[2..], seven[2..seven.len() - 2]);
    assert_eq!(seven[seven.len() - 2..], [0, 0]);
    assert_eq!(format_7_genesis().stated_faults(), Some(0));
    let genesis = format_7_genesis();
    assert_eq!(
        genesis.chain_id().to_hex(),
        "6bc98d6e134ff8131f93d0ea86545284f795385efd7205a89903bd1a6dd892b9"
    );
    let holder = PartyId::from(PartyKey::of(&key(3)));
    let statement = ebl_core::api::BillStatement {
        chain: genesis.chain_id(),
        bill: issue().id(),
        head: transfer().id(),
        transactions: 2,
        possessor: holder,
        title: ebl_core::Title::Order {
            endorsee: holder,
            may_endorse: true,
        },
        pledge: None,
        status: ebl_core::Status::Issued,
        height: 2,
        block: Hash::of(b"block 2"),
        time_ms: 1_700_000_000_900,
    };
    assert_eq!(to_hex(&codec::encode(&statement)), "6bc98d6e134ff8131f93d0ea86545284f795385efd7205a89903bd1a6dd892b9112968eca7145e612918d6bb128403535accb00636215a6a62daaa62fd07a5e9e8196de0979d2d1525efc489c2be44551ec0df530fd06a53c00266fc23936b9002000000ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d101000000ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d101000000000002000000000000003c2001aacceab201c95baff79bd10da83adf2ee27bf846777c8b78de5eed6ea5846be5cf8b010000");
    let registry = ebl_core::Registry::new(&genesis);
    let bound = ebl_core::StatementBinding::under(&registry, 2);
    assert_eq!(
        bound,
        ebl_core::StatementBinding::Registry(genesis.chain_id())
    );
    assert_eq!(
        to_hex(&bound.sign(&statement, &key(2)).signature.0),
        "1bd2fc5fa02862feef4078ce6e43285b13c8621b7a2b330487d6ba6cd36d45df27ec3df7270974ef8f2e615f5d65548100520c4817ede8970710faffc7d4a50b"
    );
    // The first context's signature of the same statement, as formats 4 to 6 always made it.
    assert_eq!(
        to_hex(&ebl_core::StatementBinding::Unbound.sign(&statement, &key(2)).signature.0),
        "77591d7e6ba68c760fea51770fcc87692374bd98df9036e3d6602ab8f6be5d45c1f188ec4602225011452bf572b832c1b562869a63422d917be928202ddbd504"
    );
    assert_eq!(
        statement.clone().sign(&key(2)).signature,
        ebl_core::StatementBinding::Unbound
            .sign(&statement, &key(2))
            .signature
    );
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

/// Format 3's new actions, pinned: a bill sent to another platform, and the node's three records of
/// that platform's answer, each as the hash of its signed encoding.
#[test]
fn format_3_action_bytes_are_pinned() {
    let chain = genesis().chain_id();
    let body = |action: Action| Transaction {
        chain,
        prev: Hash::of(b"prev"),
        time_ms: 1_700_000_000_000,
        valid_until_ms: None,
        action,
    };
    let bill = Hash::of(b"bill");
    let cases = [
        body(Action::SendOut {
            bill,
            to: ebl_core::ForeignParty {
                platform: "WAVE".into(),
                name: "Buyer Abroad".into(),
                codes: vec![ebl_core::PartyCode {
                    provider: "WAVE".into(),
                    code: "buyer-7".into(),
                }],
            },
        })
        .signed_by(&[&key(5)]),
        body(Action::SentOut {
            bill,
            entry: "e.n.try".into(),
            answer: "a.ns.wer".into(),
        })
        .signed_by(&[&key(31)]),
        body(Action::SendRefused {
            bill,
            answer: "a.ns.wer".into(),
        })
        .signed_by(&[&key(31)]),
        body(Action::SendDisputed {
            bill,
            answer: "a.ns.wer".into(),
        })
        .signed_by(&[&key(31)]),
    ];
    let got: Vec<String> = cases
        .iter()
        .map(|tx| Hash::of(&tx.encode()).to_hex())
        .collect();
    assert_eq!(
        got,
        [
            "f6f374a819e34e74a9b5cc01d1f52624ff53d098090eb2cdd6f4a147acda94cd",
            "18e637c428c7ea3b909cc603c367a5022d3aa9246b6909849d121098100a47ad",
            "969a9a7b14b0474b1783becbf20b84344d2407a5757a6e901a10b06a2ec42f91",
            "ffaa7ad95fdb6068fcd6c1ee7eba0efd378fd1bb67d55d725a8df4a1f805aaf3",
        ]
    );
    for tx in &cases {
        assert_eq!(
            &SignedTransaction::decode(&tx.encode()).expect("decodes"),
            tx
        );
    }
}

/// Format 2's new actions, pinned: governance, a self-rotation, a refusal, a split replacement and a
/// switch to paper, each as the hash of its signed encoding.
#[test]
fn format_2_action_bytes_are_pinned() {
    let chain = genesis().chain_id();
    let body = |action: Action| Transaction {
        chain,
        prev: Hash::of(b"prev"),
        time_ms: 1_700_000_000_000,
        valid_until_ms: Some(1_700_000_100_000),
        action,
    };
    let member = ebl_core::Member {
        name: "Member".into(),
        admin: PartyKey::of(&key(30)),
        node: PartyKey::of(&key(31)),
        peer_address: "127.0.0.1:7879".into(),
    };
    let cases = [
        body(Action::AddMember { member }).signed_by(&[&key(1), &key(3)]),
        body(Action::RotateKey {
            party: PartyId([5; 32]),
            new_key: PartyKey::of(&key(32)),
        })
        .signed_by(&[&key(5), &key(32)]),
        body(Action::Refuse {
            bill: Hash::of(b"bill"),
        })
        .signed_by(&[&key(6)]),
        body(Action::Issue {
            document: to_order_document("SNAP2"),
            issue_to: PartyId([5; 32]),
            shipper: PartyId([5; 32]),
            consignee: None,
            replaces: Some(ebl_core::Replacement {
                bills: vec![Hash::of(b"old")],
                count: 2,
            }),
        })
        .signed_by(&[&key(6)]),
        body(Action::AcceptSurrenderToPaper {
            bill: Hash::of(b"bill"),
            paper: ebl_core::PaperBill {
                number: "P-1".into(),
                issued_on: "2026-12-01".into(),
            },
        })
        .signed_by(&[&key(6)]),
    ];
    let got: Vec<String> = cases
        .iter()
        .map(|tx| Hash::of(&tx.encode()).to_hex())
        .collect();
    assert_eq!(
        got,
        [
            "47c33159134e1f15584ea415ffbff4223ac08f8afcbc9460cc76bab85f4abaca",
            "243fa2bbfa0ab03edb6a0a5ee8e2c585d125a747851eeaf08ef53463f1a59e7e",
            "c8db9f653f0007971e3c4afefa23645bbad6d93c921b5106689429418a3d5019",
            "1a904b22c854d0f64a43be5fe43733ecb1493eb755dc9b10826c606ee6570162",
            "e205a2dd719cbe06412a70d8047f4f02691bee9a6e6d2ba4facb05663fa58ed1",
        ]
    );
    for tx in &cases {
        assert_eq!(
            &SignedTransaction::decode(&tx.encode()).expect("decodes"),
            tx
        );
    }
}

/// The binary batch (issue 18) carries each transaction in these same canonical bytes: what the
/// node decodes is what was signed, and every outcome comes back as it went.
#[test]
fn a_binary_batch_and_its_receipts_round_trip() {
    use ebl_core::api::{ErrorBody, Receipt, SubmitOutcome};
    use ebl_core::wire;
    let txs = vec![transfer(), pledge(), issue()];
    let framed = wire::encode_batch(&txs);
    let back = wire::decode_batch(&framed, 3).expect("decodes");
    assert_eq!(back, txs);
    assert_eq!(
        back.iter().map(|t| t.id()).collect::<Vec<_>>(),
        txs.iter().map(|t| t.id()).collect::<Vec<_>>()
    );
    let encoded: Vec<Vec<u8>> = txs.iter().map(codec::encode).collect();
    assert_eq!(
        wire::encode_batch_of_encoded(encoded.iter().map(Vec::as_slice)),
        framed
    );
    assert!(
        wire::decode_batch(&framed, 2).is_err(),
        "more than the count allowed"
    );
    // One flipped byte inside a transaction: it no longer decodes, or it is another transaction
    // whose signature then fails where the node checks it.
    let mut flipped = framed.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    if let Ok(changed) = wire::decode_batch(&flipped, 3) {
        assert_ne!(changed, txs);
    }

    let receipt = Receipt {
        tx: transfer().id(),
        height: 7,
        index: 1,
        block: Hash::of(b"block"),
        block_time_ms: 1_700_000_000_999,
        proof: ebl_core::InclusionProof {
            index: 1,
            count: 2,
            path: vec![Hash::of(b"sibling")],
        },
    };
    let outcomes = vec![
        SubmitOutcome::Accepted {
            id: transfer().id(),
            receipt: receipt.clone(),
            certificate: None,
        },
        SubmitOutcome::Duplicate {
            id: pledge().id(),
            receipt,
            certificate: None,
        },
        SubmitOutcome::Rejected {
            id: issue().id(),
            error: ErrorBody {
                code: "stale_head".into(),
                message: "the bill moved on".into(),
            },
        },
    ];
    let framed = wire::encode_receipts(outcomes.clone());
    assert_eq!(
        wire::decode_receipts(&framed, 3).expect("decodes"),
        outcomes
    );
}

/// The fenced block following `<!-- pinned: NAME -->` in docs/signing.md.
fn signing_doc_block(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signing.md");
    let text = std::fs::read_to_string(path).expect("docs/signing.md");
    let marker = format!("<!-- pinned: {name} -->");
    let after = &text[text.find(&marker).expect("marker") + marker.len()..];
    let body = &after[after.find("```").expect("fence")..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    body[..body.find("```").expect("closing fence")].to_owned()
}

/// The hex of a pinned text block: the first word of each line (the rest names the field).
fn signing_doc_hex(name: &str) -> String {
    signing_doc_block(name)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

/// docs/signing.md is what another implementation signs by: its example is the codec's, byte for byte.
#[test]
fn the_signing_document_example_is_the_codecs() {
    let tx = transfer();
    assert_eq!(signing_doc_hex("body"), to_hex(&tx.body.encode()));
    assert_eq!(tx.body.encode().len(), 141);
    assert_eq!(signing_doc_hex("id"), tx.id().to_hex());
    assert_eq!(
        signing_doc_hex("signature"),
        to_hex(&tx.signatures[0].signature.0)
    );
    let json: serde_json::Value = serde_json::from_str(&signing_doc_block("json")).expect("json");
    assert_eq!(json, serde_json::to_value(&tx).expect("json"));
    // The message as the page spells it, signed by the seed it names.
    let mut message = b"ebl/transaction/v1\0".to_vec();
    message.extend_from_slice(tx.body.chain.as_bytes());
    message.extend_from_slice(&tx.body.encode());
    use ed25519_dalek::Signer;
    let signature = ed25519_dalek::SigningKey::from_bytes(&[3; 32]).sign(&message);
    assert_eq!(to_hex(&signature.to_bytes()), signing_doc_hex("signature"));
    let parsed: SignedTransaction = serde_json::from_value(json).expect("parse");
    assert!(parsed.verify_signatures().is_ok());
}

/// Format 8 committed the registry to one root (the consortium's leaf, then every party's, see
/// `ebl_core::commitment`) and binds a statement's signatures to it in `ebl/statement/v3`; its genesis
/// differs from format 7's in the leading version alone. The root of a registry with one party, that
/// party's leaf and a statement signature over both are pinned.
#[test]
fn format_8_registry_root_and_statement_signatures_are_pinned() {
    let (seven, eight) = (format_7_genesis().encode(), newest_genesis().encode());
    assert_eq!(newest_genesis().version, 8);
    assert_eq!(to_hex(&eight[..2]), "0800");
    assert_eq!(seven[2..], eight[2..]);
    let genesis = newest_genesis();
    let empty = ebl_core::Registry::new(&genesis);
    let consortium = ebl_core::commitment::consortium_leaf(&empty.consortium());
    let party = ebl_core::Party {
        id: PartyId::from(PartyKey::of(&key(3))),
        profile: ebl_core::PartyProfile {
            name: "Holder".into(),
            roles: ebl_core::Roles::single(ebl_core::Role::Trader),
            identifiers: vec![ebl_core::Identifier::new("LEI", "5493001KJTIIGC8Y1R12")],
        },
        key: PartyKey::of(&key(3)),
        retired_keys: Vec::new(),
        revoked: false,
        recoveries: Vec::new(),
    };
    let registry = ebl_core::Registry::from_parts(
        empty.state().clone(),
        empty.formats().clone(),
        empty.stated_faults(),
        [party.clone()],
    );
    let pinned = [
        ("consortium leaf", to_hex(consortium.as_bytes())),
        (
            "party leaf",
            to_hex(ebl_core::commitment::party_leaf(&party).as_bytes()),
        ),
        ("empty root", empty.root().to_hex()),
        ("root", registry.root().to_hex()),
    ];
    let statement = ebl_core::api::BillStatement {
        chain: genesis.chain_id(),
        bill: issue().id(),
        head: transfer().id(),
        transactions: 2,
        possessor: party.id,
        title: ebl_core::Title::Order {
            endorsee: party.id,
            may_endorse: true,
        },
        pledge: None,
        status: ebl_core::Status::Issued,
        height: 2,
        block: Hash::of(b"block 2"),
        time_ms: 1_700_000_000_900,
    };
    let bound = ebl_core::StatementBinding::under(&registry, 2);
    assert_eq!(
        bound,
        ebl_core::StatementBinding::Committed {
            head: genesis.chain_id(),
            root: registry.root()
        }
    );
    let signature = to_hex(&bound.sign(&statement, &key(2)).signature.0);
    let expected = [
        (
            "consortium leaf",
            "6747aef598099202433efc0a1e3e534c011073e32e286bf1e4f7bf95d95b3026",
        ),
        (
            "party leaf",
            "50388da34a839d89c818e1dadd3c859e58bc0f8ad4b51293e62768437dd3a10d",
        ),
        (
            "empty root",
            "90758aaadb1f0f3c8406903d861c950f6e45f553d14385b86175efaa4d6416c8",
        ),
        (
            "root",
            "5be70b2edcb2db2bdce64fe27ee0eb0eb1bf189b25562b9f61d36a854f3f3b02",
        ),
    ];
    assert_eq!(pinned, expected.map(|(w, h)| (w, h.to_owned())));
    assert_eq!(
        signature,
        "30bc83cf497972013b93bc8be6f9184b0415eff31003b79896142456c3f0f4eefcd2c5b1ef6bc4083992fb15c16e1b5d4492273349f2769f667c340c67d35b05"
    );
    // The party's proof leads to the pinned root; the consortium's is leaf 0.
    let proof = registry.prove_party(&party.id).expect("registered");
    assert_eq!(proof.verify(&registry.root()), Ok(()));
    assert_eq!(registry.prove_consortium().verify(&registry.root()), Ok(()));
}

/// The auditor's grant both pins are of.
fn pinned_grant() -> ebl_core::FollowGrant {
    ebl_core::FollowGrant::sign(
        genesis().chain_id(),
        &key(16),
        PartyKey::of(&key(90)),
        "10.0.0.9:7805",
        1_700_000_000_000,
    )
    .expect("grant")
}

/// An auditor's grant (session 24, issue 35): a file an auditor hands its node operator, read by every
/// later release. Its bytes and signature are pinned here from the first release that wrote one.
#[test]
fn follow_grant_bytes_and_signature_are_pinned() {
    let grant = pinned_grant();
    assert_eq!(to_hex(&codec::encode(&grant)), "594f9ddf62f869bc4f7d7084cfe60271656a745ebfaef8950af333d54248a78e5c9c6df261c9cb840475776aaefcd944b405328fab28f9b3a95ef40490d3de840d7550754e0800a5d237eef5826035766b9b3e5a15868a940ab289958788e3b00d0000000000000031302e302e302e393a373830350068e5cf8b010000121c8182d056d601f69aebca37c8d6634fadf55fa03bd2b28ba0f24d1535811a8073b2ad2337c992097db8d8c01f2995715af9b3e38c5b456f498b458e340400");
    let bytes = codec::encode(&grant);
    assert_eq!(
        codec::decode::<ebl_core::FollowGrant>(&bytes, bytes.len()),
        Ok(grant)
    );
}

/// The grant's file, as `ebl party grant-follow` writes it and `ebl-node init --follow` reads it.
#[test]
fn follow_grant_file_is_pinned() {
    let grant = pinned_grant();
    let file = grant.to_file();
    assert_eq!(
        String::from_utf8_lossy(&file),
        "{\n  \"format\": \"ebl-follow-grant/1\",\n  \"grant\": {\n    \"chain\": \"594f9ddf62f869bc4f7d7084cfe60271656a745ebfaef8950af333d54248a78e\",\n    \"auditor\": \"5c9c6df261c9cb840475776aaefcd944b405328fab28f9b3a95ef40490d3de84\",\n    \"body\": {\n      \"node\": \"0d7550754e0800a5d237eef5826035766b9b3e5a15868a940ab289958788e3b0\",\n      \"peer_address\": \"10.0.0.9:7805\",\n      \"at_ms\": 1700000000000\n    },\n    \"signature\": \"121c8182d056d601f69aebca37c8d6634fadf55fa03bd2b28ba0f24d1535811a8073b2ad2337c992097db8d8c01f2995715af9b3e38c5b456f498b458e340400\"\n  }\n}\n"
    );
    assert_eq!(ebl_core::FollowGrant::from_file(&file), Ok(grant));
    let newer = String::from_utf8_lossy(&file).replace("ebl-follow-grant/1", "ebl-follow-grant/2");
    assert_eq!(
        ebl_core::FollowGrant::from_file(newer.as_bytes()).map_err(|e| e.code()),
        Err("format_too_new")
    );
}

/// A sender sizes a message by its parts (an append by its entries) without encoding them twice: the
/// count must be the encoding's length exactly, or a message could pass its ceiling.
#[test]
fn encoded_len_is_the_length_of_the_encoding() {
    let issued = transfer();
    assert_eq!(codec::encoded_len(&issued), codec::encode(&issued).len());
    let several = vec![transfer(), transfer(), transfer()];
    assert_eq!(codec::encoded_len(&several), codec::encode(&several).len());
    assert_eq!(codec::encoded_len(&genesis()), genesis().encode().len());
}
