//! DCSA eBL Surrender API 3.0, the platform's side: a surrender pending on the ledger as the surrender
//! request the carrier's system is sent (`POST /v3/ebl-surrender-requests`, SREQ or AREQ with its reason
//! and the endorsement chain in DCSA's form), and the checks on the system's answer
//! (`POST /v3/ebl-surrender-responses`, SURR or SREJ). No IO here.

use ebl_core::{AmendmentReason, Bill, BillId, Status};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::records::Kept;

/// Largest surrender answer read (a reference, an action, a comment and feedback elements).
pub const SURRENDER_ANSWER_BYTES_MAX: usize = 64 * 1024;

/// A surrender pending on the ledger, as the carrier's system is told of it, and how far it has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurrenderRequest {
    /// `surrenderRequestReference`: the surrendering transaction's id, one per surrender.
    pub reference: String,
    /// The bill surrendered.
    pub bill: BillId,
    /// Its transport document reference.
    pub document_reference: String,
    /// `SREQ` (for delivery) or `AREQ` (for amendment).
    pub code: String,
    /// The amendment's reason (`SWTP`, `COD`, `SWI`), for an AREQ.
    pub reason: Option<String>,
    /// The endorsement chain, in DCSA's form.
    pub chain: Vec<Value>,
    /// When it was found, in Unix milliseconds.
    pub found_ms: u64,
    /// Whether the carrier's system acknowledged the request.
    pub delivered: bool,
    /// The system's answer, once taken: `SURR` or `SREJ`.
    pub answer: Option<String>,
}

impl Kept for SurrenderRequest {
    fn key(&self) -> &str {
        &self.reference
    }

    fn order(&self) -> u64 {
        self.found_ms
    }
}

/// The surrender pending on `bill`, if one is: its request code and reason. A surrender from another
/// platform (received over PINT) is one for delivery.
pub fn pending(bill: &Bill) -> Option<(&'static str, Option<AmendmentReason>)> {
    match &bill.status {
        Status::PendingDelivery { .. } | Status::PendingDeliveryFromAbroad { .. } => {
            Some(("SREQ", None))
        }
        Status::PendingAmendment { reason, .. } => Some(("AREQ", Some(*reason))),
        _ => None,
    }
}

/// The `SurrenderRequestDetails` body of `request`.
pub fn request_body(request: &SurrenderRequest) -> Value {
    let mut body = json!({
        "surrenderRequestReference": request.reference,
        "transportDocumentReference": request.document_reference,
        "surrenderRequestCode": request.code,
        "endorsementChain": request.chain,
    });
    if let Some(reason) = &request.reason {
        body["reasonCode"] = json!(reason);
    }
    body
}

/// Why the carrier system's answer to a surrender request is refused (nothing is signed for it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefusal {
    /// The caller did not give the system's token.
    #[error("the answer does not carry the carrier system's token (Authorization: Bearer)")]
    Unauthenticated,
    /// The body is over `SURRENDER_ANSWER_BYTES_MAX`.
    #[error("the answer is over {SURRENDER_ANSWER_BYTES_MAX} bytes")]
    TooLarge,
    /// Not JSON, or not a `SurrenderRequestAnswer`.
    #[error("not a surrender answer: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// A rejection without the comments the spec requires.
    #[error("an SREJ must say why in comments")]
    RejectionWithoutComments,
    /// No surrender request has this reference.
    #[error("no surrender request {reference} was sent")]
    UnknownReference {
        /// The reference.
        reference: String,
    },
    /// The request was answered before (the spec's 409).
    #[error("surrender request {reference} was answered already ({answer})")]
    AlreadyAnswered {
        /// The reference.
        reference: String,
        /// The answer taken.
        answer: String,
    },
    /// A switch to paper is accepted with the paper bill's number and date, which DCSA's answer does not
    /// carry (unless the connector runs with `--paper-bill-is-reference`).
    #[error("a surrender to switch to paper is accepted with the paper bill's number and date: `ebl bill accept-surrender --paper-number N --paper-date D`, or run the connector with --paper-bill-is-reference")]
    PaperNoteNeeded,
    /// The ledger refused the acceptance or rejection.
    #[error("the ledger refused it: {code}: {message}")]
    LedgerRefused {
        /// The ledger's code.
        code: String,
        /// Its words.
        message: String,
    },
}

impl AnswerRefusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AnswerRefusal::Unauthenticated => "unauthenticated",
            AnswerRefusal::TooLarge => "request_too_large",
            AnswerRefusal::Malformed { .. } => "malformed_request",
            AnswerRefusal::RejectionWithoutComments => "rejection_without_comments",
            AnswerRefusal::UnknownReference { .. } => "unknown_surrender_request",
            AnswerRefusal::AlreadyAnswered { .. } => "already_answered",
            AnswerRefusal::PaperNoteNeeded => "paper_note_needed",
            AnswerRefusal::LedgerRefused { .. } => "ledger_refused",
        }
    }

    /// DCSA's `errorCode`: a vendor number in 7000 to 9999.
    pub fn number(&self) -> u16 {
        match self {
            AnswerRefusal::Unauthenticated => 7101,
            AnswerRefusal::TooLarge => 7102,
            AnswerRefusal::Malformed { .. } => 7103,
            AnswerRefusal::RejectionWithoutComments => 7104,
            AnswerRefusal::UnknownReference { .. } => 7105,
            AnswerRefusal::AlreadyAnswered { .. } => 7106,
            AnswerRefusal::PaperNoteNeeded => 7107,
            AnswerRefusal::LedgerRefused { .. } => 7108,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            AnswerRefusal::Unauthenticated => 401,
            AnswerRefusal::TooLarge => 413,
            AnswerRefusal::UnknownReference { .. } => 404,
            AnswerRefusal::AlreadyAnswered { .. } | AnswerRefusal::LedgerRefused { .. } => 409,
            _ => 400,
        }
    }
}

/// The carrier's verdict on a surrender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurrenderAnswer {
    /// The surrender request answered.
    pub reference: String,
    /// Accepted (`SURR`) or rejected (`SREJ`).
    pub accepted: bool,
}

/// Reads a `SurrenderRequestAnswer`: a reference, `SURR` or `SREJ`, and comments on a rejection.
pub fn check_answer(body: &[u8]) -> Result<SurrenderAnswer, AnswerRefusal> {
    if body.len() > SURRENDER_ANSWER_BYTES_MAX {
        return Err(AnswerRefusal::TooLarge);
    }
    let malformed = |reason: &str| AnswerRefusal::Malformed {
        reason: reason.to_owned(),
    };
    ebl_pint::check_json_bounds(body).map_err(|e| malformed(&e.to_string()))?;
    let answer = ebl_core::jcs::parse(body).map_err(|e| malformed(&e.to_string()))?;
    let reference = answer
        .get("surrenderRequestReference")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("no surrenderRequestReference"))?;
    let accepted = match answer.get("action").and_then(Value::as_str) {
        Some("SURR") => true,
        Some("SREJ") => false,
        _ => return Err(malformed("action is neither SURR nor SREJ")),
    };
    let comments = answer
        .get("comments")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.trim().is_empty());
    if !accepted && !comments {
        return Err(AnswerRefusal::RejectionWithoutComments);
    }
    Ok(SurrenderAnswer {
        reference: reference.to_owned(),
        accepted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrender_answer_bytes_max_is_enforced_at_its_bound() {
        let answer = br#"{"surrenderRequestReference":"R1","action":"SURR"}"#;
        let mut padded = answer.to_vec();
        padded.resize(SURRENDER_ANSWER_BYTES_MAX, b' ');
        assert_eq!(
            check_answer(&padded),
            Ok(SurrenderAnswer {
                reference: "R1".into(),
                accepted: true
            })
        );
        padded.push(b' ');
        assert_eq!(check_answer(&padded), Err(AnswerRefusal::TooLarge));
    }

    #[test]
    fn an_answer_is_surr_or_srej_and_a_rejection_says_why() {
        assert_eq!(
            check_answer(br#"{"surrenderRequestReference":"R1","action":"SREJ","comments":"  "}"#),
            Err(AnswerRefusal::RejectionWithoutComments)
        );
        assert!(matches!(
            check_answer(br#"{"surrenderRequestReference":"R1","action":"SACC"}"#),
            Err(AnswerRefusal::Malformed { .. })
        ));
        assert!(matches!(
            check_answer(br#"{"action":"SURR"}"#),
            Err(AnswerRefusal::Malformed { .. })
        ));
        assert_eq!(
            check_answer(br#"{"surrenderRequestReference":"R1","action":"SREJ","comments":"No"}"#),
            Ok(SurrenderAnswer {
                reference: "R1".into(),
                accepted: false
            })
        );
    }
}
