//! Why a node refuses a request that is not a ledger rule's matter: one variant per rule of reading or
//! of the request itself, each with its stable code. They live here, beside the ledger's own `Error`, so
//! the node that answers and the wallet that reads the answer name the same rules (the HTTP status is the
//! node's business, at its edge).

use crate::{BillId, TxId};

/// Why a node will not show a bill, a block or an offer to the one who asks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadRefusal {
    /// A bill not on this ledger.
    #[error("no bill {bill}")]
    UnknownBill {
        /// The bill.
        bill: BillId,
    },
    /// No bill with this transport document reference that the reader may read (DCSA's Endorsement Chain
    /// API: whether another party's bill has it is not said).
    #[error("no bill with transport document reference {reference:?} that you may read")]
    UnknownDocumentReference {
        /// The reference asked for.
        reference: String,
    },
    /// A reader with no part in the bill.
    #[error("only the bill's parties, members and auditors may read it")]
    NotAParty,
    /// A former party reading past where its part ended.
    #[error("your part in this bill ended with transaction {last}: you may read its history up to there, not what followed")]
    FormerParty {
        /// The last transaction the reader may see.
        last: TxId,
    },
    /// A signed request already answered.
    #[error("this signed request was already answered: sign each request anew")]
    Replayed,
    /// More signed requests in the skew window than the node remembers.
    #[error("too many signed requests in the last minute: try again shortly")]
    RequestsRemembered,
    /// An offer that does not let its bearer read this bill.
    #[error("the offer does not let you read this bill: {why}")]
    NotYourOffer {
        /// Why, in words.
        why: &'static str,
    },
    /// An offer whose pledge extends a head not in the bill's history.
    #[error("the pledge extends a head that is not in the bill's history")]
    OfferNotInHistory,
    /// A read without the signature headers.
    #[error("this read needs a signed request (x-ebl-key, x-ebl-time, x-ebl-signature)")]
    Unsigned,
    /// A read whose signature headers do not verify.
    #[error("{why}")]
    BadRequestSignature {
        /// Why, in words.
        why: &'static str,
    },
    /// A read signed at a time too far from the node's clock.
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

/// The rule a [`ReadRefusal`] broke, without its data: what a reader of the node's answer decodes its
/// code to (the data stays on the node; the message says it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRule {
    /// `unknown_bill`.
    UnknownBill,
    /// `unknown_transport_document`.
    UnknownDocumentReference,
    /// `forbidden`: no part in the bill, or an offer that does not open it.
    Forbidden,
    /// `former_party`.
    FormerParty,
    /// `request_replayed`.
    Replayed,
    /// `busy`.
    Busy,
    /// `offer_not_in_history`.
    OfferNotInHistory,
    /// `unauthenticated`.
    Unauthenticated,
    /// `bad_request_signature`.
    BadRequestSignature,
    /// `request_expired`.
    RequestExpired,
    /// `not_this_node`.
    NotThisNode,
}

impl ReadRule {
    /// Every rule, for decoding.
    pub const ALL: [ReadRule; 11] = [
        ReadRule::UnknownBill,
        ReadRule::UnknownDocumentReference,
        ReadRule::Forbidden,
        ReadRule::FormerParty,
        ReadRule::Replayed,
        ReadRule::Busy,
        ReadRule::OfferNotInHistory,
        ReadRule::Unauthenticated,
        ReadRule::BadRequestSignature,
        ReadRule::RequestExpired,
        ReadRule::NotThisNode,
    ];

    /// The stable code the API shows.
    pub fn code(self) -> &'static str {
        match self {
            ReadRule::UnknownBill => "unknown_bill",
            ReadRule::UnknownDocumentReference => "unknown_transport_document",
            ReadRule::Forbidden => "forbidden",
            ReadRule::FormerParty => "former_party",
            ReadRule::Replayed => "request_replayed",
            ReadRule::Busy => "busy",
            ReadRule::OfferNotInHistory => "offer_not_in_history",
            ReadRule::Unauthenticated => "unauthenticated",
            ReadRule::BadRequestSignature => "bad_request_signature",
            ReadRule::RequestExpired => "request_expired",
            ReadRule::NotThisNode => "not_this_node",
        }
    }

    /// The rule a node's answer names by `code`, if it is a rule of reading.
    pub fn from_code(code: &str) -> Option<ReadRule> {
        ReadRule::ALL.into_iter().find(|rule| rule.code() == code)
    }
}

impl ReadRefusal {
    /// The rule broken.
    pub fn rule(&self) -> ReadRule {
        match self {
            ReadRefusal::UnknownBill { .. } => ReadRule::UnknownBill,
            ReadRefusal::UnknownDocumentReference { .. } => ReadRule::UnknownDocumentReference,
            ReadRefusal::NotAParty | ReadRefusal::NotYourOffer { .. } => ReadRule::Forbidden,
            ReadRefusal::FormerParty { .. } => ReadRule::FormerParty,
            ReadRefusal::Replayed => ReadRule::Replayed,
            ReadRefusal::RequestsRemembered => ReadRule::Busy,
            ReadRefusal::OfferNotInHistory => ReadRule::OfferNotInHistory,
            ReadRefusal::Unsigned => ReadRule::Unauthenticated,
            ReadRefusal::BadRequestSignature { .. } => ReadRule::BadRequestSignature,
            ReadRefusal::RequestExpired => ReadRule::RequestExpired,
            ReadRefusal::NotThisNode => ReadRule::NotThisNode,
        }
    }

    /// The stable code the API shows.
    pub fn code(&self) -> &'static str {
        self.rule().code()
    }
}

/// Why the node refuses a request for what it is rather than for a ledger or reading rule: one variant
/// per refusal, each with its stable code and HTTP status; the text says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    /// A body that is not the request's shape.
    #[error("{0}")]
    BadBody(String),
    /// A batch with no transactions, or more than the limit.
    #[error("{0}")]
    BatchSize(String),
    /// A body over the limit.
    #[error("{0}")]
    BodyTooLarge(String),
    /// A fault of the node's own.
    #[error("{0}")]
    Internal(String),
    /// A height that is not a number.
    #[error("{0}")]
    MalformedHeight(String),
    /// An id that is not 64 hex digits.
    #[error("{0}")]
    MalformedId(String),
    /// Text that is not JSON.
    #[error("{0}")]
    MalformedJson(String),
    /// No leader to order the request, for now.
    #[error("{0}")]
    NoLeader(String),
    /// A node whose key is no current member's (a member removed by governance): it signs nothing
    /// more for anyone (finding 4 of the attack review: a removed member's node kept signing status
    /// statements with fresh times).
    #[error("{0}")]
    NotAMemberNode(String),
    /// A cluster request to a single node.
    #[error("{0}")]
    NotClustered(String),
    /// No such route.
    #[error("{0}")]
    NotFound(String),
    /// A read this node cannot prove current.
    #[error("{0}")]
    NotLinearizable(String),
    /// A height this node has not applied yet.
    #[error("{0}")]
    NotYetApplied(String),
    /// More waiting requests than the node queues.
    #[error("{0}")]
    QueueFull(String),
    /// A status statement fewer member nodes vouched for than the finality quorum (chain format 7):
    /// members are down or cut off, or their ledgers say otherwise; ask again.
    #[error("{0}")]
    StatementUncertified(String),
    /// A registry extract asked for at a height the registry has moved past (chain format 8): the
    /// statement it is for is older than the registry's last change; ask for the statement again.
    #[error("{0}")]
    RegistryMoved(String),
    /// A request not answered within its deadline.
    #[error("{0}")]
    RequestTimeout(String),
    /// An API version the node does not serve.
    #[error("{0}")]
    UnknownApiVersion(String),
    /// A block height not on the ledger.
    #[error("{0}")]
    UnknownBlock(String),
    /// A document the node does not hold.
    #[error("{0}")]
    UnknownDocument(String),
    /// A party id not registered.
    #[error("{0}")]
    UnknownParty(String),
    /// A transaction not on the ledger.
    #[error("{0}")]
    UnknownTransaction(String),
    /// A body in a media type the route does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
}

/// Every request refusal, by its constructor: what a reader of the node's answers decodes a code with.
/// A variant added to [`RequestRefusal`] is added here too (`every_request_refusal_decodes_from_its_code`
/// counts them).
const REQUEST_REFUSALS: [fn(String) -> RequestRefusal; 23] = [
    RequestRefusal::BadBody,
    RequestRefusal::BatchSize,
    RequestRefusal::BodyTooLarge,
    RequestRefusal::Internal,
    RequestRefusal::MalformedHeight,
    RequestRefusal::MalformedId,
    RequestRefusal::MalformedJson,
    RequestRefusal::NoLeader,
    RequestRefusal::NotAMemberNode,
    RequestRefusal::NotClustered,
    RequestRefusal::NotFound,
    RequestRefusal::NotLinearizable,
    RequestRefusal::NotYetApplied,
    RequestRefusal::QueueFull,
    RequestRefusal::StatementUncertified,
    RequestRefusal::RegistryMoved,
    RequestRefusal::RequestTimeout,
    RequestRefusal::UnknownApiVersion,
    RequestRefusal::UnknownBlock,
    RequestRefusal::UnknownDocument,
    RequestRefusal::UnknownParty,
    RequestRefusal::UnknownTransaction,
    RequestRefusal::UnsupportedMediaType,
];

impl RequestRefusal {
    /// The refusal a node answered with `code` and `message`, decoded; `None` for a code that is none
    /// of these (a ledger rule's, a reading rule's, or one a later release added).
    pub fn from_answer(code: &str, message: &str) -> Option<RequestRefusal> {
        REQUEST_REFUSALS
            .iter()
            .find(|make| make(String::new()).code() == code)
            .map(|make| make(message.to_owned()))
    }

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
            RequestRefusal::NotAMemberNode(_) => "not_a_member_node",
            RequestRefusal::NotClustered(_) => "not_clustered",
            RequestRefusal::NotFound(_) => "not_found",
            RequestRefusal::NotLinearizable(_) => "not_linearizable",
            RequestRefusal::NotYetApplied(_) => "not_yet_applied",
            RequestRefusal::StatementUncertified(_) => "statement_uncertified",
            RequestRefusal::QueueFull(_) => "queue_full",
            RequestRefusal::RegistryMoved(_) => "registry_moved",
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

#[cfg(test)]
mod tests {
    use super::{ReadRule, RequestRefusal, REQUEST_REFUSALS};

    #[test]
    fn every_read_rule_decodes_from_its_code() {
        for rule in ReadRule::ALL {
            assert_eq!(ReadRule::from_code(rule.code()), Some(rule));
        }
        assert_eq!(ReadRule::from_code("bad_body"), None);
    }

    /// A node's answer decodes to the refusal it was made from, for every refusal: no reader compares
    /// codes as strings.
    #[test]
    fn every_request_refusal_decodes_from_its_code() {
        let mut codes: Vec<&str> = REQUEST_REFUSALS
            .iter()
            .map(|make| make(String::new()).code())
            .collect();
        for make in REQUEST_REFUSALS {
            let refusal = make("what to do".to_owned());
            assert_eq!(
                RequestRefusal::from_answer(refusal.code(), "what to do"),
                Some(refusal)
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), REQUEST_REFUSALS.len(), "one code per refusal");
        assert_eq!(RequestRefusal::from_answer("stale_head", "x"), None);
    }
}
