//! Talking to broker-sim over real sockets, the way a Kafka client does.
//!
//! [`Conn`] is a blocking TCP connection that frames requests with a 4-byte size prefix,
//! encodes headers and bodies with `kafka-protocol` and decodes the answers the same way, so
//! the tests hold no codec of their own: a response the broker cannot encode for some
//! version, or encodes wrongly, shows up as a decode error or a closed connection here.
//! Blocking sockets keep the tests free of runtimes and sleeps; every read has a generous
//! deadline so a broker bug fails a test instead of hanging it (no test asserts on time).
//!
//! The helpers below build the requests most tests need (a produce of one batch, a fetch
//! of one partition, a metadata lookup) and find partition leaders and topic ids. For
//! consumer groups they find a group's coordinator, encode the consumer protocol's
//! subscription and assignment bytes, and run the JoinGroup round trips (including the
//! MEMBER_ID_REQUIRED one of v4+) without waiting for joins that must wait.

#![allow(dead_code)] // each test binary uses its own subset

// The binary and its HTTP client exist with the `cli` feature only (tests/embedding.rs
// also builds without it).
#[cfg(feature = "cli")]
pub mod binary;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use broker_sim::Cluster;
use broker_sim_protocol::batch::{self, Codec, NewRecord};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, FetchRequest, FindCoordinatorRequest,
    GroupId, HeartbeatRequest, JoinGroupRequest, JoinGroupResponse, ListOffsetsRequest,
    MetadataRequest, MetadataResponse, OffsetCommitRequest, OffsetFetchRequest, ProduceRequest,
    ProduceResponse, RequestHeader, ResponseHeader, SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use uuid::Uuid;

pub const CLIENT_ID: &str = "broker-sim-wire-tests";

/// Upper bound on any one read. Only a broken broker ever gets near it.
pub const READ_DEADLINE: Duration = Duration::from_secs(30);

/// Timestamps of test records: a fixed base keeps batches byte-identical between runs.
pub const BASE_TIMESTAMP: i64 = 1_700_000_000_000;

/// A whole request frame (size prefix, header, body) for `request` in `version`.
pub fn encode_frame<R: Request>(version: i16, correlation_id: i32, request: &R) -> BytesMut {
    let mut payload = encode_header(R::KEY, version, correlation_id);
    request
        .encode(&mut payload, version)
        .expect("request body encodes in this version");
    frame(&payload)
}

/// A request header announcing `key` v`api_version`, in the header version Kafka uses for
/// them. Tests pair it with a body of another version (or none) to build requests the
/// broker must refuse before it reads the body.
pub fn encode_header(key: i16, api_version: i16, correlation_id: i32) -> BytesMut {
    let mut buf = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(key)
        .with_request_api_version(api_version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)))
        .encode(&mut buf, request_header_version(key, api_version))
        .expect("request header encodes");
    buf
}

/// `body` encoded in `version`, without header or size prefix.
pub fn encode_body(body: &impl Encodable, version: i16) -> BytesMut {
    let mut buf = BytesMut::new();
    body.encode(&mut buf, version)
        .expect("body encodes in this version");
    buf
}

/// `payload` behind its 4-byte big-endian size prefix.
pub fn frame(payload: &[u8]) -> BytesMut {
    let mut buf = BytesMut::with_capacity(4 + payload.len());
    buf.put_i32(payload.len() as i32);
    buf.put_slice(payload);
    buf
}

/// The request header version for `key` and `version`; v1 for keys kafka-protocol does not
/// know (a v1 header is what the broker reads first for any key).
fn request_header_version(key: i16, version: i16) -> i16 {
    kafka_protocol::messages::ApiKey::try_from(key)
        .map(|k| k.request_header_version(version))
        .unwrap_or(1)
}

/// Decodes one response frame (without its size prefix): (correlation id, body). Bytes left
/// over after the body are an error, as they would be for a real client.
pub fn decode_response<R: Request>(
    version: i16,
    mut frame: Bytes,
) -> io::Result<(i32, R::Response)> {
    let header = ResponseHeader::decode(
        &mut frame,
        <R::Response as HeaderVersion>::header_version(version),
    )
    .map_err(|e| invalid(format!("response header (key {} v{version}): {e}", R::KEY)))?;
    let body = R::Response::decode(&mut frame, version)
        .map_err(|e| invalid(format!("response body (key {} v{version}): {e}", R::KEY)))?;
    if frame.has_remaining() {
        return Err(invalid(format!(
            "{} bytes left after the response body (key {} v{version})",
            frame.remaining(),
            R::KEY
        )));
    }
    Ok((header.correlation_id, body))
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// One client connection to one broker.
pub struct Conn {
    stream: TcpStream,
    next_correlation_id: i32,
}

impl Conn {
    pub fn connect(addr: impl ToSocketAddrs) -> Conn {
        let stream = TcpStream::connect(addr).expect("broker accepts connections");
        stream.set_read_timeout(Some(READ_DEADLINE)).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            next_correlation_id: 1,
        }
    }

    pub fn to_broker(cluster: &Cluster, broker_id: i32) -> Conn {
        Conn::connect(broker_addr(cluster, broker_id))
    }

    /// A connection to the broker leading `topic`-`partition`.
    pub fn to_leader(cluster: &Cluster, topic: &str, partition: i32) -> Conn {
        Conn::to_broker(cluster, leader(cluster, topic, partition))
    }

    /// Sends `request` without waiting for the answer; returns its correlation id.
    pub fn write<R: Request>(&mut self, version: i16, request: &R) -> i32 {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let frame = encode_frame(version, correlation_id, request);
        self.write_raw(&frame).expect("request written");
        correlation_id
    }

    /// Reads the next response, which must answer `correlation_id`.
    pub fn read<R: Request>(
        &mut self,
        version: i16,
        correlation_id: i32,
    ) -> io::Result<R::Response> {
        let frame = self.read_frame()?;
        let (got, body) = decode_response::<R>(version, frame)?;
        if got != correlation_id {
            return Err(invalid(format!(
                "expected the answer to correlation id {correlation_id}, got {got}"
            )));
        }
        Ok(body)
    }

    pub fn try_send<R: Request>(&mut self, version: i16, request: &R) -> io::Result<R::Response> {
        let correlation_id = self.write(version, request);
        self.read::<R>(version, correlation_id)
    }

    /// Sends `request` and returns the answer; panics if there is none.
    pub fn send<R: Request>(&mut self, version: i16, request: &R) -> R::Response {
        self.try_send(version, request)
            .unwrap_or_else(|e| panic!("API key {} v{version}: {e}", R::KEY))
    }

    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// One response frame, without its size prefix.
    pub fn read_frame(&mut self) -> io::Result<Bytes> {
        let mut prefix = [0u8; 4];
        self.stream.read_exact(&mut prefix)?;
        let size = i32::from_be_bytes(prefix);
        let size = usize::try_from(size).map_err(|_| invalid(format!("frame size {size}")))?;
        let mut frame = vec![0; size];
        self.stream.read_exact(&mut frame)?;
        Ok(frame.into())
    }

    /// Whether an answer starts arriving within `wait`, without consuming it. Used to show
    /// that a request is parked (a follower's SyncGroup, a JoinGroup waiting for other
    /// members): a broker that answers too early fails, a slow one can only pass late.
    pub fn answer_pending(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut byte = [0u8; 1];
        let arrived = match self.stream.peek(&mut byte) {
            Ok(n) => n > 0,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                false
            }
            Err(e) => panic!("waiting for an answer: {e}"),
        };
        self.stream.set_read_timeout(Some(READ_DEADLINE)).unwrap();
        arrived
    }

    /// A connection to the broker coordinating `group`.
    pub fn to_coordinator(cluster: &Cluster, group: &str) -> Conn {
        Conn::to_broker(cluster, coordinator(cluster, group))
    }

    /// Starts a JoinGroup without waiting for its outcome. In v4+ a dynamic member without
    /// a member id is first told MEMBER_ID_REQUIRED (answered at once, asserted here) and
    /// the join is sent again with the id it was given; that second request, or the only
    /// one in other cases, is written but not read, since it may wait for other members.
    pub fn start_join(&mut self, version: i16, mut request: JoinGroupRequest) -> PendingJoin {
        if version >= 4 && request.member_id.is_empty() && request.group_instance_id.is_none() {
            let first = self.send(version, &request);
            assert_error(
                first.error_code,
                ResponseError::MemberIdRequired,
                &format!("JoinGroup v{version} without a member id"),
            );
            request.member_id = first.member_id;
        }
        let correlation_id = self.write(version, &request);
        PendingJoin {
            version,
            correlation_id,
        }
    }

    /// Reads the answer to a join [`Conn::start_join`] sent.
    pub fn finish_join(&mut self, pending: PendingJoin) -> JoinGroupResponse {
        self.read::<JoinGroupRequest>(pending.version, pending.correlation_id)
            .unwrap_or_else(|e| panic!("JoinGroup v{}: {e}", pending.version))
    }

    /// A JoinGroup that completes without other members (the first member of a group, a
    /// static member's rejoin), with the MEMBER_ID_REQUIRED round trip v4+ needs.
    pub fn join(&mut self, version: i16, request: JoinGroupRequest) -> JoinGroupResponse {
        let pending = self.start_join(version, request);
        self.finish_join(pending)
    }

    /// Asserts that the broker closed this connection: the next read ends the stream (or
    /// finds it reset, if unread request bytes were still queued when the broker closed).
    pub fn assert_closed(&mut self, context: &str) {
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => {}
            Ok(_) => panic!("{context}: expected the broker to close the connection, got data"),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => panic!("{context}: expected the connection closed, got {e}"),
        }
    }
}

pub fn broker_addr(cluster: &Cluster, broker_id: i32) -> SocketAddr {
    let b = cluster
        .brokers()
        .into_iter()
        .find(|b| b.id == broker_id)
        .unwrap_or_else(|| panic!("no broker {broker_id}"));
    format!("{}:{}", b.host, b.port).parse().unwrap()
}

pub fn leader(cluster: &Cluster, topic: &str, partition: i32) -> i32 {
    cluster
        .partitions(topic)
        .unwrap_or_else(|| panic!("no topic {topic}"))
        .into_iter()
        .find(|p| p.partition == partition)
        .unwrap_or_else(|| panic!("no partition {topic}-{partition}"))
        .leader
}

/// A broker that does not lead `topic`-`partition`.
pub fn follower(cluster: &Cluster, topic: &str, partition: i32) -> i32 {
    let leader = leader(cluster, topic, partition);
    cluster
        .brokers()
        .into_iter()
        .map(|b| b.id)
        .find(|&id| id != leader)
        .expect("a cluster of more than one broker")
}

/// The topic's id, as Metadata v12 reports it.
pub fn topic_id(cluster: &Cluster, topic: &str) -> Uuid {
    let response = Conn::to_broker(cluster, 1).send(12, &metadata_request(&[topic]));
    let t = &response.topics[0];
    assert_no_error(t.error_code, &format!("metadata of {topic}"));
    t.topic_id
}

pub fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

pub fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// A Metadata request for `topics` (named), without auto-creation.
pub fn metadata_request(topics: &[&str]) -> MetadataRequest {
    MetadataRequest::default().with_topics(Some(
        topics
            .iter()
            .map(|t| MetadataRequestTopic::default().with_name(Some(name(t))))
            .collect(),
    ))
}

pub fn metadata(conn: &mut Conn, version: i16, topics: &[&str]) -> MetadataResponse {
    conn.send(version, &metadata_request(topics))
}

/// One record with a value and a timestamp.
pub fn record(value: &str, timestamp: i64) -> NewRecord {
    NewRecord {
        timestamp,
        key: None,
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
    }
}

/// One uncompressed batch of `values`, timestamps counting up from [`BASE_TIMESTAMP`].
pub fn batch_of(values: &[&str]) -> Bytes {
    let records: Vec<NewRecord> = values
        .iter()
        .enumerate()
        .map(|(i, v)| record(v, BASE_TIMESTAMP + i as i64))
        .collect();
    batch::encode_batch(&records, Codec::None).expect("batch encodes")
}

/// One uncompressed batch of (value, timestamp) records.
pub fn batch_with_timestamps(records: &[(&str, i64)]) -> Bytes {
    let records: Vec<NewRecord> = records.iter().map(|(v, ts)| record(v, *ts)).collect();
    batch::encode_batch(&records, Codec::None).expect("batch encodes")
}

/// A produce (acks=all) of `records` to `topic`-`partition`, topic named (v3–12).
pub fn produce_request(topic: &str, partition: i32, records: Bytes) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name(topic))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(partition)
                        .with_records(Some(records)),
                ]),
        ])
}

/// The same produce with the topic given by id, as v13 requires.
pub fn produce_request_by_id(topic_id: Uuid, partition: i32, records: Bytes) -> ProduceRequest {
    let mut request = produce_request("", partition, records);
    request.topic_data[0].name = name("");
    request.topic_data[0].topic_id = topic_id;
    request
}

/// The only partition answer of a one-partition produce.
pub fn only_partition(response: &ProduceResponse) -> &PartitionProduceResponse {
    assert_eq!(response.responses.len(), 1, "{response:?}");
    assert_eq!(response.responses[0].partition_responses.len(), 1);
    &response.responses[0].partition_responses[0]
}

/// Produces `records` to the leader of `topic`-`partition` and returns the base offset.
pub fn produce(cluster: &Cluster, topic: &str, partition: i32, records: Bytes) -> i64 {
    let response = Conn::to_leader(cluster, topic, partition)
        .send(12, &produce_request(topic, partition, records));
    let p = only_partition(&response);
    assert_no_error(p.error_code, &format!("produce to {topic}-{partition}"));
    p.base_offset
}

/// A fetch of one partition (topic named, v4–12) from `offset`, answered at once.
pub fn fetch_request(topic: &str, partition: i32, offset: i64) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(name(topic))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(partition)
                        .with_fetch_offset(offset)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ])
}

/// The same fetch with the topic given by id, as v13+ requires.
pub fn fetch_request_by_id(topic_id: Uuid, partition: i32, offset: i64) -> FetchRequest {
    let mut request = fetch_request("", partition, offset);
    request.topics[0].topic = name("");
    request.topics[0].topic_id = topic_id;
    request
}

/// The complete batches in a fetched record set. A batch cut short at the end is allowed
/// (Kafka sends partial trailing batches) and ignored.
pub fn complete_batches(records: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    for b in batch::batches(records) {
        match b {
            Ok(view) => out.push(Bytes::copy_from_slice(view.as_bytes())),
            Err(batch::BatchError::Truncated { .. }) => break,
            Err(e) => panic!("fetched records do not parse: {e}"),
        }
    }
    out
}

/// The record values of every complete batch in a fetched record set.
pub fn values(records: &[u8]) -> Vec<String> {
    complete_batches(records)
        .iter()
        .flat_map(|b| {
            batch::BatchView::parse(b)
                .and_then(|v| v.records())
                .expect("fetched batch decodes")
        })
        .map(|r| String::from_utf8(r.value.unwrap_or_default().to_vec()).unwrap())
        .collect()
}

fn error_name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        Some(e) => format!("{e:?} ({code})"),
        None if code == 0 => "NONE (0)".into(),
        None => format!("unknown error {code}"),
    }
}

/// Asserts a Kafka error code, naming both sides on failure.
#[track_caller]
pub fn assert_error(actual: i16, expected: ResponseError, context: &str) {
    assert_eq!(
        actual,
        expected.code(),
        "{context}: expected {}, got {}",
        error_name(expected.code()),
        error_name(actual)
    );
}

#[track_caller]
pub fn assert_no_error(actual: i16, context: &str) {
    assert_eq!(
        actual,
        0,
        "{context}: expected no error, got {}",
        error_name(actual)
    );
}

/// One request and its answer over a tokio stream, for tests that run inside a runtime.
pub async fn send_async<R: Request>(
    stream: &mut tokio::net::TcpStream,
    version: i16,
    correlation_id: i32,
    request: &R,
) -> io::Result<R::Response> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(&encode_frame(version, correlation_id, request))
        .await?;
    let size = stream.read_i32().await?;
    let size = usize::try_from(size).map_err(|_| invalid(format!("frame size {size}")))?;
    let mut frame = vec![0; size];
    stream.read_exact(&mut frame).await?;
    let (got, body) = decode_response::<R>(version, frame.into())?;
    if got != correlation_id {
        return Err(invalid(format!(
            "expected the answer to correlation id {correlation_id}, got {got}"
        )));
    }
    Ok(body)
}

/// A ListOffsets (replica -1, as clients send) of one partition for `timestamp`.
pub fn list_offsets_request(topic: &str, partition: i32, timestamp: i64) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id((-1).into())
        .with_topics(vec![
            ListOffsetsTopic::default()
                .with_name(name(topic))
                .with_partitions(vec![
                    ListOffsetsPartition::default()
                        .with_partition_index(partition)
                        .with_timestamp(timestamp),
                ]),
        ])
}

// Consumer groups (classic protocol).

/// Session timeout of test members: long enough that no test sees a session expire
/// unless it asks for that, and within Kafka's default bounds (6 s to 30 min).
pub const SESSION_TIMEOUT_MS: i32 = 30_000;
pub const REBALANCE_TIMEOUT_MS: i32 = 60_000;

/// A JoinGroup sent by [`Conn::start_join`] whose answer has not been read.
#[must_use = "read the answer with Conn::finish_join"]
pub struct PendingJoin {
    version: i16,
    correlation_id: i32,
}

pub fn group_id(s: &str) -> GroupId {
    GroupId(str_bytes(s))
}

/// The broker coordinating `group`, as FindCoordinator (key type 0) names it.
pub fn coordinator(cluster: &Cluster, group: &str) -> i32 {
    let request = FindCoordinatorRequest::default()
        .with_key_type(0)
        .with_key(str_bytes(group));
    let response = Conn::to_broker(cluster, 1).send(3, &request);
    assert_no_error(response.error_code, &format!("coordinator of {group}"));
    response.node_id.0
}

/// A broker that does not coordinate `group`.
pub fn not_coordinator(cluster: &Cluster, group: &str) -> i32 {
    let coordinator = coordinator(cluster, group);
    cluster
        .brokers()
        .into_iter()
        .map(|b| b.id)
        .find(|&id| id != coordinator)
        .expect("a cluster of more than one broker")
}

/// `body` in the consumer protocol's framing: a version, then the body in that version.
fn consumer_protocol_bytes(version: i16, body: &impl Encodable) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i16(version);
    body.encode(&mut buf, version)
        .expect("consumer protocol body encodes");
    buf.freeze()
}

/// A consumer's subscription to `topics`, as JoinGroup metadata (consumer protocol v3).
pub fn subscription(topics: &[&str]) -> Bytes {
    let body = ConsumerProtocolSubscription::default()
        .with_topics(topics.iter().map(|t| str_bytes(t)).collect());
    consumer_protocol_bytes(3, &body)
}

/// A member's assignment, as a leader's SyncGroup carries it (consumer protocol v3).
pub fn assignment(partitions: &[(&str, &[i32])]) -> Bytes {
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
    let body = ConsumerProtocolAssignment::default().with_assigned_partitions(
        partitions
            .iter()
            .map(|(t, ps)| {
                TopicPartition::default()
                    .with_topic(name(t))
                    .with_partitions(ps.to_vec())
            })
            .collect(),
    );
    consumer_protocol_bytes(3, &body)
}

/// A consumer's JoinGroup of `group`, offering `protocols` in order of preference, each
/// with a subscription to topic "t".
pub fn join_request(group: &str, member_id: &str, protocols: &[&str]) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(group_id(group))
        .with_session_timeout_ms(SESSION_TIMEOUT_MS)
        .with_rebalance_timeout_ms(REBALANCE_TIMEOUT_MS)
        .with_member_id(str_bytes(member_id))
        .with_protocol_type(str_bytes("consumer"))
        .with_protocols(
            protocols
                .iter()
                .map(|p| {
                    JoinGroupRequestProtocol::default()
                        .with_name(str_bytes(p))
                        .with_metadata(subscription(&["t"]))
                })
                .collect(),
        )
}

/// A SyncGroup of `member_id` in `generation`, carrying `assignments` (the leader's; a
/// follower sends none).
pub fn sync_request(
    group: &str,
    generation: i32,
    member_id: &str,
    assignments: &[(&str, Bytes)],
) -> SyncGroupRequest {
    SyncGroupRequest::default()
        .with_group_id(group_id(group))
        .with_generation_id(generation)
        .with_member_id(str_bytes(member_id))
        .with_assignments(
            assignments
                .iter()
                .map(|(member, bytes)| {
                    SyncGroupRequestAssignment::default()
                        .with_member_id(str_bytes(member))
                        .with_assignment(bytes.clone())
                })
                .collect(),
        )
}

/// A ConsumerGroupHeartbeat (KIP-848) joining `group` (epoch 0) as `member_id`
/// subscribed to `topics`; set the epoch and fields for later heartbeats.
pub fn consumer_join_request(
    group: &str,
    member_id: &str,
    topics: &[&str],
) -> kafka_protocol::messages::ConsumerGroupHeartbeatRequest {
    kafka_protocol::messages::ConsumerGroupHeartbeatRequest::default()
        .with_group_id(group_id(group))
        .with_member_id(str_bytes(member_id))
        .with_member_epoch(0)
        .with_instance_id(None)
        .with_rack_id(None)
        .with_rebalance_timeout_ms(30_000)
        .with_subscribed_topic_names(Some(topics.iter().map(|t| name(t)).collect()))
        .with_subscribed_topic_regex(None)
        .with_server_assignor(None)
        .with_topic_partitions(Some(Vec::new()))
}

/// A ConsumerGroupHeartbeat with nothing changed, by `member_id` at `epoch`.
pub fn consumer_heartbeat_request(
    group: &str,
    member_id: &str,
    epoch: i32,
) -> kafka_protocol::messages::ConsumerGroupHeartbeatRequest {
    consumer_join_request(group, member_id, &[])
        .with_member_epoch(epoch)
        .with_rebalance_timeout_ms(-1)
        .with_subscribed_topic_names(None)
        .with_topic_partitions(None)
}

/// An IncrementalAlterConfigs of one resource (`resource_type`: 2 topic, 4 broker, 16
/// client metrics): (key, operation, value) each.
pub fn incremental_alter_request(
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> kafka_protocol::messages::IncrementalAlterConfigsRequest {
    use kafka_protocol::messages::incremental_alter_configs_request as incremental;
    kafka_protocol::messages::IncrementalAlterConfigsRequest::default()
        .with_validate_only(validate_only)
        .with_resources(vec![
            incremental::AlterConfigsResource::default()
                .with_resource_type(resource_type)
                .with_resource_name(str_bytes(name))
                .with_configs(
                    ops.iter()
                        .map(|(k, op, v)| {
                            incremental::AlterableConfig::default()
                                .with_name(str_bytes(k))
                                .with_config_operation(*op)
                                .with_value(v.map(str_bytes))
                        })
                        .collect(),
                ),
        ])
}

pub fn heartbeat_request(group: &str, generation: i32, member_id: &str) -> HeartbeatRequest {
    HeartbeatRequest::default()
        .with_group_id(group_id(group))
        .with_generation_id(generation)
        .with_member_id(str_bytes(member_id))
}

/// An OffsetCommit of `offsets` ((topic, partition, offset)) with the given metadata and
/// leader epoch, by `member_id` in `generation` (-1 and "" for a standalone commit).
pub fn commit_request(
    group: &str,
    generation: i32,
    member_id: &str,
    offsets: &[(&str, i32, i64)],
    metadata: Option<&str>,
    leader_epoch: i32,
) -> OffsetCommitRequest {
    let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
    for &(topic, partition, offset) in offsets {
        let p = OffsetCommitRequestPartition::default()
            .with_partition_index(partition)
            .with_committed_offset(offset)
            .with_committed_leader_epoch(leader_epoch)
            .with_committed_metadata(metadata.map(str_bytes));
        match topics.iter_mut().find(|t| t.name.0.as_str() == topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                OffsetCommitRequestTopic::default()
                    .with_name(name(topic))
                    .with_partitions(vec![p]),
            ),
        }
    }
    OffsetCommitRequest::default()
        .with_group_id(group_id(group))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(str_bytes(member_id))
        .with_topics(topics)
}

/// An OffsetFetch of `partitions` ((topic, partitions)), or of every committed offset when
/// `None`, for one group in `version`: the group's own fields before v8, a one-entry
/// `groups` list from v8.
pub fn offset_fetch_request(
    version: i16,
    group: &str,
    partitions: Option<&[(&str, &[i32])]>,
) -> OffsetFetchRequest {
    if version >= 8 {
        return OffsetFetchRequest::default()
            .with_groups(vec![offset_fetch_group(group, partitions)]);
    }
    OffsetFetchRequest::default()
        .with_group_id(group_id(group))
        .with_topics(partitions.map(|ps| {
            ps.iter()
                .map(|(t, ps)| {
                    OffsetFetchRequestTopic::default()
                        .with_name(name(t))
                        .with_partition_indexes(ps.to_vec())
                })
                .collect()
        }))
}

/// One group's entry of a v8+ OffsetFetch.
pub fn offset_fetch_group(
    group: &str,
    partitions: Option<&[(&str, &[i32])]>,
) -> OffsetFetchRequestGroup {
    OffsetFetchRequestGroup::default()
        .with_group_id(group_id(group))
        .with_topics(partitions.map(|ps| {
            ps.iter()
                .map(|(t, ps)| {
                    OffsetFetchRequestTopics::default()
                        .with_name(name(t))
                        .with_partition_indexes(ps.to_vec())
                })
                .collect()
        }))
}

// Idempotent producers.

/// One uncompressed batch of `values` as an idempotent producer sends it: its producer id,
/// epoch and the sequence of the batch's first record in the header.
pub fn idempotent_batch(
    values: &[&str],
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
) -> Bytes {
    let records: Vec<NewRecord> = values
        .iter()
        .enumerate()
        .map(|(i, v)| record(v, BASE_TIMESTAMP + i as i64))
        .collect();
    batch::encode_batch_with_producer(&records, Codec::None, producer_id, epoch, base_sequence)
        .expect("batch encodes")
}

/// A fresh idempotent producer id and epoch, from InitProducerId v4 without a
/// transactional id.
pub fn init_idempotent_producer(cluster: &Cluster) -> (i64, i16) {
    let request = kafka_protocol::messages::InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(i32::MAX);
    let response = Conn::to_broker(cluster, 1).send(4, &request);
    assert_no_error(response.error_code, "InitProducerId");
    (response.producer_id.0, response.producer_epoch)
}

/// Produces `records` (acks=all) to the leader of `topic`-`partition` and returns the
/// partition's answer, error or not.
pub fn try_produce(
    cluster: &Cluster,
    topic: &str,
    partition: i32,
    records: Bytes,
) -> PartitionProduceResponse {
    let response = Conn::to_leader(cluster, topic, partition)
        .send(12, &produce_request(topic, partition, records));
    only_partition(&response).clone()
}

// Effects with no answer to wait on.

/// Checks `condition` every couple of milliseconds until it holds, failing the test naming
/// `what` if it still does not after the read deadline. For effects a test cannot wait on
/// through an answer, such as a write whose answer the broker never sends; the pause
/// between checks is only a poll interval.
#[track_caller]
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + READ_DEADLINE;
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {READ_DEADLINE:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

// Transactional producers and read_committed consumers, at the wire level.

/// A transactional producer speaking the protocol itself, as a client on transaction
/// version 1 (AddPartitionsToTxn v3, Produce v9, EndTxn v4) or 2 (no AddPartitionsToTxn,
/// Produce v12, EndTxn v5 handing back the bumped epoch). Every request goes to the broker
/// the cluster names (coordinator, leader), as a client's would after FindCoordinator and
/// Metadata. Answers are returned as error codes for the test to assert.
pub struct TxnProducer {
    pub id: String,
    pub producer_id: i64,
    pub epoch: i16,
    pub version2: bool,
    /// The base offset of the last batch sent successfully.
    pub last_offset: i64,
    /// The next sequence per (topic, partition).
    sequences: std::collections::BTreeMap<(String, i32), i32>,
    added: std::collections::BTreeSet<(String, i32)>,
}

impl TxnProducer {
    /// InitProducerId at the coordinator, retried while it answers CONCURRENT_TRANSACTIONS
    /// (an open transaction of a previous instance being aborted): a new instance.
    pub fn init(cluster: &Cluster, id: &str, timeout_ms: i32, version2: bool) -> TxnProducer {
        let request = kafka_protocol::messages::InitProducerIdRequest::default()
            .with_transactional_id(Some(str_bytes(id).into()))
            .with_transaction_timeout_ms(timeout_ms);
        for _ in 0..10 {
            let coordinator = cluster.coordinator(id).expect("a coordinator is up");
            let response = Conn::to_broker(cluster, coordinator).send(5, &request);
            if response.error_code == ResponseError::ConcurrentTransactions.code() {
                continue;
            }
            assert_no_error(response.error_code, "InitProducerId");
            return TxnProducer {
                id: id.to_string(),
                producer_id: response.producer_id.0,
                epoch: response.producer_epoch,
                version2,
                last_offset: -1,
                sequences: Default::default(),
                added: Default::default(),
            };
        }
        panic!("InitProducerId for {id} kept answering CONCURRENT_TRANSACTIONS");
    }

    fn coordinator(&self, cluster: &Cluster) -> Conn {
        Conn::to_broker(
            cluster,
            cluster.coordinator(&self.id).expect("a coordinator is up"),
        )
    }

    /// Sends `values` to `topic`-`partition` in the open transaction (adding the partition
    /// first on version 1); the produce error code.
    pub fn send(&mut self, cluster: &Cluster, topic: &str, partition: i32, values: &[&str]) -> i16 {
        let key = (topic.to_string(), partition);
        if !self.version2 && !self.added.contains(&key) {
            let request = kafka_protocol::messages::AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(str_bytes(&self.id).into())
                .with_v3_and_below_producer_id(self.producer_id.into())
                .with_v3_and_below_producer_epoch(self.epoch)
                .with_v3_and_below_topics(vec![
                    kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
                        .with_name(name(topic))
                        .with_partitions(vec![partition]),
                ]);
            let response = self.coordinator(cluster).send(3, &request);
            let code = response.results_by_topic_v3_and_below[0].results_by_partition[0]
                .partition_error_code;
            if code != 0 {
                return code;
            }
            self.added.insert(key.clone());
        }
        let sequence = *self.sequences.get(&key).unwrap_or(&0);
        let records: Vec<NewRecord> = values
            .iter()
            .enumerate()
            .map(|(i, v)| record(v, BASE_TIMESTAMP + i as i64))
            .collect();
        let bytes = batch::encode_transactional_batch(
            &records,
            Codec::None,
            self.producer_id,
            self.epoch,
            sequence,
        )
        .expect("batch encodes");
        let mut request = produce_request(topic, partition, bytes);
        request.transactional_id = Some(str_bytes(&self.id).into());
        let version = if self.version2 { 12 } else { 9 };
        let leader = cluster
            .partition(topic, partition)
            .expect("partition")
            .leader;
        let response = Conn::to_broker(cluster, leader).send(version, &request);
        let answer = &response.responses[0].partition_responses[0];
        if answer.error_code == 0 {
            self.sequences.insert(key, sequence + values.len() as i32);
            self.last_offset = answer.base_offset;
        }
        answer.error_code
    }

    /// EndTxn; on version 2 the answer's producer id and epoch are taken, and sequences
    /// start again. The error code.
    pub fn end(&mut self, cluster: &Cluster, commit: bool) -> i16 {
        let request = kafka_protocol::messages::EndTxnRequest::default()
            .with_transactional_id(str_bytes(&self.id).into())
            .with_producer_id(self.producer_id.into())
            .with_producer_epoch(self.epoch)
            .with_committed(commit);
        let version = if self.version2 { 5 } else { 4 };
        let response = self.coordinator(cluster).send(version, &request);
        if response.error_code == 0 {
            self.added.clear();
            if self.version2 {
                self.producer_id = response.producer_id.0;
                self.epoch = response.producer_epoch;
                self.sequences.clear();
            }
        }
        response.error_code
    }
}

/// What a read_committed consumer of `topic`-`partition` gets, as Kafka's consumers do it:
/// fetches with `isolation_level` 1 from the log start up to the last stable offset
/// (skipping records before its position in a batch that straddles it), drops
/// control batches and every batch of a producer inside one of the aborted transactions
/// the answers list. Values as text, in offset order; also the LSO the last answer gave.
pub fn read_committed(cluster: &Cluster, topic: &str, partition: i32) -> (Vec<String>, i64) {
    let info = cluster.partition(topic, partition).expect("partition");
    let mut conn = Conn::to_broker(cluster, info.leader);
    let mut offset = info.log_start_offset;
    let mut values = Vec::new();
    // Producers inside an aborted transaction, as Kafka's consumer tracks them: a producer
    // enters when a batch reaches the first offset of one of its aborted transactions and
    // leaves at its next control batch (the abort marker).
    let mut skipping: std::collections::BTreeSet<i64> = Default::default();
    loop {
        let mut request = fetch_request(topic, partition, offset);
        request.isolation_level = 1;
        request.max_wait_ms = 0;
        let response: kafka_protocol::messages::FetchResponse = conn.send(11, &request);
        let p = &response.responses[0].partitions[0];
        assert_no_error(p.error_code, "read_committed fetch");
        let mut aborted: Vec<(i64, i64)> = p
            .aborted_transactions
            .iter()
            .flatten()
            .map(|a| (a.first_offset, a.producer_id.0))
            .collect();
        aborted.sort();
        let records = p.records.clone().unwrap_or_default();
        if records.is_empty() {
            return (values, p.last_stable_offset);
        }
        let position = offset;
        for view in batch::batches(&records) {
            let view = view.expect("a valid batch");
            offset = view.last_offset() + 1;
            let pid = view.producer_id();
            aborted.retain(|(first, producer)| {
                let started = *first <= view.last_offset();
                if started {
                    skipping.insert(*producer);
                }
                !started
            });
            if view.is_control() {
                skipping.remove(&pid);
                continue;
            }
            if view.is_transactional() && skipping.contains(&pid) {
                continue;
            }
            for r in view.records().expect("records") {
                if r.offset >= position {
                    values.push(String::from_utf8_lossy(&r.value.unwrap_or_default()).into_owned());
                }
            }
        }
    }
}

/// 128 KiB zstd blocks: 2,100 of them make 262.5 MiB, past the 256 MiB budget.
pub const BOMB_BLOCKS: usize = 2_100;

/// A zstd frame of `blocks` RLE blocks, each 128 KiB of zeros in 4 bytes.
pub fn zstd_zeros(blocks: usize) -> Vec<u8> {
    // Magic number, then a frame header without content size or checksum whose window
    // descriptor says 128 KiB (2^(10 + 7)).
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3];
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        // Block header: last-block bit, type 1 (RLE), size 128 KiB; then the byte.
        let header = (128 * 1024) << 3 | 1 << 1 | last;
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(0);
    }
    frame
}

/// A zstd batch of one record whose records section is `payload`, with a valid CRC.
pub fn zstd_batch_with_payload(payload: &[u8]) -> Bytes {
    let template = batch::encode_batch(&[record("x", BASE_TIMESTAMP)], Codec::Zstd).unwrap();
    let mut bytes = BytesMut::from(&template[..batch::BATCH_HEADER_LEN]);
    bytes.extend_from_slice(payload);
    let batch_length = i32::try_from(bytes.len() - 12).unwrap();
    bytes[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let crc = crc32c::crc32c(&bytes[21..]);
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    bytes.freeze()
}

/// One acks=1 Produce naming partitions 0..`partitions` of topic "bombs", each with a
/// zstd batch that inflates to 262.5 MiB (past the broker's 256 MiB budget).
pub fn bombs_request(partitions: i32) -> ProduceRequest {
    let bomb = zstd_batch_with_payload(&zstd_zeros(BOMB_BLOCKS));
    ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name("bombs"))
                .with_partition_data(
                    (0..partitions)
                        .map(|p| {
                            PartitionProduceData::default()
                                .with_index(p)
                                .with_records(Some(bomb.clone()))
                        })
                        .collect(),
                ),
        ])
}

/// The control API of `cluster` on a free loopback port, served on a thread of its own
/// (a current-thread runtime, as an embedding test would run it): its address. With the
/// `control-api` feature only.
#[cfg(feature = "control-api")]
pub fn serve_control(cluster: std::sync::Arc<Cluster>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            broker_sim::control::serve(cluster, listener).await
        })
    });
    addr
}
