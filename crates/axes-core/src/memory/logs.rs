//! The access and failure logs: bounded, with a queue per username so the
//! per-user cap of the failure log never scans the log.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::store::{AccessLogRecord, FailureLogRecord, ListQuery, Order};

/// Both logs.
#[derive(Debug, Default)]
pub(super) struct Logs {
    next_id: u64,
    pub access: BTreeMap<u64, AccessLogRecord>,
    pub failure: BTreeMap<u64, FailureLogRecord>,
    /// The failure-log ids of each username, oldest first.
    per_user: HashMap<Option<String>, VecDeque<u64>>,
}

/// A row of either log: its time and filter fields.
pub(super) trait Row: Clone {
    fn time(&self) -> DateTime<Utc>;
    fn admitted(&self, q: &ListQuery) -> bool;
}

impl Row for AccessLogRecord {
    fn time(&self) -> DateTime<Utc> {
        self.entry.attempt_time
    }
    fn admitted(&self, q: &ListQuery) -> bool {
        let k = &self.entry.key;
        q.admits(
            k.ip_address.as_deref(),
            k.username.as_deref(),
            &k.user_agent,
            self.entry.attempt_time,
        )
    }
}

impl Row for FailureLogRecord {
    fn time(&self) -> DateTime<Utc> {
        self.entry.attempt_time
    }
    fn admitted(&self, q: &ListQuery) -> bool {
        let k = &self.entry.key;
        q.admits(
            k.ip_address.as_deref(),
            k.username.as_deref(),
            &k.user_agent,
            self.entry.attempt_time,
        )
    }
}

/// The next ids of `rows` after `after` in `order` (ids grow with
/// insertion, which is time order for the rows the engine writes), at most
/// `max`.
pub(super) fn next_ids<T>(
    rows: &BTreeMap<u64, T>,
    after: Option<u64>,
    order: Order,
    max: usize,
) -> Vec<u64> {
    match (order, after) {
        (Order::OldestFirst, None) => rows.keys().take(max).copied().collect(),
        (Order::OldestFirst, Some(a)) => rows
            .range(a.saturating_add(1)..)
            .take(max)
            .map(|(k, _)| *k)
            .collect(),
        (Order::NewestFirst, None) => rows.keys().rev().take(max).copied().collect(),
        (Order::NewestFirst, Some(a)) => rows.range(..a).rev().take(max).map(|(k, _)| *k).collect(),
    }
}

impl Logs {
    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Appends a failure-log row, then drops the oldest rows of its
    /// username beyond `per_user_limit` and the oldest rows beyond `max`.
    pub fn insert_failure(
        &mut self,
        row: FailureLogRecord,
        id: u64,
        per_user_limit: u32,
        max: usize,
    ) {
        let user = row.entry.key.username.clone();
        self.failure.insert(id, row);
        let queue = self.per_user.entry(user.clone()).or_default();
        queue.push_back(id);
        let mut dropped = Vec::new();
        while queue.len() > per_user_limit as usize {
            if let Some(old) = queue.pop_front() {
                dropped.push(old);
            }
        }
        if queue.is_empty() {
            self.per_user.remove(&user);
        }
        for old in dropped {
            self.failure.remove(&old);
        }
        while self.failure.len() > max {
            if let Some((old, row)) = self.failure.pop_first() {
                self.unqueue(&row.entry.key.username, old);
            }
        }
    }

    /// Takes `id` out of the queue of `user`.
    fn unqueue(&mut self, user: &Option<String>, id: u64) {
        if let Some(queue) = self.per_user.get_mut(user) {
            if queue.front() == Some(&id) {
                queue.pop_front();
            } else if let Some(i) = queue.iter().position(|x| *x == id) {
                queue.remove(i);
            }
            if queue.is_empty() {
                self.per_user.remove(user);
            }
        }
    }

    /// Deletes the failure-log row `id`.
    pub fn remove_failure(&mut self, id: u64) -> bool {
        match self.failure.remove(&id) {
            Some(row) => {
                self.unqueue(&row.entry.key.username, id);
                true
            }
            None => false,
        }
    }
}
