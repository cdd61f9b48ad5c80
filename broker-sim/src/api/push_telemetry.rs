//! PushTelemetry (key 72), v0 (KIP-714): a client's metrics as OTLP, kept per client
//! instance (`state/telemetry.rs`) and shown by `Cluster::client_metrics`, the control
//! API and `/metrics`. Refused as Kafka refuses it: UNKNOWN_SUBSCRIPTION_ID for an
//! outdated subscription, TELEMETRY_TOO_LARGE over 1 MiB, THROTTLING_QUOTA_EXCEEDED for
//! a push before half its interval, INVALID_RECORD for a payload that does not decode.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{PushTelemetryRequest, PushTelemetryResponse};

use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::state::telemetry::decode_push;

pub(crate) struct PushTelemetry;

impl Api for PushTelemetry {
    const KEY: ApiKey = ApiKey::PushTelemetry;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = PushTelemetryRequest;
    type Response = PushTelemetryResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(ctx: &Ctx<'_>, request: PushTelemetryRequest) -> Reply<PushTelemetryResponse> {
        let now = ctx.shared.clock.now_ms();
        let id = request.client_instance_id;
        // Checked under the lock, decoded outside it (a megabyte of OTLP may take a while),
        // kept under it again.
        let checked = ctx.shared.lock().check_telemetry_push(
            id,
            request.subscription_id,
            request.terminating,
            request.metrics.len(),
            now,
        );
        let pushed = checked
            .and_then(|()| decode_push(id, request.compression_type, &request.metrics))
            .map(|points| {
                let count = points.len();
                ctx.shared.lock().store_telemetry_push(
                    ctx.client_id,
                    id,
                    request.terminating,
                    points,
                    now,
                );
                count
            });
        Reply::Response(match pushed {
            Ok(points) => {
                tracing::debug!(client_id = ctx.client_id, points, "client telemetry pushed");
                PushTelemetryResponse::default()
            }
            Err(e) => {
                tracing::info!(client_id = ctx.client_id, error = %e, "client telemetry refused");
                PushTelemetryResponse::default().with_error_code(e.code())
            }
        })
    }

    fn names(_: &Ctx<'_>, _: &PushTelemetryRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &PushTelemetryRequest, _: i16, code: ResponseError) -> PushTelemetryResponse {
        PushTelemetryResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut PushTelemetryResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &PushTelemetryResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
