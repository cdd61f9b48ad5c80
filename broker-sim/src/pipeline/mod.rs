//! What happens to a request between its frame and its answer, as layers that are generic
//! over the API description (`crate::api::Api`):
//!
//! 1. **version gate**: an API broker-sim does not serve, or a version outside its range,
//!    closes the connection; except ApiVersions, which Kafka answers in v0 with the
//!    supported list so the client can pick a version both sides know;
//! 2. **decode** with `kafka-protocol`; a body that does not decode closes the connection;
//! 3. **authorization** (`authorize`): what the API's [`crate::api::Access`] requires,
//!    checked against the ACLs when an authorizer is configured; a refusal is answered
//!    with the API's own error answer, or, for some topics or groups only, through the
//!    API's `refuse` as a fault would be;
//! 4. **fault rules** (`faults`): the rule that fires decides what becomes of the request;
//! 5. **throttle** (`throttle`): a throttle time on the answer and a muted connection,
//!    for a fault rule or a client quota the handler found exceeded (`Ctx::quota`);
//! 6. the API's **handler**, then the answer is encoded;
//! 7. in durable mode, **durability** (`durable`): the answer waits for the fsyncs and the
//!    metadata document the request's changes need;
//! 8. the **request log** (`log`): every decoded request, summarised before the layers
//!    above consume it and recorded with its answer's errors (or as dropped, when the
//!    connection is closed or hangs instead). Requests refused before decoding are not.
//!
//! The connection (`crate::net`) carries the resulting [`Outcome`] out.

mod authorize;
mod durable;
mod faults;
mod log;
mod throttle;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use broker_sim_protocol::header::RequestFrame;
use broker_sim_protocol::splice::{Frame, Splices, encode_response_frame};
use bytes::Bytes;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Decodable;

use crate::api::{self, Api, Ctx, Reply, Visitor};
use crate::error::CloseReason;
use crate::shared::Shared;
pub(crate) use durable::{Documents, persist_metadata};

/// What the connection does with a request once the pipeline is through with it.
pub(crate) enum Outcome {
    Send(Frame),
    /// Send, then read nothing more from the connection for a while (a throttle).
    SendThenPause(Frame, Duration),
    /// Nothing to send (acks=0 produce).
    Silent,
    Close(CloseReason),
    /// Never answer, and answer nothing more on this connection, like a hung broker: the
    /// client's request times out and it closes the connection.
    Hang,
}

/// Where a request came from.
pub(crate) struct Origin<'a> {
    pub broker_id: i32,
    /// The peer's address as Kafka prints it ("/127.0.0.1").
    pub client_host: &'a str,
    /// The request frame's size (header and body).
    pub request_bytes: usize,
    /// The connection's security session, and the principal it has now.
    pub session: &'a crate::sasl::Session,
    pub principal: &'a str,
    /// The connection's number in the request log.
    pub connection: u64,
}

/// Runs one request through every layer.
pub(crate) async fn process(shared: &Shared, origin: Origin<'_>, request: RequestFrame) -> Outcome {
    let RequestFrame {
        api_key,
        header,
        body,
    } = request;
    let version = header.request_api_version;
    let correlation_id = header.correlation_id;
    let Some(supported) = api::supported(api_key) else {
        return Outcome::Close(CloseReason::UnsupportedApi(api_key));
    };
    if !supported.contains(version) {
        if api_key != ApiKey::ApiVersions {
            return Outcome::Close(CloseReason::UnsupportedVersion {
                api: api_key,
                version,
                min: supported.min,
                max: supported.max,
            });
        }
        tracing::debug!("ApiVersions v{version} unsupported: answering in v0");
        let answer = api::api_versions::unsupported_version();
        return encode::<api::api_versions::ApiVersions>(
            0,
            correlation_id,
            Reply::Response(answer),
            Splices::default(),
        );
    }
    let quota_throttle = std::sync::atomic::AtomicI32::new(0);
    let splices = std::sync::Mutex::default();
    let ctx = Ctx {
        shared,
        broker_id: origin.broker_id,
        version,
        client_id: header.client_id.as_deref().unwrap_or_default(),
        client_host: origin.client_host,
        answer_lost: false,
        request_bytes: origin.request_bytes,
        quota_throttle: &quota_throttle,
        splices: &splices,
        session: origin.session,
        principal: origin.principal,
    };
    let serve = Serve {
        ctx: &ctx,
        body,
        arrival: log::Arrival {
            connection: origin.connection,
            correlation_id,
        },
    };
    match api::visit(api_key, serve) {
        Some(outcome) => outcome.await,
        // The gate admits only registered APIs.
        None => Outcome::Close(CloseReason::UnsupportedApi(api_key)),
    }
}

/// The layers after the version gate, for the API the request is of.
struct Serve<'a> {
    ctx: &'a Ctx<'a>,
    body: Bytes,
    arrival: log::Arrival,
}

impl<'a> Visitor for Serve<'a> {
    type Output = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

    fn visit<A: Api>(self) -> Self::Output {
        Box::pin(serve::<A>(self.ctx, self.body, self.arrival))
    }
}

async fn serve<A: Api>(ctx: &Ctx<'_>, mut body: Bytes, arrival: log::Arrival) -> Outcome {
    let v = ctx.version;
    let correlation_id = arrival.correlation_id;
    let request = match A::Request::decode(&mut body, v) {
        Ok(request) => request,
        Err(e) => {
            return Outcome::Close(CloseReason::Malformed {
                api: A::KEY,
                version: v,
                error: e.to_string(),
            });
        }
    };
    let logged = log::Pending::start::<A>(ctx, &request, arrival);
    let durable = durable::Durable::of::<A>(ctx, &request);
    let verdict = authorize::judge::<A>(ctx, &request);
    let mut partial = authorize::apply::<A>(ctx, request, &verdict);
    let served = match partial.rest.take() {
        Some(rest) => faults::serve::<A>(ctx, rest).await,
        None => faults::Served::Reply(Reply::Response(A::Response::default())),
    };
    // What authorization refused goes back into the answer.
    let served = match served {
        faults::Served::Reply(reply) => faults::Served::Reply(partial.complete(reply)),
        faults::Served::Throttled(reply, ms) => {
            faults::Served::Throttled(partial.complete(reply), ms)
        }
        other => other,
    };
    // A client quota's throttle (set by the handler) and a fault's: the longer one.
    let quota = ctx
        .quota_throttle
        .load(std::sync::atomic::Ordering::Relaxed);
    let served = match served {
        faults::Served::Reply(reply) if quota > 0 => faults::Served::Throttled(reply, quota),
        faults::Served::Throttled(reply, ms) => faults::Served::Throttled(reply, ms.max(quota)),
        other => other,
    };
    let (reply, pause) = match served {
        faults::Served::Reply(reply) => (reply, None),
        faults::Served::Throttled(reply, ms) => throttle::apply::<A>(reply, ms).await,
        faults::Served::Close(why) => return dropped(logged, ctx, Outcome::Close(why)),
        faults::Served::Hang => return dropped(logged, ctx, Outcome::Hang),
    };
    if let Some(durable) = durable
        && let Err(why) = durable.kept(ctx.shared).await
    {
        return dropped(logged, ctx, Outcome::Close(why));
    }
    if let Some(logged) = logged {
        logged.answered::<A>(ctx, &reply);
    }
    let splices = std::mem::take(&mut *ctx.splices.lock().unwrap_or_else(|e| e.into_inner()));
    match (encode::<A>(v, correlation_id, reply, splices), pause) {
        (Outcome::Send(bytes), Some(pause)) => Outcome::SendThenPause(bytes, pause),
        (outcome, _) => outcome,
    }
}

/// `outcome`, which answers nothing, after logging the request as dropped.
fn dropped(logged: Option<log::Pending>, ctx: &Ctx<'_>, outcome: Outcome) -> Outcome {
    if let Some(logged) = logged {
        logged.dropped(ctx);
    }
    outcome
}

fn encode<A: Api>(
    version: i16,
    correlation_id: i32,
    reply: Reply<A::Response>,
    splices: Splices,
) -> Outcome {
    match reply {
        Reply::Response(answer) => {
            match encode_response_frame(A::KEY, version, correlation_id, &answer, splices) {
                Ok(frame) => Outcome::Send(frame),
                Err(e) => Outcome::Close(CloseReason::Encode {
                    api: A::KEY,
                    version,
                    error: e.to_string(),
                }),
            }
        }
        Reply::NoResponse => Outcome::Silent,
        Reply::Close(why) => Outcome::Close(why),
    }
}
