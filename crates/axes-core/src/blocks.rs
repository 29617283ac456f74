//! Blocks: refusals that do not come from counting failures.
//!
//! A [`Block`] refuses every attempt whose values equal each field its
//! [`BlockTarget`] names, until its `until` (or until it is removed). Two
//! kinds share one table:
//!
//! - [`BlockKind::Manual`]: set by an operator (`axes block`, the admin UI,
//!   the service API); refuses at once, like the deny list, and counts
//!   nothing. Lifted by `axes unblock` (or when `until` passes).
//! - [`BlockKind::Lockout`]: the memory of a key's lockouts, for the
//!   progressive cool-off and the permanent lockout (`cooloff_multiplier`,
//!   `cooloff_max`, `lockout_memory`, `permanent_lockout_after`). Each time
//!   an alternative of the lockout parameters reaches the limit, the engine
//!   calls [`Store::record_lockout`](crate::Store::record_lockout) for that
//!   alternative's values: the row counts the key's lockouts within the
//!   memory, and its `until` is how long this lockout lasts (`None`: until a
//!   reset). A reset of the key's attempts removes these rows too.
//!
//! Stores check blocks inside [`Store::reserve`](crate::Store::reserve) and
//! [`Store::failures`](crate::Store::failures): the engine passes the
//! attempt's candidate targets ([`BlockTarget::candidates`]) and the store
//! answers the refusing block in [`Failures::block`](crate::store::Failures),
//! in the same round trip as the count.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::parameters::{Alternative, Field};
use crate::store::RecordKey;

/// What a block refuses: the attempts whose values equal every field given
/// here. At least one field is set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BlockTarget {
    /// Canonical IP address (or IPv6 network), as in [`RecordKey`].
    pub ip_address: Option<String>,
    /// Normalised username.
    pub username: Option<String>,
    /// User agent (only lockout rows of an alternative with `user_agent`).
    pub user_agent: Option<String>,
}

impl BlockTarget {
    /// A target of these values; `None` when none is given.
    pub fn new(
        ip_address: Option<String>,
        username: Option<String>,
        user_agent: Option<String>,
    ) -> Option<Self> {
        let t = Self {
            ip_address,
            username,
            user_agent,
        };
        (!t.is_empty()).then_some(t)
    }

    /// Whether no field is set (such a target would match everyone and is
    /// never stored).
    pub fn is_empty(&self) -> bool {
        self.ip_address.is_none() && self.username.is_none() && self.user_agent.is_none()
    }

    /// Whether this target refuses an attempt with `key`.
    pub fn matches(&self, key: &RecordKey) -> bool {
        !self.is_empty()
            && self
                .ip_address
                .as_deref()
                .is_none_or(|ip| key.ip_address.as_deref() == Some(ip))
            && self
                .username
                .as_deref()
                .is_none_or(|u| key.username.as_deref() == Some(u))
            && self
                .user_agent
                .as_deref()
                .is_none_or(|ua| key.user_agent == ua)
    }

    /// The values of `key` on the fields of `alt`: the target of that
    /// alternative's lockout. `None` when a field is unknown.
    pub fn of_alternative(key: &RecordKey, alt: &Alternative) -> Option<Self> {
        let mut t = Self {
            ip_address: None,
            username: None,
            user_agent: None,
        };
        for f in alt.fields() {
            match f {
                Field::IpAddress => t.ip_address = Some(key.ip_address.clone()?),
                Field::Username => t.username = Some(key.username.clone()?),
                Field::UserAgent => t.user_agent = Some(key.user_agent.clone()),
            }
        }
        (!t.is_empty()).then_some(t)
    }

    /// Every target that can match `key`: each non-empty combination of its
    /// known fields (at most seven). A store looks these up by exact value.
    pub fn candidates(key: &RecordKey) -> Vec<Self> {
        let mut out = Vec::with_capacity(7);
        // Bits: IP 4, username 2, user agent 1; an unknown field's
        // combinations are skipped (they would repeat a smaller one).
        for mask in 1u8..8 {
            let ip_address = match (mask & 4 != 0, &key.ip_address) {
                (false, _) => None,
                (true, Some(ip)) => Some(ip.clone()),
                (true, None) => continue,
            };
            let username = match (mask & 2 != 0, &key.username) {
                (false, _) => None,
                (true, Some(u)) => Some(u.clone()),
                (true, None) => continue,
            };
            out.push(Self {
                ip_address,
                username,
                user_agent: (mask & 1 != 0).then(|| key.user_agent.clone()),
            });
        }
        out
    }
}

impl std::fmt::Display for BlockTarget {
    /// `ip 203.0.113.7`, `username "alice"`, `ip 203.0.113.7 and username "alice"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(ip) = &self.ip_address {
            parts.push(format!("ip {ip}"));
        }
        if let Some(u) = &self.username {
            parts.push(format!("username {u:?}"));
        }
        if let Some(ua) = &self.user_agent {
            parts.push(format!("user agent {ua:?}"));
        }
        f.write_str(&parts.join(" and "))
    }
}

/// The two kinds of block (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// Set by an operator.
    Manual,
    /// A key's lockout history (progressive cool-off, permanent lockout).
    Lockout,
}

impl BlockKind {
    /// `manual` or `lockout`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Manual => "manual",
            BlockKind::Lockout => "lockout",
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(BlockKind::Manual),
            "lockout" => Some(BlockKind::Lockout),
            _ => None,
        }
    }
}

/// One block row. (`kind`, `target`) is its unique key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// Manual block or lockout history.
    pub kind: BlockKind,
    /// Who is refused.
    #[serde(flatten)]
    pub target: BlockTarget,
    /// Refuses until then; `None`: until removed (an unblock, or a reset
    /// for lockout rows).
    pub until: Option<DateTime<Utc>>,
    /// Manual: when it was set. Lockout: the key's latest lockout.
    pub created_at: DateTime<Utc>,
    /// Manual: who set it (`cli`, `api`, an admin's name). Lockout: "".
    pub created_by: String,
    /// Lockout: the key's lockouts within `lockout_memory`, this one
    /// included. Manual: 0.
    pub lockouts: u32,
}

impl Block {
    /// Whether this block refuses attempts at `now`.
    pub fn refuses(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|u| u > now)
    }

    /// Of two refusing blocks, the one that lasts longer (`None` = forever).
    pub fn outlasts(&self, other: &Block) -> bool {
        match (self.until, other.until) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a > b,
        }
    }
}

/// How long the Nth lockout of a key lasts: the progressive cool-off.
/// Plain data, so that a store can apply it inside its own transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    /// The cool-off of a first lockout (`cooloff_time`); `None`: lockouts
    /// last until a reset anyway.
    pub cooloff: Option<Duration>,
    /// `cooloff_multiplier` (≥ 1).
    pub multiplier: f64,
    /// `cooloff_max`: no lockout lasts longer (`None`: no cap but 100 years).
    pub max: Option<Duration>,
    /// `lockout_memory`: how long a lockout counts for the next one.
    pub memory: Duration,
    /// `permanent_lockout_after`: the Nth lockout lasts until a reset.
    pub permanent_after: Option<u32>,
}

impl Escalation {
    /// The `until` of a key's `n`th lockout (n ≥ 1) starting at `now`;
    /// `None`: until a reset. The first lockout is left to the failure
    /// count (its cool-off): `Some(now)`, a row that refuses nothing. The
    /// 2nd lasts cool-off × m, the 3rd × m², …, capped at `max` (and at 100
    /// years); from `permanent_after` on, until a reset.
    pub fn until(&self, n: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.permanent_after.is_some_and(|p| n >= p) {
            return None;
        }
        let Some(base) = self.cooloff.filter(|_| n > 1) else {
            return Some(now);
        };
        let exponent = i32::try_from(n - 1).unwrap_or(i32::MAX).min(10_000);
        let factor = self.multiplier.max(1.0).powi(exponent);
        let cap = self
            .max
            .unwrap_or_else(|| Duration::days(36_525))
            .min(Duration::days(36_525));
        let ms = (base.num_milliseconds() as f64 * factor).min(cap.num_milliseconds() as f64);
        let d = Duration::milliseconds(ms as i64).max(base.min(cap));
        // At the end of the calendar a lockout ends with it: `None` would
        // turn it permanent, which only `permanent_after` may ask for.
        Some(
            now.checked_add_signed(d)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    /// Whether a lockout that ended at `last` still counts for one at
    /// `now` (always, when its memory reaches past the end of the calendar).
    pub fn remembers(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        last.checked_add_signed(self.memory)
            .is_none_or(|end| end > now)
    }

    /// Whether the lockout history `row` still counts for a lockout at
    /// `now`: the memory runs from the END of the row's latest lockout
    /// (its `until`; a row without one never ends), so a lockout longer
    /// than `lockout_memory` is still remembered when it lifts.
    pub fn remembers_row(&self, row: &Block, now: DateTime<Utc>) -> bool {
        match row.until {
            None => true,
            Some(until) => self.remembers(until.max(row.created_at), now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn key(ip: Option<&str>, user: Option<&str>, ua: &str) -> RecordKey {
        RecordKey {
            scope: String::new(),
            username: user.map(str::to_owned),
            ip_address: ip.map(str::to_owned),
            user_agent: ua.to_owned(),
        }
    }

    #[test]
    fn candidates_are_the_non_empty_combinations_of_known_fields() {
        let k = key(Some("1.2.3.4"), Some("alice"), "ua");
        let c = BlockTarget::candidates(&k);
        assert_eq!(c.len(), 7);
        assert!(c.iter().all(|t| t.matches(&k)));
        let k = key(None, Some("alice"), "");
        assert_eq!(BlockTarget::candidates(&k).len(), 3);
        // Each distinct, each matching; an unknown field adds nothing.
        for k in [
            key(Some("1.2.3.4"), None, "ua"),
            key(None, None, ""),
            key(Some("1.2.3.4"), Some("alice"), ""),
        ] {
            let c = BlockTarget::candidates(&k);
            assert!(c.iter().all(|t| t.matches(&k) && !t.is_empty()));
            let mut d = c.clone();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), c.len());
        }
        assert_eq!(BlockTarget::candidates(&key(None, None, "")).len(), 1);
        assert_eq!(
            BlockTarget::candidates(&key(Some("1.2.3.4"), None, "")).len(),
            3
        );
    }

    #[test]
    fn a_target_matches_only_its_values() {
        let t = BlockTarget::new(Some("1.2.3.4".into()), Some("alice".into()), None).unwrap();
        assert!(t.matches(&key(Some("1.2.3.4"), Some("alice"), "x")));
        assert!(!t.matches(&key(Some("1.2.3.4"), Some("bob"), "x")));
        assert!(!t.matches(&key(None, Some("alice"), "x")));
        assert!(BlockTarget::new(None, None, None).is_none());
    }

    #[test]
    fn escalation_multiplies_up_to_the_cap_and_turns_permanent() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let e = Escalation {
            cooloff: Some(Duration::minutes(10)),
            multiplier: 3.0,
            max: Some(Duration::hours(1)),
            memory: Duration::hours(24),
            permanent_after: Some(5),
        };
        assert_eq!(e.until(1, now), Some(now));
        assert_eq!(e.until(2, now), Some(now + Duration::minutes(30)));
        assert_eq!(e.until(3, now), Some(now + Duration::hours(1)));
        assert_eq!(e.until(4, now), Some(now + Duration::hours(1)));
        assert_eq!(e.until(5, now), None);
        assert_eq!(e.until(u32::MAX, now), None);
        let e = Escalation {
            permanent_after: None,
            max: None,
            ..e
        };
        assert!(e.until(1000, now).is_some());
        assert!(e.remembers(now, now + Duration::hours(23)));
        assert!(!e.remembers(now, now + Duration::hours(24)));
    }
}
