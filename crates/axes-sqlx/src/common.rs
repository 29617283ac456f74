//! Dialect-independent pieces: key columns, windows, admission decisions,
//! lock names, search patterns and row conversion.
//!
//! Every statement that counts, reserves, gives back or clears by key
//! binds the key's scope ([`KeyCols::scope`]) and stays inside it; the
//! per-alternative statements bind it right after the threshold (if any),
//! before the alternative's values.

use axes_core::error::StoreError;
use axes_core::parameters::LockoutParameters;
use axes_core::parameters::{Alternative, Field};
use axes_core::store::{
    AlternativeCount, Failures, MAX_SCOPE_CHARS, RecordKey, ReservationToken, ReserveOutcome,
    plausible_id,
};
use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Column sizes (in characters) of the schema.
pub(crate) const SCOPE_LEN: usize = MAX_SCOPE_CHARS;
pub(crate) const USERNAME_LEN: usize = 255;
pub(crate) const IP_LEN: usize = 64;
pub(crate) const USER_AGENT_LEN: usize = 255;
pub(crate) const PATH_LEN: usize = 255;
pub(crate) const ACCEPT_LEN: usize = 1025;
pub(crate) const DATA_LEN: usize = 1024;
pub(crate) const SESSION_HASH_LEN: usize = 64;

/// Cuts `s` to at most `max` characters (column sizes count characters).
pub(crate) fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// The key columns of a record as stored: absent values are `''`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyCols<'a> {
    /// The scope, exactly (never clipped: see [`KeyCols::of`]).
    pub scope: &'a str,
    pub ip: &'a str,
    pub username: &'a str,
    pub user_agent: &'a str,
}

impl<'a> KeyCols<'a> {
    /// The columns of a record key. The other fields are cut to their
    /// column sizes, but a scope longer than [`SCOPE_LEN`] characters is an
    /// error: clipping it could merge two scopes' counts.
    pub(crate) fn of(key: &'a RecordKey) -> Result<Self, StoreError> {
        Ok(Self {
            scope: scope(key)?,
            ..Self::unscoped(key)
        })
    }

    /// The columns of a log entry's key: the logs keep no scope.
    pub(crate) fn unscoped(key: &'a RecordKey) -> Self {
        Self {
            scope: "",
            ip: clip(key.ip_address.as_deref().unwrap_or(""), IP_LEN),
            username: clip(key.username.as_deref().unwrap_or(""), USERNAME_LEN),
            user_agent: clip(&key.user_agent, USER_AGENT_LEN),
        }
    }

    /// The values of the fields of `alt`, in the order the per-alternative
    /// SQL binds them: ip_address, username, user_agent.
    pub(crate) fn values(&self, alt: &Alternative) -> Vec<&'a str> {
        let mut out = Vec::with_capacity(3);
        if alt.uses(Field::IpAddress) {
            out.push(self.ip);
        }
        if alt.uses(Field::Username) {
            out.push(self.username);
        }
        if alt.uses(Field::UserAgent) {
            out.push(self.user_agent);
        }
        out
    }
}

/// The scope of `key` as stored, or an error when it is longer than
/// [`SCOPE_LEN`] characters (the engine never makes one; a store that cut
/// it would count two scopes together).
pub(crate) fn scope(key: &RecordKey) -> Result<&str, StoreError> {
    if key.scope.chars().nth(SCOPE_LEN).is_some() {
        return Err(crate::error::Error::ScopeTooLong(key.scope.chars().count()).into());
    }
    Ok(&key.scope)
}

/// Index of `alt` into the per-alternative SQL tables built by
/// `alternative_sql!`: bit 0 ip_address, bit 1
/// username, bit 2 user_agent, minus one.
pub(crate) fn alt_index(alt: &Alternative) -> usize {
    let mut mask = 0;
    if alt.uses(Field::IpAddress) {
        mask |= 1;
    }
    if alt.uses(Field::Username) {
        mask |= 2;
    }
    if alt.uses(Field::UserAgent) {
        mask |= 4;
    }
    // An alternative is never empty, so mask >= 1.
    mask.max(1) - 1
}

/// Builds the seven statements of one per-alternative query, one per
/// non-empty combination of key columns, in [`alt_index`] order. `$head` ends
/// where the column conditions start; `$a`, `$b`, `$c` are the placeholders of
/// the first, second and third bound value; `$tail` (optional) follows the
/// conditions.
macro_rules! alternative_sql {
    ($head:literal, $a:literal, $b:literal, $c:literal) => {
        $crate::common::alternative_sql!($head, $a, $b, $c, "")
    };
    ($head:literal, $a:literal, $b:literal, $c:literal, $tail:literal) => {
        [
            concat!($head, "ip_address = ", $a, $tail),
            concat!($head, "username = ", $a, $tail),
            concat!($head, "ip_address = ", $a, " AND username = ", $b, $tail),
            concat!($head, "user_agent = ", $a, $tail),
            concat!($head, "ip_address = ", $a, " AND user_agent = ", $b, $tail),
            concat!($head, "username = ", $a, " AND user_agent = ", $b, $tail),
            concat!(
                $head,
                "ip_address = ",
                $a,
                " AND username = ",
                $b,
                " AND user_agent = ",
                $c,
                $tail
            ),
        ]
    };
}
#[allow(unused_imports)]
pub(crate) use alternative_sql;

/// A refused attempt that changed nothing.
pub(crate) fn refused(counts: Vec<AlternativeCount>) -> ReserveOutcome {
    ReserveOutcome {
        admitted: false,
        counted: false,
        failures: Failures {
            per_alternative: counts,
            block: None,
        },
        token: None,
    }
}

/// The indexes (in the order of the lockout parameters) of the
/// alternatives that have reached `limit`.
pub(crate) fn reached(limit: Option<u32>, counts: &[AlternativeCount]) -> Vec<usize> {
    let Some(limit) = limit else {
        return Vec::new();
    };
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.failures >= limit)
        .map(|(i, _)| i)
        .collect()
}

/// A record a refused attempt refreshes (see [`refreshed`]): `id,
/// ip_address, username, user_agent` as stored.
pub(crate) type Newest = (i64, String, String, String);

/// Defines `refresh_locking` for one sqlx dialect (S1): a refused attempt
/// with no record of its own adds one failure to the newest live record of
/// each alternative that reached the limit in the key's scope (each record
/// once), and inserts nothing. Returns the records refreshed. `$conn` is the connection type,
/// `$threshold` the bound type of the window's start, and `$bind` binds a
/// record id and the time to the dialect's `REFRESH` in its placeholder
/// order. Expects `sql::{NEWEST, REFRESH}` and `KeyCols` in scope.
macro_rules! refresh_locking_fn {
    ($conn:ty, $threshold:ty, $bind:expr) => {
        async fn refresh_locking(
            conn: &mut $conn,
            key: &KeyCols<'_>,
            r: &axes_core::store::Reservation<'_>,
            counts: &[axes_core::store::AlternativeCount],
            threshold: $threshold,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<$crate::common::Newest>, axes_core::error::StoreError> {
            use $crate::error::map_sqlx;
            let alternatives = r.parameters.alternatives();
            let mut rows = Vec::new();
            for i in $crate::common::reached(r.limit, counts) {
                let Some(alt) = alternatives.get(i) else {
                    continue;
                };
                let mut q = sqlx::query_as::<_, $crate::common::Newest>(
                    sql::NEWEST[$crate::common::alt_index(alt)],
                )
                .bind(threshold)
                .bind(key.scope);
                for v in key.values(alt) {
                    q = q.bind(v);
                }
                if let Some(row) = q.fetch_optional(&mut *conn).await.map_err(map_sqlx)? {
                    $crate::common::push_unique(&mut rows, row);
                }
            }
            for row in &rows {
                ($bind)(sqlx::query(sql::REFRESH), row.0, now)
                    .execute(&mut *conn)
                    .await
                    .map_err(map_sqlx)?;
            }
            Ok(rows)
        }
    };
}
pub(crate) use refresh_locking_fn;

/// Defines `count_alternatives` for one sqlx dialect: each alternative's
/// live failures in the key's scope, and its last failure. `$conn` is the
/// connection type, `$threshold` the bound type of the window's start,
/// `$time` the time type read back and `$dec` its conversion to
/// `DateTime<Utc>`. Expects `sql::COUNT` (binds: threshold, scope, the
/// alternative's values) and `KeyCols` in scope.
macro_rules! count_alternatives_fn {
    ($conn:ty, $threshold:ty, $time:ty, $dec:expr) => {
        async fn count_alternatives(
            conn: &mut $conn,
            key: &KeyCols<'_>,
            parameters: &axes_core::parameters::LockoutParameters,
            threshold: $threshold,
        ) -> Result<Vec<axes_core::store::AlternativeCount>, axes_core::error::StoreError> {
            let mut out = Vec::with_capacity(parameters.alternatives().len());
            for alt in parameters.alternatives() {
                let mut q = sqlx::query_as::<_, (i64, Option<$time>)>(
                    sql::COUNT[$crate::common::alt_index(alt)],
                )
                .bind(threshold)
                .bind(key.scope);
                for v in key.values(alt) {
                    q = q.bind(v);
                }
                let (failures, last) = q
                    .fetch_one(&mut *conn)
                    .await
                    .map_err($crate::error::map_sqlx)?;
                out.push(axes_core::store::AlternativeCount {
                    failures: $crate::common::count(failures)?,
                    last_failure: last.map($dec).transpose()?,
                });
            }
            Ok(out)
        }
    };
}
pub(crate) use count_alternatives_fn;

/// Defines `delete_matching` for one sqlx dialect (`clear_client`, in the
/// caller's transaction on `$conn`): deletes every record of the key's
/// scope that matches the key on any alternative of the parameters, and
/// returns how many. Expects `sql::DELETE_MATCHING` (binds: scope, the
/// alternative's values) and `KeyCols` in scope.
macro_rules! delete_matching_fn {
    ($conn:ty) => {
        async fn delete_matching(
            conn: &mut $conn,
            key: &KeyCols<'_>,
            parameters: &axes_core::parameters::LockoutParameters,
        ) -> Result<u64, axes_core::error::StoreError> {
            let mut n = 0;
            for alt in parameters.alternatives() {
                let mut q = sqlx::query(sql::DELETE_MATCHING[$crate::common::alt_index(alt)])
                    .bind(key.scope);
                for v in key.values(alt) {
                    q = q.bind(v);
                }
                n += q
                    .execute(&mut *conn)
                    .await
                    .map_err($crate::error::map_sqlx)?
                    .rows_affected();
            }
            Ok(n)
        }
    };
}
pub(crate) use delete_matching_fn;

/// Adds `row` to `rows` unless a record with its id is already there: a
/// record that is the newest of two alternatives is refreshed once.
pub(crate) fn push_unique(rows: &mut Vec<Newest>, row: Newest) {
    if !rows.iter().any(|r| r.0 == row.0) {
        rows.push(row);
    }
}

/// The counts after a refused attempt with no record of its own refreshed
/// `rows` (one failure more each, last failure at `now` or later): each
/// alternative gains one failure per refreshed record that matches the
/// attempt on the alternative's fields.
///
/// This is how a store keeps a locked-out client locked without a record
/// per username or user agent it tries: the refused attempt restarts the
/// cool-off on the newest live record of every alternative that locks it,
/// and never inserts (a bounded number of updates).
pub(crate) fn refreshed(
    counts: Vec<AlternativeCount>,
    parameters: &LockoutParameters,
    key: &KeyCols<'_>,
    rows: &[Newest],
    now: DateTime<Utc>,
) -> Failures {
    let per_alternative = counts
        .into_iter()
        .zip(parameters.alternatives())
        .map(|(c, alt)| {
            let wanted = key.values(alt);
            let hits = rows
                .iter()
                .filter(|(_, ip, username, user_agent)| {
                    let row = KeyCols {
                        scope: key.scope,
                        ip,
                        username,
                        user_agent,
                    };
                    row.values(alt) == wanted
                })
                .count();
            if hits == 0 {
                return c;
            }
            AlternativeCount {
                failures: c
                    .failures
                    .saturating_add(u32::try_from(hits).unwrap_or(u32::MAX)),
                last_failure: Some(c.last_failure.map_or(now, |t| t.max(now))),
            }
        })
        .collect();
    Failures {
        per_alternative,
        block: None,
    }
}

/// Times are kept at microsecond precision, the finest all dialects store.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Records whose last failure is at or before the threshold are expired.
/// `None`: nothing expires (no window, or a window reaching before the
/// representable times).
pub(crate) fn threshold(now: DateTime<Utc>, window: Option<Duration>) -> Option<DateTime<Utc>> {
    window.and_then(|w| now.checked_sub_signed(w)).map(micros)
}

/// Whether an attempt with these counts is admitted under `limit`.
pub(crate) fn admits(limit: Option<u32>, counts: &[AlternativeCount]) -> bool {
    limit.is_none_or(|l| counts.iter().all(|c| c.failures < l))
}

/// The counts after one failure was added at `now` to the attempt's own
/// record, which matches every alternative.
pub(crate) fn plus_one(counts: Vec<AlternativeCount>, now: DateTime<Utc>) -> Failures {
    Failures {
        per_alternative: counts
            .into_iter()
            .map(|c| AlternativeCount {
                failures: c.failures.saturating_add(1),
                last_failure: Some(c.last_failure.map_or(now, |l| l.max(now))),
            })
            .collect(),
        block: None,
    }
}

/// The record a reservation's upsert left behind, as its `RETURNING` (or
/// read-back) gives it: `id, generation, failure_serial,
/// failures_since_start, attempt_time`.
pub(crate) type Upserted<T> = (i64, i64, i64, i64, T);

/// The token of the failure an upsert counted. `before` is the record's
/// `attempt_time` read just before the upsert (in the same transaction);
/// it is only kept when the upsert continued the record's count (more than
/// one failure now): a created or restarted record holds just this failure,
/// and giving it back deletes the record.
pub(crate) fn token(
    row: Upserted<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
) -> Result<ReservationToken, StoreError> {
    let (id, generation, serial, failures, reserved_at) = row;
    let counter = |what: &str, n: i64| {
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("record {id}: {what} {n}")))
    };
    Ok(ReservationToken {
        record_id: id.to_string(),
        generation: counter("generation", generation)?,
        serial: counter("failure serial", serial)?,
        reserved_at,
        previous_time: before.filter(|_| failures > 1),
    })
}

/// The stored values a give-back matches (`id, generation,
/// failure_serial`), or `None` when the token cannot name a row of this
/// store (then nothing is given back).
pub(crate) fn token_columns(token: &ReservationToken) -> Option<(i64, i64, i64)> {
    Some((
        parse_id(&token.record_id)?,
        i64::try_from(token.generation).ok()?,
        i64::try_from(token.serial).ok()?,
    ))
}

/// A stored failure count as `u32`.
pub(crate) fn count(n: i64) -> Result<u32, StoreError> {
    u32::try_from(n.max(0))
        .map_err(|_| StoreError::Corrupt(format!("failure count {n} out of range")))
}

/// A row count as `u64`.
pub(crate) fn rows(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A stored key column back to an optional value (`''` is absent).
pub(crate) fn opt(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A `LIKE` pattern matching `needle` as a case-insensitive substring; the
/// statements compare it with `LOWER(column)` and use `!` as escape character.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The integer ids of `ids`, skipping those that are not ids.
pub(crate) fn parse_ids(ids: &[String]) -> Vec<i64> {
    let mut out: Vec<i64> = ids.iter().filter_map(|s| s.trim().parse().ok()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The integer id of a look-up, or `None` when `id` is not one (digits only,
/// at most [`MAX_ID_LEN`](axes_core::store::MAX_ID_LEN) of them, within
/// `i64`).
pub(crate) fn parse_id(id: &str) -> Option<i64> {
    if !plausible_id(id) || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// Paging of a listing as bound values.
pub(crate) fn paging(limit: u64, offset: u64) -> (i64, i64) {
    (
        i64::try_from(limit).unwrap_or(i64::MAX),
        i64::try_from(offset).unwrap_or(i64::MAX),
    )
}

/// A stable 64-bit FNV-1a hash, for advisory lock names.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[derive(Debug)]
pub(crate) struct Fnv(u64);

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl Fnv {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for byte in b {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
    pub(crate) fn field(&mut self, s: &str) -> &mut Self {
        self.bytes(&(s.len() as u64).to_le_bytes())
            .bytes(s.as_bytes())
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// One lock per alternative, named by a hash of the store's namespace, the
/// scope, the alternative's fields and the attempt's values on them: two
/// reservations whose counts can influence each other share a lock (those
/// of two scopes never do). Sorted and unique, so
/// that taking them in order never deadlocks.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn lock_keys(
    namespace: &str,
    key: &KeyCols<'_>,
    params: &LockoutParameters,
) -> Vec<u64> {
    let mut keys: Vec<u64> = params
        .alternatives()
        .iter()
        .map(|alt| {
            let mut h = Fnv::new();
            h.field(namespace)
                .field(key.scope)
                .bytes(&[alt_index(alt) as u8]);
            for v in key.values(alt) {
                h.field(v);
            }
            h.finish()
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("héllo", 2), "hé");
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn scopes_are_kept_exactly_or_refused() {
        let mut key = RecordKey {
            scope: "é".repeat(SCOPE_LEN),
            username: None,
            ip_address: None,
            user_agent: String::new(),
        };
        assert!(KeyCols::of(&key).is_ok_and(|k| k.scope == key.scope));
        key.scope.push('x');
        assert!(KeyCols::of(&key).is_err(), "too long: refused, not cut");
        assert_eq!(KeyCols::unscoped(&key).scope, "");
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("A_b%c!"), "%a!_b!%c!!%");
    }

    #[test]
    fn alt_indexes_cover_all_combinations() {
        let mut seen = Vec::new();
        for fields in [
            vec![Field::IpAddress],
            vec![Field::Username],
            vec![Field::IpAddress, Field::Username],
            vec![Field::UserAgent],
            vec![Field::IpAddress, Field::UserAgent],
            vec![Field::Username, Field::UserAgent],
            vec![Field::IpAddress, Field::Username, Field::UserAgent],
        ] {
            let alt = Alternative::new(fields).unwrap_or_else(|| unreachable!());
            seen.push(alt_index(&alt));
        }
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn look_up_ids_are_plain_integers() {
        assert_eq!(parse_id("42"), Some(42));
        assert_eq!(parse_id("007"), Some(7));
        for bad in ["", "x", " 1", "-1", "+1", "1.0", "99999999999999999999"] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
        assert_eq!(parse_id(&"9".repeat(10_000)), None);
    }

    #[test]
    fn ids_skip_garbage() {
        let ids = ["3", "x", " 1", "3", "-"].map(String::from);
        assert_eq!(parse_ids(&ids), vec![1, 3]);
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    #[test]
    fn lock_keys_depend_on_values_and_fields() {
        let a = RecordKey {
            scope: String::new(),
            username: Some("u".into()),
            ip_address: Some("1.2.3.4".into()),
            user_agent: "ua".into(),
        };
        let b = RecordKey {
            scope: String::new(),
            username: Some("v".into()),
            ..a.clone()
        };
        let by_ip = LockoutParameters::any_of(&[Field::IpAddress]);
        let by_user = LockoutParameters::any_of(&[Field::Username]);
        let c = RecordKey {
            scope: "rule:1".into(),
            ..a.clone()
        };
        let ka = KeyCols::unscoped(&a);
        let kb = KeyCols::unscoped(&b);
        let kc = KeyCols::of(&c).unwrap_or_else(|_| unreachable!());
        assert_eq!(lock_keys("n", &ka, &by_ip), lock_keys("n", &kb, &by_ip));
        assert_ne!(lock_keys("n", &ka, &by_user), lock_keys("n", &kb, &by_user));
        assert_ne!(lock_keys("n", &ka, &by_ip), lock_keys("m", &ka, &by_ip));
        assert_ne!(lock_keys("n", &ka, &by_ip), lock_keys("n", &kc, &by_ip));
    }
}
