//! The one table of API keys and version ranges broker-sim supports.
//!
//! ApiVersions answers from it, the dispatcher refuses anything outside it before decoding,
//! and the README's compatibility table is generated from it (a test keeps the README in
//! step). Ranges follow Apache Kafka 4.1 as encoded by `kafka-protocol` 0.18; an API is
//! listed only once a handler implements it.

use kafka_protocol::messages::ApiKey;

/// One supported API: key and inclusive version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSupport {
    pub key: ApiKey,
    pub min: i16,
    pub max: i16,
}

impl ApiSupport {
    pub fn contains(&self, version: i16) -> bool {
        (self.min..=self.max).contains(&version)
    }
}

const fn api(key: ApiKey, min: i16, max: i16) -> ApiSupport {
    ApiSupport { key, min, max }
}

/// Supported APIs, in API-key order.
pub const SUPPORTED_APIS: &[ApiSupport] = &[
    api(ApiKey::Produce, 3, 13),
    api(ApiKey::Fetch, 4, 18),
    api(ApiKey::ListOffsets, 1, 10),
    api(ApiKey::Metadata, 0, 13),
    api(ApiKey::OffsetCommit, 2, 9),
    api(ApiKey::OffsetFetch, 1, 9),
    api(ApiKey::FindCoordinator, 0, 6),
    api(ApiKey::JoinGroup, 0, 9),
    api(ApiKey::Heartbeat, 0, 4),
    api(ApiKey::LeaveGroup, 0, 5),
    api(ApiKey::SyncGroup, 0, 5),
    api(ApiKey::DescribeGroups, 0, 6),
    api(ApiKey::ListGroups, 0, 5),
    api(ApiKey::ApiVersions, 0, 4),
    api(ApiKey::CreateTopics, 2, 7),
    api(ApiKey::DeleteTopics, 1, 6),
    api(ApiKey::DeleteRecords, 0, 2),
    api(ApiKey::InitProducerId, 0, 5),
    api(ApiKey::OffsetForLeaderEpoch, 2, 4),
    api(ApiKey::DescribeConfigs, 1, 4),
    api(ApiKey::CreatePartitions, 0, 3),
    api(ApiKey::DeleteGroups, 0, 2),
    api(ApiKey::OffsetDelete, 0, 0),
    api(ApiKey::DescribeCluster, 0, 2),
];

/// The supported range for `key`, if broker-sim implements it at all.
pub fn supported(key: ApiKey) -> Option<ApiSupport> {
    SUPPORTED_APIS.iter().copied().find(|a| a.key == key)
}

/// The compatibility table as Markdown, as the README shows it.
pub fn markdown_table() -> String {
    let mut out = String::from("| API | key | versions |\n|---|---|---|\n");
    for a in SUPPORTED_APIS {
        out.push_str(&format!(
            "| {:?} | {} | {}–{} |\n",
            a.key, a.key as i16, a.min, a.max
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_within_what_kafka_protocol_can_encode() {
        for pair in SUPPORTED_APIS.windows(2) {
            assert!((pair[0].key as i16) < (pair[1].key as i16), "{pair:?}");
        }
        for a in SUPPORTED_APIS {
            let codec = a.key.valid_versions();
            assert!(a.min <= a.max, "{a:?}");
            assert!(
                codec.min <= a.min && a.max <= codec.max,
                "{a:?} outside kafka-protocol's {codec:?}"
            );
        }
    }

    #[test]
    fn readme_compatibility_table_matches_this_table() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md at the workspace root");
        assert!(
            readme.contains(&markdown_table()),
            "README's supported-API table is stale; replace it with:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn api_versions_v0_is_supported_so_clients_can_negotiate_down() {
        assert!(supported(ApiKey::ApiVersions).unwrap().contains(0));
    }
}
