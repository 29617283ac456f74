//! The rules one attempt is counted by: the default rule
//! (`lockout_parameters`, `failure_limit`, `cooloff_time` and the hooks), or
//! each of the layered `lockout_rules` ([`crate::rules`]) in its own scope —
//! inside the scope of the attempt's trusted device, if it has one.

use std::borrow::Cow;

use super::{Axes, Prepared, counted_parameters};
use crate::device::DEVICE_SCOPE_PREFIX;
use crate::parameters::{Field, LockoutParameters};
use crate::settings::Settings;
use crate::store::{Failures, RecordKey, ReservationToken};

/// One rule as it applies to one attempt.
#[derive(Debug, Clone)]
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
    let (device, rule) = split_scope(scope);
    let mut parts = Vec::new();
    if let Some(id) = device {
        let short: String = id.chars().take(8).collect();
        parts.push(format!("trusted device {short}…"));
    }
    if !rule.is_empty() {
        parts.push(match rule.strip_prefix("rule:") {
            Some(text) => format!("rule {text}"),
            None => rule.to_owned(),
        });
    }
    Some(parts.join(", "))
}

/// The scope of a trusted device's own records.
pub(super) fn device_scope(id: &str) -> String {
    format!("{DEVICE_SCOPE_PREFIX}{id}")
}

/// The one reading of a scope the engine made: the trusted device's id, if
/// any, and the layered rule's scope (`""` for the default rule). Scopes
/// are `device:ID`, `device:ID/rule:…`, `rule:…` or `""` (a rule's text may
/// hold `/`; a device id never does).
pub(super) fn split_scope(scope: &str) -> (Option<&str>, &str) {
    match scope.strip_prefix(DEVICE_SCOPE_PREFIX) {
        Some(rest) => match rest.split_once('/') {
            Some((id, rule)) => (Some(id), rule),
            None => (Some(rest), ""),
        },
        None => (None, scope),
    }
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
    ///
    /// An attempt from a trusted device counts the alternatives that name
    /// the username in the device's scope, and the others (IP address,
    /// user agent) in the rule's own scope, with everyone's: a device
    /// escapes the lockouts others caused on its user's name, never its
    /// address's limit — else an account of one's own and a new cookie per
    /// login would make a fresh address count without end.
    pub(super) fn applied_rules(&self, p: &Prepared) -> Option<Vec<AppliedRule>> {
        let s = &self.inner.settings;
        let limit_of = |l: u32| s.lock_out_at_failure.then_some(l);
        if s.lockout_rules.is_empty() {
            let params = counted_parameters(&s.lockout_parameters, &p.key)?;
            if p.device.is_none() {
                return Some(vec![AppliedRule {
                    index: None,
                    narrowed: narrowed(params),
                    scoped: None,
                    limit: limit_of(self.limit_for(p)),
                    window: self.window_for(p),
                }]);
            }
            let mut out = Vec::with_capacity(2);
            let rule = AppliedRule {
                index: None,
                narrowed: None,
                scoped: None,
                limit: limit_of(self.limit_for(p)),
                window: self.window_for(p),
            };
            Self::push_device_split(&mut out, p, rule, &params, "");
            return (!out.is_empty()).then_some(out);
        }
        let mut out = Vec::with_capacity(s.lockout_rules.len());
        for (i, rule) in s.lockout_rules.iter().enumerate() {
            let Some(params) = counted_parameters(&rule.parameters, &p.key) else {
                continue;
            };
            let rule_scope = self.inner.rule_scopes.get(i).map_or("", String::as_str);
            if p.device.is_some() {
                let applied = AppliedRule {
                    index: Some(i),
                    narrowed: None,
                    scoped: None,
                    limit: limit_of(rule.failure_limit),
                    window: rule.window(),
                };
                Self::push_device_split(&mut out, p, applied, &params, rule_scope);
                continue;
            }
            out.push(AppliedRule {
                index: Some(i),
                narrowed: narrowed(params),
                scoped: Some(RecordKey {
                    scope: rule_scope.to_owned(),
                    ..p.key.clone()
                }),
                limit: limit_of(rule.failure_limit),
                window: rule.window(),
            });
        }
        (!out.is_empty()).then_some(out)
    }

    /// A trusted device's share of one rule (`rule`: counted by `params`,
    /// in the rule's own scope `rule_scope`): its alternatives that name the
    /// username in the device's scope (`p.key.scope`, then the rule's), the
    /// others in the rule's own scope.
    fn push_device_split(
        out: &mut Vec<AppliedRule>,
        p: &Prepared,
        rule: AppliedRule,
        params: &LockoutParameters,
        rule_scope: &str,
    ) {
        let (named, unnamed): (Vec<_>, Vec<_>) = params
            .alternatives()
            .iter()
            .cloned()
            .partition(|a| a.uses(Field::Username));
        let device_scope = if rule_scope.is_empty() {
            p.key.scope.clone()
        } else {
            format!("{}/{rule_scope}", p.key.scope)
        };
        for (alternatives, scope) in [(unnamed, rule_scope.to_owned()), (named, device_scope)] {
            if let Some(params) = LockoutParameters::new(alternatives) {
                out.push(AppliedRule {
                    narrowed: Some(params),
                    scoped: Some(RecordKey {
                        scope,
                        ..p.key.clone()
                    }),
                    ..rule.clone()
                });
            }
        }
    }

    /// The layered rule a record's scope counts for (a device's share
    /// included); `None` for the default rule, or a rule no longer
    /// configured.
    pub(super) fn rule_of_scope(&self, scope: &str) -> Option<&crate::rules::LockoutRule> {
        let (_, rule_scope) = split_scope(scope);
        let i = self
            .inner
            .rule_scopes
            .iter()
            .position(|s| s == rule_scope)?;
        self.inner.settings.lockout_rules.get(i)
    }

    /// The window a purge uses ([`Axes::purge_expired`]): records whose
    /// last failure is older than it count for no rule — `cooloff_time`, or
    /// the longest cool-off of the layered rules. `None` (a purge removes
    /// no attempt record) when there is no cool-off, or a rule has none:
    /// those records count until a reset — and with a `cooloff` hook
    /// ([`crate::AxesBuilder::cooloff`]), which may keep a record longer
    /// than any setting says: purge with [`crate::Store::purge_attempts`]
    /// and your longest cool-off then.
    pub fn purge_window(&self) -> Option<chrono::Duration> {
        let s = &self.inner.settings;
        if self.inner.cooloff.is_some() {
            return None;
        }
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
            describe_scope("rule:ip_address/1day").as_deref(),
            Some("rule ip_address/1day")
        );
        assert_eq!(
            describe_scope("device:Zm9vYmFyYmF6cXV4").as_deref(),
            Some("trusted device Zm9vYmFy…")
        );
        assert_eq!(
            describe_scope("device:Zm9vYmFyYmF6cXV4/rule:username/15m").as_deref(),
            Some("trusted device Zm9vYmFy…, rule username/15m")
        );
    }
}
