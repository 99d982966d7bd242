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
    /// Open transfers by envelope reference.
    transfers: Mutex<BTreeMap<String, Transfer>>,
    /// When each open transfer started: one left open longer than `transfer_open_ms` is dropped.
    opened: Mutex<BTreeMap<String, std::time::Instant>>,
    /// How long a transfer may stay open waiting for its documents (`TRANSFER_OPEN_MS_MAX`).
    pub transfer_open_ms: u64,
    /// The references and last entries of the transfers finished most recently, oldest first.
    finished: Mutex<VecDeque<(String, String)>>,
}

/// Largest file read from a trust directory (a JWK set or a PEM certificate is a few KiB).
pub const TRUST_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Why a trust directory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustDirError {
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        path: String,
        reason: String,
        not_found: bool,
    },
    #[error("{path}: {reason}")]
    BadFile { path: String, reason: String },
}

/// Reads a trust directory, as the node and the wallet both do: every `*.jwk` and `*.json` file (a JWK
/// or a JWK set) and every `*.crt` and `*.pem` (root certificates for `x5c` chains), in name order; other
/// files are skipped. A file over `TRUST_FILE_BYTES_MAX` or one that does not parse is an error.
pub fn read_trust_dir(dir: &FsPath) -> Result<TrustStore, TrustDirError> {
    let unreadable = |path: &FsPath, e: std::io::Error| TrustDirError::Unreadable {
        path: path.display().to_string(),
        not_found: e.kind() == std::io::ErrorKind::NotFound,
        reason: e.to_string(),
    };
    let bad = |path: &FsPath, reason: String| TrustDirError::BadFile {
        path: path.display().to_string(),
        reason,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| unreadable(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut trust = TrustStore::default();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let size = std::fs::metadata(&path)
            .map_err(|e| unreadable(&path, e))?
            .len();
        if size > TRUST_FILE_BYTES_MAX {
            return Err(bad(
                &path,
                format!("larger than {TRUST_FILE_BYTES_MAX} bytes"),
            ));
        }
        let content = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
        trust
            .add_file(name, &content)
            .map_err(|f| bad(&path, f.reason))?;
    }
    Ok(trust)
}

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
    pub fn new(platform: String, trust: TrustStore, documents: Option<PathBuf>) -> Receiver {
        Receiver {
            platform,
            trust,
            documents,
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

    fn finished(&self) -> MutexGuard<'_, VecDeque<(String, String)>> {
        match self.finished.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn remember_finished(&self, transfer: &Transfer) {
        let mut finished = self.finished();
        if finished.len() >= FINISHED_REMEMBERED_MAX {
            finished.pop_front();
        }
        finished.push_back((
            transfer.reference.clone(),
            transfer.verdict.last_entry.clone(),
        ));
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

/// SHA-256 of the last entry, computed without trusting anything, for answers about envelopes that do
/// not verify (the field is required even then).
fn last_entry_checksum(envelope: &Value) -> Hash {
    envelope
        .get("envelopeTransferChain")
        .and_then(Value::as_array)
        .and_then(|c| c.last())
        .and_then(Value::as_str)
        .map_or(Hash::ZERO, |e| Hash::of(e.as_bytes()))
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
            f.received = transfer
                .verdict
                .documents
                .iter()
                .map(|d| d.checksum)
                .collect();
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

/// Builds the `IMPORT` for an accepted transfer (the rules are `ebl_pint::import_action`'s), or the
/// answer that refuses it.
fn import_transaction<K: Kv>(
    app: &App<K>,
    transfer: &Transfer,
) -> Result<Transaction, Box<Finished>> {
    let last = transfer.verdict.last_entry_checksum;
    let state = app.state();
    match ebl_pint::import_action(&state.ledger, &app.pint.platform, transfer) {
        Ok(Placement::New(action)) => Ok(Transaction {
            chain: state.ledger.chain_id(),
            prev: Hash::ZERO,
            time_ms: crate::api::now_ms(),
            valid_until_ms: None,
            action: *action,
        }),
        Ok(Placement::AlreadyHere(bill)) => {
            drop(state);
            Err(Box::new(already_here(app, &bill, transfer)))
        }
        Err(failure) => Err(Box::new(refused(failure.code, last, failure.reason))),
    }
}

/// Writes a document durably under its checksum: temporary file, fsync, rename, fsync of the directory.
fn keep_document(dir: &FsPath, checksum: &Hash, content: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(checksum.to_hex());
    if path.exists() {
        return Ok(());
    }
    // A name of its own per write: two transfers may carry the same document at the same time, and
    // the rename of one must not find the other's file gone. Same content either way.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{}.{n}.tmp", checksum.to_hex()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(content)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Imports a transfer whose documents are all here, and answers `RECE` only once it is durable.
async fn accept<K: Kv>(app: &App<K>, transfer: &Transfer) -> Finished {
    let last = transfer.verdict.last_entry_checksum;
    let tx = match import_transaction(app, transfer) {
        Ok(tx) => tx.signed_by(&[&app.node_key]),
        Err(answer) => return *answer,
    };
    if let Some(dir) = &app.pint.documents {
        for (checksum, content) in transfer.documents() {
            if let Err(e) = keep_document(dir, checksum, content) {
                tracing::error!(error = %e, "could not store an additional document");
                return refused(
                    PintCode::BadEnvelope,
                    last,
                    "this platform could not store the additional documents; retry",
                );
            }
        }
    }
    match order(app, vec![tx], false).await.map(|mut o| o.pop()) {
        Ok(Some(SubmitOutcome::Accepted { .. } | SubmitOutcome::Duplicate { .. })) => {
            app.pint.remember_finished(transfer);
            let mut f = Finished::new(PintCode::Received, last);
            f.received = transfer.received();
            f
        }
        // Another request imported the same bill first: answer as if it had been seen before.
        Ok(Some(SubmitOutcome::Rejected { error, .. })) if error.code == "duplicate_reference" => {
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
    let last = last_entry_checksum(&value);
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

/// A finish for a transfer already imported (the sender retries after a lost answer): `DUPE`. Recent
/// finishes are remembered; after a restart the sender's retried start is answered `DUPE` instead.
fn finished_before<K: Kv>(app: &App<K>, reference: &str) -> Option<Finished> {
    let (last, entry) = app
        .pint
        .finished()
        .iter()
        .find(|(r, _)| r == reference)
        .map(|(r, entry)| (r.parse::<Hash>(), entry.clone()))?;
    let mut f = Finished::new(PintCode::Duplicate, last.ok()?);
    f.duplicate_of = Some(entry);
    Some(f)
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
    fn trust_directories_are_read_whole_or_refused_with_the_file_named() {
        let dir = tempfile::tempdir().expect("dir");
        let jwk = ebl_pint::public_jwk(&ebl_core::PartyKey::of(&ebl_core::testkit::key(5)));
        std::fs::write(dir.path().join("a.jwk"), jwk.to_string()).expect("write");
        std::fs::write(dir.path().join("notes.txt"), "skipped").expect("write");
        assert_eq!(read_trust_dir(dir.path()).expect("read").len(), 1);
        // A file at the size bound is read (and refused for what it is), one byte over is not read.
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; TRUST_FILE_BYTES_MAX as usize]).expect("write");
        let err = read_trust_dir(dir.path())
            .expect_err("not JSON")
            .to_string();
        assert!(
            err.contains("big.json") && !err.contains("larger than"),
            "{err}"
        );
        std::fs::write(&big, vec![b' '; TRUST_FILE_BYTES_MAX as usize + 1]).expect("write");
        let err = read_trust_dir(dir.path())
            .expect_err("too large")
            .to_string();
        assert!(
            err.contains("big.json") && err.contains("larger than"),
            "{err}"
        );
        // A missing directory: an error for a reader who named it, no trust at all for a node.
        let missing = dir.path().join("missing");
        assert!(matches!(
            read_trust_dir(&missing),
            Err(TrustDirError::Unreadable {
                not_found: true,
                ..
            })
        ));
        assert!(Receiver::load_trust(&missing).expect("empty").is_empty());
    }

    #[test]
    fn finished_transfers_are_remembered_up_to_their_bound() {
        let receiver = Receiver::default();
        for n in 0..=FINISHED_REMEMBERED_MAX as u32 {
            receiver.remember_finished(&transfer(n));
        }
        let finished = receiver.finished();
        assert_eq!(finished.len(), FINISHED_REMEMBERED_MAX);
        let oldest = transfer(0).reference;
        assert!(
            finished.iter().all(|(r, _)| *r != oldest),
            "the oldest is forgotten"
        );
        let newest = transfer(FINISHED_REMEMBERED_MAX as u32);
        assert!(finished
            .iter()
            .any(|(r, e)| *r == newest.reference && *e == newest.verdict.last_entry));
    }
}
