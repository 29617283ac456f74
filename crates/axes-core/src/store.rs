//! The storage trait every axes store implements.
//!
//! The engine holds the policy (who is allowed, what the limit is, which
//! alternatives count); a [`Store`] holds the records and makes each counter
//! update atomic. Every implementation must pass the conformance suite in
//! `axes_core::conformance` (feature `conformance`).
//!
//! # Records and counts
//!
//! Failures are kept per [`RecordKey`], i.e. per (scope, username,
//! ip_address, user_agent). A record is *live* while its last failure is newer than the
//! cool-off window (`window`), or always when there is no window. A record
//! whose window has passed counts for nothing, and a new failure on it starts
//! again at one.
//!
//! The failure count of an [`Alternative`] is the sum of `failures` over the
//! live records of the attempt's *scope* that match the attempt on every
//! field of that alternative (a missing username or IP matches records where
//! it is missing too).
//!
//! # Scopes
//!
//! A scope ([`RecordKey::scope`]) is a counting namespace: records of two
//! scopes never count together, and every operation that takes a key
//! (`reserve`, `failures`, `release`, `clear_client`) stays inside its
//! scope. The engine's default rule counts in the scope `""`; each of the
//! layered `lockout_rules` counts in its own, and so does each trusted
//! device. Resets, purges, deletions by id and listings cover every scope.
//!
//! # Refused attempts (S1) and cost (S2)
//!
//! A refused attempt never creates a record. With `count_when_locked` its
//! failure goes to its own record (same full key) when there is one;
//! otherwise each alternative that has reached the limit gets one failure
//! more, now, on its newest live record (each record at most once) — so the
//! cool-off still restarts with every refused attempt, and a locked client
//! that keeps trying new usernames or user agents adds nothing to the store.
//!
//! Counting one alternative reads the records matching that alternative's
//! exact values, not everything its address or username ever did: the cost
//! is bounded by the live records of that key (at most the limit before it
//! locks, and by the rule above no more after it). Redis caps what it reads
//! instead, with the same locked or not decision.
//!
//! # Giving a failure back
//!
//! An admitted attempt's failure is counted in advance ([`Store::reserve`])
//! and given back when the credentials turn out right or the check could not
//! run ([`Store::release`]). Between the two, the record may have been
//! deleted (a reset, a purge, a reset on success) and made again, or its
//! window may have passed and a new failure restarted its count. The failure
//! to give back is then already gone, and taking one off the new count would
//! admit one failing attempt more than the limit. So a reservation returns a
//! [`ReservationToken`] naming the exact *generation* of the record it
//! counted on (its id, and a number that changes whenever the count starts
//! over in place), and a give-back applies only to that generation.

use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub use crate::blocks::{Block, BlockKind, BlockTarget, Escalation};
use crate::error::StoreError;
use crate::parameters::{Alternative, Field, LockoutParameters};

/// The longest scope a store keeps, in characters (the engine makes no
/// longer one).
pub const MAX_SCOPE_CHARS: usize = 128;

/// The identity of one attempt record: the unique key of the attempts table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RecordKey {
    /// The counting namespace ("" for the default rule; see the module
    /// docs, "Scopes"). Made by the engine, never taken from a request; at
    /// most [`MAX_SCOPE_CHARS`] characters. Not stored in the logs (their
    /// keys always have the scope "").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// The normalised username, if the attempt had one.
    pub username: Option<String>,
    /// The canonical client address (or IPv6 prefix), unless absent or not stored.
    pub ip_address: Option<String>,
    /// The user agent ("" when absent).
    pub user_agent: String,
}

impl RecordKey {
    /// The value of `field` in this key.
    pub fn get(&self, field: Field) -> Option<&str> {
        match field {
            Field::IpAddress => self.ip_address.as_deref(),
            Field::Username => self.username.as_deref(),
            Field::UserAgent => Some(self.user_agent.as_str()),
        }
    }

    /// Whether `other` is in the same scope and has the same value as
    /// `self` on every field of `alt`.
    pub fn matches(&self, other: &RecordKey, alt: &Alternative) -> bool {
        self.scope == other.scope && alt.fields().iter().all(|f| self.get(*f) == other.get(*f))
    }
}

/// What is stored about an attempt besides its key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttemptDetails {
    /// Request path.
    pub path: String,
    /// `Accept` header.
    pub http_accept: String,
    /// Query string parameters, sensitive values masked.
    pub get_data: String,
    /// Form parameters, sensitive values masked.
    pub post_data: String,
}

/// A request to take one admission slot for an attempt.
#[derive(Debug, Clone)]
pub struct Reservation<'a> {
    /// The record the failure is counted on.
    pub key: &'a RecordKey,
    /// Details stored with the record.
    pub details: &'a AttemptDetails,
    /// The alternatives whose counts decide the lockout.
    pub parameters: &'a LockoutParameters,
    /// Lockout threshold; `None` never refuses (the failure is still counted).
    pub limit: Option<u32>,
    /// Cool-off window; `None` = failures never expire.
    pub window: Option<Duration>,
    /// When the client is already locked out: still add the failure (which
    /// restarts the cool-off), or leave the records untouched.
    pub count_when_locked: bool,
    /// The time of the attempt.
    pub now: DateTime<Utc>,
    /// The block targets that can match this attempt
    /// ([`BlockTarget::candidates`]); a block of either kind on one of them
    /// that refuses at `now` refuses the attempt: nothing is counted, and
    /// the outcome's `failures.block` names it. Empty: no block look-up.
    pub blocks: &'a [BlockTarget],
    /// Only manual blocks refuse: lockout history on `blocks` is not looked
    /// at (an attempt from a trusted device is not refused by the lockouts
    /// others caused).
    pub manual_only: bool,
}

/// A read-only look-up of an attempt's failure counts.
#[derive(Debug, Clone)]
pub struct FailureQuery<'a> {
    /// The attempt's record key.
    pub key: &'a RecordKey,
    /// The alternatives to count.
    pub parameters: &'a LockoutParameters,
    /// Cool-off window; `None` = failures never expire.
    pub window: Option<Duration>,
    /// The time of the look-up.
    pub now: DateTime<Utc>,
    /// As [`Reservation::blocks`]: the answer's `block` is the refusing
    /// block among these, if any.
    pub blocks: &'a [BlockTarget],
    /// As [`Reservation::manual_only`].
    pub manual_only: bool,
}

/// The failure count of one alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeCount {
    /// Sum of live failures.
    pub failures: u32,
    /// The latest `attempt_time` among the counted records.
    pub last_failure: Option<DateTime<Utc>>,
}

/// Failure counts per alternative, in the order of the lockout parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures {
    /// One entry per alternative (may be empty when `block` is set: a
    /// blocked attempt need not be counted).
    pub per_alternative: Vec<AlternativeCount>,
    /// A block that refuses the attempt now, among the targets asked for:
    /// the one that lasts longest ([`Block::outlasts`]).
    pub block: Option<Block>,
}

impl Failures {
    /// The highest count over all alternatives.
    pub fn max(&self) -> u32 {
        self.per_alternative
            .iter()
            .map(|c| c.failures)
            .max()
            .unwrap_or(0)
    }

    /// Whether any alternative has reached `limit`.
    pub fn reached(&self, limit: u32) -> bool {
        self.per_alternative.iter().any(|c| c.failures >= limit)
    }

    /// The latest failure among the alternatives that reached `limit`: the
    /// lockout lifts at the latest `window` after it.
    pub fn locking_last_failure(&self, limit: u32) -> Option<DateTime<Utc>> {
        self.per_alternative
            .iter()
            .filter(|c| c.failures >= limit)
            .filter_map(|c| c.last_failure)
            .max()
    }
}

/// The result of [`Store::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveOutcome {
    /// True: the failure was counted in advance and the credentials may be
    /// checked. False: an alternative had already reached the limit.
    pub admitted: bool,
    /// Whether this call added a failure: to the attempt's own record, or,
    /// for a refused attempt without one, to the newest records that lock
    /// it (see the module docs).
    pub counted: bool,
    /// The counts after this call.
    pub failures: Failures,
    /// Names the failure this call added to the attempt's own record: set
    /// when `counted` on that record (a store that keeps nothing, and a
    /// refused attempt counted on other records, answer `None`).
    /// [`Store::release`] takes it to give that failure back; only admitted
    /// attempts are ever given back.
    pub token: Option<ReservationToken>,
}

/// The failure one reservation counted, as [`Store::reserve`] returns it and
/// [`Store::release`] takes it back.
///
/// A record's *generation* is one run of its count: it begins when the
/// record is created, and again when a failure arrives after the record's
/// window had passed and its count restarts at one. A store gives every
/// generation of a record key a distinct (`record_id`, `generation`) pair
/// for as long as a ticket may be held: ids of deleted records are not
/// reused, or `generation` alone is unique across deletions.
///
/// `serial` tells the failures of one record apart: every failure counted
/// on the record gets a new one (it never goes back, even when failures are
/// given back). It lets a give-back see whether another failure was counted
/// on the record after this one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReservationToken {
    /// The store's id of the record (as [`AttemptRecord::id`] lists it).
    pub record_id: String,
    /// The record's generation when the failure was counted.
    pub generation: u64,
    /// The serial the failure got on its record.
    pub serial: u64,
    /// The `attempt_time` the reservation left on the record.
    pub reserved_at: DateTime<Utc>,
    /// The record's `attempt_time` before the reservation; `None` when the
    /// reservation created the record or restarted its count (the record
    /// then holds only this failure and a give-back deletes it).
    pub previous_time: Option<DateTime<Utc>>,
}

/// Which attempt records a reset deletes. Both set: records matching BOTH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResetFilter {
    /// Only records of this IP (canonical form).
    pub ip_address: Option<String>,
    /// Only records of this username (normalised).
    pub username: Option<String>,
}

impl ResetFilter {
    /// Every record.
    pub fn all() -> Self {
        Self::default()
    }

    /// Whether a block's target falls under this filter (its IP and
    /// username equal the filter's given values).
    pub fn matches_target(&self, target: &BlockTarget) -> bool {
        self.ip_address
            .as_deref()
            .is_none_or(|ip| target.ip_address.as_deref() == Some(ip))
            && self
                .username
                .as_deref()
                .is_none_or(|u| target.username.as_deref() == Some(u))
    }

    /// Whether `key` falls under this filter.
    pub fn matches(&self, key: &RecordKey) -> bool {
        self.ip_address
            .as_deref()
            .is_none_or(|ip| key.ip_address.as_deref() == Some(ip))
            && self
                .username
                .as_deref()
                .is_none_or(|u| key.username.as_deref() == Some(u))
    }
}

/// One stored attempt record, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRecord {
    /// Store-specific id (stable while the record lives).
    pub id: String,
    /// The record's key.
    #[serde(flatten)]
    pub key: RecordKey,
    /// The last request's details.
    #[serde(flatten)]
    pub details: AttemptDetails,
    /// Failures since the record was created (or since its window expired).
    pub failures: u32,
    /// Time of the last failure.
    pub attempt_time: DateTime<Utc>,
}

/// Sort order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Newest first.
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// Filters and paging for listings of attempts and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Exact IP (canonical form).
    pub ip_address: Option<String>,
    /// Exact username (normalised).
    pub username: Option<String>,
    /// Case-insensitive substring of username, IP or user agent.
    pub search: Option<String>,
    /// Only rows at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only rows before this time.
    pub until: Option<DateTime<Utc>>,
    /// Sort order by time.
    pub order: Order,
    /// Rows to skip.
    pub offset: u64,
    /// Page size, bounded by [`ListQuery::MAX_LIMIT`].
    pub limit: u64,
}

impl ListQuery {
    /// The largest page a store returns.
    pub const MAX_LIMIT: u64 = 1000;

    /// Everything, newest first, up to the maximal page.
    pub fn all() -> Self {
        Self::default()
    }

    /// The page size, clamped to `1..=MAX_LIMIT`.
    pub fn bounded_limit(&self) -> u64 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }

    /// Whether a row with these values passes the filters (for stores that
    /// filter in process).
    pub fn admits(
        &self,
        ip: Option<&str>,
        username: Option<&str>,
        user_agent: &str,
        time: DateTime<Utc>,
    ) -> bool {
        if let Some(want) = &self.ip_address
            && ip != Some(want.as_str())
        {
            return false;
        }
        if let Some(want) = &self.username
            && username != Some(want.as_str())
        {
            return false;
        }
        if self.since.is_some_and(|s| time < s) || self.until.is_some_and(|u| time >= u) {
            return false;
        }
        if let Some(needle) = &self.search {
            let needle = needle.to_lowercase();
            let hit = [ip.unwrap_or(""), username.unwrap_or(""), user_agent]
                .iter()
                .any(|h| h.to_lowercase().contains(&needle));
            if !hit {
                return false;
            }
        }
        true
    }
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            ip_address: None,
            username: None,
            search: None,
            since: None,
            until: None,
            order: Order::NewestFirst,
            offset: 0,
            limit: Self::MAX_LIMIT,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows matching the filters in all pages.
    pub total: u64,
}

/// A successful login, as written to the access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewAccessLog {
    /// Record key of the client that logged in.
    #[serde(flatten)]
    pub key: RecordKey,
    /// Request details (path, accept).
    pub path: String,
    /// `Accept` header.
    pub http_accept: String,
    /// Login time.
    pub attempt_time: DateTime<Utc>,
    /// SHA-256 hex of the session id ("" without a session).
    pub session_hash: String,
}

/// One row of the access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLogRecord {
    /// Store-specific id.
    pub id: String,
    /// The login.
    #[serde(flatten)]
    pub entry: NewAccessLog,
    /// Logout time, once logged out.
    pub logout_time: Option<DateTime<Utc>>,
}

/// A failed attempt, as written to the failure log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewFailureLog {
    /// Record key of the client.
    #[serde(flatten)]
    pub key: RecordKey,
    /// Request path.
    pub path: String,
    /// `Accept` header.
    pub http_accept: String,
    /// Time of the attempt.
    pub attempt_time: DateTime<Utc>,
    /// Whether the client was locked out after this failure.
    pub locked_out: bool,
}

/// One row of the failure log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureLogRecord {
    /// Store-specific id.
    pub id: String,
    /// The failure.
    #[serde(flatten)]
    pub entry: NewFailureLog,
}

/// The longest id a look-up by id accepts (in bytes): a longer id is never
/// an id, and the look-up answers `None` without asking the backend.
pub const MAX_ID_LEN: usize = 64;

/// Whether `id` can be an id at all: not empty and at most [`MAX_ID_LEN`]
/// bytes. Look-ups by id answer `None` for anything else.
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN
}

/// The default look-up by id: pages through a listing, newest first, until
/// the row turns up or the listing is exhausted.
async fn find_listed<T, F, Fut>(
    id: &str,
    id_of: fn(&T) -> &str,
    fetch: F,
) -> Result<Option<T>, StoreError>
where
    F: Fn(ListQuery) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    if !plausible_id(id) {
        return Ok(None);
    }
    let mut offset = 0;
    loop {
        let page = fetch(ListQuery {
            offset,
            limit: ListQuery::MAX_LIMIT,
            ..ListQuery::all()
        })
        .await?;
        let n = page.items.len() as u64;
        if let Some(row) = page.items.into_iter().find(|r| id_of(r) == id) {
            return Ok(Some(row));
        }
        offset = offset.saturating_add(n);
        if n < ListQuery::MAX_LIMIT || offset >= page.total {
            return Ok(None);
        }
    }
}

/// Persistence for axes. Implementations make every counter update atomic.
///
/// All times come from the caller; a store never reads the clock.
#[async_trait]
pub trait Store: fmt::Debug + Send + Sync + 'static {
    /// A short name for messages ("sqlite", "memory", …).
    fn kind(&self) -> &'static str;

    /// Creates or upgrades the schema. Idempotent.
    async fn migrate(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Checks that the store answers.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether the store may hold block rows (manual blocks or lockout
    /// history). `false` lets the engine skip building an attempt's
    /// candidate targets (half the allocations of a login on the memory
    /// store). A store may answer `false` only when it holds no row, and
    /// must answer `true` for every call that starts after a
    /// [`Store::put_block`] or [`Store::record_lockout`] returned, so that a
    /// block refuses the very next attempt. The default: `true`.
    fn may_have_blocks(&self) -> bool {
        true
    }

    /// Counts the live failures of each alternative for `query.key`, and
    /// finds the refusing block among `query.blocks` (see
    /// [`Store::reserve`]).
    async fn failures(&self, query: &FailureQuery<'_>) -> Result<Failures, StoreError>;

    /// Atomically: first, when a block on one of `reservation.blocks`
    /// refuses at `now`, refuse with that block in `failures.block`,
    /// counting nothing. Else count each alternative; if none has reached
    /// `reservation.limit`, add one failure to the record (creating it, or
    /// restarting it at one, as a new generation, when its window had
    /// passed) and admit. Otherwise refuse, and only if `count_when_locked`
    /// add the failure: to the attempt's own record if it exists, else to
    /// the newest live record of each alternative that reached the limit —
    /// never creating a record (module docs, "Refused attempts"). The
    /// outcome's token names a failure added to the attempt's own record.
    ///
    /// A bounded store may refuse to track a new client (the memory store
    /// when every record it holds is part of a lockout): it answers an
    /// error that is not an outage, and the engine follows `fail_closed`
    /// for that attempt.
    ///
    /// Two concurrent calls never both see the same count: with limit N,
    /// exactly N of any number of concurrent calls for one client are
    /// admitted.
    async fn reserve(&self, reservation: &Reservation<'_>) -> Result<ReserveOutcome, StoreError>;

    /// Gives back the failure an admitted reservation counted (the
    /// credentials were right, or the check could not run), atomically.
    ///
    /// `key` is the reservation's record key and `token` what
    /// [`Store::reserve`] returned for it. When the record of `key` is still
    /// the generation the token names (same `record_id` and `generation`),
    /// one failure comes off it, and the record is deleted when it reaches
    /// zero. If, besides, no failure was counted on it since (its serial is
    /// still `token.serial` and its `attempt_time` still
    /// `token.reserved_at`), its `attempt_time` goes back to
    /// `token.previous_time`: a given-back attempt is not a failure and must
    /// not extend the cool-off of the failures before it.
    ///
    /// Otherwise — the record was deleted, made again or restarted since —
    /// the failure is already gone and nothing changes. Never takes a
    /// failure off another generation.
    async fn release(&self, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError>;

    /// Deletes every record of `key.scope` that matches `key` on any
    /// alternative of `parameters` (reset on success); other scopes keep
    /// theirs. Returns how many were deleted.
    async fn clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError>;

    /// Deletes the records under `filter`, in every scope. Returns how many
    /// were deleted.
    async fn reset(&self, filter: &ResetFilter) -> Result<u64, StoreError>;

    /// Deletes records whose last failure is at or before `before`, in
    /// batches (no lock held for the whole of a large purge). Returns how
    /// many were deleted.
    async fn purge_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Lists attempt records.
    async fn list_attempts(&self, query: &ListQuery) -> Result<Page<AttemptRecord>, StoreError>;

    /// Appends a row to the access log.
    async fn insert_access_log(&self, entry: &NewAccessLog) -> Result<(), StoreError>;

    /// Fills in the logout time of the open access-log rows of `username`
    /// with `session_hash`. Returns how many rows were closed.
    async fn close_access_log(
        &self,
        username: &str,
        session_hash: &str,
        logout_time: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Appends a row to the failure log, then drops the oldest rows of that
    /// username beyond `per_user_limit`.
    async fn insert_failure_log(
        &self,
        entry: &NewFailureLog,
        per_user_limit: u32,
    ) -> Result<(), StoreError>;

    /// Deletes access-log rows logged in at or before `before` (all when `None`).
    async fn reset_access_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError>;

    /// Deletes failure-log rows at or before `before` (all when `None`).
    async fn reset_failure_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError>;

    /// Lists the access log.
    async fn list_access_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<AccessLogRecord>, StoreError>;

    /// Lists the failure log.
    async fn list_failure_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<FailureLogRecord>, StoreError>;

    /// The attempt record with this id, as [`Store::list_attempts`] lists
    /// it. Unknown and malformed ids (including any longer than
    /// [`MAX_ID_LEN`]) give `Ok(None)`.
    ///
    /// The default pages through [`Store::list_attempts`]; stores override
    /// it with a direct look-up.
    async fn get_attempt(&self, id: &str) -> Result<Option<AttemptRecord>, StoreError> {
        find_listed(
            id,
            |r: &AttemptRecord| &r.id,
            |q| async move { self.list_attempts(&q).await },
        )
        .await
    }

    /// The access-log row with this id, as [`Store::list_access_logs`]
    /// lists it; `Ok(None)` for unknown and malformed ids.
    ///
    /// The default pages through [`Store::list_access_logs`].
    async fn get_access_log(&self, id: &str) -> Result<Option<AccessLogRecord>, StoreError> {
        find_listed(
            id,
            |r: &AccessLogRecord| &r.id,
            |q| async move { self.list_access_logs(&q).await },
        )
        .await
    }

    /// The failure-log row with this id, as [`Store::list_failure_logs`]
    /// lists it; `Ok(None)` for unknown and malformed ids.
    ///
    /// The default pages through [`Store::list_failure_logs`].
    async fn get_failure_log(&self, id: &str) -> Result<Option<FailureLogRecord>, StoreError> {
        find_listed(
            id,
            |r: &FailureLogRecord| &r.id,
            |q| async move { self.list_failure_logs(&q).await },
        )
        .await
    }

    /// Deletes attempt records by id (admin selection). Unknown ids are skipped.
    async fn delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError>;

    /// Deletes access-log rows by id.
    async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError>;

    /// Deletes failure-log rows by id.
    async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError>;

    /// Sets a block: inserts the row of (`block.kind`, `block.target`) or
    /// replaces it whole. Used for manual blocks.
    async fn put_block(&self, block: &Block) -> Result<(), StoreError>;

    /// Atomically counts one more lockout of `target` at `now` on the
    /// (`Lockout`, `target`) row and returns the row as written:
    /// `lockouts` is the row's count plus one when its latest lockout is
    /// remembered at `now` ([`Escalation::remembers_row`]: the memory runs
    /// from the end of that lockout),
    /// else 1; `created_at` becomes `now`; `until` becomes
    /// [`Escalation::until`] of that count — unless the row already
    /// refuses longer ([`Block::outlasts`]), then it keeps its `until`.
    /// `created_by` is "".
    async fn record_lockout(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &Escalation,
    ) -> Result<Block, StoreError>;

    /// Removes the row of (`kind`, `target`) exactly. Whether there was one.
    async fn remove_block(&self, kind: BlockKind, target: &BlockTarget)
    -> Result<bool, StoreError>;

    /// Removes the rows of `kind` whose target falls under `filter`
    /// ([`ResetFilter::matches_target`]; every row of `kind` with an empty
    /// filter). Returns how many went.
    async fn reset_blocks(&self, kind: BlockKind, filter: &ResetFilter) -> Result<u64, StoreError>;

    /// Lists block rows (of `kind`, or both), expired ones included,
    /// newest `created_at` first unless `query.order` says otherwise.
    /// `query`'s IP and username filters compare with the target's fields,
    /// `search` looks in them (and the user agent and `created_by`),
    /// `since`/`until` bound `created_at`.
    async fn list_blocks(
        &self,
        kind: Option<BlockKind>,
        query: &ListQuery,
    ) -> Result<Page<Block>, StoreError>;

    /// Deletes the rows that refuse nothing at `now` and are no longer
    /// needed: manual rows whose `until` has passed; lockout rows whose
    /// `until` — the end of the latest lockout, from which `lockout_memory`
    /// runs — is at or before `forget_before` (= `now - lockout_memory`).
    /// Rows with no `until` stay. Returns how many went.
    async fn purge_blocks(
        &self,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}
