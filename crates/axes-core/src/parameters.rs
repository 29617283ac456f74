//! Lockout parameters: which properties of an attempt identify an attacker.
//!
//! A [`LockoutParameters`] is a list of alternatives; each [`Alternative`] is
//! one [`Field`] or a combination of several. A client is locked out when any
//! alternative has reached the failure limit.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One property of an attempt that can identify a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The client's IP address (after proxy resolution and canonicalisation).
    IpAddress,
    /// The normalised username.
    Username,
    /// The `User-Agent` header.
    UserAgent,
}

impl Field {
    /// The setting's spelling of this field.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::IpAddress => "ip_address",
            Field::Username => "username",
            Field::UserAgent => "user_agent",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "ip_address" => Ok(Field::IpAddress),
            "username" => Ok(Field::Username),
            "user_agent" => Ok(Field::UserAgent),
            other => Err(format!(
                "unknown lockout parameter `{other}` (expected ip_address, username or user_agent)"
            )),
        }
    }
}

/// One alternative: a single field or a combination of fields that must all
/// match. Fields are kept sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Alternative {
    fields: Vec<Field>,
}

impl Alternative {
    /// Builds an alternative; `None` when `fields` is empty.
    pub fn new(fields: impl IntoIterator<Item = Field>) -> Option<Self> {
        let mut fields: Vec<Field> = fields.into_iter().collect();
        fields.sort();
        fields.dedup();
        (!fields.is_empty()).then_some(Self { fields })
    }

    /// The fields of this alternative, sorted.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Whether this alternative uses `field`.
    pub fn uses(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }
}

impl fmt::Display for Alternative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(field.as_str())?;
        }
        Ok(())
    }
}

/// The configured alternatives. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutParameters {
    alternatives: Vec<Alternative>,
}

impl Default for LockoutParameters {
    fn default() -> Self {
        Self {
            alternatives: vec![Alternative {
                fields: vec![Field::IpAddress],
            }],
        }
    }
}

impl LockoutParameters {
    /// Builds the parameters; `None` when `alternatives` is empty.
    pub fn new(alternatives: impl IntoIterator<Item = Alternative>) -> Option<Self> {
        let mut out: Vec<Alternative> = Vec::new();
        for alt in alternatives {
            if !out.contains(&alt) {
                out.push(alt);
            }
        }
        (!out.is_empty()).then_some(Self { alternatives: out })
    }

    /// Shorthand for one alternative per field, e.g. `["username", "ip_address"]`.
    pub fn any_of(fields: &[Field]) -> Self {
        Self::new(fields.iter().filter_map(|f| Alternative::new([*f]))).unwrap_or_default()
    }

    /// The alternatives.
    pub fn alternatives(&self) -> &[Alternative] {
        &self.alternatives
    }

    /// Whether any alternative uses `field`.
    pub fn uses(&self, field: Field) -> bool {
        self.alternatives.iter().any(|a| a.uses(field))
    }

    /// Parses the environment form: `ip_address,username+user_agent`.
    pub fn parse_env(s: &str) -> Result<Self, String> {
        let mut alts = Vec::new();
        for part in s.split(',') {
            let fields = part
                .split('+')
                .map(Field::from_str)
                .collect::<Result<Vec<_>, _>>()?;
            alts.push(Alternative::new(fields).ok_or_else(|| "empty alternative".to_owned())?);
        }
        Self::new(alts).ok_or_else(|| "no lockout parameters".to_owned())
    }
}

impl fmt::Display for LockoutParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, alt) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{alt}")?;
        }
        Ok(())
    }
}

impl FromStr for LockoutParameters {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_env(s)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AltRepr {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ParamsRepr {
    Text(String),
    List(Vec<AltRepr>),
}

impl<'de> Deserialize<'de> for LockoutParameters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = ParamsRepr::deserialize(d)?;
        let parsed = match repr {
            ParamsRepr::Text(s) => Self::parse_env(&s),
            ParamsRepr::List(items) => (|| {
                let mut alts = Vec::new();
                for item in items {
                    let names = match item {
                        AltRepr::One(s) => vec![s],
                        AltRepr::Many(v) => v,
                    };
                    let fields = names
                        .iter()
                        .map(|n| Field::from_str(n))
                        .collect::<Result<Vec<_>, _>>()?;
                    alts.push(
                        Alternative::new(fields).ok_or_else(|| "empty combination".to_owned())?,
                    );
                }
                Self::new(alts).ok_or_else(|| "no lockout parameters".to_owned())
            })(),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

impl Serialize for LockoutParameters {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_form_parses_alternatives_and_combinations() {
        let p = LockoutParameters::parse_env("ip_address,username+user_agent").unwrap();
        assert_eq!(p.alternatives().len(), 2);
        assert_eq!(p.alternatives()[0].fields(), &[Field::IpAddress]);
        assert_eq!(
            p.alternatives()[1].fields(),
            &[Field::Username, Field::UserAgent]
        );
        assert_eq!(p.to_string(), "ip_address,username+user_agent");
    }

    #[test]
    fn env_form_rejects_unknown_fields() {
        assert!(LockoutParameters::parse_env("ip,username").is_err());
        assert!(LockoutParameters::parse_env("").is_err());
    }
}
