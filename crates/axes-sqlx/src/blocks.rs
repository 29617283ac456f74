//! Blocks (manual blocks and lockout history, [`axes_core::blocks`]) in the
//! `axes_blocks` table (migration 0004): what the dialects share.
//!
//! A target's fields are stored as they are, `NULL` where the field is not
//! part of the target. Unique keys treat NULLs as distinct, so each row
//! also stores `target_key`, an unambiguous encoding of all three fields
//! ([`TargetCols::key`]); the unique key is (`kind`, `target_key`), and the
//! look-up of an attempt's candidate targets is one statement on it: `kind
//! IN ('manual', 'lockout') AND target_key IN (…seven keys…)`, or `kind =
//! 'manual' AND …` for a `manual_only` look-up ([`lookup_blocks!`]), which
//! never reads lockout history.
//!
//! Each dialect's `blocks.rs` holds its statements and expands
//! [`block_fns!`] over its connection and time types.

use axes_core::blocks::{Block, BlockKind, BlockTarget, Escalation};
use axes_core::error::StoreError;
use axes_core::store::{Failures, ReserveOutcome};
use chrono::{DateTime, Utc};

use crate::common::{IP_LEN, USER_AGENT_LEN, USERNAME_LEN, clip, micros};

/// The longest `created_by` kept (characters; the column's size).
pub(crate) const CREATED_BY_LEN: usize = 255;

/// The candidate targets one look-up statement takes: `BlockTarget::candidates`
/// gives at most this many. Fewer are padded by repeating one.
pub(crate) const LOOKUP_KEYS: usize = 7;

/// A target's columns as stored: its fields cut to the column sizes, and
/// the key that makes (`kind`, target) unique.
#[derive(Debug, Clone)]
pub(crate) struct TargetCols<'a> {
    pub ip: Option<&'a str>,
    pub username: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// Each field in the order ip address, username, user agent: its tag
    /// (`i`, `u`, `a`), then `-` when absent, or its length in characters,
    /// `:` and the value. Different targets never share a key (the lengths
    /// say where each value ends); at most 586 characters.
    pub key: String,
}

impl<'a> TargetCols<'a> {
    pub(crate) fn of(target: &'a BlockTarget) -> Self {
        let ip = target.ip_address.as_deref().map(|s| clip(s, IP_LEN));
        let username = target.username.as_deref().map(|s| clip(s, USERNAME_LEN));
        let user_agent = target
            .user_agent
            .as_deref()
            .map(|s| clip(s, USER_AGENT_LEN));
        let mut key = String::new();
        for (tag, value) in [('i', ip), ('u', username), ('a', user_agent)] {
            key.push(tag);
            match value {
                None => key.push('-'),
                Some(v) => {
                    key.push_str(&v.chars().count().to_string());
                    key.push(':');
                    key.push_str(v);
                }
            }
        }
        Self {
            ip,
            username,
            user_agent,
            key,
        }
    }

    /// The target as stored (its fields cut to the column sizes).
    pub(crate) fn target(&self) -> BlockTarget {
        BlockTarget {
            ip_address: self.ip.map(str::to_owned),
            username: self.username.map(str::to_owned),
            user_agent: self.user_agent.map(str::to_owned),
        }
    }
}

/// The keys of `targets`, [`LOOKUP_KEYS`] per look-up statement (padded by
/// repeating the first of the group). Empty for no targets: no look-up.
pub(crate) fn lookup_keys(targets: &[BlockTarget]) -> Vec<[String; LOOKUP_KEYS]> {
    targets
        .chunks(LOOKUP_KEYS)
        .map(|group| {
            let keys: Vec<String> = group.iter().map(|t| TargetCols::of(t).key).collect();
            std::array::from_fn(|i| keys.get(i).unwrap_or(&keys[0]).clone())
        })
        .collect()
}

/// A block row as the statements return it: `kind, ip_address, username,
/// user_agent, until, created_at, created_by, lockouts`, generic over the
/// dialect's time type.
pub(crate) type BlockRow<T> = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<T>,
    T,
    String,
    i64,
);

/// A stored row back to a [`Block`].
pub(crate) fn block<T>(
    row: BlockRow<T>,
    time: impl Fn(T) -> Result<DateTime<Utc>, StoreError>,
) -> Result<Block, StoreError> {
    let (kind, ip, username, user_agent, until, created_at, created_by, lockouts) = row;
    let kind = BlockKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("block of unknown kind {kind:?}")))?;
    let target = BlockTarget::new(ip, username, user_agent)
        .ok_or_else(|| StoreError::Corrupt("block row without a target".into()))?;
    Ok(Block {
        kind,
        target,
        until: until.map(&time).transpose()?,
        created_at: time(created_at)?,
        created_by,
        lockouts: u32::try_from(lockouts)
            .map_err(|_| StoreError::Corrupt(format!("block lockouts {lockouts} out of range")))?,
    })
}

/// The row `put_block` writes for `block`: its times at the stored
/// precision, `created_by` cut to the column.
pub(crate) fn stored(block: &Block) -> Block {
    Block {
        kind: block.kind,
        target: TargetCols::of(&block.target).target(),
        until: block.until.map(micros),
        created_at: micros(block.created_at),
        created_by: clip(&block.created_by, CREATED_BY_LEN).to_owned(),
        lockouts: block.lockouts,
    }
}

/// Of `blocks`, the one that refuses at `now` and lasts longest.
pub(crate) fn refusing(blocks: Vec<Block>, now: DateTime<Utc>) -> Option<Block> {
    blocks
        .into_iter()
        .filter(|b| b.refuses(now))
        .reduce(|best, b| if b.outlasts(&best) { b } else { best })
}

/// The lockout row `record_lockout` writes on `existing` (the row of
/// (`Lockout`, `target`), read in the same transaction): one lockout more
/// when the latest is remembered at `now`, else the first; `until` by the
/// escalation unless the row already refuses longer.
pub(crate) fn next_lockout(
    existing: Option<Block>,
    target: &BlockTarget,
    now: DateTime<Utc>,
    escalation: &Escalation,
) -> Block {
    let now = micros(now);
    let lockouts = match &existing {
        Some(row) if row.lockouts > 0 && escalation.remembers_row(row, now) => {
            row.lockouts.saturating_add(1)
        }
        _ => 1,
    };
    let next = Block {
        kind: BlockKind::Lockout,
        target: TargetCols::of(target).target(),
        until: escalation.until(lockouts, now).map(micros),
        created_at: now,
        created_by: String::new(),
        lockouts,
    };
    match existing {
        Some(row) if row.outlasts(&next) => Block {
            until: row.until,
            ..next
        },
        _ => next,
    }
}

/// A reservation refused by `block`: nothing counted, nothing written.
pub(crate) fn blocked(block: Block) -> ReserveOutcome {
    ReserveOutcome {
        admitted: false,
        counted: false,
        failures: Failures {
            per_alternative: Vec::new(),
            block: Some(block),
        },
        token: None,
    }
}

/// The advisory-lock key serialising `record_lockout` on one target.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn lock_key(namespace: &str, target: &TargetCols<'_>) -> u64 {
    crate::common::Fnv::new()
        .field(namespace)
        .field("axes_blocks")
        .field(&target.key)
        .finish()
}

/// A `SELECT` of the columns of a [`BlockRow`] from `axes_blocks` where
/// `$where` (then `$tail`). `$until` is the dialect's spelling of the
/// `until` column.
macro_rules! block_select {
    ($until:literal, $where:expr) => {
        $crate::blocks::block_select!($until, $where, "")
    };
    ($until:literal, $where:expr, $tail:expr) => {
        concat!(
            "SELECT kind, ip_address, username, user_agent, ",
            $until,
            ", created_at, created_by, lockouts FROM axes_blocks WHERE ",
            $where,
            $tail
        )
    };
}
pub(crate) use block_select;

/// The look-ups of the blocks on an attempt's candidate keys (`$keys`: the
/// dialect's parenthesised list of [`LOOKUP_KEYS`] placeholders), by the
/// unique key: `[both kinds, manual only]`, indexed by `manual_only`.
macro_rules! lookup_blocks {
    ($until:literal, $keys:literal) => {
        [
            $crate::blocks::block_select!(
                $until,
                concat!("kind IN ('manual', 'lockout') AND target_key IN ", $keys)
            ),
            $crate::blocks::block_select!(
                $until,
                concat!("kind = 'manual' AND target_key IN ", $keys)
            ),
        ]
    };
}
pub(crate) use lookup_blocks;

/// The listings of block rows under `$filter`, `[newest first, oldest
/// first]`, then `$paging` (the limit and offset placeholders).
macro_rules! block_listings {
    ($until:literal, $filter:expr, $paging:literal) => {
        [
            $crate::blocks::block_select!(
                $until,
                $filter,
                concat!(" ORDER BY created_at DESC, id DESC ", $paging)
            ),
            $crate::blocks::block_select!(
                $until,
                $filter,
                concat!(" ORDER BY created_at ASC, id ASC ", $paging)
            ),
        ]
    };
}
pub(crate) use block_listings;

/// Defines the block statements' runners for one sqlx dialect, over a
/// connection (`$conn`), and `list_blocks_page` of its store (`$store`), the time type bound and read (`$time`), the
/// conversion of a `DateTime<Utc>` to it (`$enc`) and back (`$dec`).
/// Expects in scope the dialect's statements — `LOOKUP_BLOCKS` (see
/// [`lookup_blocks!`]; binds the [`LOOKUP_KEYS`] keys), `LOCKOUT_ROW` (the key), `PUT_BLOCK` (kind, key,
/// ip, username, user agent, until, created_at, created_by, lockouts),
/// `REMOVE_BLOCK` (kind, key), `RESET_BLOCKS` (kind, ip, username),
/// `PURGE_BLOCKS` (now, forget_before), `LIST_BLOCKS` (`[newest first,
/// oldest first]`; kind, ip, username, search pattern, since, until, limit,
/// offset) and `COUNT_BLOCKS` (as `LIST_BLOCKS` without the paging) — and
/// `FILTER_BINDS`: how many times each filter value of `RESET_BLOCKS` and
/// the listings is bound (1 with numbered placeholders).
macro_rules! block_fns {
    ($store:ty, $conn:ty, $time:ty, $enc:expr, $dec:expr) => {
        use axes_core::blocks::{Block, BlockKind, BlockTarget};
        use axes_core::error::StoreError;
        use axes_core::store::{ListQuery, Order, Page, ResetFilter};
        use chrono::{DateTime, Utc};

        use $crate::blocks::{BlockRow, TargetCols, block};
        use $crate::common::{like_pattern, micros, paging};
        use $crate::error::map_sqlx;

        /// The block among `targets` that refuses at `now` and lasts
        /// longest (no statement for no targets); only manual blocks when
        /// `manual_only`.
        pub(super) async fn refusing_block(
            conn: &mut $conn,
            targets: &[BlockTarget],
            manual_only: bool,
            now: DateTime<Utc>,
        ) -> Result<Option<Block>, StoreError> {
            let mut found = Vec::new();
            let sql = LOOKUP_BLOCKS[usize::from(manual_only)];
            for keys in $crate::blocks::lookup_keys(targets) {
                let mut q = sqlx::query_as::<_, BlockRow<$time>>(sql);
                for key in keys {
                    q = q.bind(key);
                }
                for row in q.fetch_all(&mut *conn).await.map_err(map_sqlx)? {
                    found.push(block(row, $dec)?);
                }
            }
            Ok($crate::blocks::refusing(found, now))
        }

        /// The lockout row of `target`, as the lock taken before lets
        /// `record_lockout` read and write it.
        async fn lockout_row(
            conn: &mut $conn,
            target: &TargetCols<'_>,
        ) -> Result<Option<Block>, StoreError> {
            let row: Option<BlockRow<$time>> = sqlx::query_as(LOCKOUT_ROW)
                .bind(&target.key)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map_sqlx)?;
            row.map(|r| block(r, $dec)).transpose()
        }

        /// Inserts or replaces the row of (`block.kind`, `block.target`).
        async fn write_block(conn: &mut $conn, block: &Block) -> Result<(), StoreError> {
            let target = TargetCols::of(&block.target);
            let block = $crate::blocks::stored(block);
            sqlx::query(PUT_BLOCK)
                .bind(block.kind.as_str())
                .bind(&target.key)
                .bind(target.ip)
                .bind(target.username)
                .bind(target.user_agent)
                .bind(block.until.map($enc))
                .bind(($enc)(block.created_at))
                .bind(&block.created_by)
                .bind(i64::from(block.lockouts))
                .execute(&mut *conn)
                .await
                .map(drop)
                .map_err(map_sqlx)
        }

        /// `record_lockout` once its lock is held: reads the row, writes the
        /// next one, returns it.
        async fn write_lockout(
            conn: &mut $conn,
            target: &BlockTarget,
            now: DateTime<Utc>,
            escalation: &axes_core::blocks::Escalation,
        ) -> Result<Block, StoreError> {
            let existing = lockout_row(conn, &TargetCols::of(target)).await?;
            let next = $crate::blocks::next_lockout(existing, target, now, escalation);
            write_block(conn, &next).await?;
            Ok(next)
        }

        /// Deletes the row of (`kind`, `target`); whether there was one.
        async fn delete_block(
            conn: &mut $conn,
            kind: BlockKind,
            target: &BlockTarget,
        ) -> Result<bool, StoreError> {
            let n = sqlx::query(REMOVE_BLOCK)
                .bind(kind.as_str())
                .bind(TargetCols::of(target).key)
                .execute(&mut *conn)
                .await
                .map_err(map_sqlx)?
                .rows_affected();
            Ok(n > 0)
        }

        /// Deletes the rows of `kind` under `filter`.
        async fn delete_blocks(
            conn: &mut $conn,
            kind: BlockKind,
            filter: &ResetFilter,
        ) -> Result<u64, StoreError> {
            let mut q = sqlx::query(RESET_BLOCKS).bind(kind.as_str());
            for _ in 0..FILTER_BINDS {
                q = q.bind(filter.ip_address.as_deref());
            }
            for _ in 0..FILTER_BINDS {
                q = q.bind(filter.username.as_deref());
            }
            q.execute(&mut *conn)
                .await
                .map(|r| r.rows_affected())
                .map_err(map_sqlx)
        }

        /// Deletes the rows that refuse nothing at `now` and are no longer
        /// needed (`Store::purge_blocks`).
        async fn purge_block_rows(
            conn: &mut $conn,
            now: DateTime<Utc>,
            forget_before: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            sqlx::query(PURGE_BLOCKS)
                .bind(($enc)(micros(now)))
                .bind(($enc)(micros(forget_before)))
                .execute(&mut *conn)
                .await
                .map(|r| r.rows_affected())
                .map_err(map_sqlx)
        }

        /// One page of block rows and the total under the filters.
        async fn list_block_rows(
            conn: &mut $conn,
            kind: Option<BlockKind>,
            query: &ListQuery,
        ) -> Result<Page<Block>, StoreError> {
            let kind = kind.map(BlockKind::as_str);
            let pattern = query.search.as_deref().map(like_pattern);
            let since = query.since.map(micros).map($enc);
            let until = query.until.map(micros).map($enc);
            macro_rules! filtered {
                ($q:expr) => {{
                    let mut q = $q;
                    for _ in 0..FILTER_BINDS {
                        q = q.bind(kind);
                    }
                    for _ in 0..FILTER_BINDS {
                        q = q.bind(query.ip_address.as_deref());
                    }
                    for _ in 0..FILTER_BINDS {
                        q = q.bind(query.username.as_deref());
                    }
                    for _ in 0..SEARCH_BINDS {
                        q = q.bind(pattern.as_deref());
                    }
                    for _ in 0..FILTER_BINDS {
                        q = q.bind(since);
                    }
                    for _ in 0..FILTER_BINDS {
                        q = q.bind(until);
                    }
                    q
                }};
            }
            let (limit, offset) = paging(query.bounded_limit(), query.offset);
            let sql = match query.order {
                Order::NewestFirst => LIST_BLOCKS[0],
                Order::OldestFirst => LIST_BLOCKS[1],
            };
            let rows: Vec<BlockRow<$time>> = filtered!(sqlx::query_as::<_, BlockRow<$time>>(sql))
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_sqlx)?;
            let (total,): (i64,) = filtered!(sqlx::query_as::<_, (i64,)>(COUNT_BLOCKS))
                .fetch_one(&mut *conn)
                .await
                .map_err(map_sqlx)?;
            Ok(Page {
                items: $crate::rows::all(rows, |r| block(r, $dec))?,
                total: $crate::common::rows(total),
            })
        }

        impl $store {
            /// `Store::list_blocks`, on a pooled connection.
            pub(super) async fn list_blocks_page(
                &self,
                kind: Option<BlockKind>,
                query: &ListQuery,
            ) -> Result<Page<Block>, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
                list_block_rows(&mut conn, kind, query).await
            }
        }
    };
}
pub(crate) use block_fns;

/// The block methods of a store whose writes need no more than one
/// statement on a pooled connection (`self.pool`): PostgreSQL and MySQL.
/// Expects [`block_fns!`] expanded in the same module.
#[cfg(any(feature = "postgres", feature = "mysql"))]
macro_rules! pooled_block_methods {
    ($store:ty) => {
        impl $store {
            pub(super) async fn put_block_row(&self, block: &Block) -> Result<(), StoreError> {
                let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
                write_block(&mut conn, block).await
            }

            pub(super) async fn remove_block_row(
                &self,
                kind: BlockKind,
                target: &BlockTarget,
            ) -> Result<bool, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
                delete_block(&mut conn, kind, target).await
            }

            pub(super) async fn reset_block_rows(
                &self,
                kind: BlockKind,
                filter: &ResetFilter,
            ) -> Result<u64, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
                delete_blocks(&mut conn, kind, filter).await
            }

            pub(super) async fn purge_blocks_before(
                &self,
                now: DateTime<Utc>,
                forget_before: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
                purge_block_rows(&mut conn, now, forget_before).await
            }
        }
    };
}
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use pooled_block_methods;

/// The six block methods of `Store`, delegating to the store's
/// `put_block_row`, `record_lockout_row`, `remove_block_row`,
/// `reset_block_rows`, `list_blocks_page` and `purge_blocks_before`. For use
/// inside the store's `#[async_trait] impl Store`: written the way
/// `async_trait` writes methods (a boxed `Send` future), because a macro in
/// that impl is expanded after the attribute has run.
macro_rules! store_block_methods {
    () => {
        $crate::blocks::store_block_methods!(@one put_block, put_block_row,
            (block: &'life1 axes_core::blocks::Block), ('life1), ()
        );
        $crate::blocks::store_block_methods!(@one record_lockout, record_lockout_row,
            (
                target: &'life1 axes_core::blocks::BlockTarget,
                now: chrono::DateTime<chrono::Utc>,
                escalation: &'life2 axes_core::blocks::Escalation
            ),
            ('life1, 'life2), axes_core::blocks::Block
        );
        $crate::blocks::store_block_methods!(@one remove_block, remove_block_row,
            (kind: axes_core::blocks::BlockKind, target: &'life1 axes_core::blocks::BlockTarget),
            ('life1), bool
        );
        $crate::blocks::store_block_methods!(@one reset_blocks, reset_block_rows,
            (kind: axes_core::blocks::BlockKind, filter: &'life1 axes_core::store::ResetFilter),
            ('life1), u64
        );
        $crate::blocks::store_block_methods!(@one list_blocks, list_blocks_page,
            (kind: Option<axes_core::blocks::BlockKind>, query: &'life1 axes_core::store::ListQuery),
            ('life1), axes_core::store::Page<axes_core::blocks::Block>
        );
        $crate::blocks::store_block_methods!(@one purge_blocks, purge_blocks_before,
            (now: chrono::DateTime<chrono::Utc>, forget_before: chrono::DateTime<chrono::Utc>),
            (), u64
        );
    };
    (@one $name:ident, $inherent:ident, ($($arg:ident: $ty:ty),*), ($($life:lifetime),*), $out:ty) => {
        fn $name<'life0, $($life,)* 'async_trait>(
            &'life0 self,
            $($arg: $ty),*
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<$out, axes_core::error::StoreError>,
                    > + Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            $($life: 'async_trait,)*
            Self: 'async_trait,
        {
            Box::pin(self.$inherent($($arg),*))
        }
    };
}
pub(crate) use store_block_methods;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(ip: Option<&str>, user: Option<&str>, ua: Option<&str>) -> BlockTarget {
        BlockTarget {
            ip_address: ip.map(str::to_owned),
            username: user.map(str::to_owned),
            user_agent: ua.map(str::to_owned),
        }
    }

    #[test]
    fn target_keys_tell_every_target_apart() {
        let targets = [
            t(Some("1.2.3.4"), None, None),
            t(None, Some("1.2.3.4"), None),
            t(Some("1.2.3.4"), Some(""), None),
            t(Some("1.2.3.4"), None, Some("")),
            t(None, None, Some("")),
            t(Some("a"), Some("b:c"), None),
            t(Some("a"), Some("b"), Some("c")),
            t(Some("a1:b"), None, None),
        ];
        let keys: Vec<String> = targets.iter().map(|x| TargetCols::of(x).key).collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(keys[0], "i7:1.2.3.4u-a-");
        let long = t(
            Some(&"9".repeat(100)),
            Some(&"ü".repeat(300)),
            Some(&"x".repeat(300)),
        );
        let cols = TargetCols::of(&long);
        assert!(cols.key.chars().count() <= 600, "{}", cols.key.len());
        assert_eq!(cols.target().username.map(|u| u.chars().count()), Some(255));
    }

    #[test]
    fn lookups_take_seven_keys_each() {
        assert!(lookup_keys(&[]).is_empty());
        let one = lookup_keys(&[t(Some("1"), None, None)]);
        assert_eq!(one.len(), 1);
        assert!(one[0].iter().all(|k| k == "i1:1u-a-"));
        let many: Vec<BlockTarget> = (0..9)
            .map(|i| t(Some(&i.to_string()), None, None))
            .collect();
        let groups = lookup_keys(&many);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[1][0], "i1:7u-a-");
        assert_eq!(groups[1][6], "i1:7u-a-");
    }

    #[test]
    fn next_lockout_counts_remembered_lockouts_and_keeps_longer_blocks() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let target = t(Some("1.2.3.4"), None, None);
        let e = Escalation {
            cooloff: Some(Duration::minutes(1)),
            multiplier: 2.0,
            max: None,
            memory: Duration::hours(1),
            permanent_after: None,
        };
        let first = next_lockout(None, &target, now, &e);
        assert_eq!((first.lockouts, first.until), (1, Some(now)));
        let later = now + Duration::minutes(5);
        let second = next_lockout(Some(first.clone()), &target, later, &e);
        assert_eq!(
            (second.lockouts, second.until),
            (2, Some(later + Duration::minutes(2)))
        );
        let forgotten = next_lockout(Some(second), &target, now + Duration::hours(2), &e);
        assert_eq!(forgotten.lockouts, 1);
        let forever = Block {
            until: None,
            ..first
        };
        let kept = next_lockout(Some(forever), &target, later, &e);
        assert_eq!((kept.lockouts, kept.until), (2, None));
    }

    #[test]
    fn the_longest_refusing_block_wins() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let b = |until: Option<DateTime<Utc>>| Block {
            kind: BlockKind::Manual,
            target: t(Some("1"), None, None),
            until,
            created_at: now,
            created_by: String::new(),
            lockouts: 0,
        };
        let soon = b(Some(now + Duration::minutes(1)));
        let later = b(Some(now + Duration::minutes(2)));
        let past = b(Some(now));
        assert_eq!(
            refusing(vec![soon.clone(), later.clone(), past.clone()], now),
            Some(later)
        );
        assert_eq!(refusing(vec![past.clone()], now), None);
        assert_eq!(refusing(vec![soon, b(None), past], now), Some(b(None)));
    }
}
