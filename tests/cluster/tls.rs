//! Issue 13: node-to-node traffic over TLS. Members' nodes serve development certificates and call
//! each other over https trusting the members' certificates alone: ordering, forwarding, finality
//! certificates and catch-up all work, and nothing between them is plain HTTP.

use std::time::Duration;

use ebl_tests::cluster::Members;
use ebl_tests::NodeProcess;

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

/// Issue 35: the members' nodes read `tls/peers.pem` only at start, so a member's node that joined was
/// refused by every other (`invalid peer certificate: BadSignature`) until each was restarted. Now the
/// operators add its certificate to their `peers.pem` and the running nodes trust it from the next
/// request on: the fourth catches up, votes, and takes writes, no other node restarted.
#[test]
fn regression_a_member_joins_over_tls_without_restarting_the_others() {
    let _one = serial();
    let (mut members, cast) = registered(Members::start_over_tls(3));
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let before = issue_many(&members, &cast, leader, "BEFORE-JOIN", 3);
    // Governance (one admin of one, here) admits the fourth member: its admin key, node key, address.
    let data = members.dir.path().join("node-3");
    let node_key = NodeProcess::node_key(&data);
    let listen = format!("127.0.0.1:{}", ebl_tests::cluster::free_port());
    let member = ebl_core::genesis::Member {
        name: "Member 3".into(),
        admin: ebl_core::PartyKey::of(&ebl_core::testkit::key(43)),
        node: node_key.parse().expect("node key"),
        peer_address: listen.clone(),
    };
    let registry_head = cast
        .registrations(members.chain)
        .last()
        .expect("registrations")
        .id();
    let admit = ebl_core::Transaction {
        chain: members.chain,
        prev: registry_head,
        time_ms: ebl_tests::now_ms(),
        valid_until_ms: None,
        action: ebl_core::Action::AddMember { member },
    }
    .signed_by(&[&members.operator]);
    assert!(
        matches!(
            members.http(leader).submit(&admit),
            Ok(ebl_core::api::SubmitOutcome::Accepted { .. })
        ),
        "the admission"
    );
    // Its node: made from the genesis with a development certificate, trusting the three members'.
    let (genesis, data_arg) = (
        members.genesis.to_string_lossy().into_owned(),
        data.to_string_lossy().into_owned(),
    );
    ebl_tests::run(
        &ebl_tests::bin("ebl-node"),
        &[
            "init",
            "--genesis",
            &genesis,
            "--join",
            "--tls-self-signed",
            "--data",
            &data_arg,
        ],
        &[],
    )
    .ok();
    let cert_of =
        |d: &std::path::Path| std::fs::read(d.join("tls").join("cert.pem")).expect("cert");
    let theirs: Vec<u8> = members
        .nodes
        .iter()
        .flat_map(|n| cert_of(&n.data))
        .collect();
    let own = cert_of(&data);
    std::fs::write(
        data.join("tls").join("peers.pem"),
        [theirs, own.clone()].concat(),
    )
    .expect("peers.pem");
    // Each running member's operator adds the new certificate to its peers.pem: no restart.
    for node in &members.nodes {
        let peers = node.data.join("tls").join("peers.pem");
        let mut trusted = std::fs::read(&peers).expect("peers.pem");
        trusted.extend_from_slice(&own);
        std::fs::write(&peers, trusted).expect("peers.pem");
    }
    let pids: Vec<Option<u32>> = members.nodes.iter().map(NodeProcess::pid).collect();
    let mut node = NodeProcess::stopped(&data, &listen);
    node.start();
    members.nodes.push(node);
    members.node_keys.push(node_key);
    members.addresses.push(listen.clone());
    members.listens.push(listen);
    members.await_voters(4, Duration::from_secs(60));
    assert_eq!(
        members.nodes[..3]
            .iter()
            .map(NodeProcess::pid)
            .collect::<Vec<_>>(),
        pids,
        "no member's node was restarted"
    );
    // It takes writes (forwarded to the leader over TLS) and holds what came before.
    let through = issue_many(&members, &cast, 3, "THROUGH-NEW", 3);
    members
        .converged(Duration::from_secs(20))
        .expect("four on one head");
    holds_all(&members, 3, &before).expect("the new node holds what came before");
    holds_all(&members, leader, &through).expect("the leader holds what came through it");
    stop_and_verify(&mut members);
}

/// Issue 35, bad input: a member's node that presents another member's certificate (trusted, since it
/// is in every `peers.pem`) is refused by name. Development certificates name their node key, so a
/// node calling a member's node trusts that member's certificate alone: the leader's log names the
/// refusal (`peer_certificate_not_members`), the impostor gets no block, and the cluster goes on; with
/// its own certificate back the node catches up.
#[test]
fn a_member_node_presenting_another_members_certificate_is_refused_by_name() {
    let _one = serial();
    let (mut members, cast) = registered(Members::start_over_tls(3));
    let leader = members.leader(crate::ELECTION_LIMIT).expect("leader");
    let (impostor, victim) = ((leader + 1) % 3, (leader + 2) % 3);
    let tls = |i: usize| members.dir.path().join(format!("node-{i}")).join("tls");
    let own = (
        std::fs::read(tls(impostor).join("cert.pem")).expect("cert"),
        std::fs::read(tls(impostor).join("key.pem")).expect("key"),
    );
    members.nodes[impostor].terminate();
    for file in ["cert.pem", "key.pem"] {
        std::fs::copy(tls(victim).join(file), tls(impostor).join(file)).expect("copy");
    }
    members.nodes[impostor].start();
    let acknowledged = issue_many(&members, &cast, leader, "WHILE-IMPOSTOR", 3);
    let log = members.dir.path().join(format!("node-{leader}.log"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("peer_certificate_not_members")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the leader never named the refusal"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        holds_all(&members, impostor, &acknowledged).is_err(),
        "a node with another member's certificate received blocks"
    );
    // Its own certificate back, it catches up.
    members.nodes[impostor].terminate();
    std::fs::write(tls(impostor).join("cert.pem"), &own.0).expect("cert");
    std::fs::write(tls(impostor).join("key.pem"), &own.1).expect("key");
    members.nodes[impostor].start();
    members
        .converged(Duration::from_secs(30))
        .expect("caught up with its own certificate");
    holds_all(&members, impostor, &acknowledged).expect("it holds everything");
    stop_and_verify(&mut members);
}
