//! Events delivered to in-process subscribers.

use std::fmt;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What happened. When each fires:
///
/// - `login_failed`: wrong credentials were given by a counted client.
/// - `locked_out`: a failure reached the limit, or a locked-out, blocked,
///   deny-listed or not-allow-listed client was refused (also with
///   `hide_lockout`); `retry_after` is the real time left (progressive
///   cool-off included).
/// - `logged_in`, `logged_out`: a successful login and a logout reported
///   to the engine.
/// - `reset`: attempt records were deleted by an operator — [`Axes::reset`]
///   (CLI `reset*`, admin unlock, service API `DELETE /api/v1/attempts`) or
///   [`Axes::delete_attempts`] (admin selection); `username` and
///   `ip_address` are the filter (absent: any), `removed` how many records
///   went. Fires once per call, also when nothing was removed.
/// - `unlocked`: such a reset lifted the lockout of a client: one event per
///   client that was locked out just before and is not just after (looked
///   at for at most [`UNLOCK_SCAN`] matching records per reset).
/// - `expired`: [`Axes::purge_expired`] deleted a record whose cool-off had
///   passed and whose own failures had reached the limit (so it locked its
///   client out on every alternative until it expired); at most
///   [`UNLOCK_SCAN`] per purge. Lockouts made of several records below the
///   limit each lift silently.
/// - `blocked`, `unblocked`: an operator set a manual block ([`Axes::block`])
///   or lifted one ([`Axes::unblock`], only when there was one);
///   `ip_address` and `username` are the block's target (absent: not part
///   of it), `retry_after` the seconds until a `blocked` block ends
///   (absent: until unblocked). Attempts a block refuses are `locked_out`
///   events.
///
/// [`Axes::reset`]: crate::Axes::reset
/// [`Axes::delete_attempts`]: crate::Axes::delete_attempts
/// [`Axes::purge_expired`]: crate::Axes::purge_expired
/// [`Axes::block`]: crate::Axes::block
/// [`Axes::unblock`]: crate::Axes::unblock
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Wrong credentials were given.
    LoginFailed,
    /// A client was refused (or reached the limit).
    LockedOut,
    /// A client logged in.
    LoggedIn,
    /// A client logged out.
    LoggedOut,
    /// An operator deleted attempt records (see `removed`).
    Reset,
    /// An operator's reset lifted a client's lockout.
    Unlocked,
    /// A purge deleted a record that was locking its client out.
    Expired,
    /// An operator blocked an IP address, a username or the pair.
    Blocked,
    /// An operator lifted a block.
    Unblocked,
}

impl EventKind {
    /// Every kind. Adding a variant breaks the match of
    /// [`EventKind::as_str`]: add it here too.
    pub const ALL: &'static [EventKind] = &[
        EventKind::LoginFailed,
        EventKind::LockedOut,
        EventKind::LoggedIn,
        EventKind::LoggedOut,
        EventKind::Reset,
        EventKind::Unlocked,
        EventKind::Expired,
        EventKind::Blocked,
        EventKind::Unblocked,
    ];

    /// The snake_case name (as serialised: `locked_out`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LoginFailed => "login_failed",
            EventKind::LockedOut => "locked_out",
            EventKind::LoggedIn => "logged_in",
            EventKind::LoggedOut => "logged_out",
            EventKind::Reset => "reset",
            EventKind::Unlocked => "unlocked",
            EventKind::Expired => "expired",
            EventKind::Blocked => "blocked",
            EventKind::Unblocked => "unblocked",
        }
    }

    /// The kind named `name` (snake_case).
    pub fn from_name(name: &str) -> Option<EventKind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}
/// The most records looked at per reset or purge for `unlocked` and
/// `expired` events (each costs a store call).
pub const UNLOCK_SCAN: u64 = 100;

/// One event. The IP is absent when `store_ip_address` is off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The normalised username.
    pub username: Option<String>,
    /// The canonical IP (never set when IPs are not stored).
    pub ip_address: Option<String>,
    /// The request path.
    pub path: String,
    /// Failures counted for the client after this event.
    pub failures: u32,
    /// The failure limit that applies to the client.
    pub failure_limit: u32,
    /// For `locked_out`: seconds until the lockout lifts (rounded up);
    /// `None` when it lasts until a reset, and for other events.
    pub retry_after: Option<u64>,
    /// For `locked_out`: the attempt was refused before its credentials
    /// were checked (already locked out, or a deny list), rather than
    /// being the failure that reached the limit.
    pub refused: bool,
    /// When.
    pub time: DateTime<Utc>,
    /// For `reset`: how many attempt records were deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<u64>,
}

type Subscriber = Arc<dyn Fn(&Event) + Send + Sync>;

/// Subscribers to events; cheap to clone, shared.
#[derive(Clone, Default)]
pub(crate) struct EventBus {
    subscribers: Arc<RwLock<Vec<Subscriber>>>,
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.subscribers.read().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("EventBus").field("subscribers", &n).finish()
    }
}

impl EventBus {
    pub(crate) fn subscribe(&self, f: Subscriber) {
        self.subscribers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(f);
    }

    /// Whether anyone listens (events are not even built otherwise).
    pub(crate) fn has_subscribers(&self) -> bool {
        self.subscribers
            .read()
            .map(|s| !s.is_empty())
            .unwrap_or(true)
    }

    pub(crate) fn emit(&self, event: Event) {
        let subs = self.subscribers.read().unwrap_or_else(|e| e.into_inner());
        for s in subs.iter() {
            s(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn names_are_the_serialised_names_and_round_trip() {
        for kind in EventKind::ALL {
            let serialised = toml::Value::try_from(kind).ok();
            assert_eq!(serialised, Some(toml::Value::String(kind.as_str().into())));
            assert_eq!(EventKind::from_name(kind.as_str()), Some(*kind));
        }
        assert_eq!(EventKind::from_name("LockedOut"), None);
    }
}
