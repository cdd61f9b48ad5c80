//! Produce, Fetch, ListOffsets, DeleteRecords, OffsetForLeaderEpoch.

use broker_sim_protocol::batch::{Codec, NewRecord, encode_batch};
use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, DeleteRecordsRequest, FetchRequest, ListOffsetsRequest,
    OffsetForLeaderEpochRequest, ProduceRequest, RequestKind,
};

use super::helpers::{create_topic, s, scenario, topic, topic_ready, versions};
use crate::scenario::{Scenario, Step};

/// Record timestamps: fixed, so batches are byte-identical on both clusters.
const TIMESTAMP: i64 = 1_700_000_000_000;

pub(super) fn batch(values: &[&str]) -> Bytes {
    let records: Vec<NewRecord> = values
        .iter()
        .enumerate()
        .map(|(i, v)| NewRecord {
            timestamp: TIMESTAMP + i as i64,
            key: Some(Bytes::from(format!("k{i}"))),
            value: Some(Bytes::copy_from_slice(v.as_bytes())),
            headers: Vec::new(),
        })
        .collect();
    encode_batch(&records, Codec::None).expect("batch encodes")
}

pub(super) fn produce(v: i16, name: &str, partition: i32, acks: i16, records: Bytes) -> Step {
    let data = TopicProduceData::default().with_partition_data(vec![
        PartitionProduceData::default()
            .with_index(partition)
            .with_records(Some(records)),
    ]);
    let data = if v >= 13 {
        data
    } else {
        data.with_name(topic(name))
    };
    let r = ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![data]);
    let step = Step::new(ApiKey::Produce, v, r);
    if v >= 13 {
        step.fill(|r, seen| {
            if let RequestKind::Produce(p) = r {
                p.topic_data[0].topic_id = seen.topic_id;
            }
        })
    } else {
        step
    }
}

pub(super) fn fetch(v: i16, name: &str, partition: i32, offset: i64) -> Step {
    let t = FetchTopic::default().with_partitions(vec![
        FetchPartition::default()
            .with_partition(partition)
            .with_fetch_offset(offset)
            .with_partition_max_bytes(1 << 20),
    ]);
    let t = if v >= 13 {
        t
    } else {
        t.with_topic(topic(name))
    };
    let r = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![t]);
    let step = Step::new(ApiKey::Fetch, v, r);
    if v >= 13 {
        step.fill(|r, seen| {
            if let RequestKind::Fetch(f) = r {
                f.topics[0].topic_id = seen.topic_id;
            }
        })
    } else {
        step
    }
}

/// A topic with one partition holding two records (offsets 0 and 1): setup.
fn topic_with_records(name: &str) -> Vec<Step> {
    let mut steps = create_topic(name, 1);
    steps.push(produce(9, name, 0, -1, batch(&["one", "two"])).setup());
    steps
}

pub(super) fn list_offsets(v: i16, name: &str, partition: i32, timestamp: i64) -> Step {
    let r = ListOffsetsRequest::default()
        .with_replica_id((-1).into())
        .with_topics(vec![
            ListOffsetsTopic::default()
                .with_name(topic(name))
                .with_partitions(vec![
                    ListOffsetsPartition::default()
                        .with_partition_index(partition)
                        .with_timestamp(timestamp),
                ]),
        ]);
    Step::new(ApiKey::ListOffsets, v, r)
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::Produce) {
        out.push(scenario(ApiKey::Produce, v, "appends", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            if v >= 13 {
                steps.push(topic_ready(&name).setup());
            }
            steps.push(produce(v, &name, 0, 1, batch(&["a", "b"])));
            steps.push(produce(v, &name, 0, -1, batch(&["c"])));
            steps
        }));
        // Timestamps Kafka's log validator has its own rules for: no timestamp (-1), the
        // smallest and largest, and a record whose timestamp delta runs past i64.
        for (what, timestamp) in [
            ("no-timestamp", -1),
            ("smallest-timestamp", i64::MIN),
            ("largest-timestamp", i64::MAX),
            ("negative-timestamp", -5),
        ] {
            out.push(scenario(ApiKey::Produce, v, what, |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                let record = NewRecord {
                    timestamp,
                    key: None,
                    value: Some(Bytes::from_static(b"x")),
                    headers: Vec::new(),
                };
                let records = encode_batch(&[record], Codec::None).expect("batch encodes");
                steps.push(produce(v, &name, 0, -1, records));
                steps
            }));
        }
        if v >= 3 {
            // Transactional records from a producer the coordinator never saw.
            out.push(scenario(
                ApiKey::Produce,
                v,
                "transactional-without-transaction",
                |p| {
                    let name = format!("{p}t");
                    let mut steps = create_topic(&name, 1);
                    let record = NewRecord {
                        timestamp: TIMESTAMP,
                        key: None,
                        value: Some(Bytes::from_static(b"x")),
                        headers: Vec::new(),
                    };
                    let records = broker_sim_protocol::batch::encode_transactional_batch(
                        &[record],
                        Codec::None,
                        424_242,
                        0,
                        0,
                    )
                    .expect("batch encodes");
                    steps.push(produce(v, &name, 0, -1, records));
                    steps
                },
            ));
        }
        // The same partition twice in one request.
        out.push(scenario(ApiKey::Produce, v, "duplicate-partition", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            let mut step = produce(v, &name, 0, -1, batch(&["a"]));
            if let RequestKind::Produce(r) = &mut step.request {
                let again = r.topic_data[0].partition_data[0].clone();
                r.topic_data[0].partition_data.push(again);
            }
            steps.push(step);
            let mut step = produce(v, &name, 0, -1, batch(&["b"]));
            if let RequestKind::Produce(r) = &mut step.request {
                let again = r.topic_data[0].clone();
                r.topic_data.push(again);
            }
            steps.push(step);
            steps
        }));
        out.push(scenario(ApiKey::Produce, v, "unknown-partition", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(produce(v, &name, 7, 1, batch(&["a"])));
            steps
        }));
        if v < 13 {
            out.push(scenario(ApiKey::Produce, v, "unknown-topic", |p| {
                vec![produce(v, &format!("{p}missing"), 0, 1, batch(&["a"]))]
            }));
        }
        out.push(scenario(ApiKey::Produce, v, "invalid-acks", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(produce(v, &name, 0, 2, batch(&["a"])));
            steps
        }));
        out.push(scenario(ApiKey::Produce, v, "corrupt-crc", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            let mut bytes = batch(&["a"]).to_vec();
            let last = bytes.len() - 1;
            bytes[last] ^= 0xff;
            steps.push(produce(v, &name, 0, 1, Bytes::from(bytes)));
            steps
        }));
        out.push(scenario(ApiKey::Produce, v, "too-large", |p| {
            let name = format!("{p}t");
            let r = CreateTopicsRequest::default()
                .with_timeout_ms(30_000)
                .with_topics(vec![
                    CreatableTopic::default()
                        .with_name(topic(&name))
                        .with_num_partitions(1)
                        .with_replication_factor(1)
                        .with_configs(vec![
                            CreatableTopicConfig::default()
                                .with_name(s("max.message.bytes"))
                                .with_value(Some(s("100"))),
                        ]),
                ]);
            let big = "x".repeat(500);
            vec![
                Step::new(ApiKey::CreateTopics, 7, r).setup(),
                topic_ready(&name).setup(),
                produce(v, &name, 0, 1, batch(&[&big])),
            ]
        }));
    }
    for v in versions(ApiKey::Fetch) {
        out.push(scenario(ApiKey::Fetch, v, "duplicate-partition", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(produce(9, &name, 0, -1, batch(&["a"])).setup());
            let mut step = fetch(v, &name, 0, 0);
            if let RequestKind::Fetch(r) = &mut step.request {
                let again = r.topics[0].partitions[0].clone();
                r.topics[0].partitions.push(again);
            }
            steps.push(step);
            steps
        }));
        out.push(scenario(ApiKey::Fetch, v, "reads", |p| {
            let name = format!("{p}t");
            let mut steps = topic_with_records(&name);
            if v >= 13 {
                steps.push(topic_ready(&name).setup());
            }
            steps.push(fetch(v, &name, 0, 0));
            steps.push(fetch(v, &name, 0, 1));
            steps.push(fetch(v, &name, 0, 2));
            steps
        }));
        out.push(scenario(ApiKey::Fetch, v, "out-of-range", |p| {
            let name = format!("{p}t");
            let mut steps = topic_with_records(&name);
            if v >= 13 {
                steps.push(topic_ready(&name).setup());
            }
            steps.push(fetch(v, &name, 0, 5));
            steps
        }));
        out.push(scenario(ApiKey::Fetch, v, "unknown-partition", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            if v >= 13 {
                steps.push(topic_ready(&name).setup());
            }
            steps.push(fetch(v, &name, 3, 0));
            steps
        }));
        if v < 13 {
            out.push(scenario(ApiKey::Fetch, v, "unknown-topic", |p| {
                vec![fetch(v, &format!("{p}missing"), 0, 0)]
            }));
        }
    }
    for v in versions(ApiKey::ListOffsets) {
        out.push(scenario(
            ApiKey::ListOffsets,
            v,
            "duplicate-partition",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                let mut step = list_offsets(v, &name, 0, -1);
                if let RequestKind::ListOffsets(r) = &mut step.request {
                    let again = r.topics[0].partitions[0].clone();
                    r.topics[0].partitions.push(again);
                }
                steps.push(step);
                steps
            },
        ));
        for (what, ts) in [
            ("latest", -1),
            ("earliest", -2),
            ("by-timestamp", TIMESTAMP + 1),
            ("after-last", TIMESTAMP + 10),
        ] {
            out.push(scenario(ApiKey::ListOffsets, v, what, |p| {
                let name = format!("{p}t");
                let mut steps = topic_with_records(&name);
                steps.push(list_offsets(v, &name, 0, ts));
                steps
            }));
        }
        if v >= 7 {
            out.push(scenario(ApiKey::ListOffsets, v, "max-timestamp", |p| {
                let name = format!("{p}t");
                let mut steps = topic_with_records(&name);
                steps.push(list_offsets(v, &name, 0, -3));
                steps
            }));
        }
        out.push(scenario(ApiKey::ListOffsets, v, "unknown-partition", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(list_offsets(v, &name, 4, -1));
            steps
        }));
    }
    for v in versions(ApiKey::DeleteRecords) {
        let delete = move |name: &str, offset: i64| {
            let r = DeleteRecordsRequest::default()
                .with_timeout_ms(30_000)
                .with_topics(vec![
                    DeleteRecordsTopic::default()
                        .with_name(topic(name))
                        .with_partitions(vec![
                            DeleteRecordsPartition::default()
                                .with_partition_index(0)
                                .with_offset(offset),
                        ]),
                ]);
            Step::new(ApiKey::DeleteRecords, v, r)
        };
        out.push(scenario(ApiKey::DeleteRecords, v, "deletes", |p| {
            let name = format!("{p}t");
            let mut steps = topic_with_records(&name);
            steps.push(delete(&name, 1));
            steps.push(list_offsets(7, &name, 0, -2));
            steps
        }));
        out.push(scenario(
            ApiKey::DeleteRecords,
            v,
            "beyond-high-watermark",
            |p| {
                let name = format!("{p}t");
                let mut steps = topic_with_records(&name);
                steps.push(delete(&name, 9));
                steps
            },
        ));
        out.push(scenario(ApiKey::DeleteRecords, v, "unknown-topic", |p| {
            vec![delete(&format!("{p}missing"), 0)]
        }));
    }
    for v in versions(ApiKey::OffsetForLeaderEpoch) {
        let epoch = move |name: &str, leader_epoch: i32| {
            let r = OffsetForLeaderEpochRequest::default()
                .with_replica_id((-1).into())
                .with_topics(vec![
                    OffsetForLeaderTopic::default()
                        .with_topic(topic(name))
                        .with_partitions(vec![
                            OffsetForLeaderPartition::default()
                                .with_partition(0)
                                .with_current_leader_epoch(-1)
                                .with_leader_epoch(leader_epoch),
                        ]),
                ]);
            Step::new(ApiKey::OffsetForLeaderEpoch, v, r)
        };
        out.push(scenario(
            ApiKey::OffsetForLeaderEpoch,
            v,
            "current-epoch",
            |p| {
                let name = format!("{p}t");
                let mut steps = topic_with_records(&name);
                steps.push(epoch(&name, 0));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::OffsetForLeaderEpoch,
            v,
            "future-epoch",
            |p| {
                let name = format!("{p}t");
                let mut steps = topic_with_records(&name);
                steps.push(epoch(&name, 5));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::OffsetForLeaderEpoch,
            v,
            "unknown-topic",
            |p| vec![epoch(&format!("{p}missing"), 0)],
        ));
    }
    out
}
