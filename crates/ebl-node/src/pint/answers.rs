//! What an envelope transfer becomes here: the `IMPORT` of an accepted one, its documents kept, and
//! the signed answers (RECE, DUPE, DISE, BENV, ...) with what each must list.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ebl_core::api::SubmitOutcome;
use ebl_core::{Action, BillId, Hash, Transaction};
use ebl_pint::{Finished, PintCode, Placement, Transfer};
use ebl_store::Kv;
use serde_json::Value;

use super::FinishedTransfer;
use crate::api::{order, App};

/// A signed `EnvelopeTransferFinishedResponse`, with the HTTP status PINT gives its code.
pub(super) fn signed<K: Kv>(app: &App<K>, finished: &Finished) -> Response {
    let status = match finished.code {
        PintCode::Received | PintCode::Duplicate => StatusCode::OK,
        PintCode::MissingDocument | PintCode::Disputed | PintCode::IncorrectDocument => {
            StatusCode::CONFLICT
        }
        PintCode::BadEnvelope | PintCode::BadSignature => StatusCode::UNPROCESSABLE_ENTITY,
    };
    app.metrics.pint_answer(finished.code.code());
    let jws = ebl_pint::sign_jws(&app.pint.signer(&app.node_key), &finished.to_value());
    (status, Json(Value::String(jws))).into_response()
}

pub(super) fn refused(code: PintCode, last: Hash, reason: impl Into<String>) -> Finished {
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
pub(super) enum Imported {
    /// A bill: the `IMPORT` to order.
    Bill(Box<Transaction>),
    /// A notification: kept beside the ledger, nothing ordered.
    Notification,
}

/// Builds the `IMPORT` for an accepted transfer (the rules are `ebl_pint::import_action`'s), or the
/// answer that refuses it.
pub(super) fn import_transaction<K: Kv>(
    app: &App<K>,
    transfer: &Transfer,
) -> Result<Imported, Box<Finished>> {
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

pub(super) fn finished_record(transfer: &Transfer, notification: bool) -> FinishedTransfer {
    FinishedTransfer {
        reference: transfer.reference.clone(),
        last_entry: transfer.verdict.last_entry.clone(),
        received: all_documents(transfer).iter().map(Hash::to_hex).collect(),
        notification: notification.then(|| transfer.envelope.clone()),
    }
}

/// Keeps the documents of an accepted transfer; `BENV` (retry) if they cannot be written.
fn keep_documents<K: Kv>(app: &App<K>, transfer: &Transfer) -> Result<(), Box<Finished>> {
    let Some(documents) = &app.pint.documents else {
        return Ok(());
    };
    for (checksum, content) in transfer.documents() {
        if let Err(e) = documents.keep(checksum, content) {
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

pub(super) fn duplicate(last: Hash, before: FinishedTransfer) -> Finished {
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
pub(super) async fn accept<K: Kv>(app: &App<K>, transfer: &Transfer) -> Finished {
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
