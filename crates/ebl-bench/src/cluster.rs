//! The three-node phase: the same workload against a consortium of member-node processes on this one
//! machine, with each node's CPU time per transaction, and what that means for one machine per node.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use ebl_core::{Hash, PartyKey};
use serde::Serialize;

use crate::drive::{self, agent, RunResult};
use crate::node::NodeUnderTest;
use crate::workload::BillPlan;

/// A cluster of member nodes, member 0's admin being the workload's operator (threshold 1, so its
/// registrations need one signature, as on the single node).
pub(crate) struct ClusterUnderTest {
    pub nodes: Vec<NodeUnderTest>,
    pub chain: Hash,
}

/// One node's share of a run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NodeCost {
    pub role: String,
    pub cpu_seconds: f64,
    /// CPU time per acknowledged transaction, in microseconds.
    pub cpu_us_per_tx: f64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClusterRun {
    pub nodes: usize,
    pub run: RunResult,
    pub costs: Vec<NodeCost>,
    /// Transactions per second the busiest node's CPU time would allow on a machine of its own with
    /// this many cores (network latency between machines not counted).
    pub one_machine_per_node_tps: f64,
}

fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

fn view(url: &str) -> Option<serde_json::Value> {
    let mut response = agent().get(&format!("{url}/v1/cluster")).call().ok()?;
    response.body_mut().read_json().ok()
}

impl ClusterUnderTest {
    pub(crate) fn start(
        binary: &Path,
        dir: &Path,
        count: usize,
        operator: &PartyKey,
    ) -> anyhow::Result<Self> {
        let ports = free_ports(count)?;
        let mut members = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let data = dir.join(format!("member-{i}"));
            let out = Command::new(binary)
                .args(["node-key", "--data"])
                .arg(&data)
                .output()?;
            anyhow::ensure!(out.status.success(), "ebl-node node-key failed");
            let node_key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let admin = if i == 0 {
                *operator
            } else {
                PartyKey::of(&ebl_core::testkit::key(
                    40 + u8::try_from(i).expect("a few members"),
                ))
            };
            members.push(format!("Member {i},{admin},{node_key},127.0.0.1:{port}"));
        }
        let genesis = dir.join("genesis.json");
        let mut args = vec!["genesis".to_owned()];
        for m in &members {
            args.extend(["--member".to_owned(), m.clone()]);
        }
        args.extend(["--threshold", "1", "--chain-name", "bench-cluster", "-o"].map(str::to_owned));
        args.push(genesis.to_string_lossy().into_owned());
        let status = Command::new(binary)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "ebl-node genesis failed");
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                NodeUnderTest::member(
                    binary,
                    &dir.join(format!("member-{i}")),
                    &genesis,
                    &format!("127.0.0.1:{port}"),
                )
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut response = agent()
            .get(&format!("{}/v1/genesis", nodes[0].url))
            .call()?;
        let genesis: serde_json::Value = response.body_mut().read_json()?;
        let chain = genesis["chain"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .context("chain id")?;
        Ok(ClusterUnderTest { nodes, chain })
    }

    /// The index of the node that leads, once every node names it.
    pub(crate) fn leader(&self) -> anyhow::Result<usize> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let views: Vec<(usize, serde_json::Value)> = self
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| view(&n.url).map(|v| (i, v)))
                .collect();
            if let Some((i, lead)) = views.iter().find(|(_, v)| v["role"] == "leader") {
                if views.len() == self.nodes.len()
                    && views.iter().all(|(_, v)| v["leader"] == lead["id"])
                {
                    return Ok(*i);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("the cluster elected no leader")
    }

    /// Drives the leader with the reference configuration and measures each node's CPU time.
    pub(crate) fn measure(
        &self,
        plans: &mut [BillPlan],
        (clients, batch): (usize, usize),
        duration: Duration,
        cores: usize,
    ) -> anyhow::Result<ClusterRun> {
        let leader = self.leader()?;
        let before: Vec<f64> = self
            .nodes
            .iter()
            .map(|n| n.cpu_seconds().unwrap_or(0.0))
            .collect();
        let run = drive::run(
            &self.nodes[leader].url,
            plans,
            clients,
            batch,
            duration,
            u64::MAX,
        )?;
        let acknowledged = run.transactions.max(1) as f64;
        let costs: Vec<NodeCost> = self
            .nodes
            .iter()
            .zip(&before)
            .enumerate()
            .map(|(i, (n, b))| {
                let cpu = n.cpu_seconds().unwrap_or(0.0) - b;
                NodeCost {
                    role: if i == leader { "leader" } else { "follower" }.to_owned(),
                    cpu_seconds: cpu,
                    cpu_us_per_tx: cpu / acknowledged * 1e6,
                }
            })
            .collect();
        let busiest = costs.iter().map(|c| c.cpu_us_per_tx).fold(0.0f64, f64::max);
        Ok(ClusterRun {
            nodes: self.nodes.len(),
            run,
            costs,
            one_machine_per_node_tps: if busiest > 0.0 {
                cores as f64 * 1e6 / busiest
            } else {
                0.0
            },
        })
    }

    pub(crate) fn stop(&mut self) -> anyhow::Result<()> {
        for node in &mut self.nodes {
            node.stop()?;
        }
        Ok(())
    }
}
