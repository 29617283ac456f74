//! Blocks on SQLite: the statements (times are INTEGER unix microseconds),
//! the writes under the writer mutex in `BEGIN IMMEDIATE` transactions, and
//! the look-up of the writer thread (rusqlite).

use super::{SqliteStore, dec, enc, writer};
use crate::blocks::{LOOKUP_KEYS, lookup_keys, refusing};

/// The blocks on the candidate keys `?1..?7`, by the unique key
/// (`axes_blocks_key`): `[both kinds, manual only]`.
pub(crate) const LOOKUP_BLOCKS: [&str; 2] =
    crate::blocks::lookup_blocks!("until", "(?1, ?2, ?3, ?4, ?5, ?6, ?7)");

/// Whether the table holds any row: one read of its first leaf, against
/// the look-up's key building and SQLite's temporary tables for its `IN`
/// lists (about 30 000 instructions a reservation in callgrind).
const ANY_BLOCK: &str = "SELECT EXISTS (SELECT 1 FROM axes_blocks)";

const LOCKOUT_ROW: &str =
    crate::blocks::block_select!("until", "kind = 'lockout' AND target_key = ?1");

const PUT_BLOCK: &str = "INSERT INTO axes_blocks \
    (kind, target_key, ip_address, username, user_agent, until, created_at, created_by, lockouts) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
    ON CONFLICT (kind, target_key) DO UPDATE SET \
    ip_address = excluded.ip_address, username = excluded.username, \
    user_agent = excluded.user_agent, until = excluded.until, \
    created_at = excluded.created_at, created_by = excluded.created_by, \
    lockouts = excluded.lockouts";

const REMOVE_BLOCK: &str = "DELETE FROM axes_blocks WHERE kind = ?1 AND target_key = ?2";

const RESET_BLOCKS: &str = "DELETE FROM axes_blocks WHERE kind = ?1 \
    AND (?2 IS NULL OR ip_address = ?2) AND (?3 IS NULL OR username = ?3)";

const PURGE_BLOCKS: &str = "DELETE FROM axes_blocks \
    WHERE until IS NOT NULL AND until <= ?1 AND (kind = 'manual' OR until <= ?2)";

/// ?1 kind, ?2 ip, ?3 username, ?4 search pattern, ?5 since, ?6 until.
macro_rules! filter {
    () => {
        "(?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR ip_address = ?2) \
         AND (?3 IS NULL OR username = ?3) \
         AND (?4 IS NULL OR LOWER(ip_address) LIKE ?4 ESCAPE '!' \
              OR LOWER(username) LIKE ?4 ESCAPE '!' OR LOWER(user_agent) LIKE ?4 ESCAPE '!' \
              OR LOWER(created_by) LIKE ?4 ESCAPE '!') \
         AND (?5 IS NULL OR created_at >= ?5) AND (?6 IS NULL OR created_at < ?6)"
    };
}

const LIST_BLOCKS: [&str; 2] =
    crate::blocks::block_listings!("until", filter!(), "LIMIT ?7 OFFSET ?8");

const COUNT_BLOCKS: &str = concat!("SELECT COUNT(*) FROM axes_blocks WHERE ", filter!());

/// Numbered placeholders: each filter value is bound once.
const FILTER_BINDS: usize = 1;
const SEARCH_BINDS: usize = 1;

crate::blocks::block_fns!(SqliteStore, sqlx::SqliteConnection, i64, enc, dec);

impl SqliteStore {
    pub(super) async fn put_block_row(&self, block: &Block) -> Result<(), StoreError> {
        let mut w = self.begin_write().await?;
        write_block(&mut w.tx, block).await?;
        w.commit().await
    }

    /// `record_lockout`: `BEGIN IMMEDIATE` is the lock.
    pub(super) async fn record_lockout_row(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &axes_core::blocks::Escalation,
    ) -> Result<Block, StoreError> {
        let mut w = self.begin_write().await?;
        let row = write_lockout(&mut w.tx, target, now, escalation).await?;
        w.commit().await?;
        Ok(row)
    }

    pub(super) async fn remove_block_row(
        &self,
        kind: BlockKind,
        target: &BlockTarget,
    ) -> Result<bool, StoreError> {
        let mut w = self.begin_write().await?;
        let removed = delete_block(&mut w.tx, kind, target).await?;
        w.commit().await?;
        Ok(removed)
    }

    pub(super) async fn reset_block_rows(
        &self,
        kind: BlockKind,
        filter: &ResetFilter,
    ) -> Result<u64, StoreError> {
        let mut w = self.begin_write().await?;
        let n = delete_blocks(&mut w.tx, kind, filter).await?;
        w.commit().await?;
        Ok(n)
    }

    pub(super) async fn purge_blocks_before(
        &self,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut w = self.begin_write().await?;
        let n = purge_block_rows(&mut w.tx, now, forget_before).await?;
        w.commit().await?;
        Ok(n)
    }
}

/// [`refusing_block`] on the writer thread's connection, inside its
/// transaction.
pub(super) fn refusing_block_on(
    c: &rusqlite::Connection,
    targets: &[BlockTarget],
    manual_only: bool,
    now: DateTime<Utc>,
) -> Result<Option<Block>, StoreError> {
    if targets.is_empty() {
        return Ok(None);
    }
    // Read in the reservation's transaction: a block another process
    // commits first is seen.
    let any: bool = c
        .prepare_cached(ANY_BLOCK)
        .and_then(|mut s| s.query_row([], |row| row.get(0)))
        .map_err(writer::map)?;
    if !any {
        return Ok(None);
    }
    let mut found = Vec::new();
    let sql = LOOKUP_BLOCKS[usize::from(manual_only)];
    for keys in lookup_keys(targets) {
        let mut statement = c.prepare_cached(sql).map_err(writer::map)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(&keys[..LOOKUP_KEYS]), |row| {
                row.try_into()
            })
            .map_err(writer::map)?;
        for row in rows {
            let row: BlockRow<i64> = row.map_err(writer::map)?;
            found.push(block(row, dec)?);
        }
    }
    Ok(refusing(found, now))
}
