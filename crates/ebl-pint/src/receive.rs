//! The receiving side of a PINT transfer, without IO: the envelope's shape, where the bill stands at the
//! end of its chain, the additional documents a transfer still waits for, and the answers a receiving
//! platform signs. The node keeps the transfers and does the importing; the rules live here.

use std::collections::BTreeMap;

use serde_json::Value;

use ebl_core::{
    Action, BillId, Document, ForeignParty, Hash, Ledger, PartyCode, PartyId, Registry, Title,
};

use crate::envelope::EnvelopeVerdict;
use crate::{fail, PintCode, PintFailure};

/// Most envelope transfers a node keeps open at once, waiting for their additional documents.
pub const TRANSFERS_ACTIVE_MAX: usize = 64;
/// Largest additional document accepted, in bytes after base64 decoding: the largest whose base64 form,
/// quoted as a JSON string, fits in a node's 4 MiB request body.
pub const ADDITIONAL_DOCUMENT_BYTES_MAX: usize = (4 * 1024 * 1024 - 2) / 4 * 3;
/// Most bytes of additional documents one open transfer may hold.
pub const TRANSFER_DOCUMENTS_BYTES_MAX: usize = 32 * 1024 * 1024;

pub use ebl_core::limits::PLATFORM_CODE_BYTES_MAX;
/// The platform code a genesis names until its members set the one DCSA registered for them.
pub const PLATFORM_CODE_DEFAULT: &str = "EBL";

/// A platform code as PINT's schema allows it (the genesis rule, which is the chain's).
pub fn check_platform_code(code: &str) -> Result<(), ebl_core::Error> {
    ebl_core::genesis::check_platform_code(code)
}

/// What the schema requires of an `EblEnvelope` and a request lacks: a schema error (HTTP 400), not a
/// bad envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// Not a JSON object.
    #[error("an EblEnvelope is a JSON object")]
    NotAnObject,
    /// No transport document object.
    #[error("transportDocument is required and must be an object")]
    TransportDocument,
    /// No manifest JWS.
    #[error("envelopeManifestSignedContent is required and must be a compact JWS")]
    Manifest,
    /// No chain of JWS entries.
    #[error("envelopeTransferChain is required: a non-empty array of compact JWS")]
    TransferChain,
}

/// Checks what the schema requires of an `EblEnvelope` before anything is verified: a request that
/// is not even shaped like one is a schema error (HTTP 400), not a bad envelope.
pub fn check_shape(envelope: &Value) -> Result<(), ShapeError> {
    let jws = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.split('.').count() == 3 && !s.is_empty())
    };
    let object = envelope.as_object().ok_or(ShapeError::NotAnObject)?;
    if !object
        .get("transportDocument")
        .is_some_and(Value::is_object)
    {
        return Err(ShapeError::TransportDocument);
    }
    if !object.get("envelopeManifestSignedContent").is_some_and(jws) {
        return Err(ShapeError::Manifest);
    }
    match object.get("envelopeTransferChain") {
        Some(Value::Array(entries)) if !entries.is_empty() && entries.iter().all(jws) => Ok(()),
        _ => Err(ShapeError::TransferChain),
    }
}

/// SHA-256 of an envelope's last chain entry, read without trusting anything: the envelope reference
/// and what every answer about it names, even for an envelope that does not verify. `Hash::ZERO` if it
/// has none.
pub fn last_entry_checksum(envelope: &Value) -> Hash {
    envelope
        .get("envelopeTransferChain")
        .and_then(Value::as_array)
        .and_then(|c| c.last())
        .and_then(Value::as_str)
        .map_or(Hash::ZERO, |e| Hash::of(e.as_bytes()))
}

/// The `(codeListProvider, partyCode)` pairs a PINT party object names itself by.
pub fn identifying_codes(party: &Value) -> Vec<(String, String)> {
    let Some(Value::Array(codes)) = party.get("identifyingCodes") else {
        return Vec::new();
    };
    codes
        .iter()
        .filter_map(|c| {
            let provider = c.get("codeListProvider")?.as_str()?;
            let code = c.get("partyCode")?.as_str()?;
            Some((provider.to_owned(), code.to_owned()))
        })
        .collect()
}

/// Where title stands after the envelope's last transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndTitle {
    /// To the order of this party (as the envelope names it); `may_endorse` is false after `ENDORSE`.
    Order {
        /// The party, as the envelope names it.
        endorsee: Value,
        /// Whether the endorsee may endorse it on.
        may_endorse: bool,
    },
    /// Endorsed in blank.
    Bearer,
}

/// Last actions whose envelope only notifies its recipient: title moves (`ENDORSE`,
/// `ENDORSE_TO_ORDER`) or a surrender is answered (`SACC`), but possession stays where it is (the spec:
/// they "do NOT result in the transfer of possession").
pub(crate) const NOTIFICATION_ACTIONS: [&str; 3] = ["ENDORSE", "ENDORSE_TO_ORDER", "SACC"];

/// The party the last transaction hands possession to, and (for a to-order bill) where title stands.
/// `None` if the last transaction hands it to nobody (a signature, a blank endorsement, a notification).
pub fn end_of_chain(verdict: &EnvelopeVerdict) -> Option<(Value, EndTitle)> {
    let holder = match verdict.actions.last().map(String::as_str) {
        Some(
            "ISSUE" | "TRANSFER" | "SURRENDER_FOR_DELIVERY" | "SURRENDER_FOR_AMENDMENT" | "SREJ",
        ) => verdict.recipients.last().cloned().flatten()?,
        _ => return None,
    };
    let mut title = EndTitle::Bearer;
    for (code, recipient) in verdict.actions.iter().zip(&verdict.recipients) {
        title = match (code.as_str(), recipient) {
            ("ISSUE" | "ENDORSE_TO_ORDER", Some(r)) => EndTitle::Order {
                endorsee: r.clone(),
                may_endorse: true,
            },
            ("ENDORSE", Some(r)) => EndTitle::Order {
                endorsee: r.clone(),
                may_endorse: false,
            },
            ("BLANK_ENDORSE", _) => EndTitle::Bearer,
            _ => title,
        };
    }
    Some((holder, title))
}

/// The `(codeListName, partyCode)` pairs a PINT party object names itself by, where a code names its
/// list (`GLEIF` publishes `LEI`s; `ZZZ` codes name theirs).
fn code_list_names(party: &Value) -> Vec<(String, String)> {
    let Some(Value::Array(codes)) = party.get("identifyingCodes") else {
        return Vec::new();
    };
    codes
        .iter()
        .filter_map(|c| {
            let name = c.get("codeListName")?.as_str()?;
            let code = c.get("partyCode")?.as_str()?;
            Some((name.to_owned(), code.to_owned()))
        })
        .collect()
}

/// The active party hosted here that a PINT party object names: by this platform's code and the party
/// id, or by an identifier the party registered (an LEI, a DCSA code, ...), named by its provider or by
/// its list's name (`codeListProvider: GLEIF, codeListName: LEI` finds a party registered `LEI:…`).
pub fn hosted_party(registry: &Registry, platform: &str, party: &Value) -> Option<PartyId> {
    named_party(registry.parties(), platform, party)
}

/// [`hosted_party`] among `parties` as a wallet reads them from a node (it holds no registry).
pub fn named_party<'a>(
    parties: impl IntoIterator<Item = &'a ebl_core::Party>,
    platform: &str,
    party: &Value,
) -> Option<PartyId> {
    let mut codes = identifying_codes(party);
    codes.extend(code_list_names(party));
    parties
        .into_iter()
        .filter(|p| !p.revoked)
        .find(|p| {
            codes.iter().any(|(provider, code)| {
                (provider == platform && *code == p.id.to_hex())
                    || p.profile
                        .identifiers
                        .iter()
                        .any(|i| i.scheme.eq_ignore_ascii_case(provider) && i.value == *code)
            })
        })
        .map(|p| p.id)
}

/// The active carrier hosted here whose identifiers include the document's carrier code.
pub fn hosted_carrier(registry: &Registry, document: &Document) -> Option<PartyId> {
    let facts = document.facts();
    registry
        .parties()
        .filter(|p| !p.revoked && p.has_role(ebl_core::Role::Carrier))
        .find(|p| {
            p.profile.identifiers.iter().any(|i| {
                i.scheme
                    .eq_ignore_ascii_case(&facts.carrier_code_list_provider)
                    && i.value == facts.carrier_code
            })
        })
        .map(|p| p.id)
}

/// The action code of the envelope's last transaction.
pub(crate) fn last_action(verdict: &EnvelopeVerdict) -> Option<&str> {
    verdict.actions.last().map(String::as_str)
}

fn is_surrender(code: &str) -> bool {
    matches!(code, "SURRENDER_FOR_DELIVERY" | "SURRENDER_FOR_AMENDMENT")
}

/// A PINT party object as this ledger records a party on another platform; `None` if it lacks a
/// platform, a name or a code, or breaks the ledger's limits on them.
pub(crate) fn foreign_party(party: &Value) -> Option<ForeignParty> {
    let text = |field: &str| party.get(field).and_then(Value::as_str).map(str::to_owned);
    let foreign = ForeignParty {
        platform: text("eblPlatform")?,
        name: text("partyName")?,
        codes: identifying_codes(party)
            .into_iter()
            .map(|(provider, code)| PartyCode { provider, code })
            .collect(),
    };
    foreign.check().ok().map(|()| foreign)
}

/// The envelope must name this platform as where its last transaction's recipient is: an envelope
/// meant for another platform is `BENV` (the spec's "does not list the receiving platform as the
/// intended recipient"), even when a party here happens to carry the same codes.
pub(crate) fn check_recipient_platform(
    platform: &str,
    recipient: &Value,
) -> Result<(), PintFailure> {
    match recipient.get("eblPlatform").and_then(Value::as_str) {
        Some(p) if p == platform => Ok(()),
        Some(p) => Err(fail(
            PintCode::BadEnvelope,
            "import",
            format!("the envelope is addressed to platform {p}, not to this one ({platform})"),
        )),
        None => Err(fail(
            PintCode::BadEnvelope,
            "import",
            "the last transaction's recipient names no eblPlatform",
        )),
    }
}

/// Whether the envelope's transfer chain holds an entry whose SHA-256 is `entry`.
fn chain_carries(envelope: &str, entry: &Hash) -> bool {
    serde_json::from_str::<Value>(envelope)
        .ok()
        .and_then(|e| e.get("envelopeTransferChain").cloned())
        .and_then(|c| c.as_array().cloned())
        .is_some_and(|chain| {
            chain
                .iter()
                .filter_map(Value::as_str)
                .any(|e| Hash::of(e.as_bytes()) == *entry)
        })
}

/// Where a received envelope's bill goes on this ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A new bill: the `IMPORT` action to sign.
    New(Box<Action>),
    /// A bill of that carrier and reference is already here: a duplicate or a dispute, which the
    /// bill's stored import decides.
    AlreadyHere(BillId),
    /// A notification to a party hosted here (see `NOTIFICATION_ACTIONS`): received and kept, but no
    /// bill is put on this ledger, because possession did not move here.
    Notification {
        /// The party here it notifies.
        recipient: PartyId,
    },
}

/// Maps an accepted envelope onto this ledger: the bill's carrier must be hosted here (it answers
/// surrenders), the last transaction must hand the bill to a party hosted here, and for a to-order bill
/// that party must hold title (the last endorsee, or a blank endorsement). `BENV` with the reason
/// otherwise. The ledger checks the `IMPORT` again when it applies it.
pub fn import_action(
    ledger: &Ledger,
    platform: &str,
    transfer: &Transfer,
) -> Result<Placement, PintFailure> {
    let benv = |reason: String| fail(PintCode::BadEnvelope, "import", reason);
    let registry = ledger.registry();
    let document = Document::from_envelope(&transfer.envelope).map_err(|e| {
        benv(format!(
            "the transport document is not one this platform holds: {e}"
        ))
    })?;
    let facts = document.facts();
    if let Some(code) = last_action(&transfer.verdict).filter(|c| NOTIFICATION_ACTIONS.contains(c))
    {
        let recipient = transfer
            .verdict
            .recipients
            .last()
            .cloned()
            .flatten()
            .ok_or_else(|| benv(format!("the {code} notification names no recipient")))?;
        check_recipient_platform(platform, &recipient)?;
        let recipient = hosted_party(registry, platform, &recipient)
            .ok_or_else(|| benv("the recipient is not a party hosted on this platform".into()))?;
        return Ok(Placement::Notification { recipient });
    }
    let carrier = hosted_carrier(registry, &document).ok_or_else(|| {
        benv(format!(
            "carrier {}:{} is not a party on this platform, so it could not answer a surrender",
            facts.carrier_code_list_provider, facts.carrier_code
        ))
    })?;
    let (holder, end_title) = end_of_chain(&transfer.verdict)
        .ok_or_else(|| benv("the last transaction hands the bill to nobody".into()))?;
    check_recipient_platform(platform, &holder)?;
    if let Some(bill) = ledger.bill_by_reference(
        &facts.carrier_identifier(),
        &facts.transport_document_reference,
    ) {
        // A bill this platform sent away, coming back: its chain must carry the entry we signed when
        // it left, or the other side holds another history of it.
        match &bill.status {
            ebl_core::Status::TransferredOut { last_entry, .. } => {
                if !chain_carries(&transfer.envelope, last_entry) {
                    return Err(fail(
                        PintCode::Disputed,
                        "import",
                        "the bill left this platform with another history: its chain does not carry the entry this platform signed when it was sent",
                    ));
                }
            }
            _ => return Ok(Placement::AlreadyHere(bill.id)),
        }
    }
    let possessor = hosted_party(registry, platform, &holder)
        .ok_or_else(|| benv("the recipient is not a party hosted on this platform".into()))?;
    let surrendered_by = match last_action(&transfer.verdict) {
        Some(code) if is_surrender(code) => {
            if possessor != carrier {
                return Err(benv(
                    "a surrender must be addressed to the carrier that issued the bill".into(),
                ));
            }
            // An accepted amendment is answered with replacement bills issued to the surrenderer, who
            // is not a party on this ledger: the sending platform keeps the bill.
            if code == "SURRENDER_FOR_AMENDMENT" {
                return Err(benv(
                    "surrenders for amendment from other platforms are not received here: the replacements could not be issued to a party on another platform; the sending platform keeps the bill".into(),
                ));
            }
            let actor = transfer.verdict.actors.last().cloned().flatten();
            let surrenderer = actor.as_ref().and_then(foreign_party).ok_or_else(|| {
                benv(
                    "the surrender's actor is not a party named by its platform, name and codes"
                        .into(),
                )
            })?;
            if surrenderer.platform == platform {
                return Err(benv(
                    "the surrender's actor claims this platform, but a party here surrenders on this ledger".into(),
                ));
            }
            Some(surrenderer)
        }
        _ => None,
    };
    // The carrier holds a received surrender while it answers: title rests with it here, and the
    // surrenderer's title abroad is in the record (`surrendered_by`).
    let end_title = match (&surrendered_by, end_title) {
        (Some(_), _) if facts.is_to_order => EndTitle::Order {
            endorsee: holder.clone(),
            may_endorse: false,
        },
        (_, end_title) => end_title,
    };
    let title = match (facts.is_to_order, end_title) {
        (false, _) => Title::Straight {
            consignee: possessor,
        },
        (true, EndTitle::Bearer) => Title::Bearer,
        (
            true,
            EndTitle::Order {
                endorsee,
                may_endorse,
            },
        ) if hosted_party(registry, platform, &endorsee) == Some(possessor) => Title::Order {
            endorsee: possessor,
            may_endorse,
        },
        (true, EndTitle::Order { .. }) => {
            return Err(benv(
                "the recipient is not the endorsee: it would possess the bill without title".into(),
            ))
        }
    };
    Ok(Placement::New(Box::new(Action::Import {
        envelope: transfer.envelope.clone(),
        carrier,
        possessor,
        title,
        surrendered_by,
    })))
}

/// An envelope transfer being received: verified, waiting for its additional documents.
/// An envelope transfer open at the receiver: the verified envelope, and the additional documents that
/// arrived for it so far.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The `envelopeReference` given to the sender: the hex SHA-256 of the last chain entry.
    pub reference: String,
    /// What the envelope was found to say.
    pub verdict: EnvelopeVerdict,
    /// The envelope in RFC 8785 form, as it will be imported.
    pub envelope: String,
    received: BTreeMap<Hash, Vec<u8>>,
}

impl Transfer {
    /// A transfer just started with `envelope` (RFC 8785 form), no document received yet.
    pub fn new(verdict: EnvelopeVerdict, envelope: String) -> Transfer {
        Transfer {
            reference: verdict.last_entry_checksum.to_hex(),
            verdict,
            envelope,
            received: BTreeMap::new(),
        }
    }

    /// A retry of `earlier` (same document, a new or the same envelope) keeps the documents it already
    /// received that this envelope still names.
    pub fn carry_over(&mut self, earlier: Transfer) {
        for (checksum, content) in earlier.received {
            if self
                .verdict
                .documents
                .iter()
                .any(|d| d.checksum == checksum)
            {
                self.received.insert(checksum, content);
            }
        }
    }

    /// The checksums the manifest names that have not arrived.
    pub fn missing(&self) -> Vec<Hash> {
        let mut missing: Vec<Hash> = self
            .verdict
            .documents
            .iter()
            .map(|d| d.checksum)
            .filter(|c| !self.received.contains_key(c))
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// The checksums of the documents that arrived, in order.
    pub fn received(&self) -> Vec<Hash> {
        self.received.keys().copied().collect()
    }

    /// The documents that arrived, by checksum.
    pub fn documents(&self) -> impl Iterator<Item = (&Hash, &Vec<u8>)> {
        self.received.iter()
    }

    /// An additional document, as `PUT .../additional-documents/{checksum}` delivers it: it must be one
    /// the manifest names, and its bytes must have that checksum and size. `INCD` otherwise; the
    /// transfer stays open either way.
    pub fn receive_document(
        &mut self,
        checksum: Hash,
        content: Vec<u8>,
    ) -> Result<(), PintFailure> {
        let place = format!("additional document {}", checksum.to_hex());
        let Some(named) = self
            .verdict
            .documents
            .iter()
            .find(|d| d.checksum == checksum)
        else {
            return Err(fail(
                PintCode::IncorrectDocument,
                &place,
                "the envelope manifest names no document with this checksum",
            ));
        };
        if Hash::of(&content) != checksum {
            return Err(fail(
                PintCode::IncorrectDocument,
                &place,
                "the content does not have the checksum it was sent under",
            ));
        }
        if named.size != 0 && named.size != content.len() as u64 {
            return Err(fail(
                PintCode::IncorrectDocument,
                &place,
                format!("{} bytes, the manifest says {}", content.len(), named.size),
            ));
        }
        let held: usize = self.received.values().map(Vec::len).sum();
        if held + content.len() > TRANSFER_DOCUMENTS_BYTES_MAX {
            return Err(fail(
                PintCode::IncorrectDocument,
                &place,
                format!(
                    "a transfer holds at most {TRANSFER_DOCUMENTS_BYTES_MAX} bytes of documents"
                ),
            ));
        }
        self.received.insert(checksum, content);
        Ok(())
    }
}

/// The payload of an `EnvelopeTransferFinishedResponse`, which the receiving platform signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The answer (`responseCode`).
    pub code: PintCode,
    /// The last entry it answers, by SHA-256 (`lastEnvelopeTransferChainEntrySignedContentChecksum`).
    pub last_entry_checksum: Hash,
    /// Why, for a refusal (`reason`).
    pub reason: Option<String>,
    /// For `MDOC`: the documents still missing (`missingAdditionalDocumentChecksums`).
    pub missing: Vec<Hash>,
    /// For `RECE` and `DUPE`: every additional document received (`receivedAdditionalDocumentChecksums`).
    pub received: Vec<Hash>,
    /// For `DUPE`: the last entry of the envelope accepted before.
    pub duplicate_of: Option<String>,
}

impl Finished {
    /// An answer with `code` to the entry `last_entry_checksum`, listing nothing yet.
    pub fn new(code: PintCode, last_entry_checksum: Hash) -> Finished {
        Finished {
            code,
            last_entry_checksum,
            reason: None,
            missing: Vec::new(),
            received: Vec::new(),
            duplicate_of: None,
        }
    }

    /// The answer as the JSON payload PINT signs.
    pub fn to_value(&self) -> Value {
        let hex = |h: &[Hash]| {
            h.iter()
                .map(|c| Value::from(c.to_hex()))
                .collect::<Vec<_>>()
        };
        let mut v = serde_json::json!({
            "lastEnvelopeTransferChainEntrySignedContentChecksum": self.last_entry_checksum.to_hex(),
            "responseCode": self.code.code(),
        });
        if let Some(reason) = &self.reason {
            // The schema caps the reason at 255 characters.
            v["reason"] = reason.chars().take(255).collect::<String>().into();
        }
        if self.code == PintCode::MissingDocument {
            v["missingAdditionalDocumentChecksums"] = hex(&self.missing).into();
        }
        if matches!(self.code, PintCode::Received | PintCode::Duplicate) {
            v["receivedAdditionalDocumentChecksums"] = hex(&self.received).into();
        }
        if let Some(entry) = &self.duplicate_of {
            v["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"] = entry.clone().into();
        }
        v
    }
}

/// The unsigned `EnvelopeTransferStartedResponse`.
pub fn started_response(transfer: &Transfer) -> Value {
    serde_json::json!({
        "envelopeReference": transfer.reference,
        "transportDocumentChecksum": transfer.verdict.document_checksum.to_hex(),
        "lastEnvelopeTransferChainEntrySignedContentChecksum": transfer.verdict.last_entry_checksum.to_hex(),
        "missingAdditionalDocumentChecksums": transfer.missing().iter().map(|c| c.to_hex()).collect::<Vec<_>>(),
    })
}

/// RFC 4648 base64 (standard alphabet, padded), as OpenAPI's `format: byte` carries documents.
pub fn base64_encode(data: &[u8]) -> String {
    use base64ct::Encoding as _;
    base64ct::Base64::encode_string(data)
}

/// Decodes RFC 4648 base64 in the standard alphabet, padded or (as some senders write it) not.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64ct::Encoding as _;
    if text.len().is_multiple_of(4) {
        base64ct::Base64::decode_vec(text).ok()
    } else {
        base64ct::Base64Unpadded::decode_vec(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_standard_alphabet_decodes() {
        assert_eq!(base64_decode("Zm9vYg==").as_deref(), Some(&b"foob"[..]));
        for data in [&b""[..], b"f", b"fo", b"foo", &[0xfb, 0xff, 0xfe]] {
            assert_eq!(base64_decode(&base64_encode(data)).as_deref(), Some(data));
        }
        assert_eq!(base64_encode(&[0xfb, 0xff]), "+/8=");
        assert_eq!(base64_decode("+/8=").as_deref(), Some(&[0xfb, 0xff][..]));
        assert!(
            base64_decode("-_8").is_none(),
            "the URL alphabet is not format: byte"
        );
    }

    /// A verdict naming `documents`, for the transfer rules alone.
    fn verdict_naming(documents: &[&[u8]]) -> EnvelopeVerdict {
        EnvelopeVerdict {
            code: PintCode::Received,
            transport_document_reference: "R".into(),
            document_checksum: Hash::of(b"doc"),
            actions: vec!["ISSUE".into()],
            recipients: vec![None],
            actors: vec![None],
            last_entry_checksum: Hash::of(b"last"),
            last_entry: "a.b.c".into(),
            platforms: vec!["EBL".into()],
            documents: documents
                .iter()
                .map(|d| crate::NamedDocument {
                    name: "d".into(),
                    checksum: Hash::of(d),
                    size: d.len() as u64,
                })
                .collect(),
        }
    }

    #[test]
    fn a_transfer_holds_at_most_its_named_bytes_of_documents() {
        // Eleven documents of the largest size: ten fit in TRANSFER_DOCUMENTS_BYTES_MAX, the eleventh not.
        let docs: Vec<Vec<u8>> = (0..11u8)
            .map(|i| vec![i; ADDITIONAL_DOCUMENT_BYTES_MAX])
            .collect();
        let refs: Vec<&[u8]> = docs.iter().map(Vec::as_slice).collect();
        let mut transfer = Transfer::new(verdict_naming(&refs), "{}".into());
        let fits = TRANSFER_DOCUMENTS_BYTES_MAX / ADDITIONAL_DOCUMENT_BYTES_MAX;
        assert_eq!(fits, 10);
        for d in &docs[..fits] {
            transfer
                .receive_document(Hash::of(d), d.clone())
                .expect("within the bound");
        }
        let last = &docs[fits];
        let refused = transfer
            .receive_document(Hash::of(last), last.clone())
            .expect_err("over the bound");
        assert_eq!(refused.code, PintCode::IncorrectDocument);
        assert_eq!(transfer.missing(), vec![Hash::of(last)]);
    }

    /// Regression: padding was done with a formatting width, which panics past 65 535 characters, so
    /// `ebl pint import` crashed on any document over ~48 KiB.
    #[test]
    fn regression_base64_of_a_large_document_does_not_panic() {
        let document = vec![0xab; ADDITIONAL_DOCUMENT_BYTES_MAX];
        let text = base64_encode(&document);
        assert_eq!(text.len(), ADDITIONAL_DOCUMENT_BYTES_MAX.div_ceil(3) * 4);
        assert_eq!(base64_decode(&text), Some(document));
        assert_eq!(base64_encode(&[1]), "AQ==");
    }

    #[test]
    fn the_largest_document_fits_a_request_body_as_quoted_base64() {
        let body = 4 * 1024 * 1024;
        let encoded = |n: usize| n.div_ceil(3) * 4 + 2;
        assert!(encoded(ADDITIONAL_DOCUMENT_BYTES_MAX) <= body);
        assert!(encoded(ADDITIONAL_DOCUMENT_BYTES_MAX + 1) > body);
    }

    #[test]
    fn platform_codes_are_bounded() {
        for good in ["E", "EBL", "BOLE"] {
            assert!(check_platform_code(good).is_ok());
        }
        for bad in ["", "BOLEX", "EBLTEST", "E L", "BOLE\n"] {
            assert!(check_platform_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shape_errors_name_the_missing_member() {
        let ok = serde_json::json!({
            "transportDocument": {},
            "envelopeManifestSignedContent": "a.b.c",
            "envelopeTransferChain": ["a.b.c"],
        });
        assert!(check_shape(&ok).is_ok());
        for (member, bad) in [
            ("transportDocument", serde_json::json!("x")),
            ("envelopeManifestSignedContent", serde_json::json!(7)),
            ("envelopeTransferChain", serde_json::json!([])),
        ] {
            let mut v = ok.clone();
            v[member] = bad;
            let err = check_shape(&v).expect_err("a broken member");
            assert!(err.to_string().contains(member), "{err}");
        }
        assert!(check_shape(&serde_json::json!([1])).is_err());
    }
}
