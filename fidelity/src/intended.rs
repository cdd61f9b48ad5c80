//! The reviewed list of intended differences: where broker-sim answers differently from
//! Kafka on purpose, each with its reason. A difference is accepted only where every line
//! that differs is matched by an entry: the scenario id starts with `scenarios` and the
//! line's field path ends with `field`. Anything else fails the suite.

pub struct Intended {
    pub scenarios: &'static str,
    pub field: &'static str,
    pub reason: &'static str,
}

pub const INTENDED: &[Intended] = &[
    Intended {
        scenarios: "api_versions/",
        field: "supported_features",
        reason: "ApiVersions v3+ lists no feature levels (Kafka: metadata.version, group.version, transaction.version, eligible.leader.replicas.version): group.version and transaction.version tell clients to use KIP-848 groups and KIP-890 transactions, which broker-sim does not serve yet",
    },
    Intended {
        scenarios: "api_versions/",
        field: "finalized_features",
        reason: "ApiVersions v3+ lists no feature levels (Kafka: metadata.version, group.version, transaction.version, eligible.leader.replicas.version): group.version and transaction.version tell clients to use KIP-848 groups and KIP-890 transactions, which broker-sim does not serve yet",
    },
    Intended {
        scenarios: "api_versions/",
        field: "finalized_features_epoch",
        reason: "ApiVersions v3+ lists no feature levels (Kafka: metadata.version, group.version, transaction.version, eligible.leader.replicas.version): group.version and transaction.version tell clients to use KIP-848 groups and KIP-890 transactions, which broker-sim does not serve yet",
    },
];

/// The entry that accepts a differing line of `scenario` at `path`, if any.
pub fn find(scenario: &str, path: &str) -> Option<&'static Intended> {
    INTENDED
        .iter()
        .find(|i| scenario.starts_with(i.scenarios) && covers(path, i.field))
}

/// Whether `field` is one of the path's fields, so an entry covers a field and all it holds.
fn covers(path: &str, field: &str) -> bool {
    path.split('.').any(|f| f == field)
}
