//! Manual blocks: `GET`/`POST`/`DELETE /api/v1/blocks` — refuse an IP, a
//! username or the pair at once ([`Axes::block`](axes_core::Axes::block)),
//! list the blocks, lift one.

use std::time::Duration;

use axes_core::{Block, BlockKind};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::SecondsFormat;

use super::ApiState;
use super::body::{ApiJson, ApiQuery};
use super::errors::{ApiError, BodyErrors, QueryErrors};
use super::model::{
    BlockInput, BlockItem, BlockList, BlocksParams, MAX_USERNAME_CHARS, UnblockParams, Unblocked,
    given, parse_ip,
};
use super::records::list_query;

/// Who the API's blocks are set by (`created_by`).
pub const CREATED_BY: &str = "api";

/// The longest `duration` text accepted.
const MAX_DURATION_TEXT: usize = 64;

/// Validates an IP and a username as given (bounds, syntax); the engine
/// makes them canonical.
fn target<'a>(
    ip: Option<&'a str>,
    username: Option<&'a str>,
) -> Result<(Option<&'a str>, Option<&'a str>), ApiError> {
    if let Some(ip) = ip {
        parse_ip("ip_address", ip)?;
    }
    if let Some(u) = username {
        if u.chars().count() > MAX_USERNAME_CHARS {
            return Err(ApiError::invalid("username", "too long"));
        }
        if u.chars().any(char::is_control) {
            return Err(ApiError::invalid("username", "contains control characters"));
        }
    }
    if ip.is_none() && username.is_none() {
        return Err(ApiError::unreadable(
            "give ip_address, username, or both (the pair)",
        ));
    }
    Ok((ip, username))
}

/// A block as the API answers it.
pub fn item(b: &Block, now: chrono::DateTime<chrono::Utc>, show_ip: bool) -> BlockItem {
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    BlockItem {
        kind: b.kind.as_str().to_owned(),
        ip_address: b.target.ip_address.clone().filter(|_| show_ip),
        username: b.target.username.clone(),
        user_agent: b.target.user_agent.clone(),
        until: b.until.map(time),
        created_at: time(b.created_at),
        created_by: b.created_by.clone(),
        lockouts: b.lockouts,
        refuses: b.refuses(now),
    }
}

/// The duration of a block request: `duration_seconds` or `duration`
/// ("2h"), not both; none is "until unblocked".
fn duration(input: &BlockInput) -> Result<Option<Duration>, ApiError> {
    match (input.duration_seconds, input.duration.as_deref()) {
        (Some(_), Some(_)) => Err(ApiError::unreadable(
            "give duration_seconds or duration, not both",
        )),
        (Some(secs), None) => Ok(Some(Duration::from_secs(secs))),
        (None, Some(text)) => {
            if text.chars().count() > MAX_DURATION_TEXT {
                return Err(ApiError::invalid("duration", "too long"));
            }
            axes_core::settings::parse_duration(text)
                .map(Some)
                .map_err(|e| ApiError::invalid("duration", e))
        }
        (None, None) => Ok(None),
    }
}

/// Blocks an IP address, a username, or the pair (both given): every
/// attempt that matches is refused at once, before its password is
/// checked, and nothing is counted — until `DELETE /api/v1/blocks`, or for
/// the duration given. A block on the same target is replaced.
#[utoipa::path(
    post,
    path = "/api/v1/blocks",
    tag = "blocks",
    request_body = BlockInput,
    responses(
        (status = 201, description = "The block, as set", body = BlockItem),
        BodyErrors,
        (status = 503, description = "The store is unavailable", body = super::errors::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<ApiState>,
    ApiJson(input): ApiJson<BlockInput>,
) -> Result<(StatusCode, Json<BlockItem>), ApiError> {
    let (ip, username) = target(given(&input.ip_address), given(&input.username))?;
    let duration = duration(&input)?;
    let block = state
        .axes
        .block(ip, username, duration, CREATED_BY)
        .await
        .map_err(|e| ApiError::from_engine(&e))?;
    let show_ip = state.axes.settings().store_ip_address;
    Ok((
        StatusCode::CREATED,
        Json(item(&block, state.axes.now(), show_ip)),
    ))
}

/// Lists block rows, newest first: manual blocks and the lockout history
/// of the progressive cool-off (`kind` narrows), expired ones included —
/// `refuses` tells which refuse now. `ip_address` and `username` match the
/// block's own values (AND).
#[utoipa::path(
    get,
    path = "/api/v1/blocks",
    tag = "blocks",
    params(BlocksParams),
    responses(
        (status = 200, description = "A page of blocks", body = BlockList),
        QueryErrors,
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    ApiQuery(params): ApiQuery<BlocksParams>,
) -> Result<Json<BlockList>, ApiError> {
    let kind = match given(&params.kind) {
        None => None,
        Some(k) => Some(
            BlockKind::parse(k)
                .ok_or_else(|| ApiError::invalid("kind", "must be `manual` or `lockout`"))?,
        ),
    };
    let query = list_query(
        &state,
        &params.ip_address,
        &params.username,
        params.limit,
        params.offset,
    )?;
    let page = state
        .axes
        .list_blocks(kind, &query)
        .await
        .map_err(|e| ApiError::from_engine(&e))?;
    let now = state.axes.now();
    let show_ip = state.axes.settings().store_ip_address;
    Ok(Json(BlockList {
        total: page.total,
        items: page.items.iter().map(|b| item(b, now, show_ip)).collect(),
    }))
}

/// Lifts the manual block of exactly this target: `ip_address` alone lifts
/// the IP's block (not a block of that IP and a username). 404 when there
/// is none.
#[utoipa::path(
    delete,
    path = "/api/v1/blocks",
    tag = "blocks",
    params(UnblockParams),
    responses(
        (status = 200, description = "The block was lifted", body = Unblocked),
        (status = 404, description = "No such block", body = super::errors::ErrorBody),
        QueryErrors,
    )
)]
pub async fn remove(
    State(state): State<ApiState>,
    ApiQuery(params): ApiQuery<UnblockParams>,
) -> Result<Json<Unblocked>, ApiError> {
    let (ip, username) = target(given(&params.ip_address), given(&params.username))?;
    let removed = state
        .axes
        .unblock(ip, username)
        .await
        .map_err(|e| ApiError::from_engine(&e))?;
    if !removed {
        return Err(ApiError::not_found("no block found"));
    }
    Ok(Json(Unblocked { removed }))
}
