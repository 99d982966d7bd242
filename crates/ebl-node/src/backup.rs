//! A node's backup: its ledger (the genesis, every block with its transactions and finality
//! certificate, up to the head it started from) and the files beside it, in one checksummed file; and
//! its restore into a new data directory, verified in full before it is put in place.
//!
//! A backup is consistent without stopping the node: blocks at or below a head never change, so the
//! copy of blocks 1 to the head read at the start is the ledger as of that head, whatever the node
//! writes meanwhile. The node's files (key, TLS, PINT trust, documents and finished transfers) are each
//! written once and never changed, so each is read whole or not yet there. What is not copied is what a
//! node derives or makes anew: the store's indexes and state checkpoints (rebuilt by replay), the Raft
//! log, the address file.
//!
//! The file (`ebl-backup/1`): the line `ebl-backup/1\n`, then frames, each a 4-byte little-endian
//! length and that many codec bytes of a [`Frame`]: one `Header`, the blocks in order (a `Block`, then
//! each of its transactions as a `Transaction`), the files (`File`, in pieces), and `End`, which counts
//! them and carries a hash chain over every frame before it. A file cut short has no `End`; a flipped
//! bit breaks the chain. Both are refused before anything is written.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use ebl_core::{codec, Certificate, Genesis, Hash, SignedTransaction};
use ebl_store::{BlockWrite, Kv, LedgerStore, SledKv, StoreError, StoredBlock};
use serde::{Deserialize, Serialize};

use crate::node::DataDir;

/// The file's first line, naming its format; readers check it through [`ebl_core::format::BACKUP`].
pub const BACKUP_FORMAT: &str = "ebl-backup/1";
/// The largest frame: one codec value, as the codec's own ceiling.
pub const BACKUP_FRAME_BYTES_MAX: usize = codec::CODEC_BYTES_MAX;
/// Files are copied in pieces of at most this many bytes, each a frame well under the frame limit.
pub const BACKUP_FILE_PIECE_BYTES: usize = 256 * 1024;

/// What is in a data directory beside the store that a node derives or makes anew, and is not backed
/// up: the store itself (copied as its blocks), its log, index and witness, the Raft log, the address
/// a running node writes, and files under way.
const NOT_COPIED: [&str; 6] = [
    "store",
    "store.log",
    "store.index",
    "store.witness",
    "raft",
    "listening",
];

/// One frame of a backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// First: the chain and the head the backup was taken at.
    Header(Header),
    /// A block, followed by a `Transaction` frame for each of its transactions.
    Block {
        /// The block as stored (signed header and transaction ids).
        block: StoredBlock,
        /// Its finality certificate as the node held it, if it had one.
        certificate: Option<Certificate>,
    },
    /// One transaction of the block before.
    Transaction(SignedTransaction),
    /// A piece of a file of the data directory, by its path under it (`/`-separated); pieces of one
    /// file follow each other in order.
    File {
        /// The path under the data directory.
        path: String,
        /// These bytes of it.
        bytes: Vec<u8>,
    },
    /// Last: what came before, and the hash chain over every frame before this one.
    End {
        /// Blocks.
        blocks: u64,
        /// Files.
        files: u64,
        /// `h = SHA-256(h || frame)` over every frame's bytes, from `h = 0`.
        digest: Hash,
    },
}

/// What a backup starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The chain id.
    pub chain: Hash,
    /// The genesis.
    pub genesis: Genesis,
    /// The head the backup was taken at: it holds blocks 1 to this height.
    pub height: u64,
    /// When it was taken (Unix milliseconds).
    pub taken_ms: u64,
}

/// What a backup or a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    /// The chain id.
    pub chain: Hash,
    /// The head: blocks 1 to this height.
    pub height: u64,
    /// Transactions in those blocks.
    pub transactions: u64,
    /// Files of the data directory copied.
    pub files: u64,
    /// The backup file's size in bytes.
    pub bytes: u64,
}

/// Why a backup or a restore failed. Nothing was written in the place asked for.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The backup file ends before its last frame: cut short.
    #[error("the backup ends before its end frame: it was cut short ({frames} frames read)")]
    Truncated {
        /// Frames read before it ended.
        frames: u64,
    },
    /// A frame that does not read, a count or hash chain that does not hold, frames out of order.
    #[error("the backup is damaged: {reason}")]
    Damaged {
        /// What does not hold.
        reason: String,
    },
    /// The backup is of a format this release does not read (`format_too_old`, `format_too_new`).
    #[error("{0}")]
    Format(ebl_core::Error),
    /// A restore into a data directory that already holds something.
    #[error("{0} exists and is not empty: a restore makes a new data directory")]
    TargetNotEmpty(PathBuf),
    /// A backup written to a file that exists.
    #[error("{0} exists: a backup is never written over another file")]
    TargetExists(PathBuf),
    /// The restored ledger does not verify (its code and where): it is not put in place.
    #[error("the restored ledger does not verify: {0}")]
    Unsound(Box<crate::verify::VerifyFailure>),
    /// The store refused something.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
}

impl BackupError {
    /// Stable code, as the node's other errors have.
    pub fn code(&self) -> &str {
        match self {
            BackupError::Truncated { .. } => "backup_truncated",
            BackupError::Damaged { .. } => "backup_damaged",
            BackupError::Format(e) => e.code(),
            BackupError::TargetNotEmpty(_) => "restore_target_not_empty",
            BackupError::TargetExists(_) => "backup_exists",
            BackupError::Unsound(failure) => &failure.code,
            BackupError::Store(e) => e.code(),
            BackupError::Io(_) => "io",
        }
    }
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(format!("{}: {e}", what.display()))
}

fn damaged(reason: impl Into<String>) -> BackupError {
    BackupError::Damaged {
        reason: reason.into(),
    }
}

/// Writes frames and keeps the hash chain over them.
struct FrameWriter<W: Write> {
    out: W,
    digest: Hash,
    bytes: u64,
}

impl<W: Write> FrameWriter<W> {
    fn put(&mut self, frame: &Frame) -> std::io::Result<()> {
        let bytes = codec::encode(frame);
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&bytes)?;
        self.digest = Hash::of_parts(&[self.digest.as_bytes(), &bytes]);
        self.bytes += 4 + u64::from(len);
        Ok(())
    }
}

/// Writes a backup of the ledger in `store` and the files of `data` to `to`, which must not exist:
/// written to `<to>.partial`, synced, then renamed into place, so `to` is a whole backup or absent.
/// `store` may be a running node's: the backup holds the blocks up to the head read at the start.
pub fn write_backup<K: Kv>(
    store: &LedgerStore<K>,
    data: &DataDir,
    to: &Path,
    taken_ms: u64,
) -> Result<BackupSummary, BackupError> {
    if to.exists() {
        return Err(BackupError::TargetExists(to.to_owned()));
    }
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    let height = store.height()?;
    let partial = partial_path(to);
    if partial.exists() {
        // A backup killed before left it: nobody's (one store is backed up by one process at a time:
        // the store's lock, or the running node's one backup job).
        std::fs::remove_file(&partial).map_err(io(&partial))?;
    }
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&partial)
        .map_err(io(&partial))?;
    let written = (|| {
        let mut out = BufWriter::new(file);
        out.write_all(format!("{BACKUP_FORMAT}\n").as_bytes())
            .map_err(io(&partial))?;
        let mut frames = FrameWriter {
            out,
            digest: Hash::ZERO,
            bytes: BACKUP_FORMAT.len() as u64 + 1,
        };
        let put = |frames: &mut FrameWriter<BufWriter<File>>, frame: &Frame| {
            frames.put(frame).map_err(io(&partial))
        };
        put(
            &mut frames,
            &Frame::Header(Header {
                chain: genesis.chain_id(),
                genesis: genesis.clone(),
                height,
                taken_ms,
            }),
        )?;
        let mut transactions = 0u64;
        for h in 1..=height {
            let block = store.block(h)?.ok_or_else(|| StoreError::Corrupt {
                what: "block",
                key: h.to_string(),
                reason: "a block below the head is not stored".into(),
            })?;
            let txs = store.block_transactions(h)?.unwrap_or_default();
            if txs.len() != block.tx_ids.len() {
                return Err(BackupError::Store(StoreError::Corrupt {
                    what: "block",
                    key: h.to_string(),
                    reason: "the block's transactions are not all stored".into(),
                }));
            }
            let certificate = store.certificate(h)?;
            put(&mut frames, &Frame::Block { block, certificate })?;
            for tx in txs {
                put(&mut frames, &Frame::Transaction(tx.tx))?;
                transactions += 1;
            }
        }
        let mut files = 0u64;
        for (relative, path) in data_files(&data.0)? {
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let mut pieces = bytes.chunks(BACKUP_FILE_PIECE_BYTES).peekable();
            if pieces.peek().is_none() {
                put(
                    &mut frames,
                    &Frame::File {
                        path: relative.clone(),
                        bytes: Vec::new(),
                    },
                )?;
            }
            for piece in pieces {
                put(
                    &mut frames,
                    &Frame::File {
                        path: relative.clone(),
                        bytes: piece.to_vec(),
                    },
                )?;
            }
            files += 1;
        }
        let end = Frame::End {
            blocks: height,
            files,
            digest: frames.digest,
        };
        put(&mut frames, &end)?;
        let file = frames
            .out
            .into_inner()
            .map_err(|e| BackupError::Io(format!("{}: {e}", partial.display())))?;
        file.sync_all().map_err(io(&partial))?;
        Ok(BackupSummary {
            chain: genesis.chain_id(),
            height,
            transactions,
            files,
            bytes: frames.bytes,
        })
    })();
    match written {
        Ok(summary) => {
            std::fs::rename(&partial, to).map_err(io(to))?;
            sync_parent(to)?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}

/// fsyncs the directory holding `path`, so that its entry (a rename, a new file) persists.
pub(crate) fn sync_parent(path: &Path) -> Result<(), BackupError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(io(parent))
}

/// fsyncs every directory under `root` (and `root`), so the entries of the files written in them persist
/// before the tree is renamed into place.
pub(crate) fn sync_tree(root: &Path) -> Result<(), BackupError> {
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            if entry.file_type().map_err(io(&entry.path()))?.is_dir() {
                pending.push(entry.path());
            }
        }
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&dir))?;
    }
    Ok(())
}

/// The files of a data directory a backup copies, by their `/`-separated path under it, in a fixed
/// order.
fn data_files(root: &Path) -> Result<Vec<(String, PathBuf)>, BackupError> {
    let mut found = Vec::new();
    let mut pending = vec![(String::new(), root.to_owned())];
    while let Some((prefix, dir)) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io(&dir))?
            .collect::<Result<_, _>>()
            .map_err(io(&dir))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if prefix.is_empty() && NOT_COPIED.contains(&name.as_str()) {
                continue;
            }
            // Files under way: a temporary file, a backup being written beside the data.
            if name.ends_with(".tmp") || name.ends_with(".partial") || name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            if kind.is_dir() {
                pending.push((relative, entry.path()));
            } else if kind.is_file() {
                found.push((relative, entry.path()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Reads frames, keeping the hash chain.
struct FrameReader<R: Read> {
    input: R,
    digest: Hash,
    frames: u64,
}

impl<R: Read> FrameReader<R> {
    /// The next frame, and the chain before it; `None` at the end of the file.
    fn next(&mut self) -> Result<Option<(Frame, Hash)>, BackupError> {
        let mut len = [0u8; 4];
        match read_full(&mut self.input, &mut len)? {
            0 => return Ok(None),
            4 => {}
            _ => {
                return Err(BackupError::Truncated {
                    frames: self.frames,
                })
            }
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > BACKUP_FRAME_BYTES_MAX {
            return Err(damaged(format!(
                "frame {} claims {len} bytes, more than the {BACKUP_FRAME_BYTES_MAX} allowed",
                self.frames
            )));
        }
        let mut bytes = vec![0u8; len];
        if read_full(&mut self.input, &mut bytes)? != len {
            return Err(BackupError::Truncated {
                frames: self.frames,
            });
        }
        let frame: Frame = codec::decode(&bytes, BACKUP_FRAME_BYTES_MAX)
            .map_err(|e| damaged(format!("frame {} does not read: {e}", self.frames)))?;
        let before = self.digest;
        self.digest = Hash::of_parts(&[self.digest.as_bytes(), &bytes]);
        self.frames += 1;
        Ok(Some((frame, before)))
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, BackupError> {
    let mut read = 0;
    while read < buf.len() {
        match input.read(&mut buf[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BackupError::Io(e.to_string())),
        }
    }
    Ok(read)
}

/// Opens a backup file: its format line checked, and the reader over its frames.
fn open_backup(from: &Path) -> Result<FrameReader<BufReader<File>>, BackupError> {
    let mut input = BufReader::new(File::open(from).map_err(io(from))?);
    // The format line: at most the prefix, a slash, five digits and the newline.
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() <= BACKUP_FORMAT.len() + 6 {
        if read_full(&mut input, &mut byte)? == 0 {
            return Err(BackupError::Truncated { frames: 0 });
        }
        if byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
    }
    let name = String::from_utf8_lossy(&line);
    ebl_core::format::BACKUP.check(&name).map_err(|e| match e {
        ebl_core::Error::MalformedEncoding { .. } => damaged(format!("not a backup: {e}")),
        other => BackupError::Format(other),
    })?;
    Ok(FrameReader {
        input,
        digest: Hash::ZERO,
        frames: 0,
    })
}

/// Walks a whole backup, checking its frames' order, counts and hash chain, and hands each frame to
/// `each` (nothing when `each` does nothing: the first of a restore's two passes).
fn walk(
    from: &Path,
    mut each: impl FnMut(&Frame) -> Result<(), BackupError>,
) -> Result<Header, BackupError> {
    let mut reader = open_backup(from)?;
    let header = match reader.next()? {
        Some((Frame::Header(h), _)) => h,
        Some(_) => return Err(damaged("the first frame is not the header")),
        None => return Err(BackupError::Truncated { frames: 0 }),
    };
    if header.genesis.chain_id() != header.chain {
        return Err(damaged("the header's genesis is not its chain's"));
    }
    header.genesis.check().map_err(|e| match e {
        e @ (ebl_core::Error::FormatTooOld { .. } | ebl_core::Error::FormatTooNew { .. }) => {
            BackupError::Format(e)
        }
        other => damaged(format!("its genesis: {other}")),
    })?;
    each(&Frame::Header(header.clone()))?;
    let (mut blocks, mut files, mut owed) = (0u64, 0u64, 0usize);
    let mut last_file: Option<String> = None;
    loop {
        let Some((frame, chain_before)) = reader.next()? else {
            return Err(BackupError::Truncated {
                frames: reader.frames,
            });
        };
        match &frame {
            Frame::Header(_) => return Err(damaged("a second header")),
            Frame::Block { block, .. } => {
                if owed != 0 || last_file.is_some() {
                    return Err(damaged(format!("block {} out of place", blocks + 1)));
                }
                blocks += 1;
                if block.header.header.height != blocks {
                    return Err(damaged(format!(
                        "block {} where block {blocks} was due",
                        block.header.header.height
                    )));
                }
                owed = block.tx_ids.len();
            }
            Frame::Transaction(_) => {
                owed = owed
                    .checked_sub(1)
                    .ok_or_else(|| damaged("a transaction with no block owing it"))?;
            }
            Frame::File { path, .. } => {
                if owed != 0 {
                    return Err(damaged("a file inside a block"));
                }
                check_relative(path)?;
                if last_file.as_deref() != Some(path) {
                    files += 1;
                    last_file = Some(path.clone());
                }
            }
            Frame::End {
                blocks: b,
                files: f,
                digest,
            } => {
                if owed != 0 {
                    return Err(damaged("the end inside a block"));
                }
                if *digest != chain_before {
                    return Err(damaged("the hash chain over its frames does not hold"));
                }
                if (*b, *f) != (blocks, files) || blocks != header.height {
                    return Err(damaged(format!(
                        "the end counts {b} blocks and {f} files; the backup holds {blocks} and {files}, to height {}",
                        header.height
                    )));
                }
                if read_full(&mut reader.input, &mut [0u8; 1])? != 0 {
                    return Err(damaged("bytes after the end frame"));
                }
                return Ok(header);
            }
        }
        each(&frame)?;
    }
}

/// A path a backup may name: relative, `/`-separated, no `..`, not a part of the store.
fn check_relative(path: &str) -> Result<(), BackupError> {
    let p = Path::new(path);
    let plain = !path.is_empty()
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && !NOT_COPIED.contains(&path.split('/').next().unwrap_or(""));
    if plain {
        Ok(())
    } else {
        Err(damaged(format!(
            "a file path {path:?} outside the data directory"
        )))
    }
}

/// Checks a whole backup without writing anything: its format, frames, counts and hash chain.
pub fn check_backup(from: &Path) -> Result<Header, BackupError> {
    walk(from, |_| Ok(()))
}

/// Restores the backup `from` into the data directory `to`, which must not exist or be empty. The
/// backup is checked whole first; the data directory is then made beside `to`, its ledger written
/// block by block, verified from the genesis with every check `ebl-node verify` makes, and only then
/// renamed to `to`. A restore that fails or is killed leaves `to` as it was.
pub fn restore(from: &Path, to: &Path) -> Result<BackupSummary, BackupError> {
    if to.exists() && std::fs::read_dir(to).map_err(io(to))?.next().is_some() {
        return Err(BackupError::TargetNotEmpty(to.to_owned()));
    }
    check_backup(from)?;
    let bytes = std::fs::metadata(from).map_err(io(from))?.len();
    let building = partial_path(to);
    if building.exists() {
        // A restore killed before: what it left is nobody's.
        std::fs::remove_dir_all(&building).map_err(io(&building))?;
    }
    std::fs::create_dir_all(&building).map_err(io(&building))?;
    let result = restore_into(from, &DataDir(building.clone()), bytes);
    match result {
        Ok(summary) => {
            crate::private::make_private(&building).map_err(|e| BackupError::Io(e.to_string()))?;
            sync_tree(&building)?;
            if to.exists() {
                std::fs::remove_dir(to).map_err(io(to))?;
            }
            std::fs::rename(&building, to).map_err(io(to))?;
            sync_parent(to)?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&building);
            Err(e)
        }
    }
}

fn restore_into(from: &Path, dir: &DataDir, bytes: u64) -> Result<BackupSummary, BackupError> {
    // The files first: the node key seals the store's checkpoints, and verify needs it.
    let mut open: Option<(String, File)> = None;
    let mut files = 0u64;
    walk(from, |frame| {
        if let Frame::File { path, bytes } = frame {
            if open.as_ref().map(|(p, _)| p) != Some(path) {
                if let Some((_, done)) = open.take() {
                    done.sync_all()
                        .map_err(|e| BackupError::Io(e.to_string()))?;
                }
                let target = dir.0.join(path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                let file = File::options()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(io(&target))?;
                open = Some((path.clone(), file));
                files += 1;
            }
            if let Some((_, file)) = open.as_mut() {
                file.write_all(bytes)
                    .map_err(|e| BackupError::Io(e.to_string()))?;
            }
        }
        Ok(())
    })?;
    if let Some((_, done)) = open.take() {
        done.sync_all()
            .map_err(|e| BackupError::Io(e.to_string()))?;
    }
    crate::private::make_private(&dir.0).map_err(|e| BackupError::Io(e.to_string()))?;
    let key = crate::keyfile::read(&dir.node_key()).map_err(|e| BackupError::Io(e.to_string()))?;
    let store = LedgerStore::new(SledKv::open(&dir.store())?)
        .sealed_with(ebl_consensus::load::seal_key(&key));
    let mut block: Option<(StoredBlock, Option<Certificate>, Vec<SignedTransaction>)> = None;
    let mut transactions = 0u64;
    let mut head: Option<(u64, Hash)> = None;
    let write =
        |store: &LedgerStore<SledKv>,
         (block, certificate, txs): (StoredBlock, Option<Certificate>, Vec<SignedTransaction>)|
         -> Result<(u64, Hash), BackupError> {
            store.write_block(&BlockWrite {
                block: &block,
                transactions: &txs,
            })?;
            if let Some(certificate) = &certificate {
                store.write_certificate(certificate)?;
            }
            Ok((block.header.header.height, block.header.header.hash()))
        };
    let header = walk(from, |frame| {
        match frame {
            Frame::Header(h) => store.init(&h.genesis)?,
            Frame::Block {
                block: b,
                certificate,
            } => {
                if let Some(done) = block.take() {
                    head = Some(write(&store, done)?);
                }
                block = Some((
                    b.clone(),
                    certificate.clone(),
                    Vec::with_capacity(b.tx_ids.len()),
                ));
            }
            Frame::Transaction(tx) => {
                if let Some((_, _, txs)) = block.as_mut() {
                    txs.push(tx.clone());
                    transactions += 1;
                }
            }
            Frame::File { .. } | Frame::End { .. } => {}
        }
        Ok(())
    })?;
    if let Some(done) = block.take() {
        head = Some(write(&store, done)?);
    }
    store.sync()?;
    if let Some((height, hash)) = head {
        store.record_witness(height, hash)?;
    }
    crate::verify::verify_store(&store, |_, _| {}).map_err(BackupError::Unsound)?;
    Ok(BackupSummary {
        chain: header.chain,
        height: header.height,
        transactions,
        files,
        bytes,
    })
}
