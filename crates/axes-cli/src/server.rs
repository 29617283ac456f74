//! The HTTP server of `axes demo` and `axes serve`: an axum [`Router`]
//! served over HTTP/1 with limits, so that slow or idle clients cannot
//! stall it (slowloris and friends).
//!
//! | limit | flag | default | what happens |
//! |---|---|---|---|
//! | request head | `--header-timeout` | 10 s | a connection whose request line and headers are not complete in time is closed; so is a keep-alive connection idle that long |
//! | request | `--request-timeout` | 30 s | from the end of the head to the response (reading the body included): `408 Request Timeout`, connection closed |
//! | sending | `--send-timeout` | 30 s | a connection whose response makes no progress that long (the client does not read) is closed |
//! | body size | `--max-body-size` | 64 KiB | larger bodies get `413 Payload Too Large` (routes may bound tighter) |
//! | connections | `--max-connections` | 1024 | when that many are open, no more are accepted: new ones wait in the kernel's listen backlog ([`LISTEN_BACKLOG`]) until one closes |
//!
//! Request heads are further bounded to [`MAX_HEADER_SIZE`] bytes (`431`).
//! Handlers see the peer address as `ConnectInfo<SocketAddr>`, as with
//! `axum::serve(…, app.into_make_service_with_connect_info::<SocketAddr>())`.
//!
//! On SIGINT (Ctrl-C) or SIGTERM the server stops accepting, lets the
//! requests in flight finish (idle connections are closed at once), and
//! returns when every connection has closed, or after
//! `--header-timeout` + `--request-timeout` at the most.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt as _;

/// The default of `--header-timeout`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of `--request-timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of `--send-timeout`.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of `--max-body-size`: 64 KiB, the bound of the login and
/// admin forms.
pub const DEFAULT_MAX_BODY_SIZE: usize = 64 * 1024;
/// The default of `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The longest timeout the flags accept (a day): far beyond any use, and
/// safely inside the range of the clock's arithmetic.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest `--max-body-size` (1 GiB).
pub const MAX_BODY_SIZE_LIMIT: u64 = 1 << 30;
/// The largest `--max-connections`.
pub const MAX_CONNECTIONS_LIMIT: u64 = 1_000_000;

/// The bound on a request head (request line and headers), in bytes:
/// `431 Request Header Fields Too Large` beyond.
pub const MAX_HEADER_SIZE: usize = 32 * 1024;

/// The listen backlog: connections the kernel completes and queues while
/// the server does not accept (all slots taken). Linux caps it at
/// `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 1024;

/// File descriptors kept for everything but client connections (the
/// listener, the store's pool, standard streams, …) when checking the
/// open-file limit against `--max-connections`.
const FD_HEADROOM: u64 = 128;

/// How often, at most, the server says that all connection slots are taken.
const FULL_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// How long to pause accepting after an error such as "too many open files".
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The server's limits; the flags of `axes demo` and `axes serve`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Server limits")]
pub struct Limits {
    /// Close a connection whose request head (request line and headers) is
    /// not complete within this time; keep-alive connections idle this long
    /// are closed too
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub header_timeout: Duration,

    /// Answer 408 and close the connection when reading a request's body and
    /// answering it take longer than this (counted from the end of its head)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub request_timeout: Duration,

    /// Close a connection when sending its response makes no progress for
    /// this long (a client that does not read)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub send_timeout: Duration,

    /// The largest request body accepted, in bytes (413 beyond); routes may
    /// accept less (login and admin forms: 64 KiB)
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "65536",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_BODY_SIZE_LIMIT)
    )]
    pub max_body_size: usize,

    /// The most connections served at once; further connections wait in the
    /// listen backlog until one closes
    #[arg(
        long,
        value_name = "N",
        default_value = "1024",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_CONNECTIONS_LIMIT)
    )]
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Parses a timeout such as `10s`, `500ms` or `2m`: more than zero, at most
/// [`MAX_TIMEOUT`].
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{e} (expected a duration such as 10s, 500ms or 2m)"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    if d > MAX_TIMEOUT {
        return Err("must be at most 24h".into());
    }
    Ok(d)
}

/// A listener on `addr` with a backlog of [`LISTEN_BACKLOG`] (tokio's own
/// `TcpListener::bind` queues only 128).
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As std and tokio do: a restarted server can bind at once, even with
    // connections of the previous one in TIME_WAIT.
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` with `limits` until SIGINT (Ctrl-C) or
/// SIGTERM, then finishes the requests in flight (see the module docs).
pub async fn serve(listener: TcpListener, app: Router, limits: &Limits) {
    serve_until(listener, app, limits, shutdown_signal()).await;
}

/// As [`serve`], stopping when `shutdown` completes instead of on a signal.
pub async fn serve_until<F>(listener: TcpListener, app: Router, limits: &Limits, shutdown: F)
where
    F: Future<Output = ()>,
{
    check_open_file_limit(limits.max_connections);
    let limits = Arc::new(limits.clone());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Every connection holds a receiver; dropping the sender asks them all
    // to finish their request and close.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut warned_full: Option<Instant> = None;
    loop {
        if slots.available_permits() == 0
            && warned_full.is_none_or(|at| at.elapsed() >= FULL_WARNING_INTERVAL)
        {
            tracing::warn!(
                "axes: {} connections open (--max-connections): new connections wait until one closes",
                limits.max_connections
            );
            warned_full = Some(Instant::now());
        }
        // Take a slot first, then accept: while all slots are taken, new
        // connections wait in the kernel's listen backlog.
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_closed) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // E.g. too many open files: wait for some to close.
                    tracing::error!("axes: cannot accept a connection: {e}");
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                    }
                }
            },
        };
        tokio::spawn(connection(
            stream,
            peer,
            slot,
            app.clone(),
            limits.clone(),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let open = limits.max_connections - slots.available_permits();
    tracing::info!("axes: shutting down; finishing {open} open connection(s)");
    drop(stop_rx);
    drop(stop_tx);
    let grace = limits.header_timeout + limits.request_timeout;
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(grace, slots.acquire_many(all)).await {
        Ok(_) => tracing::info!("axes: all connections closed"),
        Err(_) => tracing::warn!(
            "axes: {} connection(s) still open after {}; closing them",
            limits.max_connections - slots.available_permits(),
            humantime::format_duration(grace)
        ),
    }
}

/// Waits for SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("axes: cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!("axes: cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Errors of one connection that came and went before it was accepted.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection, holding `slot` until it closes.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    app: Router,
    limits: Arc<Limits>,
    mut stop: watch::Receiver<()>,
) {
    let io = TokioIo::new(SendTimeout::new(stream, limits.send_timeout));
    let header_timeout = limits.header_timeout;
    let service =
        hyper::service::service_fn(move |req| request(app.clone(), peer, limits.clone(), req));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_header_size(MAX_HEADER_SIZE);
    let mut conn = pin!(builder.serve_connection(io, service));
    let result = tokio::select! {
        result = conn.as_mut() => result,
        // A change or the sender gone: either way, time to stop.
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Timeouts and clients going away are routine.
        tracing::debug!("axes: connection from {peer} closed: {e}");
    }
    drop(slot);
}

/// One request: the body bound, the peer address for `ConnectInfo`, and the
/// request timeout.
async fn request(
    app: Router,
    peer: SocketAddr,
    limits: Arc<Limits>,
    req: Request<Incoming>,
) -> Result<Response, Infallible> {
    let max = limits.max_body_size;
    // The service API answers every error in JSON, these two included.
    let json = req.uri().path().starts_with("/api/");
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > u64::try_from(max).unwrap_or(u64::MAX)) {
        return Ok(closing(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n",
            json,
        ));
    }
    let mut req = req.map(|body| Body::new(http_body_util::Limited::new(body, max)));
    req.extensions_mut().insert(ConnectInfo(peer));
    match tokio::time::timeout(limits.request_timeout, app.oneshot(req)).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(never)) => match never {},
        Err(_elapsed) => {
            tracing::debug!("axes: request from {peer} timed out");
            Ok(closing(
                StatusCode::REQUEST_TIMEOUT,
                "request timed out\n",
                json,
            ))
        }
    }
}

/// A short text (or, for the API, JSON `{"error", "detail"}`) response
/// that closes the connection after it.
fn closing(status: StatusCode, text: &'static str, json: bool) -> Response {
    let close = (header::CONNECTION, HeaderValue::from_static("close"));
    if json {
        let body = serde_json::json!({
            "error": match status {
                StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                _ => "request_timeout",
            },
            "detail": text.trim_end(),
        });
        return (status, [close], axum::Json(body)).into_response();
    }
    (status, [close], text).into_response()
}

/// Raises the soft open-file limit (up to the hard one) when it is too low
/// for `max_connections`, and warns when even the hard limit is: accepting
/// would fail with "too many open files" before the connection bound is
/// reached.
#[cfg(unix)]
fn check_open_file_limit(max_connections: usize) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let needed = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_add(FD_HEADROOM);
    let limit = getrlimit(Resource::Nofile);
    let Some(mut soft) = limit.current else {
        return; // unlimited
    };
    if soft >= needed {
        return;
    }
    let target = limit.maximum.map_or(needed, |hard| hard.min(needed));
    if target > soft {
        let raised = Rlimit {
            current: Some(target),
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::info!("axes: raised the open-file limit from {soft} to {target}");
                soft = target;
            }
            Err(e) => tracing::debug!("axes: cannot raise the open-file limit: {e}"),
        }
    }
    if soft < needed {
        tracing::warn!(
            "axes: the open-file limit ({soft}) is too low for --max-connections {max_connections} \
             (needs about {needed}): raise `ulimit -n` or lower --max-connections"
        );
    }
}

#[cfg(not(unix))]
fn check_open_file_limit(_max_connections: usize) {}

/// A stream whose writes fail with `TimedOut` when they make no progress
/// for `timeout` (like nginx's `send_timeout`): a client that stops reading
/// cannot hold its connection forever.
#[derive(Debug)]
struct SendTimeout {
    inner: TcpStream,
    timeout: Duration,
    /// Running while a write (or flush) is blocked.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl SendTimeout {
    fn new(inner: TcpStream, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Passes a ready write on (and stops the clock); a pending one starts
    /// the clock, or fails once it has run out.
    fn check<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let stalled = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if stalled.as_mut().poll(cx).is_ready() {
                    self.stalled = None;
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client did not read the response in time",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl AsyncRead for SendTimeout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendTimeout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.check(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.check(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.check(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.check(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        limits: Limits,
    }

    fn parse(args: &[&str]) -> Result<Limits, clap::Error> {
        Cli::try_parse_from(std::iter::once("axes").chain(args.iter().copied())).map(|c| c.limits)
    }

    #[test]
    fn the_flag_defaults_are_the_documented_ones() {
        assert_eq!(parse(&[]).unwrap(), Limits::default());
    }

    #[test]
    fn flags_parse() {
        let l = parse(&[
            "--header-timeout",
            "2s",
            "--request-timeout=500ms",
            "--send-timeout",
            "1m",
            "--max-body-size",
            "1000",
            "--max-connections",
            "8",
        ])
        .unwrap();
        assert_eq!(l.header_timeout, Duration::from_secs(2));
        assert_eq!(l.request_timeout, Duration::from_millis(500));
        assert_eq!(l.send_timeout, Duration::from_secs(60));
        assert_eq!(l.max_body_size, 1000);
        assert_eq!(l.max_connections, 8);
    }

    #[test]
    fn bad_limits_are_refused() {
        for bad in [
            &["--header-timeout", "0s"][..],
            &["--header-timeout", "10"],
            &["--request-timeout", "25h"],
            &["--send-timeout", "forever"],
            &["--max-body-size", "0"],
            &["--max-connections", "0"],
            &["--max-connections", "1000001"],
            &["--max-connections", "-1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
