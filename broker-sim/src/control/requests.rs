//! The request log: `GET /v1/requests` (the requests the brokers answered, oldest first,
//! filtered by the query) and `DELETE /v1/requests` (empties the log, answering
//! `{"cleared": n}`).
//!
//! `?api=Produce&client_id=svc&broker=1&topic=orders&group=g&error=NOT_LEADER_OR_FOLLOWER&since=SEQ&limit=N`
//! are the fields of [`RequestFilter`], every one optional and all of them ANDed; the
//! answer is `{"requests": [entry...], "dropped": n, "last_seq": n}`, each entry the serde
//! form of [`crate::RequestLogEntry`]. API and error names are checked against Kafka's (in
//! any case), so a typo is a 400 rather than an empty list that looks like "never sent".

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use kafka_protocol::ResponseError;
use serde_json::json;

use super::{ApiError, ApiResult, ok, parse_number};
use crate::faults::kafka_name;
use crate::{ApiKey, Cluster, RequestFilter};

pub(super) async fn list(
    State(cluster): State<Arc<Cluster>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut filter = RequestFilter::default();
    for (name, value) in query {
        match name.as_str() {
            "api" => filter.api = Some(api_name(&value)?),
            "client_id" => filter.client_id = Some(value),
            "broker" => {
                let id = parse_number(&value, "broker")?;
                if !cluster.brokers().iter().any(|b| b.id == id) {
                    return Err(ApiError::bad_request(format!("unknown broker {id}")));
                }
                filter.broker = Some(id);
            }
            "topic" => filter.topic = Some(value),
            "group" => filter.group = Some(value),
            "error" => filter.error = Some(error_name(&value)?),
            "since" => filter.since = Some(parse_number(&value, "since")?),
            "limit" => filter.limit = Some(parse_number(&value, "limit")?),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {name:?} (expected api, client_id, broker, topic, group, error, since or limit)"
                )));
            }
        }
    }
    let (requests, status) = cluster.requests_with_status(&filter);
    ok(json!({
        "requests": requests,
        "dropped": status.dropped,
        "last_seq": status.last_seq,
    }))
}

pub(super) async fn clear(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({ "cleared": cluster.clear_requests() }))
}

/// Kafka's spelling of the API called `name` in any case, or a 400.
fn api_name(name: &str) -> Result<String, ApiError> {
    ApiKey::iter()
        .map(|key| format!("{key:?}"))
        .find(|known| known.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown api {name:?}: expected a Kafka API name such as Produce, Fetch or OffsetCommit"
            ))
        })
}

/// Kafka's spelling of the error called `name` in any case, or a 400.
fn error_name(name: &str) -> Result<String, ApiError> {
    let wanted = name.to_ascii_uppercase();
    if wanted
        .strip_prefix("UNKNOWN_ERROR_CODE_")
        .is_some_and(|n| n.parse::<i16>().is_ok())
    {
        return Ok(wanted);
    }
    (-1..=i16::MAX)
        .filter_map(ResponseError::try_from_code)
        .filter(|e| !matches!(e, ResponseError::Unknown(_)))
        .map(kafka_name)
        .find(|known| *known == wanted)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown error {name:?}: expected a Kafka error name such as NOT_LEADER_OR_FOLLOWER"
            ))
        })
}
