//! Building an [`Attempt`] from an HTTP request.

use std::net::IpAddr;

use axes_core::engine::MASK;
use axes_core::{Attempt, Settings};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};

use crate::body::BodyKind;

/// The most query or form fields kept in an attempt (the engine bounds the
/// stored rendering anyway; this bounds the work).
const MAX_FIELDS: usize = 64;

/// Builds the [`Attempt`] of a request.
///
/// - `ip`: the resolved client IP (see [`ClientIpSource`](crate::ClientIpSource)).
/// - `body`: the buffered body, when it was read; for
///   `application/x-www-form-urlencoded` and JSON object bodies the username
///   is taken from the field named by `settings.username_form_field`, and the
///   fields are kept for the record.
///
/// Values of sensitive fields (`password_form_field`,
/// `sensitive_parameters`) are replaced by `********` here already, so the
/// password never travels in the attempt.
///
/// ```
/// use axes_axum::attempt_from_parts;
/// use axes_core::Settings;
///
/// let req = http::Request::post("/login?next=/home")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .header("user-agent", "curl/8")
///     .body(())
///     .unwrap();
/// let (parts, ()) = req.into_parts();
/// let body = b"username=alice&password=hunter2";
/// let a = attempt_from_parts(&parts, Some(body), "192.0.2.1".parse().ok(), &Settings::default());
/// assert_eq!(a.username.as_deref(), Some("alice"));
/// assert_eq!(a.path, "/login");
/// assert_eq!(a.query, vec![("next".to_owned(), "/home".to_owned())]);
/// assert_eq!(a.form[1], ("password".to_owned(), "********".to_owned()));
/// ```
pub fn attempt_from_parts(
    parts: &Parts,
    body: Option<&[u8]>,
    ip: Option<IpAddr>,
    settings: &Settings,
) -> Attempt {
    let query = parts
        .uri
        .query()
        .map(|q| masked(parse_urlencoded(q.as_bytes()), settings))
        .unwrap_or_default();
    let form = match (body, BodyKind::of(&parts.headers)) {
        (Some(body), Some(BodyKind::Form)) => parse_urlencoded(body),
        (Some(body), Some(BodyKind::Json)) => parse_json_object(body),
        _ => Vec::new(),
    };
    let username = form
        .iter()
        .find(|(k, _)| *k == settings.username_form_field)
        .map(|(_, v)| v.clone());
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
        form: masked(form, settings),
    }
}

fn parse_urlencoded(data: &[u8]) -> Vec<(String, String)> {
    form_pairs(data).take(MAX_FIELDS).collect()
}

fn form_pairs(data: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    // serde_urlencoded decodes percent-escapes and `+`, lossily for bad UTF-8.
    data.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let one: Vec<(String, String)> = serde_urlencoded::from_bytes(pair).ok()?;
            one.into_iter().next()
        })
}

fn parse_json_object(data: &[u8]) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(data)
    else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(n) => Some((k, n.to_string())),
            serde_json::Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .take(MAX_FIELDS)
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
        let a = attempt_from_parts(
            &p,
            Some(b"email=Alice%40example.org+&pw=x&other=1"),
            None,
            &settings,
        );
        assert_eq!(a.username.as_deref(), Some("Alice@example.org "));
        assert_eq!(a.http_accept, "text/html, */*");
        assert_eq!(a.method, "POST");
        assert!(a.form.contains(&("pw".into(), MASK.into())));
        assert!(a.form.contains(&("other".into(), "1".into())));
    }

    #[test]
    fn json_body() {
        let p = parts(
            "POST",
            "/api/login",
            &[("content-type", "application/json")],
        );
        let a = attempt_from_parts(
            &p,
            Some(br#"{"username":"bob","password":"secret","remember":true}"#),
            None,
            &Settings::default(),
        );
        assert_eq!(a.username.as_deref(), Some("bob"));
        assert!(a.form.contains(&("password".into(), MASK.into())));
        assert!(a.form.contains(&("remember".into(), "true".into())));
        // Not an object, not JSON: no username, no panic.
        for body in [&b"[1,2]"[..], b"{not json", b"\xff\xfe"] {
            let a = attempt_from_parts(&p, Some(body), None, &Settings::default());
            assert_eq!(a.username, None);
        }
    }

    #[test]
    fn no_body_and_sensitive_query() {
        let p = parts(
            "GET",
            "/login?password=oops&next=%2F",
            &[("user-agent", "UA")],
        );
        let a = attempt_from_parts(&p, None, "192.0.2.1".parse().ok(), &Settings::default());
        assert_eq!(a.username, None);
        assert_eq!(a.user_agent.as_deref(), Some("UA"));
        assert_eq!(
            a.query,
            vec![
                ("password".into(), MASK.into()),
                ("next".into(), "/".into())
            ]
        );
    }

    #[test]
    fn other_content_types_are_not_parsed() {
        let p = parts("POST", "/login", &[("content-type", "text/plain")]);
        let a = attempt_from_parts(&p, Some(b"username=x"), None, &Settings::default());
        assert_eq!(a.username, None);
        assert!(a.form.is_empty());
    }

    #[test]
    fn malformed_form_is_tolerated() {
        let p = parts(
            "POST",
            "/login",
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        let a = attempt_from_parts(
            &p,
            Some(b"&&=&username=%ZZ%&\xff=1"),
            None,
            &Settings::default(),
        );
        assert_eq!(a.username.as_deref(), Some("%ZZ%"));
    }
}
