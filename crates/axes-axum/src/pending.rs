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

use axes_core::{Attempt, Ticket};

/// A ticket taken from [`Pending`].
pub(crate) enum Parked {
    /// Taken for the attempt at hand.
    Fresh(Ticket),
    /// Taken for an attempt that has changed since: to be given back.
    Stale(Ticket),
}

/// A parked ticket and the attempt it was taken for.
#[derive(Default)]
pub(crate) struct Pending(Mutex<Option<(Attempt, Ticket)>>);

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pending")
    }
}

impl Pending {
    pub(crate) fn put(&self, attempt: Attempt, ticket: Ticket) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((attempt, ticket));
    }

    /// Takes the parked ticket, telling whether it was taken for `attempt`.
    pub(crate) fn take_for(&self, attempt: &Attempt) -> Option<Parked> {
        let taken = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        taken.map(|(reserved_for, ticket)| {
            if &reserved_for == attempt {
                Parked::Fresh(ticket)
            } else {
                Parked::Stale(ticket)
            }
        })
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
