//! The request-log layer: a summary of each decoded request is taken before the other
//! layers consume it, and completed with its answer (or its lack of one) once that is
//! ready, then pushed into the ring (`crate::request_log`). Generic over the API
//! description: what a request names comes from `Api::log_names`, Produce's and Fetch's
//! extras from `Api::log_request`, the answer's errors from `Api::log_answer`.
//!
//! A request is logged once the pipeline is done with it; one whose client closed the
//! connection while it waited (a long poll given up), or whose broker stopped meanwhile,
//! never is.
//!
//! Nothing here takes the state lock except what an API's `log_names` needs to name
//! topics a request gives by id; the summary holds names and counts, never payloads.

use std::time::Instant;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;

use crate::api::{self, Api, Ctx, LogDetails, Names, Reply};
use crate::faults::kafka_name;
use crate::request_log::{RequestLogEntry, RequestTopic};

/// An entry is at most this many topics, and its topics this many partitions each, so a
/// hostile request naming millions cannot make the log hold them all.
const MAX_NAMED: usize = 1_000;

/// A request's summary, waiting for its answer.
pub(super) struct Pending {
    entry: RequestLogEntry,
    details: LogDetails,
    decoded: Instant,
}

/// Where the request came from, besides its context.
pub(super) struct Arrival {
    pub connection: u64,
    pub correlation_id: i32,
}

impl Pending {
    /// The summary of `request`, or `None` while logging is off.
    pub fn start<A: Api>(ctx: &Ctx<'_>, request: &A::Request, arrival: Arrival) -> Option<Self> {
        if !ctx.shared.requests.enabled() {
            return None;
        }
        let decoded = Instant::now();
        let names = A::log_names(ctx, request);
        let mut details = LogDetails::default();
        A::log_request(request, &mut details);
        Some(Self::named(ctx, A::KEY, names, details, arrival, decoded))
    }

    /// The summary from what the API said of its request: not generic, so that it is
    /// compiled once rather than once per API.
    fn named(
        ctx: &Ctx<'_>,
        key: ApiKey,
        names: Names,
        details: LogDetails,
        arrival: Arrival,
        decoded: Instant,
    ) -> Self {
        let Names {
            topics,
            groups,
            transactional_ids,
        } = names;
        let entry = RequestLogEntry {
            seq: 0,
            time_ms: ctx.shared.clock.now_ms(),
            broker: ctx.broker_id,
            connection: arrival.connection,
            client_id: ctx.client_id.to_string(),
            api: api::name(key).to_string(),
            api_key: key as i16,
            api_version: ctx.version,
            correlation_id: arrival.correlation_id,
            principal: ctx.principal.to_string(),
            topics: merge_topics(topics.into_iter().map(|t| (t.name, t.partitions))),
            group: groups.first().cloned(),
            groups: dedup(groups),
            transactional_id: transactional_ids.into_iter().next(),
            errors: Vec::new(),
            dropped: false,
            latency_us: 0,
            records: None,
            acks: None,
            max_wait_ms: None,
        };
        Pending {
            entry,
            details,
            decoded,
        }
    }

    /// Records the request with its answer.
    pub fn answered<A: Api>(mut self, ctx: &Ctx<'_>, reply: &Reply<A::Response>) {
        match reply {
            Reply::Response(answer) => {
                self.answer_read(ctx, &mut |details| A::log_answer(answer, details))
            }
            Reply::NoResponse => {}
            Reply::Close(_) => self.entry.dropped = true,
        }
        self.finish(ctx);
    }

    /// Reads an answer into the details with `log_answer`; its placeholders are read
    /// through the request's splices, lent and given back.
    fn answer_read(&mut self, ctx: &Ctx<'_>, log_answer: &mut dyn FnMut(&mut LogDetails)) {
        let lent = || ctx.splices.lock().unwrap_or_else(|e| e.into_inner());
        self.details.splices = std::mem::take(&mut *lent());
        log_answer(&mut self.details);
        *lent() = std::mem::take(&mut self.details.splices);
    }

    /// Records the request as left without an answer: its connection closed or hangs.
    pub fn dropped(mut self, ctx: &Ctx<'_>) {
        self.entry.dropped = true;
        self.finish(ctx);
    }

    fn finish(self, ctx: &Ctx<'_>) {
        let Pending {
            mut entry,
            details,
            decoded,
        } = self;
        entry.latency_us = decoded.elapsed().as_micros().min(u64::MAX as u128) as u64;
        entry.errors = details.errors.into_iter().map(error_name).collect();
        entry.records = details.records;
        entry.acks = details.acks;
        entry.max_wait_ms = details.max_wait_ms;
        ctx.shared.requests.record(entry);
    }
}

/// Kafka's name of `code` ("NOT_LEADER_OR_FOLLOWER"); `UNKNOWN_ERROR_CODE_<n>` for a code
/// Kafka does not define.
fn error_name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        Some(ResponseError::Unknown(_)) | None => format!("UNKNOWN_ERROR_CODE_{code}"),
        Some(error) => kafka_name(error),
    }
}

/// Topics in first-named order, each once with its partitions in first-named order, each
/// once; bounded by [`MAX_NAMED`]. The usual request names one topic or a few: a linear
/// search beats an index until a request names many.
fn merge_topics(named: impl Iterator<Item = (String, Option<Vec<i32>>)>) -> Vec<RequestTopic> {
    let mut out: Vec<RequestTopic> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (topic, partitions) in named {
        let at = if out.len() < 16 {
            out.iter().position(|t| t.topic == topic)
        } else {
            if index.is_empty() {
                index = out
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.topic.clone(), i))
                    .collect();
            }
            index.get(&topic).copied()
        };
        let at = match at {
            Some(at) => at,
            None if out.len() >= MAX_NAMED => continue,
            None => {
                if !index.is_empty() {
                    index.insert(topic.clone(), out.len());
                }
                out.push(RequestTopic {
                    topic,
                    partitions: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[at].partitions.extend(partitions.into_iter().flatten());
    }
    for topic in &mut out {
        if topic.partitions.len() > 1 {
            topic.partitions = dedup(std::mem::take(&mut topic.partitions));
        }
        topic.partitions.truncate(MAX_NAMED);
    }
    out
}

/// `items` each once, at its first place.
fn dedup<T: Ord + Clone>(items: Vec<T>) -> Vec<T> {
    api::dedup_by(items, |i| i.clone(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_merged_in_request_order_with_partitions_once() {
        let named = vec![
            ("b".to_string(), Some(vec![2, 1])),
            ("a".to_string(), None),
            ("b".to_string(), Some(vec![1, 0])),
        ];
        let merged = merge_topics(named.into_iter());
        let shape: Vec<(&str, Vec<i32>)> = merged
            .iter()
            .map(|t| (t.topic.as_str(), t.partitions.clone()))
            .collect();
        assert_eq!(shape, [("b", vec![2, 1, 0]), ("a", vec![])]);
    }

    #[test]
    fn many_topics_are_merged_through_an_index() {
        let named = (0..40)
            .chain(0..40)
            .map(|i| (format!("t{i}"), Some(vec![i])));
        let merged = merge_topics(named);
        assert_eq!(merged.len(), 40);
        assert!(
            merged
                .iter()
                .enumerate()
                .all(|(i, t)| t.topic == format!("t{i}") && t.partitions == [i as i32])
        );
    }

    #[test]
    fn unknown_error_codes_are_named_by_number() {
        assert_eq!(error_name(6), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(error_name(-999), "UNKNOWN_ERROR_CODE_-999");
    }
}
