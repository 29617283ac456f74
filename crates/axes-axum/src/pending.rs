//! The admission slot the layer took for a request, waiting for its handler.
//!
//! [`AxesLayer`](crate::AxesLayer) reserves before the handler runs — one
//! store call that both refuses a locked-out client and admits the others —
//! and parks the [`Ticket`] here. The handler's
//! [`AxesAttempt::authenticate`](crate::AxesAttempt::authenticate) takes it
//! (when the attempt is still the one reserved for); a ticket no handler
//! took is given back when the response is ready.

use std::fmt;
use std::sync::Mutex;

use axes_core::Ticket;

/// A parked ticket and the username it was reserved for (the rest of the
/// attempt is the request's own, the same for every reader).
#[derive(Default)]
pub(crate) struct Pending(Mutex<Option<(Option<String>, Ticket)>>);

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pending")
    }
}

impl Pending {
    pub(crate) fn put(&self, username: Option<String>, ticket: Ticket) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((username, ticket));
    }

    /// The parked ticket when it was reserved for `username`; a ticket
    /// reserved for another name is given back (nothing counted).
    pub(crate) async fn take_for(&self, username: Option<&str>) -> Option<Ticket> {
        let taken = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (reserved_for, ticket) = taken?;
        if reserved_for.as_deref() == username {
            return Some(ticket);
        }
        ticket.abandon().await;
        None
    }

    /// Takes whatever is parked.
    pub(crate) fn take(&self) -> Option<Ticket> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .map(|(_, t)| t)
    }
}
