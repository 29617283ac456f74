//! The attempt records and their orders: counting, reserving, giving
//! back, eviction and purging.

use std::collections::BTreeSet;
use std::hash::RandomState;

use chrono::{DateTime, Duration, Utc};

use super::index::{FULL, Index, mask_of};
use super::record::{Interner, Policy, Rec, Slab};
use crate::parameters::{Alternative, LockoutParameters};
use crate::store::{
    AlternativeCount, AttemptDetails, AttemptRecord, Failures, ListQuery, Order, RecordKey,
    ReservationToken,
};

/// A position in the time order: (last failure, slot).
pub(super) type Pos = (DateTime<Utc>, u32);

/// Records a reservation looks at, at most, to make room for a new one.
const EVICTION_BUDGET: usize = 64;

pub(super) fn live(time: DateTime<Utc>, window: Option<Duration>, now: DateTime<Utc>) -> bool {
    window.is_none_or(|w| time > now - w)
}

/// The attempt records.
#[derive(Debug, Default)]
pub(super) struct Attempts {
    slab: Slab,
    interner: Interner,
    hasher: RandomState,
    /// Full record key → slot.
    own: Option<Index>,
    /// One index per alternative (set of fields) the engine counted by.
    alts: Vec<Index>,
    /// Records eviction may take, oldest last failure first.
    by_time: BTreeSet<Pos>,
    /// Records eviction found part of a lockout: kept out of its way until
    /// they get a new failure or expire.
    pinned: BTreeSet<Pos>,
    /// Index entries read by counts (what a test watches to see that the
    /// work per attempt does not grow).
    pub visited: u64,
    /// Records the tables are allocated for up front (see
    /// [`Attempts::with_capacity`]).
    capacity: usize,
}

/// The most records allocated for up front; a larger bound grows past it.
const MAX_PREALLOCATED: usize = 2_000_000;

impl Attempts {
    /// Tables sized for `max_records` (at most [`MAX_PREALLOCATED`]) from
    /// the start: a table that doubles rehashes every record at once, and
    /// under the store's one lock that stalled every login for hundreds of
    /// milliseconds while a flood grew the store. Untouched capacity costs
    /// address space, not resident memory.
    pub fn with_capacity(max_records: usize) -> Self {
        let capacity = max_records.min(MAX_PREALLOCATED);
        Self {
            slab: Slab::with_capacity(capacity),
            capacity,
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// Slots allocated, and the buckets of each alternative index.
    pub fn sizes(&self) -> (usize, Vec<(u8, usize)>) {
        (
            self.slab.capacity(),
            self.alts.iter().map(|i| (i.mask(), i.buckets())).collect(),
        )
    }

    /// Makes sure every alternative of `params` has its index (built from
    /// the records held, once per set of fields).
    pub fn ensure(&mut self, params: &LockoutParameters) {
        for alt in params.alternatives() {
            let mask = mask_of(alt);
            if self.alts.iter().any(|i| i.mask() == mask) {
                continue;
            }
            let mut index = Index::new(mask, self.capacity);
            for slot in self.slab.occupied().collect::<Vec<_>>() {
                index.insert(&self.hasher, &self.slab, slot);
            }
            self.alts.push(index);
        }
    }

    fn index(&self, alt: &Alternative) -> Option<&Index> {
        let mask = mask_of(alt);
        self.alts.iter().find(|i| i.mask() == mask)
    }

    /// The slot of `key`'s own record.
    pub fn own_slot(&self, key: &RecordKey) -> Option<u32> {
        let own = self.own.as_ref()?;
        own.bucket(&self.hasher, &self.slab, key).next()
    }

    /// The key of the record in `slot` as compared between records of one
    /// time.
    fn key_order(&self, slot: u32) -> [Option<&str>; 3] {
        use super::record::Fields;
        use crate::parameters::Field;
        self.slab.get(slot).map_or([None; 3], |r| {
            [
                r.field(Field::Username),
                r.field(Field::IpAddress),
                r.field(Field::UserAgent),
            ]
        })
    }

    /// The live failures of `alt` for `key`, and the slot of the newest
    /// live record counted. Reads only the bucket of `key`'s values.
    fn count(
        &mut self,
        key: &RecordKey,
        alt: &Alternative,
        window: Option<Duration>,
        now: DateTime<Utc>,
    ) -> (AlternativeCount, Option<u32>) {
        let mut out = AlternativeCount {
            failures: 0,
            last_failure: None,
        };
        let mut newest: Option<(DateTime<Utc>, u32)> = None;
        let mut visited = 0;
        if let Some(index) = self.index(alt) {
            for slot in index.bucket(&self.hasher, &self.slab, key) {
                visited += 1;
                if let Some(rec) = self.slab.get(slot)
                    && live(rec.time, window, now)
                {
                    out.failures = out.failures.saturating_add(rec.failures);
                    out.last_failure = out.last_failure.max(Some(rec.time));
                    // The newest; between equal times, the greatest key
                    // (username, IP, user agent): the same pick every time.
                    let newer = newest.is_none_or(|(t, s)| {
                        rec.time > t || (rec.time == t && self.key_order(slot) > self.key_order(s))
                    });
                    if newer {
                        newest = Some((rec.time, slot));
                    }
                }
            }
        }
        self.visited += visited;
        (out, newest.map(|(_, s)| s))
    }

    /// The counts of every alternative, and the newest live record of each.
    pub fn counts(
        &mut self,
        key: &RecordKey,
        params: &LockoutParameters,
        window: Option<Duration>,
        now: DateTime<Utc>,
    ) -> (Failures, Vec<Option<u32>>) {
        self.ensure(params);
        let mut failures = Failures::default();
        let mut newest = Vec::new();
        for alt in params.alternatives() {
            let (c, n) = self.count(key, alt, window, now);
            failures.per_alternative.push(c);
            newest.push(n);
        }
        (failures, newest)
    }

    /// Stores a new record of one failure; returns its slot.
    pub fn insert(
        &mut self,
        key: &RecordKey,
        details: &AttemptDetails,
        now: DateTime<Utc>,
        policy: Policy,
    ) -> u32 {
        let slot = self
            .slab
            .insert(Rec::new(&mut self.interner, key, details, now, policy));
        let capacity = self.capacity;
        let own = self.own.get_or_insert_with(|| Index::new(FULL, capacity));
        own.insert(&self.hasher, &self.slab, slot);
        for index in &mut self.alts {
            index.insert(&self.hasher, &self.slab, slot);
        }
        self.by_time.insert((now, slot));
        slot
    }

    /// Deletes the record in `slot`.
    pub fn remove(&mut self, slot: u32) -> bool {
        let Some(rec) = self.slab.get(slot) else {
            return false;
        };
        let pos = (rec.time, slot);
        if rec.pinned {
            self.pinned.remove(&pos);
        } else {
            self.by_time.remove(&pos);
        }
        let hasher = &self.hasher;
        let slab = &self.slab;
        if let Some(own) = &mut self.own {
            own.remove(hasher, slab, slot);
        }
        for index in &mut self.alts {
            index.remove(hasher, slab, slot);
        }
        match self.slab.remove(slot) {
            Some(rec) => {
                rec.release(&mut self.interner);
                true
            }
            None => false,
        }
    }

    /// Moves the record to `time` in the orders (unpinned: a new failure
    /// makes it a candidate for eviction again, checked anew).
    fn set_time(&mut self, slot: u32, time: DateTime<Utc>) {
        let Some(rec) = self.slab.get_mut(slot) else {
            return;
        };
        let old = (rec.time, slot);
        let was_pinned = std::mem::replace(&mut rec.pinned, false);
        rec.time = time;
        if was_pinned {
            self.pinned.remove(&old);
        } else {
            self.by_time.remove(&old);
        }
        self.by_time.insert((time, slot));
    }

    /// Adds one failure to the existing record in `slot` (restarting its
    /// count as a new generation when its window had passed) and names it.
    pub fn add_to(
        &mut self,
        slot: u32,
        key: &RecordKey,
        details: &AttemptDetails,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> Option<ReservationToken> {
        let window = policy.window();
        let id = self.slab.id(slot);
        let rec = self.slab.get_mut(slot)?;
        rec.policy = policy;
        let previous_time = if live(rec.time, window, now) {
            rec.failures = rec.failures.saturating_add(1);
            Some(rec.time)
        } else {
            rec.failures = 1;
            rec.generation = rec.generation.wrapping_add(1);
            None
        };
        rec.serial = rec.serial.wrapping_add(1);
        rec.set_details(&mut self.interner, key, details);
        let token = ReservationToken {
            record_id: id.to_string(),
            generation: u64::from(rec.generation),
            serial: rec.serial,
            reserved_at: now,
            previous_time,
        };
        self.set_time(slot, now);
        Some(token)
    }

    /// The token of the failure a new record in `slot` holds.
    pub fn first_token(&self, slot: u32, now: DateTime<Utc>) -> ReservationToken {
        ReservationToken {
            record_id: self.slab.id(slot).to_string(),
            generation: 0,
            serial: 1,
            reserved_at: now,
            previous_time: None,
        }
    }

    /// A refused attempt's failure on a record that is not its own (S1):
    /// one more failure, last failure now; no token.
    pub fn refresh(&mut self, slot: u32, now: DateTime<Utc>) {
        if let Some(rec) = self.slab.get_mut(slot) {
            rec.failures = rec.failures.saturating_add(1);
            rec.serial = rec.serial.wrapping_add(1);
            self.set_time(slot, now);
        }
    }

    /// Gives back the failure `token` names, if its generation of the
    /// record of `key` is still there.
    pub fn give_back(&mut self, key: &RecordKey, token: &ReservationToken) {
        let Some(slot) = self.own_slot(key) else {
            return;
        };
        if token.record_id.parse::<u64>().ok() != Some(self.slab.id(slot)) {
            return;
        }
        let Some(rec) = self.slab.get_mut(slot) else {
            return;
        };
        if u64::from(rec.generation) != token.generation {
            return;
        }
        if rec.failures <= 1 {
            self.remove(slot);
            return;
        }
        rec.failures -= 1;
        if let Some(previous) = token.previous_time
            && rec.serial == token.serial
            && rec.time == token.reserved_at
        {
            self.set_time(slot, previous);
        }
    }

    /// Drops up to `max` records whose last failure is at or before
    /// `before`, oldest first.
    /// Deletes records whose own window has passed at `now` among the
    /// oldest ones with a last failure at or before `scan_until`, looking
    /// at `max` at most. With one window for all (no layered rules) and
    /// `scan_until = now - window`, every record looked at has expired;
    /// records of a longer window than that are stepped over (a record is
    /// never dropped by another rule's window).
    pub fn drop_expired(
        &mut self,
        now: DateTime<Utc>,
        scan_until: DateTime<Utc>,
        max: usize,
    ) -> u64 {
        let mut stale: Vec<u32> = Vec::new();
        for set in [&self.by_time, &self.pinned] {
            for &(t, slot) in set.iter().take_while(|(t, _)| *t <= scan_until).take(max) {
                let expired = self
                    .slab
                    .get(slot)
                    .is_some_and(|r| !live(t, r.policy.window(), now));
                if expired {
                    stale.push(slot);
                }
            }
        }
        stale.into_iter().filter(|s| self.remove(*s)).count() as u64
    }

    pub fn drop_older(&mut self, before: DateTime<Utc>, max: usize) -> u64 {
        let mut stale: Vec<u32> = Vec::new();
        for set in [&self.by_time, &self.pinned] {
            stale.extend(
                set.iter()
                    .take_while(|(t, _)| *t <= before)
                    .take(max.saturating_sub(stale.len()))
                    .map(|(_, s)| *s),
            );
        }
        stale.into_iter().filter(|s| self.remove(*s)).count() as u64
    }

    /// Whether the record in `slot` counts toward an alternative that has
    /// reached `limit`: part of a lockout.
    fn locked(
        &mut self,
        slot: u32,
        limit: u32,
        window: Option<Duration>,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(rec) = self.slab.get(slot) else {
            return false;
        };
        let policy = rec.policy;
        let mut visited = 0;
        let mut locked = false;
        // Only the alternatives of the record's own rule: another rule's
        // sums are not its lockout.
        for index in self.alts.iter().filter(|i| policy.counts_by(i.mask())) {
            let mut sum: u32 = 0;
            for s in index.bucket(&self.hasher, &self.slab, rec) {
                visited += 1;
                if let Some(r) = self.slab.get(s)
                    && live(r.time, window, now)
                {
                    sum = sum.saturating_add(r.failures);
                }
            }
            if sum >= limit {
                locked = true;
                break;
            }
        }
        self.visited += visited;
        locked
    }

    /// Whether the record in `slot` (last failure `time`) may go to make
    /// room: its own window has passed, or it is not part of a lockout
    /// under its own limit and window.
    fn evictable(&mut self, slot: u32, time: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let Some(policy) = self.slab.get(slot).map(|r| r.policy) else {
            return true;
        };
        let window = policy.window();
        !live(time, window, now)
            || policy
                .limit()
                .is_none_or(|l| !self.locked(slot, l, window, now))
    }

    /// Makes room for one record more under `max` records: expired records
    /// first, then records below the limit, oldest first; a record that is
    /// part of a lockout is never evicted. Looks at a bounded number of
    /// records; false when nothing could go.
    pub fn make_room(&mut self, max: usize, now: DateTime<Utc>) -> bool {
        self.drop_expired(now, now, EVICTION_BUDGET);
        let mut budget = EVICTION_BUDGET;
        while self.slab.len() >= max && budget > 0 {
            budget -= 1;
            let Some(&(time, slot)) = self.by_time.first() else {
                break;
            };
            let doomed = self.evictable(slot, time, now);
            if doomed {
                self.remove(slot);
            } else {
                self.by_time.remove(&(time, slot));
                self.pinned.insert((time, slot));
                if let Some(rec) = self.slab.get_mut(slot) {
                    rec.pinned = true;
                }
            }
        }
        // Every candidate is pinned: look again at the oldest pinned ones
        // (a lockout may have ended since they were pinned).
        if self.slab.len() >= max && self.by_time.is_empty() {
            let again: Vec<Pos> = self.pinned.iter().take(budget).copied().collect();
            for (time, slot) in again {
                if self.slab.len() < max {
                    break;
                }
                if self.evictable(slot, time, now) {
                    self.remove(slot);
                }
            }
        }
        self.slab.len() < max
    }

    /// The next positions of the time order after `after` (both orders
    /// merged), at most `max`.
    pub fn positions(&self, after: Option<Pos>, order: Order, max: usize) -> Vec<Pos> {
        let take = |set: &BTreeSet<Pos>| -> Vec<Pos> {
            match (order, after) {
                (Order::OldestFirst, None) => set.iter().take(max).copied().collect(),
                (Order::OldestFirst, Some(a)) => set
                    .range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
                    .take(max)
                    .copied()
                    .collect(),
                (Order::NewestFirst, None) => set.iter().rev().take(max).copied().collect(),
                (Order::NewestFirst, Some(a)) => set.range(..a).rev().take(max).copied().collect(),
            }
        };
        let mut all = take(&self.by_time);
        all.extend(take(&self.pinned));
        all.sort_unstable();
        if order == Order::NewestFirst {
            all.reverse();
        }
        all.truncate(max);
        all
    }

    /// The record at `pos` as listed, if it passes the filters of `q`.
    pub fn listed(&self, pos: Pos, q: &ListQuery) -> Option<AttemptRecord> {
        let rec = self.slab.get(pos.1)?;
        let key = rec.key();
        q.admits(
            key.ip_address.as_deref(),
            key.username.as_deref(),
            &key.user_agent,
            rec.time,
        )
        .then(|| rec.record(self.slab.id(pos.1)))
    }

    /// Whether the record at `pos` passes the filters of `q` (without
    /// building its listing).
    pub fn admits(&self, pos: Pos, q: &ListQuery) -> bool {
        self.slab.get(pos.1).is_some_and(|rec| {
            use super::record::Fields;
            use crate::parameters::Field;
            q.admits(
                rec.field(Field::IpAddress),
                rec.field(Field::Username),
                rec.field(Field::UserAgent).unwrap_or(""),
                rec.time,
            )
        })
    }

    /// The record with this id.
    pub fn get(&self, id: u64) -> Option<AttemptRecord> {
        let slot = self.slab.slot_of(id)?;
        self.slab.get(slot).map(|r| r.record(id))
    }

    /// Deletes the record with this id.
    pub fn remove_id(&mut self, id: u64) -> bool {
        match self.slab.slot_of(id) {
            Some(slot) => self.remove(slot),
            None => false,
        }
    }

    /// Deletes every record matching `key` on any alternative of `params`.
    pub fn clear_client(&mut self, key: &RecordKey, params: &LockoutParameters) -> u64 {
        self.ensure(params);
        let mut doomed = Vec::new();
        for alt in params.alternatives() {
            if let Some(index) = self.index(alt) {
                doomed.extend(index.bucket(&self.hasher, &self.slab, key));
            }
        }
        doomed.sort_unstable();
        doomed.dedup();
        doomed.into_iter().filter(|s| self.remove(*s)).count() as u64
    }
}

impl Attempts {
    /// Deletes the records under `filter` among the next `max` positions
    /// after `after` (oldest first); returns the last position looked at
    /// (`None`: the end) and how many were deleted.
    pub fn reset_slice(
        &mut self,
        after: Option<Pos>,
        filter: &crate::store::ResetFilter,
        max: usize,
    ) -> (Option<Pos>, u64) {
        use super::record::Fields;
        use crate::parameters::Field;
        let positions = self.positions(after, Order::OldestFirst, max);
        let last = (positions.len() == max)
            .then(|| positions.last().copied())
            .flatten();
        let doomed: Vec<u32> = positions
            .iter()
            .filter(|(_, slot)| {
                self.slab.get(*slot).is_some_and(|r| {
                    filter
                        .ip_address
                        .as_deref()
                        .is_none_or(|ip| r.field(Field::IpAddress) == Some(ip))
                        && filter
                            .username
                            .as_deref()
                            .is_none_or(|u| r.field(Field::Username) == Some(u))
                })
            })
            .map(|(_, s)| *s)
            .collect();
        let removed = doomed.into_iter().filter(|s| self.remove(*s)).count() as u64;
        (last, removed)
    }
}
