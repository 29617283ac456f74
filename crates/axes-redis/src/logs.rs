//! The access log and the failure log.
//!
//! Rows are hashes numbered by an `INCR` counter; their members in the sorted
//! sets are the numbers zero-padded to 16 digits, so rows with the same time
//! sort by number. The public id is the plain number.

use std::collections::BTreeSet;

use axes_core::error::StoreError;
use axes_core::store::{
    AccessLogRecord, FailureLogRecord, ListQuery, NewAccessLog, NewFailureLog, Page, RecordKey,
};
use chrono::{DateTime, Utc};

use crate::RedisStore;
use crate::error::{corrupt, map};
use crate::keys::{Log, log_member_of_public, log_public_id};
use crate::listing::{self, CHUNK, Fields, Listing, Row};
use crate::scripts;
use crate::time::{micros, parse_micros};

/// Batches one log reset may take.
const MAX_BATCHES: usize = 100_000;

impl RedisStore {
    pub(crate) async fn do_insert_access_log(&self, e: &NewAccessLog) -> Result<(), StoreError> {
        let log = Log::Access;
        let t = micros(e.attempt_time);
        let mut inv = scripts::LOG_INSERT.prepare_invoke();
        inv.key(self.keys.log_seq(log))
            .key(self.keys.log_all(log))
            .key(self.keys.log_user(log, e.key.username.as_deref()))
            .key(self.keys.log_ip(log, e.key.ip_address.as_deref()))
            .key(
                self.keys
                    .access_open(e.key.username.as_deref(), &e.session_hash),
            )
            .arg(self.keys.log_row_prefix(log))
            .arg(t)
            .arg(-1)
            .arg("t")
            .arg(t)
            .arg("a")
            .arg(&e.key.user_agent)
            .arg("path")
            .arg(&e.path)
            .arg("acc")
            .arg(&e.http_accept)
            .arg("sh")
            .arg(&e.session_hash);
        key_fields(&mut inv, &e.key);
        inv.invoke_async::<i64>(&mut self.con())
            .await
            .map_err(map)?;
        Ok(())
    }

    pub(crate) async fn do_close_access_log(
        &self,
        username: &str,
        session_hash: &str,
        logout_time: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let open = self.keys.access_open(Some(username), session_hash);
        let prefix = self.keys.log_row_prefix(Log::Access);
        let mut con = self.con();
        let mut closed = 0;
        for _ in 0..MAX_BATCHES {
            let (n, popped): (u64, usize) = scripts::LOG_CLOSE
                .key(&open)
                .arg(&prefix)
                .arg(micros(logout_time))
                .arg(CHUNK)
                .invoke_async(&mut con)
                .await
                .map_err(map)?;
            closed += n;
            if popped < CHUNK {
                break;
            }
        }
        Ok(closed)
    }

    pub(crate) async fn do_insert_failure_log(
        &self,
        e: &NewFailureLog,
        per_user_limit: u32,
    ) -> Result<(), StoreError> {
        let log = Log::Failure;
        let t = micros(e.attempt_time);
        let mut inv = scripts::LOG_INSERT.prepare_invoke();
        inv.key(self.keys.log_seq(log))
            .key(self.keys.log_all(log))
            .key(self.keys.log_user(log, e.key.username.as_deref()))
            .key(self.keys.log_ip(log, e.key.ip_address.as_deref()))
            .arg(self.keys.log_row_prefix(log))
            .arg(t)
            .arg(per_user_limit)
            .arg("t")
            .arg(t)
            .arg("a")
            .arg(&e.key.user_agent)
            .arg("path")
            .arg(&e.path)
            .arg("acc")
            .arg(&e.http_accept)
            .arg("lk")
            .arg(if e.locked_out { "1" } else { "0" });
        key_fields(&mut inv, &e.key);
        inv.invoke_async::<i64>(&mut self.con())
            .await
            .map_err(map)?;
        Ok(())
    }

    pub(crate) async fn reset_log(
        &self,
        log: Log,
        before: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        let all = self.keys.log_all(log);
        let prefix = self.keys.log_row_prefix(log);
        let mut con = self.con();
        let mut deleted = 0;
        for _ in 0..MAX_BATCHES {
            let members: Vec<String> = match before {
                Some(b) => redis::cmd("ZRANGEBYSCORE")
                    .arg(&all)
                    .arg("-inf")
                    .arg(micros(b))
                    .arg("LIMIT")
                    .arg(0)
                    .arg(CHUNK)
                    .query_async(&mut con)
                    .await
                    .map_err(map)?,
                None => redis::cmd("ZRANGE")
                    .arg(&all)
                    .arg(0)
                    .arg(CHUNK - 1)
                    .query_async(&mut con)
                    .await
                    .map_err(map)?,
            };
            if members.is_empty() {
                break;
            }
            // every member is removed from `all`, so the loop advances
            let n: u64 = scripts::LOG_DELETE
                .key(&all)
                .arg(&prefix)
                .arg(&members)
                .invoke_async(&mut con)
                .await
                .map_err(map)?;
            deleted += n;
            if members.len() < CHUNK {
                break;
            }
        }
        Ok(deleted)
    }

    pub(crate) async fn delete_log_rows(
        &self,
        log: Log,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let members: BTreeSet<String> = ids
            .iter()
            .filter_map(|id| log_member_of_public(id))
            .collect();
        let members: Vec<String> = members.into_iter().collect();
        let all = self.keys.log_all(log);
        let prefix = self.keys.log_row_prefix(log);
        let mut con = self.con();
        let mut deleted = 0;
        for chunk in members.chunks(CHUNK) {
            let n: u64 = scripts::LOG_DELETE
                .key(&all)
                .arg(&prefix)
                .arg(chunk)
                .invoke_async(&mut con)
                .await
                .map_err(map)?;
            deleted += n;
        }
        Ok(deleted)
    }

    /// Reads the row hash of public id `id` (`None`: not a log id, or gone).
    pub(crate) async fn get_log_row<T: Row>(
        &self,
        log: Log,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let Some(member) = log_member_of_public(id) else {
            return Ok(None);
        };
        let fields: Fields = redis::cmd("HGETALL")
            .arg(format!("{}{member}", self.keys.log_row_prefix(log)))
            .query_async(&mut self.con())
            .await
            .map_err(map)?;
        if fields.is_empty() {
            return Ok(None);
        }
        T::parse(&member, fields).map(Some)
    }

    pub(crate) async fn list_log<T: Row>(
        &self,
        log: Log,
        q: &ListQuery,
    ) -> Result<Page<T>, StoreError> {
        let (source, in_process) = match (&q.username, &q.ip_address) {
            (Some(u), ip) => (
                self.keys.log_user(log, Some(u)),
                ip.is_some() || q.search.is_some(),
            ),
            (None, Some(ip)) => (self.keys.log_ip(log, Some(ip)), q.search.is_some()),
            (None, None) => (self.keys.log_all(log), q.search.is_some()),
        };
        let l = Listing {
            source,
            extra: None,
            all: self.keys.log_all(log),
            row_prefix: self.keys.log_row_prefix(log),
            in_process,
            query: q,
        };
        listing::list(&mut self.con(), l).await
    }

    /// Deletes the log counters (after the rows are gone).
    pub(crate) async fn drop_log_counters(&self) -> Result<(), StoreError> {
        redis::cmd("DEL")
            .arg(self.keys.log_seq(Log::Access))
            .arg(self.keys.log_seq(Log::Failure))
            .query_async::<()>(&mut self.con())
            .await
            .map_err(map)
    }
}

/// Appends the optional username and IP fields.
fn key_fields(inv: &mut redis::ScriptInvocation<'_>, key: &RecordKey) {
    if let Some(u) = &key.username {
        inv.arg("u").arg(u);
    }
    if let Some(ip) = &key.ip_address {
        inv.arg("i").arg(ip);
    }
}

fn row_key(f: &mut Fields) -> RecordKey {
    RecordKey {
        scope: String::new(),
        username: f.remove("u"),
        ip_address: f.remove("i"),
        user_agent: f.remove("a").unwrap_or_default(),
    }
}

fn row_time(member: &str, f: &Fields, field: &str) -> Result<DateTime<Utc>, StoreError> {
    parse_micros(
        f.get(field)
            .ok_or_else(|| corrupt(format!("log row {member} has no {field}")))?,
    )
}

impl Row for AccessLogRecord {
    fn parse(member: &str, mut f: Fields) -> Result<Self, StoreError> {
        let attempt_time = row_time(member, &f, "t")?;
        let logout_time = match f.get("lo") {
            Some(_) => Some(row_time(member, &f, "lo")?),
            None => None,
        };
        Ok(AccessLogRecord {
            id: log_public_id(member),
            entry: NewAccessLog {
                key: row_key(&mut f),
                path: f.remove("path").unwrap_or_default(),
                http_accept: f.remove("acc").unwrap_or_default(),
                attempt_time,
                session_hash: f.remove("sh").unwrap_or_default(),
            },
            logout_time,
        })
    }

    fn filter_values(&self) -> (Option<&str>, Option<&str>, &str, DateTime<Utc>) {
        let k = &self.entry.key;
        (
            k.ip_address.as_deref(),
            k.username.as_deref(),
            &k.user_agent,
            self.entry.attempt_time,
        )
    }
}

impl Row for FailureLogRecord {
    fn parse(member: &str, mut f: Fields) -> Result<Self, StoreError> {
        let attempt_time = row_time(member, &f, "t")?;
        Ok(FailureLogRecord {
            id: log_public_id(member),
            entry: NewFailureLog {
                key: row_key(&mut f),
                path: f.remove("path").unwrap_or_default(),
                http_accept: f.remove("acc").unwrap_or_default(),
                attempt_time,
                locked_out: f.get("lk").is_some_and(|v| v == "1"),
            },
        })
    }

    fn filter_values(&self) -> (Option<&str>, Option<&str>, &str, DateTime<Utc>) {
        let k = &self.entry.key;
        (
            k.ip_address.as_deref(),
            k.username.as_deref(),
            &k.user_agent,
            self.entry.attempt_time,
        )
    }
}
