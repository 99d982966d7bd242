//! Every ledger rule, each with a case it accepts and a case it refuses; a refusal must change nothing.

use ebl_core::{
    Action, AmendmentReason, Hash, Identifier, Loan, PartyKey, Role, Signatures, Status, Title,
};

use crate::support::{assert_refused, key, straight_document, to_order_document, World};

fn loan() -> Loan {
    Loan {
        reference: "LOAN-1".into(),
        amount_minor: 1_000_000,
        currency: "USD".into(),
    }
}

#[test]
fn transfer_moves_possession_not_title() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (shipper, buyer) = (w.shipper.key.clone(), w.buyer.id);
    w.act(Action::Transfer { bill, to: buyer }, &[&shipper])
        .expect("possessor transfers");
    assert_eq!(w.bill(&bill).possessor, buyer);
    assert_eq!(
        w.bill(&bill).title,
        Title::Order {
            endorsee: w.shipper.id,
            may_endorse: true
        }
    );
}

#[test]
fn not_possessor() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (buyer_key, buyer2) = (w.buyer.key.clone(), w.buyer2.id);
    w.refuse(
        Action::Transfer { bill, to: buyer2 },
        &[&buyer_key],
        "not_possessor",
    );
}

#[test]
fn already_possessor() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (k, me) = (w.shipper.key.clone(), w.shipper.id);
    w.refuse(
        Action::Transfer { bill, to: me },
        &[&k],
        "already_possessor",
    );
}

#[test]
fn unknown_and_revoked_recipients() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let k = w.shipper.key.clone();
    let nobody = crate::support::id_of(&key(99));
    w.refuse(
        Action::Transfer { bill, to: nobody },
        &[&k],
        "unknown_party",
    );
    let stranger = w.stranger.id;
    w.registry_act(Action::RevokeParty { party: stranger })
        .expect("operator revokes");
    w.refuse(
        Action::Transfer { bill, to: stranger },
        &[&k],
        "revoked_party",
    );
}

#[test]
fn endorse_passes_title_and_restricts_when_not_to_order() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (shipper, buyer, buyer_key, buyer2) = (
        w.shipper.key.clone(),
        w.buyer.id,
        w.buyer.key.clone(),
        w.buyer2.id,
    );
    w.act(Action::Endorse { bill, to: buyer }, &[&shipper])
        .expect("endorse");
    w.act(Action::Transfer { bill, to: buyer }, &[&shipper])
        .expect("transfer");
    assert_eq!(
        w.bill(&bill).title,
        Title::Order {
            endorsee: buyer,
            may_endorse: false
        }
    );
    w.refuse(
        Action::EndorseToOrder { bill, to: buyer2 },
        &[&buyer_key],
        "endorsement_restricted",
    );
    w.refuse(
        Action::BlankEndorse { bill },
        &[&buyer_key],
        "endorsement_restricted",
    );
    // Restricted endorsee can still surrender: title is theirs.
    w.act(Action::SurrenderForDelivery { bill }, &[&buyer_key])
        .expect("surrender by restricted endorsee");
}

#[test]
fn endorse_to_order_lets_the_endorsee_endorse_again() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (shipper, buyer, buyer_key, buyer2) = (
        w.shipper.key.clone(),
        w.buyer.id,
        w.buyer.key.clone(),
        w.buyer2.id,
    );
    w.act(Action::EndorseToOrder { bill, to: buyer }, &[&shipper])
        .expect("endorse to order");
    w.act(Action::Transfer { bill, to: buyer }, &[&shipper])
        .expect("transfer");
    w.act(Action::EndorseToOrder { bill, to: buyer2 }, &[&buyer_key])
        .expect("endorse again");
    assert_eq!(
        w.bill(&bill).title,
        Title::Order {
            endorsee: buyer2,
            may_endorse: true
        }
    );
}

#[test]
fn no_title() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (shipper, buyer, buyer_key, buyer2) = (
        w.shipper.key.clone(),
        w.buyer.id,
        w.buyer.key.clone(),
        w.buyer2.id,
    );
    // Possession without title: the buyer may neither endorse nor surrender nor pledge.
    w.act(Action::Transfer { bill, to: buyer }, &[&shipper])
        .expect("transfer");
    w.refuse(
        Action::Endorse { bill, to: buyer2 },
        &[&buyer_key],
        "no_title",
    );
    w.refuse(
        Action::SurrenderForDelivery { bill },
        &[&buyer_key],
        "no_title",
    );
    let bank_key = w.bank.key.clone();
    let bank = w.bank.id;
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&buyer_key, &bank_key],
        "no_title",
    );
}

#[test]
fn already_endorsee() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (k, me) = (w.shipper.key.clone(), w.shipper.id);
    w.refuse(Action::Endorse { bill, to: me }, &[&k], "already_endorsee");
}

#[test]
fn blank_endorsement_makes_a_bearer_bill() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (shipper, buyer, buyer_key, buyer2, buyer2_key) = (
        w.shipper.key.clone(),
        w.buyer.id,
        w.buyer.key.clone(),
        w.buyer2.id,
        w.buyer2.key.clone(),
    );
    w.act(Action::BlankEndorse { bill }, &[&shipper])
        .expect("blank endorse");
    w.act(Action::Transfer { bill, to: buyer }, &[&shipper])
        .expect("transfer bearer bill");
    w.act(Action::Transfer { bill, to: buyer2 }, &[&buyer_key])
        .expect("bearer passes it on");
    assert_eq!(w.bill(&bill).title, Title::Bearer);
    w.act(Action::SurrenderForDelivery { bill }, &[&buyer2_key])
        .expect("any bearer may surrender");
}

#[test]
fn not_negotiable() {
    let mut w = World::new();
    let bill = w.issue_straight_bill();
    let (k, buyer, bank, bank_key) = (
        w.shipper.key.clone(),
        w.buyer.id,
        w.bank.id,
        w.bank.key.clone(),
    );
    w.refuse(Action::Endorse { bill, to: buyer }, &[&k], "not_negotiable");
    w.refuse(Action::BlankEndorse { bill }, &[&k], "not_negotiable");
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&k, &bank_key],
        "not_negotiable",
    );
    // It can still change possession and be surrendered by the named consignee.
    let buyer_key = w.buyer.key.clone();
    w.act(Action::Transfer { bill, to: buyer }, &[&k])
        .expect("straight transfer");
    w.act(Action::SurrenderForDelivery { bill }, &[&buyer_key])
        .expect("consignee surrenders");
}

#[test]
fn straight_bill_surrender_needs_shipper_or_consignee() {
    let mut w = World::new();
    let bill = w.issue_straight_bill();
    let (k, stranger, stranger_key) =
        (w.shipper.key.clone(), w.stranger.id, w.stranger.key.clone());
    w.act(Action::Transfer { bill, to: stranger }, &[&k])
        .expect("transfer to a third party");
    w.refuse(
        Action::SurrenderForDelivery { bill },
        &[&stranger_key],
        "no_title",
    );
}

#[test]
fn sign_records_possession_and_changes_nothing_else() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let k = w.shipper.key.clone();
    let before = w.bill(&bill).clone();
    w.act(Action::Sign { bill }, &[&k])
        .expect("possessor signs");
    let after = w.bill(&bill);
    assert_eq!(
        (after.possessor, &after.title, &after.status),
        (before.possessor, &before.title, &before.status)
    );
    assert_eq!(after.transactions, before.transactions + 1);
    let other = w.buyer.key.clone();
    w.refuse(Action::Sign { bill }, &[&other], "not_possessor");
}

#[test]
fn pledge_release_cycle() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key) = (w.shipper.key.clone(), w.bank.id, w.bank.key.clone());
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&s, &bank_key],
    )
    .expect("pledge");
    let b = w.bill(&bill);
    assert_eq!(b.possessor, bank);
    assert!(
        matches!(&b.status, Status::Pledged(p) if p.pledgor == w.shipper.id && p.pledgee == bank)
    );
    assert_eq!(
        b.title,
        Title::Order {
            endorsee: w.shipper.id,
            may_endorse: true
        }
    );
    w.act(Action::Sign { bill }, &[&bank_key])
        .expect("pledgee may sign");
    w.act(Action::Release { bill }, &[&bank_key])
        .expect("release");
    let b = w.bill(&bill);
    assert_eq!((b.possessor, &b.status), (w.shipper.id, &Status::Issued));
}

#[test]
fn pledge_needs_the_banks_signature() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank) = (w.shipper.key.clone(), w.bank.id);
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&s],
        "missing_signature",
    );
    // Another bank's signature is not the pledgee's consent.
    let bank2_key = w.bank2.key.clone();
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&s, &bank2_key],
        "missing_signature",
    );
}

#[test]
fn pledge_needs_the_pledgors_signature() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (bank, bank_key, stranger) = (w.bank.id, w.bank.key.clone(), w.stranger.key.clone());
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&bank_key],
        "missing_signature",
    );
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&stranger, &bank_key],
        "not_possessor",
    );
}

#[test]
fn pledgee_must_be_a_bank() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, buyer, buyer_key) = (w.shipper.key.clone(), w.buyer.id, w.buyer.key.clone());
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: buyer,
            loan: loan(),
        },
        &[&s, &buyer_key],
        "missing_role",
    );
}

#[test]
fn unexpected_and_duplicate_signers() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key, stranger) = (
        w.shipper.key.clone(),
        w.bank.id,
        w.bank.key.clone(),
        w.stranger.key.clone(),
    );
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&s, &bank_key, &stranger],
        "unexpected_signer",
    );
    let buyer = w.buyer.id;
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[&s, &stranger],
        "unexpected_signer",
    );
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[&s, &s],
        "duplicate_signer",
    );
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[],
        "missing_signature",
    );
}

#[test]
fn pledge_field_rules() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key) = (w.shipper.key.clone(), w.bank.id, w.bank.key.clone());
    let mut zero = loan();
    zero.amount_minor = 0;
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: zero,
        },
        &[&s, &bank_key],
        "zero_amount",
    );
    let mut currency = loan();
    currency.currency = "usd".into();
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: currency,
        },
        &[&s, &bank_key],
        "invalid_currency",
    );
    let mut reference = loan();
    reference.reference = "R".repeat(ebl_core::limits::LOAN_REFERENCE_BYTES_MAX + 1);
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: reference,
        },
        &[&s, &bank_key],
        "field_too_long",
    );
    let mut at_limit = loan();
    at_limit.reference = "R".repeat(ebl_core::limits::LOAN_REFERENCE_BYTES_MAX);
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: at_limit,
        },
        &[&s, &bank_key],
    )
    .expect("limit passes");
}

#[test]
fn self_pledge() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key) = (w.shipper.key.clone(), w.bank.id, w.bank.key.clone());
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&s, &bank_key],
    )
    .expect("pledge");
    w.act(Action::Enforce { bill }, &[&bank_key])
        .expect("enforce");
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&bank_key],
        "self_pledge",
    );
    // Issue 14: someone else pledging the bill to the bank that holds it is a non-holder pledging,
    // not the holder pledging to itself.
    let shipper = w.shipper.key.clone();
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&shipper, &bank_key],
        "not_possessor",
    );
}

#[test]
fn pledged_bill_is_frozen_for_everyone_but_the_pledgee() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key, bank2, bank2_key, buyer) = (
        w.shipper.key.clone(),
        w.bank.id,
        w.bank.key.clone(),
        w.bank2.id,
        w.bank2.key.clone(),
        w.buyer.id,
    );
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&s, &bank_key],
    )
    .expect("pledge");
    // The double-financing guard: a second pledge is impossible, whoever signs.
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank2,
            loan: loan(),
        },
        &[&s, &bank2_key],
        "already_pledged",
    );
    w.refuse(
        Action::Pledge {
            bill,
            pledgee: bank2,
            loan: loan(),
        },
        &[&bank_key, &bank2_key],
        "already_pledged",
    );
    // The pledgor cannot move it, and neither can the pledgee except by release or enforcement.
    w.refuse(Action::Transfer { bill, to: buyer }, &[&s], "pledged");
    w.refuse(Action::Endorse { bill, to: buyer }, &[&s], "pledged");
    w.refuse(Action::SurrenderForDelivery { bill }, &[&s], "pledged");
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[&bank_key],
        "pledged",
    );
    w.refuse(Action::Release { bill }, &[&bank2_key], "not_pledgee");
    w.refuse(Action::Enforce { bill }, &[&s], "not_pledgee");
}

#[test]
fn not_pledged() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let bank_key = w.bank.key.clone();
    w.refuse(Action::Release { bill }, &[&bank_key], "not_pledged");
    w.refuse(Action::Enforce { bill }, &[&bank_key], "not_pledged");
}

#[test]
fn enforce_gives_the_bank_title_and_it_may_sell() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank, bank_key, buyer, buyer_key) = (
        w.shipper.key.clone(),
        w.bank.id,
        w.bank.key.clone(),
        w.buyer.id,
        w.buyer.key.clone(),
    );
    w.act(
        Action::Pledge {
            bill,
            pledgee: bank,
            loan: loan(),
        },
        &[&s, &bank_key],
    )
    .expect("pledge");
    w.act(Action::Enforce { bill }, &[&bank_key])
        .expect("enforce");
    let b = w.bill(&bill);
    assert_eq!(
        (b.possessor, &b.title, &b.status),
        (
            bank,
            &Title::Order {
                endorsee: bank,
                may_endorse: true
            },
            &Status::Issued
        )
    );
    w.act(Action::EndorseToOrder { bill, to: buyer }, &[&bank_key])
        .expect("bank endorses");
    w.act(Action::Transfer { bill, to: buyer }, &[&bank_key])
        .expect("bank delivers");
    w.act(Action::SurrenderForDelivery { bill }, &[&buyer_key])
        .expect("buyer surrenders");
}

#[test]
fn surrender_accepted_is_terminal() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, c, buyer) = (w.shipper.key.clone(), w.carrier.key.clone(), w.buyer.id);
    w.act(Action::SurrenderForDelivery { bill }, &[&s])
        .expect("surrender");
    assert_eq!(w.bill(&bill).possessor, w.carrier.id);
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[&c],
        "surrender_pending",
    );
    w.refuse(
        Action::SurrenderForDelivery { bill },
        &[&s],
        "surrender_pending",
    );
    let not_carrier = w.shipper.key.clone();
    w.refuse(
        Action::AcceptSurrender { bill },
        &[&not_carrier],
        "not_carrier",
    );
    w.act(Action::AcceptSurrender { bill }, &[&c])
        .expect("carrier accepts");
    assert_eq!(w.bill(&bill).status, Status::Accomplished);
    w.refuse(Action::Sign { bill }, &[&c], "terminal");
    w.refuse(Action::AcceptSurrender { bill }, &[&c], "terminal");
}

#[test]
fn surrender_rejected_returns_the_bill() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, c) = (w.shipper.key.clone(), w.carrier.key.clone());
    w.refuse(
        Action::RejectSurrender { bill },
        &[&c],
        "no_surrender_pending",
    );
    w.refuse(
        Action::AcceptSurrender { bill },
        &[&c],
        "no_surrender_pending",
    );
    w.act(Action::SurrenderForDelivery { bill }, &[&s])
        .expect("surrender");
    w.refuse(Action::RejectSurrender { bill }, &[&s], "not_carrier");
    w.act(Action::RejectSurrender { bill }, &[&c])
        .expect("carrier rejects");
    let b = w.bill(&bill);
    assert_eq!((b.possessor, &b.status), (w.shipper.id, &Status::Issued));
    w.act(Action::SurrenderForDelivery { bill }, &[&s])
        .expect("surrender again");
    w.act(Action::AcceptSurrender { bill }, &[&c])
        .expect("accepted this time");
}

#[test]
fn amendment_voids_and_a_replacement_references_it() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let reference = w.bill(&bill).reference.clone();
    let (s, c, shipper) = (w.shipper.key.clone(), w.carrier.key.clone(), w.shipper.id);
    let replacement = |w: &mut World, replaces| {
        let action = Action::Issue {
            document: to_order_document(&reference),
            issue_to: shipper,
            shipper,
            consignee: None,
            replaces: Some(ebl_core::Replacement::of(replaces)),
        };
        let tx = w.body(Hash::ZERO, action).signed_by(&[&c]);
        w.submit(tx)
    };
    assert_refused(replacement(&mut w, bill), "replaced_bill_not_void");
    w.act(
        Action::SurrenderForAmendment {
            bill,
            reason: AmendmentReason::ChangeOfDestination,
        },
        &[&s],
    )
    .expect("surrender for amendment");
    assert!(matches!(
        w.bill(&bill).status,
        Status::PendingAmendment {
            reason: AmendmentReason::ChangeOfDestination,
            ..
        }
    ));
    w.act(Action::AcceptSurrender { bill }, &[&c])
        .expect("accept amendment");
    assert_eq!(
        w.bill(&bill).status,
        Status::Void {
            surrendered_by: shipper,
            replaced_by: vec![],
            replacement: None,
        }
    );
    let new = replacement(&mut w, bill)
        .expect("replacement issued with the same reference")
        .tx;
    assert_eq!(
        w.bill(&bill).status,
        Status::Void {
            surrendered_by: shipper,
            replaced_by: vec![new],
            replacement: Some(ebl_core::Replacement::of(bill)),
        }
    );
    assert_eq!(w.bill(&new).replaces, vec![bill]);
    assert_refused(replacement(&mut w, bill), "already_replaced");
}

#[test]
fn issue_rules() {
    let mut w = World::new();
    let (c, shipper, buyer, stranger_key) = (
        w.carrier.key.clone(),
        w.shipper.id,
        w.buyer.id,
        w.stranger.key.clone(),
    );
    let stranger = w.stranger.id;
    let issue = |w: &mut World, document, issue_to, consignee, signer: &ebl_core::SigningKey| {
        let action = Action::Issue {
            document,
            issue_to,
            shipper,
            consignee,
            replaces: None,
        };
        let tx = w.body(Hash::ZERO, action).signed_by(&[signer]);
        w.submit(tx)
    };
    assert_refused(
        issue(
            &mut w,
            to_order_document("A1"),
            shipper,
            None,
            &stranger_key,
        ),
        "not_carrier",
    );
    assert_refused(
        issue(&mut w, to_order_document("A1"), stranger, None, &c),
        "issue_to_not_named",
    );
    assert_refused(
        issue(&mut w, straight_document("A1"), shipper, None, &c),
        "consignee_mismatch",
    );
    let nobody = crate::support::id_of(&key(98));
    assert_refused(
        issue(&mut w, to_order_document("A1"), nobody, None, &c),
        "unknown_party",
    );
    issue(&mut w, to_order_document("A1"), shipper, None, &c).expect("issue");
    assert_refused(
        issue(&mut w, to_order_document("A1"), shipper, None, &c),
        "duplicate_reference",
    );
    issue(&mut w, straight_document("A2"), buyer, Some(buyer), &c)
        .expect("issue straight to its consignee");
    // A carrier whose code is not the document's may not issue it.
    let other_carrier = key(40);
    w.register(
        &other_carrier,
        "Other Line",
        &[Role::Carrier],
        vec![Identifier::new("SMDG", "HLC")],
    )
    .expect("register");
    assert_refused(
        issue(
            &mut w,
            to_order_document("A3"),
            shipper,
            None,
            &other_carrier,
        ),
        "carrier_code_mismatch",
    );
    // A stale head on ISSUE (it must be zero) is refused.
    let action = Action::Issue {
        document: to_order_document("A4"),
        issue_to: shipper,
        shipper,
        consignee: None,
        replaces: None,
    };
    let tx = w.body(Hash::of(b"x"), action).signed_by(&[&c]);
    assert_refused(w.submit(tx), "stale_head");
}

#[test]
fn stale_head() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, buyer, buyer2) = (w.shipper.key.clone(), w.buyer.id, w.buyer2.id);
    let head = w.bill(&bill).head;
    let first = w
        .body(head, Action::Transfer { bill, to: buyer })
        .signed_by(&[&s]);
    let second = w
        .body(head, Action::Transfer { bill, to: buyer2 })
        .signed_by(&[&s]);
    w.submit(first.clone()).expect("first wins");
    assert_refused(w.submit(second), "stale_head");
    // Replaying the accepted transaction is refused by the same rule.
    assert_refused(w.submit(first), "stale_head");
}

#[test]
fn unknown_bill() {
    let mut w = World::new();
    let s = w.shipper.key.clone();
    let tx = w
        .body(
            Hash::ZERO,
            Action::Sign {
                bill: Hash::of(b"none"),
            },
        )
        .signed_by(&[&s]);
    assert_refused(w.submit(tx), "unknown_bill");
}

#[test]
fn wrong_chain() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let s = w.shipper.key.clone();
    let mut body = w.body(w.bill(&bill).head, Action::Sign { bill });
    body.chain = Hash::of(b"another chain");
    let tx = body.signed_by(&[&s]);
    assert_refused(w.submit(tx), "wrong_chain");
}

#[test]
fn bad_signature() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let s = w.shipper.key.clone();
    let mut tx = w
        .body(w.bill(&bill).head, Action::Sign { bill })
        .signed_by(&[&s]);
    tx.signatures[0].signature.0[5] ^= 1;
    assert_refused(w.submit(tx.clone()), "bad_signature");
    // A signature by one key presented as another's.
    tx.signatures[0] = tx.body.sign(&s);
    tx.signatures[0].signer = PartyKey::of(&w.buyer.key);
    assert_refused(w.submit(tx), "bad_signature");
}

#[test]
fn registry_rules() {
    let mut w = World::new();
    let newcomer = key(50);
    let s = w.shipper.key.clone();
    // Only governance changes the registry: a party's signature does not count.
    let head = w.ledger.registry().head();
    let action = Action::RegisterParty {
        key: PartyKey::of(&newcomer),
        profile: ebl_core::PartyProfile {
            name: "New".into(),
            roles: ebl_core::Roles::new(&[Role::Trader]).expect("roles"),
            identifiers: vec![],
        },
    };
    let tx = w.body(head, action.clone()).signed_by(&[&s]);
    assert_refused(w.submit(tx), "governance_quorum");
    assert_refused(
        w.register(&key(51), "buyer one", &[Role::Trader], vec![]),
        "name_taken",
    );
    assert_refused(
        w.register(&w.buyer.key.clone(), "Somebody", &[Role::Trader], vec![]),
        "party_exists",
    );
    assert_refused(
        w.register(
            &key(52),
            &"n".repeat(ebl_core::limits::PARTY_NAME_BYTES_MAX + 1),
            &[Role::Trader],
            vec![],
        ),
        "field_too_long",
    );
    w.register(
        &key(52),
        &"n".repeat(ebl_core::limits::PARTY_NAME_BYTES_MAX),
        &[Role::Trader],
        vec![],
    )
    .expect("name at the limit");
    let too_many = vec![Identifier::new("LEI", "X"); ebl_core::limits::PARTY_IDENTIFIERS_MAX + 1];
    assert_refused(
        w.register(&key(53), "Many", &[Role::Trader], too_many),
        "too_many_identifiers",
    );
    // A stale registry head.
    let tx = w
        .body(Hash::of(b"old head"), action)
        .signed_by(&[&w.operator.clone()]);
    assert_refused(w.submit(tx), "stale_head");
}

#[test]
fn rotated_and_revoked_keys() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (old, shipper, buyer) = (w.shipper.key.clone(), w.shipper.id, w.buyer.id);
    let new = key(60);
    w.registry_act_as(
        Action::RotateKey {
            party: shipper,
            new_key: PartyKey::of(&new),
        },
        &[&old, &new],
    )
    .expect("rotate");
    w.refuse(Action::Sign { bill }, &[&old], "rotated_key");
    w.act(Action::Transfer { bill, to: buyer }, &[&new])
        .expect("new key signs for the same party");
    assert_refused(
        w.registry_act_as(
            Action::RotateKey {
                party: shipper,
                new_key: PartyKey::of(&old),
            },
            &[&new, &old],
        ),
        "key_in_use",
    );
    let buyer_key = w.buyer.key.clone();
    w.registry_act(Action::RevokeParty { party: buyer })
        .expect("revoke");
    w.refuse(Action::Sign { bill }, &[&buyer_key], "revoked_key");
    assert_refused(
        w.registry_act(Action::RevokeParty { party: buyer }),
        "revoked_party",
    );
    let unknown = key(61);
    w.refuse(Action::Sign { bill }, &[&unknown], "unknown_key");
}

#[test]
fn a_refused_transaction_in_the_middle_changes_nothing_and_later_ones_apply() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, buyer) = (w.shipper.key.clone(), w.buyer.id);
    let snapshot = w.ledger.clone();
    let bad = w
        .body(w.bill(&bill).head, Action::Transfer { bill, to: buyer })
        .signed_by(&[&w.buyer.key.clone()]);
    assert!(w.ledger.apply(&bad, Signatures::Verify).is_err());
    assert!(w.ledger == snapshot);
    w.act(Action::Transfer { bill, to: buyer }, &[&s])
        .expect("good one applies");
}
