//! The changes an admin can make: delete selected rows, unlock an IP, a
//! username or both, prune old logs, remove expired attempts, block and
//! unblock.
//!
//! Each is a POST carrying the CSRF token. The first POST shows what would
//! happen and asks for confirmation; the second (with `confirm=yes`) does it,
//! writes a log line with the admin's name, and redirects (303) to a page
//! that says what was done.

use axes_core::store::ListQuery;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::pages::MAX_ID_LEN;
use crate::query::{self, MAX_IP_LEN, MAX_USERNAME_LEN};
use crate::render::{Ctx, span, time};
use crate::{Shared, State as AdminState, csrf};

/// Most rows one action deletes.
pub const MAX_IDS: usize = 1000;

/// Most days a prune accepts.
pub const MAX_AGE_DAYS: u32 = 100_000;

/// The form of an action, once the request is known to be genuine.
struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    fn get(&self, key: &str) -> Option<&str> {
        query::last(&self.pairs, key)
    }
    fn confirmed(&self) -> bool {
        self.get("confirm") == Some("yes")
    }
}

/// Refuses cross-site posts and posts without a valid CSRF token (403).
fn genuine(
    state: &AdminState,
    ctx: &Ctx,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Form, Box<Response>> {
    let forbidden = |why: &str| {
        tracing::warn!(
            target: "axes_admin",
            admin = %ctx.identity.name,
            "axes admin: refused a POST: {why}"
        );
        state.message(
            Some(ctx),
            StatusCode::FORBIDDEN,
            "Request refused",
            "The form has expired or did not come from this admin. Go back, reload the page and try again.",
        )
    };
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return Err(Box::new(forbidden("cross-site request")));
    }
    let pairs = query::pairs(body);
    let token = query::last(&pairs, csrf::FIELD).unwrap_or("");
    if token.is_empty() {
        return Err(Box::new(forbidden("no CSRF token")));
    }
    if !csrf::verify(&state.key, &ctx.identity, token, state.axes.now()) {
        return Err(Box::new(forbidden("bad or expired CSRF token")));
    }
    Ok(Form { pairs })
}

/// The ids of a selection: bounded, de-duplicated.
fn ids(form: &Form) -> Result<Vec<String>, &'static str> {
    let mut out: Vec<String> = Vec::new();
    for id in query::all(&form.pairs, "id") {
        let id = id.trim();
        if id.is_empty() {
            continue;
        }
        if id.len() > MAX_ID_LEN {
            return Err("An id is too long.");
        }
        if !out.iter().any(|x| x == id) {
            out.push(id.to_owned());
        }
        if out.len() > MAX_IDS {
            return Err("Too many rows selected at once (at most 1000).");
        }
    }
    if out.is_empty() {
        return Err("Select at least one row first.");
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
struct Confirm {
    heading: String,
    text: String,
    items: Vec<String>,
    more: usize,
    hidden: Vec<(String, String)>,
    action: String,
    cancel_url: String,
    confirm_label: String,
}

fn confirm_page(state: &AdminState, ctx: &Ctx, nav: &str, c: Confirm) -> Response {
    state.page(
        Some(ctx),
        "confirm.html",
        StatusCode::OK,
        context! { title => c.heading.clone(), nav => nav, c => Serde(c) },
    )
}

fn bad_request(state: &AdminState, ctx: &Ctx, text: &str) -> Response {
    state.message(Some(ctx), StatusCode::BAD_REQUEST, "Cannot do that", text)
}

fn failed(state: &AdminState, ctx: &Ctx, what: &str, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(target: "axes_admin", admin = %ctx.identity.name, "axes admin: {what} failed: {e}");
    state.message(
        Some(ctx),
        StatusCode::SERVICE_UNAVAILABLE,
        "The store did not answer",
        &format!("{what} failed; nothing may have changed. The server log has the details."),
    )
}

fn done(url: String) -> Response {
    Redirect::to(&url).into_response()
}

/// Which listing a delete works on.
#[derive(Debug, Clone, Copy)]
enum Table {
    Attempts,
    AccessLogs,
    FailureLogs,
}

impl Table {
    fn path(self) -> &'static str {
        match self {
            Table::Attempts => "attempts",
            Table::AccessLogs => "access-logs",
            Table::FailureLogs => "failure-logs",
        }
    }
    fn nav(self) -> &'static str {
        match self {
            Table::Attempts => "attempts",
            Table::AccessLogs => "access_logs",
            Table::FailureLogs => "failure_logs",
        }
    }
    fn plural(self) -> &'static str {
        match self {
            Table::Attempts => "access attempts",
            Table::AccessLogs => "access log entries",
            Table::FailureLogs => "failure log entries",
        }
    }
    fn rows(self, n: usize) -> String {
        let (one, many) = match self {
            Table::Attempts => ("access attempt", "access attempts"),
            Table::AccessLogs => ("access log entry", "access log entries"),
            Table::FailureLogs => ("failure log entry", "failure log entries"),
        };
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    }
}

fn who(username: Option<&str>, ip: Option<&str>) -> String {
    let user = username.unwrap_or("(no username)");
    match ip {
        Some(ip) => format!("{user} from {ip}"),
        None => user.to_owned(),
    }
}

/// Summaries of the selected rows found among the newest rows (for the
/// confirmation page).
async fn summaries(state: &AdminState, table: Table, ids: &[String]) -> Vec<String> {
    let q = ListQuery::all();
    let store_ip = state.axes.settings().store_ip_address;
    let ip = |v: &Option<String>| if store_ip { v.clone() } else { None };
    let picked = |id: &str| ids.iter().any(|x| x == id);
    match table {
        Table::Attempts => match state.axes.list_attempts(&q).await {
            Ok(p) => p
                .items
                .iter()
                .filter(|r| picked(&r.id))
                .map(|r| {
                    format!(
                        "{}: {} failures, last {}",
                        who(r.key.username.as_deref(), ip(&r.key.ip_address).as_deref()),
                        r.failures,
                        time(r.attempt_time)
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        },
        Table::AccessLogs => match state.axes.list_access_logs(&q).await {
            Ok(p) => p
                .items
                .iter()
                .filter(|r| picked(&r.id))
                .map(|r| {
                    format!(
                        "{}: logged in {}",
                        who(
                            r.entry.key.username.as_deref(),
                            ip(&r.entry.key.ip_address).as_deref()
                        ),
                        time(r.entry.attempt_time)
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        },
        Table::FailureLogs => match state.axes.list_failure_logs(&q).await {
            Ok(p) => p
                .items
                .iter()
                .filter(|r| picked(&r.id))
                .map(|r| {
                    format!(
                        "{}: failed {}{}",
                        who(
                            r.entry.key.username.as_deref(),
                            ip(&r.entry.key.ip_address).as_deref()
                        ),
                        time(r.entry.attempt_time),
                        if r.entry.locked_out {
                            " (locked out)"
                        } else {
                            ""
                        }
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        },
    }
}

async fn delete(
    state: Shared,
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
    table: Table,
) -> Response {
    let form = match genuine(&state, &ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let ids = match ids(&form) {
        Ok(ids) => ids,
        Err(e) => return bad_request(&state, &ctx, e),
    };
    let list_url = format!("{}/{}", ctx.base, table.path());
    if !form.confirmed() {
        let items = summaries(&state, table, &ids).await;
        let more = ids.len().saturating_sub(items.len());
        let mut hidden: Vec<(String, String)> =
            ids.iter().map(|id| ("id".to_owned(), id.clone())).collect();
        hidden.push(("confirm".into(), "yes".into()));
        let extra = match table {
            Table::Attempts => " Their failures no longer count: lockouts they cause are lifted.",
            _ => "",
        };
        return confirm_page(
            &state,
            &ctx,
            table.nav(),
            Confirm {
                heading: format!("Delete {}?", table.rows(ids.len())),
                text: format!("This cannot be undone.{extra}"),
                items,
                more,
                hidden,
                action: format!("{list_url}/delete"),
                cancel_url: list_url,
                confirm_label: format!("Yes, delete {}", table.rows(ids.len())),
            },
        );
    }
    let axes = &state.axes;
    let result = match table {
        Table::Attempts => axes.delete_attempts(&ids).await,
        Table::AccessLogs => axes.delete_access_logs(&ids).await,
        Table::FailureLogs => axes.delete_failure_logs(&ids).await,
    };
    match result {
        Ok(n) => {
            tracing::info!(
                target: "axes_admin",
                admin = %ctx.identity.name,
                removed = n,
                "axes admin: {} deleted {} (selected {})",
                ctx.identity.name,
                table.rows(usize::try_from(n).unwrap_or(usize::MAX)),
                ids.len()
            );
            let code = match table {
                Table::Attempts => "deleted-attempts",
                Table::AccessLogs => "deleted-access-logs",
                Table::FailureLogs => "deleted-failure-logs",
            };
            done(format!("{list_url}?done={code}&n={n}"))
        }
        Err(e) => failed(&state, &ctx, "Deleting", &e),
    }
}

/// `POST /attempts/delete`
pub(crate) async fn delete_attempts(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    delete(state, ctx, headers, body, Table::Attempts).await
}

/// `POST /access-logs/delete`
pub(crate) async fn delete_access_logs(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    delete(state, ctx, headers, body, Table::AccessLogs).await
}

/// `POST /failure-logs/delete`
pub(crate) async fn delete_failure_logs(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    delete(state, ctx, headers, body, Table::FailureLogs).await
}

/// `POST /unlock` with `ip`, `username` or both (records matching both).
pub(crate) async fn unlock(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match genuine(&state, &ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let store_ip = state.axes.settings().store_ip_address;
    let ip = form.get("ip");
    let username = form.get("username");
    if ip.is_some() && !store_ip {
        return bad_request(
            &state,
            &ctx,
            "IP addresses are not stored (store_ip_address = false).",
        );
    }
    if ip.is_some_and(|v| v.len() > MAX_IP_LEN)
        || username.is_some_and(|v| v.len() > MAX_USERNAME_LEN)
    {
        return bad_request(&state, &ctx, "The IP address or username is too long.");
    }
    if ip.is_none() && username.is_none() {
        return bad_request(&state, &ctx, "Give an IP address, a username or both.");
    }
    let filter = match state.axes.reset_filter(ip, username) {
        Ok(f) => f,
        Err(e) => return bad_request(&state, &ctx, &e.to_string()),
    };
    let what = match (&filter.ip_address, &filter.username) {
        (Some(ip), Some(u)) => format!("IP address {ip} and username {u}"),
        (Some(ip), None) => format!("IP address {ip}"),
        (None, Some(u)) => format!("username {u}"),
        (None, None) => {
            return bad_request(&state, &ctx, "Give an IP address, a username or both.");
        }
    };
    if !form.confirmed() {
        let count = state
            .axes
            .list_attempts(&ListQuery {
                ip_address: filter.ip_address.clone(),
                username: filter.username.clone(),
                limit: 1,
                ..ListQuery::all()
            })
            .await
            .map(|p| p.total);
        let n = match count {
            Ok(n) => n,
            Err(e) => return failed(&state, &ctx, "Counting the records", &e),
        };
        let mut hidden = Vec::new();
        if let Some(ip) = ip {
            hidden.push(("ip".to_owned(), ip.to_owned()));
        }
        if let Some(u) = username {
            hidden.push(("username".to_owned(), u.to_owned()));
        }
        hidden.push(("confirm".into(), "yes".into()));
        let both = if filter.ip_address.is_some() && filter.username.is_some() {
            " Only records matching both are removed."
        } else {
            ""
        };
        return confirm_page(
            &state,
            &ctx,
            "attempts",
            Confirm {
                heading: format!("Unlock {what}?"),
                text: format!(
                    "This removes {} and lifts the lockouts they cause.{both}",
                    Table::Attempts.rows(usize::try_from(n).unwrap_or(usize::MAX))
                ),
                items: Vec::new(),
                more: 0,
                hidden,
                action: format!("{}/unlock", ctx.base),
                cancel_url: format!("{}/attempts", ctx.base),
                confirm_label: "Yes, unlock".into(),
            },
        );
    }
    match state.axes.reset(ip, username).await {
        Ok(n) => {
            tracing::info!(
                target: "axes_admin",
                admin = %ctx.identity.name,
                removed = n,
                "axes admin: {} unlocked {what} ({n} attempt records removed)",
                ctx.identity.name
            );
            done(format!("{}/attempts?done=unlocked&n={n}", ctx.base))
        }
        Err(e) => failed(&state, &ctx, "Unlocking", &e),
    }
}

/// `POST /prune` with `log=access|failure` and `days`: deletes log rows
/// older than that many days.
pub(crate) async fn prune(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match genuine(&state, &ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let table = match form.get("log") {
        Some("access") => Table::AccessLogs,
        Some("failure") => Table::FailureLogs,
        _ => return bad_request(&state, &ctx, "Choose the access log or the failure log."),
    };
    let days = match form.get("days").map(str::parse::<u32>) {
        Some(Ok(d)) if d <= MAX_AGE_DAYS => d,
        _ => {
            return bad_request(
                &state,
                &ctx,
                &format!("The age must be a number of days from 0 to {MAX_AGE_DAYS}."),
            );
        }
    };
    let before = state.axes.now() - chrono::Duration::days(i64::from(days));
    let list_url = format!("{}/{}", ctx.base, table.path());
    if !form.confirmed() {
        let q = ListQuery {
            until: Some(before + chrono::Duration::milliseconds(1)),
            limit: 1,
            ..ListQuery::all()
        };
        let count = match table {
            Table::AccessLogs => state.axes.list_access_logs(&q).await.map(|p| p.total),
            _ => state.axes.list_failure_logs(&q).await.map(|p| p.total),
        };
        let n = match count {
            Ok(n) => n,
            Err(e) => return failed(&state, &ctx, "Counting the entries", &e),
        };
        return confirm_page(
            &state,
            &ctx,
            table.nav(),
            Confirm {
                heading: format!("Prune {} older than {days} days?", table.plural()),
                text: format!(
                    "This deletes {} from before {}. It cannot be undone.",
                    table.rows(usize::try_from(n).unwrap_or(usize::MAX)),
                    time(before)
                ),
                items: Vec::new(),
                more: 0,
                hidden: vec![
                    ("log".into(), form.get("log").unwrap_or_default().to_owned()),
                    ("days".into(), days.to_string()),
                    ("confirm".into(), "yes".into()),
                ],
                action: format!("{}/prune", ctx.base),
                cancel_url: list_url,
                confirm_label: "Yes, prune".into(),
            },
        );
    }
    let result = match table {
        Table::AccessLogs => state.axes.reset_logs(Some(days)).await,
        _ => state.axes.reset_failure_logs(Some(days)).await,
    };
    match result {
        Ok(n) => {
            tracing::info!(
                target: "axes_admin",
                admin = %ctx.identity.name,
                removed = n,
                "axes admin: {} pruned {} older than {days} days",
                ctx.identity.name,
                table.rows(usize::try_from(n).unwrap_or(usize::MAX))
            );
            let code = match table {
                Table::AccessLogs => "pruned-access-logs",
                _ => "pruned-failure-logs",
            };
            done(format!("{list_url}?done={code}&n={n}"))
        }
        Err(e) => failed(&state, &ctx, "Pruning", &e),
    }
}

/// `POST /purge`: "Remove expired attempts" — the attempt records whose
/// cool-off has passed (they count for nothing any more).
pub(crate) async fn purge(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match genuine(&state, &ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let list_url = format!("{}/attempts", ctx.base);
    let Some(cooloff) = state.axes.purge_window() else {
        return bad_request(
            &state,
            &ctx,
            "Without a cool-off (cooloff_time, or one on every lockout rule) failures never expire: there is nothing to remove.",
        );
    };
    let before = state.axes.now() - cooloff;
    if !form.confirmed() {
        let q = ListQuery {
            until: Some(before + chrono::Duration::milliseconds(1)),
            limit: 1,
            ..ListQuery::all()
        };
        let n = match state.axes.list_attempts(&q).await {
            Ok(p) => p.total,
            Err(e) => return failed(&state, &ctx, "Counting the expired attempts", &e),
        };
        return confirm_page(
            &state,
            &ctx,
            Table::Attempts.nav(),
            Confirm {
                heading: "Remove expired attempts?".into(),
                text: format!(
                    "This deletes {} whose last failure is from before {} (older than the cool-off). They no longer count toward any lockout.",
                    Table::Attempts.rows(usize::try_from(n).unwrap_or(usize::MAX)),
                    time(before)
                ),
                items: Vec::new(),
                more: 0,
                hidden: vec![("confirm".into(), "yes".into())],
                action: format!("{}/purge", ctx.base),
                cancel_url: list_url,
                confirm_label: "Yes, remove".into(),
            },
        );
    }
    match state.axes.purge_expired().await {
        Ok(n) => {
            tracing::info!(
                target: "axes_admin",
                admin = %ctx.identity.name,
                removed = n,
                "axes admin: {} removed {n} expired attempts",
                ctx.identity.name,
            );
            done(format!("{list_url}?done=purged-attempts&n={n}"))
        }
        Err(e) => failed(&state, &ctx, "Removing expired attempts", &e),
    }
}

/// The longest `for` duration text accepted.
const MAX_DURATION_LEN: usize = 64;

/// The IP and username of a block form: bounded, at least one, no IP when
/// IPs are not stored.
fn block_fields<'a>(
    state: &AdminState,
    ctx: &Ctx,
    form: &'a Form,
) -> Result<(Option<&'a str>, Option<&'a str>), Box<Response>> {
    let ip = form.get("ip");
    let username = form.get("username");
    if ip.is_some() && !state.axes.settings().store_ip_address {
        return Err(Box::new(bad_request(
            state,
            ctx,
            "IP addresses are not stored (store_ip_address = false).",
        )));
    }
    if ip.is_some_and(|v| v.len() > MAX_IP_LEN)
        || username.is_some_and(|v| v.len() > MAX_USERNAME_LEN)
    {
        return Err(Box::new(bad_request(
            state,
            ctx,
            "The IP address or username is too long.",
        )));
    }
    if ip.is_none() && username.is_none() {
        return Err(Box::new(bad_request(
            state,
            ctx,
            "Give an IP address, a username or both.",
        )));
    }
    Ok((ip, username))
}

/// The hidden fields that carry a block form to its confirmation.
fn block_hidden(ip: Option<&str>, username: Option<&str>) -> Vec<(String, String)> {
    let mut hidden = Vec::new();
    if let Some(ip) = ip {
        hidden.push(("ip".to_owned(), ip.to_owned()));
    }
    if let Some(u) = username {
        hidden.push(("username".to_owned(), u.to_owned()));
    }
    hidden
}

/// `POST /blocks/add` with `ip`, `username` or both (the pair) and an
/// optional `for` ("30m", "2h", "7d"; empty: until unblocked): refuses
/// matching logins at once. `created_by` is the admin's name.
pub(crate) async fn block(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match genuine(&state, &ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let (ip, username) = match block_fields(&state, &ctx, &form) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let for_text = form.get("for");
    let duration = match for_text {
        None => None,
        Some(t) if t.chars().count() > MAX_DURATION_LEN => {
            return bad_request(&state, &ctx, "The duration is too long.");
        }
        Some(t) => match axes_core::settings::parse_duration(t) {
            Ok(d) if d.is_zero() => {
                return bad_request(&state, &ctx, "A block must last longer than zero.");
            }
            Ok(d) => Some(d),
            Err(e) => return bad_request(&state, &ctx, &format!("The duration: {e}.")),
        },
    };
    let target = match state.axes.block_target(ip, username) {
        Ok(t) => t,
        Err(e) => return bad_request(&state, &ctx, &e.to_string()),
    };
    let list_url = format!("{}/blocks", ctx.base);
    if !form.confirmed() {
        let mut hidden = block_hidden(ip, username);
        if let Some(t) = for_text {
            hidden.push(("for".into(), t.to_owned()));
        }
        hidden.push(("confirm".into(), "yes".into()));
        let how_long = match duration {
            Some(d) => format!(
                "for {} (until about {})",
                span(axes_core::settings::to_chrono(d)),
                time(state.axes.now() + axes_core::settings::to_chrono(d))
            ),
            None => "until it is unblocked".to_owned(),
        };
        let pair = if target.ip_address.is_some() && target.username.is_some() {
            " Only logins with both are refused."
        } else {
            ""
        };
        return confirm_page(
            &state,
            &ctx,
            "blocks",
            Confirm {
                heading: format!("Block {target}?"),
                text: format!(
                    "Every login that matches is refused at once, before its password is checked, {how_long}.{pair}"
                ),
                items: Vec::new(),
                more: 0,
                hidden,
                action: format!("{list_url}/add"),
                cancel_url: list_url,
                confirm_label: "Yes, block".into(),
            },
        );
    }
    match state
        .axes
        .block(ip, username, duration, &ctx.identity.name)
        .await
    {
        Ok(b) => {
            tracing::info!(
                target: "axes_admin",
                admin = %ctx.identity.name,
                "axes admin: {} blocked {}{}",
                ctx.identity.name,
                b.target,
                b.until.map(|u| format!(" until {}", time(u))).unwrap_or_default()
            );
            done(format!("{list_url}?done=blocked&n=1"))
        }
        Err(axes_core::Error::InvalidInput(why)) => bad_request(&state, &ctx, &why),
        Err(e) => failed(&state, &ctx, "Blocking", &e),
    }
}

/// `POST /blocks/remove` with the `ip`, `username` or both of a manual
/// block: lifts exactly that block.
pub(crate) async fn unblock(
    State(state): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match genuine(&state, &ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let (ip, username) = match block_fields(&state, &ctx, &form) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let target = match state.axes.block_target(ip, username) {
        Ok(t) => t,
        Err(e) => return bad_request(&state, &ctx, &e.to_string()),
    };
    let list_url = format!("{}/blocks", ctx.base);
    if !form.confirmed() {
        let mut hidden = block_hidden(ip, username);
        hidden.push(("confirm".into(), "yes".into()));
        return confirm_page(
            &state,
            &ctx,
            "blocks",
            Confirm {
                heading: format!("Unblock {target}?"),
                text:
                    "Logins that match are no longer refused by this block (lockouts still apply)."
                        .into(),
                items: Vec::new(),
                more: 0,
                hidden,
                action: format!("{list_url}/remove"),
                cancel_url: list_url,
                confirm_label: "Yes, unblock".into(),
            },
        );
    }
    match state.axes.unblock(ip, username).await {
        Ok(removed) => {
            if removed {
                tracing::info!(
                    target: "axes_admin",
                    admin = %ctx.identity.name,
                    "axes admin: {} unblocked {target}",
                    ctx.identity.name,
                );
            }
            done(format!("{list_url}?done=unblocked&n={}", u8::from(removed)))
        }
        Err(axes_core::Error::InvalidInput(why)) => bad_request(&state, &ctx, &why),
        Err(e) => failed(&state, &ctx, "Unblocking", &e),
    }
}
