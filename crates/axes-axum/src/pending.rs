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

use axes_core::{Lockout, Ticket};

use crate::device::Grant;

/// What the layer parked: a ticket, or (with `hide_lockout`) the refusal the
/// handler must answer like a wrong password without checking anything.
pub(crate) type Parked = Result<Ticket, Lockout>;

/// A parked ticket or refusal and the username it was decided for (the rest
/// of the attempt is the request's own, the same for every reader), and the
/// trusted-device token a successful login issued for the response.
#[derive(Default)]
pub(crate) struct Pending {
    parked: Mutex<Option<(Option<String>, Parked)>>,
    device: Grant,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pending")
    }
}

impl Pending {
    pub(crate) fn put(&self, username: Option<String>, parked: Parked) {
        *self.parked.lock().unwrap_or_else(|e| e.into_inner()) = Some((username, parked));
    }

    /// What was parked when it was decided for `username`; a ticket
    /// reserved for another name is given back (nothing counted), a refusal
    /// of another name is dropped (the new name is decided anew).
    pub(crate) async fn take_for(&self, username: Option<&str>) -> Option<Parked> {
        let taken = self.parked.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (decided_for, parked) = taken?;
        if decided_for.as_deref() == username {
            return Some(parked);
        }
        if let Ok(ticket) = parked {
            ticket.abandon().await;
        }
        None
    }

    /// Takes the parked ticket, if any.
    pub(crate) fn take(&self) -> Option<Ticket> {
        self.parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .and_then(|(_, p)| p.ok())
    }

    /// The device token issued for this request's response (`trusted_device`).
    pub(crate) fn device(&self) -> &Grant {
        &self.device
    }
}
