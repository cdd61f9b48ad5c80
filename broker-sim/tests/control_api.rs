//! The binary's HTTP/JSON control API, end to end: each test starts the real `broker-sim`
//! binary on ephemeral broker and control ports, reads both addresses from its stdout (the
//! bootstrap list first, as scripts expect, then `control=http://...`), writes through the
//! Kafka wire protocol and inspects or steers the cluster over HTTP.
//!
//! The child process is killed when its [`BrokerSim`] guard drops, also when a test fails.
//! Nothing waits on time: startup waits (bounded) for the lines the binary prints, and every
//! request is answered before the next is sent.

mod support;

use support::binary::{Binary as BrokerSim, DEADLINE};

use std::time::Duration;

use broker_sim::NewRecord;
use broker_sim_protocol::batch::{self, Codec};
use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::FindCoordinatorRequest;
use serde_json::{Value, json};

use support::*;

impl BrokerSim {
    /// Three brokers with topic "t" of two partitions, no auto-creation.
    fn standard() -> BrokerSim {
        BrokerSim::start(&["--topic", "t:2", "--no-auto-create"])
    }

    fn get(&self, path: &str) -> (u16, Value) {
        answer(self.http.get(format!("{}{path}", self.control)).call())
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        answer(
            self.http
                .post(format!("{}{path}", self.control))
                .header("content-type", "application/json")
                .send(body),
        )
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        answer(self.http.delete(format!("{}{path}", self.control)).call())
    }

    /// `GET path` of a text endpoint, which must answer 200: (content type, body).
    fn get_text(&self, path: &str) -> (String, String) {
        let mut response = self
            .http
            .get(format!("{}{path}", self.control))
            .call()
            .expect("the control API answers");
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.body_mut().read_to_string().expect("body reads");
        (content_type, body)
    }

    /// The address of broker `id`, from `GET /v1/cluster`.
    fn broker_addr(&self, id: i64) -> String {
        let cluster = self.get_ok("/v1/cluster");
        let broker = cluster["brokers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .unwrap_or_else(|| panic!("no broker {id} in {cluster}"));
        format!("{}:{}", broker["host"].as_str().unwrap(), broker["port"])
    }

    /// A connection to the leader of `topic`-`partition`, found through the control API.
    fn to_leader(&self, topic: &str, partition: usize) -> Conn {
        let leader = self.get_ok(&format!("/v1/topics/{topic}"))["partitions"][partition]["leader"]
            .as_i64()
            .unwrap();
        Conn::connect(self.broker_addr(leader))
    }

    /// Produces `records` to `topic`-`partition` as one batch; returns (error code, base
    /// offset).
    fn produce(&self, topic: &str, partition: i32, records: &[NewRecord]) -> (i16, i64) {
        let batch = batch::encode_batch(records, Codec::None).expect("batch encodes");
        let response = self
            .to_leader(topic, partition as usize)
            .send(12, &produce_request(topic, partition, batch));
        let p = only_partition(&response);
        (p.error_code, p.base_offset)
    }
}

/// (status, JSON body); `null` for an empty body (204).
fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.expect("the control API answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body reads");
    if text.is_empty() {
        return (status, Value::Null);
    }
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer {status} is not JSON ({e}): {text:?}"));
    (status, body)
}

/// Asserts an error answer: the status, and an `error` message containing `needle`.
fn assert_error_answer(answer: (u16, Value), status: u16, needle: &str) {
    let (got, body) = answer;
    assert_eq!(got, status, "{body}");
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {body}"));
    assert!(
        message.contains(needle),
        "{message:?} should mention {needle:?}"
    );
}

fn new_record(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
    timestamp: i64,
) -> NewRecord {
    NewRecord {
        timestamp,
        key: key.map(Bytes::copy_from_slice),
        value: value.map(Bytes::copy_from_slice),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(Bytes::copy_from_slice)))
            .collect(),
    }
}

#[test]
fn first_stdout_line_is_the_bootstrap_list_and_the_cluster_endpoint_describes_it() {
    let sim = BrokerSim::standard();
    let cluster = sim.get_ok("/v1/cluster");
    let brokers = cluster["brokers"].as_array().unwrap();
    assert_eq!(brokers.len(), 3, "{cluster}");
    let listed: Vec<String> = brokers
        .iter()
        .map(|b| format!("{}:{}", b["host"].as_str().unwrap(), b["port"]))
        .collect();
    assert_eq!(sim.bootstrap, listed.join(","));
    assert_eq!(cluster["bootstrap_servers"], sim.bootstrap.as_str());
    for (i, broker) in brokers.iter().enumerate() {
        assert_eq!(broker["id"], i as i64 + 1);
        assert_eq!(broker["up"], true);
        assert_eq!(broker["isolated"], false);
    }
    assert!(
        cluster["cluster_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert!((1..=3).contains(&cluster["controller"].as_i64().unwrap()));

    assert_eq!(sim.get_ok("/v1/topics"), json!({ "topics": ["t"] }));
    let topic = sim.get_ok("/v1/topics/t");
    assert_eq!(topic["name"], "t");
    let partitions = topic["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 2);
    for (i, p) in partitions.iter().enumerate() {
        assert_eq!(p["partition"], i as i64);
        assert_eq!(p["replicas"].as_array().unwrap().len(), 3);
        assert_eq!(p["isr"], p["replicas"]);
        assert_eq!(p["replicas"][0], p["leader"]);
        assert_eq!(p["log_start_offset"], 0);
        assert_eq!(p["high_watermark"], 0);
        assert_eq!(
            p["stats"],
            json!({ "records_in": 0, "bytes_in": 0, "records_out": 0, "bytes_out": 0 })
        );
    }
    assert_eq!(topic["stats"]["records_in"], 0);
}

#[test]
fn records_read_back_as_utf8_or_base64_with_headers_and_nulls() {
    let sim = BrokerSim::standard();
    let records = [
        new_record(
            Some(b"order-1"),
            Some(br#"{"id":1}"#),
            &[
                ("trace", Some(b"abc")),
                ("bin", Some(&[0xff, 0xfe])),
                ("none", None),
            ],
            BASE_TIMESTAMP,
        ),
        // Confluent wire format: not UTF-8.
        new_record(None, Some(&[0, 0, 0, 0, 1, 0xff]), &[], BASE_TIMESTAMP + 1),
        // A tombstone with a key that is not UTF-8.
        new_record(Some(&[0xc3, 0x28]), None, &[], BASE_TIMESTAMP + 2),
    ];
    let (error, base_offset) = sim.produce("t", 0, &records);
    assert_no_error(error, "produce to t-0");
    assert_eq!(base_offset, 0);

    let read = sim.get_ok("/v1/topics/t/records?partition=0");
    assert_eq!(
        read,
        json!({
            "topic": "t",
            "partition": 0,
            "next_offset": 3,
            "records": [
                {
                    "partition": 0, "offset": 0, "timestamp": BASE_TIMESTAMP,
                    "key": "order-1", "key_encoding": "utf8",
                    "value": r#"{"id":1}"#, "value_encoding": "utf8",
                    "headers": [
                        { "key": "trace", "value": "abc", "value_encoding": "utf8" },
                        { "key": "bin", "value": "//4=", "value_encoding": "base64" },
                        { "key": "none", "value": null, "value_encoding": null },
                    ],
                    "transaction": "none",
                },
                {
                    "partition": 0, "offset": 1, "timestamp": BASE_TIMESTAMP + 1,
                    "key": null, "key_encoding": null,
                    "value": "AAAAAAH/", "value_encoding": "base64",
                    // In the wire format, so decoded with the schema registry: its id
                    // names no schema there.
                    "value_decoded": {"schema_id": 1, "error": "schema id 1 is not registered"},
                    "headers": [], "transaction": "none",
                },
                {
                    "partition": 0, "offset": 2, "timestamp": BASE_TIMESTAMP + 2,
                    "key": "wyg=", "key_encoding": "base64",
                    "value": null, "value_encoding": null,
                    "headers": [], "transaction": "none",
                },
            ],
        })
    );

    // offset and limit page through a partition; next_offset is where to go on.
    let page = sim.get_ok("/v1/topics/t/records?partition=0&offset=1&limit=1");
    let offsets: Vec<&Value> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["offset"])
        .collect();
    assert_eq!(offsets, [&json!(1)]);
    assert_eq!(page["next_offset"], 2);
    let past_end = sim.get_ok("/v1/topics/t/records?partition=0&offset=3");
    assert_eq!(past_end["records"], json!([]));
    assert_eq!(past_end["next_offset"], 3);

    // Without a partition: every partition's records (partition 1 has none).
    let all = sim.get_ok("/v1/topics/t/records");
    assert_eq!(all["records"], read["records"]);
    assert_eq!(all.get("partition"), None);

    let topic = sim.get_ok("/v1/topics/t");
    assert_eq!(topic["partitions"][0]["high_watermark"], 3);
    assert_eq!(topic["partitions"][1]["high_watermark"], 0);
}

#[test]
fn a_fault_posted_as_json_fires_counts_its_hits_and_can_be_deleted() {
    let sim = BrokerSim::standard();
    let (status, created) = sim.post(
        "/v1/faults",
        r#"{"match": {"api": "Produce", "topic": "t"},
            "action": {"type": "error", "code": "NOT_LEADER_OR_FOLLOWER"}, "times": 1}"#,
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_u64().expect("a numeric fault id");

    let listed = sim.get_ok("/v1/faults");
    let faults = listed["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 1, "{listed}");
    assert_eq!(faults[0]["id"], id);
    assert_eq!(faults[0]["hits"], 0);
    assert_eq!(
        faults[0]["match"],
        json!({ "api": "Produce", "topic": "t" })
    );

    let record = [new_record(None, Some(b"v"), &[], BASE_TIMESTAMP)];
    let (error, _) = sim.produce("t", 0, &record);
    assert_error(
        error,
        ResponseError::NotLeaderOrFollower,
        "produce under the fault",
    );
    let fault = sim.get_ok(&format!("/v1/faults/{id}"));
    assert_eq!(fault["hits"], 1, "{fault}");
    // times: 1, so the next produce goes through.
    let (error, _) = sim.produce("t", 0, &record);
    assert_no_error(error, "produce after the fault's one hit");

    let (status, _) = sim.delete(&format!("/v1/faults/{id}"));
    assert_eq!(status, 204);
    assert_error_answer(sim.get(&format!("/v1/faults/{id}")), 404, "unknown fault");
    assert_error_answer(
        sim.delete(&format!("/v1/faults/{id}")),
        404,
        "unknown fault",
    );

    // DELETE /v1/faults clears every rule.
    for _ in 0..2 {
        let (status, body) = sim.post(
            "/v1/faults",
            r#"{"match": {"api": "Fetch"}, "action": {"type": "close_connection"}}"#,
        );
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(
        sim.get_ok("/v1/faults")["faults"].as_array().unwrap().len(),
        2
    );
    assert_eq!(sim.delete("/v1/faults").0, 204);
    assert_eq!(sim.get_ok("/v1/faults"), json!({ "faults": [] }));
}

#[test]
fn unknown_topics_partitions_brokers_groups_faults_and_paths_answer_404_naming_them() {
    let sim = BrokerSim::standard();
    assert_error_answer(sim.get("/v1/topics/nope"), 404, "unknown topic \"nope\"");
    assert_error_answer(
        sim.get("/v1/topics/nope/records"),
        404,
        "unknown topic \"nope\"",
    );
    assert_error_answer(
        sim.get("/v1/topics/t/records?partition=7"),
        404,
        "no partition 7",
    );
    assert_error_answer(
        sim.post("/v1/topics/t/partitions/7/leader", r#"{"broker": 1}"#),
        404,
        "no partition 7",
    );
    assert_error_answer(
        sim.post("/v1/topics/t/partitions/0/leader", r#"{"broker": 9}"#),
        404,
        "unknown broker 9",
    );
    assert_error_answer(sim.post("/v1/brokers/9/stop", ""), 404, "unknown broker 9");
    assert_error_answer(sim.post("/v1/brokers/1/explode", ""), 404, "\"explode\"");
    assert_error_answer(sim.get("/v1/groups/nope"), 404, "unknown group \"nope\"");
    assert_error_answer(
        sim.post("/v1/groups/nope/members/m/expire", ""),
        404,
        "unknown group \"nope\"",
    );
    assert_error_answer(sim.get("/v1/faults/42"), 404, "unknown fault 42");
    assert_error_answer(sim.get("/v1/nothing/here"), 404, "/v1/nothing/here");
    assert_error_answer(sim.delete("/v1/cluster"), 405, "/v1/cluster");
}

#[test]
fn malformed_json_and_bad_parameters_answer_400_naming_the_problem() {
    let sim = BrokerSim::standard();
    assert_error_answer(
        sim.post("/v1/faults", "{\"match\": "),
        400,
        "malformed JSON",
    );
    assert_error_answer(
        sim.post(
            "/v1/faults",
            r#"{"match": {"api": "Nope"}, "action": {"type": "close_connection"}}"#,
        ),
        400,
        "unknown API \"Nope\"",
    );
    assert_error_answer(
        sim.post("/v1/faults", r#"{"action": {"type": "explode"}}"#),
        400,
        "explode",
    );
    let (status, refused) = sim.post(
        "/v1/faults",
        r#"{"action": {"type": "close_connection"}, "probability": 2}"#,
    );
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["code"], "INVALID_REQUEST",
        "the cluster's own refusal"
    );
    assert_error_answer(
        sim.post("/v1/topics/t/partitions/0/leader", "{}"),
        400,
        "missing field `broker`",
    );
    assert_error_answer(
        sim.post("/v1/topics/t/partitions/x/leader", r#"{"broker": 1}"#),
        400,
        "partition \"x\"",
    );
    assert_error_answer(
        sim.get("/v1/topics/t/records?partition=first"),
        400,
        "partition \"first\"",
    );
    assert_error_answer(
        sim.get("/v1/topics/t/records?limit=-1"),
        400,
        "limit \"-1\"",
    );
    assert_error_answer(
        sim.get("/v1/topics/t/records?partiton=0"),
        400,
        "unknown parameter \"partiton\"",
    );
    assert_error_answer(
        sim.post("/v1/brokers/one/stop", ""),
        400,
        "broker id \"one\"",
    );
    assert_error_answer(sim.get("/v1/faults/first"), 400, "fault id \"first\"");
    assert_error_answer(sim.post("/v1/clock/advance", r#"{"ms": -5}"#), 400, "ms");
}

#[test]
fn a_group_shows_its_member_assignment_and_lag_and_an_expired_member_leaves_it() {
    let sim = BrokerSim::standard();
    let values: Vec<NewRecord> = (0..3)
        .map(|i| new_record(None, Some(b"v"), &[], BASE_TIMESTAMP + i))
        .collect();
    assert_no_error(sim.produce("t", 0, &values).0, "produce to t-0");

    // One consumer joins "g", assigns itself both partitions and commits offset 1 of t-0.
    let group = "g";
    let find = FindCoordinatorRequest::default()
        .with_key_type(0)
        .with_key(str_bytes(group));
    let found = Conn::connect(sim.broker_addr(1)).send(3, &find);
    assert_no_error(found.error_code, "FindCoordinator");
    let mut conn = Conn::connect(sim.broker_addr(i64::from(found.node_id.0)));
    let joined = conn.join(5, join_request(group, "", &["range"]));
    assert_no_error(joined.error_code, "JoinGroup");
    let member = joined.member_id.to_string();
    let synced = conn.send(
        3,
        &sync_request(
            group,
            joined.generation_id,
            &member,
            &[(&member, assignment(&[("t", &[0, 1])]))],
        ),
    );
    assert_no_error(synced.error_code, "SyncGroup");
    let committed = conn.send(
        8,
        &commit_request(
            group,
            joined.generation_id,
            &member,
            &[("t", 0, 1)],
            None,
            -1,
        ),
    );
    assert_no_error(committed.topics[0].partitions[0].error_code, "OffsetCommit");

    assert_eq!(sim.get_ok("/v1/groups"), json!({ "groups": ["g"] }));
    let described = sim.get_ok("/v1/groups/g");
    assert_eq!(described["state"], "Stable", "{described}");
    assert_eq!(described["protocol_type"], "consumer");
    assert_eq!(described["protocol"], "range");
    assert_eq!(described["generation"], joined.generation_id);
    assert_eq!(described["leader"], member.as_str());
    assert_eq!(described["coordinator"], found.node_id.0);
    let members = described["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["member_id"], member.as_str());
    assert_eq!(members[0]["group_instance_id"], Value::Null);
    assert_eq!(members[0]["client_id"], CLIENT_ID);
    assert_eq!(members[0]["assignment"], json!({ "t": [0, 1] }));
    assert_eq!(described["offsets"][0]["topic"], "t");
    assert_eq!(described["offsets"][0]["partition"], 0);
    assert_eq!(described["offsets"][0]["offset"], 1);
    assert_eq!(described["offsets"][0]["high_watermark"], 3);
    assert_eq!(described["offsets"][0]["lag"], 2);
    assert_eq!(described["total_lag"], 2);

    let topic = sim.get_ok("/v1/topics/t");
    assert_eq!(topic["stats"]["records_in"], 3, "{topic}");
    assert_eq!(topic["partitions"][0]["stats"]["records_in"], 3);
    assert_eq!(topic["partitions"][1]["stats"]["records_in"], 0);

    let (content_type, metrics) = sim.get_text("/metrics");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    for line in [
        r#"kafka_consumergroup_current_offset{consumergroup="g",topic="t",partition="0"} 1"#,
        r#"kafka_consumergroup_lag{consumergroup="g",topic="t",partition="0"} 2"#,
        r#"kafka_topic_partition_current_offset{topic="t",partition="0"} 3"#,
        r#"broker_sim_topic_partition_records_in_total{topic="t",partition="0"} 3"#,
        "# TYPE kafka_consumergroup_lag gauge",
        "# TYPE broker_sim_topic_partition_records_in_total counter",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "/metrics lacks {line:?}:\n{metrics}"
        );
    }

    let reset = |body: &str| sim.post("/v1/groups/g/reset-offsets", body);
    let (status, refused) = reset(r#"{"topic": "t", "to": "earliest"}"#);
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "NON_EMPTY_GROUP");

    let expire = format!("/v1/groups/g/members/{member}/expire");
    let after = sim.post(&expire, "");
    assert_eq!(after.0, 200, "{}", after.1);
    assert_eq!(after.1["members"], json!([]));
    assert_eq!(
        after.1["offsets"][0]["offset"], 1,
        "commits outlive the member"
    );
    assert_error_answer(
        sim.post(&expire, ""),
        404,
        &format!("no member \"{member}\""),
    );

    // Empty now, the group can be moved back for redelivery, or anywhere in the log.
    let (status, group) = reset(r#"{"topic": "t", "to": "earliest"}"#);
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["offsets"][0]["offset"], 0);
    assert_eq!(group["offsets"][1]["offset"], 0);
    assert_eq!(
        reset(r#"{"topic": "t", "offset": 2}"#).1["offsets"][0]["offset"],
        2
    );
    assert_eq!(
        reset(r#"{"topic": "t", "to": "latest"}"#).1["offsets"][0]["offset"],
        3
    );
    assert_error_answer(reset(r#"{"topic": "t", "to": "start"}"#), 400, "start");
    assert_error_answer(
        reset(r#"{"topic": "t", "offset": 1, "to": "latest"}"#),
        400,
        "exactly one",
    );
    assert_error_answer(reset(r#"{"topic": "nope", "to": "latest"}"#), 404, "nope");
}

#[test]
fn records_posted_as_json_are_seeded_by_partition_key_or_round_robin() {
    let sim = BrokerSim::standard();
    let (status, written) = sim.post(
        "/v1/topics/t/records",
        r#"{"records": [
            {"key": "order-42", "value": "{\"id\": 42}"},
            {"partition": 1, "timestamp": 1767225600000, "value": "AAAAAAH/",
             "value_encoding": "base64", "headers": [{"key": "trace", "value": "abc"}]},
            {"key": "order-42"}
        ]}"#,
    );
    assert_eq!(status, 200, "{written}");
    let by_key = broker_sim::partition_for_key(b"order-42", 2);
    assert_eq!(
        written["records"],
        json!([
            { "partition": by_key, "offset": 0 },
            { "partition": 1, "offset": if by_key == 1 { 1 } else { 0 } },
            { "partition": by_key, "offset": if by_key == 1 { 2 } else { 1 } },
        ])
    );
    let read = sim.get_ok("/v1/topics/t/records?partition=1");
    let seeded = read["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["timestamp"] == 1767225600000i64)
        .unwrap_or_else(|| panic!("no record with the given timestamp in {read}"));
    assert_eq!(seeded["value"], "AAAAAAH/");
    assert_eq!(seeded["value_encoding"], "base64");
    assert_eq!(seeded["key"], Value::Null);
    assert_eq!(seeded["headers"][0]["value"], "abc");
    let tombstone = sim.get_ok(&format!(
        "/v1/topics/t/records?partition={by_key}&offset={}",
        written["records"][2]["offset"]
    ));
    assert_eq!(tombstone["records"][0]["value"], Value::Null);

    // A bad record anywhere writes none of them.
    assert_error_answer(
        sim.post(
            "/v1/topics/t/records",
            r#"{"records": [{"value": "ok"}, {"value": "%%", "value_encoding": "base64"}]}"#,
        ),
        400,
        "records[1].value is not valid base64",
    );
    assert_eq!(sim.get_ok("/v1/topics/t")["stats"]["records_in"], 3);
    assert_eq!(
        sim.get_ok("/v1/topics/t")["misplaced"],
        0,
        "keyed records went by murmur2"
    );
    let elsewhere = 1 - by_key;
    let (status, _) = sim.post(
        "/v1/topics/t/records",
        &format!(r#"{{"records": [{{"partition": {elsewhere}, "key": "order-42"}}]}}"#),
    );
    assert_eq!(status, 200);
    assert_eq!(
        sim.get_ok("/v1/topics/t")["misplaced"],
        1,
        "a keyed record written to another partition is reported"
    );
    assert_error_answer(
        sim.post("/v1/topics/t/records", r#"{"records": [{"partition": 7}]}"#),
        404,
        "t-7",
    );
    assert_error_answer(
        sim.post("/v1/topics/nope/records", r#"{"records": []}"#),
        404,
        "nope",
    );
}

#[test]
fn the_system_clock_is_reported_and_refuses_to_be_advanced() {
    let sim = BrokerSim::standard();
    let clock = sim.get_ok("/v1/clock");
    assert_eq!(clock["manual"], false);
    assert!(clock["now_ms"].as_i64().unwrap() > BASE_TIMESTAMP);
    assert_error_answer(
        sim.post("/v1/clock/advance", r#"{"ms": 1000}"#),
        409,
        "system clock",
    );
}

#[test]
fn a_manual_clock_moves_only_when_advanced_over_http() {
    let sim = BrokerSim::start(&["--manual-clock", "1700000000000"]);
    assert_eq!(
        sim.get_ok("/v1/clock"),
        json!({ "now_ms": 1_700_000_000_000i64, "manual": true })
    );
    let (status, advanced) = sim.post("/v1/clock/advance", r#"{"ms": 1500}"#);
    assert_eq!(status, 200, "{advanced}");
    assert_eq!(advanced["now_ms"], 1_700_000_001_500i64);
    assert_eq!(sim.get_ok("/v1/clock")["now_ms"], 1_700_000_001_500i64);
}

#[test]
fn a_stopped_broker_refuses_connections_until_started_and_is_shown_down() {
    let sim = BrokerSim::standard();
    let addr = sim.broker_addr(2);
    let (status, stopped) = sim.post("/v1/brokers/2/stop", "");
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["id"], 2);
    assert_eq!(stopped["up"], false);
    assert_eq!(sim.get_ok("/v1/cluster")["brokers"][1]["up"], false);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "a stopped broker's port refuses connections"
    );
    for p in sim.get_ok("/v1/topics/t")["partitions"].as_array().unwrap() {
        assert_ne!(p["leader"], 2, "a stopped broker leads nothing: {p}");
    }

    // Stopping it again is refused with Kafka's code.
    let (status, again) = sim.post("/v1/brokers/2/stop", "");
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["code"], "BROKER_NOT_AVAILABLE");
    assert!(again["error"].as_str().unwrap().contains("already stopped"));

    let (status, started) = sim.post("/v1/brokers/2/start", "");
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["up"], true);
    assert_eq!(
        started["port"], stopped["port"],
        "it comes back on its old port"
    );
    let mut conn = Conn::connect(&addr);
    assert_eq!(metadata(&mut conn, 12, &["t"]).topics.len(), 1);

    let (status, isolated) = sim.post("/v1/brokers/3/isolate", "");
    assert_eq!(status, 200, "{isolated}");
    assert_eq!(
        (&isolated["up"], &isolated["isolated"]),
        (&json!(true), &json!(true))
    );
    let (status, healed) = sim.post("/v1/brokers/3/heal", "");
    assert_eq!(status, 200, "{healed}");
    assert_eq!(healed["isolated"], false);
}

#[test]
fn leadership_moves_to_a_named_replica_and_preferred_election_moves_it_back() {
    let sim = BrokerSim::standard();
    let before = sim.get_ok("/v1/topics/t")["partitions"][0].clone();
    let preferred = before["replicas"][0].as_i64().unwrap();
    assert_eq!(before["leader"], preferred);
    let other = before["replicas"][1].as_i64().unwrap();

    let (status, moved) = sim.post(
        "/v1/topics/t/partitions/0/leader",
        &json!({ "broker": other }).to_string(),
    );
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["leader"], other);
    assert!(moved["leader_epoch"].as_i64() > before["leader_epoch"].as_i64());

    let (status, elected) = sim.post("/v1/elect-preferred-leaders", "");
    assert_eq!(status, 200, "{elected}");
    assert_eq!(elected["moved"], json!([{ "topic": "t", "partition": 0 }]));
    assert_eq!(
        sim.get_ok("/v1/topics/t")["partitions"][0]["leader"],
        preferred
    );
}

#[test]
fn transactions_producers_and_record_status_are_shown_and_a_transaction_aborted() {
    let sim = BrokerSim::start(&["--brokers", "1", "--topic", "t:1"]);
    let mut conn = Conn::connect(sim.bootstrap.as_str());
    let init = kafka_protocol::messages::InitProducerIdRequest::default()
        .with_transactional_id(Some(str_bytes("tx").into()))
        .with_transaction_timeout_ms(60_000);
    let producer = conn.send(5, &init);
    assert_no_error(producer.error_code, "InitProducerId");
    let add = kafka_protocol::messages::AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(str_bytes("tx").into())
        .with_v3_and_below_producer_id(producer.producer_id)
        .with_v3_and_below_producer_epoch(producer.producer_epoch)
        .with_v3_and_below_topics(vec![
            kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![0]),
        ]);
    let added = conn.send(3, &add);
    assert_no_error(
        added.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code,
        "add",
    );
    let bytes = batch::encode_transactional_batch(
        &[record("in-flight", BASE_TIMESTAMP)],
        Codec::None,
        producer.producer_id.0,
        producer.producer_epoch,
        0,
    )
    .unwrap();
    let mut produce = produce_request("t", 0, bytes);
    produce.transactional_id = Some(str_bytes("tx").into());
    let produced = conn.send(9, &produce);
    assert_no_error(
        produced.responses[0].partition_responses[0].error_code,
        "produce",
    );

    let txn = sim.get_ok("/v1/transactions/tx");
    assert_eq!(txn["state"], "Ongoing");
    assert_eq!(txn["partitions"], json!([["t", 0]]));
    assert_eq!(
        sim.get_ok("/v1/transactions")["transactions"][0]["transactional_id"],
        "tx"
    );
    let records = sim.get_ok("/v1/topics/t/records");
    assert_eq!(records["records"][0]["transaction"], "open");
    let committed = sim.get_ok("/v1/topics/t/records?isolation=read_committed");
    assert_eq!(committed["records"], json!([]));
    assert_eq!(
        sim.get_ok("/v1/topics/t")["partitions"][0]["last_stable_offset"],
        0
    );
    let producers = sim.get_ok("/v1/producers?topic=t");
    assert_eq!(
        producers["partitions"][0]["producers"][0]["current_txn_start_offset"],
        0
    );

    let aborted = sim.post("/v1/transactions/tx/abort", "");
    assert_eq!(aborted.0, 200, "{}", aborted.1);
    assert_eq!(aborted.1["state"], "CompleteAbort");
    assert_eq!(
        sim.get_ok("/v1/topics/t/records")["records"][0]["transaction"],
        "aborted"
    );
    assert_error_answer(
        sim.post("/v1/transactions/tx/abort", ""),
        409,
        "not Ongoing",
    );
    assert_error_answer(sim.get("/v1/transactions/nope"), 404, "nope");
    assert_error_answer(
        sim.get("/v1/topics/t/records?isolation=snapshot"),
        400,
        "snapshot",
    );
}

#[test]
fn a_schedule_posted_as_json_runs_server_side_and_reports_each_step() {
    let sim = BrokerSim::standard();
    let (status, body) = sim.post(
        "/v1/schedules",
        r#"{"steps": [
            {"at": {"records": 2}, "type": "stop_broker", "broker": 2},
            {"at": {"records": 2}, "type": "stop_broker", "broker": 2},
            {"at": {"ms": 3600000}, "type": "start_broker", "broker": 2}
        ]}"#,
    );
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_u64().unwrap();
    assert_eq!(body["steps"], 3);
    let (error, _) = sim.produce("t", 0, &[new_record(None, Some(b"a"), &[], BASE_TIMESTAMP)]);
    assert_no_error(error, "first record");
    let status = sim.get_ok(&format!("/v1/schedules/{id}"));
    assert_eq!(status["applied"], json!([]), "one record: nothing due yet");
    let (error, _) = sim.produce("t", 1, &[new_record(None, Some(b"b"), &[], BASE_TIMESTAMP)]);
    assert_no_error(error, "second record");
    let deadline = std::time::Instant::now() + DEADLINE;
    let status = loop {
        let status = sim.get_ok(&format!("/v1/schedules/{id}"));
        if status["applied"].as_array().unwrap().len() == 2 || std::time::Instant::now() > deadline
        {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status["applied"][0]["outcome"], "ok", "{status}");
    assert_eq!(
        status["applied"][1]["outcome"]["code"], "BROKER_NOT_AVAILABLE",
        "{status}"
    );
    assert_eq!(status["pending"][0]["type"], "start_broker");
    assert_eq!(status["done"], false);
    assert_eq!(sim.get_ok("/v1/cluster")["brokers"][1]["up"], false);
    assert_eq!(sim.delete(&format!("/v1/schedules/{id}")).0, 204);
    assert_error_answer(sim.get(&format!("/v1/schedules/{id}")), 404, "schedule");
    assert_error_answer(
        sim.post(
            "/v1/schedules",
            r#"{"steps": [{"at": {"ms": 1}, "type": "explode"}]}"#,
        ),
        400,
        "explode",
    );
}

#[test]
fn checks_run_over_http_and_answer_violations_as_json() {
    let sim = BrokerSim::standard();
    let (status, written) = sim.post(
        "/v1/topics/t/records",
        r#"{"records": [{"partition": 0, "key": "k", "value": "first"},
                        {"partition": 0, "key": "k", "value": "second"}]}"#,
    );
    assert_eq!(status, 200, "{written}");
    let history = sim.get_ok("/v1/history");
    assert_eq!(history["truncated"], false);
    assert_eq!(history["events"][0]["type"], "acked", "{history}");
    assert_eq!(history["events"][1]["base_offset"], 1, "{history}");

    let all = sim.get_ok("/v1/checks");
    assert_eq!(all["ok"], true, "{all}");
    assert_eq!(
        all["checks"],
        json!([
            "lost_acks",
            "duplicates",
            "log_order",
            "delivery",
            "coverage",
            "commits"
        ])
    );
    assert_eq!(sim.get_ok("/v1/checks/commits")["ok"], true);

    // The application handled offset 1 before offset 0 of the same key, and never 0 again.
    let (status, report) = sim.post(
        "/v1/checks/handled",
        r#"{"topic": "t", "records": [[0, 1]]}"#,
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["violations"][0]["check"], "handled");
    assert_eq!(report["violations"][0]["offsets"], json!([0]));
    assert_eq!(report["violations"][0]["records"][0]["value"], "first");

    // Sent in the other order than the log holds.
    let (status, report) = sim.post(
        "/v1/checks/sent_order",
        r#"{"topic": "t", "sent": [{"key": "k", "value": "second"}, {"key": "k", "value": "first"}]}"#,
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["violations"][0]["check"], "sent_order", "{report}");

    let (status, report) = sim.post(
        "/v1/checks/exactly_once",
        r#"{"input": "t", "output": "t", "group": "nobody", "input_id": "header:id"}"#,
    );
    assert_eq!(status, 200, "{report}");
    // No input carries an "id" header, so every output is one without an input.
    assert_eq!(
        report["violations"].as_array().unwrap().len(),
        2,
        "{report}"
    );
    let message = report["violations"][0]["message"].as_str().unwrap();
    assert!(message.contains("no input record"), "{report}");

    assert_error_answer(sim.get("/v1/checks/everything"), 404, "everything");
    assert_error_answer(sim.get("/v1/checks?schedule=99"), 404, "schedule 99");
    assert_error_answer(
        sim.post(
            "/v1/checks/exactly_once",
            r#"{"input": "t", "output_id": "nonsense"}"#,
        ),
        400,
        "exactly_once",
    );
}

#[test]
fn a_topic_posted_as_json_is_created_with_its_partitions_replicas_and_configs() {
    let sim = BrokerSim::standard();
    let (status, topic) = sim.post(
        "/v1/topics",
        r#"{"name": "orders", "partitions": 3, "replication_factor": 2,
            "configs": {"cleanup.policy": "compact"}}"#,
    );
    assert_eq!(status, 201, "{topic}");
    assert_eq!(topic["name"], "orders");
    let partitions = topic["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 3, "{topic}");
    assert!(
        partitions
            .iter()
            .all(|p| p["replicas"].as_array().unwrap().len() == 2),
        "{topic}"
    );
    assert_eq!(topic["configs"], json!({"cleanup.policy": "compact"}));
    assert_eq!(sim.get_ok("/v1/topics")["topics"], json!(["orders", "t"]));

    let again = sim.post("/v1/topics", r#"{"name": "orders", "partitions": 1}"#);
    assert_eq!(again.1["code"], "TOPIC_ALREADY_EXISTS", "{}", again.1);
    assert_error_answer(again, 409, "orders");
    let too_many = sim.post(
        "/v1/topics",
        r#"{"name": "wide", "partitions": 1, "replication_factor": 4}"#,
    );
    assert_eq!(
        too_many.1["code"], "INVALID_REPLICATION_FACTOR",
        "{}",
        too_many.1
    );
    assert_eq!(too_many.0, 400);
    let bad_config = sim.post(
        "/v1/topics",
        r#"{"name": "x", "partitions": 1, "configs": {"retention.ms": "soon"}}"#,
    );
    assert_eq!(bad_config.1["code"], "INVALID_CONFIG", "{}", bad_config.1);
    assert_error_answer(
        sim.post("/v1/topics", r#"{"partitions": 1}"#),
        400,
        "missing field `name`",
    );
    assert_eq!(sim.get_ok("/v1/topics")["topics"], json!(["orders", "t"]));
}

#[test]
fn topic_configs_change_over_http_and_show_in_the_topic() {
    let sim = BrokerSim::standard();
    assert_eq!(sim.get_ok("/v1/topics/t")["configs"], json!({}));
    let (status, topic) = sim.post(
        "/v1/topics/t/configs",
        r#"{"configs": {"retention.ms": "60000", "cleanup.policy": "compact"}}"#,
    );
    assert_eq!(status, 200, "{topic}");
    assert_eq!(
        topic["configs"],
        json!({"cleanup.policy": "compact", "retention.ms": "60000"})
    );
    let (status, topic) = sim.post(
        "/v1/topics/t/configs",
        r#"{"configs": {"retention.ms": null}}"#,
    );
    assert_eq!(status, 200, "{topic}");
    assert_eq!(topic["configs"], json!({"cleanup.policy": "compact"}));
    let refused = sim.post(
        "/v1/topics/t/configs",
        r#"{"configs": {"retention.ms": "soon"}}"#,
    );
    assert_eq!(refused.1["code"], "INVALID_CONFIG", "{}", refused.1);
    assert_error_answer(refused, 400, "Not a number of type LONG");
    assert_error_answer(
        sim.post("/v1/topics/missing/configs", r#"{"configs": {}}"#),
        404,
        "missing",
    );
}

#[test]
fn a_web_page_cannot_drive_the_cluster() {
    let sim = BrokerSim::standard();
    let stop = format!("{}/v1/brokers/2/stop", sim.control);
    // A form-like cross-site POST (no preflight in a browser): refused, broker up.
    let text_plain = sim
        .http
        .post(&stop)
        .header("content-type", "text/plain")
        .header("origin", "http://evil.example")
        .send("");
    assert_error_answer(answer(text_plain), 403, "origin");
    let no_json = sim
        .http
        .post(&stop)
        .header("content-type", "text/plain")
        .send("");
    assert_error_answer(answer(no_json), 415, "application/json");
    // A DNS-rebinding page reaches 127.0.0.1 under its own name.
    let rebound = sim
        .http
        .get(format!("{}/v1/cluster", sim.control))
        .header("host", "evil.example:80")
        .call();
    assert_error_answer(answer(rebound), 403, "Host");
    assert_eq!(sim.get_ok("/v1/cluster")["brokers"][1]["up"], true);
    // The API's own origin, with JSON, is fine.
    let origin = sim.control.clone();
    let own = sim
        .http
        .post(&stop)
        .header("content-type", "application/json")
        .header("origin", &origin)
        .send("");
    assert_eq!(answer(own).0, 200);
}

#[test]
fn a_control_token_is_required_once_set() {
    let sim = BrokerSim::start(&["--control-token", "s3cret"]);
    let url = format!("{}/v1/cluster", sim.control);
    assert_error_answer(answer(sim.http.get(&url).call()), 401, "Bearer");
    let wrong = sim
        .http
        .get(&url)
        .header("authorization", "Bearer nope")
        .call();
    assert_error_answer(answer(wrong), 401, "Bearer");
    let right = sim
        .http
        .get(&url)
        .header("authorization", "Bearer s3cret")
        .call();
    assert_eq!(answer(right).0, 200);
}

#[test]
fn sasl_users_added_over_http_log_in_and_tls_material_is_served() {
    let sim = BrokerSim::start(&[
        "--listener",
        "PLAINTEXT",
        "--listener",
        "SECURE:SASL_PLAINTEXT",
        "--sasl-user",
        "alice:alice-secret",
        "--listener",
        "TLS:SSL",
    ]);
    let (content_type, ca) = sim.get_text("/v1/tls/ca.pem");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    let (status, signed) = sim.post("/v1/tls/client-certificates", r#"{"name": "svc"}"#);
    assert_eq!(status, 200, "{signed}");
    assert!(signed["key"].as_str().unwrap().contains("PRIVATE KEY"));
    assert_eq!(
        listeners_protocols(&sim),
        ["PLAINTEXT", "SASL_PLAINTEXT", "SSL"]
    );
    let listeners = sim.get_ok("/v1/listeners");
    assert_eq!(
        listeners["listeners"][0]["bootstrap"],
        sim.bootstrap.as_str()
    );
    assert_eq!(listeners["listeners"][1]["protocol"], "SASL_PLAINTEXT");
    let secure = listeners["listeners"][1]["bootstrap"]
        .as_str()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let (status, added) = sim.post("/v1/users", r#"{"name": "bob", "password": "bob-secret"}"#);
    assert_eq!(status, 200, "{added}");
    assert_eq!(
        sim.get_ok("/v1/users"),
        json!({ "users": ["alice", "bob"] })
    );
    let login = |password: &str| {
        let mut conn = Conn::connect(secure.as_str());
        let handshake = kafka_protocol::messages::SaslHandshakeRequest::default()
            .with_mechanism(str_bytes("PLAIN"));
        assert_eq!(conn.send(1, &handshake).error_code, 0);
        let token = format!("\0bob\0{password}");
        let authenticate = kafka_protocol::messages::SaslAuthenticateRequest::default()
            .with_auth_bytes(bytes::Bytes::from(token));
        conn.send(2, &authenticate).error_code
    };
    assert_eq!(login("bob-secret"), 0);
    assert_eq!(sim.delete("/v1/users/bob").0, 200);
    assert_eq!(
        login("bob-secret"),
        ResponseError::SaslAuthenticationFailed.code()
    );
    assert_error_answer(sim.delete("/v1/users/bob"), 404, "bob");
}

fn listeners_protocols(sim: &BrokerSim) -> Vec<String> {
    sim.get_ok("/v1/listeners")["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["protocol"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn acls_posted_as_json_are_listed_enforced_and_deleted_by_filter() {
    let sim = BrokerSim::start(&[
        "--topic",
        "t:1",
        "--authorizer",
        "--allow-everyone-if-no-acl-found",
    ]);
    let (status, created) = sim.post(
        "/v1/acls",
        r#"{"resource_type": "topic", "resource_name": "t", "principal": "User:ANONYMOUS",
            "operation": "WRITE", "permission": "DENY"}"#,
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["pattern_type"], "LITERAL");
    assert_eq!(created["host"], "*");
    let listed = sim.get_ok("/v1/acls");
    assert_eq!(listed["acls"].as_array().unwrap().len(), 1, "{listed}");

    let record = [new_record(None, Some(b"v"), &[], BASE_TIMESTAMP)];
    let (error, _) = sim.produce("t", 0, &record);
    assert_error(
        error,
        ResponseError::TopicAuthorizationFailed,
        "produce under a DENY",
    );

    assert_error_answer(
        sim.post(
            "/v1/acls",
            r#"{"resource_type": "TABLE", "resource_name": "t", "principal": "User:a",
                "operation": "READ", "permission": "ALLOW"}"#,
        ),
        400,
        "unknown resource type",
    );
    let (status, deleted) = sim.delete("/v1/acls");
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["deleted"].as_array().unwrap().len(), 1, "{deleted}");
    let (error, _) = sim.produce("t", 0, &record);
    assert_no_error(error, "produce once the ACL is gone");
}

#[test]
fn a_deleted_topic_is_gone_and_a_second_delete_is_a_404() {
    let sim = BrokerSim::standard();
    let (status, _) = sim.post("/v1/topics/t/records", r#"{"records": [{"value": "v"}]}"#);
    assert_eq!(status, 200);
    let (status, body) = sim.delete("/v1/topics/t");
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(sim.get_ok("/v1/topics"), json!({ "topics": [] }));
    assert_error_answer(sim.get("/v1/topics/t"), 404, "unknown topic");
    assert_error_answer(sim.delete("/v1/topics/t"), 404, "unknown topic");
    // The name is free again: a new topic of it starts empty.
    let (status, _) = sim.post("/v1/topics", r#"{"name": "t", "partitions": 1}"#);
    assert_eq!(status, 201);
    assert_eq!(sim.get_ok("/v1/topics/t/records")["records"], json!([]));
}

/// `GET path` without a token: (status, content type, Content-Security-Policy, body).
fn get_page(sim: &BrokerSim, path: &str) -> (u16, String, String, String) {
    let mut response = sim
        .http
        .get(format!("{}{path}", sim.control))
        .call()
        .expect("the control API answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (content_type, policy) = (header("content-type"), header("content-security-policy"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().expect("body reads");
    (status, content_type, policy, body)
}

#[test]
fn the_console_page_and_its_scripts_are_served_with_a_same_origin_policy() {
    let sim = BrokerSim::standard();
    let (status, content_type, policy, page) = get_page(&sim, "/");
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(page.contains(r#"src="/console/app.js""#), "{page}");
    for (file, kind) in [
        ("app.js", "text/javascript"),
        ("messages.js", "text/javascript"),
        ("style.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let (status, content_type, _, body) = get_page(&sim, &format!("/console/{file}"));
        assert_eq!(status, 200, "{file}");
        assert!(content_type.starts_with(kind), "{file}: {content_type}");
        assert!(!body.is_empty(), "{file}");
    }
    let (status, _, _, body) = get_page(&sim, "/console/nope.js");
    assert_eq!(status, 404);
    assert!(body.contains("nope.js"), "{body}");
}

#[test]
fn with_a_token_the_console_loads_but_its_data_needs_the_token() {
    let sim = BrokerSim::start(&["--control-token", "s3cret"]);
    assert_eq!(get_page(&sim, "/").0, 200);
    assert_eq!(get_page(&sim, "/console/app.js").0, 200);
    assert_error_answer(sim.get("/v1/cluster"), 401, "Bearer");
    // Only reading the page is free: a POST to its path still needs the token.
    let post = sim
        .http
        .post(format!("{}/", sim.control))
        .header("content-type", "application/json")
        .send("{}");
    assert_error_answer(answer(post), 401, "Bearer");
    let with_token = sim
        .http
        .get(format!("{}/v1/cluster", sim.control))
        .header("authorization", "Bearer s3cret")
        .call();
    assert_eq!(answer(with_token).0, 200);
}
