//! `normalize_username` and `bounded`.
//!
//! What must hold, for any text:
//! - `normalize_username` never panics and is idempotent:
//!   `normalize(normalize(x)) == normalize(x)`. Resets and list filters
//!   normalise what the operator types, so a stored (normalised) username
//!   that does not normalise to itself cannot be reset by name; and two
//!   spellings of one name would be counted apart.
//! - Its result has no blanks at either end.
//! - `bounded(x, max)` keeps at most `max` characters, no NUL, and is a
//!   prefix of `x` without its NULs.

#![no_main]

use axes_core::identity::{MAX_FIELD_CHARS, bounded, normalize_username};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::UnicodeNormalization;

fuzz_target!(|text: &str| {
    let once = normalize_username(text);
    let twice = normalize_username(&once);
    assert_eq!(once.trim(), once, "blanks at the ends");

    // Idempotent (the fixed bug: lowercasing after NFKC left text NFKC
    // changes again, e.g. "\u{130}\u{316}" (İ̖) -> "i\u{307}\u{316}" ->
    // "i\u{316}\u{307}").
    assert_eq!(
        once, twice,
        "normalize_username is not idempotent on {text:?}"
    );
    assert_eq!(once.nfkc().collect::<String>(), once, "not in NFKC");

    // The username as stored (see engine::prepare): bounded either side.
    let stored = bounded(
        &normalize_username(&bounded(text, MAX_FIELD_CHARS)),
        MAX_FIELD_CHARS,
    );
    assert!(stored.chars().count() <= MAX_FIELD_CHARS);
    assert!(!stored.contains('\0'));

    let without_nul: String = text.chars().filter(|c| *c != '\0').collect();
    for max in [0, 1, 2, 7, 64, MAX_FIELD_CHARS, text.chars().count() / 2] {
        let b = bounded(text, max);
        assert!(b.chars().count() <= max, "bounded({text:?}, {max}) = {b:?}");
        assert!(!b.contains('\0'));
        assert!(without_nul.starts_with(&b));
        assert_eq!(b.chars().count(), without_nul.chars().count().min(max));
    }
});
