//! The `[settings]` table of a topology file: every cluster setting the builder has,
//! under its Kafka broker config name, with the type and range Kafka gives it.
//!
//! One table lists them, so the error for an unknown name can list the known ones and a
//! new builder setting is one line here. Values are parsed when the file is read, so a
//! wrong type or range is an error before anything starts; they are applied to a
//! [`ClusterBuilder`] later, possibly after other settings (the binary's flags) came in.

use std::time::Duration;

use crate::cluster::ClusterBuilder;
use crate::security::SaslMechanism;

/// What a setting's value must be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `true`/`false`, or the same as a string (as in server.properties).
    Bool,
    /// An integer (or a string of one) within the range.
    Int { min: i64, max: i64 },
    /// A Java class name, one of these (the empty string is Kafka's default, none).
    Class(&'static [&'static str]),
    /// An array of strings, or a string separated by `separator` (Kafka's form).
    List { separator: char },
}

/// A parsed setting value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    Bool(bool),
    Int(i64),
    Class(String),
    List(Vec<String>),
}

impl Value {
    fn flag(&self) -> bool {
        matches!(self, Value::Bool(true)) || matches!(self, Value::Class(c) if !c.is_empty())
    }

    fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            _ => 0,
        }
    }

    fn i32(&self) -> i32 {
        self.int().clamp(i32::MIN as i64, i32::MAX as i64) as i32
    }

    fn ms(&self) -> Duration {
        Duration::from_millis(self.int().max(0) as u64)
    }

    fn list(&self) -> &[String] {
        match self {
            Value::List(items) => items,
            _ => &[],
        }
    }
}

/// A TOML value as an error message shows it.
pub(super) fn shown(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(_) => "an array".into(),
        toml::Value::Table(_) => "a table".into(),
    }
}

/// One cluster setting: its Kafka name, type and the builder call that applies it.
#[derive(Debug)]
pub(super) struct Setting {
    pub(super) name: &'static str,
    kind: Kind,
    apply: fn(ClusterBuilder, &Value) -> ClusterBuilder,
}

const I32: i64 = i32::MAX as i64;
const STANDARD_AUTHORIZER: &str = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
const RACK_AWARE_SELECTOR: &str = "org.apache.kafka.common.replica.RackAwareReplicaSelector";

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

/// The settings, sorted by name.
const SETTINGS: &[Setting] = &[
    Setting {
        name: "allow.everyone.if.no.acl.found",
        kind: Kind::Bool,
        apply: |b, v| b.allow_everyone_if_no_acl_found(v.flag()),
    },
    Setting {
        name: "authorizer.class.name",
        kind: Kind::Class(&[STANDARD_AUTHORIZER]),
        apply: |b, v| b.authorizer(v.flag()),
    },
    Setting {
        name: "auto.create.topics.enable",
        kind: Kind::Bool,
        apply: |b, v| b.auto_create_topics(v.flag()),
    },
    Setting {
        name: "connections.max.idle.ms",
        kind: int(1, i64::MAX),
        apply: |b, v| b.connections_max_idle(v.ms()),
    },
    Setting {
        name: "connections.max.reauth.ms",
        kind: int(0, i64::MAX),
        apply: |b, v| b.connections_max_reauth(v.ms()),
    },
    Setting {
        name: "default.replication.factor",
        kind: int(1, i16::MAX as i64),
        apply: |b, v| b.default_replication_factor(v.int() as i16),
    },
    Setting {
        name: "group.consumer.heartbeat.interval.ms",
        kind: int(1, I32),
        apply: |b, v| b.group_consumer_heartbeat_interval_ms(v.i32()),
    },
    Setting {
        name: "group.consumer.session.timeout.ms",
        kind: int(1, I32),
        apply: |b, v| b.group_consumer_session_timeout_ms(v.i32()),
    },
    Setting {
        name: "group.initial.rebalance.delay.ms",
        kind: int(0, I32),
        apply: |b, v| b.group_initial_rebalance_delay_ms(v.i32()),
    },
    Setting {
        name: "group.max.session.timeout.ms",
        kind: int(0, I32),
        apply: |b, v| b.group_max_session_timeout_ms(v.i32()),
    },
    Setting {
        name: "group.max.size",
        kind: int(1, I32),
        apply: |b, v| b.group_max_size(v.i32()),
    },
    Setting {
        name: "group.min.session.timeout.ms",
        kind: int(0, I32),
        apply: |b, v| b.group_min_session_timeout_ms(v.i32()),
    },
    Setting {
        name: "log.retention.check.interval.ms",
        kind: int(1, i64::MAX),
        apply: |b, v| b.log_retention_check_interval(v.ms()),
    },
    Setting {
        name: "max.connections",
        kind: int(1, I32),
        apply: |b, v| b.max_connections(v.int() as usize),
    },
    Setting {
        name: "max.connections.per.ip",
        kind: int(1, I32),
        apply: |b, v| b.max_connections_per_ip(v.int() as usize),
    },
    Setting {
        name: "message.max.bytes",
        kind: int(0, I32),
        apply: |b, v| b.message_max_bytes(v.i32()),
    },
    Setting {
        name: "min.insync.replicas",
        kind: int(1, I32),
        apply: |b, v| b.min_insync_replicas(v.i32()),
    },
    Setting {
        name: "num.partitions",
        kind: int(1, I32),
        apply: |b, v| b.default_partitions(v.i32()),
    },
    Setting {
        name: "offsets.retention.check.interval.ms",
        kind: int(1, i64::MAX),
        apply: |b, v| b.offsets_retention_check_interval(v.ms()),
    },
    Setting {
        name: "offsets.retention.minutes",
        kind: int(1, I32),
        apply: |b, v| b.offsets_retention(Duration::from_secs(v.int() as u64 * 60)),
    },
    Setting {
        name: "replica.lag.time.max.ms",
        kind: int(1, i64::MAX),
        apply: |b, v| b.replica_lag_time_max(v.ms()),
    },
    Setting {
        name: "replica.selector.class",
        kind: Kind::Class(&[RACK_AWARE_SELECTOR]),
        apply: |b, v| b.rack_aware_replica_selector(v.flag()),
    },
    Setting {
        name: "sasl.enabled.mechanisms",
        kind: Kind::List { separator: ',' },
        apply: |b, v| {
            let mechanisms: Vec<SaslMechanism> =
                v.list().iter().filter_map(|m| m.parse().ok()).collect();
            b.sasl_mechanisms(&mechanisms)
        },
    },
    Setting {
        name: "socket.request.max.bytes",
        kind: int(1, I32),
        apply: |b, v| b.max_request_size(v.int() as usize),
    },
    Setting {
        name: "super.users",
        kind: Kind::List { separator: ';' },
        apply: |b, v| v.list().iter().fold(b, |b, user| b.super_user(user)),
    },
    Setting {
        name: "transaction.max.timeout.ms",
        kind: int(1, I32),
        apply: |b, v| b.transaction_max_timeout(v.ms()),
    },
    Setting {
        name: "transactional.id.expiration.ms",
        kind: int(1, I32),
        apply: |b, v| b.transactional_id_expiration(v.ms()),
    },
    Setting {
        name: "unclean.leader.election.enable",
        kind: Kind::Bool,
        apply: |b, v| b.unclean_leader_election(v.flag()),
    },
];

/// The setting named `name`, or an error listing the known names.
pub(super) fn find(name: &str) -> Result<&'static Setting, String> {
    SETTINGS.iter().find(|s| s.name == name).ok_or_else(|| {
        let known: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        format!(
            "unknown setting {name:?}; the known settings are: {}",
            known.join(", ")
        )
    })
}

impl Setting {
    /// Parses `value` as this setting's type and range.
    pub(super) fn parse(&self, value: &toml::Value) -> Result<Value, String> {
        let name = self.name;
        let text = value.as_str().map(str::trim);
        match self.kind {
            Kind::Bool => match (value.as_bool(), text) {
                (Some(b), _) => Ok(Value::Bool(b)),
                (None, Some("true")) => Ok(Value::Bool(true)),
                (None, Some("false")) => Ok(Value::Bool(false)),
                _ => Err(format!(
                    "setting {name:?} must be true or false, not {}",
                    shown(value)
                )),
            },
            Kind::Int { min, max } => {
                let n = value
                    .as_integer()
                    .or_else(|| text.and_then(|t| t.parse().ok()))
                    .ok_or_else(|| {
                        format!("setting {name:?} must be an integer, not {}", shown(value))
                    })?;
                if !(min..=max).contains(&n) {
                    return Err(format!(
                        "setting {name:?} must be between {min} and {max}, not {n}"
                    ));
                }
                Ok(Value::Int(n))
            }
            Kind::Class(allowed) => match text {
                Some(class) if class.is_empty() || allowed.contains(&class) => {
                    Ok(Value::Class(class.to_string()))
                }
                _ => Err(format!(
                    "setting {name:?} must be \"\" or {}, not {}",
                    allowed.join(", "),
                    shown(value)
                )),
            },
            Kind::List { separator } => {
                let items: Vec<String> = match (value.as_array(), text) {
                    (Some(items), _) => items
                        .iter()
                        .map(|i| i.as_str().map(|s| s.trim().to_string()))
                        .collect::<Option<_>>()
                        .ok_or_else(|| {
                            format!(
                                "setting {name:?} must be a list of strings, not {}",
                                shown(value)
                            )
                        })?,
                    (None, Some(text)) => text
                        .split(separator)
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    _ => {
                        return Err(format!(
                            "setting {name:?} must be a list of strings, not {}",
                            shown(value)
                        ));
                    }
                };
                if name == "sasl.enabled.mechanisms" {
                    for m in &items {
                        m.parse::<SaslMechanism>()?;
                    }
                }
                Ok(Value::List(items))
            }
        }
    }

    pub(super) fn apply(&self, builder: ClusterBuilder, value: &Value) -> ClusterBuilder {
        (self.apply)(builder, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_sorted_and_unique() {
        let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn values_take_kafka_forms_as_well_as_toml_ones() {
        let parse = |name: &str, v: toml::Value| find(name).unwrap().parse(&v);
        assert_eq!(
            parse("auto.create.topics.enable", "false".into()),
            Ok(Value::Bool(false))
        );
        assert_eq!(parse("num.partitions", "4".into()), Ok(Value::Int(4)));
        assert_eq!(
            parse("super.users", "User:a;User:b".into()),
            Ok(Value::List(vec!["User:a".into(), "User:b".into()]))
        );
        assert!(
            parse("num.partitions", 0.into())
                .unwrap_err()
                .contains("between 1 and")
        );
        assert!(
            parse("sasl.enabled.mechanisms", "PLAIN,GSSAPI".into())
                .unwrap_err()
                .contains("GSSAPI")
        );
        assert!(
            parse("authorizer.class.name", "AclAuthorizer".into())
                .unwrap_err()
                .contains(STANDARD_AUTHORIZER)
        );
    }
}
