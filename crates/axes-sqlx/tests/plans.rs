//! Issue 8 (S2): counting one alternative reads only that alternative's
//! records, through an index on its exact fields and the time (no table
//! scan, no index on one field then a filter). Shown with each dialect's
//! `EXPLAIN` on a table where one address sprayed 1 000 usernames and one
//! username was tried from 1 000 addresses, long ago: their expired records
//! are skipped by the index range, not read. Every record is there twice,
//! in the default scope and in another: the scope follows the fields in
//! each index, before the time, so the other scope's records are not read
//! either.
//!
//! An admin reset or listing (and its count) filtered by ip_address alone
//! or username alone (all scopes) reads an index that leads with that
//! field: the scope does not lead.
//!
//! The block look-up of a reservation (seven candidate targets, both
//! kinds, or manual blocks only) reads the unique key of `axes_blocks`,
//! not the table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axes_core::parameters::{Alternative, Field};
use axes_sqlx::Backend;
use axes_sqlx::testing::{admin_statements, block_lookup_statement, count_statement};

const ROWS: usize = 1000;

/// The seven alternatives with the index each must use.
fn alternatives() -> Vec<(Vec<Field>, &'static str)> {
    use Field::{IpAddress as I, UserAgent as A, Username as U};
    vec![
        (vec![I], "axes_accessattempt_ip_time"),
        (vec![U], "axes_accessattempt_username_time"),
        (vec![I, U], "axes_accessattempt_ip_username_time"),
        (vec![A], "axes_accessattempt_ua_time"),
        (vec![I, A], "axes_accessattempt_ip_ua_time"),
        (vec![U, A], "axes_accessattempt_username_ua_time"),
    ]
}

/// Rows `(ip, username, user_agent, live)`: 203.0.113.9 sprayed usernames
/// and alice was tried from many addresses, all with one user agent, long
/// ago (expired); many other clients are live, and so is the probe
/// attempt's own record (203.0.113.9, alice, ua).
fn spray() -> Vec<(String, String, String, bool)> {
    let mut rows = vec![("203.0.113.9".into(), "alice".into(), "ua".into(), true)];
    for i in 0..ROWS {
        rows.push(("203.0.113.9".into(), format!("user{i}"), "ua".into(), false));
        rows.push((
            format!("10.{}.{}.1", i / 250, i % 250),
            "alice".into(),
            "ua".into(),
            false,
        ));
        for j in 0..3 {
            rows.push((
                format!("172.{j}.{}.{}", i / 250, i % 250),
                format!("other{j}.{i}"),
                format!("agent{j}.{i}"),
                true,
            ));
        }
    }
    rows
}

/// The scope of the probe attempt, and another one holding the same
/// records.
const SCOPES: [&str; 2] = ["", "rule:ip_address:5/1h"];

/// One multi-row insert of [`spray`] in each of [`SCOPES`], with `old` and
/// `new` as the attempt time literals of expired and live records in the
/// dialect.
fn insert_sql(old: &str, new: &str) -> String {
    let rows = spray();
    let values: Vec<String> = SCOPES
        .iter()
        .flat_map(|scope| {
            rows.iter().map(move |(ip, u, ua, live)| {
                let time = if *live { new } else { old };
                format!("('{scope}', '{ip}', '{u}', '{ua}', 1, {time})")
            })
        })
        .collect();
    format!(
        "INSERT INTO axes_accessattempt (scope, ip_address, username, user_agent, failures_since_start, attempt_time) VALUES {}",
        values.join(", ")
    )
}

fn alt(fields: &[Field]) -> Alternative {
    Alternative::new(fields.iter().copied()).unwrap()
}

/// The values of the probe attempt (the spraying address, trying alice) on
/// the fields of `fields`, in bind order.
fn probe(fields: &[Field]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if fields.contains(&Field::IpAddress) {
        out.push("203.0.113.9");
    }
    if fields.contains(&Field::Username) {
        out.push("alice");
    }
    if fields.contains(&Field::UserAgent) {
        out.push("ua");
    }
    out
}

/// The lines of SQLite's `EXPLAIN QUERY PLAN` of a bound statement.
#[cfg(feature = "sqlite")]
async fn sqlite_plan(
    pool: &sqlx::SqlitePool,
    q: sqlx::query::QueryAs<
        '_,
        sqlx::Sqlite,
        (i64, i64, i64, String),
        sqlx::sqlite::SqliteArguments,
    >,
) -> String {
    let plan: Vec<String> = q
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.3)
        .collect();
    plan.join("\n")
}

/// `type`, `key` and `Extra` of MySQL's one-row `EXPLAIN` of a bound
/// statement.
#[cfg(feature = "mysql")]
async fn mysql_plan(
    pool: &sqlx::MySqlPool,
    q: sqlx::query::Query<'_, sqlx::MySql, sqlx::mysql::MySqlArguments>,
) -> (String, String, String) {
    use sqlx::Row;

    let rows = q.fetch_all(pool).await.unwrap();
    assert_eq!(rows.len(), 1);
    let text = |name: &str| -> String {
        let raw: Option<Vec<u8>> = rows[0].try_get(name).unwrap();
        String::from_utf8(raw.unwrap_or_default()).unwrap()
    };
    (text("type"), text("key"), text("Extra"))
}

/// The names of the count indexes of `axes_accessattempt` (`…_time`).
#[cfg(feature = "sqlite")]
async fn sqlite_count_indexes(pool: &sqlx::SqlitePool) -> Vec<String> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'index' \
         AND tbl_name = 'axes_accessattempt' AND name LIKE '%\\_time' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    names.into_iter().map(|(n,)| n).collect()
}

/// Reserves with `fields` through the store, which makes the alternative's
/// count index on demand (migration 0006), in the background, until
/// `index` is there (at most 20 s).
#[cfg(feature = "sqlite")]
async fn ensure_sqlite_index(store: &axes_sqlx::SqliteStore, fields: &[Field], index: &str) {
    use axes_core::parameters::LockoutParameters;
    use axes_core::store::{AttemptDetails, RecordKey, Reservation, Store};

    let parameters = LockoutParameters::new([alt(fields)]).unwrap();
    let key = RecordKey {
        scope: "probe".into(),
        username: Some("alice".into()),
        ip_address: Some("203.0.113.9".into()),
        user_agent: "ua".into(),
    };
    let details = AttemptDetails::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Each reservation asks for the index until it is there (one request
    // at a time is made: a reservation during another's may ask in vain).
    loop {
        store
            .reserve(&Reservation {
                key: &key,
                details: &details,
                parameters: &parameters,
                limit: None,
                window: None,
                count_when_locked: false,
                now: chrono::Utc::now(),
                blocks: &[],
                manual_only: false,
            })
            .await
            .unwrap();
        if sqlite_count_indexes(store.pool())
            .await
            .iter()
            .any(|n| n == index)
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{index} was not made for {fields:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The count indexes made on demand are not there before an alternative
/// needs one, and are made when a reservation first counts it.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_makes_count_indexes_on_demand() {
    use Field::{IpAddress as I, UserAgent as A, Username as U};

    let store = axes_sqlx::testing::fresh_sqlite_store().await;
    assert_eq!(
        sqlite_count_indexes(store.pool()).await,
        [
            "axes_accessattempt_attempt_time",
            "axes_accessattempt_ip_time",
            "axes_accessattempt_username_time",
        ]
    );
    ensure_sqlite_index(&store, &[I, U], "axes_accessattempt_ip_username_time").await;
    ensure_sqlite_index(&store, &[A], "axes_accessattempt_ua_time").await;
    ensure_sqlite_index(&store, &[U, A], "axes_accessattempt_username_ua_time").await;
    assert_eq!(
        sqlite_count_indexes(store.pool()).await,
        [
            "axes_accessattempt_attempt_time",
            "axes_accessattempt_ip_time",
            "axes_accessattempt_ip_username_time",
            "axes_accessattempt_ua_time",
            "axes_accessattempt_username_time",
            "axes_accessattempt_username_ua_time",
        ]
    );
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_counts_use_the_alternative_index() {
    let store = axes_sqlx::testing::fresh_sqlite_store().await;
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(
        "1714464800000000",
        "1714564800000000",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    for (fields, index) in alternatives() {
        ensure_sqlite_index(&store, &fields, index).await;
    }
    // A connection that read the schema before the indexes were made
    // would explain with that schema (EXPLAIN does not check the schema's
    // version, as running a statement does): explain on a new one.
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with((*store.pool().connect_options()).clone())
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    for (fields, index) in alternatives() {
        let sql = count_statement(Backend::Sqlite, &alt(&fields)).unwrap();
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {sql}"
        )))
        .bind(1_714_564_000_000_000_i64)
        .bind(SCOPES[0]);
        for v in probe(&fields) {
            q = q.bind(v);
        }
        let plan = sqlite_plan(&pool, q).await;
        assert!(
            plan.contains(&format!("USING COVERING INDEX {index} (")),
            "{fields:?}: {plan}"
        );
        assert!(
            plan.contains(" AND scope=? AND attempt_time>?)"),
            "{fields:?}: {plan}"
        );
        assert!(!plan.contains("SCAN"), "{fields:?}: {plan}");
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_counts_use_the_alternative_index() {
    let Some(store) = axes_sqlx::testing::fresh_postgres_store().await else {
        return;
    };
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(
        "'2024-04-01T12:00:00Z'::TIMESTAMPTZ",
        "'2024-05-01T12:00:00Z'::TIMESTAMPTZ",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE axes_accessattempt")
        .execute(store.pool())
        .await
        .unwrap();
    let since = chrono::DateTime::parse_from_rfc3339("2024-05-01T11:00:00Z")
        .unwrap()
        .to_utc();
    for (fields, index) in alternatives() {
        let sql = count_statement(Backend::Postgres, &alt(&fields)).unwrap();
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
            .bind(since)
            .bind(SCOPES[0]);
        for v in probe(&fields) {
            q = q.bind(v);
        }
        let plan = q.fetch_all(store.pool()).await.unwrap().join("\n");
        assert!(
            plan.contains(&format!(" using {index} ")),
            "{fields:?}: {plan}"
        );
        let cond = plan
            .lines()
            .find(|l| l.contains("Index Cond: "))
            .unwrap_or_default();
        assert!(
            cond.contains(" AND (scope = ") && cond.contains(" AND (attempt_time > "),
            "{fields:?}: {plan}"
        );
        assert!(!plan.contains("Seq Scan"), "{fields:?}: {plan}");
    }
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn mysql_counts_use_the_alternative_index() {
    let Some(store) = axes_sqlx::testing::fresh_mysql_store().await else {
        return;
    };
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(
        "'2024-04-01 12:00:00'",
        "'2024-05-01 12:00:00'",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE TABLE axes_accessattempt")
        .execute(store.pool())
        .await
        .unwrap();
    let since = chrono::DateTime::parse_from_rfc3339("2024-05-01T11:00:00Z")
        .unwrap()
        .to_utc();
    for (fields, index) in alternatives() {
        let sql = count_statement(Backend::MySql, &alt(&fields)).unwrap();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
            .bind(since)
            .bind(SCOPES[0]);
        for v in probe(&fields) {
            q = q.bind(v);
        }
        let (access, key, extra) = mysql_plan(store.pool(), q).await;
        assert_eq!(key, index, "{fields:?}: {access} {key} {extra}");
        assert_eq!(access, "range", "{fields:?}: {access} {key} {extra}");
        assert!(
            extra.contains("Using index"),
            "{fields:?}: {access} {key} {extra}"
        );
    }
}

/// Block rows of both kinds on many targets, with `time` as the dialect's
/// literal of their `created_at`.
fn blocks_insert_sql(time: &str) -> String {
    let values: Vec<String> = (0..ROWS * 2)
        .map(|i| {
            let kind = if i % 2 == 0 { "manual" } else { "lockout" };
            format!(
                "('{kind}', 'i9:10.0.{}.{}u-a-', '10.0.{}.{}', {time})",
                i / 250,
                i % 250,
                i / 250,
                i % 250
            )
        })
        .collect();
    format!(
        "INSERT INTO axes_blocks (kind, target_key, ip_address, created_at) VALUES {}",
        values.join(", ")
    )
}

/// Seven candidate keys, as a reservation binds them.
fn block_keys() -> Vec<String> {
    (0..7).map(|i| format!("i9:10.0.3.{i}u-a-")).collect()
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_block_lookup_uses_the_unique_key() {
    let store = axes_sqlx::testing::fresh_sqlite_store().await;
    sqlx::query(sqlx::AssertSqlSafe(blocks_insert_sql("1714564800000000")))
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    for manual_only in [false, true] {
        let sql = block_lookup_statement(Backend::Sqlite, manual_only).unwrap();
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {sql}"
        )));
        for k in block_keys() {
            q = q.bind(k);
        }
        let plan = sqlite_plan(store.pool(), q).await;
        assert!(
            plan.contains("USING INDEX axes_blocks_key (kind=? AND target_key=?)"),
            "{manual_only}: {plan}"
        );
        assert!(!plan.contains("SCAN"), "{manual_only}: {plan}");
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_block_lookup_uses_the_unique_key() {
    let Some(store) = axes_sqlx::testing::fresh_postgres_store().await else {
        return;
    };
    sqlx::query(sqlx::AssertSqlSafe(blocks_insert_sql(
        "'2024-05-01T12:00:00Z'::TIMESTAMPTZ",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE axes_blocks")
        .execute(store.pool())
        .await
        .unwrap();
    for manual_only in [false, true] {
        let sql = block_lookup_statement(Backend::Postgres, manual_only).unwrap();
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
        for k in block_keys() {
            q = q.bind(k);
        }
        let plan = q.fetch_all(store.pool()).await.unwrap().join("\n");
        assert!(plan.contains(" axes_blocks_key"), "{manual_only}: {plan}");
        assert!(!plan.contains("Seq Scan"), "{manual_only}: {plan}");
    }
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn mysql_block_lookup_uses_the_unique_key() {
    let Some(store) = axes_sqlx::testing::fresh_mysql_store().await else {
        return;
    };
    sqlx::query(sqlx::AssertSqlSafe(blocks_insert_sql(
        "'2024-05-01 12:00:00'",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE TABLE axes_blocks")
        .execute(store.pool())
        .await
        .unwrap();
    for manual_only in [false, true] {
        let sql = block_lookup_statement(Backend::MySql, manual_only).unwrap();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
        for k in block_keys() {
            q = q.bind(k);
        }
        let (access, key, _) = mysql_plan(store.pool(), q).await;
        assert_eq!(key, "axes_blocks_key", "{manual_only}: {access} {key}");
        assert_eq!(access, "range", "{manual_only}: {access} {key}");
    }
}

/// An admin filter on one field: the address and the username given (a
/// value few records have), the column, and the indexes that lead with it.
type AdminFilter = (
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    [&'static str; 3],
);

/// The filters of an admin reset or listing on one field.
fn admin_filters() -> [AdminFilter; 2] {
    [
        (
            Some("10.0.3.1"),
            None,
            "ip_address",
            [
                "axes_accessattempt_ip_time",
                "axes_accessattempt_ip_username_time",
                "axes_accessattempt_ip_ua_time",
            ],
        ),
        (
            None,
            Some("user7"),
            "username",
            [
                "axes_accessattempt_username_time",
                "axes_accessattempt_username_ua_time",
                "axes_accessattempt_key",
            ],
        ),
    ]
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_admin_filters_use_an_index() {
    let store = axes_sqlx::testing::fresh_sqlite_store().await;
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(
        "1714464800000000",
        "1714564800000000",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    for (ip, username, column, indexes) in admin_filters() {
        let statements = admin_statements(Backend::Sqlite, ip, username).unwrap();
        // The reset, the listing, its count.
        for (i, sql) in statements.into_iter().enumerate() {
            let q = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
                "EXPLAIN QUERY PLAN {sql}"
            )))
            .bind(ip)
            .bind(username);
            let q = if i == 0 {
                q
            } else {
                q.bind(None::<&str>).bind(None::<i64>).bind(None::<i64>)
            };
            let q = if i == 1 {
                q.bind(50_i64).bind(0_i64)
            } else {
                q
            };
            let plan = sqlite_plan(store.pool(), q).await;
            assert!(
                indexes
                    .iter()
                    .any(|i| plan.contains(&format!(" {i} ({column}=?)"))),
                "{column}: {sql}: {plan}"
            );
            assert!(!plan.contains("SCAN"), "{column}: {sql}: {plan}");
        }
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_admin_filters_use_an_index() {
    let Some(store) = axes_sqlx::testing::fresh_postgres_store().await else {
        return;
    };
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(
        "'2024-04-01T12:00:00Z'::TIMESTAMPTZ",
        "'2024-05-01T12:00:00Z'::TIMESTAMPTZ",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE axes_accessattempt")
        .execute(store.pool())
        .await
        .unwrap();
    for (ip, username, column, indexes) in admin_filters() {
        let statements = admin_statements(Backend::Postgres, ip, username).unwrap();
        // The reset, the listing, its count.
        for (i, sql) in statements.into_iter().enumerate() {
            let q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
                .bind(ip)
                .bind(username);
            let q = if i == 0 {
                q
            } else {
                q.bind(None::<&str>)
                    .bind(None::<chrono::DateTime<chrono::Utc>>)
                    .bind(None::<chrono::DateTime<chrono::Utc>>)
            };
            let q = if i == 1 {
                q.bind(50_i64).bind(0_i64)
            } else {
                q
            };
            let plan = q.fetch_all(store.pool()).await.unwrap().join("\n");
            assert!(
                // "Index Scan using IDX on TABLE" or "Bitmap Index Scan on IDX".
                indexes.iter().any(|i| plan.contains(&format!(" on {i} "))
                    || plan.contains(&format!("using {i} "))),
                "{column}: {sql}: {plan}"
            );
            let cond = plan
                .lines()
                .find(|l| l.contains("Index Cond: "))
                .unwrap_or_default();
            assert!(
                cond.contains(&format!("({column} = "))
                    || cond.contains(&format!("(({column})::text = ")),
                "{column}: {sql}: {plan}"
            );
            assert!(!plan.contains("Seq Scan"), "{column}: {sql}: {plan}");
        }
    }
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn mysql_admin_filters_use_an_index() {
    let Some(store) = axes_sqlx::testing::fresh_mysql_store().await else {
        return;
    };
    sqlx::query(sqlx::AssertSqlSafe(insert_sql(
        "'2024-04-01 12:00:00'",
        "'2024-05-01 12:00:00'",
    )))
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE TABLE axes_accessattempt")
        .execute(store.pool())
        .await
        .unwrap();
    for (ip, username, column, indexes) in admin_filters() {
        let statements = admin_statements(Backend::MySql, ip, username).unwrap();
        // The reset, the listing, its count.
        for (i, sql) in statements.into_iter().enumerate() {
            let q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
                .bind(ip)
                .bind(ip)
                .bind(username)
                .bind(username);
            let q = if i == 0 {
                q
            } else {
                let none = None::<chrono::DateTime<chrono::Utc>>;
                q.bind(None::<&str>)
                    .bind(None::<&str>)
                    .bind(None::<&str>)
                    .bind(None::<&str>)
                    .bind(none)
                    .bind(none)
                    .bind(none)
                    .bind(none)
            };
            let q = if i == 1 {
                q.bind(50_i64).bind(0_i64)
            } else {
                q
            };
            let (access, key, extra) = mysql_plan(store.pool(), q).await;
            assert!(
                indexes.contains(&key.as_str()),
                "{column}: {sql}: {access} {key} {extra}"
            );
            assert!(
                access == "ref" || access == "range",
                "{column}: {sql}: {access} {key} {extra}"
            );
        }
    }
}
