//! The simulated consortium: three member nodes, each with its own simulated disks (the ledger store
//! and the Raft log, both losing what was not synced at a crash), its clock the runtime's paused one.

use std::path::PathBuf;
use std::sync::Arc;

use ebl_consensus::clock::Clock;
use ebl_consensus::cluster::peer::{PeerAnswer, PeerError, PeerRequest, PeerTransport};
use ebl_consensus::cluster::{self, node_id, Assembled, ClusterFiles, NodeId, Timing};
use ebl_consensus::Options;
use ebl_core::testkit::key;
use ebl_core::{Genesis, PartyKey, SigningKey};
use ebl_store::{FaultyKv, LedgerStore, StoreError, SyncBehaviour};

use crate::net::{wires, Shared, SimNetwork};

/// The timings of members on one site, a little quicker than a node's default (the runs are short).
pub(crate) const ONE_SITE: Timing = Timing {
    heartbeat_ms: 50,
    election_min_ms: 150,
    election_max_ms: 300,
    snapshot_entries: 1_000_000,
    keep_entries: 1_000,
};

/// The genesis's time; the simulated clock starts a little after it.
pub(crate) const GENESIS_MS: u64 = 1_000;

/// The runtime's paused clock as wall time, so block times follow simulated time.
#[derive(Debug)]
pub(crate) struct SimClock {
    start: tokio::time::Instant,
}

impl SimClock {
    pub(crate) fn new() -> SimClock {
        SimClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        let elapsed = tokio::time::Instant::now().duration_since(self.start);
        1_000_000 + u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}

/// No peer requests leave a simulated node: Raft's messages go by [`SimNetwork`], and with snapshots
/// off no node needs to catch up from blocks.
#[derive(Debug)]
struct Nowhere;

impl PeerTransport for Nowhere {
    fn send(&self, request: &PeerRequest<'_>) -> Result<PeerAnswer, PeerError> {
        Err(PeerError::Unreachable {
            address: request.address.to_owned(),
            reason: "a simulated node sends no peer requests".into(),
        })
    }
}

/// A three-member chain: member 0's admin is the cast's operator (t = 1), node keys testkit 21-23.
pub(crate) fn genesis() -> Genesis {
    let members = ebl_core::testkit::members(3, |i| format!("sim-{i}:1"));
    Genesis::new("sim", members, 1, "EBL", GENESIS_MS).expect("genesis")
}

/// A member node: its disks outlive its crashes.
pub(crate) struct Node {
    pub(crate) key: SigningKey,
    pub(crate) id: NodeId,
    pub(crate) ledger_disk: FaultyKv,
    pub(crate) raft_disk: FaultyKv,
    /// The cluster timings it runs with (no snapshots: their thread would write at moments no seed
    /// decides).
    pub(crate) timing: Timing,
    pub(crate) running: Option<Running>,
}

/// A node's running incarnation.
pub(crate) struct Running {
    pub(crate) assembled: Assembled<FaultyKv>,
    pub(crate) orderer: tokio::task::JoinHandle<Result<(), StoreError>>,
}

impl Node {
    /// Member `index`'s node; its Raft log's disk syncs as `raft_sync` says (the ledger's honestly).
    pub(crate) fn new(index: u8, raft_sync: SyncBehaviour, timing: Timing) -> Node {
        let key = key(21 + index);
        let ledger_disk = FaultyKv::new(SyncBehaviour::Honest);
        LedgerStore::new(ledger_disk.clone())
            .init(&genesis())
            .expect("init");
        ebl_store::Kv::sync(&ledger_disk).expect("sync");
        Node {
            id: node_id(&PartyKey::of(&key)),
            key,
            ledger_disk,
            raft_disk: FaultyKv::new(raft_sync),
            timing: Timing {
                snapshot_entries: 1_000_000,
                ..timing
            },
            running: None,
        }
    }

    /// Starts (or restarts) the node from what its disks hold.
    pub(crate) async fn start(&mut self, shared: &Shared, clock: &Arc<SimClock>) {
        self.ledger_disk.power_on().expect("power");
        self.raft_disk.power_on().expect("power");
        let options = Options {
            pending_transactions_max: 1024,
            // No checkpoint during a run: its thread would write at moments no seed decides.
            checkpoint_transactions: usize::MAX,
            newest_format: ebl_core::format::FORMAT_VERSION,
            clock: clock.clone(),
        };
        let files = ClusterFiles {
            raft: PathBuf::from("simulated"),
            evidence: PathBuf::from("simulated"),
            join: PathBuf::from("simulated-never-joins"),
            transport: Arc::new(Nowhere),
            follow: None,
            pint_trust: ebl_pint::TrustStore::default(),
        };
        let timing = self.timing;
        let network = SimNetwork {
            from: self.id,
            wires: shared.clone(),
        };
        let (assembled, orderer) = cluster::assemble(
            LedgerStore::new(self.ledger_disk.clone()),
            &self.key,
            &options,
            files,
            Arc::new(self.raft_disk.clone()),
            timing,
            network,
        )
        .await
        .expect("a simulated node starts");
        wires(shared)
            .rafts
            .insert(self.id, assembled.cluster.raft.clone());
        self.running = Some(Running {
            assembled,
            orderer: tokio::spawn(orderer),
        });
    }

    /// A power cut: Raft and the orderer stop where they are, and both disks lose what was not synced.
    pub(crate) async fn crash(&mut self, shared: &Shared) {
        wires(shared).rafts.remove(&self.id);
        let Some(running) = self.running.take() else {
            return;
        };
        running.orderer.abort();
        let _ = running.orderer.await;
        self.ledger_disk.crash().expect("crash");
        self.raft_disk.crash().expect("crash");
        let _ = running.assembled.cluster.raft.shutdown().await;
    }
}
