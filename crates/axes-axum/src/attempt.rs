//! The handler's side: the [`AxesAttempt`] extractor.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axes_core::{Attempt, AuthError, Axes, Lockout, Ticket};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::auth::AuthRejection;
use crate::layer::Shared;
use crate::pending::Pending;
use crate::response::{LockoutResponse, RequestInfo};

/// The attempt of the current request, put there by
/// [`AxesLayer`](crate::AxesLayer), with the engine to report its outcome to.
///
/// **One identity**: [`authenticate`](Self::authenticate) takes the username
/// the handler is about to check, and that is the name axes counts and
/// refuses. The layer already reserved under the username it read from the
/// body; when the handler's differs (its own parser read the body another
/// way, or it reads the name from elsewhere), the layer's reservation is
/// given back and the checked name is reserved — and refused if it is
/// locked out — before the check runs.
///
/// ```
/// use axes_axum::{AuthRejection, AxesAttempt};
/// use axum::response::{IntoResponse, Response};
///
/// #[derive(serde::Deserialize)]
/// struct Login { username: String, password: String }
///
/// async fn login(attempt: AxesAttempt, axum::Form(form): axum::Form<Login>) -> Response {
///     let result = attempt
///         .authenticate(&form.username, |username| async move {
///             // The app's own credential check: Ok(Some(user)) when right.
///             let ok = username == "alice" && form.password == "s3cret";
///             Ok::<_, std::convert::Infallible>(ok.then_some(username))
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
    /// The username last passed to `authenticate`/`begin`.
    checked: Arc<Mutex<Option<String>>>,
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
            checked: Arc::default(),
        }
    }

    #[cfg(feature = "axum-login")]
    pub(crate) fn pending(&self) -> &Arc<Pending> {
        &self.pending
    }

    /// The attempt as read by the layer (sensitive fields masked). Its
    /// username is the one the layer read from the body, which is not
    /// necessarily the one checked: see [`attempt_for`](Self::attempt_for).
    pub fn attempt(&self) -> &Attempt {
        &self.attempt
    }

    /// This request's attempt for the username `username` (the name a
    /// credential check is about to use).
    pub fn attempt_for(&self, username: &str) -> Attempt {
        let mut attempt = self.attempt.clone();
        attempt.username = Some(username.to_owned());
        attempt
    }

    /// The username the layer read from the body, if any.
    pub fn username(&self) -> Option<&str> {
        self.attempt.username.as_deref()
    }

    /// The engine.
    pub fn axes(&self) -> &Axes {
        &self.shared.axes
    }

    /// The refused request's method, URI and headers.
    pub fn request_info(&self) -> &Arc<RequestInfo> {
        &self.request
    }

    /// Runs the app's credential check for `username` under axes (SPEC §3):
    /// reserve an admission slot for exactly that username (refusing it
    /// when it is locked out), call `check` with it, record the outcome.
    /// `Ok(Some(user))` from `check` means the credentials were right,
    /// `Ok(None)` wrong.
    ///
    /// Pass the username your check uses, and check the one `check` gets:
    /// that is what makes the name counted the name checked.
    ///
    /// `Err(AuthRejection::LockedOut)` renders as the lockout response;
    /// `Err(AuthRejection::InvalidCredentials)` is for the app to render
    /// (its login form with an error, typically).
    pub async fn authenticate<U, E, F, Fut>(
        &self,
        username: &str,
        check: F,
    ) -> Result<U, AuthRejection<E>>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<Option<U>, E>>,
    {
        let ticket = match self.admit(username).await {
            Ok(ticket) => ticket,
            Err(lockout) if self.shared.axes.hides(&lockout) => {
                return Err(AuthRejection::InvalidCredentials);
            }
            Err(lockout) => return Err(AuthRejection::LockedOut(self.lockout_response(lockout))),
        };
        match ticket.run(|| check(username.to_owned())).await {
            Ok(user) => {
                self.trust_device(username);
                Ok(user)
            }
            Err(AuthError::LockedOut(lockout)) => {
                Err(AuthRejection::LockedOut(self.lockout_response(lockout)))
            }
            Err(AuthError::InvalidCredentials) => Err(AuthRejection::InvalidCredentials),
            Err(AuthError::Backend(e)) => Err(AuthRejection::Backend(e)),
        }
    }

    /// The reservation step alone for `username`, for flows
    /// [`authenticate`](Self::authenticate) does not fit: finish the ticket
    /// with `succeeded()`, `failed()` or `abandon()`.
    ///
    /// With `hide_lockout`, check [`LockoutResponse::is_hidden`] on a
    /// refusal and answer it the way you answer a wrong password
    /// ([`authenticate`](Self::authenticate) does that for you).
    pub async fn begin(&self, username: &str) -> Result<Ticket, LockoutResponse> {
        self.admit(username)
            .await
            .map_err(|l| self.lockout_response(l))
    }

    /// The ticket for `username`: the one the layer parked, or a new
    /// reservation; `Err` the refusal.
    async fn admit(&self, username: &str) -> Result<Ticket, Lockout> {
        *self.checked.lock().unwrap_or_else(|e| e.into_inner()) = Some(username.to_owned());
        if let Some(parked) = self.pending.take_for(Some(username)).await {
            return parked;
        }
        self.shared.axes.begin(&self.attempt_for(username)).await
    }

    /// Makes this browser a trusted device of `username` (`trusted_device`):
    /// the layer sets the `axes_device` cookie on the handler's response
    /// (see [`crate::device`]). [`authenticate`](Self::authenticate) does it
    /// when the check accepts; call it after a successful login of your own
    /// flow ([`begin`](Self::begin) and `Ticket::succeeded`). Nothing
    /// happens when `trusted_device` is off.
    pub fn trust_device(&self, username: &str) {
        if let Some(token) = self.shared.axes.issue_device_token(username) {
            self.pending.device().put(token);
        }
    }

    /// Records the successful login in the access log (after the session is
    /// established), under the username that was checked. `session_id` is
    /// stored only as its SHA-256 hash.
    pub async fn logged_in(&self, session_id: Option<&str>) {
        let checked = self
            .checked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let attempt = match checked {
            Some(username) => self.attempt_for(&username),
            None => self.attempt.clone(),
        };
        self.shared.axes.logged_in(&attempt, session_id).await;
    }

    /// The lockout response to this request for `lockout`.
    pub fn lockout_response(&self, lockout: Lockout) -> LockoutResponse {
        let hidden = self.shared.axes.hides(&lockout);
        LockoutResponse::new(lockout, self.request.clone(), self.shared.responder.clone())
            .with_hidden(hidden)
    }
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
