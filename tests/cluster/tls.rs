//! Issue 13: node-to-node traffic over TLS. Members' nodes serve development certificates and call
//! each other over https trusting the members' certificates alone: ordering, forwarding, finality
//! certificates and catch-up all work, and nothing between them is plain HTTP.

use std::time::Duration;

use ebl_tests::cluster::Members;

use crate::{holds_all, issue_many, registered, serial, stop_and_verify};

#[test]
fn a_cluster_over_tls_orders_forwards_and_catches_up() {
    let _one = serial();
    let (mut members, cast) = registered(Members::start_over_tls(3));
    for node in &members.nodes {
        assert!(node.url.starts_with("https://"), "{}", node.url);
    }
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let follower = (leader + 1) % 3;
    // A follower forwards to the leader over TLS (the cast was registered through one, too).
    let forwarded = issue_many(&members, &cast, follower, "TLS-FWD", 5);
    members.nodes[follower].kill9();
    let acknowledged = issue_many(&members, &cast, leader, "TLS-LOG", 10);
    members.nodes[follower].start();
    let head = members
        .converged(Duration::from_secs(20))
        .expect("caught up over TLS");
    assert_eq!(head.2, 7 + 15);
    holds_all(&members, follower, &acknowledged).expect("the follower holds everything");
    holds_all(&members, leader, &forwarded).expect("the leader holds what was forwarded");
    // Finality: every block carries the member nodes' signatures, collected from peers over TLS.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let signed = loop {
        let (status, block) = members
            .http(follower)
            .get_as(&format!("/v1/blocks/{}", head.0), &members.operator)
            .expect("block");
        assert_eq!(status, 200, "{block}");
        let signed = block["certificate"]["signatures"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        if signed >= 2 || std::time::Instant::now() > deadline {
            break signed;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        signed >= 2,
        "the head block's certificate has {signed} signatures"
    );
    // Plain HTTP reaches none of them.
    let plain = ebl_tests::Http::new(
        &format!("http://{}", members.listens[leader]),
        members.chain,
    );
    assert!(
        !matches!(plain.get("/v1/health"), Ok((200, _))),
        "a TLS node answered plain HTTP"
    );
    stop_and_verify(&mut members);
}
