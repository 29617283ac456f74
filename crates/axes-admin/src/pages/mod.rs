//! The pages: dashboard, the three listings and their detail views, the
//! blocks.

pub(crate) mod access_logs;
pub(crate) mod attempts;
pub(crate) mod blocks;
pub(crate) mod dashboard;
pub(crate) mod failure_logs;

use axes_core::Error;
use axes_core::store::ListQuery;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use crate::State;
use crate::query::{self, ListParams};
use crate::render::{Ctx, format_opt};

/// Longest id accepted in a path (longer ids are never ids).
pub(crate) const MAX_ID_LEN: usize = axes_core::store::MAX_ID_LEN;

/// The pager of a listing.
#[derive(Debug, Serialize)]
pub(crate) struct Pager {
    pub total: u64,
    pub from: u64,
    pub to: u64,
    pub page: u64,
    pub pages: u64,
    pub first_url: Option<String>,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub last_url: Option<String>,
}

/// The filter form's values and the sort links.
#[derive(Debug, Serialize)]
pub(crate) struct Filters {
    pub ip: String,
    pub username: String,
    pub q: String,
    pub since: String,
    pub until: String,
    pub per_page: u64,
    pub oldest_first: bool,
    pub filtered: bool,
    pub sort_url: String,
    pub clear_url: String,
    pub action: String,
}

impl Filters {
    pub(crate) fn new(path: &str, p: &ListParams) -> Self {
        Self {
            ip: p.ip.clone().unwrap_or_default(),
            username: p.username.clone().unwrap_or_default(),
            q: p.q.clone().unwrap_or_default(),
            since: format_opt(p.since.map(query::format_input_time)),
            until: format_opt(p.until.map(query::format_input_time)),
            per_page: p.per_page,
            oldest_first: p.oldest_first,
            filtered: p.filtered(),
            sort_url: format!("{path}{}", p.query_string(1, !p.oldest_first)),
            clear_url: path.to_owned(),
            action: path.to_owned(),
        }
    }
}

impl Pager {
    pub(crate) fn new(path: &str, p: &ListParams, total: u64, shown: u64) -> Self {
        let pages = total.div_ceil(p.per_page).max(1);
        let url = |page: u64| format!("{path}{}", p.query_string(page, p.oldest_first));
        let from = if shown == 0 {
            0
        } else {
            (p.page - 1) * p.per_page + 1
        };
        Self {
            total,
            from,
            to: if shown == 0 { 0 } else { from + shown - 1 },
            page: p.page,
            pages,
            first_url: (p.page > 1).then(|| url(1)),
            prev_url: (p.page > 1).then(|| url((p.page - 1).min(pages))),
            next_url: (p.page < pages).then(|| url(p.page + 1)),
            last_url: (p.page < pages).then(|| url(pages)),
        }
    }
}

/// The notice after an action (`?done=…&n=…`): only known codes, so a link
/// cannot put text of its own into the page.
pub(crate) fn notice(raw: &[u8]) -> Option<String> {
    let pairs = query::pairs(raw);
    let n: u64 = query::last(&pairs, "n")?.parse().ok()?;
    let rows = |one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    Some(match query::last(&pairs, "done")? {
        "deleted-attempts" => format!("{} deleted.", rows("access attempt", "access attempts")),
        "deleted-access-logs" => format!(
            "{} deleted.",
            rows("access log entry", "access log entries")
        ),
        "deleted-failure-logs" => {
            format!(
                "{} deleted.",
                rows("failure log entry", "failure log entries")
            )
        }
        "unlocked" => format!(
            "Unlocked: {} removed.",
            rows("access attempt", "access attempts")
        ),
        "blocked" => "Blocked: matching logins are refused at once.".to_owned(),
        "unblocked" if n == 0 => "No block found.".to_owned(),
        "unblocked" => "Unblocked.".to_owned(),
        "purged-attempts" => format!(
            "{} removed.",
            rows("expired access attempt", "expired access attempts")
        ),
        "pruned-access-logs" => {
            format!("{} pruned.", rows("access log entry", "access log entries"))
        }
        "pruned-failure-logs" => {
            format!(
                "{} pruned.",
                rows("failure log entry", "failure log entries")
            )
        }
        _ => return None,
    })
}

/// Parses the query, builds the store query; errors become messages.
pub(crate) fn list_query(
    state: &State,
    raw: &[u8],
) -> (ListParams, Option<ListQuery>, Vec<String>) {
    let settings = state.axes.settings();
    let (params, mut errors) = ListParams::parse(raw, settings.store_ip_address);
    let query = match params.to_list_query(&state.axes) {
        Ok(q) => Some(q),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    (params, query, errors)
}

/// The page for a store that did not answer.
pub(crate) fn store_error(state: &State, ctx: &Ctx, e: &Error) -> Response {
    tracing::warn!("axes admin: store error: {e}");
    state.message(
        Some(ctx),
        StatusCode::SERVICE_UNAVAILABLE,
        "The store did not answer",
        "The records could not be read. Try again in a moment; the server log has the details.",
    )
}

/// The page for an unknown id.
pub(crate) fn not_found(state: &State, ctx: &Ctx, what: &str) -> Response {
    state.message(
        Some(ctx),
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("There is no such {what} (it may have been deleted)."),
    )
}
