//! Why a node refuses a request that is not a ledger rule's matter: one variant per rule of reading or
//! of the request itself, each with its stable code. They live here, beside the ledger's own `Error`, so
//! the node that answers and the wallet that reads the answer name the same rules (the HTTP status is the
//! node's business, at its edge).

use crate::{BillId, TxId};

/// Why a node will not show a bill, a block or an offer to the one who asks.
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
    #[error("this read needs a signed request (x-ebl-key, x-ebl-time, x-ebl-signature)")]
    Unsigned,
    #[error("{why}")]
    BadRequestSignature { why: &'static str },
    #[error(
        "request time is more than {} ms from the node's clock",
        crate::limits::REQUEST_SKEW_MS_MAX
    )]
    RequestExpired,
    /// A request only the node's own operator may make (verifying its store), signed by another key.
    #[error(
        "only this node's own key (node.key in its data directory) may ask it to verify its store"
    )]
    NotThisNode,
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
            ReadRefusal::Unsigned => "unauthenticated",
            ReadRefusal::BadRequestSignature { .. } => "bad_request_signature",
            ReadRefusal::RequestExpired => "request_expired",
            ReadRefusal::NotThisNode => "not_this_node",
        }
    }
}

/// Why the node refuses a request for what it is rather than for a ledger or reading rule: one variant
/// per refusal, each with its stable code and HTTP status; the text says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    #[error("{0}")]
    BadBody(String),
    #[error("{0}")]
    BatchSize(String),
    #[error("{0}")]
    BodyTooLarge(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    MalformedHeight(String),
    #[error("{0}")]
    MalformedId(String),
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    NoLeader(String),
    #[error("{0}")]
    NotClustered(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotLinearizable(String),
    #[error("{0}")]
    NotYetApplied(String),
    #[error("{0}")]
    QueueFull(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UnknownApiVersion(String),
    #[error("{0}")]
    UnknownBlock(String),
    #[error("{0}")]
    UnknownDocument(String),
    #[error("{0}")]
    UnknownParty(String),
    #[error("{0}")]
    UnknownTransaction(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
}

impl RequestRefusal {
    /// The stable code the API shows.
    pub fn code(&self) -> &'static str {
        match self {
            RequestRefusal::BadBody(_) => "bad_body",
            RequestRefusal::BatchSize(_) => "batch_size",
            RequestRefusal::BodyTooLarge(_) => "body_too_large",
            RequestRefusal::Internal(_) => "internal",
            RequestRefusal::MalformedHeight(_) => "malformed_height",
            RequestRefusal::MalformedId(_) => "malformed_id",
            RequestRefusal::MalformedJson(_) => "malformed_json",
            RequestRefusal::NoLeader(_) => "no_leader",
            RequestRefusal::NotClustered(_) => "not_clustered",
            RequestRefusal::NotFound(_) => "not_found",
            RequestRefusal::NotLinearizable(_) => "not_linearizable",
            RequestRefusal::NotYetApplied(_) => "not_yet_applied",
            RequestRefusal::QueueFull(_) => "queue_full",
            RequestRefusal::RequestTimeout(_) => "request_timeout",
            RequestRefusal::UnknownApiVersion(_) => "unknown_api_version",
            RequestRefusal::UnknownBlock(_) => "unknown_block",
            RequestRefusal::UnknownDocument(_) => "unknown_document",
            RequestRefusal::UnknownParty(_) => "unknown_party",
            RequestRefusal::UnknownTransaction(_) => "unknown_transaction",
            RequestRefusal::UnsupportedMediaType(_) => "unsupported_media_type",
        }
    }
}
