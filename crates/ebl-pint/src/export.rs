//! Export: a bill's history as a PINT envelope signed by this platform.

use serde_json::Value;

use ebl_core::jcs;
use ebl_core::Hash;

use crate::jws::{sign_jws, JwsSigner};

/// Unix milliseconds as the ISO 8601 date-time PINT's `actionDateTime` takes.
pub fn date_time(ms: u64) -> String {
    ebl_core::time::Utc::from_unix_ms(ms).iso8601()
}

/// One transaction of the bill's history, with the time its block gave it.
#[derive(Debug, Clone)]
pub struct Exported<'a> {
    /// The transaction, as the ledger holds it.
    pub transaction: &'a ebl_core::SignedTransaction,
    /// When its block was made (Unix milliseconds): the entry's `actionDateTime`.
    pub time_ms: u64,
}

fn party_object(registry: &ebl_core::Registry, id: ebl_core::PartyId, platform: &str) -> Value {
    let (name, identifiers) = match registry.party(id) {
        Some(p) => (p.name().to_owned(), p.profile.identifiers.clone()),
        None => (format!("party {}", id.to_hex()), Vec::new()),
    };
    let mut codes: Vec<Value> = identifiers
        .iter()
        .map(|i| crate::code_lists::identifying_code(&i.scheme, &i.value))
        .collect();
    codes.push(serde_json::json!({ "codeListProvider": platform, "partyCode": id.to_hex() }));
    serde_json::json!({ "partyName": name, "eblPlatform": platform, "identifyingCodes": codes })
}

/// A party on another platform as PINT names it.
fn foreign_object(party: &ebl_core::ForeignParty) -> Value {
    let codes: Vec<Value> = party
        .codes
        .iter()
        .map(|c| crate::code_lists::identifying_code(&c.provider, &c.code))
        .collect();
    serde_json::json!({
        "partyName": party.name,
        "eblPlatform": party.platform,
        "identifyingCodes": codes,
    })
}

/// Maps our transactions to PINT's. `PLEDGE`, `RELEASE` and `ENFORCE` have no PINT code: a pledge is
/// the possession passing to the bank (`TRANSFER`), a release passing back (`TRANSFER`), an enforcement
/// the bank taking title (`ENDORSE_TO_ORDER` to itself). The original action and the loan ride along in
/// `x-ebl-action` and `x-ebl-loan`, which open-schema receivers keep.
fn pint_transactions(
    history: &[Exported<'_>],
    registry: &ebl_core::Registry,
    platform: &str,
    to_order: bool,
) -> Vec<Value> {
    use ebl_core::Action;
    let mut walk = Walk::default();
    // A surrender received from another platform: its answer goes to the party there.
    let mut surrendered_abroad = None;
    let mut out = Vec::new();
    // Where the last send's transactions begin: a refused send took nothing away, so they go.
    let mut sent_from = None;
    for entry in history {
        let tx = entry.transaction;
        let signer = tx
            .signatures
            .first()
            .and_then(|s| registry.by_key(&s.signer))
            .map(|p| p.id);
        match &tx.body.action {
            Action::SendRefused { .. } => {
                out.truncate(sent_from.take().unwrap_or(out.len()));
                continue;
            }
            // The other platform's answers are this ledger's records, not PINT transactions.
            Action::SentOut { .. } | Action::SendDisputed { .. } => continue,
            // Signed by a member's node, not a party: the foreign history before it is exported as
            // the sending platforms signed it (see `imported_chain`); the import itself moved nothing.
            Action::Import {
                carrier: c,
                surrendered_by: from,
                ..
            } => {
                walk.carrier = Some(*c);
                surrendered_abroad = from.as_ref();
                continue;
            }
            _ => {}
        }
        let Some(actor) = signer else { continue };
        // What goes to a party on another platform: a send, or the answer to a surrender from there.
        let abroad = match (&tx.body.action, surrendered_abroad) {
            (Action::SendOut { to, .. }, _) => {
                // A to-order bill leaves endorsed to its recipient, so that title rests with the
                // possessor there; then possession passes.
                sent_from = Some(out.len());
                let codes = if to_order {
                    vec!["ENDORSE_TO_ORDER", "TRANSFER"]
                } else {
                    vec!["TRANSFER"]
                };
                Some((codes, to))
            }
            // The rejection is a send too: refused, it took nothing away.
            (Action::RejectSurrender { .. }, Some(from)) => {
                sent_from = Some(out.len());
                Some((vec!["SREJ"], from))
            }
            (Action::AcceptSurrender { .. }, Some(from)) => Some((vec!["SACC"], from)),
            _ => None,
        };
        if let Some((codes, to)) = abroad {
            for code in codes {
                out.push(serde_json::json!({
                    "actionCode": code,
                    "actionDateTime": date_time(entry.time_ms),
                    "actor": party_object(registry, actor, platform),
                    "recipient": foreign_object(to),
                }));
            }
            continue;
        }
        let Some((code, recipient, extension)) = walk.step(&tx.body.action, actor) else {
            continue;
        };
        let mut t = serde_json::json!({
            "actionCode": code,
            "actionDateTime": date_time(entry.time_ms),
            "actor": party_object(registry, actor, platform),
        });
        if let Some(r) = recipient {
            t["recipient"] = party_object(registry, r, platform);
        }
        if let Some((ours, loan)) = extension {
            t["x-ebl-action"] = ours.into();
            if let Some(loan) = loan {
                t["x-ebl-loan"] = serde_json::json!({
                    "reference": loan.reference,
                    "amountMinor": loan.amount_minor,
                    "currency": loan.currency,
                });
            }
        }
        out.push(t);
    }
    out
}

/// What the export remembers of the history so far, to name the recipient of an action that names
/// none (a refusal goes back to the sender, a release to the pledgor, a surrender to the carrier).
#[derive(Debug, Default)]
struct Walk {
    pledgor: Option<ebl_core::PartyId>,
    surrendered_by: Option<ebl_core::PartyId>,
    carrier: Option<ebl_core::PartyId>,
    /// Who sent the last transfer or endorsement: a refusal hands the bill back to them.
    sender: Option<ebl_core::PartyId>,
}

/// One PINT transaction of ours: its code, its recipient, and our extension (the original action and
/// a pledge's loan).
type Step = (
    &'static str,
    Option<ebl_core::PartyId>,
    Option<(&'static str, Option<ebl_core::Loan>)>,
);

impl Walk {
    /// The PINT transaction `action` by `actor` maps to; `None` for what is not a move of the bill.
    fn step(&mut self, action: &ebl_core::Action, actor: ebl_core::PartyId) -> Option<Step> {
        use ebl_core::Action;
        let step = match action {
            Action::Issue { issue_to, .. } => {
                self.carrier = Some(actor);
                ("ISSUE", Some(*issue_to), None)
            }
            Action::Transfer { to, .. } => {
                self.sender = Some(actor);
                ("TRANSFER", Some(*to), None)
            }
            Action::Endorse { to, .. } => {
                self.sender = Some(actor);
                ("ENDORSE", Some(*to), None)
            }
            Action::EndorseToOrder { to, .. } => {
                self.sender = Some(actor);
                ("ENDORSE_TO_ORDER", Some(*to), None)
            }
            // PINT has no refusal: the bill goes back to its sender, marked as our extension.
            Action::Refuse { .. } => ("TRANSFER", self.sender, Some(("REFUSE", None))),
            Action::AcceptSurrenderToPaper { .. } => {
                ("SACC", self.surrendered_by, Some(("SWITCH_TO_PAPER", None)))
            }
            Action::BlankEndorse { .. } => ("BLANK_ENDORSE", None, None),
            Action::Sign { .. } => ("SIGN", None, None),
            Action::SurrenderForDelivery { .. } => {
                self.surrendered_by = Some(actor);
                ("SURRENDER_FOR_DELIVERY", self.carrier, None)
            }
            Action::SurrenderForAmendment { .. } => {
                self.surrendered_by = Some(actor);
                ("SURRENDER_FOR_AMENDMENT", self.carrier, None)
            }
            Action::AcceptSurrender { .. } => ("SACC", self.surrendered_by, None),
            Action::RejectSurrender { .. } => ("SREJ", self.surrendered_by, None),
            Action::Pledge { pledgee, loan, .. } => {
                self.pledgor = Some(actor);
                (
                    "TRANSFER",
                    Some(*pledgee),
                    Some(("PLEDGE", Some(loan.clone()))),
                )
            }
            Action::Release { .. } => ("TRANSFER", self.pledgor, Some(("RELEASE", None))),
            Action::Enforce { .. } => ("ENDORSE_TO_ORDER", Some(actor), Some(("ENFORCE", None))),
            Action::Import { .. }
            | Action::RegisterParty { .. }
            | Action::RotateKey { .. }
            | Action::RevokeParty { .. }
            | Action::UpdateParty { .. }
            | Action::RecoverKey { .. }
            | Action::AddMember { .. }
            | Action::RemoveMember { .. }
            | Action::SetThreshold { .. }
            | Action::ScheduleFormat { .. }
            | Action::SendOut { .. }
            | Action::SentOut { .. }
            | Action::SendRefused { .. }
            | Action::SendDisputed { .. } => return None,
        };
        Some(step)
    }
}

/// The transfer chain of the envelope a bill was imported with, as the other platforms signed it.
fn imported_chain(history: &[Exported<'_>]) -> Option<Vec<String>> {
    let ebl_core::Action::Import { envelope, .. } = &history.first()?.transaction.body.action
    else {
        return None;
    };
    let envelope: Value = serde_json::from_str(envelope).ok()?;
    envelope
        .get("envelopeTransferChain")?
        .as_array()?
        .iter()
        .map(|e| e.as_str().map(str::to_owned))
        .collect()
}

/// A bill's history as a PINT `EblEnvelope`, signed by this platform's key: the first entry carries
/// the issuance (with the issuance manifest), the second everything after it. A bill imported from
/// another platform keeps the chain it arrived with, signed by the platforms before us, and this
/// platform's entry links to its last one.
pub fn export_envelope(
    document: &ebl_core::Document,
    history: &[Exported<'_>],
    registry: &ebl_core::Registry,
    platform: &str,
    key: &impl JwsSigner,
) -> Value {
    let checksum = document.checksum().to_hex();
    let transactions = pint_transactions(history, registry, platform, document.facts().is_to_order);
    if let Some(mut chain) = imported_chain(history) {
        if let (false, Some(last)) = (transactions.is_empty(), chain.last()) {
            let previous = Hash::of(last.as_bytes()).to_hex();
            chain.push(sign_jws(
                key,
                &serde_json::json!({
                    "eblPlatform": platform,
                    "previousEnvelopeTransferChainEntrySignedContentChecksum": previous,
                    "transactions": transactions,
                    "transportDocumentChecksum": checksum,
                }),
            ));
        }
        return signed_envelope(document, chain, carried_documents(history), key);
    }
    let (issue, rest) = transactions
        .split_first()
        .map_or((Vec::new(), Vec::new()), |(i, r)| {
            (vec![i.clone()], r.to_vec())
        });
    let issue_to = issue
        .first()
        .and_then(|t| t.get("recipient"))
        .cloned()
        .unwrap_or(Value::Null);
    let issue_to_checksum = jcs::canonicalize(&issue_to)
        .map(|c| Hash::of(c.as_bytes()).to_hex())
        .unwrap_or_default();
    let issuance_manifest = sign_jws(
        key,
        &serde_json::json!({ "documentChecksum": checksum, "issueToChecksum": issue_to_checksum }),
    );
    let mut chain = vec![sign_jws(
        key,
        &serde_json::json!({
            "eblPlatform": platform,
            "issuanceManifestSignedContent": issuance_manifest,
            "transactions": issue,
            "transportDocumentChecksum": checksum,
        }),
    )];
    if !rest.is_empty() {
        let previous = Hash::of(chain[0].as_bytes()).to_hex();
        chain.push(sign_jws(
            key,
            &serde_json::json!({
                "eblPlatform": platform,
                "previousEnvelopeTransferChainEntrySignedContentChecksum": previous,
                "transactions": rest,
                "transportDocumentChecksum": checksum,
            }),
        ));
    }
    signed_envelope(document, chain, Carried::default(), key)
}

/// The additional documents a bill imported from another platform arrived with: it leaves with them,
/// each named in our manifest as the manifest it arrived under named it, so the next platform asks for
/// them. The carrier's visualisation stays `eBLVisualisationByCarrier` and every document keeps its
/// name, size and media type (issue 33: the visualisation went out as a supporting document and every
/// media type as `application/octet-stream`).
#[derive(Debug, Clone, Default, PartialEq)]
struct Carried {
    visualisation: Option<Value>,
    supporting: Vec<Value>,
}

fn carried_documents(history: &[Exported<'_>]) -> Carried {
    let Some(ebl_core::Action::Import { envelope, .. }) =
        history.first().map(|h| &h.transaction.body.action)
    else {
        return Carried::default();
    };
    let Some(manifest) = crate::envelope::accepted_manifest(envelope) else {
        return Carried::default();
    };
    Carried {
        visualisation: manifest
            .get("eBLVisualisationByCarrier")
            .filter(|v| v.is_object())
            .cloned(),
        supporting: match manifest.get("supportingDocuments") {
            Some(Value::Array(documents)) => documents
                .iter()
                .filter(|d| d.is_object())
                .cloned()
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// The envelope around a transfer chain, with this platform's manifest naming its last entry.
fn signed_envelope(
    document: &ebl_core::Document,
    chain: Vec<String>,
    documents: Carried,
    key: &impl JwsSigner,
) -> Value {
    let checksum = document.checksum().to_hex();
    let last = chain
        .last()
        .map(|e| Hash::of(e.as_bytes()).to_hex())
        .unwrap_or_default();
    let mut manifest = serde_json::json!({
        "transportDocumentChecksum": checksum,
        "lastEnvelopeTransferChainEntrySignedContentChecksum": last,
        "supportingDocuments": documents.supporting,
    });
    if let (Some(visualisation), Value::Object(fields)) = (documents.visualisation, &mut manifest) {
        fields.insert("eBLVisualisationByCarrier".into(), visualisation);
    }
    let manifest = sign_jws(key, &manifest);
    serde_json::json!({
        "transportDocument": document.to_value(),
        "envelopeManifestSignedContent": manifest,
        "envelopeTransferChain": chain,
    })
}
