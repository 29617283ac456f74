//! The definition against its documentation and against itself: the
//! tables of `docs/settings.md` are the definition's, every documented
//! default is the real default, and every refused key says what to write.

use super::*;
use crate::error::ConfigError;

const DOCS: &str = "docs/settings.md";
const END: &str = "<!-- end settings -->";

fn docs_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(DOCS)
}

fn begin(section: Section) -> String {
    format!("<!-- settings: {} -->", section.marker())
}

/// `docs/settings.md` with every marked table replaced by the generated
/// one; `Err` names a marker that is missing.
fn regenerated(docs: &str) -> Result<String, String> {
    let mut out = docs.to_owned();
    for section in Section::ALL {
        let begin = begin(section);
        let start = out
            .find(&begin)
            .ok_or_else(|| format!("{DOCS} has no `{begin}` marker"))?
            + begin.len();
        let end = out[start..]
            .find(END)
            .ok_or_else(|| format!("{DOCS}: `{begin}` has no `{END}`"))?
            + start;
        out.replace_range(start..end, &format!("\n{}\n", reference_table(section)));
    }
    Ok(out)
}

/// The tables of docs/settings.md are generated from the definition: a
/// changed, added or removed setting changes the docs or fails here.
/// `UPDATE_DOCS=1 cargo test -p axes-core` rewrites them.
#[test]
fn docs_tables_are_generated_from_the_definition() {
    let path = docs_path();
    let docs = std::fs::read_to_string(&path).unwrap();
    let expected = match regenerated(&docs) {
        Ok(text) => text,
        Err(why) => panic!("{why}"),
    };
    if docs == expected {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let tables: Vec<String> = Section::ALL
        .iter()
        .map(|s| format!("{}\n{}\n{END}", begin(*s), reference_table(*s)))
        .collect();
    panic!(
        "{DOCS} does not match the settings definition; rerun with UPDATE_DOCS=1 to rewrite it. \
         Expected tables:\n\n{}",
        tables.join("\n\n")
    );
}

/// Independently of the markers: every setting is documented exactly
/// once, with its real default and its secret note, and nothing else is
/// documented as a setting.
#[test]
fn every_setting_is_documented_once_with_its_default() {
    let docs = std::fs::read_to_string(docs_path()).unwrap();
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut in_table = false;
    for line in docs.lines() {
        if line.starts_with("| setting | default | meaning |") {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').splitn(3, " | ").collect();
        assert_eq!(cells.len(), 3, "not a settings row: {line}");
        let key = cells[0].trim().trim_matches('`').to_owned();
        rows.push((key, cells[1].trim().to_owned(), cells[2].trim().to_owned()));
    }
    let mut problems = Vec::new();
    for r in REFERENCE {
        let found: Vec<_> = rows.iter().filter(|(k, _, _)| k == r.key).collect();
        match found.as_slice() {
            [] => problems.push(format!("`{}` is not documented", r.key)),
            [(_, default, meaning)] => {
                if *default != r.default_cell() {
                    problems.push(format!(
                        "`{}` is documented with default {default}, but it is {}",
                        r.key,
                        r.default_cell()
                    ));
                }
                if meaning.contains(SECRET_NOTE) != r.secret {
                    problems.push(format!(
                        "`{}`: secret = {}, but the docs say otherwise",
                        r.key, r.secret
                    ));
                }
            }
            _ => problems.push(format!("`{}` is documented {} times", r.key, found.len())),
        }
    }
    for (key, _, _) in &rows {
        if !SETTING_KEYS.contains(&key.as_str()) {
            problems.push(format!("`{key}` is documented but is not a setting"));
        }
    }
    assert!(problems.is_empty(), "{DOCS}:\n{}", problems.join("\n"));
    assert_eq!(rows.len(), SETTING_KEYS.len());
}

/// The documented default of each setting, read back as a value, is its
/// default: `"none"`-like words for unset optionals, a TOML array for
/// lists, text (the environment form) for the rest.
#[test]
fn documented_defaults_are_the_defaults() {
    for r in REFERENCE {
        let mut s = Settings::default();
        let result = if UNSET_WORDS.contains(&r.default) {
            s.set_text(r.key, "none")
        } else if r.default.starts_with('[') {
            let value: toml::Table = format!("v = {}", r.default).parse().unwrap();
            s.set(r.key, load::Raw::Toml(&value["v"]), "")
        } else {
            s.set_text(r.key, r.default)
        };
        assert!(result.is_ok(), "{}: {result:?}", r.key);
        assert_eq!(
            s,
            Settings::default(),
            "{}: the documented default {:?} is not the default",
            r.key,
            r.default
        );
    }
}

#[test]
fn the_definition_is_consistent() {
    let mut keys: Vec<&str> = SETTING_KEYS.to_vec();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), SETTING_KEYS.len(), "a key is defined twice");
    for r in REFERENCE {
        assert!(!r.doc().is_empty(), "{} has no meaning", r.key);
        assert!(!r.doc().contains('|'), "{}: `|` breaks the table", r.key);
        assert_eq!(r.doc(), r.doc().trim());
        assert!(
            unsupported::reason(r.key).is_none(),
            "{} is both a setting and unsupported",
            r.key
        );
    }
    let secrets: Vec<&str> = REFERENCE
        .iter()
        .filter(|r| r.secret)
        .map(|r| r.key)
        .collect();
    assert_eq!(
        secrets,
        [
            "database_url",
            "cache_url",
            "secret_key",
            "api_token",
            "admin_users",
            "webhook_url",
            "webhook_secret"
        ]
    );
}

/// Every secret setting's value is redacted in an error message.
#[test]
fn secret_values_are_never_echoed() {
    for r in REFERENCE.iter().filter(|r| r.secret) {
        let var = format!("AXES_{}", r.key.to_ascii_uppercase());
        let err = Settings::from_sources(None, "", [(var, "hunter2-no-colon".into())]);
        if let Err(e) = err {
            let text = e.to_string();
            assert!(!text.contains("hunter2"), "{text}");
        }
    }
    let s = Settings {
        secret_key: Some(Secret::new("k".repeat(20))),
        admin_users: vec!["ann:hash".into()],
        ..Settings::default()
    };
    assert_eq!(
        s.secret_values(),
        [
            "sqlite://axes.db",
            "redis://127.0.0.1:6379",
            "kkkkkkkkkkkkkkkkkkkk",
            "ann:hash"
        ]
    );
}

fn unsupported_error(result: Result<Settings, ConfigError>) -> (String, String, String) {
    match result {
        Err(ConfigError::Unsupported {
            key,
            origin,
            reason,
        }) => (key, origin, reason),
        other => panic!("not an unsupported-setting error: {other:?}"),
    }
}

/// The policy settings of SPEC §4 load from both sources, and their
/// conflicts are refused with what to do.
#[test]
fn rules_and_trusted_devices_load_from_both_sources() {
    let env = Settings::from_sources(
        None,
        "",
        [
            (
                "AXES_LOCKOUT_RULES".into(),
                "ip_address:100/24h, ip_address+username:5/15m".into(),
            ),
            ("AXES_TRUSTED_DEVICE".into(), "true".into()),
            ("AXES_TRUSTED_DEVICE_TTL".into(), "7d".into()),
        ],
    )
    .unwrap();
    let toml = Settings::from_sources(
        Some(
            r#"
trusted_device = true
trusted_device_ttl = "7d"

[[lockout_rules]]
parameters = ["ip_address"]
failure_limit = 100
cooloff_time = "24h"

[[lockout_rules]]
parameters = [["ip_address", "username"]]
failure_limit = 5
cooloff_time = "15m"
"#,
        ),
        "axes.toml",
        [],
    )
    .unwrap();
    assert_eq!(env, toml);
    assert_eq!(env.lockout_rules.len(), 2);
    assert!(env.trusted_device);
    assert_eq!(
        env.trusted_device_ttl,
        std::time::Duration::from_secs(7 * 86_400)
    );
    env.validate().unwrap();

    for (extra, want) in [
        (
            "failure_limit = 5",
            "lockout_rules replaces lockout_parameters",
        ),
        (
            "cooloff_time = \"1h\"",
            "lockout_rules replaces lockout_parameters",
        ),
        (
            "lockout_parameters = [\"username\"]",
            "lockout_rules replaces",
        ),
        ("cooloff_multiplier = 2", "not available with lockout_rules"),
        (
            "permanent_lockout_after = 3",
            "not available with lockout_rules",
        ),
        (
            "store_ip_address = false",
            "the lockout rule `ip_address:100/1day` uses ip_address",
        ),
        ("trusted_device_ttl = \"401d\"", "at most 400 days"),
    ] {
        let text = format!("lockout_rules = \"ip_address:100/24h\"\n{extra}\n");
        let err = Settings::from_sources(Some(&text), "axes.toml", [])
            .and_then(|s| s.validate().map(|()| s))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{extra}: {err}");
    }
    let err = Settings::from_sources(None, "", [("AXES_LOCKOUT_RULES".into(), "ip:5".into())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("lockout_rules"), "{err}");
}

/// django-axes settings that axes renamed or replaced name the
/// replacement, from the environment (`AXES_…`) and from TOML.
#[test]
fn django_axes_names_name_their_replacement() {
    for (key, replacement) in [
        ("only_user_failures", "lockout_parameters = [\"username\"]"),
        (
            "lock_out_by_user_or_ip",
            "lockout_parameters = [\"username\", \"ip_address\"]",
        ),
        (
            "lock_out_by_combination_user_and_ip",
            "lockout_parameters = [[\"username\", \"ip_address\"]]",
        ),
        ("use_user_agent", "lockout_parameters"),
        ("login_failure_limit", "failure_limit"),
        ("cooloff_minutes", "cooloff_time"),
        ("cache", "cache_url"),
        ("disable_success_access_log", "disable_access_log"),
        ("verbose", "AXES_LOG"),
        ("logger", "AXES_LOG"),
        ("lockout_callable", "AxesLayer::lockout_response"),
        ("username_callable", "AxesBuilder::username_rule"),
        ("whitelist_callable", "AxesBuilder::allow_user"),
        ("client_ip_callable", "AxesLayer::client_ip"),
        ("client_str_callable", "no equivalent"),
        ("ipware_proxy_order", "trusted_proxies"),
        ("ipware_proxy_count", "trusted_proxies"),
        ("ipware_proxy_trusted_ips", "trusted_proxies"),
        ("ipware_meta_precedence_order", "client_ip_header"),
        ("proxy_order", "trusted_proxies"),
        ("proxy_count", "trusted_proxies"),
        ("proxy_trusted_ips", "trusted_proxies"),
        ("meta_precedence_order", "client_ip_header"),
        ("behind_reverse_proxy", "trusted_proxies"),
        ("reverse_proxy_header", "client_ip_header"),
        ("num_proxies", "trusted_proxies"),
        ("use_attempt_expiration", "cooloff_time"),
        ("enable_retry_after_header", "Retry-After"),
        ("lockout_tiers", "not supported in this version"),
        ("only_admin_site", "AxesLayer"),
        ("enable_admin", "axes serve"),
        ("allowed_cors_origins", "CORS"),
        ("rest_framework_active", "needs none"),
    ] {
        let var = format!("AXES_{}", key.to_ascii_uppercase());
        let err = Settings::from_sources(None, "", [(var.clone(), "True".into())]);
        let (k, origin, reason) = unsupported_error(err);
        assert_eq!((k.as_str(), origin.as_str()), (key, var.as_str()));
        assert!(reason.contains(replacement), "{key}: {reason}");
        let toml = format!("{key} = true");
        let err = Settings::from_sources(Some(&toml), "axes.toml", []);
        let (k, origin, reason) = unsupported_error(err);
        assert_eq!((k.as_str(), origin.as_str()), (key, "axes.toml"));
        assert!(reason.contains(replacement), "{key}: {reason}");
    }
    let err = Settings::from_sources(
        None,
        "",
        [("AXES_ONLY_USER_FAILURES".into(), "True".into())],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported setting `only_user_failures` (from AXES_ONLY_USER_FAILURES): a django-axes \
         setting; axes uses lockout_parameters = [\"username\"] (AXES_LOCKOUT_PARAMETERS=username)"
    );
    // Each documented hint is a working value.
    for (var, value) in [
        ("AXES_LOCKOUT_PARAMETERS", "username"),
        ("AXES_LOCKOUT_PARAMETERS", "username,ip_address"),
        ("AXES_LOCKOUT_PARAMETERS", "username+ip_address"),
        ("AXES_LOCKOUT_PARAMETERS", "ip_address+user_agent"),
    ] {
        Settings::from_sources(None, "", [(var.into(), value.into())]).unwrap();
    }
    // Names that django-axes and axes share stay settings.
    for key in [
        "failure_limit",
        "cooloff_time",
        "lockout_template",
        "lockout_url",
        "ip_whitelist",
        "sensitive_parameters",
    ] {
        assert!(SETTING_KEYS.contains(&key));
    }
}

#[test]
fn django_axes_handler_classes_name_the_handler() {
    for (class, ours) in DJANGO_HANDLERS {
        let err = Settings::from_sources(None, "", [("AXES_HANDLER".into(), (*class).into())])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid value \"{class}\" for setting `handler` (from AXES_HANDLER): \
                 `{class}` is a django-axes handler; write handler = \"{ours}\""
            )
        );
        let toml = format!("handler = \"{class}\"");
        let err = Settings::from_sources(Some(&toml), "axes.toml", [])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("write handler = \"{ours}\"")),
            "{err}"
        );
        // The replacement works.
        Settings::from_sources(None, "", [("AXES_HANDLER".into(), (*ours).into())]).unwrap();
    }
}

/// `AXES_LOG` and `AXES_CONFIG` are not settings, but names that only
/// start with them are: `AXES_LOGGER` and `AXES_LOGIN_FAILURE_LIMIT`
/// (django-axes names) used to be ignored without a word.
#[test]
fn only_axes_log_and_axes_config_themselves_are_not_settings() {
    assert!(!is_setting_var("AXES_LOG"));
    assert!(!is_setting_var("AXES_CONFIG"));
    assert!(!is_setting_var("AXES_TEST_REDIS_URL"));
    assert!(!is_setting_var("PATH"));
    assert!(is_setting_var("AXES_FAILURE_LIMIT"));
    for var in ["AXES_LOGGER", "AXES_LOGIN_FAILURE_LIMIT"] {
        assert!(is_setting_var(var));
        let err = Settings::from_sources(None, "", [(var.into(), "5".into())]);
        unsupported_error(err);
    }
    let err = Settings::from_sources(None, "", [("AXES_CONFIGURED".into(), "1".into())]);
    assert!(
        matches!(err, Err(ConfigError::UnknownKey { .. })),
        "{err:?}"
    );
}

/// The django-axes table of docs/settings.md lists exactly the django-axes
/// names that are refused with a hint.
#[test]
fn the_django_axes_table_lists_every_mapped_name() {
    let docs = std::fs::read_to_string(docs_path()).unwrap();
    let start = docs.find("| django-axes | axes |").unwrap();
    let mut documented: Vec<String> = Vec::new();
    for line in docs[start..].lines().skip(2) {
        let Some(first) = line.strip_prefix("| ").and_then(|l| l.split(" | ").next()) else {
            break;
        };
        // Every `AXES_…` name in backticks.
        for quoted in first.split('`').skip(1).step_by(2) {
            let name = quoted.split(' ').next().unwrap_or(quoted);
            if let Some(key) = name.strip_prefix("AXES_") {
                documented.push(key.to_ascii_lowercase());
            }
        }
    }
    let mut mapped: Vec<String> = UNSUPPORTED
        .iter()
        .filter(|(_, reason)| !reason.starts_with("not supported in this version"))
        .map(|(key, _)| (*key).to_owned())
        .collect();
    // `AXES_HANDLER` is a setting; its django-axes values are mapped.
    mapped.push("handler".into());
    documented.sort();
    mapped.sort();
    assert_eq!(documented, mapped);
}

/// The progressive cool-off and permanent lockout: loaded from both
/// sources, bounded, and refused when they would have no effect.
#[test]
fn escalation_settings_load_and_validate() {
    let toml = "cooloff_time = \"10m\"\ncooloff_multiplier = 2.5\ncooloff_max = \"2h\"\n\
                lockout_memory = \"7d\"\npermanent_lockout_after = 4\n";
    let s = Settings::from_sources(Some(toml), "axes.toml", []).unwrap();
    assert_eq!(s.cooloff_multiplier, 2.5);
    assert_eq!(s.cooloff_max, Some(Duration::from_secs(7200)));
    assert_eq!(s.lockout_memory, Duration::from_secs(7 * 86_400));
    assert_eq!(s.permanent_lockout_after, Some(4));
    let e = s.escalation(s.cooloff()).unwrap();
    assert_eq!(e.multiplier, 2.5);
    assert_eq!(e.max, Some(chrono::Duration::hours(2)));
    assert_eq!(e.memory, chrono::Duration::days(7));
    assert_eq!(e.permanent_after, Some(4));
    assert_eq!(e.cooloff, Some(chrono::Duration::minutes(10)));

    // The environment wins, in its text forms.
    let s = Settings::from_sources(
        Some(toml),
        "axes.toml",
        [
            ("AXES_COOLOFF_MULTIPLIER".into(), "3".into()),
            ("AXES_COOLOFF_MAX".into(), "none".into()),
            ("AXES_PERMANENT_LOCKOUT_AFTER".into(), "none".into()),
            ("AXES_LOCKOUT_MEMORY".into(), "1h".into()),
        ],
    )
    .unwrap();
    assert_eq!(
        (
            s.cooloff_multiplier,
            s.cooloff_max,
            s.permanent_lockout_after,
            s.lockout_memory
        ),
        (3.0, None, None, Duration::from_secs(3600))
    );

    // Neither a multiplier above 1 nor a permanent lockout: nothing is
    // recorded.
    assert_eq!(Settings::default().escalation(None), None);
    let only_permanent = Settings {
        permanent_lockout_after: Some(3),
        cooloff_time: Some(Duration::from_secs(60)),
        ..Settings::default()
    };
    assert!(only_permanent.validate().is_ok());
    assert!(only_permanent.escalation(None).is_some());

    // Single values out of range.
    for (var, value, reason) in [
        (
            "AXES_COOLOFF_MULTIPLIER",
            "0.5",
            "must be between 1 and 1000",
        ),
        (
            "AXES_COOLOFF_MULTIPLIER",
            "1001",
            "must be between 1 and 1000",
        ),
        (
            "AXES_COOLOFF_MULTIPLIER",
            "NaN",
            "must be between 1 and 1000",
        ),
        ("AXES_COOLOFF_MULTIPLIER", "double", "expected a number"),
        (
            "AXES_PERMANENT_LOCKOUT_AFTER",
            "0",
            "must be between 1 and 1000000",
        ),
        ("AXES_LOCKOUT_MEMORY", "0s", "must be longer than zero"),
        ("AXES_COOLOFF_MAX", "0s", "must be longer than zero"),
        ("AXES_COOLOFF_MAX", "1000years", "at most 100 years"),
    ] {
        let err = Settings::from_sources(None, "", [(var.into(), value.into())]).unwrap_err();
        match &err {
            ConfigError::InvalidValue { reason: r, .. } => {
                assert!(r.contains(reason), "{var}={value}: {err}")
            }
            other => panic!("{var}={value}: {other:?}"),
        }
    }

    // Settings that would have no effect, or contradict each other.
    let conflict = |env: &[(&str, &str)]| -> String {
        let vars = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        match Settings::from_sources(None, "", vars) {
            Err(ConfigError::Conflict(why)) => why,
            other => panic!("{env:?}: {other:?}"),
        }
    };
    let why = conflict(&[("AXES_COOLOFF_MULTIPLIER", "2")]);
    assert!(why.contains("without cooloff_time"), "{why}");
    let why = conflict(&[("AXES_PERMANENT_LOCKOUT_AFTER", "3")]);
    assert!(
        why.contains("permanent_lockout_after is set without cooloff_time"),
        "{why}"
    );
    let why = conflict(&[("AXES_COOLOFF_MAX", "1h")]);
    assert!(
        why.contains("cooloff_max is set without cooloff_time"),
        "{why}"
    );
    let why = conflict(&[("AXES_COOLOFF_TIME", "1h"), ("AXES_COOLOFF_MAX", "30m")]);
    assert!(why.contains("shorter than cooloff_time"), "{why}");
    let why = conflict(&[("AXES_COOLOFF_TIME", "1h"), ("AXES_COOLOFF_MAX", "2h")]);
    assert!(why.contains("cooloff_multiplier"), "{why}");
    // A cap equal to the cool-off is fine.
    assert!(
        Settings::from_sources(
            None,
            "",
            [
                ("AXES_COOLOFF_TIME".into(), "1h".into()),
                ("AXES_COOLOFF_MAX".into(), "1h".into()),
                ("AXES_COOLOFF_MULTIPLIER".into(), "2".into()),
            ],
        )
        .is_ok()
    );

    // Built in code: validate() applies the same rules.
    for bad in [
        Settings {
            cooloff_multiplier: 0.0,
            ..Settings::default()
        },
        Settings {
            cooloff_multiplier: f64::INFINITY,
            cooloff_time: Some(Duration::from_secs(60)),
            ..Settings::default()
        },
        Settings {
            permanent_lockout_after: Some(0),
            ..Settings::default()
        },
        Settings {
            lockout_memory: Duration::ZERO,
            ..Settings::default()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}
