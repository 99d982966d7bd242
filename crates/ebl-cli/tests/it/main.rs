//! The real `ebl` binary, run by separate wallets for each party against a real node.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

mod carrier;
mod commands;
mod errors;
mod files;
mod send;
mod support;
