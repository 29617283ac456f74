//! The webhook settings: parsed, validated against each other, secrets
//! never echoed, and the event names those of `EventKind`.

use axes_core::{ConfigError, EventKind, Settings};

fn env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::from_sources(
        None,
        "",
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
}

#[test]
fn webhook_settings_load_from_env_and_toml() {
    let s = env(&[
        ("AXES_WEBHOOK_URL", "https://hooks.example.com/axes?t=1"),
        ("AXES_WEBHOOK_SECRET", "0123456789abcdef0123"),
        (
            "AXES_WEBHOOK_EVENTS",
            "locked_out, login_failed, locked_out",
        ),
    ])
    .unwrap();
    assert_eq!(
        s.webhook_url.as_ref().map(|u| u.expose()),
        Some("https://hooks.example.com/axes?t=1")
    );
    assert_eq!(
        s.webhook_events,
        [EventKind::LockedOut, EventKind::LoginFailed]
    );
    let toml = "webhook_url = \"http://127.0.0.1:9000/hook\"\nwebhook_events = [\"logged_in\"]\n";
    let s = Settings::from_sources(Some(toml), "axes.toml", []).unwrap();
    assert_eq!(s.webhook_events, [EventKind::LoggedIn]);
    assert!(s.webhook_secret.is_none());
}

#[test]
fn webhook_settings_default_to_lockouts_and_no_url() {
    let s = Settings::default();
    assert_eq!(s.webhook_url, None);
    assert_eq!(s.webhook_events, [EventKind::LockedOut]);
}

#[test]
fn webhook_settings_refuse_bad_urls_without_echoing_them() {
    for url in [
        "ftp://example.com/hook",
        "example.com/hook",
        "https://",
        "https:///path",
        "https://user@/x",
        "https://exa mple.com/",
    ] {
        let err = env(&[("AXES_WEBHOOK_URL", url)]).unwrap_err().to_string();
        assert!(err.contains("webhook_url"), "{url}: {err}");
        assert!(!err.contains("example"), "{url}: {err}");
    }
}

#[test]
fn webhook_settings_name_the_known_events() {
    let err = env(&[("AXES_WEBHOOK_EVENTS", "locked_out,lockout")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown event `lockout`"), "{err}");
    for kind in EventKind::ALL {
        assert!(err.contains(kind.as_str()), "{err}");
    }
}

#[test]
fn webhook_settings_conflicts_are_refused() {
    let short = env(&[
        ("AXES_WEBHOOK_URL", "https://example.com/h"),
        ("AXES_WEBHOOK_SECRET", "short-secret"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        short.contains("webhook_secret is shorter than 16"),
        "{short}"
    );
    assert!(!short.contains("short-secret"), "{short}");
    let alone = env(&[("AXES_WEBHOOK_SECRET", "0123456789abcdef")])
        .unwrap_err()
        .to_string();
    assert!(alone.contains("without webhook_url"), "{alone}");
    let none = env(&[
        ("AXES_WEBHOOK_URL", "https://example.com/h"),
        ("AXES_WEBHOOK_EVENTS", ""),
    ])
    .unwrap_err()
    .to_string();
    assert!(none.contains("webhook_events is empty"), "{none}");
}
