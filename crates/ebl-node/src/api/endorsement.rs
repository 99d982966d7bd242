//! DCSA's Endorsement Chain API 3.0 (`GET /v3/endorsement-chains/{transportDocumentReference}`): the
//! chains of the bills with that reference which the signed reader may read, each its history as DCSA's
//! endorsement chain links, read under the same rules as the bill's history.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use ebl_store::Kv;
use serde::Deserialize;
use serde_json::{json, Value};

use super::envelope_of;
use super::readers::{history_for, listing_reader};
use super::{ApiError, App};
use crate::refusal::ReadRefusal;

/// The API's filters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Filter {
    /// Only the chain of this version (`transportDocumentSubReference`): bills here have none, so a
    /// filter by one finds nothing.
    transport_document_sub_reference: Option<String>,
    /// Only bills of the carrier with this SCAC code (an NMFTA code).
    #[serde(rename = "carrierSCACCode")]
    carrier_scac_code: Option<String>,
}

/// `GET /v3/endorsement-chains/{transportDocumentReference}`: a signed read by a registered party.
pub(super) async fn endorsement_chains<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(reference): Path<String>,
    Query(filter): Query<Filter>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<Value>>, ApiError> {
    let reader = listing_reader(&app, &method, &uri, &headers)?;
    let bills: Vec<ebl_core::Bill> = app
        .state()
        .ledger
        .bills()
        .filter(|b| b.reference == reference)
        .filter(|b| {
            filter.carrier_scac_code.as_ref().is_none_or(|scac| {
                b.carrier_code
                    .split_once(':')
                    .is_some_and(|(p, c)| p.eq_ignore_ascii_case("NMFTA") && c == scac)
            })
        })
        .filter(|_| filter.transport_document_sub_reference.is_none())
        .cloned()
        .collect();
    let mut chains = Vec::new();
    for bill in bills {
        let history = match history_for(&app, &bill, &reader) {
            Ok((history, _)) => history,
            // Another party's bill with the same reference: not shown, and not said to exist.
            Err(_) => continue,
        };
        let Some(envelope) = envelope_of(&app, &history) else {
            continue;
        };
        let mut chain = json!({
            "transportDocumentReference": bill.reference,
            "endorsementChain": ebl_pint::endorsement_chain(&envelope),
        });
        if let Some(("NMFTA", scac)) = bill.carrier_code.split_once(':') {
            chain["carrierSCACCode"] = json!(scac);
        }
        chains.push(chain);
    }
    if chains.is_empty() {
        return Err(ReadRefusal::UnknownDocumentReference { reference }.into());
    }
    Ok(Json(chains))
}
