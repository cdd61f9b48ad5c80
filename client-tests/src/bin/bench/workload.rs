//! The benchmark's client side: the same rdkafka producer and consumers against whichever
//! cluster is given by its bootstrap servers.
//!
//! Settings follow the reference measurement of librdkafka's mock cluster: 100-byte
//! values, 1000 keys, `linger.ms` 5, `batch.num.messages` 10000, `acks=all`. Everything
//! else is librdkafka's default, so the client does what a user's client would do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer,
};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

/// Bytes in every value.
pub const VALUE_LEN: usize = 100;
/// Distinct keys, used in turn.
pub const KEYS: usize = 1000;

/// How long any one phase may take before the benchmark gives up on it.
const PHASE_DEADLINE: Duration = Duration::from_secs(300);

/// The keys `key-000` … `key-999`.
pub fn keys() -> Vec<String> {
    (0..KEYS).map(|i| format!("key-{i:03}")).collect()
}

/// Bytes of payload (keys and values) in `records` records.
pub fn payload_bytes(records: usize) -> usize {
    records * (VALUE_LEN + "key-000".len())
}

#[derive(Default)]
struct Deliveries {
    ok: AtomicUsize,
    failed: AtomicUsize,
    first_error: std::sync::Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err((e, _)) => {
                self.first_error
                    .lock()
                    .expect("error slot")
                    .get_or_insert_with(|| e.to_string());
                self.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

fn producer(bootstrap: &str, linger_ms: &str) -> Result<BaseProducer<Deliveries>, String> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", linger_ms)
        .set("batch.num.messages", "10000")
        .set("acks", "all")
        .create_with_context(Deliveries::default())
        .map_err(|e| format!("producer: {e}"))
}

/// Produces `records` keyed records to `topic` and flushes; returns the time from the first
/// send to the end of the flush. Fails unless every record was acknowledged.
pub fn produce(bootstrap: &str, topic: &str, records: usize) -> Result<Duration, String> {
    let producer = producer(bootstrap, "5")?;
    // Metadata first, so the timed part is the data path only, for every cluster alike.
    producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| format!("metadata: {e}"))?;
    let keys = keys();
    let value = [b'v'; VALUE_LEN];
    let started = Instant::now();
    for i in 0..records {
        let mut record = BaseRecord::to(topic)
            .key(&keys[i % KEYS])
            .payload(&value[..]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(format!("send: {e}")),
            }
        }
        // Reading the clock for every record would cost the client more than the check is
        // worth.
        if i % 10_000 == 0 {
            producer.poll(Duration::ZERO);
            if started.elapsed() > PHASE_DEADLINE {
                return Err("produce ran out of time".into());
            }
        }
    }
    producer
        .flush(PHASE_DEADLINE)
        .map_err(|e| format!("flush: {e}"))?;
    let elapsed = started.elapsed();
    producer.poll(Duration::ZERO);
    let deliveries = producer.context();
    let (ok, failed) = (
        deliveries.ok.load(Ordering::Relaxed),
        deliveries.failed.load(Ordering::Relaxed),
    );
    if ok != records || failed != 0 {
        let first = deliveries.first_error.lock().expect("error slot").clone();
        return Err(format!(
            "{ok} of {records} acknowledged, {failed} failed (first error: {first:?})"
        ));
    }
    Ok(elapsed)
}

/// What one consume run saw.
pub struct Consumed {
    /// From the assignment to the last record.
    pub elapsed: Duration,
    /// From the assignment to the first record.
    pub first: Duration,
    /// The longest time between two consecutive records.
    pub max_gap: Duration,
}

fn consumer(bootstrap: &str, extra: &[(&str, &str)]) -> Result<BaseConsumer, String> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench")
        .set("enable.auto.commit", "false");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    config.create().map_err(|e| format!("consumer: {e}"))
}

/// Consumer settings that keep librdkafka fetching while its queue is full: by default it
/// stops fetching a partition for `fetch.queue.backoff.ms` (1 s) once 100,000 records wait
/// in its local queue, which any broker that answers fetches at full size soon causes.
pub const KEEP_FETCHING: &[(&str, &str)] = &[("fetch.queue.backoff.ms", "10")];

/// Reads `records` records from the start of every partition of `topic` by assignment.
pub fn consume(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    records: usize,
    extra: &[(&str, &str)],
) -> Result<Consumed, String> {
    let consumer = consumer(bootstrap, extra)?;
    // Leaders first: a partition assigned before its leader is known waits for librdkafka's
    // 500 ms offset-query retry, whatever the cluster.
    consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| format!("metadata: {e}"))?;
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .map_err(|e| e.to_string())?;
    }
    let started = Instant::now();
    consumer.assign(&assignment).map_err(|e| e.to_string())?;
    let (mut seen, mut last, mut max_gap) = (0, None::<Instant>, Duration::ZERO);
    let mut first = Duration::ZERO;
    while seen < records {
        if started.elapsed() > PHASE_DEADLINE {
            return Err(format!("consumed {seen} of {records} before the deadline"));
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(_)) => {
                let now = Instant::now();
                match last {
                    Some(last) => max_gap = max_gap.max(now - last),
                    None => first = now - started,
                }
                last = Some(now);
                seen += 1;
            }
            Some(Err(e)) => return Err(format!("consume: {e}")),
            None => {}
        }
    }
    Ok(Consumed {
        elapsed: started.elapsed(),
        first,
        max_gap,
    })
}

/// Produce-to-consume latency of up to `samples` records sent one at a time with
/// `linger.ms` 0 to partition 0 of `topic`, each sent only once the previous one was
/// consumed, after a few unmeasured ones. Stops early once `budget` has passed: a cluster
/// that answers a fetch only when its wait expires (librdkafka's mock) takes half a second
/// a record.
pub fn latency(
    bootstrap: &str,
    topic: &str,
    samples: usize,
    budget: Duration,
) -> Result<Vec<Duration>, String> {
    let producer = producer(bootstrap, "0")?;
    let consumer = consumer(bootstrap, &[])?;
    consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| format!("metadata: {e}"))?;
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, 0, Offset::Beginning)
        .map_err(|e| e.to_string())?;
    consumer.assign(&assignment).map_err(|e| e.to_string())?;
    let value = [b'v'; VALUE_LEN];
    let warm_up = 5;
    let mut latencies = Vec::with_capacity(samples);
    let phase = Instant::now();
    for i in 0..warm_up + samples {
        let key = i.to_string();
        let sent = Instant::now();
        producer
            .send(
                BaseRecord::to(topic)
                    .partition(0)
                    .key(&key)
                    .payload(&value[..]),
            )
            .map_err(|(e, _)| format!("send: {e}"))?;
        if i > warm_up && phase.elapsed() > budget {
            break;
        }
        loop {
            if phase.elapsed() > PHASE_DEADLINE {
                return Err("latency run ran out of time".into());
            }
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) if m.key() == Some(key.as_bytes()) => break,
                Some(Ok(_)) | None => {}
                Some(Err(e)) => return Err(format!("consume: {e}")),
            }
        }
        if i >= warm_up {
            latencies.push(sent.elapsed());
        }
        producer.poll(Duration::ZERO);
    }
    producer
        .flush(Duration::from_secs(10))
        .map_err(|e| format!("flush: {e}"))?;
    let failed = producer.context().failed.load(Ordering::Relaxed);
    if failed != 0 {
        return Err(format!("{failed} latency records failed"));
    }
    Ok(latencies)
}

/// acks=all produce round trips of one record at a time (`linger.ms` 0) to partition 0 of
/// `topic`, each sent once the previous one was acknowledged, until `stop` is set: what a
/// service's lone write waits while other clients load the broker. Fails if a record is
/// refused or a round trip does not end within [`PHASE_DEADLINE`].
pub fn ack_latency(
    bootstrap: &str,
    topic: &str,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Vec<Duration>, String> {
    // A threaded producer's own thread serves the delivery reports as they come and hands
    // each to this one: `BaseProducer::poll` returns only at its timeout.
    struct Acks(std::sync::mpsc::Sender<Result<(), String>>);
    impl ClientContext for Acks {}
    impl ProducerContext for Acks {
        type DeliveryOpaque = ();
        fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
            let _ = self
                .0
                .send(result.as_ref().map(|_| ()).map_err(|(e, _)| e.to_string()));
        }
    }
    let (acks, acked) = std::sync::mpsc::channel();
    let producer: ThreadedProducer<Acks> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "0")
        .set("acks", "all")
        .create_with_context(Acks(acks))
        .map_err(|e| format!("producer: {e}"))?;
    producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| format!("metadata: {e}"))?;
    let value = [b'v'; VALUE_LEN];
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        producer
            .send(
                BaseRecord::to(topic)
                    .partition(0)
                    .key("k")
                    .payload(&value[..]),
            )
            .map_err(|(e, _)| format!("send: {e}"))?;
        match acked.recv_timeout(PHASE_DEADLINE) {
            Ok(Ok(())) => latencies.push(sent.elapsed()),
            Ok(Err(e)) => return Err(format!("a latency record failed: {e}")),
            Err(_) => return Err("an acks=all round trip ran out of time".into()),
        }
    }
    Ok(latencies)
}

/// Produces 1 KiB values as fast as the client may, as client id `client_id`, for
/// `duration`; returns the acknowledged bytes per second between `from` and the end.
pub fn produce_under_quota(
    bootstrap: &str,
    topic: &str,
    client_id: &str,
    duration: Duration,
    from: Duration,
) -> Result<f64, String> {
    const LEN: usize = 1024;
    let producer: BaseProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", client_id)
        .set("linger.ms", "5")
        .set("acks", "all")
        // A small local queue, so the client waits on the broker rather than buffering
        // the whole run.
        .set("queue.buffering.max.kbytes", "2048")
        .create_with_context(Deliveries::default())
        .map_err(|e| format!("producer: {e}"))?;
    let value = vec![b'q'; LEN];
    let started = Instant::now();
    let mut at_from = None;
    while started.elapsed() < duration {
        if at_from.is_none() && started.elapsed() >= from {
            // Counted from the first send when `from` is zero.
            at_from = Some((
                Instant::now(),
                producer.context().ok.load(Ordering::Relaxed),
            ));
        }
        match producer.send(BaseRecord::<(), _>::to(topic).payload(&value)) {
            Ok(()) => {}
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                producer.poll(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(format!("send: {e}")),
        }
        producer.poll(Duration::ZERO);
    }
    let (t0, n0) = at_from.ok_or("the run ended before its measured part")?;
    let n1 = producer.context().ok.load(Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    let failed = producer.context().failed.load(Ordering::Relaxed);
    if failed > 0 {
        return Err(format!("{failed} records failed"));
    }
    Ok((n1 - n0) as f64 * LEN as f64 / elapsed)
}
