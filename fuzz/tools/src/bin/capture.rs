//! Records the requests of real clients as fuzz seeds (`capture.sh` runs kcat against it).
//!
//! It serves the fuzz targets' own in-process cluster (`broker_sim::fuzzing::Harness`) on
//! the ports that cluster advertises (127.0.0.1:9092–9094, brokers 1–3), so a client's
//! every connection, bootstrap and brokers alike, comes here and nothing needs a proxy or
//! a packet capture. Each connection's bytes become a `dispatch` seed (broker byte, then the
//! frames as sent) and each (API, version) seen the first time a `request` seed.
//! The harness runs on the main thread, connections on their own threads; cluster time
//! moves with real time (`Harness::advance` every few milliseconds) so long-polls and
//! rebalance delays end as they would.
//!
//! Usage: `capture <seconds> <seeds dir>`.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use broker_sim::SUPPORTED_APIS;
use broker_sim::fuzzing::{Answer, BROKERS, Harness};

/// A frame from a connection, and where its answer goes (`None`: close the connection).
struct Request {
    connection: usize,
    broker: i32,
    frame: Vec<u8>,
    reply: Sender<Option<Vec<u8>>>,
}

const TICK: Duration = Duration::from_millis(5);

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "seeds".into()));
    let (requests, incoming) = mpsc::channel();
    for broker in 1..=BROKERS {
        let port = 9091 + broker as u16;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
        let requests = requests.clone();
        std::thread::spawn(move || accept(listener, broker, requests));
    }
    serve(incoming, Duration::from_secs(seconds), &out);
}

fn accept(listener: TcpListener, broker: i32, requests: Sender<Request>) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for stream in listener.incoming().flatten() {
        let connection = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let requests = requests.clone();
        std::thread::spawn(move || connect(stream, connection, broker, requests));
    }
}

/// One connection: a frame at a time, answered in order, as the broker does.
fn connect(mut stream: TcpStream, connection: usize, broker: i32, requests: Sender<Request>) {
    let _ = stream.set_nodelay(true);
    loop {
        let mut size = [0u8; 4];
        if stream.read_exact(&mut size).is_err() {
            return;
        }
        let mut frame = vec![0u8; u32::from_be_bytes(size).min(64 << 20) as usize];
        if stream.read_exact(&mut frame).is_err() {
            return;
        }
        let (reply, answer) = mpsc::channel();
        let sent = requests.send(Request {
            connection,
            broker,
            frame,
            reply,
        });
        if sent.is_err() {
            return;
        }
        match answer.recv() {
            Ok(Some(bytes)) => {
                if stream.write_all(&bytes).is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

fn serve(incoming: Receiver<Request>, run_for: Duration, out: &Path) {
    let mut h = Harness::new();
    // Clients stamp records with the wall clock: the cluster's clock starts there too, or
    // every record would be refused as too far in the future (INVALID_TIMESTAMP).
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    while h.now_ms() < wall {
        h.advance((wall - h.now_ms()).min(1 << 30) as u32);
    }
    let mut waiting: HashMap<u64, Sender<Option<Vec<u8>>>> = HashMap::new();
    let mut streams: HashMap<usize, (i32, Vec<u8>)> = HashMap::new();
    let mut seen = BTreeSet::new();
    let start = Instant::now();
    let mut last_tick = Instant::now();
    while start.elapsed() < run_for {
        match incoming.recv_timeout(TICK) {
            Ok(request) => {
                let stream = streams
                    .entry(request.connection)
                    .or_insert_with(|| (request.broker, Vec::new()));
                stream
                    .1
                    .extend_from_slice(&(request.frame.len() as u32).to_be_bytes());
                stream.1.extend_from_slice(&request.frame);
                if request.frame.len() >= 4 {
                    let key = i16::from_be_bytes([request.frame[0], request.frame[1]]);
                    let version = i16::from_be_bytes([request.frame[2], request.frame[3]]);
                    if seen.insert((key, version)) {
                        write_request_seed(out, key, version, request.broker, &request.frame);
                    }
                }
                let ticket = h.send(&request.frame, request.broker);
                waiting.insert(ticket, request.reply);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let elapsed = last_tick.elapsed();
        if elapsed >= TICK {
            h.advance(elapsed.as_millis() as u32);
            last_tick = Instant::now();
        }
        for (ticket, answer) in h.take_answers() {
            let Some(reply) = waiting.remove(&ticket) else {
                continue;
            };
            let _ = reply.send(match answer {
                Answer::Response(bytes) => Some(bytes.to_vec()),
                Answer::Silent => Some(Vec::new()),
                Answer::Closed(_) | Answer::Hang => None,
            });
        }
    }
    let dir = out.join("dispatch");
    std::fs::create_dir_all(&dir).expect("seed directory");
    for (connection, (broker, bytes)) in streams {
        let mut seed = vec![(broker - 1) as u8];
        seed.extend_from_slice(&bytes);
        std::fs::write(dir.join(format!("capture-{connection}")), seed).expect("seed written");
    }
    eprintln!("captured {} (API, version) pairs", seen.len());
}

/// The `request` target's layout (see its source): api index, version offset, broker, no
/// clock move, the body's length, the body, then the body again.
fn write_request_seed(out: &Path, key: i16, version: i16, broker: i32, frame: &[u8]) {
    let Some(index) = SUPPORTED_APIS.iter().position(|a| a.key as i16 == key) else {
        return;
    };
    let api = &SUPPORTED_APIS[index];
    if !api.contains(version) {
        return;
    }
    let Ok(request) =
        broker_sim_protocol::header::decode_request(bytes::Bytes::copy_from_slice(frame))
    else {
        return;
    };
    let body = &request.body;
    let mut seed = vec![
        index as u8,
        (version - api.min) as u8,
        (broker - 1) as u8,
        0,
        0,
    ];
    seed.extend_from_slice(&(body.len().min(u16::MAX as usize) as u16).to_be_bytes());
    seed.extend_from_slice(body);
    seed.extend_from_slice(body);
    let dir = out.join("request");
    std::fs::create_dir_all(&dir).expect("seed directory");
    std::fs::write(dir.join(format!("capture-{:?}-v{version}", api.key)), seed)
        .expect("seed written");
}
