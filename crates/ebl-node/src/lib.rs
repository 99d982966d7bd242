//! `ebl-node`: validates, orders and durably stores eBL transactions, and serves them over HTTP.
//!
//! Ordering is `ebl_consensus`'s (the one-node sequencer, or a consortium's Raft cluster); this crate is
//! the node around it: `api` is the HTTP surface and `peer` the member nodes' routes; `auth` decides who
//! may read a bill; [`verify`] replays a stored ledger; [`node`] wires them to a data directory.

// Every dependency is used by the library itself (tests and binaries bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![warn(missing_docs)]

pub mod admin;
mod api;
mod auth;
pub mod backup;
mod checks;
mod extract;
mod forward;
pub mod keyfile;
pub mod limits;
pub mod listener;
pub mod local;
pub mod member_certificates;
pub mod node;
mod offers;
pub mod operator;
mod peer;
mod peer_client;
pub mod pint;
pub mod private;
mod refusal;
mod server;
pub mod tls;
pub mod upgrade;
pub mod verify;

// Dependencies of the `ebl-node` binary alone (Cargo has no binary-only dependencies).
use anyhow as _;
use clap as _;
use clap_complete as _;
use ebl_words as _;
use rustix as _;
use tracing_subscriber as _;

pub use local::LocalNode;
pub use node::{
    default_data_dir, init, init_from, node_key, open, open_with, serve, start, start_with, stop,
    DataDir, NodeError, Running, Settings,
};
