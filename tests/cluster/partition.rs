//! The leader cut off from the majority by the proxies between nodes: while cut off it acknowledges
//! nothing, the majority elects a leader and goes on, and once the cut heals nothing acknowledged is lost
//! and nothing is there twice.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit::Cast;
use ebl_tests::cluster::Members;

use crate::{holds_all, issue, serial, stop_and_verify, submit_somewhere, ELECTION_LIMIT};

/// Three members behind proxies, the cast registered through the leader: the members, the cast, the
/// leader and what was acknowledged.
fn proxied_with_cast() -> (Members, Cast, usize, BTreeSet<ebl_core::Hash>) {
    let members = Members::start_proxied(3);
    let cast = Cast::new();
    let leader = members.leader(ELECTION_LIMIT).expect("leader");
    let mut acknowledged = BTreeSet::new();
    for tx in cast.registrations(members.chain) {
        acknowledged.insert(
            submit_somewhere(&members, leader, &tx, Duration::from_secs(10)).expect("registered"),
        );
    }
    (members, cast, leader, acknowledged)
}

#[test]
fn a_leader_cut_off_from_the_majority_acknowledges_nothing_and_loses_nothing() {
    let _one = serial();
    let (mut members, cast, leader, mut acknowledged) = proxied_with_cast();
    members.isolate(leader, true);
    let cut_at = Instant::now();
    // Clients still reach the old leader directly: what they send there is not acknowledged while
    // the cut lasts (it cannot reach a quorum).
    let old = members.http(leader);
    let chain = members.chain;
    let sent_to_old: Vec<_> = (0..3)
        .map(|n| {
            let old = old.clone();
            let tx = Cast::new()
                .issue(chain, &format!("CUT-OFF-{n}"), 1)
                .expect("issue");
            std::thread::spawn(move || {
                let answer = old.submit(&tx);
                (Instant::now(), answer)
            })
        })
        .collect();
    // The majority elects a leader of its own and goes on.
    let majority: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for n in 0..10 {
        let tx = issue(&cast, members.chain, &format!("MAJORITY-{n}"));
        // Only to the majority's nodes: the old leader would hold the request until the heal.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut k = n;
        let id = loop {
            match members.http(majority[k % 2]).submit(&tx) {
                Ok(SubmitOutcome::Accepted { id, .. } | SubmitOutcome::Duplicate { id, .. }) => {
                    break id
                }
                Ok(other) => panic!("refused: {other:?}"),
                Err(e) => {
                    assert!(Instant::now() < deadline, "the majority did not go on: {e}");
                    k += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        acknowledged.insert(id);
    }
    let elected_in = cut_at.elapsed();
    // The cut lasts until the old leader itself says it lost its quorum (no majority answered its
    // appends for an election timeout): whatever it could wrongly acknowledge, it would have by then.
    let deadline = Instant::now() + Duration::from_secs(10);
    while members.view(leader).map(|v| v["has_quorum"].clone()) != Some(false.into()) {
        assert!(
            Instant::now() < deadline,
            "the cut-off leader never said it lost its quorum"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let healed_at = Instant::now();
    members.isolate(leader, false);
    for handle in sent_to_old {
        let (answered_at, answer) = handle.join().expect("client");
        if let Ok(SubmitOutcome::Accepted { id, .. } | SubmitOutcome::Duplicate { id, .. }) = answer
        {
            assert!(
                answered_at >= healed_at,
                "the cut-off leader acknowledged {id} before the cut healed"
            );
            // Acknowledged after the heal: ordered by the new leader, and then it must be there.
            acknowledged.insert(id);
        }
    }
    let head = members
        .converged(Duration::from_secs(30))
        .expect("one head after the heal");
    for i in 0..3 {
        holds_all(&members, i, &acknowledged).expect("nothing acknowledged is lost");
    }
    assert_eq!(head.2, acknowledged.len() as u64, "nothing is there twice");
    println!(
        "cluster partition: the majority acknowledged 10 transactions within {} ms of cutting the leader off; the old leader acknowledged none while cut off; {} on every node after the heal",
        elected_in.as_millis(),
        acknowledged.len()
    );
    stop_and_verify(&mut members);
}

/// Issue 35: a write sent to a majority node at the moment its leader was cut off (a cut that holds
/// packets rather than refusing them) was held for the old leader until the cut healed or 30 s
/// passed, then refused, though the majority had elected a new leader a second or two after the cut.
#[test]
fn regression_a_write_sent_at_the_moment_of_a_cut_reaches_the_new_leader() {
    let _one = serial();
    let (mut members, cast, leader, mut acknowledged) = proxied_with_cast();
    members.hold(leader, true);
    // At once, to a member that still takes the old leader for the leader and forwards to it.
    let follower = (0..3).find(|i| *i != leader).expect("a follower");
    let cut_at = Instant::now();
    let tx = issue(&cast, members.chain, "AT-THE-CUT");
    let answer = members.http(follower).submit(&tx);
    let answered_in = cut_at.elapsed();
    members.hold(leader, false);
    match answer {
        Ok(SubmitOutcome::Accepted { id, .. } | SubmitOutcome::Duplicate { id, .. }) => {
            acknowledged.insert(id);
        }
        other => panic!("the write at the cut was not taken by the new leader: {other:?}"),
    }
    members
        .converged(Duration::from_secs(30))
        .expect("one head after the heal");
    for i in 0..3 {
        holds_all(&members, i, &acknowledged).expect("nothing acknowledged is lost");
    }
    println!(
        "cluster cut: a write sent to a follower at the moment of the cut was acknowledged in {} ms",
        answered_in.as_millis()
    );
    stop_and_verify(&mut members);
}
