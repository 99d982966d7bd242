//! Calendar time from Unix milliseconds, for people and for DCSA's timestamps. Pure arithmetic: the core
//! never reads a clock.

/// A UTC date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// The year (proleptic Gregorian).
    pub year: i64,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month, 1 to 31.
    pub day: u32,
    /// The hour, 0 to 23.
    pub hour: u32,
    /// The minute, 0 to 59.
    pub minute: u32,
    /// The second, 0 to 59.
    pub second: u32,
    /// The millisecond, 0 to 999.
    pub millisecond: u32,
}

impl Utc {
    /// The proleptic Gregorian date and time of `ms` milliseconds after the Unix epoch
    /// (civil-from-days, H. Hinnant's algorithm).
    #[allow(
        clippy::cast_possible_truncation,
        reason = "calendar fields (day, month, hour, ...) are small by the arithmetic"
    )]
    pub fn from_unix_ms(ms: u64) -> Utc {
        let secs = ms / 1000;
        let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
            millisecond: (ms % 1000) as u32,
        }
    }

    /// ISO 8601 with milliseconds and `Z`, as DCSA writes timestamps.
    pub fn iso8601(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millisecond
        )
    }
}

/// Milliseconds since the Unix epoch at `t` (0 before it): the one conversion every binary uses for
/// "now". The binaries read the clock; the core only converts what it is given.
pub fn unix_ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(Utc::from_unix_ms(0).iso8601(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Utc::from_unix_ms(951_782_400_000).iso8601(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            Utc::from_unix_ms(1_795_777_193_076).iso8601(),
            "2026-11-27T10:59:53.076Z"
        );
        assert_eq!(
            Utc::from_unix_ms(4_102_444_799_999).iso8601(),
            "2099-12-31T23:59:59.999Z"
        );
    }
}
