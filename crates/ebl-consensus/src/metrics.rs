//! Prometheus metrics: transactions accepted and rejected by code, block commit latency, fsync time,
//! and a consortium member's Raft state (term, elections, role, each peer's replication lag).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    total: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.total.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros(d), Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let total = self.total.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {total}");
    }
}

/// The node's counters and gauges, rendered for Prometheus.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    blocks: AtomicU64,
    rejected: Mutex<BTreeMap<String, u64>>,
    /// Signed PINT answers given, by response code.
    pint_answers: Mutex<BTreeMap<&'static str, u64>>,
    commit: Histogram,
    fsync: Histogram,
    /// Microseconds the sequencer spent in each phase: where the time goes.
    phases: Mutex<BTreeMap<&'static str, u64>>,
    /// A consortium member's Raft state as last observed (`None`: a one-member chain's node).
    raft: Mutex<Option<RaftGauges>>,
    /// Terms this node has seen begin since it started: each is an election.
    elections: AtomicU64,
}

/// A consortium member's Raft state, as the metrics show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaftGauges {
    /// The term.
    pub term: u64,
    /// Whether this node leads.
    pub leader: bool,
    /// For a leader: log entries each peer lacks, by its Raft id.
    pub lag: BTreeMap<u64, u64>,
}

impl Metrics {
    /// Counts a committed block of `accepted` transactions and its time.
    pub fn block_committed(&self, accepted: usize, took: Duration) {
        self.accepted.fetch_add(accepted as u64, Ordering::Relaxed);
        if accepted > 0 {
            self.blocks.fetch_add(1, Ordering::Relaxed);
            self.commit.observe(took);
        }
    }

    /// Records one sync's time.
    pub fn synced(&self, took: Duration) {
        self.fsync.observe(took);
        self.phase("sync", took);
    }

    /// Adds time spent by the sequencer in `phase` (apply, write, sync, publish).
    pub fn phase(&self, phase: &'static str, took: Duration) {
        if let Ok(mut map) = self.phases.lock() {
            *map.entry(phase).or_default() += micros(took);
        }
    }

    /// Counts a refused transaction by its code.
    pub fn rejected(&self, code: &str) {
        if let Ok(mut map) = self.rejected.lock() {
            *map.entry(code.to_owned()).or_default() += 1;
        }
    }

    /// Counts a PINT answer by its code.
    pub fn pint_answer(&self, code: &'static str) {
        if let Ok(mut map) = self.pint_answers.lock() {
            *map.entry(code).or_default() += 1;
        }
    }

    /// The member's Raft state now; a term above the last one observed counts as an election.
    pub fn raft(&self, now: RaftGauges) {
        if let Ok(mut last) = self.raft.lock() {
            if last.as_ref().is_some_and(|l| now.term > l.term) {
                self.elections.fetch_add(1, Ordering::Relaxed);
            }
            *last = Some(now);
        }
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP ebl_transactions_accepted_total Transactions accepted and durable.\n# TYPE ebl_transactions_accepted_total counter\nebl_transactions_accepted_total {}",
            self.accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ebl_transactions_rejected_total Transactions refused, by rule code.\n# TYPE ebl_transactions_rejected_total counter"
        );
        if let Ok(map) = self.rejected.lock() {
            for (code, n) in map.iter() {
                let _ = writeln!(
                    out,
                    "ebl_transactions_rejected_total{{code=\"{code}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ebl_pint_answers_total Signed PINT answers to sending platforms, by response code.\n# TYPE ebl_pint_answers_total counter"
        );
        if let Ok(map) = self.pint_answers.lock() {
            for (code, n) in map.iter() {
                let _ = writeln!(out, "ebl_pint_answers_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP ebl_blocks_total Blocks committed.\n# TYPE ebl_blocks_total counter\nebl_blocks_total {}",
            self.blocks.load(Ordering::Relaxed)
        );
        self.commit.render(
            "ebl_block_commit_seconds",
            "Time from closing a block to its durable commit, ordering included.",
            &mut out,
        );
        self.fsync.render(
            "ebl_fsync_seconds",
            "Time to make one block durable (flush and fsync).",
            &mut out,
        );
        let _ = writeln!(
            out,
            "# HELP ebl_sequencer_seconds_total Time the sequencer spent, by phase.\n# TYPE ebl_sequencer_seconds_total counter"
        );
        if let Ok(map) = self.phases.lock() {
            for (phase, micros) in map.iter() {
                let _ = writeln!(
                    out,
                    "ebl_sequencer_seconds_total{{phase=\"{phase}\"}} {}",
                    *micros as f64 / 1e6
                );
            }
        }
        if let Ok(Some(raft)) = self.raft.lock().as_deref() {
            let _ = writeln!(
                out,
                "# HELP ebl_raft_term The Raft term this member's node is in.\n# TYPE ebl_raft_term gauge\nebl_raft_term {}",
                raft.term
            );
            let _ = writeln!(
                out,
                "# HELP ebl_raft_elections_total Terms begun since this node started (each an election).\n# TYPE ebl_raft_elections_total counter\nebl_raft_elections_total {}",
                self.elections.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                out,
                "# HELP ebl_raft_leader Whether this node leads (1) or not (0).\n# TYPE ebl_raft_leader gauge\nebl_raft_leader {}",
                u8::from(raft.leader)
            );
            let _ = writeln!(
                out,
                "# HELP ebl_raft_peer_lag_entries For a leader: Raft log entries each peer lacks.\n# TYPE ebl_raft_peer_lag_entries gauge"
            );
            for (peer, lag) in &raft.lag {
                let _ = writeln!(out, "ebl_raft_peer_lag_entries{{peer=\"{peer}\"}} {lag}");
            }
        }
        out
    }
}

/// A duration in whole microseconds (saturating: half a million years do not fit a u64 of them).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
