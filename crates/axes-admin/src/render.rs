//! Templates (minijinja, compiled into the binary, HTML auto-escaping on)
//! and the common parts of every page.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use minijinja::{Environment, Value, context};

use crate::State;
use crate::auth::AdminIdentity;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    ("attempts.html", include_str!("../templates/attempts.html")),
    (
        "access_logs.html",
        include_str!("../templates/access_logs.html"),
    ),
    (
        "failure_logs.html",
        include_str!("../templates/failure_logs.html"),
    ),
    ("blocks.html", include_str!("../templates/blocks.html")),
    ("detail.html", include_str!("../templates/detail.html")),
    ("confirm.html", include_str!("../templates/confirm.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("login.html", include_str!("../templates/login.html")),
];

/// The template environment, built once. A broken template is a bug caught
/// by the first test (and logged).
pub(crate) fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(environment)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // HTML escaping for `.html` (the default callback, stated for clarity).
    env.set_auto_escape_callback(minijinja::default_auto_escape_callback);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("truncate", truncate);
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!("axes admin: template {name} does not parse: {e:#}");
        }
    }
    env
}

/// `s|truncate(n)`: at most `n` characters, with "…" when cut.
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A time as shown in the admin (always UTC, said so).
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A time in machine form, for `<time datetime>`.
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A humane span, e.g. "2 h 5 min".
pub(crate) fn span(d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else if mins > 0 {
        format!("{mins} min {s} s")
    } else {
        format!("{s} s")
    }
}

/// What every admin page knows about the request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The admin.
    pub identity: AdminIdentity,
    /// Where the admin is mounted ("" at the root, else e.g. "/admin").
    pub base: String,
    /// A CSRF token for this admin.
    pub csrf: String,
}

/// Sets the headers every admin response carries.
pub(crate) fn harden(resp: &mut Response) {
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::CACHE_CONTROL, "no-store");
}

impl State {
    /// Renders `name` with `page` plus the common context.
    pub(crate) fn page(
        &self,
        ctx: Option<&Ctx>,
        name: &str,
        status: StatusCode,
        page: Value,
    ) -> Response {
        let common = match ctx {
            Some(c) => context! {
                base => c.base.clone(),
                admin => c.identity.name.clone(),
                csrf_field => crate::csrf::FIELD,
                csrf => c.csrf.clone(),
                store_ip => self.axes.settings().store_ip_address,
                logout_url => self.logout_url.clone(),
                app_title => self.title.clone(),
                notice => (),
            },
            None => context! {
                base => String::new(),
                admin => Value::from(()),
                csrf_field => crate::csrf::FIELD,
                csrf => String::new(),
                store_ip => self.axes.settings().store_ip_address,
                logout_url => Value::from(()),
                app_title => self.title.clone(),
                notice => (),
            },
        };
        let rendered = templates()
            .get_template(name)
            .and_then(|t| t.render(context! { ..page, ..common }));
        match rendered {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!("axes admin: cannot render {name}: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The admin page could not be rendered.",
                )
                    .into_response()
            }
        }
    }

    /// A page with a heading and a message (errors, refusals).
    pub(crate) fn message(
        &self,
        ctx: Option<&Ctx>,
        status: StatusCode,
        heading: &str,
        text: &str,
    ) -> Response {
        self.page(
            ctx,
            "message.html",
            status,
            context! { title => heading, heading => heading, text => text, nav => "" },
        )
    }
}

/// An optional string for a form field ("" when absent).
pub(crate) fn format_opt(v: Option<String>) -> String {
    v.unwrap_or_default()
}
