//! Whole trades between separate wallets, and misuse: the real `ebl-node` process and the real `ebl` binary.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

mod attacks;
mod carrier;
mod chinese;
mod cluster_trade;
mod consortium;
mod docs;
mod hostile;
mod legal;
mod lifecycle;
mod misuse;
mod proof_size;
mod readme;
mod trades;
