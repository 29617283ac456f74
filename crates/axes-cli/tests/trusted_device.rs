//! Trusted devices over real HTTP (served in-process on 127.0.0.1:0, the
//! engine on a manual clock where expiry matters): the service API's
//! `device_token`, the admin login of `axes serve` (its key: the generated
//! secret), and the demo (its key: a random one made at start-up).
//!
//! Every scenario: alice gets in once, someone elsewhere locks her name
//! out, and only the request that carries the device token from her earlier
//! login gets in; forged, tampered, foreign, expired, doubled or overlong
//! tokens count as none; nothing is issued when `trusted_device` is off.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod api_support;
mod demo_support;
mod process_support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use api_support::Api;
use axes_cli::serve::{self, Accounts};
use axes_core::{Axes, Field, Handler, LockoutParameters, ManualClock, Settings};
use axum::Router;
use reqwest::header;
use serde_json::{Value, json};

const ALICE_IP: &str = "203.0.113.7";
const ATTACKER_IP: &str = "198.51.100.9";
const SECRET: &[u8] = b"a test secret key, long enough!!";
const TTL: Duration = Duration::from_secs(24 * 3600);

fn settings(trusted_device: bool) -> Settings {
    Settings {
        handler: Handler::Memory,
        lockout_parameters: LockoutParameters::any_of(&[Field::Username]),
        trusted_device,
        // The lifetime is a setting of devices only.
        trusted_device_ttl: if trusted_device {
            TTL
        } else {
            Settings::default().trusted_device_ttl
        },
        // The tests name their client with X-Forwarded-For from loopback.
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Settings::default()
    }
}

/// Serves `app` on 127.0.0.1:0 with connect info; its URL.
async fn spawn(app: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (url, server)
}

/// The `axes_device` Set-Cookie line of a response, if any.
fn device_line(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("axes_device="))
}

/// Its `name=value`.
fn device_pair(r: &reqwest::Response) -> Option<String> {
    device_line(r).map(|l| l.split(';').next().unwrap().to_owned())
}

/// Flips one character in the middle of a token.
fn tamper(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

mod service_api {
    use super::*;

    struct Service {
        api: Api,
        clock: ManualClock,
        _server: tokio::task::JoinHandle<()>,
    }

    async fn start(trusted_device: bool) -> Service {
        let clock = ManualClock::fixed();
        let builder = Axes::builder(settings(trusted_device)).clock(Arc::new(clock.clone()));
        // A device key only with devices on (else it would have no effect).
        let builder = if trusted_device {
            builder.device_key(SECRET)
        } else {
            builder
        };
        let axes = builder.build().unwrap();
        let accounts = Accounts::from_settings(axes.settings()).unwrap();
        let app = serve::router(axes, accounts, SECRET.to_vec()).unwrap();
        let (url, server) = spawn(app).await;
        Service {
            api: Api::new(&url),
            clock,
            _server: server,
        }
    }

    impl Service {
        async fn begin(&self, ip: &str, user: &str, token: Option<&str>) -> Value {
            let mut body = json!({"ip_address": ip, "username": user});
            if let Some(t) = token {
                body["device_token"] = json!(t);
            }
            let (status, v) = self.api.post("/attempts/begin", &body).await;
            assert_eq!(status, 200, "{v}");
            v
        }

        async fn finish(&self, begun: &Value, success: bool) -> Value {
            let id = begun["id"].as_str().unwrap();
            let (status, v) = self.api.finish(id, success).await;
            assert_eq!(status, 200, "{v}");
            v
        }

        /// A successful login of `user` from alice's address: its token.
        async fn logs_in(&self, user: &str) -> Option<String> {
            let b = self.begin(ALICE_IP, user, None).await;
            assert_eq!(b["admitted"], true, "{b}");
            let f = self.finish(&b, true).await;
            f.get("device_token")
                .map(|t| t.as_str().unwrap().to_owned())
        }

        async fn attacker_locks_alice(&self) {
            for _ in 0..3 {
                let b = self.begin(ATTACKER_IP, "alice", None).await;
                if b["admitted"] == true {
                    self.finish(&b, false).await;
                }
            }
            let b = self.begin(ATTACKER_IP, "alice", None).await;
            assert_eq!(b["admitted"], false, "{b}");
        }

        /// Whether alice is admitted from her address with `token`.
        async fn admitted(&self, token: Option<&str>) -> bool {
            let b = self.begin(ALICE_IP, "alice", token).await;
            let admitted = b["admitted"] == true;
            if admitted {
                self.finish(&b, true).await;
            }
            admitted
        }
    }

    #[tokio::test]
    async fn finish_answers_a_token_that_begin_and_check_honour() {
        let s = start(true).await;
        let token = s.logs_in("alice").await.expect("a device token");
        assert_eq!(token.len(), 75);
        let bob = s.logs_in("bob").await.unwrap();
        s.attacker_locks_alice().await;

        assert!(!s.admitted(None).await);
        // The one-shot check agrees.
        let check = |token: Option<&str>| {
            let mut body = json!({"ip_address": ALICE_IP, "username": "alice"});
            if let Some(t) = token {
                body["device_token"] = json!(t);
            }
            let api = s.api.clone();
            async move { api.post("/check", &body).await }
        };
        assert_eq!(check(None).await.1["allowed"], false);
        assert_eq!(check(Some(&token)).await.1["allowed"], true);

        // Her token lets her in; a successful finish answers a new one.
        let b = s.begin(ALICE_IP, "alice", Some(&token)).await;
        assert_eq!(b["admitted"], true, "{b}");
        let f = s.finish(&b, true).await;
        let renewed = f["device_token"].as_str().unwrap();
        assert_ne!(renewed, token);
        assert!(s.admitted(Some(renewed)).await);

        // Forged: valid in every way, but signed with another key.
        let stranger = Axes::builder(settings(true))
            .clock(Arc::new(s.clock.clone()))
            .device_key(b"another key, also 32 bytes long!")
            .build()
            .unwrap();
        let forged = stranger.issue_device_token("alice").unwrap();
        for bad in [forged.as_str(), &tamper(&token), &bob, "", "junk"] {
            assert!(!s.admitted(Some(bad)).await, "{bad}");
        }
        // Expired on the engine's clock.
        s.clock
            .advance(chrono::Duration::from_std(TTL).unwrap() + chrono::Duration::seconds(1));
        assert!(!s.admitted(Some(&token)).await);
    }

    #[tokio::test]
    async fn the_token_is_bounded_and_text() {
        let s = start(true).await;
        for bad in [json!("A".repeat(129)), json!(42), json!("a\nb")] {
            let (status, v) = s
                .api
                .post(
                    "/attempts/begin",
                    &json!({"ip_address": ALICE_IP, "username": "alice", "device_token": bad}),
                )
                .await;
            assert_eq!(status, 422, "{v}");
        }
        // A failure answers no token.
        let b = s.begin(ALICE_IP, "alice", None).await;
        assert!(s.finish(&b, false).await.get("device_token").is_none());
        // The OpenAPI document describes both fields.
        let (_, doc) = s.api.call(reqwest::Method::GET, "/openapi.json").await;
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["AttemptInput"]["properties"]["device_token"]["maxLength"], 128,
            "{}",
            schemas["AttemptInput"]
        );
        assert!(schemas["FinishAnswer"]["properties"]["device_token"].is_object());
    }

    #[tokio::test]
    async fn no_token_when_trusted_device_is_off() {
        let s = start(false).await;
        assert_eq!(s.logs_in("alice").await, None);
        let on = start(true).await;
        let token = on.logs_in("alice").await.unwrap();
        s.attacker_locks_alice().await;
        assert!(!s.admitted(Some(&token)).await);
    }
}

mod admin_login {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, SaltString};

    fn phc(password: &str) -> String {
        let argon = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"sixteen bytes!!!").unwrap();
        argon
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    async fn login(
        url: &str,
        from: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = client()
            .post(format!("{url}/admin/login"))
            .header("x-forwarded-for", from)
            .form(&[("username", "root"), ("password", password)]);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    #[tokio::test]
    async fn the_admin_login_sets_and_honours_the_cookie_signed_with_the_generated_secret() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Settings {
            handler: Handler::Database,
            database_url: axes_core::Secret::new(format!(
                "sqlite://{}",
                dir.path().join("axes.db").display()
            )),
            admin_users: vec![format!("root:{}", phc("hunter22"))],
            ..settings(true)
        };
        assert!(sqlite.secret_key.is_none());
        // The engine of `axes serve` signs device cookies with the secret
        // it generates into the data folder (it would not build otherwise).
        let engine = serve::engine(sqlite.clone()).await.unwrap();
        let secret = serve::secret::load_or_create(&sqlite).unwrap();
        let file = std::fs::read_to_string(dir.path().join(serve::secret::FILE_NAME)).unwrap();
        assert_eq!(secret, file.trim().as_bytes());
        assert_eq!(serve::device_key(&sqlite).unwrap(), Some(secret.clone()));
        let issued = engine.issue_device_token("root").unwrap();
        let key = axes_core::device::DeviceKey::new(&secret);
        assert!(
            key.verify(&issued, "root", engine.now(), chrono::Duration::days(30))
                .is_some()
        );
        // Served over the memory store (the scenario needs a store that
        // keeps a device's scope apart), with the key `serve::device_key`
        // gives.
        let axes = Axes::builder(Settings {
            handler: Handler::Memory,
            ..sqlite.clone()
        })
        .device_key(serve::device_key(&sqlite).unwrap().unwrap())
        .build()
        .unwrap();
        let accounts = Accounts::from_settings(axes.settings()).unwrap();
        let app = serve::router(axes.clone(), accounts, secret).unwrap();
        let (url, server) = spawn(app).await;

        let r = login(&url, ALICE_IP, "hunter22", &[]).await;
        assert_eq!(r.status(), 303);
        let line = device_line(&r).unwrap();
        assert!(
            line.ends_with(&format!(
                "; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
                TTL.as_secs()
            )),
            "{line}"
        );
        // The session cookie is still there.
        assert_eq!(r.headers().get_all(header::SET_COOKIE).iter().count(), 2);
        let device = device_pair(&r).unwrap();
        // A signed-in token verifies under a key derived from nowhere else:
        // an engine with the generated secret as `secret_key` accepts it.
        let token = device.strip_prefix("axes_device=").unwrap();

        for _ in 0..3 {
            let r = login(&url, ATTACKER_IP, "guess", &[]).await;
            assert_ne!(r.status(), 303);
        }
        let r = login(&url, ALICE_IP, "hunter22", &[]).await;
        assert_eq!(r.status(), 429, "locked out without the cookie");
        assert_eq!(device_line(&r), None);
        let r = login(&url, ALICE_IP, "hunter22", &[("cookie", &device)]).await;
        assert_eq!(r.status(), 303, "let in with it");
        // Over HTTPS (a trusted proxy says so) the new cookie is Secure.
        let r = login(
            &url,
            ALICE_IP,
            "hunter22",
            &[("cookie", &device), ("x-forwarded-proto", "https")],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert!(device_line(&r).unwrap().contains("; Secure"));
        // Tampered, doubled: none.
        let tampered = format!("axes_device={}", tamper(token));
        let twice = format!("{device}; {device}");
        for bad in [&tampered, &twice] {
            let r = login(&url, ALICE_IP, "hunter22", &[("cookie", bad)]).await;
            assert_eq!(r.status(), 429, "{bad}");
        }
        server.abort();
    }
}

mod demo {
    use super::demo_support::{self, USERS, cheap_argon2, client};
    use super::*;
    use axes_cli::demo::{self as site, DemoState};

    async fn start(settings: Settings) -> demo_support::Demo {
        // The demo's engine: a random device key when secret_key is unset.
        let axes = site::engine(settings).await.unwrap();
        let users = USERS
            .iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect();
        let state = DemoState::with_hasher(axes.clone(), users, &cheap_argon2()).unwrap();
        demo_support::serve(state, axes, ManualClock::fixed()).await
    }

    #[tokio::test]
    async fn a_browser_that_logged_in_keeps_getting_in() {
        let demo = start(settings(true)).await;
        // alice's browser keeps its cookies.
        let browser = client();
        let r = demo
            .post_login(&browser, "alice", "wonderland")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let device = device_pair(&r).unwrap();
        // Someone elsewhere locks her name out.
        for _ in 0..3 {
            assert_ne!(demo.login_via(ATTACKER_IP, "alice", "guess").await, 303);
        }
        assert_eq!(
            demo.login_via(ATTACKER_IP, "alice", "wonderland").await,
            429
        );
        // Another browser is refused; hers gets in.
        assert_eq!(demo.login(&client(), "alice", "wonderland").await, 429);
        assert_eq!(demo.login(&browser, "alice", "wonderland").await, 303);
        // Her cookie, doubled or tampered, is none.
        let token = device.strip_prefix("axes_device=").unwrap();
        for bad in [
            format!("{device}; {device}"),
            format!("axes_device={}", tamper(token)),
        ] {
            let r = demo
                .post_login(&client(), "alice", "wonderland")
                .header("cookie", &bad)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 429, "{bad}");
        }
        // Another demo (another random key) does not know it.
        let other = start(settings(true)).await;
        for _ in 0..3 {
            other.login_via(ATTACKER_IP, "alice", "guess").await;
        }
        let r = other
            .post_login(&client(), "alice", "wonderland")
            .header("cookie", &device)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
    }

    #[tokio::test]
    async fn no_cookie_when_trusted_device_is_off() {
        let settings = settings(false);
        assert_eq!(
            axes_cli::cli::store::run_device_key(&settings).unwrap(),
            None
        );
        let demo = start(settings).await;
        let r = demo
            .post_login(&client(), "alice", "wonderland")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(device_line(&r), None);
    }

    #[tokio::test]
    async fn a_secret_key_is_used_as_it_is() {
        let settings = Settings {
            secret_key: Some(axes_core::Secret::new("a secret key of thirty-two bytes")),
            ..settings(true)
        };
        assert_eq!(
            axes_cli::cli::store::run_device_key(&settings).unwrap(),
            None
        );
        assert!(
            site::engine(settings)
                .await
                .unwrap()
                .issue_device_token("a")
                .is_some()
        );
    }
}

/// The real `axes demo` binary with `AXES_TRUSTED_DEVICE=true` (and a
/// `secret_key`, which the engine signs with).
mod demo_process {
    use super::process_support::{AxesEnv, PASSWORD, USER, client};
    use super::*;

    #[tokio::test]
    async fn axes_demo_keeps_letting_in_the_browser_that_logged_in() {
        let demo = AxesEnv::new()
            .set("AXES_HANDLER", "memory")
            .set("AXES_TRUSTED_DEVICE", "true")
            .set("AXES_SECRET_KEY", "a secret key for the demo process")
            .set("AXES_LOCKOUT_PARAMETERS", "username")
            .set("AXES_TRUSTED_PROXIES", "127.0.0.1/32")
            .demo("trusted-device");
        let url = &demo.url;
        let login = |from: &'static str, password: &'static str, cookie: Option<String>| {
            let mut req = client()
                .post(format!("{url}/login"))
                .header("x-forwarded-for", from)
                .form(&[("username", USER), ("password", password)]);
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            async move { req.send().await.unwrap() }
        };
        let r = login(ALICE_IP, PASSWORD, None).await;
        assert_eq!(r.status(), 303);
        let device = device_pair(&r).unwrap();
        for _ in 0..3 {
            login(ATTACKER_IP, "guess", None).await;
        }
        assert_eq!(login(ALICE_IP, PASSWORD, None).await.status(), 429);
        let r = login(ALICE_IP, PASSWORD, Some(device.clone())).await;
        assert_eq!(r.status(), 303);
        let token = device.strip_prefix("axes_device=").unwrap();
        let tampered = format!("axes_device={}", tamper(token));
        assert_eq!(
            login(ALICE_IP, PASSWORD, Some(tampered)).await.status(),
            429
        );
    }
}
