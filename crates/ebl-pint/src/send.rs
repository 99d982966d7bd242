//! The sending side of a PINT transfer, without IO: what a sending platform does after each answer of
//! the receiver. Only a signed answer, by a key bound to the receiving platform and about our envelope,
//! decides anything (the spec: a sender acting on an unsigned response is liable); everything else is
//! retried. The node will drive this against the network and keep its state durably.

use serde_json::Value;

use ebl_core::Hash;

use crate::jws::{verified_jws, Binding, TrustStore};
use crate::PintCode;

/// Most attempts at one step (a start, one document, a finish) before a send is left for people.
pub const SEND_ATTEMPTS_MAX: u32 = 16;

/// What the sender does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Upload these additional documents to the open transfer, then finish it.
    Upload {
        /// The transfer's `envelopeReference`.
        reference: String,
        /// The documents the receiver does not have yet, by checksum.
        missing: Vec<Hash>,
    },
    /// Finish the open transfer.
    Finish {
        /// The transfer's `envelopeReference`.
        reference: String,
    },
    /// No answer that decides anything (unsigned, signed by someone else, about another envelope, a
    /// server error or none at all): the same step again, later.
    Retry {
        /// What was wrong with the answer, for the log.
        why: String,
    },
    /// The receiving platform holds the bill (`RECE` or `DUPE`): it is retired here, keeping `answer`.
    Transferred {
        /// `RECE` or `DUPE`.
        code: PintCode,
        /// The receiver's signed answer, as received: the proof the bill left.
        answer: String,
    },
    /// Refused for good (`BENV`, `BSIG`): the bill stays here and the reason is shown.
    Refused {
        /// `BENV` or `BSIG`.
        code: PintCode,
        /// The receiver's reason.
        reason: String,
        /// The receiver's signed answer.
        answer: String,
    },
    /// `DISE`: the receiver holds another history of this bill; held for people to resolve.
    Disputed {
        /// The receiver's reason.
        reason: String,
        /// The receiver's signed answer.
        answer: String,
    },
}

/// One envelope being sent: who must sign the answers, and which envelope they must be about.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The receiving platform's keys (its code's directory of the trust store).
    pub trust: TrustStore,
    /// The receiving platform: answers must be signed by a key bound to it.
    pub receiver: Binding,
    /// SHA-256 of our last chain entry, which every answer must name.
    pub last_entry_checksum: Hash,
    /// The additional documents the manifest names, by checksum.
    pub documents: Vec<Hash>,
}

/// Why an answer does not decide a send: it is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Undecided {
    /// Not a JWS.
    #[error("the answer is not signed")]
    Unsigned,
    /// Signed, by a key not bound to the receiving platform.
    #[error("the answer's signature is not the receiver's: {0}")]
    NotTheReceivers(String),
    /// About another envelope's last entry.
    #[error("the signed answer is about another envelope")]
    AnotherEnvelope,
    /// No response code PINT defines.
    #[error("the signed answer has no known responseCode")]
    NoResponseCode,
}

impl Outbound {
    /// After `POST /v3/envelopes`: `201` opens a transfer (unsigned, but only a request for documents,
    /// which commits nothing); `200`, `409` or `422` carry a signed answer.
    pub fn after_start(&self, status: u16, body: &Value) -> Next {
        if status == 201 {
            return self.started(body);
        }
        self.decided(status, body)
    }

    /// After `PUT .../additional-documents/{checksum}`: `204` is received (`None`: go on); a signed
    /// `INCD` means it did not arrive as sent, so it is sent again; anything else as after a finish.
    pub fn after_document(&self, status: u16, body: &Value, reference: &str) -> Option<Next> {
        if status == 204 {
            return None;
        }
        match self.signed(body) {
            Ok((PintCode::IncorrectDocument, _, payload)) => Some(Next::Upload {
                reference: reference.to_owned(),
                missing: checksums(&payload, "missingAdditionalDocumentChecksums")
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| self.documents.clone()),
            }),
            _ => Some(self.decided(status, body)),
        }
    }

    /// After `PUT .../finish-transfer`: the signed answer decides; `MDOC` names what to upload.
    pub fn after_finish(&self, status: u16, body: &Value, reference: &str) -> Next {
        if let Ok((PintCode::MissingDocument, _, payload)) = self.signed(body) {
            return Next::Upload {
                reference: reference.to_owned(),
                missing: checksums(&payload, "missingAdditionalDocumentChecksums")
                    .unwrap_or_default(),
            };
        }
        self.decided(status, body)
    }

    fn started(&self, body: &Value) -> Next {
        let Some(reference) = body.get("envelopeReference").and_then(Value::as_str) else {
            return retry("the started transfer names no envelopeReference");
        };
        let about_ours = body
            .get("lastEnvelopeTransferChainEntrySignedContentChecksum")
            .and_then(Value::as_str)
            .and_then(|c| c.parse::<Hash>().ok())
            == Some(self.last_entry_checksum);
        if !about_ours {
            return retry("the started transfer is about another envelope");
        }
        let Some(missing) = checksums(body, "missingAdditionalDocumentChecksums") else {
            return retry("the started transfer's missing documents are not checksums");
        };
        // Only documents we named can be asked for; anything else is the receiver's confusion.
        if missing.iter().any(|m| !self.documents.contains(m)) {
            return retry("the receiver asks for a document the manifest does not name");
        }
        if missing.is_empty() {
            Next::Finish {
                reference: reference.to_owned(),
            }
        } else {
            Next::Upload {
                reference: reference.to_owned(),
                missing,
            }
        }
    }

    /// A signed answer's code, reason and payload, or why it is none.
    fn signed(&self, body: &Value) -> Result<(PintCode, String, Value), Undecided> {
        let jws = body.as_str().ok_or(Undecided::Unsigned)?;
        let payload = verified_jws(jws, &self.trust, &self.receiver)
            .map_err(|f| Undecided::NotTheReceivers(f.reason))?;
        let about = payload
            .get("lastEnvelopeTransferChainEntrySignedContentChecksum")
            .and_then(Value::as_str)
            .and_then(|c| c.parse::<Hash>().ok());
        if about != Some(self.last_entry_checksum) {
            return Err(Undecided::AnotherEnvelope);
        }
        let code = payload
            .get("responseCode")
            .and_then(Value::as_str)
            .and_then(PintCode::from_code)
            .ok_or(Undecided::NoResponseCode)?;
        let reason = payload
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        Ok((code, reason, payload))
    }

    fn decided(&self, status: u16, body: &Value) -> Next {
        let (code, reason, _) = match self.signed(body) {
            Ok(signed) => signed,
            Err(why) => return retry(&format!("HTTP {status}: {why}")),
        };
        let answer = body.as_str().unwrap_or("").to_owned();
        match code {
            PintCode::Received | PintCode::Duplicate => Next::Transferred { code, answer },
            PintCode::BadEnvelope | PintCode::BadSignature => Next::Refused {
                code,
                reason,
                answer,
            },
            PintCode::Disputed => Next::Disputed { reason, answer },
            // Out of place (an MDOC or INCD where none fits): not a decision.
            PintCode::MissingDocument | PintCode::IncorrectDocument => {
                retry(&format!("{} is no answer to this step", code.code()))
            }
        }
    }
}

fn retry(why: &str) -> Next {
    Next::Retry {
        why: why.to_owned(),
    }
}

/// A list of hex SHA-256 checksums; `None` if a member is not one, an empty list if absent.
fn checksums(value: &Value, field: &str) -> Option<Vec<Hash>> {
    match value.get(field) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|c| c.as_str().and_then(|c| c.to_ascii_lowercase().parse().ok()))
            .collect(),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{public_jwk, sign_jws};

    const WAVE: &str = "WAVE";

    fn receiver_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[41; 32])
    }

    fn outbound(documents: &[&[u8]]) -> Outbound {
        let mut trust = TrustStore::default();
        let receiver = Binding::platform(WAVE);
        let jwk = public_jwk(&ebl_core::PartyKey::of(&receiver_key())).to_string();
        trust.add_jwks(jwk.as_bytes(), &receiver).expect("jwk");
        Outbound {
            trust,
            receiver,
            last_entry_checksum: Hash::of(b"our last entry"),
            documents: documents.iter().map(|d| Hash::of(d)).collect(),
        }
    }

    fn answer_by(key: &ed25519_dalek::SigningKey, code: &str, last: Hash, extra: Value) -> Value {
        let mut payload = serde_json::json!({
            "lastEnvelopeTransferChainEntrySignedContentChecksum": last.to_hex(),
            "responseCode": code,
        });
        if let (Some(p), Value::Object(e)) = (payload.as_object_mut(), extra) {
            p.extend(e);
        }
        Value::String(sign_jws(key, &payload))
    }

    fn answer(o: &Outbound, code: &str) -> Value {
        answer_by(&receiver_key(), code, o.last_entry_checksum, Value::Null)
    }

    #[test]
    fn every_response_code_of_a_finish_decides_its_step() {
        let o = outbound(&[]);
        for (code, status) in [("RECE", 200), ("DUPE", 200)] {
            assert!(matches!(
                o.after_finish(status, &answer(&o, code), "r"),
                Next::Transferred { .. }
            ));
        }
        for (code, status) in [("BENV", 422), ("BSIG", 422)] {
            assert!(matches!(
                o.after_finish(status, &answer(&o, code), "r"),
                Next::Refused { .. }
            ));
        }
        assert!(matches!(
            o.after_finish(409, &answer(&o, "DISE"), "r"),
            Next::Disputed { .. }
        ));
        let missing = Hash::of(b"invoice");
        let mdoc = answer_by(
            &receiver_key(),
            "MDOC",
            o.last_entry_checksum,
            serde_json::json!({ "missingAdditionalDocumentChecksums": [missing.to_hex()] }),
        );
        assert_eq!(
            o.after_finish(409, &mdoc, "r"),
            Next::Upload {
                reference: "r".into(),
                missing: vec![missing]
            }
        );
    }

    #[test]
    fn only_a_signed_answer_about_our_envelope_by_the_receiver_decides() {
        let o = outbound(&[]);
        let retried = |next: Next| matches!(next, Next::Retry { .. });
        // Unsigned, a server error, or nothing at all.
        assert!(retried(o.after_finish(
            422,
            &serde_json::json!({"responseCode": "RECE"}),
            "r"
        )));
        assert!(retried(o.after_finish(503, &Value::Null, "r")));
        // Signed by a key not bound to the receiver, or about another envelope.
        let stranger = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
        assert!(retried(o.after_finish(
            200,
            &answer_by(&stranger, "RECE", o.last_entry_checksum, Value::Null),
            "r"
        )));
        assert!(retried(o.after_finish(
            200,
            &answer_by(&receiver_key(), "RECE", Hash::of(b"other"), Value::Null),
            "r"
        )));
        // Damaged on the way.
        let mut bad = answer(&o, "RECE").as_str().expect("jws").to_owned();
        let last = bad.pop();
        bad.push(if last == Some('A') { 'B' } else { 'A' });
        assert!(retried(o.after_finish(200, &Value::String(bad), "r")));
        // The same key bound to another platform is not the receiver's.
        let mut elsewhere = o.clone();
        elsewhere.receiver = Binding::platform("BOLE");
        assert!(retried(elsewhere.after_finish(
            200,
            &answer(&o, "RECE"),
            "r"
        )));
    }

    #[test]
    fn a_started_transfer_asks_for_named_documents_only() {
        let (invoice, packing) = (&b"invoice"[..], &b"packing list"[..]);
        let o = outbound(&[invoice, packing]);
        let started = |missing: Vec<String>| {
            serde_json::json!({
                "envelopeReference": "ref-1",
                "transportDocumentChecksum": Hash::of(b"doc").to_hex(),
                "lastEnvelopeTransferChainEntrySignedContentChecksum": o.last_entry_checksum.to_hex(),
                "missingAdditionalDocumentChecksums": missing,
            })
        };
        assert_eq!(
            o.after_start(201, &started(vec![Hash::of(packing).to_hex()])),
            Next::Upload {
                reference: "ref-1".into(),
                missing: vec![Hash::of(packing)]
            }
        );
        assert_eq!(
            o.after_start(201, &started(vec![])),
            Next::Finish {
                reference: "ref-1".into()
            }
        );
        assert!(matches!(
            o.after_start(201, &started(vec![Hash::of(b"unnamed").to_hex()])),
            Next::Retry { .. }
        ));
        // A start answered at once (no documents needed, or refused): the signed answer decides.
        assert!(matches!(
            o.after_start(200, &answer(&o, "RECE")),
            Next::Transferred { .. }
        ));
        assert!(matches!(
            o.after_start(422, &answer(&o, "BENV")),
            Next::Refused { .. }
        ));
    }

    #[test]
    fn a_document_answered_incd_is_sent_again() {
        let invoice = &b"invoice"[..];
        let o = outbound(&[invoice]);
        assert_eq!(o.after_document(204, &Value::Null, "r"), None);
        assert_eq!(
            o.after_document(409, &answer(&o, "INCD"), "r"),
            Some(Next::Upload {
                reference: "r".into(),
                missing: vec![Hash::of(invoice)]
            })
        );
        assert!(matches!(
            o.after_document(404, &serde_json::json!({"statusCode": 404}), "r"),
            Some(Next::Retry { .. })
        ));
    }
}
