//! The access log: successful logins, with their logout time.

use axes_core::store::AccessLogRecord;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::attempts::urlencode;
use super::{Filters, Pager, list_query, not_found, notice, store_error};
use crate::Shared;
use crate::render::{Ctx, iso, span, time};

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    url: String,
    time: String,
    iso: String,
    logout: Option<String>,
    logout_iso: Option<String>,
    username: Option<String>,
    ip: Option<String>,
    user_agent: String,
    path: String,
}

fn row(base: &str, r: &AccessLogRecord) -> Row {
    Row {
        id: r.id.clone(),
        url: format!("{base}/access-logs/{}", urlencode(&r.id)),
        time: time(r.entry.attempt_time),
        iso: iso(r.entry.attempt_time),
        logout: r.logout_time.map(time),
        logout_iso: r.logout_time.map(iso),
        username: r.entry.key.username.clone(),
        ip: r.entry.key.ip_address.clone(),
        user_agent: r.entry.key.user_agent.clone(),
        path: r.entry.path.clone(),
    }
}

/// `GET /access-logs`
pub(crate) async fn list(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let (params, query, errors) = list_query(&state, raw.as_bytes());
    let path = format!("{}/access-logs", ctx.base);
    let (items, total) = match query {
        Some(q) => match state.axes.list_access_logs(&q).await {
            Ok(p) => (p.items, p.total),
            Err(e) => return store_error(&state, &ctx, &e),
        },
        None => (Vec::new(), 0),
    };
    let rows: Vec<Row> = items.iter().map(|r| row(&ctx.base, r)).collect();
    let pager = Pager::new(&path, &params, total, rows.len() as u64);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    state.page(
        Some(&ctx),
        "access_logs.html",
        status,
        context! {
            title => "Access logs",
            nav => "access_logs",
            rows => Serde(rows),
            pager => Serde(pager),
            filters => Serde(Filters::new(&path, &params)),
            errors => errors,
            notice => notice(raw.as_bytes()),
            delete_action => format!("{path}/delete"),
            prune_log => "access",
            disabled => state.axes.settings().disable_access_log,
        },
    )
}

/// `GET /access-logs/{id}`
pub(crate) async fn detail(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let r = match state.axes.get_access_log(&id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(&state, &ctx, "access log entry"),
        Err(e) => return store_error(&state, &ctx, &e),
    };
    let e = &r.entry;
    let mut fields: Vec<(&str, String)> = vec![
        ("Login time", time(e.attempt_time)),
        (
            "Logout time",
            match r.logout_time {
                Some(t) => format!("{} (after {})", time(t), span(t - e.attempt_time)),
                None => "— (not logged out)".into(),
            },
        ),
        (
            "Username",
            e.key.username.clone().unwrap_or_else(|| "—".into()),
        ),
    ];
    if state.axes.settings().store_ip_address {
        fields.push((
            "IP address",
            e.key.ip_address.clone().unwrap_or_else(|| "—".into()),
        ));
    }
    fields.extend([
        ("User agent", e.key.user_agent.clone()),
        ("Path", e.path.clone()),
        ("Accept", e.http_accept.clone()),
        ("Session hash", e.session_hash.clone()),
        ("Entry id", r.id.clone()),
    ]);
    state.page(
        Some(&ctx),
        "detail.html",
        StatusCode::OK,
        context! {
            title => "Access log entry",
            heading => "Access log entry",
            nav => "access_logs",
            fields => Serde(fields),
            status => (),
            locked => false,
            unlock_ip => (),
            unlock_username => (),
            id => r.id.clone(),
            delete_action => format!("{}/access-logs/delete", ctx.base),
            back_url => format!("{}/access-logs", ctx.base),
            back_label => "All access log entries",
        },
    )
}
