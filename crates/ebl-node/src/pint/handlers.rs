//! The `/v3` routes: each PINT request read, checked against what is open, and answered (DCSA's
//! unsigned errors for requests that never became a transfer, signed answers for the rest).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use ebl_core::Hash;
use ebl_pint::{Finished, PintCode, Transfer};
use ebl_store::Kv;
use serde_json::Value;

use super::answers::{accept, duplicate, import_transaction, refused, signed};
use crate::api::App;

/// The `/v3` routes of the receiving platform, every answer carrying `API-Version`.
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
pub(super) async fn api_version(mut response: Response) -> Response {
    response.headers_mut().insert(
        "api-version",
        axum::http::HeaderValue::from_static(API_VERSION),
    );
    response
}

/// DCSA's unsigned `ErrorResponse`, for requests that never became a transfer.
pub(super) fn dcsa_error(
    status: StatusCode,
    method: &Method,
    uri: &Uri,
    message: &str,
) -> Response {
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
pub(super) fn rejected_body(e: &BytesRejection, method: &Method, uri: &Uri) -> Response {
    dcsa_error(e.status(), method, uri, &e.body_text())
}

pub(super) async fn start<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return rejected_body(&e, &method, &uri),
    };
    // Junk shaped like an envelope is refused by its shape before it becomes a tree, and no more than
    // ENVELOPE_CHECKS_MAX envelopes are trees at once.
    if let Err(e) = ebl_pint::check_json_bounds(&body) {
        return dcsa_error(StatusCode::BAD_REQUEST, &method, &uri, &e.to_string());
    }
    let Ok(_checking) = app.pint.checking.acquire().await else {
        return dcsa_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &method,
            &uri,
            "the receiver is stopping",
        );
    };
    let value = match ebl_core::jcs::parse(&body) {
        Ok(v) => v,
        Err(e) => return dcsa_error(StatusCode::BAD_REQUEST, &method, &uri, &e.to_string()),
    };
    if let Err(reason) = ebl_pint::check_shape(&value) {
        return dcsa_error(StatusCode::BAD_REQUEST, &method, &uri, &reason.to_string());
    }
    let last = ebl_pint::last_entry_checksum(&value);
    let verdict = {
        let trust = app
            .pint
            .trust_with_own(app.state().ledger.registry())
            .at_time(crate::api::now_ms());
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

pub(super) async fn additional_document<K: Kv>(
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

pub(super) async fn finish<K: Kv>(
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
pub(super) fn finished_before<K: Kv>(app: &App<K>, reference: &str) -> Option<Finished> {
    let before = app.pint.finished_transfer(reference)?;
    let last = before.reference.parse::<Hash>().ok()?;
    Some(duplicate(last, before))
}

pub(super) async fn receiver_validation<K: Kv>(
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
