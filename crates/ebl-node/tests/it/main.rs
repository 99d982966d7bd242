//! Tests of the node over HTTP, against real nodes on 127.0.0.1:0 in temporary data directories.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

mod admin;
mod api;
mod backup;
mod commands;
mod durability;
mod finality;
mod formats;
mod limits;
mod lying_leader;
mod offers;
mod own_writes;
mod peers;
mod pint;
mod privacy;
mod sending;
mod support;
