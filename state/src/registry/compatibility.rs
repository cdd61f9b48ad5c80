//! Compatibility levels and modes, and the compatibility rule itself.
//!
//! A level names a direction and a reach: BACKWARD (the new schema reads data written
//! with the old), FORWARD (the old reads the new's), FULL (both); plain levels compare
//! with the latest live version only, `_TRANSITIVE` ones with every live (not soft-deleted)
//! version; NONE checks nothing. A mode says whether a subject takes registrations at all
//! (READONLY refuses them), or takes them with an explicit id and version (IMPORT, for
//! copying another registry).

use serde::{Deserialize, Serialize};

use super::error::RegistryError;
use super::parsed::ParsedSchema;

/// A compatibility level, named as Confluent names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compatibility {
    #[default]
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
    None,
}

impl Compatibility {
    pub const ALL: [Compatibility; 7] = [
        Compatibility::Backward,
        Compatibility::BackwardTransitive,
        Compatibility::Forward,
        Compatibility::ForwardTransitive,
        Compatibility::Full,
        Compatibility::FullTransitive,
        Compatibility::None,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Compatibility::Backward => "BACKWARD",
            Compatibility::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Compatibility::Forward => "FORWARD",
            Compatibility::ForwardTransitive => "FORWARD_TRANSITIVE",
            Compatibility::Full => "FULL",
            Compatibility::FullTransitive => "FULL_TRANSITIVE",
            Compatibility::None => "NONE",
        }
    }

    /// A level by its name, in any case; 42203 otherwise.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                RegistryError::new(
                    42203,
                    format!(
                        "Invalid compatibility level {text:?}. Valid values are none, backward, \
                         forward, full, backward_transitive, forward_transitive, and \
                         full_transitive"
                    ),
                )
            })
    }

    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Compatibility::BackwardTransitive
                | Compatibility::ForwardTransitive
                | Compatibility::FullTransitive
        )
    }

    /// Why `new` may not follow `existing` (oldest first, each with its version) under
    /// this level; empty when it may. `existing` is what the level compares with: the
    /// caller passes the latest live version, or every one for a transitive level.
    pub fn problems(self, new: &ParsedSchema, existing: &[(i32, &ParsedSchema)]) -> Vec<String> {
        let (backward, forward) = match self {
            Compatibility::None => return Vec::new(),
            Compatibility::Backward | Compatibility::BackwardTransitive => (true, false),
            Compatibility::Forward | Compatibility::ForwardTransitive => (false, true),
            Compatibility::Full | Compatibility::FullTransitive => (true, true),
        };
        let mut out = Vec::new();
        for (version, old) in existing {
            if backward {
                for p in new.can_read(old) {
                    out.push(format!(
                        "the new schema cannot read data written with version {version}: {p}"
                    ));
                }
            }
            if forward {
                for p in old.can_read(new) {
                    out.push(format!(
                        "version {version} cannot read data written with the new schema: {p}"
                    ));
                }
            }
        }
        if !out.is_empty() {
            out.push(format!("compatibility: {}", self.name()));
        }
        out
    }
}

/// A subject's (or the registry's) mode, named as Confluent names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    #[default]
    Readwrite,
    Readonly,
    ReadonlyOverride,
    Import,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Mode::Readwrite,
        Mode::Readonly,
        Mode::ReadonlyOverride,
        Mode::Import,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Readwrite => "READWRITE",
            Mode::Readonly => "READONLY",
            Mode::ReadonlyOverride => "READONLY_OVERRIDE",
            Mode::Import => "IMPORT",
        }
    }

    /// A mode by its name, in any case; 42204 otherwise.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                RegistryError::new(
                    42204,
                    format!(
                        "Invalid mode {text:?}. Valid values are READWRITE, READONLY, \
                         READONLY_OVERRIDE and IMPORT"
                    ),
                )
            })
    }

    pub fn is_read_only(self) -> bool {
        matches!(self, Mode::Readonly | Mode::ReadonlyOverride)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "registry")]
    fn avro(text: &str) -> ParsedSchema {
        ParsedSchema::parse(crate::registry::SchemaType::Avro, text, &[]).unwrap()
    }

    #[test]
    fn names_parse_in_any_case_and_bad_ones_carry_their_codes() {
        assert_eq!(
            Compatibility::parse("full_transitive").unwrap(),
            Compatibility::FullTransitive
        );
        assert_eq!(
            Compatibility::parse("sideways").unwrap_err().error_code,
            42203
        );
        assert_eq!(Mode::parse("readonly").unwrap(), Mode::Readonly);
        assert_eq!(Mode::parse("x").unwrap_err().error_code, 42204);
    }

    #[test]
    #[cfg(feature = "registry")]
    fn each_level_checks_its_direction() {
        let old = avro(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
        // Adding a field without a default: old data lacks it (not backward), the old
        // schema ignores it (forward).
        let new = avro(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},
            {"name":"b","type":"int"}]}"#,
        );
        let existing = [(1, &old)];
        assert!(!Compatibility::Backward.problems(&new, &existing).is_empty());
        assert!(Compatibility::Forward.problems(&new, &existing).is_empty());
        assert!(!Compatibility::Full.problems(&new, &existing).is_empty());
        assert!(Compatibility::None.problems(&new, &existing).is_empty());
    }
}
