//! Why the node refuses to show something: one variant per rule of reading, each with its stable code
//! and HTTP status, so handlers name the rule and never spell its code.

use axum::http::StatusCode;
use ebl_core::{BillId, TxId};

use crate::api::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadRefusal {
    #[error("no bill {bill}")]
    UnknownBill { bill: BillId },
    #[error("only the bill's parties, members and auditors may read it")]
    NotAParty,
    #[error("your part in this bill ended with transaction {last}: you may read its history up to there, not what followed")]
    FormerParty { last: TxId },
    #[error("this signed request was already answered: sign each request anew")]
    Replayed,
    #[error("too many signed requests in the last minute: try again shortly")]
    RequestsRemembered,
    #[error("the offer does not let you read this bill: {why}")]
    NotYourOffer { why: &'static str },
    #[error("the pledge extends a head that is not in the bill's history")]
    OfferNotInHistory,
}

impl ReadRefusal {
    /// The stable code the API shows.
    pub fn code(&self) -> &'static str {
        match self {
            ReadRefusal::UnknownBill { .. } => "unknown_bill",
            ReadRefusal::NotAParty | ReadRefusal::NotYourOffer { .. } => "forbidden",
            ReadRefusal::FormerParty { .. } => "former_party",
            ReadRefusal::Replayed => "request_replayed",
            ReadRefusal::RequestsRemembered => "busy",
            ReadRefusal::OfferNotInHistory => "offer_not_in_history",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ReadRefusal::UnknownBill { .. } => StatusCode::NOT_FOUND,
            ReadRefusal::NotAParty
            | ReadRefusal::NotYourOffer { .. }
            | ReadRefusal::FormerParty { .. } => StatusCode::FORBIDDEN,
            ReadRefusal::Replayed => StatusCode::UNAUTHORIZED,
            ReadRefusal::RequestsRemembered => StatusCode::SERVICE_UNAVAILABLE,
            ReadRefusal::OfferNotInHistory => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl From<ReadRefusal> for ApiError {
    fn from(r: ReadRefusal) -> ApiError {
        ApiError::new(r.status(), r.code(), &r.to_string())
    }
}
