//! `POST /api/v1/check` (read-only) and the after-the-fact reports:
//! `login-failed`, `logged-in`, `logged-out`.

use axum::Json;
use axum::extract::State;

use super::ApiState;
use super::body::ApiJson;
use super::errors::{ApiError, BodyErrors};
use super::model::{AttemptInput, Decision, Recorded, ReportInput};

/// Would this client be refused now? Counts nothing.
#[utoipa::path(
    post,
    path = "/api/v1/check",
    tag = "decisions",
    request_body(content = AttemptInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The decision (nothing is counted)", body = Decision),
        BodyErrors,
    )
)]
pub async fn check(
    State(state): State<ApiState>,
    ApiJson(input): ApiJson<AttemptInput>,
) -> Result<Json<Decision>, ApiError> {
    let attempt = input.attempt()?;
    let r = state.axes.check(&attempt).await;
    Ok(Json(match &r.lockout {
        Some(l) => Decision::refused(l),
        None => Decision::allowed(r.failures, r.failure_limit),
    }))
}

/// Reports a failed login the app checked without a reservation: counts
/// it, and answers whether the client is now refused.
#[utoipa::path(
    post,
    path = "/api/v1/login-failed",
    tag = "reports",
    request_body(content = AttemptInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Counted; the decision after it", body = Decision),
        BodyErrors,
    )
)]
pub async fn login_failed(
    State(state): State<ApiState>,
    ApiJson(input): ApiJson<AttemptInput>,
) -> Result<Json<Decision>, ApiError> {
    let attempt = input.attempt()?;
    let decision = match state.axes.begin(&attempt).await {
        Err(lockout) => Decision::refused(&lockout),
        Ok(ticket) => {
            let failures = ticket.failures();
            let limit = state.failure_limit();
            match ticket.failed().await {
                Some(lockout) => Decision::refused(&lockout),
                None => Decision::allowed(failures, limit),
            }
        }
    };
    Ok(Json(decision))
}

/// Reports a successful login: an access-log row and a `logged_in` event.
#[utoipa::path(
    post,
    path = "/api/v1/logged-in",
    tag = "reports",
    request_body(content = ReportInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = Recorded),
        BodyErrors,
    )
)]
pub async fn logged_in(
    State(state): State<ApiState>,
    ApiJson(input): ApiJson<ReportInput>,
) -> Result<Json<Recorded>, ApiError> {
    let (attempt, session) = input.attempt()?;
    state.axes.logged_in(&attempt, session).await;
    Ok(Json(Recorded { recorded: true }))
}

/// Reports a logout: closes the access-log rows of the user (and session).
#[utoipa::path(
    post,
    path = "/api/v1/logged-out",
    tag = "reports",
    request_body(content = ReportInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = Recorded),
        BodyErrors,
    )
)]
pub async fn logged_out(
    State(state): State<ApiState>,
    ApiJson(input): ApiJson<ReportInput>,
) -> Result<Json<Recorded>, ApiError> {
    let (_attempt, session) = input.attempt()?;
    state.axes.logged_out(&input.username, session).await;
    Ok(Json(Recorded { recorded: true }))
}
