//! The null broker: the least a server can do for the benchmark's producer and still be a
//! Kafka broker to it.
//!
//! It answers ApiVersions, Metadata (one topic, partitions led round-robin by its brokers)
//! and Produce, and closes the connection on anything else. A produce is acknowledged with the next offsets without
//! checking or keeping the batch, so a producer against it goes as fast as the client, the
//! loopback and the protocol allow on this machine: the physical limit broker-sim's
//! produce figure is compared with. It reads and answers one request at a time per
//! connection, as broker-sim and Kafka do, and runs on a runtime the size of
//! broker-sim's, so the two differ only in what they do with a request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use broker_sim::SUPPORTED_APIS;
use broker_sim_protocol::batch::batches;
use broker_sim_protocol::frame::{DEFAULT_MAX_REQUEST_SIZE, read_frame};
use broker_sim_protocol::header::{decode_request, encode_response};
use broker_sim_protocol::kafka_protocol::messages::api_versions_response::ApiVersion;
use broker_sim_protocol::kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use broker_sim_protocol::kafka_protocol::messages::produce_response::{
    PartitionProduceResponse, TopicProduceResponse,
};
use broker_sim_protocol::kafka_protocol::messages::{
    ApiVersionsResponse, MetadataResponse, ProduceRequest, ProduceResponse, RequestKind, TopicName,
};
use broker_sim_protocol::kafka_protocol::protocol::StrBytes;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A running null broker; dropping it stops it.
pub struct NullBroker {
    addrs: Vec<SocketAddr>,
    runtime: Option<tokio::runtime::Runtime>,
}

struct Shape {
    brokers: Vec<SocketAddr>,
    topic: String,
    partitions: i32,
    /// Next offset of each (topic as the client named it, partition).
    next_offsets: Mutex<BTreeMap<(String, i32), i64>>,
}

impl NullBroker {
    /// Starts `brokers` listeners on loopback serving `topic` with `partitions` partitions.
    pub fn start(brokers: usize, topic: &str, partitions: i32) -> std::io::Result<NullBroker> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("null-broker")
            .enable_all()
            .build()?;
        let listeners = runtime.block_on(async {
            let mut listeners = Vec::new();
            for _ in 0..brokers {
                listeners.push(TcpListener::bind("127.0.0.1:0").await?);
            }
            std::io::Result::Ok(listeners)
        })?;
        let addrs = listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<std::io::Result<Vec<_>>>()?;
        let shape = Arc::new(Shape {
            brokers: addrs.clone(),
            topic: topic.to_string(),
            partitions,
            next_offsets: Mutex::new(BTreeMap::new()),
        });
        for (index, listener) in listeners.into_iter().enumerate() {
            let shape = shape.clone();
            runtime.spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(shape.clone(), index as i32 + 1, stream));
                }
            });
        }
        Ok(NullBroker {
            addrs,
            runtime: Some(runtime),
        })
    }

    pub fn bootstrap_servers(&self) -> String {
        self.addrs
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Drop for NullBroker {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(shape: Arc<Shape>, broker_id: i32, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    while let Ok(Some(frame)) = read_frame(&mut reader, DEFAULT_MAX_REQUEST_SIZE).await {
        let Ok(request) = decode_request(frame.freeze()) else {
            return;
        };
        let (api, version) = (request.api_key, request.version());
        let mut body = request.body;
        let correlation_id = request.header.correlation_id;
        let encoded = match RequestKind::decode(api, &mut body, version) {
            Ok(RequestKind::ApiVersions(_)) => {
                encode_response(api, version, correlation_id, &api_versions())
            }
            Ok(RequestKind::Metadata(_)) => {
                encode_response(api, version, correlation_id, &metadata(&shape, broker_id))
            }
            Ok(RequestKind::Produce(request)) if request.acks == 0 => continue,
            Ok(RequestKind::Produce(request)) => {
                encode_response(api, version, correlation_id, &produce(&shape, request))
            }
            // Anything else is beyond the benchmark's producer: hang up.
            _ => return,
        };
        let Ok(bytes) = encoded else {
            return;
        };
        if writer.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

/// Exactly broker-sim's list, though only three of them are answered: librdkafka derives
/// features from the list (the v2 record format needs Fetch v4 as well as Produce v3, for
/// one), and a shorter list would make it produce differently.
fn api_versions() -> ApiVersionsResponse {
    ApiVersionsResponse::default().with_api_keys(
        SUPPORTED_APIS
            .iter()
            .map(|s| {
                ApiVersion::default()
                    .with_api_key(s.key as i16)
                    .with_min_version(s.min)
                    .with_max_version(s.max)
            })
            .collect(),
    )
}

fn metadata(shape: &Shape, _broker_id: i32) -> MetadataResponse {
    let ids: Vec<i32> = (1..=shape.brokers.len() as i32).collect();
    let partitions = (0..shape.partitions)
        .map(|p| {
            let leader = ids[p as usize % ids.len()];
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(leader.into())
                .with_replica_nodes(vec![leader.into()])
                .with_isr_nodes(vec![leader.into()])
        })
        .collect();
    MetadataResponse::default()
        .with_brokers(
            shape
                .brokers
                .iter()
                .zip(&ids)
                .map(|(addr, &id)| {
                    MetadataResponseBroker::default()
                        .with_node_id(id.into())
                        .with_host(StrBytes::from_string(addr.ip().to_string()))
                        .with_port(i32::from(addr.port()))
                })
                .collect(),
        )
        .with_cluster_id(Some(StrBytes::from_static_str("null-broker")))
        .with_controller_id(1.into())
        .with_topics(vec![
            MetadataResponseTopic::default()
                .with_name(Some(TopicName(StrBytes::from_string(shape.topic.clone()))))
                .with_topic_id(topic_id())
                .with_partitions(partitions),
        ])
}

fn topic_id() -> uuid::Uuid {
    uuid::Uuid::from_u128(0x6e75_6c6c_2d62_726f_6b65_722d_746f_7069)
}

fn produce(shape: &Shape, request: ProduceRequest) -> ProduceResponse {
    let mut offsets = shape.next_offsets.lock().expect("offsets lock");
    let responses = request
        .topic_data
        .into_iter()
        .map(|topic| {
            let key = if topic.name.is_empty() {
                topic.topic_id.to_string()
            } else {
                topic.name.to_string()
            };
            let partition_responses = topic
                .partition_data
                .iter()
                .map(|data| {
                    let records: i64 = data
                        .records
                        .as_deref()
                        .map(|bytes| {
                            batches(bytes)
                                .map_while(Result::ok)
                                .map(|b| i64::from(b.last_offset_delta()) + 1)
                                .sum()
                        })
                        .unwrap_or(0);
                    let next = offsets.entry((key.clone(), data.index)).or_insert(0);
                    let base = *next;
                    *next += records;
                    PartitionProduceResponse::default()
                        .with_index(data.index)
                        .with_base_offset(base)
                        .with_log_append_time_ms(-1)
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_topic_id(topic.topic_id)
                .with_partition_responses(partition_responses)
        })
        .collect();
    ProduceResponse::default().with_responses(responses)
}
