//! Human-readable output: bill states, timelines, verdicts. `--json` output is the serde form of the same
//! data, with stable field names.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ebl_core::api::HistoryEntry;
use ebl_core::bundle::BundleVerdict;
use ebl_core::{Action, Bill, Party, PartyId, Status, Title};

pub mod zh;

/// Party names by id, for showing people names instead of keys.
pub type Names = BTreeMap<PartyId, String>;

/// Party names by id, for naming parties in output.
pub fn names(parties: &[Party]) -> Names {
    parties
        .iter()
        .map(|p| (p.id, p.name().to_owned()))
        .collect()
}

/// A party's name, or its id's first digits when it has none here.
pub fn name(names: &Names, id: &PartyId) -> String {
    names
        .get(id)
        .cloned()
        .unwrap_or_else(|| format!("party {}", id.short()))
}

/// UTC date and time from Unix milliseconds, for people.
pub fn timestamp(ms: u64) -> String {
    let t = ebl_core::time::Utc::from_unix_ms(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Where title rests, in words.
pub fn title(names: &Names, t: &Title) -> String {
    match t {
        Title::Straight { consignee } => format!("straight, consignee {}", name(names, consignee)),
        Title::Order {
            endorsee,
            may_endorse: true,
        } => format!("to the order of {}", name(names, endorsee)),
        Title::Order {
            endorsee,
            may_endorse: false,
        } => format!(
            "endorsed to {} (may not endorse further)",
            name(names, endorsee)
        ),
        Title::Bearer => "bearer (endorsed in blank)".to_owned(),
    }
}

/// An amount in minor units, written with its currency.
pub fn money(amount_minor: u64, currency: &str) -> String {
    format!(
        "{}.{:02} {currency}",
        amount_minor / 100,
        amount_minor % 100
    )
}

/// Where a bill is in its life, in words.
pub fn status(names: &Names, s: &Status) -> String {
    match s {
        Status::Pledged(p) => format!(
            "PLEDGED to {} by {} for {} (loan {})",
            name(names, &p.pledgee),
            name(names, &p.pledgor),
            money(p.loan.amount_minor, &p.loan.currency),
            p.loan.reference
        ),
        Status::PendingDelivery { surrendered_by } => format!(
            "PENDING_DELIVERY (surrendered by {})",
            name(names, surrendered_by)
        ),
        Status::PendingDeliveryFromAbroad { surrendered_by } => format!(
            "PENDING_DELIVERY (surrendered by {}, on another platform)",
            surrendered_by.describe()
        ),
        Status::PendingAmendment {
            surrendered_by,
            reason,
        } => {
            format!(
                "PENDING_AMENDMENT ({}, surrendered by {})",
                reason.code(),
                name(names, surrendered_by)
            )
        }
        Status::Void { replaced_by, .. } if !replaced_by.is_empty() => format!(
            "VOID (replaced by {})",
            replaced_by
                .iter()
                .map(|b| b.to_hex())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Status::SwitchedToPaper { paper, .. } => format!(
            "SWITCHED_TO_PAPER: no longer an electronic record; replaced by paper bill {} issued {}",
            paper.number, paper.issued_on
        ),
        other => other.name().to_owned(),
    }
}

/// A bill's state, as `ebl bill show` prints it.
pub fn bill(names: &Names, b: &Bill) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "bill        {}", b.id);
    let _ = writeln!(
        out,
        "reference   {} ({}, {})",
        b.reference,
        b.document_type.code(),
        if b.negotiable { "to order" } else { "straight" }
    );
    let _ = writeln!(out, "carrier     {}", name(names, &b.carrier));
    let _ = writeln!(out, "shipper     {}", name(names, &b.shipper));
    let _ = writeln!(out, "possessor   {}", name(names, &b.possessor));
    let _ = writeln!(out, "title       {}", title(names, &b.title));
    let _ = writeln!(out, "status      {}", status(names, &b.status));
    let _ = writeln!(
        out,
        "head        {} ({})",
        b.head,
        transactions(u64::from(b.transactions))
    );
    let _ = write!(out, "document    checksum {}", b.document_checksum);
    for r in &b.replaces {
        let _ = write!(out, "\nreplaces    {r}");
    }
    if let Some(e) = &b.earlier {
        let _ = write!(
            out,
            "\nearlier     {e} (this bill here before it left for another platform)"
        );
    }
    out
}

/// One line of a timeline: who did what.
pub fn describe(names: &Names, signer: &str, action: &Action) -> String {
    let n = |id: &PartyId| name(names, id);
    match action {
        Action::Issue {
            issue_to, replaces, ..
        } => match replaces {
            Some(r) => format!(
                "{signer} issued it to {} (one of {} replacing {})",
                n(issue_to),
                r.count,
                r.bills
                    .iter()
                    .map(|b| b.short())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            None => format!("{signer} issued it to {}", n(issue_to)),
        },
        Action::Transfer { to, .. } => format!("{signer} transferred possession to {}", n(to)),
        Action::Endorse { to, .. } => format!("{signer} endorsed it to {}", n(to)),
        Action::EndorseToOrder { to, .. } => {
            format!("{signer} endorsed it to the order of {}", n(to))
        }
        Action::BlankEndorse { .. } => format!("{signer} endorsed it in blank"),
        Action::Sign { .. } => format!("{signer} signed for possession"),
        Action::SurrenderForDelivery { .. } => format!("{signer} surrendered it for delivery"),
        Action::SurrenderForAmendment { reason, .. } => {
            format!("{signer} surrendered it for amendment ({})", reason.code())
        }
        Action::AcceptSurrender { .. } => format!("{signer} accepted the surrender"),
        Action::AcceptSurrenderToPaper { paper, .. } => format!(
            "{signer} accepted the surrender and switched it to paper bill {} of {}",
            paper.number, paper.issued_on
        ),
        Action::Refuse { .. } => format!("{signer} refused it: back to where it was"),
        Action::RejectSurrender { .. } => format!("{signer} rejected the surrender"),
        Action::Pledge { pledgee, loan, .. } => format!(
            "{} pledged it to {} for {} (loan {})",
            signer.split(" and ").next().unwrap_or(signer),
            n(pledgee),
            money(loan.amount_minor, &loan.currency),
            loan.reference
        ),
        Action::Release { .. } => format!("{signer} released the pledge"),
        Action::Enforce { .. } => format!("{signer} enforced the pledge and took title"),
        Action::RegisterParty { profile, .. } => format!("{signer} registered {}", profile.name),
        Action::RotateKey { party, .. } => format!("{} rotated its key", n(party)),
        Action::RevokeParty { party } => format!("{signer} revoked {}", n(party)),
        Action::UpdateParty { party, profile } => format!(
            "{signer} changed {} (name {}, roles {}, identifiers {})",
            n(party),
            profile.name,
            profile.roles,
            profile
                .identifiers
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Action::RecoverKey { party, .. } => {
            format!(
                "{signer} RECOVERED the key of {} (a new key by governance)",
                n(party)
            )
        }
        Action::AddMember { member } => format!("{signer} admitted member {}", member.name),
        Action::RemoveMember { admin } => {
            format!(
                "{signer} removed the member with admin key {}",
                &admin.to_hex()[..8]
            )
        }
        Action::SetThreshold { threshold } => {
            format!("{signer} set the governance threshold to {threshold}")
        }
        Action::ScheduleFormat { format, height } => {
            format!("{signer} scheduled chain format {format} from block {height}")
        }
        Action::Import { possessor, .. } => format!(
            "the node imported it from another platform (PINT) for {}",
            n(possessor)
        ),
        Action::SendOut { to, .. } => {
            format!("{signer} sent it to {} over PINT", to.describe())
        }
        Action::SentOut { answer, .. } => format!(
            "the other platform received it ({}): it left this ledger",
            ebl_pint::answer_summary(answer)
        ),
        Action::SendRefused { answer, .. } => format!(
            "the other platform refused it ({}): the holder has it again",
            ebl_pint::answer_summary(answer)
        ),
        Action::SendDisputed { answer, .. } => format!(
            "the other platform disputes it ({}): held for people to resolve",
            ebl_pint::answer_summary(answer)
        ),
    }
}

/// Who signed a transaction: a registered party (by any of its keys, current or retired), with the
/// recovery its key descends from if governance gave it; or a key no party holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A registered party.
    Party {
        /// Its registered name.
        name: String,
        /// The governance recovery its key descends from, if any.
        recovered_in: Option<ebl_core::TxId>,
    },
    /// A key no registered party holds.
    Key(ebl_core::PartyKey),
}

/// The signers of `tx`, in its signatures' order, as the timelines of every language name them.
pub fn signers(parties: &[Party], tx: &ebl_core::SignedTransaction) -> Vec<Signer> {
    tx.signatures
        .iter()
        .map(|s| {
            parties
                .iter()
                .find(|p| p.key == s.signer || p.retired_keys.contains(&s.signer))
                .map_or(Signer::Key(s.signer), |p| Signer::Party {
                    name: p.name().to_owned(),
                    recovered_in: p.recovery_behind(&s.signer).map(|r| r.tx),
                })
        })
        .collect()
}

/// "1 transaction", "2 transactions".
pub fn transactions(n: u64) -> String {
    if n == 1 {
        "1 transaction".to_owned()
    } else {
        format!("{n} transactions")
    }
}

/// The signers of `tx` as the English timeline names them.
fn signer_names(parties: &[Party], tx: &ebl_core::SignedTransaction) -> String {
    signers(parties, tx)
        .into_iter()
        .map(|s| match s {
            Signer::Party {
                name,
                recovered_in: Some(r),
            } => format!("{name} (with a key governance RECOVERED in {})", r.short()),
            Signer::Party { name, .. } => name,
            Signer::Key(k) => format!("key {}", &k.to_hex()[..8]),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Width of the timeline's action column: the longest action in words ("Surrendered for amendment").
const ACTION_COLUMNS: usize = 26;

/// A bill's history as a readable timeline: who did what, when, in which block.
pub fn timeline(names: &Names, parties: &[Party], history: &[HistoryEntry]) -> String {
    let mut out = String::new();
    for (i, entry) in history.iter().enumerate() {
        let tx = &entry.transaction;
        let _ = writeln!(
            out,
            "{:>3}. {}  block {:<6} {} {}",
            i + 1,
            timestamp(entry.receipt.block_time_ms),
            entry.receipt.height,
            crate::lang::fit(
                &crate::words::action(tx.body.action.code(), crate::lang::Lang::En),
                ACTION_COLUMNS
            ),
            describe(names, &signer_names(parties, tx), &tx.body.action)
        );
    }
    out.trim_end().to_owned()
}

/// `bill history --json`: each entry as the node gave it (`transaction`, `receipt`), with what a script
/// would otherwise look up: its place, the action's code, its signers by name (or key, for a key no
/// party holds) and the line the timeline prints for it.
pub fn history_json(
    names: &Names,
    parties: &[Party],
    history: &[HistoryEntry],
) -> serde_json::Value {
    let entries = history.iter().enumerate().map(|(i, entry)| {
        let tx = &entry.transaction;
        let signed_by: Vec<serde_json::Value> = signers(parties, tx)
            .into_iter()
            .map(|s| match s {
                Signer::Party { name, recovered_in } => {
                    serde_json::json!({ "name": name, "recovered_in": recovered_in })
                }
                Signer::Key(key) => serde_json::json!({ "key": key }),
            })
            .collect();
        serde_json::json!({
            "index": i + 1,
            "action": tx.body.action.code(),
            "height": entry.receipt.height,
            "time": timestamp(entry.receipt.block_time_ms),
            "signers": signed_by,
            "description": describe(names, &signer_names(parties, tx), &tx.body.action),
            "transaction": tx,
            "receipt": entry.receipt,
        })
    });
    serde_json::Value::Array(entries.collect())
}

/// What a verdict's summary says, worked out once for every renderer of it (`ebl verify` in English
/// and Chinese, the web app's bill page).
#[derive(Debug)]
pub struct VerdictSummary<'a> {
    /// The members' names, in the genesis's order.
    pub members: Vec<&'a str>,
    /// Every member node that signed a block, by name, once each, sorted.
    pub signers: Vec<&'a str>,
    /// The fewest member nodes that signed any one block.
    pub fewest: usize,
}

impl<'a> VerdictSummary<'a> {
    /// The summary of `v`.
    pub fn of(v: &'a BundleVerdict) -> VerdictSummary<'a> {
        let mut signers: Vec<&str> = v
            .block_signers
            .values()
            .flatten()
            .map(String::as_str)
            .collect();
        signers.sort_unstable();
        signers.dedup();
        VerdictSummary {
            members: v.members.iter().map(|m| m.name.as_str()).collect(),
            signers,
            fewest: v.block_signers.values().map(Vec::len).min().unwrap_or(0),
        }
    }
}

/// A proof bundle's verdict, as `ebl verify` prints it.
pub fn verdict(v: &BundleVerdict) -> String {
    let mut out =
        String::from("VALID: every signature, hash link, inclusion proof and rule checks out.\n");
    let _ = writeln!(out, "chain       {} (pinned)", v.chain);
    let _ = writeln!(
        out,
        "format      {}, chain format {}{}",
        v.format,
        v.chain_format,
        v.format_changes
            .iter()
            .map(|a| format!("; format {} from block {}", a.format, a.height))
            .collect::<String>()
    );
    let VerdictSummary {
        members,
        signers,
        fewest,
    } = VerdictSummary::of(v);
    let _ = writeln!(
        out,
        "members     {} (governance: {} of {})",
        members.join(", "),
        v.threshold,
        v.members.len()
    );
    let _ = writeln!(
        out,
        "blocks      {} blocks, each final: signed by at least {fewest} of {} member nodes ({} needed): {}",
        v.block_signers.len(),
        v.members.len(),
        v.threshold,
        signers.join(", "),
    );
    let _ = writeln!(
        out,
        "statement   signed by the node{} of {}",
        if v.statement_signers.len() > 1 {
            "s"
        } else {
            ""
        },
        v.statement_signers.join(", ")
    );
    for r in &v.recoveries {
        let _ = writeln!(
            out,
            "WARNING     {} acted with a key governance recovered for it (transaction {}), signed by admins {}",
            name(&v.names, &r.party),
            r.recovery.short(),
            r.admins
                .iter()
                .map(|k| v
                    .members
                    .iter()
                    .find(|m| m.admin == *k)
                    .map_or_else(|| k.to_hex()[..8].to_owned(), |m| m.name.clone()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.push_str(&bill(&v.names, &v.bill));
    let _ = write!(
        out,
        "\nas of       height {} at {} ({} transactions of this bill)",
        v.height,
        timestamp(v.time_ms),
        v.transactions
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(timestamp(1_795_777_193_076), "2026-11-27 10:59:53 UTC");
    }

    #[test]
    fn money_has_two_minor_digits() {
        assert_eq!(money(100_000_050, "USD"), "1000000.50 USD");
        assert_eq!(money(5, "EUR"), "0.05 EUR");
    }
}
