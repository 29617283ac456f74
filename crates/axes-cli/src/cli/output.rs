//! What the command prints: result lines on stdout, error messages on
//! stderr, and keeping secrets out of both.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::OnceLock;

use axes_core::Settings;

/// `N attempts removed.` or `No attempts found.` (the grammar of django-axes,
/// `1 attempts removed.` included).
pub fn attempts_removed(n: u64) -> String {
    if n == 0 {
        "No attempts found.".to_owned()
    } else {
        format!("{n} attempts removed.")
    }
}

/// `N expired attempts removed.` (SPEC §7: `0 expired attempts removed.`
/// too).
pub fn expired_removed(n: u64) -> String {
    format!("{n} expired attempts removed.")
}

/// `N logs removed.` or `No logs found.`.
pub fn logs_removed(n: u64) -> String {
    if n == 0 {
        "No logs found.".to_owned()
    } else {
        format!("{n} logs removed.")
    }
}

/// Writes lines to stdout. A closed pipe (`axes list | head`) ends the
/// output quietly instead of failing.
#[derive(Debug)]
pub struct Out {
    inner: io::BufWriter<io::StdoutLock<'static>>,
    closed: bool,
}

impl Out {
    /// Locks stdout.
    pub fn new() -> Self {
        Self {
            inner: io::BufWriter::new(io::stdout().lock()),
            closed: false,
        }
    }

    /// Writes `text` and a newline.
    pub fn line(&mut self, text: &str) -> io::Result<()> {
        self.write(text)?;
        self.write("\n")
    }

    /// Writes `text` as is.
    pub fn write(&mut self, text: &str) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.guard(|w| w.write_all(text.as_bytes()))
    }

    /// Whether the reader went away.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Flushes the buffer.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.guard(|w| w.flush())
    }

    fn guard(
        &mut self,
        f: impl FnOnce(&mut io::BufWriter<io::StdoutLock<'static>>) -> io::Result<()>,
    ) -> io::Result<()> {
        match f(&mut self.inner) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

/// Prints one line on stdout.
pub fn print_line(text: &str) -> io::Result<()> {
    let mut out = Out::new();
    out.line(text)?;
    out.flush()
}

/// Makes a stored value safe to print on a terminal: control characters
/// (tabs, newlines, escape sequences an attacker may have typed as a
/// username) are shown escaped, so every record stays on one line and cannot
/// move the cursor or recolour the operator's terminal.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Secret strings to keep out of messages and logs.
static SECRETS: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// Secrets shorter than this are not replaced inside other text (replacing
/// a one-letter password would garble every message); the URLs that hold
/// them still are.
const MIN_SECRET_LEN: usize = 4;

/// Registers the secrets of `settings` (URL passwords, tokens, keys), so that
/// [`redact`] removes them from every message and log line.
pub fn register_secrets(settings: &Settings) {
    let _ = SECRETS.set(secret_pairs(settings));
}

/// The (secret, shown instead) pairs of `settings`, longest first.
fn secret_pairs(settings: &Settings) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for url in [settings.database_url.expose(), settings.cache_url.expose()] {
        let shown = display_url(url);
        if shown != url {
            pairs.push((url.to_owned(), shown));
        }
        if let Some(password) = url_password(url) {
            for form in [password.clone(), percent_decode(&password)] {
                if form.len() >= MIN_SECRET_LEN {
                    pairs.push((form, "[redacted]".to_owned()));
                }
            }
        }
    }
    // Every other secret setting, as the definition marks them (the URLs,
    // handled above, are shown without their password instead).
    let urls = [settings.database_url.expose(), settings.cache_url.expose()];
    for secret in settings.secret_values() {
        if secret.len() >= MIN_SECRET_LEN && !urls.contains(&secret) {
            pairs.push((secret.to_owned(), "[redacted]".to_owned()));
        }
    }
    // As JSON log lines (`--log-format json`) write them: `"` and `\`
    // escaped.
    let escaped: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|(secret, shown)| {
            let json = serde_json::to_string(secret).ok()?;
            let inner = json.get(1..json.len().saturating_sub(1))?;
            (inner != secret).then(|| (inner.to_owned(), shown.clone()))
        })
        .collect();
    pairs.extend(escaped);
    // Longest first, so a URL is replaced before the password inside it.
    pairs.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    pairs.dedup();
    pairs
}

/// Removes registered secrets from `text`: whole values only, never a
/// piece of an ordinary word (a secret `short` leaves `shorter` alone).
/// Messages are written never to hold secret values; this is the net
/// under that rule, for text we do not write (a driver's error, say).
pub fn redact(text: &str) -> String {
    redact_cow(text).into_owned()
}

/// [`redact`], without a copy when `text` holds no registered secret (the
/// log writer calls it for every line).
pub fn redact_cow(text: &str) -> Cow<'_, str> {
    match SECRETS.get() {
        // Replacing only ever happens where a secret occurs: text without
        // any comes out of `redact_with` as it went in.
        Some(pairs) if pairs.iter().any(|(s, _)| text.contains(s.as_str())) => {
            Cow::Owned(redact_with(text, pairs))
        }
        _ => Cow::Borrowed(text),
    }
}

fn redact_with(text: &str, pairs: &[(String, String)]) -> String {
    let mut text = text.to_owned();
    for (secret, shown) in pairs {
        if text.contains(secret.as_str()) {
            text = replace_whole(&text, secret, shown);
        }
    }
    text
}

/// Whether `c` continues a word (so a match next to it is part of that word).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Replaces each occurrence of `needle` in `text` that is not inside a longer
/// word: the characters just before and after it (if any) are not letters,
/// digits, `_` or `-`. Overlapping candidates are all considered.
fn replace_whole(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut from) = (0, 0);
    while let Some(offset) = text[from..].find(needle) {
        let start = from + offset;
        let end = start + needle.len();
        let inside_word = text[..start].chars().next_back().is_some_and(is_word_char)
            || text[end..].chars().next().is_some_and(is_word_char);
        if inside_word {
            // Try again one character further: a later match may overlap this one.
            from = start + text[start..].chars().next().map_or(1, char::len_utf8);
        } else {
            out.push_str(&text[copied..start]);
            out.push_str(with);
            copied = end;
            from = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// A URL fit for messages: scheme, user, host and path; the password and
/// the query string (which may hold one) left out.
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // `sqlite:path` and other forms without an authority.
        return strip_query(url).to_owned();
    };
    let rest = strip_query(rest);
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:[redacted]@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let redacted_query = if url.contains('?') { "?…" } else { "" };
    format!("{scheme}://{authority}{path}{redacted_query}")
}

fn strip_query(s: &str) -> &str {
    s.split(['?', '#']).next().unwrap_or(s)
}

fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The message of an error with its causes, each cause once (errors that
/// repeat their source in their own message are not printed twice), with
/// secrets removed.
pub fn error_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    redact(&message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_the_original() {
        assert_eq!(attempts_removed(0), "No attempts found.");
        assert_eq!(attempts_removed(1), "1 attempts removed.");
        assert_eq!(logs_removed(0), "No logs found.");
        assert_eq!(logs_removed(3), "3 logs removed.");
    }

    /// JSON log lines escape `"` and `\\`: the escaped form is removed too.
    #[test]
    fn secrets_are_removed_from_json_log_lines_too() {
        let token = r#"tok"en\with-quotes-0123"#;
        let settings = Settings {
            api_token: Some(axes_core::Secret::new(token)),
            ..Settings::default()
        };
        let line = serde_json::json!({ "message": format!("token {token} seen") }).to_string();
        assert!(!line.contains(token), "{line}");
        let redacted = redact_with(&line, &secret_pairs(&settings));
        assert_eq!(redacted, r#"{"message":"token [redacted] seen"}"#);
    }

    #[test]
    fn urls_lose_passwords_and_queries() {
        assert_eq!(
            display_url("postgres://axes:hunter2@db:5432/axes?sslmode=require"),
            "postgres://axes:[redacted]@db:5432/axes?…"
        );
        assert_eq!(display_url("sqlite://axes.db"), "sqlite://axes.db");
        assert_eq!(display_url("sqlite:axes.db?mode=rwc"), "sqlite:axes.db");
        assert_eq!(display_url("redis://:pw@h/0"), "redis://:[redacted]@h/0");
        assert_eq!(
            url_password("mysql://u:p%40ss@h/db").as_deref(),
            Some("p%40ss")
        );
        assert_eq!(percent_decode("p%40ss"), "p@ss");
    }

    /// A secret that occurs inside ordinary words is replaced only where it
    /// stands alone: `serve` used to say "secret_key is [redacted]er than
    /// 16 bytes" for the secret `short`.
    #[test]
    fn secrets_are_replaced_as_whole_values_only() {
        let message = "secret_key is shorter than 16 bytes; api_token is short, key: token";
        let with_token = |token: &str| {
            let settings = Settings {
                api_token: Some(axes_core::Secret::new(token)),
                ..Settings::default()
            };
            redact_with(message, &secret_pairs(&settings))
        };
        // Too short to be replaced anywhere ("is", "key"), only inside words
        // ("token" in "api_token"), or whole values only ("short").
        assert_eq!(with_token("is"), message);
        assert_eq!(with_token("key"), message);
        assert_eq!(
            with_token("token"),
            "secret_key is shorter than 16 bytes; api_token is short, key: [redacted]"
        );
        assert_eq!(
            with_token("short"),
            "secret_key is shorter than 16 bytes; api_token is [redacted], key: token"
        );
        let settings = Settings {
            database_url: axes_core::Secret::new("postgres://axes:hunter2@db/axes"),
            ..Settings::default()
        };
        assert_eq!(
            redact_with(
                "postgres://axes:hunter2@db/axes refused axes:hunter2@db: hunter2 hunter22",
                &secret_pairs(&settings)
            ),
            "postgres://axes:[redacted]@db/axes refused axes:[redacted]@db: [redacted] hunter22"
        );
        let pairs = vec![("!!".to_owned(), "[redacted]".to_owned())];
        // Overlapping candidates: the standalone one is still found.
        assert_eq!(redact_with("x!!! !!", &pairs), "x![redacted] [redacted]");
        let pairs = vec![("short".to_owned(), "[redacted]".to_owned())];
        assert_eq!(redact_with("ünïcode short", &pairs), "ünïcode [redacted]");
        assert_eq!(replace_whole("abc", "", "x"), "abc");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("alice"), "alice");
        assert_eq!(printable("a\tb\n\u{1b}[31m"), "a\\tb\\n\\u{1b}[31m");
    }
}
