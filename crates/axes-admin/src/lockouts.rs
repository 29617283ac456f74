//! Which clients are locked out now, and when each lockout lifts, computed
//! from attempt records and the settings the way the engine counts (SPEC §2):
//! per alternative of the lockout parameters, the live failures of the
//! records sharing that alternative's values are summed; the client is
//! locked when the sum reaches `failure_limit`, until the newest of those
//! failures is `cooloff_time` old (or until reset without a cool-off).

use std::collections::HashMap;

use axes_core::Settings;
use axes_core::parameters::Field;
use axes_core::store::AttemptRecord;
use chrono::{DateTime, Utc};

/// How many of the newest records the dashboard looks at.
pub const SCAN_LIMIT: u64 = 1000;

/// One locked-out client: the values of one alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedClient {
    /// The alternative, as in the settings (`ip_address`, `username+user_agent`).
    pub alternative: String,
    /// The IP, when the alternative uses it.
    pub ip_address: Option<String>,
    /// The username, when the alternative uses it (`None` also when the
    /// attempts had no username).
    pub username: Option<String>,
    /// Whether the alternative uses the username.
    pub by_username: bool,
    /// Whether the alternative uses the IP.
    pub by_ip: bool,
    /// The user agent, when the alternative uses it.
    pub user_agent: Option<String>,
    /// Live failures summed over the records.
    pub failures: u32,
    /// The newest failure.
    pub last_failure: DateTime<Utc>,
    /// When the lockout lifts; `None`: until reset.
    pub lifts_at: Option<DateTime<Utc>>,
    /// The records that make up the count.
    pub record_ids: Vec<String>,
}

/// The clients locked out at `now` according to `records`.
pub fn locked_clients(
    records: &[AttemptRecord],
    settings: &Settings,
    now: DateTime<Utc>,
) -> Vec<LockedClient> {
    if !settings.enabled || !settings.lock_out_at_failure {
        return Vec::new();
    }
    let limit = settings.failure_limit.max(1);
    let window = settings.cooloff().filter(|w| *w > chrono::Duration::zero());
    let live: Vec<&AttemptRecord> = records
        .iter()
        .filter(|r| r.failures > 0 && window.is_none_or(|w| r.attempt_time > now - w))
        .collect();
    let mut out = Vec::new();
    for alt in settings.lockout_parameters.alternatives() {
        let mut groups: HashMap<Vec<Option<&str>>, Vec<&AttemptRecord>> = HashMap::new();
        for r in &live {
            let key: Vec<Option<&str>> = alt.fields().iter().map(|f| r.key.get(*f)).collect();
            groups.entry(key).or_default().push(r);
        }
        for (_, group) in groups {
            let failures = group
                .iter()
                .fold(0u32, |acc, r| acc.saturating_add(r.failures));
            if failures < limit {
                continue;
            }
            let Some(last_failure) = group.iter().map(|r| r.attempt_time).max() else {
                continue;
            };
            let first = group[0];
            let pick = |f: Field| {
                alt.uses(f)
                    .then(|| first.key.get(f).map(str::to_owned))
                    .flatten()
            };
            out.push(LockedClient {
                alternative: alt.to_string(),
                ip_address: pick(Field::IpAddress),
                username: pick(Field::Username),
                by_username: alt.uses(Field::Username),
                by_ip: alt.uses(Field::IpAddress),
                user_agent: pick(Field::UserAgent),
                failures,
                last_failure,
                lifts_at: window.map(|w| last_failure + w),
                record_ids: group.iter().map(|r| r.id.clone()).collect(),
            });
        }
    }
    out.sort_by(|a, b| {
        b.last_failure
            .cmp(&a.last_failure)
            .then_with(|| a.alternative.cmp(&b.alternative))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axes_core::LockoutParameters;
    use axes_core::store::{AttemptDetails, RecordKey};

    fn rec(id: &str, user: &str, ip: &str, failures: u32, t: DateTime<Utc>) -> AttemptRecord {
        AttemptRecord {
            id: id.into(),
            key: RecordKey {
                username: Some(user.into()),
                ip_address: Some(ip.into()),
                user_agent: "ua".into(),
            },
            details: AttemptDetails::default(),
            failures,
            attempt_time: t,
        }
    }

    #[test]
    fn sums_per_alternative_and_computes_lift_time() {
        let now = Utc::now();
        let records = vec![
            rec(
                "1",
                "alice",
                "10.0.0.1",
                2,
                now - chrono::Duration::minutes(1),
            ),
            rec(
                "2",
                "bob",
                "10.0.0.1",
                1,
                now - chrono::Duration::minutes(5),
            ),
            rec("3", "carol", "10.0.0.2", 2, now),
            rec("4", "dave", "10.0.0.3", 5, now - chrono::Duration::hours(2)),
        ];
        let settings = Settings {
            cooloff_time: Some(std::time::Duration::from_secs(3600)),
            lockout_parameters: LockoutParameters::parse_env("ip_address,username").unwrap(),
            ..Settings::default()
        };
        let locked = locked_clients(&records, &settings, now);
        assert_eq!(locked.len(), 1, "{locked:?}");
        let l = &locked[0];
        assert_eq!(l.ip_address.as_deref(), Some("10.0.0.1"));
        assert_eq!(l.username, None);
        assert_eq!(l.failures, 3);
        assert_eq!(
            l.lifts_at,
            Some(now - chrono::Duration::minutes(1) + chrono::Duration::hours(1))
        );
        let mut ids = l.record_ids.clone();
        ids.sort();
        assert_eq!(ids, ["1", "2"]);

        // Without a cool-off, old records count and lockouts last until reset.
        let settings = Settings {
            lockout_parameters: LockoutParameters::parse_env("ip_address,username").unwrap(),
            ..Settings::default()
        };
        let locked = locked_clients(&records, &settings, now);
        assert_eq!(locked.len(), 3, "{locked:?}");
        assert!(locked.iter().all(|l| l.lifts_at.is_none()));
        assert!(locked.iter().any(|l| l.username.as_deref() == Some("dave")));
    }
}
