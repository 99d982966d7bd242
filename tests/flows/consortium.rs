//! A consortium of two, then three members: the genesis written from their keys, governance handed
//! round as proposal files, a member admitted and another removed, with the real binaries.

use ebl_tests::cluster::free_port;
use ebl_tests::{bin, run, Market, NodeProcess};

fn key_of(m: &Market, who: &str) -> String {
    m.json(who, &["key", "new", who])["public_key"]
        .as_str()
        .expect("key")
        .to_owned()
}

#[test]
fn a_two_member_consortium_governs_by_proposal_and_hands_over_a_seat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_a = dir.path().join("node-a");
    let data_b = dir.path().join("node-b");
    let node_a = NodeProcess::node_key(&data_a);
    let node_b = NodeProcess::node_key(&data_b);
    // The admins' wallets exist before the node does.
    let homes = |who: &str| dir.path().join("wallets").join(who);
    let new_key = |who: &str| {
        let home = homes(who).to_string_lossy().into_owned();
        let out = run(
            &bin("ebl"),
            &["--json", "key", "new", who],
            &[
                ("EBL_HOME", &home),
                ("EBL_PASSPHRASE", ebl_tests::PASSPHRASE),
            ],
        )
        .ok()
        .json();
        out["public_key"].as_str().expect("key").to_owned()
    };
    let (admin_a, admin_b) = (new_key("admin-a"), new_key("admin-b"));
    let genesis = dir.path().join("genesis.json");
    let (peer_a, peer_b, peer_c) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let written = run(
        &bin("ebl-node"),
        &[
            "genesis",
            "--member",
            &format!("Port Bank,{admin_a},{node_a},{peer_a}"),
            "--member",
            &format!("Ocean Lines,{admin_b},{node_b},{peer_b}"),
            "--threshold",
            "2",
            "--platform",
            "NGBO",
            "-o",
            &genesis.to_string_lossy(),
        ],
        &[],
    )
    .ok();
    let chain = written
        .stdout
        .split_whitespace()
        .nth(1)
        .expect("chain id")
        .to_owned();
    // Member B initialises its node from the same file and sees the same chain id.
    let init_b = run(
        &bin("ebl-node"),
        &[
            "init",
            "--genesis",
            &genesis.to_string_lossy(),
            "--data",
            &data_b.to_string_lossy(),
        ],
        &[],
    )
    .ok();
    assert!(init_b.stdout.contains(&chain), "{}", init_b.stdout);
    // A genesis that does not name this directory's node key is refused.
    let stranger = dir.path().join("node-x");
    NodeProcess::node_key(&stranger);
    let refused = run(
        &bin("ebl-node"),
        &[
            "init",
            "--genesis",
            &genesis.to_string_lossy(),
            "--data",
            &stranger.to_string_lossy(),
        ],
        &[],
    );
    assert_ne!(refused.code, 0);
    // Both members' nodes run: the two of them order the chain together (a quorum of two).
    let mut node_b_process = NodeProcess::stopped(&data_b, &peer_b);
    node_b_process.start();
    let node = NodeProcess::init_member(&data_a, &genesis, &peer_a);
    let m = Market::over(dir, node, ebl_core::testkit::key(1));
    assert_eq!(m.chain.to_hex(), chain);

    // One admin cannot admit a carrier alone: it writes a proposal, the other co-signs and submits.
    let carrier = key_of(&m, "carrier");
    let proposal = m.path("carrier.proposal");
    let register = [
        "party",
        "register",
        "Ningbo Lines",
        "--key",
        &carrier,
        "--role",
        "carrier",
        "--id",
        "SMDG:MSC",
        "--as",
        "admin-a",
    ];
    m.refused("admin-a", &register, 2, "governance_quorum");
    let mut with_file = register.to_vec();
    with_file.extend_from_slice(&["-o", &proposal]);
    let proposed = m.json("admin-a", &with_file);
    assert_eq!(
        (proposed["have"].as_u64(), proposed["need"].as_u64()),
        (Some(1), Some(2))
    );
    let review = m.json("admin-b", &["gov", "review", &proposal]);
    assert_eq!(review["signed_by"], serde_json::json!(["Port Bank"]));
    assert_eq!(review["current"], true);
    // The same admin approving again counts once.
    let again = m.json("admin-a", &["gov", "approve", &proposal, "--as", "admin-a"]);
    assert_eq!(again["have"].as_u64(), Some(1));
    let done = m.json("admin-b", &["gov", "approve", &proposal, "--as", "admin-b"]);
    assert_eq!(done["status"], "accepted", "{done}");
    assert_eq!(
        m.json("carrier", &["party", "show", "Ningbo Lines"])["profile"]["identifiers"][0]["value"],
        "MSC"
    );
    // A proposal whose body was changed after signing is refused with the signature's code.
    let tampered = m.path("tampered.proposal");
    let shipper = key_of(&m, "shipper");
    m.json(
        "admin-a",
        &[
            "party", "register", "DCSA CTK", "--key", &shipper, "--role", "trader", "--as",
            "admin-a", "-o", &tampered,
        ],
    );
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&tampered).expect("read")).expect("json");
    value["transaction"]["body"]["action"]["REGISTER_PARTY"]["profile"]["roles"] =
        serde_json::json!(["trader", "bank"]);
    std::fs::write(&tampered, value.to_string()).expect("write");
    m.refused(
        "admin-b",
        &["gov", "approve", &tampered, "--as", "admin-b"],
        4,
        "bad_signature",
    );

    // The seat of Ocean Lines passes to Silk Road Trading: admitted by both, then Ocean Lines removed.
    let admin_c = key_of(&m, "admin-c");
    let data_c = m.dir.path().join("node-c");
    let node_c = NodeProcess::node_key(&data_c);
    let add = m.path("add.proposal");
    m.json(
        "admin-a",
        &[
            "gov",
            "add-member",
            "Silk Road Trading",
            "--admin",
            &admin_c,
            "--node-key",
            &node_c,
            "--peer",
            &peer_c,
            "--as",
            "admin-a",
            "-o",
            &add,
        ],
    );
    let added = m.json("admin-b", &["gov", "approve", &add, "--as", "admin-b"]);
    assert_eq!(added["status"], "accepted", "{added}");
    // Silk Road's node joins from the same genesis; the leader adds it and it catches up.
    let _node_c_process = NodeProcess::join(&data_c, &m.dir.path().join("genesis.json"), &peer_c);
    let remove = m.path("remove.proposal");
    m.json(
        "admin-c",
        &[
            "gov",
            "remove-member",
            "Ocean Lines",
            "--as",
            "admin-c",
            "-o",
            &remove,
        ],
    );
    let removed = m.json("admin-a", &["gov", "approve", &remove, "--as", "admin-a"]);
    assert_eq!(removed["status"], "accepted", "{removed}");
    let members = m.json("admin-a", &["gov", "members"]);
    let names: Vec<&str> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["Port Bank", "Silk Road Trading"]);
    // Ocean Lines is no member now: its admin key reads and signs for nothing; the seat's new holder
    // completes the change instead.
    let late = m.path("late.proposal");
    let buyer = key_of(&m, "buyer");
    m.json(
        "admin-a",
        &[
            "party",
            "register",
            "Buyer One",
            "--key",
            &buyer,
            "--role",
            "trader",
            "--as",
            "admin-a",
            "-o",
            &late,
        ],
    );
    m.refused(
        "admin-b",
        &["gov", "approve", &late, "--as", "admin-b"],
        2,
        "unknown_key",
    );
    let still = m.json("admin-c", &["gov", "review", &late]);
    assert_eq!(
        (still["have"].as_u64(), still["need"].as_u64()),
        (Some(1), Some(2))
    );
    let approved = m.ebl(
        "admin-c",
        &["--json", "gov", "approve", &late, "--as", "admin-c"],
    );
    if approved.code != 0 {
        let log = |name: &str| std::fs::read_to_string(m.dir.path().join(name)).unwrap_or_default();
        panic!(
            "approve: {}\nnode A: {}\nnode B: {}\nnode C: {}",
            approved.stdout,
            log("node-a.log"),
            log("node-b.log"),
            log("node-c.log")
        );
    }
    assert_eq!(approved.json()["status"], "accepted", "{}", approved.stdout);

    // Raft's voters follow the registry: Ocean Lines' node is taken out, Silk Road's is in, and the
    // chain goes on with Ocean Lines' node stopped.
    let id_of = |key: &str| {
        let key: ebl_core::PartyKey = key.parse().expect("node key");
        let hash = ebl_core::Hash::of(key.as_bytes());
        u64::from_be_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
    };
    let wanted = {
        let mut ids = vec![id_of(&node_a), id_of(&node_c)];
        ids.sort_unstable();
        serde_json::json!(ids)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let view = m.http().get("/v1/cluster").expect("cluster view").1;
        if view["voters"] == wanted {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "voters {} never became {wanted}",
            view["voters"]
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Finding 4 of the attack review: a removed member's node kept signing status statements with
    // fresh times. Once it has applied its removal it signs none.
    let at_b = ebl_tests::Http::new(&node_b_process.url, m.chain);
    let statement = format!("/v1/bills/{}/status", "0".repeat(64));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = at_b.get(&statement).expect("node B answers");
        if status == 503 && body["error"]["code"] == "not_a_member_node" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a removed member's node still answers a statement: {status} {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    node_b_process.kill9();
    let seller = key_of(&m, "seller");
    let after = m.json(
        "admin-a",
        &[
            "party",
            "register",
            "Seller",
            "--key",
            &seller,
            "--role",
            "trader",
            "--as",
            "admin-a",
            "-o",
            &m.path("after.proposal"),
        ],
    );
    assert_eq!(after["have"].as_u64(), Some(1));
    let after = m.json(
        "admin-c",
        &[
            "gov",
            "approve",
            &m.path("after.proposal"),
            "--as",
            "admin-c",
        ],
    );
    assert_eq!(after["status"], "accepted", "{after}");
}
