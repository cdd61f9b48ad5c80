//! Client quotas: AlterClientQuotas' validation and DescribeClientQuotas' filters, under
//! entity names of the scenario's own (a default quota would throttle every other
//! scenario on the shared reference Kafka, so defaults are only validated).

use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::{
    AlterClientQuotasRequest, ApiKey, DescribeClientQuotasRequest, ResponseKind,
};

use super::helpers::{s, scenario, versions};
use crate::scenario::{Scenario, Step};

const EXACT: i8 = 0;
const DEFAULT: i8 = 1;
const SPECIFIED: i8 = 2;

type Entity<'a> = Vec<(&'a str, Option<String>)>;

fn alter_entry(entity: Entity<'_>, ops: Vec<(&str, Option<f64>)>) -> EntryData {
    EntryData::default()
        .with_entity(
            entity
                .into_iter()
                .map(|(t, n)| {
                    EntityData::default()
                        .with_entity_type(s(t))
                        .with_entity_name(n.map(s))
                })
                .collect(),
        )
        .with_ops(
            ops.into_iter()
                .map(|(k, v)| {
                    OpData::default()
                        .with_key(s(k))
                        .with_value(v.unwrap_or(0.0))
                        .with_remove(v.is_none())
                })
                .collect(),
        )
}

fn alter(v: i16, entries: Vec<EntryData>, validate_only: bool) -> Step {
    Step::new(
        ApiKey::AlterClientQuotas,
        v,
        AlterClientQuotasRequest::default()
            .with_entries(entries)
            .with_validate_only(validate_only),
    )
}

fn describe(v: i16, components: Vec<(&str, i8, Option<String>)>, strict: bool) -> Step {
    Step::new(
        ApiKey::DescribeClientQuotas,
        v,
        DescribeClientQuotasRequest::default()
            .with_components(
                components
                    .into_iter()
                    .map(|(t, m, name)| {
                        ComponentData::default()
                            .with_entity_type(s(t))
                            .with_match_type(m)
                            .with_match(name.map(s))
                    })
                    .collect(),
            )
            .with_strict(strict),
    )
}

// Kafka's broker describes quotas from its metadata image, a moment behind the
// controller's write: a describe after a change is repeated until it shows the change.
fn entries(r: &ResponseKind) -> usize {
    match r {
        ResponseKind::DescribeClientQuotas(d) => d.entries.as_ref().map_or(0, Vec::len),
        _ => 0,
    }
}

fn some_entries(r: &ResponseKind) -> bool {
    entries(r) > 0
}

fn no_entries(r: &ResponseKind) -> bool {
    entries(r) == 0
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::AlterClientQuotas) {
        out.push(scenario(
            ApiKey::AlterClientQuotas,
            v,
            "set-describe-remove",
            |p| {
                let user = Some(format!("{p}alice"));
                let client = Some(format!("{p}app"));
                vec![
                    alter(
                        v,
                        vec![
                            alter_entry(
                                vec![("user", user.clone())],
                                vec![("producer_byte_rate", Some(1_048_576.0))],
                            ),
                            alter_entry(
                                vec![("client-id", client.clone())],
                                vec![
                                    ("consumer_byte_rate", Some(2048.0)),
                                    ("request_percentage", Some(50.5)),
                                ],
                            ),
                        ],
                        false,
                    ),
                    describe(v, vec![("user", EXACT, user.clone())], false).until(some_entries),
                    describe(v, vec![("client-id", EXACT, client.clone())], true)
                        .until(some_entries),
                    alter(
                        v,
                        vec![alter_entry(
                            vec![("user", user.clone())],
                            vec![("producer_byte_rate", None)],
                        )],
                        false,
                    ),
                    describe(v, vec![("user", EXACT, user)], false).until(no_entries),
                ]
            },
        ));
        out.push(scenario(
            ApiKey::AlterClientQuotas,
            v,
            "user-and-client",
            |p| {
                let user = Some(format!("{p}bob"));
                let client = Some(format!("{p}svc"));
                vec![
                    alter(
                        v,
                        vec![alter_entry(
                            vec![("user", user.clone()), ("client-id", client.clone())],
                            vec![("producer_byte_rate", Some(4096.0))],
                        )],
                        false,
                    ),
                    describe(
                        v,
                        vec![("user", EXACT, user.clone()), ("client-id", EXACT, client)],
                        true,
                    )
                    .until(some_entries),
                    describe(v, vec![("user", EXACT, user.clone())], true),
                    describe(v, vec![("user", EXACT, user)], false),
                ]
            },
        ));
        for (what, entity, key, value) in [
            ("unknown-key", vec![("user", Some("x"))], "foo_rate", 1.0),
            ("zero", vec![("user", Some("x"))], "producer_byte_rate", 0.0),
            (
                "fractional",
                vec![("client-id", Some("x"))],
                "consumer_byte_rate",
                1.5,
            ),
            (
                "ip-key-on-user",
                vec![("user", Some("x"))],
                "connection_creation_rate",
                5.0,
            ),
            (
                "ip-with-user",
                vec![("ip", Some("127.0.0.1")), ("user", Some("x"))],
                "connection_creation_rate",
                5.0,
            ),
            (
                "unknown-type",
                vec![("group", Some("x"))],
                "producer_byte_rate",
                1.0,
            ),
            (
                "empty-name",
                vec![("user", Some(""))],
                "producer_byte_rate",
                1.0,
            ),
            ("empty-entity", vec![], "producer_byte_rate", 1.0),
            (
                "default-validated",
                vec![("user", None)],
                "producer_byte_rate",
                1024.0,
            ),
            (
                "client-key-on-ip",
                vec![("ip", Some("127.0.0.1"))],
                "producer_byte_rate",
                1.0,
            ),
        ] {
            out.push(scenario(ApiKey::AlterClientQuotas, v, what, |p| {
                let entity: Entity<'_> = entity
                    .into_iter()
                    .map(|(t, n)| {
                        (
                            t,
                            n.map(|n| {
                                if n.is_empty() {
                                    String::new()
                                } else {
                                    format!("{p}{n}")
                                }
                            }),
                        )
                    })
                    .collect();
                let ip = entity.iter().any(|(t, _)| *t == "ip");
                // An IP is named as it is; the others carry the scenario's prefix.
                let entity: Entity<'_> = entity
                    .into_iter()
                    .map(|(t, n)| {
                        if t == "ip" {
                            (t, Some("127.0.0.1".to_string()))
                        } else {
                            (t, n)
                        }
                    })
                    .collect();
                let _ = ip;
                vec![alter(
                    v,
                    vec![alter_entry(entity, vec![(key, Some(value))])],
                    true,
                )]
            }));
        }
    }
    for v in versions(ApiKey::DescribeClientQuotas) {
        for (what, components) in [
            (
                "twice",
                vec![("user", EXACT, Some("x")), ("user", DEFAULT, None)],
            ),
            ("exact-without-name", vec![("user", EXACT, None)]),
            ("default-with-name", vec![("user", DEFAULT, Some("x"))]),
            (
                "specified-with-name",
                vec![("client-id", SPECIFIED, Some("x"))],
            ),
            ("unknown-type", vec![("group", EXACT, Some("x"))]),
            (
                "ip-with-user",
                vec![("ip", SPECIFIED, None), ("user", SPECIFIED, None)],
            ),
            ("unknown-match", vec![("user", 7, None)]),
            ("empty-type", vec![("", EXACT, Some("x"))]),
        ] {
            out.push(scenario(ApiKey::DescribeClientQuotas, v, what, |p| {
                let components = components
                    .into_iter()
                    .map(|(t, m, n)| (t, m, n.map(|n| format!("{p}{n}"))))
                    .collect();
                vec![describe(v, components, false)]
            }));
        }
        out.push(scenario(
            ApiKey::DescribeClientQuotas,
            v,
            "every-user",
            |p| {
                let user = Some(format!("{p}carol"));
                vec![
                    alter(
                        v,
                        vec![alter_entry(
                            vec![("user", user.clone())],
                            vec![("consumer_byte_rate", Some(8192.0))],
                        )],
                        false,
                    ),
                    describe(v, vec![("user", EXACT, user)], false)
                        .until(some_entries)
                        .setup(),
                    describe(v, vec![("user", SPECIFIED, None)], false),
                    describe(v, vec![("user", DEFAULT, None)], false),
                ]
            },
        ));
    }
    out
}
