//! UnregisterBroker (key 64), v0: remove a broker's registration, as an operator does to
//! decommission a broker for good (`kafka-cluster.sh unregister`). An id the controller
//! does not know is BROKER_ID_NOT_REGISTERED with Kafka's message; what unregistering a
//! known broker does is `State::unregister_broker`.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{UnregisterBrokerRequest, UnregisterBrokerResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

pub(crate) struct UnregisterBroker;

impl Api for UnregisterBroker {
    const KEY: ApiKey = ApiKey::UnregisterBroker;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = UnregisterBrokerRequest;
    type Response = UnregisterBrokerResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(ctx: &Ctx<'_>, request: UnregisterBrokerRequest) -> Reply<UnregisterBrokerResponse> {
        let result = ctx.shared.lock().unregister_broker(request.broker_id.0);
        Reply::Response(match result {
            Ok(()) => UnregisterBrokerResponse::default().with_error_message(None),
            Err(e) => UnregisterBrokerResponse::default()
                .with_error_code(e.code())
                .with_error_message(Some(str_bytes(e.message))),
        })
    }

    fn names(_: &Ctx<'_>, _: &UnregisterBrokerRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &UnregisterBrokerRequest, _: i16, code: ResponseError) -> UnregisterBrokerResponse {
        UnregisterBrokerResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut UnregisterBrokerResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &UnregisterBrokerResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
