//! The registry's state and its writes: schemas by global id, subjects with their
//! versions, and registration.
//!
//! Ids are sequential from 1 in registration order, so a test's ids are deterministic. A
//! schema is identified by its type, its canonical form (`schema::ParsedSchema::canonical`)
//! and its references: registering the same one again, under any subject, gives the same
//! id; under a subject that already has it live, it adds no version either. A soft-deleted
//! version stays (hidden unless deleted ones are asked for) until a permanent delete;
//! registering its schema again adds a new version with the old id, as Confluent does.
//!
//! Parsing happens outside the lock (it can be slow for large Protobuf files); the lock is
//! taken to resolve references, and again to check and commit.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::compatibility::{Compatibility, Mode};
use super::error::RegistryError;
use super::model::{NewSchema, RegisteredSchema, SchemaById, SchemaReference};
use super::parsed::ParsedSchema;
use super::schema::{Reference, SchemaType};

/// The embedded schema registry. Every call takes its one lock briefly; it is shared by
/// the REST API, the embedding API and the record decoding.
#[derive(Default)]
pub struct SchemaRegistry {
    store: Mutex<Store>,
}

pub(super) struct Stored {
    pub id: i32,
    pub kind: SchemaType,
    /// The text as first registered.
    pub text: String,
    pub canonical: String,
    pub references: Vec<SchemaReference>,
    pub parsed: Arc<ParsedSchema>,
}

#[derive(Clone, Copy)]
pub(super) struct Version {
    pub version: i32,
    pub id: i32,
    pub deleted: bool,
}

#[derive(Default)]
pub(super) struct Store {
    pub schemas: BTreeMap<i32, Stored>,
    /// Versions in ascending order; a subject with none is absent.
    pub subjects: BTreeMap<String, Vec<Version>>,
    pub next_id: i32,
    pub compatibility: Compatibility,
    pub mode: Mode,
    pub subject_compatibility: BTreeMap<String, Compatibility>,
    pub subject_mode: BTreeMap<String, Mode>,
}

/// What a version argument names: a number or the latest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    Latest,
    Number(i32),
}

impl VersionSpec {
    /// "latest", "-1" or a version from 1; 42202 otherwise.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        if text == "latest" {
            return Ok(VersionSpec::Latest);
        }
        match text.parse::<i32>() {
            Ok(-1) => Ok(VersionSpec::Latest),
            Ok(n) if n >= 1 => Ok(VersionSpec::Number(n)),
            _ => Err(RegistryError::invalid_version(text)),
        }
    }
}

impl Store {
    pub(super) fn compatibility_of(&self, subject: &str) -> Compatibility {
        self.subject_compatibility
            .get(subject)
            .copied()
            .unwrap_or(self.compatibility)
    }

    pub(super) fn mode_of(&self, subject: &str) -> Mode {
        self.subject_mode.get(subject).copied().unwrap_or(self.mode)
    }

    /// The subject's versions, live ones only unless `deleted`.
    pub(super) fn versions(&self, subject: &str, deleted: bool) -> Vec<Version> {
        self.subjects
            .get(subject)
            .map(|vs| {
                vs.iter()
                    .filter(|v| deleted || !v.deleted)
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The version `spec` names: 40401 if the subject has no (live, unless `deleted`)
    /// versions, 40402 if it has not that one.
    pub(super) fn version(
        &self,
        subject: &str,
        spec: VersionSpec,
        deleted: bool,
    ) -> Result<Version, RegistryError> {
        let versions = self.versions(subject, deleted);
        if versions.is_empty() {
            return Err(RegistryError::subject_not_found(subject));
        }
        match spec {
            VersionSpec::Latest => Ok(*versions.last().expect("not empty")),
            VersionSpec::Number(n) => versions
                .iter()
                .find(|v| v.version == n)
                .copied()
                .ok_or_else(|| RegistryError::version_not_found(subject, n)),
        }
    }

    pub(super) fn registered(&self, subject: &str, v: Version) -> RegisteredSchema {
        let s = &self.schemas[&v.id];
        RegisteredSchema {
            subject: subject.to_string(),
            version: v.version,
            id: v.id,
            schema_type: s.kind,
            schema: s.text.clone(),
            references: s.references.clone(),
            deleted: v.deleted,
        }
    }

    /// Every schema `references` reaches, each once, those it depends on first, with the
    /// name the reference that reached it gave.
    fn resolve(
        &self,
        references: &[SchemaReference],
        out: &mut Vec<(String, String, i32)>,
    ) -> Result<(), RegistryError> {
        for r in references {
            let spec = if r.version == -1 {
                VersionSpec::Latest
            } else {
                VersionSpec::Number(r.version)
            };
            let v = self.version(&r.subject, spec, true).map_err(|e| {
                RegistryError::invalid_schema(format!(
                    "reference {:?} (subject {:?} version {}): {}",
                    r.name, r.subject, r.version, e.message
                ))
            })?;
            if out.iter().any(|(_, _, id)| *id == v.id) {
                continue;
            }
            let stored = &self.schemas[&v.id];
            self.resolve(&stored.references, out)?;
            if !out.iter().any(|(_, _, id)| *id == v.id) {
                out.push((r.name.clone(), stored.text.clone(), v.id));
            }
        }
        Ok(())
    }

    /// The id of a stored schema identical to this one.
    fn find(
        &self,
        kind: SchemaType,
        canonical: &str,
        references: &[SchemaReference],
    ) -> Option<i32> {
        self.schemas
            .values()
            .find(|s| s.kind == kind && s.canonical == canonical && s.references == references)
            .map(|s| s.id)
    }

    /// Live versions of `subject` the level compares a new schema with, oldest first.
    pub(super) fn compared_with(
        &self,
        subject: &str,
        level: Compatibility,
    ) -> Vec<(i32, Arc<ParsedSchema>)> {
        let live = self.versions(subject, false);
        let chosen: Vec<Version> = if level.is_transitive() {
            live
        } else {
            live.last().copied().into_iter().collect()
        };
        chosen
            .into_iter()
            .map(|v| (v.version, Arc::clone(&self.schemas[&v.id].parsed)))
            .collect()
    }
}

/// A schema parsed against the registry's references.
pub(super) struct Candidate {
    pub parsed: Arc<ParsedSchema>,
    pub canonical: String,
}

impl SchemaRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves the references (under the lock) and parses (outside it); 42201 if either
    /// fails.
    pub(super) fn parse(&self, new: &NewSchema) -> Result<Candidate, RegistryError> {
        let mut resolved = Vec::new();
        self.lock().resolve(&new.references, &mut resolved)?;
        let references: Vec<Reference<'_>> = resolved
            .iter()
            .map(|(name, text, _)| Reference { name, schema: text })
            .collect();
        let parsed = ParsedSchema::parse(new.schema_type, &new.schema, &references)
            .map_err(RegistryError::invalid_schema)?;
        Ok(Candidate {
            canonical: parsed.canonical(),
            parsed: Arc::new(parsed),
        })
    }

    /// Registers `new` under `subject` and answers its id: the id it already has if the
    /// same schema is registered anywhere, a new one otherwise. Refused when the subject
    /// is read-only (42205), the schema invalid (42201) or incompatible with the versions
    /// its compatibility level compares it with (409, with the reasons).
    pub fn register(&self, subject: &str, new: NewSchema) -> Result<i32, RegistryError> {
        self.register_version(subject, new).map(|(id, _)| id)
    }

    /// [`SchemaRegistry::register`], answering the version too.
    pub fn register_version(
        &self,
        subject: &str,
        new: NewSchema,
    ) -> Result<(i32, i32), RegistryError> {
        if subject.is_empty() {
            return Err(RegistryError::new(42208, "The subject name is empty"));
        }
        {
            let store = self.lock();
            check_writable(&store, subject)?;
        }
        let candidate = self.parse(&new)?;
        let mut store = self.lock();
        let mode = check_writable(&store, subject)?;
        let import = mode == Mode::Import;
        if new.id.is_some() && !import {
            return Err(RegistryError::not_permitted(format!(
                "Subject '{subject}' is not in import mode: an explicit id needs IMPORT mode"
            )));
        }
        let existing = store.find(new.schema_type, &candidate.canonical, &new.references);
        if let (Some(given), Some(found)) = (new.id, existing)
            && given != found
        {
            return Err(RegistryError::not_permitted(format!(
                "this schema already has id {found}, not {given}"
            )));
        }
        let all = store.versions(subject, true);
        if let Some(id) = existing
            && let Some(v) = all.iter().find(|v| v.id == id && !v.deleted)
            && new.version.is_none_or(|n| n == v.version)
        {
            return Ok((id, v.version));
        }
        let next_version = all.last().map_or(1, |v| v.version + 1);
        let version = match new.version {
            None => next_version,
            Some(n) if import && n >= 1 && all.iter().all(|v| v.version != n) => n,
            Some(n) if n == next_version => n,
            Some(n) => {
                return Err(RegistryError::new(
                    42202,
                    format!(
                        "version {n} cannot be registered under subject '{subject}': the next \
                         version is {next_version}"
                    ),
                ));
            }
        };
        if !import {
            let level = store.compatibility_of(subject);
            let compared = store.compared_with(subject, level);
            let compared: Vec<(i32, &ParsedSchema)> =
                compared.iter().map(|(v, p)| (*v, p.as_ref())).collect();
            let problems = level.problems(&candidate.parsed, &compared);
            if !problems.is_empty() {
                return Err(RegistryError::new(
                    409,
                    format!(
                        "Schema being registered is incompatible with an earlier schema for \
                         subject \"{subject}\", details: [{}]",
                        problems.join("; ")
                    ),
                ));
            }
        }
        let id = match (existing, new.id) {
            (Some(id), _) => id,
            (None, Some(given)) => {
                if store.schemas.contains_key(&given) {
                    return Err(RegistryError::not_permitted(format!(
                        "Overwrite new schema with id {given} is not permitted: the id names \
                         another schema"
                    )));
                }
                given
            }
            (None, None) => store.next_id.max(1),
        };
        store.schemas.entry(id).or_insert_with(|| Stored {
            id,
            kind: new.schema_type,
            text: new.schema,
            canonical: candidate.canonical,
            references: new.references,
            parsed: candidate.parsed,
        });
        store.next_id = store.next_id.max(id + 1);
        let versions = store.subjects.entry(subject.to_string()).or_default();
        versions.push(Version {
            version,
            id,
            deleted: false,
        });
        versions.sort_by_key(|v| v.version);
        Ok((id, version))
    }

    /// The version of `subject` holding a schema identical to `new` (live ones only
    /// unless `deleted`): 40401 if the subject has none, 40403 if none is this schema.
    pub fn lookup(
        &self,
        subject: &str,
        new: &NewSchema,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        if self.lock().versions(subject, deleted).is_empty() {
            return Err(RegistryError::subject_not_found(subject));
        }
        let candidate = self.parse(new)?;
        let store = self.lock();
        let id = store.find(new.schema_type, &candidate.canonical, &new.references);
        let found = store
            .versions(subject, deleted)
            .into_iter()
            .rev()
            .find(|v| Some(v.id) == id);
        match found {
            Some(v) => Ok(store.registered(subject, v)),
            None => Err(RegistryError::schema_not_found("")),
        }
    }

    /// Why `new` may not be registered under `subject` as its compatibility level stands
    /// (empty: it may). With a `version`, it is compared with that version only (40401,
    /// 40402 if absent); without, with what registering it would compare it with.
    pub fn check_compatibility(
        &self,
        subject: &str,
        version: Option<&str>,
        new: &NewSchema,
    ) -> Result<Vec<String>, RegistryError> {
        let spec = version.map(VersionSpec::parse).transpose()?;
        let candidate = self.parse(new)?;
        let store = self.lock();
        let level = store.compatibility_of(subject);
        let compared = match spec {
            Some(spec) => {
                let v = store.version(subject, spec, false)?;
                vec![(v.version, Arc::clone(&store.schemas[&v.id].parsed))]
            }
            None => store.compared_with(subject, level),
        };
        let compared: Vec<(i32, &ParsedSchema)> =
            compared.iter().map(|(v, p)| (*v, p.as_ref())).collect();
        Ok(level.problems(&candidate.parsed, &compared))
    }

    /// The schema with this id (soft-deleted versions still name it; a permanent delete
    /// of every version that did forgets it).
    pub fn schema_by_id(&self, id: i32) -> Option<SchemaById> {
        let store = self.lock();
        let s = store.schemas.get(&id)?;
        Some(SchemaById {
            id,
            schema_type: s.kind,
            schema: s.text.clone(),
            references: s.references.clone(),
        })
    }

    /// The highest id given so far (0 before the first).
    pub fn max_id(&self) -> i32 {
        self.lock().next_id.max(1) - 1
    }

    /// The subjects with a version of this id (live ones, or any with `deleted`), by name.
    pub fn subjects_for_id(&self, id: i32, deleted: bool) -> Vec<String> {
        self.versions_for_id(id, deleted)
            .into_iter()
            .map(|(s, _)| s)
            .fold(Vec::new(), |mut out, s| {
                if out.last() != Some(&s) {
                    out.push(s);
                }
                out
            })
    }

    /// The (subject, version) pairs holding this id, by subject then version.
    pub fn versions_for_id(&self, id: i32, deleted: bool) -> Vec<(String, i32)> {
        let store = self.lock();
        store
            .subjects
            .iter()
            .flat_map(|(s, vs)| {
                vs.iter()
                    .filter(move |v| v.id == id && (deleted || !v.deleted))
                    .map(move |v| (s.clone(), v.version))
            })
            .collect()
    }

    /// Subjects with a live version (or any version with `deleted`; only those whose
    /// every version is soft-deleted with `deleted_only`), by name, those starting with
    /// `prefix`.
    pub fn subjects_matching(
        &self,
        prefix: &str,
        deleted: bool,
        deleted_only: bool,
    ) -> Vec<String> {
        let store = self.lock();
        store
            .subjects
            .iter()
            .filter(|(s, _)| s.starts_with(prefix))
            .filter(|(_, vs)| {
                let live = vs.iter().any(|v| !v.deleted);
                if deleted_only {
                    vs.iter().any(|v| v.deleted)
                } else {
                    live || deleted
                }
            })
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Subjects with a live version, by name.
    pub fn subjects(&self) -> Vec<String> {
        self.subjects_matching("", false, false)
    }

    /// The subject's live version numbers (with soft-deleted ones if `deleted`); 40401 if
    /// there are none.
    pub fn versions_of(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        let versions = self.lock().versions(subject, deleted);
        if versions.is_empty() {
            return Err(RegistryError::subject_not_found(subject));
        }
        Ok(versions.into_iter().map(|v| v.version).collect())
    }

    /// [`SchemaRegistry::versions_of`], live versions only.
    pub fn versions(&self, subject: &str) -> Result<Vec<i32>, RegistryError> {
        self.versions_of(subject, false)
    }

    /// A version ("latest", "-1" or a number; soft-deleted ones only with `deleted`).
    pub fn version_of(
        &self,
        subject: &str,
        version: &str,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let spec = VersionSpec::parse(version)?;
        let store = self.lock();
        let v = store.version(subject, spec, deleted)?;
        Ok(store.registered(subject, v))
    }

    /// A live version by number.
    pub fn version(&self, subject: &str, version: i32) -> Result<RegisteredSchema, RegistryError> {
        self.version_of(subject, &version.to_string(), false)
    }

    /// The latest live version.
    pub fn latest(&self, subject: &str) -> Result<RegisteredSchema, RegistryError> {
        self.version_of(subject, "latest", false)
    }
}

/// The subject's mode, or 42205 if it refuses writes.
fn check_writable(store: &Store, subject: &str) -> Result<Mode, RegistryError> {
    let mode = store.mode_of(subject);
    if mode.is_read_only() {
        return Err(RegistryError::not_permitted(format!(
            "Subject {subject} is in read-only mode"
        )));
    }
    Ok(mode)
}

impl SchemaRegistry {
    /// A Protobuf schema as base64 of its FileDescriptorProto (`?format=serialized`);
    /// None for an unknown id or another type.
    pub fn serialized(&self, id: i32) -> Option<String> {
        self.lock().schemas.get(&id)?.parsed.serialized()
    }
}
