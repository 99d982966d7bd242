//! Checking a member node's record of a send's outcome (`SENT_OUT`, `SEND_REFUSED`, `SEND_DISPUTED`)
//! against the receiving platform's signature: every other member node does so before it applies one,
//! so no single node can send a bill back to its holder, or end its life here, on words no platform
//! signed (finding 6 of the attack review).

use ebl_core::Hash;
use serde_json::Value;

use crate::jws::{verified_jws, Binding, TrustStore};
use crate::PintCode;

/// Which record an answer is to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// `SENT_OUT`: the receiver holds the bill (`RECE` or `DUPE`).
    Transferred,
    /// `SEND_REFUSED`: refused for good (`BENV` or `BSIG`).
    Refused,
    /// `SEND_DISPUTED`: `DISE`.
    Disputed,
}

impl Recorded {
    fn backed_by(self, code: PintCode) -> bool {
        matches!(
            (self, code),
            (
                Recorded::Transferred,
                PintCode::Received | PintCode::Duplicate
            ) | (
                Recorded::Refused,
                PintCode::BadEnvelope | PintCode::BadSignature
            ) | (Recorded::Disputed, PintCode::Disputed)
        )
    }

    fn name(self) -> &'static str {
        match self {
            Recorded::Transferred => "SENT_OUT",
            Recorded::Refused => "SEND_REFUSED",
            Recorded::Disputed => "SEND_DISPUTED",
        }
    }
}

/// Why a recorded answer does not back its record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerFault {
    /// Not a JWS signed by a key this node trusts for the receiving platform.
    #[error(
        "the answer is not signed by a key of platform {platform} that this node trusts: {reason}"
    )]
    NotTheReceivers {
        /// The platform the bill was sent to.
        platform: String,
        /// Why the signature does not hold.
        reason: String,
    },
    /// Signed, but its `responseCode` is missing or says something else than the record.
    #[error("the answer's response code {got} does not back a {recorded} record")]
    OtherCode {
        /// The code the answer gives (`(none)` when it gives none this node knows).
        got: String,
        /// The record it was to back.
        recorded: &'static str,
    },
    /// A `SENT_OUT` whose answer names another envelope than the chain entry it records.
    #[error("the answer is about another envelope than the chain entry recorded")]
    AboutAnotherEnvelope,
}

/// Checks that `answer` is the receiving `platform`'s signed answer backing `recorded`, and, for a
/// `SENT_OUT`, that it is about `entry`, the last chain entry the record keeps. Returns the answer's
/// code.
pub fn check_recorded_answer(
    recorded: Recorded,
    answer: &str,
    entry: Option<&str>,
    trust: &TrustStore,
    platform: &str,
) -> Result<PintCode, AnswerFault> {
    let payload = verified_jws(answer, trust, &Binding::platform(platform)).map_err(|f| {
        AnswerFault::NotTheReceivers {
            platform: platform.to_owned(),
            reason: f.reason,
        }
    })?;
    let said = payload.get("responseCode").and_then(Value::as_str);
    let code = said.and_then(PintCode::from_code);
    let Some(code) = code.filter(|c| recorded.backed_by(*c)) else {
        return Err(AnswerFault::OtherCode {
            got: said.unwrap_or("(none)").to_owned(),
            recorded: recorded.name(),
        });
    };
    if let Some(entry) = entry {
        let about = payload
            .get("lastEnvelopeTransferChainEntrySignedContentChecksum")
            .and_then(Value::as_str)
            .and_then(|c| c.parse::<Hash>().ok());
        if about != Some(Hash::of(entry.as_bytes())) {
            return Err(AnswerFault::AboutAnotherEnvelope);
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{public_jwk, sign_jws};

    fn wave_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[9; 32])
    }

    fn trust() -> TrustStore {
        let mut trust = TrustStore::default();
        let jwk = public_jwk(&ebl_core::PartyKey::of(&wave_key())).to_string();
        trust
            .add_jwks(jwk.as_bytes(), &Binding::platform("WAVE"))
            .expect("jwk");
        trust
    }

    fn answer(code: &str, about: &str) -> String {
        sign_jws(
            &wave_key(),
            &serde_json::json!({
                "responseCode": code,
                "lastEnvelopeTransferChainEntrySignedContentChecksum": Hash::of(about.as_bytes()).to_hex(),
            }),
        )
    }

    #[test]
    fn the_receivers_signed_answer_backs_its_record() {
        let rece = answer("RECE", "our.entry");
        assert_eq!(
            check_recorded_answer(
                Recorded::Transferred,
                &rece,
                Some("our.entry"),
                &trust(),
                "WAVE"
            ),
            Ok(PintCode::Received)
        );
        let benv = answer("BENV", "our.entry");
        assert_eq!(
            check_recorded_answer(Recorded::Refused, &benv, None, &trust(), "WAVE"),
            Ok(PintCode::BadEnvelope)
        );
        let dise = answer("DISE", "our.entry");
        assert_eq!(
            check_recorded_answer(Recorded::Disputed, &dise, None, &trust(), "WAVE"),
            Ok(PintCode::Disputed)
        );
    }

    /// Finding 6 of the attack review: one member node recorded `SEND_REFUSED` with answer text no
    /// platform signed, and the ledger took it.
    #[test]
    fn regression_an_answer_no_platform_signed_backs_nothing() {
        let unsigned = "eyJhbGciOiJub25lIn0.eyJyZXNwb25zZUNvZGUiOiJCRU5WIn0.";
        assert!(matches!(
            check_recorded_answer(Recorded::Refused, unsigned, None, &trust(), "WAVE"),
            Err(AnswerFault::NotTheReceivers { .. })
        ));
        // Signed by a key trusted for another platform than the one the bill went to.
        let benv = answer("BENV", "our.entry");
        assert!(matches!(
            check_recorded_answer(Recorded::Refused, &benv, None, &trust(), "CARX"),
            Err(AnswerFault::NotTheReceivers { .. })
        ));
        // A genuine answer that says something else than the record.
        assert!(matches!(
            check_recorded_answer(
                Recorded::Refused,
                &answer("RECE", "e"),
                None,
                &trust(),
                "WAVE"
            ),
            Err(AnswerFault::OtherCode { .. })
        ));
        assert!(matches!(
            check_recorded_answer(
                Recorded::Transferred,
                &answer("BSIG", "e"),
                Some("e"),
                &trust(),
                "WAVE"
            ),
            Err(AnswerFault::OtherCode { .. })
        ));
        // A genuine RECE about another envelope.
        assert_eq!(
            check_recorded_answer(
                Recorded::Transferred,
                &answer("RECE", "an earlier entry"),
                Some("our.entry"),
                &trust(),
                "WAVE"
            ),
            Err(AnswerFault::AboutAnotherEnvelope)
        );
    }
}
