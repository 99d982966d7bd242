//! The rest of a bill's life: a recipient's refusal, split and combine replacements, and the switch to
//! paper; each rule accepted once and refused with the ledger unchanged.

use ebl_core::limits::{REPLACED_BILLS_MAX, REPLACEMENT_BILLS_MAX};
use ebl_core::{
    verify_chain, Action, AmendmentReason, BillId, Hash, Loan, PaperBill, Replacement, Status,
    Title,
};

use crate::support::{assert_refused, to_order_document, World};

/// A bill the shipper surrendered for `reason` and the carrier accepted.
fn accepted_amendment(w: &mut World, reason: AmendmentReason) -> BillId {
    let bill = w.issue_to_order_bill();
    let (s, c) = (w.shipper.key.clone(), w.carrier.key.clone());
    w.act(Action::SurrenderForAmendment { bill, reason }, &[&s])
        .expect("surrender");
    if reason != AmendmentReason::SwitchToPaper {
        w.act(Action::AcceptSurrender { bill }, &[&c])
            .expect("accept");
    }
    bill
}

/// The carrier issues a replacement with `reference` for `replacement`, to `issue_to`.
fn replace(
    w: &mut World,
    reference: &str,
    replacement: Replacement,
    issue_to: ebl_core::PartyId,
) -> ebl_core::Result<BillId> {
    let action = Action::Issue {
        document: to_order_document(reference),
        issue_to,
        shipper: w.shipper.id,
        consignee: None,
        replaces: Some(replacement),
    };
    let c = w.carrier.key.clone();
    let tx = w.body(Hash::ZERO, action).signed_by(&[&c]);
    w.submit(tx).map(|a| a.tx)
}

fn paper() -> PaperBill {
    PaperBill {
        number: "MSC-PAPER-0042".into(),
        issued_on: "2026-12-01".into(),
    }
}

#[test]
fn the_recipient_refuses_a_transfer_and_possession_returns() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, b, b2) = (
        w.shipper.key.clone(),
        w.buyer.key.clone(),
        w.buyer2.key.clone(),
    );
    let (shipper, buyer) = (w.shipper.id, w.buyer.id);
    w.act(Action::Transfer { bill, to: buyer }, &[&s])
        .expect("transfer");
    w.refuse(Action::Refuse { bill }, &[&b2], "not_recipient");
    w.refuse(Action::Refuse { bill }, &[&s], "not_recipient");
    w.act(Action::Refuse { bill }, &[&b]).expect("refuse");
    assert_eq!(w.bill(&bill).possessor, shipper);
    // Once: the refusal itself cannot be refused.
    w.refuse(Action::Refuse { bill }, &[&s], "nothing_to_refuse");
    w.refuse(Action::Refuse { bill }, &[&b], "nothing_to_refuse");
}

#[test]
fn the_endorsee_refuses_an_endorsement_and_title_returns() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, b) = (w.shipper.key.clone(), w.buyer.key.clone());
    let buyer = w.buyer.id;
    let title_before = w.bill(&bill).title.clone();
    w.act(Action::EndorseToOrder { bill, to: buyer }, &[&s])
        .expect("endorse");
    w.act(Action::Refuse { bill }, &[&b])
        .expect("the endorsee refuses though it does not possess the bill");
    assert_eq!(w.bill(&bill).title, title_before);
}

#[test]
fn a_refusal_is_only_the_very_next_action() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, b) = (w.shipper.key.clone(), w.buyer.key.clone());
    let buyer = w.buyer.id;
    w.act(Action::EndorseToOrder { bill, to: buyer }, &[&s])
        .expect("endorse");
    w.act(Action::Transfer { bill, to: buyer }, &[&s])
        .expect("transfer");
    w.act(Action::Sign { bill }, &[&b]).expect("sign");
    w.refuse(Action::Refuse { bill }, &[&b], "nothing_to_refuse");
    // Nor is an issue refusable.
    let fresh = w.issue_to_order_bill();
    w.refuse(Action::Refuse { bill: fresh }, &[&s], "nothing_to_refuse");
}

#[test]
fn a_pledge_is_not_refusable() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank) = (w.shipper.key.clone(), w.bank.key.clone());
    let pledgee = w.bank.id;
    let loan = Loan {
        reference: "L-R".into(),
        amount_minor: 100,
        currency: "USD".into(),
    };
    w.act(
        Action::Pledge {
            bill,
            pledgee,
            loan,
        },
        &[&s, &bank],
    )
    .expect("pledge");
    w.refuse(Action::Refuse { bill }, &[&bank], "pledged");
    // A pledged bill cannot be surrendered, so not split, combined or switched either.
    w.refuse(
        Action::SurrenderForAmendment {
            bill,
            reason: AmendmentReason::SwitchBill,
        },
        &[&s],
        "pledged",
    );
    w.act(Action::Release { bill }, &[&bank]).expect("release");
    w.refuse(Action::Refuse { bill }, &[&s], "nothing_to_refuse");
}

#[test]
fn a_split_replaces_one_void_bill_by_several() {
    let mut w = World::new();
    let old = accepted_amendment(&mut w, AmendmentReason::SwitchBill);
    let (shipper, buyer) = (w.shipper.id, w.buyer.id);
    let reference = w.bill(&old).reference.clone();
    let split = Replacement {
        bills: vec![old],
        count: 2,
    };
    assert_refused(
        replace(&mut w, "SPLIT-A", split.clone(), buyer),
        "issue_to_not_named",
    );
    let a = replace(&mut w, &reference, split.clone(), shipper).expect("first half");
    assert_refused(
        replace(&mut w, "SPLIT-X", Replacement::of(old), shipper),
        "already_replaced",
    );
    let b = replace(&mut w, "SPLIT-B", split.clone(), shipper).expect("second half");
    assert_refused(
        replace(&mut w, "SPLIT-C", split.clone(), shipper),
        "already_replaced",
    );
    assert_eq!(
        w.bill(&old).status,
        Status::Void {
            surrendered_by: shipper,
            replaced_by: vec![a, b],
            replacement: Some(split),
        }
    );
    assert_eq!(
        (w.bill(&a).replaces.clone(), w.bill(&b).replaces.clone()),
        (vec![old], vec![old])
    );
    // Each half is a bill of its own: endorsed to different buyers.
    let s = w.shipper.key.clone();
    let buyer2 = w.buyer2.id;
    w.act(Action::EndorseToOrder { bill: a, to: buyer }, &[&s])
        .expect("half A");
    w.act(
        Action::EndorseToOrder {
            bill: b,
            to: buyer2,
        },
        &[&s],
    )
    .expect("half B");
    // A bank shown half A sees what it replaced.
    let report = verify_chain(w.ledger.genesis(), &w.log.clone(), a, None);
    let entries: Vec<_> = w
        .log
        .iter()
        .filter(|tx| {
            let id = tx.id();
            tx.body.action.is_registry()
                || [old, a, b].contains(&id)
                || tx.body.action.bill().is_some_and(|x| x == old || x == a)
        })
        .cloned()
        .collect();
    let report_a = verify_chain(w.ledger.genesis(), &entries, a, None).expect("lineage verifies");
    assert_eq!(report_a.bill.replaces, vec![old]);
    assert!(report.is_err(), "a bundle with unrelated bills is refused");
}

#[test]
fn a_combine_replaces_several_void_bills_by_one() {
    let mut w = World::new();
    let one = accepted_amendment(&mut w, AmendmentReason::ChangeOfDestination);
    let two = accepted_amendment(&mut w, AmendmentReason::ChangeOfDestination);
    let shipper = w.shipper.id;
    let both = Replacement {
        bills: vec![one, two],
        count: 1,
    };
    let new = replace(&mut w, "COMBINED-1", both.clone(), shipper).expect("combine");
    assert_eq!(w.bill(&new).replaces, vec![one, two]);
    for old in [one, two] {
        assert!(
            matches!(&w.bill(&old).status, Status::Void { replaced_by, .. } if *replaced_by == vec![new])
        );
    }
    assert_refused(
        replace(&mut w, "COMBINED-2", both, shipper),
        "already_replaced",
    );
    // Bills not all void, or not the carrier's, are not combined.
    let live = w.issue_to_order_bill();
    let three = accepted_amendment(&mut w, AmendmentReason::ChangeOfDestination);
    assert_refused(
        replace(
            &mut w,
            "COMBINED-3",
            Replacement {
                bills: vec![three, live],
                count: 1,
            },
            shipper,
        ),
        "replaced_bill_not_void",
    );
    let entries = w.log.clone();
    let filtered: Vec<_> = entries
        .iter()
        .filter(|tx| {
            let id = tx.id();
            tx.body.action.is_registry()
                || [one, two, new].contains(&id)
                || tx
                    .body
                    .action
                    .bill()
                    .is_some_and(|x| [one, two, new].contains(&x))
        })
        .cloned()
        .collect();
    let report = verify_chain(w.ledger.genesis(), &filtered, new, None)
        .expect("a combined bill verifies over both void bills' histories");
    assert_eq!(report.bill.replaces, vec![one, two]);
}

#[test]
fn replacements_are_bounded() {
    let mut w = World::new();
    let old = accepted_amendment(&mut w, AmendmentReason::ChangeOfDestination);
    let shipper = w.shipper.id;
    for (bills, count) in [
        (vec![], 1),
        (vec![old, old], 1),
        (vec![old], 0),
        (vec![old], REPLACEMENT_BILLS_MAX + 1),
        (
            (0..=REPLACED_BILLS_MAX as u8)
                .map(|i| Hash::of(&[i]))
                .collect(),
            1,
        ),
    ] {
        let before = w.ledger.clone();
        assert_refused(
            replace(&mut w, "BOUND-1", Replacement { bills, count }, shipper),
            "malformed_replacement",
        );
        assert!(w.ledger == before);
    }
    replace(
        &mut w,
        "BOUND-2",
        Replacement {
            bills: vec![old],
            count: REPLACEMENT_BILLS_MAX,
        },
        shipper,
    )
    .expect("the largest split's first bill");
}

#[test]
fn a_switch_to_paper_ends_the_bills_life_with_the_carriers_note() {
    let mut w = World::new();
    let bill = accepted_amendment(&mut w, AmendmentReason::SwitchToPaper);
    let (c, s) = (w.carrier.key.clone(), w.shipper.key.clone());
    let shipper = w.shipper.id;
    w.refuse(
        Action::AcceptSurrender { bill },
        &[&c],
        "paper_note_missing",
    );
    w.refuse(
        Action::AcceptSurrenderToPaper {
            bill,
            paper: paper(),
        },
        &[&s],
        "not_carrier",
    );
    let bad_date = PaperBill {
        issued_on: "01.12.2026".into(),
        ..paper()
    };
    w.refuse(
        Action::AcceptSurrenderToPaper {
            bill,
            paper: bad_date,
        },
        &[&c],
        "wrong_field_type",
    );
    w.act(
        Action::AcceptSurrenderToPaper {
            bill,
            paper: paper(),
        },
        &[&c],
    )
    .expect("switched");
    assert_eq!(
        w.bill(&bill).status,
        Status::SwitchedToPaper {
            surrendered_by: shipper,
            paper: paper()
        }
    );
    w.refuse(Action::Sign { bill }, &[&c], "terminal");
    assert_refused(
        replace(&mut w, "PAPER-1", Replacement::of(bill), shipper),
        "replaced_bill_not_void",
    );
    // The note is for a switch to paper only.
    let pending = w.issue_to_order_bill();
    w.act(
        Action::SurrenderForAmendment {
            bill: pending,
            reason: AmendmentReason::ChangeOfDestination,
        },
        &[&s],
    )
    .expect("surrender");
    w.refuse(
        Action::AcceptSurrenderToPaper {
            bill: pending,
            paper: paper(),
        },
        &[&c],
        "not_switch_to_paper",
    );
    assert!(matches!(w.bill(&pending).title, Title::Order { .. }));
}

#[test]
fn the_paper_bill_number_is_bounded() {
    use ebl_core::limits::PAPER_BILL_NUMBER_BYTES_MAX;
    let mut w = World::new();
    let c = w.carrier.key.clone();
    let at_limit = accepted_amendment(&mut w, AmendmentReason::SwitchToPaper);
    let over = PaperBill {
        number: "P".repeat(PAPER_BILL_NUMBER_BYTES_MAX + 1),
        ..paper()
    };
    w.refuse(
        Action::AcceptSurrenderToPaper {
            bill: at_limit,
            paper: over,
        },
        &[&c],
        "field_too_long",
    );
    let longest = PaperBill {
        number: "P".repeat(PAPER_BILL_NUMBER_BYTES_MAX),
        ..paper()
    };
    w.act(
        Action::AcceptSurrenderToPaper {
            bill: at_limit,
            paper: longest,
        },
        &[&c],
    )
    .expect("a number at the limit");
}
