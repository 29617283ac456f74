//! Events delivered to in-process subscribers.

use std::fmt;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What happened.
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
}

impl EventKind {
    /// Every kind. Adding a variant breaks the match of
    /// [`EventKind::as_str`]: add it here too.
    pub const ALL: &'static [EventKind] = &[
        EventKind::LoginFailed,
        EventKind::LockedOut,
        EventKind::LoggedIn,
        EventKind::LoggedOut,
    ];

    /// The snake_case name (as serialised: `locked_out`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LoginFailed => "login_failed",
            EventKind::LockedOut => "locked_out",
            EventKind::LoggedIn => "logged_in",
            EventKind::LoggedOut => "logged_out",
        }
    }

    /// The kind named `name` (snake_case).
    pub fn from_name(name: &str) -> Option<EventKind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

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
