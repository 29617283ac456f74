//! The periodic purge of `axes serve` and `axes demo`: every
//! `--purge-interval`, the attempt records whose cool-off has passed are
//! deleted ([`Axes::purge_expired`]), so that a flood of clients whose
//! failures expire leaves nothing behind. Each run is bounded work per turn
//! of the store's lock: the stores delete in batches.

use std::time::Duration;

use axes_core::Axes;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// The longest interval accepted.
const MAX_INTERVAL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The flag of `axes serve` and `axes demo`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PurgeArgs {
    /// Delete the attempt records whose cool-off has passed this often
    /// (`0` turns the periodic purge off; `axes purge` does it once)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_interval)]
    pub purge_interval: Duration,
}

impl Default for PurgeArgs {
    fn default() -> Self {
        Self {
            purge_interval: Duration::from_secs(300),
        }
    }
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e} (expected a duration such as 5m, 30s or 1h; 0 = off)"))?;
    if d < Duration::from_secs(1) && !d.is_zero() {
        return Err("must be at least 1s (or 0 for off)".into());
    }
    if d > MAX_INTERVAL {
        return Err("must be at most 7 days".into());
    }
    Ok(d)
}

/// Starts the periodic purge (none when the interval is zero, or without a
/// cool-off — `cooloff_time`, or one on every layered rule: nothing ever
/// expires then). The task runs until aborted or
/// the runtime stops.
pub fn spawn(axes: Axes, args: &PurgeArgs) -> Option<JoinHandle<()>> {
    let every = args.purge_interval;
    if every.is_zero() || axes.purge_window().is_none() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match axes.purge_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!("axes: {n} expired attempts removed"),
                Err(e) => tracing::warn!("axes: periodic purge failed: {e}"),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use axes_core::{Attempt, ManualClock, MemoryStore, Settings, Store};

    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("0"), Ok(Duration::ZERO));
        assert!(parse_interval("10ms").is_err());
        assert!(parse_interval("30d").is_err());
        assert!(parse_interval("soon").is_err());
    }

    fn engine(cooloff: Option<Duration>, clock: &ManualClock) -> (Axes, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::new());
        let axes = Axes::builder(Settings {
            cooloff_time: cooloff,
            ..Settings::default()
        })
        .store(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
        (axes, store)
    }

    /// Expired records go on the next tick, without anyone asking.
    #[tokio::test(flavor = "current_thread")]
    async fn purges_expired_records_periodically() {
        let clock = ManualClock::new(chrono::Utc::now());
        let (axes, store) = engine(Some(Duration::from_secs(60)), &clock);
        for i in 0..20u8 {
            let a = Attempt::new().ip_address([192, 0, 2, i].into());
            axes.begin(&a).await.unwrap().failed().await;
        }
        assert_eq!(store.len(), 20);
        clock.advance(chrono::Duration::seconds(61));
        let task = spawn(
            axes.clone(),
            &PurgeArgs {
                purge_interval: Duration::from_secs(1),
            },
        )
        .unwrap();
        // Waits for the purge (a bound, not a speed: a tick is 1 s).
        for _ in 0..100 {
            if store.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        task.abort();
        assert!(store.is_empty(), "{} records left", store.len());
        assert_eq!(store.kind(), "memory");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn off_without_interval_or_cooloff() {
        let clock = ManualClock::new(chrono::Utc::now());
        let (axes, _) = engine(Some(Duration::from_secs(60)), &clock);
        let off = PurgeArgs {
            purge_interval: Duration::ZERO,
        };
        assert!(spawn(axes, &off).is_none());
        let (axes, _) = engine(None, &clock);
        assert!(spawn(axes, &PurgeArgs::default()).is_none());
    }

    /// Layered rules have no `cooloff_time`: their own cool-offs decide.
    #[tokio::test(flavor = "current_thread")]
    async fn on_with_layered_rules_that_expire() {
        let rules = |text: &str| {
            Axes::builder(Settings {
                lockout_rules: axes_core::rules::parse_rules_env(text).unwrap(),
                ..Settings::default()
            })
            .store(Arc::new(MemoryStore::new()))
            .build()
            .unwrap()
        };
        let task = spawn(
            rules("ip_address:100/1d, username:5/15m"),
            &PurgeArgs::default(),
        );
        assert!(task.as_ref().is_some());
        if let Some(t) = task {
            t.abort();
        }
        assert!(
            spawn(
                rules("ip_address:100/1d, username:5"),
                &PurgeArgs::default()
            )
            .is_none()
        );
    }
}
