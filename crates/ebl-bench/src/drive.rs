//! Driving a node over HTTP: concurrent clients, each sending batches of pre-signed transactions.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::workload::BillPlan;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunResult {
    pub concurrency: usize,
    pub batch: usize,
    pub transactions: u64,
    pub seconds: f64,
    /// Durable, acknowledged transactions per second.
    pub tps: f64,
    /// Commit latency as the client sees it: from sending a batch to its acknowledgement.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rejected: u64,
    /// Transactions the clients had to sign during the run because none was ready: 0 in a measured run
    /// (whose workload is prepared before its clock starts), or the figure shared the machine with
    /// signing.
    pub signed_during_run: u64,
    /// Which measured pass the run belongs to (the matrix and the reference runs are measured
    /// `--passes` times, for the spread).
    pub pass: usize,
}

#[derive(Deserialize)]
struct Light {
    results: Vec<LightOutcome>,
}

#[derive(Deserialize)]
struct LightOutcome {
    status: String,
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// How a batch travels: JSON, or the canonical codec's bytes (`ebl_core::wire`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Wire {
    Json,
    Binary,
}

/// Posts one binary batch of pre-encoded transactions; returns (accepted, rejected).
pub(crate) fn post_batch_binary(
    agent: &ureq::Agent,
    url: &str,
    txs: &[&[u8]],
) -> anyhow::Result<(u64, u64)> {
    let body = ebl_core::wire::encode_batch_of_encoded(txs.iter().copied());
    let mut response = agent
        .post(&format!("{url}/v1/batches"))
        .header("content-type", ebl_core::wire::BATCH_MEDIA_TYPE)
        .send(&body[..])?;
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_vec()?;
    if status != 200 {
        anyhow::bail!(
            "binary batch answered {status}: {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(300)
                .collect::<String>()
        );
    }
    let outcomes = ebl_core::wire::decode_receipts(&bytes, txs.len())?;
    let accepted = outcomes
        .iter()
        .filter(|o| matches!(o, ebl_core::api::SubmitOutcome::Accepted { .. }))
        .count() as u64;
    Ok((accepted, outcomes.len() as u64 - accepted))
}

/// Posts one batch; returns (accepted, rejected).
pub(crate) fn post_batch(
    agent: &ureq::Agent,
    url: &str,
    txs: &[&str],
) -> anyhow::Result<(u64, u64)> {
    let mut body = String::with_capacity(txs.iter().map(|t| t.len() + 1).sum::<usize>() + 20);
    body.push_str("{\"transactions\":[");
    for (i, tx) in txs.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(tx);
    }
    body.push_str("]}");
    let mut response = agent
        .post(&format!("{url}/v1/batches"))
        .header("content-type", "application/json")
        .send(body.as_bytes())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_string()?;
    if status != 200 {
        anyhow::bail!(
            "batch answered {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    let light: Light = serde_json::from_str(&text)?;
    let accepted = light
        .results
        .iter()
        .filter(|r| r.status == "accepted")
        .count() as u64;
    Ok((accepted, light.results.len() as u64 - accepted))
}

/// Runs `concurrency` clients, each owning a disjoint share of the bills, sending batches of `batch`
/// transactions (one per bill, so a batch never conflicts with itself), until `duration` has passed or
/// `budget` transactions were sent.
pub(crate) fn run(
    url: &str,
    plans: &mut [BillPlan],
    concurrency: usize,
    batch: usize,
    duration: Duration,
    budget: u64,
) -> anyhow::Result<RunResult> {
    run_over(
        url,
        plans,
        (concurrency, batch),
        duration,
        budget,
        Wire::Json,
    )
}

/// [`run`] with batches sent as `wire` says.
pub(crate) fn run_over(
    url: &str,
    plans: &mut [BillPlan],
    (concurrency, batch): (usize, usize),
    duration: Duration,
    budget: u64,
    wire: Wire,
) -> anyhow::Result<RunResult> {
    let share = plans.len() / concurrency;
    anyhow::ensure!(
        share >= batch,
        "{} bills cannot feed {concurrency} clients with batches of {batch}",
        plans.len()
    );
    let per_client_budget = budget / concurrency as u64;
    let late_before: u64 = plans.iter().map(|p| p.signed_late).sum();
    let started = Instant::now();
    let results: Vec<anyhow::Result<(u64, u64, Vec<f64>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = plans
            .chunks_mut(share)
            .take(concurrency)
            .map(|mine| {
                s.spawn(move || {
                    let agent = agent();
                    let (mut accepted, mut rejected, mut latencies) = (0u64, 0u64, Vec::new());
                    let mut cursor = 0usize;
                    while started.elapsed() < duration && accepted + rejected < per_client_budget {
                        // The next `batch` bills that still have transactions, round robin.
                        let mut picked = Vec::with_capacity(batch);
                        for step in 0..mine.len() {
                            if picked.len() == batch {
                                break;
                            }
                            let i = (cursor + step) % mine.len();
                            if mine[i].ensure_next() {
                                picked.push(i);
                            }
                        }
                        if picked.is_empty() {
                            break;
                        }
                        cursor = (picked.last().copied().unwrap_or(0) + 1) % mine.len();
                        let sent: Vec<&crate::workload::Signed> =
                            picked.iter().filter_map(|i| mine[*i].next()).collect();
                        let t = Instant::now();
                        let (a, r) = match wire {
                            Wire::Json => {
                                let bodies: Vec<&str> =
                                    sent.iter().map(|t| t.json.as_str()).collect();
                                post_batch(&agent, url, &bodies)?
                            }
                            Wire::Binary => {
                                let bodies: Vec<&[u8]> =
                                    sent.iter().map(|t| t.binary.as_slice()).collect();
                                post_batch_binary(&agent, url, &bodies)?
                            }
                        };
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                        accepted += a;
                        rejected += r;
                        for i in picked {
                            mine[i].advance();
                        }
                    }
                    Ok((accepted, rejected, latencies))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("client panicked")))
            })
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let signed_during_run = plans.iter().map(|p| p.signed_late).sum::<u64>() - late_before;
    let (mut accepted, mut rejected, mut latencies) = (0, 0, Vec::new());
    for r in results {
        let (a, rj, l) = r?;
        accepted += a;
        rejected += rj;
        latencies.extend(l);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| percentile_of_sorted(&latencies, p);
    Ok(RunResult {
        concurrency,
        batch,
        transactions: accepted,
        seconds,
        tps: accepted as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        rejected,
        signed_during_run,
        pass: 0,
    })
}

/// The `p` quantile (0 to 1) of sorted samples, by nearest rank; 0 when there are none.
#[allow(
    clippy::cast_possible_truncation,
    reason = "a rank between 0 and the sample count, rounded"
)]
pub(crate) fn percentile_of_sorted(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round().max(0.0) as usize;
    sorted.get(rank).copied().unwrap_or(0.0)
}
