//! The clock ordering reads: block times and peer request times come from a [`Clock`] the node hands
//! in, so a test can drive time instead of waiting for it.

use std::fmt::Debug;
use std::time::SystemTime;

/// Milliseconds since the Unix epoch, as this process tells them.
pub trait Clock: Send + Sync + Debug {
    /// Now.
    fn now_ms(&self) -> u64;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        ebl_core::time::unix_ms(SystemTime::now())
    }
}
