//! The embedded schema registry: the Confluent Schema Registry's model (subjects whose
//! versions are schemas, schemas with global ids, references, per-subject and global
//! compatibility and mode, soft and hard deletes) kept beside the cluster, so that a test
//! whose services use Avro, Protobuf or JSON Schema needs no second server, and so that
//! the cluster can decode, and audit, the Confluent wire format it stores.
//!
//! This module is the registry's state and rules only; the REST API the Confluent clients
//! speak is `control::registry`, the embedding API's calls are `cluster::registry`.
//! It sits below every other layer: it knows nothing of topics or brokers.
//!
//! - `schema`: what every type must do (parse with its references, a canonical form for
//!   lookups, compatibility, decoding a payload); `parsed`: a parsed schema of any type;
//! - `avro`, `json_schema`, `protobuf`: those for each type (with the `registry` cargo
//!   feature; without it the registry refuses every schema, `parsed` says why);
//! - `wire`: the Confluent wire format (magic byte, schema id, payload);
//! - `store`: the state, registration, lookups; `subjects`: deletes, references,
//!   compatibility and mode settings; `compatibility`: the levels, modes and the rule;
//! - `audit`: decoding records' bytes and checking them against their topic's subject;
//! - `model`: the public values; `error`: Confluent's error codes.

mod audit;
#[cfg(feature = "registry")]
mod avro;
mod compatibility;
mod dump;
mod error;
#[cfg(feature = "registry")]
mod json_schema;
mod model;
mod parsed;
#[cfg(feature = "registry")]
mod protobuf;
mod schema;
mod store;
mod subjects;
pub mod wire;

pub use audit::Violation;
pub use compatibility::{Compatibility, Mode};
pub use dump::{DumpedSchema, DumpedVersion, RegistryDump};
pub use error::RegistryError;
pub use model::{
    DecodedValue, NewSchema, RegisteredSchema, SchemaById, SchemaReference, SchemaViolation,
    ViolationReason,
};
pub use schema::SchemaType;
pub use store::SchemaRegistry;

// They register Avro, JSON Schema and Protobuf schemas; tests/embedding.rs checks the
// registry without the feature.
#[cfg(all(test, feature = "registry"))]
mod tests;
