//! The operator's requests to its own running node, signed by the node's key: verify the store the node
//! is writing (the store is locked by the node, so `ebl-node verify` beside it asks the node to do it).
//!
//! A verify can take minutes on a large store, longer than any request may last, so it runs on a thread
//! of its own: `POST /v1/admin/verify` starts it (or joins the one running), `GET` reports its progress
//! and, once finished, its verdict.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ebl_core::PartyKey;
use ebl_store::Kv;
use serde::{Deserialize, Serialize};

use crate::api::{now_ms, ApiError, App};
use crate::auth::authenticate_node;
use crate::verify::{VerifyFailure, VerifyReport};

/// The route of the operator's verify.
pub const VERIFY_PATH: &str = "/v1/admin/verify";

/// What a finished verify found: the same JSON `ebl-node verify --json` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Sound, from the genesis to the head.
    Ok {
        /// What was verified.
        report: VerifyReport,
    },
    /// The first fault found, and where.
    Fault {
        /// The fault.
        failure: VerifyFailure,
    },
}

impl Verdict {
    /// The verdict of what `verify_store` returned.
    pub fn of(result: Result<VerifyReport, Box<VerifyFailure>>) -> Verdict {
        match result {
            Ok(report) => Verdict::Ok { report },
            Err(failure) => Verdict::Fault { failure: *failure },
        }
    }
}

/// Where the node's own verify stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verification {
    /// None asked since the node started.
    Idle,
    /// Replaying: `done` blocks of `total` (the total grows if the replay follows a new checkpoint).
    Running {
        /// Blocks replayed so far.
        done: u64,
        /// Blocks to replay.
        total: u64,
        /// When it started (Unix milliseconds).
        started_ms: u64,
    },
    /// Done: what it found.
    Finished {
        /// When it started (Unix milliseconds).
        started_ms: u64,
        /// When it finished.
        finished_ms: u64,
        /// What it found.
        #[serde(flatten)]
        verdict: Verdict,
    },
}

/// The node's verify, shared by the handlers and the thread that runs it.
#[derive(Debug, Clone)]
pub struct Verifications(Arc<Mutex<Verification>>);

impl Default for Verifications {
    fn default() -> Verifications {
        Verifications(Arc::new(Mutex::new(Verification::Idle)))
    }
}

impl Verifications {
    fn lock(&self) -> MutexGuard<'_, Verification> {
        locked(&self.0)
    }

    /// Where the verify stands now.
    pub fn now(&self) -> Verification {
        self.lock().clone()
    }

    /// Starts a verify of `app`'s store unless one is running; returns where it stands.
    fn start<K: Kv>(&self, app: &Arc<App<K>>) -> Result<Verification, ApiError> {
        let mut now = self.lock();
        if matches!(*now, Verification::Running { .. }) {
            return Ok(now.clone());
        }
        let started_ms = now_ms();
        *now = Verification::Running {
            done: 0,
            total: 0,
            started_ms,
        };
        let (app, shared) = (app.clone(), self.clone());
        let spawned = std::thread::Builder::new()
            .name("verify".into())
            .spawn(move || {
                let follower = app
                    .cluster
                    .as_ref()
                    .filter(|c| c.follows)
                    .map(|_| ebl_core::PartyKey::of(&app.node_key));
                let result = crate::verify::verify_store_of(&app.store, follower, |done, total| {
                    *shared.lock() = Verification::Running {
                        done,
                        total,
                        started_ms,
                    };
                });
                let verdict = Verdict::of(result);
                match &verdict {
                    Verdict::Ok { report } => {
                        tracing::info!(blocks = report.blocks, "verify: the store is sound");
                    }
                    Verdict::Fault { failure } => {
                        tracing::error!(%failure, "verify: the store has a fault");
                    }
                }
                *shared.lock() = Verification::Finished {
                    started_ms,
                    finished_ms: now_ms(),
                    verdict,
                };
            });
        if let Err(e) = spawned {
            *now = Verification::Idle;
            // No thread to run it on is the node's trouble, not the store's.
            return Err(crate::refusal::RequestRefusal::Internal(format!(
                "starting the verify: {e}"
            ))
            .into());
        }
        Ok(now.clone())
    }
}

/// The operator's routes (`VERIFY_PATH`, `BACKUP_PATH`).
pub fn routes<K: Kv>() -> Router<Arc<App<K>>> {
    Router::new()
        .route(VERIFY_PATH, get(verification::<K>).post(start_verify::<K>))
        .route(BACKUP_PATH, get(backup_state::<K>).post(start_backup::<K>))
}

fn operator<K: Kv>(
    app: &App<K>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let chain = app.state().ledger.chain_id();
    authenticate_node(
        &PartyKey::of(&app.node_key),
        &chain,
        (method, uri, headers),
        &app.seen_requests,
        now_ms(),
    )
}

async fn start_verify<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    operator(&app, &method, &uri, &headers)?;
    let now = app.verifications.start(&app)?;
    Ok((StatusCode::ACCEPTED, Json(now)).into_response())
}

async fn verification<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Verification>, ApiError> {
    operator(&app, &method, &uri, &headers)?;
    Ok(Json(app.verifications.now()))
}

/// The route of the operator's backup of its running node: `POST ?to=<hex of the file's path>` starts
/// one (or joins the one running), `GET` tells where it stands.
pub const BACKUP_PATH: &str = "/v1/admin/backup";

/// How a finished backup ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BackupOutcome {
    /// Written whole, synced and renamed into place.
    Written {
        /// What it holds.
        summary: crate::backup::BackupSummary,
        /// Where.
        to: String,
    },
    /// Not written (nothing is left at the path asked for).
    Failed {
        /// The stable code (`backup_exists`, `storage_corrupt`, ...).
        code: String,
        /// What went wrong.
        message: String,
    },
}

/// Where the node's backup stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BackupState {
    /// None asked since the node started.
    Idle,
    /// Being written.
    Running {
        /// When it started (Unix milliseconds).
        started_ms: u64,
    },
    /// Done.
    Finished {
        /// When it started.
        started_ms: u64,
        /// When it finished.
        finished_ms: u64,
        /// How it ended.
        #[serde(flatten)]
        outcome: BackupOutcome,
    },
}

/// The node's backup, shared by the handlers and the thread that writes it, with the data directory
/// whose files it copies (set by whoever opened the node from one).
#[derive(Debug, Clone)]
pub struct Backups {
    state: Arc<Mutex<BackupState>>,
    data: Arc<Mutex<Option<crate::node::DataDir>>>,
}

impl Default for Backups {
    fn default() -> Backups {
        Backups {
            state: Arc::new(Mutex::new(BackupState::Idle)),
            data: Arc::new(Mutex::new(None)),
        }
    }
}

/// A job's state, even if a thread panicked holding it (the state is a plain value, whole at every
/// write).
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(v) => v,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Backups {
    /// The node serves from `data`: its backups copy that directory's files.
    pub fn serve_from(&self, data: crate::node::DataDir) {
        *locked(&self.data) = Some(data);
    }

    /// Where the backup stands now.
    pub fn now(&self) -> BackupState {
        locked(&self.state).clone()
    }

    fn start<K: Kv>(
        &self,
        app: &Arc<App<K>>,
        to: std::path::PathBuf,
    ) -> Result<BackupState, ApiError> {
        let Some(data) = locked(&self.data).clone() else {
            return Err(crate::refusal::RequestRefusal::Internal(
                "this node serves no data directory to back up".into(),
            )
            .into());
        };
        let mut now = locked(&self.state);
        if matches!(*now, BackupState::Running { .. }) {
            return Ok(now.clone());
        }
        let started_ms = now_ms();
        *now = BackupState::Running { started_ms };
        let (app, shared) = (app.clone(), self.state.clone());
        let spawned = std::thread::Builder::new()
            .name("backup".into())
            .spawn(move || {
                let outcome = match crate::backup::write_backup(&app.store, &data, &to, started_ms) {
                    Ok(summary) => {
                        tracing::info!(height = summary.height, to = %to.display(), "backup written");
                        BackupOutcome::Written {
                            summary,
                            to: to.display().to_string(),
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "backup failed");
                        BackupOutcome::Failed {
                            code: e.code().to_owned(),
                            message: e.to_string(),
                        }
                    }
                };
                *locked(&shared) = BackupState::Finished {
                    started_ms,
                    finished_ms: now_ms(),
                    outcome,
                };
            });
        if let Err(e) = spawned {
            *now = BackupState::Idle;
            return Err(crate::refusal::RequestRefusal::Internal(format!(
                "starting the backup: {e}"
            ))
            .into());
        }
        Ok(now.clone())
    }
}

/// The query of a backup's start: the path to write, as hex of its bytes (no escaping to disagree on
/// between the signer and the node).
#[derive(Debug, Deserialize)]
struct BackupTo {
    to: String,
}

async fn start_backup<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<BackupTo>,
) -> Result<Response, ApiError> {
    operator(&app, &method, &uri, &headers)?;
    let bad = || {
        crate::refusal::RequestRefusal::BadBody("`to` must be the hex of an absolute path".into())
    };
    let bytes = ebl_core::bytes::from_hex_vec(&query.to).ok_or_else(bad)?;
    let to = std::path::PathBuf::from(String::from_utf8(bytes).map_err(|_| bad())?);
    if !to.is_absolute() {
        return Err(bad().into());
    }
    let now = app.backups.start(&app, to)?;
    Ok((StatusCode::ACCEPTED, Json(now)).into_response())
}

async fn backup_state<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<BackupState>, ApiError> {
    operator(&app, &method, &uri, &headers)?;
    Ok(Json(app.backups.now()))
}
