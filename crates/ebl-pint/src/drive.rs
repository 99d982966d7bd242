//! One transfer driven to its end over any transport: start, upload what the receiver misses, finish,
//! each step chosen by [`Outbound`] from the answer before. Written once, so that the node's sender and
//! the wallet's `ebl pint import` send alike; they differ only in how a request travels ([`Transport`]).

use std::collections::BTreeMap;

use serde_json::Value;

use ebl_core::Hash;

use crate::send::{Next, Outbound, SEND_ATTEMPTS_MAX};

/// One request of a transfer, as PINT 3.0 names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `POST /v3/envelopes`: the envelope.
    Start,
    /// `PUT /v3/envelopes/{reference}/additional-documents/{checksum}`: one document, base64 in JSON.
    Document {
        /// The open transfer's `envelopeReference`.
        reference: String,
        /// The document's SHA-256.
        checksum: Hash,
    },
    /// `PUT /v3/envelopes/{reference}/finish-transfer`.
    Finish {
        /// The open transfer's `envelopeReference`.
        reference: String,
    },
}

impl Request {
    /// The HTTP method.
    pub fn method(&self) -> &'static str {
        match self {
            Request::Start => "POST",
            Request::Document { .. } | Request::Finish { .. } => "PUT",
        }
    }

    /// The path below the receiver's base address.
    pub fn path(&self) -> String {
        match self {
            Request::Start => "/v3/envelopes".to_owned(),
            Request::Document {
                reference,
                checksum,
            } => format!(
                "/v3/envelopes/{reference}/additional-documents/{}",
                checksum.to_hex()
            ),
            Request::Finish { reference } => {
                format!("/v3/envelopes/{reference}/finish-transfer")
            }
        }
    }
}

/// Carries a transfer's requests to the receiving platform and brings back each answer: its status and
/// its body (JSON, or the text as a JSON string when it is none).
pub trait Transport {
    /// Why a request got no answer at all.
    type Error;

    /// Sends `request` with `body` (JSON) and returns the answer.
    fn carry(&mut self, request: &Request, body: Vec<u8>) -> Result<(u16, Value), Self::Error>;
}

/// How a driven transfer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The last step `Outbound` chose: a decision (`Transferred`, `Refused`, `Disputed`), a `Retry`, or
    /// an `Upload`/`Finish` left when the receiver asked for documents we do not hold or the attempts
    /// ran out.
    pub next: Next,
    /// The last answer's HTTP status.
    pub status: u16,
    /// The last answer's body.
    pub body: Value,
    /// Documents the receiver asked for that were not among those given to send.
    pub lacking: Vec<Hash>,
}

impl Outbound {
    /// Sends `envelope` and whichever of `documents` the receiver misses, until an answer decides or
    /// no step is left: at most [`SEND_ATTEMPTS_MAX`] steps after the start. A document asked for
    /// but not held is skipped, so that the receiver's own signed `MDOC` says what is missing.
    ///
    /// # Errors
    /// The transport's, when a request got no answer; the caller decides whether to try again.
    pub fn drive<T: Transport>(
        &self,
        transport: &mut T,
        envelope: Vec<u8>,
        documents: &BTreeMap<Hash, Vec<u8>>,
    ) -> Result<Ended, T::Error> {
        let (mut status, mut body) = transport.carry(&Request::Start, envelope)?;
        let mut next = self.after_start(status, &body);
        let lacking_of = |missing: &[Hash]| -> Vec<Hash> {
            missing
                .iter()
                .filter(|m| !documents.contains_key(m))
                .copied()
                .collect()
        };
        let mut lacking = Vec::new();
        for _ in 0..SEND_ATTEMPTS_MAX {
            next = match next {
                Next::Upload { reference, missing } => {
                    let mut after = Next::Finish {
                        reference: reference.clone(),
                    };
                    for checksum in &missing {
                        let Some(content) = documents.get(checksum) else {
                            continue;
                        };
                        let upload = Value::String(crate::base64_encode(content)).to_string();
                        let request = Request::Document {
                            reference: reference.clone(),
                            checksum: *checksum,
                        };
                        (status, body) = transport.carry(&request, upload.into_bytes())?;
                        if let Some(step) = self.after_document(status, &body, &reference) {
                            after = step;
                            break;
                        }
                    }
                    after
                }
                Next::Finish { reference } => {
                    let request = Request::Finish {
                        reference: reference.clone(),
                    };
                    (status, body) = transport.carry(&request, Vec::new())?;
                    let after = self.after_finish(status, &body, &reference);
                    if let Next::Upload { missing, .. } = &after {
                        lacking = lacking_of(missing);
                        if !lacking.is_empty() {
                            // Asked, by a signed MDOC, for what we do not hold: asking again cannot help.
                            next = after;
                            break;
                        }
                    }
                    after
                }
                decided => {
                    next = decided;
                    break;
                }
            };
        }
        Ok(Ended {
            next,
            status,
            body,
            lacking,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receiver that answers from a script, recording what it was asked.
    struct Scripted {
        answers: Vec<(u16, Value)>,
        asked: Vec<Request>,
    }

    impl Transport for Scripted {
        type Error = &'static str;
        fn carry(&mut self, request: &Request, _: Vec<u8>) -> Result<(u16, Value), Self::Error> {
            self.asked.push(request.clone());
            if self.answers.is_empty() {
                return Err("no answer");
            }
            Ok(self.answers.remove(0))
        }
    }

    fn outbound() -> Outbound {
        Outbound {
            trust: crate::TrustStore::default(),
            receiver: crate::Binding::platform("THEM"),
            last_entry_checksum: Hash::of(b"entry"),
            documents: vec![Hash::of(b"held"), Hash::of(b"not held")],
        }
    }

    fn started(missing: &[Hash]) -> (u16, Value) {
        (
            201,
            serde_json::json!({
                "envelopeReference": "ref-1",
                "lastEnvelopeTransferChainEntrySignedContentChecksum": Hash::of(b"entry").to_hex(),
                "missingAdditionalDocumentChecksums": missing.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
            }),
        )
    }

    #[test]
    fn held_documents_are_uploaded_lacking_ones_skipped_then_the_transfer_is_finished() {
        let mut receiver = Scripted {
            answers: vec![
                started(&[Hash::of(b"held"), Hash::of(b"not held")]),
                (204, Value::Null),
                // An unsigned answer to the finish decides nothing.
                (500, Value::String("down".into())),
            ],
            asked: Vec::new(),
        };
        let documents = BTreeMap::from([(Hash::of(b"held"), b"held".to_vec())]);
        let ended = outbound()
            .drive(&mut receiver, b"{}".to_vec(), &documents)
            .expect("answers");
        assert_eq!(
            receiver.asked,
            vec![
                Request::Start,
                Request::Document {
                    reference: "ref-1".into(),
                    checksum: Hash::of(b"held")
                },
                Request::Finish {
                    reference: "ref-1".into()
                },
            ]
        );
        assert!(matches!(ended.next, Next::Retry { .. }), "{ended:?}");
        assert_eq!(ended.status, 500);
    }

    #[test]
    fn a_request_without_an_answer_is_the_transports_error() {
        let mut receiver = Scripted {
            answers: vec![started(&[])],
            asked: Vec::new(),
        };
        assert_eq!(
            outbound().drive(&mut receiver, Vec::new(), &BTreeMap::new()),
            Err("no answer")
        );
        assert_eq!(receiver.asked.len(), 2, "started, then the finish");
    }

    #[test]
    fn requests_are_where_pint_puts_them() {
        let reference = "abc".to_owned();
        assert_eq!(Request::Start.path(), "/v3/envelopes");
        assert_eq!(
            Request::Finish {
                reference: reference.clone()
            }
            .path(),
            "/v3/envelopes/abc/finish-transfer"
        );
        let document = Request::Document {
            reference,
            checksum: Hash::of(b"x"),
        };
        assert_eq!(document.method(), "PUT");
        assert_eq!(
            document.path(),
            format!(
                "/v3/envelopes/abc/additional-documents/{}",
                Hash::of(b"x").to_hex()
            )
        );
    }
}
