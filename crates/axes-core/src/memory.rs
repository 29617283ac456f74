//! The in-process store (`handler = memory`): fast, bounded, lost on restart.
//!
//! All state sits behind one mutex. A reservation must read the counts of
//! every alternative (IP, username, …) and add the failure as one step, and
//! those alternatives cut across any sharding key, so one lock is what makes
//! admission exact; the critical section is a few hash look-ups (see
//! `BENCHMARKS.md`). Memory is bounded: past `max_records` the records with
//! the oldest last failure are evicted, and expired records are dropped as
//! new failures arrive.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::parameters::{Alternative, Field, LockoutParameters};
use crate::store::{
    AccessLogRecord, AlternativeCount, AttemptDetails, AttemptRecord, FailureLogRecord,
    FailureQuery, Failures, ListQuery, NewAccessLog, NewFailureLog, Order, Page, RecordKey,
    Reservation, ReservationToken, ReserveOutcome, ResetFilter, Store, plausible_id,
};

/// Bounds of a [`MemoryStore`].
#[derive(Debug, Clone, Copy)]
pub struct MemoryLimits {
    /// Attempt records kept at most.
    pub max_records: usize,
    /// Rows kept at most in each log.
    pub max_log_rows: usize,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            max_records: 100_000,
            max_log_rows: 100_000,
        }
    }
}

/// The in-process store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    limits: MemoryLimits,
}

#[derive(Debug)]
struct Rec {
    key: RecordKey,
    failures: u32,
    time: DateTime<Utc>,
    details: AttemptDetails,
    /// Bumped when the count restarts in place (ids are never reused, so a
    /// new record under the same key is told apart by its id).
    generation: u64,
    /// Bumped with every failure counted on the record.
    serial: u64,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    records: HashMap<u64, Rec>,
    ids: HashMap<RecordKey, u64>,
    by_time: BTreeSet<(DateTime<Utc>, u64)>,
    by_ip: HashMap<Option<String>, HashSet<u64>>,
    by_user: HashMap<Option<String>, HashSet<u64>>,
    by_ua: HashMap<String, HashSet<u64>>,
    next_log_id: u64,
    access: BTreeMap<u64, AccessLogRecord>,
    failure: BTreeMap<u64, FailureLogRecord>,
}

impl Rec {
    /// The record as listed, under its id.
    fn record(&self, id: u64) -> AttemptRecord {
        AttemptRecord {
            id: id.to_string(),
            key: self.key.clone(),
            details: self.details.clone(),
            failures: self.failures,
            attempt_time: self.time,
        }
    }
}

fn live(time: DateTime<Utc>, window: Option<chrono::Duration>, now: DateTime<Utc>) -> bool {
    window.is_none_or(|w| time > now - w)
}

fn index_remove<K: std::hash::Hash + Eq>(map: &mut HashMap<K, HashSet<u64>>, k: &K, id: u64) {
    if let Some(set) = map.get_mut(k) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(k);
        }
    }
}

impl State {
    /// The ids of records that may match `key` on `alt`: those sharing the
    /// value of its most selective field.
    fn candidates<'a>(
        &'a self,
        key: &RecordKey,
        alt: &Alternative,
    ) -> impl Iterator<Item = u64> + 'a {
        let set = if alt.uses(Field::IpAddress) {
            self.by_ip.get(&key.ip_address)
        } else if alt.uses(Field::Username) {
            self.by_user.get(&key.username)
        } else {
            self.by_ua.get(&key.user_agent)
        };
        set.into_iter().flatten().copied()
    }

    fn count(
        &self,
        key: &RecordKey,
        alt: &Alternative,
        window: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> AlternativeCount {
        let mut out = AlternativeCount {
            failures: 0,
            last_failure: None,
        };
        // Candidates share the value of one field; a one-field alternative
        // needs no further comparison.
        let single = alt.fields().len() == 1;
        for id in self.candidates(key, alt) {
            if let Some(rec) = self.records.get(&id)
                && live(rec.time, window, now)
                && (single || key.matches(&rec.key, alt))
            {
                out.failures = out.failures.saturating_add(rec.failures);
                out.last_failure = out.last_failure.max(Some(rec.time));
            }
        }
        out
    }

    fn counts(
        &self,
        key: &RecordKey,
        params: &LockoutParameters,
        window: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> Failures {
        Failures {
            per_alternative: params
                .alternatives()
                .iter()
                .map(|a| self.count(key, a, window, now))
                .collect(),
        }
    }

    fn remove(&mut self, id: u64) -> bool {
        let Some(rec) = self.records.remove(&id) else {
            return false;
        };
        self.ids.remove(&rec.key);
        self.by_time.remove(&(rec.time, id));
        index_remove(&mut self.by_ip, &rec.key.ip_address, id);
        index_remove(&mut self.by_user, &rec.key.username, id);
        index_remove(&mut self.by_ua, &rec.key.user_agent, id);
        true
    }

    /// Adds one failure to the record of `key` (creating it, or restarting
    /// its count as a new generation when its window had passed) and names
    /// the failure.
    fn add_failure(
        &mut self,
        key: &RecordKey,
        details: &AttemptDetails,
        window: Option<chrono::Duration>,
        now: DateTime<Utc>,
    ) -> ReservationToken {
        if let Some(&id) = self.ids.get(key)
            && let Some(rec) = self.records.get_mut(&id)
        {
            let old = rec.time;
            let previous_time = if live(old, window, now) {
                rec.failures = rec.failures.saturating_add(1);
                Some(old)
            } else {
                rec.failures = 1;
                rec.generation = rec.generation.wrapping_add(1);
                None
            };
            rec.serial = rec.serial.wrapping_add(1);
            rec.time = now;
            rec.details = details.clone();
            let token = ReservationToken {
                record_id: id.to_string(),
                generation: rec.generation,
                serial: rec.serial,
                reserved_at: now,
                previous_time,
            };
            self.by_time.remove(&(old, id));
            self.by_time.insert((now, id));
            return token;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.records.insert(
            id,
            Rec {
                key: key.clone(),
                failures: 1,
                time: now,
                details: details.clone(),
                generation: 0,
                serial: 1,
            },
        );
        self.ids.insert(key.clone(), id);
        self.by_time.insert((now, id));
        self.by_ip
            .entry(key.ip_address.clone())
            .or_default()
            .insert(id);
        self.by_user
            .entry(key.username.clone())
            .or_default()
            .insert(id);
        self.by_ua
            .entry(key.user_agent.clone())
            .or_default()
            .insert(id);
        ReservationToken {
            record_id: id.to_string(),
            generation: 0,
            serial: 1,
            reserved_at: now,
            previous_time: None,
        }
    }

    /// Gives back the failure `token` names, if its generation of the
    /// record of `key` is still there.
    fn give_back(&mut self, key: &RecordKey, token: &ReservationToken) {
        let Some(&id) = self.ids.get(key) else {
            return;
        };
        if token.record_id.parse::<u64>().ok() != Some(id) {
            return;
        }
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        if rec.generation != token.generation {
            return;
        }
        if rec.failures <= 1 {
            self.remove(id);
            return;
        }
        rec.failures -= 1;
        if let Some(previous) = token.previous_time
            && rec.serial == token.serial
            && rec.time == token.reserved_at
        {
            let old = rec.time;
            rec.time = previous;
            self.by_time.remove(&(old, id));
            self.by_time.insert((previous, id));
        }
    }

    /// Drops up to `max` records whose last failure is at or before `before`.
    fn drop_older(&mut self, before: DateTime<Utc>, max: usize) -> u64 {
        let stale: Vec<u64> = self
            .by_time
            .iter()
            .take_while(|(t, _)| *t <= before)
            .take(max)
            .map(|(_, id)| *id)
            .collect();
        stale.into_iter().filter(|id| self.remove(*id)).count() as u64
    }

    fn evict_over(&mut self, max: usize) {
        while self.records.len() > max {
            match self.by_time.iter().next().map(|(_, id)| *id) {
                Some(id) => {
                    self.remove(id);
                }
                None => break,
            }
        }
    }

    fn new_log_id(&mut self) -> u64 {
        self.next_log_id += 1;
        self.next_log_id
    }
}

fn page<T: Clone>(mut rows: Vec<(DateTime<Utc>, u64, T)>, q: &ListQuery) -> Page<T> {
    rows.sort_by_key(|(t, id, _)| (*t, *id));
    if q.order == Order::NewestFirst {
        rows.reverse();
    }
    let total = rows.len() as u64;
    let items = rows
        .into_iter()
        .skip(usize::try_from(q.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(q.bounded_limit()).unwrap_or(usize::MAX))
        .map(|(_, _, r)| r)
        .collect();
    Page { items, total }
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

impl MemoryStore {
    /// A store with the default bounds.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with explicit bounds.
    pub fn with_limits(limits: MemoryLimits) -> Self {
        Self {
            state: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave half-written counters
        // behind (every update is a few infallible map operations), so a
        // poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records currently held.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn failures(&self, q: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        Ok(self.lock().counts(q.key, q.parameters, q.window, q.now))
    }

    async fn reserve(&self, r: &Reservation<'_>) -> Result<ReserveOutcome, StoreError> {
        let mut st = self.lock();
        if let Some(w) = r.window {
            st.drop_older(r.now - w, 64);
        }
        let mut failures = st.counts(r.key, r.parameters, r.window, r.now);
        let admitted = r.limit.is_none_or(|l| !failures.reached(l));
        let counted = admitted || r.count_when_locked;
        let mut token = None;
        if counted {
            token = Some(st.add_failure(r.key, r.details, r.window, r.now));
            for c in &mut failures.per_alternative {
                c.failures = c.failures.saturating_add(1);
                c.last_failure = Some(r.now);
            }
            st.evict_over(self.limits.max_records);
        }
        Ok(ReserveOutcome {
            admitted,
            counted,
            failures,
            token,
        })
    }

    async fn release(&self, key: &RecordKey, token: &ReservationToken) -> Result<(), StoreError> {
        self.lock().give_back(key, token);
        Ok(())
    }

    async fn clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let mut doomed = HashSet::new();
        for alt in parameters.alternatives() {
            for id in st.candidates(key, alt) {
                if st
                    .records
                    .get(&id)
                    .is_some_and(|r| key.matches(&r.key, alt))
                {
                    doomed.insert(id);
                }
            }
        }
        Ok(doomed.into_iter().filter(|id| st.remove(*id)).count() as u64)
    }

    async fn reset(&self, filter: &ResetFilter) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let doomed: Vec<u64> = st
            .records
            .iter()
            .filter(|(_, r)| filter.matches(&r.key))
            .map(|(id, _)| *id)
            .collect();
        Ok(doomed.into_iter().filter(|id| st.remove(*id)).count() as u64)
    }

    async fn purge_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.lock().drop_older(before, usize::MAX))
    }

    async fn list_attempts(&self, q: &ListQuery) -> Result<Page<AttemptRecord>, StoreError> {
        let st = self.lock();
        let rows = st
            .records
            .iter()
            .filter(|(_, r)| {
                q.admits(
                    r.key.ip_address.as_deref(),
                    r.key.username.as_deref(),
                    &r.key.user_agent,
                    r.time,
                )
            })
            .map(|(id, r)| (r.time, *id, r.record(*id)))
            .collect();
        Ok(page(rows, q))
    }

    async fn get_attempt(&self, id: &str) -> Result<Option<AttemptRecord>, StoreError> {
        let Some(id) = lookup_id(id) else {
            return Ok(None);
        };
        let st = self.lock();
        Ok(st.records.get(&id).map(|r| r.record(id)))
    }

    async fn get_access_log(&self, id: &str) -> Result<Option<AccessLogRecord>, StoreError> {
        let Some(id) = lookup_id(id) else {
            return Ok(None);
        };
        Ok(self.lock().access.get(&id).cloned())
    }

    async fn get_failure_log(&self, id: &str) -> Result<Option<FailureLogRecord>, StoreError> {
        let Some(id) = lookup_id(id) else {
            return Ok(None);
        };
        Ok(self.lock().failure.get(&id).cloned())
    }

    async fn insert_access_log(&self, entry: &NewAccessLog) -> Result<(), StoreError> {
        let mut st = self.lock();
        let id = st.new_log_id();
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
        let mut st = self.lock();
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
        let mut st = self.lock();
        let id = st.new_log_id();
        st.failure.insert(
            id,
            FailureLogRecord {
                id: id.to_string(),
                entry: entry.clone(),
            },
        );
        let same: Vec<u64> = st
            .failure
            .iter()
            .filter(|(_, r)| r.entry.key.username == entry.key.username)
            .map(|(id, _)| *id)
            .collect();
        let excess = same.len().saturating_sub(per_user_limit as usize);
        for id in same.into_iter().take(excess) {
            st.failure.remove(&id);
        }
        while st.failure.len() > self.limits.max_log_rows {
            st.failure.pop_first();
        }
        Ok(())
    }

    async fn reset_access_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let n = st.access.len();
        st.access
            .retain(|_, r| before.is_some_and(|b| r.entry.attempt_time > b));
        Ok((n - st.access.len()) as u64)
    }

    async fn reset_failure_logs(&self, before: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let n = st.failure.len();
        st.failure
            .retain(|_, r| before.is_some_and(|b| r.entry.attempt_time > b));
        Ok((n - st.failure.len()) as u64)
    }

    async fn list_access_logs(&self, q: &ListQuery) -> Result<Page<AccessLogRecord>, StoreError> {
        let st = self.lock();
        let rows = st
            .access
            .iter()
            .filter(|(_, r)| {
                let k = &r.entry.key;
                q.admits(
                    k.ip_address.as_deref(),
                    k.username.as_deref(),
                    &k.user_agent,
                    r.entry.attempt_time,
                )
            })
            .map(|(id, r)| (r.entry.attempt_time, *id, r.clone()))
            .collect();
        Ok(page(rows, q))
    }

    async fn list_failure_logs(&self, q: &ListQuery) -> Result<Page<FailureLogRecord>, StoreError> {
        let st = self.lock();
        let rows = st
            .failure
            .iter()
            .filter(|(_, r)| {
                let k = &r.entry.key;
                q.admits(
                    k.ip_address.as_deref(),
                    k.username.as_deref(),
                    &k.user_agent,
                    r.entry.attempt_time,
                )
            })
            .map(|(id, r)| (r.entry.attempt_time, *id, r.clone()))
            .collect();
        Ok(page(rows, q))
    }

    async fn delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut st = self.lock();
        Ok(parse_ids(ids).filter(|id| st.remove(*id)).count() as u64)
    }

    async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut st = self.lock();
        Ok(parse_ids(ids)
            .filter(|id| st.access.remove(id).is_some())
            .count() as u64)
    }

    async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut st = self.lock();
        Ok(parse_ids(ids)
            .filter(|id| st.failure.remove(id).is_some())
            .count() as u64)
    }
}
