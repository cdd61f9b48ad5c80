//! ListConfigResources (key 74), v0–1: the resources that configs can be described for.
//! v0 (KIP-714's ListClientMetricsResources) lists client-metrics subscriptions only; v1
//! (KIP-1142) takes a list of resource types — empty for all — and lists, as Kafka does,
//! in this order: groups with configs, client-metrics subscriptions, each live broker as
//! a broker logger, each live broker, and every topic. A type Kafka does not list
//! (anything but those five) fails the whole request with UNSUPPORTED_VERSION.
//!
//! broker-sim keeps no group configs, so groups are never listed. Client-metrics
//! subscriptions (`Cluster::subscribe_client_metrics`) come in name order, brokers in id
//! order and topics in name order, where Kafka's order follows its metadata image.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::list_config_resources_response::ConfigResource;
use kafka_protocol::messages::{ListConfigResourcesRequest, ListConfigResourcesResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const BROKER_LOGGER: i8 = 8;
const CLIENT_METRICS: i8 = 16;
const GROUP: i8 = 32;

fn serve(ctx: &Ctx<'_>, request: ListConfigResourcesRequest) -> ListConfigResourcesResponse {
    let wants = |kind: i8| {
        if ctx.version == 0 {
            kind == CLIENT_METRICS
        } else {
            request.resource_types.is_empty() || request.resource_types.contains(&kind)
        }
    };
    if let Some(other) = request
        .resource_types
        .iter()
        .find(|t| ![TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS, GROUP].contains(t))
    {
        tracing::info!(resource_type = other, "ListConfigResources: unsupported resource type");
        return ListConfigResources::error_response(&request, ctx.version, ResponseError::UnsupportedVersion);
    }
    let state = ctx.shared.read();
    let resource = |kind: i8, name: String| {
        ConfigResource::default()
            .with_resource_name(str_bytes(name))
            .with_resource_type(kind)
    };
    let brokers: Vec<i32> = state.live_brokers().map(|b| b.id).collect();
    let mut out = Vec::new();
    if wants(CLIENT_METRICS) {
        out.extend(
            state
                .telemetry
                .subscriptions()
                .keys()
                .map(|name| resource(CLIENT_METRICS, name.clone())),
        );
    }
    for kind in [BROKER_LOGGER, BROKER] {
        if wants(kind) {
            out.extend(brokers.iter().map(|id| resource(kind, id.to_string())));
        }
    }
    if wants(TOPIC) {
        out.extend(state.topics().map(|t| resource(TOPIC, t.name.clone())));
    }
    ListConfigResourcesResponse::default().with_config_resources(out)
}

pub(crate) struct ListConfigResources;

impl Api for ListConfigResources {
    const KEY: ApiKey = ApiKey::ListConfigResources;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = ListConfigResourcesRequest;
    type Response = ListConfigResourcesResponse;
    const ACCESS: Access = Access::cluster(Operation::DescribeConfigs);

    async fn handle(ctx: &Ctx<'_>, request: ListConfigResourcesRequest) -> Reply<ListConfigResourcesResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &ListConfigResourcesRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &ListConfigResourcesRequest, _: i16, code: ResponseError) -> ListConfigResourcesResponse {
        ListConfigResourcesResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut ListConfigResourcesResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ListConfigResourcesResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
