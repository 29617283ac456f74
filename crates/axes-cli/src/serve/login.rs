//! `/admin/login` and `/admin/logout` of `axes serve`. The login is itself
//! protected by axes: it goes through [`AxesLayer`](axes_axum::AxesLayer)
//! and [`AxesAttempt::authenticate`], so guessing admin passwords locks the
//! guesser out like any other login.

use axes_admin::{AdminIdentity, LoginPage, csrf, login_page};
use axes_axum::{AuthRejection, AxesAttempt};
use axes_core::Axes;
use axum::Form;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::accounts::Accounts;
use crate::session::{self, Session, Sessions};

/// What the login routes share.
#[derive(Debug, Clone)]
pub struct LoginState {
    pub axes: Axes,
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub secret: std::sync::Arc<Vec<u8>>,
}

impl LoginState {
    /// The signed-in admin of a request.
    pub fn session(&self, parts: &Parts) -> Option<Session> {
        self.sessions
            .check(&parts.headers, self.axes.now(), &self.accounts)
    }
}

/// Where the admin lives.
pub const BASE: &str = "/admin";

/// `next` if it is a page of the admin, else the dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.len() <= 512
                && (n == BASE || n.starts_with("/admin/"))
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && !n.starts_with("/admin/login")
                && !n.starts_with("/admin/logout") =>
        {
            n.to_owned()
        }
        _ => format!("{BASE}/"),
    }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn page(state: &LoginState, status: StatusCode, p: LoginPage<'_>) -> Response {
    let s = state.axes.settings();
    let html = login_page(&LoginPage {
        base: BASE,
        action: "/admin/login",
        username_field: &s.username_form_field,
        password_field: &s.password_form_field,
        ..p
    });
    let mut resp = (status, Html(html)).into_response();
    axes_admin::harden_response(&mut resp);
    resp
}

fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// `GET /admin/login`
pub async fn form(State(state): State<LoginState>, parts: Parts) -> Response {
    let q = axes_admin::query::pairs(parts.uri.query().unwrap_or("").as_bytes());
    let next = axes_admin::query::last(&q, "next");
    if state.session(&parts).is_some() {
        return Redirect::to(&safe_next(next)).into_response();
    }
    let notice = match axes_admin::query::last(&q, "bye") {
        Some(_) => Some("You have signed out."),
        None if state.accounts.is_empty() => Some(
            "No admin accounts are configured: add admin_users entries (make them with `axes hash-password`).",
        ),
        None => None,
    };
    let next = safe_next(next);
    page(
        &state,
        StatusCode::OK,
        LoginPage {
            next: Some(&next),
            notice,
            ..LoginPage::default()
        },
    )
}

/// `POST /admin/login` (behind the axes layer)
pub async fn login(
    State(state): State<LoginState>,
    parts: Parts,
    attempt: AxesAttempt,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if cross_site(&parts.headers) {
        return (StatusCode::FORBIDDEN, "cross-site login refused").into_response();
    }
    let s = state.axes.settings();
    let username = field(&form, &s.username_form_field)
        .unwrap_or("")
        .trim()
        .to_owned();
    let password = field(&form, &s.password_form_field)
        .unwrap_or("")
        .to_owned();
    let next = safe_next(field(&form, "next"));
    let accounts = state.accounts.clone();
    // The name counted is the name checked (the layer has already refused
    // bodies that name a user twice).
    let outcome = attempt
        .authenticate(&username, |name| async move {
            accounts.verify(&name, password).await
        })
        .await;
    match outcome {
        Ok(name) => {
            let now = state.axes.now();
            // The session is bound to the hash the password was checked
            // against: a new hash (or no account) ends it.
            let issued = state
                .accounts
                .password_hash(&name)
                .ok_or_else(|| format!("the account `{name}` is gone"))
                .and_then(|hash| {
                    state
                        .sessions
                        .issue(&name, hash, now)
                        .map_err(|e| e.to_string())
                });
            let issued = match issued {
                Ok(issued) => issued,
                Err(e) => {
                    tracing::error!("axes serve: cannot start a session: {e}");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            };
            attempt.logged_in(Some(&issued.session.id)).await;
            tracing::info!(target: "axes_admin", admin = %name, "axes admin: {name} signed in");
            let mut resp = Redirect::to(&next).into_response();
            let secure = session::behind_tls(&parts, s);
            if let Some(cookie) = state.sessions.set_cookie(&issued, secure) {
                resp.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(AuthRejection::InvalidCredentials) => page(
            &state,
            StatusCode::UNAUTHORIZED,
            LoginPage {
                error: Some("Wrong username or password."),
                username: Some(&username),
                next: Some(&next),
                ..LoginPage::default()
            },
        ),
        Err(AuthRejection::LockedOut(refused)) => {
            let lockout = refused.lockout();
            let status =
                StatusCode::from_u16(s.http_response_code).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
            let mut resp = page(
                &state,
                status,
                LoginPage {
                    error: Some(&lockout.message),
                    username: Some(&username),
                    next: Some(&next),
                    ..LoginPage::default()
                },
            );
            if let Some(secs) = lockout.retry_after_secs()
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Err(AuthRejection::Backend(e)) => {
            tracing::error!("axes serve: admin password check failed: {e:#}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `POST /admin/logout` (with the admin's CSRF token)
pub async fn logout(
    State(state): State<LoginState>,
    parts: Parts,
    body: axum::body::Bytes,
) -> Response {
    let now = state.axes.now();
    let secure = session::behind_tls(&parts, state.axes.settings());
    let clear = state.sessions.clear_cookie(secure);
    if let Some(s) = state.session(&parts) {
        let form = axes_admin::query::pairs(&body);
        let token = axes_admin::query::last(&form, csrf::FIELD).unwrap_or("");
        let identity = AdminIdentity::new(s.username.clone()).with_session(s.id.clone());
        if cross_site(&parts.headers) || !csrf::verify(&state.secret, &identity, token, now) {
            return (
                StatusCode::FORBIDDEN,
                "The form has expired; reload the page and try again.",
            )
                .into_response();
        }
        let ended = state.sessions.end(&s, now).await;
        state.axes.logged_out(&s.username, Some(&s.id)).await;
        if let Err(e) = ended {
            // This process refuses the session already; a restart might not.
            tracing::error!(
                target: "axes_admin",
                admin = %s.username,
                "axes admin: the logout of {} was not recorded: {e}",
                s.username
            );
            let mut resp = (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Signed out here, but the logout could not be recorded (see the server log).",
            )
                .into_response();
            if let Some(clear) = clear {
                resp.headers_mut().insert(header::SET_COOKIE, clear);
            }
            return resp;
        }
        tracing::info!(target: "axes_admin", admin = %s.username, "axes admin: {} signed out", s.username);
    }
    let mut resp = Redirect::to("/admin/login?bye=1").into_response();
    if let Some(clear) = clear {
        resp.headers_mut().insert(header::SET_COOKIE, clear);
    }
    resp
}
