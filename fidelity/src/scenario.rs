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
    /// Sent on the SASL_PLAINTEXT listener (the reference Kafka's on its port + 200;
    /// broker-sim's second listener), by a connection that has not logged in.
    pub sasl: bool,
    /// Whether the scenario needs the reference Kafka to run an authorizer (`Some(true)`)
    /// or to run none (`Some(false)`); it is skipped otherwise.
    pub authorizer: Option<bool>,
}

impl Scenario {
    pub fn over_sasl(mut self) -> Scenario {
        self.sasl = true;
        self
    }

    /// Runs only when the reference Kafka does (`true`) or does not (`false`) run an
    /// authorizer.
    pub fn needs_authorizer(mut self, on: bool) -> Scenario {
        self.authorizer = Some(on);
        self
    }
}

pub struct Step {
    pub key: ApiKey,
    pub version: i16,
    /// The version the header announces, when it is not `version` (see
    /// [`Step::announcing`]).
    pub announced: Option<i16>,
    pub request: RequestKind,
    /// Send again (up to a deadline) until the answer satisfies this, then compare the last
    /// answer. For what Kafka settles asynchronously and broker-sim at once: a new topic's
    /// leaders, the group coordinator's internal topic.
    pub until: Option<fn(&ResponseKind) -> bool>,
    /// Setup steps are sent to both but not compared (their own scenarios compare them).
    pub compared: bool,
    /// For requests that carry what an earlier answer of the same cluster said (a topic
    /// id, a member id, a generation), which differs per cluster: sets it.
    pub fill: Option<fn(&mut RequestKind, &Seen)>,
}

/// What a cluster's earlier answers in a scenario said, for [`Step::fill`].
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The id of the topic made last (CreateTopics or Metadata).
    pub topic_id: uuid::Uuid,
    /// The member id and generation (or member epoch) of the latest JoinGroup or
    /// ConsumerGroupHeartbeat answer.
    pub member_id: String,
    pub generation: i32,
    /// The member id and generation of the latest JoinGroup answer alone: a classic
    /// member in a group that also has a member of the new protocol.
    pub classic_member_id: String,
    pub classic_generation: i32,
    /// The producer id and epoch of the latest InitProducerId (or EndTxn v5) answer.
    pub producer_id: i64,
    pub producer_epoch: i16,
}

impl Step {
    pub fn new(key: ApiKey, version: i16, request: impl Into<RequestKind>) -> Step {
        Step {
            key,
            version,
            announced: None,
            request: request.into(),
            until: None,
            compared: true,
            fill: None,
        }
    }

    pub fn until(mut self, done: fn(&ResponseKind) -> bool) -> Step {
        self.until = Some(done);
        self
    }

    pub fn fill(mut self, set: fn(&mut RequestKind, &Seen)) -> Step {
        self.fill = Some(set);
        self
    }

    /// Announces v`announced` in the header while the body is encoded in the step's version:
    /// for versions Kafka removed, which `kafka-protocol` no longer encodes.
    pub fn announcing(mut self, announced: i16) -> Step {
        self.announced = Some(announced);
        self
    }

    pub fn setup(mut self) -> Step {
        self.compared = false;
        self
    }
}
