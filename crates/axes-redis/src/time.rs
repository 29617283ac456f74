//! Times as stored: microseconds since the Unix epoch (exact in a double,
//! so in sorted-set scores and Lua numbers, until the year 2255).

use axes_core::error::StoreError;
use chrono::{DateTime, Duration, Utc};

use crate::error::corrupt;

/// The longest TTL set on a key (ten years), so `PEXPIRE` never overflows.
const MAX_TTL_MS: i64 = 10 * 366 * 24 * 3600 * 1000;

/// The minimum extra time a record outlives its window.
const MIN_TTL_GRACE_MS: i64 = 60_000;

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| corrupt(format!("time out of range: {us}")))
}

pub(crate) fn parse_micros(s: &str) -> Result<DateTime<Utc>, StoreError> {
    let us = s
        .parse::<i64>()
        .map_err(|_| corrupt(format!("bad time {s:?}")))?;
    from_micros(us)
}

/// The window in microseconds (0 for negative windows, saturating).
pub(crate) fn window_micros(window: Duration) -> i64 {
    window.num_microseconds().unwrap_or(i64::MAX).max(0)
}

/// The TTL of record and index keys for `window`: the window plus a grace of
/// one more window (at least one minute).
///
/// Redis expires keys on its own (real) clock while the store judges
/// liveness by the caller's `now`. Liveness never depends on the TTL — the
/// scripts compare the stored time with `now − window` — so the TTL only
/// collects garbage, and the grace keeps a record that is still live for a
/// caller whose clock lags (another server, or a test with a synthetic
/// clock) from vanishing under it.
pub(crate) fn ttl_millis(window: Duration) -> i64 {
    let w = window.num_milliseconds().max(0);
    w.saturating_add(w.max(MIN_TTL_GRACE_MS)).min(MAX_TTL_MS)
}

/// The TTL of a block row needed for `needed` more by the caller's clock:
/// `needed` plus a grace of as much again (at least one minute, the TTL at
/// most ten years), like [`ttl_millis`]. `-1` (no TTL: the row stays until
/// it is removed, reset or purged) when `needed` itself is longer than ten
/// years, so a TTL never ends a row early.
pub(crate) fn block_ttl_millis(needed: Duration) -> i64 {
    let d = needed.num_milliseconds().max(0);
    if d > MAX_TTL_MS {
        return -1;
    }
    d.saturating_add(d.max(MIN_TTL_GRACE_MS)).min(MAX_TTL_MS)
}

/// Score bounds of a `[since, until)` listing range.
pub(crate) fn score_range(
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> (String, String) {
    let min = since.map_or_else(|| "-inf".to_owned(), |s| micros(s).to_string());
    let max = until.map_or_else(|| "+inf".to_owned(), |u| format!("({}", micros(u)));
    (min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_has_grace() {
        assert_eq!(ttl_millis(Duration::seconds(1)), 61_000);
        assert_eq!(ttl_millis(Duration::hours(1)), 7_200_000);
        assert_eq!(ttl_millis(Duration::zero()), 60_000);
        assert_eq!(ttl_millis(Duration::MAX), MAX_TTL_MS);
    }

    #[test]
    fn block_ttl_never_ends_a_row_early() {
        assert_eq!(block_ttl_millis(Duration::zero()), 60_000);
        assert_eq!(block_ttl_millis(Duration::seconds(-5)), 60_000);
        assert_eq!(block_ttl_millis(Duration::hours(1)), 7_200_000);
        assert_eq!(block_ttl_millis(Duration::days(9 * 366)), MAX_TTL_MS);
        assert_eq!(block_ttl_millis(Duration::days(36_525)), -1);
    }

    #[test]
    fn micros_round_trip() {
        let t = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap_or_default();
        assert_eq!(from_micros(micros(t)).ok(), Some(t));
        // exact in a double
        assert_eq!(micros(t) as f64 as i64, micros(t));
    }
}
