//! The PostgreSQL statements. Times are TIMESTAMPTZ.

use crate::common::alternative_sql;

/// Per alternative: live failures and the last failure. `$1`: threshold
/// (NULL = nothing expires), `$2` the scope, then the alternative's values.
/// The scope and values are equalities and the time a range on the
/// alternative's index (migration 0005): only live records of the scope
/// are read.
pub(super) const COUNT: [&str; 7] = alternative_sql!(
    "SELECT COALESCE(SUM(failures_since_start), 0)::BIGINT, MAX(attempt_time) FROM axes_accessattempt \
     WHERE attempt_time > COALESCE($1::TIMESTAMPTZ, '-infinity') AND scope = $2 AND ",
    "$3",
    "$4",
    "$5"
);

/// Per alternative: the newest live record, as [`crate::common::Newest`].
/// Binds as [`COUNT`].
pub(super) const NEWEST: [&str; 7] = alternative_sql!(
    "SELECT id, ip_address, username, user_agent FROM axes_accessattempt \
     WHERE attempt_time > COALESCE($1::TIMESTAMPTZ, '-infinity') AND scope = $2 AND ",
    "$3",
    "$4",
    "$5",
    " ORDER BY attempt_time DESC LIMIT 1"
);

/// A refused attempt's failure on a record that is not its own (`$1` id):
/// one failure more, a new serial, the last failure at `$2` (or later).
pub(super) const REFRESH: &str = "UPDATE axes_accessattempt \
    SET failures_since_start = failures_since_start + 1, failure_serial = failure_serial + 1, \
    attempt_time = GREATEST(attempt_time, $2) WHERE id = $1";

/// Per alternative: delete the matching records of the scope (`$1`).
pub(super) const DELETE_MATCHING: [&str; 7] = alternative_sql!(
    "DELETE FROM axes_accessattempt WHERE scope = $1 AND ",
    "$2",
    "$3",
    "$4"
);

/// The record's time before a reservation's upsert, locking the record for
/// the rest of the transaction. `$1..$3`: the key, `$4` its scope.
pub(super) const OWN_TIME: &str = "SELECT attempt_time FROM axes_accessattempt \
    WHERE ip_address = $1 AND username = $2 AND user_agent = $3 AND scope = $4 FOR UPDATE";

/// Adds one failure; an expired record (`attempt_time <= $9`) restarts at one,
/// as a new generation. Every failure gets the next serial. `$10`: the
/// scope. Returns the record as [`crate::common::Upserted`].
pub(super) const UPSERT: &str = "INSERT INTO axes_accessattempt \
    (ip_address, username, user_agent, http_accept, path_info, get_data, post_data, failures_since_start, attempt_time, generation, failure_serial, scope) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, 0, 1, $10) \
    ON CONFLICT (scope, username, ip_address, user_agent) DO UPDATE SET \
    generation = CASE WHEN $9::TIMESTAMPTZ IS NOT NULL AND axes_accessattempt.attempt_time <= $9 \
        THEN axes_accessattempt.generation + 1 ELSE axes_accessattempt.generation END, \
    failures_since_start = CASE WHEN $9::TIMESTAMPTZ IS NOT NULL AND axes_accessattempt.attempt_time <= $9 THEN 1 \
        ELSE axes_accessattempt.failures_since_start + 1 END, \
    failure_serial = axes_accessattempt.failure_serial + 1, \
    attempt_time = GREATEST(axes_accessattempt.attempt_time, EXCLUDED.attempt_time), \
    http_accept = EXCLUDED.http_accept, path_info = EXCLUDED.path_info, \
    get_data = EXCLUDED.get_data, post_data = EXCLUDED.post_data \
    RETURNING id, generation, failure_serial, failures_since_start::BIGINT, attempt_time";

/// A give-back: takes one failure off the record of the key (`$3..$5`, in
/// the scope `$9`) if it is still the generation the token names (`$1` id,
/// `$2` generation), and puts its time back to `$6` (the time before the
/// reservation; NULL: keep it) when no failure was counted since (serial
/// still `$7`, time still `$8`).
pub(super) const GIVE_BACK: &str = "UPDATE axes_accessattempt \
    SET failures_since_start = failures_since_start - 1, \
    attempt_time = CASE WHEN $6::TIMESTAMPTZ IS NOT NULL AND failure_serial = $7 AND attempt_time = $8 \
        THEN $6 ELSE attempt_time END \
    WHERE id = $1 AND generation = $2 AND ip_address = $3 AND username = $4 AND user_agent = $5 \
    AND scope = $9 AND failures_since_start > 0";

/// Then deletes it if that left it empty.
pub(super) const DELETE_EMPTY: &str = "DELETE FROM axes_accessattempt \
    WHERE id = $1 AND generation = $2 AND failures_since_start <= 0";

/// Every scope.
pub(super) const RESET: &str = "DELETE FROM axes_accessattempt \
    WHERE ($1::TEXT IS NULL OR ip_address = $1) AND ($2::TEXT IS NULL OR username = $2)";

pub(super) const PURGE: &str = "DELETE FROM axes_accessattempt WHERE attempt_time <= $1";

pub(super) const DELETE_ATTEMPTS: &str = "DELETE FROM axes_accessattempt WHERE id = ANY($1)";
pub(super) const DELETE_ACCESS_LOGS: &str = "DELETE FROM axes_accesslog WHERE id = ANY($1)";
pub(super) const DELETE_FAILURE_LOGS: &str = "DELETE FROM axes_accessfailurelog WHERE id = ANY($1)";

pub(super) const LOCK: &str = "SELECT pg_advisory_xact_lock($1)";

/// The namespace of the advisory locks: this database and schema.
pub(super) const NAMESPACE: &str =
    "SELECT current_database() || '.' || COALESCE(current_schema(), '')";

/// Listing filter: $1 ip, $2 username, $3 search pattern, $4 since, $5 until.
macro_rules! filter {
    () => {
        "($1::TEXT IS NULL OR ip_address = $1) AND ($2::TEXT IS NULL OR username = $2) \
         AND ($3::TEXT IS NULL OR LOWER(username) LIKE $3 ESCAPE '!' OR LOWER(ip_address) LIKE $3 ESCAPE '!' \
              OR LOWER(user_agent) LIKE $3 ESCAPE '!') \
         AND ($4::TIMESTAMPTZ IS NULL OR attempt_time >= $4) AND ($5::TIMESTAMPTZ IS NULL OR attempt_time < $5)"
    };
}

/// The columns of each listing (and look-up), in the order of the row
/// tuples of `rows.rs`.
macro_rules! attempt_columns {
    () => {
        "id, scope, username, ip_address, user_agent, http_accept, path_info, get_data, post_data, failures_since_start::BIGINT, attempt_time"
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

/// A listing: $6 limit, $7 offset; `[newest first, oldest first]`.
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
                " ORDER BY attempt_time DESC, id DESC LIMIT $6 OFFSET $7"
            ),
            concat!(
                "SELECT ",
                $columns,
                " FROM ",
                $table,
                " WHERE ",
                filter!(),
                " ORDER BY attempt_time ASC, id ASC LIMIT $6 OFFSET $7"
            ),
        ]
    };
}

pub(super) const LIST_ATTEMPTS: [&str; 2] = listing!(attempt_columns!(), "axes_accessattempt");
pub(super) const COUNT_ATTEMPTS: &str =
    concat!("SELECT COUNT(*) FROM axes_accessattempt WHERE ", filter!());

pub(super) const LIST_ACCESS_LOGS: [&str; 2] = listing!(access_log_columns!(), "axes_accesslog");
pub(super) const COUNT_ACCESS_LOGS: &str =
    concat!("SELECT COUNT(*) FROM axes_accesslog WHERE ", filter!());

pub(super) const LIST_FAILURE_LOGS: [&str; 2] =
    listing!(failure_log_columns!(), "axes_accessfailurelog");
pub(super) const COUNT_FAILURE_LOGS: &str = concat!(
    "SELECT COUNT(*) FROM axes_accessfailurelog WHERE ",
    filter!()
);

/// Look-ups by id, with the listing's columns.
pub(super) const GET_ATTEMPT: &str = concat!(
    "SELECT ",
    attempt_columns!(),
    " FROM axes_accessattempt WHERE id = $1"
);
pub(super) const GET_ACCESS_LOG: &str = concat!(
    "SELECT ",
    access_log_columns!(),
    " FROM axes_accesslog WHERE id = $1"
);
pub(super) const GET_FAILURE_LOG: &str = concat!(
    "SELECT ",
    failure_log_columns!(),
    " FROM axes_accessfailurelog WHERE id = $1"
);

pub(super) const INSERT_ACCESS_LOG: &str = "INSERT INTO axes_accesslog \
    (ip_address, username, user_agent, http_accept, path_info, attempt_time, session_hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(super) const CLOSE_ACCESS_LOG: &str = "UPDATE axes_accesslog SET logout_time = $1 \
    WHERE username = $2 AND session_hash = $3 AND logout_time IS NULL";

pub(super) const INSERT_FAILURE_LOG: &str = "INSERT INTO axes_accessfailurelog \
    (ip_address, username, user_agent, http_accept, path_info, attempt_time, locked_out) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The id of the newest row of a username that must go (`$2` rows are kept).
pub(super) const FAILURE_LOG_CUTOFF: &str = "SELECT id FROM axes_accessfailurelog \
    WHERE username = $1 ORDER BY id DESC LIMIT 1 OFFSET $2";

pub(super) const FAILURE_LOG_TRIM: &str =
    "DELETE FROM axes_accessfailurelog WHERE username = $1 AND id <= $2";

pub(super) const RESET_ACCESS_LOGS: [&str; 2] = [
    "DELETE FROM axes_accesslog WHERE attempt_time <= $1",
    "DELETE FROM axes_accesslog",
];
pub(super) const RESET_FAILURE_LOGS: [&str; 2] = [
    "DELETE FROM axes_accessfailurelog WHERE attempt_time <= $1",
    "DELETE FROM axes_accessfailurelog",
];
