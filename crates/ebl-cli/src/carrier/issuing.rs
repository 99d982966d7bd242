//! The issuance flow: a carrier system's request taken (checked, recorded once, 204), then issued on the
//! ledger with the carrier's key and answered at the system's `/v3/ebl-issuance-responses`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ebl_core::{Action, Replacement};

use super::issuance::{self, Answer, Carrier, IssuanceRequest, Reason, RequestRefusal, Verdict};
use super::records::Record;
use super::{
    internal, post, refused, with_version, Connector, ISSUANCE_REQUESTS, ISSUANCE_RESPONSES,
};
use crate::error::{Kind, Result};
use crate::wallet::Wallet;

/// `PUT /v3/ebl-issuance-requests`: checked, recorded once, answered 204; the issuance follows.
pub(super) async fn issuance_request(
    State(connector): State<Arc<Connector>>,
    body: Body,
) -> Response {
    let body = match axum::body::to_bytes(body, issuance::ISSUANCE_REQUEST_BYTES_MAX + 1).await {
        Ok(body) => body,
        Err(_) => return refused(&RequestRefusal::TooLarge),
    };
    let shared = connector.clone();
    let accepted = tokio::task::spawn_blocking(move || accept(&shared, &body)).await;
    match accepted {
        Ok(Ok(Ok(reference))) => {
            say!("issuance request {reference}: accepted");
            if let Ok(wake) = connector.wake.lock() {
                let _ = wake.send(());
            }
            with_version(StatusCode::NO_CONTENT.into_response())
        }
        Ok(Ok(Err(refusal))) => {
            say!("issuance request refused: {} ({refusal})", refusal.code());
            refused(&refusal)
        }
        Ok(Err(e)) => internal("PUT", ISSUANCE_REQUESTS, &e.to_string()),
        Err(e) => internal("PUT", ISSUANCE_REQUESTS, &e.to_string()),
    }
}

/// Checks a request and records it, unless its reference was requested or issued before.
fn accept(
    connector: &Connector,
    body: &Bytes,
) -> Result<std::result::Result<String, RequestRefusal>> {
    let trust = connector.trust.clone().at_time(crate::wallet::now_ms());
    let settings = &connector.settings;
    let request = match issuance::check_request(body, &trust, &settings.platform, &settings.carrier)
    {
        Ok(request) => request,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let already = || RequestRefusal::AlreadyRequested {
        reference: request.reference.clone(),
    };
    if connector.issued(&request.reference)?.is_some() {
        return Ok(Err(already()));
    }
    let record = Record {
        request: request.clone(),
        received_ms: crate::wallet::now_ms(),
        submitted: false,
        answer: None,
        delivered: false,
    };
    if !connector.records.create(&record)? {
        return Ok(Err(already()));
    }
    Ok(Ok(request.reference))
}

/// Takes one record as far as it goes now; whether it is done.
pub(super) fn advance(connector: &Connector, mut record: Record) -> bool {
    let reference = record.request.reference.clone();
    if record.answer.is_none() {
        if !record.submitted {
            record.submitted = true;
            if let Err(e) = connector.records.update(&record) {
                say!("issuance request {reference}: {e}");
                return false;
            }
        }
        match decide(connector, &record.request) {
            Ok(answer) => {
                say!(
                    "issuance request {reference}: {}",
                    serde_json::to_string(&answer.verdict).unwrap_or_default()
                );
                record.answer = Some(answer);
                if let Err(e) = connector.records.update(&record) {
                    say!("issuance request {reference}: {e}");
                    return false;
                }
            }
            Err(e) => {
                say!("issuance request {reference}: the ledger could not be reached, trying again: {e}");
                return false;
            }
        }
    }
    let Some(answer) = &record.answer else {
        return false;
    };
    match post(
        &connector.settings.answers_to,
        ISSUANCE_RESPONSES,
        &answer.body(),
    ) {
        Ok(()) => {
            record.delivered = true;
            if let Err(e) = connector.records.update(&record) {
                say!("issuance request {reference}: {e}");
                return false;
            }
            say!("issuance request {reference}: answer delivered");
            true
        }
        Err(e) => {
            say!("issuance request {reference}: the carrier's system did not take the answer, trying again: {e}");
            false
        }
    }
}

/// The platform's verdict on a request: issued on the ledger with the carrier's key, or why not. An
/// error is a failure to reach the ledger, to be tried again; everything the ledger or the request
/// decides is an answer.
fn decide(connector: &Connector, request: &IssuanceRequest) -> Result<Answer> {
    let answer = |verdict, reasons: Vec<(&str, String)>| Answer {
        reference: request.reference.clone(),
        verdict,
        reasons: reasons
            .into_iter()
            .map(|(code, words)| Reason {
                code: code.to_owned(),
                words,
            })
            .collect(),
    };
    // After a crash between submitting and recording the answer, the bill is on the ledger: ours.
    if connector.issued(&request.reference)?.is_some() {
        return Ok(answer(Verdict::Issued, Vec::new()));
    }
    let settings = &connector.settings;
    let platform = request
        .issue_to
        .get("sendToPlatform")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    if platform != settings.platform {
        return Ok(answer(
            Verdict::Refused,
            vec![(
                "other_platform",
                format!(
                    "issueTo is on platform {platform:?}; this connector issues on platform {} only (issue to a party here, then send the bill on over PINT)",
                    settings.platform
                ),
            )],
        ));
    }
    let document = match issuance::ledger_document(request) {
        Ok(document) => document,
        Err(e) => return Ok(answer(Verdict::BadRequest, vec![(e.code(), e.to_string())])),
    };
    let wallet = connector.wallet();
    let parties = wallet.node.parties()?;
    let Some(issue_to) = ebl_pint::named_party(&parties, platform, &request.issue_to) else {
        return Ok(answer(
            Verdict::BadRequest,
            vec![(
                "unknown_party",
                "issueTo names no party registered on this ledger by its identifying codes"
                    .to_owned(),
            )],
        ));
    };
    let by_codes = |codes: &[ebl_core::Identifier]| {
        parties
            .iter()
            .filter(|p| !p.revoked)
            .find(|p| {
                codes.iter().any(|c| {
                    p.profile
                        .identifiers
                        .iter()
                        .any(|i| i.scheme.eq_ignore_ascii_case(&c.scheme) && i.value == c.value)
                })
            })
            .map(|p| p.id)
    };
    let facts = document.facts();
    let shipper = by_codes(&facts.shipper_codes).unwrap_or(issue_to);
    let consignee = by_codes(&facts.consignee_codes);
    let replaces = match replaced_bills(&wallet, &settings.carrier, request)? {
        Ok(replaces) => replaces,
        Err(unknown) => {
            return Ok(answer(
                Verdict::BadRequest,
                vec![("unknown_replaced_bill", unknown.to_string())],
            ))
        }
    };
    let action = Action::Issue {
        document,
        issue_to,
        shipper,
        consignee,
        replaces,
    };
    match wallet.act(&connector.key, action) {
        Ok(_) => Ok(answer(Verdict::Issued, Vec::new())),
        Err(e) if e.kind() == Kind::Rejected || e.kind() == Kind::Usage => Ok(answer(
            Verdict::BadRequest,
            vec![(e.code().as_ref(), e.message())],
        )),
        Err(e) => Err(e),
    }
}

/// A replaced bill the request names that is not the carrier's bill here.
#[derive(Debug, thiserror::Error)]
#[error(
    "oldTransportDocumentReferences names {reference}, no bill of carrier {carrier} on this ledger"
)]
struct UnknownReplacedBill {
    reference: String,
    carrier: String,
}

/// The bills a replacement request names, as a ledger `Replacement`; `Ok(Err(_))` when one is not the
/// carrier's bill here.
fn replaced_bills(
    wallet: &Wallet,
    carrier: &Carrier,
    request: &IssuanceRequest,
) -> Result<std::result::Result<Option<Replacement>, UnknownReplacedBill>> {
    if request.replaces.is_empty() {
        return Ok(Ok(None));
    }
    let bills = wallet.node.visible_bills()?;
    let mut ids = Vec::new();
    for reference in &request.replaces {
        match bills
            .iter()
            .find(|b| b.reference == *reference && carrier.names(&b.carrier_code))
        {
            Some(bill) => ids.push(bill.id),
            None => {
                return Ok(Err(UnknownReplacedBill {
                    reference: reference.clone(),
                    carrier: carrier.to_string(),
                }))
            }
        }
    }
    Ok(Ok(Some(Replacement {
        bills: ids,
        count: u16::try_from(request.replaced_by).unwrap_or(u16::MAX),
    })))
}
