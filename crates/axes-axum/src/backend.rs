//! An [axum-login](https://docs.rs/axum-login) decorator (feature
//! `axum-login`): [`AxesBackend`] wraps an app's `AuthnBackend` so that
//! `AuthSession::authenticate` goes through axes.
//!
//! axum-login's backend only sees credentials, not the request, so the
//! request's attempt travels with them: the handler builds
//! [`AxesCredentials`] from the [`AxesAttempt`] extractor (the route carries
//! [`AxesLayer`](crate::AxesLayer)) and the app's own credentials.
//!
//! **One identity**: the inner credentials name their username
//! ([`CredentialsUsername`]), and that — the name the inner backend checks —
//! is the one counted and refused, whatever the layer read from the body.
//!
//! - right credentials: `Ok(Some(user))`, the slot given back (and, with
//!   `trusted_device`, the layer sets the `axes_device` cookie on the
//!   response: [`crate::device`]);
//! - wrong credentials: `Ok(None)`, the failure counted;
//! - locked out (before the check, or by this failure):
//!   `Err(AxesBackendError::LockedOut)` — answer it with
//!   [`AxesAttempt::lockout_response`];
//! - the inner backend failed: `Err(AxesBackendError::Backend)`, nothing
//!   counted.
//!
//! See `examples/axum_login.rs` for a complete app.

use std::fmt;
use std::sync::Arc;

use axes_core::{Attempt, AuthError, Axes, Lockout};
use axum_login::{AuthnBackend, UserId};

use crate::attempt::AxesAttempt;
use crate::pending::Pending;

/// Credentials that name the user they are for: the username
/// [`AxesBackend`] counts is the one the inner backend checks.
///
/// ```
/// use axes_axum::CredentialsUsername;
///
/// #[derive(Clone)]
/// struct Credentials { username: String, password: String }
///
/// impl CredentialsUsername for Credentials {
///     fn username(&self) -> &str { &self.username }
/// }
/// ```
pub trait CredentialsUsername {
    /// The username these credentials are checked for.
    fn username(&self) -> &str;
}

/// Credentials for [`AxesBackend`]: the attempt they belong to, and the
/// inner backend's credentials.
#[derive(Clone)]
pub struct AxesCredentials<C> {
    /// The request's attempt (from [`AxesAttempt::attempt`]); its username
    /// is replaced by the inner credentials' when they are checked.
    pub attempt: Attempt,
    /// The inner backend's credentials.
    pub inner: C,
    /// The admission slot the layer reserved for this request, if any.
    pending: Option<Arc<Pending>>,
}

impl<C> fmt::Debug for AxesCredentials<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The inner credentials hold a password: never print them.
        f.debug_struct("AxesCredentials")
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl<C> AxesCredentials<C> {
    /// Pairs the request's attempt with the app's credentials.
    pub fn new(attempt: &AxesAttempt, inner: C) -> Self {
        Self {
            attempt: attempt.attempt().clone(),
            inner,
            pending: Some(attempt.pending().clone()),
        }
    }
}

/// The error of [`AxesBackend`].
#[derive(Debug)]
pub enum AxesBackendError<E> {
    /// The client is locked out.
    LockedOut(Lockout),
    /// The inner backend failed.
    Backend(E),
}

impl<E> AxesBackendError<E> {
    /// The lockout, if that is what this is.
    pub fn lockout(&self) -> Option<&Lockout> {
        match self {
            AxesBackendError::LockedOut(l) => Some(l),
            AxesBackendError::Backend(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for AxesBackendError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AxesBackendError::LockedOut(l) => f.write_str(&l.message),
            AxesBackendError::Backend(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AxesBackendError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AxesBackendError::LockedOut(_) => None,
            AxesBackendError::Backend(e) => Some(e),
        }
    }
}

/// An `AuthnBackend` decorator that runs every `authenticate` through axes.
#[derive(Debug, Clone)]
pub struct AxesBackend<B> {
    inner: B,
    axes: Axes,
}

impl<B> AxesBackend<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, axes: Axes) -> Self {
        Self { inner, axes }
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The engine.
    pub fn axes(&self) -> &Axes {
        &self.axes
    }
}

impl<B> AuthnBackend for AxesBackend<B>
where
    B: AuthnBackend,
    B::Credentials: CredentialsUsername,
    B::Error: 'static,
{
    type User = B::User;
    type Credentials = AxesCredentials<B::Credentials>;
    type Error = AxesBackendError<B::Error>;

    async fn authenticate(
        &self,
        creds: Self::Credentials,
    ) -> Result<Option<Self::User>, Self::Error> {
        let AxesCredentials {
            mut attempt,
            inner,
            pending,
        } = creds;
        // Count exactly the name the inner backend is about to check.
        attempt.username = Some(inner.username().to_owned());
        let parked = match &pending {
            Some(pending) => pending.take_for(attempt.username.as_deref()).await,
            None => None,
        };
        let ticket = match parked {
            Some(parked) => parked,
            None => self.axes.begin(&attempt).await,
        };
        let result = match ticket {
            Ok(ticket) => ticket.run(|| self.inner.authenticate(inner)).await,
            // hide_lockout: answered like wrong credentials, nothing checked.
            Err(lockout) if self.axes.hides(&lockout) => Err(AuthError::InvalidCredentials),
            Err(lockout) => Err(AuthError::LockedOut(lockout)),
        };
        match result {
            Ok(user) => {
                // trusted_device: the layer sets the cookie on the response.
                if let (Some(pending), Some(name)) = (&pending, &attempt.username)
                    && let Some(token) = self.axes.issue_device_token(name)
                {
                    pending.device().put(token);
                }
                Ok(Some(user))
            }
            Err(AuthError::InvalidCredentials) => Ok(None),
            Err(AuthError::LockedOut(l)) => Err(AxesBackendError::LockedOut(l)),
            Err(AuthError::Backend(e)) => Err(AxesBackendError::Backend(e)),
        }
    }

    async fn get_user(&self, user_id: &UserId<Self>) -> Result<Option<Self::User>, Self::Error> {
        self.inner
            .get_user(user_id)
            .await
            .map_err(AxesBackendError::Backend)
    }
}
