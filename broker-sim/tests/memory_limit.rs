//! The binary under a 2 GiB address-space limit (issue 18's "no single connection can push
//! the broker over it"): the issue's hostile requests, several at once, and the broker is
//! still running and answering afterwards. Before the fixes, the first of them alone made
//! the allocator fail and the process abort.
//!
//! - a 95 MiB Metadata v1 request whose topic array announces 2^31 − 1 elements;
//! - Metadata naming a 2,000-partition topic 400 times, on eight connections at once;
//! - produce requests of twenty zstd bombs (262.5 MiB each once inflated), on four
//!   connections at once;
//! - ten connections that announce 100 MiB requests and send 8 MiB of them.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
use kafka_protocol::protocol::Request;
use support::*;

/// The limit, in KiB, as `ulimit -v` takes it.
const ADDRESS_SPACE_KIB: u64 = 2 * 1024 * 1024;

struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Binary {
    fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

fn still_serving(bin: &mut Binary, broker: &str, after: &str) {
    assert!(bin.alive(), "broker-sim exited after {after}");
    let mut conn = Conn::connect(broker);
    let answer = conn.send(3, &ApiVersionsRequest::default());
    assert_no_error(answer.error_code, &format!("ApiVersions after {after}"));
}

/// Sends `frame` on `connections` connections at once and waits until each is answered
/// or closed.
fn at_once(broker: &str, frame: &[u8], connections: usize) {
    std::thread::scope(|s| {
        for _ in 0..connections {
            s.spawn(|| {
                let mut conn = TcpStream::connect(broker).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(60)))
                    .unwrap();
                if conn.write_all(frame).is_ok() {
                    let mut sink = Vec::new();
                    let mut size = [0u8; 4];
                    if conn.read_exact(&mut size).is_ok() {
                        sink.resize(u32::from_be_bytes(size) as usize, 0);
                        let _ = conn.read_exact(&mut sink);
                    }
                }
            });
        }
    });
}

#[test]
fn hostile_requests_do_not_take_a_broker_under_2_gib_down() {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB} && exec {} --brokers 1 --port 0 --control-port 0 \
             --topic wide:2000 --topic bombs:20 --log-level error",
            env!("CARGO_BIN_EXE_broker-sim")
        ))
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("broker-sim starts");
    // Reads the first line (the bootstrap list) only, and closes the pipe: as `head -n 1`
    // would, which must not stop the binary.
    let broker = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let mut bin = Binary(child);
    still_serving(&mut bin, &broker, "starting");

    // 95 MiB of Metadata v1 whose topic array announces 2^31 − 1 names.
    let mut payload = encode_header(MetadataRequest::KEY, 1, 1);
    payload.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff]);
    payload.resize(95 << 20, 0);
    let mut conn = Conn::connect(broker.as_str());
    let _ = conn.write_raw(&frame(&payload));
    drop(conn);
    still_serving(
        &mut bin,
        &broker,
        "a 95 MiB Metadata request announcing 2^31 topics",
    );

    let wide = MetadataRequestTopic::default().with_name(Some(name("wide")));
    let amplified = encode_frame(
        12,
        1,
        &MetadataRequest::default().with_topics(Some(vec![wide; 400])),
    );
    at_once(&broker, &amplified, 8);
    still_serving(&mut bin, &broker, "amplified Metadata on eight connections");

    at_once(&broker, &encode_frame(9, 1, &bombs_request(20)), 4);
    still_serving(&mut bin, &broker, "zstd bombs on four connections");

    let stalled: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut conn = TcpStream::connect(&broker).unwrap();
            conn.write_all(&(100u32 << 20).to_be_bytes()).unwrap();
            conn.write_all(&vec![0u8; 8 << 20]).unwrap();
            conn
        })
        .collect();
    still_serving(
        &mut bin,
        &broker,
        "ten connections holding unfinished 100 MiB requests",
    );
    drop(stalled);
}
