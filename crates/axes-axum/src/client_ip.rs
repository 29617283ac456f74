//! Which IP a request comes from (SPEC §3): the socket peer, unless that
//! peer is a trusted proxy; then the right-most untrusted address of the
//! configured forwarded header.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axes_core::Settings;
use axes_core::identity::{ClientIpResolver, fold_mapped};
use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::HeaderName;
use http::request::Parts;

use crate::error::LayerError;

/// A replacement for the built-in client IP resolution.
pub type ClientIpHook = Arc<dyn Fn(&Parts) -> Option<IpAddr> + Send + Sync>;

/// Resolves the client IP of a request.
///
/// The socket peer comes from axum's [`ConnectInfo<SocketAddr>`] (serve the
/// app with `into_make_service_with_connect_info::<SocketAddr>()`) or, in
/// tests, [`MockConnectInfo<SocketAddr>`]. Every instance of the configured
/// header (`client_ip_header`, default `X-Forwarded-For`) is read, but only
/// believed when the peer is one of `trusted_proxies`.
///
/// Without a peer address the IP is unknown (`None`), and so it is when a
/// trusted proxy names a client that is not an address: such attempts are
/// counted by the alternatives that do not use the IP, or refused when
/// there are none — never pooled under one "no IP" key. Serve with connect
/// info.
#[derive(Clone)]
pub struct ClientIpSource {
    resolver: ClientIpResolver,
    header: HeaderName,
    hook: Option<ClientIpHook>,
}

impl fmt::Debug for ClientIpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIpSource")
            .field("resolver", &self.resolver)
            .field("header", &self.header)
            .field("hook", &self.hook.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl ClientIpSource {
    /// The resolution configured by `trusted_proxies` and `client_ip_header`.
    pub fn from_settings(settings: &Settings) -> Result<Self, LayerError> {
        let header = HeaderName::from_bytes(settings.client_ip_header.trim().as_bytes())
            .map_err(|_| LayerError::InvalidHeaderName(settings.client_ip_header.clone()))?;
        Ok(Self {
            resolver: ClientIpResolver::new(settings.trusted_proxies.clone()),
            header,
            hook: None,
        })
    }

    /// Replaces the resolution with `hook` (for a platform that hands the
    /// client IP over some other way). The hook is trusted completely.
    pub fn with_hook(
        mut self,
        hook: impl Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The forwarded header read from trusted proxies.
    pub fn header(&self) -> &HeaderName {
        &self.header
    }

    /// The client IP of a request (IPv4-mapped IPv6 folded to IPv4).
    pub fn resolve(&self, parts: &Parts) -> Option<IpAddr> {
        if let Some(hook) = &self.hook {
            return hook(parts).map(fold_mapped);
        }
        // Every instance, bytes that are not text included: an entry that
        // does not read as an address is malformed (the resolver then
        // answers "unknown"); dropping the value would leave the proxy's own
        // address as the client.
        let mut values = parts.headers.get_all(&self.header).iter();
        match (values.next(), values.next()) {
            (Some(first), Some(second)) => {
                let forwarded: Vec<std::borrow::Cow<'_, str>> = [first, second]
                    .into_iter()
                    .chain(values)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()))
                    .collect();
                self.resolver
                    .resolve(peer_ip(parts), forwarded.iter().map(|v| v.as_ref()))
            }
            // At most one header (nearly every request): nothing to collect.
            (first, _) => {
                let first = first.map(|v| String::from_utf8_lossy(v.as_bytes()));
                self.resolver.resolve(peer_ip(parts), first.as_deref())
            }
        }
    }
}

/// The socket peer of a request, from [`ConnectInfo`] or [`MockConnectInfo`].
pub fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .or_else(|| {
            parts
                .extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|MockConnectInfo(addr)| addr.ip())
        })
}

/// The client IP as resolved by the [`AxesLayer`](crate::AxesLayer)
/// (trusted proxies honoured). On routes without the layer it falls back to
/// the socket peer, never to a header.
///
/// ```
/// use axes_axum::ClientIp;
/// async fn handler(ClientIp(ip): ClientIp) -> String {
///     ip.map_or("unknown".to_owned(), |ip| ip.to_string())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or_else(|| ClientIp(peer_ip(parts).map(fold_mapped))))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let ClientIp(ip) =
            <ClientIp as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Ok(ip.map(|ip| ClientIp(Some(ip))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri("/login");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (mut parts, ()) = b.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 4000)));
        parts
    }

    fn source(trusted: &[&str]) -> ClientIpSource {
        let settings = Settings {
            trusted_proxies: trusted.iter().map(|s| s.parse().unwrap()).collect(),
            ..Settings::default()
        };
        ClientIpSource::from_settings(&settings).unwrap()
    }

    #[test]
    fn header_ignored_from_untrusted_peer() {
        let p = parts("203.0.113.5", &[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(source(&[]).resolve(&p), "203.0.113.5".parse().ok());
    }

    #[test]
    fn all_header_instances_from_trusted_proxy() {
        let p = parts(
            "10.0.0.1",
            &[
                ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
                ("x-forwarded-for", "10.0.0.2"),
            ],
        );
        assert_eq!(
            source(&["10.0.0.0/8"]).resolve(&p),
            "198.51.100.7".parse().ok()
        );
    }

    #[test]
    fn custom_header_and_mapped_peer() {
        let settings = Settings {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            client_ip_header: "X-Real-IP".into(),
            ..Settings::default()
        };
        let src = ClientIpSource::from_settings(&settings).unwrap();
        let p = parts("::ffff:127.0.0.1", &[("x-real-ip", "192.0.2.4")]);
        assert_eq!(src.resolve(&p), "192.0.2.4".parse().ok());
    }

    #[test]
    fn hook_replaces_resolution() {
        let src = source(&[]).with_hook(|_| "192.0.2.99".parse().ok());
        let p = parts("203.0.113.5", &[]);
        assert_eq!(src.resolve(&p), "192.0.2.99".parse().ok());
    }

    #[test]
    fn bad_header_name_is_an_error() {
        let settings = Settings {
            client_ip_header: "X Forwarded".into(),
            ..Settings::default()
        };
        assert!(ClientIpSource::from_settings(&settings).is_err());
    }

    #[test]
    fn no_peer_no_ip() {
        let (p, ()) = http::Request::builder().body(()).unwrap().into_parts();
        assert_eq!(source(&["0.0.0.0/0"]).resolve(&p), None);
    }
}
