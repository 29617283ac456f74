//! The rules one attempt is counted by: the default rule
//! (`lockout_parameters`, `failure_limit`, `cooloff_time` and the hooks), or
//! each of the layered `lockout_rules` ([`crate::rules`]) in its own scope —
//! inside the scope of the attempt's trusted device, if it has one.

use std::borrow::Cow;

use super::{Axes, Prepared, counted_parameters};
use crate::device::DEVICE_SCOPE_PREFIX;
use crate::parameters::LockoutParameters;
use crate::settings::Settings;
use crate::store::{Failures, RecordKey, ReservationToken};

/// One rule as it applies to one attempt.
#[derive(Debug)]
pub(crate) struct AppliedRule {
    /// Which of `lockout_rules`; `None`: the default rule.
    pub index: Option<usize>,
    /// The alternatives counted, when narrower than the rule's (a field of
    /// the attempt is unknown).
    pub narrowed: Option<LockoutParameters>,
    /// The attempt's key in the rule's scope; `None`: the attempt's key as
    /// prepared (the default rule).
    pub scoped: Option<RecordKey>,
    /// Refused at this many failures (`None`: never refused).
    pub limit: Option<u32>,
    /// The rule's cool-off.
    pub window: Option<chrono::Duration>,
}

impl AppliedRule {
    /// The alternatives this rule counts the attempt by.
    pub fn parameters<'a>(&'a self, settings: &'a Settings) -> &'a LockoutParameters {
        if let Some(n) = &self.narrowed {
            return n;
        }
        self.index
            .and_then(|i| settings.lockout_rules.get(i))
            .map_or(&settings.lockout_parameters, |r| &r.parameters)
    }

    /// The attempt's record key in this rule's scope.
    pub fn key<'a>(&'a self, p: &'a Prepared) -> &'a RecordKey {
        self.scoped.as_ref().unwrap_or(&p.key)
    }

    /// The rule's text, for messages (`None`: the default rule).
    pub fn describe(&self, settings: &Settings) -> Option<String> {
        self.index
            .and_then(|i| settings.lockout_rules.get(i))
            .map(ToString::to_string)
    }
}

/// A rule and what the store counted for it.
#[derive(Debug)]
pub(crate) struct RuleCount {
    pub rule: AppliedRule,
    pub failures: Failures,
    /// The failure a reservation counted in this rule's scope.
    pub token: Option<ReservationToken>,
}

impl RuleCount {
    /// Whether this rule has reached its limit.
    pub fn reached(&self) -> bool {
        self.rule.limit.is_some_and(|l| self.failures.reached(l))
    }
}

/// What a record's scope counts it by, for people: `None` for the default
/// rule, else e.g. `rule ip_address:100/1day`, `trusted device Zm9v…`, or
/// both.
pub fn describe_scope(scope: &str) -> Option<String> {
    if scope.is_empty() {
        return None;
    }
    // `device:ID`, `device:ID/rule:TEXT`, `rule:TEXT` (a rule's text may
    // hold `/`; a device id never does).
    let (device, rule) = match scope.strip_prefix(DEVICE_SCOPE_PREFIX) {
        Some(rest) => match rest.split_once('/') {
            Some((id, rule)) => (Some(id), Some(rule)),
            None => (Some(rest), None),
        },
        None => (None, Some(scope)),
    };
    let mut parts = Vec::new();
    if let Some(id) = device {
        let short: String = id.chars().take(8).collect();
        parts.push(format!("trusted device {short}…"));
    }
    if let Some(rule) = rule {
        parts.push(match rule.strip_prefix("rule:") {
            Some(text) => format!("rule {text}"),
            None => rule.to_owned(),
        });
    }
    Some(parts.join(", "))
}

/// The highest count over all rules.
pub(crate) fn max_failures(counts: &[RuleCount]) -> u32 {
    counts.iter().map(|c| c.failures.max()).max().unwrap_or(0)
}

fn narrowed(params: Cow<'_, LockoutParameters>) -> Option<LockoutParameters> {
    match params {
        Cow::Borrowed(_) => None,
        Cow::Owned(n) => Some(n),
    }
}

impl Axes {
    /// The rules `p` is counted by; `None` when no rule can count it (every
    /// alternative of every rule needs a field the attempt lacks).
    pub(super) fn applied_rules(&self, p: &Prepared) -> Option<Vec<AppliedRule>> {
        let s = &self.inner.settings;
        if s.lockout_rules.is_empty() {
            let params = counted_parameters(&s.lockout_parameters, &p.key)?;
            return Some(vec![AppliedRule {
                index: None,
                narrowed: narrowed(params),
                scoped: None,
                limit: s.lock_out_at_failure.then(|| self.limit_for(p)),
                window: self.window_for(p),
            }]);
        }
        let mut out = Vec::with_capacity(s.lockout_rules.len());
        for (i, rule) in s.lockout_rules.iter().enumerate() {
            let Some(params) = counted_parameters(&rule.parameters, &p.key) else {
                continue;
            };
            let rule_scope = self.inner.rule_scopes.get(i).cloned().unwrap_or_default();
            let scope = if p.key.scope.is_empty() {
                rule_scope
            } else {
                format!("{}/{rule_scope}", p.key.scope)
            };
            out.push(AppliedRule {
                index: Some(i),
                narrowed: narrowed(params),
                scoped: Some(RecordKey {
                    scope,
                    ..p.key.clone()
                }),
                limit: s.lock_out_at_failure.then_some(rule.failure_limit),
                window: rule.window(),
            });
        }
        (!out.is_empty()).then_some(out)
    }

    /// The window a purge uses ([`Axes::purge_expired`]): records whose
    /// last failure is older than it count for no rule — `cooloff_time`, or
    /// the longest cool-off of the layered rules. `None` (a purge removes
    /// no attempt record) when there is no cool-off, or a rule has none:
    /// those records count until a reset.
    pub fn purge_window(&self) -> Option<chrono::Duration> {
        let s = &self.inner.settings;
        if s.lockout_rules.is_empty() {
            return s.cooloff();
        }
        s.lockout_rules
            .iter()
            .map(crate::rules::LockoutRule::window)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::describe_scope;

    #[test]
    fn scopes_are_described() {
        assert_eq!(describe_scope(""), None);
        assert_eq!(
            describe_scope("rule:ip_address:100/1day").as_deref(),
            Some("rule ip_address:100/1day")
        );
        assert_eq!(
            describe_scope("device:Zm9vYmFyYmF6cXV4").as_deref(),
            Some("trusted device Zm9vYmFy…")
        );
        assert_eq!(
            describe_scope("device:Zm9vYmFyYmF6cXV4/rule:username:5/15m").as_deref(),
            Some("trusted device Zm9vYmFy…, rule username:5/15m")
        );
    }
}
