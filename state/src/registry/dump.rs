//! The registry as data, for the cluster's snapshots: every schema by id, every subject's
//! versions (soft-deleted ones too), the settings, and the next id, so a fork answers the
//! same ids, versions and compatibility verdicts as the cluster it was taken from, and
//! keeps counting ids where it left off.
//!
//! Schemas are kept as their registered text; a fork parses them again (in an order where
//! each schema's references come first), so a document edited by hand is checked as a
//! registration would be.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::compatibility::{Compatibility, Mode};
use super::model::SchemaReference;
use super::parsed::ParsedSchema;
use super::schema::{Reference, SchemaType};
use super::store::{SchemaRegistry, Store, Stored, Version};

/// The registry's content ([`SchemaRegistry::export`], [`SchemaRegistry::import`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegistryDump {
    /// In id order.
    #[serde(default)]
    pub schemas: Vec<DumpedSchema>,
    /// Each subject's versions, ascending.
    #[serde(default)]
    pub subjects: BTreeMap<String, Vec<DumpedVersion>>,
    /// The id the next new schema gets.
    #[serde(default)]
    pub next_id: i32,
    #[serde(default)]
    pub compatibility: Compatibility,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub subject_compatibility: BTreeMap<String, Compatibility>,
    #[serde(default)]
    pub subject_mode: BTreeMap<String, Mode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpedSchema {
    pub id: i32,
    pub schema_type: SchemaType,
    pub schema: String,
    #[serde(default)]
    pub references: Vec<SchemaReference>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpedVersion {
    pub version: i32,
    pub id: i32,
    #[serde(default)]
    pub deleted: bool,
}

impl RegistryDump {
    /// Nothing registered and every setting at its default: what a snapshot leaves out.
    pub fn is_empty(&self) -> bool {
        *self == RegistryDump::default()
    }
}

impl SchemaRegistry {
    /// Everything the registry holds, as data.
    pub fn export(&self) -> RegistryDump {
        let store = self.lock();
        RegistryDump {
            schemas: store
                .schemas
                .values()
                .map(|s| DumpedSchema {
                    id: s.id,
                    schema_type: s.kind,
                    schema: s.text.clone(),
                    references: s.references.clone(),
                })
                .collect(),
            subjects: store
                .subjects
                .iter()
                .map(|(subject, versions)| {
                    let versions = versions
                        .iter()
                        .map(|v| DumpedVersion {
                            version: v.version,
                            id: v.id,
                            deleted: v.deleted,
                        })
                        .collect();
                    (subject.clone(), versions)
                })
                .collect(),
            next_id: store.next_id,
            compatibility: store.compatibility,
            mode: store.mode,
            subject_compatibility: store.subject_compatibility.clone(),
            subject_mode: store.subject_mode.clone(),
        }
    }

    /// Replaces the registry's content with `dump`'s; the error names the first schema,
    /// version or reference that does not hold together (and the registry is left empty).
    pub fn import(&self, dump: &RegistryDump) -> Result<(), String> {
        let mut store = Store {
            subjects: BTreeMap::new(),
            next_id: dump.next_id,
            compatibility: dump.compatibility,
            mode: dump.mode,
            subject_compatibility: dump.subject_compatibility.clone(),
            subject_mode: dump.subject_mode.clone(),
            ..Store::default()
        };
        let ids: Vec<i32> = dump.schemas.iter().map(|s| s.id).collect();
        for (subject, versions) in &dump.subjects {
            if let Some(v) = versions.iter().find(|v| !ids.contains(&v.id)) {
                return Err(format!(
                    "subject {subject:?} version {} names schema id {}, which the document does not hold",
                    v.version, v.id
                ));
            }
            if !versions.windows(2).all(|w| w[0].version < w[1].version) {
                return Err(format!("subject {subject:?}: versions must be ascending"));
            }
            let versions = versions
                .iter()
                .map(|v| Version {
                    version: v.version,
                    id: v.id,
                    deleted: v.deleted,
                })
                .collect();
            store.subjects.insert(subject.clone(), versions);
        }
        if let Some(max) = ids.iter().max()
            && *max >= store.next_id
        {
            store.next_id = max + 1;
        }
        // Each pass parses the schemas whose references are all parsed; a pass that parses
        // none leaves a reference cycle or one to an absent schema.
        let mut pending: Vec<&DumpedSchema> = dump.schemas.iter().collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut waiting = Vec::new();
            for s in pending {
                match parse_with(&store, s) {
                    Ok(Some(parsed)) => {
                        let stored = Stored {
                            id: s.id,
                            kind: s.schema_type,
                            text: s.schema.clone(),
                            canonical: parsed.canonical(),
                            references: s.references.clone(),
                            parsed: Arc::new(parsed),
                        };
                        if store.schemas.insert(s.id, stored).is_some() {
                            return Err(format!("schema id {} appears twice", s.id));
                        }
                    }
                    Ok(None) => waiting.push(s),
                    Err(e) => return Err(format!("schema id {}: {e}", s.id)),
                }
            }
            if waiting.len() == before {
                return Err(format!(
                    "schema id {}: its references name schemas that are absent or refer back to it",
                    waiting[0].id
                ));
            }
            pending = waiting;
        }
        *self.lock() = store;
        Ok(())
    }
}

/// Parses `s` against the schemas parsed so far: `None` while a reference names one not
/// parsed yet.
fn parse_with(store: &Store, s: &DumpedSchema) -> Result<Option<ParsedSchema>, String> {
    let mut resolved = Vec::new();
    if !reachable(store, &s.references, &mut resolved)? {
        return Ok(None);
    }
    let references: Vec<Reference<'_>> = resolved
        .iter()
        .map(|(name, text)| Reference { name, schema: text })
        .collect();
    ParsedSchema::parse(s.schema_type, &s.schema, &references).map(Some)
}

/// Every schema `references` reaches, dependencies first, each once; `false` if one is not
/// parsed yet.
fn reachable(
    store: &Store,
    references: &[SchemaReference],
    out: &mut Vec<(String, String)>,
) -> Result<bool, String> {
    for r in references {
        let versions = store.versions(&r.subject, true);
        let found = if r.version == -1 {
            versions.last()
        } else {
            versions.iter().find(|v| v.version == r.version)
        };
        let Some(v) = found else {
            return Err(format!(
                "reference {:?} names subject {:?} version {}, which the document does not hold",
                r.name, r.subject, r.version
            ));
        };
        let Some(stored) = store.schemas.get(&v.id) else {
            return Ok(false);
        };
        if !reachable(store, &stored.references, out)? {
            return Ok(false);
        }
        if !out.iter().any(|(_, text)| *text == stored.text) {
            out.push((r.name.clone(), stored.text.clone()));
        }
    }
    Ok(true)
}
