//! # axes-axum — axes for axum and tower
//!
//! Brute-force login protection for axum apps (SPEC §6), on top of the
//! [`axes_core`] engine:
//!
//! - [`AxesLayer`] goes on login routes. It resolves the client IP
//!   ([`ClientIpSource`]: the socket peer, or the forwarded header when the
//!   peer is a trusted proxy), reads the username from form or JSON bodies
//!   (bounded, then handed on to the handler; ambiguous bodies refused, see
//!   [`login_body`]), refuses locked-out clients before the handler runs,
//!   and hands the handler an [`AxesAttempt`].
//! - [`AxesAttempt::authenticate`] wraps the app's credential check for the
//!   username the app checks (one identity: that name is the one counted):
//!   it reserves an admission slot, runs the check, records the outcome, and
//!   returns the user or an [`AuthRejection`] that renders as the lockout
//!   response ([`LockoutResponse`]: status, JSON, redirect or page per the
//!   settings, with `Retry-After`).
//! - With the `axum-login` feature, [`AxesBackend`] decorates an
//!   axum-login `AuthnBackend`.
//! - With `trusted_device`, the layer reads the `axes_device` cookie and,
//!   after a login the check accepted, sets a new one on the response —
//!   no app changes ([`device`]: the cookie's attributes, when it is
//!   `Secure`).
//!
//! Serve the app with connect info, so the layer sees the socket peer:
//! `axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())`.
//!
//! ```
//! use std::net::SocketAddr;
//!
//! use axes_axum::{AuthRejection, AxesAttempt, AxesLayer};
//! use axes_core::{Axes, Handler, Settings};
//! use axum::body::Body;
//! use axum::extract::connect_info::MockConnectInfo;
//! use axum::response::{IntoResponse, Response};
//! use axum::routing::post;
//! use axum::{Form, Router};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! #[derive(serde::Deserialize)]
//! struct Login {
//!     username: String,
//!     password: String,
//! }
//!
//! async fn login(attempt: AxesAttempt, Form(form): Form<Login>) -> Response {
//!     // axes counts the username you pass, and hands it to your check.
//!     let outcome = attempt
//!         .authenticate(&form.username, |username| async move {
//!             // Your credential check: Ok(Some(user)) when right, Ok(None) when wrong.
//!             let ok = username == "alice" && form.password == "s3cret";
//!             Ok::<_, std::convert::Infallible>(ok.then_some(username))
//!         })
//!         .await;
//!     match outcome {
//!         Ok(user) => {
//!             attempt.logged_in(Some("the-new-session-id")).await;
//!             format!("welcome, {user}").into_response()
//!         }
//!         Err(AuthRejection::InvalidCredentials) => {
//!             (StatusCode::UNAUTHORIZED, "wrong username or password").into_response()
//!         }
//!         // Locked out: the lockout response.
//!         Err(refused) => refused.into_response(),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let axes = Axes::builder(Settings { handler: Handler::Memory, ..Settings::default() }).build()?;
//! let app = Router::new()
//!     .route("/login", post(login))
//!     .route_layer(AxesLayer::new(axes)?)
//!     // In a test, stand in for the socket peer that
//!     // `into_make_service_with_connect_info::<SocketAddr>()` provides.
//!     .layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 7], 5000))));
//!
//! let post = |password: &str| {
//!     Request::post("/login")
//!         .header("content-type", "application/x-www-form-urlencoded")
//!         .body(Body::from(format!("username=alice&password={password}")))
//!         .unwrap()
//! };
//! // Two wrong passwords get the app's answer; the third (the default
//! // failure_limit is 3) already gets the lockout, and then even the right
//! // password is refused before it is checked.
//! assert_eq!(app.clone().oneshot(post("guess1")).await?.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(app.clone().oneshot(post("guess2")).await?.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(app.clone().oneshot(post("guess3")).await?.status(), StatusCode::TOO_MANY_REQUESTS);
//! assert_eq!(app.clone().oneshot(post("s3cret")).await?.status(), StatusCode::TOO_MANY_REQUESTS);
//! # Ok(())
//! # }
//! ```
//!
//! The modules are small, one concept each: [`client_ip`], [`request`]
//! (building the [`Attempt`](axes_core::Attempt)), [`body`] (the bounded
//! read), [`layer`], [`attempt`] (the extractor), [`auth`], [`response`],
//! [`html`], [`device`] (trusted-device cookies).

pub mod attempt;
pub mod auth;
#[cfg(feature = "axum-login")]
pub mod backend;
pub mod body;
pub mod client_ip;
pub mod device;
pub mod error;
pub mod html;
pub mod layer;
pub mod login_body;
mod pending;
pub mod request;
pub mod response;

pub use attempt::{AxesAttempt, MissingAxesLayer};
pub use auth::AuthRejection;
#[cfg(feature = "axum-login")]
pub use backend::{AxesBackend, AxesBackendError, AxesCredentials, CredentialsUsername};
pub use body::{BodyError, DEFAULT_BODY_LIMIT};
pub use client_ip::{ClientIp, ClientIpHook, ClientIpSource};
pub use error::LayerError;
pub use html::escape_html;
pub use layer::{AxesLayer, AxesService};
pub use login_body::{LoginBody, LoginBodyError};
pub use request::attempt_from_parts;
pub use response::{LockoutHook, LockoutResponder, LockoutResponse, RequestInfo};

/// The README's code, compiled as a doc test so it never rots.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
