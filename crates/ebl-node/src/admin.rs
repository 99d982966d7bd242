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
use crate::verify::{verify_store, VerifyFailure, VerifyReport};

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
        match self.0.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        }
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
                let result = verify_store(&app.store, |done, total| {
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

/// The operator's routes (`VERIFY_PATH`).
pub fn routes<K: Kv>() -> Router<Arc<App<K>>> {
    Router::new().route(VERIFY_PATH, get(verification::<K>).post(start_verify::<K>))
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
