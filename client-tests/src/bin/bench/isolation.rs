//! How much one client's hostile requests delay another client (issue 18): a well-behaved
//! client sends acks=all produce requests of one record, one at a time, and its round
//! trips are timed alone and then while an attacker, on its own connections, keeps
//! sending one kind of costly request:
//!
//! - **bombs**: produce requests of twenty zstd batches that each inflate to 262.5 MiB
//!   (the broker decompresses one within its per-request budget and refuses the rest);
//! - **amplified metadata**: Metadata naming a 2,000-partition topic 400 times;
//! - **parked fetches**: long-polls naming one partition 200,000 times, which wait.
//!
//! The figure is the victim's p99 under attack, in ms, and its ratio to the p99 alone,
//! measured in the same process one after the other. The bound the README states comes
//! from these rows, not from a test.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use broker_sim::{Cluster, NewRecord};
use broker_sim_protocol::batch::{self, Codec};
use broker_sim_protocol::kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use broker_sim_protocol::kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use broker_sim_protocol::kafka_protocol::messages::produce_request::{
    PartitionProduceData, TopicProduceData,
};
use broker_sim_protocol::kafka_protocol::messages::{
    FetchRequest, MetadataRequest, ProduceRequest, TopicName,
};
use broker_sim_protocol::kafka_protocol::protocol::StrBytes;
use bytes::{Bytes, BytesMut};

use super::raw::{encode, read_frame, round_trip};

/// The delay broker-sim promises another client at most: its p99 under any of these
/// attacks, on a 2-core machine.
pub const BOUND_MS: f64 = 50.0;

const VICTIM_TOPIC: &str = "victim";
const WIDE_TOPIC: &str = "wide";

/// An attack's name and the request it repeats.
type Attack = (&'static str, fn() -> Vec<u8>);

/// One attack's result: the victim's p99 alone and under attack, in ms.
pub struct Isolation {
    pub attack: &'static str,
    pub alone_p99_ms: f64,
    pub attacked_p99_ms: f64,
}

/// Runs every attack against a fresh cluster; `samples` victim requests per measurement.
pub fn measure(samples: usize) -> Result<Vec<Isolation>, String> {
    let attacks: [Attack; 3] = [
        ("zstd bombs", bombs),
        ("amplified metadata", amplified_metadata),
        ("parked wide fetches", parked_fetches),
    ];
    let mut out = Vec::new();
    for (attack, request) in attacks {
        let cluster = Cluster::builder()
            .brokers(1)
            .topic(VICTIM_TOPIC, 1)
            .topic(WIDE_TOPIC, 2_000)
            .topic("bombs", 20)
            .start()
            .map_err(|e| e.to_string())?;
        let addr = cluster.brokers()[0].clone();
        let addr = format!("{}:{}", addr.host, addr.port);
        let alone = victim(&addr, samples)?;
        let stop = Arc::new(AtomicBool::new(false));
        let frame = request();
        let attackers: Vec<_> = (0..2)
            .map(|_| {
                let (stop, addr, frame) = (stop.clone(), addr.clone(), frame.clone());
                std::thread::spawn(move || attack_loop(&addr, &frame, &stop))
            })
            .collect();
        // Let the attack start before measuring.
        std::thread::sleep(Duration::from_millis(200));
        let attacked = victim(&addr, samples);
        stop.store(true, Ordering::Relaxed);
        drop(cluster);
        for a in attackers {
            let _ = a.join();
        }
        out.push(Isolation {
            attack,
            alone_p99_ms: p99(alone),
            attacked_p99_ms: p99(attacked?),
        });
    }
    Ok(out)
}

fn p99(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 * 0.99).ceil() as usize).clamp(1, samples.len()) - 1;
    samples[i].as_secs_f64() * 1e3
}

/// Sends `frame` again and again until told to stop, the next as soon as the last is
/// answered; a request not answered within half a second (a parked fetch) is given up, as
/// a client would, by closing the connection and starting over on a new one.
fn attack_loop(addr: &str, frame: &[u8], stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut conn) = TcpStream::connect(addr) else {
            continue;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
        while !stop.load(Ordering::Relaxed) {
            if conn.write_all(frame).is_err() || read_frame(&mut conn).is_err() {
                break;
            }
        }
    }
}

/// How long the victim keeps sending at least, so that its requests meet the attack's
/// slowest ones (a bomb takes about a second to inflate) many times over.
const VICTIM_SPAN: Duration = Duration::from_secs(3);

/// The victim's round trips: acks=all produces of one record, one at a time, at least
/// `samples` of them and for at least [`VICTIM_SPAN`].
fn victim(addr: &str, samples: usize) -> Result<Vec<Duration>, String> {
    let mut conn = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    conn.set_nodelay(true).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(samples);
    let begun = Instant::now();
    let mut i = 0;
    while i < samples || begun.elapsed() < VICTIM_SPAN {
        i += 1;
        let record = NewRecord {
            timestamp: now_ms(),
            key: None,
            value: Some(Bytes::from(format!("victim-{i}"))),
            headers: Vec::new(),
        };
        let batch = batch::encode_batch(&[record], Codec::None).map_err(|e| e.to_string())?;
        let frame = produce_frame(VICTIM_TOPIC, vec![(0, batch)], -1);
        out.push(round_trip(&mut conn, &frame)?);
    }
    Ok(out)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn produce_frame(topic: &str, partitions: Vec<(i32, Bytes)>, acks: i16) -> Vec<u8> {
    let data = partitions
        .into_iter()
        .map(|(index, records)| {
            PartitionProduceData::default()
                .with_index(index)
                .with_records(Some(records))
        })
        .collect();
    let request = ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                .with_partition_data(data),
        ]);
    encode(9, &request)
}

/// Twenty zstd batches of 2,100 RLE blocks of 128 KiB zeros each: 262.5 MiB apiece.
fn bombs() -> Vec<u8> {
    let mut zstd = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3];
    for i in 0..2_100u32 {
        let header = (128 * 1024) << 3 | 1 << 1 | u32::from(i + 1 == 2_100);
        zstd.extend_from_slice(&header.to_le_bytes()[..3]);
        zstd.push(0);
    }
    let record = NewRecord {
        timestamp: now_ms(),
        key: None,
        value: Some(Bytes::from_static(b"x")),
        headers: Vec::new(),
    };
    let template = batch::encode_batch(&[record], Codec::Zstd).expect("batch encodes");
    let mut bomb = BytesMut::from(&template[..batch::BATCH_HEADER_LEN]);
    bomb.extend_from_slice(&zstd);
    let length = (bomb.len() - 12) as i32;
    bomb[8..12].copy_from_slice(&length.to_be_bytes());
    let crc = crc32c::crc32c(&bomb[21..]);
    bomb[17..21].copy_from_slice(&crc.to_be_bytes());
    let bomb = bomb.freeze();
    produce_frame("bombs", (0..20).map(|p| (p, bomb.clone())).collect(), 1)
}

fn amplified_metadata() -> Vec<u8> {
    let topic = MetadataRequestTopic::default()
        .with_name(Some(TopicName(StrBytes::from_static_str(WIDE_TOPIC))));
    encode(
        12,
        &MetadataRequest::default().with_topics(Some(vec![topic; 400])),
    )
}

fn parked_fetches() -> Vec<u8> {
    let partition = FetchPartition::default()
        .with_partition(0)
        .with_fetch_offset(0)
        .with_partition_max_bytes(1 << 20);
    let request = FetchRequest::default()
        .with_max_wait_ms(60_000)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(TopicName(StrBytes::from_static_str(WIDE_TOPIC)))
                .with_partitions(vec![partition; 200_000]),
        ]);
    encode(12, &request)
}
