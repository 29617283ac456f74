//! `check`, `migrate`, settings errors, store errors, `hash-password`,
//! `demo` argument errors and `--help`.

mod common;

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

#[test]
fn check_warns_about_inactive_settings() {
    let sb = Sandbox::new().env("AXES_TRUSTED_DEVICE", "true");
    let run = sb.run(&["check"]);
    assert!(run.ok().ends_with("OK\n"), "{run:#?}");
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("trusted_device"),
        "{run:#?}"
    );
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
