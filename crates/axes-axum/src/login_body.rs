//! Reading a login request's fields once, and only when they can be read
//! one way.
//!
//! The layer counts the username it reads here before the handler checks a
//! password. Two parsers that read the same bytes differently — a content
//! type one of them takes for a form and the other for JSON, a field given
//! twice where one takes the first and the other the last, a field beyond
//! one parser's cap — would let a client be counted under one name and
//! checked under another. So a login body is read only when it is
//! unambiguous, and refused otherwise:
//!
//! - the `Content-Type` must be exactly `application/x-www-form-urlencoded`
//!   or exactly `application/json` (parameters such as `charset` allowed;
//!   case-insensitive), given once; anything else with a body is
//!   `415 Unsupported Media Type`;
//! - the username and password fields may appear at most once, must be
//!   strings in JSON, and the body may hold at most [`DEFAULT_MAX_FIELDS`]
//!   fields (JSON: a flat object of at most that many keys); anything else
//!   is `400 Bad Request`.
//!
//! This is defence in depth: [`AxesAttempt::authenticate`](crate::AxesAttempt::authenticate)
//! takes the username the handler checks and counts exactly that one.

use std::cell::Cell;
use std::fmt;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use axes_core::Settings;

/// The default bound on the fields of a login body.
pub const DEFAULT_MAX_FIELDS: usize = 64;

/// The kinds of body a login route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// Exactly `application/x-www-form-urlencoded`.
    Form,
    /// Exactly `application/json`.
    Json,
}

impl BodyKind {
    /// The kind announced by the request's `Content-Type`: `Ok(None)` when
    /// there is none, an error when there are several or one that is
    /// neither exactly form nor exactly JSON.
    pub fn of(headers: &HeaderMap) -> Result<Option<Self>, LoginBodyError> {
        let mut values = headers.get_all(header::CONTENT_TYPE).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(LoginBodyError::Ambiguous("more than one Content-Type"));
        }
        let text = value
            .to_str()
            .map_err(|_| LoginBodyError::UnsupportedMediaType)?;
        let essence = text.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            Ok(Some(BodyKind::Form))
        } else if essence.eq_ignore_ascii_case("application/json") {
            Ok(Some(BodyKind::Json))
        } else {
            Err(LoginBodyError::UnsupportedMediaType)
        }
    }
}

/// A login body refused as unreadable or ambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginBodyError {
    /// A body of a type other than exactly form or JSON:
    /// `415 Unsupported Media Type`.
    UnsupportedMediaType,
    /// A body that can be read more than one way: `400 Bad Request`.
    Ambiguous(&'static str),
}

impl fmt::Display for LoginBodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginBodyError::UnsupportedMediaType => f.write_str(
                "a login body must be application/x-www-form-urlencoded or application/json",
            ),
            LoginBodyError::Ambiguous(why) => write!(f, "ambiguous login request: {why}"),
        }
    }
}

impl std::error::Error for LoginBodyError {}

impl IntoResponse for LoginBodyError {
    fn into_response(self) -> Response {
        let status = match self {
            LoginBodyError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            LoginBodyError::Ambiguous(_) => StatusCode::BAD_REQUEST,
        };
        let mut text = self.to_string();
        text.push('\n');
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response()
    }
}

/// The fields of a login body, read one way.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LoginBody {
    /// The username field's value, if present.
    pub username: Option<String>,
    /// Every field with a scalar value, in order (for the attempt's record;
    /// the password among them — mask before storing).
    pub fields: Vec<(String, String)>,
}

impl fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fields hold the password: never print them.
        f.debug_struct("LoginBody")
            .field("username", &self.username)
            .field("fields", &self.fields.len())
            .finish()
    }
}

impl LoginBody {
    /// Reads `body` of `kind`, refusing what is ambiguous. The username and
    /// password fields are `settings.username_form_field` and
    /// `settings.password_form_field` (the password field is also always
    /// `password`, which is masked too).
    ///
    /// ```
    /// use axes_axum::login_body::{BodyKind, LoginBody, LoginBodyError};
    /// use axes_core::Settings;
    ///
    /// let s = Settings::default();
    /// let ok = LoginBody::parse(BodyKind::Form, b"username=alice&password=x", &s, 64).unwrap();
    /// assert_eq!(ok.username.as_deref(), Some("alice"));
    /// let twice = LoginBody::parse(BodyKind::Form, b"username=a&username=b", &s, 64);
    /// assert!(matches!(twice, Err(LoginBodyError::Ambiguous(_))));
    /// ```
    pub fn parse(
        kind: BodyKind,
        body: &[u8],
        settings: &Settings,
        max_fields: usize,
    ) -> Result<Self, LoginBodyError> {
        let names = Credentials::of(settings);
        match kind {
            BodyKind::Form => parse_form(body, &names, max_fields),
            BodyKind::Json => parse_json(body, &names, max_fields),
        }
    }
}

/// The names of the credential fields.
struct Credentials<'a> {
    username: &'a str,
    password: &'a str,
}

/// Which credential a field is: the username, the configured password
/// field, or `password` (always masked).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Credential {
    Username = 0,
    Password = 1,
    PlainPassword = 2,
}

impl<'a> Credentials<'a> {
    fn of(settings: &'a Settings) -> Self {
        Self {
            username: &settings.username_form_field,
            password: &settings.password_form_field,
        }
    }

    fn which(&self, name: &str) -> Option<Credential> {
        if name == self.username {
            Some(Credential::Username)
        } else if name == self.password {
            Some(Credential::Password)
        } else if name == "password" {
            Some(Credential::PlainPassword)
        } else {
            None
        }
    }
}

/// The credential fields seen so far; a second one is refused.
#[derive(Default)]
struct Seen([bool; 3]);

impl Seen {
    fn first(&mut self, field: Option<Credential>) -> Result<(), &'static str> {
        match field {
            Some(c) if std::mem::replace(&mut self.0[c as usize], true) => Err(TWICE),
            _ => Ok(()),
        }
    }
}

fn parse_form(
    body: &[u8],
    names: &Credentials<'_>,
    max_fields: usize,
) -> Result<LoginBody, LoginBodyError> {
    let mut out = LoginBody::default();
    let mut seen = Seen::default();
    for (key, value) in form_urlencoded::parse(body) {
        if out.fields.len() >= max_fields {
            return Err(LoginBodyError::Ambiguous(TOO_MANY));
        }
        let field = names.which(&key);
        seen.first(field).map_err(LoginBodyError::Ambiguous)?;
        let value = value.into_owned();
        if field == Some(Credential::Username) {
            check_username(&value).map_err(LoginBodyError::Ambiguous)?;
            out.username = Some(value.clone());
        }
        out.fields.push((key.into_owned(), value));
    }
    Ok(out)
}

fn parse_json(
    body: &[u8],
    names: &Credentials<'_>,
    max_fields: usize,
) -> Result<LoginBody, LoginBodyError> {
    let refused = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let visitor = ObjectVisitor {
        names,
        max_fields,
        refused: &refused,
    };
    let parsed = de.deserialize_map(visitor).map_err(|_| {
        LoginBodyError::Ambiguous(refused.get().unwrap_or("the body is not a JSON object"))
    })?;
    de.end()
        .map_err(|_| LoginBodyError::Ambiguous("trailing data after the JSON object"))?;
    Ok(parsed)
}

const TOO_MANY: &str = "too many fields";
const TWICE: &str = "a credential field is given twice";
const NOT_STRING: &str = "a credential field is not a string";
const CONTROL: &str = "the username holds control characters";

/// A username with control characters (NUL, line breaks, …) is refused: a
/// backend that stops at NUL would check another name than the one counted.
fn check_username(name: &str) -> Result<(), &'static str> {
    if name.chars().any(char::is_control) {
        Err(CONTROL)
    } else {
        Ok(())
    }
}

struct ObjectVisitor<'a, 'n> {
    names: &'a Credentials<'n>,
    max_fields: usize,
    /// Why the visitor refused the object (serde's error only carries text).
    refused: &'a Cell<Option<&'static str>>,
}

impl ObjectVisitor<'_, '_> {
    fn refuse<E: de::Error>(&self, why: &'static str) -> E {
        self.refused.set(Some(why));
        E::custom(why)
    }
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, '_> {
    type Value = LoginBody;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LoginBody, A::Error> {
        let mut out = LoginBody::default();
        let mut seen = Seen::default();
        let mut keys = 0usize;
        while let Some(key) = map.next_key::<String>()? {
            // Every key counts, kept or skipped.
            keys += 1;
            if keys > self.max_fields {
                return Err(self.refuse(TOO_MANY));
            }
            let field = self.names.which(&key);
            seen.first(field).map_err(|why| self.refuse(why))?;
            if field.is_none() {
                if let Scalar(Some(text)) = map.next_value::<Scalar>()? {
                    out.fields.push((key, text));
                }
                continue;
            }
            let value = map
                .next_value::<String>()
                .map_err(|_| self.refuse(NOT_STRING))?;
            if field == Some(Credential::Username) {
                check_username(&value).map_err(|why| self.refuse(why))?;
                out.username = Some(value.clone());
            }
            out.fields.push((key, value));
        }
        Ok(out)
    }
}

/// A JSON value kept as text when it is a string, number or boolean;
/// skipped (without building it) otherwise.
struct Scalar(Option<String>);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::CONTENT_TYPE, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_exact_types() {
        use BodyKind::*;
        let ok = [
            ("application/x-www-form-urlencoded", Form),
            ("application/x-www-form-urlencoded; charset=UTF-8", Form),
            ("APPLICATION/X-WWW-FORM-URLENCODED;charset=utf-8", Form),
            ("application/json", Json),
            ("Application/JSON; charset=utf-8", Json),
        ];
        for (ct, kind) in ok {
            assert_eq!(BodyKind::of(&headers(&[ct])), Ok(Some(kind)), "{ct}");
        }
        for ct in [
            "application/x-www-form-urlencoded+json",
            "application/x-www-form-urlencodedX",
            "application/vnd.api+json",
            "application/json5",
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/json, application/x-www-form-urlencoded",
            "",
        ] {
            assert_eq!(
                BodyKind::of(&headers(&[ct])),
                Err(LoginBodyError::UnsupportedMediaType),
                "{ct}"
            );
        }
        assert!(matches!(
            BodyKind::of(&headers(&["application/json", "application/json"])),
            Err(LoginBodyError::Ambiguous(_))
        ));
        assert_eq!(BodyKind::of(&HeaderMap::new()), Ok(None));
    }

    fn parse(kind: BodyKind, body: &str) -> Result<LoginBody, LoginBodyError> {
        LoginBody::parse(kind, body.as_bytes(), &Settings::default(), 8)
    }

    #[test]
    fn forms() {
        let b = parse(BodyKind::Form, "username=Al%69ce+&password=p&next=/").unwrap();
        assert_eq!(b.username.as_deref(), Some("Alice "));
        assert_eq!(b.fields.len(), 3);
        for body in [
            "username=decoy&username=alice&password=x",
            "username=alice&password=x&password=y",
            "password=x&username=a&user%6Eame=b",
        ] {
            assert_eq!(
                parse(BodyKind::Form, body),
                Err(LoginBodyError::Ambiguous(TWICE)),
                "{body}"
            );
        }
        let many = format!("{}username=alice", "a=1&".repeat(8));
        assert_eq!(
            parse(BodyKind::Form, &many),
            Err(LoginBodyError::Ambiguous(TOO_MANY))
        );
        // Control characters in the username: a NUL-terminated backend
        // would check "alice".
        for body in [
            "username=alice%00x",
            "username=alice%0A",
            "username=%7Falice",
        ] {
            assert_eq!(
                parse(BodyKind::Form, body),
                Err(LoginBodyError::Ambiguous(CONTROL)),
                "{body}"
            );
        }
        assert_eq!(
            parse(BodyKind::Json, r#"{"username":"alice\u0000x"}"#),
            Err(LoginBodyError::Ambiguous(CONTROL))
        );
        // Other fields may repeat.
        assert!(parse(BodyKind::Form, "x=1&x=2&username=a").is_ok());
        // Undecodable bytes are decoded lossily, the same for every reader.
        let b = LoginBody::parse(BodyKind::Form, b"username=%ZZ\xff", &Settings::default(), 8);
        assert_eq!(b.unwrap().username.as_deref(), Some("%ZZ\u{fffd}"));
    }

    #[test]
    fn json() {
        let b = parse(
            BodyKind::Json,
            r#"{"username":"bob","password":"p","remember":true,"n":1,"deep":{"a":[1]}}"#,
        )
        .unwrap();
        assert_eq!(b.username.as_deref(), Some("bob"));
        assert!(b.fields.contains(&("remember".into(), "true".into())));
        assert!(!b.fields.iter().any(|(k, _)| k == "deep"));
        for (body, why) in [
            (r#"{"username":"a","username":"b"}"#, TWICE),
            (r#"{"username":1,"password":"x"}"#, NOT_STRING),
            (r#"{"username":{"a":"b"}}"#, NOT_STRING),
            (r#"{"password":null}"#, NOT_STRING),
            (
                r#"{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"username":"x"}"#,
                TOO_MANY,
            ),
            (
                r#"{"a":{},"b":[],"c":{},"d":[],"e":{},"f":[],"g":{},"h":[],"username":"x"}"#,
                TOO_MANY,
            ),
            ("[1,2]", "the body is not a JSON object"),
            ("{not json", "the body is not a JSON object"),
            ("username=alice&password=x", "the body is not a JSON object"),
            (
                r#"{"username":"a"} {"username":"b"}"#,
                "trailing data after the JSON object",
            ),
        ] {
            assert_eq!(
                parse(BodyKind::Json, body),
                Err(LoginBodyError::Ambiguous(why)),
                "{body}"
            );
        }
        // Deep nesting in other fields is skipped without recursion: no overflow.
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(BodyKind::Json, &deep).is_ok());
        let deep = format!(
            "{{\"username\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse(BodyKind::Json, &deep).is_err());
    }

    #[test]
    fn custom_credential_fields() {
        let s = Settings {
            username_form_field: "email".into(),
            password_form_field: "pw".into(),
            ..Settings::default()
        };
        let b = LoginBody::parse(BodyKind::Form, b"email=a@b&pw=x&username=zz", &s, 8).unwrap();
        assert_eq!(b.username.as_deref(), Some("a@b"));
        assert!(LoginBody::parse(BodyKind::Form, b"email=a&email=b", &s, 8).is_err());
        assert!(LoginBody::parse(BodyKind::Form, b"pw=a&pw=b", &s, 8).is_err());
    }
}
