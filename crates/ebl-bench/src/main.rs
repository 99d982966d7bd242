//! `ebl-bench`: in one run on one machine, measure the machine's limit, then drive a real `ebl-node`
//! (release build) over HTTP with a realistic mix, and report against the targets.

mod cluster;
mod drive;
mod figures;
mod limit;
mod node;
mod proof;
mod report;
mod wan;
mod workload;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use ebl_core::testkit::Cast;
use ebl_core::{Hash, PartyKey};
use serde_json::json;

use crate::drive::{agent, post_batch, RunResult};
use crate::node::NodeUnderTest;
use crate::workload::BillPlan;

#[derive(Parser, Debug)]
#[command(
    name = "ebl-bench",
    about = "Benchmarks of the ebl ledger against this machine's own limit"
)]
struct Args {
    /// A small, fast run (about 30 s) that exercises every phase; its figures are not the targets'.
    #[arg(long)]
    quick: bool,
    /// Where to write results.json and throughput.svg.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// The ebl-node binary; by default the one next to this benchmark.
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// Directory for the node's data (a temporary one by default). Its disk is the one measured.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Only the limit, the reference run at the small store and the proof phase (issue 32: the
    /// 50-event bill's bundle at 10 to 100 000 parties), written to proof.json: a few minutes.
    #[arg(long)]
    proof_only: bool,
    /// Member nodes of the cluster phase, measured in the same run (0 skips it).
    #[arg(long, default_value_t = 3)]
    cluster_nodes: usize,
    /// Only the limit and the JSON-versus-binary batch comparison (three alternating rounds at two
    /// configurations, 10 k transactions stored), written to wire.json: a few minutes.
    #[arg(long)]
    compare_wire: bool,
    /// Transactions stored before the large-store measurement (the reference configuration, node RSS,
    /// bytes on disk, `ebl-node verify`): 1 000 000 by default, 10 000 000 for issue 18's figure. The
    /// workload is signed as it is sent, so the benchmark's memory does not grow with it.
    #[arg(long)]
    large: Option<u64>,
    /// Leader kills in the WAN phase (three members on hosts of their own, 30/150/250 ms apart; it
    /// needs network namespaces, so root): 20 by default, 2 with `--quick`, 0 skips the phase.
    #[arg(long)]
    wan_kills: Option<usize>,
    /// Only the limit, the loopback cluster and the WAN phase, written to wan.json: a few minutes.
    #[arg(long)]
    wan_only: bool,
    /// Measured passes of the reference runs and the matrix, for the spread of every figure (3 by
    /// default, 1 with `--quick`). One fill serves them all: the passes alternate within one run.
    #[arg(long)]
    passes: Option<usize>,
}

/// A figure measured in several passes: its median, its spread, and every value.
#[derive(Debug, Clone, serde::Serialize)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
}

impl Spread {
    fn of(values: Vec<f64>) -> Spread {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        Spread {
            median: crate::drive::percentile_of_sorted(&sorted, 0.5),
            min: sorted.first().copied().unwrap_or(0.0),
            max: sorted.last().copied().unwrap_or(0.0),
            values,
        }
    }

    /// "median (min-max, n passes)" with `scale` applied and `digits` decimals.
    fn show(&self, scale: f64, digits: usize, unit: &str) -> String {
        format!(
            "{:.digits$}{unit} ({:.digits$}-{:.digits$}, {} passes)",
            self.median * scale,
            self.min * scale,
            self.max * scale,
            self.values.len()
        )
    }
}

/// The run of median throughput among passes of one configuration.
fn median_run(runs: &[RunResult]) -> Option<RunResult> {
    let mut sorted: Vec<&RunResult> = runs.iter().collect();
    sorted.sort_by(|a, b| a.tps.total_cmp(&b.tps));
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .map(|r| (*r).clone())
}

/// The reference configuration measured once per pass, each pass numbered.
fn reference_passes(
    url: &str,
    plans: &mut [BillPlan],
    reference: (usize, usize),
    run: Duration,
    passes: usize,
) -> anyhow::Result<Vec<RunResult>> {
    (0..passes)
        .map(|pass| {
            prepared(plans, run);
            let mut r = drive::run(url, plans, reference.0, reference.1, run, u64::MAX)?;
            r.pass = pass;
            Ok(r)
        })
        .collect()
}

/// The configurations the wire comparison alternates at: the reference and the best of earlier runs.
const WIRE_CONFIGS: [(usize, usize); 2] = [(16, 128), (8, 64)];
/// Rounds of the comparison: every figure over at least three, with the spread.
const WIRE_ROUNDS: usize = 3;

/// JSON and binary batches alternated at the same configurations, `WIRE_ROUNDS` times each, so the
/// ratio is measured within one run (the machine moves between runs).
fn compare_wire(
    node: &NodeUnderTest,
    plans: &mut [BillPlan],
    run: Duration,
    limit_per_s: f64,
) -> anyhow::Result<serde_json::Value> {
    let url = node.url.as_str();
    // One run over `wire`, with the node's own CPU time per acknowledged transaction beside it.
    let measured = |plans: &mut [BillPlan], config, wire| -> anyhow::Result<(RunResult, f64)> {
        workload::prepare(plans, workload::ahead_for(run.as_secs_f64(), plans.len()));
        let before = node.cpu_seconds().unwrap_or(0.0);
        let r = drive::run_over(url, plans, config, run, u64::MAX, wire)?;
        let cpu = node.cpu_seconds().unwrap_or(0.0) - before;
        Ok((r.clone(), cpu / r.transactions.max(1) as f64 * 1e6))
    };
    let mut configs = Vec::new();
    for &(c, b) in &WIRE_CONFIGS {
        if plans.len() / c < b {
            continue;
        }
        let mut rounds = Vec::new();
        for round in 0..WIRE_ROUNDS {
            let (json, json_cpu) = measured(plans, (c, b), drive::Wire::Json)?;
            let (binary, binary_cpu) = measured(plans, (c, b), drive::Wire::Binary)?;
            say(&format!(
                "wire {c}x{b} round {}: JSON {:.0} tx/s (p99 {:.1} ms, node {json_cpu:.0} us/tx), binary {:.0} tx/s (p99 {:.1} ms, node {binary_cpu:.0} us/tx): {:.2}x; {:.1}% / {:.1}% of the limit",
                round + 1,
                json.tps,
                json.p99_ms,
                binary.tps,
                binary.p99_ms,
                binary.tps / json.tps,
                json.tps / limit_per_s * 100.0,
                binary.tps / limit_per_s * 100.0
            ));
            rounds.push(
                json!({"json": json, "binary": binary, "ratio": binary.tps / json.tps,
                "node_cpu_us_per_tx": {"json": json_cpu, "binary": binary_cpu}}),
            );
        }
        let spread = |key: &str| -> serde_json::Value {
            let mut v: Vec<f64> = rounds
                .iter()
                .filter_map(|r| r[key]["tps"].as_f64())
                .collect();
            v.sort_by(f64::total_cmp);
            json!({"min": v.first(), "median": v.get(v.len() / 2), "max": v.last(),
                   "median_share_of_limit": v.get(v.len() / 2).map(|m| m / limit_per_s)})
        };
        let mut ratios: Vec<f64> = rounds.iter().filter_map(|r| r["ratio"].as_f64()).collect();
        ratios.sort_by(f64::total_cmp);
        configs.push(json!({
            "clients": c, "batch": b, "rounds": rounds,
            "json_tps": spread("json"), "binary_tps": spread("binary"),
            "ratio": {"min": ratios.first(), "median": ratios.get(ratios.len() / 2), "max": ratios.last()},
        }));
    }
    Ok(json!({ "configs": configs }))
}

struct Scale {
    bills: usize,
    cycles: usize,
    matrix_concurrency: Vec<usize>,
    matrix_batch: Vec<usize>,
    run: Duration,
    small: u64,
    large: u64,
    reference: (usize, usize),
    /// Bills and their cycles for the cluster phase.
    cluster_bills: usize,
    cluster_cycles: usize,
    /// Parties registered at each point of the proof phase (issue 32).
    proof_parties: Vec<usize>,
}

fn scale(quick: bool, large: Option<u64>, passes: usize) -> Scale {
    let mut s = base_scale(quick);
    if let Some(large) = large {
        s.large = large.max(s.small);
    }
    // Enough cycles for every bill to outlast the fill and the runs after it, with a fifth to spare,
    // and every pass's runs at the rate ceiling on top; a future costs nothing until it is signed.
    let measured_runs = (s.matrix_concurrency.len() * s.matrix_batch.len() + 4) * passes;
    let measured = workload::ahead_for(measured_runs as f64 * s.run.as_secs_f64(), s.bills) as u64;
    let per_bill = (s.large + s.large / 5) / s.bills as u64 + measured;
    s.cycles = s
        .cycles
        .max(usize::try_from(per_bill).unwrap_or(usize::MAX) / 6 + 1);
    s
}

fn base_scale(quick: bool) -> Scale {
    if quick {
        Scale {
            bills: 256,
            cycles: 23,
            matrix_concurrency: vec![1, 4],
            matrix_batch: vec![1, 16],
            run: Duration::from_secs(1),
            small: 2_000,
            large: 5_000,
            reference: (4, 16),
            cluster_bills: 128,
            cluster_cycles: 3,
            proof_parties: vec![10, 1_000],
        }
    } else {
        Scale {
            bills: 8192,
            cycles: 27,
            matrix_concurrency: vec![1, 4, 8, 16, 64],
            matrix_batch: vec![1, 16, 64, 128],
            run: Duration::from_secs(3),
            small: 10_000,
            large: 1_000_000,
            reference: (16, 128),
            cluster_bills: 2048,
            cluster_cycles: 8,
            proof_parties: vec![10, 1_000, 10_000, 100_000],
        }
    }
}

fn say(text: &str) {
    eprintln!("[{}] {text}", chrono_free_now());
}

fn chrono_free_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

fn head(url: &str) -> anyhow::Result<u64> {
    let mut response = agent().get(&format!("{url}/v1/head")).call()?;
    let head: serde_json::Value = response.body_mut().read_json()?;
    head["transactions"].as_u64().context("head transactions")
}

/// Submits already signed transactions in order, in batches.
fn submit_all(url: &str, txs: &[String], batch: usize) -> anyhow::Result<()> {
    let agent = agent();
    for chunk in txs.chunks(batch) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let (_, rejected) = post_batch(&agent, url, &refs)?;
        anyhow::ensure!(rejected == 0, "{rejected} setup transactions were refused");
    }
    Ok(())
}

/// Runs the reference configuration until the ledger holds `target` transactions, showing progress.
fn fill(
    url: &str,
    plans: &mut [BillPlan],
    (c, b): (usize, usize),
    target: u64,
) -> anyhow::Result<()> {
    let mut stored = head(url)?;
    let start = stored;
    while stored < target {
        let remaining = plans.iter().map(|p| p.remaining() as u64).sum::<u64>();
        anyhow::ensure!(
            remaining > 0,
            "the workload ran out at {stored} transactions"
        );
        let r = drive::run(url, plans, c, b, Duration::from_secs(5), target - stored)?;
        stored = head(url)?;
        say(&format!(
            "filling: {stored}/{target} transactions ({:.0}%), {:.0} tx/s",
            (stored - start) as f64 * 100.0 / (target - start).max(1) as f64,
            r.tps
        ));
    }
    Ok(())
}

/// Signs ahead, before a measured run's clock starts, what a run of `run` can send.
fn prepared(plans: &mut [BillPlan], run: Duration) {
    let started = Instant::now();
    let signed = workload::prepare(plans, workload::ahead_for(run.as_secs_f64(), plans.len()));
    if signed > 0 {
        say(&format!(
            "signed {signed} transactions ahead in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
}

/// `1M`, `10M`, `10k`: a transaction count as the targets name it.
fn count_name(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    crate::drive::percentile_of_sorted(&v, p)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let passes = args.passes.unwrap_or(if args.quick { 1 } else { 3 }).max(1);
    let s = scale(args.quick, args.large, passes);
    std::fs::create_dir_all(&args.out)?;
    let temp = tempfile::tempdir()?;
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| temp.path().join("node"));
    std::fs::create_dir_all(data.parent().unwrap_or(temp.path()))?;
    let node_bin = node_binary(args.node_bin.clone())?;
    let limit = machine_limit(data.parent().unwrap_or(temp.path()), args.quick)?;

    let cast = Cast::new();
    let wan_kills = args.wan_kills.unwrap_or(if args.quick { 2 } else { 20 });
    if args.wan_only {
        return wan_only(
            &args.out,
            &node_bin,
            temp.path(),
            &cast,
            &s,
            limit,
            wan_kills,
        );
    }
    let (mut node, mut work) = start_node(&node_bin, &data, &cast, &s)?;
    fill(&node.url, &mut work.plans, s.reference, s.small)?;
    if args.compare_wire {
        let wire = compare_wire(&node, &mut work.plans, s.run, limit.verify_limit_per_s)?;
        node.stop()?;
        return written(
            &args.out,
            "wire.json",
            &json!({"limit": limit, "stored_before": s.small, "run_seconds": s.run.as_secs_f64(), "wire": wire}),
        );
    }
    let small = small_store(&mut node, &mut work.plans, &s, passes)?;

    // Issue 32: the bank's bundle of the 50-event bill as the consortium admits parties, here at the
    // small store, and again after the fill to the large one.
    let proof_wallet = ebl_cli::wallet::Wallet::new(
        &temp.path().join("proof-wallet"),
        &node.url,
        ebl_cli::wallet::Passphrase::Given(String::new()),
    );
    let proof_dir = temp.path().join("proof");
    let ebl_bin = node_bin.with_file_name("ebl");
    let mut admissions = proof::Admissions::of_cast(&cast, work.chain);
    let proof_bench = proof::Bench {
        url: &node.url,
        chain: work.chain,
        bill: work.fifty,
        reader: &cast.shipper.key,
        wallet: &proof_wallet,
        ebl: &ebl_bin,
        dir: &proof_dir,
        passes,
    };
    let mut proof_points = proof_bench.phase(&mut admissions, &s.proof_parties)?;
    if args.proof_only {
        node.stop()?;
        return written(
            &args.out,
            "proof.json",
            &json!({"limit": limit, "reference_small": small.reference, "proof": proof_points}),
        );
    }

    let cluster = match args.cluster_nodes {
        0 | 1 => None,
        n => Some(cluster_phase(
            &node_bin,
            &temp.path().join("cluster"),
            n,
            &cast,
            &s,
            limit.cores,
        )?),
    };
    // 0 kills: no WAN phase.
    let wan = match wan_kills {
        0 => None,
        kills => wan::phase(&node_bin, &cast, &s, kills)?,
    };
    let runs = matrix(&node.url, &mut work.plans, &s, passes)?;
    let wire = compare_wire(&node, &mut work.plans, s.run, limit.verify_limit_per_s)?;
    let bank = bank_views(temp.path(), &node.url, work.fifty, &cast)?;
    let large = large_store(&node, &mut work.plans, &s, passes)?;
    let point = proof_bench.measure(admissions.parties, large.stored)?;
    say(&proof::show(&point));
    proof_points.push(point);
    node.stop()?;
    let disk = node.disk_bytes();
    say(&format!(
        "at {} stored: {:.0} tx/s, p99 {:.1} ms; node RSS {:.0} MiB; {:.0} bytes on disk per transaction",
        large.stored,
        large.reference.tps,
        large.reference.p99_ms,
        large.rss as f64 / 1048576.0,
        disk as f64 / large.stored as f64
    ));
    let verify_large = node.verify_timed()?;
    say(&verify_line(verify_large));

    let figures = figures::Figures {
        quick: args.quick,
        scale: &s,
        passes,
        limit,
        small,
        large,
        verify_large,
        disk,
        runs,
        bank,
        proof: proof_points,
        cluster,
        wan,
        wire,
    };
    figures.report(&args.out)
}

/// `--wan-only`: the loopback cluster and the WAN phase of one run, written to `out/wan.json`.
fn wan_only(
    out: &std::path::Path,
    node_bin: &std::path::Path,
    temp: &std::path::Path,
    cast: &Cast,
    s: &Scale,
    limit: limit::MachineLimit,
    kills: usize,
) -> anyhow::Result<()> {
    let cluster = cluster_phase(node_bin, &temp.join("cluster"), 3, cast, s, limit.cores)?;
    let wan = wan::phase(node_bin, cast, s, kills)?;
    let targets = figures::wan_targets(wan.as_ref(), Some(&cluster));
    figures::print(&targets);
    written(
        out,
        "wan.json",
        &json!({"limit": limit, "cluster": cluster, "wan": wan, "targets": targets}),
    )
}

/// The `ebl-node` to measure: the one given, or the one next to this benchmark.
fn node_binary(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let node_bin = match given {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("ebl-node"),
    };
    anyhow::ensure!(
        node_bin.exists(),
        "no ebl-node at {}: build it with `cargo build --release --bins`",
        node_bin.display()
    );
    Ok(node_bin)
}

/// Writes a phase's figures to `out/name` and says where.
fn written(out: &std::path::Path, name: &str, figures: &serde_json::Value) -> anyhow::Result<()> {
    std::fs::write(out.join(name), serde_json::to_vec_pretty(figures)?)?;
    println!("\nfigures in {}/{name}", out.display());
    Ok(())
}

/// The machine's own limit: verify_strict on one core and on all, fsync on the data disk.
fn machine_limit(probe_dir: &std::path::Path, quick: bool) -> anyhow::Result<limit::MachineLimit> {
    say("measuring the machine's limit: verify_strict on one core and on all, fsync on the data disk");
    let limit = limit::measure(
        probe_dir,
        if quick {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(2)
        },
    )?;
    say(&format!(
        "limit: verify_strict {:.0}/s on one core, {:.0}/s on {} cores (limit {:.0}/s); fsync {:.0}/s (p50 {:.2} ms)",
        limit.verify_per_s_one_core, limit.verify_per_s_all_cores, limit.cores, limit.verify_limit_per_s, limit.fsync_per_s, limit.fsync_p50_ms
    ));
    Ok(limit)
}

/// The single node's workload: its chain, every bill's plan, and the 50-event bill the bank's views
/// are measured on.
struct Work {
    chain: Hash,
    plans: Vec<BillPlan>,
    fifty: Hash,
}

/// Starts the node under test and submits the parties, the bills' issues and the 50-event bill.
fn start_node(
    node_bin: &std::path::Path,
    data: &std::path::Path,
    cast: &Cast,
    s: &Scale,
) -> anyhow::Result<(NodeUnderTest, Work)> {
    say(&format!(
        "the workload: {} bills x {} actions, each signed before the measured run that sends it",
        s.bills,
        s.cycles * 6 + 2
    ));
    let node = NodeUnderTest::init(node_bin, data, &PartyKey::of(&cast.operator).to_hex())?;
    let mut genesis_response = agent().get(&format!("{}/v1/genesis", node.url)).call()?;
    let genesis: serde_json::Value = genesis_response.body_mut().read_json()?;
    let chain: Hash = genesis["chain"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .context("chain id")?;
    let issues = workload::issues(cast, chain, "BENCH", s.bills + 1);
    let bill_ids: Vec<Hash> = issues.iter().map(|t| t.id()).collect();
    let plans = workload::plans(cast, chain, &bill_ids[1..], s.cycles, true);
    let mut fifty = workload::plan(cast, chain, bill_ids[0], 0, 9, false);
    submit_all(&node.url, &as_json(&cast.registrations(chain)), 64)?;
    submit_all(&node.url, &as_json(&issues), 512)?;
    let fifty_json: Vec<String> = fifty.take(49).into_iter().map(|t| t.json).collect();
    submit_all(&node.url, &fifty_json, 64)?;
    Ok((
        node,
        Work {
            chain,
            plans,
            fifty: bill_ids[0],
        },
    ))
}

/// Transactions as the node's API takes them, one JSON text each.
fn as_json<T: serde::Serialize>(txs: &[T]) -> Vec<String> {
    txs.iter()
        .map(|t| serde_json::to_string(t).unwrap_or_default())
        .collect()
}

/// `ebl-node verify`'s figures as the benchmark reports them.
fn verify_line((all_s, replay_s, n): (f64, f64, u64)) -> String {
    format!(
        "ebl-node verify at {n} transactions: {all_s:.2} s in all, replay {replay_s:.2} s ({:.0} tx/s)",
        n as f64 / replay_s
    )
}

/// What the small store measured: `ebl-node verify`, the reference runs, the node's CPU.
struct Small {
    verify: (f64, f64, u64),
    passes: Vec<RunResult>,
    reference: RunResult,
    cpu_us_per_tx: f64,
}

/// At the small store: `ebl-node verify` (the node stopped), then the reference configuration per pass.
fn small_store(
    node: &mut NodeUnderTest,
    plans: &mut [BillPlan],
    s: &Scale,
    passes: usize,
) -> anyhow::Result<Small> {
    node.stop()?;
    let verify = node.verify_timed()?;
    say(&verify_line(verify));
    node.start();
    let cpu_before = node.cpu_seconds().unwrap_or(0.0);
    let runs = reference_passes(&node.url, plans, s.reference, s.run + s.run, passes)?;
    let reference = median_run(&runs).context("no reference run")?;
    // Includes the signing ahead between passes, which the benchmark does in its own process.
    let cpu_us_per_tx = (node.cpu_seconds().unwrap_or(0.0) - cpu_before)
        / runs.iter().map(|r| r.transactions).sum::<u64>().max(1) as f64
        * 1e6;
    say(&format!(
        "at {} stored: {:.0} tx/s, p50 {:.1} ms, p99 {:.1} ms; node CPU {cpu_us_per_tx:.0} us per transaction",
        s.small, reference.tps, reference.p50_ms, reference.p99_ms
    ));
    Ok(Small {
        verify,
        passes: runs,
        reference,
        cpu_us_per_tx,
    })
}

/// The same workload on a cluster of member nodes, in the same run (the single node idles meanwhile):
/// every node verifies every signature and syncs every block itself.
fn cluster_phase(
    node_bin: &std::path::Path,
    dir: &std::path::Path,
    nodes: usize,
    cast: &Cast,
    s: &Scale,
    cores: usize,
) -> anyhow::Result<cluster::ClusterRun> {
    std::fs::create_dir_all(dir)?;
    let mut cluster =
        cluster::ClusterUnderTest::start(node_bin, dir, nodes, &PartyKey::of(&cast.operator))?;
    let leader = cluster.leader()?;
    let url = cluster.nodes[leader].url.clone();
    let chain = cluster.chain;
    let issues = workload::issues(cast, chain, "BENCH3", s.cluster_bills);
    let ids: Vec<Hash> = issues.iter().map(|t| t.id()).collect();
    let mut plans = workload::plans(cast, chain, &ids, s.cluster_cycles, true);
    submit_all(&url, &as_json(&cast.registrations(chain)), 64)?;
    submit_all(&url, &as_json(&issues), 256)?;
    prepared(&mut plans, s.run + s.run);
    let measured = cluster.measure(&mut plans, s.reference, s.run + s.run, cores)?;
    say(&format!(
        "{}-node cluster: {:.0} tx/s, p50 {:.1} ms, p99 {:.1} ms; CPU per transaction {}; one machine per node: about {:.0} tx/s",
        measured.nodes,
        measured.run.tps,
        measured.run.p50_ms,
        measured.run.p99_ms,
        measured
            .costs
            .iter()
            .map(|c| format!("{} {:.0} us", c.role, c.cpu_us_per_tx))
            .collect::<Vec<_>>()
            .join(", "),
        measured.one_machine_per_node_tps
    ));
    cluster.stop()?;
    Ok(measured)
}

/// Every configuration of clients and batch size, once per pass.
fn matrix(
    url: &str,
    plans: &mut [BillPlan],
    s: &Scale,
    passes: usize,
) -> anyhow::Result<Vec<RunResult>> {
    let mut runs: Vec<RunResult> = Vec::new();
    for pass in 0..passes {
        for &c in &s.matrix_concurrency {
            for &b in &s.matrix_batch {
                if plans.len() / c < b {
                    continue;
                }
                prepared(plans, s.run);
                let mut r = drive::run(url, plans, c, b, s.run, u64::MAX)?;
                r.pass = pass;
                say(&format!("pass {pass}: clients {c:>3}, batch {b:>4}: {:>8.0} tx/s  p50 {:>7.1} ms  p99 {:>7.1} ms  refused {}  signed during the run {}", r.tps, r.p50_ms, r.p99_ms, r.rejected, r.signed_during_run));
                runs.push(r);
            }
        }
    }
    Ok(runs)
}

/// The bank's views of the 50-event bill, in milliseconds: the online status call and the offline
/// bundle's verification.
struct BankViews {
    status_ms: Vec<f64>,
    bundle_ms: Vec<f64>,
}

fn bank_views(
    home: &std::path::Path,
    url: &str,
    bill: Hash,
    cast: &Cast,
) -> anyhow::Result<BankViews> {
    let wallet =
        ebl_cli::wallet::Wallet::new(home, url, ebl_cli::wallet::Passphrase::Given(String::new()));
    let client = ebl_cli::client::NodeClient::new(url);
    let mut status_ms = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        client
            .status(&bill, &cast.shipper.key)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        status_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let bundle = wallet
        .export(&bill, &cast.shipper.key)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut bundle_ms = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let verdict = bundle.verify().map_err(|e| anyhow::anyhow!("{e}"))?;
        bundle_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            verdict.transactions == 50,
            "the bundle's bill has {} events",
            verdict.transactions
        );
    }
    say(&format!(
        "50-event bundle: offline verification median {:.2} ms; online status call median {:.2} ms, p99 {:.2} ms",
        percentile(bundle_ms.clone(), 0.5),
        percentile(status_ms.clone(), 0.5),
        percentile(status_ms.clone(), 0.99)
    ));
    Ok(BankViews {
        status_ms,
        bundle_ms,
    })
}

/// What the large store measured while the node ran.
struct Large {
    passes: Vec<RunResult>,
    reference: RunResult,
    rss: u64,
    metrics: String,
    stored: u64,
}

/// Fills the store to the large size, then the reference configuration per pass, the node's memory
/// and its metrics.
fn large_store(
    node: &NodeUnderTest,
    plans: &mut [BillPlan],
    s: &Scale,
    passes: usize,
) -> anyhow::Result<Large> {
    fill(&node.url, plans, s.reference, s.large)?;
    let runs = reference_passes(&node.url, plans, s.reference, s.run + s.run, passes)?;
    let reference = median_run(&runs).context("no reference run")?;
    let rss = node.rss_bytes().unwrap_or(0);
    let metrics_url = node
        .metrics_url
        .clone()
        .context("the node names no metrics address")?;
    let mut metrics_response = agent().get(&metrics_url).call()?;
    let metrics = metrics_response.body_mut().read_to_string()?;
    Ok(Large {
        passes: runs,
        reference,
        rss,
        metrics,
        stored: head(&node.url)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tps: f64) -> RunResult {
        RunResult {
            concurrency: 1,
            batch: 1,
            transactions: 1,
            seconds: 1.0,
            tps,
            p50_ms: 1.0,
            p99_ms: 1.0,
            rejected: 0,
            signed_during_run: 0,
            pass: 0,
        }
    }

    /// The targets are judged on these: the median pass (of an odd count, as `--passes` defaults to),
    /// with the extremes beside it.
    #[test]
    fn a_spread_is_the_median_pass_with_its_extremes() {
        let s = Spread::of(vec![0.52, 0.46, 0.48]);
        assert_eq!((s.median, s.min, s.max), (0.48, 0.46, 0.52));
        assert_eq!(s.values, vec![0.52, 0.46, 0.48]);
        assert_eq!(s.show(100.0, 1, "%"), "48.0% (46.0-52.0, 3 passes)");
        let one = Spread::of(vec![0.9]);
        assert_eq!((one.median, one.min, one.max), (0.9, 0.9, 0.9));
        let runs = [run(9000.0), run(8000.0), run(9900.0)];
        assert_eq!(median_run(&runs).map(|r| r.tps), Some(9000.0));
        assert_eq!(median_run(&runs[..2]).map(|r| r.tps), Some(8000.0));
        assert!(median_run(&[]).is_none());
    }
}
