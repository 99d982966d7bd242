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
            ReadRefusal::UnknownBill { .. } | ReadRefusal::UnknownDocumentReference { .. } => {
                StatusCode::NOT_FOUND
            }
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
            RequestRefusal::NotAMemberNode(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::NotClustered(_) => StatusCode::NOT_FOUND,
            RequestRefusal::NotFound(_) => StatusCode::NOT_FOUND,
            RequestRefusal::NotLinearizable(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::NotYetApplied(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::QueueFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::StatementUncertified(_) => StatusCode::SERVICE_UNAVAILABLE,
            RequestRefusal::RegistryMoved(_) => StatusCode::CONFLICT,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ebl_core::Hash;
    use ebl_store::StoreError;

    use super::*;
    use ebl_consensus::sequencer::NotOrdered;

    /// Every variant, so that the codes below are all of them: the match in `_every_read_refusal`
    /// stops compiling when a variant is added and not listed here.
    fn read_refusals() -> Vec<ReadRefusal> {
        vec![
            ReadRefusal::UnknownBill { bill: Hash::ZERO },
            ReadRefusal::UnknownDocumentReference {
                reference: String::new(),
            },
            ReadRefusal::NotAParty,
            ReadRefusal::FormerParty { last: Hash::ZERO },
            ReadRefusal::Replayed,
            ReadRefusal::RequestsRemembered,
            ReadRefusal::NotYourOffer { why: "" },
            ReadRefusal::OfferNotInHistory,
            ReadRefusal::Unsigned,
            ReadRefusal::BadRequestSignature { why: "" },
            ReadRefusal::RequestExpired,
            ReadRefusal::NotThisNode,
        ]
    }

    fn _every_read_refusal(r: ReadRefusal) {
        match r {
            ReadRefusal::UnknownBill { .. }
            | ReadRefusal::UnknownDocumentReference { .. }
            | ReadRefusal::NotAParty
            | ReadRefusal::FormerParty { .. }
            | ReadRefusal::Replayed
            | ReadRefusal::RequestsRemembered
            | ReadRefusal::NotYourOffer { .. }
            | ReadRefusal::OfferNotInHistory
            | ReadRefusal::Unsigned
            | ReadRefusal::BadRequestSignature { .. }
            | ReadRefusal::RequestExpired
            | ReadRefusal::NotThisNode => {}
        }
    }

    fn request_refusals() -> Vec<RequestRefusal> {
        let s = String::new;
        vec![
            RequestRefusal::BadBody(s()),
            RequestRefusal::BatchSize(s()),
            RequestRefusal::BodyTooLarge(s()),
            RequestRefusal::Internal(s()),
            RequestRefusal::MalformedHeight(s()),
            RequestRefusal::MalformedId(s()),
            RequestRefusal::MalformedJson(s()),
            RequestRefusal::NoLeader(s()),
            RequestRefusal::NotAMemberNode(s()),
            RequestRefusal::NotClustered(s()),
            RequestRefusal::NotFound(s()),
            RequestRefusal::NotLinearizable(s()),
            RequestRefusal::NotYetApplied(s()),
            RequestRefusal::QueueFull(s()),
            RequestRefusal::StatementUncertified(s()),
            RequestRefusal::RegistryMoved(s()),
            RequestRefusal::RequestTimeout(s()),
            RequestRefusal::UnknownApiVersion(s()),
            RequestRefusal::UnknownBlock(s()),
            RequestRefusal::UnknownDocument(s()),
            RequestRefusal::UnknownParty(s()),
            RequestRefusal::UnknownTransaction(s()),
            RequestRefusal::UnsupportedMediaType(s()),
        ]
    }

    fn _every_request_refusal(r: RequestRefusal) {
        use RequestRefusal::*;
        match r {
            BadBody(_)
            | BatchSize(_)
            | BodyTooLarge(_)
            | Internal(_)
            | MalformedHeight(_)
            | MalformedId(_)
            | MalformedJson(_)
            | NoLeader(_)
            | NotAMemberNode(_)
            | NotClustered(_)
            | NotFound(_)
            | NotLinearizable(_)
            | NotYetApplied(_)
            | QueueFull(_)
            | StatementUncertified(_)
            | RegistryMoved(_)
            | RequestTimeout(_)
            | UnknownApiVersion(_)
            | UnknownBlock(_)
            | UnknownDocument(_)
            | UnknownParty(_)
            | UnknownTransaction(_)
            | UnsupportedMediaType(_) => {}
        }
    }

    /// What the store answers through the API (a node's store is open, so `InUse`, `NotInitialized`
    /// and `AlreadyInitialized` are the command line's, not the API's).
    fn store_errors() -> Vec<StoreError> {
        vec![
            StoreError::Io(String::new()),
            StoreError::Corrupt {
                what: "",
                key: String::new(),
                reason: String::new(),
            },
            StoreError::StateSealMismatch {
                what: "",
                key: String::new(),
            },
            StoreError::Truncated {
                height: 0,
                reason: String::new(),
            },
        ]
    }

    fn not_ordered() -> Vec<NotOrdered> {
        vec![
            NotOrdered::Leader(None),
            NotOrdered::Halted,
            NotOrdered::Retry,
        ]
    }

    /// The codes docs/openapi.yaml lists as the API's own, in its `ErrorBody`.
    fn listed() -> BTreeSet<String> {
        let spec = include_str!("../../../docs/openapi.yaml");
        let start = spec
            .find("one of the API's:")
            .expect("ErrorBody lists the API's codes");
        let list = &spec[start + "one of the API's:".len()..];
        let list = &list[..list.find("message:").expect("the list ends")];
        list.split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Issue 14: codes were spelled as literals in handlers, and docs/openapi.yaml listed some of them.
    /// Every code the API answers outside the ledger's rules is now one variant's, and the list in
    /// openapi is exactly them, with the ledger's codes that requests break before any rule (a body's
    /// encoding, an unknown key).
    #[test]
    fn the_api_answers_exactly_the_codes_openapi_lists() {
        let mut answered: BTreeSet<String> = BTreeSet::new();
        answered.extend(read_refusals().iter().map(|r| r.code().to_owned()));
        answered.extend(request_refusals().iter().map(|r| r.code().to_owned()));
        answered.extend(store_errors().iter().map(|e| e.code().to_owned()));
        answered.extend(not_ordered().iter().map(|n| n.code().to_owned()));
        let ledger: BTreeSet<String> = [
            ebl_core::Error::MalformedJson {
                reason: String::new(),
            },
            ebl_core::Error::MalformedEncoding {
                reason: String::new(),
            },
            ebl_core::Error::TrailingBytes { extra: 0 },
            ebl_core::Error::EncodingTooLarge { len: 0, max: 0 },
            ebl_core::Error::UnknownKey,
        ]
        .iter()
        .map(|e| e.code().to_owned())
        .collect();
        let listed = listed();
        let unlisted: Vec<&String> = answered.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "answered, not in openapi: {unlisted:?}"
        );
        let known: BTreeSet<String> = answered.union(&ledger).cloned().collect();
        let unknown: Vec<&String> = listed.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "in openapi, answered by nothing: {unknown:?}"
        );
        // Each status is one an HTTP client expects for a refusal.
        for r in read_refusals() {
            assert!(r.status().is_client_error() || r.status().is_server_error());
        }
        for r in request_refusals() {
            assert!(r.status().is_client_error() || r.status().is_server_error());
        }
    }
}
