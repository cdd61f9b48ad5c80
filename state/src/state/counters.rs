//! Traffic counters per partition, and what the inspection API and `/metrics` show of
//! them.
//!
//! Users check throughput and consumer lag against a real cluster through Kafka's broker
//! metrics (`MessagesInPerSec`, `BytesInPerSec`, `BytesOutPerSec` per topic) and an
//! exporter's lag gauges; a test against broker-sim reads the same totals from
//! `Cluster::topic_stats`, and a Prometheus scraping the binary gets them as
//! counters. Rates are left to the reader: the counters only ever grow, as Kafka's do, and
//! a rate is the difference of two readings.

/// One partition's running totals. Appends count what entered the log (a retried
/// idempotent batch the log already holds counts once); fetches count whole batches handed
/// to consumers, as they go on the wire, including records before the fetch offset that
/// share a batch with it.
#[derive(Debug, Default)]
pub struct Counters {
    records_in: u64,
    bytes_in: u64,
    records_out: u64,
    bytes_out: u64,
}

impl Counters {
    pub fn appended(&mut self, records: u64, bytes: u64) {
        self.records_in += records;
        self.bytes_in += bytes;
    }

    pub fn fetched(&mut self, records: u64, bytes: u64) {
        self.records_out += records;
        self.bytes_out += bytes;
    }

    pub fn snapshot(&self, partition: i32) -> PartitionStats {
        PartitionStats {
            partition,
            records_in: self.records_in,
            bytes_in: self.bytes_in,
            records_out: self.records_out,
            bytes_out: self.bytes_out,
        }
    }
}

/// A topic's traffic since it was created, as `Cluster::topic_stats` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicStats {
    pub topic: String,
    /// Records appended (produced or seeded), summed over partitions.
    pub records_in: u64,
    /// Bytes of the record batches appended.
    pub bytes_in: u64,
    /// Records in the batches Fetch returned.
    pub records_out: u64,
    /// Bytes of the record batches Fetch returned.
    pub bytes_out: u64,
    /// The same per partition, in partition order.
    pub partitions: Vec<PartitionStats>,
}

impl TopicStats {
    pub fn new(topic: &str, partitions: Vec<PartitionStats>) -> Self {
        let sum = |f: fn(&PartitionStats) -> u64| partitions.iter().map(f).sum();
        TopicStats {
            topic: topic.to_string(),
            records_in: sum(|p| p.records_in),
            bytes_in: sum(|p| p.bytes_in),
            records_out: sum(|p| p.records_out),
            bytes_out: sum(|p| p.bytes_out),
            partitions,
        }
    }
}

/// One partition's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionStats {
    pub partition: i32,
    pub records_in: u64,
    pub bytes_in: u64,
    pub records_out: u64,
    pub bytes_out: u64,
}
