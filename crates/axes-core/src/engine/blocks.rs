//! Manual blocks: an operator refuses an IP, a username or the pair at once
//! (`axes block`, the admin UI, the service API), until `unblock` or for a
//! while. See [`crate::blocks`].

use std::time::Duration;

use super::{Axes, Lockout, LockoutReason, Prepared};
use crate::blocks::{Block, BlockKind, BlockTarget};
use crate::error::Error;
use crate::events::{Event, EventKind};
use crate::parameters::LockoutParameters;
use crate::store::{Failures, ListQuery, Page};

/// The longest `created_by` kept (characters).
const MAX_BY: usize = 64;

impl Axes {
    /// The canonical target of operator-given values: an IP (canonical,
    /// IPv6 by `ipv6_prefix`), a username (normalised), or both (the pair).
    /// Neither, a malformed IP, an IPv6 network wider than `ipv6_prefix`,
    /// an empty username, or an IP while `store_ip_address` is off are
    /// input errors.
    pub fn block_target(
        &self,
        ip: Option<&str>,
        username: Option<&str>,
    ) -> Result<BlockTarget, Error> {
        if ip.is_some() && !self.settings().store_ip_address {
            return Err(Error::InvalidInput(
                "store_ip_address = false: axes keeps no IP addresses, so it cannot block one"
                    .into(),
            ));
        }
        if let Some(net) = ip.and_then(|t| t.trim().parse::<ipnet::Ipv6Net>().ok()) {
            // A client is counted (and blocked) by its address's network
            // of `ipv6_prefix` bits (an IPv4-mapped one by its IPv4
            // address): a wider network would silently become its first
            // such network, blocking far less than asked.
            let kept = if net.addr().to_ipv4_mapped().is_some() {
                128
            } else {
                self.settings().ipv6_prefix.min(128)
            };
            if net.prefix_len() < kept {
                return Err(Error::InvalidInput(format!(
                    "{net} is wider than the /{kept} networks axes counts IPv6 clients by \
                     (ipv6_prefix): block an address or a /{kept} network"
                )));
            }
        }
        let filter = self.reset_filter(ip, username)?;
        BlockTarget::new(filter.ip_address, filter.username, None)
            .ok_or_else(|| Error::InvalidInput("give an IP address, a username, or both".into()))
    }

    /// Blocks `ip`, `username`, or the pair (both given) at once: every
    /// attempt that matches is refused before its credentials are checked,
    /// and nothing is counted, until [`Axes::unblock`] — or for `duration`.
    /// `by` names who set it (kept, bounded, in the block). Setting a block
    /// on a target that has one replaces it.
    pub async fn block(
        &self,
        ip: Option<&str>,
        username: Option<&str>,
        duration: Option<Duration>,
        by: &str,
    ) -> Result<Block, Error> {
        let target = self.block_target(ip, username)?;
        let now = self.now();
        let until = match duration {
            None => None,
            Some(d) if d.is_zero() => {
                return Err(Error::InvalidInput(
                    "a block must last longer than zero".into(),
                ));
            }
            Some(d) => Some(
                chrono::Duration::from_std(d)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .filter(|u| *u - now <= chrono::Duration::days(36_525))
                    .ok_or_else(|| {
                        Error::InvalidInput("a block can last at most 100 years".into())
                    })?,
            ),
        };
        let block = Block {
            kind: BlockKind::Manual,
            target,
            until,
            created_at: now,
            created_by: by
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_BY)
                .collect(),
            lockouts: 0,
        };
        self.call(self.inner.store.put_block(&block)).await?;
        self.emit_block(EventKind::Blocked, &block.target, block.until);
        tracing::warn!(
            "axes: blocked {} (by {:?}{})",
            block.target,
            block.created_by,
            match block.until {
                Some(u) => format!(", until {}", u.to_rfc3339()),
                None => String::new(),
            }
        );
        Ok(block)
    }

    /// Lifts the manual block of exactly this target (`ip`, `username`, or
    /// the pair). Whether there was one.
    pub async fn unblock(&self, ip: Option<&str>, username: Option<&str>) -> Result<bool, Error> {
        let target = self.block_target(ip, username)?;
        let removed = self
            .call(self.inner.store.remove_block(BlockKind::Manual, &target))
            .await?;
        if removed {
            tracing::warn!("axes: unblocked {target}");
            self.emit_block(EventKind::Unblocked, &target, None);
        }
        Ok(removed)
    }

    /// Lists block rows (manual blocks and lockout history; `kind` narrows),
    /// expired ones included: [`Block::refuses`] tells which refuse now.
    pub async fn list_blocks(
        &self,
        kind: Option<BlockKind>,
        query: &ListQuery,
    ) -> Result<Page<Block>, Error> {
        Ok(self.call(self.inner.store.list_blocks(kind, query)).await?)
    }

    /// The manual block on exactly `target` that refuses at `now`, if any.
    ///
    /// With `lock_out_at_failure = false` lockout history refuses nothing
    /// (the setting means "count and log, never refuse"), but a store
    /// answers only the longest-lasting refusing row among the candidates,
    /// which may be a history row hiding a manual block on the same target.
    /// The engine then asks here, and asks the store again without that
    /// target. Only history left from when refusing was on (or written by
    /// another instance) takes this path; it pages through the manual
    /// blocks that share the target's IP and username.
    pub(super) async fn manual_block_on(
        &self,
        target: &BlockTarget,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Block>, crate::error::StoreError> {
        let mut q = ListQuery {
            ip_address: target.ip_address.clone(),
            username: target.username.clone(),
            limit: ListQuery::MAX_LIMIT,
            ..ListQuery::default()
        };
        loop {
            let page = self
                .call(self.inner.store.list_blocks(Some(BlockKind::Manual), &q))
                .await?;
            if let Some(b) = page
                .items
                .iter()
                .find(|b| b.kind == BlockKind::Manual && b.target == *target && b.refuses(now))
            {
                return Ok(Some(b.clone()));
            }
            let seen = q.offset.saturating_add(page.items.len() as u64);
            if page.items.is_empty() || seen >= page.total {
                return Ok(None);
            }
            q.offset = seen;
        }
    }

    /// The block targets an attempt with `key` is looked up under
    /// ([`BlockTarget::candidates`]); none, without allocating, when the
    /// store holds no block rows ([`crate::Store::may_have_blocks`]).
    pub(super) fn block_candidates(&self, key: &crate::store::RecordKey) -> Vec<BlockTarget> {
        if self.inner.store.may_have_blocks() {
            BlockTarget::candidates(key)
        } else {
            Vec::new()
        }
    }

    /// Emits `blocked` or `unblocked` for `target`.
    fn emit_block(
        &self,
        kind: EventKind,
        target: &BlockTarget,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        if !self.inner.events.has_subscribers() {
            return;
        }
        let now = self.now();
        self.inner.events.emit(Event {
            kind,
            username: target.username.clone(),
            ip_address: target.ip_address.clone(),
            path: String::new(),
            failures: 0,
            failure_limit: self.inner.settings.failure_limit,
            retry_after: until.map(|u| secs_until(u, now)),
            refused: false,
            time: now,
            removed: None,
        });
    }

    /// The refusal by a manual block: [`LockoutReason::Blocked`], until
    /// the block's end (the cool-off message) or until unblocked (the
    /// permanent-lockout message).
    pub(super) fn blocked_lockout(
        &self,
        p: &Prepared,
        block: &Block,
        failures: &Failures,
        limit: u32,
    ) -> Lockout {
        let s = &self.inner.settings;
        let retry_after = block.until.map(|u| remaining(u, self.now()));
        Lockout {
            reason: LockoutReason::Blocked,
            username: p.given_username.clone(),
            failures: failures.max(),
            failure_limit: limit,
            cooloff: None,
            retry_after,
            message: match retry_after {
                Some(_) => s.cooloff_message.clone(),
                None => s.permalock_message.clone(),
            },
        }
    }

    /// A lockout for too many failures that lasts as long as the longest of
    /// the count (when `reached`: a cool-off after the latest failure, or
    /// until a reset without a cool-off) and the lockout rows `rows`
    /// (progressive cool-off; a row without `until`: until a reset).
    pub(super) fn escalated_lockout(
        &self,
        p: &Prepared,
        failures: &Failures,
        limit: u32,
        reached: bool,
        rows: &[Block],
    ) -> Lockout {
        let s = &self.inner.settings;
        let now = self.now();
        let mut l = self.lockout(p, LockoutReason::TooManyFailures, failures, limit);
        if !reached {
            l.retry_after = Some(std::time::Duration::ZERO);
        }
        for row in rows {
            match (row.until, l.retry_after) {
                (_, None) => break,
                (None, Some(_)) => l.retry_after = None,
                (Some(u), Some(by_count)) => {
                    let left = remaining(u, now);
                    if left > by_count {
                        l.retry_after = Some(left);
                        l.cooloff = (u - row.created_at).to_std().ok();
                    }
                }
            }
        }
        match l.retry_after {
            Some(_) => l.message = s.cooloff_message.clone(),
            None => {
                l.cooloff = None;
                l.message = s.permalock_message.clone();
            }
        }
        l
    }

    /// Records one more lockout of each alternative of `parameters` that
    /// reached `limit` in `failures` (progressive cool-off, permanent
    /// lockout), when either is configured; returns the rows as written. A
    /// store error is logged: the lockout then lasts what the count says,
    /// never less.
    pub(super) async fn record_lockouts(
        &self,
        p: &Prepared,
        parameters: &LockoutParameters,
        failures: &Failures,
        limit: u32,
    ) -> Vec<Block> {
        let Some(escalation) = self.inner.settings.escalation(self.window_for(p)) else {
            return Vec::new();
        };
        let now = self.now();
        let mut rows = Vec::new();
        for (alt, count) in parameters
            .alternatives()
            .iter()
            .zip(&failures.per_alternative)
        {
            if count.failures < limit {
                continue;
            }
            let Some(target) = BlockTarget::of_alternative(&p.key, alt) else {
                continue;
            };
            match self
                .call(self.inner.store.record_lockout(&target, now, &escalation))
                .await
            {
                Ok(row) => {
                    match row.until {
                        None => tracing::warn!(
                            "axes: lockout {} of {} within lockout_memory: locked out until a reset",
                            row.lockouts,
                            row.target
                        ),
                        Some(u) if u > now => tracing::warn!(
                            "axes: lockout {} of {} within lockout_memory: locked out until {}",
                            row.lockouts,
                            row.target,
                            u.to_rfc3339()
                        ),
                        Some(_) => {}
                    }
                    rows.push(row);
                }
                Err(e) => tracing::warn!(
                    "axes: could not record the lockout of {target} ({e}); it lasts its cool-off"
                ),
            }
        }
        rows
    }

    /// Forgets the lockout history of each alternative of `parameters` for
    /// `key` (a successful login with `reset_on_success`), when the
    /// progressive cool-off or the permanent lockout is configured.
    pub(super) async fn forget_lockouts(&self, p: &Prepared, parameters: &LockoutParameters) {
        if self.inner.settings.escalation(None).is_none() {
            return;
        }
        for alt in parameters.alternatives() {
            if let Some(target) = BlockTarget::of_alternative(&p.key, alt)
                && let Err(e) = self
                    .call(self.inner.store.remove_block(BlockKind::Lockout, &target))
                    .await
            {
                tracing::warn!("axes: could not forget the lockouts of {target}: {e}");
            }
        }
    }
}

/// The time from `now` to `until` (zero when it has passed).
fn remaining(
    until: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> std::time::Duration {
    (until - now).to_std().unwrap_or(std::time::Duration::ZERO)
}

/// [`remaining`] in whole seconds, rounded up.
fn secs_until(until: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> u64 {
    let d = remaining(until, now);
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
