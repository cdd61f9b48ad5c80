//! The control API's JSON bodies: a fuzzed body POSTed to one of the endpoints that read
//! one (faults, schedules, checks, records, configs, groups, telemetry, clock...), through
//! the real axum router in process (`tower::ServiceExt::oneshot`, no socket), so the serde
//! types and their validation into the domain types are both fuzzed.
//!
//! The cluster (3 brokers on loopback, manual clock) is started once per 1,000 inputs
//! rather than per input, as starting one binds ports and spawns its thread; after each
//! input the fault rules and any started schedule are removed, so state does not pile up.
//! Fails on a panic and on a 500, which the API keeps for broker bugs.
#![no_main]

use std::cell::RefCell;
use std::sync::Arc;

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use broker_sim::Cluster;
use broker_sim::fuzzing::{START_MS, control_router};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

/// The endpoints that read a JSON body.
const ENDPOINTS: &[&str] = &[
    "/v1/faults",
    "/v1/schedules",
    "/v1/checks/exactly_once",
    "/v1/checks/handled",
    "/v1/checks/sent_order",
    "/v1/topics/t/records",
    "/v1/topics/t/configs",
    "/v1/topics/t/compact",
    "/v1/topics/t/partitions/0/leader",
    "/v1/elect-preferred-leaders",
    "/v1/groups/g/reset-offsets",
    "/v1/telemetry/subscriptions",
    "/v1/clock/advance",
];
const RESTART_EVERY: u32 = 1_000;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    cluster: Arc<Cluster>,
    inputs: u32,
}

thread_local! {
    static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}

fn start() -> Fixture {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("t", 3)
        .manual_clock(START_MS)
        .start()
        .expect("the cluster starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime builds");
    Fixture {
        runtime,
        cluster: Arc::new(cluster),
        inputs: 0,
    }
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    endpoint: u8,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let path = ENDPOINTS[usize::from(input.endpoint) % ENDPOINTS.len()];
    FIXTURE.with(|f| {
        let mut f = f.borrow_mut();
        if f.as_ref().is_none_or(|f| f.inputs >= RESTART_EVERY) {
            *f = None;
            *f = Some(start());
        }
        let f = f.as_mut().expect("started");
        f.inputs += 1;
        let router = control_router(f.cluster.clone());
        f.runtime.block_on(async {
            let (status, body) = call(&router, "POST", path, input.body.to_vec()).await;
            assert_ne!(
                status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "POST {path} answered 500: {}",
                String::from_utf8_lossy(&body)
            );
            if path == "/v1/schedules" && status.is_success() {
                let id = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|id| id.as_u64()));
                if let Some(id) = id {
                    call(
                        &router,
                        "DELETE",
                        &format!("/v1/schedules/{id}"),
                        Vec::new(),
                    )
                    .await;
                }
            }
            call(&router, "DELETE", "/v1/faults", Vec::new()).await;
        });
    });
});

async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a request builds");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (status, bytes)
}
