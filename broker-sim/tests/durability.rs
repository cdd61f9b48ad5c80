//! Durable mode (`ClusterBuilder::data_dir`, `broker-sim --data-dir`): what a cluster
//! keeps across a restart of its process, however the process stopped.
//!
//! Each test runs a cluster on its own data directory, stops it (dropping it, or
//! `kill -9` for the binary) and starts another on the same directory, then checks what
//! clients find: the same topics with the same ids, the same records at the same offsets,
//! the same committed offsets, idempotent producers' sequences, transactions; and that
//! recovery cuts a torn or corrupt log tail, keeping every batch before it.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::{CreateTopicsRequest, FetchRequest};
use support::binary::Binary;
use support::*;

/// A data directory of its own under the system's temporary directory, deleted when the
/// test ends.
struct DataDir(PathBuf);

impl DataDir {
    fn new(test: &str) -> DataDir {
        let dir = std::env::temp_dir().join(format!(
            "broker-sim-durability-{}-{test}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        DataDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn segment(&self, topic: &str, partition: i32) -> PathBuf {
        self.0
            .join("logs")
            .join(format!("{topic}-{partition}"))
            .join(format!("{:020}.log", 0))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cluster_on(dir: &DataDir) -> Cluster {
    Cluster::builder()
        .brokers(3)
        .data_dir(dir.path())
        .start()
        .expect("cluster starts on the data directory")
}

/// (partition, offset, value) of every record of `topic`.
fn records(cluster: &Cluster, topic: &str) -> Vec<(i32, i64, String)> {
    cluster
        .records(topic)
        .iter()
        .map(|r| {
            (
                r.partition,
                r.offset,
                r.value_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn restart_keeps_topics_records_and_committed_offsets() {
    let dir = DataDir::new("restart");
    let cluster = cluster_on(&dir);
    cluster.create_topic("orders", 3).unwrap();
    cluster
        .create_topic_with_configs("configured", 1, &[("retention.ms", "123456")])
        .unwrap();
    cluster.create_topic("gone", 1).unwrap();
    for p in 0..3 {
        produce(&cluster, "orders", p, batch_of(&[&format!("a{p}"), "b"]));
        produce(&cluster, "orders", p, batch_of(&[&format!("c{p}")]));
    }
    let commit = commit_request("g", -1, "", &[("orders", 0, 2), ("orders", 2, 3)], None, -1);
    let answer = Conn::to_coordinator(&cluster, "g").send(8, &commit);
    for t in &answer.topics {
        for p in &t.partitions {
            assert_no_error(p.error_code, "OffsetCommit");
        }
    }
    cluster.delete_topic("gone").unwrap();
    let (orders_id, configured_id) = (
        topic_id(&cluster, "orders"),
        topic_id(&cluster, "configured"),
    );
    let before = records(&cluster, "orders");
    assert_eq!(before.len(), 9);
    drop(cluster);

    let cluster = cluster_on(&dir);
    assert_eq!(cluster.topics(), vec!["configured", "orders"]);
    assert_eq!(topic_id(&cluster, "orders"), orders_id);
    assert_eq!(topic_id(&cluster, "configured"), configured_id);
    assert_eq!(
        cluster
            .topic_configs("configured")
            .unwrap()
            .get("retention.ms")
            .map(String::as_str),
        Some("123456")
    );
    assert_eq!(records(&cluster, "orders"), before);
    let group = cluster.group("g").expect("the group is kept");
    assert_eq!(group.offset("orders", 0), Some(2));
    assert_eq!(group.offset("orders", 2), Some(3));
    for p in 0..3 {
        let info = cluster.partition("orders", p).unwrap();
        assert_eq!(info.high_watermark, 3, "every kept record is visible");
    }
    // The log goes on where it stopped.
    assert_eq!(produce(&cluster, "orders", 1, batch_of(&["d"])), 3);
}

#[test]
fn idempotent_producer_state_survives_a_restart() {
    let dir = DataDir::new("idempotence");
    let cluster = cluster_on(&dir);
    cluster.create_topic("events", 1).unwrap();
    let (producer, epoch) = init_idempotent_producer(&cluster);
    let first = idempotent_batch(&["x", "y"], producer, epoch, 0);
    assert_eq!(
        try_produce(&cluster, "events", 0, first.clone()).base_offset,
        0
    );
    drop(cluster);

    let cluster = cluster_on(&dir);
    let retry = try_produce(&cluster, "events", 0, first);
    assert_no_error(retry.error_code, "a retried batch after the restart");
    assert_eq!(
        retry.base_offset, 0,
        "the duplicate gets its original offsets"
    );
    assert_eq!(cluster.partition("events", 0).unwrap().high_watermark, 2);
    let next = try_produce(
        &cluster,
        "events",
        0,
        idempotent_batch(&["z"], producer, epoch, 2),
    );
    assert_no_error(next.error_code, "the next sequence");
    assert_eq!(next.base_offset, 2);
    let gap = try_produce(
        &cluster,
        "events",
        0,
        idempotent_batch(&["w"], producer, epoch, 9),
    );
    assert_error(
        gap.error_code,
        ResponseError::OutOfOrderSequenceNumber,
        "a sequence gap",
    );
    let (another, _) = init_idempotent_producer(&cluster);
    assert!(another > producer, "producer ids are not handed out twice");
}

#[test]
fn committed_transactions_stay_visible_and_open_ones_resume_or_time_out() {
    let dir = DataDir::new("transactions");
    let start = |dir: &DataDir| {
        Cluster::builder()
            .brokers(3)
            .manual_clock(1_700_000_000_000)
            .data_dir(dir.path())
            .start()
            .expect("cluster starts")
    };
    let cluster = start(&dir);
    cluster.create_topic("ledger", 1).unwrap();
    let mut committed = TxnProducer::init(&cluster, "committed", 60_000, true);
    assert_eq!(committed.send(&cluster, "ledger", 0, &["c1", "c2"]), 0);
    assert_eq!(committed.end(&cluster, true), 0);
    let mut resumed = TxnProducer::init(&cluster, "resumed", 60_000, true);
    assert_eq!(resumed.send(&cluster, "ledger", 0, &["r1"]), 0);
    let mut abandoned = TxnProducer::init(&cluster, "abandoned", 10_000, true);
    assert_eq!(abandoned.send(&cluster, "ledger", 0, &["a1"]), 0);
    drop(cluster);

    // The manual clock goes on from where it stood (the document keeps it).
    let cluster = start(&dir);
    let (values, lso) = read_committed(&cluster, "ledger", 0);
    assert_eq!(values, vec!["c1", "c2"]);
    assert_eq!(
        lso, 3,
        "the open transactions hold the last stable offset back"
    );
    // The coordinator kept both open transactions: one commits, the other times out.
    assert_eq!(resumed.end(&cluster, true), 0);
    cluster.advance(Duration::from_millis(10_001));
    let (values, lso) = read_committed(&cluster, "ledger", 0);
    assert_eq!(values, vec!["c1", "c2", "r1"]);
    assert_eq!(lso, cluster.partition("ledger", 0).unwrap().high_watermark);
    drop(cluster);

    let cluster = start(&dir);
    assert_eq!(
        read_committed(&cluster, "ledger", 0).0,
        vec!["c1", "c2", "r1"]
    );
}

fn keyed(key: &str, value: &str) -> broker_sim::NewRecord {
    broker_sim::NewRecord {
        timestamp: BASE_TIMESTAMP,
        key: Some(bytes::Bytes::copy_from_slice(key.as_bytes())),
        value: Some(bytes::Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
    }
}

/// Every segment byte of `topic`-`partition` in the data directory.
fn bytes_on_disk(dir: &DataDir, topic: &str, partition: i32) -> Vec<u8> {
    let mut all = Vec::new();
    let logs = dir.path().join("logs").join(format!("{topic}-{partition}"));
    for entry in std::fs::read_dir(logs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

#[test]
fn compaction_and_delete_records_are_kept_on_disk_and_after_a_restart() {
    use kafka_protocol::messages::DeleteRecordsRequest;
    use kafka_protocol::messages::delete_records_request::{
        DeleteRecordsPartition, DeleteRecordsTopic,
    };
    let dir = DataDir::new("compaction");
    let cluster = cluster_on(&dir);
    cluster
        .create_topic_with_configs("keys", 1, &[("cleanup.policy", "compact")])
        .unwrap();
    for (k, v) in [("a", "old-a"), ("b", "b1"), ("a", "a2"), ("c", "c1")] {
        cluster.produce_records("keys", 0, &[keyed(k, v)]).unwrap();
    }
    cluster.compact_now("keys").unwrap();
    let keys_before = records(&cluster, "keys");
    assert_eq!(keys_before.len(), 3);
    let on_disk = bytes_on_disk(&dir, "keys", 0);
    assert!(
        !on_disk.windows(5).any(|w| w == b"old-a"),
        "the compacted record is gone from the segments"
    );

    cluster.create_topic("trimmed", 1).unwrap();
    for i in 0..5 {
        produce(&cluster, "trimmed", 0, batch_of(&[&format!("t{i}")]));
    }
    let request = DeleteRecordsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(name("trimmed"))
                .with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(0)
                        .with_offset(3),
                ]),
        ]);
    let answer = Conn::to_leader(&cluster, "trimmed", 0).send(2, &request);
    let p = &answer.topics[0].partitions[0];
    assert_no_error(p.error_code, "DeleteRecords");
    assert_eq!(p.low_watermark, 3);
    drop(cluster);

    let cluster = cluster_on(&dir);
    assert_eq!(records(&cluster, "keys"), keys_before);
    assert_eq!(cluster.partition("trimmed", 0).unwrap().log_start_offset, 3);
    assert_eq!(values_of(&cluster, "trimmed"), vec!["t3", "t4"]);
}

/// Produces `n` one-record batches `v0`, `v1`... to `topic`-0 and stops the cluster.
fn fill_and_stop(dir: &DataDir, topic: &str, n: usize) {
    let cluster = cluster_on(dir);
    cluster.create_topic(topic, 1).unwrap();
    for i in 0..n {
        assert_eq!(
            produce(&cluster, topic, 0, batch_of(&[&format!("v{i}")])),
            i as i64
        );
    }
}

fn values_of(cluster: &Cluster, topic: &str) -> Vec<String> {
    records(cluster, topic).into_iter().map(|r| r.2).collect()
}

#[test]
fn a_torn_tail_is_cut_and_every_earlier_batch_kept() {
    let dir = DataDir::new("torn");
    fill_and_stop(&dir, "t", 4);
    let segment = dir.segment("t", 0);
    let len = std::fs::metadata(&segment).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    // The last batch half written, then garbage: what a crash mid-write can leave.
    file.set_len(len - 7).unwrap();
    drop(file);
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.extend_from_slice(b"\x00\x00\x00\x00\x00\x00garbage");
    std::fs::write(&segment, bytes).unwrap();

    let cluster = cluster_on(&dir);
    assert_eq!(values_of(&cluster, "t"), vec!["v0", "v1", "v2"]);
    assert_eq!(cluster.partition("t", 0).unwrap().high_watermark, 3);
    assert_eq!(produce(&cluster, "t", 0, batch_of(&["again"])), 3);
    drop(cluster);
    let cluster = cluster_on(&dir);
    assert_eq!(values_of(&cluster, "t"), vec!["v0", "v1", "v2", "again"]);
}

#[test]
fn a_corrupt_batch_is_cut_with_everything_after_it() {
    let dir = DataDir::new("corrupt");
    fill_and_stop(&dir, "t", 4);
    let segment = dir.segment("t", 0);
    let mut bytes = std::fs::read(&segment).unwrap();
    let one = bytes.len() / 4;
    // A flipped bit in the third batch's last record: its CRC no longer matches.
    bytes[3 * one - 1] ^= 0x40;
    std::fs::write(&segment, bytes).unwrap();

    let cluster = cluster_on(&dir);
    assert_eq!(values_of(&cluster, "t"), vec!["v0", "v1"]);
    assert_eq!(produce(&cluster, "t", 0, batch_of(&["next"])), 2);
}

/// The entries of the data directory's `logs/`, sorted.
fn log_dirs(dir: &DataDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_deleted_topics_files_go_and_a_topic_recreated_under_its_name_keeps_its_own() {
    let dir = DataDir::new("recreate");
    // Left by a process killed while its flusher was deleting a topic's files.
    std::fs::create_dir_all(dir.path().join("logs").join("~delete-7")).unwrap();
    let cluster = cluster_on(&dir);
    assert_eq!(
        log_dirs(&dir),
        Vec::<String>::new(),
        "set-aside files are deleted at start"
    );
    cluster.create_topic("t", 2).unwrap();
    produce(&cluster, "t", 0, batch_of(&["old"]));
    cluster.create_topic("gone", 1).unwrap();
    produce(&cluster, "gone", 0, batch_of(&["x"]));
    cluster.delete_topic("gone").unwrap();
    cluster.delete_topic("t").unwrap();
    // At once, whether or not the flusher has deleted the old files yet: the new
    // partitions start empty and are never deleted in their place.
    cluster.create_topic("t", 2).unwrap();
    assert_eq!(produce(&cluster, "t", 0, batch_of(&["new"])), 0);
    // A partition's directory is made by its first write: t-1 has none.
    wait_until("the deleted topic's files to go", || {
        log_dirs(&dir) == ["t-0"]
    });
    drop(cluster);
    assert_eq!(log_dirs(&dir), ["t-0"]);

    let cluster = cluster_on(&dir);
    assert_eq!(cluster.topics(), vec!["t"]);
    assert_eq!(records(&cluster, "t"), vec![(0, 0, "new".to_string())]);
}

fn json(dir: &DataDir, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_commit_is_in_the_groups_document_when_answered_and_older_directories_keep_theirs() {
    let dir = DataDir::new("groups-doc");
    // Left beside no metadata document: belongs to no cluster.
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("groups.json"),
        r#"{"groups":[{"id":"stale","offsets":[]}]}"#,
    )
    .unwrap();
    let cluster = cluster_on(&dir);
    assert!(cluster.group("stale").is_none());
    cluster.create_topic("orders", 2).unwrap();
    let commit = commit_request("g", -1, "", &[("orders", 1, 7)], None, -1);
    let answer = Conn::to_coordinator(&cluster, "g").send(8, &commit);
    assert_no_error(answer.topics[0].partitions[0].error_code, "OffsetCommit");
    // Written before the answer, into the groups' document only.
    let groups = json(&dir, "groups.json");
    let offsets = &groups["groups"][0]["offsets"][0];
    assert_eq!(
        (
            groups["groups"][0]["id"].as_str(),
            offsets["partition"].as_i64(),
            offsets["offset"].as_i64()
        ),
        (Some("g"), Some(1), Some(7)),
        "{groups}"
    );
    assert_eq!(json(&dir, "metadata.json")["groups"], serde_json::json!([]));
    drop(cluster);

    // A directory from before the groups' document: its groups in the metadata document.
    let mut metadata = json(&dir, "metadata.json");
    metadata["groups"] = json(&dir, "groups.json")["groups"].clone();
    std::fs::write(dir.path().join("metadata.json"), metadata.to_string()).unwrap();
    std::fs::remove_file(dir.path().join("groups.json")).unwrap();
    let cluster = cluster_on(&dir);
    assert_eq!(
        cluster.group("g").expect("kept").offset("orders", 1),
        Some(7)
    );
    drop(cluster);
    let cluster = cluster_on(&dir);
    assert_eq!(
        cluster.group("g").expect("kept").offset("orders", 1),
        Some(7)
    );
    drop(cluster);

    // Offsets of a topic the metadata does not have (a process stopped between a topic's
    // deletion reaching one document and the other) are dropped, as Kafka drops a
    // deleted topic's.
    let mut groups = json(&dir, "groups.json");
    let mut ghost = groups["groups"][0]["offsets"][0].clone();
    ghost["topic"] = "ghost".into();
    groups["groups"][0]["offsets"]
        .as_array_mut()
        .unwrap()
        .push(ghost);
    std::fs::write(dir.path().join("groups.json"), groups.to_string()).unwrap();
    let cluster = cluster_on(&dir);
    let group = cluster.group("g").expect("kept");
    assert_eq!(
        (group.offset("orders", 1), group.offset("ghost", 1)),
        (Some(7), None)
    );
}

#[test]
fn a_second_process_on_the_same_directory_is_refused() {
    let dir = DataDir::new("locked");
    let _cluster = cluster_on(&dir);
    let err = Cluster::builder()
        .data_dir(dir.path())
        .start()
        .err()
        .expect("the directory is in use");
    assert!(err.to_string().contains("in use"), "{err}");
}

/// The leader of `topic`-`partition` on a broker-sim binary, as a connection.
fn leader_conn(bootstrap: &str, topic: &str) -> Conn {
    let first = bootstrap.split(',').next().unwrap();
    let mut conn = Conn::connect(first);
    let answer = metadata(&mut conn, 12, &[topic]);
    let leader = answer.topics[0].partitions[0].leader_id;
    let broker = answer
        .brokers
        .iter()
        .find(|b| b.node_id == leader)
        .expect("the leader is listed");
    Conn::connect((broker.host.as_str(), broker.port as u16))
}

/// Every (offset, value) of `topic`-0, fetched from the start.
fn fetch_all(conn: &mut Conn, topic: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let request: FetchRequest = fetch_request(topic, 0, offset);
        let answer = conn.send(12, &request);
        let p = &answer.responses[0].partitions[0];
        assert_no_error(p.error_code, "Fetch");
        let records = p.records.clone().unwrap_or_default();
        let batches = complete_batches(&records);
        if batches.is_empty() {
            return out;
        }
        for b in batches {
            let view = broker_sim_protocol::batch::BatchView::parse(&b).unwrap();
            for r in view.records().unwrap() {
                let value = String::from_utf8(r.value.unwrap().to_vec()).unwrap();
                out.push((r.offset, value));
            }
            offset = view.last_offset() + 1;
        }
    }
}

#[test]
fn kill_9_keeps_every_acknowledged_record_at_its_offset() {
    let dir = DataDir::new("kill9");
    let data_dir = dir.path().to_str().unwrap().to_string();
    let args = [
        "--brokers",
        "3",
        "--no-auto-create",
        "--data-dir",
        &data_dir,
    ];
    let mut binary = Binary::start(&args);
    let create = CreateTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            CreatableTopic::default()
                .with_name(name("load"))
                .with_num_partitions(1)
                .with_replication_factor(3)
                .with_configs(vec![
                    CreatableTopicConfig::default()
                        .with_name(str_bytes("flush.messages"))
                        .with_value(Some(str_bytes("1"))),
                ]),
        ]);
    let first = binary.bootstrap.split(',').next().unwrap().to_string();
    let created = Conn::connect(first.as_str()).send(5, &create);
    assert_no_error(created.topics[0].error_code, "CreateTopics");

    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let mut conn = leader_conn(&binary.bootstrap, "load");
    let producer = {
        let acked = acked.clone();
        std::thread::spawn(move || {
            for i in 0.. {
                let value = format!("r{i}");
                let request = produce_request("load", 0, batch_of(&[&value, &format!("{value}b")]));
                let Ok(answer) = conn.try_send(9, &request) else {
                    return;
                };
                let p = &answer.responses[0].partition_responses[0];
                if p.error_code != 0 {
                    return;
                }
                acked.lock().unwrap().push((p.base_offset, value));
            }
        })
    };
    wait_until("200 acknowledged batches", || {
        acked.lock().unwrap().len() >= 200
    });
    binary.child.kill().expect("kill -9");
    binary.child.wait().unwrap();
    producer.join().unwrap();
    let acked = acked.lock().unwrap().clone();

    let binary = Binary::start(&args);
    let kept = fetch_all(&mut leader_conn(&binary.bootstrap, "load"), "load");
    let kept: std::collections::BTreeMap<i64, String> = kept.into_iter().collect();
    for (offset, value) in &acked {
        assert_eq!(kept.get(offset), Some(value), "acknowledged at {offset}");
        assert_eq!(kept.get(&(offset + 1)), Some(&format!("{value}b")));
    }
}
