//! TradeTrust title-escrow behaviours (token-registry v5, restated as data) that map to our actions.
//!
//! TradeTrust's beneficiary is our endorsee (title), its holder our possessor, its registry our carrier;
//! `returnToIssuer` is a surrender, `burn` its acceptance and `restore` its rejection. Each case in the
//! fixture is either played here against the ledger, or listed as not applicable with the reason, so a
//! case added to the fixture fails this test until someone decides what it means for us.

use ebl_core::{Action, Hash, PartyKey, Result, Status, Title};

use crate::support::{assert_refused, key, to_order_document, World};

const BEHAVIOURS: &str = include_str!("../fixtures/tradetrust/title-escrow-behaviours.json");

/// Cases with no counterpart here, and why.
const NOT_APPLICABLE: &[(&str, &str)] = &[
    ("MINT-5", "parties are registered ids, there is no zero address to name"),
    ("MINT-6", "transactions carry no free-text remark"),
    ("NOM-1", "nomination is TradeTrust's two-step endorsement; ours is one signed ENDORSE by the title holder"),
    ("NOM-2", "no nominations"),
    ("NOM-3", "no nominations"),
    ("NOM-5", "no nominations"),
    ("NOM-6", "no nominations"),
    ("TB-1", "no nominations: the holder who is not beneficiary cannot endorse at all (see TB-3)"),
    ("TB-5", "no zero address"),
    ("TH-4", "no zero address"),
    ("TO-3", "no zero address"),
    ("RJB-1", "rejecting a transfer is not an action of this ledger yet"),
    ("RJB-2", "no rejection action"),
    ("RJB-3", "no rejection action"),
    ("RJB-4", "no rejection action"),
    ("RJH-1", "no rejection action"),
    ("RJH-2", "no rejection action"),
    ("RJH-3", "no rejection action"),
    ("RJH-4", "no rejection action"),
    ("RJO-1", "no rejection action"),
    ("RJO-2", "no rejection action"),
    ("RJO-3", "no rejection action"),
    ("RJ-RESET", "no rejection action"),
    ("RJ-MINT", "no rejection action"),
    ("BURN-5", "escrow contracts have no counterpart"),
    ("SBT-1", "tokens and escrows have no counterpart: a bill is a ledger record"),
    ("PAUSE-1", "the ledger has no pause switch"),
    ("PAUSE-2", "the ledger has no pause switch"),
    ("SIG-1", "endorsement by off-chain signature is how every action works here; nominee flow not applicable"),
    ("SIG-2", "no nominations; signature faults are covered by rules::bad_signature"),
    ("SIG-3", "no nominations to cancel"),
];

struct Case {
    w: World,
    bill: Hash,
}

impl Case {
    /// A bill whose shipper is both beneficiary and holder, as after MINT-1 with B == H.
    fn new() -> Case {
        let mut w = World::new();
        let bill = w.issue_to_order_bill();
        Case { w, bill }
    }

    /// The buyer holds the bill while the shipper keeps title: B != H.
    fn split() -> Case {
        let mut c = Case::new();
        let (s, buyer) = (c.w.shipper.key.clone(), c.w.buyer.id);
        c.w.act(
            Action::Transfer {
                bill: c.bill,
                to: buyer,
            },
            &[&s],
        )
        .expect("transfer");
        c
    }

    fn act(
        &mut self,
        action: impl FnOnce(Hash) -> Action,
        who: &ebl_core::SigningKey,
    ) -> Result<ebl_core::Applied> {
        let action = action(self.bill);
        self.w.act(action, &[who])
    }
}

fn play(id: &str) -> bool {
    let mut c = Case::new();
    let (shipper, buyer, buyer2, carrier) = (
        c.w.shipper.key.clone(),
        c.w.buyer.key.clone(),
        c.w.buyer2.id,
        c.w.carrier.key.clone(),
    );
    let buyer_id = c.w.buyer.id;
    match id {
        "MINT-1" => {
            let b = c.w.bill(&c.bill);
            assert_eq!(
                (b.possessor, &b.title),
                (
                    c.w.shipper.id,
                    &Title::Order {
                        endorsee: c.w.shipper.id,
                        may_endorse: true
                    }
                )
            );
        }
        "MINT-2" => {
            let stranger = c.w.stranger.key.clone();
            let (shipper_id, action) = (c.w.shipper.id, |doc| Action::Issue {
                document: doc,
                issue_to: c.w.shipper.id,
                shipper: c.w.shipper.id,
                consignee: None,
                replaces: None,
            });
            let _ = shipper_id;
            let tx =
                c.w.body(Hash::ZERO, action(to_order_document("TT-M2")))
                    .signed_by(&[&stranger]);
            assert_refused(c.w.submit(tx), "not_carrier");
        }
        "MINT-3" | "MINT-4" => {
            let reference = c.w.bill(&c.bill).reference.clone();
            if id == "MINT-4" {
                c.act(|bill| Action::SurrenderForDelivery { bill }, &shipper)
                    .expect("surrender");
                c.act(|bill| Action::AcceptSurrender { bill }, &carrier)
                    .expect("accept");
            }
            let shipper_id = c.w.shipper.id;
            assert_refused(
                c.w.issue(to_order_document(&reference), shipper_id, None),
                "duplicate_reference",
            );
        }
        "NOM-4" => {
            let me = c.w.shipper.id;
            assert_refused(
                c.act(|bill| Action::Endorse { bill, to: me }, &shipper),
                "already_endorsee",
            );
        }
        "TB-2" => {
            c.act(|bill| Action::EndorseToOrder { bill, to: buyer2 }, &shipper)
                .expect("holder who is beneficiary endorses");
        }
        "TB-3" => {
            let mut c = Case::split();
            assert_refused(
                c.act(|bill| Action::EndorseToOrder { bill, to: buyer2 }, &buyer),
                "no_title",
            );
        }
        "TB-4" => {
            let mut c = Case::split();
            assert_refused(
                c.act(|bill| Action::EndorseToOrder { bill, to: buyer2 }, &shipper),
                "not_possessor",
            );
        }
        "TH-1" => {
            c.act(|bill| Action::Transfer { bill, to: buyer_id }, &shipper)
                .expect("holder transfers");
        }
        "TH-2" => {
            let mut c = Case::split();
            assert_refused(
                c.act(|bill| Action::Transfer { bill, to: buyer2 }, &shipper),
                "not_possessor",
            );
        }
        "TH-3" => {
            let me = c.w.shipper.id;
            assert_refused(
                c.act(|bill| Action::Transfer { bill, to: me }, &shipper),
                "already_possessor",
            );
        }
        "TO-1" => {
            c.act(
                |bill| Action::EndorseToOrder { bill, to: buyer_id },
                &shipper,
            )
            .expect("endorse");
            c.act(|bill| Action::Transfer { bill, to: buyer_id }, &shipper)
                .expect("transfer");
            let b = c.w.bill(&c.bill);
            assert_eq!(
                (b.possessor, &b.title),
                (
                    buyer_id,
                    &Title::Order {
                        endorsee: buyer_id,
                        may_endorse: true
                    }
                )
            );
        }
        "TO-2" => {
            assert_refused(
                c.act(|bill| Action::EndorseToOrder { bill, to: buyer2 }, &buyer),
                "not_possessor",
            );
        }
        "RTI-1" => {
            c.act(|bill| Action::SurrenderForDelivery { bill }, &shipper)
                .expect("B and H surrenders");
        }
        "RTI-2" => {
            let mut c = Case::split();
            assert_refused(
                c.act(|bill| Action::SurrenderForDelivery { bill }, &buyer),
                "no_title",
            );
            assert_refused(
                c.act(|bill| Action::SurrenderForDelivery { bill }, &shipper),
                "not_possessor",
            );
        }
        "RTI-3" | "RTI-4" => {
            c.act(|bill| Action::SurrenderForDelivery { bill }, &shipper)
                .expect("surrender");
            assert_refused(
                c.act(|bill| Action::SurrenderForDelivery { bill }, &carrier),
                "surrender_pending",
            );
            assert_refused(
                c.act(|bill| Action::Transfer { bill, to: buyer_id }, &carrier),
                "surrender_pending",
            );
            assert_refused(
                c.act(
                    |bill| Action::EndorseToOrder { bill, to: buyer_id },
                    &carrier,
                ),
                "surrender_pending",
            );
        }
        "BURN-1" | "BURN-2" | "BURN-4" | "BURN-6" => {
            c.act(|bill| Action::SurrenderForDelivery { bill }, &shipper)
                .expect("surrender");
            assert_refused(
                c.act(|bill| Action::AcceptSurrender { bill }, &shipper),
                "not_carrier",
            );
            c.act(|bill| Action::AcceptSurrender { bill }, &carrier)
                .expect("carrier accepts");
            assert_eq!(c.w.bill(&c.bill).status, Status::Accomplished);
            assert_refused(
                c.act(|bill| Action::AcceptSurrender { bill }, &carrier),
                "terminal",
            );
            assert_refused(c.act(|bill| Action::Sign { bill }, &carrier), "terminal");
        }
        "BURN-3" => {
            assert_refused(
                c.act(|bill| Action::AcceptSurrender { bill }, &carrier),
                "no_surrender_pending",
            );
        }
        "RST-1" | "RST-2" => {
            c.act(|bill| Action::SurrenderForDelivery { bill }, &shipper)
                .expect("surrender");
            assert_refused(
                c.act(|bill| Action::RejectSurrender { bill }, &buyer),
                "not_carrier",
            );
            c.act(|bill| Action::RejectSurrender { bill }, &carrier)
                .expect("carrier rejects");
            assert_eq!(c.w.bill(&c.bill).possessor, c.w.shipper.id);
        }
        "RST-3" | "RST-4" => {
            assert_refused(
                c.act(|bill| Action::RejectSurrender { bill }, &carrier),
                "no_surrender_pending",
            );
        }
        "SIG-4" => {
            // A signature the previous holder made against the old head is dead once the bill moved on.
            let head = c.w.bill(&c.bill).head;
            let stale =
                c.w.body(
                    head,
                    Action::Transfer {
                        bill: c.bill,
                        to: buyer2,
                    },
                )
                .signed_by(&[&shipper]);
            c.act(|bill| Action::Transfer { bill, to: buyer_id }, &shipper)
                .expect("transfer");
            assert_refused(c.w.submit(stale), "stale_head");
            let _ = PartyKey::of(&key(1));
        }
        _ => return false,
    }
    true
}

#[test]
fn title_escrow_behaviours_hold() {
    let fixture: serde_json::Value = serde_json::from_str(BEHAVIOURS).expect("fixture is JSON");
    let cases = fixture["cases"].as_array().expect("cases");
    let mut played = 0;
    for case in cases {
        let id = case["id"].as_str().expect("case id");
        if NOT_APPLICABLE.iter().any(|(na, _)| *na == id) {
            continue;
        }
        assert!(
            play(id),
            "TradeTrust case {id} is neither played nor listed as not applicable"
        );
        played += 1;
    }
    assert!(played >= 25, "only {played} cases played");
}
