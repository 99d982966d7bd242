//! Tests of the node over HTTP, against real nodes on 127.0.0.1:0 in temporary data directories.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

mod admin;
mod api;
mod commands;
mod durability;
mod limits;
mod lying_leader;
mod peers;
mod pint;
mod privacy;
mod sending;
mod support;
