//! Output for people and scripts: the facts every renderer shares (names, times, amounts, who signed,
//! a verdict's summary), the sentences in both languages (`sentences`), the CLI's text laid out once
//! (`text`), and `bill history --json`. `--json` output is the serde form of the same data, with
//! stable field names.

use std::collections::BTreeMap;

use ebl_core::api::HistoryEntry;
use ebl_core::bundle::BundleVerdict;
use ebl_core::{Party, PartyId};

pub mod sentences;
pub mod text;

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

/// An amount in minor units, written with its currency.
pub fn money(amount_minor: u64, currency: &str) -> String {
    format!(
        "{}.{:02} {currency}",
        amount_minor / 100,
        amount_minor % 100
    )
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
            "description": text::deed(names, parties, tx, crate::lang::Lang::En),
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
