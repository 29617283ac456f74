//! Blocks through the store API: manual blocks and lockout history refuse
//! [`Store::reserve`] and show in [`Store::failures`] without counting
//! anything; `put_block`, `record_lockout`, `remove_block`, `reset_blocks`,
//! `list_blocks` and `purge_blocks` keep their contracts. Every time is
//! explicit (no sleeps).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{fresh, key, record_of, start};
use crate::blocks::{Block, BlockKind, BlockTarget, Escalation};
use crate::parameters::{Field, LockoutParameters};
use crate::store::{
    AttemptDetails, FailureQuery, Failures, ListQuery, Order, RecordKey, Reservation,
    ReserveOutcome, ResetFilter, Store,
};

fn at(secs: i64) -> DateTime<Utc> {
    start() + Duration::seconds(secs)
}

fn target(ip: Option<&str>, user: Option<&str>) -> BlockTarget {
    BlockTarget::new(ip.map(str::to_owned), user.map(str::to_owned), None).expect("a target")
}

fn manual(t: &BlockTarget, until: Option<DateTime<Utc>>, created: DateTime<Utc>) -> Block {
    Block {
        kind: BlockKind::Manual,
        target: t.clone(),
        until,
        created_at: created,
        created_by: "cli".into(),
        lockouts: 0,
    }
}

fn escalation(
    cooloff: i64,
    multiplier: f64,
    max: Option<i64>,
    permanent: Option<u32>,
) -> Escalation {
    Escalation {
        cooloff: Some(Duration::seconds(cooloff)),
        multiplier,
        max: max.map(Duration::seconds),
        memory: Duration::seconds(3600),
        permanent_after: permanent,
    }
}

/// Lockout parameters counting by IP or username; limit 3.
fn params() -> LockoutParameters {
    LockoutParameters::any_of(&[Field::IpAddress, Field::Username])
}

/// One reservation of `k` at `now`, looking up its block candidates (none
/// with `look = false`), `count_when_locked` on.
async fn reserve(
    store: &dyn Store,
    k: &RecordKey,
    now: DateTime<Utc>,
    look: bool,
) -> ReserveOutcome {
    let details = AttemptDetails::default();
    let parameters = params();
    let candidates = if look {
        BlockTarget::candidates(k)
    } else {
        Vec::new()
    };
    store
        .reserve(&Reservation {
            key: k,
            details: &details,
            parameters: &parameters,
            limit: Some(3),
            window: Some(Duration::seconds(600)),
            count_when_locked: true,
            now,
            blocks: &candidates,
            manual_only: false,
        })
        .await
        .expect("reserve")
}

async fn failures(store: &dyn Store, k: &RecordKey, now: DateTime<Utc>, look: bool) -> Failures {
    let parameters = params();
    let candidates = if look {
        BlockTarget::candidates(k)
    } else {
        Vec::new()
    };
    store
        .failures(&FailureQuery {
            key: k,
            parameters: &parameters,
            window: Some(Duration::seconds(600)),
            now,
            blocks: &candidates,
            manual_only: false,
        })
        .await
        .expect("failures")
}

/// `k` is refused at `now` by exactly `by`, counting nothing, and
/// `failures()` reports the same block.
async fn assert_refused(
    store: &dyn Store,
    k: &RecordKey,
    now: DateTime<Utc>,
    by: &Block,
    what: &str,
) {
    let before = record_of(store, k).await;
    let out = reserve(store, k, now, true).await;
    assert!(!out.admitted, "{what}: admitted {out:?}");
    assert!(!out.counted, "{what}: counted {out:?}");
    assert_eq!(out.token, None, "{what}: token");
    assert_eq!(
        out.failures.block.as_ref(),
        Some(by),
        "{what}: reserve's block"
    );
    assert_eq!(
        record_of(store, k).await,
        before,
        "{what}: a blocked attempt changed its record"
    );
    let f = failures(store, k, now, true).await;
    assert_eq!(f.block.as_ref(), Some(by), "{what}: failures()'s block");
}

/// `k` is not refused by a block at `now` (its reservation is admitted and
/// counted: `k` must have fewer than 3 failures).
async fn assert_admitted(store: &dyn Store, k: &RecordKey, now: DateTime<Utc>, what: &str) {
    let f = failures(store, k, now, true).await;
    assert_eq!(f.block, None, "{what}: failures()'s block");
    let out = reserve(store, k, now, true).await;
    assert!(out.admitted && out.counted, "{what}: {out:?}");
    assert_eq!(out.failures.block, None, "{what}: reserve's block");
}

async fn all_blocks(store: &dyn Store, kind: Option<BlockKind>) -> Vec<Block> {
    store
        .list_blocks(kind, &ListQuery::all())
        .await
        .expect("list_blocks")
        .items
}

/// Manual blocks refuse what they match and nothing else; an existing
/// record is left as it was; the candidates decide (no look-up without).
async fn manual_blocks_refuse(store: &dyn Store) {
    let ip = target(Some("10.1.0.1"), None);
    let user = target(None, Some("bob"));
    let pair = target(Some("10.1.0.3"), Some("carol"));
    // alice has a record before her IP is blocked: it stays as it is.
    let alice = key(Some("10.1.0.1"), Some("alice"), "ua");
    assert_admitted(store, &alice, at(0), "before the block").await;
    let ip_block = manual(&ip, None, at(1));
    let user_block = manual(&user, None, at(1));
    let pair_block = manual(&pair, None, at(1));
    for b in [&ip_block, &user_block, &pair_block] {
        store.put_block(b).await.expect("put_block");
    }
    assert_refused(store, &alice, at(2), &ip_block, "ip block, own record").await;
    assert_eq!(record_of(store, &alice).await, Some((1, at(0))));
    assert_refused(
        store,
        &key(Some("10.1.0.1"), Some("someone"), "other"),
        at(2),
        &ip_block,
        "ip block, other username",
    )
    .await;
    assert_refused(
        store,
        &key(Some("10.1.0.1"), None, ""),
        at(2),
        &ip_block,
        "ip block, no username",
    )
    .await;
    assert_refused(
        store,
        &key(Some("192.0.2.200"), Some("bob"), "ua"),
        at(2),
        &user_block,
        "username block, any IP",
    )
    .await;
    assert_refused(
        store,
        &key(None, Some("bob"), "ua"),
        at(2),
        &user_block,
        "username block, no IP",
    )
    .await;
    assert_refused(
        store,
        &key(Some("10.1.0.3"), Some("carol"), "ua"),
        at(2),
        &pair_block,
        "pair block",
    )
    .await;
    // Nothing was written for the refused attempts.
    let page = store.list_attempts(&ListQuery::all()).await.expect("list");
    assert_eq!(page.total, 1, "only alice's record: {page:?}");

    // Not matching: other username with the pair's IP, the pair's
    // username from elsewhere, other IPs and usernames.
    for (k, what) in [
        (
            key(Some("10.1.0.3"), Some("dave"), "ua"),
            "pair block vs other username",
        ),
        (
            key(Some("10.1.0.4"), Some("carol"), "ua"),
            "pair block vs other IP",
        ),
        (key(None, Some("carol"), "ua"), "pair block vs no IP"),
        (
            key(Some("10.1.0.2"), Some("bobby"), "ua"),
            "username block vs other username",
        ),
        (
            key(Some("10.1.0.10"), Some("alice"), "ua"),
            "ip block vs other IP",
        ),
    ] {
        assert_admitted(store, &k, at(3), what).await;
    }
    // No candidates, no look-up: a blocked IP is admitted.
    let out = reserve(
        store,
        &key(Some("10.1.0.1"), Some("zed"), "ua"),
        at(4),
        false,
    )
    .await;
    assert!(
        out.admitted && out.counted && out.failures.block.is_none(),
        "no look-up: {out:?}"
    );
    let f = failures(store, &alice, at(4), false).await;
    assert_eq!(f.block, None, "failures() without candidates");
}

/// `until` bounds a block: refusing while `until > now` only; `put_block`
/// replaces the row whole.
async fn until_and_replace(store: &dyn Store) {
    let ip = target(Some("10.2.0.1"), None);
    let k = key(Some("10.2.0.1"), Some("alice"), "ua");
    let past = manual(&ip, Some(at(9)), at(0));
    store.put_block(&past).await.expect("put_block");
    assert_admitted(store, &k, at(10), "until in the past").await;
    let bounded = manual(&ip, Some(at(20)), at(10));
    store.put_block(&bounded).await.expect("put_block replaces");
    assert_eq!(
        all_blocks(store, None).await,
        vec![bounded.clone()],
        "replaced, one row"
    );
    assert_refused(store, &k, at(19), &bounded, "until in the future").await;
    assert_admitted(store, &k, at(20), "until = now refuses nothing").await;
    // Replace a bounded block with a permanent one, by someone else.
    let forever = Block {
        created_by: "admin".into(),
        ..manual(&ip, None, at(21))
    };
    store.put_block(&forever).await.expect("put_block replaces");
    assert_eq!(
        all_blocks(store, Some(BlockKind::Manual)).await,
        vec![forever.clone()]
    );
    assert_refused(store, &k, at(100_000), &forever, "until None").await;
    // And back to one that has passed.
    let over = manual(&ip, Some(at(30)), at(22));
    store.put_block(&over).await.expect("put_block replaces");
    assert_admitted(store, &k, at(31), "replaced by an expired block").await;
    assert_eq!(all_blocks(store, None).await, vec![over]);
}

/// `remove_block` removes the row of exactly that kind and target.
async fn remove_exact(store: &dyn Store) {
    let ip = target(Some("10.3.0.1"), None);
    let pair = target(Some("10.3.0.1"), Some("erin"));
    let user = target(None, Some("erin"));
    store
        .put_block(&manual(&ip, None, at(0)))
        .await
        .expect("put");
    store
        .put_block(&manual(&pair, None, at(1)))
        .await
        .expect("put");
    assert!(
        !store
            .remove_block(BlockKind::Manual, &user)
            .await
            .expect("remove"),
        "no such row"
    );
    assert!(
        !store
            .remove_block(BlockKind::Lockout, &ip)
            .await
            .expect("remove"),
        "other kind"
    );
    assert!(
        store
            .remove_block(BlockKind::Manual, &ip)
            .await
            .expect("remove")
    );
    assert!(
        !store
            .remove_block(BlockKind::Manual, &ip)
            .await
            .expect("remove"),
        "already gone"
    );
    let left = all_blocks(store, None).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].target, pair);
    // The pair still refuses erin there, the IP no longer refuses others.
    assert_admitted(
        store,
        &key(Some("10.3.0.1"), Some("frank"), "ua"),
        at(2),
        "unblocked ip",
    )
    .await;
    let erin = key(Some("10.3.0.1"), Some("erin"), "ua");
    assert_eq!(
        reserve(store, &erin, at(2), true)
            .await
            .failures
            .block
            .map(|b| b.target),
        Some(pair)
    );

    // A lockout row is removed by kind too.
    let e = escalation(60, 2.0, None, Some(1));
    store
        .record_lockout(&ip, at(3), &e)
        .await
        .expect("record_lockout");
    assert!(
        !store
            .remove_block(BlockKind::Manual, &ip)
            .await
            .expect("remove"),
        "lockout row is not manual"
    );
    assert!(
        store
            .remove_block(BlockKind::Lockout, &ip)
            .await
            .expect("remove")
    );
    assert_eq!(all_blocks(store, Some(BlockKind::Lockout)).await, vec![]);
}

/// `reset_blocks` removes the rows of one kind under a filter: IP,
/// username, both (AND), or everything.
async fn reset_by_filter(store: &dyn Store) {
    let a = "10.4.0.1";
    let b = "10.4.0.2";
    let targets = [
        target(Some(a), None),
        target(None, Some("uma")),
        target(Some(a), Some("uma")),
        target(Some(b), Some("uma")),
        target(Some(b), None),
        target(None, Some("victor")),
    ];
    for (i, t) in targets.iter().enumerate() {
        store
            .put_block(&manual(t, None, at(i as i64)))
            .await
            .expect("put");
    }
    let e = escalation(60, 2.0, None, None);
    for t in [&targets[0], &targets[2], &targets[1]] {
        store
            .record_lockout(t, at(10), &e)
            .await
            .expect("record_lockout");
    }
    let filter = |ip: Option<&str>, user: Option<&str>| ResetFilter {
        ip_address: ip.map(str::to_owned),
        username: user.map(str::to_owned),
    };
    // Lockout rows of IP a: the IP's and the pair's; manual ones stay.
    assert_eq!(
        store
            .reset_blocks(BlockKind::Lockout, &filter(Some(a), None))
            .await
            .expect("reset"),
        2
    );
    assert_eq!(all_blocks(store, Some(BlockKind::Manual)).await.len(), 6);
    assert_eq!(all_blocks(store, Some(BlockKind::Lockout)).await.len(), 1);
    // Both given: only targets with that IP AND that username.
    assert_eq!(
        store
            .reset_blocks(BlockKind::Manual, &filter(Some(b), Some("uma")))
            .await
            .expect("reset"),
        1
    );
    // IP a: the IP's block and the pair (a, uma).
    assert_eq!(
        store
            .reset_blocks(BlockKind::Manual, &filter(Some(a), None))
            .await
            .expect("reset"),
        2
    );
    // Username uma: the username's block (the pairs are gone).
    assert_eq!(
        store
            .reset_blocks(BlockKind::Manual, &filter(None, Some("uma")))
            .await
            .expect("reset"),
        1
    );
    assert_eq!(
        store
            .reset_blocks(BlockKind::Manual, &filter(Some("10.4.0.9"), None))
            .await
            .expect("reset"),
        0
    );
    let left: Vec<BlockTarget> = all_blocks(store, Some(BlockKind::Manual))
        .await
        .into_iter()
        .map(|b| b.target)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.contains(&targets[4]) && left.contains(&targets[5]),
        "{left:?}"
    );
    // Everything of a kind.
    assert_eq!(
        store
            .reset_blocks(BlockKind::Manual, &ResetFilter::all())
            .await
            .expect("reset"),
        2
    );
    assert_eq!(
        all_blocks(store, None).await.len(),
        1,
        "the lockout row of uma"
    );
    assert_eq!(
        store
            .reset_blocks(BlockKind::Lockout, &ResetFilter::all())
            .await
            .expect("reset"),
        1
    );
    assert_eq!(all_blocks(store, None).await, vec![]);
}

/// `record_lockout` counts a key's lockouts within the memory, sets
/// `until` by the escalation, keeps a longer `until`, and a refusing
/// lockout row refuses reservations.
async fn lockout_history(store: &dyn Store) {
    let ip = target(Some("10.5.0.1"), None);
    let k = key(Some("10.5.0.1"), Some("walt"), "ua");
    let e = escalation(60, 2.0, Some(200), Some(5));
    let first = store
        .record_lockout(&ip, at(0), &e)
        .await
        .expect("record_lockout");
    assert_eq!(
        first,
        Block {
            kind: BlockKind::Lockout,
            target: ip.clone(),
            until: Some(at(0)),
            created_at: at(0),
            created_by: String::new(),
            lockouts: 1,
        },
        "the first lockout is left to the count"
    );
    assert_admitted(store, &k, at(0), "a first lockout's row refuses nothing").await;
    let second = store
        .record_lockout(&ip, at(100), &e)
        .await
        .expect("record_lockout");
    assert_eq!(
        (second.lockouts, second.until, second.created_at),
        (2, Some(at(220)), at(100))
    );
    assert_eq!(
        all_blocks(store, None).await,
        vec![second.clone()],
        "one row per target"
    );
    assert_refused(store, &k, at(219), &second, "a lockout row").await;
    assert_admitted(store, &k, at(220), "the lockout row has passed").await;
    let third = store
        .record_lockout(&ip, at(300), &e)
        .await
        .expect("record_lockout");
    assert_eq!(
        (third.lockouts, third.until),
        (3, Some(at(500))),
        "x4 capped at 200 s"
    );
    // The memory (3600 s) counts from the END of the latest lockout (the
    // third ended at 500): a second before its memory ends, remembered.
    let fourth = store
        .record_lockout(&ip, at(500 + 3599), &e)
        .await
        .expect("record_lockout");
    assert_eq!(
        (fourth.lockouts, fourth.until),
        (4, Some(at(4299))),
        "remembered from the end of the third lockout"
    );
    let restarted = store
        .record_lockout(&ip, at(4299 + 3600), &e)
        .await
        .expect("record_lockout");
    assert_eq!(
        (restarted.lockouts, restarted.until, restarted.created_at),
        (1, Some(at(7899)), at(7899)),
        "forgotten exactly when the memory of the fourth's end runs out"
    );

    // Permanent from the 2nd lockout on.
    let user = target(None, Some("xena"));
    let x = key(Some("10.5.0.2"), Some("xena"), "ua");
    let p = escalation(60, 1.0, None, Some(2));
    store
        .record_lockout(&user, at(0), &p)
        .await
        .expect("record_lockout");
    let perm = store
        .record_lockout(&user, at(10), &p)
        .await
        .expect("record_lockout");
    assert_eq!((perm.lockouts, perm.until), (2, None));
    assert_refused(store, &x, at(1_000_000), &perm, "a permanent lockout row").await;

    // A longer existing until is kept (a new count and time all the same).
    let pair = target(Some("10.5.0.3"), Some("yuri"));
    let long = escalation(600, 10.0, None, None);
    let short = escalation(60, 1.0, None, None);
    store
        .record_lockout(&pair, at(0), &long)
        .await
        .expect("record_lockout");
    let l2 = store
        .record_lockout(&pair, at(1), &long)
        .await
        .expect("record_lockout");
    assert_eq!(l2.until, Some(at(6001)));
    let l3 = store
        .record_lockout(&pair, at(2), &short)
        .await
        .expect("record_lockout");
    assert_eq!(
        (l3.lockouts, l3.until, l3.created_at),
        (3, Some(at(6001)), at(2))
    );
    // A permanent row stays permanent.
    let again = store
        .record_lockout(&user, at(20), &short)
        .await
        .expect("record_lockout");
    assert_eq!((again.lockouts, again.until), (3, None));

    // A target with a user agent refuses that user agent only.
    let ua = BlockTarget::new(Some("10.5.0.4".into()), None, Some("bot/1".into())).expect("target");
    store
        .record_lockout(&ua, at(0), &p)
        .await
        .expect("record_lockout");
    let ua_row = store
        .record_lockout(&ua, at(1), &p)
        .await
        .expect("record_lockout");
    assert_eq!(ua_row.until, None);
    assert_refused(
        store,
        &key(Some("10.5.0.4"), Some("zoe"), "bot/1"),
        at(2),
        &ua_row,
        "ip + user agent",
    )
    .await;
    assert_admitted(
        store,
        &key(Some("10.5.0.4"), Some("zoe"), "bot/2"),
        at(2),
        "other user agent",
    )
    .await;
}

/// Of several refusing blocks the longest-lasting is reported, whatever
/// its kind.
async fn longest_reported(store: &dyn Store) {
    let k = key(Some("10.6.0.1"), Some("amy"), "ua");
    let ip = manual(&target(Some("10.6.0.1"), None), Some(at(100)), at(0));
    let pair = manual(&target(Some("10.6.0.1"), Some("amy")), Some(at(200)), at(0));
    store.put_block(&ip).await.expect("put");
    store.put_block(&pair).await.expect("put");
    assert_refused(store, &k, at(1), &pair, "the pair lasts longer").await;
    assert_refused(store, &k, at(150), &pair, "only the pair refuses").await;
    // A lockout row that lasts longer than both.
    let e = escalation(1000, 1.0, None, None);
    store
        .record_lockout(&target(None, Some("amy")), at(0), &e)
        .await
        .expect("record");
    let row = store
        .record_lockout(&target(None, Some("amy")), at(1), &e)
        .await
        .expect("record");
    assert_eq!(row.until, Some(at(1001)));
    assert_refused(store, &k, at(2), &row, "the lockout row lasts longer").await;
    // A permanent manual block outlasts everything.
    let forever = manual(&target(None, Some("amy")), None, at(3));
    store.put_block(&forever).await.expect("put");
    assert_refused(store, &k, at(4), &forever, "forever").await;
    // An expired longer block does not count: only refusing ones.
    assert!(
        store
            .remove_block(BlockKind::Manual, &forever.target)
            .await
            .expect("remove")
    );
    assert_refused(
        store,
        &k,
        at(1000),
        &row,
        "at 1000 only the lockout row refuses",
    )
    .await;
    assert_admitted(store, &k, at(1001), "all passed").await;
}

/// `list_blocks`: kind, IP, username, search and time filters; newest
/// first (or oldest); pages with the total of all pages.
async fn listing(store: &dyn Store) {
    let rows = [
        manual(&target(Some("10.7.0.1"), None), None, at(1)),
        manual(&target(None, Some("ben")), Some(at(5)), at(2)),
        Block {
            created_by: "Admin Root".into(),
            ..manual(&target(Some("10.7.0.1"), Some("ben")), None, at(3))
        },
        manual(&target(Some("10.7.0.2"), None), None, at(4)),
    ];
    for b in &rows {
        store.put_block(b).await.expect("put");
    }
    let e = escalation(60, 2.0, None, None);
    let lockout = store
        .record_lockout(&target(Some("10.7.0.1"), None), at(5), &e)
        .await
        .expect("record");
    let all = store
        .list_blocks(None, &ListQuery::all())
        .await
        .expect("list");
    assert_eq!(all.total, 5);
    let expect_all = vec![
        lockout.clone(),
        rows[3].clone(),
        rows[2].clone(),
        rows[1].clone(),
        rows[0].clone(),
    ];
    assert_eq!(
        all.items, expect_all,
        "newest created_at first, expired included"
    );
    let oldest = store
        .list_blocks(
            None,
            &ListQuery {
                order: Order::OldestFirst,
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        oldest.items,
        expect_all.iter().rev().cloned().collect::<Vec<_>>()
    );
    let manual_only = store
        .list_blocks(Some(BlockKind::Manual), &ListQuery::all())
        .await
        .expect("list");
    assert_eq!(manual_only.total, 4);
    assert!(
        manual_only
            .items
            .iter()
            .all(|b| b.kind == BlockKind::Manual)
    );
    let lockouts = store
        .list_blocks(Some(BlockKind::Lockout), &ListQuery::all())
        .await
        .expect("list");
    assert_eq!(lockouts.items, vec![lockout.clone()]);
    let by_ip = store
        .list_blocks(
            None,
            &ListQuery {
                ip_address: Some("10.7.0.1".into()),
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        by_ip.items,
        vec![lockout.clone(), rows[2].clone(), rows[0].clone()]
    );
    let by_user = store
        .list_blocks(
            Some(BlockKind::Manual),
            &ListQuery {
                username: Some("ben".into()),
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(by_user.items, vec![rows[2].clone(), rows[1].clone()]);
    let both = store
        .list_blocks(
            None,
            &ListQuery {
                ip_address: Some("10.7.0.1".into()),
                username: Some("ben".into()),
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(both.items, vec![rows[2].clone()]);
    let search = store
        .list_blocks(
            None,
            &ListQuery {
                search: Some("admin".into()),
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        search.items,
        vec![rows[2].clone()],
        "search looks in created_by, case-insensitively"
    );
    let search = store
        .list_blocks(
            None,
            &ListQuery {
                search: Some("7.0.2".into()),
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        search.items,
        vec![rows[3].clone()],
        "search looks in the IP"
    );
    let window = store
        .list_blocks(
            None,
            &ListQuery {
                since: Some(at(2)),
                until: Some(at(4)),
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        window.items,
        vec![rows[2].clone(), rows[1].clone()],
        "since inclusive, until exclusive"
    );
    let page = store
        .list_blocks(
            None,
            &ListQuery {
                offset: 1,
                limit: 2,
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!(page.total, 5);
    assert_eq!(page.items, expect_all[1..3].to_vec());
    let last = store
        .list_blocks(
            None,
            &ListQuery {
                offset: 4,
                limit: 2,
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!((last.total, last.items), (5, expect_all[4..].to_vec()));
    let beyond = store
        .list_blocks(
            None,
            &ListQuery {
                offset: 10,
                limit: 2,
                ..ListQuery::all()
            },
        )
        .await
        .expect("list");
    assert_eq!((beyond.total, beyond.items.len()), (5, 0));
}

/// `purge_blocks` removes what refuses nothing and is no longer needed.
async fn purging(store: &dyn Store) {
    let now = at(100_000);
    let forget_before = now - Duration::seconds(3600);
    let t = |ip: &str| target(Some(ip), None);
    // Manual: expired goes, bounded and forever stay.
    store
        .put_block(&manual(
            &t("10.8.0.1"),
            Some(now - Duration::seconds(1)),
            at(0),
        ))
        .await
        .expect("put");
    store
        .put_block(&manual(
            &t("10.8.0.2"),
            Some(now + Duration::seconds(100)),
            at(0),
        ))
        .await
        .expect("put");
    store
        .put_block(&manual(&t("10.8.0.3"), None, at(0)))
        .await
        .expect("put");
    // Until exactly now: refuses nothing, goes.
    store
        .put_block(&manual(&t("10.8.0.4"), Some(now), at(0)))
        .await
        .expect("put");
    let e = escalation(60, 2.0, None, None);
    // Lockout, expired but remembered: stays.
    store
        .record_lockout(&t("10.8.1.1"), now - Duration::seconds(10), &e)
        .await
        .expect("record");
    // Lockout, expired and forgotten: goes (also at exactly forget_before).
    store
        .record_lockout(&t("10.8.1.2"), now - Duration::seconds(7200), &e)
        .await
        .expect("record");
    store
        .record_lockout(&t("10.8.1.3"), forget_before, &e)
        .await
        .expect("record");
    // Lockout, forgotten but still refusing (long cool-off): stays.
    let long = escalation(10_000, 1.0, None, None);
    let lt = t("10.8.1.4");
    store
        .record_lockout(&lt, now - Duration::seconds(7200), &long)
        .await
        .expect("record");
    let refusing = store
        .record_lockout(&lt, now - Duration::seconds(7199), &long)
        .await
        .expect("record");
    assert!(refusing.refuses(now));
    // Lockout that began before forget_before but ended after it: the
    // memory runs from its end, so it stays.
    let mid = escalation(4000, 1.0, None, None);
    let mt = t("10.8.1.6");
    store
        .record_lockout(&mt, now - Duration::seconds(5001), &mid)
        .await
        .expect("record");
    let ended = store
        .record_lockout(&mt, now - Duration::seconds(5000), &mid)
        .await
        .expect("record");
    assert_eq!(ended.until, Some(now - Duration::seconds(1000)));
    // Lockout, permanent, long ago: stays.
    let p = escalation(60, 1.0, None, Some(1));
    store
        .record_lockout(&t("10.8.1.5"), at(0), &p)
        .await
        .expect("record");
    assert_eq!(all_blocks(store, None).await.len(), 10);
    assert_eq!(
        store.purge_blocks(now, forget_before).await.expect("purge"),
        4
    );
    let mut left: Vec<String> = all_blocks(store, None)
        .await
        .into_iter()
        .filter_map(|b| b.target.ip_address)
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "10.8.0.2", "10.8.0.3", "10.8.1.1", "10.8.1.4", "10.8.1.5", "10.8.1.6"
        ]
    );
    assert_eq!(
        store.purge_blocks(now, forget_before).await.expect("purge"),
        0,
        "nothing more"
    );
}

/// The block scenarios through the store API, each on a fresh store.
pub async fn run_blocks<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<Arc<dyn Store>>>,
{
    macro_rules! on_fresh {
        ($($check:ident),*) => {$(
            let Some(store) = fresh(&make).await else {
                return;
            };
            $check(&*store).await;
        )*};
    }
    on_fresh!(
        manual_blocks_refuse,
        until_and_replace,
        remove_exact,
        reset_by_filter,
        lockout_history,
        longest_reported,
        listing,
        purging
    );
}

/// Concurrent `record_lockout` calls on one target each count one lockout:
/// 16 at the same instant give the counts 1 to 16, and the row says 16.
pub async fn run_blocks_concurrency<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<Arc<dyn Store>>>,
{
    let Some(store) = fresh(&make).await else {
        return;
    };
    let t = target(Some("10.9.0.1"), Some("quinn"));
    let e = escalation(60, 2.0, Some(600), None);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        let t = t.clone();
        let e = e.clone();
        tasks.push(tokio::spawn(async move {
            store
                .record_lockout(&t, at(0), &e)
                .await
                .expect("record_lockout")
                .lockouts
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.expect("task"));
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=16).collect::<Vec<u32>>());
    let rows = all_blocks(&*store, None).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].lockouts, rows[0].until), (16, Some(at(600))));
}
