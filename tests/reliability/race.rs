//! race: 64 concurrent clients try to move or pledge the same bill, round after round: exactly one wins
//! each round, and the bill always has one possessor and at most one pledge.

use std::sync::{Arc, Barrier};

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit::{self, loan};
use ebl_core::Action;

use crate::Bench;

const CLIENTS: usize = 64;
/// Rounds per run; `EBL_RACE_ROUNDS` raises it for a soak run.
fn rounds() -> usize {
    std::env::var("EBL_RACE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100)
}

#[test]
fn exactly_one_of_64_concurrent_attempts_wins_each_round() {
    let bench = Bench::start();
    let bill = bench.issue("RACE-1");
    let c = &bench.cast;
    // Blank-endorsed, so whoever holds it has title and may pledge it.
    let blank = testkit::signed(
        bench.chain,
        bill,
        0,
        Action::BlankEndorse { bill },
        &[&c.shipper.key],
    );
    assert!(matches!(
        bench.http().submit(&blank),
        Ok(SubmitOutcome::Accepted { .. })
    ));
    let mut head = blank.id();
    let (mut holder, mut other) = (c.shipper.clone(), c.buyer.clone());
    let mut pledged_to: Option<testkit::Actor> = None;
    let mut refusals = std::collections::BTreeMap::<String, usize>::new();
    let rounds = rounds();
    for round in 0..rounds {
        // Every fifth round the holder races pledges to two banks (each co-signed); otherwise transfers.
        let txs: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let time = (round * CLIENTS + i) as u64;
                match &pledged_to {
                    Some(bank) => testkit::signed(
                        bench.chain,
                        head,
                        time,
                        Action::Release { bill },
                        &[&bank.key],
                    ),
                    None if round % 5 == 4 => {
                        let bank = if i.is_multiple_of(2) {
                            &c.bank
                        } else {
                            &c.bank2
                        };
                        let action = Action::Pledge {
                            bill,
                            pledgee: bank.id,
                            loan: loan(&format!("R{round}-{i}"), 100),
                        };
                        testkit::signed(bench.chain, head, time, action, &[&holder.key, &bank.key])
                    }
                    None => testkit::signed(
                        bench.chain,
                        head,
                        time,
                        Action::Transfer { bill, to: other.id },
                        &[&holder.key],
                    ),
                }
            })
            .collect();
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let outcomes: Vec<SubmitOutcome> = std::thread::scope(|s| {
            let handles: Vec<_> = txs
                .iter()
                .map(|tx| {
                    let (http, barrier) = (bench.http(), barrier.clone());
                    s.spawn(move || {
                        barrier.wait();
                        http.submit(tx).expect("the node answers")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("client"))
                .collect()
        });
        let winners: Vec<&SubmitOutcome> = outcomes
            .iter()
            .filter(|o| matches!(o, SubmitOutcome::Accepted { .. }))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {} winners", winners.len());
        for o in &outcomes {
            if let SubmitOutcome::Rejected { error, .. } = o {
                *refusals.entry(error.code.clone()).or_default() += 1;
            }
        }
        let winner = winners[0].id();
        let winning_tx = txs
            .iter()
            .find(|t| t.id() == winner)
            .expect("winner is one of ours");
        head = winner;
        match &winning_tx.body.action {
            Action::Pledge { pledgee, .. } => {
                pledged_to = Some(if *pledgee == c.bank.id {
                    c.bank.clone()
                } else {
                    c.bank2.clone()
                });
            }
            Action::Release { .. } => pledged_to = None,
            _ => std::mem::swap(&mut holder, &mut other),
        }
        // The invariant a bank relies on, read back from the node.
        let (_, state) = bench
            .http()
            .get_as(&format!("/v1/bills/{bill}"), &c.operator)
            .expect("read");
        let b = &state["bill"];
        let expected_possessor = pledged_to.as_ref().map_or(holder.id, |bank| bank.id);
        assert_eq!(
            b["possessor"],
            expected_possessor.to_hex().as_str(),
            "round {round}"
        );
        assert_eq!(b["head"], head.to_hex().as_str(), "round {round}");
        assert_eq!(
            b["status"].get("pledged").is_some(),
            pledged_to.is_some(),
            "round {round}"
        );
    }
    println!("race: {rounds} rounds x {CLIENTS} concurrent clients: exactly 1 winner every round; refusals {refusals:?}");
}
