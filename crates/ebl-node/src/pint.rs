//! The DCSA PINT 3.0 receiver API under `/v3`: other platforms send bills here. An envelope is verified
//! against the platform keys in the trust store, waits for the additional documents its manifest names,
//! and is then imported: one `IMPORT` transaction, signed by this node, ordered and made durable like any
//! other, before the signed answer goes back.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use ebl_core::api::SubmitOutcome;
use ebl_core::{Action, BillId, Hash, Transaction};
use ebl_pint::trust_dir::{read_trust_dir, TrustDirError};
use ebl_pint::{Finished, PintCode, Placement, Transfer, TrustStore};
use ebl_store::Kv;
use serde_json::Value;

use crate::api::{order, App};

/// What the node needs to receive PINT transfers: whom it trusts, what is in flight, and where accepted
/// additional documents are kept.
#[derive(Debug)]
pub struct Receiver {
    /// This platform's PINT code (`eblPlatform`), at most 4 characters.
    pub platform: String,
    pub trust: TrustStore,
    /// Where additional documents of accepted transfers are written, named by their checksum; `None`
    /// keeps them only while the transfer is open (tests without a data directory).
    pub documents: Option<PathBuf>,
    /// Where each finished transfer is recorded (`<reference>.json`), so a finish retried after a
    /// restart is still answered `DUPE`; `None` remembers them in memory only.
    pub finished_dir: Option<PathBuf>,
    /// Open transfers by envelope reference.
    transfers: Mutex<BTreeMap<String, Transfer>>,
    /// When each open transfer started: one left open longer than `transfer_open_ms` is dropped.
    opened: Mutex<BTreeMap<String, std::time::Instant>>,
    /// How long a transfer may stay open waiting for its documents (`TRANSFER_OPEN_MS_MAX`).
    pub transfer_open_ms: u64,
    /// The transfers finished most recently, oldest first.
    finished: Mutex<VecDeque<FinishedTransfer>>,
}

/// What a receiver keeps of a finished transfer: enough to answer its retries `DUPE`, and for a
/// notification (which puts no bill on the ledger) the envelope itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishedTransfer {
    /// The envelope reference (hex SHA-256 of the last entry).
    pub reference: String,
    /// The last entry accepted, which a `DUPE` quotes.
    pub last_entry: String,
    /// Every additional document of the transfer, by checksum.
    pub received: Vec<String>,
    /// For a notification (`ENDORSE`, `ENDORSE_TO_ORDER`, `SACC` last): the envelope, in RFC 8785 form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
}

/// Largest finished-transfer record read back from disk (an envelope is at most
/// `ebl_core::limits::ENVELOPE_BYTES_MAX`; the rest is small).
pub const FINISHED_RECORD_BYTES_MAX: u64 = ebl_core::limits::ENVELOPE_BYTES_MAX as u64 + 64 * 1024;

/// How long an envelope transfer may stay open waiting for its additional documents; after that it is
/// forgotten, its documents with it, and the sender starts again (its slot is someone else's).
pub const TRANSFER_OPEN_MS_MAX: u64 = 60 * 60 * 1000;

/// How many finished transfers a node remembers, to answer a repeated finish with `DUPE`.
pub const FINISHED_REMEMBERED_MAX: usize = 4096;

impl Default for Receiver {
    fn default() -> Receiver {
        Receiver::new(
            ebl_pint::PLATFORM_CODE_DEFAULT.to_owned(),
            TrustStore::default(),
            None,
        )
    }
}

impl Receiver {
    /// A receiver keeping its files under `dir` (`documents/`, `finished/`), or in memory if `None`.
    pub fn new(platform: String, trust: TrustStore, dir: Option<PathBuf>) -> Receiver {
        Receiver {
            platform,
            trust,
            documents: dir.as_ref().map(|d| d.join("documents")),
            finished_dir: dir.as_ref().map(|d| d.join("finished")),
            transfers: Mutex::new(BTreeMap::new()),
            opened: Mutex::new(BTreeMap::new()),
            transfer_open_ms: TRANSFER_OPEN_MS_MAX,
            finished: Mutex::new(VecDeque::new()),
        }
    }

    /// The node's trust store: `read_trust_dir`, where a missing directory trusts nobody.
    pub fn load_trust(dir: &FsPath) -> Result<TrustStore, String> {
        match read_trust_dir(dir) {
            Err(TrustDirError::Unreadable {
                not_found: true, ..
            }) => Ok(TrustStore::default()),
            other => other.map_err(|e| e.to_string()),
        }
    }

    /// The open transfers, those open for longer than `transfer_open_ms` dropped first.
    fn transfers(&self) -> MutexGuard<'_, BTreeMap<String, Transfer>> {
        let mut transfers = match self.transfers.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut opened = match self.opened.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        let limit = std::time::Duration::from_millis(self.transfer_open_ms);
        opened.retain(|reference, since| {
            let open = since.elapsed() <= limit && transfers.contains_key(reference);
            if !open {
                transfers.remove(reference);
            }
            open
        });
        transfers
    }

    /// Records that the transfer `reference` (re)started now.
    fn opened_now(&self, reference: &str) {
        let mut opened = match self.opened.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        opened.insert(reference.to_owned(), std::time::Instant::now());
    }

    fn finished(&self) -> MutexGuard<'_, VecDeque<FinishedTransfer>> {
        match self.finished.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Records a finished transfer: on disk first (durably, before the answer goes out), then in the
    /// bounded memory of recent ones.
    fn remember_finished(&self, record: FinishedTransfer) -> std::io::Result<()> {
        if let Some(dir) = &self.finished_dir {
            let bytes = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
            keep_file(dir, &format!("{}.json", record.reference), &bytes)?;
        }
        let mut finished = self.finished();
        if finished.len() >= FINISHED_REMEMBERED_MAX {
            finished.pop_front();
        }
        finished.push_back(record);
        Ok(())
    }

    /// The finished transfer `reference`, from memory or its record on disk.
    fn finished_transfer(&self, reference: &str) -> Option<FinishedTransfer> {
        if let Some(f) = self.finished().iter().find(|f| f.reference == reference) {
            return Some(f.clone());
        }
        // The reference comes from a URL: only a SHA-256 in hex names a file.
        let hash = reference.parse::<Hash>().ok()?;
        let path = self
            .finished_dir
            .as_ref()?
            .join(format!("{}.json", hash.to_hex()));
        let size = std::fs::metadata(&path).ok()?.len();
        if size > FINISHED_RECORD_BYTES_MAX {
            return None;
        }
        let record: FinishedTransfer = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        (record.reference == hash.to_hex()).then_some(record)
    }
}

pub fn routes<K: Kv>() -> Router<Arc<App<K>>> {
    Router::new()
        .route("/v3/envelopes", post(start::<K>))
        .route(
            "/v3/envelopes/{reference}/additional-documents/{checksum}",
            put(additional_document::<K>),
        )
        .route(
            "/v3/envelopes/{reference}/finish-transfer",
            put(finish::<K>),
        )
        .route("/v3/receiver-validation", post(receiver_validation::<K>))
        .layer(axum::middleware::map_response(api_version))
}

/// The PINT version this receiver implements, as every answer's `API-Version` header names it.
pub const API_VERSION: &str = "3.0.0";

/// Every `/v3` answer names the API version it speaks (the spec's `API-Version` response header).
async fn api_version(mut response: Response) -> Response {
    response.headers_mut().insert(
        "api-version",
        axum::http::HeaderValue::from_static(API_VERSION),
    );
    response
}

/// DCSA's unsigned `ErrorResponse`, for requests that never became a transfer.
fn dcsa_error(status: StatusCode, method: &Method, uri: &Uri, message: &str) -> Response {
    let body = serde_json::json!({
        "httpMethod": method.as_str(),
        "requestUri": uri.path(),
        "statusCode": status.as_u16(),
        "statusCodeText": status.canonical_reason().unwrap_or(""),
        "statusCodeMessage": message,
        "errorDateTime": ebl_pint::date_time(crate::api::now_ms()),
        "errors": [{ "errorCodeText": status.canonical_reason().unwrap_or(""), "errorCodeMessage": message }],
    });
    (status, Json(body)).into_response()
}

/// A body axum would not read (over the size limit, say), answered as DCSA errors are.
fn rejected_body(e: &BytesRejection, method: &Method, uri: &Uri) -> Response {
    dcsa_error(e.status(), method, uri, &e.body_text())
}

/// A signed `EnvelopeTransferFinishedResponse`, with the HTTP status PINT gives its code.
fn signed<K: Kv>(app: &App<K>, finished: &Finished) -> Response {
    let status = match finished.code {
        PintCode::Received | PintCode::Duplicate => StatusCode::OK,
        PintCode::MissingDocument | PintCode::Disputed | PintCode::IncorrectDocument => {
            StatusCode::CONFLICT
        }
        PintCode::BadEnvelope | PintCode::BadSignature => StatusCode::UNPROCESSABLE_ENTITY,
    };
    app.metrics.pint_answer(finished.code.code());
    let jws = ebl_pint::sign_jws(&app.node_key, &finished.to_value());
    (status, Json(Value::String(jws))).into_response()
}

fn refused(code: PintCode, last: Hash, reason: impl Into<String>) -> Finished {
    let mut f = Finished::new(code, last);
    f.reason = Some(reason.into());
    f
}

/// The last entry of an envelope (JSON text).
fn last_entry(envelope: &str) -> Option<String> {
    let e: Value = serde_json::from_str(envelope).ok()?;
    e.get("envelopeTransferChain")?
        .as_array()?
        .last()?
        .as_str()
        .map(str::to_owned)
}

/// What the ledger already holds for this envelope's bill: `DUPE` if the envelope imported had the
/// same content (re-signing alone changes nothing: the entries link by content, so the same last
/// content means the same history), `DISE` if another history of the same bill is here.
fn already_here<K: Kv>(app: &App<K>, bill: &BillId, transfer: &Transfer) -> Finished {
    let last = transfer.verdict.last_entry_checksum;
    let imported = app.store.transaction(bill).ok().flatten();
    let accepted = imported.as_ref().and_then(|s| match &s.tx.body.action {
        Action::Import { envelope, .. } => last_entry(envelope),
        _ => None,
    });
    if let Some(accepted) = accepted {
        if ebl_pint::jws_content(&accepted).is_some()
            && ebl_pint::jws_content(&accepted)
                == ebl_pint::jws_content(&transfer.verdict.last_entry)
        {
            let mut f = Finished::new(PintCode::Duplicate, last);
            f.duplicate_of = Some(accepted);
            f.received = all_documents(transfer);
            return f;
        }
    }
    refused(
        PintCode::Disputed,
        last,
        format!(
            "bill {} ({}) is already on this platform with another history",
            transfer.verdict.transport_document_reference, bill
        ),
    )
}

/// What an accepted transfer becomes here.
enum Imported {
    /// A bill: the `IMPORT` to order.
    Bill(Box<Transaction>),
    /// A notification: kept beside the ledger, nothing ordered.
    Notification,
}

/// Builds the `IMPORT` for an accepted transfer (the rules are `ebl_pint::import_action`'s), or the
/// answer that refuses it.
fn import_transaction<K: Kv>(app: &App<K>, transfer: &Transfer) -> Result<Imported, Box<Finished>> {
    let last = transfer.verdict.last_entry_checksum;
    let state = app.state();
    match ebl_pint::import_action(&state.ledger, &app.pint.platform, transfer) {
        Ok(Placement::New(action)) => Ok(Imported::Bill(Box::new(Transaction {
            chain: state.ledger.chain_id(),
            prev: Hash::ZERO,
            time_ms: crate::api::now_ms(),
            valid_until_ms: None,
            action: *action,
        }))),
        Ok(Placement::Notification { .. }) => Ok(Imported::Notification),
        Ok(Placement::AlreadyHere(bill)) => {
            drop(state);
            Err(Box::new(already_here(app, &bill, transfer)))
        }
        Err(failure) => Err(Box::new(refused(failure.code, last, failure.reason))),
    }
}

/// Writes a document durably under its checksum.
fn keep_document(dir: &FsPath, checksum: &Hash, content: &[u8]) -> std::io::Result<()> {
    keep_file(dir, &checksum.to_hex(), content)
}

/// Writes `name` in `dir` durably, once: temporary file, fsync, rename, fsync of the directory. A name
/// already there is kept (its content is the same: documents are named by checksum, records by the
/// envelope they finish).
fn keep_file(dir: &FsPath, name: &str, content: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    if path.exists() {
        return Ok(());
    }
    // A name of its own per write: two transfers may carry the same document at the same time, and
    // the rename of one must not find the other's file gone. Same content either way.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{name}.{n}.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(content)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Every additional document a transfer names, as a `DUPE` or `RECE` lists them.
fn all_documents(transfer: &Transfer) -> Vec<Hash> {
    let mut all: Vec<Hash> = transfer
        .verdict
        .documents
        .iter()
        .map(|d| d.checksum)
        .collect();
    all.sort();
    all.dedup();
    all
}

fn finished_record(transfer: &Transfer, notification: bool) -> FinishedTransfer {
    FinishedTransfer {
        reference: transfer.reference.clone(),
        last_entry: transfer.verdict.last_entry.clone(),
        received: all_documents(transfer).iter().map(Hash::to_hex).collect(),
        notification: notification.then(|| transfer.envelope.clone()),
    }
}

/// Keeps the documents of an accepted transfer; `BENV` (retry) if they cannot be written.
fn keep_documents<K: Kv>(app: &App<K>, transfer: &Transfer) -> Result<(), Box<Finished>> {
    let Some(dir) = &app.pint.documents else {
        return Ok(());
    };
    for (checksum, content) in transfer.documents() {
        if let Err(e) = keep_document(dir, checksum, content) {
            tracing::error!(error = %e, "could not store an additional document");
            return Err(Box::new(refused(
                PintCode::BadEnvelope,
                transfer.verdict.last_entry_checksum,
                "this platform could not store the additional documents; retry",
            )));
        }
    }
    Ok(())
}

/// `RECE` for a transfer now kept, once its record is durable.
fn received<K: Kv>(app: &App<K>, transfer: &Transfer, notification: bool) -> Finished {
    let last = transfer.verdict.last_entry_checksum;
    if let Err(e) = app
        .pint
        .remember_finished(finished_record(transfer, notification))
    {
        tracing::error!(error = %e, "could not record a finished transfer");
        if notification {
            return refused(
                PintCode::BadEnvelope,
                last,
                "this platform could not record the notification; retry",
            );
        }
        // The import itself is durable: a retry will find it and answer DUPE.
    }
    let mut f = Finished::new(PintCode::Received, last);
    f.received = all_documents(transfer);
    f
}

/// A notification (the envelope moves title or answers a surrender, but possession stays where it
/// is): kept with its documents and answered `RECE`; no bill is put on the ledger. The same
/// notification again is `DUPE`.
fn accept_notification<K: Kv>(app: &App<K>, transfer: &Transfer) -> Finished {
    if let Some(before) = app.pint.finished_transfer(&transfer.reference) {
        if ebl_pint::jws_content(&before.last_entry)
            == ebl_pint::jws_content(&transfer.verdict.last_entry)
        {
            return duplicate(transfer.verdict.last_entry_checksum, before);
        }
    }
    if let Err(answer) = keep_documents(app, transfer) {
        return *answer;
    }
    received(app, transfer, true)
}

fn duplicate(last: Hash, before: FinishedTransfer) -> Finished {
    let mut f = Finished::new(PintCode::Duplicate, last);
    f.received = before
        .received
        .iter()
        .filter_map(|c| c.parse().ok())
        .collect();
    f.duplicate_of = Some(before.last_entry);
    f
}

/// Imports a transfer whose documents are all here, and answers `RECE` only once it is durable.
async fn accept<K: Kv>(app: &App<K>, transfer: &Transfer) -> Finished {
    let last = transfer.verdict.last_entry_checksum;
    let tx = match import_transaction(app, transfer) {
        Ok(Imported::Bill(tx)) => tx.signed_by(&[&app.node_key]),
        Ok(Imported::Notification) => return accept_notification(app, transfer),
        Err(answer) => return *answer,
    };
    if let Err(answer) = keep_documents(app, transfer) {
        return *answer;
    }
    match order(app, vec![tx], false).await.map(|mut o| o.pop()) {
        Ok(Some(SubmitOutcome::Accepted { .. } | SubmitOutcome::Duplicate { .. })) => {
            received(app, transfer, false)
        }
        // Another request imported the same bill first: answer as if it had been seen before.
        Ok(Some(SubmitOutcome::Rejected { error, .. }))
            if error.code
                == (ebl_core::Error::DuplicateReference {
                    reference: String::new(),
                })
                .code() =>
        {
            let placement =
                ebl_pint::import_action(&app.state().ledger, &app.pint.platform, transfer);
            match placement {
                Ok(Placement::AlreadyHere(bill)) => already_here(app, &bill, transfer),
                _ => refused(PintCode::Disputed, last, error.message),
            }
        }
        Ok(Some(SubmitOutcome::Rejected { error, .. })) => refused(
            PintCode::BadEnvelope,
            last,
            format!("{}: {}", error.code, error.message),
        ),
        Ok(None) | Err(_) => refused(
            PintCode::BadEnvelope,
            last,
            "this platform is not ordering transactions now; retry",
        ),
    }
}

async fn start<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return rejected_body(&e, &method, &uri),
    };
    let value = match ebl_core::jcs::parse(&body) {
        Ok(v) => v,
        Err(e) => return dcsa_error(StatusCode::BAD_REQUEST, &method, &uri, &e.to_string()),
    };
    if let Err(reason) = ebl_pint::check_shape(&value) {
        return dcsa_error(StatusCode::BAD_REQUEST, &method, &uri, &reason);
    }
    let last = ebl_pint::last_entry_checksum(&value);
    let verdict = {
        let trust = app.pint.trust.clone().at_time(crate::api::now_ms());
        let body = body.clone();
        // RSA and long chains cost milliseconds: off the async threads.
        match tokio::task::spawn_blocking(move || ebl_pint::verify_envelope(&body, &trust)).await {
            Ok(Ok(v)) => v,
            Err(_) => {
                return dcsa_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &method,
                    &uri,
                    "verification did not finish",
                )
            }
            Ok(Err(failure)) => {
                return signed(
                    &app,
                    &refused(
                        failure.code,
                        last,
                        format!("{}: {}", failure.place, failure.reason),
                    ),
                )
            }
        }
    };
    let envelope = match ebl_core::jcs::canonicalize(&value) {
        Ok(text) if text.len() <= ebl_core::limits::ENVELOPE_BYTES_MAX => text,
        _ => {
            return signed(
                &app,
                &refused(
                    PintCode::BadEnvelope,
                    last,
                    format!(
                        "envelopes over {} bytes cannot be imported here",
                        ebl_core::limits::ENVELOPE_BYTES_MAX
                    ),
                ),
            )
        }
    };
    let mut transfer = Transfer::new(verdict, envelope);
    // Refuse early what could never be imported (unknown recipient, a bill already here), so a sender
    // does not upload documents for nothing.
    if let Err(answer) = import_transaction(&app, &transfer) {
        return signed(&app, &answer);
    }
    {
        let mut open = app.pint.transfers();
        // A new start for a bill with an open transfer is a retry: it replaces the open one and keeps
        // the documents already received.
        let earlier: Vec<String> = open
            .iter()
            .filter(|(_, t)| t.verdict.document_checksum == transfer.verdict.document_checksum)
            .map(|(r, _)| r.clone())
            .collect();
        for r in earlier {
            if let Some(t) = open.remove(&r) {
                transfer.carry_over(t);
            }
        }
        if !transfer.missing().is_empty() {
            if open.len() >= ebl_pint::TRANSFERS_ACTIVE_MAX {
                return dcsa_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &method,
                    &uri,
                    "too many envelope transfers are open; retry later",
                );
            }
            let started = ebl_pint::started_response(&transfer);
            app.pint.opened_now(&transfer.reference);
            open.insert(transfer.reference.clone(), transfer);
            return (StatusCode::CREATED, Json(started)).into_response();
        }
    }
    let answer = accept(&app, &transfer).await;
    signed(&app, &answer)
}

async fn additional_document<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path((reference, checksum)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return rejected_body(&e, &method, &uri),
    };
    let Ok(checksum) = checksum.parse::<Hash>() else {
        return dcsa_error(
            StatusCode::BAD_REQUEST,
            &method,
            &uri,
            "the document checksum is not a SHA-256 in hex",
        );
    };
    // The body is a JSON string holding the document in base64 (OpenAPI `format: byte`).
    let content = match serde_json::from_slice::<String>(&body)
        .ok()
        .and_then(|s| ebl_pint::base64_decode(&s))
    {
        Some(c) if c.len() <= ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX => c,
        Some(_) => {
            return dcsa_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &method,
                &uri,
                "the document is larger than this platform accepts",
            )
        }
        None => {
            return dcsa_error(
                StatusCode::BAD_REQUEST,
                &method,
                &uri,
                "the body must be a JSON string holding the document in base64",
            )
        }
    };
    let mut open = app.pint.transfers();
    let Some(transfer) = open.get_mut(&reference) else {
        drop(open);
        return dcsa_error(
            StatusCode::NOT_FOUND,
            &method,
            &uri,
            "no open envelope transfer has this reference",
        );
    };
    match transfer.receive_document(checksum, content) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(failure) => {
            let answer = refused(
                failure.code,
                transfer.verdict.last_entry_checksum,
                failure.reason,
            );
            drop(open);
            signed(&app, &answer)
        }
    }
}

async fn finish<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(reference): Path<String>,
    method: Method,
    uri: Uri,
) -> Response {
    let transfer = {
        let open = app.pint.transfers();
        match open.get(&reference) {
            Some(t) if !t.missing().is_empty() => {
                let mut answer = refused(
                    PintCode::MissingDocument,
                    t.verdict.last_entry_checksum,
                    "additional documents are missing",
                );
                answer.missing = t.missing();
                drop(open);
                return signed(&app, &answer);
            }
            Some(t) => t.clone(),
            None => {
                drop(open);
                return match finished_before(&app, &reference) {
                    Some(answer) => signed(&app, &answer),
                    None => dcsa_error(
                        StatusCode::NOT_FOUND,
                        &method,
                        &uri,
                        "no envelope transfer has this reference",
                    ),
                };
            }
        }
    };
    let answer = accept(&app, &transfer).await;
    // Done either way: accepted, or refused for good (a new start is a new transfer).
    app.pint.transfers().remove(&reference);
    signed(&app, &answer)
}

/// A finish for a transfer already finished (the sender retries after a lost answer): `DUPE`, with
/// every additional document of the transfer, from the record kept when it finished (on disk, so a
/// restart in between changes nothing).
fn finished_before<K: Kv>(app: &App<K>, reference: &str) -> Option<Finished> {
    let before = app.pint.finished_transfer(reference)?;
    let last = before.reference.parse::<Hash>().ok()?;
    Some(duplicate(last, before))
}

async fn receiver_validation<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let code = body
        .ok()
        .and_then(|b| ebl_core::jcs::parse(&b).ok())
        .filter(|v| {
            v.get("codeListProvider").is_some_and(Value::is_string)
                && v.get("partyCode").is_some_and(Value::is_string)
        });
    let Some(code) = code else {
        return dcsa_error(
            StatusCode::BAD_REQUEST,
            &method,
            &uri,
            "send an IdentifyingCode: codeListProvider and partyCode",
        );
    };
    let party = serde_json::json!({ "identifyingCodes": [code] });
    let state = app.state();
    match ebl_pint::hosted_party(state.ledger.registry(), &app.pint.platform, &party)
        .and_then(|id| state.ledger.registry().party(id))
    {
        Some(p) => Json(serde_json::json!({ "partyName": p.name() })).into_response(),
        None => dcsa_error(StatusCode::NOT_FOUND, &method, &uri, "Unknown party"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(n: u32) -> Transfer {
        let verdict = ebl_pint::EnvelopeVerdict {
            code: PintCode::Received,
            transport_document_reference: format!("R{n}"),
            document_checksum: Hash::of(b"doc"),
            actions: vec!["ISSUE".into()],
            recipients: vec![None],
            last_entry_checksum: Hash::of(&n.to_le_bytes()),
            last_entry: format!("entry.{n}.x"),
            platforms: vec!["EBL".into()],
            documents: Vec::new(),
        };
        Transfer::new(verdict, "{}".into())
    }

    /// Two transfers carrying the same document at once must both succeed (they shared one temporary
    /// name before, so one rename could find the file gone).
    #[test]
    fn the_same_document_kept_by_concurrent_transfers() {
        let dir = tempfile::tempdir().expect("dir");
        let content = vec![42u8; 64 * 1024];
        let checksum = Hash::of(&content);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| keep_document(dir.path(), &checksum, &content)))
                .collect();
            for h in handles {
                h.join().expect("thread").expect("kept");
            }
        });
        let kept = std::fs::read(dir.path().join(checksum.to_hex())).expect("read");
        assert_eq!(kept, content);
        let leftovers = std::fs::read_dir(dir.path())
            .expect("list")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "tmp"))
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn a_missing_trust_directory_trusts_nobody() {
        let root = tempfile::tempdir().expect("dir");
        assert!(Receiver::load_trust(&root.path().join("missing"))
            .expect("empty")
            .is_empty());
    }

    #[test]
    fn finished_transfers_are_remembered_up_to_their_bound() {
        let receiver = Receiver::default();
        for n in 0..=FINISHED_REMEMBERED_MAX as u32 {
            receiver
                .remember_finished(finished_record(&transfer(n), false))
                .expect("in memory");
        }
        let finished = receiver.finished();
        assert_eq!(finished.len(), FINISHED_REMEMBERED_MAX);
        let oldest = transfer(0).reference;
        assert!(
            finished.iter().all(|f| f.reference != oldest),
            "the oldest is forgotten"
        );
        let newest = transfer(FINISHED_REMEMBERED_MAX as u32);
        assert!(finished
            .iter()
            .any(|f| f.reference == newest.reference && f.last_entry == newest.verdict.last_entry));
    }

    #[test]
    fn finished_transfers_are_read_back_from_disk_by_reference_only() {
        let dir = tempfile::tempdir().expect("dir");
        let receiver = Receiver::new("EBL".into(), TrustStore::default(), Some(dir.path().into()));
        let t = transfer(7);
        receiver
            .remember_finished(finished_record(&t, false))
            .expect("kept");
        let reopened = Receiver::new("EBL".into(), TrustStore::default(), Some(dir.path().into()));
        assert_eq!(
            reopened
                .finished_transfer(&t.reference)
                .map(|f| f.last_entry),
            Some(t.verdict.last_entry.clone())
        );
        assert!(reopened.finished_transfer("../finished/x").is_none());
        // A record too large to be one is not read.
        let big = transfer(8).reference;
        let path = dir.path().join("finished").join(format!("{big}.json"));
        std::fs::write(&path, vec![b' '; FINISHED_RECORD_BYTES_MAX as usize + 1]).expect("write");
        assert!(reopened.finished_transfer(&big).is_none());
    }
}
