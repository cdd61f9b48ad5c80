//! Requests and checks the scenarios share.

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, GroupId, MetadataRequest, ResponseKind, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::scenario::{Scenario, Step};

pub fn s(text: impl Into<String>) -> StrBytes {
    StrBytes::from_string(text.into())
}

pub fn topic(name: &str) -> TopicName {
    TopicName(s(name))
}

pub fn group(name: &str) -> GroupId {
    GroupId(s(name))
}

/// The versions broker-sim serves of `key`.
pub fn versions(key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let a = broker_sim::SUPPORTED_APIS
        .iter()
        .find(|a| a.key == key)
        .expect("an API broker-sim serves");
    a.min..=a.max
}

/// When this run built its corpus (ms since the epoch): where broker-sim's manual clock
/// starts, and the timestamp of records that must be close to the brokers' clocks.
pub fn corpus_time() -> i64 {
    static NOW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *NOW.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    })
}

/// This run's token, the first part of every name: a reference Kafka kept from an earlier
/// run then holds none of this run's topics or groups.
fn run_token() -> &'static str {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!("r{}", secs % 1_000_000)
    })
}

/// A scenario of `key` v`version`: `what` names it, and its names start with a prefix
/// made from the run's token and the id.
pub fn scenario(
    key: ApiKey,
    version: i16,
    what: &str,
    steps: impl FnOnce(&str) -> Vec<Step>,
) -> Scenario {
    let id = format!("{}/v{version}/{what}", snake(key));
    let prefix = format!(
        "{}-{}-v{version}-{what}-",
        run_token(),
        snake(key).replace('_', "-")
    );
    Scenario {
        steps: steps(&prefix),
        id,
        api: key,
        prefix,
        sasl: false,
        authorizer: None,
    }
}

fn snake(key: ApiKey) -> String {
    let mut out = String::new();
    for (i, c) in format!("{key:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Creates `name` with `partitions` partitions (replication 1) and waits until Kafka
/// has leaders for it: setup, not compared.
pub fn create_topic(name: &str, partitions: i32) -> Vec<Step> {
    let request = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![
            CreatableTopic::default()
                .with_name(topic(name))
                .with_num_partitions(partitions)
                .with_replication_factor(1),
        ]);
    vec![
        Step::new(ApiKey::CreateTopics, 7, request).setup(),
        topic_ready(name).setup(),
    ]
}

/// Metadata for `name`, repeated until every partition has a leader.
pub fn topic_ready(name: &str) -> Step {
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic(name))),
        ]))
        .with_allow_auto_topic_creation(false);
    Step::new(ApiKey::Metadata, 12, request).until(|answer| match answer {
        ResponseKind::Metadata(m) => m.topics.iter().all(|t| {
            t.error_code == 0
                && t.partitions
                    .iter()
                    .all(|p| p.error_code == 0 && p.leader_id.0 >= 0)
        }),
        _ => true,
    })
}
