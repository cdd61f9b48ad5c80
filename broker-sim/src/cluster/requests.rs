//! The request log (`crate::request_log`) as the embedding API reads it: what the brokers
//! were asked, by whom, and what they answered.

use super::Cluster;
use crate::request_log::{RequestFilter, RequestLogEntry, RequestLogStatus};

impl Cluster {
    /// The logged requests `filter` selects, oldest first: e.g.
    /// `cluster.requests(&RequestFilter::default().api("Produce").client_id("svc"))`.
    /// The log keeps the last [`ClusterBuilder::request_log_size`](super::ClusterBuilder::request_log_size)
    /// requests answered (10,000 by default).
    pub fn requests(&self, filter: &RequestFilter) -> Vec<RequestLogEntry> {
        self.shared().requests.select(filter)
    }

    /// [`Cluster::requests`] and [`Cluster::request_log_status`] read at one instant, for
    /// a poller: no entry recorded after the selection is counted in `last_seq`.
    pub fn requests_with_status(
        &self,
        filter: &RequestFilter,
    ) -> (Vec<RequestLogEntry>, RequestLogStatus) {
        self.shared().requests.select_with_status(filter)
    }

    /// Empties the request log; returns how many entries it held. Sequence numbers go on
    /// from where they were, and the `dropped` count stays.
    pub fn clear_requests(&self) -> usize {
        self.shared().requests.clear()
    }

    /// The request log's size, fill, entries dropped from the full ring, and last
    /// sequence number.
    pub fn request_log_status(&self) -> RequestLogStatus {
        self.shared().requests.status()
    }
}
