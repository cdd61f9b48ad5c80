//! Deleting subjects and versions, who references a version, and the compatibility and
//! mode settings, per subject and global.
//!
//! Deletes follow Confluent's two steps: a soft delete hides a version (or every version
//! of a subject) but keeps its id readable, so consumers still decode old records; a
//! permanent delete (`permanent=true`) is allowed only after the soft one (40405, 40407)
//! and forgets it. A version a live schema references cannot be deleted (42206). A
//! read-only subject refuses deletes as it refuses registrations (42205).

use std::collections::BTreeSet;

use super::compatibility::{Compatibility, Mode};
use super::error::RegistryError;
use super::store::{SchemaRegistry, Store, VersionSpec};

impl Store {
    /// Ids of schemas that a live version holds and that reference `subject`'s `version`.
    fn referenced_by(&self, subject: &str, version: i32) -> Vec<i32> {
        let live: BTreeSet<i32> = self
            .subjects
            .values()
            .flatten()
            .filter(|v| !v.deleted)
            .map(|v| v.id)
            .collect();
        live.into_iter()
            .filter(|id| {
                self.schemas[id]
                    .references
                    .iter()
                    .any(|r| r.subject == subject && r.version == version)
            })
            .collect()
    }

    fn refuse_if_referenced(&self, subject: &str, version: i32) -> Result<(), RegistryError> {
        let by = self.referenced_by(subject, version);
        if by.is_empty() {
            return Ok(());
        }
        Err(RegistryError::new(
            42206,
            format!(
                "One or more references exist to the schema {{subject={subject}, \
                 version={version}}}: schemas {by:?}"
            ),
        ))
    }

    fn refuse_if_read_only(&self, subject: &str) -> Result<(), RegistryError> {
        if self.mode_of(subject).is_read_only() {
            return Err(RegistryError::not_permitted(format!(
                "Subject {subject} is in read-only mode"
            )));
        }
        Ok(())
    }

    /// Forgets schemas no version holds any more.
    fn drop_orphans(&mut self) {
        let held: BTreeSet<i32> = self.subjects.values().flatten().map(|v| v.id).collect();
        self.schemas.retain(|id, _| held.contains(id));
    }
}

impl SchemaRegistry {
    /// Deletes every version of `subject` and answers their numbers: soft (hidden), or
    /// with `permanent` (forgotten; only after a soft delete, else 40405). 40401 for an
    /// unknown subject, 40404 for a soft delete of a soft-deleted one, 42206 if a live
    /// schema references one of its versions. A soft delete also drops the subject's
    /// compatibility and mode settings.
    pub fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let mut store = self.lock();
        store.refuse_if_read_only(subject)?;
        let all = store.versions(subject, true);
        if all.is_empty() {
            return Err(RegistryError::subject_not_found(subject));
        }
        let live: Vec<i32> = all
            .iter()
            .filter(|v| !v.deleted)
            .map(|v| v.version)
            .collect();
        for v in &all {
            store.refuse_if_referenced(subject, v.version)?;
        }
        if permanent {
            if !live.is_empty() {
                return Err(RegistryError::new(
                    40405,
                    format!(
                        "Subject '{subject}' was not deleted first before being permanently \
                         deleted"
                    ),
                ));
            }
            store.subjects.remove(subject);
            store.subject_compatibility.remove(subject);
            store.subject_mode.remove(subject);
            store.drop_orphans();
            return Ok(all.iter().map(|v| v.version).collect());
        }
        if live.is_empty() {
            return Err(RegistryError::new(
                40404,
                format!(
                    "Subject '{subject}' was soft deleted. Set permanent=true to delete \
                     permanently"
                ),
            ));
        }
        for v in store.subjects.get_mut(subject).into_iter().flatten() {
            v.deleted = true;
        }
        store.subject_compatibility.remove(subject);
        store.subject_mode.remove(subject);
        Ok(live)
    }

    /// Deletes one version ("latest", "-1" or a number) and answers its number: soft, or
    /// with `permanent` only once soft-deleted (else 40407). 40401, 40402 when absent,
    /// 40406 for a soft delete of a soft-deleted version, 42206 if a live schema
    /// references it.
    pub fn delete_version(
        &self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let spec = VersionSpec::parse(version)?;
        let mut store = self.lock();
        store.refuse_if_read_only(subject)?;
        // A number may name a soft-deleted version (to say so, or to delete it for good);
        // "latest" is the latest live one, or for a permanent delete the latest of all.
        let v = store.version(subject, spec, permanent || spec != VersionSpec::Latest)?;
        store.refuse_if_referenced(subject, v.version)?;
        match (permanent, v.deleted) {
            (false, true) => Err(RegistryError::new(
                40406,
                format!(
                    "Subject '{subject}' Version {} was soft deleted. Set permanent=true to \
                     delete permanently",
                    v.version
                ),
            )),
            (true, false) => Err(RegistryError::new(
                40407,
                format!(
                    "Subject '{subject}' Version {} was not deleted first before being \
                     permanently deleted",
                    v.version
                ),
            )),
            (false, false) => {
                for x in store.subjects.get_mut(subject).into_iter().flatten() {
                    if x.version == v.version {
                        x.deleted = true;
                    }
                }
                Ok(v.version)
            }
            (true, true) => {
                if let Some(versions) = store.subjects.get_mut(subject) {
                    versions.retain(|x| x.version != v.version);
                    if versions.is_empty() {
                        store.subjects.remove(subject);
                    }
                }
                store.drop_orphans();
                Ok(v.version)
            }
        }
    }

    /// Ids of the live schemas that reference this version (40401, 40402 when absent).
    pub fn referenced_by(&self, subject: &str, version: &str) -> Result<Vec<i32>, RegistryError> {
        let spec = VersionSpec::parse(version)?;
        let store = self.lock();
        let v = store.version(subject, spec, false)?;
        Ok(store.referenced_by(subject, v.version))
    }

    /// The global level, or a subject's own (None if it has none).
    pub fn compatibility(&self, subject: Option<&str>) -> Option<Compatibility> {
        let store = self.lock();
        match subject {
            None => Some(store.compatibility),
            Some(s) => store.subject_compatibility.get(s).copied(),
        }
    }

    /// The level that applies to `subject`: its own, else the global one.
    pub fn effective_compatibility(&self, subject: &str) -> Compatibility {
        self.lock().compatibility_of(subject)
    }

    /// Sets the global level, or a subject's (the subject need not exist yet).
    pub fn set_compatibility(&self, subject: Option<&str>, level: Compatibility) {
        let mut store = self.lock();
        match subject {
            None => store.compatibility = level,
            Some(s) => {
                store.subject_compatibility.insert(s.to_string(), level);
            }
        }
    }

    /// Drops a subject's level (40408 if it has none), or resets the global one to
    /// BACKWARD; answers the level it replaced.
    pub fn delete_compatibility(
        &self,
        subject: Option<&str>,
    ) -> Result<Compatibility, RegistryError> {
        let mut store = self.lock();
        match subject {
            None => Ok(std::mem::take(&mut store.compatibility)),
            Some(s) => store
                .subject_compatibility
                .remove(s)
                .ok_or_else(|| no_subject_compatibility(s)),
        }
    }

    /// The global mode, or a subject's own (None if it has none).
    pub fn mode(&self, subject: Option<&str>) -> Option<Mode> {
        let store = self.lock();
        match subject {
            None => Some(store.mode),
            Some(s) => store.subject_mode.get(s).copied(),
        }
    }

    /// Sets the global mode, or a subject's. IMPORT is refused (42205) where subjects
    /// already have versions, unless `force`: imported ids could collide with them.
    pub fn set_mode(
        &self,
        subject: Option<&str>,
        mode: Mode,
        force: bool,
    ) -> Result<(), RegistryError> {
        let mut store = self.lock();
        if mode == Mode::Import && !force {
            let current = subject.map_or(store.mode, |s| store.mode_of(s));
            let occupied = match subject {
                None => !store.subjects.is_empty(),
                Some(s) => store.subjects.contains_key(s),
            };
            if current != Mode::Import && occupied {
                return Err(RegistryError::not_permitted(
                    "Cannot import since found existing subjects (force=true imports anyway)",
                ));
            }
        }
        match subject {
            None => store.mode = mode,
            Some(s) => {
                store.subject_mode.insert(s.to_string(), mode);
            }
        }
        Ok(())
    }

    /// Drops a subject's mode (40409 if it has none), or resets the global one to
    /// READWRITE; answers the mode it replaced.
    pub fn delete_mode(&self, subject: Option<&str>) -> Result<Mode, RegistryError> {
        let mut store = self.lock();
        match subject {
            None => Ok(std::mem::take(&mut store.mode)),
            Some(s) => store
                .subject_mode
                .remove(s)
                .ok_or_else(|| no_subject_mode(s)),
        }
    }
}

pub fn no_subject_compatibility(subject: &str) -> RegistryError {
    RegistryError::new(
        40408,
        format!("Subject '{subject}' does not have subject-level compatibility configured"),
    )
}

pub fn no_subject_mode(subject: &str) -> RegistryError {
    RegistryError::new(
        40409,
        format!("Subject '{subject}' does not have subject-level mode configured"),
    )
}
