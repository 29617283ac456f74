//! Layered lockout rules (`lockout_rules`, SPEC §4): several limits at once,
//! each with its own lockout parameters, failure limit and cool-off — e.g.
//! `ip_address:100/24h, ip_address+username:5/15m` (rate-limiter-flexible's
//! and Rack::Attack's layered limits, OWASP's advice).
//!
//! Each rule counts in its own scope ([`crate::store`], "Scopes"), so a
//! rule's window never restarts another rule's count. A client is refused
//! when any rule has reached its limit; an attempt is admitted only when
//! every rule admits it (the engine takes a slot in each, in order, and
//! gives back the ones it took when a later rule refuses).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::parameters::{Alternative, LockoutParameters};
use crate::settings::{MAX_DURATION, parse_duration};

/// The most rules a configuration may have.
pub const MAX_RULES: usize = 8;

/// The longest scope a rule takes (characters): room is left for a trusted
/// device's prefix within [`crate::store::MAX_SCOPE_CHARS`].
pub const MAX_RULE_SCOPE_CHARS: usize = 96;

/// One layered rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutRule {
    /// Which properties this rule counts by.
    pub parameters: LockoutParameters,
    /// Failures before this rule refuses (1 – 1 000 000).
    pub failure_limit: u32,
    /// How long this rule's failures count (`None`: until a reset).
    pub cooloff_time: Option<Duration>,
}

impl LockoutRule {
    /// The scope this rule counts in: `rule:`, its alternatives (sorted)
    /// and its cool-off — not its limit, so tightening or loosening a rule
    /// keeps its records and lockouts; a new cool-off or new parameters
    /// start it afresh. A digest when that text is long. Two rules of one
    /// scope are refused ([`parse_rules_env`]).
    pub fn scope(&self) -> String {
        let mut alts: Vec<String> = self
            .parameters
            .alternatives()
            .iter()
            .map(ToString::to_string)
            .collect();
        alts.sort();
        alts.dedup();
        let window = match self.cooloff_time {
            Some(d) => humantime::format_duration(d).to_string(),
            None => "none".to_owned(),
        };
        let text = format!("{}/{window}", alts.join("|"));
        let scope = format!("rule:{text}");
        if scope.chars().count() <= MAX_RULE_SCOPE_CHARS {
            scope
        } else {
            let digest = hex::encode(Sha256::digest(text.as_bytes()));
            format!("rule:#{}", &digest[..32])
        }
    }

    /// The rule's cool-off as the engine counts it.
    pub fn window(&self) -> Option<chrono::Duration> {
        self.cooloff_time.map(crate::settings::to_chrono)
    }

    fn check(self) -> Result<Self, String> {
        if !(1..=1_000_000).contains(&self.failure_limit) {
            return Err(format!(
                "a rule's failure_limit must be 1 – 1000000, not {}",
                self.failure_limit
            ));
        }
        if let Some(d) = self.cooloff_time {
            if d.is_zero() {
                return Err(
                    "a rule's cooloff_time must be longer than zero (leave it out for \
                            lockouts until reset)"
                        .into(),
                );
            }
            if d > MAX_DURATION {
                return Err("a rule's cooloff_time can be at most 100 years".into());
            }
        }
        Ok(self)
    }
}

/// `params:limit/window`: alternatives separated by `|`, fields of a
/// combination by `+`; no `/window` for lockouts until reset.
impl fmt::Display for LockoutRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, alt) in self.parameters.alternatives().iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "{alt}")?;
        }
        write!(f, ":{}", self.failure_limit)?;
        if let Some(d) = self.cooloff_time {
            write!(f, "/{}", humantime::format_duration(d))?;
        }
        Ok(())
    }
}

impl FromStr for LockoutRule {
    type Err = String;

    /// One rule in its text form, e.g. `ip_address+username:5/15m`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (params, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}`: expected PARAMETERS:LIMIT[/COOLOFF]"))?;
        let (limit, window) = match rest.split_once('/') {
            Some((l, w)) => (l, Some(w)),
            None => (rest, None),
        };
        let mut alts = Vec::new();
        for part in params.split('|') {
            let fields = part
                .split('+')
                .map(|f| crate::parameters::Field::from_str(f.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            alts.push(Alternative::new(fields).ok_or_else(|| "empty alternative".to_owned())?);
        }
        let parameters =
            LockoutParameters::new(alts).ok_or_else(|| "no lockout parameters".to_owned())?;
        let failure_limit = limit
            .trim()
            .parse::<u32>()
            .map_err(|_| format!("`{s}`: the limit must be a whole number"))?;
        let cooloff_time = match window.map(str::trim) {
            None => None,
            Some(w) if w.eq_ignore_ascii_case("none") => None,
            Some(w) => Some(parse_duration(w).map_err(|e| format!("`{s}`: {e}"))?),
        };
        LockoutRule {
            parameters,
            failure_limit,
            cooloff_time,
        }
        .check()
    }
}

/// The TOML form: `[[lockout_rules]]` with `parameters`, `failure_limit`
/// and `cooloff_time` (a duration text such as `"15m"`, or left out).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRepr {
    parameters: LockoutParameters,
    failure_limit: u32,
    #[serde(default)]
    cooloff_time: Option<String>,
}

/// Parses the environment form: rules separated by `,`.
pub fn parse_rules_env(s: &str) -> Result<Vec<LockoutRule>, String> {
    let rules = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(LockoutRule::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    bounded(rules)
}

/// Parses the TOML form: an array of tables.
pub fn parse_rules_toml(v: &toml::Value) -> Result<Vec<LockoutRule>, String> {
    let reprs = Vec::<RuleRepr>::deserialize(v.clone()).map_err(|e| e.to_string())?;
    let mut rules = Vec::new();
    for r in reprs {
        let cooloff_time = match r.cooloff_time.as_deref().map(str::trim) {
            None => None,
            Some(w) if w.is_empty() || w.eq_ignore_ascii_case("none") => None,
            Some(w) => Some(parse_duration(w)?),
        };
        rules.push(
            LockoutRule {
                parameters: r.parameters,
                failure_limit: r.failure_limit,
                cooloff_time,
            }
            .check()?,
        );
    }
    bounded(rules)
}

fn bounded(rules: Vec<LockoutRule>) -> Result<Vec<LockoutRule>, String> {
    if rules.len() > MAX_RULES {
        return Err(format!("at most {MAX_RULES} rules"));
    }
    for (i, r) in rules.iter().enumerate() {
        if let Some(o) = rules[..i].iter().find(|o| o.scope() == r.scope()) {
            return Err(format!(
                "the rules `{o}` and `{r}` count the same parameters over the same cool-off: \
                 keep one (the lower limit is the one that refuses)"
            ));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parameters::Field;

    #[test]
    fn the_env_form_parses_and_prints_back() {
        let rules = parse_rules_env("ip_address:100/24h, ip_address+username:5/15m").unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules[0].parameters,
            LockoutParameters::any_of(&[Field::IpAddress])
        );
        assert_eq!(rules[0].failure_limit, 100);
        assert_eq!(rules[0].cooloff_time, Some(Duration::from_secs(86_400)));
        assert_eq!(rules[1].to_string(), "ip_address+username:5/15m");
        assert_eq!(rules[0].scope(), "rule:ip_address/1day");
        let reordered: LockoutRule = "username|ip_address:3".parse().unwrap();
        assert_eq!(reordered.scope(), "rule:ip_address|username/none");
        let until_reset: LockoutRule = "username|ip_address:3".parse().unwrap();
        assert_eq!(until_reset.cooloff_time, None);
        assert_eq!(until_reset.to_string(), "username|ip_address:3");
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        for (text, want) in [
            ("ip_address", "expected PARAMETERS:LIMIT"),
            ("ip_address:0/1h", "1 – 1000000"),
            ("ip_address:x/1h", "whole number"),
            ("ip_address:3/0s", "longer than zero"),
            ("password:3/1h", "password"),
            ("ip_address:3/1h, ip_address:3/1h", "the same parameters"),
            ("ip_address:3/1h, ip_address:5/60m", "the same parameters"),
            (
                "ip_address|username:3/1h, username|ip_address:3/1h",
                "the same parameters",
            ),
        ] {
            let err = parse_rules_env(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        let nine = (1..=9)
            .map(|i| format!("ip_address:{i}/1h"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_rules_env(&nine).unwrap_err().contains("at most 8"));
    }

    #[test]
    fn long_rules_get_a_bounded_scope() {
        let rule: LockoutRule =
            "ip_address+username+user_agent|username+user_agent|ip_address+user_agent|ip_address|username:1000000/100years"
                .parse()
                .unwrap();
        let scope = rule.scope();
        assert!(scope.chars().count() <= MAX_RULE_SCOPE_CHARS, "{scope}");
        assert!(scope.starts_with("rule:#"));
    }

    #[test]
    fn the_toml_form_parses() {
        let v: toml::Value = toml::from_str(
            r#"
            [[lockout_rules]]
            parameters = ["ip_address"]
            failure_limit = 100
            cooloff_time = "24h"

            [[lockout_rules]]
            parameters = [["ip_address", "username"]]
            failure_limit = 5
            cooloff_time = "15m"
            "#,
        )
        .unwrap();
        let rules = parse_rules_toml(&v["lockout_rules"]).unwrap();
        assert_eq!(
            rules,
            parse_rules_env("ip_address:100/24h, ip_address+username:5/15m").unwrap()
        );
        let bad: toml::Value = toml::from_str(
            "[[r]]\nparameters = [\"ip_address\"]\nfailure_limit = 5\nwindow = \"1h\"\n",
        )
        .unwrap();
        assert!(parse_rules_toml(&bad["r"]).unwrap_err().contains("window"));
    }
}
