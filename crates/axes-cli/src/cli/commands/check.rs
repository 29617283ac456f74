//! `check`: validate the settings and the store connection.
//!
//! Informational lines and the final `OK` go to stdout; every problem and
//! warning goes to stderr. Any problem (bad settings included) means exit
//! status 1; warnings alone do not.
//!
//! `check` applies the rules `serve` and `demo` apply at start-up, through
//! the same functions: [`Settings::load`] (which runs
//! [`Settings::validate`]), [`Settings::warnings`], the admin accounts
//! ([`Accounts::from_settings`]), the lockout template, and the generated
//! secret key when one exists ([`secret::check`]). Only the listen address
//! (`--listen`, which `check` does not know) is left to `serve`.

use std::path::Path;

use axes_core::Settings;

use crate::cli::output::{Out, error_message, printable, redact};
use crate::cli::{ProblemsFound, load_settings, store};
use crate::serve::{Accounts, secret};

/// Collected findings.
#[derive(Debug, Default)]
struct Report {
    problems: usize,
}

impl Report {
    fn problem(&mut self, text: &str) {
        self.problems += 1;
        eprintln!("problem: {}", redact(text));
    }

    fn warning(&self, text: &str) {
        eprintln!("warning: {}", redact(text));
    }
}

/// Runs every check, prints the findings.
pub async fn run(config: Option<&Path>) -> anyhow::Result<()> {
    let mut out = Out::new();
    let mut report = Report::default();
    match load_settings(config) {
        Ok(settings) => {
            out.line(&format!("settings: {}", source(config)))?;
            check_settings(&settings, &mut report);
            check_store(&settings, &mut report, &mut out).await?;
        }
        Err(e) => report.problem(&e.to_string()),
    }
    if report.problems == 0 {
        out.line("OK")?;
        return Ok(out.flush()?);
    }
    out.flush()?;
    let summary = match report.problems {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    eprintln!("{summary} found.");
    Err(ProblemsFound(summary).into())
}

/// Where the settings came from.
fn source(config: Option<&Path>) -> String {
    let file = match config {
        Some(path) => Some(path.display().to_string()),
        None => Path::new("axes.toml")
            .is_file()
            .then(|| "axes.toml".to_owned()),
    };
    let env = std::env::vars().any(|(k, _)| axes_core::settings::is_setting_var(&k));
    match (file, env) {
        (Some(f), true) => format!("{f} and AXES_* environment variables"),
        (Some(f), false) => f,
        (None, true) => "defaults and AXES_* environment variables".to_owned(),
        (None, false) => "defaults (no axes.toml, no AXES_* variables)".to_owned(),
    }
}

/// Checks beyond what loading the settings validates: the warnings, and
/// what `serve` and `demo` refuse at start-up besides the settings.
fn check_settings(settings: &Settings, report: &mut Report) {
    for warning in settings.warnings() {
        report.warning(&warning);
    }
    // The parser `serve` uses: names, duplicates, argon2 PHC hashes.
    if let Err(e) = Accounts::from_settings(settings) {
        report.problem(&printable(&e.to_string()));
    }
    if let Some(template) = &settings.lockout_template {
        if !template.is_file() {
            report.problem(&format!(
                "lockout_template: `{}` is not a readable file",
                printable(&template.display().to_string())
            ));
        } else if let Err(e) = axes_axum::LockoutResponder::from_settings(settings) {
            // Read and compiled as the layer will: a syntax error shows here.
            report.problem(&printable(&e.to_string()));
        }
    }
    if let Err(e) = secret::check(settings) {
        report.problem(&printable(&error_message(&e)));
    }
}

/// Connects to the store and asks it to answer.
async fn check_store(
    settings: &Settings,
    report: &mut Report,
    out: &mut Out,
) -> anyhow::Result<()> {
    let what = store::describe(settings);
    match store::connect(settings).await {
        Ok(db) => {
            let ping = match tokio::time::timeout(settings.store_timeout, db.ping()).await {
                Ok(r) => r,
                Err(_) => Err(axes_core::StoreError::Timeout(settings.store_timeout)),
            };
            match ping {
                Ok(()) => out.line(&format!("store: the {what} answers ({})", db.kind()))?,
                Err(e) => report.problem(&format!(
                    "the {what} does not answer: {}",
                    error_message(&e.into())
                )),
            }
        }
        Err(e) => report.problem(&error_message(&e)),
    }
    Ok(())
}
