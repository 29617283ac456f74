//! The Lua scripts (in `src/lua/`), each prefixed with the shared helpers.
//!
//! They run with `EVALSHA` through [`redis::Script`], which loads a script
//! again when the server answers `NOSCRIPT` (after a restart or
//! `SCRIPT FLUSH`). A script runs atomically, which is what makes
//! [`reserve`](axes_core::store::Store::reserve) exact under concurrency.
//!
//! The scripts build record and row key names from a prefix and ids they
//! read, so they need a single Redis server (or a proxy that sends the whole
//! prefix to one shard), not Redis Cluster.

use std::sync::LazyLock;

use redis::Script;

macro_rules! script {
    ($($file:literal),+) => {
        LazyLock::new(|| {
            Script::new(concat!(include_str!("lua/lib.lua"), $(include_str!(concat!("lua/", $file))),+))
        })
    };
}

/// Looks the blocks up, counts the alternatives, decides, and adds the failure.
pub(crate) static RESERVE: LazyLock<Script> = script!(
    "block_check.lua",
    "reserve_block.lua",
    "count.lua",
    "reserve.lua"
);
/// Counts the alternatives and looks the blocks up.
pub(crate) static FAILURES: LazyLock<Script> =
    script!("block_check.lua", "count.lua", "failures.lua");
/// Gives back one failure.
pub(crate) static RELEASE: LazyLock<Script> = script!("release.lua");
/// One batch of a reset, clear or purge.
pub(crate) static DELETE_MATCHING: LazyLock<Script> = script!("delete_matching.lua");
/// Deletes attempt records by id.
pub(crate) static DELETE_IDS: LazyLock<Script> = script!("delete_ids.lua");
/// Appends a log row and applies the per-username cap.
pub(crate) static LOG_INSERT: LazyLock<Script> = script!("log_insert.lua");
/// Deletes log rows by member.
pub(crate) static LOG_DELETE: LazyLock<Script> = script!("log_delete.lua");
/// Closes open access-log rows.
pub(crate) static LOG_CLOSE: LazyLock<Script> = script!("log_close.lua");
/// Sets a block row whole, or compare-and-sets it (record_lockout).
pub(crate) static BLOCK_WRITE: LazyLock<Script> = script!("block_write.lua");
/// Deletes one block row.
pub(crate) static BLOCK_REMOVE: LazyLock<Script> = script!("block_remove.lua");
/// One batch of a block reset or purge.
pub(crate) static BLOCK_DELETE: LazyLock<Script> = script!("block_delete.lua");
