//! One sorted run of the id index: a file of fixed-width entries in id order, checksummed page by page,
//! with the first id of every page at its end so a lookup reads one page.
//!
//! Layout (little-endian integers):
//! - pages of up to [`PAGE_ENTRIES`] entries of [`ENTRY_BYTES`] each (id 32, height 8, index 4, log
//!   offset 8, log length 4), each page followed by SHA-256 over a domain, the run's height range, the
//!   page's number and its bytes: a page that was altered, torn or moved fails its check;
//! - the fences: the first id of every page, 32 bytes each;
//! - the trailer: magic, level, lowest and highest height, entry count, page count, and SHA-256 over
//!   the fences and those fields.
//!
//! These files are local and derived (from the block records, which are the truth): they are never
//! signed, shared or hashed into the chain, so they are written by hand here, not by the ledger's codec.

use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use ebl_core::{Hash, TxId};

use crate::{Result, StoreError};

/// Bytes of one entry: id, height, index in block, log offset, log length.
pub(crate) const ENTRY_BYTES: usize = 32 + 8 + 4 + 8 + 4;
/// Entries per page: one lookup reads and checks one page (64 × 56 + 32 = 3 616 bytes).
pub(crate) const PAGE_ENTRIES: usize = 64;
const CHECK_BYTES: usize = 32;
const PAGE_BYTES: usize = PAGE_ENTRIES * ENTRY_BYTES + CHECK_BYTES;
const MAGIC: &[u8; 8] = b"eblidx01";
const TRAILER_BYTES: usize = 8 + 4 + 8 + 8 + 8 + 8 + CHECK_BYTES;
/// A run being written is synced every this many bytes, not only once at its end. On ext4 (ordered
/// data) a journal commit carries the data written since the last one, and the ledger's log append
/// waits for whichever commit is under way: one fsync of a 14 MB merged run held block writes up to
/// 100 ms, measured on the 2-core machine; a megabyte at a time keeps that wait a few milliseconds.
pub(crate) const RUN_SYNC_BYTES: usize = 1 << 20;
/// The suffix of a finished run's name; `.tmp` is a run being written (removed at open).
pub(crate) const RUN_SUFFIX: &str = ".run";
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Where a transaction is: its block and place there, and its sealed bytes in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) height: u64,
    pub(crate) index: u32,
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

/// An id and where its transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) id: TxId,
    pub(crate) at: Position,
}

impl Entry {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(&self.at.height.to_le_bytes());
        out.extend_from_slice(&self.at.index.to_le_bytes());
        out.extend_from_slice(&self.at.offset.to_le_bytes());
        out.extend_from_slice(&self.at.len.to_le_bytes());
    }

    /// Reads an entry from exactly [`ENTRY_BYTES`].
    fn take(bytes: &[u8]) -> Option<Entry> {
        let id: [u8; 32] = bytes.get(..32)?.try_into().ok()?;
        let u64_at = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        };
        let u32_at = |at: usize| -> Option<u32> {
            Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
        };
        Some(Entry {
            id: Hash(id),
            at: Position {
                height: u64_at(32)?,
                index: u32_at(40)?,
                offset: u64_at(44)?,
                len: u32_at(52)?,
            },
        })
    }
}

/// The file name of the run covering heights `lo..=hi`.
pub(crate) fn run_name(lo: u64, hi: u64) -> String {
    format!("{lo:020}-{hi:020}{RUN_SUFFIX}")
}

/// The height range a run's file name states, `None` for any other name.
pub(crate) fn parse_run_name(name: &str) -> Option<(u64, u64)> {
    let (lo, hi) = name.strip_suffix(RUN_SUFFIX)?.split_once('-')?;
    Some((lo.parse().ok()?, hi.parse().ok()?))
}

fn page_check(lo: u64, hi: u64, page: u64, bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"ebl-store/id-index/page/1\n");
    h.update(lo.to_le_bytes());
    h.update(hi.to_le_bytes());
    h.update(page.to_le_bytes());
    h.update(bytes);
    h.finalize().into()
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// A finished run, open for lookups: its fences are in memory, its pages read on demand.
#[derive(Debug)]
pub(crate) struct Run {
    file: File,
    path: PathBuf,
    /// How many merges made it: a flushed table is level 0, a merge of level-L runs level L + 1.
    pub(crate) level: u32,
    /// The heights whose transactions it indexes, all of them: `lo..=hi`.
    pub(crate) lo: u64,
    pub(crate) hi: u64,
    pub(crate) count: u64,
    fences: Vec<TxId>,
}

impl Run {
    fn corrupt(&self, reason: impl Into<String>) -> StoreError {
        corrupt_at(&self.path, reason)
    }

    /// Writes a run from entries in ascending id order, durably, under its final name: a temporary
    /// file, fsync, rename, fsync of the directory. `None` if `stop` was raised on the way (the
    /// temporary file is removed).
    pub(crate) fn write(
        dir: &Path,
        level: u32,
        lo: u64,
        hi: u64,
        entries: impl Iterator<Item = Result<Entry>>,
        stop: &AtomicBool,
    ) -> Result<Option<Run>> {
        let name = run_name(lo, hi);
        let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
        let written = Run::write_pages(&tmp, lo, hi, level, entries, stop);
        match written {
            Ok(true) => {}
            Ok(false) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(None);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        let path = dir.join(&name);
        std::fs::rename(&tmp, &path).map_err(io)?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        Run::open(&path).map(Some)
    }

    /// The pages, fences and trailer into `tmp`, synced; `false` if stopped.
    fn write_pages(
        tmp: &Path,
        lo: u64,
        hi: u64,
        level: u32,
        entries: impl Iterator<Item = Result<Entry>>,
        stop: &AtomicBool,
    ) -> Result<bool> {
        let mut file =
            std::io::BufWriter::with_capacity(RUN_SYNC_BYTES, File::create(tmp).map_err(io)?);
        let mut fences: Vec<u8> = Vec::new();
        let mut page: Vec<u8> = Vec::with_capacity(PAGE_BYTES);
        let mut pages = 0u64;
        let mut count = 0u64;
        let mut last: Option<TxId> = None;
        let mut unsynced = 0usize;
        let mut flush_page = |page: &mut Vec<u8>, pages: &mut u64| -> Result<()> {
            let check = page_check(lo, hi, *pages, page);
            page.extend_from_slice(&check);
            file_write(&mut file, page)?;
            unsynced += page.len();
            if unsynced >= RUN_SYNC_BYTES {
                std::io::Write::flush(&mut file)
                    .and_then(|()| file.get_ref().sync_data())
                    .map_err(io)?;
                unsynced = 0;
            }
            page.clear();
            *pages += 1;
            Ok(())
        };
        for entry in entries {
            let entry = entry?;
            if last.is_some_and(|l| l > entry.id) {
                return Err(corrupt_at(tmp, "entries out of id order"));
            }
            last = Some(entry.id);
            if page.is_empty() {
                if stop.load(Ordering::Relaxed) {
                    return Ok(false);
                }
                fences.extend_from_slice(entry.id.as_bytes());
            }
            entry.put(&mut page);
            count += 1;
            if page.len() == PAGE_ENTRIES * ENTRY_BYTES {
                flush_page(&mut page, &mut pages)?;
            }
        }
        if !page.is_empty() {
            flush_page(&mut page, &mut pages)?;
        }
        let trailer = trailer(level, lo, hi, count, pages, &fences);
        file.write_all(&fences).map_err(io)?;
        file.write_all(&trailer).map_err(io)?;
        let file = file.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(true)
    }

    /// Opens a run and checks its trailer and fences (its pages are checked as they are read).
    pub(crate) fn open(path: &Path) -> Result<Run> {
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let bad = |reason: &str| corrupt_at(path, reason);
        let Some((lo, hi)) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(parse_run_name)
        else {
            return Err(bad("not a run's name"));
        };
        if size < TRAILER_BYTES as u64 {
            return Err(bad("shorter than its trailer"));
        }
        let mut tail = vec![0u8; TRAILER_BYTES];
        file.read_exact_at(&mut tail, size - TRAILER_BYTES as u64)
            .map_err(io)?;
        if &tail[..8] != MAGIC {
            return Err(bad("no run trailer"));
        }
        let field = |at: usize| -> u64 {
            let mut b = [0u8; 8];
            b.copy_from_slice(&tail[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let mut level = [0u8; 4];
        level.copy_from_slice(&tail[8..12]);
        let level = u32::from_le_bytes(level);
        let (t_lo, t_hi, count, pages) = (field(12), field(20), field(28), field(36));
        if (t_lo, t_hi) != (lo, hi) || lo > hi {
            return Err(bad("its trailer names other heights than its name"));
        }
        let full_pages = count / PAGE_ENTRIES as u64;
        let rest = count % PAGE_ENTRIES as u64;
        let expected_pages = full_pages + u64::from(rest > 0);
        let page_bytes = count * ENTRY_BYTES as u64 + pages * CHECK_BYTES as u64;
        if pages != expected_pages || page_bytes + pages * 32 + TRAILER_BYTES as u64 != size {
            return Err(bad("its length does not match its trailer"));
        }
        let fence_len = usize::try_from(pages * 32).map_err(|_| bad("too many pages"))?;
        let mut fence_bytes = vec![0u8; fence_len];
        file.read_exact_at(&mut fence_bytes, page_bytes)
            .map_err(io)?;
        let expected = trailer(level, lo, hi, count, pages, &fence_bytes);
        if expected != tail {
            return Err(bad("trailer checksum mismatch"));
        }
        let fences = fence_bytes
            .chunks_exact(32)
            .map(|c| {
                let mut id = [0u8; 32];
                id.copy_from_slice(c);
                Hash(id)
            })
            .collect();
        Ok(Run {
            file,
            path: path.to_owned(),
            level,
            lo,
            hi,
            count,
            fences,
        })
    }

    /// The run's file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn pages(&self) -> u64 {
        self.fences.len() as u64
    }

    /// Page `n`'s entries, checked against the page's checksum, its fence and id order.
    fn page(&self, n: u64) -> Result<Vec<Entry>> {
        // Every page is full but the last, which holds the rest (`open` checked the count).
        let rest = usize::try_from(self.count % PAGE_ENTRIES as u64).unwrap_or(0);
        let entries = if n + 1 == self.pages() && rest != 0 {
            rest
        } else {
            PAGE_ENTRIES
        };
        let mut bytes = vec![0u8; entries * ENTRY_BYTES + CHECK_BYTES];
        self.file
            .read_exact_at(&mut bytes, n * PAGE_BYTES as u64)
            .map_err(io)?;
        let (body, check) = bytes.split_at(entries * ENTRY_BYTES);
        if page_check(self.lo, self.hi, n, body) != check {
            return Err(self.corrupt(format!("page {n}: checksum mismatch")));
        }
        let out: Vec<Entry> = body
            .chunks_exact(ENTRY_BYTES)
            .filter_map(Entry::take)
            .collect();
        let fence = usize::try_from(n).ok().and_then(|i| self.fences.get(i));
        if out.first().map(|e| &e.id) != fence || out.windows(2).any(|w| w[0].id > w[1].id) {
            return Err(self.corrupt(format!("page {n}: out of order")));
        }
        Ok(out)
    }

    /// Where `id`'s transaction is, if this run indexes it: one page read.
    pub(crate) fn find(&self, id: &TxId) -> Result<Option<Position>> {
        let after = self.fences.partition_point(|f| f <= id);
        let Some(page) = after.checked_sub(1) else {
            return Ok(None);
        };
        let entries = self.page(page as u64)?;
        Ok(entries
            .binary_search_by(|e| e.id.cmp(id))
            .ok()
            .map(|i| entries[i].at))
    }

    /// Every entry in id order, page by page, each page checked.
    pub(crate) fn entries(&self) -> impl Iterator<Item = Result<Entry>> + '_ {
        (0..self.pages()).flat_map(move |n| match self.page(n) {
            Ok(entries) => entries.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }
}

fn file_write(file: &mut impl std::io::Write, bytes: &[u8]) -> Result<()> {
    file.write_all(bytes).map_err(io)
}

fn corrupt_at(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: "id index run",
        key: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        reason: reason.into(),
    }
}

fn trailer(level: u32, lo: u64, hi: u64, count: u64, pages: u64, fences: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(TRAILER_BYTES);
    t.extend_from_slice(MAGIC);
    t.extend_from_slice(&level.to_le_bytes());
    t.extend_from_slice(&lo.to_le_bytes());
    t.extend_from_slice(&hi.to_le_bytes());
    t.extend_from_slice(&count.to_le_bytes());
    t.extend_from_slice(&pages.to_le_bytes());
    let mut h = Sha256::new();
    h.update(b"ebl-store/id-index/trailer/1\n");
    h.update(fences);
    h.update(&t);
    t.extend_from_slice(&h.finalize());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run file, byte for byte: stores carry these files across versions, so a change here is a
    /// format change (a new magic) and must be made on purpose.
    #[test]
    fn the_layout_of_a_run_is_pinned() {
        let dir = tempfile::tempdir().expect("dir");
        let entry = |n: u8, height: u64| Entry {
            id: Hash([n; 32]),
            at: Position {
                height,
                index: u32::from(n),
                offset: 1000 * height,
                len: 300 + u32::from(n),
            },
        };
        let entries = [entry(1, 7), entry(2, 9)];
        let run = Run::write(
            dir.path(),
            3,
            7,
            9,
            entries.iter().copied().map(Ok),
            &AtomicBool::new(false),
        )
        .expect("written")
        .expect("not stopped");
        assert_eq!(
            run.path().file_name().and_then(|n| n.to_str()),
            Some("00000000000000000007-00000000000000000009.run")
        );
        let mut expected = Vec::new();
        for e in &entries {
            expected.extend_from_slice(&[e.id.0[0]; 32]);
            expected.extend_from_slice(&e.at.height.to_le_bytes());
            expected.extend_from_slice(&e.at.index.to_le_bytes());
            expected.extend_from_slice(&e.at.offset.to_le_bytes());
            expected.extend_from_slice(&e.at.len.to_le_bytes());
        }
        let page = Hash::of_parts(&[
            b"ebl-store/id-index/page/1\n",
            &7u64.to_le_bytes(),
            &9u64.to_le_bytes(),
            &0u64.to_le_bytes(),
            &expected,
        ]);
        expected.extend_from_slice(page.as_bytes());
        let fences = [1u8; 32];
        expected.extend_from_slice(&fences);
        let mut trailer = b"eblidx01".to_vec();
        trailer.extend_from_slice(&3u32.to_le_bytes());
        for n in [7u64, 9, 2, 1] {
            trailer.extend_from_slice(&n.to_le_bytes());
        }
        let check = Hash::of_parts(&[b"ebl-store/id-index/trailer/1\n", &fences, &trailer]);
        expected.extend_from_slice(&trailer);
        expected.extend_from_slice(check.as_bytes());
        assert_eq!(std::fs::read(run.path()).expect("read"), expected);
        assert_eq!(
            run.find(&Hash([2; 32])).expect("found"),
            Some(entries[1].at)
        );
        assert_eq!(run.find(&Hash([0; 32])).expect("before"), None);
        assert_eq!(run.find(&Hash([3; 32])).expect("after"), None);
    }

    #[test]
    fn entries_out_of_order_are_refused_and_leave_no_file() {
        let dir = tempfile::tempdir().expect("dir");
        let at = Position {
            height: 1,
            index: 0,
            offset: 0,
            len: 1,
        };
        let entries = [Hash([2; 32]), Hash([1; 32])].map(|id| Ok(Entry { id, at }));
        let refused = Run::write(
            dir.path(),
            0,
            1,
            1,
            entries.into_iter(),
            &AtomicBool::new(false),
        )
        .expect_err("out of order");
        assert_eq!(refused.code(), "storage_corrupt");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }

    /// A run of more than one page: every id is found on its page, the last page is partial.
    #[test]
    fn lookups_read_the_page_their_fence_names() {
        let dir = tempfile::tempdir().expect("dir");
        let mut ids: Vec<TxId> = (0..3 * PAGE_ENTRIES + 5)
            .map(|n| Hash::of(&(n as u64).to_le_bytes()))
            .collect();
        ids.sort();
        let entries = ids.iter().enumerate().map(|(n, id)| {
            Ok(Entry {
                id: *id,
                at: Position {
                    height: 1,
                    index: u32::try_from(n).expect("small"),
                    offset: 0,
                    len: 1,
                },
            })
        });
        let run = Run::write(dir.path(), 0, 1, 1, entries, &AtomicBool::new(false))
            .expect("written")
            .expect("not stopped");
        assert_eq!(run.pages(), 4);
        for (n, id) in ids.iter().enumerate() {
            let at = run.find(id).expect("lookup").expect("found");
            assert_eq!(at.index as usize, n);
        }
        assert_eq!(run.entries().count(), ids.len());
    }
}
