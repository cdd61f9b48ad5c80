//! The partition toolkit (`api::partitioned`) on Produce's entry types.
use kafka_protocol::messages::TopicName;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::{
    PartitionProduceResponse, TopicProduceResponse,
};

use uuid::Uuid;

use crate::api::partitioned::*;

use super::error_entry as produce_error;

fn name(s: &str) -> TopicName {
    TopicName(kafka_protocol::protocol::StrBytes::from_string(s.into()))
}

fn produce_topic(topic: &str, partitions: &[i32]) -> TopicProduceData {
    TopicProduceData::default()
        .with_name(name(topic))
        .with_partition_data(
            partitions
                .iter()
                .map(|&p| PartitionProduceData::default().with_index(p))
                .collect(),
        )
}

fn answered(topic: &str, partitions: &[i32]) -> TopicProduceResponse {
    TopicProduceResponse::default()
        .with_name(name(topic))
        .with_partition_responses(
            partitions
                .iter()
                .map(|&p| PartitionProduceResponse::default().with_index(p))
                .collect(),
        )
}

fn layout(topics: &[TopicProduceResponse]) -> Vec<(String, Vec<(i32, i16)>)> {
    topics
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.partition_responses
                    .iter()
                    .map(|p| (p.index, p.error_code))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn stripped_partitions_come_back_as_errors_in_the_request_order() {
    let mut request = vec![
        produce_topic("a", &[0, 1, 2]),
        produce_topic("b", &[1]),
        produce_topic("c", &[1, 0]),
    ];
    let plan = strip(&mut request, |k| k.name.to_string(), |_, p| p == 1);
    // "b" lost its only partition and is not sent; "a" and "c" keep the rest.
    let left: Vec<_> = request
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.partition_data.iter().map(|p| p.index).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(left, [("a".into(), vec![0, 2]), ("c".into(), vec![0])]);
    assert!(plan.refused_any() && plan.has_rest());
    // The handler may answer in its own order; the merge restores the request's.
    let merged = merge(
        &plan,
        vec![answered("c", &[0]), answered("a", &[2, 0])],
        |i| produce_error(i, 6),
    );
    assert_eq!(
        layout(&merged),
        [
            ("a".into(), vec![(0, 0), (1, 6), (2, 0)]),
            ("b".into(), vec![(1, 6)]),
            ("c".into(), vec![(1, 6), (0, 0)]),
        ]
    );
}

#[test]
fn a_request_refused_entirely_has_nothing_left_to_send() {
    let mut request = vec![produce_topic("a", &[0]), produce_topic("a", &[1])];
    let plan = strip(&mut request, |k| k.name.to_string(), |_, _| true);
    assert!(request.is_empty() && !plan.has_rest());
    let merged = merge(&plan, Vec::new(), |i| produce_error(i, 6));
    assert_eq!(
        layout(&merged),
        [("a".into(), vec![(0, 6)]), ("a".into(), vec![(1, 6)])]
    );
    assert_eq!(merged[0].partition_responses[0].base_offset, -1);
}

#[test]
fn duplicate_topics_and_unexpected_answers_are_not_lost() {
    let mut request = vec![produce_topic("a", &[0]), produce_topic("a", &[0, 1])];
    let plan = strip(&mut request, |k| k.name.to_string(), |_, p| p == 1);
    let merged = merge(
        &plan,
        vec![
            answered("a", &[0]),
            answered("a", &[0]),
            answered("z", &[9]),
        ],
        |i| produce_error(i, 6),
    );
    assert_eq!(
        layout(&merged),
        [
            ("a".into(), vec![(0, 0)]),
            ("a".into(), vec![(0, 0), (1, 6)]),
            ("z".into(), vec![(9, 0)]),
        ]
    );
}

#[test]
fn topics_given_by_id_pair_up_by_id() {
    let id = Uuid::from_u128(7);
    let mut request = vec![
        TopicProduceData::default()
            .with_topic_id(id)
            .with_partition_data(vec![
                PartitionProduceData::default().with_index(0),
                PartitionProduceData::default().with_index(1),
            ]),
    ];
    let plan = strip(
        &mut request,
        |k| {
            if k.id == id {
                "t".into()
            } else {
                String::new()
            }
        },
        |topic, p| topic == "t" && p == 0,
    );
    let answer = TopicProduceResponse::default()
        .with_topic_id(id)
        .with_partition_responses(vec![PartitionProduceResponse::default().with_index(1)]);
    let merged = merge(&plan, vec![answer], |i| produce_error(i, 6));
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].topic_id, id);
    let codes: Vec<_> = merged[0]
        .partition_responses
        .iter()
        .map(|p| (p.index, p.error_code))
        .collect();
    assert_eq!(codes, [(0, 6), (1, 0)]);
}

#[test]
fn overwrite_replaces_only_the_selected_answers() {
    let mut answer = vec![answered("a", &[0, 1]), answered("b", &[1])];
    answer[0].partition_responses[1].base_offset = 42;
    overwrite(
        &mut answer,
        |k| k.name.to_string(),
        |topic, p| topic == "a" && p == 1,
        |i| produce_error(i, 7),
    );
    assert_eq!(
        layout(&answer),
        [
            ("a".into(), vec![(0, 0), (1, 7)]),
            ("b".into(), vec![(1, 0)])
        ]
    );
    assert_eq!(answer[0].partition_responses[1].base_offset, -1);
}
