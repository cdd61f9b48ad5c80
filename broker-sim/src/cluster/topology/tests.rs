//! Reading and checking topology files: every mistake is an error naming its line.

use super::*;

fn error(text: &str) -> ConfigError {
    ClusterConfig::from_toml(text).expect_err("the file is refused")
}

/// The error's line and message.
fn refused(text: &str) -> (Option<usize>, String) {
    let e = error(text);
    (e.line(), e.to_string())
}

#[test]
fn a_full_file_is_read_into_specs_settings_records_and_offsets() {
    let config = ClusterConfig::from_toml(
        r#"
brokers = 3
host = "127.0.0.1"
port = 0
seed = 7
racks = { 1 = "a", 2 = "b", 3 = "c" }
listeners = ["INTERNAL:PLAINTEXT", "EXTERNAL:SASL_PLAINTEXT:0"]
users = { alice = "alice-secret" }

[settings]
"auto.create.topics.enable" = false
"num.partitions" = 2
"default.replication.factor" = 3

[[topics]]
name = "orders"
partitions = 6
replication_factor = 2
configs = { "min.insync.replicas" = "2", "retention.ms" = 604800000 }

[[topics.records]]
key = "order-1"
value = '{"id": 1}'
headers = { source = "seed" }

[[topics.records]]
partition = 5
value = "pinned"

[[topics]]
name = "defaults"

[[groups]]
id = "billing"
offsets = [ { topic = "orders", partition = 0, offset = 1 }, { topic = "defaults", offset = 3 } ]
"#,
    )
    .expect("the file is valid");
    assert_eq!(config.brokers(), Some(3));
    assert_eq!(config.port(), Some(0));
    assert_eq!(config.racks.len(), 3);
    assert_eq!(config.listeners.len(), 2);
    assert_eq!(
        config.users,
        [("alice".to_string(), "alice-secret".to_string())]
    );
    let names: Vec<&str> = config.settings.iter().map(|(s, _)| s.name).collect();
    assert_eq!(
        names,
        [
            "auto.create.topics.enable",
            "default.replication.factor",
            "num.partitions"
        ]
    );
    let orders = &config.topics[0];
    assert_eq!((orders.partitions, orders.replication_factor), (6, 2));
    assert_eq!(orders.configs["retention.ms"], "604800000");
    // A topic without partitions takes the file's num.partitions, so records and
    // offsets can be checked against it.
    assert_eq!(
        (
            config.topics[1].partitions,
            config.topics[1].replication_factor
        ),
        (2, -1)
    );
    assert_eq!(config.records.len(), 2);
    assert_eq!(config.records[0].1, None);
    assert_eq!(config.records[1].1, Some(5));
    assert_eq!(
        config.groups,
        [(
            "billing".to_string(),
            vec![
                ("orders".to_string(), 0, 1),
                ("defaults".to_string(), 0, 3),
                ("defaults".to_string(), 1, 3),
            ]
        )]
    );
}

#[test]
fn an_unknown_key_names_the_key_and_its_line() {
    let (line, message) = refused("brokers = 3\n\n[[topics]]\nname = \"orders\"\npartitons = 3\n");
    assert_eq!(line, Some(5));
    assert!(message.contains("partitons"), "{message}");
    assert!(message.starts_with("line 5:"), "{message}");
}

#[test]
fn an_unknown_top_level_key_is_refused() {
    let (line, message) = refused("brokers = 3\nbroker_count = 3\n");
    assert_eq!(line, Some(2));
    assert!(message.contains("broker_count"), "{message}");
}

#[test]
fn malformed_toml_is_an_error_with_its_line() {
    let (line, _) = refused("brokers = 3\n[settings\n");
    assert_eq!(line, Some(2));
}

#[test]
fn an_unknown_setting_lists_the_known_ones() {
    let (line, message) =
        refused("[settings]\n\"num.partitions\" = 1\n\"auto.create.topic.enable\" = false\n");
    assert_eq!(line, Some(3));
    assert!(
        message.contains("\"auto.create.topic.enable\""),
        "{message}"
    );
    assert!(message.contains("auto.create.topics.enable"), "{message}");
    assert!(
        message.contains("group.initial.rebalance.delay.ms"),
        "{message}"
    );
}

#[test]
fn a_setting_of_the_wrong_type_is_refused() {
    let (line, message) = refused("[settings]\n\"group.initial.rebalance.delay.ms\" = \"soon\"\n");
    assert_eq!(line, Some(2));
    assert!(message.contains("must be an integer"), "{message}");
}

#[test]
fn replication_beyond_the_brokers_is_refused() {
    let (line, message) = refused(
        "brokers = 2\n[[topics]]\nname = \"orders\"\npartitions = 1\nreplication_factor = 3\n",
    );
    assert_eq!(line, Some(5));
    assert!(message.contains("more than the 2 brokers"), "{message}");

    let (line, message) = refused("brokers = 1\n[settings]\n\"default.replication.factor\" = 3\n");
    assert_eq!(line, Some(3));
    assert!(message.contains("more than the 1 brokers"), "{message}");
}

#[test]
fn a_topic_needs_at_least_one_partition() {
    let (line, message) = refused("[[topics]]\nname = \"orders\"\npartitions = 0\n");
    assert_eq!(line, Some(3));
    assert!(message.contains("at least 1"), "{message}");
}

#[test]
fn a_record_partition_out_of_range_is_refused() {
    let (line, message) = refused(
        "[[topics]]\nname = \"orders\"\npartitions = 2\n\n[[topics.records]]\npartition = 2\nvalue = \"x\"\n",
    );
    // The record's table header.
    assert_eq!(line, Some(5));
    assert!(message.contains("partition 2 is out of range"), "{message}");
}

#[test]
fn offsets_of_a_topic_the_file_does_not_create_are_refused() {
    let (line, message) = refused(
        "[[topics]]\nname = \"orders\"\npartitions = 1\n\n[[groups]]\nid = \"billing\"\noffsets = [\n  { topic = \"order\", partition = 0, offset = 1 },\n]\n",
    );
    assert_eq!(line, Some(8));
    assert!(
        message.contains("\"order\" is not one of the file's topics"),
        "{message}"
    );

    let (_, message) = refused(
        "[[topics]]\nname = \"orders\"\npartitions = 1\n[[groups]]\nid = \"g\"\noffsets = [{ topic = \"orders\", partition = 1, offset = 0 }]\n",
    );
    assert!(message.contains("not partition 1"), "{message}");
}

#[test]
fn topic_configs_are_checked_by_kafka_rules() {
    let (line, message) =
        refused("[[topics]]\nname = \"orders\"\nconfigs = { \"retention.msec\" = \"1\" }\n");
    assert_eq!(line, Some(3));
    assert!(message.contains("retention.msec"), "{message}");

    let (_, message) =
        refused("[[topics]]\nname = \"orders\"\nconfigs = { \"min.insync.replicas\" = \"0\" }\n");
    assert!(message.contains("at least 1"), "{message}");
}

#[test]
fn duplicate_and_invalid_topic_names_are_refused() {
    let (line, message) = refused("[[topics]]\nname = \"a\"\n[[topics]]\nname = \"a\"\n");
    assert_eq!(line, Some(4));
    assert!(message.contains("defined twice"), "{message}");
    let (_, message) = refused("[[topics]]\nname = \"a b\"\n");
    assert!(message.contains("\"a b\""), "{message}");
}

#[test]
fn listeners_racks_and_brokers_are_checked() {
    let (line, message) = refused("listeners = [\"EXTERNAL:KERBEROS\"]\n");
    assert_eq!(line, Some(1));
    assert!(message.contains("KERBEROS"), "{message}");
    let (_, message) = refused("brokers = 2\nracks = { 3 = \"c\" }\n");
    assert!(message.contains("not a broker id (1 to 2)"), "{message}");
    let (_, message) = refused("brokers = 0\n");
    assert!(message.contains("between 1 and 1000"), "{message}");
}

#[test]
fn a_load_error_names_the_file() {
    let missing = ClusterConfig::load("/nonexistent/cluster.toml").unwrap_err();
    assert!(matches!(missing, ConfigError::Read { .. }));
    assert!(
        missing
            .to_string()
            .starts_with("cannot read /nonexistent/cluster.toml: ")
    );

    let dir = std::env::temp_dir().join(format!("topology-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "brokers = 3\nbrokerz = 1\n").unwrap();
    let e = ClusterConfig::load(&file).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.starts_with(&format!("{}:2:1: ", file.display())), "{e}");
}

#[test]
fn the_builder_takes_what_the_file_sets_and_keeps_what_it_leaves_out() {
    let config = ClusterConfig::from_toml("brokers = 1\n[[topics]]\nname = \"t\"\n").unwrap();
    let cluster = Cluster::builder()
        .brokers(5)
        .port(0)
        .config(&config)
        .start()
        .unwrap();
    assert_eq!(cluster.brokers().len(), 1);
    assert_eq!(cluster.topics(), ["t"]);

    let config = ClusterConfig::from_toml("[[topics]]\nname = \"t\"\n").unwrap();
    let cluster = Cluster::builder()
        .brokers(2)
        .config(&config)
        .start()
        .unwrap();
    assert_eq!(cluster.brokers().len(), 2);
}
