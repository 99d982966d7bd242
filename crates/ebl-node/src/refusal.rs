//! The HTTP status of each refusal in `ebl_core::refusal`: the rules and their codes are the core's, so
//! the wallet reads them without this crate; how a refusal travels over HTTP is the node's.

use axum::http::StatusCode;
pub(crate) use ebl_core::refusal::{ReadRefusal, RequestRefusal};

use crate::api::ApiError;

/// The HTTP status a refusal is answered with.
pub(crate) trait Status {
    fn status(&self) -> StatusCode;
}

impl Status for ReadRefusal {
    fn status(&self) -> StatusCode {
        match self {
            ReadRefusal::UnknownBill { .. } => StatusCode::NOT_FOUND,
            ReadRefusal::NotAParty
            | ReadRefusal::NotYourOffer { .. }
            | ReadRefusal::FormerParty { .. }
            | ReadRefusal::NotThisNode => StatusCode::FORBIDDEN,
            ReadRefusal::Replayed
            | ReadRefusal::Unsigned
            | ReadRefusal::BadRequestSignature { .. }
            | ReadRefusal::RequestExpired => StatusCode::UNAUTHORIZED,
            ReadRefusal::RequestsRemembered => StatusCode::SERVICE_UNAVAILABLE,
            ReadRefusal::OfferNotInHistory => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl Status for RequestRefusal {
    fn status(&self) -> StatusCode {
        match self {
            RequestRefusal::BadBody(_) => StatusCode::BAD_REQUEST,
            RequestRefusal::BatchSize(_) => StatusCode::BAD_REQUEST,
            RequestRefusal::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RequestRefusal::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            RequestRefusal::MalformedHeight(_) => StatusCode::BAD_REQUEST,
            RequestRefusal::MalformedId(_) => StatusCode::BAD_REQUEST,
            RequestRefusal::MalformedJson(_) => StatusCode::BAD_REQUEST,
            RequestRefusal::NoLeader(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::NotClustered(_) => StatusCode::NOT_FOUND,
            RequestRefusal::NotFound(_) => StatusCode::NOT_FOUND,
            RequestRefusal::NotLinearizable(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::NotYetApplied(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::QueueFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            RequestRefusal::UnknownApiVersion(_) => StatusCode::NOT_FOUND,
            RequestRefusal::UnknownBlock(_) => StatusCode::NOT_FOUND,
            RequestRefusal::UnknownDocument(_) => StatusCode::NOT_FOUND,
            RequestRefusal::UnknownParty(_) => StatusCode::NOT_FOUND,
            RequestRefusal::UnknownTransaction(_) => StatusCode::NOT_FOUND,
            RequestRefusal::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

impl From<ReadRefusal> for ApiError {
    fn from(r: ReadRefusal) -> ApiError {
        ApiError::new(r.status(), r.code(), &r.to_string())
    }
}

impl From<RequestRefusal> for ApiError {
    fn from(r: RequestRefusal) -> ApiError {
        ApiError::new(r.status(), r.code(), &r.to_string())
    }
}
