//! DescribeCluster (key 60), v0–2.
//!
//! Cluster id, controller and every broker; the cluster operations the requester may
//! perform when asked (all of them without an authorizer). Brokers are never fenced here. Asking a broker
//! for controller endpoints (endpoint type 2, v1+) is UNSUPPORTED_ENDPOINT_TYPE, as in Kafka:
//! that question is for the controller listener, which broker-sim does not expose.
//! A stopped broker whose registration UnregisterBroker removed is not listed at all.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{DescribeClusterRequest, DescribeClusterResponse};

use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

const BROKERS: i8 = 1;
const CONTROLLERS: i8 = 2;

fn serve(
    ctx: &Ctx<'_>,
    request: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let state = ctx.shared.read();
    let mut response = DescribeClusterResponse::default()
        .with_cluster_id(str_bytes(state.cluster_id.clone()))
        .with_controller_id(state.controller_id.into());
    // What the requester may do to the cluster: nothing without DESCRIBE (as Kafka).
    if request.include_cluster_authorized_operations {
        response.cluster_authorized_operations =
            ctx.cluster_authorized_operations(&state);
    }
    if ctx.version >= 1 && request.endpoint_type == CONTROLLERS {
        // What a Kafka broker answers a client that wanted a controller: its own endpoint
        // type, and no controller.
        return response
            .with_endpoint_type(BROKERS)
            .with_controller_id((-1).into())
            .with_error_code(ResponseError::MismatchedEndpointType.code())
            .with_error_message(Some(str_bytes(
                "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
            )));
    }
    if ctx.version >= 1 && request.endpoint_type != BROKERS {
        return response
            .with_endpoint_type(request.endpoint_type)
            .with_error_code(ResponseError::UnsupportedEndpointType.code())
            .with_error_message(Some(str_bytes(
                "broker-sim brokers only describe broker endpoints",
            )));
    }
    // Stopped brokers are fenced: listed only when v2 asks for them, and marked.
    let include_fenced = ctx.version >= 2 && request.include_fenced_brokers;
    response.with_brokers(
        state
            .brokers
            .iter()
            .filter(|b| state.is_registered(b.id))
            .filter(|b| include_fenced || !state.is_fenced(b.id))
            .map(|b| {
                DescribeClusterBroker::default()
                    .with_broker_id(b.id.into())
                    .with_host(str_bytes(b.host.clone()))
                    .with_port(b.port_on(ctx.session.listener))
                    .with_rack(b.rack.clone().map(str_bytes))
                    .with_is_fenced(state.is_fenced(b.id))
            })
            .collect(),
    )
}

pub(crate) struct DescribeCluster;

impl Api for DescribeCluster {
    const KEY: ApiKey = ApiKey::DescribeCluster;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = DescribeClusterRequest;
    type Response = DescribeClusterResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: DescribeClusterRequest) -> Reply<DescribeClusterResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &DescribeClusterRequest) -> Names {
        Names::default()
    }

    fn error_response(request: &DescribeClusterRequest, version: i16, code: ResponseError) -> DescribeClusterResponse {
        DescribeClusterResponse::default()
            .with_error_code(code.code())
            // Echoed from v1, where the request has it.
            .with_endpoint_type(if version >= 1 {
                request.endpoint_type
            } else {
                BROKERS
            })
    }

    fn set_throttle(response: &mut DescribeClusterResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeClusterResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
