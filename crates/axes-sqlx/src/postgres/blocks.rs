//! Blocks on PostgreSQL: the statements (times are TIMESTAMPTZ) and the
//! writes; `record_lockout` holds a transaction-scoped advisory lock on its
//! target.

use super::{PostgresStore, ok, sql};

/// The blocks on the candidate keys `$1..$7`, by the unique key
/// (`axes_blocks_key`): `[both kinds, manual only]`.
pub(crate) const LOOKUP_BLOCKS: [&str; 2] =
    crate::blocks::lookup_blocks!("until", "($1, $2, $3, $4, $5, $6, $7)");

const LOCKOUT_ROW: &str =
    crate::blocks::block_select!("until", "kind = 'lockout' AND target_key = $1 FOR UPDATE");

const PUT_BLOCK: &str = "INSERT INTO axes_blocks \
    (kind, target_key, ip_address, username, user_agent, until, created_at, created_by, lockouts) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
    ON CONFLICT (kind, target_key) DO UPDATE SET \
    ip_address = EXCLUDED.ip_address, username = EXCLUDED.username, \
    user_agent = EXCLUDED.user_agent, until = EXCLUDED.until, \
    created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by, \
    lockouts = EXCLUDED.lockouts";

const REMOVE_BLOCK: &str = "DELETE FROM axes_blocks WHERE kind = $1 AND target_key = $2";

const RESET_BLOCKS: &str = "DELETE FROM axes_blocks WHERE kind = $1 \
    AND ($2::TEXT IS NULL OR ip_address = $2) AND ($3::TEXT IS NULL OR username = $3)";

const PURGE_BLOCKS: &str = "DELETE FROM axes_blocks \
    WHERE until IS NOT NULL AND until <= $1 AND (kind = 'manual' OR until <= $2)";

/// $1 kind, $2 ip, $3 username, $4 search pattern, $5 since, $6 until.
macro_rules! filter {
    () => {
        "($1::TEXT IS NULL OR kind = $1) AND ($2::TEXT IS NULL OR ip_address = $2) \
         AND ($3::TEXT IS NULL OR username = $3) \
         AND ($4::TEXT IS NULL OR LOWER(ip_address) LIKE $4 ESCAPE '!' \
              OR LOWER(username) LIKE $4 ESCAPE '!' OR LOWER(user_agent) LIKE $4 ESCAPE '!' \
              OR LOWER(created_by) LIKE $4 ESCAPE '!') \
         AND ($5::TIMESTAMPTZ IS NULL OR created_at >= $5) \
         AND ($6::TIMESTAMPTZ IS NULL OR created_at < $6)"
    };
}

const LIST_BLOCKS: [&str; 2] =
    crate::blocks::block_listings!("until", filter!(), "LIMIT $7 OFFSET $8");

const COUNT_BLOCKS: &str = concat!("SELECT COUNT(*) FROM axes_blocks WHERE ", filter!());

/// Numbered placeholders: each filter value is bound once.
const FILTER_BINDS: usize = 1;
const SEARCH_BINDS: usize = 1;

crate::blocks::block_fns!(PostgresStore, sqlx::PgConnection, DateTime<Utc>, |t| t, ok);

crate::blocks::pooled_block_methods!(PostgresStore);

impl PostgresStore {
    /// `record_lockout`: one transaction holding the advisory lock of the
    /// target, so that concurrent lockouts of one target each count.
    pub(super) async fn record_lockout_row(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &axes_core::blocks::Escalation,
    ) -> Result<Block, StoreError> {
        let lock = crate::blocks::lock_key(self.namespace().await?, &TargetCols::of(target));
        let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
        sqlx::query(sql::LOCK)
            .bind(lock.cast_signed())
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        let row = write_lockout(&mut tx, target, now, escalation).await?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(row)
    }
}
