//! The cluster's notion of "now".
//!
//! Every timestamp the broker writes or compares (log-append time, timestamp lookups,
//! later session timeouts and retention) is read from here rather than from the system
//! clock directly, so that a manual clock can replace it without touching the handlers.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// Wall-clock time.
    #[default]
    System,
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        }
    }
}
