//! The Kafka wire layer of broker-sim.
//!
//! Everything that is about bytes on the socket and nothing about cluster state lives
//! here: framing ([`frame`]), request/response headers ([`header`]), the one table of
//! supported API versions ([`versions`]), zero-copy record-batch views ([`batch`]), the Java
//! client's default partitioner ([`partitioner`]) and responses that send stored batches
//! without copying them ([`splice`]). Message bodies are always encoded
//! and decoded by the `kafka-protocol` crate; this crate adds only what that crate leaves
//! to a broker.

pub mod batch;
pub mod frame;
pub mod header;
pub mod otlp;
pub mod partitioner;
pub mod splice;
pub mod versions;

pub use kafka_protocol;
