//! Manual blocks: an operator refuses an IP, a username or the pair at once
//! (`axes block`, the admin UI, the service API), until `unblock` or for a
//! while. See [`crate::blocks`].

use std::time::Duration;

use super::Axes;
use crate::blocks::{Block, BlockKind, BlockTarget};
use crate::error::Error;
use crate::store::{ListQuery, Page};

/// The longest `created_by` kept (characters).
const MAX_BY: usize = 64;

impl Axes {
    /// The canonical target of operator-given values: an IP (canonical,
    /// IPv6 by `ipv6_prefix`), a username (normalised), or both (the pair).
    /// Neither, a malformed IP, an empty username, or an IP while
    /// `store_ip_address` is off are input errors.
    pub fn block_target(
        &self,
        ip: Option<&str>,
        username: Option<&str>,
    ) -> Result<BlockTarget, Error> {
        if ip.is_some() && !self.settings().store_ip_address {
            return Err(Error::InvalidInput(
                "store_ip_address = false: axes keeps no IP addresses, so it cannot block one"
                    .into(),
            ));
        }
        let filter = self.reset_filter(ip, username)?;
        BlockTarget::new(filter.ip_address, filter.username, None)
            .ok_or_else(|| Error::InvalidInput("give an IP address, a username, or both".into()))
    }

    /// Blocks `ip`, `username`, or the pair (both given) at once: every
    /// attempt that matches is refused before its credentials are checked,
    /// and nothing is counted, until [`Axes::unblock`] — or for `duration`.
    /// `by` names who set it (kept, bounded, in the block). Setting a block
    /// on a target that has one replaces it.
    pub async fn block(
        &self,
        ip: Option<&str>,
        username: Option<&str>,
        duration: Option<Duration>,
        by: &str,
    ) -> Result<Block, Error> {
        let target = self.block_target(ip, username)?;
        let now = self.now();
        let until = match duration {
            None => None,
            Some(d) if d.is_zero() => {
                return Err(Error::InvalidInput(
                    "a block must last longer than zero".into(),
                ));
            }
            Some(d) => Some(
                chrono::Duration::from_std(d)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .filter(|u| *u - now <= chrono::Duration::days(36_525))
                    .ok_or_else(|| {
                        Error::InvalidInput("a block can last at most 100 years".into())
                    })?,
            ),
        };
        let block = Block {
            kind: BlockKind::Manual,
            target,
            until,
            created_at: now,
            created_by: by
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_BY)
                .collect(),
            lockouts: 0,
        };
        self.call(self.inner.store.put_block(&block)).await?;
        tracing::warn!(
            "axes: blocked {} (by {:?}{})",
            block.target,
            block.created_by,
            match block.until {
                Some(u) => format!(", until {}", u.to_rfc3339()),
                None => String::new(),
            }
        );
        Ok(block)
    }

    /// Lifts the manual block of exactly this target (`ip`, `username`, or
    /// the pair). Whether there was one.
    pub async fn unblock(&self, ip: Option<&str>, username: Option<&str>) -> Result<bool, Error> {
        let target = self.block_target(ip, username)?;
        let removed = self
            .call(self.inner.store.remove_block(BlockKind::Manual, &target))
            .await?;
        if removed {
            tracing::warn!("axes: unblocked {target}");
        }
        Ok(removed)
    }

    /// Lists block rows (manual blocks and lockout history; `kind` narrows),
    /// expired ones included: [`Block::refuses`] tells which refuse now.
    pub async fn list_blocks(
        &self,
        kind: Option<BlockKind>,
        query: &ListQuery,
    ) -> Result<Page<Block>, Error> {
        Ok(self.call(self.inner.store.list_blocks(kind, query)).await?)
    }
}
