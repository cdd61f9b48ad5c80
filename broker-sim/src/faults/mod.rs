//! Fault injection: rules that make brokers misbehave on purpose, as a test asks.
//!
//! A [`Fault`] is a [`Selector`] (which requests: API, broker, topic, partition, group,
//! client id, all ANDed; an unset field matches anything), a [`FaultAction`] (what to do
//! to them) and how often (`times`, `probability`). Rules are kept in the cluster, matched
//! against every decoded request before its handler runs (in id order; the first that
//! matches and fires wins), and count their hits so a test can wait until one fired.
//! Probabilities are drawn from a generator seeded by the cluster seed, so a run replays
//! identically. With no rules, a request costs one atomic load more than without this
//! module.
//!
//! A topic or partition selector matches a request that names a matching partition (or,
//! for APIs about whole topics such as CreateTopics or DescribeConfigs, a matching topic);
//! a request that names no topic, or no group, never matches a rule that selects one.
//! Topics given by id are matched by their name.
//!
//! The same types are the JSON of the control API's `POST /v1/faults`, e.g.
//! `{"match": {"api": "Produce", "topic": "orders"}, "action": {"type": "error",
//! "code": "NOT_LEADER_OR_FOLLOWER"}, "times": 2}`.
//!
//! Layout: this file has the rule types and their JSON; `rules` stores and matches rules.
//! What a request names comes from its API's description (`crate::api`); the action is
//! carried out by the pipeline's fault layer (`crate::pipeline`); the embedding API
//! ([`crate::Cluster::inject`] and friends) is in `crate::cluster`.

pub(crate) mod rules;

use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use serde::{Deserialize, Serialize};

/// Which requests a rule applies to. Every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// The API, by Kafka's name ("Produce", "Fetch", "JoinGroup") or key number.
    #[serde(default, with = "api_serde", skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiKey>,
    /// The broker the request was sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    /// The consumer group (or, for transactional APIs, the group of a TxnOffsetCommit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The request header's client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Who sent the request, as Kafka prints a principal: "User:alice" after SASL, the
    /// client certificate's "User:CN=…", "User:ANONYMOUS" otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The transactional id the request is about (InitProducerId, AddPartitionsToTxn,
    /// AddOffsetsToTxn, EndTxn, TxnOffsetCommit, a transactional Produce,
    /// DescribeTransactions, FindCoordinator for a transaction coordinator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactional_id: Option<String>,
}

/// What a rule does to a request it matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// Answer with this error code instead of processing.
    ///
    /// Requests with partitions (Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch,
    /// DeleteRecords, OffsetForLeaderEpoch): the selected partitions (all of them if the
    /// rule selects no topic or partition) are answered with the code and are not
    /// processed: a produce writes nothing to them, a fetch answers at once. The other
    /// partitions are served for real, and the answer lists every partition in the
    /// request's order. A refused acks=0 produce closes the connection, as Kafka does
    /// when an acks=0 write fails. OffsetFetch without a topic selector refuses the group
    /// (top-level error; per group from v8).
    ///
    /// Metadata: the selected topics get the code at topic level (and are not
    /// auto-created); with a partition selector, those partitions get it (with no leader,
    /// except for REPLICA_NOT_AVAILABLE) and the rest of the answer is real.
    ///
    /// Every other API is refused whole: the code at the response's top level, or on
    /// every item where it has only per-item codes (CreateTopics, DeleteTopics,
    /// CreatePartitions, DescribeConfigs, DescribeGroups, DeleteGroups, FindCoordinator
    /// v4+).
    Error {
        #[serde(with = "code_serde")]
        code: ResponseError,
    },
    /// Process normally, but answer this much later (real time). Later requests on the
    /// connection wait too, as they would behind a slow request in Kafka.
    Latency { ms: u64 },
    /// Close the connection instead of answering; nothing is processed.
    CloseConnection,
    /// Never answer, and answer nothing after it on that connection: the client's request
    /// times out, as with a hung broker. Nothing is processed.
    NoResponse,
    /// Process normally, report this `throttle_time_ms` (on every response type that has
    /// the field, in versions that carry it), and read nothing more from the connection
    /// for that long (KIP-219). An acks=0 produce gets the pause alone.
    Throttle { ms: i32 },
    /// Process for real (the write happens), then answer the selected partitions (or the
    /// whole request, as for `Error`) with this code, typically REQUEST_TIMED_OUT:
    /// producers send duplicates. A produce's refused partitions report base offset -1;
    /// an acks=0 produce is written and its connection closed.
    ApplyThenError {
        #[serde(with = "code_serde")]
        code: ResponseError,
    },
    /// Process for real, then never answer (as `NoResponse`).
    ApplyThenNoResponse,
    /// Process for real, then close the connection instead of answering.
    ApplyThenClose,
}

/// A fault rule: which requests, what to do, how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(rename = "match", default)]
    pub selector: Selector,
    pub action: FaultAction,
    /// Fire at most this many times, then leave the active rules (listed with its hits
    /// among the recently spent ones); `None`: until removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire on a matching request with this probability (0–1), drawn from the cluster's
    /// seeded generator; `None`: every matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// The id [`crate::Cluster::inject`] returns, to count hits or remove the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FaultId(pub u64);

/// A rule as it stands: how often it fired so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultStatus {
    pub id: FaultId,
    #[serde(flatten)]
    pub fault: Fault,
    pub hits: u64,
}

impl Selector {
    /// Requests of one API.
    pub fn on(api: ApiKey) -> Selector {
        Selector {
            api: Some(api),
            ..Selector::default()
        }
    }

    /// Every request.
    pub fn any() -> Selector {
        Selector::default()
    }

    pub fn broker(mut self, broker: i32) -> Self {
        self.broker = Some(broker);
        self
    }

    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Only requests from this principal ("User:alice").
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = Some(principal.into());
        self
    }

    pub fn transactional_id(mut self, id: impl Into<String>) -> Self {
        self.transactional_id = Some(id.into());
        self
    }

    fn then(self, action: FaultAction) -> Fault {
        Fault {
            selector: self,
            action,
            times: None,
            probability: None,
        }
    }

    pub fn error(self, code: ResponseError) -> Fault {
        self.then(FaultAction::Error { code })
    }

    pub fn latency(self, delay: Duration) -> Fault {
        self.then(FaultAction::Latency {
            ms: delay.as_millis() as u64,
        })
    }

    pub fn close_connection(self) -> Fault {
        self.then(FaultAction::CloseConnection)
    }

    pub fn no_response(self) -> Fault {
        self.then(FaultAction::NoResponse)
    }

    pub fn throttle(self, time: Duration) -> Fault {
        self.then(FaultAction::Throttle {
            ms: time.as_millis().min(i32::MAX as u128) as i32,
        })
    }

    pub fn apply_then_error(self, code: ResponseError) -> Fault {
        self.then(FaultAction::ApplyThenError { code })
    }

    pub fn apply_then_no_response(self) -> Fault {
        self.then(FaultAction::ApplyThenNoResponse)
    }

    pub fn apply_then_close(self) -> Fault {
        self.then(FaultAction::ApplyThenClose)
    }
}

impl Fault {
    /// Shorthand for [`Selector::on`].
    pub fn on(api: ApiKey) -> Selector {
        Selector::on(api)
    }

    /// Shorthand for [`Selector::any`].
    pub fn any() -> Selector {
        Selector::any()
    }

    /// Fire at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Fire once.
    pub fn once(self) -> Self {
        self.times(1)
    }

    /// Fire on each matching request with probability `p` (seeded).
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
}

/// An API key as Kafka names it ("Produce"), or its number.
mod api_serde {
    use super::*;
    use serde::Deserializer;
    use serde::de::Error;

    pub fn serialize<S: serde::Serializer>(api: &Option<ApiKey>, s: S) -> Result<S::Ok, S::Error> {
        match api {
            Some(api) => s.serialize_str(&format!("{api:?}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ApiKey>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NameOrKey {
            Name(String),
            Key(i16),
        }
        let Some(value) = Option::<NameOrKey>::deserialize(d)? else {
            return Ok(None);
        };
        let found = match &value {
            NameOrKey::Key(k) => ApiKey::try_from(*k).ok(),
            NameOrKey::Name(name) => {
                ApiKey::iter().find(|api| normalise(&format!("{api:?}")) == normalise(name))
            }
        };
        found.map(Some).ok_or_else(|| match value {
            NameOrKey::Key(k) => D::Error::custom(format!("unknown API key {k}")),
            NameOrKey::Name(n) => D::Error::custom(format!("unknown API {n:?}")),
        })
    }
}

/// An error code as Kafka names it ("NOT_LEADER_OR_FOLLOWER"), or its number.
mod code_serde {
    use super::*;
    use serde::Deserializer;
    use serde::de::Error;

    pub fn serialize<S: serde::Serializer>(code: &ResponseError, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&kafka_name(*code))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ResponseError, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NameOrCode {
            Name(String),
            Code(i16),
        }
        match NameOrCode::deserialize(d)? {
            NameOrCode::Code(c) => ResponseError::try_from_code(c)
                .ok_or_else(|| D::Error::custom(format!("unknown error code {c}"))),
            NameOrCode::Name(name) => (-1..=200)
                .filter_map(ResponseError::try_from_code)
                .find(|e| normalise(&format!("{e:?}")) == normalise(&name))
                .ok_or_else(|| D::Error::custom(format!("unknown error code {name:?}"))),
        }
    }
}

/// Kafka's name of an error code: `NotLeaderOrFollower` → `NOT_LEADER_OR_FOLLOWER`.
pub fn kafka_name(code: ResponseError) -> String {
    let camel = format!("{code:?}");
    let mut out = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Names compared without case or underscores, so `NOT_LEADER_OR_FOLLOWER`,
/// `NotLeaderOrFollower` and `produce` all match their variants.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_and_write_as_the_control_api_json() {
        let json = r#"{"match": {"api": "Produce", "topic": "orders", "partition": 0},
            "action": {"type": "error", "code": "NOT_LEADER_OR_FOLLOWER"}, "times": 2}"#;
        let fault: Fault = serde_json::from_str(json).unwrap();
        assert_eq!(
            fault,
            Fault::on(ApiKey::Produce)
                .topic("orders")
                .partition(0)
                .error(ResponseError::NotLeaderOrFollower)
                .times(2)
        );
        let back: Fault = serde_json::from_str(&serde_json::to_string(&fault).unwrap()).unwrap();
        assert_eq!(back, fault);
        let by_number: Fault = serde_json::from_str(
            r#"{"match": {"api": 1}, "action": {"type": "error", "code": 6}}"#,
        )
        .unwrap();
        assert_eq!(by_number.selector.api, Some(ApiKey::Fetch));
        assert_eq!(
            by_number.action,
            FaultAction::Error {
                code: ResponseError::NotLeaderOrFollower
            }
        );
    }

    #[test]
    fn bad_rules_name_the_problem() {
        let err = |json: &str| serde_json::from_str::<Fault>(json).unwrap_err().to_string();
        assert!(
            err(r#"{"match": {"api": "Nope"}, "action": {"type": "close_connection"}}"#)
                .contains("unknown API")
        );
        assert!(
            err(r#"{"action": {"type": "error", "code": "NO_SUCH"}}"#)
                .contains("unknown error code")
        );
        assert!(err(r#"{"action": {"type": "explode"}}"#).contains("explode"));
        assert!(
            err(r#"{"match": {"topc": "x"}, "action": {"type": "no_response"}}"#).contains("topc")
        );
    }

    #[test]
    fn kafka_names_of_codes() {
        assert_eq!(
            kafka_name(ResponseError::NotLeaderOrFollower),
            "NOT_LEADER_OR_FOLLOWER"
        );
        assert_eq!(
            kafka_name(ResponseError::RequestTimedOut),
            "REQUEST_TIMED_OUT"
        );
    }
}
