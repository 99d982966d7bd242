//! Wiring: a data directory, the store, the sequencer thread and the HTTP server, started and stopped.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use ebl_core::{Genesis, Ledger, PartyKey, Registry, SigningKey};
use ebl_store::{Kv, LedgerStore, SledKv, StoreError};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};

use crate::api::{router, App};
use crate::keyfile;
use crate::limits::{
    CHECKPOINT_TRANSACTIONS, CONNECTIONS_MAX, CONNECTIONS_PER_ADDRESS_MAX, CONNECTION_IDLE_MS,
    HEADER_READ_MS, PENDING_TRANSACTIONS_MAX, REQUEST_TIMEOUT_MS,
};
use crate::listener::LimitedListener;
use crate::metrics::Metrics;
use crate::pint::Receiver;
use crate::sequencer::Sequencer;
use crate::state::Published;
use crate::writer::BlockWriter;

/// Why the node could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed or refused the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file, a socket or a thread of the node's own failed: `what` says which, the source why.
    #[error("{what}: {source}")]
    Io {
        /// What was being done (`writing <path>`, `binding the listener`, ...).
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The operating system gave no randomness for a new key.
    #[error("no randomness for a new key: {0}")]
    NoRandomness(getrandom::Error),
    /// A node key file that is not 64 hex digits.
    #[error("{0} does not hold a 32-byte hex key")]
    BadKeyFile(PathBuf),
    /// `init --join` of a one-member chain: its node orders alone.
    #[error("a one-member chain's node orders alone: no other node can join it")]
    JoinAlone,
    /// `init --join` with the node key of a genesis member.
    #[error("this node key is a genesis member's: initialise it without --join")]
    JoinAsMember,
    /// Two member node keys whose Raft ids (the first 8 bytes of their hash) are the same.
    #[error("two member node keys share a cluster id (the first 8 bytes of their hash): make a new node key")]
    ClusterIdCollision,
    /// openraft refused to start: its configuration, or its storage at start.
    #[error("starting Raft: {0}")]
    Raft(String),
    /// The node's thread panicked, or did not say it started.
    #[error("the node's thread: {0}")]
    Thread(&'static str),
    /// A one-member chain's node started with another node's key.
    #[error("the node key in {0} is not the first member's node key: until the log is replicated across members' nodes, only that node orders the chain")]
    WrongNodeKey(PathBuf),
    /// A cluster node whose key no member of the genesis names.
    #[error("the node key in {0} is not a member's node key in this genesis")]
    NotAMember(PathBuf),
    /// The genesis breaks a ledger rule.
    #[error("invalid genesis: {0}")]
    Genesis(#[from] ebl_core::Error),
    /// The sequencer thread ended (a storage failure it logged).
    #[error("the sequencer stopped: {0}")]
    Sequencer(String),
    /// The PINT trust directory could not be read.
    #[error("the PINT trust directory: {0}")]
    Trust(#[from] ebl_pint::trust_dir::TrustDirError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A consortium member's node whose store holds blocks but whose Raft log is gone: restored from a
    /// backup, or the log deleted. It must not vote or acknowledge again, or entries the consortium
    /// counted it for could be lost (and its leader's record of its log would run backwards).
    #[error("this member node's store holds {height} blocks but its Raft log ({raft}) is gone (a restored backup, or a deleted log); a member node that lost its log must not vote again. Keep this directory as a verified copy (`ebl-node verify`), and rejoin the consortium with a new node key (docs/upgrading.md, \"Restoring a consortium member\")")]
    RaftStateLost {
        /// The store's height.
        height: u64,
        /// Where the Raft log should be.
        raft: PathBuf,
    },
}

impl NodeError {
    /// An IO failure while doing `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> NodeError {
        NodeError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Where a node keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The store: sled's files, and beside them the transaction log and the head witness.
    pub fn store(&self) -> PathBuf {
        self.0.join("store")
    }
    /// What the PINT receiver keeps: `trust/`, `documents/`, `finished/`.
    pub fn pint(&self) -> PathBuf {
        self.0.join("pint")
    }

    /// Keys and certificates trusted to send PINT envelopes here, one directory per platform code
    /// (`ebl_pint::trust_dir::read_trust_dir`).
    pub fn pint_trust(&self) -> PathBuf {
        self.pint().join("trust")
    }

    /// Additional documents of accepted PINT transfers, named by their SHA-256.
    pub fn pint_documents(&self) -> PathBuf {
        self.pint().join("documents")
    }

    /// The node's own key (hex seed, 0600): it signs blocks, statements and PINT answers, and seals checkpoints.
    pub fn node_key(&self) -> PathBuf {
        self.0.join("node.key")
    }

    /// Written by `ebl-node init --join`: this node's key is no genesis member's; it joins once
    /// governance admits its member.
    pub fn join_marker(&self) -> PathBuf {
        self.0.join("join")
    }
    /// Written only when the node initialized itself for a first try: the operator key of that chain.
    pub fn operator_key(&self) -> PathBuf {
        self.0.join("operator.key")
    }

    /// Where a running node says it serves its API (`http://127.0.0.1:7878`): written once it listens,
    /// removed when it stops, so `ebl-node verify` beside it knows whom to ask.
    pub fn listening(&self) -> PathBuf {
        self.0.join("listening")
    }

    /// The certificate chain (PEM) the node serves TLS with, when it has one.
    pub fn tls_cert(&self) -> PathBuf {
        self.0.join("tls").join("cert.pem")
    }

    /// The private key (PEM) of [`DataDir::tls_cert`].
    pub fn tls_key(&self) -> PathBuf {
        self.0.join("tls").join("key.pem")
    }

    /// Certificates (PEM) this node trusts when it calls the other members' nodes over TLS: their
    /// development certificates, or the CA that signed them.
    pub fn tls_peers(&self) -> PathBuf {
        self.0.join("tls").join("peers.pem")
    }
}

use crate::api::now_ms;

/// Creates a new one-member ledger in `dir`: a node key and the genesis naming `operator` as the one
/// member's admin, with PINT platform code `platform`.
pub fn init(
    dir: &DataDir,
    chain_name: &str,
    operator: PartyKey,
    platform: &str,
) -> Result<Genesis, NodeError> {
    let node_key = node_key(dir)?;
    let genesis = Genesis::single(
        chain_name,
        operator,
        PartyKey::of(&node_key),
        platform,
        now_ms(),
    )?;
    init_from(dir, &genesis)?;
    Ok(genesis)
}

/// The node key in `dir`, made (and saved) if there is none yet: a member makes it before the genesis
/// that names it is written.
pub fn node_key(dir: &DataDir) -> Result<SigningKey, NodeError> {
    if dir.node_key().exists() {
        return keyfile::read(&dir.node_key());
    }
    std::fs::create_dir_all(&dir.0)
        .map_err(|e| NodeError::io(format!("creating {}", dir.0.display()), e))?;
    let key = keyfile::generate()?;
    keyfile::write(&dir.node_key(), &key)?;
    Ok(key)
}

/// Initialises the store in `dir` from a genesis whose members include this directory's node key.
pub fn init_from(dir: &DataDir, genesis: &Genesis) -> Result<(), NodeError> {
    genesis.check()?;
    let key = node_key(dir)?;
    if genesis.member_by_node(&PartyKey::of(&key)).is_none() {
        return Err(NodeError::NotAMember(dir.node_key()));
    }
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    if let Some(g) = store.genesis()? {
        return Err(StoreError::AlreadyInitialized(g.chain_id().to_hex()).into());
    }
    store.init(genesis)?;
    drop(store);
    crate::private::make_private(&dir.0)
}

/// Initialises the store in `dir` for a node that joins a running cluster: its key is no genesis
/// member's, so it waits (as a learner) for governance to admit it.
pub fn init_joining(dir: &DataDir, genesis: &Genesis) -> Result<(), NodeError> {
    genesis.check()?;
    if genesis.members.len() < 2 {
        return Err(NodeError::JoinAlone);
    }
    let key = node_key(dir)?;
    if genesis.member_by_node(&PartyKey::of(&key)).is_some() {
        return Err(NodeError::JoinAsMember);
    }
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    if let Some(g) = store.genesis()? {
        return Err(StoreError::AlreadyInitialized(g.chain_id().to_hex()).into());
    }
    store.init(genesis)?;
    drop(store);
    std::fs::write(dir.join_marker(), b"joining\n")
        .map_err(|e| NodeError::io(format!("writing {}", dir.join_marker().display()), e))?;
    crate::private::make_private(&dir.0)
}

/// Limits a node runs with; the defaults are the named constants in [`crate::limits`], and tests lower
/// them to reach each boundary quickly.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Most transactions waiting to be ordered (`PENDING_TRANSACTIONS_MAX`).
    pub pending_transactions_max: usize,
    /// Most open client connections (`CONNECTIONS_MAX`).
    pub connections_max: usize,
    /// Most open connections from one address (`CONNECTIONS_PER_ADDRESS_MAX`).
    pub connections_per_address_max: usize,
    /// How long an idle connection is kept (`CONNECTION_IDLE_MS`).
    pub connection_idle_ms: u64,
    /// How long a client has to send a request's whole header (`HEADER_READ_MS`).
    pub header_read_ms: u64,
    /// How long a PINT envelope transfer may stay open (`pint::TRANSFER_OPEN_MS_MAX`).
    pub pint_transfer_open_ms: u64,
    /// Transactions between two state checkpoints (`CHECKPOINT_TRANSACTIONS`).
    pub checkpoint_transactions: usize,
    /// How long one request may take (`REQUEST_TIMEOUT_MS`).
    pub request_timeout_ms: u64,
    /// The newest chain format this node orders: its release's own (`FORMAT_VERSION`). The binary
    /// has no flag for it; a test sets another to play a release that knows more formats, or fewer.
    pub newest_format: u16,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            pending_transactions_max: PENDING_TRANSACTIONS_MAX,
            connections_max: CONNECTIONS_MAX,
            connections_per_address_max: CONNECTIONS_PER_ADDRESS_MAX,
            connection_idle_ms: CONNECTION_IDLE_MS,
            header_read_ms: HEADER_READ_MS,
            pint_transfer_open_ms: crate::pint::TRANSFER_OPEN_MS_MAX,
            checkpoint_transactions: CHECKPOINT_TRANSACTIONS,
            request_timeout_ms: REQUEST_TIMEOUT_MS,
            newest_format: ebl_core::format::FORMAT_VERSION,
        }
    }
}

/// A started node: the shared application state and the sequencer thread.
#[derive(Debug)]
pub struct Running<K: Kv> {
    /// What the handlers share: the store, the published state, the queue to the sequencer, ...
    pub app: Arc<App<K>>,
    /// The limits it runs with.
    pub settings: Settings,
    sequencer: JoinHandle<Result<(), StoreError>>,
}

impl<K: Kv> Running<K> {
    pub(crate) fn new(
        app: Arc<App<K>>,
        settings: Settings,
        sequencer: JoinHandle<Result<(), StoreError>>,
    ) -> Running<K> {
        Running {
            app,
            settings,
            sequencer,
        }
    }
}

/// Loads the ledger from `store` and starts the sequencer, with the default limits.
pub fn start<K: Kv>(store: LedgerStore<K>, node_key: SigningKey) -> Result<Running<K>, NodeError> {
    start_with(store, node_key, Settings::default())
}

/// Loads the ledger from `store` and starts the sequencer, receiving no PINT transfers (trusting nobody).
pub fn start_with<K: Kv>(
    store: LedgerStore<K>,
    node_key: SigningKey,
    settings: Settings,
) -> Result<Running<K>, NodeError> {
    start_receiving(store, node_key, settings, Receiver::default())
}

/// Loads the ledger from `store` and starts the sequencer, with a PINT receiver.
pub fn start_receiving<K: Kv>(
    store: LedgerStore<K>,
    node_key: SigningKey,
    settings: Settings,
    mut pint: Receiver,
) -> Result<Running<K>, NodeError> {
    let store = store.sealed_with(seal_key(&node_key));
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    // A store that lost acknowledged blocks must not go on: new blocks would fork the history.
    store.check_witness()?;
    // Until the log is replicated one node orders, the first member's: a second ordering node would
    // fork the chain.
    if Some(PartyKey::of(&node_key)) != genesis.first_node() {
        return Err(NodeError::WrongNodeKey(PathBuf::from("node.key")));
    }
    pint.platform = genesis.platform.clone();
    pint.transfer_open_ms = settings.pint_transfer_open_ms;
    let Loaded {
        ledger,
        head,
        dirty_bills,
        dirty_parties,
        since_checkpoint,
        transactions,
    } = load(&store, genesis)?;
    let store = Arc::new(store);
    let metrics = Arc::new(Metrics::default());
    let published = Arc::new(RwLock::new(Published::new(
        ledger.clone(),
        head.as_ref().map(|b| b.header.clone()),
        transactions,
    )));
    let (submissions, rx) = mpsc::channel(settings.pending_transactions_max.max(1));
    let sequencer = Sequencer {
        ledger,
        writer: BlockWriter {
            store: store.clone(),
            node_key: node_key.clone(),
            metrics: metrics.clone(),
            head,
            dirty_bills,
            dirty_parties,
            since_checkpoint,
            checkpoint_transactions: settings.checkpoint_transactions.max(1),
            checkpoints: crate::checkpoints::Checkpoints::start(store.clone(), metrics.clone())?,
        },
        published: published.clone(),
        newest_format: settings.newest_format,
    };
    let thread = std::thread::Builder::new()
        .name("sequencer".into())
        .spawn(move || {
            let result = sequencer.run(rx);
            if let Err(e) = &result {
                tracing::error!(error = %e, "storage failed: the sequencer stopped and the node accepts no more transactions");
            }
            result
        })
        .map_err(|e| NodeError::io("starting the sequencer's thread", e))?;
    Ok(Running {
        app: Arc::new(App {
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
            cluster: None,
            verifications: crate::admin::Verifications::default(),
            backups: crate::admin::Backups::default(),
            registry_index: std::sync::Mutex::default(),
        }),
        settings,
        sequencer: thread,
    })
}

/// The ledger as the store holds it: the last checkpoint's state and the blocks after it replayed.
pub(crate) struct Loaded {
    pub ledger: Ledger,
    pub head: Option<ebl_store::StoredBlock>,
    pub dirty_bills: std::collections::BTreeSet<ebl_core::BillId>,
    pub dirty_parties: std::collections::BTreeSet<ebl_core::PartyId>,
    pub since_checkpoint: usize,
    pub transactions: u64,
}

pub(crate) fn load<K: Kv>(store: &LedgerStore<K>, genesis: Genesis) -> Result<Loaded, NodeError> {
    // State as of the last checkpoint, then the blocks after it replayed (their signatures were checked
    // before they were written; every record's seal is checked as it is read).
    let registry_state = match store.registry_head()? {
        Some(state) => state,
        None => Registry::new(&genesis).state().clone(),
    };
    let formats =
        ebl_core::format::FormatSchedule::from_parts(genesis.version, store.format_activations()?);
    let registry = Registry::from_parts(
        registry_state,
        formats,
        genesis.stated_faults(),
        store.parties()?,
    );
    let bills = store.bills()?;
    let mut ledger = Ledger::from_parts(genesis, registry, bills);
    let state_height = store.state_height()?;
    let head = store.head()?;
    let height = head.as_ref().map_or(0, |b| b.header.header.height);
    let mut dirty_bills = std::collections::BTreeSet::new();
    let mut dirty_parties = std::collections::BTreeSet::new();
    let mut since_checkpoint = 0;
    for h in state_height + 1..=height {
        let block = store.block(h)?.ok_or_else(|| StoreError::Corrupt {
            what: "block",
            key: h.to_string(),
            reason: "missing below the head".into(),
        })?;
        let stored_txs = store
            .block_transactions(h)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "block",
                key: h.to_string(),
                reason: "its transactions are not stored".into(),
            })?;
        ledger.set_block(h, block.header.header.time_ms);
        for (id, stored) in block.tx_ids.iter().zip(&stored_txs) {
            if stored.tx.id() != *id {
                return Err(StoreError::Corrupt {
                    what: "transaction",
                    key: id.to_hex(),
                    reason: "the stored transaction is not the one the block lists".into(),
                }
                .into());
            }
            let applied = ledger
                .apply_identified(&stored.tx, *id, ebl_core::Signatures::AlreadyVerified)
                .map_err(|e| StoreError::Corrupt {
                    what: "transaction",
                    key: id.to_hex(),
                    reason: format!("does not replay: {e}"),
                })?;
            dirty_bills.extend(applied.bills());
            dirty_parties.extend(applied.party);
            since_checkpoint += 1;
        }
    }
    let transactions = match &head {
        Some(_) => count_transactions(store)?,
        None => 0,
    };
    Ok(Loaded {
        ledger,
        head,
        dirty_bills,
        dirty_parties,
        since_checkpoint,
        transactions,
    })
}

fn count_transactions<K: Kv>(store: &LedgerStore<K>) -> Result<u64, StoreError> {
    let mut total = 0;
    for height in 1..=store.height()? {
        if let Some(b) = store.block(height)? {
            total += b.header.header.tx_count as u64;
        }
    }
    Ok(total)
}

/// The key this node seals its checkpoint states with: derived from its node key, a secret it keeps
/// already, so there is no second secret to lose or leak.
pub fn seal_key(node_key: &SigningKey) -> ebl_store::SealKey {
    ebl_store::SealKey::derive(&zeroize::Zeroizing::new(node_key.to_bytes())[..])
}

/// Opens the node in `dir`: its sled store and node key.
pub fn open(dir: &DataDir) -> Result<Running<SledKv>, NodeError> {
    open_with(dir, Settings::default())
}

/// Opens the node in `dir` with the given limits.
pub fn open_with(dir: &DataDir, settings: Settings) -> Result<Running<SledKv>, NodeError> {
    crate::private::make_private(&dir.0)?;
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    let key = keyfile::read(&dir.node_key())?;
    let trust = Receiver::load_trust(&dir.pint_trust())?;
    // The platform code is the genesis's (sealed in the store, part of the chain id).
    let mut pint = Receiver::new(
        ebl_pint::PLATFORM_CODE_DEFAULT.to_owned(),
        trust,
        Some(dir.pint()),
    );
    pint.trust_dir = Some(dir.pint_trust());
    let running = start_receiving(store, key, settings, pint).map_err(|e| match e {
        NodeError::WrongNodeKey(_) => NodeError::WrongNodeKey(dir.node_key()),
        other => other,
    })?;
    running.app.backups.serve_from(dir.clone());
    Ok(running)
}

/// Opens the node in `dir` as its genesis wants it: the one member's node alone, or a member node of
/// the cluster of several. Call inside a tokio runtime.
pub async fn open_member(
    dir: &DataDir,
    settings: Settings,
    timing: crate::cluster::Timing,
) -> Result<Running<SledKv>, NodeError> {
    crate::private::make_private(&dir.0)?;
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    if genesis.members.len() < 2 {
        drop(store);
        return open_with(dir, settings);
    }
    let key = keyfile::read(&dir.node_key())?;
    let trust = Receiver::load_trust(&dir.pint_trust())?;
    let mut pint = Receiver::new(
        ebl_pint::PLATFORM_CODE_DEFAULT.to_owned(),
        trust,
        Some(dir.pint()),
    );
    pint.trust_dir = Some(dir.pint_trust());
    let files = crate::cluster::start::ClusterFiles {
        raft: dir.0.join("raft"),
        evidence: dir.0.join("evidence"),
        join: dir.join_marker(),
        peer_tls: crate::tls::PeerTls::load(&dir.tls_peers())?,
    };
    let running = crate::cluster::start::start(store, key, settings, pint, files, timing)
        .await
        .map_err(|e| match e {
            NodeError::NotAMember(_) => NodeError::NotAMember(dir.node_key()),
            other => other,
        })?;
    running.app.backups.serve_from(dir.clone());
    Ok(running)
}

/// Serves HTTP until `shutdown` resolves, then finishes in-flight requests, lets the sequencer make its
/// last block durable, and returns.
pub async fn serve<K: Kv>(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    running: Running<K>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let app = running.app.clone();
    // Metrics on a listener of their own (loopback by default), so the operator's scraper needs no key
    // and the API's clients see none of them. It ends with the process.
    if let Some(metrics) = metrics {
        let routes = crate::api::metrics_router(app.metrics.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, routes).await {
                tracing::warn!(error = %e, "the metrics listener stopped");
            }
        });
    }
    // The PINT sender works through the bills being sent; it holds no transaction queue of its own,
    // so stopping it below lets the sequencer drain.
    let sender = tokio::spawn(crate::pint::sender::run(app.clone()));
    let limit_ms = running.settings.request_timeout_ms;
    let routes = router(app)
        .layer(axum::middleware::from_fn(move |request, next| {
            timeout(limit_ms, request, next)
        }))
        .layer(axum::middleware::map_response(close_after_unread_body));
    crate::server::serve_connections(
        LimitedListener::new(
            listener,
            crate::listener::ConnectionLimits {
                max: running.settings.connections_max,
                per_address_max: running.settings.connections_per_address_max,
                idle_ms: running.settings.connection_idle_ms,
            },
        ),
        routes,
        crate::server::Transport {
            tls,
            header_read_ms: running.settings.header_read_ms,
        },
        limit_ms,
        shutdown,
    )
    .await;
    sender.abort();
    let _ = sender.await;
    stop(running).await
}

/// Drops the last sender and waits for the sequencer to drain.
pub async fn stop<K: Kv>(running: Running<K>) -> Result<(), NodeError> {
    let Running { app, sequencer, .. } = running;
    let cluster = app.cluster.clone();
    drop(app);
    // Raft first: an orderer waiting on a proposal is then answered, and can drain and checkpoint.
    if let Some(cluster) = cluster {
        if let Err(e) = cluster.raft.shutdown().await {
            tracing::warn!(error = %e, "Raft did not shut down cleanly");
        }
    }
    tokio::task::spawn_blocking(move || sequencer.join())
        .await
        .map_err(|e| NodeError::Sequencer(e.to_string()))?
        .map_err(|_| NodeError::Sequencer("sequencer thread panicked".into()))?
        .map_err(NodeError::Store)
}

/// An early refusal leaves bytes on the connection (a body refused unread, 413; headers refused, 431) or
/// asks the client to come back later (503): the answer says `connection: close`, so the client knows to
/// open a new connection rather than find this one reset under its next request.
async fn close_after_unread_body(
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::StatusCode;
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Cuts off a request (its body included) that takes longer than `limit_ms`.
async fn timeout(
    limit_ms: u64,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(
        std::time::Duration::from_millis(limit_ms),
        next.run(request),
    )
    .await
    {
        Ok(response) => response,
        Err(_) => crate::api::ApiError::from(crate::refusal::RequestRefusal::RequestTimeout(
            String::from(&format!("the request took longer than {limit_ms} ms")),
        ))
        .into_response(),
    }
}

/// The data directory a node uses when none is given.
pub fn default_data_dir() -> DataDir {
    DataDir(Path::new("ebl-data").to_owned())
}
