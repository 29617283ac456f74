#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SPEC §3, "shared state is exact too": two `axes demo` processes sharing
//! one store see one count. 200 concurrent wrong passwords for one username,
//! spread over both processes, reach the credential check exactly
//! `failure_limit` (5) times in total, and the store holds exactly 5
//! failures. An operator's `axes reset-username` then lets the user in on
//! both.
//!
//! Stores: PostgreSQL (`AXES_TEST_POSTGRES_URL`, a fresh database per run),
//! MySQL/MariaDB (`AXES_TEST_MYSQL_URL`, a fresh database), Redis
//! (`AXES_TEST_REDIS_URL`, a fresh key prefix), and one SQLite file shared by
//! both processes. A missing variable skips its test loudly (fails under
//! `CI`).
//!
//! Also checks that concurrent `axes migrate` runs on a fresh database are
//! safe (as when several servers start at once) on every SQL store.
//!
//! ```text
//! AXES_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! AXES_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//! AXES_TEST_REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo test -p axes-cli --test multi_process
//! ```

mod process_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use process_support::{AxesEnv, PASSWORD, USER, checks, client, env_or_skip, login, stats};
use sqlx::{AssertSqlSafe, Connection as _, Executor as _};

/// Concurrent wrong passwords sent.
const ATTEMPTS: usize = 200;
/// `failure_limit` of both processes.
const LIMIT: u64 = 5;

/// One scenario at a time: each starts two servers and sends 200 requests,
/// and CI has two cores. Store timeouts under a CPU pile-up would make the
/// engine fail open and spoil the count being tested.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The settings of the scenario (the store comes on top).
fn scenario_env() -> AxesEnv {
    AxesEnv::new()
        .set("AXES_FAILURE_LIMIT", &LIMIT.to_string())
        .set("AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT", "false")
        .set("AXES_LOCKOUT_PARAMETERS", "username")
}

/// Runs `f` to completion on a runtime of its own, in a thread of its own
/// (usable from `Drop` inside a test's runtime).
fn block_on_thread<F>(f: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
    .join()
    .unwrap()
}

/// `url` with its database (path) replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with ://");
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let authority = main.split_once('/').map_or(main, |(a, _)| a);
    match query {
        Some(q) => format!("{scheme}://{authority}/{db}?{q}"),
        None => format!("{scheme}://{authority}/{db}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sql {
    Postgres,
    MySql,
}

/// A database created for one test and dropped afterwards (also when the
/// test panics). Leftovers of killed runs older than an hour are dropped by
/// later runs.
#[derive(Debug)]
struct ScratchDatabase {
    sql: Sql,
    admin_url: String,
    name: String,
    url: String,
}

const SCRATCH_PREFIX: &str = "axes_mp_";

fn is_stale(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(SCRATCH_PREFIX) else {
        return false;
    };
    let plain = rest
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || c == '_');
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let created = rest.split('_').next().and_then(|s| s.parse::<u64>().ok());
    plain && created.is_some_and(|t| now.saturating_sub(t) > 3600)
}

fn drop_sql(sql: Sql, name: &str) -> String {
    match sql {
        Sql::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        Sql::MySql => format!("DROP DATABASE IF EXISTS `{name}`"),
    }
}

impl ScratchDatabase {
    async fn create(sql: Sql, admin_url: &str) -> Self {
        let name = process_support::scratch_name(SCRATCH_PREFIX);
        match sql {
            Sql::Postgres => {
                let mut con = sqlx::PgConnection::connect(admin_url).await.unwrap();
                let old: Vec<(String,)> =
                    sqlx::query_as("SELECT datname::TEXT FROM pg_database WHERE datname LIKE 'axes!_mp!_%' ESCAPE '!'")
                        .fetch_all(&mut con)
                        .await
                        .unwrap_or_default();
                for (n,) in old.into_iter().filter(|(n,)| is_stale(n)) {
                    let _ = con.execute(AssertSqlSafe(drop_sql(sql, &n))).await;
                }
                con.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await
                    .unwrap();
                let _ = con.close().await;
            }
            Sql::MySql => {
                let mut con = sqlx::MySqlConnection::connect(admin_url).await.unwrap();
                let old: Vec<(String,)> = sqlx::query_as(
                    "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
                     WHERE schema_name LIKE 'axes!_mp!_%' ESCAPE '!'",
                )
                .fetch_all(&mut con)
                .await
                .unwrap_or_default();
                for (n,) in old.into_iter().filter(|(n,)| is_stale(n)) {
                    let _ = con.execute(AssertSqlSafe(drop_sql(sql, &n))).await;
                }
                // The server's defaults, as an operator would create it.
                con.execute(AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
                    .await
                    .unwrap();
                let _ = con.close().await;
            }
        }
        let url = with_database(admin_url, &name);
        ScratchDatabase {
            sql,
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (sql, admin_url, statement) = (
            self.sql,
            self.admin_url.clone(),
            drop_sql(self.sql, &self.name),
        );
        block_on_thread(async move {
            let result = match sql {
                Sql::Postgres => match sqlx::PgConnection::connect(&admin_url).await {
                    Ok(mut c) => c.execute(AssertSqlSafe(statement)).await.map(drop),
                    Err(e) => Err(e),
                },
                Sql::MySql => match sqlx::MySqlConnection::connect(&admin_url).await {
                    Ok(mut c) => c.execute(AssertSqlSafe(statement)).await.map(drop),
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = result {
                eprintln!("could not drop a scratch database: {e}");
            }
        });
    }
}

/// A Redis key prefix wiped after the test (also when it panics).
#[derive(Debug)]
struct ScratchPrefix {
    url: String,
    prefix: String,
}

impl Drop for ScratchPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        block_on_thread(async move {
            if let Ok(store) = axes_redis::RedisStore::connect(&url, &prefix).await {
                let _ = store.wipe().await;
            }
        });
    }
}

/// Sum of `failures` over `axes list --json`.
fn listed_failures(env: &AxesEnv) -> (u64, Vec<serde_json::Value>) {
    let run = env.run(&["list", "--json"]);
    let records: Vec<serde_json::Value> = serde_json::from_str(run.ok()).unwrap();
    let sum = records
        .iter()
        .map(|r| r["failures"].as_u64().unwrap())
        .sum();
    (sum, records)
}

/// The scenario on the store `env` names (schema migrated by the caller).
async fn two_processes_one_count(label: &str, env: AxesEnv) {
    let a = env.demo("a");
    let b = env.demo("b");
    let probe = client();
    for p in [&a, &b] {
        process_support::wait_healthy(&probe, &p.url, Duration::from_secs(30)).await;
    }
    assert_eq!(
        checks(&probe, &a.url).await + checks(&probe, &b.url).await,
        0
    );

    // 200 wrong passwords at once, alternating between the processes.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let gate = Arc::new(tokio::sync::Barrier::new(ATTEMPTS));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(ATTEMPTS);
    for i in 0..ATTEMPTS {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        let (http, gate, url) = (http.clone(), gate.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            http.post(format!("{url}/login"))
                .form(&[("username", USER), ("password", &format!("wrong-{i}"))])
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    let mut statuses = Vec::with_capacity(ATTEMPTS);
    for t in tasks {
        statuses.push(t.await.unwrap().unwrap());
    }
    let elapsed = started.elapsed();
    let count = |code: u16| statuses.iter().filter(|s| **s == code).count();
    let (ca, cb) = (checks(&probe, &a.url).await, checks(&probe, &b.url).await);
    let (sa, sb) = (stats(&probe, &a.url).await, stats(&probe, &b.url).await);
    eprintln!(
        "{label}: {ATTEMPTS} concurrent wrong logins in {elapsed:?}: \
         credential checks a={ca} b={cb}; 401: {}, 429: {}; store a={} b={}",
        count(401),
        count(429),
        sa["store"],
        sb["store"],
    );
    // No store call failed or timed out: the engine never had to fail open.
    for s in [&sa, &sb] {
        assert_eq!(s["store"]["errors"], 0, "{label}: store errors: {s}");
    }
    assert_eq!(
        ca + cb,
        LIMIT,
        "{label}: the credential check ran {} times (a={ca}, b={cb})",
        ca + cb
    );
    assert_eq!(
        count(401) + count(429),
        ATTEMPTS,
        "{label}: only 401 and 429 expected: {statuses:?}"
    );
    // Failures 1..4 get the form again; the 5th already gets the lockout.
    assert_eq!(count(401), (LIMIT - 1) as usize, "{label}: {statuses:?}");

    let (failures, records) = listed_failures(&env);
    assert_eq!(failures, LIMIT, "{label}: records {records:#?}");
    assert!(
        records.iter().all(|r| r["username"] == USER),
        "{label}: {records:#?}"
    );

    let reset = env.run(&["reset-username", USER]);
    assert!(
        reset.ok().contains("attempts removed."),
        "{label}: {reset:?}"
    );
    for p in [&a, &b] {
        let (status, _) = login(&probe, &p.url, USER, PASSWORD).await;
        assert_eq!(
            status, 303,
            "{label}: right password on {} after reset",
            p.name
        );
    }
    assert_eq!(
        checks(&probe, &a.url).await + checks(&probe, &b.url).await,
        LIMIT + 2
    );
}

/// Starts `n` `axes migrate` at once on a fresh schema; all must succeed.
fn concurrent_migrate(label: &str, env: &AxesEnv, n: usize) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            env.command(&["migrate"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let failed: Vec<process_support::Run> = children
        .into_iter()
        .map(|c| process_support::Run::from(c.wait_with_output().unwrap()))
        .filter(|run| run.code != 0 || !run.stdout.contains("Schema is up to date"))
        .collect();
    // Whatever happened, the schema must end up complete and usable.
    let after = env.run(&["migrate"]);
    assert_eq!(
        after.code, 0,
        "{label}: the schema is broken after concurrent migrations: {after:#?}"
    );
    env.run(&["list"]).ok();
    assert!(
        failed.is_empty(),
        "{label}: {} of {n} concurrent `axes migrate` failed (the schema is fine afterwards): {failed:#?}",
        failed.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_processes_one_count() {
    let Some(url) = env_or_skip(
        "AXES_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    ) else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let db = ScratchDatabase::create(Sql::Postgres, &url).await;
    let env = scenario_env()
        .set("AXES_HANDLER", "database")
        .set("AXES_DATABASE_URL", &db.url);
    env.run(&["migrate"]).ok();
    two_processes_one_count("postgres", env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_two_processes_one_count() {
    let Some(url) = env_or_skip("AXES_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test") else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let db = ScratchDatabase::create(Sql::MySql, &url).await;
    let env = scenario_env()
        .set("AXES_HANDLER", "database")
        .set("AXES_DATABASE_URL", &db.url);
    env.run(&["migrate"]).ok();
    two_processes_one_count("mysql", env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_two_processes_one_count() {
    let Some(url) = env_or_skip("AXES_TEST_REDIS_URL", "redis://127.0.0.1:6379") else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let scratch = ScratchPrefix {
        url: url.clone(),
        prefix: format!("{}:", process_support::scratch_name("axes-mp-")),
    };
    let env = scenario_env()
        .set("AXES_HANDLER", "cache")
        .set("AXES_CACHE_URL", &url)
        .set("AXES_CACHE_PREFIX", &scratch.prefix);
    // Nothing to migrate, but the command must say so and succeed.
    env.run(&["migrate"]).ok();
    two_processes_one_count("redis", env).await;
}

/// Two processes on one host sharing one SQLite file (WAL).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_processes_one_count() {
    let _serial = SERIAL.lock().await;
    let env = scenario_env().set("AXES_HANDLER", "database");
    let url = format!("sqlite://{}", env.dir().join("axes.db").display());
    let env = env.set("AXES_DATABASE_URL", &url);
    env.run(&["migrate"]).ok();
    two_processes_one_count("sqlite", env).await;
}

#[tokio::test]
async fn postgres_concurrent_migrate_is_safe() {
    let Some(url) = env_or_skip(
        "AXES_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    ) else {
        return;
    };
    let db = ScratchDatabase::create(Sql::Postgres, &url).await;
    let env = AxesEnv::new()
        .set("AXES_HANDLER", "database")
        .set("AXES_DATABASE_URL", &db.url);
    tokio::task::spawn_blocking(move || concurrent_migrate("postgres", &env, 4))
        .await
        .unwrap();
}

#[tokio::test]
async fn mysql_concurrent_migrate_is_safe() {
    let Some(url) = env_or_skip("AXES_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test") else {
        return;
    };
    let db = ScratchDatabase::create(Sql::MySql, &url).await;
    let env = AxesEnv::new()
        .set("AXES_HANDLER", "database")
        .set("AXES_DATABASE_URL", &db.url);
    tokio::task::spawn_blocking(move || concurrent_migrate("mysql", &env, 4))
        .await
        .unwrap();
}

#[tokio::test]
async fn sqlite_concurrent_migrate_is_safe() {
    let env = AxesEnv::new().set("AXES_HANDLER", "database");
    let url = format!("sqlite://{}", env.dir().join("axes.db").display());
    let env = env.set("AXES_DATABASE_URL", &url);
    tokio::task::spawn_blocking(move || concurrent_migrate("sqlite", &env, 4))
        .await
        .unwrap();
}

#[test]
fn database_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("mysql://root@h:3306/test?ssl-mode=disabled", "x"),
        "mysql://root@h:3306/x?ssl-mode=disabled"
    );
    assert_eq!(with_database("mysql://root@h", "x"), "mysql://root@h/x");
    assert!(is_stale("axes_mp_1000_abcdef012345"));
    assert!(!is_stale(&process_support::scratch_name(SCRATCH_PREFIX)));
}
