//! `ebl-node`: validates, orders and durably stores eBL transactions, and serves them over HTTP.
//!
//! `sequencer` orders and commits blocks; `api` is the HTTP surface; `auth` decides who may read a bill;
//! [`verify`] replays a stored ledger; [`node`] wires them to a data directory; [`cluster`] runs a
//! consortium's nodes as one Raft cluster.

// Every dependency is used by the library itself (tests and binaries bring their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![warn(missing_docs)]

pub mod admin;
mod api;
mod auth;
pub mod backup;
mod checkpoints;
mod checks;
pub mod cluster;
mod extract;
pub mod keyfile;
pub mod limits;
pub mod listener;
pub mod local;
mod metrics;
pub mod node;
mod offers;
pub mod operator;
pub mod pint;
pub mod private;
mod refusal;
mod sequencer;
mod server;
mod state;
pub mod tls;
pub mod upgrade;
pub mod verify;
mod writer;

// Dependencies of the `ebl-node` binary alone (Cargo has no binary-only dependencies).
use anyhow as _;
use clap as _;
use clap_complete as _;
use rustix as _;
use tracing_subscriber as _;

pub use local::LocalNode;
pub use node::{
    default_data_dir, init, init_from, node_key, open, open_with, serve, start, start_with, stop,
    DataDir, NodeError, Running, Settings,
};
