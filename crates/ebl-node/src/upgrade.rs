//! `ebl-node upgrade`: a stopped node's data directory rewritten in this release's store layout, beside
//! the old one, which is kept as the way back until the operator removes it.
//!
//! Every release opens older layouts in place, so an upgrade is never required; it leaves a store with
//! nothing of the old layouts in it (no slot-less state records, no id-index records the store no longer
//! reads) and the layout record. It is a restore of the directory's own backup, so the new store is
//! verified from its genesis before anything is moved, and then two renames: `DIR` becomes
//! `DIR.previous-layout-N`, and `DIR.upgrading` becomes `DIR`. A kill at any moment leaves the old
//! directory intact at `DIR`, or the new one complete at `DIR.upgrading` with the old one at
//! `DIR.previous-layout-N` (between the two renames): the next `ebl-node upgrade` finishes that, and
//! throws away anything half-built.

use std::path::{Path, PathBuf};

use ebl_store::{LedgerStore, SledKv, StoreError, STORE_LAYOUT};
use serde::{Deserialize, Serialize};

use crate::backup::{restore, write_backup, BackupError};
use crate::node::DataDir;

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "upgrade", rename_all = "snake_case")]
pub enum Upgraded {
    /// The store was already in this release's layout: nothing was changed.
    Current {
        /// The layout.
        layout: u16,
    },
    /// An upgrade killed between its two renames was finished: the new directory, complete and
    /// verified before, put in place.
    Finished {
        /// Its layout.
        layout: u16,
    },
    /// Rewritten; the old directory kept at `previous`.
    Rewritten {
        /// The old layout.
        from: u16,
        /// This release's.
        to: u16,
        /// Blocks carried over.
        height: u64,
        /// Where the old directory is (remove it once the node runs well on the new one).
        previous: String,
    },
}

/// Where the new directory is built, beside `dir`.
fn upgrading(dir: &Path) -> PathBuf {
    sibling(dir, ".upgrading")
}

/// Where the old directory is kept, beside `dir`.
fn previous(dir: &Path, layout: u16) -> PathBuf {
    sibling(dir, &format!(".previous-layout-{layout}"))
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(format!("{}: {e}", what.display()))
}

/// Upgrades the stopped node's data directory `dir` to this release's store layout (see the module
/// documentation); `now_ms` stamps the backup the new store is made from.
pub fn upgrade(dir: &DataDir, now_ms: u64) -> Result<Upgraded, BackupError> {
    let building = upgrading(&dir.0);
    if !dir.0.exists() {
        // Killed between the two renames: the new directory is complete (it was verified before the
        // first rename), the old one is kept; finish.
        if building.exists() {
            std::fs::rename(&building, &dir.0).map_err(io(&dir.0))?;
            crate::backup::sync_parent(&dir.0)?;
            let layout = layout_of(dir)?;
            return Ok(Upgraded::Finished { layout });
        }
        return Err(BackupError::Io(format!(
            "{} does not exist",
            dir.0.display()
        )));
    }
    if building.exists() {
        // A build killed before it was renamed into place: nobody's; the old directory is intact.
        std::fs::remove_dir_all(&building).map_err(io(&building))?;
    }
    let from = layout_of(dir)?;
    if from >= STORE_LAYOUT {
        return Ok(Upgraded::Current { layout: from });
    }
    let kept = previous(&dir.0, from);
    if kept.exists() {
        return Err(BackupError::TargetNotEmpty(kept));
    }
    let backup = sibling(&dir.0, ".upgrading.backup");
    if backup.exists() {
        std::fs::remove_file(&backup).map_err(io(&backup))?;
    }
    let height = {
        let store = open(dir)?;
        write_backup(&store, dir, &backup, now_ms)?.height
    };
    let restored = restore(&backup, &building);
    let _ = std::fs::remove_file(&backup);
    restored?;
    // The Raft log of a consortium member goes along as it is (a backup does not hold it).
    let raft = dir.0.join("raft");
    if raft.is_dir() {
        copy_tree(&raft, &building.join("raft"))?;
        crate::backup::sync_tree(&building)?;
    }
    std::fs::rename(&dir.0, &kept).map_err(io(&kept))?;
    crate::backup::sync_parent(&kept)?;
    std::fs::rename(&building, &dir.0).map_err(io(&dir.0))?;
    crate::backup::sync_parent(&dir.0)?;
    Ok(Upgraded::Rewritten {
        from,
        to: STORE_LAYOUT,
        height,
        previous: kept.display().to_string(),
    })
}

/// The store in `dir`, sealed with its node key, to read.
fn open(dir: &DataDir) -> Result<LedgerStore<SledKv>, BackupError> {
    let key = crate::keyfile::read(&dir.node_key()).map_err(|e| BackupError::Io(e.to_string()))?;
    let store =
        LedgerStore::new(SledKv::open(&dir.store())?).sealed_with(crate::node::seal_key(&key));
    // The genesis read first: a store of a format this release does not read is refused as such.
    store.genesis()?.ok_or(StoreError::NotInitialized)?;
    Ok(store)
}

fn layout_of(dir: &DataDir) -> Result<u16, BackupError> {
    Ok(open(dir)?.layout()?)
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(io(&entry.path()))?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(io(&target))?;
            std::fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .map_err(io(&target))?;
        }
    }
    Ok(())
}
