//! The block table of the memory store: manual blocks and lockout history
//! (see [`crate::blocks`]).
//!
//! Rows are found by exact target (a reservation looks up at most seven
//! candidates, each one hash look-up), listed by `created_at` and purged or
//! evicted by `until`. The table holds at most `max_records` rows. When it
//! is full, a new row takes the place of a row that refuses nothing and is
//! no longer needed at the new row's time (its `created_at`): an ended
//! manual block, or — for a new lockout row, which knows `lockout_memory` —
//! an ended lockout row out of the memory; a new manual block may also take
//! the place of an ended lockout row still in the memory (an operator's
//! block outweighs the history of a lockout that is over). It looks at a
//! bounded number of them, earliest `until` first; a row that refuses
//! attempts is never evicted. When none can go, a new manual block
//! is refused with [`BlocksFull`], and so is a new lockout row (the engine
//! logs it; the lockout itself still holds by the failure count).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::blocks::{Block, BlockKind, BlockTarget, Escalation};
use crate::store::{ListQuery, Order, Page, ResetFilter};

/// Rows a full table looks at, at most, to make room for a new one.
const EVICTION_BUDGET: usize = 64;

/// The block table is full of rows that are still needed.
#[derive(Debug, thiserror::Error)]
#[error(
    "memory store full: all {0} block rows still refuse attempts or remember lockouts, so no new block can be kept"
)]
pub struct BlocksFull(pub usize);

/// A block without any target field would refuse everyone: never stored.
#[derive(Debug, thiserror::Error)]
#[error("a block needs an IP address, a username or a user agent")]
pub struct EmptyTarget;

/// The ids of the rows of one target, one per kind.
#[derive(Debug, Default, Clone, Copy)]
struct Slots {
    manual: Option<u64>,
    lockout: Option<u64>,
}

impl Slots {
    fn get(&self, kind: BlockKind) -> Option<u64> {
        match kind {
            BlockKind::Manual => self.manual,
            BlockKind::Lockout => self.lockout,
        }
    }

    fn set(&mut self, kind: BlockKind, id: Option<u64>) {
        match kind {
            BlockKind::Manual => self.manual = id,
            BlockKind::Lockout => self.lockout = id,
        }
    }

    fn is_empty(&self) -> bool {
        self.manual.is_none() && self.lockout.is_none()
    }
}

/// A position in one of the time orders: (time, id).
pub(super) type Pos = (DateTime<Utc>, u64);

/// The block rows.
#[derive(Debug, Default)]
pub(super) struct Blocks {
    next_id: u64,
    by_target: HashMap<BlockTarget, Slots>,
    rows: BTreeMap<u64, Block>,
    /// Every row by `created_at`: the listing order.
    by_created: BTreeSet<Pos>,
    /// The rows with an `until`, by `until`: purging and eviction.
    by_until: BTreeSet<Pos>,
}

impl Blocks {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The refusing row among `candidates` at `now` that lasts longest;
    /// of rows that last as long, the first met (in the order of the
    /// candidates, a target's manual row before its lockout row), as the
    /// Redis store answers. `manual_only`: lockout rows are not looked at.
    pub fn refusing(
        &self,
        candidates: &[BlockTarget],
        now: DateTime<Utc>,
        manual_only: bool,
    ) -> Option<Block> {
        let mut best: Option<&Block> = None;
        for t in candidates {
            let Some(slots) = self.by_target.get(t) else {
                continue;
            };
            let history = if manual_only { None } else { slots.lockout };
            for id in [slots.manual, history].into_iter().flatten() {
                if let Some(b) = self.rows.get(&id)
                    && b.refuses(now)
                    && best.is_none_or(|x| b.outlasts(x) && !x.outlasts(b))
                {
                    best = Some(b);
                }
            }
        }
        best.cloned()
    }

    fn id_of(&self, kind: BlockKind, target: &BlockTarget) -> Option<u64> {
        self.by_target.get(target).and_then(|s| s.get(kind))
    }

    fn unindex(&mut self, id: u64, b: &Block) {
        self.by_created.remove(&(b.created_at, id));
        if let Some(u) = b.until {
            self.by_until.remove(&(u, id));
        }
    }

    fn index(&mut self, id: u64, b: &Block) {
        self.by_created.insert((b.created_at, id));
        if let Some(u) = b.until {
            self.by_until.insert((u, id));
        }
    }

    /// Writes `block` as row `id` (new or replacing).
    fn write(&mut self, id: u64, block: Block) {
        if let Some(old) = self.rows.remove(&id) {
            self.unindex(id, &old);
        }
        self.index(id, &block);
        self.rows.insert(id, block);
    }

    fn remove_id(&mut self, id: u64) -> bool {
        let Some(b) = self.rows.remove(&id) else {
            return false;
        };
        self.unindex(id, &b);
        if let Some(slots) = self.by_target.get_mut(&b.target) {
            slots.set(b.kind, None);
            if slots.is_empty() {
                self.by_target.remove(&b.target);
            }
        }
        true
    }

    /// A new row: makes room under `max` rows first (module docs).
    fn insert(
        &mut self,
        block: Block,
        max: usize,
        now: DateTime<Utc>,
        forget_before: Option<DateTime<Utc>>,
    ) -> Result<(), BlocksFull> {
        if self.rows.len() >= max && !self.make_room(max, now, forget_before) {
            return Err(BlocksFull(max));
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.by_target
            .entry(block.target.clone())
            .or_default()
            .set(block.kind, Some(id));
        self.write(id, block);
        Ok(())
    }

    /// Evicts rows that refuse nothing at `now` and are no longer needed
    /// (manual rows whose `until` passed; lockout rows whose `until` passed
    /// and whose latest lockout is at or before `forget_before`), earliest
    /// `until` first, looking at [`EVICTION_BUDGET`] rows at most.
    fn make_room(
        &mut self,
        max: usize,
        now: DateTime<Utc>,
        forget_before: Option<DateTime<Utc>>,
    ) -> bool {
        let doomed: Vec<u64> = self
            .by_until
            .iter()
            .take_while(|(u, _)| *u <= now)
            .take(EVICTION_BUDGET)
            .filter(|(_, id)| {
                self.rows
                    .get(id)
                    .is_some_and(|b| unneeded(b, now, forget_before))
            })
            .map(|(_, id)| *id)
            .take(self.rows.len().saturating_sub(max).saturating_add(1))
            .collect();
        for id in doomed {
            self.remove_id(id);
        }
        self.rows.len() < max
    }

    /// Sets a manual block (or any row given whole), replacing the row of
    /// its kind and target. To make room, a manual block may also take the
    /// place of lockout history that refuses nothing, even within
    /// `lockout_memory`: else a flood of first lockouts (one row per name
    /// an attacker tries) would keep an operator from blocking the
    /// attacker. A row that refuses attempts is never evicted.
    pub fn put(&mut self, block: &Block, max: usize) -> Result<(), BlocksFull> {
        match self.id_of(block.kind, &block.target) {
            Some(id) => {
                self.write(id, block.clone());
                Ok(())
            }
            None => {
                let forget_before = (block.kind == BlockKind::Manual).then_some(block.created_at);
                self.insert(block.clone(), max, block.created_at, forget_before)
            }
        }
    }

    /// One more lockout of `target` at `now` (the contract of
    /// [`crate::Store::record_lockout`]).
    pub fn record(
        &mut self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &Escalation,
        max: usize,
    ) -> Result<Block, BlocksFull> {
        let existing = self
            .id_of(BlockKind::Lockout, target)
            .and_then(|id| Some((id, self.rows.get(&id)?)));
        let lockouts = match existing {
            Some((_, old)) if escalation.remembers_row(old, now) => old.lockouts.saturating_add(1),
            _ => 1,
        };
        let mut row = Block {
            kind: BlockKind::Lockout,
            target: target.clone(),
            until: escalation.until(lockouts, now),
            created_at: now,
            created_by: String::new(),
            lockouts,
        };
        match existing {
            Some((id, old)) => {
                if old.outlasts(&row) {
                    row.until = old.until;
                }
                self.write(id, row.clone());
            }
            None => {
                let forget_before = now.checked_sub_signed(escalation.memory);
                self.insert(row.clone(), max, now, forget_before)?;
            }
        }
        Ok(row)
    }

    /// Removes the row of exactly (`kind`, `target`).
    pub fn remove(&mut self, kind: BlockKind, target: &BlockTarget) -> bool {
        self.id_of(kind, target)
            .is_some_and(|id| self.remove_id(id))
    }

    /// Removes the rows of `kind` under `filter` among the next `max` ids
    /// after `after`; returns the last id looked at (`None`: the end) and
    /// how many went.
    pub fn reset_slice(
        &mut self,
        kind: BlockKind,
        filter: &ResetFilter,
        after: Option<u64>,
        max: usize,
    ) -> (Option<u64>, u64) {
        let start = after.map_or(0, |a| a.saturating_add(1));
        let ids: Vec<(u64, bool)> = self
            .rows
            .range(start..)
            .take(max)
            .map(|(id, b)| (*id, b.kind == kind && filter.matches_target(&b.target)))
            .collect();
        let last = (ids.len() == max)
            .then(|| ids.last().map(|(id, _)| *id))
            .flatten();
        let removed = ids
            .into_iter()
            .filter(|(id, doomed)| *doomed && self.remove_id(*id))
            .count() as u64;
        (last, removed)
    }

    /// Removes the unneeded rows (see [`crate::Store::purge_blocks`])
    /// among the next `max` rows whose `until` is at or before `now`, after
    /// `after`; returns the last position looked at (`None`: the end) and
    /// how many went.
    pub fn purge_slice(
        &mut self,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
        after: Option<Pos>,
        max: usize,
    ) -> (Option<Pos>, u64) {
        let range = match after {
            None => self.by_until.range(..),
            Some(a) => self
                .by_until
                .range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
        };
        let seen: Vec<Pos> = range
            .take_while(|(u, _)| *u <= now)
            .take(max)
            .copied()
            .collect();
        let last = (seen.len() == max).then(|| seen.last().copied()).flatten();
        let doomed: Vec<u64> = seen
            .iter()
            .filter(|(_, id)| {
                self.rows
                    .get(id)
                    .is_some_and(|b| unneeded(b, now, Some(forget_before)))
            })
            .map(|(_, id)| *id)
            .collect();
        let removed = doomed.into_iter().filter(|id| self.remove_id(*id)).count() as u64;
        (last, removed)
    }

    /// The next positions of the `created_at` order after `after`, at most
    /// `max`.
    pub fn positions(&self, after: Option<Pos>, order: Order, max: usize) -> Vec<Pos> {
        use std::ops::Bound::{Excluded, Unbounded};
        match (order, after) {
            (Order::OldestFirst, None) => self.by_created.iter().take(max).copied().collect(),
            (Order::OldestFirst, Some(a)) => self
                .by_created
                .range((Excluded(a), Unbounded))
                .take(max)
                .copied()
                .collect(),
            (Order::NewestFirst, None) => self.by_created.iter().rev().take(max).copied().collect(),
            (Order::NewestFirst, Some(a)) => self
                .by_created
                .range(..a)
                .rev()
                .take(max)
                .copied()
                .collect(),
        }
    }

    /// The row at `pos` if it passes `kind` and the filters of `q`.
    pub fn listed(&self, pos: Pos, kind: Option<BlockKind>, q: &ListQuery) -> Option<&Block> {
        self.rows
            .get(&pos.1)
            .filter(|b| kind.is_none_or(|k| b.kind == k) && admits(b, q))
    }
}

/// Whether a row refuses nothing at `now` and is no longer needed: a
/// manual row whose `until` passed; a lockout row whose `until` (the end
/// of its latest lockout) is at or before `forget_before` (never, without
/// one).
fn unneeded(b: &Block, now: DateTime<Utc>, forget_before: Option<DateTime<Utc>>) -> bool {
    !b.refuses(now)
        && match b.kind {
            BlockKind::Manual => true,
            BlockKind::Lockout => forget_before.is_some_and(|f| b.until.is_some_and(|u| u <= f)),
        }
}

/// Whether a row passes a listing's filters: IP and username equal the
/// target's, `search` in its fields and `created_by`, `since`/`until` on
/// `created_at`.
fn admits(b: &Block, q: &ListQuery) -> bool {
    let t = &b.target;
    if q.ip_address
        .as_deref()
        .is_some_and(|ip| t.ip_address.as_deref() != Some(ip))
        || q.username
            .as_deref()
            .is_some_and(|u| t.username.as_deref() != Some(u))
        || q.since.is_some_and(|s| b.created_at < s)
        || q.until.is_some_and(|u| b.created_at >= u)
    {
        return false;
    }
    match &q.search {
        None => true,
        Some(needle) => {
            let needle = needle.to_lowercase();
            [
                t.ip_address.as_deref(),
                t.username.as_deref(),
                t.user_agent.as_deref(),
                Some(b.created_by.as_str()),
            ]
            .into_iter()
            .flatten()
            .any(|h| h.to_lowercase().contains(&needle))
        }
    }
}

/// A page of a listing in the making.
pub(super) fn empty_page() -> Page<Block> {
    Page {
        items: Vec::new(),
        total: 0,
    }
}
