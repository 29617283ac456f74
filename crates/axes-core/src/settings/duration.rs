//! Humane durations: `"30m"`, `"1h 30m"`, `"2s"`; a bare number means hours.

use std::time::Duration;

/// Parses a humane duration. A bare number (`2`, `0.25`) is a number of hours,
/// as in the original.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(hours) = text.parse::<f64>() {
        return hours_to_duration(hours);
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{e} (write e.g. \"30m\", \"1h\", \"2s\", or a bare number of hours)"))
}

/// Converts a number of hours (from TOML or the environment) into a duration.
pub fn hours_to_duration(hours: f64) -> Result<Duration, String> {
    if !hours.is_finite() || hours < 0.0 {
        return Err("a duration must be a non-negative number".into());
    }
    // Bound to 100 years so nothing downstream overflows.
    if hours > 24.0 * 366.0 * 100.0 {
        return Err("a duration must be at most 100 years".into());
    }
    Ok(Duration::from_secs_f64(hours * 3600.0))
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

    #[test]
    fn iso_rendering() {
        assert_eq!(iso8601(Duration::from_secs(300)), "PT5M");
        assert_eq!(iso8601(Duration::ZERO), "PT0S");
        assert_eq!(iso8601(Duration::from_secs(9005)), "PT2H30M5S");
        assert_eq!(iso8601(Duration::from_secs(15 * 86400)), "P15D");
        assert_eq!(iso8601(Duration::from_secs(7 * 86400 + 342)), "P7DT5M42S");
    }
}
