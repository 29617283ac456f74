//! Sessions end when they should, over HTTP: `axes serve` run as a process
//! and restarted on the same data folder (logout, a new password hash, a
//! removed account), an expired session (the engine's manual clock, served
//! in-process), tampered cookies, and the demo's logout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod process_support;

use std::net::SocketAddr;
use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, SaltString};
use axes_cli::serve::{self, Accounts};
use axes_core::{Axes, Handler, ManualClock, Settings};
use process_support::{AxesEnv, DemoProcess, PASSWORD, USER, client};
use reqwest::header;

/// An argon2 hash (cheap parameters, random salt: two hashes of one
/// password differ, as with `axes hash-password`).
fn phc(password: &str) -> String {
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).unwrap(),
    );
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).unwrap();
    let salt = SaltString::encode_b64(&salt).unwrap();
    argon
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

/// `AXES_ADMIN_USERS` for `(name, hash)` pairs.
fn admin_users(users: &[(&str, &str)]) -> String {
    users
        .iter()
        .map(|(n, h)| format!("{n}:{h}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// `POST /admin/login`; the `name=value` of the session cookie it sets.
async fn login(url: &str, user: &str, password: &str) -> String {
    let r = client()
        .post(format!("{url}/admin/login"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login of {user}");
    let set = r.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("axes_admin_session="), "{set}");
    set.split(';').next().unwrap().to_owned()
}

/// `GET /admin/` with these `Cookie` headers: the page if signed in.
async fn admin_page(url: &str, cookies: &[&str]) -> Option<String> {
    let mut req = client().get(format!("{url}/admin/"));
    for c in cookies {
        req = req.header(header::COOKIE, *c);
    }
    let r = req.send().await.unwrap();
    match r.status().as_u16() {
        200 => Some(r.text().await.unwrap()),
        303 => {
            let to = r.headers()[header::LOCATION].to_str().unwrap();
            assert!(to.starts_with("/admin/login"), "{to}");
            None
        }
        other => panic!("GET /admin/ answered {other}"),
    }
}

/// Who the admin says is signed in with `cookie`.
async fn who(url: &str, cookie: &str) -> Option<String> {
    let page = admin_page(url, &[cookie]).await?;
    let marker = "Signed in as <strong>";
    let start = page.find(marker).expect("the page names the admin") + marker.len();
    let end = page[start..].find('<').unwrap() + start;
    Some(page[start..end].to_owned())
}

/// Logs out through the form: the CSRF token from a page, then the POST.
async fn logout(url: &str, cookie: &str) {
    let page = admin_page(url, &[cookie]).await.expect("signed in");
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    let r = client()
        .post(format!("{url}/admin/logout"))
        .header(header::COOKIE, cookie)
        .form(&[("csrf_token", &page[start..end])])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], "/admin/login?bye=1");
}

fn serve(env: &AxesEnv, users: &[(&str, &str)], name: &str) -> DemoProcess {
    env.clone()
        .set("AXES_ADMIN_USERS", &admin_users(users))
        .serve(name, &[])
}

#[tokio::test]
async fn a_logout_outlives_a_restart() {
    let env = AxesEnv::new();
    let root = phc("hunter22");
    let users = [("root", root.as_str())];
    let first = serve(&env, &users, "first");
    let ended = login(&first.url, "root", "hunter22").await;
    let kept = login(&first.url, "root", "hunter22").await;
    assert_eq!(who(&first.url, &ended).await.as_deref(), Some("root"));
    logout(&first.url, &ended).await;
    assert_eq!(who(&first.url, &ended).await, None);
    assert_eq!(who(&first.url, &kept).await.as_deref(), Some("root"));
    drop(first);

    let second = serve(&env, &users, "second");
    assert_eq!(
        who(&second.url, &ended).await,
        None,
        "the logged-out cookie works again after a restart"
    );
    // A restart by itself ends nothing: the other session lives on.
    assert_eq!(who(&second.url, &kept).await.as_deref(), Some("root"));
    assert!(env.dir().join("axes.sessions").exists());
}

#[tokio::test]
async fn a_new_password_hash_or_a_removed_account_ends_the_sessions() {
    let env = AxesEnv::new();
    let (root, other) = (phc("hunter22"), phc("other password"));
    let first = serve(
        &env,
        &[("root", &root), ("other", &other)],
        "before the change",
    );
    let roots = login(&first.url, "root", "hunter22").await;
    let others = login(&first.url, "other", "other password").await;
    drop(first);

    // root's password changes; other is untouched.
    let new_root = phc("a new passphrase");
    let changed = serve(
        &env,
        &[("root", &new_root), ("other", &other)],
        "new password",
    );
    assert_eq!(
        who(&changed.url, &roots).await,
        None,
        "a session outlived the password change"
    );
    assert_eq!(who(&changed.url, &others).await.as_deref(), Some("other"));
    let fresh = login(&changed.url, "root", "a new passphrase").await;
    assert_eq!(who(&changed.url, &fresh).await.as_deref(), Some("root"));
    drop(changed);

    // Even a new hash of the same password ends them (a new salt).
    let same_again = phc("a new passphrase");
    let rehashed = serve(
        &env,
        &[("root", &same_again), ("other", &other)],
        "rehashed",
    );
    assert_eq!(who(&rehashed.url, &fresh).await, None);
    drop(rehashed);

    // other's account is removed.
    let removed = serve(&env, &[("root", &same_again)], "account removed");
    assert_eq!(who(&removed.url, &others).await, None);
}

#[tokio::test]
async fn tampered_cookies_are_refused() {
    let env = AxesEnv::new();
    let root = phc("hunter22");
    let server = serve(&env, &[("root", &root)], "tampered");
    let url = &server.url;
    let good = login(url, "root", "hunter22").await;
    let (name, value) = good.split_once('=').unwrap();
    assert!(admin_page(url, &[&good]).await.is_some());

    // One bit flipped, at every position of the value (kept printable).
    for i in 0..value.len() {
        let mut bytes = value.as_bytes().to_vec();
        bytes[i] ^= 0x01;
        let Ok(flipped) = String::from_utf8(bytes) else {
            continue;
        };
        if flipped
            .bytes()
            .any(|b| !(0x21..0x7f).contains(&b) || b == b';')
        {
            continue;
        }
        let cookie = format!("{name}={flipped}");
        assert!(admin_page(url, &[&cookie]).await.is_none(), "bit {i}");
    }
    let quoted = format!("{name}=\"{value}\"");
    let other_value = login(url, "root", "hunter22").await;
    for refused in [
        vec![quoted.as_str()],
        // The same cookie twice, in two headers: genuine then not, and
        // two genuine sessions.
        vec![good.as_str(), "axes_admin_session=forged"],
        vec![good.as_str(), other_value.as_str()],
        // ... and twice in one header.
        vec![&*format!("{good}; {name}=x")],
        vec![&*format!("{name}=; {good}")],
        vec![&*format!("{name}={}", "A".repeat(8000))],
    ] {
        assert!(
            admin_page(url, &refused).await.is_none(),
            "accepted: {refused:?}"
        );
    }
    // Nothing broke: the process answers and the genuine cookie works.
    assert_eq!(process_support::healthz(&client(), url).await.0, 200);
    assert!(admin_page(url, &[&good]).await.is_some());
    assert!(server.count_log("panicked") == 0, "{}", server.log_text());
}

#[tokio::test]
async fn a_session_expires_after_its_lifetime() {
    let clock = ManualClock::fixed();
    let settings = Settings {
        handler: Handler::Memory,
        admin_users: vec![format!("root:{}", phc("hunter22"))],
        ..Settings::default()
    };
    let axes = Axes::builder(settings)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let accounts = Accounts::from_settings(axes.settings()).unwrap();
    let app = serve::router(axes, accounts, b"a test secret key, long enough".to_vec()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    let cookie = login(&url, "root", "hunter22").await;
    clock.advance(chrono::Duration::hours(12) - chrono::Duration::seconds(1));
    assert_eq!(who(&url, &cookie).await.as_deref(), Some("root"));
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(who(&url, &cookie).await, None, "12 hours are over");
    server.abort();
}

#[tokio::test]
async fn the_demo_logout_ends_the_session() {
    let demo = AxesEnv::new().demo("demo");
    let url = &demo.url;
    let r = client()
        .post(format!("{url}/login"))
        .form(&[("username", USER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let home = |cookie: String| async move {
        client()
            .get(format!("{url}/"))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(home(cookie.clone()).await.contains("logged in as"));
    let r = client()
        .post(format!("{url}/logout"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The old cookie, replayed, is no session any more.
    assert!(
        home(cookie.clone())
            .await
            .contains("You are not logged in.")
    );
    let admin = client()
        .get(format!("{url}/admin/"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 303);
    assert_eq!(admin.headers()[header::LOCATION], "/login");
}
