//! The request log over real sockets: what a client sent shows up in
//! `Cluster::requests` (and `GET /v1/requests`) in the order it was answered, with the
//! topics, partitions, group and errors of each request, bounded by its size.

mod support;

use support::binary::Binary;

use broker_sim::{Cluster, Fault, RequestFilter, RequestLogEntry};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    ApiKey, FetchRequest, InitProducerIdRequest, OffsetCommitRequest, ProduceRequest,
    RequestHeader, TransactionalId,
};
use kafka_protocol::protocol::{Encodable, Request, StrBytes};
use serde_json::Value;
use support::*;

fn cluster_with(size: usize) -> Cluster {
    Cluster::builder()
        .brokers(3)
        .topic("orders", 2)
        .topic("audit", 1)
        .request_log_size(size)
        .start()
        .expect("cluster starts")
}

fn cluster() -> Cluster {
    cluster_with(broker_sim::DEFAULT_REQUEST_LOG_SIZE)
}

fn apis(entries: &[RequestLogEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.api.as_str()).collect()
}

fn seqs(entries: &[RequestLogEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

fn topics(entry: &RequestLogEntry) -> Vec<(&str, Vec<i32>)> {
    entry
        .topics
        .iter()
        .map(|t| (t.topic.as_str(), t.partitions.clone()))
        .collect()
}

/// Sends `request` with `client_id` in its header and returns the answer.
fn send_as<R: Request>(conn: &mut Conn, client_id: &str, version: i16, request: &R) -> R::Response {
    let correlation_id = 7_000;
    let mut payload = bytes::BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_string(client_id.to_string())))
        .encode(
            &mut payload,
            ApiKey::try_from(R::KEY)
                .unwrap()
                .request_header_version(version),
        )
        .expect("header encodes");
    payload.extend_from_slice(&encode_body(request, version));
    conn.write_raw(&frame(&payload)).expect("request written");
    conn.read::<R>(version, correlation_id)
        .expect("request answered")
}

#[test]
fn a_produce_retried_after_not_leader_shows_as_two_produce_entries() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .topic("orders")
                .error(ResponseError::NotLeaderOrFollower)
                .once(),
        )
        .unwrap();
    let mut conn = Conn::to_leader(&cluster, "orders", 0);
    let request = produce_request("orders", 0, batch_of(&["a", "b", "c"]));
    let first = conn.send(9, &request);
    assert_error(
        only_partition(&first).error_code,
        ResponseError::NotLeaderOrFollower,
        "first attempt",
    );
    assert_no_error(only_partition(&conn.send(9, &request)).error_code, "retry");

    let produces = cluster.requests(&RequestFilter::default().api("Produce"));
    assert_eq!(produces.len(), 2, "{produces:#?}");
    assert_eq!(produces[0].errors, ["NOT_LEADER_OR_FOLLOWER"]);
    assert!(produces[1].errors.is_empty());
    for (entry, correlation_id) in produces.iter().zip([1, 2]) {
        assert_eq!(entry.api_key, 0);
        assert_eq!(entry.api_version, 9);
        assert_eq!(entry.correlation_id, correlation_id);
        assert_eq!(entry.client_id, CLIENT_ID);
        assert_eq!(entry.principal, "User:ANONYMOUS");
        assert_eq!(entry.broker, leader(&cluster, "orders", 0));
        assert_eq!(topics(entry), [("orders", vec![0])]);
        assert_eq!(entry.records, Some(3));
        assert_eq!(entry.acks, Some(-1));
        assert!(!entry.dropped);
    }
    assert_eq!(
        produces[0].connection, produces[1].connection,
        "one connection"
    );
    assert!(produces[0].seq < produces[1].seq);
    let failed = cluster.requests(&RequestFilter::default().error("not_leader_or_follower"));
    assert_eq!(seqs(&failed), [produces[0].seq]);
}

#[test]
fn an_offset_commit_after_a_fetch_is_logged_after_it_with_its_group_and_partitions() {
    let cluster = cluster();
    produce(&cluster, "orders", 1, batch_of(&["x", "y"]));
    let fetched = Conn::to_leader(&cluster, "orders", 1).send(12, &fetch_request("orders", 1, 0));
    assert_no_error(fetched.responses[0].partitions[0].error_code, "fetch");
    let commit = commit_request("g", -1, "", &[("orders", 1, 2), ("audit", 0, 0)], None, -1);
    let committed = Conn::to_coordinator(&cluster, "g").send(8, &commit);
    assert_no_error(committed.topics[0].partitions[0].error_code, "commit");

    let log = cluster.requests(&RequestFilter::default());
    let order: Vec<&str> = apis(&log)
        .into_iter()
        .filter(|api| *api != "Metadata" && *api != "FindCoordinator")
        .collect();
    assert_eq!(order, ["Produce", "Fetch", "OffsetCommit"]);
    let fetch = log.iter().find(|e| e.api == "Fetch").unwrap();
    assert_eq!(topics(fetch), [("orders", vec![1])]);
    assert_eq!(fetch.records, Some(2), "records in the answer");
    assert_eq!(fetch.max_wait_ms, Some(0));
    assert_eq!(fetch.group, None);
    let commit = log.iter().find(|e| e.api == "OffsetCommit").unwrap();
    assert_eq!(commit.group.as_deref(), Some("g"));
    assert_eq!(commit.groups, ["g"]);
    assert_eq!(topics(commit), [("orders", vec![1]), ("audit", vec![0])]);
    assert!(commit.errors.is_empty());
    assert_eq!(commit.broker, coordinator(&cluster, "g"));
}

#[test]
fn filters_select_by_api_client_broker_topic_group_error_since_and_limit() {
    let cluster = cluster();
    let orders_leader = leader(&cluster, "orders", 0);
    let coordinator = coordinator(&cluster, "g");
    cluster.clear_requests();
    let mut conn = Conn::to_broker(&cluster, orders_leader);
    send_as(&mut conn, "svc", 12, &metadata_request(&["orders"]));
    send_as(&mut conn, "svc", 12, &fetch_request("orders", 0, 0));
    send_as(&mut conn, "other", 12, &fetch_request("audit", 0, 0));
    let commit = commit_request("g", -1, "", &[("orders", 0, 0)], None, -1);
    Conn::to_broker(&cluster, coordinator).send(8, &commit);
    let stale = commit_request("g", 5, "gone", &[("orders", 0, 0)], None, -1);
    let refusal = Conn::to_broker(&cluster, coordinator).send(8, &stale);
    let code = refusal.topics[0].partitions[0].error_code;
    let refusal = broker_sim::faults::kafka_name(ResponseError::try_from_code(code).unwrap());
    assert_ne!(
        code, 0,
        "a commit by an unknown member of an old generation is refused"
    );

    let pick = |filter: RequestFilter| apis(&cluster.requests(&filter)).join(",");
    assert_eq!(
        pick(RequestFilter::default()),
        "Metadata,Fetch,Fetch,OffsetCommit,OffsetCommit"
    );
    assert_eq!(pick(RequestFilter::default().api("fetch")), "Fetch,Fetch");
    assert_eq!(
        pick(RequestFilter::default().client_id("svc")),
        "Metadata,Fetch"
    );
    let on_leader = cluster.requests(&RequestFilter::default().broker(orders_leader));
    assert!(on_leader.iter().all(|e| e.broker == orders_leader));
    let commits_there = if coordinator == orders_leader { 2 } else { 0 };
    assert_eq!(on_leader.len(), 3 + commits_there);
    assert_eq!(pick(RequestFilter::default().topic("audit")), "Fetch");
    assert_eq!(
        pick(RequestFilter::default().topic("orders")),
        "Metadata,Fetch,OffsetCommit,OffsetCommit"
    );
    assert_eq!(
        pick(RequestFilter::default().group("g")),
        "OffsetCommit,OffsetCommit"
    );
    let refused = cluster.requests(&RequestFilter::default().error(refusal.as_str()));
    assert_eq!(apis(&refused), ["OffsetCommit"], "{refused:#?}");
    assert_eq!(refused[0].errors, [refusal]);
    assert!(
        cluster
            .requests(&RequestFilter::default().error("NOT_COORDINATOR"))
            .is_empty()
    );

    let all = cluster.requests(&RequestFilter::default());
    let after_second = RequestFilter::default().since(all[1].seq);
    assert_eq!(seqs(&cluster.requests(&after_second)), seqs(&all[2..]));
    assert_eq!(
        seqs(&cluster.requests(&RequestFilter::default().api("Fetch").limit(1))),
        [all[2].seq]
    );
    assert_eq!(
        pick(
            RequestFilter::default()
                .client_id("svc")
                .api("Fetch")
                .topic("orders")
        ),
        "Fetch"
    );
}

#[test]
fn the_ring_keeps_the_last_entries_and_counts_those_it_dropped() {
    let cluster = cluster_with(3);
    let mut conn = Conn::to_broker(&cluster, 1);
    for _ in 0..5 {
        metadata(&mut conn, 12, &["orders"]);
    }
    let log = cluster.requests(&RequestFilter::default());
    assert_eq!(seqs(&log), [3, 4, 5]);
    let correlation_ids: Vec<i32> = log.iter().map(|e| e.correlation_id).collect();
    assert_eq!(correlation_ids, [3, 4, 5]);
    let status = cluster.request_log_status();
    assert_eq!(
        (status.capacity, status.len, status.dropped, status.last_seq),
        (3, 3, 2, 5)
    );

    assert_eq!(cluster.clear_requests(), 3);
    metadata(&mut conn, 12, &["orders"]);
    assert_eq!(
        seqs(&cluster.requests(&RequestFilter::default())),
        [6],
        "seq goes on"
    );
}

#[test]
fn an_authorization_refusal_is_logged_with_its_error() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("orders", 1)
        .authorizer(true)
        .start()
        .expect("cluster starts");
    let answer =
        Conn::to_broker(&cluster, 1).send(9, &produce_request("orders", 0, batch_of(&["a"])));
    assert_error(
        only_partition(&answer).error_code,
        ResponseError::TopicAuthorizationFailed,
        "produce without an ACL",
    );
    let log = cluster.requests(&RequestFilter::default().api("Produce"));
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].errors, ["TOPIC_AUTHORIZATION_FAILED"]);
    assert_eq!(topics(&log[0]), [("orders", vec![0])]);
}

#[test]
fn a_transactional_request_names_its_transactional_id() {
    let cluster = cluster();
    let request = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(str_bytes("tx-1"))))
        .with_transaction_timeout_ms(60_000);
    let answer = Conn::to_broker(&cluster, 1).send(4, &request);
    let log = cluster.requests(&RequestFilter::default().api("InitProducerId"));
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].transactional_id.as_deref(), Some("tx-1"));
    assert_eq!(log[0].group, None);
    // Broker 1 may not coordinate "tx-1": whatever it answered is what the log says.
    let expected: Vec<String> = ResponseError::try_from_code(answer.error_code)
        .map(broker_sim::faults::kafka_name)
        .into_iter()
        .collect();
    assert_eq!(log[0].errors, expected);
}

#[test]
fn size_zero_turns_the_log_off() {
    let cluster = cluster_with(0);
    metadata(&mut Conn::to_broker(&cluster, 1), 12, &["orders"]);
    assert!(cluster.requests(&RequestFilter::default()).is_empty());
    assert_eq!(cluster.request_log_status().last_seq, 0);
}

#[test]
fn a_connection_closed_by_a_fault_is_logged_as_dropped() {
    let cluster = cluster();
    cluster
        .inject(Fault::on(ApiKey::Metadata).close_connection().once())
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 2);
    conn.write(12, &metadata_request(&["orders"]));
    conn.assert_closed("close_connection fault");
    let log = cluster.requests(&RequestFilter::default());
    assert_eq!(apis(&log), ["Metadata"]);
    assert!(log[0].dropped);
    assert!(log[0].errors.is_empty());
    assert_eq!(topics(&log[0]), [("orders", vec![])]);
}

#[test]
fn a_long_poll_fetch_is_logged_when_it_is_answered() {
    let cluster = cluster();
    let mut consumer = Conn::to_leader(&cluster, "orders", 0);
    let mut poll = fetch_request("orders", 0, 0);
    poll.max_wait_ms = 30_000;
    poll.min_bytes = 1;
    let correlation_id = consumer.write(12, &poll);
    produce(&cluster, "orders", 0, batch_of(&["late"]));
    let answer = consumer.read::<FetchRequest>(12, correlation_id).unwrap();
    assert_no_error(answer.responses[0].partitions[0].error_code, "long poll");
    let log = cluster.requests(&RequestFilter::default().topic("orders"));
    assert_eq!(
        apis(&log),
        ["Produce", "Fetch"],
        "logged in the order answered"
    );
    assert_eq!(log[1].max_wait_ms, Some(30_000));
    assert_eq!(log[1].records, Some(1));
}

#[test]
fn an_entry_serialises_with_every_field() {
    let cluster = cluster();
    let request: ProduceRequest = produce_request("orders", 0, batch_of(&["v"]));
    Conn::to_leader(&cluster, "orders", 0).send(9, &request);
    let entry = &cluster.requests(&RequestFilter::default())[0];
    let json = serde_json::to_value(entry).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "seq",
        "time_ms",
        "broker",
        "connection",
        "client_id",
        "api",
        "api_key",
        "api_version",
        "correlation_id",
        "principal",
        "topics",
        "group",
        "groups",
        "transactional_id",
        "errors",
        "dropped",
        "latency_us",
        "records",
        "acks",
        "max_wait_ms",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(
        json["topics"],
        serde_json::json!([{"topic": "orders", "partitions": [0]}])
    );
    let back: RequestLogEntry = serde_json::from_value(json).unwrap();
    assert_eq!(&back, entry);
}

impl Binary {
    fn call(&self, method: &str, path: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.control);
        let response = match method {
            "GET" => self.http.get(url).call(),
            _ => self.http.delete(url).call(),
        };
        let mut response = response.expect("the control API answers");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path)
    }

    fn broker(&self) -> Conn {
        Conn::connect(self.bootstrap.split(',').next().unwrap())
    }
}

fn apis_of(body: &Value) -> Vec<String> {
    body["requests"]
        .as_array()
        .unwrap_or_else(|| panic!("no requests in {body}"))
        .iter()
        .map(|e| e["api"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn http_lists_filters_and_clears_the_request_log() {
    let sim = Binary::start(&[
        "--brokers",
        "1",
        "--topic",
        "orders:1",
        "--request-log-size",
        "4",
    ]);
    let mut conn = sim.broker();
    metadata(&mut conn, 12, &["orders"]);
    conn.send(9, &produce_request("orders", 0, batch_of(&["a"])));
    let commit: OffsetCommitRequest = commit_request("g", -1, "", &[("orders", 0, 1)], None, -1);
    conn.send(8, &commit);

    let (status, all) = sim.get("/v1/requests");
    assert_eq!(status, 200, "{all}");
    assert_eq!(apis_of(&all), ["Metadata", "Produce", "OffsetCommit"]);
    assert_eq!(all["last_seq"], 3);
    assert_eq!(all["dropped"], 0);
    let produce = &all["requests"][1];
    assert_eq!(
        produce["topics"],
        serde_json::json!([{"topic": "orders", "partitions": [0]}])
    );
    assert_eq!(produce["records"], 1);
    assert_eq!(produce["errors"], serde_json::json!([]));

    let (_, found) = sim.get("/v1/requests?api=offsetcommit&group=g&topic=orders&broker=1");
    assert_eq!(apis_of(&found), ["OffsetCommit"]);
    assert_eq!(found["requests"][0]["group"], "g");
    let (_, found) = sim.get(&format!(
        "/v1/requests?client_id={CLIENT_ID}&since=1&limit=1"
    ));
    assert_eq!(apis_of(&found), ["OffsetCommit"]);
    let (_, none) = sim.get("/v1/requests?error=NOT_LEADER_OR_FOLLOWER");
    assert_eq!(apis_of(&none), Vec::<String>::new());

    // Two more: the ring of 4 drops the oldest.
    metadata(&mut conn, 12, &["orders"]);
    metadata(&mut conn, 12, &["orders"]);
    let (_, full) = sim.get("/v1/requests");
    assert_eq!(
        apis_of(&full),
        ["Produce", "OffsetCommit", "Metadata", "Metadata"]
    );
    assert_eq!(full["dropped"], 1);

    for (query, needle) in [
        ("api=Bogus", "unknown api \"Bogus\""),
        ("error=NOPE", "unknown error \"NOPE\""),
        ("error=UNKNOWN(5000)", "unknown error"),
        ("since=x", "since"),
        ("limit=-1", "limit"),
        ("broker=9", "unknown broker 9"),
        ("colour=red", "unknown parameter \"colour\""),
    ] {
        let (status, body) = sim.get(&format!("/v1/requests?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"].as_str().unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }

    let (status, cleared) = sim.call("DELETE", "/v1/requests");
    assert_eq!((status, &cleared["cleared"]), (200, &Value::from(4)));
    let (_, empty) = sim.get("/v1/requests");
    assert_eq!(apis_of(&empty), Vec::<String>::new());
    assert_eq!(empty["last_seq"], 5);
}
