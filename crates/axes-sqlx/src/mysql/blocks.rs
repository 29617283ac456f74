//! Blocks on MySQL / MariaDB: the statements (times are DATETIME(6) in UTC;
//! positional placeholders, so a value used twice is bound twice) and
//! `record_lockout`, which holds a named lock on its target.

use sqlx::Connection as _;

use super::{MySqlStore, ok};
use crate::guard::CloseGuard;

/// The blocks on the seven candidate keys, by the unique key
/// (`axes_blocks_key`): `[both kinds, manual only]`.
pub(crate) const LOOKUP_BLOCKS: [&str; 2] =
    crate::blocks::lookup_blocks!("`until`", "(?, ?, ?, ?, ?, ?, ?)");

/// Not a locking read: the named lock serialises the lockouts of a target,
/// and a locking read of a missing row would take a gap lock that
/// deadlocks the inserts of two new targets.
const LOCKOUT_ROW: &str =
    crate::blocks::block_select!("`until`", "kind = 'lockout' AND target_key = ?");

const PUT_BLOCK: &str = "INSERT INTO axes_blocks \
    (kind, target_key, ip_address, username, user_agent, `until`, created_at, created_by, lockouts) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
    ON DUPLICATE KEY UPDATE \
    ip_address = VALUES(ip_address), username = VALUES(username), \
    user_agent = VALUES(user_agent), `until` = VALUES(`until`), \
    created_at = VALUES(created_at), created_by = VALUES(created_by), \
    lockouts = VALUES(lockouts)";

const REMOVE_BLOCK: &str = "DELETE FROM axes_blocks WHERE kind = ? AND target_key = ?";

/// Binds kind, ip twice, username twice.
const RESET_BLOCKS: &str = "DELETE FROM axes_blocks WHERE kind = ? \
    AND (? IS NULL OR ip_address = ?) AND (? IS NULL OR username = ?)";

const PURGE_BLOCKS: &str = "DELETE FROM axes_blocks \
    WHERE `until` IS NOT NULL AND `until` <= ? AND (kind = 'manual' OR `until` <= ?)";

/// Binds kind ×2, ip ×2, username ×2, search pattern ×5, since ×2, until ×2.
macro_rules! filter {
    () => {
        "(? IS NULL OR kind = ?) AND (? IS NULL OR ip_address = ?) \
         AND (? IS NULL OR username = ?) \
         AND (? IS NULL OR LOWER(ip_address) LIKE ? ESCAPE '!' \
              OR LOWER(username) LIKE ? ESCAPE '!' OR LOWER(user_agent) LIKE ? ESCAPE '!' \
              OR LOWER(created_by) LIKE ? ESCAPE '!') \
         AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?)"
    };
}

const LIST_BLOCKS: [&str; 2] =
    crate::blocks::block_listings!("`until`", filter!(), "LIMIT ? OFFSET ?");

const COUNT_BLOCKS: &str = concat!(
    "SELECT CAST(COUNT(*) AS SIGNED) FROM axes_blocks WHERE ",
    filter!()
);

/// How many times each filter value, and the search pattern, is bound.
const FILTER_BINDS: usize = 2;
const SEARCH_BINDS: usize = 5;

crate::blocks::block_fns!(MySqlStore, sqlx::MySqlConnection, DateTime<Utc>, |t| t, ok);

crate::blocks::pooled_block_methods!(MySqlStore);

impl MySqlStore {
    /// `record_lockout`: the named lock of the target is held around the
    /// transaction, so that concurrent lockouts of one target each count.
    pub(super) async fn record_lockout_row(
        &self,
        target: &BlockTarget,
        now: DateTime<Utc>,
        escalation: &axes_core::blocks::Escalation,
    ) -> Result<Block, StoreError> {
        let lock = crate::blocks::lock_key(self.namespace().await?, &TargetCols::of(target));
        // Closed rather than reused if anything below fails or is
        // cancelled: closing the session releases its named lock.
        let mut conn = CloseGuard::new(self.pool.acquire().await.map_err(map_sqlx)?);
        self.take_lock(&mut conn, &super::lock_name(lock)).await?;
        let mut tx = conn.begin().await.map_err(map_sqlx)?;
        let row = write_lockout(&mut tx, target, now, escalation).await?;
        tx.commit().await.map_err(map_sqlx)?;
        self.release_locks(&mut conn).await?;
        conn.release();
        Ok(row)
    }
}
