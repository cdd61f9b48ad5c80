//! ApiVersions (key 18), v0–4.
//!
//! Lists exactly the keys and ranges of `broker_sim_protocol::versions::SUPPORTED_APIS`.
//! A request in a version above ours is answered in v0 with UNSUPPORTED_VERSION and, as
//! Kafka does (KIP-511), only ApiVersions' own range (done by the server before decoding):
//! the client retries ApiVersions in a version both sides know.
//!
//! From v3 the answer carries feature levels. broker-sim advertises the one clients act
//! on that it serves: `transaction.version` (supported 0–2, finalized at the cluster's
//! level, 2 by default as a fresh Kafka 4.1 cluster), which tells the Java client 4.x to
//! use KIP-890 transactions. As Kafka does, a v3 request does not see supported features
//! whose minimum is 0 (KAFKA-17492), and a feature finalized at level 0 is not listed.
//! Kafka's other features (`metadata.version`, `group.version`, …) are left out:
//! broker-sim has no KRaft metadata log, and serves KIP-848 groups as at `group.version`
//! 1 without listing it (clients go by the ConsumerGroupHeartbeat key). The finalized-features
//! epoch starts at 1 (clients only look at features with an epoch of 0 or more) and grows
//! with each UpdateFeatures that changes a level.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::api_versions_response::{
    ApiVersion, FinalizedFeatureKey, SupportedFeatureKey,
};
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

use super::{Api, Ctx, Names, Reply, Visitor, str_bytes, Access, LogDetails};

/// The feature naming the transaction protocol version (KIP-890).
pub(crate) const TRANSACTION_VERSION: &str = "transaction.version";

fn serve(ctx: &Ctx<'_>, _request: ApiVersionsRequest) -> ApiVersionsResponse {
    let (level, epoch) = {
        let state = ctx.shared.read();
        (state.config.transactions.version, state.features_epoch)
    };
    let supported = if ctx.version >= 4 {
        vec![
            SupportedFeatureKey::default()
                .with_name(str_bytes(TRANSACTION_VERSION))
                .with_min_version(0)
                .with_max_version(2),
        ]
    } else {
        Vec::new()
    };
    let finalized = (level > 0)
        .then(|| {
            FinalizedFeatureKey::default()
                .with_name(str_bytes(TRANSACTION_VERSION))
                .with_min_version_level(level)
                .with_max_version_level(level)
        })
        .into_iter()
        .collect();
    ApiVersionsResponse::default()
        .with_api_keys(api_keys())
        .with_supported_features(supported)
        .with_finalized_features(finalized)
        .with_finalized_features_epoch(epoch)
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
    const ACCESS: Access = Access::OPEN;

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

    fn log_answer(answer: &ApiVersionsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
