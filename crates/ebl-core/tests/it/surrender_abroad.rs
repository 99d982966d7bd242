//! A surrender received from another platform (issue 16, finding 8): the bill arrives pending delivery,
//! held by the carrier here, which accepts it (accomplished) or rejects it (the bill goes back over PINT
//! to the surrenderer, and is pending again if that platform refuses it back).

use ebl_core::{verify_chain, Action, BillId, ForeignParty, Hash, PartyCode, Status, Title};

use crate::support::{assert_refused, envelope, node, to_order_document, World};

fn surrenderer() -> ForeignParty {
    ForeignParty {
        platform: "WAVE".into(),
        name: "Holder Abroad".into(),
        codes: vec![PartyCode {
            provider: "WAVE".into(),
            code: "holder-3".into(),
        }],
    }
}

fn surrender_to(w: &mut World, possessor: ebl_core::PartyId) -> Action {
    let reference = w.next_reference();
    Action::Import {
        envelope: envelope(&to_order_document(&reference)),
        carrier: w.carrier.id,
        possessor,
        title: Title::Order {
            endorsee: possessor,
            may_endorse: false,
        },
        surrendered_by: Some(surrenderer()),
    }
}

/// A surrender for delivery received for the world's carrier.
fn received(w: &mut World) -> BillId {
    let carrier = w.carrier.id;
    let action = surrender_to(w, carrier);
    let tx = w.body(Hash::ZERO, action).signed_by(&[&node()]);
    w.submit(tx).expect("the node records the surrender").tx
}

fn answered(bill: BillId, entry: &str) -> Action {
    Action::SentOut {
        bill,
        entry: entry.into(),
        answer: "rece.answer.sig".into(),
    }
}

#[test]
fn a_surrender_from_another_platform_is_pending_with_the_carrier_until_it_accepts() {
    let mut w = World::new();
    let bill = received(&mut w);
    let (carrier, buyer, buyer_key) = (w.carrier.key.clone(), w.buyer.id, w.buyer.key.clone());
    assert_eq!(
        w.bill(&bill).status,
        Status::PendingDeliveryFromAbroad {
            surrendered_by: surrenderer()
        }
    );
    assert_eq!(w.bill(&bill).status.name(), "PENDING_DELIVERY");
    assert_eq!(w.bill(&bill).possessor, w.carrier.id);
    // While it answers, the carrier does nothing else with it; nobody else answers.
    w.refuse(
        Action::Transfer { bill, to: buyer },
        &[&carrier],
        "surrender_pending",
    );
    w.refuse(
        Action::AcceptSurrender { bill },
        &[&buyer_key],
        "not_carrier",
    );
    w.act(Action::AcceptSurrender { bill }, &[&carrier])
        .expect("the carrier accepts");
    assert_eq!(w.bill(&bill).status, Status::Accomplished);
    let report = verify_chain(w.ledger.genesis(), &w.log, bill, None).expect("verifies");
    assert_eq!(report.bill.status, Status::Accomplished);
}

#[test]
fn a_rejected_surrender_goes_back_abroad_and_is_pending_again_if_refused_there() {
    let mut w = World::new();
    let bill = received(&mut w);
    let carrier = w.carrier.key.clone();
    w.act(Action::RejectSurrender { bill }, &[&carrier])
        .expect("the carrier rejects");
    assert_eq!(
        w.bill(&bill).status,
        Status::SendingOut {
            sender: w.carrier.id,
            to: surrenderer(),
            returns_surrender: true,
        }
    );
    w.refuse(Action::AcceptSurrender { bill }, &[&carrier], "sending_out");
    // The surrenderer's platform refuses it back: the surrender is the carrier's to answer again.
    w.act(
        Action::SendRefused {
            bill,
            answer: "benv.answer.sig".into(),
        },
        &[&node()],
    )
    .expect("the node records BENV");
    assert_eq!(
        w.bill(&bill).status,
        Status::PendingDeliveryFromAbroad {
            surrendered_by: surrenderer()
        }
    );
    // Rejected again and received there: the bill's life here ends.
    w.act(Action::RejectSurrender { bill }, &[&carrier])
        .expect("the carrier rejects again");
    w.act(answered(bill, "our.srej.entry"), &[&node()])
        .expect("the node records RECE");
    assert_eq!(
        w.bill(&bill).status,
        Status::TransferredOut {
            sender: w.carrier.id,
            to: surrenderer(),
            last_entry: Hash::of(b"our.srej.entry"),
        }
    );
    let report = verify_chain(w.ledger.genesis(), &w.log, bill, None).expect("verifies");
    assert_eq!(report.bill.status.name(), "TRANSFERRED_OUT");
}

#[test]
fn a_received_surrender_must_be_held_by_the_carrier() {
    let mut w = World::new();
    let buyer = w.buyer.id;
    let action = surrender_to(&mut w, buyer);
    let before = w.ledger.clone();
    let tx = w.body(Hash::ZERO, action).signed_by(&[&node()]);
    assert_refused(w.submit(tx), "surrender_not_to_carrier");
    assert!(w.ledger == before, "a refused import changed the ledger");
}

#[test]
fn a_surrenderer_named_beyond_the_limits_is_refused() {
    let mut w = World::new();
    let carrier = w.carrier.id;
    let mut action = surrender_to(&mut w, carrier);
    if let Action::Import { surrendered_by, .. } = &mut action {
        let mut party = surrenderer();
        party.codes = (0..=ebl_core::limits::FOREIGN_PARTY_CODES_MAX)
            .map(|i| PartyCode {
                provider: "WAVE".into(),
                code: format!("c{i}"),
            })
            .collect();
        *surrendered_by = Some(party);
    }
    let tx = w.body(Hash::ZERO, action).signed_by(&[&node()]);
    assert_refused(w.submit(tx), "too_many_party_codes");
}
