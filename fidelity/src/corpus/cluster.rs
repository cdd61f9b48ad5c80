//! Cluster-level APIs: UpdateFeatures, UnregisterBroker, ListConfigResources and
//! AlterReplicaLogDirs — each asked only what leaves the shared reference Kafka as it was
//! (no level changes, no broker removed, no topics listed, which other scenarios add).

use kafka_protocol::messages::alter_replica_log_dirs_request::{
    AlterReplicaLogDir, AlterReplicaLogDirTopic,
};
use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::{
    AlterReplicaLogDirsRequest, ApiKey, ListConfigResourcesRequest, UnregisterBrokerRequest,
    UpdateFeaturesRequest,
};

use super::helpers::{create_topic, s, scenario, topic, versions};
use crate::scenario::{Scenario, Step};

const UPGRADE: i8 = 1;
const SAFE_DOWNGRADE: i8 = 2;

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::UpdateFeatures) {
        let update = move |feature: &str, level: i16, kind: i8, validate_only: bool| {
            let mut key = FeatureUpdateKey::default()
                .with_feature(s(feature))
                .with_max_version_level(level);
            if v == 0 {
                key.allow_downgrade = kind != UPGRADE;
            } else {
                key.upgrade_type = kind;
            }
            let mut r = UpdateFeaturesRequest::default()
                .with_timeout_ms(30_000)
                .with_feature_updates(vec![key]);
            if v >= 1 {
                r.validate_only = validate_only;
            }
            Step::new(ApiKey::UpdateFeatures, v, r)
        };
        let cases: [(&str, &str, i16, i8, bool); 5] = [
            ("same-level", "transaction.version", 2, UPGRADE, false),
            (
                "unknown-feature",
                "broker-sim.test.version",
                1,
                UPGRADE,
                false,
            ),
            ("above-supported", "transaction.version", 3, UPGRADE, false),
            (
                "downgrade-as-upgrade",
                "transaction.version",
                1,
                UPGRADE,
                false,
            ),
            ("negative-level", "transaction.version", -1, UPGRADE, false),
        ];
        for (what, feature, level, kind, validate) in cases {
            out.push(scenario(ApiKey::UpdateFeatures, v, what, |_| {
                vec![update(feature, level, kind, validate)]
            }));
        }
        if v >= 1 {
            out.push(scenario(
                ApiKey::UpdateFeatures,
                v,
                "validate-only-downgrade",
                |_| vec![update("transaction.version", 1, SAFE_DOWNGRADE, true)],
            ));
            out.push(scenario(
                ApiKey::UpdateFeatures,
                v,
                "unknown-upgrade-type",
                |_| vec![update("transaction.version", 2, 9, true)],
            ));
        }
    }
    for v in versions(ApiKey::UnregisterBroker) {
        out.push(scenario(
            ApiKey::UnregisterBroker,
            v,
            "unknown-broker",
            |_| {
                vec![Step::new(
                    ApiKey::UnregisterBroker,
                    v,
                    UnregisterBrokerRequest::default().with_broker_id(42.into()),
                )]
            },
        ));
    }
    for v in versions(ApiKey::ListConfigResources) {
        let list = move |types: Vec<i8>| {
            Step::new(
                ApiKey::ListConfigResources,
                v,
                ListConfigResourcesRequest::default().with_resource_types(types),
            )
        };
        if v == 0 {
            out.push(scenario(
                ApiKey::ListConfigResources,
                v,
                "client-metrics",
                |_| vec![list(Vec::new())],
            ));
            continue;
        }
        let cases: [(&str, Vec<i8>); 6] = [
            ("brokers", vec![4]),
            ("broker-loggers-and-brokers", vec![4, 8]),
            ("client-metrics", vec![16]),
            ("groups", vec![32]),
            ("unsupported-type", vec![64]),
            ("supported-and-unsupported", vec![4, 1]),
        ];
        for (what, types) in cases {
            out.push(scenario(ApiKey::ListConfigResources, v, what, |_| {
                vec![list(types)]
            }));
        }
    }
    for v in versions(ApiKey::AlterReplicaLogDirs) {
        let alter = move |path: &str, name: &str, partitions: Vec<i32>| {
            let r = AlterReplicaLogDirsRequest::default().with_dirs(vec![
                AlterReplicaLogDir::default()
                    .with_path(s(path))
                    .with_topics(vec![
                        AlterReplicaLogDirTopic::default()
                            .with_name(topic(name))
                            .with_partitions(partitions),
                    ]),
            ]);
            Step::new(ApiKey::AlterReplicaLogDirs, v, r)
        };
        out.push(scenario(
            ApiKey::AlterReplicaLogDirs,
            v,
            "unknown-dir",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 2);
                steps.push(alter("/nowhere/broker-sim-fidelity", &name, vec![0, 1]));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::AlterReplicaLogDirs,
            v,
            "unknown-topic-unknown-dir",
            |p| {
                vec![alter(
                    "/nowhere/broker-sim-fidelity",
                    &format!("{p}missing"),
                    vec![0],
                )]
            },
        ));
    }
    out
}

/// DescribeQuorum: the metadata quorum, and a question about another topic or partition.
pub fn quorum_scenarios() -> Vec<Scenario> {
    use kafka_protocol::messages::DescribeQuorumRequest;
    use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
    let describe = |v: i16, topic_name: &str, partition: i32| {
        Step::new(
            ApiKey::DescribeQuorum,
            v,
            DescribeQuorumRequest::default().with_topics(vec![
                TopicData::default()
                    .with_topic_name(topic(topic_name))
                    .with_partitions(vec![
                        PartitionData::default().with_partition_index(partition),
                    ]),
            ]),
        )
    };
    let mut out = Vec::new();
    for v in versions(ApiKey::DescribeQuorum) {
        out.push(scenario(
            ApiKey::DescribeQuorum,
            v,
            "metadata-quorum",
            |_| vec![describe(v, "__cluster_metadata", 0)],
        ));
        out.push(scenario(
            ApiKey::DescribeQuorum,
            v,
            "other-partition",
            |_| vec![describe(v, "__cluster_metadata", 1)],
        ));
        out.push(scenario(ApiKey::DescribeQuorum, v, "other-topic", |p| {
            vec![describe(v, &format!("{p}t"), 0)]
        }));
    }
    out
}

/// AddRaftVoter and RemoveRaftVoter against a static quorum (the reference Kafka's
/// `controller.quorum.voters`, broker-sim's model): refused, with the checks before.
pub fn voter_scenarios() -> Vec<Scenario> {
    use kafka_protocol::messages::add_raft_voter_request::Listener;
    use kafka_protocol::messages::{AddRaftVoterRequest, RemoveRaftVoterRequest};
    let directory = uuid::Uuid::from_u128(0x5eed_0000_0000_0000_0000_0000_0000_0001);
    let mut out = Vec::new();
    for v in versions(ApiKey::AddRaftVoter) {
        let add = move |dir: uuid::Uuid, listener: &str| {
            Step::new(
                ApiKey::AddRaftVoter,
                v,
                AddRaftVoterRequest::default()
                    .with_cluster_id(None)
                    .with_timeout_ms(10_000)
                    .with_voter_id(7)
                    .with_voter_directory_id(dir)
                    .with_listeners(vec![
                        Listener::default()
                            .with_name(s(listener))
                            .with_host(s("127.0.0.1"))
                            .with_port(1),
                    ]),
            )
        };
        out.push(scenario(ApiKey::AddRaftVoter, v, "static-quorum", |_| {
            vec![add(directory, "CONTROLLER")]
        }));
        out.push(scenario(ApiKey::AddRaftVoter, v, "no-directory", |_| {
            vec![add(uuid::Uuid::nil(), "CONTROLLER")]
        }));
        // Another cluster's id is refused naming both ids, which differ between the two
        // clusters; broker-sim/tests/cluster_apis.rs checks it.
    }
    for v in versions(ApiKey::RemoveRaftVoter) {
        let remove = move |dir: uuid::Uuid| {
            Step::new(
                ApiKey::RemoveRaftVoter,
                v,
                RemoveRaftVoterRequest::default()
                    .with_cluster_id(None)
                    .with_voter_id(1)
                    .with_voter_directory_id(dir),
            )
        };
        out.push(scenario(
            ApiKey::RemoveRaftVoter,
            v,
            "static-quorum",
            |_| vec![remove(directory)],
        ));
        out.push(scenario(ApiKey::RemoveRaftVoter, v, "no-directory", |_| {
            vec![remove(uuid::Uuid::nil())]
        }));
    }
    out
}
