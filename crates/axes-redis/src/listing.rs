//! Listing rows (attempt records and log rows) from a sorted set by time.
//!
//! Without in-process filters a page is one `ZCOUNT` plus one ranged
//! `Z[REV]RANGEBYSCORE … LIMIT` and one pipeline of `HGETALL`s. With a
//! `search` (or both an IP and a username) the candidates of the smallest
//! fitting set are scanned in chunks and filtered here, at most
//! [`MAX_SCAN`] of them; `total` is then a lower bound if the scan stopped
//! early (logged as a warning).
//!
//! A listing of attempt records filtered on an IP or a username whose
//! cross-scope index exists reads two sets (the default scope's index and
//! the cross-scope one): their candidates, at most [`MAX_SCAN`] in all, are
//! filtered and merged in process, then the page is fetched.

use std::collections::HashMap;

use axes_core::error::StoreError;
use axes_core::store::{ListQuery, Order, Page};
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;

use crate::error::map;
use crate::time::score_range;

/// Rows fetched per round trip.
pub(crate) const CHUNK: usize = 500;

/// The most candidates a filtered listing looks at.
pub(crate) const MAX_SCAN: usize = 100_000;

/// The fields of one hash (empty when the key does not exist).
pub(crate) type Fields = HashMap<String, String>;

/// A listable row.
pub(crate) trait Row: Sized {
    /// Builds the row from the member of its sorted set and its hash.
    fn parse(member: &str, fields: Fields) -> Result<Self, StoreError>;
    /// (IP, username, user agent, time) for [`ListQuery::admits`].
    fn filter_values(&self) -> (Option<&str>, Option<&str>, &str, DateTime<Utc>);
}

/// Where and how to list.
#[derive(Debug)]
pub(crate) struct Listing<'a> {
    /// The sorted set of candidates (scored by time, µs).
    pub source: String,
    /// A second sorted set of candidates, with rows not in `source` (the
    /// cross-scope index of attempt records): both are merged in process.
    pub extra: Option<String>,
    /// The set of all rows of this kind (stale members are dropped from it too).
    pub all: String,
    /// The hash of member `m` is this followed by `m`.
    pub row_prefix: String,
    /// Whether the source alone does not implement the filters.
    pub in_process: bool,
    /// The query.
    pub query: &'a ListQuery,
}

pub(crate) async fn list<T: Row>(
    con: &mut ConnectionManager,
    l: Listing<'_>,
) -> Result<Page<T>, StoreError> {
    if let Some(extra) = &l.extra {
        list_merged(con, &l, extra).await
    } else if l.in_process {
        list_filtered(con, &l).await
    } else {
        list_direct(con, &l).await
    }
}

/// The members of `source` in the query's time range and order, from rank
/// `offset`.
async fn range(
    con: &mut ConnectionManager,
    source: &str,
    query: &ListQuery,
    offset: u64,
    count: usize,
) -> Result<Vec<String>, StoreError> {
    let (min, max) = score_range(query.since, query.until);
    let offset = offset.min(i64::MAX as u64);
    let mut cmd = match query.order {
        Order::NewestFirst => {
            let mut c = redis::cmd("ZREVRANGEBYSCORE");
            c.arg(source).arg(max).arg(min);
            c
        }
        Order::OldestFirst => {
            let mut c = redis::cmd("ZRANGEBYSCORE");
            c.arg(source).arg(min).arg(max);
            c
        }
    };
    cmd.arg("LIMIT").arg(offset).arg(count);
    cmd.query_async(con).await.map_err(map)
}

pub(crate) async fn fetch(
    con: &mut ConnectionManager,
    row_prefix: &str,
    members: &[String],
) -> Result<Vec<Fields>, StoreError> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for m in members {
        p.cmd("HGETALL").arg(format!("{row_prefix}{m}"));
    }
    p.query_async(con).await.map_err(map)
}

/// Drops members whose hash is gone (expired) from `source` and the set of
/// all rows.
async fn drop_stale(
    con: &mut ConnectionManager,
    source: &str,
    all: &str,
    stale: &[String],
) -> Result<(), StoreError> {
    if stale.is_empty() {
        return Ok(());
    }
    let mut p = redis::pipe();
    p.cmd("ZREM").arg(source).arg(stale).ignore();
    p.cmd("ZREM").arg(all).arg(stale).ignore();
    p.query_async::<()>(con).await.map_err(map)
}

async fn list_direct<T: Row>(
    con: &mut ConnectionManager,
    l: &Listing<'_>,
) -> Result<Page<T>, StoreError> {
    let limit = usize::try_from(l.query.bounded_limit()).unwrap_or(1000);
    let (min, max) = score_range(l.query.since, l.query.until);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let total: u64 = redis::cmd("ZCOUNT")
            .arg(&l.source)
            .arg(&min)
            .arg(&max)
            .query_async(con)
            .await
            .map_err(map)?;
        let members = range(con, &l.source, l.query, l.query.offset, limit).await?;
        let rows = fetch(con, &l.row_prefix, &members).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut stale = Vec::new();
        for (m, fields) in members.into_iter().zip(rows) {
            if fields.is_empty() {
                stale.push(m);
            } else {
                items.push(T::parse(&m, fields)?);
            }
        }
        if stale.is_empty() || attempt >= 3 {
            let total = total.saturating_sub(stale.len() as u64);
            drop_stale(con, &l.source, &l.all, &stale).await?;
            return Ok(Page { items, total });
        }
        // Some records expired since they were indexed: drop them, read again.
        drop_stale(con, &l.source, &l.all, &stale).await?;
    }
}

async fn list_filtered<T: Row>(
    con: &mut ConnectionManager,
    l: &Listing<'_>,
) -> Result<Page<T>, StoreError> {
    let q = l.query;
    let limit = q.bounded_limit();
    let mut items = Vec::new();
    let mut matched: u64 = 0;
    let mut scanned: usize = 0;
    let mut stale = Vec::new();
    loop {
        let members = range(con, &l.source, q, scanned as u64, CHUNK).await?;
        let n = members.len();
        let rows = fetch(con, &l.row_prefix, &members).await?;
        for (m, fields) in members.into_iter().zip(rows) {
            if fields.is_empty() {
                stale.push(m);
                continue;
            }
            let row = T::parse(&m, fields)?;
            let (ip, user, ua, time) = row.filter_values();
            if q.admits(ip, user, ua, time) {
                if matched >= q.offset && (items.len() as u64) < limit {
                    items.push(row);
                }
                matched += 1;
            }
        }
        scanned += n;
        if n < CHUNK {
            break;
        }
        if scanned >= MAX_SCAN {
            tracing::warn!(
                source = %l.source,
                scanned,
                "redis listing stopped after {MAX_SCAN} candidates; narrow the filters"
            );
            break;
        }
    }
    drop_stale(con, &l.source, &l.all, &stale).await?;
    Ok(Page {
        items,
        total: matched,
    })
}

/// Lists the rows of `l.source` and `extra` (disjoint sets): scans both, at
/// most [`MAX_SCAN`] candidates in all, keeps the time and member of each
/// row the filters admit, sorts them as one set would (by time, then
/// member), and fetches the page.
async fn list_merged<T: Row>(
    con: &mut ConnectionManager,
    l: &Listing<'_>,
    extra: &str,
) -> Result<Page<T>, StoreError> {
    let q = l.query;
    let mut matched: Vec<(DateTime<Utc>, String)> = Vec::new();
    let mut scanned: usize = 0;
    'sources: for source in [l.source.as_str(), extra] {
        let mut offset: usize = 0;
        let mut stale = Vec::new();
        loop {
            if scanned >= MAX_SCAN {
                tracing::warn!(
                    source,
                    scanned,
                    "redis listing stopped after {MAX_SCAN} candidates; narrow the filters"
                );
                drop_stale(con, source, &l.all, &stale).await?;
                break 'sources;
            }
            let members = range(con, source, q, offset as u64, CHUNK).await?;
            let n = members.len();
            let rows = fetch(con, &l.row_prefix, &members).await?;
            for (m, fields) in members.into_iter().zip(rows) {
                if fields.is_empty() {
                    stale.push(m);
                    continue;
                }
                let row = T::parse(&m, fields)?;
                let (ip, user, ua, time) = row.filter_values();
                if q.admits(ip, user, ua, time) {
                    matched.push((time, m));
                }
            }
            offset += n;
            scanned += n;
            if n < CHUNK {
                break;
            }
        }
        drop_stale(con, source, &l.all, &stale).await?;
    }
    matched.sort_unstable();
    if q.order == Order::NewestFirst {
        matched.reverse();
    }
    let total = matched.len() as u64;
    let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(q.bounded_limit()).unwrap_or(CHUNK);
    let page: Vec<String> = matched
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, m)| m)
        .collect();
    let rows = fetch(con, &l.row_prefix, &page).await?;
    let mut items = Vec::with_capacity(rows.len());
    for (m, fields) in page.iter().zip(rows) {
        // a row deleted since the scan is left out
        if !fields.is_empty() {
            items.push(T::parse(m, fields)?);
        }
    }
    Ok(Page { items, total })
}
