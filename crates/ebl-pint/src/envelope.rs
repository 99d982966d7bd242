//! Verifying an `EblEnvelope` from another platform: signatures, hash links, checksums and action rules.

use serde_json::Value;

use ebl_core::jcs;
use ebl_core::Hash;

use crate::jws::{parse_jws, verified_payload, verify_jws, Binding, TrustStore};
use crate::{fail, PintCode, PintFailure, ENVELOPE_BYTES_MAX, TRANSFER_CHAIN_ENTRIES_MAX};

fn checksum_field(payload: &Value, field: &str, place: &str) -> Result<Option<Hash>, PintFailure> {
    match payload.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
            fail(
                PintCode::BadEnvelope,
                place,
                format!("{field} is not a SHA-256 in hex"),
            )
        }),
        Some(_) => Err(fail(
            PintCode::BadEnvelope,
            place,
            format!("{field} is not a string"),
        )),
    }
}

/// A supporting document the manifest says must accompany the envelope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NamedDocument {
    /// Its file name, as the manifest gives it.
    pub name: String,
    /// SHA-256 of its bytes: what the document must hash to when it arrives.
    pub checksum: Hash,
    /// Its size in bytes, as the manifest states it.
    pub size: u64,
}

/// What a received envelope says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvelopeVerdict {
    /// The answer the envelope earns: `RECE`, or the refusal's code.
    pub code: PintCode,
    /// The transport document's reference (`transportDocumentReference`).
    pub transport_document_reference: String,
    /// SHA-256 of the transport document in RFC 8785 form, as the manifest states and the document has.
    pub document_checksum: Hash,
    /// Action codes of the whole chain, in order.
    pub actions: Vec<String>,
    /// The `recipient` party object of each action, where it names one (parallel to `actions`).
    pub recipients: Vec<Option<Value>>,
    /// The `actor` party object of each action (parallel to `actions`).
    pub actors: Vec<Option<Value>>,
    /// SHA-256 of the last entry's JWS text: what PINT's responses and DUPE detection name.
    pub last_entry_checksum: Hash,
    /// The last entry itself, which a `DUPE` answer quotes.
    pub last_entry: String,
    /// The platforms that signed each entry.
    pub platforms: Vec<String>,
    /// Documents the manifest requires besides the transport document.
    pub documents: Vec<NamedDocument>,
}

/// The transfer chain actions DCSA PINT 3.0 defines (`actionCode`), each of which an entry may carry.
pub const ACTION_CODES: [&str; 10] = [
    "ISSUE",
    "ENDORSE",
    "ENDORSE_TO_ORDER",
    "BLANK_ENDORSE",
    "SIGN",
    "TRANSFER",
    "SURRENDER_FOR_AMENDMENT",
    "SURRENDER_FOR_DELIVERY",
    "SACC",
    "SREJ",
];

/// The additional documents an envelope manifest names: the carrier's visualisation, if any, then the
/// supporting documents.
fn manifest_documents(manifest: &Value) -> Result<Vec<NamedDocument>, PintFailure> {
    let named = |value: &Value| -> Result<NamedDocument, PintFailure> {
        let checksum = checksum_field(value, "documentChecksum", "manifest")?.ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "manifest",
                "a document without documentChecksum",
            )
        })?;
        Ok(NamedDocument {
            name: value
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            checksum,
            size: value.get("size").and_then(Value::as_u64).unwrap_or(0),
        })
    };
    let mut documents = Vec::new();
    if let Some(v) = manifest
        .get("eBLVisualisationByCarrier")
        .filter(|v| !v.is_null())
    {
        documents.push(named(v)?);
    }
    if let Some(Value::Array(docs)) = manifest.get("supportingDocuments") {
        for d in docs {
            documents.push(named(d)?);
        }
    }
    Ok(documents)
}

/// The documents named by the manifest of an envelope this platform already accepted (an `IMPORT`'s):
/// read without checking signatures again, which were checked when it was received.
pub fn accepted_documents(envelope: &str) -> Vec<NamedDocument> {
    accepted_manifest(envelope)
        .and_then(|m| manifest_documents(&m).ok())
        .unwrap_or_default()
}

/// The manifest of an envelope this platform already accepted, as its sender signed it (read without
/// checking signatures again).
pub(crate) fn accepted_manifest(envelope: &str) -> Option<Value> {
    serde_json::from_str::<Value>(envelope)
        .ok()
        .and_then(|e| {
            e.get("envelopeManifestSignedContent")
                .and_then(Value::as_str)
                .and_then(crate::jws_content)
        })
        .and_then(|m| serde_json::from_str::<Value>(&m).ok())
}

/// Verifies an `EblEnvelope` (its JSON text) against `trust`. `RECE` if it is sound; otherwise the code
/// PINT answers with, the place and the reason.
pub fn verify_envelope(text: &[u8], trust: &TrustStore) -> Result<EnvelopeVerdict, PintFailure> {
    if text.len() > ENVELOPE_BYTES_MAX {
        return Err(fail(
            PintCode::BadEnvelope,
            "envelope",
            format!("larger than {ENVELOPE_BYTES_MAX} bytes"),
        ));
    }
    crate::bounds::check_json_bounds(text)
        .map_err(|e| fail(PintCode::BadEnvelope, "envelope", e.to_string()))?;
    let envelope =
        jcs::parse(text).map_err(|e| fail(PintCode::BadEnvelope, "envelope", e.to_string()))?;
    let document = envelope
        .get("transportDocument")
        .filter(|d| d.is_object())
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "envelope",
                "no transportDocument object",
            )
        })?;
    let document_checksum = jcs::canonicalize(document)
        .map(|c| Hash::of(c.as_bytes()))
        .map_err(|e| fail(PintCode::BadEnvelope, "transportDocument", e.to_string()))?;
    let reference = document
        .get("transportDocumentReference")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let manifest_text = envelope
        .get("envelopeManifestSignedContent")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "envelope",
                "no envelopeManifestSignedContent",
            )
        })?;
    let chain = transfer_chain(&envelope)?;

    // Every signature first, each against the keys bound to whoever must have made it: a signature
    // that does not hold is BSIG whatever else is wrong, as DCSA's reference receiver answers.
    let manifest_jws = parse_jws(manifest_text, "manifest")?;
    let (payloads, platforms) = verified_entries(&chain, trust)?;
    let issuance = verified_issuance(&envelope, document, &payloads, &platforms, trust)?;
    // The envelope manifest, signed by the sending platform: the one that signed the last entry.
    let sender = Binding::platform(platforms.last().map_or("", String::as_str));
    let manifest = verified_payload(&manifest_jws, trust, "manifest", &sender)?;

    // Then what the signed contents say. A start that does not hold together is BENV: INCD answers
    // additional documents only.
    if checksum_field(&manifest, "transportDocumentChecksum", "manifest")?
        != Some(document_checksum)
    {
        return Err(benv(
            "manifest",
            "transportDocumentChecksum is not the document's",
        ));
    }
    let last = chain.last().copied().unwrap_or("");
    if checksum_field(
        &manifest,
        "lastEnvelopeTransferChainEntrySignedContentChecksum",
        "manifest",
    )? != Some(Hash::of(last.as_bytes()))
    {
        return Err(benv(
            "manifest",
            "the last chain entry is not the one the manifest names",
        ));
    }
    let documents = manifest_documents(&manifest)?;
    if checksum_field(&issuance, "documentChecksum", "issuance manifest")?
        != Some(document_checksum)
    {
        return Err(benv(
            "issuance manifest",
            "documentChecksum is not the document's",
        ));
    }
    let moves = chain_moves(&chain, &payloads, document_checksum)?;
    Ok(EnvelopeVerdict {
        code: PintCode::Received,
        transport_document_reference: reference,
        document_checksum,
        actions: moves.actions,
        recipients: moves.recipients,
        actors: moves.actors,
        last_entry_checksum: Hash::of(last.as_bytes()),
        last_entry: last.to_owned(),
        platforms,
        documents,
    })
}

/// A failure to answer `BENV`.
fn benv(place: &str, reason: &str) -> PintFailure {
    fail(PintCode::BadEnvelope, place, reason)
}

/// The transfer chain's entries (compact JWS texts), 1 to `TRANSFER_CHAIN_ENTRIES_MAX`.
fn transfer_chain(envelope: &Value) -> Result<Vec<&str>, PintFailure> {
    match envelope.get("envelopeTransferChain") {
        Some(Value::Array(entries))
            if !entries.is_empty() && entries.len() <= TRANSFER_CHAIN_ENTRIES_MAX =>
        {
            entries
                .iter()
                .map(|e| {
                    e.as_str().ok_or_else(|| {
                        fail(
                            PintCode::BadEnvelope,
                            "envelopeTransferChain",
                            "an entry is not a string",
                        )
                    })
                })
                .collect()
        }
        _ => Err(fail(
            PintCode::BadEnvelope,
            "envelopeTransferChain",
            format!("must hold 1 to {TRANSFER_CHAIN_ENTRIES_MAX} entries"),
        )),
    }
}

/// Each chain entry's signed payload, checked against the keys of the platform it names, and those
/// platforms in order.
fn verified_entries(
    chain: &[&str],
    trust: &TrustStore,
) -> Result<(Vec<Value>, Vec<String>), PintFailure> {
    let entries = chain
        .iter()
        .enumerate()
        .map(|(i, text)| parse_jws(text, &format!("transfer chain entry {i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut payloads = Vec::with_capacity(entries.len());
    let mut platforms = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let place = format!("transfer chain entry {i}");
        let claimed = entry.claims().and_then(|c| {
            c.get("eblPlatform")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let Some(platform) = claimed else {
            // Nothing says whose keys to try: any trusted platform's. A signature none of them made
            // is BSIG; a signed entry that is not JSON, or names no platform, is BENV (as DCSA's
            // reference receiver answers: the signature holds, the content is wrong).
            let signed_by_someone = trust
                .platforms()
                .iter()
                .any(|p| verify_jws(entry, trust, &place, &Binding::platform(p)).is_ok());
            return Err(if signed_by_someone {
                fail(
                    PintCode::BadEnvelope,
                    &place,
                    if entry.claims().is_some() {
                        "the entry names no eblPlatform"
                    } else {
                        "the entry's payload is not JSON within the envelope's bounds"
                    },
                )
            } else {
                fail(
                    PintCode::BadSignature,
                    &place,
                    "the signature is not one of a trusted platform",
                )
            });
        };
        payloads.push(verified_payload(
            entry,
            trust,
            &place,
            &Binding::platform(&platform),
        )?);
        platforms.push(platform);
    }
    Ok((payloads, platforms))
}

/// The issuance manifest's payload, signed by the carrier that issued the document, with a key bound
/// to it on the issuing platform. The spec carries it in the first entry; DCSA's conformance tooling
/// sends it beside the chain, which is read when the first entry has none.
fn verified_issuance(
    envelope: &Value,
    document: &Value,
    payloads: &[Value],
    platforms: &[String],
    trust: &TrustStore,
) -> Result<Value, PintFailure> {
    let first = payloads.first().cloned().unwrap_or(Value::Null);
    let issuance_text = first
        .get("issuanceManifestSignedContent")
        .or_else(|| envelope.get("issuanceManifestSignedContent"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "transfer chain entry 0",
                "the first entry carries no issuance manifest",
            )
        })?;
    let carrier = |field: &str| {
        document.get(field).and_then(Value::as_str).ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "transportDocument",
                format!("no {field}: the issuing carrier is unknown"),
            )
        })
    };
    let issuer = Binding::carrier(
        platforms.first().map_or("", String::as_str),
        carrier("carrierCodeListProvider")?,
        carrier("carrierCode")?,
    );
    let issuance_jws = parse_jws(issuance_text, "issuance manifest")?;
    verified_payload(&issuance_jws, trust, "issuance manifest", &issuer)
}

/// What the chain's transactions did, in order: each action's code, recipient and actor.
struct Moves {
    actions: Vec<String>,
    recipients: Vec<Option<Value>>,
    actors: Vec<Option<Value>>,
}

/// The chain, from the issuance to the last transfer, each entry linked to the one before and about
/// this document; its actions known, `ISSUE` first and once, nothing after `SACC`.
fn chain_moves(
    chain: &[&str],
    payloads: &[Value],
    document_checksum: Hash,
) -> Result<Moves, PintFailure> {
    let mut moves = Moves {
        actions: Vec::new(),
        recipients: Vec::new(),
        actors: Vec::new(),
    };
    for (i, payload) in payloads.iter().enumerate() {
        let place = format!("transfer chain entry {i}");
        if checksum_field(payload, "transportDocumentChecksum", &place)? != Some(document_checksum)
        {
            return Err(benv(
                &place,
                "transportDocumentChecksum is not the document's",
            ));
        }
        let previous = checksum_field(
            payload,
            "previousEnvelopeTransferChainEntrySignedContentChecksum",
            &place,
        )?;
        if i == 0 {
            if previous.is_some() {
                return Err(benv(&place, "the first entry links to a previous one"));
            }
        } else if previous != Some(Hash::of(chain[i - 1].as_bytes())) {
            return Err(benv(&place, "does not link to the entry before it"));
        }
        let transactions = match payload.get("transactions") {
            Some(Value::Array(t)) if !t.is_empty() => t,
            _ => return Err(benv(&place, "an entry needs at least one transaction")),
        };
        for tx in transactions {
            let code = tx.get("actionCode").and_then(Value::as_str).unwrap_or("");
            if !ACTION_CODES.contains(&code) {
                return Err(fail(
                    PintCode::BadEnvelope,
                    &place,
                    format!("unknown actionCode {code:?}"),
                ));
            }
            if (code == "ISSUE") != moves.actions.is_empty() {
                return Err(benv(&place, "ISSUE must come first, and once"));
            }
            if moves.actions.last().is_some_and(|a| a == "SACC") {
                return Err(benv(&place, "nothing may follow SACC"));
            }
            moves.actions.push(code.to_owned());
            moves
                .recipients
                .push(tx.get("recipient").filter(|r| r.is_object()).cloned());
            moves
                .actors
                .push(tx.get("actor").filter(|a| a.is_object()).cloned());
        }
    }
    Ok(moves)
}
