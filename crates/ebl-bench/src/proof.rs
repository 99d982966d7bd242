//! The proof phase (issue 32): how a bank's bundle of a 50-event bill grows with the parties the
//! consortium has admitted and the transactions it has stored. Parties are admitted by governance in
//! batches (the operator's registrations, each naming the one before), then the bill is exported by the
//! real wallet and checked three ways: `Bundle::verify` in process, `ebl verify` as a process, and the
//! node's answer to the registry extract the export asks for.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use ebl_core::bundle::Bundle;
use ebl_core::{Action, Hash, PartyKey, PartyProfile, Role, Roles, SigningKey, TxId};
use serde::Serialize;

use crate::Spread;

/// Registrations per batch (the node takes at most 1024).
const ADMITTED_PER_BATCH: usize = 1000;

/// Timed repetitions of each check within a pass.
const REPEATS: usize = 5;

/// Admits parties by governance, counting from those already registered.
pub(crate) struct Admissions {
    chain: Hash,
    operator: SigningKey,
    /// The registry head the next registration names.
    head: TxId,
    /// Parties registered so far (the cast's among them).
    pub(crate) parties: usize,
}

impl Admissions {
    /// Admissions after the cast's registrations on `chain` (the operator admits).
    pub(crate) fn of_cast(cast: &ebl_core::testkit::Cast, chain: Hash) -> Admissions {
        let registrations = cast.registrations(chain);
        Admissions {
            chain,
            operator: cast.operator.clone(),
            head: registrations.last().map_or(chain, |t| t.id()),
            parties: registrations.len(),
        }
    }

    /// Admits traders until `target` parties are registered.
    pub(crate) fn up_to(&mut self, url: &str, target: usize) -> anyhow::Result<()> {
        while self.parties < target {
            let count = ADMITTED_PER_BATCH.min(target - self.parties);
            let batch: Vec<String> = (0..count)
                .map(|k| {
                    let i = self.parties + k;
                    let seed = Hash::of(format!("bench party {i}").as_bytes());
                    let tx = ebl_core::testkit::signed(
                        self.chain,
                        self.head,
                        now_ms(),
                        Action::RegisterParty {
                            key: PartyKey::of(&SigningKey::from_bytes(seed.as_bytes())),
                            profile: PartyProfile {
                                name: format!("Bench Trader {i}"),
                                roles: Roles::single(Role::Trader),
                                identifiers: Vec::new(),
                            },
                        },
                        &[&self.operator],
                    );
                    self.head = tx.id();
                    serde_json::to_string(&tx).unwrap_or_default()
                })
                .collect();
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            let (_, refused) = crate::drive::post_batch(&crate::drive::agent(), url, &refs)?;
            anyhow::ensure!(refused == 0, "{refused} registrations refused");
            self.parties += count;
        }
        Ok(())
    }
}

/// One point of the proof phase.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProofPoint {
    /// Parties registered.
    pub parties: usize,
    /// Transactions stored.
    pub stored: u64,
    /// The bundle's JSON bytes.
    pub bundle_bytes: usize,
    /// Registry entries it carries.
    pub registry_entries: usize,
    /// Registry entries proven.
    pub proven_entries: usize,
    /// `Bundle::verify`, in process (ms; the median of each pass).
    pub verify_ms: Spread,
    /// `ebl verify FILE` as a process, start to exit (ms).
    pub process_ms: Spread,
    /// The wallet's whole export: every read it makes of the node (ms).
    pub export_ms: Spread,
    /// The node's answer to the registry extract alone (ms).
    pub extract_ms: Spread,
}

/// What the phase needs of the run.
pub(crate) struct Bench<'a> {
    pub url: &'a str,
    pub chain: Hash,
    pub bill: Hash,
    pub reader: &'a SigningKey,
    pub wallet: &'a ebl_cli::wallet::Wallet,
    pub ebl: &'a Path,
    pub dir: &'a Path,
    pub passes: usize,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    crate::drive::percentile_of_sorted(&values, 0.5)
}

fn millis(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// One point, as the run's log shows it.
pub(crate) fn show(p: &ProofPoint) -> String {
    format!(
        "bundle at {} parties, {} stored: {} bytes, {} registry entries ({} proven); Bundle::verify {}; ebl verify {}; export {}; extract {}",
        p.parties,
        p.stored,
        p.bundle_bytes,
        p.registry_entries,
        p.proven_entries,
        p.verify_ms.show(1.0, 2, " ms"),
        p.process_ms.show(1.0, 1, " ms"),
        p.export_ms.show(1.0, 1, " ms"),
        p.extract_ms.show(1.0, 2, " ms"),
    )
}

impl Bench<'_> {
    /// Admits parties up to each of `targets` and measures the bill's bundle at each.
    pub(crate) fn phase(
        &self,
        admissions: &mut Admissions,
        targets: &[usize],
    ) -> anyhow::Result<Vec<ProofPoint>> {
        std::fs::create_dir_all(self.dir)?;
        anyhow::ensure!(
            self.ebl.exists(),
            "no ebl at {}: build it with `cargo build --release --bins`",
            self.ebl.display()
        );
        let mut points = Vec::new();
        for &target in targets {
            let t = Instant::now();
            admissions.up_to(self.url, target)?;
            crate::say(&format!(
                "{} parties registered ({:.1} s to admit)",
                admissions.parties,
                t.elapsed().as_secs_f64()
            ));
            let point = self.measure(admissions.parties, crate::head(self.url)?)?;
            crate::say(&show(&point));
            points.push(point);
        }
        Ok(points)
    }

    /// Measures the bill's bundle now.
    pub(crate) fn measure(&self, parties: usize, stored: u64) -> anyhow::Result<ProofPoint> {
        let client = ebl_cli::client::NodeClient::new(self.url);
        client.set_reader(self.reader);
        let home = self.dir.join("offline-bank");
        std::fs::create_dir_all(&home)?;
        let file = self.dir.join(format!("bundle-{parties}-{stored}.json"));
        let (mut verify, mut process, mut export, mut extract) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut bundle: Option<Bundle> = None;
        for _ in 0..self.passes {
            let mut times = Vec::new();
            for _ in 0..REPEATS {
                let t = Instant::now();
                let exported = self
                    .wallet
                    .export(&self.bill, self.reader)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                times.push(millis(t));
                bundle = Some(exported);
            }
            export.push(median(times));
            let exported = bundle.as_ref().context("no bundle")?;
            let proofs = exported
                .registry_proofs
                .as_ref()
                .context("the bundle carries no registry proofs: is the chain in format 8?")?;
            let mut times = Vec::new();
            for _ in 0..REPEATS {
                let parties = proofs.parties.iter().map(|p| p.party.id).collect();
                let blocks = proofs.heads_before.iter().map(|h| h.height).collect();
                let t = Instant::now();
                client
                    .registry_extract(
                        exported.statement.statement.height,
                        &parties,
                        &Default::default(),
                        &blocks,
                    )
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                times.push(millis(t));
            }
            extract.push(median(times));
            let mut times = Vec::new();
            for _ in 0..REPEATS {
                let t = Instant::now();
                let verdict = exported.verify().map_err(|e| anyhow::anyhow!("{e}"))?;
                times.push(millis(t));
                anyhow::ensure!(verdict.transactions == 50, "a bill of 50 events");
            }
            verify.push(median(times));
            std::fs::write(&file, serde_json::to_vec(exported)?)?;
            let mut times = Vec::new();
            for _ in 0..REPEATS {
                let t = Instant::now();
                let out = std::process::Command::new(self.ebl)
                    .args(["--json", "verify"])
                    .arg(&file)
                    .args(["--chain", &self.chain.to_hex()])
                    .env("EBL_HOME", &home)
                    .env("EBL_NODE", "http://127.0.0.1:9")
                    .output()?;
                times.push(millis(t));
                anyhow::ensure!(
                    out.status.success(),
                    "ebl verify: {}",
                    String::from_utf8_lossy(&out.stdout)
                );
            }
            process.push(median(times));
        }
        let bundle = bundle.context("no bundle")?;
        Ok(ProofPoint {
            parties,
            stored,
            bundle_bytes: serde_json::to_vec(&bundle)?.len(),
            registry_entries: bundle.registry.len(),
            proven_entries: bundle
                .registry_proofs
                .as_ref()
                .map_or(0, |p| p.parties.len() + 1),
            verify_ms: Spread::of(verify),
            process_ms: Spread::of(process),
            export_ms: Spread::of(export),
            extract_ms: Spread::of(extract),
        })
    }
}
