//! An auditor's node following the consortium as a Raft learner (issue 35): it receives and checks
//! every block and serves the auditor's reads; it cannot vote or lead, a grant by anyone but an active
//! auditor is refused by name, and once governance revokes the auditor the leader takes its node out.

use std::time::{Duration, Instant};

use ebl_core::{Action, FollowGrant, PartyKey, SigningKey, Transaction};
use ebl_tests::cluster::free_port;
use ebl_tests::{Http, NodeProcess};

use crate::{issue_many, registered, ELECTION_LIMIT};
use ebl_tests::cluster::Members;

/// Polls `check` every 100 ms until it holds or `limit` passes.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The learners the leader's `GET /v1/cluster` names.
fn learners(members: &Members) -> Vec<u64> {
    let leader = members.leader(ELECTION_LIMIT).expect("leader");
    members.view(leader).expect("view")["learners"]
        .as_array()
        .map(|l| l.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default()
}

/// A node's Raft id: the first eight bytes of its key's SHA-256 (`ebl_consensus::cluster::node_id`).
fn node_id(key: &PartyKey) -> u64 {
    let hash = ebl_core::Hash::of(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_be_bytes(first)
}

#[test]
fn an_auditors_node_follows_cannot_vote_or_lead_and_is_taken_out_once_the_auditor_is_revoked() {
    let _one = crate::serial();
    let (mut members, cast) = registered(Members::start(3));
    let chain = members.chain;
    let data = members.dir.path().join("audit-node");
    std::fs::create_dir_all(&data).expect("dir");
    let node_hex = NodeProcess::node_key(&data);
    let node_public: PartyKey = node_hex.trim().parse().expect("node key");
    let node_secret = SigningKey::from_bytes(
        &ebl_core::bytes::from_hex::<32>(
            std::fs::read_to_string(data.join("node.key"))
                .expect("node.key")
                .trim(),
        )
        .expect("hex seed"),
    );
    let address = format!("127.0.0.1:{}", free_port());
    let grant =
        FollowGrant::sign(chain, &cast.auditor.key, node_public, &address, 1).expect("grant");
    let grant_file = members.dir.path().join("grant.json");
    std::fs::write(&grant_file, grant.to_file()).expect("grant file");
    let started = Instant::now();
    let mut follower = NodeProcess::follow(&data, &members.genesis, &grant_file, &address);

    // It follows: the leader names it a learner, and it holds what the members acknowledged, before
    // and after it came, and answers the auditor's signed read.
    assert!(
        eventually(Duration::from_secs(30), || learners(&members)
            .contains(&node_id(&node_public))),
        "the leader never added the auditor's node"
    );
    eprintln!(
        "the auditor's node is a learner {:?} after it started",
        started.elapsed()
    );
    let acknowledged = issue_many(&members, &cast, 0, "AUDITED", 3);
    let audit = Http::new(&follower.url, chain);
    assert!(
        eventually(Duration::from_secs(30), || acknowledged.iter().all(|id| {
            audit
                .get_as(&format!("/v1/transactions/{id}"), &cast.auditor.key)
                .is_ok_and(|(status, _)| status == 200)
        })),
        "the auditor's node does not hold every acknowledged bill"
    );
    // It votes on nothing: its vote, append or snapshot is refused by name at every member, whatever
    // it carries, and the cluster goes on.
    let leader = members.leader(ELECTION_LIMIT).expect("leader");
    for path in ["/v1/peer/vote", "/v1/peer/append", "/v1/peer/snapshot"] {
        let (status, answer) = members
            .http(leader)
            .post_as_node(path, b"anything", &node_secret)
            .expect("answered");
        assert_eq!(status, 401, "{path}: {answer}");
        assert_eq!(
            answer["error"]["code"], "peer_not_a_voter",
            "{path}: {answer}"
        );
    }
    assert_eq!(members.leader(ELECTION_LIMIT), Some(leader));
    assert!(!members.view(leader).expect("view")["voters"]
        .as_array()
        .expect("voters")
        .contains(&serde_json::json!(node_id(&node_public))));

    // A grant signed by a trader, or sent by another node than it names, is refused by name.
    let stranger = SigningKey::from_bytes(&[77; 32]);
    let by_trader = FollowGrant::sign(chain, &cast.buyer.key, PartyKey::of(&stranger), "h:1", 1)
        .expect("grant");
    let http = members.http(leader);
    let (status, answer) = http
        .post_as_node(
            "/v1/peer/follow",
            &ebl_core::codec::encode(&by_trader),
            &stranger,
        )
        .expect("answered");
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("missing_role")),
        "{answer}"
    );
    let (_, answer) = http
        .post_as_node(
            "/v1/peer/follow",
            &ebl_core::codec::encode(&grant),
            &stranger,
        )
        .expect("answered");
    assert_eq!(answer["error"]["code"], "peer_grant_of_another_node");
    // `FOLLOW_GRANT_BYTES_MAX` (1 KiB) at its bound: a body of that size is read (and refused as what
    // it is, not a grant), one byte more is refused before it is read in full.
    let (status, answer) = http
        .post_as_node("/v1/peer/follow", &[0u8; 1024], &stranger)
        .expect("answered");
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("peer_malformed")),
        "{answer}"
    );
    let (status, _) = http
        .post_as_node("/v1/peer/follow", &[0u8; 1025], &stranger)
        .expect("answered");
    assert_eq!(status, 413);

    // Governance revokes the auditor: the leader takes its node out, and it receives no more blocks.
    let head = cast
        .registrations(chain)
        .last()
        .expect("registrations")
        .id();
    let revoke = Transaction {
        chain,
        prev: head,
        time_ms: ebl_tests::now_ms(),
        valid_until_ms: None,
        action: Action::RevokeParty {
            party: cast.auditor.id,
        },
    }
    .signed_by(&[&members.operator]);
    members
        .submit_somewhere(0, &revoke, Duration::from_secs(30))
        .expect("revoked");
    let revoked = Instant::now();
    assert!(
        eventually(Duration::from_secs(30), || !learners(&members)
            .contains(&node_id(&node_public))),
        "the revoked auditor's node is still a learner"
    );
    eprintln!(
        "and taken out {:?} after its auditor's revocation",
        revoked.elapsed()
    );
    issue_many(&members, &cast, 0, "AFTER-REVOCATION", 1);
    let (height, ..) = members
        .converged(Duration::from_secs(30))
        .expect("the members on one head");
    let (_, followed) = audit.get("/v1/head").expect("answered");
    assert!(
        followed["height"].as_u64().expect("height") < height,
        "a node taken out still received every block: {followed}"
    );
    follower.terminate();
    // What it received verifies: every block a member node's, its own copies its own.
    let verdict = follower.verify();
    assert_eq!(verdict.code, 0, "{}", verdict.stdout);
    crate::stop_and_verify(&mut members);
}
