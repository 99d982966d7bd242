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

/// An amount in hundredths (as the ledger keeps a loan), written for people with its currency and the
/// thousands grouped, as banks write them in English and in Chinese alike: `250,000.00 USD`.
pub fn money(amount_minor: u64, currency: &str) -> String {
    let whole = (amount_minor / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}.{:02} {currency}", amount_minor % 100)
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

/// What another platform's recorded PINT answer says, read without checking its signature (the node that
/// recorded it checked it against that platform's keys): `CODE: reason`, for people. The answer is a
/// compact JWS; its payload is base64url JSON with DCSA's `responseCode` and `reason`.
pub fn answer_summary(answer: &str) -> String {
    use base64ct::Encoding as _;
    let payload = answer
        .split('.')
        .nth(1)
        .and_then(|p| base64ct::Base64UrlUnpadded::decode_vec(p).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .unwrap_or(serde_json::Value::Null);
    let code = payload["responseCode"].as_str().unwrap_or("?");
    match payload["reason"].as_str() {
        Some(reason) if !reason.is_empty() => format!("{code}: {reason}"),
        _ => code.to_owned(),
    }
}

/// Where a bundle failed, in a reader's words: "event 3 of the history (Transferred, 2026-…)" for a place
/// naming one of the bill's transactions, the place as the check named it otherwise; and, for a signature
/// that does not verify, whose it claims to be, by the name the bundle's registry gives its key (issue 34:
/// a bad signature named a 64-hex key, not the party).
pub fn place_in_words(
    bundle: &ebl_core::bundle::Bundle,
    failure: &ebl_core::bundle::BundleFailure,
    lang: crate::lang::Lang,
) -> String {
    let place = event_in_words(bundle, &failure.place, lang);
    let ebl_core::Error::BadSignature { signer } = &failure.error else {
        return place;
    };
    let registry = bundle.registry();
    let party = registry.parties().find(|p| {
        p.id.to_hex() == *signer
            || p.key.to_hex() == *signer
            || p.retired_keys.iter().any(|k| k.to_hex() == *signer)
    });
    match (party, lang) {
        (Some(p), crate::lang::Lang::En) => format!("{place}, signed as {}", p.name()),
        (Some(p), crate::lang::Lang::Zh) => format!("{place}，以 {} 的名义签名", p.name()),
        (None, crate::lang::Lang::En) => {
            format!("{place}, signed by a key no registered party holds")
        }
        (None, crate::lang::Lang::Zh) => format!("{place}，签名密钥不属于任何登记参与方"),
    }
}

fn event_in_words(
    bundle: &ebl_core::bundle::Bundle,
    place: &str,
    lang: crate::lang::Lang,
) -> String {
    let Some(tx) = place.strip_prefix("transaction ") else {
        return place.to_owned();
    };
    for (i, e) in bundle.transactions.iter().enumerate() {
        if e.receipt.tx.to_hex() == tx || e.transaction.id().to_hex() == tx {
            return crate::words::at_event(
                i + 1,
                &crate::words::action(e.transaction.body.action.code(), lang),
                &timestamp(e.receipt.block_time_ms),
                lang,
            );
        }
    }
    place.to_owned()
}

/// One thing said in both languages, for the command that says it to pick: the wallet's confirmations,
/// written where the facts are, each with its Chinese beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// In English.
    pub en: String,
    /// In Simplified Chinese.
    pub zh: String,
}

impl Said {
    /// `en` and `zh`, said of one thing.
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Said {
        Said {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// What is said in `lang`.
    pub fn get(&self, lang: crate::lang::Lang) -> &str {
        match lang {
            crate::lang::Lang::En => &self.en,
            crate::lang::Lang::Zh => &self.zh,
        }
    }
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
    fn a_pint_answer_is_summarised_by_its_code_and_reason() {
        use base64ct::Encoding as _;
        let jws = |payload: &str| {
            format!(
                "e30.{}.c2ln",
                base64ct::Base64UrlUnpadded::encode_string(payload.as_bytes())
            )
        };
        assert_eq!(
            answer_summary(&jws(r#"{"responseCode":"BENV","reason":"no such party"}"#)),
            "BENV: no such party"
        );
        assert_eq!(answer_summary(&jws(r#"{"responseCode":"RECE"}"#)), "RECE");
        assert_eq!(answer_summary("not a jws"), "?");
    }

    #[test]
    fn money_has_two_minor_digits_and_its_thousands_grouped() {
        assert_eq!(money(100_000_050, "USD"), "1,000,000.50 USD");
        assert_eq!(money(25_000_000, "USD"), "250,000.00 USD");
        assert_eq!(money(99_999, "CNY"), "999.99 CNY");
        assert_eq!(money(100_000, "CNY"), "1,000.00 CNY");
        assert_eq!(money(5, "EUR"), "0.05 EUR");
        assert_eq!(money(u64::MAX, "USD"), "184,467,440,737,095,516.15 USD");
    }
}
