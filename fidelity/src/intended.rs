//! The reviewed list of intended differences: where broker-sim answers differently from
//! Kafka on purpose, each with its reason. A difference is accepted only where every line
//! that differs is matched by an entry: the scenario id starts with `scenarios` and the
//! line's field path ends with `field` (`*` in `scenarios` stands for any text, such as a
//! version). Anything else fails the suite.

pub struct Intended {
    pub scenarios: &'static str,
    pub field: &'static str,
    pub reason: &'static str,
}

/// Why ApiVersions' feature levels differ.
const FEATURES: &str = "ApiVersions v3+ lists only transaction.version (supported 0-2, finalized 2, as Kafka 4.1), with finalized-features epoch 1: Kafka also lists metadata.version, group.version and eligible.leader.replicas.version, at the epoch of its metadata log; broker-sim has no KRaft metadata log, and serves KIP-848 groups as a cluster at group.version 1 (Kafka 4.1's default) does without listing the feature: clients choose the group protocol by the ConsumerGroupHeartbeat key, not by the feature";

pub const INTENDED: &[Intended] = &[
    Intended {
        scenarios: "api_versions/",
        field: "supported_features",
        reason: FEATURES,
    },
    Intended {
        scenarios: "api_versions/",
        field: "finalized_features",
        reason: FEATURES,
    },
    Intended {
        scenarios: "api_versions/",
        field: "finalized_features_epoch",
        reason: FEATURES,
    },
];

/// The entry that accepts a differing line of `scenario` at `path`, if any.
pub fn find(scenario: &str, path: &str) -> Option<&'static Intended> {
    INTENDED
        .iter()
        .find(|i| matches(scenario, i.scenarios) && covers(path, i.field))
}

/// Whether `scenario` starts with `pattern`, where `*` in the pattern matches any text.
fn matches(scenario: &str, pattern: &str) -> bool {
    let mut rest = scenario;
    for (i, part) in pattern.split('*').enumerate() {
        if i == 0 {
            let Some(after) = rest.strip_prefix(part) else {
                return false;
            };
            rest = after;
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// Whether `field` is one of the path's fields, so an entry covers a field and all it holds.
fn covers(path: &str, field: &str) -> bool {
    path.split('.').any(|f| f == field)
}
