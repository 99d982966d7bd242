//! `IMPORT`: a bill arriving from another platform over PINT. Signed by this ledger's node alone, it
//! carries the envelope verbatim; the ledger checks the document, the local carrier and the title.

use ebl_core::{
    codec, verify_chain, Action, AmendmentReason, BillId, Hash, SigningKey, Status, Title,
};

use crate::support::{
    assert_refused, envelope, key, node, straight_document, to_order_document, World,
};

impl World {
    fn import(&mut self, action: Action, signers: &[&SigningKey]) -> ebl_core::Result<BillId> {
        let tx = self.body(Hash::ZERO, action).signed_by(signers);
        Ok(self.submit(tx)?.tx)
    }

    #[track_caller]
    fn refuse_import(&mut self, action: Action, signers: &[&SigningKey], code: &str) {
        let before = self.ledger.clone();
        assert_refused(self.import(action, signers), code);
        assert!(self.ledger == before, "a refused import changed the ledger");
    }

    fn import_to_order(&mut self, to: ebl_core::PartyId) -> Action {
        let reference = self.next_reference();
        Action::Import {
            surrendered_by: None,
            envelope: envelope(&to_order_document(&reference)),
            carrier: self.carrier.id,
            possessor: to,
            title: Title::Order {
                endorsee: to,
                may_endorse: true,
            },
        }
    }
}

#[test]
fn an_imported_bill_is_possessed_by_its_recipient_and_lives_on_here() {
    let mut w = World::new();
    let (buyer, buyer_key, buyer2, carrier) = (
        w.buyer.id,
        w.buyer.key.clone(),
        w.buyer2.id,
        w.carrier.key.clone(),
    );
    let action = w.import_to_order(buyer);
    let bill = w.import(action, &[&node()]).expect("the node imports");
    let state = w.bill(&bill).clone();
    assert_eq!(state.possessor, buyer);
    assert_eq!(state.carrier, w.carrier.id);
    assert_eq!(state.status, Status::Issued);
    assert!(state.holds_title(buyer));
    // It moves like any bill: endorsed on, then surrendered to the carrier, who accepts.
    w.act(Action::EndorseToOrder { bill, to: buyer2 }, &[&buyer_key])
        .expect("the recipient holds title and endorses");
    w.act(Action::Transfer { bill, to: buyer2 }, &[&buyer_key])
        .expect("and hands it over");
    let buyer2_key = w.buyer2.key.clone();
    w.act(Action::SurrenderForDelivery { bill }, &[&buyer2_key])
        .expect("surrender");
    w.act(Action::AcceptSurrender { bill }, &[&carrier])
        .expect("the local carrier answers");
    // And a bank replays it offline from the genesis like any other.
    let report = verify_chain(w.ledger.genesis(), &w.log, bill, None).expect("verifies");
    assert_eq!(report.bill.status, Status::Accomplished);
    assert_eq!(report.bill_transactions, 5);
}

#[test]
fn only_the_node_imports() {
    let mut w = World::new();
    let buyer = w.buyer.id;
    let action = w.import_to_order(buyer);
    let (operator, carrier) = (w.operator.clone(), w.carrier.key.clone());
    w.refuse_import(action.clone(), &[&operator], "not_node");
    w.refuse_import(action.clone(), &[&carrier], "not_node");
    w.refuse_import(action.clone(), &[&node(), &carrier], "not_node");
    w.refuse_import(action.clone(), &[], "missing_signature");
    // A head other than zero: an import starts a bill.
    let tx = w.body(Hash::of(b"x"), action).signed_by(&[&node()]);
    let before = w.ledger.clone();
    assert_refused(w.submit(tx), "stale_head");
    assert!(w.ledger == before);
}

#[test]
fn the_envelope_must_be_canonical_and_hold_a_valid_document() {
    let mut w = World::new();
    let buyer = w.buyer.id;
    let Action::Import {
        envelope: good,
        carrier,
        possessor,
        title,
        ..
    } = w.import_to_order(buyer)
    else {
        unreachable!()
    };
    let with = |envelope: String| Action::Import {
        surrendered_by: None,
        envelope,
        carrier,
        possessor,
        title: title.clone(),
    };
    w.refuse_import(with(format!(" {good}")), &[&node()], "malformed_envelope");
    w.refuse_import(with("{}".into()), &[&node()], "malformed_envelope");
    w.refuse_import(with("not json".into()), &[&node()], "malformed_json");
    let waybill_to_order = good.replace(
        "\"transportDocumentTypeCode\":\"BOL\"",
        "\"transportDocumentTypeCode\":\"SWB\"",
    );
    assert_ne!(waybill_to_order, good);
    w.refuse_import(with(waybill_to_order), &[&node()], "sea_waybill_to_order");
    // The named limit, at its boundary: padded with a field the document ignores.
    let max = ebl_core::limits::ENVELOPE_BYTES_MAX;
    let padded = |len: usize| {
        let pad = len - good.len() - 7; // `,"z":"` and `"}` around the padding, less the `}` dropped
        format!(
            "{},\"z\":\"{}\"}}",
            &good[..good.len() - 1],
            "a".repeat(pad)
        )
    };
    assert_eq!(padded(max).len(), max);
    w.import(with(padded(max)), &[&node()])
        .expect("an envelope at the limit imports");
    w.refuse_import(with(padded(max + 1)), &[&node()], "envelope_too_large");
}

#[test]
fn the_carrier_must_be_local_and_named_by_the_document() {
    let mut w = World::new();
    let (buyer, stranger, bank) = (w.buyer.id, w.stranger.id, w.bank.id);
    let Action::Import {
        envelope,
        possessor,
        title,
        ..
    } = w.import_to_order(buyer)
    else {
        unreachable!()
    };
    let by = |carrier| Action::Import {
        surrendered_by: None,
        envelope: envelope.clone(),
        carrier,
        possessor,
        title: title.clone(),
    };
    w.refuse_import(by(stranger), &[&node()], "not_carrier");
    w.refuse_import(by(bank), &[&node()], "not_carrier");
    w.refuse_import(by(ebl_core::PartyId([9; 32])), &[&node()], "unknown_party");
    // A second carrier whose codes do not include the document's.
    let other = key(70);
    w.register(
        &other,
        "Other Line",
        &[ebl_core::Role::Carrier],
        vec![ebl_core::Identifier::new("SMDG", "OTH")],
    )
    .expect("register");
    w.refuse_import(
        by(crate::support::id_of(&other)),
        &[&node()],
        "carrier_code_mismatch",
    );
}

#[test]
fn the_title_must_fit_the_document_and_rest_with_the_possessor() {
    let mut w = World::new();
    let (buyer, buyer2, carrier) = (w.buyer.id, w.buyer2.id, w.carrier.id);
    let reference = w.next_reference();
    let to_order = envelope(&to_order_document(&reference));
    let straight = envelope(&straight_document(&w.next_reference()));
    let import = |envelope: &str, title: Title| Action::Import {
        surrendered_by: None,
        envelope: envelope.to_owned(),
        carrier,
        possessor: buyer,
        title,
    };
    for (env, title) in [
        (&to_order, Title::Straight { consignee: buyer }),
        (
            &to_order,
            Title::Order {
                endorsee: buyer2,
                may_endorse: true,
            },
        ),
        (
            &straight,
            Title::Order {
                endorsee: buyer,
                may_endorse: true,
            },
        ),
        (&straight, Title::Bearer),
        (&straight, Title::Straight { consignee: buyer2 }),
    ] {
        w.refuse_import(import(env, title), &[&node()], "import_title_mismatch");
    }
    let bill = w
        .import(
            import(&straight, Title::Straight { consignee: buyer }),
            &[&node()],
        )
        .expect("a straight bill to its consignee");
    assert!(w.bill(&bill).holds_title(buyer));
    let bearer = w
        .import(import(&to_order, Title::Bearer), &[&node()])
        .expect("a bearer bill");
    assert_eq!(w.bill(&bearer).title, Title::Bearer);
    // The recipient must be a party here, and not revoked.
    let unknown = Action::Import {
        surrendered_by: None,
        envelope: envelope(&to_order_document(&w.next_reference())),
        carrier,
        possessor: ebl_core::PartyId([8; 32]),
        title: Title::Bearer,
    };
    w.refuse_import(unknown, &[&node()], "unknown_party");
}

#[test]
fn a_bill_already_here_cannot_be_imported_again() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let reference = w.bill(&bill).reference.clone();
    let (buyer, carrier) = (w.buyer.id, w.carrier.id);
    let again = Action::Import {
        surrendered_by: None,
        envelope: envelope(&to_order_document(&reference)),
        carrier,
        possessor: buyer,
        title: Title::Bearer,
    };
    w.refuse_import(again, &[&node()], "duplicate_reference");
    // Nor imported twice.
    let action = w.import_to_order(buyer);
    w.import(action.clone(), &[&node()]).expect("first import");
    w.refuse_import(action, &[&node()], "duplicate_reference");
}

#[test]
fn an_imported_bill_can_be_amended_and_replaced_by_its_carrier() {
    let mut w = World::new();
    let (buyer, buyer_key, carrier_key) = (w.buyer.id, w.buyer.key.clone(), w.carrier.key.clone());
    let action = w.import_to_order(buyer);
    let bill = w.import(action, &[&node()]).expect("import");
    w.act(
        Action::SurrenderForAmendment {
            bill,
            reason: AmendmentReason::ChangeOfDestination,
        },
        &[&buyer_key],
    )
    .expect("surrender for amendment");
    w.act(Action::AcceptSurrender { bill }, &[&carrier_key])
        .expect("accept");
    assert!(matches!(w.bill(&bill).status, Status::Void { .. }));
    // The replacement is a native ISSUE naming the imported bill, back to whoever surrendered it.
    let reference = w.bill(&bill).reference.clone();
    let shipper = w.shipper.id;
    let replacement = Action::Issue {
        document: to_order_document(&reference),
        issue_to: buyer,
        shipper,
        consignee: None,
        replaces: Some(ebl_core::Replacement::of(bill)),
    };
    let tx = w.body(Hash::ZERO, replacement).signed_by(&[&carrier_key]);
    let new = w.submit(tx).expect("replacement issued").tx;
    assert_eq!(w.bill(&new).possessor, buyer);
    let report = verify_chain(w.ledger.genesis(), &w.log, new, None).expect("lineage verifies");
    assert_eq!(report.bill.replaces, vec![bill]);
}

#[test]
fn import_bytes_are_pinned() {
    // Variant indices are part of the format: IMPORT is appended last, so older bytes keep their meaning.
    let w = World::new();
    let (buyer, carrier) = (w.buyer.id, w.carrier.id);
    let tx = ebl_core::Transaction {
        chain: w.chain(),
        prev: Hash::ZERO,
        time_ms: 1,
        valid_until_ms: None,
        action: Action::Import {
            surrendered_by: None,
            envelope: "{}".into(),
            carrier,
            possessor: buyer,
            title: Title::Bearer,
        },
    };
    let bytes = codec::encode(&tx.action);
    assert_eq!(
        &bytes[..4],
        &16u32.to_le_bytes(),
        "IMPORT is variant 16, after REVOKE_PARTY"
    );
    assert_eq!(
        ebl_core::bytes::to_hex(&bytes[4..14]),
        "02000000000000007b7d",
        "then the envelope as a length-prefixed string"
    );
    // Then the carrier, the possessor, the title (Bearer: variant 2 of Title) and, from format 4, who
    // surrendered it abroad (None: 0).
    assert_eq!(&bytes[14..46], carrier.0.as_slice());
    assert_eq!(&bytes[46..78], buyer.0.as_slice());
    assert_eq!(ebl_core::bytes::to_hex(&bytes[78..]), "0200000000");
    // A surrender received from abroad: 1, then the foreign party as `SEND_OUT` encodes its recipient.
    let party = ebl_core::ForeignParty {
        platform: "WAVE".into(),
        name: "H".into(),
        codes: vec![ebl_core::PartyCode {
            provider: "WAVE".into(),
            code: "h".into(),
        }],
    };
    let surrender = Action::Import {
        surrendered_by: Some(party.clone()),
        envelope: "{}".into(),
        carrier,
        possessor: carrier,
        title: Title::Bearer,
    };
    let bytes = codec::encode(&surrender);
    assert_eq!(ebl_core::bytes::to_hex(&bytes[78..83]), "0200000001");
    assert_eq!(&bytes[83..], codec::encode(&party).as_slice());
    assert_eq!(
        ebl_core::bytes::to_hex(&bytes[83..]),
        "0400000000000000574156450100000000000000480100000000000000040000000000000057415645010000000000000068"
    );
}
