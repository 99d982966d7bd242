//! The bank's check: verifying a bill's chain from its transactions and the registry history.

use ebl_core::{verify_chain, Action, Hash, Loan, SignedTransaction, Status, Title};

use crate::support::{key, to_order_document, World};

/// The registry transactions and those of one bill, in ledger order: what an export hands a bank.
fn chain_of(w: &World, bill: Hash) -> Vec<SignedTransaction> {
    w.log
        .iter()
        .filter(|tx| {
            tx.body.action.is_registry() || tx.id() == bill || tx.body.action.bill() == Some(bill)
        })
        .cloned()
        .collect()
}

fn traded_bill(w: &mut World) -> Hash {
    let bill = w.issue_to_order_bill();
    let (s, buyer, buyer_key, bank, bank_key) = (
        w.shipper.key.clone(),
        w.buyer.id,
        w.buyer.key.clone(),
        w.bank.id,
        w.bank.key.clone(),
    );
    w.act(Action::EndorseToOrder { bill, to: buyer }, &[&s])
        .expect("endorse");
    w.act(Action::Transfer { bill, to: buyer }, &[&s])
        .expect("transfer");
    let loan = Loan {
        reference: "L-9".into(),
        amount_minor: 100,
        currency: "USD".into(),
    };
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan,
        },
        &[&buyer_key, &bank_key],
    )
    .expect("pledge");
    bill
}

#[test]
fn a_valid_chain_reports_possessor_title_and_pledge() {
    let mut w = World::new();
    let other = w.issue_to_order_bill(); // another bill's history is not part of this chain
    let bill = traded_bill(&mut w);
    let entries = chain_of(&w, bill);
    assert!(!entries.iter().any(|t| t.id() == other));
    let report = verify_chain(w.ledger.genesis(), &entries, bill, None).expect("verifies");
    assert_eq!(report.bill, *w.bill(&bill));
    assert_eq!(report.bill.possessor, w.bank.id);
    assert_eq!(
        report.bill.title,
        Title::Order {
            endorsee: w.buyer.id,
            may_endorse: true
        }
    );
    assert!(matches!(report.bill.status, Status::Pledged(_)));
    assert_eq!(report.bill_transactions, 4);
}

/// The web app draws a bill's custody from these steps: each must be the state the ledger itself
/// reached after that transaction, not a second reading of the rules.
#[test]
fn custody_steps_are_the_ledgers_own_states_after_each_transaction() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, buyer, buyer_key, bank, bank_key) = (
        w.shipper.key.clone(),
        w.buyer.id,
        w.buyer.key.clone(),
        w.bank.id,
        w.bank.key.clone(),
    );
    let mut expected = vec![w.bill(&bill).clone()];
    w.act(Action::EndorseToOrder { bill, to: buyer }, &[&s])
        .expect("endorse");
    expected.push(w.bill(&bill).clone());
    w.act(Action::Transfer { bill, to: buyer }, &[&s])
        .expect("transfer");
    expected.push(w.bill(&bill).clone());
    let loan = Loan {
        reference: "L-9".into(),
        amount_minor: 100,
        currency: "USD".into(),
    };
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan,
        },
        &[&buyer_key, &bank_key],
    )
    .expect("pledge");
    expected.push(w.bill(&bill).clone());
    let entries = chain_of(&w, bill);
    let report = verify_chain(w.ledger.genesis(), &entries, bill, None).expect("verifies");
    let states: Vec<_> = report.custody.iter().map(|c| c.bill.clone()).collect();
    assert_eq!(states, expected);
    let bill_txs: Vec<Hash> = entries
        .iter()
        .filter(|t| !t.body.action.is_registry())
        .map(|t| t.id())
        .collect();
    let steps: Vec<Hash> = report.custody.iter().map(|c| c.tx).collect();
    assert_eq!(steps, bill_txs);
    assert!(matches!(report.custody[3].bill.status, Status::Pledged(_)));
    assert!(matches!(report.custody[2].bill.status, Status::Issued));
}

#[test]
fn the_document_must_match_the_issued_checksum() {
    let mut w = World::new();
    let bill = traded_bill(&mut w);
    let entries = chain_of(&w, bill);
    let reference = w.bill(&bill).reference.clone();
    assert!(verify_chain(
        w.ledger.genesis(),
        &entries,
        bill,
        Some(&to_order_document(&reference))
    )
    .is_ok());
    let failure = verify_chain(
        w.ledger.genesis(),
        &entries,
        bill,
        Some(&to_order_document("OTHER")),
    )
    .expect_err("mismatch");
    assert_eq!(failure.error.code(), "document_checksum_mismatch");
}

#[test]
fn a_tampered_signature_is_named_by_position() {
    let mut w = World::new();
    let bill = traded_bill(&mut w);
    let mut entries = chain_of(&w, bill);
    let last = entries.len() - 1;
    entries[last].signatures[1].signature.0[0] ^= 0x40;
    let failure = verify_chain(w.ledger.genesis(), &entries, bill, None).expect_err("tampered");
    assert_eq!(
        (failure.position, failure.error.code()),
        (last, "bad_signature")
    );
}

#[test]
fn a_missing_link_is_a_stale_head() {
    let mut w = World::new();
    let bill = traded_bill(&mut w);
    let mut entries = chain_of(&w, bill);
    let transfer_at = entries
        .iter()
        .position(|t| t.body.action.code() == "TRANSFER")
        .expect("has a transfer");
    entries.remove(transfer_at - 1); // drop the endorsement
    let failure = verify_chain(w.ledger.genesis(), &entries, bill, None).expect_err("gap");
    assert_eq!(
        (failure.position, failure.error.code()),
        (transfer_at - 1, "stale_head")
    );
}

#[test]
fn a_foreign_transaction_or_a_missing_issue_is_reported() {
    let mut w = World::new();
    let other = w.issue_to_order_bill();
    let bill = traded_bill(&mut w);
    let mut entries = chain_of(&w, bill);
    let foreign = w
        .log
        .iter()
        .find(|t| t.id() == other)
        .cloned()
        .expect("other issue");
    entries.push(foreign);
    assert_eq!(
        verify_chain(w.ledger.genesis(), &entries, bill, None)
            .expect_err("foreign")
            .error
            .code(),
        "foreign_transaction"
    );
    let registry_only: Vec<_> = chain_of(&w, bill)
        .into_iter()
        .filter(|t| t.body.action.is_registry())
        .collect();
    assert_eq!(
        verify_chain(w.ledger.genesis(), &registry_only, bill, None)
            .expect_err("no issue")
            .error
            .code(),
        "bill_not_in_chain"
    );
}

#[test]
fn a_chain_from_another_genesis_fails_at_the_first_entry() {
    let mut w = World::new();
    let bill = traded_bill(&mut w);
    let entries = chain_of(&w, bill);
    let other = ebl_core::Genesis::single(
        "other",
        ebl_core::PartyKey::of(&key(1)),
        ebl_core::PartyKey::of(&key(2)),
        "EBL",
        1,
    )
    .expect("genesis");
    let failure = verify_chain(&other, &entries, bill, None).expect_err("wrong genesis");
    assert_eq!((failure.position, failure.error.code()), (0, "wrong_chain"));
}

#[test]
fn history_still_verifies_after_a_key_rotation() {
    let mut w = World::new();
    let bill = traded_bill(&mut w);
    let (buyer, bank_key, old) = (w.buyer.id, w.bank.key.clone(), w.buyer.key.clone());
    let new = key(77);
    w.registry_act_as(
        Action::RotateKey {
            party: buyer,
            new_key: ebl_core::PartyKey::of(&new),
        },
        &[&old, &new],
    )
    .expect("rotate");
    w.act(Action::Release { bill }, &[&bank_key])
        .expect("release");
    w.act(Action::SurrenderForDelivery { bill }, &[&new])
        .expect("buyer surrenders with the new key");
    let report =
        verify_chain(w.ledger.genesis(), &chain_of(&w, bill), bill, None).expect("verifies");
    assert!(
        matches!(report.bill.status, Status::PendingDelivery { surrendered_by } if surrendered_by == buyer)
    );
}

#[test]
fn a_replacement_verifies_with_the_history_of_the_bill_it_replaces() {
    let mut w = World::new();
    let old = w.issue_to_order_bill();
    let reference = w.bill(&old).reference.clone();
    let (s, c, shipper) = (w.shipper.key.clone(), w.carrier.key.clone(), w.shipper.id);
    w.act(
        Action::SurrenderForAmendment {
            bill: old,
            reason: ebl_core::AmendmentReason::SwitchBill,
        },
        &[&s],
    )
    .expect("surrender");
    w.act(Action::AcceptSurrender { bill: old }, &[&c])
        .expect("accept");
    let issue = Action::Issue {
        document: to_order_document(&reference),
        issue_to: shipper,
        shipper,
        consignee: None,
        replaces: Some(ebl_core::Replacement::of(old)),
    };
    let tx = w.body(Hash::ZERO, issue).signed_by(&[&c]);
    let new = w.submit(tx).expect("replacement").tx;
    let entries: Vec<_> = w
        .log
        .iter()
        .filter(|t| {
            t.body.action.is_registry()
                || [old, new].contains(&t.id())
                || t.body.action.bill().is_some_and(|b| b == old || b == new)
        })
        .cloned()
        .collect();
    let report = verify_chain(w.ledger.genesis(), &entries, new, None).expect("verifies");
    assert_eq!(report.bill.replaces, vec![old]);
    assert_eq!(report.bill_transactions, 1);
    // Without the voided bill's history the replacement cannot be checked.
    let alone: Vec<_> = entries
        .iter()
        .filter(|t| t.body.action.bill() != Some(old) && t.id() != old)
        .cloned()
        .collect();
    assert_eq!(
        verify_chain(w.ledger.genesis(), &alone, new, None)
            .expect_err("needs the old bill")
            .error
            .code(),
        "unknown_bill"
    );
}

#[test]
fn a_ledger_rebuilt_from_its_stored_parts_is_the_same_ledger() {
    let mut w = World::new();
    let bill = traded_bill(&mut w);
    let old = w.issue_to_order_bill();
    let (s, c) = (w.shipper.key.clone(), w.carrier.key.clone());
    w.act(
        Action::SurrenderForAmendment {
            bill: old,
            reason: ebl_core::AmendmentReason::ChangeOfDestination,
        },
        &[&s],
    )
    .expect("surrender");
    w.act(Action::AcceptSurrender { bill: old }, &[&c])
        .expect("accept");
    let reference = w.bill(&old).reference.clone();
    let shipper = w.shipper.id;
    let issue = Action::Issue {
        document: to_order_document(&reference),
        issue_to: shipper,
        shipper,
        consignee: None,
        replaces: Some(ebl_core::Replacement::of(old)),
    };
    let tx = w.body(Hash::ZERO, issue).signed_by(&[&c]);
    w.submit(tx).expect("replacement");
    let registry = ebl_core::Registry::from_parts(
        w.ledger.registry().state().clone(),
        w.ledger.registry().formats().clone(),
        w.ledger.registry().stated_faults(),
        w.ledger.registry().parties().cloned(),
    );
    let rebuilt = ebl_core::Ledger::from_parts(
        w.ledger.genesis().clone(),
        registry,
        w.ledger.bills().cloned(),
    );
    assert!(rebuilt == w.ledger, "rebuilt ledger differs");
    assert!(w.ledger.bill(&bill).is_some());
}

#[test]
fn a_reader_that_adopts_changed_bills_equals_the_writer() {
    let mut w = World::new();
    let reader_start = w.ledger.clone();
    let bill = traded_bill(&mut w);
    let old = w.issue_to_order_bill();
    let (s, c, shipper) = (w.shipper.key.clone(), w.carrier.key.clone(), w.shipper.id);
    w.act(
        Action::SurrenderForAmendment {
            bill: old,
            reason: ebl_core::AmendmentReason::SwitchBill,
        },
        &[&s],
    )
    .expect("surrender");
    w.act(Action::AcceptSurrender { bill: old }, &[&c])
        .expect("accept");
    let reference = w.bill(&old).reference.clone();
    let issue = Action::Issue {
        document: to_order_document(&reference),
        issue_to: shipper,
        shipper,
        consignee: None,
        replaces: Some(ebl_core::Replacement::of(old)),
    };
    let tx = w.body(Hash::ZERO, issue).signed_by(&[&c]);
    w.submit(tx).expect("replacement");
    // The reader adopts every bill (newest first, the hardest order) and the registry.
    let mut reader = reader_start;
    let mut bills: Vec<_> = w.ledger.bills().cloned().collect();
    bills.reverse();
    reader.adopt(bills, Some(w.ledger.registry().clone()));
    assert!(
        reader == w.ledger,
        "the reader's copy differs from the writer's"
    );
    assert!(reader.bill(&bill).is_some());
}
