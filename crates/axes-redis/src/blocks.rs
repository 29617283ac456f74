//! Blocks: manual blocks and lockout history (see [`axes_core::blocks`]).
//!
//! One hash per (kind, target) row, `{p}blk:{m|l}:{member}`, the member
//! being the target's three fields encoded ([`crate::keys::block_member`]);
//! one sorted set per kind (`{p}blocks:manual`, `{p}blocks:lockout`) of the
//! members by `created_at`. Hash fields: `c` created_at (µs), `n` until
//! (µs; absent = forever), `b` created_by, `l` lockouts, and `i`, `u`, `a`
//! the target's IP, username and user agent (absent when not named).
//!
//! The look-up of an attempt's blocks runs inside the reserve and failures
//! scripts (`block_check.lua`), atomically with the count: the keys of the
//! manual and the lockout row of each candidate target are passed as
//! `KEYS`, none when there are no candidates. A `manual_only` look-up (an
//! attempt from a trusted device) passes the manual rows alone, so lockout
//! history is never read for it.
//!
//! Rows get a TTL of how long they are still needed (by the caller's
//! clock) plus a grace ([`block_ttl_millis`]): a manual row until its
//! `until`; a lockout row until its memory ends (`until + lockout_memory`:
//! the memory runs from the end of the latest lockout). Rows that last forever (and
//! lockout rows written by [`Store::put_block`](axes_core::store::Store),
//! whose memory the store does not know) have none; `purge_blocks` removes
//! them once they are no longer needed. Members whose row has expired are
//! dropped by every reader of the index that meets them, and by writes: each
//! looks at three members from a cursor going round the index, so the index
//! stays bounded by the live rows even if nothing lists or purges.

use axes_core::error::StoreError;
use axes_core::store::{Block, BlockKind, BlockTarget, Escalation, ListQuery, Order, Page};
use chrono::{DateTime, Utc};
use redis::Value;

use crate::RedisStore;
use crate::error::{BlockError, corrupt, map};
use crate::keys::{Keys, block_member};
use crate::listing::{CHUNK, Fields, MAX_SCAN, fetch};
use crate::scripts;
use crate::time::{block_ttl_millis, from_micros, micros, parse_micros, score_range};

/// Both kinds, in the order a listing of all blocks reads them.
const KINDS: [BlockKind; 2] = [BlockKind::Manual, BlockKind::Lockout];

/// Attempts of `record_lockout`'s compare-and-set before it gives up.
const CAS_ATTEMPTS: usize = 32;

/// Rows per batch of a block reset or purge (one script call each).
const DELETE_BATCH: usize = 500;

/// Batches one block reset or purge may take.
const MAX_BATCHES: usize = 100_000;

/// The kinds of rows a look-up reads for each candidate target, in the
/// order their keys are passed: both, or (`manual_only`) the manual row.
fn looked_up(manual_only: bool) -> &'static [BlockKind] {
    if manual_only { &KINDS[..1] } else { &KINDS }
}

/// The row keys the reserve and failures scripts look up (`KEYS` 7…): for
/// each candidate target its manual row, then its lockout row — or, with
/// `manual_only`, its manual row alone.
pub(crate) fn candidate_keys(
    keys: &Keys,
    targets: &[BlockTarget],
    manual_only: bool,
) -> Vec<String> {
    let kinds = looked_up(manual_only);
    targets
        .iter()
        .flat_map(|t| kinds.iter().map(move |k| keys.block_row(*k, t)))
        .collect()
}

/// What a counting script answered.
pub(crate) enum Reply {
    /// A block refuses the attempt, and the integers that follow it (the
    /// counts of `failures.lua`; nothing from `reserve.lua`, which counts
    /// nothing then).
    Blocked(Block, Vec<i64>),
    /// No block refuses: the script's integers, as before blocks.
    Counts(Vec<i64>),
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

fn ints(values: &[Value]) -> Result<Vec<i64>, StoreError> {
    values
        .iter()
        .map(|v| int(v).ok_or_else(|| corrupt(format!("count script answered {v:?}"))))
        .collect()
}

fn text(v: &Value) -> Result<String, StoreError> {
    match v {
        Value::BulkString(b) => {
            String::from_utf8(b.clone()).map_err(|_| corrupt("block field is not UTF-8".to_owned()))
        }
        Value::SimpleString(s) => Ok(s.clone()),
        Value::Int(n) => Ok(n.to_string()),
        Value::Nil => Ok(String::new()),
        other => Err(corrupt(format!("unexpected block field {other:?}"))),
    }
}

/// Parses a counting script's reply: `-1, position, created_at, until,
/// created_by, lockouts` first when a block refused (see
/// `block_check.lua`), then integers. `targets` and `manual_only` are those
/// the keys were made of ([`candidate_keys`]): they map the position back
/// to a target and a kind.
pub(crate) fn parse_reply(
    reply: &[Value],
    targets: &[BlockTarget],
    manual_only: bool,
) -> Result<Reply, StoreError> {
    let Some(first) = reply.first() else {
        return Ok(Reply::Counts(Vec::new()));
    };
    if int(first) != Some(-1) {
        return ints(reply).map(Reply::Counts);
    }
    let [_, pos, c, n, b, l, rest @ ..] = reply else {
        return Err(corrupt("bad block reply from count script"));
    };
    let pos = int(pos)
        .and_then(|p| usize::try_from(p).ok())
        .and_then(|p| p.checked_sub(1))
        .ok_or_else(|| corrupt("bad block position"))?;
    let kinds = looked_up(manual_only);
    let target = targets
        .get(pos / kinds.len())
        .ok_or_else(|| corrupt(format!("block position {pos} out of range")))?;
    let until = text(n)?;
    let block = Block {
        kind: kinds[pos % kinds.len()],
        target: target.clone(),
        until: if until.is_empty() {
            None
        } else {
            Some(parse_micros(&until)?)
        },
        created_at: parse_micros(&text(c)?)?,
        created_by: text(b)?,
        lockouts: parse_lockouts(&text(l)?)?,
    };
    Ok(Reply::Blocked(block, ints(rest)?))
}

fn parse_lockouts(s: &str) -> Result<u32, StoreError> {
    s.parse::<u32>()
        .map_err(|_| corrupt(format!("bad lockout count {s:?}")))
}

/// A row as stored, from its hash.
fn parse_row(kind: BlockKind, member: &str, mut f: Fields) -> Result<Block, StoreError> {
    let created_at = parse_micros(
        f.get("c")
            .ok_or_else(|| corrupt(format!("block {member} has no created_at")))?,
    )?;
    let until = f.get("n").map(|n| parse_micros(n)).transpose()?;
    let lockouts = f.get("l").map_or(Ok(0), |l| parse_lockouts(l))?;
    let target = BlockTarget::new(f.remove("i"), f.remove("u"), f.remove("a"))
        .ok_or_else(|| corrupt(format!("block {member} has no target")))?;
    Ok(Block {
        kind,
        target,
        until,
        created_at,
        created_by: f.remove("b").unwrap_or_default(),
        lockouts,
    })
}

/// Whether `b` passes the filters of a block listing.
fn admits(q: &ListQuery, b: &Block) -> bool {
    let t = &b.target;
    if q.ip_address
        .as_deref()
        .is_some_and(|ip| t.ip_address.as_deref() != Some(ip))
        || q.username
            .as_deref()
            .is_some_and(|u| t.username.as_deref() != Some(u))
    {
        return false;
    }
    if q.since.is_some_and(|s| b.created_at < s) || q.until.is_some_and(|u| b.created_at >= u) {
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

/// The rows of one kind a listing read.
struct Scan {
    /// Matching rows, in the listing's order.
    rows: Vec<Block>,
    /// Members in the score range, less the stale ones met (unfiltered
    /// listings only).
    in_range: u64,
}

/// Truncates `t` to the microseconds the store keeps.
fn stored(t: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
    from_micros(micros(t))
}

impl RedisStore {
    /// Writes a row with `block_write.lua`; `expected` is the compare-and-set
    /// (`None`: set unconditionally; `Some((c, l, n))`: only while the row's
    /// fields are still these, `c` empty meaning no row). Whether it wrote.
    async fn write_block(
        &self,
        block: &Block,
        ttl: i64,
        expected: Option<(&str, &str, &str)>,
    ) -> Result<bool, StoreError> {
        let t = &block.target;
        let (check, (c, l, n)) = match expected {
            Some(e) => ("1", e),
            None => ("0", ("", "", "")),
        };
        let present = |v: &Option<String>| if v.is_some() { "1" } else { "0" };
        let written: i64 = scripts::BLOCK_WRITE
            .key(self.keys.block_row(block.kind, t))
            .key(self.keys.block_index(block.kind))
            .key(self.keys.block_sweep(block.kind))
            .arg(block_member(t))
            .arg(self.keys.block_row_prefix(block.kind))
            .arg(check)
            .arg(c)
            .arg(l)
            .arg(n)
            .arg(micros(block.created_at))
            .arg(
                block
                    .until
                    .map(|u| micros(u).to_string())
                    .unwrap_or_default(),
            )
            .arg(&block.created_by)
            .arg(block.lockouts)
            .arg(ttl)
            .arg(present(&t.ip_address))
            .arg(t.ip_address.as_deref().unwrap_or(""))
            .arg(present(&t.username))
            .arg(t.username.as_deref().unwrap_or(""))
            .arg(present(&t.user_agent))
            .arg(t.user_agent.as_deref().unwrap_or(""))
            .invoke_async(&mut self.con())
            .await
            .map_err(map)?;
        Ok(written == 1)
    }

    pub(crate) async fn do_put_block(&self, block: &Block) -> Result<(), StoreError> {
        if block.target.is_empty() {
            return Err(StoreError::backend(BlockError::EmptyTarget));
        }
        // A manual row is needed until its `until` (the caller's clock being
        // `created_at`); a lockout row set whole has a memory the store does
        // not know, so it stays until purged.
        let ttl = match (block.kind, block.until) {
            (BlockKind::Manual, Some(until)) => block_ttl_millis(until - block.created_at),
            _ => -1,
        };
        self.write_block(block, ttl, None).await?;
        Ok(())
    }

    pub(crate) async fn do_record_lockout(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &Escalation,
    ) -> Result<Block, StoreError> {
        if target.is_empty() {
            return Err(StoreError::backend(BlockError::EmptyTarget));
        }
        let now = stored(now)?;
        let row = self.keys.block_row(BlockKind::Lockout, target);
        let mut con = self.con();
        for _ in 0..CAS_ATTEMPTS {
            let (c, l, n): (Option<String>, Option<String>, Option<String>) = redis::cmd("HMGET")
                .arg(&row)
                .arg("c")
                .arg("l")
                .arg("n")
                .query_async(&mut con)
                .await
                .map_err(map)?;
            let old = match &c {
                None => None,
                Some(c) => Some(Block {
                    kind: BlockKind::Lockout,
                    target: target.clone(),
                    until: n.as_deref().map(parse_micros).transpose()?,
                    created_at: parse_micros(c)?,
                    created_by: String::new(),
                    lockouts: l.as_deref().map_or(Ok(0), parse_lockouts)?,
                }),
            };
            let lockouts = match &old {
                Some(o) if escalation.remembers_row(o, now) => o.lockouts.saturating_add(1),
                _ => 1,
            };
            let mut block = Block {
                kind: BlockKind::Lockout,
                target: target.clone(),
                until: escalation.until(lockouts, now).map(stored).transpose()?,
                created_at: now,
                created_by: String::new(),
                lockouts,
            };
            if let Some(o) = &old
                && o.outlasts(&block)
            {
                block.until = o.until;
            }
            // needed until the end of its memory, which runs from its until
            let ttl = match block.until {
                None => -1,
                Some(until) => block_ttl_millis(
                    (until - now).max(chrono::Duration::zero()) + escalation.memory,
                ),
            };
            let expected = (
                c.as_deref().unwrap_or(""),
                l.as_deref().unwrap_or(""),
                n.as_deref().unwrap_or(""),
            );
            if self.write_block(&block, ttl, Some(expected)).await? {
                return Ok(block);
            }
        }
        Err(StoreError::backend(BlockError::Contention {
            target: target.to_string(),
            attempts: CAS_ATTEMPTS,
        }))
    }

    pub(crate) async fn do_remove_block(
        &self,
        kind: BlockKind,
        target: &BlockTarget,
    ) -> Result<bool, StoreError> {
        if target.is_empty() {
            return Ok(false);
        }
        let n: i64 = scripts::BLOCK_REMOVE
            .key(self.keys.block_row(kind, target))
            .key(self.keys.block_index(kind))
            .arg(block_member(target))
            .invoke_async(&mut self.con())
            .await
            .map_err(map)?;
        Ok(n == 1)
    }

    /// Runs `block_delete.lua` over the index of `kind`, batch by batch.
    /// `filter`: (IP, username) of a reset; `None`: a purge at `now`.
    async fn delete_blocks(
        &self,
        kind: BlockKind,
        filter: Option<(Option<&str>, Option<&str>)>,
        max_score: Option<i64>,
        now: Option<DateTime<Utc>>,
        forget_before: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        let mut con = self.con();
        let index = self.keys.block_index(kind);
        let prefix = self.keys.block_row_prefix(kind);
        let (mode, ip, user) = match filter {
            Some((ip, user)) => ("r", ip, user),
            None => ("p", None, None),
        };
        let mut deleted: u64 = 0;
        let mut start: i64 = 0;
        for _ in 0..MAX_BATCHES {
            let reply: Vec<i64> = scripts::BLOCK_DELETE
                .key(&index)
                .arg(&prefix)
                .arg(start)
                .arg(DELETE_BATCH)
                .arg(max_score.map_or_else(|| "+inf".to_owned(), |s| s.to_string()))
                .arg(mode)
                .arg(if ip.is_some() { "1" } else { "0" })
                .arg(ip.unwrap_or(""))
                .arg(if user.is_some() { "1" } else { "0" })
                .arg(user.unwrap_or(""))
                .arg(now.map(micros).unwrap_or(0))
                .arg(
                    forget_before
                        .map(|t| micros(t).to_string())
                        .unwrap_or_default(),
                )
                .invoke_async(&mut con)
                .await
                .map_err(map)?;
            let [n, next, done] = reply.as_slice() else {
                return Err(corrupt("bad reply from block delete script"));
            };
            deleted += u64::try_from(*n).unwrap_or(0);
            if *done == 1 {
                return Ok(deleted);
            }
            start = *next;
        }
        tracing::warn!(
            kind = kind.as_str(),
            "redis block delete stopped after {MAX_BATCHES} batches"
        );
        Ok(deleted)
    }

    pub(crate) async fn do_reset_blocks(
        &self,
        kind: BlockKind,
        ip: Option<&str>,
        username: Option<&str>,
    ) -> Result<u64, StoreError> {
        self.delete_blocks(kind, Some((ip, username)), None, None, None)
            .await
    }

    pub(crate) async fn do_purge_blocks(
        &self,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let manual = self
            .delete_blocks(BlockKind::Manual, None, None, Some(now), None)
            .await?;
        // a lockout row goes only once its latest lockout (its score) is at
        // or before `forget_before`: the rest of the index is not read
        let lockout = self
            .delete_blocks(
                BlockKind::Lockout,
                None,
                Some(micros(forget_before)),
                Some(now),
                Some(forget_before),
            )
            .await?;
        Ok(manual + lockout)
    }

    /// Reads the rows of `kind` in the listing's order from rank `start`,
    /// keeping those that pass the filters, until `stop_after` of them (or
    /// [`MAX_SCAN`] members). Members whose row is gone are dropped.
    async fn scan_blocks(
        &self,
        kind: BlockKind,
        q: &ListQuery,
        start: u64,
        stop_after: u64,
        count: bool,
    ) -> Result<Scan, StoreError> {
        let mut con = self.con();
        let index = self.keys.block_index(kind);
        let prefix = self.keys.block_row_prefix(kind);
        let (min, max) = score_range(q.since, q.until);
        let mut in_range: u64 = if count {
            redis::cmd("ZCOUNT")
                .arg(&index)
                .arg(&min)
                .arg(&max)
                .query_async(&mut con)
                .await
                .map_err(map)?
        } else {
            0
        };
        let mut rows = Vec::new();
        let mut stale = Vec::new();
        let mut scanned: usize = 0;
        let mut rank = start.min(i64::MAX as u64);
        while (rows.len() as u64) < stop_after {
            let mut cmd = match q.order {
                Order::NewestFirst => {
                    let mut c = redis::cmd("ZREVRANGEBYSCORE");
                    c.arg(&index).arg(&max).arg(&min);
                    c
                }
                Order::OldestFirst => {
                    let mut c = redis::cmd("ZRANGEBYSCORE");
                    c.arg(&index).arg(&min).arg(&max);
                    c
                }
            };
            let members: Vec<String> = cmd
                .arg("LIMIT")
                .arg(rank)
                .arg(CHUNK)
                .query_async(&mut con)
                .await
                .map_err(map)?;
            let n = members.len();
            let hashes = fetch(&mut con, &prefix, &members).await?;
            for (m, fields) in members.into_iter().zip(hashes) {
                if fields.is_empty() {
                    stale.push(m);
                    continue;
                }
                let block = parse_row(kind, &m, fields)?;
                if (rows.len() as u64) < stop_after && admits(q, &block) {
                    rows.push(block);
                }
            }
            scanned += n;
            rank = rank.saturating_add(n as u64);
            if n < CHUNK {
                break;
            }
            if scanned >= MAX_SCAN {
                tracing::warn!(
                    kind = kind.as_str(),
                    scanned,
                    "redis block listing stopped after {MAX_SCAN} rows; narrow the filters"
                );
                break;
            }
        }
        if !stale.is_empty() {
            redis::cmd("ZREM")
                .arg(&index)
                .arg(&stale)
                .query_async::<()>(&mut con)
                .await
                .map_err(map)?;
        }
        in_range = in_range.saturating_sub(stale.len() as u64);
        Ok(Scan { rows, in_range })
    }

    pub(crate) async fn do_list_blocks(
        &self,
        kind: Option<BlockKind>,
        q: &ListQuery,
    ) -> Result<Page<Block>, StoreError> {
        let filtered = q.ip_address.is_some() || q.username.is_some() || q.search.is_some();
        let mut kinds: Vec<BlockKind> = match kind {
            Some(k) => vec![k],
            None => KINDS.to_vec(),
        };
        if !filtered && kinds.len() > 1 {
            // A kind with no row in range need not be merged: the other
            // one then pages in Redis (typically few manual blocks, many
            // lockout rows, or the reverse).
            let (min, max) = score_range(q.since, q.until);
            let mut p = redis::pipe();
            for &k in &kinds {
                p.cmd("ZCOUNT")
                    .arg(self.keys.block_index(k))
                    .arg(&min)
                    .arg(&max);
            }
            let counts: Vec<u64> = p.query_async(&mut self.con()).await.map_err(map)?;
            let mut n = counts.into_iter();
            kinds.retain(|_| n.next().is_some_and(|c| c > 0));
            if kinds.is_empty() {
                return Ok(Page {
                    items: Vec::new(),
                    total: 0,
                });
            }
        }
        let limit = q.bounded_limit();
        // One unfiltered kind pages in Redis; otherwise the rows are
        // filtered (and the kinds merged) here.
        let direct = !filtered && kinds.len() == 1;
        let (start, stop_after) = if direct {
            (q.offset, limit)
        } else if filtered {
            (0, u64::MAX)
        } else {
            (0, q.offset.saturating_add(limit))
        };
        let mut rows = Vec::new();
        let mut total: u64 = 0;
        for &k in &kinds {
            let scan = self.scan_blocks(k, q, start, stop_after, !filtered).await?;
            total += if filtered {
                scan.rows.len() as u64
            } else {
                scan.in_range
            };
            rows.extend(scan.rows);
        }
        if direct {
            return Ok(Page { items: rows, total });
        }
        match q.order {
            Order::NewestFirst => rows.sort_by_key(|b| std::cmp::Reverse(b.created_at)),
            Order::OldestFirst => rows.sort_by_key(|b| b.created_at),
        }
        let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let items = rows.into_iter().skip(offset).take(limit).collect();
        Ok(Page { items, total })
    }

    /// Deletes every block row and both indexes (see [`RedisStore::wipe`]).
    pub(crate) async fn drop_blocks(&self) -> Result<(), StoreError> {
        for kind in KINDS {
            self.do_reset_blocks(kind, None, None).await?;
            redis::cmd("DEL")
                .arg(self.keys.block_index(kind))
                .arg(self.keys.block_sweep(kind))
                .query_async::<()>(&mut self.con())
                .await
                .map_err(map)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ip: Option<&str>, user: Option<&str>) -> BlockTarget {
        BlockTarget {
            ip_address: ip.map(str::to_owned),
            username: user.map(str::to_owned),
            user_agent: None,
        }
    }

    #[test]
    fn block_replies_name_kind_and_target() {
        let targets = [target(Some("1.2.3.4"), None), target(None, Some("bob"))];
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let reply = [
            Value::Int(-1),
            Value::Int(4),
            bulk("1700000000000000"),
            bulk(""),
            bulk("cli"),
            bulk("3"),
        ];
        let Ok(Reply::Blocked(b, rest)) = parse_reply(&reply, &targets, false) else {
            panic!("not a block");
        };
        assert!(rest.is_empty());
        assert_eq!(b.kind, BlockKind::Lockout);
        assert_eq!(b.target, targets[1]);
        assert_eq!(b.until, None);
        assert_eq!(b.created_by, "cli");
        assert_eq!(b.lockouts, 3);
        let reply = [
            Value::Int(-1),
            Value::Int(5),
            bulk("1"),
            bulk(""),
            bulk(""),
            bulk("0"),
        ];
        assert!(parse_reply(&reply, &targets, false).is_err());
        let Ok(Reply::Counts(c)) = parse_reply(&[Value::Int(1), Value::Int(0)], &targets, false)
        else {
            panic!("not counts");
        };
        assert_eq!(c, vec![1, 0]);
    }

    #[test]
    fn manual_only_look_ups_pass_and_map_manual_rows_alone() {
        let targets = [target(Some("1.2.3.4"), None), target(None, Some("bob"))];
        let keys = Keys::new("p:");
        let all = candidate_keys(&keys, &targets, false);
        let manual = candidate_keys(&keys, &targets, true);
        assert_eq!(all.len(), 4);
        assert_eq!(
            manual,
            vec![
                keys.block_row(BlockKind::Manual, &targets[0]),
                keys.block_row(BlockKind::Manual, &targets[1]),
            ]
        );
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let reply = |pos: i64| {
            [
                Value::Int(-1),
                Value::Int(pos),
                bulk("1700000000000000"),
                bulk(""),
                bulk("cli"),
                bulk("0"),
            ]
        };
        let Ok(Reply::Blocked(b, _)) = parse_reply(&reply(2), &targets, true) else {
            panic!("not a block");
        };
        assert_eq!((b.kind, &b.target), (BlockKind::Manual, &targets[1]));
        assert!(parse_reply(&reply(3), &targets, true).is_err());
    }

    #[test]
    fn listing_filters_look_at_the_target_and_creator() {
        let b = Block {
            kind: BlockKind::Manual,
            target: target(Some("10.0.0.1"), None),
            until: None,
            created_at: DateTime::UNIX_EPOCH,
            created_by: "Alice-Admin".into(),
            lockouts: 0,
        };
        let q = |f: fn(&mut ListQuery)| {
            let mut q = ListQuery::all();
            f(&mut q);
            q
        };
        assert!(admits(&q(|_| {}), &b));
        assert!(admits(&q(|q| q.ip_address = Some("10.0.0.1".into())), &b));
        assert!(!admits(&q(|q| q.username = Some("10.0.0.1".into())), &b));
        assert!(admits(&q(|q| q.search = Some("alice".into())), &b));
        assert!(!admits(&q(|q| q.search = Some("bob".into())), &b));
    }
}
