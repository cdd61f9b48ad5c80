//! The error type of the embedding API and of cluster-state operations.
//!
//! It is a Kafka error code plus a message, so an operation refused from a test (say,
//! creating a topic twice) fails with exactly the code a client would have received, and
//! handlers can put the same code on the wire without translation.

use kafka_protocol::ResponseError;

/// A Kafka error code with a human-readable explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaError {
    pub code: ResponseError,
    pub message: String,
}

impl KafkaError {
    pub fn new(code: ResponseError, message: impl Into<String>) -> Self {
        KafkaError {
            code,
            message: message.into(),
        }
    }

    /// The wire value of the code.
    pub fn code(&self) -> i16 {
        self.code.code()
    }
}

impl std::fmt::Display for KafkaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for KafkaError {}
