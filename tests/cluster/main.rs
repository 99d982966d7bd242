//! D. The consortium's cluster, as real `ebl-node` processes on 127.0.0.1 (or, in `hosts`, on hosts of
//! their own a WAN apart): failover under load, catching up, a partitioned leader, everything killed at
//! once, a lying leader, a lost data directory. Each test
//! prints its figure; sizes are small for CI and grow with `EBL_SOAK=1`.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

mod audit;
mod catchup;
mod failover;
mod hosts;
mod partition;
mod tls;

use std::collections::BTreeSet;
use std::time::Duration;

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit::Cast;
use ebl_core::{Hash, SignedTransaction};
use ebl_tests::cluster::Members;

/// How long a cluster may take to elect a leader at start.
pub const ELECTION_LIMIT: Duration = Duration::from_secs(20);
/// The failover bound with the default timings (election timeout 300 to 600 ms): from a leader's death
/// to the next acknowledgement of a request sent after it, for the median kill.
pub const FAILOVER_MS_MAX: u128 = 2_000;

pub fn soak() -> bool {
    std::env::var_os("EBL_SOAK").is_some()
}

/// One cluster at a time: each runs three nodes on a 2-core machine, and the failover bound is measured
/// on a machine that is not also electing another cluster's leader.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running cluster with the testkit cast registered.
pub fn cluster(count: usize) -> (Members, Cast) {
    cluster_with(count, &[])
}

/// [`cluster`], each node run with `run_args`.
pub fn cluster_with(count: usize, run_args: &[&str]) -> (Members, Cast) {
    registered(Members::start_with(count, run_args))
}

/// The testkit cast registered on `members`, through a follower.
pub fn registered(members: Members) -> (Members, Cast) {
    let count = members.nodes.len();
    let cast = Cast::new();
    let leader = members.leader(ELECTION_LIMIT).expect("a leader is elected");
    // Registered through a follower where there is one: its submissions are forwarded to the leader.
    let via = (leader + 1) % count;
    for tx in cast.registrations(members.chain) {
        match members.http(via).submit(&tx) {
            Ok(SubmitOutcome::Accepted { .. }) => {}
            other => {
                let log =
                    std::fs::read_to_string(members.dir.path().join(format!("node-{leader}.log")));
                panic!("registration through node {via}: {other:?}\nleader's log: {log:?}")
            }
        }
    }
    (members, cast)
}

/// The carrier's issue of a bill with `reference`.
pub fn issue(cast: &Cast, chain: Hash, reference: &str) -> SignedTransaction {
    cast.issue(chain, reference, 1).expect("issue")
}

/// [`Members::submit_somewhere`].
pub fn submit_somewhere(
    members: &Members,
    first: usize,
    tx: &SignedTransaction,
    limit: Duration,
) -> Option<Hash> {
    members.submit_somewhere(first, tx, limit)
}

/// Issues `count` bills one request at a time through node `via` (or wherever answers), returning
/// the acknowledged ids.
pub fn issue_many(
    members: &Members,
    cast: &Cast,
    via: usize,
    prefix: &str,
    count: usize,
) -> BTreeSet<Hash> {
    (0..count)
        .map(|n| {
            let tx = issue(cast, members.chain, &format!("{prefix}-{n}"));
            submit_somewhere(members, via, &tx, Duration::from_secs(30)).expect("acknowledged")
        })
        .collect()
}

/// Stops every node gracefully and runs `ebl-node verify` on each data directory.
pub fn stop_and_verify(members: &mut Members) {
    for i in 0..members.nodes.len() {
        members.nodes[i].terminate();
        let verdict = members.nodes[i].verify();
        assert_eq!(verdict.code, 0, "node {i}: {}", verdict.stdout);
    }
}

/// Every id in `acknowledged` is on node `i`, by a privileged read (member 0's admin).
pub fn holds_all(members: &Members, i: usize, acknowledged: &BTreeSet<Hash>) -> Result<(), String> {
    for id in acknowledged {
        let (status, _) = members
            .http(i)
            .get_as(&format!("/v1/transactions/{id}"), &members.operator)?;
        if status != 200 {
            return Err(format!(
                "node {i} lacks acknowledged transaction {id} ({status})"
            ));
        }
    }
    Ok(())
}
