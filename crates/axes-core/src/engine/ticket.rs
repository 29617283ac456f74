//! The reservation protocol: a [`Ticket`] is one admitted attempt whose
//! failure is already counted; it is given back when the credentials were
//! right.

use std::fmt;

use super::rules::{AppliedRule, RuleCount, max_failures};
use super::{Axes, Lockout, LockoutReason, Prepared};
use crate::blocks::BlockKind;
use crate::error::StoreError;
use crate::events::EventKind;
use std::borrow::Cow;

use crate::parameters::{Alternative, Field, LockoutParameters};
use crate::store::{NewFailureLog, RecordKey, Reservation, ReserveOutcome};

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
    /// Each rule the attempt is counted by, with the failure the store
    /// counted for it (what a give-back takes off, and nothing else).
    counts: Vec<RuleCount>,
}

pub(super) async fn reserve(
    axes: Axes,
    p: Prepared,
    rules: Vec<AppliedRule>,
) -> Result<Ticket, Lockout> {
    let mut counts: Vec<RuleCount> = Vec::with_capacity(rules.len());
    let mut refused = None;
    for (i, rule) in rules.into_iter().enumerate() {
        match reserve_outcome(&axes, &p, &rule, i == 0).await {
            Ok(o) if o.admitted => counts.push(RuleCount {
                rule,
                failures: o.failures,
                token: o.token,
            }),
            Ok(o) => {
                refused = Some((rule, o));
                break;
            }
            Err(_) => {
                give_back(&axes, &p, &counts).await;
                return match axes.store_down_lockout(&p) {
                    Some(l) => Err(l),
                    None => Ok(Ticket {
                        axes: axes.clone(),
                        prepared: p,
                        mode: Mode::Unprotected,
                        counts: Vec::new(),
                    }),
                };
            }
        }
    }
    let Some((rule, outcome)) = refused else {
        return Ok(Ticket {
            axes,
            prepared: p,
            mode: Mode::Reserved,
            counts,
        });
    };
    // A later rule refused: the slots the earlier ones took go back, so
    // an attempt refused by one rule counts in no other.
    give_back(&axes, &p, &counts).await;
    let limit_value = rule.limit.unwrap_or(u32::MAX);
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
            let reached = rule.limit.is_some_and(|l| f.reached(l));
            axes.escalated_lockout(&p, f, limit_value, reached, std::slice::from_ref(b))
        }
        None => {
            let l = axes.lockout_in(
                &p,
                LockoutReason::TooManyFailures,
                f,
                limit_value,
                rule.window,
            );
            match rule.describe(axes.settings()) {
                Some(r) => tracing::warn!(
                    "axes: refused {} while locked out ({} failures, rule {r})",
                    axes.client_str(&p),
                    l.failures
                ),
                None => tracing::warn!(
                    "axes: refused {} while locked out ({} failures)",
                    axes.client_str(&p),
                    l.failures
                ),
            }
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

/// The store's reservation for one rule; `with_blocks`: the rule that
/// looks blocks up (the first). Without a limit (`lock_out_at_failure =
/// false`) lockout history refuses nothing: a refusal by a history row is
/// asked again without its target, unless a manual block on that very
/// target refuses (see [`Axes::manual_block_on`]). A refusal writes
/// nothing, so asking again counts the attempt at most once. An attempt
/// from a trusted device looks at manual blocks only.
async fn reserve_outcome(
    axes: &Axes,
    p: &Prepared,
    rule: &AppliedRule,
    with_blocks: bool,
) -> Result<ReserveOutcome, StoreError> {
    let s = axes.settings();
    let now = axes.now();
    let mut candidates = if with_blocks {
        axes.block_candidates(&p.key)
    } else {
        Vec::new()
    };
    loop {
        let reservation = Reservation {
            key: rule.key(p),
            details: &p.details,
            parameters: rule.parameters(s),
            limit: rule.limit,
            window: rule.window,
            count_when_locked: s.reset_cool_off_on_failure_during_lockout,
            now,
            blocks: &candidates,
            manual_only: p.device.is_some(),
        };
        let mut outcome = axes.call(axes.inner.store.reserve(&reservation)).await?;
        let history = match &outcome.failures.block {
            Some(b)
                if rule.limit.is_none() && b.kind == BlockKind::Lockout && !outcome.admitted =>
            {
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

/// The alternatives a success forgives: each of `parameters` narrowed to
/// the username that logged in (when there is one). The password proved
/// that account, not the address: failures on other names from the same
/// address stay, so a sprayer with an account of their own cannot reset
/// their address's count by logging in to it.
fn forgiven<'a>(parameters: &'a LockoutParameters, key: &RecordKey) -> Cow<'a, LockoutParameters> {
    if key.username.is_none()
        || parameters
            .alternatives()
            .iter()
            .all(|a| a.uses(Field::Username))
    {
        return Cow::Borrowed(parameters);
    }
    let narrowed = parameters
        .alternatives()
        .iter()
        .filter_map(|a| Alternative::new(a.fields().iter().copied().chain([Field::Username])));
    LockoutParameters::new(narrowed).map_or(Cow::Borrowed(parameters), Cow::Owned)
}

/// Gives back the failure counted for each rule in `counts` (exactly that
/// one: if its record was reset or restarted since, nothing).
async fn give_back(axes: &Axes, p: &Prepared, counts: &[RuleCount]) {
    for c in counts {
        if let Some(token) = &c.token {
            let _ = axes
                .call(axes.inner.store.release(c.rule.key(p), token))
                .await;
        }
    }
}

async fn write_failure_log(axes: &Axes, p: &Prepared, locked_out: bool) {
    let s = axes.settings();
    if !s.enable_access_failure_log {
        return;
    }
    let entry = NewFailureLog {
        key: RecordKey {
            scope: String::new(),
            ..p.key.clone()
        },
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
            counts: Vec::new(),
        }
    }

    /// The canonical attempt.
    pub fn prepared(&self) -> &Prepared {
        &self.prepared
    }

    /// Failures counted for the client, this attempt included (the highest
    /// over the rules).
    pub fn failures(&self) -> u32 {
        max_failures(&self.counts)
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

    /// The credentials were right: give the slots back (or, with
    /// `reset_on_success`, delete the failures of that username from this
    /// client in each rule's scope — never other names' failures from the
    /// same address, and a trusted device's success clears only the
    /// device's own).
    pub async fn succeeded(self) {
        let axes = &self.axes;
        let s = axes.settings();
        if !s.enabled || self.mode == Mode::Unprotected {
            return;
        }
        let store = &axes.inner.store;
        let p = &self.prepared;
        if !s.reset_on_success {
            if self.mode == Mode::Reserved {
                give_back(axes, p, &self.counts).await;
            }
            return;
        }
        // An exempt client's success resets too: by the rules it would be
        // counted by.
        let exempt_rules;
        let rules: Vec<&AppliedRule> = if self.mode == Mode::Exempt {
            exempt_rules = axes.applied_rules(p).unwrap_or_default();
            exempt_rules.iter().collect()
        } else {
            self.counts.iter().map(|c| &c.rule).collect()
        };
        for rule in rules {
            let parameters = forgiven(rule.parameters(s), rule.key(p));
            if rule.index.is_none() && p.device.is_none() {
                axes.forget_lockouts(p, &parameters).await;
            }
            if let Ok(n) = axes
                .call(store.clear_client(rule.key(p), &parameters))
                .await
                && n > 0
            {
                tracing::info!(
                    "axes: reset {n} attempt records of {} after a successful login",
                    axes.client_str(p)
                );
            }
        }
    }

    /// The credentials were wrong. The failure is already counted; returns
    /// the lockout when this failure reached a limit.
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
        let failures = self.failures();
        let locked = self.counts.iter().any(RuleCount::reached);
        // The rule closest to its limit tells the "n of limit".
        let nearest = self
            .counts
            .iter()
            .filter_map(|c| c.rule.limit.map(|l| (c.failures.max(), l)))
            .max_by(|a, b| {
                (u64::from(a.0) * u64::from(b.1)).cmp(&(u64::from(b.0) * u64::from(a.1)))
            });
        match nearest {
            Some((n, limit)) => tracing::warn!(
                "axes: login failure by {} ({n} of {limit})",
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
        tracing::warn!(
            "axes: locking out {} after repeated login failures",
            axes.client_str(p)
        );
        let lockout = match self.counts.as_slice() {
            // The default rule: its lockout may be made longer by the
            // lockout history (a trusted device keeps none).
            [c] if c.rule.index.is_none() => {
                let limit = c.rule.limit.unwrap_or(u32::MAX);
                let rows = if p.device.is_none() {
                    axes.record_lockouts(p, c.rule.parameters(axes.settings()), &c.failures, limit)
                        .await
                } else {
                    Vec::new()
                };
                axes.escalated_lockout(p, &c.failures, limit, true, &rows)
            }
            counts => axes.longest_lockout(p, counts)?,
        };
        axes.emit_lockout(p, &lockout, false);
        Some(lockout)
    }

    /// The check could not run (the app's backend failed): give the slots
    /// back without counting anything.
    pub async fn abandon(self) {
        if self.mode == Mode::Reserved {
            give_back(&self.axes, &self.prepared, &self.counts).await;
        }
    }
}
