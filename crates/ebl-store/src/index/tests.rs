//! The id index against a plain map: lookups through memory, frozen tables, runs and merges, and what
//! an open after a crash keeps.

use std::collections::BTreeMap;

use ebl_core::{Hash, TxId};

use super::*;

/// Small tables and a fanout of three, so a few hundred entries make several levels of runs.
const SMALL: Shape = Shape {
    flush_entries: 10,
    merge_fanout: 3,
};

/// Blocks of one to four transactions, each with a position that names its block.
fn blocks(count: u64) -> Vec<(u64, Vec<(TxId, Position)>)> {
    let mut offset = 0;
    (1..=count)
        .map(|height| {
            let n = 1 + (height % 4);
            let entries = (0..n)
                .map(|index| {
                    let id = Hash::of(&[height.to_le_bytes(), index.to_le_bytes()].concat());
                    let at = Position {
                        height,
                        index: u32::try_from(index).expect("small"),
                        offset,
                        len: 100,
                    };
                    offset += 100;
                    (id, at)
                })
                .collect();
            (height, entries)
        })
        .collect()
}

fn model(blocks: &[(u64, Vec<(TxId, Position)>)]) -> BTreeMap<TxId, Position> {
    blocks.iter().flat_map(|(_, e)| e.iter().copied()).collect()
}

fn add_all(index: &IdIndex, blocks: &[(u64, Vec<(TxId, Position)>)]) {
    for (height, entries) in blocks {
        index.add_block(*height, entries.clone()).expect("indexed");
    }
}

fn assert_finds(index: &IdIndex, model: &BTreeMap<TxId, Position>) {
    for (id, at) in model {
        assert_eq!(index.find(id).expect("lookup"), Some(*at), "{id:?}");
    }
    for n in 0u64..50 {
        let absent = Hash::of(&n.to_be_bytes());
        assert_eq!(index.find(&absent).expect("lookup"), None);
    }
}

/// Indexes `blocks` into runs in `dir`, waits for the writer, closes the index; returns its runs.
fn written_runs(dir: &Path, blocks: &[(u64, Vec<(TxId, Position)>)]) -> Vec<(u64, u64, u32)> {
    let index = IdIndex::open(Some(dir.to_owned()), 0, SMALL).expect("open");
    add_all(&index, blocks);
    index.settle().expect("settled");
    index.runs()
}

fn run_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

#[test]
fn every_entry_is_found_in_memory_in_frozen_tables_in_runs_and_after_merges() {
    let dir = tempfile::tempdir().expect("dir");
    let index = IdIndex::open(Some(dir.path().to_owned()), 0, SMALL).expect("open");
    let all = blocks(300);
    // Looked up while tables are still being written and merged behind the lookups.
    for chunk in all.chunks(37) {
        add_all(&index, chunk);
        let seen: Vec<_> = all
            .iter()
            .take_while(|(h, _)| *h <= chunk[chunk.len() - 1].0)
            .cloned()
            .collect();
        assert_finds(&index, &model(&seen));
    }
    index.settle().expect("settled");
    assert_finds(&index, &model(&all));
    let runs = index.runs();
    // Contiguous from height 1, levels never growing towards the newest, and merged at least twice over.
    assert_eq!(runs[0].0, 1);
    assert!(
        runs.windows(2)
            .all(|w| w[1].0 == w[0].1 + 1 && w[1].2 <= w[0].2),
        "{runs:?}"
    );
    assert!(runs[0].2 >= 2, "{runs:?}");
    assert!(runs.len() < 10, "merges keep the runs few: {runs:?}");
    let in_runs: usize = all
        .iter()
        .filter(|(h, _)| *h <= runs[runs.len() - 1].1)
        .map(|(_, e)| e.len())
        .sum();
    assert_eq!(index.check().expect("checked"), in_runs as u64);
    // One file per run, nothing else left behind.
    assert_eq!(run_files(dir.path()).len(), runs.len());
}

#[test]
fn a_memory_index_holds_everything_without_runs() {
    let index = IdIndex::open(None, 0, SMALL).expect("open");
    let all = blocks(100);
    add_all(&index, &all);
    assert_finds(&index, &model(&all));
    assert!(index.runs().is_empty());
}

#[test]
fn blocks_are_indexed_in_order_only() {
    let index = IdIndex::open(None, 0, SMALL).expect("open");
    let all = blocks(3);
    index.add_block(1, all[0].1.clone()).expect("first");
    let refused = index.add_block(3, all[2].1.clone()).expect_err("a gap");
    assert_eq!(refused.code(), "storage_corrupt");
    index.add_block(2, all[1].1.clone()).expect("second");
    assert_eq!(index.indexed_to().expect("height"), 2);
}

#[test]
fn reopening_keeps_the_runs_and_the_blocks_after_them_are_indexed_again() {
    let dir = tempfile::tempdir().expect("dir");
    let all = blocks(200);
    let last_run = written_runs(dir.path(), &all).last().expect("runs").1;
    let index = IdIndex::open(Some(dir.path().to_owned()), 200, SMALL).expect("reopen");
    assert_eq!(index.indexed_to().expect("height"), last_run);
    add_all(&index, &all[usize::try_from(last_run).expect("small")..]);
    assert_finds(&index, &model(&all));
}

/// A crash can take back blocks that were written but not synced, after the writer indexed them in a
/// run: an open against the shorter store drops every run reaching past its head.
#[test]
fn regression_runs_above_a_head_a_crash_took_back_are_dropped() {
    let dir = tempfile::tempdir().expect("dir");
    let all = blocks(200);
    let runs = written_runs(dir.path(), &all);
    // The store came back at a height inside the last run.
    let (lo, hi, _) = *runs.last().expect("runs");
    let head = lo + (hi - lo) / 2;
    let index = IdIndex::open(Some(dir.path().to_owned()), head, SMALL).expect("reopen");
    assert_eq!(index.indexed_to().expect("height"), lo - 1);
    assert_eq!(run_files(dir.path()).len(), runs.len() - 1);
    // The blocks the store holds are indexed again; different ones may follow at the lost heights.
    let kept = usize::try_from(lo - 1).expect("small");
    let held = usize::try_from(head).expect("small");
    add_all(&index, &all[kept..held]);
    assert_finds(&index, &model(&all[..held]));
    let lost = all[held].1[0].0;
    assert_eq!(index.find(&lost).expect("lookup"), None);
}

/// What a crash leaves mid-way: a run being written (`.tmp`), a merge renamed into place whose inputs
/// were not yet removed, a run torn or damaged. The open keeps what is whole and contiguous.
#[test]
fn regression_an_open_after_a_crash_mid_write_or_mid_merge_keeps_only_whole_contiguous_runs() {
    let dir = tempfile::tempdir().expect("dir");
    let all = blocks(200);
    let runs = written_runs(dir.path(), &all);
    let files = run_files(dir.path());
    // A merge's input still beside the merged run: the widest run starting at 1 wins.
    let merged_first = &files[0];
    let (lo, hi) = parse_run_name(merged_first).expect("name");
    assert!(hi > lo);
    let input = dir.path().join(run::run_name(lo, lo));
    std::fs::write(&input, b"an input the merge had not yet removed").expect("write");
    std::fs::write(dir.path().join("x.run.tmp"), b"half a run").expect("write");
    {
        let index = IdIndex::open(Some(dir.path().to_owned()), 200, SMALL).expect("reopen");
        assert_eq!(index.runs(), runs);
    }
    assert_eq!(run_files(dir.path()), files);
    // A damaged trailer in the second run: it and everything after it are indexed again.
    let second = dir.path().join(&files[1]);
    let mut bytes = std::fs::read(&second).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&second, bytes).expect("damage");
    let index = IdIndex::open(Some(dir.path().to_owned()), 200, SMALL).expect("reopen");
    assert_eq!(index.runs(), runs[..1].to_vec());
    add_all(&index, &all[usize::try_from(runs[0].1).expect("small")..]);
    assert_finds(&index, &model(&all));
}

/// A flipped bit in a page is reported with its run and page, never answered from.
#[test]
fn a_damaged_page_is_reported_not_served() {
    let dir = tempfile::tempdir().expect("dir");
    let all = blocks(40);
    let index = IdIndex::open(Some(dir.path().to_owned()), 0, SMALL).expect("open");
    add_all(&index, &all);
    index.settle().expect("settled");
    let first = dir.path().join(&run_files(dir.path())[0]);
    let mut bytes = std::fs::read(&first).expect("read");
    bytes[40] ^= 1;
    std::fs::write(&first, bytes).expect("damage");
    let failed = model(&all)
        .keys()
        .map(|id| index.find(id))
        .find_map(Result::err)
        .expect("a lookup reads the damaged page");
    assert!(
        matches!(&failed, StoreError::Corrupt { what: "id index run", reason, .. } if reason.contains("page 0")),
        "{failed:?}"
    );
    assert_eq!(
        index.check().expect_err("checked").code(),
        "storage_corrupt"
    );
}

/// A writer that cannot write (its directory is gone) leaves its failure for the next block to meet
/// before that block is written; what was indexed still answers from memory.
#[test]
fn a_failed_writer_is_reported_before_the_next_write_and_lookups_still_answer() {
    let dir = tempfile::tempdir().expect("dir");
    let index_dir = dir.path().join("index");
    let index = IdIndex::open(Some(index_dir.clone()), 0, SMALL).expect("open");
    std::fs::remove_dir_all(&index_dir).expect("lose the directory");
    let all = blocks(20);
    add_all(&index, &all);
    let failed = index.settle().expect_err("the writer failed");
    assert_eq!(failed.code(), "storage_io");
    assert_eq!(index.writable().expect_err("refused").code(), "storage_io");
    assert_finds(&index, &model(&all));
}

/// `FLUSH_ENTRIES` at its boundary, with the default shape: one entry short, everything is still in
/// memory; at the limit, the table becomes the first run.
#[test]
fn a_table_is_written_when_it_holds_flush_entries_and_not_before() {
    let dir = tempfile::tempdir().expect("dir");
    let index = IdIndex::open(Some(dir.path().to_owned()), 0, Shape::default()).expect("open");
    let block = |height: u64, count: usize| -> Vec<(TxId, Position)> {
        (0..count)
            .map(|i| {
                let index = u32::try_from(i).expect("small");
                let id =
                    Hash::of(&[height.to_le_bytes().as_slice(), &index.to_le_bytes()].concat());
                (
                    id,
                    Position {
                        height,
                        index,
                        offset: 0,
                        len: 1,
                    },
                )
            })
            .collect()
    };
    index
        .add_block(1, block(1, FLUSH_ENTRIES - 1))
        .expect("indexed");
    index.settle().expect("settled");
    assert!(index.runs().is_empty());
    index.add_block(2, block(2, 1)).expect("indexed");
    index.settle().expect("settled");
    assert_eq!(index.runs(), vec![(1, 2, 0)]);
    assert_eq!(index.check().expect("checked"), FLUSH_ENTRIES as u64);
}
