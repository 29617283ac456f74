//! Scopes through the store API ([`crate::store`], "Scopes"): records of
//! two scopes never count together; `reserve`, `failures`, `release` and
//! `clear_client` stay inside the key's scope; resets, purges, deletions by
//! id and listings cover every scope; a scope is kept exactly. And
//! `manual_only` look-ups ignore lockout history but not manual blocks.
//! Every time is explicit (no sleeps).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{fresh, start};
use crate::blocks::{Block, BlockKind, BlockTarget};
use crate::parameters::{Field, LockoutParameters};
use crate::store::{
    AttemptDetails, FailureQuery, Failures, ListQuery, MAX_SCOPE_CHARS, RecordKey, Reservation,
    ReserveOutcome, ResetFilter, Store,
};

fn at(secs: i64) -> DateTime<Utc> {
    start() + Duration::seconds(secs)
}

fn scoped(scope: &str, ip: &str, user: &str) -> RecordKey {
    RecordKey {
        scope: scope.to_owned(),
        username: Some(user.to_owned()),
        ip_address: Some(ip.to_owned()),
        user_agent: "ua".to_owned(),
    }
}

/// Counting by IP or username; limit 2, window 600 s.
fn params() -> LockoutParameters {
    LockoutParameters::any_of(&[Field::IpAddress, Field::Username])
}

async fn reserve(
    store: &dyn Store,
    k: &RecordKey,
    now: DateTime<Utc>,
    blocks: &[BlockTarget],
    manual_only: bool,
) -> ReserveOutcome {
    let details = AttemptDetails::default();
    let parameters = params();
    store
        .reserve(&Reservation {
            key: k,
            details: &details,
            parameters: &parameters,
            limit: Some(2),
            window: Some(Duration::seconds(600)),
            count_when_locked: true,
            now,
            blocks,
            manual_only,
        })
        .await
        .expect("reserve")
}

async fn failures(
    store: &dyn Store,
    k: &RecordKey,
    now: DateTime<Utc>,
    blocks: &[BlockTarget],
    manual_only: bool,
) -> Failures {
    let parameters = params();
    store
        .failures(&FailureQuery {
            key: k,
            parameters: &parameters,
            window: Some(Duration::seconds(600)),
            now,
            blocks,
            manual_only,
        })
        .await
        .expect("failures")
}

async fn all_records(store: &dyn Store) -> Vec<(RecordKey, u32)> {
    let mut rows: Vec<(RecordKey, u32)> = store
        .list_attempts(&ListQuery::all())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|r| (r.key, r.failures))
        .collect();
    rows.sort();
    rows
}

/// Records of two scopes never count together; every keyed operation stays
/// in its scope; resets, purges, deletions and listings cover all scopes.
pub async fn run_scopes<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    let store = &*store;
    let a = scoped("rule:ip_address:2/10m", "198.51.100.7", "alice");
    let b = scoped("device:Zm9vYmFy", "198.51.100.7", "alice");
    let plain = scoped("", "198.51.100.7", "alice");

    // Scope a reaches its limit; b and "" know nothing of it.
    assert!(reserve(store, &a, at(0), &[], false).await.admitted);
    assert!(reserve(store, &a, at(1), &[], false).await.admitted);
    let refused = reserve(store, &a, at(2), &[], false).await;
    assert!(!refused.admitted, "a third failure in scope a: {refused:?}");
    assert_eq!(failures(store, &b, at(3), &[], false).await.max(), 0);
    assert_eq!(failures(store, &plain, at(3), &[], false).await.max(), 0);
    let in_b = reserve(store, &b, at(4), &[], false).await;
    assert!(in_b.admitted, "scope b is not locked by scope a: {in_b:?}");
    assert_eq!(in_b.failures.max(), 1, "scope b counts its own");
    assert!(reserve(store, &plain, at(5), &[], false).await.admitted);
    assert_eq!(failures(store, &a, at(6), &[], false).await.max(), 3);

    // A refused attempt with a new username in scope a adds no record, and
    // touches no other scope (its failure goes to a's locking record).
    let a_other = scoped(&a.scope, "198.51.100.7", "mallory");
    let out = reserve(store, &a_other, at(7), &[], false).await;
    assert!(!out.admitted, "the IP is locked in scope a: {out:?}");
    let mut want = vec![(b.clone(), 1), (a.clone(), 4), (plain.clone(), 1)];
    want.sort();
    assert_eq!(
        all_records(store).await,
        want,
        "three records, one per scope"
    );

    // Listing and look-up by id keep the scope exactly.
    let listed = store.list_attempts(&ListQuery::all()).await.expect("list");
    assert_eq!(listed.total, 3);
    for row in &listed.items {
        let got = store.get_attempt(&row.id).await.expect("get").expect("row");
        assert_eq!(got.key, row.key, "get_attempt keeps the scope");
    }

    // release gives back in its own scope only.
    let token = in_b.token.expect("a counted failure has a token");
    store.release(&b, &token).await.expect("release");
    let after = all_records(store).await;
    assert!(
        after.iter().all(|(k, _)| k.scope != b.scope),
        "b's only failure given back: {after:?}"
    );
    assert!(after.contains(&(a.clone(), 4)) && after.contains(&(plain.clone(), 1)));

    // clear_client stays in its scope.
    let n = store.clear_client(&a, &params()).await.expect("clear");
    assert_eq!(n, 1, "scope a's record");
    assert_eq!(all_records(store).await, vec![(plain.clone(), 1)]);
    assert!(reserve(store, &a, at(8), &[], false).await.admitted);

    // reset covers every scope.
    assert!(reserve(store, &b, at(9), &[], false).await.admitted);
    let n = store
        .reset(&ResetFilter {
            username: Some("alice".into()),
            ..ResetFilter::default()
        })
        .await
        .expect("reset");
    assert_eq!(n, 3, "alice's records in all three scopes");
    assert!(all_records(store).await.is_empty());

    // purge covers every scope.
    assert!(reserve(store, &a, at(10), &[], false).await.admitted);
    assert!(reserve(store, &b, at(11), &[], false).await.admitted);
    assert!(reserve(store, &plain, at(50), &[], false).await.admitted);
    let n = store.purge_attempts(at(20)).await.expect("purge");
    assert_eq!(n, 2, "the old records of scopes a and b");
    assert_eq!(all_records(store).await, vec![(plain.clone(), 1)]);

    // deletion by id reaches a scoped record.
    assert!(reserve(store, &b, at(51), &[], false).await.admitted);
    let id = store
        .list_attempts(&ListQuery::all())
        .await
        .expect("list")
        .items
        .into_iter()
        .find(|r| r.key == b)
        .expect("b's record")
        .id;
    assert_eq!(store.delete_attempts(&[id]).await.expect("delete"), 1);
    assert_eq!(all_records(store).await, vec![(plain.clone(), 1)]);

    // The longest scope, multi-byte, is kept exactly and apart from its
    // prefixes.
    let long_scope: String = "é".repeat(MAX_SCOPE_CHARS);
    let long = scoped(&long_scope, "198.51.100.7", "alice");
    let shorter = scoped(&long_scope[..long_scope.len() - 2], "198.51.100.7", "alice");
    assert!(reserve(store, &long, at(52), &[], false).await.admitted);
    assert!(reserve(store, &long, at(53), &[], false).await.admitted);
    assert!(!reserve(store, &long, at(54), &[], false).await.admitted);
    assert_eq!(failures(store, &shorter, at(55), &[], false).await.max(), 0);
    let rows = all_records(store).await;
    assert!(rows.contains(&(long.clone(), 3)), "{rows:?}");
}

/// `manual_only`: lockout history on the candidate targets refuses nothing,
/// a manual block still refuses at once; without it both refuse.
pub async fn run_manual_only<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    let store = &*store;
    let device = scoped("device:abc", "203.0.113.9", "alice");
    let ip_target = BlockTarget::new(Some("203.0.113.9".into()), None, None).expect("target");
    let history = Block {
        kind: BlockKind::Lockout,
        target: ip_target.clone(),
        until: Some(at(3600)),
        created_at: at(0),
        created_by: String::new(),
        lockouts: 2,
    };
    store.put_block(&history).await.expect("put lockout row");
    let candidates = BlockTarget::candidates(&device);

    let f = failures(store, &device, at(10), &candidates, true).await;
    assert_eq!(f.block, None, "history is not looked at: {f:?}");
    let out = reserve(store, &device, at(10), &candidates, true).await;
    assert!(out.admitted && out.counted, "manual_only admits: {out:?}");
    let out = reserve(store, &device, at(11), &candidates, false).await;
    assert!(!out.admitted && !out.counted, "history refuses: {out:?}");
    assert_eq!(out.failures.block.as_ref(), Some(&history));

    let user_target = BlockTarget::new(None, Some("alice".into()), None).expect("target");
    let manual = Block {
        kind: BlockKind::Manual,
        target: user_target,
        until: None,
        created_at: at(12),
        created_by: "cli".into(),
        lockouts: 0,
    };
    store.put_block(&manual).await.expect("put manual block");
    let out = reserve(store, &device, at(13), &candidates, true).await;
    assert!(
        !out.admitted && !out.counted,
        "a manual block refuses: {out:?}"
    );
    assert_eq!(out.failures.block.as_ref(), Some(&manual));
    let f = failures(store, &device, at(13), &candidates, true).await;
    assert_eq!(f.block.as_ref(), Some(&manual));
    assert_eq!(all_records(store).await, vec![(device.clone(), 1)]);
}

/// Exact admission holds inside a scope, and a scope's count never spills
/// into another: 2 × 40 concurrent reservations of one client in two
/// scopes, limit 2 → exactly 2 admitted in each.
pub async fn run_scopes_concurrency<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    for round in 0..5_i64 {
        let mut tasks = Vec::new();
        for i in 0..80 {
            let store = store.clone();
            let scope = if i % 2 == 0 { "" } else { "device:round" };
            let k = scoped(scope, "192.0.2.77", "victim");
            tasks.push(tokio::spawn(async move {
                let out = reserve(&*store, &k, at(round * 10_000 + 1), &[], false).await;
                (i % 2, out.admitted)
            }));
        }
        let mut admitted = [0_u32; 2];
        for t in tasks {
            let (side, ok) = t.await.expect("task");
            if ok {
                admitted[side] += 1;
            }
        }
        assert_eq!(admitted, [2, 2], "round {round}: admitted per scope");
        store.reset(&ResetFilter::all()).await.expect("reset");
    }
}
