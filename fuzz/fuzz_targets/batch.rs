//! Record batches: the protocol crate's views (`BatchView`, the record walk, the cleaner's
//! rewrite) on the raw bytes, then the same bytes as a Produce's records, through every
//! check the broker makes before it appends (`state/append.rs`), on a fresh cluster.
//!
//! The first byte chooses: the topic (plain, compacted, LogAppendTime), the Produce version,
//! acks, and whether the CRC is fixed up first — without that, nearly every mutation would
//! stop at CORRUPT_MESSAGE and the record walk would never be fuzzed. Oracle: a batch the
//! broker acknowledged reads back with Fetch, whole and with a valid CRC.
#![no_main]

use broker_sim::fuzzing::{BROKERS, Harness, TOPICS};
use broker_sim_fuzz::{decode_answer, frame, with_fresh_cluster};
use broker_sim_protocol::batch::{BatchView, batches, retain_records};
use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, BrokerId, FetchRequest, ProduceRequest, ResponseKind, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use libfuzzer_sys::fuzz_target;

/// Produce versions with topic names (v13 names topics by id).
const PRODUCE_VERSIONS: [i16; 4] = [3, 7, 9, 12];
/// Where the CRC sits in a batch, and where the bytes it covers start.
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;
const NOT_LEADER_OR_FOLLOWER: i16 = 6;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, records)) = data.split_first() else {
        return;
    };
    let mut records = records.to_vec();
    if flags & 0x80 != 0 {
        fix_crcs(&mut records);
    }
    inspect(&records);
    let topic = TOPICS[usize::from(flags & 0x03) % TOPICS.len()].0;
    let version = PRODUCE_VERSIONS[usize::from(flags >> 2) & 0x03];
    let acks = [-1, 1, 0, -1][usize::from(flags >> 4) & 0x03];
    with_fresh_cluster(|h| produce_and_read_back(h, topic, version, acks, records.into()));
});

/// Sets every well-framed batch's CRC to the CRC of its bytes.
fn fix_crcs(records: &mut [u8]) {
    let mut at = 0;
    while let Ok(view) = BatchView::parse(&records[at..]) {
        let (len, crc) = (view.total_len(), view.compute_crc());
        records[at + CRC_AT..at + ATTRIBUTES_AT].copy_from_slice(&crc.to_be_bytes());
        at += len;
    }
}

/// Every read the protocol crate offers on a batch: none may panic, whatever the bytes.
fn inspect(records: &[u8]) {
    for view in batches(records).take(16) {
        let Ok(view) = view else { break };
        let _ = (view.codec(), view.last_offset(), view.verify_crc());
        let _ = view.check_records(|_| {});
        if view.records().is_ok() {
            let mut keep = false;
            let _ = retain_records(&view, |_| {
                keep = !keep;
                keep
            });
        }
    }
}

fn produce_and_read_back(h: &mut Harness, topic: &str, version: i16, acks: i16, records: Bytes) {
    let request = ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(1_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_static_str(leak(topic))))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(records)),
                ]),
        ]);
    let Some(frame) = frame(ApiKey::Produce, version, &request) else {
        return;
    };
    for broker in 1..=BROKERS {
        let Some(answer) = h.call(&frame, broker) else {
            continue;
        };
        let Some(ResponseKind::Produce(response)) =
            decode_answer(ApiKey::Produce, version, &answer)
        else {
            continue;
        };
        let Some(p) = response
            .responses
            .first()
            .and_then(|t| t.partition_responses.first())
        else {
            panic!("a Produce answer without its partition: {response:?}");
        };
        match p.error_code {
            NOT_LEADER_OR_FOLLOWER => continue,
            0 => read_back(h, broker, topic, p.base_offset),
            _ => {}
        }
        return;
    }
}

/// Fetches from `offset` at the leader: the acknowledged batch must come back whole.
fn read_back(h: &mut Harness, broker: i32, topic: &str, offset: i64) {
    const FETCH_VERSION: i16 = 12;
    let request = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_max_bytes(8 << 20)
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(TopicName(StrBytes::from_static_str(leak(topic))))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_fetch_offset(offset)
                        .with_partition_max_bytes(8 << 20),
                ]),
        ]);
    let frame = frame(ApiKey::Fetch, FETCH_VERSION, &request).expect("the Fetch encodes");
    let answer = h
        .call(&frame, broker)
        .expect("a Fetch with no wait answers at once");
    let Some(ResponseKind::Fetch(response)) = decode_answer(ApiKey::Fetch, FETCH_VERSION, &answer)
    else {
        panic!("no Fetch answer: {answer:?}");
    };
    let p = &response.responses[0].partitions[0];
    assert_eq!(p.error_code, 0, "reading back an acknowledged batch: {p:?}");
    let records = p.records.clone().unwrap_or_default();
    let first = BatchView::parse(&records)
        .unwrap_or_else(|e| panic!("the acknowledged batch at {offset} does not read back: {e}"));
    assert!(
        first.last_offset() >= offset,
        "the batch read back ends before {offset}"
    );
    first
        .verify_crc()
        .expect("a batch read back has a valid CRC");
    first.records().expect("a batch read back walks");
}

/// The topic names are the harness's constants; `StrBytes` wants a `'static` string.
fn leak(topic: &str) -> &'static str {
    TOPICS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == topic)
        .expect("a harness topic")
}
