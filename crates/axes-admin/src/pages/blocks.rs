//! Blocks: the manual blocks (an IP, a username or the pair refused at
//! once, set here, with `axes block` or through the service API) and the
//! lockout history of the progressive cool-off; a form to block, an
//! unblock button per manual block.

use axes_core::{Block, BlockKind};
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Filters, Pager, list_query, notice, store_error};
use crate::Shared;
use crate::render::{Ctx, iso, span, time};

#[derive(Debug, Serialize)]
struct Row {
    manual: bool,
    kind: &'static str,
    ip: Option<String>,
    username: Option<String>,
    user_agent: Option<String>,
    /// Whether it refuses attempts now.
    refuses: bool,
    /// When it ends (`None`: until unblocked, or reset).
    until: Option<String>,
    until_iso: Option<String>,
    /// "in 1 h 59 min" while it refuses.
    left: Option<String>,
    created: String,
    created_iso: String,
    created_by: String,
    lockouts: u32,
}

fn row(b: &Block, now: DateTime<Utc>, store_ip: bool) -> Row {
    let refuses = b.refuses(now);
    Row {
        manual: b.kind == BlockKind::Manual,
        kind: b.kind.as_str(),
        ip: b.target.ip_address.clone().filter(|_| store_ip),
        username: b.target.username.clone(),
        user_agent: b.target.user_agent.clone(),
        refuses,
        until: b.until.map(time),
        until_iso: b.until.map(iso),
        left: b
            .until
            .filter(|_| refuses)
            .map(|u| format!("in {}", span(u - now))),
        created: time(b.created_at),
        created_iso: iso(b.created_at),
        created_by: b.created_by.clone(),
        lockouts: b.lockouts,
    }
}

/// `GET /blocks`
pub(crate) async fn list(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let (params, query, errors) = list_query(&state, raw.as_bytes());
    let path = format!("{}/blocks", ctx.base);
    let (items, total) = match query {
        Some(q) => match state.axes.list_blocks(None, &q).await {
            Ok(p) => (p.items, p.total),
            Err(e) => return store_error(&state, &ctx, &e),
        },
        None => (Vec::new(), 0),
    };
    let now = state.axes.now();
    let store_ip = state.axes.settings().store_ip_address;
    let rows: Vec<Row> = items.iter().map(|b| row(b, now, store_ip)).collect();
    let pager = Pager::new(&path, &params, total, rows.len() as u64);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    state.page(
        Some(&ctx),
        "blocks.html",
        status,
        context! {
            title => "Blocks",
            nav => "blocks",
            rows => Serde(rows),
            pager => Serde(pager),
            filters => Serde(Filters::new(&path, &params)),
            errors => errors,
            notice => notice(raw.as_bytes()),
            block_action => format!("{path}/add"),
            unblock_action => format!("{path}/remove"),
        },
    )
}
