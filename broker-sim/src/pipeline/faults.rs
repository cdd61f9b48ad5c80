//! The fault layer: the first rule that fires for a request decides what becomes of it
//! (see `crate::faults` for the rule language). Generic over the API description: what a
//! request names comes from `Api::names`, refusals from `Api::refuse` (partition-level
//! where the API has partitions), failures after processing from `Api::fail`.
//!
//! With no rules, a request costs one atomic load here.

use std::time::Duration;

use crate::api::{Api, Ctx, Reply};
use crate::error::CloseReason;
use crate::faults::FaultAction;
use crate::faults::rules::Target;

/// What becomes of a request.
pub(super) enum Served<R> {
    /// Answer as decided (which includes no answer, for acks=0).
    Reply(Reply<R>),
    /// Answer with this throttle time, then mute the connection as long.
    Throttled(Reply<R>, i32),
    /// Close the connection without answering.
    Close(CloseReason),
    /// Never answer, nor anything after it on the connection.
    Hang,
}

pub(super) async fn serve<A: Api>(ctx: &Ctx<'_>, request: A::Request) -> Served<A::Response> {
    if ctx.shared.faults.is_empty() {
        return Served::Reply(A::handle(ctx, request).await);
    }
    let names = A::names(ctx, &request);
    let target = Target {
        api: A::KEY,
        broker: ctx.broker_id,
        client_id: ctx.client_id,
        principal: ctx.principal,
        topics: names.topics,
        groups: names.groups,
        transactional_ids: names.transactional_ids,
    };
    let Some(fired) = ctx.shared.faults.fire(&target) else {
        return Served::Reply(A::handle(ctx, request).await);
    };
    let rule = fired.id.0;
    tracing::info!(
        rule,
        action = ?fired.action,
        api = ?A::KEY,
        version = ctx.version,
        broker = ctx.broker_id,
        client_id = ctx.client_id,
        principal = ctx.principal,
        "fault rule fired"
    );
    let closed = |what: &str| {
        Served::Close(CloseReason::Fault {
            rule,
            what: what.to_string(),
        })
    };
    let lost = Ctx {
        answer_lost: true,
        ..*ctx
    };
    match fired.action.clone() {
        FaultAction::CloseConnection => closed("close_connection"),
        FaultAction::NoResponse => Served::Hang,
        FaultAction::Error { code } => {
            let refusal = A::refuse(ctx, request, &fired, code);
            let reply = match refusal.rest {
                Some(rest) => A::handle(ctx, rest).await,
                None => Reply::Response(A::Response::default()),
            };
            Served::Reply((refusal.finish)(reply))
        }
        FaultAction::Latency { ms } => {
            let reply = A::handle(ctx, request).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Served::Reply(reply)
        }
        FaultAction::Throttle { ms } => Served::Throttled(A::handle(ctx, request).await, ms),
        FaultAction::ApplyThenError { code } => {
            let copy = request.clone();
            let reply = A::handle(&lost, request).await;
            Served::Reply(A::fail(ctx, &copy, reply, &fired, code))
        }
        FaultAction::ApplyThenNoResponse => {
            A::handle(&lost, request).await;
            Served::Hang
        }
        FaultAction::ApplyThenClose => {
            A::handle(&lost, request).await;
            closed("applied, then closed")
        }
    }
}
