//! The fault layer: the first rule that fires for a request decides what becomes of it
//! (see `crate::faults` for the rule language). Generic over the API description: what a
//! request names comes from `Api::names`, refusals from `Api::refuse` (partition-level
//! where the API has partitions), failures after processing from `Api::fail`.
//!
//! With no rules, a request costs one atomic load here.

use std::time::Duration;

use kafka_protocol::messages::ApiKey;

use crate::api::{Api, Ctx, Names, Reply};
use crate::error::CloseReason;
use crate::faults::FaultAction;
use crate::faults::rules::{Fired, Target};

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
    let fired = fire(ctx, A::KEY, &|| A::names(ctx, &request));
    // The context of a request applied for real whose answer the rule then loses; made
    // only for those rules.
    let lost;
    // Before the handler: what of the request it serves, and in which context. The one
    // call of the handler below keeps this function's code small: it is compiled once
    // per API.
    let mut refused = None;
    let mut copy = None;
    let (rest, by) = match &fired {
        None => (Some(request), ctx),
        Some(fired) => match fired.action {
            FaultAction::CloseConnection => return closed(fired, "close_connection"),
            FaultAction::NoResponse => return Served::Hang,
            FaultAction::Error { code } => {
                let refusal = A::refuse(ctx, request, fired, code);
                refused = Some(refusal.finish);
                (refusal.rest, ctx)
            }
            FaultAction::ApplyThenError { .. }
            | FaultAction::ApplyThenNoResponse
            | FaultAction::ApplyThenClose => {
                if matches!(fired.action, FaultAction::ApplyThenError { .. }) {
                    copy = Some(request.clone());
                }
                lost = Ctx {
                    answer_lost: true,
                    ..*ctx
                };
                (Some(request), &lost)
            }
            FaultAction::Latency { .. } | FaultAction::Throttle { .. } => (Some(request), ctx),
        },
    };
    let reply = match rest {
        Some(rest) => A::handle(by, rest).await,
        None => Reply::Response(A::Response::default()),
    };
    let Some(fired) = &fired else {
        return Served::Reply(reply);
    };
    match fired.action {
        FaultAction::Error { .. } => Served::Reply(match refused {
            Some(finish) => finish(reply),
            None => reply,
        }),
        FaultAction::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Served::Reply(reply)
        }
        FaultAction::Throttle { ms } => Served::Throttled(reply, ms),
        FaultAction::ApplyThenError { code } => match &copy {
            Some(copy) => Served::Reply(A::fail(ctx, copy, reply, fired, code)),
            None => Served::Reply(reply),
        },
        FaultAction::ApplyThenClose => closed(fired, "applied, then closed"),
        // CloseConnection and NoResponse returned before the handler.
        FaultAction::ApplyThenNoResponse
        | FaultAction::CloseConnection
        | FaultAction::NoResponse => Served::Hang,
    }
}

/// The rule that fires for a request of `key`, if any, logged. Not generic: compiled once
/// rather than once per API.
fn fire(ctx: &Ctx<'_>, key: ApiKey, names: &dyn Fn() -> Names) -> Option<Fired> {
    if ctx.shared.faults.is_empty() {
        return None;
    }
    let names = names();
    let target = Target {
        api: key,
        broker: ctx.broker_id,
        client_id: ctx.client_id,
        principal: ctx.principal,
        topics: names.topics,
        groups: names.groups,
        transactional_ids: names.transactional_ids,
    };
    let fired = ctx.shared.faults.fire(&target)?;
    tracing::info!(
        rule = fired.id.0,
        action = ?fired.action,
        api = ?key,
        version = ctx.version,
        broker = ctx.broker_id,
        client_id = ctx.client_id,
        principal = ctx.principal,
        "fault rule fired"
    );
    Some(fired)
}

fn closed<R>(fired: &Fired, what: &str) -> Served<R> {
    Served::Close(CloseReason::Fault {
        rule: fired.id.0,
        what: what.to_string(),
    })
}
