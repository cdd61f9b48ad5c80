//! The embedded schema registry in the embedding API: the registry itself
//! ([`Cluster::schema_registry`], whose calls are the Confluent REST API's), seeding it
//! from the builder, decoding a record's bytes, and the audit of a topic's records
//! against the subjects TopicNameStrategy gives it (`<topic>-value`, `<topic>-key`).

use super::{Cluster, ClusterBuilder};
use crate::registry::{DecodedValue, NewSchema, SchemaRegistry, SchemaType, SchemaViolation};

impl ClusterBuilder {
    /// A schema to register under `subject` at start (in the order given; with no
    /// references: see [`ClusterBuilder::schema_with`]). `start` fails if it is refused.
    pub fn schema(
        self,
        subject: impl Into<String>,
        kind: SchemaType,
        text: impl Into<String>,
    ) -> Self {
        self.schema_with(subject, NewSchema::of(kind, text))
    }

    /// [`ClusterBuilder::schema`] with every field of a registration (references…).
    pub fn schema_with(mut self, subject: impl Into<String>, schema: NewSchema) -> Self {
        self.schemas.push((subject.into(), schema));
        self
    }
}

/// Registers the builder's schemas, in order.
pub(super) fn seed(
    registry: &SchemaRegistry,
    schemas: Vec<(String, NewSchema)>,
) -> std::io::Result<()> {
    for (subject, schema) in schemas {
        registry.register(&subject, schema).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("schema for subject {subject:?}: {}", e.message),
            )
        })?;
    }
    Ok(())
}

impl Cluster {
    /// The cluster's schema registry (served over HTTP by the control API as Confluent's
    /// Schema Registry REST API).
    pub fn schema_registry(&self) -> &SchemaRegistry {
        &self.shared().registry
    }

    /// Decodes bytes in the Confluent wire format with the schema their id names (None
    /// for bytes not in it).
    pub fn decode(&self, bytes: &[u8]) -> Option<DecodedValue> {
        self.schema_registry().decode(bytes, None)
    }

    /// Every record of `topic` whose value (or key, when `<topic>-key` has versions)
    /// breaks the topic's schemas: not in the wire format, an unknown id, bytes that do
    /// not decode with the schema, or an id that is not a version of `<topic>-value`
    /// (`-key`). Null values (tombstones) and null keys are not checked. By partition,
    /// offset, then value before key.
    pub fn schema_violations(&self, topic: &str) -> Vec<SchemaViolation> {
        self.audit(topic).1
    }

    /// The audit, with how many values and keys it checked.
    pub fn audit(&self, topic: &str) -> (usize, Vec<SchemaViolation>) {
        let registry = self.schema_registry();
        let value_subject = format!("{topic}-value");
        let key_subject = format!("{topic}-key");
        let keys = registry.has_subject(&key_subject);
        let mut checked = 0;
        let mut out = Vec::new();
        for record in self.records(topic) {
            let parts = [
                ("value", record.value.as_ref(), &value_subject, true),
                ("key", record.key.as_ref(), &key_subject, keys),
            ];
            for (part, bytes, subject, wanted) in parts {
                let Some(bytes) = bytes.filter(|_| wanted) else {
                    continue;
                };
                checked += 1;
                if let Err((reason, schema_id, message)) = registry.check(bytes, subject) {
                    out.push(SchemaViolation {
                        topic: topic.to_string(),
                        partition: record.partition,
                        offset: record.offset,
                        part,
                        schema_id,
                        reason,
                        message,
                    });
                }
            }
        }
        (checked, out)
    }
}
