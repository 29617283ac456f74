//! The SQLite statements. Times are INTEGER unix microseconds.

use crate::common::alternative_sql;

/// Per alternative: live failures and the last failure. `?1`: threshold
/// (NULL = nothing expires), `?2` the scope, then the alternative's values.
/// The scope and values are equalities and the time a range on the
/// alternative's index (migration 0005): only live records of the scope
/// are read.
pub(super) const COUNT: [&str; 7] = alternative_sql!(
    "SELECT COALESCE(SUM(failures_since_start), 0), MAX(attempt_time) FROM axes_accessattempt \
     WHERE attempt_time > COALESCE(?1, -9223372036854775808) AND scope = ?2 AND ",
    "?3",
    "?4",
    "?5"
);

/// Per alternative (by `alt_index`): the index its [`COUNT`] reads, made
/// on demand (`None`: always there — the address and username indexes of
/// migration 0005, the unique key for all three fields). Migration 0006
/// dropped these four; they are made, exactly as 0005 made them, when an
/// alternative using one is first counted.
pub(super) const ON_DEMAND_INDEX: [Option<&str>; 7] = [
    None,
    None,
    Some(
        "CREATE INDEX IF NOT EXISTS axes_accessattempt_ip_username_time \
         ON axes_accessattempt (ip_address, username, scope, attempt_time, failures_since_start)",
    ),
    Some(
        "CREATE INDEX IF NOT EXISTS axes_accessattempt_ua_time \
         ON axes_accessattempt (user_agent, scope, attempt_time, failures_since_start)",
    ),
    Some(
        "CREATE INDEX IF NOT EXISTS axes_accessattempt_ip_ua_time \
         ON axes_accessattempt (ip_address, user_agent, scope, attempt_time, failures_since_start)",
    ),
    Some(
        "CREATE INDEX IF NOT EXISTS axes_accessattempt_username_ua_time \
         ON axes_accessattempt (username, user_agent, scope, attempt_time, failures_since_start)",
    ),
    None,
];

/// The statements of [`ON_DEMAND_INDEX`] whose bits are set in `mask`.
pub(super) fn on_demand_indexes(mask: u8) -> impl Iterator<Item = &'static str> {
    ON_DEMAND_INDEX
        .iter()
        .enumerate()
        .filter(move |(i, _)| mask & (1 << i) != 0)
        .filter_map(|(_, statement)| *statement)
}

/// Per alternative: the newest live record, as [`crate::common::Newest`].
/// Binds as [`COUNT`].
pub(super) const NEWEST: [&str; 7] = alternative_sql!(
    "SELECT id, ip_address, username, user_agent FROM axes_accessattempt \
     WHERE attempt_time > COALESCE(?1, -9223372036854775808) AND scope = ?2 AND ",
    "?3",
    "?4",
    "?5",
    " ORDER BY attempt_time DESC LIMIT 1"
);

/// A refused attempt's failure on a record that is not its own (`?1` id):
/// one failure more, a new serial, the last failure at `?2` (or later).
pub(super) const REFRESH: &str = "UPDATE OR FAIL axes_accessattempt \
    SET failures_since_start = failures_since_start + 1, failure_serial = failure_serial + 1, \
    attempt_time = MAX(attempt_time, ?2) WHERE id = ?1";

/// Per alternative: delete the matching records of the scope (`?1`).
pub(super) const DELETE_MATCHING: [&str; 7] = alternative_sql!(
    "DELETE FROM axes_accessattempt WHERE scope = ?1 AND ",
    "?2",
    "?3",
    "?4"
);

/// The record's time before a reservation, and its id. `?1..?3`: the key,
/// `?4` its scope.
pub(super) const OWN_TIME: &str = "SELECT attempt_time, id FROM axes_accessattempt \
    WHERE ip_address = ?1 AND username = ?2 AND user_agent = ?3 AND scope = ?4";

/// A reservation's failure on a key with no record ([`OWN_TIME`] found
/// none, in the same write transaction): a new record at one failure.
/// `?8` the time, `?9` the scope. Returns the record as
/// [`crate::common::Upserted`].
///
/// Not an upsert, and `OR FAIL`: SQLite opens a statement journal — a
/// copy of every page the statement changes, kept in case it aborts half
/// way — for an upsert's `DO UPDATE` and for any statement that may abort
/// inside a transaction. A reservation's statements change one row each,
/// and a job that fails rolls its whole group back (see `writer.rs`), so
/// the journal bought nothing: it cost 31 000 instructions of 240 000 per
/// wrong login (callgrind, 2026-12-02).
pub(super) const INSERT_NEW: &str = "INSERT OR FAIL INTO axes_accessattempt \
    (ip_address, username, user_agent, http_accept, path_info, get_data, post_data, failures_since_start, attempt_time, generation, failure_serial, scope) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, 0, 1, ?9) \
    RETURNING id, generation, failure_serial, failures_since_start, attempt_time";

/// A reservation's failure on the record [`OWN_TIME`] found (`?1` its id):
/// one failure more; an expired record (`attempt_time <= ?7`) restarts at
/// one, as a new generation. Every failure gets the next serial. `?2..?5`
/// the attempt's details, `?6` the time. Returns as [`INSERT_NEW`].
pub(super) const UPDATE_OWN: &str = "UPDATE OR FAIL axes_accessattempt SET \
    generation = CASE WHEN ?7 IS NOT NULL AND attempt_time <= ?7 THEN generation + 1 ELSE generation END, \
    failures_since_start = CASE WHEN ?7 IS NOT NULL AND attempt_time <= ?7 THEN 1 \
        ELSE failures_since_start + 1 END, \
    failure_serial = failure_serial + 1, \
    attempt_time = MAX(attempt_time, ?6), \
    http_accept = ?2, path_info = ?3, get_data = ?4, post_data = ?5 \
    WHERE id = ?1 \
    RETURNING id, generation, failure_serial, failures_since_start, attempt_time";

/// Giving back the last failure of a record deletes it, when the record of
/// the key (`?3..?5`, in the scope `?6`) is still the generation the token
/// names (`?1` id, `?2` generation).
pub(super) const DELETE_LAST: &str = "DELETE FROM axes_accessattempt \
    WHERE id = ?1 AND generation = ?2 AND ip_address = ?3 AND username = ?4 AND user_agent = ?5 \
    AND scope = ?6 AND failures_since_start <= 1";

/// Otherwise takes one failure off it, and puts its time back to `?7` (the
/// time before the reservation; NULL: keep it) when no failure was counted
/// since (serial still `?8`, time still `?9`). Binds as [`DELETE_LAST`]
/// first.
pub(super) const GIVE_BACK: &str = "UPDATE OR FAIL axes_accessattempt \
    SET failures_since_start = failures_since_start - 1, \
    attempt_time = CASE WHEN ?7 IS NOT NULL AND failure_serial = ?8 AND attempt_time = ?9 \
        THEN ?7 ELSE attempt_time END \
    WHERE id = ?1 AND generation = ?2 AND ip_address = ?3 AND username = ?4 AND user_agent = ?5 \
    AND scope = ?6 AND failures_since_start > 0";

/// The conditions on the address (`?1`) and the username (`?2`) of a reset
/// or a listing, one statement per combination given, as indexed by
/// [`by_filter`] (made by `each_filter!`): SQLite plans a statement once, without its values, and
/// reads no index for `(?1 IS NULL OR ip_address = ?1)`. A condition left
/// out is `?n IS NULL` (the value bound is NULL), so every variant binds
/// alike; a given one is an equality the indexes of migration 0005 lead
/// with.
macro_rules! each_filter {
    ($m:ident!($($args:tt)*)) => {
        [
            $m!($($args)* "?1 IS NULL AND ?2 IS NULL"),
            $m!($($args)* "ip_address = ?1 AND ?2 IS NULL"),
            $m!($($args)* "?1 IS NULL AND username = ?2"),
            $m!($($args)* "ip_address = ?1 AND username = ?2"),
        ]
    };
}

/// The statement of `each_filter!` for a filter on `ip_address` and
/// `username` (each given or not).
pub(super) fn by_filter<T: Copy>(
    statements: &[T; 4],
    ip_address: Option<&str>,
    username: Option<&str>,
) -> T {
    statements[usize::from(ip_address.is_some()) | (usize::from(username.is_some()) << 1)]
}

macro_rules! reset {
    ($filter:literal) => {
        concat!("DELETE FROM axes_accessattempt WHERE ", $filter)
    };
}

/// Every scope; by [`by_filter`].
pub(super) const RESET: [&str; 4] = each_filter!(reset!());

pub(super) const PURGE: &str = "DELETE FROM axes_accessattempt WHERE attempt_time <= ?1";

/// At most `?2` rows of [`PURGE`] (by the `attempt_time` index): the
/// writer purges in slices, so reservations queued behind a purge wait for
/// one slice, not for the whole table.
pub(super) const PURGE_SLICE: &str = "DELETE FROM axes_accessattempt WHERE id IN \
    (SELECT id FROM axes_accessattempt WHERE attempt_time <= ?1 LIMIT ?2)";

pub(super) const DELETE_ATTEMPT: &str = "DELETE FROM axes_accessattempt WHERE id = ?1";
pub(super) const DELETE_ACCESS_LOG: &str = "DELETE FROM axes_accesslog WHERE id = ?1";
pub(super) const DELETE_FAILURE_LOG: &str = "DELETE FROM axes_accessfailurelog WHERE id = ?1";

/// Listing filter: ?1 ip, ?2 username (`$by`, one of [`by_filter`]), ?3
/// search pattern, ?4 since, ?5 until.
macro_rules! filter {
    ($by:literal) => {
        concat!(
            $by,
            " AND (?3 IS NULL OR LOWER(username) LIKE ?3 ESCAPE '!' OR LOWER(ip_address) LIKE ?3 ESCAPE '!' \
              OR LOWER(user_agent) LIKE ?3 ESCAPE '!') \
         AND (?4 IS NULL OR attempt_time >= ?4) AND (?5 IS NULL OR attempt_time < ?5)"
        )
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

/// A listing: ?6 limit, ?7 offset; `[newest first, oldest first]`.
macro_rules! listing {
    ($columns:expr, $table:literal, $by:literal) => {
        [
            concat!(
                "SELECT ",
                $columns,
                " FROM ",
                $table,
                " WHERE ",
                filter!($by),
                " ORDER BY attempt_time DESC, id DESC LIMIT ?6 OFFSET ?7"
            ),
            concat!(
                "SELECT ",
                $columns,
                " FROM ",
                $table,
                " WHERE ",
                filter!($by),
                " ORDER BY attempt_time ASC, id ASC LIMIT ?6 OFFSET ?7"
            ),
        ]
    };
}

/// The number of rows of a listing.
macro_rules! count_rows {
    ($table:literal, $by:literal) => {
        concat!("SELECT COUNT(*) FROM ", $table, " WHERE ", filter!($by))
    };
}

/// Listings and their counts, by [`by_filter`].
pub(super) const LIST_ATTEMPTS: [[&str; 2]; 4] =
    each_filter!(listing!(attempt_columns!(), "axes_accessattempt",));
pub(super) const COUNT_ATTEMPTS: [&str; 4] = each_filter!(count_rows!("axes_accessattempt",));

pub(super) const LIST_ACCESS_LOGS: [[&str; 2]; 4] =
    each_filter!(listing!(access_log_columns!(), "axes_accesslog",));
pub(super) const COUNT_ACCESS_LOGS: [&str; 4] = each_filter!(count_rows!("axes_accesslog",));

pub(super) const LIST_FAILURE_LOGS: [[&str; 2]; 4] =
    each_filter!(listing!(failure_log_columns!(), "axes_accessfailurelog",));
pub(super) const COUNT_FAILURE_LOGS: [&str; 4] =
    each_filter!(count_rows!("axes_accessfailurelog",));

/// Look-ups by id, with the listing's columns.
pub(super) const GET_ATTEMPT: &str = concat!(
    "SELECT ",
    attempt_columns!(),
    " FROM axes_accessattempt WHERE id = ?1"
);
pub(super) const GET_ACCESS_LOG: &str = concat!(
    "SELECT ",
    access_log_columns!(),
    " FROM axes_accesslog WHERE id = ?1"
);
pub(super) const GET_FAILURE_LOG: &str = concat!(
    "SELECT ",
    failure_log_columns!(),
    " FROM axes_accessfailurelog WHERE id = ?1"
);

pub(super) const INSERT_ACCESS_LOG: &str = "INSERT OR FAIL INTO axes_accesslog \
    (ip_address, username, user_agent, http_accept, path_info, attempt_time, session_hash) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

pub(super) const CLOSE_ACCESS_LOG: &str = "UPDATE axes_accesslog SET logout_time = ?1 \
    WHERE username = ?2 AND session_hash = ?3 AND logout_time IS NULL";

pub(super) const INSERT_FAILURE_LOG: &str = "INSERT OR FAIL INTO axes_accessfailurelog \
    (ip_address, username, user_agent, http_accept, path_info, attempt_time, locked_out) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// The id of the newest row of a username that must go (`?2` rows are kept).
pub(super) const FAILURE_LOG_CUTOFF: &str = "SELECT id FROM axes_accessfailurelog \
    WHERE username = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2";

pub(super) const FAILURE_LOG_TRIM: &str =
    "DELETE FROM axes_accessfailurelog WHERE username = ?1 AND id <= ?2";

pub(super) const RESET_ACCESS_LOGS: [&str; 2] = [
    "DELETE FROM axes_accesslog WHERE attempt_time <= ?1",
    "DELETE FROM axes_accesslog",
];
pub(super) const RESET_FAILURE_LOGS: [&str; 2] = [
    "DELETE FROM axes_accessfailurelog WHERE attempt_time <= ?1",
    "DELETE FROM axes_accessfailurelog",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_filter_condition_matches_what_is_given() {
        assert!(by_filter(&RESET, None, None).ends_with("?1 IS NULL AND ?2 IS NULL"));
        assert!(by_filter(&RESET, Some("a"), None).ends_with("ip_address = ?1 AND ?2 IS NULL"));
        assert!(by_filter(&RESET, None, Some("u")).ends_with("?1 IS NULL AND username = ?2"));
        let both = by_filter(&COUNT_ATTEMPTS, Some("a"), Some("u"));
        assert!(both.contains("WHERE ip_address = ?1 AND username = ?2 AND (?3"));
        let list = by_filter(&LIST_FAILURE_LOGS, None, Some("u"));
        assert!(list[1].contains("axes_accessfailurelog WHERE ?1 IS NULL AND username = ?2 AND"));
        assert!(list[1].ends_with("ORDER BY attempt_time ASC, id ASC LIMIT ?6 OFFSET ?7"));
    }
}
