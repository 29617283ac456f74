//! HTML escaping for everything this crate writes into a page.

use std::fmt::Write;

/// Escapes `text` for HTML element content and quoted attribute values
/// (`& < > " '`).
///
/// ```
/// assert_eq!(axes_axum::escape_html("<b>\"O'Neil\" & co</b>"),
///            "&lt;b&gt;&quot;O&#39;Neil&quot; &amp; co&lt;/b&gt;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_escaped(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped as by [`escape_html`].
pub fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than whitespace have no business in a
            // page; show them as numeric references rather than raw bytes.
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape_html("a'b&c"), "a&#39;b&amp;c");
        assert_eq!(escape_html("nul\0bell\u{7}"), "nul&#0;bell&#7;");
        assert_eq!(escape_html("plain ünïcode"), "plain ünïcode");
    }
}
