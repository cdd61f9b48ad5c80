//! Snapshots and forks: a cluster's data taken as a value (`Cluster::snapshot`), through
//! its JSON document, into new clusters (`Cluster::from_snapshot`) that serve the same
//! records at the same offsets, the same committed offsets and configs, carry on from
//! there independently of the original and of each other, and keep producer and
//! transaction state (duplicates still detected, aborted records still hidden). Also the
//! document's checks, `POST /v1/snapshot` and the binary's `--snapshot FILE`.
//!
//! Records are written and read over the wire (`support`); the binary is started on
//! ephemeral ports and its two stdout lines read with a deadline, as in `control_api.rs`.

mod support;

use support::binary::Binary as BrokerSim;

use std::process::{Command, Stdio};
use std::time::Duration;

use broker_sim::{Cluster, GroupState, NewRecord, Snapshot, SnapshotError, TxnStatus};
use broker_sim_protocol::batch::{self, Codec};
use bytes::Bytes;
use kafka_protocol::messages::FetchResponse;
use serde_json::Value;

use support::*;

/// A batch of keyed records with headers and their own timestamps.
fn rich_batch(prefix: &str, count: usize) -> Bytes {
    let records: Vec<NewRecord> = (0..count)
        .map(|i| NewRecord {
            timestamp: BASE_TIMESTAMP + 1000 * i as i64,
            key: Some(Bytes::from(format!("{prefix}-key-{i}"))),
            value: (i % 3 != 2).then(|| Bytes::from(format!("{prefix}-value-{i}"))),
            headers: vec![
                ("trace".into(), Some(Bytes::from(format!("t{i}")))),
                ("bin".into(), Some(Bytes::from_static(&[0xff, 0x00, 0xfe]))),
                ("none".into(), None),
            ],
        })
        .collect();
    batch::encode_batch(&records, Codec::None).expect("batch encodes")
}

/// The record bytes a Fetch from offset 0 returns for `topic`-`partition`.
fn fetched(cluster: &Cluster, topic: &str, partition: i32) -> Bytes {
    let response: FetchResponse =
        Conn::to_leader(cluster, topic, partition).send(12, &fetch_request(topic, partition, 0));
    let p = &response.responses[0].partitions[0];
    assert_no_error(p.error_code, &format!("fetch {topic}-{partition}"));
    p.records.clone().unwrap_or_default()
}

/// The committed offset and metadata of `group` for `topic`-`partition`, from OffsetFetch
/// v9 at the group's coordinator.
fn committed(cluster: &Cluster, group: &str, topic: &str, partition: i32) -> (i64, Option<String>) {
    let request = offset_fetch_request(9, group, Some(&[(topic, &[partition])]));
    let response = Conn::to_coordinator(cluster, group).send(9, &request);
    let p = &response.groups[0].topics[0].partitions[0];
    assert_no_error(p.error_code, "OffsetFetch");
    (
        p.committed_offset,
        p.metadata.as_ref().map(|m| m.to_string()),
    )
}

fn commit(cluster: &Cluster, group: &str, offsets: &[(&str, i32, i64)]) {
    let request = commit_request(group, -1, "", offsets, Some("resume-here"), -1);
    let response = Conn::to_coordinator(cluster, group).send(9, &request);
    for t in &response.topics {
        for p in &t.partitions {
            assert_no_error(p.error_code, "OffsetCommit");
        }
    }
}

fn end_offset(cluster: &Cluster, topic: &str, partition: i32) -> i64 {
    cluster.partition(topic, partition).unwrap().high_watermark
}

/// A three-broker cluster with records in both partitions of "orders" (a config override
/// set) and group "g"'s commits, and its snapshot taken through JSON.
fn prepared() -> (Cluster, Snapshot) {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic_with_configs("orders", 2, &[("retention.ms", "-1")])
        .start()
        .unwrap();
    assert_eq!(produce(&cluster, "orders", 0, rich_batch("a", 5)), 0);
    assert_eq!(produce(&cluster, "orders", 0, rich_batch("b", 3)), 5);
    assert_eq!(produce(&cluster, "orders", 1, rich_batch("c", 4)), 0);
    commit(&cluster, "g", &[("orders", 0, 6), ("orders", 1, 2)]);
    let json = cluster.snapshot().to_json();
    (
        cluster,
        Snapshot::from_json(&json).expect("the document reads back"),
    )
}

#[test]
fn records_offsets_configs_and_commits_survive_a_snapshot_through_json_into_a_fork() {
    let (original, snapshot) = prepared();
    let fork = Cluster::from_snapshot(snapshot).unwrap();
    assert_eq!(fork.brokers().len(), 3);
    assert_eq!(fork.cluster_id(), original.cluster_id());
    assert_eq!(fork.topics(), ["orders"]);
    assert_eq!(topic_id(&fork, "orders"), topic_id(&original, "orders"));
    assert_eq!(
        fork.topic_configs("orders").unwrap().get("retention.ms"),
        Some(&"-1".to_string())
    );
    // Keys, values (with nulls), headers, timestamps and offsets, decoded...
    let records = fork.records("orders");
    assert_eq!(records.len(), 12);
    assert_eq!(records, original.records("orders"));
    let r = &records[6];
    assert_eq!((r.partition, r.offset), (0, 6));
    assert_eq!(r.key.as_deref(), Some(&b"b-key-1"[..]));
    assert_eq!(r.timestamp, BASE_TIMESTAMP + 1000);
    assert_eq!(
        r.headers[1],
        ("bin".into(), Some(Bytes::from_static(&[0xff, 0, 0xfe])))
    );
    // ...and the very bytes a consumer fetches.
    for p in 0..2 {
        assert_eq!(fetched(&fork, "orders", p), fetched(&original, "orders", p));
        let (original_p, fork_p) = (
            original.partition("orders", p).unwrap(),
            fork.partition("orders", p).unwrap(),
        );
        assert_eq!(fork_p.log_start_offset, original_p.log_start_offset);
        assert_eq!(fork_p.high_watermark, original_p.high_watermark);
        assert_eq!(fork_p.leader_epoch, original_p.leader_epoch);
    }
    // The group resumes from its commits, with no members.
    assert_eq!(
        committed(&fork, "g", "orders", 0),
        (6, Some("resume-here".into()))
    );
    assert_eq!(
        committed(&fork, "g", "orders", 1),
        (2, Some("resume-here".into()))
    );
    let group = fork.group("g").unwrap();
    assert_eq!(group.state, GroupState::Empty);
    assert!(group.members.is_empty());
}

#[test]
fn a_fork_takes_new_writes_at_the_next_offsets_and_the_original_and_other_forks_do_not_see_them() {
    let (original, snapshot) = prepared();
    let first = Cluster::from_snapshot(snapshot.clone()).unwrap();
    let second = Cluster::from_snapshot(snapshot).unwrap();
    assert_eq!(produce(&first, "orders", 0, batch_of(&["first-only"])), 8);
    assert_eq!(produce(&first, "orders", 1, batch_of(&["x", "y"])), 4);
    commit(&first, "g", &[("orders", 0, 9)]);
    first.create_topic("new-in-first", 1).unwrap();

    assert_eq!(end_offset(&original, "orders", 0), 8);
    assert_eq!(end_offset(&second, "orders", 0), 8);
    assert_eq!(committed(&original, "g", "orders", 0).0, 6);
    assert_eq!(committed(&second, "g", "orders", 0).0, 6);
    assert_eq!(second.topics(), ["orders"]);
    // The second fork writes its own record at the same offset.
    assert_eq!(produce(&second, "orders", 0, batch_of(&["second-only"])), 8);
    assert_eq!(values(&fetched(&first, "orders", 0))[8], "first-only");
    assert_eq!(values(&fetched(&second, "orders", 0))[8], "second-only");
    // A topic created in a fork gets an id of its own.
    assert_ne!(topic_id(&first, "new-in-first"), topic_id(&first, "orders"));
}

#[test]
fn an_idempotent_producers_retry_is_still_a_duplicate_in_a_fork() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let (pid, epoch) = init_idempotent_producer(&cluster);
    assert_eq!(
        produce(&cluster, "t", 0, idempotent_batch(&["a"], pid, epoch, 0)),
        0
    );
    assert_eq!(
        produce(
            &cluster,
            "t",
            0,
            idempotent_batch(&["b", "c"], pid, epoch, 1)
        ),
        1
    );
    let fork = Cluster::from_snapshot(cluster.snapshot()).unwrap();

    let retry = try_produce(&fork, "t", 0, idempotent_batch(&["b", "c"], pid, epoch, 1));
    assert_no_error(retry.error_code, "retried batch");
    assert_eq!(retry.base_offset, 1, "acknowledged at its original offset");
    assert_eq!(end_offset(&fork, "t", 0), 3, "and not written again");
    assert_eq!(
        produce(&fork, "t", 0, idempotent_batch(&["d"], pid, epoch, 3)),
        3
    );
    // New producers in the fork never get an id the snapshot's cluster handed out.
    assert!(init_idempotent_producer(&fork).0 > pid);
}

#[test]
fn an_aborted_transaction_stays_aborted_in_a_fork_and_its_id_carries_on() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let mut p = TxnProducer::init(&cluster, "tx", 60_000, true);
    cluster.produce("t", None, b"plain-before").unwrap();
    assert_eq!(p.send(&cluster, "t", 0, &["gone-1", "gone-2"]), 0);
    assert_eq!(p.end(&cluster, false), 0);
    assert_eq!(p.send(&cluster, "t", 0, &["kept"]), 0);
    assert_eq!(p.end(&cluster, true), 0);
    let fork = Cluster::from_snapshot(Snapshot::from_json(&cluster.snapshot().to_json()).unwrap())
        .unwrap();

    let (seen, lso) = read_committed(&fork, "t", 0);
    assert_eq!(seen, ["plain-before", "kept"]);
    assert_eq!(lso, read_committed(&cluster, "t", 0).1);
    let aborted: Vec<_> = fork
        .records("t")
        .into_iter()
        .filter(|r| r.transaction == TxnStatus::Aborted)
        .map(|r| r.offset)
        .collect();
    assert_eq!(aborted, [1, 2]);
    assert_eq!(fork.transaction("tx").unwrap().state, "CompleteCommit");
    // The transactional id goes on in the fork: a new instance fences the old epoch.
    let next = TxnProducer::init(&fork, "tx", 60_000, true);
    assert_eq!(next.producer_id, p.producer_id);
    assert!(next.epoch > p.epoch);
}

#[test]
fn thousands_of_records_in_many_batches_fork_whole() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("bulk", 4)
        .start()
        .unwrap();
    for i in 0..400 {
        let values: Vec<String> = (0..10).map(|j| format!("r{i}-{j}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        produce(&cluster, "bulk", i % 4, batch_of(&values));
    }
    let fork = Cluster::from_snapshot(Snapshot::from_json(&cluster.snapshot().to_json()).unwrap())
        .unwrap();
    assert_eq!(fork.records("bulk").len(), 4000);
    for p in 0..4 {
        assert_eq!(end_offset(&fork, "bulk", p), 1000);
        assert_eq!(fetched(&fork, "bulk", p), fetched(&cluster, "bulk", p));
    }
}

#[test]
fn users_acls_and_dynamic_broker_configs_survive_a_fork() {
    use broker_sim::{AclBinding, AclOperation, PatternType, Permission, ResourceType};
    let cluster = Cluster::builder()
        .brokers(2)
        .sasl_user("alice", "secret")
        .start()
        .unwrap();
    let acl = AclBinding {
        resource_type: ResourceType::Topic,
        resource_name: "orders".into(),
        pattern_type: PatternType::Prefixed,
        principal: "User:alice".into(),
        host: "*".into(),
        operation: AclOperation::Read,
        permission: Permission::Allow,
    };
    cluster.add_acl(acl.clone()).unwrap();
    let request =
        incremental_alter_request(4, "", &[("log.retention.ms", 0, Some("3600000"))], false);
    let response = Conn::to_broker(&cluster, 1).send(1, &request);
    assert_no_error(response.responses[0].error_code, "IncrementalAlterConfigs");
    let snapshot = Snapshot::from_json(&cluster.snapshot().to_json()).unwrap();
    let fork = Cluster::from_snapshot(snapshot.clone()).unwrap();

    assert_eq!(fork.sasl_users(), ["alice"]);
    assert_eq!(fork.acls(), [acl]);
    let again = fork.snapshot();
    assert_eq!(
        again.users, snapshot.users,
        "the same PLAIN password and SCRAM credentials"
    );
    assert_eq!(
        again.broker_configs[""]
            .get("log.retention.ms")
            .map(String::as_str),
        Some("3600000")
    );
}

#[test]
fn the_schema_registry_survives_a_fork_and_its_ids_carry_on() {
    use broker_sim::{Compatibility, NewSchema, SchemaReference, SchemaType};
    let customer = r#"{"type":"record","name":"Customer","namespace":"shop","fields":[{"name":"name","type":"string"}]}"#;
    let order = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"customer","type":"shop.Customer"}]}"#;
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("orders", 1)
        .schema("customer", SchemaType::Avro, customer)
        .schema_with(
            "orders-value",
            NewSchema::avro(order).with_references(vec![SchemaReference {
                name: "shop.Customer".into(),
                subject: "customer".into(),
                version: 1,
            }]),
        )
        .schema("events-value", SchemaType::Json, r#"{"type":"object"}"#)
        .schema(
            "shipments-value",
            SchemaType::Protobuf,
            "syntax = \"proto3\"; message Shipment { string id = 1; }",
        )
        .start()
        .unwrap();
    let registry = cluster.schema_registry();
    registry
        .register(
            "events-value",
            NewSchema::of(SchemaType::Json, r#"{"type":"object","title":"v2"}"#),
        )
        .unwrap();
    registry.delete_version("events-value", "1", false).unwrap();
    registry.set_compatibility(Some("orders-value"), Compatibility::Full);
    // An Avro value of the order schema: a customer named "ann".
    let mut value = vec![0, 0, 0, 0, 2, 6];
    value.extend(b"ann");
    cluster.produce("orders", None, &value).unwrap();

    let snapshot = Snapshot::from_json(&cluster.snapshot().to_json()).unwrap();
    assert_eq!(snapshot.schema_registry, registry.export());
    let fork = Cluster::from_snapshot(snapshot).unwrap();
    let forked = fork.schema_registry();
    assert_eq!(forked.export(), registry.export());
    assert_eq!(forked.versions("events-value").unwrap(), [2]);
    assert_eq!(
        forked.compatibility(Some("orders-value")),
        Some(Compatibility::Full)
    );
    let decoded = fork.records("orders")[0].value.clone().unwrap();
    assert_eq!(
        fork.decode(&decoded).unwrap().value,
        Some(serde_json::json!({"customer": {"name": "ann"}}))
    );
    assert!(fork.schema_violations("orders").is_empty());
    // The next id is the one after the original's last, in the fork and the original alike.
    let next = NewSchema::of(SchemaType::Json, r#"{"type":"string"}"#);
    assert_eq!(forked.register("strings", next.clone()).unwrap(), 6);
    assert_eq!(registry.register("strings", next).unwrap(), 6);
}

#[test]
fn a_snapshot_whose_schema_references_are_missing_starts_no_cluster() {
    let cluster = Cluster::builder()
        .brokers(1)
        .schema("a", broker_sim::SchemaType::Avro, r#""string""#)
        .start()
        .unwrap();
    let mut snapshot = cluster.snapshot();
    snapshot.schema_registry.subjects.get_mut("a").unwrap()[0].id = 9;
    let error = Cluster::from_snapshot(snapshot).err().expect("refused");
    assert!(error.to_string().contains("schema id 9"), "{error}");
}

#[test]
fn a_manual_clock_fork_starts_at_the_snapshots_time() {
    let cluster = Cluster::builder()
        .brokers(1)
        .manual_clock(BASE_TIMESTAMP)
        .start()
        .unwrap();
    cluster.advance(Duration::from_secs(5));
    let fork = Cluster::from_snapshot(cluster.snapshot()).unwrap();
    assert!(fork.has_manual_clock());
    assert_eq!(fork.now_ms(), BASE_TIMESTAMP + 5000);
}

fn inconsistent(snapshot: &Snapshot) -> String {
    match Snapshot::from_json(&snapshot.to_json()) {
        Err(SnapshotError::Inconsistent(message)) => message,
        other => panic!("expected an inconsistent snapshot, got {other:?}"),
    }
}

#[test]
fn malformed_snapshots_are_refused_with_errors_that_name_the_problem() {
    let (_cluster, snapshot) = prepared();
    assert!(matches!(
        Snapshot::from_json("{ not json"),
        Err(SnapshotError::Json(_))
    ));
    let mut doc: Value = serde_json::from_str(&snapshot.to_json()).unwrap();
    doc["format"] = "something-else".into();
    let e = Snapshot::from_json(&doc.to_string()).unwrap_err();
    assert!(
        matches!(e, SnapshotError::WrongFormat(ref f) if f == "something-else"),
        "{e}"
    );
    doc["format"] = "broker-sim-snapshot".into();
    doc["version"] = 2.into();
    let e = Snapshot::from_json(&doc.to_string()).unwrap_err();
    assert!(matches!(e, SnapshotError::UnsupportedVersion(2)), "{e}");
    assert!(e.to_string().contains("version 2"), "{e}");
    doc["version"] = 1.into();
    doc["topics"][0]["partitions"][0]["batches"][0]["bytes"] = "###".into();
    let e = Snapshot::from_json(&doc.to_string()).unwrap_err();
    assert!(e.to_string().contains("invalid base64"), "{e}");

    let mut bad = snapshot.clone();
    bad.topics[0].partitions[0].high_watermark = 100;
    assert!(inconsistent(&bad).contains("offsets out of order"));
    let mut bad = snapshot.clone();
    bad.topics[0].partitions[0].batches.swap(0, 1);
    assert!(inconsistent(&bad).contains("out of order"));
    let mut bad = snapshot.clone();
    let mut bytes = bad.topics[0].partitions[0].batches[0].bytes.to_vec();
    *bytes.last_mut().unwrap() ^= 0xff;
    bad.topics[0].partitions[0].batches[0].bytes = bytes.into();
    assert!(inconsistent(&bad).contains("CRC"), "{}", inconsistent(&bad));
    let mut bad = snapshot.clone();
    bad.topics[0].partitions[0].batches[0].base_offset = 1;
    assert!(inconsistent(&bad).contains("batch bytes say offsets 0..=4"));
    let mut bad = snapshot.clone();
    bad.topics[0].partitions[1].replicas = vec![1, 7];
    assert!(inconsistent(&bad).contains("unknown broker"));

    let missing = Snapshot::load("/nonexistent/broker-sim-snapshot.json").unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("/nonexistent/broker-sim-snapshot.json")
    );
}

impl BrokerSim {
    /// `POST path` with `body`: (status, content type, body text).
    fn post(&self, path: &str, body: &str) -> (u16, String, String) {
        let mut response = self
            .http
            .post(format!("{}{path}", self.control))
            .header("content-type", "application/json")
            .send(body)
            .expect("the control API answers");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .expect("body reads");
        (response.status().as_u16(), content_type, text)
    }
}

const SEED_RECORDS: &str = r#"{"records": [
    {"partition": 0, "key": "k1", "value": "v1", "timestamp": 1700000000000,
     "headers": [{"key": "h", "value": "x"}]},
    {"partition": 0, "key": "k2", "value": "v2", "timestamp": 1700000000001},
    {"partition": 1, "value": "v3", "timestamp": 1700000000002}
]}"#;

#[test]
fn post_snapshot_answers_the_document_and_a_cluster_starts_from_it() {
    let sim = BrokerSim::start(&["--brokers", "2", "--topic", "t:2", "--no-auto-create"]);
    let (status, _, body) = sim.post("/v1/topics/t/records", SEED_RECORDS);
    assert_eq!(status, 200, "{body}");
    let (status, content_type, body) = sim.post("/v1/snapshot", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "application/json");
    let snapshot = Snapshot::from_json(&body).expect("the answer is a snapshot document");
    assert_eq!(snapshot.broker_count(), 2);
    let fork = Cluster::from_snapshot(snapshot).unwrap();
    let values: Vec<_> = fork
        .records("t")
        .iter()
        .map(|r| (r.partition, r.offset, r.value_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        values,
        [
            (0, 0, "v1".into()),
            (0, 1, "v2".into()),
            (1, 0, "v3".to_string())
        ]
    );
    assert_eq!(fork.records("t")[0].headers[0].0, "h");

    let (status, _, body) = sim.post("/v1/snapshot?path=relative.json", "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not absolute"), "{body}");
    let (status, _, body) = sim.post("/v1/snapshot?path=/nonexistent-dir/s.json", "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("cannot write the snapshot"), "{body}");
}

#[test]
fn the_binary_started_with_a_snapshot_file_serves_its_records() {
    let dir = std::env::temp_dir().join(format!("broker-sim-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("seeded.json");
    let path = file.to_str().unwrap();
    {
        let sim = BrokerSim::start(&["--topic", "t:2", "--no-auto-create"]);
        assert_eq!(sim.post("/v1/topics/t/records", SEED_RECORDS).0, 200);
        let (status, _, body) = sim.post(&format!("/v1/snapshot?path={path}"), "");
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["path"], path);
        assert_eq!(answer["topics"], 1);
        assert_eq!(answer["records"], 3);
        assert_eq!(answer["bytes"], std::fs::metadata(&file).unwrap().len());
    }
    let sim = BrokerSim::start(&["--snapshot", path]);
    let read = sim.get_ok("/v1/topics/t/records?partition=0");
    let values: Vec<&str> = read["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["v1", "v2"]);
    assert_eq!(read["next_offset"], 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_binary_refuses_a_missing_or_malformed_snapshot_before_printing_anything() {
    let dir = std::env::temp_dir().join(format!("broker-sim-bad-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let malformed = dir.join("malformed.json");
    std::fs::write(
        &malformed,
        r#"{"format": "broker-sim-snapshot", "version": 9}"#,
    )
    .unwrap();
    let missing = dir.join("missing.json");
    for (file, needle) in [
        (&malformed, "unsupported snapshot version 9"),
        (&missing, "cannot read snapshot"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_broker-sim"))
            .args(["--port", "0", "--control-port", "0", "--snapshot"])
            .arg(file)
            .stdin(Stdio::null())
            .output()
            .expect("broker-sim runs");
        assert!(!out.status.success());
        assert!(
            out.stdout.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{stderr}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_broker-sim"))
        .args(["--brokers", "2", "--snapshot"])
        .arg(&malformed)
        .output()
        .expect("broker-sim runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    std::fs::remove_dir_all(&dir).unwrap();
}
