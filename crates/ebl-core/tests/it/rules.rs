//! Every ledger rule, each with a case it accepts and a case it refuses; a refusal must change nothing.
//! The refusals of bill actions are one table (`REFUSALS`): how the bill stands, the action, who signs,
//! and the rule's code; the tests below it are the cases that accept, and the rules a table row cannot
//! say (heads, chains, signatures, the registry).

use ebl_core::{
    Action, AmendmentReason, BillId, Hash, Identifier, Loan, PartyKey, Role, Signatures,
    SigningKey, Status, Title,
};

use crate::support::{assert_refused, key, straight_document, to_order_document, World};

fn loan() -> Loan {
    Loan {
        reference: "LOAN-1".into(),
        amount_minor: 1_000_000,
        currency: "USD".into(),
    }
}

/// Who signs, or is named: the world's actors.
#[derive(Debug, Clone, Copy)]
enum Who {
    Shipper,
    Buyer,
    Bank,
    Bank2,
    Stranger,
}

impl Who {
    fn actor(self, w: &World) -> &crate::support::Actor {
        match self {
            Who::Shipper => &w.shipper,
            Who::Buyer => &w.buyer,
            Who::Bank => &w.bank,
            Who::Bank2 => &w.bank2,
            Who::Stranger => &w.stranger,
        }
    }
}

/// How the bill stands before the refused action.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// A to-order bill the shipper holds, with title.
    ToOrder,
    /// A straight bill to the shipper, the buyer its consignee.
    Straight,
    /// A straight bill the shipper handed to a third party (the stranger), who has no title.
    StraightHeldByStranger,
    /// A to-order bill the buyer holds without title (the shipper stays endorsee).
    HeldWithoutTitle,
    /// A to-order bill pledged by the shipper to the bank.
    Pledged,
    /// A pledged bill the bank enforced: it holds it, with title.
    Enforced,
    /// A to-order bill, with the stranger revoked from the registry.
    StrangerRevoked,
}

impl Setup {
    fn bill(self, w: &mut World) -> BillId {
        let (shipper, bank) = (w.shipper.key.clone(), w.bank.key.clone());
        let bill = match self {
            Setup::Straight | Setup::StraightHeldByStranger => w.issue_straight_bill(),
            _ => w.issue_to_order_bill(),
        };
        let pledge = Action::Pledge {
            bill,
            pledgee: w.bank.id,
            loan: loan(),
        };
        let done = match self {
            Setup::ToOrder | Setup::Straight => Ok(()),
            Setup::StraightHeldByStranger => {
                let to = w.stranger.id;
                w.act(Action::Transfer { bill, to }, &[&shipper]).map(drop)
            }
            Setup::HeldWithoutTitle => {
                let to = w.buyer.id;
                w.act(Action::Transfer { bill, to }, &[&shipper]).map(drop)
            }
            Setup::Pledged => w.act(pledge, &[&shipper, &bank]).map(drop),
            Setup::Enforced => w
                .act(pledge, &[&shipper, &bank])
                .and_then(|_| w.act(Action::Enforce { bill }, &[&bank]))
                .map(drop),
            Setup::StrangerRevoked => {
                let party = w.stranger.id;
                w.registry_act(Action::RevokeParty { party }).map(drop)
            }
        };
        done.expect("the setup applies");
        bill
    }
}

/// One refusal: the rule's code, how the bill stands, the action, and who signs it.
struct Refusal {
    code: &'static str,
    setup: Setup,
    action: fn(&World, BillId) -> Action,
    signers: &'static [Who],
}

const fn refusal(
    code: &'static str,
    setup: Setup,
    action: fn(&World, BillId) -> Action,
    signers: &'static [Who],
) -> Refusal {
    Refusal {
        code,
        setup,
        action,
        signers,
    }
}

fn pledge_to(w: &World, bill: BillId, pledgee: Who, loan: Loan) -> Action {
    Action::Pledge {
        bill,
        pledgee: pledgee.actor(w).id,
        loan,
    }
}

fn loan_where(change: fn(&mut Loan)) -> Loan {
    let mut l = loan();
    change(&mut l);
    l
}

use Setup::*;
use Who::*;

/// Every refusal of a bill action that a row can say: (code, how the bill stands, action, signers).
#[rustfmt::skip]
const REFUSALS: &[Refusal] = &[
    // Possession.
    refusal("not_possessor", ToOrder, |w, bill| Action::Transfer { bill, to: w.buyer2.id }, &[Buyer]),
    refusal("already_possessor", ToOrder, |w, bill| Action::Transfer { bill, to: w.shipper.id }, &[Shipper]),
    refusal("unknown_party", ToOrder, |_, bill| Action::Transfer { bill, to: crate::support::id_of(&key(99)) }, &[Shipper]),
    refusal("revoked_party", StrangerRevoked, |w, bill| Action::Transfer { bill, to: w.stranger.id }, &[Shipper]),
    // Title: possession without it may neither endorse nor surrender nor pledge.
    refusal("no_title", HeldWithoutTitle, |w, bill| Action::Endorse { bill, to: w.buyer2.id }, &[Buyer]),
    refusal("no_title", HeldWithoutTitle, |_, bill| Action::SurrenderForDelivery { bill }, &[Buyer]),
    refusal("no_title", HeldWithoutTitle, |w, bill| pledge_to(w, bill, Bank, loan()), &[Buyer, Bank]),
    refusal("no_title", StraightHeldByStranger, |_, bill| Action::SurrenderForDelivery { bill }, &[Stranger]),
    refusal("already_endorsee", ToOrder, |w, bill| Action::Endorse { bill, to: w.shipper.id }, &[Shipper]),
    // A straight bill is not negotiable: no endorsement, no pledge.
    refusal("not_negotiable", Straight, |w, bill| Action::Endorse { bill, to: w.buyer.id }, &[Shipper]),
    refusal("not_negotiable", Straight, |_, bill| Action::BlankEndorse { bill }, &[Shipper]),
    refusal("not_negotiable", Straight, |w, bill| pledge_to(w, bill, Bank, loan()), &[Shipper, Bank]),
    // A pledge needs the holder's and the pledgee bank's signatures, and nobody else's.
    refusal("missing_signature", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan()), &[Shipper]),
    refusal("missing_signature", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan()), &[Shipper, Bank2]),
    refusal("missing_signature", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan()), &[Bank]),
    refusal("not_possessor", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan()), &[Stranger, Bank]),
    refusal("missing_role", ToOrder, |w, bill| pledge_to(w, bill, Buyer, loan()), &[Shipper, Buyer]),
    refusal("unexpected_signer", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan()), &[Shipper, Bank, Stranger]),
    refusal("unexpected_signer", ToOrder, |w, bill| Action::Transfer { bill, to: w.buyer.id }, &[Shipper, Stranger]),
    refusal("duplicate_signer", ToOrder, |w, bill| Action::Transfer { bill, to: w.buyer.id }, &[Shipper, Shipper]),
    refusal("missing_signature", ToOrder, |w, bill| Action::Transfer { bill, to: w.buyer.id }, &[]),
    // The loan's fields.
    refusal("zero_amount", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan_where(|l| l.amount_minor = 0)), &[Shipper, Bank]),
    refusal("invalid_currency", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan_where(|l| l.currency = "usd".into())), &[Shipper, Bank]),
    refusal("field_too_long", ToOrder, |w, bill| pledge_to(w, bill, Bank, loan_where(|l| l.reference = "R".repeat(ebl_core::limits::LOAN_REFERENCE_BYTES_MAX + 1))), &[Shipper, Bank]),
    // A bank holding an enforced bill cannot pledge it to itself; and someone else pledging it to that
    // bank is a non-holder pledging (issue 14), not the holder pledging to itself.
    refusal("self_pledge", Enforced, |w, bill| pledge_to(w, bill, Bank, loan()), &[Bank]),
    refusal("not_possessor", Enforced, |w, bill| pledge_to(w, bill, Bank, loan()), &[Shipper, Bank]),
    // The double-financing guard: a second pledge is impossible, whoever signs.
    refusal("already_pledged", Pledged, |w, bill| pledge_to(w, bill, Bank2, loan()), &[Shipper, Bank2]),
    refusal("already_pledged", Pledged, |w, bill| pledge_to(w, bill, Bank2, loan()), &[Bank, Bank2]),
    // A pledged bill is frozen: neither the pledgor nor the pledgee moves it except by release or
    // enforcement, and only the pledgee does those.
    refusal("pledged", Pledged, |w, bill| Action::Transfer { bill, to: w.buyer.id }, &[Shipper]),
    refusal("pledged", Pledged, |w, bill| Action::Endorse { bill, to: w.buyer.id }, &[Shipper]),
    refusal("pledged", Pledged, |_, bill| Action::SurrenderForDelivery { bill }, &[Shipper]),
    refusal("pledged", Pledged, |w, bill| Action::Transfer { bill, to: w.buyer.id }, &[Bank]),
    refusal("not_pledgee", Pledged, |_, bill| Action::Release { bill }, &[Bank2]),
    refusal("not_pledgee", Pledged, |_, bill| Action::Enforce { bill }, &[Shipper]),
    refusal("not_pledged", ToOrder, |_, bill| Action::Release { bill }, &[Bank]),
    refusal("not_pledged", ToOrder, |_, bill| Action::Enforce { bill }, &[Bank]),
];

#[test]
fn every_refusal_in_the_table_is_refused_by_its_rule_and_changes_nothing() {
    for (row, case) in REFUSALS.iter().enumerate() {
        let mut w = World::new();
        let bill = case.setup.bill(&mut w);
        let action = (case.action)(&w, bill);
        let keys: Vec<SigningKey> = case
            .signers
            .iter()
            .map(|who| who.actor(&w).key.clone())
            .collect();
        let signers: Vec<&SigningKey> = keys.iter().collect();
        let before = w.ledger.clone();
        let result = w.act(action, &signers);
        match result {
            Err(e) => assert_eq!(
                e.code(),
                case.code,
                "row {row} ({:?}, signed by {:?}): refused for the wrong reason: {e}",
                case.setup,
                case.signers
            ),
            Ok(applied) => panic!(
                "row {row} ({}, {:?}, signed by {:?}) was accepted: {applied:?}",
                case.code, case.setup, case.signers
            ),
        }
        assert!(
            w.ledger == before,
            "row {row} ({}): a refused transaction changed the ledger",
            case.code
        );
    }
}

/// The rows' other side: a straight bill changes possession, and its named consignee surrenders it.
#[test]
fn a_straight_bill_changes_possession_and_its_consignee_surrenders_it() {
    let mut w = World::new();
    let bill = w.issue_straight_bill();
    let (k, buyer, buyer_key) = (w.shipper.key.clone(), w.buyer.id, w.buyer.key.clone());
    w.act(Action::Transfer { bill, to: buyer }, &[&k])
        .expect("straight transfer");
    w.act(Action::SurrenderForDelivery { bill }, &[&buyer_key])
        .expect("consignee surrenders");
}

/// A loan reference at its limit passes (one byte more is a row of the table).
#[test]
fn a_loan_reference_at_its_limit_is_accepted() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, bank_key) = (w.shipper.key.clone(), w.bank.key.clone());
    let at_limit =
        loan_where(|l| l.reference = "R".repeat(ebl_core::limits::LOAN_REFERENCE_BYTES_MAX));
    let action = pledge_to(&w, bill, Bank, at_limit);
    w.act(action, &[&s, &bank_key]).expect("limit passes");
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
