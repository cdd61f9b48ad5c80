//! Which connections the brokers take, across the whole cluster: Kafka's
//! `max.connections.per.ip`, and a budget of file descriptors so that clients can never
//! take the last ones.
//!
//! Every broker of a cluster lives in one process, so they share its descriptor limit
//! (`RLIMIT_NOFILE`). Without a budget, a flood of connections leaves the process unable
//! to open anything: new clients time out on every broker, the control API cannot accept,
//! and accept loops fail as fast as they retry. With it, brokers stop accepting (as at
//! `max.connections`: new connections wait in the listen backlog) while
//! [`RESERVED_DESCRIPTORS`] stay free for the control API, log files and the cluster's
//! own work, and accept again as soon as a connection closes.
//!
//! Decoding a request can take much more memory than its bytes: an array element of one
//! byte on the wire becomes a struct of tens of bytes. A request of more than
//! [`BUDGETED_FRAME`] bytes therefore first reserves [`AMPLIFICATION`] times its size from
//! the cluster's request memory budget, and keeps it until it is answered: large requests
//! wait for each other (first come, first served) instead of together exhausting memory,
//! and one whose estimate exceeds the whole budget is refused. Smaller requests, what
//! clients send almost always, never wait.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Descriptors the brokers leave for everything else in the process.
pub(crate) const RESERVED_DESCRIPTORS: usize = 128;

/// Requests above this size reserve memory from the budget before they are decoded.
pub(crate) const BUDGETED_FRAME: usize = 256 * 1024;

/// Memory a request may take once decoded, per byte of it: the largest ratio of an
/// element's size in memory to its smallest encoding, among the messages broker-sim
/// decodes, rounded up.
pub(crate) const AMPLIFICATION: usize = 40;

/// The cluster's connection accounting, shared by every broker's accept loop.
pub(crate) struct Admission {
    open: AtomicUsize,
    /// How many connections all brokers may hold together.
    budget: usize,
    max_per_ip: Option<usize>,
    by_ip: Mutex<HashMap<IpAddr, usize>>,
    freed: Notify,
    /// The request memory budget, in KiB.
    decoding: std::sync::Arc<tokio::sync::Semaphore>,
    decoding_kib: usize,
}

/// A connection's place in the accounting, given back when the connection ends.
pub(crate) struct Ticket {
    admission: std::sync::Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    pub fn new(limits: &crate::security::ConnectionLimits) -> Self {
        let budget = descriptor_limit().map_or(usize::MAX, |limit| {
            limit.saturating_sub(RESERVED_DESCRIPTORS).max(1)
        });
        let decoding_kib = (limits.request_memory_budget / 1024).clamp(
            1,
            tokio::sync::Semaphore::MAX_PERMITS.min(u32::MAX as usize),
        );
        Admission {
            open: AtomicUsize::new(0),
            budget,
            max_per_ip: limits.max_per_ip,
            by_ip: Mutex::new(HashMap::new()),
            freed: Notify::new(),
            decoding: std::sync::Arc::new(tokio::sync::Semaphore::new(decoding_kib)),
            decoding_kib,
        }
    }

    /// Reserves what decoding a request of `frame_bytes` may take, waiting for other large
    /// requests to finish if need be; `Ok(None)` for a small request, which needs nothing.
    /// `Err` says why the request can never be decoded here.
    pub async fn reserve_decoding(
        &self,
        frame_bytes: usize,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, String> {
        if frame_bytes <= BUDGETED_FRAME {
            return Ok(None);
        }
        let kib = frame_bytes.saturating_mul(AMPLIFICATION).div_ceil(1024);
        if kib > self.decoding_kib {
            return Err(format!(
                "a request of {frame_bytes} bytes may take {} MiB to decode, more than the \
                 request memory budget of {} MiB",
                kib / 1024,
                self.decoding_kib / 1024
            ));
        }
        let permit = self
            .decoding
            .clone()
            .acquire_many_owned(kib as u32)
            .await
            .map_err(|_| "the request memory budget is closed".to_string())?;
        Ok(Some(permit))
    }

    /// Whether the brokers together hold as many connections as the process can afford.
    pub fn full(&self) -> bool {
        self.open.load(Ordering::Relaxed) >= self.budget
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Resolves when a connection anywhere in the cluster closes.
    pub async fn freed(&self) {
        self.freed.notified().await
    }

    /// Counts a new connection from `ip`, or says why it must be closed at once.
    pub fn admit(self: &std::sync::Arc<Self>, ip: IpAddr) -> Result<Ticket, String> {
        let mut by_ip = self.by_ip.lock().unwrap_or_else(|e| e.into_inner());
        let count = by_ip.entry(ip).or_default();
        if let Some(max) = self.max_per_ip
            && *count >= max
        {
            return Err(format!(
                "too many connections from {ip}: max.connections.per.ip is {max}"
            ));
        }
        *count += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(Ticket {
            admission: self.clone(),
            ip,
        })
    }
}

impl Ticket {
    /// The accounting this connection counts in.
    pub fn admission(&self) -> &Admission {
        &self.admission
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut by_ip = self
            .admission
            .by_ip
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = by_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                by_ip.remove(&self.ip);
            }
        }
        drop(by_ip);
        self.admission.open.fetch_sub(1, Ordering::Relaxed);
        self.admission.freed.notify_waiters();
    }
}

/// The process's soft limit on open descriptors, where the platform has one.
fn descriptor_limit() -> Option<usize> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct it is given and nothing else.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        if got == 0 && limit.rlim_cur != libc::RLIM_INFINITY {
            return usize::try_from(limit.rlim_cur).ok();
        }
        None
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_per_address_are_counted_until_they_close() {
        let limits = crate::security::ConnectionLimits {
            max_per_ip: Some(2),
            ..Default::default()
        };
        let admission = std::sync::Arc::new(Admission::new(&limits));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let first = admission.admit(ip).unwrap();
        let _second = admission.admit(ip).unwrap();
        assert!(admission.admit(ip).is_err());
        assert!(
            admission.admit(other).is_ok(),
            "another address has its own count"
        );
        drop(first);
        assert!(admission.admit(ip).is_ok());
        assert!(admission.budget() > 0);
    }

    #[tokio::test]
    async fn large_requests_reserve_memory_and_one_beyond_the_budget_is_refused() {
        let limits = crate::security::ConnectionLimits {
            request_memory_budget: 64 << 20,
            ..Default::default()
        };
        let admission = Admission::new(&limits);
        assert!(admission.reserve_decoding(1000).await.unwrap().is_none());
        let held = admission.reserve_decoding(1 << 20).await.unwrap().unwrap();
        assert_eq!(held.num_permits(), 40 * 1024);
        assert!(
            admission.reserve_decoding(2 << 20).await.is_err(),
            "80 MiB > 64 MiB"
        );
    }
}
