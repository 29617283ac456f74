//! Webhooks (SPEC §8): with `webhook_url` set, each engine event of
//! `webhook_events` is POSTed there as JSON ([`payload`]), signed with
//! `X-Axes-Signature` when `webhook_secret` is set.
//!
//! The engine calls subscribers synchronously, inside the login: the
//! subscriber only `try_send`s into a bounded queue ([`QUEUE_CAPACITY`]);
//! when the queue is full the event is dropped and counted (metrics, and a
//! warning at most once a minute), never waited for. One task delivers
//! ([`deliver`]): a timeout per request, retries with back-off, no
//! redirects. On shutdown it gets [`FLUSH_TIME`] to send what is queued.
//! Used by `axes serve` and `axes demo`.

mod deliver;
pub mod payload;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use axes_core::{Axes, EventKind, Settings};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::serve::metrics::Metrics;

/// Events waiting for delivery, at most.
pub const QUEUE_CAPACITY: usize = 1024;
/// Bound on one request (connecting included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries per event (the first and the retries).
pub const TRIES: u32 = 4;
/// The wait before the first retry; doubled before each next one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// How long the queue may take to drain at shutdown.
pub const FLUSH_TIME: Duration = Duration::from_secs(2);
/// At most one "queue full" warning per this many seconds.
const DROP_WARNING_EVERY_SECS: i64 = 60;

/// Where and how events are sent.
#[derive(Debug, Clone)]
pub struct Config {
    /// The receiver.
    pub url: reqwest::Url,
    /// The HMAC key (`webhook_secret`).
    pub secret: Option<Vec<u8>>,
    /// The kinds sent.
    pub events: Vec<EventKind>,
    /// `store_ip_address`.
    pub store_ip_address: bool,
    /// See [`QUEUE_CAPACITY`].
    pub capacity: usize,
    /// See [`REQUEST_TIMEOUT`].
    pub timeout: Duration,
    /// See [`TRIES`].
    pub tries: u32,
    /// See [`FIRST_BACKOFF`].
    pub backoff: Duration,
    /// See [`FLUSH_TIME`].
    pub flush: Duration,
}

impl Config {
    /// The configuration of `settings`; `None` without `webhook_url`.
    /// Errors name the setting, never its value.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Config>> {
        let Some(url) = &settings.webhook_url else {
            return Ok(None);
        };
        let url = reqwest::Url::parse(url.expose())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                axes_core::ConfigError::Conflict(
                    "webhook_url is not a valid http:// or https:// URL".into(),
                )
            })?;
        Ok(Some(Config {
            url,
            secret: settings
                .webhook_secret
                .as_ref()
                .map(|s| s.expose().as_bytes().to_vec()),
            events: settings.webhook_events.clone(),
            store_ip_address: settings.store_ip_address,
            capacity: QUEUE_CAPACITY,
            timeout: REQUEST_TIMEOUT,
            tries: TRIES,
            backoff: FIRST_BACKOFF,
            flush: FLUSH_TIME,
        }))
    }
}

/// The running sender (or nothing, without `webhook_url`).
#[derive(Debug)]
pub struct Webhook {
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    flush: Duration,
}

impl Webhook {
    /// Starts sending `axes`'s events as `axes`'s settings say (nothing
    /// without `webhook_url`). Call inside a Tokio runtime.
    pub fn start(axes: &Axes, metrics: &Metrics) -> anyhow::Result<Webhook> {
        match Config::from_settings(axes.settings())? {
            Some(cfg) => Self::start_with(axes, cfg, metrics),
            None => Ok(Webhook { running: None }),
        }
    }

    /// Starts sending `axes`'s events with `cfg`.
    pub fn start_with(axes: &Axes, cfg: Config, metrics: &Metrics) -> anyhow::Result<Webhook> {
        let client = deliver::client(&cfg).context("cannot build the webhook HTTP client")?;
        let (tx, rx) = mpsc::channel(cfg.capacity.max(1));
        let (stop, stopped) = watch::channel(false);
        let flush = cfg.flush;
        let events = cfg.events.clone();
        let m = metrics.clone();
        let last_warning = Arc::new(AtomicI64::new(i64::MIN));
        axes.subscribe(move |event| {
            if !events.contains(&event.kind) {
                return;
            }
            if tx.try_send(event.clone()).is_err() {
                let dropped = m.webhook_dropped();
                warn_dropped(&last_warning, dropped);
            }
        });
        let task = tokio::spawn(deliver::run(rx, client, cfg, metrics.clone(), stopped));
        Ok(Webhook {
            running: Some(Running { stop, task, flush }),
        })
    }

    /// Lets the sender deliver what is queued for at most its flush time
    /// ([`FLUSH_TIME`]), then stops it.
    pub async fn shutdown(self) {
        let Some(Running {
            stop,
            mut task,
            flush,
        }) = self.running
        else {
            return;
        };
        let _ = stop.send(true);
        if tokio::time::timeout(flush, &mut task).await.is_err() {
            task.abort();
            tracing::warn!("webhook: queued events not sent within {flush:?} of shutdown");
        }
    }
}

/// "Queue full" at most once per [`DROP_WARNING_EVERY_SECS`].
fn warn_dropped(last: &AtomicI64, dropped: u64) {
    let now = chrono::Utc::now().timestamp();
    let before = last.load(Ordering::Relaxed);
    if now.saturating_sub(before) >= DROP_WARNING_EVERY_SECS
        && last
            .compare_exchange(before, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            "webhook: the queue is full ({dropped} events dropped so far): \
             the receiver is slower than the events"
        );
    }
}
