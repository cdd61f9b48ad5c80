//! FindCoordinator (key 10), v0–6.
//!
//! The coordinator of a group or transactional id is chosen by hashing the id as Kafka does
//! (Java's `String.hashCode` modulo 50 internal-topic partitions) and mapping that partition
//! to a broker (see `State::coordinator_for`), so it is stable across runs. v0–3
//! ask for one key, v4+ for a batch. Share-group keys (type 2) are INVALID_REQUEST: share
//! groups are not supported. A key the requester may not DESCRIBE is
//! GROUP_AUTHORIZATION_FAILED or TRANSACTIONAL_ID_AUTHORIZATION_FAILED.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use crate::state::acls::{Operation, ResourceType};
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::error::{KafkaError, kafka_message};

const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;

fn serve(
    ctx: &Ctx<'_>,
    request: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let state = ctx.shared.read();
    let find = |key: &StrBytes| -> Result<(i32, String, i32), KafkaError> {
        if !matches!(request.key_type, GROUP | TRANSACTION) {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("Unsupported coordinator key type {}", request.key_type),
            ));
        }
        // DESCRIBE on the group or transactional id, as Kafka checks before looking.
        let (kind, refused) = if request.key_type == GROUP {
            (ResourceType::Group, ResponseError::GroupAuthorizationFailed)
        } else {
            (
                ResourceType::TransactionalId,
                ResponseError::TransactionalIdAuthorizationFailed,
            )
        };
        if !ctx.allowed(&state, kind, key, Operation::Describe) {
            return Err(KafkaError::new(refused, format!("may not describe {key}")));
        }
        let b = state.coordinator_for(key).ok_or_else(|| {
            KafkaError::new(
                ResponseError::CoordinatorNotAvailable,
                "every replica of the coordinator's internal partition is down",
            )
        })?;
        Ok((b.id, b.host.clone(), b.port_on(ctx.session.listener)))
    };
    // Kafka puts the code's own description in `error_message`, "NONE" for success
    // before v4 (our explanation goes to the log).
    if ctx.version < 4 {
        return match find(&request.key) {
            Ok((id, host, port)) => FindCoordinatorResponse::default()
                .with_error_message(Some(str_bytes("NONE")))
                .with_node_id(id.into())
                .with_host(str_bytes(host))
                .with_port(port),
            Err(e) => FindCoordinatorResponse::default()
                .with_error_code(e.code())
                .with_error_message(Some(str_bytes(kafka_message(e.code))))
                .with_node_id((-1).into())
                .with_port(-1),
        };
    }
    let coordinators = request
        .coordinator_keys
        .iter()
        .map(|key| {
            let c = Coordinator::default().with_key(key.clone());
            match find(key) {
                Ok((id, host, port)) => c
                    .with_node_id(id.into())
                    .with_host(str_bytes(host))
                    .with_port(port),
                // Kafka's batched lookup refuses a key it may not describe without a message.
                Err(e) if is_authorization(e.code) => c
                    .with_error_code(e.code())
                    .with_node_id((-1).into())
                    .with_port(-1),
                Err(e) => c
                    .with_error_code(e.code())
                    .with_error_message(Some(str_bytes(kafka_message(e.code))))
                    .with_node_id((-1).into())
                    .with_port(-1),
            }
        })
        .collect();
    FindCoordinatorResponse::default().with_coordinators(coordinators)
}

fn is_authorization(code: ResponseError) -> bool {
    matches!(
        code,
        ResponseError::GroupAuthorizationFailed | ResponseError::TransactionalIdAuthorizationFailed
    )
}

pub(crate) struct FindCoordinator;

impl Api for FindCoordinator {
    const KEY: ApiKey = ApiKey::FindCoordinator;
    const VERSIONS: (i16, i16) = (0, 6);
    type Request = FindCoordinatorRequest;
    type Response = FindCoordinatorResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: FindCoordinatorRequest) -> Reply<FindCoordinatorResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(ctx: &Ctx<'_>, request: &FindCoordinatorRequest) -> Names {
        // Only a group coordinator lookup names a group (key type 1 is transactional ids).
        let keys: Vec<String> = if ctx.version < 4 {
            vec![request.key.to_string()]
        } else {
            request.coordinator_keys.iter().map(|k| k.to_string()).collect()
        };
        let (groups, transactional_ids) = match request.key_type {
            GROUP => (keys, Vec::new()),
            TRANSACTION => (Vec::new(), keys),
            _ => (Vec::new(), Vec::new()),
        };
        Names {
            topics: Vec::new(),
            groups,
            transactional_ids,
        }
    }

    fn error_response(request: &FindCoordinatorRequest, version: i16, code: ResponseError) -> FindCoordinatorResponse {
        if version < 4 {
            return FindCoordinatorResponse::default()
                .with_error_code(code.code())
                .with_error_message(None)
                .with_node_id((-1).into())
                .with_port(-1);
        }
        FindCoordinatorResponse::default().with_coordinators(
            request
                .coordinator_keys
                .iter()
                .map(|key| {
                    Coordinator::default()
                        .with_key(key.clone())
                        .with_error_code(code.code())
                        .with_error_message(None)
                        .with_node_id((-1).into())
                        .with_port(-1)
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut FindCoordinatorResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &FindCoordinatorResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for coordinator in &answer.coordinators {
            log.error(coordinator.error_code);
        }
    }
}
