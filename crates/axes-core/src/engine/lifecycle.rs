//! Lifecycle events: resets, the unlocks they cause, and lockouts that
//! expire in a purge (see [`EventKind`] for exactly when each fires).

use super::Axes;
use crate::error::Error;
use crate::events::{Event, EventKind, UNLOCK_SCAN};
use crate::store::{AttemptRecord, ListQuery, Order, RecordKey, ResetFilter};

impl Axes {
    fn emit_key(&self, kind: EventKind, key: &RecordKey, failures: u32, removed: Option<u64>) {
        self.inner.events.emit(Event {
            kind,
            username: key.username.clone(),
            ip_address: key.ip_address.clone(),
            path: String::new(),
            failures,
            failure_limit: self.inner.settings.failure_limit,
            retry_after: None,
            refused: false,
            time: self.now(),
            removed,
        });
    }

    /// The keys among `records` whose client is locked out now, with the
    /// failures counted (nothing when no one listens: it costs store calls).
    async fn locked_keys(&self, records: &[AttemptRecord]) -> Vec<(RecordKey, u32)> {
        let mut out: Vec<(RecordKey, u32)> = Vec::new();
        if !self.inner.events.has_subscribers() {
            return out;
        }
        for r in records.iter().take(UNLOCK_SCAN as usize) {
            if out.iter().any(|(k, _)| *k == r.key) {
                continue;
            }
            if let Ok(s) = self.lockout_status(&r.key).await
                && s.is_locked()
            {
                out.push((r.key.clone(), s.check.failures));
            }
        }
        out
    }

    /// Emits `unlocked` for each key that was locked before and is not now.
    async fn emit_unlocked(&self, before: Vec<(RecordKey, u32)>) {
        for (key, failures) in before {
            if let Ok(s) = self.lockout_status(&key).await
                && !s.is_locked()
            {
                tracing::info!("axes: lockout lifted by a reset ({failures} failures)");
                self.emit_key(EventKind::Unlocked, &key, failures, None);
            }
        }
    }

    /// Records matching a reset filter, newest first, at most [`UNLOCK_SCAN`].
    async fn matching(&self, filter: &ResetFilter) -> Vec<AttemptRecord> {
        if !self.inner.events.has_subscribers() {
            return Vec::new();
        }
        let query = ListQuery {
            ip_address: filter.ip_address.clone(),
            username: filter.username.clone(),
            order: Order::NewestFirst,
            limit: UNLOCK_SCAN,
            ..ListQuery::all()
        };
        match self.call(self.inner.store.list_attempts(&query)).await {
            Ok(page) => page.items,
            Err(_) => Vec::new(),
        }
    }

    pub(super) async fn reset_with_events(&self, filter: &ResetFilter) -> Result<u64, Error> {
        let before = self.locked_keys(&self.matching(filter).await).await;
        let n = self.call(self.inner.store.reset(filter)).await?;
        tracing::info!(removed = n, "axes: reset access attempts");
        let rows = self
            .call(
                self.inner
                    .store
                    .reset_blocks(crate::blocks::BlockKind::Lockout, filter),
            )
            .await?;
        if rows > 0 {
            tracing::info!(removed = rows, "axes: reset lockout history");
        }
        if self.inner.events.has_subscribers() {
            let key = RecordKey {
                scope: String::new(),
                username: filter.username.clone(),
                ip_address: filter.ip_address.clone(),
                user_agent: String::new(),
            };
            self.emit_key(EventKind::Reset, &key, 0, Some(n));
            self.emit_unlocked(before).await;
        }
        Ok(n)
    }

    pub(super) async fn delete_with_events(&self, ids: &[String]) -> Result<u64, Error> {
        let mut records = Vec::new();
        if self.inner.events.has_subscribers() {
            for id in ids.iter().take(UNLOCK_SCAN as usize) {
                if let Ok(Some(r)) = self.get_attempt(id).await {
                    records.push(r);
                }
            }
        }
        let before = self.locked_keys(&records).await;
        let n = self.call(self.inner.store.delete_attempts(ids)).await?;
        if n > 0 {
            tracing::info!(removed = n, "axes: deleted access attempts");
        }
        if self.inner.events.has_subscribers() {
            let any = RecordKey {
                scope: String::new(),
                username: None,
                ip_address: None,
                user_agent: String::new(),
            };
            self.emit_key(EventKind::Reset, &any, 0, Some(n));
            self.emit_unlocked(before).await;
        }
        Ok(n)
    }

    pub(super) async fn purge_with_events(&self, window: chrono::Duration) -> Result<u64, Error> {
        let cutoff = self.now() - window;
        // Records that alone reached the limit and are about to go.
        let mut expiring = Vec::new();
        if self.inner.events.has_subscribers() {
            let query = ListQuery {
                until: Some(cutoff),
                order: Order::OldestFirst,
                limit: UNLOCK_SCAN,
                ..ListQuery::all()
            };
            if let Ok(page) = self.call(self.inner.store.list_attempts(&query)).await {
                for r in page.items {
                    let limit = match self.rule_of_scope(&r.key.scope) {
                        Some(rule) => rule.failure_limit,
                        None => self.limit_for(&self.prepared_of(&r.key)),
                    };
                    if r.failures >= limit {
                        expiring.push(r);
                    }
                }
            }
        }
        let n = self.call(self.inner.store.purge_attempts(cutoff)).await?;
        for r in expiring {
            // Only those the purge did remove (not refreshed meanwhile).
            if let Ok(None) = self.get_attempt(&r.id).await {
                self.emit_key(EventKind::Expired, &r.key, r.failures, None);
            }
        }
        Ok(n)
    }
}
