//! The delivery task: one event at a time, POSTed with a per-request
//! timeout, retried with exponential back-off on network errors, 5xx and
//! 429 (never on other 4xx), redirects never followed.

use std::time::Duration;

use axes_core::Event;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::{mpsc, watch};

use super::Config;
use super::payload::{self, SIGNATURE_HEADER};
use crate::serve::metrics::Metrics;

/// What one try came to.
enum Outcome {
    Delivered,
    /// Worth another try (network error, timeout, 5xx, 429).
    Retry(String),
    /// Not worth another try (another 4xx, a redirect).
    Fatal(String),
}

/// The HTTP client: bounded requests, no redirects, our user agent.
pub(super) fn client(cfg: &Config) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout)
        .user_agent(concat!("axes/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Delivers queued events until `stop` turns true (or its sender is
/// gone), then gives each event still queued one try: the caller bounds
/// how long that may take.
pub(super) async fn run(
    mut queue: mpsc::Receiver<Event>,
    client: reqwest::Client,
    cfg: Config,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            next = queue.recv() => next,
        };
        match next {
            Some(event) => deliver(&client, &cfg, &metrics, &event, &mut stop).await,
            None => return,
        }
    }
    let mut flushed = 0u32;
    while let Ok(event) = queue.try_recv() {
        let body = payload::body(&event, cfg.store_ip_address);
        match try_once(&client, &cfg, &body).await {
            Outcome::Delivered => metrics.webhook_delivered(),
            Outcome::Retry(why) | Outcome::Fatal(why) => {
                metrics.webhook_failed();
                tracing::warn!(
                    "webhook: {} event not delivered at shutdown ({why})",
                    event.kind.as_str()
                );
            }
        }
        flushed += 1;
    }
    if flushed > 0 {
        tracing::info!("webhook: {flushed} queued events sent at shutdown");
    }
}

/// One event, with retries; counted as delivered or failed.
async fn deliver(
    client: &reqwest::Client,
    cfg: &Config,
    metrics: &Metrics,
    event: &Event,
    stop: &mut watch::Receiver<bool>,
) {
    let body = payload::body(event, cfg.store_ip_address);
    let mut delay = cfg.backoff;
    let mut tries = 0;
    loop {
        tries += 1;
        let why = match try_once(client, cfg, &body).await {
            Outcome::Delivered => {
                metrics.webhook_delivered();
                return;
            }
            Outcome::Fatal(why) => why,
            Outcome::Retry(why) if tries < cfg.tries => {
                metrics.webhook_retried();
                tracing::debug!("webhook: try {tries} failed ({why}); retrying in {delay:?}");
                // Shutting down: no more waiting, the next try comes now.
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
                delay = (delay * 2).min(MAX_BACKOFF);
                continue;
            }
            Outcome::Retry(why) => why,
        };
        metrics.webhook_failed();
        tracing::warn!(
            "webhook: {} event not delivered after {tries} tries ({why})",
            event.kind.as_str()
        );
        return;
    }
}

/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One POST. Error texts never contain the URL (it may carry a token).
async fn try_once(client: &reqwest::Client, cfg: &Config, body: &[u8]) -> Outcome {
    let mut request = client
        .post(cfg.url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    if let Some(secret) = &cfg.secret {
        request = request.header(SIGNATURE_HEADER, payload::signature(secret, body));
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                Outcome::Delivered
            } else if status.is_server_error() || status.as_u16() == 429 {
                Outcome::Retry(format!("HTTP {}", status.as_u16()))
            } else if status.is_redirection() {
                Outcome::Fatal(format!(
                    "HTTP {}: redirects are not followed",
                    status.as_u16()
                ))
            } else {
                Outcome::Fatal(format!("HTTP {}", status.as_u16()))
            }
        }
        Err(e) => Outcome::Retry(e.without_url().to_string()),
    }
}
