//! The reservation protocol: a [`Ticket`] is one admitted attempt whose
//! failure is already counted; it is given back when the credentials were
//! right.

use std::fmt;

use super::{Axes, Lockout, LockoutReason, Prepared};
use crate::blocks::BlockKind;
use crate::error::StoreError;
use crate::events::EventKind;
use crate::parameters::LockoutParameters;
use crate::store::{Failures, NewFailureLog, Reservation, ReservationToken, ReserveOutcome};

/// Why [`Axes::authenticate`] did not return a user.
#[derive(Debug)]
pub enum AuthError<E> {
    /// The client is locked out (before the check, or by this failure).
    LockedOut(Lockout),
    /// Wrong credentials; not (yet) locked out.
    InvalidCredentials,
    /// The credential check itself failed.
    Backend(E),
}

impl<E: fmt::Display> fmt::Display for AuthError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::LockedOut(l) => f.write_str(&l.message),
            AuthError::InvalidCredentials => f.write_str("invalid credentials"),
            AuthError::Backend(e) => write!(f, "credential check failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for AuthError<E> {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Not counted (axes off, allow-listed, GET with never_lockout_get).
    Exempt,
    /// The store was down and fail_closed is off: nothing was counted.
    Unprotected,
    /// A failure was counted in advance.
    Reserved,
}

/// An admitted attempt. Finish it with [`Ticket::succeeded`],
/// [`Ticket::failed`] or [`Ticket::abandon`]. A ticket dropped unfinished
/// keeps its failure counted, so a client gains nothing by disconnecting.
#[derive(Debug)]
#[must_use = "finish the ticket with succeeded(), failed() or abandon()"]
pub struct Ticket {
    axes: Axes,
    prepared: Prepared,
    mode: Mode,
    limit: Option<u32>,
    failures: Failures,
    /// The alternatives this attempt is counted by, when narrower than the
    /// settings' (a field of the attempt is unknown).
    narrowed: Option<LockoutParameters>,
    /// The failure the store counted for this attempt: what a give-back
    /// takes off, and nothing else.
    token: Option<ReservationToken>,
}

pub(super) async fn reserve(
    axes: Axes,
    p: Prepared,
    limit: Option<u32>,
    narrowed: Option<LockoutParameters>,
) -> Result<Ticket, Lockout> {
    let outcome = match reserve_outcome(&axes, &p, limit, narrowed.as_ref()).await {
        Ok(o) => o,
        Err(_) => {
            return match axes.store_down_lockout(&p) {
                Some(l) => Err(l),
                None => Ok(Ticket {
                    axes: axes.clone(),
                    prepared: p,
                    mode: Mode::Unprotected,
                    limit,
                    failures: Failures::default(),
                    narrowed,
                    token: None,
                }),
            };
        }
    };
    if outcome.admitted {
        return Ok(Ticket {
            axes,
            prepared: p,
            mode: Mode::Reserved,
            limit,
            failures: outcome.failures,
            narrowed,
            token: outcome.token,
        });
    }
    let limit_value = limit.unwrap_or(u32::MAX);
    let f = &outcome.failures;
    let lockout = match &f.block {
        Some(b) if b.kind == BlockKind::Manual => {
            tracing::warn!(
                "axes: refused {}: blocked ({}) by {:?}",
                axes.client_str(&p),
                b.target,
                b.created_by
            );
            axes.blocked_lockout(&p, b, f, limit_value)
        }
        Some(b) => {
            tracing::warn!(
                "axes: refused {} while locked out (lockout {} of {} within lockout_memory)",
                axes.client_str(&p),
                b.lockouts,
                b.target
            );
            let reached = limit.is_some_and(|l| f.reached(l));
            axes.escalated_lockout(&p, f, limit_value, reached, std::slice::from_ref(b))
        }
        None => {
            let l = axes.lockout(&p, LockoutReason::TooManyFailures, f, limit_value);
            tracing::warn!(
                "axes: refused {} while locked out ({} failures)",
                axes.client_str(&p),
                l.failures
            );
            l
        }
    };
    // A refusal counted on the records, or by an operator's block (not
    // counted, but worth a row): the failure log shows it as locked out.
    if outcome.counted || lockout.reason == LockoutReason::Blocked {
        write_failure_log(&axes, &p, true).await;
    }
    axes.emit_lockout(&p, &lockout, true);
    Err(lockout)
}

/// The store's reservation. Without a limit (`lock_out_at_failure =
/// false`) lockout history refuses nothing: a refusal by a history row is
/// asked again without its target, unless a manual block on that very
/// target refuses (see [`Axes::manual_block_on`]). A refusal writes
/// nothing, so asking again counts the attempt at most once.
async fn reserve_outcome(
    axes: &Axes,
    p: &Prepared,
    limit: Option<u32>,
    narrowed: Option<&LockoutParameters>,
) -> Result<ReserveOutcome, StoreError> {
    let s = axes.settings();
    let now = axes.now();
    let mut candidates = axes.block_candidates(&p.key);
    loop {
        let reservation = Reservation {
            key: &p.key,
            details: &p.details,
            parameters: narrowed.unwrap_or(&s.lockout_parameters),
            limit,
            window: axes.window_for(p),
            count_when_locked: s.reset_cool_off_on_failure_during_lockout,
            now,
            blocks: &candidates,
            manual_only: false,
        };
        let mut outcome = axes.call(axes.inner.store.reserve(&reservation)).await?;
        let history = match &outcome.failures.block {
            Some(b) if limit.is_none() && b.kind == BlockKind::Lockout && !outcome.admitted => {
                b.target.clone()
            }
            _ => return Ok(outcome),
        };
        if let Some(manual) = axes.manual_block_on(&history, now).await? {
            outcome.failures.block = Some(manual);
            return Ok(outcome);
        }
        let asked = candidates.len();
        candidates.retain(|t| *t != history);
        if candidates.len() == asked {
            // Not a target it was asked about: ask no more.
            return Ok(outcome);
        }
    }
}

async fn write_failure_log(axes: &Axes, p: &Prepared, locked_out: bool) {
    let s = axes.settings();
    if !s.enable_access_failure_log {
        return;
    }
    let entry = NewFailureLog {
        key: p.key.clone(),
        path: p.details.path.clone(),
        http_accept: p.details.http_accept.clone(),
        attempt_time: axes.now(),
        locked_out,
    };
    let _ = axes
        .call(
            axes.inner
                .store
                .insert_failure_log(&entry, s.access_failure_log_per_user_limit),
        )
        .await;
}

impl Ticket {
    pub(super) fn exempt(axes: Axes, prepared: Prepared) -> Self {
        Ticket {
            axes,
            prepared,
            mode: Mode::Exempt,
            limit: None,
            failures: Failures::default(),
            narrowed: None,
            token: None,
        }
    }

    /// The canonical attempt.
    pub fn prepared(&self) -> &Prepared {
        &self.prepared
    }

    /// Failures counted for the client, this attempt included.
    pub fn failures(&self) -> u32 {
        self.failures.max()
    }

    /// Whether the store counted this attempt (false when exempt, when axes
    /// is off, or when the store was down and `fail_closed` is off).
    pub fn is_counted(&self) -> bool {
        self.mode == Mode::Reserved
    }

    /// Runs `check` (the app's credential check) for this ticket and
    /// finishes it: `Ok(Some(user))` means right credentials, `Ok(None)`
    /// wrong ones (the lockout comes back when this failure reached the
    /// limit — or, with `hide_lockout`, `InvalidCredentials` still), `Err`
    /// a failed check (nothing counted).
    pub async fn run<U, E, F, Fut>(self, check: F) -> Result<U, AuthError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<U>, E>>,
    {
        let axes = self.axes.clone();
        match check().await {
            Ok(Some(user)) => {
                self.succeeded().await;
                Ok(user)
            }
            Ok(None) => match self.failed().await {
                Some(lockout) if axes.hides(&lockout) => Err(AuthError::InvalidCredentials),
                Some(lockout) => Err(AuthError::LockedOut(lockout)),
                None => Err(AuthError::InvalidCredentials),
            },
            Err(e) => {
                self.abandon().await;
                Err(AuthError::Backend(e))
            }
        }
    }

    /// The credentials were right: give the slot back (or, with
    /// `reset_on_success`, delete the client's failures).
    pub async fn succeeded(self) {
        let axes = &self.axes;
        let s = axes.settings();
        if !s.enabled || self.mode == Mode::Unprotected {
            return;
        }
        let store = &axes.inner.store;
        if s.reset_on_success {
            let parameters = self.narrowed.as_ref().unwrap_or(&s.lockout_parameters);
            axes.forget_lockouts(&self.prepared, parameters).await;
            if let Ok(n) = axes
                .call(store.clear_client(&self.prepared.key, parameters))
                .await
                && n > 0
            {
                tracing::info!(
                    "axes: reset {n} attempt records of {} after a successful login",
                    axes.client_str(&self.prepared)
                );
            }
        } else {
            self.give_back().await;
        }
    }

    /// The credentials were wrong. The failure is already counted; returns
    /// the lockout when this failure reached the limit.
    pub async fn failed(self) -> Option<Lockout> {
        let axes = &self.axes;
        let p = &self.prepared;
        match self.mode {
            Mode::Reserved => {}
            Mode::Exempt => {
                if axes.settings().enabled {
                    tracing::info!(
                        "axes: login failed from exempt client {}",
                        axes.client_str(p)
                    );
                }
                return None;
            }
            Mode::Unprotected => {
                tracing::warn!(
                    "axes: login failure by {} not counted: the store is unavailable",
                    axes.client_str(p)
                );
                return None;
            }
        }
        let failures = self.failures.max();
        let locked = self.limit.is_some_and(|l| self.failures.reached(l));
        match self.limit {
            Some(limit) => tracing::warn!(
                "axes: login failure by {} ({failures} of {limit})",
                axes.client_str(p)
            ),
            None => tracing::warn!(
                "axes: login failure by {} ({failures} of unlimited)",
                axes.client_str(p)
            ),
        }
        axes.emit(EventKind::LoginFailed, p, failures);
        write_failure_log(axes, p, locked).await;
        if !locked {
            return None;
        }
        let limit = self.limit.unwrap_or(u32::MAX);
        tracing::warn!(
            "axes: locking out {} after repeated login failures",
            axes.client_str(p)
        );
        let parameters = self
            .narrowed
            .as_ref()
            .unwrap_or(&axes.settings().lockout_parameters);
        let rows = axes
            .record_lockouts(p, parameters, &self.failures, limit)
            .await;
        let lockout = axes.escalated_lockout(p, &self.failures, limit, true, &rows);
        axes.emit_lockout(p, &lockout, false);
        Some(lockout)
    }

    /// The check could not run (the app's backend failed): give the slot back
    /// without counting anything.
    pub async fn abandon(self) {
        self.give_back().await;
    }

    /// Gives back the failure counted for this ticket (exactly that one: if
    /// its record was reset or restarted since, nothing).
    async fn give_back(&self) {
        if self.mode != Mode::Reserved {
            return;
        }
        if let Some(token) = &self.token {
            let store = &self.axes.inner.store;
            let _ = self
                .axes
                .call(store.release(&self.prepared.key, token))
                .await;
        }
    }
}
