//! Log lines: tracing to stderr, filtered by `AXES_LOG`, secrets removed.

use std::io::{self, IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use super::output::redact;

/// The environment variable holding the log filter (`warn`, `axes_core=debug`, …).
pub const LOG_ENV: &str = "AXES_LOG";

/// The default filter of one-shot commands (reset, list, …): warnings only.
/// The engine's store-health lines are left out: the command reports a
/// failing store itself, and "allowing logins" makes no sense there.
pub const QUIET: &str = "warn,axes::store=off,sqlx=error";

/// The default filter of `block` and `unblock`: as [`QUIET`], without the
/// engine's "blocked …"/"unblocked …" log line, which only repeats what
/// the command prints (those commands log nothing else from that module).
pub const QUIET_BLOCKS: &str = "warn,axes::store=off,sqlx=error,axes_core::engine::blocks=error";

/// The default filter of long-running commands (demo).
pub const VERBOSE: &str = "info,sqlx=warn";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `message`, and the
    /// event's fields), for log collectors. Secrets are removed as from
    /// text lines; IP addresses appear only as `store_ip_address` allows.
    Json,
}

/// Installs the subscriber. `AXES_LOG` wins over `default`; a malformed
/// `AXES_LOG` falls back to `default` with a warning.
pub fn init(default: &str, format: LogFormat) {
    let (filter, bad) = match std::env::var(LOG_ENV) {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new(default), Some(e.to_string())),
        },
        _ => (EnvFilter::new(default), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStderr)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(io::stderr().is_terminal())
            .try_init()
            .is_ok(),
        LogFormat::Json => builder
            .with_ansi(false)
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
            .is_ok(),
    };
    if let (true, Some(e)) = (installed, bad) {
        tracing::warn!("ignoring {LOG_ENV}: {e}");
    }
}

/// Hands out one [`RedactingLine`] per log event.
#[derive(Debug, Clone, Copy)]
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine(Vec::new())
    }
}

/// Collects one formatted event and writes it to stderr, secrets removed,
/// when dropped.
#[derive(Debug)]
struct RedactingLine(Vec<u8>);

impl Write for RedactingLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = redact(&String::from_utf8_lossy(&self.0));
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}
