//! Log lines: tracing to stderr, filtered by `AXES_LOG`, secrets removed.

use std::cell::Cell;
use std::fmt;
use std::io::{self, IsTerminal, Write};

use chrono::{Datelike, Timelike};
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::fmt::time::FormatTime;

use super::output::redact_cow;

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
        .with_timer(LogTime)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => builder
            .fmt_fields(LogFields)
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

/// The most bytes of line buffer a thread keeps between lines.
const KEPT_LINE_BYTES: usize = 4096;

thread_local! {
    /// The line buffer of this thread, reused from line to line (a long
    /// running server logs a line per failed login).
    static LINE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Standard error as a file of its own (a duplicate of descriptor 2),
/// written without `Stderr`'s lock: each line is one `write` of the whole
/// line, which the kernel keeps whole, and two workers logging at once no
/// longer wait for each other's system call under a lock (0.7 futex calls
/// per wrong login on the memory store, 2026-12-02). `None` when the
/// descriptor cannot be duplicated: the locked `Stderr` then.
static STDERR_FILE: std::sync::LazyLock<Option<std::fs::File>> =
    std::sync::LazyLock::new(stderr_file);

#[cfg(unix)]
fn stderr_file() -> Option<std::fs::File> {
    use std::os::fd::AsFd;
    io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(std::fs::File::from)
}

#[cfg(not(unix))]
fn stderr_file() -> Option<std::fs::File> {
    None
}

/// Hands out one [`RedactingLine`] per log event.
#[derive(Debug, Clone, Copy)]
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine(LINE.try_with(Cell::take).unwrap_or_default())
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
        if !self.0.is_empty() {
            let text = String::from_utf8_lossy(&self.0);
            let text = redact_cow(&text);
            match &*STDERR_FILE {
                Some(file) => {
                    let _ = (&*file).write_all(text.as_bytes());
                }
                None => {
                    let _ = io::stderr().lock().write_all(text.as_bytes());
                }
            }
        }
        let mut buf = std::mem::take(&mut self.0);
        if buf.capacity() <= KEPT_LINE_BYTES {
            buf.clear();
            let _ = LINE.try_with(|line| line.set(buf));
        }
    }
}

/// The time of a text line: RFC 3339 in UTC with microseconds
/// (`2026-12-01T21:05:00.123456Z`), exactly as tracing's default timer
/// writes it, with the date and time of day formatted once per second.
#[derive(Debug, Clone, Copy, Default)]
struct LogTime;

thread_local! {
    /// The last second this thread formatted: (Unix seconds, its text).
    static SECOND: Cell<(i64, [u8; 19])> = const { Cell::new((i64::MIN, [0; 19])) };
}

impl FormatTime for LogTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        match since.ok().and_then(|d| {
            let secs = i64::try_from(d.as_secs()).ok()?;
            Some((secs, d.subsec_micros()))
        }) {
            Some((secs, micros)) => write_time(w, secs, micros),
            // Before 1970: the default timer's rendering.
            None => tracing_subscriber::fmt::time::SystemTime.format_time(w),
        }
    }
}

/// Writes `secs` and `micros` after the Unix epoch as [`LogTime`] does.
fn write_time(w: &mut impl fmt::Write, secs: i64, micros: u32) -> fmt::Result {
    let cached = SECOND.try_with(Cell::get).ok().filter(|(s, _)| *s == secs);
    let second = match cached {
        Some((_, text)) => text,
        None => {
            let Some(text) = second_text(secs) else {
                return tracing_subscriber::fmt::time::SystemTime.format_time(&mut Writer::new(w));
            };
            let _ = SECOND.try_with(|c| c.set((secs, text)));
            text
        }
    };
    let mut line = [0u8; 27];
    line[..19].copy_from_slice(&second);
    line[19] = b'.';
    let mut rest = micros.min(999_999);
    for digit in line[20..26].iter_mut().rev() {
        // `rest % 10` is a digit: the cast cannot truncate.
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    line[26] = b'Z';
    w.write_str(std::str::from_utf8(&line).map_err(|_| fmt::Error)?)
}

/// `YYYY-MM-DDTHH:MM:SS` of `secs` after the Unix epoch (years 0 to 9999,
/// the years the default timer writes with four digits).
fn second_text(secs: i64) -> Option<[u8; 19]> {
    let t = chrono::DateTime::from_timestamp(secs, 0)?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    text.as_bytes().try_into().ok()
}

/// The fields of a text line, as tracing's default formatter writes them,
/// with the message's terminal escapes neutralised a run of text at a time
/// rather than a character at a time (the same characters, escaped the
/// same way). Fields other than the message are tracing's own rendering.
#[derive(Debug, Clone, Copy)]
struct LogFields;

impl<'a> MakeVisitor<Writer<'a>> for LogFields {
    type Visitor = LogVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> Self::Visitor {
        LogVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        }
    }
}

/// The visitor of [`LogFields`].
#[derive(Debug)]
struct LogVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: fmt::Result,
}

impl LogVisitor<'_> {
    /// Lets tracing's default visitor write one field.
    fn default(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        self.is_empty = false;
    }

    fn message(&mut self, value: &dyn fmt::Debug) {
        if !self.is_empty {
            self.result = self.writer.write_char(' ');
        }
        self.is_empty = false;
        if self.result.is_ok() {
            let sanitize = self.writer.sanitizes_ansi_escapes();
            self.result = if sanitize {
                fmt::write(&mut Escaping(&mut self.writer), format_args!("{value:?}"))
            } else {
                fmt::write(&mut self.writer, format_args!("{value:?}"))
            };
        }
    }
}

impl Visit for LogVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            self.message(&format_args!("{value}"));
        } else {
            self.default(|v| v.record_str(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_ok() {
            self.default(|v| v.record_error(field, value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        if field.name() == "message" {
            self.message(value);
        } else {
            self.default(|v| v.record_debug(field, value));
        }
    }
}

impl VisitOutput<fmt::Result> for LogVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for LogVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// Writes through to `W` with the characters a terminal acts on shown
/// escaped: ESC, BEL, BS, FF, DEL as `\x1b`…, C1 controls as `\u{9b}`…
/// (what tracing's own message escaping does).
struct Escaping<'w, W: fmt::Write>(&'w mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Byte by byte: every character escaped is ASCII, or a C1 control
        // (two bytes, 0xC2 0x80..=0x9F in UTF-8): a match starts on a
        // character boundary, and text without one is written at once.
        let bytes = s.as_bytes();
        let (mut from, mut at) = (0, 0);
        while let Some(offset) = bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|b| ESCAPE_START[usize::from(*b)]))
        {
            let start = at + offset;
            at = start + 1;
            let (c1, end) = match bytes.get(start) {
                Some(0xc2) => match bytes.get(start + 1) {
                    Some(&b @ 0x80..=0x9f) => (Some(b), start + 2),
                    _ => continue,
                },
                _ => (None, start + 1),
            };
            self.0.write_str(s.get(from..start).ok_or(fmt::Error)?)?;
            match (c1, bytes.get(start)) {
                // U+0080..=U+009F: the code point is the second byte.
                (Some(b), _) => write!(self.0, "\\u{{{b:x}}}")?,
                (None, Some(0x1b)) => self.0.write_str("\\x1b")?,
                (None, Some(0x07)) => self.0.write_str("\\x07")?,
                (None, Some(0x08)) => self.0.write_str("\\x08")?,
                (None, Some(0x0c)) => self.0.write_str("\\x0c")?,
                _ => self.0.write_str("\\x7f")?,
            }
            from = end;
            at = end;
        }
        self.0.write_str(s.get(from..).ok_or(fmt::Error)?)
    }
}

/// Whether a byte can start an escaped character (see [`Escaping`]).
const ESCAPE_START: [bool; 256] = {
    let mut table = [false; 256];
    let starts = [0x1b, 0x07, 0x08, 0x0c, 0x7f, 0xc2];
    let mut i = 0;
    while i < starts.len() {
        table[starts[i]] = true;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects every line written.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = CaptureLine;

        fn make_writer(&'a self) -> Self::Writer {
            CaptureLine(self.0.clone())
        }
    }

    struct CaptureLine(Arc<Mutex<Vec<u8>>>);

    impl Write for CaptureLine {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Lines as written by our field formatter, or by tracing's own.
    fn lines(ours: bool, ansi: bool) -> String {
        let capture = Capture::default();
        let builder = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .without_time()
            .with_target(false)
            .with_ansi(ansi);
        let emit = || {
            let user = "mallory\u{1b}[31m\u{9b}x\u{7f}";
            tracing::warn!("axes: login failure by username={user:?} ip=192.0.2.1 (1 of 5)");
            tracing::warn!(
                "raw: bell \u{7} bs \u{8} ff \u{c} esc \u{1b}[2J del \u{7f} é \u{85} \u{9f} \u{a0} done"
            );
            tracing::warn!("{}", "\u{c2}\u{80} is U+00C2 U+0080; \u{1b}\u{1b}");
            tracing::info!(
                count = 3,
                name = "a\u{1b}b",
                r#type = "x",
                "with fields \u{1b}[0m"
            );
            let err = io::Error::other("broken \u{1b}[1m");
            tracing::error!(error = &err as &dyn std::error::Error, "failed");
            tracing::info!(message = "as a field \u{9b}", extra = true);
        };
        if ours {
            tracing::subscriber::with_default(builder.fmt_fields(LogFields).finish(), emit);
        } else {
            tracing::subscriber::with_default(builder.finish(), emit);
        }
        String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn text_lines_are_tracings_own_escapes_included() {
        for ansi in [false, true] {
            let (ours, theirs) = (lines(true, ansi), lines(false, ansi));
            assert_eq!(ours, theirs, "ansi = {ansi}");
        }
        let plain = lines(true, false);
        assert_eq!(plain.lines().count(), 6, "{plain}");
        // No terminal control survives, and the escapes are visible.
        assert!(
            !plain.contains('\u{1b}') && !plain.contains('\u{85}'),
            "{plain}"
        );
        assert!(plain.contains("esc \\x1b[2J del \\x7f é \\u{85} \\u{9f} \u{a0} done"));
        assert!(plain.contains("bell \\x07 bs \\x08 ff \\x0c"));
    }

    #[test]
    fn the_time_is_written_as_tracing_writes_it() {
        let cases = [
            (0, 0),
            (1_764_620_700, 123_456),
            (1_764_620_700, 7),
            (1_764_620_701, 999_999),
            (951_782_400, 500_000),
            (253_402_300_799, 999_999),
            (1_764_620_700, 42),
        ];
        for (secs, micros) in cases {
            let mut ours = String::new();
            write_time(&mut ours, secs, micros).unwrap();
            let expected = chrono::DateTime::from_timestamp(secs, micros * 1000)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string();
            assert_eq!(ours, expected);
        }
    }

    #[test]
    fn the_line_buffer_is_reused_and_bounded() {
        let line = RedactingStderr.make_writer();
        assert_eq!(line.0.capacity(), 0, "a new thread starts without one");
        let mut line = line;
        line.write_all(b"").unwrap();
        line.0.reserve(100);
        let kept = line.0.capacity();
        drop(line);
        let again = RedactingStderr.make_writer();
        assert!(again.0.capacity() >= kept && again.0.is_empty());
        drop(again);
        let mut big = RedactingStderr.make_writer();
        big.0.reserve(KEPT_LINE_BYTES * 2);
        drop(big);
        assert!(RedactingStderr.make_writer().0.capacity() <= KEPT_LINE_BYTES);
    }
}
