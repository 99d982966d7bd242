//! The node built with a leader that lies (`ebl-node --features lying-leader`, `cluster::lie`), for the
//! tests that show with real processes what one lying node can and cannot do. Built once, into a target
//! directory of its own, so the ordinary `ebl-node` the other tests run is never replaced by it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The lying build of `ebl-node`, building it first if this machine has not yet.
pub fn lying_node() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .canonicalize()
                .expect("the repository");
            let target = root.join("target").join("lying-leader");
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--locked",
                    "--bin",
                    "ebl-node",
                    "-p",
                    "ebl-node",
                    "--features",
                    "lying-leader",
                ])
                .env("CARGO_TARGET_DIR", &target)
                // Built once and only run: neither full debug information nor incremental state is worth its disk.
                .env("CARGO_PROFILE_DEV_DEBUG", "false")
                .env("CARGO_INCREMENTAL", "0")
                .current_dir(&root)
                .status()
                .expect("run cargo");
            assert!(status.success(), "building the lying node failed");
            target.join("debug").join("ebl-node")
        })
        .clone()
}
