//! ApiVersions (key 18), v0–4.
//!
//! Lists exactly the keys and ranges of `broker_sim_protocol::versions::SUPPORTED_APIS`.
//! A request in a version above ours is answered in v0 with UNSUPPORTED_VERSION and, as
//! Kafka does (KIP-511), only ApiVersions' own range (done by the server before decoding):
//! the client retries ApiVersions in a version both sides know. No
//! feature flags are advertised: broker-sim has no KRaft metadata versions to finalize.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

use super::{Api, Ctx, Names, Reply, Visitor};

fn serve(_ctx: &Ctx<'_>, _request: ApiVersionsRequest) -> ApiVersionsResponse {
    ApiVersionsResponse::default().with_api_keys(api_keys())
}

/// The answer to an ApiVersions request in a version we do not support.
pub(crate) fn unsupported_version() -> ApiVersionsResponse {
    ApiVersionsResponse::default()
        .with_error_code(ResponseError::UnsupportedVersion.code())
        .with_api_keys(
            api_keys()
                .into_iter()
                .filter(|a| a.api_key == ApiKey::ApiVersions as i16)
                .collect(),
        )
}

fn api_keys() -> Vec<ApiVersion> {
    super::SUPPORTED_APIS
        .iter()
        .map(|a| {
            ApiVersion::default()
                .with_api_key(a.key as i16)
                .with_min_version(super::visit(a.key, AdvertisedMin).unwrap_or(a.min))
                .with_max_version(a.max)
        })
        .collect()
}

/// `Api::ADVERTISED_MIN` of an API.
struct AdvertisedMin;

impl Visitor for AdvertisedMin {
    type Output = i16;
    fn visit<A: Api>(self) -> i16 {
        A::ADVERTISED_MIN
    }
}

pub(crate) struct ApiVersions;

impl Api for ApiVersions {
    const KEY: ApiKey = ApiKey::ApiVersions;
    const VERSIONS: (i16, i16) = (0, 4);
    type Request = ApiVersionsRequest;
    type Response = ApiVersionsResponse;

    async fn handle(ctx: &Ctx<'_>, request: ApiVersionsRequest) -> Reply<ApiVersionsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &ApiVersionsRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &ApiVersionsRequest, _: i16, code: ResponseError) -> ApiVersionsResponse {
        ApiVersionsResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut ApiVersionsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }
}
