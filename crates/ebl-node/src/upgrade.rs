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
//!
//! The old directory is never opened by sled, only read: sled writes to a store as it opens it (it
//! recovers its log, writes a snapshot, flushes on close), and a SIGKILL in the middle of that once
//! left an old store sled then called corrupt. So the upgrade takes sled's own lock on the old store
//! (a running node holds it; a node started during the upgrade waits and is refused), copies the
//! directory to `DIR.upgrading.source`, and reads the copy.

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
    let mut finished = false;
    if !dir.0.exists() {
        if !building.exists() {
            return Err(BackupError::Io(format!(
                "{} does not exist",
                dir.0.display()
            )));
        }
        // Killed between the two renames: the new directory is complete (it was verified before the
        // first rename), the old one is kept; finish, then go on as for any directory (it may be of a
        // layout older than this release's, when an older release built it).
        std::fs::rename(&building, &dir.0).map_err(io(&dir.0))?;
        crate::backup::sync_parent(&dir.0)?;
        finished = true;
    }
    if building.exists() {
        // A build killed before it was renamed into place: nobody's; the old directory is intact.
        std::fs::remove_dir_all(&building).map_err(io(&building))?;
    }
    // Held until the old directory is renamed away: no node writes to it while it is copied and read.
    let _lock = StoreLock::take(&dir.store())?;
    let source = Source::copy_of(dir)?;
    let store = open(&source.dir)?;
    let from = store.layout()?;
    if from >= STORE_LAYOUT {
        return Ok(if finished {
            Upgraded::Finished { layout: from }
        } else {
            Upgraded::Current { layout: from }
        });
    }
    let kept = previous(&dir.0, from);
    if kept.exists() {
        return Err(BackupError::TargetNotEmpty(kept));
    }
    let backup = sibling(&dir.0, ".upgrading.backup");
    if backup.exists() {
        std::fs::remove_file(&backup).map_err(io(&backup))?;
    }
    let height = write_backup(&store, &source.dir, &backup, now_ms)?.height;
    drop(store);
    drop(source);
    let restored = restore(&backup, &building);
    let _ = std::fs::remove_file(&backup);
    restored?;
    // The Raft log of a consortium member goes along as it is (a backup does not hold it).
    let raft = dir.0.join("raft");
    if raft.is_dir() {
        copy_tree(&raft, &building.join("raft"), Durable::Yes)?;
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

/// sled's exclusive lock on a store (an `flock` of its `db` file, as sled takes it), taken without
/// opening the store: the file is opened to read, and nothing in it changes.
struct StoreLock {
    _file: std::fs::File,
}

/// How often, and how far apart, a locked store is tried again: a node stopped a moment ago can hold the
/// lock while its background thread winds down (as `SledKv::open` waits).
const LOCK_RETRIES: u32 = 125;
const LOCK_RETRY_MS: u64 = 40;

impl StoreLock {
    fn take(store: &Path) -> Result<StoreLock, BackupError> {
        let db = store.join("db");
        let file = std::fs::File::open(&db).map_err(io(&db))?;
        let mut attempts = 0;
        loop {
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(StoreLock { _file: file }),
                Err(rustix::io::Errno::WOULDBLOCK) if attempts < LOCK_RETRIES => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(LOCK_RETRY_MS));
                }
                Err(rustix::io::Errno::WOULDBLOCK) => {
                    return Err(BackupError::Store(StoreError::InUse {
                        path: store.display().to_string(),
                    }))
                }
                Err(e) => return Err(BackupError::Io(format!("{}: {e}", db.display()))),
            }
        }
    }
}

/// The scratch copy of the old directory the upgrade reads (see the module documentation); removed
/// when dropped, and when the next upgrade finds one a killed run left.
struct Source {
    dir: DataDir,
}

impl Source {
    fn copy_of(dir: &DataDir) -> Result<Source, BackupError> {
        let path = sibling(&dir.0, ".upgrading.source");
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        }
        // Scratch: a kill leaves it to be thrown away, so nothing in it is synced.
        copy_tree(&dir.0, &path, Durable::No)?;
        Ok(Source { dir: DataDir(path) })
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir.0);
    }
}

/// The store in `dir`, sealed with its node key, to read.
fn open(dir: &DataDir) -> Result<LedgerStore<SledKv>, BackupError> {
    let key = crate::keyfile::read(&dir.node_key()).map_err(|e| BackupError::Io(e.to_string()))?;
    let store = LedgerStore::new(SledKv::open(&dir.store())?)
        .sealed_with(ebl_consensus::load::seal_key(&key));
    // The genesis read first: a store of a format this release does not read is refused as such.
    store.genesis()?.ok_or(StoreError::NotInitialized)?;
    Ok(store)
}

/// Whether a copied file is synced to disk before the copy goes on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durable {
    Yes,
    No,
}

fn copy_tree(from: &Path, to: &Path, durable: Durable) -> Result<(), BackupError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(io(&entry.path()))?.is_dir() {
            copy_tree(&entry.path(), &target, durable)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(io(&target))?;
            if durable == Durable::Yes {
                std::fs::File::open(&target)
                    .and_then(|f| f.sync_all())
                    .map_err(io(&target))?;
            }
        }
    }
    Ok(())
}
