//! Bad peer traffic against a running three-node cluster: each refused with its named code, nothing
//! changed, and the cluster goes on.

use ebl_consensus::cluster::peer::{PATH_APPEND, PATH_VOTE};
use ebl_consensus::cluster::{node_id, TypeConfig};
use ebl_core::api::{sign_peer_request, HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME};
use ebl_core::testkit::key;
use ebl_core::{codec, PartyKey, SigningKey};
use ebl_tests::cluster::Members;
use openraft::raft::{AppendEntriesRequest, VoteRequest, VoteResponse};
use openraft::{LeaderId, Vote};

use crate::support::{agent, now_ms};

/// POSTs `body` to `path` on the node at `address`, signed by `signer` at `time_ms`; (status, code).
fn send(
    address: &str,
    chain: &ebl_core::ChainId,
    path: &str,
    body: &[u8],
    signer: Option<(&SigningKey, u64)>,
) -> (u16, String, Vec<u8>) {
    let mut request = agent()
        .post(&format!("http://{address}{path}"))
        .header("content-type", "application/octet-stream");
    if let Some((key, time)) = signer {
        let signature = sign_peer_request(key, chain, path, body, time);
        request = request
            .header(HEADER_KEY, &PartyKey::of(key).to_hex())
            .header(HEADER_TIME, &time.to_string())
            .header(HEADER_SIGNATURE, &signature.to_string());
    }
    let mut response = request.send(body).expect("the node answers");
    let status = response.status().as_u16();
    let bytes = response.body_mut().read_to_vec().unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (status, code, bytes)
}

fn node_key(members: &Members, i: usize) -> SigningKey {
    ebl_node::keyfile::read(&members.nodes[i].data.join("node.key")).expect("node key")
}

#[test]
fn peer_requests_that_break_the_rules_are_refused_by_name_and_the_cluster_goes_on() {
    let members = Members::start(3);
    let leader = members
        .leader(std::time::Duration::from_secs(20))
        .expect("leader");
    let target = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    let address = &members.listens[target];
    let chain = members.chain;
    let view = members.view(target).expect("view");
    let term = view["term"].as_u64().expect("term");
    let other_key = node_key(&members, other);
    let other_id = node_id(&PartyKey::of(&other_key));
    let leader_id = node_id(&PartyKey::of(&node_key(&members, leader)));
    let append = |from: u64| {
        codec::encode(&AppendEntriesRequest::<TypeConfig> {
            vote: Vote::new_committed(term, from),
            prev_log_id: None,
            entries: Vec::new(),
            leader_commit: None,
        })
    };

    // Unsigned.
    let (status, code, _) = send(address, &chain, PATH_APPEND, &append(leader_id), None);
    assert_eq!((status, code.as_str()), (401, "peer_unsigned"));
    // Signed by a key that is no member's node key (a party's, here the operator's).
    let (status, code, _) = send(
        address,
        &chain,
        PATH_APPEND,
        &append(leader_id),
        Some((&key(1), now_ms())),
    );
    assert_eq!((status, code.as_str()), (401, "peer_not_a_member"));
    // A member node's signature over another body.
    let mut tampered = append(other_id);
    let signature_body = append(other_id);
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    let time = now_ms();
    let signature = sign_peer_request(&other_key, &chain, PATH_APPEND, &signature_body, time);
    let mut response = agent()
        .post(&format!("http://{address}{PATH_APPEND}"))
        .header(HEADER_KEY, &PartyKey::of(&other_key).to_hex())
        .header(HEADER_TIME, &time.to_string())
        .header(HEADER_SIGNATURE, &signature.to_string())
        .send(&tampered[..])
        .expect("answers");
    assert_eq!(response.status().as_u16(), 401);
    let refused: serde_json::Value = response.body_mut().read_json().expect("json");
    assert_eq!(refused["error"]["code"], "peer_bad_signature");
    // A request signed long ago: a captured one cannot be replayed.
    let (status, code, _) = send(
        address,
        &chain,
        PATH_APPEND,
        &append(other_id),
        Some((&other_key, now_ms() - 10 * 60 * 1000)),
    );
    assert_eq!((status, code.as_str()), (401, "peer_time_skew"));
    // A member's node claiming to lead in another node's name (the real leader's).
    let (status, code, _) = send(
        address,
        &chain,
        PATH_APPEND,
        &append(leader_id),
        Some((&other_key, now_ms())),
    );
    assert_eq!((status, code.as_str()), (401, "peer_not_the_sender"));
    // A vote for a term in the past: Raft answers it, refusing, with the vote it holds.
    let vote = codec::encode(&VoteRequest::<u64> {
        vote: Vote {
            leader_id: LeaderId::new(0, other_id),
            committed: false,
        },
        last_log_id: None,
    });
    let (status, _, body) = send(
        address,
        &chain,
        PATH_VOTE,
        &vote,
        Some((&other_key, now_ms())),
    );
    assert_eq!(status, 200);
    let answered: Result<VoteResponse<u64>, openraft::error::RaftError<u64>> =
        codec::decode(&body, 1 << 20).expect("decodes");
    let answered = answered.expect("a vote response");
    assert!(!answered.vote_granted, "{answered:?}");

    // The cluster goes on, under the same leader.
    assert_eq!(
        members.leader(std::time::Duration::from_secs(5)),
        Some(leader)
    );
    let cast = ebl_core::testkit::Cast::new();
    for tx in cast.registrations(chain) {
        let outcome = members.http(target).submit(&tx).expect("answered");
        assert!(
            matches!(outcome, ebl_core::api::SubmitOutcome::Accepted { .. }),
            "{outcome:?}"
        );
    }
}

/// Finding 10 of the attack review: `raft/` and `store.index/` were 0755, and `raft/db`, `raft.log`,
/// `store.witness` and snapshots 0644, on every member of a running cluster, though the Raft log holds
/// every document and loan. Every path the node binary makes is its account's alone.
#[cfg(unix)]
#[test]
fn regression_every_file_a_cluster_member_makes_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut members = Members::start(3);
    members
        .leader(std::time::Duration::from_secs(20))
        .expect("leader");
    for node in &mut members.nodes {
        assert_eq!(node.terminate(), 0);
    }
    for node in &members.nodes {
        let mut pending = vec![node.data.clone()];
        let (mut dirs, mut files) = (0, 0);
        while let Some(path) = pending.pop() {
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_dir() {
                dirs += 1;
                assert_eq!(mode, 0o700, "{}", path.display());
                for entry in std::fs::read_dir(&path).expect("read dir") {
                    pending.push(entry.expect("entry").path());
                }
            } else if meta.is_file() {
                files += 1;
                assert_eq!(mode, 0o600, "{}", path.display());
            }
        }
        assert!(
            node.data.join("raft").is_dir(),
            "the Raft log is there to check"
        );
        assert!(dirs >= 3 && files >= 5, "{dirs} directories, {files} files");
    }
}

/// Finding 3 of the attack review: `/v1/peer/*` read up to 64 MiB of body before checking who sent it,
/// on one-member nodes too; 16 held-open uploads took a node from 16 to 977 MiB. A stranger's upload is
/// refused by its headers, before the body it announces is read.
#[test]
fn regression_a_strangers_peer_upload_is_refused_before_its_body_is_read() {
    use std::io::{Read, Write};
    let market = ebl_tests::Market::open();
    let address = market
        .node
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let stranger = key(77);
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    let head = format!(
        "POST {PATH_APPEND} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/octet-stream\r\n\
         content-length: 33554432\r\n{HEADER_KEY}: {}\r\n{HEADER_TIME}: {}\r\n{HEADER_SIGNATURE}: {}\r\n\r\n",
        PartyKey::of(&stranger).to_hex(),
        now_ms(),
        "00".repeat(64),
    );
    stream.write_all(head.as_bytes()).expect("headers");
    stream
        .write_all(&[0u8; 1024])
        .expect("a little of the body");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    let mut answer = vec![0u8; 4096];
    let read = stream
        .read(&mut answer)
        .expect("answered before the 32 MiB it announced were sent");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("peer_not_a_member"), "{answer}");
}

/// Finding 14 of the attack review: peer requests had no replay memory, so a captured append replayed
/// within the time window was accepted. A signed peer request is answered once.
#[test]
fn regression_a_captured_peer_request_is_answered_once() {
    use ebl_consensus::cluster::peer::{BlocksRequest, PATH_BLOCKS};
    let members = Members::start(3);
    let leader = members
        .leader(std::time::Duration::from_secs(20))
        .expect("leader");
    let target = (leader + 1) % 3;
    let sender = node_key(&members, (leader + 2) % 3);
    let body = codec::encode(&BlocksRequest { from: 1, count: 1 });
    let time = now_ms();
    let address = &members.listens[target];
    let (status, code, _) = send(
        address,
        &members.chain,
        PATH_BLOCKS,
        &body,
        Some((&sender, time)),
    );
    assert_eq!(status, 200, "{code}");
    let (status, code, _) = send(
        address,
        &members.chain,
        PATH_BLOCKS,
        &body,
        Some((&sender, time)),
    );
    assert_eq!((status, code.as_str()), (401, "peer_request_replayed"));
    // The same request signed anew is answered.
    let (status, code, _) = send(
        address,
        &members.chain,
        PATH_BLOCKS,
        &body,
        Some((&sender, time + 1)),
    );
    assert_eq!(status, 200, "{code}");
}

/// Issue 35: a leader cut off from both followers said `role: leader` on `GET /v1/cluster` for the whole
/// cut, with nothing to tell it from one that still has its quorum. It now says whether a majority
/// answered its appends within the longest election timeout, and says so again once the cut heals.
#[test]
fn regression_a_leader_cut_off_from_its_quorum_says_so() {
    let members = Members::start_proxied(3);
    let leader = members
        .leader(std::time::Duration::from_secs(20))
        .expect("leader");
    let view = |i: usize| members.view(i).expect("view");
    let wait_for = |i: usize, expected: bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let seen = view(i);
            if seen["has_quorum"] == expected {
                return seen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "has_quorum never became {expected}: {seen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    assert_eq!(wait_for(leader, true)["role"], "leader");
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    // A follower's view says nothing of a quorum: only a leader has one to keep.
    assert!(view(followers[0]).get("has_quorum").is_none());
    for f in &followers {
        members.proxies[*f].cut(true);
    }
    let cut_off = wait_for(leader, false);
    assert_eq!(
        cut_off["role"], "leader",
        "it still believes it leads: {cut_off}"
    );
}

/// Chain format 7: a member node asked to vouch for another node's status statement signs only what its
/// own ledger bears out. A lying node's statements (a height not yet reached, another block at a
/// height, a time past `STATEMENT_SKEW_MS_MAX`, a bill that does not stand so) are refused by name,
/// each with 409.
#[test]
fn a_node_vouches_for_no_statement_its_own_ledger_does_not_bear_out() {
    let members = Members::start(3);
    let leader = members
        .leader(std::time::Duration::from_secs(20))
        .expect("leader");
    let (asker, asked) = (leader, (leader + 1) % 3);
    let asker_key = node_key(&members, asker);
    let chain = members.chain;
    let head = members.head(asked).expect("head");
    let block: ebl_core::Hash = head.1.parse().expect("block hash");
    let holder = ebl_core::PartyId::from(PartyKey::of(&key(7)));
    let statement_at =
        |height: u64, block: ebl_core::Hash, time_ms: u64| ebl_core::api::BillStatement {
            chain,
            bill: ebl_core::Hash::of(b"a bill nobody issued"),
            head: ebl_core::Hash::of(b"its head"),
            transactions: 1,
            possessor: holder,
            title: ebl_core::Title::Order {
                endorsee: holder,
                may_endorse: true,
            },
            pledge: None,
            status: ebl_core::Status::Issued,
            height,
            block,
            time_ms,
        };
    let statement = |height: u64, block: ebl_core::Hash| statement_at(height, block, now_ms());
    let skew = ebl_consensus::cluster::vouch::STATEMENT_SKEW_MS_MAX;
    let path = ebl_consensus::cluster::peer::PATH_STATEMENT;
    for (lie, code) in [
        (statement(head.0 + 100, block), "unvouched_behind"),
        (
            statement(head.0, ebl_core::Hash::of(b"another block")),
            "unvouched_other_block",
        ),
        // Dated past the skew either way: a statement made to be shown later, or ahead.
        (
            statement_at(head.0, block, now_ms() - skew - 5_000),
            "unvouched_time_skew",
        ),
        (
            statement_at(head.0, block, now_ms() + skew + 5_000),
            "unvouched_time_skew",
        ),
        (statement(head.0, block), "unvouched_bill_differs"),
    ] {
        let (status, refused, _) = send(
            &members.listens[asked],
            &chain,
            path,
            &codec::encode(&lie),
            Some((&asker_key, now_ms())),
        );
        assert_eq!((status, refused.as_str()), (409, code));
    }
    // A party's key is no member node's: refused before the statement is read.
    let (status, refused, _) = send(
        &members.listens[asked],
        &chain,
        path,
        &codec::encode(&statement(head.0, block)),
        Some((&key(1), now_ms())),
    );
    assert_eq!((status, refused.as_str()), (401, "peer_not_a_member"));
}

/// Issue 35: `ebl-node status` shows an operator the running node's place: a leader with its quorum and
/// each peer's lag and last contact; a follower and the leader it follows; a stopped node said as such.
#[test]
fn ebl_node_status_shows_the_leader_its_peers_and_a_follower_its_leader() {
    let mut members = Members::start(3);
    let leader = members
        .leader(std::time::Duration::from_secs(20))
        .expect("leader");
    let follower = (leader + 1) % 3;
    let dirs: Vec<std::path::PathBuf> = members.nodes.iter().map(|n| n.data.clone()).collect();
    let status = |i: usize| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ebl-node"))
            .args(["status", "--json", "--data"])
            .arg(&dirs[i])
            .output()
            .expect("status")
    };
    // The leader learns each peer's replication as they answer its appends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let shown = loop {
        let out = status(leader);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let answered = shown["cluster"]["peers"]
            .as_array()
            .is_some_and(|p| p.len() == 2 && p.iter().all(|p| p["last_contact_ms"].is_u64()));
        if answered {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "{shown}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(shown["cluster"]["role"], "leader", "{shown}");
    assert_eq!(shown["cluster"]["has_quorum"], true, "{shown}");
    assert!(shown["head"]["height"].is_u64(), "{shown}");
    let out = status(follower);
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(seen["cluster"]["role"], "follower", "{seen}");
    assert_eq!(seen["cluster"]["leader"], shown["cluster"]["id"], "{seen}");
    // In words, for a person.
    let words = std::process::Command::new(env!("CARGO_BIN_EXE_ebl-node"))
        .args(["status", "--data"])
        .arg(&dirs[leader])
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&words.stdout);
    assert!(
        text.contains("role      leader, with its quorum")
            && text.matches("entries behind").count() == 2,
        "{text}"
    );
    // The same in the Prometheus metrics: the leader's role, term and each peer's lag.
    let url = members.nodes[leader]
        .metrics_url
        .clone()
        .expect("metrics url");
    let mut response = agent().get(&url).call().expect("metrics");
    let text = response.body_mut().read_to_string().expect("text");
    assert!(text.contains("\nebl_raft_leader 1\n"), "{text}");
    assert!(text.contains("\nebl_raft_term "), "{text}");
    assert_eq!(
        text.matches("ebl_raft_peer_lag_entries{peer=").count(),
        2,
        "{text}"
    );
    // Stopped, the node wrote no address: said so, exit 4.
    assert_eq!(members.nodes[follower].terminate(), 0);
    let out = status(follower);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("[node_not_running]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
