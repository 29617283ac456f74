//! Which clients are locked out now, and when each lockout lifts — asked of
//! the engine ([`Axes::lockout_status`]: the same decision `check` and
//! `begin` make, hooks and lists included), never re-counted here. The
//! records looked at are a bounded page; each is one question to the
//! engine.

use std::collections::HashMap;

use axes_core::store::AttemptRecord;
use axes_core::{Axes, Error, Field, LockoutReason};
use chrono::{DateTime, Utc};

/// How many of the newest attempt records the dashboard asks about.
pub const SCAN_LIMIT: u64 = 200;

/// One locked-out client: the values of one alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedClient {
    /// The alternative, as in the settings (`ip_address`,
    /// `username+user_agent`), or why the client is refused otherwise
    /// (`denied`: the IP lists).
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
    /// Failures the engine counts for it.
    pub failures: u32,
    /// The newest failure.
    pub last_failure: DateTime<Utc>,
    /// When the lockout lifts; `None`: until reset.
    pub lifts_at: Option<DateTime<Utc>>,
    /// The records (of those looked at) that belong to it.
    pub record_ids: Vec<String>,
}

/// One locking alternative of a record: its name, fields, failures and
/// latest failure.
type Group = (String, Vec<Field>, u32, Option<DateTime<Utc>>);

/// The clients of `records` that the engine refuses now, one entry per
/// locking alternative and its values.
pub async fn locked_clients(
    axes: &Axes,
    records: &[AttemptRecord],
) -> Result<Vec<LockedClient>, Error> {
    let now = axes.now();
    let mut out: Vec<LockedClient> = Vec::new();
    let mut index: HashMap<(String, Vec<Option<String>>), usize> = HashMap::new();
    for r in records.iter().filter(|r| r.failures > 0) {
        let status = axes.lockout_status(&r.key).await?;
        let Some(lockout) = &status.check.lockout else {
            continue;
        };
        let lifts_at = status
            .retry_after()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| now + d);
        let mut groups: Vec<Group> = status
            .locking
            .iter()
            .map(|l| {
                let fields = l.alternative.fields().to_vec();
                (
                    l.alternative.to_string(),
                    fields,
                    l.failures,
                    l.last_failure,
                )
            })
            .collect();
        if groups.is_empty() && lockout.reason == LockoutReason::Denied {
            groups.push((
                "denied".into(),
                vec![Field::IpAddress],
                lockout.failures,
                None,
            ));
        }
        for (alternative, fields, failures, last) in groups {
            let values: Vec<Option<String>> = fields
                .iter()
                .map(|f| r.key.get(*f).map(str::to_owned))
                .collect();
            let key = (alternative.clone(), values);
            if let Some(&i) = index.get(&key) {
                out[i].record_ids.push(r.id.clone());
                continue;
            }
            let pick = |f: Field| {
                fields
                    .contains(&f)
                    .then(|| r.key.get(f).map(str::to_owned))
                    .flatten()
            };
            index.insert(key, out.len());
            out.push(LockedClient {
                alternative,
                ip_address: pick(Field::IpAddress),
                username: pick(Field::Username),
                by_username: fields.contains(&Field::Username),
                by_ip: fields.contains(&Field::IpAddress),
                user_agent: pick(Field::UserAgent),
                failures,
                last_failure: last.unwrap_or(r.attempt_time),
                lifts_at,
                record_ids: vec![r.id.clone()],
            });
        }
    }
    out.sort_by(|a, b| {
        b.last_failure
            .cmp(&a.last_failure)
            .then_with(|| a.alternative.cmp(&b.alternative))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use axes_core::store::ListQuery;
    use axes_core::{Attempt, Handler, LockoutParameters, ManualClock, Settings};

    async fn fail(axes: &Axes, ip: &str, user: &str) {
        let a = Attempt::new()
            .ip_address(ip.parse().unwrap())
            .username(user)
            .method("POST");
        if let Ok(t) = axes.begin(&a).await {
            let _ = t.failed().await;
        }
    }

    /// The engine's answer, per-attempt hook included: a limit the
    /// settings do not know of.
    #[tokio::test]
    async fn groups_what_the_engine_says_is_locked() {
        let clock = ManualClock::fixed();
        let settings = Settings {
            handler: Handler::Memory,
            cooloff_time: Some(Duration::from_secs(3600)),
            lockout_parameters: LockoutParameters::parse_env("ip_address,username").unwrap(),
            ..Settings::default()
        };
        let axes = Axes::builder(settings)
            .clock(Arc::new(clock.clone()))
            .failure_limit(|p| {
                if p.key.username.as_deref() == Some("dave") {
                    1
                } else {
                    3
                }
            })
            .build()
            .unwrap();
        fail(&axes, "10.0.0.1", "alice").await;
        fail(&axes, "10.0.0.1", "alice").await;
        clock.advance(chrono::Duration::minutes(1));
        fail(&axes, "10.0.0.1", "bob").await;
        fail(&axes, "10.0.0.2", "carol").await;
        fail(&axes, "10.0.0.3", "dave").await;
        let records = axes.list_attempts(&ListQuery::all()).await.unwrap().items;
        let locked = locked_clients(&axes, &records).await.unwrap();
        assert_eq!(locked.len(), 3, "{locked:?}");
        let ip = locked
            .iter()
            .find(|l| l.ip_address.as_deref() == Some("10.0.0.1"))
            .unwrap();
        assert_eq!((ip.alternative.as_str(), ip.failures), ("ip_address", 3));
        assert_eq!(ip.username, None);
        assert_eq!(ip.record_ids.len(), 2);
        assert_eq!(ip.lifts_at, Some(axes.now() + chrono::Duration::hours(1)));
        // dave: locked by the hook's limit of 1, on both alternatives.
        assert!(locked.iter().any(|l| l.username.as_deref() == Some("dave")));
        assert!(
            locked
                .iter()
                .any(|l| l.ip_address.as_deref() == Some("10.0.0.3"))
        );
        assert!(
            !locked
                .iter()
                .any(|l| l.username.as_deref() == Some("carol"))
        );
    }
}
