//! `ebl-cli`: the wallet behind the `ebl` command. `cli` parses and runs commands, `wallet` does the work
//! (keys, signing, exports, pledge hand-over), `keystore` keeps keys encrypted, `client` talks to a node,
//! `output` renders for people, `demo` plays a whole trade.

#![warn(missing_docs)]
// Every dependency is used by the library itself (tests and binaries bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod cli;
pub mod client;
pub mod currency;
pub mod demo;
pub mod error;
pub mod gov;
pub mod keystore;
pub mod lang;
pub mod output;
pub mod pins;
pub mod ui;
pub mod wallet;
pub mod words;
