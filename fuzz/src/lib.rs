//! Helpers shared by the fuzz targets.
//!
//! # Known bugs
//!
//! Some targets found bugs that are not fixed yet. By default a target skips
//! the inputs of a known bug (each skip is one clearly marked `if` in the
//! target, naming the bug), so that long runs look for new ones. Run with
//! `FUZZ_KNOWN_BUGS=1` to check those properties too: once a bug is fixed,
//! that run passes, and its skip can go.

use std::sync::OnceLock;

/// Whether the properties broken by known, unfixed bugs are checked too
/// (`FUZZ_KNOWN_BUGS=1`).
pub fn check_known_bugs() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("FUZZ_KNOWN_BUGS").is_ok_and(|v| !v.is_empty() && v != "0"))
}
