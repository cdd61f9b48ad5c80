//! AddRaftVoter (key 80), v0: add a controller to the KRaft quorum. broker-sim's quorum is
//! static (`state/quorum.rs`: every broker a voter, as with `controller.quorum.voters`),
//! and a Kafka controller quorum with a static voter set (`kraft.version` 0) cannot
//! change: after Kafka's own checks — the cluster id, a voter with a directory id, an
//! endpoint on the `CONTROLLER` listener — the answer is UNSUPPORTED_VERSION, with
//! Kafka's message.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{AddRaftVoterRequest, AddRaftVoterResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::quorum::VoterChange;

fn serve(ctx: &Ctx<'_>, request: AddRaftVoterRequest) -> AddRaftVoterResponse {
    let (code, message) = ctx.shared.lock().refuse_voter_change(&VoterChange {
        verb: "add",
        cluster_id: request.cluster_id.as_deref(),
        voter_id: request.voter_id,
        has_directory_id: !request.voter_directory_id.is_nil(),
        controller_endpoint: Some(request.listeners.iter().any(|l| l.name.as_str() == "CONTROLLER")),
    });
    AddRaftVoterResponse::default()
        .with_error_code(code.code())
        .with_error_message(Some(str_bytes(message)))
}

pub(crate) struct AddRaftVoter;

impl Api for AddRaftVoter {
    const KEY: ApiKey = ApiKey::AddRaftVoter;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = AddRaftVoterRequest;
    type Response = AddRaftVoterResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(ctx: &Ctx<'_>, request: AddRaftVoterRequest) -> Reply<AddRaftVoterResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &AddRaftVoterRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &AddRaftVoterRequest, _: i16, code: ResponseError) -> AddRaftVoterResponse {
        AddRaftVoterResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut AddRaftVoterResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AddRaftVoterResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
