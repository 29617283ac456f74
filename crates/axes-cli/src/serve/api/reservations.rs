//! The reservations of `/api/v1/attempts/begin`, held in memory for the
//! remote app until it finishes them.
//!
//! - Bounded: at most `api_max_reservations` open at once; while full,
//!   `begin` is refused (503) — an open reservation is never dropped to
//!   make room.
//! - Deadline: a reservation not finished within `api_reservation_timeout`
//!   is finished as a failure by the sweeper (at most [`SWEEP_BATCH`] a
//!   tick, every [`SWEEP_TICK`]). Its failure was counted at `begin`, so a
//!   client gains nothing by never finishing.
//! - Ids: 128 random bits (32 hex digits) from the OS.
//! - Finished ids are remembered (as many as `api_max_reservations`, the
//!   oldest forgotten first) so that a second finish is told apart (409)
//!   from an unknown id (404).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use axes_core::Ticket;
use tokio::time::Instant;

/// How often the sweeper looks for reservations past their deadline.
pub const SWEEP_TICK: Duration = Duration::from_millis(100);
/// The most expired reservations the sweeper finishes in one tick.
pub const SWEEP_BATCH: usize = 256;

/// A reservation's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u128);

impl Id {
    fn random() -> Option<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).ok()?;
        Some(Id(u128::from_le_bytes(bytes)))
    }

    /// Parses 32 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 32
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(Id)
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// How a reservation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Finished by the app.
    Finished,
    /// Its deadline passed: counted as a failure.
    Expired,
}

/// Why a reservation could not be taken from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeError {
    /// Never issued, malformed, or forgotten.
    Unknown,
    /// Already ended.
    Ended(Ended),
    /// The username given to finish is not the one reserved.
    OtherUser,
}

#[derive(Debug)]
struct Pending {
    ticket: Ticket,
    deadline: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    pending: HashMap<Id, Pending>,
    /// Deadlines of the pending reservations, earliest first.
    deadlines: BTreeSet<(Instant, Id)>,
    /// Slots promised to `begin` calls still waiting for the store.
    promised: usize,
    ended: HashMap<Id, Ended>,
    ended_order: VecDeque<Id>,
}

/// The table.
#[derive(Debug)]
pub struct Reservations {
    inner: Mutex<Inner>,
    cap: usize,
    timeout: Duration,
}

/// A slot promised to one `begin`: given back when dropped unused.
#[derive(Debug)]
pub struct Slot<'a> {
    table: &'a Reservations,
    used: bool,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.used {
            let mut inner = self.table.lock();
            inner.promised = inner.promised.saturating_sub(1);
        }
    }
}

impl Slot<'_> {
    /// Files `ticket` under a new id; `None` when the OS has no randomness
    /// (the ticket is then finished as a failure, its counted default).
    pub fn insert(mut self, ticket: Ticket) -> Result<Id, Box<Ticket>> {
        let table = self.table;
        let mut inner = table.lock();
        inner.promised = inner.promised.saturating_sub(1);
        self.used = true;
        let id = loop {
            let Some(id) = Id::random() else {
                return Err(Box::new(ticket));
            };
            if !inner.pending.contains_key(&id) && !inner.ended.contains_key(&id) {
                break id;
            }
        };
        let deadline = Instant::now() + table.timeout;
        inner.deadlines.insert((deadline, id));
        inner.pending.insert(id, Pending { ticket, deadline });
        Ok(id)
    }
}

impl Reservations {
    /// A table of at most `cap` open reservations, each open for `timeout`.
    pub fn new(cap: usize, timeout: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            cap: cap.max(1),
            timeout,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data behind
        // (every update is a few map operations): carry on.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Open reservations.
    pub fn len(&self) -> usize {
        self.lock().pending.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Promises a slot for one `begin`, or `None` when the table is full.
    pub fn promise(&self) -> Option<Slot<'_>> {
        let mut inner = self.lock();
        if inner.pending.len() + inner.promised >= self.cap {
            return None;
        }
        inner.promised += 1;
        Some(Slot {
            table: self,
            used: false,
        })
    }

    fn remember(&self, inner: &mut Inner, id: Id, how: Ended) {
        inner.ended.insert(id, how);
        inner.ended_order.push_back(id);
        while inner.ended_order.len() > self.cap {
            if let Some(old) = inner.ended_order.pop_front() {
                inner.ended.remove(&old);
            }
        }
    }

    /// Takes the reservation `id` out to finish it. `same_user` is asked
    /// whether the username given to finish (if any) is the reserved one;
    /// on `false` the reservation stays open.
    pub fn take(
        &self,
        id: Option<Id>,
        same_user: impl FnOnce(&Ticket) -> bool,
    ) -> Result<Ticket, TakeError> {
        let id = id.ok_or(TakeError::Unknown)?;
        let mut inner = self.lock();
        let Some(pending) = inner.pending.get(&id) else {
            return Err(inner
                .ended
                .get(&id)
                .map_or(TakeError::Unknown, |how| TakeError::Ended(*how)));
        };
        if !same_user(&pending.ticket) {
            return Err(TakeError::OtherUser);
        }
        let Some(pending) = inner.pending.remove(&id) else {
            return Err(TakeError::Unknown);
        };
        inner.deadlines.remove(&(pending.deadline, id));
        self.remember(&mut inner, id, Ended::Finished);
        Ok(pending.ticket)
    }

    /// Takes out up to `max` reservations whose deadline has passed.
    pub fn expired(&self, now: Instant, max: usize) -> Vec<Ticket> {
        let mut inner = self.lock();
        let mut out = Vec::new();
        while out.len() < max {
            let Some(&(deadline, id)) = inner.deadlines.first() else {
                break;
            };
            if deadline > now {
                break;
            }
            inner.deadlines.pop_first();
            if let Some(p) = inner.pending.remove(&id) {
                out.push(p.ticket);
                self.remember(&mut inner, id, Ended::Expired);
            }
        }
        out
    }
}

/// Finishes expired reservations as failures until the table is dropped.
pub fn spawn_sweeper(table: &Arc<Reservations>) {
    let weak: Weak<Reservations> = Arc::downgrade(table);
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("axes serve: no runtime; API reservations will not expire");
        return;
    };
    handle.spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(table) = weak.upgrade() else { break };
            let expired = table.expired(Instant::now(), SWEEP_BATCH);
            drop(table);
            for ticket in expired {
                tracing::info!(
                    "axes serve: an API reservation was not finished in time; counted as a failure"
                );
                let _ = ticket.failed().await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use axes_core::{Attempt, Axes, Handler, Settings};

    fn axes() -> Axes {
        Axes::builder(Settings {
            handler: Handler::Memory,
            failure_limit: 100,
            ..Settings::default()
        })
        .build()
        .unwrap()
    }

    async fn ticket(axes: &Axes, user: &str) -> Ticket {
        let a = Attempt::new()
            .ip_address("203.0.113.9".parse().unwrap())
            .username(user);
        axes.begin(&a).await.unwrap()
    }

    #[test]
    fn ids_are_32_hex_digits_and_parse_back() {
        let id = Id::random().unwrap();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(Id::parse(&text), Some(id));
        for bad in [
            "",
            "xyz",
            &text.to_uppercase(),
            &format!("{text}0"),
            &text[1..],
        ] {
            if bad != text {
                assert_eq!(Id::parse(bad), None, "{bad}");
            }
        }
        assert_ne!(Id::random(), Id::random());
    }

    #[tokio::test]
    async fn a_full_table_refuses_and_never_drops_an_open_reservation() {
        let axes = axes();
        let table = Reservations::new(2, Duration::from_secs(60));
        let a = table
            .promise()
            .unwrap()
            .insert(ticket(&axes, "a").await)
            .unwrap();
        let held = table.promise().unwrap();
        assert!(table.promise().is_none(), "a promised slot counts");
        drop(held);
        let b = table
            .promise()
            .unwrap()
            .insert(ticket(&axes, "b").await)
            .unwrap();
        assert!(table.promise().is_none());
        assert_eq!(table.len(), 2);
        // Both still finish.
        table.take(Some(a), |_| true).unwrap().succeeded().await;
        assert!(table.promise().is_some());
        table.take(Some(b), |_| true).unwrap().succeeded().await;
    }

    #[tokio::test]
    async fn finishing_twice_or_an_unknown_id_are_told_apart() {
        let axes = axes();
        let table = Reservations::new(4, Duration::from_secs(60));
        let id = table
            .promise()
            .unwrap()
            .insert(ticket(&axes, "a").await)
            .unwrap();
        assert_eq!(
            table.take(Some(id), |_| false).unwrap_err(),
            TakeError::OtherUser
        );
        table.take(Some(id), |_| true).unwrap().succeeded().await;
        assert_eq!(
            table.take(Some(id), |_| true).unwrap_err(),
            TakeError::Ended(Ended::Finished)
        );
        assert_eq!(
            table
                .take(Id::parse(&"0".repeat(32)), |_| true)
                .unwrap_err(),
            TakeError::Unknown
        );
        assert_eq!(table.take(None, |_| true).unwrap_err(), TakeError::Unknown);
    }

    #[tokio::test]
    async fn expiry_takes_out_only_overdue_reservations_in_bounded_batches() {
        let axes = axes();
        let table = Reservations::new(10, Duration::from_secs(5));
        let mut ids = Vec::new();
        for i in 0..3 {
            let t = ticket(&axes, &format!("u{i}")).await;
            ids.push(table.promise().unwrap().insert(t).unwrap());
        }
        assert!(table.expired(Instant::now(), 10).is_empty());
        let later = Instant::now() + Duration::from_secs(6);
        let first = table.expired(later, 2);
        assert_eq!(first.len(), 2);
        let rest = table.expired(later, 2);
        assert_eq!(rest.len(), 1);
        assert_eq!(table.len(), 0);
        for t in first.into_iter().chain(rest) {
            let _ = t.failed().await;
        }
        for id in ids {
            assert_eq!(
                table.take(Some(id), |_| true).unwrap_err(),
                TakeError::Ended(Ended::Expired)
            );
        }
    }

    #[tokio::test]
    async fn the_memory_of_ended_ids_is_bounded() {
        let axes = axes();
        let table = Reservations::new(2, Duration::from_secs(60));
        let mut ids = Vec::new();
        for i in 0..5 {
            let id = table
                .promise()
                .unwrap()
                .insert(ticket(&axes, &format!("u{i}")).await)
                .unwrap();
            table.take(Some(id), |_| true).unwrap().succeeded().await;
            ids.push(id);
        }
        assert_eq!(table.lock().ended.len(), 2);
        assert_eq!(
            table.take(Some(ids[0]), |_| true).unwrap_err(),
            TakeError::Unknown
        );
        assert_eq!(
            table.take(Some(ids[4]), |_| true).unwrap_err(),
            TakeError::Ended(Ended::Finished)
        );
    }
}
