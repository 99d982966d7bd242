//! Whole trades between separate wallets, and misuse: the real `ebl-node` process and the real `ebl` binary.

mod attacks;
mod cluster_trade;
mod consortium;
mod hostile;
mod lifecycle;
mod misuse;
mod readme;
mod trades;
