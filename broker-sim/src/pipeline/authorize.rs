//! The authorization layer: what each API requires ([`Access`], declared in the API's
//! file) checked against the cluster's ACLs (`state::acls`) for the request's principal,
//! in Kafka's order — cluster, transactional id, groups, topics.
//!
//! A refusal of the whole request is the API's own error answer (`Api::error_response`,
//! Kafka's `getErrorResponse`). A partial one — some groups of a request naming several,
//! some topics — goes through `Api::refuse`, the same per-API code the fault layer uses:
//! the refused items are taken out before the handler runs and put back into its answer
//! with the error code. Kafka decides in the same way before serving the rest.
//!
//! With no authorizer configured nothing is checked, and a request costs one flag read.

use std::collections::BTreeSet;

use kafka_protocol::ResponseError;

use crate::api::{Access, Api, Ctx, Finish, Names, Reply, Select};
use crate::error::{CloseReason, KafkaError};
use crate::state::acls::ResourceType;

/// What the requester may not do, judged before the request is served.
#[derive(Default)]
pub(super) struct Verdict {
    /// The whole request is refused with this code.
    whole: Option<ResponseError>,
    groups: Groups,
    topics: Topics,
}

/// What is left to serve once the refusals are planned, and how to complete the answer.
pub(super) struct Partial<'a, A: Api> {
    pub rest: Option<A::Request>,
    /// Applied to the handler's reply in order.
    pub finish: Vec<Finish<'a, A::Response>>,
}

impl<A: Api> Partial<'_, A> {
    pub fn complete(self, reply: Reply<A::Response>) -> Reply<A::Response> {
        self.finish.into_iter().fold(reply, |reply, f| f(reply))
    }
}

/// Judges the request against the ACLs.
pub(super) fn judge<A: Api>(ctx: &Ctx<'_>, request: &A::Request) -> Verdict {
    judge_access(ctx, &A::ACCESS, &|| A::names(ctx, request))
}

/// [`judge`] once the API has said what it requires and how to name what the request is
/// about: not generic, so that it is compiled once rather than once per API.
fn judge_access(ctx: &Ctx<'_>, access: &Access, names: &dyn Fn() -> Names) -> Verdict {
    if !ctx.shared.authorizer_enabled {
        return Verdict::default();
    }
    // `names` may read the state (topic ids), so it runs before the lock is taken.
    let needs_names =
        access.transactional_id.is_some() || access.group.is_some() || access.topic.is_some();
    let names = if needs_names {
        names()
    } else {
        Names::default()
    };
    let state = ctx.shared.read();
    if let Some(op) = access.cluster
        && !ctx.allowed_on_cluster(&state, op)
    {
        return Verdict {
            whole: Some(ResponseError::ClusterAuthorizationFailed),
            ..Verdict::default()
        };
    }
    if let Some(op) = access.transactional_id
        && names
            .transactional_ids
            .iter()
            .any(|id| !ctx.allowed(&state, ResourceType::TransactionalId, id, op))
    {
        return Verdict {
            whole: Some(ResponseError::TransactionalIdAuthorizationFailed),
            ..Verdict::default()
        };
    }
    let mut verdict = Verdict::default();
    if let Some(op) = access.group {
        verdict.groups.0 = names
            .groups
            .iter()
            .filter(|g| !ctx.allowed(&state, ResourceType::Group, g, op))
            .cloned()
            .collect();
    }
    if let Some(op) = access.topic {
        // A topic named by an unknown id has no name: the handler answers it
        // UNKNOWN_TOPIC_ID, as Kafka does before it authorizes.
        verdict.topics.0 = names
            .topics
            .iter()
            .filter(|t| !t.name.is_empty())
            .filter(|t| !ctx.allowed(&state, ResourceType::Topic, &t.name, op))
            .map(|t| t.name.clone())
            .collect();
    }
    verdict
}

/// Plans the refusals of `verdict`: the request's whole error answer, or what is left to
/// serve and how to put the refused items back.
pub(super) fn apply<'a, A: Api>(
    ctx: &'a Ctx<'_>,
    request: A::Request,
    verdict: &'a Verdict,
) -> Partial<'a, A> {
    if let Some(code) = verdict.whole {
        let answer = A::error_response(&request, ctx.version, code);
        return Partial {
            rest: None,
            finish: vec![Box::new(move |_| Reply::Response(answer))],
        };
    }
    let mut partial = Partial {
        rest: Some(request),
        finish: Vec::new(),
    };
    let steps: [(&dyn Select, bool, ResponseError); 2] = [
        (
            &verdict.groups,
            !verdict.groups.0.is_empty(),
            ResponseError::GroupAuthorizationFailed,
        ),
        (
            &verdict.topics,
            !verdict.topics.0.is_empty(),
            ResponseError::TopicAuthorizationFailed,
        ),
    ];
    for (selection, any, code) in steps {
        if !any {
            continue;
        }
        let Some(request) = partial.rest.take() else {
            break;
        };
        let refusal = A::refuse(ctx, request, selection, code);
        partial.rest = refusal.rest;
        // The inner refusal's answer is completed first: insert before the outer one.
        partial.finish.insert(0, refusal.finish);
        if partial.rest.is_none() {
            break;
        }
    }
    partial
}

/// Groups the requester may not touch: each refused whole.
#[derive(Default)]
struct Groups(BTreeSet<String>);

impl Select for Groups {
    fn whole_request(&self) -> bool {
        true
    }
    fn selects_partition(&self) -> bool {
        false
    }
    fn covers(&self, group: Option<&str>, _: &str, _: i32) -> bool {
        self.covers_group(group)
    }
    fn covers_topic(&self, group: Option<&str>, _: &str) -> bool {
        self.covers_group(group)
    }
    fn covers_group(&self, group: Option<&str>) -> bool {
        group.is_none_or(|g| self.0.contains(g))
    }
    fn refused(&self, what: String) -> CloseReason {
        unauthorized(ResponseError::GroupAuthorizationFailed, what)
    }
}

/// Topics the requester may not touch: all their partitions refused.
#[derive(Default)]
struct Topics(BTreeSet<String>);

impl Select for Topics {
    fn whole_request(&self) -> bool {
        false
    }
    fn selects_partition(&self) -> bool {
        false
    }
    fn covers(&self, group: Option<&str>, topic: &str, _: i32) -> bool {
        self.covers_topic(group, topic)
    }
    fn covers_topic(&self, _: Option<&str>, topic: &str) -> bool {
        self.0.contains(topic)
    }
    fn covers_group(&self, _: Option<&str>) -> bool {
        true
    }
    fn refused(&self, what: String) -> CloseReason {
        unauthorized(ResponseError::TopicAuthorizationFailed, what)
    }
}

/// An acks=0 produce refused: Kafka closes the connection, its only way to tell.
fn unauthorized(code: ResponseError, what: String) -> CloseReason {
    CloseReason::AcksZeroFailed(KafkaError::new(code, what))
}
