//! `ebl-words`: what the ledger says to people, English and Simplified Chinese side by side. `lang` picks
//! the language, `words` holds every word and fixed phrase, `output` lays out bills, histories and
//! verdicts, `places` names ports by their UN/LOCODE. It does no IO and links no network code, so the
//! wallet's terminal, its web app and the WebAssembly verifier a bank opens in a browser say one thing in
//! the same words.

#![warn(missing_docs)]

pub mod codes;
pub mod lang;
pub mod output;
pub mod places;
pub mod words;
