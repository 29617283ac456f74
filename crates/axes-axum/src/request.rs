//! Building an [`Attempt`] from an HTTP request.

use std::net::IpAddr;

use axes_core::engine::MASK;
use axes_core::{Attempt, Settings};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};

use crate::login_body::LoginBody;

/// The most query fields kept in an attempt (the engine bounds the stored
/// rendering anyway; this bounds the work).
const MAX_QUERY_FIELDS: usize = 64;

/// Builds the [`Attempt`] of a request.
///
/// - `ip`: the resolved client IP (see [`ClientIpSource`](crate::ClientIpSource)).
/// - `login`: the body's fields, read once by [`LoginBody::parse`] (which
///   refuses ambiguous bodies); the username is the one it found.
///
/// The device token is the request's one `axes_device` cookie
/// ([`device_token`](crate::device::device_token)).
///
/// Values of sensitive fields (`password_form_field`,
/// `sensitive_parameters`) are replaced by `********` here already, so the
/// password never travels in the attempt.
///
/// ```
/// use axes_axum::attempt_from_parts;
/// use axes_axum::login_body::{BodyKind, LoginBody};
/// use axes_core::Settings;
///
/// let req = http::Request::post("/login?next=/home")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .header("user-agent", "curl/8")
///     .body(())
///     .unwrap();
/// let (parts, ()) = req.into_parts();
/// let s = Settings::default();
/// let body = LoginBody::parse(BodyKind::Form, b"username=alice&password=hunter2", &s, 64).unwrap();
/// let a = attempt_from_parts(&parts, Some(body), "192.0.2.1".parse().ok(), &s);
/// assert_eq!(a.username.as_deref(), Some("alice"));
/// assert_eq!(a.path, "/login");
/// assert_eq!(a.query, vec![("next".to_owned(), "/home".to_owned())]);
/// assert_eq!(a.form[1], ("password".to_owned(), "********".to_owned()));
/// ```
pub fn attempt_from_parts(
    parts: &Parts,
    login: Option<LoginBody>,
    ip: Option<IpAddr>,
    settings: &Settings,
) -> Attempt {
    let query = parts
        .uri
        .query()
        .map(|q| masked(parse_query(q.as_bytes()), settings))
        .unwrap_or_default();
    let LoginBody { username, fields } = login.unwrap_or_default();
    Attempt {
        ip_address: ip,
        username,
        user_agent: header_text(&parts.headers, header::USER_AGENT),
        // Inside a nested router the URI is cut; the original one is the path
        // the client asked for.
        path: parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path(), |o| o.0.path())
            .to_owned(),
        http_accept: all_header_text(&parts.headers, header::ACCEPT),
        method: parts.method.as_str().to_owned(),
        query,
        form: masked(fields, settings),
        // The one `axes_device` cookie (bounded); the engine checks it.
        // Not looked for when devices are off.
        device_token: if settings.trusted_device {
            crate::device::device_token(&parts.headers)
        } else {
            None
        },
    }
}

/// The query's fields, for the record only (never for the username).
fn parse_query(data: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(data)
        .take(MAX_QUERY_FIELDS)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn masked(mut fields: Vec<(String, String)>, settings: &Settings) -> Vec<(String, String)> {
    for (k, v) in &mut fields {
        if settings.is_sensitive(k) {
            *v = MASK.to_owned();
        }
    }
    fields
}

fn text(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).map(text)
}

fn all_header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    let mut out = String::new();
    for v in headers.get_all(name) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(&text(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login_body::BodyKind;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn form_body_and_custom_field() {
        let settings = Settings {
            username_form_field: "email".into(),
            password_form_field: "pw".into(),
            ..Settings::default()
        };
        let p = parts(
            "POST",
            "/accounts/login/",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("accept", "text/html"),
                ("accept", "*/*"),
            ],
        );
        let body = LoginBody::parse(
            BodyKind::Form,
            b"email=Alice%40example.org+&pw=x&other=1",
            &settings,
            64,
        )
        .unwrap();
        let a = attempt_from_parts(&p, Some(body), None, &settings);
        assert_eq!(a.username.as_deref(), Some("Alice@example.org "));
        assert_eq!(a.http_accept, "text/html, */*");
        assert_eq!(a.method, "POST");
        assert!(a.form.contains(&("pw".into(), MASK.into())));
        assert!(a.form.contains(&("other".into(), "1".into())));
    }

    #[test]
    fn json_body_is_masked() {
        let p = parts(
            "POST",
            "/api/login",
            &[("content-type", "application/json")],
        );
        let s = Settings::default();
        let body = LoginBody::parse(
            BodyKind::Json,
            br#"{"username":"bob","password":"secret","remember":true}"#,
            &s,
            64,
        )
        .unwrap();
        let a = attempt_from_parts(&p, Some(body), None, &s);
        assert_eq!(a.username.as_deref(), Some("bob"));
        assert!(a.form.contains(&("password".into(), MASK.into())));
        assert!(a.form.contains(&("remember".into(), "true".into())));
    }

    #[test]
    fn no_body_and_sensitive_query() {
        let p = parts(
            "GET",
            "/login?password=oops&next=%2F&username=mallory",
            &[("user-agent", "UA")],
        );
        let a = attempt_from_parts(&p, None, "192.0.2.1".parse().ok(), &Settings::default());
        // The query is recorded, never read for the username.
        assert_eq!(a.username, None);
        assert_eq!(a.user_agent.as_deref(), Some("UA"));
        assert_eq!(
            a.query,
            vec![
                ("password".into(), MASK.into()),
                ("next".into(), "/".into()),
                ("username".into(), "mallory".into())
            ]
        );
    }
}
