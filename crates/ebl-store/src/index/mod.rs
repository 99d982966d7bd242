//! The id index: which block, place and log bytes hold a transaction, found by its id.
//!
//! It is derived from the block records (each lists its ids and where their bytes are in the log), so it
//! needs no durability of its own on the write path: new entries go to a table in memory; a full table
//! is frozen and written by a background thread as a sorted run (see [`run`]), and runs of one size
//! are merged, a few at a time, into a larger one, so a lookup reads at most a page per run. At open,
//! runs that index blocks the store no longer holds (a crash took back unsynced blocks), partial merges
//! and damaged files are dropped, and the blocks after the last run are indexed again from their records.
//!
//! sled held this index before (one random insert and a dirty page per transaction, which dominated
//! the write path at 10 M transactions); its old `i` records in existing stores are no longer read.

mod run;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;

use ebl_core::TxId;

pub(crate) use run::Position;
use run::{parse_run_name, Entry, Run, TMP_SUFFIX};

use crate::{Result, StoreError};

/// Entries held in memory before the table is written as a run (about 4 MiB of table).
pub(crate) const FLUSH_ENTRIES: usize = 1 << 16;
/// How many runs of one level are merged into one of the next: each entry is rewritten about
/// log4(n / FLUSH_ENTRIES) times (four at 10 M), and a lookup reads at most three runs per level.
pub(crate) const MERGE_FANOUT: usize = 4;

/// When tables are written and merged (the constants above, smaller in tests).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) flush_entries: usize,
    pub(crate) merge_fanout: usize,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            flush_entries: FLUSH_ENTRIES,
            merge_fanout: MERGE_FANOUT,
        }
    }
}

/// A table handed to the writer: the entries of heights `lo..=hi`, still answering lookups until its
/// run replaces it.
#[derive(Debug)]
struct Frozen {
    lo: u64,
    hi: u64,
    entries: HashMap<TxId, Position>,
}

#[derive(Debug, Default)]
struct Tables {
    /// Entries of heights `active_lo..=indexed_to`.
    active: HashMap<TxId, Position>,
    active_lo: u64,
    /// The last height indexed (0: none).
    indexed_to: u64,
    /// Oldest first, each covering the heights after the one before.
    frozen: Vec<Arc<Frozen>>,
    /// Oldest first, covering `1..=` the last one's `hi` without a gap.
    runs: Vec<Arc<Run>>,
}

#[derive(Debug)]
struct Shared {
    dir: Option<PathBuf>,
    shape: Shape,
    tables: RwLock<Tables>,
    /// Raised when the index closes: the writer abandons a merge in progress.
    stop: AtomicBool,
    /// The writer's failure, returned to the next write (the index cannot keep up without it).
    failed: Mutex<Option<StoreError>>,
}

enum Job {
    Write(Arc<Frozen>),
    /// Answered once every job sent before is done.
    #[cfg(test)]
    Settle(mpsc::Sender<()>),
}

/// The id index of one store. Without a directory (memory backends) it stays in memory and is built
/// again from the blocks at every open.
pub(crate) struct IdIndex {
    shared: Arc<Shared>,
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdIndex")
            .field("dir", &self.shared.dir)
            .finish_non_exhaustive()
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

fn poisoned() -> StoreError {
    StoreError::Io("id index lock poisoned".into())
}

impl Shared {
    fn read(&self) -> Result<RwLockReadGuard<'_, Tables>> {
        self.tables.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Tables>> {
        self.tables.write().map_err(|_| poisoned())
    }
}

impl IdIndex {
    /// Opens the index kept in `dir` (or a memory one) for a store whose head is at `height`: keeps
    /// the runs that cover `1..=h` for some `h <= height` without a gap, removes every other file it
    /// wrote. The caller indexes the blocks after [`IdIndex::indexed_to`].
    pub(crate) fn open(dir: Option<PathBuf>, height: u64, shape: Shape) -> Result<IdIndex> {
        let runs = match &dir {
            Some(dir) => kept_runs(dir, height)?,
            None => Vec::new(),
        };
        let indexed_to = runs.last().map_or(0, |r| r.hi);
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            shape,
            tables: RwLock::new(Tables {
                active_lo: indexed_to + 1,
                indexed_to,
                runs,
                ..Tables::default()
            }),
            stop: AtomicBool::new(false),
            failed: Mutex::new(None),
        });
        let (jobs, writer) = if dir.is_some() {
            let (tx, rx) = mpsc::channel();
            let worker = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name("id-index".into())
                .spawn(move || writer(&worker, &rx))
                .map_err(io)?;
            (Some(tx), Some(handle))
        } else {
            (None, None)
        };
        Ok(IdIndex {
            shared,
            jobs,
            writer,
        })
    }

    /// The last height whose transactions are indexed.
    pub(crate) fn indexed_to(&self) -> Result<u64> {
        Ok(self.shared.read()?.indexed_to)
    }

    /// The writer's failure, if it failed: asked before a block is written, so that a store whose index
    /// cannot keep up refuses the block rather than writing it and failing after.
    pub(crate) fn writable(&self) -> Result<()> {
        match self.shared.failed.lock().map_err(|_| poisoned())?.clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Indexes the block at `height`, which must follow the last one indexed.
    pub(crate) fn add_block(
        &self,
        height: u64,
        entries: impl IntoIterator<Item = (TxId, Position)>,
    ) -> Result<()> {
        let mut tables = self.shared.write()?;
        if height != tables.indexed_to + 1 {
            return Err(StoreError::Corrupt {
                what: "id index",
                key: height.to_string(),
                reason: format!(
                    "block {height} indexed after block {}: out of order",
                    tables.indexed_to
                ),
            });
        }
        tables.active.extend(entries);
        tables.indexed_to = height;
        if let Some(jobs) = &self.jobs {
            if tables.active.len() >= self.shared.shape.flush_entries {
                let frozen = Arc::new(Frozen {
                    lo: tables.active_lo,
                    hi: height,
                    entries: std::mem::take(&mut tables.active),
                });
                tables.active_lo = height + 1;
                tables.frozen.push(Arc::clone(&frozen));
                // A writer that stopped has left its failure for `writable`; the table keeps
                // answering from memory meanwhile.
                let _ = jobs.send(Job::Write(frozen));
            }
        }
        Ok(())
    }

    /// Where `id`'s transaction is, if it is indexed.
    pub(crate) fn find(&self, id: &TxId) -> Result<Option<Position>> {
        let runs = {
            let tables = self.shared.read()?;
            if let Some(at) = tables.active.get(id) {
                return Ok(Some(*at));
            }
            for frozen in tables.frozen.iter().rev() {
                if let Some(at) = frozen.entries.get(id) {
                    return Ok(Some(*at));
                }
            }
            tables.runs.clone()
        };
        for run in runs.iter().rev() {
            if let Some(at) = run.find(id)? {
                return Ok(Some(at));
            }
        }
        Ok(None)
    }

    /// Reads every run's every page (checksums, order); returns how many entries they hold.
    pub(crate) fn check(&self) -> Result<u64> {
        let runs = self.shared.read()?.runs.clone();
        let mut count = 0;
        for run in &runs {
            for entry in run.entries() {
                entry?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// Returns once the writer has finished every table and merge handed to it so far.
    #[cfg(test)]
    pub(crate) fn settle(&self) -> Result<()> {
        if let Some(jobs) = &self.jobs {
            let (tx, rx) = mpsc::channel();
            // A writer that stopped answers nothing; its failure is what `writable` reports.
            if jobs.send(Job::Settle(tx)).is_ok() {
                let _ = rx.recv();
            }
        }
        self.writable()
    }

    /// The runs' height ranges and levels, oldest first (for tests of the merge policy).
    #[cfg(test)]
    fn runs(&self) -> Vec<(u64, u64, u32)> {
        self.shared
            .read()
            .map(|t| t.runs.iter().map(|r| (r.lo, r.hi, r.level)).collect())
            .unwrap_or_default()
    }
}

impl Drop for IdIndex {
    /// Stops the writer and waits for it, so the directory is left to the next opener: a table not yet
    /// written is indexed again from the blocks then.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The runs in `dir` that index `1..=h` for some `h <= height` without a gap, oldest first; every
/// other file the index wrote there is removed (it is rebuilt from the blocks).
fn kept_runs(dir: &Path, height: u64) -> Result<Vec<Arc<Run>>> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(io)?;
        if let Some(parent) = dir.parent() {
            std::fs::File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
    }
    let mut found = Vec::new();
    let mut discard = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(TMP_SUFFIX) {
            discard.push(path);
        } else if let Some((lo, hi)) = parse_run_name(name) {
            found.push((lo, hi, path));
        }
    }
    // Widest first among runs that start together: a finished merge wins over its inputs.
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut runs: Vec<Arc<Run>> = Vec::new();
    let mut next = 1u64;
    for (lo, hi, path) in found {
        if lo != next || hi > height {
            // Contained in a kept run (a merge's input), after a gap, or indexing blocks the store
            // no longer holds.
            discard.push(path);
            continue;
        }
        match Run::open(&path) {
            Ok(run) => {
                next = hi + 1;
                runs.push(Arc::new(run));
            }
            Err(StoreError::Corrupt { .. }) => discard.push(path),
            Err(e) => return Err(e),
        }
    }
    for path in discard {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(runs)
}

/// The background writer: each frozen table becomes a run, then runs of one level are merged while
/// the newest `merge_fanout` share a level.
fn writer(shared: &Shared, jobs: &mpsc::Receiver<Job>) {
    let Some(dir) = shared.dir.clone() else {
        return;
    };
    for job in jobs {
        match job {
            #[cfg(test)]
            Job::Settle(done) => {
                let _ = done.send(());
            }
            Job::Write(frozen) => {
                if shared.stop.load(Ordering::Relaxed) {
                    return;
                }
                if let Err(e) =
                    write_table(shared, &dir, &frozen).and_then(|()| merge(shared, &dir))
                {
                    if let Ok(mut failed) = shared.failed.lock() {
                        *failed = Some(e);
                    }
                    return;
                }
            }
        }
    }
}

fn write_table(shared: &Shared, dir: &Path, frozen: &Arc<Frozen>) -> Result<()> {
    let mut entries: Vec<Entry> = frozen
        .entries
        .iter()
        .map(|(id, at)| Entry { id: *id, at: *at })
        .collect();
    entries.sort_unstable_by_key(|e| e.id);
    let Some(run) = Run::write(
        dir,
        0,
        frozen.lo,
        frozen.hi,
        entries.into_iter().map(Ok),
        &shared.stop,
    )?
    else {
        return Ok(());
    };
    let mut tables = shared.write()?;
    tables.runs.push(Arc::new(run));
    tables.frozen.retain(|f| !Arc::ptr_eq(f, frozen));
    Ok(())
}

fn merge(shared: &Shared, dir: &Path) -> Result<()> {
    let fanout = shared.shape.merge_fanout.max(2);
    loop {
        let inputs: Vec<Arc<Run>> = {
            let tables = shared.read()?;
            let n = tables.runs.len();
            if n < fanout {
                return Ok(());
            }
            let tail = &tables.runs[n - fanout..];
            if tail.iter().any(|r| r.level != tail[0].level) {
                return Ok(());
            }
            tail.to_vec()
        };
        let (lo, hi, level) = (inputs[0].lo, inputs[fanout - 1].hi, inputs[0].level + 1);
        let merged = MergedEntries::new(&inputs);
        let Some(run) = Run::write(dir, level, lo, hi, merged, &shared.stop)? else {
            return Ok(());
        };
        {
            // Only this thread changes the runs, so the inputs are still the newest ones.
            let mut tables = shared.write()?;
            let keep = tables.runs.len() - fanout;
            tables.runs.truncate(keep);
            tables.runs.push(Arc::new(run));
        }
        // A reader still holding an input keeps its open file; the name goes now.
        for input in &inputs {
            match std::fs::remove_file(input.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
    }
}

/// The entries of several runs in one id order.
struct MergedEntries<'a> {
    sources: Vec<Box<dyn Iterator<Item = Result<Entry>> + 'a>>,
    heads: Vec<Option<Entry>>,
    failed: Option<StoreError>,
}

impl<'a> MergedEntries<'a> {
    fn new(runs: &'a [Arc<Run>]) -> MergedEntries<'a> {
        let mut merged = MergedEntries {
            sources: runs
                .iter()
                .map(|r| Box::new(r.entries()) as Box<dyn Iterator<Item = Result<Entry>>>)
                .collect(),
            heads: Vec::new(),
            failed: None,
        };
        for i in 0..merged.sources.len() {
            let head = merged.pull(i);
            merged.heads.push(head);
        }
        merged
    }

    fn pull(&mut self, i: usize) -> Option<Entry> {
        match self.sources[i].next() {
            Some(Ok(e)) => Some(e),
            Some(Err(e)) => {
                self.failed.get_or_insert(e);
                None
            }
            None => None,
        }
    }
}

impl Iterator for MergedEntries<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        let (i, _) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.map(|h| (i, h.id)))
            .min_by(|a, b| a.1.cmp(&b.1))?;
        let out = self.heads[i].take();
        self.heads[i] = self.pull(i);
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        out.map(Ok)
    }
}

#[cfg(test)]
mod tests;
