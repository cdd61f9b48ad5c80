//! The consumer protocol's bytes: what `protocol_type = "consumer"` members put in their
//! JoinGroup metadata (the subscription) and what the leader hands out in SyncGroup (the
//! assignment). The coordinator relays them untouched; broker-sim decodes them only to
//! show assignments to a test and to check OffsetDelete against subscriptions.
//!
//! Each is a big-endian i16 version followed by the body in that version. A version newer
//! than `kafka-protocol` knows is read as the newest it knows, as Kafka's own
//! `ConsumerProtocol` does: later versions only append fields.

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription};
use kafka_protocol::protocol::{Decodable, Message};

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
    use bytes::BufMut;
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
    use kafka_protocol::protocol::{Encodable, StrBytes};

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
    fn subscriptions_decode_topic_names() {
        let subscription = ConsumerProtocolSubscription::default()
            .with_topics(vec![StrBytes::from_static_str("orders")]);
        assert_eq!(
            decode_subscription(&encode(1, &subscription)),
            Some(vec!["orders".to_string()])
        );
    }
}
