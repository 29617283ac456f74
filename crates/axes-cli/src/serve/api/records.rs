//! Attempt records and logs: `GET`/`DELETE /api/v1/attempts`,
//! `DELETE /api/v1/logs`.

use axes_core::store::ListQuery;
use axum::Json;
use axum::extract::State;

use super::ApiState;
use super::body::ApiQuery;
use super::errors::{ApiError, QueryErrors};
use super::model::{
    AttemptItem, AttemptList, ListParams, LogsParams, Removed, ResetParams, given, parse_ip,
};

/// The default page size of `GET /api/v1/attempts`.
pub const DEFAULT_PAGE: u64 = 100;

/// The largest `offset` of `GET /api/v1/attempts`.
pub const MAX_OFFSET: u64 = 1_000_000_000;

/// The days of `DELETE /api/v1/logs` without `age_days` (as `axes reset-logs`).
pub const DEFAULT_LOG_AGE_DAYS: u32 = 30;

/// Validates the filters; IPs must parse, usernames are normalised by the
/// engine.
fn filters<'a>(
    state: &ApiState,
    ip: &'a Option<String>,
    username: &'a Option<String>,
) -> Result<(Option<&'a str>, Option<&'a str>), ApiError> {
    let (ip, username) = checked(ip, username)?;
    // Canonical forms (mapped IPv6 folded, prefix grouping, username rule).
    state
        .axes
        .reset_filter(ip, username)
        .map_err(|e| ApiError::from_engine(&e))?;
    Ok((ip, username))
}

/// The filters as given, syntax and bounds checked.
fn checked<'a>(
    ip: &'a Option<String>,
    username: &'a Option<String>,
) -> Result<(Option<&'a str>, Option<&'a str>), ApiError> {
    let ip = given(ip);
    if let Some(ip) = ip {
        parse_ip("ip_address", ip)?;
    }
    let username = given(username);
    if let Some(u) = username
        && u.chars().count() > super::model::MAX_USERNAME_CHARS
    {
        return Err(ApiError::invalid("username", "too long"));
    }
    Ok((ip, username))
}

/// The query of a listing (attempts, blocks): the IP and username filters
/// validated and made canonical, the page bounded.
pub(super) fn list_query(
    state: &ApiState,
    ip: &Option<String>,
    username: &Option<String>,
    limit: Option<u64>,
    offset: Option<u64>,
) -> Result<ListQuery, ApiError> {
    let (ip, username) = checked(ip, username)?;
    let filter = state
        .axes
        .reset_filter(ip, username)
        .map_err(|e| ApiError::from_engine(&e))?;
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=ListQuery::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1 – {}", ListQuery::MAX_LIMIT),
        ));
    }
    let offset = offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(ApiError::invalid("offset", format!("at most {MAX_OFFSET}")));
    }
    Ok(ListQuery {
        ip_address: filter.ip_address,
        username: filter.username,
        offset,
        limit,
        ..ListQuery::all()
    })
}

/// Lists attempt records, newest first (AND of the filters).
#[utoipa::path(
    get,
    path = "/api/v1/attempts",
    tag = "records",
    params(ListParams),
    responses(
        (status = 200, description = "A page of attempt records", body = AttemptList),
        QueryErrors,
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<AttemptList>, ApiError> {
    let query = list_query(
        &state,
        &params.ip_address,
        &params.username,
        params.limit,
        params.offset,
    )?;
    let page = state
        .axes
        .list_attempts(&query)
        .await
        .map_err(|e| ApiError::from_engine(&e))?;
    let show_ip = state.axes.settings().store_ip_address;
    Ok(Json(AttemptList {
        total: page.total,
        items: page
            .items
            .into_iter()
            .map(|r| AttemptItem {
                id: r.id,
                ip_address: r.key.ip_address.filter(|_| show_ip),
                username: r.key.username,
                user_agent: r.key.user_agent,
                path: r.details.path,
                failures: r.failures,
                attempt_time: r.attempt_time.to_rfc3339(),
            })
            .collect(),
    }))
}

/// Deletes attempt records matching BOTH filters (lifting their
/// lockouts); with no filter, only with `all=true`.
#[utoipa::path(
    delete,
    path = "/api/v1/attempts",
    tag = "records",
    params(ResetParams),
    responses(
        (status = 200, description = "How many records were removed", body = Removed),
        QueryErrors,
    )
)]
pub async fn reset(
    State(state): State<ApiState>,
    ApiQuery(params): ApiQuery<ResetParams>,
) -> Result<Json<Removed>, ApiError> {
    let (ip, username) = filters(&state, &params.ip_address, &params.username)?;
    let all = params.all.unwrap_or(false);
    if ip.is_none() && username.is_none() && !all {
        return Err(ApiError::unreadable(
            "no filter: give ip_address and/or username, or all=true to delete every attempt",
        ));
    }
    let removed = state
        .axes
        .reset(ip, username)
        .await
        .map_err(|e| ApiError::from_engine(&e))?;
    Ok(Json(Removed { removed }))
}

/// Deletes the attempts whose cool-off has passed (what `axes purge` and
/// the periodic purge do); `{"removed": 0}` without a cool-off
/// (`cooloff_time`, or one on every layered rule).
#[utoipa::path(
    post,
    path = "/api/v1/purge",
    tag = "records",
    responses(
        (status = 200, description = "How many expired attempts were removed", body = Removed),
    )
)]
pub async fn purge(State(state): State<ApiState>) -> Result<Json<Removed>, ApiError> {
    let removed = state
        .axes
        .purge_expired()
        .await
        .map_err(|e| ApiError::from_engine(&e))?;
    Ok(Json(Removed { removed }))
}

/// Deletes access-log rows older than `age_days` days.
#[utoipa::path(
    delete,
    path = "/api/v1/logs",
    tag = "records",
    params(LogsParams),
    responses(
        (status = 200, description = "How many rows were removed", body = Removed),
        QueryErrors,
    )
)]
pub async fn reset_logs(
    State(state): State<ApiState>,
    ApiQuery(params): ApiQuery<LogsParams>,
) -> Result<Json<Removed>, ApiError> {
    let days = params.age_days.unwrap_or(DEFAULT_LOG_AGE_DAYS);
    if days > 36_500 {
        return Err(ApiError::invalid("age_days", "at most 36500"));
    }
    let age = (days > 0).then_some(days);
    let removed = state
        .axes
        .reset_logs(age)
        .await
        .map_err(|e| ApiError::from_engine(&e))?;
    Ok(Json(Removed { removed }))
}
