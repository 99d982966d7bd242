//! The workload: registered parties, issued bills, and for each bill a chain of actions signed ahead.
//!
//! A transaction's id is the hash of its body, so a bill's whole future can be signed before the run:
//! each action names the id of the one before it. A bill's future is a generator, not a list: what a
//! measured run will send is signed before its clock starts ([`prepare`]), so the run measures the node,
//! not the client, while a long fill (10 M transactions) holds only what it is about to send instead of
//! every transaction it will ever send (1.4 KiB each, JSON and codec bytes).

use std::collections::VecDeque;

use ebl_core::testkit::{self, Cast};
use ebl_core::{Action, BillId, Hash, PartyId, SignedTransaction, SigningKey};

/// One transaction signed ahead, in both wire forms.
#[derive(Debug)]
pub(crate) struct Signed {
    pub json: String,
    /// The same transaction in the canonical codec's bytes, for binary batches.
    pub binary: Vec<u8>,
}

/// A party of the mix: its key and id.
#[derive(Debug, Clone)]
struct Hand {
    key: SigningKey,
    id: PartyId,
}

/// One bill's future: the realistic mix, `cycles` times, then (if `deliver`) surrender and acceptance;
/// signed in order on demand, and held signed ahead in `ready`.
#[derive(Debug)]
pub(crate) struct BillPlan {
    chain: Hash,
    bill: BillId,
    index: usize,
    seller: Hand,
    buyer: Hand,
    bank: Hand,
    carrier: SigningKey,
    /// Transactions of the mix's cycles; after them, the delivery's.
    mix: usize,
    /// How many transactions the future holds in all, and how many were signed so far.
    total: usize,
    signed: usize,
    prev: Hash,
    time: u64,
    ready: VecDeque<Signed>,
    /// Transactions signed because a run found none ready: a measured run reports them, since the
    /// client's signing then shared the machine with the node.
    pub signed_late: u64,
}

/// Actions per cycle of the mix.
const CYCLE_ACTIONS: usize = 6;

impl BillPlan {
    /// Transactions not yet sent.
    pub(crate) fn remaining(&self) -> usize {
        self.total - self.signed + self.ready.len()
    }

    /// Signs the next action of the future onto `ready`; false when the future is spent.
    fn sign_next(&mut self) -> bool {
        if self.signed == self.total {
            return false;
        }
        let step = self.signed;
        let bill = self.bill;
        let (a, b, bank) = (&self.seller, &self.buyer, &self.bank);
        let cycle = step / CYCLE_ACTIONS;
        let (action, signers): (Action, Vec<&SigningKey>) = if step >= self.mix {
            // The two delivery steps after the last cycle.
            if step == self.mix {
                (Action::SurrenderForDelivery { bill }, vec![&a.key])
            } else {
                (Action::AcceptSurrender { bill }, vec![&self.carrier])
            }
        } else {
            match step % CYCLE_ACTIONS {
                0 => (Action::EndorseToOrder { bill, to: b.id }, vec![&a.key]),
                1 => (Action::Transfer { bill, to: b.id }, vec![&a.key]),
                2 => (
                    Action::Pledge {
                        bill,
                        pledgee: bank.id,
                        loan: testkit::loan(&format!("L{}-{cycle}", self.index), 1_000_000),
                    },
                    vec![&b.key, &bank.key],
                ),
                3 => (Action::Release { bill }, vec![&bank.key]),
                4 => (Action::EndorseToOrder { bill, to: a.id }, vec![&b.key]),
                _ => (Action::Transfer { bill, to: a.id }, vec![&b.key]),
            }
        };
        self.time += 1;
        let tx = testkit::signed(self.chain, self.prev, self.time, action, &signers);
        self.prev = tx.id();
        self.signed += 1;
        self.ready.push_back(Signed {
            binary: ebl_core::codec::encode(&tx),
            json: serde_json::to_string(&tx).expect("serializable"),
        });
        true
    }

    /// Signs ahead until `ahead` transactions are ready (or the future is spent).
    pub(crate) fn prepare(&mut self, ahead: usize) {
        while self.ready.len() < ahead && self.sign_next() {}
    }

    /// Makes sure the next transaction is signed, signing it now (and counting it late) if it is not;
    /// false when the future is spent.
    pub(crate) fn ensure_next(&mut self) -> bool {
        if !self.ready.is_empty() {
            return true;
        }
        let signed = self.sign_next();
        self.signed_late += u64::from(signed);
        signed
    }

    /// The next transaction to send, if it is signed.
    pub(crate) fn next(&self) -> Option<&Signed> {
        self.ready.front()
    }

    /// The next transaction was sent.
    pub(crate) fn advance(&mut self) {
        self.ready.pop_front();
    }

    /// Signs and takes the next `count` transactions (for setting up a bill of a known history).
    pub(crate) fn take(&mut self, count: usize) -> Vec<Signed> {
        self.prepare(count);
        self.ready.drain(..count.min(self.ready.len())).collect()
    }
}

/// Signs ahead on every core until each plan has `ahead` transactions ready; returns how many were
/// signed.
pub(crate) fn prepare(plans: &mut [BillPlan], ahead: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = plans.len().div_ceil(cores).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = plans
            .chunks_mut(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter_mut()
                        .map(|p| {
                            let before = p.signed;
                            p.prepare(ahead);
                            p.signed - before
                        })
                        .sum::<usize>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    })
}

/// How many transactions each of `bills` bills must hold ready so that a run of `seconds` at up to
/// `RATE_CEILING_PER_S` never waits for a signature.
pub(crate) fn ahead_for(seconds: f64, bills: usize) -> usize {
    #[allow(
        clippy::cast_possible_truncation,
        reason = "a few hundred transactions per bill at most"
    )]
    let per_bill = (seconds * RATE_CEILING_PER_S / bills.max(1) as f64).ceil() as usize;
    per_bill + 2
}

/// Above any rate this 2-core machine reaches (its verify_strict limit is ~55-65 k/s).
const RATE_CEILING_PER_S: f64 = 70_000.0;

/// `count` to-order bills from the DCSA document, issued by the carrier to the shipper.
pub(crate) fn issues(
    cast: &Cast,
    chain: Hash,
    prefix: &str,
    count: usize,
) -> Vec<SignedTransaction> {
    (0..count)
        .map(|i| {
            cast.issue(chain, &format!("{prefix}{i:07}"), i as u64)
                .expect("valid document")
        })
        .collect()
}

/// The realistic mix for one bill, `cycles` times: endorse to the buyer's order, transfer, the buyer
/// pledges to a bank (co-signed), the bank releases, the buyer endorses and transfers back; then the
/// shipper surrenders and the carrier accepts (if `deliver`). Nothing is signed yet.
pub(crate) fn plan(
    cast: &Cast,
    chain: Hash,
    bill: BillId,
    index: usize,
    cycles: usize,
    deliver: bool,
) -> BillPlan {
    let hand = |a: &testkit::Actor| Hand {
        key: a.key.clone(),
        id: a.id,
    };
    BillPlan {
        chain,
        bill,
        index,
        seller: hand(&cast.shipper),
        buyer: hand(if index.is_multiple_of(2) {
            &cast.buyer
        } else {
            &cast.buyer2
        }),
        bank: hand(if index.is_multiple_of(3) {
            &cast.bank2
        } else {
            &cast.bank
        }),
        carrier: cast.carrier.key.clone(),
        mix: cycles * CYCLE_ACTIONS,
        total: cycles * CYCLE_ACTIONS + if deliver { 2 } else { 0 },
        signed: 0,
        prev: bill,
        time: (index as u64) << 32,
        ready: VecDeque::new(),
        signed_late: 0,
    }
}

/// Plans for many bills.
pub(crate) fn plans(
    cast: &Cast,
    chain: Hash,
    bills: &[BillId],
    cycles: usize,
    deliver: bool,
) -> Vec<BillPlan> {
    bills
        .iter()
        .enumerate()
        .map(|(i, bill)| plan(cast, chain, *bill, i, cycles, deliver))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebl_core::ledger::{Ledger, Signatures};
    use ebl_core::Status;

    /// What the generator signs is what the measured runs send: a bill's whole future, taken in order
    /// the way the clients take it, must be accepted by the ledger's rules (signatures checked), in
    /// both wire forms alike; what was signed ahead is not counted late, what was not is.
    #[test]
    fn a_bills_whole_future_is_accepted_in_order_and_late_signing_is_counted() {
        let cast = Cast::new();
        let mut ledger = Ledger::new(cast.genesis(1_000).expect("genesis"));
        ledger.set_block(1, u64::MAX / 2);
        let chain = ledger.chain_id();
        for tx in cast.registrations(chain) {
            ledger.apply(&tx, Signatures::Verify).expect("registered");
        }
        let issue = issues(&cast, chain, "PLAN", 1).remove(0);
        ledger.apply(&issue, Signatures::Verify).expect("issued");
        let bill = issue.id();
        let mut plan = plan(&cast, chain, bill, 1, 2, true);
        assert_eq!(plan.remaining(), 2 * CYCLE_ACTIONS + 2);
        plan.prepare(3);
        assert_eq!(plan.remaining(), 2 * CYCLE_ACTIONS + 2);
        let mut sent = 0;
        while plan.ensure_next() {
            let next = plan.next().expect("signed");
            let tx: SignedTransaction = serde_json::from_str(&next.json).expect("JSON");
            assert_eq!(SignedTransaction::decode(&next.binary).expect("codec"), tx);
            ledger
                .apply(&tx, Signatures::Verify)
                .unwrap_or_else(|e| panic!("transaction {sent} refused: {e}"));
            plan.advance();
            sent += 1;
        }
        assert_eq!(sent, 2 * CYCLE_ACTIONS + 2);
        assert_eq!(plan.remaining(), 0);
        assert_eq!(plan.signed_late, (sent - 3) as u64);
        assert_eq!(
            ledger.bill(&bill).map(|b| &b.status),
            Some(&Status::Accomplished)
        );
    }
}
