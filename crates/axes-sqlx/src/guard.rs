//! A pooled connection that is closed, not reused, unless released cleanly.

use std::ops::{Deref, DerefMut};

use sqlx::Database;
use sqlx::pool::PoolConnection;

/// Holds a pooled connection while it carries session state that must not
/// leak to the next user of the pool (session-level locks, an open
/// transaction). If the holder is dropped before [`CloseGuard::release`] —
/// an error, or a cancelled future — the connection is closed, which makes
/// the server drop that state.
#[derive(Debug)]
pub(crate) struct CloseGuard<DB: Database> {
    conn: Option<PoolConnection<DB>>,
}

impl<DB: Database> CloseGuard<DB> {
    pub(crate) fn new(conn: PoolConnection<DB>) -> Self {
        Self { conn: Some(conn) }
    }

    /// The session is clean again: return the connection to the pool.
    pub(crate) fn release(mut self) {
        drop(self.conn.take());
    }
}

impl<DB: Database> Deref for CloseGuard<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        match &self.conn {
            Some(c) => c,
            // Only `release` and `drop` take the connection, and both consume the guard.
            None => unreachable!("connection taken from a live guard"),
        }
    }
}

impl<DB: Database> DerefMut for CloseGuard<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.conn {
            Some(c) => c,
            None => unreachable!("connection taken from a live guard"),
        }
    }
}

impl<DB: Database> Drop for CloseGuard<DB> {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.close_on_drop();
        }
    }
}
