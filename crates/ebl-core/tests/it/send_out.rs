//! `SEND_OUT` and the node's record of the answer: a bill leaving for another platform is frozen until
//! that platform answers, leaves for good when it is received, and comes back as a new bill linked to
//! its earlier life here.

use ebl_core::{verify_chain, Action, BillId, ForeignParty, Hash, Loan, PartyCode, Status, Title};

use crate::support::{assert_refused, envelope, node, to_order_document, World};

fn abroad() -> ForeignParty {
    ForeignParty {
        platform: "WAVE".into(),
        name: "Buyer Abroad".into(),
        codes: vec![PartyCode {
            provider: "WAVE".into(),
            code: "buyer-7".into(),
        }],
    }
}

fn send(bill: BillId) -> Action {
    Action::SendOut { bill, to: abroad() }
}

fn received(bill: BillId) -> Action {
    Action::SentOut {
        bill,
        entry: "our.last.entry".into(),
        answer: "rece.answer.sig".into(),
    }
}

/// A to-order bill of the shipper's, sent abroad.
fn sending(w: &mut World) -> BillId {
    let bill = w.issue_to_order_bill();
    let shipper = w.shipper.key.clone();
    w.act(send(bill), &[&shipper]).expect("the holder sends");
    bill
}

#[test]
fn a_bill_being_sent_is_frozen_until_the_other_platform_answers() {
    let mut w = World::new();
    let bill = sending(&mut w);
    let (shipper, carrier, buyer) = (w.shipper.key.clone(), w.carrier.key.clone(), w.buyer.id);
    assert!(matches!(
        &w.bill(&bill).status,
        Status::SendingOut { to, .. } if *to == abroad()
    ));
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[&shipper],
        "sending_out",
    );
    w.refuse(
        Action::SurrenderForDelivery { bill },
        &[&shipper],
        "sending_out",
    );
    w.refuse(send(bill), &[&shipper], "sending_out");
    w.refuse(Action::AcceptSurrender { bill }, &[&carrier], "sending_out");
    // Received: the bill's life here ends.
    w.act(received(bill), &[&node()])
        .expect("the node records RECE");
    assert_eq!(w.bill(&bill).status.name(), "TRANSFERRED_OUT");
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[&shipper],
        "terminal",
    );
    w.refuse(received(bill), &[&node()], "terminal");
    // And a bank replaying the chain offline sees the same.
    let report = verify_chain(w.ledger.genesis(), &w.log, bill, None).expect("verifies");
    assert_eq!(report.bill.status.name(), "TRANSFERRED_OUT");
}

#[test]
fn a_refused_send_gives_the_holder_the_bill_back_and_a_dispute_holds_it_until_the_next_answer() {
    let mut w = World::new();
    let bill = sending(&mut w);
    let (shipper, buyer) = (w.shipper.key.clone(), w.buyer.id);
    w.act(
        Action::SendRefused {
            bill,
            answer: "benv.answer.sig".into(),
        },
        &[&node()],
    )
    .expect("the node records BENV");
    assert_eq!(w.bill(&bill).status, Status::Issued);
    w.act(Action::Transfer { bill, to: buyer }, &[&shipper])
        .expect("the holder acts again");

    let other = sending(&mut w);
    w.act(
        Action::SendDisputed {
            bill: other,
            answer: "dise.answer.sig".into(),
        },
        &[&node()],
    )
    .expect("the node records DISE");
    assert_eq!(w.bill(&other).status.name(), "DISPUTED");
    w.refuse(
        Action::Transfer {
            bill: other,
            to: buyer,
        },
        &[&shipper],
        "disputed",
    );
    // Another DISE records nothing; the other platform's next other answer settles the dispute.
    w.refuse(
        Action::SendDisputed {
            bill: other,
            answer: "dise.again.sig".into(),
        },
        &[&node()],
        "disputed",
    );
    w.act(received(other), &[&node()])
        .expect("a RECE after the dispute is recorded");
    assert_eq!(w.bill(&other).status.name(), "TRANSFERRED_OUT");

    let third = sending(&mut w);
    for answer in [
        Action::SendDisputed {
            bill: third,
            answer: "dise.answer.sig".into(),
        },
        Action::SendRefused {
            bill: third,
            answer: "benv.answer.sig".into(),
        },
    ] {
        w.act(answer, &[&node()]).expect("recorded");
    }
    assert_eq!(w.bill(&third).status, Status::Issued);
    assert_eq!(w.bill(&third).possessor, w.shipper.id);
}

#[test]
fn only_a_members_node_records_the_answer_and_only_for_a_bill_being_sent() {
    let mut w = World::new();
    let bill = sending(&mut w);
    let (shipper, operator, carrier) = (
        w.shipper.key.clone(),
        w.operator.clone(),
        w.carrier.key.clone(),
    );
    w.refuse(received(bill), &[&shipper], "not_node");
    w.refuse(received(bill), &[&operator], "not_node");
    w.refuse(received(bill), &[&node(), &carrier], "not_node");
    w.refuse(received(bill), &[], "missing_signature");
    let idle = w.issue_to_order_bill();
    w.refuse(received(idle), &[&node()], "not_sending_out");
    w.refuse(
        Action::SendRefused {
            bill: idle,
            answer: "x".into(),
        },
        &[&node()],
        "not_sending_out",
    );
}

#[test]
fn only_the_holder_with_title_sends_and_never_a_pledged_bill() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (shipper, buyer) = (w.shipper.key.clone(), w.buyer.key.clone());
    let (bank, bank_key) = (w.bank.id, w.bank.key.clone());
    w.refuse(send(bill), &[&buyer], "not_possessor");
    w.refuse(send(bill), &[&node()], "unknown_key");
    // A pledged bill cannot leave until the pledge is released.
    let loan = Loan {
        reference: "L-1".into(),
        amount_minor: 100,
        currency: "USD".into(),
    };
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan,
        },
        &[&shipper, &bank_key],
    )
    .expect("pledged");
    w.refuse(send(bill), &[&shipper], "pledged");
    w.refuse(send(bill), &[&bank_key], "pledged");
    w.act(Action::Release { bill }, &[&bank_key])
        .expect("released");
    w.act(send(bill), &[&shipper])
        .expect("released, it may leave");

    // Possession without title (transferred, not endorsed) does not send it.
    let other = w.issue_to_order_bill();
    w.act(
        Action::Transfer {
            bill: other,
            to: w.buyer.id,
        },
        &[&shipper],
    )
    .expect("transfer");
    w.refuse(send(other), &[&buyer], "no_title");
    // Nor may a restricted endorsee pass title on to another platform.
    let restricted = w.issue_to_order_bill();
    let buyer_id = w.buyer.id;
    w.act(
        Action::Endorse {
            bill: restricted,
            to: buyer_id,
        },
        &[&shipper],
    )
    .expect("endorse");
    w.act(
        Action::Transfer {
            bill: restricted,
            to: buyer_id,
        },
        &[&shipper],
    )
    .expect("transfer");
    w.refuse(send(restricted), &[&buyer], "endorsement_restricted");
}

#[test]
fn a_bill_is_sent_only_to_another_platform_named_within_the_limits() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let shipper = w.shipper.key.clone();
    let to = |change: fn(&mut ForeignParty)| {
        let mut p = abroad();
        change(&mut p);
        Action::SendOut { bill, to: p }
    };
    w.refuse(
        to(|p| p.platform = "EBL".into()),
        &[&shipper],
        "own_platform",
    );
    w.refuse(
        to(|p| p.platform = "TOOLONG".into()),
        &[&shipper],
        "invalid_platform_code",
    );
    w.refuse(to(|p| p.codes.clear()), &[&shipper], "empty_field");
    w.refuse(to(|p| p.name = " ".into()), &[&shipper], "empty_field");
    let max = ebl_core::limits::FOREIGN_PARTY_CODES_MAX;
    let many = |n: usize| {
        let mut p = abroad();
        p.codes = (0..n)
            .map(|i| PartyCode {
                provider: "LEI".into(),
                code: format!("code-{i}"),
            })
            .collect();
        p
    };
    w.refuse(
        Action::SendOut {
            bill,
            to: many(max + 1),
        },
        &[&shipper],
        "too_many_party_codes",
    );
    let long = ebl_core::limits::FOREIGN_PARTY_CODE_BYTES_MAX;
    let mut too_long = abroad();
    too_long.codes[0].code = "x".repeat(long + 1);
    w.refuse(
        Action::SendOut { bill, to: too_long },
        &[&shipper],
        "field_too_long",
    );
    let mut at_limit = many(max);
    at_limit.codes[0].code = "x".repeat(long);
    w.act(Action::SendOut { bill, to: at_limit }, &[&shipper])
        .expect("codes at both limits are accepted");
    // The answer recorded is bounded too.
    let answer_max = ebl_core::limits::PINT_ANSWER_BYTES_MAX;
    w.refuse(
        Action::SendRefused {
            bill,
            answer: "a".repeat(answer_max + 1),
        },
        &[&node()],
        "pint_record_too_large",
    );
    w.act(
        Action::SendRefused {
            bill,
            answer: "a".repeat(answer_max),
        },
        &[&node()],
    )
    .expect("an answer at the limit is recorded");
}

#[test]
fn a_bill_that_comes_back_is_a_new_bill_linked_to_its_earlier_life() {
    let mut w = World::new();
    let reference = w.next_reference();
    let shipper = w.shipper.id;
    let bill = w
        .issue(to_order_document(&reference), shipper, None)
        .expect("issue");
    let buyer = w.buyer.id;
    let back = Action::Import {
        surrendered_by: None,
        envelope: envelope(&to_order_document(&reference)),
        carrier: w.carrier.id,
        possessor: buyer,
        title: Title::Order {
            endorsee: buyer,
            may_endorse: true,
        },
    };
    let import = |w: &mut World| {
        let tx = w.body(Hash::ZERO, back.clone()).signed_by(&[&node()]);
        w.submit(tx).map(|a| a.tx)
    };
    // While the bill is here (or being sent), its reference is taken.
    assert_refused(import(&mut w), "duplicate_reference");
    let shipper_key = w.shipper.key.clone();
    w.act(send(bill), &[&shipper_key]).expect("send");
    assert_refused(import(&mut w), "duplicate_reference");
    w.act(received(bill), &[&node()]).expect("received abroad");
    let returned = import(&mut w).expect("it comes back");
    let state = w.bill(&returned).clone();
    assert_eq!(state.earlier, Some(bill));
    assert_eq!(state.possessor, buyer);
    let found = w
        .ledger
        .bill_by_reference(&ebl_core::Identifier::new("SMDG", "MSC"), &reference)
        .map(|b| b.id);
    assert_eq!(
        found,
        Some(returned),
        "the reference names the bill that is here now"
    );
    // A ledger rebuilt from its parts agrees.
    let rebuilt = ebl_core::Ledger::from_parts(
        w.ledger.genesis().clone(),
        w.ledger.registry().clone(),
        w.ledger.bills().cloned(),
    );
    assert_eq!(
        rebuilt
            .bill_by_reference(&ebl_core::Identifier::new("SMDG", "MSC"), &reference)
            .map(|b| b.id),
        Some(returned)
    );
}
