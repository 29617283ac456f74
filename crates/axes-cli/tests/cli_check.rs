//! `check`, `migrate`, settings errors, store errors, `hash-password`,
//! `demo` argument errors and `--help`.

mod common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::Sandbox;

#[test]
fn check_passes_on_good_settings() {
    let sb = Sandbox::new();
    let run = sb.run(&["check"]);
    let out = run.ok();
    assert!(out.ends_with("OK\n"), "{run:#?}");
    assert!(out.contains("sqlite"), "{run:#?}");
    assert_eq!(run.stderr, "");
}

#[test]
fn check_reads_axes_toml() {
    let sb = Sandbox::new();
    sb.write("axes.toml", "failure_limit = 5\ncooloff_time = \"30m\"\n");
    let run = sb.run(&["check"]);
    assert!(run.ok().contains("axes.toml"), "{run:#?}");
    assert!(run.stdout.ends_with("OK\n"));
}

/// `check` reports a bad setting as a problem: exit status 1 (SPEC §7:
/// "problems, exit 1 if any"), unlike the other commands, which exit 2.
#[test]
fn check_names_a_bad_setting_and_fails() {
    let sb = Sandbox::new().env("AXES_FAILURE_LIMIT", "many");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("failure_limit"), "{run:#?}");
    assert!(!run.stdout.contains("OK"), "{run:#?}");
}

#[test]
fn an_unknown_setting_in_axes_toml_is_named() {
    let sb = Sandbox::new();
    sb.write("axes.toml", "failure_limt = 5\n");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("failure_limt"), "{run:#?}");
    assert!(run.stderr.contains("axes.toml"), "{run:#?}");
    // Every other command refuses to run: bad input, exit 2.
    for args in [&["reset"][..], &["list"], &["reset-logs"], &["migrate"]] {
        let run = sb.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.stderr.contains("failure_limt"), "{run:#?}");
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn config_flag_names_the_file() {
    let sb = Sandbox::new();
    let path = sb.write("other.toml", "handler = \"memory\"\n");
    let run = sb.run(&["--config", path.to_str().unwrap(), "check"]);
    assert!(run.ok().contains("memory"), "{run:#?}");
    // After the command too.
    let run = sb.run(&["reset", "--config", path.to_str().unwrap()]);
    assert_eq!(run.ok(), "No attempts found.\n");
    // The environment wins over the file.
    let sb2 = Sandbox::new().env("AXES_HANDLER", "dummy");
    let path2 = sb2.write("other.toml", "handler = \"memory\"\n");
    let run = sb2.run(&["--config", path2.to_str().unwrap(), "check"]);
    assert!(run.ok().contains("dummy"), "{run:#?}");
}

#[test]
fn a_missing_config_file_is_an_error() {
    let sb = Sandbox::new();
    let run = sb.run(&["--config", "nope.toml", "reset"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("nope.toml"), "{run:#?}");
}

#[test]
fn conflicting_settings_are_bad_input() {
    let sb = Sandbox::new().env("AXES_STORE_IP_ADDRESS", "false");
    let run = sb.run(&["reset"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("store_ip_address"), "{run:#?}");
    assert_eq!(sb.run(&["check"]).code, 1);
}

/// `lockout_rules` with the settings it replaces is a conflict: a problem
/// for `check` (status 1) and bad input for every other command (status 2);
/// a malformed rule names the setting.
#[test]
fn layered_rules_conflicts_are_refused() {
    let sb = Sandbox::new()
        .env("AXES_LOCKOUT_RULES", "ip_address:100/24h")
        .env("AXES_FAILURE_LIMIT", "5");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("lockout_rules replaces lockout_parameters"),
        "{run:#?}"
    );
    assert!(!run.stdout.contains("OK"), "{run:#?}");
    assert_eq!(sb.run(&["reset"]).code, 2);
    let sb = Sandbox::new();
    sb.write("axes.toml", "lockout_rules = \"ip_address:many/1h\"\n");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("lockout_rules"), "{run:#?}");
    let sb = Sandbox::new().env(
        "AXES_LOCKOUT_RULES",
        "ip_address:100/24h, ip_address+username:5/15m",
    );
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 0, "{run:#?}");
}

/// django-axes names that axes replaced name the replacement, in the
/// environment and in axes.toml.
#[test]
fn django_axes_names_are_refused_with_their_replacement() {
    let sb = Sandbox::new().env("AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP", "True");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(
        run.stderr,
        "problem: unsupported setting `lock_out_by_combination_user_and_ip` (from \
         AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP): a django-axes setting; axes uses \
         lockout_parameters = [[\"username\", \"ip_address\"]] \
         (AXES_LOCKOUT_PARAMETERS=username+ip_address)\n1 problem found.\n"
    );
    let sb = Sandbox::new();
    sb.write("axes.toml", "whitelist_callable = \"myapp.allow\"\n");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains(
            "unsupported setting `whitelist_callable` (from axes.toml): a django-axes setting; \
             axes uses the code hook AxesBuilder::allow_user"
        ),
        "{run:#?}"
    );
    let sb = Sandbox::new().env("AXES_HANDLER", "axes.handlers.cache.AxesCacheHandler");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("is a django-axes handler; write handler = \"cache\""),
        "{run:#?}"
    );
    // AXES_LOGGER only starts like AXES_LOG (the log filter): a setting
    // name, refused with a hint rather than silently ignored.
    let run = Sandbox::new().env("AXES_LOGGER", "axes").run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("`logger`"), "{run:#?}");
}

/// Over-long durations used to pass `check` and become a lockout until
/// reset; now one cap (100 years) applies to every form.
#[test]
fn check_refuses_durations_over_the_cap() {
    for value in ["99999999999999h", "1000years", "200y", "1000000"] {
        let sb = Sandbox::new().env("AXES_COOLOFF_TIME", value);
        let run = sb.run(&["check"]);
        assert_eq!(run.code, 1, "{value}: {run:#?}");
        assert!(
            run.stderr.contains(&format!(
                "problem: invalid value \"{value}\" for setting `cooloff_time` (from AXES_COOLOFF_TIME): \
                 a duration must be at most 100 years"
            )),
            "{run:#?}"
        );
        assert!(!run.stdout.contains("OK"), "{run:#?}");
    }
    let sb = Sandbox::new();
    sb.write("axes.toml", "cooloff_time = 1000000\n");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("cooloff_time"), "{run:#?}");
    assert!(run.stderr.contains("100 years"), "{run:#?}");
    // A zero cool-off would have meant "until reset" too.
    let run = Sandbox::new().env("AXES_COOLOFF_TIME", "0").run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("longer than zero"), "{run:#?}");
    // The cap itself is accepted.
    let run = Sandbox::new()
        .env("AXES_COOLOFF_TIME", "100y")
        .run(&["check"]);
    assert!(run.ok().ends_with("OK\n"), "{run:#?}");
}

/// `serve` refused a short secret_key that `check` said was fine.
#[test]
fn check_refuses_a_short_secret_key_like_serve() {
    for secret in ["short", "is", "key"] {
        let sb = Sandbox::new().env("AXES_SECRET_KEY", secret);
        let run = sb.run(&["check"]);
        assert_eq!(run.code, 1, "{secret}: {run:#?}");
        assert_eq!(
            run.stderr,
            "problem: invalid settings: secret_key is shorter than 16 bytes; use a long random value \
             (e.g. `openssl rand -hex 32`), or leave it unset for a generated one\n1 problem found.\n",
            "{secret}"
        );
        assert_eq!(run.stdout, "");
    }
    let run = Sandbox::new()
        .env("AXES_SECRET_KEY", "0123456789abcdef")
        .run(&["check"]);
    assert!(run.ok().ends_with("OK\n"), "{run:#?}");
}

/// What a long-running command printed before it stopped by itself, or
/// within `within` of starting (then it is killed): its exit status (`None`
/// when it was still running), stdout and stderr.
#[allow(clippy::unwrap_used)] // a test helper: a failure here fails the test
fn run_briefly(sb: &Sandbox, args: &[&str], within: Duration) -> (Option<i32>, String, String) {
    let mut child = sb
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = String::new();
    // The first line says where it listens: it got past start-up.
    if let Ok(line) = rx.recv_timeout(within) {
        out.push_str(&line);
        out.push('\n');
    }
    let code = match child.try_wait().unwrap() {
        Some(status) => status.code(),
        None => {
            std::thread::sleep(Duration::from_millis(200));
            match child.try_wait().unwrap() {
                Some(status) => status.code(),
                None => {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    None
                }
            }
        }
    };
    (code, out, errors.join().unwrap())
}

/// `serve` and `demo` refuse the short secret on start, with a message
/// whose words are intact ("shorter" used to read "[redacted]er").
#[test]
fn serve_and_demo_refuse_a_short_secret_key_with_an_intact_message() {
    for secret in ["short", "is", "key"] {
        let sb = Sandbox::new().env("AXES_SECRET_KEY", secret);
        for args in [
            &["serve", "--listen", "127.0.0.1:0"][..],
            &["demo", "--listen", "127.0.0.1:0"],
        ] {
            let (code, out, err) = run_briefly(&sb, args, Duration::from_secs(60));
            assert_eq!(code, Some(2), "{secret} {args:?}: {out}{err}");
            assert_eq!(out, "");
            assert!(
                err.contains(
                    "axes: invalid settings: secret_key is shorter than 16 bytes; use a long random value"
                ),
                "{secret} {args:?}: {err}"
            );
            assert!(!err.contains("[redacted]"), "{err}");
        }
    }
}

/// A trusted proxy block that covers (nearly) everything lets clients pick
/// their own IP: a warning, not a problem.
#[test]
fn check_warns_about_broad_trusted_proxies() {
    for broad in ["0.0.0.0/0", "::/0", "10.0.0.0/7", "2000::/3"] {
        let sb = Sandbox::new().env("AXES_TRUSTED_PROXIES", &format!("10.1.2.3,{broad}"));
        let run = sb.run(&["check"]);
        assert!(run.ok().ends_with("OK\n"), "{run:#?}");
        assert_eq!(
            run.stderr,
            format!(
                "warning: trusted_proxies: {broad} covers so many addresses that any client in it \
                 can choose its own IP by sending X-Forwarded-For; list only your proxies' addresses\n"
            ),
        );
    }
    let sb = Sandbox::new()
        .env("AXES_TRUSTED_PROXIES", "10.0.0.0/8,fc00::/7,192.168.0.0/16")
        .env("AXES_CLIENT_IP_HEADER", "X-Real-IP");
    let run = sb.run(&["check"]);
    assert!(run.ok().ends_with("OK\n"), "{run:#?}");
    assert_eq!(run.stderr, "");
    let sb = Sandbox::new()
        .env("AXES_TRUSTED_PROXIES", "0.0.0.0/0")
        .env("AXES_CLIENT_IP_HEADER", "X-Real-IP");
    assert!(sb.run(&["check"]).stderr.contains("by sending X-Real-IP;"));
}

/// A short api_token is a warning; the secret redactor leaves the words
/// of the message alone when the token occurs inside them.
#[test]
fn check_warns_about_a_short_api_token() {
    for token in [
        "short",
        "token",
        "is",
        "key",
        "0123456789abcdef0123456789abcde",
    ] {
        let sb = Sandbox::new().env("AXES_API_TOKEN", token);
        let run = sb.run(&["check"]);
        assert!(run.ok().ends_with("OK\n"), "{token}: {run:#?}");
        assert_eq!(
            run.stderr,
            "warning: api_token is shorter than 32 characters; use a long random value \
             (e.g. `openssl rand -hex 32`)\n",
            "{token}"
        );
    }
    let sb = Sandbox::new().env("AXES_API_TOKEN", "0123456789abcdef0123456789abcdef");
    let run = sb.run(&["check"]);
    assert!(run.ok().ends_with("OK\n"), "{run:#?}");
    assert_eq!(run.stderr, "");
}

/// `serve` and `demo` log the warnings of `check` at start-up.
#[test]
fn serve_and_demo_log_the_warnings_at_start_up() {
    let sb = Sandbox::new()
        .env("AXES_TRUSTED_PROXIES", "0.0.0.0/0")
        .env("AXES_API_TOKEN", "short");
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["demo", "--listen", "127.0.0.1:0"],
    ] {
        let (code, out, err) = run_briefly(&sb, args, Duration::from_secs(120));
        assert_eq!(code, None, "{args:?} stopped: {out}{err}");
        assert!(out.contains("http://127.0.0.1:"), "{args:?}: {out}{err}");
        for warning in [
            "trusted_proxies: 0.0.0.0/0 covers so many addresses",
            "api_token is shorter than 32 characters",
        ] {
            assert!(err.contains(warning), "{args:?} {warning}: {err}");
        }
    }
}

/// A generated key file that `serve` would refuse is a problem for `check`.
#[test]
fn check_reports_a_short_generated_key_file() {
    let sb = Sandbox::new();
    sb.write("axes.secret", "short\n");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("axes.secret is too short; delete it to make a new one"),
        "{run:#?}"
    );
}

/// `check` parses admin_users as `serve` does: a PHC hash of another
/// algorithm, or a name listed twice, is a problem.
#[test]
fn check_applies_the_admin_users_rules_of_serve() {
    let scrypt =
        "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E";
    let sb = Sandbox::new();
    sb.write("axes.toml", &format!("admin_users = [\"root:{scrypt}\"]\n"));
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("not an argon2 hash"), "{run:#?}");
    let hash = sb
        .run_with_stdin(&["hash-password"], "pw\n")
        .ok()
        .trim_end()
        .to_owned();
    sb.write(
        "axes.toml",
        &format!("admin_users = [\"root:{hash}\", \"root:{hash}\"]\n"),
    );
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("listed twice"), "{run:#?}");
}

#[test]
fn check_rejects_admin_users_without_a_hash() {
    let sb = Sandbox::new().env("AXES_ADMIN_USERS", "root:hunter22");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("admin_users"), "{run:#?}");
    assert!(!run.stderr.contains("hunter22"), "{run:#?}");
}

#[test]
fn hash_password_makes_a_hash_check_accepts() {
    let sb = Sandbox::new();
    let run = sb.run_with_stdin(&["hash-password", "--password-stdin"], "s3cret\n");
    let hash = run.ok().trim_end().to_owned();
    assert!(hash.starts_with("$argon2id$"), "{run:#?}");
    assert!(!hash.contains("s3cret"));
    let run = sb.run_with_stdin(&["hash-password"], "s3cret");
    assert!(run.ok().starts_with("$argon2id$"), "{run:#?}");
    // A PHC hash holds commas, so it goes into axes.toml as an array (the
    // comma-separated environment form cannot carry it).
    sb.write("axes.toml", &format!("admin_users = [\"admin:{hash}\"]\n"));
    let run = sb.run(&["check"]);
    assert!(run.ok().ends_with("OK\n"), "{run:#?}");
}

#[test]
fn hash_password_needs_a_password() {
    let sb = Sandbox::new();
    let run = sb.run_with_stdin(&["hash-password"], "\n");
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.stdout, "");
}

#[test]
fn hash_password_ignores_broken_settings() {
    let sb = Sandbox::new();
    sb.write("axes.toml", "nonsense = 1\n");
    let run = sb.run_with_stdin(&["hash-password"], "pw\n");
    assert!(run.ok().starts_with("$argon2id$"), "{run:#?}");
}

#[test]
fn migrate_creates_the_schema() {
    let sb = Sandbox::new();
    assert!(!sb.path().join("axes.db").exists());
    let run = sb.run(&["migrate"]);
    assert_eq!(run.ok(), "Schema is up to date (sqlite).\n");
    assert!(sb.path().join("axes.db").exists());
    // Idempotent.
    assert_eq!(
        sb.run(&["migrate"]).ok(),
        "Schema is up to date (sqlite).\n"
    );
    assert_eq!(sb.run(&["list"]).ok(), "");
}

#[test]
fn the_default_database_is_axes_db_in_the_working_directory() {
    let sb = Sandbox::new();
    let mut cmd = sb.command(&["reset"]);
    cmd.env_remove("AXES_DATABASE_URL");
    let run: common::Run = cmd.output().unwrap().into();
    assert_eq!(run.ok(), "No attempts found.\n");
    assert!(sb.path().join("axes.db").exists());
}

#[test]
fn migrate_without_a_schema() {
    let sb = Sandbox::new().env("AXES_HANDLER", "memory");
    let run = sb.run(&["migrate"]);
    assert!(run.ok().starts_with("Nothing to migrate"), "{run:#?}");
}

#[test]
fn a_store_failure_exits_1_without_secrets() {
    // Nothing listens on port 1.
    let sb = Sandbox::new()
        .env(
            "AXES_DATABASE_URL",
            "postgres://axes:hunter2secret@127.0.0.1:1/axes",
        )
        .env("AXES_LOG", "debug");
    // Each waits for the pool's timeout: run them side by side.
    let runs: Vec<(&[&str], common::Run)> = std::thread::scope(|s| {
        let handles: Vec<_> = [&["reset"][..], &["list"], &["migrate"], &["check"]]
            .into_iter()
            .map(|args| {
                let sb = &sb;
                s.spawn(move || (args, sb.run(args)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (args, run) in &runs[..3] {
        assert_eq!(run.code, 1, "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains("127.0.0.1:1"), "{run:#?}");
        assert!(!run.stderr.contains("hunter2secret"), "{run:#?}");
        assert!(!run.stderr.contains("panicked"), "{run:#?}");
    }
    let run = &runs[3].1;
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("problem"), "{run:#?}");
    assert!(!run.stderr.contains("hunter2secret"), "{run:#?}");
    assert!(!run.stdout.contains("OK"), "{run:#?}");
}

#[test]
fn an_unusable_sqlite_path_exits_1() {
    let sb = Sandbox::new();
    let bad = format!("sqlite://{}/no/such/dir/axes.db", sb.path().display());
    let sb = sb.env("AXES_DATABASE_URL", &bad);
    let run = sb.run(&["reset"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.starts_with("axes: "), "{run:#?}");
}

#[test]
fn demo_rejects_a_malformed_user() {
    let sb = Sandbox::new();
    for user in ["nocolon", ":pw", "name:"] {
        let run = sb.run(&["demo", "--user", user]);
        assert_eq!(run.code, 2, "{user}: {run:#?}");
        assert!(run.stderr.contains("NAME:PASSWORD"), "{run:#?}");
    }
    let run = sb.run(&["demo", "--listen", "not-an-address"]);
    assert_eq!(run.code, 2, "{run:#?}");
}

#[test]
fn unknown_commands_are_usage_errors() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&[]).code, 2);
    assert_eq!(sb.run(&["frobnicate"]).code, 2);
    assert_eq!(sb.run(&["list", "--yaml"]).code, 2);
}

#[test]
fn every_command_has_help() {
    let sb = Sandbox::new();
    let top = sb.run(&["--help"]);
    let top = top.ok();
    for (cmd, text) in [
        ("reset", "Reset all access attempts and lockouts"),
        (
            "reset-ip",
            "Reset all access attempts and lockouts for given IP addresses",
        ),
        (
            "reset-username",
            "Reset all access attempts and lockouts for given usernames",
        ),
        (
            "reset-ip-username",
            "Reset all access attempts and lockouts for a given IP address and username",
        ),
        (
            "reset-logs",
            "Reset access log records older than given days.",
        ),
        (
            "reset-failure-logs",
            "Reset access failure log records older than given days.",
        ),
        ("list", "List access attempts"),
        ("migrate", "schema"),
        ("check", "settings"),
        ("demo", "NAME:PASSWORD"),
        ("hash-password", "argon2"),
    ] {
        assert!(top.contains(cmd), "{cmd} missing from --help");
        for args in [&[cmd, "--help"][..], &["help", cmd]] {
            let run = sb.run(args);
            assert!(run.ok().contains(text), "{args:?}: {run:#?}");
            assert!(run.stdout.contains("Usage: axes"), "{args:?}");
        }
    }
    let run = sb.run(&["reset-logs", "--help"]);
    assert!(
        run.stdout
            .contains("Maximum age for records to keep in days"),
        "{run:#?}"
    );
    // Help does not touch the store.
    assert!(!sb.path().join("axes.db").exists());
}

// The documented outputs of the docs (docs/settings.md, SECURITY.md, …)
// are checked by tests/docs_cli.rs.
