//! One authentication attempt, as the engine sees it.

use std::net::IpAddr;

/// One authentication call: who, from where, how.
///
/// Build it from a request (the axum integration does), or by hand in tests
/// and non-HTTP code:
///
/// ```
/// use axes_core::Attempt;
/// let attempt = Attempt::new()
///     .ip_address("203.0.113.7".parse().unwrap())
///     .username("alice")
///     .user_agent("curl/8")
///     .path("/login");
/// assert_eq!(attempt.username.as_deref(), Some("alice"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attempt {
    /// The client IP as resolved (see [`crate::identity::ClientIpResolver`]).
    pub ip_address: Option<IpAddr>,
    /// The username as typed; normalised by the engine.
    pub username: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The request path.
    pub path: String,
    /// The `Accept` header.
    pub http_accept: String,
    /// The HTTP method (`POST` unless set).
    pub method: String,
    /// Query parameters (masked before storage).
    pub query: Vec<(String, String)>,
    /// Form parameters. Values of sensitive fields are masked before
    /// storage and never shown by `Debug`.
    pub form: Vec<(String, String)>,
    /// The trusted-device token the client sent (the `axes_device` cookie),
    /// if any: checked by the engine ([`crate::Axes::issue_device_token`]);
    /// a forged, expired or foreign one counts as none. Never stored.
    pub device_token: Option<String>,
}

impl std::fmt::Debug for Attempt {
    /// Form values never appear in debug output (they may hold a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let form: Vec<(&str, &str)> = self
            .form
            .iter()
            .map(|(k, _)| (k.as_str(), "[redacted]"))
            .collect();
        f.debug_struct("Attempt")
            .field("ip_address", &self.ip_address)
            .field("username", &self.username)
            .field("user_agent", &self.user_agent)
            .field("path", &self.path)
            .field("http_accept", &self.http_accept)
            .field("method", &self.method)
            .field("query", &self.query)
            .field("form", &form)
            .field(
                "device_token",
                &self.device_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Attempt {
    /// An empty attempt (method `POST`).
    pub fn new() -> Self {
        Self {
            method: "POST".into(),
            ..Self::default()
        }
    }

    /// Sets the client IP.
    pub fn ip_address(mut self, ip: IpAddr) -> Self {
        self.ip_address = Some(ip);
        self
    }

    /// Sets the username.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the trusted-device token the client sent (`axes_device`).
    pub fn device_token(mut self, token: impl Into<String>) -> Self {
        self.device_token = Some(token.into());
        self
    }

    /// Sets the user agent.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Sets the path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the `Accept` header.
    pub fn http_accept(mut self, accept: impl Into<String>) -> Self {
        self.http_accept = accept.into();
        self
    }

    /// Sets the HTTP method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// Adds the query parameters.
    pub fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }

    /// Adds the form parameters.
    pub fn form(mut self, form: Vec<(String, String)>) -> Self {
        self.form = form;
        self
    }
}
