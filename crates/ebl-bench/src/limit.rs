//! The machine's own limit: how fast this CPU checks signatures with `verify_strict`, and how fast the
//! data directory's disk makes a write durable.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use ebl_core::keys::{sign_in_context, verify_in_context};
use ebl_core::transaction::TRANSACTION_CONTEXT;
use ebl_core::{testkit, PartyKey};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct MachineLimit {
    pub cores: usize,
    /// `verify_strict` per second on one core.
    pub verify_per_s_one_core: f64,
    /// Measured with one thread per core, for comparison.
    pub verify_per_s_all_cores: f64,
    /// The limit the targets refer to: the one-core rate times the cores.
    pub verify_limit_per_s: f64,
    /// 4 KiB appends with `fdatasync` per second on the data directory's disk.
    pub fsync_per_s: f64,
    pub fsync_p50_ms: f64,
}

/// Verifies realistic transaction-sized messages in a loop for `run`, on `threads` threads.
fn verify_rate(threads: usize, run: Duration) -> f64 {
    let key = testkit::key(9);
    let public = PartyKey::of(&key);
    let chain = [7u8; 32];
    let samples: Vec<(Vec<u8>, ebl_core::SignatureBytes)> = (0..64u8)
        .map(|i| {
            let body = vec![i; 150];
            let sig = sign_in_context(&key, TRANSACTION_CONTEXT, &chain, &body);
            (body, sig)
        })
        .collect();
    let total: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let samples = &samples;
                s.spawn(move || {
                    let started = Instant::now();
                    let mut n = 0u64;
                    while started.elapsed() < run {
                        for (body, sig) in samples {
                            assert!(verify_in_context(
                                &public,
                                TRANSACTION_CONTEXT,
                                &chain,
                                body,
                                sig
                            ));
                        }
                        n += samples.len() as u64;
                    }
                    n as f64 / started.elapsed().as_secs_f64()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(0.0))
            .sum::<f64>()
    });
    total
}

/// Appends 4 KiB and `fdatasync`s, over and over, in `dir`.
fn fsync_rate(dir: &Path, run: Duration) -> std::io::Result<(f64, f64)> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let block = vec![0x5au8; 4096];
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < run {
        let t = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let rate = times.len() as f64 / started.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let p50 = times.get(times.len() / 2).copied().unwrap_or(0.0);
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok((rate, p50))
}

pub(crate) fn measure(dir: &Path, run: Duration) -> std::io::Result<MachineLimit> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = verify_rate(1, run);
    let all = verify_rate(cores, run);
    let (fsync_per_s, fsync_p50_ms) = fsync_rate(dir, run)?;
    Ok(MachineLimit {
        cores,
        verify_per_s_one_core: one,
        verify_per_s_all_cores: all,
        verify_limit_per_s: one * cores as f64,
        fsync_per_s,
        fsync_p50_ms,
    })
}
