//! Down and back: a follower catches up from the Raft log, or past a purged log from its peers; every
//! node killed at once comes back whole; a node whose data directory was lost is rebuilt from peers.

use std::time::Duration;

use crate::{cluster, cluster_with, holds_all, issue_many, serial, stop_and_verify};

const CONVERGE: Duration = Duration::from_secs(20);

#[test]
fn a_follower_killed_catches_up_from_the_log() {
    let _one = serial();
    let (mut members, cast) = cluster(3);
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let follower = (leader + 1) % 3;
    members.nodes[follower].kill9();
    let acknowledged = issue_many(&members, &cast, leader, "LOG", 30);
    members.nodes[follower].start();
    let head = members.converged(CONVERGE).expect("caught up");
    assert_eq!(head.2, 7 + 30);
    holds_all(&members, follower, &acknowledged).expect("the follower holds everything");
    stop_and_verify(&mut members);
}

#[test]
fn a_follower_behind_a_purged_log_catches_up_from_its_peers() {
    let _one = serial();
    // A snapshot every 10 entries, 2 kept behind it: the follower misses far more than that.
    let (mut members, cast) = cluster_with(
        3,
        &["--raft-snapshot-entries", "10", "--raft-keep-entries", "2"],
    );
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let follower = (leader + 1) % 3;
    members.nodes[follower].kill9();
    let count = if crate::soak() { 400 } else { 60 };
    let acknowledged = issue_many(&members, &cast, leader, "PURGED", count);
    let deadline = std::time::Instant::now() + CONVERGE;
    loop {
        let view = members.view(leader).expect("leader view");
        if view["purged"].as_u64().unwrap_or(0) > 20 {
            break;
        }
        if std::time::Instant::now() > deadline {
            let leader_log =
                std::fs::read_to_string(members.nodes[leader].data.with_extension("log"))
                    .unwrap_or_default();
            let told: Vec<&str> = leader_log
                .lines()
                .filter(|l| l.contains("napshot"))
                .take(12)
                .collect();
            panic!(
                "the leader never purged its log: {view}; {} log lines; {told:#?}",
                leader_log.lines().count()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = std::time::Instant::now();
    members.nodes[follower].start();
    let head = members
        .converged(CONVERGE)
        .expect("caught up past the purge");
    println!(
        "cluster catch-up: a follower {count} transactions behind a purged log caught up from its peers in {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(head.2, 7 + count as u64);
    let log = std::fs::read_to_string(members.nodes[follower].data.with_extension("log"))
        .unwrap_or_default();
    let leader_log = std::fs::read_to_string(members.nodes[leader].data.with_extension("log"))
        .unwrap_or_default();
    let told: Vec<&str> = leader_log
        .lines()
        .filter(|l| l.contains("snapshot") || l.contains("purge"))
        .take(20)
        .collect();
    assert!(
        log.contains("catching up from peers"),
        "the follower caught up from the log, not past a purge; the leader said: {told:#?}"
    );
    holds_all(&members, follower, &acknowledged).expect("the follower holds everything");
    stop_and_verify(&mut members);
}

#[test]
fn every_node_killed_at_once_comes_back_with_everything_acknowledged() {
    let _one = serial();
    let (mut members, cast) = cluster(3);
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let acknowledged = issue_many(&members, &cast, leader, "ALL", 20);
    for node in &mut members.nodes {
        node.kill9();
    }
    for node in &mut members.nodes {
        node.start();
    }
    members
        .leader(crate::ELECTION_LIMIT)
        .expect("a leader again");
    let head = members.converged(CONVERGE).expect("one head");
    assert_eq!(head.2, 7 + 20);
    for i in 0..3 {
        holds_all(&members, i, &acknowledged).expect("nothing acknowledged was lost");
    }
    // And the cluster goes on.
    let more = issue_many(&members, &cast, 0, "ALL-AFTER", 3);
    assert_eq!(more.len(), 3);
    stop_and_verify(&mut members);
}

#[test]
fn a_node_whose_data_directory_was_lost_is_rebuilt_from_its_peers() {
    let _one = serial();
    let (mut members, cast) = cluster(3);
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let lost = (leader + 2) % 3;
    let acknowledged = issue_many(&members, &cast, leader, "LOST", 20);
    members.nodes[lost].kill9();
    // The member kept its node key apart (as an operator keeps any key); everything else is gone.
    let data = members.nodes[lost].data.clone();
    let key = std::fs::read(data.join("node.key")).expect("node key");
    std::fs::remove_dir_all(&data).expect("wipe");
    std::fs::create_dir_all(&data).expect("dir");
    std::fs::write(data.join("node.key"), key).expect("restore the key");
    ebl_tests::run(
        &ebl_tests::bin("ebl-node"),
        &[
            "init",
            "--genesis",
            &members.genesis.to_string_lossy(),
            "--data",
            &data.to_string_lossy(),
        ],
        &[],
    )
    .ok();
    members.nodes[lost].start();
    let head = members.converged(CONVERGE).expect("rebuilt");
    assert_eq!(head.2, 7 + 20);
    holds_all(&members, lost, &acknowledged).expect("the rebuilt node holds everything");
    stop_and_verify(&mut members);
}

/// Issue 35, found by ebl-bench's WAN phase: every decode was held to 1 MiB whatever its caller's
/// limit, and openraft sent up to 16 entries in one append, so a follower behind by blocks over 1 MiB
/// in all (here 16 of 96 issues, about 180 KB each) refused every append (`peer_malformed`) and never
/// caught up; with both followers behind, the cluster stopped committing. Peer messages decode up to
/// theirs, and an append carries the entries that fit the peer's budget (at most `APPEND_BYTES_MAX`),
/// the rest in the next: here 32 such blocks, 5.8 MB. With the budget fixed at 4 MiB, this test failed:
/// the follower (a debug build) could not take 4 MiB in within the one-site heartbeat (60 ms) openraft
/// allows an append, the same append timed out again and again, and it never caught up; the budget now
/// halves at each timeout (`cluster::budget`).
#[test]
fn regression_a_follower_behind_by_large_blocks_catches_up() {
    let _one = serial();
    let (mut members, cast) = cluster(3);
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let follower = (leader + 1) % 3;
    members.nodes[follower].kill9();
    const ROUNDS: u64 = 32;
    let mut acknowledged = std::collections::BTreeSet::new();
    for round in 0..ROUNDS {
        let txs: Vec<_> = (0..96)
            .map(|n| {
                cast.issue(members.chain, &format!("BIG-{round}-{n}"), 1)
                    .expect("issue")
            })
            .collect();
        let outcomes = members
            .http(leader)
            .batch(&txs)
            .expect("sent")
            .expect("answered");
        for outcome in outcomes {
            match outcome {
                ebl_core::api::SubmitOutcome::Accepted { id, .. } => {
                    acknowledged.insert(id);
                }
                other => panic!("not accepted: {other:?}"),
            }
        }
    }
    members.nodes[follower].start();
    let Some(head) = members.converged(CONVERGE) else {
        let log = std::fs::read_to_string(members.nodes[leader].data.with_extension("log"))
            .unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(8).collect();
        panic!(
            "the follower did not catch up: {:?}\nthe leader's log: {tail:#?}",
            members.view(follower)
        );
    };
    assert_eq!(head.2, 7 + ROUNDS * 96);
    holds_all(&members, follower, &acknowledged).expect("the follower holds every bill");
    stop_and_verify(&mut members);
}
