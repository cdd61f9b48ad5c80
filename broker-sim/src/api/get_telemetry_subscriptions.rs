//! GetTelemetrySubscriptions (key 71), v0 (KIP-714): a client's instance id (assigned
//! from the seeded generator when it sends the nil id) and the metrics it should push,
//! how often and how: zstd, lz4, gzip or snappy, at most 1 MiB, sums cumulative. The
//! subscriptions are `state/telemetry.rs`.
//!
//! A Kafka broker serves the telemetry APIs only with a metrics reporter that receives
//! client telemetry configured; broker-sim always serves them, so tests can read what
//! clients push (an intended difference the comparison suite lists).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse};

use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::telemetry::TELEMETRY_MAX_BYTES;

/// zstd, lz4, gzip, snappy: Kafka's order of preference.
const ACCEPTED_COMPRESSION: [i8; 4] = [4, 3, 1, 2];

pub(crate) struct GetTelemetrySubscriptions;

impl Api for GetTelemetrySubscriptions {
    const KEY: ApiKey = ApiKey::GetTelemetrySubscriptions;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = GetTelemetrySubscriptionsRequest;
    type Response = GetTelemetrySubscriptionsResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(
        ctx: &Ctx<'_>,
        request: GetTelemetrySubscriptionsRequest,
    ) -> Reply<GetTelemetrySubscriptionsResponse> {
        let answer = ctx
            .shared
            .lock()
            .telemetry_subscriptions(request.client_instance_id, ctx.client_id);
        Reply::Response(
            GetTelemetrySubscriptionsResponse::default()
                .with_client_instance_id(answer.client_instance_id)
                .with_subscription_id(answer.subscription_id)
                .with_accepted_compression_types(ACCEPTED_COMPRESSION.to_vec())
                .with_push_interval_ms(answer.push_interval_ms)
                .with_telemetry_max_bytes(TELEMETRY_MAX_BYTES)
                .with_delta_temporality(false)
                .with_requested_metrics(answer.requested_metrics.into_iter().map(str_bytes).collect()),
        )
    }

    fn names(_: &Ctx<'_>, _: &GetTelemetrySubscriptionsRequest) -> Names {
        Names::default()
    }

    fn error_response(
        _: &GetTelemetrySubscriptionsRequest,
        _: i16,
        code: ResponseError,
    ) -> GetTelemetrySubscriptionsResponse {
        GetTelemetrySubscriptionsResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut GetTelemetrySubscriptionsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &GetTelemetrySubscriptionsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
