//! The key-value layer under the ledger records, with an append-only log beside it for the bulk of the
//! bytes (transactions), and its sled backend with real fsync.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{Result, StoreError};

/// Puts (`Some`) and deletes (`None`) applied together.
pub type Batch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// An ordered key-value store with atomic batches and an explicit durability point.
pub trait Kv: Send + Sync + std::fmt::Debug + 'static {
    /// Applies all puts (`Some`) and deletes (`None`) atomically: after a crash, all or none are there.
    fn apply(&self, batch: Batch) -> Result<()>;
    /// The value at `key`, as the last applied batch left it.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Returns once everything applied before is on stable storage.
    fn sync(&self) -> Result<()>;
    /// Replaces the witness: a small record kept outside the key-value data, durable when this returns.
    /// It names the last acknowledged head, so a store that silently lost its tail is caught.
    fn write_witness(&self, bytes: &[u8]) -> Result<()>;
    /// The head witness as last written (`write_witness`), `None` before the first.
    fn read_witness(&self) -> Result<Option<Vec<u8>>>;
    /// Appends `bytes` to the log and returns the offset they start at; they are on stable storage when
    /// this returns. Key-value records refer to log bytes only after that, so a crash may leave bytes
    /// nothing refers to at the log's end, but never a reference to bytes that were lost.
    fn append(&self, bytes: &[u8]) -> Result<u64>;
    /// Reads `len` bytes of the log at `offset`; an error if the log does not hold them.
    fn read_log(&self, offset: u64, len: usize) -> Result<Vec<u8>>;
    /// The directory the id index keeps its runs in (files derived from the blocks, rebuilt from them
    /// when lost); `None` keeps the index in memory, built from the blocks at every open.
    fn index_dir(&self) -> Option<PathBuf> {
        None
    }
}

/// The log beside the key-value data: one file written only at its end.
#[derive(Debug)]
struct Log {
    file: File,
    len: u64,
}

/// sled 0.34.7, made durable.
///
/// sled's `flush()` ends in `sync_file_range`, which writes the data pages but neither the file's metadata
/// nor the disk's volatile cache (sled issue 1452): after a power cut a flushed write can still be lost.
/// `sync` therefore calls `flush()` and then `fsync` on every file and directory sled keeps, which forces
/// data, metadata and the device cache to stable storage before it returns.
#[derive(Debug)]
pub struct SledKv {
    db: sled::Db,
    path: PathBuf,
    log: Mutex<Log>,
    /// sled's blob files already fsynced, with the size they had then (see [`SledKv::sync`]).
    synced_blobs: Mutex<HashMap<PathBuf, u64>>,
}

/// How often, and how far apart, opening a locked store is retried (about five seconds in all).
const OPEN_RETRIES: u32 = 125;
const OPEN_RETRY_MS: u64 = 40;

fn io<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Io(e.to_string())
}

impl SledKv {
    /// Opens (or creates) the store. sled holds an exclusive file lock; a handle closed a moment ago can
    /// keep it while its background thread winds down, so a locked store is retried for a short while.
    pub fn open(path: &Path) -> Result<SledKv> {
        let mut attempts = 0;
        loop {
            // sled's background flusher also drives its segment cleaning: without it, memory grows
            // without bound (measured: 3.4 GiB RSS at 1M transactions instead of 0.8). It holds the file
            // lock for up to one tick after the store is closed, which the retries below wait out.
            let opened = sled::Config::new()
                .path(path)
                .cache_capacity(256 * 1024 * 1024)
                .open();
            match opened {
                Ok(db) => {
                    let log_path = path.with_extension("log");
                    let existed = log_path.exists();
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .read(true)
                        .append(true)
                        .open(&log_path)
                        .map_err(io)?;
                    if !existed {
                        sync_parent(&log_path).map_err(io)?;
                    }
                    let len = file.metadata().map_err(io)?.len();
                    return Ok(SledKv {
                        db,
                        path: path.to_owned(),
                        log: Mutex::new(Log { file, len }),
                        synced_blobs: Mutex::new(HashMap::new()),
                    });
                }
                // sled reports the lock as an IO error of kind `Other` whose text names it.
                Err(sled::Error::Io(e))
                    if attempts < OPEN_RETRIES
                        && (e.kind() == std::io::ErrorKind::WouldBlock
                            || e.to_string().contains("could not acquire lock")) =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(OPEN_RETRY_MS));
                }
                Err(sled::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.to_string().contains("could not acquire lock") =>
                {
                    return Err(StoreError::InUse {
                        path: path.display().to_string(),
                    })
                }
                Err(sled::Error::Corruption { .. }) => {
                    return Err(StoreError::Corrupt {
                        what: "store file",
                        key: path.display().to_string(),
                        reason: "sled reports corrupted data in its files".into(),
                    })
                }
                // A damaged `conf` reads to sled as a configuration it does not support ("may have been
                // created using a sled version earlier than 0.29"): every file here was written by this
                // sled, so it is damage, and said as such.
                Err(sled::Error::Unsupported(why)) => {
                    return Err(StoreError::Corrupt {
                        what: "store file",
                        key: path.join("conf").display().to_string(),
                        reason: format!("sled cannot read its configuration: {why}"),
                    })
                }
                Err(e) => return Err(io(e)),
            }
        }
    }

    /// The directory sled keeps its files in (the log and the witness sit beside it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn witness_path(&self) -> PathBuf {
        self.path.with_extension("witness")
    }
}

/// fsyncs the directory holding `path`, so that a new entry in it persists.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// sled's directory of blob files: values and pages over a quarter of its segment size, one file each.
const BLOB_DIR: &str = "blobs";

/// fsyncs every file below `dir`, then the directories themselves (so new and renamed entries persist).
///
/// Except the blob files already synced at the size they still have: sled writes a blob once, front to
/// back, into a file it creates for it (`create_new`), and afterwards only reads or removes it, so one
/// whose size has not changed since its fsync holds nothing unsynced. A blob being written while it is
/// listed has a smaller size than its final one, so it is synced again next time. Without this, every
/// sync opened and fsynced every blob sled ever kept (about one per 140 KiB of block records), and the
/// sync grew with the ledger: 22 000 fsyncs in five seconds at 6 M transactions.
fn fsync_tree(dir: &Path, synced_blobs: &mut HashMap<PathBuf, u64>) -> std::io::Result<()> {
    let mut seen = Vec::new();
    fsync_below(dir, false, synced_blobs, &mut seen)?;
    // Blobs sled removed are forgotten, so the map stays the size of the directory.
    let seen: std::collections::HashSet<PathBuf> = seen.into_iter().collect();
    synced_blobs.retain(|path, _| seen.contains(path));
    Ok(())
}

fn fsync_below(
    dir: &Path,
    blobs: bool,
    synced_blobs: &mut HashMap<PathBuf, u64>,
    seen: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            let is_blobs = entry.file_name() == BLOB_DIR;
            fsync_below(&path, is_blobs, synced_blobs, seen)?;
        } else if kind.is_file() {
            let size = match entry.metadata() {
                Ok(m) => m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if blobs {
                seen.push(path.clone());
                if synced_blobs.get(&path) == Some(&size) {
                    continue;
                }
            }
            match File::open(&path) {
                Ok(f) => f.sync_all()?,
                // sled may remove an old snapshot or blob between listing and opening: nothing left
                // to sync.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
            if blobs {
                synced_blobs.insert(path, size);
            }
        }
    }
    File::open(dir)?.sync_all()
}

impl Kv for SledKv {
    fn apply(&self, batch: Batch) -> Result<()> {
        let mut b = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(v) => b.insert(key, v),
                None => b.remove(key),
            }
        }
        self.db.apply_batch(b).map_err(io)
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key).map_err(io)?.map(|v| v.to_vec()))
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.db
            .scan_prefix(prefix)
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(io))
            .collect()
    }

    fn sync(&self) -> Result<()> {
        self.db.flush().map_err(io)?;
        let mut synced_blobs = self
            .synced_blobs
            .lock()
            .map_err(|_| StoreError::Io("sync lock poisoned".into()))?;
        fsync_tree(&self.path, &mut synced_blobs).map_err(io)
    }

    /// Beside sled's directory, not in it: sled recovers its log by truncating at the first bad entry,
    /// which the witness must survive to reveal. Written in place in one small write and fdatasync'd.
    fn write_witness(&self, bytes: &[u8]) -> Result<()> {
        let path = self.witness_path();
        let existed = path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        file.write_all(bytes)
            .and_then(|()| file.sync_data())
            .map_err(io)?;
        if !existed {
            // A new file needs its directory entry on disk too.
            sync_parent(&path).map_err(io)?;
        }
        Ok(())
    }

    fn read_witness(&self) -> Result<Option<Vec<u8>>> {
        match std::fs::read(self.witness_path()) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// One write at the end of `store.log` (beside sled's directory) and one fdatasync. A torn write
    /// left by a crash stays as dead bytes: nothing refers to it, and later appends go after it.
    fn append(&self, bytes: &[u8]) -> Result<u64> {
        let mut log = self
            .log
            .lock()
            .map_err(|_| StoreError::Io("log lock poisoned".into()))?;
        let offset = log.len;
        log.file
            .write_all(bytes)
            .and_then(|()| log.file.sync_data())
            .map_err(io)?;
        log.len += bytes.len() as u64;
        Ok(offset)
    }

    /// `store.index/` beside sled's directory, as the log and the witness are.
    fn index_dir(&self) -> Option<PathBuf> {
        Some(self.path.with_extension("index"))
    }

    fn read_log(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let log = self
            .log
            .lock()
            .map_err(|_| StoreError::Io("log lock poisoned".into()))?;
        if offset.saturating_add(len as u64) > log.len {
            return Err(StoreError::Corrupt {
                what: "log",
                key: format!("{offset}+{len}"),
                reason: format!("the log ends at {}: referenced bytes are missing", log.len),
            });
        }
        let mut buf = vec![0; len];
        // Positioned reads do not move the append position; the lock only guards `len`.
        log.file.read_exact_at(&mut buf, offset).map_err(io)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blob bookkeeping of `sync`: a blob is synced once at the size it has, again when it grew
    /// (listed while sled was still writing it), and forgotten when sled removes it; other files are
    /// synced every time.
    #[test]
    fn a_blob_is_synced_again_only_when_it_grew_and_forgotten_when_removed() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = dir.path().join(BLOB_DIR);
        std::fs::create_dir(&blobs).expect("blobs");
        std::fs::write(dir.path().join("db"), b"the log").expect("db");
        let blob = blobs.join("42");
        std::fs::write(&blob, b"half").expect("blob");
        let mut synced = HashMap::new();
        fsync_tree(dir.path(), &mut synced).expect("sync");
        assert_eq!(synced, HashMap::from([(blob.clone(), 4)]));
        // Still being written when it was listed: its new size is synced.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&blob)
            .expect("open");
        f.write_all(b" and the rest").expect("append");
        fsync_tree(dir.path(), &mut synced).expect("sync");
        assert_eq!(synced, HashMap::from([(blob.clone(), 17)]));
        std::fs::remove_file(&blob).expect("gc");
        fsync_tree(dir.path(), &mut synced).expect("sync");
        assert!(synced.is_empty());
    }
}
