//! The compatibility promise with the real binaries: ledgers, wallets, bundles and offers written by
//! earlier releases, opened, verified and carried on by this one.

mod backup;
mod carried_forward;
mod format_change;
mod rolling;
mod upgrade;

/// The suites' seeded pseudo-random numbers.
pub use ebl_tests::next;
