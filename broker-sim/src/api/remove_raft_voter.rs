//! RemoveRaftVoter (key 81), v0: remove a controller from the KRaft quorum. As for
//! AddRaftVoter (`add_raft_voter.rs`), broker-sim's static quorum answers as a Kafka one
//! with `kraft.version` 0 does: after the cluster-id and voter checks, UNSUPPORTED_VERSION
//! with Kafka's message.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{RemoveRaftVoterRequest, RemoveRaftVoterResponse};

use super::{Api, Ctx, Names, Reply, str_bytes};

fn answer(code: ResponseError, message: String) -> RemoveRaftVoterResponse {
    RemoveRaftVoterResponse::default()
        .with_error_code(code.code())
        .with_error_message(Some(str_bytes(message)))
}

fn serve(ctx: &Ctx<'_>, request: RemoveRaftVoterRequest) -> RemoveRaftVoterResponse {
    let cluster_id = ctx.shared.lock().cluster_id.clone();
    if let Some(asked) = request.cluster_id.as_deref().filter(|id| **id != *cluster_id) {
        return answer(
            ResponseError::InconsistentClusterId,
            format!("The given id \"{asked}\" doesn't match the cluster id \"{cluster_id}\""),
        );
    }
    if request.voter_id < 0 || request.voter_directory_id.is_nil() {
        return answer(
            ResponseError::InvalidRequest,
            "Remove voter request didn't include a valid voter".to_string(),
        );
    }
    answer(
        ResponseError::UnsupportedVersion,
        "Cluster doesn't support removing voter because the kraft.version feature is 0".to_string(),
    )
}

pub(crate) struct RemoveRaftVoter;

impl Api for RemoveRaftVoter {
    const KEY: ApiKey = ApiKey::RemoveRaftVoter;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = RemoveRaftVoterRequest;
    type Response = RemoveRaftVoterResponse;

    async fn handle(ctx: &Ctx<'_>, request: RemoveRaftVoterRequest) -> Reply<RemoveRaftVoterResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &RemoveRaftVoterRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &RemoveRaftVoterRequest, _: i16, code: ResponseError) -> RemoveRaftVoterResponse {
        RemoveRaftVoterResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut RemoveRaftVoterResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }
}
