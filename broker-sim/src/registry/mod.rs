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
//! - `schema`: one parsed schema of any type, and what every type must do (parse with its
//!   references, a canonical form for lookups, compatibility, decoding a payload);
//! - `avro`, `json_schema`, `protobuf`: those for each type;
//! - `wire`: the Confluent wire format (magic byte, schema id, payload).

mod avro;
mod json_schema;
mod protobuf;
mod schema;
pub mod wire;

pub use schema::SchemaType;
