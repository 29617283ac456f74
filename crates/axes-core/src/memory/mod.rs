//! The in-process store (`handler = memory`): fast, bounded, lost on restart.
//!
//! The attempt records sit behind one mutex: a reservation reads the counts
//! of every alternative (IP, username, …) and adds the failure as one step,
//! and those alternatives cut across any sharding key, so one lock is what
//! makes admission exact. The critical section reads only the records of
//! the attempt's own values: each alternative (set of fields) has an index
//! whose bucket holds the records of one exact value, so an attempt's cost
//! does not grow with what its address or username did before (a locked
//! client adds no record: see [`Store::reserve`]). The logs have their own
//! lock, and listings, resets and purges take either lock for bounded
//! slices only, so they never hold up logins for long.
//!
//! # Bounds
//!
//! At most [`MemoryLimits::max_records`] attempt records (setting
//! `memory_max_records`, default 500 000: a flood of 1 000 000 distinct
//! clients leaves the process at 135 MiB RSS, 226 MiB when every client
//! also sends its own user agent — `examples/memory_flood.rs`) and
//! [`MemoryLimits::max_log_rows`] rows per log. When a new record would go
//! past the bound, the store makes room: expired records first, then
//! records below the limit, oldest first. **A record that is part of a
//! lockout is never evicted**, so no flood of new clients can buy back a
//! lockout. When every record is part of a lockout, the store refuses to
//! track the new client: the reservation fails with a [`StoreError`] and the
//! engine follows `fail_closed` for that attempt (refused with
//! `fail_closed = true`; otherwise let through uncounted and logged as a
//! store error). Clients the store already tracks are counted as before,
//! and every lockout holds. This was chosen over an overflow counter shared
//! by the untracked clients, which an attacker could fill to lock out
//! everyone new.
//!
//! Block rows (manual blocks and lockout history) are bounded by
//! `max_records` too, in a table of their own: a full table makes room
//! only from rows that refuse nothing and are no longer needed, never from
//! a refusing row, and otherwise refuses the new row with [`BlocksFull`]
//! (an error for `axes block`; for lockout history, the engine logs it and
//! the lockout lasts its cool-off). A reservation looks blocks up under the
//! attempts lock, by exact target, and only when the table has rows.

mod attempts;
mod blocks;
mod index;
mod logs;
mod record;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::blocks::{Block, BlockKind, BlockTarget, Escalation};
use crate::error::StoreError;
use crate::parameters::LockoutParameters;
use crate::store::{
    AccessLogRecord, AttemptRecord, FailureLogRecord, FailureQuery, Failures, ListQuery,
    NewAccessLog, NewFailureLog, Page, RecordKey, Reservation, ReservationToken, ReserveOutcome,
    ResetFilter, Store, plausible_id,
};
use attempts::Attempts;
use blocks::{Blocks, empty_page};
pub use blocks::{BlocksFull, EmptyTarget};
use logs::{Logs, Row, next_ids};
use record::Policy;

/// Entries a listing, reset or purge handles per turn of a lock.
const SLICE: usize = 1024;

/// Bounds of a [`MemoryStore`].
#[derive(Debug, Clone, Copy)]
pub struct MemoryLimits {
    /// Attempt records kept at most.
    pub max_records: usize,
    /// Rows kept at most in each log.
    pub max_log_rows: usize,
}

impl MemoryLimits {
    /// The default bound on attempt records.
    pub const DEFAULT_MAX_RECORDS: usize = 500_000;
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            max_records: Self::DEFAULT_MAX_RECORDS,
            max_log_rows: 100_000,
        }
    }
}

/// The memory store is full and every record in it is part of a lockout.
#[derive(Debug, thiserror::Error)]
#[error(
    "memory store full: all {0} records are part of a lockout, so a new client cannot be tracked"
)]
pub struct MemoryFull(pub usize);

/// What the store holds, for tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryStats {
    /// Attempt records held.
    pub records: usize,
    /// Record slots allocated.
    pub slots: usize,
    /// Buckets of each alternative index, by field mask (IP 1, username 2,
    /// user agent 4).
    pub buckets: Vec<(u8, usize)>,
    /// Index entries read by counts so far (the work of counting).
    pub visited: u64,
}

/// The in-process store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    attempts: Mutex<Attempts>,
    logs: Mutex<Logs>,
    /// Taken after `attempts` when both are held (a reservation checks the
    /// blocks under the attempts lock), never before it.
    blocks: Mutex<Blocks>,
    /// The rows of `blocks`, so that a reservation with no block rows to
    /// look at costs one load.
    block_rows: AtomicUsize,
    limits: MemoryLimits,
}

fn parse_ids(ids: &[String]) -> impl Iterator<Item = u64> + '_ {
    ids.iter().filter_map(|s| s.trim().parse::<u64>().ok())
}

/// The number of a look-up id: digits only, bounded in length.
fn lookup_id(id: &str) -> Option<u64> {
    if !plausible_id(id) || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

// A panic while holding a lock cannot leave half-written counters behind
// (every update is a few infallible map operations), so a poisoned lock is
// still consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryStore {
    /// A store with the default bounds.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with the bounds of the settings (`memory_max_records`).
    pub fn from_settings(settings: &crate::Settings) -> Self {
        Self::with_limits(MemoryLimits {
            max_records: usize::try_from(settings.memory_max_records)
                .unwrap_or(MemoryLimits::DEFAULT_MAX_RECORDS),
            ..MemoryLimits::default()
        })
    }

    /// A store with explicit bounds.
    pub fn with_limits(limits: MemoryLimits) -> Self {
        Self {
            attempts: Mutex::new(Attempts::with_capacity(limits.max_records)),
            limits,
            ..Self::default()
        }
    }

    fn attempts(&self) -> MutexGuard<'_, Attempts> {
        lock(&self.attempts)
    }

    fn logs(&self) -> MutexGuard<'_, Logs> {
        lock(&self.logs)
    }

    /// Runs `f` on the block table and publishes its row count.
    fn with_blocks<T>(&self, f: impl FnOnce(&mut Blocks) -> T) -> T {
        let mut st = lock(&self.blocks);
        let out = f(&mut st);
        self.block_rows.store(st.len(), Ordering::Release);
        out
    }

    /// The refusing block among `candidates` at `now`: one load when there
    /// is nothing to look up. `manual_only`: lockout history refuses nothing.
    fn refusing_block(
        &self,
        candidates: &[BlockTarget],
        now: DateTime<Utc>,
        manual_only: bool,
    ) -> Option<Block> {
        if candidates.is_empty() || self.block_rows.load(Ordering::Acquire) == 0 {
            return None;
        }
        lock(&self.blocks).refusing(candidates, now, manual_only)
    }

    /// Block rows currently held (manual blocks and lockout history).
    pub fn block_rows(&self) -> usize {
        self.block_rows.load(Ordering::Acquire)
    }

    /// Records currently held.
    pub fn len(&self) -> usize {
        self.attempts().len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the store holds and how much counting it has done.
    pub fn stats(&self) -> MemoryStats {
        let st = self.attempts();
        let (slots, buckets) = st.sizes();
        MemoryStats {
            records: st.len(),
            slots,
            buckets,
            visited: st.visited,
        }
    }

    /// Lists log rows in bounded slices of the log's lock.
    fn list_log<T: Row>(
        &self,
        q: &ListQuery,
        rows: impl Fn(&Logs) -> &std::collections::BTreeMap<u64, T>,
    ) -> Page<T> {
        let skip = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(q.bounded_limit()).unwrap_or(usize::MAX);
        let mut page = Page {
            items: Vec::new(),
            total: 0,
        };
        let mut after = None;
        loop {
            let st = self.logs();
            let map = rows(&st);
            let ids = next_ids(map, after, q.order, SLICE);
            for id in &ids {
                if let Some(row) = map.get(id)
                    && row.admitted(q)
                {
                    if page.total as usize >= skip && page.items.len() < take {
                        page.items.push(row.clone());
                    }
                    page.total += 1;
                }
            }
            drop(st);
            match ids.last() {
                Some(last) if ids.len() == SLICE => after = Some(*last),
                _ => return page,
            }
        }
    }

    /// Deletes log rows at or before `before` (all with `None`) in bounded
    /// slices.
    fn reset_log<T: Row>(
        &self,
        before: Option<DateTime<Utc>>,
        rows: impl Fn(&Logs) -> &std::collections::BTreeMap<u64, T>,
        remove: impl Fn(&mut Logs, u64) -> bool,
    ) -> u64 {
        let mut removed = 0;
        let mut after = None;
        loop {
            let mut st = self.logs();
            let ids = next_ids(rows(&st), after, crate::store::Order::OldestFirst, SLICE);
            for id in &ids {
                let doomed = rows(&st)
                    .get(id)
                    .is_some_and(|r| before.is_none_or(|b| r.time() <= b));
                if doomed && remove(&mut st, *id) {
                    removed += 1;
                }
            }
            drop(st);
            match ids.last() {
                Some(last) if ids.len() == SLICE => after = Some(*last),
                _ => return removed,
            }
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn may_have_blocks(&self) -> bool {
        // Published (Release) under the block lock before a block write
        // returns.
        self.block_rows.load(Ordering::Acquire) > 0
    }

    async fn failures(&self, q: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        let mut st = self.attempts();
        let mut failures = st.counts(q.key, q.parameters, q.window, q.now).0;
        failures.block = self.refusing_block(q.blocks, q.now, q.manual_only);
        Ok(failures)
    }

    async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        let mut st = self.attempts();
        // Under the attempts lock: no failure is counted between the look-up
        // and the decision.
        if let Some(block) = self.refusing_block(r.blocks, r.now, r.manual_only) {
            return Ok(ReserveOutcome {
                admitted: false,
                counted: false,
                failures: Failures {
                    per_alternative: Vec::new(),
                    block: Some(block),
                },
                token: None,
            });
        }
        if let Some(w) = r.window {
            st.drop_expired(r.now, r.now - w, 64);
        }
        let policy = Policy::new(r.limit, r.window, r.parameters);
        let (mut failures, newest) = st.counts(r.key, r.parameters, r.window, r.now);
        let admitted = r.limit.is_none_or(|l| !failures.reached(l));
        let own = st.own_slot(r.key);
        let mut token = None;
        let mut counted = false;
        if admitted || (r.count_when_locked && own.is_some()) {
            let mut recount = false;
            token = match own {
                Some(slot) => st.add_to(slot, r.key, r.details, policy, r.now),
                None => {
                    let max = self.limits.max_records;
                    if st.len() >= max {
                        if !st.make_room(max, r.now) {
                            return Err(StoreError::backend(MemoryFull(max)));
                        }
                        // Eviction may have taken records this attempt counted.
                        recount = true;
                    }
                    let slot = st.insert(r.key, r.details, r.now, policy);
                    Some(st.first_token(slot, r.now))
                }
            };
            counted = token.is_some();
            if recount {
                failures = st.counts(r.key, r.parameters, r.window, r.now).0;
            } else if counted {
                for c in &mut failures.per_alternative {
                    c.failures = c.failures.saturating_add(1);
                    c.last_failure = Some(r.now);
                }
            }
        } else if r.count_when_locked {
            // Refused, and no record of its own: the failure restarts the
            // cool-off on the newest record of each alternative that locks
            // it, and creates nothing.
            let limit = r.limit.unwrap_or(u32::MAX);
            let mut slots: Vec<u32> = failures
                .per_alternative
                .iter()
                .zip(&newest)
                .filter(|(c, _)| c.failures >= limit)
                .filter_map(|(_, n)| *n)
                .collect();
            slots.sort_unstable();
            slots.dedup();
            for slot in &slots {
                st.refresh(*slot, r.now);
            }
            counted = !slots.is_empty();
            if counted {
                failures = st.counts(r.key, r.parameters, r.window, r.now).0;
            }
        }
        Ok(ReserveOutcome {
            admitted,
            counted,
            failures,
            token,
        })
    }

    async fn release(&self, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError> {
        self.attempts().give_back(key, token);
        Ok(())
    }

    async fn clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError> {
        Ok(self.attempts().clear_client(key, parameters))
    }

    async fn reset(&self, filter: &ResetFilter) -> Result<u64, StoreError> {
        let mut removed = 0;
        let mut after = None;
        loop {
            let (last, n) = self.attempts().reset_slice(after, filter, SLICE);
            removed += n;
            match last {
                Some(p) => after = Some(p),
                None => return Ok(removed),
            }
        }
    }

    /// Deletes expired records in slices of 1 024 per turn of the lock.
    async fn purge_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut removed = 0;
        loop {
            let n = self.attempts().drop_older(before, SLICE);
            removed += n;
            if n < SLICE as u64 {
                return Ok(removed);
            }
            tokio::task::yield_now().await;
        }
    }

    async fn list_attempts(&self, q: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
        let skip = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(q.bounded_limit()).unwrap_or(usize::MAX);
        let mut page = Page {
            items: Vec::new(),
            total: 0,
        };
        let mut after = None;
        loop {
            let st = self.attempts();
            let positions = st.positions(after, q.order, SLICE);
            for pos in &positions {
                if st.admits(*pos, q) {
                    if page.total as usize >= skip
                        && page.items.len() < take
                        && let Some(r) = st.listed(*pos, q)
                    {
                        page.items.push(r);
                    }
                    page.total += 1;
                }
            }
            drop(st);
            match positions.last() {
                Some(last) if positions.len() == SLICE => after = Some(*last),
                _ => return Ok(page),
            }
        }
    }

    async fn get_attempt(&self, id: &str) -> Result<Option<AttemptRecord>, StoreError> {
        let Some(id) = lookup_id(id) else {
            return Ok(None);
        };
        Ok(self.attempts().get(id))
    }

    async fn get_access_log(&self, id: &str) -> Result<Option<AccessLogRecord>, StoreError> {
        let Some(id) = lookup_id(id) else {
            return Ok(None);
        };
        Ok(self.logs().access.get(&id).cloned())
    }

    async fn get_failure_log(&self, id: &str) -> Result<Option<FailureLogRecord>, StoreError> {
        let Some(id) = lookup_id(id) else {
            return Ok(None);
        };
        Ok(self.logs().failure.get(&id).cloned())
    }

    async fn insert_access_log(&self, entry: &NewAccessLog) -> Result<(), StoreError> {
        let mut st = self.logs();
        let id = st.new_id();
        st.access.insert(
            id,
            AccessLogRecord {
                id: id.to_string(),
                entry: entry.clone(),
                logout_time: None,
            },
        );
        while st.access.len() > self.limits.max_log_rows {
            st.access.pop_first();
        }
        Ok(())
    }

    async fn close_access_log(
        &self,
        username: &str,
        session_hash: &str,
        logout_time: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut st = self.logs();
        let mut n = 0;
        for row in st.access.values_mut() {
            if row.logout_time.is_none()
                && row.entry.key.username.as_deref() == Some(username)
                && row.entry.session_hash == session_hash
            {
                row.logout_time = Some(logout_time);
                n += 1;
            }
        }
        Ok(n)
    }

    async fn insert_failure_log(
        &self,
        entry: &NewFailureLog,
        per_user_limit: u32,
    ) -> Result<(), StoreError> {
        let mut st = self.logs();
        let id = st.new_id();
        let row = FailureLogRecord {
            id: id.to_string(),
            entry: entry.clone(),
        };
        st.insert_failure(row, id, per_user_limit, self.limits.max_log_rows);
        Ok(())
    }

    async fn reset_access_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        Ok(self.reset_log(
            before,
            |l| &l.access,
            |l, id| l.access.remove(&id).is_some(),
        ))
    }

    async fn reset_failure_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        Ok(self.reset_log(before, |l| &l.failure, Logs::remove_failure))
    }

    async fn list_access_logs(&self, q: &ListQuery) -> Result<Page<AccessLogRecord>, StoreError> {
        Ok(self.list_log(q, |l| &l.access))
    }

    async fn list_failure_logs(&self, q: &ListQuery) -> Result<Page<FailureLogRecord>, StoreError> {
        Ok(self.list_log(q, |l| &l.failure))
    }

    async fn delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut st = self.attempts();
        Ok(parse_ids(ids).filter(|id| st.remove_id(*id)).count() as u64)
    }

    async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut st = self.logs();
        Ok(parse_ids(ids)
            .filter(|id| st.access.remove(id).is_some())
            .count() as u64)
    }

    async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut st = self.logs();
        Ok(parse_ids(ids).filter(|id| st.remove_failure(*id)).count() as u64)
    }

    async fn put_block(&self, block: &Block) -> Result<(), StoreError> {
        if block.target.is_empty() {
            return Err(StoreError::backend(EmptyTarget));
        }
        let max = self.limits.max_records;
        self.with_blocks(|b| b.put(block, max))
            .map_err(StoreError::backend)
    }

    async fn record_lockout(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &Escalation,
    ) -> Result<Block, StoreError> {
        if target.is_empty() {
            return Err(StoreError::backend(EmptyTarget));
        }
        let max = self.limits.max_records;
        self.with_blocks(|b| b.record(target, now, escalation, max))
            .map_err(StoreError::backend)
    }

    async fn remove_block(
        &self,
        kind: BlockKind,
        target: &BlockTarget,
    ) -> Result<bool, StoreError> {
        Ok(self.with_blocks(|b| b.remove(kind, target)))
    }

    async fn reset_blocks(&self, kind: BlockKind, filter: &ResetFilter) -> Result<u64, StoreError> {
        let mut removed = 0;
        let mut after = None;
        loop {
            let (last, n) = self.with_blocks(|b| b.reset_slice(kind, filter, after, SLICE));
            removed += n;
            match last {
                Some(id) => after = Some(id),
                None => return Ok(removed),
            }
        }
    }

    async fn list_blocks(
        &self,
        kind: Option<BlockKind>,
        q: &ListQuery,
    ) -> Result<Page<Block>, StoreError> {
        let skip = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(q.bounded_limit()).unwrap_or(usize::MAX);
        let mut page = empty_page();
        let mut after = None;
        loop {
            let st = lock(&self.blocks);
            let positions = st.positions(after, q.order, SLICE);
            for pos in &positions {
                if let Some(b) = st.listed(*pos, kind, q) {
                    if page.total as usize >= skip && page.items.len() < take {
                        page.items.push(b.clone());
                    }
                    page.total += 1;
                }
            }
            drop(st);
            match positions.last() {
                Some(last) if positions.len() == SLICE => after = Some(*last),
                _ => return Ok(page),
            }
        }
    }

    async fn purge_blocks(
        &self,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut removed = 0;
        let mut after = None;
        loop {
            let (last, n) = self.with_blocks(|b| b.purge_slice(now, forget_before, after, SLICE));
            removed += n;
            match last {
                Some(pos) => after = Some(pos),
                None => return Ok(removed),
            }
        }
    }
}
