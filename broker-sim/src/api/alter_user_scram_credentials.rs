//! AlterUserScramCredentials (key 51), v0: delete and upsert SCRAM credentials, one result
//! per user. Validation and what is stored are `State::alter_scram_credentials`.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::{AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::scram::{ScramCredential, Upsertion};

fn serve(ctx: &Ctx<'_>, request: AlterUserScramCredentialsRequest) -> AlterUserScramCredentialsResponse {
    let deletions: Vec<(String, i8)> = request
        .deletions
        .iter()
        .map(|d| (d.name.to_string(), d.mechanism))
        .collect();
    let upsertions: Vec<Upsertion> = request
        .upsertions
        .iter()
        .map(|u| Upsertion {
            user: u.name.to_string(),
            mechanism: u.mechanism,
            credential: ScramCredential {
                salt: u.salt.clone(),
                salted_password: u.salted_password.clone(),
                iterations: u.iterations,
            },
        })
        .collect();
    let results = ctx
        .shared
        .lock()
        .alter_scram_credentials(&deletions, &upsertions)
        .into_iter()
        .map(|(user, result)| {
            let r = AlterUserScramCredentialsResult::default().with_user(str_bytes(user));
            match result {
                Ok(()) => r.with_error_message(None),
                Err(e) => r
                    .with_error_code(e.code())
                    .with_error_message(Some(str_bytes(e.message))),
            }
        })
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(results)
}

/// Every user the request names, once each, in order.
fn users(request: &AlterUserScramCredentialsRequest) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    request
        .deletions
        .iter()
        .map(|d| d.name.to_string())
        .chain(request.upsertions.iter().map(|u| u.name.to_string()))
        .filter(|u| seen.insert(u.clone()))
        .collect()
}

pub(crate) struct AlterUserScramCredentials;

impl Api for AlterUserScramCredentials {
    const KEY: ApiKey = ApiKey::AlterUserScramCredentials;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = AlterUserScramCredentialsRequest;
    type Response = AlterUserScramCredentialsResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(
        ctx: &Ctx<'_>,
        request: AlterUserScramCredentialsRequest,
    ) -> Reply<AlterUserScramCredentialsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &AlterUserScramCredentialsRequest) -> Names {
        Names::default()
    }

    /// Every user named, with the code (Kafka's `getErrorResponse`).
    fn error_response(
        request: &AlterUserScramCredentialsRequest,
        _: i16,
        code: ResponseError,
    ) -> AlterUserScramCredentialsResponse {
        AlterUserScramCredentialsResponse::default().with_results(
            users(request)
                .into_iter()
                .map(|u| {
                    AlterUserScramCredentialsResult::default()
                        .with_user(str_bytes(u))
                        .with_error_code(code.code())
                        .with_error_message(None)
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut AlterUserScramCredentialsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AlterUserScramCredentialsResponse, log: &mut LogDetails) {
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
