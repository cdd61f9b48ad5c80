//! RemoveRaftVoter (key 81), v0: remove a controller from the KRaft quorum. As for
//! AddRaftVoter (`add_raft_voter.rs`), broker-sim's static quorum answers as a Kafka one
//! with `kraft.version` 0 does: after the cluster-id and voter checks, UNSUPPORTED_VERSION
//! with Kafka's message.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{RemoveRaftVoterRequest, RemoveRaftVoterResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::quorum::VoterChange;

fn serve(ctx: &Ctx<'_>, request: RemoveRaftVoterRequest) -> RemoveRaftVoterResponse {
    let (code, message) = ctx.shared.lock().refuse_voter_change(&VoterChange {
        verb: "remove",
        cluster_id: request.cluster_id.as_deref(),
        voter_id: request.voter_id,
        has_directory_id: !request.voter_directory_id.is_nil(),
        controller_endpoint: None,
    });
    RemoveRaftVoterResponse::default()
        .with_error_code(code.code())
        .with_error_message(Some(str_bytes(message)))
}

pub(crate) struct RemoveRaftVoter;

impl Api for RemoveRaftVoter {
    const KEY: ApiKey = ApiKey::RemoveRaftVoter;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = RemoveRaftVoterRequest;
    type Response = RemoveRaftVoterResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

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

    fn log_answer(answer: &RemoveRaftVoterResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
