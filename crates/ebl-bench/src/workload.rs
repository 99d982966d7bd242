//! The workload: registered parties, issued bills, and for each bill a pre-signed chain of actions.
//!
//! A transaction's id is the hash of its body, so a bill's whole future can be signed before the run:
//! each action names the id of the one before it. Signing and JSON encoding happen before the clock
//! starts, so the run measures the node, not the client.

use ebl_core::testkit::{self, Cast};
use ebl_core::{Action, BillId, Hash, SignedTransaction, TxId};

/// One bill's pre-signed future, consumed in order.
#[derive(Debug)]
pub(crate) struct BillPlan {
    pub txs: Vec<(TxId, String)>,
    /// The same transactions in the canonical codec's bytes, for binary batches.
    pub binary: Vec<Vec<u8>>,
    pub next: usize,
}

impl BillPlan {
    pub(crate) fn remaining(&self) -> usize {
        self.txs.len() - self.next
    }
}

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
/// shipper surrenders and the carrier accepts (if `deliver`).
pub(crate) fn plan(
    cast: &Cast,
    chain: Hash,
    bill: BillId,
    index: usize,
    cycles: usize,
    deliver: bool,
) -> BillPlan {
    let (a, b) = (
        &cast.shipper,
        if index.is_multiple_of(2) {
            &cast.buyer
        } else {
            &cast.buyer2
        },
    );
    let bank = if index.is_multiple_of(3) {
        &cast.bank2
    } else {
        &cast.bank
    };
    let mut prev = bill;
    let mut time = (index as u64) << 32;
    let mut txs = Vec::with_capacity(cycles * 6 + 2);
    let mut binary = Vec::with_capacity(cycles * 6 + 2);
    let mut push = |action: Action, signers: &[&ebl_core::SigningKey], prev: &mut Hash| {
        time += 1;
        let tx = testkit::signed(chain, *prev, time, action, signers);
        let id = tx.id();
        *prev = id;
        binary.push(ebl_core::codec::encode(&tx));
        txs.push((id, serde_json::to_string(&tx).expect("serializable")));
    };
    for cycle in 0..cycles {
        push(
            Action::EndorseToOrder { bill, to: b.id },
            &[&a.key],
            &mut prev,
        );
        push(Action::Transfer { bill, to: b.id }, &[&a.key], &mut prev);
        let loan = testkit::loan(&format!("L{index}-{cycle}"), 1_000_000);
        push(
            Action::Pledge {
                bill,
                pledgee: bank.id,
                loan,
            },
            &[&b.key, &bank.key],
            &mut prev,
        );
        push(Action::Release { bill }, &[&bank.key], &mut prev);
        push(
            Action::EndorseToOrder { bill, to: a.id },
            &[&b.key],
            &mut prev,
        );
        push(Action::Transfer { bill, to: a.id }, &[&b.key], &mut prev);
    }
    if deliver {
        push(Action::SurrenderForDelivery { bill }, &[&a.key], &mut prev);
        push(
            Action::AcceptSurrender { bill },
            &[&cast.carrier.key],
            &mut prev,
        );
    }
    BillPlan {
        txs,
        binary,
        next: 0,
    }
}

/// Plans for many bills, signed on every core.
pub(crate) fn plans(
    cast: &Cast,
    chain: Hash,
    bills: &[BillId],
    cycles: usize,
    deliver: bool,
) -> Vec<BillPlan> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = bills.len().div_ceil(cores).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = bills
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, bill)| plan(cast, chain, *bill, c * chunk + i, cycles, deliver))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
