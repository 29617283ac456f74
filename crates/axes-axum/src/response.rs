//! What a refused client gets (SPEC §6): the lockout response.
//!
//! In order of precedence:
//!
//! 1. a custom hook, when one is set ([`LockoutResponder::with_hook`]);
//! 2. JSON — `{"error", "failure_limit", "username", "cooloff_time",
//!    "retry_after"}` — when the request's `Accept` contains
//!    `application/json` or it carries `X-Requested-With: XMLHttpRequest`;
//! 3. a `302` redirect to `lockout_url?username=<url-encoded>` when
//!    `lockout_url` is set (not for a store outage, which is no lockout);
//! 4. an HTML page: `lockout_template` when set, else a small built-in page.
//!
//! The status is `http_response_code` (default 429), or 503 when the store
//! is unreachable and `fail_closed` is on. `Retry-After: <seconds>` is set
//! whenever a cool-off applies.
//!
//! # Templates
//!
//! `lockout_template` is a [minijinja](https://docs.rs/minijinja) (Jinja2)
//! template, read and compiled once, when the layer is built — a syntax
//! error stops start-up. Its context: `message`, `failure_limit`,
//! `failures`, `username` (may be none), `cooloff_time` (ISO 8601, none
//! without a cool-off) and `retry_after` (seconds, none without a
//! cool-off). Values are HTML-escaped. Should rendering fail, the built-in
//! page is sent and the error logged.

use std::fmt;
use std::sync::Arc;

use axes_core::settings::iso8601;
use axes_core::{Lockout, LockoutReason, Settings};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};

use crate::error::LayerError;
use crate::html::push_escaped;

/// A replacement for the whole lockout response.
pub type LockoutHook = Arc<dyn Fn(&Lockout, &RequestInfo) -> Response + Send + Sync>;

/// What the lockout response may depend on: the refused request's method,
/// URI and headers.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// The request method.
    pub method: Method,
    /// The request URI.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
}

impl RequestInfo {
    /// The information of a request.
    pub fn from_parts(parts: &Parts) -> Self {
        Self {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
        }
    }

    /// Whether the client asked for JSON: an `Accept` containing
    /// `application/json`, or `X-Requested-With: XMLHttpRequest`.
    pub fn wants_json(&self) -> bool {
        let accepts_json = self.headers.get_all(header::ACCEPT).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.to_ascii_lowercase().contains("application/json"))
        });
        let xhr = self
            .headers
            .get_all("x-requested-with")
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
        accepts_json || xhr
    }
}

/// Renders lockout responses per the settings, or by a hook.
#[derive(Clone)]
pub struct LockoutResponder {
    status: StatusCode,
    lockout_url: Option<String>,
    template: Option<Arc<minijinja::Environment<'static>>>,
    hook: Option<LockoutHook>,
}

/// The name the lockout template is registered under (`.html`: escaping on).
const TEMPLATE_NAME: &str = "lockout.html";

/// Compiles a lockout template.
fn compile(source: String) -> Result<Arc<minijinja::Environment<'static>>, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template_owned(TEMPLATE_NAME, source)?;
    Ok(Arc::new(env))
}

impl fmt::Debug for LockoutResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockoutResponder")
            .field("status", &self.status)
            .field("lockout_url", &self.lockout_url)
            .field("template", &self.template.as_ref().map(|_| "custom"))
            .field("hook", &self.hook.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl LockoutResponder {
    /// The responder configured by `http_response_code`, `lockout_url` and
    /// `lockout_template` (read now).
    pub fn from_settings(settings: &Settings) -> Result<Self, LayerError> {
        let template = match &settings.lockout_template {
            Some(path) => {
                let source =
                    std::fs::read_to_string(path).map_err(|source| LayerError::Template {
                        path: path.clone(),
                        source,
                    })?;
                Some(compile(source).map_err(|e| LayerError::TemplateSyntax {
                    path: path.clone(),
                    reason: e.to_string(),
                })?)
            }
            None => None,
        };
        Ok(Self {
            status: StatusCode::from_u16(settings.http_response_code)
                .unwrap_or(StatusCode::TOO_MANY_REQUESTS),
            lockout_url: settings
                .lockout_url
                .clone()
                .filter(|u| !u.trim().is_empty()),
            template,
            hook: None,
        })
    }

    /// Replaces the response entirely.
    pub fn with_hook(
        mut self,
        hook: impl Fn(&Lockout, &RequestInfo) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Uses `template` (a minijinja template, see the module docs) instead
    /// of the built-in page.
    pub fn with_template(mut self, template: impl Into<String>) -> Result<Self, LayerError> {
        self.template = Some(
            compile(template.into()).map_err(|e| LayerError::TemplateSyntax {
                path: "(given in code)".into(),
                reason: e.to_string(),
            })?,
        );
        Ok(self)
    }

    /// The response for `lockout` to the request described by `request`.
    pub fn respond(&self, lockout: &Lockout, request: &RequestInfo) -> Response {
        match &self.hook {
            Some(hook) => hook(lockout, request),
            None => self.default_response(lockout, request),
        }
    }

    /// The built-in response (what [`respond`](Self::respond) gives without
    /// a hook), for hooks that only adjust it.
    pub fn default_response(&self, lockout: &Lockout, request: &RequestInfo) -> Response {
        let status = match lockout.reason {
            LockoutReason::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            LockoutReason::Unidentified => StatusCode::BAD_REQUEST,
            _ => self.status,
        };
        let mut response = if request.wants_json() {
            (status, axum::Json(json_body(lockout))).into_response()
        } else if let Some(location) = self.redirect_location(lockout) {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::FOUND;
            r.headers_mut().insert(header::LOCATION, location);
            r
        } else {
            let page = match &self.template {
                Some(env) => render_template(env, lockout).unwrap_or_else(|e| {
                    tracing::error!("axes: lockout_template failed to render: {e}");
                    builtin_page(lockout)
                }),
                None => builtin_page(lockout),
            };
            (status, axum::response::Html(page)).into_response()
        };
        if let Some(secs) = lockout.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }

    fn redirect_location(&self, lockout: &Lockout) -> Option<HeaderValue> {
        if matches!(
            lockout.reason,
            LockoutReason::StoreUnavailable | LockoutReason::Unidentified
        ) {
            return None;
        }
        let url = self.lockout_url.as_deref()?;
        let query =
            serde_urlencoded::to_string([("username", lockout.username.as_deref().unwrap_or(""))])
                .unwrap_or_default();
        let sep = if url.contains('?') { '&' } else { '?' };
        match HeaderValue::try_from(format!("{url}{sep}{query}")) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(
                    "axes: lockout_url is not a valid Location header; showing the page instead"
                );
                None
            }
        }
    }
}

/// The JSON body of the lockout response.
pub fn json_body(lockout: &Lockout) -> serde_json::Value {
    serde_json::json!({
        "error": lockout.message,
        "failure_limit": lockout.failure_limit,
        "username": lockout.username,
        "cooloff_time": lockout.cooloff.map(iso8601),
        "retry_after": lockout.retry_after_secs(),
    })
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f6f8;color:#1d2330;\
margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}\
main{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:2rem 2.5rem;max-width:32rem}\
h1{font-size:1.3rem;margin-top:0}p{line-height:1.5}.muted{color:#5b6475;font-size:.9rem}";

fn builtin_page(lockout: &Lockout) -> String {
    let title = match lockout.reason {
        LockoutReason::StoreUnavailable => "Login unavailable",
        LockoutReason::Unidentified => "Bad request",
        _ => "Locked out",
    };
    let mut page = String::with_capacity(1024);
    page.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    page.push_str("<title>");
    page.push_str(title);
    page.push_str("</title><style>");
    page.push_str(STYLE);
    page.push_str("</style></head><body><main><h1>");
    page.push_str(title);
    page.push_str("</h1><p>");
    push_escaped(&mut page, &lockout.message);
    page.push_str("</p>");
    if let Some(secs) = lockout.retry_after_secs() {
        page.push_str("<p class=\"muted\">You can try again in ");
        page.push_str(&humane_secs(secs));
        page.push_str(".</p>");
    }
    page.push_str("</main></body></html>\n");
    page
}

fn humane_secs(secs: u64) -> String {
    match secs {
        0..=1 => "a second".to_owned(),
        2..=119 => format!("{secs} seconds"),
        120..=7199 => format!("{} minutes", secs.div_ceil(60)),
        _ => format!("{} hours", secs.div_ceil(3600)),
    }
}

/// Renders the lockout template (see the module docs).
fn render_template(
    env: &minijinja::Environment<'static>,
    lockout: &Lockout,
) -> Result<String, minijinja::Error> {
    env.get_template(TEMPLATE_NAME)?
        .render(minijinja::context! {
            message => &lockout.message,
            failure_limit => lockout.failure_limit,
            failures => lockout.failures,
            username => &lockout.username,
            cooloff_time => lockout.cooloff.map(iso8601),
            retry_after => lockout.retry_after_secs(),
        })
}

/// A lockout, ready to be answered: the refusal plus what the response
/// depends on. Returned by [`AxesAttempt`](crate::AxesAttempt) and in
/// [`AuthRejection::LockedOut`](crate::AuthRejection::LockedOut).
#[derive(Clone)]
pub struct LockoutResponse {
    lockout: Lockout,
    request: Arc<RequestInfo>,
    responder: LockoutResponder,
    hidden: bool,
}

impl fmt::Debug for LockoutResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockoutResponse")
            .field("lockout", &self.lockout)
            .field("method", &self.request.method)
            .field("uri", &self.request.uri)
            .finish_non_exhaustive()
    }
}

impl LockoutResponse {
    /// A lockout response for `request`, rendered by `responder`.
    pub fn new(lockout: Lockout, request: Arc<RequestInfo>, responder: LockoutResponder) -> Self {
        Self {
            lockout,
            request,
            responder,
            hidden: false,
        }
    }

    /// Marks the refusal as one `hide_lockout` answers like a wrong password.
    pub fn with_hidden(mut self, hidden: bool) -> Self {
        self.hidden = hidden;
        self
    }

    /// Whether `hide_lockout` wants this refusal answered like a wrong
    /// password (the app's own answer; rendering it as a response still
    /// gives the lockout response).
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// The refusal.
    pub fn lockout(&self) -> &Lockout {
        &self.lockout
    }

    /// The refusal, without the response.
    pub fn into_lockout(self) -> Lockout {
        self.lockout
    }
}

impl IntoResponse for LockoutResponse {
    fn into_response(self) -> Response {
        self.responder.respond(&self.lockout, &self.request)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn lockout(retry: Option<u64>) -> Lockout {
        Lockout {
            reason: LockoutReason::TooManyFailures,
            username: Some("<b>bob & co</b>".into()),
            failures: 3,
            failure_limit: 3,
            cooloff: retry.map(|_| Duration::from_secs(1800)),
            retry_after: retry.map(Duration::from_secs),
            message: "Locked <now>".into(),
        }
    }

    #[test]
    fn templates_are_minijinja_and_escape() {
        let r = LockoutResponder::from_settings(&Settings::default())
            .unwrap()
            .with_template(
                "<p>{{ message }}|{{failure_limit}}|{{ username }}|{{ cooloff_time }}|\
                 {% if retry_after is none %}never{% else %}{{ retry_after }}{% endif %}",
            )
            .unwrap();
        let page = render_template(r.template.as_ref().unwrap(), &lockout(Some(90))).unwrap();
        assert_eq!(
            page,
            "<p>Locked &lt;now&gt;|3|&lt;b&gt;bob &amp; co&lt;&#x2f;b&gt;|PT30M|90"
        );
        let page = render_template(r.template.as_ref().unwrap(), &lockout(None)).unwrap();
        assert!(page.ends_with("|never"), "{page}");
    }

    #[test]
    fn a_template_syntax_error_stops_start_up() {
        let err = LockoutResponder::from_settings(&Settings::default())
            .unwrap()
            .with_template("{% if %}")
            .unwrap_err();
        assert!(err.to_string().contains("lockout_template"), "{err}");
    }

    #[test]
    fn builtin_page_escapes_and_tells_time() {
        let page = builtin_page(&lockout(Some(600)));
        assert!(page.contains("Locked &lt;now&gt;"));
        assert!(page.contains("10 minutes"));
        assert!(!page.contains("<now>"));
    }

    #[test]
    fn wants_json() {
        let mut info = RequestInfo::default();
        assert!(!info.wants_json());
        info.headers.insert(
            header::ACCEPT,
            "text/html, Application/JSON;q=0.9".parse().unwrap(),
        );
        assert!(info.wants_json());
        let mut info = RequestInfo::default();
        info.headers
            .insert("x-requested-with", "xmlhttprequest".parse().unwrap());
        assert!(info.wants_json());
    }

    #[test]
    fn redirect_appends_to_existing_query() {
        let settings = Settings {
            lockout_url: Some("/locked?from=login".into()),
            ..Settings::default()
        };
        let r = LockoutResponder::from_settings(&settings).unwrap();
        let loc = r.redirect_location(&lockout(None)).unwrap();
        assert_eq!(
            loc.to_str().unwrap(),
            "/locked?from=login&username=%3Cb%3Ebob+%26+co%3C%2Fb%3E"
        );
    }

    #[test]
    fn missing_template_is_an_error() {
        let settings = Settings {
            lockout_template: Some("/nonexistent/axes/lockout.html".into()),
            ..Settings::default()
        };
        let err = LockoutResponder::from_settings(&settings).unwrap_err();
        assert!(err.to_string().contains("lockout_template"));
    }
}
