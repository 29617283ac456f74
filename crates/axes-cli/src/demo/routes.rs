//! The demo's handlers.

use axes_axum::{AuthRejection, AxesAttempt};
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{DemoState, pages};

/// `GET /`: who is logged in.
pub async fn home(State(state): State<DemoState>, headers: HeaderMap) -> Html<String> {
    let session = state.session(&headers);
    Html(pages::home(
        session.as_ref().map(|s| s.username.as_str()),
        state.has_admin(),
    ))
}

/// The query of `GET /login` and `GET /locked`.
#[derive(Debug, serde::Deserialize)]
pub struct UsernameQuery {
    #[serde(default)]
    username: String,
}

/// `GET /login`: the form.
pub async fn login_form(
    State(state): State<DemoState>,
    headers: HeaderMap,
    query: Result<Query<UsernameQuery>, QueryRejection>,
) -> Html<String> {
    let username = query.map(|Query(q)| q.username).unwrap_or_default();
    let session = state.session(&headers);
    Html(state.login_page(
        &username,
        None,
        session.as_ref().map(|s| s.username.as_str()),
    ))
}

/// `POST /login`: the credential check under axes.
pub async fn login(
    State(state): State<DemoState>,
    headers: HeaderMap,
    attempt: AxesAttempt,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let settings = state.axes().settings();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let username = field(&settings.username_form_field);
    let password = field(&settings.password_form_field);

    let users = state.users.clone();
    let outcome = attempt
        .authenticate(&username, |name| async move {
            users.verify(&name, password).await
        })
        .await;
    match outcome {
        Ok(user) => {
            let now = state.axes().now();
            // A login always gets a fresh session (no fixation); the old
            // one ends.
            if let Some(old) = state.session(&headers)
                && let Err(e) = state.sessions.end(&old, now).await
            {
                tracing::error!("demo: {e}");
            }
            let issued = match state.users.password_hash(&user) {
                Some(hash) => state
                    .sessions
                    .issue(&user, hash, now)
                    .map_err(|e| e.to_string()),
                None => Err(format!("the user `{user}` is gone")),
            };
            let issued = match issued {
                Ok(issued) => issued,
                Err(e) => {
                    tracing::error!("demo: cannot start a session: {e}");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            };
            attempt.logged_in(Some(&issued.session.id)).await;
            let mut response = Redirect::to("/").into_response();
            if let Some(cookie) = state.sessions.set_cookie(&issued, false) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(AuthRejection::InvalidCredentials) => (
            StatusCode::UNAUTHORIZED,
            Html(state.login_page(&username, Some("Wrong username or password."), None)),
        )
            .into_response(),
        Err(AuthRejection::Backend(e)) => {
            tracing::error!("demo: password check failed: {e:#}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(locked @ AuthRejection::LockedOut(_)) => locked.into_response(),
    }
}

/// `POST /logout`: ends the session, closes its access-log row.
pub async fn logout(State(state): State<DemoState>, headers: HeaderMap) -> Response {
    if let Some(session) = state.session(&headers) {
        if let Err(e) = state.sessions.end(&session, state.axes().now()).await {
            tracing::error!("demo: {e}");
        }
        state
            .axes()
            .logged_out(&session.username, Some(&session.id))
            .await;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Some(clear) = state.sessions.clear_cookie(false) {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}

/// `GET /locked`: where `lockout_url = "/locked"` may send refused clients.
pub async fn locked(query: Result<Query<UsernameQuery>, QueryRejection>) -> Html<String> {
    let username = query.map(|Query(q)| q.username).unwrap_or_default();
    Html(pages::locked(&username))
}

/// `GET /demo/stats`: how many credential checks ran, and the store's
/// health as the engine sees it. Read-only, no secrets.
pub async fn stats(State(state): State<DemoState>) -> Response {
    let axes = state.axes();
    let st = axes.store_status();
    let mut response = axum::Json(serde_json::json!({
        "credential_checks": state.credential_checks(),
        "store": {
            "kind": axes.store().kind(),
            "available": st.available,
            "outages": st.outages,
            "errors": st.errors,
        },
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /healthz`: 200 `ok` when the store answers a ping within
/// `store_timeout`, else 503. The store is asked, not the engine's last
/// impression: a load balancer that stops sending logins to an unhealthy
/// instance must still see it come back.
pub async fn healthz(State(state): State<DemoState>) -> Response {
    let axes = state.axes();
    // Through the engine: bounded by store_timeout, and a store that came
    // back is noticed (and logged) here even when no logins arrive.
    let answers = axes.ping().await.is_ok();
    let st = axes.store_status();
    let body = format!(
        "{}\nstore: {} {}; engine: {}, {} outages, {} errors\n",
        if answers { "ok" } else { "store unavailable" },
        axes.store().kind(),
        if answers {
            "answers"
        } else {
            "does not answer"
        },
        if st.available {
            "available"
        } else {
            "unavailable"
        },
        st.outages,
        st.errors,
    );
    let status = if answers {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// In front of `/admin`: sends visitors without a session to the login form.
pub async fn require_login(
    State(state): State<DemoState>,
    request: Request,
    next: Next,
) -> Response {
    if state.session(request.headers()).is_some() {
        return next.run(request).await;
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The username and password of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 4096 {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// `GET /api/me` with HTTP Basic credentials: an API that authenticates on
/// every request, GETs included (so `never_lockout_get` applies to it).
/// The username comes from the `Authorization` header, not a form.
pub async fn api_me(
    State(state): State<DemoState>,
    headers: HeaderMap,
    attempt: AxesAttempt,
) -> Response {
    let unauthorized = || {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": "invalid credentials" })),
        )
            .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"axes demo\", charset=\"UTF-8\""),
        );
        r
    };
    let Some((username, password)) = basic_credentials(&headers) else {
        return unauthorized();
    };
    let users = state.users.clone();
    match attempt
        .authenticate(&username, |username| async move {
            users.verify(&username, password).await
        })
        .await
    {
        Ok(user) => axum::Json(serde_json::json!({ "username": user })).into_response(),
        Err(AuthRejection::InvalidCredentials) => unauthorized(),
        Err(AuthRejection::Backend(e)) => {
            tracing::error!("demo: password check failed: {e:#}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(locked @ AuthRejection::LockedOut(_)) => locked.into_response(),
    }
}
