//! The surrender flow: a surrender pending on one of the carrier's bills is told to the carrier's system
//! (`POST /v3/ebl-surrender-requests`) until it acknowledges; the system's answer
//! (`POST /v3/ebl-surrender-responses`) is signed on the ledger with the carrier's key, once.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ebl_core::{Action, AmendmentReason, Hash};

use super::surrender::{self, AnswerRefusal, SurrenderRequest};
use super::{
    error_response, internal, post, with_version, Connector, SURRENDER_REQUESTS,
    SURRENDER_RESPONSES,
};
use crate::error::{Kind, Result};

/// Finds the surrenders pending on the carrier's bills that the system was not told of, records each,
/// and sends every request not yet acknowledged; whether all are told.
pub(super) fn tell(connector: &Connector) -> bool {
    if let Err(e) = find(connector) {
        say!("surrenders: the ledger could not be read, trying again: {e}");
        return false;
    }
    let requests = match connector.surrenders.all() {
        Ok(requests) => requests,
        Err(e) => {
            say!("surrender records: {e}");
            return false;
        }
    };
    let mut done = true;
    for request in requests.into_iter().filter(|r| !r.delivered) {
        let reference = request.reference.clone();
        match post(
            &connector.settings.answers_to,
            SURRENDER_REQUESTS,
            &surrender::request_body(&request),
        ) {
            Ok(()) => {
                if let Err(e) = mark_delivered(connector, &reference) {
                    say!("surrender request {reference}: {e}");
                    done = false;
                } else {
                    say!("surrender request {reference}: told to the carrier's system");
                }
            }
            Err(e) => {
                say!("surrender request {reference}: the carrier's system did not take it, trying again: {e}");
                done = false;
            }
        }
    }
    done
}

/// Marks a request delivered, as it is on disk now: the system may have answered it meanwhile (regression:
/// the worker wrote its earlier copy over the answer, and told the system of the surrender again).
fn mark_delivered(connector: &Connector, reference: &str) -> Result<()> {
    let _one_writer = connector
        .surrender_writes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(mut request) = connector.surrenders.get(reference)? {
        request.delivered = true;
        connector.surrenders.update(&request)?;
    }
    Ok(())
}

/// Records a surrender request for every surrender pending on the carrier's bills without one.
fn find(connector: &Connector) -> Result<()> {
    let wallet = connector.wallet();
    let carrier = &connector.settings.carrier;
    for bill in wallet.node.visible_bills()? {
        let Some((code, reason)) = surrender::pending(&bill) else {
            continue;
        };
        // One request per surrender: the surrendering transaction, the bill's head while it is pending.
        let reference = bill.head.to_hex();
        if !carrier.names(&bill.carrier_code) || connector.surrenders.get(&reference)?.is_some() {
            continue;
        }
        let envelope = wallet.node.pint_envelope(&bill.id, &connector.key)?;
        let request = SurrenderRequest {
            reference: reference.clone(),
            bill: bill.id,
            document_reference: bill.reference.clone(),
            code: code.to_owned(),
            reason: reason.map(|r| r.code().to_owned()),
            chain: ebl_pint::endorsement_chain(&envelope),
            found_ms: crate::wallet::now_ms(),
            delivered: false,
            answer: None,
        };
        if connector.surrenders.create(&request)? {
            say!(
                "surrender request {reference}: {code} for bill {}",
                bill.reference
            );
        }
    }
    Ok(())
}

/// `POST /v3/ebl-surrender-responses`: the carrier system's SURR or SREJ, shown with its token, signed on
/// the ledger once; 204, or DCSA's error body.
pub(super) async fn surrender_response(
    State(connector): State<Arc<Connector>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let refused = |r: &AnswerRefusal| {
        error_response(
            "POST",
            SURRENDER_RESPONSES,
            r.status(),
            r.number(),
            r.code(),
            &r.to_string(),
        )
    };
    if !authenticated(&connector, &headers) {
        return refused(&AnswerRefusal::Unauthenticated);
    }
    let Ok(body) = axum::body::to_bytes(body, surrender::SURRENDER_ANSWER_BYTES_MAX + 1).await
    else {
        return refused(&AnswerRefusal::TooLarge);
    };
    let shared = connector.clone();
    match tokio::task::spawn_blocking(move || answer(&shared, &body)).await {
        Ok(Ok(Ok(()))) => with_version(StatusCode::NO_CONTENT.into_response()),
        Ok(Ok(Err(refusal))) => {
            say!("surrender answer refused: {} ({refusal})", refusal.code());
            refused(&refusal)
        }
        Ok(Err(e)) => internal("POST", SURRENDER_RESPONSES, &e.to_string()),
        Err(e) => internal("POST", SURRENDER_RESPONSES, &e.to_string()),
    }
}

/// Whether the request shows the carrier system's token (none configured: nobody answers surrenders here).
fn authenticated(connector: &Connector, headers: &HeaderMap) -> bool {
    let shown = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| Hash::of(t.trim().as_bytes()));
    connector.token.is_some() && shown == connector.token
}

/// Takes the answer: the request it answers, not answered before, signed on the ledger.
fn answer(connector: &Connector, body: &Bytes) -> Result<std::result::Result<(), AnswerRefusal>> {
    let answer = match surrender::check_answer(body) {
        Ok(answer) => answer,
        Err(refusal) => return Ok(Err(refusal)),
    };
    // One answer at a time, and never beside the worker's mark: read, sign, record under the lock.
    let _one_writer = connector
        .surrender_writes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(mut request) = connector.surrenders.get(&answer.reference)? else {
        return Ok(Err(AnswerRefusal::UnknownReference {
            reference: answer.reference,
        }));
    };
    if let Some(taken) = &request.answer {
        return Ok(Err(AnswerRefusal::AlreadyAnswered {
            reference: answer.reference,
            answer: taken.clone(),
        }));
    }
    let to_paper = request.reason.as_deref() == Some(AmendmentReason::SwitchToPaper.code());
    let action = match (answer.accepted, to_paper) {
        (false, _) => Action::RejectSurrender { bill: request.bill },
        (true, false) => Action::AcceptSurrender { bill: request.bill },
        (true, true) if connector.settings.paper_bill_is_reference => {
            // The paper bill carries the electronic bill's number, issued today (UTC).
            let today = ebl_core::time::Utc::from_unix_ms(crate::wallet::now_ms()).iso8601();
            Action::AcceptSurrenderToPaper {
                bill: request.bill,
                paper: ebl_core::PaperBill {
                    number: request.document_reference.clone(),
                    issued_on: today.chars().take(10).collect(),
                },
            }
        }
        (true, true) => return Ok(Err(AnswerRefusal::PaperNoteNeeded)),
    };
    let wallet = connector.wallet();
    match wallet.act(&connector.key, action) {
        Ok(_) => {}
        Err(e) if e.kind() == Kind::Rejected || e.kind() == Kind::Usage => {
            return Ok(Err(AnswerRefusal::LedgerRefused {
                code: e.code().into_owned(),
                message: e.message(),
            }))
        }
        Err(e) => return Err(e),
    }
    let code = if answer.accepted { "SURR" } else { "SREJ" };
    request.answer = Some(code.to_owned());
    connector.surrenders.update(&request)?;
    say!("surrender request {}: {code}", request.reference);
    Ok(Ok(()))
}
