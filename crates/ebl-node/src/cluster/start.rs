//! Starting a member node of a cluster: its ledger loaded from its own store, its Raft log opened, the
//! state machine and the orderer started, and the cluster formed from the genesis's members (every
//! member may form it: the same membership proposed twice is one).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ebl_core::{PartyKey, SigningKey};
use ebl_store::{Kv, LedgerStore, SledKv, StoreError};
use openraft::{Config, SnapshotPolicy};
use tokio::sync::{mpsc, Semaphore};

use super::catchup::Catchup;
use super::log::LogStore;
use super::machine::{Applier, Machine};
use super::membership::KnownNodes;
use super::network::Network;
use super::order::{Orderer, RaftConsensus};
use super::peer::PeerClient;
use super::{node_id, Cluster, Raft, Timing};
use crate::api::App;
use crate::metrics::Metrics;
use crate::node::{NodeError, Running, Settings};
use crate::pint::Receiver;

/// Where a member node keeps its Raft log and any evidence of a refused proposal.
#[derive(Debug, Clone)]
pub(crate) struct ClusterFiles {
    pub raft: PathBuf,
    pub evidence: PathBuf,
    /// Present when the node was made to join a running cluster (`ebl-node init --join`): its key is
    /// no genesis member's, and it waits for governance to admit it and the leader to add it.
    pub join: PathBuf,
    /// How this node calls its peers (`tls/peers.pem` in the data directory).
    pub peer_tls: crate::tls::PeerTls,
}

/// Starts this member's node in the cluster of its genesis. Call inside a tokio runtime.
pub(crate) async fn start<K: Kv>(
    store: LedgerStore<K>,
    node_key: SigningKey,
    settings: Settings,
    mut pint: Receiver,
    files: ClusterFiles,
    timing: Timing,
) -> Result<Running<K>, NodeError> {
    let store = store.sealed_with(crate::node::seal_key(&node_key));
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    store.check_witness()?;
    let own = PartyKey::of(&node_key);
    let founding = genesis.member_by_node(&own).is_some();
    if !founding && !files.join.exists() {
        return Err(NodeError::NotAMember(PathBuf::from("node.key")));
    }
    let ids: HashSet<u64> = genesis.members.iter().map(|m| node_id(&m.node)).collect();
    if ids.len() != genesis.members.len() {
        return Err(NodeError::ClusterIdCollision);
    }
    pint.platform = genesis.platform.clone();
    pint.transfer_open_ms = settings.pint_transfer_open_ms;
    let voters = Cluster::voters(&genesis.members);
    let genesis_members = genesis.members.clone();
    let store = Arc::new(store);
    let metrics = Arc::new(Metrics::default());
    // A member that lost its Raft log (a restored backup holds none) would vote and acknowledge as if it
    // still held what it acknowledged before: refused before the log is made anew.
    let height = store.height()?;
    if height > 0 && !files.raft.exists() {
        return Err(NodeError::RaftStateLost {
            height,
            raft: files.raft.clone(),
        });
    }
    let raft_kv = Arc::new(SledKv::open(&files.raft)?);
    let log_store = LogStore::open(raft_kv.clone())?;
    let applier = Applier::open(
        store.clone(),
        genesis,
        node_key.clone(),
        metrics.clone(),
        raft_kv,
        files.evidence.clone(),
        settings.checkpoint_transactions,
    )?;
    let mut applier = applier;
    applier.pint_trust = pint.trust.clone();
    let chain = applier.ledger.chain_id();
    let published = applier.published.clone();
    let halted = applier.halted.clone();
    let applier = Arc::new(Mutex::new(applier));
    let client = PeerClient::new(chain, node_key.clone(), files.peer_tls.clone());
    let machine = Machine {
        applier: applier.clone(),
        catchup: Catchup {
            client: client.clone(),
            published: published.clone(),
        },
    };
    let known = KnownNodes::default();
    known.learn(&genesis_members);
    let contacts = super::contact::Contacts::default();
    let network = Network {
        client: client.clone(),
        known: known.clone(),
        contacts: contacts.clone(),
    };
    let config = Config {
        cluster_name: chain.to_hex(),
        heartbeat_interval: timing.heartbeat_ms,
        election_timeout_min: timing.election_min_ms,
        election_timeout_max: timing.election_max_ms,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(timing.snapshot_entries),
        max_in_snapshot_log_to_keep: timing.keep_entries,
        max_payload_entries: 16,
        ..Config::default()
    }
    .validate()
    .map_err(|e| NodeError::Raft(format!("cluster timing: {e}")))?;
    let id = node_id(&own);
    let raft = Raft::new(id, Arc::new(config), network, log_store, machine)
        .await
        .map_err(|e| NodeError::Raft(e.to_string()))?;
    let initialized = raft
        .is_initialized()
        .await
        .map_err(|e| NodeError::Raft(e.to_string()))?;
    if !initialized && founding {
        // Every member proposes the genesis's membership; the same membership twice is one.
        if let Err(e) = raft.initialize(voters).await {
            tracing::info!(error = %e, "the cluster was formed already");
        }
    }
    let cluster = Arc::new(Cluster {
        raft,
        id,
        published: published.clone(),
        halted: halted.clone(),
        client,
        fork: super::certify::ForkWatch {
            halted,
            evidence: files.evidence.clone(),
        },
        contacts,
        quorum_window: std::time::Duration::from_millis(timing.election_max_ms),
    });
    tokio::spawn(super::membership::reconcile(cluster.clone(), known));
    tokio::spawn(cluster.clone().watch_metrics(metrics.clone()));
    let (submissions, rx) = mpsc::channel(settings.pending_transactions_max.max(1));
    let orderer = Orderer::new(
        RaftConsensus {
            cluster: cluster.clone(),
            handle: tokio::runtime::Handle::current(),
        },
        applier,
        store.clone(),
        node_key.clone(),
    );
    let thread = std::thread::Builder::new()
        .name("orderer".into())
        .spawn(move || orderer.run(rx))
        .map_err(|e| NodeError::io("starting the orderer's thread", e))?;
    Ok(Running::new(
        Arc::new(App {
            store,
            published,
            submissions,
            queue: Arc::new(Semaphore::new(settings.pending_transactions_max)),
            checks: crate::checks::SignatureChecks::new(crate::checks::default_lanes()),
            metrics,
            node_key,
            pint,
            seen_requests: crate::auth::SeenRequests::default(),
            seen_peer_requests: crate::auth::SeenRequests::with_limits(
                crate::limits::SEEN_PEER_REQUESTS_MAX,
                crate::limits::SEEN_PEER_REQUESTS_MAX,
            ),
            cluster: Some(cluster),
            verifications: crate::admin::Verifications::default(),
            backups: crate::admin::Backups::default(),
            registry_index: std::sync::Mutex::default(),
        }),
        settings,
        thread,
    ))
}
