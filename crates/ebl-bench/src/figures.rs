//! What one run measured, held together once the node has stopped: the targets it is judged against,
//! the results file, and the table printed at the end.

use serde_json::{json, Value};

use crate::drive::RunResult;
use crate::{count_name, median_run, percentile, BankViews, Large, Scale, Small, Spread};

/// Every figure of a whole run.
pub(crate) struct Figures<'a> {
    pub(crate) quick: bool,
    pub(crate) scale: &'a Scale,
    pub(crate) passes: usize,
    pub(crate) limit: crate::limit::MachineLimit,
    pub(crate) small: Small,
    pub(crate) large: Large,
    /// `ebl-node verify` at the large store: seconds in all, of replay, transactions.
    pub(crate) verify_large: (f64, f64, u64),
    pub(crate) disk: u64,
    pub(crate) runs: Vec<RunResult>,
    pub(crate) bank: BankViews,
    pub(crate) proof: Vec<crate::proof::ProofPoint>,
    pub(crate) cluster: Option<crate::cluster::ClusterRun>,
    pub(crate) wan: Option<crate::wan::WanRun>,
    pub(crate) wire: Value,
}

/// The figures derived from several measurements, computed once for the targets and the results.
struct Derived {
    bests: Vec<RunResult>,
    best: Option<RunResult>,
    peak: Option<RunResult>,
    share: Spread,
    flatness: Spread,
    verify_small_rate: f64,
    verify_large_rate: f64,
}

fn target(name: &str, goal: &str, measured: String, met: bool) -> Value {
    json!({"target": name, "goal": goal, "measured": measured, "met": met})
}

impl Figures<'_> {
    fn derived(&self) -> Derived {
        // The headline: the best throughput whose p99 commit latency stays within the 50 ms target
        // ("at that load"); the absolute best, whatever its latency, is reported beside it. Each pass
        // has its own best; the headline is the median pass's, with the spread over passes.
        let candidates = || self.runs.iter().chain(&self.small.passes);
        let bests: Vec<RunResult> = (0..self.passes)
            .filter_map(|pass| {
                candidates()
                    .filter(|r| r.pass == pass && r.p99_ms <= 50.0)
                    .max_by(|a, b| a.tps.total_cmp(&b.tps))
                    .cloned()
            })
            .collect();
        let share = Spread::of(
            bests
                .iter()
                .map(|b| b.tps / self.limit.verify_limit_per_s)
                .collect(),
        );
        // Large against small, pass by pass.
        let flatness = Spread::of(
            self.small
                .passes
                .iter()
                .zip(&self.large.passes)
                .map(|(small, large)| large.tps / small.tps)
                .collect(),
        );
        // Replay rate: transactions over the replay loop's time, as `ebl-node verify` reports it; the
        // wall time (process start, opening sled, scanning every seal) is reported beside it.
        let rate = |(_, replay_s, n): (f64, f64, u64)| n as f64 / replay_s;
        Derived {
            best: median_run(&bests),
            peak: candidates().max_by(|a, b| a.tps.total_cmp(&b.tps)).cloned(),
            bests,
            share,
            flatness,
            verify_small_rate: rate(self.small.verify),
            verify_large_rate: rate(self.verify_large),
        }
    }

    fn disk_per_tx(&self) -> f64 {
        self.disk as f64 / self.large.stored as f64
    }

    /// Issue 18's and issue 32's targets, each with what was measured and whether it is met (the
    /// earlier ones, 35 % and 20 %, were met in November).
    pub(crate) fn targets(&self) -> anyhow::Result<Vec<Value>> {
        let d = self.derived();
        let (Some(proof_first), Some(proof_last)) = (self.proof.first(), self.proof.last()) else {
            anyhow::bail!("the proof phase measured nothing");
        };
        let (large_name, small_name) = (count_name(self.scale.large), count_name(self.scale.small));
        let best_tps = d.best.as_ref().map_or(0.0, |b| b.tps);
        let bundle_median = percentile(self.bank.bundle_ms.clone(), 0.5);
        let (small_rate, large_rate) = (d.verify_small_rate, d.verify_large_rate);
        Ok(vec![
            target(
                "share of the verify_strict limit (p99 <= 50 ms)",
                ">= 50%",
                format!(
                    "{} ({best_tps:.0} tx/s at {}x{})",
                    d.share.show(100.0, 1, "%"),
                    d.best.as_ref().map_or(0, |b| b.concurrency),
                    d.best.as_ref().map_or(0, |b| b.batch)
                ),
                d.share.median >= 0.5,
            ),
            target(
                "p99 commit latency at that load",
                "<= 50 ms",
                format!("{:.1} ms", d.best.as_ref().map_or(0.0, |b| b.p99_ms)),
                d.best.as_ref().is_some_and(|b| b.p99_ms <= 50.0),
            ),
            target(
                "offline verification, 50-event bundle",
                "<= 5 ms",
                format!("{bundle_median:.2} ms"),
                bundle_median <= 5.0,
            ),
            target(
                &format!(
                    "50-event bundle at {} parties, {}",
                    proof_last.parties,
                    count_name(proof_last.stored)
                ),
                "<= 100 KB",
                format!("{} bytes", proof_last.bundle_bytes),
                proof_last.bundle_bytes <= 100 * 1024,
            ),
            target(
                "its Bundle::verify there",
                "<= 20 ms",
                proof_last.verify_ms.show(1.0, 2, " ms"),
                proof_last.verify_ms.median <= 20.0,
            ),
            target(
                &format!(
                    "bundle there vs at {} parties, {}",
                    proof_first.parties,
                    count_name(proof_first.stored)
                ),
                "within 2x",
                format!(
                    "bytes x{:.2}, verify x{:.2}",
                    proof_last.bundle_bytes as f64 / proof_first.bundle_bytes as f64,
                    proof_last.verify_ms.median / proof_first.verify_ms.median
                ),
                proof_last.bundle_bytes <= 2 * proof_first.bundle_bytes
                    && proof_last.verify_ms.median <= 2.0 * proof_first.verify_ms.median,
            ),
            target(
                "the node's registry extract there",
                "< 50 ms",
                format!(
                    "{} (whole export {})",
                    proof_last.extract_ms.show(1.0, 2, " ms"),
                    proof_last.export_ms.show(1.0, 1, " ms")
                ),
                proof_last.extract_ms.median < 50.0,
            ),
            target(
                "replay rate",
                ">= 20000 tx/s",
                format!("{small_rate:.0} / {large_rate:.0} tx/s"),
                small_rate.min(large_rate) >= 20_000.0,
            ),
            target(
                &format!("replay at {large_name} vs {small_name}"),
                "within 10%",
                format!("{:+.0}%", (large_rate / small_rate - 1.0) * 100.0),
                large_rate >= 0.9 * small_rate,
            ),
            target(
                "bytes on disk per transaction",
                "<= 750",
                format!("{:.0}", self.disk_per_tx()),
                self.disk_per_tx() <= 750.0,
            ),
            target(
                &format!("throughput at {large_name} vs {small_name}"),
                "within 10%",
                format!("x{}", d.flatness.show(1.0, 2, "")),
                d.flatness.median >= 0.9,
            ),
            target(
                &format!("node RSS at {large_name}"),
                "reported",
                format!("{:.0} MiB", self.large.rss as f64 / 1_048_576.0),
                true,
            ),
        ])
    }

    /// [`wan_targets`] of this run.
    pub(crate) fn wan_targets(&self) -> Vec<Value> {
        wan_targets(self.wan.as_ref(), self.cluster.as_ref())
    }

    /// `results.json`: every figure, and the targets.
    pub(crate) fn results(&self, targets: &[Value]) -> Value {
        let d = self.derived();
        let verify = |(seconds, replay_seconds, n): (f64, f64, u64), rate: f64| json!({ "transactions": n, "seconds": seconds, "replay_seconds": replay_seconds, "tx_per_s": rate });
        let (bundle_ms, status_ms) = (&self.bank.bundle_ms, &self.bank.status_ms);
        json!({
            "machine": { "cores": self.limit.cores, "mode": if self.quick { "quick" } else { "full" } },
            "limit": self.limit,
            "reference_config": { "clients": self.scale.reference.0, "batch": self.scale.reference.1 },
            "reference_small": self.small.reference,
            "reference_large": self.large.reference,
            "passes": self.passes,
            "reference_small_passes": self.small.passes,
            "reference_large_passes": self.large.passes,
            "best_within_latency_passes": d.bests,
            "share_of_limit": d.share,
            "large_over_small": d.flatness,
            "runs": self.runs,
            "best_within_latency": d.best,
            "peak": d.peak,
            "verify_small": verify(self.small.verify, d.verify_small_rate),
            "verify_large": verify(self.verify_large, d.verify_large_rate),
            "bundle_verify_ms": { "median": percentile(bundle_ms.clone(), 0.5), "p99": percentile(bundle_ms.clone(), 0.99) },
            "proof": self.proof,
            "status_call_ms": { "median": percentile(status_ms.clone(), 0.5), "p99": percentile(status_ms.clone(), 0.99) },
            "stored_transactions": self.large.stored,
            "disk_bytes": self.disk,
            "disk_bytes_per_transaction": self.disk_per_tx(),
            "node_rss_bytes": self.large.rss,
            "node_metrics": self.large.metrics,
            "targets": targets,
            "single_node_cpu_us_per_tx": self.small.cpu_us_per_tx,
            "cluster": self.cluster,
            "wan": self.wan.as_ref().map(|w| json!({"figures": w, "targets": self.wan_targets()})),
            "wire": self.wire,
        })
    }
}

impl Figures<'_> {
    /// Writes `results.json` and the throughput plot to `out`, and prints the targets.
    pub(crate) fn report(&self, out: &std::path::Path) -> anyhow::Result<()> {
        let targets = self.targets()?;
        std::fs::write(
            out.join("results.json"),
            serde_json::to_vec_pretty(&self.results(&targets))?,
        )?;
        // The plot shows the first pass (the others repeat its configurations).
        let first_pass: Vec<RunResult> =
            self.runs.iter().filter(|r| r.pass == 0).cloned().collect();
        std::fs::write(out.join("throughput.svg"), crate::report::svg(&first_pass))?;
        print(&targets);
        let wan = self.wan_targets();
        if !wan.is_empty() {
            print(&wan);
        }
        println!(
            "\nresults in {}/results.json, plot in {}/throughput.svg",
            out.display(),
            out.display()
        );
        Ok(())
    }
}

/// Issue 35's targets at WAN latency, against the loopback cluster of the same run: throughput at
/// least half of it, p99 at most twice the round trip to the nearest member plus 100 ms (one client a
/// request at a time, and under the reference load), every leader kill under 3 s.
pub(crate) fn wan_targets(
    wan: Option<&crate::wan::WanRun>,
    cluster: Option<&crate::cluster::ClusterRun>,
) -> Vec<Value> {
    let Some(wan) = wan else {
        return Vec::new();
    };
    let loopback = cluster.map_or(0.0, |c| c.run.tps);
    let bound = 2.0 * wan.nearest_round_trip_ms as f64 + 100.0;
    vec![
        target(
            "WAN throughput vs loopback cluster",
            ">= 0.5x",
            format!(
                "x{:.2} ({:.0} / {loopback:.0} tx/s)",
                wan.run.tps / loopback.max(1.0),
                wan.run.tps
            ),
            wan.run.tps >= 0.5 * loopback,
        ),
        target(
            "WAN p99, one client",
            &format!("<= {bound:.0} ms"),
            format!(
                "{:.1} ms (p50 {:.1})",
                wan.sequential.p99_ms, wan.sequential.p50_ms
            ),
            wan.sequential.p99_ms <= bound,
        ),
        target(
            "WAN p99, reference load",
            &format!("<= {bound:.0} ms"),
            format!("{:.1} ms (p50 {:.1})", wan.run.p99_ms, wan.run.p50_ms),
            wan.run.p99_ms <= bound,
        ),
        every_kill_under(&wan.failovers, 3_000, "WAN failover, every kill"),
        every_kill_under(
            &wan.loopback_failovers,
            2_000,
            "loopback failover, every kill",
        ),
    ]
}

/// Whether every kill of `failovers` took less than `bound_ms`, as a target line.
fn every_kill_under(failovers: &[crate::wan::Failover], bound_ms: u64, name: &str) -> Value {
    let mut kills: Vec<u64> = failovers.iter().map(|f| f.ms).collect();
    kills.sort_unstable();
    let under = kills.iter().filter(|ms| **ms < bound_ms).count();
    target(
        name,
        &format!("< {bound_ms} ms"),
        format!(
            "{under} of {} under; median {} ms, slowest {} ms",
            kills.len(),
            kills.get(kills.len() / 2).copied().unwrap_or(0),
            kills.last().copied().unwrap_or(0)
        ),
        !kills.is_empty() && under == kills.len(),
    )
}

/// The targets as a table: goal, measured, met.
pub(crate) fn print(targets: &[Value]) {
    println!("\n{:<40} {:<14} {:<22} met", "target", "goal", "measured");
    for t in targets {
        println!(
            "{:<40} {:<14} {:<22} {}",
            t["target"].as_str().unwrap_or(""),
            t["goal"].as_str().unwrap_or(""),
            t["measured"].as_str().unwrap_or(""),
            if t["met"].as_bool() == Some(true) {
                "yes"
            } else {
                "NO"
            }
        );
    }
}
