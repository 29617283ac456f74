//! The reservation protocol for remote apps (SPEC §3, §8):
//! `POST /api/v1/attempts/begin` counts the attempt before the password is
//! checked; `POST /api/v1/attempts/{id}/finish` gives the slot back when
//! the password was right. One identity: the username the app checks is
//! the one sent to `begin` — `finish` takes no other (a username sent to
//! `finish` must be the reserved one, else 409).
//!
//! Trusted devices (`trusted_device`): `begin` takes the client's
//! `axes_device` cookie as `device_token`, and a successful `finish`
//! answers a new `device_token` for the app to set as that cookie.

use axes_core::Attempt;
use axum::Json;
use axum::extract::{Path, State};

use super::ApiState;
use super::body::ApiJson;
use super::errors::{ApiError, BodyErrors, ErrorBody};
use super::model::{AttemptInput, BeginAnswer, FinishAnswer, FinishInput, MAX_USERNAME_CHARS};
use super::reservations::{Ended, Id, TakeError};

/// Reserves an attempt: counts it now, before the password is checked.
#[utoipa::path(
    post,
    path = "/api/v1/attempts/begin",
    tag = "reservations",
    request_body(content = AttemptInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Admitted (check the password, then finish `id`) or refused", body = BeginAnswer),
        BodyErrors,
        (status = 503, description = "Too many open reservations (api_max_reservations)", body = ErrorBody),
    )
)]
pub async fn begin(
    State(state): State<ApiState>,
    ApiJson(input): ApiJson<AttemptInput>,
) -> Result<Json<BeginAnswer>, ApiError> {
    let attempt = input.attempt()?;
    let Some(slot) = state.reservations.promise() else {
        return Err(ApiError::unavailable(
            "too many open reservations (api_max_reservations); finish them, or try again later",
        ));
    };
    match state.axes.begin(&attempt).await {
        Err(lockout) => Ok(Json(BeginAnswer {
            id: None,
            admitted: false,
            failures: lockout.failures,
            failure_limit: lockout.failure_limit,
            retry_after: lockout.retry_after_secs(),
            message: Some(lockout.message),
        })),
        Ok(ticket) => {
            let failures = ticket.failures();
            let failure_limit = state.failure_limit();
            match slot.insert(ticket) {
                Ok(id) => Ok(Json(BeginAnswer {
                    id: Some(id.to_string()),
                    admitted: true,
                    failures,
                    failure_limit,
                    retry_after: None,
                    message: None,
                })),
                Err(ticket) => {
                    ticket.abandon().await;
                    Err(ApiError::unavailable("no randomness for a reservation id"))
                }
            }
        }
    }
}

/// Finishes a reservation with the outcome of the password check.
#[utoipa::path(
    post,
    path = "/api/v1/attempts/{id}/finish",
    tag = "reservations",
    params(("id" = String, Path, description = "The id `begin` answered")),
    request_body(content = FinishInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = FinishAnswer),
        (status = 404, description = "Unknown reservation", body = ErrorBody),
        (status = 409, description = "Already finished, expired, or another username", body = ErrorBody),
        BodyErrors,
    )
)]
pub async fn finish(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FinishInput>,
) -> Result<Json<FinishAnswer>, ApiError> {
    let named = match &input.username {
        Some(u) if u.chars().count() > MAX_USERNAME_CHARS => {
            return Err(ApiError::invalid(
                "username",
                format!("longer than {MAX_USERNAME_CHARS} characters"),
            ));
        }
        Some(u) => Some(state.axes.prepare(&Attempt::new().username(u)).key.username),
        None => None,
    };
    let taken = state.reservations.take(Id::parse(&id), |ticket| {
        named
            .as_ref()
            .is_none_or(|n| *n == ticket.prepared().key.username)
    });
    let ticket = match taken {
        Ok(t) => t,
        Err(TakeError::Unknown) => return Err(ApiError::not_found("no such reservation")),
        Err(TakeError::Ended(Ended::Finished)) => {
            return Err(ApiError::conflict("this reservation is already finished"));
        }
        Err(TakeError::Ended(Ended::Expired)) => {
            return Err(ApiError::conflict(
                "this reservation expired (api_reservation_timeout) and was counted as a failure",
            ));
        }
        Err(TakeError::OtherUser) => {
            return Err(ApiError::conflict(
                "username: not the username this reservation was made for; check the password of that one",
            ));
        }
    };
    if input.success {
        let username = ticket.prepared().key.username.clone();
        ticket.succeeded().await;
        // trusted_device: the app sets this as the client's cookie.
        let device_token = username.and_then(|u| state.axes.issue_device_token(&u));
        return Ok(Json(FinishAnswer {
            locked_out: false,
            failures: None,
            retry_after: None,
            message: None,
            device_token,
        }));
    }
    let failures = ticket.failures();
    Ok(Json(match ticket.failed().await {
        Some(lockout) => FinishAnswer {
            locked_out: true,
            failures: Some(lockout.failures),
            retry_after: lockout.retry_after_secs(),
            message: Some(lockout.message),
            device_token: None,
        },
        None => FinishAnswer {
            locked_out: false,
            failures: Some(failures),
            retry_after: None,
            message: None,
            device_token: None,
        },
    }))
}
