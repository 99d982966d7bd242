//! The node under test: a real `ebl-node` process (the release build next to this benchmark), run by
//! the integration suites' own harness (`ebl_tests::NodeProcess`, which also reads its CPU time, memory
//! and disk); this module adds only what a benchmark does differently: errors it reports instead of
//! test panics, and a timed `verify`.

use std::path::Path;
use std::time::Instant;

use ebl_tests::NodeProcess;

/// A node process the benchmark drives.
#[derive(Debug)]
pub(crate) struct NodeUnderTest(NodeProcess);

impl std::ops::Deref for NodeUnderTest {
    type Target = NodeProcess;

    fn deref(&self) -> &NodeProcess {
        &self.0
    }
}

/// Runs `binary` with `args`, refusing a non-zero exit.
fn ebl_node(binary: &Path, args: &[&str]) -> anyhow::Result<String> {
    let run = ebl_tests::run(binary, args, &[]);
    anyhow::ensure!(
        run.code == 0,
        "ebl-node {} failed: {}",
        args.first().copied().unwrap_or_default(),
        run.stderr.trim()
    );
    Ok(run.stdout)
}

impl NodeUnderTest {
    /// `ebl-node init` of a one-member chain with `operator_hex` as its operator, then started on any
    /// free port.
    pub(crate) fn init(
        binary: &Path,
        data: &Path,
        operator_hex: &str,
    ) -> anyhow::Result<NodeUnderTest> {
        let data_arg = data.to_string_lossy().into_owned();
        ebl_node(
            binary,
            &[
                "init",
                "--chain-name",
                "bench",
                "--operator",
                operator_hex,
                "--data",
                &data_arg,
            ],
        )?;
        let mut node = NodeUnderTest(NodeProcess::of_binary(binary, data, "127.0.0.1:0"));
        node.start();
        Ok(node)
    }

    /// A cluster member's node: initialised from `genesis`, serving at its peer address `listen`.
    pub(crate) fn member(
        binary: &Path,
        data: &Path,
        genesis: &Path,
        listen: &str,
    ) -> anyhow::Result<NodeUnderTest> {
        let (data_arg, genesis_arg) = (data.to_string_lossy(), genesis.to_string_lossy());
        ebl_node(
            binary,
            &["init", "--genesis", &genesis_arg, "--data", &data_arg],
        )?;
        let mut node = NodeUnderTest(NodeProcess::of_binary(binary, data, listen));
        node.start();
        Ok(node)
    }

    /// Starts the process again (after `stop`).
    pub(crate) fn start(&mut self) {
        self.0.start();
    }

    /// The graceful stop: SIGTERM, and the node must exit cleanly.
    pub(crate) fn stop(&mut self) -> anyhow::Result<()> {
        if self.0.is_running() {
            let code = self.0.terminate();
            anyhow::ensure!(code == 0, "the node exited with {code}");
        }
        Ok(())
    }

    /// Times `ebl-node verify`; returns (wall seconds, replay seconds as verify reports them,
    /// transactions replayed).
    pub(crate) fn verify_timed(&self) -> anyhow::Result<(f64, f64, u64)> {
        let started = Instant::now();
        let run = self.0.verify();
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(run.code == 0, "verify failed: {}", run.stdout);
        let verdict: serde_json::Value = serde_json::from_str(run.stdout.trim())?;
        Ok((
            seconds,
            verdict["report"]["replay_seconds"]
                .as_f64()
                .unwrap_or(seconds),
            verdict["report"]["transactions"].as_u64().unwrap_or(0),
        ))
    }
}
