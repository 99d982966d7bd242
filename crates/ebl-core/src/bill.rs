//! The bill state machine: who possesses a bill, who holds title, whether it is pledged or surrendered,
//! and the pure transition from one state to the next for every bill action.

use serde::{Deserialize, Serialize};

use crate::document::DocumentType;
use crate::error::{Error, Result};
use crate::foreign::ForeignParty;
use crate::hash::Hash;
use crate::party::{PartyId, Role};
use crate::registry::Registry;
use crate::transaction::{Action, AmendmentReason, BillId, Loan, PaperBill, Replacement, TxId};

/// To whose order the bill stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Title {
    /// A straight bill: title rests with the named consignee and cannot move.
    Straight {
        /// The consignee named in the document.
        consignee: PartyId,
    },
    /// To the order of the endorsee; `may_endorse` is false after a plain `ENDORSE`.
    Order {
        /// The party to whose order the bill stands.
        endorsee: PartyId,
        /// Whether the endorsee may endorse it on (false after a plain `ENDORSE`).
        may_endorse: bool,
    },
    /// Endorsed in blank: a bearer document, whoever possesses it holds title.
    Bearer,
}

/// A financing pledge in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    /// The bank that holds the bill as security.
    pub pledgee: PartyId,
    /// The holder that pledged it, to whom a release returns it.
    pub pledgor: PartyId,
    /// The loan the pledge secures.
    pub loan: Loan,
}

/// Where a bill is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Issued and in circulation: its possessor may act on it.
    Issued,
    /// Pledged to a bank, which holds it until it releases or enforces.
    Pledged(Pledge),
    /// Surrendered for delivery: the carrier holds it until it accepts or rejects.
    PendingDelivery {
        /// The holder that surrendered it, to whom a rejection returns it.
        surrendered_by: PartyId,
    },
    /// Surrendered for delivery by a party on another platform, received over PINT: the carrier here
    /// holds it until it accepts (accomplished) or rejects it (the bill goes back over PINT).
    PendingDeliveryFromAbroad {
        /// The party on the other platform that surrendered it.
        surrendered_by: ForeignParty,
    },
    /// Surrendered for amendment: the carrier holds it until it accepts (void, replaced) or rejects.
    PendingAmendment {
        /// The holder that surrendered it: the replacements are issued to it.
        surrendered_by: PartyId,
        /// Why it was surrendered.
        reason: AmendmentReason,
    },
    /// Surrendered for delivery and accepted: terminal.
    Accomplished,
    /// Surrendered for amendment and accepted: terminal. The carrier issues replacements, which name
    /// this bill, to the party that surrendered it.
    Void {
        /// The holder that surrendered it.
        surrendered_by: PartyId,
        /// The replacement bills issued so far, in ledger order.
        replaced_by: Vec<BillId>,
        /// From the first replacement on: the void bills replaced together and how many bills replace
        /// them; every later replacement must name the same.
        replacement: Option<Replacement>,
    },
    /// Surrendered to switch to paper and accepted: terminal. The bill is no longer an electronic record;
    /// the carrier noted the paper bill that replaces it.
    SwitchedToPaper {
        /// The holder that surrendered it.
        surrendered_by: PartyId,
        /// The paper bill the carrier issued in its place.
        paper: PaperBill,
    },
    /// Sent by its holder to a party on another platform: frozen until that platform's signed answer
    /// is recorded.
    SendingOut {
        /// The holder that sent it.
        sender: PartyId,
        /// The party on the other platform it is sent to.
        to: ForeignParty,
        /// The send is the carrier's rejection of a surrender from `to`: if the other platform refuses
        /// it, the surrender is pending here again.
        returns_surrender: bool,
    },
    /// Received by the other platform: terminal here. If the bill comes back, it is a new bill here
    /// that names this one as its earlier life, and its chain must carry `last_entry`.
    TransferredOut {
        /// The holder that sent it.
        sender: PartyId,
        /// The party on the other platform that received it.
        to: ForeignParty,
        /// SHA-256 of the last envelope transfer chain entry this platform signed for it.
        last_entry: Hash,
    },
    /// The other platform disputes the transfer (`DISE`): held, frozen, while people resolve it there.
    /// The node keeps offering it; the other platform's next signed answer other than `DISE` settles it
    /// (received: transferred out; refused: back to the sender).
    Disputed {
        /// The holder that sent it, to whom a refusal returns it.
        sender: PartyId,
        /// The party on the other platform it was sent to.
        to: ForeignParty,
        /// Whether the send is the carrier returning a rejected surrender (see `SendingOut`).
        returns_surrender: bool,
    },
}

impl Status {
    /// The state's name as the domain primer writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Issued => "ISSUED",
            Status::Pledged(_) => "PLEDGED",
            Status::PendingDelivery { .. } | Status::PendingDeliveryFromAbroad { .. } => {
                "PENDING_DELIVERY"
            }
            Status::PendingAmendment { .. } => "PENDING_AMENDMENT",
            Status::Accomplished => "ACCOMPLISHED",
            Status::Void { .. } => "VOID",
            Status::SwitchedToPaper { .. } => "SWITCHED_TO_PAPER",
            Status::SendingOut { .. } => "SENDING_OUT",
            Status::TransferredOut { .. } => "TRANSFERRED_OUT",
            Status::Disputed { .. } => "DISPUTED",
        }
    }

    /// Whether the bill accepts no further action here.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Status::Accomplished
                | Status::Void { .. }
                | Status::SwitchedToPaper { .. }
                | Status::TransferredOut { .. }
        )
    }

    /// A bill this platform offers to another until that platform's signed answer settles it: being
    /// sent, or disputed (asked again until the dispute is resolved there).
    pub fn awaits_answer(&self) -> bool {
        matches!(self, Status::SendingOut { .. } | Status::Disputed { .. })
    }

    /// A bill whose reference has passed on: replaced, or taken by another platform (so the same
    /// reference may arrive here again as a new bill).
    pub fn has_passed_on(&self) -> bool {
        self.is_replaced() || matches!(self, Status::TransferredOut { .. })
    }

    /// A void bill whose replacements are all issued: its reference has passed on.
    pub fn is_replaced(&self) -> bool {
        matches!(self, Status::Void { replaced_by, .. } if !replaced_by.is_empty())
    }
}

/// The current state of one bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    /// The bill's id: the id of its `ISSUE` (or `IMPORT`) transaction.
    pub id: BillId,
    /// The last transaction of this bill: the next one must name it as `prev`.
    pub head: TxId,
    /// How many transactions the bill has, `ISSUE` included.
    pub transactions: u32,
    /// The issuing carrier, which answers surrenders.
    pub carrier: PartyId,
    /// The document's carrier code (`SMDG:MSC`): the reference is unique under it.
    pub carrier_code: String,
    /// The transport document reference, unique under `carrier_code`.
    pub reference: String,
    /// SHA-256 of the document in RFC 8785 form, as issued.
    pub document_checksum: Hash,
    /// A bill of lading or a sea waybill.
    pub document_type: DocumentType,
    /// To order (negotiable), as opposed to straight.
    pub negotiable: bool,
    /// The shipper; for a bill imported from another platform (whose shipper is not a party here), the
    /// local party it arrived to.
    pub shipper: PartyId,
    /// Who holds the bill now.
    pub possessor: PartyId,
    /// Where title rests.
    pub title: Title,
    /// Where the bill is in its life.
    pub status: Status,
    /// The void bills this bill replaces (empty for a first issue).
    pub replaces: Vec<BillId>,
    /// Set by a transfer or endorsement until the next action: what its recipient's refusal restores.
    pub refusable: Option<Refusable>,
    /// For a bill that came back from another platform: the bill it was here before it left.
    pub earlier: Option<BillId>,
}

/// The state before the last transfer or endorsement, which its recipient may refuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusable {
    /// The party that received the transfer or endorsement and may refuse it.
    pub recipient: PartyId,
    /// Who possessed the bill before it.
    pub possessor: PartyId,
    /// Where title rested before it.
    pub title: Title,
}

impl Bill {
    /// Whether `party`, as possessor, holds title: may surrender, pledge or endorse.
    pub fn holds_title(&self, party: PartyId) -> bool {
        match &self.title {
            Title::Straight { consignee } => party == *consignee || party == self.shipper,
            Title::Order { endorsee, .. } => party == *endorsee,
            Title::Bearer => true,
        }
    }

    /// The pledge in force, if the bill is pledged.
    pub fn pledge(&self) -> Option<&Pledge> {
        match &self.status {
            Status::Pledged(p) => Some(p),
            _ => None,
        }
    }

    /// Every party with a part in the bill now: carrier, shipper, possessor, endorsee or consignee, pledgee.
    pub fn current_parties(&self) -> Vec<PartyId> {
        let mut parties = vec![self.carrier, self.shipper, self.possessor];
        match &self.title {
            Title::Straight { consignee } => parties.push(*consignee),
            Title::Order { endorsee, .. } => parties.push(*endorsee),
            Title::Bearer => {}
        }
        match &self.status {
            Status::Pledged(p) => parties.extend([p.pledgee, p.pledgor]),
            Status::PendingDelivery { surrendered_by }
            | Status::PendingAmendment { surrendered_by, .. }
            | Status::Void { surrendered_by, .. }
            | Status::SwitchedToPaper { surrendered_by, .. } => parties.push(*surrendered_by),
            Status::SendingOut { sender, .. }
            | Status::TransferredOut { sender, .. }
            | Status::Disputed { sender, .. } => parties.push(*sender),
            _ => {}
        }
        parties.sort();
        parties.dedup();
        parties
    }
}

/// The one signer of a single-signature action.
pub(crate) fn sole_signer(signers: &[PartyId], who: &'static str) -> Result<PartyId> {
    match signers {
        [] => Err(Error::MissingSignature { who }),
        [one] => Ok(*one),
        [_, extra, ..] => Err(Error::UnexpectedSigner { party: *extra }),
    }
}

/// Checks that `party` may receive a bill: registered and not revoked.
fn recipient(registry: &Registry, party: PartyId) -> Result<()> {
    registry.active_party(party).map(|_| ())
}

/// Applies a bill action (anything but `ISSUE`) to a bill, returning the next state or the rule it breaks.
/// `signers` are the parties whose keys signed, already resolved and checked against the registry.
///
/// Long by nature: the bill's state machine is this one match, an arm per action, so that every rule
/// of a bill's life can be read in one place and the compiler asks, for each new action, what it does.
pub fn transition(
    bill: &Bill,
    action: &Action,
    signers: &[PartyId],
    registry: &Registry,
) -> Result<Bill> {
    if bill.status.is_terminal() {
        return Err(Error::Terminal {
            status: bill.status.name(),
        });
    }
    // While being sent, or disputed, nothing acts but the node recording the other platform's answer;
    // while pledged only the pledgee acts; while a surrender is pending only the carrier answers.
    match (&bill.status, action) {
        (
            Status::SendingOut { .. },
            Action::SentOut { .. } | Action::SendRefused { .. } | Action::SendDisputed { .. },
        ) => {}
        (Status::SendingOut { .. }, _) => return Err(Error::SendingOut),
        // A dispute is settled by the other platform's next answer; another DISE records nothing.
        (Status::Disputed { .. }, Action::SentOut { .. } | Action::SendRefused { .. }) => {}
        (Status::Disputed { .. }, _) => return Err(Error::Disputed),
        (Status::Pledged(_), Action::Pledge { .. }) => return Err(Error::AlreadyPledged),
        (Status::Pledged(p), Action::Sign { .. }) if signers.contains(&p.pledgee) => {}
        (Status::Pledged(_), Action::Release { .. } | Action::Enforce { .. }) => {}
        (Status::Pledged(_), _) => return Err(Error::Pledged),
        (
            Status::PendingDelivery { .. }
            | Status::PendingAmendment { .. }
            | Status::PendingDeliveryFromAbroad { .. },
            Action::AcceptSurrender { .. }
            | Action::RejectSurrender { .. }
            | Action::AcceptSurrenderToPaper { .. },
        ) => {}
        (
            Status::PendingDelivery { .. }
            | Status::PendingAmendment { .. }
            | Status::PendingDeliveryFromAbroad { .. },
            _,
        ) => return Err(Error::SurrenderPending),
        (
            _,
            Action::AcceptSurrender { .. }
            | Action::RejectSurrender { .. }
            | Action::AcceptSurrenderToPaper { .. },
        ) => return Err(Error::NoSurrenderPending),
        (_, Action::SentOut { .. } | Action::SendRefused { .. } | Action::SendDisputed { .. }) => {
            return Err(Error::NotSendingOut)
        }
        (_, Action::Release { .. } | Action::Enforce { .. }) => return Err(Error::NotPledged),
        _ => {}
    }

    let mut next = bill.clone();
    // A refusal is possible only as the very next action.
    next.refusable = None;
    let before = |recipient: PartyId| Refusable {
        recipient,
        possessor: bill.possessor,
        title: bill.title.clone(),
    };
    match action {
        Action::Transfer { to, .. } => {
            possessor_signs(bill, signers)?;
            recipient(registry, *to)?;
            if *to == bill.possessor {
                return Err(Error::AlreadyPossessor);
            }
            next.possessor = *to;
            next.refusable = Some(before(*to));
        }
        Action::Refuse { .. } => {
            let refusable = bill.refusable.as_ref().ok_or(Error::NothingToRefuse)?;
            if sole_signer(signers, "recipient")? != refusable.recipient {
                return Err(Error::NotRecipient);
            }
            next.possessor = refusable.possessor;
            next.title = refusable.title.clone();
        }
        Action::Endorse { to, .. } | Action::EndorseToOrder { to, .. } => {
            let signer = endorser(bill, signers)?;
            recipient(registry, *to)?;
            if matches!(bill.title, Title::Order { endorsee, .. } if endorsee == *to) {
                return Err(Error::AlreadyEndorsee);
            }
            debug_assert_eq!(signer, bill.possessor);
            next.title = Title::Order {
                endorsee: *to,
                may_endorse: matches!(action, Action::EndorseToOrder { .. }),
            };
            next.refusable = Some(before(*to));
        }
        Action::BlankEndorse { .. } => {
            endorser(bill, signers)?;
            next.title = Title::Bearer;
        }
        Action::Sign { .. } => {
            possessor_signs(bill, signers)?;
        }
        Action::SurrenderForDelivery { .. } | Action::SurrenderForAmendment { .. } => {
            let signer = possessor_signs(bill, signers)?;
            if !bill.holds_title(signer) {
                return Err(Error::NoTitle);
            }
            next.status = match action {
                Action::SurrenderForAmendment { reason, .. } => Status::PendingAmendment {
                    surrendered_by: signer,
                    reason: *reason,
                },
                _ => Status::PendingDelivery {
                    surrendered_by: signer,
                },
            };
            // The surrender is addressed to the issuing carrier, who holds the bill while it answers.
            next.possessor = bill.carrier;
        }
        Action::AcceptSurrender { .. } => {
            carrier_signs(bill, signers)?;
            next.status = match bill.status {
                Status::PendingAmendment {
                    reason: AmendmentReason::SwitchToPaper,
                    ..
                } => return Err(Error::PaperNoteMissing),
                Status::PendingAmendment { surrendered_by, .. } => Status::Void {
                    surrendered_by,
                    replaced_by: Vec::new(),
                    replacement: None,
                },
                _ => Status::Accomplished,
            };
        }
        Action::AcceptSurrenderToPaper { paper, .. } => {
            carrier_signs(bill, signers)?;
            let Status::PendingAmendment {
                surrendered_by,
                reason: AmendmentReason::SwitchToPaper,
            } = bill.status
            else {
                return Err(Error::NotSwitchToPaper);
            };
            next.status = Status::SwitchedToPaper {
                surrendered_by,
                paper: paper.clone(),
            };
        }
        Action::RejectSurrender { .. } => {
            carrier_signs(bill, signers)?;
            // The surrenderer is on another platform: the bill goes back to it over PINT, frozen here
            // until that platform answers.
            if let Status::PendingDeliveryFromAbroad { surrendered_by } = &bill.status {
                next.status = Status::SendingOut {
                    sender: bill.carrier,
                    to: surrendered_by.clone(),
                    returns_surrender: true,
                };
                return Ok(next);
            }
            if let Status::PendingDelivery { surrendered_by }
            | Status::PendingAmendment { surrendered_by, .. } = bill.status
            {
                next.possessor = surrendered_by;
            }
            next.status = Status::Issued;
        }
        Action::Pledge { pledgee, loan, .. } => {
            if !bill.negotiable {
                return Err(Error::NotNegotiable);
            }
            if *pledgee == bill.possessor {
                // Someone else naming the holder as its bank is a non-holder pledging, not the holder
                // pledging to itself (issue 14).
                return Err(if signers.iter().any(|s| s != pledgee) {
                    Error::NotPossessor
                } else {
                    Error::SelfPledge
                });
            }
            let bank = registry.active_party(*pledgee)?;
            if !bank.has_role(Role::Bank) {
                return Err(Error::MissingRole {
                    party: *pledgee,
                    role: Role::Bank,
                });
            }
            if !signers.contains(&bill.possessor) {
                return match signers.iter().find(|s| *s != pledgee) {
                    Some(_) => Err(Error::NotPossessor),
                    None => Err(Error::MissingSignature { who: "pledgor" }),
                };
            }
            if !bill.holds_title(bill.possessor) {
                return Err(Error::NoTitle);
            }
            if !signers.contains(pledgee) {
                return Err(Error::MissingSignature {
                    who: "pledgee bank",
                });
            }
            if let Some(extra) = signers
                .iter()
                .find(|s| **s != bill.possessor && *s != pledgee)
            {
                return Err(Error::UnexpectedSigner { party: *extra });
            }
            next.status = Status::Pledged(Pledge {
                pledgee: *pledgee,
                pledgor: bill.possessor,
                loan: loan.clone(),
            });
            // A pledge needs possession in law: the bank holds the bill; title stays with the pledgor.
            next.possessor = *pledgee;
        }
        Action::Release { .. } | Action::Enforce { .. } => {
            let pledge = match &bill.status {
                Status::Pledged(p) => p.clone(),
                _ => return Err(Error::NotPledged),
            };
            let signer = sole_signer(signers, "pledgee bank")?;
            if signer != pledge.pledgee {
                return Err(Error::NotPledgee);
            }
            next.status = Status::Issued;
            if matches!(action, Action::Release { .. }) {
                next.possessor = pledge.pledgor;
            } else {
                next.title = Title::Order {
                    endorsee: pledge.pledgee,
                    may_endorse: true,
                };
            }
        }
        Action::SendOut { to, .. } => {
            let signer = possessor_signs(bill, signers)?;
            if !bill.holds_title(signer) {
                return Err(Error::NoTitle);
            }
            // A to-order bill leaves endorsed to its recipient, which a restricted endorsee may not do.
            if let Title::Order {
                may_endorse: false, ..
            } = bill.title
            {
                return Err(Error::EndorsementRestricted);
            }
            next.status = Status::SendingOut {
                sender: signer,
                to: to.clone(),
                returns_surrender: false,
            };
        }
        // The caller checked the node's signature: the platform's answer is the node's to vouch for.
        Action::SentOut { .. } | Action::SendRefused { .. } | Action::SendDisputed { .. } => {
            let (Status::SendingOut {
                sender,
                to,
                returns_surrender,
            }
            | Status::Disputed {
                sender,
                to,
                returns_surrender,
            }) = &bill.status
            else {
                return Err(Error::NotSendingOut);
            };
            let (sender, to, returns_surrender) = (*sender, to.clone(), *returns_surrender);
            next.status = match action {
                Action::SentOut { entry, .. } => Status::TransferredOut {
                    sender,
                    to,
                    last_entry: Hash::of(entry.as_bytes()),
                },
                Action::SendDisputed { .. } => Status::Disputed {
                    sender,
                    to,
                    returns_surrender,
                },
                // Refused, a rejected surrender is pending again: the carrier answers it anew.
                _ if returns_surrender => Status::PendingDeliveryFromAbroad { surrendered_by: to },
                _ => Status::Issued,
            };
        }
        Action::Issue { .. }
        | Action::Import { .. }
        | Action::RegisterParty { .. }
        | Action::RotateKey { .. }
        | Action::RevokeParty { .. }
        | Action::UpdateParty { .. }
        | Action::RecoverKey { .. }
        | Action::AddMember { .. }
        | Action::RemoveMember { .. }
        | Action::SetThreshold { .. }
        | Action::ScheduleFormat { .. } => {
            return Err(Error::MalformedEncoding {
                reason: format!("{} is not a bill transition", action.code()),
            })
        }
    }
    Ok(next)
}

fn possessor_signs(bill: &Bill, signers: &[PartyId]) -> Result<PartyId> {
    let signer = sole_signer(signers, "possessor")?;
    if signer != bill.possessor {
        return Err(Error::NotPossessor);
    }
    Ok(signer)
}

fn carrier_signs(bill: &Bill, signers: &[PartyId]) -> Result<()> {
    if sole_signer(signers, "carrier")? != bill.carrier {
        return Err(Error::NotCarrier);
    }
    Ok(())
}

/// The checks every endorsement shares: negotiable, signed by the possessor, who holds title and may endorse.
fn endorser(bill: &Bill, signers: &[PartyId]) -> Result<PartyId> {
    if !bill.negotiable {
        return Err(Error::NotNegotiable);
    }
    let signer = possessor_signs(bill, signers)?;
    match bill.title {
        Title::Order { endorsee, .. } if endorsee != signer => Err(Error::NoTitle),
        Title::Order {
            may_endorse: false, ..
        } => Err(Error::EndorsementRestricted),
        _ => Ok(signer),
    }
}
