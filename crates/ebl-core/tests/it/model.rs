//! Random sequences of bill actions (refusals and replacements included) by random parties, checked against a small, obviously correct model.
//!
//! The model is written from the domain primer's tables, independently of `bill.rs`: who may do what in
//! which state, and what changes. It decides only accept or refuse; the ledger must agree on every step,
//! and after every step possessor, title, pledge and status must be the model's.

use proptest::prelude::*;

use ebl_core::{Action, AmendmentReason, Hash, Loan, PartyId, Status, Title};

use crate::support::World;

/// Party indices: 0 carrier, 1 shipper, 2 buyer, 3 buyer2, 4 bank, 5 bank2.
const PARTIES: usize = 6;
const CARRIER: usize = 0;
const SHIPPER: usize = 1;
const BUYER: usize = 2;

fn is_bank(p: usize) -> bool {
    p == 4 || p == 5
}

#[derive(Debug, Clone, PartialEq)]
enum MTitle {
    Straight,
    Order { endorsee: usize, may_endorse: bool },
    Bearer,
}

#[derive(Debug, Clone, PartialEq)]
enum MStatus {
    Issued,
    Pledged {
        pledgee: usize,
        pledgor: usize,
    },
    Pending {
        by: usize,
        amendment: bool,
    },
    Accomplished,
    /// Void after an amendment; `by` surrendered it, and `replaced` once its replacement is issued.
    Void {
        by: usize,
        replaced: bool,
    },
}

#[derive(Debug, Clone)]
struct Model {
    negotiable: bool,
    possessor: usize,
    title: MTitle,
    status: MStatus,
    /// After a transfer or endorsement, until the next action: (recipient, possessor before, title
    /// before), what a refusal restores.
    refusable: Option<(usize, usize, MTitle)>,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Refuse,
    /// The carrier issues the replacement of a void bill to whoever surrendered it.
    Replace,
    Transfer(usize),
    Endorse(usize),
    EndorseToOrder(usize),
    BlankEndorse,
    Sign,
    SurrenderDelivery,
    SurrenderAmendment,
    Accept,
    Reject,
    Pledge(usize),
    Release,
    Enforce,
}

#[derive(Debug, Clone)]
struct Step {
    op: Op,
    signers: Vec<usize>,
    stale: bool,
}

impl Model {
    fn holds_title(&self, p: usize) -> bool {
        match self.title {
            // Straight bill issued to the shipper naming the buyer as consignee.
            MTitle::Straight => p == SHIPPER || p == BUYER,
            MTitle::Order { endorsee, .. } => p == endorsee,
            MTitle::Bearer => true,
        }
    }

    fn may_endorse(&self, p: usize) -> bool {
        self.negotiable
            && p == self.possessor
            && match self.title {
                MTitle::Order {
                    endorsee,
                    may_endorse,
                } => endorsee == p && may_endorse,
                MTitle::Bearer => true,
                MTitle::Straight => false,
            }
    }

    /// The model's verdict: `Some(next)` if the step is allowed.
    fn step(&self, step: &Step) -> Option<Model> {
        if step.stale {
            return None;
        }
        let sole = if step.signers.len() == 1 {
            Some(step.signers[0])
        } else {
            None
        };
        let mut next = self.clone();
        next.refusable = None;
        match (&self.status, step.op) {
            (
                MStatus::Void {
                    by,
                    replaced: false,
                },
                Op::Replace,
            ) => {
                if sole != Some(CARRIER) {
                    return None;
                }
                next.status = MStatus::Void {
                    by: *by,
                    replaced: true,
                };
            }
            (_, Op::Replace) => return None,
            (MStatus::Accomplished | MStatus::Void { .. }, _) => return None,
            (MStatus::Issued, Op::Refuse) => {
                let (recipient, possessor, title) = self.refusable.clone()?;
                if sole != Some(recipient) {
                    return None;
                }
                next.possessor = possessor;
                next.title = title;
            }
            (MStatus::Pledged { pledgee, pledgor }, op) => {
                if sole != Some(*pledgee) {
                    return None;
                }
                match op {
                    Op::Sign => {}
                    Op::Release => {
                        next.possessor = *pledgor;
                        next.status = MStatus::Issued;
                    }
                    Op::Enforce => {
                        next.title = MTitle::Order {
                            endorsee: *pledgee,
                            may_endorse: true,
                        };
                        next.status = MStatus::Issued;
                    }
                    _ => return None,
                }
            }
            (MStatus::Pending { by, amendment }, op) => {
                if sole != Some(CARRIER) {
                    return None;
                }
                match op {
                    Op::Accept => {
                        next.status = if *amendment {
                            MStatus::Void {
                                by: *by,
                                replaced: false,
                            }
                        } else {
                            MStatus::Accomplished
                        }
                    }
                    Op::Reject => {
                        next.possessor = *by;
                        next.status = MStatus::Issued;
                    }
                    _ => return None,
                }
            }
            (MStatus::Issued, Op::Pledge(bank)) => {
                let mut signers = step.signers.clone();
                signers.sort();
                let mut expected = vec![self.possessor, bank];
                expected.sort();
                if !self.negotiable
                    || !is_bank(bank)
                    || bank == self.possessor
                    || signers != expected
                    || !self.holds_title(self.possessor)
                {
                    return None;
                }
                next.status = MStatus::Pledged {
                    pledgee: bank,
                    pledgor: self.possessor,
                };
                next.possessor = bank;
            }
            (MStatus::Issued, op) => {
                let signer = sole?;
                if signer != self.possessor {
                    return None;
                }
                match op {
                    Op::Transfer(to) => {
                        if to == self.possessor {
                            return None;
                        }
                        next.possessor = to;
                        next.refusable = Some((to, self.possessor, self.title.clone()));
                    }
                    Op::Endorse(to) | Op::EndorseToOrder(to) => {
                        if !self.may_endorse(signer)
                            || matches!(self.title, MTitle::Order { endorsee, .. } if endorsee == to)
                        {
                            return None;
                        }
                        next.title = MTitle::Order {
                            endorsee: to,
                            may_endorse: matches!(op, Op::EndorseToOrder(_)),
                        };
                        next.refusable = Some((to, self.possessor, self.title.clone()));
                    }
                    Op::BlankEndorse => {
                        if !self.may_endorse(signer) {
                            return None;
                        }
                        next.title = MTitle::Bearer;
                    }
                    Op::Sign => {}
                    Op::SurrenderDelivery | Op::SurrenderAmendment => {
                        if !self.holds_title(signer) {
                            return None;
                        }
                        next.status = MStatus::Pending {
                            by: signer,
                            amendment: matches!(op, Op::SurrenderAmendment),
                        };
                        next.possessor = CARRIER;
                    }
                    _ => return None,
                }
            }
        }
        Some(next)
    }
}

fn op() -> impl Strategy<Value = Op> {
    let party = 0..PARTIES;
    prop_oneof![
        3 => party.clone().prop_map(Op::Transfer),
        2 => party.clone().prop_map(Op::Endorse),
        2 => party.clone().prop_map(Op::EndorseToOrder),
        1 => Just(Op::BlankEndorse),
        1 => Just(Op::Sign),
        1 => Just(Op::SurrenderDelivery),
        1 => Just(Op::SurrenderAmendment),
        1 => Just(Op::Accept),
        1 => Just(Op::Reject),
        2 => party.prop_map(Op::Pledge),
        1 => Just(Op::Release),
        1 => Just(Op::Enforce),
        2 => Just(Op::Refuse),
        2 => Just(Op::Replace),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (
        op(),
        prop::collection::vec(0..PARTIES, 0..=2),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(op, signers, stale)| Step { op, signers, stale })
}

/// Steps biased towards the possessor signing, so that sequences get deep into the state machine.
fn steps() -> impl Strategy<Value = (bool, Vec<(Step, bool, usize)>)> {
    (
        any::<bool>(),
        prop::collection::vec((step(), prop::bool::weighted(0.6), 0..PARTIES), 1..40),
    )
}

fn to_title(t: &MTitle, ids: &[PartyId]) -> Title {
    match t {
        MTitle::Straight => Title::Straight {
            consignee: ids[BUYER],
        },
        MTitle::Order {
            endorsee,
            may_endorse,
        } => Title::Order {
            endorsee: ids[*endorsee],
            may_endorse: *may_endorse,
        },
        MTitle::Bearer => Title::Bearer,
    }
}

fn status_matches(m: &MStatus, s: &Status, ids: &[PartyId]) -> bool {
    match (m, s) {
        (MStatus::Issued, Status::Issued) | (MStatus::Accomplished, Status::Accomplished) => true,
        (
            MStatus::Void { by, replaced },
            Status::Void {
                surrendered_by,
                replaced_by,
                ..
            },
        ) => *surrendered_by == ids[*by] && *replaced != replaced_by.is_empty(),
        (MStatus::Pledged { pledgee, pledgor }, Status::Pledged(p)) => {
            p.pledgee == ids[*pledgee] && p.pledgor == ids[*pledgor]
        }
        (
            MStatus::Pending {
                by,
                amendment: false,
            },
            Status::PendingDelivery { surrendered_by },
        ) => *surrendered_by == ids[*by],
        (
            MStatus::Pending {
                by,
                amendment: true,
            },
            Status::PendingAmendment { surrendered_by, .. },
        ) => *surrendered_by == ids[*by],
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn ledger_agrees_with_the_model((negotiable, plan) in steps()) {
        let mut w = World::new();
        let keys = [&w.carrier, &w.shipper, &w.buyer, &w.buyer2, &w.bank, &w.bank2].map(|a| a.key.clone());
        let ids: Vec<PartyId> = [&w.carrier, &w.shipper, &w.buyer, &w.buyer2, &w.bank, &w.bank2].iter().map(|a| a.id).collect();
        let bill = if negotiable { w.issue_to_order_bill() } else { w.issue_straight_bill() };
        let mut model = Model {
            negotiable,
            possessor: SHIPPER,
            title: if negotiable { MTitle::Order { endorsee: SHIPPER, may_endorse: true } } else { MTitle::Straight },
            status: MStatus::Issued,
            refusable: None,
        };
        let mut replacements = 0;
        for (mut step, possessor_signs, _) in plan {
            if possessor_signs {
                // Make the current possessor the first signer (and keep a bank co-signer for pledges).
                step.signers = match step.op {
                    // A pledge co-signed by the bank it names: the only way one can be accepted.
                    Op::Pledge(bank) => vec![model.possessor, bank],
                    // A refusal by whoever was just sent the bill.
                    Op::Refuse => vec![model.refusable.as_ref().map_or(model.possessor, |r| r.0)],
                    // Replacements are the carrier's.
                    Op::Replace => vec![CARRIER],
                    _ => vec![model.possessor],
                };
            }
            let action = match step.op {
                Op::Transfer(to) => Action::Transfer { bill, to: ids[to] },
                Op::Endorse(to) => Action::Endorse { bill, to: ids[to] },
                Op::EndorseToOrder(to) => Action::EndorseToOrder { bill, to: ids[to] },
                Op::BlankEndorse => Action::BlankEndorse { bill },
                Op::Sign => Action::Sign { bill },
                Op::SurrenderDelivery => Action::SurrenderForDelivery { bill },
                Op::SurrenderAmendment => Action::SurrenderForAmendment { bill, reason: AmendmentReason::ChangeOfDestination },
                Op::Accept => Action::AcceptSurrender { bill },
                Op::Reject => Action::RejectSurrender { bill },
                Op::Pledge(bank) => Action::Pledge { bill, pledgee: ids[bank], loan: Loan { reference: "L".into(), amount_minor: 1, currency: "USD".into() } },
                Op::Release => Action::Release { bill },
                Op::Enforce => Action::Enforce { bill },
                Op::Refuse => Action::Refuse { bill },
                Op::Replace => {
                    let issue_to = match model.status {
                        MStatus::Void { by, .. } => ids[by],
                        _ => ids[SHIPPER],
                    };
                    replacements += 1;
                    Action::Issue {
                        document: crate::support::to_order_document(&format!("MODEL-R{replacements}")),
                        issue_to,
                        shipper: ids[SHIPPER],
                        consignee: None,
                        replaces: Some(ebl_core::Replacement::of(bill)),
                    }
                }
            };
            let head = match (step.stale, step.op) {
                (true, _) => Hash::of(b"stale"),
                (false, Op::Replace) => Hash::ZERO,
                (false, _) => w.bill(&bill).head,
            };
            let signers: Vec<&ebl_core::SigningKey> = step.signers.iter().map(|i| &keys[*i]).collect();
            let tx = w.body(head, action).signed_by(&signers);
            let before = w.ledger.clone();
            let got = w.submit(tx);
            let expected = model.step(&step);
            prop_assert_eq!(got.is_ok(), expected.is_some(), "step {:?} in {:?}: ledger said {:?}", step, model, got);
            match expected {
                Some(next) => model = next,
                None => prop_assert!(w.ledger == before, "a refusal changed the ledger"),
            }
            let b = w.bill(&bill);
            prop_assert_eq!(b.possessor, ids[model.possessor]);
            prop_assert_eq!(&b.title, &to_title(&model.title, &ids));
            prop_assert!(status_matches(&model.status, &b.status, &ids), "status {:?} vs model {:?}", b.status, model.status);
            // The invariants a bank relies on: exactly one possessor, at most one pledge, and a pledged
            // bill is possessed by its pledgee.
            if let Status::Pledged(p) = &b.status {
                prop_assert_eq!(b.possessor, p.pledgee);
            }
        }
    }
}
