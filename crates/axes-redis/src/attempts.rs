//! Attempt records: reserve, count, release, resets, listing.

use std::collections::BTreeSet;

use axes_core::error::StoreError;
use axes_core::parameters::{Field, LockoutParameters};
use axes_core::store::{
    AlternativeCount, AttemptDetails, AttemptRecord, BlockTarget, FailureQuery, Failures,
    ListQuery, Page, RecordKey, Reservation, ReservationToken, ReserveOutcome, ResetFilter,
};
use chrono::{DateTime, Duration, Utc};
use redis::{Script, ScriptInvocation, Value};

use crate::RedisStore;
use crate::blocks::{Reply, candidate_keys, parse_reply};
use crate::error::{corrupt, map};
use crate::keys::{RecordKeys, is_record_id};
use crate::listing::{self, Fields, Listing, Row};
use crate::scripts;
use crate::time::{from_micros, micros, parse_micros, ttl_millis, window_micros};

/// Matching records an alternative's count looks at before it stops (raised
/// to the limit when the limit is higher, so the decision stays exact:
/// every record holds at least one failure).
const MATCH_CAP: u32 = 100;

/// Index entries an alternative's count looks at before it stops.
const SCAN_CAP: u32 = 10_000;

/// Ids per batch of a reset, clear or purge (one script call each).
const DELETE_BATCH: usize = 500;

/// Batches one reset may take (a bound against a set that keeps growing).
const MAX_BATCHES: usize = 100_000;

/// The letters of an alternative's fields, as the scripts read them.
fn mask(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| match f {
            Field::IpAddress => 'i',
            Field::Username => 'u',
            Field::UserAgent => 'a',
        })
        .collect()
}

fn flag(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

/// What the counting scripts need besides the keys.
struct CountCall<'a> {
    key: &'a RecordKey,
    details: Option<&'a AttemptDetails>,
    parameters: &'a LockoutParameters,
    window: Option<Duration>,
    now: DateTime<Utc>,
    limit: Option<u32>,
    count_when_locked: bool,
    blocks: &'a [BlockTarget],
    manual_only: bool,
}

impl RedisStore {
    fn count_invocation<'s>(
        &self,
        script: &'s Script,
        rk: &RecordKeys,
        c: &CountCall<'_>,
    ) -> ScriptInvocation<'s> {
        let now = micros(c.now);
        let (has_window, cutoff, cutoff_range, ttl) = match c.window {
            Some(w) => {
                let cutoff = now.saturating_sub(window_micros(w));
                (true, cutoff, format!("({cutoff}"), ttl_millis(w))
            }
            None => (false, i64::MIN, "-inf".to_owned(), -1),
        };
        let match_cap = c.limit.unwrap_or(0).max(MATCH_CAP);
        let scan_cap = match_cap.max(SCAN_CAP);
        let empty = AttemptDetails::default();
        let d = c.details.unwrap_or(&empty);
        let mut inv = script.prepare_invoke();
        inv.key(&rk.record)
            .key(self.keys.attempts())
            .key(&rk.ip)
            .key(&rk.user)
            .key(&rk.ua)
            // KEYS 6: the serial counter (only reserve.lua uses it; it keeps
            // the block rows at KEYS 7… in both scripts)
            .key(self.keys.attempt_serial());
        for row in candidate_keys(&self.keys, c.blocks, c.manual_only) {
            inv.key(row);
        }
        inv.arg(self.keys.record_prefix())
            .arg(&rk.id)
            .arg(now)
            .arg(flag(has_window))
            .arg(cutoff)
            .arg(cutoff_range)
            .arg(c.limit.map_or(-1, i64::from))
            .arg(flag(c.count_when_locked))
            .arg(ttl)
            .arg(match_cap)
            .arg(scan_cap)
            .arg(flag(c.key.username.is_some()))
            .arg(c.key.username.as_deref().unwrap_or(""))
            .arg(flag(c.key.ip_address.is_some()))
            .arg(c.key.ip_address.as_deref().unwrap_or(""))
            .arg(&c.key.user_agent)
            .arg(&d.path)
            .arg(&d.http_accept)
            .arg(&d.get_data)
            .arg(&d.post_data)
            .arg(c.parameters.alternatives().len())
            .arg(&c.key.scope)
            .arg(rk.cross_ip.as_deref().unwrap_or(""))
            .arg(rk.cross_user.as_deref().unwrap_or(""));
        for alt in c.parameters.alternatives() {
            inv.arg(mask(alt.fields()));
        }
        inv
    }

    pub(crate) async fn do_failures(&self, q: &FailureQuery<'_>) -> Result<Failures, StoreError> {
        let rk = self.keys.record_keys(q.key);
        let call = CountCall {
            key: q.key,
            details: None,
            parameters: q.parameters,
            window: q.window,
            now: q.now,
            limit: None,
            count_when_locked: false,
            blocks: q.blocks,
            manual_only: q.manual_only,
        };
        let inv = self.count_invocation(&scripts::FAILURES, &rk, &call);
        let reply: Vec<Value> = inv.invoke_async(&mut self.con()).await.map_err(map)?;
        let (block, reply) = match parse_reply(&reply, q.blocks, q.manual_only)? {
            Reply::Blocked(block, rest) => (Some(block), rest),
            Reply::Counts(c) => (None, c),
        };
        let (&truncated, rest) = reply
            .split_first()
            .ok_or_else(|| corrupt("empty reply from failures script"))?;
        warn_truncated(truncated, q.key);
        let mut failures = parse_counts(rest, q.parameters.alternatives().len())?;
        failures.block = block;
        Ok(failures)
    }

    pub(crate) async fn do_reserve(
        &self,
        r: &Reservation<'_>,
    ) -> Result<ReserveOutcome, StoreError> {
        let rk = self.keys.record_keys(r.key);
        let call = CountCall {
            key: r.key,
            details: Some(r.details),
            parameters: r.parameters,
            window: r.window,
            now: r.now,
            limit: r.limit,
            count_when_locked: r.count_when_locked,
            blocks: r.blocks,
            manual_only: r.manual_only,
        };
        let inv = self.count_invocation(&scripts::RESERVE, &rk, &call);
        let reply: Vec<Value> = inv.invoke_async(&mut self.con()).await.map_err(map)?;
        let reply = match parse_reply(&reply, r.blocks, r.manual_only)? {
            Reply::Blocked(block, _) => {
                // refused before counting: nothing counted, nothing written
                return Ok(ReserveOutcome {
                    admitted: false,
                    counted: false,
                    failures: Failures {
                        per_alternative: Vec::new(),
                        block: Some(block),
                    },
                    token: None,
                });
            }
            Reply::Counts(c) => c,
        };
        let [
            admitted,
            counted,
            truncated,
            generation,
            serial,
            previous,
            rest @ ..,
        ] = reply.as_slice()
        else {
            return Err(corrupt("short reply from reserve script"));
        };
        warn_truncated(*truncated, r.key);
        // 1: on the attempt's own record (a token names it); 2: on other
        // records (a refused attempt without a record of its own).
        let own = *counted == 1;
        let counted = *counted != 0;
        let token = if own {
            let counter = |what: &str, n: i64| {
                u64::try_from(n).map_err(|_| corrupt(format!("reserve script: {what} {n}")))
            };
            Some(ReservationToken {
                record_id: rk.id.clone(),
                generation: counter("generation", *generation)?,
                serial: counter("serial", *serial)?,
                reserved_at: from_micros(micros(r.now))?,
                previous_time: if *previous < 0 {
                    None
                } else {
                    Some(from_micros(*previous)?)
                },
            })
        } else {
            None
        };
        Ok(ReserveOutcome {
            admitted: *admitted == 1,
            counted,
            failures: parse_counts(rest, r.parameters.alternatives().len())?,
            token,
        })
    }

    pub(crate) async fn do_release(
        &self,
        key: &RecordKey,
        token: &ReservationToken,
    ) -> Result<(), StoreError> {
        let rk = self.keys.record_keys(key);
        if token.record_id != rk.id {
            // A token of another key: its record is not this one.
            return Ok(());
        }
        scripts::RELEASE
            .key(&rk.record)
            .key(self.keys.attempts())
            .arg(&rk.id)
            .arg(token.generation)
            .arg(token.serial)
            .arg(micros(token.reserved_at))
            .arg(
                token
                    .previous_time
                    .map(|t| micros(t).to_string())
                    .unwrap_or_default(),
            )
            .invoke_async::<i64>(&mut self.con())
            .await
            .map_err(map)?;
        Ok(())
    }

    /// Deletes the failure serial counter (see [`RedisStore::wipe`]).
    pub(crate) async fn drop_attempt_serial(&self) -> Result<(), StoreError> {
        redis::cmd("DEL")
            .arg(self.keys.attempt_serial())
            .query_async::<()>(&mut self.con())
            .await
            .map_err(map)
    }

    pub(crate) async fn do_clear_client(
        &self,
        key: &RecordKey,
        parameters: &LockoutParameters,
    ) -> Result<u64, StoreError> {
        let rk = self.keys.record_keys(key);
        let sizes: (u64, u64, u64) = redis::pipe()
            .cmd("ZCARD")
            .arg(&rk.ip)
            .cmd("ZCARD")
            .arg(&rk.user)
            .cmd("ZCARD")
            .arg(&rk.ua)
            .query_async(&mut self.con())
            .await
            .map_err(map)?;
        let mut deleted = 0;
        for alt in parameters.alternatives() {
            let source = alt
                .fields()
                .iter()
                .map(|f| match f {
                    Field::IpAddress => (sizes.0, &rk.ip),
                    Field::Username => (sizes.1, &rk.user),
                    Field::UserAgent => (sizes.2, &rk.ua),
                })
                .min_by_key(|(n, _)| *n)
                .map(|(_, k)| k.clone());
            if let Some(source) = source {
                // the indexes are the scope's, and the script checks the
                // scope of each record besides
                deleted += self
                    .delete_matching(&source, &mask(alt.fields()), key, true, None)
                    .await?;
            }
        }
        Ok(deleted)
    }

    pub(crate) async fn do_reset(&self, filter: &ResetFilter) -> Result<u64, StoreError> {
        let want = RecordKey {
            scope: String::new(),
            username: filter.username.clone(),
            ip_address: filter.ip_address.clone(),
            user_agent: String::new(),
        };
        // every scope: the default scope's index and the cross-scope one
        let (sources, mask) = match (&filter.ip_address, &filter.username) {
            (None, None) => (vec![self.keys.attempts()], ""),
            (Some(ip), None) => (self.keys.filter_indexes(Field::IpAddress, ip).into(), "i"),
            (None, Some(u)) => (self.keys.filter_indexes(Field::Username, u).into(), "u"),
            (Some(ip), Some(u)) => (self.smaller_indexes(ip, u).await?, "iu"),
        };
        let mut deleted = 0;
        for source in &sources {
            deleted += self
                .delete_matching(source, mask, &want, false, None)
                .await?;
        }
        Ok(deleted)
    }

    /// For the default scope and for the others: the smaller of the IP
    /// index of `ip` and the username index of `username`.
    async fn smaller_indexes(&self, ip: &str, username: &str) -> Result<Vec<String>, StoreError> {
        let by_ip = self.keys.filter_indexes(Field::IpAddress, ip);
        let by_user = self.keys.filter_indexes(Field::Username, username);
        let mut p = redis::pipe();
        for key in by_ip.iter().chain(&by_user) {
            p.cmd("ZCARD").arg(key);
        }
        let sizes: Vec<u64> = p.query_async(&mut self.con()).await.map_err(map)?;
        let [n_ip, n_ip_x, n_user, n_user_x] = sizes.as_slice() else {
            return Err(corrupt("bad reply to ZCARD"));
        };
        let [ip, ip_x] = by_ip;
        let [user, user_x] = by_user;
        Ok(vec![
            if n_ip <= n_user { ip } else { user },
            if n_ip_x <= n_user_x { ip_x } else { user_x },
        ])
    }

    pub(crate) async fn do_purge(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let want = RecordKey {
            scope: String::new(),
            username: None,
            ip_address: None,
            user_agent: String::new(),
        };
        self.delete_matching(
            &self.keys.attempts(),
            "",
            &want,
            false,
            Some(micros(before)),
        )
        .await
    }

    /// Runs `delete_matching.lua` over `source` batch by batch: deletes the
    /// records that match `want` on the fields of `mask` (and, when
    /// `in_scope`, are of `want.scope`).
    async fn delete_matching(
        &self,
        source: &str,
        mask: &str,
        want: &RecordKey,
        in_scope: bool,
        max_time: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut con = self.con();
        let mut deleted: u64 = 0;
        let mut start: i64 = 0;
        for _ in 0..MAX_BATCHES {
            let reply: Vec<i64> = scripts::DELETE_MATCHING
                .key(self.keys.attempts())
                .key(source)
                .arg(self.keys.record_prefix())
                .arg(start)
                .arg(DELETE_BATCH)
                .arg(mask)
                .arg(flag(want.username.is_some()))
                .arg(want.username.as_deref().unwrap_or(""))
                .arg(flag(want.ip_address.is_some()))
                .arg(want.ip_address.as_deref().unwrap_or(""))
                .arg(&want.user_agent)
                .arg(max_time.map(|t| t.to_string()).unwrap_or_default())
                .arg(flag(in_scope))
                .arg(&want.scope)
                .invoke_async(&mut con)
                .await
                .map_err(map)?;
            let [n, next, done] = reply.as_slice() else {
                return Err(corrupt("bad reply from delete script"));
            };
            deleted += u64::try_from(*n).unwrap_or(0);
            if *done == 1 {
                return Ok(deleted);
            }
            start = *next;
        }
        tracing::warn!(source, "redis delete stopped after {MAX_BATCHES} batches");
        Ok(deleted)
    }

    pub(crate) async fn do_delete_attempts(&self, ids: &[String]) -> Result<u64, StoreError> {
        let ids: BTreeSet<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|id| is_record_id(id))
            .collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut con = self.con();
        let mut deleted = 0;
        for chunk in ids.chunks(DELETE_BATCH) {
            let n: u64 = scripts::DELETE_IDS
                .key(self.keys.attempts())
                .arg(self.keys.record_prefix())
                .arg(chunk)
                .invoke_async(&mut con)
                .await
                .map_err(map)?;
            deleted += n;
        }
        Ok(deleted)
    }

    /// Reads the record hash of `id` (`None`: not a record id, or gone).
    pub(crate) async fn do_get_attempt(
        &self,
        id: &str,
    ) -> Result<Option<AttemptRecord>, StoreError> {
        if !is_record_id(id) {
            return Ok(None);
        }
        let fields: Fields = redis::cmd("HGETALL")
            .arg(self.keys.record(id))
            .query_async(&mut self.con())
            .await
            .map_err(map)?;
        if fields.is_empty() {
            return Ok(None);
        }
        AttemptRecord::parse(id, fields).map(Some)
    }

    pub(crate) async fn do_list_attempts(
        &self,
        q: &ListQuery,
    ) -> Result<Page<AttemptRecord>, StoreError> {
        // Every scope: the global set, or the default scope's index and the
        // cross-scope one (read only when it exists: merging the two is
        // done in process).
        let (indexes, in_process) = match (&q.username, &q.ip_address) {
            (Some(u), ip) => (
                self.keys.filter_indexes(Field::Username, u),
                ip.is_some() || q.search.is_some(),
            ),
            (None, Some(ip)) => (
                self.keys.filter_indexes(Field::IpAddress, ip),
                q.search.is_some(),
            ),
            (None, None) => {
                let l = Listing {
                    source: self.keys.attempts(),
                    extra: None,
                    all: self.keys.attempts(),
                    row_prefix: self.keys.record_prefix(),
                    in_process: q.search.is_some(),
                    query: q,
                };
                return listing::list(&mut self.con(), l).await;
            }
        };
        let [source, cross] = indexes;
        let has_cross: bool = redis::cmd("EXISTS")
            .arg(&cross)
            .query_async(&mut self.con())
            .await
            .map_err(map)?;
        let l = Listing {
            source,
            extra: has_cross.then_some(cross),
            all: self.keys.attempts(),
            row_prefix: self.keys.record_prefix(),
            in_process,
            query: q,
        };
        listing::list(&mut self.con(), l).await
    }
}

fn warn_truncated(code: i64, key: &RecordKey) {
    // 1: the match cap stopped a count; harmless (the cap is at least the
    // limit). 2: the scan cap stopped it before enough matches: the count of
    // a combination alternative may be too low.
    if code == 2 {
        tracing::warn!(
            ip = key.ip_address.as_deref().unwrap_or("-"),
            "redis count stopped after {SCAN_CAP} index entries: counts are lower bounds"
        );
    }
}

/// Parses `n, (failures, last)…` into counts.
fn parse_counts(v: &[i64], expected: usize) -> Result<Failures, StoreError> {
    let Some((&n, pairs)) = v.split_first() else {
        return Err(corrupt("missing alternative count"));
    };
    if usize::try_from(n).ok() != Some(expected) || pairs.len() != 2 * expected {
        return Err(corrupt(format!(
            "count script answered {} values for {expected} alternatives",
            pairs.len()
        )));
    }
    let per_alternative = pairs
        .chunks_exact(2)
        .map(|p| {
            let last_failure = if p[1] < 0 {
                None
            } else {
                Some(crate::time::from_micros(p[1])?)
            };
            Ok(AlternativeCount {
                failures: u32::try_from(p[0].max(0)).unwrap_or(u32::MAX),
                last_failure,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Failures {
        per_alternative,
        block: None,
    })
}

impl Row for AttemptRecord {
    fn parse(member: &str, mut f: Fields) -> Result<Self, StoreError> {
        let failures = f
            .get("f")
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| corrupt(format!("record {member} has no failure count")))?;
        let attempt_time = parse_micros(
            f.get("t")
                .ok_or_else(|| corrupt(format!("record {member} has no time")))?,
        )?;
        let key = RecordKey {
            // absent: the default scope (and every record written before
            // scopes existed)
            scope: f.remove("sc").unwrap_or_default(),
            username: f.remove("u"),
            ip_address: f.remove("i"),
            user_agent: f.remove("a").unwrap_or_default(),
        };
        Ok(AttemptRecord {
            id: member.to_owned(),
            details: AttemptDetails {
                path: f.remove("path").unwrap_or_default(),
                http_accept: f.remove("acc").unwrap_or_default(),
                get_data: f.remove("get").unwrap_or_default(),
                post_data: f.remove("post").unwrap_or_default(),
            },
            key,
            failures: u32::try_from(failures.max(0)).unwrap_or(u32::MAX),
            attempt_time,
        })
    }

    fn filter_values(&self) -> (Option<&str>, Option<&str>, &str, DateTime<Utc>) {
        (
            self.key.ip_address.as_deref(),
            self.key.username.as_deref(),
            &self.key.user_agent,
            self.attempt_time,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask(&[Field::IpAddress, Field::UserAgent]), "ia");
        assert_eq!(mask(&[Field::Username]), "u");
    }

    #[test]
    fn counts_parse() {
        let f = parse_counts(&[2, 3, 1_700_000_000_000_000, 0, -1], 2);
        let f = f.unwrap_or_default();
        assert_eq!(f.per_alternative.len(), 2);
        assert_eq!(f.per_alternative[0].failures, 3);
        assert!(f.per_alternative[0].last_failure.is_some());
        assert_eq!(f.per_alternative[1].last_failure, None);
        assert!(parse_counts(&[3, 1, 1], 1).is_err());
    }
}
