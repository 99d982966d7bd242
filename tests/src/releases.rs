//! Earlier releases' binaries, built by the tests from their commits: a consortium's rolling upgrade
//! runs the release before beside this one, as operators would.
//!
//! Each release is checked out into its own git worktree under `target/old-releases/` and built there
//! with a target directory of its own (its binaries have this release's names), once: a later run finds
//! the binaries and builds nothing. The build is offline in effect: a release since which no dependency
//! changed needs only the crates this build already fetched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The release before chain format 5 (and before governance could schedule a format, or the store had a
/// layout record): the last that landed before formats 5 and 6 came in together.
pub const BEFORE_FORMAT_5: &str = "b0079ae";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository")
}

/// The directory holding `ebl` and `ebl-node` as release `commit` built them, building them first if
/// this machine has not yet. Panics, saying why, when the commit is not in the clone (a shallow one) or
/// the build fails.
pub fn built(commit: &str) -> PathBuf {
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|p| p.into_inner());
    let root = repository();
    let home = root.join("target").join("old-releases").join(commit);
    let bins = home.join("target").join("debug");
    if bins.join("ebl-node").exists() && bins.join("ebl").exists() {
        return bins;
    }
    let source = home.join("source");
    if !source.join("Cargo.toml").exists() {
        let _ = std::fs::remove_dir_all(&source);
        std::fs::create_dir_all(&home).expect("old-releases directory");
        let added = Command::new("git")
            .args(["worktree", "add", "--force", "--detach"])
            .arg(&source)
            .arg(commit)
            .current_dir(&root)
            .output()
            .expect("run git");
        assert!(
            added.status.success(),
            "checking out release {commit} (a full clone is needed: `git fetch --unshallow`): {}",
            String::from_utf8_lossy(&added.stderr)
        );
    }
    let status = Command::new(env!("CARGO"))
        .args([
            "build", "--locked", "--bins", "-p", "ebl-node", "-p", "ebl-cli",
        ])
        .env("CARGO_TARGET_DIR", home.join("target"))
        // Built once and only run: neither full debug information nor incremental state is worth its disk.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        .current_dir(&source)
        .status()
        .expect("run cargo");
    assert!(status.success(), "building release {commit} failed");
    bins
}
