//! `ebl-pint`: DCSA PINT 3.0, the exchange of eBLs between platforms. Envelopes from other platforms: compact JWS signatures checked against a trust store,
//! the transfer chain's hash links, the manifest's and the document's checksums, and the action rules,
//! answered with PINT's response codes.
//!
//! Supported: EdDSA (Ed25519, RFC 8037, checked with `verify_strict`), RS256 and PS256 (RSA of at least
//! 2048 bits) and ES256 (P-256). Keys are trusted by `kid` from JWK sets, or through `x5c` certificate
//! chains to trusted root certificates; an unknown `kid` or an untrusted or expired chain is answered
//! `BSIG`, never accepted.
//!
//! Also here, without IO (only [`trust_dir`] reads files): exporting a bill as an envelope signed by this platform, the receiving
//! side's rules (open transfers, additional documents, the signed answers) that the node serves, and the
//! sending side's (what each answer of a receiver leads to, deciding only on signed ones, and one driver of
//! a whole transfer over a transport the caller gives).

// Every dependency is used by the library itself (tests and binaries bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![warn(missing_docs)]

mod bounds;
mod certified;
pub mod code_lists;
mod drive;
mod endorsement;
mod envelope;
mod export;
mod jws;
mod receive;
mod recorded;
mod send;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod trust_dir;
mod x5c;

pub use bounds::{
    check_json_bounds, JsonBoundsError, ENVELOPE_CONTAINER_MEMBERS_MAX, ENVELOPE_DEPTH_MAX,
    ENVELOPE_VALUES_MAX,
};
pub use certified::{CertifiedKey, CertifiedKeyError};
pub use drive::{Ended, Request, Transport};
pub use endorsement::endorsement_chain;
pub use envelope::{
    accepted_documents, verify_envelope, EnvelopeVerdict, NamedDocument, ACTION_CODES,
};
pub use export::{date_time, export_envelope, Exported};
pub use jws::{
    base64url_decode, base64url_encode, jwk_thumbprint, jws_content, public_jwk, sign_jws,
    verified_jws, Binding, JwsSigner, Role, TrustStore, RSA_BITS_MIN, TRUSTED_KEYS_MAX,
};
pub use receive::{
    base64_decode, base64_encode, check_platform_code, check_shape, end_of_chain, hosted_carrier,
    hosted_party, identifying_codes, import_action, last_entry_checksum, named_party,
    started_response, EndTitle, Finished, Placement, ShapeError, Transfer,
    ADDITIONAL_DOCUMENT_BYTES_MAX, PLATFORM_CODE_BYTES_MAX, PLATFORM_CODE_DEFAULT,
    TRANSFERS_ACTIVE_MAX, TRANSFER_DOCUMENTS_BYTES_MAX,
};
pub use recorded::{check_recorded_answer, AnswerFault, Recorded};
pub use send::{Next, Outbound, SEND_ATTEMPTS_MAX};
pub use x5c::{CERTIFICATE_BYTES_MAX, X5C_CERTIFICATES_MAX};

/// Largest envelope accepted, in bytes.
pub const ENVELOPE_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Most entries in a transfer chain.
pub const TRANSFER_CHAIN_ENTRIES_MAX: usize = 1024;
/// Longest compact JWS accepted (an entry, or the manifest).
pub const JWS_BYTES_MAX: usize = 256 * 1024;

/// PINT's answers to a sending platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PintCode {
    /// Received.
    #[serde(rename = "RECE")]
    Received,
    /// The same envelope again.
    #[serde(rename = "DUPE")]
    Duplicate,
    /// A signature does not verify, or is by an untrusted or unsupported key.
    #[serde(rename = "BSIG")]
    BadSignature,
    /// The envelope is malformed or its chain is broken.
    #[serde(rename = "BENV")]
    BadEnvelope,
    /// A document checksum does not match.
    #[serde(rename = "INCD")]
    IncorrectDocument,
    /// A document the manifest names is missing.
    #[serde(rename = "MDOC")]
    MissingDocument,
    /// The history conflicts with one already received (a double spend).
    #[serde(rename = "DISE")]
    Disputed,
}

impl PintCode {
    /// Every code, for reading one back.
    pub const ALL: [PintCode; 7] = [
        PintCode::Received,
        PintCode::Duplicate,
        PintCode::BadSignature,
        PintCode::BadEnvelope,
        PintCode::IncorrectDocument,
        PintCode::MissingDocument,
        PintCode::Disputed,
    ];

    /// The code PINT writes, read back (`None` for one it does not define).
    pub fn from_code(code: &str) -> Option<PintCode> {
        PintCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The four letters PINT writes (`RECE`, `BSIG`, ...).
    pub fn code(self) -> &'static str {
        match self {
            PintCode::Received => "RECE",
            PintCode::Duplicate => "DUPE",
            PintCode::BadSignature => "BSIG",
            PintCode::BadEnvelope => "BENV",
            PintCode::IncorrectDocument => "INCD",
            PintCode::MissingDocument => "MDOC",
            PintCode::Disputed => "DISE",
        }
    }
}

/// Why an envelope was not received, as PINT answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at {place}: {reason}", code.code())]
pub struct PintFailure {
    /// The answer: `BSIG`, `BENV`, ...
    pub code: PintCode,
    /// Where in the envelope (`entry 2`, `issuance manifest`, ...).
    pub place: String,
    /// What is wrong there.
    pub reason: String,
}

fn fail(code: PintCode, place: &str, reason: impl Into<String>) -> PintFailure {
    PintFailure {
        code,
        place: place.to_owned(),
        reason: reason.into(),
    }
}
