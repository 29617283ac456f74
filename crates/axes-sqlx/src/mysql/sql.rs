//! The MySQL / MariaDB statements. Times are DATETIME(6) in UTC.
//!
//! Placeholders are positional (`?`): a value used twice is bound twice.

use crate::common::alternative_sql;

/// Per alternative: live failures and the last failure. Binds: threshold
/// (NULL = nothing expires), the scope, then the alternative's values. The
/// scope and values are equalities and the time a range on the
/// alternative's index (migration 0005): only live records of the scope
/// are read.
pub(super) const COUNT: [&str; 7] = alternative_sql!(
    "SELECT CAST(COALESCE(SUM(failures_since_start), 0) AS SIGNED), MAX(attempt_time) \
     FROM axes_accessattempt WHERE attempt_time > COALESCE(?, CAST('1000-01-01' AS DATETIME(6))) \
     AND scope = ? AND ",
    "?",
    "?",
    "?"
);

/// Per alternative: the newest live record, as [`crate::common::Newest`].
/// Binds as [`COUNT`].
pub(super) const NEWEST: [&str; 7] = alternative_sql!(
    "SELECT id, ip_address, username, user_agent FROM axes_accessattempt \
     WHERE attempt_time > COALESCE(?, CAST('1000-01-01' AS DATETIME(6))) AND scope = ? AND ",
    "?",
    "?",
    "?",
    " ORDER BY attempt_time DESC LIMIT 1"
);

/// A refused attempt's failure on a record that is not its own: one failure
/// more, a new serial, the last failure at the bound time (or later). Binds
/// the time, then the id.
pub(super) const REFRESH: &str = "UPDATE axes_accessattempt \
    SET failures_since_start = failures_since_start + 1, failure_serial = failure_serial + 1, \
    attempt_time = GREATEST(attempt_time, ?) WHERE id = ?";

/// Per alternative: delete the matching records of a scope. Binds the
/// scope, then the alternative's values.
pub(super) const DELETE_MATCHING: [&str; 7] = alternative_sql!(
    "DELETE FROM axes_accessattempt WHERE scope = ? AND ",
    "?",
    "?",
    "?"
);

/// The record's time before a reservation's upsert. Binds the key (its
/// scope last).
///
/// Not a locking read: on a missing record InnoDB would take a gap lock,
/// and two reservations of new clients in one gap would deadlock on their
/// inserts. Other reservations of this key wait on the named locks; a
/// give-back racing in between can only make this time later than the
/// record's (a restore) or delete the record (the upsert then creates it
/// and the time is not used), so the token stays on the safe side.
pub(super) const OWN_TIME: &str = "SELECT attempt_time FROM axes_accessattempt \
    WHERE ip_address = ? AND username = ? AND user_agent = ? AND scope = ?";

/// Adds one failure; an expired record restarts at one, as a new generation.
/// Every failure gets the next serial. Binds the key, details, time and
/// scope, then the threshold four times. The assignments run left to right and see
/// earlier ones, so the generation and the count are set before the time.
pub(super) const UPSERT: &str = "INSERT INTO axes_accessattempt \
    (ip_address, username, user_agent, http_accept, path_info, get_data, post_data, failures_since_start, attempt_time, generation, failure_serial, scope) \
    VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, 0, 1, ?) \
    ON DUPLICATE KEY UPDATE \
    generation = IF(? IS NOT NULL AND attempt_time <= ?, generation + 1, generation), \
    failures_since_start = IF(? IS NOT NULL AND attempt_time <= ?, 1, failures_since_start + 1), \
    failure_serial = failure_serial + 1, \
    attempt_time = GREATEST(attempt_time, VALUES(attempt_time)), \
    http_accept = VALUES(http_accept), path_info = VALUES(path_info), \
    get_data = VALUES(get_data), post_data = VALUES(post_data)";

/// The record after the upsert, as [`crate::common::Upserted`]. Binds as
/// [`OWN_TIME`].
pub(super) const UPSERTED: &str = "SELECT id, generation, failure_serial, \
    CAST(failures_since_start AS SIGNED), attempt_time FROM axes_accessattempt \
    WHERE ip_address = ? AND username = ? AND user_agent = ? AND scope = ? FOR UPDATE";

/// A give-back: takes one failure off the record of the key if it is still
/// the generation the token names, and puts its time back to the time before
/// the reservation (NULL: keep it) when no failure was counted since (serial
/// and time still the reservation's). Binds: the time before, the serial,
/// the reservation's time, the time before again, then id, generation and
/// the key (its scope last).
pub(super) const GIVE_BACK: &str = "UPDATE axes_accessattempt \
    SET failures_since_start = failures_since_start - 1, \
    attempt_time = IF(? IS NOT NULL AND failure_serial = ? AND attempt_time = ?, ?, attempt_time) \
    WHERE id = ? AND generation = ? AND ip_address = ? AND username = ? AND user_agent = ? \
    AND scope = ? AND failures_since_start > 0";

/// Then deletes it if that left it empty. Binds id and generation.
pub(super) const DELETE_EMPTY: &str = "DELETE FROM axes_accessattempt \
    WHERE id = ? AND generation = ? AND failures_since_start <= 0";

/// Every scope. Binds ip twice, username twice.
pub(super) const RESET: &str = "DELETE FROM axes_accessattempt \
    WHERE (? IS NULL OR ip_address = ?) AND (? IS NULL OR username = ?)";

pub(super) const PURGE: &str = "DELETE FROM axes_accessattempt WHERE attempt_time <= ?";

pub(super) const DELETE_ATTEMPT: &str = "DELETE FROM axes_accessattempt WHERE id = ?";
pub(super) const DELETE_ACCESS_LOG: &str = "DELETE FROM axes_accesslog WHERE id = ?";
pub(super) const DELETE_FAILURE_LOG: &str = "DELETE FROM axes_accessfailurelog WHERE id = ?";

/// Takes one named lock of this session, waiting up to `?` seconds:
/// 1 taken, 0 timed out, NULL error.
pub(super) const GET_LOCK: &str = "SELECT CAST(GET_LOCK(?, ?) AS SIGNED)";
pub(super) const RELEASE_LOCKS: &str = "SELECT CAST(RELEASE_ALL_LOCKS() AS SIGNED)";

/// The namespace of the named locks (which are server-wide): this database.
pub(super) const NAMESPACE: &str = "SELECT COALESCE(DATABASE(), '')";

/// Listing filter. Binds: ip ×2, username ×2, search pattern ×4, since ×2,
/// until ×2.
macro_rules! filter {
    () => {
        "(? IS NULL OR ip_address = ?) AND (? IS NULL OR username = ?) \
         AND (? IS NULL OR LOWER(username) LIKE ? ESCAPE '!' OR LOWER(ip_address) LIKE ? ESCAPE '!' \
              OR LOWER(user_agent) LIKE ? ESCAPE '!') \
         AND (? IS NULL OR attempt_time >= ?) AND (? IS NULL OR attempt_time < ?)"
    };
}

/// The columns of each listing (and look-up), in the order of the row
/// tuples of `rows.rs`.
macro_rules! attempt_columns {
    () => {
        "id, scope, username, ip_address, user_agent, http_accept, path_info, get_data, post_data, failures_since_start, attempt_time"
    };
}

macro_rules! access_log_columns {
    () => {
        "id, username, ip_address, user_agent, http_accept, path_info, attempt_time, logout_time, session_hash"
    };
}

macro_rules! failure_log_columns {
    () => {
        "id, username, ip_address, user_agent, http_accept, path_info, attempt_time, locked_out"
    };
}

/// A listing: then limit, offset; `[newest first, oldest first]`.
macro_rules! listing {
    ($columns:expr, $table:literal) => {
        [
            concat!(
                "SELECT ",
                $columns,
                " FROM ",
                $table,
                " WHERE ",
                filter!(),
                " ORDER BY attempt_time DESC, id DESC LIMIT ? OFFSET ?"
            ),
            concat!(
                "SELECT ",
                $columns,
                " FROM ",
                $table,
                " WHERE ",
                filter!(),
                " ORDER BY attempt_time ASC, id ASC LIMIT ? OFFSET ?"
            ),
        ]
    };
}

pub(super) const LIST_ATTEMPTS: [&str; 2] = listing!(attempt_columns!(), "axes_accessattempt");
pub(super) const COUNT_ATTEMPTS: &str = concat!(
    "SELECT CAST(COUNT(*) AS SIGNED) FROM axes_accessattempt WHERE ",
    filter!()
);

pub(super) const LIST_ACCESS_LOGS: [&str; 2] = listing!(access_log_columns!(), "axes_accesslog");
pub(super) const COUNT_ACCESS_LOGS: &str = concat!(
    "SELECT CAST(COUNT(*) AS SIGNED) FROM axes_accesslog WHERE ",
    filter!()
);

pub(super) const LIST_FAILURE_LOGS: [&str; 2] =
    listing!(failure_log_columns!(), "axes_accessfailurelog");
pub(super) const COUNT_FAILURE_LOGS: &str = concat!(
    "SELECT CAST(COUNT(*) AS SIGNED) FROM axes_accessfailurelog WHERE ",
    filter!()
);

/// Look-ups by id, with the listing's columns.
pub(super) const GET_ATTEMPT: &str = concat!(
    "SELECT ",
    attempt_columns!(),
    " FROM axes_accessattempt WHERE id = ?"
);
pub(super) const GET_ACCESS_LOG: &str = concat!(
    "SELECT ",
    access_log_columns!(),
    " FROM axes_accesslog WHERE id = ?"
);
pub(super) const GET_FAILURE_LOG: &str = concat!(
    "SELECT ",
    failure_log_columns!(),
    " FROM axes_accessfailurelog WHERE id = ?"
);

pub(super) const INSERT_ACCESS_LOG: &str = "INSERT INTO axes_accesslog \
    (ip_address, username, user_agent, http_accept, path_info, attempt_time, session_hash) \
    VALUES (?, ?, ?, ?, ?, ?, ?)";

pub(super) const CLOSE_ACCESS_LOG: &str = "UPDATE axes_accesslog SET logout_time = ? \
    WHERE username = ? AND session_hash = ? AND logout_time IS NULL";

pub(super) const INSERT_FAILURE_LOG: &str = "INSERT INTO axes_accessfailurelog \
    (ip_address, username, user_agent, http_accept, path_info, attempt_time, locked_out) \
    VALUES (?, ?, ?, ?, ?, ?, ?)";

/// The id of the newest row of a username that must go (the second bind
/// is how many rows are kept).
pub(super) const FAILURE_LOG_CUTOFF: &str = "SELECT id FROM axes_accessfailurelog \
    WHERE username = ? ORDER BY id DESC LIMIT 1 OFFSET ?";

pub(super) const FAILURE_LOG_TRIM: &str =
    "DELETE FROM axes_accessfailurelog WHERE username = ? AND id <= ?";

pub(super) const RESET_ACCESS_LOGS: [&str; 2] = [
    "DELETE FROM axes_accesslog WHERE attempt_time <= ?",
    "DELETE FROM axes_accesslog",
];
pub(super) const RESET_FAILURE_LOGS: [&str; 2] = [
    "DELETE FROM axes_accessfailurelog WHERE attempt_time <= ?",
    "DELETE FROM axes_accessfailurelog",
];
