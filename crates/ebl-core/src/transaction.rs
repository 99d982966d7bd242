//! Transactions: the genesis, the unsigned body every action shares, its signatures, and its id.

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::bill::Title;
use crate::codec;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::foreign::ForeignParty;
use crate::genesis::Member;
use crate::hash::Hash;
use crate::keys::{sign_in_context, verify_in_context, PartyKey, SignatureBytes};
use crate::limits::{
    ENVELOPE_BYTES_MAX, LOAN_REFERENCE_BYTES_MAX, PAPER_BILL_NUMBER_BYTES_MAX,
    PINT_ANSWER_BYTES_MAX, REPLACED_BILLS_MAX, REPLACEMENT_BILLS_MAX, SIGNATURES_MAX,
    TRANSACTION_BYTES_MAX,
};
use crate::party::{check_text, PartyId, PartyProfile};

/// The id of a chain: the hash of its genesis.
pub type ChainId = Hash;
/// The id of a transaction: the hash of its unsigned body, so adding or re-making signatures never changes it.
pub type TxId = Hash;
/// The id of a bill: the id of its `ISSUE` transaction.
pub type BillId = Hash;

/// Context strings that precede every signed message; each names what the signature is for.
pub const TRANSACTION_CONTEXT: &[u8] = b"ebl/transaction/v1\0";

/// Version of the transaction format; a change to the encoding needs a new one. Version 2: a consortium
/// genesis (members, threshold, platform code), governance and self-rotation actions, a transaction's
/// expiry, carrier codes on bills; the rest of a bill's life: refusal, split and combine replacements,
/// switch to paper. Version 3: bills sent to other platforms over PINT (`SEND_OUT` and the node's
/// record of the answer), and a bill that comes back linked to its earlier life here. Version 4: a
/// surrender received from another platform (`IMPORT` names who surrendered it), which the carrier here
/// accepts or rejects (a rejection goes back over PINT). Version 5: member nodes sign each block header
/// bound to the registry head before the block (`ebl/block/v2`), so a certificate proves the registry a
/// verifier replayed. Version 6: a block is final once a finality quorum of member nodes signed it,
/// apart from the governance threshold: ⌊(n+f)/2⌋+1 of n, for f lying nodes tolerated, so any two
/// certificates at one height share an honest signer (see [`crate::certificate::finality_quorum`]).
/// Version 7: a bill's status statement is signed by the finality quorum of member nodes, each bound
/// to the registry head (`ebl/statement/v2`), where one member's node signed it before (see
/// [`crate::statement`]). Version 8: the registry is committed to one Merkle root (the consortium and
/// every party's entry, see [`crate::commitment`]) and the member nodes' statement signatures cover it
/// (`ebl/statement/v3`), so a bank's bundle proves only the parties its bill names, whatever the number
/// of parties admitted.
/// From version 4 on, governance moves a chain to the next format at a height (`SCHEDULE_FORMAT`),
/// and each block keeps the format of its height (see [`crate::format`]).
pub const FORMAT_VERSION: u16 = 8;

/// Why a holder surrenders a bill for amendment (DCSA codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmendmentReason {
    /// Switch to paper.
    #[serde(rename = "SWTP")]
    SwitchToPaper,
    /// Change of destination.
    #[serde(rename = "COD")]
    ChangeOfDestination,
    /// Switch bill.
    #[serde(rename = "SWI")]
    SwitchBill,
}

impl AmendmentReason {
    /// The DCSA code (`SWTP`, `COD`, `SWI`).
    pub fn code(self) -> &'static str {
        match self {
            AmendmentReason::SwitchToPaper => "SWTP",
            AmendmentReason::ChangeOfDestination => "COD",
            AmendmentReason::SwitchBill => "SWI",
        }
    }

    /// The reason with the DCSA code `code`, if there is one.
    pub fn from_code(code: &str) -> Option<AmendmentReason> {
        match code {
            "SWTP" => Some(AmendmentReason::SwitchToPaper),
            "COD" => Some(AmendmentReason::ChangeOfDestination),
            "SWI" => Some(AmendmentReason::SwitchBill),
            _ => None,
        }
    }
}

/// What a replacement bill replaces: the void bills (one, or several for a combine) and how many bills
/// replace them together (one, or several for a split). Every bill of one replacement names the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The void bills replaced (one, or several for a combine).
    pub bills: Vec<BillId>,
    /// How many bills replace them together (one, or several for a split).
    pub count: u16,
}

impl Replacement {
    /// One bill replaced by one.
    pub fn of(bill: BillId) -> Replacement {
        Replacement {
            bills: vec![bill],
            count: 1,
        }
    }

    fn check(&self) -> Result<()> {
        let mut sorted = self.bills.clone();
        sorted.sort();
        sorted.dedup();
        if self.bills.is_empty()
            || sorted.len() != self.bills.len()
            || self.bills.len() > REPLACED_BILLS_MAX
            || self.count == 0
            || self.count > REPLACEMENT_BILLS_MAX
        {
            return Err(Error::MalformedReplacement {
                bills: self.bills.len(),
                count: self.count,
            });
        }
        Ok(())
    }
}

/// The paper bill that replaces an electronic one switched to paper (`SWTP`), as the carrier notes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperBill {
    /// The paper bill's number.
    pub number: String,
    /// The paper bill's issue date, `YYYY-MM-DD`.
    pub issued_on: String,
}

impl PaperBill {
    fn check(&self) -> Result<()> {
        check_text(
            "paper bill number",
            &self.number,
            PAPER_BILL_NUMBER_BYTES_MAX,
        )?;
        let d = self.issued_on.as_bytes();
        let digits = |r: std::ops::Range<usize>| d[r].iter().all(u8::is_ascii_digit);
        let shaped = d.len() == 10
            && d[4] == b'-'
            && d[7] == b'-'
            && digits(0..4)
            && digits(5..7)
            && digits(8..10);
        let month = self.issued_on.get(5..7).and_then(|m| m.parse::<u8>().ok());
        let day = self.issued_on.get(8..10).and_then(|m| m.parse::<u8>().ok());
        if !shaped
            || !month.is_some_and(|m| (1..=12).contains(&m))
            || !day.is_some_and(|d| (1..=31).contains(&d))
        {
            return Err(Error::WrongFieldType {
                field: "paper bill issue date",
                expected: "a date as YYYY-MM-DD",
            });
        }
        Ok(())
    }
}

/// The loan a pledge secures. The amount is in the currency's minor units (cents), so it is exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loan {
    /// The bank's loan reference.
    pub reference: String,
    /// The amount, in the currency's minor units.
    pub amount_minor: u64,
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
}

impl Loan {
    fn check(&self) -> Result<()> {
        check_text("loan reference", &self.reference, LOAN_REFERENCE_BYTES_MAX)?;
        if self.amount_minor == 0 {
            return Err(Error::ZeroAmount);
        }
        let c = self.currency.as_bytes();
        if c.len() != 3 || !c.iter().all(u8::is_ascii_uppercase) {
            return Err(Error::InvalidCurrency {
                code: self.currency.clone(),
            });
        }
        Ok(())
    }
}

/// Everything a transaction can do. Bill actions use DCSA PINT 3.0 names; `PLEDGE`, `RELEASE` and `ENFORCE`
/// are this ledger's financing extension; the rest change the party registry or the consortium. Variant
/// indices are part of the canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// A carrier creates a bill; `issue_to` becomes its possessor (and, if to order, its endorsee).
    Issue {
        /// The transport document, in RFC 8785 form.
        document: Document,
        /// The first possessor.
        issue_to: PartyId,
        /// The shipper, as a party here.
        shipper: PartyId,
        /// For a straight bill: the consignee, with whom title rests.
        consignee: Option<PartyId>,
        /// For a replacement after an accepted amendment: the void bills it replaces, and how many bills
        /// replace them together.
        replaces: Option<Replacement>,
    },
    /// The possessor hands the bill to another party.
    Transfer {
        /// The bill acted on.
        bill: BillId,
        /// The new possessor.
        to: PartyId,
    },
    /// Names an endorsee who may not endorse further.
    Endorse {
        /// The bill acted on.
        bill: BillId,
        /// The new endorsee.
        to: PartyId,
    },
    /// Names an endorsee who may endorse further.
    EndorseToOrder {
        /// The bill acted on.
        bill: BillId,
        /// The new endorsee.
        to: PartyId,
    },
    /// No endorsee: the bill becomes a bearer document.
    BlankEndorse {
        /// The bill acted on.
        bill: BillId,
    },
    /// The possessor signs the bill, as DCSA's `SIGN`: nothing moves.
    Sign {
        /// The bill acted on.
        bill: BillId,
    },
    /// The holder with title surrenders the bill to its carrier for delivery of the cargo.
    SurrenderForDelivery {
        /// The bill acted on.
        bill: BillId,
    },
    /// The holder with title surrenders the bill to its carrier for amendment.
    SurrenderForAmendment {
        /// The bill acted on.
        bill: BillId,
        /// Why.
        reason: AmendmentReason,
    },
    /// The carrier accepts the pending surrender (`SACC`).
    #[serde(rename = "SACC")]
    AcceptSurrender {
        /// The bill acted on.
        bill: BillId,
    },
    /// The carrier rejects the pending surrender (`SREJ`).
    #[serde(rename = "SREJ")]
    RejectSurrender {
        /// The bill acted on.
        bill: BillId,
    },
    /// The holder pledges the bill to a bank, which co-signs: the bank holds it as security.
    Pledge {
        /// The bill acted on.
        bill: BillId,
        /// The bank.
        pledgee: PartyId,
        /// The loan the pledge secures.
        loan: Loan,
    },
    /// The pledgee bank releases the pledge: the pledgor holds the bill again.
    Release {
        /// The bill acted on.
        bill: BillId,
    },
    /// The pledgee bank enforces the pledge: title passes to it.
    Enforce {
        /// The bill acted on.
        bill: BillId,
    },
    /// Governance admits a party.
    RegisterParty {
        /// The party's key, whose hash is its id.
        key: PartyKey,
        /// Its name, roles and identifiers.
        profile: PartyProfile,
    },
    /// A party replaces its own key: signed by its current key and by the new one.
    RotateKey {
        /// The party.
        party: PartyId,
        /// Its new key.
        new_key: PartyKey,
    },
    /// Governance revokes a party.
    RevokeParty {
        /// The party.
        party: PartyId,
    },
    /// A bill arriving from another platform over DCSA PINT. This ledger's node verified the envelope and
    /// signs the import; the envelope rides along verbatim (RFC 8785 form), so anyone holding the sending
    /// platforms' keys can re-verify the foreign history later. The bill's document is the envelope's
    /// `transportDocument`.
    Import {
        /// The PINT envelope, verbatim in RFC 8785 form.
        envelope: String,
        /// The issuing carrier, hosted here.
        carrier: PartyId,
        /// The party here the envelope hands the bill to.
        possessor: PartyId,
        /// Where title rests on arrival.
        title: Title,
        /// For an envelope whose last transaction surrenders the bill for delivery to the carrier hosted
        /// here: the party on the other platform that surrendered it. The bill arrives pending delivery,
        /// held by the carrier (the possessor) until it accepts or rejects the surrender.
        surrendered_by: Option<ForeignParty>,
    },
    /// Governance changes a party's name, roles or identifiers.
    UpdateParty {
        /// The party.
        party: PartyId,
        /// Its new name, roles and identifiers.
        profile: PartyProfile,
    },
    /// Governance gives a party that lost its key a new one; recorded as a recovery, and shown as a
    /// warning wherever the recovered key acts afterwards.
    RecoverKey {
        /// The party that lost its key.
        party: PartyId,
        /// Its new key.
        new_key: PartyKey,
    },
    /// Governance admits a member organisation.
    AddMember {
        /// The new member: name, admin key, node key.
        member: Member,
    },
    /// Governance removes a member, named by its admin key.
    RemoveMember {
        /// The member's admin key.
        admin: PartyKey,
    },
    /// Governance changes t, the number of admin co-signatures a governance change needs.
    SetThreshold {
        /// The new threshold, 1 to the number of members.
        threshold: u16,
    },
    /// The recipient of the last transfer or endorsement refuses it, as the very next action: possession
    /// and title return to where they were (TradeTrust's `rejectTransfer`).
    Refuse {
        /// The bill acted on.
        bill: BillId,
    },
    /// The carrier accepts a surrender for amendment to switch to paper (`SACC` on `SWTP`), noting the
    /// paper bill that replaces this one: its life on the ledger ends.
    #[serde(rename = "SACC_TO_PAPER")]
    AcceptSurrenderToPaper {
        /// The bill acted on.
        bill: BillId,
        /// The paper bill that replaces it.
        paper: PaperBill,
    },
    /// The holder sends the bill to a party on another platform over DCSA PINT. The bill is frozen
    /// until that platform's signed answer is recorded by one of the three actions below.
    SendOut {
        /// The bill acted on.
        bill: BillId,
        /// The party on the other platform.
        to: ForeignParty,
    },
    /// A member's node records that the receiving platform took the bill (`RECE` or `DUPE`): its life
    /// here ends. `entry` is the last envelope transfer chain entry this platform signed (what a bill
    /// coming back must carry), `answer` the receiver's signed answer (a compact JWS).
    SentOut {
        /// The bill acted on.
        bill: BillId,
        /// Our last envelope transfer chain entry, a compact JWS.
        entry: String,
        /// The receiver's signed answer, a compact JWS.
        answer: String,
    },
    /// A member's node records that the receiving platform refused the bill (`BENV` or `BSIG`): the
    /// holder has it again, and the answer says why.
    SendRefused {
        /// The bill acted on.
        bill: BillId,
        /// The receiver's signed answer, a compact JWS.
        answer: String,
    },
    /// A member's node records that the receiving platform disputes the bill (`DISE`): it stays frozen
    /// for people to resolve.
    SendDisputed {
        /// The bill acted on.
        bill: BillId,
        /// The receiver's signed answer, a compact JWS.
        answer: String,
    },
    /// Governance moves the chain to its next format from a height: blocks below it keep the old
    /// rules and bytes, blocks from it are written in the new ones. Added at the end of the actions, so
    /// that every earlier action keeps its bytes; a format-4 chain can schedule it.
    ScheduleFormat {
        /// The next chain format.
        format: u16,
        /// The first block written in it: above the block that schedules it.
        height: u64,
    },
}

impl Action {
    /// The action code shown to people and in the API (PINT's where PINT has one).
    pub fn code(&self) -> &'static str {
        match self {
            Action::Issue { .. } => "ISSUE",
            Action::Transfer { .. } => "TRANSFER",
            Action::Endorse { .. } => "ENDORSE",
            Action::EndorseToOrder { .. } => "ENDORSE_TO_ORDER",
            Action::BlankEndorse { .. } => "BLANK_ENDORSE",
            Action::Sign { .. } => "SIGN",
            Action::SurrenderForDelivery { .. } => "SURRENDER_FOR_DELIVERY",
            Action::SurrenderForAmendment { .. } => "SURRENDER_FOR_AMENDMENT",
            Action::AcceptSurrender { .. } => "SACC",
            Action::RejectSurrender { .. } => "SREJ",
            Action::Pledge { .. } => "PLEDGE",
            Action::Release { .. } => "RELEASE",
            Action::Enforce { .. } => "ENFORCE",
            Action::RegisterParty { .. } => "REGISTER_PARTY",
            Action::RotateKey { .. } => "ROTATE_KEY",
            Action::RevokeParty { .. } => "REVOKE_PARTY",
            Action::Import { .. } => "IMPORT",
            Action::UpdateParty { .. } => "UPDATE_PARTY",
            Action::RecoverKey { .. } => "RECOVER_KEY",
            Action::AddMember { .. } => "ADD_MEMBER",
            Action::RemoveMember { .. } => "REMOVE_MEMBER",
            Action::SetThreshold { .. } => "SET_THRESHOLD",
            Action::Refuse { .. } => "REFUSE",
            Action::AcceptSurrenderToPaper { .. } => "SACC",
            Action::SendOut { .. } => "SEND_OUT",
            Action::SentOut { .. } => "SENT_OUT",
            Action::SendRefused { .. } => "SEND_REFUSED",
            Action::SendDisputed { .. } => "SEND_DISPUTED",
            Action::ScheduleFormat { .. } => "SCHEDULE_FORMAT",
        }
    }

    /// The bill an action acts on; `None` for `ISSUE` and `IMPORT` (the bill is the transaction) and
    /// registry actions.
    pub fn bill(&self) -> Option<BillId> {
        match self {
            Action::Transfer { bill, .. }
            | Action::Endorse { bill, .. }
            | Action::EndorseToOrder { bill, .. }
            | Action::BlankEndorse { bill }
            | Action::Sign { bill }
            | Action::SurrenderForDelivery { bill }
            | Action::SurrenderForAmendment { bill, .. }
            | Action::AcceptSurrender { bill }
            | Action::RejectSurrender { bill }
            | Action::Pledge { bill, .. }
            | Action::Release { bill }
            | Action::Enforce { bill }
            | Action::Refuse { bill }
            | Action::AcceptSurrenderToPaper { bill, .. }
            | Action::SendOut { bill, .. }
            | Action::SentOut { bill, .. }
            | Action::SendRefused { bill, .. }
            | Action::SendDisputed { bill, .. } => Some(*bill),
            Action::Issue { .. } | Action::Import { .. } => None,
            Action::RegisterParty { .. }
            | Action::RotateKey { .. }
            | Action::RevokeParty { .. }
            | Action::UpdateParty { .. }
            | Action::RecoverKey { .. }
            | Action::AddMember { .. }
            | Action::RemoveMember { .. }
            | Action::SetThreshold { .. }
            | Action::ScheduleFormat { .. } => None,
        }
    }

    /// Whether the action creates a bill (whose id is then the transaction's id).
    pub fn creates_bill(&self) -> bool {
        matches!(self, Action::Issue { .. } | Action::Import { .. })
    }

    /// The transport document a bill-creating action carries.
    pub fn document(&self) -> Option<Document> {
        match self {
            Action::Issue { document, .. } => Some(document.clone()),
            // Checked when the import was applied, so it reads again.
            Action::Import { envelope, .. } => Document::from_envelope(envelope).ok(),
            _ => None,
        }
    }

    /// Whether the action records another platform's answer to a `SEND_OUT`: signed by a member's
    /// node, which checked the answer's signature against that platform's keys.
    pub fn is_send_outcome(&self) -> bool {
        matches!(
            self,
            Action::SentOut { .. } | Action::SendRefused { .. } | Action::SendDisputed { .. }
        )
    }

    /// The party a registry action registers or changes; `None` for the consortium's actions and for
    /// bill actions.
    pub fn registry_party(&self) -> Option<PartyId> {
        match self {
            Action::RegisterParty { key, .. } => Some(PartyId::from(*key)),
            Action::RotateKey { party, .. }
            | Action::RevokeParty { party }
            | Action::UpdateParty { party, .. }
            | Action::RecoverKey { party, .. } => Some(*party),
            _ => None,
        }
    }

    /// The parties a bill action names (beside its signers): whom it issues, transfers, endorses or
    /// pledges to, whom an import names. The registry is asked about each when the action applies.
    pub fn parties_named(&self) -> Vec<PartyId> {
        match self {
            Action::Issue {
                issue_to,
                shipper,
                consignee,
                ..
            } => [Some(*issue_to), Some(*shipper), *consignee]
                .into_iter()
                .flatten()
                .collect(),
            Action::Transfer { to, .. }
            | Action::Endorse { to, .. }
            | Action::EndorseToOrder { to, .. } => vec![*to],
            Action::Pledge { pledgee, .. } => vec![*pledgee],
            Action::Import {
                carrier, possessor, ..
            } => vec![*carrier, *possessor],
            _ => Vec::new(),
        }
    }

    /// Whether the action changes the consortium (members, threshold, formats) rather than a party.
    pub fn is_consortium(&self) -> bool {
        self.is_registry() && self.registry_party().is_none()
    }

    /// Whether the action changes the registry (parties or members) and so extends the registry's head.
    pub fn is_registry(&self) -> bool {
        matches!(self, Action::RotateKey { .. }) || self.is_governance()
    }

    /// Whether the action needs t member-admin co-signatures.
    pub fn is_governance(&self) -> bool {
        matches!(
            self,
            Action::RegisterParty { .. }
                | Action::RevokeParty { .. }
                | Action::UpdateParty { .. }
                | Action::RecoverKey { .. }
                | Action::AddMember { .. }
                | Action::RemoveMember { .. }
                | Action::SetThreshold { .. }
                | Action::ScheduleFormat { .. }
        )
    }

    /// Rules that need no ledger state: field lengths, amounts, currencies.
    fn check_fields(&self) -> Result<()> {
        match self {
            Action::Pledge { loan, .. } => loan.check(),
            Action::RegisterParty { profile, .. } | Action::UpdateParty { profile, .. } => {
                profile.check()
            }
            Action::AddMember { member } => member.check(),
            Action::Issue {
                replaces: Some(r), ..
            } => r.check(),
            Action::AcceptSurrenderToPaper { paper, .. } => paper.check(),
            Action::SendOut { to, .. } => to.check(),
            Action::SentOut { entry, answer, .. } => {
                check_record("chain entry", entry, ENVELOPE_BYTES_MAX)?;
                check_record("answer", answer, PINT_ANSWER_BYTES_MAX)
            }
            Action::SendRefused { answer, .. } | Action::SendDisputed { answer, .. } => {
                check_record("answer", answer, PINT_ANSWER_BYTES_MAX)
            }
            Action::Import { envelope, .. } if envelope.len() > ENVELOPE_BYTES_MAX => {
                Err(Error::EnvelopeTooLarge {
                    len: envelope.len(),
                    max: ENVELOPE_BYTES_MAX,
                })
            }
            Action::Import {
                surrendered_by: Some(party),
                ..
            } => party.check(),
            _ => Ok(()),
        }
    }
}

/// A PINT record carried verbatim (a chain entry, a signed answer) is at most `max` bytes.
fn check_record(what: &'static str, text: &str, max: usize) -> Result<()> {
    if text.len() > max {
        return Err(Error::PintRecordTooLarge {
            what,
            len: text.len(),
            max,
        });
    }
    Ok(())
}

/// The unsigned body of a transaction; its hash is the transaction id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The chain it is for: a transaction signed for one chain is refused by every other.
    pub chain: ChainId,
    /// The head this extends: the bill's last transaction, or the registry's last change (the chain id
    /// before any); zero for `ISSUE`. A stale head is refused, which is both optimistic concurrency and
    /// replay protection.
    pub prev: Hash,
    /// The client's clock: recorded as data, never used for order (the node's block time is the order).
    pub time_ms: u64,
    /// The last block time at which this transaction may be ordered (a pledge offer's expiry); `None`
    /// for no limit. The ledger refuses it in any later block.
    pub valid_until_ms: Option<u64>,
    /// What it does.
    pub action: Action,
}

impl Transaction {
    /// The canonical bytes: what is hashed for the id and signed.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// The transaction id: the SHA-256 of the canonical bytes.
    pub fn id(&self) -> TxId {
        Hash::of(&self.encode())
    }

    /// Signs the body under the transaction context.
    pub fn sign(&self, key: &SigningKey) -> Signature {
        Signature {
            signer: PartyKey::of(key),
            signature: sign_in_context(
                key,
                TRANSACTION_CONTEXT,
                self.chain.as_bytes(),
                &self.encode(),
            ),
        }
    }

    /// Signs with each key in turn; most actions need one, `PLEDGE` two.
    pub fn signed_by(self, keys: &[&SigningKey]) -> SignedTransaction {
        let signatures = keys.iter().map(|k| self.sign(k)).collect();
        SignedTransaction {
            body: self,
            signatures,
        }
    }
}

/// One signature over a transaction body, with the key that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signing key.
    pub signer: PartyKey,
    /// Its signature over the body, in the transaction context.
    pub signature: SignatureBytes,
}

/// A transaction body with its signatures: what clients submit, nodes store and banks verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// What is signed.
    pub body: Transaction,
    /// One signature per signer, each key once.
    pub signatures: Vec<Signature>,
}

impl SignedTransaction {
    /// The id of the body.
    pub fn id(&self) -> TxId {
        self.body.id()
    }

    /// The canonical bytes of the whole signed transaction.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes with every structural rule: size, exact length, valid keys, canonical document, field limits.
    pub fn decode(bytes: &[u8]) -> Result<SignedTransaction> {
        let tx: SignedTransaction = codec::decode(bytes, TRANSACTION_BYTES_MAX)?;
        tx.check_structure()?;
        Ok(tx)
    }

    /// Adds a co-signature (a bank consenting to a pledge), replacing an earlier one by the same key.
    pub fn cosign(&mut self, key: &SigningKey) {
        let signature = self.body.sign(key);
        self.signatures.retain(|s| s.signer != signature.signer);
        self.signatures.push(signature);
    }

    /// Rules that need no ledger state: signature count and field values.
    pub fn check_structure(&self) -> Result<()> {
        if self.signatures.len() > SIGNATURES_MAX {
            return Err(Error::TooManySignatures {
                count: self.signatures.len(),
                max: SIGNATURES_MAX,
            });
        }
        self.body.action.check_fields()
    }

    /// Checks every signature with `verify_strict`. Stateless, so a node may run it before ordering.
    pub fn verify_signatures(&self) -> Result<()> {
        self.verified_id().map(|_| ())
    }

    /// Checks every signature and returns the transaction id, encoding the body once for both.
    pub fn verified_id(&self) -> Result<TxId> {
        self.check_structure()?;
        let body = self.body.encode();
        for s in &self.signatures {
            if !verify_in_context(
                &s.signer,
                TRANSACTION_CONTEXT,
                self.body.chain.as_bytes(),
                &body,
                &s.signature,
            ) {
                return Err(Error::BadSignature {
                    signer: s.signer.to_hex(),
                });
            }
        }
        Ok(Hash::of(&body))
    }
}
