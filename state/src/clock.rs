//! The cluster's notion of "now".
//!
//! Every timestamp the broker writes or compares (log-append time, timestamp lookups,
//! session and rebalance timeouts, replication lag, retention) is read from here rather
//! than from the system clock, so a test can replace it with a manual clock that moves
//! only when told (`Cluster::advance`): a session then expires the instant the
//! test says so, never because CI was slow.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// Wall-clock time.
    #[default]
    System,
    /// Milliseconds since the Unix epoch, moved only by `advance`.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock reading `start_ms`.
    pub fn manual(start_ms: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Wall-clock milliseconds since the Unix epoch.
    pub fn system_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => Self::system_ms(),
            Clock::Manual(now) => now.load(Ordering::SeqCst),
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }

    /// Moves a manual clock forward; returns the new reading, or `None` for the system
    /// clock, which cannot be moved.
    pub fn advance(&self, ms: i64) -> Option<i64> {
        match self {
            Clock::System => None,
            Clock::Manual(now) => Some(now.fetch_add(ms.max(0), Ordering::SeqCst) + ms.max(0)),
        }
    }
}
