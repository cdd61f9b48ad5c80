//! Topology files end to end: `Cluster::from_config` on the shipped example and on a file
//! with seed records and committed offsets, and the binary's `--config`, with flags
//! overriding the file and a malformed file refused before anything is printed.
//!
//! Every cluster takes free ports: the example sets none, and the binary is given
//! `--port 0 --control-port 0`. Nothing waits on time: the binary's startup waits (bounded)
//! for the lines it prints, and its exit on a bad file for the process to end.

mod support;

use support::binary::Binary as BrokerSim;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use broker_sim::{Cluster, ClusterConfig, GroupState};

use support::*;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/topology.toml")
}

/// The example's topics and partition counts, sorted by name.
const EXAMPLE_TOPICS: &[(&str, usize)] = &[
    ("audit-events", 6),
    ("audit-events.dlq", 1),
    ("hr-events", 3),
    ("hr-events.dlq", 1),
    ("notification-events", 3),
    ("notification-events.dlq", 1),
    ("request-events", 6),
    ("request-events.dlq", 1),
    ("security-events", 3),
    ("security-events.dlq", 1),
    ("workflow-events", 3),
    ("workflow-events.dlq", 1),
];

/// A topology file in a directory of its own, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!("broker-sim-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cluster.toml");
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

#[test]
fn the_example_creates_every_topic_with_its_partitions_replicas_and_min_insync() {
    let cluster = Cluster::from_config(example()).expect("the example starts");
    assert_eq!(cluster.brokers().len(), 3);
    let names: Vec<&str> = EXAMPLE_TOPICS.iter().map(|(t, _)| *t).collect();
    assert_eq!(cluster.topics(), names);
    for &(topic, count) in EXAMPLE_TOPICS {
        let partitions = cluster.partitions(topic).unwrap();
        assert_eq!(partitions.len(), count, "{topic}");
        for p in &partitions {
            assert_eq!(p.replicas.len(), 3, "{topic}-{} replicas", p.partition);
            assert_eq!(p.isr.len(), 3, "{topic}-{} isr", p.partition);
        }
        let configs = cluster.topic_configs(topic).unwrap();
        assert_eq!(
            configs.get("min.insync.replicas").map(String::as_str),
            Some("2"),
            "{topic}"
        );
        assert!(cluster.records(topic).is_empty(), "{topic} has no records");
    }
    assert_eq!(
        cluster
            .topic_configs("audit-events")
            .unwrap()
            .get("retention.ms")
            .map(String::as_str),
        Some("-1")
    );
}

#[test]
fn the_example_overridden_to_free_ports_starts_from_its_builder() {
    let config = ClusterConfig::load(example()).unwrap();
    let cluster = config.builder().port(0).start().expect("starts");
    config.populate(&cluster).unwrap();
    assert_eq!(cluster.topics().len(), EXAMPLE_TOPICS.len());
    assert!(cluster.groups().is_empty());
}

const SEEDED: &str = r#"
brokers = 3

[settings]
"auto.create.topics.enable" = false

[[topics]]
name = "orders"
partitions = 4
replication_factor = 2
configs = { "min.insync.replicas" = "2" }

[[topics.records]]
key = "order-1"
value = '{"id": 1}'
headers = { source = "seed" }

[[topics.records]]
key = "order-1"
value = '{"id": 1, "paid": true}'

[[topics.records]]
partition = 3
value = "pinned"
timestamp = 1700000000000

[[groups]]
id = "billing"
offsets = [ { topic = "orders", partition = 3, offset = 1 } ]

[[groups]]
id = "audit"
offsets = [ { topic = "orders", offset = 0 } ]
"#;

#[test]
fn seed_records_and_group_offsets_are_there_when_the_cluster_starts() {
    let file = TempFile::new("seeded", SEEDED);
    let cluster = Cluster::from_config(&file.0).expect("the file starts");
    let partitions = cluster.partitions("orders").unwrap();
    assert!(partitions.iter().all(|p| p.replicas.len() == 2));

    // Keyed records go where Kafka's default partitioner puts their key, in file order.
    let key_partition = cluster.partition_for_key("orders", b"order-1").unwrap();
    let records = cluster.records("orders");
    let keyed: Vec<_> = records
        .iter()
        .filter(|r| r.key.as_deref() == Some(b"order-1".as_slice()))
        .collect();
    assert!(keyed.iter().all(|r| r.partition == key_partition));
    let values: Vec<_> = keyed.iter().map(|r| r.value_str()).collect();
    assert_eq!(
        values,
        [Some(r#"{"id": 1}"#), Some(r#"{"id": 1, "paid": true}"#)]
    );
    assert_eq!(
        keyed[0].headers,
        [("source".to_string(), Some(bytes::Bytes::from("seed")))]
    );
    let pinned = records
        .iter()
        .find(|r| r.value_str() == Some("pinned"))
        .unwrap();
    assert_eq!((pinned.partition, pinned.key.as_ref()), (3, None));
    assert_eq!(pinned.timestamp, 1_700_000_000_000);
    assert_eq!(cluster.records("orders").len(), 3);
    assert!(cluster.misplaced_records("orders").is_empty());

    let billing = cluster.group("billing").expect("the group exists");
    assert_eq!(billing.state, GroupState::Empty);
    let offsets: Vec<(String, i32, i64)> = billing
        .offsets
        .iter()
        .map(|o| (o.topic.clone(), o.partition, o.offset))
        .collect();
    assert_eq!(offsets, [("orders".to_string(), 3, 1)]);
    let audit: Vec<(i32, i64)> = cluster
        .group("audit")
        .unwrap()
        .offsets
        .iter()
        .map(|o| (o.partition, o.offset))
        .collect();
    assert_eq!(audit, [(0, 0), (1, 0), (2, 0), (3, 0)]);
}

#[test]
fn offsets_cannot_be_altered_for_a_partition_that_does_not_exist() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let e = cluster
        .alter_group_offsets("g", &[("t", 0, 1), ("t", 1, 1)])
        .unwrap_err();
    assert_eq!(e.code, broker_sim::ResponseError::UnknownTopicOrPartition);
    assert!(cluster.group("g").is_none(), "nothing changed");
}

#[test]
fn the_binary_starts_the_example_and_serves_its_topics() {
    let path = example();
    let sim = BrokerSim::start(&["--config", path.to_str().unwrap()]);
    assert_eq!(sim.bootstrap.split(',').count(), 3, "{}", sim.bootstrap);
    let topics = sim.get_ok("/v1/topics");
    let names: Vec<&str> = EXAMPLE_TOPICS.iter().map(|(t, _)| *t).collect();
    assert_eq!(topics["topics"], serde_json::json!(names));
    let request_events = sim.get_ok("/v1/topics/request-events");
    assert_eq!(request_events["partitions"].as_array().unwrap().len(), 6);
}

#[test]
fn flags_given_on_the_command_line_override_the_file_and_the_rest_stays() {
    let file = TempFile::new("flags", SEEDED);
    let sim = BrokerSim::start(&["--config", file.0.to_str().unwrap(), "--brokers", "4"]);
    // --brokers overrides the file's 3.
    assert_eq!(sim.bootstrap.split(',').count(), 4, "{}", sim.bootstrap);
    // The file's auto.create.topics.enable = false holds: --no-auto-create was not given,
    // so its default does not override it.
    let first = sim.bootstrap.split(',').next().unwrap();
    let mut conn = Conn::connect(first);
    let request = metadata_request(&["unknown"]).with_allow_auto_topic_creation(true);
    let _ = conn.send(12, &request);
    assert_eq!(
        sim.get_ok("/v1/topics")["topics"],
        serde_json::json!(["orders"])
    );
    // The file's records and offsets were seeded before the bootstrap line was printed.
    let records = sim.get_ok("/v1/topics/orders/records");
    assert_eq!(records["records"].as_array().unwrap().len(), 3, "{records}");
    let billing = sim.get_ok("/v1/groups/billing");
    assert_eq!(billing["offsets"][0]["offset"], 1, "{billing}");
}

#[test]
fn the_binary_refuses_a_malformed_file_before_printing_anything() {
    let file = TempFile::new(
        "malformed",
        "brokers = 3\n[[topics]]\nname = \"t\"\npartitons = 2\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_broker-sim"))
        .args(["--config", file.0.to_str().unwrap()])
        .args(["--port", "0", "--control-port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("broker-sim runs");
    let mut status = None;
    wait_until("broker-sim to exit", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    assert!(!status.unwrap().success());
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stdout, "", "nothing on stdout");
    let at = format!("{}:4:1: unknown field `partitons`", file.0.display());
    assert!(stderr.contains(&at), "{stderr}");

    let missing = Command::new(env!("CARGO_BIN_EXE_broker-sim"))
        .args(["--config", "/nonexistent/cluster.toml"])
        .args(["--port", "0", "--control-port", "0"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(missing.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("/nonexistent/cluster.toml"), "{stderr}");
}

#[test]
fn schemas_in_the_file_are_registered_in_order_from_text_and_files() {
    let address = r#"{"type":"record","name":"Address","namespace":"t","fields":[{"name":"city","type":"string"}]}"#;
    let file = TempFile::new(
        "schemas",
        r#"
brokers = 1

[[schemas]]
subject = "address"
file = "address.avsc"

[[schemas]]
subject = "person-value"
type = "AVRO"
schema = '''{"type":"record","name":"Person","namespace":"t","fields":[{"name":"home","type":"t.Address"}]}'''
references = [{ name = "t.Address", subject = "address", version = 1 }]
"#,
    );
    std::fs::write(file.0.parent().unwrap().join("address.avsc"), address).unwrap();
    let cluster = Cluster::from_config(&file.0).expect("the file starts");
    let registry = cluster.schema_registry();
    assert_eq!(registry.subjects(), ["address", "person-value"]);
    assert_eq!(registry.latest("address").unwrap().schema, address);
    let person = registry.latest("person-value").unwrap();
    assert_eq!((person.id, person.references.len()), (2, 1));
}

#[test]
fn a_schema_that_does_not_register_is_an_error_naming_its_line() {
    let text = r#"
brokers = 1

[[schemas]]
subject = "s"
schema = '{"type": "record", "name": "R"}'
"#;
    let e = ClusterConfig::from_toml(text).unwrap_err();
    assert_eq!(e.line(), Some(4), "{e}");
    assert!(e.to_string().contains("subject \"s\""), "{e}");
    let missing = "[[schemas]]\nsubject = \"s\"\nfile = \"/nonexistent/x.avsc\"\n";
    let e = ClusterConfig::from_toml(missing).unwrap_err();
    assert_eq!(e.line(), Some(3), "{e}");
}
