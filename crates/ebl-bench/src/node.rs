//! The node under test: a real `ebl-node` process (the release build next to this benchmark).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::Context;

#[derive(Debug)]
pub(crate) struct NodeUnderTest {
    pub binary: PathBuf,
    pub data: PathBuf,
    pub url: String,
    /// The node's Prometheus metrics, served apart from the API.
    pub metrics_url: String,
    /// Where it listens: any free port, or a cluster member's peer address.
    pub listen: String,
    child: Option<Child>,
}

impl NodeUnderTest {
    pub(crate) fn init(
        binary: &Path,
        data: &Path,
        operator_hex: &str,
    ) -> anyhow::Result<NodeUnderTest> {
        let status = Command::new(binary)
            .args([
                "init",
                "--chain-name",
                "bench",
                "--operator",
                operator_hex,
                "--data",
            ])
            .arg(data)
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("running {}", binary.display()))?;
        anyhow::ensure!(status.success(), "ebl-node init failed");
        let mut node = NodeUnderTest {
            binary: binary.to_owned(),
            data: data.to_owned(),
            url: String::new(),
            metrics_url: String::new(),
            listen: "127.0.0.1:0".into(),
            child: None,
        };
        node.start()?;
        Ok(node)
    }

    /// A cluster member's node: initialised from `genesis`, serving at its peer address `listen`.
    pub(crate) fn member(
        binary: &Path,
        data: &Path,
        genesis: &Path,
        listen: &str,
    ) -> anyhow::Result<NodeUnderTest> {
        let status = Command::new(binary)
            .args(["init", "--genesis"])
            .arg(genesis)
            .arg("--data")
            .arg(data)
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("running {}", binary.display()))?;
        anyhow::ensure!(status.success(), "ebl-node init --genesis failed");
        let mut node = NodeUnderTest {
            binary: binary.to_owned(),
            data: data.to_owned(),
            url: String::new(),
            metrics_url: String::new(),
            listen: listen.to_owned(),
            child: None,
        };
        node.start()?;
        Ok(node)
    }

    /// CPU time the node process has used so far (user and system), in seconds.
    pub(crate) fn cpu_seconds(&self) -> Option<f64> {
        let pid = self.child.as_ref()?.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        // Clock ticks: 100 per second on Linux (USER_HZ), which /proc reports in.
        Some((utime + stime) / 100.0)
    }

    pub(crate) fn start(&mut self) -> anyhow::Result<()> {
        let mut child = Command::new(&self.binary)
            .args(["run", "--listen", &self.listen, "--log-level", "warn"])
            .args(["--metrics-listen", "127.0.0.2:0", "--data"])
            .arg(&self.data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        // "listening on URL metrics on METRICS_URL"
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["listening", "on", url, "metrics", "on", metrics] = words[..] else {
            anyhow::bail!("unexpected first line from ebl-node: {line:?}");
        };
        self.url = url.to_owned();
        self.metrics_url = metrics.to_owned();
        self.child = Some(child);
        Ok(())
    }

    /// Resident memory of the node process, in bytes.
    pub(crate) fn rss_bytes(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Graceful stop.
    pub(crate) fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status()?;
            let status = child.wait()?;
            anyhow::ensure!(status.success(), "the node exited with {status}");
        }
        Ok(())
    }

    /// Times `ebl-node verify`; returns (wall seconds, replay seconds as verify reports them,
    /// transactions replayed).
    pub(crate) fn verify(&self) -> anyhow::Result<(f64, f64, u64)> {
        let started = Instant::now();
        let out = Command::new(&self.binary)
            .args(["verify", "--json", "--data"])
            .arg(&self.data)
            .output()?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            out.status.success(),
            "verify failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let verdict: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        Ok((
            seconds,
            verdict["report"]["replay_seconds"]
                .as_f64()
                .unwrap_or(seconds),
            verdict["report"]["transactions"].as_u64().unwrap_or(0),
        ))
    }

    /// Bytes of the node's data directory on disk (the sum of its files' sizes).
    pub(crate) fn disk_bytes(&self) -> u64 {
        fn walk(dir: &Path) -> u64 {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => walk(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        // The whole data directory: sled's files, the transaction log, the witness, the keys.
        walk(&self.data)
    }
}

impl Drop for NodeUnderTest {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
