//! DCSA eBL 3.0 transport documents: kept whole in RFC 8785 canonical form, with the fields the ledger rules need.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::jcs;
use crate::limits::{
    DOCUMENT_BYTES_MAX, DOCUMENT_DEPTH_MAX, DOCUMENT_INPUT_BYTES_MAX, DOCUMENT_REFERENCE_BYTES_MAX,
};
use crate::party::Identifier;

/// `transportDocumentTypeCode`: a bill of lading or a sea waybill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentType {
    /// `BOL`: a bill of lading, a document of title.
    #[serde(rename = "BOL")]
    BillOfLading,
    /// `SWB`: a sea waybill, a receipt only, never to order.
    #[serde(rename = "SWB")]
    SeaWaybill,
}

impl DocumentType {
    /// The DCSA code (`BOL`, `SWB`).
    pub fn code(self) -> &'static str {
        match self {
            DocumentType::BillOfLading => "BOL",
            DocumentType::SeaWaybill => "SWB",
        }
    }
}

/// What the ledger reads from a document; everything else in it is kept but not interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentFacts {
    /// `transportDocumentReference`: unique under the carrier's code.
    pub transport_document_reference: String,
    /// `transportDocumentTypeCode`.
    pub transport_document_type_code: DocumentType,
    /// `isToOrder`: negotiable.
    pub is_to_order: bool,
    /// `carrierCode` (`MSC`).
    pub carrier_code: String,
    /// `carrierCodeListProvider` (`SMDG`, `NMFTA`).
    pub carrier_code_list_provider: String,
    /// The shipper's `partyName`.
    pub shipper_name: String,
    /// The consignee's `partyName`, if the document names one.
    pub consignee_name: Option<String>,
    /// The endorsee's `partyName`, if the document names one.
    pub endorsee_name: Option<String>,
    /// The identifying codes (`identifyingCodes`) the document gives for each party, as identifiers:
    /// one under the code list's name (`LEI`) and one under its provider (`GLEIF`, `SMDG`).
    pub shipper_codes: Vec<Identifier>,
    /// The consignee's codes.
    pub consignee_codes: Vec<Identifier>,
    /// The endorsee's codes.
    pub endorsee_codes: Vec<Identifier>,
}

impl DocumentFacts {
    /// The carrier code as one identifier (`SMDG:MSC`): a bill's reference is unique under it.
    pub fn carrier_identifier(&self) -> Identifier {
        Identifier::new(&self.carrier_code_list_provider, &self.carrier_code)
    }
}

/// A transport document that passed the ledger's rules, held as its canonical JSON text.
/// Unknown fields are kept: the DCSA schemas are open, and the checksum covers the whole document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    canonical: String,
    checksum: Hash,
    facts: DocumentFacts,
}

impl Document {
    /// Reads a DCSA `TransportDocument` from JSON text in any layout.
    pub fn from_json(text: &[u8]) -> Result<Document> {
        if text.len() > DOCUMENT_INPUT_BYTES_MAX {
            return Err(Error::DocumentTooLarge {
                bytes: text.len(),
                max: DOCUMENT_INPUT_BYTES_MAX,
            });
        }
        Document::from_value(&jcs::parse(text)?)
    }

    /// Builds a document from an already parsed value.
    pub fn from_value(value: &Value) -> Result<Document> {
        if jcs::depth(value) > DOCUMENT_DEPTH_MAX {
            return Err(Error::DocumentTooDeep {
                max: DOCUMENT_DEPTH_MAX,
            });
        }
        let canonical = jcs::canonicalize(value)?;
        if canonical.len() > DOCUMENT_BYTES_MAX {
            return Err(Error::DocumentTooLarge {
                bytes: canonical.len(),
                max: DOCUMENT_BYTES_MAX,
            });
        }
        let facts = DocumentFacts::read(value)?;
        let checksum = Hash::of(canonical.as_bytes());
        Ok(Document {
            canonical,
            checksum,
            facts,
        })
    }

    /// Accepts text only if it is already canonical: inside signed data a document has exactly one byte form.
    pub fn from_canonical(text: String) -> Result<Document> {
        if text.len() > DOCUMENT_BYTES_MAX {
            return Err(Error::DocumentTooLarge {
                bytes: text.len(),
                max: DOCUMENT_BYTES_MAX,
            });
        }
        let document = Document::from_json(text.as_bytes())?;
        if document.canonical != text {
            return Err(Error::NonCanonicalDocument);
        }
        Ok(document)
    }

    /// The `transportDocument` of a PINT envelope held in RFC 8785 form, as an `IMPORT` carries it. The
    /// envelope must be canonical: signed data has exactly one byte form.
    pub fn from_envelope(envelope: &str) -> Result<Document> {
        let malformed = |reason: &str| Error::MalformedEnvelope {
            reason: reason.to_owned(),
        };
        let value = jcs::parse(envelope.as_bytes())?;
        if jcs::canonicalize(&value)? != envelope {
            return Err(malformed("not in RFC 8785 form"));
        }
        let document = value
            .get("transportDocument")
            .ok_or_else(|| malformed("no transportDocument"))?;
        Document::from_value(document)
    }

    /// The document in RFC 8785 form, as hashed.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// SHA-256 of the canonical text: the DCSA `documentChecksum`.
    pub fn checksum(&self) -> Hash {
        self.checksum
    }

    /// What the ledger reads from it.
    pub fn facts(&self) -> &DocumentFacts {
        &self.facts
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        // The canonical text was produced from a parsed value, so it parses again.
        serde_json::from_str(&self.canonical).unwrap_or(Value::Null)
    }
}

impl DocumentFacts {
    fn read(value: &Value) -> Result<DocumentFacts> {
        let root = value.as_object().ok_or(Error::DocumentNotObject)?;
        let reference = required_str(root, "transportDocumentReference")?;
        if reference.len() > DOCUMENT_REFERENCE_BYTES_MAX {
            return Err(Error::FieldTooLong {
                field: "transportDocumentReference",
                max: DOCUMENT_REFERENCE_BYTES_MAX,
            });
        }
        let type_code = match required_str(root, "transportDocumentTypeCode")?.as_str() {
            "BOL" => DocumentType::BillOfLading,
            "SWB" => DocumentType::SeaWaybill,
            other => {
                return Err(Error::UnknownDocumentType {
                    code: other.to_owned(),
                })
            }
        };
        let is_to_order = match root.get("isToOrder") {
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::WrongFieldType {
                    field: "isToOrder",
                    expected: "a boolean",
                })
            }
            None => return Err(Error::MissingField { field: "isToOrder" }),
        };
        let carrier_code = required_str(root, "carrierCode")?;
        let carrier_code_list_provider = required_str(root, "carrierCodeListProvider")?;
        let parties = match root.get("documentParties") {
            Some(Value::Object(p)) => p,
            Some(_) => {
                return Err(Error::WrongFieldType {
                    field: "documentParties",
                    expected: "an object",
                })
            }
            None => {
                return Err(Error::MissingField {
                    field: "documentParties",
                })
            }
        };
        let shipper_name = party_name(parties, "shipper", "documentParties.shipper.partyName")?
            .ok_or(Error::MissingField {
                field: "documentParties.shipper",
            })?;
        let consignee_name =
            party_name(parties, "consignee", "documentParties.consignee.partyName")?;
        let endorsee_name = party_name(parties, "endorsee", "documentParties.endorsee.partyName")?;
        let shipper_codes = party_codes(parties, "shipper")?;
        let consignee_codes = party_codes(parties, "consignee")?;
        let endorsee_codes = party_codes(parties, "endorsee")?;

        if type_code == DocumentType::SeaWaybill && is_to_order {
            return Err(Error::SeaWaybillToOrder);
        }
        if !is_to_order && consignee_name.is_none() {
            return Err(Error::StraightWithoutConsignee);
        }
        Ok(DocumentFacts {
            transport_document_reference: reference,
            transport_document_type_code: type_code,
            is_to_order,
            carrier_code,
            carrier_code_list_provider,
            shipper_name,
            consignee_name,
            endorsee_name,
            shipper_codes,
            consignee_codes,
            endorsee_codes,
        })
    }
}

/// A party's `identifyingCodes`, each as identifiers under its code list's name and its provider.
fn party_codes(
    parties: &serde_json::Map<String, Value>,
    role: &'static str,
) -> Result<Vec<Identifier>> {
    let Some(Value::Object(party)) = parties.get(role) else {
        return Ok(Vec::new());
    };
    let codes = match party.get("identifyingCodes") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(codes)) => codes,
        Some(_) => {
            return Err(Error::WrongFieldType {
                field: "identifyingCodes",
                expected: "an array",
            })
        }
    };
    let mut out = Vec::new();
    for code in codes {
        let Value::Object(code) = code else {
            return Err(Error::WrongFieldType {
                field: "identifyingCodes",
                expected: "an array of objects",
            });
        };
        let value = required_str(code, "partyCode")?;
        let provider = required_str(code, "codeListProvider")?;
        out.push(Identifier::new(&provider, &value));
        if let Some(Value::String(list)) = code.get("codeListName") {
            if !list.eq_ignore_ascii_case(&provider) {
                out.push(Identifier::new(list, &value));
            }
        }
    }
    Ok(out)
}

fn required_str(map: &serde_json::Map<String, Value>, field: &'static str) -> Result<String> {
    match map.get(field) {
        Some(Value::String(s)) if s.is_empty() => Err(Error::EmptyField { field }),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::WrongFieldType {
            field,
            expected: "a string",
        }),
        None => Err(Error::MissingField { field }),
    }
}

fn party_name(
    parties: &serde_json::Map<String, Value>,
    role: &'static str,
    field: &'static str,
) -> Result<Option<String>> {
    match parties.get(role) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(party)) => {
            required_str(party, "partyName")
                .map(Some)
                .map_err(|e| match e {
                    Error::MissingField { .. } => Error::MissingField { field },
                    Error::EmptyField { .. } => Error::EmptyField { field },
                    Error::WrongFieldType { expected, .. } => {
                        Error::WrongFieldType { field, expected }
                    }
                    other => other,
                })
        }
        Some(_) => Err(Error::WrongFieldType {
            field,
            expected: "an object",
        }),
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            self.to_value().serialize(s)
        } else {
            s.serialize_str(&self.canonical)
        }
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        if d.is_human_readable() {
            let jcs::StrictJson(value) = jcs::StrictJson::deserialize(d)?;
            Document::from_value(&value).map_err(serde::de::Error::custom)
        } else {
            let text = String::deserialize(d)?;
            Document::from_canonical(text).map_err(serde::de::Error::custom)
        }
    }
}
