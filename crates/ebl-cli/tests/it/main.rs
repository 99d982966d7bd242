//! The real `ebl` binary, run by separate wallets for each party against a real node.

mod commands;
mod errors;
mod files;
mod support;
