//! `POST /v1/schedules`, `GET /v1/schedules/{id}`, `DELETE /v1/schedules/{id}`: a fault
//! schedule (`broker_sim::schedule`, in its JSON form) run server-side against the
//! cluster, each step applied when its cluster time or record count comes, so a test in
//! any language can describe what goes wrong and when, and read back what was applied.
//!
//! Each schedule runs on a thread of its own that polls its [`Runner`] every
//! millisecond until every step is applied or the schedule is deleted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Params, ok, parse_body, parse_number};
use crate::Cluster;
use crate::faults::kafka_name;
use crate::schedule::{Applied, Runner, Schedule, Step};

/// The schedules running or run, by id.
#[derive(Default)]
pub(super) struct Schedules {
    next_id: AtomicU64,
    runners: Mutex<BTreeMap<u64, Arc<Mutex<Runner>>>>,
}

pub(super) async fn start(
    State(cluster): State<Arc<Cluster>>,
    Extension(schedules): Extension<Arc<Schedules>>,
    body: Bytes,
) -> ApiResult {
    let schedule: Schedule = parse_body(&body, "schedule")?;
    let id = schedules.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let runner = Arc::new(Mutex::new(Runner::new(&schedule, &cluster)));
    schedules
        .runners
        .lock()
        .expect("schedules lock")
        .insert(id, runner.clone());
    let registry = schedules.clone();
    std::thread::spawn(move || {
        loop {
            let running = registry
                .runners
                .lock()
                .expect("schedules lock")
                .contains_key(&id);
            let mut r = runner.lock().expect("runner lock");
            if !running || r.done() {
                break;
            }
            r.poll(&cluster);
            drop(r);
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": id, "steps": schedule.steps.len() })),
    )
        .into_response())
}

impl Schedules {
    /// What schedule `id` applied so far, if it exists.
    pub(super) fn applied(&self, id: u64) -> Option<Vec<Applied>> {
        let runner = self
            .runners
            .lock()
            .expect("schedules lock")
            .get(&id)
            .cloned()?;
        let applied = runner.lock().expect("runner lock").applied().to_vec();
        Some(applied)
    }
}

pub(super) async fn status(
    Extension(schedules): Extension<Arc<Schedules>>,
    Params(id): Params<String>,
) -> ApiResult {
    let id: u64 = parse_number(&id, "schedule id")?;
    let runner = schedules
        .runners
        .lock()
        .expect("schedules lock")
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("unknown schedule {id}")))?;
    let r = runner.lock().expect("runner lock");
    ok(json!({
        "id": id,
        "done": r.done(),
        "applied": r.applied().iter().map(applied_json).collect::<Vec<_>>(),
        "pending": r.pending().iter().map(step_json).collect::<Vec<_>>(),
    }))
}

pub(super) async fn stop(
    Extension(schedules): Extension<Arc<Schedules>>,
    Params(id): Params<String>,
) -> ApiResult {
    let id: u64 = parse_number(&id, "schedule id")?;
    schedules
        .runners
        .lock()
        .expect("schedules lock")
        .remove(&id)
        .ok_or_else(|| ApiError::not_found(format!("unknown schedule {id}")))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn step_json(step: &Step) -> Value {
    serde_json::to_value(step).unwrap_or(Value::Null)
}

/// A step with `"outcome": "ok"`, or the cluster's refusal.
fn applied_json(a: &Applied) -> Value {
    let mut v = step_json(&a.step);
    v["at_ms"] = json!(a.at_ms);
    v["outcome"] = match &a.outcome {
        Ok(()) => json!("ok"),
        Err(e) => json!({ "error": e.message, "code": kafka_name(e.code) }),
    };
    v
}
