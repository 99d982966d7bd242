//! `ebl-cli`: the wallet behind the `ebl` command. `cli` parses and runs commands, `wallet` does the work
//! (keys, signing, exports, pledge hand-over), `keystore` keeps keys encrypted, `client` talks to a node,
//! `output` renders for people, `demo` plays a whole trade, `carrier` serves a carrier's system DCSA's
//! issuance API.

#![warn(missing_docs)]
// Every dependency is used by the library itself (tests and binaries bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

/// `println!` for a program whose output may be cut short (`ebl-node init … | head -1`): a closed stdout
/// ends the process quietly with success, as Unix tools end, instead of a panic with a backtrace (issue
/// 35). Any other write error is left to the next write.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

pub mod carrier;
pub mod cli;
pub mod client;
pub mod currency;
pub mod demo;
pub mod error;
pub mod gov;
pub mod keystore;
pub mod pins;
pub mod ui;
pub mod wallet;
pub mod words;

// The words and texts people read live in `ebl-words`, shared with the browser's verifier; the wallet
// speaks through them under their old paths.
pub use ebl_words::{lang, output};
