//! The settings loader, `Settings::from_sources` (what `Settings::load` runs
//! on the file's text and the process environment), on arbitrary TOML text
//! and environment pairs.
//!
//! What must hold:
//! - It never panics.
//! - `Ok(settings)`: `settings.validate()` passes, the values are in their
//!   documented ranges, and an engine built from them (memory store) answers
//!   `begin` / `failed` / `check` / `purge_expired` / `reset` without
//!   panicking.
//! - The result does not depend on the order of the environment, nor on
//!   variables that are not settings (no `AXES_` prefix, `AXES_TEST_*`,
//!   `AXES_LOG`, `AXES_CONFIG`).
//! - An invalid value of a secret setting is never echoed; other values are
//!   echoed at most 80 characters long.
//!
//! Inputs are either raw text or TOML tables written from typed values (so
//! that most of them parse and reach the setters), with setting names and
//! useful words drawn from lists.

#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use axes_core::error::ConfigError;
use axes_core::settings::{REFERENCE, SETTING_KEYS};
use axes_core::{Attempt, Axes, Handler, Settings};
use libfuzzer_sys::fuzz_target;

/// Whether a setting's value is a secret (as the definition marks it).
fn is_secret(key: &str) -> bool {
    REFERENCE.iter().any(|r| r.key == key && r.secret)
}

/// Values that mean something to some setting.
const WORDS: &[&str] = &[
    "",
    " ",
    "none",
    "None",
    "true",
    "false",
    "yes",
    "off",
    "1",
    "0",
    "-1",
    "3",
    "128",
    "129",
    "0.25",
    "1e308",
    "NaN",
    "inf",
    "30m",
    "1h 30m",
    "2s",
    "0s",
    "1day",
    "100years",
    "300000 years",
    "18446744073709551615s",
    "memory",
    "dummy",
    "database",
    "cache",
    "ip_address",
    "username",
    "user_agent",
    "ip_address,username",
    "username+user_agent",
    "ip_address,,username",
    "+",
    "10.0.0.0/8",
    "10.0.0.300",
    "192.0.2.1",
    "2001:db8::/32",
    "::ffff:192.0.2.1",
    "10.0.0.0/8,192.0.2.1",
    "sqlite://axes.db",
    "postgres://u:pw@h/db",
    "mysql://u:pw@h/db",
    "redis://127.0.0.1:6379",
    "rediss://h",
    "oracle://u:hunter2@db",
    "X-Forwarded-For",
    "X Forwarded",
    "password",
    "username",
    "/locked",
    "a\r\nb",
    "ann:$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    "ann",
    "axes:",
    "a b",
];

#[derive(Arbitrary, Debug)]
enum Text {
    Word(u8),
    Any(String),
}

impl Text {
    fn get(&self) -> String {
        match self {
            Text::Word(i) => WORDS[usize::from(*i) % WORDS.len()].to_owned(),
            Text::Any(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    Setting(u8),
    Any(String),
}

impl Name {
    fn get(&self) -> String {
        match self {
            Name::Setting(i) => SETTING_KEYS[usize::from(*i) % SETTING_KEYS.len()].to_owned(),
            Name::Any(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Small(u8),
    Float(f64),
    Str(Text),
}

impl Scalar {
    fn value(&self) -> toml::Value {
        match self {
            Scalar::Bool(b) => toml::Value::Boolean(*b),
            Scalar::Int(n) => toml::Value::Integer(*n),
            Scalar::Small(n) => toml::Value::Integer(i64::from(*n)),
            Scalar::Float(f) => toml::Value::Float(*f),
            Scalar::Str(t) => toml::Value::String(t.get()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Value {
    Scalar(Scalar),
    Array(Vec<Scalar>),
    Nested(Vec<Vec<Scalar>>),
    Table(Vec<(Name, Scalar)>),
}

impl Value {
    fn value(&self) -> toml::Value {
        match self {
            Value::Scalar(s) => s.value(),
            Value::Array(v) => toml::Value::Array(v.iter().map(Scalar::value).collect()),
            Value::Nested(v) => toml::Value::Array(
                v.iter()
                    .map(|inner| toml::Value::Array(inner.iter().map(Scalar::value).collect()))
                    .collect(),
            ),
            Value::Table(v) => {
                toml::Value::Table(v.iter().map(|(k, s)| (k.get(), s.value())).collect())
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum File {
    Absent,
    Raw(String),
    Table(Vec<(Name, Value)>),
}

#[derive(Arbitrary, Debug)]
enum EnvName {
    /// `AXES_<SETTING>` (upper case, as usual).
    Setting(u8),
    /// `axes_<setting>`-style spellings: prefix as given, key as given.
    Spelled(String, u8),
    /// `AXES_TEST_*`, `AXES_LOG`, `AXES_CONFIG`, or something else.
    Other(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    file: File,
    env: Vec<(EnvName, Text)>,
}

fn env_name(n: &EnvName) -> String {
    match n {
        EnvName::Setting(i) => format!(
            "AXES_{}",
            SETTING_KEYS[usize::from(*i) % SETTING_KEYS.len()].to_ascii_uppercase()
        ),
        EnvName::Spelled(prefix, i) => {
            format!(
                "{prefix}{}",
                SETTING_KEYS[usize::from(*i) % SETTING_KEYS.len()]
            )
        }
        EnvName::Other(s) => {
            let heads = ["AXES_TEST_", "AXES_LOG", "AXES_CONFIG", "", "AXES_"];
            let head = heads[s.len() % heads.len()];
            format!("{head}{s}")
        }
    }
}

/// The variables the loader must read: `AXES_` and not a non-setting one.
/// Every `AXES_*` variable is a setting (an unknown one is an error), but
/// the `AXES_TEST_*` family and exactly `AXES_LOG` and `AXES_CONFIG`
/// (`AXES_LOGGER` is django-axes' name, refused with a hint).
fn is_setting_var(k: &str) -> bool {
    k.starts_with("AXES_") && !k.starts_with("AXES_TEST_") && !matches!(k, "AXES_LOG" | "AXES_CONFIG")
}

const HUNDRED_YEARS: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

fn check_settings(s: &Settings) {
    s.validate().expect("loaded settings validate");
    assert!((1..=1_000_000).contains(&s.failure_limit));
    assert!((1..=128).contains(&s.ipv6_prefix));
    assert!((200..=599).contains(&s.http_response_code));
    assert!(!s.store_timeout.is_zero());
    assert!(s.access_failure_log_per_user_limit >= 1);
    assert!(!s.client_ip_header.is_empty());
}

/// Durations a loader accepts beyond 100 years (the bound it applies to
/// numbers of hours "so nothing downstream overflows").
fn too_long(s: &Settings) -> bool {
    [s.cooloff_time, Some(s.store_timeout)]
        .into_iter()
        .flatten()
        .any(|d| d > HUNDRED_YEARS)
}

/// An engine on these settings (memory store) must answer without panicking.
fn smoke(s: &Settings) {
    let settings = Settings {
        handler: Handler::Memory,
        ..s.clone()
    };
    let axes = Axes::builder(settings)
        .build()
        .expect("valid settings build");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let a = Attempt::new()
            .ip_address("2001:db8::1".parse().expect("an address"))
            .username("Alice");
        for _ in 0..2 {
            if let Ok(ticket) = axes.begin(&a).await {
                let _ = ticket.failed().await;
            }
        }
        let _ = axes.check(&a).await;
        let _ = axes.purge_expired().await;
        let _ = axes.reset(Some("2001:db8::2"), Some("ALICE")).await;
        let _ = axes.reset(None, None).await;
    });
}

fuzz_target!(|input: Input| {
    let text = match &input.file {
        File::Absent => None,
        File::Raw(s) => Some(s.clone()),
        File::Table(entries) => {
            let table: toml::Table = entries.iter().map(|(k, v)| (k.get(), v.value())).collect();
            // Non-finite floats and the like may not be writable: then raw.
            Some(toml::to_string(&table).unwrap_or_else(|_| format!("{table:?}")))
        }
    };
    let env: Vec<(String, String)> = input
        .env
        .iter()
        .take(16)
        .map(|(k, v)| (env_name(k), v.get()))
        .collect();

    // Never panics.
    let got = Settings::from_sources(text.as_deref(), "axes.toml", env.clone());

    // Order of the environment, and variables that are not settings, change nothing.
    let mut reversed = env.clone();
    reversed.reverse();
    assert_eq!(
        Settings::from_sources(text.as_deref(), "axes.toml", reversed),
        got
    );
    let only_settings: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| is_setting_var(k))
        .cloned()
        .collect();
    assert_eq!(
        Settings::from_sources(text.as_deref(), "axes.toml", only_settings),
        got
    );

    match &got {
        Ok(s) => {
            check_settings(s);
            // Every duration form is capped (the fixed bug: "300000 years"
            // as text was accepted and the engine panicked on `now - cooloff`).
            assert!(!too_long(s), "a duration over 100 years was accepted");
            smoke(s);
        }
        Err(ConfigError::InvalidValue { key, value, .. }) => {
            if is_secret(&key) {
                assert_eq!(value, "[redacted]", "secret {key} echoed");
            } else {
                assert!(
                    value.chars().count() <= 81,
                    "echo of {} chars",
                    value.chars().count()
                );
            }
        }
        Err(_) => {}
    }
});
