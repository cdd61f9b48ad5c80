//! Reading records with the registry: decoding a value in the Confluent wire format with
//! the schema its id names, and checking one against its topic's subject
//! (TopicNameStrategy: `<topic>-value`, `<topic>-key`).
//!
//! The schema is looked up under the lock and the payload decoded outside it.

use std::sync::Arc;

use super::model::{DecodedValue, ViolationReason};
use super::parsed::ParsedSchema;
use super::schema::SchemaType;
use super::store::SchemaRegistry;
use super::wire;

/// Why a value breaks its subject: the reason, the id if it had one, and a message.
pub type Violation = (ViolationReason, Option<i32>, String);

impl SchemaRegistry {
    fn parsed(&self, id: i32) -> Option<(SchemaType, Arc<ParsedSchema>)> {
        let store = self.lock();
        store
            .schemas
            .get(&id)
            .map(|s| (s.kind, Arc::clone(&s.parsed)))
    }

    /// The subject to show a value of this id under: `preferred` if it has the id live,
    /// else the first subject by name that has it live.
    fn subject_for(&self, id: i32, preferred: Option<&str>) -> Option<String> {
        let subjects = self.subjects_for_id(id, false);
        preferred
            .filter(|p| subjects.iter().any(|s| s == p))
            .map(str::to_string)
            .or_else(|| subjects.into_iter().next())
    }

    /// Decodes `bytes` if they are in the wire format (None otherwise): the value, or why
    /// it did not decode.
    pub fn decode(&self, bytes: &[u8], preferred_subject: Option<&str>) -> Option<DecodedValue> {
        let (id, payload) = wire::split(bytes)?;
        let Some((kind, parsed)) = self.parsed(id) else {
            return Some(DecodedValue {
                schema_id: id,
                subject: None,
                schema_type: None,
                value: None,
                error: Some(format!("schema id {id} is not registered")),
            });
        };
        let (value, error) = match parsed.decode(payload) {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        Some(DecodedValue {
            schema_id: id,
            subject: self.subject_for(id, preferred_subject),
            schema_type: Some(kind),
            value,
            error,
        })
    }

    /// Whether `subject` has a live version (the audit checks keys only then).
    pub fn has_subject(&self, subject: &str) -> bool {
        !self.lock().versions(subject, false).is_empty()
    }

    /// Checks a value against `subject`: in the wire format, with a known id, decoding
    /// with that schema, and the id one of the subject's versions.
    pub fn check(&self, bytes: &[u8], subject: &str) -> Result<(), Violation> {
        let Some((id, payload)) = wire::split(bytes) else {
            return Err((
                ViolationReason::NotWireFormat,
                None,
                format!(
                    "{} bytes not in the Confluent wire format (a zero magic byte and a 4-byte \
                     schema id)",
                    bytes.len()
                ),
            ));
        };
        let Some((_, parsed)) = self.parsed(id) else {
            return Err((
                ViolationReason::UnknownSchemaId,
                Some(id),
                format!("schema id {id} is not registered"),
            ));
        };
        if let Err(e) = parsed.decode(payload) {
            return Err((
                ViolationReason::DoesNotDecode,
                Some(id),
                format!("does not decode with schema {id}: {e}"),
            ));
        }
        let live = self.lock().versions(subject, false);
        if !live.iter().any(|v| v.id == id) {
            return Err((
                ViolationReason::NotInSubject,
                Some(id),
                format!("schema {id} is not a version of subject {subject:?}"),
            ));
        }
        Ok(())
    }
}
