//! The handler's side: the [`AxesAttempt`] extractor.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use axes_core::{Attempt, AuthError, Axes, Lockout, Ticket};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::auth::AuthRejection;
use crate::layer::Shared;
use crate::pending::{Parked, Pending};
use crate::response::{LockoutResponse, RequestInfo};

/// The attempt of the current request, put there by
/// [`AxesLayer`](crate::AxesLayer), with the engine to report its outcome to.
///
/// ```
/// use axes_axum::{AuthRejection, AxesAttempt};
/// use axum::response::{IntoResponse, Response};
///
/// async fn login(attempt: AxesAttempt, axum::Form(form): axum::Form<Vec<(String, String)>>) -> Response {
///     let password = form.iter().find(|(k, _)| k == "password").map(|(_, v)| v.clone());
///     let result = attempt
///         .authenticate(|| async move {
///             // The app's own credential check: Ok(Some(user)) when right.
///             Ok::<_, std::convert::Infallible>((password.as_deref() == Some("s3cret")).then_some("alice"))
///         })
///         .await;
///     match result {
///         Ok(user) => format!("welcome {user}").into_response(),
///         Err(AuthRejection::InvalidCredentials) => "wrong credentials".into_response(),
///         Err(other) => other.into_response(), // the lockout response
///     }
/// }
/// ```
#[derive(Clone)]
pub struct AxesAttempt {
    attempt: Attempt,
    shared: Arc<Shared>,
    request: Arc<RequestInfo>,
    pending: Arc<Pending>,
}

impl fmt::Debug for AxesAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The attempt's form is masked already; keep the output short anyway.
        f.debug_struct("AxesAttempt")
            .field("ip_address", &self.attempt.ip_address)
            .field("username", &self.attempt.username)
            .field("method", &self.attempt.method)
            .field("path", &self.attempt.path)
            .finish_non_exhaustive()
    }
}

impl AxesAttempt {
    pub(crate) fn new(
        attempt: Attempt,
        shared: Arc<Shared>,
        request: Arc<RequestInfo>,
        pending: Arc<Pending>,
    ) -> Self {
        Self {
            attempt,
            shared,
            request,
            pending,
        }
    }

    #[cfg(feature = "axum-login")]
    pub(crate) fn pending(&self) -> &Arc<Pending> {
        &self.pending
    }

    /// The ticket for this attempt: the one the layer reserved, or a new one.
    pub(crate) async fn ticket(&self) -> Result<Ticket, Lockout> {
        take_or_begin(&self.shared.axes, &self.pending, &self.attempt).await
    }

    /// The attempt as built from the request (sensitive fields masked).
    pub fn attempt(&self) -> &Attempt {
        &self.attempt
    }

    /// The username as posted, if any.
    pub fn username(&self) -> Option<&str> {
        self.attempt.username.as_deref()
    }

    /// Replaces the attempt's username, for apps that read it from
    /// elsewhere than `username_form_field` (a header, a multipart body, …).
    pub fn set_username(&mut self, username: Option<String>) {
        self.attempt.username = username;
    }

    /// The engine.
    pub fn axes(&self) -> &Axes {
        &self.shared.axes
    }

    /// The refused request's method, URI and headers.
    pub fn request_info(&self) -> &Arc<RequestInfo> {
        &self.request
    }

    /// Runs the app's credential check under axes (SPEC §3): reserve an
    /// admission slot, call `check`, record the outcome. `Ok(Some(user))`
    /// from `check` means the credentials were right, `Ok(None)` wrong.
    ///
    /// `Err(AuthRejection::LockedOut)` renders as the lockout response;
    /// `Err(AuthRejection::InvalidCredentials)` is for the app to render
    /// (its login form with an error, typically).
    pub async fn authenticate<U, E, F, Fut>(&self, check: F) -> Result<U, AuthRejection<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<U>, E>>,
    {
        let ticket = match self.ticket().await {
            Ok(t) => t,
            Err(lockout) => return Err(AuthRejection::LockedOut(self.lockout_response(lockout))),
        };
        match ticket.run(check).await {
            Ok(user) => Ok(user),
            Err(AuthError::LockedOut(lockout)) => {
                Err(AuthRejection::LockedOut(self.lockout_response(lockout)))
            }
            Err(AuthError::InvalidCredentials) => Err(AuthRejection::InvalidCredentials),
            Err(AuthError::Backend(e)) => Err(AuthRejection::Backend(e)),
        }
    }

    /// The reservation step alone, for flows [`authenticate`](Self::authenticate)
    /// does not fit: finish the ticket with `succeeded()`, `failed()` or
    /// `abandon()`.
    pub async fn begin(&self) -> Result<Ticket, LockoutResponse> {
        self.ticket().await.map_err(|l| self.lockout_response(l))
    }

    /// Records the successful login in the access log (after the session is
    /// established). `session_id` is stored only as its SHA-256 hash.
    pub async fn logged_in(&self, session_id: Option<&str>) {
        self.shared.axes.logged_in(&self.attempt, session_id).await;
    }

    /// The lockout response to this request for `lockout`.
    pub fn lockout_response(&self, lockout: Lockout) -> LockoutResponse {
        LockoutResponse::new(lockout, self.request.clone(), self.shared.responder.clone())
    }
}

/// Takes the ticket the layer parked for `attempt`, or reserves anew (no
/// ticket parked, or the attempt changed since: then the parked one is given
/// back first).
pub(crate) async fn take_or_begin(
    axes: &Axes,
    pending: &Pending,
    attempt: &Attempt,
) -> Result<Ticket, Lockout> {
    match pending.take_for(attempt) {
        Some(Parked::Fresh(ticket)) => return Ok(ticket),
        Some(Parked::Stale(stale)) => stale.abandon().await,
        None => {}
    }
    axes.begin(attempt).await
}

/// [`AxesAttempt`] was extracted on a route without [`AxesLayer`](crate::AxesLayer).
#[derive(Debug, Clone, Copy)]
pub struct MissingAxesLayer;

impl fmt::Display for MissingAxesLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AxesAttempt used on a route without AxesLayer")
    }
}

impl std::error::Error for MissingAxesLayer {}

impl IntoResponse for MissingAxesLayer {
    fn into_response(self) -> Response {
        tracing::error!("axes: {self}; add the layer to the login route");
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AxesAttempt {
    type Rejection = MissingAxesLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AxesAttempt>()
            .cloned()
            .ok_or(MissingAxesLayer)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AxesAttempt {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<AxesAttempt>().cloned())
    }
}
