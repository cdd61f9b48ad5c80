//! The toolkit of APIs whose requests list topics and partitions (Produce, Fetch,
//! ListOffsets, OffsetCommit, OffsetFetch, DeleteRecords, OffsetForLeaderEpoch): reading
//! request and answer entries generically, so each API's file can refuse some partitions
//! and serve the rest in a few lines.
//!
//! A refusal takes the selected partitions out of the request ([`strip`]) before the
//! handler sees it, so nothing happens to them, and puts an error entry back for each into
//! the handler's answer in the request's order ([`merge`]), as Kafka builds one answer from
//! per-partition results. A failure after processing rewrites the answer's entries in
//! place ([`overwrite`]). An API's file declares its entry types with [`indexed!`] and
//! [`topic!`].

use kafka_protocol::ResponseError;
use kafka_protocol::messages::TopicName;
use uuid::Uuid;

use super::Select;
use super::{Api, Ctx, Refusal, Reply};

/// Takes the partitions `rule` selects out of a request's `topics`.
pub(crate) fn strip_selected<T: Topic>(
    ctx: &Ctx<'_>,
    topics: &mut Vec<T>,
    rule: &dyn Select,
) -> Plan {
    strip(
        topics,
        |key| ctx.topic_name(&key.name, &key.id),
        |name, p| rule.covers(None, name, p),
    )
}

/// The refusal of an API whose partitions sit in one list of topics in both request and
/// answer: the selected partitions are taken out, the rest is served (nothing, if nothing
/// is left), and `error(index, code)` entries are put back in request order.
pub(crate) fn refuse<'a, A, T, U>(
    ctx: &'a Ctx<'_>,
    request: A::Request,
    rule: &'a dyn Select,
    code: ResponseError,
    request_topics: fn(&mut A::Request) -> &mut Vec<T>,
    answer_topics: fn(&mut A::Response) -> &mut Vec<U>,
    error: fn(i32, i16) -> U::Partition,
) -> Refusal<'a, A>
where
    A: Api + ?Sized,
    T: Topic,
    U: AnswerTopic + Send + 'a,
{
    let mut request = request;
    let plan = strip_selected(ctx, request_topics(&mut request), rule);
    let rest = plan.has_rest().then_some(request);
    let c = code.code();
    Refusal {
        rest,
        finish: Box::new(move |reply| {
            edit(reply, |answer| {
                let topics = answer_topics(answer);
                *topics = merge(&plan, std::mem::take(topics), |i| error(i, c));
            })
        }),
    }
}

/// The whole request answered with `code` on every partition it names, in its order.
pub(crate) fn refuse_all<A, T, U>(
    request: &A::Request,
    request_topics: fn(&mut A::Request) -> &mut Vec<T>,
    answer_topics: fn(&mut A::Response) -> &mut Vec<U>,
    error: fn(i32, i16) -> U::Partition,
    code: ResponseError,
) -> A::Response
where
    A: Api + ?Sized,
    T: Topic,
    U: AnswerTopic,
{
    let mut request = request.clone();
    let plan = strip(
        request_topics(&mut request),
        |k| k.name.to_string(),
        |_, _| true,
    );
    let mut answer = A::Response::default();
    *answer_topics(&mut answer) = merge(&plan, Vec::new(), |i| error(i, code.code()));
    answer
}

/// The `apply_then_error` rewrite of such an API: the selected partitions' answers carry
/// `code`.
pub(crate) fn fail<R, U>(
    ctx: &Ctx<'_>,
    reply: Reply<R>,
    rule: &dyn Select,
    code: ResponseError,
    answer_topics: fn(&mut R) -> &mut Vec<U>,
    error: fn(i32, i16) -> U::Partition,
) -> Reply<R>
where
    U: Topic,
{
    let c = code.code();
    edit(reply, |answer| {
        overwrite(
            answer_topics(answer),
            |key| ctx.topic_name(&key.name, &key.id),
            |name, p| rule.covers(None, name, p),
            |i| error(i, c),
        )
    })
}

/// Applies `f` to the answer, if there is one.
pub(crate) fn edit<R>(mut reply: Reply<R>, f: impl FnOnce(&mut R)) -> Reply<R> {
    if let Reply::Response(answer) = &mut reply {
        f(answer);
    }
    reply
}

/// Takes the first entry of `items` that satisfies `pick`.
pub(crate) fn take_first<T>(items: &mut [Option<T>], pick: impl Fn(&T) -> bool) -> Option<T> {
    items
        .iter_mut()
        .find(|slot| slot.as_ref().is_some_and(&pick))
        .and_then(Option::take)
}

// Topics and partitions of requests and answers, generically.

/// How a request or answer names a topic: by name, or (name empty) by id. A handler's
/// answer names each topic exactly as the request did, which is what pairs them up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub name: TopicName,
    pub id: Uuid,
}

/// A topic entry with partitions, in a request or an answer.
pub(crate) trait Topic {
    type Partition: Indexed;
    fn key(&self) -> Key;
    fn partitions(&mut self) -> &mut Vec<Self::Partition>;
}

/// A topic entry of an answer, which can be made for a topic the handler never saw.
pub(crate) trait AnswerTopic: Topic + Clone {
    fn for_key(key: &Key) -> Self;
}

/// A partition entry: its index.
pub(crate) trait Indexed {
    fn index(&self) -> i32;
}

impl Indexed for i32 {
    fn index(&self) -> i32 {
        *self
    }
}

macro_rules! indexed {
    ($($ty:ty: $field:ident),* $(,)?) => {
        $(impl $crate::api::partitioned::Indexed for $ty {
            fn index(&self) -> i32 {
                self.$field
            }
        })*
    };
}

/// `topic!(Type, name_field, id_field or -, partitions_field: PartitionType)`; answer
/// types also get [`AnswerTopic`].
macro_rules! topic {
    ($ty:ty, $name:ident, $id:tt, $parts:ident: $part:ty) => {
        impl $crate::api::partitioned::Topic for $ty {
            type Partition = $part;
            fn key(&self) -> $crate::api::partitioned::Key {
                $crate::api::partitioned::Key {
                    name: self.$name.clone(),
                    id: $crate::api::partitioned::topic!(@id self, $id),
                }
            }
            fn partitions(&mut self) -> &mut Vec<$part> {
                &mut self.$parts
            }
        }
    };
    (answer $ty:ty, $name:ident, $id:tt, $parts:ident: $part:ty) => {
        $crate::api::partitioned::topic!($ty, $name, $id, $parts: $part);
        impl $crate::api::partitioned::AnswerTopic for $ty {
            fn for_key(key: &$crate::api::partitioned::Key) -> Self {
                let mut topic = <$ty>::default();
                topic.$name = key.name.clone();
                $crate::api::partitioned::topic!(@set_id topic, $id, key);
                topic
            }
        }
    };
    (@id $self:ident, -) => {
        ::uuid::Uuid::nil()
    };
    (@id $self:ident, $id:ident) => {
        $self.$id
    };
    (@set_id $topic:ident, -, $key:ident) => {};
    (@set_id $topic:ident, $id:ident, $key:ident) => {
        $topic.$id = $key.id
    };
}

/// `Api::error_response`, `refuse` and `fail` for an API whose partitions sit in one list
/// of topics in both request and answer (`request: field, answer: field`), with
/// `entry(index, code)` building a refused partition's answer. Used inside `impl Api`.
macro_rules! by_partition {
    (request: $request:ident, answer: $answer:ident, entry: $entry:ident) => {
        fn error_response(
            request: &Self::Request,
            _version: i16,
            code: ::kafka_protocol::ResponseError,
        ) -> Self::Response {
            $crate::api::partitioned::refuse_all::<Self, _, _>(
                request,
                |r| &mut r.$request,
                |a| &mut a.$answer,
                $entry,
                code,
            )
        }

        fn refuse<'a>(
            ctx: &'a $crate::api::Ctx<'_>,
            request: Self::Request,
            rule: &'a dyn $crate::api::Select,
            code: ::kafka_protocol::ResponseError,
        ) -> $crate::api::Refusal<'a, Self> {
            $crate::api::partitioned::refuse::<Self, _, _>(
                ctx,
                request,
                rule,
                code,
                |r| &mut r.$request,
                |a| &mut a.$answer,
                $entry,
            )
        }

        fn fail(
            ctx: &$crate::api::Ctx<'_>,
            _request: &Self::Request,
            reply: $crate::api::Reply<Self::Response>,
            rule: &dyn $crate::api::Select,
            code: ::kafka_protocol::ResponseError,
        ) -> $crate::api::Reply<Self::Response> {
            $crate::api::partitioned::fail(ctx, reply, rule, code, |a| &mut a.$answer, $entry)
        }
    };
}

pub(crate) use {by_partition, indexed, topic};

/// Which of a request's partitions were refused, in the request's order.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub topics: Vec<Planned>,
}

#[derive(Debug)]
pub(crate) struct Planned {
    pub key: Key,
    /// Whether the topic stayed in the request (some partition, or it named none).
    pub sent: bool,
    /// Each partition named, and whether it was refused.
    pub partitions: Vec<(i32, bool)>,
}

impl Plan {
    pub fn refused_any(&self) -> bool {
        self.topics
            .iter()
            .any(|t| t.partitions.iter().any(|(_, refused)| *refused))
    }

    /// Whether anything is left for the handler.
    pub fn has_rest(&self) -> bool {
        self.topics.iter().any(|t| t.sent)
    }
}

/// Takes the partitions `refuse` picks (by topic name and partition) out of a request's
/// topics, dropping topics left without partitions, and says what was taken.
pub(crate) fn strip<T: Topic>(
    topics: &mut Vec<T>,
    name_of: impl Fn(&Key) -> String,
    refuse: impl Fn(&str, i32) -> bool,
) -> Plan {
    let mut planned = Vec::with_capacity(topics.len());
    topics.retain_mut(|t| {
        let key = t.key();
        let name = name_of(&key);
        let parts = t.partitions();
        let named_any = !parts.is_empty();
        let mut partitions = Vec::with_capacity(parts.len());
        parts.retain(|p| {
            let refused = refuse(&name, p.index());
            partitions.push((p.index(), refused));
            !refused
        });
        let sent = !named_any || !parts.is_empty();
        planned.push(Planned {
            key,
            sent,
            partitions,
        });
        sent
    });
    Plan { topics: planned }
}

/// One topic of a handler's answer, taken apart for [`merge`]: its entry without
/// partitions, and the partitions not yet placed.
struct Pooled<T: Topic> {
    key: Key,
    template: T,
    partitions: Vec<Option<T::Partition>>,
}

/// The handler's answer to what was left of a request, with `refused` entries for what
/// was taken out, in the request's order. Answers are paired with the request by topic
/// key and partition index; anything the handler answered beyond that is kept at the end
/// rather than lost.
pub(crate) fn merge<T: AnswerTopic>(
    plan: &Plan,
    answered: Vec<T>,
    refused: impl Fn(i32) -> T::Partition,
) -> Vec<T> {
    let mut pool: Vec<Pooled<T>> = Vec::new();
    for mut template in answered {
        let key = template.key();
        let partitions = std::mem::take(template.partitions()).into_iter().map(Some);
        match pool.iter_mut().find(|p| p.key == key) {
            Some(pooled) => pooled.partitions.extend(partitions),
            None => pool.push(Pooled {
                key,
                template,
                partitions: partitions.collect(),
            }),
        }
    }
    let mut merged = Vec::with_capacity(plan.topics.len());
    for planned in &plan.topics {
        let mut pooled = pool.iter_mut().find(|p| p.key == planned.key);
        let mut topic = match &pooled {
            Some(p) => p.template.clone(),
            None => T::for_key(&planned.key),
        };
        for &(index, was_refused) in &planned.partitions {
            if was_refused {
                topic.partitions().push(refused(index));
            } else if let Some(p) = pooled.as_mut()
                && let Some(answer) = take_first(&mut p.partitions, |a| a.index() == index)
            {
                topic.partitions().push(answer);
            }
        }
        merged.push(topic);
    }
    for Pooled {
        mut template,
        partitions,
        ..
    } in pool
    {
        let rest: Vec<_> = partitions.into_iter().flatten().collect();
        if !rest.is_empty() {
            *template.partitions() = rest;
            merged.push(template);
        }
    }
    merged
}

/// Replaces the answers of the partitions `refuse` picks with `refused` entries.
pub(crate) fn overwrite<T: Topic>(
    topics: &mut [T],
    name_of: impl Fn(&Key) -> String,
    refuse: impl Fn(&str, i32) -> bool,
    refused: impl Fn(i32) -> T::Partition,
) {
    for t in topics {
        let name = name_of(&t.key());
        for p in t.partitions().iter_mut() {
            if refuse(&name, p.index()) {
                *p = refused(p.index());
            }
        }
    }
}
