//! Humane durations: `"30m"`, `"1h 30m"`, `"2s"`; a bare number means hours.

use std::time::Duration;

/// The longest duration any setting accepts, whatever its form (bare
/// number of hours, `"1000years"`, `"99999999999999h"`): 100 years of 366
/// days. Longer values are an error, never a silent "until reset"; every
/// accepted value fits `chrono` and date arithmetic, so nothing downstream
/// overflows.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 366 * 86_400);

/// The reason given for a duration over [`MAX_DURATION`].
pub(crate) const TOO_LONG: &str = "a duration must be at most 100 years";

/// Parses a humane duration. A bare number (`2`, `0.25`) is a number of hours,
/// as in the original. At most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(hours) = text.parse::<f64>() {
        return hours_to_duration(hours);
    }
    let d = humantime::parse_duration(text).map_err(|e| {
        format!("{e} (write e.g. \"30m\", \"1h\", \"2s\", or a bare number of hours)")
    })?;
    within_cap(d)
}

/// Converts a number of hours (from TOML or the environment) into a
/// duration. At most [`MAX_DURATION`].
pub fn hours_to_duration(hours: f64) -> Result<Duration, String> {
    if !hours.is_finite() || hours < 0.0 {
        return Err("a duration must be a non-negative number".into());
    }
    let secs = hours * 3600.0;
    if secs > MAX_DURATION.as_secs_f64() {
        return Err(TOO_LONG.into());
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| TOO_LONG.to_owned())
        .and_then(within_cap)
}

/// `d` if it is at most [`MAX_DURATION`].
pub(crate) fn within_cap(d: Duration) -> Result<Duration, String> {
    if d > MAX_DURATION {
        return Err(TOO_LONG.into());
    }
    Ok(d)
}

/// `d` as a `chrono` duration, saturating at [`MAX_DURATION`]: a conversion
/// never fails, so an over-long duration can never turn into "no cool-off"
/// (a lockout until reset).
pub fn to_chrono(d: Duration) -> chrono::Duration {
    let capped = d.min(MAX_DURATION);
    // 100 years is far inside chrono's range (about 292 million years).
    chrono::Duration::from_std(capped).unwrap_or(chrono::Duration::MAX)
}

/// Formats a duration as ISO 8601 (`PT30M`, `P1DT2H`), zero parts omitted.
pub fn iso8601(d: Duration) -> String {
    let mut secs = d.as_secs();
    let days = secs / 86_400;
    secs %= 86_400;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if d.as_secs() == 0 {
        return "PT0S".into();
    }
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if h > 0 || m > 0 || s > 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_are_hours() {
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("0.25").unwrap(), Duration::from_secs(900));
    }

    #[test]
    fn humane_strings() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

    /// One cap for every form: none of these may become "no cool-off".
    #[test]
    fn one_cap_for_every_form() {
        for text in [
            "99999999999999h",
            "1000years",
            "200y",
            "101y",
            "36601days",
            "878425h",
            "1000000",
            "878424.1",
            "1e300",
            "18446744073709551615s",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(
                err.contains("100 years") || err.contains("too large"),
                "{text}: {err}"
            );
        }
        assert_eq!(parse_duration("36600days").unwrap(), MAX_DURATION);
        assert_eq!(parse_duration("878400").unwrap(), MAX_DURATION);
        assert_eq!(parse_duration("100y").unwrap().as_secs(), 3_155_760_000);
        assert_eq!(hours_to_duration(878_401.0).unwrap_err(), TOO_LONG);
        assert!(hours_to_duration(f64::NAN).is_err());
        assert!(hours_to_duration(f64::INFINITY).is_err());
    }

    #[test]
    fn chrono_conversion_saturates_instead_of_failing() {
        assert_eq!(
            to_chrono(Duration::from_secs(60)),
            chrono::Duration::seconds(60)
        );
        let cap = to_chrono(MAX_DURATION);
        assert_eq!(to_chrono(Duration::MAX), cap);
        assert_eq!(to_chrono(Duration::from_secs(u64::MAX / 2)), cap);
        assert_eq!(cap.num_days(), 36_600);
    }

    #[test]
    fn iso_rendering() {
        assert_eq!(iso8601(Duration::from_secs(300)), "PT5M");
        assert_eq!(iso8601(Duration::ZERO), "PT0S");
        assert_eq!(iso8601(Duration::from_secs(9005)), "PT2H30M5S");
        assert_eq!(iso8601(Duration::from_secs(15 * 86400)), "P15D");
        assert_eq!(iso8601(Duration::from_secs(7 * 86400 + 342)), "P7DT5M42S");
    }
}
