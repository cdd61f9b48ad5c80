//! The error type of the embedding API and of cluster-state operations.
//!
//! It is a Kafka error code plus a message, so an operation refused from a test (say,
//! creating a topic twice) fails with exactly the code a client would have received, and
//! handlers can put the same code on the wire without translation. [`CloseReason`] says why
//! a connection was closed instead of answered.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;

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
    /// NOT_COORDINATOR: a group or transaction request must go where FindCoordinator sent
    /// the client, and `broker` does not coordinate `key`.
    pub fn not_coordinator(key: &str, broker: i32) -> Self {
        KafkaError::new(
            ResponseError::NotCoordinator,
            format!("broker {broker} does not coordinate {key}"),
        )
    }

    pub fn code(&self) -> i16 {
        self.code.code()
    }

    /// The same error, its message prefixed with what it is about.
    pub fn with_context(self, about: &str) -> Self {
        KafkaError {
            code: self.code,
            message: format!("{about}: {}", self.message),
        }
    }
}

impl std::fmt::Display for KafkaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for KafkaError {}

impl From<ResponseError> for KafkaError {
    /// A bare code, explained by Kafka's own description of it (`Errors.message()`).
    fn from(code: ResponseError) -> Self {
        KafkaError::new(code, kafka_message(code))
    }
}

/// Kafka's own description of an error code (`Errors.message()`), which Kafka puts in an
/// answer's `error_message` when it has nothing more specific to say. `kafka-protocol`
/// keeps these only as documentation, so the ones broker-sim sends are here.
pub fn kafka_message(code: ResponseError) -> String {
    use ResponseError as E;
    match code {
        E::UnknownTopicOrPartition => "This server does not host this topic-partition.",
        E::UnknownTopicId => "This server does not host this topic ID.",
        E::CoordinatorNotAvailable => "The coordinator is not available.",
        E::NotCoordinator => "This is not the correct coordinator.",
        E::InvalidRequest => {
            "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details."
        }
        E::GroupIdNotFound => "The group id does not exist.",
        E::NonEmptyGroup => "The group is not empty.",
        E::TopicAuthorizationFailed => "Topic authorization failed.",
        E::GroupAuthorizationFailed => "Group authorization failed.",
        E::ClusterAuthorizationFailed => "Cluster authorization failed.",
        E::TransactionalIdAuthorizationFailed => "Transactional Id authorization failed.",
        other => return format!("{other:?}"),
    }
    .to_string()
}

/// Why the broker closes a connection instead of answering: each is logged with the
/// connection's span, so a client author sees why their request went unanswered.
#[derive(Debug, thiserror::Error)]
pub enum CloseReason {
    #[error("cannot read request frame: {0}")]
    Frame(#[from] broker_sim_protocol::frame::FrameError),
    #[error("bad request header: {0}")]
    Header(#[from] broker_sim_protocol::header::HeaderError),
    #[error("API {0:?} is not supported")]
    UnsupportedApi(ApiKey),
    #[error("unsupported version {version} of {api:?} (supported {min}-{max})")]
    UnsupportedVersion {
        api: ApiKey,
        version: i16,
        min: i16,
        max: i16,
    },
    #[error("malformed {api:?} v{version} request: {error}")]
    Malformed {
        api: ApiKey,
        version: i16,
        error: String,
    },
    #[error("cannot encode {api:?} v{version} response: {error}")]
    Encode {
        api: ApiKey,
        version: i16,
        error: String,
    },
    /// An acks=0 producer learns of a failed write only by losing its connection.
    #[error("acks=0 produce failed: {0}")]
    AcksZeroFailed(KafkaError),
    /// Durable mode could not keep a change: the client retries instead of trusting it.
    #[error("{0}")]
    Storage(String),
    #[error("fault rule {rule}: {what}")]
    Fault { rule: u64, what: String },
    /// `connections.max.idle.ms` passed without a request.
    #[error("idle for {0:?} (connections.max.idle.ms)")]
    Idle(std::time::Duration),
    /// A request frame that started did not finish arriving in time.
    #[error("request frame not received within {0:?} of its first byte")]
    SlowRequest(std::time::Duration),
    /// The client did not read an answer in time.
    #[error("answer not read by the client within {0:?} (connections.max.idle.ms)")]
    UnreadAnswer(std::time::Duration),
    /// SASL: a request the session may not send now, or a failed authentication.
    #[error("authentication: {0}")]
    Authentication(String),
}
