//! tamper, in the data files themselves: a byte flipped anywhere in sled's file must either change
//! nothing (the byte was unused) or be reported by `ebl-node verify`; never a shorter ledger that verifies.
//! In the transaction log every byte is used: every flip there is reported.

use std::collections::BTreeMap;

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit;
use ebl_core::Action;

use crate::{next, Bench};

const FLIPS: usize = 40;

#[test]
fn a_flipped_byte_in_the_data_file_never_verifies_as_a_shorter_ledger() {
    let mut bench = Bench::start();
    let bill = bench.issue("FLIP-1");
    let (mut holder, mut other) = (bench.cast.shipper.clone(), bench.cast.buyer.clone());
    let mut head = bill;
    for i in 0..10 {
        let tx = testkit::signed(
            bench.chain,
            head,
            100 + i,
            Action::Transfer { bill, to: other.id },
            &[&holder.key],
        );
        assert!(matches!(
            bench.http().submit(&tx),
            Ok(SubmitOutcome::Accepted { .. })
        ));
        head = tx.id();
        std::mem::swap(&mut holder, &mut other);
    }
    assert_eq!(bench.node.terminate(), 0);
    let clean = bench.node.verify();
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    let blocks = clean.json()["report"]["blocks"].as_u64().expect("blocks");

    let db = bench.node.data.join("store").join("db");
    let pristine = std::fs::read(&db).expect("read db");
    // sled preallocates its file with zeros: aim at the part it has written.
    let size = pristine
        .iter()
        .rposition(|b| *b != 0)
        .map_or(pristine.len(), |last| last + 1) as u64;
    let mut seed = 0xf11b_u64;
    let mut outcomes = BTreeMap::<String, usize>::new();
    for _ in 0..FLIPS {
        let at = (next(&mut seed) % size) as usize;
        let mut damaged = pristine.clone();
        damaged[at] ^= 1 << (next(&mut seed) % 8);
        std::fs::write(&db, &damaged).expect("write db");
        let run = bench.node.verify();
        let outcome = match run.code {
            0 => {
                let verified = run.json()["report"]["blocks"].as_u64().unwrap_or(0);
                assert_eq!(
                    verified, blocks,
                    "byte {at}: a shorter ledger verified as sound"
                );
                "unused byte, ledger intact".to_owned()
            }
            1 => format!(
                "fault {}",
                run.json()["failure"]["code"].as_str().unwrap_or("?")
            ),
            other => panic!("byte {at}: verify exited {other}: {}", run.stderr),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    std::fs::write(&db, &pristine).expect("restore");
    println!("tamper (data file): {FLIPS} single-bit flips in sled's file: {outcomes:?}");

    let log = bench.node.data.join("store.log");
    let pristine = std::fs::read(&log).expect("read log");
    assert!(!pristine.is_empty());
    for _ in 0..FLIPS {
        let at = (next(&mut seed) % pristine.len() as u64) as usize;
        let mut damaged = pristine.clone();
        damaged[at] ^= 1 << (next(&mut seed) % 8);
        std::fs::write(&log, &damaged).expect("write log");
        let run = bench.node.verify();
        assert_eq!(run.code, 1, "log byte {at}: the flip went unnoticed");
        assert_eq!(
            run.json()["failure"]["code"],
            "storage_corrupt",
            "log byte {at}"
        );
    }
    std::fs::write(&log, &pristine).expect("restore");
    assert_eq!(bench.node.verify().code, 0, "the restored store verifies");
    println!("tamper (transaction log): {FLIPS} single-bit flips, all reported");
}
