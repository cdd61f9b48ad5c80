//! DescribeUserScramCredentials (key 50), v0: the SCRAM mechanisms and iteration counts of
//! the users asked, or of every user with a credential. The semantics are
//! `State::describe_scram_credentials`; salts and passwords are never answered.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, request: DescribeUserScramCredentialsRequest) -> DescribeUserScramCredentialsResponse {
    let users: Option<Vec<String>> = request
        .users
        .as_ref()
        .map(|us| us.iter().map(|u| u.name.to_string()).collect());
    let described = ctx.shared.lock().describe_scram_credentials(users.as_deref());
    let results = described
        .into_iter()
        .map(|(user, result)| {
            let r = DescribeUserScramCredentialsResult::default().with_user(str_bytes(user));
            match result {
                Ok(infos) => r.with_credential_infos(
                    infos
                        .into_iter()
                        .map(|(m, i)| CredentialInfo::default().with_mechanism(m).with_iterations(i))
                        .collect(),
                ),
                Err(e) => r
                    .with_error_code(e.code())
                    .with_error_message(Some(str_bytes(e.message))),
            }
        })
        .collect();
    // Kafka leaves the messages of successes empty rather than null.
    DescribeUserScramCredentialsResponse::default().with_results(results)
}

pub(crate) struct DescribeUserScramCredentials;

impl Api for DescribeUserScramCredentials {
    const KEY: ApiKey = ApiKey::DescribeUserScramCredentials;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = DescribeUserScramCredentialsRequest;
    type Response = DescribeUserScramCredentialsResponse;
    const ACCESS: Access = Access::cluster(Operation::Describe);

    async fn handle(
        ctx: &Ctx<'_>,
        request: DescribeUserScramCredentialsRequest,
    ) -> Reply<DescribeUserScramCredentialsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &DescribeUserScramCredentialsRequest) -> Names {
        Names::default()
    }

    fn error_response(
        _: &DescribeUserScramCredentialsRequest,
        _: i16,
        code: ResponseError,
    ) -> DescribeUserScramCredentialsResponse {
        DescribeUserScramCredentialsResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut DescribeUserScramCredentialsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeUserScramCredentialsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
