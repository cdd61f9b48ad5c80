//! UpdateFeatures (key 57), v0–2: change a finalized feature level, as Kafka's controller
//! does (`FeatureControlManager`). The one feature broker-sim has is `transaction.version`
//! (0–2, see `api_versions.rs`): changing it switches the transaction protocol new
//! transactions use (KIP-890) at once, as `ClusterBuilder::transaction_version` does at
//! start, and bumps the finalized-features epoch.
//!
//! Validation follows Kafka's, with its messages: an unknown upgrade type, a negative
//! level, a level outside the supported range ("Local controller N only supports versions
//! 0-2"; a feature broker-sim does not know "does not support this feature"), a downgrade
//! without a downgrade type, or an "upgrade" to a lower level with one. The first error
//! fails the whole request, and nothing changes; `validate_only` checks and changes
//! nothing. Per-feature results are listed only on success and only up to v1.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::update_features_response::UpdatableFeatureResult;
use kafka_protocol::messages::{UpdateFeaturesRequest, UpdateFeaturesResponse};

use crate::state::acls::Operation;
use super::api_versions::TRANSACTION_VERSION;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

const UPGRADE: i8 = 1;
const SAFE_DOWNGRADE: i8 = 2;
const UNSAFE_DOWNGRADE: i8 = 3;

/// The upgrade type of an update: v1+ sends it; v0 says only whether a downgrade is allowed.
fn upgrade_type(version: i16, allow_downgrade: bool, upgrade_type: i8) -> i8 {
    match version {
        0 if allow_downgrade => SAFE_DOWNGRADE,
        0 => UPGRADE,
        _ => upgrade_type,
    }
}

/// Why `level` cannot be set for `feature` now at `current`, in Kafka's words.
fn refuse(controller: i32, feature: &str, level: i16, kind: i8, current: i16) -> Option<String> {
    let why = if !matches!(kind, UPGRADE | SAFE_DOWNGRADE | UNSAFE_DOWNGRADE) {
        "The controller does not support the given upgrade type.".to_string()
    } else if level < 0 {
        "A feature version cannot be less than 0.".to_string()
    } else if feature != TRANSACTION_VERSION && level != 0 {
        format!("Local controller {controller} does not support this feature.")
    } else if feature == TRANSACTION_VERSION && level > 2 {
        format!("Local controller {controller} only supports versions 0-2")
    } else if level < current && kind == UPGRADE {
        "Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.".to_string()
    } else if level > current && kind != UPGRADE {
        "Can't downgrade to a newer version.".to_string()
    } else {
        return None;
    };
    Some(format!("Invalid update version {level} for feature {feature}. {why}"))
}

fn serve(ctx: &Ctx<'_>, request: UpdateFeaturesRequest) -> UpdateFeaturesResponse {
    let mut state = ctx.shared.lock();
    let current = |state: &crate::state::State, feature: &str| {
        if feature == TRANSACTION_VERSION {
            state.config.transactions.version
        } else {
            0
        }
    };
    let mut new_level = None;
    for update in &request.feature_updates {
        let feature = update.feature.as_str();
        let kind = upgrade_type(ctx.version, update.allow_downgrade, update.upgrade_type);
        let level = update.max_version_level;
        if let Some(message) = refuse(state.controller_id, feature, level, kind, current(&state, feature)) {
            tracing::info!(%message, "UpdateFeatures refused");
            return UpdateFeaturesResponse::default()
                .with_error_code(ResponseError::InvalidUpdateVersion.code())
                .with_error_message(Some(str_bytes(format!(
                    "The update failed for all features since the following feature had an error: {message}"
                ))));
        }
        if feature == TRANSACTION_VERSION {
            new_level = Some(level);
        }
    }
    if !request.validate_only
        && let Some(level) = new_level
        && level != state.config.transactions.version
    {
        tracing::info!(level, "transaction.version finalized");
        state.config.transactions.version = level;
        state.features_epoch += 1;
    }
    let results = if ctx.version <= 1 {
        request
            .feature_updates
            .iter()
            .map(|u| {
                UpdatableFeatureResult::default()
                    .with_feature(u.feature.clone())
                    .with_error_code(0)
                    .with_error_message(Some(str_bytes("NONE")))
            })
            .collect()
    } else {
        Vec::new()
    };
    UpdateFeaturesResponse::default()
        .with_error_message(None)
        .with_results(results)
}

pub(crate) struct UpdateFeatures;

impl Api for UpdateFeatures {
    const KEY: ApiKey = ApiKey::UpdateFeatures;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = UpdateFeaturesRequest;
    type Response = UpdateFeaturesResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(ctx: &Ctx<'_>, request: UpdateFeaturesRequest) -> Reply<UpdateFeaturesResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &UpdateFeaturesRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &UpdateFeaturesRequest, _: i16, code: ResponseError) -> UpdateFeaturesResponse {
        UpdateFeaturesResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut UpdateFeaturesResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &UpdateFeaturesResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
