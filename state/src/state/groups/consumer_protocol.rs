//! The consumer protocol's bytes: what `protocol_type = "consumer"` members put in their
//! JoinGroup metadata (the subscription) and what the leader hands out in SyncGroup (the
//! assignment). A classic group's coordinator relays them untouched; broker-sim decodes
//! them to show assignments to a test and to check OffsetDelete against subscriptions,
//! and a consumer group of the new protocol with classic members (after an online
//! upgrade) reads their subscriptions and writes their assignments itself.
//!
//! Each is a big-endian i16 version followed by the body in that version. A version newer
//! than `kafka-protocol` knows is read as the newest it knows, as Kafka's own
//! `ConsumerProtocol` does: later versions only append fields.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{Buf, BufMut, Bytes};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, Message, StrBytes};

/// The newest assignment version broker-sim writes.
const MAX_ASSIGNMENT_VERSION: i16 = 3;

/// The version of a consumer protocol message (its first two bytes): what a member's
/// subscription was written in, and so what its assignment is written back in.
pub fn version_of(bytes: &Bytes) -> i16 {
    let mut buf = bytes.clone();
    if buf.remaining() < 2 {
        0
    } else {
        buf.get_i16()
    }
}

fn decode<M: Decodable + Message>(bytes: &Bytes) -> Option<M> {
    let mut buf = bytes.clone();
    if buf.remaining() < 2 {
        return None;
    }
    let version = buf.get_i16().clamp(M::VERSIONS.min, M::VERSIONS.max);
    M::decode(&mut buf, version).ok()
}

/// The topics a consumer subscribes to, in its order.
pub fn decode_subscription(bytes: &Bytes) -> Option<Vec<String>> {
    let s: ConsumerProtocolSubscription = decode(bytes)?;
    Some(s.topics.into_iter().map(|t| t.to_string()).collect())
}

/// The partitions a subscription (v1+) says the member owns, by topic.
pub fn decode_owned_partitions(bytes: &Bytes) -> BTreeMap<String, BTreeSet<i32>> {
    let Some(s) = decode::<ConsumerProtocolSubscription>(bytes) else {
        return BTreeMap::new();
    };
    let mut owned: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    for tp in s.owned_partitions {
        owned
            .entry(tp.topic.to_string())
            .or_default()
            .extend(tp.partitions);
    }
    owned
}

/// An assignment as the consumer protocol's bytes, in `version` (as Kafka does, the
/// version of the member's subscription, up to the newest known).
pub fn encode_assignment(assigned: &BTreeMap<String, BTreeSet<i32>>, version: i16) -> Bytes {
    let version = version.clamp(0, MAX_ASSIGNMENT_VERSION);
    let body = ConsumerProtocolAssignment::default().with_assigned_partitions(
        assigned
            .iter()
            .map(|(t, ps)| {
                TopicPartition::default()
                    .with_topic(TopicName(StrBytes::from_string(t.clone())))
                    .with_partitions(ps.iter().copied().collect())
            })
            .collect(),
    );
    let mut buf = bytes::BytesMut::new();
    buf.put_i16(version);
    // Encoding a message built here cannot fail: every field is within its version.
    if body.encode(&mut buf, version).is_err() {
        return Bytes::new();
    }
    buf.freeze()
}

/// The assigned partitions: (topic, sorted partitions), topics sorted.
pub fn decode_assignment(bytes: &Bytes) -> Option<Vec<(String, Vec<i32>)>> {
    let a: ConsumerProtocolAssignment = decode(bytes)?;
    let mut topics: Vec<(String, Vec<i32>)> = a
        .assigned_partitions
        .into_iter()
        .map(|tp| {
            let mut partitions = tp.partitions;
            partitions.sort_unstable();
            (tp.topic.to_string(), partitions)
        })
        .collect();
    topics.sort();
    Some(topics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(version: i16, body: &impl Encodable) -> Bytes {
        let mut buf = bytes::BytesMut::new();
        buf.put_i16(version);
        body.encode(&mut buf, version.clamp(0, 3)).unwrap();
        buf.freeze()
    }

    #[test]
    fn assignments_decode_sorted_in_any_version_including_future_ones() {
        let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
            TopicPartition::default()
                .with_topic(TopicName(StrBytes::from_static_str("b")))
                .with_partitions(vec![3, 1]),
            TopicPartition::default()
                .with_topic(TopicName(StrBytes::from_static_str("a")))
                .with_partitions(vec![0]),
        ]);
        let expected = vec![("a".to_string(), vec![0]), ("b".to_string(), vec![1, 3])];
        for version in [0, 1, 3, 7] {
            assert_eq!(
                decode_assignment(&encode(version, &assignment)),
                Some(expected.clone()),
                "v{version}"
            );
        }
        assert_eq!(decode_assignment(&Bytes::from_static(&[0])), None);
    }

    #[test]
    fn an_encoded_assignment_decodes_to_itself() {
        let assigned: BTreeMap<String, BTreeSet<i32>> =
            [("t".to_string(), BTreeSet::from([2, 0]))].into();
        assert_eq!(
            decode_assignment(&encode_assignment(&assigned, 0)),
            Some(vec![("t".to_string(), vec![0, 2])])
        );
    }

    #[test]
    fn subscriptions_decode_topic_names() {
        let subscription = ConsumerProtocolSubscription::default()
            .with_topics(vec![StrBytes::from_static_str("orders")]);
        assert_eq!(
            decode_subscription(&encode(1, &subscription)),
            Some(vec!["orders".to_string()])
        );
    }
}
