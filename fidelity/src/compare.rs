//! Turning answers into comparable text, and comparing it.
//!
//! An answer is printed with `kafka-protocol`'s `Debug` (one field a line), after two
//! explicit steps, each listed here with its reason and nothing else hidden:
//! - **scope**: listings of the whole cluster (Metadata for all topics, ListGroups) keep
//!   only the scenario's own names, because the reference Kafka is shared by every
//!   scenario of a run (and has its internal topics) while broker-sim is fresh; and
//!   Metadata's topics and partitions (and ListGroups' groups, and DescribeConfigs' broker
//!   configs) are put in name and index order, because Kafka
//!   lists them in the order of its internal hash maps and clients key them by name and
//!   index; and ApiVersions drops the APIs listed as not served (`broker_sim::NOT_SERVED`)
//!   and as served beyond a default Kafka (`broker_sim::BEYOND_DEFAULT_KAFKA`), each with
//!   its reason in the README, so that every other key and version range is compared
//!   exactly; ListTransactions
//!   keeps only the scenario's transactional ids; AddPartitionsToTxn's topics and
//!   partitions, ListTransactions' ids, DescribeTransactions' topics, WriteTxnMarkers'
//!   partitions, AlterReplicaLogDirs' results, the SCRAM APIs' users and the client-quota
//!   APIs' entities, and DescribeAcls' and DeleteAcls' bindings are put in order
//!   (describing every user keeps the scenario's users,
//!   describing quotas by type keeps the scenario's entities),
//!   because Kafka lists them in its hash maps' order;
//! - **clock**: times a broker reads from its own clock (a transaction's start time, a
//!   producer's last timestamp) are compared as set (0) or not (-1), and the broker-made
//!   control batches in Fetch answers have their timestamps (and so their CRC) zeroed;
//!   the producer id inside fetched batches is zeroed too, as the `producer_id` field is
//!   normalised below; DescribeQuorum's epoch, high watermark, log end offsets and fetch
//!   times are zeroed (broker-sim has no metadata log: it counts metadata changes);
//! - **normalise**: the values of the fields in [`NORMALISED`] are replaced by a
//!   placeholder, and the clock-derived bounds in Produce's invalid-timestamp messages
//!   are hidden.

use kafka_protocol::messages::ResponseKind;

use crate::wire::Outcome;

/// Fields whose values differ between any two clusters, and why.
pub const NORMALISED: &[(&str, &str)] = &[
    (
        "cluster_id",
        "each cluster draws a random id when it is formatted",
    ),
    (
        "topic_id",
        "each topic gets a random UUID when it is created",
    ),
    ("port", "the two clusters listen on different ports"),
    (
        "log_dir",
        "DescribeLogDirs names each cluster's own directory (broker-sim: /var/lib/broker-sim/broker-<id>)",
    ),
    (
        "total_bytes",
        "DescribeLogDirs v4 reports the disk under Kafka's log directory; broker-sim holds its logs in memory and reports the bytes it holds",
    ),
    (
        "usable_bytes",
        "DescribeLogDirs v4 reports the free space of Kafka's disk; broker-sim reports i64::MAX",
    ),
    (
        "producer_id",
        "producer ids are handed out in order, and one Kafka serves every scenario of a run",
    ),
];

/// Fields holding a generated member id (the client id, a dash and a random UUID): the
/// UUID is replaced, the rest compared.
pub const MEMBER_IDS: &[&str] = &["member_id", "leader"];

/// `text` with the bounds of Kafka's timestamp check ("The timestamp should be within
/// [now − before, now + after]") hidden: each cluster computes them from its own clock.
fn without_clock_bounds(text: &str) -> String {
    const CHECK: &str = "The timestamp should be within [";
    match text.find(CHECK) {
        Some(at) => {
            let start = at + CHECK.len();
            match text[start..].find(']') {
                Some(len) => format!("{}<clock bounds>{}", &text[..start], &text[start + len..]),
                None => text.to_string(),
            }
        }
        None => text.to_string(),
    }
}

/// `text` with every UUID (8-4-4-4-12 hex digits), and every quoted 22-character
/// URL-safe base64 string (a UUID as Kafka's `Uuid.toString` writes it: the member ids a
/// coordinator gives ConsumerGroupHeartbeat v0 members), replaced by `<uuid>`.
fn without_uuids(text: &str) -> String {
    without_hex_uuids(&without_base64_uuids(text))
}

fn without_base64_uuids(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..=start]);
        rest = &rest[start + 1..];
        let Some(end) = rest.find('"') else {
            break;
        };
        let inner = &rest[..end];
        if inner.len() == 22 && inner.chars().all(is_b64) {
            out.push_str("<uuid>");
        } else {
            out.push_str(inner);
        }
        out.push('"');
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn without_hex_uuids(text: &str) -> String {
    let bytes = text.as_bytes();
    let shape = [8, 4, 4, 4, 12];
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < bytes.len() {
        let mut j = i;
        for (k, len) in shape.iter().enumerate() {
            if j + len > bytes.len() || !bytes[j..j + len].iter().all(u8::is_ascii_hexdigit) {
                out.push(bytes[i] as char);
                i += 1;
                continue 'scan;
            }
            j += len;
            if k < 4 {
                if bytes.get(j) != Some(&b'-') {
                    out.push(bytes[i] as char);
                    i += 1;
                    continue 'scan;
                }
                j += 1;
            }
        }
        out.push_str("<uuid>");
        i = j;
    }
    out
}

/// Keeps only the scenario's own entries in cluster-wide listings.
pub fn scope(answer: &mut ResponseKind, prefix: &str) {
    match answer {
        ResponseKind::Metadata(m) => {
            m.topics.retain(|t| match &t.name {
                Some(n) => n.starts_with(prefix),
                // A topic asked for by id has no name in an error answer.
                None => true,
            });
            m.topics.sort_by(|a, b| a.name.cmp(&b.name));
            for t in &mut m.topics {
                t.partitions.sort_by_key(|p| p.partition_index);
            }
        }
        // Kafka lists a broker's configs from a hash map (a topic's come sorted).
        ResponseKind::DescribeConfigs(d) => {
            for r in &mut d.results {
                if r.resource_type == 4 {
                    r.configs.sort_by(|x, y| x.name.cmp(&y.name));
                }
            }
        }
        // Kafka lists groups from hash maps too.
        ResponseKind::ListGroups(l) => {
            l.groups.retain(|g| g.group_id.starts_with(prefix));
            l.groups.sort_by(|x, y| x.group_id.cmp(&y.group_id));
        }
        // Kafka lists a log directory's replicas from hash maps.
        ResponseKind::DescribeLogDirs(d) => {
            for dir in &mut d.results {
                dir.topics.sort_by(|x, y| x.name.cmp(&y.name));
                for t in &mut dir.topics {
                    t.partitions.sort_by_key(|p| p.partition_index);
                }
            }
        }
        // Kafka answers from hash maps of users and mechanisms, and lists every user of
        // the cluster when none is named; clients key the results by user.
        ResponseKind::DescribeUserScramCredentials(d) => {
            d.results.retain(|r| r.user.starts_with(prefix));
            d.results.sort_by(|x, y| x.user.cmp(&y.user));
            for r in &mut d.results {
                r.credential_infos.sort_by_key(|c| c.mechanism);
            }
        }
        ResponseKind::AlterUserScramCredentials(a) => a.results.sort_by(|x, y| x.user.cmp(&y.user)),
        // broker-sim has no metadata log: its quorum's epoch and offsets count changes,
        // and its voters' fetch times are the cluster clock's.
        ResponseKind::DescribeQuorum(d) => {
            for p in d.topics.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
                if p.error_code == 0 {
                    p.leader_epoch = 0;
                    p.high_watermark = 0;
                }
                for r in p.current_voters.iter_mut().chain(p.observers.iter_mut()) {
                    r.log_end_offset = 0;
                    r.last_fetch_timestamp = r.last_fetch_timestamp.min(0);
                    r.last_caught_up_timestamp = r.last_caught_up_timestamp.min(0);
                }
            }
        }
        // Kafka answers from hash maps of entities and quota keys, and a filter of any
        // name lists every entity of the cluster; clients key the answer by entity.
        ResponseKind::DescribeClientQuotas(d) => {
            if let Some(entries) = &mut d.entries {
                entries.retain(|e| {
                    e.entity
                        .iter()
                        .all(|x| x.entity_name.as_ref().is_none_or(|n| n.starts_with(prefix)))
                });
                for e in entries.iter_mut() {
                    e.entity.sort_by(|x, y| x.entity_type.cmp(&y.entity_type));
                    e.values.sort_by(|x, y| x.key.cmp(&y.key));
                }
                entries.sort_by_key(|e| format!("{:?}", e.entity));
            }
        }
        ResponseKind::AlterClientQuotas(a) => {
            for e in &mut a.entries {
                e.entity.sort_by(|x, y| x.entity_type.cmp(&y.entity_type));
            }
            a.entries.sort_by_key(|e| format!("{:?}", e.entity));
        }
        // Kafka groups its answer from a hash map of partitions; clients key it by name.
        ResponseKind::AlterReplicaLogDirs(a) => {
            a.results.sort_by(|x, y| x.topic_name.cmp(&y.topic_name));
            for t in &mut a.results {
                t.partitions.sort_by_key(|p| p.partition_index);
            }
        }
        // An election over every partition answers for every topic of the cluster, in
        // the order of Kafka's hash maps.
        ResponseKind::ElectLeaders(e) => {
            e.replica_election_results
                .retain(|t| t.topic.starts_with(prefix));
            e.replica_election_results
                .sort_by(|x, y| x.topic.cmp(&y.topic));
            for t in &mut e.replica_election_results {
                t.partition_result.sort_by_key(|p| p.partition_id);
            }
        }
        // Kafka keeps ACLs in a hash map by id: their listings come in its order.
        ResponseKind::DescribeAcls(d) => {
            let key =
                |r: &kafka_protocol::messages::describe_acls_response::DescribeAclsResource| {
                    (r.resource_type, r.resource_name.to_string(), r.pattern_type)
                };
            d.resources.sort_by_key(key);
            for r in &mut d.resources {
                r.acls.sort_by_key(|a| {
                    (
                        a.principal.to_string(),
                        a.host.to_string(),
                        a.operation,
                        a.permission_type,
                    )
                });
            }
        }
        ResponseKind::DeleteAcls(d) => {
            for f in &mut d.filter_results {
                f.matching_acls.sort_by_key(|a| {
                    (
                        a.resource_type,
                        a.resource_name.to_string(),
                        a.pattern_type,
                        a.principal.to_string(),
                        a.host.to_string(),
                        a.operation,
                        a.permission_type,
                    )
                });
            }
        }
        // Kafka answers from a hash map of partitions; clients key the results by name.
        ResponseKind::AddPartitionsToTxn(a) => {
            a.results_by_topic_v3_and_below
                .sort_by(|x, y| x.name.cmp(&y.name));
            for t in &mut a.results_by_transaction {
                t.topic_results.sort_by(|x, y| x.name.cmp(&y.name));
            }
            let topics = a.results_by_topic_v3_and_below.iter_mut().chain(
                a.results_by_transaction
                    .iter_mut()
                    .flat_map(|t| &mut t.topic_results),
            );
            for t in topics {
                t.results_by_partition.sort_by_key(|p| p.partition_index);
            }
        }
        ResponseKind::ListTransactions(l) => {
            l.transaction_states
                .retain(|t| t.transactional_id.starts_with(prefix));
            l.transaction_states
                .sort_by(|x, y| x.transactional_id.cmp(&y.transactional_id));
        }
        ResponseKind::WriteTxnMarkers(w) => {
            for t in w.markers.iter_mut().flat_map(|m| m.topics.iter_mut()) {
                t.partitions.sort_by_key(|p| p.partition_index);
            }
        }
        ResponseKind::DescribeTransactions(d) => {
            for t in &mut d.transaction_states {
                t.transaction_start_time_ms = t.transaction_start_time_ms.min(0);
                t.topics.sort_by(|x, y| x.topic.cmp(&y.topic));
            }
        }
        ResponseKind::DescribeProducers(d) => {
            for p in d.topics.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
                for producer in &mut p.active_producers {
                    producer.last_timestamp = producer.last_timestamp.min(0);
                }
            }
        }
        ResponseKind::Fetch(f) => {
            for p in f.responses.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
                if let Some(records) = &mut p.records {
                    *records = without_clock(records);
                }
            }
        }
        // The APIs listed as not served (with their reasons) are dropped; any other API
        // Kafka advertises and broker-sim does not shows as a difference.
        // and so are the ones broker-sim serves beyond a default Kafka (each listed with
        // its reason too).
        ResponseKind::ApiVersions(a) => a.api_keys.retain(|k| {
            !broker_sim::NOT_SERVED
                .iter()
                .chain(broker_sim::BEYOND_DEFAULT_KAFKA)
                .any(|(key, _)| *key as i16 == k.api_key)
        }),
        _ => {}
    }
}

/// Fetched batches with their producer id zeroed, and control batches (which the broker
/// writes at its own time) with their timestamps zeroed; a batch changed so has its CRC
/// zeroed too.
fn without_clock(records: &bytes::Bytes) -> bytes::Bytes {
    const PRODUCER_ID_AT: usize = 43;
    let mut out = bytes::BytesMut::from(&records[..]);
    let mut at = 0;
    while at + 61 <= out.len() {
        let len = i32::from_be_bytes(out[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        let end = at + 12 + len;
        if len < 49 || end > out.len() {
            break;
        }
        let attributes = i16::from_be_bytes(out[at + 21..at + 23].try_into().expect("2 bytes"));
        let producer = at + PRODUCER_ID_AT..at + PRODUCER_ID_AT + 8;
        let mut changed = false;
        if i64::from_be_bytes(out[producer.clone()].try_into().expect("8 bytes")) >= 0 {
            out[producer].fill(0);
            changed = true;
        }
        if attributes & 0x20 != 0 {
            out[at + 27..at + 43].fill(0);
            changed = true;
        }
        if changed {
            out[at + 17..at + 21].fill(0);
        }
        at = end;
    }
    out.freeze()
}

/// One line of printed answer, with the path of fields that leads to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub path: String,
    pub text: String,
}

/// The outcome as lines, scoped and normalised.
pub fn lines(outcome: &Outcome, prefix: &str) -> Vec<Line> {
    let text = match outcome {
        Outcome::Answer(answer, _) => {
            let mut answer = answer.as_ref().clone();
            scope(&mut answer, prefix);
            format!("{answer:#?}")
        }
        Outcome::Closed => "<connection closed without an answer>".to_string(),
        Outcome::Failed(why) => format!("<failed: {why}>"),
    };
    let mut out = Vec::new();
    // (indent, field) of the fields enclosing the current line.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut normalising: Option<usize> = None;
    for raw in text.lines() {
        let indent = raw.len() - raw.trim_start().len();
        let trimmed = raw.trim();
        if let Some(level) = normalising {
            if indent > level {
                continue;
            }
            normalising = None;
            if trimmed.starts_with(')') || trimmed.starts_with(']') || trimmed.starts_with('}') {
                continue;
            }
        }
        // A closing bracket belongs to the field it closes, at the same indent.
        let closing =
            trimmed.starts_with(')') || trimmed.starts_with(']') || trimmed.starts_with('}');
        while stack
            .last()
            .is_some_and(|(i, _)| *i > indent || (*i == indent && !closing))
        {
            stack.pop();
        }
        let field = trimmed
            .split_once(": ")
            .map(|(f, _)| f)
            .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let path_of = |stack: &[(usize, String)], field: Option<&str>| {
            stack
                .iter()
                .map(|(_, f)| f.as_str())
                .chain(field)
                .collect::<Vec<_>>()
                .join(".")
        };
        if let Some(field) = field {
            if NORMALISED.iter().any(|(n, _)| *n == field) {
                out.push(Line {
                    path: path_of(&stack, Some(field)),
                    text: format!("{}{field}: <normalised>,", " ".repeat(indent)),
                });
                // A value printed over several lines ends at the next line this deep.
                if !trimmed.ends_with(',') {
                    normalising = Some(indent);
                }
                continue;
            }
            stack.push((indent, field.to_string()));
        }
        let in_member_id = stack
            .last()
            .is_some_and(|(_, f)| MEMBER_IDS.contains(&f.as_str()));
        out.push(Line {
            path: path_of(&stack, None),
            text: if in_member_id {
                without_uuids(raw)
            } else {
                without_clock_bounds(raw)
            },
        });
    }
    out
}

/// A line present on one side only.
#[derive(Debug, Clone)]
pub enum Change {
    Kafka(Line),
    Sim(Line),
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Kafka(l) | Change::Sim(l) => &l.path,
        }
    }
}

/// The lines that differ, by a longest-common-subsequence diff.
pub fn diff(kafka: &[Line], sim: &[Line]) -> Vec<Change> {
    let (n, m) = (kafka.len(), sim.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if kafka[i].text == sim[j].text {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && kafka[i].text == sim[j].text {
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(Change::Sim(sim[j].clone()));
            j += 1;
        } else {
            out.push(Change::Kafka(kafka[i].clone()));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<(String, String)> {
        lines
            .iter()
            .map(|l| (l.path.clone(), l.text.trim().to_string()))
            .collect()
    }

    #[test]
    fn lines_carry_their_field_path_and_normalised_values_are_hidden() {
        let answer = kafka_protocol::messages::MetadataResponse::default()
            .with_cluster_id(Some(kafka_protocol::protocol::StrBytes::from_static_str(
                "abc",
            )))
            .with_controller_id(3.into());
        let outcome = Outcome::Answer(Box::new(ResponseKind::Metadata(answer)), Default::default());
        let got = texts(&lines(&outcome, "p"));
        assert!(got.contains(&("cluster_id".into(), "cluster_id: <normalised>,".into())));
        assert!(got.contains(&("controller_id".into(), "controller_id: 3,".into())));
        assert!(!got.iter().any(|(_, t)| t.contains("abc")));
    }

    #[test]
    fn uuids_in_member_ids_are_replaced_and_the_rest_kept() {
        assert_eq!(
            without_uuids("\"client-5b9c1d7e-0a1b-4c2d-8e3f-112233445566\","),
            "\"client-<uuid>\","
        );
        assert_eq!(without_uuids("\"not-a-uuid-1234\""), "\"not-a-uuid-1234\"");
        assert_eq!(
            without_uuids("member_id: Some(\"AbCdEfGhIjKlMnOpQrSt_-\"),"),
            "member_id: Some(\"<uuid>\"),"
        );
    }

    #[test]
    fn the_diff_names_each_line_on_one_side_only() {
        let line = |t: &str| Line {
            path: t.into(),
            text: t.into(),
        };
        let kafka = [line("a"), line("b"), line("c")];
        let sim = [line("a"), line("x"), line("c")];
        let d: Vec<String> = diff(&kafka, &sim)
            .iter()
            .map(|c| match c {
                Change::Kafka(l) => format!("-{}", l.text),
                Change::Sim(l) => format!("+{}", l.text),
            })
            .collect();
        assert_eq!(d, ["+x", "-b"]);
    }
}
