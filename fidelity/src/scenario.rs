//! A scenario: a sequence of requests, each sent to both clusters, whose answers are
//! compared. Every name a scenario uses starts with its prefix, so scenarios share one
//! reference Kafka without seeing each other (broker-sim is fresh for each).

use kafka_protocol::messages::{ApiKey, RequestKind, ResponseKind};

pub struct Scenario {
    /// Stable and unique: `api/vN/what`.
    pub id: String,
    /// The API under test, for the per-API table.
    pub api: ApiKey,
    /// The prefix of every topic and group name the scenario uses.
    pub prefix: String,
    pub steps: Vec<Step>,
}

pub struct Step {
    pub key: ApiKey,
    pub version: i16,
    pub request: RequestKind,
    /// Send again (up to a deadline) until the answer satisfies this, then compare the last
    /// answer. For what Kafka settles asynchronously and broker-sim at once: a new topic's
    /// leaders, the group coordinator's internal topic.
    pub until: Option<fn(&ResponseKind) -> bool>,
    /// Setup steps are sent to both but not compared (their own scenarios compare them).
    pub compared: bool,
    /// For requests that give a topic by id: sets the id of the topic this cluster made
    /// last (from the latest CreateTopics or Metadata answer), which differs per cluster.
    pub by_id: Option<fn(&mut RequestKind, uuid::Uuid)>,
}

impl Step {
    pub fn new(key: ApiKey, version: i16, request: impl Into<RequestKind>) -> Step {
        Step {
            key,
            version,
            request: request.into(),
            until: None,
            compared: true,
            by_id: None,
        }
    }

    pub fn until(mut self, done: fn(&ResponseKind) -> bool) -> Step {
        self.until = Some(done);
        self
    }

    pub fn by_id(mut self, set: fn(&mut RequestKind, uuid::Uuid)) -> Step {
        self.by_id = Some(set);
        self
    }

    pub fn setup(mut self) -> Step {
        self.compared = false;
        self
    }
}
