//! `ebl demo --cluster N`: the demo's trade on a consortium of N members, each running its own
//! `ebl-node` process on 127.0.0.1. The leader is killed with SIGKILL in the middle of the trade, the
//! others elect a new leader, the trade finishes on it (with the killed node back first where the
//! members left are fewer than the finality quorum), and every node's store then passes `ebl-node verify`.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Player;
use crate::error::{CliError, Refusal, Result};

/// The most members the demo starts (each is a process on this machine).
pub const DEMO_MEMBERS_MAX: usize = 5;

/// How long the demo waits for the cluster to elect a leader, or for the nodes to agree on a head.
const WAIT_MS: u64 = 30_000;

const MEMBER_NAMES: [&str; DEMO_MEMBERS_MAX] = [
    "Harbour Bank",
    "Ocean Carrier Group",
    "Ningbo Traders Association",
    "Port Authority",
    "Second Bank",
];

/// `ebl-node`, next to this `ebl` (as `cargo build` and an install put them), or on the PATH.
fn node_binary() -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(format!("ebl-node{}", std::env::consts::EXE_SUFFIX)));
    match beside {
        Some(path) if path.exists() => path,
        _ => PathBuf::from("ebl-node"),
    }
}

/// Runs `ebl-node` with `args`, printing the command, and returns its standard output.
fn ebl_node(args: &[&str]) -> Result<String> {
    say!("$ ebl-node {}", args.join(" "));
    let output = Command::new(node_binary())
        .args(args)
        .output()
        .map_err(|e| {
            CliError::io(
                "running ebl-node (build it with `cargo build -p ebl-cli -p ebl-node`)",
                e,
            )
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(CliError::io(
            "ebl-node",
            format!(
                "{args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
        ));
    }
    for line in stdout.lines() {
        say!("  {line}");
    }
    Ok(stdout)
}

/// Free ports on 127.0.0.1, all distinct: each listener is held until every port is chosen.
fn free_ports(count: usize) -> Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| CliError::io("finding free ports", e))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| CliError::io("finding free ports", e))
}

/// One member's node process.
struct MemberNode {
    data: PathBuf,
    address: String,
    metrics: String,
    log: PathBuf,
    child: Option<Child>,
}

impl MemberNode {
    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn start(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| CliError::io("opening the node's log", e))?;
        let mut child = Command::new(node_binary())
            .args(["run", "--log-level", "warn", "--listen", &self.address])
            .args(["--metrics-listen", &self.metrics, "--data"])
            .arg(&self.data)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| CliError::io("starting ebl-node", e))?;
        // The node says where it listens once it serves.
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        if !line.starts_with("listening on") {
            let _ = child.kill();
            return Err(CliError::io(
                "starting ebl-node",
                format!("it did not start; see {}", self.log.display()),
            ));
        }
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: the node gets no chance to finish anything.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and wait for the graceful stop.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for MemberNode {
    fn drop(&mut self) {
        self.kill();
    }
}

fn get(url: &str) -> Option<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(2_000)))
        .build()
        .into();
    let mut answer = agent.get(url).call().ok()?;
    answer.body_mut().read_json().ok()
}

/// The running node that leads, once every running node names it.
fn leader(nodes: &[MemberNode]) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS);
    while Instant::now() < deadline {
        let views: Vec<(usize, Value)> = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.child.is_some())
            .filter_map(|(i, n)| get(&format!("{}/v1/cluster", n.url())).map(|v| (i, v)))
            .collect();
        if let Some((i, view)) = views.iter().find(|(_, v)| v["role"] == "leader") {
            if views.iter().all(|(_, v)| v["leader"] == view["id"]) {
                return Ok(*i);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(CliError::io("the cluster", "no leader was elected in time"))
}

/// Waits until every running node stands on the same head; prints each.
fn converged(nodes: &[MemberNode]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS);
    loop {
        let heads: Vec<Value> = nodes
            .iter()
            .filter_map(|n| get(&format!("{}/v1/head", n.url())))
            .collect();
        let same = heads.len() == nodes.len() && heads.windows(2).all(|w| w[0] == w[1]);
        if same {
            for (i, head) in heads.iter().enumerate() {
                say!(
                    "  node of {:<28} height {} block {} ({})",
                    MEMBER_NAMES[i],
                    head["height"],
                    head["block"]
                        .as_str()
                        .unwrap_or("?")
                        .get(..16)
                        .unwrap_or("?"),
                    crate::output::sentences::transactions(
                        head["transactions"].as_u64().unwrap_or(0),
                        crate::lang::Lang::En,
                    )
                );
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(CliError::io(
                "the cluster",
                "the nodes did not agree on a head in time",
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Admits a party by the threshold of admins: admin-1 proposes, the next ones co-sign, and the last
/// signature needed submits it.
fn admit(p: &Player, root: &Path, threshold: usize, party: &super::Cast) -> Result<()> {
    let proposal = root
        .join(format!("{}.proposal.json", party.key))
        .to_string_lossy()
        .into_owned();
    p.register(party, "admin-1", Some(&proposal))?;
    for admin in 2..=threshold {
        p.ebl(&[
            "gov",
            "approve",
            &proposal,
            "--as",
            &format!("admin-{admin}"),
        ])?;
    }
    Ok(())
}

/// Plays the trade on a cluster of `count` members.
pub fn run(count: usize, keep: Option<PathBuf>) -> Result<()> {
    if !(2..=DEMO_MEMBERS_MAX).contains(&count) {
        return Err(CliError::from(Refusal::DemoMembers));
    }
    let temp = tempfile::tempdir().map_err(|e| CliError::io("temporary directory", e))?;
    let root = match keep {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::io(&format!("creating {}", dir.display()), e))?;
            dir
        }
        None => temp.path().to_owned(),
    };
    say!("ebl demo --cluster {count}: a consortium of {count} members, each running its own node; the leader is killed mid-trade.");
    say!("files in {}", root.display());
    let ports = free_ports(2 * count)?;
    let mut nodes: Vec<MemberNode> = (0..count)
        .map(|i| MemberNode {
            data: root.join(format!("node-{i}")),
            address: format!("127.0.0.1:{}", ports[i]),
            metrics: format!("127.0.0.1:{}", ports[count + i]),
            log: root.join(format!("node-{i}.log")),
            child: None,
        })
        .collect();
    let home = root.join("wallet");
    let mut p = Player::new(&home, &nodes[0].url());

    let genesis = write_genesis(&mut p, &root, &nodes)?;

    p.say("Every member initialises its node from the same file, compares the chain id, and starts it.");
    for node in &mut nodes {
        let data = node.data.to_string_lossy().into_owned();
        ebl_node(&["init", "--genesis", &genesis, "--data", &data])?;
        node.start()?;
        say!("  node serving peers and clients at {}", node.url());
    }
    let first = leader(&nodes)?;
    say!(
        "  the nodes elected the node of {} as leader",
        MEMBER_NAMES[first]
    );

    p.say(
        "Governance takes a majority of admins: admin-1 proposes each party, the next co-sign, and the last submits.",
    );
    for party in &super::CAST {
        p.ebl(&["key", "new", party.key])?;
    }
    let t = usize::from(ebl_core::genesis::majority(count));
    for party in &super::CAST {
        admit(&p, &root, t, party)?;
    }

    p.say("The carrier issues a to-order bill to the shipper; the shipper endorses and hands it to the buyer.");
    let document = crate::demo::write_document(&root)?;
    let bill = p.issue(&document)?;
    p.sell(&bill)?;

    let (leader_now, back_before_the_trade) = kill_the_leader(&mut p, &mut nodes, count)?;

    p.say("The trade goes on: the buyer pledges the bill to the bank, repays, and surrenders it.");
    let offer = p.offer_pledge(&bill, &root)?;
    p.ebl(&["bill", "pledge-accept", &offer, "--as", "bank"])?;
    p.ebl(&["bill", "release", &bill, "--as", "bank"])?;
    p.deliver(&bill)?;

    if !back_before_the_trade {
        p.say("The killed node comes back and catches up: every node stands on the same head.");
        nodes[leader_now].start()?;
    }
    converged(&nodes)?;

    p.say("A bank verifies the bill offline: every block it relies on carries the member nodes' signatures.");
    let bundle = p.export(&bill, &root)?;
    p.ebl(&["verify", &bundle])?;

    p.say(
        "Every node stops, and `ebl-node verify` replays each member's own store from the genesis.",
    );
    for node in &mut nodes {
        node.stop();
        let data = node.data.to_string_lossy().into_owned();
        ebl_node(&["verify", "--data", &data])?;
    }
    let _ = std::io::stdout().flush();
    say!("\ndemo complete: the trade finished across a leader's death, and all {count} stores verify.");
    Ok(())
}

/// Each member makes its keys; one writes the genesis from everyone's public keys. Returns its path.
fn write_genesis(p: &mut Player, root: &std::path::Path, nodes: &[MemberNode]) -> Result<String> {
    p.say("Each member makes a node key for its node and an admin key for governance.");
    let mut members = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let data = node.data.to_string_lossy().into_owned();
        let node_key = ebl_node(&["node-key", "--data", &data])?.trim().to_owned();
        let admin = p.ebl(&["key", "new", &format!("admin-{}", i + 1)])?["public_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        members.push(format!(
            "{},{admin},{node_key},{}",
            MEMBER_NAMES[i], node.address
        ));
    }

    p.say(
        "One member writes the genesis from everyone's public keys; the threshold is a majority.",
    );
    let genesis = root.join("genesis.json").to_string_lossy().into_owned();
    let mut args = vec!["genesis".to_owned()];
    for m in &members {
        args.extend(["--member".to_owned(), m.clone()]);
    }
    args.extend([
        "--chain-name".into(),
        "ebl-consortium-demo".into(),
        "-o".into(),
        genesis.clone(),
    ]);
    ebl_node(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    Ok(genesis)
}

/// Kills the leader mid-trade and waits for the next; with three members (where finality needs every
/// node) the killed one comes back before the trade goes on. Returns the killed node and whether it
/// is back already.
fn kill_the_leader(
    p: &mut Player,
    nodes: &mut [MemberNode],
    count: usize,
) -> Result<(usize, bool)> {
    let leader_now = leader(nodes)?;
    p.say(&format!(
        "The leader, the node of {}, is killed with SIGKILL in the middle of the trade.",
        MEMBER_NAMES[leader_now]
    ));
    let killed_at = Instant::now();
    nodes[leader_now].kill();
    let next = leader(nodes)?;
    say!(
        "  the others elected the node of {} within {} ms",
        MEMBER_NAMES[next],
        killed_at.elapsed().as_millis()
    );
    if leader_now == 0 {
        // The wallet was talking to the killed node: it turns to another member's.
        p.talk_to(&nodes[next].url());
        say!("  the wallet now talks to {}", nodes[next].url());
    }
    // Finality needs an honest signer in any two certificates: with three members that is all three,
    // so one node down leaves new blocks ordered but not final, and a bank's bundle would say so.
    let quorum = ebl_core::certificate::finality_quorum(count);
    let back_before_the_trade = quorum > count - 1;
    if back_before_the_trade {
        p.say(&format!(
            "With {count} members a block is final when {quorum} member nodes sign it, so that one lying node cannot make two blocks final at one height: one node down leaves new blocks ordered but not final. The killed node comes back before the trade goes on (with four members the trade would go on without it)."
        ));
        nodes[leader_now].start()?;
        converged(nodes)?;
    }
    Ok((leader_now, back_before_the_trade))
}
