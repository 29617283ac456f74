//! Serving the demo in-process on 127.0.0.1:0 for the `demo_*` tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axes_cli::demo::{self, DemoState};
use axes_core::{Axes, Handler, ManualClock, Settings};

/// A running demo.
pub struct Demo {
    pub url: String,
    pub axes: Axes,
    pub clock: ManualClock,
    pub state: DemoState,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Memory store, defaults otherwise.
pub fn settings() -> Settings {
    Settings {
        handler: Handler::Memory,
        ..Settings::default()
    }
}

/// Cheap argon2 parameters: the tests are about axes, not hashing.
pub fn cheap_argon2() -> argon2::Argon2<'static> {
    argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).expect("params"),
    )
}

pub const USERS: &[(&str, &str)] = &[("demo", "demo"), ("alice", "wonderland")];

fn users() -> Vec<(String, String)> {
    USERS
        .iter()
        .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
        .collect()
}

/// Serves the demo with `settings`, a manual clock and the test users.
pub async fn start(settings: Settings) -> Demo {
    let clock = ManualClock::fixed();
    let axes = Axes::builder(settings)
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("engine");
    let state = DemoState::with_hasher(axes.clone(), users(), &cheap_argon2()).expect("state");
    serve(state, axes, clock).await
}

/// Serves a prepared state.
pub async fn serve(state: DemoState, axes: Axes, clock: ManualClock) -> Demo {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = demo::router(state.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Demo {
        url: format!("http://{addr}"),
        axes,
        clock,
        state,
        server,
    }
}

/// A browser-like client: cookies kept, redirects not followed.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl Demo {
    /// `POST /login` with a form.
    pub fn post_login(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::RequestBuilder {
        client
            .post(format!("{}/login", self.url))
            .form(&[("username", username), ("password", password)])
    }

    /// `POST /login` and its status.
    pub async fn login(&self, client: &reqwest::Client, username: &str, password: &str) -> u16 {
        self.post_login(client, username, password)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    /// `POST /login` from the forwarded address `xff` and its status.
    pub async fn login_via(&self, xff: &str, username: &str, password: &str) -> u16 {
        self.post_login(&client(), username, password)
            .header("x-forwarded-for", xff)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    /// Advances the engine's clock.
    pub fn advance_secs(&self, secs: i64) {
        self.clock.advance(chrono::Duration::seconds(secs));
    }
}
