//! The Blocks page: list, block form with confirmation, unblock buttons,
//! CSRF, validation, escaping — and that a block set here refuses a right
//! password at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axes_core::{Axes, LockoutReason, Settings};
use axum::http::StatusCode;
use common::*;

const IP: &str = "203.0.113.7";

async fn right_password_passes(axes: &Axes, ip: &str, user: &str) -> bool {
    axes.authenticate(&attempt(ip, user), || async {
        Ok::<_, std::convert::Infallible>(Some(()))
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn block_an_ip_with_confirmation_then_unblock_it() {
    let (axes, _clock) = engine(settings());
    let app = app(&axes);

    let page = get(&app, "/admin/blocks").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No blocks."), "{}", page.body);
    assert!(
        page.body
            .contains("&#x2f;admin/blocks\" aria-current=\"page\">Blocks</a>"),
        "{}",
        page.body
    );
    let t = page.csrf();

    // The first POST asks; nothing is blocked yet.
    let confirm = post(&app, "/admin/blocks/add", &[("csrf_token", &t), ("ip", IP)]).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm.body.contains(&format!("Block ip {IP}?")),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("until it is unblocked"));
    assert!(confirm.body.contains("Yes, block"));
    assert!(right_password_passes(&axes, IP, "alice").await);

    let done = post(
        &app,
        "/admin/blocks/add",
        &[("csrf_token", &t), ("ip", IP), ("confirm", "yes")],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/admin/blocks?done=blocked&n=1");

    // Refused at once, whatever the password, and nothing counted.
    let lockout = axes.check(&attempt(IP, "alice")).await.lockout.unwrap();
    assert_eq!(lockout.reason, LockoutReason::Blocked);
    assert!(!right_password_passes(&axes, IP, "alice").await);
    assert!(!right_password_passes(&axes, IP, "bob").await);
    assert!(right_password_passes(&axes, "198.51.100.1", "alice").await);
    assert_eq!(
        axes.list_attempts(&axes_core::store::ListQuery::all())
            .await
            .unwrap()
            .total,
        0
    );

    let dashboard = get(&app, "/admin/").await;
    assert!(
        dashboard
            .body
            .contains("Manual blocks refusing logins now: <strong>1</strong>"),
        "{}",
        dashboard.body
    );
    let list = get(&app, "/admin/blocks?done=blocked&n=1").await;
    assert!(
        list.body
            .contains("Blocked: matching logins are refused at once.")
    );
    assert!(
        list.body
            .contains(&format!("<span class=\"mono\">{IP}</span>"))
    );
    assert!(list.body.contains("until unblocked"), "{}", list.body);
    assert!(
        list.body.contains("<span class=\"mono\">root</span>"),
        "who set it"
    );
    assert!(list.body.contains("refusing"));
    assert!(list.body.contains("Unblock"));

    let confirm = post(
        &app,
        "/admin/blocks/remove",
        &[("csrf_token", &t), ("ip", IP)],
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains(&format!("Unblock ip {IP}?")));
    assert!(!right_password_passes(&axes, IP, "alice").await, "not yet");
    let done = post(
        &app,
        "/admin/blocks/remove",
        &[("csrf_token", &t), ("ip", IP), ("confirm", "yes")],
    )
    .await;
    assert_eq!(done.location(), "/admin/blocks?done=unblocked&n=1");
    assert!(right_password_passes(&axes, IP, "alice").await);
    let again = post(
        &app,
        "/admin/blocks/remove",
        &[("csrf_token", &t), ("ip", IP), ("confirm", "yes")],
    )
    .await;
    assert_eq!(again.location(), "/admin/blocks?done=unblocked&n=0");
    let page = get(&app, "/admin/blocks?done=unblocked&n=0").await;
    assert!(page.body.contains("No block found."));
    assert!(page.body.contains("No blocks."));
}

#[tokio::test]
async fn a_block_for_a_while_shows_its_end_and_expires() {
    let (axes, clock) = engine(settings());
    let app = app(&axes);
    let t = token(&app).await;
    let confirm = post(
        &app,
        "/admin/blocks/add",
        &[("csrf_token", &t), ("username", "Mallory"), ("for", "2h")],
    )
    .await;
    assert!(
        confirm.body.contains("Block username &quot;mallory&quot;?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("for 2 h 0 min"), "{}", confirm.body);
    let done = post(
        &app,
        "/admin/blocks/add",
        &[
            ("csrf_token", &t),
            ("username", "Mallory"),
            ("for", "2h"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let until = axes.now() + chrono::Duration::hours(2);
    let list = get(&app, "/admin/blocks").await;
    assert!(
        list.body
            .contains(&until.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        "{}",
        list.body
    );
    assert!(list.body.contains("(in 2 h 0 min)"), "{}", list.body);
    assert!(!right_password_passes(&axes, IP, "mallory").await);
    assert!(right_password_passes(&axes, IP, "alice").await);

    clock.advance(chrono::Duration::hours(2) + chrono::Duration::seconds(1));
    assert!(right_password_passes(&axes, IP, "mallory").await);
    let list = get(&app, "/admin/blocks").await;
    assert!(list.body.contains("expired"), "{}", list.body);
    assert!(!list.body.contains("refusing"));
}

#[tokio::test]
async fn a_pair_block_refuses_only_the_pair() {
    let (axes, _clock) = engine(settings());
    let app = app(&axes);
    let t = token(&app).await;
    let form = [
        ("csrf_token", t.as_str()),
        ("ip", IP),
        ("username", "alice"),
        ("confirm", "yes"),
    ];
    let done = post(&app, "/admin/blocks/add", &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(!right_password_passes(&axes, IP, "alice").await);
    assert!(right_password_passes(&axes, IP, "bob").await);
    assert!(right_password_passes(&axes, "198.51.100.1", "alice").await);
    // The IP alone is another block.
    let other = post(
        &app,
        "/admin/blocks/remove",
        &[("csrf_token", &t), ("ip", IP), ("confirm", "yes")],
    )
    .await;
    assert_eq!(other.location(), "/admin/blocks?done=unblocked&n=0");
    let done = post(&app, "/admin/blocks/remove", &form).await;
    assert_eq!(done.location(), "/admin/blocks?done=unblocked&n=1");
    assert!(right_password_passes(&axes, IP, "alice").await);
}

#[tokio::test]
async fn block_forms_are_validated_and_need_the_csrf_token() {
    let (axes, _clock) = engine(settings());
    let app = app(&axes);
    let t = token(&app).await;
    for (form, needle) in [
        (vec![("csrf_token", t.as_str())], "Give an IP address"),
        (
            vec![("csrf_token", t.as_str()), ("ip", "300.1.1.1")],
            "300.1.1.1",
        ),
        (
            vec![("csrf_token", t.as_str()), ("ip", IP), ("for", "0")],
            "longer than zero",
        ),
        (
            vec![("csrf_token", t.as_str()), ("ip", IP), ("for", "soon")],
            "The duration",
        ),
        (
            vec![("csrf_token", t.as_str()), ("ip", IP), ("for", "200years")],
            "100 years",
        ),
    ] {
        for confirm in [false, true] {
            let mut form = form.clone();
            if confirm {
                form.push(("confirm", "yes"));
            }
            let r = post(&app, "/admin/blocks/add", &form).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{form:?}: {}", r.body);
            assert!(r.body.contains(needle), "{form:?}: {}", r.body);
        }
    }
    let r = post(&app, "/admin/blocks/remove", &[("csrf_token", &t)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    for action in ["/admin/blocks/add", "/admin/blocks/remove"] {
        let no_token = post(&app, action, &[("ip", IP), ("confirm", "yes")]).await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        let wrong = post(
            &app,
            action,
            &[("csrf_token", "1234.abcd"), ("ip", IP), ("confirm", "yes")],
        )
        .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        let stranger = post_as(
            &app,
            action,
            &[("csrf_token", &t), ("ip", IP), ("confirm", "yes")],
            None,
        )
        .await;
        assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    }
    assert!(
        right_password_passes(&axes, IP, "alice").await,
        "nothing blocked"
    );
    let page = get_as(&app, "/admin/blocks", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "to the login page");
}

#[tokio::test]
async fn blocked_values_are_escaped_and_ips_hidden_when_not_stored() {
    let (axes, _clock) = engine(settings());
    let app = app(&axes);
    axes.block(None, Some("<script>x</script>"), None, "<b>api</b>")
        .await
        .unwrap();
    let page = get(&app, "/admin/blocks").await;
    assert!(!page.body.contains("<script>x"), "{}", page.body);
    assert!(
        page.body.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<b>api</b>"));

    let (axes, _clock) = engine(Settings {
        store_ip_address: false,
        lockout_parameters: "username".parse().unwrap(),
        ..settings()
    });
    let app = common::app(&axes);
    let t = token(&app).await;
    let r = post(
        &app,
        "/admin/blocks/add",
        &[("csrf_token", &t), ("ip", IP), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("not stored"));
    let page = get(&app, "/admin/blocks").await;
    assert!(!page.body.contains("id=\"b-ip\""));
}

#[tokio::test]
async fn blocks_are_filtered_and_paged_like_the_other_pages() {
    let (axes, clock) = engine(settings());
    let app = app(&axes);
    for i in 1..=5 {
        axes.block(None, Some(&format!("user{i}")), None, "cli")
            .await
            .unwrap();
        clock.advance(chrono::Duration::minutes(1));
    }
    axes.block(Some("10.0.0.9"), None, None, "cli")
        .await
        .unwrap();
    let all = get(&app, "/admin/blocks").await;
    assert!(all.body.contains("of <strong>6</strong>"), "{}", all.body);
    let by_user = get(&app, "/admin/blocks?username=USER3").await;
    assert!(
        by_user.body.contains("of <strong>1</strong>"),
        "{}",
        by_user.body
    );
    assert!(by_user.body.contains("user3"));
    let by_ip = get(&app, "/admin/blocks?ip=10.0.0.9").await;
    assert!(
        by_ip.body.contains("of <strong>1</strong>"),
        "{}",
        by_ip.body
    );
    let page = get(&app, "/admin/blocks?per_page=10&sort=oldest").await;
    let p1 = page.body.find(">user1<").unwrap();
    let p5 = page.body.find(">user5<").unwrap();
    assert!(p1 < p5);
    let bad = get(&app, "/admin/blocks?ip=300.1.1.1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_detail_view_offers_to_block_the_client() {
    let (axes, _clock) = engine(settings());
    fail(&axes, &attempt(IP, "alice"), 1).await;
    let app = app(&axes);
    let id = axes
        .list_attempts(&axes_core::store::ListQuery::all())
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    let detail = get(&app, &format!("/admin/attempts/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("Block this IP…"), "{}", detail.body);
    assert!(detail.body.contains("Block IP + username…"));
    let t = detail.csrf();
    let confirm = post(
        &app,
        "/admin/blocks/add",
        &[("csrf_token", &t), ("ip", IP), ("username", "alice")],
    )
    .await;
    assert!(
        confirm
            .body
            .contains(&format!("Block ip {IP} and username &quot;alice&quot;?")),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("Only logins with both are refused."));
}

#[tokio::test]
async fn escalated_lockouts_are_shown_with_an_unlock_button() {
    let (axes, clock) = engine(Settings {
        cooloff_time: Some(std::time::Duration::from_secs(15 * 60)),
        cooloff_multiplier: 2.0,
        ..settings()
    });
    let app = app(&axes);
    let a = attempt(IP, "alice");
    fail(&axes, &a, 3).await;
    clock.advance(chrono::Duration::minutes(16));
    fail(&axes, &a, 3).await;
    let page = get(&app, "/admin/blocks").await;
    assert!(
        page.body
            .contains("lockout <span class=\"muted\">(2×)</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("(in 30 min 0 s)"), "{}", page.body);
    assert!(page.body.contains("Unlock<span"), "{}", page.body);
    assert!(!page.body.contains("Unblock<span"), "{}", page.body);
    assert!(
        page.body.contains("<span class=\"muted\">axes</span>"),
        "set by axes"
    );
}
