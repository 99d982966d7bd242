//! The proof-bundle verifier a bank opens in a browser: ebl-core's `Bundle::verify`, compiled to
//! WebAssembly, answering in `ebl verify`'s words from ebl-words. [`report`] is the whole job, plain Rust
//! tested natively; `exports` is the thin surface a page calls.
//!
//! It checks what `ebl verify FILE --chain ID` checks, in the same order, so that the two agree on every
//! bundle: the file is read as a bundle, its genesis is the chain the reader gave, then everything else.
//! A bundle's history brought over PINT from another platform is not checked here (that needs the
//! platforms' keys, which `ebl verify --pint-trust` takes); the report says so.

#![warn(missing_docs)]

use ebl_core::bundle::{Bundle, BundleFailure};
use ebl_core::{Error, Hash};
use ebl_words::lang::Lang;
use ebl_words::output;
use ebl_words::words::{self, W};
use serde::Serialize;

#[cfg(target_arch = "wasm32")]
mod exports;

/// What the page shows of one bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Whether the bundle checks out against the chain given.
    pub valid: bool,
    /// The verdict's first line, in the reader's language.
    pub headline: String,
    /// What `ebl verify` prints: the verdict's text when valid, its error line (without `error: ` and the
    /// code) when not.
    pub text: String,
    /// The broken rule's stable code, when not valid.
    pub code: Option<&'static str>,
    /// What the failure means, in a banker's words, when not valid.
    pub meaning: Option<String>,
    /// Where it failed, in words ("event 4 of the history (Pledged, …)"), when not valid.
    pub place: Option<String>,
    /// What the reader should know beside the verdict.
    pub notes: Vec<String>,
    /// The rule's own words (English, with its names and figures) when not valid and the page is in
    /// another language: `text` is then the code's meaning, as `ebl --lang zh verify` says it.
    pub original: Option<String>,
}

/// Verifies `bundle` (a proof bundle's JSON, as `ebl bill export` writes it) against `chain` (the chain
/// id the reader trusts, 64 hex digits), in `lang`.
pub fn report(bundle: &[u8], chain: &str, lang: Lang) -> Report {
    let bundle = match Bundle::from_json(bundle) {
        Ok(b) => b,
        Err(f) => {
            return refused(
                lang,
                format!("{}: {}", f.place, f.error),
                &f.error,
                words::W::NotABundle.get(lang).to_owned(),
            )
        }
    };
    let chain: Hash = match chain.trim().parse() {
        Ok(c) => c,
        Err(e) => return refused(lang, e.to_string(), &e, W::BadChainId.get(lang).to_owned()),
    };
    // `ebl verify` checks the chain against the reader's pin before anything else, and says so alone.
    let got = bundle.genesis.chain_id();
    if got != chain {
        let e = Error::ChainMismatch {
            expected: chain,
            got,
        };
        return refused(lang, format!("INVALID: {e}"), &e, "genesis".to_owned());
    }
    match bundle.verify() {
        Ok(verdict) => {
            let imported = bundle
                .transactions
                .iter()
                .any(|e| matches!(e.transaction.body.action, ebl_core::Action::Import { .. }));
            Report {
                valid: true,
                headline: W::Valid.get(lang).to_owned(),
                text: output::text::verdict(&verdict, lang),
                code: None,
                meaning: None,
                place: None,
                notes: if imported {
                    vec![W::ImportNotChecked.get(lang).to_owned()]
                } else {
                    Vec::new()
                },
                original: None,
            }
        }
        Err(f) => invalid(&bundle, &f, lang),
    }
}

fn invalid(bundle: &Bundle, f: &BundleFailure, lang: Lang) -> Report {
    refused(
        lang,
        format!("INVALID at {}: {}", f.place, f.error),
        &f.error,
        output::place_in_words(bundle, f, lang),
    )
}

/// A bundle that fails: `text` is the rule's line as `ebl verify` prints it in English; in another
/// language the CLI prints the code's meaning from the catalogue first, and the line as the original.
fn refused(lang: Lang, text: String, error: &Error, place: String) -> Report {
    let code = error.code();
    let (shown, original) = match (lang, ebl_words::codes::explain(code, lang)) {
        (Lang::Zh, Some(meaning)) => (meaning.to_owned(), Some(text)),
        _ => (text, None),
    };
    Report {
        valid: false,
        headline: W::Invalid.get(lang).to_owned(),
        text: shown,
        code: Some(code),
        meaning: Some(ebl_words::codes::of_rule(error, lang).to_owned()),
        place: Some(place),
        notes: Vec::new(),
        original,
    }
}

/// The page's own words in `lang`, by the element they fill: the page holds no text of its own, so a
/// Chinese page has no English sentence.
pub fn labels(lang: Lang) -> serde_json::Value {
    let other = Lang::ALL
        .into_iter()
        .find(|l| *l != lang)
        .unwrap_or(Lang::En);
    serde_json::json!({
        "lang": lang.tag(),
        "title": W::VerifierTitle.get(lang),
        "lead": W::VerifierLead.get(lang),
        "drop": W::DropHere.get(lang),
        "chain": W::ChainId.get(lang),
        "chain_hint": W::ChainIdHint.get(lang),
        "check": W::Check.get(lang),
        "what": W::WhatFailed.get(lang),
        "where": W::Where.get(lang),
        "code": W::Code.get(lang),
        "exact": W::ExactWords.get(lang),
        "original": W::OriginalWords.get(lang),
        "switch": other.own_name(),
        "switch_code": other.code(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_no_bundle_is_named_as_such_in_either_language() {
        for lang in Lang::ALL {
            let r = report(b"{\"hello\": 1}", &"ab".repeat(32), lang);
            assert!(!r.valid);
            assert_eq!(r.code, Some("malformed_json"));
            assert_eq!(r.place.as_deref(), Some(W::NotABundle.get(lang)));
        }
    }

    #[test]
    fn every_label_is_in_the_page_language() {
        let has_chinese = |t: &str| t.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
        for (lang, chinese) in [(Lang::En, false), (Lang::Zh, true)] {
            let labels = labels(lang);
            for (key, value) in labels.as_object().expect("an object") {
                let text = value.as_str().expect("text");
                if key.starts_with("switch") || key == "lang" {
                    continue;
                }
                assert_eq!(has_chinese(text), chinese, "{key} in {lang:?}: {text}");
            }
        }
    }
}
