//! The admin router, driven with `oneshot`: pages, filters, actions, CSRF,
//! authorization, escaping, privacy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axes_core::{Attempt, LockoutParameters, Settings};
use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn dashboard_shows_counts_lockouts_and_chart() {
    let (axes, _clock) = engine(settings());
    fail(&axes, &attempt("203.0.113.7", "alice"), 3).await;
    fail(&axes, &attempt("198.51.100.2", "bob"), 1).await;
    axes.logged_in(&attempt("192.0.2.1", "carol"), Some("s"))
        .await;
    let app = app(&axes);

    let r = get(&app, "/admin/").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Locked out now"));
    assert!(r.body.contains("203.0.113.7"));
    assert!(r.body.contains("until reset"), "no cool-off: permanent");
    assert!(
        !r.body.contains(">198.51.100.2<"),
        "one failure does not lock"
    );
    assert!(r.body.contains("<svg class=\"chart\""));
    assert!(r.body.contains("Unlock this IP"));
    // 4 failures, 1 of them locked out (the third of alice), 1 login.
    assert!(
        r.body.contains("<dt>Failed logins</dt><dd>4</dd>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<dt>Locked out</dt><dd>1</dd>"));
    assert!(r.body.contains("<dt>Logins</dt><dd>1</dd>"));
    let week = get(&app, "/admin/?range=7d").await;
    assert_eq!(week.status, StatusCode::OK);
    assert!(week.body.contains("the last 7 days"));
}

#[tokio::test]
async fn lockout_lift_time_follows_the_cooloff() {
    let (axes, _clock) = engine(Settings {
        cooloff_time: Some(std::time::Duration::from_secs(30 * 60)),
        ..settings()
    });
    fail(&axes, &attempt("203.0.113.7", "alice"), 3).await;
    let r = get(&app(&axes), "/admin/").await;
    assert!(r.body.contains("in 30 min 0 s"), "{}", r.body);
    assert!(!r.body.contains("until reset"));
}

#[tokio::test]
async fn attempts_list_filters_sorts_pages_and_counts() {
    let (axes, clock) = engine(settings());
    for i in 1..=5 {
        fail(
            &axes,
            &attempt(&format!("10.0.0.{i}"), &format!("user{i}")),
            1,
        )
        .await;
        clock.advance(chrono::Duration::minutes(1));
    }
    let app = app(&axes);

    let all = get(&app, "/admin/attempts").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.body
            .contains("Showing <strong>1–5</strong> of <strong>5</strong>")
    );

    let by_ip = get(&app, "/admin/attempts?ip=10.0.0.3").await;
    assert!(by_ip.body.contains("of <strong>1</strong>"));
    assert!(by_ip.body.contains("user3"));
    assert!(!by_ip.body.contains("user4"));

    let by_user = get(&app, "/admin/attempts?username=USER2").await;
    assert!(by_user.body.contains("of <strong>1</strong>"), "normalised");
    assert!(by_user.body.contains("10.0.0.2"));

    let search = get(&app, "/admin/attempts?q=ser5").await;
    assert!(search.body.contains("of <strong>1</strong>"));

    let page1 = get(&app, "/admin/attempts?per_page=2").await;
    assert!(
        page1
            .body
            .contains("Showing <strong>1–2</strong> of <strong>5</strong>")
    );
    assert!(page1.body.contains("Page 1 of 3"));
    // Newest first by default.
    let p5 = page1.body.find("user5").unwrap();
    let p4 = page1.body.find("user4").unwrap();
    assert!(p5 < p4);
    assert!(!page1.body.contains(">user1<"));
    assert!(page1.body.contains("per_page=2&amp;page=2"));

    let page3 = get(&app, "/admin/attempts?per_page=2&page=3").await;
    assert!(
        page3
            .body
            .contains("Showing <strong>5–5</strong> of <strong>5</strong>")
    );
    assert!(page3.body.contains("user1"));

    let oldest = get(&app, "/admin/attempts?sort=oldest&per_page=2").await;
    assert!(oldest.body.contains("user1") && oldest.body.contains("user2"));
    assert!(!oldest.body.contains(">user5<"));
    assert!(oldest.body.contains("aria-sort=\"ascending\""));

    // Time range: only the last two minutes.
    let since = (axes.now() - chrono::Duration::minutes(2))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let recent = get(&app, &format!("/admin/attempts?since={since}")).await;
    assert!(
        recent.body.contains("of <strong>2</strong>"),
        "{}",
        recent.body
    );
    let until = get(&app, &format!("/admin/attempts?until={since}")).await;
    assert!(until.body.contains("of <strong>3</strong>"));

    // Bounded page size, validated input.
    let big = get(&app, "/admin/attempts?per_page=5000").await;
    assert_eq!(big.status, StatusCode::BAD_REQUEST);
    assert!(
        big.body
            .contains("page size must be a number from 1 to 100")
    );
    let bad_ip = get(&app, "/admin/attempts?ip=not-an-ip").await;
    assert_eq!(bad_ip.status, StatusCode::BAD_REQUEST);
    assert!(bad_ip.body.contains("IP address:"));
    assert!(bad_ip.body.contains("role=\"alert\""));
    let bad_time = get(&app, "/admin/attempts?since=yesterday").await;
    assert_eq!(bad_time.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn log_listings_show_logins_logouts_and_failures() {
    let (axes, clock) = engine(settings());
    axes.logged_in(&attempt("192.0.2.1", "carol"), Some("sess"))
        .await;
    clock.advance(chrono::Duration::minutes(5));
    axes.logged_out("carol", Some("sess")).await;
    fail(&axes, &attempt("203.0.113.7", "mallory"), 3).await;
    let app = app(&axes);

    let logs = get(&app, "/admin/access-logs").await;
    assert_eq!(logs.status, StatusCode::OK);
    assert!(logs.body.contains("carol"));
    assert_eq!(
        logs.body.matches("<time datetime").count(),
        2,
        "login and logout"
    );

    let failures = get(&app, "/admin/failure-logs?username=mallory").await;
    assert!(failures.body.contains("of <strong>3</strong>"));
    assert_eq!(failures.body.matches("badge danger\">yes").count(), 1);
}

fn first_link(body: &str, prefix: &str) -> String {
    let start = body
        .find(&format!("href=\"{prefix}"))
        .expect("no detail link")
        + 6;
    let end = body[start..].find('"').unwrap() + start;
    body[start..end].replace("&#x2f;", "/")
}

#[tokio::test]
async fn detail_views() {
    let (axes, _clock) = engine(settings());
    fail(&axes, &attempt("203.0.113.7", "alice"), 3).await;
    axes.logged_in(&attempt("192.0.2.1", "carol"), Some("sess"))
        .await;
    let app = app(&axes);

    let list = get(&app, "/admin/attempts").await;
    let link = first_link(&list.body, "&#x2f;admin&#x2f;attempts&#x2f;");
    let d = get(&app, &link).await;
    assert_eq!(d.status, StatusCode::OK, "{link}");
    assert!(d.body.contains("Access attempt"));
    assert!(d.body.contains("test-agent&#x2f;1.0"));
    assert!(
        d.body
            .contains("Locked out: 3 failures (limit 3), until reset.")
    );
    assert!(d.body.contains("Unlock this IP"));
    assert!(d.body.contains("Unlock this username"));
    assert!(d.body.contains("Unlock IP + username"));

    let list = get(&app, "/admin/access-logs").await;
    let link = first_link(&list.body, "&#x2f;admin&#x2f;access-logs&#x2f;");
    let d = get(&app, &link).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.body.contains("not logged out"));

    let list = get(&app, "/admin/failure-logs").await;
    let link = first_link(&list.body, "&#x2f;admin&#x2f;failure-logs&#x2f;");
    assert_eq!(get(&app, &link).await.status, StatusCode::OK);

    assert_eq!(
        get(&app, "/admin/attempts/99999").await.status,
        StatusCode::NOT_FOUND
    );
    let long = format!("/admin/attempts/{}", "9".repeat(500));
    assert_eq!(get(&app, &long).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/admin/no-such-page").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn attempt_ids(axes: &axes_core::Axes) -> Vec<String> {
    axes.list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[tokio::test]
async fn delete_selected_asks_first_then_deletes() {
    let (axes, _clock) = engine(settings());
    fail(&axes, &attempt("10.0.0.1", "a"), 3).await;
    fail(&axes, &attempt("10.0.0.2", "b"), 1).await;
    fail(&axes, &attempt("10.0.0.3", "c"), 1).await;
    let app = app(&axes);
    let ids = attempt_ids(&axes).await;
    assert_eq!(ids.len(), 3);
    let t = token(&app).await;

    let form = [("csrf_token", t.as_str()), ("id", &ids[0]), ("id", &ids[1])];
    let confirm = post(&app, "/admin/attempts/delete", &form).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("Delete 2 access attempts?"));
    assert!(confirm.body.contains("Yes, delete 2 access attempts"));
    assert!(confirm.body.contains("name=\"confirm\" value=\"yes\""));
    assert_eq!(
        attempt_ids(&axes).await.len(),
        3,
        "nothing deleted before confirming"
    );

    let mut form = form.to_vec();
    form.push(("confirm", "yes"));
    let done = post(&app, "/admin/attempts/delete", &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/admin/attempts?done=deleted-attempts&n=2");
    assert_eq!(attempt_ids(&axes).await, vec![ids[2].clone()]);
    let after = get(&app, done.location()).await;
    assert!(after.body.contains("2 access attempts deleted."));

    // Nothing selected.
    let none = post(&app, "/admin/attempts/delete", &[("csrf_token", &t)]).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);

    // Logs too.
    axes.logged_in(&attempt("192.0.2.1", "carol"), Some("sess"))
        .await;
    let log_ids: Vec<String> = axes
        .list_access_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.id)
        .collect();
    let done = post(
        &app,
        "/admin/access-logs/delete",
        &[("csrf_token", &t), ("id", &log_ids[0]), ("confirm", "yes")],
    )
    .await;
    assert_eq!(
        done.location(),
        "/admin/access-logs?done=deleted-access-logs&n=1"
    );
    let fl: Vec<String> = axes
        .list_failure_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(fl.len(), 5);
    let done = post(
        &app,
        "/admin/failure-logs/delete",
        &[
            ("csrf_token", &t),
            ("id", &fl[0]),
            ("id", &fl[1]),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(
        done.location(),
        "/admin/failure-logs?done=deleted-failure-logs&n=2"
    );
}

async fn unlock_case(form_fields: &[(&str, &str)], lifted: &[(&str, &str)], kept: &[(&str, &str)]) {
    let (axes, _clock) = engine(Settings {
        lockout_parameters: LockoutParameters::parse_env("ip_address,username").unwrap(),
        ..settings()
    });
    // alice@1 is locked by IP 10.0.0.1 (and username alice);
    // bob@1 shares the IP; alice@2 shares the username.
    fail(&axes, &attempt("10.0.0.1", "alice"), 3).await;
    fail(&axes, &attempt("10.0.0.2", "carol"), 3).await;
    let app = app(&axes);
    assert!(locked(&axes, &attempt("10.0.0.1", "alice")).await);
    let t = token(&app).await;

    let mut form: Vec<(&str, &str)> = vec![("csrf_token", &t)];
    form.extend_from_slice(form_fields);
    let confirm = post(&app, "/admin/unlock", &form).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("Unlock "), "{}", confirm.body);
    assert!(confirm.body.contains("Yes, unlock"));
    assert!(
        locked(&axes, &attempt("10.0.0.1", "alice")).await,
        "not before confirming"
    );

    form.push(("confirm", "yes"));
    let done = post(&app, "/admin/unlock", &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(
        done.location()
            .starts_with("/admin/attempts?done=unlocked&n=")
    );
    for (ip, user) in lifted {
        assert!(
            !locked(&axes, &attempt(ip, user)).await,
            "{ip} {user} still locked"
        );
    }
    for (ip, user) in kept {
        assert!(
            locked(&axes, &attempt(ip, user)).await,
            "{ip} {user} unlocked too"
        );
    }
}

#[tokio::test]
async fn unlock_ip_lifts_the_lockout() {
    unlock_case(
        &[("ip", "10.0.0.1")],
        &[("10.0.0.1", "someone")],
        &[("10.0.0.2", "carol")],
    )
    .await;
}

#[tokio::test]
async fn unlock_username_lifts_the_lockout() {
    let (axes, _clock) = engine(Settings {
        lockout_parameters: LockoutParameters::parse_env("username").unwrap(),
        ..settings()
    });
    fail(&axes, &attempt("10.0.0.1", "Alice"), 2).await;
    fail(&axes, &attempt("10.0.0.9", "alice"), 1).await;
    fail(&axes, &attempt("10.0.0.2", "carol"), 3).await;
    let app = app(&axes);
    assert!(locked(&axes, &attempt("10.0.0.5", "alice")).await);
    let t = token(&app).await;
    let confirm = post(
        &app,
        "/admin/unlock",
        &[("csrf_token", &t), ("username", "ALICE")],
    )
    .await;
    assert!(
        confirm.body.contains("Unlock username alice?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("removes 2 access attempts"));
    let done = post(
        &app,
        "/admin/unlock",
        &[
            ("csrf_token", &t),
            ("username", "ALICE"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(done.location(), "/admin/attempts?done=unlocked&n=2");
    assert!(!locked(&axes, &attempt("10.0.0.5", "alice")).await);
    assert!(locked(&axes, &attempt("10.0.0.5", "carol")).await);
}

#[tokio::test]
async fn unlock_ip_and_username_removes_only_matching_records() {
    let (axes, _clock) = engine(Settings {
        lockout_parameters: LockoutParameters::parse_env("ip_address+username").unwrap(),
        ..settings()
    });
    fail(&axes, &attempt("10.0.0.1", "alice"), 3).await;
    fail(&axes, &attempt("10.0.0.1", "bob"), 3).await;
    fail(&axes, &attempt("10.0.0.2", "alice"), 3).await;
    let app = app(&axes);
    let t = token(&app).await;
    let done = post(
        &app,
        "/admin/unlock",
        &[
            ("csrf_token", &t),
            ("ip", "10.0.0.1"),
            ("username", "alice"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(done.location(), "/admin/attempts?done=unlocked&n=1");
    assert!(!locked(&axes, &attempt("10.0.0.1", "alice")).await);
    assert!(locked(&axes, &attempt("10.0.0.1", "bob")).await);
    assert!(locked(&axes, &attempt("10.0.0.2", "alice")).await);
}

#[tokio::test]
async fn unlock_validates_its_input() {
    let (axes, _clock) = engine(settings());
    let app = app(&axes);
    let t = token(&app).await;
    let bad = post(
        &app,
        "/admin/unlock",
        &[("csrf_token", &t), ("ip", "999.1.1.1")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let empty = post(&app, "/admin/unlock", &[("csrf_token", &t)]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unlock_from_the_ip_filter_alternative() {
    unlock_case(
        &[("ip", "10.0.0.2")],
        &[("10.0.0.2", "x")],
        &[("10.0.0.1", "alice")],
    )
    .await;
}

#[tokio::test]
async fn prune_logs_by_age() {
    let (axes, clock) = engine(settings());
    let start = axes.now();
    clock.set(start - chrono::Duration::days(40));
    axes.logged_in(&attempt("192.0.2.1", "old"), None).await;
    fail(&axes, &attempt("192.0.2.1", "old"), 1).await;
    clock.set(start - chrono::Duration::days(10));
    axes.logged_in(&attempt("192.0.2.1", "recent"), None).await;
    fail(&axes, &attempt("192.0.2.1", "recent"), 1).await;
    clock.set(start);
    let app = app(&axes);
    let t = token(&app).await;

    let confirm = post(
        &app,
        "/admin/prune",
        &[("csrf_token", &t), ("log", "access"), ("days", "30")],
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains("Prune access log entries older than 30 days?")
    );
    assert!(confirm.body.contains("deletes 1 access log entry"));
    let done = post(
        &app,
        "/admin/prune",
        &[
            ("csrf_token", &t),
            ("log", "access"),
            ("days", "30"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(
        done.location(),
        "/admin/access-logs?done=pruned-access-logs&n=1"
    );
    let left = axes
        .list_access_logs(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(left.total, 1);
    assert_eq!(left.items[0].entry.key.username.as_deref(), Some("recent"));

    let done = post(
        &app,
        "/admin/prune",
        &[
            ("csrf_token", &t),
            ("log", "failure"),
            ("days", "5"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(
        done.location(),
        "/admin/failure-logs?done=pruned-failure-logs&n=2"
    );

    let bad = post(
        &app,
        "/admin/prune",
        &[("csrf_token", &t), ("log", "access"), ("days", "-1")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = post(
        &app,
        "/admin/prune",
        &[("csrf_token", &t), ("log", "x"), ("days", "1")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn remove_expired_attempts() {
    let (axes, clock) = engine(Settings {
        cooloff_time: Some(std::time::Duration::from_secs(3600)),
        ..settings()
    });
    let start = axes.now();
    // The live lockout first: the memory store drops expired records it
    // meets when a failure comes in, so the old ones come last.
    fail(&axes, &attempt("192.0.2.3", "recent"), 3).await;
    clock.set(start - chrono::Duration::hours(2));
    fail(&axes, &attempt("192.0.2.1", "old"), 1).await;
    fail(&axes, &attempt("192.0.2.2", "older"), 1).await;
    clock.set(start);
    let app = app(&axes);

    let page = get(&app, "/admin/attempts").await;
    assert!(
        page.body.contains("Remove expired attempts"),
        "{}",
        page.body
    );
    let t = page.csrf();

    let refused = post(&app, "/admin/purge", &[("confirm", "yes")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "CSRF token required");
    let confirm = post(&app, "/admin/purge", &[("csrf_token", &t)]).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("Remove expired attempts?"));
    assert!(
        confirm.body.contains("deletes 2 access attempts"),
        "{}",
        confirm.body
    );
    assert_eq!(
        axes.list_attempts(&axes_core::store::ListQuery::all())
            .await
            .unwrap()
            .total,
        3,
        "asking removes nothing"
    );
    let done = post(
        &app,
        "/admin/purge",
        &[("csrf_token", &t), ("confirm", "yes")],
    )
    .await;
    assert_eq!(done.location(), "/admin/attempts?done=purged-attempts&n=2");
    let left = axes
        .list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap();
    assert_eq!(left.total, 1);
    assert_eq!(left.items[0].key.username.as_deref(), Some("recent"));
    assert!(locked(&axes, &attempt("192.0.2.3", "recent")).await);
    let notice = get(&app, "/admin/attempts?done=purged-attempts&n=2").await;
    assert!(notice.body.contains("2 expired access attempts removed."));

    // Without a cool-off nothing expires: no button, and the action says so.
    let (axes, _) = engine(settings());
    let plain = common::app(&axes);
    let page = get(&plain, "/admin/attempts").await;
    assert!(!page.body.contains("Remove expired attempts"));
    let t = page.csrf();
    let r = post(
        &plain,
        "/admin/purge",
        &[("csrf_token", &t), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn posts_without_a_valid_csrf_token_are_refused() {
    let (axes, _clock) = engine(settings());
    fail(&axes, &attempt("10.0.0.1", "alice"), 3).await;
    let app = app(&axes);
    let good = token(&app).await;
    let other_admin = get_as(&app, "/admin/", Some("eve")).await.csrf();
    let unlock = |t: &'static str| vec![("csrf_token", t), ("ip", "10.0.0.1"), ("confirm", "yes")];

    let missing = post(
        &app,
        "/admin/unlock",
        &[("ip", "10.0.0.1"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = post(&app, "/admin/unlock", &unlock("1234.abcd")).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // Change the last digit to a different one (a fixed "0" would equal the
    // real token one time in sixteen).
    let last = if good.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &good[..good.len() - 1]);
    assert_ne!(forged, good);
    let forged = post(
        &app,
        "/admin/unlock",
        &[
            ("csrf_token", &forged),
            ("ip", "10.0.0.1"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let stolen = post(
        &app,
        "/admin/unlock",
        &[
            ("csrf_token", &other_admin),
            ("ip", "10.0.0.1"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(
        stolen.status,
        StatusCode::FORBIDDEN,
        "tokens are bound to the admin"
    );
    for path in [
        "/admin/attempts/delete",
        "/admin/access-logs/delete",
        "/admin/failure-logs/delete",
        "/admin/prune",
        "/admin/purge",
    ] {
        let r = post(
            &app,
            path,
            &[
                ("id", "1"),
                ("log", "access"),
                ("days", "1"),
                ("confirm", "yes"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        locked(&axes, &attempt("10.0.0.1", "alice")).await,
        "nothing changed"
    );

    // A cross-site POST is refused even with a token.
    let req = axum::http::Request::post("/admin/unlock")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-admin", "root")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::from(format!(
            "csrf_token={good}&ip=10.0.0.1&confirm=yes"
        )))
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(locked(&axes, &attempt("10.0.0.1", "alice")).await);

    let ok = post(
        &app,
        "/admin/unlock",
        &[
            ("csrf_token", &good),
            ("ip", "10.0.0.1"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn strangers_are_sent_to_login_or_refused() {
    let (axes, _clock) = engine(settings());
    fail(&axes, &attempt("10.0.0.1", "alice"), 3).await;
    let app = app(&axes);
    let r = get_as(&app, "/admin/attempts?ip=10.0.0.1", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fadmin%2Fattempts");
    let r = get_as(&app, "/admin/", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!r.body.contains("10.0.0.1"));
    let r = post_as(
        &app,
        "/admin/unlock",
        &[("ip", "10.0.0.1"), ("confirm", "yes")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(locked(&axes, &attempt("10.0.0.1", "alice")).await);
    // The stylesheet is public (the login page needs it).
    let css = get_as(&app, "/admin/static/admin.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );

    // Without a login URL: 403.
    let config = axes_admin::AdminConfig::new(axes.clone(), |_: &http::request::Parts| None);
    let bare = axum::Router::new().nest_service("/admin", axes_admin::router(config));
    let r = get_as(&bare, "/admin/", Some("root")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Not authorized"));
}

const HOSTILE: &str = "<script>alert(1)</script>";
const HOSTILE_UA: &str = "Mozilla\"><img src=x onerror=alert(2)>";

#[tokio::test]
async fn hostile_usernames_and_user_agents_are_escaped_everywhere() {
    let (axes, _clock) = engine(settings());
    let a = Attempt::new()
        .ip_address("10.0.0.66".parse().unwrap())
        .username(HOSTILE)
        .user_agent(HOSTILE_UA)
        .path("/login?<b>x</b>");
    fail(&axes, &a, 3).await;
    axes.logged_in(&a, Some("s")).await;
    let app = app(&axes);

    let mut pages = vec![
        get(&app, "/admin/").await,
        get(&app, "/admin/attempts").await,
        get(&app, "/admin/access-logs").await,
        get(&app, "/admin/failure-logs").await,
        get(&app, &format!("/admin/attempts?q={}", "%3Cscript%3E")).await,
    ];
    for prefix in ["attempts", "access-logs", "failure-logs"] {
        let list = get(&app, &format!("/admin/{prefix}")).await;
        let link = first_link(&list.body, &format!("&#x2f;admin&#x2f;{prefix}&#x2f;"));
        pages.push(get(&app, &link).await);
    }
    let t = token(&app).await;
    pages.push(
        post(
            &app,
            "/admin/unlock",
            &[("csrf_token", &t), ("username", HOSTILE)],
        )
        .await,
    );
    let ids = attempt_ids(&axes).await;
    pages.push(
        post(
            &app,
            "/admin/attempts/delete",
            &[("csrf_token", &t), ("id", &ids[0])],
        )
        .await,
    );

    let escaped = "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;";
    for (i, p) in pages.iter().enumerate() {
        assert!(
            !p.body.contains("<script>alert"),
            "page {i} has a raw script tag"
        );
        assert!(!p.body.contains("<img src=x"), "page {i} has a raw img tag");
        assert!(!p.body.contains("<b>x</b>"), "page {i} has a raw path");
    }
    assert!(pages[1].body.contains(escaped), "{}", pages[1].body);
    assert!(
        pages[1]
            .body
            .contains("Mozilla&quot;&gt;&lt;img src=x onerror=alert(2)&gt;")
    );
    assert!(pages[4].body.contains(escaped), "search finds it");
    assert!(pages[5].body.contains(escaped), "detail");
}

#[tokio::test]
async fn without_stored_ips_no_ip_column_appears() {
    let (axes, _clock) = engine(Settings {
        store_ip_address: false,
        lockout_parameters: LockoutParameters::parse_env("username").unwrap(),
        ..settings()
    });
    fail(&axes, &attempt("10.0.0.77", "alice"), 3).await;
    axes.logged_in(&attempt("10.0.0.77", "bob"), None).await;
    let app = app(&axes);
    let mut pages = Vec::new();
    for path in [
        "/admin/",
        "/admin/attempts",
        "/admin/access-logs",
        "/admin/failure-logs",
        "/admin/attempts?ip=10.0.0.77",
    ] {
        let p = get(&app, path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        pages.push(p);
    }
    for prefix in ["attempts", "access-logs", "failure-logs"] {
        let link = first_link(
            &pages[match prefix {
                "attempts" => 1,
                "access-logs" => 2,
                _ => 3,
            }]
            .body,
            &format!("&#x2f;admin&#x2f;{prefix}&#x2f;"),
        );
        pages.push(get(&app, &link).await);
    }
    for p in &pages {
        assert!(!p.body.contains("IP address"), "{}", p.body);
        assert!(!p.body.contains("10.0.0.77"));
        assert!(!p.body.contains("name=\"ip\""));
        assert!(!p.body.contains("Unlock this IP"));
    }
    assert!(pages[0].body.contains("Unlock this username"));
    assert!(pages[1].body.contains("alice"));
    let t = token(&app).await;
    let r = post(
        &app,
        "/admin/unlock",
        &[("csrf_token", &t), ("ip", "10.0.0.77")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pages_carry_security_headers_and_work_when_mounted_anywhere() {
    let (axes, _clock) = engine(settings());
    let app = app(&axes);
    let r = get(&app, "/admin/").await;
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(get(&app, "/admin").await.status, StatusCode::OK);
    assert!(
        r.body.contains("href=\"&#x2f;admin/attempts\""),
        "{}",
        r.body
    );

    // Nested with `nest` somewhere else.
    let config = axes_admin::AdminConfig::new(axes.clone(), |_: &http::request::Parts| {
        Some(axes_admin::AdminIdentity::new("x"))
    });
    let other = axum::Router::new().nest("/ops/axes", axes_admin::router(config));
    let r = get(&other, "/ops/axes").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("href=\"&#x2f;ops&#x2f;axes/attempts\""));
    assert_eq!(
        get(&other, "/ops/axes/attempts").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&other, "/ops/axes/static/admin.js").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn detail_finds_rows_beyond_the_newest_pages() {
    use axes_core::store::{ListQuery, NewAccessLog, Order, RecordKey};

    let (axes, _clock) = engine(settings());
    let t0 = axes.now();
    for i in 0..21_000i64 {
        axes.store()
            .insert_access_log(&NewAccessLog {
                key: RecordKey {
                    scope: String::new(),
                    username: Some(format!("user{i}")),
                    ip_address: Some("192.0.2.1".into()),
                    user_agent: "ua".into(),
                },
                path: "/login".into(),
                http_accept: String::new(),
                attempt_time: t0 + chrono::Duration::seconds(i),
                session_hash: String::new(),
            })
            .await
            .unwrap();
    }
    let oldest = axes
        .list_access_logs(&ListQuery {
            order: Order::OldestFirst,
            limit: 1,
            ..ListQuery::all()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    let app = app(&axes);
    let d = get(&app, &format!("/admin/access-logs/{}", oldest.id)).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.body.contains("user0"));
    assert_eq!(
        get(&app, "/admin/access-logs/99999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/admin/failure-logs/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
}
