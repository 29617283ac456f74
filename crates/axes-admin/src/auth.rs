//! Who may use the admin: the host application decides.
//!
//! The admin has no users of its own. The host gives it an [`Authorize`]
//! hook that looks at the request (its session cookie, a header, …) and
//! answers with the [`AdminIdentity`] of a staff user, or `None`. Every page
//! and every action asks the hook first.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use http::request::Parts;

/// A staff user, as the host's authorization hook reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminIdentity {
    /// The admin's name: shown in the page and written to the log with
    /// every action.
    pub name: String,
    /// Something that changes with each login (a session id or a hash of
    /// it), so that CSRF tokens die with the session. Optional.
    pub session: Option<String>,
}

impl AdminIdentity {
    /// An admin called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            session: None,
        }
    }

    /// Binds CSRF tokens to this session as well.
    pub fn with_session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }
}

/// The future an [`Authorize`] hook returns.
pub type AuthorizeFuture<'a> = Pin<Box<dyn Future<Output = Option<AdminIdentity>> + Send + 'a>>;

/// The host's notion of staff users.
///
/// Any `Fn(&Parts) -> Option<AdminIdentity>` closure is one; for a hook that
/// must await (a session store, a database) use [`authorize_async`].
pub trait Authorize: Send + Sync + 'static {
    /// The admin making this request, or `None` to refuse it.
    fn authorize<'a>(&'a self, parts: &'a Parts) -> AuthorizeFuture<'a>;
}

impl<F> Authorize for F
where
    F: Fn(&Parts) -> Option<AdminIdentity> + Send + Sync + 'static,
{
    fn authorize<'a>(&'a self, parts: &'a Parts) -> AuthorizeFuture<'a> {
        let who = self(parts);
        Box::pin(std::future::ready(who))
    }
}

/// An asynchronous hook: `f` looks at the request and returns a future
/// (which owns what it needs, e.g. a cloned cookie value).
pub fn authorize_async<F, Fut>(f: F) -> AsyncAuthorize<F>
where
    F: Fn(&Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<AdminIdentity>> + Send + 'static,
{
    AsyncAuthorize(f)
}

/// See [`authorize_async`].
pub struct AsyncAuthorize<F>(F);

impl<F> fmt::Debug for AsyncAuthorize<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncAuthorize")
    }
}

impl<F, Fut> Authorize for AsyncAuthorize<F>
where
    F: Fn(&Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<AdminIdentity>> + Send + 'static,
{
    fn authorize<'a>(&'a self, parts: &'a Parts) -> AuthorizeFuture<'a> {
        Box::pin((self.0)(parts))
    }
}
