//! `GET /v1/history`, `GET /v1/checks`, `GET /v1/checks/{name}` and
//! `POST /v1/checks/{exactly_once,handled,sent_order}`: the history checkers
//! (`broker_sim::checks`) for tests in any language. The GETs run the checks that need
//! nothing from the application (all of them, or one by name); the POSTs take the
//! application's part as JSON — the serde forms of [`ExactlyOnce`] and [`Handled`], and
//! for `sent_order` `{"topic": T, "sent": [{"key": K|null, "value": V}, …]}` with UTF-8
//! keys and values. `?schedule=ID` adds to each violation the steps of that schedule
//! (`POST /v1/schedules`) applied around it. The answer is the [`Report`] with `"ok"`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::json;

use super::schedules::Schedules;
use super::{ApiError, ApiResult, Params, blocking, ok, parse_body, parse_number};
use crate::Cluster;
use crate::checks::{self, Check, ExactlyOnce, Handled, Report, Snapshot};

/// How far before a violation schedule steps are shown.
const SCHEDULE_WINDOW_MS: i64 = 60_000;

pub(super) async fn history(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    let history = blocking(&cluster, |c| c.history()).await?;
    ok(json!(history))
}

pub(super) async fn all(
    State(cluster): State<Arc<Cluster>>,
    Extension(schedules): Extension<Arc<Schedules>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let applied = schedule_of(&schedules, query)?;
    let report = blocking(&cluster, |c| checks::all(&Snapshot::of(c))).await?;
    answer(report, applied)
}

pub(super) async fn one(
    State(cluster): State<Arc<Cluster>>,
    Extension(schedules): Extension<Arc<Schedules>>,
    Params(name): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let applied = schedule_of(&schedules, query)?;
    let report = blocking(&cluster, move |c| checks::by_name(&Snapshot::of(c), &name).ok_or(name))
        .await?
        .map_err(|name| {
            ApiError::not_found(format!(
                "no check {name:?} (GET: lost_acks, duplicates, log_order, delivery, coverage, commits; POST: exactly_once, handled, sent_order)"
            ))
        })?;
    answer(report, applied)
}

/// `{"topic": T, "sent": [{"key": K, "value": V}]}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sent {
    topic: String,
    sent: Vec<SentRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SentRecord {
    #[serde(default)]
    key: Option<String>,
    value: String,
}

pub(super) async fn with_input(
    State(cluster): State<Arc<Cluster>>,
    Extension(schedules): Extension<Arc<Schedules>>,
    Params(name): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Bytes,
) -> ApiResult {
    let applied = schedule_of(&schedules, query)?;
    let report = match name.as_str() {
        "exactly_once" => {
            let spec: ExactlyOnce = parse_body(&body, "exactly_once check")?;
            blocking(&cluster, move |c| {
                let s = Snapshot::of(c);
                Report::single(&s, Check::ExactlyOnce, checks::exactly_once(&s, &spec))
            })
            .await?
        }
        "handled" => {
            let spec: Handled = parse_body(&body, "handled check")?;
            blocking(&cluster, move |c| {
                let s = Snapshot::of(c);
                Report::single(&s, Check::Handled, checks::handled(&s, &spec))
            })
            .await?
        }
        "sent_order" => {
            let spec: Sent = parse_body(&body, "sent_order check")?;
            let sent: Vec<_> = spec
                .sent
                .into_iter()
                .map(|r| (r.key.map(Into::into), r.value.into()))
                .collect();
            blocking(&cluster, move |c| {
                let s = Snapshot::of(c);
                Report::single(
                    &s,
                    Check::SentOrder,
                    checks::sent_order(&s, &spec.topic, &sent),
                )
            })
            .await?
        }
        _ => {
            return Err(ApiError::not_found(format!(
                "no check {name:?} takes a body (POST: exactly_once, handled, sent_order)"
            )));
        }
    };
    answer(report, applied)
}

/// The steps of the schedule named by `?schedule=ID`, if any.
fn schedule_of(
    schedules: &Schedules,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<crate::schedule::Applied>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut applied = Vec::new();
    for (name, value) in query {
        if name != "schedule" {
            return Err(ApiError::bad_request(format!(
                "unknown parameter {name:?} (expected schedule)"
            )));
        }
        let id: u64 = parse_number(&value, "schedule id")?;
        applied = schedules
            .applied(id)
            .ok_or_else(|| ApiError::not_found(format!("unknown schedule {id}")))?;
    }
    Ok(applied)
}

fn answer(report: Report, applied: Vec<crate::schedule::Applied>) -> ApiResult {
    let report = report.with_schedule(&applied, SCHEDULE_WINDOW_MS);
    let mut body = json!(report);
    body["ok"] = json!(report.is_ok());
    ok(body)
}
