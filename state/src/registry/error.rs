//! The registry's refusals, as Confluent's Schema Registry numbers them: an `error_code`
//! whose first three digits are the HTTP status (40401 → 404, 42201 → 422; 409 is
//! itself), so the REST API answers `{"error_code", "message"}` with the right status and
//! a Confluent client raises the error it would against the real registry.

/// A refusal, with Confluent's `error_code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (error {error_code})")]
pub struct RegistryError {
    pub error_code: i32,
    pub message: String,
}

impl RegistryError {
    pub fn new(error_code: i32, message: impl Into<String>) -> Self {
        RegistryError {
            error_code,
            message: message.into(),
        }
    }

    /// The HTTP status Confluent answers this error with.
    pub fn http_status(&self) -> u16 {
        match self.error_code {
            code @ 400..=599 => code as u16,
            code if (40000..60000).contains(&code) => (code / 100) as u16,
            _ => 500,
        }
    }

    pub fn subject_not_found(subject: &str) -> Self {
        Self::new(40401, format!("Subject '{subject}' not found."))
    }

    pub fn version_not_found(subject: &str, version: i32) -> Self {
        Self::new(
            40402,
            format!("Version {version} not found for subject '{subject}'."),
        )
    }

    pub fn schema_not_found(what: impl std::fmt::Display) -> Self {
        Self::new(40403, format!("Schema {what}not found."))
    }

    pub fn invalid_schema(why: impl std::fmt::Display) -> Self {
        Self::new(42201, format!("Invalid schema: {why}"))
    }

    // Only the REST API reads a type from its name.
    pub fn invalid_schema_type(name: &str) -> Self {
        Self::new(
            42201,
            format!("Invalid schema type {name:?}: the types are AVRO, JSON and PROTOBUF"),
        )
    }

    pub fn invalid_version(text: &str) -> Self {
        Self::new(
            42202,
            format!(
                "The specified version '{text}' is not a valid version id. Allowed values are \
                 between [1, 2^31-1] and the string \"latest\""
            ),
        )
    }

    pub fn not_permitted(message: impl Into<String>) -> Self {
        Self::new(42205, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_names_the_status() {
        assert_eq!(RegistryError::subject_not_found("s").http_status(), 404);
        assert_eq!(RegistryError::new(409, "x").http_status(), 409);
        assert_eq!(RegistryError::invalid_schema("x").http_status(), 422);
        assert_eq!(RegistryError::new(50001, "x").http_status(), 500);
    }
}
