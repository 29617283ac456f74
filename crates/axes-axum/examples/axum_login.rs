//! axes in front of an axum-login backend.
//!
//! `AxesBackend` wraps the app's `AuthnBackend`; the login route carries
//! `AxesLayer`, and its handler pairs the request's `AxesAttempt` with the
//! posted credentials. Run it with
//! `cargo run -p axes-axum --example axum_login --features axum-login`
//! and log in at <http://127.0.0.1:3000/login> as `alice` / `wonderland`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axes_axum::{
    AxesAttempt, AxesBackend, AxesBackendError, AxesCredentials, AxesLayer, CredentialsUsername,
    escape_html,
};
use axes_core::{Axes, Handler, Settings};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_login::{AuthManagerLayerBuilder, AuthSession, AuthUser, AuthnBackend, UserId};
use http::StatusCode;
use tower_sessions::{MemoryStore, SessionManagerLayer};

/// A user of the app.
#[derive(Clone)]
struct User {
    name: String,
    password: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl AuthUser for User {
    type Id = String;

    fn id(&self) -> String {
        self.name.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        // A real app returns (part of) the password hash, so that changing
        // the password ends other sessions.
        self.password.as_bytes()
    }
}

/// The posted login form.
#[derive(Clone, serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// The name axes counts is the one the backend checks.
impl CredentialsUsername for Credentials {
    fn username(&self) -> &str {
        &self.username
    }
}

/// The app's own backend: users in memory (a real one hashes passwords).
#[derive(Clone, Debug)]
struct MemoryBackend {
    users: Arc<HashMap<String, User>>,
}

impl AuthnBackend for MemoryBackend {
    type User = User;
    type Credentials = Credentials;
    type Error = Infallible;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, Infallible> {
        Ok(self
            .users
            .get(&creds.username)
            .filter(|u| u.password == creds.password)
            .cloned())
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Infallible> {
        Ok(self.users.get(id).cloned())
    }
}

type Backend = AxesBackend<MemoryBackend>;

const FORM: &str = r#"<form method="post" action="/login">
<input name="username" placeholder="username"> <input name="password" type="password" placeholder="password">
<button>Log in</button></form>"#;

async fn login_page() -> Html<&'static str> {
    Html(FORM)
}

async fn login(
    mut auth: AuthSession<Backend>,
    attempt: AxesAttempt,
    Form(creds): Form<Credentials>,
) -> Response {
    match auth
        .authenticate(AxesCredentials::new(&attempt, creds))
        .await
    {
        Ok(Some(user)) => {
            if auth.login(&user).await.is_err() {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            // tower-sessions assigns the session id when the response is
            // written, so there is none to log yet.
            attempt.logged_in(None).await;
            Redirect::to("/").into_response()
        }
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            Html(format!("<p>Wrong username or password.</p>{FORM}")),
        )
            .into_response(),
        Err(axum_login::Error::Backend(AxesBackendError::LockedOut(lockout))) => {
            attempt.lockout_response(lockout).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn home(auth: AuthSession<Backend>) -> Response {
    match auth.user {
        Some(user) => Html(format!("<p>Hello, {}.</p>", escape_html(&user.name))).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

/// The app: `/login` protected by axes, `/` for logged-in users.
fn app(axes: Axes, users: &[(&str, &str)]) -> Result<Router, axes_axum::LayerError> {
    let users = users
        .iter()
        .map(|(name, password)| {
            let user = User {
                name: (*name).to_owned(),
                password: (*password).to_owned(),
            };
            ((*name).to_owned(), user)
        })
        .collect();
    let backend = AxesBackend::new(
        MemoryBackend {
            users: Arc::new(users),
        },
        axes.clone(),
    );
    let sessions = SessionManagerLayer::new(MemoryStore::default()).with_secure(false);
    let auth = AuthManagerLayerBuilder::new(backend, sessions).build();
    Ok(Router::new()
        .route(
            "/login",
            get(login_page)
                .post(login)
                .route_layer(AxesLayer::new(axes)?),
        )
        .route("/", get(home))
        .layer(auth))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let axes = Axes::builder(Settings {
        handler: Handler::Memory,
        ..Settings::default()
    })
    .build()?;
    let app = app(axes, &[("alice", "wonderland")])?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}/login", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::connect_info::MockConnectInfo;
    use http::{Request, header};
    use tower::ServiceExt;

    fn served(axes: &Axes, peer: [u8; 4]) -> Router {
        app(axes.clone(), &[("alice", "wonderland")])
            .unwrap()
            .layer(MockConnectInfo(SocketAddr::from((peer, 4000))))
    }

    fn post(password: &str) -> Request<Body> {
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("username=alice&password={password}")))
            .unwrap()
    }

    #[tokio::test]
    async fn wrapped_backend_locks_out_and_logs_in() {
        let axes = Axes::builder(Settings {
            handler: Handler::Memory,
            ..Settings::default()
        })
        .build()
        .unwrap();
        let attacker = served(&axes, [198, 51, 100, 1]);
        for expected in [401, 401, 429, 429] {
            let r = attacker.clone().oneshot(post("guess")).await.unwrap();
            assert_eq!(r.status(), expected);
        }
        // Even the right password: refused while locked.
        let r = attacker.clone().oneshot(post("wonderland")).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

        // Another client logs in and gets a session.
        let user = served(&axes, [192, 0, 2, 1]);
        let r = user.clone().oneshot(post("wonderland")).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let r = user
            .oneshot(
                Request::get("/")
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        assert_eq!(&body[..], b"<p>Hello, alice.</p>");

        let logs = axes
            .list_access_logs(&axes_core::store::ListQuery::all())
            .await
            .unwrap();
        assert_eq!(logs.total, 1);
    }
}
