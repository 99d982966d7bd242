//! DCSA eBL Issuance API 3.0, the platform's side: what makes a carrier's `PUT /v3/ebl-issuance-requests`
//! a request this connector may act on (its shape, its bounds, the carrier's signed manifest and the
//! checksums it signs), and the answer the carrier is given when it may not. No IO here.

use ebl_core::{jcs, Document, Hash};
use ebl_pint::{Binding, TrustStore};
use serde_json::{json, Value};

/// Largest issuance request read: a transport document (`ebl_core::limits::DOCUMENT_INPUT_BYTES_MAX`) and
/// a carrier's visualisation of `VISUALISATION_BYTES_MAX`, base64, with room for the rest.
pub const ISSUANCE_REQUEST_BYTES_MAX: usize =
    VISUALISATION_BYTES_MAX / 3 * 4 + ebl_core::limits::DOCUMENT_INPUT_BYTES_MAX + 64 * 1024;

/// Largest carrier's visualisation (`eBLVisualisationByCarrier`), decoded: what PINT carries for one
/// document, so that a bill issued here can be sent on with it.
pub const VISUALISATION_BYTES_MAX: usize = ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX;

/// Why an issuance request is answered with an HTTP error before anything is done for it. Each has a
/// stable code (shown as DCSA's `errorCodeText`) and DCSA error number (`errorCode`, 7000 to 9999).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    /// The body is over `ISSUANCE_REQUEST_BYTES_MAX`.
    #[error("the request is over {ISSUANCE_REQUEST_BYTES_MAX} bytes")]
    TooLarge,
    /// The body is not JSON within the bounds every JSON read here is held to.
    #[error("the request is not JSON within bounds: {reason}")]
    Malformed {
        /// What the reader found.
        reason: String,
    },
    /// A field the spec requires is missing or of the wrong type.
    #[error("{field} is missing or not {wanted}")]
    MissingField {
        /// The field's JSON path.
        field: &'static str,
        /// What it should be.
        wanted: &'static str,
    },
    /// The manifest is not signed by a key registered for the document's carrier.
    #[error("the issuance manifest is not signed by a key of carrier {carrier}: {reason}")]
    BadSignature {
        /// The carrier the document names (`provider:code`).
        carrier: String,
        /// What the signature check found.
        reason: String,
    },
    /// A checksum in the signed manifest does not match what the request carries.
    #[error("{field} in the signed manifest does not match the request's {part}")]
    ChecksumMismatch {
        /// The manifest's field.
        field: &'static str,
        /// The part of the request it should be the checksum of.
        part: &'static str,
    },
    /// The visualisation is not base64, or over `VISUALISATION_BYTES_MAX` decoded.
    #[error("eBLVisualisationByCarrier: {reason}")]
    BadVisualisation {
        /// Why.
        reason: String,
    },
    /// The document names a carrier this connector does not issue for.
    #[error(
        "the document's carrier {named} is not {served}, the carrier this connector issues for"
    )]
    OtherCarrier {
        /// The carrier the document names.
        named: String,
        /// The carrier this connector serves.
        served: String,
    },
    /// The transport document reference was asked to be issued before (the spec's 409).
    #[error("transport document reference {reference} was requested before; its answer comes (or came) to /v3/ebl-issuance-responses")]
    AlreadyRequested {
        /// The reference.
        reference: String,
    },
}

impl RequestRefusal {
    /// The stable code for this rule.
    pub fn code(&self) -> &'static str {
        match self {
            RequestRefusal::TooLarge => "request_too_large",
            RequestRefusal::Malformed { .. } => "malformed_request",
            RequestRefusal::MissingField { .. } => "missing_field",
            RequestRefusal::BadSignature { .. } => "bad_manifest_signature",
            RequestRefusal::ChecksumMismatch { .. } => "manifest_checksum_mismatch",
            RequestRefusal::BadVisualisation { .. } => "bad_visualisation",
            RequestRefusal::OtherCarrier { .. } => "other_carrier",
            RequestRefusal::AlreadyRequested { .. } => "already_requested",
        }
    }

    /// DCSA's `errorCode` for it: a vendor number in 7000 to 9999, one per rule.
    pub fn number(&self) -> u16 {
        match self {
            RequestRefusal::TooLarge => 7001,
            RequestRefusal::Malformed { .. } => 7002,
            RequestRefusal::MissingField { .. } => 7003,
            RequestRefusal::BadSignature { .. } => 7004,
            RequestRefusal::ChecksumMismatch { .. } => 7005,
            RequestRefusal::BadVisualisation { .. } => 7006,
            RequestRefusal::OtherCarrier { .. } => 7007,
            RequestRefusal::AlreadyRequested { .. } => 7008,
        }
    }

    /// The HTTP status the spec answers it with.
    pub fn status(&self) -> u16 {
        match self {
            RequestRefusal::TooLarge => 413,
            RequestRefusal::AlreadyRequested { .. } => 409,
            RequestRefusal::BadSignature { .. } => 401,
            _ => 400,
        }
    }
}

/// An issuance request whose manifest the carrier signed and whose checksums hold: what the connector
/// keeps and acts on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IssuanceRequest {
    /// The transport document reference.
    pub reference: String,
    /// The transport document as the carrier sent it.
    pub document: Value,
    /// The party that is to receive possession.
    pub issue_to: Value,
    /// The bills this one replaces, by transport document reference (after a surrender for amendment).
    pub replaces: Vec<String>,
    /// How many bills replace them together (`newTransportDocumentReferences`, at least one).
    pub replaced_by: usize,
    /// The carrier's visualisation, decoded, with its name and media type.
    pub visualisation: Option<Visualisation>,
}

/// The carrier's own rendering of the bill (`eBLVisualisationByCarrier`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Visualisation {
    /// Its name.
    pub name: String,
    /// Its media type (`application/pdf` when the request gives none).
    pub content_type: String,
    /// Its bytes (base64 where the record is kept).
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

/// Bytes as base64 text in a kept record.
mod base64_bytes {
    pub(super) fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&ebl_pint::base64_encode(bytes))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        ebl_pint::base64_decode(&text).ok_or_else(|| serde::de::Error::custom("not base64"))
    }
}

/// The carrier this connector issues for, as transport documents name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    /// `carrierCodeListProvider` (`SMDG`, `NMFTA`).
    pub provider: String,
    /// `carrierCode` (`MSC`).
    pub code: String,
}

impl Carrier {
    /// Whether a bill's `carrier_code` (the identifier the ledger keeps, `SMDG:MSC`) is this carrier.
    pub fn names(&self, carrier_code: &str) -> bool {
        carrier_code
            .split_once(':')
            .is_some_and(|(p, c)| p.eq_ignore_ascii_case(&self.provider) && c == self.code)
    }
}

impl std::fmt::Display for Carrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.provider, self.code)
    }
}

/// Checks a `PUT /v3/ebl-issuance-requests` body: bounded JSON, the fields the spec requires, the
/// manifest signed by a key `trust` binds to `carrier` on `platform`, each checksum it signs equal to the
/// request's, and the document's carrier the one served. Nothing in the request is believed before its
/// signature is checked but the carrier it names, which only chooses the keys tried.
pub fn check_request(
    body: &[u8],
    trust: &TrustStore,
    platform: &str,
    carrier: &Carrier,
) -> Result<IssuanceRequest, RequestRefusal> {
    if body.len() > ISSUANCE_REQUEST_BYTES_MAX {
        return Err(RequestRefusal::TooLarge);
    }
    ebl_pint::check_json_bounds(body).map_err(|e| RequestRefusal::Malformed {
        reason: e.to_string(),
    })?;
    let request = jcs::parse(body).map_err(|e| RequestRefusal::Malformed {
        reason: e.to_string(),
    })?;
    let document = object(&request, "document")?;
    let issue_to = object(&request, "issueTo")?;
    let manifest = request
        .get("issuanceManifestSignedContent")
        .and_then(Value::as_str)
        .ok_or(RequestRefusal::MissingField {
            field: "issuanceManifestSignedContent",
            wanted: "a compact JWS",
        })?;
    let named = Carrier {
        provider: text(
            document,
            "carrierCodeListProvider",
            "document.carrierCodeListProvider",
        )?,
        code: text(document, "carrierCode", "document.carrierCode")?,
    };
    if !named.provider.eq_ignore_ascii_case(&carrier.provider) || named.code != carrier.code {
        return Err(RequestRefusal::OtherCarrier {
            named: named.to_string(),
            served: carrier.to_string(),
        });
    }
    let signed = ebl_pint::verified_jws(
        manifest,
        trust,
        &Binding::carrier(platform, &carrier.provider, &carrier.code),
    )
    .map_err(|e| RequestRefusal::BadSignature {
        carrier: carrier.to_string(),
        reason: e.to_string(),
    })?;
    same_checksum(&signed, "documentChecksum", "document", checksum(document)?)?;
    same_checksum(&signed, "issueToChecksum", "issueTo", checksum(issue_to)?)?;
    let visualisation = visualisation(&request)?;
    let signed_visualisation = signed.get("eBLVisualisationByCarrierChecksum");
    match (&visualisation, signed_visualisation) {
        (Some(v), _) => same_checksum(
            &signed,
            "eBLVisualisationByCarrierChecksum",
            "eBLVisualisationByCarrier",
            Hash::of(&v.content),
        )?,
        (None, Some(_)) => {
            return Err(RequestRefusal::ChecksumMismatch {
                field: "eBLVisualisationByCarrierChecksum",
                part: "eBLVisualisationByCarrier (the request carries none)",
            })
        }
        (None, None) => {}
    }
    let reference = text(
        document,
        "transportDocumentReference",
        "document.transportDocumentReference",
    )?;
    let (replaces, replaced_by) = replacements(&request)?;
    Ok(IssuanceRequest {
        reference,
        document: document.clone(),
        issue_to: issue_to.clone(),
        replaces,
        replaced_by,
        visualisation,
    })
}

fn object<'a>(value: &'a Value, field: &'static str) -> Result<&'a Value, RequestRefusal> {
    value
        .get(field)
        .filter(|v| v.is_object())
        .ok_or(RequestRefusal::MissingField {
            field,
            wanted: "an object",
        })
}

fn text(value: &Value, field: &str, path: &'static str) -> Result<String, RequestRefusal> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(RequestRefusal::MissingField {
            field: path,
            wanted: "a string",
        })
}

/// SHA-256 of the RFC 8785 form, as the manifest's checksums are made.
fn checksum(value: &Value) -> Result<Hash, RequestRefusal> {
    jcs::canonicalize(value)
        .map(|text| Hash::of(text.as_bytes()))
        .map_err(|e| RequestRefusal::Malformed {
            reason: e.to_string(),
        })
}

fn same_checksum(
    signed: &Value,
    field: &'static str,
    part: &'static str,
    actual: Hash,
) -> Result<(), RequestRefusal> {
    let claimed = signed.get(field).and_then(Value::as_str);
    if claimed.is_some_and(|c| c.eq_ignore_ascii_case(&actual.to_hex())) {
        Ok(())
    } else {
        Err(RequestRefusal::ChecksumMismatch { field, part })
    }
}

fn visualisation(request: &Value) -> Result<Option<Visualisation>, RequestRefusal> {
    let Some(v) = request.get("eBLVisualisationByCarrier") else {
        return Ok(None);
    };
    let field = |name: &str| v.get(name).and_then(Value::as_str);
    let bad = |reason: &str| RequestRefusal::BadVisualisation {
        reason: reason.to_owned(),
    };
    let name = field("name").ok_or_else(|| bad("no name"))?;
    let encoded = field("content").ok_or_else(|| bad("no content"))?;
    if encoded.len() > VISUALISATION_BYTES_MAX / 3 * 4 + 4 {
        return Err(bad(&format!(
            "over {VISUALISATION_BYTES_MAX} bytes once decoded"
        )));
    }
    let content = ebl_pint::base64_decode(encoded).ok_or_else(|| bad("not base64"))?;
    if content.len() > VISUALISATION_BYTES_MAX {
        return Err(bad(&format!(
            "over {VISUALISATION_BYTES_MAX} bytes once decoded"
        )));
    }
    Ok(Some(Visualisation {
        name: name.to_owned(),
        content_type: field("contentType").unwrap_or("application/pdf").to_owned(),
        content,
    }))
}

/// The references of the bills replaced (`oldTransportDocumentReferences`) and how many bills replace
/// them (`newTransportDocumentReferences`, this one when the list is absent).
fn replacements(request: &Value) -> Result<(Vec<String>, usize), RequestRefusal> {
    let Some(r) = request.get("transportDocumentReplacements") else {
        return Ok((Vec::new(), 1));
    };
    let references = |field: &str| -> Result<Vec<String>, RequestRefusal> {
        match r.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.get("transportDocumentReference")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or(RequestRefusal::MissingField {
                            field: "transportDocumentReplacements[].transportDocumentReference",
                            wanted: "a string",
                        })
                })
                .collect(),
            Some(_) => Err(RequestRefusal::MissingField {
                field: "transportDocumentReplacements",
                wanted: "lists of references",
            }),
        }
    };
    let old = references("oldTransportDocumentReferences")?;
    let new = references("newTransportDocumentReferences")?;
    Ok((old, new.len().max(1)))
}

/// The platform's verdict on a request it accepted (`issuanceResponseCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// Issued to the party `issueTo` names.
    #[serde(rename = "ISSU")]
    Issued,
    /// Not issued: something in the request's content (the carrier may correct it and ask again).
    #[serde(rename = "BREQ")]
    BadRequest,
    /// Not issued, for a reason the platform cannot resolve.
    #[serde(rename = "REFU")]
    Refused,
}

/// One reason a request was not issued: a stable code and the words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reason {
    /// The stable code (`errorCode`, bilateral per the spec).
    pub code: String,
    /// The words.
    pub words: String,
}

/// The answer the carrier is sent (`POST /v3/ebl-issuance-responses`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The transport document reference answered.
    pub reference: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why not, when not issued.
    pub reasons: Vec<Reason>,
}

/// Most characters of a `reason` in DCSA's issuance response.
const REASON_CHARS_MAX: usize = 255;

impl Answer {
    /// The `IssuanceResponse` body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "transportDocumentReference": self.reference,
            "issuanceResponseCode": self.verdict,
        });
        if let Some(first) = self.reasons.first() {
            body["reason"] = json!(cut(&first.words, REASON_CHARS_MAX));
            body["errors"] = self
                .reasons
                .iter()
                .map(|r| json!({"reason": cut(&r.words, REASON_CHARS_MAX), "errorCode": cut(&r.code, 50)}))
                .collect();
        }
        body
    }
}

/// `text` within `max` characters, trimmed (the spec's pattern allows no surrounding space).
fn cut(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The transport document as the ledger reads it, or why it cannot be issued (a BREQ).
pub fn ledger_document(request: &IssuanceRequest) -> Result<Document, ebl_core::Error> {
    Document::from_value(&request.document)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carrier() -> Carrier {
        Carrier {
            provider: "SMDG".into(),
            code: "MSC".into(),
        }
    }

    /// A trust store with the carrier's key, and a request signed with it carrying `visualisation`
    /// bytes (none if `None`).
    fn signed(visualisation: Option<usize>) -> (TrustStore, Vec<u8>) {
        let key = ebl_core::SigningKey::from_bytes(&[5; 32]);
        let mut trust = TrustStore::default();
        trust
            .add_jwks(
                ebl_pint::public_jwk(&ebl_core::PartyKey::of(&key))
                    .to_string()
                    .as_bytes(),
                &Binding::carrier("EBL", "SMDG", "MSC"),
            )
            .expect("trusted");
        let document: Value =
            serde_json::from_str(ebl_core::sample::DCSA_TO_ORDER_BOL).expect("sample");
        let issue_to = json!({"partyName": "B", "sendToPlatform": "EBL",
            "identifyingCodes": [{"codeListProvider": "EBL", "partyCode": "B1"}]});
        let sum = |v: &Value| Hash::of(jcs::canonicalize(v).expect("jcs").as_bytes()).to_hex();
        let mut manifest =
            json!({"documentChecksum": sum(&document), "issueToChecksum": sum(&issue_to)});
        let mut request = json!({"document": document, "issueTo": issue_to});
        if let Some(size) = visualisation {
            let content = vec![7u8; size];
            manifest["eBLVisualisationByCarrierChecksum"] = json!(Hash::of(&content).to_hex());
            request["eBLVisualisationByCarrier"] =
                json!({"name": "bl.pdf", "content": ebl_pint::base64_encode(&content)});
        }
        request["issuanceManifestSignedContent"] = json!(ebl_pint::sign_jws(&key, &manifest));
        (trust, serde_json::to_vec(&request).expect("json"))
    }

    #[test]
    fn visualisation_bytes_max_is_enforced_at_its_bound() {
        let (trust, at) = signed(Some(VISUALISATION_BYTES_MAX));
        let request = check_request(&at, &trust, "EBL", &carrier()).expect("at the bound");
        assert_eq!(
            request
                .visualisation
                .map(|v| (v.content.len(), v.content_type)),
            Some((VISUALISATION_BYTES_MAX, "application/pdf".to_owned()))
        );
        let (trust, over) = signed(Some(VISUALISATION_BYTES_MAX + 1));
        assert_eq!(
            check_request(&over, &trust, "EBL", &carrier()).map(|_| ()),
            Err(RequestRefusal::BadVisualisation {
                reason: format!("over {VISUALISATION_BYTES_MAX} bytes once decoded")
            })
        );
    }

    #[test]
    fn issuance_request_bytes_max_is_enforced_at_its_bound() {
        let (trust, request) = signed(None);
        assert!(check_request(&request, &trust, "EBL", &carrier()).is_ok());
        // Padded with spaces (JSON allows them) to exactly the bound, then one byte over it.
        let mut padded = request.clone();
        padded.resize(ISSUANCE_REQUEST_BYTES_MAX, b' ');
        assert!(check_request(&padded, &trust, "EBL", &carrier()).is_ok());
        padded.push(b' ');
        assert_eq!(
            check_request(&padded, &trust, "EBL", &carrier()).map(|_| ()),
            Err(RequestRefusal::TooLarge)
        );
        assert_eq!(RequestRefusal::TooLarge.status(), 413);
    }

    #[test]
    fn a_document_of_another_carrier_is_refused_before_its_signature_is_checked() {
        let (trust, request) = signed(None);
        let other = Carrier {
            provider: "SMDG".into(),
            code: "MAEU".into(),
        };
        assert!(matches!(
            check_request(&request, &trust, "EBL", &other),
            Err(RequestRefusal::OtherCarrier { .. })
        ));
    }
}
