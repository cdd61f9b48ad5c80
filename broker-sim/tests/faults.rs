//! Fault rules observed over real sockets: each action, selectors, and hit counting.

mod support;

use std::time::Duration;

use broker_sim::{Cluster, Fault};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{ApiKey, HeartbeatRequest, ProduceRequest, ProduceResponse};
use support::*;

fn two_partition_produce(conn: &mut Conn) -> ProduceResponse {
    let mut request = produce_request("t", 0, batch_of(&["zero"]));
    let other = produce_request("t", 1, batch_of(&["one"]));
    request.topic_data[0]
        .partition_data
        .extend(other.topic_data[0].partition_data.clone());
    conn.send(9, &request)
}

fn code_of(response: &ProduceResponse, partition: i32) -> i16 {
    response
        .responses
        .iter()
        .flat_map(|t| &t.partition_responses)
        .find(|p| p.index == partition)
        .unwrap_or_else(|| panic!("no answer for partition {partition}: {response:?}"))
        .error_code
}

/// One broker, so both partitions of "t" have the same leader.
fn cluster() -> Cluster {
    Cluster::builder().brokers(1).topic("t", 2).start().unwrap()
}

#[test]
fn a_partition_error_refuses_only_the_selected_partition_and_writes_the_rest() {
    let cluster = cluster();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .topic("t")
                .partition(1)
                .error(ResponseError::NotLeaderOrFollower)
                .once(),
        )
        .unwrap();
    let response = two_partition_produce(&mut Conn::to_broker(&cluster, 1));
    assert_no_error(code_of(&response, 0), "partition 0 is served");
    assert_error(
        code_of(&response, 1),
        ResponseError::NotLeaderOrFollower,
        "partition 1",
    );
    assert_eq!(cluster.partition_records("t", 0).len(), 1);
    assert!(
        cluster.partition_records("t", 1).is_empty(),
        "refused means not written"
    );
    assert_eq!(cluster.fault_hits(id), Some(1));
    // Once: the retry goes through.
    let response = two_partition_produce(&mut Conn::to_broker(&cluster, 1));
    assert_no_error(code_of(&response, 1), "after the rule is spent");
    assert_eq!(cluster.faults()[0].hits, 1);
}

#[test]
fn apply_then_error_writes_the_batch_and_still_reports_a_timeout() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_request("t", 0, batch_of(&["x"])));
    assert_error(
        only_partition(&response).error_code,
        ResponseError::RequestTimedOut,
        "answer",
    );
    assert_eq!(
        cluster.partition_records("t", 0).len(),
        1,
        "but it was written"
    );
}

#[test]
fn a_whole_request_error_answers_apis_without_partitions() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::Heartbeat)
                .group("g")
                .error(ResponseError::CoordinatorNotAvailable),
        )
        .unwrap();
    let heartbeat = HeartbeatRequest::default()
        .with_group_id(group_id("g"))
        .with_member_id(str_bytes("m"))
        .with_generation_id(1);
    let response = Conn::to_broker(&cluster, 1).send(3, &heartbeat);
    assert_error(
        response.error_code,
        ResponseError::CoordinatorNotAvailable,
        "heartbeat",
    );
    // Another group is not selected.
    let other = heartbeat.with_group_id(group_id("other"));
    let response = Conn::to_coordinator(&cluster, "other").send(3, &other);
    assert_ne!(
        response.error_code,
        ResponseError::CoordinatorNotAvailable.code()
    );
}

#[test]
fn close_connection_and_no_response_and_their_apply_first_variants() {
    let cluster = cluster();
    let close = cluster
        .inject(Fault::on(ApiKey::Produce).close_connection().once())
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write(9, &produce_request("t", 0, batch_of(&["closed"])));
    conn.assert_closed("close_connection");
    assert!(cluster.partition_records("t", 0).is_empty());
    assert!(cluster.wait_for_fault(close, 1, Duration::from_secs(5)));

    cluster
        .inject(Fault::on(ApiKey::Produce).no_response().once())
        .unwrap();
    let mut hung = Conn::to_broker(&cluster, 1);
    hung.write(9, &produce_request("t", 0, batch_of(&["unanswered"])));
    assert!(!hung.answer_pending(Duration::from_millis(200)));
    // Nothing after it on that connection is answered either.
    hung.write(12, &metadata_request(&["t"]));
    assert!(!hung.answer_pending(Duration::from_millis(100)));
    assert!(cluster.partition_records("t", 0).is_empty());

    cluster
        .inject(Fault::on(ApiKey::Produce).apply_then_close().once())
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write(9, &produce_request("t", 0, batch_of(&["applied"])));
    conn.assert_closed("apply_then_close");
    assert_eq!(cluster.partition_records("t", 0).len(), 1);
}

#[test]
fn throttle_reports_throttle_time_and_latency_still_answers() {
    let cluster = cluster();
    let throttle = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .throttle(Duration::from_millis(30))
                .once(),
        )
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_request("t", 0, batch_of(&["a"])));
    assert_eq!(response.throttle_time_ms, 30);
    assert_eq!(cluster.fault_hits(throttle), Some(1));
    let latency = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .latency(Duration::from_millis(20))
                .once(),
        )
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_request("t", 0, batch_of(&["b"])));
    assert_no_error(only_partition(&response).error_code, "delayed produce");
    assert_eq!(cluster.fault_hits(latency), Some(1));
    assert_eq!(cluster.partition_records("t", 0).len(), 2);
}

#[test]
fn selectors_by_broker_and_client_id_and_removal() {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().unwrap();
    let leader = leader(&cluster, "t", 0);
    let other = follower(&cluster, "t", 0);
    let id = cluster
        .inject(
            Fault::any()
                .broker(other)
                .client_id(CLIENT_ID)
                .close_connection(),
        )
        .unwrap();
    // The leader is not selected.
    produce(&cluster, "t", 0, batch_of(&["ok"]));
    let mut conn = Conn::to_broker(&cluster, other);
    conn.write(12, &metadata_request(&["t"]));
    conn.assert_closed("broker selector");
    assert!(cluster.remove_fault(id));
    assert!(cluster.faults().is_empty());
    metadata(&mut Conn::to_broker(&cluster, other), 12, &["t"]);
    let _ = leader;
}

#[test]
fn probabilistic_rules_hit_the_same_requests_for_the_same_seed() {
    let run = |seed: u64| {
        let cluster = Cluster::builder()
            .brokers(1)
            .seed(seed)
            .topic("t", 1)
            .start()
            .unwrap();
        cluster
            .inject(
                Fault::on(ApiKey::Produce)
                    .error(ResponseError::NotEnoughReplicas)
                    .probability(0.5),
            )
            .unwrap();
        let mut conn = Conn::to_broker(&cluster, 1);
        (0..24)
            .map(|i| {
                let request: ProduceRequest = produce_request("t", 0, batch_of(&[&i.to_string()]));
                only_partition(&conn.send(9, &request)).error_code != 0
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    assert!(run(3).iter().any(|f| *f) && run(3).iter().any(|f| !*f));
}

#[test]
fn bad_rules_are_refused() {
    let cluster = cluster();
    let err = cluster
        .inject(Fault::any().no_response().probability(2.0))
        .unwrap_err();
    assert_eq!(err.code, ResponseError::InvalidRequest);
    assert!(!cluster.remove_fault(broker_sim::FaultId(99)));
}
