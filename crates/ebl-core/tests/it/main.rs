//! The integration tests of `ebl-core`, in one binary (one link step, shared support code).

mod chain;
mod codec;
mod documents;
mod fuzz;
mod governance;
mod import;
mod lifecycle;
mod limits;
mod model;
mod rules;
mod support;
mod tradetrust;
