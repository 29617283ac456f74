//! `GET /metrics`: the service's counters in the Prometheus (OpenMetrics)
//! text format, through `prometheus-client`.
//!
//! - From the engine's events: attempts (by outcome), failures, lockouts,
//!   refusals, logins, logouts, and every event by kind.
//! - From the engine's store hook ([`Axes::observe_store`]): the latency of
//!   every store call (a histogram by store kind) and the failed ones.
//! - From the webhook sender: deliveries, failures, retries, dropped events.
//! - From a layer on the router: HTTP requests by route class and status.
//!
//! No label carries a username or an IP address (personal data, and
//! unbounded). With `api_token` set, `/metrics` needs `Authorization:
//! Bearer <api_token>` like the API.

use std::sync::Arc;
use std::time::Duration;

use super::api::auth::Token;
use axes_core::{Axes, Event, EventKind};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of the OpenMetrics text format (Prometheus reads it).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Label of an event kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

/// Label of an attempt's outcome: `failed`, `succeeded` or `refused`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Label of a store kind (`sqlite`, `postgres`, `redis`, `memory`, …).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: &'static str,
}

/// Labels of an HTTP request: its route class (a fixed word, never the
/// path) and its status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: &'static str,
    status: u16,
}

type Histograms = Family<StoreLabels, Histogram, fn() -> Histogram>;

/// The store latency buckets: 100 µs to about 3.3 s, doubling.
fn store_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// The service's metrics; cheap to clone, shared.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    events: Family<EventLabels, Counter>,
    attempts: Family<OutcomeLabels, Counter>,
    failures: Counter,
    lockouts: Counter,
    refusals: Counter,
    logins: Counter,
    logouts: Counter,
    store_seconds: Histograms,
    store_errors: Family<StoreLabels, Counter>,
    webhook_deliveries: Counter,
    webhook_failures: Counter,
    webhook_retries: Counter,
    webhook_dropped: Counter,
    http_requests: Family<HttpLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every series, at zero.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("axes");
        let events = Family::<EventLabels, Counter>::default();
        let attempts = Family::<OutcomeLabels, Counter>::default();
        let (failures, lockouts, refusals) =
            (Counter::default(), Counter::default(), Counter::default());
        let (logins, logouts) = (Counter::default(), Counter::default());
        let store_seconds: Histograms = Family::new_with_constructor(store_histogram);
        let store_errors = Family::<StoreLabels, Counter>::default();
        let webhook = [(); 4].map(|()| Counter::default());
        let http_requests = Family::<HttpLabels, Counter>::default();
        r.register("events", "Engine events by kind", events.clone());
        r.register(
            "attempts",
            "Login attempts by outcome (failed, succeeded, refused)",
            attempts.clone(),
        );
        r.register(
            "failures",
            "Failed logins (wrong credentials)",
            failures.clone(),
        );
        r.register(
            "lockouts",
            "Lockouts: failures that reached the limit",
            lockouts.clone(),
        );
        r.register(
            "refusals",
            "Attempts refused before their credentials were checked (locked out, deny list)",
            refusals.clone(),
        );
        r.register("logins", "Successful logins", logins.clone());
        r.register("logouts", "Logouts", logouts.clone());
        r.register(
            "store_call_seconds",
            "Duration of store calls, by store kind",
            store_seconds.clone(),
        );
        r.register(
            "store_errors",
            "Store calls that failed or timed out, by store kind",
            store_errors.clone(),
        );
        r.register(
            "webhook_deliveries",
            "Webhook events delivered (2xx answer)",
            webhook[0].clone(),
        );
        r.register(
            "webhook_failures",
            "Webhook events given up after their last try",
            webhook[1].clone(),
        );
        r.register(
            "webhook_retries",
            "Webhook delivery tries after the first",
            webhook[2].clone(),
        );
        r.register(
            "webhook_dropped",
            "Webhook events dropped because the queue was full",
            webhook[3].clone(),
        );
        r.register(
            "http_requests",
            "HTTP requests by route class and status",
            http_requests.clone(),
        );
        let [
            webhook_deliveries,
            webhook_failures,
            webhook_retries,
            webhook_dropped,
        ] = webhook;
        Metrics {
            inner: Arc::new(Inner {
                registry: r,
                events,
                attempts,
                failures,
                lockouts,
                refusals,
                logins,
                logouts,
                store_seconds,
                store_errors,
                webhook_deliveries,
                webhook_failures,
                webhook_retries,
                webhook_dropped,
                http_requests,
            }),
        }
    }

    /// New metrics fed by `axes`'s events and store calls.
    pub fn attach(axes: &Axes) -> Self {
        let metrics = Self::new();
        let m = metrics.clone();
        axes.subscribe(move |e| m.event(e));
        let m = metrics.clone();
        if !axes.observe_store(move |store, took, ok| m.store_call(store, took, ok)) {
            tracing::warn!("metrics: the engine's store calls are observed elsewhere");
        }
        metrics
    }

    /// Counts one engine event.
    pub fn event(&self, e: &Event) {
        let i = &self.inner;
        i.events
            .get_or_create(&EventLabels {
                event: e.kind.as_str(),
            })
            .inc();
        // Not a `match`: kinds added later are counted by `events` alone.
        let outcome = if e.kind == EventKind::LoginFailed {
            i.failures.inc();
            Some("failed")
        } else if e.kind == EventKind::LoggedIn {
            i.logins.inc();
            Some("succeeded")
        } else if e.kind == EventKind::LoggedOut {
            i.logouts.inc();
            None
        } else if e.kind == EventKind::LockedOut && e.refused {
            i.refusals.inc();
            Some("refused")
        } else if e.kind == EventKind::LockedOut {
            // The failure that reached the limit was counted as failed.
            i.lockouts.inc();
            None
        } else {
            None
        };
        if let Some(outcome) = outcome {
            i.attempts.get_or_create(&OutcomeLabels { outcome }).inc();
        }
    }

    /// Records one store call.
    pub fn store_call(&self, store: &'static str, took: Duration, ok: bool) {
        let labels = StoreLabels { store };
        self.inner
            .store_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if !ok {
            self.inner.store_errors.get_or_create(&labels).inc();
        }
    }

    /// A webhook event was delivered.
    pub fn webhook_delivered(&self) {
        self.inner.webhook_deliveries.inc();
    }

    /// A webhook event was given up.
    pub fn webhook_failed(&self) {
        self.inner.webhook_failures.inc();
    }

    /// A webhook delivery is tried again.
    pub fn webhook_retried(&self) {
        self.inner.webhook_retries.inc();
    }

    /// A webhook event was dropped (queue full); the number dropped so far.
    pub fn webhook_dropped(&self) -> u64 {
        self.inner.webhook_dropped.inc() + 1
    }

    /// Counts one HTTP request.
    pub fn http_request(&self, route: &'static str, status: StatusCode) {
        self.inner
            .http_requests
            .get_or_create(&HttpLabels {
                route,
                status: status.as_u16(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.inner.registry);
        out
    }
}

/// The route class of a path: a fixed word, never the path itself.
pub fn route_class(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "api" => "api",
        "admin" => "admin",
        "metrics" => "metrics",
        "healthz" => "healthz",
        "login" | "logout" => "login",
        "" => "root",
        _ => "other",
    }
}

/// `app` with `GET /metrics` (guarded by `api_token` when set) and every
/// request counted by route class and status.
pub fn install(app: Router, axes: &Axes, metrics: &Metrics) -> Router {
    let token = Token::new(axes.settings().api_token.as_ref().map(|t| t.expose()));
    let route = Router::new()
        .route("/metrics", get(scrape))
        .with_state((metrics.clone(), token));
    app.merge(route)
        .layer(middleware::from_fn_with_state(metrics.clone(), count))
}

type ScrapeState = (Metrics, Token);

async fn scrape(State((metrics, token)): State<ScrapeState>, headers: HeaderMap) -> Response {
    if !token.admits_headers(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "401: Authorization: Bearer <api_token> required\n",
        )
            .into_response();
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render()).into_response()
}

async fn count(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let route = route_class(req.uri().path());
    let response = next.run(req).await;
    metrics.http_request(route, response.status());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_classes_are_fixed_words() {
        assert_eq!(route_class("/api/v1/check"), "api");
        assert_eq!(route_class("/admin/attempts/123"), "admin");
        assert_eq!(route_class("/"), "root");
        assert_eq!(route_class("/users/alice@example.com"), "other");
    }

    #[test]
    fn every_series_is_rendered_even_at_zero() {
        let text = Metrics::new().render();
        for name in [
            "axes_failures_total",
            "axes_lockouts_total",
            "axes_refusals_total",
            "axes_webhook_dropped_total",
        ] {
            assert!(text.contains(name), "{name} missing:\n{text}");
        }
    }
}
