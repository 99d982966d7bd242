//! The integration tests of `ebl-core`, in one binary (one link step, shared support code).

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

mod chain;
mod codec;
mod documents;
mod follow;
mod fuzz;
mod governance;
mod import;
mod lifecycle;
mod limits;
mod model;
mod rules;
mod send_out;
mod support;
mod surrender_abroad;
mod tradetrust;
