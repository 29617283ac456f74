//! Whether a stored client is locked out now, as the engine sees it: the
//! one answer the admin UI, `axes list` and the service give (never a
//! re-count of their own).

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ipnet::Ipv6Net;

use super::{Axes, CheckResult, LockoutReason, Prepared};
use crate::blocks::Block;
use crate::error::Error;
use crate::parameters::Alternative;
use crate::store::{AttemptDetails, RecordKey};

/// The lockout state of one record key ([`Axes::lockout_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    /// The engine's answer, exactly as [`Axes::check`] gives it for an
    /// attempt of this client (hooks, allow and deny lists included).
    pub check: CheckResult,
    /// The alternatives of the lockout parameters that reached the limit,
    /// each with its count and latest failure (empty unless locked out by
    /// failures).
    pub locking: Vec<LockingAlternative>,
    /// The block that refuses the client now, if any: a manual block
    /// (`check`'s reason is then [`LockoutReason::Blocked`]; the block says
    /// who set it and until when), or the lockout history that makes its
    /// lockout last longer than the count (progressive cool-off, permanent
    /// lockout).
    pub block: Option<Block>,
}

/// One alternative that reached the failure limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockingAlternative {
    /// The alternative (`ip_address`, `username+user_agent`, …).
    pub alternative: Alternative,
    /// Live failures counted for it.
    pub failures: u32,
    /// Its latest failure.
    pub last_failure: Option<DateTime<Utc>>,
    /// The limit it reached.
    pub failure_limit: u32,
    /// The layered rule it belongs to (`ip_address:100/1day`; `None`: the
    /// default rule).
    pub rule: Option<String>,
}

impl LockStatus {
    /// Whether the client is refused now: locked out, blocked, or refused
    /// by the IP lists. A stored key that lacks a field the lockout parameters count
    /// by (a record from before the settings changed) is not a client the
    /// engine can refuse: not locked (its `check` says `Unidentified`).
    pub fn is_locked(&self) -> bool {
        self.check
            .lockout
            .as_ref()
            .is_some_and(|l| l.reason != LockoutReason::Unidentified)
    }

    /// How long until the lockout lifts (`None`: not locked, or until reset).
    pub fn retry_after(&self) -> Option<Duration> {
        self.check.lockout.as_ref().and_then(|l| l.retry_after)
    }
}

/// The address hooks and lists see for a stored IP: the address itself, or
/// the first address of a stored IPv6 network (`2001:db8:1:2::/64`).
pub(crate) fn stored_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().or_else(|| {
        text.parse::<Ipv6Net>()
            .ok()
            .map(|n| IpAddr::V6(n.network()))
    })
}

impl Axes {
    /// A stored key as the attempt hooks and lists see: a POST by that
    /// client.
    /// The scope of the key says whether it is a trusted device's (a
    /// layered rule's part of it is not: the engine asks every rule).
    pub(super) fn prepared_of(&self, key: &RecordKey) -> Prepared {
        let device = super::rules::split_scope(&key.scope).0.map(str::to_owned);
        let scope = device
            .as_ref()
            .map(|d| super::rules::device_scope(d))
            .unwrap_or_default();
        Prepared {
            key: RecordKey {
                scope,
                ..key.clone()
            },
            details: AttemptDetails::default(),
            ip: key.ip_address.as_deref().and_then(stored_ip),
            given_username: key.username.clone(),
            method: "POST".to_owned(),
            device,
        }
    }

    /// Whether the client of a stored record key is locked out now: the
    /// same gate, hooks and store count as [`Axes::check`] (for a POST of
    /// that client), from the key as stored — a stored IPv6 network is read
    /// as such, never re-parsed as an address. `Err` when the store fails.
    pub async fn lockout_status(&self, key: &RecordKey) -> Result<LockStatus, Error> {
        let p = self.prepared_of(key);
        let (check, counts) = self.check_prepared(&p, true).await?;
        let block = counts.first().and_then(|c| c.failures.block.clone());
        let mut locking = Vec::new();
        if check.lockout.is_some() {
            let s = self.settings();
            for c in &counts {
                let Some(limit) = c.rule.limit else { continue };
                let rule = c.rule.describe(s);
                for (a, n) in c
                    .rule
                    .parameters(s)
                    .alternatives()
                    .iter()
                    .zip(&c.failures.per_alternative)
                    .filter(|(_, n)| n.failures >= limit)
                {
                    locking.push(LockingAlternative {
                        alternative: a.clone(),
                        failures: n.failures,
                        last_failure: n.last_failure,
                        failure_limit: limit,
                        rule: rule.clone(),
                    });
                }
            }
        }
        Ok(LockStatus {
            check,
            locking,
            block,
        })
    }
}
