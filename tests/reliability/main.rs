//! C. Reliability families against real `ebl-node` processes; each prints its figure.
//! The power-loss family runs in `crates/ebl-node/tests/it/durability.rs` (it needs the fault layer under
//! the `Store` trait), and the tamper family there too; decoder fuzzing in `crates/ebl-core/tests/it/fuzz.rs`.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

mod bench_smoke;
mod crash;
mod floods;
mod load;
mod race;
mod tamper_files;

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit::Cast;
use ebl_core::{Hash, PartyKey};
use ebl_tests::{Http, NodeProcess};

/// A node process with the testkit cast registered (keys known to the test, so it can sign at speed).
#[derive(Debug)]
pub struct Bench {
    pub dir: tempfile::TempDir,
    pub node: NodeProcess,
    pub cast: Cast,
    pub chain: Hash,
}

impl Bench {
    pub fn start() -> Bench {
        let dir = tempfile::tempdir().expect("temp dir");
        let cast = Cast::new();
        let node = NodeProcess::init(&dir.path().join("node"), &PartyKey::of(&cast.operator));
        let genesis = Http::new(&node.url, Hash::ZERO)
            .get("/v1/genesis")
            .expect("genesis")
            .1;
        let chain: Hash = genesis["chain"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("chain");
        let bench = Bench {
            dir,
            node,
            cast,
            chain,
        };
        for tx in bench.cast.registrations(chain) {
            assert!(matches!(
                bench.http().submit(&tx),
                Ok(SubmitOutcome::Accepted { .. })
            ));
        }
        bench
    }

    pub fn http(&self) -> Http {
        Http::new(&self.node.url, self.chain)
    }

    /// The carrier issues a to-order bill to the shipper; returns (bill, head).
    pub fn issue(&self, reference: &str) -> Hash {
        let tx = self.cast.issue(self.chain, reference, 1).expect("issue");
        match self.http().submit(&tx) {
            Ok(SubmitOutcome::Accepted { id, .. }) => id,
            other => panic!("issue: {other:?}"),
        }
    }
}

/// The suites' seeded pseudo-random numbers.
pub use ebl_tests::next;
