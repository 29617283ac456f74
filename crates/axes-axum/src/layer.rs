//! The tower layer for login routes.

use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axes_core::{Axes, Lockout, LockoutReason};
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::request::Parts;
use http::{Method, header};
use tower::{Layer, Service};

use crate::attempt::AxesAttempt;
use crate::body::{DEFAULT_BODY_LIMIT, read_bounded};
use crate::client_ip::{ClientIp, ClientIpSource};
use crate::device::{over_https, set_cookie};
use crate::error::LayerError;
use crate::login_body::{BodyKind, DEFAULT_MAX_FIELDS, LoginBody, LoginBodyError};
use crate::pending::Pending;
use crate::request::attempt_from_parts;
use crate::response::{LockoutResponder, RequestInfo};

/// What the layer, its services and the extractors share.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) axes: Axes,
    pub(crate) client_ip: ClientIpSource,
    pub(crate) responder: LockoutResponder,
    pub(crate) body_limit: usize,
    pub(crate) max_fields: usize,
    /// The app serves HTTPS itself: device cookies are always `Secure`.
    pub(crate) https: bool,
}

/// Protects login routes: put it on the routes that check credentials
/// (`Router::route_layer` or `MethodRouter::layer`).
///
/// For each request it
///
/// 1. resolves the client IP ([`ClientIpSource`]) and inserts it as a
///    [`ClientIp`] extension;
/// 2. for methods that carry credentials — `POST`, `PUT`, `PATCH` — reads
///    the body with a bound (default 64 KiB; more is answered with
///    `413 Payload Too Large`), takes the username from
///    `username_form_field`, and puts the body back for the handler. The
///    body must be exactly a form (`application/x-www-form-urlencoded`) or
///    exactly JSON (`application/json`), or empty; it is refused when it
///    can be read more than one way (see [`LoginBody`]): another type is
///    `415`, a credential field given twice or too many fields `400`;
/// 3. for those methods, refuses a locked-out client with the lockout
///    response before the handler runs (the refusal is recorded through the
///    engine, so with `reset_cool_off_on_failure_during_lockout` it restarts
///    the cool-off, and it is failure-logged and emits `locked_out`). With
///    `hide_lockout` the request goes on to the handler instead, whose
///    [`AxesAttempt::authenticate`] answers
///    [`AuthRejection::InvalidCredentials`](crate::AuthRejection) for that
///    username without running the credential check;
/// 4. inserts an [`AxesAttempt`] for the handler to run the credential
///    check with ([`AxesAttempt::authenticate`], which counts the username
///    the handler checks — if that is not the one read here, the
///    reservation is taken anew under the checked name);
/// 5. with `trusted_device`, reads the `axes_device` cookie into the
///    attempt, and after a login the handler's check accepted appends the
///    new device cookie to the handler's response (see [`crate::device`]).
///
/// Other methods (a `GET` of the login page, `HEAD`, `OPTIONS`, …) are never
/// refused by the layer: they carry no credentials. Their `AxesAttempt` is
/// still there, and [`AxesAttempt::authenticate`] applies the engine's full
/// policy to them (including `never_lockout_get`).
#[derive(Debug, Clone)]
pub struct AxesLayer {
    shared: Arc<Shared>,
}

impl AxesLayer {
    /// A layer configured by the engine's settings (`trusted_proxies`,
    /// `client_ip_header`, `http_response_code`, `lockout_url`,
    /// `lockout_template` — read now).
    pub fn new(axes: Axes) -> Result<Self, LayerError> {
        let client_ip = ClientIpSource::from_settings(axes.settings())?;
        let responder = LockoutResponder::from_settings(axes.settings())?;
        Ok(Self {
            shared: Arc::new(Shared {
                axes,
                client_ip,
                responder,
                body_limit: DEFAULT_BODY_LIMIT,
                max_fields: DEFAULT_MAX_FIELDS,
                https: false,
            }),
        })
    }

    /// The engine.
    pub fn axes(&self) -> &Axes {
        &self.shared.axes
    }

    /// The lockout responder, to answer refusals elsewhere the same way.
    pub fn responder(&self) -> &LockoutResponder {
        &self.shared.responder
    }

    /// The client IP resolution in use.
    pub fn client_ip_source(&self) -> &ClientIpSource {
        &self.shared.client_ip
    }

    /// Replaces the client IP resolution with `hook`.
    pub fn client_ip(
        mut self,
        hook: impl Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::make_mut(&mut self.shared);
        shared.client_ip = shared.client_ip.clone().with_hook(hook);
        self
    }

    /// Replaces the lockout response with `hook`.
    pub fn lockout_response(
        mut self,
        hook: impl Fn(&Lockout, &RequestInfo) -> Response + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::make_mut(&mut self.shared);
        shared.responder = shared.responder.clone().with_hook(hook);
        self
    }

    /// Sets the bound on the body read (default [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.shared).body_limit = bytes;
        self
    }

    /// Tells the layer the app itself serves HTTPS (it terminates TLS, no
    /// proxy in front): the `axes_device` cookie is then always `Secure`.
    /// Otherwise it is `Secure` when a trusted proxy says the request came
    /// over HTTPS ([`device::over_https`](crate::device::over_https)).
    pub fn https(mut self, https: bool) -> Self {
        Arc::make_mut(&mut self.shared).https = https;
        self
    }

    /// Sets the most fields a login body may hold (default
    /// [`DEFAULT_MAX_FIELDS`]); more is refused with `400 Bad Request`.
    pub fn max_fields(mut self, fields: usize) -> Self {
        Arc::make_mut(&mut self.shared).max_fields = fields;
        self
    }
}

impl<S> Layer<S> for AxesLayer {
    type Service = AxesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AxesService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`AxesLayer`].
#[derive(Debug, Clone)]
pub struct AxesService<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// Reads the body of a request that carries credentials: bounded, and only
/// when it can be read one way ([`LoginBody`]); `Err` is the refusal.
async fn read_login_body(
    shared: &Shared,
    parts: &Parts,
    body: Body,
) -> Result<(Option<LoginBody>, Body), Response> {
    let refuse = |e: LoginBodyError| {
        tracing::debug!("axes: refused a login request: {e}");
        e.into_response()
    };
    let kind = BodyKind::of(&parts.headers).map_err(refuse)?;
    let bytes = read_bounded(&parts.headers, body, shared.body_limit)
        .await
        .map_err(|e| {
            tracing::debug!("axes: {e}");
            e.into_response()
        })?;
    let login = match kind {
        Some(kind) => Some(
            LoginBody::parse(kind, &bytes, shared.axes.settings(), shared.max_fields)
                .map_err(refuse)?,
        ),
        None if bytes.is_empty() => None,
        None => return Err(refuse(LoginBodyError::UnsupportedMediaType)),
    };
    Ok((login, Body::from(bytes)))
}

/// Whether requests of `method` carry credentials and so are checked.
pub fn carries_credentials(method: &Method) -> bool {
    method == Method::POST || method == Method::PUT || method == Method::PATCH
}

impl<S> Service<Request> for AxesService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone may not be ready: keep the ready one for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let ip = shared.client_ip.resolve(&parts);
            parts.extensions.insert(ClientIp(ip));
            let checked = carries_credentials(&parts.method);

            let (login, body) = if checked {
                match read_login_body(&shared, &parts, body).await {
                    Ok(read) => read,
                    Err(refused) => return Ok(refused),
                }
            } else {
                (None, body)
            };
            let attempt = attempt_from_parts(&parts, login, ip, shared.axes.settings());
            let request = Arc::new(RequestInfo::from_parts(&parts));
            // Only a device cookie needs it: not worked out when devices
            // are off.
            let secure = shared.axes.settings().trusted_device
                && (shared.https || over_https(&parts, shared.axes.settings()));
            let device_ttl = shared.axes.settings().trusted_device_ttl;

            // One reservation both refuses a locked-out client before the
            // handler runs and admits the others; the handler's
            // `authenticate` takes the ticket.
            let pending = Arc::new(Pending::default());
            if checked {
                match shared.axes.begin(&attempt).await {
                    // Not attributable from what the layer read (no username
                    // in the body, say): the handler may still name the user
                    // (a header, Basic auth); `authenticate` decides then.
                    Err(lockout) if lockout.reason == LockoutReason::Unidentified => {}
                    // hide_lockout: the handler answers it like a wrong
                    // password, without checking the credentials.
                    Err(lockout) if shared.axes.hides(&lockout) => {
                        pending.put(attempt.username.clone(), Err(lockout));
                    }
                    Err(lockout) => return Ok(shared.responder.respond(&lockout, &request)),
                    Ok(ticket) => pending.put(attempt.username.clone(), Ok(ticket)),
                }
            }
            parts
                .extensions
                .insert(AxesAttempt::new(attempt, shared, request, pending.clone()));
            let mut response = inner.call(Request::from_parts(parts, body)).await;
            // A handler that never checked credentials (a form error, say)
            // does not count as a failure.
            if let Some(unused) = pending.take() {
                unused.abandon().await;
            }
            // A login the check accepted: the browser becomes a trusted
            // device (appended: the app's own cookies stay).
            if let (Ok(response), Some(token)) = (&mut response, pending.device().take())
                && let Some(cookie) = set_cookie(&token, device_ttl, secure)
            {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        })
    }
}
